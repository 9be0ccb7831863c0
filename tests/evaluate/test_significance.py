import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spectype.evaluate.significance import cohens_d, compare_rows, runs_for_power, welch_p


def test_cohens_d_by_hand():
    # Equal variances of 1: d = (2 - 5) / 1.
    assert cohens_d([1, 2, 3], [4, 5, 6]) == pytest.approx(-3.0)
    # Unequal n: var_a = 5/3, var_b = 2, pooled = sqrt((3 * 5/3 + 1 * 2) / 4) = sqrt(7/4).
    assert cohens_d([1, 2, 3, 4], [2, 4]) == pytest.approx(-0.5 / math.sqrt(7 / 4))


def test_cohens_d_degenerate():
    assert cohens_d([0.9, 0.9], [0.9, 0.9]) == 0.0
    assert cohens_d([1.0, 1.0], [0.0, 0.0]) == math.inf
    assert math.isnan(cohens_d([1.0], [2.0]))


def test_runs_for_power_known_values():
    # statsmodels' TTestIndPower: d = 0.8 needs about 25.5 per group.
    assert runs_for_power(0.8) == pytest.approx(25.52, abs=0.01)
    assert runs_for_power(-0.8) == pytest.approx(runs_for_power(0.8))
    # The paper: d = 3.46 -> n = 3 experiments per group.
    assert math.ceil(runs_for_power(3.46)) == 3
    # So large that the solver cannot bracket: two runs already suffice.
    assert runs_for_power(10.0) == 2.0
    assert runs_for_power(0.0) == math.inf
    assert math.isnan(runs_for_power(float("nan")))
    assert runs_for_power(0.8, power=0.9) > runs_for_power(0.8)


def test_welch_p_matches_scipy():
    a, b = [0.90, 0.91, 0.92, 0.905], [0.88, 0.875, 0.89]
    assert welch_p(a, b) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert math.isnan(welch_p([0.9], [0.8, 0.7]))


def test_compare_rows():
    rng = np.random.default_rng(0)
    accs = {"mm_1d": 0.89 + 0.003 * rng.normal(size=10), "mm_all": 0.92 + 0.001 * rng.normal(size=10),
            "mm_2d": 0.91 + 0.003 * rng.normal(size=10)}
    df = pd.DataFrame([{"row": r, "seed": i, "test_acc": v} for r, vals in accs.items() for i, v in enumerate(vals)])
    out = compare_rows(df)
    assert len(out) == 3
    line = out[(out.row_a == "mm_1d") & (out.row_b == "mm_all")].iloc[0]
    assert line.cohens_d == pytest.approx(cohens_d(accs["mm_1d"], accs["mm_all"]))
    assert line.cohens_d < 0
    assert line.runs_needed_int == math.ceil(runs_for_power(line.cohens_d))
    assert bool(line.enough_runs) == (10 >= line.runs_needed_int)
    assert line.welch_p < 0.05
    only = compare_rows(df, pairs=[("mm_all", "mm_1d")])
    assert len(only) == 1 and only.cohens_d.iloc[0] == pytest.approx(-line.cohens_d)
    with pytest.raises(KeyError, match="not in the results"):
        compare_rows(df, pairs=[("mm_1d", "nope")])
    with pytest.raises(KeyError, match="need columns"):
        compare_rows(df, value="acc")
