"""Sim-to-real: train cnn1d_none on simulations only / on real + simulations, test on real
LAMOST A/F/G/K/M (the real test half is never trained on; split grouped by obsid). The 9
SDSS stars of the sample (5 M, 1 K, ...) are scored as an extra test set, never trained on.

python -m studies.simulator.sim_to_real [--per-class 150] [--epochs 6]
-> out/simulator/sim_to_real.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from spectype.datasets import Pack
from spectype.models import create_model
from spectype.simulate import build_simulated_dataset

from .common import OUT, real_lamost, real_sdss

CLASSES = ("A", "F", "G", "K", "M")
MODEL_KW = {"hidden": 64, "out_dim": 32}  # small: CPU, a few epochs


def train_model(Xtr, ytr, epochs, seed=0):
    """cnn1d_none with class-balanced cross entropy (real K/M are few), Adam 1e-3, batch 64."""
    torch.manual_seed(seed)
    model = create_model("cnn1d_none", n_classes=len(CLASSES), input_len=Xtr.shape[1], **MODEL_KW)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    counts = np.maximum(np.bincount(ytr, minlength=len(CLASSES)), 1)
    w = torch.tensor(len(ytr) / (len(CLASSES) * counts), dtype=torch.float32)
    Xt, yt = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(Xt)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx], weight=w).backward()
            opt.step()
    return model.eval()


def recall(model, X, y):
    """Per-class recall {cls: [recall, n]} and overall accuracy on (X, y)."""
    with torch.no_grad():
        pred = torch.cat([model(b).argmax(1) for b in torch.tensor(X, dtype=torch.float32).split(256)]).numpy()
    out = {c: [float((pred[y == i] == i).mean()) if (y == i).any() else None, int((y == i).sum())]
           for i, c in enumerate(CLASSES)}
    out["overall_acc"] = float((pred == y).mean())
    out["macro_recall"] = float(np.mean([v[0] for k, v in out.items() if k in CLASSES and v[0] is not None]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=150)
    ap.add_argument("--epochs", type=int, default=6)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    build_simulated_dataset(OUT / "sims_afgkm.h5", classes=CLASSES, per_class=a.per_class, seed=0, workers=2)
    pack = Pack(OUT / "sims_afgkm.h5")
    Xs = pack.read_flux(np.arange(len(pack)))
    ys = np.array([CLASSES.index(pack.class_names[i]) for i in pack.labels])
    real = real_lamost(CLASSES, max_per_class=400)
    Xr = np.array([r[0] for r in real], np.float32)
    yr = np.array([CLASSES.index(r[1]) for r in real])
    # Grouped by obsid: a DR7 and DR8 file of one obsid stay together.
    obs = np.array([str(r[4]) for r in real])
    test_obs = set(np.random.default_rng(0).permutation(np.unique(obs))[: len(np.unique(obs)) // 2])
    te = np.array([o in test_obs for o in obs])
    sd = real_sdss(CLASSES)
    Xd = np.array([r[0] for r in sd], np.float32)
    yd = np.array([CLASSES.index(r[1]) for r in sd])
    res = {"n_sim_train": {c: int((ys == i).sum()) for i, c in enumerate(CLASSES)},
           "n_real_train": {c: int((yr[~te] == i).sum()) for i, c in enumerate(CLASSES)},
           "epochs": a.epochs, "model": "cnn1d_none", "model_kwargs": MODEL_KW}
    for name, (X, y) in {
        "sim_only": (Xs, ys),
        "real_only": (Xr[~te], yr[~te]),
        "real_plus_sim": (np.vstack([Xr[~te], Xs]), np.r_[yr[~te], ys]),
    }.items():
        m = train_model(X, y, a.epochs)
        res[name] = {"lamost_test": recall(m, Xr[te], yr[te]), "sdss": recall(m, Xd, yd)}
        print(name, json.dumps(res[name]), flush=True)
    (OUT / "sim_to_real.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
