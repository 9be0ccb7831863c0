"""Round trip through specutils."""

from __future__ import annotations

import numpy as np
import pytest

from spectype import Spectrum, SpectrumMeta

pytest.importorskip("specutils")
from spectype.io.specutils_adapter import from_specutils, to_specutils  # noqa: E402


def test_round_trip():
    n = 50
    spec = Spectrum(
        np.linspace(4000, 5000, n),
        np.arange(n, dtype=float),
        np.full(n, 2.0),
        np.arange(n) % 7 == 0,
        medium="air",
        meta=SpectrumMeta(id="x1", survey="LAMOST", subclass="G2", snr={"g": 5.0}, header={"A": 1}),
    )
    s1d = to_specutils(spec)
    assert s1d.spectral_axis.unit.to_string() == "Angstrom"
    np.testing.assert_allclose(s1d.uncertainty.array, 2.0)
    back = from_specutils(s1d)
    for name in ("wavelength", "flux", "ivar", "mask"):
        np.testing.assert_array_equal(getattr(back, name), getattr(spec, name))
    assert back.medium == "air"
    assert (back.meta.id, back.meta.subclass, back.meta.snr, back.meta.header) == (
        "x1",
        "G2",
        {"g": 5.0},
        {"A": 1},
    )
