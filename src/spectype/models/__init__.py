"""Model zoo: `create_model(name, **kw)`, `list_models()`."""

from .registry import count_parameters, create_model, describe_model, list_models, register_model

__all__ = ["count_parameters", "create_model", "describe_model", "list_models", "register_model"]
