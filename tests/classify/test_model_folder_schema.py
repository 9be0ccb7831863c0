"""Issue 14 item 3: a model folder's config is validated before anything is built."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from spectype.errors import ModelLoadError
from spectype.models.release import load_model


def _edit(src: Path, dst: Path, change) -> Path:
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    change(cfg)
    (dst / "config.json").write_text(json.dumps(cfg))
    return dst


def _set(path: str, value):
    def change(cfg):
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return change


CASES = {
    "huge channel": (_set("arch.kwargs.channels", [8, 10**7]), "outside 0..65536"),
    "negative size": (_set("arch.kwargs.hidden", -16), "outside 0..65536"),
    "unknown attention": (_set("arch.kwargs.attn", "transformer9000"), "not a known attention"),
    "arch as string": (_set("arch", "cnn1d_none"), "'arch' must be an object"),
    "unknown architecture": (_set("arch.name", "resnet_from_mars"), "unknown architecture"),
    "too few class names": (_set("class_names", ["A", "F"]), "n_classes = 3"),
    "duplicate class names": (_set("class_names", ["A", "A", "K"]), "class_names repeat ['A']"),
    "grid mismatch": (_set("preprocess.n_pix", 300), "preprocess grid and the model input disagree"),
    "deep nesting": (_set("training", json.loads("[" * 40 + "]" * 40)), "nested deeper than 16"),
    "very deep nesting": (None, "nested too deeply"),
    "NaN float": (_set("arch.kwargs.out_dim", float("inf")), "not a sensible number"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_config_is_a_clear_model_load_error(case, tiny_model, tmp_path):
    change, message = CASES[case]
    if change is None:  # deeper than Python's JSON parser can go
        folder = tmp_path / "m"
        shutil.copytree(tiny_model, folder)
        text = (folder / "config.json").read_text()
        (folder / "config.json").write_text(text[:-1] + ', "x": ' + "[" * 100000 + "]" * 100000 + "}")
    else:
        folder = _edit(tiny_model, tmp_path / "m", change)
    with pytest.raises(ModelLoadError, match=None) as err:
        load_model(folder)
    assert message in str(err.value), str(err.value)
    assert "config.json" in str(err.value)


def test_head_size_checked_without_n_classes_kwarg(tiny_model, tmp_path):
    def change(cfg):
        del cfg["arch"]["kwargs"]["n_classes"]  # the builder's default (8) then disagrees
    folder = _edit(tiny_model, tmp_path / "m", change)
    with pytest.raises(ModelLoadError, match="outputs but 3 class_names"):
        load_model(folder)


def test_nan_weights_are_refused(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    tensors = load_file(folder / "model.safetensors")
    name = next(k for k, t in tensors.items() if t.is_floating_point())
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="NaN or infinite"):
        load_model(folder)


def test_cli_reports_a_bad_model_folder_without_traceback(tiny_model, tmp_path, spectra):
    from classify_support import cli

    folder = _edit(tiny_model, tmp_path / "m", _set("arch.kwargs.channels", [8, 10**7]))
    code, out = cli(spectra, "-o", tmp_path / "o.parquet", "--model", folder, "-q")
    assert code == 2 and "outside 0..65536" in out and "Traceback" not in out


def test_valid_folder_still_loads(tiny_model):
    m = load_model(tiny_model)
    assert m.class_names == ["A", "F", "K"]
