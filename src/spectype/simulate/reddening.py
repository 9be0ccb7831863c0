"""Interstellar reddening with a maintained extinction law (dust_extinction), and the
interstellar Na D doublet that comes with the same dust column.

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


#: Na I D2 and D1 vacuum wavelengths (Å) and their shares of EW(D1 + D2) (D2/D1 = 1.33, the
#: partly saturated ratio typical of Galactic sightlines).
NAD_LINES = ((5891.583, 0.57), (5897.558, 0.43))


def nad_equivalent_width(ebv: float | np.ndarray) -> np.ndarray:
    """EW(D1 + D2) in Å from E(B−V): Poznanski, Prochaska & Bloom (2012) eq. 9,
    log10 E(B−V) = 1.17 EW − 1.85, inverted; 0 where E(B−V) is below ~0.015 (EW ≤ 0)."""
    e = np.asarray(ebv, dtype=np.float64)
    with np.errstate(divide="ignore"):
        ew = (np.log10(np.where(e > 0, e, np.nan)) + 1.85) / 1.17
    return np.nan_to_num(np.clip(ew, 0.0, None), nan=0.0)


def nad_transmission(wave: np.ndarray, ebv: float | np.ndarray, r: float = 1800.0) -> np.ndarray:
    """Interstellar Na D on a pixel grid: transmission (..., n) for E(B−V) (...,).

    The lines are unresolved at LAMOST's resolution, so each is a Gaussian of the instrument's
    FWHM = λ/R, integrated over each pixel (erf at the pixel edges), with its equivalent width
    from `nad_equivalent_width`; optically thin (1 − depth) since depth ≲ 0.3. At rest in the
    observed frame (the gas's velocity, tens of km/s, is under a pixel).
    """
    from scipy.special import erf

    from ..resample import pixel_edges

    edges = pixel_edges(wave)
    width = np.diff(edges)
    ew = nad_equivalent_width(ebv)[..., None]
    absorbed = np.zeros(ew.shape[:-1] + wave.shape)
    for centre, share in NAD_LINES:
        sigma = centre / r / (2 * np.sqrt(2 * np.log(2)))
        z = (edges - centre) / (np.sqrt(2) * sigma)
        frac = 0.5 * np.diff(erf(z))  # share of the line's profile in each pixel
        absorbed = absorbed + share * ew * frac / width
    return 1.0 - absorbed
