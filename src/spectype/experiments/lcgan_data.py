"""Data for the O-star recognition experiment (docs/lcgan_experiment.md).

One pool of LAMOST-like simulations is drawn once from every O/F/G/K library source star; each
seed then splits the *stars* (groups) into train and test, and every row of a star follows it.

Draws per row (`kind`):
* 'base'  - the star's ordinary simulations: GAN training data and recogniser training data when
  the star is in the train split, test data when it is held out;
* 'extra' - further simulations of O stars (other RV / reddening / distortion / noise draws), used
  only by arm (d), and only those of train-split stars.

Flux is preprocessed onto the model grid, L2-normalised (eq. 1 of Yang et al. 2021) and, in the
quick profile, averaged over `bin_pixels` adjacent pixels (then L2-normalised again).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets.split import split_groups
from ..errors import ConfigError
from ..gan.data import l2_normalise
from ..preprocess import PreprocessConfig, preprocess
from ..simulate import (
    NoiseProfile,
    RealDistributions,
    SimConfig,
    SourceStar,
    allocate_draws,
    batch_spectra,
    simulate_source,
)

log = logging.getLogger("spectype.experiments.lcgan")

CLASSES = ("O", "F", "G", "K")


@dataclass
class SpectrumPool:
    """Simulated spectra of every source star.

    flux (N, L) float32 L2-normalised; label (N,) int index into CLASSES; group (N,) str source
    star; kind (N,) str 'base' | 'extra'; wavelength (L,) model grid (bin centres when binned).
    """

    flux: np.ndarray
    label: np.ndarray
    group: np.ndarray
    kind: np.ndarray
    wavelength: np.ndarray

    def save(self, path: Path) -> None:
        from ..atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, flux=self.flux, label=self.label, group=self.group.astype(str),
                     kind=self.kind.astype(str), wavelength=self.wavelength)

    @classmethod
    def load(cls, path: Path) -> SpectrumPool:
        with np.load(path, allow_pickle=False) as z:
            return cls(z["flux"], z["label"], z["group"], z["kind"], z["wavelength"])


@dataclass
class StarSplit:
    """Source stars (groups) per class on each side of one seed's split; disjoint by construction."""

    seed: int
    train: dict[str, list[str]]
    test: dict[str, list[str]]

    def train_groups(self) -> set[str]:
        return {g for gs in self.train.values() for g in gs}

    def test_groups(self) -> set[str]:
        return {g for gs in self.test.values() for g in gs}


def bin_flux(flux: np.ndarray, factor: int) -> np.ndarray:
    """(N, L) -> (N, L // factor): mean of `factor` adjacent pixels (trailing pixels dropped)."""
    if factor <= 1:
        return flux
    n, length = flux.shape
    keep = (length // factor) * factor
    return flux[:, :keep].reshape(n, length // factor, factor).mean(axis=2)


def _simulate_rows(src: SourceStar, n: int, sim: SimConfig, dists, profiles, rng,
                   pcfg) -> list[np.ndarray]:
    rows = []
    for spec in batch_spectra(simulate_source(src, n, sim, dists, profiles, rng)):
        try:
            rows.append(preprocess(spec, pcfg).flux.astype(np.float32))
        except Exception as exc:  # a bad draw is dropped, not fatal
            log.warning("%s: simulation of %s dropped (%s)", spec.meta.id, src.key, exc)
    return rows


def simulate_pool(sources: list[SourceStar], profiles: list[NoiseProfile],
                  dists: RealDistributions, *, o_draws_per_star: int, o_extra_draws_per_star: int,
                  other_per_class: int, seed: int = 0, bin_pixels: int = 1,
                  sim: SimConfig | None = None) -> SpectrumPool:
    """Simulate the pool: `o_draws_per_star` base + `o_extra_draws_per_star` extra draws of every
    O source, and `other_per_class` base draws per F/G/K class spread evenly over its sources."""
    sim = sim or SimConfig()
    rng = np.random.default_rng(seed)
    pcfg = PreprocessConfig(norm="l2")
    flux, label, group, kind = [], [], [], []

    def add(rows, cls, grp, knd):
        flux.extend(rows)
        label.extend([CLASSES.index(cls)] * len(rows))
        group.extend([grp] * len(rows))
        kind.extend([knd] * len(rows))

    for cls in CLASSES:
        srcs = [s for s in sources if s.label.cls == cls]
        if not srcs:
            raise ConfigError(f"no {cls} source star in the libraries; the experiment needs O, F, "
                              "G and K")
        if cls == "O":  # (star, draws, kind), in the order the rng is consumed
            draws = [(s, n, knd) for s in srcs for n, knd in
                     ((o_draws_per_star, "base"), (o_extra_draws_per_star, "extra"))
                     if knd == "base" or n > 0]
        else:
            ks = allocate_draws(len(srcs), other_per_class, rng)
            draws = [(s, int(k), "base") for s, k in zip(srcs, ks, strict=True) if k]
        for s, n, knd in draws:
            add(_simulate_rows(s, n, sim, dists, profiles, rng, pcfg), cls, s.group, knd)
    x = l2_normalise(bin_flux(np.stack(flux), bin_pixels))
    wave = bin_flux(pcfg.grid()[None, :], bin_pixels)[0]
    return SpectrumPool(x, np.asarray(label, np.int64), np.asarray(group, str),
                        np.asarray(kind, str), wave)


def split_stars(pool: SpectrumPool, seed: int, test_fraction: float) -> StarSplit:
    """Hold out whole source stars: per class, `test_fraction` of its stars go to test.

    A star whose rows carry two classes (one name, two libraries' labels) is assigned by its
    majority class, so it is still on one side only.
    """
    groups, inverse = np.unique(pool.group, return_inverse=True)
    counts = np.zeros((len(groups), len(CLASSES)), np.int64)
    np.add.at(counts, (inverse, pool.label), 1)
    labels = counts.argmax(1)  # majority class per star (ties: the earlier class)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parts = split_groups(labels, groups, (1 - test_fraction, 0.0, test_fraction), seed)
    train, test = ({c: [str(g) for g in sorted(groups[parts[side]][labels[parts[side]] == i])]
                    for i, c in enumerate(CLASSES)} for side in ("train", "test"))
    for c in CLASSES:
        if not test[c] or not train[c]:
            raise ConfigError(
                f"class {c}: {len(train[c])} train / {len(test[c])} test stars for seed {seed}; "
                "each class needs >= 3 source stars"
            )
    return StarSplit(seed, train, test)


def rows_of(pool: SpectrumPool, groups, kind: str = "base", cls: str | None = None) -> np.ndarray:
    """Row indices of `pool` whose group is in `groups` and kind is `kind` (and class `cls`)."""
    sel = np.isin(pool.group, np.asarray(sorted(groups), dtype=str)) & (pool.kind == kind)
    if cls is not None:
        sel &= pool.label == CLASSES.index(cls)
    return np.flatnonzero(sel)


def count_o_stars(data_root: Path | None, sources: list[SourceStar]) -> pd.DataFrame:
    """Distinct O stars per library: the ones the experiment uses (from `sources`) and, when
    `data_root` is given, O spectra of Pickles and MKCLASS on disk (read, never simulated)."""
    rows = []
    for lib in sorted({s.library for s in sources}):
        o = [s for s in sources if s.library == lib and s.label.cls == "O"]
        stars = sorted({s.group for s in o})
        rows.append({"library": lib, "o_spectra": len(o), "o_stars": len(stars), "used": True,
                     "groups": " ".join(stars)})
    used = {s.library for s in sources}
    if data_root is not None:
        from ..io import read_all
        from ..io.discover import iter_spectrum_files
        from ..labels import parse_label

        for lib, folder in (("pickles", "pickles"), ("mkclass", "mkclass_libnor36")):
            if lib in used or not (Path(data_root) / "libraries" / folder).is_dir():
                continue
            names = []
            for path in iter_spectrum_files(Path(data_root) / "libraries" / folder):
                try:
                    specs = read_all(path)
                except Exception:  # ReadMe, fit logs: not spectra
                    continue
                names += [str(s.meta.id) for s in specs if parse_label(s.meta.subclass).cls == "O"]
            rows.append({"library": lib, "o_spectra": len(names), "o_stars": len(set(names)),
                         "used": False, "groups": " ".join(sorted(set(names)))})
    rows.append({"library": "all used (unified by star name)",
                 "o_spectra": sum(r["o_spectra"] for r in rows if r["used"]),
                 "o_stars": len({s.group for s in sources if s.label.cls == "O"}),
                 "used": True, "groups": ""})
    return pd.DataFrame(rows)
