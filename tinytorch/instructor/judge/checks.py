"""The capstone's hidden checks, run by the judge: each graded cell's properties, each worth its own points.

Every check drives the student's functions in the subject (:class:`~tinytorch.instructor.judge.trial.Trial`)
with inputs the judge builds, and judges what comes back against what the judge knows: the
probe models' calls, which the judge played and timed itself
(:mod:`tinytorch.instructor.judge.probes`); values drawn afresh for each run; expected
numbers the judge computes (the reference Wilson interval, the probes' own sizes); and one
validator, :func:`tinytorch.olympics.schema.submission_problems`, for every document.

Each graded cell starts with a gate, "visible tests pass": the notebook's visible tests of
that cell, asked again here, since what the student's kernel printed proves nothing. A
visible test that fails costs the cell's points, as the notebook tells students.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import numbers
import os
import platform
import statistics
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

import tinytorch
from tinytorch.datasets import load_digits
from tinytorch.datasets.digits import digits_sha256
from tinytorch.instructor.judge.channel import Call, Handle, StandIn, StudentRaised, TensorArg
from tinytorch.instructor.judge.probes import Oracle, Pattern, Sleepy
from tinytorch.instructor.judge.trial import ChargedElsewhere, Registry, Trial
from tinytorch.instructor.reference import wilson_interval
from tinytorch.instructor.sandboxed.wire import Foreign, ForeignFloat, ForeignInt
from tinytorch.olympics.files import load_submission_file
from tinytorch.olympics.schema import SCHEMA_VERSION, json_path, load_schema, submission_problems
from tinytorch.olympics.testing import make_fake_report, make_fake_submission

__all__ = ["CHECKS", "REGISTRY", "WORKFLOW", "SKIPPED", "DEFINED_IN"]

REGISTRY = Registry()
CHECKS = REGISTRY.checks
#: The notebook's workflow cells: run by Part 5's checks, after the others, in the subject's folder.
WORKFLOW = ("part1-train", "part4b-stack", "part5-run")
#: Cells that are for the student alone (they skip themselves while a notebook is graded).
SKIPPED = ("olympics", "explore")
#: Where each graded name is written, so that a name that is missing can be traced to its cell's error.
DEFINED_IN = {"SimpleMLP": "simple-mlp", "get_system_info": "system-info", "wilson_interval": "wilson",
              "measure_latency": "latency", "measure_throughput": "throughput",
              "BenchmarkReport": "benchmark-report", "generate_submission": "generate-submission",
              "validate_submission_schema": "validate", "save_submission": "save"}

check = REGISTRY.check


def _plain_json(value: Any, what: str, path: tuple = ()) -> None:
    """``value`` must be writable as strict JSON: no NaN, no infinity, no numpy or other objects."""
    if isinstance(value, (Foreign, ForeignFloat, ForeignInt, np.ndarray, Handle)):
        kind = getattr(value, "type_name", type(value).__name__)
        raise AssertionError(f"{what} must hold plain JSON values (no NaN or infinity, no numpy types): "
                             f"{json_path(list(path))} is a {kind}")
    if isinstance(value, float) and not math.isfinite(value):
        raise AssertionError(f"{what} must hold plain JSON values (no NaN or infinity, no numpy types): "
                             f"{json_path(list(path))} is {value}")
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, member in members:
        if not isinstance(key, (str, int)):
            raise AssertionError(f"{what} must hold plain JSON values: a key at {json_path(list(path))} is "
                                 f"{getattr(key, 'type_name', type(key).__name__)}")
        _plain_json(member, what, (*path, key))


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _numbers(values: Any, what: str) -> list[float]:
    assert isinstance(values, list) and all(_number(v) and math.isfinite(v) for v in values), (
        f"{what} must be a list of numbers (ms); got {str(values)[:120]}")
    return [float(v) for v in values]


def _schema_errors(document: Any, schema: Any = None) -> list[str]:
    return [f"{json_path(e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft202012Validator(schema or load_schema()).iter_errors(document)]


def _problems(document: Any) -> list[str]:
    return [str(p) for p in submission_problems(document)]


def _forward(t: Trial, model: Handle | str, x: np.ndarray) -> np.ndarray:
    """The student's model (a kept object, or a name of the notebook) on ``x``: it must return a Tensor, whose
    data the judge reads."""
    out = t.subject.call(model, TensorArg(x), keep=True)
    assert out.type == "Tensor", f"forward must return a Tensor, got {out.type}"
    data = t.subject.get(out, "data")
    assert isinstance(data, np.ndarray), "forward must return a Tensor holding a numpy array"
    return data


def _fake(name: str, latency_ms: float, size_mb: float, acc: float, median_share: float = 1.0) -> StandIn:
    """A fake report; with ``median_share`` < 1 its median latency is that share of its mean, as slow outliers
    make it, so that a ratio of medians is told from the ratio of means."""
    fields = vars(make_fake_report(name, latency_ms, size_mb, acc))
    latency = fields["metrics"]["latency"]
    latency["median"] = latency_ms * median_share
    latency["median_ci"] = [latency["median"] * 0.97, latency["median"] * 1.03]
    latency["min"] = min(latency["min"], latency["median_ci"][0])
    return StandIn(**fields)


def _metrics(document: dict, which: str = "baseline") -> dict:
    return document[which]["metrics"]


X50 = np.random.default_rng(0).random((50, 64), dtype=np.float32)


# Part 1 · SimpleMLP -------------------------------------------------------------------------

@check("test-part1-simplemlp", "visible tests pass", gate=True)
def _mlp_visible(t: Trial) -> None:
    mlp = t.call("SimpleMLP", 64, 32, 10, seed=1, keep=True)
    out = _forward(t, mlp, np.zeros((3, 64), dtype=np.float32))
    assert out.shape == (3, 10), f"forward on a (3, 64) batch must give (3, 10) logits, got {out.shape}"
    profiler = t.subject.call(("tinytorch.perf.profiling", "Profiler"), keep=True)
    count = t.subject.call(profiler, mlp, method="count_parameters")
    assert count == 64 * 32 + 32 + 32 * 10 + 10, (
        "parameters() must hold two weight matrices and two bias vectors: did you build both Linear layers?")


@check("test-part1-simplemlp", "written in the notebook", gate=True)
def _mlp_is_own(t: Trial) -> None:
    t.own("SimpleMLP")


@check("test-part1-simplemlp", "ReLU between the layers", points=5)
def _mlp_is_nonlinear(t: Trial) -> None:
    mlp = t.call("SimpleMLP", 64, 32, 10, seed=t.rng.randint(1, 1000), keep=True)
    x = np.random.default_rng(t.rng.randint(0, 2**31)).normal(size=(5, 64)).astype(np.float32)
    f0, f1, f2 = (_forward(t, mlp, x * s) for s in (0.0, 1.0, 2.0))
    assert not np.allclose(f2 - f0, 2 * (f1 - f0), atol=1e-4), (
        "the model is linear: the ReLU between the two Linear layers is missing")


@check("test-part1-simplemlp", "the seed fixes the weights", points=1)
def _mlp_seeded(t: Trial) -> None:
    seed = t.rng.randint(1, 1000)
    x = np.random.default_rng(seed).normal(size=(4, 64)).astype(np.float32)
    first, again, other = (_forward(t, t.call("SimpleMLP", 64, 16, 10, seed=s, keep=True), x)
                           for s in (seed, seed, seed + 1))
    assert np.array_equal(first, again), (
        f"two SimpleMLP(64, 16, 10, seed={seed}) gave different outputs: the initial weights must depend only on "
        "seed (pass rng=np.random.default_rng(seed) to both Linears)")
    assert not np.array_equal(first, other), (
        f"seeds {seed} and {seed + 1} gave the same model: the weights must come from the seed")


@check("test-part1-simplemlp", "forward returns the logits", points=1)
def _mlp_logits(t: Trial) -> None:
    mlp = t.call("SimpleMLP", 64, 32, 10, seed=t.rng.randint(1, 1000), keep=True)
    x = 50 * np.random.default_rng(t.rng.randint(0, 2**31)).normal(size=(6, 64)).astype(np.float32)
    out = _forward(t, mlp, x)
    assert not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)), (
        "forward must return the logits, the last Linear's output: its rows came out as probabilities (each in "
        "[0, 1], summing to 1). Leave the softmax to the loss")


@check("test-part1-simplemlp", "learns the digits", points=3)
def _mlp_trains(t: Trial) -> None:
    digits = load_digits()
    seed = t.rng.randint(0, 1000)
    trained = t.call("SimpleMLP", 64, 64, 10, seed=seed, keep=True)
    t.subject.call(("tinytorch.core.training", "fit"), trained, digits.X_train, digits.y_train, epochs=20, seed=seed,
                   progress=False)
    predictions = _forward(t, trained, digits.X_test).argmax(axis=1)
    acc = float(np.mean(predictions == digits.y_test))
    assert acc >= 0.93, f"a trained SimpleMLP should exceed 93% test accuracy; yours reaches {acc:.3f}"


# Part 2 · get_system_info -------------------------------------------------------------------

def _system_info(t: Trial) -> Any:
    return t.once("system_info", lambda: t.call("get_system_info"))


@check("test-part2-system-info", "visible tests pass", gate=True)
def _system_info_visible(t: Trial) -> None:
    info = _system_info(t)
    assert isinstance(info, dict), f"get_system_info() must return a dict, got {type(info).__name__}"
    for key in ("platform", "machine", "cpu_model", "cpu_count", "python_version", "numpy_version", "blas",
                "tinytorch_version", "git_commit"):
        assert key in info, f"get_system_info() is missing the key {key!r}"
    assert info["python_version"] == platform.python_version(), "python_version should be platform.python_version()"
    assert info["numpy_version"] == np.__version__, "numpy_version should be np.__version__"


@check("test-part2-system-info", "matches the schema", points=2)
def _system_info_schema(t: Trial) -> None:
    errors = _schema_errors(_system_info(t), load_schema()["properties"]["system_info"])
    assert not errors, f"system_info does not match the schema: {errors}"


@check("test-part2-system-info", "plain JSON values", points=1)
def _system_info_json(t: Trial) -> None:
    info = _system_info(t)
    count = info.get("cpu_count")
    assert type(count) is int, f"cpu_count must be an int, got {count!r}"
    _plain_json(info, "get_system_info()")


@check("test-part2-system-info", "the facts of this machine", points=1)
def _system_info_facts(t: Trial) -> None:
    info = _system_info(t)
    # The judge runs on the student's machine: the platform, cores and version are the same on both sides; the
    # CPU, BLAS and commit are what the framework's functions give in the student's own process and folder.
    facts = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count() or 1,
             "tinytorch_version": tinytorch.__version__,
             **{key: t.subject.call(("tinytorch.olympics.system", function))
                for key, function in (("cpu_model", "cpu_model"), ("blas", "blas_info"), ("git_commit", "git_commit"))}}
    for key, want in facts.items():
        assert info.get(key) == want and type(info.get(key)) is type(want), (
            f"{key} should be {str(want)[:80]!r}, got {str(info.get(key))[:80]!r}: read it with the function the "
            "notebook names for it")


# Part 2 · wilson_interval -------------------------------------------------------------------

def _interval(t: Trial, *args: Any, **kwargs: Any) -> tuple[float, float]:
    got = t.call("wilson_interval", *args, **kwargs)
    assert isinstance(got, (list, np.ndarray)) and len(got) == 2 and all(_number(v) for v in got), (
        f"wilson_interval must return (low, high), got {str(got)[:120]}")
    return float(got[0]), float(got[1])


@check("test-part2-wilson", "visible tests pass", gate=True)
def _wilson_visible(t: Trial) -> None:
    lo, hi = _interval(t, 351, 359)
    assert 0.95 < lo < 351 / 359 < hi < 0.995, f"wilson_interval(351, 359) should bracket 0.978; got {(lo, hi)}"
    lo, hi = _interval(t, 10, 10)
    assert abs(hi - 1.0) < 1e-9 and 0.70 < lo < 0.75, (
        f"at 10/10 the interval must still have width (low ≈ 0.722), got {(lo, hi)}: is this the Wilson formula?")


@check("test-part2-wilson", "reference values", points=3)
def _wilson_values(t: Trial) -> None:
    cases = [(0, 10), (1, 1)]
    for _ in range(3):
        n = t.rng.randint(2, 500)
        cases.append((t.rng.randint(1, n - 1), n))
    for k, n in cases:
        want = wilson_interval(k, n)
        got = _interval(t, k, n)
        assert np.allclose(got, want, atol=1e-6), f"wilson_interval({k}, {n}) should be {want}, got {got}"
    # At 0 and n correct the formula's two terms cancel, and rounding may carry an end past 0 or 1.
    for n in range(1, 41):
        for k in (0, n):
            for confidence in (0.8, 0.9, 0.95):
                low, high = _interval(t, k, n, confidence=confidence)
                assert 0.0 <= low <= high <= 1.0, (
                    f"both ends lie within [0, 1]: wilson_interval({k}, {n}, confidence={confidence}) gave "
                    f"({low!r}, {high!r}); clip them with max(0.0, ...) and min(1.0, ...)")


@check("test-part2-wilson", "confidence sets z", points=1)
def _wilson_confidence(t: Trial) -> None:
    n = t.rng.randint(50, 200)
    k, confidence = t.rng.randint(1, n - 1), t.rng.choice([0.9, 0.99])
    want = wilson_interval(k, n, confidence)
    got = _interval(t, k, n, confidence=confidence)
    assert np.allclose(got, want, atol=1e-6), (
        f"the confidence argument must set z: wilson_interval({k}, {n}, confidence={confidence}) is {want}, got {got}")


@check("test-part2-wilson", "impossible counts raise ValueError", points=1)
def _wilson_rejects(t: Trial) -> None:
    # At 99 % the square root stays real just outside 0…n, so only a check of the counts refuses them.
    for bad in [(1, 0), (11, 10), (-1, 10), (11, 10, 0.99), (-1, 10, 0.99)]:
        try:
            t.call("wilson_interval", *bad)
        except StudentRaised as raised:
            if raised.value_error:
                continue
            raise
        raise AssertionError(f"wilson_interval{bad} should raise ValueError")


# Part 2 · measure_latency -------------------------------------------------------------------

def _ranks(values: list[float]) -> np.ndarray:
    """Ranks from 0, equal values sharing the mean of their ranks (as Spearman's correlation wants)."""
    array = np.asarray(values, dtype=float)
    order = np.argsort(array, kind="stable")
    ranks = np.empty(len(array))
    ranks[order] = np.arange(len(array))
    for value in np.unique(array):
        tied = array == value
        ranks[tied] = ranks[tied].mean()
    return ranks


#: How closely samples must follow the calls they time (Spearman's rank correlation), their times drawn over
#: four octaves. The reference solution and the correct alternative followed them at 0.99 or more on a quiet
#: machine and at 0.88 or more with two busy loops on its two cores (10 runs of 24 calls each); 24 numbers
#: made up without timing reach 0.6 by chance about twice in a thousand tries (simulated, with the two
#: windows the units check looks at).
TRACKING = 0.6


def _tracks_the_calls(samples: list[float], probe: Sleepy, what: str, last: bool = False) -> list[Call]:
    """The samples follow the times of consecutive calls, in order: the last ones if ``last``, else any run of
    them (which calls is then another check's business). Returns those calls.

    Each call's wait was drawn afresh by the judge, so numbers that were not measured (a
    constant, or values made up) do not follow them; the rank correlation is blind to units
    and to a delay common to every call.
    """
    n, seen = len(samples), [call.seconds for call in probe.calls]
    rho, best = 0.0, probe.calls[-n:]
    if len(set(samples)) > 1 and len(seen) >= n:
        for start in range(len(seen) - n, -1, -1) if not last else [len(seen) - n]:
            window = seen[start:start + n]
            if len(set(window)) > 1:
                here = float(np.corrcoef(_ranks(samples), _ranks(window))[0, 1])
                if here > rho:
                    rho, best = here, probe.calls[start:start + n]
    assert rho >= TRACKING, (
        f"{what} do not follow the calls they time (the judge made each call take its own time; rank correlation "
        f"{rho:.2f}): time each call as it happens, and return the samples in the order of the calls")
    return best


def _not_shorter_than_played(samples: list[float], calls: list[Call]) -> None:
    played = sorted(call.wait * 1e3 for call in calls)
    assert all(r >= 0.95 * w for r, w in zip(sorted(samples), played, strict=True)), (
        f"some samples are shorter than the calls took (the model took {played[0]:.3g} to {played[-1]:.3g} ms): "
        "time each call, in milliseconds")


@check("test-part2-latency", "visible tests pass", gate=True)
def _latency_visible(t: Trial) -> None:
    probe = Sleepy()
    samples = t.call("measure_latency", probe, X50, num_runs=30, warmup_runs=5)
    assert isinstance(samples, list) and len(samples) == 30, (
        f"measure_latency must return num_runs=30 samples, got "
        f"{len(samples) if isinstance(samples, list) else samples}")
    assert all(s == (1, 64) for s in probe.shapes[-30:]), (
        f"latency is per sample: every timed call needs a (1, 64) input, saw {sorted(set(probe.shapes))}")
    assert len(probe.shapes) >= 35, f"run warmup_runs=5 untimed calls before the 30 timed ones ({len(probe.shapes)} " \
        "calls seen)"


@check("test-part2-latency", "warmup calls are not timed", points=3)
def _latency_warmup(t: Trial) -> None:
    cold_ms = t.rng.uniform(150, 200)
    cold = Sleepy(seconds=1e-3, cold_calls=3, cold_seconds=cold_ms / 1e3, octaves=4, rng=t.rng)
    samples = _numbers(t.call("measure_latency", cold, X50, num_runs=24, warmup_runs=3), "the samples")
    assert samples and max(samples) < 0.6 * cold_ms, (
        f"the {cold_ms:.0f} ms cold calls leaked into the statistics (max {max(samples, default=0):.1f} ms): "
        "warmup calls must not be timed")
    assert len(samples) == 24 and len(cold.calls) >= 27, (
        f"time num_runs=24 calls after warmup_runs=3 ({len(samples)} samples, {len(cold.calls)} calls seen)")
    _tracks_the_calls(samples, cold, "the samples", last=True)


@check("test-part2-latency", "milliseconds per single-sample call", points=1)
def _latency_units(t: Trial) -> None:
    low = t.rng.uniform(2.0, 3.0)
    sleepy = Sleepy(seconds=low / 1e3, octaves=4, rng=t.rng)
    raw = t.call("measure_latency", sleepy, X50, num_runs=24, warmup_runs=1)
    assert isinstance(raw, list) and all(_number(v) for v in raw), "samples must be numbers (ms)"
    samples = _numbers(raw, "the samples")
    assert len(samples) == 24, f"measure_latency must return num_runs=24 samples, got {len(samples)}"
    assert 0.95 * low <= min(samples) and max(samples) < 10_000, (
        f"a call that sleeps {low:.2f} ms or more must report at least that (milliseconds); got "
        f"{min(samples):.4g} to {max(samples):.4g}")
    assert sleepy.shapes and all(s[:1] == (1,) for s in sleepy.shapes), "every call must be on a single sample"
    assert len(sleepy.calls) >= 25, f"time num_runs=24 calls after warmup_runs=1 ({len(sleepy.calls)} calls seen)"
    _not_shorter_than_played(samples, _tracks_the_calls(samples, sleepy, "the samples"))


@check("test-part2-latency", "a fraction of a millisecond is kept", points=5)
def _latency_fraction(t: Trial) -> None:
    # A real forward pass of the capstone's model takes tens of microseconds: rounded to whole milliseconds, or
    # computed with integer division, it reports 0.
    _latency_calls(t)   # the samples must be measured at all
    wait = t.rng.uniform(0.2, 0.4)
    probe = Sleepy(seconds=wait / 1e3)
    samples = _numbers(t.call("measure_latency", probe, X50, num_runs=10, warmup_runs=1), "the samples")
    assert samples and min(samples) >= 0.9 * wait, (
        f"each call took at least {wait:.2f} ms; the samples go down to {min(samples, default=0):.4g} ms: keep the "
        "fraction of a millisecond (divide nanoseconds by 1e6, not with //)")


def _latency_calls(t: Trial) -> tuple[np.ndarray, Sleepy, list[float]]:
    """One measurement on rows drawn for this run, whose samples must follow the calls: (X, the probe, samples).

    What a call was given and in which mode counts only for samples that were measured: numbers made up
    for the probes (which still call them, under no_grad, on rows of X) earn none of these points.
    """
    def measure() -> tuple[np.ndarray, Sleepy, list[float]]:
        X = np.random.default_rng(t.rng.randint(0, 2**31)).normal(size=(t.rng.randint(8, 40), 64)).astype(np.float32)
        probe = Sleepy(seconds=1e-3, octaves=4, rng=t.rng)
        samples = _numbers(t.call("measure_latency", probe, X, num_runs=24, warmup_runs=2), "the samples")
        _tracks_the_calls(samples, probe, "the samples")   # which calls were timed is the warm-up check's
        return X, probe, samples
    return t.once("latency calls", measure)


@check("test-part2-latency", "calls run under no_grad", points=1)
def _latency_no_grad(t: Trial) -> None:
    _, probe, _ = _latency_calls(t)
    recording = sum(call.grad for call in probe.calls)
    assert probe.calls and not recording, (
        f"{recording} of the {len(probe.calls)} calls ran with autograd recording: run inference under "
        "`with no_grad():`")


@check("test-part2-latency", "each call gets a row of X", points=1)
def _latency_rows(t: Trial) -> None:
    X, probe, _ = _latency_calls(t)
    rows = {row.tobytes() for row in X}
    foreign = [call for call in probe.calls if not (call.rows.shape[:1] == (1,) and call.rows[0].tobytes() in rows)]
    assert probe.calls and not foreign, (
        f"{len(foreign)} of the {len(probe.calls)} calls got an input that is not a row of X: time the model on "
        "x1, one row of X as a float32 (1, features) Tensor")


#: The most a timed sample may hold besides the call it times, in ms: this, or a tenth of the median call,
#: whichever is larger. Honest timing adds microseconds (the clock, a lambda, a loop): the reference
#: solution and the three correct alternatives added 0.002 to 0.011 ms (5 measurements each on a quiet
#: machine, 8 with two busy loops on its two cores); one gc.collect() inside the clock adds about 6 ms.
BESIDES_THE_CALL_MS = 0.3


def _besides_the_call(samples: list[float], calls: list[Call]) -> tuple[float, float] | None:
    """What each sample holds besides its call, in ms, and the median call's time in ms; None without two calls
    the student's process reported.

    A robust line (Theil and Sen's: the median of the slopes between pairs, then the median
    intercept) through the samples against the calls' times: its slope is the samples' unit
    (1 for milliseconds), its intercept what every sample adds in that unit, so the intercept
    over the slope is in milliseconds whatever unit the samples are in (that is another check's).
    """
    pairs = [(call.took * 1e3, sample) for sample, call in zip(samples, calls, strict=True) if call.took is not None]
    slopes = [(b2 - b1) / (a2 - a1) for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:] if a2 != a1]
    if not slopes:
        return None
    slope = float(np.median(slopes))
    if not slope > 0:
        return None
    intercept = float(np.median([b - slope * a for a, b in pairs]))
    return intercept / slope, float(np.median([a for a, _ in pairs]))


@check("test-part2-latency", "only the call is timed", points=1)
def _latency_only_the_call(t: Trial) -> None:
    _, probe, samples = _latency_calls(t)
    found = _besides_the_call(samples, _tracks_the_calls(samples, probe, "the samples"))
    if found is not None:
        besides, median_call = found
        allowed = max(BESIDES_THE_CALL_MS, 0.1 * median_call)
        assert besides <= allowed, (
            f"each sample holds about {besides:.2f} ms besides the call it times (the calls took about "
            f"{median_call:.2f} ms each): start the clock right before model(x1) and stop it right after; build "
            "x1, and do anything else, outside the timed region")


# Part 2 · measure_throughput ----------------------------------------------------------------

@check("test-part2-throughput", "visible tests pass", gate=True)
def _throughput_visible(t: Trial) -> None:
    probe = Sleepy()
    got = t.call("measure_throughput", probe, X50, batch_size=32, num_batches=5)
    assert isinstance(got, dict), f"measure_throughput must return a dict, got {str(got)[:80]}"
    assert got.get("batch_size") == 32 and got.get("runs") == 5, (
        f"report the batch size and number of timed batches, got {got}")
    assert any(s == (32, 64) for s in probe.shapes), f"throughput must run batches of 32 rows, saw {set(probe.shapes)}"
    assert _number(got.get("samples_per_sec")) and got["samples_per_sec"] > 0, "samples_per_sec must be positive"


@check("test-part2-throughput", "measured on batches, not derived from latency", points=4)
def _throughput_measured(t: Trial) -> None:
    # Two models, one four times slower than the other, each taking the same time per call whatever the
    # batch size: no one rate is within the tolerance (0.3 to 1.05 of the truth) of both, so a rate that was
    # not measured cannot be right for both.
    fast = t.rng.uniform(2.0, 3.0) / 1e3
    for per_call in (fast, 4 * fast):
        flat = Sleepy(seconds=per_call)
        result = t.call("measure_throughput", flat, X50, batch_size=32, num_batches=5, warmup_runs=1)
        ideal = 32 / per_call
        rate = result["samples_per_sec"]
        assert _number(rate) and 0.3 * ideal < rate <= 1.05 * ideal, (
            f"32 samples per {per_call * 1e3:.2f} ms call is about {ideal:,.0f} samples/s; got {rate}. Throughput "
            f"must be measured on batches, not derived as 1000 / latency (which gives ~{1 / per_call:,.0f})")
        # How many calls were made is the next check's business: a count is charged once.
        assert flat.calls and all(s == (32, 64) for s in flat.shapes), "every throughput call must use the full batch"


@check("test-part2-throughput", "the median call sets the rate", points=1)
def _throughput_median(t: Trial) -> None:
    fast = t.rng.uniform(3.0, 4.0)
    slow = fast + t.rng.uniform(28.0, 32.0)
    probe = Pattern((), batch_pattern_ms=(fast, fast, fast, fast, slow))
    result = t.call("measure_throughput", probe, X50, batch_size=32, num_batches=10, warmup_runs=1)
    rate, ideal = result["samples_per_sec"], 32 / (fast / 1e3)
    assert _number(rate) and 0.6 * ideal < rate <= 1.05 * ideal, (
        f"of 10 batches, 8 took {fast:.1f} ms and 2 took {slow:.1f} ms: the median call gives about {ideal:,.0f} "
        f"samples/s, the mean {32 / ((4 * fast + slow) / 5e3):,.0f}; got {rate}. samples_per_sec is batch_size "
        "over the median time of one call")


@check("test-part2-throughput", "batches larger than X", points=1)
def _throughput_large_batch(t: Trial) -> None:
    probe = Sleepy()
    rows, batch = t.rng.randint(5, 20), t.rng.choice([48, 64, 96])
    result = t.call("measure_throughput", probe, np.ones((rows, 64), np.float32), batch_size=batch, num_batches=3)
    assert result["batch_size"] == batch and probe.shapes and all(s == (batch, 64) for s in probe.shapes), (
        f"with {rows} rows in X and batch_size={batch}, every call must still get {batch} rows (repeat rows of X); "
        f"the model saw {sorted(set(probe.shapes))}")


@check("test-part2-throughput", "num_batches calls after the warm-up", points=1)
def _throughput_counts(t: Trial) -> None:
    probe = Sleepy()
    batches, warmup = t.rng.randint(4, 9), t.rng.randint(1, 4)
    got = t.call("measure_throughput", probe, X50, batch_size=16, num_batches=batches, warmup_runs=warmup)
    assert isinstance(got, dict) and got.get("runs") == batches, (
        f"runs is num_batches, the number of timed calls ({batches}); got {str(got)[:120]}")
    assert len(probe.calls) >= batches + warmup, (
        f"run warmup_runs={warmup} untimed calls, then time num_batches={batches}: the model saw {len(probe.calls)} "
        "calls")


# Part 2 · BenchmarkReport -------------------------------------------------------------------

@check("test-part2-benchmark-model", "visible tests pass", gate=True)
def _report_visible(t: Trial) -> None:
    report = t.call("BenchmarkReport", model_name="probe", keep=True)
    returned = t.subject.call(report, Sleepy(), X50, np.zeros(50, dtype=np.int64), num_runs=20, warmup_runs=2,
                              throughput_batch_size=16, method="benchmark_model", keep=True)
    m = t.subject.get(returned)
    assert isinstance(m, dict), f"benchmark_model must return the metrics dict, got {returned.type}"
    for key in ("parameter_count", "model_size_mb", "accuracy", "latency_ms_mean", "latency_ms_std",
                "throughput_samples_per_sec"):
        assert key in m, f"metrics must contain the chapter's metric {key!r}"
    assert t.subject.kept_as(report, "metrics") == returned, \
        "benchmark_model must return the dict it stores in self.metrics"
    assert _number(m["accuracy"]) and abs(m["accuracy"] - 1.0) < 1e-12, (
        f"a model predicting class 0 on all-zero labels is 100% accurate: 1.0, not {m['accuracy']}")
    config = t.subject.get(report, "benchmark_config")
    assert isinstance(config, dict) and config.get("warmup_runs") == 2, "record warmup_runs in benchmark_config"


def _context(t: Trial) -> dict:
    """The seed and dataset the oracle's report is told of, drawn per run: the report must record these."""
    return t.once("context", lambda: {"seed": t.rng.randint(1, 10**6), "name": f"digits-{t.rng.randint(100, 999)}",
                                      "sha256": "".join(t.rng.choice("0123456789abcdef") for _ in range(64))})


def _oracle_report(t: Trial) -> tuple[Oracle, dict, dict, Any, float]:
    """The student's report of the oracle on 20 samples, some labels wrong: (oracle, metrics, config, timestamp,
    the accuracy it must report). Measured once; several checks read it."""
    def measure() -> tuple[Oracle, dict, dict, Any, float]:
        oracle, context = Oracle(t.rng), _context(t)
        X = np.zeros((20, 64), dtype=np.float32)
        y = np.arange(20) % 10
        X[np.arange(20), y] = 1.0
        wrong = t.rng.sample(range(20), t.rng.randint(3, 8))
        y[wrong] = (y[wrong] + 1) % 10
        t.need("BenchmarkReport")
        report = t.call("BenchmarkReport", "oracle", keep=True)
        t.subject.call(report, oracle, X, y, num_runs=12, warmup_runs=2, throughput_batch_size=32,
                       seed=context["seed"], dataset_name=context["name"], dataset_sha256=context["sha256"],
                       method="benchmark_model")
        metrics, config = t.subject.get(report, "metrics"), t.subject.get(report, "benchmark_config")
        assert isinstance(metrics, dict) and isinstance(config, dict), \
            "self.metrics and self.benchmark_config are dicts"
        return oracle, metrics, config, t.subject.get(report, "timestamp"), (20 - len(wrong)) / 20
    return t.once("oracle", measure)


@check("test-part2-benchmark-model", "written in the notebook", gate=True)
def _report_is_own(t: Trial) -> None:
    t.own("BenchmarkReport")


@check("test-part2-benchmark-model", "accuracy and its Wilson interval", points=2)
def _report_accuracy(t: Trial) -> None:
    _, m, _, _, right = _oracle_report(t)
    assert abs(m["accuracy"] - right) < 1e-12, (
        f"accuracy is a fraction: {round(right * 20)} of 20 correct is {right}, got {m['accuracy']}")
    low, high = wilson_interval(round(right * 20), 20)
    ci = m["accuracy_ci"]
    assert abs(ci["low"] - low) < 1e-4 and abs(ci["high"] - high) < 1e-4, \
        f"accuracy_ci must be the Wilson interval ({low:.4f}, {high:.4f}), got ({ci['low']}, {ci['high']})"
    assert ci.get("n_samples") == 20, (
        f"accuracy_ci.n_samples is the number of test rows scored (20), got {ci.get('n_samples')}")


@check("test-part2-benchmark-model", "size counts bytes stored", points=2)
def _report_size(t: Trial) -> None:
    oracle, m, _, _, _ = _oracle_report(t)
    size = oracle.stored_bytes
    assert m["model_size_bytes"] == size, (
        f"size counts bytes stored: {640 + oracle.extra} int8 weights (1 B) + 10 float32 biases = {size} B, "
        f"got {m['model_size_bytes']}")
    assert abs(m["model_size_mb"] - size / 1e6) < 1e-12, "model_size_mb is model_size_bytes / 1,000,000"
    assert m["parameter_count"] == oracle.parameter_count, (
        f"parameter_count counts weights and biases: {oracle.parameter_count}, got {m['parameter_count']}")


@check("test-part2-benchmark-model", "latency at batch 1, throughput at its batch", points=2)
def _report_timing(t: Trial) -> None:
    oracle, m, config, _, _ = _oracle_report(t)
    one = oracle.single_ms
    assert 0.95 * one < m["latency_ms_mean"] < one + 13, (
        f"one sample costs {one:.2f} ms here; latency_ms_mean {m['latency_ms_mean']:.3g} suggests a batch was timed, "
        "or wrong units")
    assert m["throughput_samples_per_sec"] > 1.5 * 1000 / m["latency_ms_mean"], (
        "throughput at batch 32 must be measured; it came out as 1000 / latency")
    lat = m["latency"]
    assert lat["batch_size"] == 1 and lat["n"] == 12 and lat["warmup_runs"] == 2, (
        "latency must record batch_size 1, n = num_runs and the warmup_runs used")
    assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"], "percentiles out of order"
    assert lat["mean_ci"][0] <= m["latency_ms_mean"] <= lat["mean_ci"][1], "mean_ci must contain the mean"
    assert m["throughput"]["batch_size"] == 32 and config["throughput_batch_size"] == 32, (
        "throughput must be measured at throughput_batch_size and say so")


@check("test-part2-benchmark-model", "context recorded", points=1)
def _report_context(t: Trial) -> None:
    oracle, m, config, timestamp, _ = _oracle_report(t)
    dataset, given = config["dataset"], _context(t)
    assert dataset["n_samples"] == 20, "benchmark_config.dataset.n_samples is the number of rows of X_test"
    assert (config.get("seed"), dataset.get("name"), dataset.get("sha256")) == (
        given["seed"], given["name"], given["sha256"]), (
        f"benchmark_config records the seed, dataset_name and dataset_sha256 it was given ({given['seed']}, "
        f"{given['name']!r}, {given['sha256'][:8]}…); got {config.get('seed')}, {dataset.get('name')!r}, "
        f"{str(dataset.get('sha256'))[:8]}…")
    peak = m["peak_memory_bytes"]
    assert type(peak) is int and peak >= 0, (
        f"peak_memory_bytes must be a whole number of bytes, at least 0 (got {peak!r}): "
        "Profiler().measure_memory(model, one_sample) returns it")
    profiler = t.subject.call(("tinytorch.perf.profiling", "Profiler"), keep=True)
    one, whole = (t.subject.call(profiler, oracle, np.zeros((rows, 64), np.float32), method="measure_memory")
                  for rows in (1, 20))
    assert _number(one) and _number(whole) and whole > 2 * one, (
        "the framework's Profiler.measure_memory no longer tells one row from twenty in your process")
    assert peak < math.sqrt(one * whole), (
        f"peak_memory_bytes is the peak during one single-sample call (about {one:,} B for this model here); it is "
        f"{peak:,} B, about what all 20 rows take ({whole:,} B): measure_memory(model, X_test[:1])")
    assert isinstance(timestamp, str) and timestamp.endswith(("Z", "+00:00")), "timestamp must be ISO-8601 in UTC"


@check("test-part2-benchmark-model", "metrics match the schema", points=1)
def _report_schema(t: Trial) -> None:
    _, m, _, _, _ = _oracle_report(t)
    _plain_json(m, "metrics")
    errors = _schema_errors(m, load_schema()["$defs"]["metrics"])
    assert not errors, f"metrics do not match the schema: {errors}"


def _pattern_report(t: Trial) -> tuple[Pattern, dict]:
    """The student's report of a Pattern model whose 3 first single-sample calls are cold (150-200 ms).

    With warmup_runs=3 and num_runs=20, a correct report times the pattern 4 times over.
    """
    def measure() -> tuple[Pattern, dict]:
        pattern = Pattern.drawn(t.rng, cold_calls=3, cold_ms=t.rng.uniform(150, 200))
        report = t.call("BenchmarkReport", "pattern", keep=True)
        t.subject.call(report, pattern, X50[:20], np.zeros(20, dtype=np.int64), num_runs=20, warmup_runs=3,
                       throughput_batch_size=8, method="benchmark_model")
        metrics = t.subject.get(report, "metrics")
        assert isinstance(metrics, dict), "self.metrics is a dict"
        return pattern, metrics
    return t.once("pattern", measure)


@check("test-part2-benchmark-model", "warm-up calls are not timed", points=1)
def _report_warmup(t: Trial) -> None:
    pattern, m = _pattern_report(t)
    assert m["latency"]["max"] < 0.4 * pattern.cold_ms and m["latency_ms_mean"] < max(pattern.pattern_ms) + 8, (
        f"the model's first calls take {pattern.cold_ms:.0f} ms and the report's max latency is "
        f"{m['latency']['max']:.1f} ms: benchmark_model must run warmup_runs untimed calls before timing "
        "(measure_latency does)")


@check("test-part2-benchmark-model", "statistics follow from the samples", points=3)
def _report_statistics(t: Trial) -> None:
    pattern, m = _pattern_report(t)
    lat = m["latency"]
    if lat["max"] >= 0.4 * pattern.cold_ms:
        return  # cold calls were timed: the warm-up check says so, and these statistics cannot be judged
    # A busy machine adds about the same delay to every sleep, so each statistic is judged
    # against the fastest call (the fast time plus that delay) rather than against absolute times.
    fast, slow = min(pattern.pattern_ms), max(pattern.pattern_ms)
    cycle = list(pattern.pattern_ms) * 4
    want_std, want_gap = statistics.stdev(cycle), statistics.mean(cycle) - fast
    std, fastest = m["latency_ms_std"], lat["min"]
    assert lat["n"] == 20, f"latency.n must be num_runs (20), got {lat['n']}"
    assert 0.7 * want_std < std < 2.9 * want_std, (
        f"20 calls of {fast:.2f} ms (16 of them) and {slow:.2f} ms (4) have a standard deviation of about "
        f"{want_std:.2f} ms; latency_ms_std is {std:.3g}. Report the sample standard deviation (ddof = 1), "
        "not the variance")
    above = {key: value - fastest for key, value in (("latency_ms_mean", m["latency_ms_mean"]),
                                                      ("median", lat["median"]), ("p90", lat["p90"]),
                                                      ("p99", lat["p99"]))}
    assert 0.5 * want_gap < above["latency_ms_mean"] < 2.5 * want_gap, (
        f"those calls have a mean about {want_gap:.2f} ms above the fastest call; latency_ms_mean is "
        f"{above['latency_ms_mean']:.3g} ms above it")
    # A busy machine delays a typical call more than the fastest one, so the median is judged against the mean:
    # four slow calls in twenty pull the mean about want_gap above the median, and delays pull it further.
    assert m["latency_ms_mean"] - lat["median"] > 0.5 * want_gap, (
        f"16 of the 20 calls take {fast:.2f} ms, so the median is about the fastest call, well below the mean "
        f"({m['latency_ms_mean']:.3g} ms); it is {lat['median']:.3g} ms: report the median of the samples")
    assert above["p90"] > 0.8 * (slow - fast) and above["p99"] > 0.8 * (slow - fast), (
        f"4 of the 20 calls take {slow:.2f} ms, so p90 and p99 are about {slow - fast:.1f} ms above the fastest "
        f"call; they are {above['p90']:.3g} and {above['p99']:.3g} ms above")
    if "samples_ms" in lat:
        problems = [str(p) for p in submission_problems({"baseline": {"metrics": m}})
                    if "samples" in p.rule]
        assert not problems, f"the statistics do not follow from latency.samples_ms: {problems}"


# Part 3 · generate_submission ---------------------------------------------------------------

@check("test-part3-generate", "visible tests pass", gate=True)
def _generate_visible(t: Trial) -> None:
    sub = t.call("generate_submission", _fake("base", 2.0, 0.04, 0.97), _fake("opt", 0.5, 0.01, 0.96),
                 ["quantization", "pruning"])
    assert isinstance(sub, dict), f"generate_submission must return a dict, got {str(sub)[:80]}"
    assert sub.get("submission_type") == "optimized", "with an optimized report, submission_type is 'optimized'"
    improvements = sub["improvements"]
    assert abs(improvements["speedup"] - 4.0) < 1e-9, (
        f"2.0 ms → 0.5 ms is a speedup of 4.0 (baseline / optimized), got {improvements['speedup']}")
    assert abs(improvements["compression_ratio"] - 4.0) < 1e-9, "compression_ratio = baseline size / optimized size"
    assert abs(improvements["accuracy_delta"] - (-0.01)) < 1e-9, "accuracy_delta = optimized - baseline"
    assert sub["optimized"]["techniques_applied"] == ["quantization", "pruning"], (
        "techniques_applied must be the list you were given, in order; got "
        f"{sub['optimized'].get('techniques_applied')}")


def _fakes(t: Trial) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    # accuracies are whole numbers of the fake test set's 100 answers
    base = (t.rng.uniform(1.5, 3.0), t.rng.uniform(0.02, 0.08), t.rng.randint(90, 99) / 100)
    opt = (t.rng.uniform(0.2, 1.2), t.rng.uniform(0.005, 0.02), t.rng.randint(85, 97) / 100)
    return base, opt


@check("test-part3-generate", "an optimized submission is valid", points=4)
def _generate_valid(t: Trial) -> None:
    base, opt = _fakes(t)
    shares = t.rng.uniform(0.75, 0.85), t.rng.uniform(0.9, 0.98)
    sub = t.call("generate_submission", _fake("base", *base, shares[0]), _fake("opt", *opt, shares[1]),
                 ["quantization", "pruning"])
    problems = _problems(sub)
    assert not problems, f"the submission breaks the format's rules: {problems[:5]}"
    assert sub["schema_version"] == SCHEMA_VERSION, f"schema_version must be {SCHEMA_VERSION}"
    assert abs(sub["improvements"]["speedup"] - base[0] / opt[0]) < 1e-9, (
        f"speedup is baseline mean latency / optimized mean latency = {base[0] / opt[0]:.4g}, "
        f"got {sub['improvements']['speedup']}")
    _plain_json(sub, "the submission")


@check("test-part3-generate", "a baseline-only submission", points=3)
def _generate_baseline_only(t: Trial) -> None:
    base, _ = _fakes(t)
    only = t.call("generate_submission", _fake("base", *base))
    assert only["submission_type"] == "baseline" and "optimized" not in only and "improvements" not in only, (
        "a baseline-only submission has no 'optimized' and no 'improvements'")
    problems = _problems(only)
    assert not problems, f"the baseline-only submission breaks the format's rules: {problems[:5]}"


@check("test-part3-generate", "reports are copied", points=2)
def _generate_copies(t: Trial) -> None:
    (latency, size, acc), opt = _fakes(t)
    template = make_fake_report("base", latency, size, acc)
    base = t.subject.keep(StandIn(**vars(template)))
    sub = t.call("generate_submission", base, _fake("opt", *opt), ["quantization"], keep=True)
    assert t.subject.get(sub, "baseline", "metrics") == template.metrics, \
        "the baseline's metrics must be the report's metrics"
    t.subject.set(base, ["metrics", "accuracy"], 0.0)
    assert t.subject.get(sub, "baseline", "metrics", "accuracy") == acc, (
        "copy the reports' metrics: later changes leaked into the submission")


@check("test-part3-generate", "a slowdown is a ratio below 1", points=3)
def _generate_slowdown(t: Trial) -> None:
    slower, bigger = t.rng.uniform(2.0, 5.0), t.rng.randint(15, 30) / 10
    slow = t.call("generate_submission", _fake("b", 1.0, 0.01, 0.9), _fake("o", slower, 0.01 * bigger, 0.9), ["x"])
    imp = slow["improvements"]
    assert abs(imp["speedup"] - 1 / slower) < 1e-9 and abs(imp["compression_ratio"] - 1 / bigger) < 1e-9, (
        "an optimization that makes things slower or bigger must show a ratio below 1, not be inverted")


@check("test-part3-generate", "no technique is a ValueError", points=1)
def _generate_needs_technique(t: Trial) -> None:
    base, opt = _fakes(t)
    techniques: list[str] | None
    for techniques in (None, []):
        try:
            t.call("generate_submission", _fake("base", *base), _fake("opt", *opt), techniques)
        except StudentRaised as raised:
            if raised.value_error:
                continue
            raise
        raise AssertionError(f"an optimized report with techniques_applied={techniques!r} must raise ValueError: "
                             "the schema requires at least one technique")


@check("test-part3-generate", "the reports' own fields", points=2)
def _generate_fields(t: Trial) -> None:
    (latency, size, acc), opt = _fakes(t)
    stamp = f"20{t.rng.randint(20, 29)}-0{t.rng.randint(1, 9)}-1{t.rng.randint(0, 9)}T0{t.rng.randint(0, 9)}:00:00Z"
    name = f"model-{t.rng.randint(100, 999)}"
    fields = {**vars(make_fake_report(name, latency, size, acc)), "timestamp": stamp}
    sub = t.call("generate_submission", StandIn(**fields), _fake("opt", *opt), ["pruning"])
    entry = sub["baseline"]
    assert entry.get("model_name") == name and entry.get("timestamp") == stamp, (
        f"baseline.model_name and baseline.timestamp are the report's ({name!r}, {stamp!r}); got "
        f"{entry.get('model_name')!r}, {entry.get('timestamp')!r}")
    assert entry.get("benchmark_config") == fields["benchmark_config"], "baseline.benchmark_config is the report's"
    assert sub.get("system_info") == fields["system_info"], "system_info is the baseline report's"
    assert sub.get("tinytorch_version") == tinytorch.__version__, "tinytorch_version is tinytorch.__version__"
    assert isinstance(sub.get("timestamp"), str) and sub["timestamp"].endswith(("Z", "+00:00")), (
        "the submission's timestamp is when it was made, in UTC: utc_timestamp()")


# Part 4 · validate_submission_schema --------------------------------------------------------

def _rejects(t: Trial, document: Any, *fragments: str) -> str:
    """The validator's message for ``document``, which must be refused and mention every fragment."""
    try:
        t.call("validate_submission_schema", document)
    except StudentRaised as raised:
        if not raised.value_error:
            raise
        text = raised.message()
        for fragment in fragments:
            assert fragment in text, f"the error should mention {fragment!r}; it said: {text[:600]}"
        return text
    raise AssertionError(f"this submission should be rejected (expected mention of {fragments})")


def _mutated(change: Callable[[dict], Any]) -> dict:
    document = make_fake_submission()
    change(document)
    return document


@check("test-part4-validate", "visible tests pass", gate=True)
def _validate_visible(t: Trial) -> None:
    assert t.call("validate_submission_schema", make_fake_submission()) is True, "a valid submission must return True"
    try:
        t.call("validate_submission_schema", _mutated(lambda d: _metrics(d).__setitem__("accuracy", 97)))
    except StudentRaised as raised:
        if not raised.value_error:
            raise
        assert "accuracy" in raised.message(), f"the error must name the offending field; got: {raised.message()}"
    else:
        raise AssertionError("accuracy 97 (a percentage) must be rejected: accuracy is a fraction in [0, 1]")


@check("test-part4-validate", "written in the notebook", gate=True)
def _validate_is_own(t: Trial) -> None:
    t.own("validate_submission_schema")


@check("test-part4-validate", "true and false are not numbers", points=1)
def _validate_booleans(t: Trial) -> None:
    _rejects(t, _mutated(lambda d: _metrics(d).__setitem__("latency_ms_mean", True)), "latency_ms_mean")
    _rejects(t, _mutated(lambda d: _metrics(d).__setitem__("parameter_count", False)), "parameter_count")


@check("test-part4-validate", "NaN and Infinity are refused", points=2)
def _validate_non_finite(t: Trial) -> None:
    _rejects(t, _mutated(lambda d: _metrics(d, "optimized").__setitem__("latency_ms_std", float("nan"))),
             "latency_ms_std")
    _rejects(t, _mutated(lambda d: d["improvements"].__setitem__("speedup", float("inf"))), "speedup")
    _rejects(t, _mutated(lambda d: _metrics(d)["latency"].__setitem__("p90", float("nan"))), "p90")
    spot = t.rng.randint(1, 8)

    def in_a_list(d: dict) -> None:
        latency = _metrics(d)["latency"]
        latency["samples_ms"] = [latency["median"]] * latency["n"]
        latency["samples_ms"][spot] = float("nan")

    _rejects(t, _mutated(in_a_list), f"samples_ms[{spot}]")


@check("test-part4-validate", "a missing metric is refused", points=1)
def _validate_missing(t: Trial) -> None:
    key = t.rng.choice(["throughput_samples_per_sec", "latency_ms_std", "model_size_mb"])
    _rejects(t, _mutated(lambda d: _metrics(d).pop(key)), key)


@check("test-part4-validate", "cross-field rules", points=5)
def _validate_semantic(t: Trial) -> None:
    _rejects(t, _mutated(lambda d: d["improvements"].__setitem__("speedup", 1 / d["improvements"]["speedup"])),
             "speedup")
    _rejects(t, _mutated(lambda d: d["improvements"].__setitem__("compression_ratio", 0.25)), "compression_ratio")
    _rejects(t, _mutated(lambda d: _metrics(d)["latency"].__setitem__("p90", 99.0)), "p90")


@check("test-part4-validate", "unknown versions and non-objects are refused", points=1)
def _validate_version(t: Trial) -> None:
    version = f"{t.rng.randint(2, 99)}.0.0"
    _rejects(t, _mutated(lambda d: d.__setitem__("schema_version", version)), version)

    def also_broken(d: dict) -> None:
        d["schema_version"] = version
        _metrics(d)["accuracy"] = 97

    text = _rejects(t, _mutated(also_broken), version)
    assert "accuracy" not in text, (
        f"an unknown schema_version is the only problem reported (the other rules are another version's); the "
        f"error also named accuracy: {text[:300]}")
    _rejects(t, "not a submission")


@check("test-part4-validate", "every problem at once", points=1)
def _validate_all_problems(t: Trial) -> None:
    def two_problems(d: dict) -> None:
        _metrics(d)["accuracy"] = 1.5
        _metrics(d, "optimized")["model_size_mb"] = "small"

    _rejects(t, _mutated(two_problems), "accuracy", "model_size_mb")


@check("test-part4-validate", "numbers given as strings are refused", points=1)
def _validate_strings(t: Trial) -> None:
    _rejects(t, _mutated(lambda d: _metrics(d).__setitem__("accuracy", "0.97")), "accuracy")
    _rejects(t, _mutated(lambda d: _metrics(d, "optimized").__setitem__("accuracy", "96%")), "accuracy")
    _rejects(t, _mutated(lambda d: _metrics(d)["throughput"].__setitem__("batch_size", "64")), "batch_size")


@check("test-part4-validate", "negative measurements are refused", points=1)
def _validate_negatives(t: Trial) -> None:
    for key in ("latency_ms_mean", "model_size_bytes", "throughput_samples_per_sec", "parameter_count"):
        def negative(d: dict, key: str = key) -> None:
            _metrics(d)[key] = -abs(_metrics(d)[key]) - 1

        _rejects(t, _mutated(negative), key)
    _rejects(t, _mutated(lambda d: _metrics(d)["latency"].__setitem__("outliers", -1)), "outliers")


@check("test-part4-validate", "valid submissions are accepted", points=2)
def _validate_accepts(t: Trial) -> None:
    optimized = make_fake_submission()
    baseline_only = {k: v for k, v in make_fake_submission().items() if k not in ("optimized", "improvements")}
    baseline_only["submission_type"] = "baseline"
    for name, document in (("an optimized submission", optimized), ("a baseline-only submission", baseline_only)):
        try:
            verdict = t.call("validate_submission_schema", document)
        except StudentRaised as raised:
            if not raised.value_error:
                raise
            raise AssertionError(f"{name} that is valid was refused; a validator must accept valid documents. "
                                 f"It said: {raised.message()[:300]}") from None
        assert verdict is True, f"return True for a valid submission ({name} returned {verdict!r})"


# Part 4 · save_submission -------------------------------------------------------------------

def _save(t: Trial, *args: Any, **kwargs: Any) -> Any:
    """``save_submission(*args)`` with the package's validator in place of the notebook's: a slip of the
    validator is charged in its own cell, not again in this one."""
    return t.call("save_submission", *args, stand_ins=("validate_submission_schema",), **kwargs)


def _saved(t: Trial, path: str) -> Any:
    """The JSON in the file the student's code wrote at ``path`` (in the trial's folder), or None."""
    data = t.read(str(Path(path).relative_to(t.workdir)))
    return None if data is None else data.decode("utf-8", errors="replace")


def _refuses_bad(t: Trial, bad: dict, path: str) -> None:
    try:
        _save(t, bad, path)
    except StudentRaised as raised:
        if not raised.value_error:
            raise
    else:
        raise AssertionError("an invalid submission must raise, not be saved")


@check("test-part4-save", "visible tests pass", gate=True)
def _save_visible(t: Trial) -> None:
    folder = t.folder()
    path = f"{folder}/results.json"
    good = make_fake_submission()
    assert _save(t, copy.deepcopy(good), path) == path, "save_submission returns the path it wrote"
    text = _saved(t, path)
    assert text is not None and _json(text) == good, "the file must hold exactly the submission"
    _refuses_bad(t, _mutated(lambda d: _metrics(d).__setitem__("accuracy", 97)), f"{folder}/bad.json")
    assert _saved(t, f"{folder}/bad.json") is None, "an invalid submission must never be written"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AssertionError(f"the file is not JSON: {exc}") from None


@check("test-part4-save", "NaN is never saved", points=4)
def _save_refuses_nan(t: Trial) -> None:
    good = make_fake_submission()
    path = f"{t.folder()}/results.json"
    _save(t, copy.deepcopy(good), path)
    bad = copy.deepcopy(good)
    _metrics(bad, "optimized")["latency_ms_mean"] = float("nan")
    _refuses_bad(t, bad, path)
    text = _saved(t, path)
    assert text is not None and "NaN" not in text and _json(text) == good, \
        "a refused save must leave the earlier file intact"


@check("test-part4-save", "a crash while writing keeps the earlier file", points=5)
def _save_is_atomic(t: Trial) -> None:
    good = make_fake_submission()
    for fault in ("json", "fsize:500"):
        folder = t.folder()
        path = f"{folder}/results.json"
        _save(t, copy.deepcopy(good), path)
        try:
            _save(t, copy.deepcopy(good), path, fault=fault)
        except StudentRaised as raised:
            if not raised.os_error:
                raise
        text = _saved(t, path)
        assert text is not None and _json(text) == good, (
            "a save that crashed while writing clobbered the earlier file: write the text to a temporary file in "
            "the same folder, then os.replace it onto the target")
        left = t.listing(str(Path(folder).relative_to(t.workdir)))
        assert left == ["results.json"], (
            f"a failed save left files behind: {left}; remove the temporary file when it fails")


@check("test-part4-save", "the file gets the usual permissions", points=1)
def _save_permissions(t: Trial) -> None:
    relative = f"{Path(t.folder()).relative_to(t.workdir)}/results.json"
    _save(t, make_fake_submission(), str(t.workdir / relative))
    umask = os.umask(0)
    os.umask(umask)   # the student's process inherits the judge's
    mode = t.mode(relative)
    assert mode == 0o666 & ~umask, (
        f"the saved file has mode {mode:o}; a new file here gets {0o666 & ~umask:o}: mkstemp makes it 600, so "
        "os.chmod(tmp_path, 0o666 & ~umask) before os.replace")


# Part 5 · results.json ----------------------------------------------------------------------

def _results_file(t: Trial) -> tuple[Any, list[str]] | None:
    """results.json as the workflow wrote it while it was judged, with its problems; None if it wrote none."""
    t.run_workflow()
    folder = os.open(t.workdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        document, problems = load_submission_file("results.json", dir_fd=folder)
    finally:
        os.close(folder)
    if document is None and problems and "No such file" in problems[0].message:
        return None
    if document is None:
        return None, [str(p) for p in problems]
    return document, [str(p) for p in problems] + _problems(document)


def _not_twice(t: Trial, problem: str, upstream: tuple[str, ...] | None = None) -> None:
    """Part 5 holds no code of the student's: the workflow fails only when one of their functions does. If an
    earlier cell lost points for it (property-level slips, or one function failing its visible tests), that
    slip was charged there, and Part 5 says so instead of charging it again (:meth:`Trial.charged_cells`).
    ``upstream``: the cells whose functions this property depends on (every cell if None)."""
    earlier = [cell for cell in t.charged_cells() if upstream is None or cell in upstream]
    if earlier:
        raise ChargedElsewhere(f"{problem}. This follows from what {', '.join(earlier)} lost points for")


@contextlib.contextmanager
def _follows_from(t: Trial, *upstream: str) -> Iterator[None]:
    """A Part 5 property that fails is not charged again when a cell it depends on already lost points."""
    try:
        yield
    except AssertionError as failed:
        _not_twice(t, str(failed), upstream)
        raise


#: The cells whose functions make the baseline's report, and those that make the optimized entry.
BASELINE_FROM = ("test-part1-simplemlp", "test-part2-wilson", "test-part2-latency", "test-part2-throughput",
                 "test-part2-benchmark-model", "test-part3-generate")
OPTIMIZED_FROM = ("test-part1-simplemlp", "test-part2-benchmark-model", "test-part3-generate")


def _results(t: Trial) -> dict:
    """results.json as the workflow wrote it, else the ``submission`` dict it built but could not save.

    Part 5 holds no code of the student's own: reading what was built when saving failed
    keeps an earlier slip from costing Part 5's points a second time in full.
    """
    found = _results_file(t)
    if found is not None and isinstance(found[0], dict):
        return found[0]
    built = t.subject.get("submission") if t.subject.defined("submission")[0] else None
    if not isinstance(built, dict):
        problem = "the workflow built no submission: the error of the workflow cell names the part to fix"
        _not_twice(t, problem)
        raise AssertionError(problem)
    return built


@check("test-part5-results", "visible tests pass", gate=True)
def _results_visible(t: Trial) -> None:
    found = _results_file(t)
    if found is not None:
        _, problems = found
        assert not problems, f"results.json does not pass the validator: {problems[:5]}"


@check("test-part5-results", "results.json is written and valid", points=3)
def _results_valid(t: Trial) -> None:
    found = _results_file(t)
    problem = ("the workflow did not write results.json: the error of the workflow cell names the part to fix"
               if found is None else f"results.json breaks the format's rules: {found[1][:5]}" if found[1] else "")
    if problem:
        _not_twice(t, problem)
    assert not problem, problem


@check("test-part5-results", "the baseline is the trained SimpleMLP", points=3)
def _results_baseline(t: Trial) -> None:
    results = _results(t)
    m = _metrics(results)
    with _follows_from(t, *BASELINE_FROM):
        assert m["accuracy"] >= 0.9, "the baseline should be your trained SimpleMLP (>= 90% accuracy)"
        assert m["parameter_count"] == 64 * 128 + 128 + 128 * 10 + 10, "the baseline must be SimpleMLP(64, 128, 10)"
        assert results["baseline"]["benchmark_config"]["dataset"]["sha256"] == digits_sha256(), (
            "the baseline must be measured on the bundled digits test split")
        assert m["latency"]["n"] >= 200, "the workflow measures 200 latency runs"


@check("test-part5-results", "the optimized model says what was done", points=3)
def _results_optimized(t: Trial) -> None:
    results = _results(t)
    # The framework's optimizations are installed where the notebook is judged, so a baseline-only submission
    # means that the stack could not be applied to the student's model.
    with _follows_from(t, *OPTIMIZED_FROM):
        assert results.get("submission_type") == "optimized" and isinstance(results.get("optimized"), dict), (
            "the workflow submitted the baseline only: the optimization stack could not be applied to your model "
            "(Part 4b printed why). Keep SimpleMLP's three layers, in order, in a Sequential as self.layers")
        assert results["optimized"].get("techniques_applied"), "name the techniques you applied"
        assert results["improvements"]["compression_ratio"] > 1.0, "the optimized model should be smaller"


def _when(stamp: Any) -> float | None:
    """An ISO-8601 UTC timestamp as seconds since the epoch, or None if it is not one."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


@check("test-part5-results", "the numbers come from this run", points=1)
def _results_this_run(t: Trial) -> None:
    results = _results(t)
    started, ended = t.run_workflow()
    with _follows_from(t, *BASELINE_FROM):
        entries = [("the submission", results)] + [
            (f"the {name} report", results[name]) for name in ("baseline", "optimized") if name in results]
        for what, entry in entries:
            moment = _when(entry.get("timestamp"))
            # whole seconds, and the report of the baseline may be made while the model trains
            assert moment is not None and started - 2 <= moment <= ended + 2, (
                f"{what}'s timestamp ({entry.get('timestamp')!r}) is not the time it was made: the workflow ran "
                f"from {datetime.fromtimestamp(started, timezone.utc):%H:%M:%S} to "
                f"{datetime.fromtimestamp(ended, timezone.utc):%H:%M:%S} UTC. Stamp each with utc_timestamp()")
        digits = load_digits()
        for name, variable in (("baseline", "model"), ("optimized", "optimized_model")):
            if name not in results or not t.subject.defined(variable)[0]:
                continue
            right = float(np.mean(_forward(t, variable, digits.X_test).argmax(axis=1) == digits.y_test))
            metrics = _metrics(results, name)
            # one row either way: logits computed in batches of another size may round a near tie apart
            assert _number(metrics["accuracy"]) and abs(metrics["accuracy"] - right) <= 1.5 / len(digits.y_test), (
                f"the {name} model's accuracy on the digits test split is {right:.4f} when the judge runs it; "
                f"results.json says {metrics['accuracy']}")
            stored = t.subject.call(variable, method="state_dict")
            size = sum(value.nbytes for value in stored.values() if isinstance(value, np.ndarray)) \
                if isinstance(stored, dict) else None
            assert size is None or metrics["model_size_bytes"] == size, (
                f"the {name} model stores {size:,} bytes (its state_dict's arrays); results.json says "
                f"{metrics['model_size_bytes']}")

