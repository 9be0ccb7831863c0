"""Labelled real spectra as arrays on the model grid, for the accuracy benchmark.

`load_labelled(paths)` reads files, directories or a catalogue (anything `spectype classify`
takes), keeps the spectra whose header/library type parses to one of the MK classes, and
preprocesses them once. Each row carries what the benchmark groups and bins by: the star
(`group`, so that two spectra of one star never straddle train and test), the data release and
the SNR. The arrays are cached in an .npz keyed by the file list and the preprocessing, so a
rerun with another model does not reread thousands of FITS files.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from ..datasets.split import star_groups, star_name, star_position
from ..errors import ConfigError
from ..labels import parse_label
from ..preprocess import PreprocessConfig

# Releases with fewer spectra than this are pooled into one cross-release test set ("other"),
# e.g. the handful of DR6/7/9/13 files in ../shared/data/lamost/misc.
MIN_RELEASE_SIZE = 50


@dataclass
class LabelledSet:
    """N labelled spectra on one grid. Arrays are row-aligned."""

    flux: np.ndarray  # (N, L) float32, normalised
    good: np.ndarray  # (N, L) bool, False where interpolated / uncovered
    ivar: np.ndarray  # (N, L) float32 on the normalised scale
    cls: np.ndarray  # (N,) str, one of labels.CLASSES
    code: np.ndarray  # (N,) float, O0=0 ... M9=69; NaN when the label had no subtype
    lum: np.ndarray  # (N,) str, '' when unknown
    snr: np.ndarray  # (N,) float: SNR in i, else g, else r (NaN when none)
    release: np.ndarray  # (N,) str: 'DR10', 'SDSS', 'MILES', ... ('other' = small releases pooled)
    group: np.ndarray  # (N,) str: the star (designation, object name, or position cluster)
    path: np.ndarray  # (N,) str
    index: np.ndarray  # (N,) int
    survey: np.ndarray  # (N,) str

    def __len__(self) -> int:
        return len(self.cls)

    def take(self, rows: np.ndarray) -> LabelledSet:
        return LabelledSet(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def save(self, path: str | os.PathLike) -> None:
        from ..atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelledSet:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{f.name: z[f.name] for f in fields(cls)})


def snr_of(meta) -> float:
    """The spectrum's SNR: i band, else g, else r (LAMOST SNRI/SNRG, SDSS SN_MEDIAN)."""
    snr = meta.snr or {}
    for band in ("i", "g", "r"):
        v = snr.get(band)
        if v is not None and np.isfinite(v) and v > 0:
            return float(v)
    return float("nan")


def _release(meta) -> str:
    if meta.survey == "LAMOST":
        return str(meta.data_release or "LAMOST-unknown")
    return str(meta.data_release or meta.survey or "unknown") if meta.survey != "SDSS" else "SDSS"


def read_chunk(items: list[tuple[str, int | None, str | None]], cfg_dict: dict) -> list[dict]:
    """Worker: read + label + preprocess [(path, index or None, label or None)] -> one dict per
    spectrum kept (or a dict with 'skip' saying why not)."""
    from ..io import read_all
    from ..preprocess import preprocess

    cfg = PreprocessConfig(**cfg_dict)
    out: list[dict] = []
    for path, want, label in items:
        try:
            spectra = read_all(path)
        except Exception as exc:  # a bad file is one skipped row, never a lost benchmark
            out.append({"path": path, "skip": f"{type(exc).__name__}: {exc}"})
            continue
        for i, spec in enumerate(spectra):
            if want is not None and i != want:
                continue
            m = spec.meta
            lab = parse_label(label) if label is not None else parse_label(m.subclass or "", m.obj_class)
            if not lab.ok:
                out.append({"path": path, "skip": f"label {m.subclass!r}: {lab.excluded or 'no class'}"})
                continue
            try:
                pre = preprocess(spec, cfg)
            except Exception as exc:
                out.append({"path": path, "skip": f"{type(exc).__name__}: {exc}"})
                continue
            ra, dec = star_position(m)
            out.append({
                "path": path, "index": i, "flux": pre.flux, "good": ~pre.bad, "ivar": pre.ivar,
                "cls": lab.cls, "code": np.nan if lab.code is None or not lab.has_subtype else lab.code,
                "lum": lab.lum_class or "", "snr": snr_of(m), "release": _release(m),
                "name": star_name(m), "ra": ra, "dec": dec, "survey": str(m.survey or ""),
            })
    return out


LABEL_COLUMNS = ("label", "mk_type", "subclass", "spectral_type")


@dataclass(frozen=True)
class ReadLabelled:
    """`parallel.map_files` task: one (path, index, label) item -> its `read_chunk` rows."""

    cfg: dict

    def __call__(self, item) -> list[dict]:
        return read_chunk([item], self.cfg)

    def failed(self, item, message: str) -> list[dict]:
        return [{"path": item[0], "skip": message}]


def _catalogue_items(p: Path) -> list[tuple[str, int | None, str | None]]:
    """A labelled catalogue: a `path` column, optional `index`, optional label column
    (the first of LABEL_COLUMNS present; otherwise the file's own header type is used)."""
    import pandas as pd

    cat = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
    if "path" not in cat.columns:
        raise ConfigError(f"{p}: a catalogue needs a 'path' column (and optionally 'index' and one of {LABEL_COLUMNS})")
    label_col = next((c for c in LABEL_COLUMNS if c in cat.columns), None)
    out = []
    for row in cat.to_dict("records"):  # dicts: a namedtuple's .index is a method
        q = Path(str(row["path"]))
        q = q if q.is_absolute() or q.exists() else p.parent / q
        idx = row.get("index")
        idx = None if idx is None or pd.isna(idx) else int(idx)
        lab = row[label_col] if label_col else None
        out.append((str(q), idx, None if lab is None or pd.isna(lab) else str(lab)))
    return out


def _csv_has_path(p: Path) -> bool:
    with open(p, errors="replace") as fh:
        return "path" in [c.strip() for c in fh.readline().split(",")]


def _items(paths) -> list[tuple[str, int | None, str | None]]:
    """(path, index or None for every spectrum in the file, label override or None)."""
    from ..io.discover import iter_spectrum_files

    out, plain = [], []
    for p in map(Path, paths):
        if p.is_file() and p.suffix == ".parquet" or (p.suffix == ".csv" and _csv_has_path(p)):
            out += _catalogue_items(p)
        else:
            plain.append(p)
    out += [(os.fsdecode(q), None, None) for q in iter_spectrum_files(plain, recursive=True)] if plain else []
    return out


def _cache_key(items, cfg: PreprocessConfig) -> str:
    h = hashlib.sha256(json.dumps([items, asdict(cfg)], sort_keys=True, default=str).encode())
    for path, *_ in items:  # a file rewritten in place must not reuse stale arrays
        try:
            st = os.stat(path)
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()[:16]


def load_labelled(
    paths, cfg: PreprocessConfig, cache_dir: str | os.PathLike | None = None,
    workers: int | None = None, progress: bool = True,
) -> tuple[LabelledSet, list[tuple[str, str]]]:
    """Read, label and preprocess every spectrum under `paths`. Returns the set and the
    (path, reason) of every spectrum or file that was skipped."""
    items = _items(paths)
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"labelled-{_cache_key(items, cfg)}.npz"
        if cache.exists():
            skipped = json.loads(cache.with_suffix(".skipped.json").read_text())
            return LabelledSet.load(cache), [tuple(s) for s in skipped]
    from ..parallel import map_files

    # The one batch engine (parallel/): a file that raises or kills its worker costs one
    # skipped row, never the benchmark.
    rows: list[dict] = []
    for _, res in map_files(ReadLabelled(asdict(cfg)), items, workers=workers or os.cpu_count() or 1,
                            progress=progress, label="reading", unit="files"):
        rows += res
    skipped = [(r["path"], r["skip"]) for r in rows if "skip" in r]
    kept = [r for r in rows if "skip" not in r]
    data = from_rows(kept, cfg.n_pix)
    if cache is not None:  # the skip list first: the npz's presence means both are whole
        from ..atomic import atomic_write_text

        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache.with_suffix(".skipped.json"), json.dumps(skipped))
        data.save(cache)
    return data, skipped


def from_rows(rows: list[dict], n_pix: int) -> LabelledSet:
    """Stack `read_chunk` rows; pools small releases and assigns star groups."""
    n = len(rows)
    col = lambda k, dt=object: np.array([r[k] for r in rows], dtype=dt)  # noqa: E731
    release = col("release", str) if n else np.zeros(0, str)
    survey = col("survey", str) if n else np.zeros(0, str)
    rel, counts = np.unique(release, return_counts=True)
    small = set(rel[counts < MIN_RELEASE_SIZE])
    # Small releases of a survey are pooled per survey (LAMOST DR6/7/9/13 -> 'LAMOST-other');
    # a survey's only release keeps its name (SDSS stays 'SDSS' however few).
    multi = {s for s in set(survey) if len(set(release[survey == s])) > 1}
    release = np.array([f"{s}-other" if r in small and s in multi else r for r, s in zip(release, survey, strict=True)], dtype=str)
    ra = col("ra", float) if n else np.zeros(0)
    dec = col("dec", float) if n else np.zeros(0)
    return LabelledSet(
        flux=np.stack([r["flux"] for r in rows]).astype(np.float32) if n else np.zeros((0, n_pix), np.float32),
        good=np.stack([r["good"] for r in rows]) if n else np.zeros((0, n_pix), bool),
        ivar=np.stack([r["ivar"] for r in rows]).astype(np.float32) if n else np.zeros((0, n_pix), np.float32),
        cls=col("cls", str) if n else np.zeros(0, str),
        code=col("code", float) if n else np.zeros(0),
        lum=col("lum", str) if n else np.zeros(0, str),
        snr=col("snr", float) if n else np.zeros(0),
        release=release,
        group=star_groups([r["name"] for r in rows], ra, dec, [f'{r["path"]}#{r["index"]}' for r in rows]),
        path=col("path", str) if n else np.zeros(0, str),
        index=col("index", np.int64) if n else np.zeros(0, np.int64),
        survey=survey,
    )


@dataclass
class MethodOutput:
    """What a benchmark method predicts for a LabelledSet (benchmark/methods.py)."""

    proba: np.ndarray  # (N, K) over CLASSES
    code: np.ndarray | None = None  # (N,) numeric type, when the method gives one
    code_err: np.ndarray | None = None
    lum: np.ndarray | None = None  # (N,) str
    ood: np.ndarray | None = None  # (N,) bool: unlike every training class
