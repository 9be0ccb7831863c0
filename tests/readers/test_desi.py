"""DESI coadd/spectra files: generated in the public layout (desidatamodel), arms merged."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.io import registry
from spectype.io.registry import Probe, identify_format

STEP = 0.8
ARMS = {"B": (3600.0, 100), "R": (3640.0, 100), "Z": (3700.0, 100)}  # overlaps B/R and R/Z
N_SPEC = 3


def _arm_arrays(arm, rng):
    start, n = ARMS[arm]
    wave = start + STEP * np.arange(n)
    flux = np.vstack([np.full(n, 10.0 * (k + 1)) + (arm == "R") for k in range(N_SPEC)])
    ivar = np.full((N_SPEC, n), {"B": 1.0, "R": 3.0, "Z": 2.0}[arm])
    ivar[2] = 0.0  # a fibre without data
    mask = np.zeros((N_SPEC, n), np.int32)
    mask[0, :5] = 1  # bad pixels at the start of every arm in row 0
    return wave, flux.astype(np.float32), ivar.astype(np.float32), mask


def write_desi(path, arms=("B", "R", "Z")):
    rng = np.random.default_rng(0)
    fibermap = fits.BinTableHDU.from_columns(
        [fits.Column(name="TARGETID", format="K", array=np.array([39627000, 39627001, 39627002])),
         fits.Column(name="TARGET_RA", format="D", array=np.array([150.1, 150.2, 150.3])),
         fits.Column(name="TARGET_DEC", format="D", array=np.array([2.1, -2.2, 2.3])),
         fits.Column(name="OBJTYPE", format="3A", array=np.array(["TGT", "TGT", "SKY"]))],
        name="FIBERMAP",
    )
    hdus = [fits.PrimaryHDU(), fibermap]
    for arm in arms:
        wave, flux, ivar, mask = _arm_arrays(arm, rng)
        hdus.append(fits.ImageHDU(wave, name=f"{arm}_WAVELENGTH"))
        hdus.append(fits.ImageHDU(flux, name=f"{arm}_FLUX"))
        hdus[-1].header["BUNIT"] = "10**-17 erg/(s cm2 Angstrom)"
        hdus.append(fits.ImageHDU(ivar, name=f"{arm}_IVAR"))
        hdus.append(fits.ImageHDU(mask, name=f"{arm}_MASK"))
        hdus.append(fits.ImageHDU(np.zeros((N_SPEC, 11, wave.size), np.float32),
                                  name=f"{arm}_RESOLUTION"))
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.fixture(params=["fast", "astropy"])
def fits_path(request, monkeypatch):
    if request.param == "astropy":
        monkeypatch.setattr(registry.Probe, "fast_hdul", property(lambda self: None))
    return request.param


def test_coadd_rows_and_merged_arms(tmp_path, fits_path):
    path = write_desi(tmp_path / "coadd-main-dark-1234.fits")
    with Probe(path) as probe:
        assert identify_format(probe) == "desi"
    specs = spectype.read(path)
    assert isinstance(specs, list) and len(specs) == 2  # row 2 has no usable pixel
    a, b = specs
    assert (a.meta.id, a.meta.index, a.meta.survey) == ("39627000", 0, "DESI")
    assert (b.meta.ra, b.meta.dec) == (150.2, -2.2)
    assert a.meta.extra["rows_without_data"] == ["39627002"]
    assert a.meta.extra["objtype"] == "TGT" and a.meta.flux_unit.startswith("10**-17")
    # One grid: 3600 .. 3779.2 in 0.8 Å steps (225 pixels), overlaps shared, not duplicated.
    np.testing.assert_allclose(b.wavelength, 3600.0 + STEP * np.arange(225), atol=1e-6)
    i_b, i_br, i_rz, i_z = 10, 60, 130, 200  # B only, B+R, R+Z, Z only
    assert b.flux[i_b] == pytest.approx(20.0)
    assert b.flux[i_br] == pytest.approx((1 * 20.0 + 3 * 21.0) / 4)  # ivar-weighted mean
    assert b.ivar[i_br] == pytest.approx(4.0)
    assert b.flux[i_rz] == pytest.approx((3 * 21.0 + 2 * 20.0) / 5)
    assert b.ivar[i_rz] == pytest.approx(5.0) and b.ivar[i_z] == pytest.approx(2.0)
    assert not b.mask.any()
    # Row 0: B pixels 0-4 masked (only B covers them); R's masked pixels 50-54 are covered
    # by good B pixels, so the merged pixel is good with B's value alone.
    assert a.mask[:5].all() and not a.mask[5:].any()
    assert a.flux[52] == pytest.approx(10.0) and a.ivar[52] == pytest.approx(1.0)


def test_single_arm_and_no_usable_row(tmp_path, fits_path):
    one = spectype.read(write_desi(tmp_path / "b.fits", arms=("B",)))
    assert len(one) == 2 and len(one[0]) == 100
    path = write_desi(tmp_path / "dead.fits")
    with fits.open(path, mode="update") as hdul:
        for arm in "BRZ":
            hdul[f"{arm}_IVAR"].data[:] = 0
    with pytest.raises(spectype.SpectrumReadError, match="none of the 3 DESI spectra"):
        spectype.read(path)
