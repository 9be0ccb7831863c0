"""Where the library's messages reach the user: the library logs to `spectype.*` loggers and
returns results; the command line shows INFO and above on stderr through rich."""

from __future__ import annotations

import contextlib
import logging

_MARK = "_spectype_cli"


def configure(level: int = logging.INFO) -> None:
    """Attach one rich handler to the `spectype` logger (again-safe: tests invoke many commands)."""
    logger = logging.getLogger("spectype")
    logger.setLevel(level)
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    from rich.console import Console
    from rich.logging import RichHandler

    # stderr=True resolves sys.stderr at each write, so a test runner's capture still sees it.
    handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False,
                          markup=False, rich_tracebacks=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)


@contextlib.contextmanager
def silenced(name: str):
    """Keep logger `name` from reaching the user while a command reports the same facts itself."""
    logger = logging.getLogger(name)
    before = logger.propagate
    logger.propagate = False
    logger.addHandler(null := logging.NullHandler())
    try:
        yield
    finally:
        logger.removeHandler(null)
        logger.propagate = before
