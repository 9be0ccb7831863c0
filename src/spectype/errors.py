"""The project's own error types.

Every error says what happened and what to do. Readers raise `SpectrumReadError` naming the
file; batch jobs catch `SpectypeError` per item, record the message and go on.
"""

from __future__ import annotations

import os


class SpectypeError(Exception):
    """Base class for every error spectype raises on purpose."""


def display_path(path: str | bytes | os.PathLike) -> str:
    """A file name that can always be printed: bytes that are not UTF-8 (b'bad\\xe9.fits')
    are shown as backslash escapes ('bad\\xe9.fits') instead of raising UnicodeEncodeError."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class SpectrumReadError(SpectypeError):
    """A file could not be read as a spectrum.

    The message always names the file, the problem and, where there is one, what to do.
    `path` keeps the name as given (lossless, may hold surrogate escapes); the message shows
    it with `display_path`. `kind` is a short stable tag for batch error rows.
    """

    kind = "unreadable"

    def __init__(self, path: str | bytes | os.PathLike | None, problem: str, hint: str | None = None):
        self.path = None if path is None else os.fsdecode(path)
        self.problem = problem
        self.hint = hint
        where = f"{display_path(self.path)}: " if self.path else ""
        msg = f"{where}{problem}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


# The reader error taxonomy (docs/formats.md, "Errors"). Every class names the file.


class MissingFileError(SpectrumReadError):
    """The path does not exist (or is a directory where a file was expected)."""

    kind = "missing"


class SpecialFileError(SpectrumReadError):
    """Not a regular file: FIFO, socket, device, symlink loop or dangling symlink. Never opened."""

    kind = "special-file"


class FileTooLargeError(SpectrumReadError):
    """The file (or what a .gz inflates to, or what its header declares) is above the size cap."""

    kind = "too-large"


class TruncatedFileError(SpectrumReadError):
    """The file ends before its own structure says it should (cut download, partial copy)."""

    kind = "truncated"


class CorruptFileError(SpectrumReadError):
    """The bytes are damaged: bad gzip data or CRC, invalid FITS header values."""

    kind = "corrupt"


class NotASpectrumError(SpectrumReadError):
    """The file is readable but is not a spectrum any reader knows."""

    kind = "not-a-spectrum"


class UnknownFormatError(NotASpectrumError):
    """No registered reader recognised the file."""


class UnsupportedLayoutError(SpectrumReadError):
    """A known format, but a layout or feature variant the reader does not handle."""

    kind = "unsupported-layout"


class BadWavelengthError(SpectrumReadError):
    """The wavelength axis is not finite and strictly increasing (or cannot be built)."""

    kind = "bad-wavelength"


class NoUsablePixelsError(SpectrumReadError):
    """Every pixel is NaN/inf, masked, or has zero inverse variance."""

    kind = "no-usable-pixels"


class BadRedshiftError(SpectrumReadError):
    """The header redshift is not physical (z <= -1 or not finite)."""

    kind = "bad-redshift"


class CoverageError(SpectypeError):
    """A spectrum does not cover the wavelength window the model needs."""


class LabelError(SpectypeError):
    """A spectral-type string could not be parsed."""


class ConfigError(SpectypeError):
    """A configuration value is missing or invalid."""


class ModelLoadError(SpectypeError):
    """A model folder is missing files or is not a spectype model."""
