"""LAMOST low-resolution (LRS) spectra, both file layouts.

* image layout (DR1-DR8 and reprocessings): the primary HDU is a (rows, n_pix) image whose
  rows are flux, ivar, wavelength, andmask, ormask (the `EXTEN0` card lists them). DR1-era
  files (pipeline v2.6) have 5 rows, no EXTEN0, and a third row that is not a wavelength
  (values near 1): a wavelength row is used only when it is finite, strictly increasing and
  inside 3000-11000 Å; otherwise the grid is rebuilt from COEFF0/COEFF1 (when present) and
  `meta.extra['wavelength_source']` says 'coeff' (else 'row').
* table layout (DR9+): an empty primary HDU plus a binary table `COADD` with one row whose
  cells are arrays: FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK, NORMALIZATION.

The layout is told from the file's structure (HDU kind, table name, columns) plus the
`TELESCOP`/`ORIGIN` cards; never from `DATA_V` or the pixel count, which vary between releases.
Wavelengths are vacuum (the `VACUUM` card; LAMOST has always written T) and heliocentric.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadWavelengthError, UnsupportedLayoutError
from ..spectrum import Spectrum, SpectrumMeta
from .registry import (
    Probe,
    header_to_dict,
    number_or_none,
    register_reader,
    survey_mask_and_ivar,
    table_columns,
)

LAMOST_RESOLUTION = 1800.0  # R at 5500 Å, LAMOST LRS
# LAMOST LRS covers 3700-9100 Å; a wavelength row outside this window is not a wavelength.
PLAUSIBLE_WAVE_A = (3000.0, 11000.0)
_TABLE_COLUMNS = ("FLUX", "IVAR", "WAVELENGTH")
# Old pipelines wrote SNRU..SNRZ, some reprocessings SN_U..SN_Z.
_SNR_CARDS = {b: (f"SNR{b.upper()}", f"SN_{b.upper()}") for b in "ugriz"}


def _is_lamost_header(header) -> bool:
    text = " ".join(str(header.get(k, "")) for k in ("TELESCOP", "ORIGIN", "DATA_V"))
    return "LAMOST" in text.upper()


def _identify_image(probe: Probe) -> bool:
    if not probe.is_fits:
        return False
    primary = probe.fits()[0]
    return (
        _is_lamost_header(primary.header)
        and primary.header.get("NAXIS") == 2
        and 2 <= int(primary.header.get("NAXIS2", 0)) <= 8
    )


def _identify_table(probe: Probe) -> bool:
    if not probe.is_fits or len(probe.fits()) < 2:
        return False
    hdu = probe.fits()[1]
    if hdu.header.get("XTENSION") != "BINTABLE":
        return False
    columns = {c.upper() for c in hdu.columns.names}
    # A LAMOST header plus a COADD table is enough to claim the file, so that a table
    # missing columns gets a precise error from the reader instead of "unknown format".
    lamost_coadd = _is_lamost_header(probe.fits()[0].header) and hdu.name == "COADD"
    return lamost_coadd or set(_TABLE_COLUMNS) | {"ANDMASK"} <= columns


def _meta(probe: Probe) -> SpectrumMeta:
    hdr = probe.fits()[0].header
    header = header_to_dict(hdr)
    obsid = header.get("OBSID")
    if obsid in (None, ""):
        # Some reprocessed files lack OBSID: fall back to the pipeline's file name, then DESIG.
        obsid = str(header.get("FILENAME", "")).removesuffix(".gz").removesuffix(".fits")
        obsid = obsid or header.get("DESIG") or probe.path.name.split(".")[0]
    release = header.get("DATA_V")
    if isinstance(release, str) and release:
        release = release.upper().replace("LAMOST", "").strip() or release
    else:
        release = None
    snr = {}
    for band, keys in _SNR_CARDS.items():
        for key in keys:
            value = number_or_none(header.get(key))
            if value is not None:
                snr[band] = value
                break
    subclass = header.get("SUBCLASS")
    return SpectrumMeta(
        id=str(obsid),
        survey="LAMOST",
        data_release=release,
        obj_class=(header.get("CLASS") or None),
        subclass=(str(subclass) if subclass not in (None, "") else None),
        snr=snr,
        z=number_or_none(header.get("Z")),
        resolution=LAMOST_RESOLUTION,
        path=str(probe.path),
        header=header,
    )


def _medium(header) -> str:
    return "air" if header.get("VACUUM") is False else "vacuum"


def plausible_wavelength(wave: np.ndarray) -> bool:
    """True for a finite, strictly increasing grid inside `PLAUSIBLE_WAVE_A` (Å)."""
    lo, hi = PLAUSIBLE_WAVE_A
    return bool(
        wave.size > 1
        and np.all(np.isfinite(wave))
        and np.all(np.diff(wave) > 0)
        and wave[0] >= lo
        and wave[-1] <= hi
    )


def _loglinear_wavelength(probe: Probe, header, n: int) -> np.ndarray:
    """Wavelength from log10 λ = COEFF0 + COEFF1·i (i = 0..n-1), shape (n,)."""
    c0 = number_or_none(header.get("COEFF0", header.get("CRVAL1")))
    c1 = number_or_none(header.get("COEFF1", header.get("CD1_1")))
    if c0 is None or c1 is None:
        raise BadWavelengthError(
            probe.path,
            "no usable wavelength row (none, or not finite/increasing within 3000-11000 Å) "
            "and no COEFF0/COEFF1 cards to rebuild it",
        )
    return 10.0 ** (c0 + c1 * np.arange(n))


_DEFAULT_ROWS = {
    5: ("flux", "ivar", "wavelength", "andmask", "ormask"),
    4: ("flux", "ivar", "andmask", "ormask"),
    3: ("flux", "ivar", "wavelength"),
    2: ("flux", "ivar"),
}


def _row_names(header, n_rows: int) -> dict[str, int]:
    """Row index of flux, ivar[, wavelength, andmask] in the image.

    EXTEN0 ('Flux, Inverse, Wavelength, Andmask, Ormask') names the rows when present;
    otherwise the row count decides (files without a wavelength row have 4 rows).
    """
    aliases = {
        "flux": "flux",
        "inverse": "ivar",
        "ivar": "ivar",
        "wavelength": "wavelength",
        "andmask": "andmask",
        "ormask": "ormask",
    }
    words = str(header.get("EXTEN0", "")).replace(",", " ").lower().split()
    names = [aliases.get(w) for w in words]
    if len(names) != n_rows or None in names:
        names = list(_DEFAULT_ROWS.get(n_rows, _DEFAULT_ROWS[5][:n_rows]))
    return {name: i for i, name in enumerate(names)}


def _build(probe, meta, wave, flux, ivar, andmask) -> Spectrum:
    flux = np.asarray(flux, dtype=np.float64)
    ivar = np.asarray(ivar, dtype=np.float64)
    mask, ivar = survey_mask_and_ivar(flux, ivar, andmask)
    return Spectrum(wave, flux, ivar, mask, medium=_medium(meta.header), meta=meta)


@register_reader("lamost_lrs_image", _identify_image, priority=100)
def read_lamost_lrs_image(probe: Probe) -> Spectrum:
    """LAMOST LRS, image layout (DR1-DR8): rows flux, ivar, wavelength, andmask, ormask."""
    hdr = probe.fits()[0].header
    data = probe.fits()[0].data
    if data is None or data.ndim != 2 or data.shape[0] < 2:
        raise UnsupportedLayoutError(probe.path, "primary image is not a (rows, pixels) array")
    data = np.asarray(data, dtype=np.float64)
    rows = _row_names(hdr, data.shape[0])
    n = data.shape[1]
    flux, ivar = data[rows["flux"]], data[rows["ivar"]]
    wave = data[rows["wavelength"]] if "wavelength" in rows else None
    source = "row"
    has_coeff = None not in (
        number_or_none(hdr.get("COEFF0", hdr.get("CRVAL1"))),
        number_or_none(hdr.get("COEFF1", hdr.get("CD1_1"))),
    )
    # DR1-era (v2.6) files: the third row holds something else (values near 1). A row
    # outside 3000-11000 Å is still used when there are no coefficients to rebuild from
    # (check_usable then refuses it unless it is at least finite and increasing).
    if wave is None or (not plausible_wavelength(wave) and has_coeff):
        wave, source = _loglinear_wavelength(probe, hdr, n), "coeff"
    andmask = data[rows["andmask"]] if "andmask" in rows else np.zeros(n)
    meta = _meta(probe)
    meta.extra["wavelength_source"] = source
    return _build(probe, meta, wave, flux, ivar, andmask)


@register_reader("lamost_lrs_table", _identify_table, priority=100)
def read_lamost_lrs_table(probe: Probe) -> Spectrum:
    """LAMOST LRS, table layout (DR9+): binary table COADD with array cells."""
    hdu = probe.fits()["COADD"] if "COADD" in probe.fits() else probe.fits()[1]
    data, names = table_columns(probe, hdu, _TABLE_COLUMNS, "LAMOST COADD")

    def column(name: str) -> np.ndarray:
        return np.asarray(data[names[name]][0], dtype=np.float64).ravel()

    flux, ivar, wave = column("FLUX"), column("IVAR"), column("WAVELENGTH")
    andmask = column("ANDMASK") if "ANDMASK" in names else np.zeros_like(flux)
    return _build(probe, _meta(probe), wave, flux, ivar, andmask)
