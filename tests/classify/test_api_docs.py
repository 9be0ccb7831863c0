"""docs/api.md's examples run as doctests, so the documented API cannot drift."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_api_doc_examples_run():
    from spectype.models.release import CONFIG, default_model_folder

    if not (default_model_folder() / CONFIG).is_file():
        pytest.skip("the shipped model is not installed")
    pytest.importorskip("specutils")
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 20 and result.failed == 0, result
