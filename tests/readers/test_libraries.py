"""Library readers: STELIB, Pickles, BOSS spEigenStar, MKCLASS, and their type decoding."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.io.libraries import mkclass_type_from_name, pickles_type_from_name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("t010l00p00.rbn", "O4Ia"),
        ("t030l50p00.rbn", "O6V"),
        ("t100l10p00.rbn", "B3Ib"),
        ("t160l30p00.rbn", "A0III"),
        ("t230l50p00.rbn", "F0V"),
        ("t300l40p00.rbn", "G0IV"),
        ("t340l30p00.rbn", "K0III"),
        ("t200l20p00.rbn", "A5II"),
        ("t260l25p00.rbn", "F5II-III"),
        ("t407l50p00.rbn", "M0V"),
        ("t495l30p00.rbn", "M9III"),
        ("notatype.rbn", None),
    ],
)
def test_mkclass_name_decoding(name, expected):
    assert mkclass_type_from_name(name) == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a0v.dat", "A0V"),
        ("b57v.dat", "B5-7V"),
        ("m2p5v.dat", "M2.5V"),
        ("m10iii.dat", "M10III"),
        ("wk0iii.dat", "K0III"),
        ("ukg2v.dat", "G2V"),
        ("k01ii.dat", "K0-1II"),
        ("vega.dat", None),
    ],
)
def test_pickles_name_decoding(name, expected):
    assert pickles_type_from_name(name) == expected


def test_synthetic_pickles_fixed_width(tmp_path):
    # Fortran F7.1/F10.6 with values running together, as in the real b1v.dat.
    lines = [f"{1150.0 + 5 * i:7.1f}{100.0 + i:10.6f}{0.5:10.6f}" for i in range(20)]
    path = tmp_path / "b1v.dat"
    path.write_text("\n".join(lines) + "\n")
    assert "1150.0100.000000" in lines[0]
    spec = spectype.read(path)
    assert spec.meta.survey == "Pickles" and spec.meta.subclass == "B1V"
    assert spec.flux[0] == pytest.approx(100.0) and spec.ivar[0] == pytest.approx(4.0)
    weak = tmp_path / "wk0iii.dat"
    weak.write_text(path.read_text())
    assert spectype.read(weak).meta.extra["metallicity"] == "metal-weak"
    assert spectype.read(weak).meta.subclass == "K0III"


def test_synthetic_stelib(tmp_path):
    flux = np.r_[np.zeros(5), np.ones(95)].astype(np.float32)
    hdu = fits.PrimaryHDU(flux)
    hdu.header.update(CRVAL1=3200.0, CDELT1=1.0, CRPIX1=1.0, SPECTYPE="K3III", STARIDEN="HD1")
    hdu.writeto(tmp_path / "s.fits")
    spec = spectype.read(tmp_path / "s.fits")
    assert spec.meta.survey == "STELIB" and spec.medium == "air" and spec.meta.subclass == "K3III"
    assert spec.wavelength[0] == 3200.0 and spec.wavelength[-1] == 3299.0
    assert spec.mask[:5].all() and not spec.mask[5:].any()
    assert spec.meta.extra["fwhm_A"] == 3.0
    # CRPIX1 = 0 is a valid reference pixel (the first pixel sits one step above CRVAL1).
    hdu.header["CRPIX1"] = 0.0
    hdu.writeto(tmp_path / "s0.fits")
    assert spectype.read(tmp_path / "s0.fits").wavelength[0] == 3201.0


@pytest.mark.shared
def test_real_libraries(shared_data):
    lib = shared_data / "libraries"
    stelib = spectype.read(lib / "stelib" / "STELIB_v3.2_HD002857.fits")
    assert stelib.meta.subclass == "A2" and stelib.medium == "air"
    assert 3150 < stelib.wavelength[0] < 3250

    pickles = spectype.read(lib / "pickles" / "b57v.dat")
    assert pickles.meta.subclass == "B5-7V" and len(pickles) == 1895

    templates = spectype.read(lib / "boss" / "spEigenStar-55734.fits")
    assert isinstance(templates, list) and len(templates) == 123
    assert templates[0].meta.subclass == "A0" and templates[0].meta.extra["star"] == "19510"
    assert [t.meta.index for t in templates] == list(range(123))
    subclasses = {t.meta.subclass for t in spectype.read(lib / "boss" / "spEigenStar-53724.fits")}
    assert {"O", "OB", "Carbon", "Carbon_lines"} <= subclasses

    mk = spectype.read(lib / "mkclass_libnor36" / "t030l50p00.rbn")
    assert mk.meta.subclass == "O6V" and (mk.wave_range[0], mk.wave_range[1]) == (3800.0, 5599.0)


@pytest.mark.shared
def test_every_library_spectrum_reads(shared_data):
    lib = shared_data / "libraries"
    counts = {}
    for folder, pattern in (
        ("stelib", "*.fits"),
        ("pickles", "*[iv].dat"),
        ("mkclass_libnor36", "*.rbn"),
    ):
        files = sorted((lib / folder).glob(pattern))
        specs = [spectype.read(f) for f in files]
        assert all(s.meta.subclass for s in specs), folder
        counts[folder] = len(specs)
    assert counts == {"stelib": 255, "pickles": 108, "mkclass_libnor36": 174}
