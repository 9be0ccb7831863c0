"""Model zoo: `create_model(name, **kw)`, `list_models(role=...)`, registries by role."""

from .registry import (
    ROLES,
    as_kwargs,
    count_parameters,
    create_model,
    describe_model,
    list_models,
    model_config,
    model_role,
    register_model,
)

__all__ = [
    "ROLES",
    "as_kwargs",
    "count_parameters",
    "create_model",
    "describe_model",
    "list_models",
    "model_config",
    "model_role",
    "register_model",
]
