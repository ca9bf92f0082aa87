"""The capstone's reference solution (Module 20): SimpleMLP, BenchmarkReport, generate_submission,
validate_submission_schema, save_submission. Instructor edition only.

GENERATED from notebooks/capstone.py (cells tagged "export") by
``python -m tinytorch.instructor.export``. Do not edit by hand: edit the notebook and
re-export; tests/instructor/test_export.py fails when this file is stale.
"""

import json
import math
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from typing import Any, Optional

import jsonschema
import numpy as np

import tinytorch
from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.datasets import load_digits
from tinytorch.datasets.digits import digits_sha256
from tinytorch.olympics.schema import (KNOWN_VERSIONS, SCHEMA_VERSION, Problem, SubmissionError, json_path,
                                       load_schema, semantic_problems)
from tinytorch.olympics.system import blas_info, cpu_model, git_commit
from tinytorch.perf.benchmarking import Benchmark, BenchmarkResult, precise_timer
from tinytorch.perf.profiling import Profiler


class SimpleMLP(Module):
    """Linear(input_size, hidden_size) → ReLU → Linear(hidden_size, output_size).

    TODO: in ``__init__`` store ``Sequential(Linear(...), ReLU(), Linear(...))`` as
    ``self.layers`` (pass ``rng=np.random.default_rng(seed)`` to both Linears so the
    initial weights depend only on ``seed``); ``forward(x)`` returns the logits, a Tensor
    of shape (batch, output_size). ``parameters()`` comes from ``Module``.
    HINT: ``Linear(in_features, out_features, rng=rng)``.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.layers = Sequential(Linear(input_size, hidden_size, rng=rng), ReLU(),
                                 Linear(hidden_size, output_size, rng=rng))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


def get_system_info() -> dict:
    """Facts another person needs to compare your numbers with theirs.

    TODO: return a dict with these keys:
    ``platform`` (``platform.platform()``), ``machine`` (``platform.machine()``),
    ``cpu_model`` (``cpu_model()``), ``cpu_count`` (an int ≥ 1, ``os.cpu_count()``),
    ``python_version`` (``platform.python_version()``), ``numpy_version``,
    ``blas`` (``blas_info()``), ``tinytorch_version`` (``tinytorch.__version__``) and
    ``git_commit`` (``git_commit()``, may be None).
    HINT: the helpers ``cpu_model``, ``blas_info`` and ``git_commit`` are imported above.
    """
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "blas": blas_info(),
        "tinytorch_version": tinytorch.__version__,
        "git_commit": git_commit(),
    }


def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``correct / n``.

    TODO: return ``(low, high)``, both within [0, 1], computed as
        center = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)
    where p = correct / n and z is the standard normal quantile at (1 + confidence) / 2
    (1.96 for 95 %). Raise ``ValueError`` if n < 1 or correct is outside 0…n.
    HINT: ``statistics.NormalDist().inv_cdf((1 + confidence) / 2)`` gives z.
    """
    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n >= 1; got correct={correct}, n={n}")
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    p = correct / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def measure_latency(model: Module, X: np.ndarray, num_runs: int = 100, warmup_runs: int = 10) -> list[float]:
    """Per-call latency of single-sample inference, in milliseconds, warmup excluded.

    TODO: return a list of ``num_runs`` floats (ms). Each timed call is
    ``model(x1)`` where ``x1`` is a Tensor of one row of ``X`` with shape (1, features),
    made before timing. Run ``warmup_runs`` calls first and do not record them.
    HINT: under ``with no_grad():``, ``Benchmark(lambda: model(x1), runs=...,
    warmup_runs=...).run().samples_ms`` gives the samples as an array: return
    ``[float(v) for v in samples]``. Or time each call yourself with ``time.perf_counter_ns()``.
    """
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        result = Benchmark(lambda: model(x1), runs=num_runs, warmup_runs=warmup_runs,
                           name="latency at batch 1").run()
    return [float(v) for v in result.samples_ms]


def measure_throughput(model: Module, X: np.ndarray, batch_size: int = 64, num_batches: int = 20,
                       warmup_runs: int = 2) -> dict:
    """Samples per second at ``batch_size``, measured on real batches.

    TODO: build one batch of ``batch_size`` rows from ``X`` (repeat rows if X is
    shorter), run ``warmup_runs`` untimed calls, time ``num_batches`` calls, and return
    ``{"batch_size": batch_size, "runs": num_batches, "samples_per_sec": ...}`` where
    samples_per_sec is batch_size divided by the typical (median) time of one call in
    seconds. You may add ``"median_batch_ms"``.
    HINT: ``np.resize(X, (batch_size, X.shape[1]))`` repeats rows.
    """
    X = np.asarray(X, dtype=np.float32)
    batch = Tensor(np.resize(X, (batch_size, X.shape[1])))
    with no_grad():
        result = Benchmark(lambda: model(batch), runs=num_batches, warmup_runs=warmup_runs,
                           name=f"throughput at batch {batch_size}").run()
    return {"batch_size": batch_size, "runs": num_batches, "median_batch_ms": result.median,
            "samples_per_sec": batch_size / (result.median / 1e3)}


class BenchmarkReport:
    """Measurements of one model with the context needed to reproduce them."""

    def __init__(self, model_name: str = "model") -> None:
        self.model_name = model_name
        self.metrics: dict = {}
        self.system_info: dict = get_system_info()
        self.timestamp: str = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        self.benchmark_config: dict = {}

    def benchmark_model(self, model: Module, X_test: np.ndarray, y_test: np.ndarray, num_runs: int = 100,
                        warmup_runs: int = 10, throughput_batch_size: int = 64, seed: Optional[int] = 0,
                        dataset_name: str = "digits", dataset_sha256: Optional[str] = None) -> dict:
        """Measure ``model`` on (X_test, y_test); fill and return ``self.metrics``.

        TODO: compute every key of the table above and store the dict in ``self.metrics``;
        also fill ``self.benchmark_config``. Accuracy: the fraction of rows whose arg-max
        logit equals the label (compute the logits under ``no_grad()``), with
        ``wilson_interval``. Latency: ``measure_latency`` then ``BenchmarkResult``.
        Throughput: ``measure_throughput``. If ``dataset_sha256`` is None use
        ``digits_sha256()``. Return ``self.metrics``.
        """
        X_test = np.asarray(X_test, dtype=np.float32)
        y_test = np.asarray(y_test)
        profiler = Profiler()
        with no_grad():
            predictions = model(Tensor(X_test)).data.argmax(axis=1)
        correct = int(np.sum(predictions == y_test))
        low, high = wilson_interval(correct, len(y_test))
        samples = measure_latency(model, X_test, num_runs=num_runs, warmup_runs=warmup_runs)
        stats = BenchmarkResult(samples, warmup_runs=warmup_runs).to_dict()
        throughput = measure_throughput(model, X_test, batch_size=throughput_batch_size)
        size_bytes = profiler.model_size_bytes(model)
        latency = {key: stats[key] for key in (
            "n", "warmup_runs", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "confidence_level",
            "percentile_method", "mean_ci_method", "median_ci_method", "outliers", "stable", "stability_reason")}
        self.metrics = {
            "parameter_count": int(profiler.count_parameters(model)),
            "model_size_mb": size_bytes / 1e6,
            "model_size_bytes": int(size_bytes),
            "accuracy": correct / len(y_test),
            "accuracy_ci": {"low": low, "high": high, "confidence_level": 0.95, "method": "Wilson score",
                            "n_samples": int(len(y_test))},
            "latency_ms_mean": stats["mean"],
            "latency_ms_std": stats["std"],
            "latency": {"batch_size": 1, **latency, "samples_ms": samples},
            "throughput_samples_per_sec": throughput["samples_per_sec"],
            "throughput": throughput,
            "peak_memory_bytes": int(profiler.measure_memory(model, X_test[:1])),
        }
        self.benchmark_config = {
            "num_runs": num_runs, "warmup_runs": warmup_runs, "latency_batch_size": 1,
            "throughput_batch_size": throughput_batch_size, "seed": seed,
            "timer": "time.perf_counter_ns", "gc_policy": "collected, then disabled during timed runs",
            "dataset": {"name": dataset_name, "n_samples": int(len(y_test)),
                        "sha256": dataset_sha256 or digits_sha256()},
        }
        return self.metrics


def generate_submission(baseline_report: BenchmarkReport, optimized_report: Optional[BenchmarkReport] = None,
                        techniques_applied: Optional[list] = None) -> dict:
    """A results.json document for one baseline and, optionally, one optimized model.

    TODO: return a dict with ``schema_version`` (SCHEMA_VERSION), ``tinytorch_version``,
    ``submission_type`` ("baseline" or "optimized"), ``timestamp`` (now, ISO-8601 UTC),
    ``system_info`` (the baseline report's), and ``baseline``: ``{"model_name",
    "timestamp", "benchmark_config", "metrics"}`` from the report. With an optimized
    report add ``optimized`` (the same keys plus ``techniques_applied``, a list of
    strings) and ``improvements`` {speedup, compression_ratio, accuracy_delta} as
    defined above; without one, include neither. An optimized report needs at least one
    technique (the schema requires one): raise ``ValueError`` if ``techniques_applied``
    is None or empty then.
    HINT: copy the reports' dicts (``copy.deepcopy``) so later changes to a report do
    not change the submission.
    """
    import copy

    def entry(report: BenchmarkReport) -> dict:
        return {"model_name": report.model_name, "timestamp": report.timestamp,
                "benchmark_config": copy.deepcopy(report.benchmark_config),
                "metrics": copy.deepcopy(report.metrics)}

    submission = {
        "schema_version": SCHEMA_VERSION,
        "tinytorch_version": tinytorch.__version__,
        "submission_type": "baseline" if optimized_report is None else "optimized",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "system_info": copy.deepcopy(baseline_report.system_info),
        "baseline": entry(baseline_report),
    }
    if optimized_report is not None:
        if not techniques_applied:
            raise ValueError("an optimized report needs techniques_applied: name at least one technique")
        b, o = baseline_report.metrics, optimized_report.metrics
        submission["optimized"] = {**entry(optimized_report),
                                   "techniques_applied": [str(t) for t in techniques_applied]}
        submission["improvements"] = {
            "speedup": b["latency_ms_mean"] / o["latency_ms_mean"],
            "compression_ratio": b["model_size_mb"] / o["model_size_mb"],
            "accuracy_delta": o["accuracy"] - b["accuracy"],
        }
    return submission


def validate_submission_schema(submission: dict) -> bool:
    """Return True if ``submission`` is valid; otherwise raise ``SubmissionError`` listing every problem.

    TODO: collect ``Problem(path, rule, message)`` values for
    1. an unknown ``schema_version`` (not in KNOWN_VERSIONS): report it and stop there,
       since the other rules are those of a version you do not know;
    2. every JSON Schema error against ``load_schema()`` (use
       ``jsonschema.Draft202012Validator(schema).iter_errors(submission)``; the path is
       ``json_path(error.absolute_path)``, the rule ``error.validator``);
    3. every float that is NaN or infinite, anywhere in the document;
    4. everything ``semantic_problems(submission)`` returns.
    Raise ``SubmissionError(problems)`` if there are any; return True otherwise.
    HINT: walk the document recursively for step 3, building the path as you go.
    """
    if not isinstance(submission, dict):
        raise SubmissionError([Problem("$", "type", f"a submission is a JSON object, not {type(submission).__name__}")])
    version = submission.get("schema_version")
    if version not in KNOWN_VERSIONS:
        raise SubmissionError([Problem("$.schema_version", "version",
                                       f"unknown schema_version {version!r}; this validator knows "
                                       f"{', '.join(KNOWN_VERSIONS)}")])
    problems = [Problem(json_path(e.absolute_path), e.validator, e.message)
                for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(submission)]

    def non_finite(value: Any, path: list) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(json_path(path), "finite", f"{value} is not allowed: JSON has no NaN or Infinity"))
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            non_finite(child, path + [key])

    non_finite(submission, [])
    problems += semantic_problems(submission)
    if problems:
        raise SubmissionError(problems)
    return True


def save_submission(submission: dict, filepath: str = "submission.json") -> str:
    """Validate ``submission`` and write it to ``filepath`` atomically; return the path written.

    TODO: call ``validate_submission_schema(submission)`` (let its error propagate), serialize with
    ``json.dumps(submission, indent=2, allow_nan=False)``, write to a temporary file in the
    same directory (``tempfile.mkstemp(dir=...)``), give it the permissions any new file
    gets here (``os.chmod(tmp_path, 0o666 & ~umask)``: mkstemp makes it private, 600),
    ``os.replace`` it onto ``filepath``, and return ``str(filepath)``. If anything fails,
    remove the temporary file and re-raise.
    HINT: ``umask = os.umask(0); os.umask(umask)`` reads the umask (setting it back at once).
    """
    validate_submission_schema(submission)
    text = json.dumps(submission, indent=2, allow_nan=False) + "\n"
    folder = os.path.dirname(os.path.abspath(filepath))
    handle, tmp_path = tempfile.mkstemp(dir=folder, prefix=".submission-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, filepath)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return str(filepath)
