"""Evaluation: metrics (sklearn), confusion matrices, errors by subtype, significance, reports.

`evaluate_model(model_or_run_dir, data, split)` writes every artefact; the pieces are usable
on their own for any (y_true, y_pred).
"""

from .confusion import confusion_counts, plot_confusion, row_normalise, write_confusion_csv
from .metrics import per_class_metrics, report_text, summary_metrics
from .significance import cohens_d, compare_rows, runs_for_power, welch_p
from .subtypes import boundary_distance, boundary_summary, errors_by_subtype

__all__ = [
    "EvalResult", "boundary_distance", "boundary_summary", "cohens_d", "compare_rows",
    "confusion_counts", "errors_by_subtype", "evaluate_model", "per_class_metrics",
    "plot_confusion", "report_text", "row_normalise", "runs_for_power", "summary_metrics",
    "welch_p", "write_confusion_csv",
]


def __getattr__(name: str):
    # evaluate_model pulls in torch and the model zoo; import it only when asked for.
    if name in ("evaluate_model", "EvalResult"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
