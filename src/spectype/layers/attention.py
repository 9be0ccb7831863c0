"""Attention registry for 1D feature maps: `create_attn1d(name, channels, **kw)`.

Every module maps (B, C, L) -> (B, C, L), like timm's `create_attn(name, C)` for 2D maps.
SE, ECA and CoordAtt are timm's 2D modules run on the map viewed as (B, C, L, 1): the spectral
axis is the height. For SE and ECA the view only changes which axes the global mean runs over.
For CoordAtt, height pooling keeps the spectral axis, so one gate is per (channel, position) and
the other (pooled over the whole spectrum) is per channel; a (B, C, 1, L) view would give the
same result with the roles of conv_h/conv_w swapped.

Names (the rows of Table 3 in listening-to-stars-2025):
    none      Identity
    se        timm SEModule, reduction 16 (rd_divisor=1 so C=60 gives 4 hidden units, as the
              original SE's C // 16 rounding would give 3; override with rd_divisor=8 for timm's)
    eca       timm EcaModule; kernel k = odd(|log2(C) + 1| / 2) as in the ECA paper, but at least 3:
              equal to the paper's rule for C >= 8 (C = 60 -> k = 3); below 8 channels the paper
              gives k = 1 (no cross-channel mixing) and timm 3
    gct       GCT (this package)
    bam       BAM (this package), 1D spatial branch
    coordatt  timm CoordAttn with bias=True (as the original), hidden max(8, ...) channels
    cca       CrissCrossAttention (this package) on (B, C, L, 1) = self-attention along L
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
from timm.layers import EcaModule, SEModule
from timm.layers.coord_attn import CoordAttn

from .bam import BAM
from .criss_cross import CrissCrossAttention
from .gct import GCT


class As2d(nn.Module):
    """Runs a 2D module on a (B, C, L) map viewed as (B, C, L, 1); returns (B, C, L)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.attn = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x.unsqueeze(-1)).squeeze(-1)


def _se(channels: int, **kw) -> nn.Module:
    return As2d(SEModule(channels, **{"rd_ratio": 1 / 16, "rd_divisor": 1, **kw}))


def _eca(channels: int, **kw) -> nn.Module:
    return As2d(EcaModule(channels, **kw))


def _coordatt(channels: int, **kw) -> nn.Module:
    return As2d(CoordAttn(channels, **{"bias": True, **kw}))


def _cca(channels: int, **kw) -> nn.Module:
    return As2d(CrissCrossAttention(channels, **kw))


def _none(channels: int, **kw) -> nn.Module:
    return nn.Identity()


_ATTN1D: dict[str, Callable[..., nn.Module]] = {
    "none": _none,
    "se": _se,
    "eca": _eca,
    "gct": GCT,
    "bam": lambda channels, **kw: BAM(channels, spatial_dims=1, **kw),
    "coordatt": _coordatt,
    "cca": _cca,
}


def list_attn1d() -> list[str]:
    """Names accepted by `create_attn1d`."""
    return list(_ATTN1D)


def create_attn1d(name: str, channels: int, **kwargs) -> nn.Module:
    """Build a 1D attention module (B, C, L) -> (B, C, L) by name; kwargs go to its constructor."""
    key = (name or "none").lower()
    if key not in _ATTN1D:
        raise ValueError(f"unknown 1D attention {name!r}; choose one of: {', '.join(_ATTN1D)}")
    return _ATTN1D[key](channels, **kwargs)
