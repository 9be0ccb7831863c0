"""Augmentations for real spectra: what differs between releases, instruments and nights.

A batch transform (an nn.Module, applied on the device to (B, 2, L) [flux, good] tensors in
training only). Each effect is drawn per spectrum:

- lower SNR: Gaussian noise with sigma = k / sqrt(ivar), k up to `noise_max` (real noise shape);
- smooth multiplicative flux-calibration distortion: a random cubic in log-wavelength;
- reddening-like tilt: (lambda / lambda_mid)^beta (the same low-order effect as E(B-V));
- radial velocity: a shift of up to `max_shift` pixels (69 km/s each on the LAMOST grid);
- resolution: a Gaussian blur of up to `max_blur` pixels sigma;
- masked spans: a random span marked bad and filled flat, as a dead CCD column or arm gap;
- spikes: a few single-pixel cosmic rays.

Then the flux is renormalised as `preprocess(norm="robust")` does (up to the running median),
so augmented spectra look like preprocessed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..preprocess import ROBUST_CLIP


@dataclass
class AugmentConfig:
    p: float = 0.8  # probability that a spectrum is augmented at all
    noise_max: float = 2.0
    distortion: float = 0.08
    tilt: float = 0.5
    max_shift: int = 2
    max_blur: float = 1.5
    span_p: float = 0.3
    span_max: int = 600
    spikes_p: float = 0.2


class SpectrumAugment(nn.Module):
    """(B, 2, L) [flux, good], (B, L) ivar -> (B, 2, L) augmented. Identity in eval mode."""

    def __init__(self, cfg: AugmentConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or AugmentConfig()

    def forward(self, x: torch.Tensor, ivar: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        if not self.training:
            return x
        c = self.cfg
        B, _, L = x.shape
        dev = x.device
        u = lambda *s: torch.rand(*s, device=dev, generator=gen)  # noqa: E731
        flux, good = x[:, 0].clone(), x[:, 1].clone()
        on = (u(B) < c.p).float()[:, None]
        t = torch.linspace(-1, 1, L, device=dev)[None, :]

        sigma = torch.where(ivar > 0, ivar.clamp_min(1e-12).rsqrt(), torch.zeros_like(ivar))
        k = u(B, 1) * c.noise_max * on
        flux = flux + torch.randn(B, L, device=dev, generator=gen) * sigma * k

        a = (u(B, 4) * 2 - 1) * c.distortion
        legendre = torch.stack([t, 1.5 * t**2 - 0.5, 2.5 * t**3 - 1.5 * t, torch.ones_like(t) * 0], 1)
        dist = 1 + (a[:, :, None] * legendre).sum(1)
        beta = (u(B, 1) * 2 - 1) * c.tilt
        tilt = torch.exp(beta * t * 0.37)  # ln(8672/3700)/2 ~ 0.43: lambda^beta across the grid
        flux = flux * torch.where(on > 0, dist * tilt, torch.ones_like(flux))

        shift = ((u(B) * (2 * c.max_shift + 1)).long() - c.max_shift) * on[:, 0].long()
        idx = (torch.arange(L, device=dev)[None, :] - shift[:, None]).clamp(0, L - 1)
        flux, good = flux.gather(1, idx), good.gather(1, idx)

        s = u(B) * c.max_blur * on[:, 0]
        if s.max() > 0.3:
            r = torch.arange(-4, 5, device=dev, dtype=flux.dtype)
            w = torch.exp(-0.5 * (r[None, :] / s.clamp_min(1e-3)[:, None]) ** 2)
            w = w / w.sum(1, keepdim=True)
            fp = F.pad(flux[None], (4, 4), mode="replicate")[0]
            flux = F.conv1d(fp[None], w[:, None, :], groups=B)[0]

        span = (u(B) < c.span_p) & (on[:, 0] > 0)
        if span.any():
            start = (u(B) * L).long()
            length = (u(B) * c.span_max).long() + 20
            pos = torch.arange(L, device=dev)[None, :]
            cut = span[:, None] & (pos >= start[:, None]) & (pos < (start + length)[:, None])
            fill = flux.gather(1, (start - 1).clamp(0, L - 1)[:, None]).expand(-1, L)
            flux = torch.where(cut, fill, flux)
            good = torch.where(cut, torch.zeros_like(good), good)

        spk = (u(B, L) < (0.002 * (u(B, 1) < c.spikes_p).float() * on))
        flux = torch.where(spk, flux + 3.0, flux)

        # Renormalise like preprocess(norm='robust') (95th percentile of a smoothed copy). A 5-px
        # running mean on every 4th pixel stands in for the running median: a median over
        # (B, L, 5) windows cost more than the network's forward pass.
        smooth = F.avg_pool1d(flux[:, None], 5, 1)[:, 0, ::4]
        scale = torch.quantile(smooth, 0.95, dim=1, keepdim=True).clamp_min(1e-6)
        flux = (flux / scale).clamp(*ROBUST_CLIP)
        return torch.stack([flux, good], 1)
