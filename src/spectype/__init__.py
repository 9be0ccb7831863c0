"""spectype: MK classification of low-resolution stellar spectra with deep models."""

from ._version import __version__
from .errors import SpectrumReadError, SpectypeError
from .io import read, read_all
from .spectrum import Spectrum, SpectrumMeta


def classify(x, model=None, **options):
    """Classify paths, Spectrum objects, specutils spectra or (wave, flux[, ivar]) arrays.

    Returns a pandas DataFrame with the same columns as `spectype classify` (docs/outputs.md).
    `model`: a LoadedModel, a model folder or None (the shipped model); `options`: any
    `spectype.batch.ClassifyOptions` field. See docs/api.md.
    """
    from .batch.memory import classify as _classify

    return _classify(x, model=model, **options)


def load_model(path=None, device="cpu"):
    """Load a released model folder (model.safetensors + config.json); default: the shipped one.

    The result classifies: `load_model(folder).predict(x)` is `classify(x, model=folder)`."""
    from .batch.memory import load

    return load(path, device=device)


__all__ = ["__version__", "Spectrum", "SpectrumMeta", "SpectrumReadError", "SpectypeError", "classify", "read", "read_all", "load_model"]
