"""Tables from per-run results: mean ± std per row, per-class metrics, significance.

Input is the list of result dicts the runner writes (result.json); output files are listed
in `spectype.experiments.runner`'s docstring. Accuracies stay fractions in the CSVs and are
shown in % in the Markdown, as the paper prints them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path, atomic_write_text
from ..evaluate.confusion import plot_confusion, write_confusion_csv
from ..evaluate.report import markdown_table
from ..evaluate.significance import compare_rows
from .protocols import Protocol

RUN_COLUMNS = [
    "row", "seed", "model", "test_acc", "macro_f1", "best_val_acc", "best_epoch",
    "epochs_run", "n_test", "train_seconds", "eval_seconds",
]


def runs_frame(results: list[dict]) -> pd.DataFrame:
    """One line per (row, seed) with RUN_COLUMNS."""
    return pd.DataFrame([{c: r.get(c) for c in RUN_COLUMNS} for r in results], columns=RUN_COLUMNS)


TABLE_COLUMNS = [
    "row", "label", "model", "n_runs", "mean_acc", "std_acc", "min_acc", "max_acc",
    "mean_macro_f1", "paper",
]


def table_frame(proto: Protocol, runs: pd.DataFrame, rows: list[str]) -> pd.DataFrame:
    """Per row: n_runs, mean/std/min/max test accuracy (std with ddof=1), mean macro F1."""
    lines = []
    for name in rows:
        acc = runs.loc[runs["row"] == name, "test_acc"].astype(float).to_numpy()
        f1 = runs.loc[runs["row"] == name, "macro_f1"].astype(float).to_numpy()
        lines.append({
            "row": name,
            "label": proto.rows[name].label,
            "model": proto.rows[name].model,
            "n_runs": len(acc),
            "mean_acc": float(acc.mean()) if len(acc) else np.nan,
            "std_acc": float(acc.std(ddof=1)) if len(acc) > 1 else np.nan,
            "min_acc": float(acc.min()) if len(acc) else np.nan,
            "max_acc": float(acc.max()) if len(acc) else np.nan,
            "mean_macro_f1": float(f1.mean()) if len(f1) else np.nan,
            "paper": proto.rows[name].paper or "",
        })
    return pd.DataFrame(lines, columns=TABLE_COLUMNS)


def per_class_frame(results: list[dict]) -> pd.DataFrame:
    """Per row and class: mean and std over seeds of precision, recall, F1; mean support.

    Seeds whose test split lacks the class are left out of its means; n_runs counts the rest.
    """
    parts = []
    for r in results:
        pc = pd.DataFrame(r["per_class"])
        pc.insert(0, "row", r["row"])
        pc.insert(1, "seed", r["seed"])
        parts.append(pc)
    if not parts:
        return pd.DataFrame(columns=["row", "class"])
    df = pd.concat(parts, ignore_index=True)
    # A class absent from a seed's test split has no recall; sklearn's 0 would drag the mean.
    absent = df["support"] == 0
    df.loc[absent, ["precision", "recall", "f1"]] = np.nan
    df["seed"] = df["seed"].where(~absent)
    agg = df.groupby(["row", "class"], sort=False).agg(
        precision=("precision", "mean"), precision_std=("precision", "std"),
        recall=("recall", "mean"), recall_std=("recall", "std"),
        f1=("f1", "mean"), f1_std=("f1", "std"),
        support=("support", "mean"), n_runs=("seed", "count"),
    )
    return agg.reset_index()


def _pct(mean: float, std: float) -> str:
    if np.isnan(mean):
        return "n/a"
    return f"{100 * mean:.2f}" + ("" if np.isnan(std) else f" ± {100 * std:.2f}")


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def _describe(proto: Protocol, profile: str) -> str:
    prof = proto.profiles.get(profile)
    return prof.description.strip() if prof else "settings given by the caller"


def write_summary(
    proto: Protocol, results: list[dict], failures: list[dict], out_dir: Path, *,
    profile: str, data: str, seeds: list[int], command: str, rows: list[str] | None = None,
    split_order: str = "split-then-replicate",
) -> dict:
    """Write runs/table/per_class/significance/confusion files; return the frames and paths.

    rows: the rows asked for (table lines, also those without results); default: the rows
    that have results, in protocol order.
    """
    out_dir = Path(out_dir)
    have = {r["row"] for r in results}
    rows = rows or [r for r in proto.rows if r in have]
    ordered = [r for r in rows if r in have]
    runs = runs_frame(results)
    table = table_frame(proto, runs, rows)
    per_class = per_class_frame(results)
    sig = compare_rows(runs, value="test_acc") if len(ordered) > 1 else pd.DataFrame(
        columns=["row_a", "row_b", "cohens_d", "runs_needed", "welch_p"]
    )
    files = {
        "runs": out_dir / "runs.csv", "table_csv": out_dir / "table.csv",
        "table_md": out_dir / "table.md", "per_class_csv": out_dir / "per_class.csv",
        "per_class_md": out_dir / "per_class.md", "significance_csv": out_dir / "significance.csv",
        "significance_md": out_dir / "significance.md", "failures": out_dir / "failures.csv",
    }
    _write_csv(runs, files["runs"])
    _write_csv(table, files["table_csv"])
    _write_csv(per_class, files["per_class_csv"])
    _write_csv(sig, files["significance_csv"])
    _write_csv(pd.DataFrame(failures, columns=["row", "seed", "error"]), files["failures"])

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        f"- data: `{data}`", f"- profile: `{profile}` ({_describe(proto, profile)})",
        f"- seeds: {seeds} (seed k: initialisation k and "
        + ("grouped split k)" if split_order == "split-then-replicate" else
           f"split k made {split_order}: LEAKY, copies of training spectra in test)"),
        f"- command: `{command}`", f"- written: {when}",
    ]
    if failures:
        head.append(f"- **{len(failures)} failed run(s)**, see failures.csv")
    show = pd.DataFrame({
        "row": table["row"], "input": table["label"], "runs": table["n_runs"],
        "test accuracy (%)": [_pct(m, s) for m, s in zip(table["mean_acc"], table["std_acc"], strict=True)],
        "paper (%)": table["paper"],
    })
    atomic_write_text(files["table_md"], "\n".join([
        f"# {proto.name}: {proto.title}", "", *head, "",
        markdown_table(show), "",
        "Mean ± sample standard deviation (ddof=1) of test accuracy over seeds. "
        f"Paper: {proto.reference}.", "",
    ]))

    pc_lines = [f"# {proto.name}: per-class metrics, mean over seeds (Tables 5/6 style)", ""]
    for name in ordered:
        sub = per_class[per_class["row"] == name]
        pc_lines += [f"## {name} ({proto.rows[name].label})", "",
                     markdown_table(sub[["class", "precision", "recall", "f1", "f1_std", "support"]]), ""]
    atomic_write_text(files["per_class_md"], "\n".join(pc_lines))

    sig_lines = [
        f"# {proto.name}: pairwise significance", "",
        "Cohen's d with the pooled SD; runs per group a two-sided independent t-test needs for "
        "80% power at alpha = 0.05 (statsmodels TTestIndPower), as in the paper; Welch's t-test "
        "p-value. `enough` = both rows have at least that many runs.", "",
    ]
    if len(sig):
        show_sig = sig.assign(
            mean_a=100 * sig["mean_a"], mean_b=100 * sig["mean_b"], diff=100 * sig["diff"]
        )[["row_a", "row_b", "mean_a", "mean_b", "diff", "cohens_d", "runs_needed_int",
           "enough_runs", "welch_p"]]
        sig_lines.append(markdown_table(show_sig, floatfmt=".3g"))
    else:
        sig_lines.append("Fewer than two rows with results; nothing to compare.")
    atomic_write_text(files["significance_md"], "\n".join(sig_lines) + "\n")

    for name in ordered:
        res = [r for r in results if r["row"] == name]
        names = res[0]["class_names"]
        if any(r["class_names"] != names for r in res):
            continue  # class sets differ between seeds: summing makes no sense
        cm = np.sum([np.asarray(r["confusion"]) for r in res], axis=0)
        files[f"confusion_{name}_csv"] = out_dir / f"confusion_{name}.csv"
        files[f"confusion_{name}_png"] = out_dir / f"confusion_{name}.png"
        write_confusion_csv(cm, names, files[f"confusion_{name}_csv"])
        plot_confusion(cm, names, files[f"confusion_{name}_png"],
                       title=f"{name}: test confusion summed over {len(res)} seed(s)")
    return {"runs": runs, "table": table, "per_class": per_class, "significance": sig, "files": files}
