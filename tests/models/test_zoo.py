"""Every registered classifier: forward + backward on a tiny batch, logits (B, n_classes)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

from spectype.models import count_parameters, create_model, list_models, model_config

N_CLASSES, INPUT_LEN = 4, 512
# Small settings for whichever of these a builder accepts (images 32 px, one block per stage).
SMALL = {"input_len": INPUT_LEN, "n_classes": N_CLASSES, "image_size": 32, "layers": (1, 1, 1, 1),
         "epsanet_layers": (1, 1, 1, 1)}  # fmt: skip

CLASSIFIERS = list_models(role="classifier")


def small_kwargs(name: str) -> dict:
    params = {f.name for f in dataclasses.fields(model_config(name))}
    return {k: v for k, v in SMALL.items() if k in params}


def test_table_models_are_registered():
    expected = {f"cnn1d_{a}" for a in ("none", "se", "eca", "gct", "bam", "coordatt", "cca")}
    expected |= {
        "mm_1d",
        "mm_2d",
        "mm_mel",
        "mm_mfcc",
        "mm_lfcc",
        "mm_1d_2d",
        "mm_1d_audio",
        "mm_all",
    }
    expected |= {"epsanet50", "racnet", "fusion"}
    assert expected <= set(CLASSIFIERS)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_forward_backward(name):
    torch.manual_seed(0)
    kw = small_kwargs(name)
    assert {"n_classes", "input_len"} <= set(kw)
    model = create_model(name, **kw)
    arch = model.spectype_arch
    assert arch["name"] == name
    # What was passed, plus every default, so a later default change cannot alter a saved model.
    assert {k: arch["kwargs"][k] for k in kw} == {
        k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()
    }
    assert count_parameters(create_model(name, **arch["kwargs"])) == count_parameters(model)
    flux = torch.rand(2, INPUT_LEN)
    logits = model(flux)
    assert logits.shape == (2, N_CLASSES)
    assert torch.isfinite(logits).all()
    loss = logits.logsumexp(1).sum()
    if hasattr(model, "heads"):  # multitask models: every head must be trainable too
        out = model.heads(flux)
        loss = loss + out["code"].sum() + out["code_logvar"].sum() + out["lum_logits"].logsumexp(1).sum()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient reached {missing[:5]}"


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if n.startswith("cnn1d_")])
def test_cnn1d_builders_record_every_branch_argument(name):
    # Builders that pass settings through to CNN1DBranch must still record its defaults.
    from spectype.models.cnn1d import CNN1DBranch

    branch_args = set(inspect.signature(CNN1DBranch.__init__).parameters) - {"self", "attn"}
    assert branch_args <= set(create_model(name, input_len=INPUT_LEN).spectype_arch["kwargs"])


def test_recorded_kwargs_include_defaults():
    # fusion's image_canvas default changed once (512 -> None); a saved model keeps its value.
    model = create_model("mm_1d", n_classes=3, input_len=INPUT_LEN, spec1d_hidden=16)
    kw = model.spectype_arch["kwargs"]
    assert kw["image_canvas"] is None and kw["attn"] == "coordatt"
    assert kw["modalities"] == ["spec1d"] and kw["spec1d_hidden"] == 16
