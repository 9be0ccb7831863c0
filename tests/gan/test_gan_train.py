"""GAN training: one step moves both networks with finite losses; a run writes its artefacts."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from spectype.errors import ConfigError
from spectype.train.gan import (
    GanConfig,
    build_gan,
    list_checkpoints,
    make_optimizers,
    train_gan,
    train_step,
)

from .conftest import L, synthetic_class

TINY = {
    "lcgan": ({"channels": (4, 2), "kernel_size": 3}, {"channels": (4, 8)}),
    "sgan": ({"hidden": (8, 16)}, {"hidden": (16, 8)}),
}


def tiny_cfg(model: str, **kw) -> GanConfig:
    g_kw, d_kw = TINY[model]
    return GanConfig(
        model=model,
        noise_dim=16,
        batch_size=8,
        generator_kwargs=g_kw,
        discriminator_kwargs=d_kw,
        progress=False,
        device="cpu",
        **kw,
    )


@pytest.mark.parametrize("model", ["lcgan", "sgan"])
def test_one_step_changes_both_networks(model):
    cfg = tiny_cfg(model)
    torch.manual_seed(0)
    g, d = build_gan(cfg, L)
    opt_g, opt_d = make_optimizers(cfg, g, d)
    before_g = [p.detach().clone() for p in g.parameters()]
    before_d = [p.detach().clone() for p in d.parameters()]
    real = torch.nn.functional.normalize(torch.rand(8, L) + 0.5, dim=1)
    stats = train_step(g, d, opt_g, opt_d, real, cfg.resolved(), torch.Generator().manual_seed(0))
    assert all(np.isfinite(v) for v in stats.values())
    assert 0 <= stats["d_real"] <= 1 and 0 <= stats["d_fake"] <= 1
    assert any(not torch.equal(a, b) for a, b in zip(before_g, g.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, d.parameters(), strict=True))


def test_model_defaults_follow_the_papers():
    lc, sg = GanConfig(model="lcgan").resolved(), GanConfig(model="sgan").resolved()
    assert (lc["optimizer"], lc["lr_g"], lc["lr_d"]) == ("rmsprop", 1e-4, 1.5e-4)
    assert lc["real_label"] == (0.9, 0.9) and lc["fake_label"] == (0.0, 0.0)
    assert (sg["optimizer"], sg["lr_g"], sg["lr_d"]) == ("adam", 2e-4, 2e-4)
    with pytest.raises(ConfigError, match="unknown GAN model"):
        GanConfig(model="wgan").resolved()


def test_run_writes_checkpoints_losses_and_plots(tmp_path):
    rng = np.random.default_rng(0)
    flux = synthetic_class(20, "hot", rng)
    cfg = tiny_cfg("lcgan", out=str(tmp_path / "run"), iters=4, checkpoint_every=2, seed=3)
    res = train_gan(flux, cfg, groups=np.arange(20), wavelength=np.linspace(4000, 9000, L))
    names = [p.name for p in list_checkpoints(tmp_path / "run")]
    assert names == ["iter_000002", "iter_000004"]
    folder = tmp_path / "run" / "checkpoints" / "iter_000004"
    assert {p.name for p in folder.iterdir()} == {
        "model.safetensors",
        "discriminator.safetensors",
        "config.json",
        "samples.png",
    }
    assert (folder / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"]["name"] == "gan_lcgan_generator" and config["iteration"] == 4
    assert config["normalisation"] == "l2" and config["input_len"] == L
    assert config["training_groups"] == sorted(str(i) for i in range(20))  # distinct stars
    losses = pd.read_csv(tmp_path / "run" / "losses.csv")
    assert list(losses.columns) == ["iter", "d_loss", "g_loss", "d_real", "d_fake"]
    assert list(losses["iter"]) == [1, 2, 3, 4] and np.isfinite(losses.to_numpy()).all()
    assert len(res.losses) == 4


def test_same_seed_same_losses():
    flux = synthetic_class(12, "cool", np.random.default_rng(1))
    a = train_gan(flux, tiny_cfg("sgan", iters=2, seed=7)).losses
    b = train_gan(flux, tiny_cfg("sgan", iters=2, seed=7)).losses
    pd.testing.assert_frame_equal(a, b)


def test_bad_input_raises():
    with pytest.raises(ConfigError, match="non-empty"):
        train_gan(np.zeros((0, L)), tiny_cfg("lcgan"))
