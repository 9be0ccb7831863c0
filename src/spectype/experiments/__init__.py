"""Paper protocols (YAML under protocols/) and the multi-seed runner (`reproduce`)."""

from .protocols import Profile, Protocol, Row, builtin_protocols, load_protocol

__all__ = ["Profile", "Protocol", "Row", "builtin_protocols", "load_protocol", "reproduce"]


def __getattr__(name: str):
    if name in ("reproduce", "ReproduceResult"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
