"""What a model says about a batch of preprocessed spectra, for any classifier in the zoo.

Every classifier gives class probabilities. A multitask model (one with `heads`, e.g. MKNet)
also gives the numeric type with an uncertainty, the luminosity class and an
out-of-distribution flag; other models leave those as None so the result table keeps one
schema. Multitask models take the good-pixel mask as a second channel.
"""

from __future__ import annotations

import numpy as np

from ..labels import code_to_subtype

EXTRA_COLUMNS = ("pred_code", "pred_code_err", "pred_subtype", "pred_lum_class", "flag_unlike_training")


def predict_outputs(model, flux: np.ndarray, good: np.ndarray | None, batch_size: int,
                    device: str = "cpu") -> dict[str, np.ndarray]:
    """(N, L) flux and (N, L) good mask (None = all good) -> {'proba': (N, K), and for
    multitask models 'code', 'code_err', 'lum', 'ood'}."""
    import torch

    multitask = hasattr(model, "heads")
    parts: dict[str, list] = {}
    with torch.inference_mode():
        for i in range(0, len(flux), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(flux[i : i + batch_size], dtype=np.float32)).to(device)
            if not multitask:
                parts.setdefault("proba", []).append(torch.softmax(model(x).float(), 1).cpu().numpy())
                continue
            g = (torch.ones_like(x) if good is None
                 else torch.from_numpy(np.ascontiguousarray(good[i : i + batch_size], dtype=np.float32)).to(device))
            h = model.heads(torch.stack([x, g], 1))
            parts.setdefault("proba", []).append(torch.softmax(h["logits"].float(), 1).cpu().numpy())
            parts.setdefault("code", []).append((h["code"].float() * 10).cpu().numpy())
            parts.setdefault("code_err", []).append((torch.exp(0.5 * h["code_logvar"].float()) * 10).cpu().numpy())
            parts.setdefault("lum", []).append(h["lum_logits"].argmax(1).cpu().numpy())
            parts.setdefault("ood", []).append(h["unlike"].cpu().numpy())
    if not parts:
        return {"proba": np.zeros((0, 0), np.float32)}
    return {k: np.concatenate(v) for k, v in parts.items()}


def extra_columns(out: dict[str, np.ndarray], i: int, pred_class: str | None) -> dict:
    """The multitask columns of row i (None/NaN for models without those heads). The subtype
    is the type code rounded to the nearest subtype, kept inside the predicted class so that
    'G' never comes with a subtype 'K0'; carbon stars have no subtype."""
    from .mknet import LUM_CLASSES

    if "code" not in out or pred_class is None:
        return {"pred_code": np.nan, "pred_code_err": np.nan, "pred_subtype": None,
                "pred_lum_class": None, "flag_unlike_training": False}
    code = float(out["code"][i])
    subtype = None
    if pred_class in "OBAFGKM":
        base = 10 * "OBAFGKM".index(pred_class)
        subtype = code_to_subtype(float(np.clip(round(code * 2) / 2, base, base + 9.5)))
    return {
        "pred_code": code, "pred_code_err": float(out["code_err"][i]), "pred_subtype": subtype,
        "pred_lum_class": LUM_CLASSES[int(out["lum"][i])], "flag_unlike_training": bool(out["ood"][i]),
    }
