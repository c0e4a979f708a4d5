"""Hypothesis strategies shared across the test modules.

Weights and biases are drawn on a dyadic grid (multiples of 1/8, small
magnitude) so every inner product with a +-1 point is computed exactly in
float64: a pre-activation is exactly 0 when it should be, and every
implementation agrees on which units are active.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sparselearn import SparseReLUNetwork

dyadic = st.integers(min_value=-24, max_value=24).map(lambda v: v / 8.0)


@st.composite
def dyadic_networks(draw, n=st.integers(1, 10), s=st.integers(1, 12)):
    """A SparseReLUNetwork with dyadic weights, biases and output weights."""
    n = draw(n) if not isinstance(n, int) else n
    s = draw(s) if not isinstance(s, int) else s
    weights = draw(arrays(np.float64, (s, n), elements=dyadic, fill=st.nothing()))
    biases = draw(arrays(np.float64, (s,), elements=dyadic, fill=st.nothing()))
    output_weights = draw(arrays(np.float64, (s,), elements=dyadic, fill=st.nothing()))
    output_bias = draw(dyadic)
    return SparseReLUNetwork(weights, biases, output_weights, output_bias)


@st.composite
def cube_points(draw, n, m=st.integers(1, 40)):
    """An (m, n) array of +-1 points."""
    m = draw(m) if not isinstance(m, int) else m
    bits = draw(arrays(np.int8, (m, n), elements=st.integers(0, 1), fill=st.nothing()))
    return 1.0 - 2.0 * bits.astype(np.float64)


def all_cube_points(n):
    """Every point of {-1,1}^n in the library's index order (brute force)."""
    index = np.arange(2**n, dtype=np.int64)
    return 1.0 - 2.0 * ((index[:, None] >> np.arange(n)) & 1).astype(np.float64)
