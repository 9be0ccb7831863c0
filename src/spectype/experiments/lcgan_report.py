"""Output files of the O-star recognition experiment (lcgan.py), written atomically. The four arms
go through `experiments.summary` as table3/table4 do (runs.csv, table.md, per_class.md with O
recall, significance.md, confusion_<arm>.png, failures.csv); the study's own: recognisers.csv
(every recogniser, sweep checkpoints too), gan_eval.csv and gan_eval.md (GAN-train /
GAN-test per checkpoint), fig_accuracy_vs_iteration.png (Fig. 7), source_counts.md, report.md.
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

COLUMNS = ["run", "row", "gan", "iteration", "seed", "test_acc", "balanced_accuracy", "O_recall",
           "O_precision", "n_test", "n_train", "n_augment", "train_seconds"]


def gan_eval_md(gan_eval: pd.DataFrame) -> str:
    """Per GAN and checkpoint: median (min-max) over seeds of GAN-train, GAN-test, ..."""
    cols = [c for c in ("gan_train", "gan_test", "gan_test_recall", "real_vs_real") if c in gan_eval]
    if gan_eval.empty or not cols:
        return "(no checkpoint evaluated)"
    g = gan_eval.dropna(subset=["iteration"]).groupby(["gan", "iteration"])
    table = g[cols].agg(lambda v: f"{v.median():.3f} ({v.min():.3f}-{v.max():.3f})").reset_index()
    return markdown_table(table.assign(seeds=g.size().to_numpy(), iteration=table["iteration"].astype(int)))


def _figure(path: Path, runs: pd.DataFrame, gan_eval: pd.DataFrame) -> None:
    """Median and IQR over seeds per GAN checkpoint; arms (a)/(d) and real-vs-real as lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    FigureCanvasAgg(fig := Figure(figsize=(16, 3.8)))
    panels = [(runs, m, {a: runs.loc[runs["run"] == a, m] for a in ("a_replication", "d_simulator")})
              for m in ("test_acc", "O_recall")] + [
        (gan_eval, m, {"real-vs-real": gan_eval.get("real_vs_real", pd.Series(dtype=float))})
        for m in ("gan_train", "gan_test")]
    for ax, (df, metric, lines) in zip(fig.subplots(1, 4), panels, strict=True):
        for gan in ("lcgan", "sgan"):
            sub = df[df["gan"] == gan].dropna(subset=[metric]) if metric in df else pd.DataFrame()
            if len(sub):
                q = sub.groupby("iteration")[metric].quantile([0.25, 0.5, 0.75]).unstack()
                ax.plot(q.index, q[0.5], marker="o", label=gan.upper())
                ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        for (label, v), ls in zip(lines.items(), ("--", ":"), strict=False):
            if len(v.dropna()):
                ax.axhline(float(v.median()), ls=ls, color="grey", label=label)
        ax.set(xlabel="GAN checkpoint iteration", ylabel=metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100)


def source_counts_md(o_counts: pd.DataFrame, splits: list, pool) -> str:
    first = np.unique(pool.pack.groups, return_index=True)[1]
    per_class = pd.DataFrame([np.bincount(pool.pack.labels[first], minlength=len(CLASSES))], columns=list(CLASSES))
    lines = [f"| {s.seed} | {len(s.train['O'])} | {len(s.test['O'])} | "
             + " | ".join("/".join(str(len(side[c])) for c in "FGK") for side in (s.train, s.test))
             + f" | {', '.join(s.test['O'])} |" for s in splits]
    return "\n".join([
        "# Source stars", "", "## Distinct O stars per library (simulated)", "", markdown_table(o_counts, ".0f"),
        "", "## Distinct source stars per class in the pool", "", markdown_table(per_class, ".0f"), "",
        "## Per seed split (stars; test stars are never seen by a GAN or a recogniser)", "",
        "| seed | O train | O test | F/G/K train | F/G/K test | O test stars |", "|---|---|---|---|---|---|",
        *lines]) + "\n"


def write_outputs(out: Path, cfg: dict, profile: str, seeds: int, results: list[dict],
                  gan_eval: pd.DataFrame, failures: list[dict], splits: list, pool,
                  o_counts: pd.DataFrame, command: str | None, seconds: float) -> dict:
    """Write every file; returns {'table', 'gan_eval', 'runs', 'files', 'failures', 'seconds'}."""
    from .protocols import load_protocol
    from .summary import write_summary

    shared = write_summary(
        proto := load_protocol("lcgan"), [r for r in results if r["run"] == r["row"]],
        [{"row": f["arm"], "seed": f["seed"], "error": f["error"]} for f in failures], out, profile=profile,
        data=f"simulated pool ({len(pool.pack)} spectra)", seeds=list(range(seeds)),
        command=command or "(library call)", rows=list(proto.rows))
    files = {**shared["files"], **{k: out / k for k in ("recognisers.csv", "gan_eval.csv", "gan_eval.md",
                                                        "fig_accuracy_vs_iteration.png", "source_counts.md", "report.md")}}
    runs, gan_md = pd.DataFrame(results, columns=COLUMNS), gan_eval_md(gan_eval)
    atomic_write_text(files["recognisers.csv"], runs.to_csv(index=False))
    atomic_write_text(files["gan_eval.csv"], gan_eval.to_csv(index=False))
    atomic_write_text(files["gan_eval.md"], f"# GAN-train / GAN-test (O vs F, NuSVC rbf; median "
                      f"(min-max) over seeds)\n\n{gan_md}\n")
    _figure(files["fig_accuracy_vs_iteration.png"], runs, gan_eval)
    atomic_write_text(files["source_counts.md"], counts_md := source_counts_md(o_counts, splits, pool))
    o_recall = (pc := shared["per_class"])[pc["class"] == "O"][["row", "recall", "recall_std", "precision", "n_runs"]]
    atomic_write_text(files["report.md"], "\n".join([
        "# O-star recognition with GAN augmentation (Yang et al. 2021), held-out source stars", "",
        f"- profile `{profile}`, seeds {seeds}, wall time of this call {seconds:.0f} s (reused steps cost nothing)",
        f"- command: `{command or '(library call)'}`",
        f"- pool: {len(pool.pack)} simulated spectra x {pool.pack.n_pix} px; classes {', '.join(CLASSES)}; "
        f"{cfg['n_per_class']} training rows per class at least; failures: {len(failures)} (failures.csv)", "",
        "## Recogniser (RAC-Net), tested on stars no GAN or recogniser saw", "",
        (out / "table.md").read_text().split("\n\n", 2)[-1].strip(), "",
        "O recall and precision (mean over seeds; the paper's accuracy is on an all-O set, so compare "
        "O recall); all classes in per_class.md, pairwise Cohen's d in significance.md:", "",
        markdown_table(o_recall, ".3f"), "", "## GAN-train / GAN-test (O vs F)", "", gan_md, "",
        "Figure: `fig_accuracy_vs_iteration.png` (Fig. 7 analogue); per run: recognisers.csv.", "",
        counts_md.replace("# Source stars", "## Source stars").replace("\n## ", "\n### "), "",
        "## Settings", "", "```json", json.dumps(cfg, indent=1), "```", ""]))
    return {"table": shared["table"], "gan_eval": gan_eval, "runs": runs, "files": files,
            "failures": failures, "seconds": seconds}
