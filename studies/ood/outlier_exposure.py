"""Does outlier exposure make MKNet flag real white dwarfs? One benchmark split at a time.

    python -m studies.ood.outlier_exposure N_OUTLIERS SPLIT      # e.g. 2000 heldout/0; 0 = off

Fits `mknet` by the benchmark's recipe (seed 0, `MKNetConfig(outliers=N_OUTLIERS)`) on SPLIT and
prints: accuracy and the flagged fraction on the split's held-out real spectra and library stars,
then, for the real non-stellar spectra of ../shared that no model trains on (BOSS white dwarfs
and L/T dwarfs, the LAMOST QSO; studies/ood/library_oddballs.py), whether each is flagged and
its outlier logit. Writes out/oe<N>-<split>.parquet (benchmark format).
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from spectype.benchmark.accuracy import AccuracyConfig, _frame, assemble, split_sets
from spectype.benchmark.methods import build_method
from spectype.io import read_all
from spectype.preprocess import PreprocessConfig, preprocess
from spectype.train.mknet import MKNetConfig, predict_heads

from .library_oddballs import BOSS, kind_of

QSO = "../shared/data/lamost/misc/spec-60591-LN042429N340750BM01_sp01-005.fits.gz"


def oddballs() -> tuple[list[str], torch.Tensor]:
    pcfg = PreprocessConfig(norm="robust", min_coverage=0.6, max_bad_fraction=0.5)  # classify's
    names, rows = [], []
    for f in [f"../shared/data/{b}" for b in BOSS] + [QSO]:
        for s in read_all(f):
            name = "QSO" if f == QSO else str(s.meta.subclass)
            if f != QSO and kind_of(name) not in ("white dwarf", "L/T dwarf"):  # as library_oddballs
                continue
            p = preprocess(s, pcfg)
            names.append(name)
            rows.append(np.stack([p.flux, (~p.bad).astype(np.float32)]).astype(np.float32))
    return names, torch.from_numpy(np.stack(rows))


def main(n_out: int, split_want: str) -> None:
    cfg = AccuracyConfig(sim_per_source=2, mknet=MKNetConfig(epochs=30, seed=0, outliers=n_out), splits=(split_want,))
    data, _ = assemble(["../shared/data/lamost", "../shared/data/sdss"], cfg, "../shared/data",
                       "out/accuracy/cache", progress=False)
    names, xo = oddballs()
    for split, train, val, test, _, te in split_sets(data, cfg):
        m = build_method("mknet", mknet_cfg=cfg.mknet).fit(train, val)
        fr = _frame(split, f"mknet_oe{n_out}", test, te, m.predict(test))
        fr.to_parquet(f"out/oe{n_out}-{split.replace('/', '_')}.parquet")
        real = ~fr.release.isin(["sim"]) & ~fr.release.str.startswith("native")
        print(f"{split}: real accuracy {(fr.pred_class == fr.true_class)[real].mean():.3f}, "
              f"real flagged {fr.ood[real].mean():.4f}, library flagged {fr.ood[~real].mean():.4f}")
        h = predict_heads(m.model, xo)
        thr = float(getattr(m.model, "other_threshold", float("nan")))
        print(f"outlier-logit threshold {thr:.2f}")
        for i, name in enumerate(names):
            logit = h["other_logit"][i] if "other_logit" in h else float("nan")
            print(f"  {name:12s} flagged {bool(h['unlike'][i])!s:5s}  outlier logit {logit:+.1f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(int(sys.argv[1]), sys.argv[2])
