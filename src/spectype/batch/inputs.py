"""What to classify: files, folders (recursive), HDF5 packs and catalogues.

A catalogue (.parquet/.csv with a `path` column) is honoured, not just mined for paths:
- with an `index` column, only the listed (path, index) spectra are classified;
- rows whose `status` is not `ok` (the catalogue excluded them, or could not read them) are
  not classified: they get an output row with status `excluded` and the catalogue's reason;
- its other columns pass through to the output (`keep_columns`: "all", "none" or a list).
Every path is made absolute first, so the same folder given twice, or once relative and once
absolute, yields each spectrum once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .items import FileTask, Item
from .paths import absolute

CATALOGUE_SUFFIXES = (".parquet", ".csv")
PACK_SUFFIXES = (".h5", ".hdf5")
# Output columns a catalogue column must not overwrite: it is renamed cat_<name> instead.
_RESULT_COLUMNS = {
    "path", "path_hex", "index", "id", "obsid", "designation", "ra", "dec", "survey",
    "header_class", "header_subclass", "pred_class", "pred_prob", "runner_up", "runner_up_prob",
    "snr", "z", "coverage", "status", "error",
}


@dataclass
class Inputs:
    resolved: list[str] = field(default_factory=list)  # the inputs as given, made absolute
    tasks: list[FileTask] = field(default_factory=list)  # spectrum files (absolute), in order
    packs: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)  # files a catalogue names (absolute)
    excluded: list[Item] = field(default_factory=list)  # catalogue rows not to classify
    extra: dict[tuple[str, int | None], dict] = field(default_factory=dict)  # pass-through columns

    @property
    def files(self) -> list[str]:
        return [t.path for t in self.tasks]

    def drop_own_files(self, output: Path) -> None:
        """Forget files a folder scan found that this run writes itself (the output, its part
        files, lock and plots), so `-o folder/results.csv` can be resumed."""
        own = {os.path.realpath(output), os.path.realpath(str(output) + ".lock")}
        own_dirs = (os.path.realpath(str(output) + ".parts") + os.sep,
                    os.path.realpath(output.with_name(output.stem + "_plots")) + os.sep)
        self.tasks = [t for t in self.tasks
                      if os.path.realpath(t.path) not in own and not os.path.realpath(t.path).startswith(own_dirs)]

    def extra_for(self, path: str | None, index: int) -> dict:
        return self.extra.get((path, index)) or self.extra.get((path, None)) or {}


def is_pack(path: Path) -> bool:
    return Path(path).suffix.lower() in PACK_SUFFIXES


def is_catalogue(p: Path) -> bool:
    if p.suffix.lower() not in CATALOGUE_SUFFIXES or not p.is_file():
        return False
    try:
        if p.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return "path" in pq.read_schema(p).names
        with open(p, encoding="utf-8", errors="replace") as fh:
            return "path" in fh.readline().strip().split(",")
    except Exception:
        return False


def expand_inputs(paths, keep_columns: str | list[str] | None = "all") -> Inputs:
    """Resolve command-line inputs into files to read (see module doc)."""
    from ..io.discover import iter_spectrum_files

    out = Inputs()
    seen: dict[str, FileTask] = {}

    def add(task: FileTask) -> None:
        if task.path in seen:
            prev = seen[task.path]
            if prev.indices is None or task.indices is None:
                prev.indices = None
            else:
                prev.indices = tuple(sorted(set(prev.indices) | set(task.indices)))
            return
        seen[task.path] = task
        out.tasks.append(task)

    for raw in paths:
        p = Path(absolute(raw))
        out.resolved.append(str(p))
        if p.is_file() and is_pack(p):
            out.packs.append(str(p))
        elif is_catalogue(p):
            _add_catalogue(p, out, add, keep_columns)
        else:
            for f in iter_spectrum_files([p], recursive=True):
                add(FileTask(absolute(f)))
    return out


def _add_catalogue(cat_path: Path, out: Inputs, add, keep_columns) -> None:
    try:
        cat = pd.read_parquet(cat_path) if cat_path.suffix.lower() == ".parquet" else pd.read_csv(cat_path)
    except Exception as exc:
        raise ConfigError(f"{cat_path}: cannot read the catalogue ({type(exc).__name__}: {exc})") from None
    base = cat_path.parent
    paths = []
    hexes = cat["path_hex"] if "path_hex" in cat.columns else [None] * len(cat)
    for q, h in zip(cat["path"].astype(str), hexes, strict=True):
        # path_hex: the exact bytes of a non-UTF-8 name (`path` only shows it readably).
        q = Path(os.fsdecode(bytes.fromhex(h))) if isinstance(h, str) and h else Path(q)
        paths.append(absolute(q if q.is_absolute() or q.exists() else base / q))
    has_index = "index" in cat.columns
    indices = [int(i) for i in cat["index"]] if has_index else [None] * len(cat)
    if "status" in cat.columns:
        status = cat["status"].astype(str).str.strip().str.lower()
        ok = (status == "ok").to_numpy()
    else:
        status, ok = None, [True] * len(cat)
    keep = _kept_columns(cat, keep_columns, cat_path)
    records = cat[keep].to_dict("records") if keep else [{}] * len(cat)
    wanted: dict[str, list[int] | None] = {}
    out.listed.extend(dict.fromkeys(paths))
    for r, (path, index) in enumerate(zip(paths, indices, strict=True)):
        extra = {_out_name(k): _plain(v) for k, v in records[r].items()}
        out.extra[(path, index)] = extra
        if not ok[r]:
            why = _reason(cat.iloc[r], status.iloc[r])
            out.excluded.append(Item(path=path, index=index if index is not None else 0,
                                     excluded=f"excluded by the catalogue {cat_path.name}: {why}",
                                     extra=extra))
            continue
        if index is None:
            wanted[path] = None
        elif path not in wanted or wanted[path] is not None:
            wanted.setdefault(path, []).append(index)
    for path, idx in wanted.items():
        add(FileTask(path, None if idx is None else tuple(sorted(set(idx)))))


def _reason(row: pd.Series, status: str) -> str:
    for col in ("excluded", "error"):
        if col in row and isinstance(row[col], str) and row[col]:
            return f"status={status}, {row[col]}"
    return f"status={status}"


def _kept_columns(cat: pd.DataFrame, keep_columns, cat_path: Path) -> list[str]:
    candidates = [c for c in cat.columns if c not in ("path", "path_hex", "index")]
    if keep_columns in (None, "none", "", []):
        return []
    if keep_columns == "all":
        return candidates
    wanted = [c.strip() for c in keep_columns.split(",")] if isinstance(keep_columns, str) else list(keep_columns)
    missing = [c for c in wanted if c not in cat.columns]
    if missing:
        raise ConfigError(
            f"{cat_path}: --keep-columns names {missing} but the catalogue's columns are "
            f"{list(cat.columns)}"
        )
    return [c for c in wanted if c not in ("path", "index")]


def _out_name(name: str) -> str:
    name = str(name)
    if name in _RESULT_COLUMNS or name.startswith(("prob_", "model_", "flag_")):
        return f"cat_{name}"
    return name


def _plain(v):
    """numpy scalars -> Python values (Parquet part files need one type per column)."""
    if hasattr(v, "item") and not isinstance(v, (list, dict, str, bytes)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return v
    return v
