"""Locally connected 1D layer: a convolution whose kernel is NOT shared across positions.

Keras' `LocallyConnected1D` ('valid' padding) has no maintained PyTorch counterpart, so it is
written here with `Tensor.unfold` (patches, no copy) and one batched `einsum`.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def locally_connected_1d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, kernel_size: int, stride: int
) -> torch.Tensor:
    """(B, C_in, L) -> (B, C_out, L_out) with a separate kernel at every output position.

    weight: (L_out, C_out, C_in * kernel_size), flattened channel-major like
    `nn.Conv1d.weight.reshape(C_out, -1)`. bias: (C_out, L_out) or None.
    """
    b, c_in, _ = x.shape
    patches = x.unfold(2, kernel_size, stride)  # (B, C_in, L_out, k), a view
    l_out = patches.shape[2]
    if l_out != weight.shape[0]:
        raise ValueError(
            f"input length gives {l_out} output positions but the layer has {weight.shape[0]}; "
            "build the layer with the input length it will see"
        )
    patches = patches.permute(0, 2, 1, 3).reshape(b, l_out, c_in * kernel_size)
    out = torch.einsum("blf,lof->bol", patches, weight)
    if bias is not None:
        out = out + bias
    return out


class LocallyConnected1d(nn.Module):
    """Unshared 1D convolution, 'valid' padding.

    Input (B, C_in, input_len) -> output (B, C_out, L_out), L_out = (input_len - k) // stride + 1.
    Parameters: weight (L_out, C_out, C_in * k), bias (C_out, L_out); that is
    L_out * C_out * (C_in * k + 1) numbers, so keep channels small at long lengths.

    Initialisation: each position's kernel is drawn like `nn.Conv1d`'s default (kaiming-uniform
    with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in * k; the same
    bound for the bias). Keras uses glorot-uniform for this layer; the conv-style bound keeps the
    activation scale independent of L_out and equal to a tied `nn.Conv1d` at initialisation.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_len: int,
        kernel_size: int,
        stride: int = 1,
        bias: bool = True,
    ):
        super().__init__()
        if input_len < kernel_size:
            raise ValueError(f"input_len {input_len} is shorter than kernel_size {kernel_size}")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.input_len = input_len
        self.kernel_size = kernel_size
        self.stride = stride
        self.output_len = (input_len - kernel_size) // stride + 1
        self.weight = nn.Parameter(
            torch.empty(self.output_len, out_channels, in_channels * kernel_size)
        )
        self.bias = nn.Parameter(torch.empty(out_channels, self.output_len)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return locally_connected_1d(x, self.weight, self.bias, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_len={self.input_len}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, output_len={self.output_len}, "
            f"bias={self.bias is not None}"
        )
