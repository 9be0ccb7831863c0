"""Feature modalities: per-sample path of the authors' Dataset vs the batched modules.

Baseline (what the authors' Dataset does per item): a matplotlib figure rendered, grayscaled,
resized to 224 (`reference_image_batch` on one spectrum), and the three torchaudio transforms on
one spectrum. Batched: `SpectrumImage` (the default ``direct`` method, and ``canvas=512``
``supersampled``) + `AudioFeatures` on a (256, 3700) flux batch. All run here, side by side;
the figures are ms per spectrum and their ratio. Also: fidelity of both renderers (MAE, SSIM at
224 x 224) on the baseline spectra, resident memory across batches, and spectra/s on a GPU when
one is present.

Flux: LAMOST DR10 spectra from ../shared/data when present (first 3700 pixels, min-max
normalised), else synthetic spectra.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from spectype.features.audio import AUDIO_KINDS, AudioFeatures, torchaudio_transform
from spectype.features.image import SpectrumImage, reference_image_batch, ssim

L = 3700
N_BASELINE = 32
BATCH = 256
DATA = Path(
    os.environ.get("SPECTYPE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def _minmax(y: np.ndarray) -> np.ndarray:
    lo, hi = y.min(), y.max()
    return (y - lo) / (hi - lo) if hi > lo else np.zeros_like(y)


def load_flux(n: int) -> tuple[torch.Tensor, str]:
    """``(n, L)`` float32 min-max flux: real LAMOST spectra (repeated to n) or synthetic."""
    files = sorted((DATA / "lamost" / "dr10").glob("*.fits.gz"))[:64]
    rows = []
    if files:
        from astropy.io import fits

        for f in files:
            try:
                with fits.open(f) as hdul:
                    flux = np.asarray(hdul["COADD"].data["FLUX"][0], dtype=np.float64)[:L]
            except Exception as exc:  # a bad file is reported and skipped
                print(f"  skipped {f.name}: {exc}")
                continue
            if flux.size == L and np.isfinite(flux).all():
                rows.append(_minmax(flux))
    if rows:
        arr = np.stack([rows[i % len(rows)] for i in range(n)])
        return torch.from_numpy(arr).float(), f"LAMOST DR10 ({len(rows)} distinct spectra)"
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 1, L)
    y = 0.3 + 0.7 * torch.sin(torch.pi * (0.2 + 0.8 * t[None] * torch.rand(n, 1, generator=g)))
    for _ in range(25):
        c, d = torch.rand(n, 1, generator=g), 0.5 * torch.rand(n, 1, generator=g)
        y = y * (1 - d * torch.exp(-(((t[None] - c) / 0.003) ** 2)))
    y = y + 0.03 * torch.randn(n, L, generator=g)
    y = (y - y.amin(1, keepdim=True)) / (y.amax(1, keepdim=True) - y.amin(1, keepdim=True))
    return y, "synthetic"


REPEATS = 5


def _median_of(fn, repeats: int = REPEATS) -> float:
    """Median wall time of ``fn()`` after one warm-up call. The same statistic for both sides,
    so neither the baseline nor the batched path gets the luckier summary on a noisy machine."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@torch.inference_mode()
def main() -> None:
    # SPECTYPE_BENCH_THREADS=2 reproduces a 2-core laptop on a bigger machine.
    torch.set_num_threads(int(os.environ.get("SPECTYPE_BENCH_THREADS", os.cpu_count() or 1)))
    flux, source = load_flux(BATCH)
    base = flux[:N_BASELINE]
    print(
        f"flux: {source}; torch threads {torch.get_num_threads()}; preset 'paper'; "
        f"median of {REPEATS} timed runs after a warm-up, both sides"
    )

    # --- baseline: per spectrum, as the authors' Dataset.__getitem__ ---
    # (the warm-up call also builds matplotlib's font caches on a first run)
    t_img_base = (
        _median_of(lambda: [reference_image_batch(row[None]) for row in base]) / N_BASELINE
    )
    ref_imgs = reference_image_batch(base)
    refs = {k: torchaudio_transform(k) for k in AUDIO_KINDS}

    def audio_per_sample():
        for row in base:
            for k in AUDIO_KINDS:
                refs[k](row[None, None])

    t_audio_base = _median_of(audio_per_sample) / N_BASELINE

    # --- batched ---
    image, image_ss, audio = SpectrumImage(), SpectrumImage(canvas=512), AudioFeatures()
    t_img = _median_of(lambda: image(flux)) / BATCH
    t_img_ss = _median_of(lambda: image_ss(flux)) / BATCH
    t_audio = _median_of(lambda: audio(flux)) / BATCH
    t_audio_ta = _median_of(lambda: [refs[k](flux.unsqueeze(1)) for k in AUDIO_KINDS]) / BATCH

    ms = 1e3
    print(f"{'':34s}{'per-sample':>12s}{'batched':>10s}{'ratio':>8s}  (ms/spectrum)")
    for name, a, b in (
        ("image (matplotlib | direct)", t_img_base, t_img),
        ("image (matplotlib | supersampled)", t_img_base, t_img_ss),
        ("audio (torchaudio | ours)", t_audio_base, t_audio),
        ("total, direct (default)", t_img_base + t_audio_base, t_img + t_audio),
        ("total, supersampled", t_img_base + t_audio_base, t_img_ss + t_audio),
    ):
        print(f"{name:34s}{a * ms:12.3f}{b * ms:10.3f}{a / b:8.1f}x")
    print(
        f"batched plain torchaudio (3 transforms, batch {BATCH}): {t_audio_ta * ms:.3f} ms/spectrum"
    )

    # --- fidelity of the fast renderers on the baseline spectra ---
    for name, renderer in (("direct", image), ("supersampled", image_ss)):
        fast = renderer(base)
        mae = (fast - ref_imgs).abs().mean().item()
        score = ssim(fast, ref_imgs)
        print(
            f"fidelity of {name} at 224x224 over {N_BASELINE} spectra: MAE {mae:.4f}, "
            f"SSIM mean {score.mean():.4f} min {score.min():.4f}"
        )

    # --- memory: resident set after N batches should stay flat ---
    rss = []
    for i in range(1, 9):
        image(flux)
        audio(flux)
        if i in (1, 4, 8):
            rss.append((i, _rss_mib()))
    print("RSS after batches: " + ", ".join(f"{i}: {m:.0f} MiB" for i, m in rss))

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        gaudio, gflux = AudioFeatures().to(dev), flux.to(dev)
        big = gflux.repeat(8, 1)  # 2048 spectra
        for name, kw in (("direct", {}), ("supersampled", {"canvas": 512})):
            gimage = SpectrumImage(**kw).to(dev)

            def run_gpu(gimage=gimage):
                gimage(big)
                gaudio(big)
                torch.cuda.synchronize()

            t = _median_of(run_gpu, repeats=5)
            gpu_mae = (gimage(base.to(dev)).cpu() - ref_imgs).abs().mean().item()
            print(
                f"GPU {torch.cuda.get_device_name()}, {name}: image + 3 audio features "
                f"{big.shape[0] / t:,.0f} spectra/s (batch {big.shape[0]}); "
                f"MAE vs reference {gpu_mae:.4f}"
            )


if __name__ == "__main__":
    main()
