"""Imports every built-in reader module so that each registers itself."""

from . import (  # noqa: F401
    desi,
    generic,
    kesseli,
    lamost,
    libraries,
    miles,
    sdss,
    specutils_fallback,
    tables,
    text,
)
