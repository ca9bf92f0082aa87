"""The schema and the semantic layer accept real submissions and reject a corpus of broken ones."""

from __future__ import annotations

import copy
import json
import math

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.olympics import SubmissionError, load_schema, semantic_problems, validate_submission_schema
from tinytorch.olympics.schema import KNOWN_VERSIONS, SCHEMA_VERSION

from .conftest import EXAMPLES, with_samples


def test_schema_is_draft_2020_12_and_versioned():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(SCHEMA_VERSION)
    assert schema["properties"]["schema_version"]["enum"] == list(KNOWN_VERSIONS) == ["1.0.0", SCHEMA_VERSION]
    assert set(schema["$defs"]["metrics"]["required"]) >= {
        "parameter_count", "model_size_mb", "accuracy", "latency_ms_mean", "latency_ms_std",
        "throughput_samples_per_sec"}
    schema["title"] = "changed"
    assert load_schema()["title"] != "changed", "load_schema must hand out copies"


def test_the_valid_examples_pass_both_layers(optimized, baseline_only):
    for doc in (optimized, baseline_only):
        assert validate_submission_schema(doc) is True
        assert semantic_problems(doc) == []


def rejected(doc) -> SubmissionError:
    with pytest.raises(SubmissionError) as info:
        validate_submission_schema(doc)
    return info.value


CORPUS = {
    # name: (mutation, JSON path expected in a problem, rule expected)
    "missing top-level field": (lambda d: d.pop("system_info"), "$", "required"),
    "missing metric": (lambda d: d["baseline"]["metrics"].pop("latency_ms_std"), "$.baseline.metrics", "required"),
    "string for number": (lambda d: d["baseline"]["metrics"].__setitem__("model_size_mb", "0.04"),
                          "$.baseline.metrics.model_size_mb", "type"),
    "boolean for number": (lambda d: d["optimized"]["metrics"].__setitem__("latency_ms_mean", True),
                           "$.optimized.metrics.latency_ms_mean", "type"),
    "boolean for integer": (lambda d: d["baseline"]["metrics"].__setitem__("parameter_count", False),
                            "$.baseline.metrics.parameter_count", "type"),
    "NaN": (lambda d: d["baseline"]["metrics"]["latency"].__setitem__("p99", float("nan")),
            "$.baseline.metrics.latency.p99", "finite"),
    "Infinity": (lambda d: d["improvements"].__setitem__("speedup", math.inf), "$.improvements.speedup", "finite"),
    "accuracy as percentage": (lambda d: d["baseline"]["metrics"].__setitem__("accuracy", 97.7),
                               "$.baseline.metrics.accuracy", "maximum"),
    "negative latency": (lambda d: d["baseline"]["metrics"]["latency"].__setitem__("min", -1.0),
                         "$.baseline.metrics.latency.min", "minimum"),
    "negative median interval": (lambda d: d["baseline"]["metrics"]["latency"]["median_ci"].__setitem__(0, -0.1),
                                 "$.baseline.metrics.latency.median_ci[0]", "minimum"),
    "latency measured on a batch": (lambda d: d["baseline"]["metrics"]["latency"].__setitem__("batch_size", 32),
                                    "$.baseline.metrics.latency.batch_size", "const"),
    "inverted speedup": (lambda d: d["improvements"].__setitem__("speedup", 1 / d["improvements"]["speedup"]),
                         "$.improvements.speedup", "improvements-agree"),
    "inverted compression": (lambda d: d["improvements"].__setitem__(
        "compression_ratio", 1 / d["improvements"]["compression_ratio"]), "$.improvements.compression_ratio",
        "improvements-agree"),
    "accuracy delta sign": (lambda d: d["improvements"].__setitem__(
        "accuracy_delta", -d["improvements"]["accuracy_delta"] + 0.01), "$.improvements.accuracy_delta",
        "improvements-agree"),
    "percentiles out of order": (lambda d: d["baseline"]["metrics"]["latency"].__setitem__(
        "p90", d["baseline"]["metrics"]["latency"]["max"] + 1), "$.baseline.metrics.latency.p90", "percentile-order"),
    "interval misses its mean": (lambda d: d["baseline"]["metrics"]["latency"].__setitem__("mean_ci", [100.0, 200.0]),
                                 "$.baseline.metrics.latency.mean_ci", "interval-brackets"),
    "MiB instead of MB": (lambda d: d["baseline"]["metrics"].__setitem__(
        "model_size_mb", d["baseline"]["metrics"]["model_size_bytes"] / 2**20), "$.baseline.metrics.model_size_mb",
        "size-units"),
    "different test data": (lambda d: d["optimized"]["benchmark_config"]["dataset"].__setitem__("sha256", "0" * 64),
                            "$.optimized.benchmark_config.dataset", "same-dataset"),
    "unknown schema version": (lambda d: d.__setitem__("schema_version", "2.0.0"), "$.schema_version", "version"),
    "timestamp not UTC": (lambda d: d.__setitem__("timestamp", "2026-11-28T13:00:00+02:00"), "$.timestamp", "pattern"),
    "impossible date": (lambda d: d.__setitem__("timestamp", "2026-13-45T13:00:00Z"), "$.timestamp", "timestamp"),
    "optimized without improvements": (lambda d: d.pop("improvements"), "$", "required"),
    "typo at top level": (lambda d: d.__setitem__("improvments", {}), "$", "additionalProperties"),
    "samples disagree with n": (lambda d: d["baseline"]["metrics"]["latency"]["samples_ms"].pop(),
                                "$.baseline.metrics.latency.samples_ms", "samples-consistent"),
    "empty technique list": (lambda d: d["optimized"].__setitem__("techniques_applied", []),
                             "$.optimized.techniques_applied", "minItems"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_of_broken_submissions_is_rejected_with_path_and_rule(optimized, name):
    mutate, path, rule = CORPUS[name]
    mutate(optimized)
    error = rejected(optimized)
    assert any(p.path == path and p.rule == rule for p in error.problems), (
        f"{name}: expected [{rule}] at {path}; got {[str(p) for p in error.problems]}")
    assert path in str(error) and rule in str(error)


def test_every_problem_is_reported_at_once(optimized):
    optimized["baseline"]["metrics"]["accuracy"] = 1.5
    optimized["optimized"]["metrics"]["latency_ms_std"] = float("nan")
    optimized["improvements"]["speedup"] *= 3
    paths = {p.path for p in rejected(optimized).problems}
    assert {"$.baseline.metrics.accuracy", "$.optimized.metrics.latency_ms_std", "$.improvements.speedup"} <= paths


def test_non_objects_are_rejected_cleanly():
    for doc in (None, [], "results", 3.5):
        assert rejected(doc).problems[0].path == "$"


def test_a_t_interval_reaching_below_zero_is_accepted(baseline_only):
    """Heavy-tailed samples push mean - t·s/√n below 0: honest arithmetic, not an error."""
    doc = with_samples(baseline_only, [0.01] * 9 + [10.0])
    assert doc["baseline"]["metrics"]["latency"]["mean_ci"][0] < 0
    assert validate_submission_schema(doc)


def test_a_baseline_only_submission_may_not_carry_improvements(baseline_only, optimized):
    baseline_only["improvements"] = copy.deepcopy(optimized["improvements"])
    assert any(p.rule == "not" for p in rejected(baseline_only).problems)


@given(factor=st.floats(0.5, 2.0).filter(lambda f: abs(f - 1.0) > 1e-3))
def test_any_speedup_other_than_the_reports_ratio_is_refused(factor):
    doc = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    doc["improvements"]["speedup"] *= factor
    assert [p.rule for p in semantic_problems(doc)] == ["improvements-agree"]


@given(scale=st.floats(0.01, 100.0))
def test_semantic_rules_are_unit_free(scale):
    """Scaling every latency figure together keeps a valid submission valid."""
    doc = json.loads((EXAMPLES / "valid" / "baseline_only.json").read_text())
    m = doc["baseline"]["metrics"]
    lat = m["latency"]
    for key in ("median", "p90", "p99", "min", "max"):
        lat[key] *= scale
    lat["mean_ci"] = [v * scale for v in lat["mean_ci"]]
    lat["median_ci"] = [v * scale for v in lat["median_ci"]]
    lat["samples_ms"] = [v * scale for v in lat["samples_ms"]]
    m["latency_ms_mean"] *= scale
    m["latency_ms_std"] *= scale
    assert semantic_problems(doc) == []


def test_example_files_are_judged_as_their_folder_says():
    from tinytorch.olympics.files import load_submission_file

    for path in sorted((EXAMPLES / "valid").glob("*.json")):
        doc, problems = load_submission_file(str(path))
        assert not problems and validate_submission_schema(doc), path.name
    invalid = sorted((EXAMPLES / "invalid").glob("*.json"))
    assert len(invalid) >= 7
    for path in invalid:
        doc, problems = load_submission_file(str(path))
        if not problems:
            with pytest.raises(SubmissionError):
                validate_submission_schema(doc)
