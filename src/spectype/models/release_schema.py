"""The schema a model folder's config.json is checked against before anything is built.

Part of the model folder's home with release.py (which reads folders and calls these checks); a
file of its own only to keep each file short. The same checks hold for every role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelLoadError
from .registry import ROLES

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


def networks(config: dict) -> dict[str, tuple[str, dict]]:
    """{role: (where in config.json, arch)} of every network a (read) config describes."""
    out = {config["role"]: ("arch", config["arch"])}
    out.update({r: (f"companions.{r}", a) for r, a in config["companions"].items()})
    return out


def _validate_arch(where: str, arch: Any, role: str, cfg_path: Path) -> dict:
    """Check one network's {'name', 'kwargs'} against the `role` registry; return its kwargs."""
    from ..layers.attention import list_attn1d
    from .registry import list_models

    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str):
        raise ModelLoadError(f"{cfg_path}: '{where}' must be an object with a string 'name' (got {type(arch).__name__})")
    kwargs = arch.get("kwargs", {})
    if kwargs is None:
        kwargs = arch["kwargs"] = {}
    if not isinstance(kwargs, dict):
        raise ModelLoadError(f"{cfg_path}: '{where}.kwargs' must be an object, got {type(kwargs).__name__}")
    known = list_models(role=role)
    if arch["name"] not in known:
        other = [r for r in ROLES if arch["name"] in list_models(role=r)]
        why = f"a {other[0]}, not a {role}" if other else "unknown architecture"
        raise ModelLoadError(
            f"{cfg_path}: cannot rebuild architecture {arch['name']!r}: {why}; "
            f"this spectype knows these {role}s: {', '.join(known)}"
        )
    _check_numbers(kwargs, f"{where}.kwargs", cfg_path)
    for key, value in kwargs.items():
        if "attn" in key and isinstance(value, str) and value not in list_attn1d():
            raise ModelLoadError(
                f"{cfg_path}: {where}.kwargs.{key} = {value!r} is not a known attention "
                f"({', '.join(list_attn1d())})"
            )
    return kwargs


def validate_config(config: dict, cfg_path: Path) -> None:
    """Check a model config against the schema before anything is built (ModelLoadError)."""
    if _json_depth(config) > MAX_JSON_DEPTH:
        raise ModelLoadError(f"{cfg_path}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a model config")
    role, companions = config["role"], config["companions"]
    if role not in ROLES:
        raise ModelLoadError(f"{cfg_path}: role {role!r} is not one of {ROLES}")
    if not isinstance(companions, dict) or not set(companions) <= set(ROLES) - {role}:
        raise ModelLoadError(f"{cfg_path}: 'companions' must map roles other than {role!r} ({ROLES}) to architectures")
    kwargs = {r: _validate_arch(where, arch, r, cfg_path) for r, (where, arch) in networks(config).items()}
    # A classifier needs two classes to tell apart; a GAN learns one class (names kept for labels).
    fewest = 2 if role == "classifier" else 1
    names = config["class_names"]
    if (not isinstance(names, list) or not fewest <= len(names) <= MAX_CLASSES
            or not all(isinstance(c, str) and c.strip() for c in names)):
        raise ModelLoadError(f"{cfg_path}: class_names must be a list of {fewest}..{MAX_CLASSES} non-empty strings")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ModelLoadError(f"{cfg_path}: class_names repeat {dup}; each class needs its own output")
    n_classes = kwargs.get("classifier", {}).get("n_classes")
    if n_classes is not None and n_classes != len(names):
        raise ModelLoadError(
            f"{cfg_path}: {len(names)} class_names but the head has arch.kwargs.n_classes = {n_classes}"
        )
    pre = config.get("preprocess") or {}
    if not isinstance(pre, dict):
        raise ModelLoadError(f"{cfg_path}: 'preprocess' must be an object")
    lengths = {k: v for k, v in (("preprocess.n_pix", pre.get("n_pix")), ("input_len", config.get("input_len")),
                                 *((f"{networks(config)[r][0]}.kwargs.input_len", kw.get("input_len"))
                                   for r, kw in kwargs.items())) if v is not None}
    if len(set(map(str, lengths.values()))) > 1:
        raise ModelLoadError(
            f"{cfg_path}: the preprocess grid and the model input disagree ({lengths}); every "
            "spectrum would fail with a shape error"
        )


def _role_check_input(role: str, kwargs: dict, input_len: int) -> tuple[torch.Tensor, tuple[int, ...] | None]:
    """A meta input for a network of `role` and the output shape it must give (None: any (2, K))."""
    if role == "generator":
        return torch.zeros(2, int(kwargs.get("noise_dim", 0)), device="meta"), (2, int(input_len))
    return torch.zeros(2, int(input_len), device="meta"), ((2,) if role == "discriminator" else None)


def check_built_size(config: dict, cfg_path: Path, role: str | None = None) -> None:
    """Build the `role` network (default: the main one) on torch's meta device (no memory) to
    bound its size and check its output: a classifier's head has one output per class name, a
    generator makes spectra of input_len pixels, a discriminator gives one logit per spectrum."""
    from .registry import create_model

    role = role or config["role"]
    where, arch = networks(config)[role]
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
    x, expected = _role_check_input(role, arch.get("kwargs", {}), input_len)
    try:
        with torch.no_grad():
            out = model.eval()(x)
    except Exception:  # models fed other inputs (e.g. images): the weight check covers them
        return
    if expected is not None and tuple(out.shape) != expected:
        raise ModelLoadError(
            f"{cfg_path}: the {role} in '{where}' gives outputs of shape {tuple(out.shape)[1:]} for "
            f"input_len {input_len}, expected {expected[1:]}; the config is damaged"
        )
    if role == "classifier" and out.ndim == 2 and out.shape[1] != len(config["class_names"]):
        raise ModelLoadError(
            f"{cfg_path}: the model has {out.shape[1]} outputs but {len(config['class_names'])} "
            "class_names; they must match"
        )
