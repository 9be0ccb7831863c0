"""`spectype classify`: the main job."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)


def classify(
    paths: list[Path] = typer.Argument(..., help="Spectrum files, directories (recursive) or a catalogue (.parquet/.csv with a 'path' column)."),
    output: Path = typer.Option(..., "-o", "--output", help="Results table: .parquet or .csv."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder (model.safetensors + config.json). Default: the shipped model."),
    batch_size: int = typer.Option(128, help="Spectra per forward pass (CPU: 64-128 is fastest; GPU: try 1024)."),
    workers: int | None = typer.Option(None, help="Reader processes (default: all cores)."),
    device: str = typer.Option("cpu", help="cpu, cuda or cuda:N."),
    plot: int = typer.Option(0, "--plot", help="Write a figure for the first N spectra."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore an existing output instead of resuming."),
    backend: str = typer.Option("local", help="local (process pool) or ray (a Ray cluster; `ray start` first)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Classify spectra with a released model; resumable, a bad file is recorded and skipped."""
    from rich.console import Console

    from ..classify import ClassifyOptions, classify_files
    from ..errors import SpectypeError

    console = Console(stderr=True)
    opts = ClassifyOptions(batch_size=batch_size, workers=workers, device=device, plot=plot,
                           resume=not fresh, progress=not quiet)
    try:
        if backend == "ray":
            from ..distributed.ray_classify import classify_files_ray

            summary = classify_files_ray(paths, output, model, opts)
        elif backend == "local":
            summary = classify_files(paths, output, model, opts)
        else:
            raise typer.BadParameter(f"unknown backend {backend!r}: use local or ray")
    except SpectypeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(
        f"classified {summary.n_ok} spectra from {summary.n_files} files "
        f"({summary.n_errors} errors, {summary.n_skipped} files already done) in {summary.seconds:.1f} s "
        f"= {summary.spectra_per_second:.0f} spectra/s -> {summary.output}"
    )
    for _path, err in summary.errors[:10]:
        console.print(f"  [yellow]skipped[/yellow] {err}")
    if len(summary.errors) > 10:
        console.print(f"  ... and {len(summary.errors) - 10} more (see the status/error columns)")
