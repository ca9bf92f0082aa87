"""The capstone (Module 20): benchmark a model honestly, compare, and submit ``results.json``.

``SimpleMLP``, ``BenchmarkReport``, ``generate_submission``, ``validate_submission_schema``
and ``save_submission`` are the notebook's solution, exported into
:mod:`tinytorch.olympics.capstone`; the schema and its cross-field rules live in
:mod:`tinytorch.olympics.schema`; ``tinytorch-olympics`` is the command line
(:mod:`tinytorch.olympics.cli`).

Names are loaded on first use, so that importing a submodule (the command line) does
not pay for importing all the others.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    **dict.fromkeys(["SimpleMLP", "BenchmarkReport", "generate_submission", "validate_submission_schema",
                     "save_submission", "get_system_info", "measure_latency", "measure_throughput",
                     "wilson_interval"], "tinytorch.olympics.capstone"),
    **dict.fromkeys(["Problem", "SubmissionError", "load_schema", "semantic_problems"], "tinytorch.olympics.schema"),
}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'tinytorch.olympics' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
