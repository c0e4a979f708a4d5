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
``2^1000``).  Outside that range (tiny products such as ``1e-300 * 1e-20``
or any product with a subnormal factor, and values near the float64 limits)
the sum goes to a *long accumulator* instead (Kulisch): every finite float64
is ``M 2^(e - 1074)`` with integers ``0 <= M < 2^53`` and ``0 <= e <= 2045``,
so every product ``w x`` is the integer ``M_w M_x < 2^106`` times
``2^(e_w + e_x - 2148)`` (``-b`` enters as the product ``(-b) 1``): all
terms are integer multiples of ``2^-2148`` below ``2^4196``.  Two
fixed-point integers of 68 64-bit limbs (4352 bits) sum the positive and
the negative terms in those units, with carries and no rounding, and the
sign is their comparison: exact for any finite inputs and ``n < 2^150``, in
C without the GIL (the :class:`fractions.Fraction` fallback it replaced took
microseconds per term, under the GIL).
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

    #include <stdint.h>
    #include <string.h>

    /* The long accumulator (module notes): the positive and the negative
       terms, in units of 2^-2148, as little-endian arrays of 64-bit limbs.
       Products reach bit 4196 and the carries of n < 2^150 terms 4346. */
    #define SL_LONG_LIMBS 68
    typedef struct {
        uint64_t limbs[2][SL_LONG_LIMBS];
    } sl_long_acc;

    /* x = M 2^(e - 1074) exactly, x finite: returns e, sets M (and the sign). */
    static inline int sl_long_split(double x, uint64_t* M, int* negative) {
        uint64_t bits;
        unsigned e;
        memcpy(&bits, &x, 8);
        *negative = (int) (bits >> 63);
        e = (unsigned) ((bits >> 52) & 0x7FF);
        *M = bits & 0xFFFFFFFFFFFFFULL;
        if (e == 0)
            return 0;                       /* subnormal: M 2^-1074 */
        *M |= 1ULL << 52;
        return (int) e - 1;
    }

    /* acc += (hi 2^64 + lo) 2^pos, carries included (hi < 2^42, pos <= 4090). */
    static inline void sl_long_add(uint64_t* acc, uint64_t hi, uint64_t lo, int pos) {
        int q = pos >> 6, r = pos & 63, k;
        uint64_t part[3], carry = 0, sum, wrapped;
        part[0] = lo << r;
        part[1] = r ? (lo >> (64 - r)) | (hi << r) : hi;
        part[2] = r ? hi >> (64 - r) : 0;
        for (k = 0; k < 3; k++) {
            sum = acc[q + k] + part[k];
            wrapped = sum < part[k];
            sum = sum + carry;
            carry = wrapped + (sum < carry);    /* at most one of the two */
            acc[q + k] = sum;
        }
        for (k = q + 3; carry; k++) {
            acc[k] = acc[k] + 1;
            carry = acc[k] == 0;
        }
    }

    /* hi 2^64 + lo = a b, exactly. */
    static inline void sl_long_mul(uint64_t a, uint64_t b, uint64_t* hi, uint64_t* lo) {
    #if defined(__SIZEOF_INT128__)
        unsigned __int128 p = (unsigned __int128) a * b;
        *hi = (uint64_t) (p >> 64);
        *lo = (uint64_t) p;
    #else
        uint64_t a0 = a & 0xFFFFFFFFULL, a1 = a >> 32, b0 = b & 0xFFFFFFFFULL, b1 = b >> 32;
        uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
        uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFULL) + (p10 & 0xFFFFFFFFULL);
        *lo = (mid << 32) | (p00 & 0xFFFFFFFFULL);
        *hi = a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    #endif
    }

    /* A += a c, exactly (a, c finite). */
    static inline void sl_long_term(sl_long_acc* A, double a, double c) {
        uint64_t Ma, Mc, hi, lo;
        int na, nc;
        int ea = sl_long_split(a, &Ma, &na), ec = sl_long_split(c, &Mc, &nc);
        if (Ma == 0 || Mc == 0)
            return;
        sl_long_mul(Ma, Mc, &hi, &lo);
        sl_long_add(A->limbs[na ^ nc], hi, lo, ea + ec);
    }

    static inline int sl_long_sign(const sl_long_acc* A) {
        int k;
        for (k = SL_LONG_LIMBS - 1; k >= 0; k--)
            if (A->limbs[0][k] != A->limbs[1][k])
                return A->limbs[0][k] > A->limbs[1][k] ? 1 : -1;
        return 0;
    }

    /* Exact sign of sum_d w[d ws] x[d xs] - b. */
    static inline int sl_long_dot_sign(const double* w, Py_ssize_t ws, const double* x,
                                Py_ssize_t xs, Py_ssize_t n, double b) {
        sl_long_acc A;
        Py_ssize_t d;
        memset(&A, 0, sizeof(A));
        for (d = 0; d < n; d++)
            sl_long_term(&A, w[d * ws], x[d * xs]);
        sl_long_term(&A, -b, 1.0);
        return sl_long_sign(&A);
    }

    /* Exact sign of sum_d x_d w[d ws] - b at a cube point (exact_cube_sign). */
    static inline int sl_long_cube_sign(const double* w, Py_ssize_t ws, unsigned long long index,
                                 const signed char* signs, Py_ssize_t n, double b) {
        sl_long_acc A;
        Py_ssize_t d;
        int negative;
        memset(&A, 0, sizeof(A));
        for (d = 0; d < n; d++) {
            negative = signs != NULL ? signs[d] < 0 : (int) ((index >> d) & 1);
            sl_long_term(&A, w[d * ws], negative ? -1.0 : 1.0);
        }
        sl_long_term(&A, -b, 1.0);
        return sl_long_sign(&A);
    }
    """
    # |products| >= SAFE_MIN keep fma's error term exact.
    double SAFE_MAX "SPARSELEARN_SAFE_MAX"
    double SAFE_MIN "SPARSELEARN_SAFE_MIN"
    int long_dot_sign "sl_long_dot_sign" (const double* w, Py_ssize_t w_stride,
                                          const double* x, Py_ssize_t x_stride,
                                          Py_ssize_t n, double b) noexcept nogil
    int long_cube_sign "sl_long_cube_sign" (const double* w, Py_ssize_t w_stride,
                                            unsigned long long index,
                                            const signed char* signs, Py_ssize_t n,
                                            double b) noexcept nogil


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


cdef inline int exact_dot_sign(const double* w, Py_ssize_t w_stride,
                               const double* x, Py_ssize_t x_stride,
                               Py_ssize_t n, double b) noexcept nogil:
    """Exact sign (-1, 0 or 1) of ``sum_d w[d * w_stride] x[d * x_stride] - b``."""
    cdef double partials[MAX_PARTIALS]
    cdef int count = 0
    cdef Py_ssize_t d
    cdef double a, c, p, e
    if n > MAX_TERMS or not fabs(b) <= SAFE_MAX:
        return long_dot_sign(w, w_stride, x, x_stride, n, b)
    for d in range(n):
        a = w[d * w_stride]
        c = x[d * x_stride]
        if a == 0.0 or c == 0.0:
            continue
        p = a * c
        if not (fabs(p) >= SAFE_MIN and fabs(p) <= SAFE_MAX):
            return long_dot_sign(w, w_stride, x, x_stride, n, b)
        e = fma(a, c, -p)
        count = _grow(partials, count, p)
        if e != 0.0:
            count = _grow(partials, count, e)
    if b != 0.0:
        count = _grow(partials, count, -b)
    return _expansion_sign(partials, count)


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
        return long_cube_sign(w, w_stride, index, signs, n, b)
    for d in range(n):
        a = w[d * w_stride]
        if a == 0.0:
            continue
        if not fabs(a) <= SAFE_MAX:
            return long_cube_sign(w, w_stride, index, signs, n, b)
        negative = (signs[d] < 0) if signs != NULL else ((index >> d) & 1)
        count = _grow(partials, count, -a if negative else a)
    if b != 0.0:
        count = _grow(partials, count, -b)
    return _expansion_sign(partials, count)
