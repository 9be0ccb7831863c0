"""File names as bytes: any name the filesystem allows is classified, stored and resumed.

POSIX file names are bytes. Python hands undecodable bytes to us as lone surrogates
(surrogateescape), which Parquet, CSV and terminals refuse ("surrogates not allowed"). So a
result row carries two forms of its path:

- `path`: readable text; an undecodable byte shows as `\\xNN` (e.g. `bad\\xe9.fits.gz`);
- `path_hex`: the exact bytes as hex, only for names that are not valid UTF-8 (else null).

Resume matches on `path_key` (the exact bytes of the absolute path), never on the display text.
"""

from __future__ import annotations

import os


def absolute(path: str | os.PathLike) -> str:
    """The absolute, normalised form of a path (symlinks kept: the user's name for the file).

    `data/x.fits` and `/home/me/data/x.fits` become the same string, so giving a folder once as
    a relative and once as an absolute path never classifies its files twice.
    """
    return os.path.abspath(os.fspath(path))


def path_key(path: str | os.PathLike) -> bytes:
    """The exact bytes of a path: the identity used for resume."""
    return os.fsencode(path)


def display_text(text: str) -> str:
    """`text` as valid UTF-8: undecodable bytes (lone surrogates) become `\\xNN`."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that did not come from a file name
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def path_hex(path: str) -> str | None:
    """Hex of the path's bytes when they are not valid UTF-8 (the lossless column), else None."""
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError:
        return raw.hex()


def key_from_columns(path: str, hex_value) -> bytes:
    """Rebuild `path_key` from a result row's `path` / `path_hex` columns."""
    if isinstance(hex_value, str) and hex_value:
        return bytes.fromhex(hex_value)
    return str(path).encode("utf-8")
