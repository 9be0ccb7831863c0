"""Template files for the chi-squared matcher: reading, labels, the match record.

`load_templates` reads a folder or list of template files (or Spectrum objects) onto a model
grid; `TemplateMatch` is what `TemplateMatcher.predict` returns (methods/template_match.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, CoverageError
from ..labels import CLASSES, code_to_subtype, parse_label
from ..preprocess import PreprocessConfig, preprocess
from ..spectrum import Spectrum

KESSELI_SUBDIR = Path("libraries") / "kesseli"
_TEMPLATE_SUFFIXES = (".fits.gz", ".fits", ".fit.gz", ".fit")


@dataclass
class TemplateMatch:
    """The matcher's answer for N spectra (arrays of length N unless noted).

    cls: the chosen class (TemplateMatcher.decision: most probable class, or the best
    template's); '' where a row had too few good pixels to fit.
    code: numeric type (O0=0 ... M9=69), a weighted mean over the best `code_k` templates of
    the chosen class (weights: template probabilities); NaN for carbon / empty rows.
    template_index / template_name: the best template of the chosen class (-1 / '' for
    empty rows); lum_class: its luminosity class ('V', 'III', or None where it has none).
    chi2_min: its chi2; reduced_chi2: chi2_min / (n_good - n_params).
    proba: (N, len(CLASSES)) class probabilities (template softmax summed per class).
    n_good: pixels that entered the fit.
    """

    cls: np.ndarray
    code: np.ndarray
    lum_class: np.ndarray
    template_index: np.ndarray
    template_name: np.ndarray
    chi2_min: np.ndarray
    reduced_chi2: np.ndarray
    proba: np.ndarray
    n_good: np.ndarray

    @property
    def subtype(self) -> np.ndarray:
        """Type strings from `code` rounded to the nearest subtype ('G2'); '' where NaN."""
        return np.array(
            [code_to_subtype(float(np.clip(round(c), 0, 69))) if np.isfinite(c) else ""
             for c in self.code],
            dtype=object,
        )


def kesseli_folder(data_root: str | os.PathLike) -> Path:
    """`<data_root>/libraries/kesseli`, or ConfigError naming the path when it is missing."""
    folder = Path(data_root) / KESSELI_SUBDIR
    if not folder.is_dir():
        raise ConfigError(
            f"no Kesseli templates at {folder}: give the data root that holds "
            f"{KESSELI_SUBDIR} (see ../shared/data/SOURCES.md)"
        )
    return folder


def _strip_suffix(name: str) -> str:
    for suffix in _TEMPLATE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _read_template(path: Path) -> Spectrum:
    """One template through `spectype.read` (io/kesseli.py reads the Kesseli tables: vacuum,
    rest-frame, type from the file name in meta.subclass)."""
    from ..io import read

    spec = read(path)
    if isinstance(spec, list):
        raise ConfigError(f"{path} holds {len(spec)} spectra; a template file must hold one")
    return spec


def _template_paths(folder: Path) -> list[Path]:
    paths = sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.name.lower().endswith(_TEMPLATE_SUFFIXES)
    )
    if not paths:
        raise ConfigError(
            f"{folder}: no template files ({', '.join(_TEMPLATE_SUFFIXES)}); "
            "give the folder of templates (e.g. <data_root>/libraries/kesseli)"
        )
    return paths


def _class_indices(y: Sequence | np.ndarray) -> np.ndarray:
    """Class labels (letters in CLASSES or integer indices) -> indices; -1 for unknown."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return y.astype(int)
    lookup = {c: i for i, c in enumerate(CLASSES)}
    return np.array([lookup.get(str(v), -1) for v in y], dtype=int)


def load_templates(
    path_or_spectra: str | os.PathLike | Iterable[Spectrum | str | os.PathLike], cfg: PreprocessConfig
) -> tuple[list[np.ndarray], list[str], list[str], list[tuple[str, str]]]:
    """(fluxes on cfg's grid, MK labels, names, dropped (name, why)) of a template folder, a list
    of files or Spectrum objects (TemplateMatcher.from_library documents the rules)."""
    if isinstance(path_or_spectra, str | os.PathLike):
        folder = Path(path_or_spectra)
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder of templates")
        items: list = list(_template_paths(folder))
    else:
        items = list(path_or_spectra)
    tcfg = dataclasses.replace(cfg, rest_frame=False, norm="none")
    fluxes, labels, names, dropped = [], [], [], []
    for item in items:
        if isinstance(item, Spectrum):
            spec, name = item, item.meta.id or item.meta.path or f"template{len(names)}"
        else:
            spec = _read_template(Path(item))
            name = _strip_suffix(Path(item).name)
        label_text = spec.meta.subclass
        label = parse_label(label_text)
        if not label.ok:
            dropped.append((name, f"{label_text!r}: {label.excluded}"))
            continue
        try:
            pre = preprocess(spec, tcfg)
        except CoverageError as exc:
            raise ConfigError(
                f"template {name} does not cover the model grid: {exc}; "
                "drop it or choose a grid inside the templates' range"
            ) from exc
        fluxes.append(pre.flux.astype(np.float64))
        labels.append(label_text)
        names.append(name)
    if not fluxes:
        raise ConfigError(f"no usable templates (dropped: {dropped})")
    return fluxes, labels, names, dropped


_DECISIONS = ("proba", "template")


def check_templates(templates: np.ndarray, labels: Sequence[str], continuum_degree: int, decision: str,
                    tau: float, class_tau: float, code_k: int, chunk_size: int, cfg: PreprocessConfig | None) -> list:
    """TemplateMatcher's arguments checked (ConfigError naming the problem); the parsed labels."""
    if templates.ndim != 2 or templates.shape[0] == 0:
        raise ConfigError(f"templates must be a non-empty (T, L) array, got {templates.shape}")
    if len(labels) != templates.shape[0]:
        raise ConfigError(f"{len(labels)} labels for {templates.shape[0]} templates")
    if not 0 <= int(continuum_degree) <= 3:
        raise ConfigError(f"continuum_degree must be 0..3, got {continuum_degree}")
    if not np.all(np.isfinite(templates)):
        raise ConfigError("templates contain non-finite flux; interpolate or drop them")
    if decision not in _DECISIONS:
        raise ConfigError(f"decision must be one of {_DECISIONS}, got {decision!r}")
    if tau <= 0 or class_tau <= 0 or code_k < 1 or chunk_size < 1:
        raise ConfigError("tau and class_tau must be > 0, code_k >= 1 and chunk_size >= 1")
    if cfg is not None and cfg.n_pix != templates.shape[1]:
        raise ConfigError(f"templates have {templates.shape[1]} pixels, cfg.n_pix {cfg.n_pix}")
    parsed = [parse_label(s) for s in labels]
    bad = [(s, lab.excluded) for s, lab in zip(labels, parsed, strict=True) if not lab.ok]
    if bad:
        raise ConfigError(
            f"template labels that are not a usable class: {bad}; drop them "
            "(from_library does) or relabel"
        )
    return parsed
