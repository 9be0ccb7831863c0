"""Audio features of a spectrum: Mel spectrogram, MFCC and LFCC (paper §2, "audio modality").

The min-max normalised flux vector is treated as a mono waveform. Each feature reproduces a
`torchaudio.transforms` module exactly (checked by tests against torchaudio at both presets),
but computes it faster for a batch:

* the power spectrum is a matmul of the framed signal against a precomputed windowed DFT basis
  of shape ``(win_length, 2 * n_freq)`` when the window is much shorter than ``n_fft``
  (torchaudio zero-pads 80-sample windows to 512-point FFTs, so most of its work multiplies
  zeros); when the window fills ``n_fft`` an ``rfft`` of the windowed frames is cheaper;
* frequency bins that no filter uses are dropped from the basis;
* features that share ``(n_fft, win_length, hop_length, center)`` share one power spectrum
  (`AudioFeatures`).

Choices (documented in docs/features.md):

* ``sample_rate = 16000`` (torchaudio's default; the paper gives none). It fixes the Hz scale of
  the filter banks: for the Mel filters it sets where the non-linear mel warping bends
  (mel(f) = 2595 log10(1 + f / 700) with f up to 8 kHz); the LFCC linear filters do not depend
  on it.
* Mel spectrogram → decibels with ``AmplitudeToDB("power", top_db=80)``, per spectrum. MFCC and
  LFCC already do exactly this inside torchaudio before their DCT, so all three features live
  on the same dB scale with the same 80 dB floor. ``mel_db=False`` returns torchaudio's raw
  Mel power instead.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

__all__ = [
    "AUDIO_KINDS",
    "AUDIO_PRESETS",
    "AudioFeature",
    "AudioFeatures",
    "audio_feature_shape",
    "torchaudio_transform",
]

AUDIO_KINDS = ("mel", "mfcc", "lfcc")

#: preset -> feature -> torchaudio keyword arguments (``sample_rate`` added at build time).
AUDIO_PRESETS: dict[str, dict[str, dict]] = {
    # Parameters as printed in the paper (§2).
    "paper": {
        "mel": {"n_fft": 512, "win_length": 80, "hop_length": 80, "n_mels": 64},
        "mfcc": {
            "n_mfcc": 30,
            "melkwargs": {"n_fft": 512, "win_length": 50, "hop_length": 40, "n_mels": 64},
        },
        "lfcc": {"n_lfcc": 40, "speckwargs": {"n_fft": 512, "hop_length": 80}},
    },
    # What the authors' released code ran (recovered from its hard-coded layer sizes).
    "authors-code": {
        "mel": {"n_fft": 512, "win_length": 60, "hop_length": 60, "n_mels": 64},
        "mfcc": {
            "n_mfcc": 30,
            "melkwargs": {"n_fft": 512, "win_length": 50, "hop_length": 40, "n_mels": 64},
        },
        "lfcc": {"n_lfcc": 30, "speckwargs": {"n_fft": 512, "hop_length": 60, "center": False}},
    },
}

DEFAULT_SAMPLE_RATE = 16000
TOP_DB = 80.0  # torchaudio's MFCC/LFCC floor, reused for the Mel dB scale
AMIN = 1e-10  # torchaudio AmplitudeToDB clamp


def _check(kind: str, preset: str) -> dict:
    if kind not in AUDIO_KINDS:
        raise ValueError(f"unknown audio feature {kind!r}; choose one of {AUDIO_KINDS}")
    if preset not in AUDIO_PRESETS:
        raise ValueError(f"unknown audio preset {preset!r}; choose one of {tuple(AUDIO_PRESETS)}")
    return AUDIO_PRESETS[preset][kind]


def torchaudio_transform(
    kind: str,
    preset: str = "paper",
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    mel_db: bool = True,
) -> nn.Module:
    """The plain torchaudio module for a feature: the reference `AudioFeature` must equal.

    Input ``(..., L)`` -> ``(..., F, T)``. Feed ``(B, 1, L)`` so the 80 dB floor is per
    spectrum (torchaudio takes the maximum over the last three dimensions).
    """
    kw = _check(kind, preset)
    if kind == "mel":
        mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, **kw)
        if not mel_db:
            return mel
        return nn.Sequential(mel, torchaudio.transforms.AmplitudeToDB("power", top_db=TOP_DB))
    if kind == "mfcc":
        return torchaudio.transforms.MFCC(sample_rate=sample_rate, **kw)
    return torchaudio.transforms.LFCC(sample_rate=sample_rate, **kw)


def _spec_params(kind: str, kw: dict) -> dict:
    """STFT parameters after torchaudio's defaults (Spectrogram: win = n_fft, hop = win // 2)."""
    spec = {"mel": kw, "mfcc": kw.get("melkwargs", {}), "lfcc": kw.get("speckwargs", {})}[kind]
    n_fft = spec.get("n_fft", 400)
    win = spec.get("win_length") or n_fft
    hop = spec.get("hop_length") or win // 2
    return {
        "n_fft": n_fft,
        "win_length": win,
        "hop_length": hop,
        "center": spec.get("center", True),
    }


def audio_feature_shape(kind: str, preset: str = "paper", input_len: int = 3700) -> tuple[int, int]:
    """``(F, T)`` of a feature for a flux vector of ``input_len`` pixels, without running it."""
    kw = _check(kind, preset)
    p = _spec_params(kind, kw)
    n_bins = {
        "mel": kw.get("n_mels", 128),
        "mfcc": kw.get("n_mfcc", 40),
        "lfcc": kw.get("n_lfcc", 40),
    }
    if p["center"]:
        n_frames = 1 + input_len // p["hop_length"]
    else:
        n_frames = 1 + (input_len - p["n_fft"]) // p["hop_length"]
    return n_bins[kind], n_frames


class AudioFeature(nn.Module):
    """One audio feature of a flux batch, numerically equal to the torchaudio transform.

    Args:
        kind: ``'mel'``, ``'mfcc'`` or ``'lfcc'``.
        preset: key of `AUDIO_PRESETS` (``'paper'`` or ``'authors-code'``).
        sample_rate: Hz scale of the filter banks (default 16000, torchaudio's).
        mel_db: Mel spectrogram in dB with an 80 dB floor (default) or raw power.

    Shapes: forward ``(B, L)`` -> ``(B, 1, F, T)``; see `audio_feature_shape`.

    Buffers (move with ``.to(device)``): ``basis`` ``(win_length, 2 * n_used)`` windowed DFT
    (matmul path) or ``window`` ``(win_length,)`` (rfft path), ``fbank`` ``(n_used, n_filters)``,
    ``dct`` ``(n_filters, n_coeffs)`` (cepstral features only).
    """

    def __init__(
        self,
        kind: str,
        preset: str = "paper",
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        mel_db: bool = True,
    ):
        super().__init__()
        kw = _check(kind, preset)
        self.kind, self.preset = kind, preset
        p = _spec_params(kind, kw)
        self.n_fft, self.win_length = p["n_fft"], p["win_length"]
        self.hop_length, self.center = p["hop_length"], p["center"]
        self.log = kind != "mel" or mel_db

        # Filter banks and DCT come from torchaudio itself so they cannot drift from it.
        ref = torchaudio_transform(kind, preset, sample_rate, mel_db=False)
        if kind == "mel":
            fbank, dct = ref.mel_scale.fb, None
        elif kind == "mfcc":
            fbank, dct = ref.MelSpectrogram.mel_scale.fb, ref.dct_mat
        else:
            fbank, dct = ref.filter_mat, ref.dct_mat
        # Drop frequency bins no filter touches: they cost DFT work and add nothing.
        used = (fbank.abs().sum(1) > 0).nonzero().squeeze(1)
        self._used_key = tuple(used.tolist())
        self.register_buffer("used", used)
        self.register_buffer("fbank", fbank[used].contiguous().float())
        self.register_buffer("dct", None if dct is None else dct.contiguous().float())

        # A DFT by matmul costs win * n_used MACs per frame, an rfft roughly 6 n_fft log2(n_fft)
        # flops (measured crossover on 2 CPU cores);
        # the matmul wins for windows much shorter than n_fft (80 of 512 in the paper).
        self.use_matmul = self.win_length * len(used) < 6 * self.n_fft * math.log2(self.n_fft)
        window = torch.hann_window(self.win_length, periodic=True, dtype=torch.float64)
        if self.use_matmul:
            # The window sits centred in the n_fft frame; the offset is only a phase that
            # the power spectrum discards, so the basis starts at the window's first sample.
            n = torch.arange(self.win_length, dtype=torch.float64)[:, None]
            ang = 2 * math.pi * n * used.double()[None, :] / self.n_fft
            basis = torch.cat(
                [window[:, None] * torch.cos(ang), window[:, None] * torch.sin(ang)], 1
            )
            self.register_buffer("basis", basis.float())
            self.register_buffer("window", None)
        else:
            self.register_buffer("basis", None)
            self.register_buffer("window", window.float())

    def stft_key(self) -> tuple:
        """Features with equal keys can share one power spectrum."""
        return (self.n_fft, self.win_length, self.hop_length, self.center, self._used_key)

    def power(self, flux: Tensor) -> Tensor:
        """Power spectrum of the frames: ``(B, L)`` -> ``(B, T, n_used)``."""
        x = flux.unsqueeze(1)
        if self.center:
            x = F.pad(x, (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        frames = x.squeeze(1).unfold(-1, self.n_fft, self.hop_length)  # (B, T, n_fft) view
        off = (self.n_fft - self.win_length) // 2  # torch.stft centres a short window
        frames = frames[..., off : off + self.win_length]
        if self.use_matmul:
            spec = frames @ self.basis.to(frames.dtype)
            re, im = spec.chunk(2, dim=-1)
            return re * re + im * im
        spec = torch.fft.rfft(frames * self.window.to(frames.dtype), n=self.n_fft)[..., self.used]
        return spec.real.square() + spec.imag.square()

    def from_power(self, power: Tensor) -> Tensor:
        """Filter bank, dB and DCT: ``(B, T, n_used)`` -> ``(B, 1, F, T)``."""
        x = power @ self.fbank.to(power.dtype)  # (B, T, n_filters)
        if self.log:
            x = 10.0 * torch.log10(torch.clamp(x, min=AMIN))
            # Per-spectrum floor, as torchaudio does for (B, 1, F, T) input.
            x = torch.maximum(x, x.amax(dim=(-2, -1), keepdim=True) - TOP_DB)
        if self.dct is not None:
            x = x @ self.dct.to(x.dtype)
        return x.transpose(-1, -2).unsqueeze(1)

    def forward(self, flux: Tensor) -> Tensor:
        """``(B, L)`` flux -> ``(B, 1, F, T)`` feature."""
        if flux.dim() != 2:
            raise ValueError(f"expected flux of shape (B, L), got {tuple(flux.shape)}")
        return self.from_power(self.power(flux))


class AudioFeatures(nn.Module):
    """Several audio features of one flux batch; features with equal STFTs share it.

    Shapes: forward ``(B, L)`` -> ``{kind: (B, 1, F_kind, T_kind)}``.
    """

    def __init__(
        self,
        kinds: tuple[str, ...] = AUDIO_KINDS,
        preset: str = "paper",
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        mel_db: bool = True,
    ):
        super().__init__()
        self.features = nn.ModuleDict(
            {k: AudioFeature(k, preset, sample_rate, mel_db=mel_db) for k in kinds}
        )

    def forward(self, flux: Tensor) -> dict[str, Tensor]:
        powers: dict[tuple, Tensor] = {}
        out = {}
        for kind, feat in self.features.items():
            key = feat.stft_key()
            if key not in powers:
                powers[key] = feat.power(flux)
            out[kind] = feat.from_power(powers[key])
        return out
