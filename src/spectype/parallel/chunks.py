"""What runs inside a worker: a chunk of files through a task, one record per file, never raising.

Shared by every backend of `map_files` (mapping.py), so it sits below all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WORKER_DIED = ("the reader process died while reading this file (killed, e.g. out of memory on a "
               "decompression bomb, or crashed); the file was skipped")
log = logging.getLogger("spectype.parallel")


@dataclass(frozen=True)
class Failed:
    """The record of a file whose task raised or whose worker died (tasks without `failed`)."""

    file: Any
    error: str


def failure(task, file, message: str):
    """`task.failed(file, message)` when the task defines it, else `Failed(file, message)`."""
    make = getattr(task, "failed", None)
    return make(file, message) if make is not None else Failed(file, message)


def _call_one(task, file):
    try:
        return task(file)
    except Exception as exc:  # a bug or an unexpected file must cost one record, not the batch
        return failure(task, file, f"unexpected {type(exc).__name__}: {exc}")


def run_chunk(task, files: Sequence) -> list:
    """In a worker: one result per file, in order. Never raises an `Exception`; an interrupt
    (KeyboardInterrupt) still goes through."""
    files = list(files)
    whole = getattr(task, "run_chunk", None)
    if whole is not None:
        try:
            results = list(whole(files))
            if len(results) == len(files):
                return results
            log.warning("%s.run_chunk gave %d results for %d files; running them one by one",
                        type(task).__name__, len(results), len(files))
        except Exception as exc:  # one file broke the chunk: find it by going file by file
            log.debug("chunk failed (%s: %s); running its files one by one", type(exc).__name__, exc)
    return [_call_one(task, f) for f in files]
