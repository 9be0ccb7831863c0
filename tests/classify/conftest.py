"""Fixtures for the classify tests live in classify_support (importable by name: a second
`conftest` module elsewhere in tests/ would shadow this one when imported as `conftest`)."""

from classify_support import *  # noqa: F401,F403
