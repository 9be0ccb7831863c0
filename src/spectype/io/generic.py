"""Generic 1D FITS spectra with a wavelength WCS (IRAF onedspec, ESO/SpecViz-style exports).

Identified by a 1D image (primary, or the first image extension when the primary is empty)
whose header has CRVAL1 and CDELT1 or CD1_1. This is the lowest-priority FITS reader so that
STELIB, MILES, LAMOST and the other specific readers win on files they recognise.

Wavelength, with p = 1..n the FITS pixel number and CRPIX1 defaulting to 1:
* linear: λ = CRVAL1 + Δ·(p − CRPIX1), Δ = CDELT1 (or CD1_1);
* log10 (IRAF DC-FLAG = 1, or CTYPE1 ending in -LOG with CRVAL1 < 10, i.e. given in log10 Å):
  λ = 10^(CRVAL1 + Δ·(p − CRPIX1));
* FITS standard WAVE-LOG (CTYPE1 ending in -LOG with CRVAL1 in Å): λ = CRVAL1·exp(Δ·(p − CRPIX1)/CRVAL1).
CUNIT1 (Angstrom, nm, um/micron, m, cm; default Å) is converted to Å. CTYPE1 'AWAV' means
air wavelengths; anything else is taken as vacuum (`meta.extra['medium_assumed']` says when
the header did not say). An image extension named IVAR, or ERROR/ERR/SIGMA/UNCERTAINTY
(→ 1/σ²), or VARIANCE (→ 1/var) of the same length gives the weights; otherwise ivar = 1.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadWavelengthError, TruncatedFileError, UnsupportedLayoutError
from ..spectrum import Spectrum, SpectrumMeta
from .columns import angstrom_per_unit
from .registry import Probe, header_to_dict, number_or_none, register_reader

_WEIGHT_HDUS = {"IVAR": "ivar", "INVVAR": "ivar", "ERROR": "sigma", "ERR": "sigma",
                "SIGMA": "sigma", "UNCERTAINTY": "sigma", "VARIANCE": "var", "VAR": "var"}


def _spectrum_hdu(probe: Probe):
    """The first HDU holding a 1D image with a CRVAL1/CDELT1 (or CD1_1) axis, or None."""
    hdul = probe.fits()
    for i in range(min(len(hdul), 2)):
        hdr = hdul[i].header
        if hdr.get("XTENSION") not in (None, "IMAGE"):
            continue
        naxis = hdr.get("NAXIS") or 0
        shape = [hdr.get(f"NAXIS{k}") or 0 for k in range(1, int(naxis) + 1)]
        # 1D, or 1D padded with length-1 axes (NAXIS2 = 1).
        if shape and shape[0] > 1 and all(s == 1 for s in shape[1:]):
            if "CRVAL1" in hdr and ("CDELT1" in hdr or "CD1_1" in hdr):
                return hdul[i]
            return None
        if naxis:
            return None  # a non-1D primary image is some other layout
    return None


def _identify(probe: Probe) -> bool:
    return probe.is_fits and _spectrum_hdu(probe) is not None


def wcs_wavelength(header: dict, n: int, path=None) -> tuple[np.ndarray, str]:
    """(λ in Å, scale 'linear' | 'log10' | 'wave-log') from a 1D spectral WCS header."""
    start = number_or_none(header.get("CRVAL1"))
    step = number_or_none(header.get("CDELT1", header.get("CD1_1")))
    if start is None or step is None or step == 0:
        raise BadWavelengthError(
            path, "CRVAL1 and CDELT1/CD1_1 do not give a wavelength axis",
            "the header needs numeric CRVAL1 and a non-zero CDELT1 or CD1_1",
        )
    ref = number_or_none(header.get("CRPIX1"))
    ref = 1.0 if ref is None else ref
    offset = step * (np.arange(n) + 1.0 - ref)
    ctype = str(header.get("CTYPE1", "")).strip().upper()
    if header.get("DC-FLAG") == 1 or (ctype.endswith("-LOG") and abs(start) < 10):
        scale, wave = "log10", 10.0 ** (start + offset)
    elif ctype.endswith("-LOG"):
        scale, wave = "wave-log", start * np.exp(offset / start)
    else:
        scale, wave = "linear", start + offset
    wave = wave * angstrom_per_unit(header.get("CUNIT1"), path)
    if step < 0:
        raise UnsupportedLayoutError(path, "CDELT1 is negative: wavelengths decrease along the array")
    return wave, scale


def _weights(probe: Probe, n: int) -> tuple[np.ndarray | None, str | None]:
    hdul = probe.fits()
    for i in range(1, len(hdul)):
        kind = _WEIGHT_HDUS.get(str(hdul[i].name).upper())
        if kind is None or hdul[i].header.get("XTENSION") not in ("IMAGE", None):
            continue
        data = hdul[i].data
        if data is None or np.size(data) != n:
            continue
        x = np.asarray(data, dtype=np.float64).ravel()
        good = np.isfinite(x) & (x > 0)
        if kind == "ivar":
            return np.where(good, x, 0.0), hdul[i].name
        power = 2.0 if kind == "sigma" else 1.0
        return np.where(good, 1.0 / np.where(good, x, 1.0) ** power, 0.0), hdul[i].name
    return None, None


@register_reader("generic_fits_1d", _identify, priority=10)
def read_generic_fits(probe: Probe) -> Spectrum:
    """Any 1D FITS image with a linear or log wavelength WCS (CRVAL1, CDELT1/CD1_1, CRPIX1)."""
    hdu = _spectrum_hdu(probe)
    if hdu is None:
        raise UnsupportedLayoutError(probe.path, "no 1D image with a wavelength WCS")
    data = hdu.data
    if data is None:
        raise TruncatedFileError(probe.path, "the spectrum HDU has no data")
    flux = np.asarray(data, dtype=np.float64).ravel()
    header = header_to_dict(hdu.header)
    primary = header if hdu is probe.fits()[0] else {**header_to_dict(probe.fits()[0].header), **header}
    wave, scale = wcs_wavelength(header, flux.size, probe.path)
    ivar, weights_from = _weights(probe, flux.size)
    if ivar is None:
        ivar = np.ones_like(flux)
    ivar = np.where(np.isfinite(flux), ivar, 0.0)
    mask = ~np.isfinite(flux) | (ivar == 0)
    ctype = str(header.get("CTYPE1", "")).strip().upper()
    medium = "air" if ctype.startswith("AWAV") else "vacuum"
    extra: dict = {"wavelength_scale": scale}
    if not ctype.startswith(("AWAV", "WAVE")):
        extra["medium_assumed"] = True  # the header does not say air or vacuum
    if weights_from:
        extra["weights_from"] = weights_from
    if str(header.get("BUNIT", "")).strip():
        extra["flux_unit"] = str(header["BUNIT"]).strip()
    subclass = next(
        (str(primary[k]).strip() for k in ("SPTYPE", "SPECTYPE", "SP_TYPE", "MKTYPE", "SUBCLASS")
         if str(primary.get(k, "")).strip()),
        None,
    )
    meta = SpectrumMeta(
        id=str(primary.get("OBJECT") or probe.path.name.split(".")[0]).strip(),
        survey=str(primary.get("TELESCOP") or "FITS").strip() or "FITS",
        obj_class=(str(primary["CLASS"]).strip() or None) if "CLASS" in primary else None,
        subclass=subclass,
        z=number_or_none(primary.get("Z", primary.get("REDSHIFT"))),
        path=str(probe.path),
        header=primary,
        extra=extra,
    )
    return Spectrum(wave, flux, ivar, mask, medium=medium, meta=meta)
