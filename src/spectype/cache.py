"""The step cache: one folder per (step, settings), built once and reused.

    folder = step(root, "pool", {"n_profiles": 40, ...}, build=lambda tmp: ...)

A step's folder is `root/<name>/<key>/`, where `key` hashes the settings as canonical JSON
(`runtime.jsonable`, sorted keys). `build(tmp)` writes the step's files into a temporary folder
that is renamed into place only when it returns, with `settings.json` beside them, so a folder
that exists is complete: an interrupted build leaves nothing to reuse by mistake, and changing
any setting (a seed, the training stars, a GAN width) gives a new folder rather than a stale
one. Everything that decides a step's output must be in its settings; nothing else is checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import atomic_folder
from .runtime import jsonable

log = logging.getLogger("spectype.cache")
SETTINGS = "settings.json"


def settings_key(settings: dict[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the settings as canonical JSON (stable across runs)."""
    text = json.dumps(jsonable(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def step_folder(root: str | os.PathLike, name: str, settings: dict[str, Any]) -> Path:
    """Where `step` keeps (or would keep) this step's output."""
    return Path(root) / name / settings_key(settings)


def step(
    root: str | os.PathLike,
    name: str,
    settings: dict[str, Any],
    build: Callable[[Path], object],
) -> Path:
    """The folder of step `name` with `settings`, built by `build(tmp_folder)` unless present."""
    folder = step_folder(root, name, settings)
    if (folder / SETTINGS).is_file():
        log.info("%s: reusing %s", name, folder)
        return folder
    with atomic_folder(folder) as tmp:
        build(tmp)
        # Written last inside the temp folder: its presence marks a finished step.
        (tmp / SETTINGS).write_text(json.dumps(jsonable(settings), indent=1, sort_keys=True))
    log.info("%s: built %s", name, folder)
    return folder


__all__ = ["SETTINGS", "settings_key", "step", "step_folder"]
