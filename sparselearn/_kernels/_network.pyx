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
    double exact_limit  # magnitudes up to this are summed exactly (0: none)
    bint all_exact      # every unit's magnitude is below exact_limit


cdef inline RowBound _row_bound(const double* x, Py_ssize_t n, int weight_valuation,
                                double max_l1, double max_abs_bias) noexcept nogil:
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
        if r.exact_limit > SAFE_MAX:
            r.exact_limit = SAFE_MAX
    r.all_exact = max_l1 * r.x_norm + max_abs_bias <= r.exact_limit
    return r


cdef inline bint _active(double z, double l1, double abs_bias, RowBound* r,
                         double gamma, double eta, const double* w, const double* x,
                         Py_ssize_t n, double b) noexcept nogil:
    """Exact decision for one (row, unit) pair from its computed pre-activation."""
    cdef double magnitude = l1 * r.x_norm + abs_bias
    cdef double tol
    if magnitude <= r.exact_limit:
        return z > 0.0
    tol = gamma * magnitude + eta
    if z > tol:
        return True
    if z <= -tol:
        return False
    return exact_dot_sign(w, 1, x, 1, n, b) > 0


def relu_combine(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                 const double[::1] b, const double[::1] u, const double[::1] w_l1,
                 int weight_valuation, double[::1] out):
    """``out[i] = sum_{j active} u[j] * max(G[i, j] - b[j], 0)``.

    An exactly inactive unit contributes exactly nothing; an active one its
    computed ReLU value.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef double acc, z, max_l1 = 0.0, max_abs_bias = 0.0
    cdef double gamma = (n + 2) * ldexp(1.0, -52), eta = (n + 2) * ldexp(1.0, -1073)
    cdef RowBound r
    for j in range(s):
        max_l1 = max(max_l1, w_l1[j])
        max_abs_bias = max(max_abs_bias, fabs(b[j]))
    for i in prange(m, nogil=True, schedule="static"):
        acc = 0.0
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        if r.all_exact:
            for j in range(s):
                z = G[i, j] - b[j]
                if z > 0.0:
                    acc = acc + u[j] * z
        else:
            for j in range(s):
                z = G[i, j] - b[j]
                # z <= 0 contributes 0 whichever way the decision goes.
                if z > 0.0 and _active(z, w_l1[j], fabs(b[j]), &r, gamma, eta,
                                       &W[j, 0], &X[i, 0], n, b[j]):
                    acc = acc + u[j] * z
        out[i] = acc


def count_active(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                 const double[::1] b, const double[::1] w_l1, int weight_valuation,
                 long long[::1] counts):
    """``counts[i] = #{j : <w_j, x_i> - b_j > 0}``, decided exactly."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef long long c
    cdef double max_l1 = 0.0, max_abs_bias = 0.0
    cdef double gamma = (n + 2) * ldexp(1.0, -52), eta = (n + 2) * ldexp(1.0, -1073)
    cdef RowBound r
    for j in range(s):
        max_l1 = max(max_l1, w_l1[j])
        max_abs_bias = max(max_abs_bias, fabs(b[j]))
    for i in prange(m, nogil=True, schedule="static"):
        c = 0
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        if r.all_exact:
            for j in range(s):
                if G[i, j] - b[j] > 0.0:
                    c = c + 1
        else:
            for j in range(s):
                if _active(G[i, j] - b[j], w_l1[j], fabs(b[j]), &r, gamma, eta,
                           &W[j, 0], &X[i, 0], n, b[j]):
                    c = c + 1
        counts[i] = c


def fill_supports(const double[:, ::1] G, const double[:, ::1] X, const double[:, ::1] W,
                  const double[::1] b, const double[::1] w_l1, int weight_valuation,
                  const long long[::1] indptr, long long[::1] indices):
    """Write the active units of row ``i`` into ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` must be the cumulative sum of :func:`count_active` on the same
    arguments (with a leading zero, offset as the caller chooses); the
    decisions are the same, pair by pair.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], n = X.shape[1], i, j
    cdef long long pos
    cdef double max_l1 = 0.0, max_abs_bias = 0.0
    cdef double gamma = (n + 2) * ldexp(1.0, -52), eta = (n + 2) * ldexp(1.0, -1073)
    cdef RowBound r
    for j in range(s):
        max_l1 = max(max_l1, w_l1[j])
        max_abs_bias = max(max_abs_bias, fabs(b[j]))
    for i in prange(m, nogil=True, schedule="static"):
        pos = indptr[i]
        r = _row_bound(&X[i, 0], n, weight_valuation, max_l1, max_abs_bias)
        for j in range(s):
            if (G[i, j] - b[j] > 0.0 if r.all_exact else
                    _active(G[i, j] - b[j], w_l1[j], fabs(b[j]), &r, gamma, eta,
                            &W[j, 0], &X[i, 0], n, b[j])):
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
