"""Tiny synthetic packs (the real pack layout, written directly with h5py) for training tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spectype.datasets import SPLITS, split_groups

N_PIX = 256
CLASSES = ["A", "F", "K"]
# A small cnn1d_none: the real architecture with narrow linear layers, fast on CPU.
TINY_MODEL = {"hidden": 16, "out_dim": 8}


def make_pack(path: Path, n_per_class: int = 24, n_pix: int = N_PIX, seed: int = 0, leaky: bool = False) -> Path:
    """Write an HDF5 pack of separable classes (a Gaussian line at a class-specific place)."""
    import h5py

    rng = np.random.default_rng(seed)
    n_cls = len(CLASSES)
    labels = np.repeat(np.arange(n_cls), n_per_class).astype(np.int64)
    x = np.arange(n_pix)
    centres = np.linspace(0.2, 0.8, n_cls) * n_pix
    flux = 1.0 - 0.6 * np.exp(-0.5 * ((x[None, :] - centres[labels][:, None]) / 4.0) ** 2)
    flux = (flux + 0.15 * rng.standard_normal(flux.shape)).astype(np.float32)
    n = len(labels)
    groups = np.array([f"star{i // 2}" for i in range(n)])  # two spectra per star
    idx = split_groups(labels, groups, (0.6, 0.2, 0.2), seed=seed)
    split = np.full(n, 255, np.uint8)
    for code, s in enumerate(SPLITS):
        split[idx[s]] = code
    wavelength = 10 ** (3.6 + 1e-4 * np.arange(n_pix))
    sdt = h5py.string_dtype()
    with h5py.File(path, "w") as h5:
        h5["flux"] = flux
        h5["ivar"] = np.ones_like(flux)
        h5["wavelength"] = wavelength
        h5["label"] = labels
        h5["code"] = labels.astype(np.float32)
        h5["snr_i"] = np.full(n, 50, np.float32)
        h5["index"] = np.zeros(n, np.int64)
        h5.create_dataset("id", data=[f"id{i}" for i in range(n)], dtype=sdt)
        h5.create_dataset("path", data=[f"f{i}.fits" for i in range(n)], dtype=sdt)
        h5.create_dataset("group", data=groups.tolist(), dtype=sdt)
        h5["split"] = split
        for s in SPLITS:
            h5[f"indices/{s}"] = idx[s].astype(np.int64)
        h5.attrs["class_names"] = json.dumps(CLASSES)
        params = {"seed": seed, "preprocess": {"n_pix": n_pix, "log10_start": 3.6, "log10_step": 1e-4}}
        h5.attrs["params"] = json.dumps(params)
        h5.attrs["dropped"] = "[]"
        h5.attrs["n_dropped"] = 0
        h5.attrs["notes"] = "[]"
        h5.attrs["leaky"] = leaky
        h5.attrs["spectype_version"] = "0.1.0"
        h5.attrs["format_version"] = 1
    return path


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory) -> Path:
    return make_pack(tmp_path_factory.mktemp("pack") / "tiny.h5")
