"""How the model transforms stack, and which orders are refused (Modules 15–17).

Every transform returns a new model and leaves its input untouched, so a stack is
just function composition: ``fuse_model(quantize_model(structured_prune(m, 0.5)))``.
Some orders cannot work, and each is refused here, before any work, with the order
that does:

* pruning needs float ``Linear`` weights: prune before quantizing and before fusing;
* quantization replaces ``Linear`` layers: quantize before fusing;
* a transform applied twice (quantize a quantized model, fuse a fused one) is refused
  rather than silently doing nothing, so a stack description always means what it says.
"""

from __future__ import annotations

from typing import Callable, Optional

from tinytorch.core.layers import Linear, Module

__all__ = ["check_can_apply", "replace_modules", "TRANSFORMS"]

TRANSFORMS = ("prune", "quantize", "fuse")


def _kinds(model: Module) -> set[str]:
    from tinytorch.perf.acceleration import FusedLinearReLU
    from tinytorch.perf.quantization import QuantizedLinear

    kinds = set()
    for m in model.modules():
        if isinstance(m, FusedLinearReLU):
            kinds.add("fused")
        elif isinstance(m, QuantizedLinear):
            kinds.add("quantized")
        elif isinstance(m, Linear):
            kinds.add("linear")
    return kinds


def check_can_apply(model: Module, transform: str) -> None:
    """Raise ``ValueError`` naming the right order if ``transform`` cannot follow what ``model`` holds."""
    if not isinstance(model, Module):
        raise TypeError(f"{transform} expects a tinytorch Module; got {type(model).__name__}")
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; known: {', '.join(TRANSFORMS)}")
    kinds = _kinds(model)
    if transform == "prune":
        if "quantized" in kinds:
            raise ValueError("cannot prune a quantized model: its weights are int8 codes. "
                             "Prune first, then quantize (prune -> quantize -> fuse)")
        if "fused" in kinds:
            raise ValueError("cannot prune a fused model: fused layers are inference kernels. "
                             "Prune before fusing (prune -> quantize -> fuse)")
    elif transform == "quantize":
        if "fused" in kinds:
            raise ValueError("cannot quantize a fused model. Quantize before fusing (prune -> quantize -> fuse)")
        if "quantized" in kinds and "linear" not in kinds:
            raise ValueError("the model is already quantized; quantizing twice would change nothing")
    elif transform == "fuse" and "fused" in kinds:
        raise ValueError("the model is already fused; fusing twice would change nothing")


def replace_modules(module: Module, replace: Callable[[Module], Optional[Module]]) -> None:
    """Swap, in place, each child ``c`` for ``replace(c)`` when that is not None; recurse otherwise."""
    for name, value in list(vars(module).items()):
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if not isinstance(child, Module):
                continue
            new = replace(child)
            if new is None:
                replace_modules(child, replace)
            elif isinstance(value, list):
                value[i] = new
            else:
                setattr(module, name, new)
