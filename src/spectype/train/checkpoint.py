"""Resumable training checkpoints (`run/last/`), written atomically, read without pickle.

Folder layout:
  model.safetensors      model weights (state_dict)
  optimizer.safetensors  optimizer tensors, flattened as state.<param index>.<name>
  state.json             epoch, best-so-far, early-stopping counter, optimizer param_groups

No RNG state is stored: the engine reseeds every epoch from (seed, epoch), so resuming at
epoch e replays exactly what an uninterrupted run would do.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
import torch.nn as nn

from ..atomic import atomic_folder
from ..errors import ConfigError
from ..models.release import unwrap_model

STATE = "state.json"


@dataclass
class TrainState:
    """Progress of a run after `epoch` completed epochs."""

    epoch: int = 0
    best_val_acc: float = -1.0
    best_epoch: int = 0
    epochs_since_best: int = 0
    stopped_early: bool = False


def _optimizer_to_flat(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"state.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_from_flat(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, t in tensors.items():
        _, pid, k = name.split(".", 2)
        state.setdefault(int(pid), {})[k] = t
    for pid, st in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(st)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    folder: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer, state: TrainState
) -> None:
    """Write model + optimizer + progress to `folder`, replacing it atomically."""
    opt_tensors, opt_meta = _optimizer_to_flat(optimizer)
    with atomic_folder(folder) as tmp:
        safetensors.torch.save_model(unwrap_model(model), str(tmp / "model.safetensors"))
        safetensors.torch.save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
        (tmp / STATE).write_text(json.dumps({"train": asdict(state), "optimizer": opt_meta}, indent=1))


def has_checkpoint(folder: str | os.PathLike) -> bool:
    return (Path(folder) / STATE).is_file()


def load_checkpoint(
    folder: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer
) -> TrainState:
    """Restore model and optimizer in place from `folder`; return the progress recorded there."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / STATE).read_text())
        safetensors.torch.load_model(unwrap_model(model), str(folder / "model.safetensors"))
        device = next(iter(unwrap_model(model).parameters())).device
        opt_tensors = safetensors.torch.load_file(str(folder / "optimizer.safetensors"), device=str(device))
        optimizer.load_state_dict(_optimizer_from_flat(opt_tensors, meta["optimizer"]))
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise ConfigError(
            f"{folder}: cannot resume from this checkpoint ({e}); delete the run folder's last/ "
            "to start again, or train into a new --out folder"
        ) from None
    return TrainState(**meta["train"])
