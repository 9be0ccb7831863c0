"""`spectype catalog` / `build-dataset` commands and the demo steps, on generated files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spectype.cli import app
from spectype.datasets import Pack


def test_catalog_then_build_dataset(tmp_path: Path, make_spectra):
    make_spectra(tmp_path / "files")
    runner = CliRunner()
    r = runner.invoke(app, ["catalog", str(tmp_path / "files"), "-o", str(tmp_path / "c.parquet"),
                            "-j", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "status error" in r.output and (tmp_path / "c.parquet").is_file()
    r = runner.invoke(app, ["build-dataset", str(tmp_path / "c.parquet"), "-o", str(tmp_path / "d.h5"),
                            "-j", "1", "--no-progress", "--balance", "10", "--classes", "A,G"])
    assert r.exit_code == 0, r.output
    assert Pack(tmp_path / "d.h5").class_names == ["A", "G"]
    r = runner.invoke(app, ["build-dataset", str(tmp_path / "c.parquet"), "-o", str(tmp_path / "l.h5"),
                            "-j", "1", "--no-progress", "--balance", "10",
                            "--split-order", "replicate-then-split"])
    assert r.exit_code == 0, r.output
    assert "LEAKY" in r.output and Pack(tmp_path / "l.h5").leaky


def test_cli_errors_exit_nonzero(tmp_path: Path):
    runner = CliRunner()
    r = runner.invoke(app, ["build-dataset", str(tmp_path / "none.parquet"), "-o", str(tmp_path / "d.h5")])
    assert r.exit_code == 1 and "catalogue not found" in r.output
    r = runner.invoke(app, ["catalog", str(tmp_path / "missing_dir"), "-o", str(tmp_path / "c.parquet")])
    assert r.exit_code == 1 and "missing_dir" in r.output


def test_demo_steps(tmp_path: Path, make_spectra):
    from spectype.demo import run

    make_spectra(tmp_path / "data" / "lamost")
    make_spectra(tmp_path / "data" / "sdss", {"G": 3})
    ctx = run(tmp_path / "data", tmp_path / "out", workers=1)
    md = ctx.outputs["summary_md"].read_text()
    assert "| A |" in md and "| M |" in md
    assert ctx.outputs["summary_png"].stat().st_size > 10_000
    assert Pack(ctx.outputs["pack"]).class_names == ["A", "G", "M"]
    # The main job: every file classified with the shipped model, bad ones recorded.
    import pandas as pd

    res = pd.read_parquet(ctx.outputs["classified"])
    assert len(res) == 38 + 9  # one row per file in both folders, errors included
    assert {"ok", "error"} == set(res.status)
    assert ctx.outputs["confusion_png"].stat().st_size > 5_000
    assert "Agreement with the header class" in md
