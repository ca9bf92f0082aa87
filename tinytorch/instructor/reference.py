"""The capstone's reference solution (Module 20): SimpleMLP, BenchmarkReport, generate_submission,
validate_submission_schema, save_submission. Instructor edition only.

GENERATED from notebooks/capstone.py (cells tagged "export") by
``python -m tools.export_reference``. Do not edit by hand: edit the notebook and
re-export; tests/tools/test_export_reference.py fails when this file is stale.
"""

import copy
import json
import math
import os
import platform
import statistics
import tempfile
from typing import Any, Optional

import jsonschema
import numpy as np

import tinytorch
from tinytorch import Tensor, no_grad
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.datasets.digits import digits_sha256
from tinytorch.olympics.schema import (
    KNOWN_VERSIONS,
    SCHEMA_VERSION,
    Problem,
    SubmissionError,
    json_path,
    load_schema,
    semantic_problems,
)
from tinytorch.olympics.system import blas_info, cpu_model, git_commit, utc_timestamp
from tinytorch.perf.benchmarking import Benchmark, BenchmarkResult
from tinytorch.perf.profiling import Profiler


class SimpleMLP(Module):
    """Linear(input_size, hidden_size) → ReLU → Linear(hidden_size, output_size).

    The layers are ``self.layers``, a Sequential. The initial weights depend only on
    ``seed``, so two models built with one seed are the same model. ``forward(x)``
    returns the logits, a Tensor of shape (batch, output_size).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.layers = Sequential(Linear(input_size, hidden_size, rng=rng), ReLU(),
                                 Linear(hidden_size, output_size, rng=rng))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


def get_system_info() -> dict:
    """Facts another person needs to compare their numbers with these.

    Keys: ``platform``, ``machine``, ``cpu_model``, ``cpu_count`` (an int ≥ 1),
    ``python_version``, ``numpy_version``, ``blas`` (library, version, threads),
    ``tinytorch_version`` and ``git_commit`` (None outside a git checkout).
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
    """The Wilson score interval ``(low, high)`` for a proportion ``correct / n``.

    Both ends lie within [0, 1]; with p = correct / n and z the standard normal quantile
    at (1 + confidence) / 2 (1.96 for 95 %),

        center = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).

    Raises ``ValueError`` if n < 1 or ``correct`` is outside 0…n.
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
    """Per-call latency of single-sample inference: ``num_runs`` floats, in milliseconds.

    Each timed call is ``model(x1)``, with ``x1`` one row of ``X`` as a (1, features)
    Tensor made before timing, under ``no_grad()``. ``warmup_runs`` untimed calls come
    first and are not recorded.
    """
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        result = Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs,
                           name="latency at batch 1").run()
    return [float(v) for v in result.samples_ms]


def measure_throughput(model: Module, X: np.ndarray, batch_size: int = 64, num_batches: int = 20,
                       warmup_runs: int = 2) -> dict:
    """Samples per second at ``batch_size``, measured on real batches, not derived from latency.

    Returns ``{"batch_size", "runs", "samples_per_sec"}`` and optionally
    ``"median_batch_ms"``: ``runs`` is ``num_batches``, the number of timed calls, and
    samples_per_sec is ``batch_size`` over the median time of one call, in seconds. One
    batch of ``batch_size`` rows of ``X`` (rows repeated if ``X`` is shorter) is timed
    ``num_batches`` times after ``warmup_runs`` untimed calls.
    """
    X = np.asarray(X, dtype=np.float32)
    batch = Tensor(np.resize(X, (batch_size, X.shape[1])))
    with no_grad():
        result = Benchmark(lambda: model(batch), num_runs=num_batches, warmup_runs=warmup_runs,
                           name=f"throughput at batch {batch_size}").run()
    return {"batch_size": batch_size, "runs": num_batches, "median_batch_ms": result.median,
            "samples_per_sec": batch_size / (result.median / 1e3)}


class BenchmarkReport:
    """Measurements of one model with the context needed to reproduce them."""

    def __init__(self, model_name: str = "model") -> None:
        self.model_name = model_name
        self.metrics: dict = {}
        self.system_info: dict = get_system_info()
        self.timestamp: str = utc_timestamp()
        self.benchmark_config: dict = {}

    def benchmark_model(self, model: Module, X_test: np.ndarray, y_test: np.ndarray, num_runs: int = 100,
                        warmup_runs: int = 10, throughput_batch_size: int = 64, seed: Optional[int] = 0,
                        dataset_name: str = "digits", dataset_sha256: Optional[str] = None) -> dict:
        """Measure ``model`` on (X_test, y_test); fill and return ``self.metrics``.

        ``self.metrics`` gets the six chapter metrics and their evidence, the fields of
        the schema's ``metrics`` object: accuracy (the fraction of rows whose arg-max
        logit is the label) with its Wilson interval, latency at batch 1 with its samples
        and statistics, throughput, parameter count, size and peak memory.
        ``self.benchmark_config`` records how: runs, warmup, batch sizes, seed, timer and
        the dataset (``dataset_sha256`` defaults to the bundled digits' hash).
        """
        X_test = np.asarray(X_test, dtype=np.float32)
        y_test = np.asarray(y_test)
        profiler = Profiler()
        with no_grad():
            predictions = model(Tensor(X_test)).data.argmax(axis=1)
        correct, scored = int(np.sum(predictions == y_test)), len(y_test)
        low, high = wilson_interval(correct, scored)
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
            "accuracy": correct / scored,
            "accuracy_ci": {"low": low, "high": high, "confidence_level": 0.95, "method": "Wilson score",
                            "n_samples": scored},
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
            "dataset": {"name": dataset_name, "n_samples": scored,
                        "sha256": dataset_sha256 or digits_sha256()},
        }
        return self.metrics


def generate_submission(baseline_report: BenchmarkReport, optimized_report: Optional[BenchmarkReport] = None,
                        techniques_applied: Optional[list] = None) -> dict:
    """A results.json document for one baseline and, optionally, one optimized model.

    The document holds copies of the reports, so changing a report later does not
    change it. With an optimized report it also holds ``optimized`` (with
    ``techniques_applied``) and ``improvements``: ``speedup`` (baseline mean latency over
    optimized), ``compression_ratio`` (baseline size over optimized) and
    ``accuracy_delta`` (optimized minus baseline). An optimized report without a
    technique is a ``ValueError``: the schema requires at least one.
    """
    def entry(report: BenchmarkReport) -> dict:
        return {"model_name": report.model_name, "timestamp": report.timestamp,
                "benchmark_config": copy.deepcopy(report.benchmark_config),
                "metrics": copy.deepcopy(report.metrics)}

    submission = {
        "schema_version": SCHEMA_VERSION,
        "tinytorch_version": tinytorch.__version__,
        "submission_type": "baseline" if optimized_report is None else "optimized",
        "timestamp": utc_timestamp(),
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

    A problem is a ``Problem(path, rule, message)``. An unknown ``schema_version`` is the
    only problem reported, since the other rules are those of a version this code does
    not know. Otherwise every problem is listed: each JSON Schema error, each NaN or
    infinite float anywhere in the document, and each cross-field rule broken
    (``semantic_problems``).
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

    An invalid submission raises ``SubmissionError`` and writes nothing. The file
    appears whole or not at all: it is written beside ``filepath`` and renamed onto it,
    with the permissions any new file gets here, and a failure part way leaves no
    temporary file behind.
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
