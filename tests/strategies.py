"""Hypothesis strategies shared across the test modules.

``dyadic_networks`` draws weights and biases on a dyadic grid (multiples of
1/8, small magnitude), so every inner product with a +-1 point is computed
exactly in float64 and plain float code must agree bit for bit.
``tie_networks`` draws the opposite: decimals, thirds, huge integers and
planted ties, where float sums round and only exact decisions agree with
``exact_active``, the integer-arithmetic reference (``exact_values``: the
network's exact values).
"""
import itertools
from fractions import Fraction

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


def random_cube(rng, m, n):
    """``m`` uniform points of ``{-1,1}^n`` (float64) from ``rng``."""
    return rng.choice(np.array([-1.0, 1.0]), size=(m, n))


def explicit_parity_features(X, degree):
    """P[i, s] = prod_{j in S_s} X[i, j] over itertools' subsets, by size."""
    n = X.shape[1]
    subsets = [S for t in range(degree + 1) for S in itertools.combinations(range(n), t)]
    return np.column_stack([np.prod(X[:, list(S)], axis=1) for S in subsets])


def all_cube_points(n):
    """Every point of {-1,1}^n in the library's index order (brute force)."""
    index = np.arange(2**n, dtype=np.int64)
    return 1.0 - 2.0 * ((index[:, None] >> np.arange(n)) & 1).astype(np.float64)


# ------------------------------------------------- non-dyadic (exactness) inputs
# Ordinary decimals and thirds rounded to float64, and huge integers: sums of
# these round, so a computed pre-activation can land on the wrong side of 0.
decimal = st.one_of(
    st.integers(-30, 30).map(lambda k: k * 0.1),
    st.integers(-40, 40).map(lambda k: k * 0.05),
    st.integers(-9, 9).map(lambda k: k / 3),
)
huge_integer = st.integers(-2**60, 2**60).map(float)


@st.composite
def tie_networks(draw, n=st.integers(1, 10), s=st.integers(1, 8)):
    """Networks whose pre-activations are often exactly 0 or within rounding of it.

    Each unit is one of: decimal weights and bias; huge-integer weights and
    bias; an exactly cancelling pair ``(v, -v)`` of columns with bias 0 (an
    exact tie wherever the two coordinates agree); or decimal weights with
    the bias planted at the float value of ``<w, x0>`` for a random cube
    point ``x0`` (an exact pre-activation within rounding of 0 at ``x0``).
    """
    n = draw(n) if not isinstance(n, int) else n
    s = draw(s) if not isinstance(s, int) else s
    weights = np.empty((s, n))
    biases = np.empty(s)
    for j in range(s):
        kind = draw(st.sampled_from(["decimal", "huge", "cancel", "planted"]))
        values = huge_integer if kind == "huge" else decimal
        weights[j] = draw(arrays(np.float64, (n,), elements=values, fill=st.nothing()))
        biases[j] = draw(values)
        if kind == "cancel" and n >= 2:
            half = n // 2
            weights[j, half:2 * half] = -weights[j, :half]
            biases[j] = 0.0
        elif kind == "planted":
            x0 = 1.0 - 2.0 * np.array(draw(st.lists(st.integers(0, 1), min_size=n,
                                                    max_size=n)), dtype=np.float64)
            biases[j] = float(weights[j] @ x0)
    output_weights = draw(arrays(np.float64, (s,), elements=decimal, fill=st.nothing()))
    return SparseReLUNetwork(weights, biases, output_weights, draw(decimal))


def _scale_bits(a) -> int:
    """The largest ``K`` with ``2^K`` a denominator of an entry of ``a``."""
    return max(Fraction(float(v)).denominator.bit_length() - 1 for v in np.ravel(a))


def _to_int(a, bits) -> np.ndarray:
    """``a * 2^bits`` as Python integers (exact when ``bits >= _scale_bits(a)``)."""
    return np.array([int(Fraction(float(v)) * 2**bits) for v in np.ravel(a)],
                    dtype=object).reshape(np.shape(a))


def _exact_preactivations(X, weights, biases) -> tuple[np.ndarray, int]:
    """``(Z, bits)``: ``<w_j, x_i> - b_j`` exactly, as the integers ``Z * 2^-bits``.

    Every finite float64 is an integer over a power of two, so scaling by the
    largest denominator ``2^K`` among the weights and biases and ``2^L``
    among the points makes every value an integer, and the sums are done
    exactly by Python's integers.  Independent of the library's code.
    """
    K = max(_scale_bits(weights), _scale_bits(biases))
    L = _scale_bits(X)
    return _to_int(X, L).dot(_to_int(weights, K).T) - _to_int(biases, K) * 2**L, K + L


def exact_active(X, weights, biases) -> np.ndarray:
    """Boolean ``(m, s)`` mask of ``<w_j, x_i> - b_j > 0`` in exact integer arithmetic."""
    Z, _ = _exact_preactivations(X, weights, biases)
    return np.vectorize(lambda z: z > 0, otypes=[bool])(Z)


def exact_values(X, net) -> list:
    """``h(x_i)`` of a single-output network as exact :class:`~fractions.Fraction`
    values of its float64 parameters (integer arithmetic, as
    :func:`exact_active`)."""
    Z, bits = _exact_preactivations(X, net.weights, net.biases)
    relu = np.where(Z > 0, Z, 0)
    V = max(_scale_bits(net.output_weights), _scale_bits([net.output_bias]))
    H = relu.dot(_to_int(net.output_weights, V)) + _to_int([net.output_bias], V)[0] * 2**bits
    return [Fraction(int(h), 2**(bits + V)) for h in H]
