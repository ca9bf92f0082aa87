"""Cross-field rules that held only for one spelling or one magnitude: the audit's reproducers, and a property.

Rules compare numbers by value (``50`` and ``50.0`` are the same count), with tolerances that fit
their quantities (a statistic that can be 0 gets an absolute floor), and a rule never passes
because its arithmetic overflowed.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.olympics.schema import submission_problems
from tinytorch.perf.benchmarking import BenchmarkResult

from .conftest import EXAMPLES

VALID = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())


def rules(document: dict) -> set[tuple[str, str]]:
    return {(p.path, p.rule) for p in submission_problems(document)}


def changed(change) -> dict:
    doc = copy.deepcopy(VALID)
    change(doc)
    return doc


def test_the_example_is_valid():
    assert rules(VALID) == set()


@pytest.mark.parametrize("field, config_field", [
    (("latency", "n"), None), (("latency", "warmup_runs"), "warmup_runs"), (("throughput", "batch_size"),
                                                                          "throughput_batch_size")])
def test_a_count_written_as_a_whole_float_is_still_checked(field, config_field):
    def respell(doc):
        metrics = doc["baseline"]["metrics"]
        metrics[field[0]][field[1]] = float(metrics[field[0]][field[1]] + 1)
    assert rules(changed(respell)), f"{field} + 1, written as a float, must still break its cross-field rule"


def test_a_whole_float_count_that_agrees_is_accepted():
    def respell(doc):
        for key in ("n", "warmup_runs", "outliers"):
            doc["baseline"]["metrics"]["latency"][key] = float(doc["baseline"]["metrics"]["latency"][key])
    assert rules(changed(respell)) == set()


def test_an_empty_sample_list_must_match_n():
    doc = changed(lambda d: d["baseline"]["metrics"]["latency"].__setitem__("samples_ms", []))
    assert ("$.baseline.metrics.latency.samples_ms", "samples-consistent") in rules(doc)


def test_more_outliers_than_samples_is_refused():
    doc = changed(lambda d: d["baseline"]["metrics"]["latency"].__setitem__(
        "outliers", d["baseline"]["metrics"]["latency"]["n"] + 1))
    assert ("$.baseline.metrics.latency.outliers", "outliers-count") in rules(doc)


def test_an_accuracy_no_whole_count_can_give_is_refused():
    doc = changed(lambda d: d["baseline"]["metrics"].__setitem__("accuracy", 0.5))   # 0.5 of 359
    assert ("$.baseline.metrics.accuracy", "accuracy-count") in rules(doc)


def test_an_overflowing_expected_speedup_is_not_agreement():
    def tiny(doc):
        lat = doc["optimized"]["metrics"]
        lat["latency_ms_mean"] = 1e-310
    found = {p.rule: p.message for p in submission_problems(changed(tiny)) if p.path == "$.improvements.speedup"}
    assert "overflows" in found.get("improvements-agree", "")


@pytest.mark.parametrize("where", [("system_info", "git_commit"), ("baseline", "benchmark_config", "dataset", "sha256")])
def test_a_pattern_does_not_let_a_final_newline_through(where):
    def newline(doc):
        target = doc
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = (target[where[-1]] or "abcdef1") + "\n"
    assert any(rule == "pattern" for _, rule in rules(changed(newline)))


def test_different_dataset_names_are_different_datasets():
    doc = changed(lambda d: d["optimized"]["benchmark_config"]["dataset"].__setitem__("name", "mnist"))
    assert ("$.optimized.benchmark_config.dataset", "same-dataset") in rules(doc)


def test_a_zero_accuracy_with_a_wilson_low_bound_of_rounding_size_is_accepted():
    def zero(doc):
        metrics = doc["baseline"]["metrics"]
        metrics["accuracy"] = 0.0
        metrics["accuracy_ci"].update(low=2.8e-17, high=0.0106)
        doc["improvements"]["accuracy_delta"] = doc["optimized"]["metrics"]["accuracy"]
    assert not {r for r in rules(changed(zero)) if r[1] == "interval-brackets"}


def with_samples(doc: dict, samples: list[float]) -> dict:
    """``doc`` with its baseline latency statistics computed by the project's own BenchmarkResult."""
    doc = copy.deepcopy(doc)
    stats = BenchmarkResult(samples, warmup_runs=doc["baseline"]["metrics"]["latency"]["warmup_runs"]).to_dict()
    metrics = doc["baseline"]["metrics"]
    metrics["latency_ms_mean"], metrics["latency_ms_std"] = stats["mean"], stats["std"]
    for key in ("n", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "outliers", "stable",
                "stability_reason"):
        metrics["latency"][key] = stats[key]
    metrics["latency"]["samples_ms"] = list(samples)
    doc["baseline"]["benchmark_config"]["num_runs"] = len(samples)
    doc["improvements"]["speedup"] = stats["mean"] / doc["optimized"]["metrics"]["latency_ms_mean"]
    return doc


_positive = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)


@given(st.one_of(st.lists(_positive, min_size=6, max_size=60),
                 st.builds(lambda v, n: [v] * n, _positive, st.integers(6, 60))))
def test_every_document_benchmark_result_produces_validates(samples):
    assert rules(with_samples(VALID, samples)) == set()


def test_constant_samples_whose_float_mean_is_off_by_rounding_validate():
    assert sum([1.1] * 7) / 7 != 1.1  # the reproducer: 1.0999999999999999
    assert rules(with_samples(VALID, [1.1] * 7)) == set()
