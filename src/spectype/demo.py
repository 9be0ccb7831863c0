"""End-to-end demo on the sample data: the main job and the data path behind it.

classify (shipped model) -> confusion matrix against the header labels -> catalogue ->
dataset pack -> summary (Markdown + PNG).

`make demo` runs `spectype demo --data-root ../shared/data -o out/demo` (the same as
`python -m spectype.demo`). Steps log their progress (`spectype.demo`); the command prints.
Each step is a function of a shared context, run in order.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_write_text
from .plots import save_figure

log = logging.getLogger("spectype.demo")


@dataclass
class DemoContext:
    """What the steps share: inputs, the output folder, and what each step produced."""

    data: Path
    out: Path
    workers: int
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)


def step_catalog(ctx: DemoContext) -> Path:
    """Catalogue every file under data/lamost and data/sdss."""
    from .catalog import scan, summarize, write_catalog

    sources = [ctx.data / "lamost", ctx.data / "sdss"]
    df = scan(sources, workers=ctx.workers, progress=True)
    path = write_catalog(df, ctx.out / "catalog.parquet")
    ctx.facts["catalog"] = cat = summarize(df)
    log.info("   %d spectra in %d files: %s", cat["spectra"], cat["files"],
             ", ".join(f"{k} {v}" for k, v in cat["status"].items()))
    ctx.outputs["catalog"] = path
    return path


def step_build_dataset(ctx: DemoContext) -> Path:
    """Pack classes with >= 5 usable spectra, SNR_i > 10, 8:1:1 grouped split, no balancing."""
    from .datasets import DatasetConfig, build_dataset

    cfg = DatasetConfig(min_snr=10.0, min_per_class=5, balance=0, seed=0)
    res = build_dataset(ctx.outputs["catalog"], ctx.out / "data.h5", cfg,
                        workers=ctx.workers, progress=True)
    ctx.facts["build"] = res
    ctx.outputs["pack"] = res.path
    return res.path


def _mean_spectra(pack, max_per_class: int = 300) -> dict[str, np.ndarray]:
    """(n_pix,) mean normalised flux per class, from up to `max_per_class` rows each."""
    out = {}
    for i, c in enumerate(pack.class_names):
        rows = np.flatnonzero(pack.labels == i)[:max_per_class]
        out[c] = pack.read_flux(rows).mean(axis=0)
    return out


def step_summary(ctx: DemoContext) -> tuple[Path, Path]:
    """summary.png (counts per split, SNR_i histogram, mean spectrum per class) + summary.md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .datasets import SPLITS, Pack

    pack = Pack(ctx.outputs["pack"])
    counts = {s: np.bincount(pack.labels[pack.indices(s)], minlength=len(pack.class_names)) for s in SPLITS}
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    x = np.arange(len(pack.class_names))
    for k, s in enumerate(SPLITS):
        axes[0].bar(x + (k - 1) * 0.27, counts[s], width=0.27, label=s)
    axes[0].set_xticks(x, pack.class_names)
    axes[0].set_yscale("log")
    axes[0].set_title("spectra per class and split")
    axes[0].legend()
    snr = pack.snr_i[np.isfinite(pack.snr_i)]
    if len(snr):
        axes[1].hist(snr, bins=np.logspace(1, np.log10(max(snr.max(), 11)), 30))
        axes[1].set_xscale("log")
    axes[1].set_title("SNR i (packed spectra)")
    axes[1].set_xlabel("SNR_i")
    means = _mean_spectra(pack)
    for k, (c, m) in enumerate(means.items()):
        axes[2].plot(pack.wavelength, m + 0.5 * k, lw=0.7, label=c)
    axes[2].set_title("mean normalised spectrum per class (offset)")
    axes[2].set_xlabel("wavelength (Å, rest frame, vacuum)")
    axes[2].legend(fontsize=8)
    png = save_figure(fig, ctx.out / "summary.png", dpi=110)

    cat = ctx.facts.get("catalog", {})
    res = ctx.facts.get("build")
    lines = ["# spectype demo summary", ""]
    cls = ctx.facts.get("classify")
    if cls is not None:
        acc, n = ctx.facts.get("header_agreement", (float("nan"), 0))
        lines += [
            f"Classify (shipped model): {cls.n_ok} spectra from {cls.n_files} files, {cls.n_errors} "
            f"errors, {cls.spectra_per_second:.0f} spectra/s; results `classified.parquet`, figures "
            f"`classified_plots/`. Agreement with the header class: {acc:.3f} over {n} labelled "
            "spectra (`confusion.png`, `confusion.csv`). These are the model's training-source "
            "files, so this is a smoke check, not a held-out score (see README).", "",
        ]
    if cat:
        st = cat["status"]
        lines += [
            f"Catalogue: {cat['files']} files, {cat['spectra']} spectra "
            f"(ok {st['ok']}, excluded {st['excluded']}, error {st['error']}).", "",
        ]
    lines += [
        f"Pack `{pack.path.name}`: {len(pack)} spectra on a {pack.n_pix}-pixel grid "
        f"({pack.wavelength[0]:.0f}-{pack.wavelength[-1]:.0f} Å), {pack.n_dropped} dropped in "
        f"preprocessing, leaky={pack.leaky}.", "",
        "| class | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS),
    ]
    for i, c in enumerate(pack.class_names):
        lines.append(f"| {c} | " + " | ".join(str(int(counts[s][i])) for s in SPLITS) + " |")
    if res is not None:
        lines += ["", "Selection cuts (rows removed): "
                  + ", ".join(f"{k} {v}" for k, v in res.cuts.items()) + "."]
    if pack.notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in pack.notes]
    lines += ["", "Step times: " + ", ".join(f"{k} {v:.1f} s" for k, v in ctx.timings.items()) + ".",
              "", "![summary](summary.png)", ""]
    md = ctx.out / "summary.md"
    atomic_write_text(md, "\n".join(lines))
    ctx.outputs["summary_md"], ctx.outputs["summary_png"] = md, png
    return md, png


def step_classify(ctx: DemoContext) -> Path:
    """Classify every LAMOST and SDSS spectrum in the sample with the shipped model."""
    from .batch import ClassifyOptions, classify_files

    sources = [ctx.data / "lamost", ctx.data / "sdss"]
    out = ctx.out / "classified.parquet"
    # --fresh semantics: the demo shows a whole run, not a resumed one.
    summary = classify_files(sources, out, options=ClassifyOptions(workers=ctx.workers, resume=False, plot=8))
    log.info("   %d spectra classified from %d files, %d errors, %.1f s (%.0f spectra/s)", summary.n_ok,
             summary.n_files, summary.n_errors, summary.seconds, summary.spectra_per_second)
    ctx.facts["classify"] = summary
    ctx.outputs["classified"] = out
    ctx.outputs["classify_plots"] = out.with_name(out.stem + "_plots")
    return out


def step_confusion(ctx: DemoContext) -> Path:
    """Compare predictions with the survey's header classes: confusion matrix PNG + CSV."""
    import pandas as pd

    from .evaluate.confusion import confusion_counts, plot_confusion, write_confusion_csv
    from .labels import parse_label
    from .models.release import load_model

    classes = load_model().class_names
    df = pd.read_parquet(ctx.outputs["classified"])
    df = df[df.status == "ok"].copy()
    df["header_cls"] = [parse_label(s, c).cls for s, c in zip(df.header_subclass, df.header_class, strict=True)]
    df = df[df.header_cls.isin(classes)]
    index = {c: i for i, c in enumerate(classes)}
    cm = confusion_counts(df.header_cls.map(index).to_numpy(), df.pred_class.map(index).to_numpy(), len(classes))
    acc = float((df.header_cls == df.pred_class).mean()) if len(df) else float("nan")
    png, csv = ctx.out / "confusion.png", ctx.out / "confusion.csv"
    plot_confusion(cm, classes, png, title=f"shipped model vs LAMOST/SDSS header class (n={len(df)}, accuracy {acc:.3f})")
    write_confusion_csv(cm, classes, csv)
    log.info("   agreement with header classes: %.3f over %d labelled spectra", acc, len(df))
    ctx.facts["header_agreement"] = (acc, len(df))
    ctx.outputs["confusion_png"], ctx.outputs["confusion_csv"] = png, csv
    return png


STEPS = [step_classify, step_confusion, step_catalog, step_build_dataset, step_summary]


def check_data(data: Path) -> None:
    """Stop before any work when the sample folders are missing, naming what to pass."""
    from .errors import ConfigError

    missing = [str(data / d) for d in ("lamost", "sdss") if not (data / d).is_dir()]
    if missing:
        raise ConfigError(
            f"demo: sample data folders not found: {', '.join(missing)}; pass --data-root DIR "
            "(the folder holding lamost/ and sdss/) or set SPECTYPE_DATA=DIR"
        )


def run(data: Path | None, out: Path, workers: int | None = None) -> DemoContext:
    """Run every step on the sample data under `data` (default: runtime.data_root())."""
    from .runtime import data_root

    data = data_root(data)
    check_data(data)
    ctx = DemoContext(Path(data), Path(out), workers or os.cpu_count() or 1)
    ctx.out.mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        t0 = time.perf_counter()
        log.info("== %s: %s", step.__name__.removeprefix("step_"), (step.__doc__ or "").strip().splitlines()[0])
        step(ctx)
        ctx.timings[step.__name__.removeprefix("step_")] = time.perf_counter() - t0
    return ctx


if __name__ == "__main__":
    # `python -m spectype.demo` is `spectype demo` itself (options, messages, exit codes). Run
    # this way the file is `__main__`, not `spectype.demo`, so the CLI import makes no cycle.
    from spectype.cli import demo_main

    sys.exit(demo_main())
