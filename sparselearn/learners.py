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
explicit feature rows that the ``"exact"`` solver factors (QR, then SVD:
the minimum-norm least-squares solution) and compute the degree-0 model,
and stay selectable through :class:`ParityDesign` for benchmarks.
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
import scipy.sparse.linalg
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from ._kernels import _parity
from . import io as _io
from ._validation import (check_cube_points, check_float, check_int, check_memory,
                          check_numeric_input, check_open_unit, check_random_state,
                          check_vector)

__all__ = ["LowDegreeClassifier", "LowDegreeRegressor", "ParityDesign",
           "n_parity_features", "pack_rows", "parity_subsets"]

_SOLVERS = ("auto", "lmn", "cg", "exact")
_SAVE_FORMAT = "sparselearn.LowDegreeRegressor/1"
_CLASSIFIER_FORMAT = "sparselearn.LowDegreeClassifier/1"
# Constructor parameters kept in a saved model (random_state may be a
# Generator, which has no portable form; it only affects fitting anyway).
_SAVED_PARAMS = ("degree", "max_degree", "solver", "alpha", "tol", "max_iter",
                 "input_encoding", "cv", "max_bytes", "n_jobs")
_ENCODINGS = ("pm1", "01")
# "auto" uses the exact solver (QR of the explicit feature rows) only for
# tiny feature sets: measured on uniform +-1 samples with one OpenMP thread,
# it beat CG at D = 29 and 32 (1.6-1.9 ms against 2.1-8 ms at m = 2000) and
# lost at D = 79 (9.9 ms against 7.6 ms at m = 2000, n = 12, d = 2) and
# beyond (0.19 s against 0.065 s at D = 176, m = 20,000).
_EXACT_MAX_FEATURES = 32
# Degree selection treats validation scores within 100 * tol (relative, in
# root-mean-square units) of the best as tied and keeps the smallest degree
# (_LowDegreeModel._select_degree): a factor 100 covers CG's relative error
# kappa * tol on two fits with condition numbers up to 50.
_TIE_FACTOR = 100.0
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

    Parameters
    ----------
    n : int
        Number of bits, ``>= 1``.
    degree : int
        Largest subset size ``d``, ``0 <= d <= n``.

    Returns
    -------
    int

    Examples
    --------
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


def _subsets_bytes(n: int, degree: int) -> float:
    """Peak bytes of :func:`parity_subsets`: per ``t``-subset a list slot, a
    tuple and ``t`` int objects, plus the int64 rows and the transient list
    of lists it is built from (measured peak: 190 bytes per 2-subset)."""
    return sum(math.comb(n, t) * (112.0 + 64.0 * t) for t in range(degree + 1))


def parity_subsets(n, degree, *, max_bytes=None) -> list[tuple[int, ...]]:
    """The subsets ``S`` with ``|S| <= degree``, in the order of ``coef_``.

    Ordered by size, then lexicographically: ``(), (0,), (1,), ..., (0, 1),
    (0, 2), ...``.  A list of ``D`` Python tuples takes about
    ``110 + 64 d`` bytes per subset at its peak; it is checked against ``max_bytes``
    (default 4 GiB) before anything is built, with a
    :class:`~sparselearn.MemoryBudgetError` giving the figure.

    Parameters
    ----------
    n : int
        Number of bits, ``>= 1``.
    degree : int
        Largest subset size, ``0 <= degree <= n``.
    max_bytes : float, optional
        Memory budget of the list.

    Returns
    -------
    list of tuple of int
    """
    n = check_int(n, "n", minimum=1)
    degree = check_int(degree, "degree", minimum=0, maximum=n)
    if max_bytes is not None:
        max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
    check_memory(_subsets_bytes(n, degree),
                 f"parity_subsets(n={n}, degree={degree}): a list of "
                 f"{n_parity_features(n, degree)} tuples", max_bytes)
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

    Parameters
    ----------
    X : ndarray of float64, shape (m, n)
        Entries exactly +1 or -1.

    Returns
    -------
    ndarray of uint64, shape (m, ceil(n / 64))
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
    max_bytes : float, optional
        Memory budget of the design: its packed rows, subset masks and
        product buffers (checked before anything is allocated, a
        :class:`~sparselearn.MemoryBudgetError` gives the figure), and the
        default budget of :meth:`gram`.  ``None``: the library default
        (4 GiB).

    Notes
    -----
    The kernels behind the products run without bounds checks, so the
    design owns private, read-only copies of its arrays and takes every
    shape from its own record: editing the caller's ``X`` afterwards
    changes nothing, and :attr:`X`, :attr:`xbits` and :attr:`masks` are
    fresh read-only views (reshaping one leaves the design untouched).
    """

    def __init__(self, X: np.ndarray, degree: int, products: str = "blas",
                 n_jobs: int = 1, max_bytes: float | None = None):
        if products not in ("blas", "popcount"):
            raise ValueError(f"products must be 'blas' or 'popcount', got {products!r}")
        # The kernels run without bounds checks: validate here, since this
        # class is public.  The estimators, whose arrays are validated once at
        # fit/predict, build designs through _from_checked instead.
        X = check_cube_points(X, "X")
        degree = check_int(degree, "degree", minimum=0, maximum=X.shape[1])
        n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
        if max_bytes is not None:
            max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
        self._build(X, degree, products, n_jobs, max_bytes)

    @classmethod
    def _from_checked(cls, X, degree, n_jobs=1, max_bytes=None, products="blas"):
        """A design on arguments already validated as :meth:`__init__` does
        (``X`` finite float64 with entries +-1, ``0 <= degree <= n``,
        ``n_jobs >= 1``): the trusted path below the public boundary."""
        design = cls.__new__(cls)
        design._build(X, degree, products, n_jobs, max_bytes)
        return design

    def _build(self, X, degree, products, n_jobs, max_bytes):
        m, n = X.shape
        d = degree
        words = max(1, -(-n // 64))
        level_sizes = tuple(math.comb(n, t) for t in range(d + 1))
        D = sum(level_sizes)
        check_memory(self._construction_bytes(m, n, d, n_jobs),
                     f"ParityDesign(m={m}, n={n}, degree={d}) with D={D} parities",
                     max_bytes)
        # Private copies, read-only: a caller who keeps X (or flips its
        # writeable flag back) cannot change what the kernels read.
        X = np.array(X, dtype=np.float64, order="C", copy=True)
        xbits = pack_rows(X)
        masks = np.vstack([_masks(_combinations(n, t), words) for t in range(d + 1)])
        for array in (X, xbits, masks):
            array.flags.writeable = False
        self._X, self._xbits, self._masks = X, xbits, masks
        self._n_samples, self._n_features, self._degree = m, n, d
        self._products, self._n_jobs, self._max_bytes = products, n_jobs, max_bytes
        self._n_words = words
        self._level_sizes = level_sizes
        self._n_output_features = D
        # Parities below the top degree; the top level is never built.
        self._n_lower = D - level_sizes[-1]
        self._level_starts = np.cumsum([0] + list(level_sizes[:-1]))[:d].astype(np.int64)
        self._level_counts = np.array(
            [[math.comb(n - 1 - i, t - 1) if t else 0 for i in range(n)]
             for t in range(max(d, 1))], dtype=np.int64)
        self._chunk_rows = int(max(_MIN_CHUNK_ROWS, min(self.n_samples,
                                           _CHUNK_BYTES // (8 * max(1, self.n_lower)))))
        self._blocks = self._top_blocks() if d >= 1 else []

    # The record: read-only, so the shapes the kernels are given cannot drift
    # from the arrays they read.
    n_samples = property(lambda self: self._n_samples, doc="Number of points ``m``.")
    n_features = property(lambda self: self._n_features, doc="Input dimension ``n``.")
    degree = property(lambda self: self._degree, doc="Largest subset size ``d``.")
    products = property(lambda self: self._products, doc='``"blas"`` or ``"popcount"``.')
    n_jobs = property(lambda self: self._n_jobs, doc="Threads of the BLAS route.")
    max_bytes = property(lambda self: self._max_bytes,
                         doc="Memory budget (``None``: the library default).")
    n_words = property(lambda self: self._n_words,
                       doc="64-bit words per packed row, ``ceil(n / 64)``.")
    level_sizes = property(lambda self: list(self._level_sizes),
                           doc="``[C(n, 0), ..., C(n, d)]`` (a fresh list).")
    n_output_features = property(lambda self: self._n_output_features,
                                 doc="Number of parities ``D``.")
    n_lower = property(lambda self: self._n_lower,
                       doc="Number of parities of degree ``< d``.")

    @staticmethod
    def _readonly_view(array: np.ndarray) -> np.ndarray:
        view = array.view()
        view.flags.writeable = False
        return view

    @property
    def X(self) -> np.ndarray:
        """The design's copy of the points, shape ``(m, n)`` (a fresh read-only view)."""
        return self._readonly_view(self._X)

    @property
    def xbits(self) -> np.ndarray:
        """Packed rows, uint64 ``(m, n_words)`` (a fresh read-only view)."""
        return self._readonly_view(self._xbits)

    @property
    def masks(self) -> np.ndarray:
        """Subset bitmasks, uint64 ``(D, n_words)`` (a fresh read-only view)."""
        return self._readonly_view(self._masks)

    def _check_record(self) -> None:
        """Refuse to run a kernel if an array no longer matches the record."""
        m, n, w = self._n_samples, self._n_features, self._n_words
        if (self._X.shape != (m, n) or self._xbits.shape != (m, w)
                or self._masks.shape != (self._n_output_features, w)):
            raise RuntimeError("ParityDesign's private arrays were modified; build a "
                               "new ParityDesign")

    @classmethod
    def _construction_bytes(cls, m: int, n: int, degree: int, n_jobs: int) -> float:
        """Bytes of a design and of its products, from ``m``, ``n``, ``d``.

        :meth:`estimate_bytes` for the products, plus what construction
        holds at its peak: the bool padding of :func:`pack_rows` and, at the
        top degree, its subsets (and their stacking copy), the mask scatter
        indices, the stacking copy of the masks and the block layout.
        """
        words = max(1, -(-n // 64))
        D = sum(math.comb(n, t) for t in range(degree + 1))
        top = math.comb(n, degree)
        nbytes = cls.estimate_bytes(m, n, degree, "cg", n_jobs)
        nbytes += 64.0 * m * words + 8.0 * D * words
        nbytes += 8.0 * top * (2 * degree + 5)
        return nbytes

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
        plus, for ``"exact"``, its QR block (``D + 1`` columns) and the
        copy of the ``D x D`` triangular factor that the SVD overwrites.

        Parameters
        ----------
        n_samples : int
            Number of points ``m``.
        n_features : int
            Input dimension ``n``.
        degree : int
            Largest subset size ``d``.
        solver : {"lmn", "cg", "exact"}
            The solver the fit uses.
        n_jobs : int, default=1
            Threads, each with its own chunk buffers.

        Returns
        -------
        float
            Estimated bytes.
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
        _parity.parity_levels(self._X[start:stop], self._level_counts,
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
        """Predictions :math:`P c`.

        Parameters
        ----------
        coef : array_like of shape (D,)
            One coefficient per parity, in the order of :func:`parity_subsets`.

        Returns
        -------
        ndarray of shape (m,)
        """
        return self._matvec(check_vector(coef, "coef", length=self.n_output_features))

    # The public products validate their vector and call these, which trust
    # it (finite float64, C-contiguous, the right length): the solvers call
    # them directly, so no check runs inside an iteration.
    def _matvec(self, coef: np.ndarray) -> np.ndarray:
        self._check_record()
        if self._use_popcount():
            out = np.empty(self.n_samples)
            _parity.parity_matvec(self._xbits, self._masks, coef, out)
            return out
        top = self._top_matrices(coef)
        out = np.empty(self.n_samples)

        def work(start, stop, _):
            out[start:stop] = self._predict_chunk(self._lower_block(start, stop),
                                                  self._X[start:stop], coef, top)

        self._over_rows(work, 0)
        return out

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        """Correlations :math:`P^\\top r`.

        Parameters
        ----------
        r : array_like of shape (m,)
            One value per point.

        Returns
        -------
        ndarray of shape (D,)
        """
        return self._rmatvec(check_vector(r, "r", length=self.n_samples))

    def _rmatvec(self, r: np.ndarray) -> np.ndarray:
        self._check_record()
        if self._use_popcount():
            grad = np.empty(self.n_output_features)
            _parity.parity_rmatvec(self._xbits, self._masks, r, grad)
            return grad

        def work(start, stop, grad):
            self._correlate_chunk(self._lower_block(start, stop), self._X[start:stop],
                                  r[start:stop], grad)

        return self._over_rows(work, self.n_output_features)

    def normal_matvec(self, coef: np.ndarray) -> np.ndarray:
        """:math:`P^\\top P c`, fusing both products so each chunk's parities
        are built once.

        Parameters
        ----------
        coef : array_like of shape (D,)
            One coefficient per parity.

        Returns
        -------
        ndarray of shape (D,)
        """
        return self._normal_matvec(check_vector(coef, "coef", length=self.n_output_features))

    def _normal_matvec(self, coef: np.ndarray) -> np.ndarray:
        self._check_record()
        if self._use_popcount():
            return self._rmatvec(self._matvec(coef))
        top = self._top_matrices(coef)

        def work(start, stop, grad):
            Q, Xc = self._lower_block(start, stop), self._X[start:stop]
            self._correlate_chunk(Q, Xc, self._predict_chunk(Q, Xc, coef, top), grad)

        return self._over_rows(work, self.n_output_features)

    def gram(self, y: np.ndarray, *, max_bytes: float | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """:math:`P^\\top P` (``D x D``) and :math:`P^\\top y`, from explicit row chunks.

        Needs about ``8 D^2`` bytes, checked against ``max_bytes`` (default:
        the design's :attr:`max_bytes`) before anything is allocated.

        Parameters
        ----------
        y : array_like of shape (m,)
            Targets.
        max_bytes : float, optional
            Memory budget of the ``D x D`` matrix.

        Returns
        -------
        G : ndarray of shape (D, D)
            :math:`P^\\top P`.
        b : ndarray of shape (D,)
            :math:`P^\\top y`.
        """
        y = check_vector(y, "y", length=self.n_samples)
        if max_bytes is None:
            max_bytes = self._max_bytes
        else:
            max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
        D = self.n_output_features
        rows = int(max(1, min(self.n_samples, _CHUNK_BYTES // (8 * D))))
        check_memory(8.0 * D * (D + rows + 1),
                     f"the Gram matrix P^T P of {D} parities ({D} x {D} float64)",
                     max_bytes)
        self._check_record()
        G = np.zeros((D, D))
        b = np.zeros(D)
        for start in range(0, self.n_samples, rows):
            stop = min(start + rows, self.n_samples)
            P = np.empty((stop - start, D))
            _parity.parity_features(self._xbits[start:stop], self._masks, P)
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
    identity.  Stops when :math:`\|r_k\| < \mathrm{tol}\,\|P^\top y\|`
    (:func:`scipy.sparse.linalg.cg` on a
    :class:`~scipy.sparse.linalg.LinearOperator` of the fused product).
    Returns ``(coef, n_iter, converged)``.

    Accuracy.  With :math:`A = P^\top P + \alpha I`, :math:`c^*` the
    (minimum-norm) solution and :math:`\kappa = \lambda_{\max}(A) /
    \lambda_{\min}^{+}(A)` (smallest nonzero eigenvalue), the error
    :math:`c_k - c^*` lies in the range of :math:`A`, so
    :math:`\|c_k - c^*\| \le \|r_k\| / \lambda_{\min}^{+}` and
    :math:`\|P^\top y\| = \|A c^*\| \le \lambda_{\max}\|c^*\|` give

    .. math::

       \frac{\|c_k - c^*\|_2}{\|c^*\|_2} \le \kappa\,\mathrm{tol}

    (in exact arithmetic; rounding adds :math:`O(\kappa\,\varepsilon_{\mathrm{mach}})`).
    By Parseval the left side is also the relative root-mean-square
    difference of the two fitted polynomials over the whole cube.  Under
    uniform samples :math:`\kappa \approx ((1 + \sqrt{D/m}) / (1 -
    \sqrt{D/m}))^2` for :math:`\alpha = 0`: 9 at :math:`m = 4D`, 34 at
    :math:`m = 2D`.  Measured against an exact solve (``n <= 12``,
    ``d <= 3``, five seeds each), the ratio of the relative error to
    ``tol`` was at most 6 for :math:`m \ge 2D` and at most 44 at
    :math:`m = 1.2D` to :math:`1.3D`, for every ``tol`` from ``1e-6`` to
    ``1e-10``.
    """
    m = design.n_samples
    D = design.n_output_features
    b = design._rmatvec(y) / m
    # scipy's CG on a LinearOperator over the fused product replaced a
    # hand-written loop (issue 11) at no cost: timed against it on the junta
    # task of benchmarks/compare_learners.py (d = 3, alpha = 1, tol = 1e-6;
    # n = 16, 20, 24 with m = 4000, 8000, 12,000), both took the same 16-17
    # iterations to the same coefficients (relative error to an exact solve
    # 1.6e-6, 8.9e-7, 1.2e-6) in the same time (ratio 0.96-1.00).  Its rule
    # ||r|| < max(rtol ||b||, atol) is the one documented above.
    operator = scipy.sparse.linalg.LinearOperator(
        (D, D), dtype=np.float64,
        matvec=lambda c: design._normal_matvec(c) / m + (alpha / m) * c)
    n_iter = [0]

    def count(_):
        n_iter[0] += 1

    coef, info = scipy.sparse.linalg.cg(operator, b, rtol=tol, atol=0.0, maxiter=max_iter,
                                        callback=count)
    return coef, n_iter[0], info == 0


def _solve_exact(design: ParityDesign, y, alpha):
    r"""Minimum-norm (ridge) least squares from a QR of the explicit feature rows.

    Minimises :math:`\|y - Pc\|^2 + \alpha\|c\|^2`, which is ordinary least
    squares on the stacked design :math:`A = [P;\ \sqrt\alpha\,I]` with
    targets :math:`t = [y;\ 0]`.  The thin QR factorisation

    .. math::

       [A \;\; t] = \tilde Q \begin{bmatrix} R & z \\ 0 & \rho \end{bmatrix}

    is accumulated one chunk of explicit rows at a time (the ``(D+1)``-row
    factor so far is stacked on the chunk's rows ``[P_j\ y_j]`` and
    refactored by Householder QR, so :math:`P^\top P` is never formed and its
    condition number is not squared).  Since
    :math:`\|t - Ac\|^2 = \|z - Rc\|^2 + \rho^2` for every :math:`c`, both
    problems have the same minimisers and the same minimum-norm one, which
    is :math:`c = R^{+}_\tau z`: an SVD of :math:`R` (LAPACK ``gelsd``)
    with every singular value :math:`\sigma_i \le \tau\sigma_1` treated as
    zero, :math:`\tau = \max(m, D)\,\varepsilon_{\mathrm{mach}}`, the
    default cutoff of :func:`numpy.linalg.lstsq`.  The singular values of
    :math:`R` are :math:`\sqrt{\sigma_i(P)^2 + \alpha}`: for
    :math:`\alpha = 0` this is the minimum-norm least-squares solution with
    :func:`numpy.linalg.lstsq`'s rank decision, for :math:`\alpha > 0` the
    unique ridge solution (the cutoff can only act if
    :math:`\alpha \le (\tau\sigma_1)^2`, at rounding level).

    On :math:`\pm1` designs a rank deficiency is exact (an integer relation
    between columns), and rounding leaves its singular values far below the
    cutoff: over 300 random rank-deficient designs (``n <= 8``, ``d <= 3``,
    repeated rows, ``m < D`` and ``m`` close to ``D``, random chunkings)
    they stayed below :math:`0.16\,\tau\sigma_1`, while the smallest genuine
    one was above :math:`10^{12}\,\tau\sigma_1`.

    Cost :math:`O(m D^2 + D^3)` time; memory :math:`16(D+1)^2` bytes for
    the stacked block and the copy of :math:`R` that ``gelsd`` overwrites,
    plus about ``_CHUNK_BYTES`` (2 MiB) of chunk rows, within
    :meth:`ParityDesign.estimate_bytes`.  BLAS runs single-threaded.
    """
    m, D = design.n_samples, design.n_output_features
    xbits, masks = design.xbits, design.masks
    # Rows per chunk: the chunk's features and its rows in the stacked
    # matrix take about _CHUNK_BYTES together.
    rows = int(max(1, min(m, _CHUNK_BYTES // (16 * (D + 1)))))
    stacked = np.zeros((D + 1 + rows, D + 1), order="F")
    stacked[np.arange(D), np.arange(D)] = math.sqrt(alpha)  # the ridge rows
    features = np.empty((rows, D))
    geqrf, geqrf_lwork = scipy.linalg.get_lapack_funcs(("geqrf", "geqrf_lwork"),
                                                       (stacked,))
    work, info = geqrf_lwork(m=stacked.shape[0], n=stacked.shape[1])
    lwork = max(int(np.real(work)), stacked.shape[1]) if info == 0 else 32 * stacked.shape[1]
    cutoff = max(m, D) * np.finfo(np.float64).eps
    # Single-threaded BLAS, as in ParityDesign._over_rows: on a loaded 2-core
    # machine its thread pool made a 2030 x 30 QR 500 times slower.
    with _blas_controller().limit(limits=1, user_api="blas"):
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            k = stop - start
            _parity.parity_features(xbits[start:stop], masks, features[:k])
            stacked[D + 1:D + 1 + k, :D] = features[:k]
            stacked[D + 1:D + 1 + k, D] = y[start:stop]
            stacked[D + 1 + k:] = 0.0  # a short last chunk: zero rows change nothing
            stacked, _, _, info = geqrf(stacked, lwork=lwork, overwrite_a=True)
            if info != 0:  # pragma: no cover - only for invalid arguments
                raise RuntimeError(f"LAPACK geqrf failed with info={info}")
            # Keep the triangular factor; the Householder vectors below its
            # diagonal (and in the chunk's rows, overwritten next) are not needed.
            for j in range(D):
                stacked[j + 1:D + 1, j] = 0.0
        R, z = stacked[:D, :D], stacked[:D, D].copy()
        return scipy.linalg.lstsq(R, z, cond=cutoff, lapack_driver="gelsd",
                                  check_finite=False)[0]


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
            try:
                check_open_unit(cv, "cv")
            except ValueError:
                raise ValueError("cv must be an int >= 2 (K-fold) or a float in (0, 1) "
                                 f"(held-out fraction), got {cv!r}") from None
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
        design = ParityDesign._from_checked(X, degree, self._threads(), self.max_bytes)
        solver = self._resolve_solver(design.n_output_features)
        # A direct solver counts as one iteration (scikit-learn's n_iter_ >= 1).
        if solver == "lmn":
            return design._rmatvec(y) / design.n_samples, 1
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
        self.subsets_ = parity_subsets(n, self.degree_, max_bytes=self.max_bytes)
        self.fourier_coefficients_ = dict(zip(self.subsets_, self.coef_.tolist()))
        return self

    def _select_degree(self, X, y, degrees, rng):
        r"""Validation mean squared error of every degree; the smallest
        degree within a near-tie of the best wins.

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
                prediction = ParityDesign._from_checked(
                    X_val, degree, self._threads(), self.max_bytes)._matvec(coef)
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
        check_numeric_input(X, "X")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        X = self._encode(X)
        # coef_ is a public attribute a caller may have replaced: matvec
        # checks it (once per call) before the kernels read it.
        return ParityDesign._from_checked(X, self.degree_, self._threads(),
                                          self.max_bytes).matvec(self.coef_)


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
        than a training split has samples are not tried.
    max_degree : int, default=4
        Largest degree tried when ``degree=None``.
    solver : {"auto", "lmn", "cg", "exact"}, default="auto"
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
        times the largest count as zero.  ``"auto"``: ``"exact"`` up to 32
        features, ``"cg"`` beyond (CG converges in a few dozen iterations
        under the uniform distribution).
    alpha : float, default=0.0
        Ridge penalty: minimise :math:`\|y - Pc\|^2 + \alpha\|c\|^2`
        (scikit-learn's ``Ridge`` convention; the constant feature is
        penalised too).  Ignored by ``"lmn"``.
    tol : float, default=1e-6
        CG stops when the normal-equation residual is at most ``tol`` times
        :math:`\|P^\top y\|`.  Then the coefficients are within
        :math:`\kappa\,\mathrm{tol}` of the least-squares solution,
        relative in the Euclidean norm, which by Parseval is the relative
        root-mean-square difference of the predictions over the whole
        cube; :math:`\kappa` is the condition number of
        :math:`P^\top P + \alpha I`, about
        :math:`((1 + \sqrt{D/m}) / (1 - \sqrt{D/m}))^2` under uniform
        samples (9 at ``m = 4D``).  Measured: at most ``6 * tol`` for
        ``m >= 2D``, so the default agrees with ``"exact"`` to about
        ``5e-6``; ``tol=1e-9`` gives ``1e-8`` or better at about 1.5 times
        the iterations (21 against 32 at ``n = 32``, ``d = 3``,
        ``m = 20,000``).  Degree selection also uses ``tol``, whatever the
        solver: validation scores whose root-mean-square errors differ by
        at most ``100 * tol`` times the root mean square of the validation
        targets count as tied, and the smaller degree wins.
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

    The low-degree algorithm of docs/theory.rst, section 3: the model is
    :math:`\hat f(x) = \sum_{|S| \le d} c_S \chi_S(x)` on :math:`x \in \{-1,1\}^n`,
    fitted by ordinary (or ridge) least squares without ever storing the
    ``m x D`` feature matrix.

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
        r"""Fit on points ``X`` of shape ``(m, n)`` and real targets ``y`` of shape ``(m,)``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points of :math:`\{-1,1\}^n` (or of :math:`\{0,1\}^n` with
            ``input_encoding="01"``).
        y : array_like of shape (m,)
            Real targets.

        Returns
        -------
        self : LowDegreeRegressor
        """
        check_numeric_input(X, "X")
        check_numeric_input(y, "y")
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        return self._fit_pm1(X, np.ascontiguousarray(y, dtype=np.float64))

    def predict(self, X):
        """The fitted polynomial :math:`\\sum_S c_S \\chi_S(x)` on each row of ``X``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, in the encoding of the training data.

        Returns
        -------
        ndarray of float64, shape (m,)
        """
        return self._decision(X)

    def save(self, path) -> str:
        """Write the fitted model as an uncompressed ``.npz`` archive; returns the path written.

        The archive holds the coefficients, the degree, the input dimension
        and the constructor parameters (except ``random_state``); the subsets
        are implied by ``(n, degree_)``.  ``.npz`` is appended to ``path``
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


# Bytes per parity of a loaded model's Python objects: the subsets_ tuples
# (see parity_subsets) plus the fourier_coefficients_ dict entry and float.
def _loaded_model_bytes(n_parities: int, degree: int) -> float:
    return float(n_parities) * (230 + 64 * degree)


def _save_model(model, path, format_tag: str, **extra) -> str:
    check_is_fitted(model, "coef_")
    params = {name: model.get_params()[name] for name in _SAVED_PARAMS}
    return _io.save_npz(path, format=np.array(format_tag), params=np.array(json.dumps(params)),
                        coef=model.coef_, degree=np.array(model.degree_),
                        n_features=np.array(model.n_features_in_),
                        n_iter=np.array(model.n_iter_), **extra)


def _load_model(cls, path, format_tag: str, max_bytes, extra_keys=(), string_keys=()):
    """The model saved at ``path`` and the arrays named ``extra_keys``."""
    arrays = _io.load_archive(path, format_tag,
                              {"params", "coef", "degree", "n_features", "n_iter",
                               *extra_keys}, string_keys={"params", *string_keys})
    shown = _io.npz_path(path)
    try:
        if arrays["params"].shape != () or arrays["params"].dtype.kind != "U":
            raise ValueError("params must be one JSON string")
        params = json.loads(str(arrays["params"]))
        if not isinstance(params, dict) or set(params) != set(_SAVED_PARAMS):
            raise ValueError(f"the parameters must be a JSON object with the keys "
                             f"{sorted(_SAVED_PARAMS)}")
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
        coef = check_vector(arrays["coef"], "coef")
        expected = n_parity_features(n, degree)
        if coef.shape[0] != expected:
            raise ValueError(f"{coef.shape[0]} coefficients, but degree {degree} on n={n} "
                             f"has {expected} parities")
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
    model.degree_ = degree
    model.coef_ = coef
    model.n_iter_ = n_iter
    model.cv_results_ = None
    model.subsets_ = parity_subsets(n, degree, max_bytes=max_bytes)
    model.fourier_coefficients_ = dict(zip(model.subsets_, coef.tolist()))
    return model, arrays


class LowDegreeClassifier(ClassifierMixin, _LowDegreeModel):
    __doc__ = r"""Binary classification by low-degree L2 regression on :math:`\pm1` labels.

    The two classes are coded :math:`-1` (``classes_[0]``) and :math:`+1`
    (``classes_[1]``), the polynomial is fitted by least squares exactly as
    :class:`LowDegreeRegressor` does, and the prediction is the sign of the
    fit (a score of exactly 0 goes to ``classes_[0]``, as in scikit-learn's
    linear classifiers).  This is the L2-regression route to agnostic
    learning of Boolean labels (docs/theory.rst, section 3).

    Parameters
    ----------""" + _PARAMETERS_DOC + r"""

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The class labels; ``classes_[1]`` is coded +1.""" + _ATTRIBUTES_DOC + r"""

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        r"""Fit on points ``X`` of shape ``(m, n)`` and two-class labels ``y``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points of :math:`\{-1,1\}^n` (or of :math:`\{0,1\}^n` with
            ``input_encoding="01"``).
        y : array_like of shape (m,)
            Labels of exactly two classes; ``classes_[1]`` is encoded +1.

        Returns
        -------
        self : LowDegreeClassifier
        """
        check_numeric_input(X, "X")  # labels y may be strings
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
        """The fitted polynomial; positive values predict ``classes_[1]``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, in the encoding of the training data.

        Returns
        -------
        ndarray of float64, shape (m,)
        """
        return self._decision(X)

    def predict(self, X):
        """``classes_[1]`` where the decision function is positive, else ``classes_[0]``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, in the encoding of the training data.

        Returns
        -------
        ndarray of shape (m,)
            Labels from ``classes_``.
        """
        positive = self._decision(X) > 0
        return self.classes_[positive.astype(np.int64)]

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
        if classes.shape != (2,) or classes[0] == classes[1]:
            raise _io.UnreadableFileError(f"{_io.npz_path(path)}: classes must hold two "
                                          f"distinct labels, got shape {classes.shape}")
        model.classes_ = classes
        return model
