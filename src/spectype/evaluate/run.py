"""`evaluate_model`: a trained model on one split of a pack -> metrics, plots and a report.

Artefacts in the output folder (all written atomically):
    metrics.json            accuracy, macro/weighted averages, boundary summary, provenance
    per_class.csv           class, precision, recall, f1, support (the paper's Tables 5/6)
    confusion.csv/.png      counts (CSV); counts + row-normalised (PNG)
    errors_by_subtype.csv/.png   accuracy and predicted-class mix per true subtype
    predictions.csv         pack row, id, true, predicted, code, per-class probabilities
    report.md               all of the above in one page, with the command that made it
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..atomic import atomic_path, atomic_write_text
from ..errors import ConfigError, ModelLoadError
from ..runtime import jsonable, resolve_device
from .confusion import confusion_counts, plot_confusion, write_confusion_csv
from .metrics import per_class_metrics, report_text, summary_metrics
from .report import write_eval_report
from .subtypes import boundary_summary, errors_by_subtype, plot_errors_by_subtype

log = logging.getLogger("spectype.evaluate")


@dataclass
class Predictions:
    """Model outputs for pack rows: rows (N,) pack row indices, y_true / y_pred (N,) indices
    into `class_names` (the model's), probs (N, K) softmax, codes (N,) type codes, ids (N,)."""

    rows: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray
    codes: np.ndarray
    ids: np.ndarray
    class_names: list[str]


@dataclass
class EvalResult:
    """What `evaluate_model` measured and where it wrote it."""

    out_dir: Path
    model_dir: Path
    split: str
    accuracy: float
    metrics: dict
    per_class: pd.DataFrame
    confusion: np.ndarray
    subtypes: pd.DataFrame
    predictions: Predictions
    files: dict[str, Path] = field(default_factory=dict)


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder (config.json + model.safetensors) or a run folder (uses its best/)."""
    path = Path(path)
    if (path / "config.json").is_file():
        return path
    if (path / "best" / "config.json").is_file():
        return path / "best"
    raise ModelLoadError(
        f"{path}: neither a model folder (config.json + model.safetensors) nor a run folder "
        "with best/; pass a training run folder or its best/ folder"
    )


def _class_map(pack_classes: list[str], model_classes: list[str]) -> np.ndarray:
    """(n_pack_classes,) model index for each pack class; -1 where the model lacks it."""
    return np.array([model_classes.index(c) if c in model_classes else -1 for c in pack_classes])


@torch.no_grad()
def predict_rows(
    loaded, pack_path: str | os.PathLike, rows: np.ndarray, batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> Predictions:
    """Run `loaded.model` over pack rows in batches (flux is read batch by batch, never whole).

    loaded: a `spectype.models.release.LoadedModel`. rows: (N,) pack row indices; rows whose
    class the model does not know are dropped with a ConfigError if none remain.
    """
    from ..datasets import Pack, PackDataset

    pack = Pack(pack_path)
    device = torch.device(device)
    input_len = loaded.config.get("input_len")
    if input_len is not None and int(input_len) != pack.n_pix:
        raise ConfigError(
            f"{pack.path}: spectra have {pack.n_pix} pixels but model {loaded.folder} expects "
            f"{input_len}; evaluate on a pack built with the model's preprocessing"
        )
    cmap = _class_map(pack.class_names, loaded.class_names)
    rows = np.asarray(rows, dtype=np.int64)
    keep = cmap[pack.labels[rows]] >= 0
    if not keep.all():
        unknown = sorted({pack.class_names[i] for i in pack.labels[rows[~keep]]})
        log.warning(
            "%d rows of classes %s are not among the model's classes %s and are left out",
            int((~keep).sum()), unknown, loaded.class_names,
        )
        rows = rows[keep]
    if len(rows) == 0:
        raise ConfigError(f"{pack.path}: no rows to evaluate (empty split or no shared classes)")
    ds = PackDataset(pack.path, indices=rows)
    model = loaded.model.to(device).eval()
    probs = []
    try:
        for start in range(0, len(rows), batch_size):
            flux, _ = ds.get_batch(np.arange(start, min(start + batch_size, len(rows))))
            logits = model(flux.to(device))
            probs.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
    finally:
        ds.close()
    p = np.concatenate(probs)
    return Predictions(
        rows=rows,
        y_true=cmap[pack.labels[rows]].astype(np.int64),
        y_pred=p.argmax(axis=1).astype(np.int64),
        probs=p,
        codes=pack.codes[rows].astype(np.float64),
        ids=pack.ids[rows],
        class_names=list(loaded.class_names),
    )


def evaluate_model(
    model_dir_or_run_dir: str | os.PathLike,
    data: str | os.PathLike,
    split: str = "test",
    out_dir: str | os.PathLike | None = None,
    batch_size: int = 256,
    device: str = "auto",
    indices: np.ndarray | None = None,
    command: str | None = None,
    plots: bool = True,
) -> EvalResult:
    """Evaluate a model folder (or a run folder's best/) on `split` of the pack `data`.

    indices: explicit pack rows to evaluate instead of the pack's stored split (the
    multi-seed runner passes the test rows of its re-split); `split` then only names them.
    out_dir: default `<given folder>/eval-<split>`. command: recorded in report.md
    (default: this process's command line). Returns an EvalResult; see the module docstring
    for the files.
    """
    from ..datasets import Pack
    from ..models.release import load_model

    given = Path(model_dir_or_run_dir)
    model_dir = resolve_model_dir(given)
    out = Path(out_dir) if out_dir is not None else given / f"eval-{split}"
    dev = resolve_device(device)
    loaded = load_model(model_dir, device=str(dev))
    pack = Pack(data)
    rows = pack.indices(split) if indices is None else np.asarray(indices, dtype=np.int64)
    pred = predict_rows(loaded, pack.path, rows, batch_size=batch_size, device=dev)
    names = pred.class_names

    per_class = per_class_metrics(pred.y_true, pred.y_pred, names)
    cm = confusion_counts(pred.y_true, pred.y_pred, len(names))
    subtypes = errors_by_subtype(pred.y_true, pred.y_pred, pred.codes, names)
    metrics = summary_metrics(pred.y_true, pred.y_pred, names)
    metrics["boundary"] = boundary_summary(pred.y_true, pred.y_pred, pred.codes, names)
    metrics.update(
        split=split,
        explicit_indices=indices is not None,
        class_names=names,
        model_dir=str(model_dir),
        arch=loaded.config.get("arch", {}).get("name"),
        data=str(pack.path),
        leaky=pack.leaky,
        n_unique_rows=int(len(np.unique(pred.rows))),
    )
    command = command or " ".join(shlex.quote(a) for a in sys.argv)

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "metrics": out / "metrics.json",
        "per_class": out / "per_class.csv",
        "confusion_csv": out / "confusion.csv",
        "subtypes_csv": out / "errors_by_subtype.csv",
        "predictions": out / "predictions.csv",
        "report": out / "report.md",
    }
    atomic_write_text(files["metrics"], json.dumps(jsonable(metrics), indent=2))
    with atomic_path(files["per_class"]) as tmp:
        per_class.to_csv(tmp, index=False)
    write_confusion_csv(cm, names, files["confusion_csv"])
    with atomic_path(files["subtypes_csv"]) as tmp:
        subtypes.to_csv(tmp, index=False)
    pred_df = pd.DataFrame(
        {"row": pred.rows, "id": pred.ids, "true": [names[i] for i in pred.y_true],
         "pred": [names[i] for i in pred.y_pred], "code": pred.codes}
    )
    for j, c in enumerate(names):
        pred_df[f"p_{c}"] = pred.probs[:, j]
    with atomic_path(files["predictions"]) as tmp:
        pred_df.to_csv(tmp, index=False)
    if plots:
        files["confusion_png"] = out / "confusion.png"
        files["subtypes_png"] = out / "errors_by_subtype.png"
        title = f"{metrics['arch']} on {pack.path.name} [{split}]"
        plot_confusion(cm, names, files["confusion_png"], title=title)
        plot_errors_by_subtype(subtypes, names, files["subtypes_png"], title=title)
    write_eval_report(
        files["report"], metrics=metrics, per_class=per_class, confusion=cm, class_names=names,
        subtypes=subtypes, sklearn_report=report_text(pred.y_true, pred.y_pred, names),
        command=command, plots=plots,
    )
    return EvalResult(
        out_dir=out, model_dir=model_dir, split=split, accuracy=metrics["accuracy"],
        metrics=metrics, per_class=per_class, confusion=cm, subtypes=subtypes,
        predictions=pred, files=files,
    )

