"""Shared helpers for the simulator validation scripts (outputs go to out/simulator/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spectype.io import read_all
from spectype.io.discover import iter_spectrum_files
from spectype.labels import parse_label
from spectype.preprocess import preprocess
from spectype.simulate import shared_data_root

OUT = Path("out/simulator")


def real_lamost(classes, max_per_class=400, seed=0):
    """[(flux (3700,), cls, subclass, snr_g, obsid)] of real LAMOST spectra (dr10, dr8, misc)."""
    root = shared_data_root() / "lamost"
    rows = []
    for f in sorted(iter_spectrum_files(root)):
        try:
            for s in read_all(f):
                lab = parse_label(s.meta.subclass, s.meta.obj_class)
                if lab.ok and lab.cls in classes:
                    rows.append((preprocess(s).flux, lab.cls, s.meta.subclass, s.meta.snr.get("g", np.nan), s.meta.id))
        except Exception:
            continue
    rng = np.random.default_rng(seed)
    out = []
    for c in classes:
        sel = [r for r in rows if r[1] == c]
        out += [sel[i] for i in rng.permutation(len(sel))[:max_per_class]]
    return out
