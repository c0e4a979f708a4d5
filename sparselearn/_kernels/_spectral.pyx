# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Reductions of a spectrum ``spec[S]`` (``S`` a bitmask, cube index
convention) over the popcount or the bits of ``S``.

The array is cut into contiguous blocks of ``2^L`` entries
(``L = min(n, BLOCK_LOG)``).  Inside block ``t`` the index is
``S = t * 2^L + low``, so ``popcount(S) = popcount(t) + popcount(low)`` and
bit ``i`` of ``S`` is bit ``i`` of ``low`` for ``i < L`` and bit ``i - L`` of
``t`` otherwise.  Each block is reduced in cache, in parallel, into its own
row of partial sums; the rows are then combined serially in block order, so
the result is bitwise the same for any number of threads.

NumPy twins: :func:`sparselearn._reference.fourier.degree_weights` and
:func:`sparselearn._reference.fourier.influences`.
"""
import numpy as np

from cython.parallel cimport prange, threadid

cimport openmp

cdef enum:
    BLOCK_LOG = 12
    # Below this many entries (2 MiB) one thread is as fast as several.
    PARALLEL_MIN = 1 << 18


cdef inline int _popcount(Py_ssize_t v) noexcept nogil:
    cdef int c = 0
    while v:
        v &= v - 1
        c += 1
    return c


cdef int _log2(Py_ssize_t N) noexcept nogil:
    cdef int n = 0
    while ((<Py_ssize_t> 1) << n) < N:
        n += 1
    return n


def degree_weights(const double[::1] spec, double[::1] out):
    """``out[j] = sum_{popcount(S) = j} spec[S]^2`` for ``j = 0 .. n``.

    ``spec`` has length ``2^n`` and ``out`` length ``n + 1``.
    """
    cdef Py_ssize_t N = spec.shape[0]
    cdef int n = _log2(N)
    cdef int L = n if n < BLOCK_LOG else BLOCK_LOG
    cdef Py_ssize_t B = (<Py_ssize_t> 1) << L, n_blocks = N >> L
    cdef int n_threads = openmp.omp_get_max_threads() if N >= PARALLEL_MIN else 1
    cdef unsigned char[::1] low_degree = np.array(
        [bin(i).count("1") for i in range(B)], dtype=np.uint8)
    # partial[t, d]: block t's weight at low popcount d.
    partial_array = np.zeros((n_blocks, L + 1), dtype=np.float64)
    cdef double[:, ::1] partial = partial_array
    cdef Py_ssize_t t, j
    cdef int d, high
    cdef double v
    for t in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="dynamic"):
        for j in range(B):
            v = spec[t * B + j]
            partial[t, low_degree[j]] += v * v
    # Serial, in block order: the result does not depend on the thread count.
    out[:] = 0.0
    for t in range(n_blocks):
        high = _popcount(t)
        for d in range(L + 1):
            out[high + d] += partial[t, d]


def influences(const double[::1] spec, double[::1] out):
    """``out[i] = sum_{S : bit i of S set} spec[S]^2`` for ``i = 0 .. n-1``.

    Within a block, the squares are folded in half ``L`` times: before the
    fold on bit ``i`` (highest first) the buffer holds, at position ``low``,
    the sum over all higher bits, so the sum of its upper half is the block's
    share of bit ``i``.  Every step is a unit-stride vectorisable loop.
    """
    cdef Py_ssize_t N = spec.shape[0]
    cdef int n = _log2(N)
    cdef int L = n if n < BLOCK_LOG else BLOCK_LOG
    cdef Py_ssize_t B = (<Py_ssize_t> 1) << L, n_blocks = N >> L
    cdef int n_threads = openmp.omp_get_max_threads() if N >= PARALLEL_MIN else 1
    # partial[t, i] for i < L: block t's share of bit i; partial[t, L]: its total.
    partial_array = np.zeros((n_blocks, L + 1), dtype=np.float64)
    buffers = np.empty((n_threads, B), dtype=np.float64)
    cdef double[:, ::1] partial = partial_array
    cdef double[:, ::1] buf = buffers
    cdef Py_ssize_t t, j, half
    cdef int i
    cdef double v, s
    cdef double* sq
    for t in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="dynamic"):
        sq = &buf[threadid(), 0]
        for j in range(B):
            v = spec[t * B + j]
            sq[j] = v * v
        half = B
        for i in range(L - 1, -1, -1):
            half = half >> 1
            s = 0.0
            for j in range(half):
                s = s + sq[half + j]
                sq[j] = sq[j] + sq[half + j]
            partial[t, i] = s
        partial[t, L] = sq[0]
    # Serial, in block order: the result does not depend on the thread count.
    out[:] = 0.0
    for t in range(n_blocks):
        for i in range(L):
            out[i] += partial[t, i]
        for i in range(L, n):
            if (t >> (i - L)) & 1:
                out[i] += partial[t, L]
