"""Preprocessing steps with known answers, the pipeline, and real LAMOST files."""

from __future__ import annotations

import numpy as np
import pytest

from spectype.errors import ConfigError, CoverageError
from spectype.preprocess import (
    PreprocessConfig,
    Preprocessed,
    air_to_vacuum,
    bad_pixel_mask,
    coverage_fraction,
    interpolate_bad_pixels,
    l2_normalise,
    lamost_grid,
    median_filter,
    minmax_normalise,
    pixel_edges,
    preprocess,
    resample_flux_conserving,
    to_rest_frame,
    vacuum_to_air,
)
from spectype.spectrum import C_KMS, Spectrum, SpectrumMeta

# --- grid, frames, media ------------------------------------------------------------------


def test_lamost_grid():
    g = lamost_grid()
    assert g.shape == (3700,)
    assert g[0] == pytest.approx(3699.98, abs=0.01)
    assert g[-1] == pytest.approx(8671.6, abs=0.1)
    assert np.allclose(np.diff(np.log10(g)), 1e-4)
    assert lamost_grid(10, 3.0, 0.1)[-1] == pytest.approx(10**3.9)


def test_to_rest_frame():
    w = np.array([5000.0, 6000.0])
    assert np.allclose(to_rest_frame(w, z=0.1), w / 1.1)
    assert np.allclose(to_rest_frame(w, rv_kms=C_KMS * 0.01), w / 1.01)
    assert np.array_equal(to_rest_frame(w), w)
    assert to_rest_frame(w) is not w
    with pytest.raises(ValueError, match="not both"):
        to_rest_frame(w, z=0.1, rv_kms=10.0)


def test_air_vacuum_known_lines_and_round_trip():
    # H-alpha: 6562.80 Å air = 6564.61 Å vacuum; Na D2 5889.95 air = 5891.58 vacuum.
    assert air_to_vacuum(6562.80) == pytest.approx(6564.61, abs=0.01)
    assert vacuum_to_air(5891.58) == pytest.approx(5889.95, abs=0.01)
    w = np.linspace(2000, 11000, 500)
    assert np.allclose(vacuum_to_air(air_to_vacuum(w)), w, rtol=1e-8, atol=0)
    assert np.array_equal(air_to_vacuum([1500.0]), [1500.0])  # UV: unchanged by convention


def test_air_vacuum_matches_specutils():
    units = pytest.importorskip("astropy.units")
    wcs_utils = pytest.importorskip("specutils.utils.wcs_utils")
    w = np.linspace(3500, 10000, 200)
    ref_vac = wcs_utils.air_to_vac(w * units.AA, method="Morton2000", scheme="iteration")
    ref_air = wcs_utils.vac_to_air(w * units.AA, method="Morton2000")
    assert np.allclose(air_to_vacuum(w), ref_vac.value, atol=1e-6, rtol=0)
    assert np.allclose(vacuum_to_air(w), ref_air.value, atol=1e-6, rtol=0)


# --- resampling -----------------------------------------------------------------------------


def test_pixel_edges():
    assert np.allclose(pixel_edges([1.0, 2.0, 4.0]), [0.5, 1.5, 3.0, 5.0])
    with pytest.raises(ValueError, match="increasing"):
        pixel_edges([1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        pixel_edges([1.0])


def test_resample_constant_stays_constant():
    rng = np.random.default_rng(0)
    w = np.sort(rng.uniform(4000, 6000, 300))
    new = np.linspace(4100, 5900, 123)
    f, iv, cov = resample_flux_conserving(w, np.full(300, 3.5), np.ones(300), new)
    assert cov.all()
    assert np.allclose(f, 3.5)
    assert (iv > 0).all()


def test_resample_conserves_integrated_flux():
    rng = np.random.default_rng(1)
    w = np.linspace(4000, 5000, 401)
    flux = rng.uniform(0.5, 2.0, w.size)
    e = pixel_edges(w)
    new = np.linspace(4100, 4900, 97)  # inside the input
    ne = pixel_edges(new)
    ne_in = (ne[0], ne[-1])
    f, _, cov = resample_flux_conserving(w, flux, np.ones_like(w), new)
    # integrate input over the output's span (it sits inside the input's)
    assert e[0] <= ne_in[0] and ne_in[1] <= e[-1]
    cum = np.concatenate([[0], np.cumsum(flux * np.diff(e))])
    expected = np.interp(ne_in[1], e, cum) - np.interp(ne_in[0], e, cum)
    assert np.sum(f * np.diff(ne)) == pytest.approx(expected, rel=1e-12)
    assert cov.all()


def test_resample_downsample_is_block_mean_and_ivar_adds():
    w = np.arange(12, dtype=float)
    flux = np.arange(12, dtype=float) ** 2
    ivar = np.full(12, 4.0)
    new = w.reshape(4, 3).mean(axis=1)  # centres of 3-pixel blocks
    f, iv, cov = resample_flux_conserving(w, flux, ivar, new)
    assert np.allclose(f, flux.reshape(4, 3).mean(axis=1))
    assert np.allclose(iv, 12.0)  # var of a 3-mean = sigma^2/3 -> ivar x3
    assert cov.all()


def test_resample_excludes_bad_pixels_and_flags_uncovered():
    w = np.arange(10, dtype=float)
    flux = np.ones(10)
    flux[4] = 1e6  # bad pixel: must not leak into its output pixel
    ivar = np.ones(10)
    ivar[4] = 0
    # input edges [-0.5, 9.5]; output edges [-6.75, 0.75, 6.25, 10, 14]
    new = np.array([-3.0, 4.5, 8.0, 12.0])
    f, iv, cov = resample_flux_conserving(w, flux, ivar, new)
    assert cov.tolist() == [False, True, True, False]
    assert np.allclose(f[1:3], 1.0)
    assert iv[0] == 0 and iv[3] == 0 and f[0] == 0 and f[3] == 0
    # all input bad in an output pixel: covered but no information
    f2, iv2, cov2 = resample_flux_conserving(w, flux, np.zeros(10), np.array([2.0, 3.0]))
    assert cov2.all() and (iv2 == 0).all() and (f2 == 0).all()


def test_resample_no_overlap():
    f, iv, cov = resample_flux_conserving(
        np.array([1.0, 2.0]), np.ones(2), np.ones(2), np.array([10.0, 11.0, 12.0])
    )
    assert not cov.any() and not f.any() and not iv.any()


def test_resample_matches_specutils():
    units = pytest.importorskip("astropy.units")
    specutils = pytest.importorskip("specutils")
    from specutils.manipulation import FluxConservingResampler

    rng = np.random.default_rng(2)
    w = 4000 * 10 ** (1e-4 * np.arange(500))
    flux = 1 + rng.normal(0, 0.1, 500)
    new = np.linspace(w[20], w[-20], 200)
    spec = specutils.Spectrum(spectral_axis=w * units.AA, flux=flux * units.Jy)
    ref = FluxConservingResampler(extrapolation_treatment="zero_fill")(spec, new * units.AA)
    f, _, _ = resample_flux_conserving(w, flux, np.ones(500), new)
    assert np.allclose(f, ref.flux.value, rtol=1e-10, atol=1e-12)


# --- masks and interpolation ----------------------------------------------------------------


def test_bad_pixel_mask():
    flux = np.array([1.0, np.nan, 1.0, np.inf, 1.0, 1.0])
    ivar = np.array([1.0, 1.0, 0.0, 1.0, -1.0, 1.0])
    assert bad_pixel_mask(flux, ivar).tolist() == [False, True, True, True, True, False]
    bits = np.array([0, 0, 0, 0, 0, 16])
    assert bad_pixel_mask(flux, ivar, bits)[-1]
    assert bad_pixel_mask(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3), bool)).shape == (2, 3)


def test_interpolate_bad_pixels():
    w = np.arange(8, dtype=float)
    flux = np.array([9.0, 1.0, 99.0, 99.0, 4.0, 5.0, 99.0, 99.0])
    bad = np.array([True, False, True, True, False, False, True, True])
    out = interpolate_bad_pixels(w, flux, bad)
    assert np.allclose(out, [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0])
    assert flux[2] == 99.0  # input untouched
    assert not interpolate_bad_pixels(w, flux, np.ones(8, bool)).any()


# --- normalisations and filter --------------------------------------------------------------


def test_minmax_normalise_1d_2d_and_constant():
    f = np.array([2.0, 4.0, 3.0])
    assert np.allclose(minmax_normalise(f), [0.0, 1.0, 0.5])
    batch = np.stack([f, np.full(3, 7.0)])
    out = minmax_normalise(batch)
    assert np.allclose(out[0], [0.0, 1.0, 0.5])
    assert np.array_equal(out[1], np.zeros(3))  # constant: zeros, not NaN


def test_l2_normalise_1d_2d_and_zero():
    f = np.array([3.0, 4.0])
    assert np.allclose(l2_normalise(f), [0.6, 0.8])
    out = l2_normalise(np.stack([f, np.zeros(2)]))
    assert np.allclose(np.linalg.norm(out[0]), 1.0)
    assert np.array_equal(out[1], [0.0, 0.0])


def test_median_filter_removes_spike_and_is_batch_consistent():
    f = np.ones(30)
    f[10] = 100.0
    out = median_filter(f, 9)
    assert np.allclose(out, 1.0)
    rng = np.random.default_rng(3)
    batch = rng.normal(size=(4, 50))
    assert np.allclose(median_filter(batch, 5), np.stack([median_filter(r, 5) for r in batch]))
    assert np.array_equal(median_filter(f, 0), f)
    ramp = np.arange(20.0)[::-1]
    assert median_filter(ramp, 9)[0] == 19.0  # nearest-edge; zero padding would give 15


# --- pipeline -------------------------------------------------------------------------------


def _synthetic(wave=None, medium="vacuum", **meta) -> Spectrum:
    wave = lamost_grid(3909) if wave is None else wave
    flux = 1.0 + 0.5 * np.sin(wave / 200.0)
    return Spectrum(
        wave,
        flux,
        np.full(wave.size, 100.0),
        None,
        medium=medium,
        meta=SpectrumMeta(id="synthetic-1", path="/data/x.fits", **meta),
    )


def test_pipeline_on_synthetic_spectrum():
    spec = _synthetic()
    spec.mask[100:110] = True
    spec.flux[200] = np.nan
    out = preprocess(spec)
    assert isinstance(out, Preprocessed)
    assert out.flux.dtype == np.float32 and out.flux.shape == (3700,)
    assert out.ivar.dtype == np.float32
    assert out.flux.min() == 0.0 and out.flux.max() == pytest.approx(1.0)
    assert out.coverage == 1.0
    assert out.bad[100:110].all() and out.bad[200] and out.bad.sum() == 11
    assert (out.ivar[out.bad] == 0).all() and (out.ivar[~out.bad] > 0).all()
    assert np.isfinite(out.flux).all()
    # ivar on the normalised scale: ivar * (max - min)^2
    raw = 1.0 + 0.5 * np.sin(lamost_grid() / 200.0)
    rng = raw.max() - raw.min()
    assert out.ivar[0] == pytest.approx(100.0 * rng**2, rel=1e-3)


def test_pipeline_same_grid_no_shift_is_identity_after_norm():
    spec = _synthetic(wave=lamost_grid(3700))
    out = preprocess(spec, PreprocessConfig(norm="none", rest_frame=False))
    assert np.allclose(out.flux, spec.flux, rtol=1e-6)
    l2 = preprocess(spec, PreprocessConfig(norm="l2", median_filter=9))
    assert np.linalg.norm(l2.flux) == pytest.approx(1.0, rel=1e-5)


def test_pipeline_rest_frame_moves_lines():
    wave = lamost_grid(3909)
    line = 6564.61
    v = 300.0  # km/s redshift
    obs = line * (1 + v / C_KMS)
    flux = 1.0 - 0.8 * np.exp(-0.5 * ((wave - obs) / 3.0) ** 2)
    spec = Spectrum(wave, flux, np.ones_like(wave), None, meta=SpectrumMeta(rv=v))
    grid = lamost_grid()
    rest = preprocess(spec)
    observed = preprocess(spec, PreprocessConfig(rest_frame=False))
    assert abs(grid[np.argmin(rest.flux)] - line) < 1.6  # within one pixel (~1.5 Å)
    assert abs(grid[np.argmin(observed.flux)] - obs) < 1.6


def test_pipeline_converts_air_to_vacuum():
    wave = lamost_grid(3909)
    air = vacuum_to_air(wave)
    line_vac = 6564.61
    flux_air = 1.0 - 0.8 * np.exp(-0.5 * ((air - vacuum_to_air(line_vac)) / 3.0) ** 2)
    spec = Spectrum(air, flux_air, np.ones_like(air), None, medium="air")
    out = preprocess(spec, PreprocessConfig(rest_frame=False, min_coverage=0.9))
    assert abs(lamost_grid()[np.argmin(out.flux)] - line_vac) < 0.8


def test_coverage_error_names_file():
    wave = np.linspace(5000, 9000, 2000)  # misses 3700-5000 Å of the grid
    spec = _synthetic(wave=wave)
    assert coverage_fraction(spec) == pytest.approx(0.63, abs=0.02)
    with pytest.raises(CoverageError, match=r"/data/x\.fits: covers .* need 95%"):
        preprocess(spec)


def test_too_many_bad_pixels_raises():
    spec = _synthetic()
    spec.ivar[:2500] = 0
    with pytest.raises(CoverageError, match="no good pixels"):
        preprocess(spec)


def test_config_validation():
    with pytest.raises(ConfigError, match="norm"):
        PreprocessConfig(norm="zscore")


def test_real_lamost_files(shared_data):
    io = pytest.importorskip("spectype.io")
    files = sorted((shared_data / "lamost" / "dr10").glob("*.fits*"))[:2]
    files += sorted((shared_data / "lamost" / "dr8").glob("*.fits*"))[:1]
    assert len(files) == 3
    for path in files:
        spec = io.read(path)
        assert coverage_fraction(spec) > 0.99
        out = preprocess(spec)
        assert out.flux.shape == (3700,) and np.isfinite(out.flux).all()
        assert out.flux.min() == 0.0 and out.flux.max() == pytest.approx(1.0)
        assert out.bad.mean() < 0.2
        # H-alpha absorption is visible in these A-K stars near its rest wavelength.
        grid = lamost_grid()
        window = (grid > 6540) & (grid < 6590)
        core = grid[window][np.argmin(out.flux[window])]
        assert abs(core - 6564.61) < 4.0, (path.name, core)


def test_robust_norm_is_not_set_by_one_spike():
    """Min-max lets one cosmic ray set the scale; the robust norm keeps the continuum near 1."""
    from spectype.preprocess import ROBUST_CLIP, minmax_normalise, robust_normalise

    rng = np.random.default_rng(0)
    flux = 100.0 + rng.normal(0, 1.0, 3700)
    spiked = flux.copy()
    spiked[1234] = 5000.0
    assert np.median(minmax_normalise(spiked)) < 0.05  # squashed flat by the spike
    r, r0 = robust_normalise(spiked), robust_normalise(flux)
    assert abs(np.median(r) - 1.0) < 0.05 and r.max() == ROBUST_CLIP[1]
    np.testing.assert_allclose(np.delete(r, 1234), np.delete(r0, 1234), rtol=1e-3)
    assert np.all(robust_normalise(np.zeros(10)) == 0)  # no NaN from a zero scale
