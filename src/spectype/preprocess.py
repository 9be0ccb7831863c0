"""Spectrum -> fixed-length flux on the model's wavelength grid.

Each step is a small pure numpy function; `preprocess` chains them:
bad-pixel mask -> air->vacuum -> rest frame -> flux-conserving resample onto the LAMOST
log-linear grid -> interpolate bad pixels -> optional median filter -> normalise.
Formulas, defaults and the reasons for them are in docs/preprocessing.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import ConfigError, CoverageError
from .resample import pixel_edges, resample_flux_conserving
from .spectrum import C_KMS, Spectrum

# Below 2000 Å the air/vacuum conversion is conventionally not applied (IAU; VALD, SDSS).
_AIR_VACUUM_MIN_WAVE = 2000.0


def lamost_grid(
    n_pix: int = 3700, log10_start: float = 3.5682, log10_step: float = 1e-4
) -> np.ndarray:
    """LAMOST LRS vacuum wavelengths in Å, shape (n_pix,).

    The default is the paper's input: the first 3,700 pixels, 3699.98-8672.1 Å.
    """
    return 10.0 ** (log10_start + log10_step * np.arange(n_pix))


def to_rest_frame(
    wavelength: np.ndarray, z: float | None = None, rv_kms: float | None = None
) -> np.ndarray:
    """lambda_rest = lambda_obs / (1 + z), with z = rv / c when a velocity is given.

    v = cz (not the relativistic formula) so that it inverts `SpectrumMeta.velocity_kms`
    exactly; for stars (|v| < 1000 km/s) the two differ by < 2e-6 in z.
    """
    if z is not None and rv_kms is not None:
        raise ValueError("give z or rv_kms, not both")
    if rv_kms is not None:
        z = float(rv_kms) / C_KMS
    wavelength = np.asarray(wavelength, dtype=np.float64)
    if z is None or z == 0:
        return wavelength.copy()
    return wavelength / (1.0 + float(z))


def vacuum_to_air(wave: np.ndarray) -> np.ndarray:
    """Vacuum -> air wavelength (Å), Morton (2000, ApJS 130, 403) eq. 8 as used by VALD/SDSS.

    n = 1 + 8.34254e-5 + 2.406147e-2 / (130 - s^2) + 1.5998e-4 / (38.9 - s^2),
    s = 1e4 / lambda_vac (µm^-1). Wavelengths below 2000 Å are returned unchanged.
    """
    wave = np.asarray(wave, dtype=np.float64)
    s2 = (1e4 / wave) ** 2
    n = 1.0 + 8.34254e-5 + 2.406147e-2 / (130.0 - s2) + 1.5998e-4 / (38.9 - s2)
    return np.where(wave >= _AIR_VACUUM_MIN_WAVE, wave / n, wave)


def air_to_vacuum(wave: np.ndarray) -> np.ndarray:
    """Air -> vacuum wavelength (Å): N. Piskunov's inverse of Morton (2000), as used by VALD.

    n = 1 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 - s^2)
          + 1.599740894897e-4 / (38.92568793293 - s^2), s = 1e4 / lambda_air.
    Round trip with `vacuum_to_air` is good to ~1e-8 relative. Below 2000 Å: unchanged.
    """
    wave = np.asarray(wave, dtype=np.float64)
    s2 = (1e4 / wave) ** 2
    n = (
        1.0
        + 8.336624212083e-5
        + 2.408926869968e-2 / (130.1065924522 - s2)
        + 1.599740894897e-4 / (38.92568793293 - s2)
    )
    return np.where(wave >= _AIR_VACUUM_MIN_WAVE, wave * n, wave)


def bad_pixel_mask(
    flux: np.ndarray, ivar: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """True where a pixel is unusable: non-finite flux or ivar, ivar <= 0, or mask != 0.

    mask may be boolean or integer survey bits (any set bit is bad). Shapes (..., n).
    """
    flux = np.asarray(flux)
    ivar = np.asarray(ivar)
    bad = ~np.isfinite(flux) | ~np.isfinite(ivar) | ~(ivar > 0)
    if mask is not None:
        bad |= np.asarray(mask) != 0
    return bad


def interpolate_bad_pixels(wave: np.ndarray, flux: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Replace bad pixels by linear interpolation between the nearest good neighbours.

    Runs at either end take the nearest good value (np.interp holds the ends constant).
    All pixels bad: returns zeros. Shapes (n,).
    """
    flux = np.asarray(flux, dtype=np.float64)
    bad = np.asarray(bad, dtype=bool)
    out = flux.copy()
    if not bad.any():
        return out
    good = ~bad
    if not good.any():
        return np.zeros_like(flux)
    out[bad] = np.interp(wave[bad], wave[good], flux[good])
    return out


def _minmax_params(flux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) along the last axis with (f - offset) / scale in [0, 1]; scale 1 when
    the flux is constant, so a flat spectrum maps to zeros instead of NaN."""
    lo = flux.min(axis=-1, keepdims=True)
    rng = flux.max(axis=-1, keepdims=True) - lo
    return lo, np.where(rng > 0, rng, 1.0)


def _l2_scale(flux: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(flux, axis=-1, keepdims=True)
    return np.where(norm > 0, norm, 1.0)


def minmax_normalise(flux: np.ndarray) -> np.ndarray:
    """(f - min f) / (max f - min f) along the last axis (paper 1, eq. 1). (..., n) -> (..., n).

    Constant rows give zeros."""
    flux = np.asarray(flux, dtype=np.float64)
    lo, scale = _minmax_params(flux)
    return (flux - lo) / scale


def l2_normalise(flux: np.ndarray) -> np.ndarray:
    """f / ||f||_2 along the last axis (paper 2, eq. 1). (..., n) -> (..., n).

    All-zero rows stay zero. float32 input stays float32 (what torch models take); the norm
    is always computed in float64."""
    dtype = np.float32 if np.asarray(flux).dtype == np.float32 else np.float64
    flux = np.asarray(flux, dtype=np.float64)
    return (flux / _l2_scale(flux)).astype(dtype, copy=False)


def median_filter(flux: np.ndarray, size: int = 9) -> np.ndarray:
    """Running median of `size` pixels along the last axis; edges use the nearest value
    (scipy's mode='nearest'), not zero padding, so the ends are not pulled down.
    size <= 1 returns a copy. (..., n) -> (..., n)."""
    flux = np.asarray(flux, dtype=np.float64)
    if size <= 1:
        return flux.copy()
    footprint = (1,) * (flux.ndim - 1) + (int(size),)
    return ndimage.median_filter(flux, size=footprint, mode="nearest")


def _robust_scale(flux: np.ndarray, smooth: int = 5, q: float = 95.0) -> np.ndarray:
    """The q-th percentile of a `smooth`-pixel running median along the last axis.

    Why: with min-max one cosmic-ray spike sets the scale and squashes the rest of the
    spectrum flat; a running median removes features narrower than `smooth` pixels before
    the percentile is taken, so no single pixel (nor 5 % of them) can set it. Scale 1 when
    that percentile is not positive (all-zero or negative flux)."""
    sm = median_filter(flux, smooth)
    scale = np.percentile(sm, q, axis=-1, keepdims=True)
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


# A robust-normalised continuum sits near 1; values outside this range are spikes, dead
# pixels or calibration failures, clipped so that they cannot dominate a convolution.
ROBUST_CLIP = (-0.5, 2.0)


def robust_normalise(flux: np.ndarray) -> np.ndarray:
    """f / s clipped to ROBUST_CLIP, s = 95th percentile of the 5-px running median.
    (..., n) -> (..., n)."""
    flux = np.asarray(flux, dtype=np.float64)
    return np.clip(flux / _robust_scale(flux), *ROBUST_CLIP)


_NORMS = ("minmax", "l2", "robust", "none")


@dataclass
class PreprocessConfig:
    """How a spectrum becomes model input. Stored in a model folder's config.json.

    min_coverage: fraction of the grid that must lie inside the spectrum's (rest-frame,
    vacuum) wavelength range. max_bad_fraction: largest fraction of grid pixels allowed to
    have no good input (masked / ivar 0 / uncovered) and be filled by interpolation.
    """

    n_pix: int = 3700
    log10_start: float = 3.5682
    log10_step: float = 1e-4
    rest_frame: bool = True
    norm: str = "minmax"  # "minmax" | "l2" | "robust" | "none"
    median_filter: int = 0  # 0 = off; paper-1 authors' code: 9
    min_coverage: float = 0.95
    max_bad_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.norm not in _NORMS:
            raise ConfigError(f"PreprocessConfig.norm must be one of {_NORMS}, got {self.norm!r}")
        if self.n_pix < 2:
            raise ConfigError(f"PreprocessConfig.n_pix must be >= 2, got {self.n_pix}")

    def grid(self) -> np.ndarray:
        """The model's wavelength grid (vacuum, Å), shape (n_pix,)."""
        return lamost_grid(self.n_pix, self.log10_start, self.log10_step)


@dataclass
class Preprocessed:
    """Model input for one spectrum.

    flux: float32 (n_pix,); ivar: float32 (n_pix,) on the normalised scale, 0 where bad or
    uncovered; bad: bool (n_pix,) pixels that were interpolated or not covered;
    coverage: fraction of the grid inside the input's wavelength range.
    """

    flux: np.ndarray
    ivar: np.ndarray
    bad: np.ndarray
    coverage: float


def _model_frame_wavelength(spec: Spectrum, cfg: PreprocessConfig) -> np.ndarray:
    """The spectrum's wavelengths in vacuum and, if asked, in the star's rest frame.

    Air -> vacuum comes first: the refractive index belongs to the observed wavelength.
    """
    wave = spec.wavelength
    if spec.medium == "air":
        wave = air_to_vacuum(wave)
    if cfg.rest_frame:
        wave = to_rest_frame(wave, rv_kms=spec.meta.velocity_kms or 0.0)
    return wave


def _name(spec: Spectrum) -> str:
    return spec.meta.path or spec.meta.id or "spectrum"


def coverage_fraction(spec: Spectrum, cfg: PreprocessConfig = PreprocessConfig()) -> float:
    """Fraction of cfg's grid pixels inside the spectrum's wavelength range (rest frame and
    vacuum as `preprocess` would use)."""
    wave = _model_frame_wavelength(spec, cfg)
    e = pixel_edges(wave)
    g = pixel_edges(cfg.grid())
    # Same rule as the resampler: at least half of a grid pixel inside the input range.
    inside = np.clip(np.minimum(g[1:], e[-1]) - np.maximum(g[:-1], e[0]), 0, None)
    return float(np.mean(inside >= 0.5 * np.diff(g) * (1 - 1e-9)))


def preprocess(spec: Spectrum, cfg: PreprocessConfig = PreprocessConfig()) -> Preprocessed:
    """Spectrum -> Preprocessed on cfg's grid. Raises CoverageError naming the file when the
    spectrum covers less than cfg.min_coverage of the grid or more than cfg.max_bad_fraction
    of the grid has no good input."""
    grid = cfg.grid()
    bad_in = bad_pixel_mask(spec.flux, spec.ivar, spec.mask)
    wave = _model_frame_wavelength(spec, cfg)
    ivar_in = np.where(bad_in, 0.0, spec.ivar)
    flux, ivar, covered = resample_flux_conserving(wave, spec.flux, ivar_in, grid)

    coverage = float(covered.mean())
    if coverage < cfg.min_coverage:
        raise CoverageError(
            f"{_name(spec)}: covers {coverage:.1%} of the model grid "
            f"{grid[0]:.0f}-{grid[-1]:.0f} Å (input {wave[0]:.0f}-{wave[-1]:.0f} Å "
            f"{'rest-frame ' if cfg.rest_frame else ''}vacuum), need {cfg.min_coverage:.0%}; "
            "skip this spectrum or lower min_coverage"
        )
    bad = ~covered | ~(ivar > 0)
    bad_fraction = float(bad.mean())
    if bad_fraction > cfg.max_bad_fraction:
        raise CoverageError(
            f"{_name(spec)}: {bad_fraction:.1%} of the model grid has no good pixels "
            f"(masked, ivar 0 or non-finite), more than max_bad_fraction "
            f"{cfg.max_bad_fraction:.0%}; skip this spectrum or check its mask"
        )
    flux = interpolate_bad_pixels(grid, flux, bad)
    if cfg.median_filter > 1:
        flux = median_filter(flux, cfg.median_filter)

    if cfg.norm == "minmax":
        lo, scale = _minmax_params(flux)
        flux = (flux - lo) / scale
    elif cfg.norm == "l2":
        scale = _l2_scale(flux)
        flux = flux / scale
    elif cfg.norm == "robust":
        scale = _robust_scale(flux)
        flux = np.clip(flux / scale, *ROBUST_CLIP)
    else:
        scale = np.ones(1)
    # f' = (f - lo) / s  =>  var' = var / s^2  =>  ivar' = ivar * s^2.
    ivar = np.where(bad, 0.0, ivar * scale**2)
    return Preprocessed(
        flux=flux.astype(np.float32),
        ivar=ivar.astype(np.float32),
        bad=bad,
        coverage=coverage,
    )
