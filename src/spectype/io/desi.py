"""DESI spectra and coadd files (`coadd-*.fits`, `spectra-*.fits`; desidatamodel).

Layout: an empty primary HDU, a `FIBERMAP` table (one row per spectrum: TARGETID,
TARGET_RA, TARGET_DEC, ...), and per camera arm X in B, R, Z the image HDUs
`X_WAVELENGTH` (n_X,), `X_FLUX` and `X_IVAR` (n_spec, n_X), `X_MASK` (int, 0 = good) and
`X_RESOLUTION` (not used). A camera-combined coadd has one arm named `BRZ`. Identified by
at least one `X_WAVELENGTH` + `X_FLUX` pair.

One Spectrum per row (`meta.index` = row, `meta.id` = TARGETID, ra/dec from TARGET_RA/DEC).
The arms are merged on one grid: the union of the arms' wavelengths (DESI arms share a
0.8 Å grid, so the overlaps coincide pixel for pixel); where arms overlap, flux is the
inverse-variance-weighted mean of the good arm pixels and ivar their sum; a merged pixel is
masked only when no arm has a good value there. Wavelengths are vacuum Å (observer frame).
Rows without a single usable pixel (unassigned or broken fibres) are left out and listed in
`meta.extra['rows_without_data']` of the others; a file with no usable row is an error.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoUsablePixelsError, UnsupportedLayoutError
from ..spectrum import Spectrum, SpectrumMeta
from .registry import Probe, header_to_dict, number_or_none, register_reader

DESI_RESOLUTION = 3000.0  # R ~ 2000 (b arm) to 5500 (z arm)
ARM_ORDER = ("B", "R", "Z", "BRZ")


def _arms(hdul) -> list[str]:
    names = {str(h.name).upper() for h in hdul}
    arms = [n.removesuffix("_WAVELENGTH") for n in names if n.endswith("_WAVELENGTH")]
    arms = [a for a in arms if f"{a}_FLUX" in names]
    return sorted(arms, key=lambda a: (ARM_ORDER.index(a) if a in ARM_ORDER else 99, a))


def _identify(probe: Probe) -> bool:
    return probe.is_fits and bool(_arms(probe.fits()))


def _image(probe: Probe, hdul, name: str, dtype=np.float64) -> np.ndarray | None:
    if name not in hdul:
        return None
    data = hdul[name].data
    return None if data is None else np.asarray(data, dtype=dtype)


def merge_arms(waves, fluxes, ivars, masks):
    """(wave, flux, ivar, mask) of every row on the union grid (see the module doc).

    waves: per arm (n_a,); fluxes/ivars/masks: per arm (n_spec, n_a).
    """
    keys = [np.round(w, 4) for w in waves]
    grid = np.unique(np.concatenate(keys))
    n_spec = fluxes[0].shape[0]
    num = np.zeros((n_spec, grid.size))
    den = np.zeros((n_spec, grid.size))
    fallback = np.full((n_spec, grid.size), np.nan)
    for key, flux, ivar, mask in zip(keys, fluxes, ivars, masks, strict=True):
        idx = np.searchsorted(grid, key)
        good = (mask == 0) & np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)
        w = np.where(good, ivar, 0.0)
        num[:, idx] += w * np.where(good, flux, 0.0)
        den[:, idx] += w
        unset = np.isnan(fallback[:, idx])
        fallback[:, idx] = np.where(unset, flux, fallback[:, idx])
    has = den > 0
    flux = np.where(has, num / np.where(has, den, 1.0), fallback)
    return grid, flux, den, ~has


@register_reader("desi", _identify, priority=100)
def read_desi(probe: Probe) -> list[Spectrum]:
    """DESI coadd/spectra file: B/R/Z arms merged on one grid, one spectrum per FIBERMAP row."""
    hdul = probe.fits()
    arms = _arms(hdul)
    waves, fluxes, ivars, masks = [], [], [], []
    n_spec = None
    for arm in arms:
        wave = _image(probe, hdul, f"{arm}_WAVELENGTH")
        flux = _image(probe, hdul, f"{arm}_FLUX")
        if wave is None or flux is None:
            raise UnsupportedLayoutError(probe.path, f"DESI arm {arm} has no wavelength or flux data")
        wave = wave.ravel()
        flux = flux.reshape(-1, wave.size) if flux.size % max(wave.size, 1) == 0 else flux
        if flux.ndim != 2 or flux.shape[1] != wave.size:
            raise UnsupportedLayoutError(
                probe.path, f"DESI {arm}_FLUX has shape {flux.shape}, expected (n_spec, {wave.size})"
            )
        ivar = _image(probe, hdul, f"{arm}_IVAR")
        ivar = np.ones_like(flux) if ivar is None else ivar.reshape(flux.shape)
        mask = _image(probe, hdul, f"{arm}_MASK", dtype=np.int64)
        mask = np.zeros(flux.shape, np.int64) if mask is None else mask.reshape(flux.shape)
        if n_spec is not None and flux.shape[0] != n_spec:
            raise UnsupportedLayoutError(probe.path, "DESI arms hold different numbers of spectra")
        n_spec = flux.shape[0]
        waves.append(wave)
        fluxes.append(flux)
        ivars.append(ivar)
        masks.append(mask)
    grid, flux, ivar, bad = merge_arms(waves, fluxes, ivars, masks)

    fibermap = hdul["FIBERMAP"].data if "FIBERMAP" in hdul else None
    rows = {}
    if fibermap is not None and len(fibermap) == n_spec:
        names = {c.upper(): c for c in hdul["FIBERMAP"].columns.names}
        rows = {key: np.asarray(fibermap[names[key]]) for key in
                ("TARGETID", "TARGET_RA", "TARGET_DEC", "OBJTYPE", "FIBER", "FIBERSTATUS")
                if key in names}
    primary = header_to_dict(hdul[0].header)
    flux_unit = str(hdul[f"{arms[0]}_FLUX"].header.get("BUNIT", "")).strip()
    usable = ~bad.all(axis=1)
    out, empty = [], []
    for i in range(n_spec):
        target = rows["TARGETID"][i] if "TARGETID" in rows else None
        ident = str(int(target)) if target is not None else f"{probe.path.name.split('.')[0]}:{i}"
        if not usable[i]:
            empty.append(ident)
            continue
        extra = {"arms": "".join(a.lower() for a in arms)}
        for key in ("OBJTYPE", "FIBER", "FIBERSTATUS"):
            if key in rows:
                value = rows[key][i]
                extra[key.lower()] = value.decode().strip() if isinstance(value, bytes) else value.item()
        meta = SpectrumMeta(
            id=ident,
            survey="DESI",
            resolution=DESI_RESOLUTION,
            path=str(probe.path),
            index=i,
            header=primary,
            extra=extra,
        )
        if "TARGET_RA" in rows and "TARGET_DEC" in rows:
            meta.ra, meta.dec = number_or_none(rows["TARGET_RA"][i]), number_or_none(rows["TARGET_DEC"][i])
        if flux_unit:
            meta.flux_unit = flux_unit
        out.append(Spectrum(grid, flux[i], ivar[i], bad[i], medium="vacuum", meta=meta))
    if not out:
        raise NoUsablePixelsError(probe.path, f"none of the {n_spec} DESI spectra has a usable pixel")
    for spec in out:
        if empty:
            spec.meta.extra["rows_without_data"] = list(empty)
    return out
