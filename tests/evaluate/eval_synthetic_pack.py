"""A tiny synthetic HDF5 pack in the `spectype.datasets.pack` layout, for tests.

Each class has an absorption line whose position moves with the subtype code, so a small
model can learn it in one epoch; noise keeps it from being perfect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spectype.datasets import plan_split, write_pack

TEMP = "OBAFGKM"


def write_tiny_pack(
    path: Path,
    classes: tuple[str, ...] = ("A", "F", "G", "K"),
    n_per_class: int = 24,
    n_pix: int = 64,
    seed: int = 0,
    noise: float = 0.05,
) -> Path:

    rng = np.random.default_rng(seed)
    labels, codes, flux = [], [], []
    x = np.linspace(0, 1, n_pix)
    for ci, c in enumerate(classes):
        for _ in range(n_per_class):
            sub = float(rng.integers(0, 10))
            code = np.nan if c == "C" else 10.0 * TEMP.index(c) + sub
            centre = 0.1 + 0.8 * (ci + sub / 10) / len(classes)
            f = 1 - 0.6 * np.exp(-0.5 * ((x - centre) / 0.03) ** 2) + noise * rng.normal(size=n_pix)
            labels.append(ci)
            codes.append(code)
            flux.append(f.astype(np.float32))
    labels = np.asarray(labels, np.int64)
    n = len(labels)
    groups = np.array([f"g{i}" for i in range(n)], dtype=object)
    plan = plan_split(labels, groups, (0.6, 0.2, 0.2), seed)
    write_pack(
        path, np.stack(flux), wavelength=np.linspace(4000, 8000, n_pix), labels=labels,
        class_names=list(classes), indices=plan.indices, ids=[f"s{i}" for i in range(n)],
        paths=["synthetic"] * n, groups=groups, index=np.zeros(n, np.int64), codes=codes,
        snr_i=np.full(n, 50.0), params={"fractions": [0.6, 0.2, 0.2], "synthetic": True},
    )
    return path
