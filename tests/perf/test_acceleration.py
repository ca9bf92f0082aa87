"""Fusion: equal to the unfused path, in place, differentiable when training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU, Tanh
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.training import digits_mlp
from tinytorch.perf.acceleration import FusedLinearReLU, fuse_model
from tinytorch.perf.quantization import quantize_model


@given(batch=st.integers(1, 300), seed=st.integers(0, 1000))
def test_fused_equals_unfused(batch, seed):
    model = digits_mlp(32, seed=seed)
    fused = fuse_model(model)
    x = Tensor(np.random.default_rng(seed).normal(size=(batch, 64)))
    with no_grad():
        np.testing.assert_allclose(fused(x).data, model(x).data, rtol=1e-6, atol=1e-6)


def test_fused_quantized_equals_quantized(trained):
    model, _ = trained
    q = quantize_model(model)
    x = Tensor(np.random.default_rng(0).random((16, 64)))
    with no_grad():
        np.testing.assert_array_equal(fuse_model(q)(x).data, q(x).data)


def test_fusion_replaces_only_linear_relu_pairs_and_leaves_the_input_alone():
    model = Sequential(Linear(4, 4), ReLU(), Linear(4, 4), Tanh(), Linear(4, 2))
    fused = fuse_model(model)
    assert [type(m).__name__ for m in fused.layers] == ["FusedLinearReLU", "Linear", "Tanh", "Linear"]
    assert [type(m).__name__ for m in model.layers] == ["Linear", "ReLU", "Linear", "Tanh", "Linear"]
    with pytest.raises(ValueError, match="no Linear followed by ReLU"):
        fuse_model(Sequential(Linear(4, 4), Tanh()))


def test_inference_output_is_the_only_array_and_has_no_negatives():
    layer = Linear(8, 5, rng=np.random.default_rng(1))
    fused = FusedLinearReLU(layer)
    x = Tensor(np.random.default_rng(2).normal(size=(3, 8)))
    with no_grad():
        out = fused(x)
    assert out.data.min() >= 0 and out.data.base is None
    assert not np.shares_memory(out.data, x.data) and not np.shares_memory(out.data, layer.bias.data)


def test_training_mode_still_gets_gradients():
    fused = FusedLinearReLU(Linear(3, 2, rng=np.random.default_rng(0)))
    fused(Tensor(np.ones((4, 3)))).sum().backward()
    assert fused.linear.weight.grad is not None and fused.linear.weight.grad.shape == (3, 2)
    with pytest.raises(TypeError, match="wraps a Linear or QuantizedLinear; got ReLU"):
        FusedLinearReLU(ReLU())
