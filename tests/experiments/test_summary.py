import numpy as np
import pytest

from spectype.experiments.protocols import load_protocol
from spectype.experiments.summary import per_class_frame, runs_frame, table_frame


def _result(row, seed, acc, f1_k, support_k):
    return {
        "row": row, "seed": seed, "model": row, "test_acc": acc, "macro_f1": 0.5,
        "per_class": {"class": ["A", "K"], "precision": [0.8, f1_k], "recall": [0.6, f1_k],
                      "f1": [0.7, f1_k], "support": [10, support_k]},
    }


def test_per_class_mean_skips_seeds_without_the_class():
    res = [_result("mm_1d", 0, 0.9, 0.5, 4), _result("mm_1d", 1, 0.8, 0.0, 0)]
    pc = per_class_frame(res).set_index("class")
    assert pc.loc["A", "f1"] == pytest.approx(0.7) and pc.loc["A", "n_runs"] == 2
    # Seed 1 had no K star in its test split: its sklearn 0 must not halve the mean.
    assert pc.loc["K", "f1"] == pytest.approx(0.5) and pc.loc["K", "n_runs"] == 1


def test_table_mean_and_sample_std():
    proto = load_protocol("table4")
    runs = runs_frame([_result("mm_1d", 0, 0.9, 0.5, 4), _result("mm_1d", 1, 0.8, 0.5, 4)])
    table = table_frame(proto, runs, ["mm_1d", "mm_all"]).set_index("row")
    assert table.loc["mm_1d", "mean_acc"] == pytest.approx(0.85)
    assert table.loc["mm_1d", "std_acc"] == pytest.approx(np.std([0.9, 0.8], ddof=1))
    assert table.loc["mm_1d", "paper"] == "89.75 ± 0.28"
    assert table.loc["mm_all", "n_runs"] == 0 and np.isnan(table.loc["mm_all", "mean_acc"])
