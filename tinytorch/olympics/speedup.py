"""The headline speedup that does not swing: medians of interleaved measurements, with an interval.

The chapter's ``speedup`` is baseline mean latency over optimized mean latency. With
calls of a few microseconds, one multi-millisecond hiccup dominates a mean, and the
ratio of two means can come out 0.28 in one run and 0.58 in the next.
``median_speedup`` is what a results file leads with instead:

* the two models take turns in rounds (:func:`~tinytorch.perf.benchmarking.interleaved`),
  so drift of the machine hits both;
* the figure is the ratio of the medians, with a 95 % Bonett–Price interval;
* the verdict is *faster* or *slower* only when the whole interval is on one side of 1,
  else *no significant difference*.

The samples travel with the figure, so a validator can recompute all of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor
from tinytorch.perf.benchmarking import interleaved
from tinytorch.perf.comparison import median_ratio

__all__ = ["measure_median_speedup", "median_speedup_of"]


def median_speedup_of(baseline_samples_ms: list[float], optimized_samples_ms: list[float], rounds: int,
                      runs_per_round: int, confidence: float = 0.95) -> dict[str, Any]:
    """The ``improvements.median_speedup`` entry for samples already measured in interleaved rounds."""
    result = median_ratio(baseline_samples_ms, optimized_samples_ms, confidence)
    return {**result.to_dict(), "rounds": rounds, "runs_per_round": runs_per_round,
            "baseline_samples_ms": list(baseline_samples_ms), "optimized_samples_ms": list(optimized_samples_ms)}


def measure_median_speedup(baseline: Module, optimized: Module, X: np.ndarray, rounds: int = 10,
                           runs_per_round: int = 20, warmup_runs: int = 5) -> dict[str, Any]:
    """Time both models at batch 1 on the first row of ``X``, taking turns; the median speedup entry."""
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        samples = interleaved({"baseline": lambda: baseline(x1), "optimized": lambda: optimized(x1)},
                              rounds, runs_per_round, warmup_runs)
    return median_speedup_of(samples["baseline"], samples["optimized"], rounds, runs_per_round)
