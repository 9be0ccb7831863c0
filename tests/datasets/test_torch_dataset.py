"""PackDataset: per-item and batched reads agree; safe in DataLoader worker processes."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from spectype.datasets import DatasetConfig, PackDataset, build_dataset


@pytest.fixture(scope="module")
def pack_file(catalog_file: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "p.h5"
    build_dataset(catalog_file, out, DatasetConfig(balance=20), workers=1)
    return out


def test_items_follow_split_indices(pack_file: Path):
    ds = PackDataset(pack_file, split="train")
    with h5py.File(pack_file) as h5:
        rows = h5["indices/train"][:]
        flux, labels = h5["flux"][:], h5["label"][:]
    assert len(ds) == len(rows) == 60
    x, y = ds[5]
    assert x.dtype == torch.float32 and x.shape == (3700,) and y.dtype == torch.int64
    assert np.array_equal(x.numpy(), flux[rows[5]]) and int(y) == labels[rows[5]]


def test_get_batch_equals_items_any_order(pack_file: Path):
    ds = PackDataset(pack_file, split="train")
    idx = [7, 0, 7, 33, 2]  # unsorted, repeated
    xb, yb = ds.get_batch(idx)
    for k, i in enumerate(idx):
        x, y = ds[i]
        assert torch.equal(xb[k], x) and int(yb[k]) == int(y)
    xs, _ = ds.get_batch([3, 4, 5])  # contiguous rows use the slice path
    assert torch.equal(xs[1], ds[4][0])


def test_explicit_indices_and_transform(pack_file: Path):
    ds = PackDataset(pack_file, indices=np.array([1, 1, 2]), transform=lambda f: f * 2)
    with h5py.File(pack_file) as h5:
        assert np.allclose(ds[0][0].numpy(), 2 * h5["flux"][1])
    assert torch.equal(ds.get_batch([0, 1])[0][0], ds[0][0])
    with pytest.raises(IndexError):
        PackDataset(pack_file, indices=np.array([10_000]))


def test_dataloader_with_worker_processes(pack_file: Path):
    ds = PackDataset(pack_file, split="test")
    serial = torch.cat([x for x, _ in DataLoader(ds, batch_size=4)])
    ds[0]  # open the file in the parent first: workers must reopen, not share the handle
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="fork")
    parallel = torch.cat([x for x, _ in loader])
    assert parallel.shape == (len(ds), 3700)
    assert torch.equal(serial, parallel)
