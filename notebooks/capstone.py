# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Module 20 · Capstone: the TinyTorch Olympics
#
# Nineteen modules in, you have a framework. Now put it on the scale. In this notebook you
# build the harness that measures a model honestly, run it on a model you train, stack the
# optimizations of Modules 14–18 on that model, and ship a `results.json` that another person
# can check field by field.
#
# | Part | You implement | Points |
# |------|---------------|-------:|
# | 1 | `SimpleMLP`, trained on handwritten digits | 10 |
# | 2 | `get_system_info`, `wilson_interval`, `measure_latency`, `measure_throughput`, `BenchmarkReport` | 40 |
# | 3 | `generate_submission` | 15 |
# | 4 | `validate_submission_schema`, `save_submission` | 25 |
# | 4b | the optimization workflow (no new code to grade: you run and read it) | 0 |
# | 5 | the complete workflow that writes `results.json` | 10 |
# | Reflection | five written answers, graded by hand | 10 |
#
# Every graded function has a visible test right after it. Hidden checks run when your
# notebook is graded, by a grader outside your notebook that calls your functions: they use
# small purpose-built models (one that is slow on its first calls, one whose calls take a
# pattern of times, one whose cost depends on the batch size, one stored in int8), whose
# times are drawn afresh each time, to check that your numbers mean what their names say.
# Each hidden check is one property with its own points, so a slip costs only what that
# property is worth; your feedback lists each failed check with its points and what to fix.
# The grader also runs each visible test on your functions: one that fails costs all of that
# cell's points, so run the visible tests as you go. If they pass and you followed the
# instructions, you are in good shape.
#
# **Three pillars of a benchmark you can trust**
#
# * *Repeatability*: the same experiment gives the same answer. Fixed seeds, a fixed test
#   split, many runs, and the spread reported next to the centre.
# * *Comparability*: someone else can tell whether your number applies to them. The machine,
#   the software versions and the measurement method travel with the number.
# * *Completeness*: every metric that a trade-off touches is reported, including the ones
#   that got worse.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["export"]
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

# %% nbgrader={"grade": false, "grade_id": "more-imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Also at hand, should your code time calls or stamp dates its own way: Python's clocks and
# dates, and the framework's precise timer.
import time
from datetime import datetime, timezone

from tinytorch.perf.benchmarking import precise_timer

# %% [markdown] nbgrader={"grade": false, "grade_id": "part1-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 1 · The model: `SimpleMLP`
#
# The model under test is small on purpose: Linear(64 → hidden) → ReLU → Linear(hidden → 10),
# trained on the bundled 8×8 handwritten digits (1,438 training and 359 test images, a fixed
# split, no download). Small means every measurement in this notebook takes seconds, and
# trained means its accuracy is a real number that an optimization can damage.
#
# Build it from your framework's layers. Keep the three layers, in order, in a `Sequential`
# (the optimization tools of Part 4b find `Linear → ReLU` pairs inside a `Sequential`).

# %% nbgrader={"grade": false, "grade_id": "simple-mlp", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
class SimpleMLP(Module):
    """Linear(input_size, hidden_size) → ReLU → Linear(hidden_size, output_size).

    The layers are ``self.layers``, a Sequential. The initial weights depend only on
    ``seed``, so two models built with one seed are the same model. ``forward(x)``
    returns the logits, a Tensor of shape (batch, output_size).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> None:
        super().__init__()
        # TODO: store Sequential(Linear(...), ReLU(), Linear(...)) as self.layers, passing
        # rng=np.random.default_rng(seed) to both Linears. parameters() comes from Module.
        # HINT: Linear(in_features, out_features, rng=rng).
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        self.layers = Sequential(Linear(input_size, hidden_size, rng=rng), ReLU(),
                                 Linear(hidden_size, output_size, rng=rng))
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        # TODO: return the logits of the batch x.
        ### BEGIN SOLUTION
        return self.layers(x)
        ### END SOLUTION


# %% [markdown] nbgrader={"grade": false, "grade_id": "part1-train-md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Train it. `fit` is the training loop you wrote in Module 07 (Adam, cross-entropy, seeded
# shuffling); it takes about a second.

# %% nbgrader={"grade": false, "grade_id": "part1-train", "locked": true, "schema_version": 3, "solution": false, "task": false}
from tinytorch.core.training import accuracy, fit
from tinytorch.datasets import load_digits

digits = load_digits()
model = SimpleMLP(64, 128, 10, seed=0)
history = fit(model, digits.X_train, digits.y_train, epochs=30, seed=0)
print(f"test accuracy: {accuracy(model, digits.X_test, digits.y_test):.4f}")

# %% nbgrader={"grade": true, "grade_id": "test-part1-simplemlp", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
_mlp = SimpleMLP(64, 32, 10, seed=1)
_out = _mlp(Tensor(np.zeros((3, 64), dtype=np.float32)))
assert isinstance(_out, Tensor), f"forward must return a Tensor, got {type(_out).__name__}"
assert _out.shape == (3, 10), f"forward on a (3, 64) batch must give (3, 10) logits, got {_out.shape}"
assert sum(p.size for p in _mlp.parameters()) == 64 * 32 + 32 + 32 * 10 + 10, (
    "parameters() must hold two weight matrices and two bias vectors: did you build both Linear layers?")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part2-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 2 · Measuring: `BenchmarkReport`
#
# A benchmark report answers four questions about a model, and each answer carries its
# context.
#
# **Where was this measured?** Latency on a laptop and on a 64-core server can differ tenfold.
# A number without the machine, the Python and numpy versions and the BLAS library (which
# does the matrix products, with a number of threads) cannot be compared with anything.
#
# **How accurate is it?** Accuracy on 359 test images is an estimate. Its uncertainty is
# large enough to matter when two models differ by one point, so we report a 95 % *Wilson*
# interval. (The textbook interval p ± 1.96·√(p(1−p)/n) collapses to zero width at 100 %
# accuracy and can leave [0, 1]; Wilson's does neither.)
#
# **How long does one request take?** That is *latency*: the time of one forward pass on
# **one** sample, because a user waits for one answer. Three traps to avoid:
#
# 1. *Timing the wrong thing*: prepare the input before the clock starts; time the forward
#    pass only.
# 2. *Cold starts*: the first calls pay for cold caches and lazy allocation. Run a few
#    *warmup* calls first and leave them out of the statistics; report how many you ran.
# 3. *Batch confusion*: the time of a 32-sample batch divided by 32 is not the latency of one
#    sample. Batching amortizes fixed costs, so it underestimates what one user waits.
#
# One number is not enough either: report the spread (standard deviation), the *tail* (p90,
# p99: what the slowest requests see) and confidence intervals for the mean and the median.
# Module 19's `Benchmark` and `BenchmarkResult` do this; you may use them.
#
# **How much work per second?** That is *throughput*, and it is a separate measurement at a
# stated batch size. It is *not* 1000 / latency: batching changes the cost per sample, which
# is the whole point of batching. Little's law ties the two: the number of requests in flight
# L equals throughput λ times latency W. A server that batches 64 requests into one 2 ms call
# has λ = 32,000 samples/s, but each request waits the full 2 ms (and more while its batch
# fills up).
#
# **How big is it?** Count the bytes the model actually stores: an int8 weight takes one
# byte, not four. Module 14's `Profiler` does this (`model_size_bytes`) and measures the peak
# memory of an inference (`measure_memory`).
#
# Start with the context: the machine.

# %% nbgrader={"grade": false, "grade_id": "system-info", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def get_system_info() -> dict:
    """Facts another person needs to compare their numbers with these.

    Keys: ``platform``, ``machine``, ``cpu_model``, ``cpu_count`` (an int ≥ 1),
    ``python_version``, ``numpy_version``, ``blas`` (library, version, threads),
    ``tinytorch_version`` and ``git_commit`` (None outside a git checkout).
    """
    # TODO: return a dict with exactly the keys above: platform.platform(), platform.machine(),
    # cpu_model(), os.cpu_count(), platform.python_version(), np.__version__, blas_info(),
    # tinytorch.__version__ and git_commit().
    # HINT: cpu_model, blas_info and git_commit are imported in the first code cell.
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part2-system-info", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
_info = get_system_info()
for _key in ("platform", "machine", "cpu_model", "cpu_count", "python_version", "numpy_version", "blas",
             "tinytorch_version", "git_commit"):
    assert _key in _info, f"get_system_info() is missing the key {_key!r}"
assert _info["python_version"] == platform.python_version(), "python_version should be platform.python_version()"
assert _info["numpy_version"] == np.__version__, "numpy_version should be np.__version__"

# %% nbgrader={"grade": false, "grade_id": "wilson", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` for a proportion ``correct / n``.

    Both ends lie within [0, 1]; with p = correct / n and z the standard normal quantile
    at (1 + confidence) / 2 (1.96 for 95 %),

        center = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).

    Raises ``ValueError`` if n < 1 or ``correct`` is outside 0…n.
    """
    # TODO: check n and correct, compute p and z, then return (center - half, center + half)
    # kept within [0, 1].
    # HINT: statistics.NormalDist().inv_cdf((1 + confidence) / 2) gives z.
    ### BEGIN SOLUTION
    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n >= 1; got correct={correct}, n={n}")
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    p = correct / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part2-wilson", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
_lo, _hi = wilson_interval(351, 359)
assert 0.95 < _lo < 351 / 359 < _hi < 0.995, f"wilson_interval(351, 359) should bracket 0.978; got {(_lo, _hi)}"
_lo, _hi = wilson_interval(10, 10)
assert abs(_hi - 1.0) < 1e-9 and 0.70 < _lo < 0.75, (
    f"at 10/10 the interval must still have width (low ≈ 0.722), got {(_lo, _hi)}: is this the Wilson formula?")

# %% [markdown] nbgrader={"grade": false, "grade_id": "latency-md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Now latency. Your function receives the test inputs `X` (many rows) and must time
# *single-sample* forward passes: every timed call gets an input of shape `(1, features)`.
# Build that input before the clock starts, run `warmup_runs` untimed calls, then time
# `num_runs` calls one by one, and return the `num_runs` durations in **milliseconds**.
#
# Run inference under `no_grad()`: recording the autograd graph is not part of serving a
# request.

# %% nbgrader={"grade": false, "grade_id": "latency", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def measure_latency(model: Module, X: np.ndarray, num_runs: int = 100, warmup_runs: int = 10) -> list[float]:
    """Per-call latency of single-sample inference: ``num_runs`` floats, in milliseconds.

    Each timed call is ``model(x1)``, with ``x1`` one row of ``X`` as a (1, features)
    Tensor made before timing, under ``no_grad()``. ``warmup_runs`` untimed calls come
    first and are not recorded.
    """
    # TODO: build x1, then time num_runs calls after warmup_runs untimed ones, and return
    # the samples as a list of floats (ms).
    # HINT: under `with no_grad():`, Benchmark(lambda: model(x1), num_runs=..., warmup_runs=...)
    # .run().samples_ms gives the samples as an array: return [float(v) for v in samples].
    # Or time each call yourself with time.perf_counter_ns().
    ### BEGIN SOLUTION
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        result = Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs,
                           name="latency at batch 1").run()
    return [float(v) for v in result.samples_ms]
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "probe-models", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The tests need a model whose cost is known in advance. SleepyModel sleeps exactly as long
# as it is told per call (optionally longer for its first, "cold" calls) and records the
# shape of every input it receives. Read it in tinytorch/olympics/testing.py.
from tinytorch.olympics.testing import SleepyModel


# %% nbgrader={"grade": true, "grade_id": "test-part2-latency", "locked": true, "points": 12, "schema_version": 3, "solution": false, "task": false}
import numbers

_X = np.random.default_rng(0).random((50, 64), dtype=np.float32)
_probe = SleepyModel()
_samples = measure_latency(_probe, _X, num_runs=30, warmup_runs=5)
assert len(_samples) == 30, f"measure_latency must return num_runs=30 samples, got {len(_samples)}"
assert all(s == (1, 64) for s in _probe.shapes[-30:]), (
    f"latency is per sample: every timed call needs a (1, 64) input, saw {sorted(set(_probe.shapes))}")
assert len(_probe.shapes) >= 35, f"run warmup_runs=5 untimed calls before the 30 timed ones ({len(_probe.shapes)} calls seen)"

# %% [markdown] nbgrader={"grade": false, "grade_id": "throughput-md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Throughput: run the model on batches of `batch_size` rows and count samples per second of
# forward-pass time. Measure it; do not derive it from latency.

# %% nbgrader={"grade": false, "grade_id": "throughput", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def measure_throughput(model: Module, X: np.ndarray, batch_size: int = 64, num_batches: int = 20,
                       warmup_runs: int = 2) -> dict:
    """Samples per second at ``batch_size``, measured on real batches, not derived from latency.

    Returns ``{"batch_size", "runs", "samples_per_sec"}`` and optionally
    ``"median_batch_ms"``: ``runs`` is ``num_batches``, the number of timed calls, and
    samples_per_sec is ``batch_size`` over the median time of one call, in seconds. One
    batch of ``batch_size`` rows of ``X`` (rows repeated if ``X`` is shorter) is timed
    ``num_batches`` times after ``warmup_runs`` untimed calls.
    """
    # TODO: build the batch, run warmup_runs untimed calls, time num_batches calls, and return
    # {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": ...}.
    # HINT: np.resize(X, (batch_size, X.shape[1])) repeats rows.
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float32)
    batch = Tensor(np.resize(X, (batch_size, X.shape[1])))
    with no_grad():
        result = Benchmark(lambda: model(batch), num_runs=num_batches, warmup_runs=warmup_runs,
                           name=f"throughput at batch {batch_size}").run()
    return {"batch_size": batch_size, "runs": num_batches, "median_batch_ms": result.median,
            "samples_per_sec": batch_size / (result.median / 1e3)}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part2-throughput", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
_probe = SleepyModel()
_t = measure_throughput(_probe, _X, batch_size=32, num_batches=5)
assert _t["batch_size"] == 32 and _t["runs"] == 5, f"report the batch size and number of timed batches, got {_t}"
assert any(s == (32, 64) for s in _probe.shapes), f"throughput must run batches of 32 rows, saw {set(_probe.shapes)}"
assert _t["samples_per_sec"] > 0, "samples_per_sec must be positive"

# %% [markdown] nbgrader={"grade": false, "grade_id": "report-md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Now put it together. `benchmark_model` fills `self.metrics` with the chapter's six metrics,
# under exactly these names, plus the richer fields behind them:
#
# | key | meaning |
# |-----|---------|
# | `parameter_count` | `Profiler().count_parameters(model)` |
# | `model_size_bytes`, `model_size_mb` | bytes stored (`Profiler().model_size_bytes`); MB = bytes / 1,000,000 |
# | `accuracy`, `accuracy_ci` | fraction correct in [0, 1] (not a percentage); `{"low", "high", "confidence_level", "method", "n_samples"}` |
# | `latency_ms_mean`, `latency_ms_std` | mean and sample standard deviation (ddof = 1) of your latency samples |
# | `latency` | `{"batch_size": 1, "n", "warmup_runs", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "confidence_level", "percentile_method", "mean_ci_method", "median_ci_method", "outliers", "stable", "stability_reason"}` |
# | `throughput_samples_per_sec`, `throughput` | from `measure_throughput` |
# | `peak_memory_bytes` | `Profiler().measure_memory(model, X_test[:1])`: the peak during one single-sample call |
#
# `stats = BenchmarkResult(samples, warmup_runs=warmup_runs).to_dict()` computes the statistics
# and names their methods: `stats["mean"]` and `stats["std"]` are `latency_ms_mean` and
# `latency_ms_std`, and `n`, `warmup_runs`, `median`, `p90`, `p99`, `min`, `max`, `mean_ci`,
# `median_ci`, `confidence_level`, the three `*_method` fields, `outliers`, `stable` and
# `stability_reason` go into `latency` under the same names. Two things it cannot know: add
# `"batch_size": 1` yourself, and pass `warmup_runs=` (without it, it reports 0 warm-up runs).
# You may also keep the raw samples as `latency["samples_ms"]`: then anyone can recompute any
# statistic from your file (the validator does), and the plots can draw the distribution.
#
# The report also records `self.system_info`, an ISO-8601 UTC `self.timestamp`, and
# `self.benchmark_config` with everything needed to repeat the run: `num_runs`, `warmup_runs`,
# `latency_batch_size` (1), `throughput_batch_size`, `seed`, `timer`, and `dataset`
# (`{"name", "n_samples", "sha256"}`; use `digits_sha256()` for the bundled digits).
# `seed` is only recorded: it says which random seed produced the model and data you measured
# (the default, 0, is the seed Part 1 trained with), so that someone can repeat the run;
# `benchmark_model` itself draws no random numbers.
#
# Expect `stable: false` on a shared machine such as Binder's: with other programs competing
# for two cores, a few calls take several times the median and the spread passes the 10 %
# limit. That is information, not an error, and it costs no points. To get a steadier number,
# use more runs and close other notebooks, and compare medians with their intervals rather
# than means.

# %% nbgrader={"grade": false, "grade_id": "benchmark-report", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
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
        # TODO: compute every key of the table above and store the dict in self.metrics;
        # also fill self.benchmark_config. Accuracy: compute the logits under no_grad(), then
        # wilson_interval. Latency: measure_latency, then BenchmarkResult. Throughput:
        # measure_throughput. If dataset_sha256 is None use digits_sha256(). Return self.metrics.
        ### BEGIN SOLUTION
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
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part2-benchmark-model", "locked": true, "points": 12, "schema_version": 3, "solution": false, "task": false}
_report = BenchmarkReport(model_name="probe")
_m = _report.benchmark_model(SleepyModel(), _X, np.zeros(50, dtype=np.int64), num_runs=20, warmup_runs=2,
                             throughput_batch_size=16)
for _key in ("parameter_count", "model_size_mb", "accuracy", "latency_ms_mean", "latency_ms_std",
             "throughput_samples_per_sec"):
    assert _key in _m, f"metrics must contain the chapter's metric {_key!r}"
assert _m is _report.metrics, "benchmark_model must return the dict it stores in self.metrics"
assert abs(_m["accuracy"] - 1.0) < 1e-12, f"a model predicting class 0 on all-zero labels is 100% accurate: 1.0, not {_m['accuracy']}"
assert _report.benchmark_config.get("warmup_runs") == 2, "record warmup_runs in benchmark_config"

# %% [markdown] nbgrader={"grade": false, "grade_id": "part3-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 3 · The submission: `generate_submission`
#
# A submission packages one or two reports into the shape every tool downstream expects.
# The improvements compare the optimized model with the baseline, and their direction is
# fixed so that bigger is better:
#
# * `speedup` = baseline `latency_ms_mean` / optimized `latency_ms_mean` (2.0: twice as fast)
# * `compression_ratio` = baseline `model_size_mb` / optimized `model_size_mb` (4.0: a quarter the size)
# * `accuracy_delta` = optimized `accuracy` − baseline `accuracy` (−0.01: one point worse)

# %% nbgrader={"grade": false, "grade_id": "generate-submission", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
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
    # TODO: return a dict with schema_version (SCHEMA_VERSION), tinytorch_version,
    # submission_type ("baseline" or "optimized"), timestamp (utc_timestamp()), system_info
    # (the baseline report's), and baseline: {"model_name", "timestamp", "benchmark_config",
    # "metrics"} from the report. With an optimized report add optimized (the same keys plus
    # techniques_applied, a list of strings) and improvements as defined above; without one,
    # include neither. Raise ValueError if techniques_applied is None or empty then.
    # HINT: copy.deepcopy the reports' dicts, so later changes to a report do not reach them.
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "fake-reports", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Report-shaped objects with hand-set, internally consistent metrics: with them the right
# submission is known exactly. make_fake_report(name, latency_ms, size_mb, acc) has the
# attributes generate_submission reads; make_fake_submission() is a valid optimized
# submission (2 ms -> 1 ms, 0.04 MB -> 0.01 MB, accuracy 0.97 -> 0.96) for Part 4's tests.
from tinytorch.olympics.testing import make_fake_report, make_fake_submission


# %% nbgrader={"grade": true, "grade_id": "test-part3-generate", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
_base, _opt = make_fake_report("base", 2.0, 0.04, 0.97), make_fake_report("opt", 0.5, 0.01, 0.96)
_sub = generate_submission(_base, _opt, ["quantization", "pruning"])
assert _sub["submission_type"] == "optimized", "with an optimized report, submission_type is 'optimized'"
assert abs(_sub["improvements"]["speedup"] - 4.0) < 1e-9, (
    f"2.0 ms → 0.5 ms is a speedup of 4.0 (baseline / optimized), got {_sub['improvements']['speedup']}")
assert abs(_sub["improvements"]["compression_ratio"] - 4.0) < 1e-9, "compression_ratio = baseline size / optimized size"
assert abs(_sub["improvements"]["accuracy_delta"] - (-0.01)) < 1e-9, "accuracy_delta = optimized - baseline"
assert _sub["optimized"]["techniques_applied"] == ["quantization", "pruning"], (
    f"techniques_applied must be the list you were given, in order; got {_sub['optimized'].get('techniques_applied')}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part4-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 4 · Validation and saving
#
# A schema turns "a JSON file" into "a result a program can trust". The schema for
# `results.json` (draft 2020-12, `load_schema()`) fixes every field's type and range:
# accuracy is a number in [0, 1], so `92` and `"92%"` are refused; `true` is not a number
# (in Python `True == 1`, so this needs care). Some rules involve several fields at once: p90
# cannot exceed p99, a confidence interval must contain its statistic, and the claimed
# speedup must be what the two reports imply. `semantic_problems(submission)` checks those
# and returns a list of `Problem(path, rule, message)`.
#
# Why bother? Because a fixed format is what lets programs, not people, read results. With
# every submission in one shape, a course can average accuracies across a class, sort a
# leaderboard by `speedup`, or fail a CI job when `latency_ms_mean` rises 10 % over last
# week's, all without a single hand-written parser. And when the format changes, the
# `schema_version` tells each tool which rules a file follows.
#
# One more rule neither layer catches for you: JSON has no NaN or Infinity. Python's `json`
# writes them anyway (as the non-standard tokens `NaN` and `Infinity`) unless told not to, and
# a NaN slips through range checks because every comparison with NaN is false.
#
# Your validator reports **every** problem at once, each with its JSON path, so a student
# fixing a submission does not play whack-a-mole.

# %% nbgrader={"grade": false, "grade_id": "validate", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def validate_submission_schema(submission: dict) -> bool:
    """Return True if ``submission`` is valid; otherwise raise ``SubmissionError`` listing every problem.

    A problem is a ``Problem(path, rule, message)``. An unknown ``schema_version`` is the
    only problem reported, since the other rules are those of a version this code does
    not know. Otherwise every problem is listed: each JSON Schema error, each NaN or
    infinite float anywhere in the document, and each cross-field rule broken
    (``semantic_problems``).
    """
    # TODO: collect Problem values for
    # 1. an unknown schema_version (not in KNOWN_VERSIONS): report it and stop there;
    # 2. every JSON Schema error against load_schema() (use
    #    jsonschema.Draft202012Validator(schema).iter_errors(submission); the path is
    #    json_path(error.absolute_path), the rule error.validator);
    # 3. every float that is NaN or infinite, anywhere in the document;
    # 4. everything semantic_problems(submission) returns.
    # Raise SubmissionError(problems) if there are any; return True otherwise.
    # HINT: walk the document recursively for step 3, building the path as you go.
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part4-validate", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
import copy as _copy

_good = make_fake_submission()
assert validate_submission_schema(_copy.deepcopy(_good)) is True, "a valid submission must return True"
_bad = _copy.deepcopy(_good)
_bad["baseline"]["metrics"]["accuracy"] = 97
try:
    validate_submission_schema(_bad)
except ValueError as _err:
    assert "accuracy" in str(_err), f"the error must name the offending field; got: {_err}"
else:
    raise AssertionError("accuracy 97 (a percentage) must be rejected: accuracy is a fraction in [0, 1]")

# %% [markdown] nbgrader={"grade": false, "grade_id": "save-md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Saving must never lose data. Two rules:
#
# 1. Validate first: an invalid submission is never written.
# 2. Write atomically: write the whole text to a temporary file in the same folder, then
#    rename it over the target (`os.replace`). A crash half-way through leaves the old file
#    as it was, never a truncated one. Opening the target with `"w"` first would empty it
#    before the new content exists.

# %% nbgrader={"grade": false, "grade_id": "save", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["export"]
def save_submission(submission: dict, filepath: str = "submission.json") -> str:
    """Validate ``submission`` and write it to ``filepath`` atomically; return the path written.

    An invalid submission raises ``SubmissionError`` and writes nothing. The file
    appears whole or not at all: it is written beside ``filepath`` and renamed onto it,
    with the permissions any new file gets here, and a failure part way leaves no
    temporary file behind.
    """
    # TODO: call validate_submission_schema(submission) (let its error propagate), serialize with
    # json.dumps(submission, indent=2, allow_nan=False), write to a temporary file in the same
    # directory (tempfile.mkstemp(dir=...)), give it the permissions any new file gets here
    # (os.chmod(tmp_path, 0o666 & ~umask): mkstemp makes it private, 600), os.replace it onto
    # filepath, and return str(filepath). If anything fails, remove the temporary file and re-raise.
    # HINT: umask = os.umask(0); os.umask(umask) reads the umask (setting it back at once).
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-part4-save", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
_dir = tempfile.mkdtemp()
_path = os.path.join(_dir, "results.json")
assert save_submission(_copy.deepcopy(_good), _path) == _path, "save_submission returns the path it wrote"
with open(_path) as _f:
    assert json.load(_f) == _good, "the file must hold exactly the submission"
_bad = _copy.deepcopy(_good)
_bad["baseline"]["metrics"]["accuracy"] = 97
try:
    save_submission(_bad, os.path.join(_dir, "bad.json"))
except ValueError:
    pass
else:
    raise AssertionError("an invalid submission must raise, not be saved")
assert not os.path.exists(os.path.join(_dir, "bad.json")), "an invalid submission must never be written"

# %% [markdown] nbgrader={"grade": false, "grade_id": "part4b-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 4b · Stacking the optimizations of Modules 14–18
#
# Each optimization attacks one cost, and each returns a *new* model:
#
# * `structured_prune(model, ratio)` (Module 16) removes whole hidden units: smaller matrices,
#   fewer FLOPs.
# * `quantize_model(model)` (Module 15) stores weights as int8 with per-channel scales: about
#   4× fewer bytes.
# * `fuse_model(model)` (Module 17) merges each Linear with the ReLU after it: one output
#   array and one call instead of two.
#
# They compose only in some orders: pruning needs float weights, so it comes first;
# quantization replaces Linear layers, so it comes before fusion. A wrong order raises an
# error that names the right one. The KV cache of Module 18 speeds up autoregressive
# decoding in transformers; an MLP has nothing to cache, so it stays out of this stack.
#
# **The trade-off triangle.** Latency, size and accuracy pull against each other. Pruning
# and quantization buy size (and sometimes speed) with accuracy; fusion buys a little speed
# for nothing but code complexity. A submission picks a corner, and the improvements make the
# choice visible: a compression ratio of 6 with an accuracy delta of −0.02 says "small, at a
# cost", and nobody can mistake it for a free lunch.
#
# Will the stack compound? Run the cell and look: on this machine and at batch 1, int8
# weights are usually *slower* in numpy, which has no int8 matrix kernel and widens the
# weights to float32 on every call. The model is smaller, and that is the trade. This is why
# the composite must be measured end to end, and why the report records a speedup below 1
# as faithfully as one above.

# %% nbgrader={"grade": false, "grade_id": "part4b-stack", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    from tinytorch.olympics.stack import apply_stack, parse_stack
    STACK = parse_stack("prune:0.4,quantize,fuse")  # structured pruning 40 % -> int8 -> fusion
    OPTIMIZATIONS_AVAILABLE = True
except ImportError as missing:  # Modules 15-17 not built: benchmark the baseline only
    print(f"optimization modules unavailable ({missing}); the workflow will submit the baseline only")
    OPTIMIZATIONS_AVAILABLE = False

if OPTIMIZATIONS_AVAILABLE:
    try:
        optimized_model, techniques = apply_stack(model, STACK)
        print("applied:", " -> ".join(techniques))
        print(f"test accuracy after the stack: {accuracy(optimized_model, digits.X_test, digits.y_test):.4f}")
    except (ValueError, TypeError) as problem:
        print(f"the stack could not be applied to this model: {problem}")
        OPTIMIZATIONS_AVAILABLE = False

# %% [markdown] nbgrader={"grade": false, "grade_id": "part5-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part 5 · The complete workflow
#
# Baseline → optimize → benchmark both the same way → compare → submit. This cell runs
# everything you built and writes `results.json` next to this notebook. Read the printed
# numbers: could you defend each one?
#
# The headline is the **median speedup**. `speedup`, the ratio of mean latencies, can swing
# from one run to the next: one 4 ms hiccup among 13 µs calls moves a mean several-fold. So
# the cell also times the two models taking turns, in rounds, so that whatever the machine
# does meanwhile hits both. It then takes the ratio of their medians, with a 95 % interval.
# Only an interval entirely above 1 says *faster*, and only one entirely below 1 says
# *slower*; anything else is *no significant difference*.

# %% nbgrader={"grade": false, "grade_id": "part5-run", "locked": true, "schema_version": 3, "solution": false, "task": false}
from tinytorch.olympics.speedup import measure_median_speedup

baseline_report = BenchmarkReport(model_name="simple_mlp_64_128_10")
baseline_report.benchmark_model(model, digits.X_test, digits.y_test, num_runs=200, warmup_runs=20)
if OPTIMIZATIONS_AVAILABLE:
    optimized_report = BenchmarkReport(model_name="simple_mlp_pruned_int8_fused")
    optimized_report.benchmark_model(optimized_model, digits.X_test, digits.y_test, num_runs=200, warmup_runs=20)
    submission = generate_submission(baseline_report, optimized_report, techniques)
    # The field belongs to the current schema version; a document of another version is left as it is.
    if submission.get("schema_version") == SCHEMA_VERSION and isinstance(submission.get("improvements"), dict):
        submission["improvements"]["median_speedup"] = measure_median_speedup(model, optimized_model,
                                                                              digits.X_test)
else:
    submission = generate_submission(baseline_report)
results_path = save_submission(submission, "results.json")
print(f"wrote {results_path}")
for _name in ("baseline", "optimized"):
    if _name in submission:
        _mm = submission[_name]["metrics"]
        print(f"{_name:>9}: accuracy {_mm['accuracy']:.4f}, latency median {_mm['latency']['median'] * 1e3:.1f} us "
              f"(p99 {_mm['latency']['p99'] * 1e3:.1f} us), {_mm['throughput_samples_per_sec']:,.0f} samples/s "
              f"at batch {_mm['throughput']['batch_size']}, {_mm['model_size_bytes']:,} bytes")
if "improvements" in submission:
    _robust = submission["improvements"].get("median_speedup")
    if _robust:
        print(f"median speedup {_robust['ratio']:.2f}x, 95% CI [{_robust['ci'][0]:.2f}, {_robust['ci'][1]:.2f}]: "
              f"{_robust['verdict']}")
    print("improvements:", {k: round(v, 3) for k, v in submission["improvements"].items() if k != "median_speedup"})

# %% nbgrader={"grade": true, "grade_id": "test-part5-results", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
# Part 5 has no code of yours: it grades what your functions built together. When your
# notebook is graded, the grader runs the workflow again with your functions, in a folder of
# its own, and reads the results.json they write there (a file handed in beside the notebook
# is not read). If the workflow could not write it, the message below says why; the checks
# then read the `submission` it built, so a slip in an earlier part is not paid for twice in full.
from tinytorch.olympics.files import load_and_check

if not os.path.exists("results.json"):
    print("results.json was not written: read the error of the workflow cell above and fix the part it names")
else:
    _results, _problems = load_and_check("results.json")   # what `tinytorch-olympics validate` checks
    assert not _problems, f"results.json does not pass the validator: {[str(p) for p in _problems[:5]]}"

# %% [markdown] nbgrader={"grade": false, "grade_id": "olympics-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Optional: your place in the Olympics
#
# Your `results.json` joins 30 example submissions (generated, but shaped like a class's),
# and `tinytorch-olympics leaderboard` ranks them all in five events. Speed and size count
# only for models at least 90 % accurate.
#
# Look for an `=` next to a rank. It means a **tie**: each figure lies within the other's
# 95 % interval (the median's interval for latency, an exact interval for accuracy), so the
# measurements cannot say which of those submissions is better. Two accuracies of 0.975 and 0.972 on 359
# test images differ by one image. Ranking them apart would reward luck, not work. Bytes
# are exact, so sizes tie only when they are equal.

# %% nbgrader={"grade": false, "grade_id": "olympics", "locked": true, "schema_version": 3, "solution": false, "task": false}
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from tinytorch.olympics.leaderboard import collect, rank
from tinytorch.olympics.plots import draw_class_tradeoff
from tinytorch.olympics.testing import example_class

if os.getenv("NBGRADER_EXECUTION"):   # not graded: skipped while the notebook is graded
    print("Your place in the Olympics is for you to look at in the notebook; grading skips it.")
elif not os.path.exists("results.json"):
    print("Part 5 has not written results.json yet: run it first, then this cell.")
else:
    with tempfile.TemporaryDirectory() as _folder:
        for _student, _doc in example_class(30, seed=1).items():
            Path(_folder, f"{_student}.json").write_text(json.dumps(_doc))
        shutil.copy("results.json", Path(_folder, "you.json"))
        _entries, _invalid = collect([_folder])
    for _student, _, _problems in _invalid:
        if _student == "you":
            print(f"Your results.json is not ranked: {_problems[0] if _problems else 'it could not be read'}")
    for _event in rank(_entries):
        _mine = [s for s in _event.standings if s.entry.student == "you"]
        if not _mine:
            print(f"{_event.name:<17} not entered: your model is below the accuracy this event asks for")
            continue
        _tied = [s.entry.student for s in _event.standings if s.rank == _mine[0].rank and s.entry.student != "you"]
        print(f"{_event.name:<17} rank {_mine[0].rank} of {len(_event.standings)}"
              + (f", tied with {len(_tied)} (within each other's intervals)" if _tied else ""))
    _fig, _ax = plt.subplots(figsize=(6.5, 4))
    draw_class_tradeoff(_ax, [e.point() for e in _entries], highlight="you")
    plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "explore-intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Explore: turn the knobs
#
# Two explorers measure with **your** functions and redraw on every change.
#
# * **Batch size.** Slide from 1 to 512. Each position re-measures throughput with your
#   `measure_throughput`. Watch the batch's latency W grow while throughput λ per sample rises.
#   Where λ flattens (the explorer marks the batch at which it reaches 90 % of its best), a
#   bigger batch only makes every request wait longer. A model this small may still be gaining
#   at 512, and a size can even dip where the BLAS library changes strategy: read what you
#   measured, not what you expected. Little's law, L = λ·W, says how many requests must be in
#   flight to keep the model that busy.
# * **Optimization stack.** Pick and drag-order `prune`, `magnitude`, `quantize`, `fuse`, and
#   set the pruning amounts. Each change builds the stack step by step and benchmarks every step
#   with your `BenchmarkReport`. The trade-off plot keeps every stack you tried and rings the
#   Pareto front, the waterfall shows what each step did, and the histogram compares latency
#   distributions with p50, p90 and p99 marked. Try an order that cannot work, too.

# %% nbgrader={"grade": false, "grade_id": "explore", "locked": true, "schema_version": 3, "solution": false, "task": false}
from IPython.display import display

from tinytorch.olympics.widgets import BatchSizeExplorer, StackExplorer

if os.getenv("NBGRADER_EXECUTION"):   # set by nbgrader while it grades: nothing here is graded
    print("The explorers are for you to use in the notebook; grading skips them.")
elif "model" not in globals():
    print("The explorers measure the model you train in Part 1: finish SimpleMLP, run its cells, then this one.")
else:
    batch_explorer = BatchSizeExplorer(model, digits.X_test, measure_throughput)
    display(batch_explorer.show())
    stack_explorer = StackExplorer(model, digits.X_test, digits.y_test, BenchmarkReport)
    display(stack_explorer.show())

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Reflection (10 points, graded by hand)
#
# Answer each question in the cell below it, in a few sentences, using the numbers in your
# `results.json`. Each answer is worth 2 points: one for the reasoning, one for backing it with
# your own numbers or a concrete change you would make.

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection-1-question", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **1.** Your latency's p99 is probably several times its median. Where do slow calls come from on
# a shared machine, and why does a service-level objective use p99 rather than the mean?

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflection-1", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Rubric for graders (2 points).**
# 1 point: a cause of slow calls on a shared machine: other processes or tenants taking the cores
# (scheduling, preemption), interrupts, cache and TLB misses after a context switch, CPU frequency
# changes, or allocation and garbage collection; a vague "the machine is busy" without a mechanism gets 0.5.
# 1 point: p99 describes what the slowest 1 in 100 requests experience, which is what users of a
# service notice and what fans out when one page waits on many calls; the mean hides a heavy tail
# (a few very slow calls move it little, or a single huge one moves it a lot). Quotes their p99/median.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection-2-question", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **2.** Compare `throughput_samples_per_sec` with 1000 / `latency_ms_mean`. Why do they differ, and
# what does Little's law say about a server that batches 64 requests?

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflection-2", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Rubric for graders (2 points).**
# 1 point: throughput is measured on batches, where one call's fixed cost (Python, dispatch, memory
# traffic for the weights) is shared by 64 samples and matrix products run more efficiently, so it is
# far above 1000 / latency; quotes both numbers from their file.
# 1 point: Little's law L = λ·W: with 64 requests in the system per batch, each waits about the whole
# batch's time (W grows with the batch), so throughput rises while each request's latency does too;
# batching trades latency for throughput.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection-3-question", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **3.** Did the optimization stack compound? Which step helped latency, which hurt it, and which
# helped size? What would you need (hardware, kernels) for int8 to be faster as well?

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflection-3", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Rubric for graders (2 points).**
# 1 point: reads their improvements and the waterfall: pruning (structured) shrinks the matrices and
# helps both size and latency; int8 quantization cuts size about 4x but here costs latency (dequantizing
# to float for numpy's matmul); fusion saves a pass over the activations; says whether the gains multiplied.
# 1 point: int8 is faster only with integer matrix kernels (VNNI / AVX-512 or ARM dot-product
# instructions, oneDNN, FBGEMM or QNNPACK-style libraries) that compute in int8 and accumulate in int32,
# instead of converting back to float32.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection-4-question", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **4.** Your accuracy interval is about ±1.5 points wide. Two models differ by 0.5 points: can you
# claim one is more accurate? What would you change to find out?

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflection-4", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Rubric for graders (2 points).**
# 1 point: no: the difference is well inside the interval (their Wilson interval quoted), so it is
# indistinguishable from sampling noise on this test set.
# 1 point: a larger test set (the interval shrinks as 1/sqrt(n)), or a paired comparison on the same
# samples (McNemar's test on the disagreements), or cross-validation / several seeds; "run it again"
# on the same data alone gets 0.5.
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": false, "grade_id": "reflection-5-question", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **5.** Which field of your submission would you check first if a colleague's latency was 3× yours
# on the "same" model?

# %% [markdown] nbgrader={"grade": true, "grade_id": "reflection-5", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Rubric for graders (2 points).**
# 1 point: names a field of system_info or benchmark_config and why: cpu_model or cpu_count, blas
# library and threads, numpy_version, or benchmark_config (num_runs, warmup_runs, batch sizes, timer),
# or latency.stable / stability_reason.
# 1 point: explains how that field could cause a 3x gap (a different CPU, BLAS threads fighting over
# two cores, no warm-up, batch 64 timed as latency) and what they would compare next.
# ### END SOLUTION
