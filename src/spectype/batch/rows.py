"""One result row per spectrum: the only place the output table's columns are made.

docs/outputs.md lists every column; keep the two in step. New columns (subtype, luminosity
class, calibrated probabilities ...) go in `build_row` and nowhere else.
"""

from __future__ import annotations

import numpy as np

from .items import Item
from .paths import display_text, path_hex

# Header classes that mean "this is not a star" (LAMOST/SDSS CLASS card).
NON_STELLAR_CLASSES = {"QSO", "GALAXY", "UNKNOWN", "SKY"}
RESULT_KEY = ["path", "index"]
STATUSES = ("ok", "error", "excluded")


def _text(value) -> str | None:
    return None if value is None else display_text(str(value))


def build_row(item: Item, class_names: list[str], probs: np.ndarray | None, low_snr: float,
              model_columns: dict) -> dict:
    """The output row of one spectrum. `probs` is None when it was not classified."""
    snr = item.snr_i if np.isfinite(item.snr_i) else item.snr_g
    error = item.error
    if probs is not None and not np.all(np.isfinite(probs)):
        error, probs = f"{item.path}: the model gave non-finite probabilities", None
    row = {
        "path": _text(item.path),
        "path_hex": None if item.path is None else path_hex(item.path),
        "index": int(item.index),
        "id": _text(item.id),
        "obsid": _text(item.obsid),
        "designation": _text(item.designation),
        "ra": float(item.ra),
        "dec": float(item.dec),
        "survey": _text(item.survey),
        "header_class": _text(item.obj_class),
        "header_subclass": _text(item.header_subclass),
        "pred_class": None,
        "pred_prob": np.nan,
        "runner_up": None,
        "runner_up_prob": np.nan,
        # Multitask models (MKNet) fill these in the engine; one schema for every model.
        "pred_code": np.nan,
        "pred_code_err": np.nan,
        "pred_subtype": None,
        "pred_lum_class": None,
        "flag_unlike_training": False,
    }
    for c in class_names:
        row[f"prob_{c}"] = np.nan
    if probs is not None:
        order = np.argsort(probs)[::-1]
        row.update(
            pred_class=class_names[order[0]],
            pred_prob=float(probs[order[0]]),
            runner_up=class_names[order[1]] if len(order) > 1 else None,
            runner_up_prob=float(probs[order[1]]) if len(order) > 1 else np.nan,
        )
        for c, p in zip(class_names, probs, strict=True):
            row[f"prob_{c}"] = float(p)
    if item.excluded is not None:
        status = "excluded"
    elif error is not None or probs is None:
        status = "error"
    else:
        status = "ok"
    row.update(
        snr=float(snr),
        z=float(item.z),
        coverage=float(item.coverage),
        flag_low_snr=bool(np.isfinite(snr) and snr < low_snr),
        flag_window_not_covered=bool(item.window_not_covered),
        flag_non_stellar_header=bool(
            item.obj_class is not None and str(item.obj_class).strip().upper() in NON_STELLAR_CLASSES
        ),
        status=status,
        error=_text(item.excluded if status == "excluded" else error),
    )
    row.update(model_columns)
    for k, v in item.extra.items():  # catalogue columns, renamed by the caller on a clash
        row[k] = _text(v) if isinstance(v, str) else v
    return row
