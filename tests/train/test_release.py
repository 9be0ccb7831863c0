"""Released model folders: safetensors + config.json, round trip, never unpickles, clear errors."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
import torch.nn as nn

from spectype.errors import ModelLoadError
from spectype.models import create_model, list_models, register_model
from spectype.models.release import default_model_folder, load_model, save_model

TIED = "test_tied_linear"
if TIED not in list_models():

    @register_model(name=TIED)
    def _tied(n_classes: int = 3, input_len: int = 8) -> nn.Module:
        """Two linear layers sharing one weight (shared tensors must survive safetensors)."""
        m = nn.Sequential(nn.Linear(input_len, input_len), nn.Linear(input_len, input_len), nn.Linear(input_len, n_classes))
        m[1].weight = m[0].weight
        return m


def _save(model, folder):
    return save_model(
        model, folder, class_names=["A", "F", "K"],
        preprocess={"n_pix": getattr(model, "spectype_arch", {}).get("kwargs", {}).get("input_len", 256)},  # must match input_len (validated on load)
        training={"rows": {"train": 10}}, metrics={"val_acc": 0.5},
    )


@pytest.fixture(scope="module")
def cnn_folder(tmp_path_factory):
    torch.manual_seed(0)
    model = create_model("cnn1d_none", n_classes=3, input_len=256, hidden=16, out_dim=8).eval()
    folder = _save(model, tmp_path_factory.mktemp("m") / "model")
    return model, folder


def test_round_trip_gives_identical_logits(cnn_folder, monkeypatch):
    model, folder = cnn_folder
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]

    def no_pickle(*a, **k):
        raise AssertionError("load_model must not unpickle")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(torch, "load", no_pickle)
    loaded = load_model(folder)
    assert not loaded.model.training
    assert loaded.class_names == ["A", "F", "K"] and loaded.preprocess == {"n_pix": 256}
    cfg = loaded.config
    assert cfg["format"] == "spectype-model" and cfg["input_len"] == 256
    assert cfg["arch"]["name"] == "cnn1d_none"
    # What was passed, and every other builder default (channels etc.) recorded alongside.
    kw = cfg["arch"]["kwargs"]
    assert {k: kw[k] for k in ("n_classes", "input_len", "hidden", "out_dim")} == {
        "n_classes": 3, "input_len": 256, "hidden": 16, "out_dim": 8}
    assert kw["channels"] == [10, 10, 20, 30, 40, 50, 60, 60]
    x = torch.randn(4, 256)
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))


def test_shared_tensors_survive(tmp_path):
    model = create_model(TIED, n_classes=3, input_len=8)
    folder = _save(model, tmp_path / "tied")
    loaded = load_model(folder).model
    assert loaded[1].weight is loaded[0].weight
    assert torch.equal(loaded[0].weight, model[0].weight)


def test_overwrite_is_atomic_swap(cnn_folder, tmp_path):
    model, _ = cnn_folder
    folder = _save(model, tmp_path / "m")
    _save(create_model(TIED, n_classes=3, input_len=8), folder)
    assert load_model(folder).config["arch"]["name"] == TIED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp or .old folders left


def test_model_without_arch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="create_model"):
        _save(nn.Linear(2, 2), tmp_path / "x")


def _copy(folder, dest):
    dest.mkdir()
    for f in folder.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return dest


def test_missing_folder_and_files(cnn_folder, tmp_path):
    _, folder = cnn_folder
    with pytest.raises(ModelLoadError, match="model folder not found"):
        load_model(tmp_path / "absent")
    broken = _copy(folder, tmp_path / "no_weights")
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match=r"no_weights.*model\.safetensors is missing"):
        load_model(broken)
    broken = _copy(folder, tmp_path / "no_config")
    (broken / "config.json").unlink()
    with pytest.raises(ModelLoadError, match="config.json is missing"):
        load_model(broken)


def test_corrupt_and_foreign_folders(cnn_folder, tmp_path):
    _, folder = cnn_folder
    bad = _copy(folder, tmp_path / "corrupt")
    (bad / "model.safetensors").write_bytes(b"\x00not safetensors")
    with pytest.raises(ModelLoadError, match="unreadable safetensors"):
        load_model(bad)
    bad = _copy(folder, tmp_path / "badjson")
    (bad / "config.json").write_text("{")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_model(bad)
    bad = _copy(folder, tmp_path / "foreign")
    (bad / "config.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelLoadError, match="not a spectype model"):
        load_model(bad)


def test_architecture_mismatch(cnn_folder, tmp_path):
    _, folder = cnn_folder
    for name, edit, message in [
        ("wider", lambda a: a["kwargs"].update(hidden=32), "do not fit|do not match"),
        ("unknown", lambda a: a.update(name="no_such_model"), "cannot rebuild architecture"),
    ]:
        bad = _copy(folder, tmp_path / name)
        cfg = json.loads((bad / "config.json").read_text())
        edit(cfg["arch"])
        (bad / "config.json").write_text(json.dumps(cfg))
        with pytest.raises(ModelLoadError, match=message):
            load_model(bad)


def test_default_model_message_when_not_shipped(tmp_path, monkeypatch):
    import spectype.models.release as release

    monkeypatch.setattr(release, "default_model_folder", lambda: tmp_path / "missing")
    with pytest.raises(ModelLoadError, match="spectype train"):
        load_model(None)


def test_shipped_default_model_loads_and_classifies():
    loaded = load_model(None)
    assert (default_model_folder() / "model.safetensors").stat().st_size < 20 * 2**20
    assert loaded.class_names == ["O", "B", "A", "F", "G", "K", "M", "C"]
    n = loaded.config["input_len"]
    probs = torch.softmax(loaded.model(torch.zeros(2, n)), dim=1)
    assert probs.shape == (2, 8) and torch.allclose(probs.sum(1), torch.ones(2))
