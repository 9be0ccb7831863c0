"""Issue 14 reader robustness: special files, odd names, bombs, truncation, header damage."""

from __future__ import annotations

import gzip
import os
import signal
import tracemalloc
from contextlib import contextmanager

import pytest
from astropy.io import fits

import spectype
from spectype.errors import (
    BadRedshiftError,
    ConfigError,
    CorruptFileError,
    FileTooLargeError,
    SpecialFileError,
    SpectrumReadError,
    TruncatedFileError,
    display_path,
)
from spectype.io import registry, safeio
from spectype.io.discover import iter_spectrum_files
from spectype.testing import write_lamost_image, write_lamost_table


@contextmanager
def _deadline(seconds=10):
    """Fail instead of hanging (a FIFO opened for reading blocks until a writer comes)."""

    def boom(*_):
        raise AssertionError(f"blocked for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(params=["fast", "astropy"])
def fits_path(request, monkeypatch):
    if request.param == "astropy":
        monkeypatch.setattr(registry.Probe, "fast_hdul", property(lambda self: None))
    return request.param


def _read_error(path, cls, pattern):
    with pytest.raises(cls, match=pattern) as info:
        spectype.read(path)
    message = str(info.value)
    message.encode("utf-8")  # printable whatever the file name
    assert display_path(path) in message
    return info.value


# ------------------------------------------------------------------ special files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_special_files_in_a_scan_are_yielded_and_named(tmp_path):
    good = write_lamost_table(tmp_path / "ok.fits")
    os.mkfifo(tmp_path / "pipe.fits")
    os.symlink("loop.fits", tmp_path / "loop.fits")
    os.symlink("missing.fits", tmp_path / "dangling.fits")
    with _deadline():
        found = {p.name for p in iter_spectrum_files(tmp_path)}
        assert found == {"ok.fits", "pipe.fits", "loop.fits", "dangling.fits"}
        err = _read_error(tmp_path / "pipe.fits", SpecialFileError, "not a regular file: a FIFO")
        assert err.kind == "special-file"
        _read_error(tmp_path / "loop.fits", SpecialFileError, "symlink loop")
        _read_error(tmp_path / "dangling.fits", SpecialFileError, "dangling symlink.*missing.fits")
        # explicit paths to them are yielded too, not "no such file"
        assert len(list(iter_spectrum_files([tmp_path / "pipe.fits", tmp_path / "loop.fits"]))) == 2
    assert spectype.read(good).good.any()


def test_non_utf8_file_names(tmp_path):
    good = write_lamost_table(tmp_path / "ok.fits.gz", gz=True).read_bytes()
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"bad\xe9.fits.gz")
    with open(name, "wb") as fh:
        fh.write(good)
    broken = os.path.join(folder, b"cut\xff.fits.gz")
    with open(broken, "wb") as fh:
        fh.write(good[:300])
    spec = spectype.read(name)  # bytes path
    assert spec.good.any()
    assert spectype.read(os.fsdecode(name)).meta.id == spec.meta.id  # surrogate-escaped str
    found = list(iter_spectrum_files(tmp_path))
    assert os.fsdecode(name) in {str(p) for p in found}
    err = _read_error(broken, TruncatedFileError, "truncated")
    assert "cut\\xff.fits.gz" in str(err)  # shown with a backslash escape
    assert os.fsencode(err.path) == broken  # the name itself is kept losslessly


# ------------------------------------------------------------------ truncation and damage


def test_truncated_raw_fits(tmp_path, fits_path):
    raw = write_lamost_image(tmp_path / "ok.fits").read_bytes()
    for cut in (2880 + 100, 2880 + 5 * 200 * 4 - 1, 1000):  # the padding after the data may go
        path = tmp_path / f"cut{cut}.fits"
        path.write_bytes(raw[:cut])
        _read_error(path, TruncatedFileError, "truncated")


def test_truncated_gzip(tmp_path):
    raw = write_lamost_table(tmp_path / "ok.fits.gz", gz=True).read_bytes()
    path = tmp_path / "cut.fits.gz"
    path.write_bytes(raw[: len(raw) // 2])
    err = _read_error(path, TruncatedFileError, "gzip stream is truncated")
    assert err.kind == "truncated"


def _set_card(raw: bytes, key: str, value: str) -> bytes:
    """Replace (or insert before END) the card `key` in the primary header."""
    cards = [raw[i : i + 80] for i in range(0, 2880 * 4, 80)]
    new = f"{key:<8}= {value:>20}".ljust(80).encode()
    for i, card in enumerate(cards):
        if card[:8].decode().rstrip() == key:
            cards[i] = new
            break
        if card[:8] == b"END     ":
            cards.insert(i, new)
            cards = cards[: 36 * 4]
            break
    return b"".join(cards) + raw[2880 * 4 :]


@pytest.mark.parametrize(
    ("key", "value", "cls", "pattern"),
    [
        ("BITPIX", "7", CorruptFileError, "BITPIX = 7 is not a FITS value"),
        ("NAXIS", "3", CorruptFileError, "no NAXIS3 card"),
        ("NAXIS1", "-5", CorruptFileError, "NAXIS1 = -5"),
        ("NAXIS1", "53687091", TruncatedFileError, "declares .* bytes of data .* truncated"),
        ("Z", "-1.0", BadRedshiftError, "bad redshift: Z = -1"),
    ],
)
def test_header_edits_give_clear_errors(tmp_path, fits_path, key, value, cls, pattern):
    raw = write_lamost_image(tmp_path / "ok.fits", n=200).read_bytes()
    path = tmp_path / "edit.fits"
    path.write_bytes(_set_card(raw, key, value))
    tracemalloc.start()
    try:
        _read_error(path, cls, pattern)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20  # a huge NAXIS allocates nothing


# ------------------------------------------------------------------ size cap


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(safeio, "max_inflate", 2**20)
    return 2**20


def test_gzip_bomb_with_a_fits_header_fails_before_inflating(tmp_path, small_cap, fits_path):
    hdr = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", 53687091),
                       ("NAXIS2", 5), ("TELESCOP", "LAMOST"), ("COEFF0", 3.57), ("COEFF1", 1e-4)])
    path = tmp_path / "bomb.fits.gz"
    with gzip.open(path, "wb", compresslevel=1) as gz:
        gz.write(hdr.tostring().encode())
        gz.write(bytes(8 * 2**20))
    tracemalloc.start()
    try:
        err = _read_error(path, FileTooLargeError, r"header declares a file of 1,024 MiB, beyond the 1 MiB cap")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "SPECTYPE_MAX_INFLATE" in str(err) and err.kind == "too-large"
    assert peak < 8 * 2**20


def test_gzip_inflating_beyond_the_cap(tmp_path, small_cap):
    path = tmp_path / "zeros.csv.gz"
    with gzip.open(path, "wb") as gz:
        gz.write(b"wavelength,flux\n" + b"0" * (4 * 2**20))
    tracemalloc.start()
    try:
        _read_error(path, FileTooLargeError, "inflates to more than 1 MiB, beyond the 1 MiB cap")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * 2**20


def test_plain_file_beyond_the_cap_and_a_raised_cap(tmp_path, small_cap, monkeypatch):
    path = write_lamost_image(tmp_path / "big.fits", n=60000)  # ~1.2 MB
    _read_error(path, FileTooLargeError, "the file is 1.1 MiB, beyond the 1 MiB cap")
    monkeypatch.setattr(safeio, "max_inflate", None)
    monkeypatch.setenv("SPECTYPE_MAX_INFLATE", "64M")
    assert safeio.inflate_cap() == 64 * 2**20
    assert len(spectype.read(path)) == 60000


@pytest.mark.parametrize(("text", "value"), [("1G", 2**30), ("512MiB", 512 * 2**20),
                                             ("1000", 1000), ("1.5k", 1536)])
def test_cap_from_the_environment(monkeypatch, text, value):
    monkeypatch.setenv("SPECTYPE_MAX_INFLATE", text)
    assert safeio.inflate_cap() == value


def test_bad_cap_setting(monkeypatch):
    monkeypatch.setenv("SPECTYPE_MAX_INFLATE", "lots")
    with pytest.raises(ConfigError, match="SPECTYPE_MAX_INFLATE='lots' is not a size"):
        safeio.inflate_cap()


def test_every_error_is_a_spectrum_read_error_with_a_kind():
    import spectype.errors as errors

    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, SpectrumReadError)]
    assert len(classes) >= 11
    kinds = {c.kind for c in classes}
    assert {"truncated", "corrupt", "not-a-spectrum", "unsupported-layout", "no-usable-pixels",
            "bad-redshift", "too-large", "special-file", "missing", "bad-wavelength"} <= kinds
