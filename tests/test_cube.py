"""Tests for sparselearn.cube: Gray-code walks and certified sparsity.

Every kernel result is compared with the brute-force NumPy twins in
sparselearn._reference.cube (which enumerate the cube by bit arithmetic and
dense products) or with the network's own forward pass on all points.
Weights are dyadic (tests/strategies.py) where float twins must agree bit for
bit; decimal, huge-integer and planted-tie weights are compared with exact
integer arithmetic (``strategies.exact_active``).
"""
import contextlib
import dataclasses
import os
import re
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (all_cube_points, dyadic_networks, exact_active, exact_values,
                        tie_networks)

from sparselearn import MemoryBudgetError, SparseReLUNetwork, cube
from sparselearn._reference import cube as ref
from sparselearn.targets import bump_network, junta_network, random_network


def _count_at(net, x):
    return int(net.activation_counts(np.asarray(x, dtype=np.float64)[None, :])[0])


def small_search():
    """Shrink the search constants so small cubes exercise every code path:
    several tasks, several batches, inner DFS levels and leaf walks."""
    return mock.patch.multiple(cube, _LEAF_BITS=2, _SPLIT_BITS=3, _BATCH_TASKS=3)


def small_chunks():
    """Short Gray chunks and small kernel calls: many chunks and batches."""
    return mock.patch.multiple(cube, _CHUNK_BITS=3, _BATCH_POINTS=2**5)


# ---------------------------------------------------------------- points

@pytest.mark.parametrize("n", [1, 2, 3, 7, 11])
def test_points_follow_the_index_convention(n):
    P = cube.points(n)
    assert P.shape == (2**n, n) and P.dtype == np.float64
    np.testing.assert_array_equal(P, ref.points(n))
    np.testing.assert_array_equal(P, all_cube_points(n))


@given(n=st.integers(1, 8), data=st.data())
def test_points_characters_are_popcount_parities(n, data):
    # chi_S(x(i)) = (-1)^popcount(i & S): the identity the Fourier code relies on.
    S = data.draw(st.integers(0, 2**n - 1))
    P = cube.points(n)
    chi = np.prod(P[:, [d for d in range(n) if S >> d & 1]], axis=1)
    parity = np.array([(-1) ** bin(i & S).count("1") for i in range(2**n)])
    np.testing.assert_array_equal(chi, parity)


@given(n=st.integers(1, 9), data=st.data())
def test_points_range_is_a_slice_of_the_cube(n, data):
    start = data.draw(st.integers(0, 2**n))
    stop = data.draw(st.integers(start, 2**n))
    P = cube.points(n, start, stop)
    assert P.shape == (stop - start, n) and P.dtype == np.float64
    np.testing.assert_array_equal(P, ref.points(n, start, stop))


def test_points_range_at_a_large_dimension():
    # Indices near 2^62: the range form never builds the 2^n table.
    n = 62
    P = cube.points(n, 2**62 - 3, 2**62)
    np.testing.assert_array_equal(P, ref.points(n, 2**62 - 3, 2**62))
    assert (P[-1] == -1.0).all()


@pytest.mark.parametrize("start, stop", [(-1, None), (3, 2), (0, 9), (9, None)])
def test_points_refuses_bad_ranges(start, stop):
    with pytest.raises(ValueError, match="start|stop"):
        cube.points(3, start, stop)


def test_uniform_points_are_fair_cube_points():
    X = cube.uniform_points(6, 20_000, random_state=3)
    assert X.shape == (20_000, 6) and X.dtype == np.float64
    assert set(np.unique(X)) == {-1.0, 1.0}
    # Each coordinate mean has standard deviation 1/sqrt(20000) ~ 0.0071;
    # 0.04 is 5.6 standard deviations: false alarm probability below 1e-7.
    assert np.abs(X.mean(axis=0)).max() < 0.04
    # Pairwise products too (independent coordinates).
    assert np.abs(np.triu(X.T @ X / 20_000, 1)).max() < 0.04
    np.testing.assert_array_equal(X, cube.uniform_points(6, 20_000, random_state=3))
    assert cube.uniform_points(4, 0, random_state=0).shape == (0, 4)
    with pytest.raises(MemoryBudgetError, match="max_bytes"):
        cube.uniform_points(10, 1000, max_bytes=1000)


# --------------------------------------------------- Gray-code walks

@given(net=dyadic_networks(n=st.integers(1, 14), s=st.integers(1, 12)))
def test_truth_table_equals_brute_force(net):
    table = cube.truth_table(net)
    W, b, u, c = net.weights, net.biases, net.output_weights, net.output_bias
    np.testing.assert_array_equal(table, ref.truth_table(W, b, u, c))
    np.testing.assert_array_equal(table, net(all_cube_points(net.n_features)))


@given(net=dyadic_networks(n=st.integers(1, 14), s=st.integers(1, 12)))
def test_activation_histogram_equals_brute_force(net):
    hist = cube.activation_histogram(net)
    assert hist.dtype == np.int64 and hist.shape == (net.width + 1,)
    np.testing.assert_array_equal(hist, ref.activation_histogram(net.weights, net.biases))
    counts = net.activation_counts(all_cube_points(net.n_features))
    np.testing.assert_array_equal(hist, np.bincount(counts, minlength=net.width + 1))


def test_weights_beyond_2_1000_are_decided_exactly_on_the_cube():
    """Weights and biases above 2^1000 (the range of the walks' float
    expansion sums) with exact cancellations down to a 2^-1000 term: the
    walks' near-ties go to the long accumulator of _exact.pxd (formerly
    Fractions).  Histogram, truth-table gating and certificate against exact
    integer arithmetic."""
    big = 2.0**1010
    W = np.array([[big, -big, big / 2, big / 2, 2.0**-1000],
                  [big, big, -big / 2, 0.0, 0.0],
                  [-big, big, big / 2, -big / 2, -2.0**-1000]])
    X = all_cube_points(5)
    for b in (np.zeros(3), np.array([big / 2, big * 1.5, -big]),
              np.array([2.0**-1000, -2.0**-1000, 5e-324])):
        net = SparseReLUNetwork(W, b, [1.0, 1.0, 1.0])
        counts = exact_active(X, W, b).sum(axis=1)
        np.testing.assert_array_equal(cube.activation_histogram(net),
                                      np.bincount(counts, minlength=4))
        np.testing.assert_array_equal(cube.truth_table(net)[counts == 0], 0.0)
        assert cube.certify_sparsity(net).max_active == counts.max()


@pytest.mark.parametrize("n", [40, 62])
def test_activation_histogram_refuses_walks_of_hours_before_starting(n):
    # 2^40 points x 16 units at the measured 1.2 ns of CPU time per unit
    # evaluation (cube._CPU_SECONDS_PER_EVALUATION's comment) is 2^44 x 1.2e-9
    # s = 5.86 hours of CPU time; at n = 62 the batches were built as a list
    # of 2^40 pairs before the first call.
    rng = np.random.default_rng(0)
    net = SparseReLUNetwork(rng.normal(size=(16, n)), rng.normal(size=16), np.ones(16))
    expected = {40: "5.86 hours", 62: f"{2.0**66 * 1.2e-9 / 3.15e7:.3g} years"}[n]
    with pytest.raises(ValueError, match=r"2\^%d points x 16 units = .* unit evaluations "
                       r"\(about %s of CPU time, half that on two idle cores\)"
                       % (n, re.escape(expected))) as info:
        cube.activation_histogram(net)
    assert "max_evaluations" in str(info.value) and "certify_sparsity" in str(info.value)
    bits, batches = cube._chunk_batches(n)
    first = next(batches)  # lazy: no list of every batch
    assert first == (0, cube._BATCH_POINTS >> bits)


def test_activation_histogram_max_evaluations():
    net = random_network(8, 4, random_state=0)
    full = ref.activation_histogram(net.weights, net.biases)
    np.testing.assert_array_equal(cube.activation_histogram(net, max_evaluations=2**8 * 4), full)
    np.testing.assert_array_equal(cube.activation_histogram(net, max_evaluations=None), full)
    with pytest.raises(ValueError, match="max_evaluations=1.02e"):
        cube.activation_histogram(net, max_evaluations=2**8 * 4 - 1)
    with pytest.raises(TypeError, match="max_evaluations"):
        cube.activation_histogram(net, max_evaluations="all")


@settings(max_examples=15)
@given(net=dyadic_networks(n=st.integers(4, 9), s=st.integers(1, 6)))
def test_walks_with_many_chunks_and_calls(net):
    with small_chunks():
        table, hist = cube.truth_table(net), cube.activation_histogram(net)
    np.testing.assert_array_equal(table, net(all_cube_points(net.n_features)))
    np.testing.assert_array_equal(hist, ref.activation_histogram(net.weights, net.biases))


def _mixed_magnitude_network(seed):
    # Weights from 2^60 down to 1e-3, scaled decimals: pre-activations cross
    # binades all along a walk, so a Gray walk's roundings do not cancel.
    rng = np.random.default_rng(seed)
    n, s = int(rng.integers(12, 15)), int(rng.integers(2, 8))
    magnitudes = np.array([2.0**60, 1e18, 3e17, 2.0**53 * 1.5, 1e15, 12345.6, 3.7, 0.1, 1e-3])
    W = rng.choice(magnitudes, size=(s, n)) * rng.choice([-1, 1], size=(s, n))
    W *= rng.integers(1, 10, size=(s, n)) / 10 * 3
    b = rng.choice(magnitudes, size=s) * rng.choice([-1, 1], size=s) * 0.1
    return SparseReLUNetwork(W, b, rng.integers(-99, 100, size=s) / 10.0, output_bias=0.3)


def _planted_huge_weight_networks():
    # One unit: decimal weights and 2^60 on the chunk's top bit (n = 12, one
    # chunk); the Gray walk drifted 167 u S (the bound below: 16 u S).
    w = [-165.1, 160.0, -1.4, -194.5, -111.8, 165.4, 135.1, 175.6, 3.8, 85.1, -116.8, 2.0**60]
    yield SparseReLUNetwork([w], [-115.2], [1.0])
    # Decimals with 2^60 and 1e18 planted, two units sharing 2^60 with
    # opposite output weights (h cancels: an absolute bound only).
    rng = np.random.default_rng(0)
    W = rng.integers(-999, 1000, size=(6, 14)) / 10.0
    W[0, 0] = W[1, 0] = 2.0**60
    W[2, 5], W[3, 13] = 1e18, -3.0 * 2**59
    u = rng.integers(-99, 100, size=6) / 10.0
    u[1] = -u[0]
    yield SparseReLUNetwork(W, rng.integers(-999, 1000, size=6) / 10.0, u, output_bias=0.3)
    yield _mixed_magnitude_network(2)   # n = 14, s = 3: the Gray walk drifted 54 u S
    yield _mixed_magnitude_network(10)


@pytest.mark.parametrize("net", list(_planted_huge_weight_networks()))
def test_truth_table_values_are_as_accurate_as_a_direct_evaluation(net):
    # truth_table's bound (n + s + 3) u S against the exact values of the
    # float64 parameters (u = 2^-53, S = sum_j |u_j| M_j + |c|), which a
    # direct evaluation (net.forward) meets in any summation order.  The
    # Gray walk truth_table used broke it by up to 10x (its roundings
    # accumulated over 4096 steps: 7.5-167 u S here); the table is within
    # 2.1 u S, as net.forward (1.4-1.9 u S).  No randomness: the table is
    # the same on every machine and kernel variant.
    n, s = net.n_features, net.width
    X = all_cube_points(n)
    exact = exact_values(X, net)
    M = np.abs(net.weights).sum(axis=1) + np.abs(net.biases)
    unit = 2.0**-53 * float(np.abs(net.output_weights) @ M + abs(net.output_bias))
    table = cube.truth_table(net)
    for values in (table, net.forward(X)):
        error = max(abs(Fraction(float(v)) - e) for v, e in zip(values, exact))
        assert error <= (n + s + 3) * unit
    assert max(abs(Fraction(float(v)) - e) for v, e in zip(table, exact)) <= 3 * unit


@pytest.mark.parametrize("seed", [2, 21, 58])
def test_truth_table_gating_on_near_ties_of_mixed_magnitudes(seed):
    # Weights from 2^60 to 1e-3 and biases planted at the float nearest
    # <w_j, x> at one point each (n = 13, 5, 7: several chunks, one chunk
    # shorter than the 2^6-row low table's block, one between): at some
    # planted point of each seed the table's float z_j is positive though
    # the exact one is not (checked with tol = 0 when this test was
    # written), so only the re-decision within truth_table's tolerance
    # (_walk_tolerance(..., 0)) gates it.  Every unit on its own (output
    # weight 1): zero exactly where exact_active says inactive.
    magnitudes = np.array([2.0**60, 1e18, 3e17, 2.0**53 * 1.5, 1e15, 12345.6, 3.7, 0.1,
                           1e-3, 0.3, 0.7])
    rng = np.random.default_rng(seed)
    n, s = int(rng.choice([5, 7, 13])), 4
    W = (rng.choice(magnitudes, (s, n)) * rng.choice([-1, 1], (s, n))
         * rng.integers(1, 10, (s, n)) / 10 * 3)
    X = all_cube_points(n)
    rows = rng.integers(0, 2**n, s)
    b = np.array([float(sum((Fraction(a) * Fraction(c) for a, c in zip(W[j], X[rows[j]])),
                            Fraction(0))) for j in range(s)])
    active = exact_active(X, W, b)
    for j in range(s):
        table = cube.truth_table(SparseReLUNetwork(W[j:j + 1], b[j:j + 1], [1.0]))
        np.testing.assert_array_equal(table[~active[:, j]], 0.0)
    table = cube.truth_table(SparseReLUNetwork(W, b, np.ones(s)))
    np.testing.assert_array_equal(table[~active.any(axis=1)], 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_walks_on_general_floats_agree_to_tolerance(seed):
    # Gaussian parameters: drift is bounded by (n + 2^12) u M_j (module notes).
    net = random_network(16, 24, random_state=seed, bias_quantile=0.7,
                         output_scale=3.0)
    X = all_cube_points(16)
    np.testing.assert_allclose(cube.truth_table(net), net(X), rtol=1e-12, atol=1e-12)
    # A pre-activation within ~1e-12 of 0 has probability ~1e-11 here, and
    # the seeds are fixed, so the counts agree exactly.
    np.testing.assert_array_equal(
        cube.activation_histogram(net),
        np.bincount(net.activation_counts(X), minlength=net.width + 1))


# ------------------------------------------------- certified sparsity

@given(net=dyadic_networks(n=st.integers(1, 14), s=st.integers(1, 12)))
def test_certified_sparsity_equals_brute_force(net):
    cert = cube.certify_sparsity(net)
    expected, _ = ref.max_active(net.weights, net.biases)
    assert cert.max_active == expected
    assert _count_at(net, cert.witness) == expected
    assert cert.initial_bound <= cert.max_active


@settings(max_examples=30)
@given(net=dyadic_networks(n=st.integers(1, 11), s=st.integers(1, 10)))
def test_certified_sparsity_with_split_search(net):
    with small_search():
        cert = cube.certify_sparsity(net)
    expected, _ = ref.max_active(net.weights, net.biases)
    assert cert.max_active == expected
    assert _count_at(net, cert.witness) == expected


@settings(max_examples=20)
@given(n=st.integers(5, 14), s=st.integers(4, 40), seed=st.integers(0, 2**16),
       quantile=st.sampled_from([0.5, 0.8, 0.95]))
def test_certified_sparsity_on_general_floats(n, s, seed, quantile):
    net = random_network(n, s, random_state=seed, bias_quantile=quantile)
    cert = cube.certify_sparsity(net)
    # Ties within rounding of 0 have probability ~1e-12 for Gaussian weights.
    assert cert.max_active == ref.max_active(net.weights, net.biases)[0]
    assert _count_at(net, cert.witness) == cert.max_active


@settings(max_examples=25)
@given(n=st.integers(2, 24), k=st.integers(1, 4), extra=st.integers(0, 30),
       radius=st.one_of(st.none(), st.integers(0, 5)), seed=st.integers(0, 2**16))
def test_bump_networks_are_certified_k_sparse(n, k, extra, radius, seed):
    assume(radius is None or 2 * radius < n)
    try:
        net = bump_network(n, k + extra, k, radius=radius, random_state=seed)
    except ValueError:
        assume(False)  # codewords this far apart do not exist for these sizes
    with small_search():
        cert = cube.certify_sparsity(net)
    # k-sparse by construction, and the planted point net.weights[0] has k.
    assert _count_at(net, net.weights[0]) == k
    assert cert.max_active == k
    assert _count_at(net, cert.witness) == k


@pytest.mark.parametrize("seed", [0, 1])
def test_bump_network_n40_is_certified_exactly(seed):
    # 2^40 points are out of reach; the branch and bound must exhaust the tree.
    net = bump_network(40, 64, 2, random_state=seed)
    cert = cube.certify_sparsity(net)
    assert cert.max_active == 2
    assert _count_at(net, cert.witness) == 2
    assert cert.n_nodes < 10**6  # a few thousand in practice; 2^40 points exist


@pytest.mark.parametrize("seed", [0, 1])
def test_branch_and_bound_alone_certifies_bump_n40(seed):
    # Without the pairwise reduction (which settles bump networks before any
    # branching), the subcube search itself must exhaust the n = 40 tree.
    net = bump_network(40, 64, 2, random_state=seed)
    everything = lambda weights, biases, tol, best, deadline=None: (  # noqa: E731
        np.arange(weights.shape[0]))
    with mock.patch.object(cube, "_pairwise_core", everything):
        cert = cube.certify_sparsity(net)
    assert cert.max_active == 2 and _count_at(net, cert.witness) == 2
    assert cert.n_candidate_units == 64 and 0 < cert.n_nodes < 10**6


@given(net=dyadic_networks(n=st.integers(1, 10), s=st.integers(1, 12)),
       best=st.integers(0, 6))
def test_pairwise_core_keeps_every_better_active_set(net, best):
    tol = 1e-12 * np.ones(net.width)
    core = set(cube._pairwise_core(net.weights, net.biases, tol, best).tolist())
    for active in net.pre_activations(all_cube_points(net.n_features)) > 0:
        if active.sum() > best:
            assert set(np.flatnonzero(active).tolist()) <= core


def test_rounding_slack_is_zero_exactly_when_arithmetic_is_exact():
    zero = cube._rounding_slack(np.array([[1.0, -0.375], [0.0, 5.0]]), np.array([0.5, -27.0]))
    np.testing.assert_array_equal(zero, [0.0, 0.0])
    # 0.1 is not dyadic with a small denominator; 2^-60 next to 1 needs 61 bits.
    for weights in ([[0.1, 1.0]], [[2.0**-60, 1.0]]):
        slack = cube._rounding_slack(np.array(weights), np.array([0.5]))
        assert slack[0] > 0.0
        bound = 2 * (2 + cube._cube.JOINT_MAX_UNITS + 1) * np.finfo(float).eps
        assert slack[0] == pytest.approx(bound * (np.abs(weights).sum() + 0.5))


@settings(max_examples=20)
@given(t=st.integers(1, 5), extra=st.integers(0, 12), data=st.data())
def test_junta_networks_are_certified_1_sparse(t, extra, data):
    n = t + extra
    coords = data.draw(st.permutations(range(n)))[:t]
    g = data.draw(st.lists(st.integers(-8, 8).map(lambda v: v / 4), min_size=2**t,
                           max_size=2**t))
    net = junta_network(np.array(g), coords, n)
    assert cube.certify_sparsity(net).max_active == 1
    if n <= 12:
        # One unit, of activation exactly 1, at every point.
        np.testing.assert_array_equal(cube.activation_histogram(net)[[0, 1]], [0, 2**n])
        P = cube.points(n)
        index = ((P[:, coords] < 0) << np.arange(t)).sum(axis=1)
        np.testing.assert_array_equal(cube.truth_table(net), np.array(g)[index])


@settings(max_examples=10)
@given(n=st.integers(15, 18), seed=st.integers(0, 2**16))
def test_certificate_agrees_with_histogram_and_samples(n, seed):
    # Two independent algorithms on sizes past the brute-force tests.
    net = random_network(n, 32, random_state=seed, bias_quantile=0.9)
    cert = cube.certify_sparsity(net)
    hist = cube.activation_histogram(net)
    assert cert.max_active == np.flatnonzero(hist)[-1]


def test_certificate_bounds_every_sample_at_large_n():
    # Bumps stretched by unequal coordinate scales and a lowered threshold:
    # general floats, unknown sparsity, n = 40 beyond brute force.  Samples
    # are codewords with 10% of bits flipped, where units are active.
    rng = np.random.default_rng(7)
    base = bump_network(40, 40, 3, random_state=3)
    scale = rng.uniform(0.5, 1.5, size=40)
    net = SparseReLUNetwork(base.weights * scale, base.biases * scale.mean() - 3.0,
                            base.output_weights)
    cert = cube.certify_sparsity(net)
    flips = rng.random((20000, 40)) < 0.1
    X = np.where(flips, -1.0, 1.0) * base.weights[rng.integers(0, 40, size=20000)]
    assert net.max_active(X) <= cert.max_active == _count_at(net, cert.witness)
    assert cert.max_active > cert.initial_bound  # the search, not the start, found it


def test_certificate_is_deterministic_and_frozen():
    # A search that improves on its start in several tasks and batches: the
    # batch schedule, not the thread timing, decides the witness.
    net = random_network(24, 32, random_state=5, bias_quantile=0.95)
    first, second = cube.certify_sparsity(net), cube.certify_sparsity(net)
    assert first.max_active == second.max_active > first.initial_bound
    np.testing.assert_array_equal(first.witness, second.witness)
    assert first.n_nodes == second.n_nodes > 0
    assert f"max_active={first.max_active}" in repr(first) and "witness_index" in repr(first)
    assert np.all(np.abs(first.witness) == 1.0) and first.witness.shape == (24,)
    expected = sum(1 << d for d in range(24) if first.witness[d] < 0)
    assert first.witness_index == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.max_active = 4
    with pytest.raises(ValueError):
        first.witness[0] = 1.0


def test_budgets_raise_instead_of_certifying():
    # A dense-ish random network at n = 48: far more than 100 subcubes or
    # 0.05 s of search are needed.
    net = random_network(48, 40, random_state=3, bias_quantile=0.99)
    with pytest.raises(cube.CertificationIncomplete, match="NOT certified") as info:
        cube.certify_sparsity(net, max_nodes=100)
    assert info.value.lower_bound == _count_at(net, info.value.witness) >= 1
    assert info.value.n_nodes >= 100
    with pytest.raises(cube.CertificationIncomplete, match="time_limit"):
        cube.certify_sparsity(net, time_limit=0.05)
    assert issubclass(cube.CertificationIncomplete, RuntimeError)


def _wide_trained_like_layer(s=1024, n=256):
    # Gaussian rows, zero biases: about s/2 units active at once, so the
    # O(s^2 n) pairing and every search node are expensive (as on a trained
    # s = 4096, n = 784 layer, where they took minutes).
    rng = np.random.default_rng(0)
    return SparseReLUNetwork(rng.normal(size=(s, n)), np.zeros(s), np.ones(s))


class _SteppingClock:
    """A stand-in for ``time.monotonic`` that advances one second per read
    and counts its reads (the search kernel keeps the real CLOCK_MONOTONIC,
    long past this clock's small deadlines)."""

    def __init__(self):
        self.reads = 0

    def monotonic(self):
        self.reads += 1
        return float(self.reads)


@pytest.mark.parametrize("domain", ["pm1", "01"])
def test_time_limit_holds_while_pairing_a_wide_layer(domain):
    # The pairing used to ignore time_limit (4-7 s in all on an s = 1024,
    # n = 256 layer with time_limit=0.05).  On a clock past the deadline from
    # its third read on, the starting points are counted in one block (no
    # read) and the pairing, which reads the clock before each of its s = 256
    # rows, stops at its second row: no subcube is searched, and the clock
    # is read at most 5 times in all (a full pairing: over 256).
    net = _wide_trained_like_layer(s=256, n=64)
    clock = _SteppingClock()
    with mock.patch.object(cube, "time", clock), mock.patch.object(cube, "_INITIAL_WORK", 2**40), \
            pytest.raises(cube.CertificationIncomplete, match="time_limit") as info:
        cube.certify_sparsity(net, time_limit=1.5, domain=domain)
    assert info.value.n_nodes == 0 and clock.reads <= 5
    assert "while pairing" in str(info.value)
    assert (domain == "01") == str(info.value).startswith("certify_sparsity on {0,1}^n")
    assert info.value.lower_bound == _count_at(net, info.value.witness) > 0


def test_time_limit_stops_the_search_at_its_first_node():
    # With the deadline already past when the search starts, each task reads
    # the clock at its first node and stops there (it used to read it every
    # 1024 nodes: seconds of overrun on a wide layer).
    net = _wide_trained_like_layer(s=256, n=64)
    everything = lambda weights, biases, tol, best, deadline=None: np.arange(256)  # noqa: E731
    with mock.patch.object(cube, "_pairwise_core", everything), \
            pytest.raises(cube.CertificationIncomplete, match="time_limit") as info:
        cube.certify_sparsity(net, time_limit=1e-9)
    assert info.value.n_nodes == cube._BATCH_TASKS


def test_time_limit_holds_while_counting_the_starting_points():
    # The starting points sign(w_j) are counted in doubling blocks with the
    # clock read between them (on an s = 4096, n = 784 layer their one count
    # took a second before the first check).  Blocks of one point here: with
    # the deadline past, only sign(w_0) is counted.
    rng = np.random.default_rng(1)
    W, b = rng.integers(-9, 10, size=(40, 12)) * 0.1, rng.integers(-5, 10, size=40) * 0.1
    net = SparseReLUNetwork(W, b, np.ones(40))
    calls = []
    counts = SparseReLUNetwork._activation_counts
    with mock.patch.object(cube, "_INITIAL_WORK", 1), \
            mock.patch.object(SparseReLUNetwork, "_activation_counts",
                              lambda self, X: calls.append(len(X)) or counts(self, X)), \
            pytest.raises(cube.CertificationIncomplete, match="starting points") as info:
        cube.certify_sparsity(net, time_limit=1e-9)
    first = np.where(W[0] >= 0.0, 1.0, -1.0)
    assert calls == [1] and info.value.n_nodes == 0
    np.testing.assert_array_equal(info.value.witness, first)
    assert info.value.lower_bound == int(exact_active(first[None, :], W, b).sum())


@settings(max_examples=40, deadline=None)
@given(tie_networks(n=st.integers(1, 8), s=st.integers(1, 12)),
       st.sampled_from([1, 20, 2**40]))
def test_starting_points_in_blocks_are_the_best_sign_row(net, work):
    # Any block sizes give the best exact count among the rows sign(w_j) and
    # its first row, as one count of all of them; the slack from the
    # network's valuation equals the one computed from the parameters.
    signs = np.where(net.weights >= 0.0, 1.0, -1.0)
    exact = exact_active(signs, net.weights, net.biases).sum(axis=1)
    with mock.patch.object(cube, "_INITIAL_WORK", work):
        best, witness, complete = cube._initial_bound(net)
    assert complete and best == exact.max()
    np.testing.assert_array_equal(witness, signs[np.argmax(exact)])
    np.testing.assert_array_equal(cube._rounding_slack(net.weights, net.biases, net._valuation),
                                  cube._rounding_slack(net.weights, net.biases))


def test_unit_that_can_never_be_active_is_pruned():
    # Unit 1 needs <w, x> > 3 with |w|_1 = 2: never active.  Unit 0 reaches
    # pre-activation exactly 0 at (1, 1), which is inactive.  Only unit 2 is
    # ever active, at (1, -1) alone.
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, 1.0], [1.0, -1.0]], [2.0, 3.0, 0.0],
                            [1.0, 1.0, 1.0])
    cert = cube.certify_sparsity(net)
    assert cert.max_active == 1 and cert.witness.tolist() == [1.0, -1.0]
    np.testing.assert_array_equal(cube.activation_histogram(net), [3, 1, 0, 0])


# ------------------------------------------------------------ bad input

@pytest.mark.parametrize("func", [cube.truth_table, cube.activation_histogram,
                                  cube.certify_sparsity])
@pytest.mark.parametrize("bad", [None, np.ones((3, 2)), "net"])
def test_non_networks_are_refused(func, bad):
    with pytest.raises(TypeError, match="SparseReLUNetwork"):
        func(bad)


@pytest.mark.parametrize("n, error", [(0, ValueError), (-3, ValueError),
                                      (2.0, TypeError), (True, TypeError)])
def test_points_refuses_bad_dimension(n, error):
    with pytest.raises(error, match="n"):
        cube.points(n)


def test_large_cubes_are_refused_with_the_figure():
    with pytest.raises(MemoryBudgetError, match="8.0 TiB"):
        cube.points(36)
    with pytest.raises(MemoryBudgetError, match="max_bytes"):
        cube.points(10, max_bytes=1000)
    wide = SparseReLUNetwork(np.ones((1, 40)), [0.0], [1.0])
    with pytest.raises(MemoryBudgetError, match=r"8\.0 TiB"):
        cube.truth_table(wide)
    with pytest.raises(MemoryBudgetError, match="128.0 KiB"):
        cube.truth_table(SparseReLUNetwork(np.ones((1, 14)), [0.0], [1.0]), max_bytes=1024)
    huge = SparseReLUNetwork(np.ones((1, 63)), [0.0], [1.0])
    with pytest.raises(MemoryBudgetError, match="2\\^63"):
        cube.activation_histogram(huge)


@pytest.mark.parametrize("domain", ["pm1", "01"])
def test_certify_sparsity_memory_budget_is_the_callers(domain):
    # The refusal said "pass a larger max_bytes=", which certify_sparsity did
    # not take; on few inputs it now also names the exhaustive alternative.
    net = random_network(6, 40, random_state=0)
    with pytest.raises(MemoryBudgetError, match=r"workspace \(n=6, s=40.*max_bytes=.*"
                                                r"domain=cube.points\(n\)"):
        cube.certify_sparsity(net, domain=domain, max_bytes=1024)
    points = cube.points(6) if domain == "pm1" else (1.0 - cube.points(6)) / 2.0
    expected = int(net.activation_counts(points).max())
    assert cube.certify_sparsity(net, domain=domain, max_bytes=2**30).max_active == expected
    assert cube.certify_sparsity(net, domain=points).max_active == expected


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_nodes": 0}, ValueError, "max_nodes"),
    ({"max_nodes": 1.5}, TypeError, "max_nodes"),
    ({"time_limit": 0.0}, ValueError, "time_limit"),
    ({"time_limit": float("nan")}, ValueError, "time_limit"),
    ({"time_limit": "1"}, TypeError, "time_limit"),
])
def test_certify_refuses_bad_budgets(kwargs, error, match):
    net = bump_network(8, 4, 2, random_state=0)
    with pytest.raises(error, match=match):
        cube.certify_sparsity(net, **kwargs)


# ------------------------------------------------------------ exact decisions
def test_issue_examples_are_certified_exactly():
    # Decimal weights whose float sums land on the wrong side of 0: the old
    # certificate said 2 with a witness of count 0, and 1 below a true 2.
    net = SparseReLUNetwork([[0.1, 0.7, -0.7, -0.1], [-0.3, -0.7, 0.7, 0.3]], [0, 0], [1, 1])
    cert = cube.certify_sparsity(net)
    truth = exact_active(all_cube_points(4), net.weights, net.biases).sum(axis=1).max()
    assert cert.max_active == truth == 1
    assert _count_at(net, cert.witness) == 1
    net = SparseReLUNetwork([[0.1 + 0.2, -0.2, 0.1], [-0.2, 0.2, -0.3]], [0, 0], [1, 1])
    assert cube.certify_sparsity(net).max_active == 2


@settings(max_examples=40, deadline=None)
@given(tie_networks(n=st.integers(1, 9)), st.booleans())
def test_walks_and_certificate_agree_with_exact_arithmetic(net, small):
    """Histogram, truth-table gating and the certificate (maximum and
    witness) equal the exact integer-arithmetic decisions; ``small`` shrinks
    the chunk and search constants so every walk and search path runs."""
    X = all_cube_points(net.n_features)
    active = exact_active(X, net.weights, net.biases)
    counts = active.sum(axis=1)
    with contextlib.ExitStack() as stack:
        if small:
            stack.enter_context(small_chunks())
            stack.enter_context(small_search())
        hist = cube.activation_histogram(net)
        table = cube.truth_table(net)
        cert = cube.certify_sparsity(net)
    np.testing.assert_array_equal(hist, np.bincount(counts, minlength=net.width + 1))
    assert cert.max_active == counts.max()
    witness = int(cert.witness_index)
    assert counts[witness] == cert.max_active
    np.testing.assert_array_equal(table[counts == 0], net.output_bias)
    Z = X @ net.weights.T - net.biases
    expected = np.where(active, np.maximum(Z, 0.0), 0.0) @ net.output_weights + net.output_bias
    # Values agree to rounding, which is relative to |X| |W|^T + |b|, not |Z|.
    magnitude = np.abs(X) @ np.abs(net.weights).T + np.abs(net.biases)
    scale = magnitude @ np.abs(net.output_weights) + abs(net.output_bias) + 1.0
    assert np.all(np.abs(table - expected) <= 1e-12 * scale)


def test_certificate_is_never_below_the_truth_on_decimal_networks():
    """1,500-network sweep of issue 9, scaled down: weights from
    +-{0.1, 0.2, 0.3, 0.7}; every certificate equals the exact maximum and
    its witness attains it (deterministic seed)."""
    rng = np.random.default_rng(9)
    for _ in range(150):
        n, s = int(rng.integers(2, 11)), int(rng.integers(1, 9))
        W = rng.choice([-0.7, -0.3, -0.2, -0.1, 0.1, 0.2, 0.3, 0.7], size=(s, n))
        b = rng.choice([0.0, 0.1, -0.1, 0.2, 0.3], size=s)
        net = SparseReLUNetwork(W, b, np.ones(s))
        counts = exact_active(all_cube_points(n), W, b).sum(axis=1)
        cert = cube.certify_sparsity(net)
        assert cert.max_active == counts.max()
        assert counts[cert.witness_index] == cert.max_active
        np.testing.assert_array_equal(cube.activation_histogram(net),
                                      np.bincount(counts, minlength=s + 1))


def test_walk_tolerance_is_zero_exactly_for_exact_walks():
    dyadic = SparseReLUNetwork([[0.5, -0.25], [3.0, 1.0]], [0.125, 0.0], [1.0, 1.0])
    assert not cube._walk_tolerance(dyadic.weights, dyadic.biases, 2**12).any()
    decimal_net = SparseReLUNetwork([[0.1, 0.2]], [0.3], [1.0])
    assert cube._walk_tolerance(decimal_net.weights, decimal_net.biases, 2**12)[0] > 0
    # 2^53 + 2 needs all 53 bits: 3 M > 2^53 leaves the exact range.
    big = SparseReLUNetwork([[2.0**53, 2.0]], [0.0], [1.0])
    assert cube._walk_tolerance(big.weights, big.biases, 1)[0] > 0


def test_truth_table_of_a_multi_output_network_needs_output():
    rng = np.random.default_rng(5)
    W, b = rng.integers(-3, 4, size=(6, 4)) / 4.0, rng.integers(-3, 4, size=6) / 4.0
    U, c = rng.integers(-3, 4, size=(6, 3)) / 4.0, np.array([0.5, -1.0, 0.25])
    net = SparseReLUNetwork(W, b, U, c)
    X = 1.0 - 2.0 * ((np.arange(16)[:, None] >> np.arange(4)) & 1)
    for t in range(3):
        expected = np.maximum(X @ W.T - b, 0.0) @ U[:, t] + c[t]
        np.testing.assert_array_equal(cube.truth_table(net, output=t), expected)
    with pytest.raises(ValueError, match="3 outputs: pass output=t"):
        cube.truth_table(net)
    with pytest.raises(ValueError, match="output"):
        cube.truth_table(SparseReLUNetwork(W, b, U[:, 0]), output=1)
    # The hidden layer alone decides the histogram: same as any one output.
    np.testing.assert_array_equal(cube.activation_histogram(net),
                                  cube.activation_histogram(net.select_output(0)))


# ------------------------------------------------- certificates on other domains
def _zero_one_points(n):
    return (1.0 - all_cube_points(n)) / 2.0


@settings(max_examples=60, deadline=None)
@given(st.one_of(tie_networks(n=st.integers(1, 7)), dyadic_networks(n=st.integers(1, 7))))
def test_certify_on_the_zero_one_cube_equals_brute_force(net):
    # Decimal and planted-tie weights: the transformed thresholds 2b - sum(w)
    # round, and the exact answer must survive that.
    P = _zero_one_points(net.n_features)
    truth = int(exact_active(P, net.weights, net.biases).sum(axis=1).max())
    cert = cube.certify_sparsity(net, domain="01")
    assert cert.max_active == truth and cert.domain == "01"
    assert set(np.unique(cert.witness)) <= {0.0, 1.0}
    assert int(exact_active(cert.witness[None, :], net.weights, net.biases).sum()) == truth
    np.testing.assert_array_equal(P[cert.witness_index], cert.witness)


@settings(max_examples=30, deadline=None)
@given(st.one_of(tie_networks(n=st.integers(1, 7)), dyadic_networks(n=st.integers(1, 7))))
def test_zero_one_thresholds_bracket_the_exact_threshold(net):
    # tau_j = 2 b_j - sum_d w_jd exactly (Fractions); low = high = tau_j
    # exactly when tau_j is a float64, else floats strictly around it.
    from fractions import Fraction
    low, high, exact = cube._zero_one_thresholds(net)
    all_exact = True
    for j in range(net.width):
        tau = 2 * Fraction(float(net.biases[j])) - sum(map(Fraction, net.weights[j].tolist()))
        if Fraction(float(tau)) == tau:
            assert low[j] == high[j] == float(tau)
        else:
            all_exact = False
            assert Fraction(low[j]) < tau < Fraction(high[j])
    assert exact == all_exact


def test_zero_one_cube_differs_from_the_pm1_cube():
    # relu(-x_0 - x_1 - 1.5) is active at (-1, -1) but nowhere on {0,1}^2;
    # relu(x_0 - 0.5) is never active on {-1,1}^2 at x_0 = -1 but is at x_0 = 1.
    net = SparseReLUNetwork([[-1.0, -1.0]], [1.5], [1.0])
    assert cube.certify_sparsity(net).max_active == 1
    cert = cube.certify_sparsity(net, domain="01")
    assert cert.max_active == 0
    both = SparseReLUNetwork([[-1.0, -1.0], [1.0, 0.0]], [1.5, 0.5], [1.0, 1.0])
    assert cube.certify_sparsity(both).max_active == 1      # never together on +-1
    assert cube.certify_sparsity(both, domain="01").max_active == 1


@settings(max_examples=30, deadline=None)
@given(tie_networks(), st.data())
def test_certify_on_a_point_set_is_the_exact_maximum(net, data):
    X = data.draw(st.lists(st.lists(st.sampled_from([-1.0, 0.0, 0.1, 1.0, 1 / 3]),
                                    min_size=net.n_features, max_size=net.n_features),
                           min_size=1, max_size=20).map(np.array))
    counts = exact_active(X, net.weights, net.biases).sum(axis=1)
    cert = cube.certify_sparsity(net, domain=X)
    assert cert.max_active == counts.max() and cert.domain == "points"
    assert any(np.array_equal(cert.witness, row) for row in X[counts == counts.max()])
    with pytest.raises(ValueError, match="witness_index"):
        cert.witness_index
    assert "domain='points'" in repr(cert)


def test_certify_refuses_an_unknown_domain():
    net = SparseReLUNetwork([[1.0]], [0.0], [1.0])
    with pytest.raises(ValueError, match="domain must be 'pm1', '01'"):
        cube.certify_sparsity(net, domain="box")
    with pytest.raises(ValueError, match="domain"):
        cube.certify_sparsity(net, domain=np.zeros((2, 3)))


@pytest.mark.parametrize("method", ["bnb", "milp"])
@pytest.mark.parametrize("seed", range(12))
def test_certify_on_a_box_against_dense_sampling_and_lp_witnesses(seed, method):
    # Gaussian networks on n <= 4: a 25^n grid plus 20000 uniform points
    # never find more active units than the certificate, and its witness
    # lies in the box with exactly max_active (exactly decided) active units.
    rng = np.random.default_rng(seed)
    n, s = int(rng.integers(1, 5)), int(rng.integers(1, 7))
    net = SparseReLUNetwork(rng.normal(size=(s, n)), rng.normal(size=s), np.ones(s))
    lo = rng.uniform(-2.0, 0.0, size=n)
    hi = lo + rng.uniform(0.0, 3.0, size=n)
    cert = cube.certify_sparsity(net, domain=cube.Box(lo, hi), method=method)
    assert cert.domain == "box" and cert.lp_tolerance == 1e-6 and cert.method == method
    grid = np.stack(np.meshgrid(*[np.linspace(a, c, 25) for a, c in zip(lo, hi)]),
                    -1).reshape(-1, n)
    sample = lo + (hi - lo) * rng.random((20000, n))
    assert net.activation_counts(np.vstack([grid, sample])).max() <= cert.max_active
    assert np.all(cert.witness >= lo) and np.all(cert.witness <= hi)
    assert int(exact_active(cert.witness[None, :], net.weights, net.biases).sum()) \
        == cert.max_active


def test_certify_on_a_box_differs_from_the_cube():
    # On [0, 16]^2 both units are active at (16, 16); on {-1,1}^2 neither
    # can be (x_0 + x_1 <= 2 < 3).
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, 0.0]], [3.0, 3.0], [1.0, 1.0])
    assert cube.certify_sparsity(net).max_active == 0
    cert = cube.certify_sparsity(net, domain=cube.Box(0.0, 16.0))
    assert cert.max_active == 2
    with pytest.raises(ValueError, match="lo <= hi"):
        cube.Box([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="n_features=2"):
        cube.certify_sparsity(net, domain=cube.Box(np.zeros(3), np.ones(3)))
    with pytest.raises(ValueError, match="witness_index"):
        cert.witness_index


def _strictly_feasible(units, weights, biases, lo, hi) -> bool:
    """Is there x in the box with <w_j, x> > b_j for every j in ``units``?

    Exact Fourier-Motzkin elimination over the rationals (independent of
    the LP the library uses).  A constraint ``(a, c, strict)`` reads
    ``<a, x> < c`` (strict) or ``<a, x> <= c``; eliminating ``x_d`` pairs
    every upper bound on it with every lower bound (the combination is strict
    when either is), which preserves feasibility exactly.
    """
    from fractions import Fraction
    n = len(lo)
    rows = set()
    for j in units:
        rows.add((tuple(-Fraction(float(v)) for v in weights[j]), -Fraction(float(biases[j])),
                  True))
    for d in range(n):
        e = tuple(Fraction(int(i == d)) for i in range(n))
        rows.add((e, Fraction(float(hi[d])), False))
        rows.add((tuple(-v for v in e), -Fraction(float(lo[d])), False))
    for d in range(n):
        upper = [r for r in rows if r[0][d] > 0]
        lower = [r for r in rows if r[0][d] < 0]
        rest = {r for r in rows if r[0][d] == 0}
        for a1, c1, s1 in upper:
            for a2, c2, s2 in lower:
                f1, f2 = 1 / a1[d], -1 / a2[d]
                a = tuple(f1 * x + f2 * y for x, y in zip(a1, a2))
                rest.add((a, f1 * c1 + f2 * c2, s1 or s2))
        rows = rest
    return all(c > 0 if strict else c >= 0 for _, c, strict in rows)


@pytest.mark.parametrize("method", ["bnb", "milp"])
@pytest.mark.parametrize("seed", range(10))
def test_certify_on_a_box_equals_exact_enumeration_of_active_sets(seed, method):
    # Exact brute force: the largest set of units with a common point of
    # the box where all are strictly active, every one of the 2^s sets
    # decided by exact rational Fourier-Motzkin elimination (n <= 4, s <= 6).
    # The certificate's LP may miss only sets whose best relative margin
    # max_x min_j (<w_j, x> - b_j) / M_j is below lp_tolerance = 1e-6.  Here
    # weights, biases and bounds are small integers and halves: over these
    # seeds every feasible set has an absolute margin of at least 0.088
    # (measured once with an LP), relative >= 0.088 / 30 >> 1e-6, so the
    # certificate must equal the exact maximum.  Some boxes are degenerate
    # (lo_d = hi_d), which the certificate must handle too.
    from itertools import combinations
    rng = np.random.default_rng(100 + seed)
    n, s = int(rng.integers(1, 5)), int(rng.integers(2, 7))
    weights = rng.integers(-3, 4, size=(s, n)).astype(float)
    biases = rng.integers(-6, 7, size=s) / 2.0
    lo = rng.integers(-2, 1, size=n).astype(float)
    hi = lo + rng.integers(0, 3, size=n)
    net = SparseReLUNetwork(weights, biases, np.ones(s))
    best = max(len(S) for size in range(s + 1) for S in combinations(range(s), size)
               if _strictly_feasible(S, weights, biases, lo, hi))
    cert = cube.certify_sparsity(net, domain=cube.Box(lo, hi), method=method)
    assert cert.max_active == best
    assert np.all(cert.witness >= lo) and np.all(cert.witness <= hi)
    assert int(exact_active(cert.witness[None, :], weights, biases).sum()) == best


def test_exact_enumeration_decides_strict_and_degenerate_boxes():
    # Hand-checked cases of the brute force above: x > 1 on [0, 1] is
    # infeasible (only >= holds at x = 1), x > 1 on [0, 2] is feasible,
    # x + y > 1 and -x - y > -1 together are never feasible, and on a
    # degenerate box [1, 1] x [0, 0] the point is fixed.
    w = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    b = np.array([1.0, 1.0, -1.0])
    assert not _strictly_feasible([0], w, b, [0.0, 0.0], [1.0, 1.0])
    assert _strictly_feasible([0], w, b, [0.0, 0.0], [2.0, 1.0])
    assert not _strictly_feasible([1, 2], w, b, [-5.0, -5.0], [5.0, 5.0])
    assert _strictly_feasible([1], w, b, [-5.0, -5.0], [5.0, 5.0])
    assert not _strictly_feasible([0], w, b, [1.0, 0.0], [1.0, 0.0])
    net = SparseReLUNetwork(w, b, np.ones(3))
    assert cube.certify_sparsity(net, domain=cube.Box([0.0, 0.0], [1.0, 1.0])).max_active == 1


@pytest.mark.parametrize("method", ["bnb", "milp"])
@pytest.mark.parametrize("seed", range(6))
def test_certify_on_a_box_equals_lp_verified_enumeration_at_n_5_and_6(seed, method):
    # Fourier-Motzkin is too slow at n = 6, so each of the 2^s sets S is
    # decided by an LP independent of the library's (unnormalised: maximise
    # t with <w_j, x> - b_j >= t on S, x in the box).  A set counts as
    # feasible only when t* > 0 AND the LP's point is strictly active on all
    # of S in exact integer arithmetic (an exact proof of feasibility).
    # Infeasibility rests on t* <= 0; with small integer and half-integer
    # data t* is a vertex value with a small denominator, and a set with
    # |t*| < 1e-6 (t* = 0: the units can only reach their thresholds
    # together, as happens for some seeds) is decided by the exact
    # Fourier-Motzkin elimination above instead.
    from itertools import combinations

    from scipy.optimize import linprog
    rng = np.random.default_rng(200 + seed)
    n, s = 5 + seed % 2, int(rng.integers(4, 8))
    weights = rng.integers(-3, 4, size=(s, n)).astype(float)
    biases = rng.integers(-6, 7, size=s) / 2.0
    lo = rng.integers(-2, 1, size=n).astype(float)
    hi = lo + rng.integers(0, 3, size=n)
    best = 0
    for size in range(1, s + 1):
        for S in map(list, combinations(range(s), size)):
            A = np.hstack([-weights[S], np.ones((size, 1))])
            res = linprog(np.r_[np.zeros(n), -1.0], A_ub=A, b_ub=-biases[S],
                          bounds=list(zip(lo, hi)) + [(None, None)], method="highs")
            assert res.status == 0
            t = -res.fun
            if abs(t) < 1e-6:
                if _strictly_feasible(S, weights, biases, lo, hi):
                    best = max(best, size)
            elif t > 0:
                x = np.clip(res.x[:n], lo, hi)
                assert exact_active(x[None, :], weights[S], biases[S]).all()
                best = max(best, size)
    cert = cube.certify_sparsity(SparseReLUNetwork(weights, biases, np.ones(s)),
                                 domain=cube.Box(lo, hi), method=method)
    assert cert.max_active == best
    assert int(exact_active(cert.witness[None, :], weights, biases).sum()) == best


@pytest.mark.parametrize("seed", range(4))
def test_box_conflicts_are_the_pairs_an_lp_finds_infeasible(seed):
    # The MILP's pair cuts a_j + a_l <= 1 come from interval arithmetic
    # (minimax over lambda); an independent LP (maximise t with
    # z_j, z_l >= t on the box) must put exactly those pairs below tau.
    # Gaussian data: no pair's LP optimum lies within 1e-9 of tau (checked
    # below), so the two decisions cannot differ by rounding.
    from scipy.optimize import linprog
    rng = np.random.default_rng(300 + seed)
    n, s = 6, 12
    W = rng.normal(size=(s, n))
    b = rng.normal(size=s) * 4.0
    lo, hi = np.zeros(n), np.full(n, 3.0)
    scale = np.abs(W).sum(axis=1) * 3.0 + np.abs(b)
    Wn, bn = W / scale[:, None], b / scale
    tau = 1e-6
    found = set(cube._box_conflicts(Wn, bn, lo, hi, tau))
    expected = set()
    for j in range(s):
        for l in range(j + 1, s):
            res = linprog(np.r_[np.zeros(n), -1.0],
                          A_ub=np.hstack([-Wn[[j, l]], np.ones((2, 1))]), b_ub=-bn[[j, l]],
                          bounds=list(zip(lo, hi)) + [(None, None)], method="highs")
            assert res.status == 0 and abs(-res.fun - tau) > 1e-9
            if -res.fun < tau:
                expected.add((j, l))
    assert found == expected and 0 < len(found) < s * (s - 1) // 2


def test_certify_box_milp_reports_both_bounds_when_stopped():
    # A budget of one HiGHS node on a network where the root does not
    # settle the problem: CertificationIncomplete carries an exactly
    # counted lower bound and HiGHS's dual bound, and they bracket the
    # value the unstopped MILP and the branch and bound both certify.
    rng = np.random.default_rng(1)
    n, s = 8, 16   # HiGHS needs 15 nodes for this one (scipy 1.17)
    W = rng.normal(size=(s, n))
    b = np.quantile(rng.uniform(0.0, 16.0, size=(4096, n)) @ W.T, 0.8, axis=0)
    net = SparseReLUNetwork(W, b, np.ones(s))
    box = cube.Box(0.0, 16.0)
    cert = cube.certify_sparsity(net, domain=box, method="milp")
    assert cert.max_active == cube.certify_sparsity(net, domain=box).max_active
    assert cert.mip_tolerances == {"mip_rel_gap": 0.0, "primal_feasibility_tolerance": 1e-7,
                                   "mip_feasibility_tolerance": 1e-6}
    assert int(exact_active(cert.witness[None, :], W, b).sum()) == cert.max_active
    with pytest.raises(cube.CertificationIncomplete) as info:
        cube.certify_sparsity(net, domain=box, method="milp", max_nodes=1)
    exc = info.value
    assert exc.lower_bound <= cert.max_active <= exc.upper_bound
    assert exc.lower_bound < exc.upper_bound
    assert int(exact_active(exc.witness[None, :], W, b).sum()) == exc.lower_bound


def test_certify_box_milp_out_of_time_before_the_solve_still_bounds():
    # A time limit of 1 ns is spent before HiGHS starts: the exception's
    # bounds are the exact count at the box centre (only x_0 + x_1 = 1 > 0.5)
    # and the number of units.
    net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.5, 0.5, 0.5],
                            np.ones(3))
    with pytest.raises(cube.CertificationIncomplete) as info:
        cube.certify_sparsity(net, domain=cube.Box(0.0, 1.0), method="milp",
                              time_limit=1e-9)
    assert (info.value.lower_bound, info.value.upper_bound) == (1, 3)   # centre: unit 2
    assert cube.certify_sparsity(net, domain=cube.Box(0.0, 1.0), method="milp").max_active == 3


def test_milp_solver_output_at_the_c_level_is_kept_off_stdout():
    """HiGHS prints some diagnostics with C printf (past disp=False), which
    broke ``certify --json``; the solver call runs with descriptor 1 on
    /dev/null, and Python and C output before and after it are unaffected.
    In a child process, whose real descriptor 1 the test reads."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import ctypes
        import os
        import numpy as np
        from unittest import mock
        from sparselearn import SparseReLUNetwork, cube
        import scipy.optimize
        real_milp = scipy.optimize.milp
        libc = ctypes.CDLL(None)
        def chatty_milp(*args, **kwargs):
            libc.printf(b"C-LEVEL SOLVER LINE\\n")   # buffered C stdio, as HiGHS's
            os.write(1, b"RAW SOLVER LINE\\n")
            return real_milp(*args, **kwargs)
        net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.5, 0.5, 0.5],
                                np.ones(3))
        print("before", flush=True)
        with mock.patch.object(scipy.optimize, "milp", chatty_milp):
            cert = cube.certify_sparsity(net, domain=cube.Box(0.0, 1.0), method="milp")
        print("after", cert.max_active, flush=True)
        os.write(1, b"C after\\n")
    """)
    # Without PYTHONUNBUFFERED (which pytest runs may set, and which also
    # unbuffers C stdio): stdout is a pipe, so C's printf is fully buffered.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "before\nafter 3\nC after\n"


def test_certify_method_is_checked():
    net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0])
    with pytest.raises(ValueError, match="method must be 'bnb' or 'milp'"):
        cube.certify_sparsity(net, domain=cube.Box(0.0, 1.0), method="lp")
    with pytest.raises(ValueError, match="method='milp' applies to a Box.*domain='pm1'"):
        cube.certify_sparsity(net, method="milp")
    assert cube.certify_sparsity(net).method is None
    # No unit can reach its threshold: the MILP is not even built.
    dead = SparseReLUNetwork([[1.0, 1.0]], [5.0], [1.0])
    cert = cube.certify_sparsity(dead, domain=cube.Box(0.0, 1.0), method="milp")
    assert cert.max_active == 0 and cert.n_candidate_units == 0


def test_certify_checks_its_budgets_on_every_domain():
    net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0])
    for domain in ("pm1", "01", cube.Box(0.0, 1.0), np.zeros((2, 2))):
        with pytest.raises(ValueError, match="time_limit"):
            cube.certify_sparsity(net, time_limit=-1.0, domain=domain)
        with pytest.raises(TypeError, match="max_nodes"):
            cube.certify_sparsity(net, max_nodes="many", domain=domain)


# ------------------------- one parallel region per walk, any team (issue 14)
@settings(max_examples=20, deadline=None)
@given(net=tie_networks(n=st.integers(1, 9), s=st.integers(1, 8)))
def test_walks_identical_for_any_thread_count_and_chunk_size(net):
    """The Gray-code walks hand chunks to the threads of one parallel region
    dynamically: for every chunk length (the block size) and kernel call
    split, the histogram must be the exact one (tie networks: near-ties are
    frequent) and both results identical on 1 and 2 threads."""
    from sparselearn._kernels import _cube
    n, s = net.n_features, net.width
    X = all_cube_points(n)
    active = exact_active(X, net.weights, net.biases)
    expected_hist = np.bincount(active.sum(axis=1), minlength=s + 1)
    relu = np.where(active, np.maximum(X @ net.weights.T - net.biases, 0.0), 0.0)
    expected_table = relu @ net.output_weights + net.output_bias
    magnitude = (np.abs(X) @ np.abs(net.weights).T + np.abs(net.biases)) @ np.abs(
        net.output_weights) + abs(net.output_bias) + 1.0
    weights_t = np.ascontiguousarray(net.weights.T)
    for bits in sorted({0, 1, min(n, 3), n}):
        tol = cube._walk_tolerance(net.weights, net.biases, 2**bits)
        n_chunks = 2**(n - bits)
        # One call over all chunks, and calls of 3 chunks each.
        splits = [[(0, n_chunks)], [(q, min(q + 3, n_chunks)) for q in range(0, n_chunks, 3)]]
        tables = []
        for threads in (1, 2):
            for split in splits:
                hist, table = np.zeros(s + 1, dtype=np.int64), np.full(2**n, np.nan)
                for start, stop in split:
                    _cube.activation_histogram(weights_t, net.biases, tol, bits, start, stop,
                                               hist, threads)
                    _cube.truth_table(weights_t, net.biases, net.output_weights,
                                      net.output_bias, tol, bits, start, stop, table, threads)
                np.testing.assert_array_equal(hist, expected_hist)
                # Values: exactly inactive units add nothing; the rest to rounding.
                assert np.all(np.abs(table - expected_table) <= 1e-9 * magnitude)
                tables.append(table)
        for table in tables[1:]:
            np.testing.assert_array_equal(table, tables[0])


@settings(max_examples=15, deadline=None)
@given(net=tie_networks(n=st.integers(3, 9), s=st.integers(1, 8)))
def test_certify_search_identical_for_any_thread_count(net):
    """Branch-and-bound tasks are independent: the exact maximum (integer
    reference), the witness's count, the node and leaf-point counts do not
    depend on the team size, nor on whether batches switch to two threads."""
    expected = int(exact_active(all_cube_points(net.n_features), net.weights,
                                net.biases).sum(axis=1).max())
    results = []
    for seconds in (np.inf, 0.0):  # every batch on one thread / the default team
        with small_search(), mock.patch.object(cube, "_PARALLEL_SECONDS", seconds):
            cert = cube.certify_sparsity(net)
        assert cert.max_active == expected
        assert _count_at(net, cert.witness) == expected
        results.append((cert.max_active, cert.n_nodes, cert.n_leaf_points,
                        cert.witness.tolist()))
    assert results[0] == results[1]


def test_small_walks_run_on_one_thread_and_large_ones_on_the_default_team():
    assert cube._walk_threads(10, 64) == 1
    assert cube._walk_threads(20, 256) == 0
    # The threshold is on 2^n s: the same call on both sides of it.
    net = random_network(12, 16, random_state=0, bias_quantile=0.8)
    with mock.patch.object(cube, "_PARALLEL_WALK", 0):
        parallel = cube.activation_histogram(net), cube.truth_table(net)
    serial = cube.activation_histogram(net), cube.truth_table(net)
    for a, b in zip(parallel, serial):
        np.testing.assert_array_equal(a, b)


def test_box_bound_errors_name_the_bounds_plainly():
    """Box's errors show plain numbers (not np.float64(...)) and bounds of
    different lengths are named as such, not as a NumPy broadcast error."""
    with pytest.raises(ValueError, match=r"coordinate 1 has lo=1\.0 > hi=0\.0$"):
        cube.Box([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="lo and hi must have the same length .* 2 and 3"):
        cube.Box([0.0, 0.0], [1.0, 1.0, 1.0])
    box = cube.Box(0.0, [1.0, 2.0, 3.0])  # a scalar applies to every coordinate
    assert box.lo.tolist() == [0.0, 0.0, 0.0] and box.hi.tolist() == [1.0, 2.0, 3.0]


def _zero_one_brute_max(net):
    """Exact maximum over {0,1}^n by integer arithmetic on the coordinates
    where some weight is nonzero (the others cannot change any count)."""
    used = np.flatnonzero(np.any(net.weights != 0.0, axis=0))
    used = used if used.size else np.arange(1)    # all zero: any one coordinate
    P = _zero_one_points(used.size)
    return int(exact_active(P, net.weights[:, used], net.biases).sum(axis=1).max())


def test_zero_one_rounded_thresholds_leave_no_gap():
    """On {0,1}^n, n > 20, a threshold 2b - sum(w) that is not a float64 left
    the search between 1 and 2 (CertificationIncomplete); the leaf walks now
    decide activity on the original network, so the maximum is certified."""
    W = np.zeros((2, 21))
    W[:, :3] = [[-0.1, 0.0, -0.4], [-0.7, -0.1, 0.2]]
    net = SparseReLUNetwork(W, [0.0, -0.6], [1.0, 1.0])
    assert not cube._zero_one_thresholds(net)[2]   # some tau_j is not a float64
    cert = cube.certify_sparsity(net, domain="01")
    assert cert.max_active == _zero_one_brute_max(net) == 1
    assert int(exact_active(cert.witness[None, :], W, net.biases).sum()) == 1


def _decimal_network_n22(seed=6):
    # Weights in 0.1 steps, thresholds at 0.1-rounded sums of the positive
    # weights of a random half: many pre-activations on {0,1}^22 within
    # rounding of 0.  At seed 6 the search ended "between 6 and 7".
    n, s = 22, 12
    rng = np.random.default_rng(seed)
    W = rng.integers(-9, 10, size=(s, n)) / 10
    b = np.round([W[j, rng.random(n) < 0.5].clip(0).sum() for j in range(s)], 1)
    return SparseReLUNetwork(W, b, np.ones(s))


def test_zero_one_decimal_network_past_20_bits_is_certified():
    net = _decimal_network_n22()
    assert not cube._zero_one_thresholds(net)[2]
    cert = cube.certify_sparsity(net, domain="01")
    # Brute force: the library's exact counts at all 2^22 points of {0,1}^22.
    best = 0
    for start in range(0, 2**22, 2**18):
        X = (1.0 - cube.points(22, start, start + 2**18)) / 2.0
        best = max(best, int(net.activation_counts(X).max()))
    assert cert.max_active == best == 6
    assert int(exact_active(cert.witness[None, :], net.weights, net.biases).sum()) == best


@st.composite
def zero_one_tie_networks(draw, n=st.integers(1, 12), s=st.integers(1, 8)):
    """Decimal weights with biases decimal or planted at the float value of
    <w, x0> for a point x0 of {0,1}^n (an exact pre-activation within rounding
    of 0 there), so the transformed thresholds 2b - sum(w) round."""
    n, s = draw(n), draw(s)
    decimal = st.integers(-30, 30).map(lambda k: k / 10)
    W = np.array(draw(st.lists(st.lists(decimal, min_size=n, max_size=n),
                               min_size=s, max_size=s)), dtype=np.float64)
    b = np.empty(s)
    for j in range(s):
        if draw(st.booleans()):
            x0 = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), float)
            b[j] = float(W[j] @ x0)
        else:
            b[j] = draw(decimal)
    return SparseReLUNetwork(W, b, np.ones(s))


@settings(max_examples=40, deadline=None)
@given(st.one_of(zero_one_tie_networks(), tie_networks(n=st.integers(8, 12))))
def test_zero_one_certified_sparsity_equals_brute_force(net):
    # The search on the {-1,1}^n image against exact integer counts at every
    # point of {0,1}^n, and against the NumPy twin.
    truth = _zero_one_brute_max(net)
    cert = cube.certify_sparsity(net, domain="01")
    assert cert.max_active == truth == ref.max_active(net.weights, net.biases, True)[0]
    assert int(exact_active(cert.witness[None, :], net.weights, net.biases).sum()) == truth
