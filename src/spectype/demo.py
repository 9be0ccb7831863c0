"""End-to-end demo on the sample data: catalogue -> dataset pack -> summary (Markdown + PNG).

`make demo` runs `python -m spectype.demo --data ../shared/data --out out/demo`.
Each step is a function taking and returning paths, so later steps (train or load a model,
classify, confusion matrix) slot in after `step_build_dataset`.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path, atomic_write_text


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
    from .catalog import print_summary, scan, write_catalog

    sources = [ctx.data / "lamost", ctx.data / "sdss"]
    missing = [str(p) for p in sources if not p.is_dir()]
    if missing:
        raise SystemExit(f"demo: sample data folders not found: {missing} (pass --data DIR)")
    df = scan(sources, workers=ctx.workers, progress=True)
    path = write_catalog(df, ctx.out / "catalog.parquet")
    ctx.facts["catalog"] = print_summary(df)
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
    fig.tight_layout()
    png = ctx.out / "summary.png"
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)

    cat = ctx.facts.get("catalog", {})
    res = ctx.facts.get("build")
    lines = ["# spectype demo summary", ""]
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


STEPS = [step_catalog, step_build_dataset, step_summary]


def run(data: Path, out: Path, workers: int | None = None) -> DemoContext:
    ctx = DemoContext(Path(data), Path(out), workers or os.cpu_count() or 1)
    ctx.out.mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        t0 = time.perf_counter()
        print(f"== {step.__name__.removeprefix('step_')}: {(step.__doc__ or '').strip().splitlines()[0]}")
        step(ctx)
        ctx.timings[step.__name__.removeprefix("step_")] = time.perf_counter() - t0
    return ctx


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="sample data folder")
    ap.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    ap.add_argument("--workers", type=int, default=0, help="processes (0 = CPU count)")
    args = ap.parse_args(argv)
    ctx = run(args.data, args.out, args.workers or None)
    print("\noutputs:")
    for k, p in ctx.outputs.items():
        print(f"  {k:12s} {p}")


if __name__ == "__main__":
    main()
