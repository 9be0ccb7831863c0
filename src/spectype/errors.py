"""The project's own error types.

Every error says what happened and what to do. Readers raise `SpectrumReadError` naming the
file; batch jobs catch `SpectypeError` per item, record the message and go on.
"""

from __future__ import annotations

import os


class SpectypeError(Exception):
    """Base class for every error spectype raises on purpose."""


class SpectrumReadError(SpectypeError):
    """A file could not be read as a spectrum.

    The message always names the file, the problem and, where there is one, what to do.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str, hint: str | None = None):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        self.hint = hint
        where = f"{self.path}: " if self.path else ""
        msg = f"{where}{problem}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnknownFormatError(SpectrumReadError):
    """No registered reader recognised the file."""


class CoverageError(SpectypeError):
    """A spectrum does not cover the wavelength window the model needs."""


class LabelError(SpectypeError):
    """A spectral-type string could not be parsed."""


class ConfigError(SpectypeError):
    """A configuration value is missing or invalid."""


class ModelLoadError(SpectypeError):
    """A model folder is missing files or is not a spectype model."""
