"""Layers (Module 03): the ``Module`` base class and the building blocks made from it.

A :class:`Module` finds its learnable state by looking at its own attributes: every
:class:`~tinytorch.core.tensor.Parameter`, every sub-module and every list of
sub-modules. There is no registration call to forget, and ``state_dict()`` names
follow the attribute path (``layers.0.weight``), so a saved file reads like the code.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np

from tinytorch.core.autograd import requires_graph
from tinytorch.core.seeding import default_rng
from tinytorch.core.tensor import Parameter, Tensor

__all__ = ["Module", "Linear", "Sequential", "Dropout", "LayerNorm", "Embedding"]

StateDict = dict[str, np.ndarray]


class Module:
    """Base class: subclasses define ``forward``; calling the module calls it.

    ``training`` is a class-level default, so a subclass that forgets
    ``super().__init__()`` still works.
    """

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---------------------------------------------------------- traversal
    # A child is a Module held in an attribute, or an item of a list or tuple held in
    # one. named_children reads that definition and replace_children writes through it:
    # two walkers with two definitions would let a transform miss what a count sees.
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def replace_children(self, replace: Callable[["Module"], Optional["Module"]]) -> None:
        """Swap, in place and at any depth, each module ``m`` below this one for ``replace(m)``.

        Where ``replace`` returns None the module stays and its own children are visited;
        a replacement is not visited. A module held in two places is asked about once and
        both places get the one answer, so a layer shared by two parents stays shared.
        Children in lists are replaced item by item; a tuple, being immutable, is rebuilt
        (a named tuple as its own type).
        """
        answers: dict[int, Module] = {}
        pending: list[Module] = [self]

        def swap(child: Any) -> Any:
            if not isinstance(child, Module):
                return child
            if id(child) not in answers:
                new = replace(child)
                answers[id(child)] = child if new is None else new
                if new is None:
                    pending.append(child)
            return answers[id(child)]

        while pending:
            module = pending.pop()
            for name, value in list(vars(module).items()):
                if isinstance(value, Module):
                    setattr(module, name, swap(value))
                elif isinstance(value, list):
                    value[:] = [swap(item) for item in value]
                elif isinstance(value, tuple):
                    items = [swap(item) for item in value]
                    if any(new is not old for new, old in zip(items, value, strict=True)):
                        rebuilt = value._make(items) if hasattr(value, "_make") else type(value)(items)
                        setattr(module, name, rebuilt)

    def modules(self) -> Iterator["Module"]:
        """This module and every module inside it, depth first, each once.

        A module held by two parents is one module: a transform that visited it twice
        would prune, count or quantize it twice.
        """
        seen: set[int] = set()
        pending: list[Module] = [self]
        while pending:
            module = pending.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            pending.extend(reversed([child for _, child in module.named_children()]))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two layers appears once."""
        seen: set[int] = set()
        for name, param in self._walk(prefix, Parameter):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def _walk(self, prefix: str, kind: type) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if isinstance(value, kind):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._walk(f"{prefix}{name}.", kind)

    # ------------------------------------------------------------- buffers
    def register_buffer(self, name: str, array: np.ndarray, parameter: bool = False) -> None:
        """Keep a non-learnable array in the state dict.

        ``parameter=True`` marks a buffer that stands for model weights in another
        storage format (an int8 weight matrix): it counts towards the parameter count,
        unlike a scale or a running statistic.
        """
        vars(self).setdefault("_buffers", {})[name] = parameter
        setattr(self, name, array)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, bool]]:
        """``(dotted name, array, stands for weights)`` for every registered buffer."""
        for name, is_weight in vars(self).get("_buffers", {}).items():
            yield prefix + name, getattr(self, name), is_weight
        for child_name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{child_name}.")

    # --------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> "Module":
        """Switch every module to training behaviour (dropout active); returns self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Switch every module to inference behaviour; returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # --------------------------------------------------------------- state
    def state_dict(self) -> StateDict:
        """Copies of every parameter and buffer, keyed by dotted attribute path."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, np.array(b, copy=True)) for name, b, _ in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy values into the existing arrays, so optimizers holding them stay valid.

        All keys and shapes are checked before anything is written: a mismatched file
        leaves the model as it was.
        """
        targets: dict[str, np.ndarray] = {n: p.data for n, p in self.named_parameters()}
        targets.update((name, b) for name, b, _ in self.named_buffers())
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise KeyError(
                f"state dict does not match {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        values = {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
        for name, target in targets.items():
            if values[name].shape != target.shape:
                raise ValueError(
                    f"state dict entry {name!r} has shape {values[name].shape}; "
                    f"the model expects {target.shape}"
                )
        for name, target in targets.items():
            target[...] = values[name]

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the state dict as an ``.npz`` of plain arrays (no pickle)."""
        state: dict[str, Any] = self.state_dict()
        np.savez(path, **state)

    def load(self, path: Union[str, os.PathLike]) -> None:
        """Read a file written by :meth:`save`; refuses pickled objects."""
        with np.load(path, allow_pickle=False) as archive:
            self.load_state_dict({k: archive[k] for k in archive.files})

    def __repr__(self) -> str:
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        inner = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({inner})"
        return f"{type(self).__name__}({inner}\n" + "\n".join(children) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer; got {value!r}")
    return int(value)


class Linear(Module):
    """y = x @ W + b, with ``weight`` of shape ``(in_features, out_features)``.

    The weight is stored input-major (unlike PyTorch's ``(out, in)``) so the forward
    pass is a plain ``x @ W`` with no transpose. Initialisation is PyTorch's default:
    weight and bias uniform in ±1/√in_features, which keeps the output variance of a
    layer close to its input's at the start of training.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        gen = default_rng(rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.weight = Parameter(gen.uniform(-bound, bound, (self.in_features, self.out_features)))
        self.bias = Parameter(gen.uniform(-bound, bound, self.out_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects inputs whose last dimension is {self.in_features}; got shape {x.shape}"
            )
        if not requires_graph((x, self.weight)):
            # Inference path: one matmul and an in-place bias add, no graph, no temporaries.
            out = x.data @ self.weight.data
            if self.bias is not None:
                out += self.bias.data
            return Tensor._wrap(out)
        out = x @ self.weight
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def __repr__(self) -> str:
        return f"Linear({self.extra_repr()})"


class Sequential(Module):
    """Applies its modules in order; ``Sequential(Linear(64, 128), ReLU(), Linear(128, 10))``."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential argument {i} must be a Module; got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        # forward() directly: __call__ only forwards to it, and at batch size 1 the
        # extra call per layer is measurable.
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


class Dropout(Module):
    """Zero each activation with probability ``p`` while training (inverted dropout).

    Survivors are scaled by 1/(1-p) during training so that evaluation is the identity
    and needs no rescaling.
    """

    def __init__(self, p: float = 0.5, rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1); got {p!r}")
        self.p = float(p)
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = default_rng(self.rng).random(x.shape) >= self.p
        return x * (keep / (1.0 - self.p)).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise the last dimension to zero mean and unit variance, then scale and shift."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.normalized_shape = _positive_int(normalized_shape, "normalized_shape")
        self.eps = float(eps)
        self.weight = Parameter(np.ones(self.normalized_shape))
        self.bias = Parameter(np.zeros(self.normalized_shape))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}) got input of shape {x.shape}")
        centred = x - x.mean(axis=-1, keepdims=True)
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / (variance + self.eps).sqrt() * self.weight + self.bias


class Embedding(Module):
    """A lookup table: integer token ids → rows of ``weight`` (num_embeddings, embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim")
        self.weight = Parameter(default_rng(rng).normal(0.0, 0.02, (self.num_embeddings, self.embedding_dim)))

    def forward(self, ids: Union[Tensor, np.ndarray]) -> Tensor:
        idx = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding expects integer token ids; got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise IndexError(
                f"token ids must be in [0, {self.num_embeddings}); got values from {idx.min()} to {idx.max()}"
            )
        return self.weight[idx]
