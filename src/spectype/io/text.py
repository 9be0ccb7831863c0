"""Plain text spectra: columns wavelength, flux[, ivar], comma or whitespace separated.

A header line is optional; when present, columns are found by name (wavelength/wave/lambda,
flux, ivar, or error/sigma/err which is turned into ivar = 1/σ²). Without a header a table of
2 columns is (wavelength, flux) and of 3 columns (wavelength, flux, ivar). Lines starting
with '#' are comments. This is the lowest-priority reader: it claims only what no specific
reader does. Wavelengths are taken to be in Å and vacuum (text files do not say).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import SpectrumReadError
from ..spectrum import Spectrum, SpectrumMeta
from .registry import Probe, register_reader

_SPLIT = re.compile(r"[,\s]+")
_WAVE_NAMES = {"wavelength", "wave", "lambda", "wl", "lam", "angstrom", "wavelength_a"}
_FLUX_NAMES = {"flux", "f", "flux_density", "flam"}
_IVAR_NAMES = {"ivar", "inverse_variance", "invvar"}
_ERR_NAMES = {"error", "err", "sigma", "flux_err", "uncertainty", "noise"}


def _tokens(line: str) -> list[str]:
    return [t for t in _SPLIT.split(line.strip()) if t]


def _floats(tokens: list[str]) -> list[float] | None:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def _content_lines(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln and not ln.startswith(("#", ";", "%"))]


def numeric_rows(lines: list[str]) -> list[list[float]]:
    """The leading all-numeric rows of `lines` (comments skipped); [] if the first isn't numeric."""
    rows = []
    for line in _content_lines(lines):
        values = _floats(_tokens(line))
        if values is None:
            break
        rows.append(values)
    return rows


def _header_columns(line: str) -> dict[str, int] | None:
    """Column index of wavelength/flux/ivar/error from a header line, or None if it isn't one."""
    names = [t.strip("\"'").lower() for t in _tokens(line)]
    if _floats(names) is not None or not names:
        return None
    cols: dict[str, int] = {}
    for i, name in enumerate(names):
        base = name.split("[")[0].split("(")[0]
        for key, options in (
            ("wave", _WAVE_NAMES),
            ("flux", _FLUX_NAMES),
            ("ivar", _IVAR_NAMES),
            ("err", _ERR_NAMES),
        ):
            if base in options and key not in cols:
                cols[key] = i
    return cols if {"wave", "flux"} <= cols.keys() else None


def _layout(lines: list[str]) -> tuple[int, dict[str, int]] | None:
    """(rows to skip, column map) for a recognised text spectrum, else None."""
    content = _content_lines(lines)
    if not content:
        return None
    cols = _header_columns(content[0])
    data = content[1:] if cols else content
    rows = numeric_rows(data)
    # The head is cut at 2,880 bytes: its last line may be partial, so ignore it.
    if len(rows) < min(3, len(data)) or len(rows) < 2:
        return None
    widths = {len(r) for r in rows[:-1] or rows}
    if len(widths) != 1:
        return None
    width = widths.pop()
    if cols is None:
        if width not in (2, 3):
            return None
        cols = {"wave": 0, "flux": 1, **({"ivar": 2} if width == 3 else {})}
    if max(cols.values()) >= width:
        return None
    return (1 if _header_columns(content[0]) else 0), cols


def _identify(probe: Probe) -> bool:
    return _layout(probe.text_head) is not None


@register_reader("text", _identify, priority=0)
def read_text(probe: Probe) -> Spectrum:
    """Plain CSV/whitespace text: wavelength [Å], flux[, ivar] with an optional header line."""
    layout = _layout(probe.text_head)
    if layout is None:
        raise SpectrumReadError(
            probe.path, "not a text spectrum with columns wavelength, flux[, ivar]"
        )
    has_header, cols = layout
    try:
        raw = probe.path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpectrumReadError(probe.path, f"text file is not UTF-8: {exc}") from exc
    lines = _content_lines([ln.strip() for ln in raw.splitlines()])[has_header:]
    rows = [_floats(_tokens(ln)) for ln in lines]
    bad = [i for i, r in enumerate(rows) if r is None or len(r) <= max(cols.values())]
    if bad:
        raise SpectrumReadError(
            probe.path,
            f"line {bad[0] + 1 + has_header} of the data is not numeric or is short",
            "every data line needs the same numeric columns",
        )
    table = np.array([r[: max(cols.values()) + 1] for r in rows], dtype=np.float64)
    wave, flux = table[:, cols["wave"]], table[:, cols["flux"]]
    if "ivar" in cols:
        ivar = table[:, cols["ivar"]]
    elif "err" in cols:
        err = table[:, cols["err"]]
        ivar = np.where(err > 0, 1.0 / np.where(err > 0, err, 1.0) ** 2, 0.0)
    else:
        ivar = np.ones_like(flux)
    if wave.size > 1 and np.all(np.diff(wave) < 0):  # descending files are common
        wave, flux, ivar = wave[::-1], flux[::-1], ivar[::-1]
    ivar = np.where(np.isfinite(ivar) & (ivar > 0), ivar, 0.0)
    mask = ~np.isfinite(flux) | (ivar == 0)
    meta = SpectrumMeta(id=probe.path.stem, survey="text", path=str(probe.path))
    return Spectrum(wave, flux, ivar, mask, medium="vacuum", meta=meta)
