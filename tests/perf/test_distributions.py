"""Student t and binomial order-statistic math against published tables, brute force and scipy."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.perf.distributions import binomial_cdf, median_ci_ranks, student_t_cdf, student_t_ppf

# Two-sided 95 % critical values t_{0.975, df} from standard tables.
T_TABLE = {1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 5: 2.570581836, 10: 2.228138852,
           30: 2.042272456, 100: 1.983971519, 1000: 1.962339081}


@pytest.mark.parametrize("df, expected", sorted(T_TABLE.items()))
def test_t_quantiles_match_tables(df, expected):
    assert student_t_ppf(0.975, df) == pytest.approx(expected, rel=1e-9)
    assert student_t_ppf(0.025, df) == pytest.approx(-expected, rel=1e-9)


def test_t_tends_to_the_normal_and_is_never_z_for_small_n():
    assert student_t_ppf(0.975, 1e7) == pytest.approx(1.959963985, rel=1e-6)
    assert student_t_ppf(0.975, 9) > 2.2  # ten samples: 1.96 would understate the interval by 13 %


@given(t=st.floats(-30, 30), df=st.floats(0.5, 500))
def test_ppf_inverts_cdf(t, df):
    p = student_t_cdf(t, df)
    if 1e-9 < p < 1 - 1e-9:
        assert student_t_ppf(p, df) == pytest.approx(t, rel=1e-7, abs=1e-7)
    assert student_t_cdf(-t, df) == pytest.approx(1 - p, abs=1e-12)


@given(n=st.integers(1, 60), k=st.integers(-2, 62))
def test_binomial_cdf_equals_exact_sum(n, k):
    exact = sum(Fraction(math.comb(n, i), 2**n) for i in range(0, min(k, n) + 1)) if k >= 0 else 0
    assert binomial_cdf(k, n) == pytest.approx(float(exact), abs=1e-12)


@given(n=st.integers(6, 300))
def test_median_ranks_are_the_tightest_symmetric_pair_with_95_percent(n):
    lo, hi, coverage = median_ci_ranks(n)
    assert hi == n - lo + 1 and 1 <= lo <= hi <= n

    def exact_coverage(rank: int) -> Fraction:
        return 1 - 2 * sum(Fraction(math.comb(n, i), 2**n) for i in range(rank))

    assert exact_coverage(lo) >= Fraction(95, 100)
    assert coverage == pytest.approx(float(exact_coverage(lo)), abs=1e-12)
    if lo + 1 <= n - lo:  # one rank tighter must fall below 95 %
        assert exact_coverage(lo + 1) < Fraction(95, 100)


def test_known_median_ranks():
    assert median_ci_ranks(10)[:2] == (2, 9)
    assert median_ci_ranks(100)[:2] == (40, 61)


@pytest.mark.parametrize("call, fragment", [
    (lambda: median_ci_ranks(5), "5 samples are too few .* need at least 6"),
    (lambda: student_t_ppf(0.975, 0), "degrees of freedom must be positive; got 0"),
    (lambda: student_t_ppf(1.0, 3), r"probability must be in \(0, 1\); got 1.0"),
])
def test_bad_input_is_named(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_against_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed; the table tests above still run")
    for df in (1, 2.5, 4, 7, 19, 99, 250):
        for p in (0.9, 0.95, 0.975, 0.995):
            assert student_t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)
    for n in (6, 17, 64, 500):
        lo, hi, coverage = median_ci_ranks(n)
        assert coverage == pytest.approx(1 - 2 * stats.binom.cdf(lo - 1, n, 0.5), abs=1e-10)
