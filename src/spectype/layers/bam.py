"""Bottleneck Attention Module (Park et al., BMVC 2018) for 1D or 2D maps.

The listening-to-stars paper calls it "Bilateral Attention Module" but describes Park's BAM
(channel MLP on global average pooling, spatial branch of dilated convolutions, combined
multiplicatively), which is what this is. Differences from the official code, on purpose:
- the channel branch pools with a mean over all spatial axes (adaptive), where the official
  `avg_pool2d(x, x.size(2))` assumes a square map and breaks on (L, 1) or other non-square maps;
- `spatial_dims=1` builds the spatial branch from Conv1d / BatchNorm1d, so dilated 3-tap kernels
  run along the spectrum instead of wasting two thirds of a 3x3 kernel on a width-1 map.
Output: x * (1 + sigmoid(channel_att * spatial_att)).
"""

from __future__ import annotations

import torch
import torch.nn as nn


class BAM(nn.Module):
    """(B, C, L) [spatial_dims=1] or (B, C, H, W) [spatial_dims=2] -> same shape.

    Args:
        channels: C.
        reduction: hidden width is max(1, C // reduction) in both branches (paper: 16).
        n_dilated: number of dilated 3-tap convolutions in the spatial branch (paper: 2).
        dilation: their dilation (paper: 4).
        spatial_dims: 1 or 2.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        n_dilated: int = 2,
        dilation: int = 4,
        spatial_dims: int = 1,
    ) -> None:
        super().__init__()
        if spatial_dims not in (1, 2):
            raise ValueError(f"BAM spatial_dims must be 1 or 2, got {spatial_dims}")
        conv = nn.Conv1d if spatial_dims == 1 else nn.Conv2d
        norm = nn.BatchNorm1d if spatial_dims == 1 else nn.BatchNorm2d
        hidden = max(1, channels // reduction)
        self.spatial_dims = spatial_dims
        self.channel_gate = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, channels),
        )
        layers: list[nn.Module] = [conv(channels, hidden, 1), norm(hidden), nn.ReLU()]
        for _ in range(n_dilated):
            layers += [
                conv(hidden, hidden, 3, padding=dilation, dilation=dilation),
                norm(hidden),
                nn.ReLU(),
            ]
        layers.append(conv(hidden, 1, 1))
        self.spatial_gate = nn.Sequential(*layers)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, *spatial) -> pre-sigmoid attention (B, C, *spatial)."""
        if x.ndim != self.spatial_dims + 2:
            raise ValueError(
                f"BAM built for {self.spatial_dims}D maps got a tensor of shape {tuple(x.shape)}"
            )
        spatial = tuple(range(2, x.ndim))
        ch = self.channel_gate(x.mean(spatial)).view(x.shape[0], -1, *([1] * self.spatial_dims))
        return ch * self.spatial_gate(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (1.0 + torch.sigmoid(self.attention(x)))
