"""Pruning: exact counts, smallest magnitudes first, shapes that really shrink, exact survivors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU, Tanh
from tinytorch.core.layers import Dropout, Linear, Module, Sequential
from tinytorch.core.training import digits_mlp
from tinytorch.perf.compression import magnitude_prune, measure_sparsity, structured_prune
from tinytorch.perf.profiling import Profiler


def deep_mlp(seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(Linear(6, 10, rng=rng), Tanh(), Linear(10, 8, rng=rng), ReLU(), Dropout(0.1),
                      Linear(8, 3, rng=rng))


def all_weights(model) -> np.ndarray:
    return np.concatenate([m.weight.data.ravel() for m in model.modules() if isinstance(m, Linear)])


@given(sparsity=st.floats(0.0, 0.99))
def test_magnitude_prune_zeroes_exactly_the_requested_smallest_weights(sparsity):
    model = deep_mlp()
    pruned = magnitude_prune(model, sparsity)
    before, after = all_weights(model), all_weights(pruned)
    k = round(sparsity * before.size)
    assert np.count_nonzero(after == 0) == k
    assert measure_sparsity(pruned) == pytest.approx(k / before.size)
    if 0 < k < before.size:
        zeroed = np.abs(before[after == 0])
        kept = np.abs(before[after != 0])
        assert zeroed.max() <= kept.min(), "a larger weight was pruned while a smaller one survived"
    np.testing.assert_array_equal(after[after != 0], before[after != 0])
    assert measure_sparsity(model) == 0.0, "the input model must be untouched"


def test_magnitude_prune_is_global_across_layers():
    model = Sequential(Linear(2, 2), ReLU(), Linear(2, 2))
    model.layers[0].weight.data[:] = [[0.01, 0.02], [0.03, 0.04]]
    model.layers[2].weight.data[:] = [[1.0, 2.0], [3.0, 4.0]]
    pruned = magnitude_prune(model, 0.5)
    assert (pruned.layers[0].weight.data == 0).all() and (pruned.layers[2].weight.data != 0).all()


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, True, "0.5", None])
def test_fractions_outside_zero_one_are_refused(bad):
    for prune in (magnitude_prune, structured_prune):
        with pytest.raises(ValueError, match=r"in \[0, 1\); got"):
            prune(deep_mlp(), bad)


def test_structured_prune_shrinks_shapes_and_keeps_survivors_exact():
    model = deep_mlp()
    pruned = structured_prune(model, 0.5)
    shapes = [m.weight.shape for m in pruned.modules() if isinstance(m, Linear)]
    assert shapes == [(6, 5), (5, 4), (4, 3)]
    assert [m.weight.shape for m in model.modules() if isinstance(m, Linear)] == [(6, 10), (10, 8), (8, 3)]

    # Reference: the original network with the removed units' outgoing weights zeroed.
    reference = deep_mlp()
    l0, l1, l2 = [m for m in reference.modules() if isinstance(m, Linear)]
    kept0 = [j for j in range(10)
             if any(np.array_equal(l0.weight.data[:, j], c) for c in pruned.layers[0].weight.data.T)]
    kept1 = [j for j in range(8)
             if any(np.array_equal(l1.weight.data[kept0, j], c) for c in pruned.layers[2].weight.data.T)]
    assert len(kept0) == 5 and len(kept1) == 4
    l1.weight.data[[j for j in range(10) if j not in kept0], :] = 0.0
    l2.weight.data[[j for j in range(8) if j not in kept1], :] = 0.0
    x = Tensor(np.random.default_rng(3).normal(size=(7, 6)))
    reference.eval()
    pruned.eval()
    with no_grad():
        np.testing.assert_allclose(pruned(x).data, reference(x).data, rtol=1e-5, atol=1e-6)


def test_structured_prune_removes_the_lowest_norm_units():
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    model.layers[0].weight.data[:] = np.array([[5.0, 0.1, 3.0, 0.2]] * 3)
    pruned = structured_prune(model, 0.5)
    np.testing.assert_array_equal(pruned.layers[0].weight.data[0], [5.0, 3.0])


def test_structured_prune_cuts_flops_and_size_and_keeps_one_unit():
    model = digits_mlp(128)
    pruned = structured_prune(model, 0.5)
    p = Profiler()
    x = np.ones((1, 64), np.float32)
    assert p.count_flops(pruned, x) == 2 * (64 * 64 + 64 * 10)
    assert p.model_size_bytes(pruned) == 4 * (64 * 64 + 64 + 64 * 10 + 10)
    assert structured_prune(model, 0.999).layers[0].out_features == 1


def test_structured_prune_needs_a_visible_consumer():
    with pytest.raises(ValueError, match="no Linear -> elementwise -> Linear chain"):
        structured_prune(Sequential(Linear(4, 2)), 0.5)


class TwoHeads(Module):
    """One trunk Linear shared by two Sequentials, as in a multi-task model."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        trunk = Linear(5, 8, rng=rng)
        self.first = Sequential(trunk, ReLU(), Linear(8, 3, rng=rng))
        self.second = Sequential(trunk, ReLU(), Dropout(0.1), Linear(8, 2, rng=rng))

    def forward(self, x: Tensor) -> Tensor:
        return self.first(x)


def test_a_linear_shared_by_two_sequentials_is_pruned_once_with_both_consumers():
    model = TwoHeads(np.random.default_rng(3))
    pruned = structured_prune(model, 0.5)
    trunk = pruned.first.layers[0]
    assert trunk is pruned.second.layers[0], "the copy must keep the trunk shared"
    assert trunk.weight.shape == (5, 4), "8 units, half removed once (not 8 -> 4 -> 2)"
    keep = np.sort(np.argsort(np.linalg.norm(model.first.layers[0].weight.data, axis=0), kind="stable")[4:])
    np.testing.assert_array_equal(trunk.weight.data, model.first.layers[0].weight.data[:, keep])
    for head, original in ((pruned.first.layers[2], model.first.layers[2]),
                           (pruned.second.layers[3], model.second.layers[3])):
        assert head.in_features == 4
        np.testing.assert_array_equal(head.weight.data, original.weight.data[keep, :])
    x = Tensor(np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32))
    with no_grad():
        assert pruned.first(x).shape == (2, 3) and pruned.second(x).shape == (2, 2)


def test_a_unit_used_out_of_view_is_kept():
    rng = np.random.default_rng(4)
    hidden, head = Linear(5, 8, rng=rng), Linear(8, 3, rng=rng)
    model = Sequential(hidden, ReLU(), head)
    model.probe = hidden            # read elsewhere too: its outputs are not only head's inputs
    with pytest.raises(ValueError, match="no Linear -> elementwise -> Linear chain"):
        structured_prune(model, 0.5)
    shared_head = Linear(8, 3, rng=rng)
    fed_twice = Module()
    fed_twice.a = Sequential(Linear(5, 8, rng=rng), ReLU(), shared_head)
    fed_twice.b = Sequential(Linear(4, 8, rng=rng), ReLU(), shared_head)
    with pytest.raises(ValueError, match="no Linear -> elementwise -> Linear chain"):
        structured_prune(fed_twice, 0.5)   # two producers would need the same units removed


def test_shared_layers_are_counted_once_by_sparsity_and_magnitude_pruning():
    model = TwoHeads(np.random.default_rng(5))
    weights = 5 * 8 + 8 * 3 + 8 * 2
    assert sum(m.weight.data.size for m in model.modules() if isinstance(m, Linear)) == weights
    pruned = magnitude_prune(model, 0.25)
    zeros = sum(int(np.count_nonzero(m.weight.data == 0)) for m in pruned.modules() if isinstance(m, Linear))
    assert zeros == round(0.25 * weights)
    assert measure_sparsity(pruned) == pytest.approx(zeros / weights)
