"""Data for the O-star recognition experiment (docs/lcgan_experiment.md).

One pool of LAMOST-like simulations is drawn once from every O/F/G/K library source star; each
seed then splits the *stars* (groups) into train and test, and every row of a star follows it.

Draws per row (`kind`):
* 'base'  - the star's ordinary simulations: GAN training data and recogniser training data when
  the star is in the train split, test data when it is held out;
* 'extra' - further simulations of O stars (other RV / reddening / distortion / noise draws), used
  only by arm (d), and only those of train-split stars.

Flux is preprocessed onto the model grid, L2-normalised (eq. 1 of Yang et al. 2021) and, in the
quick profile, averaged over `bin_pixels` adjacent pixels (then L2-normalised again). The pool is
a pack (`datasets.pack`) with `kind` as an extra per-row string dataset.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import Pack, plan_group_split, write_pack
from ..datasets.augment import read_kind
from ..errors import ConfigError
from ..preprocess import PreprocessConfig, l2_normalise, preprocess
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
class Pool:
    """The pool pack, its flux in memory (as stored: RAC-Net's input scale) and row kinds."""

    pack: Pack
    flux: np.ndarray
    kind: np.ndarray

    @classmethod
    def read(cls, path: Path) -> Pool:
        pack = Pack(path)
        return cls(pack, pack.read_flux(np.arange(len(pack))), read_kind(path))

    def rows(self, groups, kind: str = "base", cls: str | None = None) -> np.ndarray:
        """Row indices whose group is in `groups` and kind is `kind` (and class `cls`)."""
        sel = np.isin(self.pack.groups, np.asarray(sorted(groups), dtype=str)) & (self.kind == kind)
        if cls is not None:
            sel &= self.pack.labels == CLASSES.index(cls)
        return np.flatnonzero(sel)


@dataclass
class StarSplit:
    """Source stars (groups) per class on each side of one seed's split; disjoint by construction."""

    seed: int
    train: dict[str, list[str]]
    test: dict[str, list[str]]

    def train_groups(self) -> set[str]:
        return set().union(*self.train.values())

    def test_groups(self) -> set[str]:
        return set().union(*self.test.values())


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


def simulate_pool(out: Path, sources: list[SourceStar], profiles: list[NoiseProfile],
                  dists: RealDistributions, *, o_draws_per_star: int, o_extra_draws_per_star: int,
                  other_per_class: int, seed: int = 0, bin_pixels: int = 1,
                  sim: SimConfig | None = None) -> Pack:
    """Simulate the pool into the pack `out`: `o_draws_per_star` base + `o_extra_draws_per_star`
    extra draws of every O source, and `other_per_class` base draws per F/G/K class spread
    evenly over its sources. Rows are L2-normalised, then scaled by sqrt(n_pix) (`flux_scale`):
    RAC-Net (models/, not this study's) takes the pack's flux as it is and wants unit-RMS input,
    so the scale is part of the data, and `augment_pack` brings added rows to it. GANs and
    GAN-train/GAN-test L2-normalise what they read, so the scale does not reach them."""
    sim = sim or SimConfig()
    rng = np.random.default_rng(seed)
    pcfg = PreprocessConfig(norm="l2")
    flux, label, group, kind = [], [], [], []
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
            rows = _simulate_rows(s, n, sim, dists, profiles, rng, pcfg)
            flux += rows
            label += [CLASSES.index(cls)] * len(rows)
            group += [s.group] * len(rows)
            kind += [knd] * len(rows)
    x = l2_normalise(bin_flux(np.stack(flux), bin_pixels))
    scale = np.float32(np.sqrt(x.shape[1]))
    wave = bin_flux(pcfg.grid()[None, :], bin_pixels)[0]
    labels, groups = np.asarray(label, np.int64), np.asarray(group, str)
    split = _star_split(labels, groups, 0, 0.3)  # stored for users; the study re-splits per seed
    ids = [f"{g}#{i}" for i, g in enumerate(group)]
    write_pack(
        out, x * scale, wavelength=wave, labels=labels, class_names=list(CLASSES),
        indices={"train": split["train"], "val": np.zeros(0, np.int64), "test": split["test"]},
        ids=ids, paths=["simulated"] * len(ids), groups=groups, index=np.arange(len(ids)),
        codes=np.full(len(ids), np.nan), snr_i=np.full(len(ids), np.nan),
        params={"source": "lcgan pool", "preprocess": {**asdict(pcfg), "n_pix": x.shape[1]},
                "bin_pixels": bin_pixels,
                "flux_scale": float(scale), "seed": seed},
        extra_strings={"kind": kind},
    )
    return Pack(out)


def _star_split(labels, groups, seed: int, test_fraction: float) -> dict[str, np.ndarray]:
    """Rows per side of a split of whole *stars* (each counted once, by its majority class)."""
    gs = plan_group_split(groups, labels, (1 - test_fraction, 0.0, test_fraction), seed)
    return {s: np.flatnonzero(np.isin(groups, gs.groups(s))) for s in ("train", "test")}


def split_stars(pack: Pack, seed: int, test_fraction: float) -> StarSplit:
    """Hold out whole source stars: per class, `test_fraction` of its stars go to test; a star
    whose rows carry two classes (one name, two libraries' labels) goes by its majority class."""
    gs = plan_group_split(pack.groups, pack.labels, (1 - test_fraction, 0.0, test_fraction), seed)
    train, test = ({c: gs.groups(side, i) for i, c in enumerate(CLASSES)} for side in ("train", "test"))
    for c in CLASSES:
        if not test[c] or not train[c]:
            raise ConfigError(
                f"class {c}: {len(train[c])} train / {len(test[c])} test stars for seed {seed}; "
                "each class needs >= 3 source stars"
            )
    return StarSplit(seed, train, test)


def count_o_stars(sources: list[SourceStar]) -> pd.DataFrame:
    """Distinct O stars per library simulated, and over all of them (unified by star name)."""
    o = [s for s in sources if s.label.cls == "O"]
    rows = [{"library": lib, "o_spectra": sum(s.library == lib for s in o),
             "o_stars": len(g := sorted({s.group for s in o if s.library == lib})), "groups": " ".join(g)}
            for lib in sorted({s.library for s in sources})]
    return pd.DataFrame([*rows, {"library": "all (unified by star name)", "o_spectra": len(o),
                                 "o_stars": len({s.group for s in o}), "groups": ""}])
