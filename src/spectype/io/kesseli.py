"""Kesseli et al. (2017) empirical SDSS/BOSS templates (the ones PyHammer fits).

Each file is a co-add of 9-33 SDSS/BOSS spectra of one type: an empty primary HDU (COMMENT
cards say how many spectra were co-added) and HDU1, a binary table with one row per pixel:
`LogLam` (log10 vacuum Å), `Flux`, `PropErr` (propagated error) and `Std` (scatter between
the co-added spectra). Identified by those table columns.

The type, [Fe/H] and dwarf/giant are only in the file name: `G2_+0.0_Dwarf.fits.gz`,
`K7_Giant.fits.gz`, `B3.fits.gz`. Dwarf -> luminosity class V, Giant -> III, none otherwise.
These are averaged spectra, not single stars: `meta.extra['template']` is True so that
training code can keep them out of the independent-star pool (use them as templates,
overlays and simulation sources).
"""

from __future__ import annotations

import re

import numpy as np

from ..spectrum import Spectrum, SpectrumMeta
from .registry import Probe, register_reader, table_columns

KESSELI_RESOLUTION = 2000.0  # SDSS/BOSS spectrographs
_COLUMNS = ("LOGLAM", "FLUX", "PROPERR")
_NAME = re.compile(
    r"^(?P<type>[A-Z]\d+(?:\.\d+)?)(?:_(?P<feh>[+-]?\d+(?:\.\d+)?))?(?:_(?P<lum>Dwarf|Giant))?$",
    re.I,
)
_LUM = {"dwarf": "V", "giant": "III"}
_COADDED = re.compile(rb"made from\s+(\d+)\s+Co-added", re.I)


def _identify(probe: Probe) -> bool:
    if not probe.is_fits or len(probe.fits()) < 2:
        return False
    hdu = probe.fits()[1]
    if hdu.header.get("XTENSION") != "BINTABLE":
        return False
    return set(_COLUMNS) <= {c.upper() for c in hdu.columns.names}


def _stem(filename: str) -> str:
    """'G2_+0.0_Dwarf.fits.gz' -> 'G2_+0.0_Dwarf' (the name has dots of its own)."""
    for suffix in (".gz", ".fits", ".fit"):
        filename = filename.removesuffix(suffix)
    return filename


def parse_name(filename: str) -> dict:
    """Type, [Fe/H] and dwarf/giant from a Kesseli file name ({} when it does not follow it).

    'G2_+0.0_Dwarf.fits.gz' -> {'mk_type': 'G2V', 'feh': 0.0, 'dwarf_giant': 'Dwarf'}.
    """
    m = _NAME.match(_stem(filename))
    if m is None:
        return {}
    out: dict = {"mk_type": m["type"].upper() + _LUM.get((m["lum"] or "").lower(), "")}
    if m["feh"] is not None:
        out["feh"] = float(m["feh"])
    if m["lum"]:
        out["dwarf_giant"] = m["lum"].capitalize()
    return out


# Above sdss_spec (100), whose loglam+flux test also matches these tables.
@register_reader("kesseli", _identify, priority=105)
def read_kesseli(probe: Probe) -> Spectrum:
    """Kesseli+2017 SDSS template: HDU1 table LogLam, Flux, PropErr, Std; type in the file name."""
    data, names = table_columns(probe, probe.fits()[1], _COLUMNS, "Kesseli template")
    wave = 10.0 ** np.asarray(data[names["LOGLAM"]], dtype=np.float64)
    flux = np.asarray(data[names["FLUX"]], dtype=np.float64)
    err = np.asarray(data[names["PROPERR"]], dtype=np.float64)
    usable = np.isfinite(err) & (err > 0)
    ivar = np.where(usable, 1.0 / np.where(usable, err, 1.0) ** 2, 0.0)
    mask = ~usable | ~np.isfinite(flux)
    info = parse_name(probe.name)
    extra: dict = {"template": True, "averaged": True, "library": "Kesseli+2017"}
    extra.update({k: v for k, v in info.items() if k != "mk_type"})
    m = _COADDED.search(probe.head_bytes)
    if m:
        extra["n_coadded"] = int(m[1])
    meta = SpectrumMeta(
        id="Kesseli:" + _stem(probe.name),
        survey="Kesseli-templates",
        subclass=info.get("mk_type"),
        resolution=KESSELI_RESOLUTION,
        path=str(probe.path),
        extra=extra,
    )
    # Built from SDSS/BOSS spectra: vacuum wavelengths, rest frame.
    return Spectrum(wave, flux, ivar, mask, medium="vacuum", meta=meta)
