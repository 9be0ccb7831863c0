"""The 3-layer CNN that reads one audio feature (Mel / MFCC / LFCC) in listening-to-stars-2025.

(B, 1, F, T) -> Conv5x5(1->32) ReLU MaxPool2 -> Conv5x5(32->64) ReLU MaxPool2 -> Conv5x5(64->64) ReLU
-> Dropout(0.4) -> flatten -> Linear -> 1024 -> ReLU -> Linear -> 256 (`head_relu=False`: no ReLU
between the two Linears, as the authors' code per issue #12). Padding 2 keeps sizes through
the convolutions; the flatten width comes from a dry run on the feature shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from .cnn1d import output_shape


class AudioBranch(nn.Module):
    """(B, 1, F, T) feature map -> (B, out_dim).

    Args:
        feature_shape: (1, F, T) of one feature map, e.g. from a dry run of the feature module.
    """

    def __init__(
        self,
        feature_shape: Sequence[int],
        dropout: float = 0.4,
        hidden: int = 1024,
        out_dim: int = 256,
        head_relu: bool = True,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(feature_shape[0], 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 5, padding=2), nn.ReLU(),
            nn.Dropout(dropout),
        )  # fmt: skip
        try:
            n_flat = int(torch.Size(output_shape(self.features, feature_shape)).numel())
        except RuntimeError as exc:
            raise ValueError(
                f"audio feature shape {tuple(feature_shape)} is too small for two 2x2 pools"
            ) from exc
        # Without the ReLU the two Linears compose to one linear map (the authors' code).
        act = [nn.ReLU()] if head_relu else []
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(n_flat, hidden), *act, nn.Linear(hidden, out_dim)
        )
        self.out_dim = out_dim

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(feats))
