"""`spectype demo`: the end-to-end demo on the sample data (same as `python -m spectype.demo`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._errors import fail


def demo_cmd(
    data_root: Path | None = typer.Option(
        None, "--data-root", "--data",
        help="Sample data folder holding lamost/ and sdss/ (default: $SPECTYPE_DATA, else "
             "../shared/data from the current directory).",
    ),
    output: Path = typer.Option(Path("out/demo"), "-o", "--output", "--out", help="Output folder."),
    workers: int = typer.Option(0, "-j", "--workers", help="Processes (0 = CPU count)."),
) -> None:
    """Classify the sample spectra, compare with their header classes, catalogue and pack them."""
    from ..demo import run
    from ..errors import SpectypeError

    try:
        ctx = run(data_root, output, workers or None)
    except SpectypeError as exc:
        fail(exc, code=2)
    typer.echo("\noutputs:")
    for name, path in ctx.outputs.items():
        typer.echo(f"  {name:12s} {path}")


def register(app: typer.Typer) -> None:
    """Adds `demo` to the app."""
    app.command("demo")(demo_cmd)

