"""The in-memory API: `spectype.classify(x)`, `spectype.load_model(folder).predict(x)`.

`x` may be file paths (str / Path, or a list of them), a `Spectrum`, a list of `Spectrum`, a
specutils `Spectrum1D`/`Spectrum`, a `(wave, flux)` or `(wave, flux, ivar)` tuple (flux may be
2-D: N spectra on one grid), or a list of those. The result is a DataFrame with exactly the
columns `spectype classify` writes (docs/outputs.md); in-memory spectra have `path` None and
`index` their position in `x`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..models.release import LoadedModel, load_model
from ..runtime import resolve_device
from ..spectrum import Spectrum
from .engine import Classifier, preprocess_config
from .identity import model_identity
from .items import item_from_spectrum
from .options import ClassifyOptions, ClassifySummary


def _is_path(x) -> bool:
    return isinstance(x, str | os.PathLike)


def _is_specutils(x) -> bool:
    return type(x).__module__.startswith("specutils")


def as_spectra(x) -> list[Spectrum]:
    """Every in-memory form `classify` accepts -> a list of Spectrum."""
    if isinstance(x, Spectrum):
        return [x]
    if _is_specutils(x):
        from ..io.specutils_adapter import from_specutils

        return [from_specutils(x)]
    if isinstance(x, tuple) and 2 <= len(x) <= 3 and not any(isinstance(v, Spectrum | tuple) for v in x):
        wave = np.asarray(x[0], dtype=np.float64)
        flux = np.asarray(x[1], dtype=np.float64)
        ivar = None if len(x) < 3 or x[2] is None else np.asarray(x[2], dtype=np.float64)
        if flux.ndim == 1:
            return [Spectrum(wave, flux, ivar)]
        if flux.ndim == 2:
            if ivar is not None and ivar.shape != flux.shape:
                raise ConfigError(f"ivar has shape {ivar.shape}, flux {flux.shape}; they must match")
            return [Spectrum(wave, f, None if ivar is None else ivar[i]) for i, f in enumerate(flux)]
        raise ConfigError(f"flux must be 1-D or 2-D (N spectra on one grid), got shape {flux.shape}")
    if isinstance(x, list | tuple):
        out: list[Spectrum] = []
        for v in x:
            out.extend(as_spectra(v))
        return out
    raise ConfigError(
        f"cannot classify a {type(x).__name__}: give paths, Spectrum objects, specutils spectra "
        "or (wave, flux[, ivar]) arrays"
    )


def classify(x, model=None, **options) -> pd.DataFrame:
    """Classify spectra in memory or on disk; one row per spectrum, the CLI's columns.

    model: a LoadedModel, a model folder, or None (the shipped model).
    options: any `ClassifyOptions` field (batch_size, device, min_coverage, workers ...).
    """
    known = set(ClassifyOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; known: {sorted(known)}")
    options.setdefault("workers", 1)  # no process pool for a handful of spectra
    options.setdefault("progress", False)
    opts = ClassifyOptions(**options)
    device = str(resolve_device(opts.device))
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    if _is_path(x) or (isinstance(x, list | tuple) and x and all(_is_path(v) for v in x)):
        return _classify_paths([x] if _is_path(x) else list(x), loaded, opts)
    spectra = as_spectra(x)
    identity = model_identity(loaded)
    cfg_dict = preprocess_config(loaded, opts.min_coverage)
    from ..preprocess import PreprocessConfig

    cfg = PreprocessConfig(**cfg_dict)
    rows: list[dict] = []
    clf = Classifier(loaded, identity, opts, device, ClassifySummary(output=None),
                     lambda row, source: rows.append(row))
    for k, spec in enumerate(spectra):
        item = item_from_spectrum(spec, None, k, cfg)
        item.index = k  # position in x: the key for joining back
        clf.add(item)
    clf.run_batch()
    return pd.DataFrame(rows).sort_values("index", kind="stable").reset_index(drop=True)


@dataclass
class Model(LoadedModel):
    """A loaded model folder that classifies: `predict(x, **options)` (or `model(x)`) is
    `spectype.classify(x, model=self, **options)`."""

    def predict(self, x, **options) -> pd.DataFrame:
        """One row per spectrum in `x`: see `spectype.classify` and docs/api.md."""
        return classify(x, model=self, **options)

    __call__ = predict


def load(path=None, device: str = "cpu") -> Model:
    """`spectype.load_model`: a model folder (None = the shipped one) ready to `predict`."""
    loaded = load_model(path, device=device)
    return Model(**{f.name: getattr(loaded, f.name) for f in fields(LoadedModel)})


def _classify_paths(paths: list, loaded, opts: ClassifyOptions) -> pd.DataFrame:
    """Files go through the file job itself (into a temporary table), so rows are identical."""
    from .run import classify_files

    opts.resume = False
    with tempfile.TemporaryDirectory(prefix="spectype-classify-") as tmp:
        out = Path(tmp) / "result.parquet"
        classify_files(paths, out, loaded, opts)
        return pd.read_parquet(out)
