r"""The parity feature matrix of a sample, as a matrix-free linear operator.

For points :math:`x \in \{-1,1\}^n` the parities
:math:`\chi_S(x) = \prod_{i \in S} x_i`, :math:`|S| \le d`, are the
:math:`D = \sum_{j \le d} \binom{n}{j}` features of the low-degree
algorithm (docs/theory.rst, section 3; the estimators are in
:mod:`sparselearn.learners`).

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
  chunk of rows at a time.  At degree ``>= 3`` and ``n >= 48`` the sets
  with elements on both sides of ``n / 2`` (three quarters of them at
  ``d = 3``) are dense products instead, every ``u``-subset of the first
  half with every ``(d-u)``-subset of the second, and the halves are split
  the same way while they are that wide: matrix products ``n / 2`` columns
  wide with no structural zeros, where the staircase above has 16 columns
  (``_top_layout``).
- **popcount**: each row packed into 64-bit words, each subset a bitmask,
  :math:`\chi_S(x) = (-1)^{\mathrm{popcount}(x \wedge S)}`, in the Cython
  kernels of :mod:`sparselearn._kernels._parity`.

Measured on the project's 2-core machine, the BLAS route is 7-14x faster per
CG iteration (``python benchmarks/compare_learners.py products``), so the
estimators use it for every degree ``>= 1``; the popcount kernels build the
explicit feature rows that the ``"exact"`` solver factors (QR, then SVD:
the minimum-norm least-squares solution) and compute the degree-0 model,
and stay selectable through :class:`ParityDesign` for benchmarks.

**Storage.**  On the cube a design keeps only the rows packed to bits (a
:class:`PackedCube`, 1 bit an entry, built from ``int8``, float64 or
memory-mapped input by :func:`pack_cube` a chunk of rows at a time), and
the BLAS route expands each chunk of rows to float64 just before its
products, so a fit's memory is dominated by the ``m x n`` bits.

**Real-valued inputs** (``domain="real"``).  The BLAS route never uses
:math:`x_i^2 = 1`: for any finite real ``X`` it computes the products of the
multilinear monomials :math:`\prod_{i \in S} x_i`, ``|S| <= d`` (the
columns of scikit-learn's ``PolynomialFeatures(degree=d,
interaction_only=True)``, in the same order: by size, then
lexicographically).  Off the cube the columns are not orthonormal, so there
is no popcount route (it needs :math:`\pm1` entries) and no Fourier
reading; the solvers then precondition with the diagonal of
:math:`P^\top P`, which is the same product structure on ``X**2``
(:meth:`ParityDesign.diagonal`).  Every product also takes a block of
``c`` columns (coefficients ``(D, c)``, residuals ``(m, c)``), so ``c``
right-hand sides share each pass over the data.
"""
from __future__ import annotations

import bisect
import contextvars
import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from ._kernels import _cholesky, _moments, _parity
from ._validation import (check_float, check_int, check_matrix, check_memory,
                          check_vector)
from .network import _one_thread_blas

__all__ = ["PackedCube", "ParityDesign", "n_parity_features", "pack_cube", "pack_rows",
           "parity_subsets"]

# Rows per chunk are chosen so the chunk's lower-degree parity block takes
# about this many bytes: large enough for BLAS efficiency, small enough to
# stay in cache and keep memory flat for any number of samples.
_CHUNK_BYTES = 2 * 2**20
_MIN_CHUNK_ROWS = 16
# The top-degree gemms have the chunk's rows as one dimension (the inner one
# of P^T r): chunks of fewer than _CHUNK_ROWS_FLOOR rows are widened to that
# many while the lower block stays within _MAX_CHUNK_BYTES (n = 128, d = 3:
# 128 rows of 8,129 parities instead of 31).
_CHUNK_ROWS_FLOOR = 128
_MAX_CHUNK_BYTES = 16 * 2**20
# Width of the column blocks of the top-degree product; narrower blocks skip
# more of the structurally zero coefficients (i >= min T), wider ones make
# better use of BLAS.  At degree 2 the products are bound by memory traffic,
# not flops: one block of width n (``rowsum(X * (X @ U))`` with ``U``
# strictly upper triangular, and ``(X * r).T @ X``) was 1.15-1.4x faster than
# 16 columns with chunks of 4,032 rows, but with the chunks of _chunk_rows
# (816 rows at n = 64) 16 columns are as fast or faster (real X, n = 64,
# m = 200,000, one thread: 0.10-0.12 s a call against 0.12-0.14 s;
# benchmarks/compare_parity_products.py times the full-width peer).
_BLOCK_WIDTH = 16
# Rows whose float32 top-degree sums are folded into the float64 totals at a
# time (ParityDesign._over_rows): bounds the length of every float32 sum.
_FOLD_ROWS = 2048


def _block_width(n: int, degree: int) -> int:
    """Column-block width of the top-degree product (see ``_BLOCK_WIDTH``;
    the benchmark replaces it to time the full-width layout)."""
    return _BLOCK_WIDTH


# At degree >= 3 the top-degree product of an interval [l, r) of at least
# _SPLIT_MIN_N coordinates is split at mid = (l + r) // 2: the sets with u
# elements in [l, mid) and d - u in [mid, r), 0 < u < d, are dense "boxes"
# (every u-subset with every (d-u)-subset: no structural zero, and gemms
# C(mid - l, u) x C(r - mid, d - u) instead of 16 columns wide), three
# quarters of the interval's sets at d = 3; the sets inside either half are
# split again, down to intervals narrower than _SPLIT_MIN_N, which keep the
# staircase blocks of _BLOCK_WIDTH columns.  A left half [l, mid) needs the
# parities of x[l:mid] (a "left block", built per chunk); the subsets of a
# right half [mid, r) are the last ones of its parent's block, like those of
# [a, n) in the lower block.  Splitting intervals down to 32 or 24 was
# slower (more, smaller products; in float32 too, and 8 or 32 columns
# instead of 16 changed nothing measurable at n = 64).  Achieved
# (benchmarks/compare_parity_products.py --float32, one run, one thread,
# rates by CPU time against a 76.6 GFLOP/s dgemm, load average 4.2-4.6):
# normal_matvec at 0.344 of the dgemm rate at n = 64, d = 3, m = 20,000 and
# 0.478 at n = 128, d = 3 in float64, 0.606 and 0.958 with dtype=np.float32
# (the +-1 parities exact, sgemm; relative error 4-5e-7), which meets issue
# 14's goal of 0.5; real X, n = 64, d = 2, m = 200,000: 0.190.  CG keeps
# float64 accuracy on float32 products by refinement (_solve_mixed).
_SPLIT_MIN_N = 48


def _top_layout(n: int, degree: int) -> tuple[list, list]:
    """The blocks of the top-degree product without their index arrays, and
    the intervals ``(l, mid)`` of the left blocks (``ParityDesign._top_blocks``).

    A block is ``(kind, xs, x0, x1, ks, col, rows, args)``: its dense
    coefficient matrix has ``rows`` rows, the columns ``[col, col + rows)``
    of source ``ks``, and ``x1 - x0`` columns, the columns ``[x0, x1)`` of
    source ``xs`` (a source is ``"q"``, the lower block, or the index of a
    left block; each holds the parities of degree ``< d`` of an interval
    ``[s, r)`` of the coordinates by size, then lexicographically).
    ``kind`` is ``"box"`` (``args = (u, l, mid, r, s)``: the u-subsets of
    ``[l, mid)``, from left block ``l``'s source, with the (d-u)-subsets of
    ``[mid, r)``, the last of the parent's source ``[s, r)``) or ``"stair"``
    (``args = (a, b, s, r)``: ``min S`` in ``[a, b)``, the rest of ``S``
    in ``(min S, r)``, from the source ``[s, r)``).
    """
    d = degree
    if d < 1:
        return [], []
    width = _block_width(n, d)
    blocks, lefts = [], []

    def starts(length):
        return np.cumsum([0] + [math.comb(length, t) for t in range(d)])

    def suffix(source, s, r, t, lo):
        """Columns of the t-subsets of [lo, r) in the source of [s, r)."""
        count = math.comb(r - lo, t)
        return int(starts(r - s)[t]) + math.comb(r - s, t) - count, count

    def visit(l, r, source, s):
        if d >= 3 and r - l >= _SPLIT_MIN_N:
            mid = (l + r) // 2
            left = len(lefts)
            lefts.append((l, mid))
            for u in range(1, d):
                left_col, n_left = int(starts(mid - l)[u]), math.comb(mid - l, u)
                right_col, n_right = suffix(source, s, r, d - u, mid)
                if n_left >= n_right:
                    blocks.append(("box", source, right_col, right_col + n_right, left,
                                   left_col, n_left, (u, l, mid, r, s)))
                else:
                    blocks.append(("box", left, left_col, left_col + n_left, source,
                                   right_col, n_right, (u, l, mid, r, s)))
            visit(l, mid, left, l)
            visit(mid, r, source, s)
            return
        for a in range(l, r, width):
            b = min(a + width, r)
            col, rows = suffix(source, s, r, d - 1, a + 1)
            if rows == 0:
                break
            blocks.append(("stair", "x", a, b, source, col, rows, (a, b, s, r)))

    visit(0, n, "q", 0)
    return blocks, lefts


def _top_dense_size(n: int, degree: int) -> tuple[int, int, int, int]:
    """Sizes of the top-degree layout for one column: entries of all its
    dense blocks (structural zeros included), of the largest, the widest
    block's columns, and the parities of all its left blocks."""
    blocks, lefts = _top_layout(n, degree)
    if not blocks:
        return 0, 0, 1, 0
    sizes = [rows * (x1 - x0) for _, _, x0, x1, _, _, rows, _ in blocks]
    left = sum(math.comb(mid - l, t) for l, mid in lefts for t in range(degree))
    return (sum(sizes), max(sizes), max(x1 - x0 for _, _, x0, x1, *_ in blocks), left)


def _chunk_rows(m: int, n_lower: int, n: int) -> int:
    """Rows per chunk of the BLAS route (see ``_CHUNK_BYTES``): the lower
    block and about four ``n``-wide arrays (the rows, a block's products
    and their temporaries; degree 2, n = 64: 816 rows, where the lower
    block alone gave 4,032, 1.2-1.5x slower a call)."""
    rows = _CHUNK_BYTES // (8 * (max(1, n_lower) + 4 * n))
    if rows < _CHUNK_ROWS_FLOOR:
        rows = min(_CHUNK_ROWS_FLOOR, _MAX_CHUNK_BYTES // (8 * max(1, n_lower)))
    return int(max(_MIN_CHUNK_ROWS, min(m, rows)))


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


def _largest_magnitude(X: np.ndarray) -> float:
    """``max |x|`` over an array (0 if empty), without the temporary
    ``np.abs(X)``: two reductions instead of a copy of ``X``, whose first
    touch of fresh memory cost 0.3-0.5 s for 100 MB on the 2-core VM."""
    if X.size == 0:
        return 0.0
    return float(max(X.max(), -X.min()))


def _on_cube(X: np.ndarray) -> bool:
    """Whether every entry of ``X`` is exactly +-1, a chunk of rows at a time
    (no ``m x n`` temporaries; real data usually fail in the first chunk)."""
    for start in range(0, X.shape[0], _PACK_ROWS):
        if not np.all(np.abs(X[start:start + _PACK_ROWS]) == 1.0):
            return False
    return True


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


# Rows packed at a time by pack_cube: the chunk's bool padding and its
# +-1 check take about 8 * 64 * words + 8 * n bytes a row.
_PACK_ROWS = 8192


# The 8 float64 entries +-1 of each byte value (bit j set: x_j = -1).
_BYTE_POINTS = 1.0 - 2.0 * np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1,
                                         bitorder="little").astype(np.float64)


_BYTE_POINTS32 = _BYTE_POINTS.astype(np.float32)


def _unpack(bits: np.ndarray, n: int, dtype=np.float64) -> np.ndarray:
    """The +-1 rows ``(k, n)`` (C-contiguous, float64 or float32: both exact)
    of packed rows ``bits`` ``(k, words)``: one table lookup per byte (10x
    faster than ``np.unpackbits`` and the arithmetic on 4032 x 64 rows)."""
    table = _BYTE_POINTS32 if dtype == np.float32 else _BYTE_POINTS
    octets = np.ascontiguousarray(bits).astype("<u8", copy=False).view(np.uint8)
    points = np.take(table, octets, axis=0).reshape(octets.shape[0], -1)
    return points if points.shape[1] == n else np.ascontiguousarray(points[:, :n])


class PackedCube:
    r"""Points of :math:`\{-1,1\}^n` stored as packed bits, one bit per entry.

    Row ``i`` is ``ceil(n / 64)`` uint64 words; bit ``j`` is set exactly
    when :math:`x_{ij} = -1` (the cube index convention of CONTRIBUTING.md,
    the layout of :func:`pack_rows`), and the padding bits past ``n`` are 0.
    An ``m x n`` sample takes ``8 m ceil(n/64)`` bytes, an eighth of a byte
    per entry at ``n = 64 k`` (64 times less than float64).
    :class:`ParityDesign` and the estimators of :mod:`sparselearn.learners`
    accept it wherever they accept cube points, and expand only one chunk
    of rows at a time to float64.  Build one with :func:`pack_cube` (from
    any +-1 array, also memory-mapped, chunk by chunk) or from packed words.

    Parameters
    ----------
    bits : array_like of uint64, shape (m, ceil(n / 64))
        Packed rows (copied: the object owns a private, read-only copy).
    n : int
        Input dimension ``n >= 1``.
    """

    def __init__(self, bits, n):
        n = check_int(n, "n", minimum=1)
        words = max(1, -(-n // 64))
        bits = np.asarray(bits)
        if bits.dtype != np.uint64 or bits.ndim != 2 or bits.shape[1] != words:
            raise ValueError(f"bits must be a uint64 array of shape (m, {words}) for n={n}, "
                             f"got {bits.dtype} of shape {bits.shape}")
        if n % 64 and np.any(bits[:, -1] >> np.uint64(n % 64)):
            raise ValueError(f"bits has set bits past n={n} (padding bits must be 0)")
        bits = np.array(bits, dtype=np.uint64, order="C", copy=True)
        bits.flags.writeable = False
        self._bits, self._n = bits, n

    @classmethod
    def _trusted(cls, bits: np.ndarray, n: int) -> "PackedCube":
        """Wrap a private read-only ``bits`` array the caller made (no copy)."""
        packed = cls.__new__(cls)
        bits.flags.writeable = False
        packed._bits, packed._n = bits, n
        return packed

    # Plain defs, not property(lambda ...): numpydoc validates them.
    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: points and input dimension."""
        return (self._bits.shape[0], self._n)

    @property
    def ndim(self) -> int:
        """``2``: a matrix of points."""
        return 2

    @property
    def n_samples(self) -> int:
        """Number of points ``m``."""
        return self._bits.shape[0]

    @property
    def n_features(self) -> int:
        """Input dimension ``n``."""
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes of the packed words."""
        return self._bits.nbytes

    @property
    def bits(self) -> np.ndarray:
        """The packed words ``(m, ceil(n / 64))`` (a fresh read-only view)."""
        view = self._bits.view()
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        return self._bits.shape[0]

    def __getitem__(self, rows) -> "PackedCube":
        """The points ``rows`` (a slice, or integer or boolean row indices);
        ``X[rows, ...]`` and ``X[rows, :]``, the forms scikit-learn's
        cross-validation splitters use, select the same rows."""
        if isinstance(rows, tuple):
            if len(rows) != 2 or not (rows[1] is Ellipsis or isinstance(rows[1], slice)
                                      and rows[1] == slice(None)):
                raise TypeError("PackedCube is indexed by rows only (a slice or row "
                                "indices, optionally followed by ... or :)")
            rows = rows[0]
        selected = self._bits[rows]
        if selected.ndim != 2:
            selected = selected.reshape(1, -1)
        return PackedCube._trusted(np.ascontiguousarray(selected), self._n)

    def to_points(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` as float64 +-1 points.

        Parameters
        ----------
        start : int, default=0
            First row.
        stop : int, optional
            One past the last row (default: ``m``).

        Returns
        -------
        ndarray of float64, shape (stop - start, n)
        """
        return _unpack(self._bits[start:stop], self._n)

    def __repr__(self) -> str:
        return f"PackedCube(m={self.n_samples}, n={self.n_features})"


def _pack_chunks(X, max_bytes=None, what="the packed sample"):
    """Pack a 2-D real or integer array (a memory map too), ``_PACK_ROWS``
    rows at a time; ``None`` if an entry is not exactly +-1.  The only
    allocation of size ``m`` is the packed words, checked against
    ``max_bytes`` first."""
    m, n = X.shape
    words = max(1, -(-n // 64))
    check_memory(8.0 * m * words + (8.0 * n + 72.0 * words) * min(m, _PACK_ROWS),
                 f"{what} ({m} x {n} points, {words} words a row)", max_bytes)
    bits = np.empty((m, words), dtype=np.uint64)
    for start in range(0, m, _PACK_ROWS):
        chunk = np.asarray(X[start:start + _PACK_ROWS])
        if not np.all(np.abs(chunk) == 1):
            return None
        bits[start:start + chunk.shape[0]] = pack_rows(chunk)
    return PackedCube._trusted(bits, n)


def _check_packable(X, name):
    """A 2-D numpy array (or memory map) of real or integer dtype with ``n >= 1``."""
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.dtype.kind not in "if":
        raise TypeError(f"{name} must hold real or integer +-1 entries, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array (m, n), got shape {X.shape}")
    return X


def pack_cube(X, *, max_bytes=None) -> PackedCube:
    r"""Pack +-1 points into a :class:`PackedCube`, a chunk of rows at a time.

    ``X`` may be any 2-D real or integer array with entries exactly +1 or -1:
    ``int8`` (one byte an entry), float64, or a memory map
    (``np.load(path, mmap_mode="r")``), which is then read from disk in
    chunks of 8192 rows and never held in memory as a whole.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Points of :math:`\{-1,1\}^n`.
    max_bytes : float, optional
        Memory budget of the packed words (``8 m ceil(n/64)`` bytes) and one
        chunk; ``None``: the library default.

    Returns
    -------
    PackedCube
    """
    if isinstance(X, PackedCube):
        return X
    X = _check_packable(X, "X")
    if max_bytes is not None:
        max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
    packed = _pack_chunks(X, max_bytes)
    if packed is None:
        raise ValueError("X must be a point set of the cube {-1, 1}^n: every entry must "
                         "be exactly +1 or -1 (map {0, 1} data with X = 1 - 2 * X01)")
    return packed


# ----------------------------------------------------------- the operator
class ParityDesign:
    r"""The parity feature matrix :math:`P` of a sample, as a linear operator.

    ``P[i, s] = chi_{S_s}(x_i)`` over the subsets of :func:`parity_subsets`
    ``(n, degree)``; nothing of size ``m x D`` is ever allocated.  With
    ``domain="real"`` the columns are the monomials
    :math:`\prod_{j \in S_s} x_{ij}` of any finite real ``X`` (module
    docstring).

    Parameters
    ----------
    X : array_like of shape (m, n) or PackedCube
        Points of :math:`\{-1,1\}^n` (checked: every entry exactly
        :math:`\pm 1`), or with ``domain="real"`` any finite reals.  On the
        cube ``X`` may be ``int8``, float64, a memory map
        (``np.load(path, mmap_mode="r")``, read in chunks) or a
        :class:`PackedCube`; the design keeps only the packed bits.
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
    domain : {"cube", "real"}, default="cube"
        ``"real"``: ``X`` may hold any finite reals; only the ``"blas"``
        products exist then.

    Notes
    -----
    The kernels behind the products run without bounds checks, so the
    design owns private, read-only copies of its arrays and takes every
    shape from its own record: editing the caller's ``X`` afterwards
    changes nothing, and :attr:`X`, :attr:`xbits` and :attr:`masks` are
    fresh read-only views (reshaping one leaves the design untouched).
    """

    def __init__(self, X: np.ndarray, degree: int, products: str = "blas",
                 n_jobs: int = 1, max_bytes: float | None = None, domain: str = "cube"):
        if products not in ("blas", "popcount"):
            raise ValueError(f"products must be 'blas' or 'popcount', got {products!r}")
        if domain not in ("cube", "real"):
            raise ValueError(f"domain must be 'cube' or 'real', got {domain!r}")
        if domain == "real" and products == "popcount":
            raise ValueError("products='popcount' needs points of the cube (domain='cube'); "
                             "real-valued X uses products='blas'")
        # The kernels run without bounds checks: validate here, since this
        # class is public.  The estimators, whose arrays are validated once at
        # fit/predict, build designs through _from_checked instead.
        if max_bytes is not None:
            max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
        if domain == "real":
            X = check_matrix(X, "X")
        else:
            # Checked and packed a chunk at a time: int8 or memory-mapped
            # points are never converted to float64 as a whole.
            X = pack_cube(X, max_bytes=max_bytes)
        degree = check_int(degree, "degree", minimum=0, maximum=X.shape[1])
        n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
        self._build(X, degree, products, n_jobs, max_bytes, domain)

    @classmethod
    def _from_checked(cls, X, degree, n_jobs=1, max_bytes=None, products="blas",
                      domain="cube"):
        """A design on arguments already validated as :meth:`__init__` does
        (``X`` finite float64, with entries +-1 unless ``domain="real"``,
        or on the cube a :class:`PackedCube`,
        ``0 <= degree <= n``, ``n_jobs >= 1``): the trusted path below the
        public boundary."""
        design = cls.__new__(cls)
        design._build(X, degree, products, n_jobs, max_bytes, domain)
        return design

    def _build(self, X, degree, products, n_jobs, max_bytes, domain="cube"):
        m, n = X.shape
        d = degree
        words = max(1, -(-n // 64))
        level_sizes = tuple(math.comb(n, t) for t in range(d + 1))
        D = sum(level_sizes)
        check_memory(self._construction_bytes(m, n, d, n_jobs, domain,
                                              packed=isinstance(X, PackedCube)),
                     f"ParityDesign(m={m}, n={n}, degree={d}) with D={D} parities",
                     max_bytes)
        # Private copies, read-only: a caller who keeps X (or flips its
        # writeable flag back) cannot change what the kernels read.  On the
        # cube the design keeps only the packed bits (1 bit an entry; a
        # PackedCube's words are already private and read-only, so they are
        # shared) and the BLAS route expands one chunk of rows at a time.
        if domain == "cube":
            packed = X if isinstance(X, PackedCube) else _pack_chunks(X, max_bytes)
            X, xbits = None, packed._bits
        else:
            X = np.array(X, dtype=np.float64, order="C", copy=True)
            xbits = None  # the signs, packed only if asked for (xbits): no kernel reads them
        masks = np.vstack([_masks(_combinations(n, t), words) for t in range(d + 1)])
        for array in (X, xbits, masks):
            if array is not None:
                array.flags.writeable = False
        self._X, self._xbits, self._masks = X, xbits, masks
        self._n_samples, self._n_features, self._degree = m, n, d
        self._products, self._n_jobs, self._max_bytes = products, n_jobs, max_bytes
        self._domain = domain
        self._n_words = words
        self._level_sizes = level_sizes
        self._n_output_features = D
        # Parities below the top degree; the top level is never built.
        self._n_lower = D - level_sizes[-1]
        self._level_starts = np.cumsum([0] + list(level_sizes[:-1]))[:d].astype(np.int64)
        self._level_counts = np.array(
            [[math.comb(n - 1 - i, t - 1) if t else 0 for i in range(n)]
             for t in range(max(d, 1))], dtype=np.int64)
        self._chunk_rows = _chunk_rows(m, self.n_lower, n)
        # The left blocks of the split layout (_top_layout): parities of
        # degree < d of x[l:mid], each with its parity_levels tables.
        self._lefts = []
        for l, mid in _top_layout(n, d)[1]:
            k = mid - l
            self._lefts.append((l, mid, np.array(
                [[math.comb(k - 1 - i, t - 1) if t else 0 for i in range(k)]
                 for t in range(d)], dtype=np.int64),
                np.cumsum([0] + [math.comb(k, t) for t in range(d - 1)]).astype(np.int64),
                sum(math.comb(k, t) for t in range(d))))
        self._blocks = self._top_blocks() if d >= 1 else []
        # At degree 3 the pairs of the lower block (C(n, 2) of its
        # 1 + n + C(n, 2) columns) are products of their own too: staircase
        # blocks on the rows x (the degree-2 layout), so the lower-degree
        # gemv reads only [1, x] (1 + n columns), not the whole lower block,
        # and the pairs that no top-degree block reads are never built
        # (see _direct).  Profiled at n = 64..128 the two gemvs over the
        # whole lower block and its build took a quarter of a float32 call.
        self._direct, self._first = self.n_lower, 0
        # Degree 2 off the cube: single float32 normal products run as a
        # quadratic form (_quadratic_normal_matvec), two gemms of n columns a
        # chunk where the staircase runs eight of 16, a lower block and two
        # gemv: at n = 64, m = 200,000, 1.07-1.49x faster by CPU time on one
        # thread and 1.49x on two (compare_parity_products.py --float32,
        # three runs, quiet machine).  In float64 the staircase's fewer flops
        # win (0.087 s against 0.097).
        self._quadratic = d == 2 and domain == "real"
        if d == 3:
            self._blocks = self._top_blocks(2) + self._blocks
            self._direct = 1 + n
            # The first pair column a top-degree block reads from "q".
            self._first = min([x0 for xs, x0, *_ in self._blocks if xs == "q" and x0 > n]
                              + [col for _, _, _, ks, col, *_ in self._blocks
                                 if ks == "q" and col > n] + [self.n_lower])
        # Every level 0..d, for the explicit rows of a real-valued design.
        self._all_starts = np.cumsum([0] + list(level_sizes[:-1])).astype(np.int64)
        self._all_counts = np.array(
            [[math.comb(n - 1 - i, t - 1) if t else 0 for i in range(n)]
             for t in range(d + 1)], dtype=np.int64)

    # The record: read-only, so the shapes the kernels are given cannot drift
    # from the arrays they read.
    n_samples = property(lambda self: self._n_samples, doc="Number of points ``m``.")
    n_features = property(lambda self: self._n_features, doc="Input dimension ``n``.")
    degree = property(lambda self: self._degree, doc="Largest subset size ``d``.")
    products = property(lambda self: self._products, doc='``"blas"`` or ``"popcount"``.')
    domain = property(lambda self: self._domain, doc='``"cube"`` or ``"real"``.')
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
        """The points, float64 ``(m, n)`` (read-only): a fresh view of the
        design's copy off the cube, on it a fresh expansion of :attr:`xbits`
        (``8 m n`` bytes; the design itself keeps only the bits)."""
        if self._X is None:
            return self._readonly_view(_unpack(self._xbits, self._n_features))
        return self._readonly_view(self._X)

    @property
    def xbits(self) -> np.ndarray:
        """Packed rows, uint64 ``(m, n_words)`` (a fresh read-only view; off
        the cube the signs of :attr:`X`, bit ``j`` set where ``x_j < 0``)."""
        if self._xbits is None:
            self._xbits = pack_rows(self._X)
            self._xbits.flags.writeable = False
        return self._readonly_view(self._xbits)

    @property
    def masks(self) -> np.ndarray:
        """Subset bitmasks, uint64 ``(D, n_words)`` (a fresh read-only view)."""
        return self._readonly_view(self._masks)

    def _check_record(self) -> None:
        """Refuse to run a kernel if an array no longer matches the record."""
        m, n, w = self._n_samples, self._n_features, self._n_words
        if ((self._X is not None and self._X.shape != (m, n))
                or (self._xbits is not None and self._xbits.shape != (m, w))
                or self._masks.shape != (self._n_output_features, w)):
            raise RuntimeError("ParityDesign's private arrays were modified; build a "
                               "new ParityDesign")

    @classmethod
    def _construction_bytes(cls, m: int, n: int, degree: int, n_jobs: int,
                            domain: str = "cube", packed: bool = False) -> float:
        """Bytes of a design and of its products, from ``m``, ``n``, ``d``.

        :meth:`estimate_bytes` for the products, plus what construction
        holds at its peak: the bool padding of :func:`pack_rows` (of all
        rows off the cube, of one chunk of :func:`pack_cube` on it, nothing
        for a :class:`PackedCube`, whose words are shared) and, at the
        top degree, its subsets (and their stacking copy), the mask scatter
        indices, the stacking copy of the masks and the block layout.
        """
        words = max(1, -(-n // 64))
        D = sum(math.comb(n, t) for t in range(degree + 1))
        top = math.comb(n, degree)
        nbytes = cls.estimate_bytes(m, n, degree, "cg", n_jobs, domain=domain)
        if domain == "real":
            nbytes += 64.0 * m * words
        elif not packed:
            nbytes += (8.0 * n + 72.0 * words) * min(m, _PACK_ROWS)
        nbytes += 8.0 * D * words
        nbytes += 8.0 * top * (2 * degree + 5)
        return nbytes

    def _top_blocks(self, degree=None):
        """The blocks of the degree-``degree`` product (:func:`_top_layout`;
        default the top degree), each
        ``(xs, x0, x1, ks, col, rows, src, flat)``: the dense coefficient
        matrix ``C`` of shape ``(rows, x1 - x0)`` holds ``coef[src]`` at the
        flat positions ``flat`` (zeros elsewhere), and the block adds
        ``rowsum(F_xs[:, x0:x1] * (F_ks[:, col:col + rows] @ C))`` to
        :math:`P c` (``F_x`` the rows, ``F_q`` the lower block, ``F_k`` the
        ``k``-th left block; :meth:`_sources`).
        """
        n, d = self.n_features, self.degree if degree is None else degree
        top = math.comb(n, d)
        offset = sum(math.comb(n, t) for t in range(d))  # where level d starts
        # rank of a sorted d-subset s_1 < ... < s_d among the d-subsets in
        # lexicographic order: C(n, d) - 1 - sum_t C(n - 1 - s_t, d - t + 1).
        table = np.array([[math.comb(v, k) for k in range(d + 2)] for v in range(n)],
                         dtype=np.int64)

        def index(subsets):
            subsets = np.asarray(subsets, dtype=np.int64)
            rank = top - 1 - sum(table[n - 1 - subsets[..., t], d - t] for t in range(d))
            return offset + rank

        blocks = []
        for kind, xs, x0, x1, ks, col, rows, args in _top_layout(n, d)[0]:
            if kind == "box":  # every u-subset of [l, mid) with every (d-u)-subset of [mid, r)
                u, l, mid, r, _ = args
                left = _combinations(mid - l, u) + l
                right = _combinations(r - mid, d - u) + mid
                sets = np.concatenate([np.repeat(left, len(right), axis=0),
                                       np.tile(right, (len(left), 1))], axis=1)
                src = index(sets).reshape(len(left), len(right))
                if len(left) < len(right):  # the right subsets are the rows of C
                    src = src.T
                blocks.append((xs, x0, x1, ks, col, rows, src.ravel(),
                               np.arange(src.size, dtype=np.int64)))
                continue
            # A staircase: i = min S in [a, b), the rest of S in (i, r), the
            # last of the (d-1)-subsets of the source's interval [s, r).
            a, b, s, r = args
            n_prev = math.comb(r - s, d - 1)
            start = n_prev - rows
            suffix = _combinations(r - s, d - 1) + s
            flat, src = [], []
            for i in range(a, b):
                count = math.comb(r - 1 - i, d - 1)
                row0 = (n_prev - count) - start
                flat.append((row0 + np.arange(count, dtype=np.int64)) * (b - a) + (i - a))
                T = suffix[n_prev - count:]
                src.append(index(np.hstack([np.full((count, 1), i, dtype=np.int64), T])))
            blocks.append((xs, x0, x1, ks, col, rows, np.concatenate(src), np.concatenate(flat)))
        return blocks

    # Memory ------------------------------------------------------------
    @staticmethod
    def estimate_bytes(n_samples: int, n_features: int, degree: int,
                       solver: str, n_jobs: int = 1, n_outputs: int = 1,
                       domain: str = "cube") -> float:
        """Bytes a fit allocates beyond its input, from ``m``, ``n``, ``D``.

        Packed rows and masks (on the cube the packed rows, ``8 m
        ceil(n/64)`` bytes, are the design's only copy of the sample; off it
        also a float64 copy of ``X``), ``O(1)`` vectors of
        length ``m`` and ``D``, and per thread one chunk of lower-degree
        parities and of expanded float64 rows, the coefficient blocks and a
        length-``D`` accumulator;
        plus, for ``"exact"``, its QR block (``D + 1`` columns) and the
        copy of the ``D x D`` triangular factor that the SVD overwrites;
        for ``"exact"`` and ``"cholesky"`` with ``m < D``, instead, the
        explicit ``m x D`` rows and their SVD (the wide route).
        With ``n_outputs = c`` right-hand sides the vectors and blocks are
        ``c`` columns wide; off the cube the preconditioner's design on
        ``X**2`` is one more copy of the data.

        Parameters
        ----------
        n_samples : int
            Number of points ``m``.
        n_features : int
            Input dimension ``n``.
        degree : int
            Largest subset size ``d``.
        solver : {"lmn", "cg", "exact", "cholesky", "sketch"}
            The solver the fit uses.
        n_jobs : int, default=1
            Threads, each with its own chunk buffers.
        n_outputs : int, default=1
            Right-hand sides solved together (classes of a classifier).
        domain : {"cube", "real"}, default="cube"
            The design's domain.

        Returns
        -------
        float
            Estimated bytes.
        """
        m, n = n_samples, n_features
        words = max(1, -(-n // 64))
        D = sum(math.comb(n, j) for j in range(degree + 1))
        n_lower = D - math.comb(n, degree)
        chunk = _chunk_rows(m, n_lower, n)
        width = _block_width(n, degree)
        c = max(1, n_outputs)
        nbytes = 8.0 * m * (words + 6 * c) + (8.0 * m * n if domain == "real" else 0.0)
        nbytes += 8.0 * D * (words + 8 * c)
        if domain == "real":
            # (and the float32 copy of X that float32 products keep, _rows32)
            nbytes += 8.0 * m * (n + words) + 8.0 * D * words + 4.0 * m * n
        # Per thread: the chunk's blocks and temporaries, its accumulator, the
        # dense top-degree block products (and one block's temporary); once:
        # the dense coefficient blocks of the top degree.
        # (and the left blocks of a split layout, and their contiguous rows).
        dense, largest, widest, left = _top_dense_size(n, degree)
        per_thread = (chunk * (n_lower + 2 * n + left + (3 * max(width, widest) + 2) * c)
                      + D * c + dense * c + 2 * largest * c)
        nbytes += 8.0 * max(1, n_jobs) * per_thread + 8.0 * dense * c
        if solver in ("exact", "cholesky") and m < D:  # the wide route, _solve_wide
            nbytes += _wide_bytes(m, D, c)
        else:
            # _solve_exact's own chunk: stacked rows and features (and off the
            # cube the SVD of the equilibrated R: U and V^T); off the cube
            # also the fallback of "cholesky" and "sketch", after G is freed.
            rows = max(1, min(m, _CHUNK_BYTES // (16 * (D + c))))
            exact = (8.0 * (2 * (D + c) * (D + c) + 2 * rows * (D + c))
                     + (8.0 * D * D if domain == "real" else 0.0))
            # G, its factor, the chunk rows (<= D / 4 + ...)
            normal = 8.0 * (2 * D * D + 2 * D * c) + max(_CHUNK_BYTES, 2.0 * D * D)
            if solver == "exact":
                nbytes += exact
            elif solver in ("cholesky", "sketch"):
                nbytes += max(normal, exact) if domain == "real" else normal
        if solver == "sketch":  # the sample's X and its design; CG's vectors
            s = _sketch_rows(m, D)
            nbytes += 8.0 * (s * (2 * n + words) + 6 * D * c)
        if (solver == "sketch" or solver == "cholesky" and m >= D) and _moments_apply(
                n, degree, domain, _sketch_rows(m, D) if solver == "sketch" else m):
            # The moment route (_moment_gram): its tables and buffers; the
            # sketch's float32 Gram is within the 8 D^2 counted above.
            nbytes += _MomentPlan(n, degree).nbytes(_moment_rows(D), n_jobs)
        return nbytes

    # Products ------------------------------------------------------------
    def _over_rows(self, work, size, top=False, dtype=np.float64):
        """Sum ``work(start, stop, total)`` over row chunks, split across threads.

        Each of ``n_jobs`` threads takes a contiguous share of the rows and
        accumulates into its own length-``size`` array.  With ``top=True``
        it is called as ``work(start, stop, total, dense)`` with the
        thread's dense top-degree accumulators (:meth:`_top_accumulators`),
        folded into ``total`` once at the end of the share rather than
        gathered from every chunk (that gather was a quarter of
        :meth:`normal_matvec` at ``n = 128, d = 3``).  BLAS is held to one
        thread meanwhile: its thread pool on these chunk-sized products cost
        up to ten times the CPU time on a loaded 2-core machine, and nested
        under our threads it only competes with them.

        ``dtype`` is the precision of the dense accumulators (``total`` is
        float64 always).  float32 ones are added into float64 ones every
        ``_FOLD_ROWS`` rows, so a float32 sum runs over fewer than that
        many plus one chunk and its error stays near
        ``eps32 * sqrt(_FOLD_ROWS)`` of the terms' scale for any ``m`` (a
        float32 sum over all rows would grow with ``m``).  float32 chunks
        have ``2 * _chunk_rows`` rows, the same bytes.
        """
        m = self.n_samples
        jobs = max(1, min(self.n_jobs, m // self._chunk_rows))
        # float32 chunks take twice the rows in the same bytes (2-5% faster
        # a call than _chunk_rows at n = 64..128, d = 3; float64 is slowest
        # with 256 rows).
        step = self._chunk_rows if dtype == np.float64 else 2 * self._chunk_rows
        fold = m if dtype == np.float64 else max(step, _FOLD_ROWS)

        def share(bounds):
            lo, hi = bounds
            total = np.zeros(size)
            if not top:
                for start in range(lo, hi, step):
                    work(start, min(start + step, hi), total)
                return total
            dense = self._top_accumulators(total.shape[1:], dtype)
            # float32 sums are added into float64 copies of the dense blocks
            # (a contiguous add; gathering into total every fold cost 6% of
            # a call at n = 128, d = 3) and gathered once at the end.
            wide = dense if dtype == np.float64 else self._top_accumulators(total.shape[1:])
            pending = 0  # rows summed in dense since its last fold
            for start in range(lo, hi, step):
                stop = min(start + step, hi)
                work(start, stop, total, dense)
                pending += stop - start
                if wide is not dense and (pending >= fold or stop == hi):
                    for W, G in zip(wide, dense):
                        W += G
                        G.fill(0.0)
                    pending = 0
            self._fold_top(total, wide)
            return total

        edges = np.linspace(0, m, jobs + 1).astype(int)
        if dtype == np.float32 and self._X is not None:
            self._rows32()  # made once here, not by two threads at once
        with _one_thread_blas():
            if jobs == 1:
                return share((0, m))
            # Each share in a copy of the caller's context: numpy's errstate
            # lives there (a solver's np.errstate would not reach the pool).
            contexts = [contextvars.copy_context() for _ in range(jobs)]
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                return sum(pool.map(lambda context, bounds: context.run(share, bounds),
                                    contexts, zip(edges[:-1], edges[1:])))

    def _lower_block(self, start, stop, dtype=np.float64):
        """Parities of degree ``< d`` of rows ``start:stop`` in ``dtype``, by
        degree (``Q``), and those rows in ``dtype`` (``Xc``, the source
        ``"x"``): ``(Q, Xc)``.  On the cube the rows are expanded from their
        bits (exact in float32); real rows in float32 are those of the
        design's rounded copy (:meth:`_rows32`).  From degree 2 on the rows
        are ``Q``'s level 1, a view (no copy)."""
        n = self._n_features
        if self._X is None:
            rows = _unpack(self._xbits[start:stop], n, dtype)
        elif dtype == np.float32:
            rows = self._rows32()[start:stop]
        else:
            rows = self._X[start:stop]
        Q = np.empty((stop - start, self.n_lower), dtype=dtype)
        # Columns [1 + n, _first) are pairs no product reads (degree 3).
        _parity.parity_levels(rows, self._level_counts, self._level_starts, Q, self._first)
        if self.degree >= 2:
            return Q, Q[:, 1:1 + n]
        return Q, rows.astype(dtype, copy=False)

    def _sources(self, Xc, Q):
        """The arrays the top-degree blocks read for one chunk: the rows
        ``"x"``, the lower block ``"q"`` and the left blocks ``0, 1, ...`` of
        the split layout (:func:`_top_layout`), built here."""
        arrays = {"x": Xc, "q": Q}
        for k, (l, mid, counts, starts, size) in enumerate(self._lefts):
            L = np.empty((Xc.shape[0], size), dtype=Xc.dtype)
            _parity.parity_levels(np.ascontiguousarray(Xc[:, l:mid]), counts, starts, L)
            arrays[k] = L
        return arrays

    def _predict_chunk(self, Q, Xc, coef, top, arrays=None):
        out = Q[:, :self._direct] @ coef[:self._direct]
        arrays = self._sources(Xc, Q) if arrays is None else arrays
        if coef.ndim == 2:  # a block of c coefficient columns: C is (rows, x1 - x0, c)
            c = coef.shape[1]
            for (xs, x0, x1, ks, col, rows, _, _), C in zip(self._blocks, top):
                Z = (arrays[ks][:, col:col + rows] @ C.reshape(rows, -1)).reshape(-1, x1 - x0, c)
                out += np.einsum("ij,ijk->ik", arrays[xs][:, x0:x1], Z)
            return out
        for (xs, x0, x1, ks, col, rows, _, _), C in zip(self._blocks, top):
            out += np.einsum("ij,ij->i", arrays[xs][:, x0:x1], arrays[ks][:, col:col + rows] @ C)
        return out

    def _correlate_chunk(self, Q, Xc, r, grad, dense, arrays=None):
        """Add the chunk's lower-degree correlations to ``grad`` and its
        top-degree block products to the dense accumulators ``dense``
        (``arrays``: :meth:`_sources` of the chunk, built if not given)."""
        direct = Q[:, :self._direct]
        grad[:self._direct] += direct.T @ r if r.ndim == 2 else r @ direct
        arrays = self._sources(Xc, Q) if arrays is None else arrays
        if r.ndim == 2:
            for (xs, x0, x1, ks, col, rows, _, _), G in zip(self._blocks, dense):
                W = (arrays[xs][:, x0:x1, None] * r[:, None, :]).reshape(r.shape[0], -1)
                G += arrays[ks][:, col:col + rows].T @ W
            return
        for (xs, x0, x1, ks, col, rows, _, _), G in zip(self._blocks, dense):
            G += arrays[ks][:, col:col + rows].T @ (arrays[xs][:, x0:x1] * r[:, None])

    def _top_accumulators(self, tail, dtype=np.float64):
        """Zeroed dense ``(rows, (x1 - x0) * c)`` block products, one per block
        (``tail = (c,)`` for ``c`` columns, ``()`` for one)."""
        c = int(np.prod(tail, dtype=np.int64))
        return [np.zeros((rows, (x1 - x0) * c), dtype=dtype)
                for _, x0, x1, _, _, rows, _, _ in self._blocks]

    def _fold_top(self, grad, dense):
        """Gather the coefficients' entries of the dense block products into
        ``grad`` (the structural zeros are dropped)."""
        tail = grad.shape[1:]
        for (_, _, _, _, _, _, src, flat), G in zip(self._blocks, dense):
            grad[src] += G.reshape((-1,) + tail)[flat]

    def _top_matrices(self, coef, dtype=np.float64):
        """The dense ``(rows, x1 - x0)`` coefficient matrix of every block
        (``(rows, x1 - x0, c)`` for a ``(D, c)`` block of coefficients), in
        ``dtype``."""
        top = []
        for _, x0, x1, _, _, rows, src, flat in self._blocks:
            C = np.zeros((rows, x1 - x0) + coef.shape[1:], dtype=dtype)
            C.reshape((rows * (x1 - x0),) + coef.shape[1:])[flat] = coef[src]
            top.append(C)
        return top

    def _rows32(self) -> np.ndarray:
        """Real X rounded to float32, made on the first float32 product and
        kept (``4 m n`` bytes, counted by :meth:`estimate_bytes`): the
        products then stream half the bytes and round nothing again."""
        if getattr(self, "_X32", None) is None:
            X32 = self._X.astype(np.float32)
            X32.flags.writeable = False
            self._X32 = X32
        return self._X32

    def _largest_abs(self) -> float:
        """``max |x|`` over the sample (1 on the cube), computed once."""
        if getattr(self, "_largest", None) is None:
            self._largest = 1.0 if self._X is None else _largest_magnitude(self._X)
        return self._largest

    def _use_popcount(self):
        return self._domain == "cube" and (self.products == "popcount" or self.degree == 0)

    def _check_operand(self, value, name, length):
        """A finite float64 ``(length,)`` vector or ``(length, c)`` block."""
        if np.ndim(value) == 2:
            array = check_matrix(value, name)
            if array.shape[0] != length:
                raise ValueError(f"{name} must have {length} rows, got {array.shape[0]}")
            return array
        return check_vector(value, name, length=length)

    def _check_dtype(self, dtype):
        """``np.float64`` or ``np.float32``; float32 runs in float64 where the
        products have no float32 route (the popcount kernels, degree 0), and
        is refused on real X whose monomials leave float32's range
        (:func:`_float32_safe`)."""
        try:
            kind = np.dtype(dtype).type
        except TypeError:
            kind = None
        if kind not in (np.float64, np.float32):
            raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
        if kind == np.float32 and not _float32_safe(self):
            raise ValueError(f"dtype=np.float32: the degree-{self.degree} monomials of X "
                             f"(max |x| = {self._largest_abs():.3g}) are beyond 2^+-"
                             f"{_FLOAT32_MAX_LOG2}, where float32 products overflow or their "
                             "squares underflow; use np.float64 or rescale X")
        return kind

    def _checked_result(self, product, what, operand, dtype):
        """``product(operand, dtype)`` of the public products, refused when it
        overflows (finite operands, so only the monomials of real X can: the
        estimators check X's range at fit, a design on its own did not)."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = product(operand, dtype)
        if not np.isfinite(out).all():
            raise ValueError(f"{what} overflows {np.dtype(dtype).name}: the degree-"
                             f"{self.degree} monomials of X (max |x| = "
                             f"{self._largest_abs():.3g}) times the operand leave its "
                             "range; rescale X or the operand")
        return out

    def matvec(self, coef: np.ndarray, *, dtype=np.float64) -> np.ndarray:
        """Predictions :math:`P c`.

        Parameters
        ----------
        coef : array_like of shape (D,) or (D, c)
            One coefficient per parity, in the order of :func:`parity_subsets`
            (a column per output for a block).
        dtype : {np.float64, np.float32}, default=np.float64
            Precision of the products (see :meth:`normal_matvec`).

        Returns
        -------
        ndarray of float64, shape (m,) or (m, c)
        """
        return self._checked_result(self._matvec, "P c", self._check_operand(
            coef, "coef", self.n_output_features), self._check_dtype(dtype))

    # The public products validate their vector and call these, which trust
    # it (finite float64, C-contiguous, the right length): the solvers call
    # them directly, so no check runs inside an iteration.
    def _matvec(self, coef: np.ndarray, dtype=np.float64) -> np.ndarray:
        self._check_record()
        shape = (self.n_samples,) + coef.shape[1:]
        if self._use_popcount():
            if coef.ndim == 2:
                return np.column_stack([self._matvec(np.ascontiguousarray(column))
                                        for column in coef.T]).reshape(shape)
            out = np.empty(self.n_samples)
            _parity.parity_matvec(self._xbits, self._masks, coef, out)
            return out
        if self.degree == 0:  # real domain: the constant column only
            return np.broadcast_to(coef[0], shape).copy()
        top = self._top_matrices(coef, dtype)
        coef = coef.astype(dtype, copy=False)
        out = np.empty(shape)

        def work(start, stop, _):
            Q, Xc = self._lower_block(start, stop, dtype)
            out[start:stop] = self._predict_chunk(Q, Xc, coef, top)

        self._over_rows(work, 0)
        return out

    def rmatvec(self, r: np.ndarray, *, dtype=np.float64) -> np.ndarray:
        """Correlations :math:`P^\\top r`.

        Parameters
        ----------
        r : array_like of shape (m,) or (m, c)
            One value per point (a column per output for a block).
        dtype : {np.float64, np.float32}, default=np.float64
            Precision of the products (see :meth:`normal_matvec`).

        Returns
        -------
        ndarray of float64, shape (D,) or (D, c)
        """
        return self._checked_result(self._rmatvec, "P^T r", self._check_operand(
            r, "r", self.n_samples), self._check_dtype(dtype))

    def _rmatvec(self, r: np.ndarray, dtype=np.float64) -> np.ndarray:
        self._check_record()
        if self._use_popcount():
            if r.ndim == 2:
                return np.column_stack([self._rmatvec(np.ascontiguousarray(column))
                                        for column in r.T])
            grad = np.empty(self.n_output_features)
            _parity.parity_rmatvec(self._xbits, self._masks, r, grad)
            return grad
        if self.degree == 0:
            return r.sum(axis=0, keepdims=True).reshape((1,) + r.shape[1:])

        def work(start, stop, grad, dense):
            Q, Xc = self._lower_block(start, stop, dtype)
            self._correlate_chunk(Q, Xc, r[start:stop].astype(dtype, copy=False), grad, dense)

        return self._over_rows(work, (self.n_output_features,) + r.shape[1:], top=True,
                               dtype=dtype)

    def normal_matvec(self, coef: np.ndarray, *, dtype=np.float64) -> np.ndarray:
        """:math:`P^\\top P c`, fusing both products so each chunk's parities
        are built once.

        Parameters
        ----------
        coef : array_like of shape (D,) or (D, c)
            One coefficient per parity (a column per output for a block).
        dtype : {np.float64, np.float32}, default=np.float64
            Precision of the products.  ``np.float32``: the parities (on
            the cube exactly +-1; real rows are rounded to float32 first, a
            relative error of ``eps32 = 6e-8`` in every coordinate) and the
            coefficients rounded to float32, with ``sgemm`` (up to twice
            the rate of ``dgemm``); the chunk sums are float32, folded into
            float64 totals every ``_FOLD_ROWS`` rows, so the result
            (float64) is within a few ``eps32`` of the float64 one relative
            to the sums of the terms' magnitudes, :math:`|P|^\top |P| |c|`
            (on the cube relative to its largest entry: ``4e-7`` to
            ``5e-7`` measured at ``n = 64`` and ``128``, ``d = 3``,
            ``m = 20000``; real rows far from the origin cancel, so there
            the error relative to the result is larger: ``3.4e-5`` for
            ``X + 1e6`` at ``n = 10``, ``d = 2``).  Real X whose monomials
            leave float32's range (:func:`_float32_safe`) is refused.  The
            popcount route and degree 0 run in float64 either way.

        Returns
        -------
        ndarray of float64, shape (D,) or (D, c)
        """
        return self._checked_result(self._normal_matvec, "P^T P c", self._check_operand(
            coef, "coef", self.n_output_features), self._check_dtype(dtype))

    def _normal_matvec(self, coef: np.ndarray, dtype=np.float64) -> np.ndarray:
        self._check_record()
        if self._use_popcount() or self.degree == 0:
            return self._rmatvec(self._matvec(coef))
        if self._quadratic and coef.ndim == 1 and dtype == np.float32:
            return self._quadratic_normal_matvec(coef, dtype)
        top = self._top_matrices(coef, dtype)
        coef = coef.astype(dtype, copy=False)

        def work(start, stop, grad, dense):
            Q, Xc = self._lower_block(start, stop, dtype)
            arrays = self._sources(Xc, Q)  # built once for both products
            self._correlate_chunk(Q, Xc, self._predict_chunk(Q, Xc, coef, top, arrays), grad,
                                  dense, arrays)

        return self._over_rows(work, (self.n_output_features,) + coef.shape[1:], top=True,
                               dtype=dtype)

    def _quadratic_normal_matvec(self, coef: np.ndarray, dtype) -> np.ndarray:
        r""":math:`P^\top P c` of a degree-2 design as a quadratic form:
        :math:`(Pc)_r = c_\emptyset + c_1 \cdot x_r + x_r^\top U x_r` with
        the symmetric :math:`U_{ij} = c_{ij} / 2`, and :math:`P^\top P c` read
        off :math:`\sum_r (Pc)_r (1, x_r)` and :math:`\sum_r (Pc)_r x_r
        x_r^\top` (:func:`sparselearn._kernels._parity.quadratic_normal`, a
        chunk of rows at a time; each chunk's sums, float32 or float64 as
        ``dtype``, added to float64 totals: float32 sums run over at most
        ``2 * _chunk_rows`` rows, within ``_FOLD_ROWS``)."""
        n = self._n_features
        upper = np.triu_indices(n, 1)  # the pairs in lexicographic order
        U = np.zeros((n, n))
        U[upper] = 0.5 * coef[n + 1:]
        U = (U + U.T).astype(dtype)
        c1 = coef[1:n + 1].astype(dtype)
        X = self._X if dtype == np.float64 else self._rows32()
        rows = self._chunk_rows if dtype == np.float64 else 2 * self._chunk_rows
        # Each thread's buffers, made once per call: a fresh ~0.4 MB buffer a
        # chunk is a fresh mmap (past glibc's threshold), whose page faults
        # cost a fifth of a float32 call on the 2-core VM.
        buffers = {}

        def work(start, stop, total):
            k = stop - start
            thread = threading.get_ident()
            if thread not in buffers:
                buffers[thread] = (np.empty((rows, n), dtype), np.empty(n + 1, dtype),
                                   np.empty((n, n), dtype))
            Z, g, M = buffers[thread]
            _parity.quadratic_normal(X[start:stop], float(coef[0]), c1, U, Z[:k], g, M)
            total[:n + 1] += g
            total[n + 1:] += M.ravel()

        total = self._over_rows(work, n + 1 + n * n, dtype=dtype)
        return np.concatenate([total[:n + 1], total[n + 1:].reshape(n, n)[upper]])

    def _explicit_rows(self, start, stop, out):
        """The explicit feature rows ``P[start:stop]`` into ``out`` (``(k, D)``)."""
        if self._domain == "cube":
            _parity.parity_features(self._xbits[start:stop], self._masks, out)
        else:
            _parity.parity_levels(self._X[start:stop], self._all_counts,
                                  self._all_starts, out)

    def diagonal(self) -> np.ndarray:
        r"""The diagonal of :math:`P^\top P`: :math:`\sum_i \prod_{j \in S} x_{ij}^2`.

        On the cube every entry is ``m``.  Off it, the same products on
        ``X**2`` summed over the rows: one pass (:meth:`rmatvec` of a design
        on ``X**2`` with a vector of ones), the Jacobi preconditioner of the
        solvers.

        Returns
        -------
        ndarray of shape (D,)
        """
        self._check_record()
        if self._domain == "cube":
            return np.full(self.n_output_features, float(self.n_samples))
        squares = ParityDesign._from_checked(self._X ** 2, self.degree, self.n_jobs,
                                             self.max_bytes, domain="real")
        return squares._rmatvec(np.ones(self.n_samples))

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
            self._explicit_rows(start, stop, P)
            G += P.T @ P
            b += P.T @ y[start:stop]
        return G, b


# ---------------------------------------------------------------- solvers
def _jacobi(design: ParityDesign, alpha):
    """The inverse diagonal of :math:`(P^\top P + \alpha I) / m`, or ``None`` on
    the cube, where that diagonal is constant and changes no CG iterate."""
    if design.domain == "cube":
        return None
    diagonal = (design.diagonal() + alpha) / design.n_samples
    # A zero column (all its rows 0) has a zero diagonal and, unpenalised, no
    # effect on the solution: any positive scale keeps CG in the row space.
    diagonal[diagonal <= 0.0] = 1.0
    return 1.0 / diagonal


# Mixed-precision CG (_solve_mixed).  Each inner CG, on float32 products,
# stops at this relative residual or below: well above where CG on float32
# products stalls (3.5e-7 of ||P^T y|| at n = 64..128, d = 3, m = 20,000),
# so the float64 residual tracks the inner one; each refinement then cuts the
# float64 residual by about this factor.
_MIXED_INNER_TOL = 1e-5
# A refinement that cuts the float64 residual by less than this factor means
# the float32 products are too coarse for the system: finish in float64.
_MIXED_MIN_GAIN = 0.5
# Designs with fewer than this many m * D entries keep float64 CG under
# products="auto": there a call is dominated by per-block overhead, not by
# the gemms float32 speeds up, and the extra float64 residuals cost more.
_MIXED_MIN_ENTRIES = 2**24
# Under products="auto", alpha = 0 runs mixed only for tol >= this: a
# rank-deficient P (a repeated coordinate, say) then picks up a null-space
# component of the float32 rounding, about 1e-6 of ||c|| (n = 20, d = 3,
# m = 13,000 with a constant coordinate: 7.9e-7 against lstsq, float64 CG
# 5.7e-11, both at tol = 1e-10), which no residual sees; at these
# tolerances it is within the accuracy kappa * tol the stopping rule gives.
_MIXED_MIN_TOL = 1e-6
# An inner float32 CG that needs more iterations than this for its 1e-5 cut
# is on an ill-conditioned system, where each refinement's restart throws
# away more than float32 saves (n = 12, d = 3, m = 330, tol = 1e-10: float64
# CG converged in 392 iterations, mixed not in 500): the rest runs float64.
_MIXED_MAX_INNER = 64


# Float32 products of a real design (_float32_safe) need its largest
# monomial, max(1, max |x|)^d, and for small X (max |x| < 1) the inverse of
# its largest degree-d one, max |x|^-d, within 2^this: the normal product
# squares the monomials and sums m of them, and float32 spans 2^+-126.
_FLOAT32_MAX_LOG2 = 40


def _float32_safe(design) -> bool:
    """Whether float32 products keep a design's values in float32's range:
    always on the cube (+-1); on real X when ``d log2(max |x|)`` is within
    ``+-_FLOAT32_MAX_LOG2`` (monomials of ``X * 1e7`` at ``d = 3`` would
    overflow a float32 sum of their squares; those of ``X * 1e-12``
    underflow to zero)."""
    if design.domain == "cube":
        return True
    largest = design._largest_abs()
    if not largest > 0.0:  # all of X zero: nothing for float32 to speed up
        return False
    return abs(design.degree * math.log2(largest)) <= _FLOAT32_MAX_LOG2


def _mixed_applies(design, alpha, tol, products="auto", preconditioned=False):
    """Whether CG runs mixed precision (:func:`_solve_mixed`): ``products``
    is ``"float64"``, ``"mixed"`` or ``"auto"`` (mixed on a design of at
    least ``_MIXED_MIN_ENTRIES`` entries with float32 products, if
    ``alpha > 0``, or ``m >= D`` and ``tol >= _MIXED_MIN_TOL``).  Float32
    products need the cube or, with ``preconditioned`` (the sketch's
    factor, which keeps each inner solve to a few iterations), a real
    design whose range :func:`_float32_safe` accepts; the Jacobi CG of real
    designs keeps float64 (its inner solves would be long, and float32
    rounding of ``X`` perturbs an ill-conditioned operator by
    ``kappa * 1e-7``)."""
    if products not in ("auto", "float64", "mixed"):
        raise ValueError(f"products must be 'auto', 'float64' or 'mixed', got {products!r}")
    supported = (isinstance(design, ParityDesign) and not design._use_popcount()
                 and design.degree >= 1
                 and (design.domain == "cube" or (preconditioned and _float32_safe(design))))
    m, D = design.n_samples, design.n_output_features
    if products == "mixed":
        return supported
    # Not for alpha = 0 with m < D: the float32 rounding leaves a null-space
    # component of about 1e-6 relative (m = 100, D = 176: 6e-6 against
    # lstsq's minimum-norm solution, float64 CG 1e-10), which no float64
    # residual sees.
    return (products == "auto" and supported and m * D >= _MIXED_MIN_ENTRIES
            and (alpha > 0 or (m >= D and tol >= _MIXED_MIN_TOL)))


def _cg_columns(design, R0, alpha, rtol, max_iter, dtype, precondition=None):
    r"""CG on :math:`(P^\top P + \alpha I) E / m = R_0`, column by column in
    lockstep (one pass over the data per iteration for all columns, as
    :func:`_solve_block_cg`), from ``E = 0``, each column stopping when its
    recursive residual is below ``rtol[j] * ||R_0[:, j]||``.  Products in
    ``dtype``; ``precondition`` (``(D, k)`` float64 to the same, the
    inverse of a matrix close to the operator) makes it preconditioned CG,
    unpreconditioned without.  Returns ``(E, iterations, converged)``
    (every column below its threshold)."""
    m = design.n_samples
    apply = np.array if precondition is None else precondition  # a new array either way
    E = np.zeros_like(R0)
    R = R0.copy()
    P = apply(R)
    rz = np.einsum("ij,ij->j", R, P)
    threshold = rtol * np.linalg.norm(R0, axis=0)
    active = np.flatnonzero(np.linalg.norm(R, axis=0) > threshold)
    k = 0
    while active.size and k < max_iter:
        Pa = np.ascontiguousarray(P[:, active])
        if Pa.shape[1] == 1:  # the vector path of the products is faster
            AP = design._normal_matvec(Pa[:, 0], dtype)[:, None]
        else:
            AP = design._normal_matvec(Pa, dtype)
        AP = AP / m + (alpha / m) * Pa
        step = rz[active] / np.einsum("ij,ij->j", Pa, AP)
        E[:, active] += step * Pa
        R[:, active] -= step * AP
        k += 1
        going = np.linalg.norm(R[:, active], axis=0) > threshold[active]
        active, Pa = active[going], Pa[:, going]
        if not active.size or k == max_iter:
            break  # no next direction: the last preconditioner solve saved
        Z = apply(np.ascontiguousarray(R[:, active]))
        rz_new = np.einsum("ij,ij->j", R[:, active], Z)
        P[:, active] = Z + (rz_new / rz[active]) * Pa
        rz[active] = rz_new
    return E, k, active.size == 0


def _solve_mixed(design: ParityDesign, B, alpha, tol, max_iter, precondition=None):
    r"""Mixed-precision CG on the columns of :math:`A C = B`,
    :math:`A = (P^\top P + \alpha I) / m`, ``B`` ``(D, c)`` (float64, from
    a float64 :math:`P^\top Y / m`): iterative refinement.

    From :math:`C_0 = 0`, with the float64 residual :math:`R_k = B - A C_k`:
    an inner CG (:func:`_cg_columns`) on :math:`A E = R_k` with float32
    products (:meth:`ParityDesign.normal_matvec`, ``dtype=np.float32``),
    stopped at a relative residual of ``max(_MIXED_INNER_TOL, tol ||B|| /
    (2 ||R_k||))``, then :math:`C_{k+1} = C_k + E` and :math:`R_{k+1}`
    from one float64 product.  A column stops when
    :math:`\|R_k\| < \mathrm{tol}\,\|B\|` in float64: the stopping rule
    of :func:`_solve_cg`, so its accuracy bound holds as stated there.
    Each refinement cuts :math:`\|R\|` by about ``_MIXED_INNER_TOL``
    (the float32 error of :math:`A E` is about ``1e-6`` of
    :math:`\|R_k\|`); should one cut it by less than ``_MIXED_MIN_GAIN``
    or an inner solve need ``_MIXED_MAX_INNER`` iterations (an ill-conditioned
    system, where restarts cost more than float32 saves), the rest runs on
    float64 products.

    Every inner iterate is a combination of products of :math:`A` with
    residuals, so it lies in the row space of :math:`P` up to rounding:
    for ``alpha = 0`` the limit is the minimum-norm solution, up to a
    null-space component of the order of the float32 rounding, which no
    float64 residual sees (measured against :func:`numpy.linalg.lstsq`:
    ``8e-7`` of :math:`\|C\|` at ``m = 20, D = 42`` and ``6e-6`` at
    ``m = 100, D = 176``; float64 CG ``4e-15`` and ``1e-10``), which is why
    ``products="auto"`` keeps float64 there.

    ``precondition`` (see :func:`_cg_columns`) preconditions every inner
    CG, float32 and float64 alike (the sketch's factor,
    :func:`_solve_sketch`); it changes the iterates, never the stopping
    rule.  An inner solve whose correction is not finite (float32 overflow)
    is discarded and the rest runs on float64 products.

    Returns ``(C, n_iter, converged)``; ``n_iter`` counts the inner
    iterations of all refinements (each refinement adds one float64
    product, not counted).
    """
    threshold = tol * np.linalg.norm(B, axis=0)
    C = np.zeros_like(B)
    R = B.copy()
    norms = np.linalg.norm(R, axis=0)
    active = np.flatnonzero((norms >= threshold) & (norms > 0.0))
    dtype, n_iter = np.float32, 0
    m = design.n_samples
    while active.size and n_iter < max_iter:
        rtol = np.maximum(_MIXED_INNER_TOL if dtype == np.float32 else 0.0,
                          0.5 * threshold[active] / norms[active])
        budget = max_iter - n_iter
        if dtype == np.float32:
            budget = min(budget, _MIXED_MAX_INNER)
        with np.errstate(over="ignore", invalid="ignore"):
            E, k, _ = _cg_columns(design, R[:, active], alpha, rtol, budget, dtype,
                                  precondition)
        n_iter += k
        if not np.isfinite(E).all():  # float32 overflowed: keep C, go on in float64
            if dtype == np.float64:  # float64 too: nothing left to try
                break
            dtype = np.float64
            continue
        C[:, active] += E
        Ca = np.ascontiguousarray(C[:, active])
        AC = (design._normal_matvec(Ca[:, 0])[:, None] if Ca.shape[1] == 1
              else design._normal_matvec(Ca))
        R[:, active] = B[:, active] - (AC / m + (alpha / m) * Ca)
        new = np.linalg.norm(R[:, active], axis=0)
        if dtype == np.float32 and (k >= _MIXED_MAX_INNER
                                    or not np.all(new <= _MIXED_MIN_GAIN * norms[active])):
            dtype = np.float64
        norms[active] = new
        active = active[new >= threshold[active]]
    return C, max(n_iter, 1), active.size == 0


def _solve_cg(design: ParityDesign, y, alpha, tol, max_iter, precondition=True,
              products="auto"):
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

    Off the cube (``design.domain == "real"``) the matrix is far from a
    multiple of the identity (correlated features, monomials of unequal
    scale) and, with ``precondition``, scipy's ``cg`` gets ``M =
    diag(P^T P + alpha I)^{-1}`` (Jacobi; :meth:`ParityDesign.diagonal`,
    one pass).  Its stopping rule stays the unpreconditioned residual
    above, so the accuracy bound is unchanged; only the iteration count
    drops.  A preconditioned iterate lies in the range of :math:`M P^\top`,
    not of :math:`P^\top`, so for a rank-deficient design with
    ``alpha = 0`` the limit is a least-squares solution but not always the
    minimum-norm one (use ``solver="exact"`` or ``alpha > 0`` there).

    ``products``: ``"float64"`` products throughout, or ``"mixed"``
    (:func:`_solve_mixed`: inner CGs on float32 products, refined against
    the float64 residual; same stopping rule, cube only), or ``"auto"``
    (mixed on a cube design with at least ``_MIXED_MIN_ENTRIES`` entries
    ``m * D``).
    """
    # BLAS on one thread for the solver's vector operations too: with two
    # OpenBLAS threads each level-1 call of length D leaves a spinning
    # thread behind, and float64 CG at n = 64, d = 3, m = 20,000 (41
    # iterations) took 11.5 s of wall clock (8.9 s CPU) instead of 6.2 s.
    with _one_thread_blas():
        return _solve_cg_one_thread(design, y, alpha, tol, max_iter, precondition, products)


def _solve_cg_one_thread(design, y, alpha, tol, max_iter, precondition, products):
    m = design.n_samples
    D = design.n_output_features
    b = design._rmatvec(y) / m
    if _mixed_applies(design, alpha, tol, products):
        coef, n_iter, converged = _solve_mixed(design, b[:, None], alpha, tol, max_iter)
        return coef[:, 0], n_iter, converged
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

    inverse = _jacobi(design, alpha) if precondition else None
    M = None if inverse is None else scipy.sparse.linalg.LinearOperator(
        (D, D), dtype=np.float64, matvec=lambda v: inverse * v.ravel())
    coef, info = scipy.sparse.linalg.cg(operator, b, rtol=tol, atol=0.0, maxiter=max_iter,
                                        M=M, callback=count)
    return coef, n_iter[0], info == 0


def _solve_block_cg(design: ParityDesign, Y, alpha, tol, max_iter, precondition=True,
                    products="auto"):
    r"""Conjugate gradient for ``c`` right-hand sides at once: the columns of
    :math:`(P^\top P + \alpha I) C = P^\top Y`, ``Y`` of shape ``(m, c)``.

    scipy has no block CG, so this is written here: ``c`` (Jacobi-
    preconditioned, as :func:`_solve_cg`) CG recurrences run in lockstep,
    each with its own step sizes, and every iteration computes the ``c``
    products :math:`P^\top P p_k` in one pass over the data
    (:meth:`ParityDesign._normal_matvec` on a ``(D, c)`` block).  It is not
    O'Leary's block CG, whose matrix-valued steps search the joint Krylov
    space but need rank-revealing deflation when columns converge or
    become dependent; here each column is exactly the CG of
    :func:`_solve_cg` (same iterates in exact arithmetic, same stopping rule
    :math:`\|r\| < \mathrm{tol}\,\|P^\top y\|` per column), and a
    converged column is frozen and dropped from later passes.  Returns
    ``(coef (D, c), n_iter, converged)``: ``n_iter`` is the number of passes,
    the iterations of the slowest column.  ``products`` as in
    :func:`_solve_cg` (mixed: :func:`_solve_mixed` on all columns).
    """
    with _one_thread_blas():  # as in _solve_cg
        return _solve_block_cg_one_thread(design, Y, alpha, tol, max_iter, precondition,
                                          products)


def _solve_block_cg_one_thread(design, Y, alpha, tol, max_iter, precondition, products):
    m = design.n_samples
    B = design._rmatvec(Y) / m
    if _mixed_applies(design, alpha, tol, products):
        return _solve_mixed(design, B, alpha, tol, max_iter)
    inverse = _jacobi(design, alpha) if precondition else None
    inverse = np.ones(B.shape[0]) if inverse is None else inverse
    C = np.zeros_like(B)
    R = B.copy()
    Z = inverse[:, None] * R
    P = Z.copy()
    rz = np.einsum("ij,ij->j", R, Z)
    threshold = tol * np.linalg.norm(B, axis=0)
    # A zero right-hand side is solved by C = 0 at once (scipy's rule too).
    norms = np.linalg.norm(R, axis=0)
    active = np.flatnonzero((norms >= threshold) & (norms > 0.0))
    n_iter = 0
    while active.size and n_iter < max_iter:
        Pa = np.ascontiguousarray(P[:, active])
        AP = design._normal_matvec(Pa) / m + (alpha / m) * Pa
        step = rz[active] / np.einsum("ij,ij->j", Pa, AP)
        C[:, active] += step * Pa
        R[:, active] -= step * AP
        Z[:, active] = inverse[:, None] * R[:, active]
        rz_new = np.einsum("ij,ij->j", R[:, active], Z[:, active])
        P[:, active] = Z[:, active] + (rz_new / rz[active]) * Pa
        rz[active] = rz_new
        n_iter += 1
        active = active[np.linalg.norm(R[:, active], axis=0) >= threshold[active]]
    return C, max(n_iter, 1), active.size == 0


def _upper_norm1(G):
    """The 1-norm of the symmetric matrix whose upper triangle ``G`` holds,
    summed in column blocks (no ``D x D`` temporary)."""
    D = G.shape[0]
    norms = np.zeros(D)
    for j0 in range(0, D, 512):
        j1 = min(D, j0 + 512)
        block = np.abs(G[:j1, j0:j1])
        block[j0:j1] = np.triu(block[j0:j1])
        norms[j0:j1] += block.sum(axis=0)  # column j: entries (i <= j, j)
        norms[:j1] += block.sum(axis=1)  # row i: entries (i, j > i) by symmetry
    norms -= np.abs(np.diagonal(G))  # the diagonal was counted twice
    return float(norms.max(initial=0.0))


# Moments of a real-valued design (solver="cholesky" and "sketch"): on real
# X an entry G[S, T] of P^T P is sum_r prod_{S xor T} x_r prod_{S and T} x_r^2,
# a function of the multiset S + T only, so G has far fewer distinct entries
# than D^2 / 2 (n = 32, d = 3: 2.6 million against 15 million; n = 64, d = 2:
# 0.8 million against 2.2 million).  Each is computed once by a matrix product
# (_MomentPlan, _moment_table) and scattered into G by a compiled kernel
# (_scatter_moments; 5.5 ns an entry and thread at n = 32, d = 3: asv
# MomentScatter, 2-core machine at load 1-2).
_MOMENT_MIN_FEATURES = 256  # below, syrk on the explicit rows (tiny products)
# Below, syrk: with the compiled scatter the float64 moment route of
# _normal_equations ties syrk at m = 1000 and is faster from m = 2000 (CPU
# seconds, two threads, loaded machine: n = 64, d = 2: 0.18 / 0.16 at
# m = 1000, 0.16 / 0.28 at 2000; n = 32, d = 3: 0.58 / 0.53, 0.80 / 1.05;
# n = 16, d = 3: 0.044 / 0.037 at 2000, 0.068 / 0.093 at 4000; timed by
# a scratch script in session 5, not kept: rerun both routes with
# _MOMENT_MIN_ROWS patched to re-measure).
_MOMENT_MIN_ROWS = 2000
_MOMENT_MAX_SHARE = 0.5  # the moment table at most this share of G's D^2 / 2 entries
# Product blocks of fewer rows or columns are merged with the next
# (_MomentPlan), rows x columns: BLAS is slow on skinny products.  The
# products compute a merged group as a staircase (_MomentPlan.staircase), so
# its unused slots cost table memory, not flops.  Two-thread wall s of the
# float32 table (best of 4, load 0.6; n = 32, d = 3, 20,000 rows / n = 64,
# d = 2, 20,400 rows): 8 x 32 0.90 / 0.33, 16 x 64 0.84 / 0.27, 32 x 128
# 0.93 / 0.27, 64 x 256 1.01 / 0.31 (session 7, a scratch loop over
# _moment_table32(_MomentPlan(n, d, group), ...), not kept).  The unused
# slots are a larger share at small n (n = 16, d = 3: 0.41 of D^2 / 2 at
# 16 x 64, 0.54 at 32 x 128), where _MOMENT_MAX_SHARE decides the route.
_MOMENT_GROUP = (16, 64)
# Float32 products (_moment_table): the float32 table is added to the float64
# one every this many rows (its rounding grows with the rows summed in it), and
# the F x W operand of a product is built in pieces of this many F columns
# (16 x 33 at n = 32, d = 3: the piece stays in L2; 8 to 64 measured within
# the noise of the loaded machine, 1.4-2.0 CPU s per 20,000 rows).
_MOMENT_FLUSH_ROWS = 2048
_MOMENT_PIECE_COLUMNS = 16


def _lex_rank_terms(n: int, p: int) -> np.ndarray:
    """``terms[j, v] = C(n - 1 - v, p - j)``: the lexicographic rank among the
    ``p``-subsets of ``range(n)`` of ``s_0 < ... < s_{p-1}`` is
    ``C(n, p) - 1 - sum_j terms[j, s_j]`` (lexicographic order is the reversed
    colexicographic order of the mirrored sets ``{n - 1 - s}``)."""
    return np.array([[math.comb(n - 1 - v, p - j) for v in range(n)] for j in range(p)],
                    dtype=np.int64).reshape(p, n)


def _lex_rank(columns, n: int, p: int) -> np.ndarray:
    """Lexicographic rank of the sets whose sorted elements are ``columns``
    (``p`` integer arrays of equal length)."""
    terms = _lex_rank_terms(n, p)
    rank = np.full(len(columns[0]) if p else 1, math.comb(n, p) - 1, dtype=np.int64)
    for j, column in enumerate(columns):
        rank -= terms[j][column]
    return rank


class _MomentPlan:
    r"""The distinct moments of a degree-``d`` design on ``n`` real inputs,
    the products that compute them and where each is stored.

    A moment is :math:`M(A, B) = \sum_r \prod_{i \in B} x_{ri}^2
    \prod_{i \in A} x_{ri}` for disjoint ``A``, ``B`` with
    :math:`|A| + 2|B| \le 2d`; :math:`G[S, T] = M(S \triangle T, S \cap T)`.
    With ``F`` and ``W`` the explicit rows on ``X`` and ``X**2`` (every
    level ``<= d`` of ``F``, ``< d`` of ``W``; ``a = 0`` sums ``W`` and
    ``F_d ** 2``):

    - ``|A| = a <= d``: :math:`F_a^\top W_{\le k_{max}}`, one product
      (``k_max = d - ceil(a / 2)``, ``W``'s levels ``0..k_max`` contiguous);
    - ``a > d``: ``A = A_1 + A_2`` with ``|A_1| = a // 2`` and
      :math:`\max A_1 < \min A_2 = t`; for each ``t`` the left factors are
      the ``a // 2``-subsets of ``range(t)`` (a prefix in colexicographic
      order) and the right ones the ``A_2`` with minimum ``t`` (a block in
      lexicographic order) times every ``W`` column of level ``<= k_max``:
      one product per ``t`` computes each moment once.  Consecutive ``t``
      whose product would have fewer than ``group = (rows, columns)``
      (default ``_MOMENT_GROUP``) share one block of the table (left
      prefix of the largest ``t``, the right blocks side by side; the rows
      beyond a block's own prefix are never read, nor computed:
      :meth:`staircase`), since BLAS is slow on skinny products.
    """

    def __init__(self, n: int, d: int, group=_MOMENT_GROUP):
        self.n, self.d = n, d
        group_rows, group_cols = group
        self.sizes = [math.comb(n, p) for p in range(d + 1)]
        self.starts = [0]
        for size in self.sizes:
            self.starts.append(self.starts[-1] + size)
        self.n_features = self.starts[-1]
        offset = 0
        self.dense = {}
        for a in range(d + 1):
            width = self.starts[d - (a + 1) // 2 + 1]
            self.dense[a] = (offset, width)
            offset += self.sizes[a] * width
        self.ordered = {}
        for a in range(d + 1, 2 * d + 1):
            a1, a2 = a // 2, a - a // 2
            wk = self.starts[d - a2 + 1]
            nb = [math.comb(n - 1 - t, a2 - 1) for t in range(n)]
            lexstart = np.cumsum([0] + nb).astype(np.int64)
            ts = [t for t in range(n) if math.comb(t, a1) and nb[t]]
            groups, i = [], 0
            while i < len(ts):
                j, width = i, nb[ts[i]]
                while (j + 1 < len(ts) and (math.comb(ts[j], a1) < group_rows
                                            or width * wk < group_cols)):
                    j += 1
                    width += nb[ts[j]]
                lo, hi = ts[i], ts[j]
                rows, cols = math.comb(hi, a1), int(lexstart[hi + 1] - lexstart[lo]) * wk
                groups.append((lo, hi, rows, cols, offset))
                offset += rows * cols
                i = j + 1
            # Per t: its group's offset, width and first right column.
            where = np.zeros((3, n), dtype=np.int64)
            for lo, hi, rows, cols, off in groups:
                where[:, lo:hi + 1] = np.array([[off], [cols], [lexstart[lo]]])
            self.ordered[a] = (a1, a2, wk, groups, lexstart, where)
        self.size = offset
        self._colex = {}

    def colex(self, a1):
        """The lexicographic ranks of the ``a1``-subsets in colexicographic order."""
        if a1 not in self._colex:
            combos = _combinations(self.n, a1)
            rank = np.zeros(len(combos), dtype=np.int64)
            for i in range(a1):
                rank += np.array([math.comb(v, i + 1) for v in range(self.n)])[combos[:, i]]
            self._colex[a1] = np.argsort(rank, kind="stable")
        return self._colex[a1]

    def nbytes(self, rows: int, n_jobs: int) -> float:
        """Bytes :func:`_moment_table` and :func:`_scatter_moments` allocate
        besides ``G`` with ``rows`` rows per chunk on ``n_jobs`` threads, the
        larger of the two precisions: with float64 products, per thread its
        float64 table, the chunk's explicit rows on ``X`` and ``X**2``,
        the gathered left operand, the largest right operand and product
        (:meth:`accumulate`); with float32 products one float64 table, up to
        two float32 group tables per thread and per thread the rows in both
        orders, ``X**2``'s and the largest ``F x W`` piece.  The scatter's
        subsets, rank tables and element terms once, a column of positions
        per thread."""
        D, d, n = self.n_features, self.d, self.n
        largest = max([self.sizes[a] * width for a, (_, width) in self.dense.items()]
                      + [rows_g * cols for (*_, groups, _, _) in self.ordered.values()
                         for (_, _, rows_g, cols, _) in groups])
        right = max([0] + [cols for (_, _, wk, groups, _, _) in self.ordered.values()
                           if wk > 1 for (_, _, _, cols, _) in groups])
        left = max([0] + [self.sizes[a1] for (a1, *_) in self.ordered.values()])
        jobs = max(1, n_jobs)
        double = jobs * 8.0 * (self.size + 2 * rows * D + largest + rows * (left + right))
        pieces = self.products32(_MOMENT_PIECE_COLUMNS)
        built = int(pieces[pieces[:, 2] > 1, 5].max(initial=0))
        # One float64 table, at most 2 n_jobs float32 group buffers (_moment_table32).
        single = (8.0 * self.size + 2 * jobs * 4.0 * self.size
                  + jobs * 4.0 * rows * (2 * D + self.starts[d] + built))
        scatter = (4.0 * D * max(d, 1) + 8.0 * (D + n * (d + 1) * (2 * d + 8))
                   + 16.0 * (2 * d + 1) ** 2 * n + 8.0 * jobs * D)
        return max(double, single) + scatter

    def accumulate(self, F, W, table):
        """Add the products of one chunk of rows (explicit rows ``F`` on ``X``,
        levels ``0..d``, and ``W`` on ``X**2``, levels ``0..d-1``) to ``table``
        (float64; each merged group as the staircase of :meth:`staircase`)."""
        st = self.starts
        for a, (offset, width) in self.dense.items():
            out = table[offset:offset + self.sizes[a] * width].reshape(self.sizes[a], width)
            if a == 0:  # sums of the squares: W's levels < d, then F_d ** 2
                lower = st[self.d]
                out[0, :lower] += W[:, :lower].sum(axis=0)
                top = F[:, lower:]
                out[0, lower:] += np.einsum("ij,ij->j", top, top)
                continue
            out += F[:, st[a]:st[a + 1]].T @ W[:, :width]
        for a1, a2, wk, groups, lexstart, _ in self.ordered.values():
            left = F[:, st[a1]:st[a1 + 1]][:, self.colex(a1)]
            right_level = F[:, st[a2]:st[a2 + 1]]
            for group in groups:
                lo, hi, rows, cols, off = group
                right = right_level[:, lexstart[lo]:lexstart[hi + 1]]
                if wk > 1:
                    right = (right[:, :, None] * W[:, None, :wk]).reshape(len(F), cols)
                out = table[off:off + rows * cols].reshape(rows, cols)
                nc = int(lexstart[hi + 1] - lexstart[lo])
                for r0, r1, c0, c1 in self.staircase(a1, lexstart, group, nc):
                    out[r0:r1, c0 * wk:c1 * wk] += left[:, r0:r1].T @ right[:, c0 * wk:c1 * wk]

    @staticmethod
    def staircase(a1, lexstart, group, stop, start=0):
        """The products that compute columns ``start:stop`` (in right-level
        columns, before ``wk``) of a merged ``group`` of an ordered level,
        as ``(r0, r1, c0, c1)``: left rows ``r0:r1`` against columns ``c0:c1``.

        The columns of ``t`` need only the first ``C(t, a1)`` left rows
        (the ``a1``-subsets of ``range(t)``), so the first ``t``'s prefix
        goes against every column and each later ``t``'s added
        ``C(t - 1, a1 - 1)`` rows against the columns from ``t`` on: no
        unused slot of the group is computed (n = 32, d = 3, 20,000 rows:
        110 GFLOP against 118 for whole blocks at 16 x 64, 131 at
        32 x 128); those slots stay as they were and no scatter reads them."""
        lo, hi = group[:2]
        # t_start[t - lo]: the group's first column of t (the last entry its width)
        t_start = [int(lexstart[t] - lexstart[lo]) for t in range(lo, hi + 2)]
        t0 = lo + bisect.bisect_right(t_start, start) - 1
        t1 = lo + bisect.bisect_right(t_start, stop - 1) - 1
        steps = [(0, math.comb(t0, a1), start)] + [
            (math.comb(t - 1, a1), math.comb(t, a1), t_start[t - lo])
            for t in range(t0 + 1, t1 + 1)]
        return [(r0, r1, c0, stop) for r0, r1, c0 in steps if r1 > r0]

    def products32(self, piece_columns: int) -> np.ndarray:
        """The products of :meth:`accumulate` as rows of
        :func:`sparselearn._kernels._moments.moment_products32` (``F``: 0,
        ``W``: 1, the colexicographic ``F``: 2): the dense levels as
        ``W^T F_a``, each ordered group as (right block)``^T`` left prefix,
        a right block of ``wk > 1`` split into pieces of at most
        ``piece_columns`` columns of ``F`` (its ``F x W`` operand is built
        per piece: a smaller buffer, in cache for the product).

        Each group (or piece) is the staircase of :meth:`staircase`."""
        st, rows_out = self.starts, []
        for a, (offset, width) in self.dense.items():
            if a:
                rows_out.append((1, 0, 1, 0, st[a], width, self.sizes[a], offset, width))
        for a1, a2, wk, groups, lexstart, _ in self.ordered.values():
            for group in groups:
                lo, hi, rows, cols, off = group
                first, nc = st[a2] + lexstart[lo], int(lexstart[hi + 1] - lexstart[lo])
                step = nc if wk == 1 else max(1, piece_columns)
                for c0 in range(0, nc, step):
                    for r0, r1, cs, ce in self.staircase(a1, lexstart, group, min(nc, c0 + step),
                                                         c0):
                        rows_out.append((0, first + cs, wk, 2, st[a1] + r0, (ce - cs) * wk,
                                         r1 - r0, off + r0 * cols + cs * wk, cols))
        return np.array(rows_out, dtype=np.int64).reshape(-1, 9)

    def scatter_arrays(self) -> tuple:
        """The arguments of :func:`sparselearn._kernels._moments.scatter_moments`
        that describe the plan: each subset's sorted elements (``D x
        max(d, 1)`` int32, levels by ``starts``), ``C(n, p)``, the rank
        terms ``C(n - 1 - v, p - j)``, the dense levels' offsets and widths,
        ``wk`` and ``where`` of the ordered levels, ``C(v, t)``."""
        n, d, D = self.n, self.d, self.n_features
        width = max(d, 1)
        elems = np.zeros((D, width), dtype=np.int32)
        for p in range(1, d + 1):
            elems[self.starts[p]:self.starts[p + 1], :p] = _combinations(n, p)
        terms = np.zeros((d + 1, width, n), dtype=np.int64)
        for p in range(1, d + 1):
            terms[p, :p] = _lex_rank_terms(n, p)
        wk = np.zeros(2 * d + 1, dtype=np.int64)
        where = np.zeros((3, 2 * d + 1, n), dtype=np.int64)
        for a, (_, _, wk_a, _, _, where_a) in self.ordered.items():
            wk[a], where[:, a] = wk_a, where_a
        dense = np.array([self.dense[a] for a in range(d + 1)], dtype=np.int64).reshape(-1, 2)
        binom = np.array([[math.comb(v, t) for t in range(d + 1)] for v in range(n)],
                         dtype=np.int64).reshape(n, d + 1)
        return (elems, np.array(self.starts, dtype=np.int64),
                np.array(self.sizes, dtype=np.int64), terms,
                np.ascontiguousarray(dense[:, 0]), np.ascontiguousarray(dense[:, 1]),
                wk, where, binom)

    def counts(self) -> np.ndarray:
        """``counts[t, i] = C(n - 1 - i, t - 1)`` (``t = 1..d``; row 0 unused),
        the lexicographic recursion of the explicit rows."""
        return np.array([[math.comb(self.n - 1 - i, t - 1) if t else 0 for i in range(self.n)]
                         for t in range(self.d + 1)], dtype=np.int64).reshape(self.d + 1, self.n)

    def index(self, A, B) -> np.ndarray:
        """Positions in the table of the moments ``M(A, B)`` (sorted element
        columns, lists of arrays; ``A`` and ``B`` disjoint)."""
        n, a, k = self.n, len(A), len(B)
        rB = (_lex_rank(B, n, k) if k else 0) + self.starts[k]
        if a <= self.d:
            offset, width = self.dense[a]
            return offset + (_lex_rank(A, n, a) if a else 0) * width + rB
        a1, a2, wk, _, _, where = self.ordered[a]
        t = A[a1].astype(np.int64)
        row = np.zeros(len(t), dtype=np.int64)
        for i in range(a1):
            row += np.array([math.comb(v, i + 1) for v in range(n)])[A[i]]
        col = (_lex_rank(A[a1:], n, a2) - where[2][t]) * wk + rB
        return where[0][t] + row * where[1][t] + col


def _moment_rows(D: int) -> int:
    """Rows per chunk of :func:`_moment_gram`: its products' inner dimension."""
    return int(max(256, 4 * _CHUNK_BYTES // (8 * D)))


def _moment_gram(design, G, Y=None, products=np.float64):
    r"""The upper triangle of :math:`P^\top P` written into ``G`` (Fortran-ordered
    ``D x D`` float64 or float32, real domain) from its distinct moments
    (:class:`_MomentPlan`); returns :math:`P^\top Y` when ``Y`` (``(m, c)``,
    float64 products only) is given.  :func:`_moment_table`, then
    :func:`_scatter_moments` unscaled."""
    table, B = _moment_table(design, Y, products)
    _scatter_moments(_MomentPlan(design.n_features, design.degree), table, G, design.n_jobs)
    return B


def _moment_table(design, Y=None, products=np.float64):
    r"""The distinct moments of a real design (the table of :class:`_MomentPlan`,
    float64) and :math:`P^\top Y` when ``Y`` is given (``None`` otherwise).

    With float64 ``products`` every moment is a sum over the same rows of the
    same products as the explicit Gram, in another order: equal to rounding
    (:meth:`_MomentPlan.accumulate`).  ``products=np.float32`` builds the
    chunk's rows in single precision and runs the products as ``sgemm``
    (twice the BLAS rate) accumulating into a float32 table with
    ``beta = 1`` (:mod:`sparselearn._kernels._moments`), flushed into the
    float64 one every ``_MOMENT_FLUSH_ROWS`` rows: moments then carry
    relative errors of about ``1e-7`` to ``1e-6`` (a preconditioner's
    accuracy, :func:`_solve_sketch`), the same on any number of threads
    (:func:`_moment_table32`).  With float64 products the rows are split
    into ``design.n_jobs`` contiguous shares, each on its own thread with
    its own table (one BLAS thread each), summed at the end.
    """
    m, n, d = design.n_samples, design.n_features, design.degree
    plan = _MomentPlan(n, d)
    D = plan.n_features
    single = products == np.float32
    if single and Y is not None:
        raise ValueError("P^T Y needs float64 products (products=np.float64)")
    rows = min(m, _moment_rows(D))
    X = design._X
    if single:
        return _moment_table32(plan, X, rows, design.n_jobs), None
    jobs = max(1, min(design.n_jobs, -(-m // rows)))
    edges = np.linspace(0, m, jobs + 1).astype(int)

    def share(lo, hi):
        table = np.zeros(plan.size)
        B = None if Y is None else np.zeros((D, Y.shape[1]))
        F = np.empty((min(rows, hi - lo), D))
        # X**2's levels below d only: no product reads level d of W (its
        # column sums are those of F_d ** 2), 4960 of 5489 columns at n = 32,
        # d = 3.
        W = np.empty((F.shape[0], plan.starts[d]))
        for start in range(lo, hi, rows):
            stop = min(start + rows, hi)
            k = stop - start
            design._explicit_rows(start, stop, F[:k])
            if d:  # (parity_levels writes the constant column even for no levels)
                _parity.parity_levels(np.square(X[start:stop]), design._level_counts,
                                      design._level_starts, W[:k])
            if B is not None:
                B += F[:k].T @ Y[start:stop]
            plan.accumulate(F[:k], W[:k], table)
        return table, B

    with _one_thread_blas():
        if jobs == 1:
            return share(0, m)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(share, edges[:-1], edges[1:]))
    table, B = parts[0]
    for other, other_B in parts[1:]:
        table += other
        if B is not None:
            B += other_B
    return table, B


def _moment_table32(plan, X, rows, n_jobs):
    r"""The float64 moment table of ``X`` from float32 products
    (:func:`_moment_table`), in groups of ``_MOMENT_FLUSH_ROWS`` rows.

    Each group's products are summed over its chunks of ``rows`` rows, in
    order, into a float32 buffer, and the buffers are added to the float64
    table in group order: the table is the same bit for bit on any number
    of threads.  The threads take the groups one at a time (a thread slowed
    by another process on its core takes fewer, where fixed halves of the
    rows made the fast thread wait); a finished group waits in its buffer
    until the groups before it are added, at most ``n_jobs`` of them (then
    its thread waits too, unless it holds the next group to add).
    """
    import threading

    m, d, D = X.shape[0], plan.d, plan.n_features
    counts, binom = plan.counts(), plan.scatter_arrays()[-1]
    starts = np.array(plan.starts, dtype=np.int64)
    kernel_products = plan.products32(_MOMENT_PIECE_COLUMNS)
    built = int(kernel_products[kernel_products[:, 2] > 1, 5].max(initial=0))
    size = max(rows, _MOMENT_FLUSH_ROWS // rows * rows)
    groups = [(lo, min(m, lo + size)) for lo in range(0, m, size)]
    jobs = max(1, min(n_jobs, len(groups)))
    table = np.zeros(plan.size)
    claim = itertools.count()  # next() is atomic under the GIL
    ready = threading.Condition()
    state = {"added": 0, "pending": {}, "free": [], "failed": False}

    def guarded():
        try:
            work()
        except BaseException:  # wake the others, which may wait for this group
            with ready:
                state["failed"] = True
                ready.notify_all()
            raise

    def work():
        k = min(rows, m)
        F, C = np.empty((k, D), np.float32), np.empty((k, D), np.float32)
        # X**2's levels below d only: no product reads level d of W.
        W = np.empty((k, plan.starts[d]), np.float32)
        R = np.empty(max(1, k * built), np.float32)
        while (g := next(claim)) < len(groups) and not state["failed"]:
            with ready:
                while (len(state["pending"]) >= jobs and g != state["added"]
                       and not state["failed"]):
                    ready.wait()
                free = state["free"]
                partial = free.pop() if free else np.zeros(plan.size, dtype=np.float32)
            for start in range(groups[g][0], groups[g][1], rows):
                stop = min(start + rows, groups[g][1])
                k = stop - start
                _moments.moment_rows32(X[start:stop], counts, starts, binom,
                                       F[:k], W[:k], C[:k])
                _moments.moment_products32(F[:k], W[:k], C[:k], R, kernel_products,
                                           plan.starts[d], partial)
            with ready:
                state["pending"][g] = partial
                while state["added"] in state["pending"]:
                    done = state["pending"].pop(state["added"])
                    # Overflowed float32 sums (inf, or inf - inf) are left for
                    # the caller's finiteness test (_solve_sketch falls back).
                    with np.errstate(over="ignore", invalid="ignore"):
                        np.add(table, done, out=table)
                    done[:] = 0.0
                    state["free"].append(done)
                    state["added"] += 1
                ready.notify_all()

    with _one_thread_blas():
        if jobs == 1:
            work()
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for future in [pool.submit(guarded) for _ in range(jobs)]:
                    future.result()
    return table


def _scatter_moments(plan, table, G, n_jobs, factor=1.0, shift=0.0, scale=None):
    r"""Every upper-triangle entry of ``G`` (Fortran-ordered ``D x D``, float32
    or float64) from the moment table:
    :math:`G_{ij} = (\mathrm{factor}\, M(S_i \triangle S_j, S_i \cap S_j)
    + \mathrm{shift}\,[i = j])\, s_i s_j` (``scale`` ``s``, ones by default),
    on ``n_jobs`` threads (:func:`sparselearn._kernels._moments.scatter_moments`).
    The strict lower triangle is left as it was."""
    D = plan.n_features
    scale = np.ones(D) if scale is None else np.ascontiguousarray(scale, dtype=np.float64)
    _moments.scatter_moments(table, *plan.scatter_arrays(), scale, float(factor),
                             float(shift), G.T, max(1, n_jobs))


def _use_moments(design) -> bool:
    """Whether :func:`_moment_gram` forms the Gram (real domain, at least
    ``_MOMENT_MIN_ROWS`` rows, ``D`` of at
    least ``_MOMENT_MIN_FEATURES`` and a table of at most ``_MOMENT_MAX_SHARE``
    of ``D^2 / 2`` entries) rather than ``syrk`` on the explicit rows."""
    return _moments_apply(design.n_features, design.degree, design.domain,
                          design.n_samples)


def _moments_apply(n: int, degree: int, domain: str, m: int) -> bool:
    """:func:`_use_moments` from ``n``, ``d``, the domain and ``m``."""
    if domain != "real" or m < _MOMENT_MIN_ROWS:
        return False
    D = sum(math.comb(n, t) for t in range(degree + 1))
    return (D >= _MOMENT_MIN_FEATURES
            and _MomentPlan(n, degree).size <= _MOMENT_MAX_SHARE * D * D / 2)


def _normal_equations(design: ParityDesign, Y):
    r"""The upper triangle of :math:`G = P^\top P` (Fortran-ordered ``D x D``;
    the strict lower triangle is zero) and :math:`B = P^\top Y` (``(D, c)``)."""
    D = design.n_output_features
    m = design.n_samples
    if _use_moments(design):
        G = np.zeros((D, D), order="F")
        return G, _moment_gram(design, G, Y)
    # Each chunk's product rewrites all of G: chunks of at least D / 4 rows
    # (a quarter of G's bytes) keep that update compute-bound; 2 MiB chunks
    # (48 rows at D = 5489) made it memory-bound.
    rows = int(max(1, min(m, max(_CHUNK_BYTES // (8 * D), D // 4))))
    # Only G's upper triangle is accumulated (BLAS syrk, half the flops of a
    # general product); chunk rows are C-ordered, so their transpose is the
    # Fortran-ordered D x k operand syrk wants, without a copy.
    G = np.zeros((D, D), order="F")
    B = np.zeros((D, Y.shape[1]))
    features = np.empty((rows, D))
    syrk = scipy.linalg.get_blas_funcs("syrk", (G,))
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        k = stop - start
        design._explicit_rows(start, stop, features[:k])
        G = syrk(1.0, features[:k].T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        B += features[:k].T @ Y[start:stop]
    return G, B


def _equilibration(diagonal) -> np.ndarray:
    """The symmetric scaling :math:`s_j = 1/\\sqrt{A_{jj}}` of a positive
    semidefinite matrix (``1`` where the diagonal entry is zero: a zero column)."""
    diagonal = np.asarray(diagonal, dtype=np.float64)
    s = np.ones_like(diagonal)
    positive = diagonal > 0.0
    s[positive] = 1.0 / np.sqrt(diagonal[positive])
    return s


def _original_min_norm(u, s, kept, null):
    r"""The minimum-norm :math:`c` in the original coordinates among
    :math:`c = S(u + N z)`, :math:`S = \mathrm{diag}(s)`: the scaled-coordinate
    solution ``u`` (``(D, c)``) mapped back, less its projection on the
    range of :math:`S N` (``null``, ``(D, k)``, orthonormal columns
    spanning the dropped directions, or ``None`` for the orthogonal
    complement of ``kept``; ``kept``, ``(D, D - k)``, the others,
    orthonormal and orthogonal to ``null``).  That range's orthogonal
    complement is the range of :math:`S^{-1} V_r` (``kept``), so the smaller
    of the two is orthonormalised (Householder QR)."""
    c = s[:, None] * u
    if null is not None and null.shape[1] == 0:
        return c
    if null is not None and null.shape[1] <= kept.shape[1]:
        Q = scipy.linalg.qr(s[:, None] * null, mode="economic", overwrite_a=True,
                            check_finite=False)[0]
        return c - Q @ (Q.T @ c)
    Q = scipy.linalg.qr(kept / s[:, None], mode="economic", overwrite_a=True,
                        check_finite=False)[0]
    return Q @ (Q.T @ c)


def _solve_cholesky(design: ParityDesign, y, alpha):
    r"""Ridge least squares from the normal equations, formed chunk by chunk.

    :math:`G = P^\top P` and :math:`B = P^\top Y` are accumulated from
    explicit rows (``8 D^2`` bytes, never the ``m x D`` matrix; on real data
    from :func:`_normal_equations`' distinct moments when
    :func:`_use_moments`), then
    :math:`(G + \alpha I) c = B` is solved by Cholesky (LAPACK ``posv``):
    the solution scikit-learn's ``Ridge(solver="cholesky")`` computes on the
    materialised features, at ``m D^2 + D^3 / 3`` flops whatever the
    conditioning, where CG's iteration count grows with it (correlated real
    features: hundreds of iterations).  Forming :math:`G` squares the
    condition number, so accuracy degrades like
    :math:`\kappa(P)^2 \varepsilon_{\mathrm{mach}}` (the same as
    ``Ridge``).  Off the cube the system is first equilibrated:
    :math:`A = G + \alpha I` becomes :math:`SAS`, :math:`S =
    \mathrm{diag}(A)^{-1/2}` (the columns of :math:`[P;\ \sqrt\alpha I]`
    scaled to unit norm), factored and solved for :math:`u`, and
    :math:`c = Su` (the same solution in exact arithmetic; badly scaled
    columns, such as monomials of ``X * 1e-6``, no longer look singular).
    On the cube every diagonal entry is :math:`m + \alpha` and nothing is
    scaled.  A matrix that is not numerically positive definite
    (``alpha = 0`` and a rank-deficient or merely ill-conditioned design:
    LAPACK fails or reports a reciprocal condition number of :math:`SAS`
    below :math:`\varepsilon_{\mathrm{mach}}`) falls back, off the cube,
    to :func:`_solve_exact`: the QR of the explicit rows, which never
    squares the condition number, decides the rank on the unit-norm columns
    and returns the minimum-norm solution.  (Truncating :math:`SAS`'s
    eigenvalues at :math:`D\,\varepsilon` instead dropped directions that
    carry the fit when :math:`\kappa(P)` passes
    :math:`\varepsilon^{-1/2}`: monomials of ``X + 1000``, ``n = 32``,
    ``d = 2``, left 160 times the least squared error; the QR costs
    about twice the normal equations.)  On the cube the rank is decided on
    :math:`A` (singular values of ``gelsd`` at most
    :math:`D\,\varepsilon_{\mathrm{mach}}` times the largest are
    dropped) and the minimum-norm solution of the system so truncated is
    returned.  With ``m < D`` (``G`` singular at
    ``alpha = 0``) :func:`_solve_wide` solves on the explicit rows instead.
    ``y`` may be ``(m,)`` or ``(m, c)``.  BLAS keeps its thread pool here (large
    products, unlike the chunked CG route).
    """
    D = design.n_output_features
    if design.n_samples < D:  # wide: G is singular at alpha = 0; the SVD of P
        return _solve_wide(design, y, alpha)
    Y = y.reshape(design.n_samples, -1)
    G, B = _normal_equations(design, Y)
    G[np.diag_indices(D)] += alpha
    # Off the cube, equilibrate: S (G + alpha I) S with S = diag(G + alpha I)^(-1/2)
    # (columns of P scaled to unit norm); on the cube that diagonal is m + alpha
    # everywhere, and no scaling keeps the results as they were.
    s = _equilibration(np.diag(G)) if design.domain == "real" else None
    if s is not None:
        G *= s[:, None]
        G *= s[None, :]
        B = B * s[:, None]
    # potrf in place, then the reciprocal condition number from the factor
    # (pocon), as scipy.linalg.solve(assume_a="pos") does, but without its
    # copy of G (8 D^2 bytes) and its slower batched path: at n = 32, d = 3
    # (D = 5489) that call took 3.1 s against 0.9 s for potrf + pocon + potrs.
    anorm = _upper_norm1(G)
    try:
        factor = scipy.linalg.cho_factor(G, lower=False, overwrite_a=True,
                                         check_finite=False)
        rcond, info = scipy.linalg.lapack.dpocon(factor[0], anorm)
        # An ill-conditioned factor (rcond below eps) would give a
        # rounding-dominated solution: take the fallback instead.
        singular = info != 0 or not rcond >= scipy.linalg.lapack.dlamch("E")
    except np.linalg.LinAlgError:
        singular = True
    if singular and s is not None:
        del G  # (8 D^2 bytes, before the QR's own)
        return _solve_exact(design, y, alpha)
    if singular:
        del G
        factor = None
        G, B = _normal_equations(design, Y)  # the factorisation overwrote G
        G[np.diag_indices(D)] += alpha
        full = np.triu(G) + np.triu(G, 1).T  # the lower triangle was never written
        del G
        coef = scipy.linalg.lstsq(full, B, lapack_driver="gelsd", check_finite=False,
                                  cond=D * np.finfo(np.float64).eps)[0]
    else:
        coef = scipy.linalg.cho_solve(factor, B, check_finite=False)
        if s is not None:
            coef *= s[:, None]
    return coef.reshape((D,) + y.shape[1:])


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

    ``y`` may be a block ``(m, c)`` of targets: ``[P\ Y]`` is factored at
    once and the ``c`` columns of :math:`z` are solved together.  Off the
    cube the explicit rows are the monomials of real ``X``: rank
    deficiencies are then not exact integer relations.  There the rank is
    decided on the column-equilibrated :math:`RS` (:math:`S` the inverse
    column norms of :math:`[P;\ \sqrt\alpha I]`, which are :math:`R`'s):
    singular values of :math:`RS` at most :math:`\tau\sigma_1(RS)` are
    dropped, :func:`numpy.linalg.lstsq`'s rule applied to the unit-norm
    columns, so monomials of small scale (``X * 1e-6``) are kept rather
    than cut off relative to the constant column; the minimum norm is
    still taken in the original coordinates: among the solutions of the
    truncated system the one of least :math:`\|c\|` is returned (an SVD
    of :math:`RS` finds the dropped directions when there are any,
    :func:`_original_min_norm`).  Nothing stronger than that rule is
    claimed for real data.

    Cost :math:`O(m D^2 + D^3)` time; memory :math:`16(D+1)^2` bytes for
    the stacked block and the copy of :math:`R` that ``gelsd`` overwrites
    (off the cube :math:`8D^2` more: the SVD's factors),
    plus about ``_CHUNK_BYTES`` (2 MiB) of chunk rows, within
    :meth:`ParityDesign.estimate_bytes`.  BLAS runs single-threaded.  With
    ``m < D`` :func:`_solve_wide` (an SVD of the explicit ``m x D`` rows,
    the same rule) replaces the QR.
    """
    m, D = design.n_samples, design.n_output_features
    if m < D:  # wide: the SVD of the explicit m x D rows
        return _solve_wide(design, y, alpha)
    Y = y.reshape(m, -1)
    c = Y.shape[1]
    # Rows per chunk: the chunk's features and its rows in the stacked
    # matrix take about _CHUNK_BYTES together.
    rows = int(max(1, min(m, _CHUNK_BYTES // (16 * (D + c)))))
    stacked = np.zeros((D + c + rows, D + c), order="F")
    stacked[np.arange(D), np.arange(D)] = math.sqrt(alpha)  # the ridge rows
    features = np.empty((rows, D))
    geqrf, geqrf_lwork = scipy.linalg.get_lapack_funcs(("geqrf", "geqrf_lwork"),
                                                       (stacked,))
    work, info = geqrf_lwork(m=stacked.shape[0], n=stacked.shape[1])
    lwork = max(int(np.real(work)), stacked.shape[1]) if info == 0 else 32 * stacked.shape[1]
    cutoff = max(m, D) * np.finfo(np.float64).eps
    # Single-threaded BLAS, as in ParityDesign._over_rows: on a loaded 2-core
    # machine its thread pool made a 2030 x 30 QR 500 times slower.
    with _one_thread_blas():
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            k = stop - start
            design._explicit_rows(start, stop, features[:k])
            stacked[D + c:D + c + k, :D] = features[:k]
            stacked[D + c:D + c + k, D:] = Y[start:stop]
            stacked[D + c + k:] = 0.0  # a short last chunk: zero rows change nothing
            stacked, _, _, info = geqrf(stacked, lwork=lwork, overwrite_a=True)
            if info != 0:  # pragma: no cover - only for invalid arguments
                raise RuntimeError(f"LAPACK geqrf failed with info={info}")
            # Keep the triangular factor; the Householder vectors below its
            # diagonal (and in the chunk's rows, overwritten next) are not needed.
            for j in range(D + c):
                stacked[j + 1:D + c, j] = 0.0
        R, z = stacked[:D, :D], stacked[:D, D:].copy()
        if design.domain == "cube":  # every column norm is sqrt(m + alpha)
            coef = scipy.linalg.lstsq(R, z, cond=cutoff, lapack_driver="gelsd",
                                      check_finite=False)[0]
            return coef.reshape((D,) + y.shape[1:])
        # Off the cube: the rank decision on the column-equilibrated R S
        # (S = diag of 1 / the column norms of [P; sqrt(alpha) I], which are
        # R's column norms), the minimum norm in the original coordinates.
        s = _equilibration(np.einsum("ij,ij->j", R, R))
        R = R * s[None, :]
        del stacked, features
        u, _, rank, _ = scipy.linalg.lstsq(R, z, cond=cutoff, lapack_driver="gelsd",
                                           check_finite=False)
        if rank < D:  # the dropped directions, from an SVD of R S
            U, sigma, Vt = scipy.linalg.svd(R, full_matrices=False, overwrite_a=True,
                                            check_finite=False, lapack_driver="gesvd")
            del R
            rank = int(np.count_nonzero(sigma > cutoff * sigma[0])) if sigma[0] > 0 else 0
            u = Vt[:rank].T @ ((U[:, :rank].T @ z) / sigma[:rank, None])
            del U
            coef = _original_min_norm(u, s, Vt[:rank].T, Vt[rank:].T)
        else:
            coef = s[:, None] * u
        return coef.reshape((D,) + y.shape[1:])


def _wide_bytes(m: int, D: int, c: int = 1) -> float:
    """Bytes of :func:`_solve_wide`: the explicit ``m x D`` rows, the SVD's
    ``V^T`` and ``U`` and ``gesdd``'s workspace (about ``4 m^2``), and the
    orthonormal basis of the minimum-norm projection."""
    return 8.0 * (3.0 * m * D + 5.0 * m * m + 4.0 * D * c)


def _solve_wide(design: ParityDesign, y, alpha):
    r"""Minimum-norm (ridge) least squares for ``m < D`` from an SVD of the
    explicit ``m x D`` feature matrix, at :math:`O(m^2 D)` flops.

    ``alpha > 0`` gives the unique ridge solution in its dual form
    :math:`c = P^\top (P P^\top + \alpha I)^{-1} y`, by Cholesky of the
    ``m x m`` matrix (:math:`m^2 D + m^3/3` flops; as scikit-learn's
    ``Ridge`` solves wide problems); should that factor have a reciprocal
    condition number below :math:`\varepsilon_{\mathrm{mach}}`, the same
    solution comes from the SVD :math:`P = U \Sigma V^\top` (thin,
    ``gesdd``) as
    :math:`c = V\,\mathrm{diag}(\sigma_i / (\sigma_i^2 + \alpha))\,U^\top y`,
    without forming :math:`P P^\top`.  ``alpha = 0``: the minimum-norm
    least-squares solution with :func:`numpy.linalg.lstsq`'s rank decision
    (singular values at most :math:`\tau\sigma_1` dropped,
    :math:`\tau = \max(m, D)\,\varepsilon_{\mathrm{mach}}`), the rule of
    :func:`_solve_exact`; off the cube, as there, that rule acts on the
    column-equilibrated :math:`PS` (unit-norm columns) and the minimum norm
    is taken in the original coordinates (:func:`_original_min_norm`).
    Memory :func:`_wide_bytes`, within :meth:`ParityDesign.estimate_bytes`
    for ``"exact"`` and ``"cholesky"`` when ``m < D``.  ``y`` may be
    ``(m,)`` or ``(m, c)``.
    """
    m, D = design.n_samples, design.n_output_features
    Y = y.reshape(m, -1)
    P = np.empty((m, D))
    design._explicit_rows(0, m, P)
    if alpha > 0.0:
        # The dual: P P^T (numpy's syrk) and an m x m Cholesky, m^2 D + m^3 / 3
        # flops; a factor with rcond below eps takes the SVD below instead.
        with _one_thread_blas():
            K = P @ P.T
            K[np.diag_indices(m)] += alpha
            anorm = float(np.abs(K).sum(axis=0).max())
            try:
                factor = scipy.linalg.cho_factor(K, lower=False, overwrite_a=True,
                                                 check_finite=False)
                rcond, info = scipy.linalg.lapack.dpocon(factor[0], anorm)
                if info == 0 and rcond >= scipy.linalg.lapack.dlamch("E"):
                    return (P.T @ scipy.linalg.cho_solve(factor, Y, check_finite=False)
                            ).reshape((D,) + y.shape[1:])
            except np.linalg.LinAlgError:
                pass
            del K
    s = None
    if alpha == 0.0 and design.domain == "real":
        s = _equilibration(np.einsum("ij,ij->j", P, P))
        P *= s[None, :]
    # The SVD of the tall P^T = V Sigma U^T (Fortran-ordered, no copy), on one
    # BLAS thread: on the loaded 2-core machine the pool made the SVD of a
    # 4526 x 300 matrix 0.2 s -> 1.4 s and the QR below 0.16 s -> 0.8 s.
    with _one_thread_blas():
        V, sigma, Ut = scipy.linalg.svd(P.T, full_matrices=False, overwrite_a=True,
                                        check_finite=False, lapack_driver="gesdd")
        del P
        rhs = Ut @ Y
        del Ut
        if alpha > 0.0:
            return (V @ (rhs * (sigma / (sigma * sigma + alpha))[:, None])).reshape(
                (D,) + y.shape[1:])
        cutoff = max(m, D) * np.finfo(np.float64).eps * (sigma[0] if len(sigma) else 0.0)
        rank = int(np.count_nonzero(sigma > cutoff))
        kept = V[:, :rank]
        u = kept @ (rhs[:rank] / sigma[:rank, None])
        if s is None:
            return u.reshape((D,) + y.shape[1:])
        return _original_min_norm(u, s, kept, None).reshape((D,) + y.shape[1:])


# Rows of the sample whose Gram preconditions solver="sketch": at least this
# many times D, and sqrt(m D) when more (_sketch_rows).  Measured on the
# compare_learners.py real task (correlated Gaussian X, condition 100, n = 64,
# d = 2, alpha = 1, tol = 1e-9): at m = 50,000, 2 D, 4 D and 8 D rows took 57,
# 28 and 18 iterations in 5.5, 4.5 and 4.3 s; at m = 200,000, 4 D rows 30
# iterations in 11.4-12.3 s, sqrt(m D) = 9.8 D rows 18 in 8.0-10.6 s.  The
# sample's Gram costs s D^2 flops and every iteration about 4 m D, so
# s ~ sqrt(m D) balances the two as m grows.
_SKETCH_ROWS_PER_FEATURE = 4


# Columns per block of the sketch's Cholesky factor (_cholesky.cholesky_upper).
_FACTOR_BLOCK = 384


def _factor_threads(n_jobs: int, D: int) -> int:
    """Threads of the sketch's Cholesky factor: ``n_jobs`` from
    ``_FACTOR_MIN_THREADED`` columns on, one below.  At D = 5489 (float32,
    block 384) two threads took 0.28-0.30 s against 0.49-0.60 s on one
    when the 2-core machine was nearly quiet (load 1.8; whole fits at
    n = 32, d = 3, m = 20,000: 1.72-1.77 s against 2.05-2.99 s), but
    0.81-1.18 s against 0.48-0.75 s at load 3-4 from other jobs (the
    threads wait for each other at every block step).  At D = 2081 (six
    block steps) one thread took 0.045 s and two 0.16 s at load 2.4."""
    return max(1, n_jobs) if D >= _FACTOR_MIN_THREADED else 1


_FACTOR_MIN_THREADED = 4096


def _sketch_rows(m: int, D: int) -> int:
    """Rows ``s = min(m, max(4 D, ceil(sqrt(m D))))`` of the sketch's sample."""
    return int(min(m, max(_SKETCH_ROWS_PER_FEATURE * D, math.ceil(math.sqrt(m * D)))))


def _solve_sketch(design: ParityDesign, y, alpha, tol, max_iter, rng):
    r"""Sketch-and-precondition: CG on the normal equations, preconditioned by
    the Cholesky factor of the Gram of a random subsample of the rows.

    With :math:`S` a uniform sample of :math:`s = \min(m, \max(4D, \lceil\sqrt{mD}\rceil))` rows
    (without replacement) and :math:`P_S` their explicit features,

    .. math::

       \tilde G = \frac{m}{s} P_S^\top P_S + \alpha I = R^\top R

    is an unbiased estimate of :math:`A = P^\top P + \alpha I`, formed at
    :math:`s D^2` flops instead of the :math:`m D^2` of
    :func:`_solve_cholesky`, and factored once (:math:`D^3/3`).  CG on
    :math:`A c = P^\top y` with the preconditioner :math:`\tilde G^{-1}`
    (two triangular solves an iteration) then converges at the rate of
    :math:`\kappa(\tilde G^{-1} A)`, a constant set by how well the sample
    represents the rows, not by the conditioning of the features: the
    correlations that make plain CG take hundreds of iterations are in
    :math:`\tilde G` too.  Every iteration is one matrix-free
    :meth:`ParityDesign._normal_matvec` (one pass over the data, never the
    ``m x D`` matrix).  The stopping rule is the unpreconditioned residual
    of :func:`_solve_cg`, :math:`\|r_k\| < \mathrm{tol}\,\|P^\top y\|`, so
    its accuracy bound :math:`\kappa(A)\,\mathrm{tol}` holds unchanged; the
    result equals the ridge solution of :func:`_solve_cholesky` (and of
    scikit-learn's ``Ridge(solver="cholesky")``) to that accuracy whatever
    rows were sampled (``rng`` changes the iteration count only).

    On real data with :func:`_use_moments` the sample's Gram is formed from
    its distinct moments (:func:`_moment_table`) with float32 products,
    scattered already scaled and equilibrated into a float32 matrix
    (:func:`_scatter_moments`) and factored in float32 (blocked,
    :mod:`sparselearn._kernels._cholesky`; half the time and bytes of
    float64): its relative errors of about ``1e-7`` only
    perturb the preconditioner, never the operator or the stopping rule.  When the
    sample is all the rows (``m <= 4D``) that Gram is :math:`P^\top P`
    itself, up to float32 rounding, and CG stops within a few iterations
    (n = 32, d = 3, m = 20,000: 2); without the moment route this is
    :func:`_solve_cholesky` itself.  A sample Gram that is not numerically
    positive definite (``alpha = 0`` with a rank-deficient sample; the
    factor's smallest squared pivot below :math:`D\,\varepsilon` times the
    largest, :math:`\varepsilon` that of the factor's precision; off the
    cube the factor is of the equilibrated :math:`S\tilde G S`,
    :math:`S = \mathrm{diag}(\tilde G)^{-1/2}`, the same preconditioner,
    so badly scaled columns do not fail the test) falls back to :func:`_solve_cholesky`
    and its minimum-norm rule (a factor that passes means the sample, hence
    ``P``, has full column rank: the solution is unique).  ``y`` of shape
    ``(m, c)``: one factor, then the columns' CGs in lockstep, one pass
    over the data an iteration for all of them (:func:`_cg_columns`).

    With a sampled preconditioner (``s < m``; 10-30 iterations) and under
    the rule of :func:`_mixed_applies` (``preconditioned=True``: on real X
    when its range suits float32, :func:`_float32_safe`) the CG runs in
    mixed precision (:func:`_solve_mixed`): inner solves on float32
    products, refined against the float64 residual, with the same stopping
    rule and accuracy bound.  Returns ``(coef, n_iter, converged)``:
    ``n_iter`` the iterations of the slowest column, in mixed precision the
    inner iterations of all refinements (1 for a direct fallback).
    """
    m, D = design.n_samples, design.n_output_features
    s = _sketch_rows(m, D)
    moments = _moments_apply(design.n_features, design.degree, design.domain, s)
    if s == m and not moments:
        return _solve_cholesky(design, y, alpha), 1, True
    if s == m:
        sample = design  # every row: the preconditioner is the Gram itself, in float32
    else:
        pick = np.sort(rng.choice(m, size=s, replace=False))
        sample = ParityDesign._from_checked(np.ascontiguousarray(design.X[pick]),
                                            design.degree, design.n_jobs, design.max_bytes,
                                            domain=design.domain)
    if moments:
        # The sample's Gram from its distinct moments in single precision,
        # factored in single precision: its errors (relative 1e-7) are far
        # below the sample's own, and at s = m (n = 32, d = 3, m = 20,000,
        # kappa(G) = 8e5) the float32 factor of the exact Gram left
        # kappa(R^-T G R^-1) = 1.003, the same as rounding G to float32.
        # The scatter writes S (G / s + alpha / m I) S directly (see below;
        # M(empty, S_i), the diagonal, is table[i]): no passes over G after it.
        plan = _MomentPlan(design.n_features, design.degree)
        table = _moment_table(sample, products=np.float32)[0]
        del sample
        if not np.isfinite(table).all():
            # A float32 product overflowed (|x|^(2d) beyond 3.4e38: entries
            # near 2.6e6 at d = 3), which would reach CG as NaN: the float64
            # normal equations have the range to solve it directly.
            return _solve_cholesky(design, y, alpha), 1, True
        scale = _equilibration(table[:D] / s + alpha / m)
        G = np.zeros((D, D), dtype=np.float32, order="F")
        _scatter_moments(plan, table, G, design.n_jobs, 1.0 / s, alpha / m, scale)
        del table
    else:
        rows = int(max(1, min(s, max(_CHUNK_BYTES // (8 * D), D // 4))))
        G = np.zeros((D, D), order="F")
        features = np.empty((rows, D))
        syrk = scipy.linalg.get_blas_funcs("syrk", (G,))
        for start in range(0, s, rows):
            stop = min(start + rows, s)
            sample._explicit_rows(start, stop, features[:stop - start])
            G = syrk(1.0, features[:stop - start].T, beta=1.0, c=G, trans=0, lower=0,
                     overwrite_c=1)
        del features, sample
        # Scaled by 1/s, the sample's estimate of P^T P / m (CG runs on A / m).
        G *= 1.0 / s
        G[np.diag_indices(D)] += alpha / m
        # Off the cube, equilibrated as in _solve_cholesky: S G S is factored and
        # S (S G S)^-1 S = G^-1 is the same preconditioner, but the pivot test
        # below then judges the conditioning, not the columns' scales (X * 1e-6
        # took the fallback).
        scale = (_equilibration(np.diag(G)) if design.domain == "real" else np.ones(D))
        if design.domain == "real":
            G *= scale[:, None]
            G *= scale[None, :]
    # The factor by _cholesky (blocked, the same factor on any number of
    # threads; _factor_threads) and the triangular solves on one BLAS
    # thread: on the shared 2-core machine OpenBLAS's pool made potrf of a
    # 2081 x 2081 matrix take 0.8-7.4 s against 0.23 s on one thread.
    with _one_thread_blas():
        info = _cholesky.cholesky_upper(G, _FACTOR_BLOCK, _factor_threads(design.n_jobs, D))
    factor = (G, False) if info == 0 else None
    if factor is not None:
        pivots = np.abs(np.diag(factor[0])).astype(np.float64) ** 2
        # Written so that a NaN pivot fails it too (LAPACK's potrf reports
        # info = 0 on NaN input).
        if not pivots.min() > D * np.finfo(G.dtype).eps * pivots.max():
            factor = None
    if factor is None:
        del G
        return _solve_cholesky(design, y, alpha), 1, True
    def precondition(V):  # (S R^T R S)^-1 V = S (R^T R)^-1 S V, in G's precision
        solved = scipy.linalg.cho_solve(factor, (scale[:, None] * V).astype(G.dtype),
                                        check_finite=False)
        return scale[:, None] * solved.astype(np.float64)

    B = (design._rmatvec(y) / m).reshape(D, -1)
    with _one_thread_blas():
        # Mixed precision (float32 inner solves, float64 refinement) when the
        # preconditioner is a sample's: then CG takes 10-30 iterations and
        # float32 halves their cost.  With every row sampled the factor is
        # the Gram's own and CG stops within 2 or 3 float64 iterations,
        # fewer products than one refinement needs.
        if s < m and _mixed_applies(design, alpha, tol, preconditioned=True):
            coef, n_iter, converged = _solve_mixed(design, B, alpha, tol, max_iter,
                                                   precondition)
        else:
            coef, n_iter, converged = _cg_columns(design, B, alpha, np.full(B.shape[1], tol),
                                                  max_iter, np.float64, precondition)
    n_iter = max(n_iter, 1)
    return coef.reshape((D,) + y.shape[1:]), n_iter, converged
