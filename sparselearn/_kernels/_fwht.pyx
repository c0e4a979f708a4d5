# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Cache-blocked, in-place, unnormalised fast Walsh-Hadamard transform.

Level ``l`` of the transform replaces every pair ``(x[i], x[i + 2^l])`` with
bit ``l`` of ``i`` clear by ``(x[i] + x[i + 2^l], x[i] - x[i + 2^l])``.  The
transform of length ``2^n`` is levels ``0 .. n-1`` applied in any order (they
commute), so the schedule is free to group levels by where the data lives.

Schedule, for a row of length ``2^n`` (a *pass* reads and writes every
element once from main memory):

1. **Block pass.**  Contiguous blocks of ``2^BLOCK_LOG`` elements (1 MiB:
   ``2^17`` float64 or ``2^18`` float32, resident in a modern L2; a table
   up to that size is transformed in one block, without a second pass; 2 MiB
   when ``n`` exceeds the 1 MiB block by exactly 7 levels, see below) get
   levels ``0 .. BLOCK_LOG-1``.  Inside a
   block, L1-sized sub-blocks of ``2^L1_LOG`` elements (32 KiB; 16 KiB when
   that makes fewer sweeps, see ``_sub_log``) get levels 0-5
   from a 64-point in-register kernel (levels 0-2 inside each of 8 vectors,
   3-5 across them) and the next levels from radix-8 sweeps (three
   levels per sweep, unit-stride inner loops the compiler vectorises, with
   radix 4 or 2 for a remainder); the block's upper levels are then such
   sweeps over the L2-resident block.
2. **Panel passes.**  The levels ``BLOCK_LOG .. n-1`` are split into chunks
   of at most ``BUF_LOG - PANEL_LOG_MIN`` levels.  A chunk of at most
   ``STRIDED_MAX`` (3) levels is done where the data lies: one radix-8/4/2
   butterfly over 8, 4 or 2 rows at stride ``2^lo``, in column strips (that
   few rows at a power-of-two stride fit the ways of L1 and L2).  For a
   longer chunk ``lo .. hi-1`` a *panel* is the ``2^(hi-lo)`` row segments
   of ``2^pw`` contiguous elements at stride ``2^lo``; it is gathered into a
   contiguous per-thread buffer of ``2^BUF_LOG`` elements with the chunk's
   first 3 levels done on the way (a copy-butterfly), its middle levels done
   there by the same radix-8 sweeps, and scattered back with its last 1-3
   levels done on the way.  The buffer avoids the cache-set conflicts that
   many rows at a power-of-two stride cause when the panel is transformed
   where it lies.

Levels are always applied in increasing order (the butterflies only group
consecutive ones), so every output is rounded exactly as in the
level-by-level NumPy twin, on any schedule and any number of threads.

So a length-``2^n`` transform makes ``1 + ceil((n - B) / 10)`` passes over
memory for ``n > B`` (``B = 17`` in float64, 18 in float32: two passes up to
``n = 27``) and works in cache below that.
Blocks and panels are independent, so both passes are ``prange`` loops.

The last sweep of the schedule (the block's last sweep for a one-pass
transform, else the last strided sweep or the scatter of the last panels)
uses ``*_k`` butterflies that also sum what they write: the finiteness check
of the output costs one vector add per element and no pass of its own.

NumPy twin: :func:`sparselearn._reference.fourier.fwht_rows`.
"""
import numpy as np

from cython.parallel cimport prange, threadid
from libc.string cimport memcpy

cimport openmp

# The two in-register kernels are C templates (one macro, instantiated for
# float and double; the Cython code below is fused over ``real`` and picks
# the instance).  ``sl_rows8_T`` takes restrict-qualified rows: the eight
# rows of a radix-8 butterfly never overlap, and saying so is what lets the
# compiler vectorise its inner loop (without it, the runtime overlap checks
# it would need are too many).  ``sl_low3_T`` does levels 0-2 of each group
# of 8 consecutive elements with GCC/Clang vector extensions: per level one
# lane permutation and one multiply-add by a +-1 sign vector, which rounds
# exactly as the scalar ``a + b`` / ``a - b`` (multiplying by +-1 is exact;
# the variants build with ``-ffp-contract=off``).  Compilers without vector
# shuffles get the scalar code.
cdef extern from *:
    """
    #if defined(__clang__)
    #define SL_SHUFFLE(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
    #define SL_HAVE_SHUFFLE 1
    #elif defined(__GNUC__) && __GNUC__ >= 12
    #define SL_SHUFFLE(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
    #define SL_HAVE_SHUFFLE 1
    #else
    #define SL_HAVE_SHUFFLE 0
    #endif

    #define SL_FWHT_KERNELS(T) \
    static inline void sl_rows8_##T(T *__restrict__ p0, T *__restrict__ p1, T *__restrict__ p2, \
                                    T *__restrict__ p3, T *__restrict__ p4, T *__restrict__ p5, \
                                    T *__restrict__ p6, T *__restrict__ p7, Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = p0[j] + p1[j], a1 = p0[j] - p1[j], a2 = p2[j] + p3[j], a3 = p2[j] - p3[j]; \
            T a4 = p4[j] + p5[j], a5 = p4[j] - p5[j], a6 = p6[j] + p7[j], a7 = p6[j] - p7[j]; \
            T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
            T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
            p0[j] = b0 + b4; p1[j] = b1 + b5; p2[j] = b2 + b6; p3[j] = b3 + b7; \
            p4[j] = b0 - b4; p5[j] = b1 - b5; p6[j] = b2 - b6; p7[j] = b3 - b7; \
        } \
    } \
    static inline void sl_rows4_##T(T *__restrict__ p0, T *__restrict__ p1, T *__restrict__ p2, \
                                    T *__restrict__ p3, Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = p0[j] + p1[j], a1 = p0[j] - p1[j], a2 = p2[j] + p3[j], a3 = p2[j] - p3[j]; \
            p0[j] = a0 + a2; p1[j] = a1 + a3; p2[j] = a0 - a2; p3[j] = a1 - a3; \
        } \
    } \
    static inline void sl_rows2_##T(T *__restrict__ p0, T *__restrict__ p1, Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = p0[j] + p1[j], a1 = p0[j] - p1[j]; \
            p0[j] = a0; p1[j] = a1; \
        } \
    } \
    /* Copy-butterflies: radix 8/4/2 from rows src + k * ss to rows dst + k * ds
       (k < radix, h elements each), the gather and scatter of a panel with
       its first and last levels fused in. */ \
    static inline void sl_cb8c_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            const T *__restrict__ s2, const T *__restrict__ s3, const T *__restrict__ s4, \
            const T *__restrict__ s5, const T *__restrict__ s6, const T *__restrict__ s7, \
            T *__restrict__ d0, T *__restrict__ d1, T *__restrict__ d2, T *__restrict__ d3, \
            T *__restrict__ d4, T *__restrict__ d5, T *__restrict__ d6, T *__restrict__ d7, \
            Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = s0[j] + s1[j], a1 = s0[j] - s1[j], a2 = s2[j] + s3[j], a3 = s2[j] - s3[j]; \
            T a4 = s4[j] + s5[j], a5 = s4[j] - s5[j], a6 = s6[j] + s7[j], a7 = s6[j] - s7[j]; \
            T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
            T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
            d0[j] = b0 + b4; d1[j] = b1 + b5; d2[j] = b2 + b6; d3[j] = b3 + b7; \
            d4[j] = b0 - b4; d5[j] = b1 - b5; d6[j] = b2 - b6; d7[j] = b3 - b7; \
        } \
    } \
    static inline void sl_cb8_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                  Py_ssize_t h) { \
        sl_cb8c_##T(src, src + ss, src + 2 * ss, src + 3 * ss, src + 4 * ss, src + 5 * ss, \
                    src + 6 * ss, src + 7 * ss, dst, dst + ds, dst + 2 * ds, dst + 3 * ds, \
                    dst + 4 * ds, dst + 5 * ds, dst + 6 * ds, dst + 7 * ds, h); \
    } \
    static inline void sl_cb4c_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            const T *__restrict__ s2, const T *__restrict__ s3, T *__restrict__ d0, \
            T *__restrict__ d1, T *__restrict__ d2, T *__restrict__ d3, Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = s0[j] + s1[j], a1 = s0[j] - s1[j], a2 = s2[j] + s3[j], a3 = s2[j] - s3[j]; \
            d0[j] = a0 + a2; d1[j] = a1 + a3; d2[j] = a0 - a2; d3[j] = a1 - a3; \
        } \
    } \
    static inline void sl_cb4_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                  Py_ssize_t h) { \
        sl_cb4c_##T(src, src + ss, src + 2 * ss, src + 3 * ss, dst, dst + ds, dst + 2 * ds, \
                    dst + 3 * ds, h); \
    } \
    static inline void sl_cb2c_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            T *__restrict__ d0, T *__restrict__ d1, Py_ssize_t h) { \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = s0[j] + s1[j], a1 = s0[j] - s1[j]; \
            d0[j] = a0; d1[j] = a1; \
        } \
    } \
    static inline void sl_cb2_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                  Py_ssize_t h) { \
        sl_cb2c_##T(src, src + ss, dst, dst + ds, h); \
    } \
    /* The same butterflies for the last sweep of a transform: they also
       return the sum of the values they write (a vector reduction, one add
       per output), which is non-finite whenever one of them is (NaN
       propagates, inf + finite = inf, inf - inf = NaN); a finite output set
       whose sum overflows makes it non-finite too, and the caller then
       scans the outputs (sl_all_finite). */ \
    static inline T sl_rows8k_##T(T *__restrict__ p0, T *__restrict__ p1, T *__restrict__ p2, \
                                  T *__restrict__ p3, T *__restrict__ p4, T *__restrict__ p5, \
                                  T *__restrict__ p6, T *__restrict__ p7, Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = p0[j] + p1[j], a1 = p0[j] - p1[j], a2 = p2[j] + p3[j], a3 = p2[j] - p3[j]; \
            T a4 = p4[j] + p5[j], a5 = p4[j] - p5[j], a6 = p6[j] + p7[j], a7 = p6[j] - p7[j]; \
            T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
            T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
            T y0 = b0 + b4, y1 = b1 + b5, y2 = b2 + b6, y3 = b3 + b7; \
            T y4 = b0 - b4, y5 = b1 - b5, y6 = b2 - b6, y7 = b3 - b7; \
            p0[j] = y0; p1[j] = y1; p2[j] = y2; p3[j] = y3; \
            p4[j] = y4; p5[j] = y5; p6[j] = y6; p7[j] = y7; \
            acc += ((y0 + y1) + (y2 + y3)) + ((y4 + y5) + (y6 + y7)); \
        } \
        return acc; \
    } \
    static inline T sl_rows4k_##T(T *__restrict__ p0, T *__restrict__ p1, T *__restrict__ p2, \
                                  T *__restrict__ p3, Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = p0[j] + p1[j], a1 = p0[j] - p1[j], a2 = p2[j] + p3[j], a3 = p2[j] - p3[j]; \
            T y0 = a0 + a2, y1 = a1 + a3, y2 = a0 - a2, y3 = a1 - a3; \
            p0[j] = y0; p1[j] = y1; p2[j] = y2; p3[j] = y3; \
            acc += (y0 + y1) + (y2 + y3); \
        } \
        return acc; \
    } \
    static inline T sl_rows2k_##T(T *__restrict__ p0, T *__restrict__ p1, Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T y0 = p0[j] + p1[j], y1 = p0[j] - p1[j]; \
            p0[j] = y0; p1[j] = y1; \
            acc += y0 + y1; \
        } \
        return acc; \
    } \
    static inline T sl_cb8kc_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            const T *__restrict__ s2, const T *__restrict__ s3, const T *__restrict__ s4, \
            const T *__restrict__ s5, const T *__restrict__ s6, const T *__restrict__ s7, \
            T *__restrict__ d0, T *__restrict__ d1, T *__restrict__ d2, T *__restrict__ d3, \
            T *__restrict__ d4, T *__restrict__ d5, T *__restrict__ d6, T *__restrict__ d7, \
            Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = s0[j] + s1[j], a1 = s0[j] - s1[j], a2 = s2[j] + s3[j], a3 = s2[j] - s3[j]; \
            T a4 = s4[j] + s5[j], a5 = s4[j] - s5[j], a6 = s6[j] + s7[j], a7 = s6[j] - s7[j]; \
            T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
            T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
            T y0 = b0 + b4, y1 = b1 + b5, y2 = b2 + b6, y3 = b3 + b7; \
            T y4 = b0 - b4, y5 = b1 - b5, y6 = b2 - b6, y7 = b3 - b7; \
            d0[j] = y0; d1[j] = y1; d2[j] = y2; d3[j] = y3; \
            d4[j] = y4; d5[j] = y5; d6[j] = y6; d7[j] = y7; \
            acc += ((y0 + y1) + (y2 + y3)) + ((y4 + y5) + (y6 + y7)); \
        } \
        return acc; \
    } \
    static inline T sl_cb8k_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                Py_ssize_t h) { \
        return sl_cb8kc_##T(src, src + ss, src + 2 * ss, src + 3 * ss, src + 4 * ss, \
                            src + 5 * ss, src + 6 * ss, src + 7 * ss, dst, dst + ds, \
                            dst + 2 * ds, dst + 3 * ds, dst + 4 * ds, dst + 5 * ds, \
                            dst + 6 * ds, dst + 7 * ds, h); \
    } \
    static inline T sl_cb4kc_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            const T *__restrict__ s2, const T *__restrict__ s3, T *__restrict__ d0, \
            T *__restrict__ d1, T *__restrict__ d2, T *__restrict__ d3, Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T a0 = s0[j] + s1[j], a1 = s0[j] - s1[j], a2 = s2[j] + s3[j], a3 = s2[j] - s3[j]; \
            T y0 = a0 + a2, y1 = a1 + a3, y2 = a0 - a2, y3 = a1 - a3; \
            d0[j] = y0; d1[j] = y1; d2[j] = y2; d3[j] = y3; \
            acc += (y0 + y1) + (y2 + y3); \
        } \
        return acc; \
    } \
    static inline T sl_cb4k_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                Py_ssize_t h) { \
        return sl_cb4kc_##T(src, src + ss, src + 2 * ss, src + 3 * ss, dst, dst + ds, \
                            dst + 2 * ds, dst + 3 * ds, h); \
    } \
    static inline T sl_cb2kc_##T(const T *__restrict__ s0, const T *__restrict__ s1, \
            T *__restrict__ d0, T *__restrict__ d1, Py_ssize_t h) { \
        T acc = 0; \
        _Pragma("omp simd reduction(+:acc)") \
        for (Py_ssize_t j = 0; j < h; j++) { \
            T y0 = s0[j] + s1[j], y1 = s0[j] - s1[j]; \
            d0[j] = y0; d1[j] = y1; \
            acc += y0 + y1; \
        } \
        return acc; \
    } \
    static inline T sl_cb2k_##T(const T *src, Py_ssize_t ss, T *dst, Py_ssize_t ds, \
                                Py_ssize_t h) { \
        return sl_cb2kc_##T(src, src + ss, dst, dst + ds, h); \
    } \
    /* Whether every x[i] is finite (x - x is 0 exactly then). */ \
    static inline int sl_all_finite_##T(const T *x, Py_ssize_t N) { \
        for (Py_ssize_t i = 0; i < N; i++) \
            if (!(x[i] - x[i] == 0)) return 0; \
        return 1; \
    } \
    static inline void sl_low3_scalar_##T(T *p) { \
        T a0 = p[0] + p[1], a1 = p[0] - p[1], a2 = p[2] + p[3], a3 = p[2] - p[3]; \
        T a4 = p[4] + p[5], a5 = p[4] - p[5], a6 = p[6] + p[7], a7 = p[6] - p[7]; \
        T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
        T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
        p[0] = b0 + b4; p[1] = b1 + b5; p[2] = b2 + b6; p[3] = b3 + b7; \
        p[4] = b0 - b4; p[5] = b1 - b5; p[6] = b2 - b6; p[7] = b3 - b7; \
    } \
    SL_LOW3_VECTOR(T)

    /* Row sum in 4 x 8 lanes (four vector accumulators, so the adds are not
       one latency-bound chain): non-finite exactly when an entry is NaN or
       infinite or a partial sum overflows. */
    #define SL_SUM(T) \
    static inline T sl_sum_##T(const T *x, Py_ssize_t N) { \
        sl_v8_##T acc = {0, 0, 0, 0, 0, 0, 0, 0}, acc1 = acc, acc2 = acc, acc3 = acc, v, w, y, z; \
        Py_ssize_t i = 0; \
        T total = 0; \
        for (; i + 32 <= N; i += 32) { \
            memcpy(&v, x + i, sizeof v); memcpy(&w, x + i + 8, sizeof w); \
            memcpy(&y, x + i + 16, sizeof y); memcpy(&z, x + i + 24, sizeof z); \
            acc += v; acc1 += w; acc2 += y; acc3 += z; \
        } \
        acc = (acc + acc1) + (acc2 + acc3); \
        for (; i + 8 <= N; i += 8) { memcpy(&v, x + i, sizeof v); acc += v; } \
        for (; i < N; i++) total += x[i]; \
        return total + (((acc[0] + acc[1]) + (acc[2] + acc[3])) \
                        + ((acc[4] + acc[5]) + (acc[6] + acc[7]))); \
    }

    #if SL_HAVE_SHUFFLE
    #define SL_LOW3_VECTOR(T) \
    typedef T sl_v8_##T __attribute__((vector_size(8 * sizeof(T)))); \
    SL_SUM(T) \
    static inline void sl_low3_##T(T *x, Py_ssize_t N) { \
        const sl_v8_##T s0 = {1, -1, 1, -1, 1, -1, 1, -1}; \
        const sl_v8_##T s1 = {1, 1, -1, -1, 1, 1, -1, -1}; \
        const sl_v8_##T s2 = {1, 1, 1, 1, -1, -1, -1, -1}; \
        for (Py_ssize_t i = 0; i + 8 <= N; i += 8) { \
            sl_v8_##T v; \
            memcpy(&v, x + i, sizeof v); \
            v = SL_SHUFFLE(v, 1, 0, 3, 2, 5, 4, 7, 6) + v * s0; \
            v = SL_SHUFFLE(v, 2, 3, 0, 1, 6, 7, 4, 5) + v * s1; \
            v = SL_SHUFFLE(v, 4, 5, 6, 7, 0, 1, 2, 3) + v * s2; \
            memcpy(x + i, &v, sizeof v); \
        } \
    } \
    static inline sl_v8_##T sl_v3_##T(sl_v8_##T v) { \
        const sl_v8_##T s0 = {1, -1, 1, -1, 1, -1, 1, -1}; \
        const sl_v8_##T s1 = {1, 1, -1, -1, 1, 1, -1, -1}; \
        const sl_v8_##T s2 = {1, 1, 1, 1, -1, -1, -1, -1}; \
        v = SL_SHUFFLE(v, 1, 0, 3, 2, 5, 4, 7, 6) + v * s0; \
        v = SL_SHUFFLE(v, 2, 3, 0, 1, 6, 7, 4, 5) + v * s1; \
        return SL_SHUFFLE(v, 4, 5, 6, 7, 0, 1, 2, 3) + v * s2; \
    } \
    /* Levels 0-5 of each group of 64 consecutive elements in registers:
       levels 0-2 inside each of 8 vectors, then 3-5 across them.  The
       same offset of the next N elements (the next sub-block) is prefetched
       into L2 meanwhile (with intent to write), so that the sub-block's
       remaining L1 sweeps overlap the memory traffic of the next one (past
       the end of the array the hint is harmless: prefetches do not fault). */ \
    static inline void sl_low6_##T(T *x, Py_ssize_t N) { \
        for (Py_ssize_t i = 0; i + 64 <= N; i += 64) { \
            sl_v8_##T v0, v1, v2, v3, v4, v5, v6, v7; \
            for (int l = 0; l < 64; l += 64 / (int) sizeof(T)) \
                __builtin_prefetch(x + N + i + l, 1, 2); \
            memcpy(&v0, x + i, sizeof v0); memcpy(&v1, x + i + 8, sizeof v1); \
            memcpy(&v2, x + i + 16, sizeof v2); memcpy(&v3, x + i + 24, sizeof v3); \
            memcpy(&v4, x + i + 32, sizeof v4); memcpy(&v5, x + i + 40, sizeof v5); \
            memcpy(&v6, x + i + 48, sizeof v6); memcpy(&v7, x + i + 56, sizeof v7); \
            v0 = sl_v3_##T(v0); v1 = sl_v3_##T(v1); v2 = sl_v3_##T(v2); v3 = sl_v3_##T(v3); \
            v4 = sl_v3_##T(v4); v5 = sl_v3_##T(v5); v6 = sl_v3_##T(v6); v7 = sl_v3_##T(v7); \
            sl_v8_##T a0 = v0 + v1, a1 = v0 - v1, a2 = v2 + v3, a3 = v2 - v3; \
            sl_v8_##T a4 = v4 + v5, a5 = v4 - v5, a6 = v6 + v7, a7 = v6 - v7; \
            sl_v8_##T b0 = a0 + a2, b1 = a1 + a3, b2 = a0 - a2, b3 = a1 - a3; \
            sl_v8_##T b4 = a4 + a6, b5 = a5 + a7, b6 = a4 - a6, b7 = a5 - a7; \
            v0 = b0 + b4; v1 = b1 + b5; v2 = b2 + b6; v3 = b3 + b7; \
            v4 = b0 - b4; v5 = b1 - b5; v6 = b2 - b6; v7 = b3 - b7; \
            memcpy(x + i, &v0, sizeof v0); memcpy(x + i + 8, &v1, sizeof v1); \
            memcpy(x + i + 16, &v2, sizeof v2); memcpy(x + i + 24, &v3, sizeof v3); \
            memcpy(x + i + 32, &v4, sizeof v4); memcpy(x + i + 40, &v5, sizeof v5); \
            memcpy(x + i + 48, &v6, sizeof v6); memcpy(x + i + 56, &v7, sizeof v7); \
        } \
    }
    #else
    #define SL_LOW3_VECTOR(T) \
    typedef T sl_v8_##T __attribute__((vector_size(8 * sizeof(T)))); \
    SL_SUM(T) \
    static inline void sl_low3_##T(T *x, Py_ssize_t N) { \
        for (Py_ssize_t i = 0; i + 8 <= N; i += 8) sl_low3_scalar_##T(x + i); \
    } \
    static inline void sl_low6_##T(T *x, Py_ssize_t N) { \
        sl_low3_##T(x, N); \
        for (Py_ssize_t i = 0; i + 64 <= N; i += 64) \
            sl_rows8_##T(x + i, x + i + 8, x + i + 16, x + i + 24, x + i + 32, x + i + 40, \
                         x + i + 48, x + i + 56, 8); \
    }
    #endif

    SL_FWHT_KERNELS(float)
    SL_FWHT_KERNELS(double)
    """
    void sl_rows8_float(float* p0, float* p1, float* p2, float* p3, float* p4, float* p5,
                        float* p6, float* p7, Py_ssize_t h) noexcept nogil
    void sl_rows8_double(double* p0, double* p1, double* p2, double* p3, double* p4,
                         double* p5, double* p6, double* p7, Py_ssize_t h) noexcept nogil
    void sl_rows4_float(float* p0, float* p1, float* p2, float* p3, Py_ssize_t h) noexcept nogil
    void sl_rows4_double(double* p0, double* p1, double* p2, double* p3,
                         Py_ssize_t h) noexcept nogil
    void sl_rows2_float(float* p0, float* p1, Py_ssize_t h) noexcept nogil
    void sl_rows2_double(double* p0, double* p1, Py_ssize_t h) noexcept nogil
    void sl_cb8_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                      Py_ssize_t h) noexcept nogil
    void sl_cb8_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                       Py_ssize_t h) noexcept nogil
    void sl_cb4_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                      Py_ssize_t h) noexcept nogil
    void sl_cb4_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                       Py_ssize_t h) noexcept nogil
    void sl_cb2_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                      Py_ssize_t h) noexcept nogil
    void sl_cb2_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                       Py_ssize_t h) noexcept nogil
    void sl_low6_float(float* x, Py_ssize_t N) noexcept nogil
    void sl_low6_double(double* x, Py_ssize_t N) noexcept nogil
    void sl_low3_float(float* x, Py_ssize_t N) noexcept nogil
    void sl_low3_double(double* x, Py_ssize_t N) noexcept nogil
    float sl_sum_float(const float* x, Py_ssize_t N) noexcept nogil
    double sl_sum_double(const double* x, Py_ssize_t N) noexcept nogil
    float sl_rows8k_float(float* p0, float* p1, float* p2, float* p3, float* p4, float* p5,
                          float* p6, float* p7, Py_ssize_t h) noexcept nogil
    double sl_rows8k_double(double* p0, double* p1, double* p2, double* p3, double* p4,
                            double* p5, double* p6, double* p7, Py_ssize_t h) noexcept nogil
    float sl_rows4k_float(float* p0, float* p1, float* p2, float* p3,
                          Py_ssize_t h) noexcept nogil
    double sl_rows4k_double(double* p0, double* p1, double* p2, double* p3,
                            Py_ssize_t h) noexcept nogil
    float sl_rows2k_float(float* p0, float* p1, Py_ssize_t h) noexcept nogil
    double sl_rows2k_double(double* p0, double* p1, Py_ssize_t h) noexcept nogil
    float sl_cb8k_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                        Py_ssize_t h) noexcept nogil
    double sl_cb8k_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                          Py_ssize_t h) noexcept nogil
    float sl_cb4k_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                        Py_ssize_t h) noexcept nogil
    double sl_cb4k_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                          Py_ssize_t h) noexcept nogil
    float sl_cb2k_float(const float* src, Py_ssize_t ss, float* dst, Py_ssize_t ds,
                        Py_ssize_t h) noexcept nogil
    double sl_cb2k_double(const double* src, Py_ssize_t ss, double* dst, Py_ssize_t ds,
                          Py_ssize_t h) noexcept nogil
    int sl_all_finite_float(const float* x, Py_ssize_t N) noexcept nogil
    int sl_all_finite_double(const double* x, Py_ssize_t N) noexcept nogil

ctypedef fused real:
    float
    double

cdef enum:
    # log2 of the sizes described in the module docstring, in elements
    # (the *_BYTES_LOG ones in bytes).
    L1_BYTES_LOG = 15
    BLOCK_BYTES_LOG = 20
    BUF_LOG = 13
    PANEL_LOG_MIN = 3
    # A chunk of at most STRIDED_MAX levels is done where the data lies, in
    # column strips of 2^STRIP_BYTES_LOG bytes per row (at most 8 rows at a
    # power-of-two stride fit the ways of L1 and L2, so no copy is needed).
    STRIDED_MAX = 3
    STRIP_BYTES_LOG = 14
    # Below this many elements (2 MiB of float64) one thread is as fast as
    # several and cannot be stalled by a descheduled sibling at the barrier.
    PARALLEL_MIN = 1 << 18


cdef inline void _sweep2(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    """One level (stride ``h``) over ``x[0:N]``."""
    cdef Py_ssize_t i, j
    cdef real a0, a1
    cdef real* p0
    cdef real* p1
    for i in range(N // (2 * h)):
        p0 = x + i * 2 * h
        p1 = p0 + h
        for j in range(h):
            a0 = p0[j]
            a1 = p1[j]
            p0[j] = a0 + a1
            p1[j] = a0 - a1


cdef inline void _sweep4(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    """Two levels (strides ``h`` and ``2h``) over ``x[0:N]`` in one sweep.

    One pointer per quarter keeps the inner loop unit-stride; the compiler
    vectorises it after a runtime no-overlap check.
    """
    cdef Py_ssize_t i, j
    cdef real a0, a1, a2, a3, b0, b1, b2, b3
    cdef real* p0
    cdef real* p1
    cdef real* p2
    cdef real* p3
    for i in range(N // (4 * h)):
        p0 = x + i * 4 * h
        p1 = p0 + h
        p2 = p1 + h
        p3 = p2 + h
        for j in range(h):
            a0 = p0[j]
            a1 = p1[j]
            a2 = p2[j]
            a3 = p3[j]
            b0 = a0 + a1
            b1 = a0 - a1
            b2 = a2 + a3
            b3 = a2 - a3
            p0[j] = b0 + b2
            p1[j] = b1 + b3
            p2[j] = b0 - b2
            p3[j] = b1 - b3


cdef inline void _sweep8(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    """Three levels (strides ``h``, ``2h``, ``4h``) over ``x[0:N]`` in one sweep."""
    cdef Py_ssize_t i
    cdef real* p
    for i in range(N // (8 * h)):
        p = x + i * 8 * h
        if real is double:
            sl_rows8_double(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h,
                            p + 7 * h, h)
        else:
            sl_rows8_float(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h,
                           p + 7 * h, h)


cdef inline void _low3(real* x, Py_ssize_t N) noexcept nogil:
    """Levels 0, 1, 2 on every group of 8 consecutive elements, in registers."""
    if real is double:
        sl_low3_double(x, N)
    else:
        sl_low3_float(x, N)


cdef void _levels(real* x, Py_ssize_t N, int lo, int hi) noexcept nogil:
    """Levels ``lo .. hi-1`` over ``x[0:N]``: radix-8 sweeps, then radix 4 and 2."""
    cdef int level = lo
    # Radix 8 while at least 3 levels remain, except that 4 = 2 + 2.
    while hi - level >= 3 and hi - level != 4:
        _sweep8(x, N, (<Py_ssize_t> 1) << level)
        level += 3
    if (hi - level) % 2 == 1:
        _sweep2(x, N, (<Py_ssize_t> 1) << level)
        level += 1
    while level < hi:
        _sweep4(x, N, (<Py_ssize_t> 1) << level)
        level += 2



# The ``*_k`` twins of the sweeps below do the same arithmetic and also
# return the sum of the values their last sweep writes (see sl_rows8k): the
# transform's output check fused into its last sweep.
cdef inline real _sweep8k(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    cdef Py_ssize_t i
    cdef real* p
    cdef real acc = 0
    for i in range(N // (8 * h)):
        p = x + i * 8 * h
        if real is double:
            acc = acc + sl_rows8k_double(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h,
                                         p + 6 * h, p + 7 * h, h)
        else:
            acc = acc + sl_rows8k_float(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h,
                                        p + 6 * h, p + 7 * h, h)
    return acc


cdef inline real _sweep4k(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    cdef Py_ssize_t i
    cdef real* p
    cdef real acc = 0
    for i in range(N // (4 * h)):
        p = x + i * 4 * h
        if real is double:
            acc = acc + sl_rows4k_double(p, p + h, p + 2 * h, p + 3 * h, h)
        else:
            acc = acc + sl_rows4k_float(p, p + h, p + 2 * h, p + 3 * h, h)
    return acc


cdef inline real _sweep2k(real* x, Py_ssize_t N, Py_ssize_t h) noexcept nogil:
    cdef Py_ssize_t i
    cdef real* p
    cdef real acc = 0
    for i in range(N // (2 * h)):
        p = x + i * 2 * h
        if real is double:
            acc = acc + sl_rows2k_double(p, p + h, h)
        else:
            acc = acc + sl_rows2k_float(p, p + h, h)
    return acc


cdef inline real _sum(real* x, Py_ssize_t N) noexcept nogil:
    if real is double:
        return sl_sum_double(x, N)
    else:
        return sl_sum_float(x, N)


cdef real _levels_k(real* x, Py_ssize_t N, int lo, int hi) noexcept nogil:
    """:func:`_levels` (same sweeps), returning the sum of its output; a
    separate sum when there are no levels."""
    cdef int level = lo
    while hi - level >= 3 and hi - level != 4:
        if level + 3 == hi:
            return _sweep8k(x, N, (<Py_ssize_t> 1) << level)
        _sweep8(x, N, (<Py_ssize_t> 1) << level)
        level += 3
    if (hi - level) % 2 == 1:
        if level + 1 == hi:
            return _sweep2k(x, N, (<Py_ssize_t> 1) << level)
        _sweep2(x, N, (<Py_ssize_t> 1) << level)
        level += 1
    while level < hi:
        if level + 2 == hi:
            return _sweep4k(x, N, (<Py_ssize_t> 1) << level)
        _sweep4(x, N, (<Py_ssize_t> 1) << level)
        level += 2
    return _sum(x, N)


cdef inline int _sub_log(int b, int l1) noexcept nogil:
    """log2 of the sub-block size in a block of ``2^b``: the L1 size
    ``2^l1``, or half of it when that makes fewer sweeps (counting an L2
    sweep over the block as two L1 ones): levels ``6 .. s-1`` in L1 and
    ``s .. b-1`` in L2 take ``ceil`` of about a third sweeps each, so for
    ``l1 = 13`` (float32) and ``b = 17, 18`` the split 6 + 6 beats 7 + 5
    (measured 1.03-1.12x at n = 17..24)."""
    if _n_sweeps(l1 - 1 - 6) + 2 * _n_sweeps(b - l1 + 1) < \
            _n_sweeps(l1 - 6) + 2 * _n_sweeps(b - l1):
        return l1 - 1
    return l1


cdef inline int _n_sweeps(int k) noexcept nogil:
    """Sweeps :func:`_levels` makes for ``k`` levels (radix 8, then 2 and 4)."""
    cdef int count = 0
    if k <= 0:
        return 0
    while k >= 3 and k != 4:
        k -= 3
        count += 1
    return count + k % 2 + k // 2  # k is 0, 1, 2 or 4 here

cdef void _block(real* x, int b) noexcept nogil:
    """All levels ``0 .. b-1`` of the contiguous block ``x[0:2^b]``."""
    cdef Py_ssize_t N = (<Py_ssize_t> 1) << b, i
    cdef int l1 = _sub_log(b, L1_BYTES_LOG - (3 if real is double else 2))
    cdef int s = b if b < l1 else l1
    if b < 3:
        _levels(x, N, 0, b)
        return
    for i in range(N >> s):
        if s >= 6:  # levels 0-5 in registers, 64 elements at a time
            if real is double:
                sl_low6_double(x + (i << s), (<Py_ssize_t> 1) << s)
            else:
                sl_low6_float(x + (i << s), (<Py_ssize_t> 1) << s)
            _levels(x + (i << s), (<Py_ssize_t> 1) << s, 6, s)
        else:
            _low3(x + (i << s), (<Py_ssize_t> 1) << s)
            _levels(x + (i << s), (<Py_ssize_t> 1) << s, 3, s)
    _levels(x, N, s, b)



cdef real _block_k(real* x, int b) noexcept nogil:
    """:func:`_block`, returning the sum of the block's output (fused into
    its last sweep, or a separate sum of the small block in cache)."""
    cdef Py_ssize_t N = (<Py_ssize_t> 1) << b, i
    cdef int l1 = _sub_log(b, L1_BYTES_LOG - (3 if real is double else 2))
    cdef int s = b if b < l1 else l1
    if b < 3:
        _levels(x, N, 0, b)
        return _sum(x, N)
    for i in range(N >> s):
        if s >= 6:
            if real is double:
                sl_low6_double(x + (i << s), (<Py_ssize_t> 1) << s)
            else:
                sl_low6_float(x + (i << s), (<Py_ssize_t> 1) << s)
            if s == b:
                return _levels_k(x, N, 6, s)
            _levels(x + (i << s), (<Py_ssize_t> 1) << s, 6, s)
        else:
            _low3(x + (i << s), (<Py_ssize_t> 1) << s)
            return _levels_k(x, N, 3, s)  # s < 6: s == b, one sub-block
    return _levels_k(x, N, s, b)

cdef inline void _cb(const real* src, Py_ssize_t ss, real* dst, Py_ssize_t ds,
                     Py_ssize_t h, int g) noexcept nogil:
    """Copy-butterfly of ``g`` levels (1 to 3) from rows ``src + k * ss`` to
    rows ``dst + k * ds``, ``k < 2^g``, ``h`` elements each."""
    if g == 3:
        if real is double:
            sl_cb8_double(src, ss, dst, ds, h)
        else:
            sl_cb8_float(src, ss, dst, ds, h)
    elif g == 2:
        if real is double:
            sl_cb4_double(src, ss, dst, ds, h)
        else:
            sl_cb4_float(src, ss, dst, ds, h)
    else:
        if real is double:
            sl_cb2_double(src, ss, dst, ds, h)
        else:
            sl_cb2_float(src, ss, dst, ds, h)



cdef inline real _cb_k(const real* src, Py_ssize_t ss, real* dst, Py_ssize_t ds,
                       Py_ssize_t h, int g) noexcept nogil:
    """:func:`_cb`, returning the sum of what it writes."""
    if g == 3:
        if real is double:
            return sl_cb8k_double(src, ss, dst, ds, h)
        else:
            return sl_cb8k_float(src, ss, dst, ds, h)
    elif g == 2:
        if real is double:
            return sl_cb4k_double(src, ss, dst, ds, h)
        else:
            return sl_cb4k_float(src, ss, dst, ds, h)
    else:
        if real is double:
            return sl_cb2k_double(src, ss, dst, ds, h)
        else:
            return sl_cb2k_float(src, ss, dst, ds, h)

cdef void _panel(real* x, real* buf, Py_ssize_t R, Py_ssize_t stride,
                 Py_ssize_t P, int pw, int r) noexcept nogil:
    """Levels of a chunk on one panel: ``R = 2^r`` segments of ``P = 2^pw``
    elements at ``x + q * stride`` (``r >= 2``).

    The gather into ``buf`` does the chunk's first ``g`` levels on its way
    (segments ``q`` differing in bits ``0 .. g-1``), the buffer the middle
    ones, and the scatter back the last ``t`` (bits ``r-t .. r-1``): the
    levels stay in increasing order, so the arithmetic is that of the
    level-by-level transform.
    """
    cdef int g = 3 if r >= 4 else r - 1
    cdef int t = r - g if r - g < 3 else 3
    cdef int mid = r - g - t
    cdef Py_ssize_t q
    for q in range(R >> g):
        _cb(x + (q << g) * stride, stride, buf + (q << g) * P, P, P, g)
    if mid > 0:
        _levels(buf, R * P, pw + g, pw + g + mid)
    for q in range((<Py_ssize_t> 1) << (g + mid)):
        _cb(buf + q * P, P << (g + mid), x + q * stride, stride << (g + mid), P, t)



cdef real _panel_k(real* x, real* buf, Py_ssize_t R, Py_ssize_t stride,
                   Py_ssize_t P, int pw, int r) noexcept nogil:
    """:func:`_panel` for the last chunk: returns the sum of the scattered output."""
    cdef int g = 3 if r >= 4 else r - 1
    cdef int t = r - g if r - g < 3 else 3
    cdef int mid = r - g - t
    cdef Py_ssize_t q
    cdef real acc = 0
    for q in range(R >> g):
        _cb(x + (q << g) * stride, stride, buf + (q << g) * P, P, P, g)
    if mid > 0:
        _levels(buf, R * P, pw + g, pw + g + mid)
    for q in range((<Py_ssize_t> 1) << (g + mid)):
        acc = acc + _cb_k(buf + q * P, P << (g + mid), x + q * stride, stride << (g + mid),
                          P, t)
    return acc

cdef void _strided(real* p, Py_ssize_t h, Py_ssize_t w, int r) noexcept nogil:
    """Levels ``lo .. lo+r-1`` (``h = 2^lo``, ``1 <= r <= 3``) on the ``2^r``
    rows ``p + q * h`` of ``w`` elements each, in place."""
    if r == 3:
        if real is double:
            sl_rows8_double(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h,
                            p + 7 * h, w)
        else:
            sl_rows8_float(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h,
                           p + 7 * h, w)
    elif r == 2:
        if real is double:
            sl_rows4_double(p, p + h, p + 2 * h, p + 3 * h, w)
        else:
            sl_rows4_float(p, p + h, p + 2 * h, p + 3 * h, w)
    else:
        if real is double:
            sl_rows2_double(p, p + h, w)
        else:
            sl_rows2_float(p, p + h, w)



cdef real _strided_k(real* p, Py_ssize_t h, Py_ssize_t w, int r) noexcept nogil:
    """:func:`_strided` for the last chunk: returns the sum of its output."""
    if r == 3:
        if real is double:
            return sl_rows8k_double(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h,
                                    p + 6 * h, p + 7 * h, w)
        else:
            return sl_rows8k_float(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h,
                                   p + 6 * h, p + 7 * h, w)
    elif r == 2:
        if real is double:
            return sl_rows4k_double(p, p + h, p + 2 * h, p + 3 * h, w)
        else:
            return sl_rows4k_float(p, p + h, p + 2 * h, p + 3 * h, w)
    else:
        if real is double:
            return sl_rows2k_double(p, p + h, w)
        else:
            return sl_rows2k_float(p, p + h, w)


cdef bint _all_finite(real total, real* x, Py_ssize_t count) noexcept nogil:
    """Whether all ``count`` outputs are finite, given the sum of them the
    last sweep returned: finite sum, yes; otherwise scan (the sum may have
    overflowed on finite outputs)."""
    return total - total == 0 or _scan_finite(x, count)


cdef bint _scan_finite(real* x, Py_ssize_t count) noexcept nogil:
    """Whether ``x[0:count]`` is all finite (one read; the rare path)."""
    if real is double:
        return sl_all_finite_double(x, count) != 0
    else:
        return sl_all_finite_float(x, count) != 0

def fwht_rows(real[:, ::1] a, int block_log=-1, int buf_log=BUF_LOG):
    """Transform every row of ``a`` (shape ``(m, 2^n)``) in place; return
    whether every output is finite.

    The check is fused into the last sweep (each of its butterflies also
    adds what it writes into a per-thread sum, see ``sl_rows8k``): a
    non-finite output makes the total non-finite, and a non-finite total on
    finite outputs (the sum overflowed) is settled by a scan of the output,
    so the answer is exact either way.  A NaN or infinite input makes every
    output non-finite (each is a signed sum of all entries).

    The caller guarantees that the row length is a power of two.  The
    block and buffer sizes (log2, in elements) are parameters only so that
    tests can exercise schedules with several panel passes on small arrays;
    they need ``block_log >= 0`` and ``buf_log > PANEL_LOG_MIN`` (= 3);
    ``block_log = -1`` (the default) means 1 MiB blocks, or 2 MiB when
    that leaves six levels instead of seven for the panel pass.
    """
    cdef bint default_blocks = block_log < 0
    if default_blocks:
        block_log = BLOCK_BYTES_LOG - (3 if real is double else 2)
    cdef Py_ssize_t m = a.shape[0], N = a.shape[1]
    if m == 0 or N == 0:
        return True
    if N == 1:  # the transform of length 1 is the identity
        return bool(_scan_finite(&a[0, 0], m))
    cdef int n = 0
    while ((<Py_ssize_t> 1) << n) < N:
        n += 1
    cdef Py_ssize_t total = m * N
    cdef int n_threads = openmp.omp_get_max_threads() if total >= PARALLEL_MIN else 1
    cdef real* x = &a[0, 0]
    if default_blocks and n - block_log == 7:
        # Seven levels above the block make a panel chunk with a middle level
        # (a sweep over the buffer between gather and scatter); 2 MiB blocks
        # (the size of the L2) leave six, done by the gather and scatter
        # alone: float64 n = 24 measured 1.07x faster that way (CPU time).
        block_log += 1
    cdef int b = n if n < block_log else block_log
    cdef Py_ssize_t block, n_blocks = total >> b
    cdef real acc = 0  # the sum of the output, as the last sweep writes it
    if n == b:
        for block in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="dynamic"):
            acc += _block_k(x + (block << b), b)
        return bool(_all_finite(acc, x, total))
    for block in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="dynamic"):
        _block(x + (block << b), b)

    # Panel passes: split levels b .. n-1 into equal chunks of <= max_chunk.
    cdef int max_chunk = buf_log - PANEL_LOG_MIN
    cdef int remaining = n - b
    cdef int n_chunks = (remaining + max_chunk - 1) // max_chunk
    if real is float:
        buffers = np.empty((n_threads, 1 << buf_log), dtype=np.float32)
    else:
        buffers = np.empty((n_threads, 1 << buf_log), dtype=np.float64)
    cdef real[:, ::1] buf = buffers
    cdef int lo = b, hi, r, pw, c
    cdef Py_ssize_t p, n_cols, n_panels, top, col
    for c in range(n_chunks):
        r = (remaining + (n_chunks - c) - 1) // (n_chunks - c)
        hi = lo + r
        remaining -= r
        if r <= STRIDED_MAX:
            pw = STRIP_BYTES_LOG - (3 if real is double else 2)
            if pw > lo:
                pw = lo
            n_cols = ((<Py_ssize_t> 1) << lo) >> pw
            n_panels = (total >> hi) * n_cols
            if c == n_chunks - 1:
                for p in prange(n_panels, nogil=True, num_threads=n_threads,
                                schedule="dynamic"):
                    top = p // n_cols
                    col = p - top * n_cols
                    acc += _strided_k(x + (top << hi) + (col << pw), (<Py_ssize_t> 1) << lo,
                                      (<Py_ssize_t> 1) << pw, r)
                break
            for p in prange(n_panels, nogil=True, num_threads=n_threads, schedule="dynamic"):
                top = p // n_cols
                col = p - top * n_cols
                _strided(x + (top << hi) + (col << pw), (<Py_ssize_t> 1) << lo,
                         (<Py_ssize_t> 1) << pw, r)
            lo = hi
            continue
        pw = buf_log - r
        if pw > lo:
            pw = lo
        n_cols = ((<Py_ssize_t> 1) << lo) >> pw
        n_panels = (total >> hi) * n_cols
        if c == n_chunks - 1:
            for p in prange(n_panels, nogil=True, num_threads=n_threads, schedule="dynamic",
                            chunksize=4):
                top = p // n_cols
                col = p - top * n_cols
                acc += _panel_k(x + (top << hi) + (col << pw), &buf[threadid(), 0],
                                (<Py_ssize_t> 1) << r, (<Py_ssize_t> 1) << lo,
                                (<Py_ssize_t> 1) << pw, pw, r)
            break
        for p in prange(n_panels, nogil=True, num_threads=n_threads, schedule="dynamic",
                        chunksize=4):
            top = p // n_cols
            col = p - top * n_cols
            _panel(x + (top << hi) + (col << pw), &buf[threadid(), 0],
                   (<Py_ssize_t> 1) << r, (<Py_ssize_t> 1) << lo,
                   (<Py_ssize_t> 1) << pw, pw, r)
        lo = hi
    return bool(_all_finite(acc, x, total))

