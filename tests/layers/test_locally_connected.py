"""LocallyConnected1d: against a per-position loop, against a tied Conv1d, gradients, stride."""

import pytest
import torch
import torch.nn as nn

from spectype.layers.locally_connected import LocallyConnected1d


def naive_lc(x, layer):
    """Reference: an explicit loop over output positions."""
    k, s = layer.kernel_size, layer.stride
    outs = []
    for p in range(layer.output_len):
        patch = x[:, :, p * s : p * s + k].reshape(x.shape[0], -1)  # (B, C_in*k), channel-major
        outs.append(patch @ layer.weight[p].T + layer.bias[:, p])
    return torch.stack(outs, dim=-1)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_matches_naive_loop(stride):
    torch.manual_seed(0)
    layer = LocallyConnected1d(3, 4, input_len=17, kernel_size=4, stride=stride)
    x = torch.randn(2, 3, 17)
    y = layer(x)
    assert y.shape == (2, 4, (17 - 4) // stride + 1)
    torch.testing.assert_close(y, naive_lc(x, layer))


@pytest.mark.parametrize("stride", [1, 2])
def test_equals_conv1d_when_weights_tied(stride):
    torch.manual_seed(1)
    conv = nn.Conv1d(3, 5, kernel_size=3, stride=stride)
    layer = LocallyConnected1d(3, 5, input_len=20, kernel_size=3, stride=stride)
    with torch.no_grad():
        layer.weight.copy_(conv.weight.reshape(5, -1).expand(layer.output_len, -1, -1))
        layer.bias.copy_(conv.bias[:, None].expand(-1, layer.output_len))
    x = torch.randn(4, 3, 20)
    torch.testing.assert_close(layer(x), conv(x))


def test_untied_positions_differ_from_conv():
    torch.manual_seed(2)
    layer = LocallyConnected1d(1, 1, input_len=10, kernel_size=3)
    x = torch.ones(1, 1, 10)
    y = layer(x)[0, 0]
    # Constant input through a shared kernel gives a constant output; unshared kernels must not.
    assert y.std() > 1e-3


def test_gradient_shapes_and_parameter_count():
    layer = LocallyConnected1d(2, 3, input_len=12, kernel_size=5, stride=2)
    x = torch.randn(3, 2, 12, requires_grad=True)
    layer(x).square().sum().backward()
    assert layer.weight.grad.shape == (4, 3, 10)
    assert layer.bias.grad.shape == (3, 4)
    assert x.grad.shape == x.shape and torch.isfinite(x.grad).all()
    assert sum(p.numel() for p in layer.parameters()) == 4 * 3 * (2 * 5 + 1)


def test_wrong_input_length_raises():
    layer = LocallyConnected1d(1, 1, input_len=10, kernel_size=3)
    with pytest.raises(ValueError, match="input length"):
        layer(torch.randn(1, 1, 12))


def test_init_bound_like_conv():
    layer = LocallyConnected1d(4, 8, input_len=50, kernel_size=5)
    bound = 1 / (4 * 5) ** 0.5
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.8 * bound
