"""Synthetic LAMOST-like flux batches: a smooth continuum, absorption lines and noise."""

from __future__ import annotations

import torch


def synthetic_flux(batch: int, length: int = 3700, seed: int = 0) -> torch.Tensor:
    """``(batch, length)`` min-max normalised flux in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, length)
    slope = torch.rand(batch, 1, generator=g)
    y = 0.3 + 0.7 * torch.sin(torch.pi * (0.2 + 0.8 * t[None] * slope))
    for _ in range(25):
        centre = torch.rand(batch, 1, generator=g)
        depth = 0.5 * torch.rand(batch, 1, generator=g)
        width = 0.001 + 0.004 * torch.rand(batch, 1, generator=g)
        y = y * (1 - depth * torch.exp(-(((t[None] - centre) / width) ** 2)))
    noise = 0.06 * torch.rand(batch, 1, generator=g)
    y = y + noise * torch.randn(batch, length, generator=g)
    lo, hi = y.amin(1, keepdim=True), y.amax(1, keepdim=True)
    return (y - lo) / (hi - lo)
