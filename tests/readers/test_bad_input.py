"""Broken inputs give a SpectrumReadError naming the file and the problem, never a crash."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spectype
from spectype.errors import SpectrumReadError, SpectypeError, UnknownFormatError


def _assert_read_error(path, pattern):
    with pytest.raises(SpectrumReadError, match=pattern) as info:
        spectype.read(path)
    assert str(path) in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.fits"
    path.write_bytes(b"")
    _assert_read_error(path, "empty")


def test_truncated_gzip(tmp_path, lamost_table):
    good = lamost_table(tmp_path / "good.fits.gz", gz=True).read_bytes()
    path = tmp_path / "cut.fits.gz"
    path.write_bytes(good[: len(good) // 2])
    _assert_read_error(path, "gzip stream is truncated")


def test_gzip_cut_inside_the_header(tmp_path, lamost_table):
    good = lamost_table(tmp_path / "good.fits.gz", gz=True).read_bytes()
    path = tmp_path / "cut.fits.gz"
    path.write_bytes(good[:40])
    _assert_read_error(path, "gzip stream is truncated")


def test_random_bytes_with_fits_name(tmp_path):
    path = tmp_path / "noise.fits"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(UnknownFormatError, match="no reader recognises") as info:
        spectype.read(path)
    assert str(path) in str(info.value)


def test_lamost_table_with_columns_missing(tmp_path, lamost_table):
    path = lamost_table(tmp_path / "cols.fits", columns={"IVAR": None, "WAVELENGTH": None})
    _assert_read_error(path, "lacks column.*IVAR, WAVELENGTH")


def test_all_nan_flux(tmp_path, lamost_table):
    path = lamost_table(tmp_path / "nan.fits", columns={"FLUX": np.full(200, np.nan)})
    _assert_read_error(path, "flux is NaN.*no usable pixel")


def test_zero_ivar_everywhere(tmp_path, lamost_image):
    path = lamost_image(tmp_path / "zero.fits")
    with fits.open(path, mode="update") as hdul:
        hdul[0].data[1] = 0.0  # the ivar row
    _assert_read_error(path, "inverse variance is zero everywhere")


def test_directory_and_missing_path(tmp_path):
    _assert_read_error(tmp_path, "is a directory")
    _assert_read_error(tmp_path / "missing.fits", "file not found")


# ------------------------------------------------------------------ property test


@pytest.fixture(scope="module")
def valid_lamost(tmp_path_factory):
    from spectype.testing import write_lamost_table

    folder = tmp_path_factory.mktemp("valid")
    plain = write_lamost_table(folder / "v.fits", n=64).read_bytes()
    return plain, gzip.compress(plain)


@pytest.mark.filterwarnings("ignore::astropy.io.fits.verify.VerifyWarning")
@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyUserWarning")
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_corrupted_bytes_only_raise_spectype_errors(tmp_path, valid_lamost, data):
    source = data.draw(st.sampled_from(["random", "plain", "gzip"]))
    if source == "random":
        blob = data.draw(st.binary(min_size=0, max_size=4000))
    else:
        blob = bytearray(valid_lamost[0] if source == "plain" else valid_lamost[1])
        for _ in range(data.draw(st.integers(0, 8))):
            pos = data.draw(st.integers(0, len(blob) - 1))
            blob[pos] ^= data.draw(st.integers(1, 255))
        if data.draw(st.booleans()):
            blob = blob[: data.draw(st.integers(0, len(blob)))]
        blob = bytes(blob)
    path = tmp_path / f"fuzz.{source}.fits{'.gz' if source == 'gzip' else ''}"
    path.write_bytes(blob)
    try:
        out = spectype.read(path)
    except SpectypeError as exc:
        assert str(path) in str(exc)
    else:
        for spec in out if isinstance(out, list) else [out]:
            assert spec.good.any()
