"""The class's Olympics: every valid submission ranked in each event, with ties where the noise says so.

Each submission enters its optimized model (its baseline if it has none). The events:

* **Latency Sprint**: lowest median latency at batch 1, among models at least
  ``min_accuracy`` accurate, with a median above 0. Two latencies that each lie within the
  other's 95 % interval of the median are not told apart.
* **Memory Challenge**: fewest stored bytes, among models at least ``min_accuracy``
  accurate. Bytes are exact: only equal sizes tie.
* **Accuracy Contest**: highest test accuracy; two that each lie within the other's Clopper-Pearson
  interval tie.
* **All-Around**: lowest sum of the three ranks above, among models eligible for all three.
* **Extreme Push**: highest compression ratio against the submission's own baseline, among
  models at least ``min_accuracy_extreme`` accurate (a lower bar: how far can you push?).

The intervals are the leaderboard's own, recomputed from each file (its samples, its accuracy
and test-set size), never the file's. A tie group is formed in order of the figure: a
submission joins the group of the one ranked just before it when its figure lies within the
interval of that group's first member and that member's within its own. All
members of a group share the group's rank (1, 1, 3, ...), so the table never claims an
order that the measurements cannot support. Rules and thresholds are written into every
output.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, cast

from tinytorch.olympics.files import Found, results_in
from tinytorch.olympics.schema import Problem, printable
from tinytorch.perf.distributions import clopper_pearson, median_ci_ranks

__all__ = ["Entry", "Rules", "Standing", "Event", "collect", "rank", "EVENTS", "standings_csv", "csv_cell"]


@dataclass(frozen=True)
class Rules:
    """Eligibility thresholds; every output states them."""

    min_accuracy: float = 0.90
    min_accuracy_extreme: float = 0.80

    def describe(self) -> list[str]:
        return [f"Latency Sprint, Memory Challenge, All-Around: accuracy at least {self.min_accuracy:.2f}",
                f"Extreme Push: accuracy at least {self.min_accuracy_extreme:.2f}",
                "Accuracy Contest: every valid submission",
                "ties: each figure lies within the other's 95% interval, recomputed here (latency: the median's, "
                "from the file's samples; accuracy: Clopper-Pearson, from the accuracy and the test set's size); "
                "bytes tie only when equal",
                "Latency Sprint: a median above 0 ms (0 is below the timer's resolution)",
                "every entry measured on the test set and baseline most of the class used"]


@dataclass(frozen=True)
class Entry:
    """One student's submission: the model it enters and the figures the events read."""

    student: str
    path: str
    model: str                        # "optimized" or "baseline"
    latency_ms: float                 # median, batch 1
    latency_ci: tuple[float, float]
    size_bytes: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    compression: float

    def point(self) -> dict[str, Any]:
        """This entry as a point of the trade-off plots (:mod:`tinytorch.olympics.plots`)."""
        return {"name": self.student, "latency_ms_median": self.latency_ms, "size_bytes": self.size_bytes,
                "accuracy": self.accuracy}


@dataclass(frozen=True)
class Standing:
    rank: int
    tied: bool
    entry: Entry
    score: float


@dataclass
class Event:
    """One event: what it ranks, which way is better, who may enter, and (after :func:`rank`) the standings."""

    name: str
    figure: str                                   # what is ranked, with its unit
    better: str                                   # "lower" or "higher"
    value: Callable[[Entry], float]
    interval: Callable[[Entry], tuple[float, float]]
    eligible: Callable[[Entry, Rules], bool]
    standings: list[Standing] = field(default_factory=list)


def _tree_id(found: Found) -> str:
    """The first folder below the folder given (an nbgrader ``autograded/<student>/<assignment>/results.json``
    tree), else the file's own name (its folder's, for a ``results.json``)."""
    if len(found.parts) > 1:
        return found.parts[0]
    path = Path(found.path)
    return path.parent.name if path.stem == "results" and path.parent.name else path.stem


def _student_ids(found: Sequence[Found]) -> list[str]:
    """The student each results file belongs to.

    By the tree's first folder (:func:`_tree_id`), unless that names every file alike, as it
    does for ``autograded/*/capstone/results.json`` given file by file, or ``autograded/*``
    given folder by folder (each is "capstone"): then by the nearest folder above the files in
    which their paths differ.
    """
    ids = [_tree_id(f) for f in found]
    if len(found) < 2 or len(set(ids)) > 1:
        return ids
    upward = [Path(os.path.abspath(f.path)).parent.parts[::-1] for f in found]
    common = 0
    while all(len(u) > common for u in upward) and len({u[common] for u in upward}) == 1:
        common += 1
    return [u[common] if len(u) > common else i for u, i in zip(upward, ids, strict=True)]


def _copy_key(document: Any) -> str:
    return json.dumps(document, sort_keys=True)


def collect(paths: Sequence[str]) -> tuple[list[Entry], list[tuple[str, str, list[Problem]]]]:
    """Every results file under ``paths`` (files or folders): the valid ones as entries, the rest as
    ``(student, path, problems)``.

    A student enters once, with a file of their own, measured as the class measured:

    * one file reached twice by the same path (given twice, or as a file and inside a folder)
      counts once; one file under two paths (a hard link) or one content in two files (a copy)
      is nobody's own: each is listed and none enters;
    * a student with several valid files enters with the one named ``results.json`` if
      exactly one is, and otherwise with none of them;
    * where most entries share a test set (name, sha256, size) and a baseline (its parameter
      count and stored bytes), an entry measured on another is listed, not ranked: figures on
      another test set, or a compression against another baseline, compare with nothing.
      Without a majority the test set is the capstone's own (the bundled digits' test images);
    * links below a folder are refused (:func:`tinytorch.olympics.files.results_in`).
    """
    found = [f for given in paths for f in results_in(given)]
    ids = _student_ids(found)
    invalid: list[tuple[str, str, list[Problem]]] = []
    # One file met again by the same path (given twice, or as a file and inside a folder) counts once.
    first: dict[Any, Found] = {}
    kept: list[tuple[str, Found]] = []
    for f, student in zip(found, ids, strict=True):
        again = (f.identity, os.path.realpath(f.path)) if f.identity is not None else None
        if again is not None and again in first:
            invalid.append((student, f.path, [Problem("$", "same-file", "the same file as "
                                                      f"{printable(first[again].path)}: counted once")]))
        elif f.document is None or f.problems:
            invalid.append((student, f.path, f.problems))
        else:
            if again is not None:
                first[again] = f
            kept.append((student, f))
    # One file under two paths (a hard link) or one content in two files (a copy) is nobody's own.
    paths_of: dict[Any, set[str]] = {}
    for _, f in kept:
        for key in (_copy_key(f.document), f.identity):
            if key is not None:
                paths_of.setdefault(key, set()).add(f.path)
    candidates: dict[str, list[Found]] = {}
    for student, f in kept:
        shared = paths_of[_copy_key(f.document)] | (paths_of[f.identity] if f.identity is not None else set())
        if len(shared) > 1:
            others = ", ".join(printable(o) for o in sorted(shared - {f.path}))
            invalid.append((student, f.path, [Problem("$", "copy", f"the same file or content as {others}: "
                                                                    "a copy enters for nobody")]))
        else:
            candidates.setdefault(student, []).append(f)
    chosen: list[tuple[str, Found]] = []
    for student, files in candidates.items():
        named = [f for f in files if Path(f.path).name == "results.json"]
        pick = files[0] if len(files) == 1 else named[0] if len(named) == 1 else None
        for f in files:
            if f is pick:
                chosen.append((student, f))
            else:
                why = (f"{printable(student)} enters with {printable(pick.path)}" if pick is not None else
                       f"{printable(student)} has {len(files)} valid results files and none or several is named "
                       "results.json: a student enters once, so keep one")
                invalid.append((student, f.path, [Problem("$", "one-entry", why)]))
    entries = []
    references = {what: _majority([key(f.document) for _, f in chosen], _DEFAULTS.get(what, lambda: None)())
                  for what, key in _REFERENCES.items()}
    for student, f in chosen:
        differs = [what for what, key in _REFERENCES.items()
                   if references[what] is not None and key(f.document) != references[what]]
        if differs:
            invalid.append((student, f.path, [Problem("$", "not-the-class", f"measured on another {what} than "
                                                                           "the class's") for what in differs]))
        else:
            entries.append(_entry(student, f.path, cast(dict, f.document)))
    return entries, invalid


#: What every entry must share with most of the class, and how to read it from a document.
_REFERENCES: dict[str, Callable[[Any], Any]] = {
    "test set (name, sha256, size)": lambda d: tuple((d["baseline"]["benchmark_config"].get("dataset") or {}).get(k)
                                                     for k in ("name", "sha256", "n_samples")),
    "baseline (parameter count, stored bytes)": lambda d: (d["baseline"]["metrics"]["parameter_count"],
                                                          d["baseline"]["metrics"]["model_size_bytes"]),
}


def _bundled_test_set() -> tuple[str, str, int]:
    """The capstone's own test set, as a report records it: the bundled digits' 359 test images."""
    from tinytorch.datasets.digits import digits_sha256, load_digits

    return "digits", digits_sha256(), len(load_digits().y_test)


#: Without a majority (a class of two that disagree), the test set is the capstone's own.
_DEFAULTS: dict[str, Callable[[], Any]] = {"test set (name, sha256, size)": _bundled_test_set}


def _majority(keys: Sequence[Any], default: Any = None) -> Any:
    """The key more than half of ``keys`` hold, else ``default`` (None: no class to compare with)."""
    counted = Counter(keys).most_common(1)
    return counted[0][0] if counted and 2 * counted[0][1] > len(keys) else default


def _median_interval(latency: dict[str, Any]) -> tuple[float, float]:
    """The 95 % interval of the median latency from the file's samples (order statistics), recomputed here;
    without samples, the median alone: an interval the leaderboard cannot recompute ties nobody."""
    samples = latency.get("samples_ms")
    if samples and len(samples) >= 6:
        ordered = sorted(samples)
        lo, hi, _ = median_ci_ranks(len(ordered), 0.95)
        return ordered[lo - 1], ordered[hi - 1]
    return latency["median"], latency["median"]


def _entry(student: str, path: str, doc: dict[str, Any]) -> Entry:
    model = "optimized" if "optimized" in doc else "baseline"
    m = doc[model]["metrics"]
    n = m["accuracy_ci"]["n_samples"]
    base_size = doc["baseline"]["metrics"]["model_size_bytes"]
    return Entry(student, path, model, m["latency"]["median"], _median_interval(m["latency"]), m["model_size_bytes"],
                 m["accuracy"], clopper_pearson(round(m["accuracy"] * n), n, 0.95), base_size / m["model_size_bytes"])


def _events() -> list[Event]:
    return [
        Event("Latency Sprint", "median latency (µs)", "lower", lambda e: e.latency_ms * 1e3,
              lambda e: (e.latency_ci[0] * 1e3, e.latency_ci[1] * 1e3),
              lambda e, r: e.accuracy >= r.min_accuracy and e.latency_ms > 0),
        Event("Memory Challenge", "stored bytes", "lower", lambda e: e.size_bytes,
              lambda e: (e.size_bytes, e.size_bytes), lambda e, r: e.accuracy >= r.min_accuracy),
        Event("Accuracy Contest", "test accuracy", "higher", lambda e: e.accuracy, lambda e: e.accuracy_ci,
              lambda e, r: True),
        Event("Extreme Push", "compression ratio (x)", "higher", lambda e: e.compression,
              lambda e: (e.compression, e.compression), lambda e, r: e.accuracy >= r.min_accuracy_extreme),
    ]


EVENTS = ("Latency Sprint", "Memory Challenge", "Accuracy Contest", "All-Around", "Extreme Push")


def _tie_groups(standings: list[tuple[Entry, float, tuple[float, float]]]) -> list[Standing]:
    """Rank ``(entry, figure, interval)`` in order; an entry joins the group of the one before it when its
    figure lies within the interval of the group's first member and that member's within its own.

    Both ways, not a mere overlap: a file whose interval spans everything (six samples, half
    of them an hour long) would otherwise tie the fastest of the class and share its rank.
    """
    ranked: list[Standing] = []
    leader: Optional[tuple[float, float, float]] = None
    group_rank = 0
    for position, (entry, score, (low, high)) in enumerate(standings, start=1):
        if leader is not None and low <= leader[0] <= high and leader[1] <= score <= leader[2]:
            ranked.append(Standing(group_rank, True, entry, score))
            continue
        leader, group_rank = (score, low, high), position
        ranked.append(Standing(group_rank, False, entry, score))
    # A group's first member is tied too when anyone joined it.
    joined = {s.rank for s in ranked if s.tied}
    return [Standing(s.rank, s.tied or s.rank in joined, s.entry, s.score) for s in ranked]


def rank(entries: Sequence[Entry], rules: Rules = Rules()) -> list[Event]:
    """The five events, each with its standings (best first)."""
    events = _events()
    for event in events:
        eligible = [e for e in entries if event.eligible(e, rules)]
        ordered = sorted(eligible, key=lambda e: (-event.value(e) if event.better == "higher" else event.value(e),
                                                  e.student))
        event.standings = _tie_groups([(e, event.value(e), event.interval(e)) for e in ordered])
    # Keyed by the entry itself (its path is unique), never by a name two entries could share.
    by_event = {event.name: {id(s.entry): s.rank for s in event.standings} for event in events}
    three = ("Latency Sprint", "Memory Challenge", "Accuracy Contest")
    totals = [(e, float(sum(by_event[name][id(e)] for name in three)))
              for e in entries if all(id(e) in by_event[name] for name in three)]
    totals.sort(key=lambda pair: (pair[1], pair[0].student))
    all_around = Event("All-Around", "sum of the three ranks", "lower", lambda e: 0.0, lambda e: (0.0, 0.0),
                       lambda e, r: e.accuracy >= r.min_accuracy)
    all_around.standings = _tie_groups([(e, total, (total, total)) for e, total in totals])
    return [*events[:3], all_around, events[3]]


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """Text from a file as a CSV cell no spreadsheet runs: control characters made visible, and a cell
    that a spreadsheet would read as a formula (it starts with = + - @, a tab or a carriage return)
    quoted with a leading apostrophe, as OWASP advises against CSV injection (CWE-1236)."""
    shown = printable(text)
    return "'" + shown if shown.startswith(_FORMULA) else shown


def standings_csv(events: Sequence[Event]) -> str:
    """One row per event and student: event, rank, tied, student, figure, value, path."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["event", "rank", "tied", "student", "figure", "value", "path"])
    for event in events:
        for s in event.standings:
            writer.writerow([event.name, s.rank, "yes" if s.tied else "no", csv_cell(s.entry.student), event.figure,
                             f"{s.score:.6g}", csv_cell(s.entry.path)])
    return out.getvalue()
