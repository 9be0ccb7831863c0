"""Train an MKNet on every labelled spectrum given (plus simulated library stars) and save it as a
model folder that `spectype classify` and `spectype.load_model` use.

The recipe is the benchmark's (`benchmark accuracy` scores it on held-out stars and releases);
here nothing is held out but a validation part of whole stars, for the epoch choice and the
calibration temperature.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..labels import CLASSES
from .accuracy import AccuracyConfig, _val_split, assemble
from .library import _partial

log = logging.getLogger("spectype.benchmark")


def train_release_model(paths, out: str | Path, cfg: AccuracyConfig | None = None, data_root=None,
                        progress: bool = True, say=log.info) -> Path:
    """Fit MKNet on all rows of `paths` (+ library simulations) and write the model folder."""
    import torch

    from ..evaluate.calibration import expected_calibration_error
    from ..models.release import save_model
    from ..train.mknet import _tensors, predict_heads, train_mknet

    cfg = cfg or AccuracyConfig()
    out = Path(out)
    data, skipped = assemble(paths, cfg, data_root, out.parent / (out.name + "-cache"), progress)
    trainable = np.flatnonzero(~np.char.startswith(data.release.astype(str), "native-"))
    fit_rows, val_rows = _val_split(data, trainable, cfg.val_fraction, cfg.seed)
    train, val = data.take(fit_rows), data.take(val_rows)
    say(f"training on {len(train)} spectra, validating on {len(val)} (whole stars)")
    model, history = train_mknet(train, val, cfg.mknet, progress=(lambda h: say(str(h))) if progress else None)
    metrics = {"history": history, "temperature": float(model.temperature),
               "ood_threshold": float(model.ood_threshold)}
    if len(val):
        h = predict_heads(model, _tensors(val, list(CLASSES))[0])
        p = torch.softmax(torch.from_numpy(h["logits"]), 1).numpy()
        ok = p.argmax(1) == np.array([CLASSES.index(c) for c in val.cls])
        metrics.update(val_accuracy=float(ok.mean()), val_ece=expected_calibration_error(p.max(1), ok))
    counts = {r: {c: int(n) for c, n in zip(*np.unique(train.cls[train.release == r], return_counts=True), strict=True)}
              for r in np.unique(train.release)}
    training = {"recipe": "spectype benchmark train-release", "config": asdict(cfg), "rows_by_release_and_class": counts,
                "n_train": len(train), "n_val": len(val), "n_skipped_inputs": len(skipped)}
    # Classify keeps partial coverage (the mask channel tells the model which pixels are real).
    save_model(model, out, class_names=list(CLASSES), preprocess=asdict(_partial(cfg.preprocess)), training=training,
               metrics=metrics)
    return out
