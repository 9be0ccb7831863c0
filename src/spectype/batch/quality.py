"""Flux that no model should be trusted on: refused before it reaches the model.

A min-max normalised all-zero, constant or overflowing spectrum still gives the network an
input, and it answers with a confident class (issue 14: all-zero, negative and 3e38 flux came
out as K with status ok). These checks make such spectra `status = error` with the reason.
"""

from __future__ import annotations

import numpy as np

ABSURD_FLUX = 1e30  # far above any survey's flux units; float32 overflows near 3.4e38
MAX_NEGATIVE_FRACTION = 0.5  # more negative than positive pixels: sky-subtracted noise, not a star


def flux_problem(flux: np.ndarray, good: np.ndarray | None = None) -> str | None:
    """Why `flux` (its `good` pixels) cannot be classified, or None when it can."""
    flux = np.asarray(flux, dtype=np.float64)
    if good is None:
        good = np.ones(flux.shape, bool)
    f = flux[np.asarray(good, bool) & np.isfinite(flux)]
    if f.size == 0:
        return "flux has no finite, unmasked pixel"
    if np.any(np.abs(f) > ABSURD_FLUX):
        return f"flux reaches {np.max(np.abs(f)):.3g} (above {ABSURD_FLUX:.0e}: not physical; check the file's units or scaling)"
    if not np.any(f):
        return "flux is all zero"
    if np.ptp(f) == 0:
        return f"flux is constant ({f[0]:.6g}) over every usable pixel"
    negative = float(np.mean(f < 0))
    if negative > MAX_NEGATIVE_FRACTION:
        return f"flux is negative in {negative:.0%} of usable pixels (more than {MAX_NEGATIVE_FRACTION:.0%}): not a stellar continuum"
    return None


def model_input_problem(flux: np.ndarray) -> str | None:
    """A preprocessed (model-grid) flux that is not finite or has no contrast."""
    flux = np.asarray(flux)
    if not np.all(np.isfinite(flux)):
        return "preprocessed flux is not finite"
    if flux.size and np.ptp(flux) == 0:
        return "preprocessed flux is constant over the model's window"
    return None
