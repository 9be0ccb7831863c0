"""MKNet with and without the label-convention input, from `spectype benchmark accuracy` runs.

    python -m studies.conventions.compare RUN_FOLDER [RUN_FOLDER ...]
    python -m studies.conventions.compare --seeds RUN_SEED0 RUN_SEED1 ...


Prints, per method: real accuracy per split, held-out real / DR10, cross-release DR10, F
recall, F9 and G0 accuracy, |code err| <= 2, ECE (held-out real) and library accuracy, and the
paired per-split difference of `mknet_conv` over `mknet` (docs/accuracy.md, issue #10).
With --seeds each folder is one training seed of the same splits: the headline columns per
seed, their mean, and the seed ensemble (mean of the seeds' probabilities).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from spectype.benchmark.report import _ece, _kind, subtype_agreement


def _acc(d: pd.DataFrame) -> float:
    return float((d.pred_class == d.true_class).mean()) if len(d) else np.nan


def summarise(pred: pd.DataFrame) -> pd.DataFrame:
    pred = pred.assign(kind=_kind(pred.release))
    real = pred[pred.kind == "real"]
    held = real[real.split == "heldout"]
    lib = pred[(pred.split == "heldout") & (pred.kind != "real")]
    rows = {}
    for m, d in held.groupby("method"):
        r = {f: _acc(real[(real.method == m) & (real.fold == f)]) for f in sorted(real.fold.unique())}
        r["heldout real"] = _acc(d)
        r["heldout DR10"] = _acc(d[d.release == "DR10"])
        r["F recall"] = _acc(d[d.true_class == "F"])
        r["F9"] = _acc(d[d.true_code == 39])
        r["G0"] = _acc(d[d.true_code == 40])
        r["code<=2"] = subtype_agreement(d).get("within2", np.nan)
        r["ECE"] = _ece(d)
        for kind in ("sim", "native"):
            r[kind] = _acc(lib[(lib.method == m) & (lib.kind == kind)])
        for c in ("O", "B"):
            r[f"{c} lib recall"] = _acc(lib[(lib.method == m) & (lib.true_class == c)])
        rows[m] = r
    return pd.DataFrame(rows).T


def main(runs: list[str]) -> None:
    pred = pd.concat([pd.read_parquet(f"{r}/predictions.parquet") for r in runs], ignore_index=True)
    t = summarise(pred)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(t.round(3).T.to_string())
    folds = [c for c in t.columns if "/" in c]
    held = [f for f in folds if f.startswith("heldout/")]
    for m in [m for m in t.index if m.startswith("mknet_conv") and "mknet" in t.index]:
        diff = t.loc[m, folds] - t.loc["mknet", folds]
        d = diff[held].astype(float)
        print(f"\n{m} - mknet per split (points):", " ".join(f"{f} {100 * v:+.1f}" for f, v in diff.items()))
        print(f"held-out folds: mean {100 * d.mean():+.1f}, sd {100 * d.std(ddof=1):.1f}, wins {(d > 0).sum()}/{len(d)}")


HEADLINE = ["heldout real", "heldout DR10", "xrel/DR10", "F recall", "F9", "G0", "code<=2", "ECE", "sim", "native", "B lib recall"]


def seeds(runs: list[str]) -> None:
    preds = [pd.read_parquet(f"{r}/predictions.parquet") for r in runs]
    tables = [summarise(p)[HEADLINE] for p in preds]
    for r, t in zip(runs, tables, strict=True):
        print(f"\n{r}\n{t.round(3).to_string()}")
    common = sorted(set.intersection(*(set(t.index) for t in tables)))
    print("\nmean over seeds\n" + (sum(t.loc[common] for t in tables) / len(tables)).round(3).to_string())
    # Seed ensemble: each method's class probabilities averaged over the seeds, row by row.
    prob = [c for c in preds[0].columns if c.startswith("prob_")]
    key = ["fold", "method", "row"]
    base = preds[0][preds[0].method.isin(common)].set_index(key).sort_index()
    mean = sum(p[p.method.isin(common)].set_index(key).sort_index()[prob] for p in preds) / len(preds)
    ens = base.assign(**{c: mean[c] for c in prob})
    ens["pred_class"] = [c[5:] for c in ens[prob].idxmax(axis=1)]
    ens["pred_prob"] = ens[prob].max(axis=1)
    ens["pred_code"] = np.nan  # the codes are not averaged
    print("\nseed ensemble\n" + summarise(ens.reset_index())[HEADLINE].round(3).to_string())


if __name__ == "__main__":
    if sys.argv[1] == "--seeds":
        seeds(sys.argv[2:])
    else:
        main(sys.argv[1:])
