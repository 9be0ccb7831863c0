"""Sim-to-real: train cnn1d_none on simulations only / on real + simulations, test on real
LAMOST A/F/G/K/M (the real test half is never trained on; split grouped by obsid).

python experiments/simulator/sim_to_real.py [--per-class 300] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from common import OUT, real_lamost

from spectype.datasets import Pack
from spectype.models import create_model
from spectype.simulate import build_simulated_dataset

CLASSES = ("A", "F", "G", "K", "M")


def train_eval(Xtr, ytr, Xte, yte, epochs, seed=0):
    torch.manual_seed(seed)
    model = create_model("cnn1d_none", n_classes=len(CLASSES), input_len=Xtr.shape[1])
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    # Class-balanced weights: real K/M are few.
    w = torch.tensor(len(ytr) / (len(CLASSES) * np.maximum(np.bincount(ytr, minlength=len(CLASSES)), 1)), dtype=torch.float32)
    Xt, yt = torch.tensor(Xtr), torch.tensor(ytr)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(Xt)).split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx], weight=w)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(b).argmax(1) for b in torch.tensor(Xte).split(256)]).numpy()
    return {c: (float((pred[yte == i] == i).mean()) if (yte == i).any() else None, int((yte == i).sum()))
            for i, c in enumerate(CLASSES)} | {"overall": float((pred == yte).mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=4)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    build_simulated_dataset(OUT / "sims_afgkm.h5", classes=CLASSES, per_class=a.per_class, seed=0)
    pack = Pack(OUT / "sims_afgkm.h5")
    Xs = pack.read_flux(np.arange(len(pack)))
    ys = np.array([CLASSES.index(pack.class_names[i]) for i in pack.labels])
    real = real_lamost(CLASSES, max_per_class=400)
    Xr = np.array([r[0] for r in real], np.float32)
    yr = np.array([CLASSES.index(r[1]) for r in real])
    # Grouped by obsid: a DR7 and DR8 file of one obsid stay together.
    obs = np.array([str(r[4]) for r in real])
    uniq = np.unique(obs)
    test_obs = set(np.random.default_rng(0).permutation(uniq)[: len(uniq) // 2])
    te = np.array([o in test_obs for o in obs])
    res = {
        "sim_only": train_eval(Xs, ys, Xr[te], yr[te], a.epochs),
        "real_plus_sim": train_eval(np.vstack([Xr[~te], Xs]), np.r_[yr[~te], ys], Xr[te], yr[te], a.epochs),
    }
    print(json.dumps(res, indent=1))
    (OUT / "sim_to_real.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
