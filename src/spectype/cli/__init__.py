"""The `spectype` command: a thin typer app over the library.

Each command family lives in its own module with a `register(app)` function, so that
command modules stay small and separately owned.

Conventions every command follows (README, "Command line"): `-h/--help`; `-o/--output` for
what a command writes (`--out` is kept as an alias); `-j/--workers` for processes or
threads; `--device auto` (cuda when visible, else cpu); `-q/--quiet` to hide progress bars;
`--data-root` (or $SPECTYPE_DATA) for the shared data folder.
"""

from __future__ import annotations

import typer

# Inherited by every sub-command and sub-app context, so `spectype gan train -h` works too.
CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="spectype",
    help="MK classification of low-resolution stellar spectra.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings=CONTEXT,
)


def _print_version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"spectype {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True,
        help="Print the spectype version and exit.",
    ),
) -> None:
    """MK classification of low-resolution stellar spectra."""
    from ._logging import configure

    configure()


@app.command()
def version() -> None:
    """Print the spectype version."""
    from .._version import __version__

    typer.echo(__version__)


def _register_all() -> None:
    from . import (
        benchmark_cmds,
        classify_cmds,
        data_cmds,
        demo_cmds,
        eval_cmds,
        features_cmds,
        fetch_cmds,
        gan_cmds,
        inspect_cmds,
        model_cmds,
        simulate_cmds,
        train_cmds,
    )

    for mod in (data_cmds, model_cmds, train_cmds, eval_cmds, classify_cmds, simulate_cmds, gan_cmds,
                features_cmds, fetch_cmds, demo_cmds, inspect_cmds, benchmark_cmds):
        mod.register(app)


_register_all()


def main() -> None:
    app()


def demo_main(argv: list[str] | None = None) -> int:
    """`python -m spectype.demo`: `spectype demo` itself, so options, messages and exit codes
    (2 with a message, never a traceback, when the data is missing) are the command's."""
    import sys

    try:
        app(["demo", *(sys.argv[1:] if argv is None else argv)], prog_name="python -m spectype.demo")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0
