"""Tests for sparselearn.erm: sparse kernels against their NumPy twins, the
gradient against finite differences, projection, repair and certification,
reproducibility, learning a sparse target, scikit-learn conventions and
argument validation."""
import json
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data
from strategies import dyadic

from sparselearn import MemoryBudgetError, SparseReLUNetwork
from sparselearn._kernels import _network, _sparse_backprop
from sparselearn._reference import sparse_backprop as reference
from sparselearn.erm import SparseReLUClassifier, SparseReLURegressor, _repair
from sparselearn.targets import bump_network

finite = st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=64)


def _supports(G, b, k):
    """Run count_positive + ranked_supports as the trainer does."""
    m = G.shape[0]
    counts = np.empty(m, dtype=np.int64)
    _network.count_positive(G, b, counts)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    values = np.empty(indptr[-1])
    n_kept = np.empty(m, dtype=np.int64)
    _sparse_backprop.ranked_supports(G, b, k, indptr, indices, values, n_kept)
    return indptr, indices, values, n_kept


@st.composite
def batches(draw, elements=finite):
    """(X, G, b, u, r, k): a minibatch with G = X @ W.T for a random W."""
    m = draw(st.integers(0, 12))
    n = draw(st.integers(1, 6))
    s = draw(st.integers(1, 10))
    X = draw(arrays(np.float64, (m, n), elements=elements, fill=st.nothing()))
    weights = draw(arrays(np.float64, (s, n), elements=elements, fill=st.nothing()))
    b = draw(arrays(np.float64, (s,), elements=elements, fill=st.nothing()))
    u = draw(arrays(np.float64, (s,), elements=elements, fill=st.nothing()))
    r = draw(arrays(np.float64, (m,), elements=elements, fill=st.nothing()))
    k = draw(st.integers(1, s))
    return X, np.ascontiguousarray(X @ weights.T), b, u, r, k


# ------------------------------------------------------------ kernel twins
@given(batches(elements=dyadic))
def test_ranked_supports_equal_twin_with_exact_ties(batch):
    # Dyadic entries: every pre-activation is exact and ties really occur,
    # so the tie rule (lower unit index first) is tested, not just sampled.
    _, G, b, _, _, k = batch
    indptr, indices, values, n_kept = _supports(G, b, k)
    ref_indptr, ref_indices, ref_values, ref_kept = reference.ranked_supports(G, b, k)
    np.testing.assert_array_equal(indptr, ref_indptr)
    np.testing.assert_array_equal(n_kept, ref_kept)
    for i in range(G.shape[0]):
        start, kept_stop, stop = indptr[i], indptr[i] + n_kept[i], indptr[i + 1]
        # Kept entries in order; excess entries in unspecified order.
        np.testing.assert_array_equal(indices[start:kept_stop], ref_indices[start:kept_stop])
        np.testing.assert_array_equal(values[start:kept_stop], ref_values[start:kept_stop])
        order = np.argsort(indices[kept_stop:stop])
        np.testing.assert_array_equal(indices[kept_stop:stop][order], ref_indices[kept_stop:stop])
        np.testing.assert_array_equal(values[kept_stop:stop][order], ref_values[kept_stop:stop])


@given(batches(), st.booleans(), st.floats(0, 2))
def test_capped_output_and_backward_equal_twins(batch, cap, penalty):
    X, G, b, u, r, k = batch
    m, s = G.shape
    indptr, indices, values, n_kept = _supports(G, b, k)
    out, excess = np.empty(m), np.empty(m)
    _sparse_backprop.capped_output(indptr, indices, values, n_kept, u, cap, out, excess)
    ref_out, ref_excess = reference.capped_output(G, b, u, k, cap)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(excess, ref_excess, rtol=1e-12, atol=1e-10)

    grad_w, grad_b, grad_u = np.empty((s, X.shape[1])), np.empty(s), np.empty(s)
    _sparse_backprop.sparse_backward(X, r, u, indptr, indices, values, n_kept, cap, penalty,
                                     grad_w, grad_b, grad_u)
    ref_w, ref_b, ref_u = reference.sparse_backward(X, G, b, u, r, k, cap, penalty)
    np.testing.assert_allclose(grad_w, ref_w, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(grad_b, ref_b, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(grad_u, ref_u, rtol=1e-10, atol=1e-9)


@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=finite, fill=st.nothing()),
       st.data(), st.sampled_from([-1.0, 0.0, 0.3, 2.0]))
def test_adam_step_equals_twin_and_projects(P, data, radius):
    grad = data.draw(arrays(np.float64, P.shape, elements=finite, fill=st.nothing()))
    m1 = data.draw(arrays(np.float64, P.shape, elements=finite, fill=st.nothing()))
    m2 = data.draw(arrays(np.float64, P.shape, elements=st.floats(0, 4), fill=st.nothing()))
    ref_P, ref_m1, ref_m2 = reference.adam_step(P, grad, m1, m2, 0.1, 0.9, 0.999, 1e-8, radius)
    P, m1, m2 = P.copy(), m1.copy(), m2.copy()
    _sparse_backprop.adam_step(P, grad, m1, m2, 0.1, 0.9, 0.999, 1e-8, radius)
    np.testing.assert_allclose(P, ref_P, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m1, ref_m1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m2, ref_m2, rtol=1e-12, atol=1e-12)
    if radius >= 0:
        # Inside the ball as NumPy computes norms, despite rounding.
        assert np.all(np.linalg.norm(P, axis=1) <= radius)


@given(batches(elements=dyadic))
def test_fused_supports_equal_twin_and_the_two_scans(batch):
    # Dyadic entries: exact pre-activations and real ties.  The one-scan
    # kernel must give the count-then-rank kernels' arrays entry for entry
    # (the trainer's iterates depend on the order), and the twin's kept set.
    _, G, b, _, _, k = batch
    m, s = G.shape
    indptr, indices, values, n_kept = _supports(G, b, k)
    f_indptr = np.full(m + 1, -1, dtype=np.int64)
    f_indices, f_values = np.empty(m * s, dtype=np.int64), np.empty(m * s)
    f_kept = np.empty(m, dtype=np.int64)
    _sparse_backprop.fused_supports(G, b, k, f_indptr, f_indices, f_values, f_kept)
    np.testing.assert_array_equal(f_indptr, indptr)
    np.testing.assert_array_equal(f_kept, n_kept)
    np.testing.assert_array_equal(f_indices[:indptr[-1]], indices)
    np.testing.assert_array_equal(f_values[:indptr[-1]], values)
    ref_indptr, ref_indices, _, ref_kept = reference.fused_supports(G, b, k)
    np.testing.assert_array_equal(f_indptr, ref_indptr)
    for i in range(m):
        kept_stop = indptr[i] + n_kept[i]
        np.testing.assert_array_equal(f_indices[indptr[i]:kept_stop],
                                      ref_indices[indptr[i]:kept_stop])


@given(batches(), st.booleans(), st.sampled_from([0.0, 0.5]))
def test_backward_touched_equals_the_dense_rows_and_twin(batch, cap, penalty):
    X, G, b, u, r, k = batch
    m, s = G.shape
    indptr, indices, values, n_kept = _supports(G, b, k)
    dense = np.empty((s, X.shape[1])), np.empty(s), np.empty(s)
    _sparse_backprop.sparse_backward(X, r, u, indptr, indices, values, n_kept, cap, penalty,
                                     *dense)
    touched = np.empty(s, dtype=np.int64)
    rows = np.full((s, X.shape[1]), np.nan), np.full(s, np.nan), np.full(s, np.nan)
    nt = _sparse_backprop.sparse_backward_touched(X, r, u, indptr, indices, values, n_kept,
                                                  cap, penalty, touched, *rows)
    ref_touched, ref_w, ref_b, ref_u = reference.sparse_backward_touched(X, G, b, u, r, k,
                                                                         cap, penalty)
    np.testing.assert_array_equal(touched[:nt], ref_touched)
    for full, compact, ref in zip(dense, rows, (ref_w, ref_b, ref_u)):
        # Bit for bit the dense kernel's rows (same sums in the same order),
        # and zero on the untouched units.
        np.testing.assert_array_equal(compact[:nt], full[ref_touched])
        assert not np.any(np.delete(full, ref_touched, axis=0))
        np.testing.assert_allclose(compact[:nt], ref, rtol=1e-10, atol=1e-9)


@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=finite,
              fill=st.nothing()), st.data(), st.sampled_from([-1.0, 0.3, 2.0]))
def test_lazy_adam_step_equals_twin_and_leaves_other_rows(P, data, radius):
    rows = np.asarray(sorted(data.draw(st.sets(st.integers(0, P.shape[0] - 1)))),
                      dtype=np.int64)
    shape = (rows.shape[0], P.shape[1])
    grad = data.draw(arrays(np.float64, shape, elements=finite, fill=st.nothing()))
    m1 = data.draw(arrays(np.float64, P.shape, elements=finite, fill=st.nothing()))
    m2 = data.draw(arrays(np.float64, P.shape, elements=st.floats(0, 4), fill=st.nothing()))
    ref = reference.lazy_adam_step(P, grad, m1, m2, rows, 0.1, 0.9, 0.999, 1e-8, radius)
    new = P.copy(), m1.copy(), m2.copy()
    # Padding past the listed rows must be ignored.
    listed = np.concatenate([rows, np.zeros(2, dtype=np.int64)])
    _sparse_backprop.lazy_adam_step(*new[:1], grad, *new[1:], listed, rows.shape[0], 0.1, 0.9,
                                    0.999, 1e-8, radius)
    untouched = np.setdiff1d(np.arange(P.shape[0]), rows)
    for after, before, expected in zip(new, (P, m1, m2), ref):
        np.testing.assert_allclose(after, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(after[untouched], before[untouched])


# --------------------------------------------------- gradient, independently
def _objective(X, y, w, b, u, c, k, cap, penalty):
    """Squared loss of the top-k network plus the excess penalty, written out."""
    Z = X @ w.T - b
    order = np.argsort(-Z, axis=1, kind="stable")
    total = 0.0
    for i in range(X.shape[0]):
        active = [j for j in order[i] if Z[i, j] > 0]
        kept, excess = active[:k], active[k:]
        contributing = kept if cap else active
        h = sum(u[j] * Z[i, j] for j in contributing) + c
        total += 0.5 * (h - y[i]) ** 2 + penalty * sum(Z[i, j] for j in excess)
    return total / X.shape[0]


@pytest.mark.parametrize("cap", [True, False])
def test_backward_matches_finite_differences(cap):
    rng = np.random.default_rng(3)
    m, n, s, k, penalty = 7, 3, 6, 2, 0.7
    X = rng.normal(size=(m, n))
    y = rng.normal(size=m)
    w, b, u, c = rng.normal(size=(s, n)), rng.normal(size=s) - 0.5, rng.normal(size=s), 0.2
    Z = X @ w.T - b
    # The objective is piecewise smooth; the check is valid when no
    # pre-activation and no gap between two of them is within the step.
    gaps = np.abs(Z[:, :, None] - Z[:, None, :])[:, ~np.eye(s, dtype=bool)]
    assert np.abs(Z).min() > 1e-3 and gaps.min() > 1e-3
    assert (Z > 0).sum(axis=1).max() > k  # the cap and the penalty are exercised

    G = np.ascontiguousarray(X @ w.T)
    indptr, indices, values, n_kept = _supports(G, b, k)
    out, excess = np.empty(m), np.empty(m)
    _sparse_backprop.capped_output(indptr, indices, values, n_kept, u, cap, out, excess)
    r = (out + c - y) / m
    grad_w, grad_b, grad_u = np.empty((s, n)), np.empty(s), np.empty(s)
    _sparse_backprop.sparse_backward(X, r, u, indptr, indices, values, n_kept, cap,
                                     penalty / m, grad_w, grad_b, grad_u)

    step = 1e-6
    for name, param, grad in (("w", w, grad_w), ("b", b, grad_b), ("u", u, grad_u)):
        numeric = np.empty_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + step
            plus = _objective(X, y, w, b, u, c, k, cap, penalty)
            param[index] = saved - step
            minus = _objective(X, y, w, b, u, c, k, cap, penalty)
            param[index] = saved
            numeric[index] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


# ------------------------------------------------- projection, certification
def _independent_certificate(est, X, k, W, B):
    """in_class_ recomputed from the raw arrays, not through the library."""
    net = est.network_
    counts = ((X @ net.weights.T - net.biases) > 0).sum(axis=1)
    u_max = np.abs(net.output_weights).max()
    w_hat = u_max * np.sqrt((net.weights ** 2).sum(axis=1)).max()
    b_hat = u_max * np.abs(net.biases).max()
    return bool(counts.max() <= k and w_hat <= W and b_hat <= B), int(counts.max())


@pytest.mark.parametrize("W, B", [(0.05, 0.02), (1.0, 0.0), (3.0, 5.0)])
def test_fitted_network_is_certified_in_class(W, B):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4)) * 2.0
    y = np.sin(X[:, 0]) + X[:, 1]
    k = 2
    est = SparseReLURegressor(width=12, sparsity=k, W=W, B=B, max_epochs=15, tol=0.0,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    in_class, sparsity = _independent_certificate(est, X, k, W, B)
    assert est.in_class_ is True and in_class
    assert est.max_active_ == sparsity <= k
    assert est.norm_bounds_[0] <= W and est.norm_bounds_[1] <= B
    assert est.mean_active_ == pytest.approx(
        ((X @ est.network_.weights.T - est.network_.biases) > 0).sum(axis=1).mean())


def test_fit_validates_X_once_and_sparsity_is_deprecated(monkeypatch):
    # X is checked once, at fit's boundary (scikit-learn's validate_data);
    # the network's own checks of X are not repeated below it.
    from sparselearn import _validation, erm
    checked = []
    original = _validation._as_float_array
    monkeypatch.setattr(_validation, "_as_float_array",
                        lambda value, name, *rest: checked.append(name)
                        or original(value, name, *rest))
    calls = []
    monkeypatch.setattr(erm, "validate_data",
                        lambda *a, **kw: calls.append(1) or validate_data(*a, **kw))
    X = np.random.default_rng(0).normal(size=(60, 3))
    est = SparseReLURegressor(width=6, sparsity=2, W=4.0, B=4.0, max_epochs=2,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])
    assert calls == [1] and "X" not in checked
    assert est.in_class_ == est.network_.in_class(X, 2, 4.0, 4.0)
    with pytest.warns(FutureWarning, match="max_active_"):
        assert est.sparsity_ == est.max_active_
    # Unfitted: scikit-learn's NotFittedError, not an AttributeError on max_active_.
    from sklearn.exceptions import NotFittedError
    with pytest.warns(FutureWarning), pytest.raises(NotFittedError):
        SparseReLURegressor().sparsity_


def test_in_class_is_truthful_without_repair():
    # No penalty, no repair, a start with about half the units active: the
    # top-k training leaves excess units on, and in_class_ must say so.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    y = X[:, 0]
    est = SparseReLURegressor(width=30, sparsity=1, W=5.0, B=5.0, sparsity_penalty=0.0,
                              repair=False, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    in_class, sparsity = _independent_certificate(est, X, 1, 5.0, 5.0)
    assert est.in_class_ == in_class
    assert est.max_active_ == sparsity
    assert not est.in_class_  # the case is constructed so the budget is violated


@pytest.mark.parametrize("B", [None, 10.0, 0.3, 0.0])
def test_repair_only_deactivates_and_meets_the_budget(B):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    w = rng.normal(size=(20, 4))
    b = rng.uniform(-0.3, 0.3, size=20) if B is None or B > 0 else np.zeros(20)
    if B is not None:
        b = np.clip(b, -B, B)
    k = 3
    before = X @ w.T - b > 0
    assert before.sum(axis=1).max() > k
    w2, b2 = w.copy(), b.copy()
    changed = _repair(X, w2, b2, k, B, None)
    after = X @ w2.T - b2 > 0
    assert after.sum(axis=1).max() <= k
    assert not np.any(after & ~before)  # no unit switched on anywhere
    assert changed == int(np.sum(np.any(w2 != w, axis=1) | (b2 != b)))
    if B is not None:
        assert np.abs(b2).max() <= B


def test_repair_certifies_near_ties_exactly():
    # At x = (1, 1, 1, 1) the exact value of each unit's stored decimals is
    # > 0 (all three units are active) while float sums of them round to
    # <= 0 in some summation orders: a repair that trusts the float count
    # can leave all three on.
    w = np.array([[0.1, 0.3, 0.3, -0.7], [0.2, 0.2, 0.3, -0.7], [0.3, 0.1, 0.3, -0.7]])
    b = np.zeros(3)
    X = np.ones((1, 4))
    assert SparseReLUNetwork(w, b, np.ones(3)).activation_counts(X)[0] == 3
    _repair(X, w, b, 1, None, None)
    assert SparseReLUNetwork(w, b, np.ones(3)).activation_counts(X)[0] <= 1


def test_same_seed_same_fit_and_seeds_matter():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3))
    y = np.abs(X[:, 0])
    params = dict(width=10, sparsity=2, W=3.0, B=3.0, max_epochs=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = SparseReLURegressor(random_state=5, **params).fit(X, y)
        b = SparseReLURegressor(random_state=5, **params).fit(X, y)
        c = SparseReLURegressor(random_state=6, **params).fit(X, y)
    assert a.network_ == b.network_ and a.loss_curve_ == b.loss_curve_
    assert a.network_ != c.network_


# ---------------------------------------------------------------- learning
def test_learns_a_sparse_bump_target_on_the_cube():
    # 2-sparse target of width 8 on {-1,1}^10 (bumps of Hamming radius 2),
    # noiseless.  Seeds are fixed, so the outcome is deterministic; the
    # threshold (10% of the target variance) leaves room over the observed
    # ~2% for harmless numerical changes.
    target = bump_network(10, 8, 2, radius=2, random_state=0)
    rng = np.random.default_rng(1)
    X = rng.choice([-1.0, 1.0], size=(1000, 10))
    X_test = rng.choice([-1.0, 1.0], size=(2000, 10))
    est = SparseReLURegressor(width=32, sparsity=2, W=10.0, B=20.0, random_state=0)
    est.fit(X, target(X))
    y_test = target(X_test)
    assert np.mean((est.predict(X_test) - y_test) ** 2) < 0.1 * y_test.var()
    assert est.in_class_ and est.max_active_ <= 2
    assert len(est.loss_curve_) == est.n_iter_ <= 200
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_correlation_loss_finds_positive_correlation_within_the_envelope():
    # With y = Rademacher signs, a certified network's correlation is at most
    # the envelope k (W R + B) of docs/theory.rst, section 4 (|h(x)| <= k (W R + B)
    # for a k-sparse network) and, with s >= m units available, far above 0.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(16, 6))
    zeta = rng.choice([-1.0, 1.0], size=16)
    W, B, k = 1.0, 0.5, 3
    est = SparseReLURegressor(width=32, sparsity=k, W=W, B=B, loss="correlation",
                              learning_rate=0.05, random_state=0).fit(X, zeta)
    value = float(np.mean(zeta * est.predict(X)))
    R = np.linalg.norm(X, axis=1).max()
    assert est.in_class_ and est.network_.output_bias == 0.0
    assert est.train_objective_ == pytest.approx(-value)
    # The zero network scores 0 and the best constant network k B |mean zeta|.
    assert max(0.0, k * B * abs(zeta.mean())) < value <= k * (W * R + B)


def test_convergence_warning_when_epochs_run_out():
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.warns(ConvergenceWarning, match="max_epochs=1"):
        SparseReLURegressor(width=4, sparsity=2, max_epochs=1, random_state=0).fit(X, X[:, 0])


# --------------------------------------------------- scikit-learn conventions
@parametrize_with_checks([SparseReLURegressor(width=16, sparsity=4, max_epochs=50,
                                              random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    # Every check runs and none is an expected failure (53 here, 55 for the
    # classifier below).  scikit-learn itself skips check_array_api_input
    # unless SCIPY_ARRAY_API=1 is set; with it, that check passes too.  The
    # ovr, lazy_adam, unrepaired and default-size configurations pass them
    # all as well (checked by hand; not repeated here, to keep the suite short).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ------------------------------------------------------------- bad inputs
X_OK = np.random.default_rng(0).normal(size=(10, 3))
Y_OK = X_OK[:, 0]


@pytest.mark.parametrize("params, error, match", [
    (dict(width=4, sparsity=5), ValueError,
     "sparsity=5 exceeds width=4: a network of width 4 has at most 4 active units, so "
     "the budget sparsity must satisfy sparsity <= width"),
    (dict(width=0), ValueError, "width must be >= 1"),
    (dict(sparsity=2.5), TypeError, "sparsity must be an integer"),
    (dict(W=-1.0), ValueError, "W must be >= 0"),
    (dict(B=-0.5), ValueError, "B must be >= 0"),
    (dict(W=np.inf), ValueError, "W must be finite"),
    (dict(loss="hinge"), ValueError, "loss must be one of"),
    (dict(loss="correlation", W=1.0), ValueError, "needs finite norm bounds W and B"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be > 0"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(max_epochs=0), ValueError, "max_epochs must be >= 1"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(sparsity_penalty=-0.1), ValueError, "sparsity_penalty must be >= 0"),
    (dict(cap_activations="yes"), TypeError, "cap_activations must be True or False"),
    (dict(repair=1), TypeError, "repair must be True or False"),
])
def test_bad_parameters_raise_naming_the_argument(params, error, match):
    params = {"width": 4, "sparsity": 2, **params}
    with pytest.raises(error, match=match):
        SparseReLURegressor(**params).fit(X_OK, Y_OK)


@pytest.mark.parametrize("X, y, match", [
    (X_OK[:, 0], Y_OK, "Expected 2D array"),
    (X_OK.reshape(10, 3, 1), Y_OK, "Found array with dim 3"),
    (np.where(np.eye(10, 3) > 0, np.nan, X_OK), Y_OK, "Input X contains NaN"),
    (np.where(np.eye(10, 3) > 0, np.inf, X_OK), Y_OK, "Input X contains infinity"),
    (X_OK, Y_OK[:-1], "y must hold one target per row of X: got 9 targets for 10 rows"),
    (X_OK, np.full(10, np.nan), "Input y contains NaN"),
    (X_OK, None, "requires y to be passed"),
])
def test_bad_data_raise_naming_the_argument(X, y, match):
    with pytest.raises(ValueError, match=match):
        SparseReLURegressor(width=4, sparsity=2).fit(X, y)


@pytest.mark.parametrize("loss", ["squared", "correlation"])
def test_targets_whose_squares_overflow_are_refused_naming_y(loss):
    """y of order 1e200 ended in "weights contains NaN or infinite values", raised by
    the network built after training, which named neither y nor a fix."""
    params = dict(width=4, sparsity=2, W=1.0, B=1.0, loss=loss, tol=1e300,
                  n_iter_no_change=1, random_state=0)
    with pytest.raises(ValueError, match=r"^y is too large for float64 training.*rescale y"):
        SparseReLURegressor(**params).fit(X_OK, Y_OK * 1e200 + 1e200)
    # Large targets whose squares still sum to a finite number train as before.
    est = SparseReLURegressor(**params).fit(X_OK, Y_OK * 1e150 + 1e150)
    assert math.isfinite(est.train_objective_) and est.in_class_


def test_random_state_accepts_a_legacy_random_state():
    """scikit-learn's convention (int, RandomState or None) was refused with a
    TypeError: random_state=np.random.RandomState(0) failed in fit."""
    params = dict(width=4, sparsity=2, tol=1.0, n_iter_no_change=1)
    fit = SparseReLURegressor(**params, random_state=np.random.RandomState(0)).fit(X_OK, Y_OK)
    again = SparseReLURegressor(**params, random_state=np.random.RandomState(0)).fit(X_OK, Y_OK)
    assert fit.network_ == again.network_   # the same seed behind it: the same fit
    shared = np.random.RandomState(0)
    first = SparseReLURegressor(**params, random_state=shared).fit(X_OK, Y_OK)
    second = SparseReLURegressor(**params, random_state=shared).fit(X_OK, Y_OK)
    assert first.network_ == fit.network_ and second.network_ != first.network_  # it advances


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e160, 1e200])
def test_repair_certifies_inputs_of_extreme_scale(scale):
    """Squares of entries beyond ~1e154 overflow: with inputs of scale 1e-160 the
    initial weights (~1e160) had infinite np.linalg.norm, the repair's margin was
    infinite and the repaired network kept up to 6 > k = 2 active units
    (in_class_ False with repair=True); inputs of scale 1e200 had an infinite RMS
    norm, so every initial weight was 0 and the fit had no active unit at all."""
    X = np.random.default_rng(0).normal(size=(200, 4))
    est = SparseReLURegressor(width=8, sparsity=2, tol=1e300, n_iter_no_change=1,
                              random_state=0).fit(X * scale, np.maximum(X[:, 0], 0.0))
    assert est.in_class_ and 1 <= est.max_active_ <= 2
    assert est.network_.max_active(X * scale) == est.max_active_


def test_standardised_targets_make_the_fit_independent_of_their_scale():
    """docs/erm.rst: TransformedTargetRegressor with StandardScaler fits targets of
    any scale alike (raw targets far from unit scale train poorly)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.maximum(X[:, 0], 0.0) - 0.5 * np.maximum(X[:, 1] - 0.5, 0.0)
    fits = {}
    for scale in (1e-3, 1.0, 1e3):
        model = TransformedTargetRegressor(
            regressor=SparseReLURegressor(width=8, sparsity=2, tol=1e300, n_iter_no_change=1,
                                          random_state=0),
            transformer=StandardScaler()).fit(X, scale * y)
        assert model.regressor_.in_class_
        fits[scale] = model.predict(X) / scale
    np.testing.assert_allclose(fits[1e-3], fits[1.0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fits[1e3], fits[1.0], rtol=1e-6, atol=1e-9)


def test_predict_checks_the_number_of_features():
    est = SparseReLURegressor(width=4, sparsity=2, tol=1.0, n_iter_no_change=1).fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="X has 2 features"):
        est.predict(X_OK[:, :2])


def test_memory_budget_refused_before_allocating():
    with pytest.raises(MemoryBudgetError, match="a fit of width 4096"):
        SparseReLURegressor(width=4096, sparsity=2, max_bytes=2**20).fit(X_OK, Y_OK)


def test_network_is_a_sparse_relu_network_on_any_real_inputs():
    # Inputs far from the cube, with large scale: the trainer uses them as given.
    rng = np.random.default_rng(9)
    X = rng.standard_t(3, size=(80, 4)) * 50.0
    est = SparseReLURegressor(width=8, sparsity=3, W=0.1, B=5.0, tol=1.0, n_iter_no_change=1,
                              random_state=0).fit(X, np.tanh(X[:, 0] / 50.0))
    assert isinstance(est.network_, SparseReLUNetwork)
    assert est.n_features_in_ == 4 and est.in_class_
    np.testing.assert_allclose(est.predict(X), est.network_(X))


@pytest.mark.parametrize("kind", ["str", "datetime64", "timedelta64"])
def test_estimator_refuses_strings_dates_and_durations(kind):
    """validate_data(dtype=float64) parsed "1" and cast dates and durations
    to numbers, so all three were silently trained on."""
    rng = np.random.default_rng(0)
    X = rng.integers(-3, 4, size=(20, 3)).astype(float)
    y = X[:, 0].copy()
    bad = {"str": X.astype(int).astype(str), "datetime64": X.astype(int).astype("M8[s]"),
           "timedelta64": X.astype(int).astype("m8[s]")}[kind]
    estimator = SparseReLURegressor(width=4, sparsity=2, max_epochs=2, random_state=0)
    with pytest.raises(TypeError, match="^X must"):
        estimator.fit(bad, y)
    with pytest.raises(TypeError, match="^y must"):
        estimator.fit(X, bad[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    with pytest.raises(TypeError, match="^X must"):
        estimator.predict(bad)


def test_fitted_estimator_holds_no_caller_array():
    """The fitted network owns its arrays: editing the caller's X and y (even
    after flipping writeable back) changes no prediction."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.maximum(X[:, 0], 0.0)
    X_test = rng.normal(size=(10, 3))
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = SparseReLURegressor(width=4, sparsity=2, max_epochs=3,
                                        random_state=0).fit(X, y)
    expected = estimator.predict(X_test)
    X.flags.writeable = True
    X[:] = np.nan
    y[:] = np.nan
    np.testing.assert_array_equal(estimator.predict(X_test), expected)
    for name in ("weights", "biases", "output_weights"):
        assert not np.shares_memory(getattr(estimator.network_, name), X)


# ------------------------------------------------- multi-output and classifier
def test_shifting_the_targets_shifts_the_fit():
    """The output bias starts at the mean of y, so the fit is equivariant under
    y -> y + t (the same training on y minus its mean): from a zero start Adam
    moved the bias about learning_rate a step, and on targets far from 0
    (load_diabetes: mean 152) the fit scored below the constant predictor."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 4))
    y = np.maximum(X[:, 0] - 0.3, 0.0) - 0.5 * np.maximum(X[:, 1], 0.0)
    params = dict(width=12, sparsity=3, max_epochs=20, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = SparseReLURegressor(**params).fit(X, y)
        shifted = SparseReLURegressor(**params).fit(X, y + 150.0)
    np.testing.assert_allclose(shifted.predict(X) - 150.0, base.predict(X), rtol=0,
                               atol=1e-9)
    assert shifted.score(X, y + 150.0) == pytest.approx(base.score(X, y), abs=1e-9)
    assert base.score(X, y) > 0.5


def test_two_d_y_with_one_column_fits_as_the_one_d_target():
    # The multi-output trainer (one backward call per output, summed) on a
    # single column must follow the single-output trainer step for step.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.maximum(X[:, 0] - 0.5, 0.0) + 0.3 * X[:, 1]
    for cap in (True, False):
        params = dict(width=12, sparsity=3, W=4.0, B=4.0, random_state=1, max_epochs=30,
                      cap_activations=cap)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            one = SparseReLURegressor(**params).fit(X, y)
            two = SparseReLURegressor(**params).fit(X, y[:, None])
        assert two.predict(X).shape == (300, 1)
        np.testing.assert_array_equal(two.network_.weights, one.network_.weights)
        np.testing.assert_allclose(two.predict(X)[:, 0], one.predict(X), rtol=1e-12,
                                   atol=1e-12)


def test_multi_output_regressor_fits_a_shared_sparse_layer():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    Y = np.stack([np.maximum(X[:, 0] - 0.5, 0.0), np.maximum(-X[:, 1], 0.0), 0 * X[:, 2]], 1)
    est = SparseReLURegressor(width=16, sparsity=3, W=4.0, B=4.0, random_state=0,
                              max_epochs=100).fit(X, Y)
    assert est.predict(X).shape == (400, 3) and est.network_.n_outputs == 3
    assert est.in_class_ and est.max_active_ <= 3
    assert np.abs(est.network_.output_weights).max() <= 1.0
    # Deterministic (fixed seed); the baseline is predicting the column means.
    baseline = 0.5 * np.sum(Y.var(axis=0))
    assert est.train_objective_ < 0.2 * baseline
    residual = est.predict(X) - Y
    assert est.train_objective_ == pytest.approx(0.5 * np.mean(np.sum(residual**2, axis=1)))


def test_classifier_learns_certified_and_probabilities():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = np.array(["left", "mid", "right"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    clf = SparseReLUClassifier(width=16, sparsity=3, W=8.0, B=8.0, random_state=0,
                               max_epochs=300, tol=1e-3).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["left", "mid", "right"])
    assert clf.in_class_ and clf.max_active_ <= 3
    assert clf.network_.activation_counts(X).max() <= 3
    proba = clf.predict_proba(X)
    assert proba.shape == (400, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    # Deterministic (fixed seed): a 1-D threshold problem is easy.
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="at least two classes"):
        SparseReLUClassifier(width=4, sparsity=2).fit(X, np.zeros(400))


@parametrize_with_checks([SparseReLUClassifier(width=16, sparsity=4, max_epochs=50,
                                               random_state=0)])
def test_sklearn_classifier_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ----------------------------------------------------------- one-vs-rest
def test_ovr_loss_gradient_matches_finite_differences():
    from sparselearn.erm import _ovr_loss
    rng = np.random.default_rng(4)
    h = rng.normal(scale=3.0, size=(5, 3))
    target = np.eye(3)[rng.integers(0, 3, size=5)]
    loss, grad = _ovr_loss(h, target)
    # The definition, written out: mean over rows of the summed binary
    # cross-entropies -[y log p + (1 - y) log(1 - p)], p = 1 / (1 + e^-h).
    p = 1.0 / (1.0 + np.exp(-h))
    assert loss == pytest.approx(-np.sum(target * np.log(p) + (1 - target) * np.log(1 - p)) / 5)
    step = 1e-6
    for i, t in [(0, 0), (2, 1), (4, 2)]:
        bumped = h.copy()
        bumped[i, t] += step
        assert grad[i, t] == pytest.approx((_ovr_loss(bumped, target)[0] - loss) / step,
                                           rel=1e-4, abs=1e-8)


def test_ovr_classifier_learns_on_a_shared_certified_layer():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = np.array(["left", "mid", "right"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    params = dict(width=16, sparsity=3, W=8.0, B=8.0, random_state=0, max_epochs=300,
                  tol=1e-3)  # both stop by tol (136 and 198 epochs): no ConvergenceWarning
    ovr = SparseReLUClassifier(multi_class="ovr", **params).fit(X, y)
    softmax = SparseReLUClassifier(**params).fit(X, y)
    assert ovr.network_.n_outputs == 3 and ovr.network_.width == 16
    assert ovr.in_class_ and ovr.network_.activation_counts(X).max() <= 3
    # Probabilities: sigmoids of the logits (NumPy, from the network's
    # arrays), normalised over the classes.
    net = ovr.network_
    logits = np.maximum(X @ net.weights.T - net.biases, 0.0) @ net.output_weights \
        + net.output_bias
    sig = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(ovr.predict_proba(X), sig / sig.sum(axis=1, keepdims=True),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ovr.predict(X), ovr.classes_[logits.argmax(axis=1)])
    # Deterministic (fixed seed): a 1-D threshold problem is easy for both
    # losses, and they are different objectives (different fits).
    assert ovr.score(X, y) > 0.9
    assert not np.array_equal(ovr.network_.output_weights, softmax.network_.output_weights)
    with pytest.raises(ValueError, match="multi_class"):
        SparseReLUClassifier(width=4, sparsity=2, multi_class="ovo").fit(X, y)


def test_ovr_probabilities_stay_finite_when_every_sigmoid_underflows():
    # Logits -60, -50, -70 on every row (zero output weights): each sigmoid
    # is e^h to rounding, so the normalised ones are the softmax of the
    # logits, 1 / (1 + e^-10 + e^-20) for the middle class, etc.  The
    # tanh form of the sigmoid is exactly 0 below h = -38 and gave NaN.
    from sparselearn.network import SparseReLUNetwork
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SparseReLUClassifier(width=4, sparsity=2, max_epochs=2, multi_class="ovr",
                                   random_state=0).fit(X, y)
    net = est.network_
    est.network_ = SparseReLUNetwork(net.weights, net.biases, np.zeros((4, 3)),
                                     np.array([-60.0, -50.0, -70.0]))
    z = 1.0 + math.exp(-10.0) + math.exp(-20.0)
    expected = [math.exp(-10.0) / z, 1.0 / z, math.exp(-20.0) / z]
    np.testing.assert_allclose(est.predict_proba(X[:5]), np.tile(expected, (5, 1)),
                               rtol=1e-12)


# ------------------------------------------------------------ save / load
def _fitted_estimators():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(150, 3))
    y = np.maximum(X[:, 0] - 0.5, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield X, SparseReLURegressor(width=6, sparsity=2, W=4.0, B=4.0, random_state=0,
                                     max_epochs=5).fit(X, y)
        yield X, SparseReLURegressor(width=6, sparsity=2, random_state=np.int64(1),
                                     max_epochs=5).fit(X, np.stack([y, X[:, 1]], 1))
        labels = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.5, 0.5])]
        yield X, SparseReLUClassifier(width=6, sparsity=2, max_epochs=5,
                                      random_state=0).fit(X, labels)
        yield X, SparseReLUClassifier(width=6, sparsity=3, max_epochs=5, multi_class="ovr",
                                      random_state=0).fit(X, (X[:, 1] > 0).astype(int) + 7)


def test_erm_estimators_round_trip_exactly(tmp_path):
    for i, (X, est) in enumerate(_fitted_estimators()):
        path = est.save(tmp_path / f"model{i}")
        assert path.endswith(".npz")
        loaded = type(est).load(tmp_path / f"model{i}")
        assert loaded.get_params() == est.get_params()
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        for name in ("weights", "biases", "output_weights"):
            np.testing.assert_array_equal(getattr(loaded.network_, name),
                                          getattr(est.network_, name))
        for name in ("max_active_", "mean_active_", "in_class_", "norm_bounds_",
                     "train_objective_", "n_units_repaired_", "n_iter_", "n_features_in_",
                     "loss_curve_"):
            assert getattr(loaded, name) == getattr(est, name), name
        if hasattr(est, "classes_"):
            np.testing.assert_array_equal(loaded.classes_, est.classes_)
            np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
            assert loaded.score(X, est.predict(X)) == 1.0


def test_erm_save_keeps_feature_names_and_needs_a_fit(tmp_path):
    from sklearn.exceptions import NotFittedError
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["age", "dose"])
    # Three epochs (a fit to save, not to converge): the short fit says so.
    with pytest.warns(ConvergenceWarning, match="max_epochs=3 reached"):
        est = SparseReLURegressor(width=4, sparsity=2, max_epochs=3,
                                  random_state=rng).fit(frame, frame["age"].to_numpy())
    loaded = SparseReLURegressor.load(est.save(tmp_path / "named.npz"))
    np.testing.assert_array_equal(loaded.feature_names_in_, ["age", "dose"])
    assert loaded.random_state is None      # a Generator is not stored
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))
    with pytest.raises(NotFittedError):
        SparseReLUClassifier().save(tmp_path / "unfitted.npz")


def test_erm_load_refuses_corrupted_files(tmp_path):
    from sparselearn import io
    from sparselearn.io import UnreadableFileError
    X, est = next(_fitted_estimators())
    good = est.save(tmp_path / "good.npz")
    data = open(good, "rb").read()
    (tmp_path / "cut.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(UnreadableFileError, match="cut.npz"):
        SparseReLURegressor.load(tmp_path / "cut.npz")
    # A network file, or a regressor read as a classifier: another format.
    est.network_.save(tmp_path / "net.npz")
    with pytest.raises(UnreadableFileError, match="not a saved SparseReLURegressor"):
        SparseReLURegressor.load(tmp_path / "net.npz")
    with pytest.raises(UnreadableFileError, match="not a saved SparseReLUClassifier"):
        SparseReLUClassifier.load(good)
    # Tampered contents, one at a time, each refused with the reason.
    arrays = dict(np.load(good, allow_pickle=False))

    def tampered(name, match, **changes):
        io.save_npz(tmp_path / name, **{**arrays, **changes})
        with pytest.raises(UnreadableFileError, match=match):
            SparseReLURegressor.load(tmp_path / name)

    tampered("json.npz", "params", params=np.array("{not json"))
    tampered("keys.npz", "parameters must have the keys", params=np.array('{"width": 6}'))
    tampered("width.npz", "n_features_in_", weights=np.ones((6, 4)))
    tampered("bounds.npz", "norm_bounds_", biases=arrays["biases"] + 100.0)
    tampered("tag.npz", "format tag", format=np.array("sparselearn.SparseReLURegressor/9"))
    tampered("names.npz", "feature_names", feature_names=np.array(["only one"]))
    fitted = json.loads(str(arrays["fitted"]))
    tampered("fitted.npz", "fitted attribute n_iter_",
             fitted=np.array(json.dumps({**fitted, "n_iter_": 2.5})))
    tampered("classes.npz", "fitted attributes must be",
             fitted=np.array(json.dumps({**fitted, "extra_": 1})))
    with pytest.raises(TypeError, match="cannot be saved without pickle"):
        with pytest.warns(ConvergenceWarning, match="max_epochs=2 reached"):  # a short fit
            clf = SparseReLUClassifier(width=4, sparsity=2, max_epochs=2).fit(
                X, np.array(["a", "b"] * 75, dtype=object))
        clf.save(tmp_path / "objects.npz")


# ------------------------------------------- the trainer's step (issue 14)
class _TwoScans(SparseReLURegressor):
    """The former step (count, then rank the active units): same iterates."""

    def _validated_params(self):
        return dict(super()._validated_params(), _two_scans=True)


def _step_problem(o):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 5))
    Y = np.stack([np.maximum(X[:, t] - 0.3, 0.0) for t in range(o)], axis=1)
    return X, Y[:, 0] if o == 1 else Y


@pytest.mark.parametrize("o", [1, 3])
@pytest.mark.parametrize("solver", ["adam", "lazy_adam"])
def test_one_scan_step_keeps_the_iterates_of_the_two_scans(o, solver):
    X, y = _step_problem(o)
    params = dict(width=24, sparsity=3, W=4.0, B=4.0, max_epochs=4, random_state=5,
                  solver=solver, batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        new = SparseReLURegressor(**params).fit(X, y)
        old = _TwoScans(**params).fit(X, y)
    assert new.loss_curve_ == old.loss_curve_
    for attr in ("weights", "biases", "output_weights", "output_bias"):
        np.testing.assert_array_equal(getattr(new.network_, attr),
                                      getattr(old.network_, attr))


def _lazy_adam_reference(X, y, width, k, W, B, lr, batch, epochs, penalty, seed):
    """Lazy Adam written out with the NumPy twins (single output, squared loss,
    output bias): each step updates the units active on some minibatch row."""
    from sparselearn.erm import _ADAM_EPS, _BETA1, _BETA2, _initial_parameters
    rng = np.random.default_rng(seed)
    # The output bias starts at the mean of y; the initial scale and the
    # penalty's y-bar are those of y minus it (SparseReLURegressor's docs).
    centred = y - y.mean()
    w, b, u = _initial_parameters(X, centred, width, k, W, B, rng)
    c = np.full((1, 1), y.mean())
    params = [w, b[:, None], u[:, None], c]
    moments = [(np.zeros_like(P), np.zeros_like(P)) for P in params]
    radii = [W, B, 1.0, -1.0]
    scale = penalty * np.sqrt(np.mean(centred * centred))
    m, curve, t = X.shape[0], [], 0
    for _ in range(epochs):
        order, total = rng.permutation(m), 0.0
        for start in range(0, m, batch):
            rows = order[start:start + batch]
            Xb, mb = X[rows], rows.shape[0]
            w, b, u, c = params[0], params[1][:, 0], params[2][:, 0], params[3]
            G = Xb @ w.T
            out, excess = reference.capped_output(G, b, u, k, True)
            residual = out + c[0, 0] - y[rows]
            total += (0.5 * residual @ residual / mb + scale * excess.sum() / mb) * mb
            touched, gw, gb, gu = reference.sparse_backward_touched(
                Xb, G, b, u, residual / mb, k, True, scale / mb)
            t += 1
            step = lr * np.sqrt(1.0 - _BETA2 ** t) / (1.0 - _BETA1 ** t)
            grads = [gw, gb[:, None], gu[:, None], np.array([[residual.sum() / mb]])]
            for q, (P, grad, (m1, m2), radius) in enumerate(zip(params, grads, moments, radii)):
                lines = touched if q < 3 else np.array([0])
                P, m1, m2 = reference.lazy_adam_step(P, grad, m1, m2, lines, step, _BETA1,
                                                     _BETA2, _ADAM_EPS, radius)
                params[q], moments[q] = P, (m1, m2)
        curve.append(total / m)
    return params, curve


def test_lazy_adam_fit_equals_a_slow_reference_and_is_seeded():
    X, y = _step_problem(1)
    params = dict(width=24, sparsity=3, W=4.0, B=4.0, learning_rate=0.01, batch_size=32,
                  max_epochs=3, tol=0.0, n_iter_no_change=10, sparsity_penalty=0.1,
                  repair=False, random_state=7, solver="lazy_adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = SparseReLURegressor(**params).fit(X, y)
        again = SparseReLURegressor(**params).fit(X, y)
        dense = SparseReLURegressor(**dict(params, solver="adam")).fit(X, y)
    (w, b, u, c), curve = _lazy_adam_reference(X, y, 24, 3, 4.0, 4.0, 0.01, 32, 3, 0.1, 7)
    # The twins sum in another order (BLAS products): agreement to rounding.
    net = fit.network_
    np.testing.assert_allclose(net.weights, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.biases, b[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.output_weights, u[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.output_bias, c[0, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.loss_curve_, curve, rtol=1e-9)
    # Same seed, same fit; and lazy Adam really is another algorithm.
    assert fit.loss_curve_ == again.loss_curve_
    np.testing.assert_array_equal(net.weights, again.network_.weights)
    assert not np.array_equal(net.weights, dense.network_.weights)


def test_solver_is_checked():
    with pytest.raises(ValueError, match="solver must be one of"):
        SparseReLURegressor(solver="sgd").fit(np.zeros((4, 2)), np.zeros(4))


def test_weight_bound_is_enforced_on_the_exact_norm():
    """||(0.7, 0.3, 0)|| rounds to a float below the exact norm: with that
    float as W, a projection that tests float norms leaves the row as it is
    and the certificate (the exact norm, rounded up) would reject it."""
    from fractions import Fraction

    from sparselearn.erm import _enforce_weight_bound

    w = np.array([[0.7, 0.3, 0.0], [0.1, 0.0, 0.0]])
    radius = float(np.linalg.norm(w[0]))
    assert Fraction(radius) ** 2 < Fraction(0.7) ** 2 + Fraction(0.3) ** 2
    _enforce_weight_bound(w, radius)
    assert sum(Fraction(float(v)) ** 2 for v in w[0]) <= Fraction(radius) ** 2
    np.testing.assert_allclose(w[0], [0.7, 0.3, 0.0], rtol=1e-11)
    np.testing.assert_array_equal(w[1], [0.1, 0.0, 0.0])   # inside: untouched
    net = SparseReLUNetwork(w, np.zeros(2), np.ones(2))
    assert net.norm_bounds()[0] <= radius


def test_weight_bound_enforcement_ends_for_a_subnormal_bound():
    """W = 5e-324 (the smallest subnormal): scaling a row by 1 - 2^-40 rounds
    back to the same row, and the projection loop never ended (a fit with
    that W hung).  The gap doubles each round, so it ends, in class."""
    from fractions import Fraction

    from sparselearn.erm import _enforce_weight_bound

    w = np.array([[5e-324, 5e-324], [0.0, 5e-324]])
    _enforce_weight_bound(w, 5e-324)
    assert all(sum(Fraction(float(v)) ** 2 for v in row) <= Fraction(5e-324) ** 2 for row in w)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    model = SparseReLURegressor(width=4, sparsity=2, W=5e-324, random_state=0).fit(X, X[:, 0])
    assert model.in_class_ and model.norm_bounds_[0] <= 5e-324


def test_erm_load_reads_norm_bounds_saved_rounded_to_nearest(tmp_path):
    """Files saved before norm_bounds rounded up hold bounds an ulp or so
    below the exact ones; they load (with the exact bounds), while a
    changed network is still refused."""
    from sparselearn import io
    _, est = next(_fitted_estimators())
    good = est.save(tmp_path / "good.npz")
    arrays = dict(np.load(good, allow_pickle=False))
    fitted = json.loads(str(arrays["fitted"]))
    legacy = [float(np.nextafter(v, 0.0)) for v in fitted["norm_bounds_"]]
    io.save_npz(tmp_path / "legacy.npz",
                **{**arrays, "fitted": np.array(json.dumps({**fitted, "norm_bounds_": legacy}))})
    loaded = SparseReLURegressor.load(tmp_path / "legacy.npz")
    assert loaded.norm_bounds_ == est.norm_bounds_ == est.network_.norm_bounds()
    with pytest.raises(io.UnreadableFileError, match="norm_bounds_"):
        io.save_npz(tmp_path / "three.npz", **{**arrays, "fitted": np.array(
            json.dumps({**fitted, "norm_bounds_": fitted["norm_bounds_"] + [1.0]}))})
        SparseReLURegressor.load(tmp_path / "three.npz")


def test_convergence_warning_points_at_the_callers_line():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    with pytest.warns(ConvergenceWarning, match="max_epochs=1 reached") as caught:
        SparseReLURegressor(width=4, sparsity=2, max_epochs=1, tol=0.0,
                            random_state=0).fit(X, X[:, 0])
    assert {record.filename for record in caught} == {__file__}



def test_convergence_warning_inside_scikit_learn_names_the_callers_line():
    """Fitted by a Pipeline, GridSearchCV or cross_val_score, the warning named
    sklearn/pipeline.py (or joblib's and sklearn's model_selection frames): the
    line to change is the caller's."""
    import inspect

    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(60, 3))
    est = SparseReLURegressor(width=4, sparsity=2, max_epochs=1, tol=0.0, random_state=0)
    calls = {"pipeline": lambda: make_pipeline(StandardScaler(), est).fit(X, X[:, 0]),
             "grid": lambda: GridSearchCV(est, {"sparsity": [1, 2]}, cv=2).fit(X, X[:, 0]),
             "cross_val_score": lambda: cross_val_score(est, X, X[:, 0], cv=2)}
    for name, call in calls.items():
        with pytest.warns(ConvergenceWarning, match="max_epochs=1 reached") as caught:
            call()
        lines = inspect.getsourcelines(call)[1]
        assert {(record.filename, record.lineno) for record in caught} == {(__file__, lines)}, name



@pytest.mark.parametrize("verbose", [True, 1, 2])
def test_verbose_prints_each_epoch_and_the_certificate(verbose, capsys):
    """verbose=1 (scikit-learn's int convention) was refused with a TypeError;
    the lines printed are the epochs' objectives and the certified fit's."""
    X = np.random.default_rng(0).normal(size=(80, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SparseReLURegressor(width=6, sparsity=2, W=4.0, B=4.0, max_epochs=3,
                                  tol=0.0, verbose=verbose, random_state=0).fit(X, X[:, 0])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 == est.n_iter_ + 1
    for epoch, (line, objective) in enumerate(zip(lines, est.loss_curve_), 1):
        assert line.startswith(f"epoch {epoch}: objective {objective:.6g}, mean active units ")
    W, B = est.network_.norm_bounds()
    assert lines[-1] == (f"SparseReLURegressor: {est.n_units_repaired_} units repaired; on "
                         f"the training set max active {est.network_.max_active(X)} (k = 2), "
                         f"norm bounds W = {W:.6g}, B = {B:.6g}; in class: {est.in_class_}")
    SparseReLURegressor(width=6, sparsity=2, max_epochs=2, verbose=0, tol=1e300,
                        n_iter_no_change=1, random_state=0).fit(X, X[:, 0])
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose must be >= 0"):
        SparseReLURegressor(width=6, sparsity=2, verbose=-1).fit(X, X[:, 0])



# ------------------------------------------- in a researcher's sklearn code
def test_cross_validation_in_two_processes_equals_one_to_the_bit():
    """GridSearchCV over a StandardScaler pipeline and cross_val_score with
    n_jobs=2 (loky worker processes) score exactly as with n_jobs=1, for an
    int, a Generator and a RandomState as random_state (clone copies each)."""
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)) * [1.0, 10.0, 100.0, 0.1]
    y = np.maximum(X[:, 0], 0.0) - X[:, 1] / 10.0
    labels = np.where(y > 0, "up", "down")
    cv = KFold(3, shuffle=True, random_state=0)
    for state in (0, np.random.default_rng(1), np.random.RandomState(2)):
        params = dict(width=6, sparsity=2, max_epochs=8, random_state=state)
        grid = GridSearchCV(make_pipeline(StandardScaler(), SparseReLURegressor(**params)),
                            {"sparsereluregressor__sparsity": [1, 2]}, cv=cv)
        classifier = make_pipeline(StandardScaler(), SparseReLUClassifier(**params))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            one, two = ([search.cv_results_[f"split{i}_test_score"] for i in range(3)]
                        for search in (clone(grid).fit(X, y),
                                       clone(grid).set_params(n_jobs=2).fit(X, y)))
            if state == 0:
                accuracy = [cross_val_score(clone(classifier), X, labels, cv=cv, n_jobs=jobs)
                            for jobs in (1, 2)]
                np.testing.assert_array_equal(*accuracy)
        np.testing.assert_array_equal(one, two)



def test_a_generator_random_state_advances_and_clones_copy_it():
    """The random_state docs: a Generator is drawn from, so a refit differs;
    clones copy its state, so they fit alike (and like a fresh Generator of
    the same seed)."""
    from sklearn.base import clone
    X = np.random.default_rng(0).normal(size=(60, 3))
    est = SparseReLURegressor(width=6, sparsity=2, max_epochs=3,
                              random_state=np.random.default_rng(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clones = [clone(est).fit(X, X[:, 0]).network_ for _ in range(2)]
        fresh = SparseReLURegressor(**dict(est.get_params(),
                                           random_state=np.random.default_rng(4)))
        first = est.fit(X, X[:, 0]).network_
        second = est.fit(X, X[:, 0]).network_
        expected = fresh.fit(X, X[:, 0]).network_
    assert clones[0] == clones[1] == first == expected
    assert second != first


def test_fitted_attributes_are_what_the_docs_say_against_independent_references():
    """train_objective_ against scikit-learn's log_loss and mean_squared_error,
    norm_bounds_ and max_active_ against exact rational arithmetic, score
    against accuracy_score and r2_score."""
    from fractions import Fraction

    from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 3))
    y = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        softmax = SparseReLUClassifier(width=8, sparsity=2, W=3.0, B=2.0, max_epochs=15,
                                       random_state=0).fit(X, y)
        ovr = SparseReLUClassifier(**dict(softmax.get_params(), multi_class="ovr")).fit(X, y)
        reg = SparseReLURegressor(width=8, sparsity=2, W=3.0, B=2.0, max_epochs=15,
                                  random_state=0).fit(X, X[:, 0] - X[:, 1])
    assert softmax.train_objective_ == pytest.approx(log_loss(y, softmax.predict_proba(X)),
                                                     rel=1e-12)
    onehot = (y[:, None] == ovr.classes_).astype(float)
    p = 1.0 / (1.0 + np.exp(-ovr.network_(X)))
    assert ovr.train_objective_ == pytest.approx(
        -np.mean(np.sum(onehot * np.log(p) + (1 - onehot) * np.log(1 - p), axis=1)), rel=1e-12)
    assert reg.train_objective_ == pytest.approx(
        0.5 * mean_squared_error(X[:, 0] - X[:, 1], reg.predict(X)), rel=1e-12)
    assert reg.score(X, X[:, 0] - X[:, 1]) == pytest.approx(
        r2_score(X[:, 0] - X[:, 1], reg.predict(X)), rel=1e-12)
    assert softmax.score(X, y) == accuracy_score(y, softmax.predict(X))
    # Two outputs: the mean of the two columns' R^2 (scikit-learn's default).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two = SparseReLURegressor(**reg.get_params()).fit(X, X[:, :2])
    columns = [r2_score(X[:, t], two.predict(X)[:, t]) for t in range(2)]
    assert two.score(X, X[:, :2]) == pytest.approx(np.mean(columns), rel=1e-12)
    for est in (softmax, ovr, reg):
        net = est.network_
        q = [[Fraction(float(v)) for v in row] for row in X]
        counts = [sum(sum(a * Fraction(float(w)) for a, w in zip(row, unit))
                      > Fraction(float(bias)) for unit, bias in zip(net.weights, net.biases))
                  for row in q]
        u = max(abs(Fraction(float(v))) for v in np.ravel(net.output_weights))
        w2 = max(sum(Fraction(float(v)) ** 2 for v in unit) for unit in net.weights)
        b = max(abs(Fraction(float(v))) for v in net.biases)
        W, B = est.norm_bounds_
        # norm_bounds_ are the attained bounds rounded up: at or just above the exact ones.
        assert u * u * w2 <= Fraction(W) ** 2 and u * b <= Fraction(B)
        assert Fraction(W) ** 2 <= u * u * w2 * (1 + Fraction(1, 2**40))
        assert Fraction(B) <= u * b * (1 + Fraction(1, 2**40))
        assert est.max_active_ == max(counts) <= 2
        assert est.mean_active_ == pytest.approx(sum(counts) / len(counts), rel=1e-15)
        assert est.in_class_ == (max(counts) <= 2 and u * u * w2 <= 9 and u * b <= 2)
        assert est.in_class_   # repaired, bounds projected: in the class by construction


def test_a_pickled_fit_predicts_the_same_bits_in_a_fresh_process():
    import os
    import pickle
    import subprocess
    import sys

    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    labels = np.where(X[:, 0] > 0, "pos", "neg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [SparseReLURegressor(width=6, sparsity=2, max_epochs=5, random_state=0)
                .fit(X, X[:, 1]),
                SparseReLUClassifier(width=6, sparsity=2, max_epochs=5, random_state=0)
                .fit(X, labels)]
    code = ("import pickle, sys; fits, X = pickle.load(sys.stdin.buffer); "
            "pickle.dump([fits[0].predict(X), fits[1].predict_proba(X), fits[1].predict(X)], "
            "sys.stdout.buffer)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps((fits, X)),
                          capture_output=True, env=env, timeout=300, check=True)
    values, proba, predicted = pickle.loads(done.stdout)
    np.testing.assert_array_equal(values, fits[0].predict(X))
    np.testing.assert_array_equal(proba, fits[1].predict_proba(X))
    np.testing.assert_array_equal(predicted, fits[1].predict(X))


@pytest.mark.parametrize("kind", ["str", "bool", "int", "category", "list"])
def test_classifier_labels_of_every_kind_come_back_as_given(kind):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 2))
    positive = X[:, 0] + 0.2 * X[:, 1] > 0
    y = {"str": np.where(positive, "yes", "no"), "bool": positive,
         "int": np.where(positive, 7, -3),
         "category": pd.Series(np.where(positive, "yes", "no"), dtype="category"),
         "list": [("yes" if p else "no") for p in positive]}[kind]
    expected_classes = {"bool": [False, True], "int": [-3, 7]}.get(kind, ["no", "yes"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SparseReLUClassifier(width=6, sparsity=2, max_epochs=30, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, expected_classes)
    predicted = clf.predict(X)
    # Accuracy from the predictions, independently of ClassifierMixin.score.
    truth = np.asarray(y)
    assert clf.score(X, y) == np.mean(predicted == truth)
    assert set(predicted.tolist()) <= set(expected_classes)
    assert predicted.dtype.kind == np.asarray(expected_classes).dtype.kind or kind == "category"
    assert clf.score(X, y) > 0.8        # fixed seed: a linear boundary through the origin


def test_predict_reads_float32_lists_and_frames_as_their_float64_values():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SparseReLURegressor(width=6, sparsity=2, max_epochs=5, random_state=0)
        named = SparseReLURegressor(**est.get_params())
        est.fit(X, X[:, 0])
        named.fit(pd.DataFrame(X, columns=["a", "b", "c"]), X[:, 0])
    exact = est.predict(X.astype(np.float64))   # float32 -> float64 is exact
    np.testing.assert_array_equal(est.predict(X), exact)
    np.testing.assert_array_equal(est.predict(X.tolist()), exact)
    np.testing.assert_array_equal(named.predict(pd.DataFrame(X, columns=["a", "b", "c"])),
                                  exact)
    np.testing.assert_array_equal(named.feature_names_in_, ["a", "b", "c"])
    with pytest.raises(ValueError, match="feature names"):
        named.predict(pd.DataFrame(X, columns=["a", "c", "b"]))



@pytest.mark.parametrize("multi_class", ["softmax", "ovr"])
def test_classifier_memory_estimate_counts_the_one_hot_targets(multi_class):
    """Integer ids passed as labels (one class per row) made (m, C) one-hot
    targets and loss temporaries the estimate did not count: 30000 rows went
    on to allocate about 40 GB under the 4 GiB default.  Now refused first;
    and the peak a fit traces stays within the estimate it passes."""
    import tracemalloc
    m = 300
    X = np.random.default_rng(0).normal(size=(m, 3))
    ids = np.arange(m)
    params = dict(width=4, sparsity=2, max_epochs=1, random_state=0, multi_class=multi_class)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # ConvergenceWarning; "y could represent a regression"
        with pytest.raises(MemoryBudgetError, match=f"{m} rows of 3 features and {m} classes"):
            SparseReLUClassifier(**params, max_bytes=8.0 * 5 * m * m).fit(X, ids)
        needed = 8.0 * 6 * m * m + 4 * 2**20   # the (m, C) terms plus 4 MiB for the rest
        tracemalloc.start()
        try:
            SparseReLUClassifier(**params, max_bytes=needed).fit(X, ids)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert 8.0 * 4 * m * m < peak <= needed


def test_a_real_ctrl_c_stops_a_long_fit_and_leaves_it_unfitted():
    """SIGINT sent to a fit with no end in sight (tol=0, a million epochs) once
    its first epoch line is out: the fit stops with KeyboardInterrupt and the
    estimator holds no fitted attribute (it kept n_features_in_)."""
    import os
    import signal
    import subprocess
    import sys

    code = """if True:
        import numpy as np
        from sparselearn.erm import SparseReLURegressor
        X = np.random.default_rng(0).normal(size=(5000, 8))
        est = SparseReLURegressor(width=64, sparsity=4, max_epochs=10**6, tol=0.0,
                                  n_iter_no_change=10**6, verbose=True, random_state=0)
        try:
            est.fit(X, np.sin(X[:, 0]))
        except KeyboardInterrupt:
            print("interrupted", sorted(v for v in vars(est) if v.endswith("_")))
        """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)
    try:
        first = child.stdout.readline()
        assert first.startswith("epoch 1: objective "), first
        child.send_signal(signal.SIGINT)
        rest, _ = child.communicate(timeout=120)
    finally:
        child.kill()
    assert rest.splitlines()[-1] == "interrupted []"


@pytest.mark.parametrize("cls, learning_rate, bounds", [
    (SparseReLURegressor, 1e300, {}), (SparseReLUClassifier, 1e300, {}),
    (SparseReLURegressor, 1e154, dict(W=1.0, B=1.0))])
def test_a_diverged_fit_names_learning_rate(cls, learning_rate, bounds):
    """Steps of 1e300 made the parameters NaN, and the fit ended in "weights
    contains NaN or infinite values" from the network's constructor; with
    bounded hidden weights, 1e154 sent the output bias to ~1e160 and the fit
    "succeeded" with an infinite training loss (score -inf, in_class_ True)."""
    from sklearn.exceptions import NotFittedError
    X = np.random.default_rng(0).normal(size=(100, 3))
    y = X[:, 0] if cls is SparseReLURegressor else X[:, 0] > 0
    est = cls(width=6, sparsity=2, max_epochs=5, learning_rate=learning_rate, random_state=0,
              **bounds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's overflow, on the way
        with pytest.raises(ValueError, match="training diverged .*lower learning_rate "
                                             + re.escape(f"(now {learning_rate:g})")):
            est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


# ------------------------------------------ a fit that raises leaves no fit
def _fitted_names(est):
    """The attributes check_is_fitted looks for (names ending in ``_``)."""
    return sorted(name for name in vars(est) if name.endswith("_") and not name.startswith("__"))


@pytest.mark.parametrize("cls", [SparseReLURegressor, SparseReLUClassifier])
def test_a_fit_refused_after_reading_X_leaves_the_estimator_unfitted(cls):
    """validate_data sets n_features_in_ (and the classifier classes_) before the
    memory check: the refused fit passed check_is_fitted, and predict raised
    AttributeError on network_ instead of NotFittedError."""
    from sklearn.exceptions import NotFittedError
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = X[:, 0] if cls is SparseReLURegressor else X[:, 0] > 0
    est = cls(width=4096, sparsity=2, max_bytes=2**20)
    with pytest.raises(MemoryBudgetError):
        est.fit(X, y)
    assert _fitted_names(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("cls", [SparseReLURegressor, SparseReLUClassifier])
def test_a_refit_that_raises_does_not_mix_two_fits(cls):
    """A refit on 3 features refused by the memory budget kept the old 4-feature
    network_ with the new n_features_in_ = 3: predict refused both widths."""
    from sklearn.exceptions import NotFittedError
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = X[:, 0] if cls is SparseReLURegressor else X[:, 0] > 0
    est = cls(width=4, sparsity=2, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    est.set_params(width=4096, max_bytes=2**20)
    with pytest.raises(MemoryBudgetError):
        est.fit(X[:, :3], y)
    assert _fitted_names(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("cls", [SparseReLURegressor, SparseReLUClassifier])
@pytest.mark.parametrize("where", ["training", "repair"])
def test_ctrl_c_during_a_fit_leaves_the_estimator_unfitted(cls, where, monkeypatch):
    """A KeyboardInterrupt in the 5th minibatch (or in the repair) left
    n_features_in_ (and loss_curve_, n_iter_ from a finished training): a
    half-fitted estimator.  The interrupt itself still reaches the caller."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from sparselearn import erm
    X = np.random.default_rng(0).normal(size=(400, 4))
    y = X[:, 0] if cls is SparseReLURegressor else X[:, 0] > 0
    calls = []
    if where == "training":
        supports = erm._sparse_backprop.fused_supports

        def interrupted(*args):
            calls.append(1)
            if len(calls) == 5:
                raise KeyboardInterrupt
            return supports(*args)

        monkeypatch.setattr(erm._sparse_backprop, "fused_supports", interrupted)
    else:
        def interrupted(*args):
            calls.append(1)
            raise KeyboardInterrupt

        monkeypatch.setattr(erm, "_repair", interrupted)
    est = cls(width=8, sparsity=2, max_epochs=3, batch_size=32, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    assert calls and _fitted_names(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)
    # Fitted again, it is the fit of a fresh estimator: nothing of the
    # interrupted one is left.
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert est.fit(X, y).network_ == clone(est).fit(X, y).network_
