"""The 8-layer 1D CNN of listening-to-stars-2025 (Fig. 2, top branch) and its Table 3 variants.

Layer i: Conv1d(kernel k_i, 'valid' padding) -> BatchNorm1d -> LeakyReLU -> MaxPool1d(2, stride s_i)
with channels 1->10->10->20->30->40->50->60->60, kernels 1,2,3,4,5,7,8,9 and pool strides
1,2,1,2,1,2,1,2. The paper gives neither padding nor pooling; we read "strides alternating 1 and 2"
as the pool stride, with a pool window of 2 (the smallest that makes stride 2 see every sample) and
no padding. Then one attention module on the (B, 60, L') map, flatten, Linear -> 1024 -> LeakyReLU
-> Linear -> 256 (the embedding, linear as the paper's "mapped to a 256-dimensional vector").
L' is found by a dry run, so any input_len works (3700 -> 219 positions).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from ..layers.attention import create_attn1d
from .registry import as_kwargs, register_model

CHANNELS = (10, 10, 20, 30, 40, 50, 60, 60)
KERNELS = (1, 2, 3, 4, 5, 7, 8, 9)
POOL_STRIDES = (1, 2, 1, 2, 1, 2, 1, 2)


@torch.no_grad()
def output_shape(module: nn.Module, in_shape: Sequence[int]) -> tuple[int, ...]:
    """Shape of module(zeros(1, *in_shape)) without the batch axis (dry run in eval mode).

    The input goes where the module's tensors are: a CPU feature module inside a model being
    sized on torch's meta device (branches.audio_feature) needs a CPU input.
    """
    was_training = module.training
    module.eval()
    first = next(itertools.chain(module.parameters(), module.buffers()), None)
    try:
        out = module(torch.zeros(1, *in_shape, device=None if first is None else first.device))
    finally:
        module.train(was_training)
    return tuple(out.shape[1:])


class CNN1DBranch(nn.Module):
    """(B, input_len) flux -> (B, out_dim) embedding.

    Args:
        input_len: spectrum length the layer sizes are inferred for.
        attn: a `create_attn1d` name ('none', 'se', 'eca', 'gct', 'bam', 'coordatt', 'cca').
        attn_kwargs: passed to the attention constructor.
        hidden, out_dim: widths of the two linear layers (paper: 1024, 256).
    """

    def __init__(
        self,
        input_len: int = 3700,
        attn: str = "none",
        attn_kwargs: dict | None = None,
        channels: Sequence[int] = CHANNELS,
        kernels: Sequence[int] = KERNELS,
        pool_strides: Sequence[int] = POOL_STRIDES,
        pool_kernel: int = 2,
        hidden: int = 1024,
        out_dim: int = 256,
    ) -> None:
        super().__init__()
        if not len(channels) == len(kernels) == len(pool_strides):
            raise ValueError("channels, kernels and pool_strides need one entry per conv layer")
        layers: list[nn.Module] = []
        c_in = 1
        for c, k, s in zip(channels, kernels, pool_strides, strict=True):
            layers += [
                nn.Conv1d(c_in, c, k),
                nn.BatchNorm1d(c),
                nn.LeakyReLU(),
                nn.MaxPool1d(pool_kernel, s),
            ]
            c_in = c
        self.features = nn.Sequential(*layers)
        try:
            c_out, length = output_shape(self.features, (1, input_len))
        except RuntimeError as exc:
            raise ValueError(f"input_len={input_len} is too short for the 1D CNN ({exc})") from exc
        self.attn = create_attn1d(attn, c_out, **(attn_kwargs or {}))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_out * length, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, out_dim),
        )
        self.out_dim = out_dim

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.head(self.attn(self.features(flux.unsqueeze(1))))


class CNN1DClassifier(nn.Module):
    """(B, input_len) flux -> (B, n_classes) logits: CNN1DBranch + Linear(256, n_classes)."""

    def __init__(
        self, n_classes: int = 8, input_len: int = 3700, attn: str = "none", **branch_kw
    ) -> None:
        super().__init__()
        self.branch = CNN1DBranch(input_len=input_len, attn=attn, **branch_kw)
        self.classifier = nn.Linear(self.branch.out_dim, n_classes)

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.branch(flux))


@dataclass(frozen=True, kw_only=True)
class CNN1DConfig:
    """Every argument of CNN1DClassifier (n_classes + CNN1DBranch's); what a model folder saves."""

    n_classes: int = 8
    input_len: int = 3700
    attn: str = "none"
    attn_kwargs: dict | None = None
    channels: Sequence[int] = CHANNELS
    kernels: Sequence[int] = KERNELS
    pool_strides: Sequence[int] = POOL_STRIDES
    pool_kernel: int = 2
    hidden: int = 1024
    out_dim: int = 256


def build_cnn1d(config: CNN1DConfig) -> CNN1DClassifier:
    return CNN1DClassifier(**as_kwargs(config))


for _attn in ("none", "se", "eca", "gct", "bam", "coordatt", "cca"):
    register_model(
        build_cnn1d, name=f"cnn1d_{_attn}", config=CNN1DConfig(attn=_attn), fixed=("attn",),
        description=f"8-layer 1D CNN with {_attn!r} attention (listening-to-stars Table 3).",
    )
