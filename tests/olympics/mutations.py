"""Rewrites of a valid results.json, each with what it must do to the verdict.

Three kinds:

* **keeps it valid**: the same numbers in other JSON spellings (``50``, ``50.0``, ``5e+1``),
  another unit of time (every latency times 10^k, throughput divided by it), keys in another
  order, optional fields left out, any Unicode in free-text fields;
* **breaks it**: an integer beyond the range of a double, a key written twice, a required key
  deleted, a key renamed or added under a name the schema does not have;
* **left to the rules**: one number replaced by a tiny, huge, negative or respelled value, where
  only the validator can say (the property is then that every way of asking it agrees).

The expectations come from what the format means, not from the validator under test.
"""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from typing import Any, Iterator, Optional

from tinytorch.olympics.schema import load_schema

Path = tuple  # a JSON path as a tuple of keys and indices

# Fields a submission may leave out: the format's optional parts, named here rather than read from the schema.
OPTIONAL = {("notes",), ("latency", "samples_ms"), ("throughput", "median_batch_ms"),
            ("benchmark_config", "gc_policy"), ("blas", "version")}
# Every measured time (ms) in a report, and the rates that are its inverse.
_TIMES = ("latency_ms_mean", "latency_ms_std")
_LATENCY_TIMES = ("median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "samples_ms")
# Free text: any Unicode is allowed (minimum lengths aside).
FREE_TEXT = [("notes",), ("baseline", "model_name"), ("system_info", "cpu_model"),
             ("baseline", "metrics", "latency", "stability_reason")]


def schema_names() -> set[str]:
    """Every property name the schema defines anywhere: a new key avoids them all, so it is surely unknown."""
    names: set[str] = set()
    pending: list[Any] = [load_schema()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            names |= set(node.get("properties", {}) if isinstance(node.get("properties"), dict) else ())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return names


def nodes(doc: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every value in ``doc`` with its path, the document itself first."""
    yield path, doc
    members = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in members:
        yield from nodes(value, (*path, key))


def numbers(doc: Any) -> list[Path]:
    return [p for p, v in nodes(doc) if isinstance(v, (int, float)) and not isinstance(v, bool)]


def objects(doc: Any) -> list[Path]:
    return [p for p, v in nodes(doc) if isinstance(v, dict)]


def keys(doc: Any) -> list[Path]:
    return [p for p, _ in nodes(doc) if p and isinstance(p[-1], str)]


def at(doc: Any, path: Path) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def is_optional(path: Path) -> bool:
    return any(path[-len(tail):] == tail for tail in OPTIONAL)


def spellings(value: int | float) -> list[str]:
    """JSON spellings that all parse to ``value`` (an exact decimal, so the same double)."""
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    out = [json.dumps(value), f"{exact:e}", f"{exact:E}".replace("E+", "E")]
    if isinstance(value, int) or value.is_integer():
        whole = int(value)
        out += [str(whole), f"{whole}.0", f"{whole}e0"]
    return out


def dumps(doc: Any, rng: Optional[random.Random] = None, duplicate: Optional[Path] = None,
          shuffle: bool = False) -> str:
    """``doc`` as JSON text: numbers respelled at random (with ``rng``), keys in random order
    (``shuffle``), and the object at ``duplicate`` given its first key a second time."""

    def write(value: Any, path: Path) -> str:
        if isinstance(value, dict):
            items = list(value.items())
            if shuffle and rng is not None:
                rng.shuffle(items)
            parts = [f"{json.dumps(k)}: {write(v, (*path, k))}" for k, v in items]
            if path == duplicate and items:
                parts.append(f"{json.dumps(items[0][0])}: {write(items[0][1], (*path, items[0][0]))}")
            return "{" + ", ".join(parts) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(write(v, (*path, i)) for i, v in enumerate(value)) + "]"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and rng is not None:
            return rng.choice(spellings(value))
        return json.dumps(value)

    return write(doc, ())


def retimed(doc: dict, factor: float) -> dict:
    """``doc`` with time measured in another unit: every latency times ``factor``, every rate divided by it."""
    doc = copy.deepcopy(doc)
    for name in ("baseline", "optimized"):
        if name not in doc:
            continue
        m = doc[name]["metrics"]
        for key in _TIMES:
            m[key] *= factor
        for key in _LATENCY_TIMES:
            if key in m["latency"]:
                value = m["latency"][key]
                m["latency"][key] = [v * factor for v in value] if isinstance(value, list) else value * factor
        m["throughput_samples_per_sec"] /= factor
        m["throughput"]["samples_per_sec"] /= factor
        if "median_batch_ms" in m["throughput"]:
            m["throughput"]["median_batch_ms"] *= factor
    if "improvements" in doc:
        doc["improvements"]["speedup"] = (doc["baseline"]["metrics"]["latency_ms_mean"]
                                          / doc["optimized"]["metrics"]["latency_ms_mean"])
    return doc
