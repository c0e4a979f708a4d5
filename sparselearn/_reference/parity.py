"""NumPy twins of :mod:`sparselearn._kernels._parity`.

Each function unpacks the bit-packed points and subset masks and builds the
explicit feature matrix ``P[i, s] = chi_{S_s}(x_i) = prod_{j in S_s} x_ij``
with plain array operations (no bit tricks); the tests check it against
the coordinate products written out.  Memory is ``O(m * D)``: tests and
benchmarks only.
"""
import numpy as np


def unpack(words, n):
    """``(rows, ceil(n/64))`` uint64 words -> ``(rows, n)`` float64 +-1 (bit set = -1)."""
    words = np.ascontiguousarray(words, dtype=np.uint64)
    bits = (words[:, :, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    bits = bits.reshape(words.shape[0], -1)[:, :n]
    return 1.0 - 2.0 * bits.astype(np.float64)


def parity_features(xbits, masks):
    r"""The explicit ``(m, D)`` feature matrix.

    :math:`\chi_S(x) = (-1)^{c}` with ``c`` the number of coordinates of
    ``S`` where ``x`` is -1, counted by a float matrix product of the 0/1
    indicator matrices (exact for integers).
    """
    n = 64 * xbits.shape[1]
    negative = (unpack(xbits, n) < 0).astype(np.float64)  # (m, n)
    member = (unpack(masks, n) < 0).astype(np.float64)    # (D, n): j in S
    counts = negative @ member.T
    return 1.0 - 2.0 * np.mod(counts, 2.0)


def parity_matvec(xbits, masks, coef):
    """Predictions ``P @ coef``."""
    return parity_features(xbits, masks) @ coef


def parity_rmatvec(xbits, masks, r):
    """Correlations ``P.T @ r``."""
    return parity_features(xbits, masks).T @ r


def parity_levels(X, degree):
    """Parities of degree ``<= degree`` of the +-1 rows of ``X``, by size then
    lexicographically (itertools order), as explicit column products."""
    from itertools import combinations
    n = X.shape[1]
    subsets = [S for t in range(degree + 1) for S in combinations(range(n), t)]
    out = np.ones((X.shape[0], len(subsets)))
    for column, S in enumerate(subsets):
        for j in S:
            out[:, column] *= X[:, j]
    return out


def quadratic_normal(X, c0, c1, U):
    """``(g, M)``: ``g = (sum_r p_r, sum_r p_r x_r)`` and ``M = sum_r p_r x_r x_r^T``
    for ``p_r = c0 + c1 . x_r + x_r^T U x_r``, in float64."""
    X = np.asarray(X, dtype=np.float64)
    p = c0 + X @ np.asarray(c1, dtype=np.float64) + np.einsum(
        "ri,ij,rj->r", X, np.asarray(U, dtype=np.float64), X)
    return np.concatenate([[p.sum()], p @ X]), (X * p[:, None]).T @ X
