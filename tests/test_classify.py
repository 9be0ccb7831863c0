"""classify: rows per spectrum, bad files recorded, flags, resumable without loss or duplicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectype.batch import ClassifyOptions, classify_files
from spectype.models import create_model
from spectype.models.release import save_model
from spectype.testing import write_lamost_image, write_lamost_table

N_PIX = 256
CLASSES = ["A", "F", "K"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    import torch

    torch.manual_seed(0)
    model = create_model("cnn1d_none", n_classes=len(CLASSES), input_len=N_PIX, hidden=16, out_dim=8)
    folder = tmp_path_factory.mktemp("model") / "tiny"
    preprocess = {"n_pix": N_PIX, "log10_start": 3.5682, "log10_step": 1e-4, "norm": "minmax"}
    return save_model(model.eval(), folder, class_names=CLASSES, preprocess=preprocess)


@pytest.fixture
def spectra_dir(tmp_path) -> Path:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    for i in range(5):
        write_lamost_table(d / f"t{i}.fits.gz", n=400, gz=True, OBSID=100 + i, SNRI=5.0 + 10 * i)
    write_lamost_image(d / "sub" / "img.fits", n=400, OBSID=200)
    write_lamost_table(d / "qso.fits", n=400, OBSID=300, CLASS="QSO")
    write_lamost_table(d / "short.fits", n=100, OBSID=400)  # does not cover the window
    (d / "broken.fits").write_bytes(b"SIMPLE  =                    T" + b"\x00" * 100)
    (d / "empty.fits.gz").write_bytes(b"")
    return d


def _opts(**kw) -> ClassifyOptions:
    base = {"batch_size": 3, "workers": 1, "files_per_task": 2, "progress": False, "part_rows": 2}
    base.update(kw)
    return ClassifyOptions(**base)


def test_every_spectrum_gets_a_row_and_bad_files_are_recorded(spectra_dir, model_dir, tmp_path):
    out = tmp_path / "res.parquet"
    summary = classify_files([spectra_dir], out, model=model_dir, options=_opts())
    df = pd.read_parquet(out)
    assert len(df) == 10 and summary.n_files == 10
    assert df.duplicated(["path", "index"]).sum() == 0
    ok = df[df.status == "ok"]
    assert len(ok) == 7 and summary.n_ok == 7 and summary.n_errors == 3
    probs = ok[[f"prob_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (ok.pred_prob.to_numpy() == probs.max(axis=1)).all()
    assert set(ok.pred_class) <= set(CLASSES) and (ok.runner_up != ok.pred_class).all()
    errors = df[df.status == "error"].set_index(df[df.status == "error"].path.map(lambda p: Path(p).name))
    assert "empty" in errors.loc["empty.fits.gz", "error"] and "empty.fits.gz" in errors.loc["empty.fits.gz", "error"]
    assert "broken.fits" in errors.loc["broken.fits", "error"]
    assert bool(errors.loc["short.fits", "flag_window_not_covered"])
    by_name = df.set_index(df.path.map(lambda p: Path(p).name))
    assert bool(by_name.loc["qso.fits", "flag_non_stellar_header"])
    assert bool(by_name.loc["t0.fits.gz", "flag_low_snr"]) and not bool(by_name.loc["t4.fits.gz", "flag_low_snr"])
    assert not (out.parent / "res.parquet.parts").exists()


def test_parallel_readers_give_the_same_rows(spectra_dir, model_dir, tmp_path):
    a = classify_files([spectra_dir], tmp_path / "a.parquet", model=model_dir, options=_opts())
    b = classify_files([spectra_dir], tmp_path / "b.csv", model=model_dir, options=_opts(workers=2))
    assert a.n_ok == b.n_ok
    da = pd.read_parquet(tmp_path / "a.parquet").sort_values(["path", "index"]).reset_index(drop=True)
    db = pd.read_csv(tmp_path / "b.csv").sort_values(["path", "index"]).reset_index(drop=True)
    np.testing.assert_allclose(da.prob_A.to_numpy(), db.prob_A.to_numpy(), rtol=1e-5, equal_nan=True)
    assert list(da.status) == list(db.status)


def test_killed_run_resumes_without_loss_or_duplicates(spectra_dir, model_dir, tmp_path, monkeypatch):
    full = tmp_path / "full.parquet"
    classify_files([spectra_dir], full, model=model_dir, options=_opts())

    out = tmp_path / "res.parquet"
    import spectype.batch.items as mod

    real = mod.read_and_preprocess
    calls = {"n": 0}

    def dies_on_third_task(args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # what a Ctrl-C / kill mid-run looks like to the loop
        return real(args)

    monkeypatch.setattr(mod, "read_and_preprocess", dies_on_third_task)
    with pytest.raises(KeyboardInterrupt):
        classify_files([spectra_dir], out, model=model_dir, options=_opts())
    parts = list((tmp_path / "res.parquet.parts").glob("part-*.parquet"))
    assert parts and not out.exists()  # complete parts only, no final file yet
    done_before = sum(len(pd.read_parquet(p)) for p in parts)

    monkeypatch.setattr(mod, "read_and_preprocess", real)
    summary = classify_files([spectra_dir], out, model=model_dir, options=_opts())
    assert summary.n_skipped > 0 and summary.n_spectra == 10 - done_before
    got = pd.read_parquet(out).sort_values(["path", "index"]).reset_index(drop=True)
    want = pd.read_parquet(full).sort_values(["path", "index"]).reset_index(drop=True)
    assert len(got) == len(want) == 10
    pd.testing.assert_series_equal(got.pred_class, want.pred_class)

    # Running again on a finished output classifies nothing and changes nothing.
    again = classify_files([spectra_dir], out, model=model_dir, options=_opts())
    assert again.n_spectra == 0 and again.n_skipped == 10
    assert len(pd.read_parquet(out)) == 10


def test_catalogue_input_and_plots(spectra_dir, model_dir, tmp_path):
    files = sorted(str(p) for p in spectra_dir.glob("t*.fits.gz"))
    cat = tmp_path / "cat.parquet"
    pd.DataFrame({"path": files, "index": 0}).to_parquet(cat)
    out = tmp_path / "res.csv"
    summary = classify_files([cat], out, model=model_dir, options=_opts(plot=2))
    assert summary.n_ok == len(files)
    assert sorted(pd.read_csv(out).path) == files
    pngs = sorted((tmp_path / "res_plots").glob("*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 1000 for p in pngs)


def test_cli_classify(spectra_dir, model_dir, tmp_path):
    from typer.testing import CliRunner

    from spectype.cli import app

    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(
        app, ["classify", str(spectra_dir), "-o", str(out), "--model", str(model_dir), "--workers", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "classified 7 spectra from 10 files (3 errors" in " ".join(result.output.split())
    assert len(pd.read_parquet(out)) == 10
    bad = CliRunner().invoke(app, ["classify", str(spectra_dir), "-o", str(out), "--model", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "model folder not found" in " ".join(bad.output.split())
