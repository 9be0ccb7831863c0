"""Does teaching MKNet the stellar parameters help it follow LAMOST's class?

    python -m studies.recipe.aux_params OUT [SPLIT ...]

LAMOST's "F9" stars are cooler and more metal-rich than its "G0" (docs/accuracy.md), so the
class depends on [Fe/H] as well as Teff. Here MKNet gets an auxiliary head regressing
standardised log Teff, log g and [Fe/H] (`train_mknet(aux=...)`) where a training row has them:
DR10 spectra from LAMOST's own parameters (`lamost/dr10_params.csv`, by OBSID), simulated MILES
stars from the MILES catalogue (`paramsMILES_v9.1.txt`); other rows are NaN (not fitted).
Everything else is the benchmark's recipe (seed 0, same splits); writes OUT/predictions.parquet
with method `mknet_aux` in the benchmark's format, and OUT/aux-<split>.npz: the predicted and
catalogue (log Teff, log g, [Fe/H]) of the test rows. `--score OUT...` prints the parameter
scatter on held-out DR10 stars.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectype.benchmark.accuracy import AccuracyConfig, _frame, assemble, split_sets
from spectype.benchmark.methods import MKNetMethod
from spectype.labels import CLASSES
from spectype.train.mknet import MKNetConfig, _tensors, predict_heads, train_mknet

DATA = Path("../shared/data")
PATHS = [str(DATA / "lamost"), str(DATA / "sdss")]
# standardisation: log10 Teff around 5,750 K, log g around 4, [Fe/H] around -0.3
CENTRE, SCALE = np.array([3.76, 4.0, -0.3]), np.array([0.1, 1.0, 0.4])


def stellar_params(data) -> np.ndarray:
    """(N, 3) standardised (log Teff, log g, [Fe/H]) of each row, NaN where unknown."""
    from astropy.io import fits

    from spectype.io.miles import parse_params

    out = np.full((len(data), 3), np.nan)
    dr10 = pd.read_csv(DATA / "lamost" / "dr10_params.csv").set_index("obsid")
    miles = {r["name"]: r for r in parse_params((DATA / "libraries" / "miles" / "paramsMILES_v9.1.txt").read_text(
        errors="replace")).values()}
    for i, (rel, path) in enumerate(zip(data.release, data.path, strict=True)):
        row = None
        if rel == "DR10":
            obsid = int(fits.getheader(path, 0)["OBSID"])
            if obsid in dr10.index:
                r = dr10.loc[obsid]
                row = (r.teff, r.logg, r.feh)
        elif rel == "sim" and str(path).startswith("MILES:"):
            r = miles.get(str(path)[6:])
            if r is not None:
                row = (r["teff"], r["logg"], r["feh"])
        if row is not None and all(v is not None and np.isfinite(v) and v > -99 for v in row):
            out[i] = [np.log10(row[0]), row[1], row[2]]
    return ((out - CENTRE) / SCALE).astype(np.float32)


def main(out: str, splits: list[str]) -> None:
    cfg = AccuracyConfig(sim_per_source=2, mknet=MKNetConfig(epochs=30, seed=0), splits=tuple(splits))
    data, _ = assemble(PATHS, cfg, str(DATA), "out/accuracy/cache", progress=False)
    params = stellar_params(data)
    print("rows with parameters:", int(np.isfinite(params).all(1).sum()), "of", len(data), flush=True)
    frames = []
    for split, train, val, test, fit_rows, te in split_sets(data, cfg):
        m = MKNetMethod(cfg.mknet)
        m.model, m.history = train_mknet(train, val, cfg.mknet, aux=params[fit_rows])
        frames.append(_frame(split, "mknet_aux", test, te, m.predict(test)))
        Path(out).mkdir(parents=True, exist_ok=True)
        h = predict_heads(m.model, _tensors(test, list(CLASSES))[0])
        np.savez(Path(out) / f"aux-{split.replace('/', '_')}.npz", pred=h["aux"] * SCALE + CENTRE,
                 truth=params[te] * SCALE + CENTRE, release=test.release, cls=test.cls, code=test.code)
        pd.concat(frames, ignore_index=True).to_parquet(Path(out) / "predictions.parquet")
        print(split, "done", flush=True)


def score(outs: list[str]) -> None:
    zs = [np.load(f) for o in outs for f in sorted(Path(o).glob("aux-heldout_*.npz"))]
    pred, truth = np.concatenate([z["pred"] for z in zs]), np.concatenate([z["truth"] for z in zs])
    rel = np.concatenate([z["release"] for z in zs])
    ok = (rel == "DR10") & np.isfinite(truth).all(1)
    d = pred[ok] - truth[ok]
    print(f"{ok.sum()} held-out DR10 stars; scatter (1.4826 MAD) of predicted - LAMOST:")
    for k, name in enumerate(("log Teff (dex)", "log g", "[Fe/H]")):
        print(f"  {name}: {1.4826 * np.median(np.abs(d[:, k] - np.median(d[:, k]))):.3f}, "
              f"bias {np.median(d[:, k]):+.3f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "--score":
        score(sys.argv[2:])
    else:
        main(sys.argv[1], sys.argv[2:])
