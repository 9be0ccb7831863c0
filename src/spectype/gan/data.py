"""Reading one class of a packed dataset (`spectype.datasets.Pack`) for GAN training and evaluation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets import Pack
from ..errors import ConfigError

# The one L2 normalisation (float32 in, float32 out), re-exported for code importing it here.
from ..preprocess import l2_normalise as l2_normalise


@dataclass
class ClassRows:
    """The rows of one class: flux (N, n_pix) float32, pack rows (N,), groups (N,) str."""

    flux: np.ndarray
    rows: np.ndarray
    groups: np.ndarray
    class_names: list[str]
    wavelength: np.ndarray | None


def read_class(path: str | os.PathLike, class_name: str, split: str | None = None) -> ClassRows:
    """All rows of `class_name` in a pack (only those in `split` when given), each row once."""
    path = Path(path)
    pack = Pack(path)
    if class_name not in pack.class_names:
        raise ConfigError(
            f"{path}: class {class_name!r} not in the pack (classes: {', '.join(pack.class_names)})"
        )
    rows = np.flatnonzero(pack.labels == pack.class_names.index(class_name))
    if split is not None:
        # Replicated splits repeat rows; a GAN should see each spectrum once per draw.
        rows = np.intersect1d(rows, np.unique(pack.indices(split)))
    if len(rows) == 0:
        where = f" in split {split!r}" if split else ""
        raise ConfigError(f"{path}: no spectra of class {class_name!r}{where}")
    flux = pack.read_flux(rows).astype(np.float32, copy=False)
    return ClassRows(
        flux,
        rows,
        np.asarray(pack.groups)[rows].astype(str),
        list(pack.class_names),
        pack.wavelength,
    )
