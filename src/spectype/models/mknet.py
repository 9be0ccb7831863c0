"""MKNet: a compact multitask 1D CNN for real survey spectra (class, numeric type, luminosity).

Why a second compact model: the shipped `cnn1d_compact` sees min-max flux only and answers only
the class. Users also want the subtype and the luminosity class, probabilities they can trust,
and a warning when a spectrum is unlike every training class. MKNet keeps the paper's
Conv -> BatchNorm -> LeakyReLU -> MaxPool block (pooling early, as `cnn1d_compact` does, for
laptop throughput) and adds:

- a second input channel, the good-pixel mask, so spectra with gaps or partial coverage
  (MILES stops at 7410 Å; LAMOST masks bad columns) are read, not rejected;
- heads for the class (logits), the numeric type code (O0=0 ... M9=69) with a log-variance
  (so `pred_code_err` comes from the model), and the luminosity class;
- buffers, saved with the weights, for the calibration temperature (fitted on validation data)
  and an out-of-distribution test in the embedding (class means, shared precision matrix and a
  threshold on the Mahalanobis distance, fitted on training data).

`forward(x)` returns calibrated class logits, so every caller that takes logits (classify,
evaluate) works unchanged; `heads(x)` returns everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from ..layers.attention import create_attn1d
from .cnn1d import output_shape
from .registry import as_kwargs, register_model

LUM_CLASSES = ("I", "II", "III", "IV", "V")


def lum_index(lum: str | None) -> int:
    """Roman luminosity class (or a range such as 'III-IV', 'Iab') -> index in LUM_CLASSES by
    its first class; -1 when unknown ('' / None / 'VI' subdwarfs are not a head class)."""
    if not lum:
        return -1
    head = lum.replace("/", "-").split("-")[0].rstrip("ab").strip()
    return LUM_CLASSES.index(head) if head in LUM_CLASSES else -1


class MKNet(nn.Module):
    """(B, L) flux or (B, 2, L) [flux, good mask] -> (B, n_classes) calibrated logits.

    Args:
        n_classes: class-head size (the folder's class_names).
        input_len: spectrum length L.
        channels, kernels, pool_strides: one entry per conv block.
        attn: `create_attn1d` name applied after the last block.
        hidden: width of the shared embedding.
        dropout: before the heads, during training.
    """

    def __init__(
        self,
        n_classes: int = 8,
        input_len: int = 3700,
        channels: Sequence[int] = (8, 16, 32, 48, 64),
        kernels: Sequence[int] = (7, 5, 5, 5, 3),
        pool_strides: Sequence[int] = (4, 2, 2, 2, 2),
        attn: str = "se",
        hidden: int = 128,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if not len(channels) == len(kernels) == len(pool_strides):
            raise ValueError("channels, kernels and pool_strides need one entry per conv block")
        layers: list[nn.Module] = []
        c_in = 2
        for i, (c, k, s) in enumerate(zip(channels, kernels, pool_strides, strict=True)):
            # The first block strides its conv by 2 (half the pool): a LAMOST resolution element
            # spans ~2.5 pixels, and full-resolution activations dominate CPU time.
            conv_stride = 2 if i == 0 and s % 2 == 0 else 1
            layers += [nn.Conv1d(c_in, c, k, stride=conv_stride, padding=k // 2), nn.BatchNorm1d(c),
                       nn.LeakyReLU(), nn.MaxPool1d(s // conv_stride, s // conv_stride)]
            c_in = c
        self.features = nn.Sequential(*layers)
        c_out, length = output_shape(self.features, (2, input_len))
        self.attn = create_attn1d(attn, c_out)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(c_out * length, hidden), nn.LeakyReLU())
        self.drop = nn.Dropout(dropout)
        self.class_head = nn.Linear(hidden, n_classes)
        self.code_head = nn.Linear(hidden, 2)  # mean, log-variance of the type code
        self.lum_head = nn.Linear(hidden, len(LUM_CLASSES))
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("ood_means", torch.zeros(n_classes, hidden))
        self.register_buffer("ood_precision", torch.eye(hidden))
        self.register_buffer("ood_threshold", torch.tensor(float("inf")))

    @staticmethod
    def as_input(x: torch.Tensor) -> torch.Tensor:
        """(B, L) flux -> (B, 2, L) with an all-good mask; (B, 2, L) passes through."""
        if x.dim() == 2:
            return torch.stack([x, torch.ones_like(x)], dim=1)
        return x

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.attn(self.features(self.as_input(x))))

    def heads(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw logits, calibrated logits, code mean/log-variance, luminosity logits, OOD distance."""
        e = self.embedding(x)
        h = self.drop(e)
        logits = self.class_head(h)
        code = self.code_head(h)
        return {
            "logits_raw": logits,
            "logits": logits / self.temperature,
            "code": code[:, 0],
            "code_logvar": code[:, 1].clamp(-10, 10),
            "lum_logits": self.lum_head(h),
            "ood_distance": self.ood_distance(e),
            "embedding": e,
        }

    def ood_distance(self, e: torch.Tensor) -> torch.Tensor:
        """Smallest squared Mahalanobis distance of embeddings (B, H) to a class mean."""
        d = e[:, None, :] - self.ood_means[None, :, :]  # (B, K, H)
        m = torch.einsum("bkh,hg,bkg->bk", d, self.ood_precision, d)
        return m.min(dim=1).values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.class_head(self.drop(self.embedding(x))) / self.temperature


@dataclass(frozen=True, kw_only=True)
class MKNetModelConfig:
    """Arguments of MKNet; what a model folder saves (train/mknet.py's MKNetConfig is training's)."""

    n_classes: int = 8
    input_len: int = 3700
    channels: Sequence[int] = (8, 16, 32, 48, 64)
    kernels: Sequence[int] = (7, 5, 5, 5, 3)
    pool_strides: Sequence[int] = (4, 2, 2, 2, 2)
    attn: str = "se"
    hidden: int = 128
    dropout: float = 0.2


@register_model(config=MKNetModelConfig)
def mknet(config: MKNetModelConfig) -> MKNet:
    """Multitask compact 1D CNN: flux + good mask -> class, type code, luminosity class."""
    return MKNet(**as_kwargs(config))
