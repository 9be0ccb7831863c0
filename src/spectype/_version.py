"""The package version, in a leaf module: code that records it (packs, model folders, result
tables) imports it from here, not from `spectype`, whose __init__ imports the API above them."""

__version__ = "0.1.0"  # keep equal to pyproject.toml's version (tests/test_version.py)
