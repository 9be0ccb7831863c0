"""`zoo:<model>` with builder overrides: a fusion row at a CPU-sized image in the benchmark."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from spectype.benchmark.methods import build_method
from spectype.benchmark.zoo_method import ZooConfig
from spectype.errors import ConfigError

_spec = importlib.util.spec_from_file_location("mk_opts", Path(__file__).parent / "test_mknet_options.py")
_mk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mk)

SMALL = {"image_size": 32, "image_canvas": 64, "epsanet_layers": [1, 1, 1, 1]}


def test_zoo_kwargs_reach_the_builder():
    train, val, test = _mk._set(6, 0), _mk._set(2, 1), _mk._set(2, 2)
    m = build_method("zoo:mm_2d", seed=0, zoo_cfg=ZooConfig(epochs=1), zoo_kwargs={"mm_2d": SMALL, "other": {}})
    out = m.fit(train, val).predict(test)
    assert out.proba.shape == (len(test), 8) and np.allclose(out.proba.sum(1), 1, atol=1e-5)
    image = m.model.branches["image"].feature
    assert image(torch.rand(1, _mk.L) + 1).shape[-2:] == (32, 32)
    with pytest.raises(TypeError):  # a kwarg the builder does not take is refused, not dropped
        build_method("zoo:mm_2d", zoo_cfg=ZooConfig(epochs=1), zoo_kwargs={"mm_2d": {"no_such": 1}}).fit(train, val)


def test_cli_refuses_zoo_kwargs_that_are_not_an_object(tmp_path):
    from spectype.cli import app

    r = CliRunner().invoke(app, ["benchmark", "accuracy", str(tmp_path), "-o", str(tmp_path / "o"),
                                 "--methods", "logreg", "--libraries", "", "--native", "",
                                 "--zoo-kwargs", "[1, 2]"])
    assert r.exit_code != 0 and "--zoo-kwargs must be a JSON object" in r.output
    with pytest.raises(ConfigError):
        from spectype.cli._options import json_object

        json_object("--x", "{not json")
