"""Is a probability of 0.9 right 90 % of the time? Expected calibration error and reliability."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def reliability_table(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> pd.DataFrame:
    """Equal-width confidence bins over [0, 1]: count, mean confidence and accuracy per bin."""
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, bool)
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    rows = []
    for i in range(n_bins):
        sel = b == i
        rows.append({
            "lo": edges[i], "hi": edges[i + 1], "n": int(sel.sum()),
            "confidence": float(confidence[sel].mean()) if sel.any() else np.nan,
            "accuracy": float(correct[sel].mean()) if sel.any() else np.nan,
        })
    return pd.DataFrame(rows)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """ECE = sum over bins of (n_b / N) |accuracy_b - confidence_b| (Guo et al. 2017)."""
    t = reliability_table(confidence, correct, n_bins)
    t = t[t.n > 0]
    if t.empty:
        return float("nan")
    return float((t.n * (t.accuracy - t.confidence).abs()).sum() / t.n.sum())


def plot_reliability(tables: dict[str, pd.DataFrame], path: str | os.PathLike, title: str = "") -> None:
    """One reliability curve per method (accuracy against mean confidence), with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import save_figure

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfectly calibrated")
    for name, t in tables.items():
        t = t[t.n > 0]
        ax.plot(t.confidence, t.accuracy, marker="o", ms=3, label=name)
    ax.set_xlabel("confidence (predicted probability of the chosen class)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    save_figure(fig, path)
