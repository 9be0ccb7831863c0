"""Does MKNet's augmentation cost it LAMOST's F/G boundary? MKNet with lighter or no augmentation.

    python -m studies.recipe.augment OUT VARIANT [SPLIT ...]
    spectype benchmark report out/acc-final OUT... -o MERGED     # compare with the Results run

VARIANT: `noaug` (no augmentation), `light` (half the spectra augmented, half the noise, no
extra blur: line-strength differences such as metallicity survive), `default`, or
`soft<sigma>` (default augmentation, Gaussian subtype targets of that width: `soft1.0`). Same splits,
seed and recipe as `spectype benchmark accuracy --sim-per-source 2 --epochs 30` otherwise;
writes OUT/predictions.parquet with method `mknet_<variant>` in the benchmark's format.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd
import torch

from spectype.benchmark.accuracy import AccuracyConfig, _frame, assemble, split_sets
from spectype.benchmark.methods import build_method
from spectype.train.augment import AugmentConfig
from spectype.train.mknet import MKNetConfig

PATHS = ["../shared/data/lamost", "../shared/data/sdss"]
VARIANTS = {
    "default": AugmentConfig(),
    "noaug": AugmentConfig(p=0.0),
    "light": AugmentConfig(p=0.5, noise_max=1.0, max_blur=0.0),
}


def main(out: str, variant: str, splits: list[str]) -> None:
    cfg = AccuracyConfig(sim_per_source=2, mknet=MKNetConfig(epochs=30, seed=0), splits=tuple(splits))
    if variant.startswith("soft"):
        mk = dataclasses.replace(cfg.mknet, fine_sigma=float(variant[4:]))
    else:
        mk = dataclasses.replace(cfg.mknet, augment=VARIANTS[variant])
    data, _ = assemble(PATHS, cfg, "../shared/data", "out/accuracy/cache", progress=False)
    frames = []
    for split, train, val, test, _, te in split_sets(data, cfg):
        m = build_method("mknet", mknet_cfg=mk).fit(train, val)
        frames.append(_frame(split, f"mknet_{variant}", test, te, m.predict(test)))
        Path(out).mkdir(parents=True, exist_ok=True)
        pd.concat(frames, ignore_index=True).to_parquet(Path(out) / "predictions.parquet")
        print(split, "done", flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
