"""Central finite differences: the reference every backward rule is tested against."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from tinytorch import Tensor


def numerical_grads(f: Callable[..., np.ndarray], arrays: Sequence[np.ndarray],
                    eps: float = 1e-6) -> list[np.ndarray]:
    """d f(arrays).sum() / d arrays[i], by (f(x + eps) - f(x - eps)) / 2 eps per element."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            bumped = [x.copy() for x in arrays]
            bumped[i][idx] = a[idx] + eps
            up = np.sum(f(*bumped))
            bumped[i][idx] = a[idx] - eps
            down = np.sum(f(*bumped))
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_gradients(op: Callable[..., Tensor], *arrays: np.ndarray, seed: int = 0,
                    rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Assert autograd's gradients of ``op`` equal finite differences (float64).

    The output is weighted by a random array before summing, so a rule that gets the
    right total but sends it to the wrong elements still fails.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    out = op(*inputs)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    (out * Tensor(weights, dtype=np.float64)).sum().backward()

    def weighted(*xs: np.ndarray) -> np.ndarray:
        return op(*[Tensor(x, dtype=np.float64) for x in xs]).data * weights

    expected = numerical_grads(weighted, arrays)
    for i, (t, g) in enumerate(zip(inputs, expected, strict=True)):
        assert t.grad is not None, f"input {i} received no gradient"
        assert t.grad.shape == t.shape, f"input {i}: gradient shape {t.grad.shape} != {t.shape}"
        np.testing.assert_allclose(t.grad.data, g, rtol=rtol, atol=atol, err_msg=f"input {i}")
