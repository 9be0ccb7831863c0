"""PSA module and the EPSA bottleneck inside timm's ResNet."""

from __future__ import annotations

import torch
from timm.models.resnet import ResNet

from spectype.layers import PSABottleneck, PSAModule


def reference_psa(m: PSAModule, x: torch.Tensor) -> torch.Tensor:
    """The official EPSANet forward written out: shared SE, softmax over branches, reversed concat."""
    branches = [conv(x) for conv in m.convs]
    weights = torch.stack([m.se(b) for b in branches], dim=1).softmax(dim=1)
    weighted = [branches[i] * weights[:, i] for i in range(len(branches))]
    return torch.cat(weighted[::-1], dim=1)


def test_psa_matches_official_structure():
    torch.manual_seed(0)
    m = PSAModule(64, 64)
    assert [c.kernel_size for c in m.convs] == [(3, 3), (5, 5), (7, 7), (9, 9)]
    assert [c.groups for c in m.convs] == [1, 4, 8, 16]
    # every branch reads the full input (no split) and writes a quarter of the output
    assert all(c.in_channels == 64 and c.out_channels == 16 for c in m.convs)
    x = torch.randn(2, 64, 6, 5)
    y = m(x)
    assert y.shape == (2, 64, 6, 5)
    torch.testing.assert_close(y, reference_psa(m, x))


def test_psa_stride_downsamples():
    m = PSAModule(64, 128, stride=2)
    assert m(torch.randn(1, 64, 8, 8)).shape == (1, 128, 4, 4)


def test_psa_bottleneck_in_timm_resnet_forward_backward():
    net = ResNet(block=PSABottleneck, layers=(1, 1, 1, 1), num_classes=256, zero_init_last=False)
    assert isinstance(net.layer1[0], PSABottleneck)
    assert net.fc.in_features == 2048 and net.fc.out_features == 256
    x = torch.randn(2, 3, 32, 48, requires_grad=True)
    y = net(x)
    assert y.shape == (2, 256)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert net.layer3[0].conv2.convs[3].weight.grad.abs().sum() > 0
