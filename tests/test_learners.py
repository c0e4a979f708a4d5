"""Tests for sparselearn.learners: the estimators' fits against
numpy.linalg.lstsq (rank-deficient designs, ridge, CG accuracy), degree
selection, learning sanity, scikit-learn compatibility, persistence and
argument validation.  The parity design and its solvers are tested in
tests/test_parities.py."""
import itertools
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from strategies import explicit_parity_features

from sparselearn import MemoryBudgetError
from sparselearn.learners import _SOLVERS, LowDegreeClassifier, LowDegreeRegressor
from sparselearn.parities import ParityDesign, n_parity_features, parity_subsets
from sparselearn.targets import junta_network

def _random_cube(rng, m, n):
    return rng.choice(np.array([-1.0, 1.0]), size=(m, n))


def test_parity_names_are_still_importable_from_learners():
    """The parity design moved to sparselearn.parities; the old imports work."""
    from sparselearn import learners, parities
    for name in ("ParityDesign", "n_parity_features", "pack_rows", "parity_subsets"):
        assert getattr(learners, name) is getattr(parities, name)


# ------------------------------------------------------------------ solvers
def _whole_cube(n):
    """Every point of {-1,1}^n (any order), as float rows."""
    return np.array(list(itertools.product([1.0, -1.0], repeat=n)))


def _rank_deficient_design(kind, seed):
    """(X, y, degree) of a design whose feature matrix is rank-deficient or nearly so."""
    rng = np.random.default_rng(seed)
    if kind == "issue":  # issue 9: m = D = 29, rank 27
        X = rng.choice([-1, 1], size=(29, 7)).astype(float)
        return X, rng.normal(size=29), 2
    if kind == "repeated":  # 20 distinct points, each three times: rank <= 20 < D = 22
        X = np.repeat(_random_cube(rng, 20, 6), 3, axis=0)
        return X, rng.normal(size=60), 2
    if kind == "m<D":
        return _random_cube(rng, 15, 6), rng.normal(size=15), 2
    if kind == "m=D-1":
        return _random_cube(rng, 36, 8), rng.normal(size=36), 2
    if kind == "m=D+2":
        return _random_cube(rng, 39, 8), rng.normal(size=39), 2
    if kind == "degree3":  # D = 42 > 32: only solver="exact"
        X = np.vstack([_random_cube(rng, 30, 6)] * 2)
        return X, rng.normal(size=60), 3
    assert kind == "full"  # full column rank with overwhelming probability
    return _random_cube(rng, 120, 6), rng.normal(size=120), 2


@pytest.mark.parametrize("kind", ["issue", "repeated", "m<D", "m=D-1", "m=D+2",
                                  "degree3", "full"])
@pytest.mark.parametrize("seed", [15, 16, 24])
def test_exact_solver_is_minimum_norm_on_rank_deficient_designs(kind, seed):
    """solver="exact" (and "auto", which picks it for D <= 32) equals
    numpy.linalg.lstsq's minimum-norm solution.  Issue 9: the Cholesky path
    accepted singular Gram matrices through rounding-level pivots, and on
    the 29 x 7 reproduction (rank 27) its predictions on the cube were off
    by 2.7."""
    X, y, degree = _rank_deficient_design(kind, seed)
    P = explicit_parity_features(X, degree)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    cube_features = explicit_parity_features(_whole_cube(X.shape[1]), degree)
    scale = np.linalg.norm(expected)
    solvers = ["exact", "auto"] if P.shape[1] <= 32 else ["exact"]
    for solver in solvers:
        model = LowDegreeRegressor(degree=degree, solver=solver).fit(X, y)
        np.testing.assert_allclose(model.coef_, expected, rtol=0, atol=1e-9 * scale)
        np.testing.assert_allclose(model.predict(_whole_cube(X.shape[1])),
                                   cube_features @ expected, rtol=0, atol=1e-9 * scale)
    # The minimum-norm solution is orthogonal to the null space of P.
    null = null_space(P)
    if null.size:
        assert np.abs(null.T @ model.coef_).max() <= 1e-9 * scale


@pytest.mark.parametrize("kind", ["issue", "repeated", "m<D", "full"])
def test_exact_ridge_is_the_ridge_solution_on_rank_deficient_designs(kind):
    """alpha keeps its meaning: argmin ||y - Pc||^2 + alpha ||c||^2, unique."""
    X, y, degree = _rank_deficient_design(kind, 15)
    P = explicit_parity_features(X, degree)
    D = P.shape[1]
    for alpha in (1e-3, 0.5, 10.0):
        expected = np.linalg.solve(P.T @ P + alpha * np.eye(D), P.T @ y)
        model = LowDegreeRegressor(degree=degree, solver="exact", alpha=alpha).fit(X, y)
        np.testing.assert_allclose(model.coef_, expected, rtol=0,
                                   atol=1e-9 * np.linalg.norm(expected))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 7), degree=st.integers(0, 3),
       ratio=st.floats(0.2, 2.0), distinct=st.floats(0.2, 1.0))
def test_exact_solver_equals_lstsq_on_drawn_designs(seed, n, degree, ratio, distinct):
    """Random designs with m from 0.2 D to 2 D, drawn from a pool of distinct
    points so that rows repeat: always lstsq's minimum-norm solution."""
    degree = min(degree, n)
    rng = np.random.default_rng(seed)
    D = n_parity_features(n, degree)
    m = max(1, int(ratio * D))
    pool = _random_cube(rng, max(1, int(distinct * m)), n)
    X = pool[rng.integers(0, pool.shape[0], size=m)]
    y = rng.normal(size=m)
    P = explicit_parity_features(X, degree)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    model = LowDegreeRegressor(degree=degree, solver="exact").fit(X, y)
    np.testing.assert_allclose(model.coef_, expected, rtol=0,
                               atol=1e-9 * max(1.0, np.linalg.norm(expected)))


@pytest.mark.parametrize("ratio", [2, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_cg_agrees_with_exact_to_the_documented_accuracy(ratio, alpha):
    """The documented guarantee: ||c_cg - c*|| / ||c*|| <= kappa * tol with
    kappa the condition number of P^T P + alpha I, and by Parseval the same
    relative root-mean-square difference of the predictions over the whole
    cube; tol=1e-9 gives 1e-8 (the figure the docs give) on these designs."""
    rng = np.random.default_rng(40 + ratio)
    n, degree = 8, 2
    D = n_parity_features(n, degree)
    X = _random_cube(rng, ratio * D, n)
    y = X[:, 0] * X[:, 1] - 0.5 * X[:, 2] + 0.3 + rng.normal(size=X.shape[0])
    P = explicit_parity_features(X, degree)
    A = P.T @ P + alpha * np.eye(D)
    kappa = np.linalg.cond(A)
    exact = LowDegreeRegressor(degree=degree, solver="exact", alpha=alpha).fit(X, y)
    np.testing.assert_allclose(exact.coef_, np.linalg.solve(A, P.T @ y), atol=1e-12)
    cube = _whole_cube(n)
    for tol in (1e-6, 1e-9):
        cg = LowDegreeRegressor(degree=degree, solver="cg", alpha=alpha, tol=tol).fit(X, y)
        error = np.linalg.norm(cg.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
        assert error <= kappa * tol
        rms = np.sqrt(np.mean((cg.predict(cube) - exact.predict(cube)) ** 2))
        assert rms == pytest.approx(error * np.sqrt(np.mean(exact.predict(cube) ** 2)),
                                    rel=1e-6)
        if tol == 1e-9:
            assert error <= 1e-8


def test_lmn_is_the_empirical_fourier_coefficient():
    rng = np.random.default_rng(4)
    X = _random_cube(rng, 300, 5)
    y = rng.normal(size=300)
    model = LowDegreeRegressor(degree=2, solver="lmn").fit(X, y)
    assert model.n_iter_ == 1
    for S, value in model.fourier_coefficients_.items():
        assert value == pytest.approx(np.mean(y * np.prod(X[:, list(S)], axis=1)), abs=1e-12)


def test_cg_reports_non_convergence():
    rng = np.random.default_rng(5)
    X = _random_cube(rng, 200, 6)
    y = rng.normal(size=200)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        model = LowDegreeRegressor(degree=2, solver="cg", max_iter=1).fit(X, y)
    assert model.n_iter_ == 1


@pytest.mark.parametrize("params", [dict(degree=2, solver="cg"), dict(solver="cg", cv=2),
                                    dict(degree=2, solver="cg", verbose=True),
                                    dict(degree=2, solver="sketch", domain="real")])
def test_convergence_warnings_point_at_the_callers_line(params, capsys):
    """Through any depth of the library's frames (plain, selection, verbose,
    sketch fits) the warning names the line that called fit."""
    rng = np.random.default_rng(5)
    X = _random_cube(rng, 200, 6)
    y = rng.normal(size=200)
    with pytest.warns(ConvergenceWarning) as caught:
        LowDegreeRegressor(max_iter=1, tol=1e-14, **params).fit(X, y)
    assert {record.filename for record in caught} == {__file__}


def test_verbose_names_a_skipped_degree_by_its_features(capsys):
    # 10 samples, cv=5: training splits of 8 rows; degree 2 has 1 + 6 + 15 =
    # 22 features and is skipped, counted as parities on the cube only.
    rng = np.random.default_rng(9)
    for X, word in [(_random_cube(rng, 10, 6), "parities"), (rng.normal(size=(10, 6)),
                                                             "monomials")]:
        LowDegreeRegressor(max_degree=2, verbose=True).fit(X, rng.normal(size=10))
        out = capsys.readouterr().out
        assert f"skipped, more {word} than training rows" in out, out


def test_selection_tries_degrees_wider_than_a_split_when_a_ridge_makes_them_well_posed():
    # 60 samples, cv=5: training splits of 48 rows; degree 2 on 12 inputs has
    # 79 features.  Without alpha it is skipped (underdetermined); with alpha
    # it was skipped too, and the degree-2 target got degree 1.
    rng = np.random.default_rng(3)
    X = _random_cube(rng, 60, 12)
    y = X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] + 0.01 * rng.normal(size=60)
    plain = LowDegreeRegressor(max_degree=2).fit(X, y)
    assert np.isnan(plain.cv_results_["mean_test_mse"][2]) and plain.degree_ <= 1
    ridge = LowDegreeRegressor(max_degree=2, alpha=0.1).fit(X, y)
    errors = ridge.cv_results_["mean_test_mse"]
    assert np.all(np.isfinite(errors)) and ridge.degree_ == 2
    # Degrees 0 and 1 cannot see X0 X1 or X2 X3: their error is at least
    # Var(y) = 2; degree 2 on 48 rows recovers part of both terms.
    assert errors[2] < 0.5 * min(errors[0], errors[1]) and min(errors[0], errors[1]) > 2
    # Beyond 6,000 features a ridge does not make a degree tried either.
    # (40 inputs: degree 2 has 821 features, degree 3 10,701.)
    wide = LowDegreeRegressor(max_degree=3, alpha=0.1)
    assert wide._tried_in_selection(40, 2, 48) and not wide._tried_in_selection(40, 3, 48)


def test_verbose_fits_print_their_solves_and_true_residuals(monkeypatch, capsys):
    """verbose=True: a line per fold fit and per final fit (solver, iterations,
    residual), periodic lines while CG runs (every iteration here, the
    interval patched to 0), the selection's line; the residual printed at
    the end is the true relative residual of the coefficients, recomputed
    here from the explicit features.  verbose=False prints nothing."""
    from sparselearn import learners
    rng = np.random.default_rng(8)
    X = _random_cube(rng, 600, 7)
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.3 * rng.normal(size=600)
    LowDegreeRegressor(max_degree=2, solver="cg", cv=2, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(learners, "_VERBOSE_INTERVAL", 0.0)
    alpha, tol = 3.0, 1e-9
    for real in (False, True):  # scipy-free CG on the cube, Jacobi CG off it
        data = X + 0.25 * rng.normal(size=X.shape) if real else X
        model = LowDegreeRegressor(max_degree=2, solver="cg", alpha=alpha, tol=tol, cv=2,
                                   random_state=0, verbose=True).fit(data, y)
        out = capsys.readouterr().out.splitlines()
        assert sum("fold 1/2" in line and "solver 'cg'" in line for line in out) == 3
        assert sum("fold 2/2" in line and "solver 'cg'" in line for line in out) == 3
        assert any(line.startswith("LowDegreeRegressor degree selection, mean validation "
                                   "MSE by degree (0: ") and line.endswith("degree 2")
                   for line in out)
        final = [line for line in out if line.startswith("LowDegreeRegressor degree 2 (D=29, "
                                                         "m=600): ")]
        iterations = [line for line in final if ": iteration " in line]
        assert len(iterations) == model.n_iter_ and final[-1] is not iterations[-1]
        residuals = [float(re.search(r"relative residual (\S+) \(tol=1e-09\)", line)[1])
                     for line in final]
        assert residuals[-1] <= tol < residuals[0]
        assert f"solver 'cg', {model.n_iter_} iterations" in final[-1]
        P = explicit_parity_features(data, 2)
        b = P.T @ y
        true = np.linalg.norm(b - (P.T @ (P @ model.coef_) + alpha * model.coef_))
        assert true / np.linalg.norm(b) == pytest.approx(residuals[-1], rel=0.02)


def test_fit_validates_once_not_per_cg_iteration(monkeypatch):
    # Arrays are validated at fit's boundary; the design and the CG loop
    # below it trust them (no check_vector per iteration or per validation
    # fold; cube points are checked once, while packing them).
    from sparselearn import learners, parities
    calls = []
    for module, name in ((learners, "check_vector"), (parities, "check_vector")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name,
                            lambda *a, _f=original, _n=name, **kw: calls.append(_n) or _f(*a, **kw))
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(300, 8))
    y = X[:, 0] * X[:, 1] + 0.1 * rng.standard_normal(300)
    model = LowDegreeRegressor(max_degree=3, solver="cg", cv=3, random_state=0).fit(X, y)
    assert model.n_iter_ > 1 and calls == []
    model.predict(X)
    assert calls == ["check_vector"]  # the public coef_, once per call
    # The public products still validate.
    design = ParityDesign(X, 2)
    with pytest.raises(ValueError, match="coef must have length 37"):
        design.matvec(np.zeros(3))
    with pytest.raises(ValueError, match="r contains NaN"):
        design.rmatvec(np.full(300, np.nan))


def test_threads_do_not_change_the_fit():
    rng = np.random.default_rng(6)
    X = _random_cube(rng, 3000, 10)
    y = rng.normal(size=3000)
    one = LowDegreeRegressor(degree=3, solver="cg", n_jobs=1).fit(X, y)
    two = LowDegreeRegressor(degree=3, solver="cg", n_jobs=2).fit(X, y)
    np.testing.assert_allclose(one.coef_, two.coef_, atol=1e-12)


def test_planted_polynomial_is_recovered_exactly():
    rng = np.random.default_rng(7)
    X = _random_cube(rng, 400, 6)
    y = 0.5 + 2.0 * X[:, 1] - 1.5 * X[:, 0] * X[:, 4] + 0.25 * X[:, 2] * X[:, 3] * X[:, 5]
    for solver in ("cg", "exact"):
        model = LowDegreeRegressor(degree=3, solver=solver, tol=1e-12).fit(X, y)
        nonzero = {S: c for S, c in model.fourier_coefficients_.items() if abs(c) > 1e-8}
        assert nonzero.keys() == {(), (1,), (0, 4), (2, 3, 5)}
        for S, c in {(): 0.5, (1,): 2.0, (0, 4): -1.5, (2, 3, 5): 0.25}.items():
            assert nonzero[S] == pytest.approx(c, abs=1e-8)


# --------------------------------------------------------- degree selection
@pytest.mark.parametrize("true_degree", [1, 2, 3])
def test_degree_selection_finds_the_planted_degree(true_degree):
    """Planted degree-d polynomial on n=8 bits, noise sd 0.1, m=600, 5 folds.

    Degrees below d miss a coefficient of size >= 0.5 (validation MSE
    >= 0.25 against ~0.01).  Degree d+1 adds C(8, d+1) >= 28 features whose
    overfit raises the validation MSE by about 0.01 * 28 / 480 = 6e-4 on
    average, while the fold-averaged difference of the two MSEs has standard
    deviation about 2 * 0.1 * sqrt(6e-4) / sqrt(600) = 2e-4; a wrong choice
    needs a 3-sigma deviation, so the failure probability per seed is below
    1e-2 (fixed seeds make the test deterministic).
    """
    rng = np.random.default_rng(100 + true_degree)
    n, m = 8, 600
    X = _random_cube(rng, m, n)
    subsets = [S for S in parity_subsets(n, true_degree) if len(S) == true_degree]
    planted = rng.choice(len(subsets), size=3, replace=False)
    y = 0.3 + 0.1 * rng.normal(size=m)
    for index in planted:
        y += rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) * np.prod(
            X[:, list(subsets[index])], axis=1)
    model = LowDegreeRegressor(max_degree=4, random_state=0).fit(X, y)
    assert model.degree_ == true_degree
    results = model.cv_results_
    assert results["degree"].tolist() == [0, 1, 2, 3, 4]
    assert results["n_features"].tolist() == [n_parity_features(n, d) for d in range(5)]
    assert results["split_test_mse"].shape == (5, 5)
    assert np.argmin(results["mean_test_mse"]) == true_degree


@pytest.mark.parametrize("solver", ["cg", "exact"])
def test_noiseless_degree_selection_breaks_near_ties_toward_the_smaller_degree(solver):
    """A noiseless degree-2 target: degrees 2, 3 and 4 all fit it to rounding
    (validation MSE ~1e-13 for CG, ~1e-30 exact), and the argmin of those
    rounding errors picked 3 or 4 for several seeds (issue 9).  The near-tie
    rule (validation RMSE within 100 * tol * rms(y) of the best) picks 2."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        X = _random_cube(rng, 2000, 6)
        y = 0.5 + X[:, 0] * X[:, 3] - 0.7 * X[:, 1] + 0.3 * X[:, 2] * X[:, 4]
        model = LowDegreeRegressor(max_degree=4, solver=solver, random_state=seed).fit(X, y)
        assert model.degree_ == 2, (seed, model.cv_results_["mean_test_mse"])
        assert model.cv_results_["mean_test_mse"][1] > 0.1


def test_near_tie_margin_is_in_root_mean_square_units():
    """The margin is 100 * tol * rms(y) on the validation RMSE, the scale of a
    solver error, so it grows only linearly with an offset in y: with y =
    1000 + 0.5 x_0 x_1 it is 0.1, and degree 1 (RMSE 0.5) is not tied with
    degree 2 (a margin of tol * mean(y^2) on the MSE, 1.0, would tie them)."""
    rng = np.random.default_rng(9)
    X = _random_cube(rng, 1500, 5)
    for offset in (0.0, 1000.0):
        y = offset + 0.5 * X[:, 0] * X[:, 1]
        for solver in ("cg", "exact"):
            model = LowDegreeRegressor(max_degree=3, solver=solver, random_state=0).fit(X, y)
            assert model.degree_ == 2, (offset, solver, model.cv_results_["mean_test_mse"])


def test_holdout_fraction_and_max_degree_capped_at_n():
    rng = np.random.default_rng(8)
    X = _random_cube(rng, 200, 3)
    y = X[:, 0] * X[:, 2] + 0.05 * rng.normal(size=200)
    model = LowDegreeRegressor(max_degree=6, cv=0.25, random_state=1).fit(X, y)
    assert model.cv_results_["degree"].tolist() == [0, 1, 2, 3]
    assert model.cv_results_["split_test_mse"].shape == (4, 1)
    assert model.degree_ in (2, 3)


# ------------------------------------------------------- learning sanity
def _junta_fourier(table, coords, t):
    """Fourier coefficients of g(x_J) by brute force over {-1,1}^t."""
    z = 1.0 - 2.0 * ((np.arange(2**t)[:, None] >> np.arange(t)) & 1)
    return {tuple(sorted(coords[a] for a in A)):
            float(np.mean(table * np.prod(z[:, list(A)], axis=1)))
            for r in range(t + 1) for A in itertools.combinations(range(t), r)}


def test_learns_a_junta_network_realizable_and_noisy():
    """A junta of t=3 coordinates is a degree-3 polynomial (docs/theory.rst, section 3
    embedding), so degree-3 least squares is realizable.

    Noise-free: exact recovery whenever the 2000 x 299 design has full column
    rank, which fails with probability far below 1e-9 for uniform +-1 rows.
    Noisy (sd 0.5): the excess error is ||c_hat - c||^2 (Parseval, exact),
    about 0.25 * chi2_299 / 2000 = 0.019 +- 0.0016; the bound 0.05 is ~20
    standard deviations away, failure probability below 1e-12.
    """
    rng = np.random.default_rng(9)
    n, coords = 12, [2, 7, 11]
    table = rng.uniform(-1.0, 1.0, size=8)
    target = junta_network(table, coords, n)
    truth = _junta_fourier(table, coords, 3)
    X = _random_cube(rng, 2000, n)
    y = target(X)
    model = LowDegreeRegressor(degree=3, tol=1e-12).fit(X, y)
    for S, c in model.fourier_coefficients_.items():
        assert c == pytest.approx(truth.get(S, 0.0), abs=1e-8)
    noisy = LowDegreeRegressor(degree=3).fit(X, y + 0.5 * rng.normal(size=2000))
    excess = sum((c - truth.get(S, 0.0)) ** 2 for S, c in noisy.fourier_coefficients_.items())
    assert excess < 0.05


def test_classifier_learns_a_parity_on_three_bits_and_follows_sklearn_labels():
    rng = np.random.default_rng(10)
    X = _random_cube(rng, 500, 7)
    sign = X[:, 0] * X[:, 3] * X[:, 6]
    y = np.where(sign > 0, "even", "odd")
    # The exact solver, so the decision function is the least-squares fit to
    # rounding (CG would stop at its tolerance).
    model = LowDegreeClassifier(degree=3, solver="exact").fit(X, y)
    assert model.classes_.tolist() == ["even", "odd"]
    # "odd" is classes_[1], coded +1: the decision function is -chi_S.
    np.testing.assert_allclose(model.decision_function(X), -sign, atol=1e-6)
    X_test = _random_cube(rng, 200, 7)
    expected = np.where(X_test[:, 0] * X_test[:, 3] * X_test[:, 6] > 0, "even", "odd")
    assert (model.predict(X_test) == expected).all()
    regression = LowDegreeRegressor(degree=3, solver="exact").fit(
        X, np.where(y == "odd", 1.0, -1.0))
    np.testing.assert_allclose(model.coef_, regression.coef_, atol=1e-12)


def test_01_encoding_is_the_cube_map():
    rng = np.random.default_rng(11)
    X = _random_cube(rng, 100, 4)
    y = rng.normal(size=100)
    pm1 = LowDegreeRegressor(degree=2).fit(X, y)
    zero_one = LowDegreeRegressor(degree=2, input_encoding="01").fit((1 - X) / 2, y)
    np.testing.assert_allclose(pm1.coef_, zero_one.coef_, atol=1e-12)
    np.testing.assert_allclose(zero_one.predict((1 - X) / 2), pm1.predict(X), atol=1e-12)


# ------------------------------------------------------------ bad inputs
@pytest.fixture
def small_data():
    rng = np.random.default_rng(12)
    return _random_cube(rng, 40, 4), rng.normal(size=40)


@pytest.mark.parametrize("params, error, match", [
    ({"solver": "newton"}, ValueError, "solver must be one of"),
    ({"degree": 5}, ValueError, "degree=5 exceeds n_features=4"),
    ({"degree": -1}, ValueError, "degree must be >= 0"),
    ({"degree": 1.5}, TypeError, "degree must be an integer"),
    ({"alpha": -1.0}, ValueError, "alpha must be >= 0"),
    ({"tol": 0.0}, ValueError, "tol must be > 0"),
    ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
    ({"input_encoding": "bits"}, ValueError, "input_encoding must be"),
    ({"cv": 1}, ValueError, "cv must be >= 2"),
    ({"cv": 1.5}, ValueError, "cv must be an int >= 2"),
    ({"cv": "five"}, TypeError, "cv must be an int >= 2"),
    ({"max_degree": -2}, ValueError, "max_degree must be >= 0"),
    ({"n_jobs": 0}, ValueError, "n_jobs must be >= 1"),
    ({"max_bytes": 1e3}, MemoryBudgetError, r"needs about .* more than the 1000 B allowed"),
])
def test_bad_parameters_raise(small_data, params, error, match):
    X, y = small_data
    with pytest.raises(error, match=match):
        LowDegreeRegressor(**{"degree": 2, **params}).fit(X, y)


def test_memory_is_refused_before_allocating():
    # n = 64, d = 4: D = 679,121 features; the sketch solver's Gram matrix
    # alone would be 3.4 TiB.  Refused from the shape, so X can stay tiny.
    # ("exact" with these m = 10 < D rows takes the SVD of the 10 x D
    # explicit rows, 155 MiB.)
    X = np.ones((10, 64))
    with pytest.raises(MemoryBudgetError, match=r"D=679121.*TiB"):
        LowDegreeRegressor(degree=4, solver="sketch").fit(X, np.zeros(10))


@pytest.mark.parametrize("X_bad, match", [
    (np.full((40, 4), 0.5), r"exactly \+1 or -1"),
    (np.zeros((40, 4)), r"exactly \+1 or -1"),
    (np.full((40, 4), np.nan), "NaN"),
    (np.ones(40), "2D array"),
])
def test_bad_X_raises(small_data, X_bad, match):
    _, y = small_data
    with pytest.raises(ValueError, match=match):
        LowDegreeRegressor(degree=1, domain="cube").fit(X_bad, y)


def test_bad_y_and_predict_inputs_raise(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LowDegreeRegressor(degree=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        LowDegreeRegressor(degree=1).fit(X, np.full(40, np.nan))
    with pytest.raises(ValueError, match="exactly 0 or 1"):
        LowDegreeRegressor(degree=1, input_encoding="01").fit(X, y)
    with pytest.raises(NotFittedError):
        LowDegreeRegressor().predict(X)
    model = LowDegreeRegressor(degree=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"exactly \+1 or -1"):
        model.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="y should be a 1d array"):
        LowDegreeClassifier(degree=1).fit(X, np.eye(4)[np.arange(40) % 4][:, :3])
    with pytest.raises(ValueError, match="two classes"):
        LowDegreeClassifier(degree=1).fit(X, np.ones(40))
    # Labels of two types cannot be sorted into classes_: a TypeError naming
    # y (it was NumPy's "'<' not supported between 'NoneType' and 'str'").
    with pytest.raises(TypeError, match="y must hold labels of one type"):
        LowDegreeClassifier(degree=1).fit(X, np.array(["cat", 1] * 20, dtype=object))
    # None among them is a missing label, named as such.
    with pytest.raises(ValueError, match="y has a missing label at position 1"):
        LowDegreeClassifier(degree=1).fit(X, np.array(["cat", None] * 20, dtype=object))
    with pytest.raises(ValueError, match="n_samples=3"):
        LowDegreeRegressor(cv=5).fit(X[:3], y[:3])


# --------------------------------------------------------- scikit-learn API
# Every check runs on the bare estimators with no expected failure: real-valued
# X (iris, make_regression, ...) takes domain="auto" to the real monomials
# (issue 16; until then 58 checks were expected failures).
@parametrize_with_checks(
    [LowDegreeRegressor(degree=2), LowDegreeClassifier(degree=2),
     LowDegreeRegressor(max_degree=2, cv=3, random_state=0),
     LowDegreeRegressor(degree=2, standardize=True, solver="cg"),
     LowDegreeClassifier(degree=2, standardize=True, solver="cg")])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_get_set_params_and_clone():
    model = LowDegreeRegressor(degree=2, alpha=0.5)
    assert model.get_params()["alpha"] == 0.5
    assert clone(model.set_params(solver="cg")).get_params()["solver"] == "cg"


# ---------------------------------------------------------------- persistence
def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.choice([-1.0, 1.0], size=(400, 7))
    y = X[:, 1] * X[:, 4] - 0.5 * X[:, 2] + 0.05 * rng.normal(size=400)
    model = LowDegreeRegressor(max_degree=3, alpha=0.5, random_state=0).fit(X, y)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = LowDegreeRegressor.load(path)
    assert loaded.degree_ == model.degree_ and loaded.n_features_in_ == 7
    assert loaded.subsets_ == model.subsets_
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params()["alpha"] == 0.5


def test_load_refuses_inconsistent_or_foreign_files(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.choice([-1.0, 1.0], size=(100, 4))
    model = LowDegreeRegressor(degree=2).fit(X, X[:, 0])
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path) as archive:
        arrays = dict(archive)
    arrays["coef"] = arrays["coef"][:-1]
    bad = tmp_path / "truncated.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="coefficients, but degree 2 on n=4 has 11"):
        LowDegreeRegressor.load(bad)
    other = tmp_path / "net.npz"
    np.savez(other, weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a saved LowDegreeRegressor"):
        LowDegreeRegressor.load(other)
    with pytest.raises(ValueError, match="no such file"):
        LowDegreeRegressor.load(tmp_path / "missing.npz")
    with pytest.raises(NotFittedError):
        LowDegreeRegressor().save(tmp_path / "unfitted.npz")


def test_save_load_keeps_the_column_names_of_a_dataframe_fit(tmp_path):
    """A DataFrame fit's feature_names_in_ survive save/load: the loaded model
    names its monomials the same way and predicts a DataFrame without
    scikit-learn's "fitted without feature names" warning; a file whose names
    do not match n is refused."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["age", "dose", "weight"])
    y = frame["age"] * frame["dose"]
    for model in (LowDegreeRegressor(degree=2).fit(frame, y),
                  LowDegreeClassifier(degree=2).fit(frame, y > 0)):
        path = tmp_path / f"{type(model).__name__}.npz"
        model.save(path)
        loaded = type(model).load(path)
        assert list(loaded.feature_names_in_) == ["age", "dose", "weight"]
        assert list(loaded.get_feature_names_out()) == list(model.get_feature_names_out())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
        with np.load(path) as archive:
            arrays = dict(archive)
        arrays["feature_names"] = arrays["feature_names"][:2]
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match="feature_names must be 3 strings"):
            type(model).load(path)
    # A NumPy fit has no names and saves none.
    plain = LowDegreeRegressor(degree=1).fit(frame.to_numpy(), y.to_numpy())
    plain.save(tmp_path / "plain.npz")
    assert not hasattr(LowDegreeRegressor.load(tmp_path / "plain.npz"), "feature_names_in_")


def test_load_refuses_a_standardisation_that_disagrees_with_its_parameters(tmp_path):
    """A crafted format-2 file whose ``standardize`` parameter says one thing
    and whose mean/scale arrays another is refused, not loaded into a model
    whose predict silently skips (or applies) the standardisation."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] * X[:, 1]
    cases = []
    standardized = LowDegreeRegressor(degree=2, standardize=True).fit(X, y)
    plain = LowDegreeRegressor(degree=2, domain="real").fit(X, y)
    for model, edit in ((standardized, "drop"), (plain, "add")):
        path = tmp_path / f"{edit}.npz"
        model.save(path)
        with np.load(path) as archive:
            arrays = dict(archive)
        if edit == "drop":  # standardize=True, but no mean/scale saved
            arrays["mean"] = arrays["scale"] = np.zeros(0)
        else:  # standardize=False, but a mean/scale saved
            arrays["mean"], arrays["scale"] = np.zeros(3), np.ones(3)
        np.savez(path, **arrays)
        cases.append(path)
    for path in cases:
        with pytest.raises(ValueError, match="needs the saved mean and scale"):
            LowDegreeRegressor.load(path)
    # The unedited files still load and predict as the fitted models.
    standardized.save(tmp_path / "ok.npz")
    np.testing.assert_array_equal(LowDegreeRegressor.load(tmp_path / "ok.npz").predict(X),
                                  standardized.predict(X))


def test_estimators_hold_no_caller_array():
    """The fitted estimators feed the parity kernels from their own coef_ and
    a fresh design per call: editing the caller's arrays or reshaping coef_
    changes no prediction and crashes nothing."""
    rng = np.random.default_rng(3)
    X = _random_cube(rng, 200, 6)
    y = X[:, 0] * X[:, 1] + 0.5 * X[:, 2]
    X_test = _random_cube(rng, 50, 6)
    for model in (LowDegreeRegressor(degree=2), LowDegreeClassifier(degree=2)):
        target = y if isinstance(model, LowDegreeRegressor) else np.sign(y + 0.25)
        X_fit, target_fit = X.copy(), target.copy()
        model.fit(X_fit, target_fit)
        expected = model.predict(X_test)
        assert X_fit.flags.writeable and target_fit.flags.writeable
        X_fit[:] = np.nan
        target_fit[:] = 7.0
        np.testing.assert_array_equal(model.predict(X_test), expected)
        coef = model.coef_
        model.coef_ = coef.reshape(1, -1)
        with pytest.raises(ValueError, match="coef must be 1-D"):
            model.predict(X_test)
        model.coef_ = coef[:-1]
        with pytest.raises(ValueError, match="coef must have length"):
            model.predict(X_test)
        model.coef_ = coef
        np.testing.assert_array_equal(model.predict(X_test), expected)


@pytest.mark.parametrize("kind", ["str", "datetime64", "timedelta64"])
def test_estimators_refuse_strings_dates_and_durations(kind):
    """validate_data(dtype=float64) parsed "1" and cast dates and durations
    to numbers, so all three were silently learned from."""
    rng = np.random.default_rng(4)
    X = _random_cube(rng, 40, 3)
    y = X[:, 0].copy()
    bad = {"str": X.astype(int).astype(str), "datetime64": X.astype(int).astype("M8[s]"),
           "timedelta64": X.astype(int).astype("m8[s]")}[kind]
    for model in (LowDegreeRegressor(degree=1), LowDegreeClassifier(degree=1)):
        with pytest.raises(TypeError, match="^X must"):
            model.fit(bad, y)
        model.fit(X, y)
        with pytest.raises(TypeError, match="^X must"):
            model.predict(bad)
    with pytest.raises(TypeError, match="^y must"):
        LowDegreeRegressor(degree=1).fit(X, bad[:, 0])
    # Class labels may be anything, strings included.
    labels = np.where(y > 0, "yes", "no")
    assert set(LowDegreeClassifier(degree=1).fit(X, labels).predict(X)) <= {"yes", "no"}


# ------------------------------------------------- real-valued inputs (issue 16)
def _sklearn_pipeline(degree, alpha, scaler=False):
    """The scikit-learn model ours equals: every monomial of degree <= d with
    its bias column, ridge-penalised uniformly (Ridge with fit_intercept=False:
    our constant monomial is penalised like the other coefficients)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler
    steps = [StandardScaler()] if scaler else []
    return make_pipeline(*steps, PolynomialFeatures(degree, interaction_only=True),
                         Ridge(alpha=alpha, fit_intercept=False, solver="svd"))


def _data(kind, rng, m, n):
    if kind == "real":  # correlated Gaussian, off-centre
        mixing = rng.normal(size=(n, n))
        return rng.normal(size=(m, n)) @ mixing + 0.5
    if kind == "01":
        return rng.integers(0, 2, size=(m, n)).astype(float)
    return _random_cube(rng, m, n)


@pytest.mark.parametrize("kind", ["real", "01", "pm1"])
@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_predictions_equal_polynomial_features_and_ridge(kind, degree, alpha):
    """On real, 0/1 and +-1 data, every solver equals PolynomialFeatures(
    interaction_only=True) + Ridge: same coefficients in the same order (the
    feature names too) and the same predictions on new points."""
    rng = np.random.default_rng(100 + degree)
    n, m = 5, 200  # D <= 31 < m: full column rank with overwhelming probability
    X, X_test = _data(kind, rng, m, n), _data(kind, rng, 50, n)
    y = rng.normal(size=m) + X[:, 0] * X[:, 1]
    reference = _sklearn_pipeline(degree, alpha).fit(X, y)
    expected = reference.predict(X_test)
    ridge = reference[-1]
    names = reference[0].get_feature_names_out()
    for solver in ("auto", "cg", "exact", "cholesky"):
        model = LowDegreeRegressor(degree=degree, alpha=alpha, solver=solver,
                                   tol=1e-12, max_iter=2000).fit(X, y)
        assert model.domain_ == ("cube" if kind == "pm1" else "real")
        scale = np.abs(expected).max()
        np.testing.assert_allclose(model.predict(X_test), expected, rtol=0,
                                   atol=1e-8 * scale)
        np.testing.assert_allclose(model.coef_, ridge.coef_, rtol=0,
                                   atol=1e-8 * np.abs(ridge.coef_).max())
        assert model.get_feature_names_out().tolist() == names.tolist()


def test_feature_names_follow_dataframe_columns():
    import pandas as pd
    rng = np.random.default_rng(101)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["age", "dose", "t"])
    model = LowDegreeRegressor(degree=2).fit(frame, rng.normal(size=40))
    assert model.get_feature_names_out().tolist() == [
        "1", "age", "dose", "t", "age dose", "age t", "dose t"]
    plain = LowDegreeRegressor(degree=2).fit(frame.to_numpy(), rng.normal(size=40))
    assert plain.get_feature_names_out()[4] == "x0 x1"
    assert plain.get_feature_names_out(["a", "b", "c"])[4] == "a b"
    with pytest.raises(NotFittedError):
        LowDegreeRegressor().get_feature_names_out()


@pytest.mark.parametrize("seed", [0, 1])
def test_real_rank_deficient_designs_give_the_minimum_norm_solution(seed):
    """m < D, and repeated rows: solver="exact" is numpy.linalg.lstsq's
    minimum-norm solution on real monomials too; ridge is the unique ridge
    solution."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 6))  # D = 22 > m = 12
    X = np.vstack([X, X[:5]])     # and five repeated rows
    y = rng.normal(size=17)
    P = explicit_parity_features(X, 2)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    model = LowDegreeRegressor(degree=2, solver="exact").fit(X, y)
    np.testing.assert_allclose(model.coef_, expected, rtol=0,
                               atol=1e-9 * np.linalg.norm(expected))
    for solver in ("exact", "cholesky"):
        ridge = LowDegreeRegressor(degree=2, solver=solver, alpha=0.3).fit(X, y)
        np.testing.assert_allclose(
            ridge.coef_, np.linalg.solve(P.T @ P + 0.3 * np.eye(22), P.T @ y), rtol=0,
            atol=1e-9 * np.linalg.norm(ridge.coef_))
    # The singular normal equations (alpha = 0) take cholesky's fallback: a
    # least-squares fit (same fitted values as lstsq) of about the minimum norm.
    fallback = LowDegreeRegressor(degree=2, solver="cholesky").fit(X, y)
    np.testing.assert_allclose(P @ fallback.coef_, P @ expected, rtol=0,
                               atol=1e-6 * np.abs(y).max())
    assert np.linalg.norm(fallback.coef_) <= 1.01 * np.linalg.norm(expected)


def test_real_cg_with_fewer_points_than_monomials_gives_the_minimum_norm_solution():
    """m < D, alpha = 0 on real X: CG interpolates, and of the interpolants it
    must return numpy.linalg.lstsq's (the documented minimum norm).  The
    Jacobi-preconditioned CG returned the one of least diagonally weighted
    norm instead: predictions 73-85% away at n = 10, d = 3, m = 100."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 10)), rng.normal(size=100)  # D = 176
    expected = np.linalg.lstsq(explicit_parity_features(X, 3), y, rcond=None)[0]
    model = LowDegreeRegressor(degree=3, solver="cg", tol=1e-10, max_iter=100_000).fit(X, y)
    assert model.domain_ == "real"
    np.testing.assert_allclose(model.coef_, expected, rtol=0,
                               atol=1e-6 * np.linalg.norm(expected))


@pytest.mark.parametrize("solver", ["auto", "cholesky", "exact"])
def test_badly_scaled_real_columns_are_solved_not_truncated(solver):
    """X * 1e-6 (degree 3: monomials from 1 down to 1e-18) is well posed once
    its columns are equilibrated: every direct solver gives the unique
    least-squares fit.  Before equilibration the Gram's reciprocal condition
    number (below eps) sent solver="cholesky" to its fallback, and
    solver="exact" applied its SVD cutoff to R itself: both cutoffs,
    relative to the largest singular value, dropped the small monomials
    (cholesky kept the intercept only)."""
    rng = np.random.default_rng(111)
    Z = rng.normal(size=(300, 5))
    y = (Z[:, 0] * Z[:, 1] * Z[:, 3] - 2.0 * Z[:, 2] + 0.5
         + 0.1 * rng.normal(size=300))
    X = 1e-6 * Z
    P = explicit_parity_features(X, 3)
    norms = np.linalg.norm(P, axis=0)
    expected = np.linalg.lstsq(P / norms, y, rcond=None)[0] / norms  # full rank
    model = LowDegreeRegressor(degree=3, solver=solver).fit(X, y)
    assert model.domain_ == "real"
    fitted = P @ expected
    np.testing.assert_allclose(model.predict(X), fitted, rtol=0,
                               atol=1e-8 * np.abs(fitted).max())
    assert model.score(X, y) > 0.99


@pytest.mark.parametrize("solver", ["cholesky", "exact"])
@pytest.mark.parametrize("alpha", [0.0, 1e-3])
def test_unequal_scales_keep_the_minimum_norm_in_the_original_coordinates(solver, alpha):
    """x1 = 1024 x0 exactly: the columns x0 and x1 of P are proportional and
    the normal equations singular.  The rank is decided on the equilibrated
    system, but the solution is the minimum-norm one in the coordinates of
    coef_: the weight b on x0 of the merged fit is split as
    (c0, c1) = b (1, 1024) / (1 + 1024^2).  With alpha > 0 it is the unique
    ridge solution."""
    rng = np.random.default_rng(112)
    X = rng.normal(size=(60, 3))
    X[:, 1] = 1024.0 * X[:, 0]
    y = 1.0 + X[:, 0] - X[:, 2] + 0.1 * rng.normal(size=60)
    P = explicit_parity_features(X, 1)  # columns 1, x0, x1, x2
    model = LowDegreeRegressor(degree=1, solver=solver, alpha=alpha).fit(X, y)
    if alpha == 0.0:
        merged = np.linalg.lstsq(P[:, [0, 1, 3]], y, rcond=None)[0]
        b = merged[1]
        expected = np.array([merged[0], b / (1 + 1024**2), 1024 * b / (1 + 1024**2),
                             merged[2]])
    else:
        expected = np.linalg.solve(P.T @ P + alpha * np.eye(4), P.T @ y)
    np.testing.assert_allclose(model.coef_, expected, rtol=0,
                               atol=1e-8 * np.linalg.norm(expected))


def test_auto_takes_the_wide_route_only_when_its_whole_fit_fits_the_budget():
    """A budget between the wide route's explicit rows and its whole fit (rows,
    design and buffers, fit's own check): "auto" then takes CG, which fits,
    instead of choosing the wide route and being refused by fit's check."""
    from sparselearn._solvers import _wide_bytes
    rng = np.random.default_rng(12)
    m, n, d = 300, 40, 3
    D = n_parity_features(n, d)
    X = rng.normal(size=(m, n))
    y = rng.normal(size=m)
    whole = ParityDesign.estimate_bytes(m, n, d, "exact", 1, 1, domain="real")
    assert _wide_bytes(m, D) < whole
    budget = (_wide_bytes(m, D) + whole) / 2
    model = LowDegreeRegressor(degree=d, domain="real", n_jobs=1, max_bytes=budget,
                               tol=1e-3, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 iterations: not the point
        model.fit(X, y)
    assert model.n_iter_ > 1  # CG's iterations, not the direct solve's 1
    model = LowDegreeRegressor(degree=d, domain="real", n_jobs=1, max_bytes=whole * 1.01)
    assert model.fit(X, y).n_iter_ == 1  # the wide route


def test_wide_real_problems_solve_the_explicit_rows_within_the_budget():
    """m = 300 < D = 4526 (n = 30, d = 3): the normal equations are singular
    and 8 D^2 = 164 MB; "auto", "exact" and "cholesky" take the SVD of the
    explicit 300 x 4526 rows instead (about 36 MB), so a 100 MB budget
    admits the fit (before, "auto" and "cholesky" were refused at about
    650 MB, and ran minutes when admitted), and the result is lstsq's
    minimum-norm solution; alpha > 0 gives the dual ridge solution
    P^T (P P^T + alpha I)^-1 y.  A budget below the wide route's figure
    refuses "exact" with it."""
    rng = np.random.default_rng(113)
    X = rng.normal(size=(300, 30))
    y = rng.normal(size=300)
    P = explicit_parity_features(X, 3)
    expected = np.linalg.lstsq(P, y, rcond=None)[0]
    for solver in ("auto", "exact", "cholesky"):
        model = LowDegreeRegressor(degree=3, solver=solver, max_bytes=100e6).fit(X, y)
        np.testing.assert_allclose(model.coef_, expected, rtol=0,
                                   atol=1e-9 * np.linalg.norm(expected))
    dual = P.T @ np.linalg.solve(P @ P.T + 0.5 * np.eye(300), y)
    ridge = LowDegreeRegressor(degree=3, alpha=0.5, max_bytes=100e6).fit(X, y)
    np.testing.assert_allclose(ridge.coef_, dual, rtol=0, atol=1e-9 * np.linalg.norm(dual))
    from sparselearn._validation import format_bytes
    figure = ParityDesign.estimate_bytes(300, 30, 3, "exact", n_jobs=1, domain="real")
    # The explicit rows and the SVD's V (8 * 2 m D bytes) at least, well below
    # the D x D QR block of the m >= D route (16 D^2 bytes).
    assert 16 * 300 * 4526 < figure < 100e6 < 16 * 4526**2
    with pytest.raises(MemoryBudgetError, match=r"solver='exact'\).*needs about "
                                                + re.escape(format_bytes(figure))):
        LowDegreeRegressor(degree=3, solver="exact", max_bytes=20e6, n_jobs=1).fit(X, y)


@pytest.mark.parametrize("domain,alpha", [("real", 0.0), ("real", 1.0), ("cube", 0.0)])
def test_wide_route_stays_within_its_memory_estimate(domain, alpha):
    """The wide route's allocations (tracemalloc peak of the fit, m = 150 <
    D = 299) are within ParityDesign.estimate_bytes for "exact"."""
    import tracemalloc
    rng = np.random.default_rng(114)
    X = rng.normal(size=(150, 12)) if domain == "real" else _random_cube(rng, 150, 12)
    y = rng.normal(size=150)
    model = LowDegreeRegressor(degree=3, solver="exact", alpha=alpha, domain=domain, n_jobs=1)
    tracemalloc.start()
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= ParityDesign.estimate_bytes(150, 12, 3, "exact", domain=domain)


@pytest.mark.parametrize("solver", ["auto", "exact", "cg"])
def test_real_X_whose_monomials_overflow_is_refused_naming_X(solver):
    """Finite X ~ 1e300: its degree-2 monomials (1e600) overflow float64.
    Before the check, auto/exact raised LinAlgError ("SVD did not
    converge") and cg returned NaN coef_; now a ValueError naming X comes
    before any work.  standardize=True checks (and here admits) the
    standardised X; predict refuses X whose monomials times coef_ overflow."""
    rng = np.random.default_rng(115)
    Z = rng.normal(size=(50, 3))
    y = Z[:, 0] * Z[:, 1] + 0.1 * rng.normal(size=50)
    with pytest.raises(ValueError, match=r"^X has entries up to 2\.\d+e\+300: its degree-2 "
                                         r"monomials and their Gram overflow float64.*"
                                         r"standardize=True"):
        LowDegreeRegressor(degree=2, solver=solver, domain="real").fit(1e300 * Z, y)
    # Degree 1 at 1e150: squares 1e300 times m = 50 stay finite, no refusal.
    assert np.isfinite(LowDegreeRegressor(degree=1, solver=solver).fit(
        1e150 * Z, y).coef_).all()
    scaled = LowDegreeRegressor(degree=2, solver=solver, standardize=True).fit(1e300 * Z, y)
    plain = LowDegreeRegressor(degree=2, solver=solver, standardize=True).fit(Z, y)
    np.testing.assert_allclose(scaled.predict(1e300 * Z), plain.predict(Z), rtol=0,
                               atol=1e-8 * np.abs(y).max())
    unscaled = LowDegreeRegressor(degree=2, solver=solver).fit(Z, y)
    with pytest.raises(ValueError, match=r"^X has entries up to .*times coef_"):
        unscaled.predict(1e300 * Z)


def test_standardize_is_refitted_on_every_cross_validation_fold():
    """Degree selection with standardize=True scores each degree as a
    StandardScaler + PolynomialFeatures + Ridge pipeline fitted on the
    fold's training rows only: the held-out rows' mean and scale never
    reach the fit that scores them."""
    rng = np.random.default_rng(103)
    X = rng.normal(size=(120, 3)) * [1.0, 8.0, 0.2] + [4.0, -1.0, 0.5]
    y = X[:, 0] * X[:, 2] + rng.normal(size=120)
    model = LowDegreeRegressor(max_degree=2, cv=3, alpha=1.5, standardize=True, tol=1e-13,
                               random_state=7).fit(X, y)
    # The folds the estimator documents: a permutation by its random_state,
    # split into cv nearly equal parts.
    order = np.random.default_rng(7).permutation(120)
    folds = np.array_split(order, 3)
    for k, degree in enumerate(model.cv_results_["degree"]):
        for f, held_out in enumerate(folds):
            train = np.setdiff1d(order, held_out)
            pipeline = _sklearn_pipeline(int(degree), 1.5, scaler=True).fit(X[train], y[train])
            expected = np.mean((pipeline.predict(X[held_out]) - y[held_out]) ** 2)
            assert model.cv_results_["split_test_mse"][k, f] == pytest.approx(expected,
                                                                              rel=1e-9)


def test_standardize_keeps_the_least_squares_fit_and_matches_standard_scaler():
    """Multilinear polynomials of degree <= d are closed under per-column
    affine maps, so with alpha = 0 standardising changes coef_ but not the
    fitted function; with alpha > 0 it is StandardScaler + the pipeline."""
    rng = np.random.default_rng(102)
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 0.1, 3.0] + [5.0, -2.0, 0.0, 1.0]
    X_test = rng.normal(size=(40, 4)) * 2.0
    y = X[:, 0] * X[:, 1] - X[:, 3] + rng.normal(size=300)
    plain = LowDegreeRegressor(degree=3, solver="exact").fit(X, y)
    standard = LowDegreeRegressor(degree=3, solver="exact", standardize=True).fit(X, y)
    np.testing.assert_allclose(standard.mean_, X.mean(axis=0))
    np.testing.assert_allclose(standard.scale_, X.std(axis=0))
    assert plain.mean_ is None and plain.scale_ is None
    scale = np.abs(plain.predict(X_test)).max()
    np.testing.assert_allclose(standard.predict(X_test), plain.predict(X_test), rtol=0,
                               atol=1e-9 * scale)
    assert np.abs(standard.coef_ - plain.coef_).max() > 1.0
    ridge = LowDegreeRegressor(degree=3, alpha=2.0, standardize=True, tol=1e-12).fit(X, y)
    expected = _sklearn_pipeline(3, 2.0, scaler=True).fit(X, y).predict(X_test)
    np.testing.assert_allclose(ridge.predict(X_test), expected, rtol=0, atol=1e-8 * scale)


def test_domain_rules():
    rng = np.random.default_rng(103)
    cube, real = _random_cube(rng, 60, 4), rng.normal(size=(60, 4))
    y = rng.normal(size=60)
    cube_model = LowDegreeRegressor(degree=2).fit(cube, y)
    assert cube_model.domain_ == "cube" and isinstance(cube_model.fourier_coefficients_, dict)
    real_model = LowDegreeRegressor(degree=2).fit(real, y)
    assert real_model.domain_ == "real" and real_model.fourier_coefficients_ is None
    # Declared real on cube points: the same least-squares fit by another route.
    forced = LowDegreeRegressor(degree=2, domain="real", solver="exact").fit(cube, y)
    np.testing.assert_allclose(forced.coef_, LowDegreeRegressor(
        degree=2, solver="exact").fit(cube, y).coef_, atol=1e-10)
    # The refusal lists every least-squares solver that runs off the cube.
    with pytest.raises(ValueError, match="solver='lmn' estimates Fourier coefficients") as info:
        LowDegreeRegressor(degree=2, solver="lmn").fit(real, y)
    assert all(f"'{name}'" in str(info.value) for name in _SOLVERS if name != "lmn")
    with pytest.raises(ValueError, match=r"exactly \+1 or -1"):
        LowDegreeRegressor(degree=2, domain="cube").fit(real, y)
    with pytest.raises(ValueError, match=r"domain_ is 'cube'"):
        cube_model.predict(real)
    for params, match in [({"domain": "reals"}, "domain must be 'auto'"),
                          ({"standardize": 1}, "standardize must be True or False"),
                          ({"standardize": True, "domain": "cube"}, "standardize=True"),
                          ({"input_encoding": "01", "domain": "real"},
                           "input_encoding='01' maps 0/1 data onto the cube")]:
        with pytest.raises((ValueError, TypeError), match=match):
            LowDegreeRegressor(degree=1, **params).fit(real, y)


# ------------------------------------------------------- multiclass (issue 16)
@pytest.mark.parametrize("solver", ["exact", "cg"])
@pytest.mark.parametrize("domain", ["real", "cube"])
def test_multiclass_equals_ridge_classifier_on_polynomial_features(solver, domain):
    """One-vs-rest least squares: RidgeClassifier on the monomial features
    (fit_intercept=False, the bias column included) has the same coef_ (a
    row per class), decision_function and predictions."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.preprocessing import PolynomialFeatures
    rng = np.random.default_rng(104)
    m, n = 400, 6
    X = rng.normal(size=(m, n)) if domain == "real" else _random_cube(rng, m, n)
    labels = np.array(["a", "b", "c", "d"])
    y = labels[np.argmax(X[:, :4] * X[:, 1:5] + 0.3 * rng.normal(size=(m, 4)), axis=1)]
    features = PolynomialFeatures(2, interaction_only=True)
    P = features.fit_transform(X)
    reference = RidgeClassifier(alpha=1.0, fit_intercept=False, solver="svd").fit(P, y)
    model = LowDegreeClassifier(degree=2, alpha=1.0, solver=solver, tol=1e-12).fit(X, y)
    assert model.classes_.tolist() == labels.tolist()
    assert model.coef_.shape == (4, 22)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-8)
    X_test = rng.normal(size=(100, n)) if domain == "real" else _random_cube(rng, 100, n)
    scores = model.decision_function(X_test)
    assert scores.shape == (100, 4)
    np.testing.assert_allclose(scores, reference.decision_function(
        features.transform(X_test)), rtol=0, atol=1e-8)
    assert (model.predict(X_test) == reference.predict(features.transform(X_test))).all()
    assert not hasattr(model, "predict_proba")
    if domain == "cube":
        assert model.fourier_coefficients_[(0, 1)].shape == (4,)
    # Each class's row is the binary fit of that class against the rest.
    one = LowDegreeRegressor(degree=2, alpha=1.0, solver="exact").fit(
        X, np.where(y == "c", 1.0, -1.0))
    np.testing.assert_allclose(model.coef_[2], one.coef_, rtol=0, atol=1e-8)


def test_binary_classifier_keeps_one_decision_column():
    rng = np.random.default_rng(105)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = LowDegreeClassifier(degree=2).fit(X, y)
    assert model.coef_.shape == (7,) and model.decision_function(X).shape == (100,)
    # The binary fit is the regression on +-1 labels, and predicts its sign.
    regression = LowDegreeRegressor(degree=2).fit(X, 2.0 * y - 1.0)
    np.testing.assert_allclose(model.decision_function(X), regression.predict(X),
                               rtol=0, atol=1e-12)
    assert (model.predict(X) == (regression.predict(X) > 0)).all()


def test_multiclass_save_load_and_format_1_files(tmp_path):
    """Format 2 round trip (multiclass, standardised reals); a format-1 file
    (the layout written before issue 16: no domain, mean, scale, ten
    parameters) still loads as a cube model and predicts the same."""
    from sparselearn import io
    rng = np.random.default_rng(106)
    X = rng.normal(size=(200, 4))
    y = np.argmax(X[:, :3], axis=1)
    model = LowDegreeClassifier(degree=2, standardize=True).fit(X, y)
    loaded = LowDegreeClassifier.load(model.save(tmp_path / "multi"))
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.domain_ == "real" and loaded.get_params()["standardize"] is True
    cube = _random_cube(rng, 100, 4)
    fitted = LowDegreeClassifier(degree=2).fit(cube, cube[:, 0] * cube[:, 1] > 0)
    v1_params = {"degree": 2, "max_degree": 4, "solver": "auto", "alpha": 0.0,
                 "tol": 1e-6, "max_iter": 1000, "input_encoding": "pm1", "cv": 5,
                 "max_bytes": None, "n_jobs": None}
    import json
    path = io.save_npz(tmp_path / "old.npz",
                       format=np.array("sparselearn.LowDegreeClassifier/1"),
                       params=np.array(json.dumps(v1_params)), coef=fitted.coef_,
                       degree=np.array(2), n_features=np.array(4), n_iter=np.array(1),
                       classes=fitted.classes_)
    old = LowDegreeClassifier.load(path)
    assert old.domain_ == "cube" and old.mean_ is None
    np.testing.assert_array_equal(old.predict(cube), fitted.predict(cube))
    with pytest.raises(ValueError, match="not a saved LowDegreeRegressor"):
        LowDegreeRegressor.load(path)


# --------------------------------------------- compact and out-of-core samples (issue 15)
def _compact_problem(m=2500, n=10, seed=30):
    rng = np.random.default_rng(seed)
    X = rng.choice(np.array([-1, 1], dtype=np.int8), size=(m, n))
    Xf = X.astype(np.float64)
    y = 2.0 * Xf[:, 0] * Xf[:, 3] * Xf[:, 5] - Xf[:, 2] + 0.1 * rng.normal(size=m)
    return X, Xf, y


@pytest.mark.parametrize("solver", ["cg", "exact"])
def test_int8_packed_and_memmap_fits_equal_the_float64_fit(solver, tmp_path):
    from sparselearn.parities import pack_cube
    X8, Xf, y = _compact_problem(n=10 if solver == "cg" else 6)
    path = tmp_path / "x.npy"
    np.save(path, X8)
    params = dict(degree=3, solver=solver, tol=1e-12)
    reference = LowDegreeRegressor(**params).fit(Xf, y)
    for X in (X8, pack_cube(X8), np.load(path, mmap_mode="r")):
        model = LowDegreeRegressor(**params).fit(X, y)
        assert model.domain_ == "cube" and model.n_features_in_ == Xf.shape[1]
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                                   atol=1e-10 * np.linalg.norm(reference.coef_))
        np.testing.assert_allclose(model.predict(X), reference.predict(Xf), rtol=1e-10,
                                   atol=1e-10)


def test_memmap_fit_selects_the_degree_and_keeps_the_caller_file(tmp_path):
    X8, Xf, y = _compact_problem()
    path = tmp_path / "x.npy"
    np.save(path, X8)
    mapped = np.load(path, mmap_mode="r")
    params = dict(max_degree=3, cv=3, solver="cg", tol=1e-10, random_state=0)
    model = LowDegreeRegressor(**params).fit(mapped, y)
    reference = LowDegreeRegressor(**params).fit(Xf, y)
    assert model.degree_ == reference.degree_ == 3
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                               atol=1e-10 * np.linalg.norm(reference.coef_))
    np.testing.assert_array_equal(np.load(path), X8)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.bool_])
def test_unsigned_and_bool_memmaps_fit_as_the_same_array_in_memory(dtype, tmp_path):
    """They cannot hold -1, so they are never packed cube points: memory-mapped
    or not they take the float64 path (0/1 data, here real-valued under
    domain="auto", or the cube with input_encoding="01")."""
    rng = np.random.default_rng(21)
    X = rng.integers(0, 2, size=(150, 5)).astype(dtype)
    y = X[:, 0].astype(float) - 2.0 * X[:, 1] * X[:, 3]
    path = tmp_path / "x.npy"
    np.save(path, X)
    for params in ({"degree": 2}, {"degree": 2, "input_encoding": "01"}):
        mapped = LowDegreeRegressor(**params).fit(np.load(path, mmap_mode="r"), y)
        in_memory = LowDegreeRegressor(**params).fit(X, y)
        assert mapped.domain_ == in_memory.domain_
        np.testing.assert_array_equal(mapped.coef_, in_memory.coef_)


def test_compact_inputs_are_refused_clearly():
    from sparselearn.parities import pack_cube
    X8, _, y = _compact_problem(m=200, n=6)
    with pytest.raises(ValueError, match="PackedCube .* domain='cube'"):
        LowDegreeRegressor(degree=1, domain="real").fit(pack_cube(X8), y)
    bad = X8.copy()
    bad[0, 0] = 0
    with pytest.raises(ValueError, match="exactly"):
        LowDegreeRegressor(degree=1, domain="cube").fit(bad, y)
    # domain="auto" on integer data that is not +-1: the real-valued fit.
    assert LowDegreeRegressor(degree=1).fit(bad, y).domain_ == "real"
    model = LowDegreeRegressor(degree=1).fit(X8, y)
    with pytest.raises(ValueError, match="expecting 6 features"):
        model.predict(X8[:, :5])
    with pytest.raises(MemoryBudgetError,
                       match=r"packed sample X \(200 x 6 points.* needs about"):
        LowDegreeRegressor(degree=1, max_bytes=100.0).fit(X8, y)


def _class_labels(Xf, multiclass):
    """String labels of the compact problem: two classes (a noisy degree-2
    parity) or three (one-vs-rest)."""
    if multiclass:
        return np.array(["u", "v", "w"])[(Xf[:, 2] > 0).astype(int)
                                         + (Xf[:, 0] * Xf[:, 3] > 0).astype(int)]
    return np.where(Xf[:, 0] * Xf[:, 1] - 0.5 * Xf[:, 4] > 0, "yes", "no")


@pytest.mark.parametrize("multiclass", [False, True])
def test_classifier_int8_packed_and_memmap_fits_equal_the_float64_fit(multiclass, tmp_path):
    from sparselearn.parities import pack_cube
    X8, Xf, _ = _compact_problem(m=1500)
    y = _class_labels(Xf, multiclass)
    path = tmp_path / "x.npy"
    np.save(path, X8)
    params = dict(degree=3, solver="cg", tol=1e-12)
    reference = LowDegreeClassifier(**params).fit(Xf, y)
    scores = reference.decision_function(Xf)
    for X in (X8, pack_cube(X8), np.load(path, mmap_mode="r")):
        model = LowDegreeClassifier(**params).fit(X, y)
        np.testing.assert_array_equal(model.classes_, reference.classes_)
        assert model.domain_ == "cube" and model.coef_.shape == reference.coef_.shape
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                                   atol=1e-10 * np.linalg.norm(reference.coef_))
        np.testing.assert_allclose(model.decision_function(X), scores, rtol=0,
                                   atol=1e-10 * np.abs(scores).max())
        # Scores within 1e-10 of a tie could flip a label; none is that close here.
        assert np.abs(scores if scores.ndim == 1 else np.diff(np.sort(scores)[:, -2:])).min() > 1e-6
        np.testing.assert_array_equal(model.predict(X), reference.predict(Xf))


def test_classifier_memmap_fit_selects_the_degree_and_checks_labels(tmp_path):
    X8, Xf, _ = _compact_problem(m=1200)
    y = _class_labels(Xf, False)
    path = tmp_path / "x.npy"
    np.save(path, X8)
    params = dict(max_degree=3, cv=3, solver="cg", tol=1e-10, random_state=0)
    model = LowDegreeClassifier(**params).fit(np.load(path, mmap_mode="r"), y)
    reference = LowDegreeClassifier(**params).fit(Xf, y)
    assert model.degree_ == reference.degree_
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                               atol=1e-10 * np.linalg.norm(reference.coef_))
    with pytest.raises(ValueError, match="y has 1199 labels, but X has 1200 rows"):
        LowDegreeClassifier(degree=1).fit(X8, y[1:])
    with pytest.raises(ValueError, match="at least two classes"):
        LowDegreeClassifier(degree=1).fit(X8, np.zeros(1200))


@pytest.mark.parametrize("estimator", [LowDegreeRegressor, LowDegreeClassifier])
def test_compact_fits_are_refused_with_the_figure_before_allocating(estimator, tmp_path):
    """Packed and memory-mapped input: a fit over the budget is refused from
    the shape, after packing 50 rows (400 bytes) and before the design or
    the subsets (n = 64, d = 4: 679,121 parities, over 10 times the budget) exist."""
    import tracemalloc

    from sparselearn.parities import pack_cube
    rng = np.random.default_rng(40)
    X8 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(50, 64))
    y = np.where(X8[:, 0] > 0, 1, -1)
    path = tmp_path / "x.npy"
    np.save(path, X8)
    for X in (pack_cube(X8), np.load(path, mmap_mode="r")):
        tracemalloc.start()
        try:
            with pytest.raises(MemoryBudgetError,
                               match=rf"{estimator.__name__} fit \(m=50, n=64, degree=4, "
                                     r"D=679121, solver='cg'\) needs about [\d.]+ [MG]iB, "
                                     r"more than the 9\.5 MiB allowed"):
                estimator(degree=4, max_bytes=1e7).fit(X, y)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1e6


# ----------------------------------------- the fit on a dask array (issue 15)
def _dask_problem():
    da = pytest.importorskip("dask.array")
    X8, Xf, y = _compact_problem(m=3000, n=10, seed=31)
    return da.from_array(X8, chunks=(700, 10)), Xf, y


def test_dask_fit_equals_the_in_memory_fit_and_predicts_lazily(dask_cluster):
    _, client = dask_cluster
    dX, Xf, y = _dask_problem()
    params = dict(degree=3, solver="cg", tol=1e-12)
    reference = LowDegreeRegressor(**params).fit(Xf, y)
    with client.as_current():
        model = LowDegreeRegressor(**params).fit(dX, y)
        prediction = model.predict(dX)
        assert type(prediction).__module__.startswith("dask.array")
        values = prediction.compute()
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                               atol=1e-10 * np.linalg.norm(reference.coef_))
    np.testing.assert_allclose(values, reference.predict(Xf), rtol=1e-10, atol=1e-10)
    with client.as_current(), pytest.raises(ValueError, match="explicit degree="):
        LowDegreeRegressor().fit(dX, y)


def test_dask_fit_recovers_from_a_worker_killed_mid_fit(dask_cluster, monkeypatch):
    """The block designs have lineage, so the scheduler rebuilds what the
    killed worker held (its nanny restarts it) and the fit ends with the
    in-memory coefficients; a timeout bounds every product meanwhile."""
    import os
    import signal

    from sparselearn import _distributed
    _, client = dask_cluster
    dX, Xf, y = _dask_problem()
    params = dict(degree=3, solver="cg", tol=1e-12)
    reference = LowDegreeRegressor(**params).fit(Xf, y)
    monkeypatch.setattr(_distributed, "_PRODUCT_TIMEOUT", 60.0)
    original = _distributed.DaskParityDesign._normal_matvec
    calls = []

    def killing(self, coef, *dtype):
        calls.append(1)
        if len(calls) == 3:
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
        return original(self, coef, *dtype)

    monkeypatch.setattr(_distributed.DaskParityDesign, "_normal_matvec", killing)
    with client.as_current():
        model = LowDegreeRegressor(**params).fit(dX, y)
    assert len(calls) > 3
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                               atol=1e-10 * np.linalg.norm(reference.coef_))
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("multiclass", [False, True])
def test_dask_classifier_equals_the_in_memory_fit_and_predicts_lazily(dask_cluster,
                                                                      multiclass):
    """Binary (CG) and three classes (block CG over the distributed products),
    labels given as a dask array too."""
    da = pytest.importorskip("dask.array")
    _, client = dask_cluster
    dX, Xf, _ = _dask_problem()
    y = _class_labels(Xf, multiclass)
    params = dict(degree=3, solver="cg", tol=1e-12)
    reference = LowDegreeClassifier(**params).fit(Xf, y)
    scores = reference.decision_function(Xf)
    with client.as_current():
        model = LowDegreeClassifier(**params).fit(dX, da.from_array(y, chunks=700))
        decision, labels = model.decision_function(dX), model.predict(dX)
        for lazy in (decision, labels):
            assert type(lazy).__module__.startswith("dask.array")
        assert decision.shape == scores.shape and labels.shape == (Xf.shape[0],)
        decision, labels = decision.compute(), labels.compute()
    np.testing.assert_array_equal(model.classes_, reference.classes_)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                               atol=1e-10 * np.linalg.norm(reference.coef_))
    np.testing.assert_allclose(decision, scores, rtol=0, atol=1e-10 * np.abs(scores).max())
    # No score within 1e-6 of a tie, so rounding cannot flip a label.
    assert np.abs(scores if scores.ndim == 1 else np.diff(np.sort(scores)[:, -2:])).min() > 1e-6
    np.testing.assert_array_equal(labels, reference.predict(Xf))


def test_dask_fit_budgets_refuse_before_computing(dask_cluster):
    """The client's vectors are checked before any task is sent; a block
    design over the budget is refused on its worker, with the figure."""
    _, client = dask_cluster
    dX, _, y = _dask_problem()
    with client.as_current():
        with pytest.raises(MemoryBudgetError, match=r"on the client needs about 63\.4 KiB"):
            LowDegreeRegressor(degree=3, max_bytes=6e4).fit(dX, y)
        # Blocks of 700 rows and a last one of 200, built concurrently: any
        # may be refused first.  1.2e5 bytes admit the packing of a block
        # (112,000 at 700 rows) and the client's vectors, not a design.
        with pytest.raises(MemoryBudgetError, match=r"ParityDesign\(m=(700|200), n=10, "
                                                    r"degree=3\) with D=176 parities needs about"):
            LowDegreeClassifier(degree=3, max_bytes=1.2e5).fit(dX, np.sign(y))


def test_dask_fit_on_non_cube_blocks_raises_and_leaves_the_client_usable(dask_cluster):
    """A block with a 0 entry, then a real-valued X under domain='auto': each
    fit raises the ValueError naming X (the designs are checked before any
    product depends on them) and the next fit on the same client still
    equals the in-memory fit (releasing the erred fit's futures used to cut
    the client's scheduler connection)."""
    da = pytest.importorskip("dask.array")
    _, client = dask_cluster
    dX, Xf, y = _dask_problem()
    Xbad = Xf.copy()
    Xbad[-1, 3] = 0.0
    real = np.random.default_rng(5).normal(size=Xf.shape)
    params = dict(degree=2, solver="cg", tol=1e-12)
    reference = LowDegreeRegressor(**params).fit(Xf, y)
    with client.as_current():
        for bad in (Xbad, Xbad, real):
            with pytest.raises(ValueError, match=r"X must be a point set of the cube.*"
                                                 r"dask array supports cube points only"):
                LowDegreeRegressor(domain="auto", **params).fit(
                    da.from_array(bad, chunks=(700, 10)), y)
            model = LowDegreeRegressor(**params).fit(dX, y)
            np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0,
                                       atol=1e-10 * np.linalg.norm(reference.coef_))


def test_dask_fit_on_unknown_chunk_sizes_says_how_to_know_them():
    """Rows picked by a boolean mask have unknown (nan) block sizes: the fit
    raised "cannot convert float NaN to integer".  Refused before any client
    is needed."""
    dX, Xf, y = _dask_problem()
    keep = dX[:, 0] > 0
    for estimator, labels in ((LowDegreeRegressor, y), (LowDegreeClassifier, np.sign(y))):
        with pytest.raises(ValueError, match=r"X is a dask array of unknown shape "
                                             r"\(nan, 10\).*X\.compute_chunk_sizes\(\)"):
            estimator(degree=2).fit(dX[keep], labels[Xf[:, 0] > 0])


def test_dask_fit_without_workers_fails_with_a_timeout(dask_cluster, monkeypatch):
    """Last of the dask tests: it retires every worker of the shared cluster."""
    from sparselearn import _distributed
    cluster, client = dask_cluster
    dX, _, y = _dask_problem()
    monkeypatch.setattr(_distributed, "_PRODUCT_TIMEOUT", 2.0)
    client.retire_workers(list(client.scheduler_info()["workers"]), close_workers=True)
    cluster.scale(0)
    with client.as_current(), pytest.raises(TimeoutError, match="no live worker"):
        LowDegreeRegressor(degree=2).fit(dX, y)


# ------------------------------------- solver="sketch" (issue 16, performance)
def _correlated_gaussian(m, n, seed, condition=100.0):
    """Gaussian rows with a random covariance of the given condition number."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    return rng.normal(size=(m, n)) @ (Q * np.sqrt(np.geomspace(1.0, condition, n))).T, rng


def _poly_features(X, degree):
    from sklearn.preprocessing import PolynomialFeatures

    return PolynomialFeatures(degree, interaction_only=True).fit_transform(X)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("n, degree", [(6, 2), (5, 3)])
def test_sketch_solver_gives_the_ridge_solution(n, degree, alpha):
    # m = 600 > 4 D (D = 22 and 26), so the preconditioner is a true sample.
    X, rng = _correlated_gaussian(600, n, seed=n + degree)
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=600)
    P = _poly_features(X, degree)
    exact = np.linalg.solve(P.T @ P + alpha * np.eye(P.shape[1]), P.T @ y)
    model = LowDegreeRegressor(degree=degree, alpha=alpha, solver="sketch", tol=1e-10,
                               random_state=0).fit(X, y)
    assert model.n_iter_ > 1  # it iterated, from a sample of 4 D < m rows
    X_test, _ = _correlated_gaussian(200, n, seed=99)
    expected = _poly_features(X_test, degree) @ exact
    np.testing.assert_allclose(model.predict(X_test), expected, rtol=0,
                               atol=1e-6 * np.linalg.norm(expected) / np.sqrt(200))
    # Another sample of rows changes the iterations, not the solution.
    other = LowDegreeRegressor(degree=degree, alpha=alpha, solver="sketch", tol=1e-10,
                               random_state=1).fit(X, y)
    np.testing.assert_allclose(other.predict(X_test), expected, rtol=0,
                               atol=1e-6 * np.linalg.norm(expected) / np.sqrt(200))


def _count_products(monkeypatch):
    """Count the normal products by precision (``{np.float32: k, np.float64: k}``)."""
    from sparselearn.parities import ParityDesign

    calls = {np.float32: 0, np.float64: 0}
    product = ParityDesign._normal_matvec

    def counted(self, coef, dtype=np.float64):
        calls[np.dtype(dtype).type] += 1
        return product(self, coef, dtype)

    monkeypatch.setattr(ParityDesign, "_normal_matvec", counted)
    return calls


@pytest.mark.parametrize("n, degree", [(6, 2), (5, 3)])
def test_sketch_solver_in_mixed_precision_gives_the_ridge_solution(n, degree, monkeypatch):
    """With a sampled preconditioner (m > 4 D) and the size rule lowered to
    every design, "sketch" runs its inner CGs on float32 products of real X
    and still stops on the float64 residual: the ridge predictions to 1e-6
    as in float64 (one and three right-hand sides)."""
    monkeypatch.setattr("sparselearn._solvers._MIXED_MIN_ENTRIES", 1)
    calls = _count_products(monkeypatch)
    X, rng = _correlated_gaussian(600, n, seed=n + degree)
    Y = np.column_stack([X[:, 0] * X[:, 1] - X[:, 2], X[:, 3], X[:, 1] * X[:, 4]])
    Y = Y + 0.1 * rng.normal(size=Y.shape)
    P = _poly_features(X, degree)
    exact = np.linalg.solve(P.T @ P + np.eye(P.shape[1]), P.T @ Y)
    X_test, _ = _correlated_gaussian(200, n, seed=99)
    expected = _poly_features(X_test, degree) @ exact
    model = LowDegreeRegressor(degree=degree, alpha=1.0, solver="sketch", tol=1e-10,
                               random_state=0).fit(X, Y[:, 0])
    assert 1 <= calls[np.float32] <= model.n_iter_
    np.testing.assert_allclose(model.predict(X_test), expected[:, 0], rtol=0,
                               atol=1e-6 * np.linalg.norm(expected[:, 0]) / np.sqrt(200))
    # Three columns in lockstep (the solver itself; the regressor takes one).
    from sparselearn._solvers import _solve_sketch
    from sparselearn.parities import ParityDesign
    calls[np.float32] = 0
    coef, n_iter, converged = _solve_sketch(ParityDesign(X, degree, domain="real"), Y, 1.0,
                                            1e-10, 1000, np.random.default_rng(0))
    assert converged and 1 <= calls[np.float32] <= n_iter
    got = _poly_features(X_test, degree) @ coef
    np.testing.assert_allclose(got, expected, rtol=0,
                               atol=1e-6 * np.linalg.norm(expected) / np.sqrt(600))


def test_sketch_mixed_precision_survives_float32_overflow(monkeypatch):
    """Monomials of X * 1e18 overflow float32 (squares near 1e72): forced past
    the range rule, an inner float32 solve returns a non-finite correction,
    which is dropped for float64 products; the fit equals "cholesky"."""
    from sparselearn import _solvers, parities
    monkeypatch.setattr("sparselearn._solvers._MIXED_MIN_ENTRIES", 1)
    X, rng = _correlated_gaussian(600, 6, seed=2)
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=600)
    X = 1e18 * X
    direct = LowDegreeRegressor(degree=2, solver="cholesky", alpha=1.0).fit(X, y).predict(X)
    assert not parities._float32_safe(parities.ParityDesign(X, 2, domain="real"))
    # Both the design's dtype check and the solver's choice read the rule.
    monkeypatch.setattr("sparselearn.parities._float32_safe", lambda design: True)
    monkeypatch.setattr("sparselearn._solvers._float32_safe", lambda design: True)
    solves = []
    inner = _solvers._cg_columns

    def recorded(design, R0, alpha, rtol, max_iter, dtype, precondition=None, **options):
        E, k, converged = inner(design, R0, alpha, rtol, max_iter, dtype, precondition,
                                **options)
        solves.append((np.dtype(dtype).name, bool(np.isfinite(E).all())))
        return E, k, converged

    monkeypatch.setattr("sparselearn._solvers._cg_columns", recorded)
    with np.errstate(over="ignore", invalid="ignore"):  # the forced float32 products overflow
        model = LowDegreeRegressor(degree=2, solver="sketch", alpha=1.0, tol=1e-10,
                                   random_state=0).fit(X, y)
    assert solves[0] == ("float32", False)  # overflowed, then float64 only
    assert solves[1:] and all(solve == ("float64", True) for solve in solves[1:])
    np.testing.assert_allclose(model.predict(X), direct, rtol=0,
                               atol=1e-6 * np.abs(direct).max())


@pytest.mark.parametrize("solver", ["auto", "cholesky", "sketch", "exact"])
def test_offset_real_x_keeps_the_least_squares_fit(solver):
    """Monomials of X + 1e4 (n = 6, d = 2, alpha = 0): kappa(P) near 1e9, so
    the equilibrated normal equations are numerically singular.  Their
    fallback truncated the eigenvalues at D eps and left 88 times the least
    squared error (308 against 3.52), silently; it is now the QR of the
    explicit rows, whose squared error is lstsq's on the unit-norm columns
    to 1e-6 relative."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(400, 6))
    X = Z + 1e4
    y = Z[:, 0] * Z[:, 1] - 2 * Z[:, 2] + 0.1 * rng.normal(size=400)
    P = _poly_features(X, 2)
    norms = np.linalg.norm(P, axis=0)
    best = np.sum((y - (P / norms) @ np.linalg.lstsq(P / norms, y, rcond=None)[0]) ** 2)
    assert best < 0.01 * np.sum(y ** 2)  # a fit worth keeping
    model = LowDegreeRegressor(degree=2, solver=solver, random_state=0).fit(X, y)
    assert np.sum((y - model.predict(X)) ** 2) == pytest.approx(best, rel=1e-6)


def test_sketch_solver_rank_deficient_falls_back_to_the_minimum_norm_solution():
    X, rng = _correlated_gaussian(400, 4, seed=3)
    X[:, 3] = X[:, 0]  # x3 = x0: columns x3 and x0 (and x0 x1, x3 x1, ...) coincide
    y = X[:, 0] * X[:, 1] + 0.1 * rng.normal(size=400)
    P = _poly_features(X, 2)
    minimum_norm = np.linalg.lstsq(P, y, rcond=None)[0]
    model = LowDegreeRegressor(degree=2, solver="sketch", random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, minimum_norm, rtol=0,
                               atol=1e-6 * np.linalg.norm(minimum_norm))


def test_sketch_preconditions_badly_scaled_real_columns():
    """X * 1e-6 (degree 2): the sample Gram is equilibrated before its
    factor's pivot test, so "sketch" preconditions CG (several iterations)
    instead of taking its direct fallback (n_iter_ = 1, as before the
    equilibration), and agrees with "cholesky" to the accuracy of tol."""
    X, rng = _correlated_gaussian(1200, 12, seed=5)
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=1200)
    X = 1e-6 * (X + 3.0)
    direct = LowDegreeRegressor(degree=2, solver="cholesky").fit(X, y).predict(X)
    model = LowDegreeRegressor(degree=2, solver="sketch", tol=1e-10,
                               random_state=0).fit(X, y)
    assert model.n_iter_ > 1
    np.testing.assert_allclose(model.predict(X), direct, rtol=0,
                               atol=1e-6 * np.abs(direct).max())


def test_sketch_falls_back_when_the_float32_moments_overflow():
    """X * 1e7 at degree 3: the Gram's moments |x|^6 reach 1e44, beyond
    float32 (3.4e38), so the float32 moment table of "sketch" overflows; the
    fit must take the float64 normal equations (which hold them) and agree
    with "cholesky", not return NaN coefficients (it did: potrf reports
    success on NaN and the pivot test compared NaN)."""
    X, rng = _correlated_gaussian(2300, 15, seed=7)  # D = 576, the sample is every row
    y = X[:, 0] * X[:, 1] * X[:, 2] - X[:, 3] + 0.1 * rng.normal(size=2300)
    X = 1e7 * X
    direct = LowDegreeRegressor(degree=3, solver="cholesky", alpha=1.0).fit(X, y).predict(X)
    model = LowDegreeRegressor(degree=3, solver="sketch", alpha=1.0).fit(X, y)
    assert np.isfinite(model.coef_).all()
    np.testing.assert_allclose(model.predict(X), direct, rtol=0,
                               atol=1e-6 * np.abs(direct).max())


def test_sketch_solver_multiclass_matches_ridge_classifier():
    from sklearn.linear_model import RidgeClassifier

    X, _ = _correlated_gaussian(900, 5, seed=5)
    y = np.select([X[:, 0] * X[:, 1] > 1.0, X[:, 2] > 1.0], [0, 1], default=2)
    P = _poly_features(X, 2)
    peer = RidgeClassifier(alpha=1.0, fit_intercept=False).fit(P, y)
    model = LowDegreeClassifier(degree=2, alpha=1.0, solver="sketch", tol=1e-10,
                                random_state=0).fit(X, y)
    scores = peer.decision_function(P)
    np.testing.assert_allclose(model.decision_function(X), scores, rtol=0,
                               atol=1e-6 * np.abs(scores).max())


def test_auto_solver_off_the_cube_samples_from_eight_rows_per_feature():
    # n = 32, d = 2: D = 529 >= 500.  m = 4000 < 8 D uses the one-shot normal
    # equations (n_iter_ 1), m = 4300 >= 8 D the sketch-preconditioned CG
    # (several iterations); D = 22 < 500 never samples.
    X, rng = _correlated_gaussian(4300, 32, seed=8)
    y = X[:, 0] - X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=4300)
    assert LowDegreeRegressor(degree=2).fit(X[:4000], y[:4000]).n_iter_ == 1
    assert LowDegreeRegressor(degree=2).fit(X, y).n_iter_ > 1
    assert LowDegreeRegressor(degree=2).fit(X[:, :6], y).n_iter_ == 1


def test_save_stores_numpy_scalar_parameters_as_numbers(tmp_path):
    """Parameters given as NumPy scalars (a GridSearchCV over np.arange hands
    out np.int64 degrees) are saved as the numbers they equal: save used to
    raise json's "Object of type int64 is not JSON serializable"."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(90, 3))
    y = X[:, 0] * X[:, 1]
    model = LowDegreeRegressor(degree=np.int64(2), alpha=np.float32(0.5), tol=np.float64(1e-8),
                               standardize=np.True_, n_jobs=np.int32(1)).fit(X, y)
    loaded = LowDegreeRegressor.load(model.save(tmp_path / "numpy_params"))
    params = loaded.get_params()
    assert params["degree"] == 2 and type(params["degree"]) is int
    assert params["alpha"] == 0.5 and params["tol"] == 1e-8
    assert params["standardize"] is True and params["n_jobs"] == 1
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    classifier = LowDegreeClassifier(degree=np.int64(1)).fit(X, y > 0)
    loaded = LowDegreeClassifier.load(classifier.save(tmp_path / "numpy_classifier"))
    np.testing.assert_array_equal(loaded.predict(X), classifier.predict(X))


def test_standardize_scales_columns_of_tiny_or_huge_spread():
    """Standardisation is scale-free: ``X * s`` for s from 1e-300 to 1e300
    gives the fit of ``X`` (alpha > 0, so the scale matters).  Before, a
    spread below 2.2e-15 counted as a constant column (scale 1), and at
    s = 1e-150 the predictions came out near 1e134."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 4)) + 3.0
    y = X[:, 0] * X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=200)
    reference = LowDegreeRegressor(degree=2, alpha=1.0, standardize=True).fit(X, y)
    for s in (1e-300, 1e-170, 1e-150, 1e-20, 1e20, 1e200, 1e300):
        model = LowDegreeRegressor(degree=2, alpha=1.0, standardize=True).fit(X * s, y)
        np.testing.assert_allclose(model.scale_, X.std(axis=0) * s, rtol=1e-12)
        np.testing.assert_allclose(model.predict(X * s), reference.predict(X), rtol=0,
                                   atol=1e-9 * np.abs(y).max())
    # Constant columns (any magnitude) keep scale 1, as StandardScaler's.
    constant = np.c_[X, np.full(200, 0.1), np.full(200, 1e-200), np.zeros(200),
                     np.full(200, 1e200)]
    model = LowDegreeRegressor(degree=1, standardize=True).fit(constant, y)
    np.testing.assert_array_equal(model.scale_[4:], 1.0)


def test_fit_refuses_monomials_whose_squares_underflow():
    """Off the cube, a monomial whose every entry squares below the smallest
    normal float64 (X * 1e-100 at degree 2: entries near 1e-200) drops out
    of the Gram: every solver used to return the degree-1 fit (R^2 0.45
    instead of 0.99) and "cg" NaN coefficients.  fit says so instead;
    standardize=True, or a constant tiny column (a multiple of the constant
    monomial), is fine."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] * X[:, 1] + X[:, 2]
    for solver in ("exact", "cholesky", "cg", "sketch"):
        with pytest.raises(ValueError, match="degree-2 monomials.*underflow.*standardize=True"):
            LowDegreeRegressor(degree=2, solver=solver).fit(X * 1e-100, y)
    with pytest.raises(ValueError, match="degree-1 monomials"):
        LowDegreeRegressor(degree=1).fit(np.c_[X, 1e-200 * X[:, 0]], y)
    assert LowDegreeRegressor(degree=2, standardize=True).fit(X * 1e-100, y).score(
        X * 1e-100, y) == pytest.approx(1.0)
    assert LowDegreeRegressor(degree=2).fit(X * 1e-50, y).score(X * 1e-50, y) == pytest.approx(1.0)
    tiny_constant = np.c_[X, np.full(300, 1e-200)]
    assert LowDegreeRegressor(degree=2).fit(tiny_constant, y).score(tiny_constant, y) == \
        pytest.approx(1.0)


def test_degree_selection_budget_counts_only_the_degrees_it_can_fit():
    """Selection skips degrees with more parities than a training split has
    rows, so the memory budget is checked at the largest degree it can fit:
    n = 200, m = 500 under the default max_degree=4 was refused for degree
    4's 66 million parities (11 GiB), though no fit goes past degree 1."""
    rng = np.random.default_rng(10)
    X = rng.normal(size=(500, 200))
    y = X[:, 3] + 0.1 * rng.normal(size=500)
    for data in (X, np.sign(X)):
        model = LowDegreeRegressor(random_state=0).fit(data, y)
        assert model.degree_ <= 1
        assert np.isnan(model.cv_results_["mean_test_mse"][2:]).all()
    # The budget still binds at the degrees that are fitted.
    with pytest.raises(MemoryBudgetError, match="degree=1"):
        LowDegreeRegressor(max_bytes=1e5).fit(X, y)
    with pytest.raises(MemoryBudgetError, match="degree=4"):
        LowDegreeRegressor(degree=4).fit(X, y)


def test_fits_are_scale_equivariant_in_y_for_tiny_and_huge_targets():
    """Least squares (ridge too) is linear in y, so ``y * s`` must give ``s``
    times the fit.  CG's squared residual norms used to underflow for
    s = 1e-300 (coefficients off by 30-120%, silently) and overflow for
    s = 1e300 (NaN coefficients); the estimators now solve for y scaled by a
    power of two near max |y|."""
    rng = np.random.default_rng(11)
    real = rng.normal(size=(300, 4))
    y = real[:, 0] * real[:, 1] + real[:, 2]
    for X in (real, np.sign(real)):
        for solver in ("cg", "sketch", "cholesky"):
            reference = LowDegreeRegressor(degree=2, solver=solver, alpha=0.5).fit(X, y)
            for s in (1e-300, 1e300):
                model = LowDegreeRegressor(degree=2, solver=solver, alpha=0.5).fit(X, y * s)
                # Within CG's tolerance (y * s rounds differently from y).
                np.testing.assert_allclose(model.coef_ / s, reference.coef_, rtol=0,
                                           atol=1e-6 * np.abs(reference.coef_).max())
    # Degree selection reports its validation errors in the units of y.
    noisy = y + 0.1 * rng.normal(size=300)
    selected = LowDegreeRegressor(random_state=0).fit(real, noisy * 2.0**-500)
    unscaled = LowDegreeRegressor(random_state=0).fit(real, noisy)
    assert selected.degree_ == unscaled.degree_ == 2
    np.testing.assert_allclose(selected.cv_results_["mean_test_mse"] * 2.0**1000,
                               unscaled.cv_results_["mean_test_mse"], rtol=1e-9)


def test_classifier_budgets_its_one_vs_rest_targets_before_building_them():
    """An integer target given to the classifier (counts, ids: one class per
    few rows) makes an m x K block of +-1 targets: at m = 10^5 and K = 5 * 10^4
    40 GB, built before the fit's budget check (out of memory, not a
    MemoryBudgetError)."""
    import tracemalloc

    rng = np.random.default_rng(40)
    X, y = rng.normal(size=(2000, 3)), np.arange(2000) % 1000
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError, match=r"one-vs-rest targets of 1000 classes "
                                                    r"\(2000 x 1000\).*more than the 976.6 KiB"):
            LowDegreeClassifier(degree=1, max_bytes=1e6).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1e6  # refused before the 18 MB of targets
    model = LowDegreeClassifier(degree=1, max_bytes=1e10).fit(X, y)
    assert model.coef_.shape == (1000, 4)


@pytest.mark.parametrize("make_labels, shown", [
    (lambda pd: pd.Series(["a", "b", pd.NA, "a", "b", "a"], dtype="string"), "<NA>"),
    (lambda pd: pd.Series(["a", "b", None, "a", "b", "a"]), "nan"),
    (lambda pd: ["a", "b", None, "a", "b", "a"], "None"),
    (lambda pd: pd.Series(["a", "b", None, "a", "b", "a"], dtype="category"), "nan"),
    (lambda pd: pd.Series([1, 2, pd.NA, 1, 2, 1], dtype="Int64"), "nan"),
    (lambda pd: [1.0, 2.0, float("nan"), 1.0, 2.0, 1.0], "nan"),
    (lambda pd: np.array(["a", "b", np.nan, "a", "b", "a"], dtype=object), "nan"),
])
def test_classifier_refuses_missing_labels_naming_y_and_the_position(make_labels, shown):
    """A missing class label (None, NaN, pandas' NA) is a ValueError naming y,
    the first position and the fix; before, pandas' string dtype raised
    "boolean value of NA is ambiguous" and object labels "Input contains
    NaN", naming no argument."""
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": [1, -1, 1, -1, 1, -1], "b": [1, 1, -1, -1, 1, -1]})
    y = make_labels(pd)
    with pytest.raises(ValueError, match=r"^y has a missing label at position 2 "
                       + re.escape(f"({shown})") + "; drop those samples or fill in"):
        LowDegreeClassifier(degree=1).fit(X, y)
    # The same labels with the sample dropped fit.
    keep = np.arange(6) != 2
    labels = y[keep] if not isinstance(y, list) else np.asarray(y)[keep]
    model = LowDegreeClassifier(degree=1).fit(X[keep], labels)
    assert len(model.classes_) == 2


def test_regressor_refuses_missing_inputs_and_targets_of_frames():
    """pandas' NA in a nullable column of X or y is refused naming X or y
    (scikit-learn's check, whose message advises imputation)."""
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": [1, -1, 1, -1], "b": [1, 1, -1, -1]}, dtype="Int64")
    y = pd.Series([1.0, 2.0, 3.0, 4.0], dtype="Float64")
    X.iloc[1, 1] = pd.NA
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LowDegreeRegressor(degree=1).fit(X, y)
    y.iloc[3] = pd.NA
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LowDegreeRegressor(degree=1).fit(X.fillna(1), y)


@pytest.mark.parametrize("m, n, degree, K, domain, solver", [
    (5000, 20, 2, 100, "cube", "auto"),    # block CG, 100 columns
    (5000, 8, 3, 200, "cube", "auto"),
    (3000, 10, 2, 100, "real", "auto"),    # Cholesky: no c-wide products
    (3000, 10, 2, 100, "cube", "exact"),
    (6000, 12, 2, 60, "real", "sketch"),
    (3000, 10, None, 100, "real", "auto"),  # degree selection: validation predictions
    (2000, 10, 2, 2, "cube", "auto"),
])
def test_fit_memory_estimate_of_many_classes_bounds_the_peak_within_3x(
        monkeypatch, m, n, degree, K, domain, solver):
    """The budget a classifier's fit checks (the one-vs-rest targets plus
    estimate_bytes of the fit) is an upper bound of the peak NumPy memory of
    the fit, measured by tracemalloc, and within 3x of it (2.6x at most
    here; before, 4-54x: 260 MB budgeted for a 4.8 MB fit of 100 classes,
    which refused fits that fit easily).  BLAS's own work buffers are not
    traced; they are small at these sizes."""
    import tracemalloc

    import sparselearn.learners as learners
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(m, n)) if domain == "cube" else rng.normal(size=(m, n))
    y = rng.integers(0, K, size=m)
    checked = []
    original = learners.check_memory

    def spy(nbytes, what, max_bytes=None):
        checked.append(nbytes)
        return original(nbytes, what, max_bytes)

    monkeypatch.setattr(learners, "check_memory", spy)
    model = LowDegreeClassifier(degree=degree, max_degree=2, domain=domain, solver=solver,
                                n_jobs=2)
    # A first fit in the process also fills one-time caches (about 0.2 MB,
    # not the fit's); the fit measured is the second.
    clone(model).fit(X[:200], y[:200] % 2)
    checked.clear()
    tracemalloc.start()
    try:
        model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(model.classes_) == K
    budget = sum(checked)
    assert peak <= budget <= 3 * peak, (peak, checked)


def test_dask_predict_of_no_rows_is_the_in_memory_error():
    """predict of an empty dask array was a lazy (0,) array, in memory a
    ValueError: now the same ValueError, raised before any task."""
    da = pytest.importorskip("dask.array")
    _, Xf, y = _dask_problem()
    model = LowDegreeClassifier(degree=2).fit(Xf, np.sign(y + 0.5))
    message = "Found array with 0 sample"
    with pytest.raises(ValueError, match=message):
        model.predict(np.empty((0, 10)))
    with pytest.raises(ValueError, match=message):
        model.predict(da.from_array(np.empty((0, 10)), chunks=(5, 10)))
    with pytest.raises(ValueError, match=message):
        LowDegreeRegressor(degree=2).fit(Xf, y).predict(da.zeros((0, 10), chunks=(5, 10)))


@pytest.mark.parametrize("dtype", [np.uint8, bool])
def test_dask_fit_of_unsigned_or_bool_x_says_why_and_how(dtype):
    """uint8 or bool X cannot hold -1: in memory it is real data
    (domain='auto'), a dask fit takes cube points only, so it is refused,
    saying how to make cube points of 0/1 data or to fit in memory."""
    da = pytest.importorskip("dask.array")
    _, Xf, y = _dask_problem()
    X = (Xf < 0).astype(dtype)
    assert LowDegreeRegressor(degree=2).fit(X, y).domain_ == "real"
    with pytest.raises(TypeError, match=r"cannot hold -1: a dask fit takes cube points only; "
                                        r"for 0/1 data pass 1 - 2 \* X.astype\('int8'\)"):
        LowDegreeRegressor(degree=2).fit(da.from_array(X, chunks=(700, 10)), y)
