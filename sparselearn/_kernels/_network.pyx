# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Row kernels of the one-hidden-layer ReLU network.

Each function takes the inner products ``G = X @ W.T`` of a chunk of rows
(computed by BLAS in the caller) and the biases ``b``; the computed
pre-activation of unit ``j`` on row ``i`` is ``z = G[i, j] - b[j]``.  Rows
are split across threads with ``prange``.  :func:`forward_rows`,
:func:`count_rows` and :func:`supports_rows` take the rows ``X`` instead and
compute ``G`` block by block inside one parallel region (see there).

Exact decisions.  Unit ``j`` is *active* on row ``i`` when the exact real
number ``<w_j, x_i> - b_j`` is strictly positive (:mod:`sparselearn.network`).
Whatever order BLAS sums in, the computed ``z`` is within

    tol_ij = (n + 2) 2^-52 (||w_j||_1 ||x_i||_inf + |b_j|) + (n + 2) 2^-1073

of the exact value (twice the standard ``gamma_{n+1}`` bound, so that the
bound's own rounding and subnormal underflow are covered), so ``z > tol``
means active and ``z <= -tol`` inactive; only ``-tol < z <= tol`` is
re-decided by :func:`sparselearn._kernels._exact.exact_dot_sign`.  When every
weight and bias is a multiple of ``2^v_w`` and row ``x_i`` a multiple of
``2^v_x``, all products and partial sums are multiples of
``2^(v_w + min(v_x, 0))``; if the magnitude bound is at most
``2^(52 + v_w + min(v_x, 0))`` they are all representable, ``z`` is exact and
``tol`` is 0 (the dyadic fast path, e.g. small-denominator weights on cube
points).

:func:`count_positive` is the plain float test ``z > 0`` used by the
approximate trainer of :mod:`sparselearn.erm`, whose certificate is then
re-checked exactly.

NumPy twins: :mod:`sparselearn._reference.network`.
"""
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cython.parallel cimport parallel, prange, threadid
from libc.math cimport fabs, ldexp
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from openmp cimport omp_get_max_threads

from ._exact cimport SAFE_MAX, exact_dot_sign


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil

cdef enum:
    # Valuation of a row of zeros: larger than any float64's.
    NO_VALUATION = 4096


cdef inline int _valuation(double x) noexcept nogil:
    """Largest ``v`` such that the nonzero finite ``x`` is a multiple of ``2^v``."""
    cdef uint64_t bits
    cdef int exponent
    memcpy(&bits, &x, 8)
    exponent = <int> ((bits >> 52) & 0x7FF)
    if exponent == 0:
        return -1074 + __builtin_ctzll(bits & 0xFFFFFFFFFFFFFULL)
    return exponent - 1075 + __builtin_ctzll((bits & 0xFFFFFFFFFFFFFULL) | (1ULL << 52))


cdef struct RowBound:
    double x_norm       # ||x_i||_inf
    double tol_max      # max_j tol_ij: |z| > tol_max decides every unit by its sign
    double exact_limit  # partial sums up to this magnitude are exact (-1: none)
    bint all_exact      # every unit's magnitude bound is below exact_limit


cdef struct UnitBounds:
    const double* w_l1       # (s,) ||w_j||_1
    const double* tol_w      # (s,)
    const double* tol_b      # (s,)
    double max_l1, max_abs_bias, max_tol_w, max_tol_b
    int weight_valuation


cdef inline UnitBounds _unit_bounds(const double[::1] w_l1, const double[::1] tol_w,
                                    const double[::1] tol_b, const double[::1] b,
                                    int weight_valuation) noexcept nogil:
    cdef UnitBounds U
    cdef Py_ssize_t j
    U.w_l1 = &w_l1[0]
    U.tol_w = &tol_w[0]
    U.tol_b = &tol_b[0]
    U.max_l1 = U.max_abs_bias = U.max_tol_w = U.max_tol_b = 0.0
    for j in range(w_l1.shape[0]):
        U.max_l1 = max(U.max_l1, w_l1[j])
        U.max_abs_bias = max(U.max_abs_bias, fabs(b[j]))
        U.max_tol_w = max(U.max_tol_w, tol_w[j])
        U.max_tol_b = max(U.max_tol_b, tol_b[j])
    U.weight_valuation = weight_valuation
    return U


cdef inline RowBound _row_bound(const double* x, Py_ssize_t n, UnitBounds* U) noexcept nogil:
    """Bounds of one row with a near-tie, in one pass over it: ``||x||_inf``
    and the magnitude below which its partial sums are exact."""
    cdef RowBound r
    cdef Py_ssize_t d
    cdef int v = 0, vd
    cdef double a
    r.x_norm = 0.0
    for d in range(n):
        a = fabs(x[d])
        r.x_norm = max(r.x_norm, a)
        # min(v_x, 0) is all that matters: +-1, 0 and other integers give 0.
        if a != 0.0 and a < 4503599627370496.0 and a != <double> <long long> a:
            vd = _valuation(x[d])
            if vd < v:
                v = vd
    r.tol_max = U.max_tol_w * r.x_norm + U.max_tol_b
    r.exact_limit = -1.0    # no magnitude (>= 0) is below it: no exact shortcut
    r.all_exact = False
    if U.weight_valuation >= NO_VALUATION // 2:
        return r
    v = v + U.weight_valuation
    if v < -1074:
        return r  # multiples of 2^v below the smallest subnormal: products round
    r.exact_limit = ldexp(1.0, 52 + v) if 52 + v < 1000 else SAFE_MAX
    r.all_exact = U.max_l1 * r.x_norm + U.max_abs_bias <= r.exact_limit
    return r


cdef inline bint _active(double z, Py_ssize_t j, double b, RowBound* r, UnitBounds* U,
                         const double* w, const double* x, Py_ssize_t n) noexcept nogil:
    """Exact decision for unit ``j`` (weights ``w``) on a row with a near-tie."""
    cdef double t
    if r.all_exact:
        return z > 0.0
    t = U.tol_w[j] * r.x_norm + U.tol_b[j]
    if z > t:
        return True
    if z <= -t:
        return False
    if U.w_l1[j] * r.x_norm + fabs(b) <= r.exact_limit:
        return z > 0.0      # every partial sum representable: z is exact
    return exact_dot_sign(w, 1, x, 1, n, b) > 0


cdef inline long long _count_and_screen(const double* g, const double* b, Py_ssize_t s,
                                        double tol_max, bint* near_tie) noexcept nogil:
    """Count of ``z = g - b > tol_max`` (surely active), raising ``near_tie``
    when some ``z`` lies in ``(-tol_max, tol_max]`` (where the float sign may
    be wrong): exactly when the counts above ``tol_max`` and above
    ``-tol_max`` differ.  Plain counts in double accumulators (exact for
    counts) vectorize with the portable SSE2 build; integer sums or a test
    per entry would not."""
    cdef Py_ssize_t j
    cdef double z, above = 0.0, above_minus = 0.0
    for j in range(s):
        z = g[j] - b[j]
        above = above + (1.0 if z > tol_max else 0.0)
        above_minus = above_minus + (1.0 if z > -tol_max else 0.0)
    near_tie[0] = above != above_minus
    return <long long> above


cdef inline long long _count_row_exact(const double* g, const double* b, Py_ssize_t s,
                                       RowBound* r, UnitBounds* U, const double* W,
                                       const double* x, Py_ssize_t n) noexcept nogil:
    """Exact count of a row with a near-tie."""
    cdef Py_ssize_t j
    cdef long long count = 0
    if r.all_exact:
        for j in range(s):
            count = count + (g[j] - b[j] > 0.0)
        return count
    for j in range(s):
        count = count + _active(g[j] - b[j], j, b[j], r, U, W + j * n, x, n)
    return count


cdef inline bint _float_decides(const double* g, const double* b, Py_ssize_t s,
                                double screen, bint exact_floats, const double* x,
                                Py_ssize_t n, UnitBounds* U, RowBound* r) noexcept nogil:
    """Whether the float sign ``g - b > 0`` is the exact decision for the
    whole row: the caller promised exact floats, or no ``z`` is within the
    screening bound, or the row's partial sums are exact.  Otherwise fills
    ``r`` for :func:`_active`."""
    cdef bint near_tie
    if exact_floats:
        return True
    _count_and_screen(g, b, s, screen, &near_tie)
    if not near_tie:
        return True
    r[0] = _row_bound(x, n, U)
    return r.all_exact


cdef inline double _relu_combine_row(const double* g, const double* b, Py_ssize_t s,
                                     double tol, bint exact_floats, const double* x,
                                     Py_ssize_t n, UnitBounds* U, const double* W,
                                     const double* u) noexcept nogil:
    """One row of :func:`relu_combine` (``tol``: the screening bound)."""
    cdef Py_ssize_t j
    cdef double acc = 0.0, positive = 0.0, above = 0.0, z
    cdef RowBound r
    for j in range(s):
        z = g[j] - b[j]
        acc = acc + (u[j] * z if z > 0.0 else 0.0)
        positive = positive + (1.0 if z > 0.0 else 0.0)
        above = above + (1.0 if z > tol else 0.0)
    # Only 0 < z <= tol is in doubt (z <= 0 contributes 0 anyway).
    if positive != above and not exact_floats:
        r = _row_bound(x, n, U)
        if not r.all_exact:
            # Sum again without the exactly inactive units (z <= 0
            # contributes 0 whichever way, so only z > 0 is decided).
            acc = 0.0
            for j in range(s):
                z = g[j] - b[j]
                if z > 0.0 and _active(z, j, b[j], &r, U, W + j * n, x, n):
                    acc = acc + u[j] * z
    return acc


cdef inline long long _count_row(const double* g, const double* b, Py_ssize_t s,
                                 double screen, const double* x, Py_ssize_t n, UnitBounds* U,
                                 const double* W) noexcept nogil:
    """One row of :func:`count_active` (not ``exact_floats``)."""
    cdef bint near_tie
    cdef long long count = _count_and_screen(g, b, s, screen, &near_tie)
    cdef RowBound r
    if near_tie:
        r = _row_bound(x, n, U)
        count = _count_row_exact(g, b, s, &r, U, W, x, n)
    return count


cdef inline long long _count_row_plain(const double* g, const double* b,
                                       Py_ssize_t s) noexcept nogil:
    """One row of :func:`count_positive`."""
    cdef Py_ssize_t j
    cdef double c = 0.0
    for j in range(s):
        c = c + (1.0 if g[j] - b[j] > 0.0 else 0.0)
    return <long long> c


cdef inline void _fill_row(const double* g, const double* b, Py_ssize_t s, double screen,
                           bint exact_floats, const double* x, Py_ssize_t n, UnitBounds* U,
                           const double* W, long long* indices) noexcept nogil:
    """One row of :func:`fill_supports`: its active units to ``indices[0:]``."""
    cdef Py_ssize_t j
    cdef long long pos = 0
    cdef RowBound r
    cdef bint float_decides = _float_decides(g, b, s, screen, exact_floats, x, n, U, &r)
    for j in range(s):
        if (g[j] - b[j] > 0.0 if float_decides else
                _active(g[j] - b[j], j, b[j], &r, U, W + j * n, x, n)):
            indices[pos] = j
            pos = pos + 1


# Arguments shared by the exact kernels: ``X`` (m, n) the rows and ``W``
# (s, n) the weights with ``G = X @ W.T``; ``w_l1[j] = ||w_j||_1``;
# ``tol_w``, ``tol_b`` the per-unit rounding bound, ``tol_ij = tol_w[j] *
# ||x_i||_inf + tol_b[j]`` (see :func:`rounding_bounds`); ``x_norm_bound``
# at least every row's ``||x_i||_inf``, for a cheap first screening of the
# rows (a row that passes it has no near-tie; the others get their own
# norm); ``exact_floats`` the caller's promise that every product and
# partial sum is representable (the dyadic fast path: no screening at all);
# ``weight_valuation`` the 2-adic valuation of ``W`` and ``b`` together.  The
# caller guarantees finite inner products (no overflow).

def rounding_bounds(const double[::1] w_l1, const double[::1] b, Py_ssize_t n):
    """Per-unit ``(tol_w, tol_b)``: ``(n + 2) 2^-52 ||w_j||_1`` and
    ``(n + 2) (2^-52 |b_j| + 2^-1073)``, the module's rounding bound."""
    import numpy as np
    cdef Py_ssize_t s = w_l1.shape[0], j
    cdef double gamma = (n + 2) * ldexp(1.0, -52), eta = (n + 2) * ldexp(1.0, -1073)
    tol_w = np.empty(s)
    tol_b = np.empty(s)
    cdef double[::1] tw = tol_w, tb = tol_b
    for j in range(s):
        tw[j] = gamma * w_l1[j]
        tb[j] = gamma * fabs(b[j]) + eta
    return tol_w, tol_b


def relu_combine(const double[:, ::1] G, const double[:, ::1] X, double x_norm_bound,
                 bint exact_floats,
                 const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                 const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                 const double[::1] u, double[::1] out):
    """``out[i] = sum_{j active} u[j] * max(G[i, j] - b[j], 0)``.

    An exactly inactive unit contributes exactly nothing; an active one its
    computed ReLU value.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i
    cdef UnitBounds U = _unit_bounds(w_l1, tol_w, tol_b, b, weight_valuation)
    cdef double tol = U.max_tol_w * x_norm_bound + U.max_tol_b
    for i in prange(m, nogil=True, schedule="static"):
        out[i] = _relu_combine_row(&G[i, 0], &b[0], s, tol, exact_floats, &X[i, 0], n,
                                   &U, &W[0, 0], &u[0])


def count_active(const double[:, ::1] G, const double[:, ::1] X, double x_norm_bound,
                 bint exact_floats,
                 const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                 const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                 long long[::1] counts):
    """``counts[i] = #{j : <w_j, x_i> - b_j > 0}``, decided exactly."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i
    cdef UnitBounds U = _unit_bounds(w_l1, tol_w, tol_b, b, weight_valuation)
    cdef double screen = U.max_tol_w * x_norm_bound + U.max_tol_b
    if exact_floats:
        count_positive(G, b, counts)
        return
    for i in prange(m, nogil=True, schedule="static"):
        counts[i] = _count_row(&G[i, 0], &b[0], s, screen, &X[i, 0], n, &U, &W[0, 0])


def fill_supports(const double[:, ::1] G, const double[:, ::1] X, double x_norm_bound,
                  bint exact_floats,
                  const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                  const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                  const long long[::1] indptr, long long[::1] indices):
    """Write the active units of row ``i`` into ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` must be the cumulative sum of :func:`count_active` on the same
    arguments (with a leading zero, offset as the caller chooses); the
    decisions are the same, pair by pair.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i
    cdef UnitBounds U = _unit_bounds(w_l1, tol_w, tol_b, b, weight_valuation)
    cdef double screen = U.max_tol_w * x_norm_bound + U.max_tol_b
    for i in prange(m, nogil=True, schedule="static"):
        _fill_row(&G[i, 0], &b[0], s, screen, exact_floats, &X[i, 0], n, &U, &W[0, 0],
                  &indices[0] + indptr[i])


def masked_relu(double[:, ::1] G, const double[:, ::1] X, double x_norm_bound,
                bint exact_floats,
                const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                const double[::1] tol_w, const double[::1] tol_b, int weight_valuation):
    """Overwrite ``G`` with ``max(G - b, 0)`` on the exactly active units and
    0 elsewhere: the hidden layer's output, ready for one BLAS product with
    a multi-output matrix.  Decisions are those of :func:`count_active`."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef bint float_decides
    cdef double z
    cdef UnitBounds U = _unit_bounds(w_l1, tol_w, tol_b, b, weight_valuation)
    cdef RowBound r
    cdef double screen = U.max_tol_w * x_norm_bound + U.max_tol_b
    for i in prange(m, nogil=True, schedule="static"):
        float_decides = _float_decides(&G[i, 0], &b[0], s, screen, exact_floats, &X[i, 0], n,
                                       &U, &r)
        for j in range(s):
            z = G[i, j] - b[j]
            if float_decides:
                G[i, j] = z if z > 0.0 else 0.0
            elif z > 0.0 and _active(z, j, b[j], &r, &U, &W[j, 0], &X[i, 0], n):
                G[i, j] = z
            else:
                # Exactly inactive, or active with a computed z <= 0 (a
                # near-tie), whose ReLU value max(z, 0) is 0 either way.
                G[i, j] = 0.0


def count_positive(const double[:, ::1] G, const double[::1] b, long long[::1] counts):
    """``counts[i] = #{j : G[i, j] - b[j] > 0}`` in floating point (no exact re-decision)."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i
    for i in prange(m, nogil=True, schedule="static"):
        counts[i] = _count_row_plain(&G[i, 0], &b[0], s)


# ------------------------------------------------- one parallel region per call
# The kernels below take the rows ``X`` instead of their inner products and
# compute ``G = X @ W.T`` themselves, block of rows by block of rows, inside
# one OpenMP parallel region: each thread multiplies its block with BLAS
# (``dgemm`` of SciPy's BLAS, which the caller holds to one thread, so BLAS
# threads and OpenMP threads never compete for the cores) into its own
# buffer, which stays in cache for the decisions that follow.  Blocks are
# handed out dynamically, so a thread slowed down by other processes takes
# fewer of them.  The decisions are those of the ``G`` kernels above, row by
# row (the same row helpers; the rounding bound holds whatever order BLAS
# sums in).  ``n_threads`` is the team size (``<= 0``: OpenMP's current
# default); the caller passes 1 for calls too small to repay waking a second
# thread, which on a loaded machine costs milliseconds.

ctypedef void (*dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*,
                         int*, double*, double*, int*) noexcept nogil
cdef dgemm_t _dgemm = NULL


cdef dgemm_t _blas_dgemm() except NULL:
    global _dgemm
    if _dgemm == NULL:
        from scipy.linalg import cython_blas
        capsule = cython_blas.__pyx_capi__["dgemm"]
        _dgemm = <dgemm_t> PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))
    return _dgemm


def _scratch(int n_threads, Py_ssize_t block_rows, Py_ssize_t s):
    """One ``block_rows x s`` buffer of inner products per thread, allocated
    (or refused with :class:`MemoryError`) while holding the GIL."""
    import numpy as np
    return np.empty(max(n_threads, 1) * block_rows * s)


cdef inline void _block_products(dgemm_t dgemm, const double* X, const double* W,
                                 Py_ssize_t rows, Py_ssize_t n, Py_ssize_t s,
                                 double* g) noexcept nogil:
    """``g[i * s + j] = <x_i, w_j>`` for the ``rows`` rows at ``X``: in
    column-major terms ``g (s x rows) = W (s x n) . X^T (n x rows)``."""
    cdef char transa = b"T", transb = b"N"
    cdef int m_ = <int> s, n_ = <int> rows, k_ = <int> n, lda = <int> n, ldb = <int> n
    cdef int ldc = <int> s
    cdef double one = 1.0, zero = 0.0
    dgemm(&transa, &transb, &m_, &n_, &k_, &one, <double*> W, &lda, <double*> X, &ldb,
          &zero, g, &ldc)


cdef struct Region:
    UnitBounds U
    double screen       # the first screening bound of every row (max_j tol_ij)
    Py_ssize_t n_blocks
    int n_threads       # the team size
    dgemm_t dgemm


cdef Region _region(Py_ssize_t m, Py_ssize_t block_rows, int n_threads,
                    double x_norm_bound, const double[::1] w_l1, const double[::1] tol_w,
                    const double[::1] tol_b, const double[::1] b,
                    int weight_valuation) except *:
    """What every one-region kernel sets up before its region: the unit
    bounds, the screening bound, the number of blocks of ``block_rows`` rows
    and the team size (``n_threads <= 0``: OpenMP's current default).  The
    caller then allocates every thread's block buffer (:func:`_scratch`)
    before the region: a thread whose own allocation failed would skip the
    prange that the others wait for at its closing barrier."""
    cdef Region R
    R.U = _unit_bounds(w_l1, tol_w, tol_b, b, weight_valuation)
    R.screen = R.U.max_tol_w * x_norm_bound + R.U.max_tol_b
    R.n_blocks = (m + block_rows - 1) // block_rows
    R.n_threads = n_threads if n_threads > 0 else omp_get_max_threads()
    R.dgemm = _blas_dgemm()
    return R


def forward_rows(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
                 const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                 const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                 const double[::1] u, double[::1] out, Py_ssize_t block_rows,
                 int n_threads):
    """:func:`relu_combine` of every row of ``X``, products included, in one
    parallel region (blocks of ``block_rows`` rows)."""
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], blk, i, start, rows
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef double* g
    if m == 0:
        return
    cdef double[::1] scratch = _scratch(R.n_threads, block_rows, s)
    with nogil, parallel(num_threads=R.n_threads):
        g = &scratch[0] + threadid() * block_rows * s
        for blk in prange(R.n_blocks, schedule="dynamic"):
            start = blk * block_rows
            rows = min(block_rows, m - start)
            _block_products(R.dgemm, &X[start, 0], &W[0, 0], rows, n, s, g)
            for i in range(rows):
                out[start + i] = _relu_combine_row(g + i * s, &b[0], s, R.screen, exact_floats,
                                                   &X[start + i, 0], n, &R.U, &W[0, 0],
                                                   &u[0])


cdef inline void _masked_relu_row(double* g, const double* b, Py_ssize_t s, double screen,
                                  bint exact_floats, const double* x, Py_ssize_t n,
                                  UnitBounds* U, const double* W) noexcept nogil:
    """One row of :func:`masked_relu`, in place."""
    cdef Py_ssize_t j
    cdef double z
    cdef RowBound r
    cdef bint float_decides = _float_decides(g, b, s, screen, exact_floats, x, n, U, &r)
    for j in range(s):
        z = g[j] - b[j]
        if float_decides:
            g[j] = z if z > 0.0 else 0.0
        elif z > 0.0 and _active(z, j, b[j], &r, U, W + j * n, x, n):
            g[j] = z
        else:
            # Exactly inactive, or active with a computed z <= 0 (a
            # near-tie), whose ReLU value max(z, 0) is 0 either way.
            g[j] = 0.0


cdef inline void _block_output(dgemm_t dgemm, const double* g, const double* U_out,
                               Py_ssize_t rows, Py_ssize_t s, Py_ssize_t o,
                               double* out) noexcept nogil:
    """``out (rows x o) = g (rows x s) . U_out (s x o)``, all row-major: in
    column-major terms ``out^T (o x rows) = U_out^T (o x s) . g^T (s x rows)``."""
    cdef char trans = b"N"
    cdef int m_ = <int> o, n_ = <int> rows, k_ = <int> s, lda = <int> o, ldb = <int> s
    cdef int ldc = <int> o
    cdef double one = 1.0, zero = 0.0
    dgemm(&trans, &trans, &m_, &n_, &k_, &one, <double*> U_out, &lda, <double*> g, &ldb,
          &zero, out, &ldc)


def forward_multi_rows(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
                       const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                       const double[::1] tol_w, const double[::1] tol_b,
                       int weight_valuation, const double[:, ::1] U_out,
                       double[:, ::1] out, Py_ssize_t block_rows, int n_threads):
    """``out = relu_A(X W^T - b) @ U_out`` (:func:`masked_relu`, then the
    product with the ``(s, o)`` output weights) in one parallel region.

    Each block of ``block_rows`` rows gets its inner products, its exact
    masked ReLU (in place, while in cache) and its output product, two
    one-thread ``dgemm`` calls, on one thread.
    """
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], o = U_out.shape[1]
    cdef Py_ssize_t blk, i, start, rows
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef double* g
    if m == 0:
        return
    cdef double[::1] scratch = _scratch(R.n_threads, block_rows, s)
    with nogil, parallel(num_threads=R.n_threads):
        g = &scratch[0] + threadid() * block_rows * s
        for blk in prange(R.n_blocks, schedule="dynamic"):
            start = blk * block_rows
            rows = min(block_rows, m - start)
            _block_products(R.dgemm, &X[start, 0], &W[0, 0], rows, n, s, g)
            for i in range(rows):
                _masked_relu_row(g + i * s, &b[0], s, R.screen, exact_floats,
                                 &X[start + i, 0], n, &R.U, &W[0, 0])
            _block_output(R.dgemm, g, &U_out[0, 0], rows, s, o, &out[start, 0])


cdef inline void _count_block(dgemm_t dgemm, const double* X, const double* W,
                              const double* b, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t s,
                              double screen, bint exact_floats, UnitBounds* U, double* g,
                              long long* counts) noexcept nogil:
    """:func:`count_rows` on one block: the ``rows`` rows at ``X``, their
    products in ``g``, their counts to ``counts[0:rows]``."""
    cdef Py_ssize_t i
    _block_products(dgemm, X, W, rows, n, s, g)
    for i in range(rows):
        if exact_floats:
            counts[i] = _count_row_plain(g + i * s, b, s)
        else:
            counts[i] = _count_row(g + i * s, b, s, screen, X + i * n, n, U, W)


cdef inline long long* _supports_block(dgemm_t dgemm, const double* X, const double* W,
                                       const double* b, Py_ssize_t rows, Py_ssize_t n,
                                       Py_ssize_t s, double screen, bint exact_floats,
                                       UnitBounds* U, double* g, long long* counts,
                                       long long* nnz) noexcept nogil:
    """:func:`supports_rows` on one block: :func:`_count_block`, then the
    block's active units, row by row, in a new ``malloc`` buffer (returned;
    NULL when out of memory) of ``nnz[0]`` entries."""
    cdef Py_ssize_t i
    cdef long long total = 0, pos = 0
    cdef long long* indices
    _count_block(dgemm, X, W, b, rows, n, s, screen, exact_floats, U, g, counts)
    for i in range(rows):
        total = total + counts[i]
    nnz[0] = total
    indices = <long long*> malloc((total + 1) * sizeof(long long))
    if indices != NULL:
        for i in range(rows):
            _fill_row(g + i * s, b, s, screen, exact_floats, X + i * n, n, U, W,
                      indices + pos)
            pos = pos + counts[i]
    return indices


def count_rows(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
               const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
               const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
               long long[::1] counts, Py_ssize_t block_rows,
               int n_threads):
    """:func:`count_active` of every row of ``X``, products included, in one
    parallel region (blocks of ``block_rows`` rows)."""
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], blk, i, start, rows
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef double* g
    if m == 0:
        return
    cdef double[::1] scratch = _scratch(R.n_threads, block_rows, s)
    with nogil, parallel(num_threads=R.n_threads):
        g = &scratch[0] + threadid() * block_rows * s
        for blk in prange(R.n_blocks, schedule="dynamic"):
            start = blk * block_rows
            rows = min(block_rows, m - start)
            _count_block(R.dgemm, &X[start, 0], &W[0, 0], &b[0], rows, n, s, R.screen,
                         exact_floats, &R.U, g, &counts[start])


def supports_rows(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
                  const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                  const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                  long long[::1] counts, Py_ssize_t block_rows,
                  int n_threads):
    """Active supports of every row of ``X`` (:func:`count_active` then
    :func:`fill_supports`), products included, in one parallel region.

    Writes ``counts`` and returns the concatenated indices (int64), row by
    row.  Each block's products serve both its counts and its fill; the
    block's indices go to a buffer of their own, copied in place after the
    region (``O(nnz)``).
    """
    import numpy as np
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], blk, i, start, rows
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef double* g
    cdef int[1] status
    status[0] = 0
    if m == 0:
        return np.empty(0, dtype=np.int64)
    cdef double[::1] scratch
    cdef long long** blocks = <long long**> malloc(R.n_blocks * sizeof(long long*))
    cdef long long[::1] block_nnz = np.zeros(R.n_blocks, dtype=np.int64)
    if blocks == NULL:
        raise MemoryError("supports_rows: no memory for the block table")
    for blk in range(R.n_blocks):
        blocks[blk] = NULL
    try:
        scratch = _scratch(R.n_threads, block_rows, s)  # before the region: see _region
        with nogil, parallel(num_threads=R.n_threads):
            g = &scratch[0] + threadid() * block_rows * s
            for blk in prange(R.n_blocks, schedule="dynamic"):
                start = blk * block_rows
                rows = min(block_rows, m - start)
                blocks[blk] = _supports_block(R.dgemm, &X[start, 0], &W[0, 0], &b[0], rows, n,
                                              s, R.screen, exact_floats, &R.U, g,
                                              &counts[start], &block_nnz[blk])
                if blocks[blk] == NULL:
                    status[0] = 1
        if status[0]:
            raise MemoryError("supports_rows: no memory for a block")
        indices = np.empty(int(np.sum(block_nnz)), dtype=np.int64)
        _gather_blocks(blocks, block_nnz, indices)
        return indices
    finally:
        for blk in range(R.n_blocks):
            free(blocks[blk])
        free(blocks)


cdef void _gather_blocks(long long** blocks, const long long[::1] block_nnz,
                         long long[::1] indices) noexcept:
    cdef Py_ssize_t blk, pos = 0
    for blk in range(block_nnz.shape[0]):
        if block_nnz[blk] > 0:
            memcpy(&indices[pos], blocks[blk], block_nnz[blk] * sizeof(long long))
            pos += block_nnz[blk]


# ------------------------------------------- float32 screening of the decisions
# count_rows32 and supports_rows32 decide what count_rows and supports_rows
# decide (the exact definition), faster: each block of rows is multiplied in
# float32 (sgemm on float32 copies of W and of the block's rows), which is
# about twice as fast as dgemm and halves the bytes the decisions read.
#
# Why the float32 sign is safe away from the thresholds.  Let u = 2^-24 and
# gamma_k = k u / (1 - k u).  Round to nearest with gradual underflow: a
# float32 conversion is w' = w (1 + a) + e, |a| <= u, |e| <= 2^-150, and a
# product or fused multiply-add is (exact result)(1 + d) + e likewise (an
# addition whose result is subnormal is exact, e = 0).  Then
# w'_d x'_d = w_d x_d (1 + a_d)(1 + b_d) + e_d with |(1 + a)(1 + b) - 1| <=
# gamma_2 and |e_d| <= 2^-149 (|w_d| + |x_d| + 1), and the float32 sum s' of
# the n products, in ANY order and grouping BLAS uses, with or without FMA,
# satisfies |s' - sum_d w'_d x'_d| <= gamma_n sum_d |w'_d x'_d| + n 2^-149.
# Together (gamma_n + gamma_2 + gamma_n gamma_2 <= gamma_{n+2}):
#
#     |s'_ij - <w_j, x_i>| <= gamma_{n+2} ||w_j||_1 ||x_i||_inf + eta_j,
#     eta_j = 2^-146 (||w_j||_1 + n (||x||_inf + 2)),
#
# which the caller (sparselearn.network._screen_args) bounds from above in
# float64 by tol_j, with ||x||_inf the largest |x_id| of the call, and turns
# into float32 thresholds rounded outwards: hi_j >= b_j + tol_j and
# lo_j <= b_j - tol_j (b itself is never rounded to float32).  So s' > hi_j
# means <w_j, x_i> > b_j (active) and s' <= lo_j means <w_j, x_i> <= b_j
# (inactive), exactly; only lo_j < s' <= hi_j (a *candidate*) is re-decided,
# by the float64 rule of this module (a float64 inner product and the
# rounding bound tol_ij, then the exact sign inside it).  When the caller
# has checked that every float32 partial sum is exact (dyadic parameters on
# integer rows: module notes, with 2^23 for 2^52), hi = lo = b and there is
# no candidate.  The caller also makes sure nothing overflows float32.
#
# A block whose candidates exceed ``max_near`` of its entries (ties are
# frequent, e.g. decimal weights on cube points) is redone in float64 with
# dgemm and the float64 row helpers, where re-deciding its candidates one
# inner product at a time would cost more; a thread whose first blocks keep
# falling back stops trying float32.  Either way the decisions are the
# exact ones, so results never depend on which path a block took.

ctypedef void (*sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*,
                         int*, float*, float*, int*) noexcept nogil
cdef sgemm_t _sgemm = NULL


cdef sgemm_t _blas_sgemm() except NULL:
    global _sgemm
    if _sgemm == NULL:
        from scipy.linalg import cython_blas
        capsule = cython_blas.__pyx_capi__["sgemm"]
        _sgemm = <sgemm_t> PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))
    return _sgemm


cdef struct Screen32:
    const float* W      # (s, n) float32 copy of the weights
    const float* hi     # (s,)
    const float* lo     # (s,)
    double max_near     # candidates per entry above which a block falls back


cdef inline void _block_products32(sgemm_t sgemm, const double* X, const float* W32,
                                   Py_ssize_t rows, Py_ssize_t n, Py_ssize_t s,
                                   float* x32, float* g) noexcept nogil:
    """``g[i * s + j] = fl32(<fl32(x_i), fl32(w_j)>)`` for the ``rows`` rows
    at ``X`` (converted to float32 in ``x32`` first), as :func:`_block_products`."""
    cdef char transa = b"T", transb = b"N"
    cdef int m_ = <int> s, n_ = <int> rows, k_ = <int> n, lda = <int> n, ldb = <int> n
    cdef int ldc = <int> s
    cdef float one = 1.0, zero = 0.0
    cdef Py_ssize_t t
    for t in range(rows * n):
        x32[t] = <float> X[t]
    sgemm(&transa, &transb, &m_, &n_, &k_, &one, <float*> W32, &lda, x32, &ldb, &zero, g,
          &ldc)


cdef inline void _screen32(const float* g, const float* hi, const float* lo, Py_ssize_t s,
                           long long* n_hi, long long* n_lo) noexcept nogil:
    """Counts of ``g > hi`` (surely active) and ``g > lo`` (active or
    candidate) over one row: 32-bit integer sums (associative, so they
    vectorize; a row has far fewer than 2^31 units)."""
    cdef Py_ssize_t j
    cdef int total_a = 0, total_c = 0
    for j in range(s):
        total_a = total_a + (g[j] > hi[j])
        total_c = total_c + (g[j] > lo[j])
    n_hi[0] = total_a
    n_lo[0] = total_c


cdef extern from *:
    """
    /* Bit k of the result: g[k] > lo[k], k < 16 (an ordered comparison: no
       NaN reaches the kernels).  SIMD where the build has it. */
    #if defined(__AVX2__)
    #include <immintrin.h>
    static inline unsigned sl_above_mask16(const float* g, const float* lo) {
        unsigned a = (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(
            _mm256_loadu_ps(g), _mm256_loadu_ps(lo), _CMP_GT_OQ));
        unsigned b = (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(
            _mm256_loadu_ps(g + 8), _mm256_loadu_ps(lo + 8), _CMP_GT_OQ));
        return a | (b << 8);
    }
    #elif defined(__SSE2__)
    #include <emmintrin.h>
    static inline unsigned sl_above_mask16(const float* g, const float* lo) {
        unsigned m = 0;
        for (int q = 0; q < 4; q++)
            m |= (unsigned) _mm_movemask_ps(_mm_cmpgt_ps(_mm_loadu_ps(g + 4 * q),
                                                         _mm_loadu_ps(lo + 4 * q))) << (4 * q);
        return m;
    }
    #else
    static inline unsigned sl_above_mask16(const float* g, const float* lo) {
        unsigned m = 0;
        for (int k = 0; k < 16; k++)
            m |= (unsigned) (g[k] > lo[k]) << k;
        return m;
    }
    #endif
    """
    unsigned sl_above_mask16(const float* g, const float* lo) nogil
    int __builtin_ctz(unsigned) nogil


cdef inline double _dot64(const double* w, const double* x, Py_ssize_t n) noexcept nogil:
    """``<w, x>`` in float64, four interleaved partial sums (any order is
    covered by the module's rounding bound)."""
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef Py_ssize_t d, end = n - n % 4
    for d in range(0, end, 4):
        a0 = a0 + w[d] * x[d]
        a1 = a1 + w[d + 1] * x[d + 1]
        a2 = a2 + w[d + 2] * x[d + 2]
        a3 = a3 + w[d + 3] * x[d + 3]
    for d in range(end, n):
        a0 = a0 + w[d] * x[d]
    return (a0 + a1) + (a2 + a3)


cdef inline bint _redecide(Py_ssize_t j, const double* x, Py_ssize_t n, const double* W,
                           const double* b, bint exact_floats, RowBound* r,
                           UnitBounds* U) noexcept nogil:
    """The float64 decision of one candidate (its inner product computed here)."""
    cdef double z = _dot64(W + j * n, x, n) - b[j]
    if exact_floats:
        return z > 0.0
    return _active(z, j, b[j], r, U, W + j * n, x, n)


cdef inline Py_ssize_t _row_decisions32(const float* g, Py_ssize_t s, const double* x,
                                        Py_ssize_t n, const double* W, const double* b,
                                        bint exact_floats, UnitBounds* U, Screen32* S,
                                        bint candidates, long long* indices) noexcept nogil:
    """Active units of one screened row: their number, and their indices
    (increasing) written to ``indices`` unless it is NULL.  ``candidates``:
    whether the row has any (else every ``g > lo`` is ``g > hi``, active).
    The entries above ``lo`` are found 16 at a time by a SIMD comparison
    mask, so a row costs about one vector compare per 16 units."""
    cdef Py_ssize_t j, j0, k, end = s - s % 16, count = 0
    cdef unsigned mask
    cdef RowBound r
    if candidates and not exact_floats:
        r = _row_bound(x, n, U)
    for j0 in range(0, end, 16):
        mask = sl_above_mask16(g + j0, S.lo + j0)
        while mask != 0:
            j = j0 + __builtin_ctz(mask)
            mask = mask & (mask - 1)
            if (not candidates or g[j] > S.hi[j]
                    or _redecide(j, x, n, W, b, exact_floats, &r, U)):
                if indices != NULL:
                    indices[count] = j
                count = count + 1
    for j in range(end, s):
        if g[j] > S.lo[j] and (not candidates or g[j] > S.hi[j]
                               or _redecide(j, x, n, W, b, exact_floats, &r, U)):
            if indices != NULL:
                indices[count] = j
            count = count + 1
    return count


cdef inline bint _screen_block32(const float* g, Py_ssize_t rows, Py_ssize_t s,
                                 Screen32* S, long long* n_hi,
                                 long long* n_lo) noexcept nogil:
    """Screen every row of a block; False when its candidates exceed
    ``S.max_near`` of its entries (the block is then redone in float64)."""
    cdef Py_ssize_t i
    cdef long long near = 0
    for i in range(rows):
        _screen32(g + i * s, S.hi, S.lo, s, &n_hi[i], &n_lo[i])
        near = near + (n_lo[i] - n_hi[i])
    return near <= S.max_near * <double> (rows * s)


cdef inline Screen32 _screen(const float[:, ::1] W32, const float[::1] hi,
                             const float[::1] lo, double max_near) noexcept nogil:
    cdef Screen32 S
    S.W = &W32[0, 0]
    S.hi = &hi[0]
    S.lo = &lo[0]
    S.max_near = max_near
    return S


def _scratch32(int n_threads, Py_ssize_t block_rows, Py_ssize_t n):
    """Per thread: a block's rows in float32 and two counts per row
    (allocated while holding the GIL, as :func:`_scratch`)."""
    import numpy as np
    return (np.empty(max(n_threads, 1) * block_rows * n, dtype=np.float32),
            np.empty(max(n_threads, 1) * (2 * block_rows + 2), dtype=np.int64))


# A thread stops trying float32 once this many of its blocks fell back and
# they are at least half of its blocks so far.
cdef enum:
    FALLBACKS_TO_STOP = 2


cdef inline bint _try_block32(sgemm_t sgemm, const double* X, Screen32* S,
                              Py_ssize_t rows, Py_ssize_t n, Py_ssize_t s, float* x32,
                              float* g32, long long* n_hi, long long* n_lo,
                              long long* tally) noexcept nogil:
    """The float32 attempt on one block of :func:`count_rows32` and
    :func:`supports_rows32`: True when its products are in ``g32`` and its
    rows screened (``n_hi``, ``n_lo``), False for the float64 kernel.  A
    thread stops trying once ``FALLBACKS_TO_STOP`` of its blocks fell back
    and they are at least half of its tries (``tally``: tries, fallbacks)."""
    if not (tally[1] < FALLBACKS_TO_STOP or 2 * tally[1] < tally[0]):
        return False
    tally[0] = tally[0] + 1
    _block_products32(sgemm, X, S.W, rows, n, s, x32, g32)
    if _screen_block32(g32, rows, s, S, n_hi, n_lo):
        return True
    tally[1] = tally[1] + 1
    return False


def count_rows32(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
                 const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                 const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                 const float[:, ::1] W32, const float[::1] hi, const float[::1] lo,
                 double max_near, long long[::1] counts, Py_ssize_t block_rows,
                 int n_threads):
    """:func:`count_rows` with float32 screening (see above); same counts.

    ``W32`` is ``W`` rounded to float32, ``hi``, ``lo`` the float32
    thresholds (module notes) and ``max_near`` the fraction of candidate
    entries above which a block is redone in float64 (0: every block with a
    candidate; above 1: never)."""
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], blk, i, start, rows
    cdef Screen32 S = _screen(W32, hi, lo, max_near)
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef sgemm_t sgemm = _blas_sgemm()
    cdef double* g
    cdef float* g32
    cdef float* x32
    cdef long long* n_hi
    cdef long long* n_lo
    cdef long long* tally   # this thread's (blocks tried in float32, fallbacks)
    cdef bint done
    if m == 0:
        return
    cdef double[::1] scratch = _scratch(R.n_threads, block_rows, s)
    x_scratch, count_scratch = _scratch32(R.n_threads, block_rows, n)
    cdef float[::1] xs = x_scratch
    cdef long long[::1] cs = count_scratch
    with nogil, parallel(num_threads=R.n_threads):
        g = &scratch[0] + threadid() * block_rows * s
        g32 = <float*> g   # the float32 products share the float64 buffer
        x32 = &xs[0] + threadid() * block_rows * n
        n_hi = &cs[0] + threadid() * (2 * block_rows + 2)
        n_lo = n_hi + block_rows
        tally = n_lo + block_rows
        tally[0] = 0
        tally[1] = 0
        for blk in prange(R.n_blocks, schedule="dynamic"):
            start = blk * block_rows
            rows = min(block_rows, m - start)
            done = _try_block32(sgemm, &X[start, 0], &S, rows, n, s, x32, g32, n_hi, n_lo,
                                tally)
            if done:
                for i in range(rows):
                    if n_hi[i] == n_lo[i]:
                        counts[start + i] = n_hi[i]
                    else:
                        counts[start + i] = _row_decisions32(
                            g32 + i * s, s, &X[start + i, 0], n, &W[0, 0], &b[0],
                            exact_floats, &R.U, &S, True, NULL)
            else:
                _count_block(R.dgemm, &X[start, 0], &W[0, 0], &b[0], rows, n, s, R.screen,
                             exact_floats, &R.U, g, &counts[start])


def supports_rows32(const double[:, ::1] X, double x_norm_bound, bint exact_floats,
                    const double[:, ::1] W, const double[::1] b, const double[::1] w_l1,
                    const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                    const float[:, ::1] W32, const float[::1] hi, const float[::1] lo,
                    double max_near, long long[::1] counts, Py_ssize_t block_rows,
                    int n_threads):
    """:func:`supports_rows` with float32 screening (arguments of
    :func:`count_rows32`); same counts and indices.

    A screened block's index buffer is sized by its ``g > lo`` counts (an
    upper bound on its active units), so each candidate is re-decided once.
    """
    import numpy as np
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = W.shape[0], blk, i, start, rows
    cdef Screen32 S = _screen(W32, hi, lo, max_near)
    cdef Region R = _region(m, block_rows, n_threads, x_norm_bound, w_l1, tol_w, tol_b, b,
                            weight_valuation)
    cdef sgemm_t sgemm = _blas_sgemm()
    cdef double* g
    cdef float* g32
    cdef float* x32
    cdef long long* n_hi
    cdef long long* n_lo
    cdef long long* tally
    cdef bint done
    cdef long long total, pos
    cdef long long* block_indices
    cdef int[1] status
    status[0] = 0
    if m == 0:
        return np.empty(0, dtype=np.int64)
    cdef double[::1] scratch
    cdef float[::1] xs
    cdef long long[::1] cs
    cdef long long** blocks = <long long**> malloc(R.n_blocks * sizeof(long long*))
    cdef long long[::1] block_nnz = np.zeros(R.n_blocks, dtype=np.int64)
    if blocks == NULL:
        raise MemoryError("supports_rows32: no memory for the block table")
    for blk in range(R.n_blocks):
        blocks[blk] = NULL
    try:
        scratch = _scratch(R.n_threads, block_rows, s)  # before the region: see _region
        x_scratch, count_scratch = _scratch32(R.n_threads, block_rows, n)
        xs = x_scratch
        cs = count_scratch
        with nogil, parallel(num_threads=R.n_threads):
            g = &scratch[0] + threadid() * block_rows * s
            g32 = <float*> g
            x32 = &xs[0] + threadid() * block_rows * n
            n_hi = &cs[0] + threadid() * (2 * block_rows + 2)
            n_lo = n_hi + block_rows
            tally = n_lo + block_rows
            tally[0] = 0
            tally[1] = 0
            for blk in prange(R.n_blocks, schedule="dynamic"):
                start = blk * block_rows
                rows = min(block_rows, m - start)
                done = _try_block32(sgemm, &X[start, 0], &S, rows, n, s, x32, g32, n_hi,
                                    n_lo, tally)
                if done:
                    total = 0
                    for i in range(rows):
                        total = total + n_lo[i]
                    block_indices = <long long*> malloc((total + 1) * sizeof(long long))
                    blocks[blk] = block_indices
                    if block_indices == NULL:
                        status[0] = 1
                    else:
                        pos = 0
                        for i in range(rows):
                            counts[start + i] = _row_decisions32(
                                g32 + i * s, s, &X[start + i, 0], n, &W[0, 0], &b[0],
                                exact_floats, &R.U, &S, n_hi[i] != n_lo[i],
                                block_indices + pos)
                            pos = pos + counts[start + i]
                        block_nnz[blk] = pos
                else:
                    blocks[blk] = _supports_block(R.dgemm, &X[start, 0], &W[0, 0], &b[0], rows,
                                                  n, s, R.screen, exact_floats, &R.U, g,
                                                  &counts[start], &block_nnz[blk])
                    if blocks[blk] == NULL:
                        status[0] = 1
        if status[0]:
            raise MemoryError("supports_rows32: no memory for a block")
        indices = np.empty(int(np.sum(block_nnz)), dtype=np.int64)
        _gather_blocks(blocks, block_nnz, indices)
        return indices
    finally:
        for blk in range(R.n_blocks):
            free(blocks[blk])
        free(blocks)
