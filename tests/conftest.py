"""Shared test fixtures. Tests never copy files from ../shared; they generate small ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SPECTYPE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip with the reason when it is not beside the checkout."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data not found at {SHARED_DATA} (set SPECTYPE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _seeded_global_rngs():
    """Seed the global RNGs before every test. With `-n 2 --dist loadfile` the files a worker
    runs before a given one vary from run to run, so a test that draws from a global RNG (a
    model's initial weights, say) would otherwise see a different draw each run."""
    import random

    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
