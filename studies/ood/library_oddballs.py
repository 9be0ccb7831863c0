"""What the shipped model says about real non-stellar spectra: white dwarfs, L/T dwarfs, a quasar.

    python -m studies.ood.library_oddballs [--model DIR] [--data-root ../shared/data]

The BOSS stellar templates hold white-dwarf (WD, WDcooler, WDhotter, WDmagnetic, CalciumWD,
CarbonWD) and L/T-dwarf (Ldwarf, L0 ... L9, T2) spectra, and `lamost/misc` one LAMOST QSO. None
is one of the eight classes, so no model here was trained on them in any form (the simulator
and the benchmark skip labels that do not parse to a class). Each is classified as a user's file
would be (`spectype.classify` on the file; rows picked by their header type) and the class, its
probability and `flag_unlike_training` are printed, then how many of each kind were flagged or
got a probability under 0.5. The stellar rows of the same files are the comparison (they were
in the shipped model's training set as simulations, so they are not a held-out rate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import spectype
from spectype.labels import parse_label

BOSS = ("libraries/boss/spEigenStar-55734.fits", "libraries/boss/spEigenStar-53724.fits")


def kind_of(name: str) -> str | None:
    """'white dwarf', 'L/T dwarf', 'star' or None (subdwarfs and blends: left out)."""
    n = str(name)
    if "WD" in n:
        return "white dwarf"
    if n == "Ldwarf" or (n[:1] in "LT" and n[1:2].isdigit()):
        return "L/T dwarf"
    if parse_label(n).ok and not n.startswith("sd") and n != "OB":
        return "star"
    return None


def run(data_root: Path, model=None) -> pd.DataFrame:
    qsos = [p for p in sorted((data_root / "lamost" / "misc").glob("*.fits*"))
            if _header_class(p) == "QSO"]
    df = spectype.classify([str(data_root / b) for b in BOSS] + [str(p) for p in qsos], model=model)
    names = df["header_subclass"].fillna("").astype(str)
    df["kind"] = [("quasar" if c == "QSO" else kind_of(n))
                  for c, n in zip(df["header_class"].fillna("").astype(str), names, strict=True)]
    df["object"] = np.where(df["kind"] == "quasar", "LAMOST QSO", names)
    return df[df["kind"].notna()]


def _header_class(path: Path) -> str:
    from astropy.io import fits

    return str(fits.getheader(path, 0).get("CLASS", "")).strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--data-root", default="../shared/data", type=Path)
    args = ap.parse_args()
    df = run(args.data_root, args.model)
    odd = df[df["kind"] != "star"]
    print(odd[["kind", "object", "pred_class", "pred_prob", "flag_unlike_training"]].to_string(index=False))
    summary = df.groupby("kind").agg(n=("object", "size"), flagged=("flag_unlike_training", "sum"),
                                     prob_below_half=("pred_prob", lambda p: int((p < 0.5).sum())),
                                     median_prob=("pred_prob", "median"))
    print()
    print(summary.to_string())


if __name__ == "__main__":
    main()
