"""The capstone's hidden checks: run by each graded cell in one line, each worth its own points.

The graded cells of the notebook end, inside their hidden-test region, with::

    from tinytorch.instructor.checks import graded
    graded("test-part2-latency", globals())

so the checks' code lives here, in the instructor edition only, and never in a notebook
cell that grading copies into a student's feedback. A cell's checks are independent
properties, each registered with its points (the cell's points are their sum). Every check
runs, even after one fails. When all pass the call prints nothing and returns None, which
nbgrader counts as full marks; otherwise it prints each failed check with the points it
cost and what to fix, and returns the points earned, which nbgrader takes as the cell's
partial credit. An exception raised by the student's code is caught here and reported
with the line of the student's notebook that raised it; no traceback into this module ever
reaches the notebook, whose outputs become the feedback.

Checks read the student's functions from the notebook's namespace, but build their own
inputs (models, fake reports) from :mod:`tinytorch.olympics.testing` and this module, so
a student cannot change what a check measures by redefining a helper in the notebook.
"""

from __future__ import annotations

import copy
import json
import numbers
import os
import signal
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import jsonschema
import numpy as np

from tinytorch import Tensor, no_grad
from tinytorch.core.layers import Module
from tinytorch.core.training import accuracy, fit
from tinytorch.datasets import load_digits
from tinytorch.datasets.digits import digits_sha256
from tinytorch.olympics.schema import SCHEMA_VERSION, json_path, load_schema, semantic_problems
from tinytorch.olympics.testing import PatternModel, SleepyModel, make_fake_report, make_fake_submission

try:  # POSIX only: elsewhere the full-disk crash is simulated through json alone
    import resource
except ImportError:
    resource = None  # type: ignore[assignment]

__all__ = ["CHECKS", "HiddenCheck", "graded", "score"]

Namespace = dict[str, Any]
Check = Callable[[Namespace], None]


@dataclass(frozen=True)
class HiddenCheck:
    """One independent property of a graded cell, worth ``points``.

    A ``gate`` (such as "written in the notebook") is worth nothing itself, but when it
    fails nothing else the cell measured can be credited, so the cell earns 0.
    """

    name: str
    points: float
    run: Check
    gate: bool = False


CHECKS: dict[str, list[HiddenCheck]] = {}


def _check(cell: str, name: str, points: float = 0, gate: bool = False) -> Callable[[Check], Check]:
    """Register ``name`` as one of the hidden checks of the graded cell ``cell``, worth ``points``."""
    def register(function: Check) -> Check:
        CHECKS.setdefault(cell, []).append(HiddenCheck(name, points, function, gate))
        return function
    return register


def _student_line(exc: BaseException) -> str:
    """Where in the student's notebook ``exc`` was raised (cells run as ipykernel_*/N.py files)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "ipykernel_" in f.filename or f.filename.startswith("<ipython-input")]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (raised in your code, at `{(frame.line or '').strip()}`)" if frame.line else ""


def score(cell: str, namespace: Namespace) -> tuple[float, float, str]:
    """Run every hidden check of ``cell``: (points earned, points possible, report; '' when all pass).

    Every check runs even after one fails, so the report names each failed property with
    the points it cost and what to fix.
    """
    if cell not in CHECKS:
        raise KeyError(f"no hidden checks are registered for the graded cell {cell!r}")
    failures, lost, gate_failed = [], 0.0, False
    for check in CHECKS[cell]:
        try:
            # nbgrader gives 0 to a test cell with any output on stderr: a warning raised while a
            # check runs the student's code must not cost the cell more than the check is worth.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check.run(namespace)
            continue
        except AssertionError as exc:
            why = str(exc) or "the check failed without a message (please report this to your instructor)"
        except Exception as exc:  # the student's code raised: say what and where, never how we called it
            why = f"your code raised {type(exc).__name__}: {exc}{_student_line(exc)}"
        lost += check.points
        gate_failed |= check.gate
        cost = "no points are given for this cell" if check.gate else \
            f"-{check.points:g} point{'s' if check.points != 1 else ''}"
        failures.append(f"✗ {check.name} ({cost}): {why}")
    possible = sum(check.points for check in CHECKS[cell])
    earned = 0.0 if gate_failed else possible - lost
    if not failures:
        return possible, possible, ""
    header = f"{len(failures)} of {len(CHECKS[cell])} hidden checks failed ({earned:g} of {possible:g} points):"
    return earned, possible, "\n".join([header, *failures])


def graded(cell: str, namespace: Namespace) -> Optional[float]:
    """What a graded cell's hidden region ends with: silent when every check passes (full marks);
    otherwise prints which checks failed and returns the points earned, which nbgrader reads
    as the cell's partial credit (a number as the cell's last output)."""
    earned, _, report = score(cell, namespace)
    if not report:
        return None
    print(report)
    return earned


def _plain_json(value: Any, what: str) -> None:
    """``value`` must be writable as strict JSON: no NaN, no infinity, no numpy or other objects."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{what} must hold plain JSON values (no NaN or infinity, no numpy types): "
                             f"json.dumps says {exc}") from None


def _own(namespace: Namespace, name: str) -> Any:
    """The student's ``name``; it must be defined in the notebook itself, not imported from a reference."""
    if name not in namespace:
        raise AssertionError(f"{name} is not defined: run the cell where you implement it")
    value = namespace[name]
    assert getattr(value, "__module__", None) == "__main__", (
        f"implement {name} in this notebook; do not import a reference implementation")
    return value


# Part 1 · SimpleMLP -------------------------------------------------------------------------

@_check("test-part1-simplemlp", "written in the notebook", gate=True)
def _mlp_is_own(ns: Namespace) -> None:
    _own(ns, "SimpleMLP")


@_check("test-part1-simplemlp", "ReLU between the layers", points=6)
def _mlp_is_nonlinear(ns: Namespace) -> None:
    mlp = ns["SimpleMLP"](64, 32, 10, seed=1)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 64)).astype(np.float32))
    with no_grad():
        f0, f1, f2 = (mlp(x * s).data for s in (0.0, 1.0, 2.0))
    assert not np.allclose(f2 - f0, 2 * (f1 - f0), atol=1e-4), (
        "the model is linear: the ReLU between the two Linear layers is missing")


@_check("test-part1-simplemlp", "learns the digits", points=4)
def _mlp_trains(ns: Namespace) -> None:
    digits = load_digits()
    trained = ns["SimpleMLP"](64, 64, 10, seed=3)
    fit(trained, digits.X_train, digits.y_train, epochs=20, seed=3, progress=False)
    acc = accuracy(trained, digits.X_test, digits.y_test)
    assert acc >= 0.93, f"a trained SimpleMLP should exceed 93% test accuracy; yours reaches {acc:.3f}"


# Part 2 · get_system_info -------------------------------------------------------------------

@_check("test-part2-system-info", "matches the schema", points=3)
def _system_info_schema(ns: Namespace) -> None:
    info = ns["get_system_info"]()
    errors = [e.message for e in jsonschema.Draft202012Validator(load_schema()["properties"]["system_info"])
              .iter_errors(info)]
    assert not errors, f"system_info does not match the schema: {errors}"


@_check("test-part2-system-info", "plain JSON values", points=2)
def _system_info_json(ns: Namespace) -> None:
    info = ns["get_system_info"]()
    count = info.get("cpu_count")
    assert isinstance(count, int) and not isinstance(count, bool), f"cpu_count must be an int, got {count!r}"
    _plain_json(info, "get_system_info()")


# Part 2 · wilson_interval -------------------------------------------------------------------

@_check("test-part2-wilson", "reference values", points=3)
def _wilson_values(ns: Namespace) -> None:
    for k, n, want in [(0, 10, (0.0, 0.27753279)), (5, 10, (0.23659309, 0.76340691)),
                       (1, 1, (0.20654931, 1.0)), (90, 100, (0.82563434, 0.94477086))]:
        got = ns["wilson_interval"](k, n)
        assert np.allclose(got, want, atol=1e-6), f"wilson_interval({k}, {n}) should be {want}, got {got}"


@_check("test-part2-wilson", "confidence sets z", points=1)
def _wilson_confidence(ns: Namespace) -> None:
    got = ns["wilson_interval"](50, 100, confidence=0.99)
    assert np.allclose(got, (0.37527963, 0.62472037), atol=1e-6), f"the confidence argument must set z; got {got}"


@_check("test-part2-wilson", "impossible counts raise ValueError", points=1)
def _wilson_rejects(ns: Namespace) -> None:
    for bad in [(1, 0), (11, 10), (-1, 10)]:
        try:
            ns["wilson_interval"](*bad)
        except ValueError:
            continue
        raise AssertionError(f"wilson_interval{bad} should raise ValueError")


# Part 2 · measure_latency -------------------------------------------------------------------

_X = np.random.default_rng(0).random((50, 64), dtype=np.float32)


@_check("test-part2-latency", "warmup calls are not timed", points=5)
def _latency_warmup(ns: Namespace) -> None:
    cold = SleepyModel(cold_calls=3, cold_seconds=0.25)
    samples = ns["measure_latency"](cold, _X, num_runs=10, warmup_runs=3)
    assert max(samples) < 150, (
        f"the 250 ms cold calls leaked into the statistics (max {max(samples):.1f} ms): warmup calls must not be timed")


@_check("test-part2-latency", "milliseconds per single-sample call", points=5)
def _latency_units(ns: Namespace) -> None:
    sleepy = SleepyModel(seconds_per_call=0.002)
    samples = ns["measure_latency"](sleepy, _X, num_runs=8, warmup_runs=1)
    assert 1.9 <= min(samples) and max(samples) < 10_000, (
        f"a call that sleeps 2 ms must report about 2 (milliseconds); got {min(samples):.4g} to {max(samples):.4g}")
    assert all(s[0] == 1 for s in sleepy.shapes), "every call must be on a single sample"
    assert all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in samples), "samples must be numbers (ms)"


# Part 2 · measure_throughput ----------------------------------------------------------------

@_check("test-part2-throughput", "measured on batches, not derived from latency", points=5)
def _throughput_measured(ns: Namespace) -> None:
    flat = SleepyModel(seconds_per_call=0.002)  # 2 ms per call, whatever the batch size
    result = ns["measure_throughput"](flat, _X, batch_size=32, num_batches=5, warmup_runs=1)
    assert 3_000 < result["samples_per_sec"] <= 16_000 * 1.05, (
        f"32 samples per 2 ms call is about 16,000 samples/s; got {result['samples_per_sec']:.0f}. "
        "Throughput must be measured on batches, not derived as 1000 / latency (which gives ~500)")
    assert all(s == (32, 64) for s in flat.shapes), "every throughput call must use the full batch"


@_check("test-part2-throughput", "batches larger than X", points=3)
def _throughput_large_batch(ns: Namespace) -> None:
    probe = SleepyModel()
    result = ns["measure_throughput"](probe, np.ones((10, 64), np.float32), batch_size=64, num_batches=3)
    assert result["batch_size"] == 64 and probe.shapes and all(s == (64, 64) for s in probe.shapes), (
        f"with 10 rows in X and batch_size=64, every call must still get 64 rows (repeat rows of X); "
        f"the model saw {sorted(set(probe.shapes))}")


# Part 2 · BenchmarkReport -------------------------------------------------------------------

class _Oracle(Module):
    """Predicts class = index of the largest of the first 10 features; int8 weights, float32 bias."""

    def __init__(self, features: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.register_buffer("weight_q", np.ones((features, classes), dtype=np.int8), parameter=True)
        self.register_buffer("bias", np.zeros(classes, dtype=np.float32), parameter=True)

    def forward(self, x: Tensor) -> Tensor:
        time.sleep(0.001 + 0.001 * x.shape[0])  # a fixed cost per call plus a cost per sample
        return Tensor(x.data[:, :10])


_ORACLE_REPORTS: dict[int, Any] = {}


def _oracle_report(ns: Namespace) -> Any:
    """The student's report of the oracle on 20 samples of which 14 are right (accuracy 0.7).

    Measured once per ``BenchmarkReport`` class: several checks read the same report.
    """
    report_class = ns["BenchmarkReport"]
    if id(report_class) in _ORACLE_REPORTS:
        return _ORACLE_REPORTS[id(report_class)]
    X = np.zeros((20, 64), dtype=np.float32)
    y = np.arange(20) % 10
    X[np.arange(20), y] = 1.0
    wrong = [1, 4, 7, 9, 12, 15]
    y[wrong] = (y[wrong] + 1) % 10
    report = report_class("oracle")
    report.benchmark_model(_Oracle(), X, y, num_runs=12, warmup_runs=2, throughput_batch_size=32)
    _ORACLE_REPORTS[id(report_class)] = report
    return report


@_check("test-part2-benchmark-model", "written in the notebook", gate=True)
def _report_is_own(ns: Namespace) -> None:
    _own(ns, "BenchmarkReport")


@_check("test-part2-benchmark-model", "accuracy and its Wilson interval", points=2)
def _report_accuracy(ns: Namespace) -> None:
    m = _oracle_report(ns).metrics
    assert abs(m["accuracy"] - 0.7) < 1e-12, f"accuracy is a fraction: 14 of 20 correct is 0.7, got {m['accuracy']}"
    assert 0.4 < m["accuracy_ci"]["low"] < 0.7 < m["accuracy_ci"]["high"] < 0.9, \
        "accuracy_ci must be the Wilson interval"


@_check("test-part2-benchmark-model", "size counts bytes stored", points=2)
def _report_size(ns: Namespace) -> None:
    m = _oracle_report(ns).metrics
    assert m["model_size_bytes"] == 64 * 10 + 4 * 10, (
        f"size counts bytes stored: 640 int8 weights (1 B) + 10 float32 biases = 680 B, got {m['model_size_bytes']}")
    assert abs(m["model_size_mb"] - 680 / 1e6) < 1e-12, "model_size_mb is model_size_bytes / 1,000,000"
    assert m["parameter_count"] == 650, f"parameter_count counts weights and biases: 650, got {m['parameter_count']}"


@_check("test-part2-benchmark-model", "latency at batch 1, throughput at its batch", points=2)
def _report_timing(ns: Namespace) -> None:
    report = _oracle_report(ns)
    m = report.metrics
    assert 1.9 < m["latency_ms_mean"] < 15, (
        f"one sample costs 2 ms here; latency_ms_mean {m['latency_ms_mean']:.3g} suggests a batch was timed, "
        "or wrong units")
    assert m["throughput_samples_per_sec"] > 1.5 * 1000 / m["latency_ms_mean"], (
        "throughput at batch 32 must be measured; it came out as 1000 / latency")
    lat = m["latency"]
    assert lat["batch_size"] == 1 and lat["n"] == 12 and lat["warmup_runs"] == 2, (
        "latency must record batch_size 1, n = num_runs and the warmup_runs used")
    assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"], "percentiles out of order"
    assert lat["mean_ci"][0] <= m["latency_ms_mean"] <= lat["mean_ci"][1], "mean_ci must contain the mean"
    assert m["throughput"]["batch_size"] == 32 and report.benchmark_config["throughput_batch_size"] == 32, (
        "throughput must be measured at throughput_batch_size and say so")


@_check("test-part2-benchmark-model", "context recorded", points=1)
def _report_context(ns: Namespace) -> None:
    report = _oracle_report(ns)
    dataset = report.benchmark_config["dataset"]
    assert dataset["n_samples"] == 20 and len(dataset["sha256"]) == 64, "benchmark_config.dataset must describe X_test"
    peak = report.metrics["peak_memory_bytes"]
    assert isinstance(peak, int) and not isinstance(peak, bool) and peak >= 0, (
        f"peak_memory_bytes must be a whole number of bytes, at least 0 (got {peak!r}): "
        "Profiler().measure_memory(model, one_sample) returns it")
    assert report.timestamp.endswith(("Z", "+00:00")), "timestamp must be ISO-8601 in UTC"


@_check("test-part2-benchmark-model", "metrics match the schema", points=1)
def _report_schema(ns: Namespace) -> None:
    m = _oracle_report(ns).metrics
    _plain_json(m, "metrics")
    errors = [f"{json_path(e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft202012Validator(load_schema()["$defs"]["metrics"]).iter_errors(m)]
    assert not errors, f"metrics do not match the schema: {errors}"


_PATTERN_REPORTS: dict[int, Any] = {}


def _pattern_report(ns: Namespace) -> Any:
    """The student's report of a PatternModel whose 3 first single-sample calls take 250 ms.

    With warmup_runs=3 and num_runs=20, a correct report times 4 cycles of (2, 2, 2, 2, 12) ms:
    mean 4, std 4.1, median 2, p90 and p99 12, max 12 (plus the sleep's overshoot).
    """
    report_class = ns["BenchmarkReport"]
    if id(report_class) not in _PATTERN_REPORTS:
        report = report_class("pattern")
        report.benchmark_model(PatternModel(cold_calls=3, cold_ms=250.0), _X[:20], np.zeros(20, dtype=np.int64),
                               num_runs=20, warmup_runs=3, throughput_batch_size=8)
        _PATTERN_REPORTS[id(report_class)] = report
    return _PATTERN_REPORTS[id(report_class)]


@_check("test-part2-benchmark-model", "warm-up calls are not timed", points=1)
def _report_warmup(ns: Namespace) -> None:
    m = _pattern_report(ns).metrics
    assert m["latency"]["max"] < 100 and m["latency_ms_mean"] < 20, (
        f"the model's first calls take 250 ms and the report's max latency is {m['latency']['max']:.1f} ms: "
        "benchmark_model must run warmup_runs untimed calls before timing (measure_latency does)")


@_check("test-part2-benchmark-model", "statistics follow from the samples", points=3)
def _report_statistics(ns: Namespace) -> None:
    m = _pattern_report(ns).metrics
    lat = m["latency"]
    if m["latency"]["max"] >= 100:
        return  # cold calls were timed: the warm-up check says so, and these statistics cannot be judged
    # A busy machine adds about the same delay to every sleep, so each statistic is judged
    # against the fastest call (2 ms plus that delay) rather than against absolute times.
    std, fastest = m["latency_ms_std"], lat["min"]
    assert lat["n"] == 20, f"latency.n must be num_runs (20), got {lat['n']}"
    assert 3.0 < std < 12.0, (
        f"20 calls of 2, 2, 2, 2, 12 ms have a standard deviation of about 4.1 ms; latency_ms_std is {std:.3g}. "
        "Report the sample standard deviation (ddof = 1), not the variance")
    above = {key: value - fastest for key, value in (("latency_ms_mean", m["latency_ms_mean"]),
                                                      ("median", lat["median"]), ("p90", lat["p90"]),
                                                      ("p99", lat["p99"]))}
    assert 1.0 < above["latency_ms_mean"] < 5.0, (
        f"those calls have a mean about 2 ms above the fastest call; latency_ms_mean is "
        f"{above['latency_ms_mean']:.3g} ms above it")
    assert above["median"] < 1.5, (
        f"16 of the 20 calls take 2 ms, so the median is about the fastest call; it is {above['median']:.3g} ms above")
    assert above["p90"] > 8 and above["p99"] > 8, (
        f"4 of the 20 calls take 12 ms, so p90 and p99 are about 10 ms above the fastest call; they are "
        f"{above['p90']:.3g} and {above['p99']:.3g} ms above")
    if "samples_ms" in lat:
        problems = [str(p) for p in semantic_problems({"baseline": {"metrics": m}}) if "samples" in p.rule]
        assert not problems, f"the statistics do not follow from latency.samples_ms: {problems}"


# Part 3 · generate_submission ---------------------------------------------------------------

def _schema_errors(document: Any) -> list[str]:
    return [f"{json_path(e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(document)]


@_check("test-part3-generate", "an optimized submission is valid", points=5)
def _generate_valid(ns: Namespace) -> None:
    sub = ns["generate_submission"](make_fake_report("base", 2.0, 0.04, 0.97),
                                    make_fake_report("opt", 0.5, 0.01, 0.96), ["quantization", "pruning"])
    assert not _schema_errors(sub), f"the submission does not match the schema: {_schema_errors(sub)}"
    assert not semantic_problems(sub), (
        f"the submission breaks cross-field rules: {[str(p) for p in semantic_problems(sub)]}")
    assert sub["schema_version"] == SCHEMA_VERSION, f"schema_version must be {SCHEMA_VERSION}"
    _plain_json(sub, "the submission")


@_check("test-part3-generate", "a baseline-only submission", points=4)
def _generate_baseline_only(ns: Namespace) -> None:
    only = ns["generate_submission"](make_fake_report("base", 2.0, 0.04, 0.97))
    assert only["submission_type"] == "baseline" and "optimized" not in only and "improvements" not in only, (
        "a baseline-only submission has no 'optimized' and no 'improvements'")
    assert not _schema_errors(only), f"the baseline-only submission does not match the schema: {_schema_errors(only)}"


@_check("test-part3-generate", "reports are copied", points=2)
def _generate_copies(ns: Namespace) -> None:
    base = make_fake_report("base", 2.0, 0.04, 0.97)
    sub = ns["generate_submission"](base, make_fake_report("opt", 0.5, 0.01, 0.96), ["quantization"])
    assert sub["baseline"]["metrics"] == base.metrics, "the baseline's metrics must be the report's metrics"
    base.metrics["accuracy"] = 0.0
    assert sub["baseline"]["metrics"]["accuracy"] == 0.97, (
        "copy the reports' metrics: later changes leaked into the submission")


@_check("test-part3-generate", "a slowdown is a ratio below 1", points=4)
def _generate_slowdown(ns: Namespace) -> None:
    slow = ns["generate_submission"](make_fake_report("b", 1.0, 0.01, 0.9), make_fake_report("o", 4.0, 0.02, 0.9),
                                     ["x"])
    imp = slow["improvements"]
    assert abs(imp["speedup"] - 0.25) < 1e-9 and abs(imp["compression_ratio"] - 0.5) < 1e-9, (
        "an optimization that makes things slower or bigger must show a ratio below 1, not be inverted")


# Part 4 · validate_submission_schema --------------------------------------------------------

def _rejects(ns: Namespace, document: Any, *fragments: str) -> str:
    """The validator's message for ``document``, which must be refused and mention every fragment."""
    try:
        ns["validate_submission_schema"](document)
    except ValueError as err:
        text = str(err)
        for fragment in fragments:
            assert fragment in text, f"the error should mention {fragment!r}; it said: {text}"
        return text
    raise AssertionError(f"this submission should be rejected (expected mention of {fragments})")


def _mutated(change: Callable[[dict], Any]) -> dict:
    document = make_fake_submission()
    change(document)
    return document


def _metrics(document: dict, which: str = "baseline") -> dict:
    return document[which]["metrics"]


@_check("test-part4-validate", "written in the notebook", gate=True)
def _validate_is_own(ns: Namespace) -> None:
    _own(ns, "validate_submission_schema")


@_check("test-part4-validate", "true and false are not numbers", points=1)
def _validate_booleans(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: _metrics(d).__setitem__("latency_ms_mean", True)), "latency_ms_mean")
    _rejects(ns, _mutated(lambda d: _metrics(d).__setitem__("parameter_count", False)), "parameter_count")


@_check("test-part4-validate", "NaN and Infinity are refused", points=2)
def _validate_non_finite(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: _metrics(d, "optimized").__setitem__("latency_ms_std", float("nan"))),
             "latency_ms_std")
    _rejects(ns, _mutated(lambda d: d["improvements"].__setitem__("speedup", float("inf"))), "speedup")
    _rejects(ns, _mutated(lambda d: _metrics(d)["latency"].__setitem__("p90", float("nan"))), "p90")


@_check("test-part4-validate", "a missing metric is refused", points=1)
def _validate_missing(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: _metrics(d).pop("throughput_samples_per_sec")), "throughput_samples_per_sec")


@_check("test-part4-validate", "cross-field rules", points=5)
def _validate_semantic(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: d["improvements"].__setitem__("speedup", 1 / d["improvements"]["speedup"])),
             "speedup")
    _rejects(ns, _mutated(lambda d: d["improvements"].__setitem__("compression_ratio", 0.25)), "compression_ratio")
    _rejects(ns, _mutated(lambda d: _metrics(d)["latency"].__setitem__("p90", 99.0)), "p90")


@_check("test-part4-validate", "unknown versions and non-objects are refused", points=1)
def _validate_version(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: d.__setitem__("schema_version", "9.0.0")), "9.0.0")
    _rejects(ns, "not a submission")


@_check("test-part4-validate", "every problem at once", points=1)
def _validate_all_problems(ns: Namespace) -> None:
    def two_problems(d: dict) -> None:
        _metrics(d)["accuracy"] = 1.5
        _metrics(d, "optimized")["model_size_mb"] = "small"

    _rejects(ns, _mutated(two_problems), "accuracy", "model_size_mb")


@_check("test-part4-validate", "numbers given as strings are refused", points=1)
def _validate_strings(ns: Namespace) -> None:
    _rejects(ns, _mutated(lambda d: _metrics(d).__setitem__("accuracy", "0.97")), "accuracy")
    _rejects(ns, _mutated(lambda d: _metrics(d, "optimized").__setitem__("accuracy", "96%")), "accuracy")
    _rejects(ns, _mutated(lambda d: _metrics(d)["throughput"].__setitem__("batch_size", "64")), "batch_size")


@_check("test-part4-validate", "negative measurements are refused", points=1)
def _validate_negatives(ns: Namespace) -> None:
    for key in ("latency_ms_mean", "model_size_bytes", "throughput_samples_per_sec", "parameter_count"):
        def negative(d: dict, key: str = key) -> None:
            _metrics(d)[key] = -abs(_metrics(d)[key]) - 1

        _rejects(ns, _mutated(negative), key)
    _rejects(ns, _mutated(lambda d: _metrics(d)["latency"].__setitem__("outliers", -1)), "outliers")


@_check("test-part4-validate", "valid submissions are accepted", points=2)
def _validate_accepts(ns: Namespace) -> None:
    optimized = make_fake_submission()
    baseline_only = {k: v for k, v in make_fake_submission().items() if k not in ("optimized", "improvements")}
    baseline_only["submission_type"] = "baseline"
    for name, document in (("an optimized submission", optimized), ("a baseline-only submission", baseline_only)):
        try:
            verdict = ns["validate_submission_schema"](document)
        except ValueError as err:
            raise AssertionError(f"{name} that is valid was refused; a validator must accept valid documents. "
                                 f"It said: {str(err)[:300]}") from None
        assert verdict is True, f"return True for a valid submission ({name} returned {verdict!r})"


# Part 4 · save_submission -------------------------------------------------------------------

@_check("test-part4-save", "NaN is never saved", points=5)
def _save_refuses_nan(ns: Namespace) -> None:
    good = make_fake_submission()
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "results.json")
    ns["save_submission"](copy.deepcopy(good), path)
    bad = copy.deepcopy(good)
    _metrics(bad, "optimized")["latency_ms_mean"] = float("nan")
    try:
        ns["save_submission"](bad, path)
    except ValueError:
        pass
    else:
        raise AssertionError("a submission containing NaN must not be saved")
    text = Path(path).read_text(encoding="utf-8")
    assert "NaN" not in text and json.loads(text) == good, "a refused save must leave the earlier file intact"


@contextmanager
def _disk_full(ns: Namespace) -> Iterator[None]:
    """Every route to json.dump/json.dumps (the module, or names the notebook imported) fails mid-write."""
    real_dump, real_dumps = json.dump, json.dumps

    def dump(obj: Any, fp: Any, *args: Any, **kwargs: Any) -> None:
        fp.write(real_dumps(obj, *args, **kwargs)[:40])
        raise OSError("disk full (simulated)")

    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        raise OSError("disk full (simulated)")

    aliases = {name: value for name, value in ns.items() if value is real_dump or value is real_dumps}
    json.dump, json.dumps = dump, dumps
    ns.update({name: dump if value is real_dump else dumps for name, value in aliases.items()})
    try:
        yield
    finally:
        json.dump, json.dumps = real_dump, real_dumps
        ns.update(aliases)


@contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    """Every write past ``limit`` bytes of any file fails with OSError, as on a full disk."""
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit raises instead of killing
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@_check("test-part4-save", "a crash while writing keeps the earlier file", points=5)
def _save_is_atomic(ns: Namespace) -> None:
    good = make_fake_submission()
    crashes = [lambda: _disk_full(ns)]
    if resource is not None and hasattr(signal, "SIGXFSZ"):
        crashes.append(lambda: _file_size_limit(500))
    for crash in crashes:
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "results.json")
        ns["save_submission"](copy.deepcopy(good), path)
        with crash():
            try:
                ns["save_submission"](copy.deepcopy(good), path)
            except OSError:
                pass
        assert json.loads(Path(path).read_text(encoding="utf-8")) == good, (
            "a save that crashed while writing clobbered the earlier file: write the text to a temporary file in "
            "the same folder, then os.replace it onto the target")
        assert sorted(os.listdir(folder)) == ["results.json"], (
            f"a failed save left files behind: {sorted(os.listdir(folder))}; remove the temporary file when it fails")


# Part 5 · results.json ----------------------------------------------------------------------

def _results(ns: Namespace) -> dict:
    """results.json as the workflow wrote it, else the ``submission`` dict it built but could not save.

    Part 5 holds no code of the student's own: reading what was built when saving failed
    keeps an earlier slip from costing Part 5's points a second time in full.
    """
    results = Path("results.json")
    if results.exists():
        return json.loads(results.read_text(encoding="utf-8"))
    built = ns.get("submission")
    assert isinstance(built, dict), "run the workflow cell: it builds the submission and writes results.json"
    return built


@_check("test-part5-results", "results.json is written and valid", points=4)
def _results_valid(ns: Namespace) -> None:
    assert Path("results.json").exists(), (
        "the workflow did not write results.json: the error of the workflow cell names the part to fix")
    document = _results(ns)
    problems = [str(p) for p in semantic_problems(document)] + _schema_errors(document)
    assert not problems, f"results.json breaks the format's rules: {problems[:5]}"


@_check("test-part5-results", "the baseline is the trained SimpleMLP", points=3)
def _results_baseline(ns: Namespace) -> None:
    results = _results(ns)
    m = _metrics(results)
    assert m["accuracy"] >= 0.9, "the baseline should be your trained SimpleMLP (>= 90% accuracy)"
    assert m["parameter_count"] == 64 * 128 + 128 + 128 * 10 + 10, "the baseline must be SimpleMLP(64, 128, 10)"
    assert results["baseline"]["benchmark_config"]["dataset"]["sha256"] == digits_sha256(), (
        "the baseline must be measured on the bundled digits test split")
    assert m["latency"]["n"] >= 200, "the workflow measures 200 latency runs"


@_check("test-part5-results", "the optimized model says what was done", points=3)
def _results_optimized(ns: Namespace) -> None:
    results = _results(ns)
    if results["submission_type"] == "optimized":
        assert results["optimized"]["techniques_applied"], "name the techniques you applied"
        assert results["improvements"]["compression_ratio"] > 1.0, "the optimized model should be smaller"
