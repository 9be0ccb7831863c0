import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import classification_report

from spectype.evaluate.confusion import (
    confusion_counts,
    plot_confusion,
    row_normalise,
    write_confusion_csv,
)
from spectype.evaluate.metrics import per_class_metrics, summary_metrics
from spectype.evaluate.subtypes import (
    boundary_distance,
    boundary_summary,
    errors_by_subtype,
    plot_errors_by_subtype,
)

NAMES = ["A", "F", "G", "K"]


def test_per_class_matches_classification_report():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 60)  # class K absent from the split
    y_pred = np.where(rng.random(60) < 0.7, y_true, rng.integers(0, 4, 60))
    pc = per_class_metrics(y_true, y_pred, NAMES)
    rep = classification_report(y_true, y_pred, labels=range(4), target_names=NAMES,
                                output_dict=True, zero_division=0)
    for line in pc.itertuples():
        assert line.precision == pytest.approx(rep[line._1]["precision"])
        assert line.recall == pytest.approx(rep[line._1]["recall"])
        assert line.f1 == pytest.approx(rep[line._1]["f1-score"])
        assert line.support == rep[line._1]["support"]
    assert pc.set_index("class").loc["K", "support"] == 0
    s = summary_metrics(y_true, y_pred, NAMES)
    assert s["accuracy"] == pytest.approx(np.mean(y_true == y_pred))
    assert s["n"] == 60


def test_confusion_counts_and_files(tmp_path):
    cm = confusion_counts(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 4)
    assert cm.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    rn = row_normalise(cm)
    assert rn[0].tolist() == [0.5, 0.5, 0, 0] and rn[3].sum() == 0
    write_confusion_csv(cm, NAMES, tmp_path / "cm.csv")
    back = pd.read_csv(tmp_path / "cm.csv", index_col=0)
    assert list(back.columns) == NAMES and back.to_numpy().tolist() == cm.tolist()
    plot_confusion(cm, NAMES, tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_boundary_distance_only_crossable_boundaries():
    # A5 (25): no B in the model, so only the A/F boundary at 29.5 counts -> 4.5.
    # F0 (30): A/F boundary 29.5 -> 0.5. K9 (59): no M, K/G boundary at 49.5 -> 9.5.
    d = boundary_distance(np.array([25.0, 30.0, 59.0, np.nan]), NAMES)
    assert d[:3].tolist() == [4.5, 0.5, 9.5] and math.isnan(d[3])
    assert math.isnan(boundary_distance(np.array([25.0]), ["A"])[0])


def test_errors_by_subtype_and_boundary_summary(tmp_path):
    #            A9->F (adjacent)  A5 ok  A5.5 ok  K0->A (far)  G2 ok  carbon-like NaN
    codes = np.array([29.0, 25.0, 25.5, 50.0, 42.0, np.nan])
    y_true = np.array([0, 0, 0, 3, 2, 2])
    y_pred = np.array([1, 0, 0, 0, 2, 1])
    table = errors_by_subtype(y_true, y_pred, codes, NAMES)
    assert table["subtype"].tolist() == ["A5", "A9", "G2", "K0"]
    a5 = table.set_index("subtype").loc["A5"]
    assert a5["n"] == 2 and a5["accuracy"] == 1.0 and a5["pred_A"] == 2
    a9 = table.set_index("subtype").loc["A9"]
    assert a9["n_errors"] == 1 and a9["n_errors_adjacent"] == 1 and a9["pred_F"] == 1
    k0 = table.set_index("subtype").loc["K0"]
    assert k0["n_errors_adjacent"] == 0 and k0["pred_A"] == 1

    s = boundary_summary(y_true, y_pred, codes, NAMES)
    # Errors: A9->F (adjacent), K0->A (not), G(NaN code)->F (adjacent).
    assert s["n_errors"] == 3 and s["n_errors_adjacent"] == 2
    assert s["adjacent_fraction"] == pytest.approx(2 / 3)
    # Distances: errors A9 0.5 and K0 0.5 (K/G at 49.5); correct A5 4.5, A5.5 4.0, G2 2.5.
    assert s["mean_boundary_distance_errors"] == pytest.approx(0.5)
    assert s["mean_boundary_distance_correct"] == pytest.approx((4.5 + 4.0 + 2.5) / 3)

    plot_errors_by_subtype(table, NAMES, tmp_path / "sub.png")
    assert (tmp_path / "sub.png").stat().st_size > 1000
