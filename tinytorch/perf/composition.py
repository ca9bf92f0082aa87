"""How the model transforms stack, and which orders are refused (Modules 15–17).

Every transform returns a new model and leaves its input untouched, so a stack is
just function composition: ``fuse_model(quantize_model(structured_prune(m, 0.5)))``.
The transforms belong to three stages, which only work in this order::

    prune -> quantize -> fuse

* pruning needs float ``Linear`` weights: prune before quantizing and before fusing;
* quantization replaces ``Linear`` layers: quantize before fusing;
* a stage applied twice (quantize a quantized model, fuse a fused one) is refused
  rather than silently doing nothing, so a stack description always means what it says.

The rules read what a model holds, not which transform made it: each layer class a
transform creates names its stage in ``produced_by`` (``QuantizedLinear.produced_by ==
"quantize"``). So this module imports no transform, and a new transform's layers obey
the rules by declaring their stage.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from tinytorch.core.deprecation import warn_renamed
from tinytorch.core.layers import Linear, Module

__all__ = ["STAGES", "check_can_apply", "stages_in"]

STAGES = ("prune", "quantize", "fuse")
_PAST = {"quantize": "quantized", "fuse": "fused"}
_WHY = {
    ("prune", "quantize"): "its weights are int8 codes. Prune first, then quantize",
    ("prune", "fuse"): "fused layers are inference kernels. Prune before fusing",
    ("quantize", "fuse"): "Quantize before fusing",
}


def stages_in(model: Module) -> set[str]:
    """The stages whose layers ``model`` holds, plus ``"float"`` if a float Linear remains."""
    found = set()
    for m in model.modules():
        stage = getattr(type(m), "produced_by", None)
        if stage is not None:
            found.add(stage)
        elif isinstance(m, Linear):
            found.add("float")
    return found


def check_can_apply(model: Module, stage: str) -> None:
    """Raise ``ValueError`` naming the right order if a ``stage`` transform cannot follow what ``model`` holds."""
    if not isinstance(model, Module):
        raise TypeError(f"{stage} expects a tinytorch Module; got {type(model).__name__}")
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
    held = stages_in(model)
    for later in STAGES[STAGES.index(stage) + 1:]:
        if later in held:
            raise ValueError(f"cannot {stage} a {_PAST[later]} model: {_WHY[stage, later]} "
                             f"({' -> '.join(STAGES)})")
    # Quantizing the float Linears a partly quantized model still has is real work.
    if stage in _PAST and stage in held and not (stage == "quantize" and "float" in held):
        raise ValueError(f"the model is already {_PAST[stage]}; {stage} twice would change nothing")


def __getattr__(name: str) -> Any:
    """Names this module had before the stages and the walker found their homes."""
    if name == "TRANSFORMS":
        warn_renamed("tinytorch.perf.composition.TRANSFORMS", "STAGES")
        return STAGES
    if name == "replace_modules":
        warn_renamed("replace_modules(module, replace)", "module.replace_children(replace)")
        return _replace_modules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _replace_modules(module: Module, replace: Callable[[Module], Optional[Module]]) -> None:
    module.replace_children(replace)
