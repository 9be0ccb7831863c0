"""Reading one class of a packed dataset for GAN training and evaluation.

Uses `spectype.datasets.Pack` when it exists; otherwise reads the HDF5 layout directly:
`flux` (N, n_pix) float32, `label` (N,) int, attribute `class_names`, optional `group` (N,),
optional `wavelength` (n_pix,), optional split row indices `indices/<split>`.
Spectra without a group are their own group (keyed by row index).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..errors import ConfigError, SpectrumReadError


@dataclass
class ClassRows:
    """The rows of one class: flux (N, n_pix) float32, pack rows (N,), groups (N,) str."""

    flux: np.ndarray
    rows: np.ndarray
    groups: np.ndarray
    class_names: list[str]
    wavelength: np.ndarray | None


def l2_normalise(flux: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Eq. (1) of Yang et al. 2021: each row divided by its L2 norm. (N, L) -> (N, L) float32."""
    flux = np.asarray(flux, dtype=np.float64)
    norm = np.linalg.norm(flux, axis=-1, keepdims=True)
    return (flux / np.maximum(norm, eps)).astype(np.float32)


def _as_str_list(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _pack_meta(path: Path, f: h5py.File) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """class_names, labels (N,), groups (N,) or None: from `Pack` if available, else the file."""
    try:
        from ..datasets import Pack  # written by the datasets package; optional here
    except ImportError:
        Pack = None
    if Pack is not None:
        pack = Pack(path)
        groups = getattr(pack, "groups", None)
        return list(pack.class_names), np.asarray(pack.labels), None if groups is None else np.asarray(groups)
    if "flux" not in f or "label" not in f or "class_names" not in f.attrs:
        raise SpectrumReadError(
            path, "not a spectype pack: needs datasets 'flux' and 'label' and attribute 'class_names'",
            "build it with `spectype data pack`",
        )
    groups = np.asarray(f["group"][:]) if "group" in f else None
    return _as_str_list(f.attrs["class_names"]), np.asarray(f["label"][:]), groups


def _split_rows(path: Path, f: h5py.File, split: str) -> np.ndarray:
    try:
        from ..datasets import Pack
    except ImportError:
        Pack = None
    if Pack is not None:
        return np.asarray(Pack(path).indices(split), dtype=np.int64)
    if "indices" not in f or split not in f["indices"]:
        have = sorted(f["indices"]) if "indices" in f else []
        raise ConfigError(f"{path}: pack has no split {split!r} (splits: {have or 'none'}); pass no split to use all rows")
    return np.asarray(f["indices"][split][:], dtype=np.int64)


def read_class(path: str | os.PathLike, class_name: str, split: str | None = None) -> ClassRows:
    """All rows of `class_name` (optionally only those in `split`) from a pack file."""
    path = Path(path)
    if not path.is_file():
        raise SpectrumReadError(path, "pack file not found", "check the --data path")
    with h5py.File(path, "r") as f:
        class_names, labels, groups = _pack_meta(path, f)
        if class_name not in class_names:
            raise ConfigError(f"{path}: class {class_name!r} not in the pack (classes: {', '.join(class_names)})")
        cls = class_names.index(class_name)
        rows = np.flatnonzero(labels == cls)
        if split is not None:
            # Replicated splits repeat rows; a GAN should see each spectrum once per draw.
            rows = np.intersect1d(rows, np.unique(_split_rows(path, f, split)))
        if len(rows) == 0:
            where = f" in split {split!r}" if split else ""
            raise ConfigError(f"{path}: no spectra of class {class_name!r}{where}")
        flux = np.asarray(f["flux"][rows], dtype=np.float32)  # rows are sorted: h5py needs that
        wavelength = np.asarray(f["wavelength"][:]) if "wavelength" in f else None
    grp = np.array(_as_str_list(groups[rows]) if groups is not None else [f"row{r}" for r in rows])
    return ClassRows(flux, rows, grp, class_names, wavelength)
