"""An optimization stack described in one line of text, e.g. ``"prune:0.4,quantize,fuse"``.

The command line, the notebook and the widgets all describe stacks this way, and the
names of the applied steps go into ``techniques_applied`` verbatim, so a results file
says exactly which transforms, in which order, with which amounts, produced its model.
"""

from __future__ import annotations

from typing import Callable

from tinytorch.core.layers import Module

__all__ = ["STEPS", "DEFAULT_STACK", "parse_stack", "apply_stack"]

DEFAULT_STACK = "prune:0.4,quantize,fuse"
# step name -> (needs an amount?, technique label)
STEPS = {
    "prune": (True, "structured_pruning"),
    "magnitude": (True, "magnitude_pruning"),
    "quantize": (False, "int8_quantization"),
    "fuse": (False, "fusion"),
}
Step = tuple[str, Callable[[Module], Module]]


def _transform(name: str, amount: float) -> Callable[[Module], Module]:
    # Imported here so that a course without Modules 15-17 can still parse and report.
    if name == "prune":
        from tinytorch.perf.compression import structured_prune
        return lambda m: structured_prune(m, amount)
    if name == "magnitude":
        from tinytorch.perf.compression import magnitude_prune
        return lambda m: magnitude_prune(m, amount)
    if name == "quantize":
        from tinytorch.perf.quantization import quantize_model
        return quantize_model
    from tinytorch.perf.acceleration import fuse_model
    return fuse_model


def parse_stack(text: str) -> list[Step]:
    """``"prune:0.4,quantize"`` → ``[("structured_pruning(0.4)", fn), ("int8_quantization", fn)]``.

    Raises ``ValueError`` naming the bad step; an empty string is the empty stack.
    """
    steps: list[Step] = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        name, _, amount_text = raw.partition(":")
        if name not in STEPS:
            raise ValueError(f"unknown optimization {name!r} in stack {text!r}; known: {', '.join(STEPS)}")
        needs_amount, label = STEPS[name]
        if needs_amount:
            try:
                amount = float(amount_text)
            except ValueError:
                raise ValueError(f"{name} needs an amount in [0, 1), e.g. {name}:0.4; got {raw!r}") from None
            if not 0.0 <= amount < 1.0:
                raise ValueError(f"{name} amount must be in [0, 1); got {amount_text}")
            steps.append((f"{label}({amount:g})", _transform(name, amount)))
        elif amount_text:
            raise ValueError(f"{name} takes no amount; got {raw!r}")
        else:
            steps.append((label, _transform(name, 0.0)))
    return steps


def apply_stack(model: Module, steps: list[Step]) -> tuple[Module, list[str]]:
    """Apply the steps in order; returns the new model and the names of the steps applied."""
    for _, transform in steps:
        model = transform(model)
    return model, [name for name, _ in steps]
