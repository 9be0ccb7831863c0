"""The preprocessing step of pack building, as a task for `spectype.parallel.map_files`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PreprocessRows:
    """`spectype.parallel.map_files` task of pack building: (position, path, index) ->
    (position, flux, ivar, None), or (position, None, None, reason) for a row to drop."""

    cfg: object  # PreprocessConfig

    def run_chunk(self, items: list[tuple[int, str, int]]) -> list[tuple]:
        """Consecutive rows from one file share a single read."""
        from ..io import read_all
        from ..preprocess import preprocess

        out: list[tuple] = []
        cache: tuple[str, list] | None = None
        for pos, path, idx in items:
            try:
                if cache is None or cache[0] != path:
                    cache = (path, read_all(path))
                spectra = cache[1]
                if not 0 <= idx < len(spectra):
                    raise IndexError(f"file now holds {len(spectra)} spectra, catalogue says index {idx}")
                pre = preprocess(spectra[idx], self.cfg)
                out.append((pos, np.asarray(pre.flux, np.float32), np.asarray(pre.ivar, np.float32), None))
            except Exception as exc:  # CoverageError, read errors, ...: drop the row, keep the reason
                out.append((pos, None, None, f"{type(exc).__name__}: {exc}"))
        return out

    def __call__(self, item: tuple[int, str, int]) -> tuple:
        return self.run_chunk([item])[0]

    def failed(self, item: tuple[int, str, int], message: str) -> tuple:
        return (item[0], None, None, message)
