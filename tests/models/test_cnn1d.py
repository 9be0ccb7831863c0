"""The 8-layer 1D CNN: sizes inferred from input_len, attention placement, embedding width."""

from __future__ import annotations

import pytest
import torch

from spectype.models.cnn1d import CNN1DBranch, output_shape


def expected_positions(n: int) -> int:
    for k, s in zip((1, 2, 3, 4, 5, 7, 8, 9), (1, 2, 1, 2, 1, 2, 1, 2), strict=True):
        n = n - k + 1  # valid conv
        n = (n - 2) // s + 1  # max-pool window 2
    return n


@pytest.mark.parametrize("input_len", [3700, 1000, 333])
def test_flatten_width_follows_input_len(input_len):
    branch = CNN1DBranch(input_len=input_len)
    c, length = output_shape(branch.features, (1, input_len))
    assert (c, length) == (60, expected_positions(input_len))
    assert branch.head[1].in_features == 60 * length
    assert branch.head[1].out_features == 1024 and branch.head[3].out_features == 256


def test_paper_length_gives_219_positions():
    # The model itself, not only the helper above: 60 channels x 219 positions at L = 3700.
    assert output_shape(CNN1DBranch().features, (1, 3700)) == (60, 219)


def test_channels_and_kernels_match_paper():
    convs = [m for m in CNN1DBranch(input_len=333).features if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [10, 10, 20, 30, 40, 50, 60, 60]
    assert [c.kernel_size[0] for c in convs] == [1, 2, 3, 4, 5, 7, 8, 9]


def test_attention_sits_on_the_last_feature_map():
    branch = CNN1DBranch(input_len=300, attn="gct")
    seen = {}

    def record(module, inputs, output):
        seen["shape"] = tuple(inputs[0].shape)

    branch.attn.register_forward_hook(record)
    out = branch(torch.rand(3, 300))
    assert out.shape == (3, 256)
    assert seen["shape"] == (3, 60, expected_positions(300))


def test_too_short_input_says_so():
    with pytest.raises(ValueError, match="input_len=20"):
        CNN1DBranch(input_len=20)
