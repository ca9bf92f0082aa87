"""Stand-ins for testing the capstone's functions: a model whose cost is known, reports with hand-set metrics.

A benchmark harness is hard to test on a real model, whose timing nobody knows in
advance. These stand-ins make the right answer known: ``SleepyModel`` takes exactly as
long as it is told to (and remembers the shapes it was called with), and
``make_fake_report`` builds a report whose metrics are internally consistent, so a test
can check a submission built from it field by field. The notebook's visible tests use
them; the hidden checks use their own models, played from the judge's side
(:mod:`tinytorch.instructor.judge.probes`, instructor edition only).
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np

import tinytorch
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor
from tinytorch.olympics.schema import SCHEMA_VERSION
from tinytorch.perf.distributions import clopper_pearson, student_t_ppf

__all__ = ["SleepyModel", "FakeReport", "make_fake_report", "make_fake_submission", "example_class"]


class SleepyModel(Module):
    """Sleeps a fixed time per call (longer for the first ``cold_calls``) and records input shapes."""

    def __init__(self, seconds_per_call: float = 0.0, cold_calls: int = 0, cold_seconds: float = 0.0) -> None:
        super().__init__()
        self.seconds_per_call, self.cold_calls, self.cold_seconds = seconds_per_call, cold_calls, cold_seconds
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, x: Tensor) -> Tensor:
        self.shapes.append(tuple(x.shape))
        pause = self.cold_seconds if len(self.shapes) <= self.cold_calls else self.seconds_per_call
        if pause:
            time.sleep(pause)
        return Tensor(np.zeros((x.shape[0], 10), dtype=np.float32))


class FakeReport:
    """Has the attributes of a ``BenchmarkReport`` and nothing else: what ``generate_submission`` reads."""

    def __init__(self, model_name: str, timestamp: str, system_info: dict, benchmark_config: dict,
                 metrics: dict) -> None:
        self.model_name, self.timestamp = model_name, timestamp
        self.system_info, self.benchmark_config, self.metrics = system_info, benchmark_config, metrics


def make_fake_report(name: str, latency_ms: float, size_mb: float, acc: float) -> FakeReport:
    """A report with hand-set, internally consistent metrics: latency ``latency_ms``, size, accuracy ``acc``."""
    lat = latency_ms
    size_bytes = round(size_mb * 1e6)
    # The intervals are the ones their methods give, as the validator recomputes them: the accuracy's
    # from 100 test samples, the mean's from 10 runs with a standard deviation of a tenth of the mean.
    low, high = clopper_pearson(round(acc * 100), 100) if 0 <= acc <= 1 else (max(0.0, acc - 0.05), acc + 0.05)
    half = student_t_ppf(0.975, 9) * (lat / 10) / math.sqrt(10)
    system_info = {"platform": "Linux-test", "machine": "x86_64", "cpu_model": "test", "cpu_count": 2,
                   "python_version": "3.11.7", "numpy_version": "2.0.0",
                   "blas": {"library": "openblas", "version": None, "threads": 2},
                   "tinytorch_version": "0.1.0", "git_commit": None}
    config = {"num_runs": 10, "warmup_runs": 2, "latency_batch_size": 1, "throughput_batch_size": 64,
              "seed": 0, "timer": "time.perf_counter_ns",
              "dataset": {"name": "digits", "n_samples": 100, "sha256": "ab" * 32}}
    metrics = {
        "parameter_count": 1000, "model_size_bytes": size_bytes, "model_size_mb": size_bytes / 1_000_000,
        "accuracy": acc, "accuracy_ci": {"low": low, "high": high, "confidence_level": 0.95,
                                         "method": "Clopper-Pearson exact", "n_samples": 100},
        "latency_ms_mean": lat, "latency_ms_std": lat / 10,
        "latency": {"batch_size": 1, "n": 10, "warmup_runs": 2, "median": lat, "p90": lat * 1.1, "p99": lat * 1.2,
                    "min": lat * 0.8, "max": lat * 1.3, "mean_ci": [lat - half, lat + half],
                    "median_ci": [lat * 0.9, lat * 1.1], "confidence_level": 0.95, "percentile_method": "linear",
                    "mean_ci_method": "Student t", "median_ci_method": "order statistics", "outliers": 0,
                    "stable": True, "stability_reason": "ok"},
        "throughput_samples_per_sec": 64000 / lat,
        "throughput": {"batch_size": 64, "runs": 20, "samples_per_sec": 64000 / lat},
        "peak_memory_bytes": 1000,
    }
    return FakeReport(name, "2026-11-28T12:00:00Z", system_info, config, metrics)


def make_fake_submission() -> dict[str, Any]:
    """A valid optimized submission built from two fake reports (2 ms → 1 ms, 40 kB → 10 kB, 0.97 → 0.96)."""
    base, opt = make_fake_report("base", 2.0, 0.04, 0.97), make_fake_report("opt", 1.0, 0.01, 0.96)

    def entry(r: FakeReport) -> dict[str, Any]:
        return {"model_name": r.model_name, "timestamp": r.timestamp, "benchmark_config": r.benchmark_config,
                "metrics": r.metrics}

    return dict(schema_version=SCHEMA_VERSION, tinytorch_version=tinytorch.__version__, submission_type="optimized",
                timestamp="2026-11-28T12:05:00Z", system_info=base.system_info, baseline=entry(base),
                optimized={**entry(opt), "techniques_applied": ["quantization"]},
                improvements={"speedup": 2.0, "compression_ratio": 4.0,
                              "accuracy_delta": opt.metrics["accuracy"] - base.metrics["accuracy"]})


@functools.lru_cache(maxsize=None)
def example_class(size: int = 30, seed: int = 0, samples_per_model: int = 40) -> dict[str, dict[str, Any]]:
    """``size`` valid optimized submissions (student id → document), as varied as a real class's.

    Each optimized model has its own latency (with samples), stored size and accuracy on the
    359 test digits, so some are fast and inaccurate, some small and slow, some on the Pareto
    front; the baselines are alike. Used by the leaderboard's tests, its benchmark, and the
    notebook's look at where a submission stands.
    """
    from tinytorch.datasets.digits import digits_sha256
    from tinytorch.perf.benchmarking import BenchmarkResult

    # The bundled test set, as a student's own results file records it: the class shares it with them.
    rng = np.random.default_rng(seed)
    template = make_fake_submission()
    n_test = 359
    documents = {}
    for index in range(size):
        doc = {key: (dict(value) if isinstance(value, dict) else value) for key, value in template.items()}
        models = {"baseline": (0.0078, 38_440, 351), "optimized": (
            float(rng.lognormal(np.log(0.008), 0.35)), int(rng.integers(4_000, 40_000)),
            int(rng.integers(300, 356)))}
        for name, (median_ms, size_bytes, correct) in models.items():
            samples = list(rng.lognormal(np.log(median_ms), 0.05, samples_per_model))
            stats = BenchmarkResult(samples, warmup_runs=2).to_dict()
            low, high = clopper_pearson(correct, n_test)
            report = dict(template[name])
            metrics = dict(report["metrics"])
            metrics.update(
                # SimpleMLP(64, 128, 10): 9,610 float32 values; an optimized model stores about a byte a value.
                parameter_count=9_610 if name == "baseline" else min(9_610, size_bytes),
                model_size_bytes=size_bytes, model_size_mb=size_bytes / 1e6, accuracy=correct / n_test,
                accuracy_ci={"low": low, "high": high, "confidence_level": 0.95, "method": "Clopper-Pearson",
                             "n_samples": n_test},
                latency_ms_mean=stats["mean"], latency_ms_std=stats["std"],
                latency={"batch_size": 1, **{k: stats[k] for k in (
                    "n", "warmup_runs", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci",
                    "confidence_level", "percentile_method", "mean_ci_method", "median_ci_method", "outliers",
                    "stable", "stability_reason")}, "samples_ms": samples})
            config = dict(report["benchmark_config"], num_runs=samples_per_model,
                          dataset={"name": "digits", "n_samples": n_test, "sha256": digits_sha256()})
            doc[name] = {**report, "metrics": metrics, "benchmark_config": config}
        b, o = doc["baseline"]["metrics"], doc["optimized"]["metrics"]
        doc["improvements"] = {"speedup": b["latency_ms_mean"] / o["latency_ms_mean"],
                               "compression_ratio": b["model_size_mb"] / o["model_size_mb"],
                               "accuracy_delta": o["accuracy"] - b["accuracy"]}
        documents[f"student{index + 1:04d}"] = doc
    return documents
