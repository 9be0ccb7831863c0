"""Doppler shift + flux-conserving rebinning of a fine rest-frame spectrum onto the LAMOST grid.

A source spectrum is kept as the cumulative integral of f dλ at its pixel edges (so the
telluric correction can rescale it in place); each draw resamples it with the project's one
resampler, `resample.resample_edges`, at the Doppler-shifted edges of the output pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..preprocess import lamost_grid
from ..resample import pixel_edges, resample_edges
from ..spectrum import C_KMS

LAMOST_N_PIX = 3909  # full LAMOST LRS row: 3699.99-9099.4 Å (log10 λ = 3.5682 + 1e-4 i)


def lamost_full_grid() -> np.ndarray:
    """The full LAMOST LRS vacuum grid in Å, (3909,)."""
    return lamost_grid(LAMOST_N_PIX)


def doppler_shift(wave_rest: np.ndarray, rv_kms: float | np.ndarray) -> np.ndarray:
    """Observed wavelengths λ_obs = λ_rest (1 + v/c) (v = cz, as `preprocess.to_rest_frame`
    inverts it). rv scalar or (B,) -> (n,) or (B, n)."""
    rv = np.asarray(rv_kms, dtype=np.float64)
    return np.asarray(wave_rest, np.float64) * (1.0 + rv[..., None] / C_KMS) if rv.ndim else (
        np.asarray(wave_rest, np.float64) * (1.0 + float(rv) / C_KMS)
    )


@dataclass
class CumulativeSpectrum:
    """A spectrum as ∫ f dλ at its pixel edges: edges (n+1,), cum (n+1,), cum[0] = 0."""

    edges: np.ndarray
    cum: np.ndarray

    @classmethod
    def from_pixels(cls, wave: np.ndarray, flux: np.ndarray) -> CumulativeSpectrum:
        edges = pixel_edges(wave)
        cum = np.concatenate([[0.0], np.cumsum(np.asarray(flux, np.float64) * np.diff(edges))])
        return cls(edges, cum)

    @property
    def wave_range(self) -> tuple[float, float]:
        return float(self.edges[0]), float(self.edges[-1])


def rebin_shifted(
    src: CumulativeSpectrum, target_wave: np.ndarray, rv_kms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bin means of the source seen at velocities rv (B,) on output pixels target_wave (m,)
    (observed frame). Returns (flux (B, m), covered (B, m) bool); uncovered pixels (any part
    outside the source's range) get flux 0."""
    rv = np.atleast_1d(np.asarray(rv_kms, dtype=np.float64))
    out_edges = pixel_edges(target_wave)
    rest_edges = out_edges[None, :] / (1.0 + rv[:, None] / C_KMS)  # (B, m+1)
    lo, hi = src.wave_range
    flux, _, _ = resample_edges(src.edges, np.diff(src.cum) / np.diff(src.edges), None, rest_edges)
    # Only pixels wholly inside the source count: a partial pixel would be a mean over part
    # of its width, with a different noise level than its neighbours.
    covered = (rest_edges[:, :-1] >= lo) & (rest_edges[:, 1:] <= hi)
    return np.where(covered, flux, 0.0), covered
