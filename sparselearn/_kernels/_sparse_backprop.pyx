# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Sparse forward and backward passes of the approximate-ERM trainer.

A minibatch step of :class:`sparselearn.erm.SparseReLURegressor` works on the
inner products ``G = X @ W.T`` (BLAS, in the caller) and the biases ``b``: the
pre-activation of unit ``j`` on row ``i`` is ``z_ij = G[i, j] - b[j]`` and the
unit is active when ``z_ij > 0`` (docs/theory.rst, section 2).

- :func:`ranked_supports` stores each row's active units in CSR form, the
  ``min(k, a_i)`` largest pre-activations first (the *kept* units).
- :func:`capped_output` evaluates the network on the kept units (or on all
  active units) from the CSR entries.
- :func:`sparse_backward` accumulates the gradients from the CSR entries
  only, so a step costs ``O(nnz * n)`` with ``nnz <= m_batch * k`` once the
  network is sparse, instead of the dense ``O(m_batch * s * n)``.
- :func:`adam_step` is a fused, projected Adam update.

NumPy twins: :mod:`sparselearn._reference.sparse_backprop`.
"""
import numpy as np

from cython.parallel cimport prange
from libc.math cimport sqrt


cdef inline long long _rank_top_k(long long[::1] indices, double[::1] values,
                                  long long start, long long stop, Py_ssize_t k) noexcept nogil:
    """Partial selection sort of one row's entries ``[start, stop)``: the first
    ``min(k, stop - start)`` become the largest values in decreasing order,
    ties broken by the lower unit index; returns that count."""
    cdef long long kept = stop - start, p, q, best, tmp_index
    cdef double tmp_value
    if kept > k:
        kept = k
    for p in range(start, start + kept):
        best = p
        for q in range(p + 1, stop):
            if values[q] > values[best] or (values[q] == values[best]
                                            and indices[q] < indices[best]):
                best = q
        if best != p:
            tmp_index = indices[p]
            indices[p] = indices[best]
            indices[best] = tmp_index
            tmp_value = values[p]
            values[p] = values[best]
            values[best] = tmp_value
    return kept


def ranked_supports(const double[:, ::1] G, const double[::1] b, Py_ssize_t k,
                    const long long[::1] indptr, long long[::1] indices,
                    double[::1] values, long long[::1] n_kept):
    """Active units of each row, the ``k`` largest pre-activations first.

    Row ``i`` gets its ``a_i`` active units in ``indices[indptr[i]:indptr[i+1]]``
    and their pre-activations ``G[i, j] - b[j]`` in ``values``; ``indptr``
    must be the cumulative active counts (``_network.count_active``).  The
    first ``n_kept[i] = min(k, a_i)`` entries are the largest pre-activations
    in decreasing order, ties broken by the lower unit index; the remaining
    (excess) entries follow in unspecified order.  Partial selection sort:
    ``O(s + k a_i)`` per row.
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j
    cdef long long start, pos
    cdef double z
    for i in prange(m, nogil=True, schedule="static"):
        start = indptr[i]
        pos = start
        for j in range(s):
            z = G[i, j] - b[j]
            if z > 0.0:
                indices[pos] = j
                values[pos] = z
                pos = pos + 1
        n_kept[i] = _rank_top_k(indices, values, start, pos, k)


def capped_output(const long long[::1] indptr, const long long[::1] indices,
                  const double[::1] values, const long long[::1] n_kept,
                  const double[::1] u, bint cap, double[::1] out, double[::1] excess):
    """Network output from ranked supports, and the excess pre-activation per row.

    ``out[i] = sum_e u[indices[e]] * values[e]`` over the kept entries of row
    ``i`` when ``cap`` is true (the top-``k`` network), over all its active
    entries otherwise.  ``excess[i]`` is the sum of ``values`` over the excess
    entries of row ``i`` (positions ``>= n_kept[i]``), the unscaled
    activation-budget penalty.
    """
    cdef Py_ssize_t m = indptr.shape[0] - 1, i
    cdef long long e, contrib_stop
    cdef double acc, over
    for i in prange(m, nogil=True, schedule="static"):
        acc = 0.0
        contrib_stop = indptr[i + 1]
        if cap:
            contrib_stop = indptr[i] + n_kept[i]
        for e in range(indptr[i], contrib_stop):
            acc = acc + u[indices[e]] * values[e]
        out[i] = acc
        over = 0.0
        for e in range(indptr[i] + n_kept[i], indptr[i + 1]):
            over = over + values[e]
        excess[i] = over


def sparse_backward(const double[:, ::1] X, const double[::1] r, const double[::1] u,
                    const long long[::1] indptr, const long long[::1] indices,
                    const double[::1] values, const long long[::1] n_kept,
                    bint cap, double penalty,
                    double[:, ::1] grad_w, double[::1] grad_b, double[::1] grad_u):
    """Gradients of ``sum_i r_i h(x_i) + penalty * (excess pre-activations)``.

    With ``C`` the contributing entries (kept ones if ``cap``, else all
    active ones) and ``E`` the excess entries (rank ``> k``), the derivative
    with respect to the pre-activation ``z_e`` of entry ``e = (i, j)`` is
    ``a_e = [e in C] r_i u_j + [e in E] penalty`` and

    - ``grad_w[j] = sum_{e in unit j} a_e x_i``,
    - ``grad_b[j] = -sum_{e in unit j} a_e``,
    - ``grad_u[j] = sum_{e in C, unit j} r_i z_e``.

    The arrays are overwritten.  The entries are regrouped by unit
    (counting sort, ``O(nnz + s)``) so that units are independent and
    processed in parallel without atomics; each unit sums its entries in
    row order, so the result does not depend on the thread count.  Only
    the ``nnz`` touched entries cost ``O(n)`` each.
    """
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = grad_w.shape[0]
    cdef Py_ssize_t i, j, t, e, pos
    cdef long long contrib_stop, kept_stop
    cdef double a, zu
    cdef long long[::1] unit_ptr = np.zeros(s + 1, dtype=np.int64)
    cdef long long[::1] fill = np.empty(s, dtype=np.int64)
    cdef Py_ssize_t nnz = indptr[m] - indptr[0]
    cdef long long[::1] rows = np.empty(nnz, dtype=np.int64)
    cdef double[::1] coef = np.empty(nnz, dtype=np.float64)
    cdef double[::1] ucoef = np.empty(nnz, dtype=np.float64)
    cdef long long touched = 0
    with nogil:
        # Counting sort of the touched entries by unit (serial, O(nnz + s)).
        for i in range(m):
            contrib_stop = indptr[i + 1]
            kept_stop = indptr[i] + n_kept[i]
            if cap:
                contrib_stop = kept_stop
            if penalty == 0.0 and contrib_stop < indptr[i + 1]:
                # Excess entries with no penalty have a zero gradient: skip them.
                for e in range(indptr[i], contrib_stop):
                    unit_ptr[indices[e] + 1] += 1
            else:
                for e in range(indptr[i], indptr[i + 1]):
                    unit_ptr[indices[e] + 1] += 1
        for j in range(s):
            unit_ptr[j + 1] += unit_ptr[j]
            fill[j] = unit_ptr[j]
        for i in range(m):
            kept_stop = indptr[i] + n_kept[i]
            contrib_stop = kept_stop if cap else indptr[i + 1]
            for e in range(indptr[i], indptr[i + 1]):
                if e < contrib_stop:
                    a = r[i] * u[indices[e]]
                    zu = r[i] * values[e]
                else:
                    a = 0.0
                    zu = 0.0
                if e >= kept_stop:
                    if penalty == 0.0 and e >= contrib_stop:
                        continue
                    a = a + penalty
                j = indices[e]
                pos = fill[j]
                fill[j] = pos + 1
                rows[pos] = i
                coef[pos] = a
                ucoef[pos] = zu
        # Each unit owns its gradient row: no two threads write the same memory.
        for j in prange(s, schedule="dynamic"):
            for t in range(n):
                grad_w[j, t] = 0.0
            grad_b[j] = 0.0
            grad_u[j] = 0.0
            for pos in range(unit_ptr[j], unit_ptr[j + 1]):
                a = coef[pos]
                i = rows[pos]
                for t in range(n):
                    grad_w[j, t] = grad_w[j, t] + a * X[i, t]
                grad_b[j] = grad_b[j] - a
                grad_u[j] = grad_u[j] + ucoef[pos]


def adam_step(double[:, ::1] P, const double[:, ::1] grad, double[:, ::1] m1,
              double[:, ::1] m2, double step, double beta1, double beta2, double eps,
              double radius):
    """One Adam update of ``P`` followed by projection of each row onto a ball.

    ``m1 = beta1 m1 + (1 - beta1) grad``, ``m2 = beta2 m2 + (1 - beta2) grad^2``,
    ``P -= step * m1 / (sqrt(m2) + eps)`` (``step`` carries the bias
    correction), then every row with Euclidean norm above ``radius`` is
    rescaled to norm ``radius * (1 - 4 eps_mach)``, inside the ball despite
    rounding.  A negative ``radius`` means no projection.
    """
    cdef Py_ssize_t rows = P.shape[0], cols = P.shape[1], i, t
    cdef double g, norm2, scale
    for i in prange(rows, nogil=True, schedule="static"):
        norm2 = 0.0
        for t in range(cols):
            g = grad[i, t]
            m1[i, t] = beta1 * m1[i, t] + (1.0 - beta1) * g
            m2[i, t] = beta2 * m2[i, t] + (1.0 - beta2) * g * g
            P[i, t] = P[i, t] - step * m1[i, t] / (sqrt(m2[i, t]) + eps)
            norm2 = norm2 + P[i, t] * P[i, t]
        if radius >= 0.0 and norm2 > radius * radius:
            scale = radius / sqrt(norm2) * (1.0 - 8.881784197001252e-16)
            for t in range(cols):
                P[i, t] = P[i, t] * scale


def fused_supports(const double[:, ::1] G, const double[::1] b, Py_ssize_t k,
                   long long[::1] indptr, long long[::1] indices, double[::1] values,
                   long long[::1] n_kept):
    """:func:`ranked_supports` and its counting pass in one scan of ``G``.

    Writes ``indptr`` (``indptr[0]`` is set to 0; ``indptr[i+1] - indptr[i]``
    is the active count ``a_i`` of row ``i``) and the same ``indices``,
    ``values`` and ``n_kept`` as :func:`ranked_supports` given that
    ``indptr``.  ``indices`` and ``values`` need room for ``m * s`` entries
    (the most there can be).  One pass: each block of 8 units is first
    tested as a whole, so a sparse row costs little more than reading it.
    Serial (rows run in order, each row's entries follow the previous
    row's).
    """
    cdef Py_ssize_t m = G.shape[0], s = G.shape[1], i, j, j0, blocks = s - s % 8
    cdef long long start, pos = 0
    cdef double z
    cdef const double* g
    cdef const double* bb = &b[0]
    cdef bint any_active
    with nogil:
        indptr[0] = 0
        for i in range(m):
            g = &G[i, 0]
            start = pos
            for j0 in range(0, blocks, 8):
                any_active = ((g[j0] - bb[j0] > 0.0) | (g[j0 + 1] - bb[j0 + 1] > 0.0)
                              | (g[j0 + 2] - bb[j0 + 2] > 0.0) | (g[j0 + 3] - bb[j0 + 3] > 0.0)
                              | (g[j0 + 4] - bb[j0 + 4] > 0.0) | (g[j0 + 5] - bb[j0 + 5] > 0.0)
                              | (g[j0 + 6] - bb[j0 + 6] > 0.0) | (g[j0 + 7] - bb[j0 + 7] > 0.0))
                if any_active:
                    for j in range(j0, j0 + 8):
                        z = g[j] - bb[j]
                        if z > 0.0:
                            indices[pos] = j
                            values[pos] = z
                            pos = pos + 1
            for j in range(blocks, s):
                z = g[j] - bb[j]
                if z > 0.0:
                    indices[pos] = j
                    values[pos] = z
                    pos = pos + 1
            indptr[i + 1] = pos
            n_kept[i] = _rank_top_k(indices, values, start, pos, k)


def sparse_backward_touched(const double[:, ::1] X, const double[::1] r,
                            const double[::1] u, const long long[::1] indptr,
                            const long long[::1] indices, const double[::1] values,
                            const long long[::1] n_kept, bint cap, double penalty,
                            long long[::1] touched, double[:, ::1] grad_w,
                            double[::1] grad_b, double[::1] grad_u):
    """:func:`sparse_backward` on the touched units only, in compact rows.

    The *touched* units are those with at least one entry in the supports
    (active on some row of the minibatch, kept or excess).  Writes their
    indices, increasing, to ``touched[:T]`` and returns ``T``; row ``q < T``
    of ``grad_w``, ``grad_b`` and ``grad_u`` is the gradient of unit
    ``touched[q]``, equal to the bit to row ``touched[q]`` of
    :func:`sparse_backward` on the same arguments (same summation order);
    every other unit's gradient is zero and is not written.  Cost
    ``O(nnz * n + s)`` (the ``O(s)`` part is one integer pass); the arrays
    need ``s`` rows.
    """
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1], s = u.shape[0]
    cdef Py_ssize_t i, j, t, e, pos, q
    cdef long long contrib_stop, kept_stop, n_touched = 0
    cdef double a, zu
    cdef long long[::1] unit_ptr = np.zeros(s + 1, dtype=np.int64)
    cdef long long[::1] fill = np.empty(s, dtype=np.int64)
    cdef Py_ssize_t nnz = indptr[m] - indptr[0]
    cdef long long[::1] rows = np.empty(nnz, dtype=np.int64)
    cdef double[::1] coef = np.empty(nnz, dtype=np.float64)
    cdef double[::1] ucoef = np.empty(nnz, dtype=np.float64)
    with nogil:
        # Counting sort by unit of every entry (zero-gradient excess entries
        # included: they make their unit touched).
        for e in range(indptr[0], indptr[m]):
            unit_ptr[indices[e] + 1] += 1
        for j in range(s):
            if unit_ptr[j + 1] > 0:
                touched[n_touched] = j
                n_touched = n_touched + 1
            unit_ptr[j + 1] += unit_ptr[j]
            fill[j] = unit_ptr[j]
        for i in range(m):
            kept_stop = indptr[i] + n_kept[i]
            contrib_stop = kept_stop if cap else indptr[i + 1]
            for e in range(indptr[i], indptr[i + 1]):
                if e < contrib_stop:
                    a = r[i] * u[indices[e]]
                    zu = r[i] * values[e]
                else:
                    a = 0.0
                    zu = 0.0
                if e >= kept_stop:
                    a = a + penalty
                j = indices[e]
                pos = fill[j]
                fill[j] = pos + 1
                rows[pos] = i
                coef[pos] = a
                ucoef[pos] = zu
        for q in prange(n_touched, schedule="dynamic"):
            j = touched[q]
            for t in range(n):
                grad_w[q, t] = 0.0
            grad_b[q] = 0.0
            grad_u[q] = 0.0
            for pos in range(unit_ptr[j], unit_ptr[j + 1]):
                a = coef[pos]
                i = rows[pos]
                if a == 0.0 and ucoef[pos] == 0.0:
                    continue
                for t in range(n):
                    grad_w[q, t] = grad_w[q, t] + a * X[i, t]
                grad_b[q] = grad_b[q] - a
                grad_u[q] = grad_u[q] + ucoef[pos]
    return n_touched


def lazy_adam_step(double[:, ::1] P, const double[:, ::1] grad, double[:, ::1] m1,
                   double[:, ::1] m2, const long long[::1] rows, Py_ssize_t n_rows,
                   double step, double beta1, double beta2, double eps, double radius):
    """:func:`adam_step` on the rows ``rows[:n_rows]`` of ``P``, ``m1``, ``m2`` only.

    Row ``rows[q]`` of ``P`` and of the moments gets exactly the update
    :func:`adam_step` gives it, with gradient row ``grad[q]`` (compact: one
    gradient row per listed row); the other rows are left as they are (lazy
    Adam).  ``rows`` must be distinct.
    """
    cdef Py_ssize_t cols = P.shape[1], q, i, t
    cdef double g, norm2, scale
    for q in prange(n_rows, nogil=True, schedule="static"):
        i = rows[q]
        norm2 = 0.0
        for t in range(cols):
            g = grad[q, t]
            m1[i, t] = beta1 * m1[i, t] + (1.0 - beta1) * g
            m2[i, t] = beta2 * m2[i, t] + (1.0 - beta2) * g * g
            P[i, t] = P[i, t] - step * m1[i, t] / (sqrt(m2[i, t]) + eps)
            norm2 = norm2 + P[i, t] * P[i, t]
        if radius >= 0.0 and norm2 > radius * radius:
            scale = radius / sqrt(norm2) * (1.0 - 8.881784197001252e-16)
            for t in range(cols):
                P[i, t] = P[i, t] * scale
