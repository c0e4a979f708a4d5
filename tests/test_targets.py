"""Tests for sparselearn.targets: every oracle network has the structure its
docstring promises, checked by brute force over the whole cube."""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import all_cube_points

from sparselearn import SparseReLUNetwork, targets
from sparselearn.targets import bump_network, junta_network, junta_sum_network, random_network


def _hamming(a, b):
    return int(np.count_nonzero(a != b))


@given(n=st.integers(1, 11), k=st.integers(1, 4), extra=st.integers(0, 12),
       seed=st.integers(0, 2**16))
def test_bump_network_is_k_sparse_on_the_whole_cube(n, k, extra, seed):
    s = k + extra
    if -(-s // k) > 2**n:  # the largest group needs ceil(s/k) distinct codewords
        with pytest.raises(ValueError, match="distinct codewords"):
            bump_network(n, s, k, random_state=seed)
        return
    net = bump_network(n, s, k, random_state=seed)
    assert net.width == s and net.n_features == n
    X = all_cube_points(n)
    counts = net.activation_counts(X)
    assert counts.max() <= k
    # The planted point activates exactly k units, one per group.
    assert net.activation_counts(net.weights[:1]).tolist() == [k]
    assert counts.max() == k


@given(n=st.integers(2, 9), r=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_bump_unit_is_the_hamming_ball(n, r, seed):
    if 2 * r >= n:
        with pytest.raises(ValueError, match="2\\*radius < n"):
            bump_network(n, 2, 1, radius=r, random_state=seed)
        return
    try:
        net = bump_network(n, 2, 2, radius=r, random_state=seed)
    except ValueError:
        assume(False)  # radius unattainable for this draw: discard the example
    X = all_cube_points(n)
    active = net.pre_activations(X) > 0
    for j, codeword in enumerate(net.weights):
        distances = np.array([_hamming(codeword, x) for x in X])
        np.testing.assert_array_equal(active[:, j], distances <= r)


def test_bump_codewords_separated_within_groups():
    n, s, k, r = 16, 12, 3, 2
    net = bump_network(n, s, k, radius=r, random_state=3)
    groups = np.array_split(np.arange(s), k)
    for group in groups:
        for a in group:
            for b in group:
                if a < b:
                    assert _hamming(net.weights[a], net.weights[b]) > 2 * r
    assert np.all(net.biases == n - 2 * r - 1)
    assert np.all((np.abs(net.output_weights) >= 0.5) & (np.abs(net.output_weights) <= 1.0))


def test_bump_network_reproducible():
    assert bump_network(20, 10, 2, random_state=7) == bump_network(20, 10, 2, random_state=7)
    assert bump_network(20, 10, 2, random_state=7) != bump_network(20, 10, 2, random_state=8)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=10, s=2, k=3), ValueError, "k=3 exceeds the width s=2"),
    (dict(n=0, s=2, k=1), ValueError, "n must be >= 1"),
    (dict(n=10, s=0, k=1), ValueError, "s must be >= 1"),
    (dict(n=10, s=4, k=0), ValueError, "k must be >= 1"),
    (dict(n=10, s=4, k=1, radius=5), ValueError, "2\\*radius < n"),
    (dict(n=10, s=40, k=1, radius=4), ValueError, "could not draw"),
    (dict(n=3, s=20, k=1), ValueError, "distinct codewords"),
    (dict(n=10.5, s=4, k=1), TypeError, "n must be an integer"),
    (dict(n=10, s=4, k=1, radius=-1), ValueError, "radius must be >= 0"),
])
def test_bump_network_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        bump_network(**kwargs, random_state=0)


def test_bump_network_refuses_oversize_request():
    with pytest.raises(ValueError, match="needs about"):
        bump_network(10**6, 10**5, 1)


# --------------------------------------------------------------- juntas
@given(t=st.integers(1, 5), extra=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_junta_network_computes_g_exactly_and_is_1_sparse(t, extra, seed):
    n = t + extra
    rng = np.random.default_rng(seed)
    coords = [int(c) for c in rng.permutation(n)[:t]]
    table = rng.integers(-8, 9, size=2**t) / 4.0
    net = junta_network(table, coords, n)
    assert net.width == 2**t
    X = all_cube_points(n)
    # Index of x_J in the t-bit cube convention: bit a set iff x[coords[a]] == -1.
    index = ((X[:, coords] == -1) * (1 << np.arange(t))).sum(axis=1)
    np.testing.assert_array_equal(net(X), table[index])
    np.testing.assert_array_equal(net.activation_counts(X), np.ones(2**n, dtype=np.int64))


def test_junta_network_parity_from_callable():
    n, coords = 7, [0, 3, 6]
    net = junta_network(lambda z: np.prod(z, axis=1), coords, n)
    X = all_cube_points(n)
    np.testing.assert_array_equal(net(X), np.prod(X[:, coords], axis=1))


@pytest.mark.parametrize("g, coords, n, error, match", [
    (np.zeros(4), [0, 0], 3, ValueError, "distinct"),
    (np.zeros(4), [0, 3], 3, ValueError, "coords\\[\\] must be <= 2"),
    (np.zeros(4), [], 3, ValueError, "at least one"),
    (np.zeros(3), [0, 1], 3, ValueError, "g must have length 4"),
    (lambda z: np.zeros(3), [0, 1], 3, ValueError, "g returned shape"),
    (np.zeros(4), 5, 3, TypeError, "coords must be a sequence"),
    (lambda z: z[:, 0], list(range(40)), 40, ValueError, "needs about"),
])
def test_junta_network_bad_input(g, coords, n, error, match):
    with pytest.raises(error, match=match):
        junta_network(g, coords, n)


# ------------------------------------------------------- random networks
def test_random_network_bias_quantile_sets_activity():
    n, s = 12, 200
    X = all_cube_points(n)
    dense = random_network(n, s, random_state=0, bias_quantile=0.5)
    sparse = random_network(n, s, random_state=0, bias_quantile=0.95)
    always = random_network(n, s, random_state=0, bias_quantile=0.0)
    # Gaussian approximation of <w, x>: a unit fires on about 1 - q of the cube.
    # Averaged over 200 units and 4096 points these fractions are within a few
    # percent of nominal (deterministic: fixed seed).
    assert abs(dense.activation_counts(X).mean() / s - 0.5) < 0.05
    assert abs(sparse.activation_counts(X).mean() / s - 0.05) < 0.03
    assert always.activation_counts(X).min() == s


def test_random_network_validation_and_reproducibility():
    assert random_network(5, 3, random_state=1) == random_network(5, 3, random_state=1)
    assert isinstance(random_network(5, 3), SparseReLUNetwork)
    with pytest.raises(ValueError, match="bias_quantile"):
        random_network(5, 3, bias_quantile=1.0)
    with pytest.raises(ValueError, match="output_scale must be > 0"):
        random_network(5, 3, output_scale=0.0)
    with pytest.raises(TypeError, match="random_state"):
        random_network(5, 3, random_state="seed")


def test_default_radius_keeps_acceptance_high():
    # The default radius follows the Gilbert-Varshamov volume rule:
    # g * V(n, 2r) <= 2^n / 4 and the next radius violates it.
    n, s, k = 24, 32, 2
    net = bump_network(n, s, k, random_state=0)
    r = int((n - 1 - net.biases[0]) // 2)
    g = s // k

    def volume(d):
        return sum(math.comb(n, i) for i in range(d + 1))
    assert 4 * g * volume(2 * r) <= 2**n < 4 * g * volume(2 * r + 2)


# -------------------------------------------------------------- junta sums
@given(k=st.integers(1, 3), t=st.integers(1, 3), extra=st.integers(0, 1),
       seed=st.integers(0, 2**16))
def test_junta_sum_is_exactly_k_sparse_unit_norm_and_degree_t(k, t, extra, seed):
    n = k * t + extra
    net = junta_sum_network(n, k, t, random_state=seed)
    assert net.width == k * 2**t
    X = all_cube_points(n)
    np.testing.assert_array_equal(net.activation_counts(X), np.full(2**n, k))
    values = net(X)
    assert np.mean(values**2) == pytest.approx(1.0, rel=1e-12)
    # Degree <= t: fhat(S) = mean_x f(x) chi_S(x) vanishes for |S| > t, with
    # chi_S(x_i) = (-1)^popcount(i & S) (the cube index convention).
    index = np.arange(2**n)
    chi = 1.0 - 2.0 * (np.bitwise_count(index[:, None] & index[None, :]) % 2)
    coefficients = chi @ values / 2**n
    high = np.bitwise_count(index) > t
    np.testing.assert_allclose(coefficients[high], 0.0, atol=1e-12)
    assert np.abs(coefficients[~high]).max() > 0


def test_junta_sum_bad_input():
    with pytest.raises(ValueError, match="k \\* t = 6 exceeds n = 5"):
        junta_sum_network(5, 3, 2)
    with pytest.raises(ValueError, match="t must be >= 1"):
        junta_sum_network(5, 1, 0)


@pytest.mark.parametrize("width, k, t", [(4, 2, 1), (8, 2, 2), (48, 3, 4)])
def test_junta_block_bits_inverts_the_width_rule(width, k, t):
    assert targets.junta_block_bits(width, k) == t
    assert targets.junta_sum_network(2 * k * t, k, t, random_state=0).width == width


@pytest.mark.parametrize("width, k", [(3, 2), (6, 2), (2, 2), (12, 2)])
def test_junta_block_bits_refuses_other_widths(width, k):
    with pytest.raises(ValueError, match="sparsity \\* 2\\^t"):
        targets.junta_block_bits(width, k)
