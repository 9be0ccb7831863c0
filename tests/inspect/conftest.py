"""Fixtures for the inspect tests (helpers live in inspect_helpers.py).

No __init__.py here: a package named `inspect` would shadow the standard library's module."""

from inspect_helpers import small_session_files  # noqa: F401  (a fixture)
