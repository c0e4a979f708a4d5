"""Tests for sparselearn.parities: subset order and count, bit packing, the
parity kernels against their NumPy twins, the matrix-free products of
ParityDesign against the explicit feature matrix, its validation, views,
copies and memory budgets (the solvers: tests/test_solvers.py; the Gram
from moments: tests/test_gram.py)."""
import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import cube_points, explicit_parity_features, random_cube

from sparselearn import MemoryBudgetError
from sparselearn._kernels import _parity
from sparselearn._reference import parity as reference
from sparselearn.parities import (_FOLD_ROWS, ParityDesign, n_parity_features, pack_rows,
                                  parity_subsets)

dyadic = st.integers(-24, 24).map(lambda v: v / 8.0)
finite = st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=64)


# ------------------------------------------------------------------ subsets
@given(n=st.integers(1, 12), degree=st.integers(0, 5))
def test_subsets_are_itertools_order_and_count(n, degree):
    degree = min(degree, n)
    expected = [S for t in range(degree + 1) for S in itertools.combinations(range(n), t)]
    assert parity_subsets(n, degree) == expected
    assert n_parity_features(n, degree) == len(expected)


def test_scale_feature_count():
    assert n_parity_features(64, 3) == 43745


@given(data=st.data(), n=st.integers(1, 150))
def test_pack_rows_follows_the_cube_index_convention(data, n):
    X = data.draw(cube_points(n, m=st.integers(1, 5)))
    words = pack_rows(X)
    assert words.shape == (X.shape[0], -(-n // 64)) and words.dtype == np.uint64
    for i, row in enumerate(X):
        for j in range(n):
            bit = (int(words[i, j // 64]) >> (j % 64)) & 1
            assert bit == (row[j] == -1.0)


# ------------------------------------------------------- kernels vs twins
@st.composite
def packed_problem(draw, max_n=150):
    """Bit-packed points, random subset masks, dyadic vectors of matching size."""
    n = draw(st.integers(1, max_n))
    X = draw(cube_points(n, m=st.integers(1, 30)))
    n_subsets = draw(st.integers(1, 40))
    members = draw(arrays(np.bool_, (n_subsets, n), elements=st.booleans(), fill=st.nothing()))
    masks = pack_rows(np.where(members, -1.0, 1.0))
    coef = draw(arrays(np.float64, (n_subsets,), elements=dyadic, fill=st.nothing()))
    r = draw(arrays(np.float64, (X.shape[0],), elements=dyadic, fill=st.nothing()))
    return X, pack_rows(X), masks, coef, r


@given(problem=packed_problem())
def test_parity_kernels_equal_numpy_twins(problem):
    X, xbits, masks, coef, r = problem
    # Dyadic entries with small magnitudes: every sum is exact in float64.
    P = np.empty((xbits.shape[0], masks.shape[0]))
    _parity.parity_features(xbits, masks, P)
    np.testing.assert_array_equal(P, reference.parity_features(xbits, masks))
    out = np.empty(xbits.shape[0])
    _parity.parity_matvec(xbits, masks, coef, out)
    np.testing.assert_array_equal(out, reference.parity_matvec(xbits, masks, coef))
    grad = np.empty(masks.shape[0])
    _parity.parity_rmatvec(xbits, masks, r, grad)
    np.testing.assert_array_equal(grad, reference.parity_rmatvec(xbits, masks, r))


@given(problem=packed_problem(max_n=70))
def test_twin_feature_matrix_is_the_product_of_coordinates(problem):
    """The twin itself, against prod_{j in S} x_j written out (no bits)."""
    X, xbits, masks, _, _ = problem
    members = reference.unpack(masks, X.shape[1]) < 0
    expected = np.array([[np.prod(x[member]) for member in members] for x in X])
    np.testing.assert_array_equal(reference.parity_features(xbits, masks), expected)


@given(data=st.data(), n=st.integers(1, 9), degree=st.integers(1, 4),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_parity_levels_equals_twin(data, n, degree, dtype):
    """Both precisions (on the cube every parity is +-1, exact in float32);
    with ``first``, the last level's columns from ``first`` on (its others
    are left unwritten: NaN stays NaN; level 0, the constant, is written)."""
    degree = min(degree, n)
    X = data.draw(cube_points(n, m=st.integers(1, 20)))
    design = ParityDesign(X, degree)
    Q = np.empty((X.shape[0], design.n_lower), dtype=dtype)
    _parity.parity_levels(X.astype(dtype), design._level_counts, design._level_starts, Q)
    expected = reference.parity_levels(X, degree - 1)
    np.testing.assert_array_equal(Q, expected)
    last = int(design._level_starts[-1])
    first = data.draw(st.integers(0, design.n_lower))
    Q.fill(np.nan)
    _parity.parity_levels(X.astype(dtype), design._level_counts, design._level_starts, Q, first)
    written = np.arange(design.n_lower) >= min(max(first, last), design.n_lower)
    written[:max(last, 1)] = True  # the constant column is always written
    np.testing.assert_array_equal(Q[:, written], expected[:, written])
    assert np.isnan(Q[:, ~written]).all()


@given(data=st.data(), n=st.integers(1, 40), k=st.integers(0, 60),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_quadratic_normal_equals_twin(data, n, k, dtype):
    """The degree-2 normal product of a chunk against its twin on the same
    rows (in the kernel's precision): float64 to rounding; float32 (float32
    sums over k rows) within (n + k + 4) eps32 of the magnitudes summed,
    plus underflow.  An empty chunk gives zeros; a buffer of the wrong shape
    is refused."""
    X = data.draw(arrays(np.float64, (k, n), elements=finite)).astype(dtype)
    c0 = data.draw(finite)
    c1 = data.draw(arrays(np.float64, (n,), elements=finite))
    U = data.draw(arrays(np.float64, (n, n), elements=finite))
    U = np.triu(U, 1) + np.triu(U, 1).T  # symmetric, zero diagonal
    Z = np.empty((k, n), dtype)
    g, M = np.full(n + 1, np.nan, dtype), np.full((n, n), np.nan, dtype)
    U, c1 = U.astype(dtype), c1.astype(dtype)
    if dtype == np.float32:
        c0 = float(np.float32(c0))
    _parity.quadratic_normal(X, c0, c1, U, Z, g, M)
    expected_g, expected_M = reference.quadratic_normal(X, c0, c1, U)
    # Bound the rounding by the same sums over absolute values.
    A = np.abs(X.astype(np.float64))
    p = abs(c0) + A @ np.abs(c1) + np.einsum("ri,ij,rj->r", A, np.abs(U), A)
    Q1 = np.hstack([np.ones((k, 1)), A])
    eps = 8 * float(np.finfo(np.float64).eps) if dtype == np.float64 else _EPS32
    # Plus gradual underflow: each of the n + k + 4 roundings of a term
    # (|x| <= 4, at most four factors) is off by at most 4^4 tiny.
    tiny = (n + k + 4) * (k + 1) * 4.0**4 * float(np.finfo(dtype).tiny)
    bound_g = (n + k + 4) * eps * (p @ Q1) + tiny
    bound_M = (n + k + 4) * eps * ((A * p[:, None]).T @ A) + tiny
    assert np.all(np.abs(g - expected_g) <= bound_g)
    assert np.all(np.abs(M - expected_M) <= bound_M)
    with pytest.raises(ValueError, match="quadratic_normal"):  # a buffer of the wrong shape
        _parity.quadratic_normal(X, c0, c1, U, Z, g[:-1], M)


@given(data=st.data(), n=st.integers(1, 9), degree=st.integers(1, 4),
       in_dtype=st.sampled_from([np.float64, np.float32]),
       out_dtype=st.sampled_from([np.float64, np.float32]))
def test_parity_levels_on_real_rows_in_either_precision(data, n, degree, in_dtype, out_dtype):
    """Real rows, either precision in and out: level 1 is the rows rounded
    to the output's precision (exactly), and each further level one more
    product in it, so a level-t monomial is within (t - 1) roundings of the
    exact product of the rounded coordinates (the twin on them)."""
    degree = min(degree, n)
    m = data.draw(st.integers(1, 20))
    X = data.draw(arrays(np.float64, (m, n), elements=finite)).astype(in_dtype)
    design = ParityDesign(np.ones((1, n)), degree)
    Q = np.empty((m, design.n_lower), dtype=out_dtype)
    _parity.parity_levels(X, design._level_counts, design._level_starts, Q)
    rounded = X.astype(out_dtype).astype(np.float64)
    expected = reference.parity_levels(rounded, degree - 1)
    np.testing.assert_array_equal(Q[:, :1 + n], expected[:, :1 + n])
    info = np.finfo(out_dtype)
    # Gradual underflow: a product below tiny is off by at most tiny, then
    # scaled by at most 4 (|x| <= 4) per later factor.
    np.testing.assert_allclose(Q, expected, rtol=degree * float(info.eps),
                               atol=4.0**degree * float(info.tiny))


# ----------------------------------------------- matrix-free products vs P
@settings(max_examples=30)
@given(data=st.data(), n=st.integers(1, 70), degree=st.integers(0, 4),
       products=st.sampled_from(["blas", "popcount"]), n_jobs=st.sampled_from([1, 2]))
def test_design_products_equal_explicit_feature_matrix(data, n, degree, products, n_jobs):
    degree = min(degree, n, 2 if n > 12 else 4)
    X = data.draw(cube_points(n, m=st.integers(1, 60)))
    design = ParityDesign(X, degree, products=products, n_jobs=n_jobs)
    design._chunk_rows = data.draw(st.integers(16, 64))  # exercise several chunks
    P = explicit_parity_features(X, degree)
    assert design.n_output_features == P.shape[1]
    coef = data.draw(arrays(np.float64, (P.shape[1],), elements=finite, fill=st.nothing()))
    r = data.draw(arrays(np.float64, (X.shape[0],), elements=finite, fill=st.nothing()))
    np.testing.assert_allclose(design.matvec(coef), P @ coef, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(design.rmatvec(r), P.T @ r, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(design.normal_matvec(coef), P.T @ (P @ coef),
                               rtol=1e-12, atol=1e-8)
    if P.shape[1] <= 400:
        G, b = design.gram(r)
        np.testing.assert_allclose(G, P.T @ P, atol=1e-9)
        np.testing.assert_allclose(b, P.T @ r, atol=1e-9)


@pytest.mark.parametrize("split_min_n", [48, 6])
@pytest.mark.parametrize("domain", ["cube", "real"])
@pytest.mark.parametrize("n, degree", [(1, 0), (5, 0), (1, 1), (17, 1), (2, 2), (16, 2),
                                       (33, 2), (3, 3), (6, 3), (7, 3), (16, 3), (17, 3),
                                       (35, 3), (4, 4), (6, 4), (11, 4), (18, 4)])
def test_blocked_products_equal_the_explicit_features_across_block_layouts(
        monkeypatch, split_min_n, domain, n, degree):
    """The BLAS route's layouts (staircase blocks of 16 columns, n a
    multiple of 16 or not, one or several blocks;
    with split_min_n = 6 the split layout of _top_layout at small n: dense
    boxes across the middle of each interval, split again down to intervals
    of fewer than 6, staircases on left blocks and on the lower one), its per-thread dense block accumulators folded once per share (one
    and two threads, several chunks) and a (D, c) block, against the
    explicit feature matrix of the itertools subsets, on the cube and off it."""
    monkeypatch.setattr("sparselearn.parities._SPLIT_MIN_N", split_min_n)
    rng = np.random.default_rng(n * 10 + degree)
    m = 90
    X = random_cube(rng, m, n) if domain == "cube" else rng.normal(size=(m, n))
    P = explicit_parity_features(X, degree)
    D = P.shape[1]
    coef, r = rng.normal(size=(D, 3)), rng.normal(size=(m, 3))
    # Tolerances relative to the products' magnitudes (entries of P are
    # products of up to 4 Gaussians off the cube).
    scale = np.abs(P).sum(axis=1).max()
    for n_jobs in (1, 2):
        design = ParityDesign(X, degree, n_jobs=n_jobs, domain=domain)
        design._chunk_rows = 16  # six chunks, three a thread
        for c in (0, 3):
            a, b = (coef[:, 0], r[:, 0]) if c == 0 else (coef, r)
            np.testing.assert_allclose(design.matvec(a), P @ a, rtol=0,
                                       atol=1e-12 * scale * np.abs(a).max())
            np.testing.assert_allclose(design.rmatvec(b), P.T @ b, rtol=0,
                                       atol=1e-12 * m * np.abs(P).max() * np.abs(b).max())
            np.testing.assert_allclose(design.normal_matvec(a), P.T @ (P @ a), rtol=0,
                                       atol=1e-12 * m * scale**2 * np.abs(a).max())


_EPS32 = float(np.finfo(np.float32).eps)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(1, 40), degree=st.integers(1, 4),
       c=st.sampled_from([0, 1, 3]), n_jobs=st.sampled_from([1, 2]),
       chunk=st.sampled_from([None, 16, 17]), fold=st.sampled_from([2048, 16, 40]))
def test_float32_products_are_the_float64_ones_to_float32_rounding(
        data, n, degree, c, n_jobs, chunk, fold):
    """dtype=np.float32 against the float64 products, any shape (m = 1 and
    n = 1 included, chunks of 16 or 17 rows, float32 sums folded every 16 or
    40 rows or once, one or two threads, a vector or a (D, c) block).

    A float32 product sums terms +-c_s (predictions, at most D of them) and
    then +-r_i (fewer than fold rows plus one float32 chunk, which has
    twice the float64 chunk's rows) with exact +-1 factors, so to first
    order every entry of P^T P c is off by at most
    (D + rows + 2) * eps32 * m * ||c||_1 (||c||_1 bounds every
    prediction) and every prediction by (D + 1) * eps32 * ||c||_1: the
    bounds asserted, with a factor 2 for the second-order terms."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sparselearn.parities._FOLD_ROWS", fold)
        _check_float32_products(data, n, degree, c, n_jobs, chunk, fold)


def _check_float32_products(data, n, degree, c, n_jobs, chunk, fold):
    degree = min(degree, n, 2 if n > 12 else 4)
    m = data.draw(st.integers(1, 120))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    X = random_cube(rng, m, n)
    design = ParityDesign(X, degree, n_jobs=n_jobs)
    if chunk is not None:
        design._chunk_rows = chunk
    D = design.n_output_features
    coef = rng.normal(size=(D, c) if c else D)
    r = rng.normal(size=(m, c) if c else m)
    l1 = np.abs(coef).sum(axis=0)
    rows = fold + 2 * design._chunk_rows  # float32 chunks have twice the rows
    got = design.matvec(coef, dtype=np.float32)
    assert got.dtype == np.float64
    assert np.all(np.abs(got - design.matvec(coef)) <= 2 * (D + 1) * _EPS32 * l1)
    got = design.rmatvec(r, dtype=np.float32)
    bound = 2 * (min(m, rows) + 1) * _EPS32 * np.abs(r).sum(axis=0)
    assert np.all(np.abs(got - design.rmatvec(r)) <= bound)
    got = design.normal_matvec(coef, dtype=np.float32)
    bound = 2 * (D + min(m, rows) + 2) * _EPS32 * m * l1
    assert np.all(np.abs(got - design.normal_matvec(coef)) <= bound)


@pytest.mark.parametrize("n, degree", [(1, 1), (9, 2), (12, 3), (40, 2), (20, 4)])
def test_float32_products_are_float32_and_close_to_float64(n, degree):
    """m = 4 D + 50 points, Gaussian coefficients: the float32 normal
    product is within 1e-5 of the float64 one in norm, relative (measured
    2e-7 to 7e-7, from n = 10 to 128), and really is float32 (an error
    above 1e-9: float64 would be near 1e-16)."""
    rng = np.random.default_rng(n + 7 * degree)
    D = n_parity_features(n, degree)
    design = ParityDesign(random_cube(rng, 4 * D + 50, n), degree)
    design._chunk_rows = max(16, design.n_samples // 5)  # several chunks
    for coef in (rng.normal(size=D), rng.normal(size=(D, 2))):
        exact = design.normal_matvec(coef)
        error = np.linalg.norm(design.normal_matvec(coef, dtype=np.float32) - exact)
        assert 1e-9 < error / np.linalg.norm(exact) < 1e-5


@pytest.mark.parametrize("n, degree", [(1, 1), (9, 2), (12, 3), (20, 4)])
def test_float32_products_on_real_x_round_the_rows_once(n, degree):
    """Real X: the float32 products are those of X rounded to float32, in
    float32 arithmetic.  Against float64 products of the rounded rows (which
    leaves only the float32 arithmetic) the error is within the cube's bound
    scaled by the monomials' size; against the float64 products of X itself
    it is of the order of eps32 (above 1e-9: really float32), relative."""
    rng = np.random.default_rng(3 * n + degree)
    D = n_parity_features(n, degree)
    # (at n = 20, d = 4 fewer rows than features: the explicit P below is
    # 4,050 x 6,196, where 4 D rows made it 1.2 GB and the test 30 s)
    X = rng.normal(size=(min(4 * D, 4000) + 50, n))
    design = ParityDesign(X, degree, domain="real")
    design._chunk_rows = max(16, design.n_samples // 5)  # several chunks
    rounded = ParityDesign(X.astype(np.float32).astype(np.float64), degree, domain="real")
    P = explicit_parity_features(rounded.X, degree)
    for coef in (rng.normal(size=D), rng.normal(size=(D, 2))):
        got = design.normal_matvec(coef, dtype=np.float32)
        exact = design.normal_matvec(coef)
        error = np.linalg.norm(got - exact) / np.linalg.norm(exact)
        assert 1e-9 < error < 1e-4
        # First order: every product of |S| <= d float32 factors and every
        # float32 sum of at most D (predictions) or rows + 1 terms is off by
        # that many eps32 of the sum of the terms' magnitudes.
        terms = np.abs(P).T @ (np.abs(P) @ np.abs(coef))
        rows = _FOLD_ROWS + 2 * design._chunk_rows
        bound = 2 * (D + rows + 2 * degree + 2) * _EPS32 * terms
        assert np.all(np.abs(got - rounded.normal_matvec(coef)) <= bound)


def test_float32_range_rule_of_real_designs():
    """_float32_safe: the cube always; real X while d log2(max |x|) is within
    +-_FLOAT32_MAX_LOG2 (edges included), not an all-zero X; the public
    float32 products refuse a design outside it (they returned inf)."""
    from sparselearn.parities import _FLOAT32_MAX_LOG2, _float32_safe
    assert _FLOAT32_MAX_LOG2 == 40  # the edges below
    rng = np.random.default_rng(2)
    assert _float32_safe(ParityDesign(random_cube(rng, 10, 4), 3))
    X = rng.uniform(-1.0, 1.0, size=(10, 4))
    X[0, 0] = 1.0  # max |x| = 1
    for degree, largest, safe in [(2, 2.0 ** 20, True), (2, 2.0 ** 20.5, False),
                                  (3, 2.0 ** (-40 / 3), True), (4, 2.0 ** -10.5, False),
                                  (1, 0.5, True)]:
        assert _float32_safe(ParityDesign(largest * X, degree, domain="real")) is safe
    assert not _float32_safe(ParityDesign(np.zeros((10, 4)), 2, domain="real"))
    unsafe = ParityDesign(1e7 * rng.normal(size=(20, 5)), 3, domain="real")
    for product, operand in ((unsafe.matvec, np.ones(26)), (unsafe.rmatvec, np.ones(20)),
                             (unsafe.normal_matvec, np.ones(26))):
        with pytest.raises(ValueError, match="float32 products overflow"):
            product(operand, dtype=np.float32)
        assert np.isfinite(product(operand)).all()  # float64 holds them


def test_products_that_overflow_float64_are_refused():
    """Real X near 1e160 at degree 2: the monomials (1e320) overflow float64;
    the public products returned inf (matvec without even a warning).  A
    ValueError naming the product, for any precision; in range, finite."""
    design = ParityDesign(np.full((3, 2), 1e160), 2, domain="real")
    for product, operand, what in ((design.matvec, np.ones(4), "P c"),
                                   (design.rmatvec, np.ones(3), "P\\^T r"),
                                   (design.normal_matvec, np.ones(4), "P\\^T P c")):
        with pytest.raises(ValueError, match=f"{what} overflows float64"):
            product(operand)
    fine = ParityDesign(np.full((3, 2), 1e100), 2, domain="real")
    assert np.isfinite(fine.matvec(np.ones(4))).all()


def test_real_designs_pack_their_signs_when_asked():
    """Off the cube no kernel reads the packed signs: they are packed on the
    first read of xbits, equal to pack_rows of the signs, read-only."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(70, 67))  # two words a row
    design = ParityDesign(X, 1, domain="real")
    assert design._xbits is None
    bits = design.xbits
    np.testing.assert_array_equal(bits, pack_rows(np.where(X < 0, -1.0, 1.0)))
    assert not bits.flags.writeable and design._xbits is not None


def test_on_cube_checks_every_chunk_of_rows():
    """_on_cube: a single bad entry in the last row of the second chunk."""
    from sparselearn.parities import _PACK_ROWS, _on_cube
    X = np.ones((_PACK_ROWS + 5, 3))
    X[::2] = -1.0
    assert _on_cube(X)
    X[-1, 2] = 0.5
    assert not _on_cube(X)
    assert _on_cube(np.ones((0, 3)))


def test_float32_products_validate_their_dtype():
    rng = np.random.default_rng(0)
    design = ParityDesign(random_cube(rng, 10, 4), 2)
    with pytest.raises(ValueError, match="dtype"):
        design.normal_matvec(np.ones(11), dtype=np.float16)
    # Routes without float32 products run in float64 (the same numbers).
    popcount = ParityDesign(random_cube(rng, 10, 4), 2, products="popcount")
    coef = rng.normal(size=11)
    np.testing.assert_array_equal(popcount.normal_matvec(coef, dtype=np.float32),
                                  popcount.normal_matvec(coef))


def test_estimate_bytes_bounds_the_products_dense_block_buffers():
    """What normal_matvec allocates (tracemalloc peak: chunk blocks, each
    thread's dense top-degree block products and accumulator, the dense
    coefficient blocks) stays within the products' share of
    ParityDesign.estimate_bytes, for one column and a block of 4, one and
    two threads, at degree 3 (several 16-column blocks) and degree 2, in
    float64 and in float32 (whose float64 copies of the dense blocks the
    float32 chunks and coefficient blocks leave room for)."""
    import tracemalloc

    rng = np.random.default_rng(3)
    for n, degree in [(40, 3), (70, 2)]:
        X = random_cube(rng, 3000, n)
        for n_jobs in (1, 2):
            design = ParityDesign(X, degree, n_jobs=n_jobs)
            for c in (1, 4):
                coef = rng.normal(size=(design.n_output_features, c)).squeeze()
                for dtype in (np.float64, np.float32):
                    tracemalloc.start()
                    design.normal_matvec(coef, dtype=dtype)
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    assert peak <= ParityDesign.estimate_bytes(3000, n, degree, "cg", n_jobs,
                                                               n_outputs=c)


def test_parity_design_validates_before_the_kernels():
    """ParityDesign is public and its kernels run without bounds checks."""
    X = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
    for products in ("blas", "popcount"):
        design = ParityDesign(X, 2, products=products)
        with pytest.raises(ValueError, match="coef must have length 7"):
            design.matvec(np.ones(2))
        with pytest.raises(ValueError, match="coef must have length 7"):
            design.normal_matvec(np.ones(8))
        with pytest.raises(ValueError, match="r must have length 2"):
            design.rmatvec(np.ones(1))
        with pytest.raises(ValueError, match="y must have length 2"):
            design.gram(np.ones(3))
    with pytest.raises(ValueError, match="degree must be <= 3"):
        ParityDesign(X, 4)
    with pytest.raises(ValueError, match="exactly \\+1 or -1"):
        ParityDesign([[0.5, 2.0, -3.0]], 1)


# ----------------------------------------- memory safety and memory budgets
_DESIGN_MUTATIONS = r"""
import numpy as np
from sparselearn.parities import ParityDesign

rng = np.random.default_rng(0)
X = rng.choice([-1.0, 1.0], size=(300, 70))  # two packed words per row
for products in ("blas", "popcount"):
    design = ParityDesign(X, 2, products=products)
    coef = rng.normal(size=design.n_output_features)
    r = rng.normal(size=design.n_samples)
    before = [design.matvec(coef), design.rmatvec(r), design.normal_matvec(coef),
              *design.gram(r)]
    for name in ("X", "xbits", "masks"):
        view = getattr(design, name)
        view.shape = (view.size, 1)  # works even on a read-only array
        assert getattr(design, name).shape != view.shape, name
        assert not getattr(design, name).flags.writeable, name
    for name in ("n_samples", "n_features", "n_words", "n_output_features", "n_lower",
                 "degree", "products", "n_jobs"):
        try:
            setattr(design, name, 1)
        except AttributeError:
            pass
        else:
            raise AssertionError(f"{name} could be reassigned")
    design.level_sizes[-1] = 10**9  # a fresh list: changes nothing
    after = [design.matvec(coef), design.rmatvec(r), design.normal_matvec(coef),
             *design.gram(r)]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
print("ok")
"""


def test_parity_design_hands_out_views_that_cannot_reach_its_arrays():
    """Reshaping what X, xbits and masks return, or reassigning the record
    (n_samples, n_output_features, ...), used to reach the arrays the
    bounds-check-free kernels read; run in a subprocess since that could
    crash the interpreter."""
    done = subprocess.run([sys.executable, "-c", _DESIGN_MUTATIONS], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_parity_design_copies_the_callers_X():
    """ParityDesign kept the caller's X: editing it afterwards changed the BLAS
    route but not the packed popcount route (they disagreed by 74)."""
    rng = np.random.default_rng(1)
    X = random_cube(rng, 120, 9)
    X.flags.writeable = False
    blas, popcount = ParityDesign(X, 3), ParityDesign(X, 3, products="popcount")
    assert not np.shares_memory(blas.X, X) and not np.shares_memory(popcount.X, X)
    coef = rng.normal(size=blas.n_output_features)
    r = rng.normal(size=X.shape[0])
    expected = [blas.matvec(coef), blas.rmatvec(r)]
    X.flags.writeable = True  # the caller's array stays the caller's
    X[:, :4] *= -1.0
    X[0, 0] = np.nan
    for design in (blas, popcount):
        np.testing.assert_allclose(design.matvec(coef), expected[0], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(design.rmatvec(r), expected[1], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(design.normal_matvec(coef),
                                   design.rmatvec(design.matvec(coef)), rtol=1e-10,
                                   atol=1e-8)


def test_parity_design_memory_budgets():
    """gram tried 14.3 GiB at n=64, d=3; the constructor at n=200, d=4 and
    parity_subsets(20000, 2) allocated without a budget."""
    X = random_cube(np.random.default_rng(2), 10, 64)
    design = ParityDesign(X, 3)
    with pytest.raises(MemoryBudgetError, match=r"1351 x 1351 .* needs about 14\.0 MiB"):
        ParityDesign(X[:, :20], 3).gram(np.ones(10), max_bytes=2**20)
    with pytest.raises(MemoryBudgetError, match=r"43745 x 43745 .* needs about 14\.3 GiB"):
        design.gram(np.ones(10))
    G, b = ParityDesign(X[:, :6], 2, max_bytes=2**20).gram(np.ones(10))
    assert G.shape == (22, 22) and b.shape == (22,)
    with pytest.raises(MemoryBudgetError, match=r"ParityDesign\(m=10, n=64, degree=3\)"):
        ParityDesign(X, 3, max_bytes=2**20)
    with pytest.raises(MemoryBudgetError, match=r"ParityDesign\(m=2, n=200, degree=4\) with "
                                                r"D=66018451 parities needs about .* GiB"):
        ParityDesign(np.ones((2, 200)), 4)
    with pytest.raises(MemoryBudgetError, match="parity_subsets"):
        parity_subsets(64, 3, max_bytes=2**20)
    with pytest.raises(MemoryBudgetError, match=r"200010001 tuples needs about .* GiB"):
        parity_subsets(20000, 2)
    assert len(parity_subsets(64, 3, max_bytes=2**30)) == 43745


# ------------------------------------------------- real-valued inputs (issue 16)
@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=st.integers(1, 20), degree=st.integers(0, 4),
       c=st.sampled_from([None, 1, 3]), n_jobs=st.sampled_from([1, 2]))
def test_real_design_products_equal_explicit_monomials(data, n, degree, c, n_jobs):
    """domain="real": P holds prod_{j in S} x_j of any finite X (no x_j^2 = 1),
    for a vector or a (D, c) / (m, c) block, and diagonal() is diag(P^T P)."""
    degree = min(degree, n, 2 if n > 10 else 4)
    m = data.draw(st.integers(1, 60))
    X = data.draw(arrays(np.float64, (m, n), elements=finite))
    design = ParityDesign(X, degree, n_jobs=n_jobs, domain="real")
    design._chunk_rows = data.draw(st.integers(16, 64))  # several chunks
    P = explicit_parity_features(X, degree)
    D = P.shape[1]
    tail = () if c is None else (c,)
    coef = data.draw(arrays(np.float64, (D,) + tail, elements=finite))
    r = data.draw(arrays(np.float64, (m,) + tail, elements=finite))
    # Entries of P reach 4^4: tolerances relative to the products' magnitudes.
    scale = 1.0 + np.abs(P).max()
    np.testing.assert_allclose(design.matvec(coef), P @ coef, rtol=1e-12,
                               atol=1e-10 * scale * (1 + np.abs(coef).sum()))
    np.testing.assert_allclose(design.rmatvec(r), P.T @ r, rtol=1e-12,
                               atol=1e-10 * scale * (1 + np.abs(r).sum()))
    np.testing.assert_allclose(design.normal_matvec(coef), P.T @ (P @ coef), rtol=1e-10,
                               atol=1e-9 * scale**2 * m * (1 + np.abs(coef).sum()))
    np.testing.assert_allclose(design.diagonal(), (P**2).sum(axis=0), rtol=1e-12,
                               atol=1e-12 * scale**2)
    if D <= 200:
        G, b = design.gram(r[:, 0] if r.ndim == 2 else r)
        np.testing.assert_allclose(G, P.T @ P, rtol=1e-12, atol=1e-10 * scale**2 * m)


def test_real_domain_refuses_popcount_and_the_cube_refuses_real_points():
    X = np.array([[0.5, -2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match="products='popcount' needs points of the cube"):
        ParityDesign(X, 1, products="popcount", domain="real")
    with pytest.raises(ValueError, match=r"exactly \+1 or -1"):
        ParityDesign(X, 1)
    with pytest.raises(ValueError, match="domain must be 'cube' or 'real'"):
        ParityDesign(X, 1, domain="reals")
    with pytest.raises(ValueError, match="NaN or infinite"):
        ParityDesign(np.array([[np.inf, 1.0]]), 1, domain="real")
    design = ParityDesign(X, 2, domain="real")
    with pytest.raises(ValueError, match="coef must have 4 rows, got 3"):
        design.matvec(np.zeros((3, 2)))


@pytest.mark.parametrize("products", ["blas", "popcount"])
def test_cube_block_products_are_the_columns_products(products):
    rng = np.random.default_rng(21)
    X = random_cube(rng, 70, 9)
    design = ParityDesign(X, 3, products=products)
    C = rng.normal(size=(design.n_output_features, 4))
    R = rng.normal(size=(70, 4))
    for k in range(4):
        np.testing.assert_allclose(design.matvec(C)[:, k], design.matvec(C[:, k]),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(design.rmatvec(R)[:, k], design.rmatvec(R[:, k]),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(design.diagonal(), np.full(design.n_output_features, 70.0))


# --------------------------------------------- compact and out-of-core samples (issue 15)
def _planted_int8(rng, m, n):
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(m, n))


def test_pack_cube_matches_pack_rows_and_round_trips():
    from sparselearn.parities import PackedCube, pack_cube, pack_rows
    rng = np.random.default_rng(20)
    X = _planted_int8(rng, 9000, 70)  # more than one 8192-row packing chunk, two words
    packed = pack_cube(X)
    np.testing.assert_array_equal(packed.bits, pack_rows(X.astype(np.float64)))
    np.testing.assert_array_equal(packed.to_points(), X)
    np.testing.assert_array_equal(packed[[5, 2]].to_points(), X[[5, 2]])
    assert packed.shape == (9000, 70) and packed.nbytes == 9000 * 2 * 8
    assert not packed.bits.flags.writeable
    # PackedCube(bits, n) copies its words and checks their layout.
    bits = pack_rows(X[:10].astype(np.float64))
    copy = PackedCube(bits, 70)
    bits[0, 0] ^= np.uint64(1)
    assert copy.bits[0, 0] != bits[0, 0]
    with pytest.raises(ValueError, match="padding bits"):
        PackedCube(np.full((2, 2), np.uint64(2**63)), 70)
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        PackedCube(bits[:, :1], 70)
    with pytest.raises(ValueError, match="exactly"):
        pack_cube(np.zeros((3, 4), dtype=np.int8))
    with pytest.raises(TypeError, match="dtype"):
        pack_cube(np.ones((3, 4), dtype=bool))
    # The budget covers the packed words and one chunk, refused before allocating.
    with pytest.raises(MemoryBudgetError, match="packed sample .* needs about"):
        pack_cube(X, max_bytes=1e4)


def test_packed_cube_works_with_scikit_learn_cross_validation():
    """scikit-learn's splitters index ``X[rows, ...]``; a PackedCube takes that
    (and ``X[rows, :]``) as ``X[rows]``, so cross_val_score runs on packed
    points and scores exactly as on the int8 points (it used to raise
    TypeError).  Column selections are still refused."""
    from sklearn.model_selection import cross_val_score

    from sparselearn.learners import LowDegreeRegressor
    from sparselearn.parities import pack_cube
    rng = np.random.default_rng(21)
    X = _planted_int8(rng, 300, 6)
    y = X[:, 0] * X[:, 1] + 0.1 * rng.normal(size=300)
    packed = pack_cube(X)
    rows = np.array([7, 3, 299])
    np.testing.assert_array_equal(packed[rows, ...].to_points(), X[rows])
    np.testing.assert_array_equal(packed[2:5, :].to_points(), X[2:5])
    for columns in ([0, 1], slice(0, 3), 2):
        with pytest.raises(TypeError, match="indexed by rows only"):
            packed[rows, columns]
    model = LowDegreeRegressor(degree=2)
    np.testing.assert_array_equal(cross_val_score(model, packed, y, cv=3),
                                  cross_val_score(model, X, y, cv=3))


def test_compact_designs_keep_only_bits_and_give_the_float_products(tmp_path):
    from sparselearn.parities import pack_cube
    rng = np.random.default_rng(21)
    X8 = _planted_int8(rng, 700, 12)
    path = tmp_path / "x.npy"
    np.save(path, X8)
    Xf = X8.astype(np.float64)
    coef = rng.normal(size=n_parity_features_of(12, 3))
    r = rng.normal(size=700)
    inputs = [Xf, X8, pack_cube(X8), np.load(path, mmap_mode="r")]
    designs = [ParityDesign(X, 3) for X in inputs]
    # The reference: the explicit feature matrix from the popcount kernel.
    P = np.empty((700, designs[0].n_output_features))
    _parity.parity_features(designs[0].xbits, designs[0].masks, P)
    for design in designs:
        assert design._X is None and design.xbits.nbytes == 700 * 8
        np.testing.assert_array_equal(design.X, Xf)
        np.testing.assert_allclose(design.matvec(coef), P @ coef, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(design.rmatvec(r), P.T @ r, rtol=1e-10, atol=1e-9)
    # The estimate counts the bits, not a float64 copy, on the cube.
    cube = ParityDesign.estimate_bytes(10**6, 128, 3, "cg")
    real = ParityDesign.estimate_bytes(10**6, 128, 3, "cg", domain="real")
    assert real - cube >= 8.0 * 10**6 * 128
    assert cube < 8.0 * 10**6 * 128 / 2


def n_parity_features_of(n, d):
    import math
    return sum(math.comb(n, t) for t in range(d + 1))
