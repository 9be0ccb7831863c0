"""A tiny synthetic HDF5 pack in the `spectype.datasets.pack` layout, for tests.

Each class has an absorption line whose position moves with the subtype code, so a small
model can learn it in one epoch; noise keeps it from being perfect.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spectype.datasets.split import SPLITS, plan_split, row_split_codes

TEMP = "OBAFGKM"


def write_tiny_pack(
    path: Path,
    classes: tuple[str, ...] = ("A", "F", "G", "K"),
    n_per_class: int = 24,
    n_pix: int = 64,
    seed: int = 0,
    noise: float = 0.05,
) -> Path:
    import h5py

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
    with h5py.File(path, "w") as h5:
        h5["flux"] = np.stack(flux)
        h5["ivar"] = np.ones((n, n_pix), np.float32)
        h5["wavelength"] = np.linspace(4000, 8000, n_pix)
        h5["label"] = labels
        h5["code"] = np.asarray(codes, np.float32)
        h5["snr_i"] = np.full(n, 50, np.float32)
        h5["index"] = np.zeros(n, np.int64)
        sdt = h5py.string_dtype()
        h5.create_dataset("id", data=np.array([f"s{i}" for i in range(n)], dtype=object), dtype=sdt)
        h5.create_dataset("path", data=np.array(["synthetic"] * n, dtype=object), dtype=sdt)
        h5.create_dataset("group", data=groups, dtype=sdt)
        h5["split"] = row_split_codes(n, plan.indices)
        for s in SPLITS:
            h5[f"indices/{s}"] = plan.indices[s]
        h5.attrs["class_names"] = json.dumps(list(classes))
        h5.attrs["params"] = json.dumps({"fractions": [0.6, 0.2, 0.2], "synthetic": True})
        h5.attrs["dropped"] = "[]"
        h5.attrs["n_dropped"] = 0
        h5.attrs["notes"] = "[]"
        h5.attrs["leaky"] = False
        h5.attrs["spectype_version"] = "test"
        h5.attrs["format_version"] = 1
    return path
