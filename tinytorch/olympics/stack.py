"""An optimization stack described in one line of text, e.g. ``"prune:0.4,quantize,fuse"``.

The command line, the notebook and the widgets all describe stacks this way, and the
names of the applied steps go into ``techniques_applied`` verbatim, so a results file
says exactly which transforms, in which order, with which amounts, produced its model.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple, Optional

from tinytorch.core.layers import Module
from tinytorch.perf.acceleration import fuse_model
from tinytorch.perf.compression import magnitude_prune, structured_prune
from tinytorch.perf.quantization import quantize_model

__all__ = ["Transform", "STEPS", "DEFAULT_STACK", "parse_stack", "apply_stack"]


class Transform(NamedTuple):
    """One optimization a stack can name: the label results.json records, and the function.

    ``amount`` is None for a transform that takes no amount; otherwise the function is
    called with the model and the amount from ``name:amount``.
    """

    technique: str
    function: Callable[..., Module]
    amount: Optional[str] = None


DEFAULT_STACK = "prune:0.4,quantize,fuse"
# The one list of the optimizations a stack, the command line and the widgets can name.
STEPS = {
    "prune": Transform("structured_pruning", structured_prune, amount="ratio"),
    "magnitude": Transform("magnitude_pruning", magnitude_prune, amount="sparsity"),
    "quantize": Transform("int8_quantization", quantize_model),
    "fuse": Transform("fusion", fuse_model),
}
Step = tuple[str, Callable[[Module], Module]]


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
        transform = STEPS[name]
        if transform.amount is not None:
            try:
                amount = float(amount_text)
            except ValueError:
                raise ValueError(f"{name} needs an amount in [0, 1), e.g. {name}:0.4; got {raw!r}") from None
            if not 0.0 <= amount < 1.0:
                raise ValueError(f"{name} amount must be in [0, 1); got {amount_text}")
            applied = partial(transform.function, **{transform.amount: amount})
            steps.append((f"{transform.technique}({amount:g})", applied))
        elif amount_text:
            raise ValueError(f"{name} takes no amount; got {raw!r}")
        else:
            steps.append((transform.technique, transform.function))
    return steps


def apply_stack(model: Module, steps: list[Step]) -> tuple[Module, list[str]]:
    """Apply the steps in order; returns the new model and the names of the steps applied."""
    for _, transform in steps:
        model = transform(model)
    return model, [name for name, _ in steps]
