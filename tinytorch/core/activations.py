"""Activation functions (Module 03): the non-linearities between linear layers.

Each is a single graph node with a hand-written backward rule instead of a chain
of primitive ops: fewer temporaries, fewer nodes, and a stable formula where the
naive one overflows (sigmoid of -1000, softmax of large logits).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor, _result

__all__ = ["relu", "sigmoid", "tanh", "gelu", "softmax", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]

# A Python float, not np.float64: a numpy scalar would promote float32 arrays to float64.
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))


def relu(x: Tensor) -> Tensor:
    """max(x, 0); the gradient at exactly 0 is taken as 0, as in PyTorch."""
    out = np.maximum(x.data, 0)
    return _result(out, (x,), lambda g: (g * (x.data > 0),))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 so no exponential can overflow."""
    out = 0.5 * (1.0 + np.tanh(0.5 * x.data))
    return _result(out, (x,), lambda g: (g * out * (1.0 - out),))


def tanh(x: Tensor) -> Tensor:
    out = np.tanh(x.data)
    return _result(out, (x,), lambda g: (g * (1.0 - out * out),))


def gelu(x: Tensor) -> Tensor:
    """GELU with the tanh approximation used by GPT-2 and BERT.

    x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³))); numpy has no erf, and the approximation
    differs from the exact form by less than 1e-3 everywhere.
    """
    a = x.data
    inner = _SQRT_2_OVER_PI * (a + 0.044715 * a**3)
    t = np.tanh(inner)
    out = 0.5 * a * (1.0 + t)

    def grads(g: np.ndarray) -> tuple:
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * a * a)
        return (g * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * d_inner),)

    return _result(out, (x,), grads)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the max so exp never overflows."""
    shifted = x.data - x.data.max(axis=dim, keepdims=True)
    e = np.exp(shifted)
    out = e / e.sum(axis=dim, keepdims=True)
    # Jacobian-vector product: s * (g - <g, s>)
    return _result(out, (x,), lambda g: (out * (g - (g * out).sum(axis=dim, keepdims=True)),))


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class GELU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return gelu(x)


class Softmax(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, self.dim)
