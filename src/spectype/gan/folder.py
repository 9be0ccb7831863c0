"""GAN checkpoint folders: model folders (spectype.models.release) whose main network is the
generator (`model.safetensors`, role 'generator') with the discriminator as a companion
(`discriminator.safetensors`), plus `samples.png`. Never pickles.

config.json holds the GAN's own facts beside the folder fields: gan, class_name, normalisation,
noise_dim, wavelength, iteration and training_groups. Checkpoints of earlier versions (format
'spectype-gan-checkpoint') load as well: release.read_model_config reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch.nn as nn

from ..errors import ModelLoadError
from ..models.release import CONFIG, WEIGHTS, load_model, read_model_config, save_model

# Keys of the training run's config that the folder format itself writes (from the modules).
_FOLDER_KEYS = {"arch", "discriminator_arch", "class_names", "input_len", "training"}


def save_gan_folder(
    folder: str | os.PathLike,
    generator: nn.Module,
    discriminator: nn.Module | None,
    config: dict,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write a checkpoint folder atomically. `config`: the run's facts (class_names, training,
    class_name, iteration ...); the architectures come from the modules (`create_model`)."""
    return save_model(
        generator,
        folder,
        class_names=list(config["class_names"]),
        preprocess={"norm": config.get("normalisation", "l2"), "n_pix": config.get("input_len")},
        training=config.get("training"),
        companions={"discriminator": discriminator} if discriminator is not None else None,
        extra={k: v for k, v in config.items() if k not in _FOLDER_KEYS},
        extra_files=extra_files,
    )


def _check_is_checkpoint(folder: Path) -> None:
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise ModelLoadError(
            f"{folder}: not a GAN checkpoint folder (needs {CONFIG} and {WEIGHTS}); "
            "pass a folder such as RUN_DIR/checkpoints/iter_000500"
        )


def read_gan_config(folder: str | os.PathLike) -> dict:
    """The checked config.json of a checkpoint folder (ModelLoadError unless it holds a generator)."""
    folder = Path(folder)
    _check_is_checkpoint(folder)
    config = read_model_config(folder)
    if config["role"] != "generator":
        raise ModelLoadError(
            f"{folder / CONFIG}: a {config['role']} model folder, not a GAN checkpoint; pass a "
            "folder such as RUN_DIR/checkpoints/iter_000500"
        )
    return config


def load_gan_module(folder: str | os.PathLike, which: str = "generator") -> tuple[nn.Module, dict]:
    """Rebuild and load the generator (or 'discriminator') of a checkpoint folder, on CPU, eval
    mode, with the folder's config as `.spectype_config`."""
    folder = Path(folder)
    read_gan_config(folder)
    loaded = load_model(folder, role=which)
    loaded.model.spectype_config = loaded.config
    return loaded.model, loaded.config
