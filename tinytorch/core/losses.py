"""Loss functions (Module 04): one number that says how wrong the model is.

Both losses check their inputs' shapes instead of broadcasting them: an ``(N, 1)``
prediction against an ``(N,)`` target would silently become an ``(N, N)`` matrix,
train badly, and never raise.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor, _result

__all__ = ["MSELoss", "CrossEntropyLoss"]


class MSELoss(Module):
    """Mean of squared differences between prediction and target (same shape)."""

    def forward(self, prediction: Tensor, target: Union[Tensor, np.ndarray]) -> Tensor:
        target = target if isinstance(target, Tensor) else Tensor(target, dtype=prediction.dtype)
        if prediction.shape != target.shape:
            raise ValueError(
                f"MSELoss needs prediction and target of the same shape; got {prediction.shape} "
                f"and {target.shape}"
            )
        diff = prediction - target
        return (diff * diff).mean()


class CrossEntropyLoss(Module):
    """Mean negative log-likelihood of integer class targets under softmax(logits).

    Computed from logits with the log-sum-exp shift, never as log(softmax(x)): the
    latter underflows to log(0) = -inf as soon as one logit dominates. The backward
    rule is the classic (softmax - one_hot) / N.
    """

    def forward(self, logits: Tensor, target: Union[Tensor, np.ndarray]) -> Tensor:
        labels = np.asarray(target.data if isinstance(target, Tensor) else target)
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss expects logits of shape (N, C); got {logits.shape}")
        n, classes = logits.shape
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"CrossEntropyLoss targets must be integer class indices; got dtype {labels.dtype} "
                "(build them with dtype=np.int64)"
            )
        if labels.shape != (n,):
            raise ValueError(
                f"CrossEntropyLoss targets must have shape ({n},) to match logits {logits.shape}; "
                f"got {labels.shape}"
            )
        if n == 0:
            raise ValueError("CrossEntropyLoss got an empty batch (N = 0)")
        bad = labels[(labels < 0) | (labels >= classes)]
        if bad.size:
            raise ValueError(
                f"CrossEntropyLoss targets must be in [0, {classes}) for {classes} classes; "
                f"got out-of-range values {np.unique(bad)[:10].tolist()}"
            )
        z = logits.data
        shifted = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted - log_norm
        rows = np.arange(n)
        loss = np.asarray(-log_probs[rows, labels].mean(), dtype=z.dtype)

        def grads(g: np.ndarray) -> tuple:
            d = np.exp(log_probs)
            d[rows, labels] -= 1.0
            return (d * (g / n),)

        return _result(loss, (logits,), grads)
