"""Tests for sparselearn.rademacher against docs/theory.rst, section 4.

Every formula is recomputed here from docs/theory.rst's text (not from the
module), suprema are checked by brute force over all sign patterns of the
actual networks, and Monte-Carlo estimates are compared with exact
expectations.  Statistical assertions use fixed seeds and allow 4 standard
errors: under the normal approximation a one-sided 4-sigma miss has
probability about 3e-5 per assertion, and the seeds make CI deterministic.
"""
import dataclasses
import itertools
import math
import pathlib
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from sparselearn import MemoryBudgetError, SparseReLUNetwork
from sparselearn.rademacher import (C0, C_SPARSE, TAU, Bound, RademacherBounds,
                                    RademacherEstimate, SignFamily, bounds,
                                    cap_construction, cluster_construction,
                                    constant_construction, d_q, empirical_rademacher,
                                    excess_risk_bound, rademacher_lower_estimate, rho,
                                    separated_directions)

SIGMAS = 4.0  # one-sided miss probability ~3e-5 per statistical assertion


def _sign_patterns(q):
    return [np.array(p, dtype=float) for p in itertools.product([-1.0, 1.0], repeat=q)]


def _brute_force_supremum(family, zeta, X):
    """max over all 2^q sign patterns of mean(zeta * h_theta(X)), evaluating the networks."""
    return max(float(np.mean(zeta * family.network(theta)(X)))
               for theta in _sign_patterns(family.q))


def _ball_points(rng, count, n, R):
    """Uniform points of the ball of radius R in R^n."""
    directions = rng.normal(size=(count, n))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return R * directions * rng.uniform(size=(count, 1)) ** (1.0 / n)


def _exact_cluster_expectation_fresh(k, A, q, m):
    """E_{S, zeta} of the cluster family's supremum for S uniform on q support points:
    (kA/m) * q * E[N rho_N] with N ~ Bin(m, 1/q) the size of one cluster (rho_0 := 0)."""
    N = np.arange(1, m + 1)
    return k * A / m * q * float(np.sum(binom.pmf(N, m, 1.0 / q) * N
                                        * np.array([rho(int(v)) for v in N])))


# ---------------------------------------------------------------------- rho_m
def test_rho_equals_the_binomial_expectation_exactly():
    for m in range(1, 81):
        # E|sum zeta| = sum_x C(m, x) 2^-m |2x - m|, in exact rational arithmetic.
        expectation = sum(Fraction(math.comb(m, x) * abs(2 * x - m), 2**m) for x in range(m + 1))
        assert rho(m) == float(expectation / m)


# (4096 and 4097 would take the exact branch and compare it with itself.)
@pytest.mark.parametrize("m", [4098, 4099, 5001, 5002, 12345, 30000])
def test_rho_asymptotic_branch_matches_exact_integers(m):
    # The closed form (checked against the binomial sum above) in exact integers.
    exact = math.comb(m - 1, (m - 1) // 2) / 2 ** (m - 1)
    assert rho(m) == pytest.approx(exact, rel=1e-15)


def test_rho_is_between_the_theory_bounds():
    for m in list(range(1, 3000)) + [10**5, 10**6 + 1, 10**9]:
        value = rho(m)
        assert 1.0 / math.sqrt(3.0 * m) <= value <= 1.0 / math.sqrt(m)
    assert rho(10**9) * math.sqrt(10**9) == pytest.approx(math.sqrt(2.0 / math.pi), rel=1e-8)


def test_rho_matches_simulation():
    rng = np.random.default_rng(20261124)
    m, draws = 37, 40000
    values = np.abs((1 - 2 * rng.integers(0, 2, size=(draws, m))).sum(axis=1)) / m
    se = values.std(ddof=1) / math.sqrt(draws)
    assert abs(values.mean() - rho(m)) <= SIGMAS * se  # two-sided: failure prob ~6e-5


# --------------------------------------------------------------------- bounds
def test_constant_C_is_as_written_in_theory():
    log2 = math.log(2.0)
    c0 = (6 * math.sqrt(320) + 6) / log2 + (1 + 36 * math.sqrt(log2)) / log2**1.5
    assert C0 == c0 and C_SPARSE == 2 * c0
    assert C_SPARSE == pytest.approx(434.34, abs=0.01)


class_params = dict(
    n=st.integers(1, 300), s=st.integers(1, 400), k=st.integers(1, 400),
    W=st.floats(0.0, 10.0), B=st.floats(0.0, 10.0), R=st.floats(0.01, 20.0),
    m=st.integers(1, 10**6))


@given(**class_params)
def test_bounds_rows_follow_the_theory_table(n, s, k, W, B, R, m):
    assume(k <= s)
    result = bounds(n, s, k, W, B, R, m)
    A = W * R
    q = min(s // k, m)
    dq = min(q, math.ceil(16 * math.log(2 * q)))
    tau = math.sqrt(3) / 2
    a = min(A, B / tau)
    rate = math.sqrt(s * k / m)
    expected = {
        "envelope": k * (A + B),
        "dense": 2 * s * (A + B) / math.sqrt(m),
        "sparse upper": C_SPARSE * A * min(k, rate * math.log(2 * m) ** 1.5) + k * B * rho(m),
        "zero-bias ball": 4 * k * A / math.sqrt(m),
        "lower (Thm 3)": (A * min(k, rate) + k * B / math.sqrt(m)) / (4 * math.sqrt(2)),
        "caps lower (Thm 12)": (1 - tau) / (4 * math.sqrt(2))
        * (a * min(k, rate) + k * B / math.sqrt(m)),
        "ADKM Conjecture 20": (A + B) * rate,
    }
    for name, value in expected.items():
        assert result[name].value == pytest.approx(value, rel=1e-12, abs=1e-300)
    argument = k * m * (R + B)
    if A + B == 0:
        assert result["ADKM eq. (15)"].value == 0.0
    elif argument >= 1:
        assert result["ADKM eq. (15)"].value == pytest.approx(
            (A + B) * math.sqrt(s * n * k * math.log(argument)) / math.sqrt(m), rel=1e-12)
    else:
        assert math.isnan(result["ADKM eq. (15)"].value)
    assert (result.q, result.d_q, result.A) == (q, dq, A)
    assert result.conditions == {"n >= q": n >= q, "n >= d_q": n >= dq,
                                 "B >= tau A": B >= tau * A, "m >= s/k": m >= s / k}
    kinds = {row.name: row.kind for row in result.rows}
    assert kinds["ADKM eq. (15)"] == kinds["ADKM Conjecture 20"] == "rate"
    assert result["ADKM eq. (15)"].holds is None
    assert result.best_upper == pytest.approx(
        min(expected["envelope"], expected["dense"], expected["sparse upper"]), rel=1e-12)
    valid_lower = [v for v, ok in ((expected["lower (Thm 3)"], n >= q),
                                   (expected["caps lower (Thm 12)"], n >= dq)) if ok]
    if valid_lower:
        assert result.best_lower == pytest.approx(max(valid_lower), rel=1e-12)
    else:
        assert result.best_lower is None
    # Lower bounds never exceed the upper bounds (a consistency check of the table).
    if result.best_lower is not None:
        assert result.best_lower <= result.best_upper * (1 + 1e-12)


def test_bounds_prints_a_table_with_rates_labelled():
    result = bounds(n=25, s=40, k=2, W=1.0, B=0.5, R=2.0, m=100)
    text = str(result)
    for row in result.rows:
        assert row.name in text and row.source in text
    assert "const x" in text and "not a bound" in text
    assert "n >= q: yes" in text and "best upper U_m" in text
    assert isinstance(result.rows[0], Bound) and isinstance(result, RademacherBounds)
    with pytest.raises(KeyError, match="no bound named"):
        result["nope"]
    with pytest.raises(AttributeError):  # frozen
        result.m = 3


def test_best_lower_none_when_no_condition_holds():
    # q = min(50, 1000) = 50 > n = 10 and d_q = min(50, ceil(16 log 100)) = 50 > 10.
    result = bounds(n=10, s=50, k=1, W=1.0, B=1.0, R=1.0, m=1000)
    assert not result.conditions["n >= q"] and not result.conditions["n >= d_q"]
    assert result.best_lower is None and "none valid" in str(result)


def test_excess_risk_bound_is_corollary_13():
    result = bounds(n=20, s=30, k=3, W=0.5, B=1.0, R=2.0, m=500)
    value = excess_risk_bound(result, lipschitz=2.0, loss_bound=3.0, delta=0.05)
    assert value == pytest.approx(4 * 2.0 * result.best_upper
                                  + 2 * 3.0 * math.sqrt(math.log(2 / 0.05) / (2 * 500)))
    with pytest.raises(ValueError, match="delta"):
        excess_risk_bound(result, 1.0, 1.0, 1.0)
    with pytest.raises(TypeError, match="bounds_result"):
        excess_risk_bound(3.0, 1.0, 1.0, 0.1)


# ------------------------------------------------------------- constructions
@given(q=st.integers(1, 5), k=st.integers(1, 3), extra=st.integers(0, 4),
       n_extra=st.integers(0, 3), W=st.integers(1, 16).map(lambda v: v / 4),
       R=st.integers(1, 8).map(lambda v: v / 2), m=st.integers(1, 12),
       seed=st.integers(0, 2**16))
@settings(max_examples=25)
def test_cluster_supremum_equals_brute_force_and_closed_form(q, k, extra, n_extra, W, R,
                                                             m, seed):
    s, n = q * k + extra, q + n_extra
    family = cluster_construction(n, s, k, W, R, m=q)  # q = min(floor(s/k), q) = q
    rng = np.random.default_rng(seed)
    J = rng.integers(0, q, size=m)
    X = R * np.eye(q, n)[J]
    for zeta in 1.0 - 2.0 * rng.integers(0, 2, size=(3, m)):
        closed = k * W * R / m * sum(abs(zeta[J == b].sum()) for b in range(q))
        assert family.supremum(zeta, X) == pytest.approx(closed, rel=1e-12, abs=1e-12)
        assert family.supremum(zeta, X) == pytest.approx(
            _brute_force_supremum(family, zeta, X), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("make", [
    lambda: cap_construction(6, 10, 2, 1.5, 1.0, 2.0),                    # a = B / tau
    lambda: cap_construction(4, 8, 2, 0.5, 3.0, 1.0),                     # a = A
    lambda: cap_construction(90, 100, 1, 1.0, 1.0, 1.0, random_state=5),  # n < q: sign vectors
    lambda: constant_construction(4, 5, 3, 1.25),
    lambda: cluster_construction(5, 9, 2, 0.75, 3.0),
])
def test_supremum_equals_brute_force_on_arbitrary_points(make):
    family = make()
    rng = np.random.default_rng(11)
    R = np.linalg.norm(family.support, axis=1).max() or 1.0
    # Support points, points of the ball, and points near the support.
    near = family.support[rng.integers(0, len(family.support), 10)]
    near = near * (1 - 0.05 * rng.uniform(size=(10, 1))) + 0.05 * rng.normal(size=near.shape)
    X = np.vstack([family.sample(8, rng), _ball_points(rng, 8, family.n, R), near])
    zetas = 1.0 - 2.0 * rng.integers(0, 2, size=(3, X.shape[0]))
    batch = family.supremum(zetas, X)
    for zeta, value in zip(zetas, batch):
        # Brute force over 2^q patterns only for small q; else over the block signs directly.
        if family.q <= 7:
            assert value == pytest.approx(_brute_force_supremum(family, zeta, X), rel=1e-12,
                                          abs=1e-12)
        best = family.network(np.where(zeta @ family.block_values(X) >= 0, 1.0, -1.0))
        assert value == pytest.approx(float(np.mean(zeta * best(X))), rel=1e-12, abs=1e-12)


@given(q=st.integers(1, 6), k=st.integers(1, 4), extra=st.integers(0, 3),
       n_extra=st.integers(0, 3), W=st.integers(0, 16).map(lambda v: v / 4),
       R=st.integers(1, 8).map(lambda v: v / 2), seed=st.integers(0, 2**16))
def test_cluster_values_and_sparsity_on_support(q, k, extra, n_extra, W, R, seed):
    s, n = q * k + extra, q + n_extra
    family = cluster_construction(n, s, k, W, R, m=q)
    assert family.q == q and family.s == s and family.n == n
    theta = 1.0 - 2.0 * np.random.default_rng(seed).integers(0, 2, size=q)
    net = family.network(theta)
    support = R * np.eye(q, n)
    np.testing.assert_array_equal(family.support, support)
    np.testing.assert_allclose(net(support), k * W * R * theta, rtol=1e-12)
    # Exactly one cluster (k units) active at each support point when W > 0.
    assert net.activation_counts(support).tolist() == [k if W > 0 else 0] * q
    W_net, B_net = net.norm_bounds()
    assert W_net == pytest.approx(W) and B_net == 0.0


@given(n=st.integers(1, 6), k=st.integers(1, 4), extra=st.integers(0, 3),
       B=st.integers(0, 16).map(lambda v: v / 4), sign=st.sampled_from([-1.0, 1.0]),
       seed=st.integers(0, 2**16))
def test_constant_family_is_plus_minus_kB_everywhere(n, k, extra, B, sign, seed):
    family = constant_construction(n, k + extra, k, B)
    X = np.random.default_rng(seed).normal(scale=10.0, size=(20, n))
    net = family.network([sign])
    np.testing.assert_array_equal(net(X), sign * k * B)
    assert net.activation_counts(X).tolist() == [k if B > 0 else 0] * 20
    assert net.norm_bounds() == (0.0, B)


@pytest.mark.parametrize("n, s, k, W, B, R, seed", [
    (5, 10, 2, 1.0, 2.0, 1.0, 0),     # orthonormal, a = A (B >= tau A)
    (8, 24, 3, 2.0, 1.0, 3.0, 1),     # orthonormal, a = B / tau
    (90, 200, 2, 1.0, 1.0, 2.0, 2),   # q = 100 > n = 90 >= d_q = 85: sign vectors
    (60, 40, 1, 1.0, 0.5, 1.0, 3),    # q = 40 < n: orthonormal
])
def test_caps_are_k_sparse_on_the_whole_ball(n, s, k, W, B, R, seed):
    family = cap_construction(n, s, k, W, B, R, random_state=seed)
    q = family.q
    assert q == s // k
    directions = family.support / R
    # Geometric condition: unit directions, pairwise inner products <= 1/2, so
    # caps {y : <u_b, y> > tau} of the unit ball are pairwise disjoint.
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, rtol=1e-12)
    gram = directions @ directions.T
    np.fill_diagonal(gram, -1.0)
    assert gram.max() <= 0.5 + 1e-12
    assert 2 * TAU**2 - 1 == pytest.approx(0.5)  # cos 60 = 2 cos^2 30 - 1
    rng = np.random.default_rng(100 + seed)
    theta = 1.0 - 2.0 * rng.integers(0, 2, size=q)
    net = family.network(theta)
    a = min(W * R, B / TAU)
    # Values and sparsity at the support points.
    np.testing.assert_allclose(net(family.support), k * a * (1 - TAU) * theta, rtol=1e-9)
    assert net.activation_counts(family.support).tolist() == [k] * q
    W_net, B_net = net.norm_bounds()
    assert W_net <= W * (1 + 1e-12) and B_net <= B * (1 + 1e-12)
    assert W_net == pytest.approx(a / R) and B_net == pytest.approx(TAU * a)
    # Random points of the ball, points just inside the caps, and points on the
    # sphere at angles around the caps' 30-degree radius from a direction.
    uniform = _ball_points(rng, 2000, n, R)
    centres = directions[rng.integers(0, q, 2000)]
    noise = rng.normal(size=centres.shape)
    noise -= np.sum(noise * centres, axis=1, keepdims=True) * centres
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    angles = rng.uniform(0.0, math.pi / 3, size=(2000, 1))
    radii = rng.uniform(0.8, 1.0, size=(2000, 1))
    rotated = R * radii * (np.cos(angles) * centres + np.sin(angles) * noise)
    for X in (uniform, rotated):
        assert np.all(np.linalg.norm(X, axis=1) <= R * (1 + 1e-12))
        assert net.activation_counts(X).max() <= k
    # Inside a cap by a margin, exactly its k units are active.
    inside = R * (np.cos(0.2) * centres + np.sin(0.2) * noise)
    assert np.all(net.activation_counts(inside) == k)


def test_caps_midpoints_between_orthonormal_directions_are_inactive():
    family = cap_construction(4, 8, 2, 1.0, 1.0, 1.0)
    u = family.support
    midpoints = np.array([(u[a] + u[b]) / np.linalg.norm(u[a] + u[b])
                          for a in range(4) for b in range(a + 1, 4)])
    # <u_a, midpoint> = 1/sqrt(2) < tau: no unit is active there.
    assert family.base_network.activation_counts(midpoints).max() == 0


def test_separated_directions():
    np.testing.assert_array_equal(separated_directions(3, 5), np.eye(3, 5))
    q, n = 100, 85  # d_q = min(100, ceil(16 log 200)) = 85
    assert d_q(q) == 85
    U = separated_directions(q, n, random_state=0)
    assert U.shape == (q, n)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-12)
    gram = U @ U.T
    np.fill_diagonal(gram, -1.0)
    assert gram.max() <= 0.5 + 1e-12
    np.testing.assert_array_equal(U, separated_directions(q, n, random_state=0))
    with pytest.raises(ValueError, match="d_q=85"):
        separated_directions(q, 84, random_state=0)
    with pytest.raises(ValueError, match="d_q"):
        cap_construction(84, 100, 1, 1.0, 1.0, 1.0, random_state=0)


# ---------------------------------------------------------------- estimates
def test_empirical_rademacher_fixed_sample_matches_exact_expectation():
    # On a fixed sample the cluster supremum is (kA/m) sum_b |S_{N_b}|, of exact
    # expectation (kA/m) sum_b N_b rho_{N_b}.
    k, W, R = 3, 0.5, 2.0
    family = cluster_construction(6, 20, k, W, R)
    X = family.sample(40, random_state=1)
    counts = np.bincount(np.argmax(X, axis=1), minlength=family.q)
    exact = k * W * R / 40 * sum(c * rho(int(c)) for c in counts if c > 0)
    result = empirical_rademacher(family, X, n_draws=4000, random_state=2)
    assert isinstance(result, RademacherEstimate)
    assert result.m == 40 and result.n_draws == 4000 and result.values.shape == (4000,)
    assert abs(result.estimate - exact) <= SIGMAS * result.stderr  # ~6e-5
    assert "fixed sample" in str(result)


@pytest.mark.parametrize("q, m", [(1, 7), (4, 3), (5, 25), (12, 30)])
def test_empirical_rademacher_fresh_samples_matches_exact_expectation(q, m):
    k, W, R = 2, 1.5, 1.0
    family = cluster_construction(q, q * k, k, W, R)
    exact = _exact_cluster_expectation_fresh(k, W * R, q, m)
    result = empirical_rademacher(family, m, n_draws=4000, random_state=q)
    assert abs(result.estimate - exact) <= SIGMAS * result.stderr + 1e-12  # ~6e-5
    # The caps family on the same support distribution is the clusters scaled by
    # a (1 - tau) / A.
    caps = cap_construction(q, q * k, k, W, 1.0, R)
    a = min(W * R, 1.0 / TAU)
    result = empirical_rademacher(caps, m, n_draws=4000, random_state=q + 1)
    assert abs(result.estimate - exact * a * (1 - TAU) / (W * R)) <= (
        SIGMAS * result.stderr + 1e-12)


def test_empirical_rademacher_is_reproducible():
    family = cluster_construction(4, 8, 2, 1.0, 1.0)
    first = empirical_rademacher(family, 30, n_draws=50, random_state=9)
    second = empirical_rademacher(family, 30, n_draws=50, random_state=9)
    np.testing.assert_array_equal(first.values, second.values)
    with pytest.raises(ValueError):
        first.values[0] = 1.0


@st.composite
def small_classes(draw):
    """(n, s, k, W, B, R, m) with k <= s, norms on a quarter grid."""
    s = draw(st.integers(1, 24))
    return (draw(st.integers(1, 12)), s, draw(st.integers(1, s)),
            draw(st.integers(0, 8)) / 4, draw(st.integers(0, 8)) / 4,
            draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])), draw(st.integers(1, 40)))


@given(params=small_classes(), seed=st.integers(0, 2**16))
@settings(max_examples=40)
def test_lower_bound_below_estimates_below_upper_bound(params, seed):
    # Over 300 random parameter sets (probe run while writing this test) the
    # largest family's estimate was at least 1.9 times the lower bound.
    n, s, k, W, B, R, m = params
    result = bounds(n, s, k, W, B, R, m)
    upper = result.best_upper
    constants = empirical_rademacher(constant_construction(n, s, k, B), m, 600, seed)
    estimates = {"constants": constants}
    if result.conditions["n >= q"]:
        estimates["clusters"] = empirical_rademacher(
            cluster_construction(n, s, k, W, R, m=m), m, 600, seed + 1)
    if result.conditions["n >= d_q"]:
        estimates["caps"] = empirical_rademacher(
            cap_construction(n, s, k, W, B, R, m=m, random_state=seed), m, 600, seed + 2)
    # Each family lies in the class, so its complexity is below every upper bound.
    for estimate in estimates.values():
        assert estimate.estimate <= upper + SIGMAS * estimate.stderr
        assert estimate.values.max() <= result["envelope"].value * (1 + 1e-12)  # per draw
    # The class's expected complexity on the construction's distribution is at
    # least the largest family's, which the theorems bound from below.
    def best(names):
        chosen = [estimates[name] for name in names]
        return max(e.estimate + SIGMAS * e.stderr for e in chosen)

    if result.conditions["n >= q"]:
        assert result["lower (Thm 3)"].value <= best(["clusters", "constants"]) + 1e-12
    if result.conditions["n >= d_q"]:
        assert result["caps lower (Thm 12)"].value <= best(["caps", "constants"]) + 1e-12


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda: bounds(5, 2, 3, 1.0, 1.0, 1.0, 10), ValueError, "k=3 exceeds the width s=2"),
    (lambda: bounds(5, 4, 2, -1.0, 1.0, 1.0, 10), ValueError, "W must be >= 0"),
    (lambda: bounds(5, 4, 2, 1.0, -0.1, 1.0, 10), ValueError, "B must be >= 0"),
    (lambda: bounds(5, 4, 2, 1.0, 1.0, 0.0, 10), ValueError, "R must be > 0"),
    (lambda: bounds(5, 4, 2, 1.0, 1.0, 1.0, 0), ValueError, "m must be >= 1"),
    (lambda: bounds(5, 4, 2, 1.0, float("nan"), 1.0, 10), ValueError, "B must be finite"),
    # Finite norms whose bounds overflow: refused, not a table of inf "holding".
    (lambda: bounds(100, 64, 2, 1e300, 1e300, 1e300, 1000), ValueError,
     r"A = W R = inf\) overflow float64 in envelope"),
    (lambda: bounds(5.0, 4, 2, 1.0, 1.0, 1.0, 10), TypeError, "n must be an integer"),
    (lambda: rho(0), ValueError, "m must be >= 1"),
    # k = 0 is what max_active reads off a network with no active unit.
    (lambda: bounds(5, 4, 0, 1.0, 1.0, 1.0, 10), ValueError,
     "k must be >= 1, got 0: with no active unit .* complexity is 0"),
    (lambda: bounds(5, 4, -1, 1.0, 1.0, 1.0, 10), ValueError, "k must be >= 1, got -1"),
    (lambda: cluster_construction(3, 8, 2, 1.0, 1.0), ValueError, "n=3 < q=4"),
    (lambda: cluster_construction(3, 8, 9, 1.0, 1.0), ValueError, "k=9 exceeds"),
    (lambda: cluster_construction(3, 8, 2, 1.0, 1.0, m=0), ValueError, "m must be >= 1"),
    (lambda: constant_construction(3, 8, 2, -1.0), ValueError, "B must be >= 0"),
    (lambda: cap_construction(10, 400, 2, 1.0, 1.0, 1.0), ValueError, "d_q"),
    (lambda: cap_construction(10, 40, 2, 1.0, 1.0, -1.0), ValueError, "R must be > 0"),
    (lambda: separated_directions(0, 3), ValueError, "q must be >= 1"),
])
def test_bad_parameters_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


HUGE = 10**400  # beyond float64: int-to-float conversion raised OverflowError


@pytest.mark.parametrize("call, name", [
    (lambda: bounds(5, 4, 2, 1.0, 1.0, 1.0, HUGE), "m"),
    (lambda: bounds(HUGE, 4, 2, 1.0, 1.0, 1.0, 10), "n"),
    (lambda: bounds(5, HUGE, 2, 1.0, 1.0, 1.0, 10), "s"),
    (lambda: rho(HUGE), "m"),
    (lambda: rho(2**53 + 1), "m"),
    (lambda: d_q(HUGE), "q"),
    (lambda: separated_directions(HUGE, 3), "q"),
    (lambda: cluster_construction(4, HUGE, 1, 1.0, 1.0, m=2), "s"),
    (lambda: cluster_construction(HUGE, 4, 1, 1.0, 1.0), "n"),
    (lambda: constant_construction(HUGE, 4, 1, 1.0), "n"),
    (lambda: empirical_rademacher(constant_construction(3, 4, 1, 1.0), HUGE, 2), "sample"),
    (lambda: empirical_rademacher(constant_construction(3, 4, 1, 1.0), 5, HUGE), "n_draws"),
])
def test_counts_beyond_float64_are_refused_naming_the_argument(call, name):
    """Counts above 2**53 used to end in OverflowError (int too large to convert to
    float) or numpy's 'Maximum allowed dimension exceeded', naming nothing."""
    with pytest.raises(ValueError, match=rf"^{name} must be at most 2\*\*53"):
        call()


def test_count_limit_is_inclusive():
    assert rho(2**53) == pytest.approx(math.sqrt(2.0 / (math.pi * 2**53)), rel=1e-12)
    assert bounds(5, 4, 2, 1.0, 1.0, 1.0, 2**53).m == 2**53


def test_a_float_sample_size_is_not_read_as_one_point():
    """empirical_rademacher(family, 12.0) said 'sample must be 2-D ... got shape (1,)'."""
    family = constant_construction(3, 4, 1, 1.0)
    for sample in (12.0, True, np.float64(3.0)):
        with pytest.raises(TypeError, match="sample must be a sample size m .an integer. or "
                                            "an .m, n. array"):
            empirical_rademacher(family, sample, 10)
    assert empirical_rademacher(family, np.int64(12), 10, random_state=0).m == 12


def test_stderr_of_huge_values_is_finite():
    """Constants kB = 2e300: the squared deviations overflowed and stderr was inf
    (with an overflow RuntimeWarning)."""
    big = empirical_rademacher(constant_construction(3, 4, 2, 1e300), 10, 50, random_state=0)
    unit = empirical_rademacher(constant_construction(3, 4, 2, 1.0), 10, 50, random_state=0)
    np.testing.assert_allclose(big.values, 1e300 * unit.values, rtol=1e-15)
    assert big.stderr == pytest.approx(1e300 * unit.stderr, rel=1e-12)
    assert big.estimate == pytest.approx(1e300 * unit.estimate, rel=1e-12)


def test_a_network_in_place_of_a_construction_is_pointed_to_the_class_tools():
    """A user passing their own network got only 'must be a SignFamily'."""
    net = SparseReLUNetwork([[1.0, 0.0]], [0.0], [1.0])
    with pytest.raises(TypeError, match=r"got SparseReLUNetwork; for the class of a network "
                                        r"of yours .* rademacher_lower_estimate\(X, s, k, W, B\)"):
        empirical_rademacher(net, np.ones((3, 2)), 10)


@pytest.mark.parametrize("build", [
    lambda: cluster_construction(10**9, 4, 1, 1.0, 1.0),
    lambda: constant_construction(10**9, 4, 1, 1.0),
    lambda: cap_construction(10**9, 4, 1, 1.0, 1.0, 1.0),
    lambda: separated_directions(4, 10**9),
])
def test_constructions_check_the_budget_before_building_arrays(build, monkeypatch):
    """n = 10**9 built np.eye(q, n) or np.zeros((1, n)) (8 to 30 GB) before the budget
    check: a MemoryError from numpy, or the whole allocation with overcommit."""
    def refuse(*args, **kwargs):
        raise AssertionError("an array of the construction was built before the check")
    monkeypatch.setattr(np, "eye", refuse)
    monkeypatch.setattr(np, "zeros", refuse)
    with pytest.raises(MemoryBudgetError, match=r"R\^1000000000") as error:
        build()
    # None of them takes max_bytes=: the message must not ask for it.
    assert "pass a larger max_bytes" not in str(error.value)
    assert str(error.value).endswith("(this function takes no max_bytes=)")


def test_negative_zero_norms_print_as_zero():
    """bounds(W=-0.0, B=-0.0) printed "W=-0" and an envelope of "-0"."""
    result = bounds(4, 4, 2, -0.0, -0.0, 1.0, 10)
    assert math.copysign(1.0, result.W) == math.copysign(1.0, result.B) == 1.0
    assert math.copysign(1.0, result["envelope"].value) == 1.0
    assert "-0" not in str(result)


def test_bad_samples_raise():
    family = cluster_construction(3, 6, 2, 1.0, 1.0)
    with pytest.raises(ValueError, match="sample must be 2-D"):
        empirical_rademacher(family, np.ones(3), 10)
    with pytest.raises(ValueError, match="sample contains NaN"):
        empirical_rademacher(family, np.array([[1.0, np.nan, 0.0]]), 10)
    with pytest.raises(ValueError, match="sample must have 3 columns"):
        empirical_rademacher(family, np.ones((2, 4)), 10)
    with pytest.raises(ValueError, match="sample must be >= 1"):
        empirical_rademacher(family, 0, 10)
    with pytest.raises(ValueError, match="n_draws must be >= 2"):
        empirical_rademacher(family, 5, 1)
    with pytest.raises(TypeError, match="construction must be a SignFamily"):
        empirical_rademacher("clusters", 5, 10)
    # (1, 1, 0) activates two clusters: 4 > k = 2 units, so the family is not in the class.
    with pytest.raises(ValueError, match="not 2-sparse on sample: row 1 activates 4"):
        empirical_rademacher(family, np.array([[1.0, 0, 0], [1.0, 1.0, 0]]), 10)
    with pytest.raises(ValueError, match="theta must contain only the signs"):
        family.network([1.0, 0.5, -1.0])
    with pytest.raises(ValueError, match="theta must have length 3"):
        family.network([1.0, -1.0])
    with pytest.raises(ValueError, match="zeta must contain only the signs"):
        family.supremum([1.0, 0.0], family.support[:2])
    with pytest.raises(ValueError, match="X must be 2-D"):
        rademacher_lower_estimate(np.ones(3), 4, 2, 1.0, 1.0)
    with pytest.raises(ValueError, match="X contains NaN"):
        rademacher_lower_estimate(np.array([[np.inf, 1.0]]), 4, 2, 1.0, 1.0)
    with pytest.raises(ValueError, match="k=5 exceeds"):
        rademacher_lower_estimate(np.ones((3, 2)), 4, 5, 1.0, 1.0)


def test_sign_family_repr_and_types():
    family = cap_construction(4, 9, 2, 1.0, 1.0, 1.0)
    assert isinstance(family, SignFamily)
    assert "caps" in repr(family) and "q=4" in repr(family)
    assert isinstance(family.network(np.ones(4)), SparseReLUNetwork)
    assert family.sample(5, random_state=0).shape == (5, 4)
    with pytest.raises(ValueError):
        family.support[0, 0] = 2.0


# ------------------------------------------------------- lower estimate
@given(n=st.integers(1, 6), s=st.integers(1, 12), k=st.integers(1, 4),
       m=st.integers(1, 30), W=st.integers(1, 8).map(lambda v: v / 4),
       B=st.integers(0, 8).map(lambda v: v / 4), seed=st.integers(0, 2**16))
@settings(max_examples=30)
def test_certification_returns_a_member_of_the_class(n, s, k, m, W, B, seed):
    from sparselearn.rademacher import _certify
    from sparselearn.targets import random_network

    assume(k <= s)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    zeta = 1.0 - 2.0 * rng.integers(0, 2, size=m)
    dense = random_network(n, s, random_state=seed, bias_quantile=0.3)
    certified = _certify(dense, X, zeta, k, W, B)
    if certified is None:
        return
    assert certified.width == s
    assert certified.activation_counts(X).max() <= k
    W_h, B_h = certified.norm_bounds()
    assert W_h <= W and B_h <= B
    # Every kept unit is a (rescaled) unit of the reduced network, with positive
    # correlation contribution, so the certified correlation is positive.
    reduced = dense.reduced()
    kept = np.flatnonzero(certified.output_weights)
    for row in certified.weights[kept]:
        assert np.any(np.all(reduced.weights == row, axis=1))
    assert np.mean(zeta * certified(X)) > 0


def test_lower_estimate_on_cluster_sample_is_positive_and_below_upper_bounds():
    n, s, k, W, B, R, m = 8, 8, 2, 1.0, 0.0, 1.0, 16
    X = cluster_construction(n, s, k, W, R, m=m).sample(m, random_state=0)
    result = rademacher_lower_estimate(X, s, k, W, B, n_draws=4, random_state=1,
                                       n_restarts=2, max_epochs=60)
    again = rademacher_lower_estimate(X, s, k, W, B, n_draws=4, random_state=1,
                                      n_restarts=2, max_epochs=60)
    np.testing.assert_array_equal(result.values, again.values)
    # With B = 0 the constants give 0, so a positive value comes from a trained,
    # certified network; every certified network obeys the envelope k (W R + B).
    assert result.values.min() > 0
    assert result.values.max() <= k * (W * R + B) * (1 + 1e-12)
    assert result.estimate <= bounds(n, s, k, W, B, R, m).best_upper
    assert "lower estimate" in result.method and result.n_draws == 4


def test_lower_estimate_stays_honest_with_a_cheating_trainer(monkeypatch):
    # A trainer that returns a dense network far outside the norm bounds: after
    # certification every value must still obey |h(x)| <= k (W ||x|| + B).
    import sparselearn.erm

    class Cheater:
        def __init__(self, width, sparsity, **params):
            self.width = width

        def fit(self, X, y):
            weights = 50.0 * np.vstack([X, -X])[:self.width]
            self.network_ = SparseReLUNetwork(weights, -np.ones(self.width),
                                              20.0 * np.ones(self.width))
            return self

    monkeypatch.setattr(sparselearn.erm, "SparseReLURegressor", Cheater)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 3))
    s, k, W, B = 10, 2, 0.5, 0.25
    result = rademacher_lower_estimate(X, s, k, W, B, n_draws=6, random_state=0)
    envelope = k * (W * np.linalg.norm(X, axis=1).max() + B)
    assert result.values.max() <= envelope * (1 + 1e-12)


def test_lower_estimate_refuses_trainer_params_it_sets():
    with pytest.raises(TypeError, match="'loss'"):
        rademacher_lower_estimate(np.ones((3, 2)), 4, 2, 1.0, 1.0, loss="squared")
    with pytest.raises(ValueError, match="n_restarts must be >= 1"):
        rademacher_lower_estimate(np.ones((3, 2)), 4, 2, 1.0, 1.0, n_restarts=0)


@given(n=st.integers(1, 2000), s=st.integers(1, 2000), k=st.integers(1, 50),
       m=st.integers(1, 5000), W=st.floats(0, 10), B=st.floats(0, 10), R=st.floats(0.1, 10))
def test_no_valid_upper_bound_falls_below_a_valid_lower_bound(n, s, k, m, W, B, R):
    k = min(k, s)
    result = bounds(n=n, s=s, k=k, W=W, B=B, R=R, m=m)
    uppers = [row.value for row in result.rows if row.kind == "upper" and row.holds]
    lowers = [row.value for row in result.rows if row.kind == "lower" and row.holds]
    assert uppers and all(row.holds is None for row in result.rows
                          if row.name == "zero-bias ball")
    if lowers:
        assert max(lowers) <= min(uppers) * (1 + 1e-12)


def test_empirical_rademacher_memory_budget():
    """n_draws=10**9 allocated 8 GB of per-draw values without a budget."""
    from sparselearn import MemoryBudgetError

    construction = cluster_construction(4, 4, 2, 1.0, 1.0)
    with pytest.raises(MemoryBudgetError, match="n_draws=1000 sign draws .* 7.8 KiB"):
        empirical_rademacher(construction, 10, n_draws=1000, max_bytes=1024)
    with pytest.raises(MemoryBudgetError, match="n_draws=1000000000 .* needs about 7.5 GiB"):
        empirical_rademacher(construction, 10, n_draws=10**9)
    small = empirical_rademacher(construction, 10, n_draws=50, random_state=0,
                                 max_bytes=2**24)
    assert small.n_draws == 50
    with pytest.raises(MemoryBudgetError, match="20 draw values"):
        rademacher_lower_estimate(np.eye(3), 2, 1, 1.0, 1.0, max_bytes=16)


def test_sign_family_feeds_kernels_only_validated_copies():
    """The family's network owns its arrays and its support is read-only; a
    reshaped view of the support changes nothing the kernels see."""
    construction = cluster_construction(4, 4, 2, 1.0, 1.0)
    support = construction.support.view()
    support.shape = (support.size, 1)
    zeta = np.array([1.0, -1.0, 1.0, 1.0])
    X = construction.sample(4, random_state=0)
    value = construction.supremum(zeta, X)
    X.flags.writeable = True
    X[:] = np.nan
    assert construction.support.shape == (2, 4) and not construction.support.flags.writeable
    assert math.isfinite(value)
    with pytest.raises(ValueError, match="X contains NaN"):
        construction.supremum(zeta, X)


# ------------------------------------- docs/theory.rst, section 4, as the page states it
# The page's statements were only checked to be present (tests/test_docs.py).  Here the
# page's own text is read, each formula is implemented again from that text, and the
# library must agree: changing the page or the code alone fails.
THEORY_PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "theory.rst"


def _theory_section_4() -> str:
    text = THEORY_PAGE.read_text(encoding="utf-8")
    return text.split(".. _theory-4:", 1)[1].split(".. _theory-5:", 1)[0]


def _theory_table() -> dict:
    """``{bound name: formula}`` of the page's section-4 table, as written."""
    lines = _theory_section_4().split("=" * 32 + "  ", 1)[1].splitlines()
    rows = [line for line in lines[3:] if line and not line.startswith("=")]
    return {name: formula for name, formula, _ in
            (re.split(r"\s{2,}", row.strip()) for row in rows[:8])}


# The page's formulas (left) and this file's reading of them (right), with
# A = W R, q = min(floor(s/k), m), tau = sqrt(3)/2, a = min(A, B/tau),
# d_q = min(q, ceil(16 log(2q))) and rho_m from its definition (below).
THEORY_FORMULAS = {
    "envelope": (r":math:`k(A+B)`", lambda p: p.k * (p.A + p.B)),
    "dense (neuron-wise)": (r":math:`2s(A+B)/\sqrt m`",
                            lambda p: 2 * p.s * (p.A + p.B) / math.sqrt(p.m)),
    "sparse upper": (r":math:`CA\min\{k,\sqrt{sk/m}\log(2m)^{3/2}\}+kB\rho_m`",
                     lambda p: p.C * p.A * min(p.k, math.sqrt(p.s * p.k / p.m)
                                               * math.log(2 * p.m) ** 1.5)
                     + p.k * p.B * p.rho),
    "lower (i.i.d. marginal)": (
        r":math:`\frac1{4\sqrt2}(A\min\{k,\sqrt{sk/m}\}+kB/\sqrt m)`, needs "
        r":math:`n\ge q`",
        lambda p: (p.A * min(p.k, math.sqrt(p.s * p.k / p.m)) + p.k * p.B / math.sqrt(p.m))
        / (4 * math.sqrt(2))),
    "zero bias, whole ball": (r"at most :math:`\min(s,2k)` non-zero units; "
                              r":math:`4kA/\sqrt m`", lambda p: 4 * p.k * p.A / math.sqrt(p.m)),
    "caps on the whole ball": (
        r":math:`c_{cap}(a\min\{k,\sqrt{sk/m}\}+kB/\sqrt m)`, needs :math:`n\ge d_q`",
        lambda p: (1 - p.tau) / (4 * math.sqrt(2))
        * (p.a * min(p.k, math.sqrt(p.s * p.k / p.m)) + p.k * p.B / math.sqrt(p.m))),
    "ADKM Conjecture 20": (r"rate :math:`(A+B)\sqrt{sk/m}`",
                           lambda p: (p.A + p.B) * math.sqrt(p.s * p.k / p.m)),
}
# The page's row names and the library's.
LIBRARY_NAMES = {"dense (neuron-wise)": "dense", "lower (i.i.d. marginal)": "lower (Thm 3)",
                 "zero bias, whole ball": "zero-bias ball",
                 "caps on the whole ball": "caps lower (Thm 12)"}


def _rho_from_definition(m: int) -> Fraction:
    """rho_m = E|sum_i zeta_i| / m over the 2^m equally likely sign vectors, exactly."""
    return sum(Fraction(math.comb(m, x) * abs(2 * x - m)) for x in range(m + 1)) / (m * 2**m)


def test_theory_page_table_is_what_this_file_implements():
    table = _theory_table()
    assert {name: formula for name, (formula, _) in THEORY_FORMULAS.items()} == {
        name: table[name] for name in THEORY_FORMULAS}
    assert table["ADKM eq. (15)"] == (r"rate :math:`(A+B)\sqrt{snk\log(km(R+B))}/\sqrt m`, "
                                      "constant unknown")
    section = _theory_section_4()
    for definition in (r":math:`C=2C_0`",
                       r":math:`C_0=(6\sqrt{320}+6)/\log2+(1+36\sqrt{\log 2})/(\log2)^{3/2}`",
                       r":math:`q=\min(\lfloor s/k\rfloor, m)`",
                       r":math:`c_{cap}=(1-\tau)/(4\sqrt2)`", r":math:`\tau=\sqrt3/2`",
                       r":math:`a=\min(A,B/\tau)`",
                       r":math:`d_q=\min(q,\lceil16\log(2q)\rceil)`",
                       r":math:`1/\sqrt{3m}\le\rho_m\le1/\sqrt m`",
                       r"where :math:`U_m` is the smallest of the three" "\nupper bounds of Thm 2 "
                       "(envelope, dense and sparse upper"):
        assert definition in section, definition


def test_theory_page_bounds_on_a_grid():
    """Every row of bounds() against the page's formula implemented here, and
    U_m, best_lower and the conditions as the page defines them, on a grid
    of 1260 parameter sets; rho_m exact from its definition, which also lies
    between the page's 1/sqrt(3m) and 1/sqrt(m) (compared exactly, squared)."""
    import types

    C = 2 * ((6 * math.sqrt(320) + 6) / math.log(2)
             + (1 + 36 * math.sqrt(math.log(2))) / math.log(2) ** 1.5)
    tau = math.sqrt(3) / 2
    rhos = {m: _rho_from_definition(m) for m in (1, 2, 7, 64, 301)}
    for m, value in rhos.items():
        assert Fraction(1, 3 * m) <= value**2 <= Fraction(1, m)
    grid = itertools.product((1, 5, 40), (1, 6, 64), (1, 3, 6), (0.0, 0.5, 2.0),
                             (0.0, 1.0), (0.25, 3.0), rhos)
    checked = 0
    for n, s, k, W, B, R, m in grid:
        if k > s:
            continue
        q = min(s // k, m)
        p = types.SimpleNamespace(n=n, s=s, k=k, W=W, B=B, R=R, m=m, A=W * R, C=C, tau=tau,
                                  a=min(W * R, B / tau), rho=float(rhos[m]))
        result = bounds(n, s, k, W, B, R, m)
        for name, (_, formula) in THEORY_FORMULAS.items():
            assert result[LIBRARY_NAMES.get(name, name)].value == pytest.approx(
                formula(p), rel=1e-12, abs=1e-300), (name, n, s, k, W, B, R, m)
        d = min(q, math.ceil(16 * math.log(2 * q)))
        assert result.best_upper == pytest.approx(min(THEORY_FORMULAS[name][1](p) for name in (
            "envelope", "dense (neuron-wise)", "sparse upper")), rel=1e-12, abs=1e-300)
        lowers = [THEORY_FORMULAS[name][1](p) for name, ok in (
            ("lower (i.i.d. marginal)", n >= q), ("caps on the whole ball", n >= d)) if ok]
        assert result.best_lower == (pytest.approx(max(lowers), rel=1e-12, abs=1e-300)
                                     if lowers else None)
        checked += 1
    assert checked == 3 * 7 * 3 * 2 * 2 * 5  # n x (s, k <= s) x W x B x R x m


def test_theory_page_double_count_on_sparse_networks():
    """The page's key step: if unit j is active on t_j of the m sample points and
    at most k units on any point, then sum_j t_j <= k m and sum_j sqrt(t_j) <=
    sqrt(s k m).  Activity decided here in integer arithmetic (integer weights
    and biases, +-1 points), k the largest count: the library's max_active and
    per-unit counts t_j (from active_supports) must match, and the page's two
    inequalities then hold for them."""
    rng = np.random.default_rng(20261202)
    for _ in range(30):
        n, s, m = rng.integers(2, 9), rng.integers(1, 30), rng.integers(1, 60)
        weights = rng.integers(-3, 4, size=(s, n))
        biases = rng.integers(-2, 2 * n, size=s)
        X = 1 - 2 * rng.integers(0, 2, size=(m, n))
        active = (X @ weights.T - biases) > 0  # exact: small integers
        k = int(active.sum(axis=1).max())
        net = SparseReLUNetwork(weights.astype(float), biases.astype(float), np.ones(s))
        assert net.max_active(X.astype(float)) == k
        _, indices = net.active_supports(X.astype(float))
        t = np.bincount(indices, minlength=s)
        np.testing.assert_array_equal(t, active.sum(axis=0))
        assert t.sum() <= k * m
        assert np.sqrt(t).sum() <= math.sqrt(s * k * m) * (1 + 1e-12)


def test_theory_page_cluster_closed_form_lies_between_lower_and_upper_bounds():
    """The page's orthogonal clusters: inputs uniform on q = min(s/k, m) points,
    sup over the signs = (kA/m) sum_b |sum_i zeta_i 1{J_i = b}|, simulated here
    from that formula alone.  Its mean over fresh samples, E_S Rad_S, lies
    between the Thm 3 lower bound and U_m (Thm 2), and agrees with the
    library's estimate of the same family.  Each draw is in [0, kA], so by
    Hoeffding a mean of N draws misses its expectation by t = kA sqrt(log(2 /
    1e-6) / (2N)) with probability below 1e-6 per comparison (seeds fixed)."""
    n, s, k, W, R, B = 256, 256, 4, 1.0, 1.0, 0.0
    draws = 4000
    rng = np.random.default_rng(5)
    A = W * R
    t = k * A * math.sqrt(math.log(2 / 1e-6) / (2 * draws))
    for m in (1, 3, 16, 64, 256):
        q = min(s // k, m)
        J = rng.integers(0, q, size=(draws, m))
        zeta = 1 - 2 * rng.integers(0, 2, size=(draws, m))
        per_cluster = np.zeros((draws, q))
        np.add.at(per_cluster, (np.arange(draws)[:, None], J), zeta)
        values = k * A / m * np.abs(per_cluster).sum(axis=1)
        assert values.max() <= k * A
        result = bounds(n, s, k, W, B, R, m)
        assert result.conditions["n >= q"]
        assert result["lower (Thm 3)"].value - t <= values.mean() <= result.best_upper + t
        library = empirical_rademacher(cluster_construction(n, s, k, W, R, m=m), m,
                                       n_draws=draws, random_state=m)
        assert abs(library.estimate - values.mean()) <= 2 * t
    # At m = 1 one point, one cluster: the supremum is kA, the envelope, exactly.
    assert bounds(n, s, k, W, B, R, 1).best_upper == k * A


# ------------------------------------------------------- result interface
@pytest.mark.parametrize("W, B, R", [(1.0, 0.0, 1.0), (0.5, 0.5, 0.5), (0.0, 0.0, 0.1),
                                     (0.0, 0.0, 3.0)])
def test_adkm_rate_is_zero_where_its_expression_is(W, B, R):
    """(A + B) sqrt(snk log(km(R + B))) / sqrt(m) is 0 at k m (R + B) = 1 (log 1 = 0)
    and wherever A + B = 0 (the class is the zero function); it printed "undefined"
    (NaN, null in JSON) at the first and at the second when k m R < 1."""
    result = bounds(n=3, s=1, k=1, W=W, B=B, R=R, m=1)
    row = result["ADKM eq. (15)"]
    assert row.value == 0.0 and row.to_dict()["value"] == 0.0
    assert "ADKM eq. (15)        const x 0 " in str(result)


def test_rademacher_results_share_one_interface():
    import json

    pytest.importorskip("pandas")
    result = bounds(n=64, s=256, k=4, W=1.0, B=1.0, R=1.0, m=1000)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert [row["name"] for row in payload["rows"]] == [row.name for row in result.rows]
    assert payload["best_upper"] == result.best_upper
    assert payload["conditions"] == result.conditions
    frame = result.to_frame()
    assert frame["name"].tolist() == [row.name for row in result.rows]
    assert frame["value"].tolist() == [row.value for row in result.rows]
    assert "<strong>RademacherBounds</strong>" in result._repr_html_()
    assert "&gt;=" in result._repr_html_()  # conditions "n >= q" escaped
    row = result["envelope"]
    assert row.to_dict()["value"] == row.value == 8.0
    assert len(row.to_frame()) == 1 and "envelope = 8" in str(row)
    # An undefined rate (nan: the logarithm of k m (R + B) = 0.5) is None in JSON.
    undefined = bounds(n=1, s=1, k=1, W=1.0, B=0.0, R=0.5, m=1)["ADKM eq. (15)"]
    assert math.isnan(undefined.value) and undefined.to_dict()["value"] is None
    assert str(undefined).startswith("ADKM eq. (15) = undefined (rate;")

    family = cluster_construction(n=4, s=8, k=2, W=1.0, R=1.0)
    estimate = empirical_rademacher(family, 16, n_draws=50, random_state=0)
    data = json.loads(json.dumps(estimate.to_dict()))
    assert data["stderr"] == estimate.stderr and data["values"] == estimate.values.tolist()
    assert estimate.to_frame()["value"].tolist() == estimate.values.tolist()
    assert "standard error" in estimate._repr_html_() and "+-" in str(estimate)


def test_rademacher_results_have_a_one_line_repr_of_key_figures():
    """The dataclass reprs listed every row with its source and condition
    (bounds) and every per-draw value (estimates, pages for 10^4 draws)."""
    result = bounds(n=2**53, s=2**53, k=3, W=0.1234567890123456, B=1e-300, R=1.0 / 3,
                    m=2**53)
    text = repr(result)
    assert "\n" not in text and len(text) < 200 and "source" not in text
    assert text.startswith("RademacherBounds(n=9007199254740992, s=9007199254740992, k=3, "
                           "W=0.1234567890123456, B=1e-300, R=0.3333333333333333, ")
    assert text.endswith(f"best_upper={result.best_upper:.4g}, "
                         f"best_lower={result.best_lower:.4g})")
    assert repr(bounds(n=1, s=256, k=4, W=1.0, B=1.0, R=1.0, m=1000)).endswith(
        "best_upper=8, best_lower=None)")
    assert str(result).count("\n") > 8   # the table stays the str()
    family = cluster_construction(n=4, s=8, k=2, W=1.0, R=1.0)
    estimate = empirical_rademacher(family, 16, n_draws=10_000, random_state=0)
    text = repr(estimate)
    assert "\n" not in text and len(text) < 200
    assert text == (f"RademacherEstimate(estimate={estimate.estimate:.6g}, "
                    f"stderr={estimate.stderr:.2g}, n_draws=10000, m=16, method='exact "
                    "supremum over the clusters sign family, fresh sample per draw')")
    long = dataclasses.replace(estimate, method="lower estimate: " + "x" * 300)
    assert len(repr(long)) < 200 and repr(long).endswith("xxx...')")
    assert str(long).endswith("x" * 300)   # str() keeps the whole method


def test_standard_error_is_stderr_with_a_deprecated_alias():
    family = cluster_construction(n=4, s=8, k=2, W=1.0, R=1.0)
    estimate = empirical_rademacher(family, 16, n_draws=50, random_state=0)
    assert estimate.stderr == pytest.approx(estimate.values.std(ddof=1) / math.sqrt(50))
    with pytest.warns(FutureWarning, match=r"RademacherEstimate.standard_error is deprecated"):
        assert estimate.standard_error == estimate.stderr
