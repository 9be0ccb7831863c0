"""Telluric absorption (O₂ and H₂O bands of Earth's atmosphere) for simulated spectra.

LAMOST LRS spectra are not telluric-corrected, while the library spectra are (or were taken
where the bands are weak). A two-sample test picked the O₂ A band out at once
(docs/simulator.md), so the simulation multiplies by a transmission T(λ)^s in the observed
frame (the atmosphere does not move with the star), before the noise step.

T is derived at run time from the user's real LAMOST spectra (the noise profiles): inside
each band window every real spectrum is divided by a straight-line continuum through the
medians of two side bands, and T is the median of those ratios over many spectra, clipped
to ≤ 1; T = 1 outside the windows. Stellar lines shift with each star's RV and differ by
type, so the median over a mixed sample keeps the common, telluric, part. Each real
spectrum's own band strength s (airmass, water vapour) is the least-squares scale of
log(ratio) on log T; a simulation takes the s of the real spectrum that gives its noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Band windows on the vacuum observed-frame grid (Å). Air wavelengths of the bands, from
# the standard telluric atlases: O₂ γ 6276–6310, O₂ B 6867–6955, H₂O 7160–7340, O₂ A
# 7594–7690, H₂O 8100–8380; +1.7–2.3 Å for vacuum, with a little margin. The H₂O band
# beyond 8900 Å lies outside the model window (≤ 8672 Å) and is left out.
TELLURIC_WINDOWS: tuple[tuple[float, float], ...] = (
    (6276.0, 6316.0),
    (6866.0, 6960.0),
    (7160.0, 7350.0),
    (7594.0, 7700.0),
    (8100.0, 8390.0),
)
SIDEBAND_A = 20.0  # width of the continuum side bands either side of a window (Å)
SCALE_RANGE = (0.0, 3.0)  # clip on a real spectrum's fitted band strength
DEEP_CORE = 0.5  # transmission below which a library band core is interpolated, not divided


def in_windows(wave: np.ndarray, windows=TELLURIC_WINDOWS) -> np.ndarray:
    """Boolean (m,): pixels inside any telluric window."""
    wave = np.asarray(wave)
    sel = np.zeros(wave.shape, bool)
    for lo, hi in windows:
        sel |= (wave >= lo) & (wave <= hi)
    return sel


def band_ratio(wave: np.ndarray, flux: np.ndarray, good: np.ndarray, windows=TELLURIC_WINDOWS) -> np.ndarray:
    """flux / continuum (m,) inside each window, 1 outside; NaN where the pixel is bad or a
    window lacks good side-band pixels. The continuum is the line through the side-band
    medians (wave, flux, good all (m,); observed frame)."""
    wave = np.asarray(wave, np.float64)
    flux = np.asarray(flux, np.float64)
    good = np.asarray(good, bool) & np.isfinite(flux)
    out = np.ones_like(wave)
    for lo, hi in windows:
        win = (wave >= lo) & (wave <= hi)
        blue = good & (wave >= lo - SIDEBAND_A) & (wave < lo)
        red = good & (wave > hi) & (wave <= hi + SIDEBAND_A)
        if blue.sum() < 3 or red.sum() < 3:
            out[win] = np.nan
            continue
        xb, yb = np.median(wave[blue]), np.median(flux[blue])
        xr, yr = np.median(wave[red]), np.median(flux[red])
        cont = yb + (yr - yb) * (wave[win] - xb) / (xr - xb)
        with np.errstate(all="ignore"):
            r = np.where(good[win] & (cont > 0), flux[win] / cont, np.nan)
        out[win] = r
    return out


def fit_scale(ratio: np.ndarray, transmission: np.ndarray, min_depth: float = 0.03) -> float:
    """Least-squares s in log(ratio) ≈ s·log(T) over pixels where T < 1 − min_depth.
    ratio, transmission (m,); NaN when nothing usable."""
    lt = np.log(np.clip(transmission, 1e-3, 1.0))
    ok = np.isfinite(ratio) & (ratio > 0.02) & (transmission < 1 - min_depth)
    if ok.sum() < 5:
        return float("nan")
    lr = np.log(np.clip(ratio[ok], 0.02, 2.0))
    s = float(np.sum(lr * lt[ok]) / np.sum(lt[ok] ** 2))
    return float(np.clip(s, *SCALE_RANGE))


@dataclass
class TelluricModel:
    """Transmission (m,) on the full LAMOST grid and per-real-spectrum band strengths."""

    transmission: np.ndarray
    scales: dict[str, float]
    n_spectra: int

    def scale_for(self, obsid: str, rng: np.random.Generator) -> float:
        """The band strength of real spectrum `obsid`, or a random real one when unknown."""
        s = self.scales.get(str(obsid))
        if s is None or not np.isfinite(s):
            pool = np.array([v for v in self.scales.values() if np.isfinite(v)])
            s = float(rng.choice(pool)) if len(pool) else 1.0
        return float(s)

    def apply(self, flux: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
        """flux (..., m) · T^scale; scale scalar or (...,). Transmission stays in [0, 1]."""
        s = np.asarray(scale, np.float64)[..., None]
        return np.asarray(flux) * np.power(self.transmission, s)


def template_from_ratios(ratios: np.ndarray, min_spectra: int = 10) -> np.ndarray:
    """Median of band ratios (n, m) over spectra, clipped to [0, 1]; 1 outside windows and
    where fewer than min_spectra ratios are finite."""
    ratios = np.asarray(ratios, np.float64)
    n_ok = np.isfinite(ratios).sum(axis=0)
    with np.errstate(all="ignore"):
        med = np.nanmedian(np.where(n_ok >= min_spectra, ratios, 1.0), axis=0)
    return np.clip(np.where(np.isfinite(med) & (n_ok >= min_spectra), med, 1.0), 0.0, 1.0)


def telluric_from_profiles(profiles, min_spectra: int = 10) -> TelluricModel | None:
    """TelluricModel from the band ratios stored in real NoiseProfiles; None when fewer
    than min_spectra profiles carry one (e.g. synthetic profiles)."""
    have = [p for p in profiles if getattr(p, "telluric_ratio", None) is not None]
    if len(have) < min_spectra:
        return None
    ratios = np.stack([p.telluric_ratio for p in have])
    trans = template_from_ratios(ratios, min_spectra)
    scales = {str(p.obsid): fit_scale(p.telluric_ratio, trans) for p in have}
    return TelluricModel(trans, scales, len(have))


def fit_shift_scale(
    wave: np.ndarray, ratio: np.ndarray, transmission: np.ndarray, max_kms: float = 150.0, step_kms: float = 5.0
) -> tuple[float, float]:
    """(velocity shift in km/s, s) minimising |log ratio - s·log T(λ shifted by v)|² over the
    bands; (0, 1) when nothing is usable. wave, ratio, transmission (m,) on one grid.

    Sub-pixel: the template is interpolated at λ/(1 + v/c), so shifts of a few km/s count
    (a LAMOST pixel is 69 km/s, too coarse for the sharp O₂ A-band head)."""
    c_kms = 299_792.458
    best = (np.inf, 0.0, 1.0)
    for v in np.arange(-max_kms, max_kms + step_kms / 2, step_kms):
        t = np.interp(wave / (1 + v / c_kms), wave, transmission, left=1.0, right=1.0)
        s = fit_scale(ratio, t)
        if not np.isfinite(s):
            continue
        ok = np.isfinite(ratio) & (ratio > 0.02) & (t < 0.97)
        res = float(np.sum((np.log(np.clip(ratio[ok], 0.02, 2.0)) - s * np.log(np.clip(t[ok], 1e-3, 1))) ** 2))
        if res < best[0]:
            best = (res, float(v), s)
    if abs(best[1]) >= max_kms:
        # No interior minimum: the band shape does not match the template at any shift (e.g. a
        # gap-filled core), so a shift would only move the residual. Keep the frame, fit s.
        s0 = fit_scale(ratio, transmission)
        return 0.0, (s0 if np.isfinite(s0) else 1.0)
    return best[1], best[2]


# --- Library side: STELIB keeps the bands of the observatory it was taken at --------------


def correct_library_tellurics(sources, library: str = "stelib", min_spectra: int = 5) -> TelluricModel | None:
    """Divide the telluric bands out of every `library` source, in place.

    STELIB spectra were not telluric-corrected (their O₂ A band is ~70 % deep at R = 1800),
    whereas LAMOST's pipeline removes the bands. The library's own transmission is the
    median band ratio over its sources (rebinned at rest onto the LAMOST grid); each source
    is divided by T^s with its fitted s, on its fine grid, and flagged 'telluric_corrected'.
    Returns the library model, or None (nothing changed) with fewer than min_spectra sources.
    """
    from .rebin import CumulativeSpectrum, lamost_full_grid, rebin_shifted  # noqa: I001 (cycle)

    todo = [s for s in sources if s.library == library and s.conv is not None]
    if len(todo) < min_spectra:
        return None
    grid = lamost_full_grid()
    ratios = []
    for s in todo:
        f, cov = rebin_shifted(s.conv, grid, np.zeros(1))
        ratios.append(band_ratio(grid, f[0], cov[0]))
    ratios = np.stack(ratios)
    trans = template_from_ratios(ratios, min_spectra)
    model = TelluricModel(trans, {}, len(todo))
    for s, r in zip(todo, ratios, strict=True):
        # Library spectra are in each star's rest frame, so its bands sit shifted by -RV against
        # the median template; fitting the shift with the strength keeps the division from
        # leaving an up-down residual at the sharp A-band head.
        shift, scale = fit_shift_scale(grid, r, trans)
        scale = 1.0 if not np.isfinite(scale) else scale
        model.scales[s.key] = scale
        edges = s.conv.edges
        width = np.diff(edges)
        mid = 0.5 * (edges[1:] + edges[:-1])
        t = np.interp(mid / (1 + shift / 299_792.458), grid, trans, left=1.0, right=1.0) ** scale
        flux = np.diff(s.conv.cum) / width / np.maximum(t, 0.05)
        # Band cores with little light left cannot be divided out (noise and gap-filled
        # pixels blow up, e.g. HD037828's A band); bridge them from the corrected wings.
        deep = t < DEEP_CORE
        if deep.any() and (~deep).sum() >= 2:
            flux[deep] = np.interp(mid[deep], mid[~deep], flux[~deep])
        s.conv = CumulativeSpectrum(edges, np.concatenate([[0.0], np.cumsum(flux * width)]))
        s.flags.append("telluric_corrected")
    return model
