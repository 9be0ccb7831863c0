"""Reuse the synthetic pack writer from tests/evaluate (test folders are not packages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "eval_synthetic_pack", Path(__file__).parents[1] / "evaluate" / "eval_synthetic_pack.py"
)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)

TINY_PROTOCOL = """
name: tiny
title: two tiny CNN rows
reference: test fixture
rows:
  none: {model: cnn1d_none, label: "no attention", kwargs: {hidden: 16, out_dim: 8}, paper: "87.17"}
  se:   {model: cnn1d_se,   label: "SE",           kwargs: {hidden: 16, out_dim: 8}}
  broken: {model: cnn1d_none, kwargs: {no_such_argument: 1}}
profiles:
  tiny:
    description: one epoch
    train: {epochs: 1, batch_size: 16, lr: 3.0e-3, max_per_class: 12}
"""


@pytest.fixture(scope="session")
def repro_pack(tmp_path_factory) -> Path:
    return synthetic.write_tiny_pack(tmp_path_factory.mktemp("repro") / "tiny.h5", n_pix=256, n_per_class=16)


@pytest.fixture(scope="session")
def tiny_protocol(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("proto") / "tiny.yaml"
    path.write_text(TINY_PROTOCOL)
    return path
