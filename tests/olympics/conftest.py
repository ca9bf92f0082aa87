"""Valid submissions to mutate: the examples shipped beside the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tinytorch.perf.benchmarking import BenchmarkResult

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


@pytest.fixture
def optimized() -> dict:
    return copy.deepcopy(json.loads((EXAMPLES / "valid" / "optimized.json").read_text()))


@pytest.fixture
def baseline_only() -> dict:
    return copy.deepcopy(json.loads((EXAMPLES / "valid" / "baseline_only.json").read_text()))


def with_samples(doc: dict, samples: list[float]) -> dict:
    """``doc`` with its baseline latency statistics computed by the project's own BenchmarkResult."""
    doc = copy.deepcopy(doc)
    stats = BenchmarkResult(samples, warmup_runs=doc["baseline"]["metrics"]["latency"]["warmup_runs"]).to_dict()
    metrics = doc["baseline"]["metrics"]
    metrics["latency_ms_mean"], metrics["latency_ms_std"] = stats["mean"], stats["std"]
    for key in ("n", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "outliers", "stable",
                "stability_reason", "percentile_method", "mean_ci_method", "median_ci_method", "confidence_level"):
        metrics["latency"][key] = stats[key]
    metrics["latency"]["samples_ms"] = list(samples)
    doc["baseline"]["benchmark_config"]["num_runs"] = len(samples)
    if "improvements" in doc:
        doc["improvements"]["speedup"] = stats["mean"] / doc["optimized"]["metrics"]["latency_ms_mean"]
    return doc
