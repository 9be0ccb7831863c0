"""The options every command shares, declared once so names, short forms and help agree.

`-o/--output` (with `--out` kept as an alias: older scripts and docs use it), `-j/--workers`,
`--device auto`, `-q/--quiet` (with the older `--progress/--no-progress` kept, hidden) and
`--data-root`.
"""

from __future__ import annotations

from typing import Any

import typer

DEVICE_HELP = "auto (cuda when a GPU is visible, else cpu), cpu, cuda or cuda:N."
DATA_ROOT_HELP = (
    "Shared data folder (libraries/, lamost/, sdss/). Default: $SPECTYPE_DATA, else "
    "../shared/data from the current directory."
)


def output(default: Any = ..., help: str = "Output to write.") -> Any:
    return typer.Option(default, "-o", "--output", "--out", help=help)


def workers(default: Any = 0, help: str = "Worker processes (0 = CPU count).") -> Any:
    return typer.Option(default, "-j", "--workers", help=help)


def device(help: str = DEVICE_HELP) -> Any:
    return typer.Option("auto", "--device", help=help)


def quiet() -> Any:
    return typer.Option(False, "-q", "--quiet", help="No progress bars.")


def legacy_progress(default: bool = True) -> Any:
    """The older switch, hidden from help; `-q` is the one documented."""
    return typer.Option(default, "--progress/--no-progress", hidden=True)


def data_root(help: str = DATA_ROOT_HELP) -> Any:
    return typer.Option(None, "--data-root", help=help)


def json_object(flag: str, text: str) -> dict:
    """The value of a JSON-object option (builder kwargs and the like), or a ConfigError."""
    import json

    from ..errors import ConfigError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{flag} must be a JSON object, got {text!r} ({e})") from e
    if not isinstance(value, dict):
        raise ConfigError(f"{flag} must be a JSON object such as '{{\"key\": [8, 4]}}', got {text!r}")
    return value
