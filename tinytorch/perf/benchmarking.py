"""Benchmarking (Module 19): time a call many times and say honestly what the samples mean.

Three rules shape this module:

1. The timer is ``time.perf_counter_ns``: monotonic, the finest clock Python has, and
   integer nanoseconds, so nothing is lost to float rounding before the subtraction.
2. Warmup runs are executed (caches, allocator and branch predictors settle) but never
   enter the statistics; their count is reported so a reader knows they happened.
3. A result carries its spread, its tails and confidence intervals with the method that
   produced them, and says when the spread is too wide to trust the centre.
"""

from __future__ import annotations

import gc
import math
import numbers
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Final, Iterator, Optional, Sequence, Union

import numpy as np

from tinytorch.core.deprecation import renamed_argument, warn_renamed
from tinytorch.perf.distributions import median_ci_ranks, student_t_ppf

__all__ = ["Timing", "precise_timer", "BenchmarkResult", "Benchmark", "interleaved", "PERCENTILE_METHOD"]

# numpy's default ("linear", Hyndman & Fan type 7): the same as Excel's PERCENTILE.INC
# and R's default, so a reader can reproduce every percentile we report.
PERCENTILE_METHOD: Final = "linear"
CONFIDENCE = 0.95
# A result is flagged unstable when its coefficient of variation exceeds this, or when
# more than OUTLIER_LIMIT of its samples are Tukey outliers.
CV_LIMIT = 0.10
OUTLIER_LIMIT = 0.05


@dataclass
class Timing:
    """Filled in when a ``precise_timer`` block exits, even if it raised."""

    elapsed_ns: int = 0

    @property
    def elapsed_ms(self) -> float:
        return self.elapsed_ns / 1e6


@contextmanager
def precise_timer() -> Iterator[Timing]:
    """``with precise_timer() as t: work()`` then read ``t.elapsed_ms``.

    The elapsed time is recorded in a ``finally`` block, so a timed call that raises
    still leaves an accurate duration behind and the exception propagates unchanged.
    """
    timing = Timing()
    start = time.perf_counter_ns()
    try:
        yield timing
    finally:
        timing.elapsed_ns = time.perf_counter_ns() - start


def _count(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int if it is a whole number (Python's or numpy's, never a bool) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}; got {value!r}")
    return int(value)


def _samples_array(samples_ms: Union[Sequence[float], np.ndarray]) -> np.ndarray:
    values = samples_ms if isinstance(samples_ms, np.ndarray) else list(samples_ms) \
        if isinstance(samples_ms, (list, tuple)) else None
    if values is None:
        raise TypeError("samples must be a sequence of numbers (milliseconds)")
    # A container that is not a sequence is a TypeError; a sequence holding something other than
    # numbers is a ValueError naming the sample, as numpy reports an element it cannot convert.
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iuf":
            raise ValueError(f"samples must be a sequence of numbers (milliseconds); got an array of {values.dtype}")
    else:
        for index, value in enumerate(values):
            if isinstance(value, (list, tuple)):
                continue  # a nested sequence: reported below as a shape error
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ValueError(f"samples must be a sequence of numbers (milliseconds); sample {index} is {value!r}")
            if isinstance(value, numbers.Integral) and abs(int(value)) > sys.float_info.max:
                raise ValueError(f"samples must be finite, non-negative durations; sample {index} is an integer "
                                 f"of {len(str(abs(int(value))))} digits, beyond the float range")
    try:
        data = np.asarray(samples_ms, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("samples must be a sequence of numbers (milliseconds)") from None
    if data.ndim != 1:
        raise ValueError(f"samples must be one-dimensional; got shape {data.shape}")
    if data.size == 0:
        raise ValueError("no samples: a benchmark result needs at least one timed run")
    bad = np.flatnonzero(~np.isfinite(data) | (data < 0))
    if bad.size:
        raise ValueError(
            f"samples must be finite, non-negative durations; sample {bad[0]} is {float(data[bad[0]])!r}"
        )
    return data


class BenchmarkResult:
    """Statistics of raw latency samples in milliseconds.

    Interval fields are ``None`` when there are too few samples for them (the mean's
    needs n ≥ 2, the median's n ≥ 6); ``require_intervals=True`` turns that into an error.
    """

    def __init__(self, samples_ms: Union[Sequence[float], np.ndarray], name: str = "benchmark", warmup_runs: int = 0,
                 metadata: Optional[dict[str, Any]] = None, require_intervals: bool = False) -> None:
        data = _samples_array(samples_ms)
        self.samples_ms = data
        self.name = name
        self.warmup_runs = _count(warmup_runs, "warmup_runs", 0)
        self.metadata = dict(metadata or {})
        n = data.size
        if require_intervals and n < 6:
            median_ci_ranks(n)  # raises with the minimum n in its message
        self.n = n
        # Mean and spread are computed on the samples scaled by a power of two (exact, so the
        # figures are bit-identical in the usual range): a sum or square of samples near the top
        # of the float range would otherwise overflow although the mean and spread do not.
        exponent = math.frexp(float(data.max()))[1]
        unit = np.ldexp(data, -exponent)
        self.mean = float(np.ldexp(unit.mean(), exponent))
        self.std = float(np.ldexp(unit.std(ddof=1), exponent)) if n > 1 else 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, not warned about
            q = np.percentile(data, [25, 50, 90, 95, 99, 75], method=PERCENTILE_METHOD)
        self.q1, self.median, self.p90, self.p95, self.p99, self.q3 = (float(v) for v in q)
        self.min = float(data.min())
        self.max = float(data.max())
        self.iqr = self.q3 - self.q1
        fence_lo, fence_hi = self.q1 - 1.5 * self.iqr, self.q3 + 1.5 * self.iqr
        self.outliers = int(np.count_nonzero((data < fence_lo) | (data > fence_hi)))
        self.cv = self.std / self.mean if self.mean > 0 else 0.0
        self.mean_ci: Optional[tuple[float, float]] = None
        if n >= 2:
            half = student_t_ppf(0.5 + CONFIDENCE / 2, n - 1) * self.std / math.sqrt(n)
            self.mean_ci = (self.mean - half, self.mean + half)
        self.median_ci: Optional[tuple[float, float]] = None
        self.median_ci_coverage: Optional[float] = None
        if n >= 6:
            lo, hi, coverage = median_ci_ranks(n, CONFIDENCE)
            ordered = np.sort(data)
            self.median_ci = (float(ordered[lo - 1]), float(ordered[hi - 1]))
            self.median_ci_coverage = coverage
        if not all(math.isfinite(v) for v in (self.mean, self.std, self.iqr, *(self.mean_ci or ()))):
            raise ValueError(f"samples up to {self.max:g} ms are too large to summarize in float64 "
                             "(their confidence interval overflows)")
        self.stable, self.stability_reason = self._judge_stability()

    def _judge_stability(self) -> tuple[bool, str]:
        problems = []
        if self.n < 6:
            problems.append(f"only {self.n} samples")
        if self.cv > CV_LIMIT:
            problems.append(f"coefficient of variation {self.cv:.1%} exceeds {CV_LIMIT:.0%}")
        if self.outliers > OUTLIER_LIMIT * self.n:
            problems.append(f"{self.outliers} of {self.n} samples are outliers (over {OUTLIER_LIMIT:.0%})")
        if problems:
            return False, "; ".join(problems)
        return True, f"coefficient of variation {self.cv:.1%} and {self.outliers} outliers are within limits"

    def to_dict(self) -> dict[str, Any]:
        """Every statistic with the method that produced it, JSON-ready (no NaN, no numpy types)."""
        return {
            "name": self.name,
            "unit": "ms",
            "n": self.n,
            "warmup_runs": self.warmup_runs,
            "mean": self.mean,
            "std": self.std,
            "std_ddof": 1,
            "median": self.median,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
            "min": self.min,
            "max": self.max,
            "q1": self.q1,
            "q3": self.q3,
            "iqr": self.iqr,
            "outliers": self.outliers,
            "outlier_rule": "Tukey fences: outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]",
            "cv": self.cv,
            "percentile_method": f"numpy.percentile method='{PERCENTILE_METHOD}' (Hyndman-Fan type 7)",
            "confidence_level": CONFIDENCE,
            "mean_ci": list(self.mean_ci) if self.mean_ci else None,
            "mean_ci_method": "Student t, n-1 degrees of freedom",
            "median_ci": list(self.median_ci) if self.median_ci else None,
            "median_ci_method": "order statistics, Binomial(n, 1/2) ranks",
            "median_ci_coverage": self.median_ci_coverage,
            "stable": self.stable,
            "stability_reason": self.stability_reason,
            **({"metadata": self.metadata} if self.metadata else {}),
        }

    def __repr__(self) -> str:
        ci = f", 95% CI [{self.mean_ci[0]:.4f}, {self.mean_ci[1]:.4f}]" if self.mean_ci else ""
        flag = "" if self.stable else f"  UNSTABLE: {self.stability_reason}"
        return (f"BenchmarkResult({self.name}: n={self.n}, median {self.median:.4f} ms, "
                f"mean {self.mean:.4f} ± {self.std:.4f} ms{ci}, p99 {self.p99:.4f} ms){flag}")


class Benchmark:
    """Time a zero-argument callable: ``warmup_runs`` untimed calls, then timed ones.

    Each timed call is bracketed by its own ``perf_counter_ns`` pair, so the samples
    are a distribution, not one average. Prepare inputs *before* handing the callable
    over: whatever it does is what gets measured.

    GC policy: the garbage collector runs once before timing and is disabled during the
    timed calls (restored afterwards, even on error), so a collection triggered by
    earlier garbage is not billed to one unlucky sample. ``gc_disabled=False`` keeps it on.
    """

    fn: Callable[[], Any]
    num_runs: int
    warmup_runs: int
    min_time_s: float
    name: str
    gc_disabled: bool

    def __init__(self, fn: Callable[[], Any], num_runs: int = 100, warmup_runs: int = 10,
                 min_time_s: float = 0.0, name: str = "benchmark", gc_disabled: bool = True, *,
                 runs: Optional[int] = None) -> None:
        if not callable(fn):
            raise TypeError(f"Benchmark needs a callable; got {type(fn).__name__}")
        num_runs = _count(renamed_argument("runs", runs, "num_runs", num_runs), "num_runs", 1)
        warmup_runs = _count(warmup_runs, "warmup_runs", 0)
        if isinstance(min_time_s, (bool, np.bool_)) or not isinstance(min_time_s, numbers.Real) \
                or not math.isfinite(min_time_s) or min_time_s < 0:
            raise ValueError(f"min_time_s must be a finite, non-negative number of seconds; got {min_time_s!r}")
        self.fn = fn
        self.num_runs = num_runs
        self.warmup_runs = warmup_runs
        self.min_time_s = float(min_time_s)
        self.name = name
        self.gc_disabled = gc_disabled
        self.samples_ns: list[int] = []

    @property
    def runs(self) -> int:
        warn_renamed("Benchmark.runs", "Benchmark.num_runs")
        return self.num_runs

    def run(self) -> BenchmarkResult:
        fn = self.fn
        for _ in range(self.warmup_runs):
            fn()
        samples: list[int] = []
        clock = time.perf_counter_ns
        deadline = clock() + int(self.min_time_s * 1e9)
        was_enabled = gc.isenabled()
        if self.gc_disabled:
            gc.collect()
            gc.disable()
        try:
            while len(samples) < self.num_runs or clock() < deadline:
                start = clock()
                fn()
                samples.append(clock() - start)
        finally:
            if was_enabled:
                gc.enable()
        self.samples_ns = samples
        return BenchmarkResult(
            np.asarray(samples, dtype=np.float64) / 1e6,
            name=self.name,
            warmup_runs=self.warmup_runs,
            metadata={
                "timer": "time.perf_counter_ns",
                "timer_resolution_ns": time.get_clock_info("perf_counter").resolution * 1e9,
                "num_runs_requested": self.num_runs,
                "min_time_s": self.min_time_s,
                "gc_policy": "collected, then disabled during timed runs" if self.gc_disabled else "enabled",
            },
        )


def interleaved(calls: dict[str, Callable[[], Any]], rounds: int, num_runs: int, warmup_runs: int = 10,
                between_rounds: Optional[Callable[[int], None]] = None) -> dict[str, list[float]]:
    """Samples (ms) of each callable, measured in ``rounds`` rounds of ``num_runs`` calls, taking turns.

    A machine drifts (another job starts, the CPU clocks down): measured one after the
    other, two candidates would see different machines. Taking turns within every round
    spreads the drift over all of them; the order reverses every other round, so no
    candidate always runs first. ``between_rounds(r)`` runs before round ``r`` (for
    example to move arrays to a new alignment). The garbage collector runs once before
    the first round and is off until the last one ends.
    """
    rounds = _count(rounds, "rounds", 1)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    # The GC policy of Benchmark, applied once for all rounds: a full collection per
    # Benchmark would cost more than the measurement itself in a process with a big heap.
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            if between_rounds is not None:
                between_rounds(r)
            for name in names if r % 2 == 0 else names[::-1]:
                result = Benchmark(calls[name], num_runs=num_runs, warmup_runs=warmup_runs, name=name,
                                   gc_disabled=False).run()
                samples[name].extend(float(v) for v in result.samples_ms)
    finally:
        if was_enabled:
            gc.enable()
    return samples
