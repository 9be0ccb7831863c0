"""Class balancing by replicating row indices (never arrays), seeded."""

from __future__ import annotations

import numpy as np


def replicate(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
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
    parts = [replicate(indices[lab == c], n_per_class, rng) for c in np.unique(lab)]
    return np.sort(np.concatenate(parts))
