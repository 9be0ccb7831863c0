"""Pyramid Split Attention (EPSANet, Zhang et al. 2022) and its ResNet bottleneck for timm.

Checked against the official murufeng/EPSANet `models/epsanet.py`:
- the four branch convolutions (kernels 3/5/7/9, groups 1/4/8/16) each read ALL input channels
  and each produce planes // 4 channels (the input is not split);
- one SE weight module is shared by the four branches; its sigmoid outputs are then softmaxed
  across the branch axis;
- the weighted branches are concatenated in reverse order (branch 4 first), kept here so the
  channel order matches the official weights.
`PSABottleneck` replaces the 3x3 conv of a ResNet bottleneck and takes the keyword arguments
timm's `ResNet` passes to its blocks, so `ResNet(block=PSABottleneck, layers=[3, 4, 6, 3])` is
EPSANet-50 (as timm's sknet.py does with SelectiveKernelBottleneck).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn


class SEWeight(nn.Module):
    """(B, C, H, W) -> (B, C, 1, 1) sigmoid channel weights (official SEWeightModule)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class PSAModule(nn.Module):
    """(B, in_ch, H, W) -> (B, out_ch, H / stride, W / stride); out_ch divisible by 4 * max(groups)."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        stride: int = 1,
        kernels: Sequence[int] = (3, 5, 7, 9),
        groups: Sequence[int] = (1, 4, 8, 16),
    ) -> None:
        super().__init__()
        if len(kernels) != len(groups):
            raise ValueError(
                f"PSA needs one group count per kernel, got kernels={kernels} groups={groups}"
            )
        self.n_branches = len(kernels)
        self.split = out_ch // self.n_branches
        self.convs = nn.ModuleList(
            nn.Conv2d(in_ch, self.split, k, stride=stride, padding=k // 2, groups=g, bias=False)
            for k, g in zip(kernels, groups, strict=True)
        )
        self.se = SEWeight(self.split)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = torch.stack([conv(x) for conv in self.convs], dim=1)  # (B, n, split, H', W')
        # One shared SE over all branches at once (it has no batch statistics, so batching
        # the branches into the batch axis is exact).
        weights = self.se(feats.flatten(0, 1)).unflatten(0, feats.shape[:2])
        weighted = feats * torch.softmax(weights, dim=1)
        return weighted.flip(1).flatten(1, 2)  # official order: last branch first


class PSABottleneck(nn.Module):
    """EPSA block: 1x1 conv -> PSA (carries the stride) -> 1x1 conv (x4 channels), residual.

    (B, inplanes, H, W) -> (B, 4 * planes, H / stride, W / stride). Extra timm block kwargs
    (cardinality, dilation, attn_layer, ...) are accepted and ignored: EPSANet does not use them.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        act_layer: type[nn.Module] = nn.ReLU,
        norm_layer: type[nn.Module] = nn.BatchNorm2d,
        drop_path: nn.Module | None = None,
        psa_kernels: Sequence[int] = (3, 5, 7, 9),
        psa_groups: Sequence[int] = (1, 4, 8, 16),
        **_timm_block_kwargs,
    ) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = norm_layer(planes)
        self.act1 = act_layer(inplace=True)
        self.conv2 = PSAModule(
            planes, planes, stride=stride, kernels=psa_kernels, groups=psa_groups
        )
        self.bn2 = norm_layer(planes)
        self.act2 = act_layer(inplace=True)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = norm_layer(out)
        self.act3 = act_layer(inplace=True)
        self.downsample = downsample
        self.drop_path = drop_path

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.act1(self.bn1(self.conv1(x)))
        y = self.act2(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.drop_path is not None:
            y = self.drop_path(y)
        return self.act3(y + shortcut)
