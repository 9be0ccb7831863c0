"""A compact 1D CNN for the shipped default model: the paper's block, fewer and cheaper layers.

Why: `classify` must keep up with survey volumes on a laptop (issue target: 3,000 spectra/s on
2 CPU cores from a pack). The paper's 8-layer CNN spends 63 M multiply-adds per spectrum (its
convolutions run near full resolution and its first Linear is 13,140 x 1024); this one pools
early (4x after the first conv) and needs 4.3 M,
while keeping the same Conv -> BatchNorm -> LeakyReLU -> MaxPool block, attention and head.
MK classes are set by lines several pixels wide on the LAMOST grid (Balmer, Ca II, Mg b,
TiO bands), so early pooling loses little for class-level typing.
"""

from __future__ import annotations

from .cnn1d import CNN1DConfig, build_cnn1d
from .registry import register_model

COMPACT = {
    "channels": (8, 16, 32, 48),
    "kernels": (7, 5, 5, 5),
    "pool_strides": (4, 2, 2, 2),
    "pool_kernel": 4,
    "hidden": 128,
    "out_dim": 64,
}

register_model(
    build_cnn1d, name="cnn1d_compact", config=CNN1DConfig(attn="se", **COMPACT),
    description="Compact 4-layer 1D CNN with SE attention (the shipped default model's architecture).",
)
