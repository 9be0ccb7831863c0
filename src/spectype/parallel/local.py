"""The "local" backend: a process pool on this machine.

Workers are started with `spawn` (the parent usually has torch and its OpenMP threads loaded;
forking that is unsafe) and die with their parent (see `_die_with_parent`), so a killed run
leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from ..errors import SpectypeError
from .chunks import WORKER_DIED, failure, run_chunk


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
    """Spawned worker processes that die with this one."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def map_chunks_local(task, chunks: list[list], workers: int) -> Iterator[tuple[list, list]]:
    """Yield `(chunk, results)` in order, at most 2 × workers chunks in flight."""
    from concurrent.futures.process import BrokenProcessPool

    if workers <= 1:
        for c in chunks:
            yield c, run_chunk(task, c)
        return
    pool = worker_pool(workers)
    try:
        pending: deque = deque()
        queue = deque(chunks)
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                c = queue.popleft()
                pending.append((c, pool.submit(run_chunk, task, c)))
            c, fut = pending.popleft()
            try:
                results = fut.result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                results = _isolate(task, c)
                # Every chunk in flight died with the pool: run them again, in order.
                queue.extendleft(reversed([pc for pc, _ in pending]))
                pending.clear()
                pool = worker_pool(workers)
            yield c, results
    finally:
        # On an interrupt, do not wait for queued chunks: finish running ones and stop.
        pool.shutdown(wait=True, cancel_futures=True)


def _isolate(task, chunk: list) -> list:
    """Re-run a chunk whose worker died, one file at a time in a fresh process, to find the
    file that kills it; that file gets a failure record, the others their results."""
    from concurrent.futures.process import BrokenProcessPool

    results: list = []
    pool = worker_pool(1)
    try:
        for f in chunk:
            try:
                results.append(pool.submit(run_chunk, task, [f]).result()[0])
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = worker_pool(1)
                _check_workers_start(pool)
                results.append(failure(task, f, WORKER_DIED))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _check_workers_start(pool: ProcessPoolExecutor) -> None:
    """Blame a file for its worker's death only if a worker that reads nothing survives: when
    every worker dies, going on would start a process per file and fail each one, slowly."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        pool.submit(os.getpid).result()
    except BrokenProcessPool:
        raise SpectypeError(
            "worker processes die before doing any work (a no-op task killed its process too): "
            "the machine may be out of memory, or a script that starts spectype's workers lacks "
            "`if __name__ == \"__main__\":` (spawned workers import the main script); run with "
            "workers=1 (-j 1) to see the error in this process"
        ) from None
