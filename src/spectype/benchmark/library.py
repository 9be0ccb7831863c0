"""Library stars for the accuracy benchmark, in two forms.

- `simulated_set`: each library star (MILES, STELIB, BOSS) brought to LAMOST sampling,
  resolution, noise and calibration by the simulator, `per_source` draws per star. These are
  the main training source for the classes real survey samples lack (O, B, K, M, C), and
  held-out *simulated* stars are where those classes can be scored at all.
- `native_set`: the library spectra themselves, only preprocessed onto the grid (partial
  coverage kept as masked pixels). Scored, never trained on: a real spectrum of a star the
  model has not seen in any form, from another instrument.

Groups are the simulator's star ids, so a star's simulations and its native spectrum always
fall in one fold.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..preprocess import PreprocessConfig, preprocess
from .data import LabelledSet, from_rows, snr_of


def _row(spec, pre, label, group: str, release: str, survey: str, path: str, snr: float) -> dict:
    return {
        "path": path, "index": 0, "flux": pre.flux, "good": ~pre.bad, "ivar": pre.ivar,
        "cls": label.cls, "code": np.nan if label.code is None or not label.has_subtype else label.code,
        "lum": label.lum_class or "", "snr": snr, "release": release, "name": f"lib:{group}",
        "ra": np.nan, "dec": np.nan, "survey": survey,
    }


def _partial(cfg: PreprocessConfig) -> PreprocessConfig:
    # Library stars may stop short of the grid's red end (MILES: 7410 Å): keep them, masked.
    return replace(cfg, min_coverage=min(cfg.min_coverage, 0.6), max_bad_fraction=max(cfg.max_bad_fraction, 0.45))


def simulated_set(
    root: str | Path, cfg: PreprocessConfig, libraries=("miles", "stelib", "boss"),
    per_source: int = 3, seed: int = 0, workers: int = 2, classes=None,
) -> LabelledSet:
    """`per_source` LAMOST-like simulations of every usable star of `libraries`."""
    from ..simulate.noise import load_noise_profiles_from
    from ..simulate.pipeline import RealDistributions, SimConfig, batch_spectra, simulate_source
    from ..simulate.sources import load_sources

    root = Path(root)
    rng = np.random.default_rng(seed)
    sources = load_sources(libraries, root / "libraries", classes, 1800.0, workers)
    dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    profiles = load_noise_profiles_from(root / "lamost", 200, seed, workers)
    pcfg = _partial(cfg)
    rows = []
    sim = SimConfig()
    for src in sources:
        for spec in batch_spectra(simulate_source(src, per_source, sim, dists, profiles, rng)):
            try:
                pre = preprocess(spec, pcfg)
            except Exception:  # a draw that lost too many pixels: skip it
                continue
            rows.append(_row(spec, pre, src.label, src.group, "sim", f"sim-{src.library}",
                             src.key, float(spec.meta.extra["sim"]["snr_i"])))
    return from_rows(rows, cfg.n_pix)


def native_set(root: str | Path, cfg: PreprocessConfig, libraries=("miles", "boss")) -> LabelledSet:
    """The library spectra themselves on the model grid (scored only, never trained on)."""
    from ..labels import parse_label
    from ..simulate.sources import _library_spectra, star_group_id

    root = Path(root)
    pcfg = _partial(replace(cfg, rest_frame=False))
    rows = []
    for lib in libraries:
        for spec in _library_spectra(lib, root / "libraries"):
            lab = parse_label(spec.meta.subclass)
            if not lab.ok:
                continue
            try:
                pre = preprocess(spec, pcfg)
            except Exception:
                continue
            rows.append(_row(spec, pre, lab, star_group_id(spec, lib), f"native-{lib}", lib,
                             str(spec.meta.path or spec.meta.id), snr_of(spec.meta)))
    return from_rows(rows, cfg.n_pix)


def concat(*sets: LabelledSet) -> LabelledSet:
    from dataclasses import fields

    sets = [s for s in sets if len(s)]
    return LabelledSet(**{f.name: np.concatenate([getattr(s, f.name) for s in sets]) for f in fields(LabelledSet)})
