"""Comparing two latency distributions: the median ratio's interval and the Mann-Whitney test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.perf.comparison import mann_whitney_u, median_ratio, significant_change

_samples = st.lists(st.floats(0.001, 1000.0, allow_nan=False), min_size=2, max_size=80)


def test_a_clear_speedup_is_called_faster_and_its_interval_brackets_the_ratio():
    rng = np.random.default_rng(0)
    baseline = rng.lognormal(np.log(20.0), 0.1, 200)
    optimized = rng.lognormal(np.log(10.0), 0.1, 200)
    result = median_ratio(baseline, optimized)
    assert result.verdict == "faster"
    assert result.low < result.ratio < result.high
    assert result.ratio == pytest.approx(np.median(baseline) / np.median(optimized))
    assert result.low < 2.0 < result.high and result.high - result.low < 0.2, "the true ratio, tightly"
    assert median_ratio(optimized, baseline).verdict == "slower"


def test_one_huge_outlier_moves_the_mean_ratio_but_not_the_median_ratio():
    rng = np.random.default_rng(1)
    baseline = rng.lognormal(np.log(0.013), 0.05, 200)
    optimized = rng.lognormal(np.log(0.013), 0.05, 200)
    spiked = optimized.copy()
    spiked[0] = 4.0                      # one 4 ms hiccup among 13 µs calls
    assert baseline.mean() / spiked.mean() < 0.5, "the ratio of means swings"
    assert median_ratio(baseline, spiked).ratio == pytest.approx(median_ratio(baseline, optimized).ratio, rel=0.02)
    assert median_ratio(baseline, spiked).verdict == "no significant difference"


def test_the_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    covered = 0
    trials = 400
    for _ in range(trials):
        a = rng.lognormal(np.log(10.0), 0.3, 60)
        b = rng.lognormal(np.log(8.0), 0.3, 60)
        r = median_ratio(a, b)
        covered += r.low <= 10.0 / 8.0 <= r.high
    assert 0.91 <= covered / trials <= 0.99, covered / trials


@given(_samples, _samples, st.floats(0.01, 100.0))
@settings(max_examples=200, deadline=None)
def test_rescaling_one_side_rescales_the_ratio_and_its_interval(a, b, k):
    plain, scaled = median_ratio(a, b), median_ratio(a, np.asarray(b) * k)
    assert scaled.ratio == pytest.approx(plain.ratio / k, rel=1e-9)
    assert scaled.low == pytest.approx(plain.low / k, rel=1e-9)
    assert scaled.high == pytest.approx(plain.high / k, rel=1e-9)


@given(_samples)
@settings(max_examples=200, deadline=None)
def test_a_distribution_against_itself_is_no_significant_difference(a):
    result = median_ratio(a, a)
    assert result.ratio == pytest.approx(1.0) and result.verdict == "no significant difference"
    assert mann_whitney_u(a, a)[1] == pytest.approx(1.0)


@pytest.mark.parametrize("bad, message", [
    ([1.0], "needs at least 2 samples"),
    ([1.0, 0.0, 2.0], "finite and positive"),
    ([1.0, float("nan")], "finite and positive"),
])
def test_samples_a_ratio_cannot_use_are_refused_by_name(bad, message):
    with pytest.raises(ValueError, match=message):
        median_ratio([1.0, 2.0, 3.0], bad)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=40), st.lists(st.integers(0, 20), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_mann_whitney_agrees_with_scipy_including_ties(x, y):
    scipy_stats = pytest.importorskip("scipy.stats", reason="scipy is the optional reference for the U test")
    u, p = mann_whitney_u(x, y)
    ref = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True, method="asymptotic")
    assert u == pytest.approx(ref.statistic)
    if np.isnan(ref.pvalue):     # scipy gives nan when every value is equal; that is no evidence: p = 1
        assert p == 1.0
    else:
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def test_a_change_counts_only_when_it_is_both_large_enough_and_significant():
    assert significant_change(1.2, 0.001)
    assert significant_change(1 / 1.2, 0.001), "a slowdown of the same factor counts too"
    assert not significant_change(1.05, 1e-9), "below the minimum effect"
    assert not significant_change(1.5, 0.2), "not significant"
    assert significant_change(1.5, None), "without samples the caller decided significance already"
    with pytest.raises(ValueError, match="factor of at least 1"):
        significant_change(1.2, 0.01, min_effect=0.5)
