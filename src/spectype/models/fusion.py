"""Multimodal classifier of listening-to-stars-2025 (Fig. 2) and the Table 4 configurations.

Each chosen modality is a branch flux -> 256: 'spec1d' (8-layer 1D CNN + attention), 'image'
(SpectrumImage render -> EPSANet-50), 'mel' / 'mfcc' / 'lfcc' (AudioFeature -> 3-layer CNN). The
embeddings are concatenated and one Linear maps them to the logits.

The model owns its feature modules, so `model(flux)` renders images and audio features on the
model's device inside forward; `branches.FeatureBranch` keeps their fixed buffers out of the
state dict.

Table 4 uses the 1D branch with Coordinate Attention: the paper picks CoordAtt after Table 3 "for
use in all subsequent experiments involving spectral data", so `attn='coordatt'` is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from .audio_cnn import AudioBranch
from .branches import FeatureBranch, audio_feature, spectrum_image
from .cnn1d import CNN1DBranch, output_shape
from .epsanet import EPSANetBranch
from .registry import as_kwargs, register_model

MODALITIES = ("spec1d", "image", "mel", "mfcc", "lfcc")
AUDIO = ("mel", "mfcc", "lfcc")


class FusionClassifier(nn.Module):
    """(B, input_len) flux -> (B, n_classes) logits from the concatenated branch embeddings.

    Args:
        modalities: any non-empty subset of MODALITIES; branches run in MODALITIES order.
        attn: attention of the 'spec1d' branch (a create_attn1d name).
        audio_preset: AudioFeature preset ('paper' or 'authors-code').
        image_size: side of the rendered spectrum image.
        epsanet_layers: blocks per EPSANet stage ((3, 4, 6, 3) is EPSANet-50).
        image_canvas: None (default) draws the spectrum straight at image_size; 512 draws it
            on the authors' canvas and resizes (closer to their matplotlib images, slower).
        spec1d_hidden: width of the 1D branch's hidden linear layer (the paper's 1024).
        mel_db: Mel spectrogram in dB with an 80 dB floor (default) or in power (the paper,
            torchaudio's MelSpectrogram as is); docs/reproduction.md, "The papers' departures".
        audio_head_relu: ReLU between the audio head's two Linears (default) or none (the
            authors' code).
    """

    def __init__(
        self,
        modalities: Sequence[str] = MODALITIES,
        attn: str = "coordatt",
        audio_preset: str = "paper",
        image_size: int = 224,
        epsanet_layers: Sequence[int] = (3, 4, 6, 3),
        n_classes: int = 8,
        input_len: int = 3700,
        image_canvas: int | None = None,
        spec1d_hidden: int = 1024,
        mel_db: bool = True,
        audio_head_relu: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(modalities, str):
            modalities = (modalities,)
        unknown = sorted(set(modalities) - set(MODALITIES))
        if unknown or not modalities:
            raise ValueError(
                f"modalities must be a non-empty subset of {MODALITIES}; got {tuple(modalities)}"
            )
        self.branches = nn.ModuleDict()
        for name in (m for m in MODALITIES if m in modalities):
            if name == "spec1d":
                branch = FeatureBranch(
                    None, CNN1DBranch(input_len=input_len, attn=attn, hidden=spec1d_hidden)
                )
            elif name == "image":
                branch = FeatureBranch(
                    spectrum_image(image_size, image_canvas), EPSANetBranch(epsanet_layers)
                )
            else:
                feature = audio_feature(name, audio_preset, mel_db=mel_db)
                net = AudioBranch(output_shape(feature, (input_len,)), head_relu=audio_head_relu)
                branch = FeatureBranch(feature, net)
            self.branches[name] = branch
        self.classifier = nn.Linear(sum(b.out_dim for b in self.branches.values()), n_classes)

    def embed(self, flux: torch.Tensor) -> torch.Tensor:
        """(B, input_len) -> (B, 256 * n_modalities) concatenated embeddings."""
        return torch.cat([branch(flux) for branch in self.branches.values()], dim=1)

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(flux))


@dataclass(frozen=True, kw_only=True)
class FusionConfig:
    """Arguments of FusionClassifier (see there); what a model folder saves."""

    modalities: Sequence[str] = MODALITIES
    attn: str = "coordatt"
    audio_preset: str = "paper"
    image_size: int = 224
    epsanet_layers: Sequence[int] = (3, 4, 6, 3)
    n_classes: int = 8
    input_len: int = 3700
    image_canvas: int | None = None
    spec1d_hidden: int = 1024
    mel_db: bool = True
    audio_head_relu: bool = True


@register_model(config=FusionConfig)
def fusion(config: FusionConfig) -> FusionClassifier:
    """Multimodal fusion of any subset of spec1d / image / mel / mfcc / lfcc."""
    return FusionClassifier(**as_kwargs(config))


TABLE4 = {
    "mm_1d": ("spec1d",),
    "mm_2d": ("image",),
    "mm_mel": ("mel",),
    "mm_mfcc": ("mfcc",),
    "mm_lfcc": ("lfcc",),
    "mm_1d_2d": ("spec1d", "image"),
    "mm_1d_audio": ("spec1d", "mel", "mfcc", "lfcc"),
    "mm_all": MODALITIES,
}

for _name, _mods in TABLE4.items():
    register_model(
        fusion, name=_name, config=FusionConfig(modalities=_mods),
        description=f"Table 4 row: {' + '.join(_mods)} (fusion with modalities={_mods}).",
    )
