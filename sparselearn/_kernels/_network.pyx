# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Row kernels of the one-hidden-layer ReLU network.

Each function takes the inner products ``G = X @ W.T`` of a chunk of rows
(computed by BLAS in the caller) and the biases ``b``; the pre-activation of
unit ``j`` on row ``i`` is ``G[i, j] - b[j]`` and the unit is *active* when it
is strictly positive.  Rows are split across threads with ``prange``.

NumPy twins: :mod:`sparselearn._reference.network`.
"""
from cython.parallel cimport prange


def relu_combine(const double[:, ::1] G, const double[::1] b,
                 const double[::1] u, double[::1] out):
    """``out[i] = sum_j u[j] * max(G[i, j] - b[j], 0)``."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j
    cdef double acc, z
    for i in prange(m, nogil=True, schedule="static"):
        acc = 0.0
        for j in range(s):
            z = G[i, j] - b[j]
            if z > 0.0:
                acc = acc + u[j] * z
        out[i] = acc


def count_active(const double[:, ::1] G, const double[::1] b, long long[::1] counts):
    """``counts[i] = #{j : G[i, j] - b[j] > 0}``."""
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j
    cdef long long c
    for i in prange(m, nogil=True, schedule="static"):
        c = 0
        for j in range(s):
            if G[i, j] - b[j] > 0.0:
                c = c + 1
        counts[i] = c


def fill_supports(const double[:, ::1] G, const double[::1] b,
                  const long long[::1] indptr, long long[::1] indices):
    """Write the active units of row ``i`` into ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` must be the cumulative sum of :func:`count_active` on the same
    ``G`` and ``b`` (with a leading zero, offset as the caller chooses).
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j
    cdef long long pos
    for i in prange(m, nogil=True, schedule="static"):
        pos = indptr[i]
        for j in range(s):
            if G[i, j] - b[j] > 0.0:
                indices[pos] = j
                pos = pos + 1
