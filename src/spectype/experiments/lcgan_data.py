"""Data for the O-star recognition experiment (docs/lcgan_experiment.md): a pool pack of
LAMOST-like simulations drawn once from every O/F/G/K library source star, split per seed by
*star*, so every row of a star follows it. Per-row `kind` (an extra string dataset of the pack):
'base' - ordinary simulations: GAN and recogniser training data when the star is in the train
split, test data when it is held out; 'extra' - further simulations of O stars (other RV /
reddening / distortion / noise draws), used only by arm (d), and only those of train-split stars.
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
from ..simulate import SimConfig, SourceStar, allocate_draws, batch_spectra, simulate_source

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
        return cls(pack := Pack(path), pack.read_flux(np.arange(len(pack))), read_kind(path))

    def rows(self, groups, kind: str = "base", cls: str | None = None) -> np.ndarray:
        """Row indices whose group is in `groups` and kind is `kind` (and class `cls`)."""
        sel = np.isin(self.pack.groups, np.asarray(sorted(groups), dtype=str)) & (self.kind == kind)
        return np.flatnonzero(sel if cls is None else sel & (self.pack.labels == CLASSES.index(cls)))


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


def split_stars(pack: Pack, seed: int, test_fraction: float) -> StarSplit:
    """Hold out `test_fraction` of each class's source stars (`datasets.plan_group_split`: each
    star counted once, by its majority class, so a two-label star is still on one side only)."""
    gs = plan_group_split(pack.groups, pack.labels, (1 - test_fraction, 0.0, test_fraction), seed)
    train, test = ({c: gs.groups(side, i) for i, c in enumerate(CLASSES)} for side in ("train", "test"))
    for c in CLASSES:
        if not test[c] or not train[c]:
            raise ConfigError(f"class {c}: {len(train[c])} train / {len(test[c])} test stars for seed "
                              f"{seed}; each class needs >= 3 source stars")
    return StarSplit(seed, train, test)


def bin_flux(flux: np.ndarray, factor: int) -> np.ndarray:
    """(N, L) -> (N, L // factor): mean of `factor` adjacent pixels (trailing pixels dropped)."""
    n, length = flux.shape
    return flux if factor <= 1 else flux[:, : length // factor * factor].reshape(n, -1, factor).mean(axis=2)


def simulate_pool(out: Path, sources: list[SourceStar], profiles, dists, *, o_draws_per_star: int,
                  o_extra_draws_per_star: int, other_per_class: int, seed: int = 0,
                  bin_pixels: int = 1, sim: SimConfig | None = None) -> Pack:
    """Simulate the pool into the pack `out`: `o_draws_per_star` base + `o_extra_draws_per_star`
    extra draws of every O source, `other_per_class` base draws per F/G/K class spread evenly
    over its sources. Each row is preprocessed (L2, eq. 1 of Yang et al. 2021), averaged over
    `bin_pixels` pixels, L2-normalised again and scaled by sqrt(n_pix) (`flux_scale`): RAC-Net
    (models/) takes a pack's flux as it is and wants unit-RMS input, so the scale is part of the
    data and `augment_pack` brings added rows to it; GANs and GAN-train/GAN-test L2-normalise
    what they read, so it does not reach them. The stored split is seed 0's (the study re-splits)."""
    sim, rng, pcfg = sim or SimConfig(), np.random.default_rng(seed), PreprocessConfig(norm="l2")
    flux, meta = [], []  # meta: (label, group, kind) per kept row
    for cls in CLASSES:
        srcs = [s for s in sources if s.label.cls == cls]
        if not srcs:
            raise ConfigError(f"no {cls} source star in the libraries; the experiment needs O, F, G and K")
        if cls == "O":  # (star, draws, kind), in the order the rng is consumed
            draws = [(s, n, k) for s in srcs for n, k in ((o_draws_per_star, "base"),
                                                           (o_extra_draws_per_star, "extra")) if k == "base" or n > 0]
        else:
            draws = [(s, int(n), "base") for s, n in zip(srcs, allocate_draws(len(srcs), other_per_class, rng),
                                                          strict=True) if n]
        for s, n, k in draws:
            for spec in batch_spectra(simulate_source(s, n, sim, dists, profiles, rng)):
                try:
                    flux.append(preprocess(spec, pcfg).flux.astype(np.float32))
                    meta.append((CLASSES.index(cls), s.group, k))
                except Exception as exc:  # a bad draw is dropped, not fatal
                    log.warning("%s: simulation of %s dropped (%s)", spec.meta.id, s.key, exc)
    label, group, kind = zip(*meta, strict=True)
    x = l2_normalise(bin_flux(np.stack(flux), bin_pixels))
    scale, labels, groups = np.float32(np.sqrt(x.shape[1])), np.asarray(label, np.int64), np.asarray(group, str)
    gs = plan_group_split(groups, labels, (0.7, 0.0, 0.3), 0)
    split = {s: np.flatnonzero(np.isin(groups, gs.groups(s))) for s in ("train", "val", "test")}
    ids = [f"{g}#{i}" for i, g in enumerate(group)]
    return Pack(write_pack(
        out, x * scale, wavelength=bin_flux(pcfg.grid()[None, :], bin_pixels)[0], labels=labels,
        class_names=list(CLASSES), indices=split, ids=ids, paths=["simulated"] * len(ids),
        groups=groups, index=np.arange(len(ids)), codes=np.full(len(ids), np.nan),
        snr_i=np.full(len(ids), np.nan), extra_strings={"kind": kind},
        params={"source": "lcgan pool", "preprocess": {**asdict(pcfg), "n_pix": x.shape[1]},
                "bin_pixels": bin_pixels, "flux_scale": float(scale), "seed": seed}))


def count_o_stars(sources: list[SourceStar]) -> pd.DataFrame:
    """Distinct O stars per library simulated, and over all of them (unified by star name)."""
    o = [s for s in sources if s.label.cls == "O"]
    rows = [{"library": lib, "o_spectra": sum(s.library == lib for s in o),
             "o_stars": len(g := sorted({s.group for s in o if s.library == lib})), "groups": " ".join(g)}
            for lib in sorted({s.library for s in sources})]
    return pd.DataFrame([*rows, {"library": "all (unified by star name)", "o_spectra": len(o),
                                 "o_stars": len({s.group for s in o}), "groups": ""}])
