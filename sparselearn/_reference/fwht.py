"""NumPy twin of :mod:`sparselearn._kernels._fwht` (tests and benchmarks only).

The twin computes the same quantity as the kernel function of the same name
by the plainest vectorised NumPy route, returning a new array instead of
transforming in place.
"""
import numpy as np


def fwht_rows(a):
    """Unnormalised Walsh-Hadamard transform of every row of ``a`` (2-D).

    Level ``l`` maps each pair ``(x[i], x[i + 2^l])`` with bit ``l`` of ``i``
    clear to ``(x[i] + x[i + 2^l], x[i] - x[i + 2^l])``, written as a
    reshape to ``(m, high, 2, 2^l)``.
    """
    x = np.array(a, copy=True)
    m, N = x.shape
    h = 1
    while h < N:
        view = x.reshape(m, N // (2 * h), 2, h)
        upper = view[:, :, 0, :].copy()
        view[:, :, 0, :] += view[:, :, 1, :]
        view[:, :, 1, :] = upper - view[:, :, 1, :]
        h *= 2
    return x
