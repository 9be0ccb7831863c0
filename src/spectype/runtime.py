"""Runtime chores in one home: the data root, the torch device, seeding, JSON cleaning and
packaged configs.

The data root is never derived from where the package is installed (an installed wheel lives
in site-packages, far from any checkout) and never from a machine path: it comes from the
caller (`--data-root`), from `$SPECTYPE_DATA`, or, for a development checkout run from the
repository root, from `../shared/data` when that folder exists.
"""

from __future__ import annotations

import math
import os
import random
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

DATA_ENV = "SPECTYPE_DATA"
# Read as a fallback so that existing set-ups (tests, benchmarks, docs) keep working.
LEGACY_DATA_ENV = "SPECTYPE_SHARED_DATA"
DEV_DATA_ROOT = Path("..") / "shared" / "data"


def data_root(explicit: str | os.PathLike | None = None) -> Path:
    """The shared data folder (libraries/, lamost/, sdss/ ...).

    `explicit` (a `--data-root` value) wins, then $SPECTYPE_DATA (or the older
    $SPECTYPE_SHARED_DATA), then ../shared/data relative to the current directory when it
    exists. Otherwise raises ConfigError saying what to pass.
    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    for var in (DATA_ENV, LEGACY_DATA_ENV):
        env = os.environ.get(var)
        if env:
            return Path(env).expanduser()
    dev = Path.cwd() / DEV_DATA_ROOT
    if dev.is_dir():
        return dev.resolve()
    raise ConfigError(
        "no data root: pass --data-root DIR (the folder holding libraries/ and lamost/) "
        f"or set the environment variable {DATA_ENV}=DIR"
    )


def resolve_device(device: str = "auto"):
    """'auto' -> cuda when a GPU is visible, else cpu; 'cpu', 'cuda', 'cuda:N' as given.

    Raises ConfigError for a CUDA device when none is visible, rather than failing later
    inside torch with a less helpful message.
    """
    import torch

    name = (device or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device} but no CUDA GPU is visible; use --device cpu or auto")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (CPU and every GPU)."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the seeding of the rest still holds
        return
    torch.manual_seed(seed)  # also seeds every CUDA device


def jsonable(obj: Any) -> Any:
    """Plain, strict-JSON types: numpy scalars/arrays -> Python, paths -> str, NaN/inf -> None.

    Strict JSON has no NaN; writing None keeps files readable by every JSON parser.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # numpy arrays and scalars
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


# ------------------------------------------------------------------------------ packaged configs


def packaged_configs() -> list[str]:
    """Names of the run configs shipped with spectype (spectype/configs/*.yaml)."""
    folder = resources.files("spectype") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve_config(name_or_path: str | os.PathLike) -> Path:
    """A run config file: an existing path as given, else a packaged config by name.

    `cnn1d_quick`, `cnn1d_quick.yaml` and `configs/cnn1d_quick.yaml` all find the packaged
    file when no such file exists here, so the documented commands work from any directory.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    stem = path.stem if path.suffix in (".yaml", ".yml") else path.name
    # Only a bare name or configs/NAME falls back to the package: a typo in a path of the
    # user's own must not silently train with a shipped config instead.
    if str(path.parent) in (".", "configs"):
        res = resources.files("spectype") / "configs" / f"{stem}.yaml"
        if res.is_file():
            return Path(str(res))
    raise ConfigError(
        f"{name_or_path}: config file not found; pass an existing YAML path or a packaged "
        f"config name: {', '.join(packaged_configs())}"
    )
