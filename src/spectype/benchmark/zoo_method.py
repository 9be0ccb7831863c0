"""`zoo:<model>`: any registered classifier (e.g. the paper's `cnn1d_coordatt`) fitted in the
benchmark on the same rows as every other method.

The model sees the benchmark's flux (robust-normalised; the paper min-max normalises, and one
cosmic-ray spike then sets the scale), is trained with cross-entropy, class-balanced sampling
and the same release-like augmentations as MKNet, keeps its best-validation epoch, and gets a
calibration temperature fitted on the validation rows. Class only: no type code or luminosity.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..labels import CLASSES
from .data import LabelledSet, MethodOutput


@dataclass
class ZooConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    balance_power: float = 0.5
    seed: int = 0


def _y(data: LabelledSet) -> torch.Tensor:
    return torch.tensor([CLASSES.index(c) for c in data.cls], dtype=torch.long)


@torch.no_grad()
def _logits(model, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)]) if len(x) else torch.zeros(0, len(CLASSES))


class ZooMethod:
    """Fit registry model `name` (built with n_classes and input_len) on LabelledSets."""

    def __init__(self, name: str, cfg: ZooConfig | None = None, seed: int = 0, progress=None,
                 model_kwargs: dict | None = None):
        self.name, self.cfg, self.progress = name, cfg or ZooConfig(seed=seed), progress
        # Builder overrides, e.g. a fusion row at a CPU-sized image ({"image_size": 64, ...}).
        self.model_kwargs = dict(model_kwargs or {})

    def fit(self, train: LabelledSet, val: LabelledSet) -> ZooMethod:
        from ..models.registry import create_model
        from ..train.augment import SpectrumAugment
        from ..train.mknet import fit_temperature

        c = self.cfg
        torch.manual_seed(c.seed)
        gen = torch.Generator().manual_seed(c.seed)
        x = torch.from_numpy(np.stack([train.flux, train.good.astype(np.float32)], 1))
        ivar = torch.from_numpy(train.ivar.astype(np.float32))
        y, xv, yv = _y(train), torch.from_numpy(val.flux), _y(val)
        model = create_model(self.name, n_classes=len(CLASSES), input_len=x.shape[-1], **self.model_kwargs)
        aug = SpectrumAugment()
        w = torch.bincount(y, minlength=len(CLASSES)).double().clamp_min(1)[y] ** -c.balance_power
        opt = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        steps = max(1, math.ceil(len(y) / c.batch_size))
        best, best_acc = None, -1.0
        for epoch in range(c.epochs):
            model.train()
            aug.train()
            order = torch.multinomial(w, len(y), replacement=True, generator=gen)
            for i in range(steps):
                b = order[i * c.batch_size : (i + 1) * c.batch_size]
                if len(b) < 2:
                    continue
                loss = F.cross_entropy(model(aug(x[b], ivar[b], gen)[:, 0]), y[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
            acc = float((_logits(model, xv).argmax(1) == yv).float().mean()) if len(yv) else float("nan")
            if self.progress is not None:
                self.progress({"model": self.name, "epoch": epoch, "val_acc": acc})
            if not acc < best_acc:  # ties go to the later epoch, as in train/mknet.py
                best, best_acc = copy.deepcopy(model.state_dict()), acc
        model.load_state_dict(best)
        self.temperature = fit_temperature(_logits(model, xv).numpy(), yv.numpy()) if len(yv) else 1.0
        self.model = model
        return self

    def predict(self, test: LabelledSet):
        from scipy.special import softmax

        z = _logits(self.model, torch.from_numpy(test.flux)).numpy() / self.temperature
        return MethodOutput(softmax(z, axis=1))
