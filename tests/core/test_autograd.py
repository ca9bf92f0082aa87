"""Every differentiable op's backward rule against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch import Tensor, enable_grad, no_grad
from tinytorch.core.activations import gelu, relu, sigmoid, softmax, tanh
from tinytorch.core.autograd import is_grad_enabled, unbroadcast

from .gradcheck import check_gradients

finite = st.floats(-3, 3, allow_nan=False, width=64)
positive = st.floats(0.2, 3, allow_nan=False, width=64)


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy = finite) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=elements)


two_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@st.composite
def broadcast_pair(draw: st.DrawFn, elements: st.SearchStrategy = finite) -> tuple[np.ndarray, np.ndarray]:
    shapes = draw(two_broadcastable).input_shapes
    return draw(arrays(shapes[0], elements)), draw(arrays(shapes[1], elements))


@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
], ids=["add", "sub", "mul"])
@given(pair=broadcast_pair())
def test_binary_ops_under_broadcasting(op, pair):
    check_gradients(op, *pair)


@given(pair=broadcast_pair(positive))
def test_division_under_broadcasting(pair):
    check_gradients(lambda a, b: a / b, *pair)


@given(pair=broadcast_pair(positive))
def test_power_with_tensor_base_and_exponent(pair):
    check_gradients(lambda a, b: a ** b, *pair)


@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), elements=positive),
       p=st.sampled_from([2, 3, 0.5, -1.0, -2.5]))
def test_power_with_scalar_exponent(a, p):
    check_gradients(lambda x: x ** p, a)


@given(a=arrays((2, 3)))
def test_reflected_scalar_ops(a):
    check_gradients(lambda x: 2.0 - x + 3.0 * x - (1.5 / (x * x + 1.0)) + 2.0 ** x, a)


@given(a=arrays((3, 2)))
def test_negation(a):
    check_gradients(lambda x: -x, a)


@st.composite
def matmul_operands(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2)).input_shapes
    left = draw(st.sampled_from([batch[0] + (n, k), (k,)]))
    right = draw(st.sampled_from([batch[1] + (k, m), (k,)]))
    return draw(arrays(left)), draw(arrays(right))


@given(operands=matmul_operands())
def test_matmul_including_batched_broadcast_and_vectors(operands):
    check_gradients(lambda a, b: a @ b, *operands)


@st.composite
def reduction_case(draw: st.DrawFn):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.one_of(
        st.none(),
        st.integers(-len(shape), len(shape) - 1),
        st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple),
    ))
    return draw(arrays(shape)), axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@given(case=reduction_case())
def test_reductions_with_axis_and_keepdims(name, case):
    a, axis, keepdims = case
    if name == "max":
        # Finite differences are wrong at a tie; break ties with distinct values.
        a = a + np.arange(a.size).reshape(a.shape) * 1e-3
    check_gradients(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), a)


def test_max_splits_gradient_between_ties():
    x = Tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5]])


@given(a=arrays((2, 3, 2)))
def test_reshape_permute_transpose(a):
    check_gradients(lambda x: x.reshape(3, 4), a)
    check_gradients(lambda x: x.permute(2, 0, 1) * 1.0, a)
    check_gradients(lambda x: x.transpose(0, 2), a)
    check_gradients(lambda x: x.T, a)


@pytest.mark.parametrize("index", [
    (slice(None), 1),
    (Ellipsis, slice(0, 2)),
    np.array([0, 2, 0, 0]),  # repeated rows must accumulate
    (np.array([0, 1, 1]), np.array([2, 0, 2])),
    -1,
], ids=["slice", "ellipsis", "repeated-rows", "fancy-pairs", "negative"])
def test_indexing(index):
    a = np.random.default_rng(1).normal(size=(3, 3))
    check_gradients(lambda x: x[index], a)


@given(a=arrays((2, 3)))
def test_exp_and_log(a):
    check_gradients(lambda x: x.exp(), a)
    check_gradients(lambda x: (x * x + 0.5).log(), a)
    check_gradients(lambda x: (x * x + 0.5).sqrt(), a)


def test_masked_fill_blocks_gradient_where_masked():
    mask = np.array([[True, False, False], [False, True, False]])
    a = np.random.default_rng(2).normal(size=(2, 3))
    check_gradients(lambda x: x.masked_fill(mask, -7.0), a)
    x = Tensor(a, requires_grad=True, dtype=np.float64)
    x.masked_fill(mask, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, (~mask).astype(float))


@pytest.mark.parametrize("fn", [relu, sigmoid, tanh, gelu, lambda x: softmax(x, 0), lambda x: softmax(x, -1)],
                         ids=["relu", "sigmoid", "tanh", "gelu", "softmax-axis0", "softmax-last"])
@given(a=arrays((3, 4), st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3)))
def test_activations(fn, a):
    check_gradients(fn, a)


def test_unbroadcast_sums_over_stretched_axes():
    g = np.ones((4, 2, 3))
    assert unbroadcast(g, (2, 1)).tolist() == [[12.0], [12.0]]
    assert unbroadcast(g, ()).shape == ()
    assert unbroadcast(g, (4, 2, 3)) is g


def test_shared_input_gradient_accumulates_over_paths():
    x = Tensor([2.0], requires_grad=True)
    y = x * x + x * 3.0  # dy/dx = 2x + 3 = 7; x is reached by three edges
    y.backward()
    assert x.grad.data.tolist() == [7.0]


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert x.grad.data.tolist() == [4.0, 4.0]


def test_deep_graph_does_not_hit_recursion_limit():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.backward()
    assert x.grad.data.tolist() == [1.0]


def test_no_grad_records_nothing_and_restores_mode():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (w * 3.0).sum()
        with enable_grad():
            z = (w * 3.0).sum()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y._backward is None
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_mode_after_an_exception_and_works_as_decorator():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert is_grad_enabled()

    @no_grad()
    def infer(t: Tensor) -> Tensor:
        return t * 2.0

    assert not infer(Tensor([1.0], requires_grad=True)).requires_grad
    assert is_grad_enabled()


def test_backward_needs_scalar_or_explicit_gradient():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match tensor shape \(1, 2\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((1, 2)))
    assert x.grad.data.tolist() == [[2.0, 2.0]]
