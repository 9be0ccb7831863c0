"""The one canonical spectrum record.

Every reader returns `Spectrum`; everything downstream (preprocessing, catalogues, the
simulator, classify) takes it. Arrays are 1D numpy arrays of equal length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Medium = Literal["vacuum", "air"]
C_KMS = 299_792.458


@dataclass
class SpectrumMeta:
    """What we know about a spectrum besides its arrays.

    id: survey object/observation id (LAMOST OBSID, SDSS plate-mjd-fiber, library star name).
    survey: 'LAMOST', 'SDSS', 'STELIB', 'Pickles', 'BOSS-templates', 'MKCLASS', 'text', ...
    data_release: e.g. 'DR10' when the header says so.
    obj_class: header CLASS (STAR, QSO, GALAXY, ...), when there is one.
    subclass: the raw spectral-type string: LAMOST/SDSS SUBCLASS or a library's MK type.
    snr: per-band SNRs, keys 'u','g','r','i','z' (LAMOST SNRU... / SDSS SN_MEDIAN).
    z: redshift as given by the survey pipeline (heliocentric), if any.
    rv: radial velocity in km/s, if given instead of z.
    resolution: the instrument's resolving power R (lambda / FWHM), if known.
    path: the file it came from; index: the HDU row / extension inside that file when a file
    holds several spectra.
    ra, dec: the object's position in degrees (ICRS/FK5 as the survey gives it), when known;
    readers may leave them None, `sky_position()` then reads the header.
    obsid, designation: the survey's observation id and object name, when it has them.
    flux_unit: the flux unit as an astropy unit string ('' = relative / dimensionless).
    header: the primary (and for tables, metadata) header cards as a plain dict.
    extra: anything else a reader or the simulator wants to record (source star, parameters).
    """

    id: str = ""
    survey: str | None = None
    data_release: str | None = None
    obj_class: str | None = None
    subclass: str | None = None
    snr: dict[str, float] = field(default_factory=dict)
    z: float | None = None
    rv: float | None = None
    resolution: float | None = None
    path: str | None = None
    index: int | None = None
    header: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    ra: float | None = None
    dec: float | None = None
    obsid: str | None = None
    designation: str | None = None
    flux_unit: str = ""

    # Header cards for the object's position, best first. SDSS spec files put the plate
    # centre in RA/DEC and the object in PLUG_RA/PLUG_DEC; LAMOST puts the object in RA/DEC.
    _RA_CARDS = ("PLUG_RA", "RA_OBJ", "RA")
    _DEC_CARDS = ("PLUG_DEC", "DEC_OBJ", "DEC")

    def sky_position(self) -> tuple[float | None, float | None]:
        """(ra, dec) in degrees from the fields, else from the header; None when unknown."""
        if self.ra is not None and self.dec is not None:
            return float(self.ra), float(self.dec)
        for ra_key, dec_key in zip(self._RA_CARDS, self._DEC_CARDS, strict=True):
            ra, dec = _header_float(self.header, ra_key), _header_float(self.header, dec_key)
            if ra is not None and dec is not None:
                return ra, dec
        return None, None

    def obsid_text(self) -> str | None:
        """The survey's observation id: OBSID (LAMOST), else plate-mjd-fiber (SDSS id)."""
        if self.obsid is not None:
            return str(self.obsid)
        if self.header.get("OBSID") is not None:
            return str(self.header["OBSID"])
        if (self.survey or "").upper() in ("SDSS", "BOSS") and self.id:
            return str(self.id)
        return None

    def designation_text(self) -> str | None:
        """The object's name as the survey writes it (LAMOST DESIG), when there is one."""
        if self.designation is not None:
            return str(self.designation)
        for key in ("DESIG", "DESIGNATION", "OBJNAME"):
            value = self.header.get(key)
            if value not in (None, ""):
                return str(value).strip()
        return None

    @property
    def velocity_kms(self) -> float | None:
        """Line-of-sight velocity in km/s from rv, else from z (relativistic-free, v = cz)."""
        if self.rv is not None:
            return float(self.rv)
        if self.z is not None:
            return float(self.z) * C_KMS
        return None


@dataclass(eq=False)
class Spectrum:
    """A 1D spectrum.

    wavelength: Å, strictly increasing. medium: whether those wavelengths are in vacuum or air.
    flux: in the survey's units (relative for most of our inputs).
    ivar: inverse variance of flux; 0 marks a pixel with no information (None: all 1).
    mask: True where the pixel is bad (survey mask bits, ivar 0, non-finite) (None: none).

    `Spectrum(wave, flux)` is enough for an array you made yourself.
    """

    wavelength: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray | None = None
    mask: np.ndarray | None = None
    medium: Medium = "vacuum"
    meta: SpectrumMeta = field(default_factory=SpectrumMeta)

    def __post_init__(self) -> None:
        self.wavelength = np.asarray(self.wavelength, dtype=np.float64)
        self.flux = np.asarray(self.flux, dtype=np.float64)
        if self.flux.ndim != 1:
            raise ValueError(f"Spectrum.flux has shape {self.flux.shape}, expected one dimension")
        n = self.flux.shape[0]
        self.ivar = (
            np.ones(n) if self.ivar is None else np.asarray(self.ivar, dtype=np.float64)
        )
        self.mask = (
            np.zeros(n, dtype=bool) if self.mask is None else np.asarray(self.mask, dtype=bool)
        )
        for name in ("wavelength", "ivar", "mask"):
            arr = getattr(self, name)
            if arr.ndim != 1 or arr.shape[0] != n:
                raise ValueError(
                    f"Spectrum.{name} has shape {arr.shape}, expected ({n},) like flux"
                )
        if self.medium not in ("vacuum", "air"):
            raise ValueError(f"medium must be 'vacuum' or 'air', got {self.medium!r}")

    def __len__(self) -> int:
        return int(self.flux.shape[0])

    @property
    def good(self) -> np.ndarray:
        """Pixels usable for science: not masked, finite flux, positive ivar."""
        return ~self.mask & np.isfinite(self.flux) & (self.ivar > 0)

    @property
    def wave_range(self) -> tuple[float, float]:
        return float(self.wavelength[0]), float(self.wavelength[-1])

    def __repr__(self) -> str:
        lo, hi = self.wave_range if len(self) else (float("nan"), float("nan"))
        return (
            f"Spectrum(id={self.meta.id!r}, survey={self.meta.survey!r}, "
            f"subclass={self.meta.subclass!r}, n={len(self)}, {lo:.0f}-{hi:.0f} Å {self.medium})"
        )


def _header_float(header: dict[str, Any], key: str) -> float | None:
    value = header.get(key)
    try:
        out = float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None
    return out if out is not None and np.isfinite(out) else None
