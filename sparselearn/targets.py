r"""Oracle target networks whose sparsity is known by construction.

These are the ground truths for tests, benchmarks and PAC experiments:

- :func:`bump_network`: ``k`` groups of Hamming-ball "bump" units, each group
  1-sparse on the whole cube, so the network is ``k``-sparse on
  :math:`\{-1,1\}^n` for every ``n``, with a planted point where exactly
  ``k`` units are active.
- :func:`junta_network`: docs/theory.rst, section 3's embedding of any function of
  ``t`` coordinates as a 1-sparse network of width :math:`2^t` (parities on
  :math:`\log_2 s` bits are in the class).
- :func:`junta_sum_network`: ``k`` juntas on disjoint blocks of ``t``
  coordinates, exactly ``k`` units active everywhere and Fourier degree at
  most ``t``: the target on which the low-degree algorithm's guarantee is
  easiest to see.
- :func:`random_network`: generic random networks whose sparsity is
  *measured*, not promised (the dense comparison when biases are low).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ._validation import (check_cube_dimension, check_float, check_int, check_memory,
                          check_random_state, check_vector, check_width_and_sparsity)
from .cube import points
from .network import SparseReLUNetwork

__all__ = ["bump_network", "junta_block_bits", "junta_network", "junta_sum_network",
           "random_network"]

# Candidate codewords drawn per accepted codeword before a radius is declared
# unattainable by rejection sampling.
_MAX_DRAWS_PER_CODEWORD = 200


def _group_sizes(s: int, k: int) -> list[int]:
    """Split ``s`` units into ``k`` groups whose sizes differ by at most one."""
    return [s // k + (1 if g < s % k else 0) for g in range(k)]


def _draw_code(rng, n: int, size: int, min_distance: int, first: np.ndarray):
    """Rejection-sample ``size`` words of ``{-1,1}^n`` starting with ``first``,
    pairwise at Hamming distance ``>= min_distance``; ``None`` on failure."""
    code = np.empty((size, n), dtype=np.float64)
    code[0] = first
    filled = 1
    draws = 0
    while filled < size:
        draws += 1
        if draws > _MAX_DRAWS_PER_CODEWORD * size:
            return None
        candidate = rng.choice(np.array([-1.0, 1.0]), size=n)
        # Hamming distance between +-1 words: (n - <a, b>) / 2.
        distances = (n - code[:filled] @ candidate) / 2
        if distances.min() >= min_distance:
            code[filled] = candidate
            filled += 1
    return code


def _default_radius(n: int, group_size: int) -> int:
    """Largest radius at which rejection sampling accepts most candidates.

    A candidate is rejected when it lies within distance ``2r`` of an
    accepted codeword, a set of at most ``g * V(n, 2r)`` points, where
    ``V(n, d)`` is the volume of a Hamming ball.  Requiring that to be at
    most a quarter of the cube (the Gilbert-Varshamov argument) keeps the
    acceptance rate above 3/4 throughout.
    """
    best = 0
    volume = 1  # V(n, 2r) = sum_{i <= 2r} C(n, i), grown two terms per radius
    budget = 2**n
    for r in range(0, (n - 1) // 2 + 1):
        if r > 0:
            volume += math.comb(n, 2 * r - 1) + math.comb(n, 2 * r)
        if group_size * volume * 4 > budget:
            break
        best = r
    return best


def bump_network(n, s, k, radius=None, random_state=None) -> SparseReLUNetwork:
    r"""A ``k``-sparse network on the whole cube made of Hamming-ball bumps.

    The ``s`` units are split into ``k`` groups of ``s // k`` (or one more)
    units.  A unit with codeword :math:`c \in \{-1,1\}^n` and radius ``r``
    has :math:`w = c`, :math:`b = n - 2r - 1`; since
    :math:`\langle c, x\rangle = n - 2\,d_H(c, x)`, its pre-activation is
    :math:`2(r - d_H(c, x)) + 1`, positive exactly when ``x`` is within
    Hamming distance ``r`` of ``c``.  Codewords in a group are pairwise more
    than ``2r`` apart (verified), so at most one unit per group is active
    anywhere: the network is ``k``-sparse on all of :math:`\{-1,1\}^n`.

    Units are stored group by group, and the first unit of every group has
    the same codeword, so ``net.weights[0]`` is a *planted point* where
    exactly ``k`` units are active: the sparsity bound is attained.

    Parameters
    ----------
    n : int
        Input dimension, ``>= 1``.
    s : int
        Width, ``>= k``.
    k : int
        Sparsity (number of groups), ``>= 1``.
    radius : int, optional
        Hamming radius ``r`` of every bump, ``0 <= r < n/2``.  By default the
        largest radius random codes of the group size typically allow; if
        that fails, smaller radii are tried down to 0.
    random_state : None, int or numpy.random.Generator
        Seed for the codewords and output weights.

    Returns
    -------
    SparseReLUNetwork
        Output weights are :math:`\pm` uniform in ``[0.5, 1]``; output bias 0.

    Raises
    ------
    ValueError
        If ``k > s``, a group would need more than :math:`2^n` codewords, or
        the requested radius cannot be met by the construction.
    """
    n = check_int(n, "n", minimum=1)
    s, k = check_width_and_sparsity(s, k)
    check_memory(8.0 * s * n, f"bump network weights ({s} x {n})")
    sizes = _group_sizes(s, k)
    if n < 63 and max(sizes) > 2**n:
        raise ValueError(f"s={s}, k={k}: a group needs {max(sizes)} distinct codewords but "
                         f"the cube {{-1,1}}^{n} has only {2**n} points; lower s or raise n")
    rng = check_random_state(random_state)
    if radius is not None:
        radius = check_int(radius, "radius", minimum=0)
        if 2 * radius >= n:
            raise ValueError(f"radius={radius} must satisfy 2*radius < n={n}: a bump of that "
                             "radius covers the antipode of its codeword")
        candidates = [radius]
    else:
        candidates = range(_default_radius(n, max(sizes)), -1, -1)

    for r in candidates:
        first = rng.choice(np.array([-1.0, 1.0]), size=n)
        codes = [_draw_code(rng, n, size, 2 * r + 1, first) for size in sizes]
        if all(code is not None for code in codes):
            break
    else:
        raise ValueError(
            f"radius={radius}: could not draw {max(sizes)} codewords of {{-1,1}}^{n} "
            f"pairwise more than {2 * radius} apart; use a smaller radius, a smaller "
            "width s, or a larger k")
    weights = np.vstack(codes)
    _verify_group_separation(weights, sizes, r)
    biases = np.full(s, float(n - 2 * r - 1))
    output_weights = rng.choice(np.array([-1.0, 1.0]), size=s) * rng.uniform(0.5, 1.0, size=s)
    return SparseReLUNetwork(weights, biases, output_weights)


def _verify_group_separation(weights: np.ndarray, sizes: list[int], r: int) -> None:
    """Check that codewords within each group are more than ``2r`` apart."""
    n = weights.shape[1]
    start = 0
    for size in sizes:
        code = weights[start:start + size]
        distances = (n - code @ code.T) / 2
        np.fill_diagonal(distances, np.inf)
        if size > 1 and distances.min() <= 2 * r:
            raise AssertionError("bump codewords are not separated; this is a bug")
        start += size


def junta_network(g, coords, n) -> SparseReLUNetwork:
    r"""Embed a function of ``t`` coordinates as a 1-sparse network of width :math:`2^t`.

    For :math:`J` = ``coords`` (``t`` distinct coordinates) and
    :math:`g:\{-1,1\}^t \to \mathbb{R}`, the network has one unit per
    :math:`z \in \{-1,1\}^t` with :math:`w_z = z` on :math:`J` (0 elsewhere),
    :math:`b_z = t - 1` and :math:`u_z = g(z)`.  Since
    :math:`\langle z, x_J\rangle = t` iff :math:`x_J = z` and is at most
    :math:`t - 2` otherwise, exactly one unit is active at every point of the
    cube, with activation 1: the network computes :math:`g(x_J)` exactly and
    is 1-sparse on the whole cube (docs/theory.rst, section 3).

    Parameters
    ----------
    g : callable or array_like of shape (2**t,)
        Either the truth table of ``g`` in the cube index convention on
        ``t`` bits (entry ``i`` is ``g(z)`` with ``z_a = (-1)^{bit a of i}``),
        or a callable taking an array of shape ``(2**t, t)`` of :math:`\pm 1`
        points and returning ``2**t`` values.
    coords : sequence of int
        The coordinates :math:`J`, distinct, in ``[0, n)``; ``z_a`` is
        matched to coordinate ``coords[a]``.
    n : int
        Input dimension.

    Returns
    -------
    SparseReLUNetwork
        Unit ``i`` corresponds to the point ``z`` of index ``i``.
    """
    n = check_int(n, "n", minimum=1)
    try:
        coords = [check_int(c, "coords[]", minimum=0, maximum=n - 1) for c in coords]
    except TypeError:
        if not hasattr(coords, "__iter__"):
            raise TypeError("coords must be a sequence of integers") from None
        raise
    t = len(coords)
    if t == 0:
        raise ValueError("coords must name at least one coordinate")
    if len(set(coords)) != t:
        raise ValueError(f"coords must be distinct, got {coords}")
    check_cube_dimension(t, "len(coords)", bytes_per_point=8 * (n + 2),
                         what=f"a junta network of width 2^{t} on n={n} inputs")
    z = points(t)
    if callable(g):
        values = np.asarray(g(z.copy()), dtype=np.float64)
        if values.shape != (2**t,):
            raise ValueError(f"g returned shape {values.shape} for {2**t} points; it must "
                             f"return one value per point, shape ({2**t},)")
        values = check_vector(values, "g(z)")
    else:
        values = check_vector(g, "g", length=2**t)
    weights = np.zeros((2**t, n), dtype=np.float64)
    weights[:, coords] = z
    biases = np.full(2**t, float(t - 1))
    return SparseReLUNetwork(weights, biases, values)


def junta_block_bits(width, k) -> int:
    """The junta size ``t`` of a sum of ``k`` juntas of total width ``width = k 2^t``.

    Parameters
    ----------
    width : int
        The width :math:`s` of :func:`junta_sum_network`'s result.
    k : int
        Number of juntas.

    Returns
    -------
    int
        ``t >= 1`` with ``width == k * 2**t``.

    Raises
    ------
    ValueError
        If ``width`` is not of that form (the message suggests valid widths).
    """
    k = check_int(k, "sparsity", minimum=1)
    width = check_int(width, "width", minimum=1)
    block = width // k
    if block * k != width or block < 2 or block & (block - 1):
        raise ValueError(f"width={width} must be sparsity * 2^t with t >= 1 for a sum of "
                         f"{k} juntas (e.g. width={2 * k} or {4 * k})")
    return block.bit_length() - 1


def junta_sum_network(n, k, t, random_state=None) -> SparseReLUNetwork:
    r"""Sum of ``k`` junta networks on disjoint blocks of ``t`` coordinates.

    Block ``b`` is :func:`junta_network` of a function
    :math:`g_b:\{-1,1\}^t\to\mathbb R` with i.i.d. standard normal truth
    table, on its own ``t`` coordinates (chosen at random, disjoint across
    blocks).  Each block has exactly one active unit at every point, so the
    sum has exactly ``k`` active units everywhere: ``k``-sparse on the whole
    cube, width :math:`s = k\,2^t`, and a polynomial of degree at most
    ``t`` (each block depends on ``t`` coordinates only).

    Output weights are scaled so that :math:`\mathbb E[f^2] = 1` under the
    uniform distribution exactly: blocks are independent, so
    :math:`\mathbb E[f^2] = \sum_b \mathbb E[g_b^2] + (\sum_b \mathbb E g_b)^2
    - \sum_b (\mathbb E g_b)^2`.

    Parameters
    ----------
    n : int
        Input dimension, ``>= k * t``.
    k : int
        Number of blocks (the sparsity), ``>= 1``.
    t : int
        Coordinates per block (the degree), ``>= 1``.
    random_state : None, int or numpy.random.Generator
        Seed of the blocks' coordinates and truth tables.

    Returns
    -------
    SparseReLUNetwork
        Width ``k * 2**t``, exactly ``k`` active units at every point.

    Examples
    --------
    >>> from sparselearn.targets import junta_sum_network
    >>> net = junta_sum_network(n=20, k=3, t=2, random_state=0)
    >>> net.width
    12
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(k, "k", minimum=1)
    t = check_int(t, "t", minimum=1)
    if k * t > n:
        raise ValueError(f"k * t = {k * t} exceeds n = {n}: the {k} blocks of {t} "
                         "coordinates must be disjoint")
    check_memory(8.0 * k * 2.0**t * (n + 2), f"a sum of {k} juntas of width 2^{t} on n={n}")
    rng = check_random_state(random_state)
    coords = rng.permutation(n)[:k * t].reshape(k, t)
    tables = rng.standard_normal((k, 2**t))
    means = tables.mean(axis=1)
    second = (tables**2).mean(axis=1)
    scale = math.sqrt(second.sum() + means.sum()**2 - (means**2).sum())
    blocks = [junta_network(table / scale, [int(c) for c in block], n)
              for table, block in zip(tables, coords)]
    return SparseReLUNetwork(np.vstack([block.weights for block in blocks]),
                             np.concatenate([block.biases for block in blocks]),
                             np.concatenate([block.output_weights for block in blocks]))


def random_network(n, s, random_state=None, bias_quantile=0.5,
                   output_scale=1.0) -> SparseReLUNetwork:
    r"""A generic random network whose sparsity is measured, not promised.

    Hidden weights are i.i.d. :math:`N(0, 1/n)`, output weights
    :math:`N(0, \text{output\_scale}^2 / s)`.  Biases are set from the
    Gaussian approximation of :math:`\langle w_j, x\rangle` under the
    uniform cube distribution (mean 0, variance :math:`\|w_j\|^2`):
    :math:`b_j = \|w_j\|\,\Phi^{-1}(\text{bias\_quantile})`, so each unit
    is active on roughly a ``1 - bias_quantile`` fraction of the cube.  At
    the default 0.5 about half the units are active on a typical input (the
    dense comparison); near 1 the network is sparse on average but has no
    worst-case guarantee (measure it with
    :func:`sparselearn.cube.certify_sparsity`).

    Parameters
    ----------
    n, s : int
        Input dimension and width.
    random_state : None, int or numpy.random.Generator
        Seed of the weights.
    bias_quantile : float in [0, 1)
        Quantile of the standard normal that sets the biases.
    output_scale : float > 0
        Scale of the outer weights.

    Returns
    -------
    SparseReLUNetwork
    """
    n = check_int(n, "n", minimum=1)
    s = check_int(s, "s", minimum=1)
    bias_quantile = check_float(bias_quantile, "bias_quantile", minimum=0.0)
    if bias_quantile >= 1.0:
        raise ValueError(f"bias_quantile must be in [0, 1), got {bias_quantile}")
    output_scale = check_float(output_scale, "output_scale", minimum=0.0, strict_minimum=True)
    check_memory(8.0 * s * n, f"random network weights ({s} x {n})")
    rng = check_random_state(random_state)
    weights = rng.normal(0.0, 1.0 / math.sqrt(n), size=(s, n))
    norms = np.linalg.norm(weights, axis=1)
    if bias_quantile > 0.0:
        biases = norms * float(ndtri(bias_quantile))
    else:
        # Every unit always active: |<w, x>| <= ||w|| sqrt(n) on the cube.
        biases = -norms * math.sqrt(n) - 1.0
    output_weights = rng.normal(0.0, output_scale / math.sqrt(s), size=s)
    return SparseReLUNetwork(weights, biases, output_weights)
