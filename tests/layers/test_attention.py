"""The 1D attention registry: shapes, gradients, and one behaviour check per module."""

from __future__ import annotations

import math

import pytest
import torch

from spectype.layers import BAM, GCT, CrissCrossAttention, create_attn1d, list_attn1d

B, C, L = 3, 16, 23


@pytest.fixture
def x() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(B, C, L, requires_grad=True)


def test_registry_names_match_table3():
    assert list_attn1d() == ["none", "se", "eca", "gct", "bam", "coordatt", "cca"]


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="coordatt"):
        create_attn1d("nope", C)


@pytest.mark.parametrize("name", list_attn1d())
def test_shape_and_gradients(name, x):
    m = create_attn1d(name, C)
    if name == "cca":  # gamma starts at 0, which would block the grads of q/k/v
        torch.nn.init.ones_(m.attn.gamma)
    if name == "gct":  # gamma = beta = 0 at init gives zero grads to alpha
        torch.nn.init.normal_(m.gamma)
    y = m(x)
    assert y.shape == (B, C, L)
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # A bias right before a training-mode BatchNorm is subtracted out with the batch mean: its
    # gradient is zero analytically (only rounding made it nonzero on some draws). Check it gets one.
    pre_norm = _biases_before_batchnorm(m)
    for pname, p in m.named_parameters():
        assert p.grad is not None, pname
        if pname not in pre_norm:
            assert p.grad.abs().sum() > 0, pname


def _biases_before_batchnorm(m: torch.nn.Module) -> set[str]:
    out = set()
    for prefix, mod in m.named_modules():
        if isinstance(mod, torch.nn.Sequential):
            for i, (a, b) in enumerate(zip(mod, list(mod)[1:], strict=False)):
                if getattr(a, "bias", None) is not None and isinstance(b, torch.nn.modules.batchnorm._BatchNorm):
                    out.add(f"{prefix}.{i}.bias" if prefix else f"{i}.bias")
    return out


def test_se_matches_hand_computed_gate(x):
    m = create_attn1d("se", C).eval()
    se = m.attn
    w1, b1 = se.fc1.weight.squeeze(-1).squeeze(-1), se.fc1.bias
    w2, b2 = se.fc2.weight.squeeze(-1).squeeze(-1), se.fc2.bias
    pooled = x.mean(2)
    gate = torch.sigmoid(torch.relu(pooled @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(m(x), x * gate.unsqueeze(-1))
    assert w1.shape[0] == 1  # C=16, reduction 16, no rounding up to 8


def eca_paper_kernel(c: int, gamma: int = 2, b: int = 1) -> int:
    t = int(abs((math.log2(c) + b) / gamma))
    return t if t % 2 else t + 1


@pytest.mark.parametrize("channels", [8, 16, 60, 256, 1024])
def test_eca_kernel_rule_matches_paper_from_8_channels(channels):
    assert create_attn1d("eca", channels).attn.conv.kernel_size[0] == eca_paper_kernel(channels)


def test_eca_below_8_channels_timm_uses_3_where_paper_gives_1():
    assert eca_paper_kernel(4) == 1
    assert create_attn1d("eca", 4).attn.conv.kernel_size[0] == 3


def test_eca_matches_hand_computed_gate(x):
    m = create_attn1d("eca", C)
    w = m.attn.conv.weight  # (1, 1, k)
    k = w.shape[-1]
    pooled = x.mean(2).unsqueeze(1)  # (B, 1, C)
    gate = torch.sigmoid(torch.nn.functional.conv1d(pooled, w, padding=k // 2)).squeeze(1)
    torch.testing.assert_close(m(x), x * gate.unsqueeze(-1))


def test_gct_is_identity_at_init_and_gates_in_0_2(x):
    m = GCT(C)
    torch.testing.assert_close(m(x), x)
    torch.nn.init.normal_(m.gamma, std=3.0)
    torch.nn.init.normal_(m.beta, std=3.0)
    g = m.gate(x)
    assert g.shape == (B, C, 1)
    assert (g > 0).all() and (g < 2).all() and not torch.allclose(g, torch.ones_like(g))


def test_gct_works_on_2d_maps():
    m = GCT(8)
    torch.nn.init.normal_(m.gamma)
    y = m(torch.randn(2, 8, 5, 7))
    assert y.shape == (2, 8, 5, 7)


def test_bam_output_is_x_times_one_plus_sigmoid(x):
    m = create_attn1d("bam", C).eval()
    att = m.attention(x)
    torch.testing.assert_close(m(x), x * (1 + torch.sigmoid(att)))
    ratio = m(x) / x
    assert (ratio > 1).all() and (ratio < 2).all()


def test_bam_2d_accepts_non_square_maps():
    # The official channel gate (avg_pool2d with the map height) breaks on non-square maps.
    m = BAM(32, spatial_dims=2).eval()
    assert m(torch.randn(2, 32, 9, 4)).shape == (2, 32, 9, 4)
    with pytest.raises(ValueError, match="1D"):
        BAM(32, spatial_dims=1)(torch.randn(2, 32, 9, 4))


def test_coordatt_gates_in_open_unit_interval(x):
    m = create_attn1d("coordatt", C).eval()
    assert m.attn.conv1.bias is not None  # bias=True as in the original CoordAtt
    ratio = m(x) / x
    assert (ratio > 0).all() and (ratio < 1).all()
    # the per-position gate makes the ratio vary along the spectrum, unlike a channel-only gate
    assert ratio.std(dim=2).max() > 0


def test_cca_with_zero_gamma_is_identity(x):
    m = create_attn1d("cca", C)
    torch.testing.assert_close(m(x), x)


def naive_criss_cross(m: CrissCrossAttention, x: torch.Tensor) -> torch.Tensor:
    """Loop reference: each (h, w) attends to its column (minus itself) and its row."""
    q, k, v = m.query(x), m.key(x), m.value(x)
    b, c, h, w = x.shape
    out = torch.zeros_like(v)
    for i in range(h):
        for j in range(w):
            keys = [(g, j) for g in range(h) if g != i] + [(i, u) for u in range(w)]
            e = torch.stack([(q[:, :, i, j] * k[:, :, a, bb]).sum(1) for a, bb in keys], dim=1)
            a_ = torch.softmax(e, dim=1)
            vals = torch.stack([v[:, :, a, bb] for a, bb in keys], dim=2)  # (B, C, n)
            out[:, :, i, j] = (vals * a_.unsqueeze(1)).sum(2)
    return m.gamma * out + x


def test_cca_2d_matches_loop_reference():
    torch.manual_seed(1)
    m = CrissCrossAttention(16)
    torch.nn.init.constant_(m.gamma, 0.7)
    x = torch.randn(2, 16, 4, 5)
    torch.testing.assert_close(m(x), naive_criss_cross(m, x), rtol=1e-4, atol=1e-5)


def test_cca_1d_is_self_attention_along_spectrum(x):
    m = create_attn1d("cca", C)
    torch.nn.init.constant_(m.attn.gamma, 1.0)
    cca = m.attn
    q = cca.query(x.unsqueeze(-1)).squeeze(-1)
    k = cca.key(x.unsqueeze(-1)).squeeze(-1)
    v = cca.value(x.unsqueeze(-1)).squeeze(-1)
    att = torch.softmax(torch.einsum("bcl,bcm->blm", q, k), dim=-1)
    expected = torch.einsum("blm,bcm->bcl", att, v) + x
    torch.testing.assert_close(m(x), expected, rtol=1e-4, atol=1e-5)


def test_cca_builds_its_mask_on_the_input_device():
    # The official code hard-codes .cuda(); the meta device would fail on any device mismatch.
    m = CrissCrossAttention(8).to("meta")
    y = m(torch.empty(2, 8, 5, 3, device="meta"))
    assert y.device.type == "meta" and y.shape == (2, 8, 5, 3)
