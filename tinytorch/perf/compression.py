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


def _prunable_pairs(model: Module) -> list[tuple[Linear, Linear]]:
    """(producer, consumer) Linears in a Sequential with only elementwise modules between."""
    pairs = []
    for seq in (m for m in model.modules() if isinstance(m, Sequential)):
        producer = None
        for layer in seq.layers:
            if isinstance(layer, Linear):
                if producer is not None:
                    pairs.append((producer, layer))
                producer = layer
            elif not isinstance(layer, _ELEMENTWISE):
                producer = None
    return pairs


def structured_prune(model: Module, ratio: float) -> Module:
    """Copy of ``model`` with ``round(ratio · h)`` of each hidden layer's h units removed.

    A hidden unit is an output of a Linear whose only consumer is the next Linear in the
    same Sequential (through elementwise modules such as ReLU). The units with the
    smallest L2 norm of incoming weights go; at least one unit stays. Output units
    of the model are never removed.
    """
    ratio = _check_fraction(ratio, "ratio")
    check_can_apply(model, "prune")
    pruned = copy.deepcopy(model)
    pairs = _prunable_pairs(pruned)
    if not pairs:
        raise ValueError(
            "structured_prune found no Linear -> elementwise -> Linear chain inside a Sequential; "
            "it removes only hidden units whose consuming layer it can see"
        )
    for producer, consumer in pairs:
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
        consumer.weight = Parameter(consumer.weight.data[keep, :])
        consumer.in_features = keep.size
    return pruned
