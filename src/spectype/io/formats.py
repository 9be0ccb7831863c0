"""Imports every built-in reader module so that each registers itself."""

from . import desi, generic, kesseli, lamost, libraries, miles, sdss, tables, text  # noqa: F401
