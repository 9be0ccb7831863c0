"""Train/val/test splits and class balancing, all seeded and index-based.

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

SPLITS = ("train", "val", "test")
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
UNASSIGNED = 255


@dataclass
class SplitPlan:
    """Row indices per split (sorted int64, may repeat for replicated splits) and notes."""

    indices: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)
    leaky: bool = False


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


def _replicate(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`idx` repeated to exactly n entries: whole copies, then a seeded sample of the rest.

    Whole copies first keep replication even (every row appears floor(n/len) or ceil times).
    Classes already at or above n are returned unchanged (the paper only tops up).
    """
    if len(idx) == 0 or len(idx) >= n:
        return idx
    reps, rest = divmod(n, len(idx))
    extra = rng.choice(idx, size=rest, replace=False)
    return np.concatenate([np.tile(idx, reps), extra])


def balance_by_replication(
    indices: np.ndarray, labels: np.ndarray, n_per_class: int, seed: int = 0
) -> np.ndarray:
    """Top up every class among `indices` to `n_per_class` rows by repeating row indices.

    indices: (M,) row indices (e.g. the train split). labels: (N,) labels of *all* rows.
    Classes with >= n_per_class rows are kept as they are. Returns sorted int64 indices
    (a row may repeat). n_per_class <= 0 returns `indices` sorted.
    """
    indices = np.sort(np.asarray(indices, dtype=np.int64))
    if n_per_class <= 0 or len(indices) == 0:
        return indices
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    lab = labels[indices]
    parts = [_replicate(indices[lab == c], n_per_class, rng) for c in np.unique(lab)]
    return np.sort(np.concatenate(parts))


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
        rep = _replicate(np.flatnonzero(labels == c).astype(np.int64), n_per_class, rng)
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
