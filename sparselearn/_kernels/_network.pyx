# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Row kernels of the one-hidden-layer ReLU network.

Each function takes the inner products ``G = X @ W.T`` of a chunk of rows
(computed by BLAS in the caller) and the biases ``b``; the computed
pre-activation of unit ``j`` on row ``i`` is ``z = G[i, j] - b[j]``.  Rows
are split across threads with ``prange``.

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
from cython.parallel cimport prange
from libc.math cimport fabs, ldexp
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

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
    double exact_limit  # partial sums up to this magnitude are exact (0: none)
    bint all_exact      # every unit's magnitude bound is below exact_limit


cdef inline RowBound _row_bound(const double* x, Py_ssize_t n, int weight_valuation,
                                double max_magnitude_w, double max_abs_bias) noexcept nogil:
    cdef RowBound r
    cdef Py_ssize_t d
    cdef int v = NO_VALUATION, vd
    cdef double a
    r.x_norm = 0.0
    for d in range(n):
        a = fabs(x[d])
        if a > r.x_norm:
            r.x_norm = a
        if a != 0.0:
            vd = _valuation(x[d])
            if vd < v:
                v = vd
    if v > 0:
        v = 0
    v = v + weight_valuation
    r.exact_limit = 0.0
    if v < NO_VALUATION // 2:
        r.exact_limit = ldexp(1.0, 52 + v) if 52 + v < 1000 else SAFE_MAX
    r.all_exact = max_magnitude_w * r.x_norm + max_abs_bias <= r.exact_limit
    return r


cdef inline bint _decide_near_tie(double z, double w_l1, double b, RowBound* r,
                                  const double* w, const double* x,
                                  Py_ssize_t n) noexcept nogil:
    """Exact decision for a pair whose computed ``z`` is within its bound of 0."""
    if w_l1 * r.x_norm + fabs(b) <= r.exact_limit:
        return z > 0.0      # every partial sum representable: z is exact
    return exact_dot_sign(w, 1, x, 1, n, b) > 0


cdef inline double _max_of(const double[::1] a) noexcept nogil:
    cdef double best = 0.0
    cdef Py_ssize_t j
    for j in range(a.shape[0]):
        if a[j] > best:
            best = a[j]
    return best


cdef inline double _max_abs(const double[::1] a) noexcept nogil:
    cdef double best = 0.0
    cdef Py_ssize_t j
    for j in range(a.shape[0]):
        if fabs(a[j]) > best:
            best = fabs(a[j])
    return best


# Arguments shared by the exact kernels: ``X`` (m, n) the rows and ``W``
# (s, n) the weights with ``G = X @ W.T``; ``w_l1[j] = ||w_j||_1``;
# ``tol_w``, ``tol_b`` the per-unit rounding bound, ``tol_ij = tol_w[j] *
# ||x_i||_inf + tol_b[j]`` (see :func:`rounding_bounds`); ``weight_valuation``
# the 2-adic valuation of ``W`` and ``b`` together.

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


def relu_combine(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                 const double[::1] b, const double[::1] u, const double[::1] w_l1,
                 const double[::1] tol_w, const double[::1] tol_b, int weight_valuation,
                 double[::1] out):
    """``out[i] = sum_{j active} u[j] * max(G[i, j] - b[j], 0)``.

    An exactly inactive unit contributes exactly nothing; an active one its
    computed ReLU value.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef double acc, z, t
    cdef double max_l1 = _max_of(w_l1), max_abs_bias = _max_abs(b)
    cdef int flag
    cdef RowBound r
    for i in prange(m, nogil=True, schedule="static"):
        acc = 0.0
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        if r.all_exact:
            for j in range(s):
                z = G[i, j] - b[j]
                acc = acc + (u[j] * z if z > 0.0 else 0.0)
        else:
            flag = 0
            for j in range(s):
                z = G[i, j] - b[j]
                t = tol_w[j] * r.x_norm + tol_b[j]
                acc = acc + (u[j] * z if z > t else 0.0)
                # Only 0 < z <= t is in doubt (z <= 0 contributes 0 anyway).
                flag = flag | ((z > 0.0) & (z <= t))
            if flag:
                acc = 0.0
                for j in range(s):
                    z = G[i, j] - b[j]
                    t = tol_w[j] * r.x_norm + tol_b[j]
                    if z > t or (z > 0.0 and _decide_near_tie(z, w_l1[j], b[j], &r,
                                                             &W[j, 0], &X[i, 0], n)):
                        acc = acc + u[j] * z
        out[i] = acc


cdef inline long long _count_row(const double* g, const double* b, const double* tol_w,
                                 const double* tol_b, const double* w_l1, RowBound* r,
                                 const double* W, const double* x, Py_ssize_t s,
                                 Py_ssize_t n) noexcept nogil:
    """Exact number of active units of one row (``g`` its inner products)."""
    cdef Py_ssize_t j
    cdef long long c = 0
    cdef int flag = 0
    cdef double z, t
    if r.all_exact:
        for j in range(s):
            c = c + (g[j] - b[j] > 0.0)
        return c
    for j in range(s):
        z = g[j] - b[j]
        t = tol_w[j] * r.x_norm + tol_b[j]
        c = c + (z > t)
        flag = flag | ((z <= t) & (not (z <= -t))) | (z != z)
    if flag == 0:
        return c
    c = 0
    for j in range(s):
        z = g[j] - b[j]
        t = tol_w[j] * r.x_norm + tol_b[j]
        if z > t:
            c = c + 1
        elif not (z <= -t):
            c = c + _decide_near_tie(z, w_l1[j], b[j], r, W + j * n, x, n)
    return c


def count_active(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                 const double[::1] b, const double[::1] w_l1, const double[::1] tol_w,
                 const double[::1] tol_b, int weight_valuation, long long[::1] counts):
    """``counts[i] = #{j : <w_j, x_i> - b_j > 0}``, decided exactly."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i
    cdef double max_l1 = _max_of(w_l1), max_abs_bias = _max_abs(b)
    cdef RowBound r
    for i in prange(m, nogil=True, schedule="static"):
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        counts[i] = _count_row(&G[i, 0], &b[0], &tol_w[0], &tol_b[0], &w_l1[0], &r,
                               &W[0, 0], &X[i, 0], s, n)


def fill_supports(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                  const double[::1] b, const double[::1] w_l1, const double[::1] tol_w,
                  const double[::1] tol_b, int weight_valuation,
                  const long long[::1] indptr, long long[::1] indices):
    """Write the active units of row ``i`` into ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` must be the cumulative sum of :func:`count_active` on the same
    arguments (with a leading zero, offset as the caller chooses); the
    decisions are the same, pair by pair.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef long long pos
    cdef double max_l1 = _max_of(w_l1), max_abs_bias = _max_abs(b)
    cdef double z, t
    cdef bint active
    cdef RowBound r
    for i in prange(m, nogil=True, schedule="static"):
        pos = indptr[i]
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        for j in range(s):
            z = G[i, j] - b[j]
            if r.all_exact:
                active = z > 0.0
            else:
                t = tol_w[j] * r.x_norm + tol_b[j]
                if z > t:
                    active = True
                elif z <= -t:
                    active = False
                else:
                    active = _decide_near_tie(z, w_l1[j], b[j], &r, &W[j, 0], &X[i, 0], n)
            if active:
                indices[pos] = j
                pos = pos + 1


def count_positive(const double[:, ::1] G, const double[::1] b, long long[::1] counts):
    """``counts[i] = #{j : G[i, j] - b[j] > 0}`` in floating point (no exact re-decision)."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j
    cdef long long c
    for i in prange(m, nogil=True, schedule="static"):
        c = 0
        for j in range(s):
            if G[i, j] - b[j] > 0.0:
                c = c + 1
        counts[i] = c
