# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Parity (Walsh) feature products over bit-packed cube points.

A point :math:`x \\in \\{-1,1\\}^n` is stored as ``w = ceil(n / 64)`` 64-bit
words, bit ``j`` set exactly when :math:`x_j = -1` (the library's cube index
convention), and a subset :math:`S \\subseteq [n]` as a bitmask of the same
width.  Then :math:`\\chi_S(x) = \\prod_{i \\in S} x_i = (-1)^{|x \\wedge S|}`,
the parity of the popcount of the AND (docs/theory.rst, section 3).  Over ``m``
points and ``D`` subsets the (never materialised) feature matrix is
``P[i, s] = chi_{S_s}(x_i)``; the kernels compute

- :func:`parity_features`: a block of ``P`` itself (for the normal
  equations),
- :func:`parity_matvec`: predictions ``P @ c``,
- :func:`parity_rmatvec`: correlations ``P.T @ r``.

The products are tiled so a tile of subsets (masks and coefficients) stays in
L1 while rows stream past it.  Threads split row tiles (``parity_matvec``),
rows (``parity_features``) or subset tiles (``parity_rmatvec``) with
``prange``, so no two threads ever write the same output.
``popcount(v) & 1`` compiles to an inlined parity-flag sequence on any
x86-64, so no ``-mpopcnt`` is needed.

:func:`parity_levels` serves the dense-BLAS route instead: it builds the
low-degree parities of a chunk of rows from the float coordinates (float64
or float32) by the
recursion "the ``t``-sets with minimum ``i`` are ``i`` followed by the
``(t-1)``-sets with minimum ``> i``", one multiply per entry, with the GIL
released and no threads of its own (the caller runs one chunk per thread).

:func:`quadratic_normal` is the degree-2 product on real rows: a
multilinear polynomial of degree ``<= 2`` is ``c0 + c1 . x + x^T U x``, so
both products of a chunk are two ``gemm`` calls with an ``n x n`` matrix
(no lower block, no staircase).

NumPy twins: :mod:`sparselearn._reference.parity`.
"""
cimport cython
from cython.parallel cimport prange
from libc.stdint cimport uint64_t
from scipy.linalg.cython_blas cimport dgemm, sgemm

cdef extern from *:
    int popcount64 "__builtin_popcountll"(unsigned long long) nogil

cdef enum:
    # Subsets per tile: 512 one-word masks plus 512 coefficients is 8 KiB.
    SUBSET_TILE = 512
    # Rows per tile in parity_matvec.
    ROW_TILE = 64


cdef inline double _chi(const uint64_t[:, ::1] xbits, Py_ssize_t i,
                        const uint64_t[:, ::1] masks, Py_ssize_t s,
                        Py_ssize_t w) noexcept nogil:
    """chi_S(x) for row i and subset s: +1 for an even overlap, -1 for odd."""
    cdef uint64_t acc = 0
    cdef Py_ssize_t q
    for q in range(w):
        acc = acc ^ (xbits[i, q] & masks[s, q])
    return 1.0 - 2.0 * (popcount64(acc) & 1)


def parity_features(const uint64_t[:, ::1] xbits, const uint64_t[:, ::1] masks,
                    double[:, ::1] out):
    """``out[i, s] = chi_{S_s}(x_i)``; ``out`` has shape ``(m, D)``."""
    cdef Py_ssize_t m = xbits.shape[0], w = xbits.shape[1], D = masks.shape[0]
    cdef Py_ssize_t i, s
    cdef uint64_t x0
    if w == 1:
        for i in prange(m, nogil=True, schedule="static"):
            x0 = xbits[i, 0]
            for s in range(D):
                out[i, s] = 1.0 - 2.0 * (popcount64(x0 & masks[s, 0]) & 1)
    else:
        for i in prange(m, nogil=True, schedule="static"):
            for s in range(D):
                out[i, s] = _chi(xbits, i, masks, s, w)


def parity_matvec(const uint64_t[:, ::1] xbits, const uint64_t[:, ::1] masks,
                  const double[::1] coef, double[::1] out):
    """Predictions ``out[i] = sum_s coef[s] * chi_{S_s}(x_i)`` (``P @ coef``)."""
    cdef Py_ssize_t m = xbits.shape[0], w = xbits.shape[1], D = masks.shape[0]
    cdef Py_ssize_t n_tiles = (m + ROW_TILE - 1) // ROW_TILE
    cdef Py_ssize_t tile, i, i0, i1, s, s0, s1
    cdef double acc
    cdef uint64_t x0
    for i in range(m):
        out[i] = 0.0
    for tile in prange(n_tiles, nogil=True, schedule="static"):
        i0 = tile * ROW_TILE
        i1 = min(i0 + ROW_TILE, m)
        s0 = 0
        while s0 < D:
            s1 = min(s0 + SUBSET_TILE, D)
            for i in range(i0, i1):
                acc = 0.0
                if w == 1:
                    x0 = xbits[i, 0]
                    for s in range(s0, s1):
                        acc = acc + coef[s] * (1.0 - 2.0 * (popcount64(x0 & masks[s, 0]) & 1))
                else:
                    for s in range(s0, s1):
                        acc = acc + coef[s] * _chi(xbits, i, masks, s, w)
                out[i] = out[i] + acc
            s0 = s1


def parity_rmatvec(const uint64_t[:, ::1] xbits, const uint64_t[:, ::1] masks,
                   const double[::1] r, double[::1] out):
    """Correlations ``out[s] = sum_i r[i] * chi_{S_s}(x_i)`` (``P.T @ r``)."""
    cdef Py_ssize_t m = xbits.shape[0], w = xbits.shape[1], D = masks.shape[0]
    cdef Py_ssize_t n_tiles = (D + SUBSET_TILE - 1) // SUBSET_TILE
    cdef Py_ssize_t tile, i, s, s0, s1
    cdef double ri
    cdef uint64_t x0
    for s in range(D):
        out[s] = 0.0
    # Each thread owns a tile of subsets, so its accumulators are private.
    for tile in prange(n_tiles, nogil=True, schedule="dynamic"):
        s0 = tile * SUBSET_TILE
        s1 = min(s0 + SUBSET_TILE, D)
        for i in range(m):
            ri = r[i]
            if w == 1:
                x0 = xbits[i, 0]
                for s in range(s0, s1):
                    out[s] += ri * (1.0 - 2.0 * (popcount64(x0 & masks[s, 0]) & 1))
            else:
                for s in range(s0, s1):
                    out[s] += ri * _chi(xbits, i, masks, s, w)


ctypedef fused level_t:
    float
    double


def parity_levels(const cython.floating[:, ::1] X, const long long[:, ::1] counts,
                  const long long[::1] starts, level_t[:, ::1] out,
                  Py_ssize_t first=0):
    """All parities of degree ``< len(starts)`` of each row of ``X``, by degree.

    ``out[r, starts[t] + k]`` is ``chi_S(X[r])`` for the ``k``-th ``t``-subset
    ``S`` in lexicographic order; levels are contiguous (level ``t`` ends
    where level ``t + 1`` starts) and ``starts[0] == 0``.  ``counts[t, i]``
    is ``C(n - 1 - i, t - 1)``, the number of ``t``-subsets with minimum
    ``i``; they are ``x_i`` times the last ``counts[t, i]`` entries of
    level ``t - 1``.  Sequential, GIL released.  ``X`` and ``out`` are
    float64 or float32, not necessarily the same: a float32 ``out`` from
    float64 ``X`` rounds each coordinate to float32 once, then multiplies
    in float32 (on the cube every entry is +-1 and float32 is exact; it
    halves the memory traffic of the products that read ``out``).
    Entries of the last level in columns before ``first`` are not written
    (nothing is built from them; the caller does not read them).
    """
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], n_levels = starts.shape[0]
    cdef Py_ssize_t r, t, i, j, j0, dst, src, count
    cdef level_t xi
    with nogil:
        for r in range(m):
            out[r, 0] = 1
            for t in range(1, n_levels):
                dst = starts[t]
                if t == 1 and (n_levels > 2 or first <= dst):
                    # The coordinates themselves: one copy, not n loops of one.
                    for i in range(n):
                        out[r, dst + i] = <level_t>X[r, i]
                    continue
                for i in range(n):
                    count = counts[t, i]
                    if count == 0:
                        break
                    xi = <level_t>X[r, i]
                    src = starts[t] - count
                    j0 = 0
                    if t == n_levels - 1 and first > dst:
                        j0 = min(first - dst, count)
                    for j in range(j0, count):
                        out[r, dst + j] = xi * out[r, src + j]
                    dst = dst + count


def quadratic_normal(const cython.floating[:, ::1] X, double c0,
                     const cython.floating[::1] c1, const cython.floating[:, ::1] U,
                     cython.floating[:, ::1] Z, cython.floating[::1] g,
                     cython.floating[:, ::1] M):
    """The normal product of a chunk of real rows at degree 2, as a quadratic
    form: ``p_r = c0 + c1 . x_r + x_r^T U x_r`` (``c0`` rounded to the
    precision of ``X``, ``U`` symmetric ``n x n`` with zero diagonal:
    ``U[i, j] = c_ij / 2``) is ``(P c)_r``, and ``g = (sum_r p_r, sum_r p_r
    x_r)``, ``M = sum_r p_r x_r x_r^T`` (both overwritten) hold ``P^T P c``:
    its constant and linear entries are ``g``, its pair ``{i, j}`` entry
    ``M[i, j]``.  All in the precision of ``X`` (float32 rows are the
    caller's rounded copy); ``Z`` is a ``k x n`` buffer (``k`` the rows of
    ``X``), ``X U`` then ``p_r X``.  Two ``gemm`` of ``n`` columns (an
    ``n + 1``-wide form with the constant inside ran 1.4x slower at
    n = 64: BLAS's edge tiles), GIL released.
    """
    cdef Py_ssize_t k = X.shape[0], n = X.shape[1], r, i
    cdef int nn = <int>n, rows = <int>k
    cdef cython.floating one = 1.0, zero = 0.0, total
    cdef char no = b"N", transposed = b"T"
    # O(1) checks: BLAS below reads these buffers by pointer.
    if (c1.shape[0] != n or U.shape[0] != n or U.shape[1] != n or M.shape[0] != n
            or M.shape[1] != n or g.shape[0] != n + 1 or Z.shape[0] != k or Z.shape[1] != n
            or n == 0):
        raise ValueError("quadratic_normal: X (k, n) with n >= 1 needs c1 (n,), U and M "
                         "(n, n), g (n + 1,), Z (k, n)")
    g[:] = 0
    M[:, :] = 0
    if k == 0:
        return
    with nogil:
        # Row-major k x n arrays are column-major n x k ones to BLAS:
        # Z^T = U X^T (U symmetric), then M = (p X)^T X, symmetric too.
        if cython.floating is float:
            sgemm(&no, &no, &nn, &rows, &nn, &one, <float*>&U[0, 0], &nn,
                  <float*>&X[0, 0], &nn, &zero, &Z[0, 0], &nn)
        else:
            dgemm(&no, &no, &nn, &rows, &nn, &one, <double*>&U[0, 0], &nn,
                  <double*>&X[0, 0], &nn, &zero, &Z[0, 0], &nn)
        for r in range(k):
            total = <cython.floating>c0
            for i in range(n):
                total = total + X[r, i] * (c1[i] + Z[r, i])
            g[0] += total
            for i in range(n):
                Z[r, i] = total * X[r, i]
                g[1 + i] += Z[r, i]
        if cython.floating is float:
            sgemm(&no, &transposed, &nn, &nn, &rows, &one, &Z[0, 0], &nn,
                  <float*>&X[0, 0], &nn, &zero, &M[0, 0], &nn)
        else:
            dgemm(&no, &transposed, &nn, &nn, &rows, &one, &Z[0, 0], &nn,
                  <double*>&X[0, 0], &nn, &zero, &M[0, 0], &nn)
