"""Feature modalities computed from a flux batch on its device (paper §2).

* audio: `AudioFeature` / `AudioFeatures` (Mel spectrogram, MFCC, LFCC; presets in
  `AUDIO_PRESETS`), equal to torchaudio's transforms.
* image: `SpectrumImage` (batched torch renderer of the plotted spectrum) and the matplotlib
  reference `render_reference` / `reference_image_batch`.
"""

from .audio import (
    AUDIO_KINDS,
    AUDIO_PRESETS,
    AudioFeature,
    AudioFeatures,
    audio_feature_shape,
    torchaudio_transform,
)
from .image import SpectrumImage, reference_image_batch, render_reference, ssim

__all__ = [
    "AUDIO_KINDS",
    "AUDIO_PRESETS",
    "AudioFeature",
    "AudioFeatures",
    "SpectrumImage",
    "audio_feature_shape",
    "reference_image_batch",
    "render_reference",
    "ssim",
    "torchaudio_transform",
]
