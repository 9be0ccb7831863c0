"""Small synthetic LAMOST-like files and a catalogue of them (generated, never copied)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

# 1,000 log-spaced pixels from 3,690 Å cover the default model grid (3,700-8,672 Å).
LOG_START, LOG_STEP, N_FILE_PIX = np.log10(3690.0), 4e-4, 1000
SLOPES = {"A": -1.0, "G": 0.0, "M": 1.0}


def write_lamost(path: Path, subclass: str, obsid: int, snr_i: float = 30.0,
                 obj_class: str = "STAR", log_start: float = LOG_START, seed: int = 0,
                 cards: dict | None = None) -> Path:
    """LAMOST image-layout FITS (flux, ivar, wavelength rows) with a class-dependent slope;
    `cards` adds header cards (DESIG, RA, DEC ...)."""
    rng = np.random.default_rng(seed)
    wave = 10 ** (log_start + LOG_STEP * np.arange(N_FILE_PIX))
    slope = SLOPES.get(subclass[:1], 0.0)
    flux = 2.0 + slope * (wave - 6000.0) / 3000.0 + 0.05 * rng.standard_normal(N_FILE_PIX)
    rows = np.array([flux, np.full(N_FILE_PIX, 100.0), wave], dtype=np.float32)
    hdr = fits.Header()
    for k, v in {"TELESCOP": "LAMOST", "DATA_V": "LAMOST DR9", "OBSID": obsid, "CLASS": obj_class,
                 "SUBCLASS": subclass, "SNRG": snr_i, "SNRI": snr_i, "Z": 0.0, "VACUUM": True,
                 "EXTEN0": "Flux, Inverse, Wavelength", **(cards or {})}.items():
        hdr[k] = v
    fits.PrimaryHDU(rows, header=hdr).writeto(path, overwrite=True)
    return path


def make_spectra_dir(root: Path, n_per_class: dict[str, int] | None = None) -> Path:
    """A folder of usable spectra plus one of each kind of trouble.

    Usable: A/G/M stars, SNR_i 30. Trouble: a QSO (excluded), two SNR_i 5 stars (cut by
    SNR), one covering only 5,000 Å+ (cut by coverage), a truncated file and an empty file
    (status error).
    """
    n_per_class = n_per_class or {"A": 12, "G": 12, "M": 8}
    root.mkdir(parents=True, exist_ok=True)
    obsid = 1000
    for cls, n in n_per_class.items():
        for _ in range(n):
            obsid += 1
            write_lamost(root / f"spec-{obsid}.fits", f"{cls}5", obsid, seed=obsid)
    write_lamost(root / "spec-qso.fits", "", 2001, obj_class="QSO")
    write_lamost(root / "spec-lowsnr-1.fits", "G2", 2002, snr_i=5.0)
    write_lamost(root / "spec-lowsnr-2.fits", "A2", 2003, snr_i=5.0)
    write_lamost(root / "spec-red.fits", "G2", 2004, log_start=np.log10(5000.0))
    good = (root / "spec-1001.fits").read_bytes()
    (root / "spec-truncated.fits").write_bytes(good[: len(good) // 3])
    (root / "spec-empty.fits").write_bytes(b"")
    return root


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory) -> Path:
    """Parquet catalogue of `make_spectra_dir` (scanned in-process)."""
    from spectype.catalog import scan, write_catalog

    root = tmp_path_factory.mktemp("spectra")
    make_spectra_dir(root / "files")
    return write_catalog(scan([root / "files"], workers=1), root / "cat.parquet")


@pytest.fixture
def make_spectra():
    """The `make_spectra_dir(root, n_per_class=None)` factory."""
    return make_spectra_dir
