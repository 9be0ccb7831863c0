"""datasets.augment: added rows join the train split only, at the pack's normalisation."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spectype.datasets import Pack, write_pack
from spectype.datasets.augment import augment_pack, read_kind
from spectype.errors import ConfigError


def _pack(path, norm="l2", flux_scale=None):
    rng = np.random.default_rng(0)
    flux = rng.uniform(0.5, 2.0, (12, 8)).astype(np.float32)
    flux /= np.linalg.norm(flux, axis=1, keepdims=True)
    labels = np.repeat([0, 1], 6)
    params = {"preprocess": {"norm": norm}} | ({"flux_scale": flux_scale} if flux_scale else {})
    ids = [f"r{i}" for i in range(12)]
    return write_pack(
        path, flux * (flux_scale or 1.0), wavelength=np.arange(8.0), labels=labels,
        class_names=["O", "F"], indices={"train": [0, 1, 2, 6, 7, 8], "val": [3, 9],
                                         "test": [4, 5, 10, 11]},
        ids=ids, paths=ids, groups=[f"star{i // 2}" for i in range(12)], index=np.arange(12),
        codes=np.zeros(12), snr_i=np.zeros(12), params=params,
        extra_strings={"kind": ["base"] * 12},
    )


def test_added_rows_join_train_only_and_carry_their_origin(tmp_path):
    src = Pack(_pack(tmp_path / "p.h5", flux_scale=3.0))
    add = np.random.default_rng(1).uniform(1, 5, (3, 8))
    out = augment_pack(src.path, tmp_path / "a.h5", "O", add, source="ckpt/iter_000010")
    new = Pack(out)
    assert len(new) == 15 and list(new.labels[12:]) == [0, 0, 0]
    assert list(new.indices("train")) == [0, 1, 2, 6, 7, 8, 12, 13, 14]
    for s in ("val", "test"):
        assert np.array_equal(new.indices(s), src.indices(s))
    assert set(new.groups[12:]) == {"generated:ckpt/iter_000010"}
    assert list(read_kind(out)) == ["base"] * 12 + ["generated"] * 3
    assert new.params["augment"][0]["n"] == 3 and new.params["flux_scale"] == 3.0
    # Brought to the pack's normalisation: unit L2 norm times the pack's flux_scale.
    assert np.allclose(np.linalg.norm(new.read_flux(np.arange(12, 15)), axis=1), 3.0, atol=1e-5)
    assert np.array_equal(new.read_flux(np.arange(12)), src.read_flux(np.arange(12)))
    with h5py.File(out) as h5:
        assert np.all(h5["ivar"][12:] == 1)


def test_rows_are_copied_in_blocks_that_need_not_divide_the_pack(tmp_path, monkeypatch):
    import spectype.datasets.augment as aug

    monkeypatch.setattr(aug, "COPY_BLOCK", 5)  # 12 source rows: blocks of 5, 5 and 2
    src = Pack(_pack(tmp_path / "p.h5"))
    with h5py.File(src.path, "r+") as h5:  # distinct ivar per row, to see each copied
        h5["ivar"][...] = np.arange(12, dtype=np.float32)[:, None] + 2
    out = augment_pack(src.path, tmp_path / "a.h5", "F", np.ones((4, 8)), source="x")
    with h5py.File(out) as h5, h5py.File(src.path) as h5_src:
        assert h5["flux"].shape == (16, 8)
        assert np.array_equal(h5["flux"][:12], h5_src["flux"][:])
        assert np.array_equal(h5["ivar"][:12], h5_src["ivar"][:]) and np.all(h5["ivar"][12:] == 1)


def test_given_split_and_groups_are_used(tmp_path):
    src = _pack(tmp_path / "p.h5")
    split = {"train": np.array([0, 6]), "val": np.array([1]), "test": np.array([1])}
    out = augment_pack(src, tmp_path / "a.h5", "F", np.ones((2, 8)), source="sim",
                       kind="extra", groups=["star9", "star9"], indices=split)
    new = Pack(out)
    assert list(new.indices("train")) == [0, 6, 12, 13] and list(new.indices("test")) == [1]
    assert list(new.groups[12:]) == ["star9", "star9"] and list(new.labels[12:]) == [1, 1]


@pytest.mark.parametrize(("cls", "shape", "match"), [
    ("B", (2, 8), "class 'B' not in the pack"),
    ("O", (2, 7), "have 8 pixels"),
])
def test_bad_class_or_shape_names_the_file(tmp_path, cls, shape, match):
    src = _pack(tmp_path / "p.h5")
    with pytest.raises(ConfigError, match=match) as err:
        augment_pack(src, tmp_path / "a.h5", cls, np.ones(shape), source="x")
    assert str(src) in str(err.value) and not (tmp_path / "a.h5").exists()


def test_refuses_to_overwrite_its_source(tmp_path):
    src = _pack(tmp_path / "p.h5")
    with pytest.raises(ConfigError, match="new file"):
        augment_pack(src, src, "O", np.ones((1, 8)), source="x")


def test_training_refuses_to_re_split_an_augmented_pack(tmp_path):
    """A fresh split (split_seed) could put the added rows, or the stars they were made from,
    in val/test: the engine refuses it and names the file; the stored split is accepted."""
    from spectype.train.config import TrainConfig
    from spectype.train.engine import split_indices

    out = augment_pack(_pack(tmp_path / "p.h5"), tmp_path / "a.h5", "O", np.ones((2, 8)), source="s")
    pack = Pack(out)
    parts = split_indices(pack, TrainConfig(data=str(out)))
    assert set(parts["train"]) >= {12, 13}
    assert not {12, 13} & (set(parts["test"]) | set(parts["val"]))
    with pytest.raises(ConfigError, match="a.h5 holds augmentation rows"):
        split_indices(pack, TrainConfig(data=str(out), split_seed=0))
    assert split_indices(Pack(tmp_path / "p.h5"), TrainConfig(split_seed=0))["test"].size
