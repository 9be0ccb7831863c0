"""`spectype evaluate` and `spectype reproduce`: thin commands over evaluate/ and experiments/."""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail


def evaluate_cmd(
    run_or_model: Path = typer.Argument(..., help="A training run folder (uses best/) or a model folder."),
    data: Path = typer.Option(..., "--data", help="HDF5 pack to evaluate on."),
    split: str = typer.Option("test", "--split", help="train, val or test (the pack's stored split)."),
    out: Path = opt.output(None, help="Output folder (default: RUN_OR_MODEL/eval-SPLIT)."),
    batch_size: int = typer.Option(256, "--batch-size", help="Spectra per inference batch."),
    device: str = opt.device(),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write the PNG figures."),
) -> None:
    """Accuracy, per-class precision/recall/F1, confusion matrix and errors by subtype.

    Writes metrics.json, per_class.csv, confusion.csv/.png, errors_by_subtype.csv/.png,
    predictions.csv and report.md.
    """
    from ..errors import SpectypeError
    from ..evaluate.run import evaluate_model

    try:
        res = evaluate_model(run_or_model, data, split=split, out_dir=out, batch_size=batch_size,
                             device=device, plots=plots)
    except SpectypeError as exc:
        fail(str(exc))
    b = res.metrics["boundary"]
    typer.echo(f"accuracy {res.accuracy:.4f} on {res.metrics['n']} {split} spectra")
    if b["n_errors"]:
        typer.echo(f"errors to an adjacent class: {b['n_errors_adjacent']}/{b['n_errors']}")
    typer.echo(f"report: {res.files['report']}")


def reproduce_cmd(
    table: str = typer.Argument(..., help="Protocol: table3, table4, lcgan, or a protocol .yaml path."),
    data: Path = typer.Option(None, "--data", help="HDF5 pack (all rows are re-split per seed). For lcgan, the same as --data-root."),
    data_root: Path = opt.data_root("lcgan only: " + opt.DATA_ROOT_HELP),
    seeds: int = typer.Option(10, "--seeds", help="Number of seeds: runs seeds 0..N-1 (the paper: 10)."),
    profile: str = typer.Option("quick", "--profile", help="quick (CPU, minutes), paper (GPU, the paper's scale) or faithful (paper + the paper's own departures; see docs/reproduction.md)."),
    out: Path = opt.output(None, help="Output folder (default runs/reproduce/TABLE-PROFILE)."),
    rows: str = typer.Option(None, "--rows", help="Comma-separated rows, e.g. mm_1d,mm_all (default: all)."),
    epochs: int = typer.Option(None, "--epochs", help="Override the profile's epochs."),
    device: str = opt.device(),
    set_: list[str] = typer.Option([], "--set", "-s", help="Extra training override key=value (wins over the profile)."),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="Per-epoch progress bars."),
    split_order: str = typer.Option("split-then-replicate", "--split-order", help="split-then-replicate (grouped split, then replication of train only) or replicate-then-split (the paper's order: copies reach the test set; measures the leak)."),
) -> None:
    """Run a paper table over N seeds: mean ± std accuracy, per-class F1, Cohen's d and power.

    Each seed k trains with initialisation k on grouped split k. Finished (row, seed) runs are
    skipped, so re-running the same command resumes. Writes table.md/.csv, runs.csv,
    per_class.md/.csv, significance.md/.csv and confusion_<row>.png in the output folder.
    """
    from ..errors import SpectypeError
    from ..experiments.runner import reproduce

    if table == "lcgan":
        _reproduce_lcgan(data_root or data, seeds, profile, out, device, progress)
        return
    if data is None:
        fail(f"reproduce {table} needs --data PACK (build one with `spectype build-dataset`)")
    row_list = [r.strip() for r in rows.split(",") if r.strip()] if rows else None
    try:
        res = reproduce(table, data, seeds=seeds, profile=profile, out=out, rows=row_list,
                        epochs=epochs, device=device, overrides=list(set_), progress=progress,
                        split_order=split_order)
    except SpectypeError as exc:
        fail(str(exc))
    _print_table(res.title, res.table)
    typer.echo(f"tables: {res.files['table_md']} (and runs.csv, per_class.md, significance.md)")
    if res.failures:
        typer.secho(f"{len(res.failures)} run(s) failed; see {res.files['failures']}",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=2)


def _reproduce_lcgan(data, seeds, profile, out, device, progress) -> None:
    """The O-star paper's protocol: GAN-train/GAN-test and the four-arm recognition table."""
    import sys

    from ..errors import SpectypeError
    from ..experiments.lcgan import run_lcgan_protocol

    out = out or Path(f"runs/reproduce/lcgan-{profile}")
    try:
        res = run_lcgan_protocol(out, profile=profile, seeds=seeds, data_root=data, device=device,
                                 progress=progress, command=" ".join(sys.argv))
    except SpectypeError as exc:
        fail(str(exc))
    typer.echo(f"table: {res['files']['table_md']} (report.md, gan_eval.md and the figure beside it)")
    if res["failures"]:
        typer.secho(f"{len(res['failures'])} run(s) failed; see {out}/failures.csv", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=2)


def _print_table(title: str, table) -> None:
    """The reproduced table with the paper's numbers beside it."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for col in ("row", "model", "runs", "test accuracy (%)", "paper (%)"):
        t.add_column(col)
    for line in table.itertuples(index=False):
        acc = "n/a" if np.isnan(line.mean_acc) else f"{100 * line.mean_acc:.2f}"
        if not np.isnan(line.std_acc):
            acc += f" ± {100 * line.std_acc:.2f}"
        t.add_row(line.row, line.model, str(line.n_runs), acc, line.paper or "")
    Console().print(t)


def register(app: typer.Typer) -> None:
    """Adds `evaluate` and `reproduce` to the app."""
    app.command("evaluate")(evaluate_cmd)
    app.command("reproduce")(reproduce_cmd)
