"""LAMOST DR1-era image layout (pipeline v2.6): 5 rows, no EXTEN0, third row not a wavelength."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.errors import SpectrumReadError
from spectype.io import registry
from spectype.testing import COEFF0, COEFF1, N_PIX, write_lamost_image

_NO_SNR = {f"SNR{b}": None for b in "UGRIZ"}


def _dr1_file(tmp_path, name="dr1.fits", gz=False, third_row=None, **cards):
    """A v2.6-like file: SN_U..SN_Z cards, no EXTEN0, row 2 holds values near 1."""
    cards = {**_NO_SNR, "SN_U": 2.0, "SN_G": 11.0, "SN_R": 22.0, "SN_I": 33.0, "SN_Z": 44.0,
             "DATA_V": "LAMOST DR1", **cards}
    plain = tmp_path / ("_" + name.removesuffix(".gz"))
    write_lamost_image(plain, **cards)
    with fits.open(plain, mode="update") as hdul:
        assert "EXTEN0" not in hdul[0].header
        row = np.random.default_rng(1).normal(1.0, 0.01, N_PIX) if third_row is None else third_row
        hdul[0].data[2] = row
    path = tmp_path / name
    if gz:
        import gzip

        path.write_bytes(gzip.compress(plain.read_bytes()))
    else:
        plain.rename(path)
    return path


@pytest.fixture(params=["fast", "astropy"])
def fits_path(request, monkeypatch):
    """Run each test through the numpy FITS view and through astropy."""
    if request.param == "astropy":
        monkeypatch.setattr(registry.Probe, "fast_hdul", property(lambda self: None))
    return request.param


@pytest.mark.parametrize("gz", [False, True])
def test_dr1_third_row_is_rebuilt_from_coeff(tmp_path, fits_path, gz):
    path = _dr1_file(tmp_path, "dr1.fits.gz" if gz else "dr1.fits", gz=gz)
    spec = spectype.read(path)
    expected = 10.0 ** (COEFF0 + COEFF1 * np.arange(N_PIX))
    np.testing.assert_allclose(spec.wavelength, expected, rtol=1e-12)
    assert spec.meta.extra["wavelength_source"] == "coeff"
    assert spec.meta.snr == {"u": 2.0, "g": 11.0, "r": 22.0, "i": 33.0, "z": 44.0}
    assert spec.meta.data_release == "DR1"
    assert spec.mask[:3].all()  # andmask row still read from row 3


def test_a_real_wavelength_row_is_kept(tmp_path, fits_path):
    spec = spectype.read(write_lamost_image(tmp_path / "dr8.fits"))
    assert spec.meta.extra["wavelength_source"] == "row"


@pytest.mark.parametrize(
    "row",
    [
        np.linspace(100.0, 200.0, N_PIX),  # increasing but outside 3000-11000 Å
        np.linspace(9000.0, 4000.0, N_PIX),  # decreasing
        np.r_[np.linspace(4000.0, 8000.0, N_PIX - 1), np.nan],  # not finite
    ],
    ids=["out-of-range", "decreasing", "nan"],
)
def test_implausible_wavelength_rows_fall_back_to_coeff(tmp_path, fits_path, row):
    spec = spectype.read(_dr1_file(tmp_path, third_row=row))
    assert spec.meta.extra["wavelength_source"] == "coeff"
    assert 3600 < spec.wavelength[0] < spec.wavelength[-1] < 4000


def test_without_coeff_an_increasing_row_is_kept_and_a_bad_one_is_an_error(tmp_path, fits_path):
    wide = np.linspace(5000.0, 12500.0, N_PIX)  # increasing, beyond 11000 Å, nothing better
    spec = spectype.read(_dr1_file(tmp_path, "wide.fits", third_row=wide, COEFF0=None, COEFF1=None))
    assert spec.meta.extra["wavelength_source"] == "row"
    np.testing.assert_allclose(spec.wavelength, wide.astype(np.float32))
    path = _dr1_file(tmp_path, COEFF0=None, COEFF1=None)  # row of values near 1
    with pytest.raises(SpectrumReadError, match="wavelengths are not finite and strictly increasing") as info:
        spectype.read(path)
    assert str(path) in str(info.value)
