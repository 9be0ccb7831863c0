"""`spectype models`: the registered architectures and their parameter counts."""

from __future__ import annotations

import typer


def models_cmd(
    filter_: str = typer.Option(
        "", "--filter", "-f", help="Shell-style name pattern, e.g. 'cnn1d_*' or 'mm_*'."
    ),
) -> None:
    """List registered models with their parameter counts (each built on CPU with default args)."""
    from rich.console import Console
    from rich.table import Table

    from ..models import count_parameters, create_model, describe_model, list_models

    names = list_models(filter_ or None)
    if not names:
        typer.secho(
            f"no registered model matches {filter_!r}; run `spectype models` for all", err=True
        )
        raise typer.Exit(code=1)
    table = Table("model", "parameters", "description")
    for name in names:
        try:
            params = f"{count_parameters(create_model(name)):,}"
        except Exception as exc:  # one broken builder should not hide the others
            params = f"[red]build failed: {type(exc).__name__}: {exc}[/red]"
        table.add_row(name, params, describe_model(name))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Adds this module's commands to the app."""
    app.command("models")(models_cmd)
