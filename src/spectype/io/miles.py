"""MILES stellar library v9.1 (Sánchez-Blázquez et al. 2006; Falcón-Barroso et al. 2011).

Files `MILES_res2.50_star_mNNNNV.fits`: a 1D float64 primary image, linear air wavelengths
λ = CRVAL1 + CDELT1·(i+1−CRPIX1), 3540–7410 Å at 2.5 Å FWHM (the `FWHM` card), identified by
the `TPLLIB = 'MILES'` card. The files carry no labels: the MK type, Teff, log g and [Fe/H]
come from `paramsMILES_v9.1.txt` in the same folder, matched by the MILES number NNNN that the
file name carries (MILES puts the star's id only there).

The params table is fixed-width: name (cols 1-23), MILES id (24-27), CaT id, SpT (37-51),
then whitespace-separated Teff, log g, [Fe/H], refs, libraries ('--' = not measured). MILES
quirks handled here:
* three O stars are typed with a zero for the letter ('07Ia', '09Ib', '08 Ib') -> O7Ia ...;
* 'GB', 'HB', 'AGB', 'RGB' are evolutionary stages of cluster stars, not MK types (spectype's
  label parser would read 'GB' as a giant B star): subclass None, the tag kept in extra;
* one row's id is written '022.' and file m0221 has no row: an id with '.' matches a file
  number digit-for-digit when exactly one unclaimed number fits.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BadWavelengthError, UnsupportedLayoutError
from ..spectrum import Spectrum, SpectrumMeta
from .registry import Probe, header_to_dict, number_or_none, register_reader

MILES_FWHM_A = 2.5
REFERENCE_WAVE_A = 5500.0  # where R = λ / FWHM is quoted, as for the other fixed-FWHM libraries
_FILE_NUMBER = re.compile(r"m(\d{4})V?\.fits", re.I)
_ZERO_FOR_O = re.compile(r"^0(?=\d)")
EVOLUTIONARY_TAGS = frozenset({"GB", "HB", "AGB", "RGB", "RHB", "BHB", "EHB"})


def _identify(probe: Probe) -> bool:
    if not probe.is_fits:
        return False
    hdr = probe.fits()[0].header
    return hdr.get("NAXIS") == 1 and "MILES" in str(hdr.get("TPLLIB", "")).upper()


def miles_type(spt: str) -> str | None:
    """The MK type of a MILES SpT string: '07Ia' -> 'O7Ia'; '' and stage tags -> None."""
    spt = spt.strip()
    if not spt or spt.upper() in EVOLUTIONARY_TAGS:
        return None
    return _ZERO_FOR_O.sub("O", spt)


def parse_params(text: str) -> dict[str, dict]:
    """paramsMILES rows keyed by the 4-character MILES id ('0251'; '022.' kept as written)."""
    rows: dict[str, dict] = {}
    for line in text.splitlines():
        ident = line[23:27].strip()
        if len(ident) != 4 or not re.fullmatch(r"[\d.]{4}", ident) or not ident[0].isdigit():
            continue  # title, units and separator lines
        rest = line[51:].split()
        values = [number_or_none(v) for v in rest[:3]] + [None] * (3 - len(rest[:3]))
        rows[ident] = {
            "name": line[:23].strip(),
            "miles_id": ident,
            "cat_id": line[27:36].strip() or None,
            "spt": line[36:51].strip(),
            "teff": values[0],
            "logg": values[1],
            "feh": values[2],
        }
    return rows


@lru_cache(maxsize=8)
def _params(folder: Path) -> dict[str, dict]:
    files = sorted(folder.glob("paramsMILES*.txt"))
    if not files:
        return {}
    return parse_params(files[-1].read_text(errors="replace"))


def lookup(params: dict[str, dict], number: str) -> dict | None:
    """The params row of file number `number` ('0221'), matching a '022.'-style id if unique."""
    if number in params:
        return params[number]
    fuzzy = [k for k in params if "." in k and re.fullmatch(k, number)]
    return params[fuzzy[0]] if len(fuzzy) == 1 else None


@register_reader("miles", _identify, priority=85)
def read_miles(probe: Probe) -> Spectrum:
    """MILES v9.1 star: 1D image, linear air λ (CRVAL1, CDELT1, CRPIX1), labels from paramsMILES."""
    hdu = probe.fits()[0]
    flux = hdu.data
    if flux is None or np.ndim(flux) != 1:
        raise UnsupportedLayoutError(probe.path, "MILES file has no 1D data array")
    flux = np.asarray(flux, dtype=np.float64)
    header = header_to_dict(hdu.header)
    start = number_or_none(header.get("CRVAL1"))
    step = number_or_none(header.get("CDELT1", header.get("CD1_1")))
    if start is None or step is None or step <= 0:
        raise BadWavelengthError(probe.path, "CRVAL1/CDELT1 do not give a valid wavelength axis")
    ref_pix = number_or_none(header.get("CRPIX1"))
    ref_pix = 1.0 if ref_pix is None else ref_pix
    wave = start + step * (np.arange(flux.size) + 1.0 - ref_pix)
    mask = ~np.isfinite(flux) | (flux == 0)  # zero-padded edges carry no information
    ivar = np.where(mask, 0.0, 1.0)  # MILES gives no errors: uniform weights
    fwhm = number_or_none(header.get("FWHM")) or MILES_FWHM_A

    m = _FILE_NUMBER.search(probe.name)
    row = lookup(_params(probe.path.parent.resolve()), m[1]) if m else None
    extra: dict = {"fwhm_A": fwhm}
    subclass = None
    star = probe.path.name.split(".")[0]
    if row is None:
        extra["labels"] = "no paramsMILES*.txt row for this file"
    else:
        star = row["name"] or star
        subclass = miles_type(row["spt"])
        extra.update({k: row[k] for k in ("name", "miles_id", "cat_id", "spt") if row[k]})
        extra.update({k: row[k] for k in ("teff", "logg", "feh") if row[k] is not None})
        if row["spt"].strip().upper() in EVOLUTIONARY_TAGS:
            extra["evolutionary_stage"] = row["spt"].strip().upper()
    meta = SpectrumMeta(
        id=star,
        survey="MILES",
        subclass=subclass,
        resolution=REFERENCE_WAVE_A / fwhm,
        path=str(probe.path),
        header=header,
        extra=extra,
    )
    # MILES wavelengths are in air, in the stars' rest frame.
    return Spectrum(wave, flux, ivar, mask, medium="air", meta=meta)
