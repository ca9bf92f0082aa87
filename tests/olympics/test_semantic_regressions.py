"""Cross-field rules that held only for one spelling or one magnitude: the audit's reproducers, and a property.

Rules compare numbers by value (``50`` and ``50.0`` are the same count), with tolerances that fit
their quantities (a statistic that can be 0 gets an absolute floor), and a rule never passes
because its arithmetic overflowed.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.olympics.schema import MAX_LATENCY_MS, json_path, semantic_problems, submission_problems

from .conftest import EXAMPLES, with_samples

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


@pytest.mark.parametrize("where", [("system_info", "git_commit"),
                                   ("baseline", "benchmark_config", "dataset", "sha256")])
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


_positive = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)


@given(st.one_of(st.lists(_positive, min_size=6, max_size=60),
                 st.builds(lambda v, n: [v] * n, _positive, st.integers(6, 60))))
def test_every_document_benchmark_result_produces_validates(samples):
    assert rules(with_samples(VALID, samples)) == set()


def test_constant_samples_whose_float_mean_is_off_by_rounding_validate():
    assert sum([1.1] * 7) / 7 != 1.1  # the reproducer: 1.0999999999999999
    assert rules(with_samples(VALID, [1.1] * 7)) == set()


def test_a_misspelt_key_is_refused_with_the_field_it_meant():
    def typo(doc):
        lat = doc["baseline"]["metrics"]["latency"]
        lat["samples_MS"] = lat.pop("samples_ms")
    found = {p.path: p for p in submission_problems(changed(typo))}
    problem = found["$.baseline.metrics.latency.samples_MS"]
    assert problem.rule == "unknown-key" and "did you mean 'samples_ms'?" in problem.message


@pytest.mark.parametrize("where", [("system_info",), ("system_info", "blas"), ("baseline",), ("optimized",),
                                   ("baseline", "benchmark_config"), ("baseline", "benchmark_config", "dataset"),
                                   ("optimized", "metrics"), ("optimized", "metrics", "accuracy_ci"),
                                   ("optimized", "metrics", "throughput"), ("improvements",)])
def test_every_object_refuses_a_key_it_does_not_define(where):
    def add(doc):
        target = doc
        for key in where:
            target = target[key]
        target["extra"] = 1
    assert (json_path([*where, "extra"]), "unknown-key") in rules(changed(add))


def test_techniques_applied_belongs_to_the_optimized_report_only():
    doc = changed(lambda d: d["baseline"].__setitem__("techniques_applied", ["quantize"]))
    assert ("$.baseline.techniques_applied", "unknown-key") in rules(doc)


def _latency(doc: dict) -> dict:
    return doc["baseline"]["metrics"]["latency"]


# Each statistic the report derives from its samples, written wrongly in a way a harness could get wrong.
_DERIVED_MISTAKES = {
    "latency_ms_mean": lambda d: d["baseline"]["metrics"].__setitem__(
        "latency_ms_mean", float(np.mean(_latency(d)["samples_ms"][1:]))),            # first sample dropped
    "latency_ms_std": lambda d: d["baseline"]["metrics"].__setitem__(
        "latency_ms_std", float(np.var(_latency(d)["samples_ms"], ddof=1))),          # a variance
    "latency.median": lambda d: _latency(d).__setitem__("median", float(np.mean(_latency(d)["samples_ms"]))),
    "latency.p90": lambda d: _latency(d).__setitem__(
        "p90", float(np.percentile(_latency(d)["samples_ms"], 95))),
    "latency.p99": lambda d: _latency(d).__setitem__(
        "p99", float(np.percentile(_latency(d)["samples_ms"], 99, method="lower"))),
    "latency.outliers": lambda d: _latency(d).__setitem__("outliers", _latency(d)["outliers"] + 1),
    "latency.mean_ci": lambda d: _latency(d).__setitem__(
        "mean_ci", [v * 1.5 for v in _latency(d)["mean_ci"]]),
    "latency.median_ci": lambda d: _latency(d).__setitem__(
        "median_ci", sorted(_latency(d)["samples_ms"])[20:22]),
}


@pytest.mark.parametrize("stat", sorted(_DERIVED_MISTAKES))
def test_a_statistic_that_does_not_follow_from_the_listed_samples_is_refused(stat):
    doc = changed(_DERIVED_MISTAKES[stat])
    assert (f"$.baseline.metrics.{stat}", "samples-consistent") in rules(doc)


@pytest.mark.parametrize("stat", sorted(_DERIVED_MISTAKES))
def test_without_samples_the_same_statistic_is_only_held_to_the_other_rules(stat):
    doc = changed(_DERIVED_MISTAKES[stat])
    del _latency(doc)["samples_ms"]
    assert not {rule for path, rule in rules(doc) if rule == "samples-consistent"}


def _latency_by(method_text: str, numpy_method: str, samples: list[float]) -> dict:
    doc = with_samples(VALID, samples)
    lat = _latency(doc)
    lat["percentile_method"] = method_text
    q1, lat["median"], lat["p90"], lat["p99"], q3 = (float(v) for v in np.percentile(
        samples, [25, 50, 90, 99, 75], method=numpy_method))
    data = np.array(samples)
    lat["outliers"] = int(np.count_nonzero((data < q1 - 1.5 * (q3 - q1)) | (data > q3 + 1.5 * (q3 - q1))))
    return doc


_SKEWED = [1.0, 1.2, 1.1, 1.3, 5.0, 1.05, 1.15, 1.25, 2.0, 1.4, 3.0]


@pytest.mark.parametrize("text, method", [("numpy.percentile method='weibull'", "weibull"), ("hazen", "hazen"),
                                          ("Hyndman-Fan type 1", "inverted_cdf"), ("R type 8", "median_unbiased")])
def test_percentiles_follow_the_method_the_report_names(text, method):
    assert rules(_latency_by(text, method, _SKEWED)) == set()
    other = _latency_by(text, "linear", _SKEWED)
    flagged = {path.rsplit(".", 1)[1] for path, rule in rules(other) if rule == "samples-consistent"}
    assert flagged & {"median", "p90", "p99"}, f"percentiles by 'linear' must not pass as {method!r}"


def test_a_method_named_in_other_words_is_held_to_what_any_hyndman_fan_method_gives():
    for method in ("inverted_cdf", "linear", "normal_unbiased", "interpolated_inverted_cdf"):
        assert rules(_latency_by("the spreadsheet's PERCENTILE function", method, _SKEWED)) == set(), method
    doc = _latency_by("the spreadsheet's PERCENTILE function", "linear", _SKEWED)
    _latency(doc)["p90"] = 4.9   # between samples, but no Hyndman-Fan method puts p90 there
    assert ("$.baseline.metrics.latency.p90", "samples-consistent") in rules(doc)


def _document_of(samples: list[float]) -> dict | None:
    """The document BenchmarkResult makes of ``samples``, or None where it refuses them (sums past the float range)."""
    try:
        return with_samples(VALID, samples)
    except ValueError as refused:
        assert "too large to summarize" in str(refused)
        return None


_any_sample = st.one_of(st.just(0.0), st.just(float(MAX_LATENCY_MS)),
                        st.floats(min_value=0.0, max_value=MAX_LATENCY_MS), st.floats(min_value=0.0, max_value=1e-300))


@given(st.one_of(st.lists(_any_sample, min_size=6, max_size=40),
                 st.builds(lambda v, n: [v] * n, _any_sample, st.integers(6, 40))))
def test_every_document_benchmark_result_produces_for_any_samples_validates(samples):
    """Zero, constant, subnormal and near-overflow samples included; a set BenchmarkResult refuses makes no document."""
    doc = _document_of(samples)
    if doc is None:
        return
    problems = [(p.path, p.rule) for p in submission_problems(doc) if not p.path.startswith("$.improvements")]
    if doc["baseline"]["metrics"]["latency_ms_mean"] == 0:   # a mean of 0 ms (or below the float range) is no
        # measurement: the schema's one objection
        assert problems == [("$.baseline.metrics.latency_ms_mean", "exclusiveMinimum")], samples
    else:
        assert problems == [], samples


@given(st.lists(st.floats(min_value=MAX_LATENCY_MS, max_value=1e300), min_size=6, max_size=40).filter(
    lambda samples: max(samples) > MAX_LATENCY_MS))
def test_a_latency_beyond_the_schemas_cap_is_refused_by_that_rule_alone(samples):
    doc = _document_of(samples)
    if doc is None:
        return
    rules_found = {p.rule for p in submission_problems(doc) if not p.path.startswith("$.improvements")}
    assert rules_found == {"maximum"}, samples


@pytest.mark.parametrize("where", [("latency_ms_mean",), ("latency", "p99"), ("latency", "mean_ci", 1)])
def test_a_statistic_near_the_top_of_the_float_range_is_compared_not_overflowed(where):
    """1.7e308 ms against samples of about 0.02 ms: the arithmetic overflows, and infinity agrees with nothing."""
    def huge(doc):
        target = doc["baseline"]["metrics"]
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = 1.7e308
    found = rules(changed(huge))
    assert (json_path(["baseline", "metrics", *where[:2]]), "samples-consistent") in found


def test_an_accuracy_far_out_of_range_gets_the_schema_verdict_not_an_overflow():
    doc = changed(lambda d: d["baseline"]["metrics"].__setitem__("accuracy", 5e305))
    assert ("$.baseline.metrics.accuracy", "maximum") in rules(doc)


@pytest.mark.slow
def test_the_wilson_interval_of_0_and_100_percent_validates_for_every_test_set_size_up_to_200000():
    """The audit found 36,792 sizes whose 0 % interval starts at a rounding error above 0 (such as 2.8e-17)."""
    from tinytorch.olympics import wilson_interval

    refused = []
    for n in range(1, 200_001):
        for correct in (0, n):
            low, high = wilson_interval(correct, n)
            doc = {"baseline": {"metrics": {"accuracy": correct / n,
                                            "accuracy_ci": {"low": low, "high": high, "n_samples": n}}}}
            if semantic_problems(doc):
                refused.append((correct, n))
    assert refused == []


@given(n=st.integers(1, 200_000), data=st.data())
def test_any_accuracy_with_its_wilson_interval_validates(n, data):
    from tinytorch.olympics import wilson_interval

    correct = data.draw(st.integers(0, n))
    def measured(doc):
        low, high = wilson_interval(correct, n)
        doc["baseline"]["metrics"]["accuracy"] = correct / n
        doc["baseline"]["metrics"]["accuracy_ci"].update(low=low, high=high, n_samples=n)
        doc["baseline"]["benchmark_config"]["dataset"]["n_samples"] = n
        doc["optimized"]["benchmark_config"]["dataset"]["n_samples"] = n
        doc["optimized"]["metrics"]["accuracy"] = correct / n
        doc["optimized"]["metrics"]["accuracy_ci"].update(low=low, high=high, n_samples=n)
        doc["improvements"]["accuracy_delta"] = 0.0
    assert rules(changed(measured)) == set()
