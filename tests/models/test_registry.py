"""Registries by role; each family's config dataclass is what create_model records."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch.nn as nn

from spectype.models import (
    create_model,
    describe_model,
    list_models,
    model_config,
    model_role,
    register_model,
)
from spectype.models.cnn1d import CNN1DBranch, CNN1DConfig


def test_every_model_has_one_role_and_a_config_dataclass():
    names = list_models()
    by_role = {r: set(list_models(role=r)) for r in ("classifier", "generator", "discriminator")}
    assert set().union(*by_role.values()) == set(names)
    assert sum(map(len, by_role.values())) == len(names)  # no name in two registries
    for name in names:
        assert name in by_role[model_role(name)]
        assert dataclasses.is_dataclass(model_config(name)) and describe_model(name)
    with pytest.raises(ValueError, match="role must be one of"):
        list_models(role="critic")


def test_recorded_kwargs_are_the_config_dataclass():
    model = create_model("cnn1d_compact", n_classes=3, input_len=256)
    config = model_config("cnn1d_compact", n_classes=3, input_len=256)
    assert isinstance(config, CNN1DConfig) and config.attn == "se" and config.hidden == 128
    expected = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}
    assert model.spectype_arch == {"name": "cnn1d_compact", "kwargs": expected}


def test_cnn1d_config_covers_every_branch_argument():
    branch = set(inspect.signature(CNN1DBranch.__init__).parameters) - {"self"}
    assert {f.name for f in dataclasses.fields(CNN1DConfig)} == branch | {"n_classes"}


def test_bad_arguments_say_what_the_model_takes():
    with pytest.raises(TypeError, match=r"takes no argument \['hiden'\]; it takes \[.*'hidden'"):
        create_model("cnn1d_none", hiden=16)
    with pytest.raises(TypeError, match="fixes attn='se'"):
        create_model("cnn1d_se", attn="eca")
    assert create_model("cnn1d_se", attn="se", input_len=256).spectype_arch["kwargs"]["attn"] == "se"
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        create_model("nope")


def test_plain_keyword_builders_still_register():
    name = "test_plain_linear"
    if name not in list_models():

        @register_model(name=name)
        def _plain(n_classes: int = 3, input_len: int = 8, widths: tuple = (4,)) -> nn.Module:
            """A plain keyword builder, as a plugin or test defines one."""
            return nn.Linear(input_len, n_classes)

    model = create_model(name, input_len=6)
    assert model.spectype_arch["kwargs"] == {"n_classes": 3, "input_len": 6, "widths": [4]}
    assert model_role(name) == "classifier" and model.in_features == 6

    def star(**kw) -> nn.Module:
        return nn.Identity()

    with pytest.raises(TypeError, match=r"explicit keyword arguments, not \*kw"):
        register_model(star, name="test_star_builder")
    with pytest.raises(ValueError, match="already registered"):
        register_model(star, name="cnn1d_none")
    with pytest.raises(ValueError, match="role must be one of"):
        register_model(star, name="test_bad_role", role="critic")
