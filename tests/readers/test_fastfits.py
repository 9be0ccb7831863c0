"""The numpy-only FITS view must agree with astropy wherever it accepts a file."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from spectype.errors import TruncatedFileError
from spectype.io.fastfits import FastHDUList, Truncated, parse_header
from spectype.io.registry import Probe, header_to_dict
from spectype.testing import write_lamost_image, write_lamost_table


def _assert_same(path):
    fast = FastHDUList.open(path)
    with fits.open(path) as ref:
        assert len(fast) == len(ref)
        for a, b in zip(ref, fast, strict=True):
            expected = header_to_dict(a.header)
            for key, value in expected.items():
                assert b.header[key] == pytest.approx(value) if isinstance(value, float) else b.header[key] == value, key
            if isinstance(a, fits.BinTableHDU):
                assert b.columns.names == a.columns.names
                for name in a.columns.names:
                    got, want = np.asarray(b.data[name]), np.asarray(a.data[name])
                    if got.dtype.kind == "S":  # astropy decodes text columns
                        got = np.char.decode(got, "ascii")
                    np.testing.assert_array_equal(got, want)
            elif a.data is not None:
                np.testing.assert_array_equal(np.asarray(b.data), np.asarray(a.data))


@pytest.mark.parametrize("gz", [False, True])
def test_synthetic_lamost_files_match_astropy(tmp_path, gz):
    suffix = ".fits.gz" if gz else ".fits"
    _assert_same(write_lamost_table(tmp_path / f"t{suffix}", gz=gz, SUBCLASS="K3", DESIG="it''s"))
    _assert_same(write_lamost_image(tmp_path / f"i{suffix}", gz=gz))


def test_header_values_parse_like_fits():
    cards = [
        "SIMPLE  =                    T / conforms",
        "INT     =                  -42 / an int",
        "FLT     =             1.5D+03 / fortran exponent",
        "STR     = 'O''Brien  '          / escaped quote",
        "LOGF    =                    F",
        "COMMENT ignored",
        "END",
    ]
    buf = "".join(c.ljust(80) for c in cards).ljust(2880).encode()
    header, data_start = parse_header(buf, 0)
    assert header == {"SIMPLE": True, "INT": -42, "FLT": 1500.0, "STR": "O'Brien", "LOGF": False}
    assert data_start == 2880


def test_truncated_file_is_refused_with_a_truncated_error(tmp_path):
    path = write_lamost_table(tmp_path / "t.fits")
    raw = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(raw[: len(raw) - 3000])
    with pytest.raises(Truncated):
        FastHDUList.open(cut)
    # Neither FITS view is built: the structure check names the problem first.
    with pytest.raises(TruncatedFileError, match="HDU 1 declares 4,800 bytes.*truncated"):
        Probe(cut).fast_hdul  # noqa: B018
    with pytest.raises(TruncatedFileError):
        Probe(cut).hdul  # noqa: B018


@pytest.mark.shared
def test_real_survey_files_match_astropy(shared_data):
    files = sorted((shared_data / "lamost").glob("*/*.fits*"))[::40] + sorted((shared_data / "sdss").glob("*.fits"))
    assert files
    for path in files:
        _assert_same(path)
