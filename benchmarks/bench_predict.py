"""Classification throughput from a pack on CPU: the shipped recipe (MKNet) vs `cnn1d_compact`.

A pack here is an HDF5 file of preprocessed spectra (N, 3700) float32 with their good-pixel
masks, as `spectype pack` writes; each model reads it in chunks of 1,024 and runs
`models.predict.predict_outputs` in forwards of 128, classify's default batch (what `classify`
calls per batch: probabilities, and for MKNet
the type code, its error, luminosity class and the out-of-distribution flag). Untrained weights:
the cost does not depend on their values. Both models run side by side in one process with the
same threads; the ratio is the figure to compare across machines. Issue #10's target is
>= 3,000 spectra/s for the default model on 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from spectype.models import create_model
from spectype.models.predict import predict_outputs
from spectype.train.mknet import MKNetConfig

N, L, CHUNK, BATCH = 8192, 3700, 1024, 128


def spectra_per_s(model, pack: Path, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        with h5py.File(pack, "r") as f:
            for i in range(0, N, CHUNK):
                predict_outputs(model, f["flux"][i : i + CHUNK], f["good"][i : i + CHUNK], batch_size=BATCH)
        best = min(best, time.perf_counter() - t0)
    return N / best


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / "pack.h5"
        with h5py.File(pack, "w") as f:
            f["flux"] = rng.uniform(0.2, 1.2, (N, L)).astype(np.float32)
            f["good"] = np.ones((N, L), bool)
        models = {
            "cnn1d_compact": create_model("cnn1d_compact", n_classes=8, input_len=L).eval(),
            "mknet (default recipe)": create_model("mknet", n_classes=8, input_len=L, **MKNetConfig().model_kwargs).eval(),
        }
        print(f"CPU threads: {torch.get_num_threads()}, {N} spectra, chunks of {CHUNK}, forwards of {BATCH}, best of 3")
        base = None
        for name, model in models.items():
            rate = spectra_per_s(model, pack)
            base = base or rate
            print(f"{name:24s} {rate:8.0f} spectra/s  x{rate / base:5.2f} vs cnn1d_compact")


if __name__ == "__main__":
    main()
