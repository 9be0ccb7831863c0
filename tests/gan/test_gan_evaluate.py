"""GAN-train / GAN-test: grouped, leak-free splits and high accuracy on separable data."""

import numpy as np
import pandas as pd
import pytest

from spectype.datasets.split import holdout_rows
from spectype.errors import ConfigError
from spectype.gan import evaluate_checkpoints, gan_train_test
from spectype.train.gan import GanConfig, train_gan

from .conftest import synthetic_class


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    t, c = synthetic_class(40, "hot", rng), synthetic_class(40, "cool", rng)
    gt = np.array([f"t{i // 2}" for i in range(40)])  # two spectra per star
    gc = np.array([f"c{i // 4}" for i in range(40)])
    return t, c, gt, gc


def test_good_generator_scores_high(data):
    t, c, gt, gc = data
    fake = synthetic_class(30, "hot", np.random.default_rng(5))  # a "perfect" generator
    res = gan_train_test(t, c, fake, gt, gc, seed=0)
    assert res["gan_test"] > 0.9 and res["gan_train"] > 0.9 and res["real_vs_real"] > 0.9
    assert res["gan_test_recall"] > 0.9


def test_bad_generator_scores_low(data):
    t, c, gt, gc = data
    fake = synthetic_class(30, "cool", np.random.default_rng(5))  # generates the wrong class
    res = gan_train_test(t, c, fake, gt, gc, seed=0)
    assert res["gan_test_recall"] < 0.2 and res["gan_train"] < 0.7


def test_splits_share_no_group_and_exclude_gan_training_groups(data):
    t, c, gt, gc = data
    used = [f"t{i}" for i in range(5)]
    res = gan_train_test(t, c, t[:4], gt, gc, seed=3, exclude_groups=used)
    s = res["splits"]
    assert not set(gt[s["target_train"]]) & set(gt[s["target_test"]])
    assert not set(gc[s["comp_train"]]) & set(gc[s["comp_test"]])
    assert not set(gt[s["target_test"]]) & set(used)
    assert len(s["target_train"]) + len(s["target_test"]) == len(t)
    assert len(s["target_test"]) > 0 and len(s["comp_test"]) > 0


def test_holdout_rows_needs_free_groups():
    with pytest.raises(ConfigError, match="free for testing"):
        holdout_rows(np.array(["a", "a", "b", "c"]), 0.5, 0, exclude_groups=["b"])


def test_evaluate_checkpoints_writes_tables(data, tmp_path):
    t, c, gt, gc = data
    cfg = GanConfig(
        model="sgan",
        out=str(tmp_path),
        iters=2,
        checkpoint_every=1,
        noise_dim=8,
        batch_size=4,
        generator_kwargs={"hidden": (8,)},
        discriminator_kwargs={"hidden": (8,)},
        progress=False,
        device="cpu",
    )
    run = train_gan(t[:10], cfg, groups=gt[:10])
    bad = tmp_path / "checkpoints" / "iter_999999"
    bad.mkdir()
    df = evaluate_checkpoints(
        [*run.checkpoints, bad], t, c, gt, gc, n_generated=10, out_dir=tmp_path
    )
    assert list(df["checkpoint"]) == ["iter_000001", "iter_000002", "iter_999999"]
    assert df["gan_test"].iloc[:2].between(0, 1).all()
    assert df["error"].iloc[2].startswith("ModelLoadError")  # recorded, the rest went on
    assert len(pd.read_csv(tmp_path / "gan_eval.csv")) == 3
    assert "| iter_000001 |" in (tmp_path / "gan_eval.md").read_text()
