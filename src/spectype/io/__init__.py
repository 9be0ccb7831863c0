"""Reading spectra: `read(path)` and the format registry."""

from .registry import Probe, Reader, list_readers, read, read_all, register_reader

__all__ = ["Probe", "Reader", "list_readers", "read", "read_all", "register_reader"]
