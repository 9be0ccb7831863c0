"""Expand files and folders into the candidate spectrum files to read.

The rule, kept deliberately simple and structural-free (no file is opened here):
a directory scan skips hidden files and folders (name starting with '.'), ReadMe/README/
LICENSE files, and files whose suffix marks documentation, code, logs or by-products:
`.md .rst .txt .log .py .ipynb .json .yaml .yml .toml .pdf .doc .html .sh .parquet .h5
.hdf5 .npy .npz .pt .safetensors .rbx .rec`, plus editor backups ending in '~'. Everything
else is a candidate; readers decide and the catalogue records files no reader recognises.
(`.rbx`/`.rec` are MKCLASS rectified/intermediate by-products of the `.rbn` standards.)
Paths given explicitly as files are always returned, whatever their name.

Nothing found is dropped silently for being odd: FIFOs, sockets, devices, symlink loops and
dangling symlinks met in a scan are yielded like files (when their name is a candidate), so
that a batch job records an error row for each (`spectype.read` names the problem and never
opens a FIFO). The scan itself never opens a file and never follows symlinked folders
(os.walk, followlinks=False), so a link loop cannot make it recurse forever. File names
that are not UTF-8 come back as Paths holding surrogate escapes (os.fsdecode), lossless.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import MissingFileError

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


def _walk(root: Path, recursive: bool) -> Iterator[Path]:
    """Every non-directory entry under `root` (hidden folders pruned), without following links."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # Symlinks to folders appear in dirnames but are not entered; a link that points
        # nowhere or at itself is not a folder and shows up in filenames.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        for name in filenames:
            yield here / name


def iter_spectrum_files(
    paths: str | bytes | os.PathLike | Iterable[str | bytes | os.PathLike], recursive: bool = True
) -> Iterator[Path]:
    """Yield candidate spectrum files under `paths`, sorted and without duplicates.

    paths: one path or several; files are yielded as given, folders are scanned
    (recursively unless `recursive=False`). Special files and broken links are yielded
    too (see the module doc). Raises `SpectrumReadError` for a path that does not exist,
    so a typo is not silently an empty scan.
    """
    if isinstance(paths, str | bytes | os.PathLike):
        paths = [paths]
    found: set[Path] = set()
    for raw in paths:
        path = Path(os.fsdecode(raw))
        if path.is_dir():
            for child in _walk(path, recursive):
                if is_candidate(child):
                    found.add(child)
        elif os.path.lexists(path):
            found.add(path)  # a file, or a special file / broken link for the reader to name
        else:
            raise MissingFileError(path, "no such file or directory")
    yield from sorted(found)
