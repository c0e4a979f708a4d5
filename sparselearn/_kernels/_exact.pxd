# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exact signs of pre-activations, shared (inline) by the kernels that decide activity.

A unit is active at ``x`` when the real number ``<w, x> - b``, computed
exactly from the stored float64 values, is strictly positive
(:mod:`sparselearn.network`).  The kernels compute pre-activations in
floating point with a rigorous bound ``tol`` on their error and call the
functions here only when the computed value lies in ``(-tol, tol]``, where
rounding could have changed the decision.

Exact sums use Shewchuk's grow-expansion (the algorithm of ``math.fsum``):
the running sum is kept as non-overlapping float64 *partials* of increasing
magnitude whose exact sum equals the exact sum of the terms added, so the
sign of the total is the sign of the largest nonzero partial.  Products
``w * x`` enter as the error-free pair ``p = fl(w x)``, ``e = fma(w, x, -p)``
(``p + e == w x`` exactly whenever ``|p|`` is between ``2^-960`` and
``2^1000``).  Outside that range (values near the float64 limits) the
fallback evaluates the sum with Python's exact :class:`fractions.Fraction`
arithmetic, under the GIL: slow, but only for absurd magnitudes.
"""
from libc.math cimport fabs, fma

cdef enum:
    # More than the 2098 bit positions of float64 (2^-1074 .. 2^1023): a
    # non-overlapping expansion never has more partials than that.
    MAX_PARTIALS = 2112

    # |terms| <= SAFE_MAX and at most MAX_TERMS terms keep every partial sum
    # below 2^1023 (no overflow).
    MAX_TERMS = 1 << 20

cdef extern from *:
    """
    #define SPARSELEARN_SAFE_MAX 0x1p1000
    #define SPARSELEARN_SAFE_MIN 0x1p-960
    """
    # |products| >= SAFE_MIN keep fma's error term exact.
    double SAFE_MAX "SPARSELEARN_SAFE_MAX"
    double SAFE_MIN "SPARSELEARN_SAFE_MIN"


cdef inline int _grow(double* partials, int count, double x) noexcept nogil:
    """Add ``x`` to the expansion ``partials[:count]``; returns the new count."""
    cdef int i = 0, k
    cdef double y, hi, lo, t
    for k in range(count):
        y = partials[k]
        if fabs(x) < fabs(y):
            t = x
            x = y
            y = t
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[i] = lo
            i = i + 1
        x = hi
    partials[i] = x
    return i + 1


cdef inline int _expansion_sign(const double* partials, int count) noexcept nogil:
    cdef int k
    for k in range(count - 1, -1, -1):
        if partials[k] > 0.0:
            return 1
        if partials[k] < 0.0:
            return -1
    return 0


cdef inline int _fraction_dot_sign(const double* w, Py_ssize_t w_stride,
                                   const double* x, Py_ssize_t x_stride,
                                   Py_ssize_t n, double b) noexcept with gil:
    """Sign of ``sum_d w[d] x[d] - b`` in exact rational arithmetic."""
    cdef Py_ssize_t d
    from fractions import Fraction
    total = -Fraction(b)
    for d in range(n):
        if w[d * w_stride] != 0.0 and x[d * x_stride] != 0.0:
            total += Fraction(w[d * w_stride]) * Fraction(x[d * x_stride])
    return (total > 0) - (total < 0)


cdef inline int exact_dot_sign(const double* w, Py_ssize_t w_stride,
                               const double* x, Py_ssize_t x_stride,
                               Py_ssize_t n, double b) noexcept nogil:
    """Exact sign (-1, 0 or 1) of ``sum_d w[d * w_stride] x[d * x_stride] - b``."""
    cdef double partials[MAX_PARTIALS]
    cdef int count = 0
    cdef Py_ssize_t d
    cdef double a, c, p, e
    if n > MAX_TERMS or not fabs(b) <= SAFE_MAX:
        return _fraction_dot_sign(w, w_stride, x, x_stride, n, b)
    for d in range(n):
        a = w[d * w_stride]
        c = x[d * x_stride]
        if a == 0.0 or c == 0.0:
            continue
        p = a * c
        if not (fabs(p) >= SAFE_MIN and fabs(p) <= SAFE_MAX):
            return _fraction_dot_sign(w, w_stride, x, x_stride, n, b)
        e = fma(a, c, -p)
        count = _grow(partials, count, p)
        if e != 0.0:
            count = _grow(partials, count, e)
    if b != 0.0:
        count = _grow(partials, count, -b)
    return _expansion_sign(partials, count)


cdef inline int _fraction_cube_sign(const double* w, Py_ssize_t w_stride,
                                    unsigned long long index, const signed char* signs,
                                    Py_ssize_t n, double b) noexcept with gil:
    cdef Py_ssize_t d
    cdef bint negative
    from fractions import Fraction
    total = -Fraction(b)
    for d in range(n):
        negative = (signs[d] < 0) if signs != NULL else ((index >> d) & 1)
        if negative:
            total -= Fraction(w[d * w_stride])
        else:
            total += Fraction(w[d * w_stride])
    return (total > 0) - (total < 0)


cdef inline int exact_cube_sign(const double* w, Py_ssize_t w_stride,
                                unsigned long long index, const signed char* signs,
                                Py_ssize_t n, double b) noexcept nogil:
    """Exact sign of ``sum_d x_d w[d * w_stride] - b`` at a point of ``{-1,1}^n``.

    The point is ``signs[d]`` (``+1``/``-1``) when ``signs`` is not NULL,
    else ``x_d = 1 - 2 bit_d(index)`` (the cube index convention; ``n <= 64``).
    The terms are ``+-w`` themselves, so no product is formed.
    """
    cdef double partials[MAX_PARTIALS]
    cdef int count = 0
    cdef Py_ssize_t d
    cdef double a
    cdef double one = 1.0
    cdef double minus_one = -1.0
    cdef bint negative
    if n > MAX_TERMS or not fabs(b) <= SAFE_MAX:
        return _fraction_cube_sign(w, w_stride, index, signs, n, b)
    for d in range(n):
        a = w[d * w_stride]
        if a == 0.0:
            continue
        if not fabs(a) <= SAFE_MAX:
            return _fraction_cube_sign(w, w_stride, index, signs, n, b)
        negative = (signs[d] < 0) if signs != NULL else ((index >> d) & 1)
        count = _grow(partials, count, -a if negative else a)
    if b != 0.0:
        count = _grow(partials, count, -b)
    return _expansion_sign(partials, count)
