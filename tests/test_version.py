"""One version number: the package's and pyproject.toml's agree (packs and model folders record it)."""

import tomllib
from pathlib import Path

import spectype
from spectype._version import __version__


def test_version_matches_pyproject():
    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert spectype.__version__ == __version__ == meta["project"]["version"]
