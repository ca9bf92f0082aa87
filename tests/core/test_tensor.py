"""Tensor construction, forward values, dtype rules and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Parameter, Tensor


def test_defaults_to_float32_and_copies_its_input():
    source = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = Tensor(source)
    assert t.dtype == np.float32 and t.shape == (2, 3) and t.ndim == 2 and t.size == 6
    t.data[0, 0] = 99.0
    assert source[0, 0] == 0.0, "a Tensor must not alias the caller's array"
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(3).shape == ()
    assert Tensor(t).dtype == np.float32 and Tensor(t) is not t


def test_explicit_dtype_is_kept():
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64
    assert Tensor([1.5], dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad, fragment", [
    ("abc", "str"),
    ([[1, 2], [3]], "list"),
    ({"a": 1}, "dict"),
])
def test_non_numeric_or_ragged_data_is_refused_with_its_type(bad, fragment):
    with pytest.raises(TypeError, match=fragment):
        Tensor(bad)


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], requires_grad=True, dtype=np.int64)
    with pytest.raises(TypeError, match="real number"):
        Tensor([1], dtype=np.complex64)


def test_arithmetic_matches_numpy():
    a = np.array([[1.0, -2.0, 3.0]], dtype=np.float32)
    b = np.array([[0.5], [4.0]], dtype=np.float32)
    A, B = Tensor(a), Tensor(b)
    for got, want in [(A + B, a + b), (A - B, a - b), (A * B, a * b), (A / B, a / b), (-A, -a),
                      (A ** 2, a ** 2), (2.0 * A, 2 * a), (1.0 - A, 1 - a), (1.0 / B, 1 / b),
                      (A.T @ A, a.T @ a), (A.exp(), np.exp(a)), (B.log(), np.log(b))]:
        np.testing.assert_allclose(got.data, want, rtol=1e-6)
        assert got.dtype == np.float32, "float32 inputs and Python scalars must stay float32"


def test_reductions_and_shapes():
    x = Tensor(np.arange(24).reshape(2, 3, 4))
    assert x.sum().shape == () and x.sum().item() == 276
    assert x.mean(axis=1).shape == (2, 4)
    assert x.max(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert x.reshape(6, 4).shape == (6, 4) and x.reshape((4, -1)).shape == (4, 6)
    assert x.transpose(0, 1).shape == (3, 2, 4) and x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.T.shape == (4, 3, 2)
    assert x[0, :, 1].data.tolist() == [1, 5, 9]
    assert x.argmax(axis=-1).data.tolist() == [[3, 3, 3], [3, 3, 3]]


def test_numpy_array_on_the_left_defers_to_the_tensor():
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * w
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    assert w.grad.data.tolist() == [3.0, 4.0]
    assert np.asarray(w).tolist() == [1.0, 2.0]


def test_shape_errors_name_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"add tensors of shapes \(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\).*\(3\).*\(2\)"):
        a @ a
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match="not a permutation"):
        a.permute(0, 0)
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        a[5]
    with pytest.raises(ValueError, match="one element"):
        a.item()


def test_detach_cuts_the_graph():
    w = Tensor([1.0], requires_grad=True)
    d = (w * 2.0).detach()
    assert not d.requires_grad and d._parents == ()


def test_parameter_requires_grad_and_reprs():
    p = Parameter([1.0, 2.0])
    assert p.requires_grad and isinstance(p, Tensor)
    assert repr(p).startswith("Parameter([1., 2.]")
    assert repr(Tensor([1], dtype=np.int64)) == "Tensor([1], dtype=int64)"
