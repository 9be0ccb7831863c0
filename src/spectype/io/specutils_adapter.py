"""Optional bridge to `specutils.Spectrum` (specutils >= 2; `Spectrum1D` on older versions).

specutils is imported lazily so that spectype works without it.
`to_specutils(spec)` gives flux (dimensionless unless `flux_unit` is given) over a spectral
axis in Å, `InverseVariance` uncertainty, the boolean mask, and meta holding the header and
spectype's own meta; `from_specutils` reverses it.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import numpy as np

from ..errors import ConfigError
from ..spectrum import Spectrum, SpectrumMeta


def _specutils():
    try:
        import specutils
    except ImportError as exc:
        raise ConfigError(
            "specutils is not installed; install it (pip install specutils) to convert spectra"
        ) from exc
    cls = getattr(specutils, "Spectrum", None) or specutils.Spectrum1D
    return specutils, cls


def to_specutils(spec: Spectrum, flux_unit: str | None = None):
    """A `specutils.Spectrum` with the same pixels: spectral_axis (n,) Å, flux (n,) in
    `flux_unit` (default: the spectrum's own `meta.flux_unit`)."""
    import astropy.units as u
    from astropy.nddata import InverseVariance

    _, cls = _specutils()
    meta = {
        "header": dict(spec.meta.header),
        "spectype": asdict(spec.meta),
        "medium": spec.medium,
    }
    return cls(
        flux=np.asarray(spec.flux) * u.Unit(spec.meta.flux_unit if flux_unit is None else flux_unit),
        spectral_axis=np.asarray(spec.wavelength) * u.AA,
        uncertainty=InverseVariance(np.asarray(spec.ivar)),
        mask=np.asarray(spec.mask, dtype=bool),
        meta=meta,
    )


def from_specutils(s1d) -> Spectrum:
    """A spectype `Spectrum` from a 1D specutils spectrum (spectral axis converted to Å)."""
    import astropy.units as u
    from astropy.nddata import InverseVariance

    _specutils()
    wave = s1d.spectral_axis.to_value(u.AA, equivalencies=u.spectral())
    flux = np.asarray(s1d.flux.value, dtype=np.float64)
    if flux.ndim != 1:
        raise ConfigError(f"only 1D spectra convert to spectype, got flux shape {flux.shape}")
    unc = s1d.uncertainty
    if unc is None:
        ivar = np.ones_like(flux)
    else:
        ivar = np.asarray(unc.represent_as(InverseVariance).array, dtype=np.float64)
    mask = np.zeros(flux.shape, bool) if s1d.mask is None else np.asarray(s1d.mask, bool)
    info = dict(s1d.meta.get("spectype", {})) if s1d.meta else {}
    known = {f.name for f in fields(SpectrumMeta)}
    meta = SpectrumMeta(**{k: v for k, v in info.items() if k in known})
    if not meta.header and s1d.meta and "header" in s1d.meta:
        meta.header = dict(s1d.meta["header"])
    meta.flux_unit = s1d.flux.unit.to_string()  # kept for the round trip
    medium = (s1d.meta or {}).get("medium", "vacuum")
    if wave.size > 1 and wave[0] > wave[-1]:
        wave, flux, ivar, mask = wave[::-1], flux[::-1], ivar[::-1], mask[::-1]
    return Spectrum(wave, flux, ivar, mask, medium=medium, meta=meta)
