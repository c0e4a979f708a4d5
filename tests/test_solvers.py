"""Tests for sparselearn._solvers: CG (float64, mixed precision, block,
Jacobi and factor preconditioners), Cholesky, exact and sketch solves
against numpy.linalg.lstsq on the explicit feature matrix, and the blocked
Cholesky kernel against its NumPy twin."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import explicit_parity_features, random_cube

from sparselearn._solvers import _solve_block_cg, _solve_cg, _solve_cholesky, _solve_exact
from sparselearn.parities import ParityDesign, n_parity_features

@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 8), degree=st.integers(1, 3),
       alpha=st.sampled_from([0.0, 0.5]))
def test_solvers_equal_least_squares_on_the_explicit_matrix(seed, n, degree, alpha):
    degree = min(degree, n)
    rng = np.random.default_rng(seed)
    D = n_parity_features(n, degree)
    m = 4 * D + 10  # full column rank with overwhelming probability
    X = random_cube(rng, m, n)
    y = rng.normal(size=m)
    P = explicit_parity_features(X, degree)
    if alpha == 0.0:
        expected = np.linalg.lstsq(P, y, rcond=None)[0]
    else:
        expected = np.linalg.solve(P.T @ P + alpha * np.eye(D), P.T @ y)
    design = ParityDesign(X, degree)
    np.testing.assert_allclose(_solve_exact(design, y, alpha), expected, rtol=1e-7, atol=1e-9)
    coef, n_iter, _ = _solve_cg(design, y, alpha, 1e-13, 10 * D)
    np.testing.assert_allclose(coef, expected, rtol=1e-7, atol=1e-9)
    assert 1 <= n_iter <= 10 * D


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_solvers_give_the_minimum_norm_solution_when_underdetermined(seed):
    """m = 20 < D = 42: _solve_exact by construction (an SVD cutoff) and CG
    because, started at 0, its iterates stay in the row space of P."""
    rng = np.random.default_rng(seed)
    X = random_cube(rng, 20, 6)
    y = rng.normal(size=20)
    P = explicit_parity_features(X, 3)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    design = ParityDesign(X, 3)
    np.testing.assert_allclose(_solve_exact(design, y, 0.0), expected, atol=1e-8)
    coef, n_iter, converged = _solve_cg(design, y, 0.0, 1e-12, 1000)
    assert converged and n_iter <= 1000
    np.testing.assert_allclose(coef, expected, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.0, 3.0])
@pytest.mark.parametrize("n, degree", [(8, 3), (12, 2), (6, 4)])
def test_mixed_cg_meets_the_float64_stopping_rule_and_solution(n, degree, alpha):
    """Mixed precision (float32 inner CG, float64 refinement) on m = 4 D + 10
    points: the float64 residual meets ||r|| < tol ||P^T y|| / m, and the
    coefficients are the exact (ridge) least-squares ones to kappa * tol
    (kappa <= 9 at m = 4 D, plus rounding), like float64 CG's; the same for
    three right-hand sides through _solve_block_cg."""
    rng = np.random.default_rng(n * 31 + degree)
    D = n_parity_features(n, degree)
    m = 4 * D + 10
    X = random_cube(rng, m, n)
    Y = rng.normal(size=(m, 3))
    P = explicit_parity_features(X, degree)
    A = P.T @ P + alpha * np.eye(D)
    expected = np.linalg.solve(A, P.T @ Y)
    design = ParityDesign(X, degree)
    for tol in (1e-6, 1e-10):
        coef, n_iter, converged = _solve_cg(design, Y[:, 0], alpha, tol, 10 * D,
                                            products="mixed")
        assert converged and 1 <= n_iter <= 10 * D
        b = P.T @ Y[:, 0]
        assert np.linalg.norm(A @ coef - b) < tol * np.linalg.norm(b)
        error = np.linalg.norm(coef - expected[:, 0]) / np.linalg.norm(expected[:, 0])
        assert error < 20 * tol + 1e-13
        block, _, converged = _solve_block_cg(design, Y, alpha, tol, 10 * D, products="mixed")
        assert converged
        error = np.linalg.norm(block - expected, axis=0) / np.linalg.norm(expected, axis=0)
        assert np.all(error < 20 * tol + 1e-13)


def test_mixed_cg_counts_its_float32_products_and_falls_back_to_float64(monkeypatch):
    """n_iter is the number of float32 products (the inner iterations); a
    refinement that gains too little (forced: _MIXED_MIN_GAIN = 0) hands the
    rest to float64 products, which still meet the tolerance."""
    rng = np.random.default_rng(5)
    X = random_cube(rng, 400, 8)
    y = rng.normal(size=400)
    design = ParityDesign(X, 3)
    calls = {np.float32: 0, np.float64: 0}
    product = ParityDesign._normal_matvec

    def counted(self, coef, dtype=np.float64):
        calls[dtype] += 1
        return product(self, coef, dtype)

    monkeypatch.setattr(ParityDesign, "_normal_matvec", counted)
    reference_coef, _, _ = _solve_cg(design, y, 1.0, 1e-11, 1000, products="float64")
    assert calls[np.float32] == 0
    calls[np.float64] = 0
    coef, n_iter, converged = _solve_cg(design, y, 1.0, 1e-11, 1000, products="mixed")
    assert converged and n_iter == calls[np.float32]
    assert calls[np.float64] >= 2  # a refinement needs more than one
    monkeypatch.setattr("sparselearn._solvers._MIXED_MIN_GAIN", 0.0)
    calls[np.float32] = calls[np.float64] = 0
    fallback, n_iter, converged = _solve_cg(design, y, 1.0, 1e-11, 1000, products="mixed")
    assert converged and calls[np.float32] < n_iter  # float64 inner iterations too
    for solution in (coef, fallback):
        np.testing.assert_allclose(solution, reference_coef, rtol=0,
                                   atol=1e-9 * np.abs(reference_coef).max())


@pytest.mark.parametrize("seed", [3, 4])
def test_mixed_cg_when_underdetermined(seed, monkeypatch):
    """m = 20 < D = 42, alpha = 0: "auto" keeps float64 products (the
    minimum-norm solution to 1e-8, as float64 CG) even when the design is
    large enough for mixed precision; forced "mixed" stays within the
    documented float32-rounding null-space component (1e-5 here, relative)."""
    monkeypatch.setattr("sparselearn._solvers._MIXED_MIN_ENTRIES", 1)
    rng = np.random.default_rng(seed)
    X = random_cube(rng, 20, 6)
    y = rng.normal(size=20)
    expected = np.linalg.lstsq(explicit_parity_features(X, 3), y, rcond=None)[0]
    design = ParityDesign(X, 3)
    coef, _, converged = _solve_cg(design, y, 0.0, 1e-12, 1000)
    assert converged
    np.testing.assert_allclose(coef, expected, atol=1e-8)
    coef, _, converged = _solve_cg(design, y, 0.0, 1e-12, 1000, products="mixed")
    assert converged
    assert np.linalg.norm(coef - expected) < 1e-5 * np.linalg.norm(expected)


def test_mixed_cg_choice(monkeypatch):
    """"auto" is mixed on a large enough cube design (m D entries) with a
    ridge, or with alpha = 0 at m >= D and tol >= _MIXED_MIN_TOL (where the
    float32 null-space rounding of a rank-deficient design stays within the
    requested accuracy); off the cube only with a preconditioner
    (preconditioned=True, the sketch's) and a range float32 holds
    (_float32_safe); never on the popcount route."""
    from sparselearn._solvers import _MIXED_MIN_TOL, _mixed_applies
    monkeypatch.setattr("sparselearn._solvers._MIXED_MIN_ENTRIES", 60 * 56)
    rng = np.random.default_rng(0)
    big = ParityDesign(random_cube(rng, 60, 10), 2)  # D = 56
    assert _mixed_applies(big, 0.0, _MIXED_MIN_TOL) and _mixed_applies(big, 1.0, 1e-12)
    assert not _mixed_applies(big, 0.0, _MIXED_MIN_TOL / 2)
    assert _mixed_applies(big, 0.0, 1e-12, "mixed")
    assert not _mixed_applies(big, 1.0, 1e-3, "float64")
    small = ParityDesign(random_cube(rng, 59, 10), 2)
    assert not _mixed_applies(small, 1.0, 1e-3)
    assert _mixed_applies(small, 1.0, 1e-3, "mixed")
    wide = ParityDesign(random_cube(rng, 20, 6), 3)
    assert not _mixed_applies(wide, 0.0, 1e-3, "auto")
    real = ParityDesign(rng.normal(size=(60, 10)), 2, domain="real")
    assert not _mixed_applies(real, 1.0, 1e-3, "mixed")
    assert _mixed_applies(real, 1.0, 1e-3, preconditioned=True)
    huge = ParityDesign(1e25 * rng.normal(size=(60, 10)), 2, domain="real")
    assert not _mixed_applies(huge, 1.0, 1e-3, "mixed", preconditioned=True)
    popcount = ParityDesign(random_cube(rng, 50, 10), 2, products="popcount")
    assert not _mixed_applies(popcount, 1.0, 1e-3, "mixed", preconditioned=True)
    with pytest.raises(ValueError, match="products"):
        _mixed_applies(small, 1.0, 1e-3, "float16")


def test_mixed_cg_on_an_ill_conditioned_system_finishes_in_float64():
    """m = 1.1 D, alpha = 0, tol = 1e-10 (the review's case): the inner float32
    CG hits _MIXED_MAX_INNER, the rest runs float64, and the solve converges
    in at most 1.2 times the float64 CG's iterations (here 424 against 386;
    without the cap 498, and with max_iter=500 no convergence)."""
    rng = np.random.default_rng(0)
    design = ParityDesign(random_cube(rng, 330, 12), 3)  # D = 299
    y = rng.normal(size=330)
    _, plain, converged = _solve_cg(design, y, 0.0, 1e-10, 2000, products="float64")
    assert converged
    coef, mixed, converged = _solve_cg(design, y, 0.0, 1e-10, 2 * plain, products="mixed")
    assert converged and mixed <= 1.2 * plain
    expected = np.linalg.lstsq(explicit_parity_features(design.X, 3), y, rcond=None)[0]
    assert np.linalg.norm(coef - expected) < 1e-5 * np.linalg.norm(expected)


@pytest.mark.parametrize("domain", ["cube", "real"])
@pytest.mark.parametrize("alpha", [0.0, 2.0])
def test_block_cg_and_exact_solve_every_column(domain, alpha):
    """c right-hand sides at once: each column is the (ridge) least-squares
    solution on the explicit matrix, from _solve_block_cg, _solve_exact and
    _solve_cholesky."""
    rng = np.random.default_rng(22)
    n, degree, m = 6, 2, 150
    X = random_cube(rng, m, n) if domain == "cube" else rng.normal(size=(m, n)) + 1.0
    Y = rng.normal(size=(m, 5))
    Y[:, 3] = 0.0  # a zero right-hand side is solved by 0 at once
    P = explicit_parity_features(X, degree)
    D = P.shape[1]
    expected = np.linalg.solve(P.T @ P + alpha * np.eye(D), P.T @ Y)
    design = ParityDesign(X, degree, domain=domain)
    np.testing.assert_allclose(_solve_exact(design, Y, alpha), expected, rtol=1e-9,
                               atol=1e-11)
    np.testing.assert_allclose(_solve_cholesky(design, Y, alpha), expected, rtol=1e-9,
                               atol=1e-11)
    coef, n_iter, converged = _solve_block_cg(design, Y, alpha, 1e-12, 500)
    assert converged and 1 <= n_iter <= 500
    np.testing.assert_allclose(coef, expected, rtol=1e-7, atol=1e-9)
    assert not coef[:, 3].any()
    # Column by column, scipy's CG (the single-output solver) agrees too.
    for k in (0, 4):
        single, _, _ = _solve_cg(design, np.ascontiguousarray(Y[:, k]), alpha, 1e-12, 500)
        np.testing.assert_allclose(single, expected[:, k], rtol=1e-7, atol=1e-9)


def test_jacobi_preconditioner_cuts_iterations_on_correlated_features():
    """Correlated Gaussian X (covariance condition number 100) whose columns
    have unequal scales (0.1 to 10): the monomials' norms then differ by
    orders of magnitude, and the diagonal preconditioner lowers the
    (deterministic) iteration count to the same tolerance (168 -> 57 with
    this seed; measured 58 -> 53 at equal scales, where it can do little
    against the correlation itself), reaching the same fit."""
    rng = np.random.default_rng(23)
    n, degree, m = 8, 2, 2000
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    cov = Q @ np.diag(np.geomspace(1.0, 100.0, n)) @ Q.T
    X = rng.multivariate_normal(np.zeros(n), cov / 10.0, size=m) * np.geomspace(0.1, 10, n)
    y = X[:, 0] * X[:, 1] - X[:, 2] + rng.normal(size=m)
    design = ParityDesign(X, degree, domain="real")
    plain, plain_iter, plain_ok = _solve_cg(design, y, 0.0, 1e-8, 5000, precondition=False)
    jacobi, jacobi_iter, jacobi_ok = _solve_cg(design, y, 0.0, 1e-8, 5000)
    assert plain_ok and jacobi_ok
    assert jacobi_iter < plain_iter / 2, (jacobi_iter, plain_iter)
    fit = design.matvec(_solve_exact(design, y, 0.0))
    for coef in (plain, jacobi):
        np.testing.assert_allclose(design.matvec(coef), fit, rtol=0,
                                   atol=1e-5 * np.abs(fit).max())


def test_sketch_solver_stays_within_its_memory_estimate():
    """solver="sketch" (issue 16): what a fit allocates (tracemalloc peak,
    inputs excluded) is within ParityDesign.estimate_bytes for it, on real
    data where the sample is a true subset (m = 6000 > max(4 D, sqrt(m D)))."""
    import tracemalloc

    from sparselearn.learners import LowDegreeRegressor

    rng = np.random.default_rng(16)
    X = rng.normal(size=(6000, 12)) @ rng.normal(size=(12, 12))
    y = X[:, 0] * X[:, 1] + rng.normal(size=6000)
    D = n_parity_features(12, 2)
    assert max(4 * D, np.sqrt(6000 * D)) < 6000
    model = LowDegreeRegressor(degree=2, solver="sketch", alpha=1.0, n_jobs=1,
                               random_state=0)
    tracemalloc.start()
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert model.n_iter_ > 1
    assert peak <= ParityDesign.estimate_bytes(6000, 12, 2, "sketch", n_jobs=1,
                                               domain="real")


@pytest.mark.parametrize("D, block", [(1, 1), (7, 3), (50, 64), (130, 16), (131, 32)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_kernel_equals_numpy_twin(D, block, dtype):
    """_cholesky.cholesky_upper (blocked, threads over column blocks) against
    the unblocked recursion: the same factor to rounding (relative 1e-12, or
    4e-5 in float32, on matrices of condition about 1e3), bit-identical on
    1 and 2 threads, the strict lower triangle untouched; an indefinite
    matrix reports LAPACK's info, the order of the first failing minor."""
    from sparselearn._kernels import _cholesky
    from sparselearn._reference import cholesky as twin
    rng = np.random.default_rng(80 + D + block)
    Q = np.linalg.qr(rng.normal(size=(D, D)))[0]
    G = (Q * np.geomspace(1.0, 1e3, D)) @ Q.T
    R_twin, info = twin.cholesky_upper(G)
    assert info == 0
    factors = []
    for threads in (1, 2):
        A = np.asfortranarray(G, dtype=dtype)
        A[np.tril_indices(D, -1)] = -7.0
        assert _cholesky.cholesky_upper(A, block, threads) == 0
        assert np.all(A[np.tril_indices(D, -1)] == -7.0)
        factors.append(np.triu(A))
    np.testing.assert_array_equal(factors[0], factors[1])
    tolerance = 1e-12 if dtype == np.float64 else 4e-5
    assert np.abs(factors[0] - R_twin).max() <= tolerance * np.abs(R_twin).max()
    if D > 1:  # a negative pivot at column j: info j + 1, from the twin and the kernel
        j = D // 2
        bad = G.copy()
        bad[j, j] = -1.0
        A = np.asfortranarray(bad, dtype=dtype)
        assert _cholesky.cholesky_upper(A, block, 2) == twin.cholesky_upper(bad)[1] == j + 1


@pytest.mark.parametrize("max_iter", [0, 1, 2, 50])
def test_preconditioned_cg_solves_once_per_direction(max_iter):
    """_cg_columns applies the preconditioner once for the first direction
    and once per later one: k iterations take k solves (none after the last
    iteration, whose direction nothing uses), whether it stops on
    convergence or at max_iter, with columns (one of them zero) stopping at
    different iterations in lockstep; the result solves the system."""
    from sparselearn._solvers import _cg_columns
    rng = np.random.default_rng(12)
    X = rng.normal(size=(80, 5))
    design = ParityDesign(X, 2, domain="real")
    D = design.n_output_features
    A = (explicit_parity_features(X, 2).T @ explicit_parity_features(X, 2) + np.eye(D)) / 80
    R0 = rng.normal(size=(D, 3))
    R0[:, 1] = 0.0
    inverse = np.linalg.inv(A + 1e-3 * np.diag(rng.uniform(size=D)))  # close to A^-1
    calls = []

    def precondition(V):
        calls.append(V.shape[1])
        return inverse @ V

    E, k, converged = _cg_columns(design, R0, 1.0, np.full(3, 1e-10), max_iter, np.float64,
                                  precondition)
    assert len(calls) == max(k, 1) and k <= max_iter
    assert converged == (max_iter == 50)
    if converged:
        np.testing.assert_allclose(A @ E, R0, atol=1e-8 * np.abs(R0).max())


@pytest.mark.parametrize("domain, alpha", [("cube", 1.0), ("cube", 0.0), ("real", 1.0)])
def test_single_vector_cg_takes_scipys_iterates(domain, alpha):
    """_solve_cg runs the shared loop _cg_columns where it called
    scipy.sparse.linalg.cg: against scipy on the same operator (Jacobi
    preconditioner off the cube), the same iterations and coefficients."""
    import scipy.sparse.linalg
    from sparselearn._solvers import _jacobi

    rng = np.random.default_rng(4)
    X = random_cube(rng, 900, 8) if domain == "cube" else rng.normal(size=(900, 8))
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.2 * rng.normal(size=900)
    design = ParityDesign(X, 3, domain=domain)
    D, m = design.n_output_features, design.n_samples
    operator = scipy.sparse.linalg.LinearOperator(
        (D, D), matvec=lambda c: design._normal_matvec(c) / m + (alpha / m) * c, dtype=float)
    jacobi = _jacobi(design, alpha)
    M = None if jacobi is None else scipy.sparse.linalg.LinearOperator(
        (D, D), matvec=lambda v: jacobi(v.reshape(D, 1))[:, 0], dtype=float)
    steps = []
    expected, info = scipy.sparse.linalg.cg(operator, design._rmatvec(y) / m, rtol=1e-10,
                                            atol=0.0, maxiter=500, M=M,
                                            callback=lambda _: steps.append(1))
    coef, n_iter, converged = _solve_cg(design, y, alpha, 1e-10, 500)
    assert info == 0 and converged
    assert abs(n_iter - len(steps)) <= 1
    np.testing.assert_allclose(coef, expected, rtol=0, atol=1e-9 * np.linalg.norm(expected))


@pytest.mark.parametrize("domain", ["cube", "real"])
def test_cholesky_factors_small_systems_on_one_blas_thread(monkeypatch, domain):
    """D below _FACTOR_MIN_THREADED is factored with BLAS held to one thread
    (OpenBLAS's pool spun for busy cores: 0.3-2 s against milliseconds on
    one thread under load); the solution is unchanged (against lstsq on the
    explicit features)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.linalg

    import sparselearn._solvers as solvers
    if max((pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"), default=1) < 2:
        pytest.skip("BLAS runs one thread here anyway")
    seen = []
    original = scipy.linalg.cho_factor

    def spy(*args, **kwargs):
        seen.append(max(pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                        if pool["user_api"] == "blas"))
        return original(*args, **kwargs)

    monkeypatch.setattr(solvers.scipy.linalg, "cho_factor", spy)
    rng = np.random.default_rng(4)
    X = (rng.choice([-1.0, 1.0], size=(600, 8)) if domain == "cube"
         else rng.normal(size=(600, 8)))
    y = rng.normal(size=600)
    design = ParityDesign(X, 2, domain=domain)
    coef = _solve_cholesky(design, y, 0.0)
    assert seen == [1]
    P = explicit_parity_features(X, 2)
    np.testing.assert_allclose(coef, np.linalg.lstsq(P, y, rcond=None)[0], rtol=1e-8,
                               atol=1e-10)


def test_sketch_on_a_rank_deficient_real_design_is_the_exact_minimum_norm_fit(monkeypatch):
    """Duplicated real columns make every Gram singular: the sketch's own
    factor fails and the fit goes straight to the QR of _solve_exact (no
    longer through the Gram of all rows and its failed Cholesky first); the
    result is the minimum-norm least-squares solution, compared with
    numpy.linalg.lstsq on the explicit monomials."""
    import sparselearn._solvers as solvers
    from sparselearn._solvers import _solve_sketch

    def no_gram(*args):
        raise AssertionError("the Cholesky of all rows ran")

    monkeypatch.setattr(solvers, "_solve_cholesky", no_gram)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(900, 12))
    X[:, 5] = X[:, 3]
    X[:, 7] = X[:, 3]
    y = X[:, 0] * X[:, 1] + X[:, 3] + 0.1 * rng.normal(size=900)
    design = ParityDesign(X, 2, domain="real")
    coef, n_iter, converged = _solve_sketch(design, y, 0.0, 1e-10, 100,
                                            np.random.default_rng(0))
    assert converged
    reference = np.linalg.lstsq(explicit_parity_features(X, 2), y, rcond=None)[0]
    np.testing.assert_allclose(coef, _solve_exact(design, y, 0.0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(coef, reference, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("D", [0, 1, 2, 7, 8, 9, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cho_solve_kernel_equals_numpy_twin(D, dtype):
    """_cholesky.cho_solve_upper (in place, float64 arithmetic on a float32 or
    float64 factor, eight partial sums in its dot products) against the
    twin's substitutions: equal to 1e-12 relative on a factor of condition
    about 10, NaN in the strict lower triangle never read; a column of the
    wrong length is a ValueError naming the shapes."""
    from sparselearn._kernels import _cholesky
    from sparselearn._reference import cholesky as twin
    rng = np.random.default_rng(90 + D)
    R = np.asfortranarray(np.triu(rng.normal(size=(D, D))) + 4.0 * np.eye(D), dtype=dtype)
    b = rng.normal(size=D)
    expected = twin.cho_solve_upper(R, b)
    R[np.tril_indices(D, -1)] = np.nan
    x = b.copy()
    _cholesky.cho_solve_upper(R, x)
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="x of its order"):
        _cholesky.cho_solve_upper(R, np.zeros(D + 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_cho_solve_upper_equals_the_solve_and_reads_only_the_upper_triangle(dtype, k):
    """_cho_solve_upper (the kernel a column up to _SOLVE_MAX_COLUMNS columns,
    potrs in R's precision beyond) solves R^T R X = B in float64 output, with
    NaN in the strict lower triangle of R (the sketch's factor leaves the
    Gram's entries there): to 1e-12 by the kernel, 1e-5 by a float32 potrs."""
    from sparselearn._solvers import _SOLVE_MAX_COLUMNS, _cho_solve_upper
    rng = np.random.default_rng(k)
    D = 40
    R = np.asfortranarray(np.triu(rng.normal(size=(D, D))) + 8.0 * np.eye(D), dtype=dtype)
    B = rng.normal(size=(D, k))
    R64 = R.astype(np.float64)
    expected = np.linalg.solve(R64.T @ R64, B)
    R[np.tril_indices(D, -1)] = np.nan
    X = _cho_solve_upper(R, B)
    assert X.dtype == np.float64 and X.shape == (D, k)
    exact = k <= _SOLVE_MAX_COLUMNS or dtype == np.float64
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-12 if exact else 1e-5)


def test_sketch_preconditions_one_column_without_potrs(monkeypatch):
    """One right-hand side: the sketch's preconditioner solves by the float64
    kernel (_cho_solve_upper), never scipy's cho_solve (potrs runs trsm, for
    which OpenBLAS packs the triangle every call: 1.5-2.5x slower at
    D = 5489); the fit equals the exact one."""
    import scipy.linalg

    from sparselearn._solvers import _solve_sketch

    def no_potrs(*args, **kwargs):
        raise AssertionError("cho_solve ran")

    rng = np.random.default_rng(9)
    X = rng.normal(size=(900, 12))
    y = X[:, 0] * X[:, 1] + X[:, 3] + 0.1 * rng.normal(size=900)
    design = ParityDesign(X, 2, domain="real")
    monkeypatch.setattr(scipy.linalg, "cho_solve", no_potrs)
    coef, n_iter, converged = _solve_sketch(design, y, 1.0, 1e-10, 100,
                                            np.random.default_rng(0))
    monkeypatch.undo()
    assert converged
    np.testing.assert_allclose(coef, _solve_exact(design, y, 1.0), rtol=1e-7, atol=1e-9)
