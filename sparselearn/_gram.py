r"""The Gram matrix :math:`G = P^\top P` of a design and :math:`B = P^\top Y`:
the normal equations that ``solver="cholesky"`` factors and whose row
sample preconditions ``solver="sketch"`` (:mod:`sparselearn._solvers`).

:func:`_normal_equations` accumulates the upper triangle of :math:`G` with
``syrk`` over chunks of explicit rows (:meth:`ParityDesign._explicit_rows`),
or, on real data where that is cheaper (:func:`_use_moments`), from the
distinct moments of the sample: :math:`G[S, T]` depends on the multiset
:math:`S + T` only, so each distinct entry is one column of a matrix product
of lower-degree monomial rows (:class:`_MomentPlan`, :func:`_moment_table`,
float64 or compiled float32), scattered into :math:`G` by a compiled kernel
(:func:`_scatter_moments`).  Inputs are trusted: the estimators of
:mod:`sparselearn.learners` validate them.
"""
from __future__ import annotations

import bisect
import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg

from ._kernels import _moments, _parity
from .network import _one_thread_blas
from .parities import _CHUNK_BYTES, ParityDesign, _combinations


# Moments of a real-valued design (solver="cholesky" and "sketch"): on real
# X an entry G[S, T] of P^T P is sum_r prod_{S xor T} x_r prod_{S and T} x_r^2,
# a function of the multiset S + T only, so G has far fewer distinct entries
# than D^2 / 2 (n = 32, d = 3: 2.6 million against 15 million; n = 64, d = 2:
# 0.8 million against 2.2 million).  Each is computed once by a matrix product
# (_MomentPlan, _moment_table) and scattered into G by a compiled kernel
# (_scatter_moments; 5.5 ns an entry and thread at n = 32, d = 3: asv
# MomentScatter, 2-core machine at load 1-2).
_MOMENT_MIN_FEATURES = 256  # below, syrk on the explicit rows (tiny products)
# Below, syrk: with the compiled scatter the float64 moment route of
# _normal_equations ties syrk at m = 1000 and is faster from m = 2000 (CPU
# seconds, two threads, loaded machine: n = 64, d = 2: 0.18 / 0.16 at
# m = 1000, 0.16 / 0.28 at 2000; n = 32, d = 3: 0.58 / 0.53, 0.80 / 1.05;
# n = 16, d = 3: 0.044 / 0.037 at 2000, 0.068 / 0.093 at 4000; timed by
# a scratch script in session 5, not kept: rerun both routes with
# _MOMENT_MIN_ROWS patched to re-measure).
_MOMENT_MIN_ROWS = 2000
_MOMENT_MAX_SHARE = 0.5  # the moment table at most this share of G's D^2 / 2 entries
# Product blocks of fewer rows or columns are merged with the next
# (_MomentPlan), rows x columns: BLAS is slow on skinny products.  The
# products compute a merged group as a staircase (_MomentPlan.staircase), so
# its unused slots cost table memory, not flops.  Two-thread wall s of the
# float32 table (best of 4, load 0.6; n = 32, d = 3, 20,000 rows / n = 64,
# d = 2, 20,400 rows): 8 x 32 0.90 / 0.33, 16 x 64 0.84 / 0.27, 32 x 128
# 0.93 / 0.27, 64 x 256 1.01 / 0.31 (session 7, a scratch loop over
# _moment_table32(_MomentPlan(n, d, group), ...), not kept).  The unused
# slots are a larger share at small n (n = 16, d = 3: 0.41 of D^2 / 2 at
# 16 x 64, 0.54 at 32 x 128), where _MOMENT_MAX_SHARE decides the route.
_MOMENT_GROUP = (16, 64)
# Float32 products (_moment_table): the float32 table is added to the float64
# one every this many rows (its rounding grows with the rows summed in it), and
# the F x W operand of a product is built in pieces of this many F columns
# (16 x 33 at n = 32, d = 3: the piece stays in L2; 8 to 64 measured within
# the noise of the loaded machine, 1.4-2.0 CPU s per 20,000 rows).
_MOMENT_FLUSH_ROWS = 2048
_MOMENT_PIECE_COLUMNS = 16


def _lex_rank_terms(n: int, p: int) -> np.ndarray:
    """``terms[j, v] = C(n - 1 - v, p - j)``: the lexicographic rank among the
    ``p``-subsets of ``range(n)`` of ``s_0 < ... < s_{p-1}`` is
    ``C(n, p) - 1 - sum_j terms[j, s_j]`` (lexicographic order is the reversed
    colexicographic order of the mirrored sets ``{n - 1 - s}``)."""
    return np.array([[math.comb(n - 1 - v, p - j) for v in range(n)] for j in range(p)],
                    dtype=np.int64).reshape(p, n)


def _lex_rank(columns, n: int, p: int) -> np.ndarray:
    """Lexicographic rank of the sets whose sorted elements are ``columns``
    (``p`` integer arrays of equal length)."""
    terms = _lex_rank_terms(n, p)
    rank = np.full(len(columns[0]) if p else 1, math.comb(n, p) - 1, dtype=np.int64)
    for j, column in enumerate(columns):
        rank -= terms[j][column]
    return rank


class _MomentPlan:
    r"""The distinct moments of a degree-``d`` design on ``n`` real inputs,
    the products that compute them and where each is stored.

    A moment is :math:`M(A, B) = \sum_r \prod_{i \in B} x_{ri}^2
    \prod_{i \in A} x_{ri}` for disjoint ``A``, ``B`` with
    :math:`|A| + 2|B| \le 2d`; :math:`G[S, T] = M(S \triangle T, S \cap T)`.
    With ``F`` and ``W`` the explicit rows on ``X`` and ``X**2`` (every
    level ``<= d`` of ``F``, ``< d`` of ``W``; ``a = 0`` sums ``W`` and
    ``F_d ** 2``):

    - ``|A| = a <= d``: :math:`F_a^\top W_{\le k_{max}}`, one product
      (``k_max = d - ceil(a / 2)``, ``W``'s levels ``0..k_max`` contiguous);
    - ``a > d``: ``A = A_1 + A_2`` with ``|A_1| = a // 2`` and
      :math:`\max A_1 < \min A_2 = t`; for each ``t`` the left factors are
      the ``a // 2``-subsets of ``range(t)`` (a prefix in colexicographic
      order) and the right ones the ``A_2`` with minimum ``t`` (a block in
      lexicographic order) times every ``W`` column of level ``<= k_max``:
      one product per ``t`` computes each moment once.  Consecutive ``t``
      whose product would have fewer than ``group = (rows, columns)``
      (default ``_MOMENT_GROUP``) share one block of the table (left
      prefix of the largest ``t``, the right blocks side by side; the rows
      beyond a block's own prefix are never read, nor computed:
      :meth:`staircase`), since BLAS is slow on skinny products.
    """

    def __init__(self, n: int, d: int, group=_MOMENT_GROUP):
        self.n, self.d = n, d
        group_rows, group_cols = group
        self.sizes = [math.comb(n, p) for p in range(d + 1)]
        self.starts = [0]
        for size in self.sizes:
            self.starts.append(self.starts[-1] + size)
        self.n_features = self.starts[-1]
        offset = 0
        self.dense = {}
        for a in range(d + 1):
            width = self.starts[d - (a + 1) // 2 + 1]
            self.dense[a] = (offset, width)
            offset += self.sizes[a] * width
        self.ordered = {}
        for a in range(d + 1, 2 * d + 1):
            a1, a2 = a // 2, a - a // 2
            wk = self.starts[d - a2 + 1]
            nb = [math.comb(n - 1 - t, a2 - 1) for t in range(n)]
            lexstart = np.cumsum([0] + nb).astype(np.int64)
            ts = [t for t in range(n) if math.comb(t, a1) and nb[t]]
            groups, i = [], 0
            while i < len(ts):
                j, width = i, nb[ts[i]]
                while (j + 1 < len(ts) and (math.comb(ts[j], a1) < group_rows
                                            or width * wk < group_cols)):
                    j += 1
                    width += nb[ts[j]]
                lo, hi = ts[i], ts[j]
                rows, cols = math.comb(hi, a1), int(lexstart[hi + 1] - lexstart[lo]) * wk
                groups.append((lo, hi, rows, cols, offset))
                offset += rows * cols
                i = j + 1
            # Per t: its group's offset, width and first right column.
            where = np.zeros((3, n), dtype=np.int64)
            for lo, hi, rows, cols, off in groups:
                where[:, lo:hi + 1] = np.array([[off], [cols], [lexstart[lo]]])
            self.ordered[a] = (a1, a2, wk, groups, lexstart, where)
        self.size = offset
        self._colex = {}

    def colex(self, a1):
        """The lexicographic ranks of the ``a1``-subsets in colexicographic order."""
        if a1 not in self._colex:
            combos = _combinations(self.n, a1)
            rank = np.zeros(len(combos), dtype=np.int64)
            for i in range(a1):
                rank += np.array([math.comb(v, i + 1) for v in range(self.n)])[combos[:, i]]
            self._colex[a1] = np.argsort(rank, kind="stable")
        return self._colex[a1]

    def nbytes(self, rows: int, n_jobs: int) -> float:
        """Bytes :func:`_moment_table` and :func:`_scatter_moments` allocate
        besides ``G`` with ``rows`` rows per chunk on ``n_jobs`` threads, the
        larger of the two precisions: with float64 products, per thread its
        float64 table, the chunk's explicit rows on ``X`` and ``X**2``,
        the gathered left operand, the largest right operand and product
        (:meth:`accumulate`); with float32 products one float64 table, up to
        two float32 group tables per thread and per thread the rows in both
        orders, ``X**2``'s and the largest ``F x W`` piece.  The scatter's
        subsets, rank tables and element terms once, a column of positions
        per thread."""
        D, d, n = self.n_features, self.d, self.n
        largest = max([self.sizes[a] * width for a, (_, width) in self.dense.items()]
                      + [rows_g * cols for (*_, groups, _, _) in self.ordered.values()
                         for (_, _, rows_g, cols, _) in groups])
        right = max([0] + [cols for (_, _, wk, groups, _, _) in self.ordered.values()
                           if wk > 1 for (_, _, _, cols, _) in groups])
        left = max([0] + [self.sizes[a1] for (a1, *_) in self.ordered.values()])
        jobs = max(1, n_jobs)
        double = jobs * 8.0 * (self.size + 2 * rows * D + largest + rows * (left + right))
        pieces = self.products32(_MOMENT_PIECE_COLUMNS)
        built = int(pieces[pieces[:, 2] > 1, 5].max(initial=0))
        # One float64 table, at most 2 n_jobs float32 group buffers (_moment_table32).
        single = (8.0 * self.size + 2 * jobs * 4.0 * self.size
                  + jobs * 4.0 * rows * (2 * D + self.starts[d] + built))
        scatter = (4.0 * D * max(d, 1) + 8.0 * (D + n * (d + 1) * (2 * d + 8))
                   + 16.0 * (2 * d + 1) ** 2 * n + 8.0 * jobs * D)
        return max(double, single) + scatter

    def accumulate(self, F, W, table):
        """Add the products of one chunk of rows (explicit rows ``F`` on ``X``,
        levels ``0..d``, and ``W`` on ``X**2``, levels ``0..d-1``) to ``table``
        (float64; each merged group as the staircase of :meth:`staircase`)."""
        st = self.starts
        for a, (offset, width) in self.dense.items():
            out = table[offset:offset + self.sizes[a] * width].reshape(self.sizes[a], width)
            if a == 0:  # sums of the squares: W's levels < d, then F_d ** 2
                lower = st[self.d]
                out[0, :lower] += W[:, :lower].sum(axis=0)
                top = F[:, lower:]
                out[0, lower:] += np.einsum("ij,ij->j", top, top)
                continue
            out += F[:, st[a]:st[a + 1]].T @ W[:, :width]
        for a1, a2, wk, groups, lexstart, _ in self.ordered.values():
            left = F[:, st[a1]:st[a1 + 1]][:, self.colex(a1)]
            right_level = F[:, st[a2]:st[a2 + 1]]
            for group in groups:
                lo, hi, rows, cols, off = group
                right = right_level[:, lexstart[lo]:lexstart[hi + 1]]
                if wk > 1:
                    right = (right[:, :, None] * W[:, None, :wk]).reshape(len(F), cols)
                out = table[off:off + rows * cols].reshape(rows, cols)
                nc = int(lexstart[hi + 1] - lexstart[lo])
                for r0, r1, c0, c1 in self.staircase(a1, lexstart, group, nc):
                    out[r0:r1, c0 * wk:c1 * wk] += left[:, r0:r1].T @ right[:, c0 * wk:c1 * wk]

    @staticmethod
    def staircase(a1, lexstart, group, stop, start=0):
        """The products that compute columns ``start:stop`` (in right-level
        columns, before ``wk``) of a merged ``group`` of an ordered level,
        as ``(r0, r1, c0, c1)``: left rows ``r0:r1`` against columns ``c0:c1``.

        The columns of ``t`` need only the first ``C(t, a1)`` left rows
        (the ``a1``-subsets of ``range(t)``), so the first ``t``'s prefix
        goes against every column and each later ``t``'s added
        ``C(t - 1, a1 - 1)`` rows against the columns from ``t`` on: no
        unused slot of the group is computed (n = 32, d = 3, 20,000 rows:
        110 GFLOP against 118 for whole blocks at 16 x 64, 131 at
        32 x 128); those slots stay as they were and no scatter reads them."""
        lo, hi = group[:2]
        # t_start[t - lo]: the group's first column of t (the last entry its width)
        t_start = [int(lexstart[t] - lexstart[lo]) for t in range(lo, hi + 2)]
        t0 = lo + bisect.bisect_right(t_start, start) - 1
        t1 = lo + bisect.bisect_right(t_start, stop - 1) - 1
        steps = [(0, math.comb(t0, a1), start)] + [
            (math.comb(t - 1, a1), math.comb(t, a1), t_start[t - lo])
            for t in range(t0 + 1, t1 + 1)]
        return [(r0, r1, c0, stop) for r0, r1, c0 in steps if r1 > r0]

    def products32(self, piece_columns: int) -> np.ndarray:
        """The products of :meth:`accumulate` as rows of
        :func:`sparselearn._kernels._moments.moment_products32` (``F``: 0,
        ``W``: 1, the colexicographic ``F``: 2): the dense levels as
        ``W^T F_a``, each ordered group as (right block)``^T`` left prefix,
        a right block of ``wk > 1`` split into pieces of at most
        ``piece_columns`` columns of ``F`` (its ``F x W`` operand is built
        per piece: a smaller buffer, in cache for the product).

        Each group (or piece) is the staircase of :meth:`staircase`."""
        st, rows_out = self.starts, []
        for a, (offset, width) in self.dense.items():
            if a:
                rows_out.append((1, 0, 1, 0, st[a], width, self.sizes[a], offset, width))
        for a1, a2, wk, groups, lexstart, _ in self.ordered.values():
            for group in groups:
                lo, hi, rows, cols, off = group
                first, nc = st[a2] + lexstart[lo], int(lexstart[hi + 1] - lexstart[lo])
                step = nc if wk == 1 else max(1, piece_columns)
                for c0 in range(0, nc, step):
                    for r0, r1, cs, ce in self.staircase(a1, lexstart, group, min(nc, c0 + step),
                                                         c0):
                        rows_out.append((0, first + cs, wk, 2, st[a1] + r0, (ce - cs) * wk,
                                         r1 - r0, off + r0 * cols + cs * wk, cols))
        return np.array(rows_out, dtype=np.int64).reshape(-1, 9)

    def scatter_arrays(self) -> tuple:
        """The arguments of :func:`sparselearn._kernels._moments.scatter_moments`
        that describe the plan: each subset's sorted elements (``D x
        max(d, 1)`` int32, levels by ``starts``), ``C(n, p)``, the rank
        terms ``C(n - 1 - v, p - j)``, the dense levels' offsets and widths,
        ``wk`` and ``where`` of the ordered levels, ``C(v, t)``."""
        n, d, D = self.n, self.d, self.n_features
        width = max(d, 1)
        elems = np.zeros((D, width), dtype=np.int32)
        for p in range(1, d + 1):
            elems[self.starts[p]:self.starts[p + 1], :p] = _combinations(n, p)
        terms = np.zeros((d + 1, width, n), dtype=np.int64)
        for p in range(1, d + 1):
            terms[p, :p] = _lex_rank_terms(n, p)
        wk = np.zeros(2 * d + 1, dtype=np.int64)
        where = np.zeros((3, 2 * d + 1, n), dtype=np.int64)
        for a, (_, _, wk_a, _, _, where_a) in self.ordered.items():
            wk[a], where[:, a] = wk_a, where_a
        dense = np.array([self.dense[a] for a in range(d + 1)], dtype=np.int64).reshape(-1, 2)
        binom = np.array([[math.comb(v, t) for t in range(d + 1)] for v in range(n)],
                         dtype=np.int64).reshape(n, d + 1)
        return (elems, np.array(self.starts, dtype=np.int64),
                np.array(self.sizes, dtype=np.int64), terms,
                np.ascontiguousarray(dense[:, 0]), np.ascontiguousarray(dense[:, 1]),
                wk, where, binom)

    def counts(self) -> np.ndarray:
        """``counts[t, i] = C(n - 1 - i, t - 1)`` (``t = 1..d``; row 0 unused),
        the lexicographic recursion of the explicit rows."""
        return np.array([[math.comb(self.n - 1 - i, t - 1) if t else 0 for i in range(self.n)]
                         for t in range(self.d + 1)], dtype=np.int64).reshape(self.d + 1, self.n)

    def index(self, A, B) -> np.ndarray:
        """Positions in the table of the moments ``M(A, B)`` (sorted element
        columns, lists of arrays; ``A`` and ``B`` disjoint)."""
        n, a, k = self.n, len(A), len(B)
        rB = (_lex_rank(B, n, k) if k else 0) + self.starts[k]
        if a <= self.d:
            offset, width = self.dense[a]
            return offset + (_lex_rank(A, n, a) if a else 0) * width + rB
        a1, a2, wk, _, _, where = self.ordered[a]
        t = A[a1].astype(np.int64)
        row = np.zeros(len(t), dtype=np.int64)
        for i in range(a1):
            row += np.array([math.comb(v, i + 1) for v in range(n)])[A[i]]
        col = (_lex_rank(A[a1:], n, a2) - where[2][t]) * wk + rB
        return where[0][t] + row * where[1][t] + col


def _moment_rows(D: int) -> int:
    """Rows per chunk of :func:`_moment_gram`: its products' inner dimension."""
    return int(max(256, 4 * _CHUNK_BYTES // (8 * D)))


def _moment_gram(design, G, Y=None, products=np.float64):
    r"""The upper triangle of :math:`P^\top P` written into ``G`` (Fortran-ordered
    ``D x D`` float64 or float32, real domain) from its distinct moments
    (:class:`_MomentPlan`); returns :math:`P^\top Y` when ``Y`` (``(m, c)``,
    float64 products only) is given.  :func:`_moment_table`, then
    :func:`_scatter_moments` unscaled."""
    table, B = _moment_table(design, Y, products)
    _scatter_moments(_MomentPlan(design.n_features, design.degree), table, G, design.n_jobs)
    return B


def _moment_table(design, Y=None, products=np.float64):
    r"""The distinct moments of a real design (the table of :class:`_MomentPlan`,
    float64) and :math:`P^\top Y` when ``Y`` is given (``None`` otherwise).

    With float64 ``products`` every moment is a sum over the same rows of the
    same products as the explicit Gram, in another order: equal to rounding
    (:meth:`_MomentPlan.accumulate`).  ``products=np.float32`` builds the
    chunk's rows in single precision and runs the products as ``sgemm``
    (twice the BLAS rate) accumulating into a float32 table with
    ``beta = 1`` (:mod:`sparselearn._kernels._moments`), flushed into the
    float64 one every ``_MOMENT_FLUSH_ROWS`` rows: moments then carry
    relative errors of about ``1e-7`` to ``1e-6`` (a preconditioner's
    accuracy, :func:`_solve_sketch`), the same on any number of threads
    (:func:`_moment_table32`).  With float64 products the rows are split
    into ``design.n_jobs`` contiguous shares, each on its own thread with
    its own table (one BLAS thread each), summed at the end.
    """
    m, n, d = design.n_samples, design.n_features, design.degree
    plan = _MomentPlan(n, d)
    D = plan.n_features
    single = products == np.float32
    if single and Y is not None:
        raise ValueError("P^T Y needs float64 products (products=np.float64)")
    rows = min(m, _moment_rows(D))
    X = design._X
    if single:
        return _moment_table32(plan, X, rows, design.n_jobs), None
    jobs = max(1, min(design.n_jobs, -(-m // rows)))
    edges = np.linspace(0, m, jobs + 1).astype(int)

    def share(lo, hi):
        table = np.zeros(plan.size)
        B = None if Y is None else np.zeros((D, Y.shape[1]))
        F = np.empty((min(rows, hi - lo), D))
        # X**2's levels below d only: no product reads level d of W (its
        # column sums are those of F_d ** 2), 4960 of 5489 columns at n = 32,
        # d = 3.
        W = np.empty((F.shape[0], plan.starts[d]))
        for start in range(lo, hi, rows):
            stop = min(start + rows, hi)
            k = stop - start
            design._explicit_rows(start, stop, F[:k])
            if d:  # (parity_levels writes the constant column even for no levels)
                _parity.parity_levels(np.square(X[start:stop]), design._level_counts,
                                      design._level_starts, W[:k])
            if B is not None:
                B += F[:k].T @ Y[start:stop]
            plan.accumulate(F[:k], W[:k], table)
        return table, B

    with _one_thread_blas():
        if jobs == 1:
            return share(0, m)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(share, edges[:-1], edges[1:]))
    table, B = parts[0]
    for other, other_B in parts[1:]:
        table += other
        if B is not None:
            B += other_B
    return table, B


def _moment_table32(plan, X, rows, n_jobs):
    r"""The float64 moment table of ``X`` from float32 products
    (:func:`_moment_table`), in groups of ``_MOMENT_FLUSH_ROWS`` rows.

    Each group's products are summed over its chunks of ``rows`` rows, in
    order, into a float32 buffer, and the buffers are added to the float64
    table in group order: the table is the same bit for bit on any number
    of threads.  The threads take the groups one at a time (a thread slowed
    by another process on its core takes fewer, where fixed halves of the
    rows made the fast thread wait); a finished group waits in its buffer
    until the groups before it are added, at most ``n_jobs`` of them (then
    its thread waits too, unless it holds the next group to add).
    """
    import threading

    m, d, D = X.shape[0], plan.d, plan.n_features
    counts, binom = plan.counts(), plan.scatter_arrays()[-1]
    starts = np.array(plan.starts, dtype=np.int64)
    kernel_products = plan.products32(_MOMENT_PIECE_COLUMNS)
    built = int(kernel_products[kernel_products[:, 2] > 1, 5].max(initial=0))
    size = max(rows, _MOMENT_FLUSH_ROWS // rows * rows)
    groups = [(lo, min(m, lo + size)) for lo in range(0, m, size)]
    jobs = max(1, min(n_jobs, len(groups)))
    table = np.zeros(plan.size)
    claim = itertools.count()  # next() is atomic under the GIL
    ready = threading.Condition()
    state = {"added": 0, "pending": {}, "free": [], "failed": False}

    def guarded():
        try:
            work()
        except BaseException:  # wake the others, which may wait for this group
            with ready:
                state["failed"] = True
                ready.notify_all()
            raise

    def work():
        k = min(rows, m)
        F, C = np.empty((k, D), np.float32), np.empty((k, D), np.float32)
        # X**2's levels below d only: no product reads level d of W.
        W = np.empty((k, plan.starts[d]), np.float32)
        R = np.empty(max(1, k * built), np.float32)
        while (g := next(claim)) < len(groups) and not state["failed"]:
            with ready:
                while (len(state["pending"]) >= jobs and g != state["added"]
                       and not state["failed"]):
                    ready.wait()
                free = state["free"]
                partial = free.pop() if free else np.zeros(plan.size, dtype=np.float32)
            for start in range(groups[g][0], groups[g][1], rows):
                stop = min(start + rows, groups[g][1])
                k = stop - start
                _moments.moment_rows32(X[start:stop], counts, starts, binom,
                                       F[:k], W[:k], C[:k])
                _moments.moment_products32(F[:k], W[:k], C[:k], R, kernel_products,
                                           plan.starts[d], partial)
            with ready:
                state["pending"][g] = partial
                while state["added"] in state["pending"]:
                    done = state["pending"].pop(state["added"])
                    # Overflowed float32 sums (inf, or inf - inf) are left for
                    # the caller's finiteness test (_solve_sketch falls back).
                    with np.errstate(over="ignore", invalid="ignore"):
                        np.add(table, done, out=table)
                    done[:] = 0.0
                    state["free"].append(done)
                    state["added"] += 1
                ready.notify_all()

    with _one_thread_blas():
        if jobs == 1:
            work()
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for future in [pool.submit(guarded) for _ in range(jobs)]:
                    future.result()
    return table


def _scatter_moments(plan, table, G, n_jobs, factor=1.0, shift=0.0, scale=None):
    r"""Every upper-triangle entry of ``G`` (Fortran-ordered ``D x D``, float32
    or float64) from the moment table:
    :math:`G_{ij} = (\mathrm{factor}\, M(S_i \triangle S_j, S_i \cap S_j)
    + \mathrm{shift}\,[i = j])\, s_i s_j` (``scale`` ``s``, ones by default),
    on ``n_jobs`` threads (:func:`sparselearn._kernels._moments.scatter_moments`).
    The strict lower triangle is left as it was."""
    D = plan.n_features
    scale = np.ones(D) if scale is None else np.ascontiguousarray(scale, dtype=np.float64)
    _moments.scatter_moments(table, *plan.scatter_arrays(), scale, float(factor),
                             float(shift), G.T, max(1, n_jobs))


def _use_moments(design) -> bool:
    """Whether :func:`_moment_gram` forms the Gram (real domain, at least
    ``_MOMENT_MIN_ROWS`` rows, ``D`` of at
    least ``_MOMENT_MIN_FEATURES`` and a table of at most ``_MOMENT_MAX_SHARE``
    of ``D^2 / 2`` entries) rather than ``syrk`` on the explicit rows."""
    return _moments_apply(design.n_features, design.degree, design.domain,
                          design.n_samples)


def _moments_apply(n: int, degree: int, domain: str, m: int) -> bool:
    """:func:`_use_moments` from ``n``, ``d``, the domain and ``m``."""
    if domain != "real" or m < _MOMENT_MIN_ROWS:
        return False
    D = sum(math.comb(n, t) for t in range(degree + 1))
    return (D >= _MOMENT_MIN_FEATURES
            and _MomentPlan(n, degree).size <= _MOMENT_MAX_SHARE * D * D / 2)


def _normal_equations(design: ParityDesign, Y):
    r"""The upper triangle of :math:`G = P^\top P` (Fortran-ordered ``D x D``;
    the strict lower triangle is zero) and :math:`B = P^\top Y` (``(D, c)``)."""
    D = design.n_output_features
    m = design.n_samples
    if _use_moments(design):
        G = np.zeros((D, D), order="F")
        return G, _moment_gram(design, G, Y)
    # Each chunk's product rewrites all of G: chunks of at least D / 4 rows
    # (a quarter of G's bytes) keep that update compute-bound; 2 MiB chunks
    # (48 rows at D = 5489) made it memory-bound.
    rows = int(max(1, min(m, max(_CHUNK_BYTES // (8 * D), D // 4))))
    # Only G's upper triangle is accumulated (BLAS syrk, half the flops of a
    # general product); chunk rows are C-ordered, so their transpose is the
    # Fortran-ordered D x k operand syrk wants, without a copy.
    G = np.zeros((D, D), order="F")
    B = np.zeros((D, Y.shape[1]))
    features = np.empty((rows, D))
    syrk = scipy.linalg.get_blas_funcs("syrk", (G,))
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        k = stop - start
        design._explicit_rows(start, stop, features[:k])
        G = syrk(1.0, features[:k].T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        B += features[:k].T @ Y[start:stop]
    return G, B
