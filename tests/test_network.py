"""Tests for sparselearn.network: kernels against NumPy twins, model semantics,
normal form, persistence and argument validation."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import (all_cube_points, cube_points, decimal, dyadic_networks,
                        exact_active, tie_networks)

from sparselearn import SparseReLUNetwork
from sparselearn.network import min_valuation
from sparselearn._kernels import _network
from sparselearn._reference import network as reference

finite = st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def network_and_points(draw):
    net = draw(dyadic_networks())
    X = draw(cube_points(net.n_features))
    return net, X


def _brute_force_output(net, X):
    """h(x) = sum_j u_j relu(<w_j, x> - b_j) + c, written out unit by unit."""
    out = np.full(X.shape[0], net.output_bias)
    for w, b, u in zip(net.weights, net.biases, net.output_weights):
        out += u * np.maximum(X @ w - b, 0.0)
    return out


# ------------------------------------------------------------ kernel twins
@given(arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 6), st.integers(1, 20)),
              elements=finite, fill=st.nothing()), st.data())
def test_kernels_equal_numpy_twins(shape_source, data):
    m, n, s = shape_source.shape
    X = data.draw(arrays(np.float64, (m, n), elements=finite, fill=st.nothing()))
    W = data.draw(arrays(np.float64, (s, n), elements=finite, fill=st.nothing()))
    b = data.draw(arrays(np.float64, (s,), elements=finite, fill=st.nothing()))
    u = data.draw(arrays(np.float64, (s,), elements=finite, fill=st.nothing()))
    G = np.ascontiguousarray(X @ W.T)
    l1, v = np.abs(W).sum(axis=1), min_valuation(W, b)
    tol_w, tol_b = _network.rounding_bounds(l1, b, n)
    out = np.empty(m)
    _network.relu_combine(G, X, float(np.abs(X).max(initial=0.0)), False, W, b, l1, tol_w, tol_b, v,
                          u, out)
    np.testing.assert_allclose(out, reference.relu_combine(G, X, W, b, u), rtol=1e-12, atol=1e-12)
    counts = np.empty(m, dtype=np.int64)
    _network.count_active(G, X, float(np.abs(X).max(initial=0.0)), False, W, b, l1, tol_w, tol_b, v, counts)
    np.testing.assert_array_equal(counts, reference.count_active(G, X, W, b))
    indptr, indices = reference.supports(G, X, W, b)
    got = np.empty_like(indices)
    _network.fill_supports(G, X, float(np.abs(X).max(initial=0.0)), False, W, b, l1, tol_w, tol_b, v, indptr[:-1], got)
    np.testing.assert_array_equal(got, indices)
    _network.count_positive(G, b, counts)
    np.testing.assert_array_equal(counts, reference.count_positive(G, b))
    relu = G.copy()
    _network.masked_relu(relu, X, float(np.abs(X).max(initial=0.0)), False, W, b, l1, tol_w,
                         tol_b, v)
    np.testing.assert_array_equal(relu, reference.masked_relu(G, X, W, b))


@given(network_and_points())
def test_network_methods_match_reference_on_dyadic_inputs(case):
    net, X = case
    W, b = net.weights, net.biases
    G = X @ W.T
    # Dyadic weights on +-1 points: every quantity below is exact.
    np.testing.assert_array_equal(net(X), reference.relu_combine(G, X, W, b, net.output_weights)
                                  + net.output_bias)
    np.testing.assert_array_equal(net(X), _brute_force_output(net, X))
    counts = net.activation_counts(X)
    np.testing.assert_array_equal(counts, reference.count_active(G, X, W, b))
    indptr, indices = net.active_supports(X)
    ref_indptr, ref_indices = reference.supports(G, X, W, b)
    np.testing.assert_array_equal(indptr, ref_indptr)
    np.testing.assert_array_equal(indices, ref_indices)
    assert net.max_active(X) == counts.max()
    np.testing.assert_array_equal(net.pre_activations(X), G - net.biases)


def test_active_means_strictly_positive():
    # Unit 0 sits exactly at its threshold on x = (1, 1): inactive, contributes 0.
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, 0.0]], [2.0, 0.0], [5.0, 1.0])
    X = np.array([[1.0, 1.0]])
    assert net.activation_counts(X).tolist() == [1]
    indptr, indices = net.active_supports(X)
    assert indptr.tolist() == [0, 1] and indices.tolist() == [1]
    assert net(X).tolist() == [1.0]


def test_chunked_evaluation_matches_single_pass(monkeypatch):
    rng = np.random.default_rng(0)
    net = SparseReLUNetwork(rng.normal(size=(40, 7)), rng.normal(size=40),
                            rng.normal(size=40), 0.5)
    X = rng.normal(size=(1000, 7))
    whole = (net(X), net.activation_counts(X), net.active_supports(X))
    # Force chunks of a few rows so the row offsets in the CSR fill are exercised.
    monkeypatch.setattr("sparselearn.network._CHUNK_BYTES", 8 * 40 * 3)
    chunked = (net(X), net.activation_counts(X), net.active_supports(X))
    np.testing.assert_array_equal(whole[0], chunked[0])
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[2][0], chunked[2][0])
    np.testing.assert_array_equal(whole[2][1], chunked[2][1])


def test_general_float_inputs_match_brute_force():
    rng = np.random.default_rng(1)
    net = SparseReLUNetwork(rng.normal(size=(30, 5)), rng.normal(size=30),
                            rng.normal(size=30), -0.25)
    X = rng.normal(size=(200, 5))
    np.testing.assert_allclose(net(X), _brute_force_output(net, X), rtol=1e-12, atol=1e-12)


def test_empty_sample():
    net = SparseReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones(2))
    X = np.empty((0, 3))
    assert net(X).shape == (0,)
    indptr, indices = net.active_supports(X)
    assert indptr.tolist() == [0] and indices.size == 0
    with pytest.raises(ValueError, match="empty sample"):
        net.max_active(X)


def test_sparsity_is_a_deprecated_alias_of_max_active():
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, -1.0]], [1.0, 1.0], [2.0, -1.0])
    X = np.array([[1.0, 1.0], [3.0, -1.0]])
    with pytest.warns(FutureWarning, match="max_active"):
        assert net.sparsity(X) == net.max_active(X) == 2


def test_in_class_checks_budget_and_both_norm_bounds_exactly():
    # Unit 0 active on (1, 1) and (3, -1); unit 1 on (1, -1) and (3, -1).
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, -1.0]], [1.0, 1.0], [2.0, -1.0])
    X = np.array([[1.0, 1.0], [1.0, -1.0], [3.0, -1.0]])
    W_h, B_h = net.norm_bounds()  # (2 sqrt 2, 2)
    assert B_h == 2.0
    assert net.in_class(X, 2) and not net.in_class(X, 1)
    assert net.in_class(X[:2], 1)
    assert net.in_class(X, 2, W=W_h, B=B_h)
    assert not net.in_class(X, 2, W=np.nextafter(W_h, 0.0))
    assert not net.in_class(X, 2, B=np.nextafter(B_h, 0.0))
    assert net.in_class(np.empty((0, 2)), 0)  # vacuous on an empty sample
    # A point exactly at a threshold is inactive (strict definition).
    assert net.in_class([[1.0, 0.0]], 0)
    with pytest.raises(ValueError, match="X must have 2 columns"):
        net.in_class(np.ones((1, 3)), 1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        net.in_class(X, -1)
    with pytest.raises(ValueError, match="W must be >= 0"):
        net.in_class(X, 1, W=-1.0)


# ------------------------------------------------------ norms and reduction
@given(dyadic_networks())
def test_norm_bounds_definition(net):
    W, B = net.norm_bounds()
    u = np.abs(net.output_weights).max()
    assert W == pytest.approx(u * max(np.linalg.norm(w) for w in net.weights))
    assert B == pytest.approx(u * np.abs(net.biases).max())


@given(network_and_points())
def test_reduced_form_computes_the_same_function(case):
    net, X = case
    reduced = net.reduced()
    assert set(np.unique(reduced.output_weights)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_allclose(reduced(X), net(X), rtol=1e-12, atol=1e-12)
    W, B = net.norm_bounds()
    assert np.linalg.norm(reduced.weights, axis=1).max() <= W * (1 + 1e-12) + 1e-12
    assert np.abs(reduced.biases).max() <= B * (1 + 1e-12) + 1e-12
    # Supports agree on every unit with u_j != 0 (zero units become inactive).
    live = net.output_weights != 0
    active = net.pre_activations(X) > 0
    np.testing.assert_array_equal((reduced.pre_activations(X) > 0)[:, live], active[:, live])


# ------------------------------------------------------------- persistence
@given(dyadic_networks())
def test_save_load_round_trip(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("nets") / "net.npz"
    net.save(path)
    loaded = SparseReLUNetwork.load(path)
    assert loaded == net


def test_load_refuses_pickled_archive(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, format=np.array("sparselearn.SparseReLUNetwork/1"),
             weights=np.array([object()], dtype=object), biases=np.zeros(1),
             output_weights=np.zeros(1), output_bias=np.array(0.0))
    with pytest.raises(ValueError, match="pickle"):
        SparseReLUNetwork.load(path)


@pytest.mark.parametrize("content", [b"not a zip file at all", b""])
def test_load_refuses_corrupt_file(tmp_path, content):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable"):
        SparseReLUNetwork.load(path)


def test_load_refuses_wrong_contents(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a saved SparseReLUNetwork"):
        SparseReLUNetwork.load(path)
    with pytest.raises(ValueError, match="no such file"):
        SparseReLUNetwork.load(tmp_path / "missing.npz")


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, match, error", [
    (([1.0, 2.0], [0.0], [1.0]),  # the layout of weights, not the points' reshape hint
     r"weights must be 2-D of shape \(s, n\), a row w_j per hidden unit, got shape \(2,\)$",
     ValueError),
    ((np.ones((2, 3)), [0.0], [1.0, 1.0]), "biases must have length 2", ValueError),
    ((np.ones((2, 3)), [0.0, 0.0], [1.0]), "output_weights must have length 2", ValueError),
    ((np.ones((2, 3)), [0.0, np.nan], [1.0, 1.0]), "biases contains NaN", ValueError),
    (([[np.inf, 1.0]], [0.0], [1.0]), "weights contains NaN or infinite", ValueError),
    ((np.ones((2, 0)), [0.0, 0.0], [1.0, 1.0]), "at least one column", ValueError),
    ((np.ones((0, 3)), [], []), "weights has no rows", ValueError),
    (([["a", "b"]], [0.0], [1.0]), "weights must be a numeric array", TypeError),
    ((np.ones((1, 2)) * 1j, [0.0], [1.0]), "weights must be real", TypeError),
])
def test_constructor_rejects_bad_arrays(args, match, error):
    with pytest.raises(error, match=match):
        SparseReLUNetwork(*args)


def test_constructor_rejects_bad_output_bias():
    with pytest.raises(ValueError, match="output_bias must be finite"):
        SparseReLUNetwork(np.ones((1, 2)), [0.0], [1.0], output_bias=np.nan)
    with pytest.raises(TypeError, match="output_bias must be a real number"):
        SparseReLUNetwork(np.ones((1, 2)), [0.0], [1.0], output_bias="1")


@pytest.mark.parametrize("X, match", [
    (np.ones(3), "must be 2-D"),
    (np.ones((4, 2)), "must have 3 columns"),
    (np.array([[1.0, np.nan, 1.0]]), "NaN"),
])
def test_methods_reject_bad_X(X, match):
    net = SparseReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones(2))
    # (The deprecated alias net.sparsity has its own test, which asserts its FutureWarning.)
    for method in (net.forward, net.activation_counts, net.active_supports,
                   net.pre_activations, net.max_active):
        with pytest.raises(ValueError, match=match):
            method(X)


def test_network_is_immutable():
    net = SparseReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError):
        net.weights[0, 0] = 5.0


# ------------------------------------------------------------ exact decisions
def test_decimal_weights_are_decided_exactly():
    # Issue 9: at x = (-1, -1, -1, -1) both pre-activations are exactly
    # negative, but their float sums round to +2.8e-17 and +8.3e-17; the
    # float path counted 2 active units there (and at x = (-1, 1, 1, -1) 1).
    net = SparseReLUNetwork([[0.1, 0.7, -0.7, -0.1], [-0.3, -0.7, 0.7, 0.3]], [0, 0], [1, 1])
    X = all_cube_points(4)
    expected = exact_active(X, net.weights, net.biases)
    assert expected[15].sum() == 0
    np.testing.assert_array_equal(net.activation_counts(X), expected.sum(axis=1))
    assert net(X)[15] == 0.0


@settings(max_examples=60, deadline=None)
@given(tie_networks(), st.data())
def test_every_decision_path_agrees_with_exact_arithmetic(net, data):
    """Counts, supports, sparsity and the forward pass's gating equal the
    exact integer-arithmetic decisions on cube points and on decimal X."""
    n = net.n_features
    decimal_X = data.draw(arrays(np.float64, (5, n), elements=decimal, fill=st.nothing()))
    for X in (all_cube_points(n), decimal_X):
        active = exact_active(X, net.weights, net.biases)
        counts = net.activation_counts(X)
        np.testing.assert_array_equal(counts, active.sum(axis=1))
        indptr, indices = net.active_supports(X)
        np.testing.assert_array_equal(indptr[1:], np.cumsum(active.sum(axis=1)))
        np.testing.assert_array_equal(indices, np.nonzero(active)[1])
        assert net.max_active(X) == active.sum(axis=1).max()
        # Gating: a unit that is exactly inactive contributes exactly nothing,
        # so rows without active units give exactly the output bias.
        out = net(X)
        none_active = ~active.any(axis=1)
        np.testing.assert_array_equal(out[none_active], net.output_bias)
        Z = net.pre_activations(X)
        expected = np.where(active, np.maximum(Z, 0.0), 0.0) @ net.output_weights
        # Rounding is relative to |X| |W|^T + |b|, not to |Z|.
        magnitude = np.abs(X) @ np.abs(net.weights).T + np.abs(net.biases)
        scale = magnitude @ np.abs(net.output_weights) + abs(net.output_bias) + 1.0
        assert np.all(np.abs(out - net.output_bias - expected) <= 1e-12 * scale)


@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_extreme_magnitudes_are_decided_exactly(magnitude):
    """Near the float64 limits the products leave the range of the fast
    exact sum; the long-accumulator fallback must still decide."""
    W = np.array([[magnitude, magnitude, -magnitude], [0.1 * magnitude, 0.2 * magnitude,
                                                      -0.3 * magnitude]])
    b = np.array([magnitude * 0.5, 0.0])
    net = SparseReLUNetwork(W, b, [1.0, 1.0])
    X = np.vstack([all_cube_points(3), 0.7 * all_cube_points(3)])
    np.testing.assert_array_equal(net.activation_counts(X),
                                  exact_active(X, W, b).sum(axis=1))


def _tiny_product_cases():
    """(weights, biases, X) whose products fall below 2^-960 (where the
    error-free product of the exact sum no longer holds), with exact ties."""
    t = 2.0**-1000
    cases = []
    # Products ~1e-320 (subnormal): w_1 x_1 + w_2 x_2 == 0 or == b exactly.
    W = np.array([[3 * t, -t], [t, t], [t, 0.0], [-t, 0.0]])
    X = np.array([[2.0**-60, 3 * 2.0**-60], [2.0**-70, 2.0**-70], [-2.0**-70, 0.0],
                  [2.0**-70, -2.0**-70], [2.0**-74, 2.0**-75]])
    for b in (0.0, 2.0**-1070, 2.0**-1069, np.nextafter(2.0**-1070, 0.0), -5e-324):
        cases.append((W, np.full(4, b), X))
    # Products below the smallest subnormal (they round to 0 in float64):
    # four 2^-1076 make the bias 2^-1074 exactly.
    W = np.array([[5e-324] * 4, [5e-324, 5e-324, -5e-324, 0.0]])
    X = np.array([[0.25] * 4, [0.25, 0.25, 0.25, 0.0], [0.25, -0.25, 0.25, 0.25],
                  [2.0**-1074, 1.0, 0.0, 0.0]])
    for b in (5e-324, 0.0, -5e-324):
        cases.append((W, np.array([b, b]), X))
    # Huge terms cancelling exactly, a tiny one deciding (mixed magnitudes).
    W = np.array([[1e300, -1e300, 1e-300], [2.0**900, 2.0**-1074, -2.0**900],
                  [0.1, 0.7, -0.8]])
    X = np.array([[1.0, 1.0, 1e-20], [1.0, 1.0, -1e-20], [1.0, 2.0**-60, 1.0],
                  [1.0, 1.0, 1.0], [1e-310, 1.0, 1.0]])
    cases.append((W, np.array([0.0, 5e-324, 0.0]), X))
    cases.append((W, np.array([1e-320, 0.0, float(W[2] @ [1.0, 1.0, 1.0])]), X))
    # 106-bit products (carries through every limb they touch): four a x
    # against one a (4 x), equal exactly, or off by a x ulp.
    a, v = (2.0**53 - 1) * 2.0**-1000, (2.0**53 - 1) * 2.0**-80
    W = np.array([[a, a, a, a, -a], [-a, -a, -a, -a, a]])
    X = np.array([[v, v, v, v, 4 * v], [v, v, v, np.nextafter(v, 1.0), 4 * v],
                  [v, v, v, np.nextafter(v, 0.0), 4 * v]])
    for b in (0.0, 5e-324, -5e-324):
        cases.append((W, np.array([b, b]), X))
    # Decimal weights on cube points with one subnormal coordinate.
    X = all_cube_points(4)
    X[:, 0] *= 1e-310
    W = np.array([[0.1, 0.7, -0.7, -0.1], [-0.3, -0.7, 0.7, 0.3], [1e-300, 0.1, 0.2, -0.3]])
    cases.append((W, np.array([0.0, 1e-311, 0.0]), X))
    return cases


@pytest.mark.parametrize("W, b, X", _tiny_product_cases())
def test_tiny_products_are_decided_exactly(W, b, X, monkeypatch):
    """Subnormal products, products that round to 0, exact ties among them
    and huge terms cancelling around a tiny one: every decision path
    (float64 kernels, float32 screening where float32 holds the values, the
    forward pass's gating) against :class:`fractions.Fraction` arithmetic."""
    from sparselearn import network

    net = SparseReLUNetwork(W, b, np.ones(len(W)))
    active = _fraction_active(X, W, b)
    np.testing.assert_array_equal(active, exact_active(X, W, b))
    for screening in (True, False):
        monkeypatch.setattr(network, "_FLOAT32_SCREENING", screening)
        np.testing.assert_array_equal(net.activation_counts(X), active.sum(axis=1))
        np.testing.assert_array_equal(net.active_supports(X)[1], np.nonzero(active)[1])
    if net._screen_args(net._decision_args(X)) is not None:
        _assert_screened_exact(net, X, active)
    np.testing.assert_array_equal(net(X)[~active.any(axis=1)], 0.0)


tiny_magnitude = st.one_of(st.just(1.0), st.integers(-1074, -900).map(lambda k: 2.0**k))


@st.composite
def tiny_product_networks(draw, n=st.integers(1, 6), s=st.integers(1, 6)):
    """Decimal weights and rows scaled by powers of two down to 2^-1074 (so
    many products are far below 2^-960), biases planted at the float value
    of ``<w_j, x>`` for a row ``x`` (a near-tie or an exact tie there), with
    the rows ``X``."""
    n, s = draw(n), draw(s)
    scale = draw(arrays(np.float64, (s, 1), elements=tiny_magnitude))
    column_scale = draw(arrays(np.float64, (n,), elements=tiny_magnitude))
    W = draw(arrays(np.float64, (s, n), elements=decimal, fill=st.nothing())) * scale
    W = W * np.where(column_scale < 1.0, 1.0, draw(st.sampled_from([1.0, 2.0**-500])))
    X = draw(arrays(np.float64, (6, n), elements=decimal, fill=st.nothing())) * column_scale
    rows = draw(arrays(np.int64, (s,), elements=st.integers(0, 5)))
    b = np.array([float(W[j] @ X[rows[j]]) for j in range(s)])
    return W, b, X


@settings(max_examples=60, deadline=None)
@given(tiny_product_networks())
def test_tiny_products_agree_with_exact_arithmetic(case):
    W, b, X = case
    net = SparseReLUNetwork(W, b, np.ones(len(W)))
    active = exact_active(X, W, b)
    np.testing.assert_array_equal(net.activation_counts(X), active.sum(axis=1))
    np.testing.assert_array_equal(net.active_supports(X)[1], np.nonzero(active)[1])
    np.testing.assert_array_equal(net(X)[~active.any(axis=1)], 0.0)


@pytest.mark.parametrize("K", [1, 20, 39])
def test_long_accumulator_carries_across_many_limbs(K):
    """Products (2^53 - 1) 2^(53 k - 1074) (k < K; below 2^-960 for k = 0,
    so the long accumulator decides) sum to a run of 53 K one bits; the last
    coordinate adds t 2^-1074 (t = 0, 1, 2): a carry through up to 33 limbs
    for t >= 1.  Against the bias 2^(53 K - 1074) that is below, an exact
    tie, and one unit above; the negated unit sees the opposite signs."""
    w = np.array([(2.0**53 - 1) * 2.0**(53 * k - 1074) for k in range(K)] + [2.0**-1074])
    W = np.array([w, -w])
    top = 2.0**(53 * K - 1074)
    b = np.array([top, -top])
    X = np.array([np.r_[np.ones(K), t] for t in (0.0, 1.0, 2.0)])
    active = _fraction_active(X, W, b)
    np.testing.assert_array_equal(active, [[False, True], [False, False], [True, False]])
    net = SparseReLUNetwork(W, b, np.ones(2))
    np.testing.assert_array_equal(net.activation_counts(X), active.sum(axis=1))
    np.testing.assert_array_equal(net.active_supports(X)[1], np.nonzero(active)[1])


def test_tiny_products_are_decided_without_python_fractions():
    """Near-ties among products below 2^-960 (here every pair of a 1e-300
    network on 1e-20 inputs) used to be re-decided with Python Fractions,
    under the GIL (minutes at 300,000 rows x 64 inputs); the kernels now sum
    them in a C long accumulator.  Counts every Fraction made meanwhile."""
    from fractions import Fraction

    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 8)) * 1e-300
    b = rng.standard_normal(4) * 1e-320
    X = rng.standard_normal((50, 8)) * 1e-20
    net = SparseReLUNetwork(W, b, np.ones(4))
    made = []
    original = Fraction.__dict__["__new__"]

    def counting_new(cls, *args, **kwargs):
        made.append(args)
        return original.__func__(cls, *args, **kwargs)

    Fraction.__new__ = staticmethod(counting_new)
    try:
        counts = net.activation_counts(X)
        indptr, _ = net.active_supports(X)
        out = net(X)
    finally:
        Fraction.__new__ = original
    assert made == []
    active = _fraction_active(X, W, b)
    np.testing.assert_array_equal(counts, active.sum(axis=1))
    np.testing.assert_array_equal(indptr[1:], np.cumsum(active.sum(axis=1)))
    np.testing.assert_array_equal(out[~active.any(axis=1)], 0.0)


def test_parameters_whose_sums_overflow_are_refused():
    # Issue 10: 1e308 weights used to overflow with RuntimeWarnings and
    # silently infinite truth tables.
    with pytest.raises(ValueError, match="overflow float64.*Rescale"):
        SparseReLUNetwork([[1e308, 1e308]], [0.0], [1.0])
    # Review finding: a finite ||w||_1 of 1e308 still overflowed the cube
    # walks (z + 2 w became NaN and a unit went uncounted), and 3 x -0.6e308
    # in a joint bound pruned a true optimum of certify_sparsity.
    with pytest.raises(ValueError, match="beyond 2\\^1020"):
        SparseReLUNetwork([[1e308, 1e300]], [0.0], [1.0])


def test_near_limit_parameters_work_without_warnings():
    import warnings

    from sparselearn import cube
    net = SparseReLUNetwork([[4e306, 4e306]], [0.0], [1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        W, B = net.norm_bounds()
        assert W == pytest.approx(np.sqrt(2) * 4e306) and B == 0.0
        np.testing.assert_array_equal(net.activation_counts(all_cube_points(2)), [1, 0, 0, 0])
        assert cube.certify_sparsity(net).max_active == 1
    with pytest.raises(ValueError, match="X is too large"):
        net(np.array([[1e10, 1.0]]))


# ------------------------------------------------------------ multi-output
@st.composite
def multi_output_networks(draw, base=None):
    """A multi-output network on the hidden layer of a drawn network."""
    net = draw(base if base is not None else dyadic_networks())
    o = draw(st.integers(1, 4))
    elements = decimal if base is not None else st.integers(-24, 24).map(lambda v: v / 8.0)
    U = draw(arrays(np.float64, (net.width, o), elements=elements, fill=st.nothing()))
    c = draw(arrays(np.float64, (o,), elements=elements, fill=st.nothing()))
    return SparseReLUNetwork(net.weights, net.biases, U, c)


@given(multi_output_networks(), st.data())
def test_multi_output_forward_equals_numpy(net, data):
    # Dyadic parameters on cube points: every sum is exact, so the NumPy
    # formula and each single-output column must agree bit for bit.
    X = data.draw(cube_points(net.n_features))
    out = net(X)
    assert out.shape == (X.shape[0], net.n_outputs)
    expected = np.maximum(X @ net.weights.T - net.biases, 0.0) @ net.output_weights
    np.testing.assert_array_equal(out, expected + net.output_bias)
    for t in range(net.n_outputs):
        np.testing.assert_array_equal(out[:, t], net.select_output(t)(X))


@settings(max_examples=40)
@given(multi_output_networks(tie_networks()), st.data())
def test_multi_output_forward_is_exact_at_ties(net, data):
    # Only exactly active units (integer-arithmetic reference) contribute.
    X = data.draw(cube_points(net.n_features, m=st.integers(1, 12)))
    active = exact_active(X, net.weights, net.biases)
    Z = np.where(active, np.maximum(X @ net.weights.T - net.biases, 0.0), 0.0)
    expected = Z @ net.output_weights + net.output_bias
    np.testing.assert_allclose(net(X), expected, rtol=1e-12, atol=1e-9)
    # Where a unit is exactly inactive but its computed z is positive, a
    # float ReLU would add u_j z: the exact forward must not.
    assert np.array_equal(net.activation_counts(X), active.sum(axis=1))


def test_multi_output_general_floats_match_numpy():
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(40, 7)), rng.normal(size=40)
    U, c = rng.normal(size=(40, 5)), rng.normal(size=5)
    X = rng.normal(size=(300, 7))
    net = SparseReLUNetwork(W, b, U, c)
    np.testing.assert_allclose(net(X), np.maximum(X @ W.T - b, 0.0) @ U + c,
                               rtol=1e-12, atol=1e-12)
    assert net(X[:0]).shape == (0, 5)


def test_multi_output_sparsity_tools_depend_only_on_hidden_layer():
    rng = np.random.default_rng(4)
    W, b = rng.normal(size=(12, 4)), rng.normal(size=12)
    single = SparseReLUNetwork(W, b, rng.normal(size=12))
    multi = SparseReLUNetwork(W, b, rng.normal(size=(12, 3)), np.zeros(3))
    X = rng.normal(size=(50, 4))
    np.testing.assert_array_equal(multi.activation_counts(X), single.activation_counts(X))
    for a, e in zip(multi.active_supports(X), single.active_supports(X)):
        np.testing.assert_array_equal(a, e)
    assert multi.max_active(X) == single.max_active(X)


def test_multi_output_shapes_and_errors():
    W, b = np.eye(2), np.zeros(2)
    net = SparseReLUNetwork(W, b, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 0.5)
    assert net.n_outputs == 3 and net.multi_output
    np.testing.assert_array_equal(net.output_bias, [0.5, 0.5, 0.5])
    assert not net.output_bias.flags.writeable
    one_column = SparseReLUNetwork(W, b, [[1.0], [2.0]], [0.0])
    assert one_column.n_outputs == 1 and one_column(np.ones((3, 2))).shape == (3, 1)
    assert SparseReLUNetwork(W, b, [1.0, 2.0]).n_outputs == 1
    with pytest.raises(ValueError, match=r"shape \(s,\) or \(s, o\) with s=2"):
        SparseReLUNetwork(W, b, np.ones((3, 2)))
    with pytest.raises(ValueError, match="output_bias"):
        SparseReLUNetwork(W, b, np.ones((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="output_bias must be a float"):
        SparseReLUNetwork(W, b, np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="has 3 outputs: pass output=t"):
        net.select_output(None)
    with pytest.raises(ValueError, match="output"):
        net.select_output(3)
    assert net != SparseReLUNetwork(W, b, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0.5, 0.5, 0.0])
    assert one_column != SparseReLUNetwork(W, b, [1.0, 2.0])


@given(multi_output_networks())
def test_multi_output_norm_bounds_and_reduced(net):
    W_bound, B_bound = net.norm_bounds()
    # u_max over all outputs: the largest of the per-output bounds.
    per_output = [net.select_output(t).norm_bounds() for t in range(net.n_outputs)]
    assert W_bound == max(p[0] for p in per_output)
    assert B_bound == max(p[1] for p in per_output)
    reduced = net.reduced()
    U = reduced.output_weights
    assert np.abs(U).max(initial=0.0) <= 1.0
    live = np.abs(net.output_weights).max(axis=1) > 0
    np.testing.assert_array_equal(np.abs(U[live]).max(axis=1), 1.0)
    X = all_cube_points(net.n_features)[:64]
    np.testing.assert_allclose(reduced(X), net(X), rtol=1e-12, atol=1e-12)


@given(multi_output_networks())
def test_multi_output_save_load_round_trip(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("nets") / "net.npz"
    net.save(path)
    assert str(np.load(path)["format"]) == "sparselearn.SparseReLUNetwork/2"
    loaded = SparseReLUNetwork.load(path)
    assert loaded == net and loaded.output_weights.shape == net.output_weights.shape


def test_load_reads_format_1_files():
    # Written by the library before multi-output support (format 1).
    path = __import__("pathlib").Path(__file__).parent / "data" / "network_format1.npz"
    assert str(np.load(path)["format"]) == "sparselearn.SparseReLUNetwork/1"
    net = SparseReLUNetwork.load(path)
    assert net == SparseReLUNetwork([[0.5, -1.0, 0.25], [1.0, 1.0, -2.0]], [0.125, -0.5],
                                    [3.0, -0.75], output_bias=1.5)
    assert isinstance(net.output_bias, float)


def test_network_owns_its_arrays_and_hands_out_views_that_cannot_reach_them():
    """Issue 10: `net.weights` was the internal array, whose `.shape` NumPy
    lets anyone set (even read-only): reshaped to (2^12, 2), the kernels read
    out of bounds (SIGSEGV in forward, activation_counts, active_supports;
    NaNs from cube.truth_table).  And the constructor kept a caller's
    C-contiguous float64 arrays, made them read-only, and followed later edits
    of them (a NaN written there silently deactivated a unit)."""
    from sparselearn import cube
    rng = np.random.default_rng(0)
    W, b, u = rng.standard_normal((3, 1 << 12)), rng.standard_normal(3), np.ones(3)
    net = SparseReLUNetwork(W, b, u)
    X = rng.choice([-1.0, 1.0], size=(16, 1 << 12))
    expected = (net(X), net.activation_counts(X), net.active_supports(X))
    assert W.flags.writeable and b.flags.writeable  # the caller's arrays stay theirs
    W[:] = np.nan
    b[:] = np.inf
    for name in ("weights", "biases", "output_weights"):
        view = getattr(net, name)
        view.shape = (view.size, 1)  # NumPy allows it even on a read-only array
    assert net.weights.shape == (3, 1 << 12) and net.biases.shape == (3,)
    np.testing.assert_array_equal(net(X), expected[0])
    np.testing.assert_array_equal(net.activation_counts(X), expected[1])
    supports = net.active_supports(X)
    assert len(supports) == len(expected[2])
    assert all(np.array_equal(a, e) for a, e in zip(supports, expected[2]))
    with pytest.raises(ValueError, match="X"):
        net(np.ones((64, 1)))  # the shape an attacker gave the view: refused, not read
    small = SparseReLUNetwork(rng.standard_normal((4, 6)), rng.standard_normal(4),
                              rng.standard_normal(4))
    table = cube.truth_table(small)
    view = small.weights
    view.shape = (24, 1)
    np.testing.assert_array_equal(cube.truth_table(small), table)
    assert np.isfinite(table).all()


# ------------------------- multi-output forward in one parallel region (issue 14)
@settings(max_examples=25, deadline=None)
@given(multi_output_networks(tie_networks()), st.data())
def test_multi_output_rows_kernels_equal_numpy_twins_for_any_blocks_and_threads(net, data):
    """``forward_multi_rows`` computes each block's products, exact masked
    ReLU and output product inside one OpenMP region: the decisions must be
    the exact ones (tie networks, decimal rows: near-ties are frequent) for
    every block size, and the result must not depend on the thread count."""
    from threadpoolctl import threadpool_limits

    from sparselearn.network import _one_thread_blas
    n, m = net.n_features, data.draw(st.integers(1, 40))
    X = data.draw(arrays(np.float64, (m, n), elements=decimal, fill=st.nothing()))
    args = net._decision_args(X)
    U = net.output_weights
    active = exact_active(X, net.weights, net.biases)
    G = X @ net.weights.T
    # Exactly inactive units contribute nothing; the rest is the twin's
    # product up to rounding (the kernel sums in BLAS's order).
    expected = reference.forward_multi_rows(X, net.weights, net.biases, U)
    np.testing.assert_array_equal(
        expected, np.where(active, np.maximum(G - net.biases, 0.0), 0.0) @ U)
    magnitude = (np.abs(X) @ np.abs(net.weights).T + np.abs(net.biases)) @ np.abs(U) + 1.0
    for block_rows in (1, 3, 16):
        outs = []
        for threads in (1, 2):
            out = np.full((m, U.shape[1]), np.nan)
            with threadpool_limits(limits=threads, user_api="openmp"), _one_thread_blas():
                _network.forward_multi_rows(X, *args, U, out, block_rows, threads)
            assert np.all(np.abs(out - expected) <= 1e-12 * magnitude)
            np.testing.assert_array_equal(out[~active.any(axis=1)], 0.0)
            outs.append(out)
        np.testing.assert_array_equal(outs[0], outs[1])  # same blocks, 1 vs 2 threads
    # The public forward uses this kernel.
    with_bias = net(X)
    assert np.all(np.abs(with_bias - net.output_bias - expected) <= 1e-12 * magnitude
                  + 1e-12 * np.abs(net.output_bias))
    # No rows: nothing written.
    empty = np.empty((0, n))
    _network.forward_multi_rows(empty, *net._decision_args(empty), U,
                                np.empty((0, U.shape[1])), 4, 0)


def test_thread_holds_overlapping_out_of_order_restore_the_pools():
    """The one-thread holds of the network kernels, the ERM fit (BLAS and
    OpenMP) and the parity products share one count per pool, so holds that
    overlap in several Python threads and end out of order (the first to
    enter leaves first) restore the original counts; a plain
    ``threadpool_limits`` entered second captured the first one's 1 as
    "original" and left it set for good."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from sparselearn.network import _one_thread_all, _one_thread_blas

    def counts(api):
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == api]

    with threadpool_limits(limits=2):  # a known count, above 1, to restore
        before = counts("blas"), counts("openmp")
        network_call, erm_fit = _one_thread_blas(), _one_thread_all()
        network_call.__enter__()                  # thread A: a network call
        erm_fit.__enter__()                       # thread B: an ERM fit starts
        assert set(counts("blas")) == {1}
        network_call.__exit__(None, None, None)   # A ends first: B still holds
        assert set(counts("blas")) == {1} and set(counts("openmp")) == {1}
        erm_fit.__exit__(None, None, None)
        assert (counts("blas"), counts("openmp")) == before


def test_one_region_kernels_refuse_an_unallocatable_block_buffer():
    """The per-thread block buffers are allocated before the parallel region,
    holding the GIL, so a failure is a MemoryError before any thread starts.
    (Allocated per thread inside the region, one thread failing while the
    other succeeded could skip the loop whose barrier the other waits at; that
    race is not reproducible in a test, this checks the refusal path.)"""
    from sparselearn._kernels import _network

    rng = np.random.default_rng(0)
    net = SparseReLUNetwork(rng.standard_normal((8, 4)), rng.standard_normal(8),
                            rng.standard_normal(8))
    X = np.ascontiguousarray(rng.standard_normal((32, 4)))
    args = net._decision_args(X)
    huge = 1 << 42  # rows per block: 2 threads x 2^42 x 8 units x 8 bytes
    with pytest.raises(MemoryError):
        _network.count_rows(X, *args, np.empty(32, dtype=np.int64), huge, 2)
    with pytest.raises(MemoryError):
        _network.supports_rows(X, *args, np.empty(32, dtype=np.int64), huge, 2)
    with pytest.raises(MemoryError):
        _network.forward_rows(X, *args, net._output_weights, np.empty(32), huge, 2)
    screen = net._screen_args(args)
    for kernel in (_network.count_rows32, _network.supports_rows32):
        with pytest.raises(MemoryError):
            kernel(X, *args, *screen, np.empty(32, dtype=np.int64), huge, 2)
    counts = np.empty(32, dtype=np.int64)
    _network.count_rows(X, *args, counts, 4, 2)
    np.testing.assert_array_equal(counts, net.activation_counts(X))


# ------------------------------- float32 screening of the decisions (issue 14)
def _screened(net, X, max_near, block_rows, threads):
    """``count_rows32`` and ``supports_rows32`` on checked rows ``X``, with
    the candidate fraction ``max_near`` at which a block falls back to
    float64 (0: any candidate; 2: never)."""
    from threadpoolctl import threadpool_limits

    from sparselearn.network import _one_thread_blas
    args = net._decision_args(X)
    screen = net._screen_args(args)
    assert screen is not None
    screen = (*screen[:3], max_near)
    counts, supports_counts = (np.empty(X.shape[0], dtype=np.int64),
                               np.empty(X.shape[0], dtype=np.int64))
    with threadpool_limits(limits=threads, user_api="openmp"), _one_thread_blas():
        _network.count_rows32(X, *args, *screen, counts, block_rows, threads)
        indices = _network.supports_rows32(X, *args, *screen, supports_counts, block_rows,
                                           threads)
    np.testing.assert_array_equal(supports_counts, counts)
    return counts, indices


def _assert_screened_exact(net, X, active):
    """Both paths of the screened kernels (per-candidate float64 re-decision,
    block fallback), several block sizes and thread counts, give the exact
    ``active`` mask."""
    for max_near, block_rows, threads in ((0.0, 1, 1), (2.0, 3, 1), (0.0, 16, 2),
                                          (2.0, 5, 2)):
        counts, indices = _screened(net, X, max_near, block_rows, threads)
        np.testing.assert_array_equal(counts, active.sum(axis=1))
        np.testing.assert_array_equal(indices, np.nonzero(active)[1])


def _fraction_active(X, W, b):
    """The exact mask by :class:`fractions.Fraction` (the twin's definition)."""
    return np.array([[reference.exact_preactivation(w, x, c) > 0 for w, c in zip(W, b)]
                     for x in X], dtype=bool).reshape(len(X), len(W))


def _float32_wrong(X, W, b):
    """Entries where the plain float32 decision ``fl32(X) fl32(W)^T > b``
    differs from the exact one (what the screening must repair)."""
    with np.errstate(over="ignore"):
        G32 = X.astype(np.float32) @ W.astype(np.float32).T
    return np.count_nonzero((G32.astype(np.float64) > b) != _fraction_active(X, W, b))


def test_float32_screening_kernels_equal_numpy_twins_at_adversarial_near_ties(monkeypatch):
    """Hand-made near-ties where float32 rounds the decision wrong: planted
    ties of decimal weights, exact cancellations, integers near 2^52, values
    that float32 rounds and float64 keeps, subnormal float32 values, and
    points 1 float32 ulp or less from the hyperplane.  Checked against
    Fraction arithmetic on every path of the screened kernels."""
    d = [0.0, 2.0**-24, -2.0**-24, 2.0**-25, -2.0**-25, 2.0**-30, -2.0**-30, 2.0**-52,
         -2.0**-52, 2.0**-23, -2.0**-23]
    cases = []
    # Decimal weights, bias planted at the float64 value of <w, x0> (0.1 + 0.7
    # + 0.2 != 1 in float64; float32 rounds each term again).
    w = np.array([0.1, 0.7, 0.2, -0.3])
    x0 = np.array([1.0, 1.0, 1.0, -1.0])
    X = np.array([x0, -x0, [1.0, 1.0, 1.0, 1.0]] + [x0 + [0.0, 0.0, e, 0.0] for e in d])
    cases.append((np.array([w, w, -w]), np.array([float(w @ x0), 1.3, -1.3]), X))
    # Exact cancellation (v, -v): a tie wherever the coordinates agree.
    v = np.array([0.7, 0.1, 1 / 3])
    X = np.array([[1.0, -1.0, 1.0, 1.0, -1.0, 1.0], [1.0, 1.0, 1.0, 1.0, -1.0, 1.0],
                  [0.1, 0.7, 0.3, 0.1, 0.7, 0.3]])
    cases.append((np.array([np.r_[v, -v], np.r_[-v, v]]), np.zeros(2), X))
    # Integers near 2^52: float32 keeps 24 bits, so 2^52 + 1 becomes 2^52.
    big = 2.0**52
    W = np.array([[big + 1, -big], [big + 3, -(big + 2)], [2.0**53 - 1, -(2.0**53 - 2)]])
    X = np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-52], [-1.0, -1.0], [0.5, 0.5]])
    cases.append((W, np.array([0.0, 1.0, 0.5]), X))
    cases.append((W, np.array([1.0, 0.5, 1.0]), X))
    # Values float32 rounds (1 + 2^-30 -> 1) and float64 keeps; the hyperplane
    # <w, x> = 1 approached to within 1 float32 ulp and less.
    W = np.array([[1.0 + 2.0**-30, 0.0], [1.0, 1.0], [1.0 - 2.0**-40, 2.0**-40]])
    X = np.array([[1.0, 0.0], [1.0, 1.0]] + [[0.5, 0.5 + e] for e in d]
                 + [[1.0 + e, 0.0] for e in d])
    cases.append((W, np.array([1.0, 1.0, 1.0]), X))
    # Subnormal in float32 (below 2^-126), normal in float64.
    W = np.array([[1e-40, 1e-41], [3e-45, -3e-45], [1e-39, 0.0]])
    X = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 0.5]])
    cases.append((W, np.array([1e-40, 0.0, 1e-39]), X))
    wrong = 0
    for W, b, X in cases:
        net = SparseReLUNetwork(W, b, np.ones(len(W)))
        active = _fraction_active(X, W, b)
        np.testing.assert_array_equal(active, exact_active(X, W, b))
        wrong += _float32_wrong(X, W, b)
        _assert_screened_exact(net, X, active)
        np.testing.assert_array_equal(net.activation_counts(X), active.sum(axis=1))
        np.testing.assert_array_equal(net.active_supports(X)[1], np.nonzero(active)[1])
        np.testing.assert_array_equal(
            reference.count_rows32(X, W, b), active.sum(axis=1))
        np.testing.assert_array_equal(
            reference.supports_rows32(X, W, b)[1], np.nonzero(active)[1])
    assert wrong >= 10  # the inputs really defeat a plain float32 decision
    # The public methods screen these small calls too when the size gate is off.
    monkeypatch.setattr("sparselearn.network._SCREEN_WORK", 0)
    for W, b, X in cases:
        net = SparseReLUNetwork(W, b, np.ones(len(W)))
        assert net._screen_for(X, net._decision_args(X)) is not None
        active = _fraction_active(X, W, b)
        np.testing.assert_array_equal(net.activation_counts(X), active.sum(axis=1))
        np.testing.assert_array_equal(net.active_supports(X)[1], np.nonzero(active)[1])


@settings(max_examples=15, deadline=None)
@given(tie_networks(), st.data())
def test_float32_screening_kernels_equal_numpy_twins_on_tie_networks(net, data):
    """Tie networks (decimals, thirds, huge integers, planted ties) on every
    cube point and on decimal rows: the screened kernels' decisions, on both
    paths, are the exact ones, and ``forward`` (float64 values, never
    screened) is the same with the screening switched off."""
    import sparselearn.network as network_module
    n = net.n_features
    decimal_X = data.draw(arrays(np.float64, (6, n), elements=decimal, fill=st.nothing()))
    for X in (all_cube_points(n), decimal_X):
        active = exact_active(X, net.weights, net.biases)
        _assert_screened_exact(net, X, active)
        np.testing.assert_array_equal(reference.count_rows32(X, net.weights, net.biases),
                                      active.sum(axis=1))
    on = net(decimal_X)
    try:
        network_module._FLOAT32_SCREENING = False
        np.testing.assert_array_equal(net(decimal_X), on)
    finally:
        network_module._FLOAT32_SCREENING = True


def test_float32_screening_stays_off_for_very_wide_networks(monkeypatch):
    """Past _MAX_SCREEN_WIDTH units the float32 path's blocks of at least
    _MIN_ROWS32 rows would need a float64 fallback scratch of more than 32 MiB
    a thread: the float64 kernels decide (same counts), and one unit fewer
    is screened."""
    import sparselearn.network as network_module
    monkeypatch.setattr(network_module, "_MAX_SCREEN_WIDTH", 40)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(4000, 16))
    screened = []
    original = SparseReLUNetwork._screen_args

    def spy(self, args):
        screened.append(self.width)
        return original(self, args)

    monkeypatch.setattr(SparseReLUNetwork, "_screen_args", spy)
    for width in (41, 40):
        net = SparseReLUNetwork(rng.normal(size=(width, 16)), rng.normal(size=width),
                                np.ones(width))
        np.testing.assert_array_equal(net.activation_counts(X),
                                      exact_active(X, net.weights, net.biases).sum(axis=1))
    assert screened == [40]


def test_float32_screening_kernels_equal_numpy_twins_on_random_larger_inputs():
    """Larger random inputs (Gaussian and decimal weights, Gaussian and cube
    rows, n = 64): the screened kernels give what the float64 kernels give,
    on both paths and with two threads."""
    rng = np.random.default_rng(7)
    n, s, m = 64, 300, 1500
    for kind in ("gaussian", "decimal"):
        W = (rng.normal(size=(s, n)) / 8 if kind == "gaussian"
             else rng.integers(-9, 10, size=(s, n)) / 10.0)
        for X in (rng.normal(size=(m, n)), rng.choice([-1.0, 1.0], size=(m, n))):
            b = np.quantile(X[:500] @ W.T, 0.95, axis=0)
            if kind == "decimal":
                b = np.round(b, 1)
            net = SparseReLUNetwork(W, b, np.ones(s))
            args = net._decision_args(X)
            expected = np.empty(m, dtype=np.int64)
            expected_indices = _network.supports_rows(X, *args, expected, 64, 1)
            for max_near, block_rows in ((0.0, 64), (2.0, 64), (1 / 16, 7)):
                counts, indices = _screened(net, X, max_near, block_rows, 2)
                np.testing.assert_array_equal(counts, expected)
                np.testing.assert_array_equal(indices, expected_indices)
            # The public methods take the screened kernels at this size.
            assert net._screen_for(X, args) is not None
            np.testing.assert_array_equal(net.activation_counts(X), expected)
            np.testing.assert_array_equal(net.active_supports(X)[1], expected_indices)


def test_float32_thresholds_are_rounded_outwards_and_refused_out_of_range():
    """``hi_j >= b_j + tol_j`` and ``lo_j <= b_j - tol_j`` as exact rationals
    (tol_j >= gamma_{n+2} ||w_j||_1 ||x||_inf), hi = lo = b where float32 sums
    are exact, and no screening where float32 could overflow."""
    from fractions import Fraction
    rng = np.random.default_rng(3)
    n = 5
    W = rng.normal(size=(6, n)) * np.array([1e-3, 1.0, 1e3, 1e6, 1e-30, 1e20])[:, None]
    b = rng.normal(size=6) * np.array([1.0, 1e-8, 1e30, -1e50, 1e-40, 0.0])
    net = SparseReLUNetwork(W, b, np.ones(6))
    X = rng.normal(size=(4, n))
    args = net._decision_args(X)
    W32, hi, lo, _ = net._screen_args(args)
    np.testing.assert_array_equal(W32, W.astype(np.float32))
    u, x_bound = Fraction(1, 2**24), Fraction(float(np.abs(X).max()))
    gamma = (n + 2) * u / (1 - (n + 2) * u)
    for j in range(6):
        l1 = sum(abs(Fraction(float(w))) for w in W[j])
        tol = gamma * l1 * x_bound
        assert hi[j] == np.inf or Fraction(float(hi[j])) >= Fraction(float(b[j])) + tol
        assert lo[j] == -np.inf or Fraction(float(lo[j])) <= Fraction(float(b[j])) - tol
    assert hi[3] == -np.finfo(np.float32).max and lo[3] == -np.inf  # b = -1e50: always active
    # Dyadic weights on cube points: float32 sums are exact, thresholds are b.
    net = SparseReLUNetwork([[0.5, -0.25, 1.0], [3.0, 1.0, -2.0]], [0.25, 2.0], [1.0, 1.0])
    X = all_cube_points(3)
    _, hi, lo, _ = net._screen_args(net._decision_args(X))
    np.testing.assert_array_equal(hi, [0.25, 2.0])
    np.testing.assert_array_equal(lo, hi)
    # Dyadic but beyond 2^24 in float32 terms: a real bound again.
    net = SparseReLUNetwork([[2.0**30 + 0.5, -2.0**30]], [0.25], [1.0])
    _, hi, lo, _ = net._screen_args(net._decision_args(X[:, :2]))
    assert lo[0] < 0.25 < hi[0]
    np.testing.assert_array_equal(net.activation_counts(X[:, :2]),
                                  exact_active(X[:, :2], net.weights, net.biases).sum(axis=1))
    # Magnitudes float32 cannot hold: the float64 kernels decide.
    net = SparseReLUNetwork([[2.0**110, 1.0]], [0.0], [1.0])
    assert net._screen_args(net._decision_args(X[:, :2])) is None
    np.testing.assert_array_equal(net.activation_counts(X[:, :2]),
                                  exact_active(X[:, :2], net.weights, net.biases).sum(axis=1))
    net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0])
    big_X = np.array([[2.0**120, -2.0**120 + 2.0**68]])
    assert net._screen_args(net._decision_args(big_X)) is None
    np.testing.assert_array_equal(net.activation_counts(big_X), [1])


def test_norm_bounds_are_the_exact_bounds_rounded_up():
    """|u| max|b| = 3 * 0.3 is 0.899999999999999966..., which float64
    multiplication rounds to 0.8999999999999999, below it: in_class(B=that)
    said True although the network exceeds that bound in exact arithmetic.
    The bounds are now the smallest floats at least the real values."""
    from fractions import Fraction

    net = SparseReLUNetwork([[0.1, 0.2]], [0.3], [3.0])
    W_h, B_h = net.norm_bounds()
    exact_B = Fraction(3.0) * Fraction(0.3)
    exact_W2 = Fraction(3.0) ** 2 * (Fraction(0.1) ** 2 + Fraction(0.2) ** 2)
    assert Fraction(B_h) >= exact_B > Fraction(np.nextafter(B_h, 0.0))
    assert Fraction(W_h) ** 2 >= exact_W2 > Fraction(np.nextafter(W_h, 0.0)) ** 2
    X = [[1.0, 1.0]]
    assert not net.in_class(X, 1, B=float(3.0 * 0.3))
    assert net.in_class(X, 1, W=W_h, B=B_h)
    assert not net.in_class(X, 1, W=np.nextafter(W_h, 0.0))


@pytest.mark.parametrize("seed", range(5))
def test_norm_bounds_round_up_on_random_decimal_networks(seed):
    from fractions import Fraction

    rng = np.random.default_rng(seed)
    W = rng.integers(-9, 10, size=(6, 5)) / 10
    net = SparseReLUNetwork(W, rng.integers(-9, 10, size=6) / 10,
                            rng.integers(1, 30, size=6) / 10)
    W_h, B_h = net.norm_bounds()
    u = max(abs(Fraction(float(v))) for v in net.output_weights)
    norm2 = u ** 2 * max(sum(Fraction(float(v)) ** 2 for v in row) for row in W)
    bias = u * max(abs(Fraction(float(v))) for v in net.biases)
    assert Fraction(W_h) ** 2 >= norm2 > Fraction(np.nextafter(W_h, 0.0)) ** 2
    assert Fraction(B_h) >= bias > Fraction(np.nextafter(B_h, 0.0))


@pytest.mark.parametrize("rows", [
    np.full((64, 40), 0.1),                                   # every row ties
    np.array([[1e300, 1e-300], [3.0, 4.0]]),                  # mixed magnitudes
    np.array([[5e-324, 5e-324], [0.0, 0.0]]),                 # subnormal
    np.random.default_rng(1).integers(-9, 10, size=(30, 7)) / 10 * 1e-160,
])
@pytest.mark.parametrize("a", [1.0, 0.3, 7.0, 1e-200])
def test_round_up_scaled_norm_is_the_smallest_float_above_the_exact_value(rows, a):
    """The integer-arithmetic exact sums of squares against Fractions."""
    from fractions import Fraction

    from sparselearn.network import _round_up_scaled_norm
    got = _round_up_scaled_norm(a, rows)
    target = Fraction(a) ** 2 * max(sum(Fraction(float(v)) ** 2 for v in row) for row in rows)
    assert Fraction(got) ** 2 >= target
    assert got == 0.0 or Fraction(np.nextafter(got, 0.0)) ** 2 < target


@pytest.mark.parametrize("big", [np.array([2**60 + 1, -(2**60)], dtype=np.int64),
                                 np.array([2**64 - 1, 0], dtype=np.uint64)])
def test_integers_that_float64_would_round_are_refused(big):
    """int64 2**60 + 1 became the float 2**60: the unit relu(x_0 - 2**60 x_1)
    with those weights is active at (1, 1), the rounded one is not, and
    every exact count and certificate was silently about another network."""
    from sparselearn import cube

    with pytest.raises(ValueError, match="weights has entries that float64 cannot hold"):
        SparseReLUNetwork(big[None, :], [0.0], [1.0])
    with pytest.raises(ValueError, match="biases has entries that float64 cannot hold"):
        SparseReLUNetwork([[1.0]], big[:1], [1.0])
    net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0])
    with pytest.raises(ValueError, match="X has entries that float64 cannot hold"):
        net.activation_counts(big[None, :])
    with pytest.raises(ValueError, match="domain has entries that float64 cannot hold"):
        cube.certify_sparsity(net, domain=big[None, :])
    # Integers float64 holds exactly are taken as they are.
    exact = np.array([[2**60, -(2**60)], [3, 1]], dtype=np.int64)
    np.testing.assert_array_equal(SparseReLUNetwork(exact, [0, 0], [1, 1]).weights,
                                  exact.astype(float))
    assert net.activation_counts(exact).tolist() == [0, 1]
