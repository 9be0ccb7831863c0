"""Catalogue: scan spectrum files into one table row per spectrum, with a status per row.

Workers (processes, or Ray tasks: `spectype.parallel.map_files`) read chunks of files and
return small row dicts, never arrays, so the scan's memory does not grow with the number of
files. A file that cannot be read, or that kills its worker, becomes one row with status
'error' and the message; the scan always goes on.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .errors import ConfigError
from .io.registry import read_with_format
from .labels import CLASSES as CANONICAL_CLASSES
from .spectrum import Spectrum

# Column -> pandas dtype. Strings are pandas "string"; floats float64 with NaN; the two
# integer columns are nullable because an unreadable file has no index or pixel count.
CATALOG_COLUMNS: dict[str, str] = {
    "path": "string",
    "path_hex": "string",  # exact bytes of a non-UTF-8 file name, hex (else null)
    "index": "Int64",
    "format": "string",
    "id": "string",
    "star": "string",  # the star's name as a split-group key (datasets.split.star_name)
    "ra": "float64",  # the object's position, degrees: spectra within 3" are one star
    "dec": "float64",
    "survey": "string",
    "data_release": "string",
    "obj_class": "string",
    "subclass": "string",
    "cls": "string",
    "code": "float64",
    "lum_class": "string",
    "excluded": "string",
    "snr_u": "float64",
    "snr_g": "float64",
    "snr_r": "float64",
    "snr_i": "float64",
    "snr_z": "float64",
    "z": "float64",
    "rv": "float64",
    "medium": "string",
    "wave_min": "float64",
    "wave_max": "float64",
    "n_pix": "Int64",
    "coverage": "float64",
    "status": "string",
    "error": "string",
}
STATUSES = ("ok", "excluded", "error")

ReadFn = Callable[[str], "tuple[str, list[Spectrum]]"]


# ----------------------------------------------------------------------------- one file


def _nan(x) -> float:
    try:
        return float(x) if x is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _default_config():
    from .preprocess import PreprocessConfig

    return PreprocessConfig()


def spectrum_row(spec: Spectrum, path: str, index: int, fmt: str, cfg=None) -> dict:
    """Catalogue row (a plain dict, no arrays) for one spectrum."""
    from .datasets.split import star_name, star_position
    from .labels import parse_label
    from .preprocess import coverage_fraction

    m = spec.meta
    ra, dec = star_position(m)
    row: dict = {
        "path": path,
        "index": index,
        "format": fmt,
        "id": str(m.id) if m.id is not None else None,
        "star": star_name(m) or None,
        "ra": ra,
        "dec": dec,
        "survey": m.survey,
        "data_release": m.data_release,
        "obj_class": m.obj_class,
        "subclass": m.subclass,
        "z": _nan(m.z),
        "rv": _nan(m.rv),
        "medium": spec.medium,
        "n_pix": len(spec),
        "status": "ok",
        "error": None,
    }
    for band in "ugriz":
        row[f"snr_{band}"] = _nan((m.snr or {}).get(band))
    good = spec.good
    wave = spec.wavelength[good] if good.any() else spec.wavelength
    row["wave_min"] = float(wave[0]) if len(wave) else math.nan
    row["wave_max"] = float(wave[-1]) if len(wave) else math.nan
    try:
        row["coverage"] = float(coverage_fraction(spec, cfg if cfg is not None else _default_config()))
    except Exception as exc:  # a coverage failure is a fact about the row, not a scan failure
        row["coverage"] = math.nan
        row["error"] = f"coverage: {type(exc).__name__}: {exc}"
    lab = parse_label(m.subclass or "", m.obj_class)  # never raises (fuzz-tested)
    row.update(cls=lab.cls, code=_nan(lab.code), lum_class=lab.lum_class)
    if lab.excluded:
        row.update(status="excluded", excluded=str(lab.excluded))
    elif not lab.cls:
        row.update(status="excluded", excluded=f"no usable MK class in {m.subclass!r}")
    return row


def error_row(path: str, message: str) -> dict:
    return {"path": path, "status": "error", "error": message}


def catalog_file(path: str, read_fn: ReadFn | None = None) -> list[dict]:
    """Rows for every spectrum in one file; one 'error' row if the file cannot be read."""
    # Import astropy first: on import its logger replaces warnings.showwarning, which would
    # silently undo the recording below for the first file a process reads.
    import astropy.io.fits  # noqa: F401

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fmt, spectra = (read_fn or read_with_format)(path)
        except Exception as exc:
            msg = str(exc) if path in str(exc) else f"{path}: {type(exc).__name__}: {exc}"
            # Library warnings often say why (astropy: "File may have been truncated").
            hints = sorted({str(w.message) for w in caught})[:3]
            if hints:
                msg += " [warnings: " + "; ".join(hints) + "]"
            return [error_row(path, msg)]
    if not spectra:
        return [error_row(path, f"{path}: the file holds no spectra")]
    rows = []
    for i, spec in enumerate(spectra):
        try:
            rows.append(spectrum_row(spec, path, i, fmt))
        except Exception as exc:
            rows.append({**error_row(path, f"{path}[{i}]: {type(exc).__name__}: {exc}"), "index": i})
    return rows


@dataclass(frozen=True)
class CatalogTask:
    """`spectype.parallel.map_files` task of the scan: a path -> its catalogue rows."""

    read_fn: ReadFn | None = None

    def __call__(self, path: str) -> list[dict]:
        return catalog_file(path, self.read_fn)

    def failed(self, path: str, message: str) -> list[dict]:
        return [error_row(path, f"{path}: {message}")]


# ----------------------------------------------------------------------------- many files


def expand_paths(paths: Iterable[str | os.PathLike], recursive: bool = True) -> list[str]:
    """Files to scan, by the IO discovery rules (`io.discover`)."""
    from .io.discover import iter_spectrum_files

    return sorted({str(p) for p in iter_spectrum_files(list(paths), recursive=recursive)})


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows -> DataFrame with the stable catalogue columns and dtypes, sorted by (path, index)."""
    # A non-UTF-8 file name cannot go into Parquet/CSV as is: show it readably in `path` and
    # keep its exact bytes in `path_hex` (spectype.batch.paths; issue 14).
    from .batch.paths import display_text, path_hex

    rows = [{k: display_text(v) if isinstance(v, str) else v for k, v in r.items()}
            | {"path_hex": path_hex(r["path"]) if isinstance(r.get("path"), str) else None} for r in rows]
    df = pd.DataFrame.from_records(rows, columns=list(CATALOG_COLUMNS))
    for col, dtype in CATALOG_COLUMNS.items():
        if dtype == "float64":
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        else:
            df[col] = df[col].astype(dtype)
    return df.sort_values(["path", "index"], kind="stable", na_position="first").reset_index(drop=True)


def scan(
    paths: Iterable[str | os.PathLike],
    workers: int | None = None,
    use_ray: bool = False,
    progress: bool = False,
    recursive: bool = True,
    chunk_size: int | None = None,
    read_fn: ReadFn | None = None,
) -> pd.DataFrame:
    """Catalogue every spectrum under `paths` (files and directories).

    workers: processes (default: CPU count; 1 = in this process). use_ray: Ray tasks instead
    (joins RAY_ADDRESS when set; `workers` then caps the tasks at once). chunk_size: files per
    unit of work (default: `spectype.parallel.chunk_size`). The engine is `map_files`.
    read_fn: `path -> (format, [Spectrum])`, default `read_with_format` (must be picklable).
    Returns a DataFrame with `CATALOG_COLUMNS`, one row per spectrum, sorted by (path, index).
    """
    from .parallel import map_files

    files = expand_paths(paths, recursive=recursive)
    rows: list[dict] = []
    for _path, file_rows in map_files(CatalogTask(read_fn), files, backend="ray" if use_ray else "local",
                                      workers=workers, chunk=chunk_size, progress=progress,
                                      label="cataloguing"):
        rows.extend(file_rows)
    return to_frame(rows)


# ----------------------------------------------------------------------------- output


def write_catalog(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write atomically as Parquet, or CSV when the name ends in .csv (or .csv.gz)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.name.endswith((".csv", ".csv.gz")):
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return path


def read_catalog(path: str | os.PathLike) -> pd.DataFrame:
    """Read a catalogue written by `write_catalog`, restoring the column dtypes."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"catalogue not found: {path} (make one with `spectype catalog DIR -o {path.name}`)")
    if path.name.endswith((".csv", ".csv.gz")):
        strings = {c: "string" for c, t in CATALOG_COLUMNS.items() if t == "string"}
        df = pd.read_csv(path, dtype=strings)
    else:
        df = pd.read_parquet(path)
    missing = [c for c in ("path", "index", "status", "cls", "coverage") if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: not a spectype catalogue (missing columns {missing})")
    for col, dtype in CATALOG_COLUMNS.items():
        if col in df.columns:
            df[col] = df[col].astype(dtype)
    return df


def summarize(df: pd.DataFrame) -> dict:
    """Counts: files, spectra, per status, per class (ok rows), errors per message head."""
    status = df["status"].value_counts()
    per_class = df.loc[df["status"] == "ok", "cls"].value_counts()
    order = [c for c in CANONICAL_CLASSES if c in per_class] + sorted(set(per_class.index) - set(CANONICAL_CLASSES))
    return {
        "files": int(df["path"].nunique()),
        "spectra": int((df["status"] != "error").sum()),
        "status": {s: int(status.get(s, 0)) for s in STATUSES},
        "classes_ok": {str(c): int(per_class[c]) for c in order},
        "surveys": {str(k): int(v) for k, v in df["survey"].value_counts(dropna=False).items()},
    }
