"""Pruning (Module 16): remove weights, and be clear about what that buys.

Two kinds, with different pay-offs:

* ``magnitude_prune`` zeroes the smallest-magnitude weights across the whole model
  (global, unstructured). The matrices keep their shape and are stored dense, so size
  and speed do not change; what it shows is how much of a network is redundant. The
  zeros pay off only in a sparse format or kernel, which numpy does not have.
* ``structured_prune`` removes whole hidden units: the unit's column of one Linear and
  the matching row of the next. Matrices get smaller, so the model is smaller *and*
  faster, and the remaining units compute exactly what they computed before.

Both return a new model; the input model is not modified.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Optional

import numpy as np

from tinytorch.core.activations import GELU, ReLU, Sigmoid, Tanh
from tinytorch.core.layers import Dropout, Linear, Module, Sequential
from tinytorch.core.tensor import Parameter
from tinytorch.perf.composition import check_can_apply

__all__ = ["measure_sparsity", "magnitude_prune", "structured_prune"]

# Modules that act on each unit independently: a hidden unit can be removed across them.
_ELEMENTWISE = (ReLU, Sigmoid, Tanh, GELU, Dropout)


def _weight_matrices(model: Module) -> list[np.ndarray]:
    arrays = [m.weight.data for m in model.modules() if isinstance(m, Linear)]
    arrays += [b for name, b, is_weight in model.named_buffers() if is_weight and b.ndim == 2]
    return arrays


def measure_sparsity(model: Module) -> float:
    """Fraction of weight-matrix entries that are exactly zero (biases excluded)."""
    matrices = _weight_matrices(model)
    if not matrices:
        raise ValueError(f"{type(model).__name__} has no weight matrices to measure")
    total = sum(w.size for w in matrices)
    return sum(int(np.count_nonzero(w == 0)) for w in matrices) / total


def _check_fraction(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
    return float(value)


def magnitude_prune(model: Module, sparsity: float) -> Module:
    """Copy of ``model`` whose ``round(sparsity · N)`` smallest-|w| weights (of N in all Linears) are zero.

    Global: one threshold over every layer, so layers with many small weights give up
    more of them. Ties at the threshold are broken by position, so the count is exact.
    """
    sparsity = _check_fraction(sparsity, "sparsity")
    check_can_apply(model, "prune")
    pruned = copy.deepcopy(model)
    layers = [m for m in pruned.modules() if isinstance(m, Linear)]
    if not layers:
        raise ValueError(f"magnitude_prune found no Linear layer in {type(model).__name__}")
    flat = np.concatenate([np.abs(m.weight.data).ravel() for m in layers])
    k = int(round(sparsity * flat.size))
    if k:
        chosen = np.zeros(flat.size, dtype=bool)
        chosen[np.argpartition(flat, k - 1)[:k]] = True
        offset = 0
        for m in layers:
            size = m.weight.data.size
            m.weight.data[chosen[offset:offset + size].reshape(m.weight.shape)] = 0.0
            offset += size
    return pruned


def _prunable_groups(model: Module) -> list[tuple[Linear, list[Linear]]]:
    """Each Linear whose hidden units can go, with every Linear that consumes those units.

    A unit can go only where all of its uses are in view: every place the producer
    appears is inside a Sequential and is followed (through elementwise modules only) by
    a Linear, and each such consumer takes its input from this producer alone. A Linear
    shared by two Sequentials is thus pruned once, with all its consumers; one used
    anywhere else (or whose consumer is fed by another layer too) keeps its units.
    """
    linears: dict[int, Linear] = {}
    outputs: dict[int, list[Optional[Linear]]] = defaultdict(list)  # where each use sends it; None: out of view
    inputs: dict[int, list[Optional[Linear]]] = defaultdict(list)   # what feeds each use; None: out of view
    for parent in model.modules():
        ordered = parent.layers if isinstance(parent, Sequential) else []
        for i, layer in enumerate(ordered):
            if isinstance(layer, Linear):
                linears[id(layer)] = layer
                outputs[id(layer)].append(_next_linear(ordered[i + 1:]))
                inputs[id(layer)].append(_next_linear(ordered[:i][::-1]))
        elsewhere = [child for _, child in parent.named_children()]
        for layer in ordered:
            elsewhere.remove(layer)   # by identity: Module has no __eq__
        for layer in elsewhere:       # held as an attribute or in a list: used in ways not in view
            if isinstance(layer, Linear):
                linears[id(layer)] = layer
                outputs[id(layer)].append(None)
                inputs[id(layer)].append(None)
    groups = []
    for key, sent_to in outputs.items():
        producer = linears[key]
        if any(consumer is None for consumer in sent_to):
            continue
        consumers = list({id(c): c for c in sent_to if c is not None}.values())
        if all(c is not producer and all(source is producer for source in inputs[id(c)]) for c in consumers):
            groups.append((producer, consumers))
    return groups


def _next_linear(layers: list[Module]) -> Optional[Linear]:
    """The first Linear in ``layers`` if only elementwise modules come before it, else None."""
    for layer in layers:
        if isinstance(layer, Linear):
            return layer
        if not isinstance(layer, _ELEMENTWISE):
            return None
    return None


def structured_prune(model: Module, ratio: float) -> Module:
    """Copy of ``model`` with ``round(ratio · h)`` of each hidden layer's h units removed.

    A hidden unit is an output of a Linear that, wherever it appears, feeds the next Linear
    of a Sequential (through elementwise modules such as ReLU), and nothing else. The
    units with the smallest L2 norm of incoming weights go, from the producer and every
    consumer at once; at least one unit stays. Output units of the model are never removed.
    """
    ratio = _check_fraction(ratio, "ratio")
    check_can_apply(model, "prune")
    pruned = copy.deepcopy(model)
    groups = _prunable_groups(pruned)
    if not groups:
        raise ValueError(
            "structured_prune found no Linear -> elementwise -> Linear chain inside a Sequential; "
            "it removes only hidden units whose consuming layers it can see"
        )
    for producer, consumers in groups:
        units = producer.out_features
        remove = min(int(round(ratio * units)), units - 1)
        if remove == 0:
            continue
        norms = np.linalg.norm(producer.weight.data, axis=0)
        keep = np.sort(np.argsort(norms, kind="stable")[remove:])
        producer.weight = Parameter(producer.weight.data[:, keep])
        if producer.bias is not None:
            producer.bias = Parameter(producer.bias.data[keep])
        producer.out_features = keep.size
        for consumer in consumers:
            consumer.weight = Parameter(consumer.weight.data[keep, :])
            consumer.in_features = keep.size
    return pruned
