"""NumPy twins of :mod:`sparselearn._kernels._cube` (brute force, tests and benchmarks only).

Every function here enumerates the whole cube with plain bit arithmetic and
dense matrix products, in row chunks so that memory stays flat; none of it
shares code with :mod:`sparselearn.cube`, so agreement is a real check.
"""
import numpy as np

from .network import active_mask

# Points per chunk: 2^14 rows keep the (rows, s) pre-activation block small.
_CHUNK = 2**14


def points(n, start=0, stop=None):
    """Rows ``start..stop-1`` of the cube in the index convention, shape ``(stop - start, n)``.

    ``x_d = 1 - 2 * bit_d(i)``.
    """
    stop = 2**n if stop is None else stop
    index = np.arange(start, stop, dtype=np.int64)
    return 1.0 - 2.0 * ((index[:, None] >> np.arange(n, dtype=np.int64)) & 1)


def _pre_activation_chunks(weights, biases, zero_one=False):
    """``(start, stop, Z, active)``: computed pre-activations and the exact
    activity mask (:func:`sparselearn._reference.network.active_mask`), at
    the points of ``{-1,1}^n``, or at their images ``(1 - x) / 2`` in
    ``{0,1}^n`` when ``zero_one``."""
    n = weights.shape[1]
    for start in range(0, 2**n, _CHUNK):
        stop = min(start + _CHUNK, 2**n)
        X = points(n, start, stop)
        if zero_one:
            X = (1.0 - X) / 2.0
        G = X @ weights.T
        yield start, stop, G - biases, active_mask(G, X, weights, biases)


def truth_table(weights, biases, output_weights, output_bias):
    """``h(x(i))`` for every index ``i`` (float64, length ``2^n``); exactly
    inactive units contribute nothing."""
    out = np.empty(2**weights.shape[1])
    for start, stop, Z, active in _pre_activation_chunks(weights, biases):
        out[start:stop] = np.where(active, np.maximum(Z, 0.0), 0.0) @ output_weights + output_bias
    return out


def activation_histogram(weights, biases):
    """``hist[c]`` = number of points with exactly ``c`` active units."""
    s = weights.shape[0]
    hist = np.zeros(s + 1, dtype=np.int64)
    for _, _, _, active in _pre_activation_chunks(weights, biases):
        hist += np.bincount(np.count_nonzero(active, axis=1), minlength=s + 1)
    return hist


def max_active(weights, biases, zero_one=False):
    """Exhaustive ``(max_x |A(x)|, smallest index attaining it)`` over
    ``{-1,1}^n``, or over ``{0,1}^n`` (the points ``(1 - x(i)) / 2``) when
    ``zero_one``."""
    best, best_index = -1, -1
    for start, _, _, active in _pre_activation_chunks(weights, biases, zero_one):
        counts = np.count_nonzero(active, axis=1)
        top = int(np.argmax(counts))
        if counts[top] > best:
            best, best_index = int(counts[top]), start + top
    return best, best_index
