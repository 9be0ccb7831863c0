"""Model registry in timm's style: `@register_model` on a builder, `create_model(name, **kw)`.

Builders take keyword arguments only (n_classes, input_len, ...), so a model folder's
config.json (name + kwargs) is enough to rebuild the architecture.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_model(fn: Callable[..., nn.Module] | None = None, *, name: str | None = None):
    """Register a builder under its function name (or `name`)."""

    def deco(f: Callable[..., nn.Module]):
        key = name or f.__name__
        if key in _MODELS:
            raise ValueError(f"model {key!r} is already registered")
        _MODELS[key] = f
        _DESCRIPTIONS[key] = (f.__doc__ or "").strip().split("\n")[0]
        return f

    return deco(fn) if fn is not None else deco


def list_models(pattern: str | None = None) -> list[str]:
    import fnmatch

    _load_builtin_models()
    names = sorted(_MODELS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def describe_model(name: str) -> str:
    _load_builtin_models()
    return _DESCRIPTIONS.get(name, "")


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model. Unknown names raise with the list of known ones."""
    _load_builtin_models()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(_MODELS))}")
    factory = _MODELS[name]
    model = factory(**kwargs)
    # Remember how it was built so a model folder can rebuild it without pickles, with every
    # default filled in: a later change of a default must not change a saved model.
    model.spectype_arch = {"name": name, "kwargs": _resolved_kwargs(factory, kwargs)}
    return model


def _resolved_kwargs(factory: Callable[..., nn.Module], kwargs: dict) -> dict:
    """``kwargs`` plus the factory's defaults for every parameter not given."""
    import inspect

    try:
        bound = inspect.signature(factory).bind_partial(**kwargs)
    except (TypeError, ValueError):  # no usable signature: keep what was passed
        return dict(kwargs)
    bound.apply_defaults()
    out: dict = {}
    for pname, value in bound.arguments.items():
        kind = bound.signature.parameters[pname].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            out[pname] = list(value) if isinstance(value, tuple) else value
    return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


_loaded = False


def _load_builtin_models() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import zoo  # noqa: F401  (imports every model module for registration)
