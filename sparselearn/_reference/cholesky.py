"""NumPy twin of :mod:`sparselearn._kernels._cholesky`: the unblocked
Cholesky recursion, one column at a time (``O(D^3)`` in a Python loop over
columns; tests only)."""
import numpy as np


def cholesky_upper(G):
    """``(R, info)``: the upper ``R`` with ``G = R^T R`` from ``G``'s upper
    triangle (float64), and ``info`` as LAPACK's ``potrf`` reports it (0, or
    ``j`` when the leading minor of order ``j`` is not positive definite;
    ``R`` is then only meaningful in its first ``j - 1`` columns)."""
    G = np.triu(np.asarray(G, dtype=np.float64))
    D = G.shape[0]
    R = np.zeros_like(G)
    for j in range(D):
        column = G[:j, j].copy()
        for i in range(j):  # forward substitution: R[:j, :j]^T R[:j, j] = G[:j, j]
            column[i] = (G[i, j] - R[:i, i] @ column[:i]) / R[i, i]
        R[:j, j] = column
        pivot = G[j, j] - column @ column
        if not pivot > 0.0:
            return R, j + 1
        R[j, j] = np.sqrt(pivot)
    return R, 0


def cho_solve_upper(R, b):
    """:math:`(R^T R)^{-1} b` for the upper triangle of ``R`` (float64
    arithmetic): forward substitution on :math:`R^T z = b`, then back
    substitution on :math:`R x = z`, one entry at a time."""
    R = np.triu(np.asarray(R, dtype=np.float64))
    z = np.array(b, dtype=np.float64)
    D = len(z)
    for j in range(D):
        z[j] = (z[j] - R[:j, j] @ z[:j]) / R[j, j]
    for j in range(D - 1, -1, -1):
        z[j] = (z[j] - R[j, j + 1:] @ z[j + 1:]) / R[j, j]
    return z
