"""Kesseli+2017 SDSS templates: a generated file of that layout plus the real set."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.io.kesseli import parse_name
from spectype.io.registry import Probe, identify_format
from spectype.labels import parse_label


def _write(path, n=400, bad_err_at=(5, 6)):
    loglam = np.linspace(3.5623, 4.0086, n).astype(np.float32)
    flux = (1.0 + 0.1 * np.sin(np.arange(n) / 9.0)).astype(np.float32)
    err = np.full(n, 0.05, np.float32)
    err[list(bad_err_at)] = [0.0, np.nan]
    primary = fits.PrimaryHDU()
    primary.header["COMMENT"] = "Template made from 12 Co-added individual BOSS (SDSS) spectra"
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name=k, format="E", array=v)
         for k, v in (("LogLam", loglam), ("Flux", flux), ("PropErr", err), ("Std", err * 2))]
    )
    raw = path.with_suffix("")
    fits.HDUList([primary, table]).writeto(raw)
    path.write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("G2_+0.0_Dwarf.fits.gz", {"mk_type": "G2V", "feh": 0.0, "dwarf_giant": "Dwarf"}),
        ("K7_Giant.fits.gz", {"mk_type": "K7III", "dwarf_giant": "Giant"}),
        ("G4_-0.5_Giant.fits", {"mk_type": "G4III", "feh": -0.5, "dwarf_giant": "Giant"}),
        ("B3.fits.gz", {"mk_type": "B3"}),
        ("notes.fits.gz", {}),
    ],
)
def test_name(name, expected):
    assert parse_name(name) == expected


def test_read_generated_template(tmp_path):
    path = _write(tmp_path / "K3_+0.0_Giant.fits.gz")
    with Probe(path) as probe:
        assert identify_format(probe) == "kesseli"  # not sdss_spec, whose loglam test matches too
    spec = spectype.read(path)
    assert spec.meta.survey == "Kesseli-templates" and spec.medium == "vacuum"
    assert spec.meta.id == "Kesseli:K3_+0.0_Giant"
    assert spec.meta.subclass == "K3III" and parse_label(spec.meta.subclass).lum_class == "III"
    assert spec.meta.extra["template"] is True and spec.meta.extra["averaged"] is True
    assert spec.meta.extra["n_coadded"] == 12 and spec.meta.extra["feh"] == 0.0
    assert spec.wavelength[0] == pytest.approx(10**3.5623, rel=1e-6)
    np.testing.assert_allclose(spec.ivar[:5], 1 / 0.05**2, rtol=1e-5)
    assert spec.ivar[5] == 0 and spec.ivar[6] == 0  # PropErr 0 and NaN
    assert spec.mask[5] and spec.mask[6] and spec.mask.sum() == 2


@pytest.mark.shared
def test_real_kesseli(shared_data):
    folder = shared_data / "libraries" / "kesseli"
    if not folder.is_dir():
        pytest.skip(f"Kesseli templates not found at {folder}")
    files = sorted(folder.glob("*.fits.gz"))
    assert len(files) == 79
    g2 = spectype.read(folder / "G2_+0.0_Dwarf.fits.gz")
    assert g2.meta.subclass == "G2V" and len(g2) == 61618
    assert 3640 < g2.wavelength[0] < 3660 and 10190 < g2.wavelength[-1] < 10210
    assert g2.good.mean() > 0.99
    assert spectype.read(folder / "K7_Giant.fits.gz").meta.subclass == "K7III"
    assert spectype.read(folder / "O5.fits.gz").meta.subclass == "O5"
