"""The submission format: the JSON Schema file and the invariants a schema cannot express.

A JSON Schema checks each field on its own: types, required keys, ranges. It cannot
say that p90 ≤ p99, that a confidence interval contains its own statistic, or that a
claimed speedup is what the two reports imply. ``semantic_problems`` checks those
cross-field rules. Both report :class:`Problem` values naming the JSON path and the
rule broken, so one run lists everything wrong with a submission, not just the first.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from itertools import pairwise
from typing import Any, Iterator, Optional, cast

import numpy as np

from tinytorch.perf.comparison import median_ratio
from tinytorch.perf.distributions import median_ci_ranks, regularized_beta, student_t_ppf

__all__ = ["SCHEMA_FILE", "SCHEMA_VERSION", "KNOWN_VERSIONS", "Problem", "SubmissionError",
           "load_schema", "json_path", "printable", "semantic_problems", "submission_problems", "MAX_LATENCY_MS"]

SCHEMA_FILE = "submission.schema.json"
SCHEMA_VERSION = "1.1.0"
# 1.1.0 adds improvements.median_speedup and nothing else, so every 1.0.0 file is still valid.
KNOWN_VERSIONS = ("1.0.0", SCHEMA_VERSION)
_REL = 1e-6   # relative tolerance for values derived from other values (JSON round trip safe)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# numpy.percentile's methods: the nine Hyndman & Fan (1996) types in order, then numpy's others.
_HYNDMAN_FAN = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
                "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased")
_NUMPY_METHODS = frozenset(_HYNDMAN_FAN) | {"lower", "higher", "midpoint", "nearest"}
_GRID = 8 * math.ulp(0.0)  # a few of the smallest float steps: the rounding of any statistic of tiny samples


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission: where, which rule, and what to fix."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [{self.rule}] {self.message}"


class SubmissionError(ValueError):
    """A submission broke one or more rules; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid submission: {len(self.problems)} problem(s)\n{lines}")


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("tinytorch.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The submission schema (a fresh copy each call, so callers cannot alter the shared one)."""
    return copy.deepcopy(json.loads(_schema_text()))


#: The largest latency the schema accepts, in ms (an hour per call): far beyond any benchmark of the
#: capstone, and small enough that no unit conversion or sum of a valid file can overflow.
MAX_LATENCY_MS: float = float(json.loads(_schema_text())["$defs"]["metrics"]["properties"]["latency_ms_mean"]
                              ["maximum"])


def printable(text: str) -> str:
    """``text`` safe to print on one line of any terminal: every character Python does not call printable
    (control characters and line breaks, format characters such as bidi overrides, lone surrogates
    from a file name that is not UTF-8, unassigned code points) becomes a visible escape."""
    return "".join(char if char.isprintable() or char == " " else
                   f"\\x{ord(char):02x}" if ord(char) < 0x100 else
                   f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}" for char in str(text))


def json_path(parts: Any) -> str:
    """``['baseline', 'metrics', 'accuracy']`` → ``$.baseline.metrics.accuracy``; list indices as ``[i]``.

    A key that is not a plain name is written in brackets and quotes, escaped, so that no
    key can make a path span lines or look like another path: ``$['a.b']``, ``$['x\\n']``.
    """
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(str(part)):
            out += f".{part}"
        else:
            out += "['" + printable(str(part)).replace("'", "\\'") + "']"
    return out


def _number(value: Any) -> Optional[float]:
    """``value`` as a finite float, or None if it is not a real JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range (JSON integers have no size limit)
        return None
    return number if math.isfinite(number) else None


def _get(doc: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list) and isinstance(key, int) and -len(doc) <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _close(a: float, b: float, rel: float = _REL, abs_: float = 1e-12) -> bool:
    """a ≈ b, relative with an absolute floor; an infinity (from an overflow) is close to nothing but itself."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def _whole(value: Any) -> Optional[int]:
    """A count however JSON spells it (``50`` or ``50.0``, as the schema's "integer" allows); else None."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _at_most(a: float, b: float) -> bool:
    """a <= b up to floating-point rounding: relative, with an absolute floor for statistics that can be 0."""
    return a <= b or _close(a, b, rel=1e-9)


def _report_problems(name: str, report: Any) -> Iterator[Problem]:
    m = _get(report, "metrics")
    lat = _get(m, "latency")
    base = [name, "metrics"]
    order = [("min", _number(_get(lat, "min"))), ("median", _number(_get(lat, "median"))),
             ("p90", _number(_get(lat, "p90"))), ("p99", _number(_get(lat, "p99"))),
             ("max", _number(_get(lat, "max")))]
    known = [(k, v) for k, v in order if v is not None]
    for (k1, v1), (k2, v2) in pairwise(known):
        if not _at_most(v1, v2):
            yield Problem(json_path(base + ["latency", k1]), "percentile-order",
                          f"latency {k1} ({v1:g} ms) exceeds {k2} ({v2:g} ms); "
                          "expected min <= median <= p90 <= p99 <= max")
    samples = _get(lat, "samples_ms")
    n_lat = _whole(_get(lat, "n"))
    if isinstance(samples, list) and n_lat is not None and len(samples) != n_lat:
        yield Problem(json_path(base + ["latency", "samples_ms"]), "samples-consistent",
                      f"{len(samples)} samples listed but latency.n is {n_lat}")
    outliers = _whole(_get(lat, "outliers"))
    if outliers is not None and n_lat is not None and outliers > n_lat:
        yield Problem(json_path(base + ["latency", "outliers"]), "outliers-count",
                      f"{outliers} outliers among {n_lat} samples")
    if isinstance(samples, list) and samples and all(_number(v) is not None and v >= 0 for v in samples):
        yield from _sample_problems(base, m, np.asarray(samples, dtype=np.float64))
    mean = _number(_get(m, "latency_ms_mean"))
    lo_, hi_ = _number(_get(lat, "min")), _number(_get(lat, "max"))
    if mean is not None and lo_ is not None and hi_ is not None and not (_at_most(lo_, mean) and _at_most(mean, hi_)):
        yield Problem(json_path(base + ["latency_ms_mean"]), "mean-within-range",
                      f"mean latency {mean:g} ms lies outside [min, max] = [{lo_:g}, {hi_:g}] ms")
    for ci_key, stat_key, stat in (("mean_ci", "latency_ms_mean", mean),
                                   ("median_ci", "median", _number(_get(lat, "median")))):
        yield from _interval_problems(base + ["latency", ci_key], _get(lat, ci_key), stat, stat_key)
    acc = _number(_get(m, "accuracy"))
    aci = _get(m, "accuracy_ci")
    n_scored = _whole(_get(aci, "n_samples"))
    if acc is not None and 0 <= acc <= 1 and n_scored and abs(round(acc * n_scored) / n_scored - acc) > 1e-9:
        nearest = round(acc * n_scored)
        yield Problem(json_path(base + ["accuracy"]), "accuracy-count",
                      f"accuracy {acc:g} is no whole number of correct answers out of {n_scored} "
                      f"(the nearest is {nearest}/{n_scored} = {nearest / n_scored:g})")
    yield from _interval_problems(base + ["accuracy_ci"], [_get(aci, "low"), _get(aci, "high")], acc, "accuracy")
    yield from _accuracy_interval_problems(base + ["accuracy_ci"], aci, acc)
    if not isinstance(samples, list) or not samples:
        yield from _stated_interval_problems(base, m)
    size_mb, size_b = _number(_get(m, "model_size_mb")), _number(_get(m, "model_size_bytes"))
    if size_mb is not None and size_b is not None and not _close(size_mb, size_b / 1e6):
        yield Problem(json_path(base + ["model_size_mb"]), "size-units",
                      f"model_size_mb is {size_mb:g} but model_size_bytes / 1,000,000 is {size_b / 1e6:g} "
                      "(MB here means 10^6 bytes, not MiB)")
    count = _whole(_get(m, "parameter_count"))
    if size_b is not None and count is not None and size_b * 8 < count:
        yield Problem(json_path(base + ["model_size_bytes"]), "size-floor",
                      f"{size_b:g} stored bytes cannot hold {count:,} parameter values: each takes at least a bit")
    tput = _number(_get(m, "throughput_samples_per_sec"))
    tput_detail = _number(_get(m, "throughput", "samples_per_sec"))
    if tput is not None and tput_detail is not None and not _close(tput, tput_detail):
        yield Problem(json_path(base + ["throughput_samples_per_sec"]), "throughput-consistent",
                      f"throughput_samples_per_sec ({tput:g}) differs from throughput.samples_per_sec "
                      f"({tput_detail:g})")
    config = _get(report, "benchmark_config")
    measured, configured = _whole(_get(m, "throughput", "batch_size")), _whole(_get(config, "throughput_batch_size"))
    if measured is not None and configured is not None and measured != configured:
        yield Problem(json_path(base + ["throughput", "batch_size"]), "config-consistent",
                      f"throughput measured at batch {measured} but benchmark_config.throughput_batch_size "
                      f"says {configured}")
    n, runs = n_lat, _whole(_get(config, "num_runs"))
    if n is not None and runs is not None and n < runs:
        yield Problem(json_path(base + ["latency", "n"]), "config-consistent",
                      f"{n} latency samples but benchmark_config.num_runs is {runs}")
    warm, cfg_warm = _whole(_get(lat, "warmup_runs")), _whole(_get(config, "warmup_runs"))
    if warm is not None and cfg_warm is not None and warm != cfg_warm:
        yield Problem(json_path(base + ["latency", "warmup_runs"]), "config-consistent",
                      f"latency.warmup_runs is {warm} but benchmark_config.warmup_runs is {cfg_warm}")
    n_acc, n_data = n_scored, _whole(_get(config, "dataset", "n_samples"))
    if n_acc is not None and n_data is not None and n_acc != n_data:
        yield Problem(json_path(base + ["accuracy_ci", "n_samples"]), "config-consistent",
                      f"accuracy measured on {n_acc} samples but the dataset has {n_data}")
    yield from _timestamp_problems([name, "timestamp"], _get(report, "timestamp"))


def _percentile_methods(stated: Any) -> list[str]:
    """The numpy percentile method(s) a report's ``percentile_method`` names.

    Read from ``method='…'``, a bare numpy name, or "type N" (Hyndman & Fan). A method
    not named any of these ways could be any of the nine Hyndman-Fan types, so all nine
    are returned and a statistic must lie within what they give.
    """
    text = stated if isinstance(stated, str) else ""
    named = re.search(r"method\s*=\s*['\"]?(\w+)", text)
    if named and named.group(1) in _NUMPY_METHODS:
        return [named.group(1)]
    if text.strip() in _NUMPY_METHODS:
        return [text.strip()]
    hf_type = re.search(r"\btype\s*([1-9])\b", text, re.IGNORECASE)
    return [_HYNDMAN_FAN[int(hf_type.group(1)) - 1]] if hf_type else list(_HYNDMAN_FAN)


def _sample_problems(base: list, metrics: dict, samples: np.ndarray) -> Iterator[Problem]:
    """Every statistic the report derives from ``samples_ms`` must be what the samples give.

    Compared in units of the largest sample's power of two (an exact rescaling), so each
    tolerance's absolute floor is relative to the samples' own size and no sum near the top
    of the float range overflows. A statistic whose method the report names in words this
    checker cannot compute (a bootstrap interval, say) is left to the bracketing rules.
    """
    lat = metrics.get("latency")
    scale = _Scale(math.frexp(float(samples.max()))[1])
    unit = scale.units(samples)
    methods = _percentile_methods(_get(lat, "percentile_method"))
    how = f" (numpy method {methods[0]!r})" if len(methods) == 1 else " (by any Hyndman-Fan method)"
    # The names come from _NUMPY_METHODS; numpy's stubs want them as literals.
    by_method = np.array([np.percentile(unit, [50, 90, 99, 25, 75], method=cast(Any, m)) for m in methods])
    expected: list[tuple[list, tuple[float, ...], str]] = [
        (["latency", "min"], (unit.min(),), ""),
        (["latency", "max"], (unit.max(),), ""),
        (["latency_ms_mean"], (unit.mean(),), ""),
        *([(["latency_ms_std"], (unit.std(ddof=1),), " (sample std, ddof = 1)")] if unit.size > 1 else []),
        *((["latency", key], tuple(by_method[:, column]), how) for column, key in enumerate(("median", "p90", "p99"))),
    ]
    for path, allowed, note in expected:
        stated = _number(_get(metrics, *path))
        if stated is not None and not scale.within(stated, min(allowed), max(allowed)):
            yield Problem(json_path(base + path), "samples-consistent",
                          f"{path[-1]} is {stated:g} but the listed samples give {scale.span(allowed)}{note}")
    counts = []
    for q1, q3 in by_method[:, 3:]:
        fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        slack = 1e-9  # a sample on a fence may fall either side of it by rounding
        counts += [int(np.count_nonzero((unit < fence_lo - slack) | (unit > fence_hi + slack))),
                   int(np.count_nonzero((unit < fence_lo + slack) | (unit > fence_hi - slack)))]
    outliers = _whole(_get(lat, "outliers"))
    if outliers is not None and not min(counts) <= outliers <= max(counts):
        want = str(min(counts)) if min(counts) == max(counts) else f"{min(counts)} to {max(counts)}"
        yield Problem(json_path(base + ["latency", "outliers"]), "samples-consistent",
                      f"outliers is {outliers} but {want} of the listed samples lie outside the Tukey fences "
                      f"[Q1 - 1.5 IQR, Q3 + 1.5 IQR]{how}")
    yield from _sample_interval_problems(base + ["latency"], lat, unit, scale)


@dataclass(frozen=True)
class _Scale:
    """Milliseconds ↔ units of 2**exponent ms: exact both ways, so comparisons lose nothing."""

    exponent: int

    def units(self, samples: np.ndarray) -> np.ndarray:
        """The samples in units: at most 1, since the exponent is the largest sample's."""
        return np.ldexp(samples, -self.exponent)

    def ms(self, unit: float) -> float:
        """``unit`` in ms; beyond the float range (an interval end past the largest double) it is inf."""
        try:
            return math.ldexp(float(unit), self.exponent)
        except OverflowError:
            return math.inf

    def within(self, stated_ms: float, lo: float, hi: float) -> bool:
        """stated_ms lies in [lo, hi] units, up to rounding: relative 1e-6, or 1e-9 of the largest
        sample, or a few steps of the float grid in ms (where subnormal samples round coarsely)."""
        try:
            value = math.ldexp(stated_ms, -self.exponent)
        except OverflowError:   # so many times the largest sample that it is outside any such range
            return False
        return lo <= value <= hi or any(_close(value, end, abs_=1e-9) or abs(stated_ms - self.ms(end)) <= _GRID
                                        for end in (lo, hi))

    def span(self, allowed: tuple[float, ...]) -> str:
        low, high = self.ms(min(allowed)), self.ms(max(allowed))
        return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _sample_interval_problems(path: list, lat: Any, unit: np.ndarray, scale: _Scale) -> Iterator[Problem]:
    """The mean's and the median's intervals, recomputed where their method is one this checker knows:
    Student t for the mean, Binomial order statistics for the median, at the stated confidence level."""
    level, n = _number(_get(lat, "confidence_level")), unit.size
    if level is None or not 0 < level < 1:
        return
    wanted: list[tuple[str, tuple[float, float], str]] = []
    method = _get(lat, "mean_ci_method")
    if isinstance(method, str) and "student" in method.lower() and n > 1:
        half = student_t_ppf(0.5 + level / 2, n - 1) * unit.std(ddof=1) / math.sqrt(n)
        wanted.append(("mean_ci", (unit.mean() - half, unit.mean() + half), "Student t"))
    method = _get(lat, "median_ci_method")
    if isinstance(method, str) and "order statistic" in method.lower() and n >= 1 and 0.5**n <= (1 - level) / 2:
        lo, hi, _ = median_ci_ranks(n, level)
        ordered = np.sort(unit)
        wanted.append(("median_ci", (ordered[lo - 1], ordered[hi - 1]), f"order statistics {lo} and {hi} of {n}"))
    for key, (low, high), how in wanted:
        stated_low, stated_high = _number(_get(lat, key, 0)), _number(_get(lat, key, 1))
        if stated_low is None or stated_high is None:
            continue
        if not (scale.within(stated_low, low, low) and scale.within(stated_high, high, high)):
            yield Problem(json_path([*path, key]), "samples-consistent",
                          f"interval [{stated_low:g}, {stated_high:g}] but the listed samples give "
                          f"[{scale.ms(low):g}, {scale.ms(high):g}] ({how})")


def _interval_problems(path: list, interval: Any, stat: Optional[float], stat_name: str) -> Iterator[Problem]:
    lo, hi = _number(_get(interval, 0)), _number(_get(interval, 1))
    if lo is None or hi is None:
        return
    if not _at_most(lo, hi):
        yield Problem(json_path(path), "interval-order", f"interval [{lo:g}, {hi:g}] has low > high")
    elif stat is not None and not (_at_most(lo, stat) and _at_most(stat, hi)):
        yield Problem(json_path(path), "interval-brackets",
                      f"interval [{lo:g}, {hi:g}] does not contain its {stat_name} ({stat:g})")


#: How far a stated end of an interval may lie from where its method puts it (the notebook's own tolerance).
_END = 1e-6


def _changes_sign(equation: Any, end: float) -> bool:
    """Whether ``equation`` (0 at the true end) changes sign, or is 0, within _END of ``end``."""
    below, above = equation(max(0.0, end - _END)), equation(min(1.0, end + _END))
    return below == 0 or above == 0 or (below < 0) != (above < 0)


def _accuracy_interval_problems(path: list, aci: Any, acc: Optional[float]) -> Iterator[Problem]:
    """An accuracy interval whose method is Wilson's or Clopper and Pearson's must be that interval.

    Checked by the equation that defines each end, not by a formula for the ends: Wilson's
    ends are the proportions p where n (p̂ - p)² = z² p (1 - p); Clopper and Pearson's are
    where the binomial tail beyond the count is (1 - level) / 2. An interval checked only
    to bracket the accuracy could be [0, 1] and tie a whole class.
    """
    method, level, n = _get(aci, "method"), _number(_get(aci, "confidence_level")), _whole(_get(aci, "n_samples"))
    low, high = _number(_get(aci, "low")), _number(_get(aci, "high"))
    if not isinstance(method, str) or level is None or n is None or low is None or high is None or acc is None:
        return
    if not 0 < level < 1 or n < 1 or not 0 <= low <= acc <= high <= 1:   # the schema and the bracketing rule's
        return
    k = round(acc * n)
    name = method.lower()
    if "wilson" in name:
        z = statistics.NormalDist().inv_cdf((1 + level) / 2)
        def equation(p: float) -> float:
            return n * (k / n - p) ** 2 - z * z * p * (1 - p)
        ends = ((low, equation, k == 0, 0.0), (high, equation, k == n, 1.0))
        how = f"Wilson's score interval of {k}/{n} at {level:g}"
    elif "clopper" in name:
        tail = (1 - level) / 2
        def lower(p: float) -> float:    # P(X >= k | p) - tail
            return regularized_beta(float(k), n - k + 1.0, p) - tail
        def upper(p: float) -> float:    # P(X <= k | p) - tail
            return 1 - regularized_beta(k + 1.0, float(n - k), p) - tail
        ends = ((low, lower, k == 0, 0.0), (high, upper, k == n, 1.0))
        how = f"Clopper and Pearson's exact interval of {k}/{n} at {level:g}"
    else:
        return
    for stated, equation_of_end, at_edge, edge in ends:
        try:
            right = abs(stated - edge) <= _END if at_edge else _changes_sign(equation_of_end, stated)
        except (ArithmeticError, ValueError):   # counts beyond the series' reach: left to the bracketing rules
            continue
        if not right:
            yield Problem(json_path(path), "interval-method",
                          f"[{low:g}, {high:g}] is not {how} (method {printable(method)[:60]!r}): "
                          "recompute it, or name the method that gives it")
            return


def _stated_interval_problems(base: list, m: Any) -> Iterator[Problem]:
    """Without samples, what the stated statistics allow: a Student t interval of the mean is its mean ±
    t·std/√n, and an order-statistic interval of the median lies within [min, max] (its ends are samples)."""
    lat = _get(m, "latency")
    n, level = _whole(_get(lat, "n")), _number(_get(lat, "confidence_level"))
    mean, std = _number(_get(m, "latency_ms_mean")), _number(_get(m, "latency_ms_std"))
    method = _get(lat, "mean_ci_method")
    ends = [_number(_get(lat, "mean_ci", i)) for i in (0, 1)]
    low, high = ends
    if (isinstance(method, str) and "student" in method.lower() and n is not None and n > 1 and level is not None
            and 0 < level < 1 and mean is not None and std is not None and low is not None and high is not None):
        half = student_t_ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n)
        if not (_close(low, mean - half, abs_=1e-9 * max(1.0, abs(mean)))
                and _close(high, mean + half, abs_=1e-9 * max(1.0, abs(mean)))):
            yield Problem(json_path(base + ["latency", "mean_ci"]), "interval-method",
                          f"interval {ends} is not the Student t interval mean ± t·std/√n = "
                          f"[{mean - half:g}, {mean + half:g}] of its mean, std and n")
    method = _get(lat, "median_ci_method")
    lo_, hi_ = _number(_get(lat, "min")), _number(_get(lat, "max"))
    ends = [_number(_get(lat, "median_ci", i)) for i in (0, 1)]
    if isinstance(method, str) and "order statistic" in method.lower() and None not in (lo_, hi_, *ends):
        assert lo_ is not None and hi_ is not None and ends[0] is not None and ends[1] is not None
        if not (_at_most(lo_, ends[0]) and _at_most(ends[1], hi_)):
            yield Problem(json_path(base + ["latency", "median_ci"]), "interval-method",
                          f"an interval of order statistics is made of samples, but [{ends[0]:g}, {ends[1]:g}] "
                          f"reaches outside [min, max] = [{lo_:g}, {hi_:g}]")


def _timestamp_problems(path: list, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        return
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        yield Problem(json_path(path), "timestamp", f"{value!r} is not a real ISO-8601 date and time")
        return
    offset = parsed.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        yield Problem(json_path(path), "timestamp", f"{value!r} is not in UTC (end it with Z or +00:00)")


def _median_speedup_problems(submission: Any, entry: Any) -> list[Problem]:
    """``improvements.median_speedup`` must belong to schema 1.1.0 and be what its own samples give."""
    if not isinstance(entry, dict):
        return []
    path = ["improvements", "median_speedup"]
    if submission.get("schema_version") == "1.0.0":
        return [Problem(json_path(path), "version", "median_speedup is a field of schema 1.1.0; "
                                                    "this file says schema_version 1.0.0")]
    problems: list[Problem] = []
    rounds, per_round = _whole(entry.get("rounds")), _whole(entry.get("runs_per_round"))
    samples: dict[str, list[float]] = {}
    for side in ("baseline_samples_ms", "optimized_samples_ms"):
        values = entry.get(side)
        numbers = [_number(v) for v in values] if isinstance(values, list) else [None]
        if not all(v is not None and v > 0 for v in numbers):
            return problems   # the schema reports what is wrong with them
        samples[side] = [float(v) for v in numbers if v is not None]
        if rounds is not None and per_round is not None and len(numbers) != rounds * per_round:
            problems.append(Problem(json_path([*path, side]), "samples-consistent",
                                    f"{len(numbers)} samples, but {rounds} rounds of {per_round} give "
                                    f"{rounds * per_round}"))
    confidence = _number(entry.get("confidence_level"))
    if confidence is None or not 0 < confidence < 1 or min(map(len, samples.values())) < 2:
        return problems
    try:
        want = median_ratio(samples["baseline_samples_ms"], samples["optimized_samples_ms"], confidence)
    except ValueError as exc:
        return [*problems, Problem(json_path([*path, "ratio"]), "range", str(exc))]
    ci = entry.get("ci")
    low, high = ci if isinstance(ci, list) and len(ci) == 2 else (None, None)
    for key, claimed, value in (("ratio", entry.get("ratio"), want.ratio), ("ci", low, want.low),
                                ("ci", high, want.high)):
        number = _number(claimed)
        if number is not None and not _close(number, value):
            problems.append(Problem(json_path([*path, key]), "samples-consistent",
                                    f"{key} holds {number:g}, but the listed samples give {value:g}"))
    if entry.get("verdict") in ("faster", "slower", "no significant difference") and entry["verdict"] != want.verdict:
        problems.append(Problem(json_path([*path, "verdict"]), "samples-consistent",
                                f"verdict is {entry['verdict']!r}, but the interval [{want.low:g}, {want.high:g}] "
                                f"makes it {want.verdict!r}"))
    return problems


def semantic_problems(submission: Any) -> list[Problem]:
    """Cross-field invariants of a submission (structure is the schema's job).

    Robust to malformed input: a check whose fields are missing or not numbers is
    skipped, since the schema already reports those.
    """
    problems: list[Problem] = []
    problems += _timestamp_problems(["timestamp"], _get(submission, "timestamp"))
    for name in ("baseline", "optimized"):
        if isinstance(_get(submission, name), dict):
            problems += _report_problems(name, submission[name])
    b, o = _get(submission, "baseline", "metrics"), _get(submission, "optimized", "metrics")
    imp = _get(submission, "improvements")
    if isinstance(b, dict) and isinstance(o, dict) and isinstance(imp, dict):
        expected = {
            "speedup": (_number(b.get("latency_ms_mean")), _number(o.get("latency_ms_mean")),
                        lambda x, y: x / y, "baseline latency_ms_mean / optimized latency_ms_mean"),
            "compression_ratio": (_number(b.get("model_size_mb")), _number(o.get("model_size_mb")),
                                  lambda x, y: x / y, "baseline model_size_mb / optimized model_size_mb"),
            "accuracy_delta": (_number(o.get("accuracy")), _number(b.get("accuracy")),
                               lambda x, y: x - y, "optimized accuracy - baseline accuracy"),
        }
        for key, (x, y, combine, formula) in expected.items():
            claimed = _number(imp.get(key))
            if x is None or y is None or claimed is None or (key != "accuracy_delta" and y == 0):
                continue
            want = combine(x, y)
            if not math.isfinite(want):
                problems.append(Problem(json_path(["improvements", key]), "improvements-agree",
                                        f"{key} cannot be checked: {formula} overflows ({x:g} and {y:g})"))
                continue
            if not _close(claimed, want, abs_=1e-9):
                hint = " (inverted?)" if key != "accuracy_delta" and _close(claimed * want, 1.0, rel=1e-3) else ""
                problems.append(Problem(json_path(["improvements", key]), "improvements-agree",
                                        f"{key} is {claimed:g} but {formula} = {want:g}{hint}"))
        problems += _median_speedup_problems(submission, _get(imp, "median_speedup"))
        datasets = [_get(submission, name, "benchmark_config", "dataset") for name in ("baseline", "optimized")]
        identities = [(d.get("name"), d.get("sha256"), _whole(d.get("n_samples")))
                      for d in datasets if isinstance(d, dict)]
        if len(identities) == 2 and identities[0] != identities[1]:
            problems.append(Problem(json_path(["optimized", "benchmark_config", "dataset"]), "same-dataset",
                                    "baseline and optimized were measured on different data; "
                                    "a comparison needs the same dataset (name, size and sha256)"))
    return problems


def _whole_string_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """JSON Schema's ``pattern`` with ECMA-262's ``$``: the end of the string, not before a final newline
    (where Python's ``$`` also matches, so ``"<64 hex digits>\\n"`` would pass ``^[0-9a-f]{64}$``)."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    strict = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if not re.search(strict, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.lru_cache(maxsize=1)
def _structure_validator() -> Any:
    import jsonschema  # loaded on first validation: importing it costs more than the rest of this module

    strict = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _whole_string_pattern})
    return strict(load_schema())


def _known_keys(schema: dict[str, Any]) -> set[str]:
    """The keys an object schema defines, through its ``$ref`` and ``allOf`` parts."""
    keys = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        keys |= _known_keys(_structure_validator().schema["$defs"][ref.removeprefix("#/$defs/")])
    for part in schema.get("allOf", []):
        keys |= _known_keys(part)
    return keys


def _unknown_keys(path: list, instance: dict[str, Any], known: set[str]) -> Iterator[Problem]:
    """One problem per key the schema does not define, with the field it most likely meant.

    Refused rather than ignored because a misspelt key (``samples_MS``) would otherwise
    pass as an extra and silently switch off every check of the field it meant.
    """
    by_lower = {key.lower(): key for key in known}
    for key in instance:
        if key in known:
            continue
        guess = difflib.get_close_matches(key.lower(), by_lower, n=1, cutoff=0.7)
        hint = f"did you mean {by_lower[guess[0]]!r}?" if guess else f"the fields here are {', '.join(sorted(known))}"
        yield Problem(json_path([*path, key]), "unknown-key", f"no such field in schema {SCHEMA_VERSION}; {hint}")


def _unrepresentable_scalar(where: tuple[Any, list]) -> Iterator[Problem]:
    value, path = where
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        yield Problem(json_path(path), "finite", f"{value} is not allowed: JSON has no NaN or Infinity")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        yield Problem(json_path(path), "range", f"an integer of {len(str(abs(value)))} digits is beyond the "
                      "range of a double (about 1.8e308); no measurement is that large")


def _unrepresentable(document: Any) -> Iterator[Problem]:
    """Every NaN, infinity or integer too large for a float in ``document``, in document order.

    Walked with an explicit stack, so that a deeply nested document cannot exhaust
    Python's recursion limit.
    """
    pending: list[tuple[Any, list]] = [(document, [])]
    while pending:
        value, path = pending.pop()
        yield from _unrepresentable_scalar((value, path))
        kinds = set(map(type, value)) if isinstance(value, list) else set()
        if kinds and not any(issubclass(kind, (dict, list)) for kind in kinds):
            # A flat list (of samples, say): its numbers are looked at together, not pushed one by one.
            if kinds == {float}:
                suspects = np.flatnonzero(~np.isfinite(np.asarray(value, dtype=np.float64))).tolist()
            else:
                suspects = [i for i, member in enumerate(value) if isinstance(member, (int, float))]
            for index in suspects:
                yield from _unrepresentable_scalar((value[index], [*path, index]))
            continue
        members = list(value.items()) if isinstance(value, dict) else \
            list(enumerate(value)) if isinstance(value, list) else []
        pending.extend((member, [*path, key]) for key, member in reversed(members))


#: Arrays of samples, by where they are: checked with numpy, not number by number by jsonschema.
_SAMPLE_ARRAYS = ((("baseline", "metrics", "latency", "samples_ms"), ("$defs", "metrics", "properties", "latency",
                                                                      "properties", "samples_ms")),
                  (("optimized", "metrics", "latency", "samples_ms"), ("$defs", "metrics", "properties", "latency",
                                                                       "properties", "samples_ms")),
                  *((("improvements", "median_speedup", side), ("properties", "improvements", "properties",
                                                                "median_speedup", "properties", side))
                    for side in ("baseline_samples_ms", "optimized_samples_ms")))
#: At most this many problems are listed for the items of one array; the rest are counted.
_ITEM_PROBLEMS = 20


def _long_arrays_apart(document: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """``document`` with each array of samples that holds only numbers cut to its first two, and the problems
    of those arrays (their length, and each number outside the items' range), found with numpy.

    jsonschema walks a number at a time, several times over (``unevaluatedProperties``
    evaluates again), so that 200,000 samples took seconds. The numbers are the same and so
    are the messages: an item outside its range is described by the item schema itself.
    """
    problems: list[Problem] = []
    view = document
    schema = _structure_validator().schema
    for path, where in _SAMPLE_ARRAYS:
        values = _get(document, *path)
        if not isinstance(values, list) or len(values) <= 2 or not set(map(type, values)) <= {int, float}:
            continue
        rule = schema
        for key in where:
            rule = rule[key]
        if "maxItems" in rule and len(values) > rule["maxItems"]:
            problems.append(Problem(json_path(list(path)), "maxItems",
                                    f"{len(values):,} items, more than the {rule['maxItems']:,} allowed"))
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except OverflowError:   # an integer beyond the float range: reported as such by the finiteness walk
            numbers = np.asarray([float(v) if abs(v) <= sys.float_info.max else math.inf for v in values])
        item = rule.get("items", {})
        with np.errstate(invalid="ignore"):
            masks = {key: (numbers < item[key] if key == "minimum" else numbers <= item[key] if
                           key == "exclusiveMinimum" else numbers > item[key])
                     for key in ("minimum", "exclusiveMinimum", "maximum") if key in item}
        # The first two items stay in the view, where jsonschema reports them: the rest are listed here.
        indices = np.flatnonzero(np.logical_or.reduce(list(masks.values()))) if masks else np.zeros(0, dtype=int)
        indices = indices[indices >= 2]
        item_validator = type(_structure_validator())(item)
        for index in indices[:_ITEM_PROBLEMS - 2]:
            problems += [Problem(json_path([*path, int(index)]), error.validator, error.message)
                         for error in item_validator.iter_errors(values[index])]
        rest = np.zeros(numbers.shape, dtype=bool)
        rest[indices[_ITEM_PROBLEMS - 2:]] = True
        for key, mask in masks.items():
            more = int(np.count_nonzero(mask & rest))
            if more:
                problems.append(Problem(json_path(list(path)), key, f"and {more:,} more items beyond the {key} "
                                                                     f"of {item[key]:g}"))
        view = _replaced(view, path, values[:2])
    return view, problems


def _replaced(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``document`` with ``value`` at ``path``, sharing everything not on the way to it."""
    top = dict(document)
    here = top
    for key in path[:-1]:
        here[key] = dict(here[key])
        here = here[key]
    here[path[-1]] = value
    return top


def submission_problems(document: Any) -> list[Problem]:
    """Every rule ``document`` breaks as a submission: structure, finiteness, cross-field; [] when valid.

    This is the checker behind ``tinytorch-olympics validate`` and ``plot``, in both
    editions. (The notebook's ``validate_submission_schema`` is the student's own
    assembly of the same three layers, graded on its behaviour.) A document of an
    unknown ``schema_version`` gets that one problem only: the other rules are the
    rules of a version this checker does not know.
    """
    if not isinstance(document, dict):
        return [Problem("$", "type", f"a submission is a JSON object, not {type(document).__name__}")]
    if document.get("schema_version") not in KNOWN_VERSIONS:
        return [Problem("$.schema_version", "version", f"unknown schema_version {document.get('schema_version')!r}; "
                        f"this validator knows {', '.join(KNOWN_VERSIONS)}")]
    found: list[Problem] = []
    document_checked, found = _long_arrays_apart(document)
    # An array the schema refuses as too long is not recomputed from: its length is the problem.
    semantic_view = document
    for path, _ in _SAMPLE_ARRAYS:
        if any(p.rule == "maxItems" and p.path == json_path(list(path)) for p in found):
            semantic_view = _replaced(semantic_view, path, None)
    for error in _structure_validator().iter_errors(document_checked):
        if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
            found += _unknown_keys(list(error.absolute_path), error.instance, _known_keys(error.schema))
        else:
            found.append(Problem(json_path(error.absolute_path), error.validator, error.message))
    return found + list(_unrepresentable(document)) + semantic_problems(semantic_view)
