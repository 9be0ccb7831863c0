"""Splits: grouped (no leakage), stratified, seeded; replication only in train; the leaky order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectype.datasets.split import (
    SPLITS,
    balance_by_replication,
    plan_split,
    replicate_then_split,
    row_split_codes,
    split_groups,
)


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=200),
    n_groups=st.integers(1, 60),
    seed=st.integers(0, 2**16),
)
def test_no_group_in_two_splits(labels, n_groups, seed):
    labels = np.array(labels)
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=len(labels)).astype(str)
    plan = plan_split(labels, groups, seed=seed)
    seen = [set(groups[plan.indices[s]]) for s in SPLITS]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    # every row lands in exactly one split
    allrows = np.concatenate([plan.indices[s] for s in SPLITS])
    assert np.array_equal(np.sort(allrows), np.arange(len(labels)))


def test_stratified_proportions_and_determinism():
    labels = np.repeat(np.arange(3), [500, 300, 200])
    groups = np.arange(len(labels)).astype(str)
    a = split_groups(labels, groups, seed=3)
    b = split_groups(labels, groups, seed=3)
    c = split_groups(labels, groups, seed=4)
    for s in SPLITS:
        assert np.array_equal(a[s], b[s])
    assert not np.array_equal(a["test"], c["test"])
    for cls, n in enumerate([500, 300, 200]):
        got = [np.sum(labels[a[s]] == cls) for s in SPLITS]
        assert abs(got[0] - 0.8 * n) <= 2 and abs(got[1] - 0.1 * n) <= 2 and abs(got[2] - 0.1 * n) <= 2


def test_groups_of_several_spectra_stay_together_and_fractions_hold():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 5).astype(str)  # 5 augmented copies per source star
    labels = np.repeat(rng.integers(0, 2, 200), 5)
    idx = split_groups(labels, groups, seed=1)
    sizes = np.array([len(idx[s]) for s in SPLITS]) / len(labels)
    assert np.allclose(sizes, [0.8, 0.1, 0.1], atol=0.03)


def test_tiny_classes_go_to_train_with_a_note():
    labels = np.array([0] * 30 + [1, 1])
    groups = np.arange(32).astype(str)
    plan = plan_split(labels, groups)
    assert set(np.flatnonzero(labels == 1)) <= set(plan.indices["train"])
    assert any("only 2 group" in n for n in plan.notes)
    with pytest.warns(UserWarning, match="only 2 group"):
        split_groups(labels, groups)
    # three groups: one each
    plan3 = plan_split(np.zeros(3, int), np.array(["a", "b", "c"]))
    assert [len(plan3.indices[s]) for s in SPLITS] == [1, 1, 1]


def test_balance_by_replication_tops_up_only():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 50)
    train = np.arange(len(labels))
    out = balance_by_replication(train, labels, 20, seed=0)
    counts = np.bincount(labels[out])
    assert counts.tolist() == [20, 20, 50]
    # replication is even: each class-1 row appears 6 or 7 times
    reps = np.bincount(out[labels[out] == 1])[10:13]
    assert reps.min() >= 6 and reps.max() <= 7
    assert np.array_equal(balance_by_replication(train, labels, 0), train)


def test_balance_after_split_touches_train_only():
    labels = np.repeat([0, 1], [100, 20])
    groups = np.arange(120).astype(str)
    idx = split_groups(labels, groups, seed=0)
    train = balance_by_replication(idx["train"], labels, 200, seed=0)
    assert np.bincount(labels[train]).tolist() == [200, 200]
    # no row from val/test enters train through replication
    assert not set(train) & (set(idx["val"]) | set(idx["test"]))


def test_replicate_then_split_leaks_and_says_so():
    labels = np.repeat([0, 1], [10, 30])
    plan = replicate_then_split(labels, 100, seed=0)
    assert plan.leaky
    assert "LEAKY" in plan.notes[0]
    assert len(np.intersect1d(plan.indices["train"], plan.indices["test"])) > 0
    total = np.concatenate([plan.indices[s] for s in SPLITS])
    assert np.bincount(labels[total]).tolist() == [100, 100]
    codes = row_split_codes(len(labels), plan.indices)
    assert codes.dtype == np.uint8 and set(codes) <= {0, 1, 2}
