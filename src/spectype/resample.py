"""The flux-conserving resampler: bin means of a binned spectrum over new pixels.

One implementation serves preprocessing (`resample_flux_conserving`: pixel centres, bad
pixels, inverse variance) and the simulator (`resample_edges` with ivar None: a batch of
Doppler-shifted output grids from the cumulative integral, O(n + m) per draw).
"""

from __future__ import annotations

import numpy as np


def pixel_edges(centres: np.ndarray) -> np.ndarray:
    """Pixel edges (n+1,) from strictly increasing centres (n,): midpoints, outer half-widths
    mirrored. Raises ValueError for fewer than 2 pixels or non-increasing centres."""
    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"need at least 2 wavelengths in a 1D array, got shape {c.shape}")
    if not np.all(np.diff(c) > 0):
        raise ValueError("wavelengths must be strictly increasing")
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def resample_flux_conserving(
    wave: np.ndarray, flux: np.ndarray, ivar: np.ndarray, new_wave: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample a binned spectrum onto `new_wave` conserving the bin integrals.

    wave, flux, ivar: (n,); new_wave: (m,), both strictly increasing (pixel centres; edges
    are the midpoints). New flux_j = sum_i a_ij f_i / sum_i a_ij where a_ij is the overlap (Å)
    of input pixel i with output pixel j, over good input pixels only (ivar > 0, finite);
    with no bad pixels this is exactly the bin-integral mean. The variance is that of the
    weighted mean, var_j = sum_i (a_ij / sum_i a_ij)^2 / ivar_i (neighbour covariance ignored).

    Returns (flux (m,), ivar (m,), covered (m,) bool). covered: at least half of output pixel j
    lies inside the input's wavelength range. Uncovered pixels and covered pixels with no good
    input have flux 0 and ivar 0. See `resample_edges` for pixels given by their edges.
    """
    flux = np.asarray(flux, dtype=np.float64)
    if np.shape(ivar) != flux.shape or np.shape(wave) != flux.shape:
        raise ValueError(
            f"wave, flux and ivar must have the same 1D shape, got {np.shape(wave)}, "
            f"{flux.shape}, {np.shape(ivar)}"
        )
    return resample_edges(pixel_edges(wave), flux, ivar, pixel_edges(new_wave))


def resample_edges(
    in_edges: np.ndarray, flux: np.ndarray, ivar: np.ndarray | None, out_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The flux-conserving resampler (`resample_flux_conserving`) on pixel edges.

    in_edges (n+1,), flux (n,), ivar (n,) and out_edges (m+1,), all edges increasing.
    With ivar None every input pixel counts and only flux is resampled (the simulator's
    case): the same bin means come from the cumulative integral of f dλ, O(n + m) instead of
    O(n log m), out_edges may then be a batch (..., m+1) and the returned ivar is None.
    Returns (flux (..., m), ivar (m,) or None, covered (..., m) bool) as described there.
    """
    flux = np.asarray(flux, dtype=np.float64)
    in_e = np.asarray(in_edges, dtype=np.float64)
    out_e = np.asarray(out_edges, dtype=np.float64)
    if flux.shape != (in_e.size - 1,):
        raise ValueError(f"flux {flux.shape} needs one value per pixel of {in_e.size} edges")
    lo, hi = np.clip(out_e[..., :-1], in_e[0], in_e[-1]), np.clip(out_e[..., 1:], in_e[0], in_e[-1])
    overlap = hi - lo
    covered = overlap >= 0.5 * np.diff(out_e, axis=-1) * (1 - 1e-9)
    if ivar is None:
        # F(b) - F(a) of the cumulative integral is the exact integral over [a, b]: within
        # one input pixel F is linear, so interpolating it splits pixels by overlap.
        cum = np.concatenate([[0.0], np.cumsum(flux * np.diff(in_e))])
        integral = np.interp(hi, in_e, cum) - np.interp(lo, in_e, cum)
        has = covered & (overlap > 0)
        out = np.divide(integral, overlap, out=np.zeros_like(overlap), where=has)
        return out, None, covered
    return _resample_weighted(in_e, flux, np.asarray(ivar, dtype=np.float64), out_e, covered)


def _resample_weighted(in_e, flux, ivar, out_e, covered) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = out_e.size - 1
    out_flux, out_ivar = np.zeros(m), np.zeros(m)
    lo, hi = max(in_e[0], out_e[0]), min(in_e[-1], out_e[-1])
    if hi <= lo:
        return out_flux, out_ivar, covered

    # Split the overlap into segments at every input and output edge: each segment lies in
    # exactly one input pixel i and one output pixel j, so (i, j) pairs are unique and the
    # sums below are exact (no double counting of a_ij in the squared weights).
    # Merge the two sorted edge arrays in O(n) (np.union1d sorts: a third of the whole cost).
    pts = np.insert(in_e, np.searchsorted(in_e, out_e), out_e)
    pts = pts[np.concatenate(([True], np.diff(pts) > 0))]
    pts = pts[(pts >= lo) & (pts <= hi)]
    length = np.diff(pts)
    centre = 0.5 * (pts[1:] + pts[:-1])
    i = np.searchsorted(in_e, centre, side="right") - 1
    j = np.searchsorted(out_e, centre, side="right") - 1

    good = (ivar > 0) & np.isfinite(ivar) & np.isfinite(flux)
    f_good = np.where(good, flux, 0.0)
    var_good = np.divide(1.0, ivar, out=np.zeros_like(ivar), where=good)
    a = length * good[i]
    weight = np.bincount(j, a, minlength=m)
    num = np.bincount(j, a * f_good[i], minlength=m)
    var_num = np.bincount(j, a * a * var_good[i], minlength=m)

    has = covered & (weight > 0)
    out_flux[has] = num[has] / weight[has]
    var = var_num[has] / weight[has] ** 2
    out_ivar[has] = np.divide(1.0, var, out=np.zeros_like(var), where=var > 0)
    return out_flux, out_ivar, covered
