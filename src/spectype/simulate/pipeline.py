"""The simulation chain for one source star, vectorised over its draws.

convolved rest-frame source (once per star) -> Doppler shift + flux-conserving rebin onto
the full LAMOST grid -> reddening -> flux-calibration distortion -> telluric bands (observed
frame, strength of the noise profile's real spectrum) -> scale to the noise
profile's flux level -> noise from a real LAMOST error profile at a drawn SNR (its mask
carried over) -> Spectrum with every parameter in meta.extra['sim'].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..spectrum import C_KMS, Spectrum, SpectrumMeta
from .distortion import draw_distortion_coeffs, legendre_distortion
from .noise import (
    G_BAND,
    I_BAND,
    NOISE_MODES,
    NoiseProfile,
    add_gaussian_noise,
    band_snr,
    noise_ivar,
)
from .rebin import lamost_full_grid, rebin_shifted
from .reddening import draw_ebv, nad_transmission, redden
from .sources import SourceStar
from .telluric import TelluricModel, telluric_from_profiles

UNCOVERED_BIT = 1 << 23  # ANDMASK bit for pixels the source library does not cover
MAX_ABS_RV_KMS = 600.0  # drop |cz| beyond this from the RV pool (galaxies, bad z)


def shared_data_root() -> Path:
    """The data root (spectype.runtime.data_root): $SPECTYPE_DATA, else ../shared/data from the
    current directory; never the install location, which is site-packages once installed."""
    from ..runtime import data_root

    return data_root()


@dataclass
class SimConfig:
    """Every knob of the chain (recorded in each simulated spectrum's metadata)."""

    r_target: float = 1800.0
    law: str = "G23"
    rv_ext: float = 3.1
    ebv_mean: float = 0.1
    ebv_max: float = 0.6
    distortion_degree: int = 3
    distortion_amplitude: float = 0.05
    noise_mode: str = "photon"
    snr_min: float = 10.0
    snr_max: float | None = None
    telluric: bool = True  # multiply by the empirical telluric template (telluric.py)
    interstellar_nad: bool = False  # Na D of the same dust column (reddening.nad_transmission)

    def __post_init__(self) -> None:
        if self.noise_mode not in NOISE_MODES:
            raise ConfigError(f"noise_mode must be one of {NOISE_MODES}, got {self.noise_mode!r}")


@dataclass
class RealDistributions:
    """Pools of real LAMOST values to draw from: z (k,) and g-band SNR (j,)."""

    z: np.ndarray
    snr_g: np.ndarray

    @classmethod
    def from_params_csv(cls, path: str | Path) -> RealDistributions:
        """From a LAMOST parameter table with columns z and snrg (dr10_params.csv)."""
        import pandas as pd

        path = Path(path)
        try:
            df = pd.read_csv(path, usecols=["z", "snrg"])
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read columns z, snrg ({exc}); pass a LAMOST parameter CSV") from exc
        z = df["z"].to_numpy(np.float64)
        z = z[np.isfinite(z) & (np.abs(z * C_KMS) < MAX_ABS_RV_KMS)]
        snr = df["snrg"].to_numpy(np.float64)
        snr = snr[np.isfinite(snr) & (snr > 0)]
        if len(z) == 0 or len(snr) == 0:
            raise ConfigError(f"{path}: no usable z / snrg values")
        return cls(z, snr)

    def draw_rv(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n,) radial velocities in km/s, rv = c·z of random real spectra."""
        return rng.choice(self.z, size=n) * C_KMS

    def draw_snr(self, rng: np.random.Generator, n: int, snr_min: float = 10.0, snr_max: float | None = None) -> np.ndarray:
        """(n,) g-band SNRs from the real values within [snr_min, snr_max]."""
        pool = self.snr_g[(self.snr_g >= snr_min) & (self.snr_g <= (snr_max or np.inf))]
        if len(pool) == 0:
            raise ConfigError(f"no real SNR in [{snr_min}, {snr_max}]; widen the SNR range")
        return rng.choice(pool, size=n)


@dataclass
class SimBatch:
    """n simulations of one source on the full LAMOST grid: wave (m,), flux/ivar (n, m)
    float64, andmask/ormask (n, m) int64, params: n dicts (JSON-able)."""

    source: SourceStar
    wave: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    andmask: np.ndarray
    ormask: np.ndarray
    params: list[dict] = field(default_factory=list)


def simulate_source(
    source: SourceStar,
    n: int,
    cfg: SimConfig,
    dists: RealDistributions,
    profiles: list[NoiseProfile],
    rng: np.random.Generator,
    snr: np.ndarray | None = None,
    telluric: TelluricModel | None = None,
) -> SimBatch:
    """n LAMOST-like simulations of `source`, each with its own RV, E(B−V), distortion,
    noise profile and SNR (snr (n,) overrides the draw, e.g. to match a real sample).
    With cfg.telluric, `telluric` (else one derived from `profiles`) multiplies the flux in
    the observed frame; profiles without band ratios (synthetic ones) give none, and the
    params record telluric_scale None."""
    if not profiles:
        raise ConfigError(
            "no noise profiles: pass --data-root DIR whose lamost/ holds real LAMOST spectra "
            "(or set SPECTYPE_DATA=DIR)"
        )
    if cfg.telluric and telluric is None:
        telluric = _cached_telluric(profiles)
    wave = lamost_full_grid()
    rv = dists.draw_rv(rng, n)
    ebv = draw_ebv(rng, n, cfg.ebv_mean, cfg.ebv_max)
    coeffs = draw_distortion_coeffs(rng, n, cfg.distortion_degree, cfg.distortion_amplitude)
    snr = dists.draw_snr(rng, n, cfg.snr_min, cfg.snr_max) if snr is None else np.asarray(snr, float)
    prof_idx = rng.integers(len(profiles), size=n)

    flux, covered = rebin_shifted(source.conv, wave, rv)
    flux = redden(wave, flux, ebv, cfg.law, cfg.rv_ext)
    if cfg.interstellar_nad:
        flux = flux * nad_transmission(wave, ebv, cfg.r_target)
    if cfg.distortion_degree > 0:
        flux = flux * legendre_distortion(wave, coeffs)

    gsel = (wave >= G_BAND[0]) & (wave <= G_BAND[1])
    out_f = np.zeros_like(flux)
    out_i = np.zeros_like(flux)
    andm = np.zeros(flux.shape, np.int64)
    orm = np.zeros(flux.shape, np.int64)
    params = []
    for j in range(n):
        p = profiles[prof_idx[j]]
        # Put the simulation on the real spectrum's flux scale so the FITS looks like LAMOST.
        level = np.median(p.flux_smooth[gsel]) / max(np.median(np.abs(flux[j, gsel])), 1e-300)
        f = flux[j] * level
        t_scale = None
        if cfg.telluric and telluric is not None:
            t_scale = telluric.scale_for(p.obsid, rng)
            f = telluric.apply(f, t_scale)
        iv = noise_ivar(wave, f, p, float(snr[j]), cfg.noise_mode) * covered[j]
        out_f[j] = np.where(covered[j], add_gaussian_noise(f, iv, rng), 0.0)
        out_i[j] = iv
        andm[j] = p.andmask | np.where(covered[j], 0, UNCOVERED_BIT)
        orm[j] = p.ormask | np.where(covered[j], 0, UNCOVERED_BIT)
        out_i[j][andm[j] != 0] = 0.0
        params.append(
            {
                "source": source.key, "group": source.group, "library": source.library,
                "subclass": source.subclass, "source_resolution": source.resolution,
                "flags": list(source.flags), "rv_kms": float(rv[j]), "z": float(rv[j] / C_KMS),
                "ebv": float(ebv[j]), "dist_coeffs": [float(c) for c in coeffs[j]],
                "noise_obsid": p.obsid, "snr_target": float(snr[j]), "telluric_scale": t_scale,
                **{f"cfg_{k_}": v for k_, v in asdict(cfg).items()},
            }
        )
    snr_g = band_snr(wave, out_f, out_i, G_BAND)
    snr_i = band_snr(wave, out_f, out_i, I_BAND)
    for j, prm in enumerate(params):
        prm["snr_g"] = float(snr_g[j])
        prm["snr_i"] = float(snr_i[j])
    return SimBatch(source, wave, out_f, out_i, andm, orm, params)


_TELLURIC_CACHE: list = []  # [(profiles list, model)]: one entry, the list kept alive


def _cached_telluric(profiles: list[NoiseProfile]) -> TelluricModel | None:
    """telluric_from_profiles, computed once per profiles list (it is reused per source)."""
    if _TELLURIC_CACHE and _TELLURIC_CACHE[0][0] is profiles:
        return _TELLURIC_CACHE[0][1]
    model = telluric_from_profiles(profiles)
    _TELLURIC_CACHE[:] = [(profiles, model)]
    return model


def batch_spectra(batch: SimBatch, first_id: int = 0) -> list[Spectrum]:
    """The batch as Spectrum records (vacuum, observed frame), ids SIM<first_id + j>."""
    out = []
    for j, prm in enumerate(batch.params):
        sim_id = f"SIM{first_id + j:09d}"
        meta = SpectrumMeta(
            id=sim_id,
            survey="LAMOST-sim",
            obj_class="STAR",
            subclass=batch.source.subclass,
            snr={"g": prm["snr_g"], "i": prm["snr_i"]},
            z=prm["z"],
            resolution=batch.params[j]["cfg_r_target"],
            extra={"sim": dict(prm, sim_id=sim_id), "andmask": batch.andmask[j], "ormask": batch.ormask[j]},
        )
        out.append(
            Spectrum(batch.wave, batch.flux[j], batch.ivar[j], batch.andmask[j] != 0, "vacuum", meta)
        )
    return out
