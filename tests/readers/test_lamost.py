"""LAMOST LRS readers: both layouts, synthetic files and the real sample."""

from __future__ import annotations

import numpy as np
import pytest

import spectype
from spectype.io.registry import Probe, identify_format


def _check_lamost(spec, lo=3650.0, hi=9150.0):
    assert spec.meta.survey == "LAMOST"
    assert spec.medium == "vacuum"
    n = len(spec)
    assert spec.flux.shape == spec.ivar.shape == spec.mask.shape == spec.wavelength.shape == (n,)
    assert np.all(np.diff(spec.wavelength) > 0)
    # ~3700-9100 Å; a few files start later where the blue end was trimmed.
    assert lo < spec.wavelength[0] < 4000 and 8800 < spec.wavelength[-1] < hi
    assert spec.good.any()


def test_table_layout_synthetic(tmp_path, lamost_table):
    path = lamost_table(tmp_path / "t.fits")
    with Probe(path) as probe:
        assert identify_format(probe) == "lamost_lrs_table"
    spec = spectype.read(path)
    assert spec.meta.id == "4242" and spec.meta.data_release == "DR9"
    assert spec.meta.subclass == "G5" and spec.meta.obj_class == "STAR"
    assert spec.meta.snr == {"u": 1.5, "g": 20.0, "r": 30.0, "i": 35.0, "z": 25.0}
    assert spec.meta.z is None  # -9999 sentinel
    assert spec.mask[:3].all() and not spec.mask[3:].any()  # andmask != 0
    assert spec.meta.resolution == pytest.approx(1800)


@pytest.mark.parametrize("gz", [False, True])
def test_image_layout_with_and_without_wavelength_row(tmp_path, lamost_image, gz):
    suffix = ".fits.gz" if gz else ".fits"
    with_row = spectype.read(lamost_image(tmp_path / f"a{suffix}", gz=gz))
    without = spectype.read(lamost_image(tmp_path / f"b{suffix}", with_wavelength=False, gz=gz))
    # The rebuilt log-linear axis equals the stored wavelength row (float32 precision).
    np.testing.assert_allclose(without.wavelength, with_row.wavelength, rtol=1e-6)
    np.testing.assert_array_equal(without.mask, with_row.mask)
    assert with_row.meta.subclass == without.meta.subclass == "G5"


def test_identity_fallbacks_and_alternate_snr_cards(tmp_path, lamost_image):
    path = lamost_image(
        tmp_path / "x.fits",
        OBSID=None,
        DATA_V=None,
        SNRU=None,
        SNRG=None,
        SNRR=None,
        SNRI=None,
        SNRZ=None,
        SN_G=12.5,
        FILENAME="spec-56769-PLAN_sp16-027.fits",
        Z=0.001,
    )
    spec = spectype.read(path)
    assert spec.meta.id == "spec-56769-PLAN_sp16-027"
    assert spec.meta.data_release is None
    assert spec.meta.snr == {"g": 12.5}
    assert spec.meta.z == pytest.approx(0.001)


def test_both_layouts_of_one_spectrum_agree(tmp_path, lamost_table, lamost_image):
    a = spectype.read(lamost_table(tmp_path / "t.fits"))
    b = spectype.read(lamost_image(tmp_path / "i.fits"))
    np.testing.assert_allclose(a.wavelength, b.wavelength, rtol=1e-6)
    np.testing.assert_allclose(a.flux, b.flux, rtol=1e-6)
    np.testing.assert_array_equal(a.mask, b.mask)


# ---------------------------------------------------------------- real sample (../shared/data)


def _lamost_sample(root):
    files = sorted((root / "lamost" / "misc").iterdir()) + sorted(
        (root / "lamost" / "dr8").iterdir()
    )
    dr10 = sorted((root / "lamost" / "dr10").iterdir())
    return files + dr10[:: max(1, len(dr10) // 100)]  # deterministic ~100 of 1,608


@pytest.mark.shared
def test_real_lamost_files_read(shared_data):
    files = _lamost_sample(shared_data)
    assert len(files) > 300
    layouts = set()
    for path in files:
        spec = spectype.read(path)
        _check_lamost(spec)
        assert spec.meta.subclass, path
        assert spec.meta.id and spec.meta.header.get("TELESCOP") == "LAMOST"
        with Probe(path) as probe:
            layouts.add(identify_format(probe))
        if spec.meta.obj_class == "STAR":
            assert spec.meta.snr.keys() >= {"g", "r"}, path
    assert layouts == {"lamost_lrs_image", "lamost_lrs_table"}


@pytest.mark.shared
def test_real_layouts_of_the_same_observation_agree(shared_data):
    misc = shared_data / "lamost" / "misc"
    new = spectype.read(misc / "spec-55859-F5902_sp01-001.fits.gz")  # DR9 table
    old = spectype.read(misc / "spec-55859-F5902_sp01-001_dr7.fits.gz")  # DR7 image
    assert (old.meta.data_release, new.meta.data_release) == ("DR7", "DR9")
    assert old.meta.id == new.meta.id == "101001"
    assert len(old) == len(new)
    np.testing.assert_allclose(old.wavelength, new.wavelength, rtol=1e-6)


@pytest.mark.shared
def test_real_file_without_data_v(shared_data):
    spec = spectype.read(
        shared_data / "lamost" / "misc" / "spec-56769-HD184250N365730V_sp16-027.fits"
    )
    assert spec.meta.data_release is None
    assert spec.meta.subclass == "G2"
    assert set(spec.meta.snr) == set("ugriz")  # from SN_U..SN_Z
