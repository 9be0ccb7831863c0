"""Smooth multiplicative flux-calibration errors: 1 + Σ_k c_k P_k(x), x = λ mapped to [−1, 1].

P_k are Legendre polynomials (numpy.polynomial.legendre) of degree 1..degree; the constant
term is left out because the absolute flux scale is normalised away anyway.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre


def scaled_x(wave: np.ndarray, wmin: float = 3700.0, wmax: float = 9100.0) -> np.ndarray:
    """λ (n,) -> x in [−1, 1] over [wmin, wmax] (values outside extrapolate)."""
    wave = np.asarray(wave, dtype=np.float64)
    return 2.0 * (wave - wmin) / (wmax - wmin) - 1.0


def legendre_distortion(wave: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Distortion factor (..., n) for coeffs (..., degree) of P_1..P_degree."""
    coeffs = np.atleast_1d(np.asarray(coeffs, dtype=np.float64))
    x = scaled_x(wave)
    full = np.concatenate([np.zeros(coeffs.shape[:-1] + (1,)), coeffs], axis=-1)
    # legval takes the degree axis first and returns c.shape[1:] + x.shape.
    return 1.0 + legendre.legval(x, np.moveaxis(full, -1, 0))


def draw_distortion_coeffs(
    rng: np.random.Generator, n: int, degree: int = 3, amplitude: float = 0.05
) -> np.ndarray:
    """(n, degree) coefficients, N(0, amplitude/k) for P_k: lower orders dominate, and the
    distortion's typical size is ~amplitude (a few per cent, as LAMOST's relative flux
    calibration)."""
    if degree <= 0 or amplitude <= 0:
        return np.zeros((n, max(degree, 0)))
    scale = amplitude / np.arange(1, degree + 1)
    return rng.normal(0.0, 1.0, size=(n, degree)) * scale
