"""Tests for sparselearn.fourier: kernels against NumPy twins, the Fourier
identities of docs/theory.rst, section 3 checked against independent brute-force
computations on the whole cube, the sparse difference bounds, the sampling
estimators against exact values, and argument validation."""
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import (all_cube_points, cube_points, dyadic, dyadic_networks, exact_active,
                        tie_networks)

from sparselearn import MemoryBudgetError, SparseReLUNetwork
from sparselearn import fourier as F
from sparselearn._kernels import _fwht, _spectral
from sparselearn._reference import fwht as fwht_twin
from sparselearn._reference import spectral as spectral_twin
from sparselearn.targets import bump_network, junta_network, random_network

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


# ------------------------------------------------------------------ helpers
def _table(net):
    """Truth table by brute force: the network on every point, in index order."""
    return net(all_cube_points(net.n_features))


def _parity_features(n, d):
    """Columns chi_S(x) for every |S| <= d, from explicit products of coordinates."""
    X = all_cube_points(n)
    masks = [S for S in range(2**n) if bin(S).count("1") <= d]
    return np.column_stack([np.prod(X[:, [j for j in range(n) if S >> j & 1]], axis=1)
                            for S in masks])


def _exact_noise_sensitivity(table, delta):
    """(1/2) E[(f(x) - f(y))^2] summed over every flip pattern z with its probability."""
    N = table.shape[0]
    n = N.bit_length() - 1
    index = np.arange(N)
    total = 0.0
    for z in range(N):
        flips = bin(z).count("1")
        weight = delta**flips * (1 - delta) ** (n - flips)
        total += weight * 0.5 * np.mean((table - table[index ^ z]) ** 2)
    return total


def _exact_influences(table):
    """E[((f(x) - f(x with bit i flipped)) / 2)^2] for each i, by brute force."""
    N = table.shape[0]
    index = np.arange(N)
    return np.array([np.mean(((table - table[index ^ (1 << i)]) / 2) ** 2)
                     for i in range(N.bit_length() - 1)])


def _unit_tables(net):
    """Truth table of each unit's activation g_j(x) = relu(<w_j, x> - b_j), shape (s, 2^n)."""
    X = all_cube_points(net.n_features)
    return np.maximum(X @ net.weights.T - net.biases, 0.0).T


# ----------------------------------------------------- kernels and twins
@st.composite
def batches(draw, max_n=12):
    n = draw(st.integers(0, max_n))
    m = draw(st.integers(1, 3))
    return draw(arrays(np.float64, (m, 2**n), elements=finite, fill=st.nothing()))


@given(batches(), st.sampled_from([np.float64, np.float32]))
def test_fwht_kernel_equals_numpy_twin(a, dtype):
    got = a.astype(dtype)
    assert _fwht.fwht_rows(got) is True  # |a| <= 1e3, n <= 12: every output finite
    expected = fwht_twin.fwht_rows(a.astype(dtype).astype(np.float64))
    n = a.shape[1].bit_length() - 1
    # Each output is a +-1 sum of 2^n inputs: error <= n * eps * sum |a| (balanced tree).
    eps = np.finfo(dtype).eps
    bound = (n + 1) * eps * np.abs(a).sum(axis=1, keepdims=True) + 1e-300
    assert np.all(np.abs(got - expected) <= bound)


# Inputs planted in a random integer table: NaN, +inf, -inf, and an inf
# pair that cancels in the row sum (+inf - inf = NaN there, +-inf elsewhere).
_PLANTS = {"nan": [np.nan], "+inf": [np.inf], "-inf": [-np.inf], "cancel": [np.inf, -np.inf]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, block_log, buf_log", [
    *[(n, -1, 13) for n in range(13)],  # one block: the check in its last sweep
    (6, 2, 5), (9, 3, 5),               # last chunk strided (in place)
    (9, 2, 11), (12, 3, 8)])            # last chunk a panel (the check in its scatter)
@pytest.mark.parametrize("plant", sorted(_PLANTS))
def test_fwht_kernel_equals_numpy_twin_on_non_finite_input(dtype, n, block_log, buf_log, plant):
    # The kernel's flag is "every output finite", fused into its last sweep
    # (on every schedule), and a non-finite entry makes every output
    # non-finite; the outputs themselves are the twin's, inf and NaN included.
    rng = np.random.default_rng(n)
    a = rng.integers(-8, 9, size=(2, 2**n)).astype(dtype)
    values = _PLANTS[plant][:2**n]
    where = rng.choice(2**n, size=len(values), replace=False)
    a[1, where] = values
    got = a.copy()
    assert _fwht.fwht_rows(got, block_log=block_log, buf_log=buf_log) is False
    with np.errstate(invalid="ignore"):
        expected = fwht_twin.fwht_rows(a)
    np.testing.assert_array_equal(got, expected)  # integers, inf, NaN: exact
    assert np.all(np.isfinite(got[0])) and not np.any(np.isfinite(got[1]))


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e308), (np.float32, 3e38)])
@pytest.mark.parametrize("n, block_log, buf_log", [
    (1, -1, 13), (7, -1, 13), (13, -1, 13), (9, 3, 5), (12, 3, 8), (18, -1, 13)])
def test_fwht_kernel_equals_numpy_twin_near_overflow(dtype, big, n, block_log, buf_log):
    # Finite outputs whose sum overflows (a point mass: every output is
    # `big`) must not be flagged (the sum is re-settled by a scan); a row
    # whose transform overflows in one coefficient only ([b, -b, 0, ...]:
    # coefficient 0 is 0, coefficient 1 is 2b = inf) must be.
    a = np.zeros((2, 2**n), dtype=dtype)
    a[0, 0] = big
    got = a.copy()
    assert _fwht.fwht_rows(got, block_log=block_log, buf_log=buf_log) is True
    np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))
    a[1, :2] = [big, -big]
    got = a.copy()
    assert _fwht.fwht_rows(got, block_log=block_log, buf_log=buf_log) is False
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))
    assert got[1, 0] == 0 and np.isinf(got[1, 1])


@pytest.mark.parametrize("n, dtype", [(14, np.float32), (17, np.float64), (18, np.float32),
                                      (18, np.float64)])
def test_fwht_kernel_equals_numpy_twin_at_larger_sizes(n, dtype):
    # Default sizes: n = 14 float32 and 17 float64 are one block (sub-blocks
    # and then L2 sweeps), 18 float32 the largest single block, 18 float64
    # a block pass and one strided level.  Same level order: bit-identical.
    a = np.random.default_rng(n).standard_normal((1, 2**n)).astype(dtype)
    got = a.copy()
    assert _fwht.fwht_rows(got) is True
    np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))


@given(st.integers(1, 14), st.integers(0, 6), st.integers(4, 11), st.integers(1, 3),
       st.integers(0, 2**16))
@settings(max_examples=30)
def test_fwht_every_blocking_schedule_agrees(n, block_log, buf_log, m, seed):
    # Small block and buffer sizes force several panel passes on small arrays,
    # the schedule the default sizes use only beyond n = 27; buf_log up to 11
    # gives chunks of up to 8 levels (gather, middle and scatter levels of a
    # panel all present), chunks of <= 3 levels take the in-place strided
    # path.  Integer data: every schedule must give the exact result.
    a = np.random.default_rng(seed).integers(-8, 9, size=(m, 2**n)).astype(np.float64)
    got = a.copy()
    _fwht.fwht_rows(got, block_log=block_log, buf_log=buf_log)
    np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))


@pytest.mark.parametrize("n, m", [(16, 1), (17, 2), (19, 1)])
def test_fwht_panel_pass_sizes_against_twin(n, m):
    a = np.random.default_rng(n).integers(-4, 5, size=(m, 2**n)).astype(np.float64)
    got = a.copy()
    _fwht.fwht_rows(got)
    np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))  # integers: exact


@pytest.mark.parametrize("n, dtype", [(20, np.float64), (21, np.float64), (22, np.float32)])
def test_fwht_panel_pass_sizes_bit_identical_on_floats(n, dtype):
    # The kernel applies levels 0 .. n-1 in increasing order like the twin
    # (radix-4/8 butterflies and fused gathers only group them), so even on
    # random floats every output is the same rounded sum.  Default sizes:
    # n = 20 has a 3-level (float64) / 2-level (float32) strided pass,
    # n = 21 float64 and n = 22 float32 a 4-level panel pass.
    a = np.random.default_rng(n).standard_normal((1, 2**n)).astype(dtype)
    got = a.copy()
    _fwht.fwht_rows(got)
    np.testing.assert_array_equal(got, fwht_twin.fwht_rows(a))


@given(st.integers(1, 15), st.integers(0, 2**16))
@settings(max_examples=30)
def test_spectral_kernels_equal_numpy_twins(n, seed):
    spec = np.random.default_rng(seed).standard_normal(2**n)
    out = np.empty(n + 1)
    _spectral.degree_weights(spec, out)
    np.testing.assert_allclose(out, spectral_twin.degree_weights(spec), rtol=1e-12, atol=1e-300)
    out = np.empty(n)
    _spectral.influences(spec, out)
    np.testing.assert_allclose(out, spectral_twin.influences(spec), rtol=1e-12, atol=1e-300)


def test_kernels_give_the_same_bits_on_any_number_of_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    spec = np.random.default_rng(5).standard_normal(2**19)  # above the parallel threshold
    results = []
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(threads, user_api="openmp"):
            results.append((F.fwht(spec), F.degree_weights(spec), F.influences(spec)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


# --------------------------------------------------------- the transform
@given(st.integers(0, 13), st.integers(1, 3), st.integers(0, 2**16))
@settings(max_examples=30)
def test_fwht_is_an_involution_up_to_2_to_the_n(n, m, seed):
    a = np.random.default_rng(seed).integers(-100, 101, size=(m, 2**n)).astype(np.float64)
    np.testing.assert_array_equal(F.fwht(F.fwht(a)), 2.0**n * a)  # integers: exact
    np.testing.assert_array_equal(F.fwht(F.fwht(a[0])), 2.0**n * a[0])


@given(st.integers(0, 8))
def test_fwht_is_the_character_matrix(n):
    # Row S of the transform of the identity is chi_S at every point.
    X = all_cube_points(n) if n else np.ones((1, 0))
    H = np.array([[np.prod(x[[j for j in range(n) if S >> j & 1]]) for x in X]
                  for S in range(2**n)])
    np.testing.assert_array_equal(F.fwht(np.eye(2**n)), H.T)


def test_fwht_out_and_dtypes():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(2**10)
    expected = fwht_twin.fwht_rows(a[None])[0]
    same = a.copy()
    assert F.fwht(same, out=same) is same
    np.testing.assert_allclose(same, expected, rtol=0, atol=1e-10)
    out = np.empty_like(a)
    assert F.fwht(a, out=out) is out
    np.testing.assert_array_equal(out, same)
    single = F.fwht(a.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected, rtol=0, atol=1e-3)
    out32 = np.empty(2**10, dtype=np.float32)
    F.fwht(a, out=out32)  # float64 cast into a float32 out
    np.testing.assert_allclose(out32, expected, rtol=0, atol=1e-3)
    ints = F.fwht([1, 2, 3, 4])
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, [10.0, -2.0, -4.0, 0.0])
    original = a.copy()
    F.fwht(a)
    np.testing.assert_array_equal(a, original)  # out=None never touches a
    assert F.fwht(np.empty((0, 8))).shape == (0, 8)


@given(st.data())
def test_fwht_rejects_bad_input(data):
    length = data.draw(st.integers(0, 100).filter(lambda v: v & (v - 1) != 0 or v == 0))
    with pytest.raises(ValueError, match="power-of-two"):
        F.fwht(np.ones(length))


def test_fwht_validation_messages():
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        F.fwht(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="real"):
        F.fwht(np.ones(4, dtype=complex))
    with pytest.raises(TypeError, match="numeric"):
        F.fwht(np.array(["a", "b"]))
    a = np.ones(8)
    a[3] = np.nan
    with pytest.raises(ValueError, match="a contains NaN or infinite"):
        F.fwht(a)
    a[3] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        F.fwht(a)
    with pytest.raises(ValueError, match="overflows float64"):
        F.fwht(np.full(4, 1e308))
    with pytest.raises(ValueError, match="overflows float32"):
        F.fwht(np.full(4, 1e38, dtype=np.float32))
    half = np.full(4, 6e4, dtype=np.float16)  # its sum overflows float16, not float64
    np.testing.assert_array_equal(F.fwht(half), [2.4e5, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="out must have the shape"):
        F.fwht(np.ones(8), out=np.empty(4))
    with pytest.raises(TypeError, match="out must have dtype"):
        F.fwht(np.ones(8), out=np.empty(8, dtype=np.int64))
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        F.fwht(np.ones(4), out=[0.0] * 4)
    with pytest.raises(ValueError, match="C-contiguous"):
        F.fwht(np.ones(8), out=np.empty(16)[::2])
    buffer = np.ones(16)
    with pytest.raises(ValueError, match="overlaps"):
        F.fwht(buffer[:8], out=buffer[4:12])
    with pytest.raises(MemoryBudgetError, match=r"32\.0 KiB"):
        F.fwht(np.ones(2**12), max_bytes=1000)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [0, 3, 18, 20])  # n = 20: a block pass and a strided pass
@pytest.mark.parametrize("plant", sorted(_PLANTS))
@pytest.mark.parametrize("target", ["new", "out", "in place"])
def test_fwht_refuses_non_finite_input(dtype, n, plant, target):
    # A NaN or infinite entry (one of two rows) is found by the kernel's
    # fused output check and raised as documented: the caller's a is
    # untouched unless out=a, and out then holds the non-finite transform.
    a = np.ones((2, 2**n), dtype=dtype)
    values = _PLANTS[plant][:2**n]
    a[1, -len(values):] = values
    original = a.copy()
    out = {"new": None, "out": np.zeros_like(a), "in place": a}[target]
    message = ("a contains NaN or infinite values, or entries so large" if target == "in place"
               else "a contains NaN or infinite values$")
    with pytest.raises(ValueError, match=message):
        F.fwht(a, out=out)
    if target == "in place":
        assert not np.any(np.isfinite(a[1]))  # overwritten by its non-finite transform
        np.testing.assert_array_equal(a[0], np.eye(1, 2**n)[0] * 2**n)  # the finite row
    else:
        np.testing.assert_array_equal(a, original)
    if target == "out":
        assert not np.any(np.isfinite(out[1]))


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e308), (np.float32, 3e38)])
@pytest.mark.parametrize("target", ["new", "out", "in place"])
def test_fwht_overflow_is_an_error_not_inf(dtype, big, target):
    name = np.dtype(dtype).name
    def call(a):
        return F.fwht(a, out={"new": None, "out": np.zeros_like(a), "in place": a}[target])
    message = "or entries so large" if target == "in place" else "overflows " + name
    # Coefficient 0 (the sum) overflows:
    with pytest.raises(ValueError, match=message):
        call(np.full(2**19, big / 2**18, dtype=dtype))
    # Only coefficient 1 overflows (b - (-b) = 2b), coefficient 0 is 0:
    a = np.zeros(2**20, dtype=dtype)
    a[:2] = [big, -big]
    with pytest.raises(ValueError, match=message):
        call(a)
    # No overflow: a point mass of `big` has every coefficient equal to it
    # (their sum, which the kernel's check forms, overflows; not an error).
    a = np.zeros(2**20, dtype=dtype)
    a[0] = big
    assert np.all(call(a) == dtype(big))



# ---------------------------------------------------------------- spectra
@given(dyadic_networks(n=st.integers(1, 7)))
@settings(max_examples=30)
def test_spectrum_is_the_definition(net):
    n = net.n_features
    X = all_cube_points(n)
    table = _table(net)
    direct = np.array([np.mean(table * np.prod(X[:, [j for j in range(n) if S >> j & 1]],
                                               axis=1)) for S in range(2**n)])
    np.testing.assert_allclose(F.spectrum(net), direct, rtol=0, atol=1e-12)
    np.testing.assert_allclose(F.spectrum(table), direct, rtol=0, atol=1e-12)


@given(dyadic_networks(n=st.integers(1, 10)))
@settings(max_examples=30)
def test_parseval(net):
    spec = F.spectrum(net)
    table = _table(net)
    np.testing.assert_allclose(np.sum(spec**2), np.mean(table**2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.degree_weights(spec).sum(), np.mean(table**2),
                               rtol=1e-12, atol=1e-12)


@given(st.integers(1, 10), st.data())
@settings(max_examples=30)
def test_junta_spectrum_lives_on_subsets_of_its_coordinates(n, data):
    t = data.draw(st.integers(1, min(n, 4)))
    coords = data.draw(st.permutations(range(n)))[:t]
    g = data.draw(arrays(np.float64, (2**t,), elements=dyadic, fill=st.nothing()))
    spec = F.spectrum(junta_network(g, coords, n))
    J = sum(1 << c for c in coords)
    outside = np.array([S & ~J != 0 for S in range(2**n)])
    np.testing.assert_array_equal(spec[outside], 0.0)  # dyadic data: exact zeros
    # Inside J the coefficients are those of g on t bits, bit a -> coordinate coords[a].
    g_spec = F.spectrum(g)
    for T in range(2**t):
        S = sum(1 << coords[a] for a in range(t) if T >> a & 1)
        assert spec[S] == g_spec[T]


@given(dyadic_networks(n=st.integers(1, 6), s=st.integers(1, 6)), st.data())
@settings(max_examples=25)
def test_tail_weight_is_the_least_squares_error(net, data):
    n = net.n_features
    d = data.draw(st.integers(0, n))
    table = _table(net)
    features = _parity_features(n, d)
    coef, *_ = np.linalg.lstsq(features, table, rcond=None)
    error = np.mean((table - features @ coef) ** 2)
    spec = F.spectrum(net)
    scale = max(1.0, np.mean(table**2))
    assert abs(F.tail_weight(spec, d) - error) <= 1e-10 * scale
    assert F.best_degree_approximation_error(spec, d) == F.tail_weight(spec, d)


@given(dyadic_networks(n=st.integers(1, 6), s=st.integers(1, 6)), st.data())
@settings(max_examples=20, deadline=None)
def test_excess_error_is_the_mean_square_over_the_cube(net, data):
    """Parseval against the definition: the mean of (h - f)^2 over all 2^n
    points, with h the fitted model's own predictions."""
    from sparselearn.learners import LowDegreeClassifier, LowDegreeRegressor

    n = net.n_features
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    X = 1.0 - 2.0 * rng.integers(0, 2, size=(40, n))
    y = net(X) + rng.normal(size=40)
    degree = data.draw(st.integers(0, min(n, 2)))
    spec = F.spectrum(net)
    cube = all_cube_points(n)
    scale = max(1.0, np.mean(net(cube) ** 2))
    regressor = LowDegreeRegressor(degree=degree, solver="exact").fit(X, y)
    brute = np.mean((regressor.predict(cube) - net(cube)) ** 2)
    assert abs(F.excess_error(spec, regressor) - brute) <= 1e-10 * max(scale, brute)
    if degree >= 1:  # the classifier's polynomial is its decision function
        labels = rng.permutation(40) % 2  # both classes
        classifier = LowDegreeClassifier(degree=degree, solver="exact").fit(X, labels)
        brute = np.mean((classifier.decision_function(cube) - net(cube)) ** 2)
        assert abs(F.excess_error(spec, classifier) - brute) <= 1e-10 * max(scale, brute)


def test_excess_error_refuses_unfitted_or_mismatched_models():
    from sparselearn.learners import LowDegreeRegressor

    X = all_cube_points(3)
    spec = F.spectrum(X[:, 0] * X[:, 1])
    model = LowDegreeRegressor(degree=1).fit(X, X[:, 0])
    assert F.excess_error(spec, model) == pytest.approx(2.0, abs=1e-12)  # 1 + 1 by Parseval
    # The polynomial is the one predict evaluates (from degree_ and coef_):
    # an edited subsets_ description neither changes the error nor breaks it.
    edited = LowDegreeRegressor(degree=1).fit(X, X[:, 0])
    edited.subsets_ = [(0, 0)] * len(edited.subsets_)
    assert F.excess_error(spec, edited) == pytest.approx(2.0, abs=1e-12)
    with pytest.raises(TypeError, match="model must be a fitted LowDegreeRegressor"):
        F.excess_error(spec, LowDegreeRegressor())
    with pytest.raises(ValueError, match="n_features_in_=3 .* on \\{-1,1\\}\\^2"):
        F.excess_error(spec[:4], model)
    with pytest.raises(ValueError, match="spec must have length 2\\^n"):
        F.excess_error(spec[:5], model)
    with pytest.raises(MemoryBudgetError, match="excess_error"):
        F.excess_error(spec, model, max_bytes=16)


@given(dyadic_networks(n=st.integers(1, 6), s=st.integers(1, 6)),
       st.floats(0.0, 0.5))
@settings(max_examples=30)
def test_noise_sensitivity_and_influence_equal_their_definitions(net, delta):
    table = _table(net)
    spec = F.spectrum(net)
    scale = max(1.0, np.mean(table**2))
    assert abs(F.noise_sensitivity(spec, delta)
               - _exact_noise_sensitivity(table, delta)) <= 1e-10 * scale
    influences = _exact_influences(table)
    np.testing.assert_allclose(F.influences(spec), influences, rtol=0, atol=1e-10 * scale)
    degrees = np.array([bin(S).count("1") for S in range(table.shape[0])])
    np.testing.assert_allclose(F.total_influence(spec), np.sum(degrees * spec**2),
                               rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(F.total_influence(spec), influences.sum(), rtol=1e-10,
                               atol=1e-10 * scale)


@given(dyadic_networks(n=st.integers(2, 10)))
@settings(max_examples=30)
def test_tail_bounds_by_noise_sensitivity_and_influence(net):
    spec = F.spectrum(net)
    n = net.n_features
    slack = 1e-12 * max(1.0, np.sum(spec**2))
    for d in range(1, n + 1):
        assert F.tail_weight(spec, d) <= F.total_influence(spec) / d + slack
        if d >= 2:  # delta = 1/d must be a flip probability
            at_least_d = F.tail_weight(spec, d - 1)  # W^{>=d} = W^{>d-1}
            bound = F.noise_sensitivity(spec, 1.0 / d) / (1 - math.exp(-2))
            assert at_least_d <= bound + slack


def _check_sparse_difference_bounds(net, delta):
    k = int(net.activation_counts(all_cube_points(net.n_features)).max())  # exact
    spec_f = F.spectrum(net)
    unit_specs = [F.spectrum(g) for g in _unit_tables(net)]
    u2 = net.output_weights**2
    ns_units = np.array([F.noise_sensitivity(g, delta) for g in unit_specs])
    inf_units = np.array([F.total_influence(g) for g in unit_specs])
    slack = 1e-10 * max(1.0, np.sum(spec_f**2))
    assert F.noise_sensitivity(spec_f, delta) <= 2 * k * u2 @ ns_units + slack
    assert F.total_influence(spec_f) <= 2 * k * u2 @ inf_units + slack
    return k


@given(st.integers(3, 9), st.integers(1, 3), st.integers(0, 8), st.integers(0, 2**16),
       st.floats(0.0, 0.5))
@settings(max_examples=25)
def test_sparse_difference_bounds_on_bump_networks(n, k, extra, seed, delta):
    s = k + extra
    if -(-s // k) > 2**n:
        return
    net = bump_network(n, s, k, random_state=seed)
    assert _check_sparse_difference_bounds(net, delta) <= k


@given(st.integers(2, 8), st.integers(1, 10), st.floats(0.5, 0.95), st.integers(0, 2**16),
       st.floats(0.0, 0.5))
@settings(max_examples=25)
def test_sparse_difference_bounds_on_random_networks(n, s, quantile, seed, delta):
    net = random_network(n, s, random_state=seed, bias_quantile=quantile)
    _check_sparse_difference_bounds(net, delta)


def test_degree_weights_of_known_functions():
    n = 6
    X = all_cube_points(n)
    parity = np.prod(X[:, :3], axis=1)  # chi_{0,1,2}
    np.testing.assert_array_equal(F.degree_weights(F.spectrum(parity)),
                                  [0, 0, 0, 1, 0, 0, 0])
    majority = np.sign(X[:, :5].sum(axis=1))
    spec = F.spectrum(majority)
    # Inf_i[Maj_5] = C(4, 2) / 2^4 = 3/8 for the five voters, 0 for the dummy.
    np.testing.assert_allclose(F.influences(spec), [3 / 8] * 5 + [0.0], atol=1e-15)
    # +-1-valued: NS (real convention) = 2 Pr[f(x) != f(y)]; at delta=1/2, y is
    # independent, so Pr = 2 p (1 - p) with p = Pr[Maj = 1] = 1/2.
    assert F.noise_sensitivity(spec, 0.5) == pytest.approx(2 * 0.5)


def test_delta_is_a_deprecated_alias_of_flip_rate():
    # "delta" is a failure probability in the rest of the library.
    spec = np.zeros(8)
    spec[7] = 1.0  # chi_{0,1,2}: NS = 1 - (1 - 2 * 0.1)^3
    expected = 1 - 0.8**3
    assert F.noise_sensitivity(spec, 0.1) == pytest.approx(expected, rel=1e-14)
    assert F.noise_sensitivity(spec, flip_rate=0.1) == pytest.approx(expected, rel=1e-14)
    with pytest.warns(FutureWarning, match="flip_rate"):
        assert F.noise_sensitivity(spec, delta=0.1) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(TypeError, match="pass flip_rate= only"):
        F.noise_sensitivity(spec, 0.1, delta=0.1)
    with pytest.raises(TypeError, match="flip_rate"):
        F.noise_sensitivity(spec)
    net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0])
    with pytest.warns(FutureWarning, match="flip_rate"):
        old = F.estimate_noise_sensitivity(net, delta=0.2, n_draws=50, random_state=0)
    assert old == F.estimate_noise_sensitivity(net, flip_rate=0.2, n_draws=50,
                                               random_state=0)


def test_n_samples_is_a_deprecated_alias_of_n_draws():
    # "n_samples" is a training sample size in the rest of the library.
    net = SparseReLUNetwork([[1.0, 1.0, 0.5]], [0.0], [1.0])
    for estimator, args in ((F.estimate_influences, ()), (F.estimate_total_influence, ()),
                            (F.estimate_noise_sensitivity, (0.1,))):
        with pytest.warns(FutureWarning, match="n_draws"):
            old = estimator(net, *args, n_samples=40, random_state=3)
        new = estimator(net, *args, n_draws=40, random_state=3)
        np.testing.assert_array_equal(old.estimate, new.estimate)
        with pytest.raises(TypeError, match="pass n_draws= only"):
            estimator(net, *args, n_draws=40, n_samples=40)


def test_spectral_validation():
    spec = np.zeros(8)
    for bad in (-1, 4):
        with pytest.raises(ValueError, match="d must be a degree in 0..n = 0..3"):
            F.tail_weight(spec, bad)
    with pytest.raises(TypeError, match="d must be an integer"):
        F.best_degree_approximation_error(spec, 1.5)
    for bad in (-0.1, 0.51):
        with pytest.raises(ValueError,
                           match=r"flip_rate must be a flip probability in \[0, 1/2\]"):
            F.noise_sensitivity(spec, bad)
    with pytest.raises(ValueError, match="flip_rate must be finite"):
        F.noise_sensitivity(spec, float("nan"))
    with pytest.raises(ValueError, match="length 2\\^n with n >= 1"):
        F.degree_weights(np.zeros(6))
    with pytest.raises(ValueError, match="length 2\\^n with n >= 1"):
        F.influences(np.zeros(1))
    with pytest.raises(ValueError, match="spec contains NaN"):
        F.total_influence(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="f must be a truth table"):
        F.spectrum(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="power-of-two"):
        F.spectrum(np.zeros(6))
    with pytest.raises(ValueError, match="f contains NaN"):
        F.spectrum(np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="SparseReLUNetwork or a truth table"):
        F.spectrum(lambda X: X[:, 0])
    wide = SparseReLUNetwork(np.ones((1, 40)), [0.0], [1.0])
    with pytest.raises(MemoryBudgetError, match=r"8\.0 TiB"):
        F.spectrum(wide)
    with pytest.raises(MemoryBudgetError, match=r"8\.0 KiB"):
        F.spectrum(SparseReLUNetwork(np.ones((1, 10)), [0.0], [1.0]), max_bytes=4096)


# ------------------------------------------------------------- estimators
# Each comparison below allows Z standard errors.  For an average of
# n_draws i.i.d. bounded values the CLT gives a two-sided failure
# probability of about 2 Phi(-5) = 5.7e-7 per compared number; the seeds are
# fixed, so CI is deterministic.
Z = 5.0


def _assert_within(estimate, exact, z=Z):
    estimate = np.asarray(estimate.estimate), np.asarray(estimate.stderr)
    assert np.all(np.abs(estimate[0] - exact) <= z * estimate[1] + 1e-12), (estimate, exact)


@pytest.mark.parametrize("seed", [0, 1])
def test_estimators_agree_with_exact_values_on_networks(seed):
    net = bump_network(8, 12, 3, random_state=seed)
    spec = F.spectrum(net)
    _assert_within(F.estimate_influences(net, n_draws=4000, random_state=seed),
                   F.influences(spec))
    _assert_within(F.estimate_total_influence(net, n_draws=20000, random_state=seed),
                   F.total_influence(spec))
    for delta in (0.05, 0.25, 0.5):
        _assert_within(F.estimate_noise_sensitivity(net, delta, n_draws=20000,
                                                    random_state=seed),
                       F.noise_sensitivity(spec, delta))
    rng = np.random.default_rng(seed)
    X = 1.0 - 2.0 * rng.integers(0, 2, size=(20000, 8))
    subsets = [0, 1, 0b101, (2, 7), (0, 1, 2, 3)]
    masks = [0, 1, 0b101, 0b10000100, 0b1111]
    _assert_within(F.estimate_coefficients(X, net(X), subsets), spec[masks])


def test_estimators_accept_callables():
    n = 7
    X = all_cube_points(n)
    table = np.sign(X[:, :3].sum(axis=1))  # majority of 3, a +-1 function
    spec = F.spectrum(table)

    def majority(points):
        return np.sign(points[:, :3].sum(axis=1))

    _assert_within(F.estimate_influences(majority, n_features=n, n_draws=4000,
                                         random_state=3), F.influences(spec))
    _assert_within(F.estimate_total_influence(majority, n_features=n, n_draws=20000,
                                              random_state=4), F.total_influence(spec))
    _assert_within(F.estimate_noise_sensitivity(majority, 0.1, n_features=n,
                                                n_draws=20000, random_state=5),
                   F.noise_sensitivity(spec, 0.1))


def test_standard_errors_are_calibrated():
    # 200 independent estimates of NS_{0.2}: the fraction within 2 stderr has
    # mean ~0.954 and sd 0.015, so < 0.90 has probability ~2e-4 (normal
    # approximation of the binomial); within 1 stderr, mean ~0.683 and sd
    # 0.033, so > 0.80 has probability ~2e-4.  Fixed seeds: deterministic.
    net = bump_network(8, 8, 2, random_state=7)
    exact = F.noise_sensitivity(F.spectrum(net), 0.2)
    rng = np.random.default_rng(11)
    z = []
    for _ in range(200):
        estimate = F.estimate_noise_sensitivity(net, 0.2, n_draws=500, random_state=rng)
        z.append(abs(estimate.estimate - exact) / estimate.stderr)
    z = np.array(z)
    assert np.mean(z <= 2) >= 0.90
    assert np.mean(z <= 1) <= 0.80


def test_estimators_are_reproducible():
    net = random_network(6, 5, random_state=0)
    first = F.estimate_influences(net, n_draws=300, random_state=42)
    again = F.estimate_influences(net, n_draws=300, random_state=42)
    np.testing.assert_array_equal(first.estimate, again.estimate)
    np.testing.assert_array_equal(first.stderr, again.stderr)
    estimate, stderr = F.estimate_total_influence(net, n_draws=300, random_state=1)
    assert isinstance(estimate, float) and stderr > 0  # unpacks as a pair


@given(arrays(np.float64, st.tuples(st.integers(2, 60), st.integers(1, 3)), elements=finite, fill=st.nothing()),
       st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_chunked_moments_equal_one_pass_moments(values, cuts):
    moments = F._Moments()
    start = 0
    for cut in cuts + [values.shape[0]]:
        stop = min(values.shape[0], start + cut)
        if stop > start:
            moments.add(values[start:stop])
        start = stop
    result = moments.estimate()
    scale = 1.0 + np.abs(values).max()
    np.testing.assert_allclose(result.estimate, values.mean(axis=0), rtol=1e-9,
                               atol=1e-12 * scale)
    np.testing.assert_allclose(result.stderr,
                               values.std(axis=0, ddof=1) / np.sqrt(values.shape[0]),
                               rtol=1e-7, atol=1e-9 * scale)


def test_estimators_in_many_chunks(monkeypatch):
    monkeypatch.setattr(F, "_CHUNK_BYTES", 4000)  # chunks of a few samples
    net = bump_network(6, 6, 2, random_state=4)
    spec = F.spectrum(net)
    _assert_within(F.estimate_influences(net, n_draws=1000, random_state=2),
                   F.influences(spec))
    _assert_within(F.estimate_noise_sensitivity(net, 0.3, n_draws=1000, random_state=2),
                   F.noise_sensitivity(spec, 0.3))


def _flipped_points(X):
    """Row (a, i): X[a] with coordinate i flipped, the old estimator's n points per draw."""
    m, n = X.shape
    return (X[:, None, :] * (1.0 - 2.0 * np.eye(n))).reshape(m * n, n)


def _value_bound(net):
    """A bound on the rounding of one network value on a +-1 point, whatever the
    summation order: 4 (n + 4) 2^-53 sum_j |u_j| (||w_j||_1 + |b_j|) + 2^-52 |c|."""
    n = net.n_features
    magnitude = np.abs(net.weights).sum(axis=1) + np.abs(net.biases)
    return (4 * (n + 4) * 2.0**-53 * float(np.abs(net.output_weights) @ magnitude)
            + 2.0**-52 * abs(net.output_bias))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_flipped_outputs_decide_activity_exactly(data):
    # The flip update decides activity as the forward pass does (exactly): at a
    # flipped point where no unit is exactly active (integer arithmetic) the
    # value is exactly the output bias, and every value agrees with a forward
    # pass on the explicit flipped points within rounding.
    net = data.draw(st.one_of(tie_networks(), dyadic_networks()))
    X = data.draw(cube_points(net.n_features, m=st.integers(1, 12)))
    out = F._flipped_outputs(net)(X).ravel()
    points = _flipped_points(X)
    none_active = ~exact_active(points, net.weights, net.biases).any(axis=1)
    assert np.all(out[none_active] == net.output_bias)
    assert np.all(np.abs(out - net(points)) <= _value_bound(net))


@settings(max_examples=30, deadline=None)
@given(dyadic_networks(), st.data())
def test_flipped_outputs_are_bitwise_the_forward_pass_on_dyadic_networks(net, data):
    # Multiples of 1/8 below 2^10: every sum is exact, in any order.
    X = data.draw(cube_points(net.n_features, m=st.integers(1, 12)))
    np.testing.assert_array_equal(F._flipped_outputs(net)(X).ravel(), net(_flipped_points(X)))


def test_flipped_outputs_re_decide_planted_near_ties():
    # Unit j's bias is the float value of <w_j, x0 with coordinate j flipped>:
    # there the exact pre-activation is within rounding of 0 (and not 0), so
    # only the exact re-evaluation decides it.
    rng = np.random.default_rng(5)
    n = 6
    W = rng.integers(-9, 10, size=(n, n)) * 0.1
    x0 = 1.0 - 2.0 * rng.integers(0, 2, size=n)
    b = np.array([float(W[j] @ (x0 * np.where(np.arange(n) == j, -1.0, 1.0)))
                  for j in range(n)])
    net = SparseReLUNetwork(W, b, np.ones(n) / 3, 0.25)
    X = np.vstack([x0, -x0])
    points = _flipped_points(X)
    active = exact_active(points, W, b)
    out = F._flipped_outputs(net)(X).ravel()
    assert np.all(out[~active.any(axis=1)] == 0.25)
    assert np.all(np.abs(out - net(points)) <= _value_bound(net))


@pytest.mark.parametrize("chunk_bytes", [2000, 20_000])
@pytest.mark.parametrize("weights", ["gaussian", "decimal", "dyadic"])
def test_estimate_influences_of_a_network_is_the_old_estimate(weights, chunk_bytes,
                                                              monkeypatch):
    # The network path reuses each draw's pre-activations; the callable path
    # is the former implementation (n + 1 forward passes per draw) and draws
    # the same points, so the two differ by rounding only (none on dyadic
    # weights).  Chunks of a few draws: the draws carry over between chunks
    # (and at 2000 bytes the flips' units are taken 20 at a time).
    monkeypatch.setattr(F, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    n, s = 12, 40
    W = {"gaussian": rng.normal(size=(s, n)) / np.sqrt(n),
         "decimal": rng.integers(-5, 6, size=(s, n)) * 0.1,
         "dyadic": rng.integers(-5, 6, size=(s, n)) / 4.0}[weights]
    b = {"gaussian": np.full(s, 0.8), "decimal": rng.integers(-5, 15, size=s) * 0.1,
         "dyadic": rng.integers(-5, 15, size=s) / 4.0}[weights]
    u = rng.integers(-8, 9, size=s) / 8.0 if weights == "dyadic" else rng.normal(size=s)
    net = SparseReLUNetwork(W, b, u, 0.5)
    new = F.estimate_influences(net, n_draws=500, random_state=9)
    old = F.estimate_influences(lambda X: net(X), n_features=n, n_draws=500, random_state=9)
    if weights == "dyadic":  # every sum exact: the same numbers
        np.testing.assert_array_equal(new.estimate, old.estimate)
        np.testing.assert_array_equal(new.stderr, old.stderr)
    # |D_new - D_old| <= delta for D = (f(x) - f(y)) / 2, so the squares differ
    # by <= delta (2 max|D| + delta) and so do their mean and stderr.
    delta = _value_bound(net)
    bound = delta * (2 * (float(np.abs(net.output_weights) @ (np.abs(W).sum(axis=1)
                                                               + np.abs(b)))) + delta)
    assert np.all(np.abs(new.estimate - old.estimate) <= bound)
    assert np.all(np.abs(new.stderr - old.stderr) <= bound)
    assert np.any(new.estimate > 0)


def test_estimator_validation():
    net = random_network(4, 3, random_state=0)
    with pytest.raises(ValueError, match="f returned shape \\(10, 1\\)"):
        F.estimate_total_influence(lambda X: X[:, :1], n_features=4, n_draws=5)
    with pytest.raises(ValueError, match="f returned shape \\(\\)"):
        F.estimate_noise_sensitivity(lambda X: 1.0, 0.1, n_features=4, n_draws=5)
    with pytest.raises(ValueError, match="f\\(X\\) contains NaN"):
        F.estimate_influences(lambda X: np.full(X.shape[0], np.nan), n_features=4,
                              n_draws=5)
    with pytest.raises(TypeError, match="n_features is required"):
        F.estimate_influences(lambda X: X[:, 0])
    with pytest.raises(ValueError, match="does not match the network"):
        F.estimate_influences(net, n_features=5)
    with pytest.raises(TypeError, match="f must be a SparseReLUNetwork or a callable"):
        F.estimate_total_influence(np.zeros(16))
    with pytest.raises(MemoryBudgetError, match="points evaluated per sample"):
        F.estimate_influences(lambda X: X[:, 0], n_features=30_000)
    with pytest.raises(ValueError, match="n_draws must be >= 2"):
        F.estimate_total_influence(net, n_draws=1)
    with pytest.raises(ValueError, match="flip_rate must be a flip probability"):
        F.estimate_noise_sensitivity(net, 0.7)
    with pytest.raises(TypeError, match="random_state"):
        F.estimate_noise_sensitivity(net, 0.1, random_state="seed")
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="X must be a point set of the cube"):
        F.estimate_coefficients(np.zeros((4, 3)), np.ones(4), [0])
    with pytest.raises(ValueError, match="y must have length 4"):
        F.estimate_coefficients(X, np.ones(5), [0])
    with pytest.raises(ValueError, match="at least 2 rows"):
        F.estimate_coefficients(X[:1], np.ones(1), [0])
    with pytest.raises(ValueError, match="subsets\\[1\\]=8 is not a bitmask"):
        F.estimate_coefficients(X, np.ones(4), [1, 8])
    with pytest.raises(ValueError, match="subsets\\[0\\]\\[1\\] must be <= 2"):
        F.estimate_coefficients(X, np.ones(4), [(0, 3)])
    with pytest.raises(ValueError, match="repeated coordinates"):
        F.estimate_coefficients(X, np.ones(4), [(1, 1)])
    with pytest.raises(ValueError, match="subsets is empty"):
        F.estimate_coefficients(X, np.ones(4), [])
    with pytest.raises(TypeError, match="subsets must be a sequence"):
        F.estimate_coefficients(X, np.ones(4), 3)
    with pytest.raises(TypeError, match="subsets\\[0\\] must be an int bitmask"):
        F.estimate_coefficients(X, np.ones(4), [1.5])


# ----------------------------------------------------------------- plotting
def test_plot_degree_profile(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs = [F.spectrum(bump_network(6, 6, 2, random_state=0)),
             F.spectrum(random_network(6, 6, random_state=0))]
    ax = F.plot_degree_profile(specs, labels=["sparse", "dense"])
    weights = [F.degree_weights(s) / np.sum(s**2) for s in specs]
    assert len(ax.get_lines()) == len(weights) == 2
    for line, w in zip(ax.get_lines(), weights):
        np.testing.assert_allclose(line.get_ydata(), w)
    ax = F.plot_degree_profile(specs[0], kind="tail", normalize=False)
    w = F.degree_weights(specs[0])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               [F.tail_weight(specs[0], d) for d in range(6)])
    assert w.shape == (7,)
    with pytest.raises(ValueError, match="kind must be"):
        F.plot_degree_profile(specs, kind="bars")
    with pytest.raises(ValueError, match="labels must be a sequence of 2"):
        F.plot_degree_profile(specs, labels=["one"])
    plt.close("all")


def test_plot_degree_profile_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sparselearn\[plot\]"):
        F.plot_degree_profile(np.zeros(4))


def test_durations_are_not_numbers():
    """timedelta64 is a numpy integer subtype and used to be transformed."""
    table = np.array([1, 0, 0, 0], dtype="m8[s]")
    with pytest.raises(TypeError, match="a must be a real numeric array, got dtype=timedelta64"):
        F.fwht(table)
    with pytest.raises(TypeError, match="f must be a real numeric array"):
        F.spectrum(table)


def test_spectrum_refuses_a_network_whose_outputs_overflow():
    """Outputs beyond float64 gave a truth table [inf, 0, 0, 0] and silently
    a spectrum of infinities.  (Hidden weights whose sums overflow are now
    refused by the network itself; large output weights still overflow.)"""
    net = SparseReLUNetwork([[1e300, 1e300]], [0.0], [1e300])
    with pytest.raises(ValueError, match="outputs overflow float64"):
        F.spectrum(net)


def test_spectrum_of_a_multi_output_network_needs_output():
    rng = np.random.default_rng(6)
    W, b = rng.integers(-3, 4, size=(5, 3)) / 4.0, rng.integers(-3, 4, size=5) / 4.0
    U = rng.integers(-3, 4, size=(5, 2)) / 4.0
    net = SparseReLUNetwork(W, b, U, np.zeros(2))
    X = 1.0 - 2.0 * ((np.arange(8)[:, None] >> np.arange(3)) & 1)
    for t in range(2):
        table = np.maximum(X @ W.T - b, 0.0) @ U[:, t]
        np.testing.assert_allclose(F.spectrum(net, output=t),
                                   F.spectrum(table), atol=1e-15)
    with pytest.raises(ValueError, match="2 outputs: pass output=t"):
        F.spectrum(net)
    with pytest.raises(TypeError, match="truth table has one output"):
        F.spectrum(np.zeros(8), output=0)
    with pytest.raises(ValueError, match="select_output"):
        F.estimate_total_influence(net, n_draws=10, random_state=0)


def test_degree_for_tail_is_the_smallest_degree_within_the_budget():
    # f = x_0 + 0.5 x_0 x_1 x_2 on {-1,1}^3: E[f^2] = 1.25, W^{>1} = W^{>2} = 0.25.
    X = all_cube_points(3)
    table = X[:, 0] + 0.5 * X[:, 0] * X[:, 1] * X[:, 2]
    spec = F.spectrum(table)
    # budget fraction * eps * E[f^2]: 0.5 * 0.5 * 1.25 = 0.3125 >= 0.25 -> degree 1;
    # 0.5 * 0.3 * 1.25 = 0.1875 < 0.25 -> the tail vanishes only at degree 3.
    assert F.degree_for_tail(spec, 0.5) == 1
    assert F.degree_for_tail(spec, 0.3) == 3
    assert F.degree_for_tail(spec, 0.3, fraction=1.0) == 1  # 0.375 >= 0.25
    assert F.degree_for_tail(np.zeros(8), 0.1) == 0
    net = bump_network(8, 6, 2, random_state=0)
    net_spec = F.spectrum(net)
    d = F.degree_for_tail(net, 0.1)
    assert d == F.degree_for_tail(net_spec, 0.1)
    energy = float(net_spec @ net_spec)
    assert F.tail_weight(net_spec, d) <= 0.05 * energy < F.tail_weight(net_spec, d - 1)
    with pytest.raises(ValueError, match="eps"):
        F.degree_for_tail(spec, 0.0)
    with pytest.raises(ValueError, match="fraction"):
        F.degree_for_tail(spec, 0.1, fraction=0.0)


@pytest.mark.parametrize("table", [[1e308, -1e308], [1e308, -1e308, 1e308, -1e308]])
def test_spectrum_refuses_a_transform_that_overflows_with_a_finite_sum(table):
    """The entries sum to 0, so the sum check passed, but coefficient 1 is
    2e308: spectrum returned [0, inf] (and [0, inf, 0, nan]) where fwht
    raises."""
    with pytest.raises(ValueError, match="f has entries so large that its transform "
                                         "overflows float64"):
        F.spectrum(np.array(table))


def test_spectrum_refuses_a_network_whose_transform_overflows():
    """Finite outputs of alternating sign, +-1.5e308, sum to 0 over the cube
    but their transform does not fit float64."""
    net = SparseReLUNetwork([[1.0, 0.0], [-1.0, 0.0]], [0.0, 0.0], [1.5e308, -1.5e308])
    with pytest.raises(ValueError, match="truth table of f has entries so large"):
        F.spectrum(net)


@pytest.mark.parametrize("function", [F.degree_weights, F.influences, F.total_influence,
                                      lambda spec: F.tail_weight(spec, 1),
                                      lambda spec: F.noise_sensitivity(spec, 0.1)])
def test_sums_of_squares_that_overflow_are_an_error_not_inf(function):
    """Coefficients of 1e160 have squares beyond float64: the weights were
    inf (and ratios of them NaN downstream); at 1e150 they are exact enough
    to equal the unit spectrum's times 1e300 to rounding."""
    unit = np.array([0.5, 0.5, -0.5, 0.5])
    with pytest.raises(ValueError, match=r"coefficients up to 1e\+160.*overflow float64"):
        function(unit * 2e160)
    # Every square finite (1.69e308), their sums not.
    with pytest.raises(ValueError, match=r"sums of squares overflow.*2.0\*\*-512"):
        function(np.array([0.0, 1.3e154, 1.3e154, 1.3e154]))
    np.testing.assert_allclose(np.asarray(function(unit * 1e150)),
                               np.asarray(function(unit)) * 1e300, rtol=1e-14)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 2.0**1000, 2.0**-1000])
def test_degree_for_tail_does_not_depend_on_the_scale(scale):
    """f = x_0 x_1 needs degree 2 at any scale; the squared coefficients
    overflowed to inf beyond ~1e154 (a budget of inf admits d = 0) and
    underflowed to 0 below ~1e-162 (every tail 0 <= 0): both gave 0."""
    spec = np.array([0.0, 0.0, 0.0, 1.0])
    assert F.degree_for_tail(spec * scale, eps=0.1) == 2
    # x_0 + 0.1 x_0 x_1 (the docstring's example), scaled: 1 at eps=0.1, 2 at 0.01.
    spec = np.array([0.0, 1.0, 0.0, 0.1]) * scale
    assert (F.degree_for_tail(spec, eps=0.1), F.degree_for_tail(spec, eps=0.01)) == (1, 2)


def test_degree_for_tail_of_a_network_with_huge_outputs():
    net = SparseReLUNetwork([[1.0, 1.0]], [1.0], [1e200])   # 1e200 relu(x_0 + x_1 - 1)
    assert F.degree_for_tail(net, eps=0.01) == F.degree_for_tail(
        SparseReLUNetwork([[1.0, 1.0]], [1.0], [1.0]), eps=0.01) == 2


def test_estimate_coefficients_names_the_bad_coordinate():
    """The message read "subsets[0][] must be <= 2"."""
    X = 1.0 - 2.0 * ((np.arange(8)[:, None] >> np.arange(3)) & 1)
    with pytest.raises(ValueError, match=r"subsets\[1\]\[2\] must be <= 2, got 5"):
        F.estimate_coefficients(X, X[:, 0], [(0,), (0, 1, 5)])


def test_degree_for_tail_takes_the_output_of_a_multi_output_network():
    """Its error said "pass output=t", which degree_for_tail did not accept."""
    # Output 0: x_0 (degree 1); output 1: relu(x_0 + x_1 - 1) = (1 + x_0 + x_1 + x_0 x_1) / 2.
    net = SparseReLUNetwork([[1.0, 0.0], [-1.0, 0.0], [1.0, 1.0]], [0.0, 0.0, 1.0],
                            [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], np.zeros(2))
    with pytest.raises(ValueError, match="pass output=t"):
        F.degree_for_tail(net, eps=0.01)
    assert F.degree_for_tail(net, eps=0.01, output=0) == 1
    assert F.degree_for_tail(net, eps=0.01, output=1) == 2
    with pytest.raises(TypeError, match="a spectrum has one output"):
        F.degree_for_tail(np.array([0.0, 1.0]), eps=0.1, output=0)
