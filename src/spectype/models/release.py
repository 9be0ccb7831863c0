"""Model folders: `model.safetensors` + `config.json`, loaded without unpickling.

The one folder format for every role. `config.json` names the role of the network in
`model.safetensors` ('classifier', 'generator' or 'discriminator'), its architecture (registry
name + its config dataclass as kwargs, rebuilt with `create_model`), the class names, the
preprocessing and wavelength grid, a summary of the training data and the metrics. A folder
may hold networks of other roles beside the main one (a GAN checkpoint: the generator, and its
discriminator in `discriminator.safetensors`), listed under `companions` as role -> arch.
Weights are safetensors, so loading a folder from someone else can never execute code.

Folders from earlier versions load too: format_version 1 had no role (every folder held a
classifier), and GAN checkpoints had their own format ('spectype-gan-checkpoint', the
discriminator under 'discriminator_arch').
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
import torch.nn as nn

from ..atomic import atomic_folder
from ..errors import ModelLoadError
from ..runtime import jsonable
from .release_schema import MAX_CONFIG_BYTES, check_built_size, networks, validate_config

FORMAT = "spectype-model"
FORMAT_VERSION = 2  # 2: 'role' and 'companions'
LEGACY_GAN_FORMAT = "spectype-gan-checkpoint"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module under DDP / DataParallel / torch.compile wrappers."""
    from torch.nn.parallel import DistributedDataParallel

    while True:
        if isinstance(model, nn.DataParallel | DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def wavelength_grid_spec(wavelength: np.ndarray) -> dict[str, Any]:
    """Describe a wavelength grid (Å): start, stop, n_pix and spacing ('linear' | 'log').

    Irregular grids keep the full list under `values`.
    """
    w = np.asarray(wavelength, dtype=np.float64)
    spec: dict[str, Any] = {"n_pix": int(w.size), "start": float(w[0]), "stop": float(w[-1])}
    if w.size > 2 and np.allclose(np.diff(w), (w[-1] - w[0]) / (w.size - 1), rtol=1e-4):
        spec["spacing"] = "linear"
    elif w.size > 2 and np.all(w > 0) and np.allclose(
        np.diff(np.log10(w)), np.log10(w[-1] / w[0]) / (w.size - 1), rtol=1e-4
    ):
        spec["spacing"] = "log"
    else:
        spec["spacing"] = "irregular"
        spec["values"] = w.tolist()
    return spec


def weights_file(role: str, main_role: str) -> str:
    """The weights file of the `role` network in a folder whose main network has `main_role`."""
    return WEIGHTS if role == main_role else f"{role}.safetensors"


def _arch_of(model: nn.Module) -> dict:
    arch = getattr(model, "spectype_arch", None)
    if not arch:
        raise ValueError(
            "model has no spectype_arch: build it with spectype.models.create_model so the "
            "folder can rebuild it"
        )
    return arch


def save_model(
    model: nn.Module,
    folder: str | os.PathLike,
    *,
    class_names: list[str],
    preprocess: dict,
    training: dict | None = None,
    metrics: dict | None = None,
    companions: dict[str, nn.Module] | None = None,
    extra: dict | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write `folder/model.safetensors` + `folder/config.json` atomically; return the folder.

    The model must come from `create_model` (it carries `spectype_arch`; its role comes from the
    registry). Tied/shared tensors are stored once (safetensors.torch.save_model dedups them).
    companions: networks of other roles saved beside it, as {role: model}.
    extra: more top-level config keys (a GAN's class_name, iteration ...); extra_files: more
    files by plain name (a plot).
    """
    from .._version import __version__
    from .registry import model_role

    model = unwrap_model(model)
    arch = _arch_of(model)
    role = model_role(arch["name"])
    nets = {role: model}
    for r, m in (companions or {}).items():
        m = unwrap_model(m)
        if r == role or model_role(_arch_of(m)["name"]) != r:
            raise ValueError(f"companion {r!r} must be a {r} other than the main {role}")
        nets[r] = m
    input_len = arch.get("kwargs", {}).get("input_len")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "role": role,
        "arch": arch,
        "companions": {r: m.spectype_arch for r, m in nets.items() if r != role},
        "class_names": list(class_names),
        "preprocess": preprocess,
        "input_len": input_len,
        "training": training or {},
        "metrics": metrics or {},
        "spectype_version": __version__,
    }
    clash = sorted(set(extra or {}) & set(config))
    if clash:
        raise ValueError(f"extra config keys {clash} would replace the folder's own")
    config.update(extra or {})
    files = dict(extra_files or {})
    bad = [n for n in files if Path(n).name != n or n == CONFIG or n.endswith(".safetensors")]
    if bad:
        raise ValueError(f"extra_files {bad}: give plain file names other than {CONFIG} and weights")
    text = json.dumps(jsonable(config), indent=2)
    with atomic_folder(folder) as tmp:
        # Weights are saved from CPU copies so the folder does not depend on the device.
        for r, m in nets.items():
            safetensors.torch.save_model(m, str(tmp / weights_file(r, role)), metadata={"format": "pt"})
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / CONFIG).write_text(text)
    return Path(folder)


@dataclass
class LoadedModel:
    """A model folder loaded for inference: `model` is in eval mode on the requested device.

    `spectype.load_model` returns the batch layer's subclass (`batch.memory.Model`), which adds
    `predict(x)`: classification needs the batch engine, which sits above this module.
    """

    model: nn.Module
    config: dict
    class_names: list[str]
    preprocess: dict
    folder: Path
    role: str = "classifier"


def default_model_folder() -> Path:
    """Where the shipped default model lives inside the package (may not exist)."""
    return Path(str(resources.files("spectype") / "pretrained" / "default"))


def read_model_config(folder: str | os.PathLike) -> dict:
    """Read and check `folder/config.json` (format and version) without loading weights."""
    folder = Path(folder)
    cfg_path = folder / CONFIG
    if not folder.is_dir():
        raise ModelLoadError(
            f"{folder}: model folder not found (expected a folder with {WEIGHTS} and {CONFIG}, "
            "e.g. a run's best/ folder)"
        )
    if not cfg_path.is_file():
        raise ModelLoadError(f"{folder}: {CONFIG} is missing; this is not a spectype model folder")
    if cfg_path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelLoadError(f"{cfg_path}: {cfg_path.stat().st_size} bytes is far too large for a model config")
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelLoadError(f"{cfg_path}: not valid JSON ({e}); re-export the model") from None
    except RecursionError:
        raise ModelLoadError(f"{cfg_path}: JSON nested too deeply to be a model config") from None
    if isinstance(config, dict) and config.get("format") == LEGACY_GAN_FORMAT:
        config = _upgrade_legacy_gan(config)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelLoadError(f"{cfg_path}: not a spectype model config (format != {FORMAT!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelLoadError(
            f"{cfg_path}: format_version {version!r} is newer than this spectype reads "
            f"({FORMAT_VERSION}); upgrade spectype"
        )
    if version < 2:  # before roles every folder held one classifier
        config = {"role": "classifier", "companions": {}, **config}
    for key in ("role", "arch", "companions", "class_names"):
        if key not in config:
            raise ModelLoadError(f"{cfg_path}: missing {key!r}; re-export the model")
    validate_config(config, cfg_path)
    return config


def _upgrade_legacy_gan(config: dict) -> dict:
    """A GAN checkpoint config of an earlier version in today's shape: its generator is the main
    network and its discriminator (already in discriminator.safetensors) a companion."""
    config = {**config, "format": FORMAT, "format_version": 1, "role": "generator", "companions": {}}
    if "discriminator_arch" in config:
        config["companions"] = {"discriminator": config.pop("discriminator_arch")}
    return config


def load_model(
    folder: str | os.PathLike | None = None, device: str = "cpu", role: str = "classifier"
) -> LoadedModel:
    """Load the `role` network of a model folder (None: the shipped default) onto `device`, in
    eval mode. A folder of another role is refused with a ModelLoadError."""
    from .registry import create_model

    if folder is None:
        folder = default_model_folder()
        if not (folder / CONFIG).is_file():
            raise ModelLoadError(
                f"no default model is shipped at {folder}; train one with "
                "`spectype train --config configs/cnn1d_quick.yaml --data PACK` and pass its "
                "run folder's best/ to load_model"
            )
    folder = Path(folder)
    config = read_model_config(folder)
    held = networks(config)
    if role not in held:
        raise ModelLoadError(
            f"{folder}: this folder holds a {' and a '.join(held)}, not a {role}; "
            + ("pass a classifier's folder (e.g. a run's best/)" if role == "classifier"
               else f"pass a folder that holds a {role}")
        )
    weights = folder / weights_file(role, config["role"])
    if not weights.is_file():
        raise ModelLoadError(f"{folder}: {weights.name} is missing; copy the whole model folder")
    arch = held[role][1]
    check_built_size(config, folder / CONFIG, role)  # on torch's meta device: no memory is used
    try:
        model = create_model(arch["name"], **arch.get("kwargs", {}))
    except Exception as e:  # any builder error is a bad folder, not a crash
        raise ModelLoadError(
            f"{folder}: cannot rebuild architecture {arch.get('name')!r} "
            f"({type(e).__name__}: {e}); the folder may need a newer spectype"
        ) from None
    try:
        missing, unexpected = safetensors.torch.load_model(model, str(weights), strict=False)
    except RuntimeError as e:  # shape mismatch
        raise ModelLoadError(
            f"{folder}: weights do not fit architecture {arch['name']!r}: {e}"
        ) from None
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise ModelLoadError(f"{weights}: unreadable safetensors file ({e}); re-copy it") from None
    if missing or unexpected:
        raise ModelLoadError(
            f"{folder}: weights do not match architecture {arch['name']!r} "
            f"(missing: {sorted(missing)[:5]}, unexpected: {sorted(unexpected)[:5]}); "
            "the config.json and model.safetensors come from different models"
        )
    bad = [name for name, t in model.state_dict().items()
           if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ModelLoadError(
            f"{weights}: weights hold NaN or infinite values ({', '.join(bad[:5])}); the model "
            "diverged in training or the file is damaged: use another checkpoint"
        )
    model.to(torch.device(device)).eval()
    return LoadedModel(
        model=model,
        config=config,
        class_names=list(config["class_names"]),
        preprocess=dict(config.get("preprocess") or {}),
        folder=folder,
        role=role,
    )
