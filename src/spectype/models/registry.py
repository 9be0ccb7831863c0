"""Model registries by role, in timm's style: `@register_model` on a builder, `create_model(name, **kw)`.

Three registries, one per role: 'classifier' (flux -> logits), 'generator' (noise -> spectra) and
'discriminator' (spectra -> one real/fake logit). A name is unique across all three, so
`create_model(name)` needs no role; `list_models(role=...)` lists one registry.

Each family has a config dataclass and a builder `build(config) -> nn.Module`. `create_model`
fills the entry's config with the keyword arguments and records it, every default included, as
`model.spectype_arch = {"name", "kwargs"}`: that dict is what a model folder's config.json holds,
so a later change of a default cannot change a saved model, and `create_model(name, **kwargs)`
rebuilds it without pickles.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch.nn as nn

from ..once import once
from ..runtime import jsonable

ROLES = ("classifier", "generator", "discriminator")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One registered architecture: its role, builder and default config."""

    name: str
    role: str
    build: Callable[[Any], nn.Module]  # config dataclass -> module
    default: Any  # a config dataclass instance holding this entry's defaults
    fixed: tuple[str, ...]  # config fields the name fixes (cnn1d_se's attn)
    description: str


_REGISTRIES: dict[str, dict[str, ModelEntry]] = {role: {} for role in ROLES}


def register_model(
    fn: Callable[..., nn.Module] | None = None,
    *,
    name: str | None = None,
    role: str = "classifier",
    config: Any = None,
    fixed: Iterable[str] = (),
    description: str | None = None,
):
    """Register a builder under its function name (or `name`) in the `role` registry.

    config: the family's config dataclass, or an instance of it holding this entry's defaults;
        the builder then takes that one config object. Without it, `fn` is a plain keyword
        builder (as one defined in a test or a plugin) and its signature becomes the config.
    fixed: config fields the entry's name stands for; `create_model` refuses other values.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")

    def deco(f: Callable[..., nn.Module]):
        key = name or f.__name__
        if any(key in reg for reg in _REGISTRIES.values()):
            raise ValueError(f"model {key!r} is already registered")
        if config is None:
            default, build = _config_from_signature(f, key)(), _keyword_builder(f)
        else:
            default, build = (config() if isinstance(config, type) else config), f
        if not dataclasses.is_dataclass(default):
            raise TypeError(f"model {key!r}: config must be a dataclass, got {type(default).__name__}")
        doc = description or (f.__doc__ or "").strip().split("\n")[0]
        _REGISTRIES[role][key] = ModelEntry(key, role, build, default, tuple(fixed), doc)
        return f

    return deco(fn) if fn is not None else deco


def as_kwargs(config: Any) -> dict[str, Any]:
    """A config dataclass's fields as keyword arguments (not copied, unlike dataclasses.asdict)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _keyword_builder(fn: Callable[..., nn.Module]) -> Callable[[Any], nn.Module]:
    def build(config: Any) -> nn.Module:
        return fn(**as_kwargs(config))

    return build


def _config_from_signature(fn: Callable[..., nn.Module], key: str) -> type:
    """A frozen dataclass whose fields are `fn`'s keyword parameters and defaults (read, never
    rewritten: the signature is the plain builder's own)."""
    specs = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            raise TypeError(
                f"model {key!r}: a builder without a config dataclass needs explicit keyword "
                f"arguments, not *{p.name}; pass config=YourConfig to register_model"
            )
        if p.default is inspect.Parameter.empty:
            specs.append((p.name, Any))
        else:
            default = copy.deepcopy(p.default)
            specs.append((p.name, Any, dataclasses.field(default_factory=lambda d=default: copy.deepcopy(d))))
    return dataclasses.make_dataclass(f"{key}_config", specs, frozen=True, kw_only=True)


def _entry(name: str) -> ModelEntry:
    _load_builtin_models()
    for reg in _REGISTRIES.values():
        if name in reg:
            return reg[name]
    raise KeyError(f"unknown model {name!r}; known models: {', '.join(list_models())}")


def list_models(pattern: str | None = None, role: str | None = None) -> list[str]:
    """Registered names matching a shell pattern, of one role (None: every role)."""
    _load_builtin_models()
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    names = sorted(n for r in (ROLES if role is None else (role,)) for n in _REGISTRIES[r])
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def describe_model(name: str) -> str:
    return _entry(name).description


def model_role(name: str) -> str:
    """'classifier', 'generator' or 'discriminator'."""
    return _entry(name).role


def model_config(name: str, **kwargs) -> Any:
    """The config dataclass `create_model(name, **kwargs)` builds from (TypeError on an
    unknown argument or on a value the name fixes)."""
    entry = _entry(name)
    for key in entry.fixed:
        if key in kwargs and kwargs[key] != getattr(entry.default, key):
            raise TypeError(
                f"model {name!r} fixes {key}={getattr(entry.default, key)!r}; got {kwargs[key]!r}"
            )
    fields = {f.name for f in dataclasses.fields(entry.default)}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise TypeError(f"model {name!r} takes no argument {unknown}; it takes {sorted(fields)}")
    return dataclasses.replace(entry.default, **kwargs)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model. Unknown names raise with the list of known ones."""
    config = model_config(name, **kwargs)
    model = _entry(name).build(config)
    # Tuples become lists: the record equals what config.json gives back.
    model.spectype_arch = {"name": name, "kwargs": jsonable(as_kwargs(config))}
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Modules of this package that define no model.
_NOT_MODELS = {"registry", "release", "release_schema", "predict", "branches"}
@once
def _load_builtin_models() -> None:
    """Import every model module once so each registers its builders. Found by walking the
    package, not named here: the registry depends on no model module."""
    here = Path(__file__).parent
    for info in pkgutil.walk_packages([str(here)], prefix=__name__.rpartition(".")[0] + "."):
        if info.name.rsplit(".", 1)[-1] not in _NOT_MODELS:
            importlib.import_module(info.name)
