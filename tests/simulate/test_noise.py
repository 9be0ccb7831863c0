import numpy as np
import pytest

from spectype.simulate import (
    RealDistributions,
    SimConfig,
    band_snr,
    lamost_full_grid,
    noise_ivar,
    simulate_source,
)
from spectype.simulate.pipeline import UNCOVERED_BIT

from .conftest import make_profile, make_source


@pytest.mark.parametrize("mode", ["scaled", "photon"])
def test_noise_reaches_target_snr(mode):
    wave = lamost_full_grid()
    flux = 100 * (wave / 5000.0) ** -1
    prof = make_profile()
    iv = noise_ivar(wave, flux, prof, 25.0, mode)
    assert band_snr(wave, flux, iv) == pytest.approx(25.0, rel=1e-6)
    noisy = flux + np.random.default_rng(0).standard_normal(flux.size) / np.sqrt(np.where(iv > 0, iv, np.inf))
    assert band_snr(wave, noisy, iv) == pytest.approx(25.0, rel=0.05)


def test_simulated_batch_hits_snr_and_carries_mask():
    dists = RealDistributions(z=np.array([0.0, 1e-4]), snr_g=np.array([30.0]))
    rng = np.random.default_rng(0)
    prof = make_profile(bad=slice(500, 520))
    batch = simulate_source(make_source(), 20, SimConfig(), dists, [prof], rng)
    assert np.allclose([p["snr_g"] for p in batch.params], 30.0, rtol=0.08)
    assert np.all(batch.ivar[:, 500:520] == 0)
    assert np.all(batch.andmask[:, 500:520] & 8)
    assert np.all(batch.ormask[:, 500:520] & 2)
    assert not np.any(batch.andmask[:, 1000:1100] & UNCOVERED_BIT)
    assert len({p["rv_kms"] for p in batch.params}) > 1  # draws differ per spectrum
