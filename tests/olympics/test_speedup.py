"""The median speedup: measured taking turns, recomputable by the validator, refused when it does not add up."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.olympics.schema import submission_problems
from tinytorch.olympics.speedup import measure_median_speedup, median_speedup_of
from tinytorch.olympics.testing import SleepyModel

from .conftest import EXAMPLES


def _entry(seed: int = 0, shift: float = 2.0, rounds: int = 4, per_round: int = 10) -> dict:
    rng = np.random.default_rng(seed)
    baseline = list(rng.lognormal(np.log(0.02 * shift), 0.1, rounds * per_round))
    optimized = list(rng.lognormal(np.log(0.02), 0.1, rounds * per_round))
    return median_speedup_of(baseline, optimized, rounds, per_round)


def _with(doc: dict, entry: dict, version: str = "1.1.0") -> dict:
    doc = copy.deepcopy(doc)
    doc["schema_version"] = version
    doc["improvements"]["median_speedup"] = entry
    return doc


def _rules(doc: dict) -> set[tuple[str, str]]:
    return {(p.path, p.rule) for p in submission_problems(doc)}


def test_two_models_are_measured_taking_turns_and_the_slower_one_is_named():
    slow, fast = SleepyModel(0.002), SleepyModel(0.0005)
    entry = measure_median_speedup(slow, fast, np.zeros((3, 64), np.float32), rounds=3, runs_per_round=8,
                                   warmup_runs=1)
    assert len(slow.shapes) == len(fast.shapes) == 3 * (8 + 1), "each round warms up, then times, both models"
    assert all(shape == (1, 64) for shape in slow.shapes + fast.shapes), "latency is per sample"
    assert len(entry["baseline_samples_ms"]) == len(entry["optimized_samples_ms"]) == 24
    assert entry["verdict"] == "faster" and entry["ci"][0] > 1 and 2 < entry["ratio"] < 6


def test_a_submission_with_the_median_speedup_validates(optimized):
    assert submission_problems(_with(optimized, _entry())) == []


def test_every_1_0_0_example_stays_valid_and_may_not_hold_the_new_field(optimized):
    assert optimized["schema_version"] == "1.0.0" and submission_problems(optimized) == []
    assert ("$.improvements.median_speedup", "version") in _rules(_with(optimized, _entry(), version="1.0.0"))


@pytest.mark.parametrize("change, path", [
    (lambda e: e.__setitem__("ratio", e["ratio"] * 1.1), "$.improvements.median_speedup.ratio"),
    (lambda e: e["ci"].__setitem__(0, e["ci"][0] / 2), "$.improvements.median_speedup.ci"),
    (lambda e: e.__setitem__("verdict", "no significant difference"), "$.improvements.median_speedup.verdict"),
    (lambda e: e.__setitem__("rounds", 5), "$.improvements.median_speedup.baseline_samples_ms"),
    (lambda e: e["optimized_samples_ms"].pop(), "$.improvements.median_speedup.optimized_samples_ms"),
])
def test_a_figure_the_listed_samples_do_not_give_is_refused_where_it_is(optimized, change, path):
    entry = _entry()
    change(entry)
    assert (path, "samples-consistent") in _rules(_with(optimized, entry))


@pytest.mark.parametrize("bad, rule", [
    ({"baseline_samples_ms": [0.0, 1.0]}, "exclusiveMinimum"),
    ({"verdict": "quicker"}, "enum"),
    ({"extra": 1}, "unknown-key"),
])
def test_the_schema_refuses_what_no_interval_can_be_made_of(optimized, bad, rule):
    assert rule in {r for _, r in _rules(_with(optimized, {**_entry(), **bad}))}


_positive = st.floats(1e-4, 1e4)


@given(st.integers(2, 40).flatmap(lambda n: st.tuples(st.lists(_positive, min_size=n, max_size=n),
                                                        st.lists(_positive, min_size=n, max_size=n))))
@settings(max_examples=150, deadline=None)
def test_any_positive_samples_give_an_entry_that_validates(pair):
    baseline, candidate = pair
    doc = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    entry = median_speedup_of(baseline, candidate, rounds=1, runs_per_round=len(baseline))
    assert submission_problems(_with(doc, entry)) == []


_any_positive = st.floats(min_value=5e-324, max_value=1.7e308, allow_nan=False, allow_infinity=False)


@given(st.lists(_any_positive, min_size=2, max_size=20), st.lists(_any_positive, min_size=2, max_size=20))
@settings(max_examples=150, deadline=None)
def test_samples_anywhere_in_the_float_range_get_a_verdict_not_a_crash(baseline, candidate):
    doc = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    entry = {"ratio": 1.0, "ci": [0.5, 2.0], "confidence_level": 0.95, "method": "m",
             "verdict": "no significant difference", "rounds": 1, "runs_per_round": len(baseline),
             "baseline_samples_ms": baseline, "optimized_samples_ms": candidate}
    problems = submission_problems(_with(doc, entry))      # must not raise
    assert all(p.path.startswith("$.improvements.median_speedup") for p in problems)


def test_medians_whose_ratio_passes_the_float_range_are_a_range_problem(optimized):
    entry = {**_entry(), "baseline_samples_ms": [1e300] * 40, "optimized_samples_ms": [1e-300] * 40}
    assert ("$.improvements.median_speedup.ratio", "range") in _rules(_with(optimized, entry))
