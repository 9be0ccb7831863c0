"""Released model folders: `model.safetensors` + `config.json`, loaded without unpickling.

A folder is everything needed to classify: the architecture (registry name + kwargs, rebuilt
with `create_model`), the class names, the preprocessing and wavelength grid, a summary of the
training data and the validation metrics. Weights are safetensors, so loading a folder from
someone else can never execute code.
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

FORMAT = "spectype-model"
FORMAT_VERSION = 1
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


def _jsonable(obj: Any) -> Any:
    """numpy scalars/arrays and paths -> plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_model(
    model: nn.Module,
    folder: str | os.PathLike,
    *,
    class_names: list[str],
    preprocess: dict,
    training: dict | None = None,
    metrics: dict | None = None,
) -> Path:
    """Write `folder/model.safetensors` + `folder/config.json` atomically; return the folder.

    The model must come from `create_model` (it carries `spectype_arch`). Tied/shared tensors
    are stored once (safetensors.torch.save_model dedups them).
    """
    from .. import __version__

    model = unwrap_model(model)
    arch = getattr(model, "spectype_arch", None)
    if not arch:
        raise ValueError(
            "model has no spectype_arch: build it with spectype.models.create_model so the "
            "folder can rebuild it"
        )
    input_len = arch.get("kwargs", {}).get("input_len")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": arch,
        "class_names": list(class_names),
        "preprocess": preprocess,
        "input_len": input_len,
        "training": training or {},
        "metrics": metrics or {},
        "spectype_version": __version__,
    }
    text = json.dumps(_jsonable(config), indent=2)
    with atomic_folder(folder) as tmp:
        # Weights are saved from CPU copies so the folder does not depend on the device.
        safetensors.torch.save_model(model, str(tmp / WEIGHTS), metadata={"format": "pt"})
        (tmp / CONFIG).write_text(text)
    return Path(folder)


@dataclass
class LoadedModel:
    """A model folder loaded for inference: `model` is in eval mode on the requested device."""

    model: nn.Module
    config: dict
    class_names: list[str]
    preprocess: dict
    folder: Path


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
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelLoadError(f"{cfg_path}: not valid JSON ({e}); re-export the model") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelLoadError(f"{cfg_path}: not a spectype model config (format != {FORMAT!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelLoadError(
            f"{cfg_path}: format_version {version!r} is newer than this spectype reads "
            f"({FORMAT_VERSION}); upgrade spectype"
        )
    for key in ("arch", "class_names"):
        if key not in config:
            raise ModelLoadError(f"{cfg_path}: missing {key!r}; re-export the model")
    return config


def load_model(folder: str | os.PathLike | None = None, device: str = "cpu") -> LoadedModel:
    """Load a model folder (None: the shipped default) onto `device`, in eval mode."""
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
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise ModelLoadError(f"{folder}: {WEIGHTS} is missing; copy the whole model folder")
    arch = config["arch"]
    try:
        model = create_model(arch["name"], **arch.get("kwargs", {}))
    except (KeyError, TypeError) as e:
        raise ModelLoadError(
            f"{folder}: cannot rebuild architecture {arch.get('name')!r} ({e}); the folder may "
            "need a newer spectype"
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
    model.to(torch.device(device)).eval()
    return LoadedModel(
        model=model,
        config=config,
        class_names=list(config["class_names"]),
        preprocess=dict(config.get("preprocess") or {}),
        folder=folder,
    )
