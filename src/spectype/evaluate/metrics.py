"""Accuracy and per-class precision / recall / F1 / support (the paper's Tables 5 and 6).

Thin wrappers over scikit-learn so every number matches `classification_report`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, precision_recall_fscore_support


def per_class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """One line per class: class, precision, recall, f1, support.

    y_true, y_pred: (N,) int class indices into `class_names`. Every class gets a line, also
    those absent from this split (support 0; undefined ratios are reported as 0, as sklearn's
    `zero_division=0`).
    """
    labels = np.arange(len(class_names))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {"class": list(class_names), "precision": p, "recall": r, "f1": f, "support": s}
    )


def summary_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> dict:
    """Accuracy plus macro and weighted averages, as plain floats for JSON.

    y_true, y_pred: (N,) int class indices. Returns {'n', 'accuracy', 'macro_precision',
    'macro_recall', 'macro_f1', 'weighted_f1'}; averages run over classes present in
    y_true or y_pred (sklearn's default label set).
    """
    out: dict = {"n": int(len(y_true)), "accuracy": float("nan")}
    if len(y_true) == 0:
        return out
    out["accuracy"] = float(accuracy_score(y_true, y_pred))
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, average=avg, zero_division=0
        )
        if avg == "macro":
            out.update(macro_precision=float(p), macro_recall=float(r), macro_f1=float(f))
        else:
            out["weighted_f1"] = float(f)
    return out


def report_text(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> str:
    """sklearn's `classification_report` text over all classes (4 decimals)."""
    return classification_report(
        y_true,
        y_pred,
        labels=np.arange(len(class_names)),
        target_names=list(class_names),
        digits=4,
        zero_division=0,
    )
