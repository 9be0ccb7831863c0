"""Datasets: select catalogue rows, split (grouped by star, stratified), balance, pack to HDF5,
read back.

`PackDataset` (torch) is imported lazily so that importing this package stays cheap.
"""

from __future__ import annotations

from .balance import balance_by_replication
from .pack import (
    BuildResult,
    DatasetConfig,
    Pack,
    build_dataset,
    model_grid,
    write_pack,
    write_pack_rows,
)
from .select import Selection, select_rows
from .split import (
    SPLITS,
    GroupSplit,
    SplitPlan,
    group_keys,
    holdout_rows,
    plan_group_split,
    plan_split,
    replicate_then_split,
    row_split_codes,
    split_groups,
    star_groups,
    training_indices,
)

__all__ = [
    "SPLITS", "BuildResult", "DatasetConfig", "GroupSplit", "Pack", "PackDataset", "Selection",
    "SplitPlan", "balance_by_replication", "build_dataset", "group_keys", "holdout_rows",
    "model_grid", "plan_group_split", "plan_split", "replicate_then_split", "row_split_codes",
    "select_rows", "split_groups", "star_groups", "training_indices", "write_pack",
    "write_pack_rows",
]


def __getattr__(name: str):
    if name == "PackDataset":
        from .torch_dataset import PackDataset

        return PackDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
