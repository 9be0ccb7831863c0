"""Degrade a spectrum to a lower resolving power with a Gaussian in ln λ (velocity) space.

Working in ln λ makes a constant R a constant kernel width: σ_lnλ = 1 / (R · 2√(2 ln 2)).
The kernel for a source of resolution σ_src(λ) is σ_k² = σ_target² − σ_src², zero where the
source is already coarser (it cannot be sharpened). A fixed-FWHM source (STELIB, 3 Å) has a
σ_src that changes with λ, so the kernel width varies; we convolve with a few widths and
interpolate between them per pixel (widths differ by < 10 %, so the error is tiny).

Flux conservation: we convolve f_λ·λ (flux per unit ln λ) and divide by λ again, so that
∫ f dλ is preserved exactly on the uniform ln λ grid.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
DEFAULT_STEP_LN = 2e-5  # 6 km/s: oversamples LAMOST's 69 km/s pixels and σ ≈ 71 km/s


def sigma_ln_from_resolution(r: float | np.ndarray) -> np.ndarray:
    """Gaussian σ in ln λ for resolving power R = λ / FWHM."""
    return 1.0 / (np.asarray(r, dtype=np.float64) * FWHM_PER_SIGMA)


def source_sigma_ln(
    wave: np.ndarray, resolution: float | None = None, fwhm_A: float | None = None
) -> np.ndarray:
    """σ_lnλ of the source at each wavelength (n,): from a fixed FWHM in Å when given
    (σ = FWHM / (λ · 2.355)), else from a constant R; zeros when neither is known."""
    wave = np.asarray(wave, dtype=np.float64)
    if fwhm_A is not None:
        return fwhm_A / (wave * FWHM_PER_SIGMA)
    if resolution is not None and resolution > 0:
        return np.full(wave.shape, float(sigma_ln_from_resolution(resolution)))
    return np.zeros(wave.shape)


def kernel_sigma_ln(sigma_target: float, sigma_source: np.ndarray) -> np.ndarray:
    """σ_k = sqrt(max(σ_target² − σ_src², 0)) per pixel (n,)."""
    return np.sqrt(np.clip(sigma_target**2 - np.asarray(sigma_source) ** 2, 0.0, None))


def ln_grid(wmin: float, wmax: float, step_ln: float = DEFAULT_STEP_LN) -> np.ndarray:
    """Uniform grid in ln λ from wmin to wmax (Å), shape (m,)."""
    n = int(np.floor(np.log(wmax / wmin) / step_ln)) + 1
    return wmin * np.exp(step_ln * np.arange(n))


def gaussian_smooth_variable(values: np.ndarray, sigma_pix: np.ndarray, n_levels: int = 8) -> np.ndarray:
    """Gaussian smoothing (n,) with a per-pixel σ in pixels (n,), by linear interpolation
    between `n_levels` fixed-σ convolutions. σ = 0 leaves the pixel unchanged."""
    values = np.asarray(values, dtype=np.float64)
    sigma_pix = np.asarray(sigma_pix, dtype=np.float64)
    smax = float(sigma_pix.max()) if sigma_pix.size else 0.0
    if smax <= 0:
        return values.copy()
    if np.ptp(sigma_pix) < 1e-3 * smax:
        return ndimage.gaussian_filter1d(values, smax, mode="nearest", truncate=5.0)
    levels = np.linspace(0.0, smax, n_levels)
    stack = [values] + [
        ndimage.gaussian_filter1d(values, s, mode="nearest", truncate=5.0) for s in levels[1:]
    ]
    pos = np.clip(sigma_pix / levels[1], 0, n_levels - 1 - 1e-9)
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    stack = np.stack(stack)
    idx = np.arange(values.size)
    return stack[lo, idx] * (1 - frac) + stack[lo + 1, idx] * frac


def convolve_to_resolution(
    wave: np.ndarray,
    flux: np.ndarray,
    r_target: float = 1800.0,
    resolution: float | None = None,
    fwhm_A: float | None = None,
    good: np.ndarray | None = None,
    step_ln: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample a source spectrum (n,) onto a uniform ln λ grid spanning its good pixels and
    smooth it to resolving power `r_target`, accounting for its own resolution.

    Pixels outside `good` (bool (n,), default all) inside the span are linearly interpolated
    over first. step_ln: grid step in ln λ (default: 2e-5, or half the source's sampling if
    finer). Returns (wave_grid (m,), flux (m,)) in the input's flux units.
    """
    wave = np.asarray(wave, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    good = np.isfinite(flux) if good is None else (np.asarray(good, bool) & np.isfinite(flux))
    if good.sum() < 2:
        raise ValueError("need at least 2 good pixels to convolve")
    gw, gf = wave[good], flux[good]
    if step_ln is None:
        # Never coarser than half the source's own sampling, so interpolation keeps its lines.
        step_ln = min(DEFAULT_STEP_LN, 0.5 * float(np.median(np.diff(np.log(gw)))))
    grid = ln_grid(gw[0], gw[-1], step_ln)
    # Flux per unit ln λ, so that the convolution conserves ∫ f dλ.
    f_ln = np.interp(grid, gw, gf) * grid
    sig_k = kernel_sigma_ln(float(sigma_ln_from_resolution(r_target)), source_sigma_ln(grid, resolution, fwhm_A))
    out = gaussian_smooth_variable(f_ln, sig_k / step_ln) / grid
    return grid, out


def measure_fwhm(wave: np.ndarray, flux: np.ndarray) -> float:
    """FWHM (Å) of a single peak (emission line over zero continuum), by linear
    interpolation of the half-maximum crossings on either side of the peak."""
    flux = np.asarray(flux, dtype=np.float64)
    k = int(np.argmax(flux))
    half = flux[k] / 2.0
    left = k
    while left > 0 and flux[left] > half:
        left -= 1
    right = k
    while right < flux.size - 1 and flux[right] > half:
        right += 1
    wl = np.interp(half, [flux[left], flux[left + 1]], [wave[left], wave[left + 1]])
    wr = np.interp(half, [flux[right], flux[right - 1]], [wave[right], wave[right - 1]])
    return float(wr - wl)
