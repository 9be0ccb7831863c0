"""Model forward cost on CPU at full size (input_len 3700, 224 px images, EPSANet-50), batch 8.

Baseline: the 1D CNN with CoordAtt (`cnn1d_coordatt`), timed side by side; the others are
reported as ms per spectrum and as a ratio to it. Also prints parameter counts.
"""

from __future__ import annotations

import time

import torch

from spectype.models import count_parameters, create_model

BATCH = 8
REPEATS = 3
MODELS = ("cnn1d_coordatt", "epsanet50", "mm_all")


@torch.no_grad()
def ms_per_spectrum(model: torch.nn.Module, flux: torch.Tensor) -> float:
    model(flux)  # warm-up (allocator, oneDNN kernels)
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        model(flux)
        best = min(best, time.perf_counter() - t0)
    return 1000 * best / flux.shape[0]


def main() -> None:
    torch.manual_seed(0)
    flux = torch.rand(BATCH, 3700)
    print(f"CPU threads: {torch.get_num_threads()}, batch {BATCH}, best of {REPEATS}")
    base = None
    for name in MODELS:
        model = create_model(name).eval()
        ms = ms_per_spectrum(model, flux)
        base = base or ms
        print(
            f"{name:16s} params {count_parameters(model):>12,}  {ms:8.1f} ms/spectrum  x{ms / base:6.1f} vs {MODELS[0]}"
        )


if __name__ == "__main__":
    main()
