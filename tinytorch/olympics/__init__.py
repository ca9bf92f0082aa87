"""The capstone (Module 20): benchmark a model honestly, compare, and submit ``results.json``.

``SimpleMLP``, ``BenchmarkReport``, ``generate_submission``, ``validate_submission_schema``
and ``save_submission`` are the notebook's graded functions. In the instructor edition
they resolve to the reference solution exported from the notebook
(:mod:`tinytorch.instructor.reference`); the student edition has no reference, and asking
for one of them says so in one sentence. The schema and its cross-field rules live in
:mod:`tinytorch.olympics.schema`; ``tinytorch-olympics`` is the command line
(:mod:`tinytorch.olympics.cli`).

Names are loaded on first use, so that importing a submodule (the command line) does
not pay for importing all the others.
"""

from importlib import import_module
from types import ModuleType
from typing import Any

REFERENCE = "tinytorch.instructor.reference"
GRADED = ["SimpleMLP", "BenchmarkReport", "generate_submission", "validate_submission_schema", "save_submission",
          "get_system_info", "measure_latency", "measure_throughput", "wilson_interval"]
_HOMES = {
    **dict.fromkeys(GRADED, REFERENCE),
    **dict.fromkeys(["Problem", "SubmissionError", "load_schema", "semantic_problems", "submission_problems"],
                    "tinytorch.olympics.schema"),
}
__all__ = [*_HOMES, "REFERENCE", "GRADED", "reference"]


def reference() -> ModuleType:
    """The reference solution module; in the student edition, an ImportError that says so in one sentence."""
    try:
        return import_module(REFERENCE)
    except ModuleNotFoundError as exc:
        if exc.name not in (REFERENCE, REFERENCE.rpartition(".")[0]):
            raise
        raise ImportError("this student edition of tinytorch does not include the reference solution") from None


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'tinytorch.olympics' has no attribute {name!r}")
    if _HOMES[name] != REFERENCE:
        home = import_module(_HOMES[name])
    else:
        try:
            home = reference()
        except ImportError as exc:
            raise ImportError(f"{name} is yours to write in the capstone notebook: {exc}") from None
    value = getattr(home, name)
    globals()[name] = value
    return value
