"""What the shipped model says about spectra that are not normal stars (synthetic, illustrative).

`python -m studies.ood.synthetic [--model DIR]` builds five toy inputs on 3700-9000 Å — a flat
spectrum, noise, a quasar-like power law with broad Balmer and [O III] emission at z = 0.3, a
hot DA white dwarf (steep blue continuum, broad Balmer absorption), and emission lines on a flat
continuum (galaxy-like) — classifies them with `spectype.classify` and prints the class, its
probability and `flag_unlike_training`. These are caricatures, not real objects: the figures in
docs/accuracy.md are what they are, an illustration of the flag, not a measured rate.
"""

from __future__ import annotations

import argparse

import numpy as np

import spectype


def cases(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    w = np.linspace(3700, 9000, 4000)
    rng = np.random.default_rng(seed)

    def g(c: float, s: float, a: float) -> np.ndarray:
        return a * np.exp(-0.5 * ((w - c) / s) ** 2)

    z = 1.3
    return {
        "flat": (w, 1 + rng.normal(0, 0.01, w.size)),
        "noise": (w, np.abs(rng.normal(1, 0.5, w.size))),
        "quasar-like, z=0.3": (w, (w / 5000) ** -1.5 + g(6563 * z, 40, 3) + g(4861 * z, 30, 1.5) + g(5007 * z, 8, 2)),
        "hot DA white dwarf": (w, (w / 4000) ** -3 * (1 - g(4861, 40, 0.5) - g(4340, 40, 0.5) - g(6563, 50, 0.4) - g(4102, 40, 0.5))),
        "emission lines (galaxy-like)": (w, 1 + g(6563 * 1.05, 5, 5) + g(5007 * 1.05, 5, 4) + g(3727 * 1.05, 5, 3)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    args = ap.parse_args()
    c = cases()
    df = spectype.classify(list(c.values()), model=args.model)
    df.insert(0, "input", list(c))
    print(df[["input", "pred_class", "pred_prob", "flag_unlike_training"]].to_string(index=False))


if __name__ == "__main__":
    main()
