"""Table spectra with units: ECSV text and FITS binary tables (specutils' `tabular-fits`).

ECSV (`# %ECSV 1.0` first line) is parsed by astropy.table, so column units come from its
YAML header. A FITS binary table is read when its first table HDU has a wavelength (or
loglam) column and a flux column, either one row per pixel (scalar cells, as
`Spectrum1D.write(format='tabular-fits')` writes) or one row of array cells; units come from
TUNITn. Column names follow `columns.py` (wavelength/wave/lambda, flux, ivar, error/
uncertainty → 1/σ², variance → 1/var). specutils writes the uncertainty column as a standard
deviation, which is how it is read. Survey tables (LAMOST, SDSS, Kesseli) have their own,
higher-priority readers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import NotASpectrumError, UnsupportedLayoutError
from ..spectrum import SpectrumMeta
from .columns import column_roles
from .registry import Probe, header_to_dict, number_or_none, register_reader
from .text import build_table_spectrum


def _usable_roles(names: list[str]) -> dict[str, int] | None:
    roles, _ = column_roles(names)
    if "flux" in roles and ({"wave", "loglam"} & roles.keys()):
        return roles
    return None


# --------------------------------------------------------------------------- ECSV


def _identify_ecsv(probe: Probe) -> bool:
    return bool(probe.text_head) and probe.text_head[0].startswith("# %ECSV")


@register_reader("ecsv", _identify_ecsv, priority=5)
def read_ecsv(probe: Probe):
    """ECSV table (astropy/specutils): wavelength column with a unit, flux[, ivar|uncertainty]."""
    from astropy.table import Table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = Table.read(probe.text().splitlines(), format="ascii.ecsv")
    except Exception as exc:
        raise NotASpectrumError(probe.path, f"ECSV table could not be parsed: {exc}") from exc
    names = list(table.colnames)
    roles = _usable_roles(names)
    if roles is None:
        raise NotASpectrumError(
            probe.path, f"ECSV table has no wavelength and flux columns (columns: {', '.join(names)})"
        )
    wave_col = table.columns[roles.get("wave", roles.get("loglam"))]
    unit = wave_col.unit if "wave" in roles else None
    columns = []
    for i in range(len(names)):
        try:
            columns.append(np.asarray(table.columns[i], dtype=np.float64))
        except (TypeError, ValueError):  # a text column we do not need
            columns.append(np.full(len(table), np.nan))
    data = np.column_stack(columns)
    flux_unit = table.columns[roles["flux"]].unit
    meta = SpectrumMeta(
        id=str(table.meta.get("id") or table.meta.get("OBJECT") or probe.path.name.split(".")[0]),
        survey="table",
        path=str(probe.path),
        extra={"flux_unit": str(flux_unit)} if flux_unit is not None else {},
    )
    return build_table_spectrum(probe, data, roles, unit, meta)


# --------------------------------------------------------------------------- FITS tables


def _first_table(probe: Probe):
    hdul = probe.fits()
    for i in range(1, min(len(hdul), 4)):
        if hdul[i].header.get("XTENSION") == "BINTABLE":
            return hdul[i]
    return None


def _identify_fits_table(probe: Probe) -> bool:
    if not probe.is_fits:
        return False
    hdu = _first_table(probe)
    return hdu is not None and _usable_roles(list(hdu.columns.names)) is not None


@register_reader("fits_table", _identify_fits_table, priority=20)
def read_fits_table(probe: Probe):
    """FITS binary table spectrum (specutils tabular-fits): wavelength/flux[/uncertainty] columns."""
    hdu = _first_table(probe)
    names = list(hdu.columns.names)
    roles = _usable_roles(names)
    data = hdu.data
    if data is None or len(data) == 0:
        raise NotASpectrumError(probe.path, "the FITS table has no rows")
    columns = []
    for name in names:
        try:
            col = np.asarray(data[name], dtype=np.float64)
        except (TypeError, ValueError):  # a text column we do not need
            col = np.full(len(data), np.nan)
        columns.append(col)
    if all(c.ndim == 1 for c in columns):
        table = np.column_stack(columns)
    elif len(data) == 1:  # one row of array cells
        cells = [c.reshape(-1) for c in columns]
        n = cells[roles["flux"]].size
        if any(cells[i].size != n for i in roles.values()):
            raise UnsupportedLayoutError(probe.path, "the table's array columns differ in length")
        table = np.column_stack([c if c.size == n else np.full(n, np.nan) for c in cells])
    else:
        raise UnsupportedLayoutError(
            probe.path, "FITS table with several rows of array cells",
            "one spectrum per file is read: one row of arrays, or one row per pixel",
        )
    header = header_to_dict(hdu.header)
    wave_index = roles.get("wave", roles.get("loglam"))
    unit = header.get(f"TUNIT{wave_index + 1}") if "wave" in roles else None
    flux_unit = header.get(f"TUNIT{roles['flux'] + 1}")
    primary = header_to_dict(probe.fits()[0].header)
    meta = SpectrumMeta(
        id=str(primary.get("OBJECT") or probe.path.name.split(".")[0]).strip(),
        survey=str(primary.get("TELESCOP") or "table").strip() or "table",
        z=number_or_none(primary.get("Z", primary.get("REDSHIFT"))),
        path=str(probe.path),
        header=primary,
        extra={"flux_unit": flux_unit} if flux_unit else {},
    )
    return build_table_spectrum(probe, table, roles, unit, meta)
