"""Tiny synthetic spectra and a minimal pack file that `spectype.datasets.Pack` reads."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

L = 64


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny models: thread start-up costs more than it saves on a shared 2-core runner.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def synthetic_class(n: int, kind: str, rng: np.random.Generator, length: int = L) -> np.ndarray:
    """(n, length) positive spectra: 'hot' falls with wavelength and has an absorption line at
    1/4 of the range, 'cool' rises and has a line at 3/4. Easily separable, with noise."""
    x = np.linspace(0, 1, length)
    if kind == "hot":
        base, centre = 1.5 - x, 0.25
    else:
        base, centre = 0.5 + x, 0.75
    line = 0.5 * np.exp(-0.5 * ((x - centre) / 0.03) ** 2)
    scale = rng.uniform(0.5, 2.0, size=(n, 1))  # flux scale differs; L2 normalisation removes it
    return (scale * (base - line + 0.05 * rng.normal(size=(n, length)))).astype(np.float32)


def write_pack(
    path: Path, flux: np.ndarray, labels: np.ndarray, groups: np.ndarray, class_names, seed=0
) -> Path:
    """A minimal pack in the layout `spectype.datasets.Pack` reads (format_version 1)."""
    from spectype.datasets import split_groups

    n, n_pix = flux.shape
    idx = split_groups(labels, groups, (0.6, 0.2, 0.2), seed)
    sdt = h5py.string_dtype()
    with h5py.File(path, "w") as h5:
        h5["flux"] = flux.astype(np.float32)
        h5["ivar"] = np.ones_like(flux, dtype=np.float32)
        h5["wavelength"] = np.linspace(3900.0, 9000.0, n_pix)
        h5["label"] = labels.astype(np.int64)
        h5["code"] = np.zeros(n, np.float32)
        h5["snr_i"] = np.full(n, 50.0, np.float32)
        h5["index"] = np.arange(n, dtype=np.int64)
        for name, values in (
            ("id", [f"s{i}" for i in range(n)]),
            ("path", [f"f{i}.fits" for i in range(n)]),
            ("group", groups),
        ):
            h5.create_dataset(name, data=np.asarray(values, dtype=object), dtype=sdt)
        h5["split"] = np.zeros(n, np.uint8)
        for s, rows in idx.items():
            h5[f"indices/{s}"] = rows.astype(np.int64)
        h5.attrs.update(
            class_names=json.dumps(list(class_names)),
            params="{}",
            dropped="[]",
            n_dropped=0,
            notes="[]",
            leaky=False,
            spectype_version="test",
            format_version=1,
        )
    return path


@pytest.fixture
def tiny_pack(tmp_path) -> Path:
    """40 'O' (hot) and 40 'F' (cool) spectra of 64 pixels, two spectra per group."""
    rng = np.random.default_rng(0)
    flux = np.concatenate([synthetic_class(40, "hot", rng), synthetic_class(40, "cool", rng)])
    labels = np.repeat([0, 1], 40)
    groups = np.array([f"g{i // 2}" for i in range(80)])
    return write_pack(tmp_path / "pack.h5", flux, labels, groups, ["O", "F"])
