"""build_dataset -> HDF5 pack: layout, cuts, drops, no leakage, balance, determinism, Pack."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from spectype.catalog import read_catalog, write_catalog
from spectype.datasets import DatasetConfig, Pack, build_dataset
from spectype.errors import ConfigError


def _build(catalog_file: Path, out: Path, **kw) -> tuple:
    res = build_dataset(catalog_file, out, DatasetConfig(**kw), workers=1)
    return res, Pack(out)


def test_layout_and_cuts(catalog_file: Path, tmp_path: Path):
    res, pack = _build(catalog_file, tmp_path / "p.h5")
    assert pack.class_names == ["A", "G", "M"]
    assert len(pack) == 32  # low-SNR, QSO, errors and the red spectrum are cut
    assert res.cuts["snr_i_le_10"] == 2 and res.cuts["coverage_lt_0.95"] == 1
    assert res.cuts["status_not_ok"] == 3
    with h5py.File(tmp_path / "p.h5") as h5:
        assert h5["flux"].shape == (32, 3700) and h5["flux"].dtype == np.float32
        assert h5["ivar"].dtype == np.float32 and h5["label"].dtype == np.int64
        assert h5["split"].dtype == np.uint8 and h5["wavelength"].shape == (3700,)
        assert h5["indices/train"].dtype == np.int64
        flux = h5["flux"][:]
        params = json.loads(h5.attrs["params"])
    assert np.isfinite(flux).all() and flux.min() >= 0 and flux.max() <= 1  # min-max normalised
    assert params["seed"] == 0 and params["preprocess"]["n_pix"] == 3700
    assert len(params["catalog_sha256"]) == 64
    assert pack.leaky is False and pack.format_version == 1
    assert np.bincount(pack.labels).tolist() == [12, 12, 8]
    # A spectra slope down, M up: the labels follow the rows
    a, m = flux[pack.labels == 0].mean(0), flux[pack.labels == 2].mean(0)
    assert a[:100].mean() > a[-100:].mean() and m[:100].mean() < m[-100:].mean()


def test_splits_disjoint_and_balanced_train_only(catalog_file: Path, tmp_path: Path):
    res, pack = _build(catalog_file, tmp_path / "p.h5", balance=20)
    tr, va, te = (pack.indices(s) for s in ("train", "val", "test"))
    assert np.bincount(pack.labels[tr]).tolist() == [20, 20, 20]
    assert len(np.unique(va)) == len(va) and len(np.unique(te)) == len(te)
    assert not set(tr) & set(va) and not set(tr) & set(te) and not set(va) & set(te)
    assert len(va) >= 3 and len(te) >= 3  # one per class at least
    assert np.array_equal(np.flatnonzero(pack.split == 1), va)
    assert res.split_counts["train"] == {"A": 20, "G": 20, "M": 20}


def test_group_column_keeps_groups_together(catalog_file: Path, tmp_path: Path):
    cat = read_catalog(catalog_file)
    cat["group"] = (cat.index // 2).astype(str)  # pairs of spectra share a source star
    grouped = write_catalog(cat, tmp_path / "cat_grouped.parquet")
    _, pack = _build(grouped, tmp_path / "g.h5")
    # The pack's groups are the catalogue's (not one per spectrum), pairs included...
    assert set(pack.groups) <= set(cat["group"])
    assert (pd.Series(pack.groups).value_counts() == 2).any()
    # ...and every group sits in one split.
    split_of_group = pd.Series(pack.split).groupby(pack.groups).nunique()
    assert (split_of_group == 1).all()


def test_replicate_then_split_is_marked_leaky(catalog_file: Path, tmp_path: Path):
    with pytest.warns(UserWarning, match="LEAKY"):
        res, pack = _build(catalog_file, tmp_path / "l.h5", balance=30,
                           split_order="replicate-then-split")
    assert res.leaky and pack.leaky
    assert len(np.intersect1d(pack.indices("train"), pack.indices("test"))) > 0
    assert any("LEAKY" in n for n in pack.notes)
    with pytest.raises(ConfigError, match="balance"):
        DatasetConfig(split_order="replicate-then-split")


def test_deterministic(catalog_file: Path, tmp_path: Path):
    _build(catalog_file, tmp_path / "1.h5", balance=15, seed=7)
    _build(catalog_file, tmp_path / "2.h5", balance=15, seed=7)
    with h5py.File(tmp_path / "1.h5") as a, h5py.File(tmp_path / "2.h5") as b:
        names = []
        a.visit(names.append)
        for n in names:
            if isinstance(a[n], h5py.Dataset):
                assert np.array_equal(a[n][()], b[n][()]), n
        assert dict(a.attrs) == dict(b.attrs)


def test_parallel_build_equals_serial_and_drops_are_recorded(catalog_file: Path, tmp_path: Path):
    # min_coverage 0 lets the red spectrum through selection; preprocessing then drops it.
    cfg = DatasetConfig(min_coverage=0.0)
    res1 = build_dataset(catalog_file, tmp_path / "s.h5", cfg, workers=1)
    res2 = build_dataset(catalog_file, tmp_path / "p.h5", cfg, workers=2)
    assert res1.n_dropped == res2.n_dropped == 1
    p1, p2 = Pack(tmp_path / "s.h5"), Pack(tmp_path / "p.h5")
    assert "spec-red.fits" in p1.dropped[0][0] and "Coverage" in p1.dropped[0][1]
    with h5py.File(p1.path) as a, h5py.File(p2.path) as b:
        assert np.array_equal(a["flux"][:], b["flux"][:])
        assert np.array_equal(a["indices/test"][:], b["indices/test"][:])


def test_errors_are_clear(catalog_file: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="no rows pass"):
        build_dataset(catalog_file, tmp_path / "x.h5", DatasetConfig(min_snr=1000), workers=1)
    with pytest.raises(ConfigError, match="unknown classes"):
        build_dataset(catalog_file, tmp_path / "x.h5", DatasetConfig(classes=["Q"]), workers=1)
    assert not (tmp_path / "x.h5").exists()
    with pytest.raises(ConfigError, match="pack not found"):
        Pack(tmp_path / "missing.h5")


def test_max_per_class_and_class_choice(catalog_file: Path, tmp_path: Path):
    _, pack = _build(catalog_file, tmp_path / "c.h5", classes=["M", "A"], max_per_class=5)
    assert pack.class_names == ["M", "A"]
    assert np.bincount(pack.labels).tolist() == [5, 5]
