"""Model side of a run: batches preprocessed spectra, predicts, turns them into rows.

Shared by the file job (`run.classify_files`), the Ray job and the in-memory API, so all three
give the same columns and the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields

import numpy as np

from .identity import ModelIdentity
from .items import Item
from .options import ClassifyOptions, ClassifySummary
from .rows import build_row


def predict_proba(model, flux: np.ndarray, batch_size: int, device: str = "cpu") -> np.ndarray:
    """Class probabilities (N, K) of model-grid flux (N, L), `batch_size` spectra at a time."""
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(flux), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(flux[i : i + batch_size])).to(device)
            out.append(torch.softmax(model(x).float(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def preprocess_config(loaded, min_coverage: float | None = None) -> dict:
    """The preprocessing a released model was trained with, as PreprocessConfig fields."""
    from ..preprocess import PreprocessConfig

    known = {f.name for f in fields(PreprocessConfig)}
    cfg = {k: v for k, v in loaded.preprocess.items() if k in known}
    if min_coverage is not None:
        cfg["min_coverage"] = float(min_coverage)
    return asdict(PreprocessConfig(**cfg))


class Classifier:
    """Feed Items in any order; rows come out through `emit(row, source_path)`.

    `waiting` names the files that still have spectra in the current batch: a writer must not
    write a part holding only some of a file's rows.
    """

    def __init__(self, loaded, identity: ModelIdentity, opts: ClassifyOptions, device: str,
                 summary: ClassifySummary, emit: Callable[[dict, str | None], None],
                 extra_for: Callable[[str | None, int], dict] | None = None, plotter=None):
        self.loaded = loaded
        self.class_names = list(loaded.class_names)
        self.model_columns = identity.columns()
        self.opts = opts
        self.device = device
        self.summary = summary
        self.emit = emit
        self.extra_for = extra_for
        self.plotter = plotter
        self.batch: list[Item] = []
        self.waiting: dict[str | None, int] = {}

    def row(self, item: Item, probs: np.ndarray | None) -> dict:
        if self.extra_for is not None and not item.extra:
            item.extra = self.extra_for(item.path, item.index)
        return build_row(item, self.class_names, probs, self.opts.low_snr, self.model_columns)

    def add(self, item: Item) -> None:
        self.summary.n_spectra += 1
        if item.excluded is not None:
            self.summary.n_excluded += 1
            self.emit(self.row(item, None), item.path)
        elif item.error is not None or item.flux is None:
            self.summary.record_error(str(item.path), item.error or "no flux")
            self.emit(self.row(item, None), item.path)
        else:
            self.batch.append(item)
            self.waiting[item.path] = self.waiting.get(item.path, 0) + 1
            if len(self.batch) >= self.opts.batch_size:
                self.run_batch()

    def run_batch(self) -> None:
        if not self.batch:
            return
        from ..models.predict import extra_columns, predict_outputs

        flux = np.stack([it.flux for it in self.batch])
        good = np.stack([np.ones(flux.shape[1], bool) if it.good is None else it.good for it in self.batch])
        out = predict_outputs(self.loaded.model, flux, good, len(self.batch), self.device)
        probs = out["proba"]
        for k, (it, p) in enumerate(zip(self.batch, probs, strict=True)):
            row = self.row(it, p)
            if row["status"] == "ok":
                row.update(extra_columns(out, k, row["pred_class"]))
            if row["status"] == "ok":
                self.summary.n_ok += 1
            else:
                self.summary.record_error(str(it.path), row["error"])
            self.emit(row, it.path)
            self.waiting[it.path] -= 1
            if not self.waiting[it.path]:
                del self.waiting[it.path]
            if self.plotter and row["status"] == "ok":
                self.plotter.maybe_plot(it, p)
        self.batch.clear()
