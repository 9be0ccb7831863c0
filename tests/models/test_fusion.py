"""Fusion model: branch selection, Table 4 names, feature modules kept out of the state dict."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from spectype.models import create_model
from spectype.models.fusion import MODALITIES, TABLE4, FusionClassifier

INPUT_LEN = 512


def test_table4_rows_build_the_right_branches():
    assert set(create_model("mm_all", input_len=INPUT_LEN, n_classes=3).branches) == set(MODALITIES)
    assert TABLE4["mm_1d_audio"] == ("spec1d", "mel", "mfcc", "lfcc")
    m = create_model("mm_1d_audio", input_len=INPUT_LEN, n_classes=3)
    assert list(m.branches) == ["spec1d", "mel", "mfcc", "lfcc"]
    assert m.classifier.in_features == 4 * 256 and m.classifier.out_features == 3


def test_spec1d_branch_uses_coordatt_by_default():
    m = create_model("mm_1d", input_len=INPUT_LEN)
    assert type(m.branches["spec1d"].net.attn.attn).__name__ == "CoordAttn"
    m = create_model("mm_1d", input_len=INPUT_LEN, attn="se")
    assert type(m.branches["spec1d"].net.attn.attn).__name__ == "SEModule"


def test_branch_order_is_canonical():
    a = FusionClassifier(("mfcc", "spec1d"), input_len=INPUT_LEN)
    assert list(a.branches) == ["spec1d", "mfcc"]


def test_unknown_modality_is_rejected():
    with pytest.raises(ValueError, match="subset"):
        FusionClassifier(("spec1d", "uv"), input_len=INPUT_LEN)


def test_feature_buffers_stay_out_of_state_dict_but_move_with_model():
    m = create_model("mm_1d_audio", input_len=INPUT_LEN)
    feature = m.branches["mel"].feature
    assert len(list(feature.buffers())) > 0
    assert not [k for k in m.state_dict() if ".feature." in k]
    m.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in feature.buffers() if b.is_floating_point())


def test_safetensors_round_trip_reproduces_logits(tmp_path):
    torch.manual_seed(0)
    kw = dict(
        modalities=("spec1d", "image", "mel"),
        image_size=32,
        epsanet_layers=(1, 1, 1, 1),
        input_len=INPUT_LEN,
    )
    a = create_model("fusion", **kw).eval()
    path = tmp_path / "model.safetensors"
    save_file(a.state_dict(), str(path))
    torch.manual_seed(1)
    arch = json.loads(json.dumps(a.spectype_arch))  # as a model folder's config.json holds it
    b = create_model(arch["name"], **arch["kwargs"]).eval()
    b.load_state_dict(load_file(str(path)), strict=True)
    flux = torch.rand(2, INPUT_LEN)
    with torch.no_grad():
        torch.testing.assert_close(a(flux), b(flux))


def test_audio_branch_width_comes_from_the_feature_shape():
    from spectype.features.audio import audio_feature_shape

    m = create_model("mm_mfcc", input_len=INPUT_LEN)
    f, t = audio_feature_shape("mfcc", "paper", INPUT_LEN)
    assert m.branches["mfcc"].net.head[1].in_features == 64 * (f // 4) * (t // 4)
