"""RAC-Net: residual + channel-attention 1D recogniser (Zou et al. 2020; used for O stars in
lcgan-o-type-2021).

Neither paper gives layer sizes, so the structure is ours, following their description:
- stem: Conv1d(1, 16, 7, stride 2) -> BN -> ReLU -> MaxPool1d(3, 2, padding 1);
- stages of residual blocks (widths 16, 32, 64, 128; 2 blocks each; the first block of stages 2-4
  halves the length). Block: conv3-BN-ReLU-conv3-BN -> channel attention -> + shortcut -> ReLU;
- channel attention, as Fig. 6 of the LCGAN paper: global max- and average-pooling over the
  spectrum give two length-C vectors, concatenated (2C) -> Linear(2C, C) -> sigmoid -> per-channel
  weights repeated along the spectrum and multiplied with the conv output;
- head: flatten -> Linear -> 256 -> ReLU -> Dropout(0.5) -> Linear(n_classes). Flatten (not global
  pooling) keeps where in the spectrum a feature sits; its width comes from a dry run.
Default n_classes is 8 like every spectype model; the O-star task uses n_classes=4 (O, B, A, other,
or the four classes of its data set), so pass n_classes explicitly there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from .cnn1d import output_shape
from .registry import as_kwargs, register_model


class ConcatPoolChannelAttention(nn.Module):
    """(B, C, L) -> (B, C, L) * sigmoid(Linear([max_L x, mean_L x]))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(2 * channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=2), x.mean(dim=2)], dim=1)
        return x * torch.sigmoid(self.fc(pooled)).unsqueeze(-1)


class ResidualAttentionBlock(nn.Module):
    """(B, c_in, L) -> (B, c_out, L / stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(),
            nn.Conv1d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm1d(c_out),
            ConcatPoolChannelAttention(c_out),
        )  # fmt: skip
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class RACNet(nn.Module):
    """(B, input_len) flux -> (B, n_classes) logits."""

    def __init__(
        self,
        n_classes: int = 8,
        input_len: int = 3700,
        widths: Sequence[int] = (16, 32, 64, 128),
        blocks: Sequence[int] = (2, 2, 2, 2),
        hidden: int = 256,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv1d(1, widths[0], 7, stride=2, padding=3, bias=False), nn.BatchNorm1d(widths[0]), nn.ReLU(),
            nn.MaxPool1d(3, 2, padding=1),
        ]  # fmt: skip
        c_in = widths[0]
        for i, (c, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                layers.append(
                    ResidualAttentionBlock(c_in, c, stride=2 if (i > 0 and j == 0) else 1)
                )
                c_in = c
        self.features = nn.Sequential(*layers)
        try:
            n_flat = int(torch.Size(output_shape(self.features, (1, input_len))).numel())
        except RuntimeError as exc:
            raise ValueError(f"input_len={input_len} is too short for RAC-Net ({exc})") from exc
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_flat, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(flux.unsqueeze(1)))


@dataclass(frozen=True, kw_only=True)
class RACNetConfig:
    """Arguments of RACNet; what a model folder saves."""

    n_classes: int = 8
    input_len: int = 3700
    widths: Sequence[int] = (16, 32, 64, 128)
    blocks: Sequence[int] = (2, 2, 2, 2)
    hidden: int = 256
    dropout: float = 0.5


@register_model(config=RACNetConfig)
def racnet(config: RACNetConfig) -> RACNet:
    """Residual + channel-attention 1D CNN after Zou et al. 2020 (the LCGAN paper's recogniser)."""
    return RACNet(**as_kwargs(config))
