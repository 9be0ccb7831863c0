"""Tiny synthetic packs (the real pack layout, via datasets.write_pack) for training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spectype.datasets import split_groups, write_pack

N_PIX = 256
CLASSES = ["A", "F", "K"]
# A small cnn1d_none: the real architecture with narrow linear layers, fast on CPU.
TINY_MODEL = {"hidden": 16, "out_dim": 8}


def make_pack(path: Path, n_per_class: int = 24, n_pix: int = N_PIX, seed: int = 0, leaky: bool = False) -> Path:
    """Write an HDF5 pack of separable classes (a Gaussian line at a class-specific place)."""
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
    wavelength = 10 ** (3.6 + 1e-4 * np.arange(n_pix))
    params = {"seed": seed, "preprocess": {"n_pix": n_pix, "log10_start": 3.6, "log10_step": 1e-4}}
    write_pack(
        path, flux, wavelength=wavelength, labels=labels, class_names=CLASSES, indices=idx,
        ids=[f"id{i}" for i in range(n)], paths=[f"f{i}.fits" for i in range(n)], groups=groups,
        index=np.zeros(n, np.int64), codes=labels.astype(np.float32), snr_i=np.full(n, 50.0),
        params=params, leaky=leaky,
    )
    return path


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory) -> Path:
    return make_pack(tmp_path_factory.mktemp("pack") / "tiny.h5")
