"""Transforms stack in the orders that work and refuse, clearly, the ones that cannot."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.core.training import accuracy
from tinytorch.perf import composition
from tinytorch.perf.acceleration import FusedLinearReLU, fuse_model
from tinytorch.perf.composition import check_can_apply, stages_in
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


class _InAttribute(Module):
    def __init__(self, net: Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _InList(_InAttribute):
    def __init__(self, net: Module) -> None:
        Module.__init__(self)
        self.nets = [net]

    def forward(self, x: Tensor) -> Tensor:
        return self.nets[0](x)


class _InTuple(_InAttribute):
    def __init__(self, net: Module) -> None:
        Module.__init__(self)
        self.nets = (net,)

    def forward(self, x: Tensor) -> Tensor:
        return self.nets[0](x)


class _LayersInTuple(Module):
    """An MLP that keeps its layers in a tuple rather than a Sequential."""

    def __init__(self, net: Sequential) -> None:
        super().__init__()
        self.layers = tuple(net.layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


TRANSFORMS = {
    "structured_prune": lambda m: structured_prune(m, 0.5),
    "magnitude_prune": lambda m: magnitude_prune(m, 0.5),
    "quantize_model": quantize_model,
    "fuse_model": fuse_model,
    "quantize then fuse": lambda m: fuse_model(quantize_model(m)),
}


@pytest.mark.parametrize("holder", [_InAttribute, _InList, _InTuple])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_every_transform_reaches_a_model_held_in_an_attribute_a_list_or_a_tuple(trained, digits, holder, name):
    model, _ = trained
    transform = TRANSFORMS[name]
    wrapped = transform(holder(model))
    alone = transform(model)
    kinds = sorted(type(m).__name__ for m in wrapped.modules() if m is not wrapped)
    assert kinds == sorted(type(m).__name__ for m in alone.modules()), f"{name} missed layers inside {holder.__name__}"
    x = Tensor(digits.X_test[:16])
    with no_grad():
        np.testing.assert_array_equal(wrapped(x).data, alone(x).data)


def test_quantize_model_replaces_linears_held_in_a_tuple(trained, digits):
    model, _ = trained
    quantized = quantize_model(_LayersInTuple(model))
    assert isinstance(quantized.layers, tuple)
    assert not [m for m in quantized.modules() if type(m) is Linear], "a float Linear was left in the tuple"
    assert sum(isinstance(m, QuantizedLinear) for m in quantized.layers) == 2
    x = Tensor(digits.X_test[:16])
    with no_grad():
        np.testing.assert_array_equal(quantized(x).data, quantize_model(model)(x).data)


def test_magnitude_prune_reaches_linears_held_in_a_tuple(trained):
    model, _ = trained
    assert measure_sparsity(magnitude_prune(_LayersInTuple(model), 0.5)) == pytest.approx(0.5, abs=1e-3)


def test_quantizing_a_shared_linear_keeps_it_shared():
    shared = Linear(4, 4)
    pair = _InList(Sequential(shared, ReLU(), shared))
    pair.net = shared
    quantized = quantize_model(pair)
    first, _, last = quantized.nets[0].layers
    assert isinstance(first, QuantizedLinear) and first is last is quantized.net


def test_the_rules_read_the_stage_each_layer_class_declares():
    class Pretend(Module):
        produced_by = "fuse"

    holder = _InAttribute(Sequential(Linear(2, 2), ReLU()))
    holder.extra = Pretend()
    assert stages_in(holder) == {"float", "fuse"}
    with pytest.raises(ValueError, match="cannot quantize a fused model"):
        quantize_model(holder)
    with pytest.raises(ValueError, match="unknown stage 'sparsify'; known: prune, quantize, fuse"):
        check_can_apply(holder, "sparsify")


def test_the_old_names_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="TRANSFORMS is renamed STAGES"):
        assert composition.TRANSFORMS == composition.STAGES
    holder = _InList(Linear(2, 2))
    with pytest.warns(DeprecationWarning, match="replace_children"):
        composition.replace_modules(holder, lambda m: ReLU())
    assert isinstance(holder.nets[0], ReLU)
