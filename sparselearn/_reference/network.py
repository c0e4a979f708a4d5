"""NumPy twins of :mod:`sparselearn._kernels._network`.

Activity is decided as the library defines it: unit ``j`` is active on row
``i`` when the exact real number ``<w_j, x_i> - b_j`` is strictly positive.
The twin takes the float decision ``G - b > 0`` except inside a band
``|G - b| <= 1e-9 (|X| |W|^T + |b|)``, millions of times wider than any
rounding error, where it re-decides with :class:`fractions.Fraction`.  It
shares no code with the kernels' rounding bound, so agreement is a check.
"""
from fractions import Fraction

import numpy as np

_BAND = 1e-9


def exact_preactivation(w, x, b) -> Fraction:
    """``<w, x> - b`` in exact rational arithmetic on the float64 values."""
    return sum((Fraction(float(a)) * Fraction(float(c)) for a, c in zip(w, x)),
               -Fraction(float(b)))


def active_mask(G, X, W, b) -> np.ndarray:
    """Boolean ``(m, s)`` mask of the exactly active units."""
    Z = G - b
    mask = Z > 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        band = _BAND * (np.abs(X) @ np.abs(W).T + np.abs(b))
        near = ~(np.abs(Z) > band)          # NaN/inf (overflow) re-decided too
    for i, j in zip(*np.nonzero(near)):
        mask[i, j] = exact_preactivation(W[j], X[i], b[j]) > 0
    return mask


def relu_combine(G, X, W, b, u):
    """``sum_{j active} u[j] * max(G[:, j] - b[j], 0)`` for every row."""
    return np.where(active_mask(G, X, W, b), np.maximum(G - b, 0.0), 0.0) @ u


def masked_relu(G, X, W, b):
    """``max(G - b, 0)`` on the exactly active units, 0 elsewhere (a new array)."""
    return np.where(active_mask(G, X, W, b), np.maximum(G - b, 0.0), 0.0)


def count_active(G, X, W, b):
    """Number of exactly active units per row (int64)."""
    return np.count_nonzero(active_mask(G, X, W, b), axis=1).astype(np.int64)


def supports(G, X, W, b):
    """CSR ``(indptr, indices)`` of the exactly active units."""
    active = active_mask(G, X, W, b)
    indptr = np.zeros(G.shape[0] + 1, dtype=np.int64)
    np.cumsum(active.sum(axis=1), out=indptr[1:])
    indices = np.nonzero(active)[1].astype(np.int64)
    return indptr, indices


def count_positive(G, b):
    """Number of strictly positive computed ``G - b`` per row (int64)."""
    return np.count_nonzero(G - b > 0.0, axis=1).astype(np.int64)


def forward_rows(X, W, b, u):
    """:func:`relu_combine` with the products ``G = X @ W.T`` computed here."""
    return relu_combine(X @ W.T, X, W, b, u)


def count_rows(X, W, b):
    """:func:`count_active` with the products computed here."""
    return count_active(X @ W.T, X, W, b)


def supports_rows(X, W, b):
    """``(counts, indices)``: :func:`supports` with the products computed here."""
    indptr, indices = supports(X @ W.T, X, W, b)
    return np.diff(indptr), indices


def forward_multi_rows(X, W, b, U):
    """:func:`masked_relu` of the products ``X @ W.T``, times the ``(s, o)``
    output weights ``U``."""
    return masked_relu(X @ W.T, X, W, b) @ U


def count_rows32(X, W, b):
    """Twin of the float32-screened kernel: its counts are, by design, the
    exact ones of :func:`count_rows` (the screening changes only the speed)."""
    return count_rows(X, W, b)


def supports_rows32(X, W, b):
    """Twin of the float32-screened kernel: ``(counts, indices)`` of
    :func:`supports_rows`, the exact active supports."""
    return supports_rows(X, W, b)
