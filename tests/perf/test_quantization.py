"""Real INT8: one byte per weight, bounded error, accuracy kept, original untouched."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.training import accuracy
from tinytorch.perf.profiling import Profiler
from tinytorch.perf.quantization import QuantizedLinear, dequantize_weights, quantize_model, quantize_weights


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=16),
                  elements=st.floats(-10, 10, width=32)))
def test_round_trip_error_is_at_most_half_a_step_per_channel(w):
    q, scale = quantize_weights(w)
    assert q.dtype == np.int8 and scale.dtype == np.float16 and scale.shape == (w.shape[1],)
    assert np.abs(q.astype(int)).max(initial=0) <= 127
    err = np.abs(dequantize_weights(q, scale) - w)
    step = scale.astype(np.float32)
    assert np.all(err <= step / 2 * (1 + 1e-3) + 1e-6)


def test_channels_get_their_own_scales_and_zero_columns_survive():
    w = np.array([[1000.0, 0.001, 0.0], [-500.0, -0.002, 0.0]], dtype=np.float32)
    q, scale = quantize_weights(w)
    np.testing.assert_allclose(dequantize_weights(q, scale)[:, 1], w[:, 1], rtol=1e-2)
    assert (q[:, 2] == 0).all() and scale[2] == 1.0
    with pytest.raises(ValueError, match=r"\(in, out\) matrix; got shape \(3,\)"):
        quantize_weights(np.ones(3))
    with pytest.raises(ValueError, match="weight column 1 reaches 1e\\+07"):
        quantize_weights(np.array([[1.0, 1e7]]))


def test_quantized_digits_model_is_3_8x_smaller_and_keeps_accuracy(trained, digits):
    model, fp32_accuracy = trained
    before = {k: v.copy() for k, v in model.state_dict().items()}
    q = quantize_model(model)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert all(not isinstance(m, QuantizedLinear) for m in model.modules()), "original must be untouched"
    layers = [m for m in q.modules() if isinstance(m, QuantizedLinear)]
    assert len(layers) == 2 and all(m.weight_q.dtype == np.int8 for m in layers)
    ratio = Profiler().model_size_bytes(model) / Profiler().model_size_bytes(q)
    assert ratio >= 3.8, f"stored size only {ratio:.2f}x smaller"
    drop = fp32_accuracy - accuracy(q, digits.X_test, digits.y_test)
    assert drop <= 0.01, f"accuracy dropped {drop:.3f}"


def test_calibrated_model_quantizes_activations_too(trained, digits):
    model, fp32_accuracy = trained
    q = quantize_model(model, calibration_data=digits.X_train[:200])
    first = q.layers[0]
    assert first.input_scale == pytest.approx(digits.X_train[:200].max() / 127)
    assert fp32_accuracy - accuracy(q, digits.X_test, digits.y_test) <= 0.01
    x = digits.X_test[:50]
    with no_grad():
        exact = model(Tensor(x)).data
    approx = q(Tensor(x)).data
    assert np.abs(approx - exact).max() <= 0.03 * np.abs(exact).max(), "int8 activations: within 3 % of range"
    assert (approx.argmax(axis=1) == exact.argmax(axis=1)).mean() >= 0.98


def test_quantized_layer_matches_float_layer_within_quantization_error():
    layer = Linear(32, 8, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(4, 32)).astype(np.float32)
    q = QuantizedLinear(layer)
    with no_grad():
        exact = layer(Tensor(x)).data
    approx = q(Tensor(x)).data
    bound = np.abs(x).sum(axis=1, keepdims=True) * q.scale.astype(np.float32) / 2 + 1e-2 * np.abs(exact) + 1e-3
    assert np.all(np.abs(approx - exact) <= bound)
    with pytest.raises(ValueError, match=r"last dimension is 32; got shape \(4, 5\)"):
        q(Tensor(np.ones((4, 5))))


def test_bad_input_to_quantize_model_is_named():
    with pytest.raises(ValueError, match="no Linear layer"):
        quantize_model(Sequential(ReLU()))
    with pytest.raises(ValueError, match=r"non-empty batch \(N, features\); got shape \(64,\)"):
        quantize_model(Sequential(Linear(64, 2)), calibration_data=np.ones(64))
    with pytest.raises(TypeError, match="tinytorch Module; got ndarray"):
        quantize_model(np.ones(3))


def test_a_weight_that_is_not_finite_is_refused_not_stored_as_zero():
    weight = np.ones((4, 3), dtype=np.float32)
    weight[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"weight \[2, 1\] is nan: only finite weights can be quantized"):
        quantize_weights(weight)


def test_a_bias_beyond_float16_range_is_refused_not_stored_as_inf():
    layer = Linear(4, 3, rng=np.random.default_rng(0))
    layer.bias.data[1] = 1e5
    with pytest.raises(ValueError, match=r"bias \[1\] is 100000: float16 storage holds finite values up to ±65,504"):
        QuantizedLinear(layer)
