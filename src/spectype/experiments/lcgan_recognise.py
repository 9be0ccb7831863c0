"""Train and test the RAC-Net recogniser on in-memory arrays (one arm, one seed).

The pack-based `spectype.train` engine is not used here: every arm mixes simulated rows with
GAN samples that exist only in memory, and each (arm, seed) is a few seconds on a CPU, so a
plain loop is simpler than writing a pack per run. There is no validation split and no early
stopping: the model after the last epoch is tested, so no test information picks the model.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix

from ..models.registry import create_model


def fit_recogniser(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    lr: float,
    widths=(16, 32, 64, 128),
    blocks=(2, 2, 2, 2),
    device: str = "cpu",
) -> torch.nn.Module:
    """RAC-Net trained on x (N, L) L2-normalised flux, y (N,) int labels. Seeded (init, order).

    Inputs are scaled by sqrt(L) so unit-norm spectra reach the first conv at unit RMS.
    """
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = create_model(
        "racnet",
        n_classes=n_classes,
        input_len=x.shape[1],
        widths=tuple(widths),
        blocks=tuple(blocks),
    ).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    scale = float(np.sqrt(x.shape[1]))
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(dev) * scale
    yt = torch.from_numpy(np.asarray(y, np.int64)).to(dev)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=gen).to(dev)
        for start in range(0, len(xt), batch_size):
            idx = order[start : start + batch_size]
            if len(idx) < 2:  # BatchNorm needs two rows
                continue
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def predict(model: torch.nn.Module, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """(N, L) L2-normalised flux -> (N,) predicted class index."""
    dev = next(model.parameters()).device
    scale = float(np.sqrt(x.shape[1]))
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size], np.float32)).to(
            dev
        )
        out.append(model(xb * scale).argmax(1).cpu().numpy())
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
