"""Errors by spectral subtype: are misclassifications at the class boundaries?

Each row's numeric type code (O0 = 0 ... M9 = 69, NaN for carbon stars; see
`spectype.labels`) is binned to its whole subtype (A7.5 -> A7). Per bin we count rows,
accuracy and where the predictions go. Two numbers summarise the boundary question:

* the fraction of errors whose predicted class is next to the true class in O-B-A-F-G-K-M
  order (an A star called F, not M);
* the mean distance, in subtypes, from a row's code to the nearest class boundary the model
  can actually cross, for misclassified vs correctly classified rows. A boundary sits
  halfway between X9 and the next class's 0 (e.g. A/F at 29.5); only boundaries to a
  neighbouring class that the model knows count (a model without B has no B/A boundary).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..labels import code_to_subtype
from ..plots import save_figure

TEMP_ORDER = "OBAFGKM"


def _temp_index(class_names: Sequence[str]) -> np.ndarray:
    """(K,) position of each model class in O-B-A-F-G-K-M; -1 for others (C)."""
    return np.array([TEMP_ORDER.find(c) if len(c) == 1 else -1 for c in class_names])


def boundary_distance(codes: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """(N,) distance in subtypes from each code to the nearest crossable class boundary.

    codes: (N,) float type codes (NaN allowed). NaN where the code is NaN or the code's class
    has no neighbour among `class_names`.
    """
    codes = np.asarray(codes, dtype=np.float64)
    known = set(class_names)
    out = np.full(codes.shape, np.nan)
    finite = np.isfinite(codes)
    k = np.clip(np.floor(np.where(finite, codes, 0) / 10).astype(int), 0, len(TEMP_ORDER) - 1)
    for idx in np.unique(k[finite]):
        sel = finite & (k == idx)
        cands = []
        if idx > 0 and TEMP_ORDER[idx - 1] in known:
            cands.append(np.abs(codes[sel] - (10 * idx - 0.5)))
        if idx < len(TEMP_ORDER) - 1 and TEMP_ORDER[idx + 1] in known:
            cands.append(np.abs(codes[sel] - (10 * (idx + 1) - 0.5)))
        if cands:
            out[sel] = np.min(np.stack(cands), axis=0)
    return out


def errors_by_subtype(
    y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """One line per whole subtype present: subtype, code, n, n_correct, accuracy, n_errors,
    n_errors_adjacent, then `pred_<class>` counts for every model class.

    y_true, y_pred: (N,) int indices into class_names; codes: (N,) float type codes. Rows
    with NaN codes (carbon stars, unknown subtype) are left out. Sorted by code.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    codes = np.asarray(codes, dtype=np.float64)
    tidx = _temp_index(class_names)
    adjacent = (tidx[y_true] >= 0) & (tidx[y_pred] >= 0) & (np.abs(tidx[y_true] - tidx[y_pred]) == 1)
    finite = np.isfinite(codes)
    bins = np.floor(codes[finite]).astype(int)
    lines = []
    for b in np.unique(bins):
        sel = np.flatnonzero(finite)[bins == b]
        correct = y_true[sel] == y_pred[sel]
        line = {
            "subtype": code_to_subtype(float(b)),
            "code": int(b),
            "n": len(sel),
            "n_correct": int(correct.sum()),
            "accuracy": float(correct.mean()),
            "n_errors": int((~correct).sum()),
            "n_errors_adjacent": int((adjacent[sel] & ~correct).sum()),
        }
        counts = np.bincount(y_pred[sel], minlength=len(class_names))
        line.update({f"pred_{c}": int(n) for c, n in zip(class_names, counts, strict=True)})
        lines.append(line)
    columns = ["subtype", "code", "n", "n_correct", "accuracy", "n_errors", "n_errors_adjacent"]
    columns += [f"pred_{c}" for c in class_names]
    return pd.DataFrame(lines, columns=columns)


def boundary_summary(
    y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, class_names: Sequence[str]
) -> dict:
    """Adjacent-class error fraction and mean boundary distances (errors vs correct).

    Returns plain floats/ints: n_errors, n_errors_adjacent, adjacent_fraction (of all
    errors), mean_boundary_distance_errors, mean_boundary_distance_correct (over rows with a
    defined distance; nan when there are none).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    tidx = _temp_index(class_names)
    wrong = y_true != y_pred
    adjacent = (tidx[y_true] >= 0) & (tidx[y_pred] >= 0) & (np.abs(tidx[y_true] - tidx[y_pred]) == 1)
    dist = boundary_distance(codes, class_names)

    def _mean(mask: np.ndarray) -> float:
        vals = dist[mask & np.isfinite(dist)]
        return float(vals.mean()) if len(vals) else float("nan")

    n_err = int(wrong.sum())
    return {
        "n_errors": n_err,
        "n_errors_adjacent": int((wrong & adjacent).sum()),
        "adjacent_fraction": float((wrong & adjacent).sum() / n_err) if n_err else float("nan"),
        "mean_boundary_distance_errors": _mean(wrong),
        "mean_boundary_distance_correct": _mean(~wrong),
    }


def plot_errors_by_subtype(
    table: pd.DataFrame, class_names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """PNG: accuracy per subtype (top) and the predicted-class mix per subtype (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(max(6.0, 0.22 * len(table) + 2), 6), sharex=True
    )
    x = np.arange(len(table))
    if len(table):
        ax1.bar(x, table["accuracy"], color="tab:blue")
        counts = table[[f"pred_{c}" for c in class_names]].to_numpy(dtype=np.float64)
        frac = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        bottom = np.zeros(len(table))
        cmap = plt.get_cmap("tab10")
        for j, c in enumerate(class_names):
            ax2.bar(x, frac[:, j], bottom=bottom, color=cmap(j % 10), label=c)
            bottom += frac[:, j]
        # Dashed lines where the true class changes: errors piling up there are boundary errors.
        cls = table["subtype"].str[0].to_numpy()
        for pos in np.flatnonzero(cls[1:] != cls[:-1]):
            for ax in (ax1, ax2):
                ax.axvline(pos + 0.5, color="grey", ls="--", lw=0.8)
        ax2.legend(title="predicted", fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax1.set_ylabel("accuracy")
    ax1.set_ylim(0, 1.02)
    ax2.set_ylabel("fraction predicted as")
    ax2.set_ylim(0, 1.0)
    ax2.set_xticks(x, list(table["subtype"]), rotation=90, fontsize=7)
    ax2.set_xlabel("true subtype")
    if title:
        fig.suptitle(title)
    save_figure(fig, path, dpi=120)
