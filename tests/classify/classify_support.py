"""Fixtures for classify tests: a tiny model folder and a few generated LAMOST files."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectype.models import create_model
from spectype.models.release import save_model
from spectype.testing import write_lamost_table

N_PIX = 256
CLASSES = ["A", "F", "K"]
PREPROCESS = {"n_pix": N_PIX, "log10_start": 3.5682, "log10_step": 1e-4, "norm": "minmax"}


def make_model(folder: Path, seed: int = 0, classes=CLASSES) -> Path:
    import torch

    torch.manual_seed(seed)
    model = create_model("cnn1d_none", n_classes=len(classes), input_len=N_PIX, hidden=16, out_dim=8)
    return save_model(model.eval(), folder, class_names=list(classes), preprocess=dict(PREPROCESS))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="session")
def other_model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("model2") / "tiny", seed=1)


def write_spectra(d: Path, n: int = 4) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_lamost_table(d / f"t{i}.fits", n=400, OBSID=100 + i, RA=10.0 + i, DEC=-5.0 - i,
                           DESIG=f"LAMOST J0000{i}")
    return d


@pytest.fixture
def spectra(tmp_path) -> Path:
    return write_spectra(tmp_path / "in")


def opts(**kw):
    from spectype.batch import ClassifyOptions

    base = {"batch_size": 3, "workers": 1, "files_per_task": 2, "progress": False, "part_rows": 2}
    base.update(kw)
    return ClassifyOptions(**base)


def cli(*args: str):
    from typer.testing import CliRunner

    from spectype.cli import app

    result = CliRunner().invoke(app, ["classify", *map(str, args)])
    return result.exit_code, " ".join(result.output.split())
