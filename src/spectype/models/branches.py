"""Branches shared by the model families: a fixed feature module followed by a trainable net.

Below every family module (cnn1d, epsanet, audio_cnn, fusion) and importing none of them, so
the families can share these pieces without importing each other.

The feature modules hold only fixed buffers (filter banks, windows); `freeze_feature`
re-registers them as non-persistent so they stay out of the state dict (and out of
model.safetensors: nothing to keep in sync, and no shared-storage tensors for safetensors to
refuse) while still moving with `.to(device)`.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def freeze_feature(module: nn.Module) -> nn.Module:
    """Make a fixed feature module stateless for saving: buffers non-persistent, no grads to params."""
    for sub in module.modules():
        for name, buf in list(sub._buffers.items()):
            if buf is not None:
                sub.register_buffer(name, buf, persistent=False)
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def spectrum_image(image_size: int, canvas: int | None = None) -> nn.Module:
    """The plotted-spectrum renderer, (B, L) -> (B, 3, image_size, image_size).

    canvas: None draws straight at image_size (the fast ``direct`` method); a larger side (the
    authors' 512) draws there and resizes (``supersampled``: closer to matplotlib, slower on
    CPU, since its cost grows with canvas**2).
    """
    from ..features.image import SpectrumImage

    return SpectrumImage(out_size=image_size, canvas=canvas)


def audio_feature(kind: str, preset: str, mel_db: bool = True) -> nn.Module:
    """An audio feature, (B, L) -> (B, 1, F, T); `mel_db` False keeps the Mel spectrogram in
    power, as torchaudio (and the paper) compute it.

    Built on the CPU even inside `with torch.device("meta")` (where a model folder's loader
    sizes an architecture): torchaudio checks its filter bank with `.item()`, which meta tensors
    cannot answer. The buffers are small and move with the model's `.to(device)`.
    """
    from ..features.audio import AudioFeature

    with torch.device("cpu"):
        return AudioFeature(kind, preset=preset, mel_db=mel_db)


class FeatureBranch(nn.Module):
    """flux (B, L) -> fixed feature module (or none) -> trainable net -> (B, net.out_dim)."""

    def __init__(self, feature: nn.Module | None, net: nn.Module) -> None:
        super().__init__()
        self.feature = freeze_feature(feature) if feature is not None else None
        self.net = net
        self.out_dim: int = net.out_dim

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        x = self.feature(flux) if self.feature is not None else flux
        return self.net(x)
