"""The Tensor: an n-dimensional numpy array that can record how it was computed (Modules 01, 05).

Names follow PyTorch so habits carry over: ``Tensor(data, requires_grad=False)``,
``.data``, ``.shape``, ``.dtype``, ``.grad``, ``.backward()``.

Design choices a student should know about:

* Construction copies and converts to ``float32`` unless ``dtype`` says otherwise
  (``dtype=np.float64`` for gradient checks, ``dtype=np.int64`` for class labels).
  Copying means an optimizer updating a parameter in place never edits the caller's
  array; float32 is what the rest of the framework and its benchmarks assume.
* Results of operations are built by :meth:`Tensor._wrap`, which skips conversion:
  inside the framework arrays are already the right type, and a forward pass at
  batch size 1 is short enough that per-op overhead would otherwise dominate it.
* Every backward rule returns a gradient of exactly its input's shape, summing over
  broadcast axes (:func:`~tinytorch.core.autograd.unbroadcast`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from tinytorch.core.autograd import any_requires_grad, is_grad_enabled, unbroadcast
from tinytorch.core.autograd import backward as _run_backward

__all__ = ["Tensor", "Parameter", "ArrayLike"]

ArrayLike = Union["Tensor", np.ndarray, float, int, Sequence[Any]]
Axis = Union[None, int, tuple[int, ...]]
BackwardFn = Callable[[np.ndarray], tuple[Optional[np.ndarray], ...]]


def _describe(data: Any) -> str:
    if isinstance(data, np.ndarray):
        return f"ndarray of dtype {data.dtype} and shape {data.shape}"
    return type(data).__name__


class Tensor:
    """A numpy-backed array with optional gradient tracking."""

    __slots__ = ("data", "requires_grad", "grad", "_parents", "_backward", "__weakref__")
    # Make ``ndarray + Tensor`` call Tensor.__radd__ instead of numpy's loop,
    # which would silently drop the Tensor's graph.
    __array_ufunc__ = None

    data: np.ndarray
    requires_grad: bool
    grad: Optional[Tensor]
    _parents: tuple[Tensor, ...]
    _backward: Optional[BackwardFn]

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        target = np.dtype(np.float32 if dtype is None else dtype)
        try:
            array = np.array(data, dtype=target)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Tensor data must be numeric and rectangular; got {_describe(data)} "
                f"that cannot become {target}: {exc}"
            ) from None
        if target.kind not in "fiub":
            raise TypeError(f"Tensor dtype must be a real number type; got {target}")
        if requires_grad and target.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; got dtype {target}"
            )
        self.data = array
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._parents = ()
        self._backward = None

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A Tensor around ``data`` as is: no copy, no conversion, no graph."""
        out = object.__new__(Tensor)
        out.data = data
        out.requires_grad = False
        out.grad = None
        out._parents = ()
        out._backward = None
        return out

    # ------------------------------------------------------------------ facts
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same values, cut off from the graph."""
        return Tensor._wrap(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        return f"Tensor({body}{dtype}{grad})"

    # --------------------------------------------------------------- autograd
    def backward(self, grad: Optional[ArrayLike] = None) -> None:
        """Fill ``.grad`` of every tensor this one was computed from.

        With no argument the tensor must hold a single value (a loss); otherwise
        pass d(loss)/d(self) with this tensor's shape.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input had "
                "requires_grad=True, or it was computed under no_grad()"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a single-value tensor; got shape "
                    f"{self.shape}. Reduce it (e.g. .sum()) or pass grad explicitly"
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"gradient shape {seed.shape} does not match tensor shape {self.shape}")
        _run_backward(self, seed)

    def _accumulate_grad(self, grad: np.ndarray) -> None:
        """Add ``grad`` into ``.grad``; the first gradient is copied, since ``grad`` may be shared."""
        if self.grad is None:
            self.grad = Tensor._wrap(grad.astype(self.data.dtype, copy=True))
        else:
            self.grad.data += grad

    # ------------------------------------------------------------- operators
    def _lift(self, other: ArrayLike) -> Tensor:
        """Turn a scalar or array operand into a Tensor of this tensor's float type."""
        if isinstance(other, Tensor):
            return other
        dtype = self.data.dtype if self.data.dtype.kind == "f" else None
        return Tensor._wrap(np.asarray(other, dtype=dtype))

    def _binary(self, other: ArrayLike, op: Callable[[np.ndarray, np.ndarray], np.ndarray],
                name: str, grads: Callable[[np.ndarray, Tensor, Tensor, np.ndarray], tuple]) -> Tensor:
        b = self._lift(other)
        try:
            out = op(self.data, b.data)
        except ValueError:
            raise ValueError(
                f"cannot {name} tensors of shapes {self.shape} and {b.shape}: they do not broadcast"
            ) from None
        a = self
        return _result(out, (a, b), lambda g: grads(g, a, b, out))

    def __add__(self, other: ArrayLike) -> Tensor:
        return self._binary(other, np.add, "add", lambda g, a, b, out: (
            unbroadcast(g, a.shape), unbroadcast(g, b.shape)))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return self._lift(other) + self

    def __sub__(self, other: ArrayLike) -> Tensor:
        return self._binary(other, np.subtract, "subtract", lambda g, a, b, out: (
            unbroadcast(g, a.shape), unbroadcast(-g, b.shape)))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return self._lift(other) - self

    def __mul__(self, other: ArrayLike) -> Tensor:
        return self._binary(other, np.multiply, "multiply", lambda g, a, b, out: (
            unbroadcast(g * b.data, a.shape), unbroadcast(g * a.data, b.shape)))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return self._lift(other) * self

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return self._binary(other, np.true_divide, "divide", lambda g, a, b, out: (
            unbroadcast(g / b.data, a.shape), unbroadcast(-g * out / b.data, b.shape)))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return self._lift(other) / self

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        # d(a^p)/da = p a^(p-1);  d(a^p)/dp = a^p ln a  (defined for a > 0)
        def grads(g: np.ndarray, a: Tensor, p: Tensor, out: np.ndarray) -> tuple:
            da = unbroadcast(g * p.data * np.power(a.data, p.data - 1), a.shape)
            dp = None
            if p.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dp = unbroadcast(g * out * np.log(a.data), p.shape)
            return da, dp
        return self._binary(exponent, np.power, "raise to the power", grads)

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return self._lift(base) ** self

    def __neg__(self) -> Tensor:
        return _result(-self.data, (self,), lambda g: (-g,))

    def __matmul__(self, other: ArrayLike) -> Tensor:
        b = self._lift(other)
        a = self
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands; got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape}; the last dimension of the left "
                f"operand ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} dimension of the right "
                f"({b.shape[-2 if b.ndim > 1 else 0]})"
            )
        try:
            out = np.matmul(a.data, b.data)
        except ValueError:
            raise ValueError(
                f"matmul batch dimensions of shapes {a.shape} and {b.shape} do not broadcast"
            ) from None

        def grads(g: np.ndarray) -> tuple:
            # Promote 1-D operands to matrices as matmul does, then undo it.
            A = a.data if a.ndim > 1 else a.data[None, :]
            B = b.data if b.ndim > 1 else b.data[:, None]
            if b.ndim == 1:
                g = g[..., None]
            if a.ndim == 1:
                g = g[..., None, :]
            ga = unbroadcast(g @ np.swapaxes(B, -1, -2), A.shape).reshape(a.shape)
            gb = unbroadcast(np.swapaxes(A, -1, -2) @ g, B.shape).reshape(b.shape)
            return ga, gb

        return _result(out, (a, b), grads)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return self._lift(other) @ self

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        try:
            out = self.data[index]
        except IndexError as exc:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {self.shape}: {exc}") from None
        src = self

        def grads(g: np.ndarray) -> tuple:
            full = np.zeros_like(src.data)
            # np.add.at sums gradients of elements picked more than once (fancy indexing).
            np.add.at(full, index, g)
            return (full,)

        return _result(np.array(out) if np.isscalar(out) else out, (src,), grads)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        out = np.sum(self.data, axis=axis, keepdims=keepdims)
        src = self
        return _result(np.asarray(out), (src,), lambda g: (
            np.broadcast_to(_keep_dims(g, src.ndim, axis, keepdims), src.shape).copy(),))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        out = np.mean(self.data, axis=axis, keepdims=keepdims)
        src = self
        count = self.data.size // max(np.asarray(out).size, 1)
        return _result(np.asarray(out, dtype=self.dtype), (src,), lambda g: (
            np.broadcast_to(_keep_dims(g, src.ndim, axis, keepdims) / count, src.shape).copy(),))

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        if self.data.size == 0:
            raise ValueError(f"max() of an empty tensor of shape {self.shape}")
        out = np.max(self.data, axis=axis, keepdims=keepdims)
        src = self

        def grads(g: np.ndarray) -> tuple:
            # Ties share the gradient equally, so the rule is the same from either side.
            peak = _keep_dims(np.asarray(out), src.ndim, axis, keepdims)
            mask = (src.data == peak).astype(src.dtype)
            mask /= mask.sum(axis=axis, keepdims=True)
            return (mask * _keep_dims(g, src.ndim, axis, keepdims),)

        return _result(np.asarray(out), (src,), grads)

    def argmax(self, axis: Optional[int] = None) -> Tensor:
        """Indices of the maxima (not differentiable)."""
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=axis)))

    # ---------------------------------------------------------- shape changes
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} "
                             f"({self.size} elements) into shape {shape}") from None
        src = self
        return _result(out, (src,), lambda g: (g.reshape(src.shape),))

    def permute(self, *dims: int) -> Tensor:
        """Reorder all axes, as ``np.transpose(a, dims)``."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if sorted(d % self.ndim if self.ndim else d for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute({dims}) is not a permutation of the {self.ndim} axes of shape {self.shape}")
        inverse = np.argsort([d % self.ndim for d in dims])
        return _result(np.transpose(self.data, dims), (self,), lambda g: (np.transpose(g, inverse),))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (the last two by default), as ``torch.transpose``."""
        if self.ndim < 2:
            raise ValueError(f"transpose needs at least 2 dimensions; got shape {self.shape}")
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    # --------------------------------------------------------- element-wise
    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return _result(out, (self,), lambda g: (g * out,))

    def log(self) -> Tensor:
        src = self
        return _result(np.log(self.data), (src,), lambda g: (g / src.data,))

    def sqrt(self) -> Tensor:
        return self ** 0.5

    def masked_fill(self, mask: ArrayLike, value: float) -> Tensor:
        """Replace entries where ``mask`` is True by ``value`` (no gradient flows there)."""
        m = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        try:
            out = np.where(m, np.asarray(value, dtype=self.dtype), self.data)
        except ValueError:
            raise ValueError(f"mask of shape {m.shape} does not broadcast to tensor shape {self.shape}") from None
        src = self
        return _result(out, (src,), lambda g: (unbroadcast(np.where(m, 0, g), src.shape),))


def _keep_dims(g: np.ndarray, ndim: int, axis: Axis, keepdims: bool) -> np.ndarray:
    """Reinsert the axes a reduction removed so ``g`` broadcasts against its input."""
    g = np.asarray(g)
    if axis is None:
        return g.reshape((1,) * ndim)
    if keepdims:
        return g
    axes = (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(g, tuple(a % ndim for a in axes))


def _result(data: np.ndarray, parents: tuple[Tensor, ...], backward: BackwardFn) -> Tensor:
    """Wrap an op's output, recording the node only when a gradient can flow.

    Every op ends here, so the wrapping and the grad-mode test are written out inline.
    """
    out = object.__new__(Tensor)
    out.data = data
    out.grad = None
    if is_grad_enabled() and any_requires_grad(parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
    else:
        out.requires_grad = False
        out._parents = ()
        out._backward = None
    return out


class Parameter(Tensor):
    """A Tensor that a :class:`~tinytorch.core.layers.Module` owns and an optimizer updates.

    A distinct type (as ``torch.nn.Parameter``) lets ``Module.parameters()`` find the
    learnable state without mistaking a cached input or a mask for it.
    """

    __slots__ = ()

    def __init__(self, data: ArrayLike, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]
