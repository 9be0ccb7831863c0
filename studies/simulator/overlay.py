"""Real LAMOST vs simulated spectrum of the same subtype, preprocessed onto the model grid.

python -m studies.simulator.overlay   -> docs/figures/sim_overlay_{A,F,G,K,M}.png
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spectype.labels import parse_label
from spectype.preprocess import PreprocessConfig, preprocess
from spectype.simulate import (
    RealDistributions,
    SimConfig,
    batch_spectra,
    load_noise_profiles_from,
    load_sources,
    shared_data_root,
    simulate_source,
)

from .common import real_lamost


def main():
    root = shared_data_root()
    real = real_lamost(("A", "F", "G", "K", "M"), max_per_class=400)
    sources = load_sources(("stelib", "boss"), root / "libraries", ("A", "F", "G", "K", "M"))
    profiles = load_noise_profiles_from(root / "lamost", 50, 0)
    dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    grid = PreprocessConfig().grid()
    rng = np.random.default_rng(0)
    for cls in ("A", "F", "G", "K", "M"):
        done = False
        for flux, c, sub, snr, obsid in real:
            if c != cls or done:
                continue
            code = parse_label(sub).code
            match = [s for s in sources if s.label.code is not None and abs(s.label.code - code) < 0.6]
            if not match:
                continue
            src = match[0]
            snr = snr if np.isfinite(snr) and snr > 5 else 30.0
            spec = batch_spectra(simulate_source(src, 1, SimConfig(), dists, profiles, rng, snr=np.array([snr])))[0]
            sim = preprocess(spec).flux
            fig, ax = plt.subplots(figsize=(7, 2.6), dpi=80)
            ax.plot(grid, flux, lw=0.6, label=f"LAMOST {obsid} ({sub}, SNRg {snr:.0f})")
            ax.plot(grid, sim, lw=0.6, alpha=0.8, label=f"sim from {src.key} ({src.subclass})")
            ax.set_xlabel("rest-frame vacuum wavelength (Å)")
            ax.set_ylabel("min-max flux")
            ax.legend(fontsize=7, loc="best")
            fig.tight_layout()
            fig.savefig(f"docs/figures/sim_overlay_{cls}.png")
            plt.close(fig)
            print(cls, sub, obsid, "<->", src.key, src.subclass)
            done = True


if __name__ == "__main__":
    main()
