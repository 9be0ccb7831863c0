"""The result table behind an inspect session: loading, derived columns, order and filters.

Only `path`, `index` and `pred_class` are required; every other classify column (probabilities,
runner-up, flags, header type, SNR, coordinates, model columns) is shown when present. Nothing
here reads a spectrum: a 100,000-row table costs one Parquet read and a few vector ops.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError

REQUIRED = ("path", "index", "pred_class")
KEY = ("path", "index")

ORDERS = ("table", "confidence", "class", "flag", "disagreement", "random")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a classify result table (.parquet or .csv); raise ConfigError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: result table not found; pass the output of `spectype classify`")
    if path.suffix == ".csv":
        df = pd.read_csv(path)
    elif path.suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        raise ConfigError(f"{path}: expected a .parquet or .csv result table")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path}: result table lacks column(s) {', '.join(missing)}; "
            "inspect needs the table written by `spectype classify`"
        )
    return df


def load_results(
    results: str | os.PathLike, catalog: str | os.PathLike | None = None
) -> pd.DataFrame:
    """The result table with relative paths resolved against its folder, derived columns added,
    and, if given, a catalogue's extra columns joined on (path, index) or path."""
    results = Path(results)
    df = read_table(results).reset_index(drop=True)
    df["path"] = df["path"].astype(str)
    df["index"] = pd.to_numeric(df["index"], errors="coerce").fillna(0).astype(int)
    if catalog is not None:
        df = join_catalog(df, catalog)
    # `path_hex` (classify's exact bytes for names that are not UTF-8) wins over the display text.
    hexes = df["path_hex"] if "path_hex" in df.columns else pd.Series([None] * len(df))
    df["_file"] = [_resolve(os.fsdecode(bytes.fromhex(h)) if isinstance(h, str) and h else p, results.parent)
                   for p, h in zip(df["path"], hexes, strict=True)]
    return add_derived(df)


def join_catalog(df: pd.DataFrame, catalog: str | os.PathLike) -> pd.DataFrame:
    """Left-join a catalogue's columns that the result table does not already have."""
    cat_path = Path(catalog)
    cat = pd.read_parquet(cat_path) if cat_path.suffix == ".parquet" else pd.read_csv(cat_path)
    if "path" not in cat.columns:
        raise ConfigError(f"{cat_path}: catalogue has no `path` column to join on")
    cat = cat.copy()
    cat["path"] = cat["path"].astype(str)
    on = ["path", "index"] if "index" in cat.columns else ["path"]
    if "index" in cat.columns:
        cat["index"] = pd.to_numeric(cat["index"], errors="coerce").fillna(0).astype(int)
    extra = [c for c in cat.columns if c not in df.columns]
    if not extra:
        return df
    cat = cat.drop_duplicates(subset=on)
    return df.merge(cat[on + extra], on=on, how="left", validate="many_to_one")


def _resolve(p: str, base: Path) -> str:
    q = Path(p)
    if q.is_absolute() or q.exists():
        return str(q)
    return str(base / q)


def _header_class(row_sub, row_cls) -> str | None:
    from ..labels import parse_label

    lab = parse_label(row_sub, row_cls if isinstance(row_cls, str) else None)
    return lab.cls if lab.ok else None


def add_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Columns the filters need: `_header_cls` (parsed header type), `_disagree`, `_flagged`,
    `_bad` (error status or no prediction)."""
    if "header_subclass" in df.columns:
        sub = df["header_subclass"]
        cls = df["header_class"] if "header_class" in df.columns else pd.Series([None] * len(df))
        # Parse each distinct (subclass, class) pair once: 100,000 rows hold a few hundred.
        pairs = pd.Series(list(zip(sub.astype(object), cls.astype(object), strict=True)))
        cache = {p: _header_class(*p) for p in dict.fromkeys(pairs)}
        df["_header_cls"] = pairs.map(cache).to_numpy()
    else:
        df["_header_cls"] = None
    pred = df["pred_class"].astype(object)
    hdr = df["_header_cls"]
    df["_disagree"] = hdr.notna().to_numpy() & pred.notna().to_numpy() & (hdr != pred).to_numpy()
    flag_cols = [c for c in df.columns if c.startswith("flag_")]
    df["_flagged"] = df[flag_cols].fillna(False).astype(bool).any(axis=1) if flag_cols else False
    status_bad = df["status"].astype(str).ne("ok") if "status" in df.columns else False
    df["_bad"] = pred.isna() | status_bad
    return df


@dataclass
class View:
    """How rows are ordered and which are shown. `cls` filters on pred_class, `flag` on a
    `flag_*` column (or 'any'), `disagree` keeps header disagreements, `sample` draws a random
    subset of that size (seeded) for an unbiased spot-check."""

    order: str = "table"
    cls: str | None = None
    flag: str | None = None
    disagree: bool = False
    sample: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ConfigError(f"unknown order {self.order!r}; use one of {', '.join(ORDERS)}")


def apply_view(df: pd.DataFrame, view: View) -> np.ndarray:
    """Positions (into df) of the rows to show, in the order to show them."""
    keep = np.ones(len(df), dtype=bool)
    if view.cls:
        keep &= df["pred_class"].astype(str).str.upper().eq(view.cls.upper()).to_numpy()
    if view.flag:
        if view.flag == "any":
            keep &= df["_flagged"].to_numpy(bool)
        else:
            col = view.flag if view.flag.startswith("flag_") else f"flag_{view.flag}"
            if col not in df.columns:
                flags = [c[5:] for c in df.columns if c.startswith("flag_")]
                raise ConfigError(f"no column {col}; flags in this table: {', '.join(flags) or 'none'}")
            keep &= df[col].fillna(False).astype(bool).to_numpy()
    if view.disagree:
        keep &= df["_disagree"].to_numpy(bool)
    pos = np.flatnonzero(keep)
    rng = np.random.default_rng(view.seed)
    if view.sample is not None and view.sample < len(pos):
        pos = np.sort(rng.choice(pos, size=view.sample, replace=False))
    sub = df.iloc[pos]
    if view.order == "table":
        return pos
    if view.order == "random":
        return rng.permutation(pos)
    if view.order == "confidence":
        prob = sub["pred_prob"] if "pred_prob" in sub.columns else pd.Series(np.nan, index=sub.index)
        key = prob.fillna(-1.0).to_numpy(float)  # rows without a probability (errors) first
        return pos[np.argsort(key, kind="stable")]
    if view.order == "class":
        from ..labels import CLASSES

        rank = {c: i for i, c in enumerate(CLASSES)}
        key = sub["pred_class"].map(lambda c: rank.get(c, len(CLASSES))).to_numpy(float)
        return pos[np.argsort(key, kind="stable")]
    if view.order == "flag":
        return pos[np.argsort(~sub["_flagged"].to_numpy(bool), kind="stable")]
    # disagreement: header disagreements first, then the rest in table order
    return pos[np.argsort(~sub["_disagree"].to_numpy(bool), kind="stable")]
