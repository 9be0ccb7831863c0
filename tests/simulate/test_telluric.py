import numpy as np
import pytest

from spectype.simulate import (
    TELLURIC_WINDOWS,
    RealDistributions,
    SimConfig,
    TelluricModel,
    band_ratio,
    lamost_full_grid,
    rebin_shifted,
    simulate_source,
    telluric_from_profiles,
    template_from_ratios,
)
from spectype.simulate.rebin import CumulativeSpectrum
from spectype.simulate.telluric import correct_library_tellurics, fit_scale, in_windows

from .conftest import make_profile, make_source

A_BAND = (7594.0, 7700.0)


def a_band_dip(wave, depth=0.5):
    """Transmission with a Gaussian O₂ A-band-like dip at 7610 Å (σ 8 Å)."""
    return 1.0 - depth * np.exp(-0.5 * ((wave - 7610.0) / 8.0) ** 2)


def test_band_ratio_recovers_dip_on_sloped_continuum():
    w = lamost_full_grid()
    cont = 100 * (w / 7600.0) ** -2
    r = band_ratio(w, cont * a_band_dip(w), np.ones(w.size, bool))
    inside = in_windows(w)
    assert np.allclose(r[~inside], 1.0)
    i = np.argmin(np.abs(w - 7610.0))
    assert r[i] == pytest.approx(0.5, abs=0.02)
    sel = (w >= A_BAND[0]) & (w <= A_BAND[1])
    assert np.allclose(r[sel], a_band_dip(w[sel]), atol=0.02)


def test_band_ratio_nan_without_sidebands():
    w = lamost_full_grid()
    good = np.ones(w.size, bool)
    good[(w > A_BAND[1]) & (w < A_BAND[1] + 25)] = False
    r = band_ratio(w, np.ones(w.size), good)
    assert np.all(np.isnan(r[(w >= A_BAND[0]) & (w <= A_BAND[1])]))
    assert np.allclose(r[(w >= 7160) & (w <= 7350)], 1.0)


def test_template_is_transmission_and_fit_scale_recovers_strength():
    w = lamost_full_grid()
    t = a_band_dip(w)
    rng = np.random.default_rng(0)
    inside = in_windows(w)
    ratios = np.stack([np.where(inside, t ** s + rng.normal(0, 0.005, w.size), 1.0) for s in rng.uniform(0.5, 1.5, 40)])
    tmpl = template_from_ratios(ratios)
    assert tmpl.max() <= 1.0 and tmpl.min() >= 0.0
    assert np.all(tmpl[~inside] == 1.0)
    assert fit_scale(tmpl ** 1.7, tmpl) == pytest.approx(1.7, rel=0.02)
    assert np.isnan(fit_scale(np.ones(w.size), np.ones(w.size)))  # no band, no scale


def test_model_applies_depth_only_in_band():
    w = lamost_full_grid()
    model = TelluricModel(a_band_dip(w, 0.6), {"7": 2.0}, 1)
    flux = np.full((2, w.size), 10.0)
    out = model.apply(flux, np.array([1.0, 2.0]))
    i = np.argmin(np.abs(w - 7610.0))
    assert out[0, i] == pytest.approx(4.0, rel=0.01)
    assert out[1, i] == pytest.approx(1.6, rel=0.01)
    far = np.abs(w - 7610.0) > 80
    assert np.allclose(out[:, far], 10.0)
    assert np.all(out <= 10.0)
    assert model.scale_for("7", np.random.default_rng(0)) == 2.0
    assert model.scale_for("unknown", np.random.default_rng(0)) == 2.0  # drawn from the pool


def _profiles_with_band(n=12, depth=0.4):
    w = lamost_full_grid()
    out = []
    for k in range(n):
        p = make_profile(str(k))
        p.telluric_ratio = np.where(in_windows(w), a_band_dip(w, depth) ** (0.5 + k / n), 1.0)
        out.append(p)
    return out


def test_telluric_from_profiles_and_none_for_synthetic():
    assert telluric_from_profiles([make_profile()]) is None
    model = telluric_from_profiles(_profiles_with_band())
    w = lamost_full_grid()
    assert model.transmission[np.argmin(np.abs(w - 7610))] < 0.75
    assert model.scales["0"] < model.scales["11"]


def test_simulation_gets_band_in_observed_frame_only():
    w = lamost_full_grid()
    profiles = _profiles_with_band()
    model = TelluricModel(a_band_dip(w, 0.5), {p.obsid: 1.0 for p in profiles}, len(profiles))
    dists = RealDistributions(z=np.array([1e-3]), snr_g=np.array([50.0]))  # 300 km/s
    src = make_source()
    on = simulate_source(src, 3, SimConfig(noise_mode="scaled"), dists, profiles, np.random.default_rng(0), telluric=model)
    off = simulate_source(src, 3, SimConfig(noise_mode="scaled", telluric=False), dists, profiles,
                          np.random.default_rng(0))
    # Same seed, so the same noise draws: off - on is the noiseless flux times (1 - T). The
    # dip sits at 7610 Å observed (it does not move with the 300 km/s RV).
    i = np.argmin(np.abs(w - 7610.0))
    assert np.all(off.flux[:, i] - on.flux[:, i] > 0)
    assert np.all(np.abs(off.flux[:, i + 30] - on.flux[:, i + 30]) < 1e-6 * np.abs(off.flux[:, i + 30]) + 1e-9)
    far = np.abs(w - 7610.0) > 80
    assert np.allclose(on.flux[:, far], off.flux[:, far])
    assert all(p["telluric_scale"] == 1.0 for p in on.params)
    assert all(p["telluric_scale"] is None for p in off.params)


def test_library_correction_divides_the_band_out():
    w = lamost_full_grid()
    sources = []
    for k in range(6):
        s = make_source(group=f"HD{k}")
        edges = s.conv.edges
        mid = 0.5 * (edges[1:] + edges[:-1])
        flux = np.diff(s.conv.cum) / np.diff(edges) * a_band_dip(mid, 0.3 + 0.05 * k)
        s.conv = CumulativeSpectrum(edges, np.r_[0.0, np.cumsum(flux * np.diff(edges))])
        sources.append(s)
    before = [band_ratio(w, *[a[0] for a in rebin_shifted(s.conv, w, np.zeros(1))]) for s in sources]
    model = correct_library_tellurics(sources, "stelib")
    assert model is not None and len(model.scales) == 6
    i = np.argmin(np.abs(w - 7610.0))
    for s, b in zip(sources, before, strict=True):
        f, cov = rebin_shifted(s.conv, w, np.zeros(1))
        after = band_ratio(w, f[0], cov[0])
        assert b[i] < 0.75
        assert after[i] == pytest.approx(1.0, abs=0.03)
        assert "telluric_corrected" in s.flags
    assert correct_library_tellurics(sources[:2], "stelib") is None


def test_windows_are_sorted_and_disjoint():
    lo = [a for a, _ in TELLURIC_WINDOWS]
    assert lo == sorted(lo)
    assert all(b < c for (_, b), (c, _) in zip(TELLURIC_WINDOWS, TELLURIC_WINDOWS[1:], strict=False))


def test_fit_shift_scale_finds_a_sub_pixel_velocity_shift():
    from spectype.simulate.telluric import fit_shift_scale

    w = lamost_full_grid()
    t = np.where(in_windows(w), a_band_dip(w, 0.6), 1.0)
    v_true = 40.0  # km/s: 0.58 of a LAMOST pixel
    shifted = np.interp(w / (1 + v_true / 299_792.458), w, t, left=1.0, right=1.0)
    v, s = fit_shift_scale(w, shifted**1.3, t)
    assert v == pytest.approx(v_true, abs=5.0)
    assert s == pytest.approx(1.3, rel=0.03)


def test_library_correction_follows_each_stars_shift():
    """Sources whose bands sit at different velocities (rest-frame library spectra) all come
    out flat: dividing by an unshifted template would leave an up-down residual."""
    w = lamost_full_grid()
    c = 299_792.458
    sources = []
    for k, v in enumerate([-60.0, -30.0, 0.0, 0.0, 30.0, 60.0]):
        s = make_source(group=f"HD{k}")
        edges = s.conv.edges
        mid = 0.5 * (edges[1:] + edges[:-1])
        flux = np.diff(s.conv.cum) / np.diff(edges) * a_band_dip(mid / (1 + v / c), 0.4)
        s.conv = CumulativeSpectrum(edges, np.r_[0.0, np.cumsum(flux * np.diff(edges))])
        sources.append(s)
    correct_library_tellurics(sources, "stelib")
    band = np.abs(w - 7610.0) < 25
    for s in sources:
        f, cov = rebin_shifted(s.conv, w, np.zeros(1))
        ratio = band_ratio(w, f[0], cov[0])
        assert np.nanmax(np.abs(ratio[band] - 1.0)) < 0.05


def test_library_correction_bridges_deep_cores_instead_of_blowing_them_up():
    """A source whose band core was zero-filled (HD037828 in STELIB) must not come out with a
    spike: dividing by a near-zero transmission would multiply that pixel many times."""
    w = lamost_full_grid()
    sources = []
    for k in range(6):
        s = make_source(group=f"HD{k}")
        edges = s.conv.edges
        mid = 0.5 * (edges[1:] + edges[:-1])
        flux = np.diff(s.conv.cum) / np.diff(edges) * a_band_dip(mid, 0.9)  # a 90 % deep band
        if k == 0:  # a gap filled with the continuum instead of the absorbed flux
            core = np.abs(mid - 7610.0) < 3
            flux[core] = (np.diff(s.conv.cum) / np.diff(edges))[core]
        s.conv = CumulativeSpectrum(edges, np.r_[0.0, np.cumsum(flux * np.diff(edges))])
        sources.append(s)
    correct_library_tellurics(sources, "stelib")
    f, _ = rebin_shifted(sources[0].conv, w, np.zeros(1))
    band = np.abs(w - 7610.0) < 40
    wings = (np.abs(w - 7610.0) > 60) & (np.abs(w - 7610.0) < 120)
    assert f[0][band].max() < 1.2 * f[0][wings].max()
