r"""Exact computations over the Boolean cube :math:`\{-1,1\}^n`.

Index convention
----------------
Every cube array in sparselearn is indexed the same way: index
:math:`i \in [0, 2^n)` is the point :math:`x` with :math:`x_d = +1` if bit
:math:`d` of :math:`i` is 0 and :math:`x_d = -1` if it is 1, i.e.
:math:`x_d = 1 - 2\,\mathrm{bit}_d(i)`.  Hence
:math:`\chi_S(x) = \prod_{d \in S} x_d = (-1)^{\mathrm{popcount}(i \,\&\, S)}`
for a subset :math:`S` written as a bitmask, and a truth table ``f[i]`` and
its Fourier spectrum ``fhat[S]`` share this indexing.  :func:`points`
returns the points in this order.

What is computed
----------------
For a :class:`~sparselearn.SparseReLUNetwork`
:math:`h(x) = \sum_j u_j\,\mathrm{relu}(\langle w_j, x\rangle - b_j) + c`
with active support :math:`A(x) = \{j : \langle w_j, x\rangle - b_j > 0\}`
(docs/theory.rst, section 2):

- :func:`truth_table`: :math:`h(x)` at all :math:`2^n` points;
- :func:`activation_histogram`: how many points have
  :math:`|A(x)| = 0, 1, \dots, s`;
- :func:`certify_sparsity`: the exact sparsity on the whole cube,
  :math:`\max_x |A(x)|`, with a point attaining it, by branch and bound
  (usable far beyond the sizes where :math:`2^n` points can be visited).

Gray-code walks
---------------
:func:`truth_table` and :func:`activation_histogram` visit the cube in
chunks of :math:`2^L` consecutive indices (:math:`L = \min(n, 12)`; the top
:math:`n - L` bits fixed), the chunks in parallel.  Inside a chunk of
:func:`activation_histogram` the low bits follow the reflected Gray code
:math:`g(t) = t \oplus (t \gg 1)`, which changes one coordinate per step, so
every pre-activation :math:`z_j = \langle w_j, x\rangle - b_j` is updated by
:math:`\mp 2 w_{jd}` in :math:`O(s)` instead of recomputed in :math:`O(ns)`.
:func:`truth_table` walks a chunk in index order, in blocks of :math:`2^6`
points, as :math:`z_j = (t_j + c_j) + \ell_j`: :math:`t_j` is :math:`-b_j`
plus the :math:`n - L` terms :math:`w_{jd} x_d` above the chunk's bits (once
per chunk), :math:`c_j` the block's other :math:`L - 6` terms (once per
block), :math:`\ell_j` the 6 low ones (a table of :math:`2^6` rows shared by
all chunks): also :math:`O(s)` per point, and no update is ever applied, so
no rounding error accumulates along the walk (a Gray walk's values drifted
by up to a hundred times a direct evaluation's error once weights spanned
:math:`2^{60}` to :math:`0.1`).  Values are stored at the natural index.

Threads.  Each kernel call opens one OpenMP parallel region whose threads
take whole chunks one at a time (a thread slowed down by other processes
takes fewer); a chunk's result does not depend on the thread that walks it,
so results are identical for every thread count.  A walk of fewer than
``2^26`` point-units (:math:`2^n s`, tens of milliseconds on one core) runs
on one thread, as does each batch of :func:`certify_sparsity`'s search until
the batches take long enough: waking a second thread costs up to
milliseconds on a loaded machine (``python benchmarks/compare_threads.py``
times one thread against the default).

Exact decisions.  Unit :math:`j` is active at :math:`x` when the exact
real :math:`\langle w_j, x\rangle - b_j` is strictly positive (the
definition of :mod:`sparselearn.network`); the histogram, the truth table's
gating and the certificate all follow it on every finite float64 input.
Let :math:`M_j = \sum_d |w_{jd}| + |b_j|`, which bounds every partial sum the
walk forms for unit :math:`j`.  Each chunk of the histogram recomputes its
first pre-activations from scratch (:math:`n` additions), then applies at
most :math:`2^L - 1` updates, each adding one rounding error of at most
:math:`2 u M_j` (:math:`u = 2^{-53}`); so the computed :math:`z_j` is within
:math:`\mathrm{tol}_j = 2 (n + 2 + 2^{L+1})\,u\,M_j` of the exact value (the
truth table's :math:`z_j`, whose every term passes through at most
:math:`n + 1` roundings, within :math:`\mathrm{tol}_j = 2 (n + 2)\,u\,M_j`).
A computed value in :math:`(-\mathrm{tol}_j, \mathrm{tol}_j]` is re-decided
exactly at that point (an error-free sum of the :math:`\pm w_{jd}` and
:math:`-b_j`); elsewhere the float sign is the exact sign.  When the
weights and biases are multiples of :math:`2^v` with
:math:`3 M_j \le 2^{52+v}` (small-denominator dyadic parameters), every
partial sum is representable, the walk is exact, :math:`\mathrm{tol}_j = 0`
and nothing is re-decided: this fast path is the walk without any exactness
overhead.  Truth-table values are sums of float ReLU values over the
exactly active units (rounding only in the values, never in which units
count), as accurate as a direct evaluation (:func:`truth_table`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ._kernels import _cube
from ._validation import (MAX_CUBE_DIM, MemoryBudgetError, check_cube_dimension,
                          check_float, check_int, check_matrix, check_memory,
                          check_random_state)
from .interop import _conversion_hint
from .network import _NO_VALUATION, SparseReLUNetwork, min_valuation

__all__ = [
    "Box",
    "CertificationIncomplete",
    "SparsityCertificate",
    "activation_histogram",
    "certify_sparsity",
    "points",
    "truth_table",
    "uniform_points",
]

# Chunk length 2^12: the histogram's drift bound above, and per-chunk setup
# (O(n s)) amortized over 4096 points.
_CHUNK_BITS = 12
# Points per kernel call; the kernel holds the GIL-free thread team for one
# call, so Ctrl-C is honoured between calls.
_BATCH_POINTS = 2**22
# activation_histogram's default limit on its walk, in unit evaluations 2^n s;
# larger walks are refused before they start.  A unit evaluation costs about
# 1.2 ns of CPU time: process time over 2^n s, Gaussian weights, n = 16-24,
# s = 64-4096, 1.0-1.7 ns on one thread and 1.0-1.2 ns summed over two
# (2026-12, the project's 2-core machine, under load 5.7-6.5, where the wall
# times were 1-3.4 ns per evaluation, as in the older asv record's 2.3-3.8).
# So 2^40 is about 22 minutes of CPU time, 11 on two idle cores.
_MAX_HISTOGRAM_EVALUATIONS = 2**40
_CPU_SECONDS_PER_EVALUATION = 1.2e-9
# Walks of fewer than this many point-units (2^n s) run on one thread:
# waking a second costs up to milliseconds on a loaded machine (measured
# with benchmarks/compare_threads.py on the project's shared 2-core machine).
_PARALLEL_WALK = 2**26
# A batch of branch-and-bound tasks runs on two or more threads only when
# the previous batch, scaled to this batch's size, took at least this long.
_PARALLEL_SECONDS = 0.1
# Branch and bound: finish subcubes of at most 2^_LEAF_BITS points with a
# walk; split the first _SPLIT_BITS coordinates into independent tasks, run
# in batches of _BATCH_TASKS, doubling after each batch (each batch starts
# from the best count so far; few batches keep thread start-up cheap).
_LEAF_BITS = 6
_SPLIT_BITS = 8
_BATCH_TASKS = 8

# certify_sparsity counts its starting points in doubling blocks, the first
# of about this many multiply-adds (tens of milliseconds), checking
# time_limit between blocks.
_INITIAL_WORK = 2**26


def _check_network(net) -> SparseReLUNetwork:
    if not isinstance(net, SparseReLUNetwork):
        hint = (_conversion_hint(net) or
                "; build one with SparseReLUNetwork(weights, biases, output_weights)")
        raise TypeError(f"net must be a sparselearn.SparseReLUNetwork, got "
                        f"{type(net).__name__}{hint}")
    return net


def _walk_tolerance(weights, biases, steps: int) -> np.ndarray:
    r"""Per-unit bound on the rounding error of a walk's pre-activations.

    A walk recomputes :math:`z_j` from scratch (``n`` additions, error at
    most :math:`(n + 1) u M_j`) and then applies at most ``steps`` updates
    :math:`\pm 2 w_{jd}`, each rounding once, at most :math:`2 u M_j`
    (:math:`|z_j| \le M_j`, :math:`u = 2^{-53}`); twice the total is
    returned.  ``steps=0`` covers :func:`truth_table`'s pre-activations,
    sums in which every term passes through at most :math:`n + 1`
    roundings (error at most :math:`\gamma_{n+1} M_j`,
    :math:`\gamma_k = k u / (1 - k u)`).  A unit whose weights and bias are
    multiples of :math:`2^v` with :math:`3 M_j \le 2^{52 + v}` has every
    partial sum representable
    (all are multiples of :math:`2^v` below :math:`3 M_j`): its walk is
    exact and its bound 0.
    """
    n = weights.shape[1]
    with np.errstate(over="ignore"):
        magnitude = np.abs(weights).sum(axis=1) + np.abs(biases)
        tol = (n + 2 + 2.0 * steps) * 2.0**-52 * magnitude
    v = min_valuation(weights, biases)
    if v < 1000:
        tol[3.0 * magnitude <= 2.0 ** min(52 + v, 1000)] = 0.0
    else:
        tol[:] = 0.0  # every parameter is zero
    return np.ascontiguousarray(tol)


def _rough_duration(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps the figure at least 1."""
    for unit, length in (("years", 3.15e7), ("days", 86400.0), ("hours", 3600.0),
                         ("minutes", 60.0)):
        if seconds >= length:
            return f"{seconds / length:.3g} {unit}"
    return f"{seconds:.3g} s"


def _chunk_batches(n: int):
    """``(L, batches)``: Gray chunks of ``2^L`` points and an iterator over
    ``(start, stop)`` chunk ranges, one per kernel call (lazy: at ``n = 62``
    a list would hold 2^40 pairs)."""
    bits = min(n, _CHUNK_BITS)
    n_chunks = 1 << (n - bits)
    step = max(1, _BATCH_POINTS >> bits)
    return bits, ((q, min(q + step, n_chunks)) for q in range(0, n_chunks, step))


def points(n, start=0, stop=None, *, max_bytes=None) -> np.ndarray:
    r"""The points of :math:`\{-1,1\}^n` with indices ``start..stop-1``, in the cube index convention.

    Parameters
    ----------
    n : int
        Dimension, ``>= 1``.
    start : int, default=0
        First index, ``0 <= start <= stop``.
    stop : int, optional
        One past the last index, ``<= 2**n``; defaults to ``2**n`` (the
        whole cube).
    max_bytes : float, optional
        Memory budget for the ``8 n (stop - start)``-byte result; defaults
        to :data:`sparselearn._validation.DEFAULT_MAX_BYTES`.

    Returns
    -------
    ndarray of float64, shape (stop - start, n)
        Row ``r`` is the point of index ``i = start + r``, with
        ``x_d = 1 - 2 * ((i >> d) & 1)``.

    Raises
    ------
    MemoryBudgetError
        If the array would exceed ``max_bytes`` (the message gives the size).

    Examples
    --------
    >>> from sparselearn import cube
    >>> cube.points(2)
    array([[ 1.,  1.],
           [-1.,  1.],
           [ 1., -1.],
           [-1., -1.]])
    >>> cube.points(3, 5, 7)
    array([[-1.,  1., -1.],
           [ 1., -1., -1.]])
    """
    n = check_int(n, "n", minimum=1)
    if n > MAX_CUBE_DIM:
        # check_cube_dimension gives the message; a range of a larger cube
        # would need indices beyond int64.
        check_cube_dimension(n, "n", max_bytes)
    size = 2**n
    start = check_int(start, "start", minimum=0, maximum=size)
    stop = size if stop is None else check_int(stop, "stop", minimum=start, maximum=size)
    if start == 0 and stop == size:
        check_cube_dimension(n, "n", max_bytes, bytes_per_point=8 * n,
                             what=f"cube.points({n}) (2^{n} points x {n} coordinates, "
                                  "float64)")
        out = np.empty((size, n), dtype=np.float64)
        for d in range(n):
            # Index i = (high, bit d, low) in mixed radix (2^(n-d-1), 2, 2^d).
            view = out.reshape(2 ** (n - d - 1), 2, 2**d, n)
            view[:, 0, :, d] = 1.0
            view[:, 1, :, d] = -1.0
        return out
    check_memory(8.0 * n * (stop - start),
                 f"cube.points({n}, {start}, {stop}) ({stop - start} points x {n} "
                 "coordinates, float64)", max_bytes)
    index = np.arange(start, stop, dtype=np.int64)
    set_bits = (index[:, None] & (np.int64(1) << np.arange(n, dtype=np.int64))) != 0
    return np.where(set_bits, -1.0, 1.0)


def uniform_points(n, m, random_state=None, *, max_bytes=None) -> np.ndarray:
    r"""``m`` independent uniform points of :math:`\{-1,1\}^n`.

    Parameters
    ----------
    n : int
        Dimension, ``>= 1``.
    m : int
        Number of points, ``>= 0``.
    random_state : None, int, SeedSequence or numpy.random.Generator
        Source of randomness; a ``Generator`` is advanced.  Each coordinate
        is ``1 - 2 b`` with ``b`` an independent fair bit
        (``Generator.integers(0, 2, dtype=int8)``).
    max_bytes : float, optional
        Memory budget for the ``8 n m``-byte result.

    Returns
    -------
    ndarray of float64, shape (m, n)
        Entries exactly ``+1`` or ``-1``.

    Examples
    --------
    >>> from sparselearn import cube
    >>> X = cube.uniform_points(5, 3, random_state=0)
    >>> X.shape, bool((abs(X) == 1).all())
    ((3, 5), True)
    """
    n = check_int(n, "n", minimum=1)
    m = check_int(m, "m", minimum=0)
    rng = check_random_state(random_state)
    check_memory(9.0 * n * m, f"cube.uniform_points({n}, {m}) ({m} points x {n} "
                 "coordinates, float64)", max_bytes)
    return _uniform_points(rng, m, n)


def _uniform_points(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """:func:`uniform_points` for validated arguments (no checks)."""
    return 1.0 - 2.0 * rng.integers(0, 2, size=(m, n), dtype=np.int8)


def _walk_threads(n: int, s: int) -> int:
    """Team size of a walk over the cube: 1 below ``_PARALLEL_WALK``, else 0
    (OpenMP's default)."""
    return 1 if 2.0**n * max(s, 1) < _PARALLEL_WALK else 0


def truth_table(net, max_bytes=None, *, output=None) -> np.ndarray:
    r"""The values :math:`h(x)` of a network at every point of the cube.

    Computed by a parallel walk, :math:`O(s)` per point (see the module
    notes for its order).  Units that are exactly inactive at a point
    contribute exactly nothing there, and the values are as accurate as a
    direct evaluation's: with :math:`M_j = \sum_d |w_{jd}| + |b_j|`, each
    entry is within

    .. math:: (n + s + 3)\, 2^{-53} \Big(\sum_j |u_j| M_j + |c|\Big)

    of the exact real :math:`h(x)` of the float64 parameters (apart from
    underflow in the products :math:`u_j\,\mathrm{relu}(z_j)`): the computed
    :math:`z_j` is within :math:`\gamma_{n+1} M_j` of the exact one
    (:math:`\gamma_k = k 2^{-53} / (1 - k 2^{-53})`), which bounds the error
    of its ReLU value too (the exact decisions make a unit in doubt count as
    in exact arithmetic), and the sum over the units and :math:`c` adds at most
    :math:`\gamma_{s+1}` relative to :math:`\sum_j |u_j| M_j + |c|`.  The
    bound is absolute: under cancellation (:math:`|h(x)|` far below it) no
    float64 evaluation that rounds the :math:`z_j` is within a few ulps of
    :math:`h(x)`.

    Parameters
    ----------
    net : SparseReLUNetwork
        The network; its ``n_features`` is the cube dimension ``n``.
    max_bytes : float, optional
        Memory budget for the ``8 * 2^n``-byte result.
    output : int, optional
        Which output of a multi-output network to tabulate (required when
        ``net.n_outputs > 1``; :meth:`SparseReLUNetwork.select_output`).

    Returns
    -------
    ndarray of float64, shape (2**net.n_features,)
        Entry ``i`` is ``net(x)`` (output bias included; output ``output``
        of a multi-output network) at the point of index ``i`` in the cube
        index convention.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~sparselearn.SparseReLUNetwork`.
    MemoryBudgetError
        If the table would exceed ``max_bytes``.

    Examples
    --------
    >>> from sparselearn import SparseReLUNetwork, cube
    >>> net = SparseReLUNetwork([[1.0, 1.0]], [0.0], [2.0], output_bias=1.0)
    >>> cube.truth_table(net)    # 2 relu(x_0 + x_1) + 1 at ++, -+, +-, --
    array([5., 1., 1., 1.])
    """
    net = _check_network(net).select_output(output)
    n = check_cube_dimension(
        net.n_features, "net.n_features", max_bytes,
        what=f"the truth table over {{-1,1}}^{net.n_features} (2^{net.n_features} float64)")
    weights_t = np.ascontiguousarray(net.weights.T)
    out = np.empty(2**n, dtype=np.float64)
    bits, batches = _chunk_batches(n)
    tol = _walk_tolerance(net.weights, net.biases, 0)  # no updates (module notes)
    threads = _walk_threads(n, net.width)
    for start, stop in batches:
        _cube.truth_table(weights_t, net.biases, net.output_weights,
                          net.output_bias, tol, bits, start, stop, out, threads)
    return out


def activation_histogram(net, *, max_evaluations=_MAX_HISTOGRAM_EVALUATIONS) -> np.ndarray:
    r"""How many points of the cube have each number of active units.

    Entry ``c`` is :math:`\#\{x \in \{-1,1\}^n : |A(x)| = c\}`, where unit
    ``j`` is active at ``x`` when :math:`\langle w_j, x\rangle - b_j > 0`.
    Computed by a parallel Gray-code walk in :math:`O(s)` per point and
    :math:`O(s)` memory per thread; the running time is :math:`2^n s` unit
    evaluations (about 1.2 ns of CPU time each: 0.6 ns on two idle cores,
    several on a shared machine), so for large ``n`` use
    :func:`certify_sparsity` for the maximum, or count the active units of
    sampled points (:func:`uniform_points`,
    :meth:`~sparselearn.SparseReLUNetwork.activation_counts`) for the
    distribution.

    Parameters
    ----------
    net : SparseReLUNetwork
    max_evaluations : float or None, default=2**40
        Largest walk accepted, in unit evaluations :math:`2^n s` (the
        default, :math:`2^{40}`, is about 22 minutes of CPU time, 11 minutes
        on two idle cores); a larger
        one is refused before it starts rather than running for hours.
        ``None`` accepts any.

    Returns
    -------
    ndarray of int64, shape (net.width + 1,)
        Sums to :math:`2^n`; the largest ``c`` with a nonzero entry is the
        sparsity of the network on the cube.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~sparselearn.SparseReLUNetwork`.
    MemoryBudgetError
        If ``n > 62`` (the counts would overflow int64).
    ValueError
        If :math:`2^n s` exceeds ``max_evaluations``.

    Examples
    --------
    >>> from sparselearn import SparseReLUNetwork, cube
    >>> net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0], [1.0, 1.0])
    >>> cube.activation_histogram(net)    # x_0 > 0 and/or x_1 > 0
    array([1, 2, 1])
    """
    net = _check_network(net)
    n = check_cube_dimension(net.n_features, "net.n_features", bytes_per_point=0)
    evaluations = 2.0**n * max(net.width, 1)
    if max_evaluations is not None and evaluations > (
            limit := check_float(max_evaluations, "max_evaluations", minimum=0.0)):
        raise ValueError(
            f"activation_histogram walks 2^{n} points x {net.width} units = "
            f"{evaluations:.3g} unit evaluations (about "
            f"{_rough_duration(evaluations * _CPU_SECONDS_PER_EVALUATION)} of CPU time, half "
            "that on two idle cores), beyond "
            f"max_evaluations={limit:.3g}; for the maximum use certify_sparsity(net), for "
            "the distribution count net.activation_counts(uniform_points(n, m)) on a "
            "sample, or pass a larger max_evaluations")
    weights_t = np.ascontiguousarray(net.weights.T)
    hist = np.zeros(net.width + 1, dtype=np.int64)
    bits, batches = _chunk_batches(n)
    tol = _walk_tolerance(net.weights, net.biases, 2**bits)
    threads = _walk_threads(n, net.width)
    for start, stop in batches:
        _cube.activation_histogram(weights_t, net.biases, tol, bits, start, stop, hist,
                                   threads)
    return hist


# ----------------------------------------------------------------------------
# Certified sparsity
# ----------------------------------------------------------------------------

def _witness_index(witness: np.ndarray) -> int:
    return sum(1 << d for d in np.flatnonzero(witness < 0).tolist())


@dataclass(frozen=True, eq=False)
class SparsityCertificate:
    r"""The exact sparsity of a network on the whole cube, with a witness.

    Attributes
    ----------
    max_active : int
        :math:`\max_{x \in \{-1,1\}^n} |A(x)|`, proved by exhausting the
        search tree.
    witness : ndarray of float64, shape (n,)
        A point with exactly ``max_active`` active units (read-only).
    initial_bound : int
        The count at the best starting point (rows of ``sign(W)``), before
        the search.
    n_candidate_units : int
        Units left after the pairwise reduction (only they were searched).
    n_nodes : int
        Subcubes visited by the branch and bound.
    n_leaf_points : int
        Points visited by the Gray-code walks that finish small subcubes.
    elapsed : float
        Wall-clock seconds.
    domain : str
        ``"pm1"`` (:math:`\{-1,1\}^n`), ``"01"`` (:math:`\{0,1\}^n`),
        ``"points"`` (a finite point set) or ``"box"`` (:class:`Box`); the
        maximum is over that domain.
    lp_tolerance : float or None
        For a box: the relative margin below which the LP declares a set of
        units unable to be active together (see :class:`Box`); ``None``
        on the other domains, whose certificates are exact.
    method : str or None
        For a box: ``"bnb"`` (the LP-per-node branch and bound) or ``"milp"``
        (one mixed-integer program); ``None`` on the other domains.
    mip_tolerances : dict or None
        For ``method="milp"``: the HiGHS settings the upper bound rests on
        (``mip_rel_gap`` 0, and HiGHS's default
        ``primal_feasibility_tolerance`` 1e-7 and ``mip_feasibility_tolerance``
        1e-6; see :class:`Box`); ``None`` otherwise.
    """

    max_active: int
    witness: np.ndarray
    initial_bound: int
    n_candidate_units: int
    n_nodes: int
    n_leaf_points: int
    elapsed: float
    domain: str = "pm1"
    lp_tolerance: float | None = None
    method: str | None = None
    mip_tolerances: dict | None = None

    @property
    def witness_index(self) -> int:
        r"""Index of :attr:`witness` in the cube index convention (a Python int).

        On :math:`\{0,1\}^n` bit ``j`` of the index is ``witness[j]`` (the
        point :math:`(1 - x)/2` of the :math:`\pm 1` point of that index).
        Undefined (``ValueError``) for a finite point set or a box.
        """
        if self.domain in ("points", "box"):
            raise ValueError("witness_index is defined on the cube domains only; this "
                             f"certificate is over domain {self.domain!r}")
        if self.domain == "01":
            return sum(1 << d for d in np.flatnonzero(self.witness > 0).tolist())
        return _witness_index(self.witness)

    def __repr__(self) -> str:
        n = self.witness.shape[0]
        where = (f"witness_index={self.witness_index}, "
                 if n <= 64 and self.domain in ("pm1", "01") else "")
        if self.domain != "pm1":
            where += f"domain={self.domain!r}, "
        return (f"SparsityCertificate(max_active={self.max_active}, n={n}, {where}"
                f"initial_bound={self.initial_bound}, "
                f"n_candidate_units={self.n_candidate_units}, n_nodes={self.n_nodes}, "
                f"n_leaf_points={self.n_leaf_points}, elapsed={self.elapsed:.3g}s)")


class CertificationIncomplete(RuntimeError):
    """:func:`certify_sparsity` ran out of its node or time budget.

    Nothing is certified; what is known is a lower bound.

    Attributes
    ----------
    lower_bound : int
        Largest count found so far: the sparsity is at least this.
    witness : ndarray of float64, shape (n,)
        A point attaining ``lower_bound``.
    n_nodes : int
        Subcubes visited before stopping.
    elapsed : float
        Wall-clock seconds before stopping.
    upper_bound : int or None
        A proven upper bound when the search has one (a box with
        ``method="milp"``: HiGHS's dual bound, under the tolerances of
        :class:`Box`), else ``None``.
    """

    def __init__(self, message, lower_bound, witness, n_nodes, elapsed, upper_bound=None):
        super().__init__(message)
        self.upper_bound = upper_bound
        self.lower_bound = lower_bound
        self.witness = witness
        self.n_nodes = n_nodes
        self.elapsed = elapsed


def _initial_bound(net: SparseReLUNetwork, deadline=None,
                   zero_one=None) -> tuple[int, np.ndarray, bool]:
    r"""Best count among the points ``sign(w_j)`` (ties to +1), that point, and
    whether all ``s`` points were counted.

    ``zero_one``: the network on :math:`\{0,1\}^n` whose image on
    :math:`\{-1,1\}^n` ``net`` is (:func:`_certify_zero_one`); the points
    are then counted exactly on it at :math:`(1 - x)/2`, since ``net``'s
    rounded thresholds may count units that are not active.

    At ``x = sign(w_j)`` unit ``j`` reaches its largest pre-activation, so
    every unit that can be active somewhere is active at one of these points.
    The points are counted in blocks, the first of about ``_INITIAL_WORK``
    multiply-adds, each next one as large as all before it (every call reads
    all of ``W``, so blocks stay few); past ``deadline`` (``time.monotonic()``)
    the count stops after the current block, within about twice the time
    spent so far (``s = 4096, n = 784``: under a second in all).
    """
    s, n = net.weights.shape
    start, rows = 0, max(1, _INITIAL_WORK // max(1, s * n))
    best, witness = -1, None
    while start < s:
        candidates = np.where(net.weights[start:start + rows] >= 0.0, 1.0, -1.0)
        counts = (net._activation_counts(candidates) if zero_one is None
                  else zero_one._activation_counts((1.0 - candidates) / 2.0))
        top = int(np.argmax(counts))
        if counts[top] > best:  # the first maximum, as one argmax over all points
            best, witness = int(counts[top]), candidates[top].copy()
        start += rows
        rows = start
        if deadline is not None and start < s and time.monotonic() > deadline:
            return best, witness, False
    return best, witness, True


def _rounding_slack(weights, biases, valuation=None) -> np.ndarray:
    r"""Per-unit slack ``tol_j`` that makes every pruning test conservative.

    The search's bounds are sums of at most ``n + 1`` terms per unit, for up
    to ``m = JOINT_MAX_UNITS`` units at once, each of magnitude at most
    :math:`M_j = \sum_d |w_{jd}| + |b_j|`; their rounding error is below
    :math:`(n + m + 1)\,u \sum_j M_j` (:math:`u = 2^{-53}`), so
    ``tol_j = 2 (n + m + 1) eps M_j`` (``eps = 2 u``) covers it four times.
    When every weight and bias is a multiple of :math:`2^{-p}` and
    :math:`(m + 1) 2^p \max_j M_j \le 2^{53}`, all those sums are exact and
    the slack is 0, so even ties at exactly 0 are pruned.  ``valuation``:
    :func:`~sparselearn.network.min_valuation` of the parameters, if known
    (a network keeps it; a third of a second at ``s = 4096, n = 784``).
    """
    n = weights.shape[1]
    joint = _cube.JOINT_MAX_UNITS
    magnitude = np.abs(weights).sum(axis=1) + np.abs(biases)
    if valuation is None:
        valuation = min_valuation(weights, biases)
    if valuation == _NO_VALUATION:  # all zero
        return np.zeros_like(magnitude)
    p = max(0, -valuation)
    if p <= 53 and (joint + 1) * float(magnitude.max()) * 2.0**p <= 2.0**53:
        return np.zeros_like(magnitude)
    return 2.0 * (n + joint + 1) * np.finfo(np.float64).eps * magnitude


def _pairwise_core(weights, biases, tol, best, deadline=None) -> np.ndarray | None:
    r"""Units that can belong to a point with more than ``best`` active units.

    Units ``j`` and ``l`` can be active together only if
    :math:`\max_x (z_j + z_l) = \sum_d |w_{jd} + w_{ld}| - b_j - b_l > 0`
    (kept within the slack ``tol_j + tol_l``).  The active set of a point
    with ``c > best`` active units is a clique of ``c`` pairwise compatible
    units, each compatible with at least ``best`` others of it; so repeatedly
    discarding units compatible with fewer than ``best`` remaining units (the
    ``best``-core of the compatibility graph) never discards a member of
    such a set.  Returns the sorted indices of the surviving units, or
    ``None`` if ``time.monotonic()`` passes ``deadline`` first (the pairs
    cost :math:`O(s^2 n)`: minutes for a trained ``s = 4096, n = 784`` layer).
    """
    units = np.flatnonzero(np.abs(weights).sum(axis=1) - biases > -tol)
    if units.size <= best or best == 0:
        return units
    compatible = np.empty((units.size, units.size), dtype=bool)
    candidates, candidate_biases, candidate_tol = weights[units], biases[units], tol[units]
    for row, j in enumerate(units):
        if deadline is not None and time.monotonic() > deadline:
            return None
        pair_bound = (np.abs(candidates + weights[j]).sum(axis=1) - candidate_biases
                      - biases[j])
        compatible[row] = pair_bound > -(candidate_tol + tol[j])
    np.fill_diagonal(compatible, False)
    alive = np.ones(units.size, dtype=bool)
    while True:
        weak = alive & (compatible[:, alive].sum(axis=1) < best)
        if not weak.any():
            break
        alive &= ~weak
    return units[alive]


class Box:
    r"""The axis-aligned box :math:`\prod_d [\mathrm{lo}_d, \mathrm{hi}_d]`, a domain of
    :func:`certify_sparsity`.

    Parameters
    ----------
    lo, hi : float or array_like of shape (n,)
        Finite bounds, ``lo <= hi`` (scalars apply to every coordinate).

    Notes
    -----
    On a box the sparsity is a maximum feasible subsystem problem: the
    largest set :math:`S` of units with a point :math:`x` in the box where
    :math:`\langle w_j, x\rangle > b_j` for all :math:`j \in S`.  The
    search branches on the units (include first), pruning with interval
    bounds (a unit whose maximum over the box is not positive is never
    active) and the best count found.  A candidate set is tested with one
    LP (SciPy's HiGHS): maximise :math:`t \le 1` subject to
    :math:`(\langle w_j, x\rangle - b_j)/M_j \ge t` for :math:`j \in S`,
    :math:`x` in the box, with :math:`M_j = \|w_j\|_1\|x\|_\infty + |b_j|`
    over the box.  The set counts as feasible when :math:`t^* >`
    ``lp_tolerance`` (1e-6, ten times HiGHS's feasibility tolerance).  The
    LP's point is counted exactly; the certificate's ``max_active`` is that
    exact count, and it is returned only when it equals the largest
    feasible set found.  Guarantee: the witness has exactly ``max_active``
    active units, and no point of the box has more than ``max_active``
    units with relative margin above ``lp_tolerance``; units active only
    by a smaller margin can be missed (this is the LP's tolerance of the
    upper bound).  The search is exponential in the number of units in
    the worst case.

    ``certify_sparsity(net, domain=box, method="milp")`` solves the same
    problem as one mixed-integer program with ``scipy.optimize.milp``
    (HiGHS): maximise :math:`\sum_j a_j`, :math:`a_j \in \{0, 1\}`, over
    the units with :math:`\max_{\mathrm{box}} z_j >` ``lp_tolerance``
    (:math:`z_j = (\langle w_j, x\rangle - b_j)/M_j`), subject to
    :math:`z_j \ge \tau - (\tau - L_j)(1 - a_j)` with :math:`\tau` =
    ``lp_tolerance`` and the exact big-M :math:`L_j = \min_{\mathrm{box}} z_j`
    (interval arithmetic), plus :math:`a_j + a_l \le 1` for pairs whose
    maximum of :math:`\min(z_j, z_l)` over the box is below :math:`\tau`
    (interval arithmetic through the minimax theorem, with a ``1e-12`` margin
    against rounding, so a compatible pair is never cut).  It is
    solved with ``mip_rel_gap=0``.  The MILP's point, and the LP point of
    its active set (the LP above), are counted exactly; ``max_active`` is
    that exact count, returned only when it reaches HiGHS's proven optimum.
    Guarantee: the witness has exactly ``max_active`` active units (exact
    arithmetic, no tolerance), and no point of the box has more than
    ``max_active`` units with relative margin above ``lp_tolerance``,
    provided HiGHS's floating-point search is correct within its
    ``primal_feasibility_tolerance`` (1e-7) and ``mip_feasibility_tolerance``
    (1e-6) (the certificate's ``mip_tolerances``).  When the time or node
    budget runs out, :class:`CertificationIncomplete` carries the exact
    lower bound and HiGHS's dual bound as ``upper_bound``.
    """

    def __init__(self, lo, hi):
        lo_arr = np.atleast_1d(np.asarray(lo, dtype=np.float64))
        hi_arr = np.atleast_1d(np.asarray(hi, dtype=np.float64))
        if lo_arr.ndim != 1 or hi_arr.ndim != 1:
            raise ValueError("Box bounds must be scalars or 1-D arrays")
        if not (np.all(np.isfinite(lo_arr)) and np.all(np.isfinite(hi_arr))):
            raise ValueError("Box bounds must be finite")
        if lo_arr.size != hi_arr.size and 1 not in (lo_arr.size, hi_arr.size):
            raise ValueError(f"Box bounds lo and hi must have the same length (or be "
                             f"scalars), got {lo_arr.size} and {hi_arr.size}")
        lo_arr, hi_arr = np.broadcast_arrays(lo_arr, hi_arr)
        if np.any(lo_arr > hi_arr):
            d = int(np.flatnonzero(lo_arr > hi_arr)[0])
            raise ValueError(f"Box needs lo <= hi; coordinate {d} has lo={float(lo_arr[d])!r} "
                             f"> hi={float(hi_arr[d])!r}")
        self.lo, self.hi = lo_arr.copy(), hi_arr.copy()
        self.lo.flags.writeable = self.hi.flags.writeable = False

    def __repr__(self) -> str:
        return f"Box(lo={self.lo.tolist()}, hi={self.hi.tolist()})"


_LP_TOLERANCE = 1e-6


# HiGHS settings behind a method="milp" box certificate (scipy.optimize.milp
# passes mip_rel_gap; the two feasibility tolerances are HiGHS's defaults).
_MIP_TOLERANCES = {"mip_rel_gap": 0.0, "primal_feasibility_tolerance": 1e-7,
                   "mip_feasibility_tolerance": 1e-6}


def _box_problem(net, box):
    """Per-coordinate bounds and the normalised units ``(lo, hi, Wn, bn)``
    (``z_j = <Wn_j, x> - bn_j``, see :class:`Box`)."""
    n = net.n_features
    lo, hi = box.lo, box.hi
    if lo.shape[0] == 1 and n > 1:
        lo, hi = np.full(n, lo[0]), np.full(n, hi[0])
    if lo.shape[0] != n:
        raise ValueError(f"the Box has {lo.shape[0]} coordinates but the network has "
                         f"n_features={n}")
    W, b = net.weights, net.biases
    radius = float(max(np.abs(lo).max(), np.abs(hi).max()))
    scale = np.abs(W).sum(axis=1) * radius + np.abs(b)
    scale = np.where(scale > 0.0, scale, 1.0)
    return lo, hi, W / scale[:, None], b / scale


def _box_lp_point(Wn, bn, lo, hi, S):
    """The LP of :class:`Box` for the units ``S``: the box point maximising
    their smallest normalised margin ``t <= 1``, or ``None`` when
    ``t* <= lp_tolerance``."""
    from scipy.optimize import linprog

    n = lo.shape[0]
    bounds = [(float(l), float(h)) for l, h in zip(lo, hi)] + [(None, 1.0)]
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    A = np.hstack([-Wn[S], np.ones((len(S), 1))])
    res = linprog(cost, A_ub=A, b_ub=-bn[S], bounds=bounds, method="highs")
    if res.status != 0 or -res.fun <= _LP_TOLERANCE:
        return None
    return np.clip(res.x[:n], lo, hi)


def _box_conflicts(Wu, bu, lo, hi, tau) -> list:
    r"""Pairs ``(j, l)`` of units that cannot both reach margin ``tau`` on the box.

    By the minimax theorem :math:`\max_x \min(z_j, z_l) = \min_{\lambda \in
    [0, 1]} g(\lambda)`, :math:`g(\lambda) = \max_x (\lambda z_j + (1 -
    \lambda) z_l)` (interval arithmetic), a convex piecewise-linear function
    whose minimum lies at :math:`\lambda \in \{0, 1\}` or where a
    coordinate's combined weight changes sign; a pair is returned when that
    minimum is below ``tau`` by more than ``1e-12`` (far above the rounding
    error of the normalised sums, so no compatible pair is returned).
    """
    m, n = Wu.shape
    pairs = []
    step = max(1, 2**22 // ((n + 2) * max(n, 1)))
    for j in range(m - 1):
        for start in range(j + 1, m, step):
            wl, bl = Wu[start:start + step], bu[start:start + step]
            diff = wl - Wu[j]
            with np.errstate(divide="ignore", invalid="ignore"):
                lam = np.where(diff != 0.0, wl / diff, 0.0)
            lam = np.clip(np.concatenate([lam, np.zeros((len(wl), 1)),
                                          np.ones((len(wl), 1))], axis=1), 0.0, 1.0)
            w = lam[:, :, None] * Wu[j] + (1.0 - lam[:, :, None]) * wl[:, None, :]
            g = (np.maximum(w * lo, w * hi).sum(axis=2)
                 - (lam * bu[j] + (1.0 - lam) * bl[:, None]))
            for l in np.flatnonzero(g.min(axis=1) + 1e-12 < tau).tolist():
                pairs.append((j, start + l))
    return pairs


@contextlib.contextmanager
def _c_stdout_silenced():
    """File descriptor 1 points to ``/dev/null`` inside the block.

    HiGHS writes some internal diagnostics with C ``printf``, past scipy's
    ``disp=False`` (``HighsMipSolverData::transformNewIntegerFeasibleSolution
    tmpSolver.run();`` when a MIP does not settle at the root node), into
    the caller's standard output: it broke ``sparselearn certify --json``.
    Python-level output of other threads meanwhile is lost too, so the block
    holds only the solver call.
    """
    sys.stdout.flush()
    _flush_c_stdio()  # earlier C output keeps its place before the block
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (a daemon): nothing to silence
        saved = None
    if saved is not None:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    try:
        yield
    finally:
        if saved is not None:
            # C's stdout buffer (full buffering on a pipe or file) would
            # otherwise write the solver's lines after fd 1 is restored.
            _flush_c_stdio()
            os.dup2(saved, 1)
            os.close(saved)


def _flush_c_stdio() -> None:
    """``fflush(NULL)``: write out every C stdio buffer of the process."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to ask (not on Linux/macOS)
        pass


def _certify_box_milp(net, box, max_nodes, time_limit, start_time,
                      max_bytes=None) -> SparsityCertificate:
    """``certify_sparsity(..., method="milp")`` over a :class:`Box` (see its notes)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    lo, hi, Wn, bn = _box_problem(net, box)
    n, tau = lo.shape[0], _LP_TOLERANCE

    def exact_count(x):
        return int(net.activation_counts(x[None, :])[0])

    witness = (lo + hi) / 2.0
    best = exact_count(witness)
    units = np.flatnonzero(np.maximum(Wn * lo, Wn * hi).sum(axis=1) - bn > tau)
    m = units.size
    upper, n_nodes = 0, 0
    if m:
        check_memory(8.0 * m * (n + 3 * m),
                     f"the MILP constraint matrix ({m} units, n={n})", max_bytes)
        Wu, bu = Wn[units], bn[units]
        low = np.minimum(Wu * lo, Wu * hi).sum(axis=1) - bu
        pairs = _box_conflicts(Wu, bu, lo, hi, tau)
        constraints = [LinearConstraint(np.hstack([Wu, -np.diag(tau - low)]),
                                        lb=low + bu, ub=np.inf)]
        if pairs:
            rows = np.repeat(np.arange(len(pairs)), 2)
            cols = n + np.asarray(pairs).ravel()
            constraints.append(LinearConstraint(
                coo_matrix((np.ones(rows.size), (rows, cols)), shape=(len(pairs), n + m)),
                ub=1.0))
        options = {"mip_rel_gap": _MIP_TOLERANCES["mip_rel_gap"]}
        if max_nodes is not None:
            options["node_limit"] = max_nodes
        if time_limit is not None:
            remaining = start_time + time_limit - time.monotonic()
            if remaining <= 0.0:
                raise CertificationIncomplete(
                    "box MILP stopped by time_limit before it started", best,
                    witness.copy(), 0, time.monotonic() - start_time, upper_bound=int(m))
            options["time_limit"] = remaining
        with _c_stdout_silenced():
            result = milp(np.concatenate([np.zeros(n), -np.ones(m)]),
                          constraints=constraints,
                          integrality=np.concatenate([np.zeros(n), np.ones(m)]),
                          bounds=Bounds(np.concatenate([lo, np.zeros(m)]),
                                        np.concatenate([hi, np.ones(m)])),
                          options=options)
        n_nodes = int(result.mip_node_count or 0)
        if result.x is not None:
            x = np.clip(result.x[:n], lo, hi)
            points = [x]
            S = units[result.x[n:] > 0.5]
            if S.size:
                polished = _box_lp_point(Wn, bn, lo, hi, S)
                if polished is not None:
                    points.append(polished)
            for x in points:
                count = exact_count(x)
                if count > best:
                    best, witness = count, x
        if result.mip_dual_bound is not None and np.isfinite(result.mip_dual_bound):
            upper = int(math.floor(-result.mip_dual_bound + 1e-6))
        else:
            upper = m
        if result.status != 0:
            raise CertificationIncomplete(
                f"box MILP stopped ({result.message}); {best} <= max_active <= {upper}",
                best, witness.copy(), n_nodes, time.monotonic() - start_time,
                upper_bound=upper)
    if best < upper:
        raise CertificationIncomplete(
            f"on the box, HiGHS's MILP optimum is {upper} units with margin > {tau:g} "
            f"but the best point found has {best} exactly active units",
            best, witness.copy(), n_nodes, time.monotonic() - start_time, upper_bound=upper)
    witness = np.array(witness)
    witness.flags.writeable = False
    return SparsityCertificate(max_active=best, witness=witness, initial_bound=0,
                               n_candidate_units=int(m), n_nodes=n_nodes,
                               n_leaf_points=0, elapsed=time.monotonic() - start_time,
                               domain="box", lp_tolerance=tau, method="milp",
                               mip_tolerances=dict(_MIP_TOLERANCES))


def _certify_box(net, box, max_nodes, time_limit, start_time) -> SparsityCertificate:
    """``certify_sparsity`` over a :class:`Box` (see its notes)."""
    lo, hi, Wn, bn = _box_problem(net, box)
    z_max = np.maximum(Wn * lo, Wn * hi).sum(axis=1) - bn
    candidates = np.flatnonzero(z_max > _LP_TOLERANCE)
    candidates = candidates[np.argsort(-z_max[candidates], kind="stable")]

    def feasible(S):
        return _box_lp_point(Wn, bn, lo, hi, S)

    def exact_count(x):
        return int(net.activation_counts(x[None, :])[0])

    witness = (lo + hi) / 2.0
    best = exact_count(witness)
    largest = 0          # largest LP-feasible set found
    nodes = 0
    deadline = None if time_limit is None else start_time + time_limit

    def search(S, position):
        nonlocal best, witness, largest, nodes
        nodes += 1
        if ((max_nodes is not None and nodes > max_nodes)
                or (deadline is not None and time.monotonic() > deadline)):
            raise CertificationIncomplete(
                "box search stopped by max_nodes or time_limit", best, witness.copy(), nodes,
                time.monotonic() - start_time)
        if len(S) + candidates.size - position <= max(best, largest):
            return
        j = int(candidates[position])
        x = feasible(S + [j])
        if x is not None:
            largest = max(largest, len(S) + 1)
            count = exact_count(x)
            if count > best:
                best, witness = count, x
            search(S + [j], position + 1)
        search(S, position + 1)

    if candidates.size:
        search([], 0)
    if best < largest:
        raise CertificationIncomplete(
            f"on the box, a set of {largest} units is LP-feasible (margin > "
            f"{_LP_TOLERANCE:g}) but the best point found has {best} exactly active units",
            best, witness.copy(), nodes, time.monotonic() - start_time)
    witness = np.array(witness)
    witness.flags.writeable = False
    return SparsityCertificate(max_active=best, witness=witness, initial_bound=0,
                               n_candidate_units=int(candidates.size), n_nodes=nodes,
                               n_leaf_points=0, elapsed=time.monotonic() - start_time,
                               domain="box", lp_tolerance=_LP_TOLERANCE, method="bnb")


def _certify_points(net, points_, start_time) -> SparsityCertificate:
    """Exact maximum of ``|A(x)|`` over the rows of ``points_`` (exact counts)."""
    P = check_matrix(points_, "domain", n_columns=net.n_features, exact=True)
    counts = net.activation_counts(P)
    i = int(np.argmax(counts))
    witness = P[i].copy()
    witness.flags.writeable = False
    best = int(counts[i])
    return SparsityCertificate(max_active=best, witness=witness, initial_bound=best,
                               n_candidate_units=net.width, n_nodes=0,
                               n_leaf_points=int(P.shape[0]),
                               elapsed=time.monotonic() - start_time, domain="points")


def _zero_one_thresholds(net) -> tuple[np.ndarray, np.ndarray, bool]:
    r"""Thresholds of the :math:`\pm 1` network equivalent to ``net`` on :math:`\{0,1\}^n`.

    With :math:`x_{01} = (1 - x)/2`, :math:`2(\langle w, x_{01}\rangle - b) =
    \langle -w, x\rangle - \tau` with :math:`\tau = 2b - \sum_d w_d`
    (exactly; ``-w`` and ``2b`` are exact in float64).  Returns ``(low,
    high, exact)``: floats with :math:`\mathrm{low}_j \le \tau_j \le
    \mathrm{high}_j`, equal to :math:`\tau_j` where it is a float64
    (``exact`` when that holds for every unit).
    """
    low = np.empty(net.width)
    high = np.empty(net.width)
    exact = True
    for j, (w, b) in enumerate(zip((-net.weights).tolist(), net.biases.tolist())):
        terms = [2.0 * b] + w
        near = math.fsum(terms)           # correctly rounded
        # The exact sum minus near is a multiple of 2^-1074, so its correctly
        # rounded value is 0 only when it is 0: an exact test without
        # Fractions (which took minutes on a trained s = 4096, n = 784 layer).
        terms.append(-near)
        if math.fsum(terms) == 0.0:
            low[j] = high[j] = near
        else:
            exact = False
            low[j], high[j] = math.nextafter(near, -math.inf), math.nextafter(near, math.inf)
    return low, high, exact


# Up to this n, a refused search suggests certifying on the list of all 2^n
# points (8 n 2^n bytes: 160 MiB at n = 20).
_HISTOGRAM_HINT_BITS = 20


def _certify_zero_one(net, max_nodes, time_limit, start_time,
                      max_bytes=None) -> SparsityCertificate:
    r"""``certify_sparsity`` over :math:`\{0,1\}^n` (see its notes)."""
    low, high, _ = _zero_one_thresholds(net)
    if not np.all(np.isfinite(2.0 * net.biases)):
        raise ValueError("biases beyond float64's max / 2 cannot be certified on {0,1}^n; "
                         "rescale the network (u relu(<w, x> - b) = (c u) relu(<w/c, x> - b/c))")
    # Thresholds low <= tau keep every truly active unit possible (the
    # search's pruning stays conservative); counts are exact on net itself.
    image = SparseReLUNetwork(-net.weights, low, net.output_weights)
    try:
        cert = _certify_cube(image, max_nodes, time_limit, start_time, max_bytes,
                             zero_one=net, spread=high - low)
    except CertificationIncomplete as exc:
        # The search's own message (where it stopped: starting points,
        # pairing or subcubes), its witness mapped to {0,1}^n.
        point = (1.0 - exc.witness) / 2.0
        message = str(exc).replace("certify_sparsity stopped",
                                   "certify_sparsity on {0,1}^n stopped", 1)
        raise CertificationIncomplete(message, exc.lower_bound, point, exc.n_nodes,
                                      exc.elapsed) from None
    witness = (1.0 - cert.witness) / 2.0    # exact on +-1
    witness.flags.writeable = False
    return dataclasses.replace(cert, witness=witness, elapsed=time.monotonic() - start_time,
                               domain="01")


def certify_sparsity(net, *, max_nodes=None, time_limit=None,
                     domain="pm1", method="bnb", max_bytes=None) -> SparsityCertificate:
    r"""Exact sparsity :math:`\max_{x \in \{-1,1\}^n} |A(x)|` by branch and bound.

    The search fixes coordinates one at a time, depth first, in order of
    decreasing total weight :math:`\sum_j |w_{jd}|`.  With the coordinates
    in :math:`F` fixed, unit :math:`j` can be active somewhere in the
    subcube only if

    .. math::

        \mathrm{ub}_j = \sum_{d \in F} w_{jd} x_d
                        + \sum_{d \notin F} |w_{jd}| - b_j > 0,

    which is the exact maximum of its pre-activation on the subcube.  A
    subcube is skipped when its number of such *possible* units is no more
    than the best count found, since no point in it can do better; the child
    with more possible units is explored first; subcubes with at most
    :math:`2^6` points are finished by a Gray-code walk over their possible
    units.  The best count starts at that of the best row of
    :math:`\mathrm{sign}(W)`, and the first 8 coordinates split the search
    into independent tasks run in parallel.

    Joint tests.  Units :math:`j, l` can be active at the same point of a
    subcube only if the subcube maximum of :math:`z_j + z_l` (computed like
    :math:`\mathrm{ub}_j`, with :math:`|w_{jd} + w_{ld}|` on free
    coordinates) is positive, and a point beating the best count ``c`` has
    ``c + 1`` pairwise compatible active units.  Before the search, only the
    ``c``-core of this compatibility graph (left after repeatedly discarding
    units compatible with fewer than ``c`` others) is kept; if it has at
    most ``c`` units the starting point is optimal.  Inside the search, a
    subcube with at most 8 possible units keeps only those in some clique of
    more than ``c`` compatible units (all subsets are checked), and when
    exactly ``c + 1`` remain, the subcube maximum of their sum must be
    positive.  This is what separates units that can never be active
    together, such as the bumps of one group in
    :func:`sparselearn.targets.bump_network`.

    Rounding.  Every test compares a bound with :math:`-\mathrm{tol}`
    rather than 0, where :math:`\mathrm{tol}_j = 2(n + 9)\,\epsilon\,M_j`
    (:math:`M_j = \sum_d |w_{jd}| + |b_j|`, :math:`\epsilon = 2^{-52}`)
    exceeds the rounding error of the bound, so rounding can only make the
    search visit more subcubes, never change its answer.  When all weights
    and biases are dyadic with small denominators (multiples of
    :math:`2^{-p}` with :math:`9 \cdot 2^p \max_j M_j \le 2^{53}`) every
    bound is computed exactly and the slack is 0.  Counts at the points the
    search visits (the starting rows and the leaf walks) are exact, as in
    the module notes, so ``max_active`` is the exact maximum and the witness
    attains it when checked with
    :meth:`~sparselearn.SparseReLUNetwork.activation_counts`.

    Parameters
    ----------
    net : SparseReLUNetwork
    max_nodes : int, optional
        Stop after visiting about this many subcubes (checked per task and
        between batches of tasks).
    time_limit : float, optional
        Stop after about this many seconds (checked while counting the
        starting points, while pairing the units, and inside the search every
        1024 subcubes).  Ctrl-C is honoured between batches of tasks; use
        ``time_limit`` to bound a search that may be long.
    domain : {"pm1", "01"}, Box or array_like of shape (m, n), default="pm1"
        Where the maximum is taken: :math:`\{-1,1\}^n`, :math:`\{0,1\}^n`,
        a :class:`Box` (LP-based, with the tolerance its notes state), or
        the finite set of rows of an array (exact counts by
        :meth:`~sparselearn.SparseReLUNetwork.activation_counts`; the
        witness is a row attaining the maximum).  On :math:`\{0,1\}^n` the
        change of variables :math:`x_{01} = (1 - x)/2` turns the network
        into one on :math:`\{-1,1\}^n` with weights :math:`-w_j` and
        thresholds :math:`\tau_j = 2b_j - \sum_d w_{jd}` (twice the
        pre-activation, same sign).  :math:`\tau_j` is a sum of floats:
        where it is not a float64, the search prunes with the float just
        below it (every truly active unit stays possible), while every
        count it makes (the starting points and the leaf walks, whose
        rounding band is widened by that float's distance to
        :math:`\tau_j`) is exact on the original network at
        :math:`x_{01}`.  A returned value is therefore the exact maximum
        under the exact activity rule, for any ``n``.
    method : {"bnb", "milp"}, default="bnb"
        On a :class:`Box` only: ``"bnb"``, the branch and bound over units
        with one LP per node, or ``"milp"``, one mixed-integer program
        solved by HiGHS (``scipy.optimize.milp``), whose witness is checked
        exactly and whose upper bound rests on the HiGHS tolerances stated in
        :class:`Box` (much faster on boxes such as the pixel box
        :math:`[0, 16]^{64}`: ``benchmarks/compare_certify.py``).  The
        other domains take ``"bnb"`` only.
    max_bytes : float, optional
        Memory budget (default 4 GiB) of the search on the cubes, whose
        workspace holds the pairwise compatibility of the units (about
        :math:`16 s^2` bytes), and of ``method="milp"``'s constraint matrix;
        a larger need is refused before allocating.

    Returns
    -------
    SparsityCertificate
        ``max_active``, a ``witness`` point attaining it, and search
        statistics.  Returned only when the whole tree was exhausted.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~sparselearn.SparseReLUNetwork`.
    CertificationIncomplete
        If a budget ran out first; the exception carries the best lower
        bound and its witness, never a certified value.
    MemoryBudgetError
        If the search would need more than ``max_bytes``.

    Notes
    -----
    The running time depends on the network, not just on ``n``.  Bump
    networks (:func:`sparselearn.targets.bump_network`, ``s = 64``,
    ``k = 2``) are settled by the pairwise reduction before any branching
    (``n = 1024`` in about 0.1 s); without it, the subcube search alone
    certifies them at ``n = 40`` in 0.2 s and ``n = 54`` in about 10 s on
    two cores.  The tree is the whole cube when many units can
    be active together, as in dense random networks.

    The result, the witness and the statistics do not depend on the number
    of threads: each batch of tasks starts from the best count of the
    previous batches, and ties are broken by task order.

    Examples
    --------
    >>> from sparselearn import cube, targets
    >>> net = targets.bump_network(16, 8, 2, random_state=0)
    >>> cert = cube.certify_sparsity(net)
    >>> cert.max_active
    2
    >>> int(net.activation_counts(cert.witness[None, :])[0])
    2
    """
    start_time = time.monotonic()
    net = _check_network(net)
    if max_nodes is not None:
        max_nodes = check_int(max_nodes, "max_nodes", minimum=1)
    if time_limit is not None:
        time_limit = check_float(time_limit, "time_limit", minimum=0.0, strict_minimum=True)
    if method not in ("bnb", "milp"):
        raise ValueError(f"method must be 'bnb' or 'milp', got {method!r}")
    if method == "milp" and not isinstance(domain, Box):
        raise ValueError("method='milp' applies to a Box domain only; use method='bnb' "
                         f"(the default) for domain={domain!r}"
                         if isinstance(domain, str) else
                         "method='milp' applies to a Box domain only; use method='bnb' "
                         "(the default) for a domain of points")
    if isinstance(domain, str):
        if domain not in ("pm1", "01"):
            raise ValueError(f"domain must be 'pm1', '01', a cube.Box or an (m, n) array of "
                             f"points, got {domain!r}")
        if domain == "01":
            return _certify_zero_one(net, max_nodes, time_limit, start_time, max_bytes)
    elif isinstance(domain, Box):
        if method == "milp":
            return _certify_box_milp(net, domain, max_nodes, time_limit, start_time, max_bytes)
        return _certify_box(net, domain, max_nodes, time_limit, start_time)
    else:
        return _certify_points(net, domain, start_time)
    return _certify_cube(net, max_nodes, time_limit, start_time, max_bytes)


def _certify_cube(net, max_nodes, time_limit, start_time, max_bytes,
                  zero_one=None, spread=None) -> SparsityCertificate:
    r"""``certify_sparsity`` over :math:`\{-1,1\}^n`.

    ``zero_one``, ``spread``: ``net`` is the image of the network
    ``zero_one`` on :math:`\{0,1\}^n` with thresholds at most ``spread``
    below the exact :math:`\tau_j` (:func:`_certify_zero_one`); every count
    (starting points, leaf walks) is then exact for ``zero_one``.
    """
    s, n = net.width, net.n_features
    leaf_bits = min(n, _LEAF_BITS)
    split_depth = min(n - leaf_bits, _SPLIT_BITS)
    threads = _cube.max_threads()
    try:
        check_memory(threads * (n + 1) * s * 12.0 + 8.0 * (n + 2 * s) * s,
                     f"the branch-and-bound workspace (n={n}, s={s}, {threads} threads)",
                     max_bytes)
    except MemoryBudgetError as exc:
        if n > _HISTOGRAM_HINT_BITS:
            raise
        # A wide network on few inputs: the points themselves are few.
        hint = MemoryBudgetError(f"{exc} With n={n}, count the 2^n points exactly instead: "
                                 "certify_sparsity(net, domain=cube.points(n)) over "
                                 "{-1,1}^n, domain=(1 - cube.points(n)) / 2 over {0,1}^n.")
        hint.what, hint.needed, hint.budget = exc.what, exc.needed, exc.budget
        raise hint from None

    tol = _rounding_slack(net.weights, net.biases, net._valuation)
    deadline = 0.0 if time_limit is None else start_time + time_limit
    best, witness, complete = _initial_bound(net, None if time_limit is None else deadline,
                                             zero_one)
    if not complete:
        elapsed = time.monotonic() - start_time
        raise CertificationIncomplete(
            f"certify_sparsity stopped after {elapsed:.3g} s (the time_limit of {time_limit} "
            f"s), while counting the starting points sign(w_j) of the {s} units: the sparsity "
            f"is at least {best} (see .witness) but the maximum is NOT certified; raise "
            "time_limit=.", best, witness, 0, elapsed)
    initial = best
    units = _pairwise_core(net.weights, net.biases, tol, best,
                           deadline=None if time_limit is None else deadline)
    if units is None:
        elapsed = time.monotonic() - start_time
        raise CertificationIncomplete(
            f"certify_sparsity stopped after {elapsed:.3g} s (the time_limit of {time_limit} "
            f"s), while pairing the {s} units before any subcube: the sparsity is at least "
            f"{best} (see .witness) but the maximum is NOT certified; raise time_limit=.",
            best, witness, 0, elapsed)
    if units.size <= best:
        # No best + 1 units are pairwise compatible: the start is optimal.
        witness.flags.writeable = False
        return SparsityCertificate(max_active=best, witness=witness, initial_bound=initial,
                                   n_candidate_units=int(units.size), n_nodes=0,
                                   n_leaf_points=0, elapsed=time.monotonic() - start_time)

    weights, biases, tol = net.weights[units], net.biases[units], tol[units]
    walk_tol = _walk_tolerance(weights, biases, 2**leaf_bits)
    zero_one_biases = np.empty(0)
    if zero_one is not None:
        # The walk computes z for the rounded thresholds: widen its band by
        # their distance to tau (at most spread), and decide on zero_one.
        walk_tol = np.ascontiguousarray(walk_tol + 2.0 * spread[units])
        zero_one_biases = np.ascontiguousarray(zero_one.biases[units])
    order = np.argsort(-np.abs(weights).sum(axis=0), kind="stable")
    weights_t = np.ascontiguousarray(weights[:, order].T)

    # Tasks: the 2^split_depth prefixes, richest (most possible units) first.
    prefixes = np.arange(2**split_depth, dtype=np.uint64)
    if split_depth > 0:
        head = points(split_depth)
        bounds = (head @ weights_t[:split_depth] + np.abs(weights_t[split_depth:]).sum(axis=0)
                  - biases)
        richness = np.count_nonzero(bounds > -tol, axis=1)
        prefixes = np.ascontiguousarray(prefixes[np.argsort(-richness, kind="stable")])

    n_nodes = n_leaf_points = 0
    reason = None
    first, batch_size = 0, _BATCH_TASKS
    # The first batch runs on one thread; later ones on the default team
    # once the previous batch, scaled to the next one's size, took
    # _PARALLEL_SECONDS (tasks are independent: results do not depend on it).
    batch_threads = 1
    while first < prefixes.shape[0]:
        batch_start = time.monotonic()
        batch = prefixes[first:first + batch_size]
        size = batch.shape[0]
        found = np.empty(size, dtype=np.int64)
        found_x = np.empty((size, n), dtype=np.int8)
        nodes = np.empty(size, dtype=np.int64)
        leaf_points = np.empty(size, dtype=np.int64)
        status = np.empty(size, dtype=np.int32)
        node_limit = 2**62 if max_nodes is None else max(1, max_nodes - n_nodes)
        _cube.max_active(weights_t, biases, tol, walk_tol, zero_one_biases, batch,
                         split_depth, leaf_bits, best, node_limit, deadline, found, found_x, nodes,
                         leaf_points, status, batch_threads)
        if batch_threads == 1 and (time.monotonic() - batch_start) * 2 >= _PARALLEL_SECONDS:
            batch_threads = 0
        n_nodes += int(nodes.sum())
        n_leaf_points += int(leaf_points.sum())
        if np.any(status == _cube.STATUS_NO_MEMORY):
            raise MemoryError("certify_sparsity: the search ran out of memory")
        top = int(np.argmax(found))
        if found[top] > best:
            best = int(found[top])
            witness = np.empty(n, dtype=np.float64)
            witness[order] = found_x[top]
        if np.any(status == _cube.STATUS_NODE_LIMIT):
            reason = f"more than max_nodes={max_nodes} subcubes"
        elif np.any(status == _cube.STATUS_DEADLINE):
            reason = f"the time_limit of {time_limit} s"
        elif first + size < prefixes.shape[0]:
            if max_nodes is not None and n_nodes >= max_nodes:
                reason = f"more than max_nodes={max_nodes} subcubes"
            elif time_limit is not None and time.monotonic() > deadline:
                reason = f"the time_limit of {time_limit} s"
        if reason is not None:
            elapsed = time.monotonic() - start_time
            raise CertificationIncomplete(
                f"certify_sparsity stopped after {n_nodes} subcubes and {elapsed:.3g} s "
                f"({reason}): the sparsity is at least {best} (see .witness) but the "
                "maximum is NOT certified; raise max_nodes= or time_limit=.",
                best, witness, n_nodes, elapsed)
        first, batch_size = first + size, 2 * batch_size
    witness.flags.writeable = False
    return SparsityCertificate(max_active=best, witness=witness, initial_bound=initial,
                               n_candidate_units=int(units.size), n_nodes=n_nodes,
                               n_leaf_points=n_leaf_points,
                               elapsed=time.monotonic() - start_time)
