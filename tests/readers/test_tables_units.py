"""CSV/ECSV/FITS-table spectra with wavelength units, gzipped text, specutils-written files."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

import spectype
from spectype.io.columns import split_unit
from spectype.io.registry import Probe, identify_format

N = 80
NM = np.linspace(400.0, 700.0, N)
FLUX = 1.0 + 0.1 * np.sin(np.arange(N) / 5.0)


def _csv(path, header, wave, sep=","):
    lines = [header] + [f"{w:.12g}{sep}{f:.12g}" for w, f in zip(wave, FLUX, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [("wave [nm]", ("wave", "nm")), ("lambda(um)", ("lambda", "um")),
     ("wavelength_nm", ("wavelength", "nm")), ("Wavelength (Angstrom)", ("wavelength", "Angstrom")),
     ("flux", ("flux", None)), ("flux_err", ("flux_err", None))],
)
def test_split_unit(name, expected):
    assert split_unit(name) == expected


@pytest.mark.parametrize(
    ("header", "wave", "sep"),
    [
        ("wavelength_nm,flux", NM, ","),
        ("wave [nm],flux", NM, ","),
        ("wave [nm] flux", NM, " "),
        ("lambda(um),flux", NM / 1000.0, ","),
        ("wavelength (Angstrom),flux", NM * 10.0, ","),
        ("wavelength,flux", NM * 10.0, ","),
    ],
    ids=["suffix-nm", "bracket-nm", "bracket-nm-spaces", "paren-um", "angstrom", "no-unit-angstrom"],
)
def test_csv_units(tmp_path, header, wave, sep):
    spec = spectype.read(_csv(tmp_path / "s.csv", header, wave, sep))
    np.testing.assert_allclose(spec.wavelength, NM * 10.0, rtol=1e-10)
    np.testing.assert_allclose(spec.flux, FLUX)
    assert "wavelength_unit_inferred" not in spec.meta.extra


def test_unitless_nm_is_inferred_and_recorded(tmp_path):
    spec = spectype.read(_csv(tmp_path / "s.csv", "wavelength,flux", NM))
    np.testing.assert_allclose(spec.wavelength, NM * 10.0)
    assert spec.meta.extra == {"wavelength_unit": "nm", "wavelength_unit_inferred": True}


def test_gzipped_csv_is_read(tmp_path):
    plain = _csv(tmp_path / "s.csv", "wave [nm],flux", NM).read_bytes()
    path = tmp_path / "s.csv.gz"
    path.write_bytes(gzip.compress(plain))
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, NM * 10.0)
    assert spec.meta.id == "s"


def test_error_and_variance_columns(tmp_path):
    rows = "\n".join(f"{w},{f},0.5" for w, f in zip(NM, FLUX, strict=True))
    (tmp_path / "e.csv").write_text("wave_nm,flux,flux_err\n" + rows)
    (tmp_path / "v.csv").write_text("wave_nm,flux,variance\n" + rows)
    np.testing.assert_allclose(spectype.read(tmp_path / "e.csv").ivar, 4.0)
    np.testing.assert_allclose(spectype.read(tmp_path / "v.csv").ivar, 2.0)


def test_ecsv_with_units(tmp_path):
    import astropy.units as u
    from astropy.table import QTable

    table = QTable([NM * u.nm, FLUX * u.Unit("erg / (s cm2 AA)"), np.full(N, 0.25)],
                   names=["wavelength", "flux", "uncertainty"])
    path = tmp_path / "t.ecsv"
    table.write(path)
    with Probe(path) as probe:
        assert identify_format(probe) == "ecsv"
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, NM * 10.0)
    np.testing.assert_allclose(spec.ivar, 16.0)
    assert spec.meta.extra["flux_unit"] == "erg / (Angstrom s cm2)"
    gz = tmp_path / "t.ecsv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_allclose(spectype.read(gz).wavelength, NM * 10.0)


def _spectrum1d(unit="nm"):
    specutils = pytest.importorskip("specutils")
    import astropy.units as u
    from astropy.nddata import StdDevUncertainty

    cls = getattr(specutils, "Spectrum", None) or specutils.Spectrum1D
    return cls(flux=FLUX * u.Unit("erg / (s cm2 AA)"), spectral_axis=NM * u.Unit(unit),
               uncertainty=StdDevUncertainty(np.full(N, 0.5)))


@pytest.mark.filterwarnings("ignore")
def test_specutils_tabular_fits(tmp_path):
    path = tmp_path / "su.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _spectrum1d().write(path, format="tabular-fits")
    with Probe(path) as probe:
        assert identify_format(probe) == "fits_table"
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, NM * 10.0)
    np.testing.assert_allclose(spec.flux, FLUX)
    np.testing.assert_allclose(spec.ivar, 4.0)
    assert spec.meta.extra["wavelength_unit"] == "nm"


@pytest.mark.filterwarnings("ignore")
def test_specutils_wcs1d_fits(tmp_path):
    specutils = pytest.importorskip("specutils")
    import astropy.units as u
    from astropy.wcs import WCS

    wcs = WCS(naxis=1)
    wcs.wcs.ctype, wcs.wcs.cunit = ["WAVE"], ["nm"]
    wcs.wcs.crval, wcs.wcs.cdelt, wcs.wcs.crpix = [NM[0]], [NM[1] - NM[0]], [1]
    cls = getattr(specutils, "Spectrum", None) or specutils.Spectrum1D
    spec_in = cls(flux=FLUX * u.Unit("erg / (s cm2 AA)"), wcs=wcs)
    path = tmp_path / "wcs.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec_in.write(path, format="wcs1d-fits")
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, NM * 10.0, rtol=1e-9)
    np.testing.assert_allclose(spec.flux, FLUX, rtol=1e-6)
    assert spec.meta.extra["flux_unit"] == "erg / (Angstrom s cm2)"  # BUNIT kept
