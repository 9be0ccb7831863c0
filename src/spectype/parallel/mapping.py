"""`map_files`: one result per file, in input order, from worker processes or Ray tasks.

A *task* is a small picklable callable, `task(file) -> result`. It may also define
- `run_chunk(files) -> list[result]`: a chunk's files in one call, when the task can share
  work across them (a file read once for several of its spectra); one result per file, in order;
- `failed(file, message) -> result`: the record of a file whose call raised or whose worker
  process died (`message` says what happened, not which file: the task names the file its
  own way). Without it the record is a `Failed(file, error)`.

Files go to workers in chunks (amortising the cost of a round trip), with a bounded number of
chunks in flight so memory stays flat however many files there are. A task that raises costs
the record of that one file; a worker that dies (killed for memory by a decompression bomb, a
crash in a C library) costs the record of the file it was on: the chunk is re-run one file at a
time to find it. Nothing a file does loses the batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import ConfigError
from .chunks import WORKER_DIED, Failed, failure, run_chunk  # noqa: F401 (the public names)

BACKENDS = ("local", "ray")
MAX_AUTO_CHUNK = 64  # files per chunk when the caller does not say: progress still moves


def chunk_size(n_files: int, workers: int, chunk: int | None = None) -> int:
    """`chunk` when given, else ~4 chunks per worker (load balance), at most MAX_AUTO_CHUNK."""
    if chunk is not None:
        if chunk < 1:
            raise ConfigError(f"chunk must be at least 1 file, got {chunk}")
        return int(chunk)
    return max(1, min(MAX_AUTO_CHUNK, math.ceil(n_files / (max(1, workers) * 4))))


def map_files(
    task,
    files: Iterable,
    *,
    backend: str = "local",
    workers: int | None = None,
    chunk: int | None = None,
    progress: bool = False,
    label: str = "files",
    unit: str = "files",
    address: str | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Yield `(file, result)` for every file, in input order.

    backend: "local" (worker processes; `workers` of them, default the CPU count; 1 = in this
    process) or "ray" (Ray tasks; `workers` caps how many run at once, default the cluster's
    CPUs; joins `address`, else $RAY_ADDRESS, else starts a local Ray).
    chunk: files per unit of work (default: see `chunk_size`). progress: draw a bar.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    files = list(files)
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if not files:
        return  # nothing to do: start no pool, join no cluster
    if backend == "ray":
        from .ray_backend import map_chunks_ray, ray_cpus

        n_workers = ray_cpus(address) if workers is None else workers
        size = chunk_size(len(files), n_workers, chunk)
        chunks = map_chunks_ray(task, _split(files, size), n_workers, address)
    else:
        from .local import map_chunks_local

        n_workers = workers or os.cpu_count() or 1
        size = chunk_size(len(files), n_workers, chunk)
        chunks = map_chunks_local(task, _split(files, size), n_workers)
    from ..progress import progress_bar

    with progress_bar(progress, unit) as bar:
        bar_task = bar.add_task(label, total=len(files))
        try:
            for chunk_files, results in chunks:
                yield from zip(chunk_files, results, strict=True)
                bar.advance(bar_task, len(chunk_files))
        finally:
            chunks.close()  # an interrupted consumer stops the workers now, not at exit


def _split(files: list, size: int) -> list[list]:
    return [files[i : i + size] for i in range(0, len(files), size)]
