"""Synthetic spectra that are not normal stars, for teaching a model what to flag.

MKNet's Mahalanobis test (models/mknet.py) misses white dwarfs: a DA white dwarf looks to a
star-trained embedding like an A star with broad Balmer lines (docs/accuracy.md). Outlier
exposure (Hendrycks et al. 2019) trains a detector on examples of "not one of the classes"; the
real non-stellar spectra in ../shared (BOSS white dwarfs and L/T dwarfs, a LAMOST QSO) are kept
for testing it, so the training outliers are drawn from simple physical recipes instead:

- DA white dwarf: blackbody, 7,000-40,000 K, pseudo-Voigt Balmer lines, H beta 60-200 Å FWHM
  (pressure broadening);
- DB: blackbody, 11,000-30,000 K, broad He I lines; DC: featureless blackbody, 4,500-12,000 K;
- DZ: cool blackbody with strong, broad Ca II H&K;
- quasar: a power law with broad emission lines (C IV ... H alpha) at z 0-3.5;
- emission-line galaxy: a smooth or star-like continuum with narrow lines at z 0-0.4;
- junk: flat, pure noise, steps.

Each gets a power-law tilt (reddening, calibration), a smooth distortion and noise at a random
SNR (5-300), on the model grid, robust-normalised like the training rows.
"""

from __future__ import annotations

import numpy as np

from ..preprocess import robust_normalise

KINDS = ("DA", "DB", "DC", "DZ", "quasar", "galaxy", "junk")
BALMER = (6564.6, 4862.7, 4341.7, 4102.9, 3971.2, 3890.2, 3836.5)
HE_I = (4027.3, 4472.7, 4923.3, 5017.1, 5877.3, 6679.9, 7067.2)
QSO_LINES = ((1549.1, 3.0), (1908.7, 1.2), (2799.1, 1.5), (4862.7, 1.0), (5008.2, 0.4), (6564.6, 2.5))
GAL_LINES = ((3728.5, 2.0), (4862.7, 1.0), (5008.2, 2.5), (6564.6, 4.0), (6585.3, 1.2), (6718.3, 0.8))


def _planck(w_A: np.ndarray, t: float) -> np.ndarray:
    x = 1.4388e8 / (w_A * t)  # hc / (lambda k T), lambda in Å
    return w_A ** -5 / np.expm1(np.minimum(x, 700.0))


def _lines(w, centres, widths, depths, profile: str = "gauss"):
    out = np.zeros_like(w)
    for c, s, d in zip(centres, widths, depths, strict=True):
        u = (w - c) / s
        out += d * (np.exp(-0.5 * u * u) if profile == "gauss" else 1.0 / (1.0 + u * u))
    return out


def outlier_spectrum(kind: str, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One noiseless spectrum of `kind` on wavelengths `w` (Å), arbitrary scale."""
    if kind == "DA":
        # pseudo-Voigt lines (Gaussian core, Lorentzian wings) multiplied in, so overlapping
        # wings of the higher series deepen the blue end without going negative
        t = rng.uniform(7000, 40000)
        fwhm = rng.uniform(60, 200)  # H beta; an A star's is ~20-40 Å
        depth = rng.uniform(0.35, 0.7)
        eta = rng.uniform(0.3, 0.8)
        n = np.arange(len(BALMER))
        widths = fwhm * rng.uniform(0.7, 0.95) ** np.abs(n - 1)
        depths = depth * rng.uniform(0.8, 1.0) ** np.abs(n - 1)
        f = _planck(w, t)
        for c, fw, d in zip(BALMER, widths, depths, strict=True):
            u = (w - c) / (fw / 2)
            f = f * (1 - d * (eta / (1 + u * u) + (1 - eta) * np.exp(-0.693 * u * u)))
        return f
    if kind == "DB":
        lines = _lines(w, HE_I, np.full(7, rng.uniform(15, 60)), rng.uniform(0.05, 0.35, 7))
        return _planck(w, rng.uniform(11000, 30000)) * np.clip(1 - lines, 0.05, None)
    if kind == "DC":
        return _planck(w, rng.uniform(4500, 12000))
    if kind == "DZ":
        lines = _lines(w, (3934.8, 3969.6), np.full(2, rng.uniform(10, 40)), np.full(2, rng.uniform(0.4, 0.9)))
        return _planck(w, rng.uniform(5000, 11000)) * np.clip(1 - lines, 0.02, None)
    if kind == "quasar":
        z = rng.uniform(0, 3.5)
        fwhm_kms = rng.uniform(2000, 9000)
        c, a = np.array([x for x, _ in QSO_LINES]) * (1 + z), np.array([y for _, y in QSO_LINES])
        sig = c * fwhm_kms / 2.998e5 / 2.355
        cont = (w / 5000.0) ** rng.uniform(-2.0, 0.0)
        return cont * (1 + rng.uniform(0.3, 1.5) * _lines(w, c, sig * 1.0, a * rng.uniform(0.5, 1.5, len(a))))
    if kind == "galaxy":
        z = rng.uniform(0, 0.4)
        c, a = np.array([x for x, _ in GAL_LINES]) * (1 + z), np.array([y for _, y in GAL_LINES])
        cont = _planck(w, rng.uniform(4000, 9000)) if rng.random() < 0.5 else np.ones_like(w)
        cont = cont / np.median(cont)
        return cont * (1 + rng.uniform(0.2, 3.0) * _lines(w, c, np.full(len(c), rng.uniform(2, 6)), a))
    if kind == "junk":
        r = rng.random()
        if r < 0.4:
            return np.ones_like(w)
        if r < 0.7:
            return np.abs(1 + rng.normal(0, rng.uniform(0.2, 1.0), w.size))
        step = rng.uniform(w[0], w[-1])
        return np.where(w < step, 1.0, rng.uniform(0.1, 3.0))
    raise ValueError(f"unknown outlier kind {kind!r}; choose from {', '.join(KINDS)}")


# DA white dwarfs are the hard case (closest to A stars), so they get the largest share.
DEFAULT_MIX = ("DA", "DA", "DA", "DB", "DC", "DZ", "quasar", "galaxy", "junk")


def outlier_set(n: int, w: np.ndarray, seed: int = 0, kinds=DEFAULT_MIX) -> tuple[np.ndarray, list[str]]:
    """(n, len(w)) float32 robust-normalised synthetic outliers and their kinds (cycling
    through `kinds`, repeats allowed to weight a kind)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, w.size), np.float32)
    names = [kinds[i % len(kinds)] for i in range(n)]
    t = np.linspace(-1, 1, w.size)
    for i, k in enumerate(names):
        f = outlier_spectrum(k, w, rng)
        f = f / np.median(f[f > 0]) if np.any(f > 0) else f
        # a power-law tilt (reddening, flux calibration) and a smooth distortion
        f = f * (w / 5000.0) ** rng.uniform(-1.0, 2.0)
        f = f * (1 + rng.uniform(-0.1, 0.1) * t + rng.uniform(-0.05, 0.05) * (1.5 * t * t - 0.5))
        snr = np.exp(rng.uniform(np.log(5), np.log(300)))
        f = f + rng.normal(0, 1, w.size) * np.abs(f).mean() / snr
        out[i] = robust_normalise(f)
    return out, names
