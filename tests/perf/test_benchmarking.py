"""Timer, statistics and the Benchmark runner, on purpose-built samples and fake clocks."""

from __future__ import annotations

import gc
import json
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.perf import benchmarking
from tinytorch.perf.benchmarking import Benchmark, BenchmarkResult, interleaved, precise_timer


class FakeClock:
    """A perf_counter_ns that advances only when told to."""

    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now

    def advance_ms(self, ms: float) -> None:
        self.now += int(ms * 1e6)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time, "perf_counter_ns", fake)
    return fake


def test_precise_timer_reports_elapsed_even_when_the_block_raises(clock):
    with precise_timer() as t:
        clock.advance_ms(2.5)
    assert t.elapsed_ns == 2_500_000 and t.elapsed_ms == 2.5
    with pytest.raises(KeyError):
        with precise_timer() as failing:
            clock.advance_ms(1.0)
            raise KeyError("boom")
    assert failing.elapsed_ms == 1.0


def test_statistics_of_one_to_ten_by_hand():
    r = BenchmarkResult(list(range(1, 11)))
    assert (r.n, r.mean, r.median, r.min, r.max) == (10, 5.5, 5.5, 1.0, 10.0)
    assert r.std == pytest.approx(3.0276503540974917)          # sample std, ddof = 1
    assert (r.q1, r.q3, r.iqr) == (3.25, 7.75, 4.5)
    assert r.p90 == pytest.approx(9.1) and r.p99 == pytest.approx(9.91)
    half = 2.2621571627409915 * r.std / np.sqrt(10)            # t_{0.975, 9}
    assert r.mean_ci == pytest.approx((5.5 - half, 5.5 + half))
    assert r.median_ci == (2.0, 9.0)                           # ranks 2 and 9 of 10
    assert r.outliers == 0


def test_tail_outlier_is_counted_and_flags_instability():
    r = BenchmarkResult([1.0] * 30 + [1.1] * 10 + [50.0])
    assert r.outliers == 1 and r.max == 50.0 and r.median == 1.0
    assert not r.stable and "coefficient of variation" in r.stability_reason
    steady = BenchmarkResult(np.linspace(1.0, 1.1, 50))
    assert steady.stable, steady.stability_reason


@given(st.lists(st.floats(0.001, 1000), min_size=6, max_size=200))
def test_statistics_agree_with_numpy(samples):
    r = BenchmarkResult(samples)
    data = np.asarray(samples)
    assert r.mean == pytest.approx(data.mean()) and r.std == pytest.approx(data.std(ddof=1), abs=1e-9)
    assert r.p99 == pytest.approx(np.percentile(data, 99))
    assert r.min <= r.q1 <= r.median <= r.p90 <= r.p95 <= r.p99 <= r.max
    assert r.mean_ci[0] <= r.mean <= r.mean_ci[1]
    assert r.median_ci[0] <= r.median <= r.median_ci[1]
    q1, q3 = np.percentile(data, [25, 75])
    assert r.outliers == np.sum((data < q1 - 1.5 * (q3 - q1)) | (data > q3 + 1.5 * (q3 - q1)))


def test_mean_interval_against_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed; hand-computed cases still run")
    data = np.random.default_rng(0).lognormal(size=25)
    lo, hi = stats.t.interval(0.95, 24, loc=data.mean(), scale=stats.sem(data))
    assert BenchmarkResult(data).mean_ci == pytest.approx((lo, hi), rel=1e-9)


def test_small_samples_get_no_interval_unless_required():
    r = BenchmarkResult([1.0, 2.0, 3.0])
    assert r.mean_ci is not None and r.median_ci is None and not r.stable
    assert BenchmarkResult([4.0]).mean_ci is None
    with pytest.raises(ValueError, match="3 samples are too few .* need at least 6"):
        BenchmarkResult([1.0, 2.0, 3.0], require_intervals=True)


@pytest.mark.parametrize("samples, error, fragment", [
    ([], ValueError, "no samples"),
    ([1.0, float("nan")], ValueError, "sample 1 is nan"),
    ([1.0, -2.0], ValueError, "sample 1 is -2.0"),
    ([[1.0, 2.0]], ValueError, r"one-dimensional; got shape \(1, 2\)"),
    (["fast"], ValueError, "sample 0 is 'fast'"),
    ("123", TypeError, "sequence of numbers"),
])
def test_bad_samples_are_named(samples, error, fragment):
    with pytest.raises(error, match=fragment):
        BenchmarkResult(samples)


def test_to_dict_is_strict_json_and_states_its_methods():
    d = BenchmarkResult(np.linspace(1, 2, 20), warmup_runs=5).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["warmup_runs"] == 5
    assert "linear" in d["percentile_method"] and "Student t" in d["mean_ci_method"]
    assert "order statistics" in d["median_ci_method"] and d["std_ddof"] == 1
    json.dumps(BenchmarkResult([1.0]).to_dict(), allow_nan=False)


def test_warmup_runs_are_executed_but_never_timed(clock):
    calls = []

    def cold_then_warm() -> None:
        calls.append(1)
        clock.advance_ms(100.0 if len(calls) <= 5 else 1.0)

    result = Benchmark(cold_then_warm, num_runs=20, warmup_runs=5).run()
    assert len(calls) == 25
    assert result.n == 20 and result.max == 1.0 and result.warmup_runs == 5
    calls.clear()
    unwarmed = Benchmark(cold_then_warm, num_runs=20, warmup_runs=0).run()
    assert unwarmed.max == 100.0 and unwarmed.warmup_runs == 0, "without warmup the cold calls are measured"


def test_min_time_extends_the_timed_runs(clock):
    bench = Benchmark(lambda: clock.advance_ms(10.0), num_runs=3, warmup_runs=0, min_time_s=0.1)
    result = bench.run()
    assert result.n >= 10 and len(bench.samples_ns) == result.n
    assert result.metadata["min_time_s"] == 0.1 and result.metadata["timer"] == "time.perf_counter_ns"


def test_gc_is_off_while_timing_and_restored_even_after_an_error():
    seen = []
    Benchmark(lambda: seen.append(gc.isenabled()), num_runs=5, warmup_runs=0).run()
    assert seen == [False] * 5 and gc.isenabled()

    def explode() -> None:
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        Benchmark(explode, num_runs=5, warmup_runs=0).run()
    assert gc.isenabled()
    seen.clear()
    result = Benchmark(lambda: seen.append(gc.isenabled()), num_runs=3, warmup_runs=0, gc_disabled=False).run()
    assert seen == [True] * 3 and result.metadata["gc_policy"] == "enabled"


@pytest.mark.parametrize("kwargs, fragment", [
    ({"num_runs": 0}, "num_runs must be an integer of at least 1; got 0"),
    ({"num_runs": True}, "num_runs must be an integer of at least 1; got True"),
    ({"num_runs": 2.0}, "num_runs must be an integer of at least 1; got 2.0"),
    ({"warmup_runs": -1}, "warmup_runs must be an integer of at least 0; got -1"),
    ({"min_time_s": -1.0}, "min_time_s must be a finite, non-negative number of seconds"),
    ({"min_time_s": float("inf")}, "min_time_s must be a finite, non-negative number of seconds; got inf"),
    ({"min_time_s": float("nan")}, "min_time_s must be a finite, non-negative number of seconds; got nan"),
])
def test_bad_benchmark_arguments_are_named(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        Benchmark(lambda: None, **kwargs)
    with pytest.raises(TypeError, match="needs a callable; got int"):
        Benchmark(3)


def test_module_constants_are_what_the_docs_say():
    assert benchmarking.PERCENTILE_METHOD == "linear" and benchmarking.CONFIDENCE == 0.95


def test_numpy_integers_are_counts_too():
    result = Benchmark(lambda: None, num_runs=np.int64(10), warmup_runs=np.int32(1)).run()
    assert result.n == 10 and result.warmup_runs == 1 and type(result.warmup_runs) is int


@pytest.mark.parametrize("samples, fragment", [
    (["1.0", "2.0"], "sample 0 is '1.0'"),
    ([1.0, True], "sample 1 is True"),
    (np.array([True, False]), "an array of bool"),
    ([1.0, 10**400], "sample 1 is an integer of 401 digits, beyond the float range"),
])
def test_result_refuses_samples_that_are_not_numbers(samples, fragment):
    with pytest.raises(ValueError, match=fragment):
        BenchmarkResult(samples)


def test_result_refuses_a_negative_warmup():
    with pytest.raises(ValueError, match="warmup_runs must be an integer of at least 0; got -1"):
        BenchmarkResult([1.0, 2.0], warmup_runs=-1)


def test_samples_near_the_top_of_the_float_range_are_summarized_or_refused_never_inf():
    huge = BenchmarkResult([1e308] * 7).to_dict()
    assert huge["mean"] == 1e308 and huge["std"] == 0.0 and huge["mean_ci"] == [1e308, 1e308]
    json.dumps(huge, allow_nan=False)  # no inf anywhere
    spread = BenchmarkResult([1e307, 1.5e308, 1e308, 1.2e308, 1.1e308, 1.3e308])
    assert spread.mean == pytest.approx(np.mean(np.array(spread.samples_ms) / 1e300) * 1e300)
    assert spread.std == pytest.approx(np.std(np.array(spread.samples_ms) / 1e300, ddof=1) * 1e300)
    with pytest.raises(ValueError, match="too large to summarize in float64"):
        BenchmarkResult([0.0, 1.7e308])  # its 95 % interval of the mean reaches past the float range


_ANY_SAMPLE = st.one_of(st.floats(), st.integers(-10**400, 10**400), st.booleans(), st.text(max_size=3), st.none(),
                        st.builds(np.float32, st.floats(width=32)), st.builds(np.int64, st.integers(-2**63, 2**63 - 1)))


@given(st.lists(_ANY_SAMPLE, max_size=8))
def test_any_list_of_values_gives_a_result_or_a_value_error_naming_the_problem(samples):
    def usable(v) -> bool:
        return (not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.floating, np.integer))
                and abs(int(v) if isinstance(v, int) else 0) <= 1.7976931348623157e308
                and np.isfinite(float(v)) and float(v) >= 0)
    if samples and all(usable(v) for v in samples):
        try:
            result = BenchmarkResult(samples)
        except ValueError as refused:    # the one refusal left: an interval beyond the float range
            assert "too large to summarize" in str(refused)
            return
        json.dumps(result.to_dict(), allow_nan=False)
    else:
        with pytest.raises(ValueError, match="samples|sample"):
            BenchmarkResult(samples)


def test_the_old_keyword_runs_still_works_and_says_its_new_name():
    with pytest.warns(DeprecationWarning, match="runs= is renamed num_runs="):
        bench = Benchmark(lambda: None, runs=7, warmup_runs=0)
    assert bench.num_runs == 7 and bench.run().n == 7
    with pytest.warns(DeprecationWarning, match="Benchmark.runs is renamed Benchmark.num_runs"):
        assert bench.runs == 7


def test_interleaved_takes_turns_reverses_the_order_and_collects_garbage_once(monkeypatch):
    order: list[str] = []
    enabled: list[bool] = []
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(1) or 0)

    def call(name: str):
        return lambda: (order.append(name), enabled.append(gc.isenabled()))

    samples = interleaved({"a": call("a"), "b": call("b")}, rounds=3, num_runs=2, warmup_runs=1,
                          between_rounds=lambda r: order.append(f"round {r}"))
    assert [len(samples["a"]), len(samples["b"])] == [6, 6]
    assert order == ["round 0", "a", "a", "a", "b", "b", "b", "round 1", "b", "b", "b", "a", "a", "a",
                     "round 2", "a", "a", "a", "b", "b", "b"]
    assert len(collections) == 1 and not any(enabled), "one collection, then no GC until the last round ends"
    assert gc.isenabled()
