"""One way for every command to stop on an error: the message on stderr, then an exit code.

Code 1: the command could not run (bad arguments, config, files). Code 2: the classify,
simulate and features commands' bad-input exits, kept as they were documented and tested.
"""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: object, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with `code`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)
