"""The labels' own repeatability on stars observed more than once, beside each method's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectype.benchmark.report import repeatability


def _frame(method, preds, pred_codes):
    # star s1: two spectra, both labelled A5; s2: F9 then G0 (LAMOST disagreeing with itself);
    # s3: one spectrum, so no pair.
    return pd.DataFrame({
        "method": method, "group": ["s1", "s1", "s2", "s2", "s3"],
        "true_class": ["A", "A", "F", "G", "K"], "true_code": [25.0, 25.0, 39.0, 40.0, 50.0],
        "pred_class": preds, "pred_code": pred_codes,
    })


def test_pairs_of_one_star_score_labels_and_each_method():
    d = pd.concat([_frame("m1", ["A", "A", "G", "G", "K"], [25.0, 30.0, 44.0, 42.0, 50.0]),
                   _frame("m2", ["F", "F", "F", "F", "K"], [np.nan] * 5)])
    t = repeatability(d).set_index("predictor")
    labels = t.loc["labels (another observation's)"]
    assert (labels.stars, labels.pairs) == (2, 4)
    assert labels["class agrees"] == pytest.approx(0.5)  # s1 agrees both ways, s2 neither
    assert labels["|code diff|<=2"] == pytest.approx(1.0)  # 25 vs 25, 39 vs 40
    # m1: s1 A->A twice; s2 pred(obs1)=G vs label(obs2)=G yes, pred(obs2)=G vs label(obs1)=F no
    assert t.loc["m1", "class agrees"] == pytest.approx(0.75)
    # codes: |25-25|, |30-25| > 2, |44-40| > 2, |42-39| > 2
    assert t.loc["m1", "|code diff|<=2"] == pytest.approx(0.25)
    assert t.loc["m2", "class agrees"] == pytest.approx(0.25)  # only pred F vs label F of s2's first
    assert np.isnan(t.loc["m2", "|code diff|<=2"])  # no codes predicted
    assert list(t.index) == ["labels (another observation's)", "m1", "m2"]


def test_no_star_observed_twice_gives_an_empty_table():
    d = _frame("m1", ["A"] * 5, [25.0] * 5).assign(group=["a", "b", "c", "d", "e"])
    assert repeatability(d).empty


def test_selective_keeps_confident_answers_and_drops_flagged_ones():
    from spectype.benchmark.report import selective

    d = pd.DataFrame({
        "method": "m", "true_class": ["A", "A", "F", "G", "K"],
        "pred_class": ["A", "A", "G", "G", "M"],
        "pred_prob": [0.99, 0.92, 0.60, 0.85, 0.95],
        "ood": [False, False, False, False, True],
    })
    t = selective(d, thresholds=(0.0, 0.9)).set_index("min pred_prob")
    assert (t.loc[0.0, "n"], t.loc[0.0, "coverage"], t.loc[0.0, "accuracy"]) == (5, 1.0, pytest.approx(0.6))
    # >= 0.9 keeps rows 0, 1 (right) and 4 (wrong); dropping the flagged row 4 leaves two right
    assert (t.loc[0.9, "n"], t.loc[0.9, "accuracy"]) == (3, pytest.approx(2 / 3))
    assert (t.loc[0.9, "coverage, unflagged"], t.loc[0.9, "accuracy, unflagged"]) == (pytest.approx(0.4), 1.0)
    assert t.loc[0.0, "accuracy, unflagged"] == pytest.approx(3 / 4)
