r"""The low-degree algorithm as scikit-learn estimators.

Least squares over the parities :math:`\chi_S(x) = \prod_{i \in S} x_i`,
:math:`|S| \le d`, of points :math:`x \in \{-1,1\}^n` (docs/theory.rst, section 3):
if the target's Fourier tail weight :math:`W^{>d}[f]` is at most
:math:`\varepsilon`, regression over these
:math:`D = \sum_{j \le d} \binom{n}{j}` features with
:math:`O(D \log(D/\delta)/\varepsilon)` uniform samples has excess squared
error :math:`O(\varepsilon)` with probability :math:`1 - \delta`.  Sparse
ReLU networks have small tail weight at low degree, which is why this learns
them (see :doc:`/learners`).

On any other finite real data (``domain="real"``, or detected by the default
``domain="auto"``) the same estimators fit least squares over the
multilinear monomials :math:`\prod_{i \in S} x_i`, ``|S| <= d``: the
features of scikit-learn's ``PolynomialFeatures(degree=d,
interaction_only=True)``, in the same order.  There the columns are not
orthonormal, so there is no Fourier reading and no ``"lmn"``.

The feature matrix is never stored: :class:`~sparselearn.parities.ParityDesign`
computes its products chunk by chunk, and its least-squares solvers
(conjugate gradient, or a QR of explicit rows for tiny feature sets) only
call those.
"""
from __future__ import annotations

import contextlib
import json
import math
import numbers
import time

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (_check_feature_names_in, check_array, check_is_fitted,
                                      column_or_1d, validate_data)

from . import _distributed
from . import io as _io
from ._validation import (BOOLEAN, RANDOM_STATE, Interval, StrOptions, check_int, check_labels,
                          check_matrix, check_memory, check_numeric_input, check_random_state,
                          check_vector, validate_parameters, warn_at_caller)
# The design and its helpers stay importable from here, where they lived
# before sparselearn.parities existed.
from .parities import PackedCube, ParityDesign, n_parity_features, pack_rows, parity_subsets
from .parities import (_block_product_bytes, _check_packable, _largest_magnitude, _on_cube,
                        _pack_chunks)
from ._gram import _moments_apply
from ._solvers import (_iteration_log, _solve_block_cg, _solve_cg, _solve_cholesky, _solve_exact,
                       _solve_sketch)
from ._validation import DEFAULT_MAX_BYTES

__all__ = ["LowDegreeClassifier", "LowDegreeRegressor", "ParityDesign",
           "n_parity_features", "pack_rows", "parity_subsets"]


_SOLVERS = ("auto", "lmn", "cg", "exact", "cholesky", "sketch")
# Version 2 (issue 16) adds domain, standardize, the standardisation
# arrays and multiclass coefficients; version-1 files (cube models) still load.
_SAVE_FORMAT = "sparselearn.LowDegreeRegressor/2"
_CLASSIFIER_FORMAT = "sparselearn.LowDegreeClassifier/2"
_V1_FORMATS = {_SAVE_FORMAT: "sparselearn.LowDegreeRegressor/1",
               _CLASSIFIER_FORMAT: "sparselearn.LowDegreeClassifier/1"}
# Constructor parameters kept in a saved model (random_state may be a
# Generator, which has no portable form; it only affects fitting anyway).
_V1_PARAMS = ("degree", "max_degree", "solver", "alpha", "tol", "max_iter",
              "input_encoding", "cv", "max_bytes", "n_jobs")
_SAVED_PARAMS = _V1_PARAMS + ("domain", "standardize")
_ENCODINGS = ("pm1", "01")
_DOMAINS = ("auto", "cube", "real")
_DOMAIN_CODES = ("cube", "real")  # domain_ in a saved file: its index here
# "auto" uses the exact solver (QR of the explicit feature rows) only for
# tiny feature sets: measured on uniform +-1 samples with one OpenMP thread,
# it beat CG at D = 29 and 32 (1.6-1.9 ms against 2.1-8 ms at m = 2000) and
# lost at D = 79 (9.9 ms against 7.6 ms at m = 2000, n = 12, d = 2) and
# beyond (0.19 s against 0.065 s at D = 176, m = 20,000).
_EXACT_MAX_FEATURES = 32
# Off the cube "auto" forms the normal equations (solver="cholesky") up to
# this many features (2 x 8 D^2 bytes: 576 MB at 6000), CG beyond: on
# correlated real features CG needed 321-589 iterations
# (benchmarks/compare_learners.py real, n = 12, d = 3 and n = 24, d = 2),
# 0.5-0.9x the speed of PolynomialFeatures + Ridge, where m D^2 + D^3 / 3
# flops do not depend on the conditioning.
_CHOLESKY_MAX_FEATURES = 6000
# Within that range "auto" preconditions CG by a sample's Gram (solver=
# "sketch") from this many samples per feature, measured against
# "cholesky" on correlated Gaussian X (compare_learners.py real_task, alpha = 1,
# tol = 1e-9, shared 2-core machine): 0.72x at m = 5 D and 1.24x at m = 8 D for
# n = 40, d = 2 (D = 821); 1.59x at 5 D and 3.0x at 16 D for n = 64, d = 2.
# Small designs lose to the one-shot solve (per-iteration overhead): 0.22x
# at m = 10 D and 1.04x at 20 D for n = 24, d = 2 (D = 301), hence also a
# minimum D between the two measured.
_SKETCH_MIN_SAMPLES_PER_FEATURE = 8
_SKETCH_MIN_FEATURES = 500
# Where the Gram is formed from its distinct moments (_gram._MomentPlan:
# from D = 256 and m = 2000 when the table is at most half of G's entries) "sketch" also
# runs below 8 D samples: its sample is then every row and its
# preconditioner the float32 factor of the whole Gram (2-4 CG iterations).
# n = 32, d = 3, m = 20,000 (D = 5489, m = 3.6 D), one process on the
# loaded 2-core machine: 4.2 s against 10.0 s for "cholesky" (float64
# moments, potrf) and 8.6-13.9 s for "cholesky" by syrk before the moments;
# with the compiled float32 products, scatter and factor (_gram.
# _moment_table32, _scatter_moments) the "sketch" fit took 1.8-3.0 s
# there (load 1-4), its CPU time 3.4 s; with the staircase products
# (session 7) 1.6-2.0 s, CPU time 3.0-3.3 s (a scratch script, not kept:
# time the fit on benchmarks/compare_learners.py's real_task(32, 20000)).
# Off the cube, fewer samples than features (m < D) take the wide route
# (solver="exact": the SVD of the explicit m x D rows, _solvers._solve_wide,
# O(m^2 D)) whenever its 8 (3 m D + 5 m^2) bytes fit the budget: at m = 300,
# n = 30, d = 3 (D = 4526, singular normal equations) "cholesky" took 158 s
# in a tester's run (its fallback's eigendecomposition of the D x D Gram),
# this route 0.3 s.
# Degree selection treats validation scores within 100 * tol (relative, in
# root-mean-square units) of the best as tied and keeps the smallest degree
# (_LowDegreeModel._select_degree): a factor 100 covers CG's relative error
# kappa * tol on two fits with condition numbers up to 50.
_TIE_FACTOR = 100.0


# ------------------------------------------------------------- estimators
class _LowDegreeModel(BaseEstimator):
    """Shared fitting machinery of the regressor and the classifier."""

    # What each constructor parameter may be (sparselearn._validation's copy
    # of scikit-learn's pattern); checked by _check_params at fit.
    _parameter_constraints = {
        "degree": [None, Interval(numbers.Integral, 0)],
        "max_degree": [Interval(numbers.Integral, 0)],
        "solver": [StrOptions(_SOLVERS)],
        "alpha": [Interval(numbers.Real, 0.0)],
        "tol": [Interval(numbers.Real, 0.0, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1)],
        "input_encoding": [StrOptions(_ENCODINGS, "'pm1' (entries +-1) or '01' (entries "
                                                  "0/1, mapped to x = 1 - 2 * X)")],
        "domain": [StrOptions(_DOMAINS, "'auto' (the cube when every entry is +-1, else "
                                        "real), 'cube' or 'real'")],
        "standardize": [BOOLEAN],
        "cv": [Interval(numbers.Integral, 2, description="an int >= 2 (K-fold)"),
               Interval(numbers.Real, 0, 1, "neither",
                        description="a float in (0, 1) (held-out fraction)")],
        "max_bytes": [None, Interval(numbers.Real, 0.0, closed="neither")],
        "n_jobs": [None, -1, Interval(numbers.Integral, 1)],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
    }

    def __init__(self, degree=None, *, max_degree=4, solver="auto", alpha=0.0,
                 tol=1e-6, max_iter=1000, input_encoding="pm1", domain="auto",
                 standardize=False, cv=5, max_bytes=None, n_jobs=None,
                 random_state=None, verbose=False):
        self.degree = degree
        self.max_degree = max_degree
        self.solver = solver
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.input_encoding = input_encoding
        self.domain = domain
        self.standardize = standardize
        self.cv = cv
        self.max_bytes = max_bytes
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # Validation ------------------------------------------------------------
    def _check_params(self, n_features):
        checked = validate_parameters(self._parameter_constraints,
                                      self.get_params(deep=False))
        if self.input_encoding == "01" and self.domain == "real":
            raise ValueError("input_encoding='01' maps 0/1 data onto the cube; it needs "
                             "domain='cube' or 'auto' (fit 0/1 data as real values with "
                             "input_encoding='pm1', domain='real')")
        if self.standardize and (self.domain == "cube" or self.input_encoding == "01"):
            raise ValueError("standardize=True makes the inputs real-valued; it needs "
                             "domain='real' or 'auto' and input_encoding='pm1'")
        if self.degree is not None:
            degree = checked["degree"]
            if degree > n_features:
                raise ValueError(f"degree={degree} exceeds n_features={n_features}: a "
                                 f"parity (or multilinear monomial) of {n_features} "
                                 f"variables has degree at most {n_features}")
            return [degree]
        # Parities of degree > n do not exist; larger max_degree adds nothing.
        return list(range(min(checked["max_degree"], n_features) + 1))

    def _compact_input(self, X, reset):
        """``X`` as a :class:`PackedCube` when it is compact cube input, else
        ``None`` (the float64 path).

        Compact: a :class:`PackedCube`, or an integer or memory-mapped numpy
        array whose entries are all +-1 while the model is (or, at ``fit``,
        may be) on the cube with ``input_encoding="pm1"``.  Such input is
        checked and packed a chunk of rows at a time (memory maps are read
        from disk in chunks), never converted to float64 as a whole.
        """
        if reset:  # max_bytes is used before _fit_pm1 checks the parameters
            validate_parameters(self._parameter_constraints, self.get_params(deep=False))
        if not isinstance(X, PackedCube):
            # Unsigned and bool arrays cannot hold -1: never cube points, so
            # (memory-mapped too) they take the float64 path and its checks.
            if not (isinstance(X, np.memmap) and X.dtype.kind in "if"
                    or isinstance(X, np.ndarray) and X.dtype.kind == "i"):
                return None
            if self.input_encoding != "pm1" or (
                    self.domain_ == "real" if not reset else
                    (self.domain == "real" or self.standardize)):
                return None
            X = _check_packable(X, "X")
            packed = _pack_chunks(X, self.max_bytes, "the packed sample X")
            if packed is None:
                if (self.domain_ if not reset else self.domain) == "cube":
                    raise ValueError("X must be a point set of the cube {-1, 1}^n: every "
                                     "entry must be exactly +1 or -1")
                return None  # real data under domain="auto": the float64 path
            X = packed
        elif reset and (self.domain == "real" or self.standardize
                        or self.input_encoding != "pm1"):
            raise ValueError("X is a PackedCube (points of the cube): it needs "
                             "domain='cube' or 'auto', standardize=False and "
                             "input_encoding='pm1'")
        elif not reset and self.domain_ != "cube":
            raise ValueError("X is a PackedCube but the model was fitted on real-valued "
                             "data (domain_='real'); pass float64 points")
        if reset:
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        return X

    def _resolve_domain(self, X):
        """The domain of validated float training input ``X``: ``"auto"`` is
        the cube exactly when every entry is +-1 (then the parities are the
        orthonormal Fourier basis of the uniform distribution and nothing
        changes from the cube-only estimators), and real otherwise."""
        if self.input_encoding == "01" or self.domain == "cube":
            return "cube"
        if self.domain == "real" or self.standardize:
            return "real"
        if isinstance(X, PackedCube):
            return "cube"
        return "cube" if _on_cube(X) else "real"

    def _set_standardization(self, X):
        """``mean_`` and ``scale_`` (population standard deviation, 1 for a
        constant column, as :class:`~sklearn.preprocessing.StandardScaler`)."""
        if self.domain_ == "real" and self.standardize:
            self.mean_, self.scale_ = _standardization(X)
        else:
            self.mean_ = self.scale_ = None

    def _encode(self, X):
        """Map validated float input to the fitted domain ``domain_``: standardised
        reals, or +-1 points (refusing anything else; a PackedCube as is)."""
        if isinstance(X, PackedCube):
            return X
        if self.domain_ == "real":
            if self.mean_ is not None:
                X = (X - self.mean_) / self.scale_
            return np.ascontiguousarray(X, dtype=np.float64)
        if self.input_encoding == "01":
            if not np.all((X == 0.0) | (X == 1.0)):
                raise ValueError(_distributed.NOT_01_POINTS)
            return np.ascontiguousarray(1.0 - 2.0 * X)
        if not _on_cube(X):
            raise ValueError(_distributed.NOT_CUBE_POINTS)
        return np.ascontiguousarray(X, dtype=np.float64)

    def _threads(self):
        if self.n_jobs is None or self.n_jobs == -1:
            # joblib's count respects CPU affinity and cgroup quotas.
            return joblib.cpu_count()
        return int(self.n_jobs)

    def _resolve_solver(self, D, m, n, degree, n_outputs=1):
        if self.solver != "auto":
            return self.solver
        if getattr(self, "domain_", "cube") == "real":
            budget = DEFAULT_MAX_BYTES if self.max_bytes is None else self.max_bytes
            # The wide route's whole fit, as fit's budget check counts it (its
            # explicit rows alone would let a fit that CG can run be refused).
            if m < D and ParityDesign.estimate_bytes(m, n, degree, "exact", self._threads(),
                                                     n_outputs, domain="real") <= budget:
                return "exact"
            if D > _CHOLESKY_MAX_FEATURES:
                return "cg"
            if D >= _SKETCH_MIN_FEATURES and (m >= _SKETCH_MIN_SAMPLES_PER_FEATURE * D
                                              or _moments_apply(n, degree, "real", m)):
                return "sketch"
            return "cholesky"
        return "exact" if D <= _EXACT_MAX_FEATURES else "cg"

    # Fitting ---------------------------------------------------------------
    def _design(self, X, degree):
        return ParityDesign._from_checked(X, degree, self._threads(), self.max_bytes,
                                          domain=self.domain_)

    def _warn_cg(self, degree):
        warn_at_caller(f"conjugate gradient did not reach tol={self.tol} in "
                       f"max_iter={self.max_iter} iterations at degree {degree}; "
                       "raise max_iter, add a ridge alpha, or use more samples",
                       ConvergenceWarning)

    def _fit_once(self, X, y, degree, label=None):
        """Fit one degree on targets ``y`` (``(m,)``, or ``(m, c)`` solved
        together); returns ``(coef, n_iter)``, ``coef`` ``(D,)`` or ``(D, c)``.
        With ``verbose``, the solve's lines start with ``label``."""
        design = self._design(X, degree)
        solver = self._resolve_solver(design.n_output_features, design.n_samples,
                                      design.n_features, degree,
                                      1 if y.ndim == 1 else y.shape[1])
        if not self.verbose:
            return self._solve(design, y, degree, solver)
        log = _SolveLog(label or self._fit_label(degree, design.n_output_features,
                                                 design.n_samples), self.tol, self.max_iter)
        with _iteration_log(log):
            coef, n_iter = self._solve(design, y, degree, solver)
        log.done(solver, n_iter)
        return coef, n_iter

    def _fit_label(self, degree, D, m, where=""):
        """The start of a verbose line: ``LowDegreeRegressor degree 2[, fold 1/5] (D=.., m=..)``."""
        return f"{type(self).__name__} degree {degree}{where} (D={D}, m={m})"

    def _solve(self, design, y, degree, solver):
        """:meth:`_fit_once` on the design, by ``solver``."""
        # A direct solver counts as one iteration (scikit-learn's n_iter_ >= 1).
        if solver == "lmn":
            return design._rmatvec(y) / design.n_samples, 1
        if solver == "exact":
            return _solve_exact(design, y, float(self.alpha)), 1
        if solver == "cholesky":
            return _solve_cholesky(design, y, float(self.alpha)), 1
        if solver == "sketch":
            coef, n_iter, converged = _solve_sketch(
                design, y, float(self.alpha), float(self.tol), int(self.max_iter),
                # A fixed sample by default: refits agree to the last digit.
                np.random.default_rng(0) if self.random_state is None
                else check_random_state(self.random_state))
            if not converged:
                warn_at_caller(f"the sketch-preconditioned conjugate gradient did not reach "
                               f"tol={self.tol} in max_iter={self.max_iter} iterations at "
                               f"degree {degree}; raise max_iter or use solver='cholesky'",
                               ConvergenceWarning)
            return coef, n_iter
        solve = _solve_cg if y.ndim == 1 else _solve_block_cg
        # Jacobi-preconditioned CG converges to the least-squares solution of
        # least diagonally weighted norm, not the minimum-norm one; with
        # alpha = 0 and m < D the design is rank-deficient for certain and
        # that choice is the whole answer (n = 10, d = 3, m = 100: predictions
        # 73-85% away from "exact"), so there CG runs unpreconditioned.
        precondition = not (self.alpha == 0 and design.n_samples < design.n_output_features)
        coef, n_iter, converged = solve(design, y, float(self.alpha),
                                        float(self.tol), int(self.max_iter), precondition)
        if not converged:
            self._warn_cg(degree)
        return coef, n_iter

    def _fit_pm1(self, X, y):
        """Fit on validated float ``X`` and float targets ``y`` (``(m,)`` or ``(m, c)``)."""
        m, n = X.shape
        degrees = self._check_params(n)
        self.domain_ = self._resolve_domain(X)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        # The largest degree any fit can use: selection skips the degrees
        # _tried_in_selection refuses, so those never count against the budget
        # (n = 200, m = 500 and the default max_degree=4 used to be refused
        # for degree 4's 66 million parities).
        top = degrees[-1]
        if len(degrees) > 1:
            train = self._largest_training_split(m)
            top = max(d for d in degrees if self._tried_in_selection(n, d, train))
        solver = self._resolve_solver(n_parity_features(n, top), m, n, top, n_outputs)
        if solver == "lmn" and self.domain_ == "real":
            raise ValueError("solver='lmn' estimates Fourier coefficients, which needs "
                             "uniform points of the cube; on real-valued X (domain_="
                             "'real') use solver='auto', 'cholesky', 'cg', 'exact' or "
                             "'sketch'")
        nbytes = ParityDesign.estimate_bytes(m, n, top, solver, self._threads(),
                                             n_outputs=n_outputs, domain=self.domain_)
        if len(degrees) > 1:  # training and validation copies of X (or its bits)
            nbytes += 8.0 * m * (-(-n // 64) if isinstance(X, PackedCube) else n)
            if n_outputs > 1 and solver in ("exact", "cholesky"):
                # The validation predictions, the direct solvers' only
                # c-wide product (estimate_bytes counts the others').
                held_out = m - self._largest_training_split(m) + 1
                nbytes += _block_product_bytes(held_out, n, top, self._threads(), n_outputs)
        check_memory(nbytes,
                     f"{type(self).__name__} fit (m={m}, n={n}, degree={top}, "
                     f"D={n_parity_features(n, top)}, solver={solver!r})",
                     self.max_bytes)
        if self.domain_ == "cube":
            # The cube check runs before standardisation is decided (it needs
            # the fitted domain_, and the cube never standardises).
            self.mean_ = self.scale_ = None
        else:
            self._set_standardization(X)
        raw = X if self.mean_ is not None else None
        X = self._encode(X)
        if self.domain_ == "real":
            _check_monomial_range(X, top, 2, math.log(m),
                                  "and their Gram", self.mean_ is not None)
            _check_monomial_underflow(X, top, self.mean_ is not None)
        rng = check_random_state(self.random_state)
        y_scale = _target_scale(y)
        y = y / y_scale
        if len(degrees) == 1:
            self.degree_ = degrees[0]
            self.cv_results_ = None
        else:
            self.degree_, self.cv_results_ = self._select_degree(X, y, degrees, rng, raw)
            # Back to the units of y (inf where an MSE of targets near 1e154
            # and beyond is not representable).
            with np.errstate(over="ignore"):
                for key in ("mean_test_mse", "std_test_mse", "split_test_mse"):
                    self.cv_results_[key] = self.cv_results_[key] * y_scale * y_scale
            if self.verbose:
                scores = ", ".join(f"{d}: {mse:.4g}" for d, mse in zip(
                    self.cv_results_["degree"], self.cv_results_["mean_test_mse"]))
                print(f"{type(self).__name__} degree selection, mean validation MSE by "
                      f"degree ({scores}): degree {self.degree_}", flush=True)
        coef, self.n_iter_ = self._fit_once(X, y, self.degree_)
        coef = coef * y_scale
        # One row of coefficients per output, as scikit-learn's linear models.
        self.coef_ = coef if coef.ndim == 1 else np.ascontiguousarray(coef.T)
        self.subsets_ = parity_subsets(n, self.degree_, max_bytes=self.max_bytes)
        self._set_fourier()
        return self

    def _fit_dask(self, X, y):
        """Fit on a row-chunked dask array on the current ``dask.distributed``
        client: each product a map over row blocks and a tree reduction, CG
        on the client (:mod:`sparselearn._distributed`); ``y`` (a dask array
        too, or not) becomes the float targets of :meth:`_targets`."""
        validate_parameters(self._parameter_constraints, self.get_params(deep=False))
        if X.ndim == 2 and any(math.isnan(size) for size in X.shape):
            # Boolean indexing and DataFrame.to_dask_array() leave the block
            # sizes unknown; the fit splits y by them.
            raise ValueError(f"X is a dask array of unknown shape {X.shape} (chunk sizes "
                             "not known, e.g. after boolean indexing or "
                             "DataFrame.to_dask_array()); call X.compute_chunk_sizes() "
                             "(or to_dask_array(lengths=True)) before fit")
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X must be a non-empty 2-D array (m, n), got shape {X.shape}")
        if X.dtype.kind not in "if":
            # In memory such X is real data (domain="auto"), which a dask fit
            # does not take: say so, and how to make cube points of 0/1 data.
            raise TypeError(f"X must hold real or integer +-1 entries, got dtype {X.dtype}, "
                            "which cannot hold -1: a dask fit takes cube points only; for "
                            "0/1 data pass 1 - 2 * X.astype('int8') (0 -> +1, 1 -> -1, "
                            "the cube index convention), or fit X.compute() in memory with "
                            "domain='real'")
        m, n = (int(size) for size in X.shape)
        if self.degree is None:
            raise ValueError("fitting on a dask array needs an explicit degree= (degree "
                             "selection by validation runs in memory only)")
        if self.domain == "real" or self.standardize or self.input_encoding != "pm1":
            raise ValueError("fitting on a dask array supports cube points only: "
                             "domain='cube' or 'auto', standardize=False, "
                             "input_encoding='pm1'")
        if self.solver not in ("auto", "cg", "lmn"):
            raise ValueError(f"solver={self.solver!r} is not distributed; on a dask array "
                             "use solver='auto' (conjugate gradient), 'cg' or 'lmn'")
        degree = self._check_params(n)[0]
        y = self._targets(y.compute() if _distributed.is_dask_array(y) else y, m)
        D = n_parity_features(n, degree)
        c = 1 if y.ndim == 1 else y.shape[1]
        # On the client: y and O(1) length-D vectors (c columns of each; every
        # block's design is checked against max_bytes on its worker).
        check_memory(8.0 * c * (2 * m + 12 * D),
                     f"{type(self).__name__} fit on a dask array (m={m}, n={n}, "
                     f"degree={degree}, D={D}) on the client", self.max_bytes)
        client = _distributed.get_client()
        design = _distributed.DaskParityDesign(client, X, degree, self.max_bytes)
        y_scale = _target_scale(y)
        y = y / y_scale
        try:
            if self.solver == "lmn":
                coef, n_iter = design._rmatvec(y) / m, 1
            else:
                solve = _solve_cg if y.ndim == 1 else _solve_block_cg
                log = (_SolveLog(self._fit_label(degree, D, m, " on the dask cluster"),
                                 self.tol, self.max_iter) if self.verbose else None)
                # Without verbose, an iteration log set by the caller stays
                # (benchmarks/scale_lowdegree.py times the iterations by it).
                with _iteration_log(log) if log is not None else contextlib.nullcontext():
                    coef, n_iter, converged = solve(design, y, float(self.alpha),
                                                    float(self.tol), int(self.max_iter))
                if log is not None:
                    log.done("cg", n_iter)
                if not converged:
                    self._warn_cg(degree)
        finally:
            design.close()
        coef = coef * y_scale
        self.n_features_in_ = n
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.domain_ = "cube"
        self.mean_ = self.scale_ = None
        self.degree_, self.cv_results_, self.n_iter_ = degree, None, n_iter
        self.coef_ = coef if coef.ndim == 1 else np.ascontiguousarray(coef.T)
        self.subsets_ = parity_subsets(n, degree, max_bytes=self.max_bytes)
        self._set_fourier()
        return self

    def _decision_dask(self, X):
        """The lazy decision values of a fitted cube model on a dask array ``X``."""
        check_is_fitted(self, "coef_")
        if self.domain_ != "cube":
            raise ValueError(f"a dask X needs a model fit on cube points (domain_='cube'); "
                             f"this one has domain_={self.domain_!r}: pass X.compute() "
                             "(predictions in memory), or fit on cube points")
        if X.ndim == 2 and X.shape[0] == 0:
            # In memory validate_data refuses no rows; a lazy (0,) array was
            # a silent difference.
            raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a "
                             f"minimum of 1 is required by {type(self).__name__}.")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must be a dask array of cube points with "
                             f"{self.n_features_in_} columns for a model with "
                             f"domain_='cube' (got shape {X.shape}, domain_="
                             f"{self.domain_!r})")
        return _distributed.predict(X, self._checked_coef(len(self.subsets_)), self.degree_,
                                    self.input_encoding)

    def _checked_coef(self, D):
        """``coef_`` checked against ``D`` parities (and ``classes_``), as the
        ``(D,)`` or ``(D, n_classes)`` operand of the products."""
        # coef_ is a public attribute a caller may have replaced: it is
        # checked here (once per call) before the kernels read it.
        if getattr(self, "classes_", None) is not None and len(self.classes_) > 2:
            coef = check_matrix(self.coef_, "coef_", n_columns=D)
            if coef.shape[0] != len(self.classes_):
                raise ValueError(f"coef_ must have {len(self.classes_)} rows (one per "
                                 f"class), got {coef.shape[0]}")
            return np.ascontiguousarray(coef.T)
        return check_vector(self.coef_, "coef", length=D)

    def _set_fourier(self):
        """``fourier_coefficients_``: on the cube ``{S: c_S}`` (an array of one
        per class for a multiclass model); off it ``None``, since monomials of
        real data are not an orthonormal basis."""
        if self.domain_ != "cube":
            self.fourier_coefficients_ = None
        elif self.coef_.ndim == 1:
            self.fourier_coefficients_ = dict(zip(self.subsets_, self.coef_.tolist()))
        else:
            self.fourier_coefficients_ = dict(zip(self.subsets_, self.coef_.T.copy()))

    def get_feature_names_out(self, input_features=None):
        """Names of the monomials, in the order of ``coef_``.

        The names of :class:`~sklearn.preprocessing.PolynomialFeatures`
        ``(degree_, interaction_only=True)``, whose columns are the same
        features in the same order: ``"1"``, then ``"x0"``, ``"x1"``, ...,
        then ``"x0 x1"``, ... (the input names joined by spaces).

        Parameters
        ----------
        input_features : array_like of str or None, default=None
            Input names; ``None``: ``feature_names_in_`` if fitted on a
            DataFrame, else ``x0, x1, ...``.

        Returns
        -------
        ndarray of object, shape (D,)
            One name per coefficient.
        """
        check_is_fitted(self, "coef_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray([" ".join(names[j] for j in S) if S else "1"
                           for S in self.subsets_], dtype=object)

    def _largest_training_split(self, m):
        """Rows of the largest training split :meth:`_select_degree` makes of
        ``m`` samples (``m`` itself when ``cv`` cannot split them: the
        selection then raises)."""
        if isinstance(self.cv, numbers.Integral):
            return m - m // int(self.cv) if m >= self.cv else m
        n_val = int(round(float(self.cv) * m))
        return m - n_val if 1 <= n_val < m else m

    def _tried_in_selection(self, n, degree, train_rows):
        """Whether degree selection fits ``degree`` on ``train_rows`` rows.

        Without a ridge, more features than rows leave least squares
        underdetermined (its validation error says nothing of the degree):
        such degrees are skipped.  With ``alpha > 0`` the problem is well
        posed at any width, so they are tried up to the direct solvers'
        ``_CHOLESKY_MAX_FEATURES`` features (digits, 64 inputs: degree 2's
        2,081 monomials against some 1,100 training rows, 0.99 accuracy where
        degree 1 scores 0.93); beyond, the default ``max_degree`` on wide
        inputs would fit millions of features on a few hundred rows."""
        D = n_parity_features(n, degree)
        return (degree == 0 or D <= train_rows
                or (float(self.alpha) > 0 and D <= _CHOLESKY_MAX_FEATURES))

    def _select_degree(self, X, y, degrees, rng, raw=None):
        r"""Validation mean squared error of every degree; the smallest
        degree within a near-tie of the best wins.

        ``X`` is the encoded sample; with ``standardize=True`` ``raw`` is
        the sample before standardisation, and every fold is standardised
        by its own training rows' mean and scale (as a scikit-learn
        ``Pipeline`` of ``StandardScaler`` and the model would be), so no
        statistic of the held-out rows reaches the fit that scores them.

        With :math:`\mathrm{MSE}_d` the fold-averaged validation error of
        degree :math:`d` and :math:`s` the fold average of the validation
        :math:`\overline{y^2}` (the error of the zero predictor, the
        scale of the score), the chosen degree is the smallest :math:`d`
        with

        .. math::

           \sqrt{\mathrm{MSE}_d} \le \min_{d'} \sqrt{\mathrm{MSE}_{d'}}
           + \epsilon \sqrt{s}, \qquad \epsilon = 100\,\mathrm{tol}.

        Rationale: changing a fit's validation predictions by a vector of
        root-mean-square :math:`\delta` moves :math:`\sqrt{\mathrm{MSE}}`
        by at most :math:`\delta` (triangle inequality).  CG's coefficient
        error is at most :math:`\kappa\,\mathrm{tol}` relative
        (:func:`_solve_cg`); on uniform validation points that is, up to
        sampling fluctuation, the root-mean-square prediction error relative
        to the fit's own root mean square, which is about that of :math:`y`
        or less.  So solver errors of two fits with :math:`\kappa \le 50`
        stay inside the margin: they cannot reorder degrees whose exact
        least-squares scores differ by more than it, and a noiseless target
        is not assigned degree ``d+1`` because of solver rounding.  With the
        default ``tol = 1e-6`` the margin is :math:`10^{-4}` of the root
        mean square of :math:`y`.

        Degrees with more features than a training split has samples are
        skipped (NaN in ``cv_results_``) unless ``alpha > 0`` makes their
        fit well posed (:meth:`_tried_in_selection`); degree 0 always
        qualifies.
        """
        m = X.shape[0]
        order = rng.permutation(m)
        if isinstance(self.cv, numbers.Integral):
            if m < self.cv:
                raise ValueError(f"cv={self.cv} folds need at least {self.cv} samples, "
                                 f"got n_samples={m}; lower cv or pass degree=")
            folds = np.array_split(order, int(self.cv))
        else:
            n_val = int(round(float(self.cv) * m))
            if n_val < 1 or n_val >= m:
                raise ValueError(f"cv={self.cv} leaves {n_val} of {m} samples for "
                                 "validation; need at least one on each side")
            folds = [order[:n_val]]
        n = X.shape[1]
        errors = np.full((len(degrees), len(folds)), np.nan)
        for f, held_out in enumerate(folds):
            train = np.setdiff1d(order, held_out, assume_unique=True)
            if raw is None:
                X_train, X_val = X[train], X[held_out]
            else:
                mean, scale = _standardization(raw[train])
                X_train = np.ascontiguousarray((raw[train] - mean) / scale)
                X_val = np.ascontiguousarray((raw[held_out] - mean) / scale)
            for k, degree in enumerate(degrees):
                label = self._fit_label(degree, n_parity_features(n, degree), train.size,
                                        f", fold {f + 1}/{len(folds)}")
                if not self._tried_in_selection(n, degree, train.size):
                    if self.verbose:
                        features = "parities" if self.domain_ == "cube" else "monomials"
                        print(f"{label}: skipped, more {features} than training rows"
                              + (f" and than {_CHOLESKY_MAX_FEATURES}" if self.alpha > 0
                                 else " (and no ridge alpha)"), flush=True)
                    continue
                coef, _ = self._fit_once(X_train, y[train], degree, label)
                prediction = self._design(X_val, degree)._matvec(coef)
                errors[k, f] = np.mean((prediction - y[held_out]) ** 2)
        mean = errors.mean(axis=1)  # NaN for the skipped degrees
        results = {
            "degree": np.array(degrees),
            "n_features": np.array([n_parity_features(X.shape[1], d) for d in degrees]),
            "mean_test_mse": mean,
            "std_test_mse": errors.std(axis=1),
            "split_test_mse": errors,
        }
        # Near-ties go to the smaller degree (docstring); NaN never qualifies.
        scale = float(np.mean([np.mean(y[held_out] ** 2) for held_out in folds]))
        margin = _TIE_FACTOR * float(self.tol) * math.sqrt(scale)
        rmse = np.sqrt(mean)
        chosen = int(np.flatnonzero(rmse <= np.nanmin(rmse) + margin)[0])
        return int(degrees[chosen]), results

    def _decision(self, X):
        check_is_fitted(self, "coef_")
        packed = self._compact_input(X, reset=False)
        if packed is None:
            check_numeric_input(X, "X")
            X = validate_data(self, X, reset=False, dtype=np.float64)
        X = self._encode(X if packed is None else packed)
        design = self._design(X, self.degree_)
        coef = self._checked_coef(design.n_output_features)
        if self.domain_ == "real":
            scale = float(np.abs(coef).max()) if coef.size else 0.0
            _check_monomial_range(X, self.degree_, 1,
                                  math.log(design.n_output_features * scale) if scale > 0
                                  else -math.inf, "times coef_ (the prediction)",
                                  self.mean_ is not None)
        return design._matvec(coef)


_PARAMETERS_DOC = r"""
    degree : int or None, default=None
        Largest subset size ``d``; at most ``n_features``.  ``None`` selects
        it from ``0 .. min(max_degree, n_features)`` by validation
        (``cv``) and refits on all the data: the smallest degree whose
        validation root-mean-square error is within
        :math:`100\,\mathrm{tol}\,\sqrt{s}` of the best, :math:`s` the
        mean of :math:`y^2` over the validation points (a near-tie, see
        ``tol``), so that a noiseless degree-``d`` target is not assigned
        ``d + 1`` because of solver rounding.  Degrees with more features
        than a training split has samples are not tried, unless ``alpha >
        0`` (then up to 6,000 features).
    max_degree : int, default=4
        Largest degree tried when ``degree=None``.
    solver : {"auto", "lmn", "cg", "exact", "cholesky", "sketch"}, default="auto"
        ``"lmn"``: the Linial-Mansour-Nisan estimates
        :math:`\hat f(S) \approx \frac1m\sum_i y_i\chi_S(x_i)` (one pass, not
        least squares).  ``"cg"``: conjugate gradient on the normal
        equations, matrix-free, to the accuracy set by ``tol``.
        ``"exact"``: a Householder QR of the explicit feature rows,
        accumulated chunk by chunk, then an SVD of the ``D x D`` factor;
        it returns the minimum-norm least-squares solution also when
        :math:`P` is rank-deficient (repeated points, ``m`` near or below
        ``D``), with :func:`numpy.linalg.lstsq`'s rank cutoff: singular
        values at most :math:`\max(m, D)\,\varepsilon_{\mathrm{mach}}`
        times the largest count as zero (on real data applied to the
        columns scaled to unit norm, the minimum norm still that of
        ``coef_``).  With ``m < D`` ``"exact"`` and ``"cholesky"`` both
        take the SVD of the explicit ``m x D`` rows instead
        (:math:`O(m^2 D)` flops, ``8 (3mD + 5m^2)`` bytes), the same
        solution.  ``"cholesky"``: the normal
        equations :math:`(P^\top P + \alpha I) c = P^\top y` formed from
        chunks of explicit rows (``8 D^2`` bytes; on real data from ``D =
        256``, each distinct entry of :math:`P^\top P`, a moment
        :math:`\sum_i \prod_{j \in S \triangle T} x_{ij} \prod_{j \in S \cap
        T} x_{ij}^2`, computed once) and solved by Cholesky, as
        scikit-learn's ``Ridge(solver="cholesky")`` (its accuracy degrades
        with the squared condition number of :math:`P`; on real data the
        system is equilibrated first, so badly scaled columns do not look
        singular; a singular system falls back to its minimum-norm
        solution).  ``"sketch"``: CG on the
        same normal equations preconditioned by the Cholesky factor of
        :math:`\frac{m}{s} P_S^\top P_S + \alpha I`, the Gram of a uniform
        sample of :math:`s = \min(m, \max(4D, \lceil\sqrt{mD}\rceil))` rows
        (drawn by ``random_state``; ``None``: a fixed seed; on the moment
        route formed and factored in float32, and with ``s = m`` the whole
        Gram): :math:`s D^2` flops for the factor instead of :math:`m D^2`,
        then a few dozen matrix-free iterations (a few with ``s = m``)
        whatever the correlations of
        the features; stops by the rule of ``tol``, so the result is the
        ``"cholesky"`` solution to that accuracy.  ``"auto"`` on the cube:
        ``"exact"`` up to 32 features, ``"cg"`` beyond (CG converges in a
        few dozen iterations under the uniform distribution); on real data
        (``domain_ == "real"``) ``"exact"`` when ``m < D`` and that fit
        (its explicit rows) fits ``max_bytes``, else up to 6000 features,
        whose cost then does not depend on the conditioning, ``"sketch"``
        from ``D >= 500`` features when ``m >= 8 D`` or the Gram is formed
        from its distinct moments (``m >= 2000`` and their table at most
        half of the Gram's ``D^2 / 2`` entries), and ``"cholesky"``
        otherwise; ``"cg"`` beyond 6000.
    alpha : float, default=0.0
        Ridge penalty: minimise :math:`\|y - Pc\|^2 + \alpha\|c\|^2`, a
        sum (not a mean) of squares as in scikit-learn's ``Ridge``, so
        ``alpha`` has its scale.  One difference: ``Ridge`` (with its
        default ``fit_intercept=True``) does not penalise its intercept, while
        here the constant monomial is a coefficient like the others and is
        penalised too; the exact scikit-learn equivalent is
        ``PolynomialFeatures(d, interaction_only=True)`` (with its bias
        column) followed by ``Ridge(alpha, fit_intercept=False)``.  For
        ``alpha = 0`` the two conventions coincide.  Ignored by ``"lmn"``.
    tol : float, default=1e-6
        CG stops when the normal-equation residual is at most ``tol`` times
        :math:`\|P^\top y\|`.  Then the coefficients are within
        :math:`\kappa\,\mathrm{tol}` of the least-squares solution,
        relative in the Euclidean norm, which by Parseval is the relative
        root-mean-square difference of the predictions over the whole
        cube; :math:`\kappa` is the condition number of
        :math:`P^\top P + \alpha I`, about
        :math:`((1 + \sqrt{D/m}) / (1 - \sqrt{D/m}))^2` under uniform
        samples (9 at ``m = 4D``).  Measured on the cube: at most ``6 * tol``
        for ``m >= 2D``, so the default agrees with ``"exact"`` to about
        ``5e-6``; ``tol=1e-9`` gives ``1e-8`` or better at about 1.5 times
        the iterations (32 against 22 at ``n = 32``, ``d = 3``,
        ``m = 20,000``; at the default the CG runs in mixed precision,
        float32 products refined against float64 residuals, same rule,
        and with ``alpha = 0`` tolerances below ``1e-6`` keep float64
        products).  On real
        data :math:`\kappa` is that of the monomials' Gram, often far
        larger, and ``"sketch"`` and ``"cg"`` agree less closely at the
        default: correlated ``X`` off the origin
        (``n = 32``, ``d = 2``, ``m = 6000``, ``"sketch"``) gave predictions
        within ``1.5e-5`` (``alpha = 0``) and ``4.3e-5`` (``alpha = 1``) of
        ``Ridge(solver="cholesky")``, relative, and ``2e-8`` and ``4e-8``
        with ``tol=1e-9`` (8 more iterations); pass a smaller ``tol`` (or
        a direct solver) for closer agreement.  ``"sketch"`` with a sampled
        preconditioner (``m > 4D``) runs mixed precision on large designs
        too (real rows rounded to float32 in the inner solves), under the
        same rule.  Degree selection also uses
        ``tol``, whatever the solver: validation scores whose
        root-mean-square errors differ by at most ``100 * tol`` times the
        root mean square of the validation targets count as tied, and the
        smaller degree wins.
    max_iter : int, default=1000
        Largest number of CG iterations (a ``ConvergenceWarning`` if reached).
    input_encoding : {"pm1", "01"}, default="pm1"
        ``"pm1"``: ``X`` must hold exactly :math:`\pm1`.  ``"01"``: ``X``
        holds 0/1 and is mapped to :math:`x = 1 - 2X` (bit 1 is -1, the cube
        index convention).
    domain : {"auto", "cube", "real"}, default="auto"
        ``"cube"``: ``X`` must be points of :math:`\{-1,1\}^n` (or 0/1 with
        ``input_encoding="01"``); the features are the parities, orthonormal
        under the uniform distribution, so ``coef_`` estimates Fourier
        coefficients (``fourier_coefficients_``), ``"lmn"`` is available and
        the products may use the popcount kernels.  ``"real"``: any finite
        ``X``; the features are the monomials :math:`\prod_{i \in S} x_i`,
        computed by the BLAS route, CG is preconditioned by the diagonal of
        :math:`P^\top P`, ``fourier_coefficients_`` is ``None`` and
        ``"lmn"`` is refused.  ``"auto"``: the cube exactly when every
        training entry is :math:`\pm1` (or ``input_encoding="01"``), else
        real; detection costs one pass over ``X`` and keeps the cube
        behaviour for cube data.  The fitted choice is ``domain_``.
    standardize : bool, default=False
        Real domain only: centre and scale each input column (mean 0,
        variance 1 over the training rows; ``mean_``, ``scale_``) before
        forming the monomials.  The multilinear polynomials of degree at
        most ``d`` are closed under :math:`x_i \mapsto (x_i - \mu_i) /
        \sigma_i` (each monomial expands into monomials of its subsets), so
        with ``alpha = 0`` the fitted function and its predictions are the
        same; what changes is the conditioning (fewer CG iterations on
        off-centre data), the meaning of ``coef_`` (coefficients of the
        standardised monomials) and, for ``alpha > 0``, which function the
        penalty prefers.  Needs ``domain`` ``"real"`` or ``"auto"`` (then
        real).
    cv : int or float, default=5
        Degree selection: ``K >= 2`` folds, or a held-out fraction in (0, 1).
    max_bytes : float or None, default=None
        Memory budget of a fit; the estimate from ``m``, ``n``, ``D`` is
        checked before anything is allocated and a
        :class:`~sparselearn.MemoryBudgetError` gives the figure.  ``None``
        uses the library default (4 GiB).
    n_jobs : int or None, default=None
        Threads for the feature products (rows are split between them).
        ``None`` or ``-1``: every core available to the process.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Shuffles the validation folds.
    verbose : bool, default=False
        Print a line on stdout for every fit of a degree (the final one and,
        with ``degree=None``, each fold's): its solver, iterations, relative
        residual and time; while a conjugate gradient runs, a line every 10 s
        (iteration, residual); and the validation error of each degree."""

_ATTRIBUTES_DOC = r"""
    coef_ : ndarray of shape (D,) or (n_classes, D)
        Coefficients of the parities (monomials off the cube), in the order
        of ``subsets_``, which is the column order of
        ``PolynomialFeatures(degree_, interaction_only=True)``
        (``get_feature_names_out`` gives the names); a row per class for a
        multiclass classifier.
    subsets_ : list of tuple of int
        The subsets ``S`` (sorted coordinates), by size then lexicographic.
    fourier_coefficients_ : dict or None
        ``{S: coefficient}``, the learned degree-``d`` Fourier expansion;
        ``None`` when ``domain_`` is ``"real"`` (no orthonormal basis there).
    domain_ : {"cube", "real"}
        The domain of the fit (parameter ``domain``).
    mean_, scale_ : ndarray of shape (n,) or None
        The standardisation (``standardize=True``), else ``None``.
    degree_ : int
        The degree used (given or selected).
    cv_results_ : dict or None
        With ``degree=None``: ``degree``, ``n_features`` (``D``),
        ``mean_test_mse``, ``std_test_mse`` and ``split_test_mse``
        (degree x fold; NaN for degrees not tried); ``None`` when the
        degree was given.
    n_iter_ : int
        CG iterations of the final fit (1 for the one-pass solvers
        ``"lmn"``, ``"exact"`` and ``"cholesky"``); for a multiclass
        classifier the passes of the block CG, the iterations of its
        slowest class.
    n_features_in_ : int
        Input dimension ``n``."""


class LowDegreeRegressor(RegressorMixin, _LowDegreeModel):
    __doc__ = r"""Least-squares regression on the parities of degree at most ``d``.

    The low-degree algorithm of docs/theory.rst, section 3: the model is
    :math:`\hat f(x) = \sum_{|S| \le d} c_S \chi_S(x)` on :math:`x \in \{-1,1\}^n`,
    fitted by ordinary (or ridge) least squares without ever storing the
    ``m x D`` feature matrix.  On real-valued data the same model over the
    multilinear monomials :math:`\prod_{i \in S} x_i` (``domain``): the
    predictions of ``PolynomialFeatures(d, interaction_only=True)`` followed
    by least squares.

    Parameters
    ----------""" + _PARAMETERS_DOC + r"""

    Attributes
    ----------""" + _ATTRIBUTES_DOC + r"""

    Examples
    --------
    >>> from sparselearn.cube import uniform_points
    >>> from sparselearn.learners import LowDegreeRegressor
    >>> X = uniform_points(6, 500, random_state=0)
    >>> y = 2.0 * X[:, 0] * X[:, 3] - X[:, 5] + 0.5
    >>> model = LowDegreeRegressor(degree=2).fit(X, y)
    >>> {S: round(c, 6) for S, c in model.fourier_coefficients_.items() if abs(c) > 1e-6}
    {(): 0.5, (5,): -1.0, (0, 3): 2.0}
    """

    def fit(self, X, y):
        r"""Fit on inputs ``X`` of shape ``(m, n)`` and real targets ``y`` of shape ``(m,)``.

        Parameters
        ----------
        X : array_like of shape (m, n) or PackedCube
            Points of :math:`\{-1,1\}^n` (or of :math:`\{0,1\}^n` with
            ``input_encoding="01"``), or any finite reals (``domain``).
            Cube points may also come compact, never converted to float64
            as a whole: ``int8`` +-1, a memory-mapped ``.npy``
            (``np.load(path, mmap_mode="r")``, read in row chunks), or a
            :class:`~sparselearn.parities.PackedCube` (1 bit an entry); see
            :doc:`/learners`, "Large samples".
        y : array_like of shape (m,)
            Real targets.

        Returns
        -------
        self : LowDegreeRegressor
        """
        if _distributed.is_dask_array(X):
            return self._fit_dask(X, y)
        packed = self._compact_input(X, reset=True)
        if packed is not None:
            y = check_vector(y, "y", length=packed.shape[0])
            return self._fit_pm1(packed, np.ascontiguousarray(y, dtype=np.float64))
        check_numeric_input(X, "X")
        check_numeric_input(y, "y")
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        return self._fit_pm1(X, np.ascontiguousarray(y, dtype=np.float64))

    def _targets(self, y, m):
        """Real targets ``y`` checked (``m`` of them), as float64."""
        return np.ascontiguousarray(check_vector(y, "y", length=m), dtype=np.float64)

    def predict(self, X):
        """The fitted polynomial :math:`\\sum_S c_S \\chi_S(x)` on each row of ``X``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, in the encoding of the training data; a row-chunked dask
            array of cube points gives a lazy dask array.

        Returns
        -------
        ndarray of float64, shape (m,)
            A :class:`dask.array.Array` for a dask ``X``.
        """
        if _distributed.is_dask_array(X):
            return self._decision_dask(X)
        return self._decision(X)

    def save(self, path) -> str:
        """Write the fitted model as an uncompressed ``.npz`` archive; returns the path written.

        The archive holds the coefficients, the degree, the input dimension,
        the domain, the standardisation, the column names of a DataFrame fit
        (``feature_names_in_``) and the constructor parameters (except
        ``random_state``); the subsets are implied by ``(n, degree_)``, and
        ``cv_results_`` is not kept (``None`` after :meth:`load`).  ``.npz`` is appended to ``path``
        unless it ends with it (the rule :meth:`load` follows too), and the
        file is written atomically: a failure mid-write leaves any previous
        file intact.  Read it back with :meth:`load`.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        str
            The path written.
        """
        return _save_model(self, path, _SAVE_FORMAT)

    @classmethod
    def load(cls, path, *, max_bytes=None) -> "LowDegreeRegressor":
        """Read a model written by :meth:`save` (``allow_pickle=False``).

        ``.npz`` is appended to ``path`` unless it ends with it.  The file's
        declared sizes, and the subsets and coefficient dictionary the model
        rebuilds, are checked against ``max_bytes`` (default 4 GiB) first.

        Parameters
        ----------
        path : str or os.PathLike
            The saved model.
        max_bytes : float, optional
            Memory budget of the loaded model.

        Returns
        -------
        LowDegreeRegressor

        Raises
        ------
        sparselearn.io.UnreadableFileError
            (a :class:`ValueError`) If the file is missing, not such an
            archive, carries pickled objects or malformed parameters, its
            coefficients do not match its degree and ``n``, or it would
            exceed the memory budget.
        """
        return _load_model(cls, path, _SAVE_FORMAT, max_bytes)[0]


_LOG_FLOAT_MAX = math.log(np.finfo(np.float64).max)


# verbose=True: while a solve iterates, a line at most this often (seconds).
_VERBOSE_INTERVAL = 10.0


class _SolveLog:
    r"""What ``verbose=True`` prints for one solve: while CG runs, at most
    every ``_VERBOSE_INTERVAL`` seconds, ``LABEL: iteration K (max_iter=N),
    relative residual R (tol=T), S s``, and at the end ``LABEL: solver
    'NAME', K iterations, relative residual R (tol=T), S s``.  ``R`` is
    :math:`\|P^\top y - (P^\top P + \alpha I) c\| / \|P^\top y\|`, the
    largest over the columns still iterating, where the solver tracks it
    (CG; not the direct solvers); in mixed precision it is the float64
    residual of the last refinement (the inner float32 iterations between
    refinements are counted but report none).  The solvers call it
    through their iteration log (``_solvers._iteration_log``)."""

    def __init__(self, label: str, tol: float, max_iter: int):
        self.label, self.tol, self.max_iter = label, tol, max_iter
        self.iterations, self.residual = 0, None
        self.start = self.last = time.monotonic()

    def __call__(self, residual, count):
        self.iterations += count
        if residual is not None:
            self.residual = residual
        now = time.monotonic()
        if now - self.last >= _VERBOSE_INTERVAL:
            self.last = now
            print(f"{self.label}: iteration {self.iterations} (max_iter={self.max_iter})"
                  f"{self._residual()}, {now - self.start:.0f} s", flush=True)

    def _residual(self) -> str:
        if self.residual is None:
            return ""
        return f", relative residual {self.residual:.2e} (tol={self.tol:g})"

    def done(self, solver: str, n_iter: int):
        print(f"{self.label}: solver {solver!r}, {n_iter} iteration{'s' if n_iter != 1 else ''}"
              f"{self._residual()}, {time.monotonic() - self.start:.2f} s", flush=True)


def _target_scale(y) -> float:
    """The power of two nearest ``max |y|`` (1 for all-zero targets).

    Every solver is linear in ``y`` (ridge included), so the estimators solve
    for ``y / scale``, whose entries are at most about 1, and multiply the
    coefficients back: exactly, since the scale is a power of two.  Without
    it CG's squared residual norms underflowed for targets near 1e-160 (a
    silently wrong fit) and overflowed near 1e154 (NaN coefficients)."""
    largest = float(np.abs(y).max()) if y.size else 0.0
    if largest == 0.0:
        return 1.0
    return math.ldexp(1.0, math.frexp(largest)[1])


def _log_largest_monomial(X, degree: int) -> float:
    r"""Natural log of a bound on the largest :math:`|\prod_{j \in S} x_{ij}|`
    over rows and subsets of at most ``degree`` coordinates: the sum of each
    row's ``degree`` largest :math:`\log\max(1, |x_{ij}|)` (factors below 1
    only make a monomial smaller), a chunk of rows at a time."""
    m, n = X.shape
    d = min(degree, n)
    largest = 0.0
    if d == 0:
        return largest
    rows = max(1, 2**17 // max(1, n))
    for start in range(0, m, rows):
        logs = np.log(np.maximum(np.abs(X[start:start + rows]), 1.0))
        top = np.partition(logs, n - d, axis=1)[:, n - d:] if d < n else logs
        largest = max(largest, float(top.sum(axis=1).max()))
    return largest


def _check_monomial_range(X, degree: int, power: int, log_factor: float, what: str,
                          standardized: bool) -> None:
    """``ValueError`` naming ``X`` when ``log_factor`` plus ``power`` times the
    log of its largest monomial (:func:`_log_largest_monomial`), or that
    monomial itself, exceeds the largest float64 (real ``X``, before any
    work): ``power = 2``, ``log_factor = log m`` bounds the Gram's entries
    at fit, ``power = 1``, ``log_factor = log(D max|coef|)`` the predictions."""
    def overflows(largest):
        return max(largest, power * largest + log_factor) > _LOG_FLOAT_MAX

    # d log max(1, max |x|) bounds every monomial too: when even it passes
    # (standardised data) the per-row bound, a partition of every row (0.1 s
    # at m = 200,000, n = 64), is not needed.
    coarse = min(degree, X.shape[1]) * math.log(max(1.0, _largest_magnitude(X)))
    if overflows(coarse) and overflows(_log_largest_monomial(X, degree)):
        name = "the standardised X" if standardized else "X"
        raise ValueError(f"{name} has entries up to {_largest_magnitude(X):.3g}: its "
                         f"degree-{degree} monomials {what} overflow float64 (the largest "
                         f"representable is {np.finfo(np.float64).max:.2g}); rescale X"
                         + ("" if standardized else " or pass standardize=True (CLI: "
                                                    "--standardize)"))


_LOG_FLOAT_TINY = math.log(np.finfo(np.float64).tiny)


def _log_smallest_monomial(X, degree: int) -> float:
    r"""Natural log of the smallest, over subsets :math:`S` of at most
    ``degree`` non-constant columns, of the bound
    :math:`\prod_{j \in S} \max_i |x_{ij}|` on the monomial's entries
    (``inf`` when no column varies).  Constant columns are left out: their
    monomials are multiples of lower-degree ones, so losing them changes no
    prediction."""
    m, n = X.shape
    if degree == 0:
        return math.inf
    rows = max(1, 2**17 // max(1, n))
    high, low = np.full(n, -np.inf), np.full(n, np.inf)
    for start in range(0, m, rows):
        high = np.maximum(high, X[start:start + rows].max(axis=0))
        low = np.minimum(low, X[start:start + rows].min(axis=0))
    varying = high > low
    if not varying.any():
        return math.inf
    logs = np.sort(np.log(np.maximum(high[varying], -low[varying])))[:degree]
    return float(np.cumsum(logs).min())  # factors above 1 only enlarge a product


def _check_monomial_underflow(X, degree: int, standardized: bool) -> None:
    """``ValueError`` naming ``X`` when every entry of some degree-``<= degree``
    monomial of real ``X`` squares to below the smallest normal float64
    (:func:`_log_smallest_monomial`): its column of the Gram (and CG's Jacobi
    diagonal) underflows and the fit silently drops it, or gets NaN."""
    smallest = _log_smallest_monomial(X, degree)
    if 2.0 * smallest < _LOG_FLOAT_TINY:
        name = "the standardised X" if standardized else "X"
        raise ValueError(f"{name} is so small that one of its degree-{degree} monomials "
                         f"has entries of magnitude at most {math.exp(smallest):.3g}, whose "
                         f"squares underflow float64 (below {np.finfo(np.float64).tiny:.3g}): "
                         f"the fit would lose it; rescale X" + ("" if standardized else
                                                   " or pass standardize=True (CLI: "
                                                   "--standardize)"))


def _standardization(X):
    r"""Column means and scales of float ``X``: the population standard
    deviation, 1 for a constant column (as
    :class:`~sklearn.preprocessing.StandardScaler`).  Columns whose sums or
    squares overflow (entries near 1e154 and beyond) or underflow (spreads
    below 1e-140) are computed scaled by their largest magnitude.

    A column is constant when its variance is within rounding of zero,
    scikit-learn's rule :math:`\sigma^2 \le m\epsilon\sigma^2 + (m\epsilon\mu)^2`
    (``_is_constant_feature``), here in the overflow-free form
    :math:`\sigma\sqrt{1 - m\epsilon} \le m\epsilon|\mu|`: relative to the
    mean, so a column of genuinely tiny spread (``X * 1e-150``) is scaled,
    not taken for a constant."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
    # Squares that underflow (spreads below about 1e-154) lose the variance
    # to subnormals as surely as overflowing ones lose it to inf.
    bad = ~(np.isfinite(mean) & np.isfinite(scale)) | (scale < 1e-140)
    if bad.any():
        bad[bad] = np.abs(X[:, bad]).max(axis=0) > 0.0  # all-zero columns stay as they are
    if bad.any():
        big = np.abs(X[:, bad]).max(axis=0)
        scaled = X[:, bad] / big
        mean[bad] = scaled.mean(axis=0) * big
        scale[bad] = scaled.std(axis=0) * big
    m_eps = X.shape[0] * np.finfo(np.float64).eps
    scale[scale * math.sqrt(max(0.0, 1.0 - m_eps)) <= m_eps * np.abs(mean)] = 1.0
    return mean, scale


# Bytes per parity of a loaded model's Python objects: the subsets_ tuples
# (see parity_subsets) plus the fourier_coefficients_ dict entry and float.
def _loaded_model_bytes(n_parities: int, degree: int) -> float:
    return float(n_parities) * (230 + 64 * degree)


def _save_model(model, path, format_tag: str, **extra) -> str:
    check_is_fitted(model, "coef_")
    # NumPy scalars (np.int64 degrees from a GridSearchCV over np.arange,
    # np.float32 tolerances) are stored as the Python numbers they equal:
    # JSON has no NumPy types.
    params = {name: value.item() if isinstance(value, np.generic) else value
              for name, value in ((name, model.get_params()[name])
                                  for name in _SAVED_PARAMS)}
    # Format 2: the fitted domain as a number (0 the cube, 1 real; numeric
    # arrays need no string rule) and the standardisation (empty arrays when
    # there is none).
    mean = np.zeros(0) if model.mean_ is None else model.mean_
    scale = np.zeros(0) if model.scale_ is None else model.scale_
    # Column names of a DataFrame fit, when there were any (an optional entry
    # of format 2: files without it load as before).
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        extra["feature_names"] = np.asarray(names, dtype=str)
    return _io.save_npz(path, format=np.array(format_tag), params=np.array(json.dumps(params)),
                        coef=model.coef_, degree=np.array(model.degree_),
                        n_features=np.array(model.n_features_in_),
                        n_iter=np.array(model.n_iter_),
                        domain=np.array(_DOMAIN_CODES.index(model.domain_)),
                        mean=mean, scale=scale, **extra)


def _load_model(cls, path, format_tag: str, max_bytes, extra_keys=(), string_keys=()):
    """The model saved at ``path`` (format 2, or a cube model of format 1)
    and the arrays named ``extra_keys``."""
    shown = _io.npz_path(path)
    keys = {"params", "coef", "degree", "n_features", "n_iter", *extra_keys}
    saved = _io.npz_names(shown)
    version2 = "domain" in saved
    if version2 and "feature_names" in saved:
        keys.add("feature_names")
        string_keys = (*string_keys, "feature_names")
    if version2:
        arrays = _io.load_archive(path, format_tag, keys | {"domain", "mean", "scale"},
                                  string_keys={"params", *string_keys})
    else:
        arrays = _io.load_archive(path, _V1_FORMATS[format_tag], keys,
                                  string_keys={"params", *string_keys})
    saved_params = _SAVED_PARAMS if version2 else _V1_PARAMS
    try:
        if arrays["params"].shape != () or arrays["params"].dtype.kind != "U":
            raise ValueError("params must be one JSON string")
        params = json.loads(str(arrays["params"]))
        if not isinstance(params, dict) or set(params) != set(saved_params):
            raise ValueError(f"the parameters must be a JSON object with the keys "
                             f"{sorted(saved_params)}")
        for name, value in params.items():
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise ValueError(f"parameter {name} must be a number, a string or null, "
                                 f"got a JSON {type(value).__name__}")
        for name in ("n_features", "degree", "n_iter"):
            if arrays[name].shape != () or arrays[name].dtype.kind not in "iu":
                raise ValueError(f"{name} must be one integer")
        n = check_int(arrays["n_features"].item(), "n_features", minimum=1)
        degree = check_int(arrays["degree"].item(), "degree", minimum=0, maximum=n)
        n_iter = check_int(arrays["n_iter"].item(), "n_iter", minimum=0)
        expected = n_parity_features(n, degree)
        if arrays["coef"].ndim == 2 and version2 and "classes" in extra_keys:
            coef = check_matrix(arrays["coef"], "coef")  # a multiclass row per class
        else:
            coef = check_vector(arrays["coef"], "coef")
        if coef.shape[-1] != expected:
            raise ValueError(f"{coef.shape[-1]} coefficients, but degree {degree} on n={n} "
                             f"has {expected} parities")
        domain, mean, scale = "cube", None, None
        if version2:
            code = arrays["domain"]
            if code.shape != () or code.dtype.kind not in "iu" or code.item() not in (0, 1):
                raise ValueError("domain must be one integer, 0 (the cube) or 1 (real)")
            domain = _DOMAIN_CODES[code.item()]
            if arrays["mean"].size or arrays["scale"].size:
                mean = check_vector(arrays["mean"], "mean", length=n)
                scale = check_vector(arrays["scale"], "scale", length=n)
                if domain != "real" or not np.all(scale > 0):
                    raise ValueError("a standardisation needs domain 'real' and positive "
                                     "scales")
            # fit stores a standardisation exactly when standardize=True on
            # real data; without this a crafted file could say one and hold
            # the other, and predict would silently skip (or apply) it.
            if (mean is not None) != (bool(params["standardize"]) and domain == "real"):
                raise ValueError("standardize=True on domain 'real' needs the saved mean "
                                 "and scale, and they are only saved then")
        names = arrays.get("feature_names")
        if names is not None and (names.dtype.kind != "U" or names.shape != (n,)):
            raise ValueError(f"feature_names must be {n} strings, got an array of dtype "
                             f"{names.dtype} and shape {names.shape}")
        check_memory(_loaded_model_bytes(expected, degree),
                     f"the {expected} subsets and coefficients of the loaded model",
                     max_bytes)
        model = cls(**params)
        model._check_params(n)
    except RecursionError:
        raise _io.UnreadableFileError(f"{shown}: holds a malformed model (its parameters "
                                      "are nested too deeply to be a saved model)") from None
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise _io.UnreadableFileError(f"{shown}: holds a malformed model: {exc}") from None
    model.n_features_in_ = n
    if names is not None:  # scikit-learn's type: an object array of str
        model.feature_names_in_ = names.astype(object)
    model.degree_ = degree
    model.coef_ = coef
    model.n_iter_ = n_iter
    model.cv_results_ = None
    model.domain_, model.mean_, model.scale_ = domain, mean, scale
    model.subsets_ = parity_subsets(n, degree, max_bytes=max_bytes)
    model._set_fourier()
    return model, arrays


def _labels_of(scores, classes):
    """The labels of decision values: ``classes[1]`` where a single score is
    positive (else ``classes[0]``), the arg max of a row of scores (ties to
    the first class).  Module-level, so that dask workers can run it on
    blocks."""
    if scores.ndim == 2:
        return classes[np.argmax(scores, axis=1)]
    return classes[(scores > 0).astype(np.int64)]


class LowDegreeClassifier(ClassifierMixin, _LowDegreeModel):
    __doc__ = r"""Classification by low-degree L2 regression on :math:`\pm1` labels.

    Two classes are coded :math:`-1` (``classes_[0]``) and :math:`+1`
    (``classes_[1]``), the polynomial is fitted by least squares exactly as
    :class:`LowDegreeRegressor` does, and the prediction is the sign of the
    fit (a score of exactly 0 goes to ``classes_[0]``, as in scikit-learn's
    linear classifiers).  This is the L2-regression route for Boolean
    labels: docs/theory.rst, section 3's agnostic guarantee bounds
    :math:`\mathbb E[(h - g)^2]` for the regression function
    :math:`g = \mathbb E[y \mid x]`, and a wrong sign costs at least 1 in
    :math:`(h - y)^2`, so :math:`\Pr[\mathrm{sign}\,h \ne y] \le
    \mathbb E[(h - y)^2] = \mathbb E[(h - g)^2] + \mathbb E[(y - g)^2]`
    (elementary; not a statement of the theory page).

    With ``K > 2`` classes it is one-vs-rest, as scikit-learn's
    :class:`~sklearn.linear_model.RidgeClassifier`: class ``k`` gets the
    target :math:`+1` on its samples and :math:`-1` elsewhere, the ``K``
    least-squares problems share one design and are solved together (one
    block of ``K`` right-hand sides, one pass over the data per CG
    iteration for all of them), ``decision_function`` has shape
    ``(m, K)`` and the prediction is its arg max (ties to the first
    class).  There is no ``predict_proba`` (least-squares scores are not
    probabilities), as for ``RidgeClassifier``.

    Parameters
    ----------""" + _PARAMETERS_DOC + r"""

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; with two classes ``classes_[1]`` is coded
        +1.  With ``n_classes > 2``, ``coef_`` has shape ``(n_classes, D)``
        (a row per class) and ``fourier_coefficients_`` maps each subset to
        an array of ``n_classes`` coefficients.""" + _ATTRIBUTES_DOC + r"""

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.cube import uniform_points
    >>> from sparselearn.learners import LowDegreeClassifier
    >>> X = uniform_points(5, 400, random_state=0)
    >>> y = np.where(X[:, 0] + X[:, 1] + X[:, 2] > 0, 1, -1)  # majority of 3
    >>> model = LowDegreeClassifier(degree=3).fit(X, y)
    >>> model.score(X, y)
    1.0
    """

    def fit(self, X, y):
        r"""Fit on inputs ``X`` of shape ``(m, n)`` and class labels ``y``.

        Parameters
        ----------
        X : array_like of shape (m, n) or PackedCube
            Points of :math:`\{-1,1\}^n` (or of :math:`\{0,1\}^n` with
            ``input_encoding="01"``), or any finite reals (``domain``).
            Cube points may also come compact, as for
            :meth:`LowDegreeRegressor.fit`: ``int8`` +-1, a memory-mapped
            ``.npy`` (read in row chunks), a
            :class:`~sparselearn.parities.PackedCube`, or a row-chunked
            :class:`dask.array.Array` with a ``dask.distributed`` client
            current (an explicit ``degree=``; see :doc:`/learners`, "Large
            samples").
        y : array_like of shape (m,)
            Labels of at least two classes; with two, ``classes_[1]`` is
            encoded +1.

        Returns
        -------
        self : LowDegreeClassifier
        """
        if _distributed.is_dask_array(X):
            return self._fit_dask(X, y)
        check_labels(y, "y")
        packed = self._compact_input(X, reset=True)
        if packed is not None:
            return self._fit_pm1(packed, self._targets(y, packed.shape[0]))
        check_numeric_input(X, "X")  # labels y may be strings
        X, y = validate_data(self, X, y, dtype=np.float64)
        return self._fit_pm1(X, self._targets(y, X.shape[0]))

    def _targets(self, y, m):
        """Set ``classes_`` from the labels ``y`` (``m`` of them) and return
        the +-1 targets: ``(m,)`` for two classes, ``(m, n_classes)``
        one-vs-rest."""
        y = column_or_1d(y, warn=True)
        if y.shape[0] != m:
            raise ValueError(f"y has {y.shape[0]} labels, but X has {m} rows")
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        try:
            check_classification_targets(y)
            y_type = type_of_target(y, input_name="y", raise_unknown=True)
        except TypeError as exc:  # sorting the distinct labels (None among strings)
            raise TypeError(f"y must hold labels of one type (all numbers, or all "
                            f"strings): {exc}") from None
        if y_type not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} needs one label per sample (binary "
                             f"or multiclass); the type of the target is {y_type}.")
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes in y, got "
                             f"one class {self.classes_.tolist()}")
        if self.classes_.size == 2:
            return np.where(y == self.classes_[1], 1.0, -1.0)
        # One-vs-rest: a +-1 column per class, all solved on the one design.
        # Budgeted before it exists (a bool and a float64 entry each): an
        # integer target taken for labels has a class per few rows.
        K = self.classes_.size
        check_memory(9.0 * m * K, f"{type(self).__name__}: the one-vs-rest targets of "
                                  f"{K} classes ({m} x {K})", self.max_bytes)
        return np.ascontiguousarray(np.where(y[:, None] == self.classes_[None, :], 1.0, -1.0))

    def decision_function(self, X):
        """The fitted polynomials: with two classes one score, positive for
        ``classes_[1]``; with more, one score per class (one-vs-rest).

        Parameters
        ----------
        X : array_like of shape (m, n) or PackedCube
            Points, in the encoding of the training data (cube points also
            compact, as for :meth:`fit`); a row-chunked dask array of cube
            points gives a lazy dask array.

        Returns
        -------
        ndarray of float64, shape (m,) or (m, n_classes)
            A :class:`dask.array.Array` for a dask ``X``.
        """
        if _distributed.is_dask_array(X):
            return self._decision_dask(X)
        return self._decision(X)

    def predict(self, X):
        """``classes_[1]`` where the decision function is positive, else
        ``classes_[0]``; with more classes the one of largest score.

        Parameters
        ----------
        X : array_like of shape (m, n) or PackedCube
            Points, in the encoding of the training data (cube points also
            compact, as for :meth:`fit`); a row-chunked dask array of cube
            points gives a lazy dask array.

        Returns
        -------
        ndarray of shape (m,)
            Labels from ``classes_``; a :class:`dask.array.Array` for a
            dask ``X``.
        """
        if _distributed.is_dask_array(X):
            scores = self._decision_dask(X)
            return scores.map_blocks(_labels_of, self.classes_, dtype=self.classes_.dtype,
                                     **({"drop_axis": 1} if scores.ndim == 2 else {}))
        return _labels_of(self._decision(X), self.classes_)

    def save(self, path) -> str:
        """Write the fitted classifier as an uncompressed ``.npz`` archive; returns the path written.

        As :meth:`LowDegreeRegressor.save`, plus ``classes_``, which must be
        numbers, booleans or strings (object labels cannot be stored without
        pickle).  Read it back with :meth:`load`.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        str
            The path written.
        """
        check_is_fitted(self, "classes_")
        classes = np.asarray(self.classes_)
        if classes.dtype.kind not in _io.NUMERIC_KINDS + "U":
            raise TypeError(f"classes_ of dtype {classes.dtype} cannot be saved without "
                            "pickle; fit on numeric, boolean or string labels")
        return _save_model(self, path, _CLASSIFIER_FORMAT, classes=classes)

    @classmethod
    def load(cls, path, *, max_bytes=None) -> "LowDegreeClassifier":
        """Read a classifier written by :meth:`save` (``allow_pickle=False``).

        The same rules and errors as :meth:`LowDegreeRegressor.load`; the
        loaded classifier has the saved ``classes_`` and predicts exactly as
        the saved one did.

        Parameters
        ----------
        path : str or os.PathLike
            The saved classifier.
        max_bytes : float, optional
            Memory budget of the loaded model.

        Returns
        -------
        LowDegreeClassifier
        """
        model, arrays = _load_model(cls, path, _CLASSIFIER_FORMAT, max_bytes,
                                    extra_keys=("classes",), string_keys=("classes",))
        classes = arrays["classes"]
        n_rows = 2 if model.coef_.ndim == 1 else model.coef_.shape[0]
        if (classes.ndim != 1 or classes.shape[0] != n_rows or n_rows < 2
                or (model.coef_.ndim == 2 and n_rows == 2)
                or np.unique(classes).size != classes.size):
            raise _io.UnreadableFileError(
                f"{_io.npz_path(path)}: classes must hold distinct labels, two for one row "
                f"of coefficients or one per row, got shape {classes.shape} for "
                f"coefficients of shape {model.coef_.shape}")
        model.classes_ = classes
        return model
