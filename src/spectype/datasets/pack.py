"""Build one HDF5 pack from a catalogue, and read it back (`Pack`).

Pack layout (format_version 1), N rows stored once each:

    flux (N, n_pix) float32      ivar (N, n_pix) float32     wavelength (n_pix,) float64
    label (N,) int64             code (N,) float32           snr_i (N,) float32
    id, path, group (N,) str     index (N,) int64            split (N,) uint8 (0/1/2, 255 none)
    indices/train|val|test       int64 row indices; may repeat rows (replication)
    attrs: class_names, params, dropped, notes (JSON), leaky (bool), spectype_version,
           format_version, n_dropped

Rows are in (path, index) order. Everything follows from the catalogue, the parameters and
the seed, so two builds with the same inputs hold identical arrays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import ConfigError
from .select import Selection, select_rows
from .split import SPLITS, plan_dataset_split, row_split_codes

FORMAT_VERSION = 1
SPLIT_ORDERS = ("split-then-replicate", "replicate-then-split")
MAX_DROPPED_LISTED = 1000
log = logging.getLogger("spectype.datasets")


@dataclass
class DatasetConfig:
    """Every choice that shapes a pack (recorded in its `params` attr)."""

    classes: list[str] | None = None
    snr_band: str = "i"
    min_snr: float | None = 10.0
    keep_no_snr: bool = False
    min_coverage: float = 0.95
    max_per_class: int | None = None
    min_per_class: int = 1
    group_by: str | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    balance: int = 0
    split_order: str = "split-then-replicate"
    seed: int = 0
    preprocess: dict = field(default_factory=dict)  # PreprocessConfig fields; {} = defaults

    def __post_init__(self) -> None:
        if self.split_order not in SPLIT_ORDERS:
            raise ConfigError(f"split_order must be one of {SPLIT_ORDERS}, got {self.split_order!r}")
        if self.split_order == "replicate-then-split" and self.balance <= 0:
            raise ConfigError("replicate-then-split needs --balance N > 0 (the count to replicate to)")
        self.fractions = tuple(float(f) for f in self.fractions)

    def preprocess_config(self):
        from ..preprocess import PreprocessConfig

        return PreprocessConfig(**self.preprocess)


@dataclass
class BuildResult:
    path: Path
    class_names: list[str]
    n_rows: int
    split_counts: dict[str, dict[str, int]]  # split -> class -> rows (with replication)
    n_dropped: int
    cuts: dict[str, int]
    notes: list[str]
    leaky: bool


def model_grid(cfg) -> np.ndarray:
    """(n_pix,) float64 wavelengths in Å of a PreprocessConfig's model grid."""
    return np.asarray(cfg.grid(), dtype=np.float64)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- building


def _str_array(values) -> np.ndarray:
    return np.asarray(["" if v is None or v != v else str(v) for v in values], dtype=object)


def write_pack_rows(
    h5,
    *,
    wavelength: np.ndarray,
    labels: np.ndarray,
    class_names: list[str],
    indices: dict[str, np.ndarray],
    ids,
    paths,
    groups,
    index,
    codes,
    snr_i,
    params: dict,
    notes: list[str] | None = None,
    dropped: list | None = None,
    leaky: bool = False,
    extra_strings: dict[str, list[str]] | None = None,
) -> None:
    """Everything of a pack except `flux` and `ivar`: per-row arrays, split indices, attributes.

    The one place the pack layout (format_version 1) is written: build_dataset, the simulator
    and tests call it, so the layout cannot drift between writers. `extra_strings` adds
    per-row string datasets that `Pack` ignores (the simulator's `kind`, `sim_meta`).
    """
    import h5py

    from .._version import __version__

    n = len(labels)
    h5.create_dataset("wavelength", data=np.asarray(wavelength, np.float64))
    h5.create_dataset("label", data=np.asarray(labels, np.int64))
    h5.create_dataset("code", data=np.asarray(codes, np.float64).astype(np.float32))
    h5.create_dataset("snr_i", data=np.asarray(snr_i, np.float64).astype(np.float32))
    h5.create_dataset("index", data=np.asarray(index, np.int64))
    sdt = h5py.string_dtype()
    for name, values in {"id": ids, "path": paths, "group": groups, **(extra_strings or {})}.items():
        h5.create_dataset(name, data=_str_array(values), dtype=sdt)
    h5.create_dataset("split", data=row_split_codes(n, indices))
    for s in SPLITS:
        h5.create_dataset(f"indices/{s}", data=np.asarray(indices[s], np.int64))
    dropped = dropped or []
    h5.attrs["class_names"] = json.dumps(list(class_names))
    h5.attrs["params"] = json.dumps(params, sort_keys=True, default=str)
    h5.attrs["dropped"] = json.dumps(dropped[:MAX_DROPPED_LISTED])
    h5.attrs["n_dropped"] = len(dropped)
    h5.attrs["notes"] = json.dumps(notes or [])
    h5.attrs["leaky"] = bool(leaky)
    h5.attrs["spectype_version"] = __version__
    h5.attrs["format_version"] = FORMAT_VERSION


def row_chunks(n_rows: int, n_pix: int) -> tuple[int, int]:
    """HDF5 chunk shape of a pack's flux/ivar: up to 16 whole spectra (a reader takes rows)."""
    return max(1, min(16, n_rows)), n_pix


def write_pack(path: str | os.PathLike, flux: np.ndarray, ivar: np.ndarray | None = None, **rows) -> Path:
    """Write a whole pack atomically from in-memory arrays (see `write_pack_rows` for `rows`)."""
    import h5py

    flux = np.asarray(flux, np.float32)
    ivar = np.ones_like(flux) if ivar is None else np.asarray(ivar, np.float32)
    chunks = row_chunks(*flux.shape)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.create_dataset("flux", data=flux, chunks=chunks)
        h5.create_dataset("ivar", data=ivar, chunks=chunks)
        write_pack_rows(h5, **rows)
    return Path(path)


def build_dataset(
    catalog_path: str | os.PathLike,
    out: str | os.PathLike,
    config: DatasetConfig | None = None,
    workers: int | None = None,
    progress: bool = False,
    compression: str | None = None,
) -> BuildResult:
    """Select rows of a catalogue, preprocess them, split, balance and pack into one HDF5 file.

    Spectra that fail preprocessing are dropped and listed in the `dropped` attr. The split
    is computed on the rows that survive. Written atomically. With
    `split_order='replicate-then-split'` the pack is marked `leaky` and a warning is logged.
    """
    import h5py

    from ..catalog import read_catalog

    config = config or DatasetConfig()
    catalog_path = Path(catalog_path)
    cat = read_catalog(catalog_path)
    sel: Selection = select_rows(
        cat, classes=config.classes, snr_band=config.snr_band, min_snr=config.min_snr,
        keep_no_snr=config.keep_no_snr, min_coverage=config.min_coverage,
        max_per_class=config.max_per_class, min_per_class=config.min_per_class,
        group_by=config.group_by, seed=config.seed,
    )
    rows = sel.rows
    if len(rows) == 0:
        raise ConfigError(
            f"{catalog_path}: no rows pass the selection (cuts: {sel.cuts}); "
            "relax --min-snr / --min-coverage, or add --keep-no-snr for libraries"
        )
    cfg = config.preprocess_config()
    n_pix = int(cfg.n_pix)
    items = [(i, str(p), int(x)) for i, (p, x) in enumerate(zip(rows["path"], rows["index"], strict=True))]

    notes = list(sel.notes)
    dropped: list[tuple[str, str]] = []
    kept: list[int] = []
    out = Path(out)
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as h5:
        kw = dict(chunks=row_chunks(len(rows), n_pix), maxshape=(None, n_pix), compression=compression)
        dflux = h5.create_dataset("flux", shape=(0, n_pix), dtype="float32", **kw)
        divar = h5.create_dataset("ivar", shape=(0, n_pix), dtype="float32", **kw)
        buf_f: list[np.ndarray] = []
        buf_i: list[np.ndarray] = []

        def flush() -> None:
            if buf_f:
                n0 = dflux.shape[0]
                for ds, buf in ((dflux, buf_f), (divar, buf_i)):
                    ds.resize(n0 + len(buf), axis=0)
                    ds[n0:] = np.stack(buf)
                buf_f.clear()
                buf_i.clear()

        from ..parallel import map_files
        from .preprocess_task import PreprocessRows

        rows_out = map_files(PreprocessRows(cfg), items, workers=workers, progress=progress,
                             label="preprocessing", unit="spectra")
        for _item, (pos, flux, ivar, reason) in rows_out:
            if reason is not None:
                dropped.append((items[pos][1] + f"[{items[pos][2]}]", reason))
                continue
            kept.append(pos)
            buf_f.append(flux)
            buf_i.append(ivar)
            if len(buf_f) >= 256:
                flush()
        flush()
        if not kept:
            raise ConfigError(
                f"{catalog_path}: every selected spectrum failed preprocessing; first: {dropped[:3]}"
            )
        packed = rows.iloc[kept].reset_index(drop=True)
        labels = packed["label"].to_numpy(np.int64)
        # Classes whose every row was dropped must not remain as empty label slots.
        present = sorted(set(labels.tolist()))
        if len(present) < len(sel.class_names):
            gone = [c for i, c in enumerate(sel.class_names) if i not in present]
            notes.append(f"classes with every spectrum dropped in preprocessing: {gone}")
            remap = {old: new for new, old in enumerate(present)}
            labels = np.array([remap[v] for v in labels], dtype=np.int64)
            class_names = [sel.class_names[i] for i in present]
        else:
            class_names = list(sel.class_names)
        groups = packed["group"].astype(str).to_numpy()
        plan = plan_dataset_split(
            labels, groups, config.split_order, config.balance, config.fractions, config.seed
        )
        notes += plan.notes
        if plan.leaky:
            msg = (
                "LEAKY EVALUATION: split order replicate-then-split puts copies of the same "
                "spectrum in train and test; test accuracy will be inflated. Use the default "
                "split-then-replicate for honest numbers."
            )
            log.warning(msg)
            warnings.warn(msg, stacklevel=2)

        params = {
            **{k: v for k, v in asdict(config).items() if k != "preprocess"},
            "preprocess": asdict(cfg),
            "catalog": str(catalog_path.resolve()),
            "catalog_sha256": file_sha256(catalog_path),
            "cuts": sel.cuts,
            "compression": compression,
        }
        write_pack_rows(
            h5, wavelength=model_grid(cfg), labels=labels, class_names=class_names,
            indices=plan.indices, ids=packed["id"], paths=packed["path"], groups=packed["group"],
            index=packed["index"].to_numpy(np.int64),
            codes=packed["code"].to_numpy(np.float64, na_value=np.nan),
            snr_i=packed["snr_i"].to_numpy(np.float64, na_value=np.nan),
            params=params, notes=notes, dropped=dropped, leaky=plan.leaky,
        )

    split_counts = {
        s: {c: int(np.sum(labels[plan.indices[s]] == i)) for i, c in enumerate(class_names)}
        for s in SPLITS
    }
    return BuildResult(out, class_names, len(packed), split_counts, len(dropped), sel.cuts, notes, plan.leaky)


# ----------------------------------------------------------------------------- reading


class Pack:
    """Read-only view of a pack's small arrays and attributes (flux stays on disk).

    Pack(path).class_names, .n_pix, .wavelength (n_pix,), .labels (N,), .groups (N,),
    .ids (N,), .snr_i (N,), .params (dict), .leaky, .notes, .dropped, .indices(split), len().
    """

    def __init__(self, path: str | os.PathLike):
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(f"pack not found: {self.path} (build one with `spectype build-dataset`)")
        try:
            with h5py.File(self.path, "r") as h5:
                a = h5.attrs
                if "format_version" not in a:
                    raise ConfigError(f"{self.path}: not a spectype pack (no format_version attr)")
                if int(a["format_version"]) > FORMAT_VERSION:
                    raise ConfigError(
                        f"{self.path}: pack format {int(a['format_version'])} is newer than this "
                        f"spectype reads ({FORMAT_VERSION}); upgrade spectype"
                    )
                self.class_names: list[str] = json.loads(a["class_names"])
                self.params: dict = json.loads(a["params"])
                self.leaky = bool(a["leaky"])
                self.notes: list[str] = json.loads(a["notes"])
                self.dropped: list = json.loads(a["dropped"])
                self.n_dropped = int(a["n_dropped"])
                self.format_version = int(a["format_version"])
                self.spectype_version = str(a["spectype_version"])
                self.wavelength = h5["wavelength"][:]
                self.labels = h5["label"][:]
                self.codes = h5["code"][:]
                self.snr_i = h5["snr_i"][:]
                self.split = h5["split"][:]
                self.groups = h5["group"].asstr()[:]
                self.ids = h5["id"].asstr()[:]
                self.paths = h5["path"].asstr()[:]
                self.row_index = h5["index"][:]
                self._indices = {s: h5[f"indices/{s}"][:] for s in SPLITS}
                self.n_pix = int(h5["flux"].shape[1])
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot open as HDF5 ({exc}); rebuild the pack") from exc

    def __len__(self) -> int:
        return len(self.labels)

    def indices(self, split: str) -> np.ndarray:
        """Row indices (int64, sorted, may repeat) of 'train', 'val' or 'test'."""
        if split not in self._indices:
            raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
        return self._indices[split].copy()

    def read_flux(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), n_pix) float32 flux for the given rows (any order, repeats allowed)."""
        import h5py

        rows = np.asarray(rows, dtype=np.int64)
        uniq, inv = np.unique(rows, return_inverse=True)
        with h5py.File(self.path, "r") as h5:
            data = h5["flux"][uniq] if len(uniq) else np.zeros((0, self.n_pix), np.float32)
        return data[inv]

    def __repr__(self) -> str:
        sizes = {s: len(v) for s, v in self._indices.items()}
        return f"Pack({str(self.path)!r}, rows={len(self)}, classes={self.class_names}, splits={sizes}, leaky={self.leaky})"
