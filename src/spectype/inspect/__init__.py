"""`spectype inspect`: step through classify results in the browser, overlay templates and
line markers, and record corrections in a sidecar table (see docs/inspect.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .session import InspectConfig, InspectSession
from .summary import VettingSummary, summarise
from .vetting import VettingStore, sidecar_path

log = logging.getLogger("spectype.inspect")


def serve(cfg: InspectConfig, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          echo: Callable[[str], None] = log.info) -> None:
    """Serve the page until Ctrl-C; `echo` gets the address and what is being vetted."""
    from .app import InspectServer

    session = InspectSession(cfg)
    server = InspectServer(session, host=host, port=port)
    info = session.info()
    echo(f"inspect: {info['n_view']} of {info['n_rows']} rows ({info['n_vetted']} vetted, "
         f"resuming at {info['start'] + 1}); corrections -> {info['sidecar']}")
    echo(f"inspect: templates from {info['templates'] or 'nowhere (pass --templates DIR)'}")
    echo(f"inspect: open {server.url}  (Ctrl-C to stop)")
    server.serve_forever(open_browser=open_browser)


def vetting_summary(cfg: InspectConfig) -> VettingSummary:
    """Agreement between the model and the sidecar's corrections, with a confusion matrix
    (`.text()` renders it)."""
    from .table import load_results

    results = load_results(cfg.results, cfg.catalog)
    store = VettingStore(cfg.vetted or sidecar_path(cfg.results))
    if not store.path.exists():
        from ..errors import ConfigError

        raise ConfigError(f"{store.path}: no corrections yet; run `spectype inspect {cfg.results}` first")
    return summarise(results, store.frame())


__all__ = ["InspectConfig", "InspectSession", "VettingStore", "VettingSummary",
           "serve", "sidecar_path", "summarise", "vetting_summary"]
