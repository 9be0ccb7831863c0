"""Every split rule of spectype: grouping by star, train/val/test splits and hold-outs, all
seeded and index-based (class balancing by replication is in `balance.py`).

Real spectra are grouped by *star*, never by file: rows with the same name (LAMOST DESIG or
OBJNAME, SDSS/library star names, a simulation's SIM_STAR) or within 3″ of each other on the
sky share a group, so repeat observations of one star never straddle two splits.

Two orders exist:

* **split-then-replicate** (default, honest): rows are split by *group* (a source star, an
  observation, ...) stratified by class, so every spectrum of one group lands in one split;
  then only the training split is balanced by replicating row indices.
* **replicate-then-split** (the paper's order): every class is first replicated to N rows, then
  the replicas are split. Copies of one spectrum land in train *and* test, so the test score
  measures memorisation as well as generalisation. Packs built this way record `leaky=True`.

Replication never copies arrays: a split is an int64 array of row indices that may repeat.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .balance import balance_by_replication, replicate

SPLITS = ("train", "val", "test")
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
UNASSIGNED = 255
STAR_RADIUS_ARCSEC = 3.0
# Header cards naming the object, best first (LAMOST, other surveys, simulated FITS files).
STAR_NAME_CARDS = ("DESIG", "DESIGNATION", "OBJNAME", "STARNAME", "SIM_STAR")


@dataclass
class SplitPlan:
    """Row indices per split (sorted int64, may repeat for replicated splits) and notes."""

    indices: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)
    leaky: bool = False


# ----------------------------------------------------------------------------- groups: stars


def star_name(meta) -> str:
    """The star's name as a group key ('DESIG:LAMOST J0644...', 'SIM_STAR:HD2857'), '' if none.

    meta: a `SpectrumMeta`. The card name is kept in the key so that two surveys' names for
    different objects cannot collide.
    """
    if meta.designation:
        return f"DESIG:{str(meta.designation).strip()}"
    header = meta.header or {}
    for card in STAR_NAME_CARDS:
        value = header.get(card)
        if value not in (None, "", "0") and str(value).strip():
            return f"{card}:{str(value).strip()}"
    extra = meta.extra or {}
    name = extra.get("star") or extra.get("name")
    return f"star:{name}" if name else ""


def star_position(meta) -> tuple[float, float]:
    """(ra, dec) in degrees of the object (SDSS: PLUG_RA/DEC, not the plate centre), NaN if unknown."""
    ra, dec = meta.sky_position()
    if ra is None or dec is None or not (np.isfinite(ra) and np.isfinite(dec)):
        return float("nan"), float("nan")
    return float(ra), float(dec)


def star_groups(names, ra, dec, fallback, radius_arcsec: float = STAR_RADIUS_ARCSEC) -> np.ndarray:
    """One key per row: rows with the same star name, or within `radius_arcsec` of each other on
    the sky (friends-of-friends), share a key. The key is a name of the cluster where it has one
    (so keys from separately built sets agree), else the `fallback` of its first row (a unique
    per-row string such as path#index). names: (N,) str ('' = none); ra, dec: (N,) degrees."""
    names = ["" if n is None or n is pd.NA else str(n) for n in names]
    ra, dec = np.asarray(ra, np.float64), np.asarray(dec, np.float64)
    n = len(names)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra_, rb = find(a), find(b)
        if ra_ != rb:
            parent[max(ra_, rb)] = min(ra_, rb)

    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name:
            union(i, first.setdefault(name, i))
    ok = np.isfinite(ra) & np.isfinite(dec)
    if ok.sum() > 1:
        from scipy.spatial import cKDTree

        r, d = np.radians(ra[ok]), np.radians(dec[ok])
        xyz = np.c_[np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)]
        chord = 2 * np.sin(np.radians(radius_arcsec / 3600.0) / 2)
        idx = np.flatnonzero(ok)
        for a, b in cKDTree(xyz).query_pairs(chord):
            union(idx[a], idx[b])
    roots = [find(i) for i in range(n)]
    key: dict[int, str] = {}
    for i, r in enumerate(roots):
        if names[i] and r not in key:
            key[r] = names[i]
    return np.array([key.get(r, str(fallback[r])) for r in roots], dtype=str)


STAR_COLUMNS = ("star", "ra", "dec")


def group_keys(cat: pd.DataFrame, group_by: str | None = None) -> pd.Series:
    """Group key per catalogue row; rows sharing a key always land in the same split.

    `group_by` column, else a `group` column (the simulator's source star), else the star
    (`star`, `ra`, `dec` columns of `spectype catalog`: same name or within 3″), else the
    spectrum itself ('path#index', for catalogues written before stars were recorded).
    """
    own = cat["path"].astype("string") + "#" + cat["index"].astype("Int64").astype("string")
    if group_by and group_by not in cat.columns:
        raise ConfigError(f"group column {group_by!r} is not in the catalogue (columns: {list(cat.columns)})")
    col = group_by or ("group" if "group" in cat.columns else None)
    if col is None:
        if not set(STAR_COLUMNS) <= set(cat.columns):
            return own
        keys = star_groups(
            cat["star"].astype("string").fillna("").tolist(),
            cat["ra"].astype("float64").to_numpy(), cat["dec"].astype("float64").to_numpy(),
            own.fillna("").tolist(),
        )
        return pd.Series(keys, index=cat.index, dtype="string")
    # A row without a key is its own group; the others keep theirs (so replicas of one star
    # never straddle splits just because some other row lacks a key).
    key = cat[col].astype("string").replace("", pd.NA)
    return key.fillna(own)


def _check_fractions(fractions) -> np.ndarray:
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr < 0) or fr.sum() <= 0:
        raise ValueError(f"fractions must be three non-negative numbers (train, val, test), got {fractions}")
    return fr / fr.sum()


def _allocate_groups(sizes: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Split codes (0/1/2) for shuffled groups of the given row counts.

    A group goes to the split in which the midpoint of its cumulative row range falls, so row
    proportions follow `fr` even when groups differ in size. With >= 3 groups, val and test
    (when their fraction > 0) each get at least one group, taken from the end of train.
    """
    n = len(sizes)
    cum = np.cumsum(sizes)
    mid = (cum - sizes / 2.0) / cum[-1]
    edges = np.cumsum(fr)[:-1]
    codes = np.searchsorted(edges, mid, side="right").astype(np.uint8)
    if n >= 3:
        for code in (1, 2):
            if fr[code] > 0 and not np.any(codes == code):
                train_pos = np.flatnonzero(codes == 0)
                if len(train_pos) > 1:
                    codes[train_pos[-1]] = code
    return codes


def plan_split(
    labels: np.ndarray,
    groups: np.ndarray,
    fractions=(0.8, 0.1, 0.1),
    seed: int = 0,
) -> SplitPlan:
    """Grouped, class-stratified split of rows into train/val/test.

    labels: (N,) int class index per row. groups: (N,) group key per row (any hashable dtype).
    Each group is assigned whole to one split (no group is ever in two splits). A group's
    class is its most common label. Classes with 1-2 groups go entirely to train, noted.
    Returns sorted row indices per split.
    """
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    if labels.shape != groups.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and groups {groups.shape} must be equal 1D shapes")
    fr = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    if len(labels) == 0:
        return SplitPlan({s: np.zeros(0, np.int64) for s in SPLITS}, notes)

    # Group ids in first-appearance-independent (sorted) order, so results depend only on content.
    uniq_groups, group_of_row = np.unique(groups, return_inverse=True)
    n_groups = len(uniq_groups)
    sizes = np.bincount(group_of_row, minlength=n_groups)
    # Majority label per group (ties: lowest class index).
    n_cls = int(labels.max()) + 1
    counts = np.zeros((n_groups, n_cls), dtype=np.int64)
    np.add.at(counts, (group_of_row, labels), 1)
    group_label = counts.argmax(axis=1)
    mixed = int(np.sum((counts > 0).sum(axis=1) > 1))
    if mixed:
        notes.append(f"{mixed} group(s) hold rows of several classes; each is stratified by its majority class")

    group_split = np.zeros(n_groups, dtype=np.uint8)
    for cls in np.unique(group_label):
        gidx = np.flatnonzero(group_label == cls)
        if len(gidx) < 3:
            notes.append(
                f"class index {int(cls)} has only {len(gidx)} group(s): all go to train "
                "(val/test have none of this class)"
            )
            continue
        gidx = gidx[rng.permutation(len(gidx))]
        group_split[gidx] = _allocate_groups(sizes[gidx], fr)

    row_split = group_split[group_of_row]
    indices = {s: np.flatnonzero(row_split == c).astype(np.int64) for s, c in SPLIT_CODES.items()}
    return SplitPlan(indices, notes)


def split_groups(
    labels: np.ndarray, groups: np.ndarray, fractions=(0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, np.ndarray]:
    """Row indices per split ('train', 'val', 'test'), grouped and stratified; see `plan_split`.

    Notes about classes too small to split are emitted as `UserWarning`s.
    """
    plan = plan_split(labels, groups, fractions, seed)
    for note in plan.notes:
        warnings.warn(note, stacklevel=2)
    return plan.indices


def replicate_then_split(
    labels: np.ndarray, n_per_class: int, fractions=(0.8, 0.1, 0.1), seed: int = 0
) -> SplitPlan:
    """The paper's order: replicate each class to `n_per_class`, then split the replicas.

    Replicas are split per class at random, ignoring groups, so copies of one spectrum end up
    in several splits: the returned plan has `leaky=True` and a note saying so.
    """
    labels = np.asarray(labels)
    fr = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for c in np.unique(labels):
        rep = replicate(np.flatnonzero(labels == c).astype(np.int64), n_per_class, rng)
        rep = rep[rng.permutation(len(rep))]
        cuts = np.round(np.cumsum(fr)[:-1] * len(rep)).astype(int)
        for s, part in zip(SPLITS, np.split(rep, cuts), strict=True):
            out[s].append(part)
    indices = {
        s: np.sort(np.concatenate(v)) if v else np.zeros(0, np.int64) for s, v in out.items()
    }
    shared = len(np.intersect1d(indices["train"], indices["test"]))
    note = (
        "LEAKY split (replicate-then-split): copies of the same spectrum are in several "
        f"splits ({shared} rows appear in both train and test); test scores overstate "
        "generalisation"
    )
    return SplitPlan(indices, [note], leaky=True)


def plan_dataset_split(
    labels: np.ndarray, groups: np.ndarray, order: str = "split-then-replicate", balance: int = 0,
    fractions=(0.8, 0.1, 0.1), seed: int = 0,
) -> SplitPlan:
    """The split a pack is built with: grouped split then train topped up to `balance` rows per
    class (honest), or with order 'replicate-then-split' the paper's leaky order."""
    if order == "replicate-then-split":
        return replicate_then_split(labels, balance, fractions, seed)
    plan = plan_split(labels, groups, fractions, seed)
    if balance > 0:
        plan.indices["train"] = balance_by_replication(plan.indices["train"], labels, balance, seed)
    return plan


def row_split_codes(n_rows: int, indices: dict[str, np.ndarray]) -> np.ndarray:
    """(n_rows,) uint8 split code per row: the split holding most of its copies.

    Ties go to the earlier split (train < val < test); rows in no split get 255.
    """
    counts = np.zeros((n_rows, 3), dtype=np.int64)
    for s, c in SPLIT_CODES.items():
        counts[:, c] = np.bincount(indices[s], minlength=n_rows)[:n_rows]
    codes = counts.argmax(axis=1).astype(np.uint8)
    codes[counts.sum(axis=1) == 0] = UNASSIGNED
    return codes


# ----------------------------------------------------------------------------- other protocols


@dataclass
class GroupSplit:
    """Whole groups per split: keys (G,) sorted group keys, label (G,) majority label of each,
    split (G,) uint8 split code (see SPLIT_CODES)."""

    keys: np.ndarray
    label: np.ndarray
    split: np.ndarray
    notes: list[str] = field(default_factory=list)

    def groups(self, split: str, label: int | None = None) -> list[str]:
        """Sorted keys of the groups in `split` (and of majority class `label`, when given)."""
        sel = self.split == SPLIT_CODES[split]
        if label is not None:
            sel &= self.label == label
        return [str(k) for k in self.keys[sel]]


def plan_group_split(groups, labels, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> GroupSplit:
    """Split *groups* (stars), each counted once whatever its number of rows, stratified by
    its majority label (ties: the lower label). The LCGAN protocol holds out a fraction of
    each class's source stars this way."""
    keys, inverse = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    labels = np.asarray(labels, np.int64)
    counts = np.zeros((len(keys), int(labels.max(initial=0)) + 1), np.int64)
    np.add.at(counts, (inverse, labels), 1)
    majority = counts.argmax(1)
    plan = plan_split(majority, keys, fractions, seed)
    codes = row_split_codes(len(keys), plan.indices)
    return GroupSplit(keys, majority, codes, plan.notes)


def holdout_rows(groups, test_fraction: float, seed: int, exclude_groups=None) -> tuple[np.ndarray, np.ndarray]:
    """(train_rows, test_rows) of one class, split by group (rows weighted). Rows whose group
    is in `exclude_groups` (e.g. stars a GAN was trained on) always go to train.

    Raises ConfigError if fewer than 3 groups are free for testing.
    """
    groups = np.asarray(groups).astype(str)
    excluded = np.isin(groups, np.asarray(list(exclude_groups or []), dtype=str))
    free = np.flatnonzero(~excluded)
    if len(np.unique(groups[free])) < 3:
        raise ConfigError(
            f"only {len(np.unique(groups[free]))} group(s) are free for testing (need >= 3); "
            "add real spectra not used to train the GAN"
        )
    plan = plan_split(np.zeros(len(free), np.int64), groups[free], (1 - test_fraction, 0.0, test_fraction), seed)
    parts = plan.indices
    train = np.sort(np.concatenate([free[parts["train"]], np.flatnonzero(excluded)]))
    return train, np.sort(free[parts["test"]])


def training_indices(
    labels: np.ndarray, groups: np.ndarray, stored: dict[str, np.ndarray], *,
    split_seed: int | None = None, fractions=(0.8, 0.1, 0.1), max_per_class: int | None = None,
    balance: int | None = None, seed: int = 0,
) -> dict[str, np.ndarray]:
    """Row indices per split as a training run uses them.

    stored: the pack's own split (used when split_seed is None), else the pack's distinct rows
    are re-split by group with `split_seed`; then a seeded cap of `max_per_class` rows per
    class (every split); then replication of train only to `balance` rows per class.
    """
    if split_seed is None:
        parts = {s: np.asarray(stored[s], np.int64) for s in SPLITS}
    else:
        # Replication lives in the index arrays, so unique rows are the distinct spectra.
        rows = np.unique(np.concatenate([stored[s] for s in SPLITS])).astype(np.int64)
        # plan_split, not split_groups: its small-class notes were reported at pack build.
        local = plan_split(labels[rows], groups[rows], tuple(fractions), seed=split_seed).indices
        parts = {s: rows[local[s]] for s in SPLITS}
    if max_per_class is not None:
        rng = np.random.default_rng(seed)
        for s in SPLITS:
            idx, lab = parts[s], labels[parts[s]]
            keep = [
                np.sort(rng.choice(np.flatnonzero(lab == c), max_per_class, replace=False))
                if np.sum(lab == c) > max_per_class
                else np.flatnonzero(lab == c)
                for c in np.unique(lab)
            ]
            parts[s] = np.sort(idx[np.concatenate(keep)]) if keep else idx
    if balance is not None:
        parts["train"] = balance_by_replication(parts["train"], labels, balance, seed=seed)
    return parts
