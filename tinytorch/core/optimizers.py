"""Optimizers (Module 06): turn gradients into parameter updates.

Updates happen in place on ``param.data`` so that every layer holding the parameter
sees the new value, and parameters without a gradient (unused in this step) are
left alone.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from tinytorch.core.tensor import Parameter, Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Holds the parameters to update; subclasses define ``step``."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"parameter {i} must be a Tensor with requires_grad=True; got {p!r:.80}")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive; got {lr!r}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


def _non_negative(value: float, name: str) -> float:
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative; got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    With momentum μ: v ← μ v + g;  θ ← θ - lr v  (PyTorch's formulation).
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative(momentum, "momentum")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self._velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for p, v in zip(self.params, self._velocity, strict=True):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                v *= self.momentum
                v += g
                g = v
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam: per-parameter step sizes from running averages of g and g², bias-corrected.

    ``weight_decay`` adds λθ to the gradient (L2, as ``torch.optim.Adam``).
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must each be in [0, 1); got {betas!r}")
        self.betas = (float(b1), float(b2))
        self.eps = _non_negative(eps, "eps")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self._m = [np.zeros_like(p.data) for p in self.params]
        self._v = [np.zeros_like(p.data) for p in self.params]
        self._t = 0

    def step(self) -> None:
        self._t += 1
        b1, b2 = self.betas
        correction1 = 1.0 - b1**self._t
        correction2 = 1.0 - b2**self._t
        for p, m, v in zip(self.params, self._m, self._v, strict=True):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            p.data -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
