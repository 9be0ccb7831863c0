"""GAN checkpoint folders: `model.safetensors` (generator), `discriminator.safetensors`,
`config.json` (builder names + kwargs, class, normalisation, iteration). Never pickles.

A folder is written under a temporary name and renamed into place, so a crash never leaves a
half-written checkpoint under its final name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch.nn as nn
from safetensors.torch import load_file, save_file

from ..atomic import atomic_folder
from ..errors import ModelLoadError
from ..models.registry import create_model

FORMAT = "spectype-gan-checkpoint"


def _state(model: nn.Module) -> dict:
    return {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}


def save_gan_folder(
    folder: str | os.PathLike,
    generator: nn.Module,
    discriminator: nn.Module | None,
    config: dict,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write a checkpoint folder atomically; `config` must hold 'arch' (generator builder)."""
    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        save_file(_state(generator), str(tmp / "model.safetensors"))
        if discriminator is not None:
            save_file(_state(discriminator), str(tmp / "discriminator.safetensors"))
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        (tmp / "config.json").write_text(json.dumps({"format": FORMAT, **config}, indent=2))
    return folder


def read_gan_config(folder: str | os.PathLike) -> dict:
    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file() or not (folder / "model.safetensors").is_file():
        raise ModelLoadError(
            f"{folder}: not a GAN checkpoint folder (needs config.json and model.safetensors); "
            "pass a folder such as RUN_DIR/checkpoints/iter_000500"
        )
    try:
        config = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as e:
        raise ModelLoadError(f"{cfg_path}: config.json is not valid JSON ({e})") from e
    if config.get("format") != FORMAT or "arch" not in config:
        raise ModelLoadError(
            f"{cfg_path}: not a spectype GAN config (format {config.get('format')!r})"
        )
    return config


def load_gan_module(folder: str | os.PathLike, which: str = "generator") -> tuple[nn.Module, dict]:
    """Rebuild and load the generator (or 'discriminator') of a checkpoint folder, on CPU, eval mode."""
    folder = Path(folder)
    config = read_gan_config(folder)
    arch_key, weights = (
        ("arch", "model.safetensors")
        if which == "generator"
        else ("discriminator_arch", "discriminator.safetensors")
    )
    if arch_key not in config or not (folder / weights).is_file():
        raise ModelLoadError(f"{folder}: checkpoint has no {which}")
    arch = config[arch_key]
    try:
        model = create_model(arch["name"], **arch["kwargs"])
        model.load_state_dict(load_file(str(folder / weights)))
    except (KeyError, RuntimeError) as e:
        raise ModelLoadError(f"{folder}: {which} weights do not match {arch['name']} ({e})") from e
    model.eval()
    model.spectype_config = config
    return model, config
