"""Fixtures: a tiny synthetic pack and a tiny cnn1d_none trained on it for one epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from .eval_synthetic_pack import write_tiny_pack

N_PIX = 256  # the 8-layer CNN needs a few hundred pixels
TINY_MODEL = {"hidden": 16, "out_dim": 8}  # the real architecture with narrow linear layers


@pytest.fixture(scope="session")
def eval_pack(tmp_path_factory) -> Path:
    return write_tiny_pack(tmp_path_factory.mktemp("evalpack") / "tiny.h5", n_pix=N_PIX, n_per_class=16)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, eval_pack) -> Path:
    """A run folder (config.yaml, metrics.csv, best/, last/) from one epoch of real training."""
    import json

    from spectype.train import load_config, train

    out = tmp_path_factory.mktemp("run") / "run"
    cfg = load_config(None, [
        f"data={json.dumps(str(eval_pack))}", "model=cnn1d_none",
        f"model_kwargs={json.dumps(TINY_MODEL)}", "epochs=2", "batch_size=16", "lr=0.003",
        "device=cpu", f"out={json.dumps(str(out))}",
    ])
    return train(cfg, progress=False).run_dir
