"""spectype: MK classification of low-resolution stellar spectra with deep models."""

from .errors import SpectrumReadError, SpectypeError
from .io import read, read_all
from .spectrum import Spectrum, SpectrumMeta

__version__ = "0.1.0"


def load_model(path=None, device="cpu"):
    """Load a released model folder (model.safetensors + config.json); default: the shipped one."""
    from .models.release import load_model as _load

    return _load(path, device=device)


__all__ = ["Spectrum", "SpectrumMeta", "SpectrumReadError", "SpectypeError", "read", "read_all", "load_model"]
