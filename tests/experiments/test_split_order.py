"""`reproduce --split-order replicate-then-split`: the paper's leaky order as a cached pack step."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectype.datasets import Pack
from spectype.errors import ConfigError
from spectype.experiments.runner import RESULT, reproduce


def test_replicate_then_split_trains_on_a_leaky_copy(repro_pack, tiny_protocol, tmp_path):
    res = reproduce(tiny_protocol, repro_pack, seeds=1, profile="tiny", out=tmp_path, rows=["none"],
                    device="cpu", command="test", overrides=["balance=20"],
                    split_order="replicate-then-split")
    assert not res.failures, res.failures
    result = json.loads((tmp_path / "none" / "seed0" / RESULT).read_text())
    assert result["split_order"] == "replicate-then-split"
    assert result["config"]["split_seed"] is None and result["config"]["balance"] is None
    (leaky,) = (tmp_path / "steps" / "replicate_then_split").glob("*/pack.h5")
    pack = Pack(leaky)
    assert pack.leaky and len(pack) == len(Pack(repro_pack))
    # The leak itself: copies of one spectrum sit in train and test.
    assert np.intersect1d(pack.indices("train"), pack.indices("test")).size > 0
    # A second call reuses the run and its pack step.
    again = reproduce(tiny_protocol, repro_pack, seeds=1, profile="tiny", out=tmp_path, rows=["none"],
                      device="cpu", command="test", overrides=["balance=20"],
                      split_order="replicate-then-split")
    assert again.trained == []


def test_replicate_then_split_needs_a_count(repro_pack, tiny_protocol, tmp_path):
    res = reproduce(tiny_protocol, repro_pack, seeds=1, profile="tiny", out=tmp_path, rows=["none"],
                    device="cpu", command="test", split_order="replicate-then-split")
    assert "balance" in res.failures[0]["error"]


def test_a_study_protocol_is_not_run_on_a_pack(repro_pack, tmp_path):
    with pytest.raises(ConfigError, match="spectype reproduce lcgan"):
        reproduce("lcgan", repro_pack, seeds=1, profile="quick", out=tmp_path)
