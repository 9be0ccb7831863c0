"""SDSS / BOSS `spec-PLATE-MJD-FIBER.fits` files (the DR8+ "lite" and full layouts).

HDU1 `COADD` is a table with loglam (log10 λ, vacuum Å), flux, ivar and and_mask; HDU2
(`SPECOBJ`) is a one-row table with the pipeline's CLASS, SUBCLASS, Z and SN_MEDIAN (u,g,r,i,z).
Identified by a table HDU1 with `loglam` and `flux` columns, as specutils' SDSS loader does.
"""

from __future__ import annotations

import numpy as np

from ..spectrum import Spectrum, SpectrumMeta
from .registry import (
    Probe,
    header_to_dict,
    number_or_none,
    register_reader,
    survey_mask_and_ivar,
    table_columns,
)

SDSS_RESOLUTION = 2000.0  # R ~ 1850-2200 over the band (BOSS/SDSS spectrographs)
_REQUIRED = ("flux", "loglam", "ivar")


def _identify(probe: Probe) -> bool:
    if not probe.is_fits or len(probe.hdul) < 2:
        return False
    hdu = probe.hdul[1]
    if hdu.header.get("XTENSION") != "BINTABLE":
        return False
    columns = {c.lower() for c in hdu.columns.names}
    sdss_coadd = hdu.name == "COADD" and "SDSS" in str(probe.hdul[0].header.get("TELESCOP", ""))
    return sdss_coadd or {"loglam", "flux"} <= columns


def _first_row(probe: Probe) -> dict:
    """The SPECOBJ metadata row as a dict (empty when the file has none)."""
    if len(probe.hdul) < 3 or probe.hdul[2].header.get("XTENSION") != "BINTABLE":
        return {}
    data = probe.hdul[2].data
    if data is None or len(data) == 0:
        return {}
    return {name.upper(): data[name][0] for name in data.columns.names}


def _text(value) -> str | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text.strip() or None


@register_reader("sdss_spec", _identify, priority=100)
def read_sdss_spec(probe: Probe) -> Spectrum:
    """SDSS/BOSS spec-*.fits: HDU1 COADD (loglam, flux, ivar, and_mask), HDU2 metadata."""
    data, names = table_columns(probe, probe.hdul[1], _REQUIRED, "SDSS COADD")
    flux = np.asarray(data[names["FLUX"]], dtype=np.float64)
    ivar = np.asarray(data[names["IVAR"]], dtype=np.float64)
    wave = 10.0 ** np.asarray(data[names["LOGLAM"]], dtype=np.float64)
    and_mask = data[names["AND_MASK"]] if "AND_MASK" in names else np.zeros(len(flux), int)
    mask, ivar = survey_mask_and_ivar(flux, ivar, and_mask)

    primary = header_to_dict(probe.hdul[0].header)
    row = _first_row(probe)
    plate = row.get("PLATE", primary.get("PLATEID"))
    mjd = row.get("MJD", primary.get("MJD"))
    fiber = row.get("FIBERID", primary.get("FIBERID"))
    try:
        obj_id = f"{int(plate):04d}-{int(mjd):05d}-{int(fiber):04d}"
    except (TypeError, ValueError):
        obj_id = probe.path.name.split(".")[0].removeprefix("spec-")
    sn = np.atleast_1d(np.asarray(row.get("SN_MEDIAN", []), dtype=np.float64))
    snr = {}
    if sn.size == 5:
        snr = {
            b: float(v) for b, v in zip("ugriz", sn, strict=True) if number_or_none(v) is not None
        }
    extra = {
        key.lower(): _text(row[key])
        for key in ("RUN2D", "SPECOBJID", "ELODIE_SPTYPE")
        if key in row
    }
    # SDSS names the subclass after the template star: 'A9V (154660)' -> 'A9V' + HD number.
    subclass = _text(row.get("SUBCLASS"))
    if subclass and subclass.endswith(")") and " (" in subclass:
        subclass, star = subclass[:-1].split(" (", 1)
        extra["template_star"] = star.strip()
    if "ZWARNING" in row:
        extra["zwarning"] = int(row["ZWARNING"])
    meta = SpectrumMeta(
        id=obj_id,
        survey="SDSS",
        obj_class=_text(row.get("CLASS")),
        subclass=subclass,
        snr=snr,
        z=number_or_none(row.get("Z")),
        resolution=SDSS_RESOLUTION,
        path=str(probe.path),
        header=primary,
        extra=extra,
    )
    medium = "air" if primary.get("VACUUM") is False else "vacuum"
    return Spectrum(wave, flux, ivar, mask, medium=medium, meta=meta)
