"""Generic text reader (lowest priority)."""

from __future__ import annotations

import numpy as np
import pytest

import spectype
from spectype.errors import UnknownFormatError

WAVE = np.linspace(4000, 5000, 30)


@pytest.mark.parametrize(
    "header, sep, with_ivar",
    [
        ("wavelength,flux", ",", False),
        ("", ",", True),
        ("", " ", False),
        ("# comment\nwave flux ivar", "\t", True),
        ("lambda,flux,error", ",", False),
    ],
)
def test_text_variants(tmp_path, header, sep, with_ivar):
    rows = [
        [w, 1.0 + i, 4.0] if (with_ivar or "error" in header) else [w, 1.0 + i]
        for i, w in enumerate(WAVE)
    ]
    body = "\n".join(sep.join(f"{v:.4f}" for v in r) for r in rows)
    path = tmp_path / "s.csv"
    path.write_text((header + "\n" if header else "") + body + "\n")
    spec = spectype.read(path)
    assert spec.meta.survey == "text" and len(spec) == 30
    np.testing.assert_allclose(spec.wavelength, WAVE, atol=1e-4)
    expected_ivar = 0.0625 if "error" in header else (4.0 if with_ivar else 1.0)
    np.testing.assert_allclose(spec.ivar, expected_ivar)


def test_descending_wavelength_is_flipped(tmp_path):
    path = tmp_path / "d.txt.dat"
    path.write_text("\n".join(f"{w} {i}" for i, w in enumerate(WAVE[::-1])))
    spec = spectype.read(path)
    assert np.all(np.diff(spec.wavelength) > 0) and spec.flux[0] == 29


def test_catalogue_csv_is_not_a_spectrum(tmp_path):
    path = tmp_path / "params.csv"
    path.write_text("obsid,subclass,snrg\n1,G2,30\n2,K1,40\n3,A0,50\n")
    with pytest.raises(UnknownFormatError, match="no reader recognises"):
        spectype.read(path)


def test_multibyte_character_cut_by_the_head_still_reads(tmp_path):
    # The reader sniffs the first 2,880 bytes; an "Å" split at that boundary must not make the
    # file look binary.
    body = "wavelength,flux\n" + "\n".join(f"{w:.4f},{1.0 + i:.4f}" for i, w in enumerate(WAVE)) + "\n"
    pad = 2879 - len(body.encode()) - 2  # "Å" (2 bytes) starts at byte 2879
    text = body + "# " + "x" * pad + "Å end\n"
    assert text.encode()[2879:2881] == "Å".encode()
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    assert len(spectype.read(path)) == 30


def test_spectrum_refuses_two_dimensional_flux():
    with pytest.raises(ValueError, match="flux"):
        spectype.Spectrum(np.arange(3.0), np.ones((3, 2)), None, None)
