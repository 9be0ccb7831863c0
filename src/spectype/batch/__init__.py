"""Batch classification: files -> one result row per spectrum (see run.py), and the same
rows for in-memory spectra (memory.py). `spectype.classify` is `memory.classify`."""

from .engine import predict_proba, preprocess_config
from .inputs import expand_inputs, is_pack
from .items import Item, read_and_preprocess
from .options import LOW_SNR, ClassifyOptions, ClassifySummary
from .rows import NON_STELLAR_CLASSES, RESULT_KEY, build_row
from .run import classify_files, iter_pack_items
from .writer import ResultWriter

__all__ = [
    "LOW_SNR", "NON_STELLAR_CLASSES", "RESULT_KEY", "ClassifyOptions", "ClassifySummary", "Item",
    "ResultWriter", "build_row", "classify_files", "expand_inputs", "is_pack", "iter_pack_items",
    "predict_proba", "preprocess_config", "read_and_preprocess",
]
