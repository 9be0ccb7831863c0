"""Reader side: files -> preprocessed spectra (`Item`s), in worker processes.

Workers never raise: every file or spectrum that fails becomes an Item with `error` set, so
a bad file is a row, never a lost batch. Workers die with their parent (see `_die_with_parent`).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

from ..errors import CoverageError, SpectypeError
from .quality import flux_problem, model_input_problem


@dataclass
class Item:
    """One spectrum's outcome (small: flux only when ok)."""

    path: str | None
    index: int
    id: str = ""
    survey: str | None = None
    obj_class: str | None = None
    header_subclass: str | None = None
    obsid: str | None = None
    designation: str | None = None
    ra: float = float("nan")
    dec: float = float("nan")
    snr_g: float = float("nan")
    snr_i: float = float("nan")
    z: float = float("nan")
    coverage: float = float("nan")
    flux: np.ndarray | None = None
    good: np.ndarray | None = None  # bool mask of real (not interpolated) pixels; None = all
    error: str | None = None
    window_not_covered: bool = False
    excluded: str | None = None  # why the input catalogue excluded this spectrum
    extra: dict = field(default_factory=dict)  # catalogue columns passed through


@dataclass
class FileTask:
    """A file and which of its spectra to classify (None: all)."""

    path: str
    indices: tuple[int, ...] | None = None


def item_from_spectrum(spec, path: str | None, k: int, cfg) -> Item:
    """Preprocess one Spectrum onto the model grid; failures go into `Item.error`."""
    from ..preprocess import preprocess

    m = spec.meta
    item = Item(path=path, index=m.index if m.index is not None else k, id=str(m.id or ""),
                survey=m.survey, obj_class=m.obj_class, header_subclass=m.subclass,
                snr_g=_num(m.snr.get("g")), snr_i=_num(m.snr.get("i")), z=_num(m.z))
    pos = m.sky_position()
    item.ra, item.dec = _num(pos[0]), _num(pos[1])
    item.obsid, item.designation = m.obsid_text(), m.designation_text()
    where = f"{path}: " if path else ""
    problem = flux_problem(spec.flux, spec.good)
    if problem:
        item.error = f"{where}{problem}"
        return item
    try:
        pre = preprocess(spec, cfg)
    except CoverageError as exc:
        item.error, item.window_not_covered = str(exc), True
        return item
    except SpectypeError as exc:
        item.error = str(exc)
        return item
    except Exception as exc:  # a preprocessing bug must not lose the batch
        item.error = f"{where}unexpected {type(exc).__name__}: {exc}"
        return item
    problem = model_input_problem(pre.flux)
    if problem:
        item.error = f"{where}{problem}"
        return item
    item.flux = pre.flux.astype(np.float32, copy=False)
    item.good = ~pre.bad
    item.coverage = float(pre.coverage)
    return item


def _num(v) -> float:
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def read_and_preprocess(args: tuple[list[FileTask], dict]) -> list[Item]:
    """Worker: read files and preprocess the wanted spectra in them. Never raises."""
    tasks, cfg_dict = args
    from ..io import read_all
    from ..preprocess import PreprocessConfig

    cfg = PreprocessConfig(**cfg_dict)
    items: list[Item] = []
    for task in tasks:
        path = task.path
        try:
            spectra = read_all(path)
        except SpectypeError as exc:
            items.append(Item(path=path, index=0, error=str(exc)))
            continue
        except Exception as exc:  # a reader bug (or MemoryError) must not lose the batch
            items.append(Item(path=path, index=0, error=f"{path}: unexpected {type(exc).__name__}: {exc}"))
            continue
        wanted = None if task.indices is None else set(task.indices)
        seen = set()
        for k, spec in enumerate(spectra):
            index = spec.meta.index if spec.meta.index is not None else k
            if wanted is not None and index not in wanted:
                continue
            seen.add(index)
            items.append(item_from_spectrum(spec, path, k, cfg))
        for index in sorted((wanted or set()) - seen):  # the catalogue lists a spectrum the file lacks
            items.append(Item(path=path, index=index,
                              error=f"{path}: the catalogue lists spectrum index {index}, the file holds {len(spectra)}"))
    return items


# ---------------------------------------------------------------- worker lifetime


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the parent does (SIGKILL / SIGTERM of the main process).

    Linux: the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG). Everywhere:
    a daemon thread polls the parent id and exits the worker once it changes (reparenting).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:  # not Linux: the polling thread below covers it
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    # Ctrl-C goes to the whole process group: let the parent decide, do not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        import time

        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="spectype-parent-watch").start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    # spawn: the parent has torch (and its OpenMP threads) loaded; forking that is unsafe.
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def iter_preprocessed(tasks: list[FileTask], preprocess_cfg: dict, workers: int,
                      files_per_task: int) -> Iterator[list[Item]]:
    """Yield per-chunk item lists in input order, with a bounded number of chunks in flight.

    Bounded in-flight work keeps peak memory flat however many files there are. A reader
    process that dies (killed for memory by a decompression bomb, a crash in a C library)
    costs one error row for the file it was reading, not the run: see `_isolate`.
    """
    from collections import deque
    from concurrent.futures.process import BrokenProcessPool

    chunks = [(tasks[i : i + files_per_task], preprocess_cfg) for i in range(0, len(tasks), files_per_task)]
    if workers <= 1:
        for c in chunks:
            yield read_and_preprocess(c)
        return
    pool = worker_pool(workers)
    try:
        pending: deque = deque()
        queue = deque(chunks)
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                c = queue.popleft()
                pending.append((c, pool.submit(read_and_preprocess, c)))
            c, fut = pending.popleft()
            try:
                yield fut.result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                yield _isolate(c)
                # Every chunk in flight died with the pool: run them again, in order.
                queue.extendleft(reversed([pc for pc, _ in pending]))
                pending.clear()
                pool = worker_pool(workers)
    finally:
        # On an interrupt, do not wait for queued chunks: finish running ones and stop.
        pool.shutdown(wait=True, cancel_futures=True)


def _isolate(chunk: tuple[list[FileTask], dict]) -> list[Item]:
    """Re-read a chunk whose reader process died, one file at a time in a fresh process, to
    find the file that kills it; that file gets an error row, the others their rows."""
    from concurrent.futures.process import BrokenProcessPool

    tasks, cfg = chunk
    items: list[Item] = []
    pool = worker_pool(1)
    try:
        for t in tasks:
            try:
                items.extend(pool.submit(read_and_preprocess, ([t], cfg)).result())
            except BrokenProcessPool:
                items.append(Item(path=t.path, index=0, error=(
                    f"{t.path}: the reader process died while reading this file (killed, e.g. "
                    "out of memory on a decompression bomb, or crashed); the file was skipped")))
                pool.shutdown(wait=True, cancel_futures=True)
                pool = worker_pool(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return items
