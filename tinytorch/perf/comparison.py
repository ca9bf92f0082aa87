"""Comparing two latency distributions: faster, slower, or no difference that the noise allows to claim.

A ratio of means swings with one outlier: a single 4 ms hiccup among 13 µs calls moves
the mean several-fold. Two tools here do not swing:

* :func:`median_ratio`: the ratio of the two medians with a distribution-free confidence
  interval (Bonett & Price, 2002). Each median's spread is read from a pair of order
  statistics, on the log scale, so the interval of the ratio is the exponential of a
  symmetric interval of the log-ratio. The verdict is *faster* or *slower* only when the
  whole interval lies on one side of 1.
* :func:`mann_whitney_u`: the two-sided Mann–Whitney U test (normal approximation with
  tie and continuity corrections), which asks whether one distribution tends to give
  larger values than the other, whatever their shapes.

:func:`significant_change` combines a test with a minimum effect, as asv does: a change
counts only when it is both statistically clear and at least a given factor, so a real
but tiny shift does not fail a build.
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from tinytorch.perf.distributions import binomial_cdf

__all__ = ["MedianRatio", "median_ratio", "mann_whitney_u", "significant_change", "RATIO_METHOD", "TEST_METHOD"]

RATIO_METHOD = "Bonett-Price (2002) interval of the ratio of medians, log scale"
TEST_METHOD = "Mann-Whitney U, two-sided, normal approximation with tie and continuity corrections"

Samples = Union[Sequence[float], np.ndarray]


@dataclass(frozen=True)
class MedianRatio:
    """``baseline median / optimized median`` (above 1: the optimized model is faster), its interval and verdict."""

    ratio: float
    low: float
    high: float
    confidence: float
    verdict: str            # "faster", "slower" or "no significant difference"
    method: str = RATIO_METHOD

    def to_dict(self) -> dict[str, object]:
        return {"ratio": self.ratio, "ci": [self.low, self.high], "confidence_level": self.confidence,
                "method": self.method, "verdict": self.verdict}


def _positive_samples(samples: Samples, name: str) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float64).ravel()
    if data.size < 2:
        raise ValueError(f"{name} needs at least 2 samples for an interval; got {data.size}")
    if not np.all(np.isfinite(data)) or np.any(data <= 0):
        raise ValueError(f"{name} samples must be finite and positive: the ratio is taken on the log scale")
    return data


def _log_median_and_variance(data: np.ndarray) -> tuple[float, float]:
    """ln(median) and the Bonett–Price variance of it, from the order statistics of rank c and n - c + 1."""
    n = data.size
    ordered = np.sort(data)
    c = max(1, round((n + 1) / 2 - math.sqrt(n)))
    # [x_(c), x_(n-c+1)] covers the median with probability 1 - 2 P(B <= c - 1), B ~ Bin(n, 1/2);
    # z is the normal quantile of that coverage, so the pair's spread / 2z estimates the SE.
    tail = binomial_cdf(c - 1, n)
    z = statistics.NormalDist().inv_cdf(1 - tail)
    spread = math.log(ordered[n - c]) - math.log(ordered[c - 1])
    return math.log(float(np.median(data))), (spread / (2 * z)) ** 2


def median_ratio(baseline: Samples, optimized: Samples, confidence: float = 0.95) -> MedianRatio:
    """How many times faster ``optimized`` is at the median, with a ``confidence`` interval."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    log_b, var_b = _log_median_and_variance(_positive_samples(baseline, "baseline"))
    log_o, var_o = _log_median_and_variance(_positive_samples(optimized, "optimized"))
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    center, half = log_b - log_o, z * math.sqrt(var_b + var_o)
    if abs(center) + half >= math.log(sys.float_info.max):
        raise ValueError(f"the ratio of these medians and its interval pass the float range "
                         f"(medians {math.exp(log_b):g} and {math.exp(log_o):g} ms)")
    low, high = math.exp(center - half), math.exp(center + half)
    verdict = "faster" if low > 1 else "slower" if high < 1 else "no significant difference"
    return MedianRatio(math.exp(center), low, high, confidence, verdict)


def mann_whitney_u(old: Samples, new: Samples) -> tuple[float, float]:
    """``(U, p)``: U counts the pairs where ``old`` exceeds ``new`` (ties count half); p is two-sided."""
    x = np.asarray(old, dtype=np.float64).ravel()
    y = np.asarray(new, dtype=np.float64).ravel()
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        raise ValueError("the Mann-Whitney test needs samples on both sides")
    combined = np.concatenate([x, y])
    order = np.argsort(combined, kind="mergesort")
    ranks = np.empty(combined.size)
    ordered = combined[order]
    # Average ranks over runs of equal values (ties).
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    tie_sizes = (ends - starts).astype(np.float64)
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - float(np.sum(tie_sizes**3 - tie_sizes)) / (n * (n - 1) or 1))
    if variance <= 0:    # every value equal: nothing tells the two apart
        return u, 1.0
    distance = max(0.0, abs(u - n1 * n2 / 2) - 0.5)
    # Two-sided tail 2(1 - Φ(z)) = erfc(z / √2): erfc keeps its precision far out in the tail.
    return u, min(1.0, math.erfc(distance / math.sqrt(variance) / math.sqrt(2)))


def significant_change(ratio: float, p_value: Optional[float], min_effect: float = 1.1,
                       alpha: float = 0.05) -> bool:
    """Whether a change of ``ratio`` (new / old, either direction) counts: at least ``min_effect`` and,
    where a test was run, ``p_value < alpha``."""
    if min_effect < 1:
        raise ValueError(f"min_effect is a factor of at least 1; got {min_effect}")
    big_enough = max(ratio, 1 / ratio) >= min_effect if ratio > 0 else True
    return big_enough and (p_value is None or p_value < alpha)
