"""Gated Channel Transformation (Yang et al., CVPR 2020), for maps of any spatial rank.

Follows the official "l2" mode: embedding s_c = alpha_c * ||x_c||_2, channel normalisation
s_c * sqrt(C) / ||s||_2 (written as a mean over channels), gate 1 + tanh(gamma_c * s_hat_c + beta_c).
gamma and beta start at zero, so a fresh GCT is exactly the identity (the paper's init).
"""

from __future__ import annotations

import torch
import torch.nn as nn


class GCT(nn.Module):
    """(B, C, *spatial) -> same shape; a per-channel gate in (0, 2).

    Args:
        channels: C.
        eps: added under the square roots.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.alpha = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, *spatial) -> (B, C, 1, ...) gate values."""
        shape = (1, -1) + (1,) * (x.ndim - 2)
        spatial = tuple(range(2, x.ndim))
        embedding = (x.pow(2).sum(spatial, keepdim=True) + self.eps).sqrt() * self.alpha.view(shape)
        norm = (
            self.gamma.view(shape) / (embedding.pow(2).mean(dim=1, keepdim=True) + self.eps).sqrt()
        )
        return 1.0 + torch.tanh(embedding * norm + self.beta.view(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)
