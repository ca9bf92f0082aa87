"""Loss values against reference formulas, stability, and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.core.losses import CrossEntropyLoss, MSELoss

from .gradcheck import check_gradients


def reference_cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    z = z.astype(np.float64)
    log_probs = z - z.max(axis=1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    assert CrossEntropyLoss()(Tensor(z), y).item() == pytest.approx(reference_cross_entropy(z, y), rel=1e-5)
    check_gradients(lambda logits: CrossEntropyLoss()(logits, y), z)


def test_cross_entropy_uniform_logits_give_log_classes():
    assert CrossEntropyLoss()(Tensor(np.zeros((3, 10))), np.array([1, 2, 3])).item() == pytest.approx(np.log(10))


def test_cross_entropy_is_stable_for_huge_logits():
    z = Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrong = CrossEntropyLoss()(z, np.array([1, 1]))
        wrong.backward()
    assert wrong.item() == pytest.approx(1000.0, rel=1e-6)
    assert np.isfinite(z.grad.data).all()


def test_cross_entropy_accepts_integer_tensor_targets():
    loss = CrossEntropyLoss()(Tensor(np.zeros((2, 3))), Tensor([0, 2], dtype=np.int64))
    assert loss.item() == pytest.approx(np.log(3))


@pytest.mark.parametrize("logits, target, error, fragment", [
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, "integer class indices; got dtype float64"),
    (np.zeros((2, 3)), np.array([[0], [1]]), ValueError, r"shape \(2,\) to match logits \(2, 3\); got \(2, 1\)"),
    (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"\[0, 3\) for 3 classes; got out-of-range values \[3\]"),
    (np.zeros((2, 3)), np.array([-1, 0]), ValueError, r"out-of-range values \[-1\]"),
    (np.zeros(3), np.array([0]), ValueError, r"logits of shape \(N, C\); got \(3,\)"),
    (np.zeros((0, 3)), np.zeros(0, dtype=int), ValueError, "empty batch"),
])
def test_cross_entropy_bad_targets_are_named(logits, target, error, fragment):
    with pytest.raises(error, match=fragment):
        CrossEntropyLoss()(Tensor(logits), target)


def test_mse_value_gradient_and_shape_check():
    p, t = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])
    assert MSELoss()(Tensor(p), t).item() == pytest.approx((4 + 9) / 4)
    check_gradients(lambda a, b: MSELoss()(a, b), p, t)
    with pytest.raises(ValueError, match=r"same shape; got \(4, 1\) and \(4,\)"):
        MSELoss()(Tensor(np.zeros((4, 1))), np.zeros(4))
