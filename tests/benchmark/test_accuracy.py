"""The accuracy benchmark: star grouping, splits without leaks, methods, report, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from spectype.benchmark.accuracy import AccuracyConfig, plan_splits, run_accuracy
from spectype.benchmark.data import LabelledSet, from_rows, load_labelled, star_groups
from spectype.benchmark.report import subtype_agreement
from spectype.evaluate.calibration import expected_calibration_error
from spectype.preprocess import PreprocessConfig
from spectype.testing import write_lamost_table
from spectype.train.mknet import MKNetConfig, fit_temperature

L = 3700
CODES = {"A": 25.0, "F": 35.0, "G": 42.0, "K": 53.0}


def _flux(cls: str, rng, n: int = L) -> np.ndarray:
    """A smooth continuum with one class-specific absorption line and noise."""
    x = np.arange(n)
    centre = {"A": 600, "F": 1400, "G": 2200, "K": 3000}[cls]
    f = 1.0 - 0.5 * np.exp(-0.5 * ((x - centre) / 15.0) ** 2)
    return (f + rng.normal(0, 0.02, n)).astype(np.float32)


def _rows(n_per_class: int, release: str, seed: int, stars_per_class: int | None = None) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for cls, code in CODES.items():
        for i in range(n_per_class):
            star = i if stars_per_class is None else i % stars_per_class
            rows.append({
                "path": f"{release}/{cls}{i}.fits", "index": 0, "flux": _flux(cls, rng), "good": np.ones(L, bool),
                "ivar": np.full(L, 2500.0, np.float32), "cls": cls, "code": code, "lum": "V",
                "snr": float(rng.uniform(5, 100)), "release": release, "name": f"DESIG:{release}{cls}{star}",
                "ra": np.nan, "dec": np.nan, "survey": "LAMOST",
            })
    return rows


def _set() -> LabelledSet:
    # 52 spectra per release: releases under MIN_RELEASE_SIZE (50) would be pooled
    return from_rows(_rows(13, "DR10", 0, stars_per_class=9) + _rows(13, "DR8", 1), L)


def test_star_groups_by_name_and_position():
    names = ["DESIG:a", "", "DESIG:a", "", ""]
    ra = np.array([10.0, 10.0 + 1.0 / 3600, np.nan, 50.0, np.nan])
    dec = np.array([0.0, 0.0, np.nan, 0.0, np.nan])
    g = star_groups(names, ra, dec, [f"row{i}" for i in range(5)])
    assert g[0] == g[1] == g[2] == "DESIG:a"  # same name, and row 1 within 3" of row 0
    assert len({g[0], g[3], g[4]}) == 3
    # 4" apart is another star
    g2 = star_groups(["", ""], np.array([10.0, 10.0 + 4.0 / 3600]), np.zeros(2), ["x", "y"])
    assert g2[0] != g2[1]


def test_small_releases_pool_but_a_single_survey_release_keeps_its_name():
    rows = _rows(20, "DR10", 0) + _rows(1, "DR6", 1) + _rows(1, "DR9", 2)
    sdss = _rows(1, "SDSS", 3)
    for r in sdss:
        r["survey"] = "SDSS"
    d = from_rows(rows + sdss, L)
    assert set(d.release) == {"DR10", "LAMOST-other", "SDSS"}


def test_splits_never_put_one_star_in_train_and_test():
    d = _set()
    cfg = AccuracyConfig(folds=3, min_release=5)  # both releases (52 each) alone
    splits = plan_splits(d, cfg)
    names = [s[0] for s in splits]
    assert names[:3] == ["heldout/0", "heldout/1", "heldout/2"]
    assert "xrel/DR10" in names and "xrel/DR8" in names
    held = np.concatenate([te for n, _, te in splits if n.startswith("heldout")])
    assert sorted(held) == list(range(len(d)))  # every row predicted exactly once
    for _, tr, te in splits:
        assert not set(d.group[tr]) & set(d.group[te])
    x = dict((n, (tr, te)) for n, tr, te in splits)["xrel/DR10"]
    assert set(d.release[x[1]]) == {"DR10"} and "DR10" not in set(d.release[x[0]])


def test_run_accuracy_end_to_end(tmp_path):
    d = _set()
    d.save(tmp_path / "set.npz")
    import spectype.benchmark.accuracy as acc

    cfg = AccuracyConfig(folds=2, min_release=5, methods=("logreg", "mknet", "pca_svm", "ensemble"),
                         libraries=(), native=(),
                         mknet=MKNetConfig(epochs=2, model_kwargs={"channels": (4, 8), "kernels": (5, 3),
                                                                   "pool_strides": (8, 8), "hidden": 16}))
    orig = acc.load_labelled
    acc.load_labelled = lambda *a, **k: (LabelledSet.load(tmp_path / "set.npz"), [])
    try:
        summary = run_accuracy(["unused"], tmp_path / "out", cfg, progress=False)
    finally:
        acc.load_labelled = orig
    pred = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    assert set(pred.method) == {"logreg", "mknet", "pca_svm", "ensemble"}
    held = pred[(pred.split == "heldout") & (pred.method == "logreg")]
    assert len(held) == len(d) and held.row.is_unique
    # the class lines are distinct and clean: the linear baseline must find them
    assert summary["methods"]["logreg"]["heldout_real"] > 0.9
    assert np.isfinite(pred[pred.method == "mknet"].pred_code).all()
    text = (tmp_path / "out" / "summary.md").read_text()
    for part in ("Accuracy by method", "per class", "per subtype", "per SNR bin", "ECE"):
        assert part in text
    assert (tmp_path / "out" / "reliability.png").stat().st_size > 0
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["accuracy"]


def test_load_labelled_reads_files_labels_and_groups(tmp_path):
    for i, (sub, desig) in enumerate([("G2", "J1"), ("G2", "J1"), ("A0", "J2"), ("Non", "J3")]):
        write_lamost_table(tmp_path / f"s{i}.fits", n=3800, SUBCLASS=sub, DESIG=desig, OBSID=i)
    (tmp_path / "junk.fits").write_bytes(b"not fits")
    d, skipped = load_labelled([tmp_path], PreprocessConfig(norm="robust"), workers=1, progress=False)
    assert sorted(d.cls) == ["A", "G", "G"]
    assert d.group[d.cls == "G"][0] == d.group[d.cls == "G"][1] != d.group[d.cls == "A"][0]
    assert {p.split("/")[-1] for p, _ in skipped} == {"s3.fits", "junk.fits"}
    # a catalogue's label column overrides the header type
    pd.DataFrame({"path": [str(tmp_path / "s0.fits")], "label": ["K3III"]}).to_csv(tmp_path / "cat.csv", index=False)
    d2, _ = load_labelled([tmp_path / "cat.csv"], PreprocessConfig(norm="robust"), workers=1, progress=False)
    assert list(d2.cls) == ["K"] and d2.code[0] == 53 and d2.lum[0] == "III"


def test_load_labelled_with_worker_processes_matches_one_process_and_caches_atomically(tmp_path):
    """Reading goes through parallel.map_files: two workers give the same set, in order, and a
    task that raises costs that file one skipped row; the cache is written whole and reused."""
    from spectype.benchmark.data import ReadLabelled

    for i, sub in enumerate(["G2", "A0", "F5"]):
        write_lamost_table(tmp_path / f"s{i}.fits", n=3800, SUBCLASS=sub, DESIG=f"J{i}", OBSID=i)
    (tmp_path / "junk.fits").write_bytes(b"not fits")
    cfg = PreprocessConfig(norm="robust")
    one, skip1 = load_labelled([tmp_path], cfg, workers=1, progress=False)
    two, skip2 = load_labelled([tmp_path], cfg, workers=2, progress=False, cache_dir=tmp_path / "c")
    assert list(one.cls) == list(two.cls) == ["G", "A", "F"] and skip1 == skip2
    np.testing.assert_array_equal(one.flux, two.flux)
    names = sorted(f.name for f in (tmp_path / "c").iterdir())  # the two cache files, no temporaries
    assert len(names) == 2 and names[0].endswith(".npz") and names[1].endswith(".skipped.json")
    again, skip3 = load_labelled([tmp_path], cfg, workers=2, progress=False, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(again.flux, two.flux)
    assert skip3 == skip2
    assert ReadLabelled({}).failed(("x.fits", None, None), "worker died") == [{"path": "x.fits", "skip": "worker died"}]


def test_calibration_and_subtype_metrics():
    conf = np.array([0.9] * 10)
    correct = np.array([True] * 9 + [False])
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(10, 0.99), correct) == pytest.approx(0.09)
    df = pd.DataFrame({"true_code": [40.0, 40.0, 40.0, np.nan], "pred_code": [41.0, 42.5, 40.0, 3.0]})
    s = subtype_agreement(df)
    assert s["n"] == 3 and s["within1"] == pytest.approx(2 / 3) and s["within2"] == pytest.approx(2 / 3)


def test_temperature_scaling_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3))
    right = rng.random(600) < 0.7
    logits[np.arange(600), np.where(right, y, (y + 1) % 3)] += 6.0  # 70 % right, ~99 % confident
    t = fit_temperature(logits, y)
    assert t > 2.0
    p = np.exp(logits / t) / np.exp(logits / t).sum(1, keepdims=True)
    ece_after = expected_calibration_error(p.max(1), p.argmax(1) == y)
    p0 = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert ece_after < expected_calibration_error(p0.max(1), p0.argmax(1) == y) / 3


def test_cli_accuracy_help():
    from spectype.cli import app

    r = CliRunner().invoke(app, ["benchmark", "accuracy", "-h"])
    assert r.exit_code == 0 and "cross-release" in r.output


def test_small_releases_are_left_out_together():
    d = _set()
    splits = dict((n, (tr, te)) for n, tr, te in plan_splits(d, AccuracyConfig(folds=2, min_release=60)))
    assert "xrel/DR10+DR8" in splits and "xrel/DR10" not in splits
    tr, te = splits["xrel/DR10+DR8"]
    assert len(te) == len(d) and len(tr) == 0
