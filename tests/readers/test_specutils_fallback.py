"""The specutils fallback: used only when no spectype reader recognises a file."""

from __future__ import annotations

import numpy as np
import pytest

import spectype
from spectype.errors import UnknownFormatError
from spectype.io.registry import Probe, identify_format

specutils = pytest.importorskip("specutils")


@pytest.fixture(scope="module")
def myspec_loader():
    """A custom specutils loader for '.myspec' files: two whitespace lines, λ then flux."""
    import astropy.units as u
    from specutils.io.registers import data_loader

    cls = getattr(specutils, "Spectrum", None) or specutils.Spectrum1D

    def identify(origin, *args, **kwargs):
        return isinstance(args[0], str) and args[0].endswith(".myspec")

    @data_loader("spectype-test-myspec", identifier=identify, dtype=cls, force=True,
                 autogenerate_spectrumlist=False)
    def load(file, **kwargs):
        if hasattr(file, "seek"):
            file.seek(0)  # the identifier may have read the head
        raw = file.read() if hasattr(file, "read") else open(file, "rb").read()
        lines = (raw.decode() if isinstance(raw, bytes) else raw).split("\n")
        wave = np.array(lines[0].split(), float)
        flux = np.array(lines[1].split(), float)
        return cls(flux=flux * u.Jy, spectral_axis=wave * u.nm)

    return load


def test_fallback_reads_what_only_specutils_knows(tmp_path, myspec_loader):
    path = tmp_path / "x.myspec"
    wave = np.linspace(400, 700, 30)
    path.write_text(" ".join(map(str, wave)) + "\n" + " ".join(["1.5"] * 30) + "\n")
    with Probe(path) as probe:
        assert identify_format(probe) == "specutils"  # the text reader does not claim it
    spec = spectype.read(path)
    np.testing.assert_allclose(spec.wavelength, wave * 10.0)
    np.testing.assert_allclose(spec.flux, 1.5)
    assert spec.meta.extra["read_by"] == "specutils" and spec.meta.id == "x"


def test_failure_is_still_no_reader_recognises(tmp_path):
    path = tmp_path / "words.dat"
    path.write_text("hello world\nthis is not a spectrum\n")
    with pytest.raises(UnknownFormatError, match="no reader recognises this file") as info:
        spectype.read(path)
    assert "specutils could not read it either" in str(info.value)
    assert str(path) in str(info.value)


def test_specific_readers_still_win(tmp_path, lamost_table):
    with Probe(lamost_table(tmp_path / "t.fits")) as probe:
        assert identify_format(probe) == "lamost_lrs_table"
