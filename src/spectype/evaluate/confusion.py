"""Confusion matrices: counts, row-normalised rates, CSV and a two-panel PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix as _sk_confusion

from ..atomic import atomic_path
from ..plots import save_figure


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts; rows = true class, columns = predicted class."""
    return _sk_confusion(y_true, y_pred, labels=np.arange(n_classes)).astype(np.int64)


def row_normalise(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (recall on the diagonal); empty rows stay 0."""
    cm = np.asarray(cm, dtype=np.float64)
    sums = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, sums, out=np.zeros_like(cm), where=sums > 0)


def write_confusion_csv(cm: np.ndarray, class_names: Sequence[str], path: str | os.PathLike) -> None:
    """Counts with class names as index ('true') and columns ('pred')."""
    df = pd.DataFrame(cm, index=pd.Index(class_names, name="true"), columns=list(class_names))
    with atomic_path(path) as tmp:
        df.to_csv(tmp)


def plot_confusion(
    cm: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """PNG with counts (left) and row-normalised fractions (right), values in each cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(class_names)
    size = max(3.0, 0.55 * k + 1.5)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.0, size))
    panels = ((cm, "counts", "d"), (row_normalise(cm), "row-normalised (recall)", ".2f"))
    for ax, (mat, name, fmt) in zip(axes, panels, strict=True):
        vmax = mat.max() if mat.size and mat.max() > 0 else 1
        ax.imshow(mat, cmap="Blues", vmin=0, vmax=vmax)
        for i in range(k):
            for j in range(k):
                val = mat[i, j]
                colour = "white" if val > 0.6 * vmax else "black"
                ax.text(j, i, format(val, fmt), ha="center", va="center", fontsize=8, color=colour)
        ax.set_xticks(range(k), class_names)
        ax.set_yticks(range(k), class_names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    save_figure(fig, path, dpi=120)
