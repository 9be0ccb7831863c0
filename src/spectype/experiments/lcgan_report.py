"""Tables, figures and report.md of the O-star recognition experiment (see lcgan.py).

Files written to the output folder (all atomically):
    runs.csv, table.md/.csv, per_class.md/.csv, significance.md/.csv, confusion_<arm>.png/.csv
                             the four arms through experiments.summary, as for table3/table4:
                             mean ± std accuracy, per-class F1, Cohen's d between arms
    arm_runs.csv             one row per (run, seed), sweeps too: accuracy, O recall/precision, sizes
    arms.csv / arms.md       per arm: median, IQR and min-max of accuracy and O recall over seeds
    gan_eval_<gan>.csv / .md GAN-train / GAN-test per checkpoint (per seed; median over seeds)
    sweep.csv                recogniser accuracy / O recall per GAN checkpoint (Fig. 7 data)
    fig_accuracy_vs_iteration.png, fig_gan_eval_vs_iteration.png
    source_counts.md         distinct O stars per library and per split; stars per class
    failures.csv             (arm, seed, error) of anything that raised
    report.md                settings, command, wall time, all the tables above
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from ..evaluate.report import markdown_table
from ..plots import save_figure
from .lcgan_data import CLASSES

ARM_LABELS = {
    "a_replication": "(a) replication only",
    "b_lcgan": "(b) + LCGAN samples",
    "c_sgan": "(c) + SGAN samples",
    "d_simulator": "(d) + simulator spectra",
}
METRICS = ("accuracy", "O_recall")


def _csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False))


def _spread(v: pd.Series) -> dict:
    v = v.dropna()
    stats = (v.median(), v.quantile(0.25), v.quantile(0.75), v.min(), v.max())
    return dict(zip(("median", "q25", "q75", "min", "max"), stats if len(v) else [np.nan] * 5,
                    strict=True))


def arm_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm: seeds, then median / q25 / q75 / min / max of accuracy and O recall."""
    rows = []
    for arm, label in ARM_LABELS.items():
        sub = runs[runs["run"] == arm] if len(runs) else runs
        row = {"arm": label, "n_seeds": len(sub)}
        for m in (*METRICS, "balanced_accuracy"):
            for k, v in _spread(sub[m] if len(sub) else pd.Series(dtype=float)).items():
                row[f"{m}_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def _table_md(table: pd.DataFrame) -> str:
    def cell(r, m):
        if not r["n_seeds"]:
            return "n/a"
        return (
            f"{r[f'{m}_median']:.3f} (IQR {r[f'{m}_q25']:.3f}-{r[f'{m}_q75']:.3f}; "
            f"range {r[f'{m}_min']:.3f}-{r[f'{m}_max']:.3f})"
        )

    rows = [r for _, r in table.iterrows()]
    return markdown_table(pd.DataFrame({
        "arm": table["arm"], "seeds": table["n_seeds"],
        "accuracy, median (IQR; range)": [cell(r, "accuracy") for r in rows],
        "O recall, median (IQR; range)": [cell(r, "O_recall") for r in rows],
        "balanced acc. median": table["balanced_accuracy_median"],
    }), ".3f")


def runner_result(res: dict) -> dict:
    """An (arm, seed) record in the shape experiments.summary reads (row, test_acc, per_class...)."""
    cm = np.asarray(res["confusion"], float)
    tp, true, pred = np.diag(cm), cm.sum(1), cm.sum(0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                   where=precision + recall > 0)
    return {
        "row": res["arm"], "seed": res["seed"], "model": "racnet", "test_acc": res["accuracy"],
        "macro_f1": float(f1.mean()), "n_test": res["n_test"], "train_seconds": res["seconds"],
        "epochs_run": None, "class_names": list(CLASSES), "confusion": res["confusion"],
        "per_class": {"class": list(CLASSES), "precision": precision.tolist(),
                      "recall": recall.tolist(), "f1": f1.tolist(), "support": true.tolist()},
    }


def gan_eval_summary(gan_eval: pd.DataFrame, gan: str) -> pd.DataFrame:
    """Median (and min-max) of GAN-train, GAN-test, GAN-test recall, real-vs-real per iteration."""
    sub = gan_eval[gan_eval["gan"] == gan] if len(gan_eval) else gan_eval
    cols = [c for c in ("gan_train", "gan_test", "gan_test_recall", "real_vs_real") if c in sub]
    if sub.empty or not cols:
        return pd.DataFrame()
    rows = []
    for it, g in sub.dropna(subset=["iteration"]).groupby("iteration"):
        row = {"iteration": int(it), "seeds": len(g)}
        for c in cols:
            s = _spread(g[c])
            row[c] = f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Recogniser metrics per (gan, iteration, seed): arms (b)/(c) at every checkpoint."""
    if runs.empty:
        return runs
    sub = runs[runs["gan"].notna()]
    cols = ["gan", "iteration", "seed", "run", "accuracy", "O_recall", "balanced_accuracy"]
    return sub[cols].sort_values(["gan", "iteration", "seed"])


def _figure(
    path: Path, panels: list[tuple[str, dict[str, pd.DataFrame], dict[str, float]]], xlabel: str
) -> None:
    """One row of panels; each: (ylabel, {line label: frame with x/median/q25/q75}, {hline label: y})."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * len(panels), 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (ylabel, lines, hlines) in zip(axes, panels, strict=True):
        for label, df in lines.items():
            if df.empty:
                continue
            ax.plot(df["x"], df["median"], marker="o", label=label)
            ax.fill_between(df["x"], df["q25"], df["q75"], alpha=0.2)
        for (label, y), ls in zip(hlines.items(), ("--", ":", "-.", (0, (5, 1))), strict=False):
            if np.isfinite(y):
                ax.axhline(y, ls=ls, color="grey", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=110)


def _median_by(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    if df.empty or y not in df:
        return pd.DataFrame(columns=["x", "median", "q25", "q75"])
    g = df.dropna(subset=[y]).groupby(x)[y]
    return pd.DataFrame({"x": g.median().index.astype(float), "median": g.median().values,
                         "q25": g.quantile(0.25).values, "q75": g.quantile(0.75).values})


def source_counts_md(o_counts: pd.DataFrame, splits: list, pool) -> str:
    groups, first = np.unique(pool.group, return_index=True)
    per_class = {c: int(np.sum(pool.label[first] == i)) for i, c in enumerate(CLASSES)}
    lines = [
        "# Source stars",
        "",
        "## Distinct O stars per library",
        "",
        markdown_table(o_counts.astype({"used": str}), ".0f"),
        "",
        "`used`: simulated in this experiment. Pickles (R≈500, averaged templates) is off by default; "
        "MKCLASS (3800-5600 Å) does not cover the model window and is never simulated. Star ids in "
        "MKCLASS/Pickles are file names (templates), so their counts may overlap named stars.",
        "",
        "## Distinct source stars per class in the pool",
        "",
        "| " + " | ".join(CLASSES) + " |",
        "|" + "---|" * len(CLASSES),
        "| " + " | ".join(str(per_class[c]) for c in CLASSES) + " |",
        "",
        "## Per seed split (stars; test stars are never seen by a GAN or a recogniser)",
        "",
        "| seed | O train | O test | F/G/K train | F/G/K test | O test stars |",
        "|---|---|---|---|---|---|",
    ]
    for s in splits:
        fgk = ["/".join(str(len(side[c])) for c in "FGK") for side in (s.train, s.test)]
        lines.append(f"| {s.seed} | {len(s.train['O'])} | {len(s.test['O'])} | {fgk[0]} | "
                     f"{fgk[1]} | {', '.join(s.test['O'])} |")
    return "\n".join(lines) + "\n"


RUN_COLUMNS = ["run", "arm", "gan", "iteration", "seed", "accuracy", "balanced_accuracy",
               "O_recall", "O_precision", "n_test", "n_test_O", "n_train", "n_augment", "seconds"]


def write_outputs(out: Path, cfg: dict, profile: str, seeds: int, results: list[dict],
                  gan_eval: pd.DataFrame, failures: list[dict], splits: list, pool,
                  o_counts: pd.DataFrame, command: str | None, seconds: float) -> dict:
    """Write every summary file; returns {'table', 'gan_eval', 'runs', 'files', 'failures', 'seconds'}."""
    cols = RUN_COLUMNS
    runs = pd.DataFrame([{c: r.get(c) for c in cols} for r in results], columns=cols)
    from .protocols import load_protocol
    from .summary import write_summary

    proto = load_protocol("lcgan")
    arms = [runner_result(r) for r in results if r["run"] == r["arm"]]
    shared = write_summary(
        proto, arms, [{"row": f["arm"], "seed": f["seed"], "error": f["error"]} for f in failures],
        out, profile=profile, data=f"simulated pool ({len(pool.flux)} spectra)",
        seeds=list(range(seeds)), command=command or "(library call)", rows=list(ARM_LABELS),
    )
    files = {**shared["files"], **{k: out / v for k, v in {
        "arm_runs": "arm_runs.csv", "arms_csv": "arms.csv", "arms_md": "arms.md",
        "sweep": "sweep.csv", "fig_accuracy": "fig_accuracy_vs_iteration.png",
        "fig_gan_eval": "fig_gan_eval_vs_iteration.png", "source_counts": "source_counts.md",
        "report": "report.md"}.items()}}
    _csv(runs, files["arm_runs"])
    table = arm_table(runs)
    _csv(table, files["arms_csv"])
    table_md = _table_md(table)
    atomic_write_text(files["arms_md"], f"# O-star recognition: held-out source stars\n\n{table_md}\n")

    gan_md = {}
    for gan in ("lcgan", "sgan"):
        sub = gan_eval[gan_eval["gan"] == gan] if len(gan_eval) else pd.DataFrame()
        files[f"gan_eval_{gan}"] = out / f"gan_eval_{gan}.csv"
        _csv(sub, files[f"gan_eval_{gan}"])
        summ = gan_eval_summary(gan_eval, gan)
        gan_md[gan] = markdown_table(summ) if len(summ) else "(no checkpoint evaluated)"
        atomic_write_text(out / f"gan_eval_{gan}.md", f"# GAN-train / GAN-test, {gan.upper()} "
                          f"(O vs F, NuSVC rbf; median (min-max) over seeds)\n\n{gan_md[gan]}\n")

    sweep = sweep_frame(runs)
    _csv(sweep, files["sweep"])
    def per_gan(df: pd.DataFrame, metric: str) -> dict[str, pd.DataFrame]:
        return {g.upper(): _median_by(df[df["gan"] == g] if len(df) else df, "iteration", metric)
                for g in ("lcgan", "sgan")}

    def baselines(metric: str) -> dict[str, float]:  # arms (a) and (d) as horizontal lines
        return {ARM_LABELS[a]: float(runs.loc[runs["run"] == a, metric].median()) if len(runs)
                else np.nan for a in ("a_replication", "d_simulator")}

    _figure(files["fig_accuracy"], [
        ("test accuracy (4 classes)", per_gan(sweep, "accuracy"), baselines("accuracy")),
        ("O recall", per_gan(sweep, "O_recall"), baselines("O_recall"))],
        "GAN checkpoint iteration")
    rv = float(gan_eval["real_vs_real"].median()) if "real_vs_real" in gan_eval else np.nan
    _figure(files["fig_gan_eval"], [
        (m.replace("_", "-").upper(), per_gan(gan_eval, m), {"real-vs-real": rv})
        for m in ("gan_train", "gan_test")], "GAN checkpoint iteration")

    counts_md = source_counts_md(o_counts, splits, pool)
    atomic_write_text(files["source_counts"], counts_md)

    report = [
        "# O-star recognition with GAN augmentation (Yang et al. 2021), held-out source stars",
        "",
        f"- profile: `{profile}`, seeds: {seeds}, wall time of this call: {seconds:.0f} s (reused steps cost nothing)",
        f"- command: `{command}`" if command else "- command: (library call)",
        f"- pool: {len(pool.flux)} simulated spectra x {pool.flux.shape[1]} px; "
        f"recogniser classes {', '.join(CLASSES)}, {cfg['n_per_class']} training rows per class",
        f"- failures: {len(failures)} (see failures.csv)",
        "",
        "## Recogniser (RAC-Net), tested on stars no GAN or recogniser saw",
        "",
        table_md,
        "",
        "Mean ± SD over seeds, with the paper's numbers (a best checkpoint, on an all-O validation "
        "set; compare with O recall above); pairwise Cohen's d in significance.md:",
        "",
        (out / "table.md").read_text().split("\n\n", 2)[-1].strip(),
        "",
        "## GAN-train / GAN-test (O vs F)",
        "",
        "### LCGAN",
        "",
        gan_md["lcgan"],
        "",
        "### SGAN",
        "",
        gan_md["sgan"],
        "",
        "Figures: `fig_accuracy_vs_iteration.png` (Fig. 7 analogue), `fig_gan_eval_vs_iteration.png`.",
        "",
        counts_md.replace("# Source stars", "## Source stars").replace("\n## ", "\n### "),
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(cfg, indent=1),
        "```",
        "",
    ]
    atomic_write_text(files["report"], "\n".join(report))
    return {"table": table, "gan_eval": gan_eval, "runs": runs, "files": files,
            "failures": failures, "seconds": seconds}
