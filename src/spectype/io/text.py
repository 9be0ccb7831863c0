"""Plain text spectra: columns wavelength, flux[, ivar], comma or whitespace separated.

A header line is optional; when present, columns are found by name (wavelength/wave/lambda
or loglam, flux, ivar, error/sigma/err → ivar = 1/σ², variance → 1/var), and a name may carry
the wavelength unit: `wave [nm]`, `lambda(um)`, `wavelength_nm`, `wavelength (Angstrom)`.
Without a header a table of 2 columns is (wavelength, flux) and of 3 columns (wavelength,
flux, ivar). Lines starting with '#' are comments. Gzipped text (`.csv.gz`) is read the same
way (through the decompression cap). Without a unit, wavelengths are Å unless every value
lies within 250-1,500 (nm) or 0.25-1.5 (µm); `meta.extra['wavelength_unit']` records the
unit used and whether it was inferred. This is the lowest-priority reader: it claims only
what no specific reader does. Wavelengths are taken to be vacuum (text files do not say).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import CorruptFileError, NotASpectrumError
from ..spectrum import Spectrum, SpectrumMeta
from .columns import angstrom_per_unit, column_roles, infer_wave_unit
from .registry import Probe, register_reader

_SPLIT = re.compile(r"[,\s]+")


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


def _header_tokens(line: str) -> list[str]:
    """Column names of a header line: comma, tab or whitespace separated; a bracketed unit
    written after a space ('wave [nm]') stays with its name."""
    if "," in line:
        parts = line.split(",")
    elif "\t" in line:
        parts = line.split("\t")
    else:
        parts = []
        for tok in line.split():
            open_unit = parts and (parts[-1].count("[") > parts[-1].count("]")
                                   or parts[-1].count("(") > parts[-1].count(")"))
            if parts and (tok.startswith(("[", "(")) or open_unit):
                parts[-1] += " " + tok
            else:
                parts.append(tok)
    return [p.strip().strip("\"'").strip() for p in parts if p.strip()]


def _header_columns(line: str) -> tuple[dict[str, int], dict[str, str | None]] | None:
    """({role: column}, {role: unit}) from a header line, or None if it isn't one."""
    names = _header_tokens(line)
    if not names or _floats(names) is not None:
        return None
    cols, units = column_roles(names)
    if "flux" not in cols or not ({"wave", "loglam"} & cols.keys()):
        return None
    return cols, units


def _layout(lines: list[str]) -> tuple[int, dict[str, int], dict[str, str | None]] | None:
    """(rows to skip, column map, units from the header) for a recognised text spectrum."""
    content = _content_lines(lines)
    if not content:
        return None
    header = _header_columns(content[0])
    data = content[1:] if header else content
    rows = numeric_rows(data)
    # The head is cut at 2,880 bytes: its last line may be partial, so ignore it.
    if len(rows) < min(3, len(data)) or len(rows) < 2:
        return None
    widths = {len(r) for r in rows[:-1] or rows}
    if len(widths) != 1:
        return None
    width = widths.pop()
    if header is None:
        if width not in (2, 3):
            return None
        cols, units = {"wave": 0, "flux": 1, **({"ivar": 2} if width == 3 else {})}, {}
    else:
        cols, units = header
    if max(cols.values()) >= width:
        return None
    return (1 if header else 0), cols, units


def _identify(probe: Probe) -> bool:
    return _layout(probe.text_head) is not None


def weights_from_columns(table: np.ndarray, cols: dict[str, int]) -> np.ndarray:
    """ivar from an ivar, error (1/σ²) or variance (1/var) column; 1 without one."""
    n = table.shape[0]
    for role, power in (("ivar", None), ("err", 2.0), ("var", 1.0)):
        if role in cols:
            x = table[:, cols[role]]
            good = np.isfinite(x) & (x > 0)
            if power is None:
                return np.where(good, x, 0.0)
            return np.where(good, 1.0 / np.where(good, x, 1.0) ** power, 0.0)
    return np.ones(n)


def wavelength_in_angstrom(values: np.ndarray, unit, log: bool, path) -> tuple[np.ndarray, dict]:
    """(λ in Å, extra) from a wavelength (or log10 λ) column with an optional unit."""
    wave = 10.0 ** values if log else values
    extra: dict = {}
    if unit in (None, "") and wave.size and np.all(np.isfinite(wave)):
        guessed = infer_wave_unit(float(np.min(wave)), float(np.max(wave)))
        if guessed:
            unit, extra["wavelength_unit_inferred"] = guessed, True
    extra["wavelength_unit"] = str(unit) if unit not in (None, "") else "Angstrom"
    return wave * angstrom_per_unit(unit, path), extra


def build_table_spectrum(probe, table, cols, wave_unit, meta: SpectrumMeta) -> Spectrum:
    """Spectrum from an (n, k) float table and a role -> column map (shared by text/ECSV/FITS tables)."""
    log = "wave" not in cols
    wave, extra = wavelength_in_angstrom(table[:, cols["wave" if not log else "loglam"]], wave_unit,
                                         log, probe.path)
    flux = table[:, cols["flux"]]
    ivar = weights_from_columns(table, cols)
    if wave.size > 1 and np.all(np.diff(wave) < 0):  # descending files are common
        wave, flux, ivar = wave[::-1], flux[::-1], ivar[::-1]
    ivar = np.where(np.isfinite(ivar) & (ivar > 0) & np.isfinite(flux), ivar, 0.0)
    mask = ~np.isfinite(flux) | (ivar == 0)
    meta.extra.update(extra)
    return Spectrum(wave, flux, ivar, mask, medium="vacuum", meta=meta)


@register_reader("text", _identify, priority=0)
def read_text(probe: Probe) -> Spectrum:
    """Plain CSV/whitespace text (gzipped too): wavelength [Å, nm, µm], flux[, ivar|error]."""
    layout = _layout(probe.text_head)
    if layout is None:
        raise NotASpectrumError(
            probe.path, "not a text spectrum with columns wavelength, flux[, ivar]"
        )
    has_header, cols, units = layout
    lines = _content_lines([ln.strip() for ln in probe.text().splitlines()])[has_header:]
    rows = [_floats(_tokens(ln)) for ln in lines]
    bad = [i for i, r in enumerate(rows) if r is None or len(r) <= max(cols.values())]
    if bad:
        raise CorruptFileError(
            probe.path,
            f"line {bad[0] + 1 + has_header} of the data is not numeric or is short",
            "every data line needs the same numeric columns",
        )
    table = np.array([r[: max(cols.values()) + 1] for r in rows], dtype=np.float64)
    meta = SpectrumMeta(id=probe.path.name.split(".")[0], survey="text", path=str(probe.path))
    return build_table_spectrum(probe, table, cols, units.get("wave") or units.get("loglam"), meta)
