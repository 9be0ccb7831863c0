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
    """A model folder loaded for inference: `model` is in eval mode on the requested device.

    `predict(x)` (or `model_obj(x)`) classifies paths, Spectrum objects, specutils spectra or
    (wave, flux[, ivar]) arrays and returns the same table as `spectype classify`.
    """

    model: nn.Module
    config: dict
    class_names: list[str]
    preprocess: dict
    folder: Path

    def predict(self, x, **options):
        """One row per spectrum in `x`: see `spectype.classify` and docs/api.md."""
        from ..batch.memory import classify

        return classify(x, model=self, **options)

    __call__ = predict


# ---------------------------------------------------------------- config schema
# A model folder may come from anyone: nothing in it runs as code (safetensors + JSON), and
# these bounds keep a hostile or broken config from exhausting memory or failing mid-run.
MAX_CONFIG_BYTES = 4 << 20
MAX_JSON_DEPTH = 16
MAX_SIZE = 65_536  # any integer argument of an architecture (channels, kernels, hidden ...)
MAX_INPUT_LEN = 1_000_000  # pixels
MAX_CLASSES = 10_000
MAX_PARAMETERS = 200_000_000  # ~0.8 GB of float32 weights


def _json_depth(obj: Any) -> int:
    depth, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        depth = max(depth, d)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return depth


def _check_numbers(obj: Any, where: str, cfg_path: Path) -> None:
    """Every number in the architecture's arguments is finite and within bounds."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_numbers(v, f"{where}.{k}", cfg_path)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_numbers(v, f"{where}[{i}]", cfg_path)
    elif isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    elif isinstance(obj, int):
        limit = MAX_INPUT_LEN if where.endswith("input_len") else MAX_SIZE
        if not 0 <= obj <= limit:
            raise ModelLoadError(f"{cfg_path}: {where} = {obj} is outside 0..{limit}; the config is damaged or hostile")
    elif isinstance(obj, float):
        if not np.isfinite(obj) or abs(obj) > 1e6:
            raise ModelLoadError(f"{cfg_path}: {where} = {obj} is not a sensible number")
    else:
        raise ModelLoadError(f"{cfg_path}: {where} has a {type(obj).__name__}, expected numbers, strings or lists")


def validate_config(config: dict, cfg_path: Path) -> None:
    """Check a model config against the schema before anything is built (ModelLoadError)."""
    from ..layers.attention import list_attn1d
    from .registry import list_models

    if _json_depth(config) > MAX_JSON_DEPTH:
        raise ModelLoadError(f"{cfg_path}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a model config")
    arch = config["arch"]
    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str):
        raise ModelLoadError(f"{cfg_path}: 'arch' must be an object with a string 'name' (got {type(arch).__name__})")
    kwargs = arch.get("kwargs", {})
    if kwargs is None:
        kwargs = arch["kwargs"] = {}
    if not isinstance(kwargs, dict):
        raise ModelLoadError(f"{cfg_path}: 'arch.kwargs' must be an object, got {type(kwargs).__name__}")
    known = list_models()
    if arch["name"] not in known:
        raise ModelLoadError(
            f"{cfg_path}: cannot rebuild architecture {arch['name']!r}: unknown architecture; "
            f"this spectype knows {', '.join(known)}"
        )
    _check_numbers(kwargs, "arch.kwargs", cfg_path)
    for key, value in kwargs.items():
        if "attn" in key and isinstance(value, str) and value not in list_attn1d():
            raise ModelLoadError(
                f"{cfg_path}: arch.kwargs.{key} = {value!r} is not a known attention "
                f"({', '.join(list_attn1d())})"
            )
    names = config["class_names"]
    if (not isinstance(names, list) or not 2 <= len(names) <= MAX_CLASSES
            or not all(isinstance(c, str) and c.strip() for c in names)):
        raise ModelLoadError(f"{cfg_path}: class_names must be a list of 2..{MAX_CLASSES} non-empty strings")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ModelLoadError(f"{cfg_path}: class_names repeat {dup}; each class needs its own output")
    n_classes = kwargs.get("n_classes")
    if n_classes is not None and n_classes != len(names):
        raise ModelLoadError(
            f"{cfg_path}: {len(names)} class_names but the head has arch.kwargs.n_classes = {n_classes}"
        )
    pre = config.get("preprocess") or {}
    if not isinstance(pre, dict):
        raise ModelLoadError(f"{cfg_path}: 'preprocess' must be an object")
    lengths = {k: v for k, v in (("preprocess.n_pix", pre.get("n_pix")),
                                 ("arch.kwargs.input_len", kwargs.get("input_len")),
                                 ("input_len", config.get("input_len"))) if v is not None}
    if len(set(map(str, lengths.values()))) > 1:
        raise ModelLoadError(
            f"{cfg_path}: the preprocess grid and the model input disagree ({lengths}); every "
            "spectrum would fail with a shape error"
        )


def check_built_size(config: dict, cfg_path: Path) -> None:
    """Build the architecture on torch's meta device (no memory) to bound its size and check
    that its head has one output per class name."""
    from .registry import create_model

    arch = config["arch"]
    try:
        with torch.device("meta"):
            model = create_model(arch["name"], **arch.get("kwargs", {}))
    except Exception as e:
        raise ModelLoadError(
            f"{cfg_path}: cannot build architecture {arch['name']!r} from its kwargs "
            f"({type(e).__name__}: {e})"
        ) from None
    n = sum(p.numel() for p in model.parameters())
    if n > MAX_PARAMETERS:
        raise ModelLoadError(
            f"{cfg_path}: the architecture would have {n:,} parameters (limit {MAX_PARAMETERS:,}); "
            "the config is damaged or hostile"
        )
    input_len = arch.get("kwargs", {}).get("input_len") or config.get("input_len")
    if not input_len:
        return
    try:
        with torch.no_grad():
            out = model.eval()(torch.zeros(2, int(input_len), device="meta"))
    except Exception:  # models fed other inputs (e.g. images): the weight check covers them
        return
    if out.ndim == 2 and out.shape[1] != len(config["class_names"]):
        raise ModelLoadError(
            f"{cfg_path}: the model has {out.shape[1]} outputs but {len(config['class_names'])} "
            "class_names; they must match"
        )


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
    validate_config(config, cfg_path)
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
    check_built_size(config, folder / CONFIG)  # on torch's meta device: no memory is used
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
    )
