"""The training loop on a tiny pack: run folder, best model, determinism, resume, early stopping."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch

from spectype.datasets import Pack
from spectype.errors import ConfigError
from spectype.models.release import load_model
from spectype.train import load_config, split_indices, train

from .conftest import CLASSES, TINY_MODEL, make_pack


def _cfg(pack, out, *extra):
    kw = [f"model_kwargs.{k}={v}" for k, v in TINY_MODEL.items()]
    return load_config(None, [f"data={pack}", f"out={out}", "epochs=2", "batch_size=16", "lr=1e-3", *kw, *extra])


def _weights(run_dir, sub="last"):
    return safetensors.torch.load_file(str(run_dir / sub / "model.safetensors"))


def _assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def two_epoch_run(tiny_pack, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "a"
    return train(_cfg(tiny_pack, out), progress=False)


def test_run_folder_contents(two_epoch_run, tiny_pack):
    r = two_epoch_run
    assert sorted(p.name for p in r.run_dir.iterdir()) == ["best", "config.yaml", "last", "metrics.csv"]
    hist = pd.read_csv(r.run_dir / "metrics.csv")
    assert list(hist.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
    assert hist["epoch"].tolist() == [1, 2] and hist.equals(r.history)
    assert r.best_val_acc == hist["val_acc"].max() and r.best_epoch in (1, 2)
    assert np.isfinite(hist[["train_loss", "val_loss"]].to_numpy()).all()
    assert hist["train_loss"].iloc[1] < hist["train_loss"].iloc[0]  # it learns
    assert load_config(r.run_dir / "config.yaml", []).epochs == 2


def test_best_folder_loads_with_identical_logits(two_epoch_run, tiny_pack):
    r = two_epoch_run
    loaded = load_model(r.best_dir)
    assert loaded.class_names == CLASSES
    assert loaded.preprocess["wavelength_grid"]["spacing"] == "log"
    assert loaded.config["training"]["rows"]["train"] == len(Pack(tiny_pack).indices("train"))
    assert loaded.config["metrics"]["val_acc"] == pytest.approx(r.best_val_acc)
    # The best folder holds exactly the weights of the best epoch; when that was the last
    # epoch it equals last/ and the returned model.
    x = torch.from_numpy(Pack(tiny_pack).read_flux(np.arange(6)))
    if r.best_epoch == 2:
        with torch.no_grad():
            assert torch.equal(loaded.model(x), r.model(x))
    best, last = _weights(r.run_dir, "best"), _weights(r.run_dir, "last")
    if r.best_epoch == 2:
        _assert_same(best, last)
    else:  # epoch 2 changed the weights, and best/ kept epoch 1's
        assert any(not torch.equal(best[k], last[k]) for k in best)


def test_same_seed_same_weights_other_seed_differs(two_epoch_run, tiny_pack, tmp_path):
    # Lazy HDF5 reading in a worker process must give the same batches as the in-memory path.
    again = train(_cfg(tiny_pack, tmp_path / "b", "preload=false", "num_workers=1"), progress=False)
    _assert_same(_weights(two_epoch_run.run_dir), _weights(again.run_dir))
    assert again.history.drop(columns="seconds").equals(two_epoch_run.history.drop(columns="seconds"))
    other = train(_cfg(tiny_pack, tmp_path / "c", "seed=1"), progress=False)
    w0, w1 = _weights(two_epoch_run.run_dir), _weights(other.run_dir)
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)


def test_resume_equals_uninterrupted(tiny_pack, tmp_path, caplog):
    full = train(_cfg(tiny_pack, tmp_path / "full", "epochs=4"), progress=False)
    part = train(_cfg(tiny_pack, tmp_path / "part"), progress=False)  # "interrupted" after 2
    first_rows = (tmp_path / "part" / "metrics.csv").read_text()
    with caplog.at_level(logging.INFO, logger="spectype.train"):
        resumed = train(_cfg(tiny_pack, tmp_path / "part", "epochs=4"), progress=False)
    assert "from epoch 2" in caplog.text
    # Epochs 1-2 were not re-run: their rows (timings included) are untouched.
    assert (tmp_path / "part" / "metrics.csv").read_text().startswith(first_rows)
    assert resumed.history["epoch"].tolist() == [1, 2, 3, 4]
    _assert_same(_weights(full.run_dir), _weights(resumed.run_dir))
    _assert_same(
        safetensors.torch.load_file(str(full.run_dir / "last" / "optimizer.safetensors")),
        safetensors.torch.load_file(str(resumed.run_dir / "last" / "optimizer.safetensors")),
    )
    cols = ["train_loss", "train_acc", "val_loss", "val_acc"]
    assert np.array_equal(full.history[cols].to_numpy(), resumed.history[cols].to_numpy())
    assert (resumed.best_epoch, resumed.best_val_acc) == (full.best_epoch, full.best_val_acc)
    assert part.history["epoch"].tolist() == [1, 2]


def test_resume_refuses_a_different_config(two_epoch_run, tiny_pack):
    with pytest.raises(ConfigError, match=r"different config \(lr"):
        train(_cfg(tiny_pack, two_epoch_run.run_dir, "lr=0.01"), progress=False)


def test_early_stopping(tiny_pack, tmp_path):
    # lr so small that val accuracy cannot change: stops `patience` epochs after epoch 1.
    cfg = _cfg(tiny_pack, tmp_path / "es", "epochs=10", "lr=1e-12", "early_stopping=2")
    r = train(cfg, progress=False)
    assert r.stopped_early and r.best_epoch == 1
    assert r.history["epoch"].tolist() == [1, 2, 3]
    again = train(cfg, progress=False)  # a finished run is not trained further
    assert again.stopped_early and again.history["epoch"].tolist() == [1, 2, 3]


def test_split_seed_balance_and_cap(tiny_pack, tmp_path):
    pack = Pack(tiny_pack)
    base = split_indices(pack, _cfg(tiny_pack, tmp_path))
    assert np.array_equal(base["train"], pack.indices("train"))
    resplit = split_indices(pack, _cfg(tiny_pack, tmp_path, "split_seed=5"))
    groups = {s: set(pack.groups[v]) for s, v in resplit.items()}
    assert not (groups["train"] & groups["test"]) and not (groups["train"] & groups["val"])
    assert sum(len(v) for v in resplit.values()) == len(pack)
    assert not np.array_equal(resplit["train"], base["train"])
    bal = split_indices(pack, _cfg(tiny_pack, tmp_path, "split_seed=5", "balance=40"))
    assert np.bincount(pack.labels[bal["train"]]).tolist() == [40, 40, 40]
    assert np.array_equal(bal["test"], resplit["test"])  # replication touches train only
    cap = split_indices(pack, _cfg(tiny_pack, tmp_path, "max_per_class=3"))
    assert np.bincount(pack.labels[cap["train"]]).max() == 3


def test_errors_name_the_problem(tiny_pack, tmp_path):
    with pytest.raises(ConfigError, match="no training data"):
        train(load_config(None, ["epochs=1"]), progress=False)
    with pytest.raises(ConfigError, match="cannot build model"):
        train(_cfg(tiny_pack, tmp_path / "x", "model=no_such_model"), progress=False)
    with pytest.raises(ConfigError, match="n_classes=5 but the pack"):
        train(_cfg(tiny_pack, tmp_path / "y", "model_kwargs.n_classes=5"), progress=False)
    (tmp_path / "notarun").mkdir()
    (tmp_path / "notarun" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a training run"):
        train(_cfg(tiny_pack, tmp_path / "notarun"), progress=False)


def test_leaky_pack_warns(tmp_path):
    pack = make_pack(tmp_path / "leaky.h5", n_per_class=8, leaky=True)
    with pytest.warns(UserWarning, match="LEAKY"):
        r = train(_cfg(pack, tmp_path / "run", "epochs=1"), progress=True)  # rich bar path too
    assert r.history["epoch"].tolist() == [1]


def test_cli_train(tiny_pack, tmp_path):
    from typer.testing import CliRunner

    from spectype.cli import app

    cfg = tmp_path / "run.yaml"
    cfg.write_text("model: cnn1d_none\nmodel_kwargs: {hidden: 16, out_dim: 8}\nepochs: 1\nbatch_size: 32\n")
    res = CliRunner().invoke(
        app, ["train", "--config", str(cfg), "--data", str(tiny_pack), "--out", str(tmp_path / "r"),
              "--set", "lr=0.002", "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    assert f"run folder: {tmp_path / 'r'}" in res.output and "val accuracy" in res.output
    assert load_config(tmp_path / "r" / "config.yaml", []).lr == 0.002
    bad = CliRunner().invoke(app, ["train", "--config", str(cfg), "--set", "nope=1"])
    assert bad.exit_code == 1 and "unknown config key 'nope'" in bad.output


def test_a_lone_last_batch_is_dropped(tiny_pack, tmp_path):
    # cnn1d_bam's channel gate has BatchNorm over (B, hidden): a training batch of one spectrum
    # raises. Pick the batch size so the train split leaves exactly one spectrum over.
    n_train = len(Pack(tiny_pack).indices("train"))
    cfg = load_config(None, [f"data={tiny_pack}", f"out={tmp_path / 'bam'}", "epochs=1", "model=cnn1d_bam",
                             f"batch_size={n_train - 1}", *[f"model_kwargs.{k}={v}" for k, v in TINY_MODEL.items()]])
    r = train(cfg, progress=False)
    assert r.history["epoch"].tolist() == [1]
