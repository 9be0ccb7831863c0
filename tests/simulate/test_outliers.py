"""Synthetic non-stellar spectra (simulate/outliers.py): every kind, finite, normalised."""

from __future__ import annotations

import numpy as np
import pytest

from spectype.preprocess import ROBUST_CLIP, PreprocessConfig
from spectype.simulate.outliers import KINDS, outlier_set, outlier_spectrum

W = np.asarray(PreprocessConfig().grid())


def test_set_cycles_through_every_kind_and_is_reproducible():
    x, kinds = outlier_set(2 * len(KINDS), W, seed=3, kinds=KINDS)
    assert x.shape == (2 * len(KINDS), W.size) and x.dtype == np.float32
    assert kinds == list(KINDS) * 2
    assert np.isfinite(x).all() and x.min() >= ROBUST_CLIP[0] and x.max() <= ROBUST_CLIP[1]
    assert np.array_equal(x, outlier_set(2 * len(KINDS), W, seed=3, kinds=KINDS)[0])
    assert not np.array_equal(x, outlier_set(2 * len(KINDS), W, seed=4, kinds=KINDS)[0])


def test_white_dwarf_balmer_lines_are_broader_than_an_a_stars():
    rng = np.random.default_rng(0)
    f = outlier_spectrum("DA", W, rng)
    near = np.abs(W - 4862.7) < 300
    cont = np.interp(W[near], W[near][[0, -1]], f[near][[0, -1]])
    depth = 1 - f[near] / cont
    # over 50 Å of the line is deeper than half its depth (an A star's H beta: ~20-40 Å FWHM)
    half = W[near][depth > depth.max() / 2]
    assert half[-1] - half[0] > 50


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown outlier kind"):
        outlier_spectrum("nova", W, np.random.default_rng(0))
