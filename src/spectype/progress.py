"""One progress-bar style for every long job (catalogue, packing, classify, training, simulate).

`progress_bar(enabled)` always returns a rich `Progress`; when disabled it draws nothing, so
callers never branch on whether a bar exists.
"""

from __future__ import annotations


def progress_bar(enabled: bool = True, unit: str = ""):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )
