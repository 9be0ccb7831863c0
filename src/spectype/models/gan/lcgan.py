"""LCGAN (Yang et al. 2021): locally connected generator with up-sampling, conv discriminator.

The paper fixes the noise (1 x 900), the layer family (locally connected convolution +
up-sampling, layer by layer), dropout and TTUR; widths, kernels, depth and the output layer are
our choices, documented in docs/gan.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...layers.locally_connected import LocallyConnected1d
from ..registry import register_model


def stage_lengths(noise_dim: int, input_len: int, n_layers: int) -> list[int]:
    """Output length of each generator layer: a geometric ramp from noise_dim to input_len.

    Every layer changes the length by the same factor (input_len / noise_dim) ** (1 / n_layers);
    the last layer always lands exactly on input_len.
    """
    ratio = input_len / noise_dim
    out = [max(1, round(noise_dim * ratio ** ((i + 1) / n_layers))) for i in range(n_layers)]
    out[-1] = input_len
    return out


class L2Normalize(nn.Module):
    """x / ||x||_2 over the last axis: the paper's eq. (1) applied to generated spectra."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=2.0, dim=-1, eps=self.eps)


class LCGenerator(nn.Module):
    """Noise (B, noise_dim) -> L2-normalised spectra (B, input_len).

    Each layer: linear up-sampling to (target + k - 1), a locally connected convolution
    ('valid', so the output is exactly the target length), then LeakyReLU(0.2) + dropout,
    except the last layer (1 channel, linear) which is followed by L2 normalisation.
    """

    def __init__(
        self,
        input_len: int = 3700,
        noise_dim: int = 900,
        channels: tuple[int, ...] = (64, 32, 16),
        kernel_size: int = 5,
        dropout: float = 0.2,
    ):
        super().__init__()
        self.input_len = input_len
        self.noise_dim = noise_dim
        widths = [1, *channels, 1]
        lengths = stage_lengths(noise_dim, input_len, len(widths) - 1)
        self.lengths = lengths
        layers: list[nn.Module] = []
        for i, length in enumerate(lengths):
            last = i == len(lengths) - 1
            # Up-sample to target + k - 1 so the valid LC layer outputs exactly the target.
            layers.append(
                nn.Upsample(size=length + kernel_size - 1, mode="linear", align_corners=False)
            )
            layers.append(
                LocallyConnected1d(widths[i], widths[i + 1], length + kernel_size - 1, kernel_size)
            )
            if not last:
                layers.append(nn.LeakyReLU(0.2))
                layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers)
        self.norm = L2Normalize()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, noise_dim) -> (B, input_len) with unit L2 norm per row."""
        x = self.net(z.unsqueeze(1)).squeeze(1)
        return self.norm(x.float())


class ConvDiscriminator(nn.Module):
    """Spectra (B, input_len) -> real/fake logit (B,).

    Strided Conv1d blocks (LeakyReLU 0.2, dropout), flatten, one linear logit. Flattening
    (rather than global pooling) keeps where a feature sits: a line at the wrong wavelength
    should look fake.
    Input is multiplied by sqrt(input_len) first: L2-normalised flux has per-pixel values
    ~1/sqrt(L), and this puts them at unit RMS without learning anything.
    """

    def __init__(
        self,
        input_len: int = 3700,
        channels: tuple[int, ...] = (32, 64, 128, 256),
        kernel_size: int = 7,
        stride: int = 2,
        dropout: float = 0.3,
    ):
        super().__init__()
        self.input_len = input_len
        self.input_scale = math.sqrt(input_len)
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [
                nn.Conv1d(c_in, c, kernel_size, stride=stride, padding=kernel_size // 2),
                nn.LeakyReLU(0.2),
                nn.Dropout(dropout),
            ]
            c_in = c
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, input_len)).numel()
        self.head = nn.Linear(n_flat, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x.unsqueeze(1) * self.input_scale)
        return self.head(h.flatten(1)).squeeze(-1)


@dataclass(frozen=True, kw_only=True)
class LCGeneratorConfig:
    """Arguments of LCGenerator; what a model folder saves."""

    input_len: int = 3700
    noise_dim: int = 900
    channels: Sequence[int] = (64, 32, 16)
    kernel_size: int = 5
    dropout: float = 0.2


@dataclass(frozen=True, kw_only=True)
class ConvDiscriminatorConfig:
    """Arguments of ConvDiscriminator, plus noise_dim so every GAN builder takes the same ones."""

    input_len: int = 3700
    noise_dim: int = 900  # unused by the network
    channels: Sequence[int] = (32, 64, 128, 256)
    kernel_size: int = 7
    dropout: float = 0.3


@register_model(role="generator", config=LCGeneratorConfig)
def gan_lcgan_generator(config: LCGeneratorConfig) -> LCGenerator:
    """LCGAN generator: locally connected convs + up-sampling, noise -> L2-normalised spectrum."""
    c = config
    return LCGenerator(c.input_len, c.noise_dim, tuple(c.channels), c.kernel_size, c.dropout)


@register_model(role="discriminator", config=ConvDiscriminatorConfig)
def gan_lcgan_discriminator(config: ConvDiscriminatorConfig) -> ConvDiscriminator:
    """LCGAN discriminator: strided 1D conv classifier with dropout -> one logit."""
    c = config
    return ConvDiscriminator(c.input_len, tuple(c.channels), c.kernel_size, 2, c.dropout)
