"""The submission format: the JSON Schema file and the invariants a schema cannot express.

A JSON Schema checks each field on its own: types, required keys, ranges. It cannot
say that p90 ≤ p99, that a confidence interval contains its own statistic, or that a
claimed speedup is what the two reports imply. ``semantic_problems`` checks those
cross-field rules. Both report :class:`Problem` values naming the JSON path and the
rule broken, so one run lists everything wrong with a submission, not just the first.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Iterator, Optional

__all__ = ["SCHEMA_FILE", "SCHEMA_VERSION", "KNOWN_VERSIONS", "Problem", "SubmissionError",
           "load_schema", "json_path", "printable", "semantic_problems", "submission_problems"]

SCHEMA_FILE = "submission.schema.json"
SCHEMA_VERSION = "1.0.0"
KNOWN_VERSIONS = (SCHEMA_VERSION,)
_REL = 1e-6   # relative tolerance for values derived from other values (JSON round trip safe)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    for (k1, v1), (k2, v2) in zip(known, known[1:]):
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
    if isinstance(samples, list) and samples and all(_number(v) is not None for v in samples):
        for key, value in (("min", min(samples)), ("max", max(samples))):
            stated = _number(_get(lat, key))
            if stated is not None and not _close(stated, value):
                yield Problem(json_path(base + ["latency", key]), "samples-consistent",
                              f"latency.{key} is {stated:g} but the listed samples give {value:g}")
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
    if acc is not None and n_scored and abs(round(acc * n_scored) / n_scored - acc) > 1e-9:
        nearest = round(acc * n_scored)
        yield Problem(json_path(base + ["accuracy"]), "accuracy-count",
                      f"accuracy {acc:g} is no whole number of correct answers out of {n_scored} "
                      f"(the nearest is {nearest}/{n_scored} = {nearest / n_scored:g})")
    yield from _interval_problems(base + ["accuracy_ci"], [_get(aci, "low"), _get(aci, "high")], acc, "accuracy")
    size_mb, size_b = _number(_get(m, "model_size_mb")), _number(_get(m, "model_size_bytes"))
    if size_mb is not None and size_b is not None and not _close(size_mb, size_b / 1e6):
        yield Problem(json_path(base + ["model_size_mb"]), "size-units",
                      f"model_size_mb is {size_mb:g} but model_size_bytes / 1,000,000 is {size_b / 1e6:g} "
                      "(MB here means 10^6 bytes, not MiB)")
    tput, tput_detail = _number(_get(m, "throughput_samples_per_sec")), _number(_get(m, "throughput", "samples_per_sec"))
    if tput is not None and tput_detail is not None and not _close(tput, tput_detail):
        yield Problem(json_path(base + ["throughput_samples_per_sec"]), "throughput-consistent",
                      f"throughput_samples_per_sec ({tput:g}) differs from throughput.samples_per_sec ({tput_detail:g})")
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


def _interval_problems(path: list, interval: Any, stat: Optional[float], stat_name: str) -> Iterator[Problem]:
    lo, hi = _number(_get(interval, 0)), _number(_get(interval, 1))
    if lo is None or hi is None:
        return
    if not _at_most(lo, hi):
        yield Problem(json_path(path), "interval-order", f"interval [{lo:g}, {hi:g}] has low > high")
    elif stat is not None and not (_at_most(lo, stat) and _at_most(stat, hi)):
        yield Problem(json_path(path), "interval-brackets",
                      f"interval [{lo:g}, {hi:g}] does not contain its {stat_name} ({stat:g})")


def _timestamp_problems(path: list, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        return
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        yield Problem(json_path(path), "timestamp", f"{value!r} is not a real ISO-8601 date and time")
        return
    if parsed.utcoffset() is None or parsed.utcoffset().total_seconds() != 0:
        yield Problem(json_path(path), "timestamp", f"{value!r} is not in UTC (end it with Z or +00:00)")


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
        bd, od = _get(submission, "baseline", "benchmark_config", "dataset"), \
            _get(submission, "optimized", "benchmark_config", "dataset")
        if isinstance(bd, dict) and isinstance(od, dict) and (bd.get("name"), bd.get("sha256"), _whole(bd.get("n_samples"))) != (
                od.get("name"), od.get("sha256"), _whole(od.get("n_samples"))):
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


def _unrepresentable(document: Any) -> Iterator[Problem]:
    """Every NaN, infinity or integer too large for a float in ``document``, in document order.

    Walked with an explicit stack, so that a deeply nested document cannot exhaust
    Python's recursion limit.
    """
    pending: list[tuple[Any, list]] = [(document, [])]
    while pending:
        value, path = pending.pop()
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            yield Problem(json_path(path), "finite", f"{value} is not allowed: JSON has no NaN or Infinity")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
            yield Problem(json_path(path), "range", f"an integer of {len(str(abs(value)))} digits is beyond the "
                          "range of a double (about 1.8e308); no measurement is that large")
        members = list(value.items()) if isinstance(value, dict) else \
            list(enumerate(value)) if isinstance(value, list) else []
        pending.extend((member, [*path, key]) for key, member in reversed(members))


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
    found = [Problem(json_path(error.absolute_path), error.validator, error.message)
             for error in _structure_validator().iter_errors(document)]
    return found + list(_unrepresentable(document)) + semantic_problems(document)
