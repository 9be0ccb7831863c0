"""Shared helpers for the simulator validation scripts (outputs go to out/simulator/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spectype.atomic import atomic_path
from spectype.io import read_all
from spectype.io.discover import iter_spectrum_files
from spectype.labels import parse_label
from spectype.preprocess import preprocess
from spectype.simulate import shared_data_root

OUT = Path("out/simulator")
CACHE = OUT / "real_lamost_cache.npz"  # git-ignored; derived from the user's data at run time


def _read_real(root: Path) -> dict:
    """Every readable labelled LAMOST star under root, preprocessed (slow: ~1,800 gz files)."""
    flux, meta = [], []
    for f in sorted(iter_spectrum_files(root)):
        try:
            for s in read_all(f):
                lab = parse_label(s.meta.subclass, s.meta.obj_class)
                if lab.ok and lab.cls is not None:
                    flux.append(preprocess(s).flux)
                    meta.append([lab.cls, str(s.meta.subclass), float(s.meta.snr.get("g", np.nan) or np.nan),
                                 str(s.meta.id), str(f)])
        except Exception:  # one bad file costs one row
            continue
    return {"flux": np.array(flux, np.float32), "meta": json.dumps(meta)}


def real_sdss(classes):
    """[(flux (3700,), cls, subclass, snr_g, id)] of the SDSS stars in the sample (9 files)."""
    data = _read_real(shared_data_root() / "sdss")
    meta = json.loads(data["meta"])
    return [(data["flux"][i], m[0], m[1], m[2], m[3]) for i, m in enumerate(meta) if m[0] in classes]


def real_lamost(classes, max_per_class=400, seed=0):
    """[(flux (3700,), cls, subclass, snr_g, obsid)] of real LAMOST spectra (dr10, dr8, misc).
    The preprocessed sample is cached in out/simulator/real_lamost_cache.npz."""
    root = shared_data_root() / "lamost"
    if CACHE.exists():
        z = np.load(CACHE)
        data = {"flux": z["flux"], "meta": str(z["meta"])}
    else:
        data = _read_real(root)
        OUT.mkdir(parents=True, exist_ok=True)
        with atomic_path(CACHE) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **data)
    meta = json.loads(data["meta"])
    rows = [(data["flux"][i], m[0], m[1], m[2], m[3]) for i, m in enumerate(meta) if m[0] in classes]
    rng = np.random.default_rng(seed)
    out = []
    for c in classes:
        sel = [r for r in rows if r[1] == c]
        out += [sel[i] for i in rng.permutation(len(sel))[:max_per_class]]
    return out


if __name__ == "__main__":
    from collections import Counter

    print(Counter(r[1] for r in real_lamost("OBAFGKMC", 10**6)))
