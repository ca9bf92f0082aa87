"""INT8 quantization (Module 15): weights stored as one byte each, not floats that look like it.

Scheme: symmetric, per output channel. Column j of a ``(in, out)`` weight matrix gets
its own scale s_j = max|W[:, j]| / 127 and is stored as q = round(W / s_j) in int8, so
a channel of small weights is not crushed by one large weight elsewhere. Error per
weight is at most s_j / 2.

What is stored, and why each choice:

* int8 weights: 1 byte each, the point of the exercise.
* scales and biases in float16: one value per output channel. In float32 these small
  vectors alone would cap the digits MLP's compression at 3.6×; a scale needs only
  about three significant digits (float16 gives 3.3 for columns whose largest weight
  is above 0.008, fewer below), far finer than int8's 1/254 steps.
* optional activation scales (``calibration_data``): one float32 per layer, the
  largest |input| seen on calibration data. With them, inputs are rounded to int8 as
  well, and ``x_q @ W_q`` is an integer product; it is computed exactly in float32
  BLAS (every partial sum of int8 × int8 products stays below 2^24 for layers up to
  1,040 inputs wide), then rescaled by s_x · s_j.

Whether this is faster than float32 depends on the machine: numpy has no int8 matrix
kernel, so the int8 weights are widened on every call. The benchmarks report whatever
it measures.
"""

from __future__ import annotations

import copy
from typing import ClassVar, Optional, Union

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor
from tinytorch.perf.composition import check_can_apply

__all__ = ["quantize_weights", "dequantize_weights", "QuantizedLinear", "quantize_model", "INT8_MAX"]

INT8_MAX = 127
# Exact integer accumulation in float32 needs in_features * 127 * 127 < 2**24.
_MAX_EXACT_IN_FEATURES = 2**24 // (INT8_MAX * INT8_MAX)


def quantize_weights(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel symmetric int8 of an ``(in, out)`` matrix → (int8 codes, float16 scales).

    An all-zero column gets scale 1 (any scale represents it exactly).
    """
    w = np.asarray(weight, dtype=np.float32)
    if w.ndim != 2:
        raise ValueError(f"quantize_weights expects an (in, out) matrix; got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        row, column = (int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise ValueError(f"weight [{row}, {column}] is {w[row, column]}: only finite weights can be quantized")
    peak = np.abs(w).max(axis=0)
    raw = peak / INT8_MAX
    f16 = np.finfo(np.float16)
    if np.any(raw > f16.max):
        column = int(np.argmax(raw))
        raise ValueError(f"weight column {column} reaches {peak[column]:.3g}: its scale exceeds float16's range")
    # float16 subnormals keep scales down to 6e-8 (columns peaking near 1e-5); only
    # below that would a scale round to zero, so clamp there.
    scale = np.where(peak > 0, np.maximum(raw, f16.smallest_subnormal), 1.0).astype(np.float16)
    # Rounding to float16 may have lowered a scale enough that the column's largest
    # weight would need code 128+ and be clipped; one float16 step up always fixes it.
    clipped = peak / scale.astype(np.float32) > INT8_MAX + 0.5
    scale[clipped] = np.nextafter(scale[clipped], np.float16(np.inf))
    # Round with the float16 scale actually stored, so the stored pair reconstructs best.
    q = np.clip(np.rint(w / scale.astype(np.float32)), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def dequantize_weights(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Float32 weights represented by int8 codes and per-channel scales."""
    return q.astype(np.float32) * scale.astype(np.float32)


class QuantizedLinear(Module):
    """Inference-only Linear with int8 weights; built from a trained :class:`Linear`."""

    produced_by: ClassVar[str] = "quantize"
    # Set by register_buffer, so that they are in the state dict.
    weight_q: np.ndarray
    scale: np.ndarray
    bias: Optional[np.ndarray]
    input_scale: Optional[np.ndarray]

    def __init__(self, linear: Linear, input_scale: Optional[float] = None) -> None:
        super().__init__()
        if not isinstance(linear, Linear):
            raise TypeError(f"QuantizedLinear is built from a Linear layer; got {type(linear).__name__}")
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        q, scale = quantize_weights(linear.weight.data)
        self.register_buffer("weight_q", q, parameter=True)
        self.register_buffer("scale", scale)
        if linear.bias is not None:
            bias = np.asarray(linear.bias.data, dtype=np.float32)
            outside = ~np.isfinite(bias) | (np.abs(bias) > np.finfo(np.float16).max)
            if np.any(outside):
                index = int(np.flatnonzero(outside)[0])
                raise ValueError(f"bias [{index}] is {bias[index]:g}: float16 storage holds finite values up to "
                                 f"±{float(np.finfo(np.float16).max):,.0f}")
            self.register_buffer("bias", bias.astype(np.float16), parameter=True)
        else:
            self.bias = None
        if input_scale is not None:
            if self.in_features > _MAX_EXACT_IN_FEATURES:
                raise ValueError(
                    f"activation quantization is exact only up to {_MAX_EXACT_IN_FEATURES} inputs; "
                    f"this layer has {self.in_features}"
                )
            if not input_scale > 0:
                raise ValueError(f"input_scale must be positive; got {input_scale!r}")
            self.register_buffer("input_scale", np.array(input_scale, dtype=np.float32))
        else:
            self.input_scale = None

    def forward(self, x: Union[Tensor, np.ndarray]) -> Tensor:
        data = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
        if data.ndim == 0 or data.shape[-1] != self.in_features:
            raise ValueError(
                f"QuantizedLinear({self.in_features}, {self.out_features}) expects inputs whose last "
                f"dimension is {self.in_features}; got shape {data.shape}"
            )
        if self.input_scale is None:
            out = data @ self.weight_q          # int8 widened to float32 by numpy
            out *= self.scale
        else:
            s = self.input_scale
            x_q = np.clip(np.rint(data / s), -INT8_MAX, INT8_MAX).astype(np.float32)
            out = x_q @ self.weight_q
            out *= self.scale * s
        if self.bias is not None:
            out += self.bias
        return Tensor._wrap(out)

    def extra_repr(self) -> str:
        act = "" if self.input_scale is None else ", int8 activations"
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights{act}"


def _input_peaks(model: Module, linears: list[Linear], calibration_data: np.ndarray) -> dict[int, float]:
    """Largest |input| each Linear sees when the model runs on ``calibration_data``."""
    peaks: dict[int, float] = {}
    for layer in linears:
        def spy(x: Tensor, _layer: Linear = layer, _forward=layer.forward) -> Tensor:
            peaks[id(_layer)] = max(peaks.get(id(_layer), 0.0), float(np.abs(x.data).max()))
            return _forward(x)
        layer.forward = spy  # type: ignore[method-assign]
    try:
        with no_grad():
            model(Tensor(calibration_data))
    finally:
        for layer in linears:
            del layer.forward
    return peaks


def quantize_model(model: Module, calibration_data: Optional[np.ndarray] = None) -> Module:
    """A copy of ``model`` with every Linear replaced by a QuantizedLinear; ``model`` is untouched.

    Without calibration data only weights are int8 (activations stay float32). With it,
    each layer's input range is measured on that data and inputs are quantized too.
    """
    check_can_apply(model, "quantize")
    quantized = copy.deepcopy(model)
    linears = [m for m in quantized.modules() if isinstance(m, Linear)]
    if not linears:
        raise ValueError(f"quantize_model found no Linear layer to quantize in {type(model).__name__}")
    peaks: dict[int, float] = {}
    if calibration_data is not None:
        data = np.asarray(calibration_data, dtype=np.float32)
        if data.ndim < 2 or data.shape[0] == 0:
            raise ValueError(f"calibration_data must be a non-empty batch (N, features); got shape {data.shape}")
        peaks = _input_peaks(quantized, linears, data)

    def replace(m: Module) -> Optional[Module]:
        if not isinstance(m, Linear):
            return None
        peak = peaks.get(id(m))
        scale = (peak / INT8_MAX if peak else 1.0 / INT8_MAX) if calibration_data is not None else None
        return QuantizedLinear(m, input_scale=scale)

    quantized.replace_children(replace)
    return quantized.eval()
