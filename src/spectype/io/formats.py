"""Imports every built-in reader module so that each registers itself."""

from . import generic, kesseli, lamost, libraries, miles, sdss, text  # noqa: F401
