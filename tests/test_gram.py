"""Tests for sparselearn._gram: the Gram matrix P^T P from the distinct
moments of real data (plan, products, scatter) against the explicit Gram,
and the compiled moment kernels against their NumPy twins."""
import itertools

import numpy as np
import pytest
from strategies import explicit_parity_features

from sparselearn import _gram, _solvers
from sparselearn._solvers import _solve_cholesky
from sparselearn.parities import ParityDesign, n_parity_features

@pytest.fixture
def moments_everywhere(monkeypatch):
    """The moment route for every real design, however small (the default
    keeps syrk below D = 256), and chunks of 7 rows: several chunks per
    thread, a short last one, several flushes and pieces."""
    monkeypatch.setattr(_gram, "_MOMENT_MIN_FEATURES", 0)
    monkeypatch.setattr(_gram, "_MOMENT_MIN_ROWS", 0)
    monkeypatch.setattr(_gram, "_MOMENT_MAX_SHARE", np.inf)
    monkeypatch.setattr(_gram, "_moment_rows", lambda D: 7)
    # Float32 tables flushed every 2 chunks; F x W operands built 2 columns at a time.
    monkeypatch.setattr(_gram, "_MOMENT_FLUSH_ROWS", 14)
    monkeypatch.setattr(_gram, "_MOMENT_PIECE_COLUMNS", 2)
    return _gram


@pytest.mark.parametrize("n, degree", [(1, 0), (3, 1), (5, 2), (6, 3), (7, 4), (70, 1)])
def test_moment_kernels_equal_numpy_twins(n, degree):
    """The three kernels of _moments against their NumPy twins: the float32
    rows to float32 rounding (each entry at most degree float32 multiplies),
    the sgemm products to float32 rounding of sums of |terms| (rows 9, a
    few products in pieces of 2 columns), the scatter exactly (same
    operations on the same table, on one or two threads)."""
    from sparselearn._kernels import _moments
    from sparselearn._reference import moments as twin
    from sparselearn._gram import _MomentPlan
    rng = np.random.default_rng(70 + n + degree)
    k = 9
    X = rng.normal(size=(k, n)) * rng.uniform(0.5, 2.0, size=n)
    plan = _MomentPlan(n, degree)
    D = plan.n_features
    elems, starts, *_, binom = plan.scatter_arrays()
    F, W, C = (np.empty((k, D), np.float32), np.empty((k, plan.starts[degree]), np.float32),
               np.empty((k, D), np.float32))
    _moments.moment_rows32(X, plan.counts(), starts, binom, F, W, C)
    expected = twin.moment_rows32(X, degree)
    for got, want in zip((F, W, C), expected):
        np.testing.assert_allclose(got, want, rtol=degree * 2.0**-23, atol=0)
    products = plan.products32(2)
    built = products[products[:, 2] > 1, 5]
    R = np.empty(max(1, k * int(built.max(initial=0))), np.float32)
    start = rng.normal(size=plan.size).astype(np.float32)
    table = start.copy()
    _moments.moment_products32(F, W, C, R, products, plan.starts[degree], table)
    want = twin.moment_products32(F, W, C, products, plan.starts[degree], start)
    size = twin.moment_products32(np.abs(F), np.abs(W), np.abs(C), products,
                                  plan.starts[degree], np.abs(start))
    assert np.all(np.abs(table - want) <= 2 * k * 2.0**-24 * size)
    touched = twin.moment_products32(F, W, C, products, plan.starts[degree],
                                     np.zeros(plan.size)) != 0
    assert touched.mean() > 0.5  # the products reach most of the table
    moments = rng.normal(size=plan.size)
    scale = rng.uniform(0.5, 2.0, size=D)
    reference_G = twin.scatter_moments(plan, moments, scale, 0.3, 1.7)
    arrays = plan.scatter_arrays()
    for dtype, n_jobs in itertools.product((np.float64, np.float32), (1, 2)):
        G = np.full((D, D), -5.0, dtype=dtype, order="F")
        _moments.scatter_moments(moments, *arrays, scale, 0.3, 1.7, G.T, n_jobs)
        np.testing.assert_array_equal(np.triu(G), reference_G.astype(dtype))
        assert np.all(G[np.tril_indices(D, -1)] == -5.0)  # the strict lower triangle untouched


@pytest.mark.parametrize("n, degree, pieces", [(9, 3, 2), (12, 3, 16), (10, 4, 3), (40, 2, 5)])
def test_moment_products_compute_each_read_slot_once(n, degree, pieces):
    """The products (float32 and float64) form a staircase over each merged
    group: every table slot the scatter reads is computed by exactly one
    product, and in the ordered levels only the slots of pairs with
    max A_1 < min A_2 are computed, none of the merged groups' unused
    slots: the ordered levels' computed slots number the plan's
    C(t, a1) C(n - 1 - t, a2 - 1) wk summed over t."""
    import math

    from sparselearn._reference import moments as twin
    from sparselearn._gram import _MomentPlan
    plan = _MomentPlan(n, degree, (4, 16))  # small groups: many merges at these n
    D, k = plan.n_features, 3
    products = plan.products32(pieces)
    ones = [np.ones((k, w), np.float32) for w in (D, plan.starts[degree], D)]
    counts32 = twin.moment_products32(*ones, products, plan.starts[degree],
                                      np.zeros(plan.size)) / k
    counts64 = np.zeros(plan.size)  # the float64 products (solver="cholesky")
    plan.accumulate(np.ones((k, D)), np.ones((k, plan.starts[degree])), counts64)
    read = twin.scatter_moments(plan, np.arange(plan.size, dtype=np.float64), np.ones(D),
                                1.0, 0.0)
    read = np.unique(read[np.triu_indices(D)]).astype(np.int64)
    first_ordered = min(groups[0][4] for (*_, groups, _, _) in plan.ordered.values())
    staircase = sum(math.comb(t, a1) * math.comb(n - 1 - t, a2 - 1) * wk
                    for (a1, a2, wk, *_) in plan.ordered.values() for t in range(n))
    for counts in (counts32, counts64 / k):
        assert set(np.unique(counts)) <= {0.0, 1.0}
        assert np.all(counts[read] == 1.0)
        assert counts[first_ordered:].sum() == staircase


@pytest.mark.parametrize("n, degree", [(13, 3), (10, 4), (30, 2), (90, 1)])
def test_scatter_moments_runs_equal_numpy_twin(n, degree):
    """The scatter on plans whose columns have long runs S' + {s} (rows
    along which the index is affine in s: up to n - 1 per prefix), short
    prefixes (found one by one from bit words, n <= 64) and n > 64 (runs
    only): bit for bit the twin's entries, every kind of run (dense levels,
    s in A_1, at t = min A_2 and past it) at degrees 3 and 4, float32 and
    float64, one and two threads, the lower triangle untouched."""
    from sparselearn._kernels import _moments
    from sparselearn._reference import moments as twin
    from sparselearn._gram import _MomentPlan
    rng = np.random.default_rng(90 + n + degree)
    plan = _MomentPlan(n, degree)
    D = plan.n_features
    moments = rng.normal(size=plan.size)
    scale = rng.uniform(0.5, 2.0, size=D)
    factor, shift = rng.normal(), rng.normal()
    reference_G = twin.scatter_moments(plan, moments, scale, factor, shift)
    arrays = plan.scatter_arrays()
    for dtype, n_jobs in itertools.product((np.float64, np.float32), (1, 2)):
        G = np.full((D, D), -5.0, dtype=dtype, order="F")
        _moments.scatter_moments(moments, *arrays, scale, factor, shift, G.T, n_jobs)
        np.testing.assert_array_equal(np.triu(G), reference_G.astype(dtype))
        assert np.all(G[np.tril_indices(D, -1)] == -5.0)


@pytest.mark.parametrize("n, degree", [(1, 0), (4, 0), (1, 1), (5, 1), (2, 2), (6, 2),
                                        (3, 3), (7, 3), (4, 4), (8, 4), (11, 3)])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_moment_gram_equals_the_explicit_gram(moments_everywhere, n, degree, n_jobs):
    """_moment_gram writes the upper triangle of P^T P (each distinct moment
    computed once, then scattered) and P^T Y: equal to the brute-force Gram
    of the explicit monomials to rounding, at every degree 0..4, on one or
    two threads; float32 products to single-precision accuracy."""
    rng = np.random.default_rng(40 + 10 * n + degree)
    m = 61
    X = rng.normal(size=(m, n)) * rng.uniform(0.3, 3.0, size=n) + rng.normal(size=n)
    Y = rng.normal(size=(m, 3))
    P = explicit_parity_features(X, degree)
    design = ParityDesign(X, degree, domain="real", n_jobs=n_jobs)
    D = P.shape[1]
    expected = np.triu(P.T @ P)
    G = np.zeros((D, D), order="F")
    B = moments_everywhere._moment_gram(design, G, Y)
    scale = np.abs(P).sum(axis=0)
    bound = 1e-13 * np.outer(scale, scale)  # rounding of sums of m products
    assert np.all(np.abs(G - expected) <= bound)
    assert not np.tril(G, -1).any()
    np.testing.assert_allclose(B, P.T @ Y, rtol=1e-12, atol=1e-12 * np.abs(Y).sum())
    G32 = np.zeros((D, D), dtype=np.float32, order="F")
    assert moments_everywhere._moment_gram(design, G32, products=np.float32) is None
    assert np.all(np.abs(G32 - expected) <= 1e-5 * np.outer(scale, scale))
    assert not np.tril(G32, -1).any()


def test_float32_moment_table_is_the_same_on_any_number_of_threads(moments_everywhere):
    """The float32 route's groups are summed in group order whatever thread
    computed them (and a thread may run ahead by a few groups): the table is
    bit for bit the same on 1, 2 and 3 threads (61 rows: 5 groups of 14)."""
    from sparselearn._gram import _MomentPlan
    rng = np.random.default_rng(44)
    X = rng.normal(size=(61, 6))
    plan = _MomentPlan(6, 3)
    tables = [moments_everywhere._moment_table32(plan, X, 7, jobs) for jobs in (1, 2, 3)]
    np.testing.assert_array_equal(tables[0], tables[1])
    np.testing.assert_array_equal(tables[0], tables[2])
    design = ParityDesign(X, 3, domain="real")
    np.testing.assert_allclose(tables[0], moments_everywhere._moment_table(design)[0],
                               rtol=1e-5, atol=1e-5 * np.abs(X).max() ** 6 * 61)


def test_moment_gram_past_64_features(moments_everywhere, monkeypatch):
    """Subsets as bit masks of several 64-bit words: with one word, pairs
    sharing an element >= 64 passed as disjoint (numpy's shift by 64 is 0)
    and their moments were scattered into wrong entries (n = 66: errors
    of 56 on entries of 3)."""
    rng = np.random.default_rng(466)
    X = rng.normal(size=(30, 66))
    P = explicit_parity_features(X, 2)
    design = ParityDesign(X, 2, domain="real")
    G = np.zeros((P.shape[1], P.shape[1]), order="F")
    moments_everywhere._moment_gram(design, G)
    scale = np.abs(P).sum(axis=0)
    assert np.all(np.abs(G - np.triu(P.T @ P)) <= 1e-13 * np.outer(scale, scale))


def test_moment_plan_counts_each_distinct_moment():
    """At n = 32, d = 3 the table holds each distinct moment (2.55 million
    multisets of size <= 6 with multiplicities <= 2) plus the unused slots of
    the dense layout and of the product blocks merged up to _MOMENT_GROUP
    rows x columns (BLAS is slow on skinny ones;
    2.94 million slots in all at 16 x 64): under a quarter of G's 15
    million upper-triangle entries."""
    import math

    from sparselearn._gram import _MomentPlan
    n, d = 32, 3
    distinct = sum(math.comb(n, k) * math.comb(n - k, a) for k in range(d + 1)
                   for a in range(2 * (d - k) + 1))
    D = n_parity_features(n, d)
    size = _MomentPlan(n, d).size
    assert distinct <= size <= 1.3 * distinct
    assert size < 0.25 * D * D / 2


@pytest.mark.parametrize("alpha", [0.0, 1.5])
def test_solvers_on_the_moment_route(moments_everywhere, alpha):
    """_solve_cholesky (float64 moments) and _solve_sketch with every row as
    its sample (the float32 Gram as preconditioner) give the ridge solution
    of the explicit matrix for a block of 3 right-hand sides."""
    rng = np.random.default_rng(41)
    n, degree, m = 7, 3, 300  # D = 64, m <= 4 D: the sketch samples every row
    X = rng.normal(size=(m, n)) @ rng.normal(size=(n, n))
    Y = rng.normal(size=(m, 3))
    P = explicit_parity_features(X, degree)
    D = P.shape[1]
    expected = np.linalg.solve(P.T @ P + alpha * np.eye(D), P.T @ Y)
    design = ParityDesign(X, degree, domain="real", n_jobs=2)
    np.testing.assert_allclose(_solve_cholesky(design, Y, alpha), expected, rtol=1e-8,
                               atol=1e-10 * np.abs(expected).max())
    coef, n_iter, converged = _solvers._solve_sketch(design, Y, alpha, 1e-12, 200,
                                                               np.random.default_rng(0))
    assert converged and 1 <= n_iter <= 200
    np.testing.assert_allclose(P @ coef, P @ expected, rtol=0,
                               atol=1e-8 * np.abs(P @ expected).max())


def test_moment_route_rank_deficient_takes_the_minimum_norm_fallback(moments_everywhere):
    """A repeated input column (x_1 = x_0) makes the monomials x_0 x_j and
    x_1 x_j equal: with alpha = 0 the normal equations are singular, and
    both solvers fall back to the minimum-norm least-squares fit."""
    rng = np.random.default_rng(42)
    m, degree = 200, 2
    X = rng.normal(size=(m, 5))
    X[:, 1] = X[:, 0]
    y = X[:, 0] * X[:, 2] + rng.normal(size=m)
    P = explicit_parity_features(X, degree)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    design = ParityDesign(X, degree, domain="real")
    chol = _solve_cholesky(design, y, 0.0)
    sketch, n_iter, converged = _solvers._solve_sketch(design, y, 0.0, 1e-10, 100,
                                                                 np.random.default_rng(0))
    for coef in (chol, sketch):
        np.testing.assert_allclose(P @ coef, P @ expected, rtol=0, atol=1e-6)
        assert np.linalg.norm(coef) <= 1.01 * np.linalg.norm(expected)


def test_moment_route_stays_within_its_memory_estimate():
    """solver="cholesky" and "sketch" on the moment route (n = 16, d = 3:
    D = 697, the table 0.41 of D^2 / 2; the sketch's sample of 4090 rows is
    on it too): the fit's allocations (tracemalloc peak) are within
    ParityDesign.estimate_bytes, on two threads."""
    import tracemalloc

    from sparselearn.learners import LowDegreeRegressor
    from sparselearn._gram import _moments_apply
    from sparselearn._solvers import _sketch_rows
    rng = np.random.default_rng(43)
    m, n = 24000, 16
    s = _sketch_rows(m, n_parity_features(n, 3))  # the sketch's sample
    assert _moments_apply(n, 3, "real", m) and _moments_apply(n, 3, "real", s) and s < m
    X = rng.normal(size=(m, n))
    y = X[:, 0] * X[:, 1] + rng.normal(size=m)
    for solver in ("cholesky", "sketch"):
        model = LowDegreeRegressor(degree=3, solver=solver, alpha=1.0, n_jobs=2, random_state=0)
        tracemalloc.start()
        model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak <= ParityDesign.estimate_bytes(m, n, 3, solver, n_jobs=2, domain="real")
