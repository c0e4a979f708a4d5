r"""The parity feature matrix of a sample, as a matrix-free linear operator.

For points :math:`x \in \{-1,1\}^n` the parities
:math:`\chi_S(x) = \prod_{i \in S} x_i`, :math:`|S| \le d`, are the
:math:`D = \sum_{j \le d} \binom{n}{j}` features of the low-degree
algorithm (docs/theory.rst, section 3; the estimators are in
:mod:`sparselearn.learners`, their solvers in ``sparselearn/_solvers.py``
and the normal equations in ``sparselearn/_gram.py``).

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

import contextvars
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._kernels import _parity
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
# float64 accuracy on float32 products by refinement (_solvers._solve_mixed).
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


def _block_product_bytes(m: int, n: int, degree: int, n_jobs: int, c: int) -> float:
    """Bytes of one ``(chunk, widest * c)`` top-degree block product per
    thread: a product of ``c`` columns holds one and a temporary of that size
    (two, by tracemalloc at ``c = 30-200``; three of the nominal width 16,
    even where the blocks are narrower, overstated a fit of 100 classes
    four- to fifty-fold)."""
    D = sum(math.comb(n, j) for j in range(degree + 1))
    chunk = _chunk_rows(m, D - math.comb(n, degree), n)
    threads = max(1, min(n_jobs, m // chunk))
    return 8.0 * threads * chunk * _top_dense_size(n, degree)[2] * c


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
        ``c`` columns wide (for ``"exact"`` and ``"cholesky"``, which read
        explicit rows, only the targets); threads are counted as the
        products run them, at most one per chunk of rows; off the cube the
        preconditioner's design on ``X**2`` is one more copy of the data.

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
        # Length-m vectors: six per column for the matrix-free products'
        # predictions and residuals; the direct solvers (explicit rows) hold
        # only the targets and their scaled copy per extra column.
        direct = solver in ("exact", "cholesky")
        columns = 6 + 2 * (c - 1) if direct else 6 * c
        nbytes = 8.0 * m * (words + columns) + (8.0 * m * n if domain == "real" else 0.0)
        nbytes += 8.0 * D * (words + 8 * c)
        if domain == "real":
            # (and the float32 copy of X that float32 products keep, _rows32)
            nbytes += 8.0 * m * (n + words) + 8.0 * D * words + 4.0 * m * n
        # Per thread: the chunk's blocks and temporaries, its accumulator, the
        # dense top-degree block products (and one block's temporary); once:
        # the dense coefficient blocks of the top degree.
        # (and the left blocks of a split layout, and their contiguous rows).
        dense, largest, widest, left = _top_dense_size(n, degree)
        per_thread = (chunk * (n_lower + 2 * n + left + (2 if direct else 2 * c))
                      + D * c + dense * c + 2 * largest * c)
        if c == 1:
            per_thread += chunk * 3 * max(width, widest)
        # As many threads as _over_rows runs: one per chunk of rows at most.
        threads = max(1, min(n_jobs, m // chunk))
        nbytes += 8.0 * threads * per_thread + 8.0 * dense * c
        if c > 1 and not direct:
            # The direct solvers never run c-wide products (explicit rows).
            nbytes += 2 * _block_product_bytes(m, n, degree, n_jobs, c)
        # The solver's own buffers (sparselearn._solvers builds on this module,
        # so it is imported here, not at the top).
        from ._solvers import _solver_bytes
        return nbytes + _solver_bytes(m, n, degree, solver, n_jobs, c, domain)

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
        if coef.ndim == 2 and coef.shape[1] == 1:  # one column: the vector path is faster
            return self._normal_product(coef[:, 0], dtype)[:, None]
        return self._normal_product(coef, dtype)

    def _normal_product(self, coef: np.ndarray, dtype) -> np.ndarray:
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
