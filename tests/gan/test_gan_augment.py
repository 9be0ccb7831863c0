"""`spectype gan augment`: a tiny GAN's samples join a pack's train split, and the new pack trains."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from spectype.datasets import Pack
from spectype.datasets.augment import read_kind
from spectype.gan import read_class
from spectype.train.gan import GanConfig, train_gan

from .test_gan_cli import _app


@pytest.fixture
def checkpoint(tiny_pack, tmp_path):
    rows = read_class(tiny_pack, "O", "train")
    cfg = GanConfig(
        model="lcgan", out=str(tmp_path / "run"), iters=1, checkpoint_every=1, noise_dim=16,
        batch_size=4, generator_kwargs={"channels": (2,), "kernel_size": 3},
        discriminator_kwargs={"channels": (4,)}, class_name="O", class_names=rows.class_names,
        progress=False, device="cpu",
    )
    return train_gan(rows.flux, cfg, wavelength=rows.wavelength).checkpoints[-1]


def test_augment_cli_adds_train_rows_and_the_pack_trains(tiny_pack, checkpoint, tmp_path):
    out = tmp_path / "aug.h5"
    args = ["gan", "augment", "--data", str(tiny_pack), "--model", str(checkpoint), "--class", "O",
            "-n", "6", "-o", str(out)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output
    src, new = Pack(tiny_pack), Pack(out)
    assert len(new) == len(src) + 6 and set(new.labels[len(src):]) == {0}
    assert np.array_equal(new.indices("train")[-6:], np.arange(len(src), len(new)))
    for s in ("val", "test"):
        assert np.array_equal(new.indices(s), src.indices(s))
    assert set(read_kind(out)[len(src):]) == {"generated"}
    assert new.groups[-1] == f"generated:{checkpoint.resolve()}"

    from spectype.train.config import TrainConfig
    from spectype.train.engine import train

    cfg = TrainConfig(data=str(out), model="racnet", epochs=1, batch_size=16, device="cpu",
                      model_kwargs={"widths": [2, 4], "blocks": [1, 1]}, out=str(tmp_path / "tr"))
    result = train(cfg, progress=False)
    assert result.history["epoch"].tolist() == [1]


def test_augment_cli_refuses_another_class(tiny_pack, checkpoint, tmp_path):
    res = CliRunner().invoke(_app(), ["gan", "augment", "--data", str(tiny_pack), "--model",
                                      str(checkpoint), "--class", "F", "-n", "2", "-o",
                                      str(tmp_path / "a.h5")])
    assert res.exit_code == 1 and "not 'F'" in res.output
