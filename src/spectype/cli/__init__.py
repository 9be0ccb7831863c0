"""The `spectype` command: a thin typer app over the library.

Each command family lives in its own module with a `register(app)` function, so that
command modules stay small and separately owned.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="spectype",
    help="MK classification of low-resolution stellar spectra.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root() -> None:
    """MK classification of low-resolution stellar spectra."""


@app.command()
def version() -> None:
    """Print the spectype version."""
    from .. import __version__

    typer.echo(__version__)


def _register_all() -> None:
    from . import (
        classify_cmds,
        data_cmds,
        eval_cmds,
        features_cmds,
        gan_cmds,
        inspect_cmds,
        model_cmds,
        simulate_cmds,
        train_cmds,
    )

    for mod in (data_cmds, model_cmds, train_cmds, eval_cmds, classify_cmds, simulate_cmds, gan_cmds,
                features_cmds, inspect_cmds):
        mod.register(app)


_register_all()


def main() -> None:
    app()
