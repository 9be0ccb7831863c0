"""GAN generators and discriminators: registry names, shapes, output constraints."""

import pytest
import torch

from spectype.models import count_parameters, create_model, list_models
from spectype.models.gan.lcgan import stage_lengths

TINY = {
    "gan_lcgan_generator": {"channels": (4, 2), "kernel_size": 3},
    "gan_lcgan_discriminator": {"channels": (4, 8)},
    "gan_sgan_generator": {"hidden": (8, 16)},
    "gan_sgan_discriminator": {"hidden": (16, 8)},
}


def test_builders_registered_by_role():
    # <=: tests may register generators of their own.
    assert {"gan_lcgan_generator", "gan_sgan_generator"} <= set(list_models(role="generator"))
    assert {"gan_lcgan_discriminator", "gan_sgan_discriminator"} <= set(list_models(role="discriminator"))
    assert not set(TINY) & set(list_models(role="classifier"))
    assert set(TINY) <= set(list_models("gan_*"))  # no role: every registry


@pytest.mark.parametrize("name", ["gan_lcgan_generator", "gan_sgan_generator"])
def test_generator_shapes_and_range(name):
    g = create_model(name, input_len=96, noise_dim=16, **TINY[name]).eval()
    y = g(torch.randn(3, 16))
    assert y.shape == (3, 96) and y.dtype == torch.float32
    assert torch.isfinite(y).all()
    assert y.abs().max() <= 1.0  # L2-normalised (LCGAN) or tanh (SGAN)


def test_lcgan_generator_output_is_unit_norm():
    g = create_model(
        "gan_lcgan_generator", input_len=80, noise_dim=16, **TINY["gan_lcgan_generator"]
    )
    y = g(torch.randn(4, 16))
    torch.testing.assert_close(y.norm(dim=1), torch.ones(4))


@pytest.mark.parametrize("name", ["gan_lcgan_discriminator", "gan_sgan_discriminator"])
def test_discriminator_shape_and_backward(name):
    d = create_model(name, input_len=96, noise_dim=16, **TINY[name])
    x = torch.randn(5, 96, requires_grad=True)
    logit = d(x)
    assert logit.shape == (5,)
    logit.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_lcgan_generator_full_length_with_tiny_widths():
    g = create_model(
        "gan_lcgan_generator", input_len=3700, noise_dim=900, channels=(2,), kernel_size=3
    ).eval()
    with torch.no_grad():
        y = g(torch.randn(2, 900))
    assert y.shape == (2, 3700)
    assert g.lengths[-1] == 3700 and g.lengths[0] > 900  # every layer up-samples


def test_stage_lengths_ramp():
    lengths = stage_lengths(900, 3700, 4)
    assert lengths[-1] == 3700
    assert all(a < b for a, b in zip([900, *lengths], lengths, strict=False))


def test_lcgan_parameter_count_formula():
    # LC layer params = L_out * C_out * (C_in * k + 1); two layers here.
    g = create_model(
        "gan_lcgan_generator", input_len=64, noise_dim=16, channels=(3,), kernel_size=5
    )
    l1, l2 = g.lengths
    assert count_parameters(g) == l1 * 3 * (1 * 5 + 1) + l2 * 1 * (3 * 5 + 1)
