"""SDSS/BOSS spec-*.fits reader."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import spectype
from spectype.errors import SpectrumReadError


def _write_spec(path, n=300, drop=()):
    loglam = 3.58 + 1e-4 * np.arange(n)
    cols = {
        "flux": np.ones(n),
        "loglam": loglam,
        "ivar": np.full(n, 4.0),
        "and_mask": np.zeros(n, np.int32),
    }
    cols["and_mask"][-5:] = 16
    coadd = fits.BinTableHDU.from_columns(
        [
            fits.Column(name=k, format="J" if k == "and_mask" else "E", array=v)
            for k, v in cols.items()
            if k not in drop
        ],
        name="COADD",
    )
    meta = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="PLATE", format="J", array=[618]),
            fits.Column(name="MJD", format="J", array=[52049]),
            fits.Column(name="FIBERID", format="J", array=[7]),
            fits.Column(name="CLASS", format="6A", array=["STAR"]),
            fits.Column(name="SUBCLASS", format="21A", array=["K0V (10780)"]),
            fits.Column(name="Z", format="E", array=[1e-4]),
            fits.Column(name="SN_MEDIAN", format="5E", array=[[1, 2, 3, 4, 5]]),
        ],
        name="SPECOBJ",
    )
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "SDSS 2.5-M"
    fits.HDUList([primary, coadd, meta]).writeto(path)
    return path


def test_synthetic_spec_file(tmp_path):
    spec = spectype.read(_write_spec(tmp_path / "spec-0618-52049-0007.fits"))
    assert spec.meta.survey == "SDSS" and spec.medium == "vacuum"
    assert spec.meta.id == "0618-52049-0007"
    assert spec.meta.subclass == "K0V" and spec.meta.extra["template_star"] == "10780"
    assert spec.meta.snr == {"u": 1.0, "g": 2.0, "r": 3.0, "i": 4.0, "z": 5.0}
    np.testing.assert_allclose(spec.wavelength[0], 10**3.58, rtol=1e-6)
    assert spec.mask[-5:].all() and not spec.mask[:-5].any()


def test_missing_column_names_the_column(tmp_path):
    path = _write_spec(tmp_path / "spec-x.fits", drop=("ivar",))
    with pytest.raises(SpectrumReadError, match="lacks column.*ivar") as info:
        spectype.read(path)
    assert str(path) in str(info.value)


@pytest.mark.shared
def test_real_sdss_files(shared_data):
    files = sorted((shared_data / "sdss").glob("spec-*.fits"))
    assert len(files) == 9
    for path in files:
        spec = spectype.read(path)
        assert spec.meta.survey == "SDSS" and spec.meta.obj_class == "STAR"
        assert spec.meta.subclass and "(" not in spec.meta.subclass
        assert set(spec.meta.snr) == set("ugriz")
        assert np.all(np.diff(spec.wavelength) > 0)
        assert 3500 < spec.wavelength[0] < 4000 and 8800 < spec.wavelength[-1] < 10500
        assert spec.flux.shape == spec.ivar.shape == spec.mask.shape
        assert path.stem.removeprefix("spec-") == spec.meta.id
