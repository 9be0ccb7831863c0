"""Reports of runs over part of the splits, and one report merged from several runs."""

from __future__ import annotations

import pandas as pd
import pytest

from spectype.benchmark.accuracy import AccuracyConfig, run_accuracy
from spectype.benchmark.report import merge_runs
from spectype.errors import ConfigError

from .test_mknet_options import _set


def _run(tmp_path, monkeypatch, name, splits):
    import spectype.benchmark.accuracy as acc

    d = _set(10, 0)
    d.release[1::2] = "DR8"  # two releases with every class, so there are cross-release splits
    monkeypatch.setattr(acc, "load_labelled", lambda *a, **k: (d, []))
    cfg = AccuracyConfig(folds=2, min_release=5, methods=("logreg",), libraries=(), native=(), splits=splits)
    return run_accuracy(["unused"], tmp_path / name, cfg, progress=False)


def test_cross_release_only_run_reports_and_merges_with_heldout(tmp_path, monkeypatch):
    x = _run(tmp_path, monkeypatch, "x", ("xrel",))
    assert "heldout real" not in x["accuracy"] and "cross-release all" in x["accuracy"]
    assert "Cross-release real spectra" in (tmp_path / "x" / "summary.md").read_text()
    # the confident-answer table of each split kind under its own name, never the other's
    assert "selective_cross_release" in x and "selective_held_out" not in x
    _run(tmp_path, monkeypatch, "h", ("heldout",))
    merged = merge_runs([tmp_path / "h", tmp_path / "x"], tmp_path / "all")
    assert {"heldout real", "cross-release all"} <= set(merged["accuracy"])
    assert {"selective_held_out", "selective_cross_release"} <= set(merged)
    pred = pd.read_parquet(tmp_path / "all" / "predictions.parquet")
    assert set(pred.split) == {"heldout", "xrel"} and not pred.duplicated(["fold", "method", "row"]).any()
    # merging a run with itself keeps one prediction per (split, method, row)
    again = merge_runs([tmp_path / "h", tmp_path / "h"], tmp_path / "hh")
    assert again["accuracy"] == merge_runs([tmp_path / "h"], tmp_path / "h1")["accuracy"]
    with pytest.raises(ConfigError, match="no predictions.parquet"):
        merge_runs([tmp_path / "nope"], tmp_path / "z")
