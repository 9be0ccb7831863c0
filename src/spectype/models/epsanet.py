"""EPSANet-50 (Zhang et al. 2022): timm's ResNet with the PSA bottleneck, as the image branch.

`EPSANetBranch` maps images (B, 3, H, W) -> (B, 256): ResNet stem, stages `layers` of
PSABottleneck (official EPSANet-50: [3, 4, 6, 3]), global average pooling, Linear(2048 -> 256)
(timm's `fc`). Official EPSANet does not zero-init the last BN of each block, so neither do we.
The registered `epsanet50` renders the flux as an image (spectype.features.image.SpectrumImage)
and classifies it: the same network as `mm_2d`, built without the fusion wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
from timm.models.resnet import ResNet

from ..layers.psa import PSABottleneck
from .branches import FeatureBranch, spectrum_image
from .registry import as_kwargs, register_model


class EPSANetBranch(nn.Module):
    """(B, 3, H, W) images -> (B, out_dim) features."""

    def __init__(
        self, layers: Sequence[int] = (3, 4, 6, 3), out_dim: int = 256, in_chans: int = 3
    ) -> None:
        super().__init__()
        self.net = ResNet(
            block=PSABottleneck,
            layers=tuple(layers),
            num_classes=out_dim,
            in_chans=in_chans,
            zero_init_last=False,
        )
        self.out_dim = out_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class EPSANetClassifier(nn.Module):
    """(B, input_len) flux -> rendered image (B, 3, image_size, image_size) -> (B, n_classes)."""

    def __init__(
        self,
        n_classes: int = 8,
        input_len: int = 3700,
        image_size: int = 224,
        layers: Sequence[int] = (3, 4, 6, 3),
    ) -> None:
        super().__init__()
        self.branch = FeatureBranch(spectrum_image(image_size), EPSANetBranch(layers))
        self.classifier = nn.Linear(self.branch.out_dim, n_classes)
        self.input_len = input_len

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.branch(flux))


@dataclass(frozen=True, kw_only=True)
class EPSANetConfig:
    """Arguments of EPSANetClassifier; what a model folder saves."""

    n_classes: int = 8
    input_len: int = 3700
    image_size: int = 224
    layers: Sequence[int] = (3, 4, 6, 3)


@register_model(config=EPSANetConfig)
def epsanet50(config: EPSANetConfig) -> EPSANetClassifier:
    """EPSANet-50 on the plotted spectrum image (listening-to-stars Table 4 '2D')."""
    return EPSANetClassifier(**as_kwargs(config))
