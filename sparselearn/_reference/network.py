"""NumPy twins of :mod:`sparselearn._kernels._network`."""
import numpy as np


def relu_combine(G, b, u):
    """``sum_j u[j] * max(G[:, j] - b[j], 0)`` for every row."""
    return np.maximum(G - b, 0.0) @ u


def count_active(G, b):
    """Number of strictly positive pre-activations per row (int64)."""
    return np.count_nonzero(G - b > 0.0, axis=1).astype(np.int64)


def supports(G, b):
    """CSR ``(indptr, indices)`` of the strictly positive pre-activations."""
    active = G - b > 0.0
    indptr = np.zeros(G.shape[0] + 1, dtype=np.int64)
    np.cumsum(active.sum(axis=1), out=indptr[1:])
    indices = np.nonzero(active)[1].astype(np.int64)
    return indptr, indices
