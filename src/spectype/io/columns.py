"""Finding the wavelength / flux / error columns of a table by name, with units.

Shared by the text (CSV), ECSV and FITS-table readers. A column name may carry its unit:
`wave [nm]`, `lambda(um)`, `wavelength (Angstrom)`, `wavelength_nm`, `wave_A`. Units go
through `angstrom_per_unit` (common spellings, then astropy.units).
"""

from __future__ import annotations

import re

from ..errors import UnsupportedLayoutError

WAVE_NAMES = {"wavelength", "wave", "lambda", "wl", "lam", "angstrom", "wavelength_a",
              "spectral_axis", "wavelength_vac", "wavelength_air", "wave_vac", "wave_air"}
LOGLAM_NAMES = {"loglam", "log_lambda", "log_wave", "log_wavelength", "loglambda"}
FLUX_NAMES = {"flux", "f", "flux_density", "flam", "f_lambda", "flux_lambda", "fnu"}
IVAR_NAMES = {"ivar", "inverse_variance", "invvar", "inv_var"}
ERR_NAMES = {"error", "err", "sigma", "flux_err", "flux_error", "uncertainty", "noise",
             "e_flux", "flux_unc", "std", "stddev"}
VAR_NAMES = {"variance", "var", "flux_var"}
ROLES = (("wave", WAVE_NAMES), ("loglam", LOGLAM_NAMES), ("flux", FLUX_NAMES),
         ("ivar", IVAR_NAMES), ("err", ERR_NAMES), ("var", VAR_NAMES))

# Spellings seen in the wild -> Å per unit; anything else goes through astropy.units.
_UNIT_A = {
    "": 1.0, "a": 1.0, "aa": 1.0, "ang": 1.0, "angstrom": 1.0, "angstroms": 1.0,
    "angstroem": 1.0, "å": 1.0, "0.1nm": 1.0, "nm": 10.0, "nanometer": 10.0,
    "nanometers": 10.0, "um": 1e4, "µm": 1e4, "μm": 1e4, "micron": 1e4, "microns": 1e4,
    "micrometer": 1e4, "micrometers": 1e4, "mum": 1e4, "m": 1e10, "meter": 1e10, "cm": 1e8,
    "mm": 1e7,
}
_SUFFIX_UNITS = {"nm", "um", "µm", "μm", "a", "aa", "ang", "angstrom", "angstroms", "micron",
                 "microns", "mum"}
_BRACKET = re.compile(r"^(?P<base>.*?)\s*[\[(]\s*(?P<unit>[^\])]*?)\s*[\])]\s*$")


def angstrom_per_unit(unit, path=None) -> float:
    """Å per `unit` (a string or astropy unit); raises SpectrumReadError when not a length."""
    key = str(unit if unit is not None else "").strip().lower()
    if key in _UNIT_A:
        return _UNIT_A[key]
    try:
        import astropy.units as u

        return float(u.Unit(unit).to(u.AA))
    except Exception as exc:
        raise UnsupportedLayoutError(
            path, f"wavelength unit {str(unit)!r} is not a length unit spectype knows",
            "give the wavelength in Angstrom, nm or um",
        ) from exc


def split_unit(name: str) -> tuple[str, str | None]:
    """'wave [nm]' -> ('wave', 'nm'); 'wavelength_nm' -> ('wavelength', 'nm'); 'flux' -> ('flux', None)."""
    name = name.strip().strip("\"'").strip()
    m = _BRACKET.match(name)
    if m and m["base"]:
        return m["base"].strip().lower(), m["unit"] or None
    low = name.lower()
    if "_" in low:
        base, _, suffix = low.rpartition("_")
        if suffix in _SUFFIX_UNITS and base:
            return base, suffix
    return low, None


def column_roles(names: list[str]) -> tuple[dict[str, int], dict[str, str | None]]:
    """({role: column index}, {role: unit from the name}) for roles wave/loglam/flux/ivar/err/var."""
    roles: dict[str, int] = {}
    units: dict[str, str | None] = {}
    for i, name in enumerate(names):
        base, unit = split_unit(name)
        for role, options in ROLES:
            if (base in options or name.strip().lower() in options) and role not in roles:
                if base not in options:
                    unit = None  # e.g. 'wavelength_a' is itself a known name
                roles[role] = i
                units[role] = unit
                break
    return roles, units


def infer_wave_unit(lo: float, hi: float) -> str | None:
    """A unit for wavelengths given without one: optical/near-IR spectra in nm or µm are common.

    All values within 250-1,500 → 'nm'; within 0.25-1.5 → 'um'; else None (Å). A spectrum
    in Å would have to lie entirely below 1,500 Å to be mistaken, far outside what spectype
    classifies.
    """
    if 250.0 <= lo and hi <= 1500.0:
        return "nm"
    if 0.25 <= lo and hi <= 1.5:
        return "um"
    return None
