"""Fixtures giving the synthetic-file factories of spectype.testing."""

from __future__ import annotations

import pytest

from spectype.testing import (  # noqa: F401  (re-exported for tests importing from here)
    COEFF0,
    COEFF1,
    N_PIX,
    write_lamost_image,
    write_lamost_table,
)


@pytest.fixture
def lamost_table():
    return write_lamost_table


@pytest.fixture
def lamost_image():
    return write_lamost_image
