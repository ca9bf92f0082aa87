"""The class's Olympics: every valid submission ranked in each event, with ties where the noise says so.

Each submission enters its optimized model (its baseline if it has none). The events:

* **Latency Sprint**: lowest median latency at batch 1, among models at least
  ``min_accuracy`` accurate. Two latencies whose 95 % intervals of the median overlap are
  not told apart.
* **Memory Challenge**: fewest stored bytes, among models at least ``min_accuracy``
  accurate. Bytes are exact: only equal sizes tie.
* **Accuracy Contest**: highest test accuracy; overlapping Wilson intervals tie.
* **All-Around**: lowest sum of the three ranks above, among models eligible for all three.
* **Extreme Push**: highest compression ratio against the submission's own baseline, among
  models at least ``min_accuracy_extreme`` accurate (a lower bar: how far can you push?).

A tie group is formed in order of the figure: a submission joins the group of the one ranked
just before it when its interval overlaps the interval of that group's first member. All
members of a group share the group's rank (1, 1, 3, ...), so the table never claims an
order that the measurements cannot support. Rules and thresholds are written into every
output.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from tinytorch.olympics.files import load_and_check
from tinytorch.olympics.schema import Problem

__all__ = ["Entry", "Rules", "Standing", "Event", "collect", "rank", "EVENTS", "standings_csv"]


@dataclass(frozen=True)
class Rules:
    """Eligibility thresholds; every output states them."""

    min_accuracy: float = 0.90
    min_accuracy_extreme: float = 0.80

    def describe(self) -> list[str]:
        return [f"Latency Sprint, Memory Challenge, All-Around: accuracy at least {self.min_accuracy:.2f}",
                f"Extreme Push: accuracy at least {self.min_accuracy_extreme:.2f}",
                "Accuracy Contest: every valid submission",
                "ties: 95% intervals overlap (latency: the median's; accuracy: the file's accuracy_ci, Wilson in a "
                "capstone results file); bytes tie only when equal"]


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


def _student_id(path: Path, root: Optional[Path]) -> str:
    """The student a results file belongs to: the first folder below the root given (an nbgrader
    ``autograded/<student>/<assignment>/results.json`` tree), else the file's own name."""
    if root is not None:
        parts = path.relative_to(root).parts
        if len(parts) > 1:
            return parts[0]
    return path.parent.name if path.stem == "results" and path.parent.name else path.stem


def collect(paths: Sequence[str]) -> tuple[list[Entry], list[tuple[str, str, list[Problem]]]]:
    """Every results file under ``paths`` (files or folders): the valid ones as entries, the invalid
    ones as ``(student, path, problems)``."""
    found: list[tuple[str, Path]] = []
    for text in paths:
        given = Path(text)
        if given.is_dir():
            found += [(_student_id(p, given), p) for p in sorted(given.rglob("*.json"))]
        else:
            found.append((_student_id(given, None), given))
    seen: dict[str, int] = {}
    entries, invalid = [], []
    for student, path in found:
        seen[student] = seen.get(student, 0) + 1
        if seen[student] > 1:   # two files of one student: both stay, told apart by their path
            student = f"{student} ({path})"
        document, problems = load_and_check(str(path))
        if document is None or problems:
            invalid.append((student, str(path), problems))
        else:
            entries.append(_entry(student, str(path), document))
    return entries, invalid


def _entry(student: str, path: str, doc: dict[str, Any]) -> Entry:
    model = "optimized" if "optimized" in doc else "baseline"
    m = doc[model]["metrics"]
    latency = m["latency"]
    median_ci = latency.get("median_ci") or [latency["median"], latency["median"]]
    base_size = doc["baseline"]["metrics"]["model_size_bytes"]
    return Entry(student, path, model, latency["median"], (median_ci[0], median_ci[1]), m["model_size_bytes"],
                 m["accuracy"], (m["accuracy_ci"]["low"], m["accuracy_ci"]["high"]),
                 base_size / m["model_size_bytes"])


def _events() -> list[Event]:
    return [
        Event("Latency Sprint", "median latency (µs)", "lower", lambda e: e.latency_ms * 1e3,
              lambda e: (e.latency_ci[0] * 1e3, e.latency_ci[1] * 1e3), lambda e, r: e.accuracy >= r.min_accuracy),
        Event("Memory Challenge", "stored bytes", "lower", lambda e: e.size_bytes,
              lambda e: (e.size_bytes, e.size_bytes), lambda e, r: e.accuracy >= r.min_accuracy),
        Event("Accuracy Contest", "test accuracy", "higher", lambda e: e.accuracy, lambda e: e.accuracy_ci,
              lambda e, r: True),
        Event("Extreme Push", "compression ratio (x)", "higher", lambda e: e.compression,
              lambda e: (e.compression, e.compression), lambda e, r: e.accuracy >= r.min_accuracy_extreme),
    ]


EVENTS = ("Latency Sprint", "Memory Challenge", "Accuracy Contest", "All-Around", "Extreme Push")


def _tie_groups(standings: list[tuple[Entry, float, tuple[float, float]]]) -> list[Standing]:
    ranked: list[Standing] = []
    leader: Optional[tuple[float, float]] = None
    group_rank = 0
    for position, (entry, score, (low, high)) in enumerate(standings, start=1):
        if leader is not None and low <= leader[1] and leader[0] <= high:
            ranked.append(Standing(group_rank, True, entry, score))
            continue
        leader, group_rank = (low, high), position
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
    by_name = {event.name: {s.entry.student: s.rank for s in event.standings} for event in events}
    three = ("Latency Sprint", "Memory Challenge", "Accuracy Contest")
    totals = [(e, float(sum(by_name[name][e.student] for name in three)))
              for e in entries if all(e.student in by_name[name] for name in three)]
    totals.sort(key=lambda pair: (pair[1], pair[0].student))
    all_around = Event("All-Around", "sum of the three ranks", "lower", lambda e: 0.0, lambda e: (0.0, 0.0),
                       lambda e, r: e.accuracy >= r.min_accuracy)
    all_around.standings = _tie_groups([(e, total, (total, total)) for e, total in totals])
    return [*events[:3], all_around, events[3]]


def standings_csv(events: Sequence[Event]) -> str:
    """One row per event and student: event, rank, tied, student, figure, value, path."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["event", "rank", "tied", "student", "figure", "value", "path"])
    for event in events:
        for s in event.standings:
            writer.writerow([event.name, s.rank, "yes" if s.tied else "no", s.entry.student, event.figure,
                             f"{s.score:.6g}", s.entry.path])
    return out.getvalue()
