"""Spectra for the page, read from their files on demand with a small prefetch.

Nothing is read at start-up: a row's file is read when the page asks for it, and a thread pool
reads the next few rows of the current order in the background so that stepping feels
instant. Read results are kept per file in a small LRU (several rows of one library table or
multi-spectrum file share one read). A failing read is remembered as its message, never raised
into the server.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from ..spectrum import Spectrum


class SpectrumLoader:
    def __init__(self, cache_files: int = 16, workers: int = 2):
        self._cache: OrderedDict[str, list[Spectrum] | str] = OrderedDict()
        self._pending: dict[str, Future] = {}
        self._lock = threading.RLock()  # re-entrant: a done future runs its callback at once
        self._cache_files = cache_files
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inspect-read")
        self.files_read = 0  # how many file reads happened (tests check start-up reads none)
        # Register the readers here, in one thread: the registry's lazy first-use import is
        # not thread-safe, and two first reads racing in the pool saw a half-filled registry.
        from ..io import list_readers

        list_readers()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _read_file(self, path: str) -> list[Spectrum] | str:
        from ..io import read

        with self._lock:
            self.files_read += 1
        try:
            out = read(path)
        except Exception as exc:  # any reader failure becomes the message shown in the page
            msg = str(exc)
            return msg if path in msg else f"{path}: {msg}"
        return out if isinstance(out, list) else [out]

    def _future(self, path: str) -> Future | None:
        """The pending read of `path`, starting one unless cached. Caller holds no lock."""
        with self._lock:
            if path in self._cache:
                self._cache.move_to_end(path)
                return None
            fut = self._pending.get(path)
            if fut is None:
                fut = self._pool.submit(self._read_file, path)
                self._pending[path] = fut
                fut.add_done_callback(lambda f, p=path: self._store(p, f))
            return fut

    def _store(self, path: str, fut: Future) -> None:
        try:
            result = fut.result()
        except BaseException as exc:  # cancelled at shutdown
            result = f"{path}: read cancelled ({type(exc).__name__})"
        with self._lock:
            self._pending.pop(path, None)
            self._cache[path] = result
            self._cache.move_to_end(path)
            while len(self._cache) > self._cache_files:
                self._cache.popitem(last=False)

    def prefetch(self, paths: list[str]) -> None:
        """Start background reads of files not yet cached (e.g. the next few rows)."""
        for p in paths:
            self._future(p)

    def get(self, path: str, index: int) -> Spectrum | str:
        """The spectrum `index` of `path`, or an error message (missing file, unreadable, no
        such index)."""
        fut = self._future(path)
        if fut is not None:
            result = fut.result()
        else:
            with self._lock:
                result = self._cache.get(path)
        if result is None:  # evicted between the read and now (many prefetches): read inline
            result = self._read_file(path)
        if isinstance(result, str):
            return result
        return pick(result, index, path)


def pick(spectra: list[Spectrum], index: int, path: str) -> Spectrum | str:
    """The spectrum whose meta.index is `index`, else the `index`-th; a message if neither."""
    for s in spectra:
        if s.meta.index is not None and int(s.meta.index) == int(index):
            return s
    if 0 <= index < len(spectra):
        return spectra[index]
    if len(spectra) == 1 and index == 0:
        return spectra[0]
    return f"{path}: no spectrum with index {index} (the file holds {len(spectra)})"
