"""MKNet and MKNet + label convention with another training seed, on the benchmark's splits.

    python -m studies.conventions.seeds OUT SEED VARIANTS [SPLIT ...]

The splits are those of `spectype benchmark accuracy --seed 0` (its --seed also moves the
splits; here only the networks' seed changes). Writes OUT/predictions.parquet in the
benchmark's format with methods `mknet`, `mknet_conv` (each row in its own convention) and
`mknet_conv@survey` (every row, library stars included, in the survey convention: what a user
gets), for studies.conventions.compare. VARIANTS: a comma-separated subset of mknet,
mknet_conv, mknet_conv_share (conventions with MKNetConfig.share_unseen).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectype.benchmark.accuracy import AccuracyConfig, _frame, assemble, split_sets
from spectype.benchmark.methods import build_method
from spectype.labels import CLASSES

PATHS = ["../shared/data/lamost", "../shared/data/sdss"]


def main(out: str, seed: int, variants: list[str], splits: list[str]) -> None:
    from spectype.train.mknet import MKNetConfig

    out_dir = Path(out)
    cfg = AccuracyConfig(sim_per_source=2, mknet=MKNetConfig(epochs=30, seed=seed), splits=tuple(splits))
    data, _ = assemble(PATHS, cfg, "../shared/data", "out/accuracy/cache", progress=False)
    frames = []
    for split, train, val, test, _, te in split_sets(data, cfg):
        for name in variants:
            share = name == "mknet_conv_share"
            mk = dataclasses.replace(cfg.mknet, share_unseen=share)
            m = build_method("mknet_conv" if share else name, mknet_cfg=mk).fit(train, val)
            o = m.predict(test)
            frames.append(_frame(split, name, test, te, o))
            print(split, name, np.mean(np.array(CLASSES)[o.proba.argmax(1)] == test.cls), flush=True)
            if name != "mknet":
                # the same network asked for the survey convention on every row
                frames.append(_frame(split, f"{name}@survey", test, te, m.predict(test, convention="survey")))
        out_dir.mkdir(parents=True, exist_ok=True)
        pd.concat(frames, ignore_index=True).to_parquet(out_dir / "predictions.parquet")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4:])
