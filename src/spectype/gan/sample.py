"""Sampling spectra from a trained GAN generator into an HDF5 file."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn as nn

from ..atomic import atomic_path
from ..preprocess import l2_normalise
from .folder import load_gan_module


def load_generator(model_dir: str | os.PathLike) -> nn.Module:
    """The generator of a checkpoint folder, on CPU in eval mode; its config is `.spectype_config`."""
    return load_gan_module(model_dir, "generator")[0]


@torch.no_grad()
def sample(
    generator: nn.Module,
    n: int,
    seed: int = 0,
    batch_size: int = 512,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """n generated spectra, (n, L) float32, L2-normalised (eq. 1) like the real training data.

    The generator runs in eval mode (dropout off). Noise is drawn on the CPU from `seed`, so a
    seed gives the same spectra on any device.
    """
    device = torch.device(device) if device is not None else next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    try:
        for start in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - start), generator.noise_dim, generator=gen)
            out.append(generator.to(device)(z.to(device)).float().cpu().numpy())
    finally:
        generator.train(was_training)
    if not out:
        return np.zeros((0, generator.input_len), dtype=np.float32)
    return l2_normalise(np.concatenate(out))


def write_generated(path: str | os.PathLike, flux: np.ndarray, config: dict, source: str) -> Path:
    """Write generated spectra atomically: `flux` (N, L) float32, `label` (N,) int64 (index of the
    GAN's class in `class_names`), optional `wavelength`; attrs generated, source, class_names."""
    class_names = list(config.get("class_names") or [config["class_name"]])
    label = class_names.index(config["class_name"])
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("flux", data=np.asarray(flux, dtype=np.float32))
        f.create_dataset("label", data=np.full(len(flux), label, dtype=np.int64))
        if config.get("wavelength") is not None:
            f.create_dataset("wavelength", data=np.asarray(config["wavelength"], dtype=np.float64))
        f.attrs["generated"] = True
        f.attrs["source_checkpoint"] = str(source)
        f.attrs["class_names"] = class_names
        f.attrs["class_name"] = config["class_name"]
        f.attrs["normalisation"] = config.get("normalisation", "l2")
        f.attrs["iteration"] = int(config.get("iteration", -1))
    return path


def sample_to_file(
    model_dir: str | os.PathLike, n: int, out: str | os.PathLike, seed: int = 0
) -> Path:
    """Load a checkpoint folder, draw n spectra and write them to `out` (HDF5)."""
    g = load_generator(model_dir)
    flux = sample(g, n, seed)
    return write_generated(out, flux, g.spectype_config, str(Path(model_dir).resolve()))


def augment_with_samples(
    pack: str | os.PathLike, model_dir: str | os.PathLike, class_name: str, n: int,
    out: str | os.PathLike, seed: int = 0,
) -> Path:
    """A new pack: `pack` plus n samples of the checkpoint's class in its train split only
    (`datasets.augment.augment_pack`; val/test unchanged). The checkpoint must be a GAN of
    `class_name` on the pack's wavelength grid."""
    from ..datasets import Pack
    from ..datasets.augment import augment_pack
    from ..errors import ConfigError

    if n < 1:
        raise ConfigError(f"-n must be >= 1 (spectra to add), got {n}")
    src = Pack(pack)
    g = load_generator(model_dir)
    cfg = g.spectype_config
    if cfg.get("class_name") != class_name:
        raise ConfigError(f"{model_dir}: a GAN of class {cfg.get('class_name')!r}, not "
                          f"{class_name!r}; pass a checkpoint trained on {class_name} spectra")
    wave = cfg.get("wavelength")
    if wave is not None and (len(wave) != src.n_pix or not np.allclose(wave, src.wavelength)):
        raise ConfigError(f"{model_dir}: its wavelength grid ({len(wave)} px) is not that of "
                          f"{src.path} ({src.n_pix} px); train the GAN on this pack")
    source = str(Path(model_dir).resolve())
    note = {"seed": seed, "iteration": int(cfg.get("iteration", -1)), "gan": cfg.get("gan")}
    return augment_pack(src, out, class_name, sample(g, n, seed), source=source, note=note)
