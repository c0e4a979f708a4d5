# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""The Gram of a real-valued design from its distinct moments (issue 16).

On real ``X`` an entry of :math:`P^\\top P` is a moment
:math:`M(A, B) = \\sum_r \\prod_{i \\in A} x_{ri} \\prod_{i \\in B} x_{ri}^2`
with :math:`A = S \\triangle T`, :math:`B = S \\cap T`
(:class:`sparselearn._gram._MomentPlan` says which products compute
them and where each is stored).  Three kernels serve
:func:`sparselearn._gram._moment_gram`:

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
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc
from libc.stdint cimport uint64_t
from scipy.linalg.cython_blas cimport sgemm

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    int __builtin_popcountll(unsigned long long) nogil

ctypedef fused gram_t:
    float
    double

cdef enum:
    MAX_DEGREE = 16  # subsets in the scatter hold at most this many elements
    # A prefix with at most this many rows that is not an update of the
    # previous one has them found one by one from bit words (n <= 64,
    # _bits_prefix_positions): 2 and 5 timed alike, 9 slower at n = 16, d = 4
    # (a scratch script of session 6, not kept: rerun asv MomentScatter
    # rebuilt with each value to re-measure)
    SHORT_PREFIX = 5


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


cdef struct _Sums:
    # The element terms of a moment's index: row = sum over A_1 of
    # C(e, i + 1) (ordered levels), rank = sum of the lexicographic rank
    # terms C(n - 1 - e, p - i) of A (dense) or of A_2 (ordered).
    long long row
    long long rank


cdef struct _Layout:
    # Where the moment M(A, B) is stored (_MomentPlan.index): the arrays of
    # scatter_moments' docstring as pointers, the plan's n, d, and the terms
    # of element e at index i of an A of a elements, term[(a (2d + 1) + i) n + e].
    const long long* starts
    const long long* total
    const long long* terms
    const long long* dense_offset
    const long long* dense_width
    const long long* wk
    const long long* where
    const long long* binom
    const _Sums* term
    Py_ssize_t n, d, dj


cdef inline long long _lex_rank(const _Layout* L, const int* e, Py_ssize_t p) noexcept nogil:
    # C(n, p) - 1 - sum_j C(n - 1 - e_j, p - j): lexicographic rank of e_0 < ... < e_{p-1}
    cdef long long rank = L.total[p] - 1
    cdef Py_ssize_t j
    for j in range(p):
        rank -= L.terms[(p * L.dj + j) * L.n + e[j]]
    return rank


cdef inline long long _where(const _Layout* L, Py_ssize_t row, Py_ssize_t a,
                             Py_ssize_t t) noexcept nogil:
    # where[row, a, t] of the ordered level a: its group's offset (row 0),
    # width (1) and first right column (2) for min A_2 = t
    return L.where[(row * (2 * L.d + 1) + a) * L.n + t]


cdef _Sums _element_terms(const _Layout* L, Py_ssize_t a, Py_ssize_t i,
                          Py_ssize_t e) noexcept nogil:
    # The terms of element e at index i of an A with a elements (tabulated
    # in L.term: the kernel adds them without branches)
    cdef Py_ssize_t a1 = a // 2
    cdef _Sums terms
    terms.row = 0
    terms.rank = 0
    if a <= L.d:
        terms.rank = L.terms[(a * L.dj + i) * L.n + e]
    elif i < a1:
        terms.row = L.binom[e * (L.d + 1) + i + 1]
    else:
        terms.rank = L.terms[((a - a1) * L.dj + i - a1) * L.n + e]
    return terms


cdef inline void _add_term(const _Layout* L, _Sums* sums, Py_ssize_t a, Py_ssize_t i,
                           Py_ssize_t e, long long sign) noexcept nogil:
    # sums += sign * the terms of element e at index i of an A with a elements
    cdef const _Sums* terms = L.term + (a * (2 * L.d + 1) + i) * L.n + e
    sums.row += sign * terms.row
    sums.rank += sign * terms.rank


cdef inline long long _index(const _Layout* L, Py_ssize_t a, Py_ssize_t t, _Sums sums,
                             long long rB) noexcept nogil:
    # _MomentPlan.index from A's size, t = A[a // 2] (ordered levels), the
    # element terms and rB = starts[k] + the lexicographic rank of B
    cdef Py_ssize_t a2 = a - a // 2
    if a <= L.d:
        return L.dense_offset[a] + (L.total[a] - 1 - sums.rank) * L.dense_width[a] + rB
    return (_where(L, 0, a, t) + sums.row * _where(L, 1, a, t)
            + (L.total[a2] - 1 - sums.rank - _where(L, 2, a, t)) * L.wk[a] + rB)


cdef inline long long _position(const _Layout* L, const int* A, Py_ssize_t a,
                                const int* B, Py_ssize_t k) noexcept nogil:
    # _MomentPlan.index of one moment M(A, B), A and B sorted
    cdef _Sums sums
    cdef Py_ssize_t j
    sums.row = 0
    sums.rank = 0
    for j in range(a):
        _add_term(L, &sums, a, j, A[j], 1)
    return _index(L, a, A[a // 2] if a > L.d else 0, sums, L.starts[k] + _lex_rank(L, B, k))


cdef inline long long _bits_position(const _Layout* L, uint64_t am, uint64_t bm) noexcept nogil:
    # _position of A and B given as words of bits (n <= 64): their elements
    # in increasing order are the trailing set bits
    cdef Py_ssize_t a = __builtin_popcountll(am), k = __builtin_popcountll(bm), i = 0, e, t = 0
    cdef long long rB = L.starts[k] + L.total[k] - 1
    cdef _Sums sums
    sums.row = 0
    sums.rank = 0
    while am:
        e = __builtin_ctzll(am)
        _add_term(L, &sums, a, i, e, 1)
        t = e if i == a // 2 else t
        i += 1
        am &= am - 1
    i = 0
    while bm:
        rB -= L.terms[(k * L.dj + i) * L.n + __builtin_ctzll(bm)]
        i += 1
        bm &= bm - 1
    return _index(L, a, t, sums, rB)


cdef inline void _run_positions(const _Layout* L, Py_ssize_t a, Py_ssize_t js, Py_ssize_t t,
                                _Sums sums, long long rB, Py_ssize_t s, Py_ssize_t count,
                                long long* pos) noexcept nogil:
    # pos[c], c < count: the index of A + {v}, v = s + c, where A has a - 1
    # elements (in sums their terms at their indices once v is in), v goes
    # to index js and t = (A + {v})[a // 2] unless that is v itself.  Only
    # v's own term varies, so the index is affine in one tabulated binomial
    # h of v (consecutive v: mostly neighbouring table entries), except when
    # v is t (its group of the ordered level changes with it).
    cdef Py_ssize_t a1 = a // 2, a2 = a - a1, c, hstride = 1
    cdef long long mult, base
    cdef const long long* h
    if a <= L.d:  # dense: the lexicographic rank's term C(n - 1 - v, a - js)
        h = L.terms + (a * L.dj + js) * L.n
        mult = -L.dense_width[a]
    elif js < a1:  # v in A_1: its colexicographic term C(v, js + 1)
        h = L.binom + js + 1
        hstride = L.d + 1
        mult = _where(L, 1, a, t)
    elif js > a1:  # v in A_2 past its minimum t: a lexicographic term of A_2
        h = L.terms + (a2 * L.dj + js - a1) * L.n
        mult = -L.wk[a]
    else:  # v = t
        h = L.terms + a2 * L.dj * L.n
        base = sums.rank
        for c in range(count):
            sums.rank = base + h[s + c]
            pos[c] = _index(L, a, s + c, sums, rB)
        return
    base = _index(L, a, t, sums, rB)
    for c in range(count):
        pos[c] = base + mult * h[(s + c) * hstride]


cdef struct _Prefix:
    # A prefix S' (p elements) merged with T: A0 = S' xor T, B0 = S' and T,
    # T's elements >= s (s = max S' + 1, its first row's last element) the
    # last q - ib of A0, from index j0 on; the terms of A0's elements for
    # the rows s not in T (run: s inserted at index j0, |A| = a0 + 1) and
    # for s in T (join: A0[j0] removed, |A| = a0 - 1), and rB = starts[k] +
    # the rank of B's first k0 elements' terms for both.
    int A0[2 * MAX_DEGREE]
    int B0[MAX_DEGREE + 1]
    Py_ssize_t p, s, a0, k0, j0, ib
    _Sums run, join
    long long rB_run, rB_join


cdef void _merge_prefix(const _Layout* L, const int* T, Py_ssize_t q, const int* Sp,
                        Py_ssize_t p, _Prefix* P) noexcept nogil:
    # P for S' = Sp (T's q elements followed by the sentinel n)
    cdef int S[MAX_DEGREE + 1]
    cdef Py_ssize_t n = L.n, ia = 0, ib = 0, a0 = 0, k0 = 0, j, j0, x, y, same, ar, al
    P.p = p
    P.s = Sp[p - 1] + 1 if p else 0
    for j in range(p):
        S[j] = Sp[j]
    S[p] = <int>n  # S and T end with the sentinel n: the merge needs no bounds tests
    while ia < p or ib < q:  # without branches on the elements (unpredictable)
        x = S[ia]
        y = T[ib]
        same = x == y
        P.A0[a0] = <int>(x if x < y else y)
        P.B0[k0] = <int>x
        a0 += 1 - same
        k0 += same
        ia += x <= y
        ib += y <= x
    ib = 0
    while T[ib] < P.s:
        ib += 1
    j0 = a0 - (q - ib)
    ar = a0 + 1
    al = a0 - 1
    P.a0, P.k0, P.j0, P.ib = a0, k0, j0, ib
    P.run.row = 0
    P.run.rank = 0
    P.join.row = 0
    P.join.rank = 0
    for j in range(a0):  # one pass for both: T's elements from j0 on follow s
        _add_term(L, &P.run, ar, j + (j >= j0), P.A0[j], 1)
        _add_term(L, &P.join, al, j - (j > j0), P.A0[j], j != j0)
    # B = B0 (s not in T) or B0 + {s}, rank terms C(n - 1 - e, k - j)
    P.rB_run = L.starts[k0] + L.total[k0] - 1
    P.rB_join = L.starts[k0 + 1] + L.total[k0 + 1] - 1
    for j in range(k0):
        P.rB_run -= L.terms[(k0 * L.dj + j) * n + P.B0[j]]
        P.rB_join -= L.terms[((k0 + 1) * L.dj + j) * n + P.B0[j]]


cdef inline void _next_prefix(const _Layout* L, _Prefix* P) noexcept nogil:
    # P for the next prefix when it only moves max S' = u (not in T) on to
    # u + 1 (not in T): the same merge but for u's value at index j0 - 1
    cdef Py_ssize_t u = P.s - 1, ju = P.j0 - 1
    _add_term(L, &P.run, P.a0 + 1, ju, u + 1, 1)
    _add_term(L, &P.run, P.a0 + 1, ju, u, -1)
    _add_term(L, &P.join, P.a0 - 1, ju, u + 1, 1)
    _add_term(L, &P.join, P.a0 - 1, ju, u, -1)
    P.A0[ju] = <int>(u + 1)
    P.s = u + 2


cdef Py_ssize_t _prefix_positions(const _Layout* L, const int* T, Py_ssize_t q,
                                  const _Prefix* P, Py_ssize_t rows,
                                  long long* pos) noexcept nogil:
    # pos[c] for the first rows (at most) S = S' + {s}, s = P.s .. n - 1, in
    # order; returns how many.  Each s not in T is inserted into A0 at index
    # js (the runs between T's elements, _run_positions), each s in T leaves
    # A0 from index js and joins B0 as its maximum.  Passing a T element
    # moves js on by one and changes one or two terms of the sums, so each
    # run and each s in T costs O(1) besides its entries.
    cdef Py_ssize_t n = L.n, s = P.s, ib = P.ib, js = P.j0, a0 = P.a0, k0 = P.k0
    cdef Py_ssize_t ar = a0 + 1, al = a0 - 1, count, done = 0, t
    cdef _Sums run = P.run, join = P.join
    cdef const int* A0 = P.A0
    while s < n and done < rows:
        count = min((T[ib] if ib < q else n) - s, rows - done)
        if count > 0:
            # t = A[ar // 2] once s is in: A0's element there or the one before
            t = A0[ar // 2 - (js < ar // 2)] if ar > L.d and js != ar // 2 else 0
            _run_positions(L, ar, js, t, run, P.rB_run, s, count, pos + done)
        else:  # s = T[ib] = A0[js]
            t = A0[al // 2 + (js <= al // 2)] if al > L.d else 0
            pos[done] = _index(L, al, t, join,
                               P.rB_join - L.terms[((k0 + 1) * L.dj + k0) * n + s])
            count = 1
            # A0[js] now precedes the inserted v, and A0[js + 1] is the next to leave
            _add_term(L, &run, ar, js + 1, A0[js], -1)
            _add_term(L, &run, ar, js, A0[js], 1)
            if ib + 1 < q:
                _add_term(L, &join, al, js, A0[js], 1)
                _add_term(L, &join, al, js, A0[js + 1], -1)
            js += 1
            ib += 1
        s += count
        done += count
    return done


cdef Py_ssize_t _bits_prefix_positions(const _Layout* L, const int* T, Py_ssize_t q,
                                       const int* Sp, Py_ssize_t p, Py_ssize_t rows,
                                       long long* pos) noexcept nogil:
    # The rows of a short prefix one by one from bit words (n <= 64): fewer
    # than a merge and its sums pay for
    cdef uint64_t mT = 0, mS = 0, bit
    cdef Py_ssize_t j, s = Sp[p - 1] + 1 if p else 0, count = min(L.n - s, rows)
    for j in range(q):
        mT |= (<uint64_t>1) << T[j]
    for j in range(p):
        mS |= (<uint64_t>1) << Sp[j]
    for j in range(count):
        bit = (<uint64_t>1) << (s + j)
        pos[j] = _bits_position(L, mS ^ mT ^ bit, (mS & mT) | (mT & bit))
    return count


cdef inline bint _contains(const int* T, Py_ssize_t q, Py_ssize_t v) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(q):
        if T[j] == v:
            return True
    return False


cdef void _column_positions(Py_ssize_t col, const _Layout* L, const int* elems,
                            Py_ssize_t stride, long long* pos) noexcept nogil:
    # pos[i], i <= col: where G[i, col]'s moment is, T = subset col.  Row 0
    # is S = {}; the rows of level p + 1 in lexicographic order are runs
    # S = S' + {s}, one per prefix S' of level p in order, so the prefixes
    # r = 0 .. starts[q] - 1 give rows 1 .. col in order.  Most prefixes
    # only move the previous one's maximum on by one (_next_prefix).
    cdef int T[MAX_DEGREE + 1]
    cdef Py_ssize_t n = L.n, q = 0, p = 0, r = 0, i = 1, j, s, u
    cdef int B0[1]
    cdef const int* Sp
    cdef _Prefix P
    cdef bint merged = False  # whether P is the previous prefix's
    while col >= L.starts[q + 1]:
        q += 1
    for j in range(q):
        T[j] = elems[col * stride + j]
    T[q] = <int>n
    pos[0] = _position(L, T, q, B0, 0)  # S = {}: A = T
    while i <= col:
        while r >= L.starts[p + 1]:
            p += 1
        Sp = elems + r * stride
        r += 1
        s = Sp[p - 1] + 1 if p else 0
        if s >= n:  # S' ends with n - 1: no rows
            merged = False
            continue
        u = s - 1
        if (merged and P.p == p and p and P.s == u and not _contains(T, q, u)
                and not _contains(T, q, u - 1)):
            _next_prefix(L, &P)
        elif n <= 64 and n - s <= SHORT_PREFIX:
            merged = False
            i += _bits_prefix_positions(L, T, q, Sp, p, col + 1 - i, pos + i)
            continue
        else:
            _merge_prefix(L, T, q, Sp, p, &P)
            merged = True
        i += _prefix_positions(L, T, q, &P, col + 1 - i, pos + i)


cdef void _scatter_column(Py_ssize_t col, const _Layout* L, const double* table,
                          const int* elems, Py_ssize_t stride, const double* scale,
                          double factor, double shift, long long* pos,
                          gram_t* out) noexcept nogil:
    # Column col of the upper triangle, out[i] for i <= col, in two passes:
    # the positions first (pos, col + 1 entries of scratch), then the reads,
    # independent of each other so that many of their cache misses overlap
    # (the table is far larger than L2).
    cdef Py_ssize_t i
    cdef double scale_col = scale[col]
    _column_positions(col, L, elems, stride, pos)
    for i in range(col):
        out[i] = <gram_t>(table[pos[i]] * factor * scale[i] * scale_col)
    out[col] = <gram_t>((table[pos[col]] * factor + shift) * scale[col] * scale_col)


def scatter_moments(const double[::1] table, const int[:, ::1] elems,
                    const long long[::1] starts, const long long[::1] total,
                    const long long[:, :, ::1] terms, const long long[::1] dense_offset,
                    const long long[::1] dense_width, const long long[::1] wk,
                    const long long[:, :, ::1] where, const long long[:, ::1] binom,
                    const double[::1] scale, double factor, double shift,
                    gram_t[:, ::1] GT, int n_threads):
    """Write the upper triangle of the moment Gram, scaled, into ``GT``'s rows.

    ``GT`` is the transpose (C-ordered view) of a Fortran-ordered ``D x D``
    matrix ``G``: for every ``i <= j``, with ``S``, ``T`` the ``i``-th and
    ``j``-th subsets (``elems`` rows, sorted elements, levels by
    ``starts``), ``A = S xor T`` and ``B = S and T``,
    ``G[i, j] = (factor * table[index(A, B)] + shift [i == j]) scale[i] scale[j]``,
    ``index`` that of :meth:`sparselearn._gram._MomentPlan.index`
    (``total[p] = C(n, p)``, ``terms[p, j, v] = C(n - 1 - v, p - j)``, the
    dense levels' offsets and widths, ``wk`` and ``where[0..2, a, t]`` of
    the ordered levels, ``binom[v, t] = C(v, t)``).  The strict lower
    triangle is not touched.

    A column's rows come in runs ``S = S' + {s}`` (``s`` past ``max S'``,
    not in ``T``) along which ``index`` is affine in one binomial of ``s``:
    per prefix ``S'`` one merge with ``T`` and sums of its elements' index
    terms (or, when it only moves the previous prefix's maximum on by one,
    an update of two terms), O(1) per run and per ``s`` in ``T``, then an
    add and a multiply per entry; a short prefix's rows (``n <= 64``) one by
    one from bit words.  All of a column's positions are found before its
    reads, so that their cache misses overlap.  Threads over columns
    (``prange``, dynamic: column ``j`` has ``j + 1`` entries), each with
    ``8 D`` bytes of positions, GIL released.
    """
    cdef Py_ssize_t D = GT.shape[0], d = starts.shape[0] - 2, n = terms.shape[2]
    cdef Py_ssize_t j, stride = elems.shape[1]
    cdef int threads = max(1, n_threads)
    cdef _Layout L
    cdef long long* pos
    cdef _Sums* term
    cdef Py_ssize_t a, i, e
    if D == 0:
        return
    if d > MAX_DEGREE:
        raise ValueError(f"scatter_moments handles degrees up to {MAX_DEGREE}, got {d}")
    L.starts = &starts[0]
    L.total = &total[0]
    L.terms = &terms[0, 0, 0]
    L.dense_offset = &dense_offset[0]
    L.dense_width = &dense_width[0]
    L.wk = &wk[0]
    L.where = &where[0, 0, 0]
    L.binom = &binom[0, 0]
    L.n = n
    L.d = d
    L.dj = terms.shape[1]
    term = <_Sums*>malloc((2 * d + 1) * (2 * d + 1) * n * sizeof(_Sums))
    if term == NULL:
        raise MemoryError("scatter_moments: no memory for the element terms")
    for a in range(2 * d + 1):
        for i in range(2 * d + 1):
            for e in range(n):
                term[(a * (2 * d + 1) + i) * n + e] = (
                    _element_terms(&L, a, i, e) if i < a else _Sums(0, 0))
    L.term = term
    cdef const double* tp = &table[0]
    cdef const int* ep = &elems[0, 0]
    cdef const double* scp = &scale[0]
    pos = <long long*>malloc(threads * D * sizeof(long long))
    if pos == NULL:
        free(term)
        raise MemoryError(f"scatter_moments: no memory for {threads} x {D} positions")
    try:
        for j in prange(D, nogil=True, schedule="dynamic", chunksize=16,
                        num_threads=threads):
            _scatter_column(j, &L, tp, ep, stride, scp, factor, shift,
                            pos + threadid() * D, &GT[j, 0])
    finally:
        free(pos)
        free(term)
