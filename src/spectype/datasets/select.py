"""Choosing catalogue rows for a dataset: status, class, SNR and coverage cuts, per-class caps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..labels import CLASSES as CANONICAL_CLASSES
from .split import group_keys

SNR_BANDS = ("u", "g", "r", "i", "z")


@dataclass
class Selection:
    """The chosen rows (a catalogue slice with `label` and `group` columns) and what was cut."""

    rows: pd.DataFrame
    class_names: list[str]
    cuts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def select_rows(
    cat: pd.DataFrame,
    classes: list[str] | None = None,
    snr_band: str = "i",
    min_snr: float | None = 10.0,
    keep_no_snr: bool = False,
    min_coverage: float = 0.95,
    max_per_class: int | None = None,
    min_per_class: int = 1,
    group_by: str | None = None,
    seed: int = 0,
) -> Selection:
    """Apply the dataset cuts to a catalogue, in order, counting what each removes.

    status == 'ok' -> class in `classes` (default: every class present, canonical order) ->
    SNR in `snr_band` > `min_snr` (rows without that SNR, e.g. libraries, pass only with
    `keep_no_snr`) -> coverage >= `min_coverage` -> classes with fewer than `min_per_class`
    rows dropped -> at most `max_per_class` rows per class (seeded random choice).
    Rows come back sorted by (path, index) with int `label` (index into class_names) and `group`.
    """
    if snr_band not in SNR_BANDS:
        raise ConfigError(f"snr band must be one of {SNR_BANDS}, got {snr_band!r}")
    cuts: dict[str, int] = {}
    notes: list[str] = []
    df = cat.copy()
    df["group"] = group_keys(df, group_by).to_numpy()

    def cut(name: str, keep: pd.Series | np.ndarray) -> None:
        nonlocal df
        keep = np.asarray(keep, dtype=bool)
        cuts[name] = int((~keep).sum())
        df = df[keep]

    cut("status_not_ok", df["status"] == "ok")
    present = [c for c in CANONICAL_CLASSES if (df["cls"] == c).any()]
    present += sorted(set(df["cls"].dropna()) - set(present))
    if classes:
        unknown = [c for c in classes if c not in CANONICAL_CLASSES]
        if unknown:
            raise ConfigError(f"unknown classes {unknown}; choose from {','.join(CANONICAL_CLASSES)}")
        missing = [c for c in classes if c not in present]
        if missing:
            notes.append(f"requested classes with no usable rows were dropped: {missing}")
        class_names = [c for c in classes if c in present]
    else:
        class_names = present
    cut("class_not_selected", df["cls"].isin(class_names))

    if min_snr is not None:
        snr = df[f"snr_{snr_band}"].astype("float64")
        has = snr.notna().to_numpy()
        passes = (snr > min_snr).fillna(False).to_numpy(dtype=bool)
        # Rows without the SNR (libraries) fail this cut unless keep_no_snr.
        cut(f"snr_{snr_band}_le_{min_snr:g}", passes | (~has & keep_no_snr))
    cov = df["coverage"].astype("float64").fillna(0.0)
    cut(f"coverage_lt_{min_coverage:g}", cov >= min_coverage)

    counts = df["cls"].value_counts()
    small = [c for c in class_names if counts.get(c, 0) < max(min_per_class, 1)]
    if small:
        what = "no rows" if min_per_class <= 1 else f"fewer than {min_per_class} rows"
        notes.append(
            f"classes with {what} left after the cuts were dropped: "
            + ", ".join(f"{c} ({int(counts.get(c, 0))})" for c in small)
        )
        class_names = [c for c in class_names if c not in small]
    cut("class_too_small", df["cls"].isin(class_names))

    df = df.sort_values(["path", "index"], kind="stable").reset_index(drop=True)
    if max_per_class:
        rng = np.random.default_rng(seed)
        keep = np.zeros(len(df), dtype=bool)
        for c in class_names:
            idx = np.flatnonzero(df["cls"].to_numpy() == c)
            if len(idx) > max_per_class:
                idx = rng.choice(idx, size=max_per_class, replace=False)
            keep[idx] = True
        cut("over_max_per_class", keep)
        df = df.reset_index(drop=True)

    lookup = {c: i for i, c in enumerate(class_names)}
    df["label"] = df["cls"].map(lookup).astype("int64")
    return Selection(df, class_names, cuts, notes)
