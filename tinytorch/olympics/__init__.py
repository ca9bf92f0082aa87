"""The capstone (Module 20): benchmark a model honestly, compare, and submit ``results.json``.

``SimpleMLP``, ``BenchmarkReport``, ``generate_submission``, ``validate_submission_schema``
and ``save_submission`` are the notebook's solution, exported into
:mod:`tinytorch.olympics.capstone`; the schema and its cross-field rules live in
:mod:`tinytorch.olympics.schema`; ``tinytorch-olympics`` is the command line
(:mod:`tinytorch.olympics.cli`).
"""

from tinytorch.olympics.capstone import (BenchmarkReport, SimpleMLP, generate_submission, get_system_info,
                                         measure_latency, measure_throughput, save_submission,
                                         validate_submission_schema, wilson_interval)
from tinytorch.olympics.schema import Problem, SubmissionError, load_schema, semantic_problems

__all__ = ["SimpleMLP", "BenchmarkReport", "generate_submission", "validate_submission_schema", "save_submission",
           "get_system_info", "measure_latency", "measure_throughput", "wilson_interval", "Problem",
           "SubmissionError", "load_schema", "semantic_problems"]
