"""LAMOST-like spectra from stellar libraries (docs/simulator.md).

Chain per source star: convolve to R≈1800 (resolution) -> RV from real LAMOST z (rebin) ->
reddening (dust_extinction) -> smooth flux-calibration distortion -> flux-conserving rebin
onto the LAMOST grid -> telluric O₂/H₂O bands (telluric) -> noise from a real LAMOST error profile and mask (noise) -> LAMOST
FITS (fits) or an HDF5 pack split by source star (dataset).
"""

from .dataset import (
    SimulateResult,
    allocate_draws,
    build_simulated_dataset,
    real_spectra,
    write_simulated_pack,
)
from .distortion import draw_distortion_coeffs, legendre_distortion
from .fits import write_lamost_fits
from .noise import (
    NoiseProfile,
    add_gaussian_noise,
    band_snr,
    load_noise_profile,
    load_noise_profiles_from,
    noise_ivar,
    profile_from_spectrum,
)
from .pipeline import (
    RealDistributions,
    SimBatch,
    SimConfig,
    batch_spectra,
    shared_data_root,
    simulate_source,
)
from .rebin import CumulativeSpectrum, doppler_shift, lamost_full_grid, rebin_shifted
from .reddening import draw_ebv, extinction_curve, redden
from .resolution import convolve_to_resolution, measure_fwhm, sigma_ln_from_resolution
from .sources import (
    SourceStar,
    count_sources,
    load_sources,
    normalise_star_name,
    prepare_source,
    star_group_id,
)
from .telluric import (
    TELLURIC_WINDOWS,
    TelluricModel,
    band_ratio,
    telluric_from_profiles,
    template_from_ratios,
)

__all__ = [
    "CumulativeSpectrum", "NoiseProfile", "RealDistributions", "SimBatch", "SimConfig", "SimulateResult",
    "SourceStar", "add_gaussian_noise", "allocate_draws", "band_snr", "batch_spectra",
    "build_simulated_dataset", "convolve_to_resolution", "count_sources", "doppler_shift",
    "draw_distortion_coeffs", "draw_ebv", "extinction_curve", "lamost_full_grid",
    "legendre_distortion", "load_noise_profile", "load_noise_profiles_from", "load_sources",
    "measure_fwhm", "noise_ivar", "normalise_star_name", "prepare_source", "profile_from_spectrum",
    "real_spectra", "rebin_shifted", "redden", "shared_data_root", "sigma_ln_from_resolution",
    "simulate_source", "star_group_id", "write_lamost_fits", "write_simulated_pack",
    "TELLURIC_WINDOWS", "TelluricModel", "band_ratio", "telluric_from_profiles", "template_from_ratios",
]
