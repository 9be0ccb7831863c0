"""SGAN baseline (Zheng et al. 2020): fully connected generator and discriminator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from ..registry import register_model


class MLPGenerator(nn.Module):
    """Noise (B, noise_dim) -> spectra (B, input_len) in (-1, 1).

    Linear layers noise_dim -> hidden... -> input_len, LeakyReLU(0.2) between them, tanh out.
    tanh's range suits L2-normalised flux: every pixel of a unit-norm vector satisfies |x_i| <= 1.
    """

    def __init__(
        self,
        input_len: int = 3700,
        noise_dim: int = 900,
        hidden: tuple[int, ...] = (256, 512, 1024),
    ):
        super().__init__()
        self.input_len = input_len
        self.noise_dim = noise_dim
        layers: list[nn.Module] = []
        d = noise_dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.LeakyReLU(0.2)]
            d = h
        layers += [nn.Linear(d, input_len), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).float()


class MLPDiscriminator(nn.Module):
    """Spectra (B, input_len) -> logit (B,): input_len -> hidden... -> 1, LeakyReLU + dropout.

    Input is multiplied by sqrt(input_len) (unit RMS for L2-normalised flux), as in the LCGAN
    discriminator, so both baselines see the same scale.
    """

    def __init__(
        self,
        input_len: int = 3700,
        hidden: tuple[int, ...] = (1024, 512, 256),
        dropout: float = 0.3,
    ):
        super().__init__()
        self.input_len = input_len
        self.input_scale = math.sqrt(input_len)
        layers: list[nn.Module] = []
        d = input_len
        for h in hidden:
            layers += [nn.Linear(d, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * self.input_scale).squeeze(-1)


@dataclass(frozen=True, kw_only=True)
class MLPGeneratorConfig:
    """Arguments of MLPGenerator; what a model folder saves."""

    input_len: int = 3700
    noise_dim: int = 900
    hidden: Sequence[int] = (256, 512, 1024)


@dataclass(frozen=True, kw_only=True)
class MLPDiscriminatorConfig:
    """Arguments of MLPDiscriminator, plus noise_dim so every GAN builder takes the same ones."""

    input_len: int = 3700
    noise_dim: int = 900  # unused by the network
    hidden: Sequence[int] = (1024, 512, 256)
    dropout: float = 0.3


@register_model(role="generator", config=MLPGeneratorConfig)
def gan_sgan_generator(config: MLPGeneratorConfig) -> MLPGenerator:
    """SGAN generator (Zheng et al. 2020): MLP 900-256-512-1024-L, LeakyReLU 0.2, tanh."""
    return MLPGenerator(config.input_len, config.noise_dim, tuple(config.hidden))


@register_model(role="discriminator", config=MLPDiscriminatorConfig)
def gan_sgan_discriminator(config: MLPDiscriminatorConfig) -> MLPDiscriminator:
    """SGAN discriminator: MLP L-1024-512-256-1, LeakyReLU 0.2, dropout 0.3."""
    return MLPDiscriminator(config.input_len, tuple(config.hidden), config.dropout)
