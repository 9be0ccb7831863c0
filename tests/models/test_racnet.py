"""RAC-Net: the concat-pool channel attention and the residual blocks."""

from __future__ import annotations

import torch

from spectype.models import create_model
from spectype.models.racnet import ConcatPoolChannelAttention, ResidualAttentionBlock


def test_channel_attention_uses_max_and_mean_pooling():
    torch.manual_seed(0)
    m = ConcatPoolChannelAttention(6)
    x = torch.randn(2, 6, 11)
    w = torch.sigmoid(m.fc(torch.cat([x.max(2).values, x.mean(2)], dim=1)))
    torch.testing.assert_close(m(x), x * w.unsqueeze(-1))


def test_residual_block_downsamples_with_projection_shortcut():
    block = ResidualAttentionBlock(8, 16, stride=2)
    assert block(torch.randn(2, 8, 40)).shape == (2, 16, 20)


def test_four_class_o_star_setting():
    m = create_model("racnet", n_classes=4, input_len=600)
    assert m(torch.rand(3, 600)).shape == (3, 4)
