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


def test_nad_equivalent_width_follows_poznanski_2012():
    from spectype.simulate.reddening import nad_equivalent_width

    # log10 E(B-V) = 1.17 EW - 1.85: E = 0.1 -> EW = 0.85 / 1.17; no lines without dust.
    assert nad_equivalent_width(0.1) == pytest.approx(0.85 / 1.17)
    assert nad_equivalent_width(10 ** (1.17 * 1.0 - 1.85)) == pytest.approx(1.0)
    np.testing.assert_array_equal(nad_equivalent_width([0.0, 0.01]), [0.0, 0.0])


def test_nad_transmission_absorbs_its_equivalent_width_at_the_doublet():
    from spectype.simulate.reddening import nad_equivalent_width, nad_transmission

    w = lamost_full_grid()
    t = nad_transmission(w, np.array([0.05, 0.3]))
    edges = np.concatenate([[1.5 * w[0] - 0.5 * w[1]], 0.5 * (w[1:] + w[:-1]), [1.5 * w[-1] - 0.5 * w[-2]]])
    ew = ((1 - t) * np.diff(edges)).sum(axis=1)
    np.testing.assert_allclose(ew, nad_equivalent_width([0.05, 0.3]), rtol=1e-6)
    assert np.argmin(t[1]) == np.argmin(np.abs(w - 5891.583))  # D2, the stronger line
    far = np.abs(w - 5894.6) > 30
    assert np.all(t[:, far] > 1 - 1e-9)
    assert np.all(t[1] <= t[0] + 1e-12)  # more dust, deeper lines


def test_simulation_with_interstellar_nad_differs_only_at_the_doublet():
    from spectype.simulate import RealDistributions, SimConfig, simulate_source

    from .conftest import make_profile, make_source

    w = lamost_full_grid()
    dists = RealDistributions(z=np.array([1e-3]), snr_g=np.array([50.0]))
    cfg = dict(noise_mode="scaled", telluric=False, ebv_mean=0.3)
    args = (make_source(), 3)
    on = simulate_source(*args, SimConfig(**cfg, interstellar_nad=True), dists, [make_profile()], np.random.default_rng(0))
    off = simulate_source(*args, SimConfig(**cfg), dists, [make_profile()], np.random.default_rng(0))
    i = np.argmin(np.abs(w - 5891.583))
    # Same draws, so only the lines differ; E(B-V) <= 10**-1.85 gives no lines (EW 0).
    dusty = np.array([p["ebv"] > 10**-1.85 for p in on.params])
    assert dusty.any()
    assert np.all(on.flux[dusty, i] < off.flux[dusty, i])
    assert np.allclose(on.flux[~dusty, i], off.flux[~dusty, i], rtol=1e-3)
    far = np.abs(w - 5894.6) > 30
    assert np.allclose(on.flux[:, far], off.flux[:, far])
    assert all(p["cfg_interstellar_nad"] for p in on.params)
