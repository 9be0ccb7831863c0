"""Stellar spectral libraries: STELIB, Pickles (1998), BOSS spEigenStar templates, MKCLASS.

Library spectra carry no per-pixel errors (Pickles gives a σ column): where there is none,
ivar is 1 on good pixels (uniform weights) and 0 on the zero-padded edges, which are masked.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BadWavelengthError, CorruptFileError, UnsupportedLayoutError
from ..spectrum import Spectrum, SpectrumMeta
from .registry import Probe, header_to_dict, number_or_none, register_reader
from .text import numeric_rows

STELIB_FWHM_A = 3.0  # STELIB v3 (Le Borgne et al. 2003): ~3 Å FWHM
PICKLES_RESOLUTION = 500.0  # Pickles (1998) ReadMe: "a resolution of ~500"
BOSS_RESOLUTION = 2000.0
MKCLASS_FWHM_A = 3.6  # libnor36: MKCLASS library at 3.6 Å resolution
REFERENCE_WAVE_A = 5500.0  # where R = λ / FWHM is quoted for fixed-FWHM libraries


def _uniform_weights(flux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ivar, mask) for a library spectrum without errors: edges padded with 0 are masked."""
    mask = ~np.isfinite(flux) | (flux == 0)
    return np.where(mask, 0.0, 1.0), mask


# --------------------------------------------------------------------------- STELIB


def _identify_stelib(probe: Probe) -> bool:
    if not probe.is_fits:
        return False
    hdr = probe.hdul[0].header
    return (
        hdr.get("NAXIS") == 1
        and "SPECTYPE" in hdr
        and "CRVAL1" in hdr
        and ("CDELT1" in hdr or "CD1_1" in hdr)
    )


@register_reader("stelib", _identify_stelib, priority=80)
def read_stelib(probe: Probe) -> Spectrum:
    """STELIB v3 FITS: 1D image, linear air wavelengths (CRVAL1, CDELT1), SPECTYPE card."""
    hdr = probe.hdul[0].header
    flux = probe.hdul[0].data
    if flux is None or flux.ndim != 1:
        raise UnsupportedLayoutError(probe.path, "STELIB file has no 1D data array")
    flux = np.asarray(flux, dtype=np.float64)
    header = header_to_dict(hdr)
    start = number_or_none(header.get("CRVAL1"))
    step = number_or_none(header.get("CDELT1", header.get("CD1_1")))
    if start is None or step is None or step <= 0:
        raise BadWavelengthError(probe.path, "CRVAL1/CDELT1 do not give a valid wavelength axis")
    ref_pix = number_or_none(header.get("CRPIX1"))
    ref_pix = 1.0 if ref_pix is None else ref_pix  # 0 is a valid reference pixel
    wave = start + step * (np.arange(flux.size) + 1.0 - ref_pix)
    ivar, mask = _uniform_weights(flux)
    star = str(header.get("STARIDEN") or header.get("OBJECT") or probe.path.stem)
    extra = {"fwhm_A": STELIB_FWHM_A}
    for key, name in (("TEFF", "teff"), ("LOG_G", "logg"), ("FE_H", "feh"), ("RADVEL", "rv_kms")):
        value = number_or_none(header.get(key))
        if value is not None:
            extra[name] = value
    meta = SpectrumMeta(
        id=star,
        survey="STELIB",
        subclass=str(header.get("SPECTYPE", "")).strip() or None,
        resolution=REFERENCE_WAVE_A / STELIB_FWHM_A,
        path=str(probe.path),
        header=header,
        extra=extra,
    )
    # STELIB spectra are in air and already shifted to rest frame by the authors.
    return Spectrum(wave, flux, ivar, mask, medium="air", meta=meta)


# --------------------------------------------------------------------------- BOSS templates


def _identify_eigenstar(probe: Probe) -> bool:
    if not probe.is_fits:
        return False
    hdr = probe.hdul[0].header
    return hdr.get("NAXIS") == 2 and "COEFF0" in hdr and "COEFF1" in hdr and "NAME0" in hdr


_BOSS_NAME = re.compile(r"^\s*(?P<type>\S+)(?:\s*\((?P<star>[^)]*)\))?\s*$")


@register_reader("boss_eigenstar", _identify_eigenstar, priority=90)
def read_boss_eigenstar(probe: Probe) -> list[Spectrum]:
    """BOSS spEigenStar-*.fits: one template per image row, type in NAME<row> cards."""
    hdr = probe.hdul[0].header
    data = probe.hdul[0].data
    if data is None or data.ndim != 2:
        raise UnsupportedLayoutError(probe.path, "spEigenStar file has no 2D template image")
    data = np.asarray(data, dtype=np.float64)
    header = header_to_dict(hdr)
    c0, c1 = number_or_none(header.get("COEFF0")), number_or_none(header.get("COEFF1"))
    if c0 is None or c1 is None:
        raise BadWavelengthError(probe.path, "COEFF0/COEFF1 are not numbers")
    wave = 10.0 ** (c0 + c1 * np.arange(data.shape[1]))
    out = []
    for row, flux in enumerate(data):
        name = str(header.get(f"NAME{row}", "")).strip()
        match = _BOSS_NAME.match(name)
        subclass = match["type"] if match else (name or None)
        star = match["star"] if match and match["star"] else None
        ivar, mask = _uniform_weights(flux)
        meta = SpectrumMeta(
            id=f"{probe.path.stem}:{row}" + (f":{star}" if star else ""),
            survey="BOSS-templates",
            subclass=subclass,
            resolution=BOSS_RESOLUTION,
            path=str(probe.path),
            index=row,
            header=header,
            extra={"name": name, **({"star": star} if star else {})},
        )
        out.append(Spectrum(wave, flux, ivar, mask, medium="vacuum", meta=meta))
    return out


# --------------------------------------------------------------------------- Pickles


_PICKLES_WAVE = re.compile(r"^\s*(\d+\.\d)(?=[\s+-]|\d+\.\d{6})")
_PICKLES_VALUE = re.compile(r"\s*([-+]?\d*\.\d{6})")


def _pickles_row(line: str) -> list[float] | None:
    """One Pickles line as floats, or None.

    The files mix fixed-width Fortran (F7.1, F10.6...) where large values run into each
    other ('1150.0165.161285') with space-separated lines, so values are cut by their
    decimals (wavelength: 1, fluxes: 6) rather than by whitespace.
    """
    m = _PICKLES_WAVE.match(line)
    if not m:
        return None
    rest, values, pos = line[m.end() :], [float(m[1])], 0
    while pos < len(rest.rstrip()):
        v = _PICKLES_VALUE.match(rest, pos)
        if not v:
            return None
        values.append(float(v[1]))
        pos = v.end()
    return values if len(values) >= 2 else None


def _identify_pickles(probe: Probe) -> bool:
    lines = [ln for ln in probe.text_head if ln][:3]
    rows = [_pickles_row(ln) for ln in lines]
    # Structural: the UVILIB/UVKLIB grid starts at 1150 Å with a 5 Å step.
    return (
        len(rows) == 3
        and None not in rows
        and rows[0][0] == 1150.0
        and rows[1][0] - rows[0][0] == 5.0
    )


@lru_cache(maxsize=16)
def _pickles_readme_types(folder: Path) -> dict[str, str]:
    """File name -> MK type from a VizieR ReadMe beside the files ('b57v.dat  ... B5-7 V')."""
    for name in ("ReadMe", "README", "readme"):
        path = folder / name
        if path.is_file():
            break
    else:
        return {}
    table = {}
    pattern = re.compile(r"^(\w+\.dat)\s+\d+\s+\d+\s+(?:metal-(weak|rich)\s+)?(\S+)\s+(\S+)\s+\(")
    for line in path.read_text(errors="replace").splitlines():
        m = pattern.match(line)
        if m:
            table[m[1].lower()] = f"{m[3]}{m[4]}"
    return table


_PICKLES_NAME = re.compile(
    r"^(?:uk)?(?P<metal>[wr]?)(?P<cls>[obafgkm])(?P<num>\d+(?:p5)?)(?P<lum>i{1,3}|iv|v)$"
)


def pickles_type_from_name(filename: str) -> str | None:
    """MK type coded in a Pickles file name: 'a0v.dat' -> 'A0V', 'b57v.dat' -> 'B5-7V',
    'm2p5v.dat' -> 'M2.5V', 'm10iii.dat' -> 'M10III'; None when the name is not a type."""
    m = _PICKLES_NAME.match(Path(filename).name.lower().removesuffix(".dat"))
    if not m:
        return None
    num = m["num"].replace("p5", ".5")
    # Two digits are a range (b57 = B5-7) except M10, the only two-digit subtype.
    if len(num) == 2 and num != "10":
        num = f"{num[0]}-{num[1]}"
    return f"{m['cls'].upper()}{num}{m['lum'].upper()}"


def _read_pickles_columns(probe: Probe) -> np.ndarray:
    """Wavelength, flux[, σ] as an (n, 2|3) array (see `_pickles_row` for the line format)."""
    lines = [ln for ln in probe.path.read_text(errors="replace").splitlines() if ln.strip()]
    rows = [_pickles_row(ln) for ln in lines]
    bad = [i for i, r in enumerate(rows) if r is None]
    if bad:
        raise CorruptFileError(
            probe.path, f"line {bad[0] + 1} is not a Pickles row (wavelength, flux, σ ...)"
        )
    width = min(3, min(len(r) for r in rows))
    return np.array([r[:width] for r in rows], dtype=np.float64)


@register_reader("pickles", _identify_pickles, priority=50)
def read_pickles(probe: Probe) -> Spectrum:
    """Pickles (1998) ASCII: wavelength [Å], F_λ normalised at 5556 Å, σ, component spectra."""
    table = _read_pickles_columns(probe)
    wave, flux = table[:, 0], table[:, 1]
    ivar, mask = _uniform_weights(flux)
    if table.shape[1] >= 3:
        sigma = table[:, 2]
        good_sigma = np.isfinite(sigma) & (sigma > 0)
        # σ = 0 marks single-source stretches with no scatter estimate, not perfect data:
        # give them the median weight instead of masking them.
        fallback = np.median(1.0 / sigma[good_sigma] ** 2) if good_sigma.any() else 1.0
        ivar = np.where(good_sigma, 1.0 / np.where(good_sigma, sigma, 1.0) ** 2, fallback)
        ivar = np.where(mask, 0.0, ivar)
    name = probe.path.name.lower()
    readme = _pickles_readme_types(probe.path.parent.resolve())
    subclass = readme.get(name) or pickles_type_from_name(name)
    metal = {"w": "metal-weak", "r": "metal-rich"}.get(name.removeprefix("uk")[:1])
    meta = SpectrumMeta(
        id=probe.path.stem,
        survey="Pickles",
        subclass=subclass,
        resolution=PICKLES_RESOLUTION,
        path=str(probe.path),
        extra={"metallicity": metal} if metal else {},
    )
    # The Pickles library is compiled from air-wavelength sources.
    return Spectrum(wave, flux, ivar, mask, medium="air", meta=meta)


# --------------------------------------------------------------------------- MKCLASS

_MKCLASS_NAME = re.compile(r"^t(?P<t>\d{3})l(?P<l>\d{2})p(?P<p>\d{2})\.rbn$")
# MKCLASS codes (as in MKCLASS's code2spt / code2lum, mirrored by NutMaat encoding.py):
# temperature code 0 = O3 ... 16 = A0, 23 = F0, 30 = G0, 34 = K0, 40.7 = M0, 49.5 = M9;
# a code falls in the bin [edge_i, edge_i+1) of type i.
_T_EDGES = [
    -0.5,
    0.5,
    1.5,
    2.5,
    3.5,
    4.5,
    5.5,
    6.5,
    7.5,
    8.5,
    9.5,
    10.5,
    11.5,
    12.3,
    12.7,
    13.5,
    14.5,
    15.3,
    15.7,
    16.5,
    17.5,
    18.5,
    19.3,
    19.7,
    20.3,
    20.7,
    21.5,
    22.1,
    22.75,
    23.25,
    23.75,
    24.5,
    25.25,
    25.75,
    26.5,
    27.25,
    27.75,
    28.6,
    29.5,
    30.25,
    30.75,
    31.25,
    31.5,
    31.75,
    32.25,
    32.55,
    32.85,
    33.25,
    33.75,
    34.5,
    35.5,
    36.5,
    37.5,
    38.5,
    39.4,
    39.6,
    40.5,
    40.8,
    41.2,
    41.8,
    42.2,
    42.8,
    43.2,
    43.8,
    44.2,
    44.8,
    45.25,
    46.0,
    47.0,
    48.0,
    49.0,
    50.0,
]
_T_TYPES = (
    "O3 O4 O5 O6 O7 O8 O9 B0 B1 B2 B3 B4 B5 B6 B7 B8 B9 B9.5 A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 "
    "F0 F1 F2 F3 F4 F5 F6 F7 F8 F9 G0 G1 G2 G3 G4 G5 G6 G7 G8 G9 K0 K1 K2 K3 K4 K5 K6 K7 "
    "M0 M0.5 M1 M1.5 M2 M2.5 M3 M3.5 M4 M4.5 M5 M6 M7 M8 M9"
).split()
# luminosity code 0 = Ia, 1 = Ib, 2 = II, 3 = III, 4 = IV, 5 = V (halves are the in-betweens).
_L_EDGES = [-1.5, -0.5, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.25, 6.0]
_L_TYPES = "0 Ia Iab Ib Ib-II II II-III III III-IV IV IV-V V V-".split()


def _bin_label(code: float, edges: list[float], labels: list[str]) -> str | None:
    i = int(np.searchsorted(edges, code, side="right")) - 1
    return labels[i] if 0 <= i < len(labels) else None


def mkclass_type_from_name(filename: str) -> str | None:
    """MK type of an MKCLASS standard named tTTTlLLpPP.rbn: TTT/10 is MKCLASS's temperature
    code and LL/10 its luminosity code. 't030l50p00.rbn' -> 'O6V', 't200l30p00.rbn' -> 'A5III'."""
    m = _MKCLASS_NAME.match(Path(filename).name.lower())
    if not m:
        return None
    spt = _bin_label(int(m["t"]) / 10.0, _T_EDGES, _T_TYPES)
    lum = _bin_label(int(m["l"]) / 10.0, _L_EDGES, _L_TYPES)
    return None if spt is None or lum is None else f"{spt}{lum}"


def _identify_mkclass(probe: Probe) -> bool:
    if not _MKCLASS_NAME.match(probe.name.lower()):
        return False
    rows = numeric_rows(probe.text_head)
    return len(rows) >= 3 and all(len(r) == 2 for r in rows)


@register_reader("mkclass", _identify_mkclass, priority=50)
def read_mkclass(probe: Probe) -> Spectrum:
    """MKCLASS standard (.rbn): two columns, wavelength [Å] and normalised flux, 3800-5600 Å."""
    try:
        table = np.loadtxt(probe.path, ndmin=2)
    except ValueError as exc:
        raise CorruptFileError(probe.path, f"MKCLASS file has a non-numeric line: {exc}") from exc
    if table.shape[1] != 2:
        raise UnsupportedLayoutError(probe.path, f"expected 2 columns, found {table.shape[1]}")
    wave, flux = table[:, 0], table[:, 1]
    ivar, mask = _uniform_weights(flux)
    m = _MKCLASS_NAME.match(probe.name.lower())
    meta = SpectrumMeta(
        id=probe.path.stem,
        survey="MKCLASS",
        subclass=mkclass_type_from_name(probe.name),
        resolution=REFERENCE_WAVE_A / MKCLASS_FWHM_A,
        path=str(probe.path),
        extra={
            "fwhm_A": MKCLASS_FWHM_A,
            "mk_temperature_code": int(m["t"]) / 10.0,
            "mk_luminosity_code": int(m["l"]) / 10.0,
        },
    )
    # MK standards are classical ground-based spectra in air wavelengths.
    return Spectrum(wave, flux, ivar, mask, medium="air", meta=meta)
