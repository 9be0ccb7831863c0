"""Figures users look at: a classified spectrum with its class probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_path


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Lay out, write atomically (temp file + rename) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)  # figures left open accumulate in long jobs
    return path


def plot_classified_spectrum(
    flux: np.ndarray,
    probs: np.ndarray,
    class_names: list[str],
    path: str | Path,
    wavelength: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """Write a PNG: the model-grid spectrum (left) and the class probabilities (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .preprocess import lamost_grid

    wave = wavelength if wavelength is not None else lamost_grid(len(flux))
    order = int(np.argmax(probs))
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [4, 1]})
    ax.plot(wave, flux, lw=0.6, color="k")
    ax.set_xlabel("rest-frame wavelength (Å, vacuum)")
    ax.set_ylabel("normalised flux")
    ax.set_title(f"{title}\npredicted {class_names[order]} (p = {probs[order]:.2f})", fontsize=9)
    colors = ["tab:red" if i == order else "tab:gray" for i in range(len(class_names))]
    axp.barh(class_names, probs, color=colors)
    axp.set_xlim(0, 1)
    axp.invert_yaxis()
    axp.set_xlabel("probability")
    return save_figure(fig, path, dpi=90)


def plot_modalities(
    flux: np.ndarray,
    image: np.ndarray,
    audio: dict[str, np.ndarray],
    path: str | Path,
    wavelength: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """Write a PNG of what the multimodal model sees for one spectrum.

    Top: the model-grid flux. Below: the plotted-spectrum image (and the matplotlib
    reference when given) and each audio feature (dB or cepstral coefficients per frame).
    flux (L,), image (H, W) in [0, 1], audio {kind: (F, T)}, reference (H, W) or None.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .preprocess import lamost_grid

    wave = wavelength if wavelength is not None else lamost_grid(len(flux))
    panels = [("image (SpectrumImage)", image)]
    if reference is not None:
        panels.append(("image (matplotlib reference)", reference))
    panels += [(kind, feat) for kind, feat in audio.items()]
    fig = plt.figure(figsize=(3.2 * len(panels), 6.2))
    grid = fig.add_gridspec(2, len(panels), height_ratios=[1, 1.6])
    ax = fig.add_subplot(grid[0, :])
    ax.plot(wave, flux, lw=0.6, color="k")
    ax.set_xlabel("rest-frame wavelength (Å, vacuum)")
    ax.set_ylabel("normalised flux")
    ax.set_title(title, fontsize=9)
    for i, (name, data) in enumerate(panels):
        axi = fig.add_subplot(grid[1, i])
        if name.startswith("image"):
            axi.imshow(data, cmap="gray", vmin=0, vmax=1)
            axi.set_axis_off()
        else:
            shown = axi.imshow(data, origin="lower", aspect="auto", cmap="viridis")
            axi.set_xlabel("frame")
            axi.set_ylabel("coefficient" if name in ("mfcc", "lfcc") else "mel bin")
            fig.colorbar(shown, ax=axi, fraction=0.046, pad=0.04)
        axi.set_title(name, fontsize=9)
    return save_figure(fig, path, dpi=90)
