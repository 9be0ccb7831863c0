"""Synthetic sources, noise profiles and a tiny data root for the simulator tests."""

from __future__ import annotations

import numpy as np
import pytest

from spectype.labels import parse_label
from spectype.simulate import CumulativeSpectrum, NoiseProfile, lamost_full_grid
from spectype.simulate.sources import SourceStar


def make_source(subclass: str = "A0V", group: str = "HD1", key: str | None = None) -> SourceStar:
    """A smooth blackbody-ish continuum with a few absorption lines, 3000-10000 Å rest."""
    wave = np.linspace(3000.0, 10000.0, 20000)
    flux = (wave / 5000.0) ** -2.0
    for line in (4102.0, 4341.0, 4862.0, 6564.0):
        flux = flux * (1 - 0.5 * np.exp(-0.5 * ((wave - line) / 5.0) ** 2))
    return SourceStar(
        key=key or f"TEST:{group}", group=group, library="stelib", subclass=subclass,
        label=parse_label(subclass), resolution=1800.0,
        conv=CumulativeSpectrum.from_pixels(wave, flux),
    )


def make_profile(obsid: str = "1", bad: slice = slice(100, 110)) -> NoiseProfile:
    grid = lamost_full_grid()
    ivar = np.full(grid.size, 4.0)
    andmask = np.zeros(grid.size, np.int64)
    andmask[bad] = 8
    ivar[bad] = 0.0
    return NoiseProfile(obsid=obsid, ivar=ivar, andmask=andmask, ormask=andmask | 2,
                        flux_smooth=np.full(grid.size, 100.0), snr_g=30.0)


@pytest.fixture
def data_root(tmp_path):
    """A data root holding only lamost/dr10_params.csv (z and snrg pools)."""
    (tmp_path / "lamost").mkdir()
    rng = np.random.default_rng(1)
    rows = ["obsid,subclass,snrg,z"] + [
        f"{i},A0,{s:.2f},{z:.3e}" for i, (s, z) in enumerate(zip(rng.uniform(15, 80, 50), rng.normal(0, 1e-4, 50), strict=True))
    ]
    (tmp_path / "lamost" / "dr10_params.csv").write_text("\n".join(rows) + "\n")
    return tmp_path
