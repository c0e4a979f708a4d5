"""NumPy twins of :mod:`sparselearn._kernels._moments`.

The explicit rows from itertools' subsets (then rounded to float32), the
products as one ``numpy`` product each, and the scatter as
:meth:`sparselearn._gram._MomentPlan.index` of every pair of subsets
found with Python sets.  Tests only: memory and time are ``O(D^2)``.
"""
from itertools import combinations

import numpy as np

from .parity import parity_levels


def _colex(n, t):
    """The ``t``-subsets of ``range(n)`` in colexicographic order (by the
    largest element, then the next, ...)."""
    return sorted(combinations(range(n), t), key=lambda S: S[::-1])


def moment_rows32(X, degree):
    """``(F, W, C)`` of :func:`~sparselearn._kernels._moments.moment_rows32`:
    the monomials of degree ``<= degree`` of ``X`` (lexicographic, then
    colexicographic within each degree) and of degree ``< degree`` of
    ``X**2``, products in float64 rounded to float32."""
    m, n = X.shape
    F = parity_levels(X, degree)
    W = parity_levels(X**2, degree - 1) if degree else np.ones((m, 0))
    columns = [np.prod(X[:, list(S)], axis=1) for t in range(degree + 1)
               for S in _colex(n, t)]
    C = np.stack(columns, axis=1)
    return F.astype(np.float32), W.astype(np.float32), C.astype(np.float32)


def moment_products32(F, W, C, products, lower, table):
    """``table`` (float64 copy) plus what
    :func:`~sparselearn._kernels._moments.moment_products32` adds, each
    product as ``B.T @ A`` in float64 on the float32 operands."""
    table = np.array(table, dtype=np.float64)
    F64, W64, C64 = (np.asarray(v, dtype=np.float64) for v in (F, W, C))
    table[:lower] += W64[:, :lower].sum(axis=0)
    table[lower:F.shape[1]] += (F64[:, lower:] ** 2).sum(axis=0)
    operands = (F64, W64, C64)
    for a_src, a_col, wk, b_src, b_col, M, N, out, ldc in products:
        if wk > 1:
            block = F64[:, a_col:a_col + M // wk]
            A = (block[:, :, None] * W64[:, None, :wk]).reshape(len(F), M)
        else:
            A = operands[a_src][:, a_col:a_col + M]
        B = operands[b_src][:, b_col:b_col + N]
        product = B.T @ A  # (N, M): row j of the output block
        for j in range(N):
            table[out + j * ldc:out + j * ldc + M] += product[j]
    return table


def scatter_moments(plan, table, scale, factor, shift):
    """The ``D x D`` upper triangle of
    :func:`~sparselearn._kernels._moments.scatter_moments` (float64, zero
    below the diagonal) from ``plan.index`` of each pair's
    ``(S xor T, S and T)``."""
    n, d = plan.n, plan.d
    subsets = [S for t in range(d + 1) for S in combinations(range(n), t)]
    D = len(subsets)
    groups = {}
    for j, T in enumerate(subsets):
        for i, S in enumerate(subsets[:j + 1]):
            A, B = sorted(set(S) ^ set(T)), sorted(set(S) & set(T))
            groups.setdefault((len(A), len(B)), []).append((i, j, A, B))
    G = np.zeros((D, D))
    for (a, k), pairs in groups.items():
        A = [np.array([p[2][c] for p in pairs]) for c in range(a)]
        B = [np.array([p[3][c] for p in pairs]) for c in range(k)]
        i, j = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        value = table[plan.index(A, B)] * factor
        value = np.where(i == j, value + shift, value)
        G[i, j] = value * scale[i] * scale[j]
    return G
