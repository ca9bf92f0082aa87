"""Activation values, numerical stability and module wrappers."""

from __future__ import annotations

import math
import warnings

import numpy as np

from tinytorch import Tensor
from tinytorch.core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh, gelu, sigmoid, softmax


def test_module_wrappers_apply_their_function():
    x = Tensor([[-2.0, 0.0, 3.0]])
    assert ReLU()(x).data.tolist() == [[0.0, 0.0, 3.0]]
    np.testing.assert_allclose(Sigmoid()(x).data, 1 / (1 + np.exp(-x.data)), rtol=1e-6)
    np.testing.assert_allclose(Tanh()(x).data, np.tanh(x.data), rtol=1e-6)
    np.testing.assert_allclose(Softmax(dim=-1)(x).data.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(GELU()(x).data, gelu(x).data)


def test_sigmoid_and_softmax_are_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(Tensor([-1000.0, 0.0, 1000.0])).data
        p = softmax(Tensor([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]])).data
    assert s.tolist() == [0.0, 0.5, 1.0]
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=-1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)


def test_softmax_along_chosen_dimension():
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)))
    np.testing.assert_allclose(softmax(x, dim=0).data.sum(axis=0), np.ones(4), rtol=1e-6)


def test_gelu_tanh_approximation_is_within_1e_3_of_exact():
    xs = np.linspace(-6, 6, 241)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    approx = gelu(Tensor(xs, dtype=np.float64)).data
    assert np.max(np.abs(approx - exact)) < 1e-3
