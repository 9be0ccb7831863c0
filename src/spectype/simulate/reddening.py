"""Interstellar reddening with a maintained extinction law (dust_extinction).

flux_reddened = flux · 10^(−0.4 · A_V · k(λ)), A_V = R_V · E(B−V), k = A_λ / A_V from the law.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import ConfigError

LAWS = ("G23", "F99", "CCM89", "O94", "F19")


@lru_cache(maxsize=16)
def _law(name: str, rv: float):
    from dust_extinction import parameter_averages as pa

    if name not in LAWS:
        raise ConfigError(f"unknown extinction law {name!r}; use one of {LAWS}")
    return getattr(pa, name)(Rv=rv)


def extinction_curve(wave: np.ndarray, law: str = "G23", rv: float = 3.1) -> np.ndarray:
    """A_λ / A_V (n,) at wavelengths `wave` in Å (vacuum; the air/vacuum difference is
    irrelevant for a smooth curve)."""
    import astropy.units as u

    return np.asarray(_law(law, float(rv))(np.asarray(wave, np.float64) * u.AA), np.float64)


def redden(
    wave: np.ndarray, flux: np.ndarray, ebv: float | np.ndarray, law: str = "G23", rv: float = 3.1
) -> np.ndarray:
    """Reddened flux. flux (..., n), ebv scalar or (...,) broadcast against the batch axes."""
    k = extinction_curve(wave, law, rv)
    av = rv * np.asarray(ebv, dtype=np.float64)[..., None]
    return np.asarray(flux) * 10.0 ** (-0.4 * av * k)


def draw_ebv(rng: np.random.Generator, n: int, mean: float = 0.1, max_ebv: float = 0.6) -> np.ndarray:
    """E(B−V) (n,) from an exponential of the given mean, clipped to [0, max_ebv]."""
    if mean <= 0:
        return np.zeros(n)
    return np.clip(rng.exponential(mean, size=n), 0.0, max_ebv)
