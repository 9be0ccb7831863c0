"""The "ray" backend: chunks of files as Ray tasks, on a cluster or a local Ray.

The task object goes into Ray's object store once; each chunk is one Ray task running the same
`run_chunk` as a local worker, so both backends give the same records. Tasks are not retried by
Ray (`max_retries=0`): a chunk whose worker dies is re-run one file per task instead, which
retries the innocent files and gives the file that kills its worker a failure record.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator

from ..errors import ConfigError
from .chunks import WORKER_DIED, failure, run_chunk


def connect(address: str | None = None):
    """The `ray` module, initialised: joins `address` (or $RAY_ADDRESS) when given, else starts a
    local Ray. A CPU count is never passed: Ray refuses one when it joins a cluster."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("the ray backend needs Ray: pip install 'spectype[cluster]'") from exc
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    return ray


def ray_cpus(address: str | None = None) -> int:
    """CPUs of the cluster (the default number of chunks running at once)."""
    return max(1, int(connect(address).cluster_resources().get("CPU", 1) or 1))


def map_chunks_ray(task, chunks: list[list], workers: int,
                   address: str | None = None) -> Iterator[tuple[list, list]]:
    """Yield `(chunk, results)` in order, with at most 4 × workers chunks submitted (the extra
    ones hide the round trip to remote nodes)."""
    ray = connect(address)
    remote = ray.remote(max_retries=0)(run_chunk)
    task_ref = ray.put(task)
    pending: deque = deque()
    queue = deque(chunks)
    try:
        while queue or pending:
            while queue and len(pending) < 4 * workers:
                c = queue.popleft()
                pending.append((c, remote.remote(task_ref, c)))
            c, ref = pending.popleft()
            try:
                results = ray.get(ref)
            except ray.exceptions.RayError:
                results = _isolate(ray, remote, task, task_ref, c)
            yield c, results
    finally:
        for _, ref in pending:  # interrupted: leave the cluster free
            try:
                ray.cancel(ref)
            except Exception:  # already finished, or the cluster went away
                pass


def _isolate(ray, remote, task, task_ref, chunk: list) -> list:
    refs = [remote.remote(task_ref, [f]) for f in chunk]
    results = []
    for f, ref in zip(chunk, refs, strict=True):
        try:
            results.append(ray.get(ref)[0])
        except ray.exceptions.RayError as exc:
            died = isinstance(exc, ray.exceptions.WorkerCrashedError | ray.exceptions.OutOfMemoryError)
            why = WORKER_DIED if died else f"the Ray task failed: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
            results.append(failure(task, f, why))
    return results
