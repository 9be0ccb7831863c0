"""Train and test the RAC-Net recogniser of one (arm, seed) through `spectype.train.engine`.

An arm's training rows mix simulations with GAN samples that exist only in memory, so each run
writes them, with the held-out test rows, into a throwaway pack and trains on it with
`train.engine.train`. The engine wants a validation split; it gets the test rows, but only as a
monitor in metrics.csv: the model tested is the one after the LAST epoch (`TrainResult.model`),
never the engine's best-on-val copy, so no test information picks the model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import confusion_matrix


def fit_recogniser(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    lr: float,
    widths=(16, 32, 64, 128),
    blocks=(2, 2, 2, 2),
    wavelength: np.ndarray | None = None,
    device: str = "cpu",
    history_csv: Path | None = None,
) -> torch.nn.Module:
    """RAC-Net trained by the engine on x (N, L) L2-normalised flux, y (N,) int labels (rows
    already balanced). Returns the last-epoch model; `history_csv` keeps the engine's metrics.

    Inputs are scaled by sqrt(L) so unit-norm spectra reach the first conv at unit RMS; `predict`
    applies the same scale.
    """
    from ..datasets.pack import write_pack
    from ..train.config import TrainConfig
    from ..train.engine import train

    n_tr, n_te, n_pix = len(x), len(x_test), x.shape[1]
    flux = np.concatenate([x, x_test]).astype(np.float32) * np.float32(np.sqrt(n_pix))
    labels = np.concatenate([y, y_test]).astype(np.int64)
    test_rows = np.arange(n_tr, n_tr + n_te)
    ids = [f"row{i}" for i in range(len(flux))]
    with tempfile.TemporaryDirectory(prefix="lcgan_recogniser_") as tmp:
        pack = write_pack(
            Path(tmp) / "pack.h5", flux,
            wavelength=np.arange(n_pix, dtype=np.float64) if wavelength is None else wavelength,
            labels=labels, class_names=list(class_names),
            indices={"train": np.arange(n_tr), "val": test_rows, "test": test_rows},
            ids=ids, paths=ids, groups=ids, index=np.arange(len(flux)),
            codes=np.full(len(flux), np.nan), snr_i=np.full(len(flux), np.nan),
            params={"source": "lcgan recogniser run (in-memory arm rows)"},
        )
        cfg = TrainConfig(
            data=str(pack), model="racnet",
            model_kwargs={"widths": list(widths), "blocks": list(blocks)},
            epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
            preload=True, out=str(Path(tmp) / "run"),
        )
        result = train(cfg, progress=False)
        if history_csv is not None:
            result.history.to_csv(history_csv, index=False)
    return result.model.eval()


@torch.no_grad()
def predict(model: torch.nn.Module, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """(N, L) L2-normalised flux -> (N,) predicted class index."""
    dev = next(model.parameters()).device
    scale = float(np.sqrt(x.shape[1]))
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size], np.float32))
        out.append(model(xb.to(dev) * scale).argmax(1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def recognition_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names, target: str = "O"
) -> dict:
    """Accuracy, balanced accuracy, target-class recall and precision, confusion counts."""
    k = list(class_names).index(target)
    cm = confusion_matrix(y_true, y_pred, labels=list(range(len(class_names))))
    recall_per = np.divide(
        np.diag(cm), cm.sum(1), out=np.full(len(cm), np.nan), where=cm.sum(1) > 0
    )
    pred_k = cm[:, k].sum()
    return {
        "accuracy": float(np.trace(cm) / max(cm.sum(), 1)),
        "balanced_accuracy": float(np.nanmean(recall_per)),
        f"{target}_recall": float(recall_per[k]),
        f"{target}_precision": float(cm[k, k] / pred_k) if pred_k else float("nan"),
        "n_test": int(cm.sum()),
        f"n_test_{target}": int(cm[k].sum()),
        "confusion": cm.tolist(),
    }
