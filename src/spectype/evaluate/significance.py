"""Effect sizes and power analysis for comparing table rows over seeds, as the paper does.

The paper (Listening to Stars, 2025, Sec. 4) compares rows by Cohen's d with the pooled
standard deviation, then asks `statsmodels`' `TTestIndPower` how many runs per group a
two-sided independent t-test needs for 80% power at alpha = 0.05 (d = 3.46 -> n = 3).
We add Welch's t-test p-value, which does not assume equal variances.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import TTestIndPower

# Smallest group size for which a two-sample t-test has degrees of freedom left (2 + 2 - 2).
MIN_RUNS = 2


def cohens_d(a, b) -> float:
    """(mean(a) - mean(b)) / pooled SD, pooled SD = sqrt(((na-1) sa^2 + (nb-1) sb^2) / (na+nb-2)).

    a, b: 1D samples (e.g. test accuracies over seeds), each of length >= 2 in total df.
    Returns nan when the pooled SD is undefined (na + nb < 3); +-inf when it is 0 and the
    means differ; 0 when both are 0.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    na, nb = len(a), len(b)
    if na == 0 or nb == 0 or na + nb < 3:
        return float("nan")
    var_a = a.var(ddof=1) if na > 1 else 0.0
    var_b = b.var(ddof=1) if nb > 1 else 0.0
    pooled = math.sqrt(((na - 1) * var_a + (nb - 1) * var_b) / (na + nb - 2))
    diff = float(a.mean() - b.mean())
    if pooled == 0.0:
        return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / pooled


def runs_for_power(d: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Runs per group a two-sided independent t-test (equal groups) needs to detect `d`.

    Uses `TTestIndPower().solve_power`; returns a float (round up for a count). The sign of d
    is ignored. d = 0 or nan -> inf / nan. Effects so large that even 2 runs reach `power`
    make the solver fail to bracket; those return MIN_RUNS (2).
    """
    d = abs(float(d))
    if math.isnan(d):
        return float("nan")
    if math.isinf(d):
        return float(MIN_RUNS)
    if d == 0.0:
        return float("inf")
    analysis = TTestIndPower()
    p_min = analysis.power(effect_size=d, nobs1=MIN_RUNS, alpha=alpha, ratio=1.0)
    # The noncentral t overflows to nan for huge d (> ~15), where power is ~1 anyway.
    if p_min >= power or (np.isnan(p_min) and d > 5.0):
        return float(MIN_RUNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns (and returns nan) on non-convergence
        n = analysis.solve_power(
            effect_size=d, alpha=alpha, power=power, ratio=1.0, alternative="two-sided"
        )
    n = float(np.asarray(n).item())
    return n if np.isfinite(n) else float("nan")


def welch_p(a, b) -> float:
    """Two-sided Welch t-test p-value (scipy `ttest_ind(equal_var=False)`); nan if undefined."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero variance: scipy warns and returns nan
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def compare_rows(
    results: pd.DataFrame,
    value: str = "test_acc",
    row: str = "row",
    pairs: list[tuple[str, str]] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """Pairwise comparison of rows of a long per-run table (one line per row and seed).

    results: columns `row` (row name) and `value` (e.g. test accuracy in [0, 1]).
    pairs: (a, b) row names to compare; default all pairs in order of first appearance.
    Returns one line per pair: row_a, row_b, n_a, n_b, mean_a, mean_b, diff (a - b),
    cohens_d, runs_needed (exact float), runs_needed_int (ceil), enough_runs
    (min(n_a, n_b) >= runs_needed_int) and welch_p.
    """
    if row not in results.columns or value not in results.columns:
        raise KeyError(
            f"results need columns {row!r} and {value!r}; got {list(results.columns)}"
        )
    samples = {
        name: grp[value].dropna().to_numpy(dtype=np.float64)
        for name, grp in results.groupby(row, sort=False)
    }
    if pairs is None:
        pairs = list(itertools.combinations(samples.keys(), 2))
    lines = []
    for a_name, b_name in pairs:
        if a_name not in samples or b_name not in samples:
            missing = [n for n in (a_name, b_name) if n not in samples]
            raise KeyError(f"rows {missing} are not in the results (have {list(samples)})")
        a, b = samples[a_name], samples[b_name]
        d = cohens_d(a, b)
        n_req = runs_for_power(d, alpha=alpha, power=power)
        n_int = math.ceil(n_req) if np.isfinite(n_req) else None
        lines.append(
            {
                "row_a": a_name,
                "row_b": b_name,
                "n_a": len(a),
                "n_b": len(b),
                "mean_a": float(a.mean()) if len(a) else float("nan"),
                "mean_b": float(b.mean()) if len(b) else float("nan"),
                "diff": float(a.mean() - b.mean()) if len(a) and len(b) else float("nan"),
                "cohens_d": d,
                "runs_needed": n_req,
                "runs_needed_int": n_int,
                "enough_runs": bool(n_int is not None and min(len(a), len(b)) >= n_int),
                "welch_p": welch_p(a, b),
            }
        )
    return pd.DataFrame(lines)
