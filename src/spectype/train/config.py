"""Training configuration: one dataclass, read from YAML, overridden by `key=value` strings.

nanoGPT style: every knob is a field with its default right here, so this file is the
reference for what a run can set. `load_config(path, ["lr=1e-3", "model_kwargs.attn=se"])`
reads the YAML, applies the overrides (values parsed as YAML, so `1e-3`, `true`, `null`,
`[0.8, 0.1, 0.1]` all work) and checks every key and type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..atomic import atomic_write_text
from ..errors import ConfigError


@dataclass
class TrainConfig:
    """Everything that defines a training run (the resolved copy is saved as config.yaml)."""

    data: str | None = None  # HDF5 pack (spectype.datasets.Pack)
    model: str = "cnn1d_none"  # registry name, see `spectype.models.list_models()`
    # Extra builder arguments; n_classes and input_len are filled in from the pack.
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 500  # the paper's setting; quick runs override it
    batch_size: int = 256  # global batch: split evenly over DDP processes
    lr: float = 5e-4
    optimizer: str = "adam"  # adam | adamw
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0  # model init, shuffling, dropout
    # None: use the split stored in the pack. An int: re-split the pack's rows by group with
    # this seed (multi-seed protocols), fractions from `split_fractions`.
    split_seed: int | None = None
    split_fractions: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    # None: the pack's train indices as stored. N: replicate train rows to N per class
    # (after the split, so copies never cross into val/test).
    balance: int | None = None
    # Seeded cap on rows per class in every split, test included, so quick-profile test sets
    # are class-balanced (quick profiles).
    max_per_class: int | None = None
    early_stopping: int | None = None  # patience in epochs on val accuracy; None = off
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: str = "auto"  # auto (bf16 autocast on CUDA, off on CPU) | bf16 | off
    num_workers: int = 0  # DataLoader worker processes
    preload: bool | None = None  # read needed flux rows into memory; None = when under 1 GiB
    out: str | None = None  # run folder; None = runs/<model>_seed<seed>
    deterministic: bool = True  # torch.use_deterministic_algorithms (warn-only) + no cudnn autotune

    def __post_init__(self) -> None:
        _validate(self)


# Fields that may change between an interrupted run and its resumption.
RESUMABLE_CHANGES = frozenset(
    {"epochs", "out", "num_workers", "device", "amp", "early_stopping", "preload"}
)


def valid_keys() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig)]


def _type_ok(value: Any, tp: Any) -> bool:
    """Loose runtime check of a value against a field annotation."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is Any:
        return True
    if origin is not None:
        tp = origin
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _validate(cfg: TrainConfig) -> None:
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, str) and _type_ok(1.5, hints[f.name]) and not _type_ok("", hints[f.name]):
            # YAML 1.1 reads `1e-3` (no dot) as a string; numbers are what was meant.
            try:
                value = float(value)
                setattr(cfg, f.name, value)
            except ValueError:
                pass
        if not _type_ok(value, hints[f.name]):
            raise ConfigError(
                f"config key {f.name!r}: {value!r} is not a valid {hints[f.name]} "
                f"(default: {f.default if f.default is not dataclasses.MISSING else f.default_factory()!r})"
            )
        if hints[f.name] is float:
            setattr(cfg, f.name, float(value))
    checks = [
        (cfg.epochs >= 0, "epochs must be >= 0"),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.lr > 0, "lr must be > 0"),
        (cfg.optimizer in ("adam", "adamw"), "optimizer must be 'adam' or 'adamw'"),
        (cfg.loss == "cross_entropy", "loss must be 'cross_entropy'"),
        (cfg.amp in ("auto", "bf16", "off"), "amp must be 'auto', 'bf16' or 'off'"),
        (cfg.device == "auto" or cfg.device == "cpu" or cfg.device.startswith("cuda"),
         "device must be 'auto', 'cpu' or 'cuda[:N]'"),
        (len(cfg.split_fractions) == 3, "split_fractions must be three numbers (train, val, test)"),
        (cfg.balance is None or cfg.balance > 0, "balance must be null or > 0"),
        (cfg.max_per_class is None or cfg.max_per_class > 0, "max_per_class must be null or > 0"),
        (cfg.early_stopping is None or cfg.early_stopping > 0, "early_stopping must be null or > 0"),
        (cfg.num_workers >= 0, "num_workers must be >= 0"),
    ]
    for ok, msg in checks:
        if not ok:
            raise ConfigError(f"invalid training config: {msg}")


def _apply(d: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set `key` (dotted for nested dicts: model_kwargs.attn) in the raw config dict."""
    top, _, rest = key.partition(".")
    if top not in valid_keys():
        raise ConfigError(
            f"unknown config key {top!r} in {source}; valid keys: {', '.join(valid_keys())}"
        )
    if not rest:
        d[top] = value
        return
    node = d.setdefault(top, {})
    if node is None:
        node = d[top] = {}
    if not isinstance(node, dict):
        raise ConfigError(f"{source}: {top!r} is not a mapping, so {key!r} cannot be set")
    parts = rest.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML run config (or start from defaults) and apply `key=value` overrides.

    Raises ConfigError naming the file or override for unknown keys, bad YAML or bad types.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of key: value at the top level")
        for k, v in loaded.items():
            _apply(raw, str(k), v, str(path))
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not of the form key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as e:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({e})") from None
        _apply(raw, key.strip(), value, f"override {item!r}")
    return TrainConfig(**raw)


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    """Write the resolved config as YAML (field order kept, so it reads like this file)."""
    atomic_write_text(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
