"""Small synthetic LAMOST files for tests and examples (never copies of real data).

The layouts follow the real archives: DR9+ table layout (`COADD` binary table) and the DR1-8
image layout (rows flux, ivar[, wavelength], andmask, ormask).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from astropy.io import fits

N_PIX = 200
COEFF0, COEFF1 = 3.5682, 0.0001


def _lamost_header(**cards) -> fits.Header:
    hdr = fits.Header()
    base = {
        "TELESCOP": "LAMOST",
        "DATA_V": "LAMOST DR9",
        "OBSID": 4242,
        "CLASS": "STAR",
        "SUBCLASS": "G5",
        "SNRU": 1.5,
        "SNRG": 20.0,
        "SNRR": 30.0,
        "SNRI": 35.0,
        "SNRZ": 25.0,
        "Z": -9999.0,
        "COEFF0": COEFF0,
        "COEFF1": COEFF1,
        "VACUUM": True,
    }
    base.update(cards)
    for key, value in base.items():
        if value is not None:
            hdr[key] = value
    return hdr


def _arrays(n: int = N_PIX):
    wave = 10 ** (COEFF0 + COEFF1 * np.arange(n))
    flux = 1.0 + 0.1 * np.sin(np.arange(n) / 7.0)
    ivar = np.full(n, 100.0)
    andmask = np.zeros(n)
    andmask[:3] = 1
    return wave, flux, ivar, andmask


def write_lamost_table(path: Path, n: int = N_PIX, columns=None, gz: bool = False, **cards) -> Path:
    """DR9+ layout: empty primary + COADD table with one row of array cells."""
    wave, flux, ivar, andmask = _arrays(n)
    arrays = {
        "FLUX": flux,
        "IVAR": ivar,
        "WAVELENGTH": wave,
        "ANDMASK": andmask,
        "ORMASK": andmask,
        "NORMALIZATION": np.ones(n),
    }
    for name, value in (columns or {}).items():
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value
    cols = [fits.Column(name=k, format=f"{n}E", array=v[None, :]) for k, v in arrays.items()]
    table = fits.BinTableHDU.from_columns(cols, name="COADD")
    hdul = fits.HDUList([fits.PrimaryHDU(header=_lamost_header(**cards)), table])
    return _write(hdul, path, gz)


def write_lamost_image(
    path: Path, n: int = N_PIX, with_wavelength: bool = True, gz: bool = False, **cards
) -> Path:
    """DR1-8 layout: primary (rows, n) image: flux, ivar[, wavelength], andmask, ormask."""
    wave, flux, ivar, andmask = _arrays(n)
    rows = (
        [flux, ivar, wave, andmask, andmask] if with_wavelength else [flux, ivar, andmask, andmask]
    )
    if not with_wavelength:
        cards.setdefault("EXTEN0", "Flux, Inverse, Andmask, Ormask")
    hdu = fits.PrimaryHDU(np.array(rows, dtype=np.float32), header=_lamost_header(**cards))
    return _write(fits.HDUList([hdu]), path, gz)


def _write(hdul: fits.HDUList, path: Path, gz: bool) -> Path:
    path = Path(path)
    if gz:
        raw = path.with_suffix("")
        hdul.writeto(raw, overwrite=True)
        path.write_bytes(gzip.compress(raw.read_bytes()))
        raw.unlink()
    else:
        hdul.writeto(path, overwrite=True)
    return path
