"""Noise from real LAMOST error profiles.

A `NoiseProfile` is the IVAR, ANDMASK and ORMASK (and smoothed flux) of one real LAMOST
spectrum on the full LAMOST grid. For a noiseless simulated flux f we build a variance
shape and scale it to a target SNR (the median of f·sqrt(ivar) over the g band, as LAMOST's
SNRG), then draw Gaussian noise from it. Masked pixels of the real spectrum get ivar 0 and
keep their mask bits. Two variance shapes:

* 'scaled': var ∝ 1 / ivar_real (the real error spectrum, rescaled);
* 'photon': var ∝ f · (var_real / f_real): the real spectrum's per-pixel "variance per unit
  flux" (throughput, sky, detector) applied to the simulated flux, so a hot star's blue end
  gets its own photon noise rather than a cool star's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .telluric import band_ratio

G_BAND = (4000.0, 5500.0)
I_BAND = (6900.0, 8300.0)
NOISE_MODES = ("scaled", "photon")


@dataclass
class NoiseProfile:
    """One real spectrum's error profile on the LAMOST grid (all (m,))."""

    obsid: str
    ivar: np.ndarray
    andmask: np.ndarray
    ormask: np.ndarray
    flux_smooth: np.ndarray
    snr_g: float | None = None
    # flux / side-band continuum in the telluric windows, 1 elsewhere, NaN where bad (m,);
    # the telluric template is the median of these over profiles (telluric.py).
    telluric_ratio: np.ndarray | None = None


def profile_from_spectrum(
    spec,
    grid: np.ndarray,
    andmask: np.ndarray | None = None,
    ormask: np.ndarray | None = None,
    smooth_pix: int = 51,
) -> NoiseProfile:
    """NoiseProfile from a real LAMOST Spectrum. Its pixels are matched to `grid` (m,) by
    nearest wavelength (LAMOST files share the grid, so this is an identity in practice);
    grid pixels outside the file get ivar 0 and mask bit 1."""
    idx = np.clip(np.searchsorted(spec.wavelength, grid), 0, len(spec) - 1)
    prev = np.clip(idx - 1, 0, len(spec) - 1)
    use_prev = np.abs(spec.wavelength[prev] - grid) < np.abs(spec.wavelength[idx] - grid)
    idx = np.where(use_prev, prev, idx)
    step = np.median(np.diff(spec.wavelength))
    inside = np.abs(spec.wavelength[idx] - grid) < step
    andmask = np.asarray(spec.mask.astype(np.int64) if andmask is None else andmask)[idx]
    ormask = np.asarray(andmask if ormask is None else np.asarray(ormask)[idx])
    ivar = np.where(inside & ~spec.mask[idx], spec.ivar[idx], 0.0)
    andmask = np.where(inside, andmask, 1).astype(np.int64)
    ormask = np.where(inside, ormask, 1).astype(np.int64)
    flux = np.where(ivar > 0, spec.flux[idx], np.nan)
    good = np.isfinite(flux)
    filled = np.interp(grid, grid[good], flux[good]) if good.sum() > 1 else np.ones_like(grid)
    smooth = ndimage.median_filter(filled, smooth_pix, mode="nearest")
    ratio = band_ratio(grid, np.where(good, flux, 0.0), good)
    return NoiseProfile(
        obsid=str(spec.meta.id),
        ivar=ivar,
        andmask=andmask,
        ormask=ormask,
        flux_smooth=smooth,
        snr_g=spec.meta.snr.get("g"),
        telluric_ratio=ratio,
    )


def band_snr(wave: np.ndarray, flux: np.ndarray, ivar: np.ndarray, band=G_BAND) -> np.ndarray:
    """Median of flux·sqrt(ivar) over pixels with ivar > 0 inside `band` (Å).
    flux, ivar (..., m) -> (...,); NaN where a row has no such pixel."""
    wave = np.asarray(wave)
    sel = (wave >= band[0]) & (wave <= band[1])
    f = np.asarray(flux)[..., sel]
    iv = np.asarray(ivar)[..., sel]
    x = np.where(iv > 0, f * np.sqrt(np.clip(iv, 0, None)), np.nan)
    with np.errstate(all="ignore"):
        return np.nanmedian(x, axis=-1) if x.shape[-1] else np.full(x.shape[:-1], np.nan)


def variance_shape(flux: np.ndarray, profile: NoiseProfile, mode: str = "photon") -> np.ndarray:
    """Unscaled variance (m,) for noiseless flux (m,); inf where the profile has ivar 0."""
    bad = ~(profile.ivar > 0)
    var_real = np.divide(1.0, profile.ivar, out=np.full(profile.ivar.shape, np.inf), where=~bad)
    if mode == "scaled":
        return var_real
    if mode != "photon":
        raise ValueError(f"noise mode must be one of {NOISE_MODES}, got {mode!r}")
    f_real = np.abs(profile.flux_smooth)
    floor = 0.01 * np.nanmedian(f_real[~bad]) if (~bad).any() else 1.0
    per_flux = var_real / np.maximum(f_real, floor)
    f_sim = np.abs(np.asarray(flux))
    f_floor = 0.01 * np.median(f_sim) if f_sim.size else 1.0
    # The floor stands in for sky + read noise, which keep the variance above zero in deep
    # absorption bands and at the detector ends.
    return per_flux * np.maximum(f_sim, f_floor)


def noise_ivar(
    wave: np.ndarray, flux: np.ndarray, profile: NoiseProfile, target_snr: float, mode: str = "photon"
) -> np.ndarray:
    """ivar (m,) with the profile's shape, scaled so band_snr(wave, flux, ivar) == target_snr
    (g band, noiseless flux). Masked / ivar-0 pixels of the profile stay 0."""
    var = variance_shape(flux, profile, mode)
    ivar = np.divide(1.0, var, out=np.zeros_like(var), where=np.isfinite(var) & (var > 0))
    current = float(band_snr(wave, flux, ivar))
    if not np.isfinite(current) or current <= 0:
        raise ValueError(f"noise profile {profile.obsid} has no usable g-band pixels")
    return ivar * (target_snr / current) ** 2


def add_gaussian_noise(flux: np.ndarray, ivar: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """flux + N(0, 1/ivar); pixels with ivar 0 get no noise (they are masked anyway)."""
    sigma = np.divide(1.0, np.sqrt(ivar), out=np.zeros_like(ivar, dtype=np.float64), where=ivar > 0)
    return flux + rng.standard_normal(np.shape(flux)) * sigma


def read_lamost_mask_bits(path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(ANDMASK, ORMASK) integer bits of a LAMOST LRS file in either layout; None when the
    file has no such column/row (the reader's boolean mask is used instead)."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if "COADD" in hdul:
            data = hdul["COADD"].data
            cols = {c.upper() for c in data.columns.names}
            get = lambda n: np.asarray(data[n][0]).astype(np.int64).ravel() if n in cols else None  # noqa: E731
            return get("ANDMASK"), get("ORMASK")
        img = hdul[0].data
        if img is not None and img.ndim == 2 and img.shape[0] >= 5:
            return img[3].astype(np.int64), img[4].astype(np.int64)
    return None, None


def load_noise_profile(path, grid: np.ndarray) -> NoiseProfile:
    """Read one real LAMOST file and build its NoiseProfile on `grid` (m,)."""
    from ..io import read

    spec = read(path)
    if isinstance(spec, list):
        spec = spec[0]
    andmask, ormask = read_lamost_mask_bits(path)
    if andmask is not None and andmask.shape != spec.flux.shape:
        andmask = ormask = None
    return profile_from_spectrum(spec, grid, andmask, ormask)


def _load_profile_or_none(args) -> NoiseProfile | None:
    path, grid = args
    try:
        return load_noise_profile(path, grid)
    except Exception:  # an unreadable real file only costs one profile
        return None


def load_noise_profiles_from(
    folder, n: int = 200, seed: int = 0, workers: int = 1, grid: np.ndarray | None = None
) -> list[NoiseProfile]:
    """Up to n NoiseProfiles from a random subset of real LAMOST spectra under `folder`
    (recursive; non-LAMOST files and unreadable ones are skipped)."""
    from pathlib import Path

    from ..io.discover import iter_spectrum_files
    from .rebin import lamost_full_grid

    grid = lamost_full_grid() if grid is None else grid
    files = sorted(str(p) for p in iter_spectrum_files(Path(folder)))
    files = [files[i] for i in np.random.default_rng(seed).permutation(len(files))[: int(n * 1.2) + 5]]
    items = [(f, grid) for f in files]
    if workers > 1 and len(items) > 16:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as ex:
            got = list(ex.map(_load_profile_or_none, items, chunksize=8))
    else:
        got = [_load_profile_or_none(it) for it in items]
    # Keep profiles with enough good pixels (quasars and blank fibres would be odd choices).
    good = [p for p in got if p is not None and (p.ivar > 0).mean() > 0.8]
    return good[:n]
