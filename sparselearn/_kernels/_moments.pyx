# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""The Gram of a real-valued design from its distinct moments (issue 16).

On real ``X`` an entry of :math:`P^\\top P` is a moment
:math:`M(A, B) = \\sum_r \\prod_{i \\in A} x_{ri} \\prod_{i \\in B} x_{ri}^2`
with :math:`A = S \\triangle T`, :math:`B = S \\cap T`
(:class:`sparselearn.parities._MomentPlan` says which products compute
them and where each is stored).  Three kernels serve
:func:`sparselearn.parities._moment_gram`:

- :func:`moment_rows32`: a chunk's explicit rows in single precision, on
  ``X`` (lexicographic and colexicographic order) and on ``X**2``, the
  operands of the products;
- :func:`moment_products32`: the plan's products of one chunk added to a
  float32 table by ``sgemm`` with ``beta = 1`` (no product temporaries, no
  separate accumulation pass); the caller flushes that table into a float64
  one every few chunks, so rounding grows with the flush period, not ``m``;
- :func:`scatter_moments`: every upper-triangle entry of the ``D x D``
  matrix read from the table, scaled on the way (``factor``, ``shift`` on
  the diagonal, a symmetric scaling), threads over columns.

Their NumPy twins are in :mod:`sparselearn._reference.moments`.
"""
from cython.parallel cimport prange
from libc.stdint cimport uint64_t

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    int __builtin_popcountll(unsigned long long) nogil
from scipy.linalg.cython_blas cimport sgemm

ctypedef fused gram_t:
    float
    double

cdef enum:
    MAX_DEGREE = 16  # subsets in the scatter hold at most this many elements


def moment_rows32(const double[:, ::1] X, const long long[:, ::1] counts,
                  const long long[::1] starts, const long long[:, ::1] binom,
                  float[:, ::1] F, float[:, ::1] W, float[:, ::1] C):
    """Single-precision explicit rows of a chunk ``X`` (``k x n``).

    ``F[r]``: the monomials of degree ``<= d`` of ``X[r]`` by degree, each
    degree in lexicographic order (``starts``, ``d + 2`` entries, the level
    boundaries; ``counts[t, i] = C(n - 1 - i, t - 1)`` as in
    :func:`sparselearn._kernels._parity.parity_levels`).  ``C[r]``: the same
    levels in colexicographic order (level ``t``'s sets with maximum ``v``
    are ``x_v`` times the first ``C(v, t - 1)`` of level ``t - 1``,
    ``binom[v, t] = C(v, t)``).  ``W[r]``: the levels ``< d`` of
    ``X[r]**2`` in lexicographic order (``W.shape[1] == starts[d]``).  Each
    entry is one float32 multiply of entries already rounded to float32.
    GIL released, no threads of its own.
    """
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], n_levels = starts.shape[0] - 1
    cdef Py_ssize_t r, t, i, j, v, dst, src, count
    cdef float xi
    with nogil:
        for r in range(m):
            F[r, 0] = 1.0
            C[r, 0] = 1.0
            if W.shape[1] > 0:
                W[r, 0] = 1.0
            for t in range(1, n_levels):
                dst = starts[t]
                for i in range(n):
                    count = counts[t, i]
                    if count == 0:
                        break
                    xi = <float>X[r, i]
                    src = starts[t] - count
                    for j in range(count):
                        F[r, dst + j] = xi * F[r, src + j]
                    if starts[t + 1] <= W.shape[1]:
                        xi = <float>(X[r, i] * X[r, i])
                        for j in range(count):
                            W[r, dst + j] = xi * W[r, src + j]
                    dst = dst + count
                for v in range(t - 1, n):
                    count = binom[v, t - 1]
                    xi = <float>X[r, v]
                    dst = starts[t] + binom[v, t]
                    src = starts[t - 1]
                    for j in range(count):
                        C[r, dst + j] = xi * C[r, src + j]


cdef inline float* _operand(Py_ssize_t source, float* F, float* W, float* C) noexcept nogil:
    if source == 0:
        return F
    if source == 1:
        return W
    return C


def moment_products32(float[:, ::1] F, float[:, ::1] W, float[:, ::1] C, float[::1] R,
                      const long long[:, ::1] products, Py_ssize_t lower,
                      float[::1] table):
    """Add one chunk's moment products to ``table`` (float32, the plan's layout).

    ``table[j] +=`` the column sums of ``W[:, j]`` for ``j < lower`` and of
    ``F[:, j] ** 2`` for ``lower <= j < D`` (the moments without odd
    factors).  Then each row ``(a_src, a_col, wk, b_src, b_col, M, N, out,
    ldc)`` of ``products`` is one product: with ``A`` the ``M`` columns of
    operand ``a_src`` (0: ``F``, 1: ``W``, 2: ``C``) from ``a_col`` (or,
    for ``wk > 1``, ``R[r, c wk + w] = F[r, a_col + c] W[r, w]``,
    ``M / wk`` columns of ``F`` times ``W``'s first ``wk``, built in ``R``)
    and ``B`` the ``N`` columns of ``b_src`` from ``b_col``,
    ``table[out + j ldc + i] += sum_r A[r, i] B[r, j]`` (``sgemm``, one
    BLAS call, ``beta = 1``).  GIL released.
    """
    cdef Py_ssize_t k = F.shape[0], D = F.shape[1], r, j, c, w, p, nc, wk
    cdef int M, N, K = <int>F.shape[0], lda, ldb, ldc
    cdef float one = 1.0, value
    cdef char no = b"N", transposed = b"T"
    cdef float* A
    cdef float* B
    cdef float* Fp = &F[0, 0]
    cdef float* Wp = &W[0, 0] if W.shape[1] > 0 else NULL
    cdef float* Cp = &C[0, 0]
    cdef int strides[3]
    strides[0] = <int>F.shape[1]
    strides[1] = <int>W.shape[1]
    strides[2] = <int>C.shape[1]
    if k == 0:
        return
    with nogil:
        for r in range(k):
            for j in range(lower):
                table[j] += W[r, j]
            for j in range(lower, D):
                value = F[r, j]
                table[j] += value * value
        for p in range(products.shape[0]):
            wk = products[p, 2]
            M = <int>products[p, 5]
            N = <int>products[p, 6]
            ldc = <int>products[p, 8]
            if M == 0 or N == 0:
                continue
            if wk > 1:
                nc = M // wk
                for r in range(k):
                    for c in range(nc):
                        value = F[r, products[p, 1] + c]
                        for w in range(wk):
                            R[r * M + c * wk + w] = value * W[r, w]
                A = &R[0]
                lda = M
            else:
                A = _operand(products[p, 0], Fp, Wp, Cp) + products[p, 1]
                lda = strides[products[p, 0]]
            B = _operand(products[p, 3], Fp, Wp, Cp) + products[p, 4]
            ldb = strides[products[p, 3]]
            sgemm(&no, &transposed, &M, &N, &K, &one, A, &lda, B, &ldb, &one,
                  &table[products[p, 7]], &ldc)


cdef inline long long _lex_rank(const int* e, Py_ssize_t p, const long long* total,
                                const long long* terms, Py_ssize_t dj, Py_ssize_t n) noexcept nogil:
    # C(n, p) - 1 - sum_j C(n - 1 - e_j, p - j): lexicographic rank of e_0 < ... < e_{p-1}
    cdef long long rank = total[p] - 1
    cdef Py_ssize_t j
    for j in range(p):
        rank -= terms[(p * dj + j) * n + e[j]]
    return rank


cdef inline long long _bits_rank(uint64_t bits, Py_ssize_t p, const long long* total,
                                 const long long* terms, Py_ssize_t dj,
                                 Py_ssize_t n) noexcept nogil:
    # _lex_rank of the p set bits of one word, read as its trailing bits in order
    cdef long long rank = total[p] - 1
    cdef Py_ssize_t j = 0
    while bits:
        rank -= terms[(p * dj + j) * n + __builtin_ctzll(bits)]
        j += 1
        bits &= bits - 1
    return rank


cdef void _scatter_column(Py_ssize_t col, const double* table, const int* elems,
                          const long long* starts, const long long* total,
                          const long long* terms, const long long* dense_offset,
                          const long long* dense_width, const long long* wk,
                          const long long* where, const long long* binom,
                          const double* scale, double factor, double shift,
                          Py_ssize_t d, Py_ssize_t dj, Py_ssize_t n, Py_ssize_t stride,
                          gram_t* out) noexcept nogil:
    # Column col of the upper triangle: out[i] for i <= col.
    cdef int A[2 * MAX_DEGREE]
    cdef int Bset[MAX_DEGREE]
    cdef const int* S
    cdef const int* T = elems + col * stride
    cdef Py_ssize_t q = 0, p = 0, i, ia, ib, a, k, a1, a2, t, ii
    cdef long long rB, pos, row
    cdef double scale_col = scale[col], value
    while col >= starts[q + 1]:
        q += 1
    for i in range(col + 1):
        while i >= starts[p + 1]:
            p += 1
        S = elems + i * stride
        ia = 0
        ib = 0
        a = 0
        k = 0
        while ia < p and ib < q:
            if S[ia] < T[ib]:
                A[a] = S[ia]
                a += 1
                ia += 1
            elif S[ia] > T[ib]:
                A[a] = T[ib]
                a += 1
                ib += 1
            else:
                Bset[k] = S[ia]
                k += 1
                ia += 1
                ib += 1
        while ia < p:
            A[a] = S[ia]
            a += 1
            ia += 1
        while ib < q:
            A[a] = T[ib]
            a += 1
            ib += 1
        rB = starts[k] + _lex_rank(Bset, k, total, terms, dj, n)
        if a <= d:
            pos = dense_offset[a] + _lex_rank(A, a, total, terms, dj, n) * dense_width[a] + rB
        else:
            a1 = a // 2
            a2 = a - a1
            t = A[a1]
            row = 0
            for ii in range(a1):
                row += binom[A[ii] * (d + 1) + ii + 1]
            pos = (where[a * n + t] + row * where[((2 * d + 1) + a) * n + t]
                   + (_lex_rank(A + a1, a2, total, terms, dj, n)
                      - where[(2 * (2 * d + 1) + a) * n + t]) * wk[a] + rB)
        value = table[pos] * factor
        if i == col:
            value = value + shift
        out[i] = <gram_t>(value * scale[i] * scale_col)


cdef void _scatter_column_bits(Py_ssize_t col, const double* table, const uint64_t* masks,
                               const long long* starts, const long long* total,
                               const long long* terms, const long long* dense_offset,
                               const long long* dense_width, const long long* wk,
                               const long long* where, const long long* binom,
                               const double* scale, double factor, double shift,
                               Py_ssize_t d, Py_ssize_t dj, Py_ssize_t n,
                               gram_t* out) noexcept nogil:
    # _scatter_column for n <= 64, the subsets as one word of bits each:
    # A and B are an XOR and an AND, their elements in increasing order the
    # trailing set bits (no merge and its unpredictable branches: half the
    # time per entry at n = 32, d = 3).
    cdef uint64_t mT = masks[col], mS, am, bm
    cdef Py_ssize_t i, a, k, a1, a2, t, j, e
    cdef long long rB, pos, row
    cdef double scale_col = scale[col], value
    for i in range(col + 1):
        mS = masks[i]
        am = mS ^ mT
        bm = mS & mT
        k = __builtin_popcountll(bm)
        a = __builtin_popcountll(am)
        rB = starts[k] + _bits_rank(bm, k, total, terms, dj, n)
        if a <= d:
            pos = dense_offset[a] + _bits_rank(am, a, total, terms, dj, n) * dense_width[a] + rB
        else:
            a1 = a // 2
            a2 = a - a1
            row = 0
            for j in range(a1):
                e = __builtin_ctzll(am)
                row += binom[e * (d + 1) + j + 1]
                am &= am - 1
            t = __builtin_ctzll(am)
            pos = (where[a * n + t] + row * where[((2 * d + 1) + a) * n + t]
                   + (_bits_rank(am, a2, total, terms, dj, n)
                      - where[(2 * (2 * d + 1) + a) * n + t]) * wk[a] + rB)
        value = table[pos] * factor
        if i == col:
            value = value + shift
        out[i] = <gram_t>(value * scale[i] * scale_col)


def scatter_moments(const double[::1] table, const int[:, ::1] elems,
                    const uint64_t[::1] masks, const long long[::1] starts, const long long[::1] total,
                    const long long[:, :, ::1] terms, const long long[::1] dense_offset,
                    const long long[::1] dense_width, const long long[::1] wk,
                    const long long[:, :, ::1] where, const long long[:, ::1] binom,
                    const double[::1] scale, double factor, double shift,
                    gram_t[:, ::1] GT, int n_threads):
    """Write the upper triangle of the moment Gram, scaled, into ``GT``'s rows.

    ``GT`` is the transpose (C-ordered view) of a Fortran-ordered ``D x D``
    matrix ``G``: for every ``i <= j``, with ``S``, ``T`` the ``i``-th and
    ``j``-th subsets (``elems`` rows, sorted elements, levels by
    ``starts``; for ``n <= 64`` also ``masks``, one word of bits each, which
    the kernel then uses instead; empty otherwise), ``A = S xor T`` and
    ``B = S and T``,
    ``G[i, j] = (factor * table[index(A, B)] + shift [i == j]) scale[i] scale[j]``,
    ``index`` that of :meth:`sparselearn.parities._MomentPlan.index`
    (``total[p] = C(n, p)``, ``terms[p, j, v] = C(n - 1 - v, p - j)``, the
    dense levels' offsets and widths, ``wk`` and ``where[0..2, a, t]`` of
    the ordered levels, ``binom[v, t] = C(v, t)``).  The strict lower
    triangle is not touched.  Threads over columns (``prange``, dynamic:
    column ``j`` has ``j + 1`` entries), GIL released.
    """
    cdef Py_ssize_t D = GT.shape[0], d = starts.shape[0] - 2, n = terms.shape[2]
    cdef Py_ssize_t j, stride = elems.shape[1], dj = terms.shape[1]
    cdef int threads = max(1, n_threads)
    if D == 0:
        return
    if d > MAX_DEGREE:
        raise ValueError(f"scatter_moments handles degrees up to {MAX_DEGREE}, got {d}")
    cdef const double* tp = &table[0]
    cdef const int* ep = &elems[0, 0]
    cdef const long long* sp = &starts[0]
    cdef const long long* totp = &total[0]
    cdef const long long* termp = &terms[0, 0, 0]
    cdef const long long* dop = &dense_offset[0]
    cdef const long long* dwp = &dense_width[0]
    cdef const long long* wkp = &wk[0]
    cdef const long long* wp = &where[0, 0, 0]
    cdef const long long* bp = &binom[0, 0]
    cdef const double* scp = &scale[0]
    cdef bint bits = masks.shape[0] == D and n <= 64
    cdef const uint64_t* mp = &masks[0] if bits else NULL
    for j in prange(D, nogil=True, schedule="dynamic", chunksize=16,
                    num_threads=threads):
        if bits:
            _scatter_column_bits(j, tp, mp, sp, totp, termp, dop, dwp, wkp, wp, bp, scp,
                                 factor, shift, d, dj, n, &GT[j, 0])
        else:
            _scatter_column(j, tp, ep, sp, totp, termp, dop, dwp, wkp, wp, bp, scp,
                            factor, shift, d, dj, n, stride, &GT[j, 0])
