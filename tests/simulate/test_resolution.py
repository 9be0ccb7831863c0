import numpy as np
import pytest

from spectype.simulate import convolve_to_resolution, measure_fwhm
from spectype.simulate.resolution import kernel_sigma_ln


def _line(center=5500.0, r_source=20000.0):
    wave = np.linspace(5300.0, 5700.0, 8001)
    sigma = center / r_source / 2.3548
    return wave, np.exp(-0.5 * ((wave - center) / sigma) ** 2)


@pytest.mark.parametrize("r_target", [1800.0, 1000.0])
def test_reaches_target_resolution(r_target):
    wave, flux = _line()
    grid, out = convolve_to_resolution(wave, flux, r_target, resolution=20000.0)
    r = 5500.0 / measure_fwhm(grid, out)
    assert r == pytest.approx(r_target, rel=0.03)


def test_fixed_fwhm_source_reaches_target():
    wave, flux = _line(r_source=5500.0 / 1.0)  # 1 Å FWHM
    grid, out = convolve_to_resolution(wave, flux, 1800.0, fwhm_A=1.0)
    assert 5500.0 / measure_fwhm(grid, out) == pytest.approx(1800.0, rel=0.03)


def test_flux_is_conserved():
    wave, flux = _line()
    grid, out = convolve_to_resolution(wave, flux, 1800.0, resolution=20000.0)
    assert np.trapezoid(out, grid) == pytest.approx(np.trapezoid(flux, wave), rel=1e-3)


def test_coarser_source_is_not_sharpened():
    wave, flux = _line(r_source=1000.0)
    grid, out = convolve_to_resolution(wave, flux, 1800.0, resolution=1000.0)
    assert np.allclose(out, np.interp(grid, wave, flux), atol=1e-9)
    assert np.all(kernel_sigma_ln(1e-4, np.array([2e-4, 1e-4])) == 0)
