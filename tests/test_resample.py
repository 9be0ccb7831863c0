"""One flux-conserving resampler: the simulator's flux-only batch path (cumulative integral)
gives the same bin means as the weighted path preprocessing uses."""

import numpy as np

from spectype.resample import pixel_edges, resample_edges, resample_flux_conserving


def test_flux_only_batch_equals_the_weighted_resampler():
    rng = np.random.default_rng(0)
    wave = np.sort(rng.uniform(4000.0, 5000.0, 700))
    flux = 1.0 + rng.standard_normal(700)
    # Output grids partly outside the input, as a Doppler shift makes them.
    grids = [np.linspace(3990.0, 4800.0, 90) * s for s in (1.0, 1.001, 1.05)]
    batch, ivar, covered = resample_edges(
        pixel_edges(wave), flux, None, np.stack([pixel_edges(g) for g in grids])
    )
    assert ivar is None and batch.shape == covered.shape == (3, 90)
    for k, grid in enumerate(grids):
        f, _, cov = resample_flux_conserving(wave, flux, np.ones_like(flux), grid)
        assert np.array_equal(cov, covered[k])
        assert np.allclose(batch[k], f, rtol=1e-9, atol=1e-9)
    assert not covered[0].all() and not covered[2].all()  # both ends were exercised
