r"""The low-degree algorithm as scikit-learn estimators.

Least squares over the parities :math:`\chi_S(x) = \prod_{i \in S} x_i`,
:math:`|S| \le d`, of points :math:`x \in \{-1,1\}^n` (THEORY.md section 3):
if the target's Fourier tail weight :math:`W^{>d}[f]` is at most
:math:`\varepsilon`, regression over these
:math:`D = \sum_{j \le d} \binom{n}{j}` features with
:math:`O(D \log(D/\delta)/\varepsilon)` uniform samples has excess squared
error :math:`O(\varepsilon)` with probability :math:`1 - \delta`.  Sparse
ReLU networks have small tail weight at low degree, which is why this learns
them (see :doc:`/learners`).

The ``m x D`` feature matrix :math:`P` is never stored.  Solvers only need
:math:`P c` and :math:`P^\top r`, computed chunk by chunk in one of two ways:

- **dense BLAS** (the default route): a degree-:math:`d` subset is
  :math:`S = \{i\} \cup T` with :math:`i = \min S`, so the top-degree part of
  :math:`P c` is :math:`\sum_i x_i\,(Q c^{(i)})` where :math:`Q` holds the
  degree-:math:`(d-1)` parities of a chunk of rows and :math:`c^{(i)}` the
  coefficients of the sets with minimum :math:`i`; stacking the columns
  :math:`c^{(i)}` turns it into one matrix product, and likewise
  :math:`P^\top r` into :math:`Q^\top (X \odot r)`.  Only the
  :math:`m \times \binom{n}{d-1}` lower-degree block is ever built, one
  chunk of rows at a time.
- **popcount**: each row packed into 64-bit words, each subset a bitmask,
  :math:`\chi_S(x) = (-1)^{\mathrm{popcount}(x \wedge S)}`, in the Cython
  kernels of :mod:`sparselearn._kernels._parity`.

Measured on the project's 2-core machine, the BLAS route is 7-14x faster per
CG iteration (``python benchmarks/compare_learners.py products``), so the
estimators use it for every degree ``>= 1``; the popcount kernels build the
Gram matrix of the ``"exact"`` solver and compute the degree-0 model, and
stay selectable through :class:`ParityDesign` for benchmarks.
"""
from __future__ import annotations

import functools
import json
import math
import numbers
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from ._kernels import _parity
from ._validation import (check_cube_points, check_float, check_int, check_memory,
                          check_random_state, check_vector, load_npz_archive)

__all__ = ["LowDegreeClassifier", "LowDegreeRegressor", "ParityDesign",
           "n_parity_features", "pack_rows", "parity_subsets"]

_SOLVERS = ("auto", "lmn", "cg", "exact")
_SAVE_FORMAT = "sparselearn.LowDegreeRegressor/1"
# Constructor parameters kept in a saved model (random_state may be a
# Generator, which has no portable form; it only affects fitting anyway).
_SAVED_PARAMS = ("degree", "max_degree", "solver", "alpha", "tol", "max_iter",
                 "input_encoding", "cv", "max_bytes", "n_jobs")
_ENCODINGS = ("pm1", "01")
# "auto" uses the normal equations only for tiny feature sets: measured on
# uniform +-1 samples, CG (9-40 iterations) beat forming and factoring
# P^T P already at D = 79 (3 ms against 23 ms at m = 2000, n = 12, d = 2).
_EXACT_MAX_FEATURES = 32
# Rows per chunk are chosen so the chunk's lower-degree parity block takes
# about this many bytes: large enough for BLAS efficiency, small enough to
# stay in cache and keep memory flat for any number of samples.
_CHUNK_BYTES = 2 * 2**20
_MIN_CHUNK_ROWS = 16
# Width of the column blocks of the top-degree product; narrower blocks skip
# more of the structurally zero coefficients (i >= min T), wider ones make
# better use of BLAS.
_BLOCK_WIDTH = 16


@functools.lru_cache(maxsize=None)
def _blas_controller() -> ThreadpoolController:
    """The process's thread-pool controller, inspected once (about 5 ms)."""
    return ThreadpoolController()


# --------------------------------------------------------------- subsets
def n_parity_features(n, degree) -> int:
    r"""Number of parities of degree at most ``degree`` on ``n`` bits.

    :math:`D = \sum_{j=0}^{d} \binom{n}{j}`.

    >>> n_parity_features(64, 3)
    43745
    """
    n = check_int(n, "n", minimum=1)
    degree = check_int(degree, "degree", minimum=0, maximum=n)
    return sum(math.comb(n, j) for j in range(degree + 1))


def _combinations(n: int, t: int) -> np.ndarray:
    """All ``t``-subsets of ``range(n)`` in lexicographic order, shape ``(C(n,t), t)``.

    Built from the ``(t-1)``-subsets: those with minimum ``> i`` are the last
    ``C(n-1-i, t-1)`` of them in lexicographic order, so the ``t``-subsets
    with minimum ``i`` are ``i`` followed by that suffix.
    """
    if t == 0:
        return np.zeros((1, 0), dtype=np.int64)
    lower = _combinations(n, t - 1)
    blocks = []
    for i in range(n):
        count = math.comb(n - 1 - i, t - 1)
        if count == 0:
            break
        suffix = lower[lower.shape[0] - count:]
        blocks.append(np.hstack([np.full((count, 1), i, dtype=np.int64), suffix]))
    if not blocks:
        return np.zeros((0, t), dtype=np.int64)
    return np.vstack(blocks)


def parity_subsets(n, degree) -> list[tuple[int, ...]]:
    """The subsets ``S`` with ``|S| <= degree``, in the order of ``coef_``.

    Ordered by size, then lexicographically: ``(), (0,), (1,), ..., (0, 1),
    (0, 2), ...``.
    """
    n = check_int(n, "n", minimum=1)
    degree = check_int(degree, "degree", minimum=0, maximum=n)
    return [tuple(row) for t in range(degree + 1) for row in _combinations(n, t).tolist()]


def _masks(combos: np.ndarray, n_words: int) -> np.ndarray:
    """Bitmasks ``(len(combos), n_words)`` uint64 of the subsets in ``combos``."""
    masks = np.zeros((combos.shape[0], n_words), dtype=np.uint64)
    rows = np.arange(combos.shape[0])
    for column in combos.T:
        np.bitwise_or.at(masks, (rows, column // 64),
                         np.left_shift(np.uint64(1), (column % 64).astype(np.uint64)))
    return masks


def pack_rows(X: np.ndarray) -> np.ndarray:
    """Pack a +-1 matrix ``(m, n)`` into ``(m, ceil(n/64))`` uint64 words.

    Bit ``j`` of a row is set exactly when ``x_j = -1`` (the cube index
    convention of CONTRIBUTING.md).
    """
    m, n = X.shape
    n_words = max(1, -(-n // 64))
    padded = np.zeros((m, 64 * n_words), dtype=bool)
    padded[:, :n] = X < 0
    packed = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


# ----------------------------------------------------------- the operator
class ParityDesign:
    r"""The parity feature matrix :math:`P` of a sample, as a linear operator.

    ``P[i, s] = chi_{S_s}(x_i)`` over the subsets of :func:`parity_subsets`
    ``(n, degree)``; nothing of size ``m x D`` is ever allocated.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Points of :math:`\{-1,1\}^n` (checked: every entry exactly
        :math:`\pm 1`).
    degree : int
        Largest subset size ``d``, ``0 <= d <= n``.
    products : {"blas", "popcount"}
        How :meth:`matvec` and :meth:`rmatvec` are computed (module
        docstring).  Both give the same numbers up to rounding.
    n_jobs : int
        Threads of the BLAS route; each takes a contiguous share of the
        rows.  The popcount kernels use OpenMP's default thread count.
    """

    def __init__(self, X: np.ndarray, degree: int, products: str = "blas",
                 n_jobs: int = 1):
        if products not in ("blas", "popcount"):
            raise ValueError(f"products must be 'blas' or 'popcount', got {products!r}")
        # The kernels run without bounds checks: validate here, since this
        # class is public (the estimators pass already-validated arrays).
        X = check_cube_points(X, "X")
        degree = check_int(degree, "degree", minimum=0, maximum=X.shape[1])
        n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.degree = degree
        self.products = products
        self.n_jobs = n_jobs
        n, d = self.n_features, degree
        self.n_words = max(1, -(-n // 64))
        self.xbits = pack_rows(X)
        self.level_sizes = [math.comb(n, t) for t in range(d + 1)]
        self.n_output_features = sum(self.level_sizes)
        # Parities below the top degree; the top level is never built.
        self.n_lower = self.n_output_features - self.level_sizes[-1]
        self.masks = np.vstack([_masks(_combinations(n, t), self.n_words)
                                for t in range(d + 1)])
        self._level_starts = np.cumsum([0] + self.level_sizes[:-1])[:d].astype(np.int64)
        self._level_counts = np.array(
            [[math.comb(n - 1 - i, t - 1) if t else 0 for i in range(n)]
             for t in range(max(d, 1))], dtype=np.int64)
        self._chunk_rows = int(max(_MIN_CHUNK_ROWS, min(self.n_samples,
                                           _CHUNK_BYTES // (8 * max(1, self.n_lower)))))
        self._blocks = self._top_blocks() if d >= 1 else []

    def _top_blocks(self):
        """Column blocks ``[a, b)`` of the top-degree product and their layout.

        For ``i = min S`` in ``[a, b)`` the set ``T = S - {i}`` lies in the
        suffix of the ``(d-1)``-subsets with minimum ``> a``, which starts at
        row ``start`` of the lower block of that degree; ``flat`` places the
        block's coefficients (contiguous in ``coef`` from ``first``) in the
        ``(rows, b - a)`` coefficient matrix, the rest of which is zero.
        """
        n, d = self.n_features, self.degree
        n_prev = self.level_sizes[d - 1]
        prev_offset = self.n_lower - n_prev  # column of the first (d-1)-subset
        first = self.n_lower
        blocks = []
        for a in range(0, n, _BLOCK_WIDTH):
            b = min(a + _BLOCK_WIDTH, n)
            rows = math.comb(n - 1 - a, d - 1)
            if rows == 0:
                break
            start = n_prev - rows
            flat = []
            for i in range(a, b):
                count = math.comb(n - 1 - i, d - 1)
                row0 = (n_prev - count) - start
                flat.append((row0 + np.arange(count)) * (b - a) + (i - a))
            flat = np.concatenate(flat)
            blocks.append((a, b, prev_offset + start, rows, first, first + flat.size, flat))
            first += flat.size
        return blocks

    # Memory ------------------------------------------------------------
    @staticmethod
    def estimate_bytes(n_samples: int, n_features: int, degree: int,
                       solver: str, n_jobs: int = 1) -> float:
        """Bytes a fit allocates beyond its input, from ``m``, ``n``, ``D``.

        Packed rows and masks, the working copy of ``X``, ``O(1)`` vectors of
        length ``m`` and ``D``, and per thread one chunk of lower-degree
        parities, the coefficient blocks and a length-``D`` accumulator;
        plus the ``D x D`` Gram matrix and its factor for ``"exact"``.
        """
        m, n = n_samples, n_features
        words = max(1, -(-n // 64))
        D = sum(math.comb(n, j) for j in range(degree + 1))
        n_lower = D - math.comb(n, degree)
        chunk = max(_MIN_CHUNK_ROWS, min(m, _CHUNK_BYTES // (8 * max(1, n_lower))))
        nbytes = 8.0 * m * (n + words + 6)
        nbytes += 8.0 * D * (words + 8)
        per_thread = chunk * (n_lower + 3 * _BLOCK_WIDTH + 2) + D
        per_thread += 2 * math.comb(n, max(degree - 1, 0)) * _BLOCK_WIDTH
        nbytes += 8.0 * max(1, n_jobs) * per_thread
        if solver == "exact":
            nbytes += 8.0 * (2 * D * D + chunk * D)
        return nbytes

    # Products ------------------------------------------------------------
    def _over_rows(self, work, size):
        """Sum ``work(start, stop, total)`` over row chunks, split across threads.

        Each of ``n_jobs`` threads takes a contiguous share of the rows and
        accumulates into its own length-``size`` array.  BLAS is held to one
        thread meanwhile: its thread pool on these chunk-sized products cost
        up to ten times the CPU time on a loaded 2-core machine, and nested
        under our threads it only competes with them.
        """
        m = self.n_samples
        jobs = max(1, min(self.n_jobs, m // self._chunk_rows))

        def share(bounds):
            lo, hi = bounds
            total = np.zeros(size)
            for start in range(lo, hi, self._chunk_rows):
                work(start, min(start + self._chunk_rows, hi), total)
            return total

        edges = np.linspace(0, m, jobs + 1).astype(int)
        with _blas_controller().limit(limits=1, user_api="blas"):
            if jobs == 1:
                return share((0, m))
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                return sum(pool.map(share, zip(edges[:-1], edges[1:])))

    def _lower_block(self, start, stop):
        """Parities of degree ``< d`` of rows ``start:stop``, by degree."""
        Q = np.empty((stop - start, self.n_lower), dtype=np.float64)
        _parity.parity_levels(self.X[start:stop], self._level_counts,
                              self._level_starts, Q)
        return Q

    def _predict_chunk(self, Q, Xc, coef, top):
        out = Q @ coef[:self.n_lower]
        for (a, b, col, rows, _, _, _), C in zip(self._blocks, top):
            out += np.einsum("ij,ij->i", Xc[:, a:b], Q[:, col:col + rows] @ C)
        return out

    def _correlate_chunk(self, Q, Xc, r, grad):
        grad[:self.n_lower] += r @ Q
        for a, b, col, rows, first, last, flat in self._blocks:
            G = Q[:, col:col + rows].T @ (Xc[:, a:b] * r[:, None])
            grad[first:last] += G.ravel()[flat]

    def _top_matrices(self, coef):
        """The dense ``(rows, b - a)`` coefficient matrix of every block."""
        top = []
        for a, b, _, rows, first, last, flat in self._blocks:
            C = np.zeros((rows, b - a))
            C.ravel()[flat] = coef[first:last]
            top.append(C)
        return top

    def _use_popcount(self):
        return self.products == "popcount" or self.degree == 0

    def matvec(self, coef: np.ndarray) -> np.ndarray:
        """Predictions :math:`P c`, shape ``(m,)``."""
        coef = check_vector(coef, "coef", length=self.n_output_features)
        if self._use_popcount():
            out = np.empty(self.n_samples)
            _parity.parity_matvec(self.xbits, self.masks, coef, out)
            return out
        top = self._top_matrices(coef)
        out = np.empty(self.n_samples)

        def work(start, stop, _):
            out[start:stop] = self._predict_chunk(self._lower_block(start, stop),
                                                  self.X[start:stop], coef, top)

        self._over_rows(work, 0)
        return out

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        """Correlations :math:`P^\\top r`, shape ``(D,)``."""
        r = check_vector(r, "r", length=self.n_samples)
        if self._use_popcount():
            grad = np.empty(self.n_output_features)
            _parity.parity_rmatvec(self.xbits, self.masks, r, grad)
            return grad

        def work(start, stop, grad):
            self._correlate_chunk(self._lower_block(start, stop), self.X[start:stop],
                                  r[start:stop], grad)

        return self._over_rows(work, self.n_output_features)

    def normal_matvec(self, coef: np.ndarray) -> np.ndarray:
        """:math:`P^\\top P c`, fusing both products so each chunk's parities
        are built once."""
        coef = check_vector(coef, "coef", length=self.n_output_features)
        if self._use_popcount():
            return self.rmatvec(self.matvec(coef))
        top = self._top_matrices(coef)

        def work(start, stop, grad):
            Q, Xc = self._lower_block(start, stop), self.X[start:stop]
            self._correlate_chunk(Q, Xc, self._predict_chunk(Q, Xc, coef, top), grad)

        return self._over_rows(work, self.n_output_features)

    def gram(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:math:`P^\\top P` (``D x D``) and :math:`P^\\top y`, from explicit row chunks."""
        y = check_vector(y, "y", length=self.n_samples)
        D = self.n_output_features
        rows = int(max(1, min(self.n_samples, _CHUNK_BYTES // (8 * D))))
        G = np.zeros((D, D))
        b = np.zeros(D)
        for start in range(0, self.n_samples, rows):
            stop = min(start + rows, self.n_samples)
            P = np.empty((stop - start, D))
            _parity.parity_features(self.xbits[start:stop], self.masks, P)
            G += P.T @ P
            b += P.T @ y[start:stop]
        return G, b


# ---------------------------------------------------------------- solvers
def _solve_cg(design: ParityDesign, y, alpha, tol, max_iter):
    r"""Conjugate gradient on :math:`(P^\top P + \alpha I) c = P^\top y`.

    Started at 0, every iterate lies in the row space of :math:`P`, so for
    ``alpha = 0`` the limit is the minimum-norm least-squares solution, the
    one :func:`numpy.linalg.lstsq` returns.  Both sides are divided by
    ``m`` so that under the uniform distribution the matrix is close to the
    identity.  Stops when :math:`\|r_k\| \le \mathrm{tol}\,\|P^\top y\|`.
    Returns ``(coef, n_iter, converged)``.
    """
    m = design.n_samples
    b = design.rmatvec(y) / m
    coef = np.zeros_like(b)
    threshold = tol * np.linalg.norm(b)
    residual = b.copy()
    rs = residual @ residual
    if math.sqrt(rs) <= threshold:
        return coef, 0, True
    direction = residual.copy()
    for iteration in range(1, max_iter + 1):
        Ad = design.normal_matvec(direction) / m + (alpha / m) * direction
        step = rs / (direction @ Ad)
        coef += step * direction
        residual -= step * Ad
        rs_new = residual @ residual
        if math.sqrt(rs_new) <= threshold:
            return coef, iteration, True
        direction *= rs_new / rs
        direction += residual
        rs = rs_new
    return coef, max_iter, False


def _solve_exact(design: ParityDesign, y, alpha):
    """Normal equations by Cholesky; minimum-norm least squares if singular."""
    G, b = design.gram(y)
    G[np.diag_indices_from(G)] += alpha
    try:
        factor = scipy.linalg.cho_factor(G, check_finite=False)
        # Rounding can let a singular G through with a tiny pivot; treat a
        # pivot at rounding level as a zero one.
        pivots = np.abs(np.diag(factor[0])) ** 2
        if pivots.min() > G.shape[0] * np.finfo(float).eps * np.diag(G).max():
            return scipy.linalg.cho_solve(factor, b, check_finite=False)
    except np.linalg.LinAlgError:
        pass
    # Fewer independent samples than features: the minimum-norm solution,
    # as lstsq gives (range(P^T P) = range(P^T)).
    return scipy.linalg.lstsq(G, b, check_finite=False, cond=None)[0]


# ------------------------------------------------------------- estimators
class _LowDegreeModel(BaseEstimator):
    """Shared fitting machinery of the regressor and the classifier."""

    def __init__(self, degree=None, *, max_degree=4, solver="auto", alpha=0.0,
                 tol=1e-6, max_iter=1000, input_encoding="pm1", cv=5,
                 max_bytes=None, n_jobs=None, random_state=None):
        self.degree = degree
        self.max_degree = max_degree
        self.solver = solver
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.input_encoding = input_encoding
        self.cv = cv
        self.max_bytes = max_bytes
        self.n_jobs = n_jobs
        self.random_state = random_state

    # Validation ------------------------------------------------------------
    def _check_params(self, n_features):
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {_SOLVERS}, got {self.solver!r}")
        if self.input_encoding not in _ENCODINGS:
            raise ValueError(f"input_encoding must be 'pm1' (entries +-1) or '01' "
                             f"(entries 0/1, mapped to x = 1 - 2 * X), got "
                             f"{self.input_encoding!r}")
        check_float(self.alpha, "alpha", minimum=0.0)
        check_float(self.tol, "tol", minimum=0.0, strict_minimum=True)
        check_int(self.max_iter, "max_iter", minimum=1)
        if self.max_bytes is not None:
            check_float(self.max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
        check_random_state(self.random_state)
        if self.n_jobs is not None and self.n_jobs != -1:
            check_int(self.n_jobs, "n_jobs", minimum=1)
        max_degree = check_int(self.max_degree, "max_degree", minimum=0)
        cv = self.cv
        if isinstance(cv, numbers.Integral) and not isinstance(cv, (bool, np.bool_)):
            check_int(cv, "cv", minimum=2)
        elif isinstance(cv, numbers.Real) and not isinstance(cv, (bool, np.bool_)):
            if not 0.0 < float(cv) < 1.0:
                raise ValueError("cv must be an int >= 2 (K-fold) or a float in (0, 1) "
                                 f"(held-out fraction), got {cv!r}")
        else:
            raise TypeError("cv must be an int >= 2 (K-fold) or a float in (0, 1) "
                            f"(held-out fraction), got {type(cv).__name__} {cv!r}")
        if self.degree is not None:
            degree = check_int(self.degree, "degree", minimum=0)
            if degree > n_features:
                raise ValueError(f"degree={degree} exceeds n_features={n_features}: a "
                                 f"parity on {n_features} bits has degree at most "
                                 f"{n_features}")
            return [degree]
        # Parities of degree > n do not exist; larger max_degree adds nothing.
        return list(range(min(max_degree, n_features) + 1))

    def _encode(self, X):
        """Map validated float input to +-1, refusing anything else."""
        if self.input_encoding == "01":
            if not np.all((X == 0.0) | (X == 1.0)):
                raise ValueError("X must have entries exactly 0 or 1 with "
                                 "input_encoding='01'")
            return np.ascontiguousarray(1.0 - 2.0 * X)
        if not np.all(np.abs(X) == 1.0):
            raise ValueError("X must be a point set of the cube {-1, 1}^n: every entry "
                             "must be exactly +1 or -1; pass input_encoding='01' for "
                             "0/1 data")
        return np.ascontiguousarray(X, dtype=np.float64)

    def _threads(self):
        if self.n_jobs is None or self.n_jobs == -1:
            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
                else (os.cpu_count() or 1)
        return int(self.n_jobs)

    def _resolve_solver(self, D):
        if self.solver != "auto":
            return self.solver
        return "exact" if D <= _EXACT_MAX_FEATURES else "cg"

    # Fitting ---------------------------------------------------------------
    def _fit_once(self, X, y, degree):
        """Fit one degree; returns ``(coef, n_iter)``."""
        design = ParityDesign(X, degree, n_jobs=self._threads())
        solver = self._resolve_solver(design.n_output_features)
        # A direct solver counts as one iteration (scikit-learn's n_iter_ >= 1).
        if solver == "lmn":
            return design.rmatvec(y) / design.n_samples, 1
        if solver == "exact":
            return _solve_exact(design, y, float(self.alpha)), 1
        coef, n_iter, converged = _solve_cg(design, y, float(self.alpha),
                                            float(self.tol), int(self.max_iter))
        if not converged:
            warnings.warn(f"conjugate gradient did not reach tol={self.tol} in "
                          f"max_iter={self.max_iter} iterations at degree {degree}; "
                          "raise max_iter, add a ridge alpha, or use more samples",
                          ConvergenceWarning, stacklevel=3)
        return coef, n_iter

    def _fit_pm1(self, X, y):
        """Fit on validated float ``X`` and float targets ``y``."""
        m, n = X.shape
        degrees = self._check_params(n)
        solver = self._resolve_solver(n_parity_features(n, degrees[-1]))
        nbytes = ParityDesign.estimate_bytes(m, n, degrees[-1], solver, self._threads())
        if len(degrees) > 1:
            nbytes += 8.0 * m * n  # training and validation copies of X
        check_memory(nbytes,
                     f"{type(self).__name__} fit (m={m}, n={n}, degree={degrees[-1]}, "
                     f"D={n_parity_features(n, degrees[-1])}, solver={solver!r})",
                     self.max_bytes)
        X = self._encode(X)
        rng = check_random_state(self.random_state)
        if len(degrees) == 1:
            self.degree_ = degrees[0]
            self.cv_results_ = None
        else:
            self.degree_, self.cv_results_ = self._select_degree(X, y, degrees, rng)
        self.coef_, self.n_iter_ = self._fit_once(X, y, self.degree_)
        self.subsets_ = parity_subsets(n, self.degree_)
        self.fourier_coefficients_ = dict(zip(self.subsets_, self.coef_.tolist()))
        return self

    def _select_degree(self, X, y, degrees, rng):
        """Validation mean squared error of every degree; the argmin wins.

        Degrees with more features than a training split has samples are
        skipped (NaN in ``cv_results_``); degree 0 always qualifies.
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
            X_train, X_val = X[train], X[held_out]
            for k, degree in enumerate(degrees):
                # More features than training samples: least squares is
                # underdetermined and its validation error meaningless.
                if n_parity_features(n, degree) > train.size:
                    continue
                coef, _ = self._fit_once(X_train, y[train], degree)
                prediction = ParityDesign(X_val, degree, n_jobs=self._threads()).matvec(coef)
                errors[k, f] = np.mean((prediction - y[held_out]) ** 2)
        mean = errors.mean(axis=1)  # NaN for the skipped degrees
        results = {
            "degree": np.array(degrees),
            "n_features": np.array([n_parity_features(X.shape[1], d) for d in degrees]),
            "mean_test_mse": mean,
            "std_test_mse": errors.std(axis=1),
            "split_test_mse": errors,
        }
        return int(degrees[int(np.nanargmin(mean))]), results

    def _decision(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        X = self._encode(X)
        return ParityDesign(X, self.degree_, n_jobs=self._threads()).matvec(self.coef_)


_PARAMETERS_DOC = r"""
    degree : int or None, default=None
        Largest subset size ``d``; at most ``n_features``.  ``None`` selects
        it from ``0 .. min(max_degree, n_features)`` by validation
        (``cv``) and refits on all the data; degrees with more features
        than a training split has samples are not tried.
    max_degree : int, default=4
        Largest degree tried when ``degree=None``.
    solver : {"auto", "lmn", "cg", "exact"}, default="auto"
        ``"lmn"``: the Linial-Mansour-Nisan estimates
        :math:`\hat f(S) \approx \frac1m\sum_i y_i\chi_S(x_i)` (one pass, not
        least squares).  ``"cg"``: conjugate gradient on the normal
        equations, matrix-free.  ``"exact"``: the ``D x D`` normal equations,
        Cholesky (minimum-norm least squares when singular).  ``"auto"``:
        ``"exact"`` up to 32 features, ``"cg"`` beyond (CG converges in a
        few dozen iterations under the uniform distribution).
    alpha : float, default=0.0
        Ridge penalty: minimise :math:`\|y - Pc\|^2 + \alpha\|c\|^2`
        (scikit-learn's ``Ridge`` convention; the constant feature is
        penalised too).  Ignored by ``"lmn"``.
    tol : float, default=1e-6
        CG stops when the normal-equation residual is at most ``tol`` times
        :math:`\|P^\top y\|`.
    max_iter : int, default=1000
        Largest number of CG iterations (a ``ConvergenceWarning`` if reached).
    input_encoding : {"pm1", "01"}, default="pm1"
        ``"pm1"``: ``X`` must hold exactly :math:`\pm1`.  ``"01"``: ``X``
        holds 0/1 and is mapped to :math:`x = 1 - 2X` (bit 1 is -1, the cube
        index convention).
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
    random_state : None, int or numpy.random.Generator
        Shuffles the validation folds."""

_ATTRIBUTES_DOC = r"""
    coef_ : ndarray of shape (D,)
        Coefficients of the parities, in the order of ``subsets_``.
    subsets_ : list of tuple of int
        The subsets ``S`` (sorted coordinates), by size then lexicographic.
    fourier_coefficients_ : dict
        ``{S: coefficient}``, the learned degree-``d`` Fourier expansion.
    degree_ : int
        The degree used (given or selected).
    cv_results_ : dict or None
        With ``degree=None``: ``degree``, ``n_features`` (``D``),
        ``mean_test_mse``, ``std_test_mse`` and ``split_test_mse``
        (degree x fold; NaN for degrees not tried); ``None`` when the
        degree was given.
    n_iter_ : int
        CG iterations of the final fit (1 for the one-pass solvers
        ``"lmn"`` and ``"exact"``).
    n_features_in_ : int
        Input dimension ``n``."""


class LowDegreeRegressor(RegressorMixin, _LowDegreeModel):
    __doc__ = r"""Least-squares regression on the parities of degree at most ``d``.

    The low-degree algorithm of THEORY.md section 3: the model is
    :math:`\hat f(x) = \sum_{|S| \le d} c_S \chi_S(x)` on :math:`x \in \{-1,1\}^n`,
    fitted by ordinary (or ridge) least squares without ever storing the
    ``m x D`` feature matrix.

    Parameters
    ----------""" + _PARAMETERS_DOC + r"""

    Attributes
    ----------""" + _ATTRIBUTES_DOC + r"""

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.learners import LowDegreeRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.choice([-1.0, 1.0], size=(500, 6))
    >>> y = 2.0 * X[:, 0] * X[:, 3] - X[:, 5] + 0.5
    >>> model = LowDegreeRegressor(degree=2).fit(X, y)
    >>> {S: round(c, 6) for S, c in model.fourier_coefficients_.items() if abs(c) > 1e-6}
    {(): 0.5, (5,): -1.0, (0, 3): 2.0}
    """

    def fit(self, X, y):
        """Fit on points ``X`` of shape ``(m, n)`` and real targets ``y`` of shape ``(m,)``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        return self._fit_pm1(X, np.ascontiguousarray(y, dtype=np.float64))

    def predict(self, X):
        """The fitted polynomial :math:`\\sum_S c_S \\chi_S(x)` on each row of ``X``."""
        return self._decision(X)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` as an uncompressed ``.npz`` archive.

        The archive holds the coefficients, the degree, the input dimension
        and the constructor parameters (except ``random_state``); the subsets
        are implied by ``(n, degree_)``.  Read it back with :meth:`load`.
        """
        check_is_fitted(self, "coef_")
        params = {name: self.get_params()[name] for name in _SAVED_PARAMS}
        np.savez(path, format=np.array(_SAVE_FORMAT), params=np.array(json.dumps(params)),
                 coef=self.coef_, degree=np.array(self.degree_),
                 n_features=np.array(self.n_features_in_), n_iter=np.array(self.n_iter_))

    @classmethod
    def load(cls, path) -> "LowDegreeRegressor":
        """Read a model written by :meth:`save` (``allow_pickle=False``).

        Raises
        ------
        ValueError
            If the file is missing, not such an archive, carries pickled
            objects, or its coefficients do not match its degree and ``n``.
        """
        arrays = load_npz_archive(path, _SAVE_FORMAT,
                                  {"params", "coef", "degree", "n_features", "n_iter"})
        shown = repr(os.fspath(path))
        try:
            params = json.loads(str(arrays["params"]))
            n = check_int(arrays["n_features"].item(), "n_features", minimum=1)
            degree = check_int(arrays["degree"].item(), "degree", minimum=0, maximum=n)
            n_iter = check_int(arrays["n_iter"].item(), "n_iter", minimum=0)
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise ValueError(f"path {shown} holds a malformed model: {exc}") from None
        if not isinstance(params, dict) or set(params) != set(_SAVED_PARAMS):
            raise ValueError(f"path {shown} holds malformed parameters {params!r}")
        coef = check_vector(arrays["coef"], "coef")
        expected = n_parity_features(n, degree)
        if coef.shape[0] != expected:
            raise ValueError(f"path {shown}: {coef.shape[0]} coefficients, but degree "
                             f"{degree} on n={n} has {expected} parities")
        model = cls(**params)
        model._check_params(n)
        model.n_features_in_ = n
        model.degree_ = degree
        model.coef_ = coef
        model.n_iter_ = n_iter
        model.cv_results_ = None
        model.subsets_ = parity_subsets(n, degree)
        model.fourier_coefficients_ = dict(zip(model.subsets_, coef.tolist()))
        return model


class LowDegreeClassifier(ClassifierMixin, _LowDegreeModel):
    __doc__ = r"""Binary classification by low-degree L2 regression on :math:`\pm1` labels.

    The two classes are coded :math:`-1` (``classes_[0]``) and :math:`+1`
    (``classes_[1]``), the polynomial is fitted by least squares exactly as
    :class:`LowDegreeRegressor` does, and the prediction is the sign of the
    fit (a score of exactly 0 goes to ``classes_[0]``, as in scikit-learn's
    linear classifiers).  This is the L2-regression route to agnostic
    learning of Boolean labels (THEORY.md section 3).

    Parameters
    ----------""" + _PARAMETERS_DOC + r"""

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The class labels; ``classes_[1]`` is coded +1.""" + _ATTRIBUTES_DOC + r"""

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.learners import LowDegreeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.choice([-1.0, 1.0], size=(400, 5))
    >>> y = np.where(X[:, 0] + X[:, 1] + X[:, 2] > 0, 1, -1)  # majority of 3
    >>> model = LowDegreeClassifier(degree=3).fit(X, y)
    >>> model.score(X, y)
    1.0
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit on points ``X`` of shape ``(m, n)`` and two-class labels ``y``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError("Only binary classification is supported. The type of "
                             f"the target is {y_type}.")
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise ValueError(f"{type(self).__name__} needs two classes in y, got one "
                             f"class {self.classes_.tolist()}")
        return self._fit_pm1(X, np.where(y == self.classes_[1], 1.0, -1.0))

    def decision_function(self, X):
        """The fitted polynomial; positive values predict ``classes_[1]``."""
        return self._decision(X)

    def predict(self, X):
        """``classes_[1]`` where the decision function is positive, else ``classes_[0]``."""
        positive = self._decision(X) > 0
        return self.classes_[positive.astype(np.int64)]
