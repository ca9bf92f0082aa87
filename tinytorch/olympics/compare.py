"""Regression detection between two results files: what changed, and whether the change is real.

For each model both files hold (baseline with baseline, optimized with optimized) and
each metric, a :class:`Change` says old, new, the ratio new / old, and one of *worse*,
*better* or *no significant change*. A change counts only when it is clear of the noise
*and* at least a minimum effect (a factor, 1.1 by default), as in asv:

* latency with raw samples on both sides: the Mann–Whitney U test on the samples, and the
  ratio of medians against the minimum effect;
* latency without samples: the two medians' confidence intervals must not overlap;
* accuracy: the two Wilson intervals must not overlap (a fraction has no factor to speak of);
* size: stored bytes are exact, so only the minimum effect applies.

Latencies measured on different machines are not comparable: :func:`system_differences`
lists what differs, so the caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from tinytorch.perf.comparison import TEST_METHOD, mann_whitney_u, significant_change

__all__ = ["METRICS", "Change", "compare_documents", "system_differences", "regressions", "missing_models",
           "added_models"]

METRICS = ("latency", "accuracy", "size")
MODELS = ("baseline", "optimized")
# What must match for two latencies to be comparable.
_SYSTEM_KEYS = ("machine", "cpu_model", "cpu_count", "python_version", "numpy_version", "tinytorch_version")


@dataclass(frozen=True)
class Change:
    """One metric of one model, old against new."""

    model: str
    metric: str
    old: float
    new: float
    verdict: str         # "worse", "better" or "no significant change"
    method: str
    p_value: Optional[float] = None

    @property
    def ratio(self) -> float:
        """new / old (above 1: the number grew)."""
        return _ratio(self.old, self.new)


def _ratio(old: float, new: float) -> float:
    return new / old if old else float("inf") if new else 1.0


def _within_each_other(a: float, a_interval: Any, b: float, b_interval: Any) -> bool:
    """Whether each value lies within the other's interval: then neither measurement rules out the other.

    Both ways, not a mere overlap: a file that drops its samples and states an interval
    spanning everything would otherwise hide any regression as noise.
    """
    return bool(b_interval[0] <= a <= b_interval[1] and a_interval[0] <= b <= a_interval[1])


def _latency(model: str, old: dict[str, Any], new: dict[str, Any], min_effect: float) -> Change:
    lo, ln = old["latency"], new["latency"]
    p_value: Optional[float] = None
    if lo.get("samples_ms") and ln.get("samples_ms"):
        _, p_value = mann_whitney_u(lo["samples_ms"], ln["samples_ms"])
        method = f"{TEST_METHOD}, p < 0.05, and a median ratio of at least {min_effect:g}"
        clear = p_value < 0.05
    elif lo.get("median_ci") and ln.get("median_ci"):
        method = f"neither median within the other's 95% interval, and a ratio of at least {min_effect:g}"
        clear = not _within_each_other(lo["median"], lo["median_ci"], ln["median"], ln["median_ci"])
    else:
        method = f"a ratio of at least {min_effect:g} (no samples or intervals to test)"
        clear = True
    return _decide(model, "latency", lo["median"], ln["median"], clear, min_effect, method, p_value,
                   lower_is_better=True)


def _accuracy(model: str, old: dict[str, Any], new: dict[str, Any], min_effect: float) -> Change:
    co, cn = old["accuracy_ci"], new["accuracy_ci"]
    clear = not _within_each_other(old["accuracy"], (co["low"], co["high"]), new["accuracy"], (cn["low"], cn["high"]))
    return _decide(model, "accuracy", old["accuracy"], new["accuracy"], clear, 1.0,
                   "neither accuracy within the other's 95% interval", None, lower_is_better=False)


def _size(model: str, old: dict[str, Any], new: dict[str, Any], min_effect: float) -> Change:
    return _decide(model, "size", old["model_size_bytes"], new["model_size_bytes"], True, min_effect,
                   f"stored bytes are exact: a ratio of at least {min_effect:g}", None, lower_is_better=True)


def _decide(model: str, metric: str, old: float, new: float, clear: bool, min_effect: float, method: str,
            p_value: Optional[float], lower_is_better: bool) -> Change:
    counts = old != new and clear and significant_change(_ratio(old, new), None, min_effect)
    grew = new > old
    verdict = "no significant change" if not counts else "worse" if grew == lower_is_better else "better"
    return Change(model, metric, float(old), float(new), verdict, method, p_value)


_COMPARE: dict[str, Callable[[str, dict[str, Any], dict[str, Any], float], Change]] = {
    "latency": _latency, "accuracy": _accuracy, "size": _size}


def compare_documents(old: dict[str, Any], new: dict[str, Any], min_effect: float = 1.1) -> list[Change]:
    """Every metric of every model the two valid results documents both hold."""
    if min_effect < 1:
        raise ValueError(f"min_effect is a factor of at least 1; got {min_effect}")
    return [_COMPARE[metric](model, old[model]["metrics"], new[model]["metrics"], min_effect)
            for model in MODELS if model in old and model in new for metric in METRICS]


def missing_models(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The models OLD holds and NEW does not: a lost optimized model is no improvement to stay silent about."""
    return [model for model in MODELS if model in old and model not in new]


def added_models(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The models NEW holds and OLD does not: nothing to compare them with, which is said, not hidden."""
    return missing_models(new, old)


def regressions(changes: list[Change], fail_on: tuple[str, ...] = METRICS) -> list[Change]:
    """The changes that got significantly worse in one of the ``fail_on`` metrics."""
    return [c for c in changes if c.verdict == "worse" and c.metric in fail_on]


def system_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between the machines and software of two results documents (``key: old -> new``)."""
    a, b = old.get("system_info", {}), new.get("system_info", {})
    found = [f"{key}: {a.get(key)!r} -> {b.get(key)!r}" for key in _SYSTEM_KEYS if a.get(key) != b.get(key)]
    sets = [(d.get("baseline", {}).get("benchmark_config", {}).get("dataset") or {}) for d in (old, new)]
    found += [f"test set {key}: {sets[0].get(key)!r} -> {sets[1].get(key)!r}" for key in ("name", "sha256", "n_samples")
              if sets[0].get(key) != sets[1].get(key)]
    blas_a, blas_b = a.get("blas") or {}, b.get("blas") or {}
    found += [f"blas {key}: {blas_a.get(key)!r} -> {blas_b.get(key)!r}"
              for key in sorted(set(blas_a) | set(blas_b)) if blas_a.get(key) != blas_b.get(key)]
    return found
