"""Reverse-mode automatic differentiation over a dynamic graph (Module 05).

Every differentiable operation on a :class:`~tinytorch.core.tensor.Tensor` records a
node: the tensors it read and a closure that turns the gradient of its output into
gradients of those inputs. ``backward`` visits the nodes in reverse topological order,
so each node's output gradient is complete before it is pushed to its inputs.

This module works on plain arrays and on any object shaped like a :class:`Node`; it
does not import the Tensor. The Tensor decides how a gradient is stored
(``_accumulate_grad``), so differentiation can be read, and tested, on its own.

Recording costs time and keeps intermediate arrays alive. Inference needs neither,
so :class:`no_grad` switches recording off; that is what makes a latency number
measure the model rather than the bookkeeping.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Optional, Protocol, TypeVar

import numpy as np

__all__ = ["Node", "no_grad", "enable_grad", "is_grad_enabled", "backward", "unbroadcast", "requires_graph",
           "any_requires_grad"]

_F = TypeVar("_F", bound=Callable[..., Any])


class Node(Protocol):
    """What backward needs of a value in the graph (a Tensor is one)."""

    requires_grad: bool
    _parents: tuple[Any, ...]
    _backward: Optional[Callable[[np.ndarray], tuple[Optional[np.ndarray], ...]]]

    def _accumulate_grad(self, grad: np.ndarray) -> None:
        """Add ``grad`` to this value's ``.grad``."""


class _GradMode:
    """Process-wide switch read by every op before it records a node."""

    enabled: bool = True


def is_grad_enabled() -> bool:
    """True when operations record the graph needed for ``backward``."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores the old one."""

    mode: bool

    def __enter__(self) -> None:
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._previous

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):
    """Disable graph recording, e.g. ``with no_grad(): logits = model(x)``.

    Results computed inside have ``requires_grad=False`` and hold no reference to
    their inputs, so inference neither pays for autograd nor keeps activations alive.
    """

    mode = False


class enable_grad(_SetGradMode):
    """Re-enable graph recording inside a ``no_grad`` region."""

    mode = True


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back down to ``shape``, undoing numpy broadcasting.

    An input that was broadcast was *used* once per copy, so its gradient is the sum
    of the gradients of all the copies: over prepended axes, and over axes where the
    input had size 1.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _topological_order(root: Node) -> list[Node]:
    """Tensors reachable from ``root``, each listed after every tensor it depends on.

    Iterative depth-first search: a deep graph (a long training unroll) must not hit
    Python's recursion limit.
    """
    order: list[Node] = []
    visited: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def backward(root: Node, grad: np.ndarray) -> None:
    """Propagate ``grad`` (d loss / d root) to every value in root's graph.

    Gradients accumulate into ``.grad`` as in PyTorch, so an optimizer must call
    ``zero_grad()`` between steps.
    """
    pending: dict[int, np.ndarray] = {id(root): grad}
    for node in reversed(_topological_order(root)):
        node_grad = pending.pop(id(node), None)
        if node_grad is None:
            continue
        if node.requires_grad:
            node._accumulate_grad(node_grad)
        if node._backward is None:
            continue
        for parent, parent_grad in zip(node._parents, node._backward(node_grad), strict=True):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            if key in pending:
                pending[key] = pending[key] + parent_grad
            else:
                pending[key] = parent_grad


def any_requires_grad(tensors: Iterable[Node]) -> bool:
    """A plain loop rather than ``any(generator)``: this runs once per op, and at batch
    size 1 the generator's setup alone is a visible share of a layer's time."""
    for t in tensors:
        if t.requires_grad:
            return True
    return False


def requires_graph(tensors: Iterable[Node]) -> bool:
    """Whether an op over ``tensors`` must record a node."""
    return _GradMode.enabled and any_requires_grad(tensors)
