"""Markdown reports: a small table formatter and the one-page evaluation report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text


def _cell(v, floatfmt: str) -> str:
    if isinstance(v, float | np.floating):
        return "" if np.isnan(v) else format(float(v), floatfmt)
    return _escape(v)


def _escape(v) -> str:
    # A literal "|" (a column named "|code err|<=2") would split the cell in two.
    return str(v).replace("|", "\\|")


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4f", index: bool = False) -> str:
    """A GitHub-flavoured Markdown table of `df` (no tabulate dependency)."""
    if index:
        df = df.reset_index()
    header = "| " + " | ".join(_escape(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_cell(v, floatfmt) for v in row) + " |"
        for row in df.itertuples(index=False, name=None)
    ]
    return "\n".join([header, rule, *body])


def _fmt(v, spec: str = ".4f") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return format(v, spec)


def write_eval_report(
    path: str | os.PathLike,
    *,
    metrics: dict,
    per_class: pd.DataFrame,
    confusion: np.ndarray,
    class_names: Sequence[str],
    subtypes: pd.DataFrame,
    sklearn_report: str,
    command: str,
    plots: bool = True,
) -> None:
    """report.md for one evaluation: headline numbers, Tables 5/6-style per-class metrics,
    confusion matrix, boundary analysis and errors by subtype."""
    b = metrics.get("boundary", {})
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Evaluation: {metrics.get('arch')} on {metrics.get('split')}",
        "",
        f"- model: `{metrics.get('model_dir')}`",
        f"- data: `{metrics.get('data')}` (split `{metrics.get('split')}`, {metrics.get('n')} rows, "
        f"{metrics.get('n_unique_rows')} unique)",
        f"- command: `{command}`",
        f"- written: {when}",
        "",
    ]
    if metrics.get("leaky"):
        lines += [
            "> **Leaky pack**: built replicate-then-split, so copies of training spectra sit in "
            "this split and the accuracy overstates generalisation.",
            "",
        ]
    lines += [
        "## Summary",
        "",
        f"- accuracy: **{_fmt(metrics.get('accuracy'))}**",
        f"- macro precision / recall / F1: {_fmt(metrics.get('macro_precision'))} / "
        f"{_fmt(metrics.get('macro_recall'))} / {_fmt(metrics.get('macro_f1'))}",
        f"- weighted F1: {_fmt(metrics.get('weighted_f1'))}",
        "",
        "## Per class (precision, recall, F1, support)",
        "",
        markdown_table(per_class),
        "",
        "```",
        sklearn_report.rstrip(),
        "```",
        "",
        "## Confusion matrix (rows: true, columns: predicted)",
        "",
        markdown_table(pd.DataFrame(confusion, index=pd.Index(class_names, name="true"),
                                    columns=list(class_names)), index=True),
        "",
    ]
    if plots:
        lines += ["![confusion matrix](confusion.png)", ""]
    lines += [
        "## Are errors at class boundaries?",
        "",
        f"- errors: {b.get('n_errors')}, of which predicted as an adjacent class in O-B-A-F-G-K-M "
        f"order: {b.get('n_errors_adjacent')} ({_fmt(b.get('adjacent_fraction'), '.1%')})",
        f"- mean distance to the nearest crossable class boundary, in subtypes: misclassified "
        f"{_fmt(b.get('mean_boundary_distance_errors'), '.2f')}, correct "
        f"{_fmt(b.get('mean_boundary_distance_correct'), '.2f')} (boundaries sit halfway "
        "between X9 and the next class's 0)",
        "",
        "## Errors by subtype",
        "",
    ]
    if len(subtypes):
        lines += [markdown_table(subtypes, floatfmt=".3f"), ""]
        if plots:
            lines += ["![errors by subtype](errors_by_subtype.png)", ""]
    else:
        lines += ["No rows with a numeric subtype code.", ""]
    atomic_write_text(path, "\n".join(lines))
