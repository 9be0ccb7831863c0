"""Criss-cross attention (Huang et al., CCNet) for 2D maps, device-agnostic.

Each position attends to every position in its row and its column (the centre once: the column
branch masks the diagonal). Written with einsum and a boolean mask built on the input's device,
instead of the official `.cuda()`-hard-coded -inf diagonal.

On a 1D spectrum map viewed as (B, C, L, 1) the column is the whole spectrum and the row is the
position itself, so criss-cross attention becomes full self-attention along the spectral axis
(O(L^2), cheap at the ~200 positions left after the 1D CNN). That is the meaningful 1D reading;
`create_attn1d('cca', C)` applies it that way.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class CrissCrossAttention(nn.Module):
    """(B, C, H, W) -> (B, C, H, W): gamma * criss_cross(x) + x.

    Args:
        channels: C.
        reduction: query/key width is max(1, C // reduction) (official: 8).
    gamma starts at zero, so a fresh module is the identity.
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        inner = max(1, channels // reduction)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        q, k, v = self.query(x), self.key(x), self.value(x)
        energy_col = torch.einsum("bchw,bcgw->bhwg", q, k)  # (B, H, W, H): same column
        self_mask = torch.eye(h, dtype=torch.bool, device=x.device).view(1, h, 1, h)
        energy_col = energy_col.masked_fill(self_mask, float("-inf"))
        energy_row = torch.einsum("bchw,bchv->bhwv", q, k)  # (B, H, W, W): same row
        att = torch.softmax(torch.cat([energy_col, energy_row], dim=-1), dim=-1)
        att_col, att_row = att[..., :h], att[..., h:]
        out = torch.einsum("bhwg,bcgw->bchw", att_col, v) + torch.einsum(
            "bhwv,bchv->bchw", att_row, v
        )
        return self.gamma * out + x
