import astropy.units as u
import numpy as np
import pytest
from dust_extinction.parameter_averages import G23

from spectype.simulate import draw_distortion_coeffs, legendre_distortion, redden
from spectype.simulate.rebin import (
    CumulativeSpectrum,
    doppler_shift,
    lamost_full_grid,
    rebin_shifted,
)


def test_reddening_dims_blue_more_and_matches_dust_extinction():
    wave = np.linspace(3700.0, 9000.0, 500)
    out = redden(wave, np.ones_like(wave), 0.3, "G23", 3.1)
    assert out[0] < out[-1] < 1.0
    expected = G23(Rv=3.1).extinguish(wave * u.AA, Ebv=0.3)
    assert np.allclose(out, expected, rtol=1e-10)


def test_reddening_broadcasts_over_batch():
    wave = np.linspace(4000.0, 8000.0, 10)
    out = redden(wave, np.ones((3, 10)), np.array([0.0, 0.1, 0.5]))
    assert np.allclose(out[0], 1.0) and np.all(out[2] < out[1])


def test_distortion_is_smooth_and_small():
    wave = lamost_full_grid()
    coeffs = draw_distortion_coeffs(np.random.default_rng(0), 50, degree=3, amplitude=0.05)
    d = legendre_distortion(wave, coeffs)
    assert d.shape == (50, wave.size)
    assert 0.005 < np.std(d) < 0.15
    assert np.allclose(legendre_distortion(wave, np.zeros(3)), 1.0)


def test_rebin_conserves_flux_and_shifts():
    wave = np.linspace(3000.0, 10000.0, 70001)
    flux = 1 + np.exp(-0.5 * ((wave - 6000.0) / 3.0) ** 2)
    src = CumulativeSpectrum.from_pixels(wave, flux)
    grid = lamost_full_grid()
    out, covered = rebin_shifted(src, grid, np.array([0.0, 300.0]))
    assert covered.all()
    edges = np.diff(np.concatenate([[grid[0]], 0.5 * (grid[1:] + grid[:-1]), [grid[-1]]]))
    assert np.sum(out[0] * edges) == pytest.approx(np.trapezoid(flux[(wave > grid[0]) & (wave < grid[-1])], wave[(wave > grid[0]) & (wave < grid[-1])]), rel=1e-3)
    peak = grid[np.argmax(out, axis=1)]
    assert peak[1] - peak[0] == pytest.approx(float(doppler_shift(6000.0, 300.0) - 6000.0), abs=1.5)
