"""The two sampling distributions a latency confidence interval needs, without scipy.

* Student's t, for the interval of a *mean*: with n samples the standardised mean
  follows t with n-1 degrees of freedom, whose quantiles are wider than the normal's
  1.96 when n is small (12.71 at n = 2, 2.26 at n = 10). Using 1.96 there claims a
  precision the data do not have.
* Binomial(n, 1/2), for the interval of a *median* by order statistics: the number of
  samples below the true median is Binomial(n, 1/2) whatever the latency
  distribution, so ranks chosen from its tails bracket the median with known coverage
  and no normality assumption (latencies are skewed, so that matters).
"""

from __future__ import annotations

import functools
import math

__all__ = ["student_t_cdf", "student_t_ppf", "binomial_cdf", "median_ci_ranks", "regularized_beta", "clopper_pearson"]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the CDF of Beta(a, b) at x."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The continued fraction converges fast only on one side of the mean; use symmetry.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _check_df(df: float) -> None:
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive; got {df!r}")


def student_t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    _check_df(df)
    t2 = t * t
    if t2 < df:
        # Near the centre df/(df+t²) rounds to 1 and would lose t; use the central mass
        # P(|T| < |t|) = I_{t²/(df+t²)}(1/2, df/2) instead.
        central = regularized_beta(0.5, df / 2.0, t2 / (df + t2))
        return 0.5 + 0.5 * central if t > 0 else 0.5 - 0.5 * central
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t2))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=256)   # a class's results share a few sample counts: each is solved once
def student_t_ppf(p: float, df: float) -> float:
    """The t value below which a fraction ``p`` of Student's t(df) lies (e.g. p=0.975).

    Bisection on the CDF: slower than a closed form, but the CDF is accurate to ~1e-14
    and bisection cannot diverge; a benchmark computes this once.
    """
    _check_df(df)
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1); got {p!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -student_t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def binomial_cdf(k: int, n: int, p: float = 0.5) -> float:
    """P(B ≤ k) for B ~ Binomial(n, p), summed in log space so large n cannot overflow."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
                 for i in range(k + 1)]
    peak = max(log_terms)
    return min(1.0, math.exp(peak) * math.fsum(math.exp(t - peak) for t in log_terms))


def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int, float]:
    """1-based ranks (lo, hi) such that [x_(lo), x_(hi)] covers the median with ≥ ``confidence``.

    Returns the ranks and the exact coverage, 1 - 2·P(B ≤ lo - 1) for B ~ Binomial(n, 1/2).
    The interval is symmetric in rank; the smallest n that reaches 95 % is 6.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    half_alpha = (1.0 - confidence) / 2.0
    if n < 1 or 0.5**n > half_alpha:
        need = math.ceil(math.log(half_alpha) / math.log(0.5))
        raise ValueError(
            f"{n} samples are too few for a {confidence:.0%} confidence interval of the median; "
            f"need at least {need}"
        )
    # Walk up the lower tail once: lo is the largest rank with P(B <= lo - 1) <= half_alpha.
    log_norm = math.lgamma(n + 1) - n * math.log(2.0)
    lower_tail, lo = 0.0, 0
    for i in range((n + 1) // 2):
        cdf_i = lower_tail + math.exp(log_norm - math.lgamma(i + 1) - math.lgamma(n - i + 1))
        if cdf_i > half_alpha:
            break
        lower_tail, lo = cdf_i, i + 1
    return lo, n - lo + 1, 1.0 - 2.0 * lower_tail


@functools.lru_cache(maxsize=4096)
def clopper_pearson(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper and Pearson) interval of a proportion ``correct / n``, by bisection on the Beta CDF.

    Never narrower than the coverage it claims, so ranks that it ties are ties; cached, since
    a class's submissions share their test set and so their ``n``.
    """
    if n < 1 or not 0 <= correct <= n or not 0 < confidence < 1:
        raise ValueError(f"need 0 <= correct <= n, n >= 1 and confidence in (0, 1); got {correct}, {n}, {confidence}")
    tail = (1 - confidence) / 2

    def solve(a: float, b: float, target: float) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if regularized_beta(a, b, mid) < target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if correct == 0 else solve(float(correct), n - correct + 1.0, tail)
    high = 1.0 if correct == n else solve(correct + 1.0, float(n - correct), 1 - tail)
    return low, high
