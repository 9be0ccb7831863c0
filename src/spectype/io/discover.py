"""Expand files and folders into the candidate spectrum files to read.

The rule, kept deliberately simple and structural-free (no file is opened here):
a directory scan skips hidden files and folders (name starting with '.'), ReadMe/README/
LICENSE files, and files whose suffix marks documentation, code, logs or by-products:
`.md .rst .txt .log .py .ipynb .json .yaml .yml .toml .pdf .doc .html .sh .parquet .h5
.hdf5 .npy .npz .pt .safetensors .rbx .rec`, plus editor backups ending in '~'. Everything
else is a candidate; readers decide and the catalogue records files no reader recognises.
(`.rbx`/`.rec` are MKCLASS rectified/intermediate by-products of the `.rbn` standards.)
Paths given explicitly as files are always returned, whatever their name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import SpectrumReadError

SKIP_SUFFIXES = frozenset(
    ".md .rst .txt .log .py .ipynb .json .yaml .yml .toml .pdf .doc .html .sh .parquet .h5 "
    ".hdf5 .npy .npz .pt .safetensors .rbx .rec".split()
)
SKIP_STEMS = ("readme", "license", "licence", "changelog")


def is_candidate(path: Path) -> bool:
    """True when a file met during a directory scan may be a spectrum (see module doc)."""
    name = path.name
    lower = name.lower()
    if name.startswith(".") or name.endswith("~"):
        return False
    if lower.startswith(SKIP_STEMS):
        return False
    return path.suffix.lower() not in SKIP_SUFFIXES


def iter_spectrum_files(
    paths: str | os.PathLike | Iterable[str | os.PathLike], recursive: bool = True
) -> Iterator[Path]:
    """Yield candidate spectrum files under `paths`, sorted and without duplicates.

    paths: one path or several; files are yielded as given, folders are scanned
    (recursively unless `recursive=False`). Raises `SpectrumReadError` for a path that
    does not exist, so a typo is not silently an empty scan.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.add(path)
        elif path.is_dir():
            pattern = "**/*" if recursive else "*"
            for child in path.glob(pattern):
                rel = child.relative_to(path).parts
                if any(part.startswith(".") for part in rel[:-1]):
                    continue  # inside a hidden folder
                if child.is_file() and is_candidate(child):
                    found.add(child)
        else:
            raise SpectrumReadError(path, "no such file or directory")
    yield from sorted(found)
