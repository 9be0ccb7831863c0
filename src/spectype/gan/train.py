"""GAN training on one class of spectra (LCGAN or the SGAN baseline): one readable loop.

An iteration is one discriminator step and one generator step on a batch drawn (with
replacement) from the real spectra. Flux is L2-normalised (eq. 1) before training whatever the
pack's own normalisation. Every `checkpoint_every` iterations (and at the end) a model folder
`RUN_DIR/checkpoints/iter_NNNNNN/` is written, with a PNG of real vs generated spectra;
`losses.csv` is rewritten atomically at the same time.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..atomic import atomic_path
from ..errors import ConfigError
from ..models.registry import count_parameters, create_model
from ..runtime import resolve_device
from .data import l2_normalise
from .folder import save_gan_folder

# Per-model defaults: builders, optimisers and label schemes (docs/gan.md explains each).
MODEL_DEFAULTS: dict[str, dict] = {
    "lcgan": {
        "generator": "gan_lcgan_generator",
        "discriminator": "gan_lcgan_discriminator",
        "optimizer": "rmsprop",
        "lr_g": 1e-4,  # TTUR (paper): the discriminator learns 1.5x faster
        "lr_d": 1.5e-4,
        "real_label": (0.9, 0.9),  # one-sided smoothing: real = 1 - alpha, alpha = 0.1
        "fake_label": (0.0, 0.0),  # beta = 0
    },
    "sgan": {
        "generator": "gan_sgan_generator",
        "discriminator": "gan_sgan_discriminator",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "real_label": (0.7, 1.0),  # noisy labels, drawn per sample, clipped into [0, 1] for BCE
        "fake_label": (0.0, 0.3),
    },
}


@dataclass
class GanConfig:
    """Everything a GAN run needs; `None` fields take the model's default (MODEL_DEFAULTS)."""

    model: str = "lcgan"
    out: str | None = None  # run folder; None trains without writing anything
    iters: int = 2000
    batch_size: int = 64
    checkpoint_every: int = 500
    seed: int = 0
    noise_dim: int = 900
    generator_kwargs: dict = field(default_factory=dict)
    discriminator_kwargs: dict = field(default_factory=dict)
    lr_g: float | None = None
    lr_d: float | None = None
    real_label: tuple[float, float] | None = None  # uniform range (low, high)
    fake_label: tuple[float, float] | None = None
    class_name: str = "O"
    class_names: list[str] | None = None  # the pack's classes; None means [class_name]
    device: str = "auto"
    amp: bool = True  # bf16 autocast, CUDA only
    n_plot: int = 4
    progress: bool = True

    def resolved(self) -> dict:
        if self.model not in MODEL_DEFAULTS:
            raise ConfigError(
                f"unknown GAN model {self.model!r}; choose one of {', '.join(MODEL_DEFAULTS)}"
            )
        d = dict(MODEL_DEFAULTS[self.model])
        for key in ("lr_g", "lr_d", "real_label", "fake_label"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


@dataclass
class RunResult:
    """What a run produced: the trained networks, per-iteration losses and checkpoint folders."""

    generator: nn.Module
    discriminator: nn.Module
    losses: pd.DataFrame
    checkpoints: list[Path]
    run_dir: Path | None


def build_gan(cfg: GanConfig, input_len: int) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator for `cfg.model` at spectrum length `input_len`."""
    d = cfg.resolved()
    g = create_model(
        d["generator"], input_len=input_len, noise_dim=cfg.noise_dim, **cfg.generator_kwargs
    )
    disc = create_model(
        d["discriminator"], input_len=input_len, noise_dim=cfg.noise_dim, **cfg.discriminator_kwargs
    )
    return g, disc


def make_optimizers(
    cfg: GanConfig, g: nn.Module, disc: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    d = cfg.resolved()
    if d["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(g.parameters(), lr=d["lr_g"]), torch.optim.RMSprop(
            disc.parameters(), lr=d["lr_d"]
        )
    betas = (0.5, 0.999)  # Radford et al.: beta1 = 0.5 steadies GAN training
    return (
        torch.optim.Adam(g.parameters(), lr=d["lr_g"], betas=betas),
        torch.optim.Adam(disc.parameters(), lr=d["lr_d"], betas=betas),
    )


def _labels(
    rng: tuple[float, float], n: int, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    lo, hi = rng
    u = torch.rand(n, generator=gen, device=device)
    return (lo + (hi - lo) * u).clamp(0.0, 1.0)


def train_step(
    g: nn.Module,
    disc: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    labels: dict,
    gen: torch.Generator,
    amp: bool = False,
) -> dict[str, float]:
    """One D step then one G step. real: (B, L) L2-normalised. Returns losses and mean D(x)."""
    b, device = real.shape[0], real.device
    noise_dim = g.noise_dim
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)

    # Discriminator: smoothed/noisy targets; the fake batch needs no graph through G.
    disc.requires_grad_(True)
    z = torch.randn(b, noise_dim, generator=gen, device=device)
    with autocast:
        with torch.no_grad():
            fake = g(z)
        logit_real = disc(real)
        logit_fake = disc(fake)
    y_real = _labels(labels["real_label"], b, gen, device)
    y_fake = _labels(labels["fake_label"], b, gen, device)
    d_loss = 0.5 * (
        F.binary_cross_entropy_with_logits(logit_real.float(), y_real)
        + F.binary_cross_entropy_with_logits(logit_fake.float(), y_fake)
    )
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    # Generator: non-saturating loss with hard "real" targets; D is frozen for speed.
    disc.requires_grad_(False)
    z = torch.randn(b, noise_dim, generator=gen, device=device)
    with autocast:
        logit_gen = disc(g(z))
    g_loss = F.binary_cross_entropy_with_logits(logit_gen.float(), torch.ones(b, device=device))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    disc.requires_grad_(True)

    return {
        "d_loss": float(d_loss.detach()),
        "g_loss": float(g_loss.detach()),
        "d_real": float(torch.sigmoid(logit_real.detach().float()).mean()),
        "d_fake": float(torch.sigmoid(logit_fake.detach().float()).mean()),
    }


def plot_real_vs_generated(
    real: np.ndarray, fake: np.ndarray, wavelength: np.ndarray | None, title: str
) -> bytes:
    """PNG bytes: real spectra (left) and generated ones (right), stacked with offsets."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.5))
    FigureCanvasAgg(fig)
    x = wavelength if wavelength is not None else np.arange(real.shape[1])
    axes = fig.subplots(1, 2, sharey=True)
    step = 1.5 * float(np.max(np.abs(np.concatenate([real, fake])))) if len(real) else 1.0
    for ax, data, name in ((axes[0], real, "real"), (axes[1], fake, "generated")):
        for i, row in enumerate(data):
            ax.plot(x, row + i * step, lw=0.6)
        ax.set_title(f"{title}: {name}")
        ax.set_xlabel("wavelength (Å)" if wavelength is not None else "pixel")
    axes[0].set_ylabel("L2-normalised flux (offset)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _write_losses(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=["iter", "d_loss", "g_loss", "d_real", "d_fake"]).to_csv(
            tmp, index=False
        )


def train_gan(
    flux: np.ndarray,
    cfg: GanConfig,
    *,
    groups: np.ndarray | None = None,
    wavelength: np.ndarray | None = None,
    source: str | None = None,
) -> RunResult:
    """Train `cfg.model` on real spectra of one class.

    flux: (N, L) real spectra of `cfg.class_name` (any normalisation; L2-normalised here).
    groups: (N,) group keys of these spectra, recorded in each checkpoint so evaluation can keep
    them out of its test sets. wavelength: (L,) grid, recorded for plots and downstream use.
    """
    flux = np.asarray(flux)
    if flux.ndim != 2 or len(flux) == 0:
        raise ConfigError(f"flux must be a non-empty (N, L) array, got shape {flux.shape}")
    if cfg.iters < 1 or cfg.batch_size < 1 or cfg.checkpoint_every < 1:
        raise ConfigError("iters, batch_size and checkpoint_every must all be >= 1")
    resolved = cfg.resolved()
    n, length = flux.shape
    device = resolve_device(cfg.device)
    amp = cfg.amp and device.type == "cuda"

    torch.manual_seed(cfg.seed)  # weight initialisation
    g, disc = build_gan(cfg, length)
    g.to(device).train()
    disc.to(device).train()
    opt_g, opt_d = make_optimizers(cfg, g, disc)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    batch_rng = np.random.default_rng(cfg.seed)
    real_all = torch.from_numpy(l2_normalise(flux)).to(device)

    run_dir = Path(cfg.out) if cfg.out is not None else None
    base_config = {
        "arch": g.spectype_arch,
        "discriminator_arch": disc.spectype_arch,
        "gan": cfg.model,
        "class_name": cfg.class_name,
        "class_names": list(cfg.class_names or [cfg.class_name]),
        "normalisation": "l2",
        "input_len": length,
        "noise_dim": cfg.noise_dim,
        "wavelength": None if wavelength is None else np.asarray(wavelength, dtype=float).tolist(),
        "training": {
            **{k: v for k, v in asdict(cfg).items() if k not in ("progress", "out")},
            **{k: resolved[k] for k in ("optimizer", "lr_g", "lr_d", "real_label", "fake_label")},
            "n_spectra": int(n),
            "source": source,
            "parameters_g": count_parameters(g),
            "parameters_d": count_parameters(disc),
        },
        # The distinct stars seen (kept out of GAN-test sets), not one entry per training row.
        "training_groups": None if groups is None else sorted({str(x) for x in np.asarray(groups)}),
    }
    plot_rows = batch_rng.choice(n, size=min(cfg.n_plot, n), replace=False)
    plot_noise = torch.randn(len(plot_rows), cfg.noise_dim, generator=gen, device=device)

    losses: list[dict] = []
    checkpoints: list[Path] = []

    def checkpoint(it: int) -> None:
        if run_dir is None:
            return
        g.eval()
        with torch.no_grad():
            fake = g(plot_noise).float().cpu().numpy()
        g.train()
        png = plot_real_vs_generated(
            real_all[plot_rows].cpu().numpy(), fake, wavelength, f"{cfg.class_name} iter {it}"
        )
        folder = run_dir / "checkpoints" / f"iter_{it:06d}"
        save_gan_folder(folder, g, disc, {**base_config, "iteration": it}, {"samples.png": png})
        checkpoints.append(folder)
        _write_losses(run_dir / "losses.csv", losses)

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not cfg.progress) as progress:
        task = progress.add_task(f"{cfg.model} {cfg.class_name}", total=cfg.iters)
        for it in range(1, cfg.iters + 1):
            idx = torch.from_numpy(batch_rng.integers(0, n, size=cfg.batch_size)).to(device)
            stats = train_step(g, disc, opt_g, opt_d, real_all[idx], resolved, gen, amp)
            losses.append({"iter": it, **stats})
            progress.update(
                task,
                advance=1,
                description=f"{cfg.model} {cfg.class_name} d={stats['d_loss']:.3f} g={stats['g_loss']:.3f}",
            )
            if it % cfg.checkpoint_every == 0 or it == cfg.iters:
                checkpoint(it)
    g.eval()
    disc.eval()
    return RunResult(g, disc, pd.DataFrame(losses), checkpoints, run_dir)


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Checkpoint folders of a run, in iteration order."""
    return sorted(
        p for p in (Path(run_dir) / "checkpoints").glob("iter_*") if (p / "config.json").is_file()
    )
