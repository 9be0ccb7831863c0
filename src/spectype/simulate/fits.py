"""Write a simulated spectrum as a LAMOST DR9+ (table layout) LRS FITS file.

Primary HDU: no data; LAMOST-like cards (TELESCOP, OBSID, CLASS, SUBCLASS, SNRG, SNRI, Z,
VACUUM) so `spectype.read` takes it as LAMOST, plus SIM_* cards with the source star and
every parameter. HDU 1 'COADD': one row of FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK,
NORMALIZATION (float32 arrays, as LAMOST writes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..atomic import atomic_path
from ..spectrum import Spectrum

SIM_CARDS = {
    "SIM_SRC": ("source", "simulated from this library source"),
    "SIM_STAR": ("group", "source star id (split group)"),
    "SIM_LIB": ("library", "source library"),
    "SIM_RSRC": ("source_resolution", "source resolving power"),
    "SIM_RTGT": ("cfg_r_target", "target resolving power"),
    "SIM_RV": ("rv_kms", "[km/s] applied radial velocity"),
    "SIM_EBV": ("ebv", "applied E(B-V)"),
    "SIM_LAW": ("cfg_law", "extinction law (dust_extinction)"),
    "SIM_RVEX": ("cfg_rv_ext", "R_V of the extinction law"),
    "SIM_NOIS": ("noise_obsid", "OBSID of the real noise profile"),
    "SIM_NMOD": ("cfg_noise_mode", "noise model"),
    "SIM_SNRT": ("snr_target", "target g-band SNR"),
}


def continuum_normalised(flux: np.ndarray, ivar: np.ndarray, width: int = 301) -> np.ndarray:
    """flux / running-median continuum (a stand-in for LAMOST's NORMALIZATION column)."""
    good = ivar > 0
    f = np.where(good, flux, np.nan)
    if good.sum() > 1:
        f = np.interp(np.arange(f.size), np.flatnonzero(good), flux[good])
    cont = ndimage.median_filter(f, width, mode="nearest")
    return np.divide(flux, cont, out=np.zeros_like(flux), where=cont > 0)


def write_lamost_fits(spec: Spectrum, path: str | Path, obsid: int | None = None) -> Path:
    """Write `spec` (a `batch_spectra` record) to `path` atomically; returns the path."""
    from astropy.io import fits

    prm = spec.meta.extra.get("sim", {})
    andmask = np.asarray(spec.meta.extra.get("andmask", spec.mask.astype(np.int64)))
    ormask = np.asarray(spec.meta.extra.get("ormask", andmask))
    hdr = fits.Header()
    hdr["TELESCOP"] = ("LAMOST", "simulated LAMOST-like spectrum (spectype)")
    hdr["ORIGIN"] = ("spectype-simulate", "not a real LAMOST observation")
    hdr["DATA_V"] = ("LAMOST SIM", "data release version")
    hdr["OBSID"] = (int(obsid) if obsid is not None else spec.meta.id, "simulation id")
    hdr["FILENAME"] = Path(path).name
    hdr["CLASS"] = (spec.meta.obj_class or "STAR", "class")
    hdr["SUBCLASS"] = (spec.meta.subclass or "", "MK type of the source star")
    for band in ("g", "i"):
        if band in spec.meta.snr and np.isfinite(spec.meta.snr[band]):
            hdr[f"SNR{band.upper()}"] = (round(float(spec.meta.snr[band]), 2), f"SNR in {band} band")
    hdr["Z"] = (float(spec.meta.z or 0.0), "redshift of the applied RV (v = cz)")
    hdr["VACUUM"] = (True, "wavelengths are in vacuum")
    for card, (key, comment) in SIM_CARDS.items():
        value = prm.get(key)
        if value is not None:
            hdr[card] = (value if isinstance(value, str | int | float | bool) else str(value), comment)
    hdr["SIM_DIST"] = (json.dumps([round(c, 5) for c in prm.get("dist_coeffs", [])]), "Legendre P1.. coeffs")
    hdr["SIM_FLAG"] = (",".join(prm.get("flags", [])), "source flags")
    cols = [
        fits.Column(name=name, format=f"{len(spec)}E", array=np.asarray(arr, np.float32)[None, :])
        for name, arr in (
            ("FLUX", spec.flux), ("IVAR", spec.ivar), ("WAVELENGTH", spec.wavelength),
            ("ANDMASK", andmask), ("ORMASK", ormask),
            ("NORMALIZATION", continuum_normalised(spec.flux, spec.ivar)),
        )
    ]
    table = fits.BinTableHDU.from_columns(cols, name="COADD")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(header=hdr), table]).writeto(tmp, overwrite=True)
    return path
