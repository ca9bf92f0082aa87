"""Kernel fusion (Module 17): Linear + bias + ReLU as one inference step.

Unfused, the three steps cost a matmul output, a second array for ReLU's result and
a Tensor and a module call for each step. Fused, the matmul writes the one output
array, the bias is added into it and ReLU clamps it in place: one allocation, one
pass less over memory. At the capstone's sizes the saving is mostly per-call overhead;
the benchmark reports what it is.
"""

from __future__ import annotations

import copy
from typing import ClassVar, Optional, Union

import numpy as np

from tinytorch.core.activations import ReLU, relu
from tinytorch.core.autograd import is_grad_enabled
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.core.tensor import Tensor
from tinytorch.perf.composition import check_can_apply
from tinytorch.perf.quantization import QuantizedLinear

__all__ = ["FusedLinearReLU", "fuse_model"]


class FusedLinearReLU(Module):
    """relu(linear(x)) with the activation applied in place on the linear output.

    Wraps a float :class:`Linear` or a :class:`QuantizedLinear`. While gradients are
    being recorded it falls back to the unfused, differentiable path.
    """

    produced_by: ClassVar[str] = "fuse"

    def __init__(self, linear: Union[Linear, QuantizedLinear]) -> None:
        super().__init__()
        if not isinstance(linear, (Linear, QuantizedLinear)):
            raise TypeError(f"FusedLinearReLU wraps a Linear or QuantizedLinear; got {type(linear).__name__}")
        self.linear = linear
        self.in_features = linear.in_features
        self.out_features = linear.out_features

    def forward(self, x: Tensor) -> Tensor:
        if is_grad_enabled() and isinstance(self.linear, Linear) and (
                self.linear.weight.requires_grad or getattr(x, "requires_grad", False)):
            return relu(self.linear(x))
        # Both inner layers return a freshly allocated array on this path, so
        # clamping it in place cannot corrupt anything else.
        out = self.linear.forward(x)
        np.maximum(out.data, 0, out=out.data)
        return out

    def extra_repr(self) -> str:
        return f"fused Linear+ReLU {self.in_features} -> {self.out_features}"


def fuse_model(model: Module) -> Module:
    """Copy of ``model`` where each Linear/QuantizedLinear directly followed by ReLU in a
    Sequential becomes one FusedLinearReLU (the ReLU is dropped from the sequence)."""
    check_can_apply(model, "fuse")
    fused = copy.deepcopy(model)
    found = 0
    for seq in [m for m in fused.modules() if isinstance(m, Sequential)]:
        out: list[Module] = []
        layers = seq.layers
        i = 0
        while i < len(layers):
            layer = layers[i]
            nxt: Optional[Module] = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(layer, (Linear, QuantizedLinear)) and isinstance(nxt, ReLU):
                out.append(FusedLinearReLU(layer))
                found += 1
                i += 2
            else:
                out.append(layer)
                i += 1
        seq.layers = out
    if not found:
        raise ValueError("fuse_model found no Linear followed by ReLU inside a Sequential to fuse")
    return fused.eval()

