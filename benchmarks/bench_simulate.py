"""Simulator speed: 1,000 spectra (8 classes x 125) end to end, against a baseline of the
same count read from real LAMOST files and preprocessed (the cost of a real-data pack)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def main() -> None:
    from spectype.io import read
    from spectype.io.discover import iter_spectrum_files
    from spectype.preprocess import preprocess
    from spectype.simulate import build_simulated_dataset, shared_data_root

    root = shared_data_root()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = build_simulated_dataset(Path(tmp) / "sims.h5", per_class=125, seed=0, workers=1)
        t_sim = time.perf_counter() - t0
    n = sum(c["sim"] for c in res.counts.values())
    files = sorted(iter_spectrum_files(root / "lamost" / "dr10"))[:n]
    t0 = time.perf_counter()
    for f in files:
        preprocess(read(f))
    t_real = time.perf_counter() - t0
    print(f"simulate {n} spectra (incl. loading libraries + noise profiles): {t_sim:.1f} s")
    print(f"baseline: read + preprocess {len(files)} real LAMOST files: {t_real:.1f} s")
    print(f"ratio simulate / real-read: {t_sim / t_real * len(files) / n:.2f}")


if __name__ == "__main__":
    main()
