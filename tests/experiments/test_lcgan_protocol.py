"""The O-star recognition protocol (experiments/lcgan.py) on synthetic library stars.

Synthetic sources: each class has its own continuum slope and line depth, each star a small
random perturbation, so a tiny recogniser can learn something in a few epochs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spectype.datasets import Pack, write_pack
from spectype.datasets.augment import read_kind
from spectype.errors import ConfigError
from spectype.experiments.lcgan import arm_pack, resolve_profile, run_lcgan_protocol
from spectype.experiments.lcgan_data import CLASSES, Pool, bin_flux, simulate_pool, split_stars
from spectype.labels import parse_label
from spectype.simulate import CumulativeSpectrum, NoiseProfile, RealDistributions, lamost_full_grid
from spectype.simulate.sources import SourceStar

SLOPE = {"O": -3.0, "F": -1.0, "G": -0.3, "K": 0.5}
LINES = {
    "O": (4541.0, 4686.0),
    "F": (4102.0, 4341.0, 4862.0),
    "G": (3934.0, 3969.0, 5175.0),
    "K": (4227.0, 5175.0, 5890.0),
}


def make_source(cls: str, k: int, rng: np.random.Generator) -> SourceStar:
    wave = np.linspace(3000.0, 10000.0, 14000)
    flux = (wave / 5000.0) ** (SLOPE[cls] + rng.normal(0, 0.1))
    for line in LINES[cls]:
        flux = flux * (1 - rng.uniform(0.3, 0.6) * np.exp(-0.5 * ((wave - line) / 6.0) ** 2))
    sub = {"O": "O7V", "F": "F5V", "G": "G2V", "K": "K2V"}[cls]
    return SourceStar(
        key=f"TEST:{cls}{k}",
        group=f"{cls}STAR{k}",
        library="stelib",
        subclass=sub,
        label=parse_label(sub),
        resolution=1800.0,
        conv=CumulativeSpectrum.from_pixels(wave, flux),
    )


def make_profiles(n: int = 3) -> list[NoiseProfile]:
    grid = lamost_full_grid()
    return [
        NoiseProfile(
            obsid=str(i),
            ivar=np.full(grid.size, 4.0),
            andmask=np.zeros(grid.size, np.int64),
            ormask=np.zeros(grid.size, np.int64),
            flux_smooth=np.full(grid.size, 100.0),
            snr_g=30.0,
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    sources = [make_source(c, k, rng) for c in CLASSES for k in range(9 if c == "O" else 4)]
    dists = RealDistributions(z=rng.normal(0, 1e-4, 50), snr_g=rng.uniform(20, 60, 50))
    return sources, make_profiles(), dists


TINY = {
    "bin_pixels": 10,
    "o_draws_per_star": 4,
    "o_extra_draws_per_star": 4,
    "other_per_class": 20,
    "test_fraction": 0.34,
    "n_per_class": 30,
    "gan": {
        "iters": 4,
        "checkpoint_every": 2,
        "batch_size": 8,
        "noise_dim": 16,
        "lcgan": {
            "generator_kwargs": {"channels": [2]},
            "discriminator_kwargs": {"channels": [4, 8]},
        },
        "sgan": {"generator_kwargs": {"hidden": [16]}, "discriminator_kwargs": {"hidden": [16]}},
    },
    "gan_eval_n": 20,
    "recogniser": {"widths": [2, 4], "blocks": [1, 1], "epochs": 1, "batch_size": 32, "lr": 1e-3},
    "torch_threads": 1,
}


def test_bin_flux_averages_adjacent_pixels():
    x = np.arange(10.0)[None, :]
    assert np.allclose(bin_flux(x, 3), [[1.0, 4.0, 7.0]])
    assert bin_flux(x, 1) is x


def test_pool_pack_splits_share_no_source_star_and_arms_add_train_rows_only(inputs, tmp_path):
    sources, profiles, dists = inputs
    simulate_pool(tmp_path / "pool.h5", sources, profiles, dists, o_draws_per_star=3,
                  o_extra_draws_per_star=2, other_per_class=10, bin_pixels=20)
    pool = Pool.read(tmp_path / "pool.h5")
    # eq. 1, then RAC-Net's input scale sqrt(n_pix), recorded as the pack's flux_scale
    assert pool.pack.params["flux_scale"] == pytest.approx(np.sqrt(pool.pack.n_pix))
    assert np.allclose(np.linalg.norm(pool.flux, axis=1), np.sqrt(pool.pack.n_pix), rtol=1e-4)
    assert set(pool.kind) == {"base", "extra"}
    for seed in range(4):
        s = split_stars(pool.pack, seed, 0.34)
        assert not s.train_groups() & s.test_groups()
        assert all(s.test[c] for c in CLASSES)
    # different seeds hold out different O stars
    assert len({tuple(split_stars(pool.pack, k, 0.34).test["O"]) for k in range(6)}) > 1

    cfg = {"n_per_class": 40}
    path, n = arm_pack("d_simulator", pool, s, cfg, 0, None, tmp_path / "arm.h5")
    arm, test = Pack(path), pool.rows(s.test_groups())
    assert n == 40 - len(pool.rows(s.train["O"], cls="O")) > 0 and len(arm) == len(pool.pack) + n
    added = np.arange(len(pool.pack), len(arm))
    assert set(added) <= set(arm.indices("train")) and list(read_kind(path)[added]) == ["extra"] * n
    assert set(arm.groups[added]) <= set(s.train["O"])  # extra simulations of train-split O stars
    for split in ("val", "test"):
        assert np.array_equal(arm.indices(split), test)
    assert not set(arm.groups[arm.indices("train")]) & s.test_groups()


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown lcgan setting"):
        resolve_profile("quick", {"no_such": 1})
    with pytest.raises(ConfigError, match="unknown lcgan profile"):
        resolve_profile("huge")


def test_profiles_come_from_the_protocol_file():
    quick, faithful = resolve_profile("quick"), resolve_profile("faithful")
    assert quick["recogniser"] == {"widths": [4, 8, 16, 32], "blocks": [1, 1, 1, 1], "epochs": 5,
                                   "batch_size": 64, "lr": 2e-3}
    assert faithful["recogniser"]["lr"] == 1e-4  # the paper's Adam rate (Sec. 3.3)
    assert faithful["n_per_class"] == resolve_profile("paper")["n_per_class"]  # extends: paper


def test_micro_run_writes_tables_and_figures_and_resumes(tmp_path, inputs, monkeypatch):
    import spectype.train.engine as engine

    sources, profiles, dists = inputs
    amps = []
    real_train = engine.train
    monkeypatch.setattr(engine, "train", lambda cfg, **k: amps.append(cfg.amp) or real_train(cfg, **k))
    kw = dict(
        seeds=2,
        device="cpu",
        progress=False,
        overrides=TINY,
        sources=sources,
        profiles=profiles,
        dists=dists,
    )
    res = run_lcgan_protocol(tmp_path, "quick", **kw)
    assert not res["failures"], res["failures"]
    for name in ("table.md", "table.csv", "gan_eval.csv", "gan_eval.md",
                 "runs.csv", "recognisers.csv", "significance.md", "per_class.md",
                 "fig_accuracy_vs_iteration.png", "source_counts.md", "report.md"):
        assert (tmp_path / name).stat().st_size > 0, name
    # The four arms go through experiments.summary, as table3/table4 do.
    shared = pd.read_csv(tmp_path / "table.csv")
    assert list(shared["row"]) == ["a_replication", "b_lcgan", "c_sgan", "d_simulator"]
    assert list(shared["n_runs"]) == [2, 2, 2, 2] and shared["mean_acc"].between(0, 1).all()
    assert "93.67" in (tmp_path / "table.md").read_text()
    sig = pd.read_csv(tmp_path / "significance.csv")
    assert len(sig) == 6  # every pair of the four arms
    pc = pd.read_csv(tmp_path / "per_class.csv")
    assert set(pc["class"]) == set(CLASSES) and pc["f1"].between(0, 1).all()
    runs = pd.read_csv(tmp_path / "recognisers.csv")
    assert runs["O_recall"].between(0, 1).all() and runs["test_acc"].between(0, 1).all()
    # sweep: both GANs at iterations 2 and 4, for both seeds
    sweep = runs[runs["gan"].notna()]
    assert sorted(set(zip(sweep["gan"], sweep["iteration"], strict=True))) == [
        ("lcgan", 2), ("lcgan", 4), ("sgan", 2), ("sgan", 4)]
    assert len(sweep) == 8
    ge = pd.read_csv(tmp_path / "gan_eval.csv")
    assert len(ge) == 8 and ge["gan_train"].between(0, 1).all()  # 2 GANs x 2 checkpoints x 2 seeds
    assert "| lcgan | 4 |" in (tmp_path / "gan_eval.md").read_text()

    # No test star was seen by a GAN (checkpoint training_groups) or a recogniser (split).
    runs_dir = {m: sorted((tmp_path / "steps" / f"gan_{m}").iterdir()) for m in ("lcgan", "sgan")}
    for seed in range(2):
        split = json.loads((tmp_path / "splits" / f"seed{seed}.json").read_text())
        test = {g for gs in split["test"].values() for g in gs}
        train = {g for gs in split["train"].values() for g in gs}
        assert test and not test & train
        for gan in ("lcgan", "sgan"):
            (run,) = [r for r in runs_dir[gan] if _settings(r)["seed"] == seed]
            cfg = json.loads((run / "checkpoints" / "iter_000004" / "config.json").read_text())
            assert set(cfg["training_groups"]) <= set(split["train"]["O"])

    # Arms differ only in the O augmentation: the same training size per class.
    assert (runs["n_train"] == 4 * TINY["n_per_class"]).all()
    assert amps and set(amps) == {"off"}  # recognisers train in fp32 on any device
    assert (runs.loc[runs["run"] == "a_replication", "n_augment"] == 0).all()
    assert (runs.loc[runs["run"] == "d_simulator", "n_augment"] > 0).all()

    # Every recogniser, GAN run and evaluation is a step; a second call reuses all of them.
    steps = {p: p.stat().st_mtime_ns for p in (tmp_path / "steps").glob("*/*/settings.json")}
    assert len([p for p in steps if p.parent.parent.name == "recogniser"]) == len(runs)
    res2 = run_lcgan_protocol(tmp_path, "quick", **kw)
    assert {p: p.stat().st_mtime_ns for p in steps} == steps
    pd.testing.assert_frame_equal(res2["table"], res["table"])

    # Another GAN setting is another step folder: nothing made with the old one is reused.
    other_gan = {**TINY, "gan": {**TINY["gan"], "noise_dim": 8}}
    run_lcgan_protocol(tmp_path, "quick", **{**kw, "seeds": 1, "overrides": other_gan})
    assert len(list((tmp_path / "steps" / "gan_lcgan").iterdir())) == 3


def _settings(folder):
    return json.loads((folder / "settings.json").read_text())


def test_split_stars_assigns_a_two_class_star_by_its_majority(tmp_path):
    # Star "mix" has one O row (listed first) and two F rows: it belongs with F. Every class
    # needs a few stars of its own for the split to run.
    groups = ["mix", "mix", "mix"] + [f"{c}{i}" for c in "ofgk" for i in range(6)]
    labels = [0, 1, 1] + [k for k in range(4) for _ in range(6)]
    n = len(groups)
    path = write_pack(tmp_path / "p.h5", np.zeros((n, 4)), wavelength=np.arange(4.0),
                      labels=np.array(labels), class_names=list(CLASSES),
                      indices={s: np.zeros(0, np.int64) for s in ("train", "val", "test")},
                      ids=groups, paths=groups, groups=groups, index=np.arange(n),
                      codes=np.zeros(n), snr_i=np.zeros(n), params={})
    s = split_stars(Pack(path), 0, 0.34)
    assert "mix" in s.train["F"] + s.test["F"]
    assert all("mix" not in s.train[c] + s.test[c] for c in ("O", "G", "K"))
