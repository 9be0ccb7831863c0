"""Catalogue: one row per spectrum, a status per row, errors recorded, stable dtypes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from spectype.catalog import (
    CATALOG_COLUMNS,
    catalog_file,
    read_catalog,
    scan,
    summarize,
    write_catalog,
)
from spectype.spectrum import Spectrum, SpectrumMeta


def _write_lamost(path: Path, subclass: str, obsid: int, snr_i: float = 30.0, obj_class="STAR") -> Path:
    wave = 10 ** (np.log10(3690.0) + 4e-4 * np.arange(1000))
    rows = np.array([np.ones(1000), np.full(1000, 100.0), wave], dtype=np.float32)
    hdr = fits.Header()
    for k, v in {"TELESCOP": "LAMOST", "OBSID": obsid, "CLASS": obj_class, "SUBCLASS": subclass,
                 "SNRI": snr_i, "Z": 0.0, "EXTEN0": "Flux, Inverse, Wavelength"}.items():
        hdr[k] = v
    fits.PrimaryHDU(rows, header=hdr).writeto(path)
    return path


@pytest.fixture
def spectra_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    _write_lamost(d / "a.fits", "A5", 1)
    _write_lamost(d / "sub" / "m.fits", "dM2", 2, snr_i=4.0)
    _write_lamost(d / "qso.fits", "", 3, obj_class="QSO")
    good = (d / "a.fits").read_bytes()
    (d / "truncated.fits").write_bytes(good[: len(good) // 3])
    (d / "empty.fits").write_bytes(b"")
    (d / "notes.dat").write_text("this is not a spectrum\n")
    return d


def test_rows_status_and_errors(spectra_dir: Path):
    df = scan([spectra_dir], workers=1)
    by = {Path(p).name: r for p, r in zip(df["path"], df.to_dict("records"), strict=True)}
    assert set(by) == {"a.fits", "m.fits", "qso.fits", "truncated.fits", "empty.fits", "notes.dat"}
    assert by["a.fits"]["status"] == "ok" and by["a.fits"]["cls"] == "A"
    assert by["a.fits"]["format"] == "lamost_lrs_image" and by["a.fits"]["coverage"] > 0.95
    assert by["m.fits"]["cls"] == "M" and by["m.fits"]["lum_class"] == "V" and by["m.fits"]["snr_i"] == 4.0
    assert by["qso.fits"]["status"] == "excluded" and "QSO" in by["qso.fits"]["excluded"]
    for name in ("truncated.fits", "empty.fits", "notes.dat"):
        assert by[name]["status"] == "error"
        assert name in by[name]["error"]  # the message names the file
    assert "truncated" in by["truncated.fits"]["error"]
    assert list(df.columns) == list(CATALOG_COLUMNS)
    assert {c: str(t) for c, t in df.dtypes.items()} == CATALOG_COLUMNS


def test_parallel_scan_equals_serial(spectra_dir: Path):
    a = scan([spectra_dir], workers=1)
    b = scan([spectra_dir], workers=2, chunk_size=2)
    pd.testing.assert_frame_equal(a, b)


def _two_spectra(path: str):
    """A stand-in reader: every file holds two spectra (like a library table)."""
    wave = np.linspace(3600, 9000, 500)
    specs = [
        Spectrum(wave, np.ones(500), None, None, meta=SpectrumMeta(id=f"s{i}", subclass=t))
        for i, t in enumerate(["B2V", "Carbon"])
    ]
    return "stand-in", specs


def test_multi_spectrum_files_give_one_row_each(tmp_path: Path):
    (tmp_path / "lib.dat").write_text("x")
    rows = catalog_file(str(tmp_path / "lib.dat"), read_fn=_two_spectra)
    assert [r["index"] for r in rows] == [0, 1]
    assert [r["cls"] for r in rows] == ["B", "C"]
    assert all(not isinstance(v, np.ndarray) for r in rows for v in r.values())


def test_write_read_parquet_and_csv(spectra_dir: Path, tmp_path: Path):
    df = scan([spectra_dir], workers=1)
    for name in ("cat.parquet", "cat.csv"):
        out = write_catalog(df, tmp_path / name)
        back = read_catalog(out)
        pd.testing.assert_frame_equal(back, df, check_exact=False)
    leftovers = [p for p in os.listdir(tmp_path) if ".tmp" in p]
    assert leftovers == []
    s = summarize(df)
    assert s["status"] == {"ok": 2, "excluded": 1, "error": 3}
    assert s["classes_ok"] == {"A": 1, "M": 1}


def test_read_catalog_explains_missing_file(tmp_path: Path):
    from spectype.errors import ConfigError

    with pytest.raises(ConfigError, match="spectype catalog"):
        read_catalog(tmp_path / "nope.parquet")


def test_shared_sdss_folder(shared_data: Path):
    df = scan([shared_data / "sdss"], workers=1)
    assert len(df) == 9 and (df["status"] == "ok").all()
    assert (df["survey"] == "SDSS").all()
    assert df["cls"].value_counts().get("M", 0) >= 4
