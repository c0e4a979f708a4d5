# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Blocked Cholesky factorisation on our own threads, deterministic in them.

:func:`cholesky_upper` factors :math:`G = R^\\top R` in place (upper
triangle, LAPACK ``potrf``'s result) right-looking by blocks of ``block``
columns: the diagonal block by ``potrf``, the block row to its right by
``trsm`` (:math:`R_{12} = R_{11}^{-\\top} G_{12}`), the trailing matrix by
:math:`G_{22} \\mathrel{-}= R_{12}^\\top R_{12}` (``syrk`` on diagonal
blocks, ``gemm`` above them).  The ``trsm`` and the update are split by
column blocks over ``n_threads`` OpenMP threads, each calling
single-threaded BLAS, so every block is computed by the same call whatever
the thread count (the factor does not depend on it), and no BLAS thread
pool is involved: on the shared 2-core machine OpenBLAS's pool made
``potrf`` of a 2081 x 2081 matrix take 0.8-7.4 s against 0.23 s on one
thread.  The caller holds BLAS to one thread.

:func:`cho_solve_upper` solves :math:`R^\\top R x = b` with such a factor
(float32 or float64) in float64 arithmetic: the preconditioner of the
sketch's CG (:func:`sparselearn._solvers._solve_sketch`), as fast as two
BLAS ``trsv`` of the factor's precision (both read the triangle twice) but
without their float32 rounding.  NumPy twins:
:func:`sparselearn._reference.cholesky.cholesky_upper` and
:func:`sparselearn._reference.cholesky.cho_solve_upper`.
"""
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, dsyrk, dtrsm, sgemm, ssyrk, strsm
from scipy.linalg.cython_lapack cimport dpotrf, spotrf

ctypedef fused real_t:
    float
    double


cdef void _trsm_block(real_t* G, int ld, int k0, int kb, int c0, int nc) noexcept nogil:
    # G[k0:k0+kb, c0:c0+nc] := R11^-T G[k0:k0+kb, c0:c0+nc]
    cdef char left = b"L", upper = b"U", trans = b"T", unit = b"N"
    cdef real_t one = 1.0
    if real_t is float:
        strsm(&left, &upper, &trans, &unit, &kb, &nc, &one, G + k0 + <Py_ssize_t>k0 * ld, &ld,
              G + k0 + <Py_ssize_t>c0 * ld, &ld)
    else:
        dtrsm(&left, &upper, &trans, &unit, &kb, &nc, &one, G + k0 + <Py_ssize_t>k0 * ld, &ld,
              G + k0 + <Py_ssize_t>c0 * ld, &ld)


cdef void _update_block(real_t* G, int ld, int k0, int kb, int k1, int j0, int jb) noexcept nogil:
    # Columns j0:j0+jb of the trailing matrix, rows k1 .. j0+jb: minus R12^T R12.
    cdef char upper = b"U", trans = b"T", notrans = b"N"
    cdef real_t one = 1.0, minus = -1.0
    cdef int rows = j0 - k1
    if rows > 0:
        if real_t is float:
            sgemm(&trans, &notrans, &rows, &jb, &kb, &minus, G + k0 + <Py_ssize_t>k1 * ld, &ld,
                  G + k0 + <Py_ssize_t>j0 * ld, &ld, &one, G + k1 + <Py_ssize_t>j0 * ld, &ld)
        else:
            dgemm(&trans, &notrans, &rows, &jb, &kb, &minus, G + k0 + <Py_ssize_t>k1 * ld, &ld,
                  G + k0 + <Py_ssize_t>j0 * ld, &ld, &one, G + k1 + <Py_ssize_t>j0 * ld, &ld)
    if real_t is float:
        ssyrk(&upper, &trans, &jb, &kb, &minus, G + k0 + <Py_ssize_t>j0 * ld, &ld, &one,
              G + j0 + <Py_ssize_t>j0 * ld, &ld)
    else:
        dsyrk(&upper, &trans, &jb, &kb, &minus, G + k0 + <Py_ssize_t>j0 * ld, &ld, &one,
              G + j0 + <Py_ssize_t>j0 * ld, &ld)


def cholesky_upper(real_t[::1, :] G, int block, int n_threads):
    """Factor the symmetric positive definite ``G`` (Fortran-ordered, its upper
    triangle read) in place into the upper ``R`` with ``G = R^T R``; the
    strict lower triangle is not touched.  Returns LAPACK's ``info``: 0, or
    ``j > 0`` when the leading minor of order ``j`` is not positive
    definite (the factorisation stopped there)."""
    cdef int D = <int>G.shape[0], ld = <int>G.shape[0], k0, kb, k1, info = 0
    cdef int nblocks, b, c0, nc, threads = max(1, n_threads), step = max(1, block)
    cdef char upper = b"U"
    cdef real_t* A
    if D == 0:
        return 0
    A = &G[0, 0]
    k0 = 0
    with nogil:
        while k0 < D:
            kb = min(step, D - k0)
            k1 = k0 + kb
            if real_t is float:
                spotrf(&upper, &kb, A + k0 + <Py_ssize_t>k0 * ld, &ld, &info)
            else:
                dpotrf(&upper, &kb, A + k0 + <Py_ssize_t>k0 * ld, &ld, &info)
            if info != 0:
                info = info + k0
                break
            if k1 >= D:
                break
            nblocks = (D - k1 + step - 1) // step
            for b in prange(nblocks, schedule="dynamic", chunksize=1, num_threads=threads):
                c0 = k1 + b * step
                nc = min(step, D - c0)
                _trsm_block(A, ld, k0, kb, c0, nc)
            # Largest column blocks (most rows above the diagonal) first.
            for b in prange(nblocks, schedule="dynamic", chunksize=1, num_threads=threads):
                c0 = k1 + (nblocks - 1 - b) * step
                nc = min(step, D - c0)
                _update_block(A, ld, k0, kb, k1, c0, nc)
            k0 = k1
    return info


def cho_solve_upper(const real_t[::1, :] R, double[::1] x):
    """Overwrite ``x`` with :math:`(R^\\top R)^{-1} x` for the upper triangular
    ``R`` (Fortran-ordered, its strict lower triangle not read), in float64
    whatever ``R``'s precision: :math:`R^\\top z = x` by forward substitution
    (a dot product with column ``j`` of ``R`` per entry, summed in eight
    interleaved partial sums in a fixed order), then :math:`R x = z`
    backwards (column ``j`` times ``x_j`` subtracted).  GIL released, one
    thread."""
    cdef Py_ssize_t D = R.shape[0], i, j, end
    cdef double s0, s1, s2, s3, s4, s5, s6, s7, xj
    cdef const real_t* c
    if x.shape[0] != D or R.shape[1] != D:
        raise ValueError(f"R must be square and x of its order; got R {R.shape[0]} x "
                         f"{R.shape[1]}, x of {x.shape[0]}")
    if D == 0:
        return
    with nogil:
        for j in range(D):
            c = &R[0, j]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            end = j - j % 8
            for i in range(0, end, 8):
                s0 += c[i] * x[i]
                s1 += c[i + 1] * x[i + 1]
                s2 += c[i + 2] * x[i + 2]
                s3 += c[i + 3] * x[i + 3]
                s4 += c[i + 4] * x[i + 4]
                s5 += c[i + 5] * x[i + 5]
                s6 += c[i + 6] * x[i + 6]
                s7 += c[i + 7] * x[i + 7]
            for i in range(end, j):
                s0 += c[i] * x[i]
            x[j] = (x[j] - (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)))) / c[j]
        for j in range(D - 1, -1, -1):
            c = &R[0, j]
            xj = x[j] / c[j]
            x[j] = xj
            for i in range(j):
                x[i] -= c[i] * xj
