"""Tables and figures of the accuracy benchmark, from its predictions frame.

"Real" rows are survey spectra (release not 'sim' or 'native-*'); they are the ones the
headline numbers are about. Simulated and native library stars are reported apart, because
they are the only place O, B and C can be scored at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluate.calibration import expected_calibration_error, plot_reliability, reliability_table
from ..evaluate.report import markdown_table
from ..labels import CLASSES, code_to_subtype

SNR_BINS = (0, 10, 20, 40, 80, np.inf)
BASELINES = ("logreg", "pca_svm", "hgb", "template")


def _kind(release: pd.Series) -> pd.Series:
    r = release.astype(str)
    return np.where(r == "sim", "sim", np.where(r.str.startswith("native-"), "native", "real"))


def _acc(df: pd.DataFrame) -> float:
    return float((df.pred_class == df.true_class).mean()) if len(df) else np.nan


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return np.nan, np.nan
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def accuracy_matrix(pred: pd.DataFrame) -> pd.DataFrame:
    """Method x evaluation set accuracy (real rows, plus simulated/native library stars)."""
    pred = pred.assign(kind=_kind(pred.release))
    cols: dict[str, pd.Series] = {}
    held = pred[pred.split == "heldout"]
    if (held.kind == "real").any():  # a cross-release-only run (--splits xrel) has none
        cols["heldout real"] = held[held.kind == "real"].groupby("method").apply(_acc, include_groups=False)
    for rel in sorted(set(held.release[held.kind == "real"])):
        sub = held[(held.kind == "real") & (held.release == rel)]
        cols[f"heldout {rel}"] = sub.groupby("method").apply(_acc, include_groups=False)
    for fold in sorted(set(pred.fold[pred.split == "xrel"])):
        sub = pred[pred.fold == fold]
        cols[f"cross-release {fold.split('/', 1)[1]}"] = sub.groupby("method").apply(_acc, include_groups=False)
    x = pred[pred.split == "xrel"]
    if len(x):
        cols["cross-release all"] = x.groupby("method").apply(_acc, include_groups=False)
    for kind in ("sim", "native"):
        sub = held[held.kind == kind]
        if len(sub):
            cols[f"heldout {kind} library stars"] = sub.groupby("method").apply(_acc, include_groups=False)
    return pd.DataFrame(cols)


def per_class(df: pd.DataFrame) -> pd.DataFrame:
    from sklearn.metrics import precision_recall_fscore_support

    present = [c for c in CLASSES if (df.true_class == c).any()]
    p, r, f, n = precision_recall_fscore_support(df.true_class, df.pred_class, labels=present, zero_division=0)
    return pd.DataFrame({"class": present, "precision": p, "recall": r, "f1": f, "support": n})


def by_subtype(df: pd.DataFrame) -> pd.DataFrame:
    d = df[np.isfinite(df.true_code)]
    sub = d.true_code.map(code_to_subtype)
    g = d.assign(subtype=sub, ok=d.pred_class == d.true_class).groupby("subtype", sort=False)
    t = g.agg(n=("ok", "size"), accuracy=("ok", "mean"), code=("true_code", "first")).sort_values("code")
    return t.drop(columns="code").reset_index()


def by_snr(df: pd.DataFrame) -> pd.DataFrame:
    b = pd.cut(df.snr, SNR_BINS, right=False)
    g = df.assign(bin=b.astype(str), ok=df.pred_class == df.true_class).groupby("bin", sort=False)
    t = g.agg(n=("ok", "size"), accuracy=("ok", "mean")).reset_index()
    t["ci95"] = [f"{lo:.3f}-{hi:.3f}" for lo, hi in (_wilson(int(round(a * n)), n) for a, n in zip(t.accuracy, t.n, strict=True))]
    return t


def subtype_agreement(df: pd.DataFrame) -> dict:
    d = df[np.isfinite(df.true_code) & np.isfinite(df.pred_code.astype(float))]
    if not len(d):
        return {"n": 0}
    err = (d.pred_code.astype(float) - d.true_code).abs()
    return {"n": len(d), "within1": float((err <= 1).mean()), "within2": float((err <= 2).mean()),
            "mae": float(err.mean())}


def repeatability(held_real: pd.DataFrame) -> pd.DataFrame:
    """How well each observation of a star predicts the label of another observation of it.

    Over every ordered pair (a, b) of distinct spectra of one star: the labels' own
    repeatability (label of a == label of b; for a catalogue of LAMOST SUBCLASS, how often the
    survey's pipeline agrees with itself) beside each method's (its prediction for a == label of
    b). Held-out folds are grouped by star, so both spectra were unseen by the method. A method
    cannot be expected to agree with the labels much more often than they agree with themselves;
    the pairs share stars, so their Wilson intervals are optimistic.
    """
    rows = []
    for m, g in held_real.groupby("method", sort=False):
        g = g.reset_index(drop=True)
        ids = pd.DataFrame({"group": g.group.astype(str), "i": np.arange(len(g))})
        pairs = ids.merge(ids, on="group")
        pairs = pairs[pairs.i_x != pairs.i_y]
        if not len(pairs):
            continue
        a, b, stars = pairs.i_x.to_numpy(), pairs.i_y.to_numpy(), pairs.group.nunique()
        tc, tcode = g.true_class.to_numpy(), g.true_code.to_numpy(float)
        pc, pcode = g.pred_class.to_numpy(), g.pred_code.to_numpy(float)
        both = np.isfinite(tcode[a]) & np.isfinite(tcode[b])
        if not rows:
            rows.append(_repeat_row("labels (another observation's)", tc[a] == tc[b],
                                    np.abs(tcode[a] - tcode[b])[both], stars))
        rows.append(_repeat_row(m, pc[a] == tc[b], np.abs(pcode[a] - tcode[b])[both & np.isfinite(pcode[a])], stars))
    return pd.DataFrame(rows)


SELECTIVE_THRESHOLDS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)


def selective(real: pd.DataFrame, thresholds=SELECTIVE_THRESHOLDS) -> pd.DataFrame:
    """What a user who keeps only confident answers gets: for each method and each floor on
    pred_prob, the fraction of spectra kept (coverage) and the accuracy on them, and the same
    for "floor and not flagged_unlike_training". With calibrated probabilities the kept
    spectra's accuracy rises with the floor; this says by how much, at what coverage."""
    rows = []
    for m, g in real.groupby("method", sort=False):
        ok = (g.pred_class == g.true_class).to_numpy()
        prob = g.pred_prob.to_numpy(float)
        flag = g.ood.to_numpy(bool) if "ood" in g else np.zeros(len(g), bool)
        for t in thresholds:
            keep = prob >= t
            both = keep & ~flag
            rows.append({"method": m, "min pred_prob": t, "n": int(keep.sum()), "coverage": float(keep.mean()),
                         "accuracy": float(ok[keep].mean()) if keep.any() else np.nan,
                         "coverage, unflagged": float(both.mean()),
                         "accuracy, unflagged": float(ok[both].mean()) if both.any() else np.nan})
    return pd.DataFrame(rows)


def _repeat_row(name: str, ok: np.ndarray, code_err: np.ndarray, stars: int) -> dict:
    lo, hi = _wilson(int(ok.sum()), len(ok))
    return {"predictor": name, "stars": stars, "pairs": len(ok), "class agrees": float(ok.mean()),
            "ci95": f"{lo:.3f}-{hi:.3f}",
            "|code diff|<=2": float((code_err <= 2).mean()) if len(code_err) else np.nan}


def _ece(df: pd.DataFrame) -> float:
    return expected_calibration_error(df.pred_prob.to_numpy(), (df.pred_class == df.true_class).to_numpy())


def write_report(pred: pd.DataFrame, out: Path, meta: dict, main: str = "mknet") -> dict:
    from ..evaluate.confusion import confusion_counts, plot_confusion, write_confusion_csv

    out = Path(out)
    pred = pred.assign(kind=_kind(pred.release))
    acc = accuracy_matrix(pred)
    methods = list(acc.index)
    main = main if main in methods else methods[0]
    held_real = pred[(pred.split == "heldout") & (pred.kind == "real")]
    xrel_real = pred[(pred.split == "xrel") & (pred.kind == "real")]
    by_split = {"held-out": held_real, "cross-release": xrel_real}
    scope = "held-out real spectra"
    if not len(held_real):  # cross-release only: its real test rows stand in for the detail tables
        held_real, scope = xrel_real, "cross-release real spectra"
    lines = ["# Accuracy on real spectra", "",
             f"{meta.get('n_rows')} rows; {meta.get('n_skipped')} skipped; {meta.get('seconds', 0):.0f} s.", "",
             "## Accuracy by method and evaluation set", "",
             markdown_table(acc.reset_index().rename(columns={"index": "method"}), ".3f"), ""]
    per_split = (pred[pred.kind == "real"].groupby(["method", "fold"]).apply(_acc, include_groups=False)
                 .unstack("fold"))
    lines += ["## Real spectra, accuracy per split", "",
              "Each held-out fold and each cross-release test on its own (the issue asks for the "
              "margin over the best baseline on every split).", "",
              markdown_table(per_split.reset_index(), ".3f"), ""]
    base = [m for m in BASELINES if m in methods]
    margins = {}
    if base:
        best_base = acc.loc[base].max()
        margins = {col: float(acc.loc[m, col] - best_base[col]) for m in [main] for col in acc.columns}
        lines += [f"Margin of `{main}` over the best baseline per set (points): " +
                  ", ".join(f"{k} {100 * v:+.1f}" for k, v in margins.items()), ""]
    summary: dict = {"accuracy": acc.to_dict(), "margin_over_best_baseline": margins, "methods": {}}
    tables = {}
    for m in methods:
        d = held_real[held_real.method == m]
        s = {"heldout_real": _acc(d), "ece": _ece(d), "subtype": subtype_agreement(d),
             "mean_confidence": float(d.pred_prob.mean()) if len(d) else np.nan,
             "ood_fraction": float(d.ood.mean()) if len(d) else np.nan}
        summary["methods"][m] = s
        tables[m] = reliability_table(d.pred_prob.to_numpy(), (d.pred_class == d.true_class).to_numpy())
    cal = pd.DataFrame([{"method": m, "accuracy": s["heldout_real"], "mean confidence": s["mean_confidence"],
                         "ECE": s["ece"], "|code err|<=1": s["subtype"].get("within1", np.nan),
                         "|code err|<=2": s["subtype"].get("within2", np.nan),
                         "code MAE": s["subtype"].get("mae", np.nan), "flagged OOD": s["ood_fraction"]}
                        for m, s in summary["methods"].items()])
    lines += [f"## {scope.capitalize()}: calibration and subtypes", "", markdown_table(cal, ".3f"), ""]
    rep = repeatability(held_real)
    if len(rep):
        summary["repeatability"] = rep.to_dict(orient="records")
        lines += ["## Stars observed more than once: the labels' own repeatability", "",
                  "For every ordered pair of spectra of one star: how often the label of one "
                  "matches the label of the other, and how often each method's prediction for the "
                  "first does (both spectra unseen by the method). Agreement with the labels is "
                  "capped near the labels' agreement with themselves.", "",
                  markdown_table(rep, ".3f"), ""]
    # Each split kind under its own name (the stand-in above would label cross-release rows held-out).
    sel = {name: selective(rows) for name, rows in by_split.items() if len(rows)}
    for name, t in sel.items():
        summary[f"selective_{name.replace('-', '_')}"] = t.to_dict(orient="records")
        lines += [f"## Keeping only confident answers ({name} real spectra)", "",
                  "Coverage (fraction of spectra kept) and accuracy on the kept spectra, for a floor "
                  "on pred_prob; the last two columns also drop spectra flagged unlike training.", "",
                  markdown_table(t, ".3f"), ""]
    plot_reliability(tables, out / "reliability.png", scope)
    d = held_real[held_real.method == main]
    lines += [f"## `{main}`, {scope}, per class", "", markdown_table(per_class(d), ".3f"), "",
              f"## `{main}`, per subtype (truth)", "", markdown_table(by_subtype(d), ".3f"), "",
              f"## `{main}`, per SNR bin (i band, else g)", "", markdown_table(by_snr(d), ".3f"), ""]
    if base:
        b = acc.loc[base].mean(axis=1).idxmax() if "heldout real" not in acc else acc.loc[base, "heldout real"].idxmax()
        db = held_real[held_real.method == b]
        lines += [f"## best baseline `{b}`, per subtype", "", markdown_table(by_subtype(db), ".3f"), ""]
    lib = pred[(pred.split == "heldout") & (pred.kind != "real") & (pred.method == main)]
    if len(lib):
        lines += [f"## `{main}` on library stars never trained on (simulated and native), per class", "",
                  "No real LAMOST O, B or carbon spectra were available: these rows are the only "
                  "measure of those classes.", ""]
        for kind in ("sim", "native"):
            k = lib[lib.kind == kind]
            if len(k):
                lines += [f"### {kind}", "", markdown_table(per_class(k), ".3f"), ""]
    idx = {c: i for i, c in enumerate(CLASSES)}
    if len(d):
        cm = confusion_counts(d.true_class.map(idx).to_numpy(), d.pred_class.map(idx).to_numpy(), len(CLASSES))
        plot_confusion(cm, list(CLASSES), out / "confusion.png", title=f"{main}, {scope} (n={len(d)})")
        write_confusion_csv(cm, list(CLASSES), out / "confusion.csv")
    (out / "summary.md").write_text("\n".join(lines))
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary


def merge_runs(runs, out: str | Path) -> dict:
    """One report from several `benchmark accuracy` output folders (e.g. `--splits heldout` and
    `--splits xrel` run side by side). A (split, method, row) present in two runs keeps the later
    run's prediction."""
    frames, metas = [], []
    for r in runs:
        r = Path(r)
        if not (r / "predictions.parquet").is_file():
            from ..errors import ConfigError

            raise ConfigError(f"{r} has no predictions.parquet; pass folders written by `spectype benchmark accuracy`")
        frames.append(pd.read_parquet(r / "predictions.parquet"))
        metas.append(json.loads((r / "run.json").read_text()) if (r / "run.json").is_file() else {})
    pred = pd.concat(frames, ignore_index=True).drop_duplicates(["fold", "method", "row"], keep="last")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pred.to_parquet(out / "predictions.parquet")
    meta = {"n_rows": max((m.get("n_rows") or 0) for m in metas), "n_skipped": max((m.get("n_skipped") or 0) for m in metas),
            "seconds": sum(m.get("seconds", 0) for m in metas), "merged_from": [str(r) for r in runs]}
    (out / "run.json").write_text(json.dumps(meta, indent=2, default=str))
    return write_report(pred, out, meta)
