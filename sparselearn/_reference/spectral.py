"""NumPy twins of :mod:`sparselearn._kernels._spectral` (tests and benchmarks only).

Each twin computes the same quantity as the kernel function of the same
name by the plainest vectorised NumPy route, returning a new array instead
of writing into an output argument.
"""
import numpy as np


def _degrees(N):
    """``popcount(S)`` for ``S = 0 .. N-1``."""
    index = np.arange(N, dtype=np.int64)
    n = N.bit_length() - 1
    return ((index[:, None] >> np.arange(max(n, 1))) & 1).sum(axis=1)


def degree_weights(spec):
    """``W[j] = sum_{popcount(S) = j} spec[S]^2`` for ``j = 0 .. n``."""
    spec = np.asarray(spec, dtype=np.float64)
    n = spec.shape[0].bit_length() - 1
    return np.bincount(_degrees(spec.shape[0]), weights=spec**2, minlength=n + 1)[:n + 1]


def influences(spec):
    """``Inf[i] = sum_{S : bit i of S set} spec[S]^2`` for ``i = 0 .. n-1``."""
    spec = np.asarray(spec, dtype=np.float64)
    n = spec.shape[0].bit_length() - 1
    index = np.arange(spec.shape[0], dtype=np.int64)
    bits = (index[:, None] >> np.arange(n)) & 1
    return bits.T.astype(np.float64) @ spec**2
