"""Last resort: let specutils read a file no spectype reader recognises.

Registered at the lowest priority, and only when specutils is installed. It claims every
file that reaches it, so its failure is what the user sees: `UnknownFormatError`, "no reader
recognises this file", with specutils' own complaint as the hint. The file has already
passed spectype's checks (regular file, size cap, FITS structure) before specutils opens
it, so a bomb or a FIFO never reaches specutils. Only 1D results are accepted (a 2D
specutils result is an `UnsupportedLayoutError`).
"""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np

from ..errors import SpectypeError, UnknownFormatError, UnsupportedLayoutError
from .registry import Probe, list_readers, register_reader


def _available(_probe: Probe) -> bool:
    # SPECTYPE_SPECUTILS_FALLBACK=0 turns the fallback off: specutils tries each of its ~30
    # loaders' identifiers on a file, and each reparses a FITS file (seconds per broken file).
    if os.environ.get("SPECTYPE_SPECUTILS_FALLBACK", "1") == "0":
        return False
    return importlib.util.find_spec("specutils") is not None


def _unknown(probe: Probe, why: str) -> UnknownFormatError:
    names = ", ".join(r.name for r in list_readers() if r.name != "specutils")
    return UnknownFormatError(
        probe.path, "no reader recognises this file",
        f"supported: {names}; specutils could not read it either: {why}",
    )


@register_reader("specutils", _available, priority=-100)
def read_with_specutils(probe: Probe):
    """Anything specutils reads (Spectrum1D.read), converted to a spectype Spectrum."""
    from .specutils_adapter import _specutils, from_specutils

    if probe.is_fits:
        probe.structure  # noqa: B018 - truncated/corrupt FITS gets its precise error first
    else:
        probe.data  # noqa: B018 - the size cap applies before specutils opens the file
    _, cls = _specutils()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s1d = cls.read(str(probe.path))
    except Exception as exc:  # specutils raises many types when no loader fits
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unknown(probe, first[:200]) from exc
    flux = np.asarray(getattr(s1d.flux, "value", s1d.flux))
    if flux.ndim == 2 and flux.shape[0] == 1:
        s1d = s1d[0]
    elif flux.ndim != 1:
        raise UnsupportedLayoutError(
            probe.path, f"specutils read a {flux.ndim}-D spectrum of shape {flux.shape}",
            "spectype classifies 1D spectra; split it into one spectrum per file",
        )
    try:
        spec = from_specutils(s1d)
    except SpectypeError as exc:
        raise UnsupportedLayoutError(probe.path, str(exc)) from exc
    except Exception as exc:
        raise UnsupportedLayoutError(
            probe.path, f"specutils result could not be converted: {type(exc).__name__}: {exc}"
        ) from exc
    spec.meta.path = str(probe.path)
    spec.meta.id = spec.meta.id or probe.path.name.split(".")[0]
    spec.meta.survey = spec.meta.survey or "specutils"
    spec.meta.extra["read_by"] = "specutils"
    return spec
