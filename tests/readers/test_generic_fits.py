"""Generic 1D FITS with a wavelength WCS: linear, log10 (DC-FLAG), WAVE-LOG, units, priority."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.errors import SpectrumReadError
from spectype.io import registry
from spectype.io.registry import Probe, identify_format

N = 120


def _flux(n=N):
    return (1.0 + 0.2 * np.sin(np.arange(n) / 6.0)).astype(np.float32)


def _write(path, cards, flux=None, extra_hdus=()):
    hdu = fits.PrimaryHDU(_flux() if flux is None else flux)
    hdu.header.update(cards)
    fits.HDUList([hdu, *extra_hdus]).writeto(path)
    return path


@pytest.fixture(params=["fast", "astropy"])
def fits_path(request, monkeypatch):
    if request.param == "astropy":
        monkeypatch.setattr(registry.Probe, "fast_hdul", property(lambda self: None))
    return request.param


def test_the_issue_example(tmp_path, fits_path):
    """fits.PrimaryHDU(fl) with CRVAL1=3800, CDELT1=1.5, CRPIX1=1, CTYPE1=WAVE, CUNIT1=Angstrom."""
    path = _write(tmp_path / "g.fits", dict(CRVAL1=3800.0, CDELT1=1.5, CRPIX1=1, CTYPE1="WAVE",
                                            CUNIT1="Angstrom"))
    with Probe(path) as probe:
        assert identify_format(probe) == "generic_fits_1d"
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, 3800.0 + 1.5 * np.arange(N))
    np.testing.assert_allclose(spec.flux, _flux())
    assert spec.medium == "vacuum" and "medium_assumed" not in spec.meta.extra
    assert spec.good.all()


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (dict(CRVAL1=5000.0, CD1_1=2.0, CRPIX1=11), 5000.0 + 2.0 * (np.arange(N) - 10)),
        (dict(CRVAL1=4000.0, CDELT1=1.0), 4000.0 + np.arange(N)),  # CRPIX1 defaults to 1
        (dict(CRVAL1=3.6, CDELT1=1e-4, **{"DC-FLAG": 1}), 10 ** (3.6 + 1e-4 * np.arange(N))),
        (dict(CRVAL1=3.6, CDELT1=1e-4, CTYPE1="WAVE-LOG"), 10 ** (3.6 + 1e-4 * np.arange(N))),
        (dict(CRVAL1=4000.0, CDELT1=0.5, CTYPE1="WAVE-LOG"),
         4000.0 * np.exp(0.5 * np.arange(N) / 4000.0)),
        (dict(CRVAL1=400.0, CDELT1=0.1, CUNIT1="nm"), 4000.0 + np.arange(N)),
        (dict(CRVAL1=0.4, CDELT1=1e-4, CUNIT1="um"), 4000.0 + np.arange(N)),
        (dict(CRVAL1=0.4, CDELT1=1e-4, CUNIT1="micron"), 4000.0 + np.arange(N)),
    ],
    ids=["cd1_1-crpix", "default-crpix", "dc-flag", "wave-log-log10", "wave-log-standard",
         "nm", "um", "micron"],
)
def test_wcs_variants(tmp_path, fits_path, cards, expected):
    spec = spectype.read(_write(tmp_path / "s.fits", cards))
    np.testing.assert_allclose(spec.wavelength, expected, rtol=1e-10)


def test_air_naxis2_of_one_and_error_extension(tmp_path, fits_path):
    err = fits.ImageHDU(np.full(N, 0.5, np.float32), name="ERROR")
    path = _write(tmp_path / "a.fits", dict(CRVAL1=4000.0, CDELT1=1.0, CTYPE1="AWAV",
                                            OBJECT="HD 1", SPTYPE="K2III"),
                  flux=_flux()[None, :], extra_hdus=[err])
    spec = spectype.read(path)
    assert len(spec) == N and spec.medium == "air"
    np.testing.assert_allclose(spec.ivar, 4.0)
    assert spec.meta.id == "HD 1" and spec.meta.subclass == "K2III"
    assert spec.meta.extra["weights_from"] == "ERROR"


def test_specific_readers_win(tmp_path):
    cards = dict(CRVAL1=3540.5, CDELT1=0.9, CRPIX1=1)
    stelib = _write(tmp_path / "stelib.fits", {**cards, "SPECTYPE": "A2"})
    miles = _write(tmp_path / "miles.fits", {**cards, "TPLLIB": "MILES"})
    for path, name in ((stelib, "stelib"), (miles, "miles")):
        with Probe(path) as probe:
            assert identify_format(probe) == name


def test_unknown_unit_and_2d_image(tmp_path):
    path = _write(tmp_path / "u.fits", dict(CRVAL1=4000.0, CDELT1=1.0, CUNIT1="furlong"))
    with pytest.raises(SpectrumReadError, match="unit 'furlong'"):
        spectype.read(path)
    image = _write(tmp_path / "img.fits", dict(CRVAL1=4000.0, CDELT1=1.0),
                   flux=np.ones((20, 30), np.float32))
    with Probe(image) as probe:
        assert "generic_fits_1d" != _safe_identify(probe)


def _safe_identify(probe):
    try:
        return identify_format(probe)
    except SpectrumReadError:
        return None
