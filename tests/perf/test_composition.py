"""Transforms stack in the orders that work and refuse, clearly, the ones that cannot."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Tensor, no_grad
from tinytorch.core.training import accuracy
from tinytorch.perf.acceleration import FusedLinearReLU, fuse_model
from tinytorch.perf.compression import magnitude_prune, measure_sparsity, structured_prune
from tinytorch.perf.profiling import Profiler
from tinytorch.perf.quantization import QuantizedLinear, quantize_model


def test_prune_quantize_fuse_stack_compounds(trained, digits):
    model, _ = trained
    stack = fuse_model(quantize_model(magnitude_prune(structured_prune(model, 0.25), 0.3)))
    kinds = [type(m).__name__ for m in stack.layers]
    assert kinds == ["FusedLinearReLU", "QuantizedLinear"]
    assert isinstance(stack.layers[0].linear, QuantizedLinear)
    p = Profiler()
    assert p.model_size_bytes(model) / p.model_size_bytes(stack) > 3.8 / 0.75 * 0.95
    assert measure_sparsity(stack) >= 0.29, "int8 codes keep the pruned zeros"
    assert accuracy(stack, digits.X_test, digits.y_test) >= 0.9
    x = Tensor(digits.X_test[:20])
    unfused = quantize_model(magnitude_prune(structured_prune(model, 0.25), 0.3))
    with no_grad():
        np.testing.assert_array_equal(stack(x).data, unfused(x).data)


@pytest.mark.parametrize("build, fragment", [
    (lambda m: structured_prune(quantize_model(m), 0.5), "cannot prune a quantized model.*Prune first"),
    (lambda m: magnitude_prune(fuse_model(m), 0.5), "cannot prune a fused model.*Prune before fusing"),
    (lambda m: quantize_model(fuse_model(m)), "cannot quantize a fused model.*Quantize before fusing"),
    (lambda m: quantize_model(quantize_model(m)), "already quantized"),
    (lambda m: fuse_model(fuse_model(m)), "already fused"),
])
def test_orders_that_cannot_work_are_refused_with_the_right_order(trained, build, fragment):
    model, _ = trained
    with pytest.raises(ValueError, match=fragment):
        build(model)


def test_every_transform_leaves_its_input_untouched(trained):
    model, _ = trained
    before = model.state_dict()
    for transform in (lambda m: quantize_model(m), lambda m: fuse_model(m),
                      lambda m: structured_prune(m, 0.5), lambda m: magnitude_prune(m, 0.5)):
        transform(model)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert not any(isinstance(m, FusedLinearReLU) for m in model.modules())
