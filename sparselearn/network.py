r"""The one-hidden-layer ReLU network whose hidden activations are sparse.

A network of width :math:`s` on :math:`\mathbb{R}^n` computes

.. math::

    h(x) = \sum_{j=1}^{s} u_j \,\mathrm{relu}(\langle w_j, x\rangle - b_j) + c,

with hidden weights ``weights`` (shape ``(s, n)``), biases ``biases``
(``(s,)``), output weights ``output_weights`` (``(s,)``) and an optional
output bias ``c``.  A *multi-output* network (an MLP block
:math:`x \mapsto U^\top \mathrm{relu}(Wx - b) + c`) has output weights of
shape ``(s, o)`` and an output bias of shape ``(o,)``; it computes ``o``
such functions on one shared hidden layer, so everything that depends only
on the hidden layer (supports, counts, histograms, certificates) is the same
for every output.  The *active support* of ``x`` is
:math:`A(x) = \{j : \langle w_j, x\rangle - b_j > 0\}` (strictly positive: a
unit at exactly zero contributes nothing and counts as inactive), and the
network is :math:`k`-sparse on a set :math:`X_0` when
:math:`|A(x)| \le k` for every :math:`x \in X_0` (docs/theory.rst, section 2).

Exact activity
--------------
Unit :math:`j` is active at :math:`x` when the **real number**
:math:`\langle w_j, x\rangle - b_j`, computed exactly from the stored
float64 values of :math:`w_j`, :math:`x` and :math:`b_j`, is strictly
positive.  Every method here that decides activity (the ReLU gating of
:meth:`~SparseReLUNetwork.forward`, :meth:`~SparseReLUNetwork.active_supports`,
:meth:`~SparseReLUNetwork.activation_counts`,
:meth:`~SparseReLUNetwork.sparsity`), and the walks and certificates of
:mod:`sparselearn.cube`, agree with that definition on every finite float64
input, whatever the weights (decimals such as 0.1, integers up to
:math:`2^{1000}`, values near the float64 limits).

How.  The inner products come from BLAS; whatever order it sums in, the
computed :math:`\hat z_{ij}` satisfies
:math:`|\hat z_{ij} - z_{ij}| \le \gamma_{n+1}(\|w_j\|_1 \|x_i\|_\infty + |b_j|)`
(:math:`\gamma_k = k u / (1 - k u)`, :math:`u = 2^{-53}`).  The kernels use
twice that bound: outside it the sign of :math:`\hat z` is the exact sign;
inside it (a near-tie) the pre-activation is re-evaluated exactly, as an
error-free expansion sum of the products (``fma`` splits each product
exactly, Shewchuk's grow-expansion sums them, as ``math.fsum`` does); products
beyond :math:`2^{\pm 960}` (tiny or subnormal factors, values near the float64
limits) are summed instead as integer multiples of :math:`2^{-2148}` in a
4352-bit fixed-point accumulator, exactly (in C, a few nanoseconds per term:
a network of :math:`10^{-300}` weights on :math:`10^{-20}` inputs, where every
pair is a near-tie, takes about 10 times as long as Gaussian weights on
Gaussian inputs).  When all parameters are multiples of :math:`2^v` and
the row's entries multiples of :math:`2^{v_x}` with every partial sum
below :math:`2^{52 + v + \min(v_x, 0)}`, the float computation is itself
exact and no re-evaluation happens (the dyadic fast path: small-denominator
weights on cube points).  The forward pass adds :math:`u_j \max(\hat z_{ij}, 0)`
for the exactly active units only, so an exactly inactive unit contributes
exactly nothing.

Float32 screening.  :meth:`~SparseReLUNetwork.activation_counts` and
:meth:`~SparseReLUNetwork.active_supports` need signs only, so they first
multiply in float32 (``sgemm`` on float32 copies of :math:`W` and of each
block of rows, about twice as fast as ``dgemm``).  Whatever order BLAS sums
in, that product is within
:math:`\gamma_{n+2}\|w_j\|_1\|x\|_\infty + \eta_j` of the exact
:math:`\langle w_j, x_i\rangle` (:math:`u = 2^{-24}`; :math:`\eta_j` covers
float32 underflow), so it decides every pair outside that band; the pairs
inside it are re-decided by the float64 rule above (and exactly when that
is in doubt too), and a block with many of them (ties everywhere, e.g.
decimal weights on cube points) is redone in float64.  The results are the
exact ones either way; ``python benchmarks/compare_decisions.py`` times
both paths.  :meth:`~SparseReLUNetwork.forward` needs float64 values and is
not screened.

Cost (``python benchmarks/compare_exactness.py``, one thread, ``m = 50,000``
points of the cube, ``n = 64``, ``s = 256``): with Gaussian weights near-ties
are rare and :meth:`~SparseReLUNetwork.activation_counts` takes 1.2x the time
of the plain float decision; with dyadic weights (multiples of 1/8) 1.0-1.3x;
with decimal weights (multiples of 0.1) 5x, because 0.8% of all pairs are
near-ties and are re-evaluated exactly, and there the float decision was
wrong on half of the rows.

Threads.  :meth:`~SparseReLUNetwork.forward` (single and multi-output),
:meth:`~SparseReLUNetwork.activation_counts` and
:meth:`~SparseReLUNetwork.active_supports` open one OpenMP parallel region
per call, in which each thread computes the inner products of its blocks of
rows with a one-thread BLAS product and decides them while they are in
cache; BLAS is held to one thread for the call (``threadpoolctl``), so BLAS
and OpenMP threads never compete for the cores.  Results do not depend on
the thread count (``python benchmarks/compare_threads.py`` times one
thread against the default).
"""
from __future__ import annotations

import contextlib
import functools
import math
import threading
import warnings
from fractions import Fraction

import numpy as np
from threadpoolctl import ThreadpoolController

from ._kernels import _network
from . import io as _io
from ._validation import check_float, check_int, check_matrix, check_vector

# Rows per chunk are chosen so the chunk's inner products ``X @ W.T`` take
# about this many bytes: large enough for BLAS efficiency, small enough to
# keep memory flat for any number of rows.
_CHUNK_BYTES = 16 * 2**20

# The kernels that compute their own inner products (one OpenMP parallel
# region per call) do so in blocks of rows of about this many bytes each.
_BLOCK_BYTES = 4 * 2**20

# Calls below this many multiply-adds (m s (n + 8)) run on one thread: a few
# milliseconds of work, about what waking a second thread can cost.
_PARALLEL_WORK = 2**26

# activation_counts and active_supports screen their decisions in float32
# (count_rows32 / supports_rows32, see _screen_args); False runs the float64
# kernels (the same decisions; benchmarks and tests compare the two).
_FLOAT32_SCREENING = True

# A block of rows whose float32 candidates (entries within the float32
# rounding bound of a threshold) exceed this fraction of its entries is
# redone in float64: re-deciding them one float64 inner product at a time
# would cost more than the block's dgemm.
_MAX_NEAR = 1.0 / 16

# The float32 path's blocks hold float32 products (4 bytes each) and at least
# this many rows: every sgemm call packs all of W again, which for few rows
# costs about as much as the product (n = 64, s = 16384: blocks of 32 rows
# took 1.3x the CPU time of 128-512).
_MIN_ROWS32 = 256

# Networks wider than this many units are not screened: the float32 path's
# blocks keep at least _MIN_ROWS32 rows, and its float64 fallback's scratch
# (8 bytes a unit a row, per thread) would grow past 32 MiB per thread with
# the width (512 MiB at s = 2^18), against the float64 kernels' 4 MiB.
_MAX_SCREEN_WIDTH = 8 * _BLOCK_BYTES // (8 * _MIN_ROWS32)

# Calls below this many multiply-adds (m s (n + 8)) are not screened: the
# float32 set-up (thresholds, a float32 copy of W) costs about 0.1 ms, as
# much as the float64 kernel takes there.
_SCREEN_WORK = 2**21

# The float32 screening is used when |w_jd|, |x_id| and ||w_j||_1 ||x||_inf
# are at most this (nothing overflows float32, whose limit is about 2^128).
_FLOAT32_MAX = 2.0**100


@functools.lru_cache(maxsize=None)
def _blas_pools() -> ThreadpoolController:
    """The process's thread pools, inspected once (a few ms), after SciPy's
    BLAS (the one the kernels call) is loaded."""
    import scipy.linalg.cython_blas  # noqa: F401
    return ThreadpoolController()


_thread_holds = {"blas": {"depth": 0, "limiter": None},
                 "openmp": {"depth": 0, "limiter": None}}
_thread_hold_lock = threading.Lock()


@contextlib.contextmanager
def _one_thread_pool(user_api: str):
    """Context holding the ``user_api`` (``"blas"`` or ``"openmp"``) thread
    pools to one thread.

    Their thread count is process-wide: holds overlapping in several Python
    threads, from any module, share one (set by the first to enter, restored
    by the last to leave), so none restores a count another one set.  A
    plain ``threadpool_limits`` overlapping another in a second thread can
    capture the other's 1 as "original" and leave it set for good.
    """
    hold = _thread_holds[user_api]
    with _thread_hold_lock:
        if hold["depth"] == 0:
            hold["limiter"] = _blas_pools().limit(limits=1, user_api=user_api)
        hold["depth"] += 1
    try:
        yield
    finally:
        with _thread_hold_lock:
            hold["depth"] -= 1
            if hold["depth"] == 0:
                hold["limiter"].restore_original_limits()
                hold["limiter"] = None


def _one_thread_blas():
    """Context holding BLAS to one thread (:func:`_one_thread_pool`): the
    one-region kernels call BLAS from every OpenMP thread, each thread's
    product on its own core."""
    return _one_thread_pool("blas")


@contextlib.contextmanager
def _one_thread_all():
    """BLAS and OpenMP both held to one thread (shared holds, as
    :func:`_one_thread_pool`)."""
    with _one_thread_pool("blas"), _one_thread_pool("openmp"):
        yield


# Format 2 (this version) also stores multi-output networks: output_weights
# (s,) or (s, o), output_bias () or (o,).  Format 1 (single output only) is
# still read.
_SAVE_FORMAT = "sparselearn.SparseReLUNetwork/2"
_READ_FORMATS = (_SAVE_FORMAT, "sparselearn.SparseReLUNetwork/1")

#: Largest ``||w_j||_1 + |b_j|`` a network may have (see the constructor).
_MAX_MAGNITUDE = 2.0**1020

#: Valuation reported for an all-zero parameter set (larger than any float64's).
_NO_VALUATION = 4096


def min_valuation(*arrays) -> int:
    r"""Largest :math:`v` such that every entry of ``arrays`` is a multiple of :math:`2^v`.

    Every finite float64 is an integer multiple of :math:`2^{-1074}`;
    decimals such as 0.1 give :math:`v \approx -56`, integers
    :math:`v \ge 0`.  Returns 4096 when every entry is zero.
    """
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = np.abs(values[values != 0.0])
    if values.size == 0:
        return _NO_VALUATION
    # v = mantissa * 2^exponent with mantissa in [1/2, 1): the integer
    # mantissa * 2^53 is exact, and its lowest set bit gives the valuation.
    mantissa, exponent = np.frexp(values)
    integer = (mantissa * 2.0**53).astype(np.int64)
    lowest_bit = np.log2(integer & -integer).astype(np.int64)
    return int(np.min(exponent.astype(np.int64) - 53 + lowest_bit))


def _round_up_product(a: float, c: float) -> float:
    """The smallest float64 ``>= a * c`` (real product) for ``a, c >= 0``."""
    with np.errstate(over="ignore"):
        p = float(np.float64(a) * np.float64(c))
    if math.isfinite(p) and Fraction(p) < Fraction(a) * Fraction(c):
        p = math.nextafter(p, math.inf)
    return p


def _row_norms(P) -> np.ndarray:
    """Euclidean norms of the rows of ``P``, without overflow or underflow.

    ``np.linalg.norm`` sums squares, which overflow for entries beyond about
    ``1e154`` (an infinite norm: the repair's margin became infinite and the
    repaired network was not k-sparse) and lose precision or vanish below
    about ``1e-154``.  Rows whose plain norm leaves ``[2^-500, 2^500]`` are
    recomputed scaled by their largest entry; the others keep the plain
    value, bit for bit.
    """
    with np.errstate(over="ignore", under="ignore"):
        norms = np.linalg.norm(P, axis=1)
    redo = ~((norms >= 2.0**-500) & (norms <= 2.0**500))
    if redo.any():
        rows = P[redo]
        largest = np.abs(rows).max(axis=1)
        safe = np.where(largest > 0.0, largest, 1.0)
        with np.errstate(under="ignore"):
            norms[redo] = largest * np.linalg.norm(rows / safe[:, None], axis=1)
    return norms


def _exact_binary(value: float) -> tuple[int, int]:
    """Integers ``(M, E)`` with ``value == M * 2**E`` exactly (finite ``value``)."""
    mantissa, exponent = math.frexp(value)
    return int(mantissa * 2.0**53), exponent - 53


def _exact_square_sums(rows: np.ndarray) -> list[tuple[int, int]]:
    """For each row, integers ``(S, E)`` with ``sum_d rows[j, d]**2 == S * 2**E``
    exactly (integer arithmetic: about 20 times faster than Fractions)."""
    mantissas, exponents = np.frexp(rows)
    integers = (mantissas * 2.0**53).astype(np.int64)  # exact: 53-bit mantissas
    exponents = exponents.astype(np.int64) - 53
    sums = []
    for M, E in zip(integers, exponents):
        nonzero = M != 0
        if not nonzero.any():
            sums.append((0, 0))
            continue
        M, E = M[nonzero], E[nonzero]
        low = int(E.min())
        total = sum((int(m) * int(m)) << (2 * (int(e) - low)) for m, e in zip(M, E))
        sums.append((total, 2 * low))
    return sums


def _square_at_least(x: float, a: float, square_sum: tuple[int, int]) -> bool:
    """Whether ``x**2 >= a**2 * S * 2**E`` exactly (``x, a >= 0`` finite)."""
    S, E = square_sum
    Mx, Ex = _exact_binary(x)
    Ma, Ea = _exact_binary(a)
    return _compare_square_sums((Mx * Mx, 2 * Ex), (Ma * Ma * S, 2 * Ea + E)) >= 0


def _round_up_scaled_norm(a: float, rows: np.ndarray) -> float:
    r"""The smallest float64 ``>= a * max_j ||rows_j||_2`` (real), ``a >= 0``.

    The float estimate (scaled so the squares cannot overflow) has a
    relative error of a few :math:`(n + 2) 2^{-53}`; the rows within a
    margin far above that of the largest estimate get their exact squared
    norm :math:`\sum_d r_{jd}^2` (:func:`_exact_square_sums`), and the
    estimate is moved by ulps until it is the smallest float whose square is
    at least :math:`a^2 \max_j \sum_d r_{jd}^2`.
    """
    if rows.size == 0 or a == 0.0:
        return 0.0
    norms = _row_norms(rows)
    top = float(norms.max())
    if top == 0.0:
        return 0.0
    with np.errstate(over="ignore"):
        estimate = float(np.float64(a) * np.float64(top))
    if not math.isfinite(estimate):
        return math.inf
    candidates = rows[norms >= top * (1.0 - 2.0**-30)]
    # Rows with the same multiset of |entries| (sign patterns, permutations:
    # every row of a +-1 network) have the same norm: each is summed once.
    distinct = np.unique(np.sort(np.abs(candidates), axis=1), axis=0)
    sums = _exact_square_sums(distinct)
    largest = max(sums, key=functools.cmp_to_key(_compare_square_sums))
    while not _square_at_least(estimate, a, largest):
        estimate = math.nextafter(estimate, math.inf)
        if not math.isfinite(estimate):
            return math.inf
    while estimate > 0.0 and _square_at_least(math.nextafter(estimate, 0.0), a, largest):
        estimate = math.nextafter(estimate, 0.0)
    return estimate


def _compare_square_sums(p: tuple[int, int], q: tuple[int, int]) -> int:
    """-1, 0 or 1 as ``p[0] * 2**p[1]`` is below, equal to or above ``q``'s."""
    (S, E), (T, F) = p, q
    low = min(E, F)
    left, right = S << (E - low), T << (F - low)
    return (left > right) - (left < right)


class SparseReLUNetwork:
    r"""One-hidden-layer ReLU network :math:`h(x)=\sum_j u_j\,\mathrm{relu}(\langle w_j,x\rangle-b_j)+c`.

    Parameters
    ----------
    weights : array_like of shape (s, n)
        Hidden weights :math:`w_j`, one row per unit.
    biases : array_like of shape (s,)
        Thresholds :math:`b_j`; unit ``j`` is active on ``x`` when
        :math:`\langle w_j, x\rangle > b_j`.
    output_weights : array_like of shape (s,) or (s, o)
        Outer weights :math:`u_j`; a 2-D array makes a network with ``o``
        outputs (column ``t`` holds the weights of output ``t``).
    output_bias : float or array_like of shape (o,), default=0.0
        Constant :math:`c` added to the output: a float for one output; for
        ``o`` outputs an ``(o,)`` array (a float is broadcast to every
        output).

    Notes
    -----
    Arrays are copied into C-contiguous float64 storage and made read-only,
    so a network is immutable once built.  Entries that float64 cannot hold
    exactly (64-bit integers beyond :math:`2^{53}`, such as ``2**60 + 1``)
    are refused rather than rounded, here and in the points ``X`` of every
    method: exactness is about the float64 values.  All methods that take ``X``
    accept any real ``(m, n)`` input; the cube-specific tools live in
    :mod:`sparselearn.cube`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn import SparseReLUNetwork
    >>> net = SparseReLUNetwork([[1.0, 1.0], [1.0, -1.0]], [1.0, 1.0], [2.0, -1.0])
    >>> X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    >>> net(X)
    array([ 2., -1.,  0.])
    >>> net.activation_counts(X)
    array([1, 1, 0])
    """

    def __init__(self, weights, biases, output_weights, output_bias=0.0):
        weights = check_matrix(weights, "weights",
                               layout="of shape (s, n), a row w_j per hidden unit", exact=True)
        s, n = weights.shape
        if n == 0:
            raise ValueError("weights must have at least one column (n_features >= 1)")
        biases = check_vector(biases, "biases", length=s, exact=True)
        if np.ndim(output_weights) == 2:
            output_weights = check_matrix(output_weights, "output_weights", exact=True)
            if output_weights.shape[0] != s or output_weights.shape[1] == 0:
                raise ValueError(
                    f"output_weights must have shape (s,) or (s, o) with s={s} (one row "
                    f"per hidden unit) and o >= 1, got {output_weights.shape}")
            o = output_weights.shape[1]
            if np.ndim(output_bias) == 0:
                output_bias = np.full(o, check_float(output_bias, "output_bias"))
            else:
                output_bias = check_vector(output_bias, "output_bias", length=o)
            output_bias = np.array(output_bias, dtype=np.float64, copy=True)
            output_bias.flags.writeable = False
        else:
            output_weights = check_vector(output_weights, "output_weights", length=s,
                                          exact=True)
            if np.ndim(output_bias) != 0:
                raise ValueError(
                    "output_bias must be a float for a single-output network (1-D "
                    f"output_weights), got shape {np.shape(output_bias)}; pass output "
                    "weights of shape (s, o) for o outputs")
            output_bias = check_float(output_bias, "output_bias")
        # Private copies: the kernels trust these arrays (no bounds checks),
        # so no caller may hold a reference that can write to or reshape them.
        self._weights = np.array(weights, dtype=np.float64, order="C", copy=True)
        self._biases = np.array(biases, dtype=np.float64, copy=True)
        self._output_weights = np.array(output_weights, dtype=np.float64, order="C",
                                        copy=True)
        for array in (self._weights, self._biases, self._output_weights):
            array.flags.writeable = False
        self._output_bias = output_bias
        # What the exact activity test needs (module notes): ||w_j||_1 for
        # the rounding bound, and the 2-adic valuation of the parameters.
        with np.errstate(over="ignore"):
            self._weights_l1 = np.abs(self._weights).sum(axis=1)
            magnitude = self._weights_l1 + np.abs(self._biases)
        # The cube's walks and bounds add up to 2 |w_jd| to a pre-activation
        # and sum bounds over up to 8 units at a time (cube.certify_sparsity's
        # joint tests): magnitudes up to 2^1020 keep all of that finite.
        too_large = ~(magnitude <= _MAX_MAGNITUDE)
        if too_large.any():
            j = int(np.flatnonzero(too_large)[0])
            raise ValueError(
                f"weights and biases are too large: unit {j}'s pre-activations can reach "
                f"||w_j||_1 + |b_j| = {magnitude[j]:.3g}, beyond 2^1020 = {_MAX_MAGNITUDE:.3g}, "
                "where sums of them overflow float64.  Rescale the unit: "
                "u relu(<w, x> - b) = (c u) relu(<w / c, x> - b / c) for any c > 0.")
        # Largest pre-activation magnitude per unit of ||x||_inf: inputs whose
        # inner products could overflow are refused by _check_X.
        self._max_magnitude = float(magnitude.max())
        self._tol_w, self._tol_b = _network.rounding_bounds(self._weights_l1, self._biases, n)
        for array in (self._weights_l1, self._tol_w, self._tol_b):
            array.flags.writeable = False
        self._valuation = min_valuation(self._weights, self._biases)

    # ------------------------------------------------------------------ shape
    @property
    def weights(self) -> np.ndarray:
        """Hidden weights, shape ``(s, n)`` (read-only)."""
        return self._weights.view()

    @property
    def biases(self) -> np.ndarray:
        """Biases :math:`b_j`, shape ``(s,)`` (read-only)."""
        return self._biases.view()

    @property
    def output_weights(self) -> np.ndarray:
        """Outer weights :math:`u_j`, shape ``(s,)`` or ``(s, o)`` (read-only)."""
        return self._output_weights.view()

    @property
    def output_bias(self):
        """Constant added to the output: a float, or shape ``(o,)`` (read-only)
        for a multi-output network."""
        if isinstance(self._output_bias, np.ndarray):
            return self._output_bias.view()
        return self._output_bias

    @property
    def n_outputs(self) -> int:
        """Number of outputs ``o`` (1 for 1-D ``output_weights``)."""
        return 1 if self._output_weights.ndim == 1 else self._output_weights.shape[1]

    @property
    def multi_output(self) -> bool:
        """Whether ``output_weights`` is 2-D (``forward`` then returns ``(m, o)``)."""
        return self._output_weights.ndim == 2

    def select_output(self, output) -> "SparseReLUNetwork":
        """The single-output network computing output ``output`` of this one.

        Same hidden layer (hence the same active supports, exactly), output
        weights ``output_weights[:, output]`` and bias ``output_bias[output]``.
        On a single-output network ``output`` must be 0 or ``None`` and the
        network itself is returned.  Functions that need a scalar function of
        ``x`` (:func:`sparselearn.cube.truth_table`,
        :func:`sparselearn.fourier.spectrum`) take ``output=`` and use this.

        Parameters
        ----------
        output : int or None
            Index of the output, ``0 <= output < n_outputs``; ``None`` for a
            network with one output.

        Returns
        -------
        SparseReLUNetwork
        """
        if not self.multi_output:
            if output is not None and check_int(output, "output", 0, 0) != 0:
                raise ValueError("output must be 0 or None for a single-output network")
            return self
        o = self.n_outputs
        if output is None:
            if o == 1:
                output = 0
            else:
                raise ValueError(
                    f"this network has {o} outputs: pass output=t with 0 <= t < {o} to "
                    "choose the scalar function to analyse")
        t = check_int(output, "output", minimum=0, maximum=o - 1)
        return SparseReLUNetwork(self._weights, self._biases, self._output_weights[:, t],
                                 float(self._output_bias[t]))

    @property
    def width(self) -> int:
        """Number of hidden units :math:`s`."""
        return self._weights.shape[0]

    @property
    def n_features(self) -> int:
        """Input dimension :math:`n`."""
        return self._weights.shape[1]

    def __repr__(self) -> str:
        if self.multi_output:
            return (f"SparseReLUNetwork(width={self.width}, n_features={self.n_features}, "
                    f"n_outputs={self.n_outputs})")
        return (f"SparseReLUNetwork(width={self.width}, n_features={self.n_features}, "
                f"output_bias={self.output_bias!r})")

    def __eq__(self, other):
        if not isinstance(other, SparseReLUNetwork):
            return NotImplemented
        return (np.array_equal(self._weights, other._weights)
                and np.array_equal(self._biases, other._biases)
                and self._output_weights.shape == other._output_weights.shape
                and np.array_equal(self._output_weights, other._output_weights)
                and np.array_equal(self._output_bias, other._output_bias))

    __hash__ = None  # mutable-looking container semantics: equal by value

    # ------------------------------------------------------------ evaluation
    def _check_X(self, X) -> np.ndarray:
        """``X`` validated for this network: the public boundary of every
        method that takes points (the private ``_`` methods trust it)."""
        X = check_matrix(X, "X", n_columns=self.n_features, allow_empty_rows=True,
                         exact=True)
        self._check_magnitude(X)
        return X

    def _check_magnitude(self, X) -> None:
        """Refuse a finite float64 ``X`` whose inner products could overflow."""
        if X.size:
            x_max = max(float(X.max()), -float(X.min()))
            # Written as a product so an all-zero network (magnitude 0) divides nothing.
            if x_max > 1.0 and x_max * 2.0 * self._max_magnitude > np.finfo(np.float64).max:
                raise ValueError(
                    f"X is too large for this network: entries up to {x_max:.3g} make "
                    "the inner products <w_j, x> overflow float64; rescale X (and the "
                    "weights by the inverse factor)")

    def _inner_product_chunks(self, X):
        """Yield ``(start, stop, X[start:stop] @ W.T)`` over row chunks."""
        rows = max(1, _CHUNK_BYTES // (8 * max(1, self.width)))
        weights_t = self._weights.T
        for start in range(0, X.shape[0], rows):
            stop = min(start + rows, X.shape[0])
            yield start, stop, np.ascontiguousarray(X[start:stop] @ weights_t)

    def _decision_chunks(self, X):
        """Yield ``(start, stop, G, args)``: the inner products of each chunk
        of :meth:`_inner_product_chunks` and the arguments every exact
        decision kernel of ``_network`` takes after ``(G, X)``.

        They include the chunk's largest ``|x_id|`` (it scales the rounding
        bound of the first screening; two full reductions are far cheaper
        than a norm per row), and whether the float computation is exact for
        the whole chunk (integer entries with dyadic parameters: module
        notes).
        """
        for start, stop, G in self._inner_product_chunks(X):
            chunk = X[start:stop]
            x_bound = max(float(chunk.max()), -float(chunk.min()))
            exact = (self._valuation < _NO_VALUATION
                     and self._max_magnitude * max(x_bound, 1.0)
                     <= 2.0 ** min(52 + self._valuation, 1000)
                     and np.array_equal(chunk, np.rint(chunk)))
            yield start, stop, G, (x_bound, exact, self._weights, self._biases,
                                   self._weights_l1, self._tol_w, self._tol_b,
                                   self._valuation)

    def _decision_args(self, X):
        """The arguments the one-region kernels of ``_network`` take after
        ``X``, for all of ``X``: those of :meth:`_decision_chunks` with the
        largest ``|x_id|`` of all rows, and the exactness test over all rows
        (in row chunks, so no copy of ``X`` is made)."""
        x_bound = max(float(X.max()), -float(X.min())) if X.size else 0.0
        exact = (self._valuation < _NO_VALUATION
                 and self._max_magnitude * max(x_bound, 1.0)
                 <= 2.0 ** min(52 + self._valuation, 1000))
        if exact:
            rows = max(1, _CHUNK_BYTES // (8 * max(1, X.shape[1])))
            exact = all(np.array_equal(X[i:i + rows], np.rint(X[i:i + rows]))
                        for i in range(0, X.shape[0], rows))
        return (x_bound, exact, self._weights, self._biases, self._weights_l1, self._tol_w,
                self._tol_b, self._valuation)

    def _screen_args(self, decision_args):
        r"""The float32 screening arguments ``(W32, hi, lo, max_near)`` of
        ``_network.count_rows32`` / ``supports_rows32`` for a call with
        :meth:`_decision_args` ``decision_args``, or ``None`` to decide in
        float64 (screening switched off, or magnitudes float32 cannot hold).

        With :math:`u = 2^{-24}` and :math:`\gamma_k = k u / (1 - k u)`, the
        float32 product :math:`s'_{ij}` of the float32 roundings of
        :math:`w_j` and :math:`x_i`, summed in any order (with or without
        FMA), satisfies :math:`|s'_{ij} - \langle w_j, x_i\rangle| \le
        \gamma_{n+2} \|w_j\|_1 \|x_i\|_\infty + \eta_j`,
        :math:`\eta_j = 2^{-146} (\|w_j\|_1 + n (\|x\|_\infty + 2))`
        (conversions and products each add at most :math:`\gamma_2`, the sum
        :math:`\gamma_n`; :math:`\eta_j` covers gradual underflow; the
        derivation is in ``_network.pyx`` above ``count_rows32``).  The bound
        ``tol_j`` used here is that expression with :math:`\|x\|_\infty`
        the largest ``|x_id|`` of the call, evaluated in float64 and
        enlarged by the factor :math:`1 + 2^{-20}`, which covers the
        float64 rounding of ``||w_j||_1`` and of the expression itself
        (relative :math:`(n + 10) 2^{-53}`).  The thresholds are rounded
        outwards to float32: ``hi_j >= b_j + tol_j`` and ``lo_j <= b_j -
        tol_j`` as real numbers (``nextafter`` after each rounding to
        nearest that went the wrong way), so ``s' > hi_j`` proves the unit
        active and ``s' <= lo_j`` inactive.  When every float32 partial sum
        is exact (dyadic parameters, multiples of :math:`2^v` with
        :math:`\max_j(\|w_j\|_1 + |b_j|) \max(\|x\|_\infty, 1) \le
        2^{23 + v}`, on integer rows of magnitude at most :math:`2^{24}`:
        the float32 analogue of the module's dyadic fast path), ``hi = lo =
        b``, exactly.

        Parameters
        ----------
        decision_args : tuple
            What :meth:`_decision_args` returned for the rows.

        Returns
        -------
        tuple or None
        """
        if not _FLOAT32_SCREENING:
            return None
        x_bound, exact = decision_args[0], decision_args[1]
        n = self.n_features
        l1 = self._weights_l1
        max_l1 = float(l1.max()) if l1.size else 0.0
        w_max = float(np.abs(self._weights).max()) if self._weights.size else 0.0
        if (n + 2 > 2**20 or not (w_max <= _FLOAT32_MAX and x_bound <= _FLOAT32_MAX
                                  and max_l1 * x_bound <= _FLOAT32_MAX)):
            return None
        weights32 = self._weights.astype(np.float32)
        v = self._valuation
        if (exact and -149 <= v <= 100 and x_bound <= 2.0**24
                and self._max_magnitude * max(x_bound, 1.0) <= 2.0 ** (23 + v)):
            hi = self._biases.astype(np.float32)   # exact: multiples of 2^v below 2^(23+v)
            return weights32, hi, hi, _MAX_NEAR
        u, k = 2.0**-24, n + 2
        gamma = k * u / (1.0 - k * u)
        tol = (gamma * l1 * x_bound + 2.0**-146 * (l1 + n * (x_bound + 2.0))) * (1.0 + 2.0**-20)
        hi = self._outward_float32(np.nextafter(self._biases + tol, np.inf), np.inf)
        lo = self._outward_float32(np.nextafter(self._biases - tol, -np.inf), -np.inf)
        return weights32, hi, lo, _MAX_NEAR

    def _screen_for(self, X, decision_args):
        """:meth:`_screen_args` for a call on the checked rows ``X``, or
        ``None`` (float64 kernels) for a call below ``_SCREEN_WORK`` or a
        network wider than ``_MAX_SCREEN_WIDTH``."""
        if (X.shape[0] * self.width * (self.n_features + 8) < _SCREEN_WORK
                or self.width > _MAX_SCREEN_WIDTH):
            return None
        return self._screen_args(decision_args)

    @staticmethod
    def _outward_float32(values, direction):
        """``values`` (float64) rounded to float32 towards ``direction``
        (``+inf``: the smallest float32 ``>=`` each value; ``-inf``: the
        largest ``<=``), infinities where float32 has no such number."""
        with np.errstate(over="ignore"):
            out = values.astype(np.float32)
        wrong = out < values if direction > 0 else out > values
        out[wrong] = np.nextafter(out[wrong], np.float32(direction))
        return out

    def _blocks32(self, X) -> tuple[int, int]:
        """``(block_rows, n_threads)`` of the float32-screened kernels: as
        :meth:`_blocks` for float32 products, with at least ``_MIN_ROWS32``
        rows per block."""
        block_rows, n_threads = self._blocks(X)
        rows = _BLOCK_BYTES // (4 * max(1, self.width))
        return int(max(_MIN_ROWS32, min(rows, -(-X.shape[0] // 8)))), n_threads

    def _blocks(self, X, n_outputs: int = 0) -> tuple[int, int]:
        """``(block_rows, n_threads)`` of the one-region kernels.

        A block's inner products take about ``_BLOCK_BYTES`` (they stay in
        cache between the product and the decisions), and there are at least
        8 blocks when ``X`` has enough rows, so every thread gets work.  A
        call of less than ``_PARALLEL_WORK`` multiply-adds runs on one thread
        (``n_threads = 1``; else 0, OpenMP's default): waking a second thread
        costs more than it saves there, milliseconds on a loaded machine.
        ``n_outputs``: the multi-output product's extra ``m s o`` multiply-adds.
        """
        rows = _BLOCK_BYTES // (8 * max(1, self.width))
        block_rows = int(max(16, min(rows, -(-X.shape[0] // 8))))
        work = X.shape[0] * self.width * (self.n_features + 8 + n_outputs)
        return block_rows, (1 if work < _PARALLEL_WORK else 0)

    def pre_activations(self, X) -> np.ndarray:
        r"""Pre-activations :math:`\langle w_j, x_i\rangle - b_j`.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, any finite reals.

        Returns
        -------
        ndarray of float64, shape (m, s)
        """
        X = self._check_X(X)
        return X @ self._weights.T - self._biases

    def forward(self, X) -> np.ndarray:
        r"""Network output on each row of ``X`` (shape ``(m, n)``).

        Returns shape ``(m,)`` for a single-output network and ``(m, o)``
        for a multi-output one.  In both cases only the exactly active units
        contribute (module notes); a multi-output block of rows computes the exact
        active mask once and then one BLAS product
        :math:`\mathrm{relu}_A(Z)\,U` with the ``(s, o)`` output matrix, so
        its sums may be rounded in another order than the single-output
        kernel's (``select_output(t)(X)`` agrees with column ``t`` up to
        that rounding, exactly when the sums are exact).

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, any finite reals.

        Returns
        -------
        ndarray of float64, shape (m,) or (m, o)
        """
        return self._forward(self._check_X(X))

    def _forward(self, X) -> np.ndarray:
        """:meth:`forward` on rows already checked by :meth:`_check_X`."""
        if self.multi_output:
            out = np.empty((X.shape[0], self.n_outputs), dtype=np.float64)
            with _one_thread_blas():
                # Each block: products, exact masked ReLU, output product.
                _network.forward_multi_rows(X, *self._decision_args(X), self._output_weights,
                                            out, *self._blocks(X, self.n_outputs))
            out += self._output_bias
            return out
        out = np.empty(X.shape[0], dtype=np.float64)
        with _one_thread_blas():
            _network.forward_rows(X, *self._decision_args(X), self._output_weights, out,
                                  *self._blocks(X))
        out += self._output_bias
        return out

    __call__ = forward

    def activation_counts(self, X) -> np.ndarray:
        """Number of active units :math:`|A(x_i)|` on each row.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, any finite reals.

        Returns
        -------
        ndarray of int64, shape (m,)
        """
        return self._activation_counts(self._check_X(X))

    def _activation_counts(self, X) -> np.ndarray:
        """:meth:`activation_counts` on rows already checked by :meth:`_check_X`."""
        counts = np.empty(X.shape[0], dtype=np.int64)
        args = self._decision_args(X)
        screen = self._screen_for(X, args)
        with _one_thread_blas():
            if screen is None:
                _network.count_rows(X, *args, counts, *self._blocks(X))
            else:
                _network.count_rows32(X, *args, *screen, counts, *self._blocks32(X))
        return counts

    def active_supports(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Active units of each row in CSR form.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, any finite reals.

        Returns
        -------
        indptr : ndarray of int64, shape (m + 1,)
        indices : ndarray of int64, shape (indptr[-1],)
            The active units of row ``i`` are
            ``indices[indptr[i]:indptr[i + 1]]``, in increasing order.
        """
        X = self._check_X(X)
        counts = np.empty(X.shape[0], dtype=np.int64)
        # One pass: each block's inner products serve both the counts and the
        # fill, so X @ W.T is computed once.
        args = self._decision_args(X)
        screen = self._screen_for(X, args)
        with _one_thread_blas():
            if screen is None:
                indices = _network.supports_rows(X, *args, counts, *self._blocks(X))
            else:
                indices = _network.supports_rows32(X, *args, *screen, counts,
                                                   *self._blocks32(X))
        indptr = np.zeros(X.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, indices

    def max_active(self, X) -> int:
        """Largest number of simultaneously active units over the rows of ``X``.

        This is the measured maximum *on the sample*; for the exact value
        over the whole cube use :func:`sparselearn.cube.certify_sparsity`
        (whose certificate calls it ``max_active`` too).

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, at least one row.

        Returns
        -------
        int
        """
        counts = self.activation_counts(X)
        if counts.size == 0:
            raise ValueError("X has no rows; the maximum over an empty sample is undefined")
        return int(counts.max())

    def sparsity(self, X) -> int:
        """Deprecated name of :meth:`max_active` (removed in a future release).

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points, at least one row.

        Returns
        -------
        int
        """
        warnings.warn("SparseReLUNetwork.sparsity(X) is renamed max_active(X); "
                      "'sparsity' names the budget k (docs/glossary)", FutureWarning,
                      stacklevel=2)
        return self.max_active(X)

    def in_class(self, X, k, W=None, B=None) -> bool:
        r"""Whether the network lies in the class :math:`H(n, s, k, W, B; X)`.

        True when the network has at most ``k`` active units on every row of
        ``X`` (:meth:`activation_counts`, exact decisions) and its norm
        bounds (:meth:`norm_bounds`) are at most ``W`` and ``B``.  Both tests
        are exact in floating point: no tolerance.  For a multi-output
        network this is the class membership of every output.  Sparsity is
        certified on the rows of ``X`` only (an empty ``X`` makes it
        vacuous); for the whole cube use
        :func:`sparselearn.cube.certify_sparsity`.  The class has no output
        bias (docs/theory.rst, section 2): the output bias :math:`c` is
        ignored, so this is the membership of :math:`h - c`.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Points on which the activation budget is checked.
        k : int
            Activation budget, ``>= 0``.
        W : float or None, default=None
            Weight bound :math:`\max_j|u_j|\max_j\|w_j\|_2 \le W`; ``None``
            does not check it.
        B : float or None, default=None
            Bias bound :math:`\max_j|u_j|\max_j|b_j| \le B`; ``None`` does
            not check it.

        Returns
        -------
        bool

        Examples
        --------
        >>> from sparselearn import SparseReLUNetwork
        >>> net = SparseReLUNetwork([[1.0, 1.0], [1.0, -1.0]], [1.0, 1.0], [2.0, -1.0])
        >>> X = [[1.0, 1.0], [1.0, -1.0]]
        >>> net.in_class(X, k=1), net.in_class(X, k=1, W=2.0)
        (True, False)
        >>> shifted = SparseReLUNetwork(net.weights, net.biases, net.output_weights, 5.0)
        >>> shifted.in_class(X, k=1)                 # h - c is what is checked
        True
        """
        X = self._check_X(X)
        k = check_int(k, "k", minimum=0)
        W = None if W is None else check_float(W, "W", minimum=0.0)
        B = None if B is None else check_float(B, "B", minimum=0.0)
        return self._in_class(self._activation_counts(X), k, W, B)

    def _in_class(self, counts, k, W, B) -> bool:
        """:meth:`in_class` from the activation ``counts`` of checked rows."""
        W_h, B_h = self.norm_bounds()
        return bool(counts.max(initial=0) <= k
                    and (W is None or W_h <= W) and (B is None or B_h <= B))

    # ------------------------------------------------------- norms, reduction
    def norm_bounds(self) -> tuple[float, float]:
        r"""Effective norm bounds ``(W, B)`` of docs/theory.rst, section 2.

        :math:`W = \max_j |u_j| \cdot \max_j \|w_j\|_2` and
        :math:`B = \max_j |u_j| \cdot \max_j |b_j|`: the smallest values for
        which the network lies in :math:`H(n, s, k, W, B)`.  For a
        multi-output network :math:`\max_j |u_j|` is the largest
        :math:`|u_{jt}|` over all units and outputs, so every output
        ``select_output(t)`` lies in the class with these bounds.

        Both are the real numbers of the stored float64 values rounded
        *up*: the smallest float64 at least the exact bound (``inf`` beyond
        the float64 range), so ``W_h <= W`` holds exactly when the network
        meets the bound ``W`` in exact arithmetic (a float rounded to
        nearest could fall an ulp below it: :math:`3 \cdot 0.3` rounds to
        0.8999999999999999, below the exact product).

        Returns
        -------
        W, B : float
        """
        u_max = float(np.max(np.abs(self._output_weights)))
        b_max = float(np.max(np.abs(self._biases)))
        return (_round_up_scaled_norm(u_max, self._weights),
                _round_up_product(u_max, b_max))

    def reduced(self) -> "SparseReLUNetwork":
        r"""Positive-homogeneous normal form with outer weights in :math:`\{-1, 0, +1\}`.

        Uses :math:`u\,\mathrm{relu}(\langle w,x\rangle - b) =
        \mathrm{sign}(u)\,\mathrm{relu}(\langle |u| w, x\rangle - |u| b)`.
        In exact arithmetic the result computes the same function and has
        the same active supports for units with :math:`u_j \neq 0` (a unit
        with :math:`u_j = 0` becomes the zero unit, which is never active).
        The scaled parameters :math:`|u_j| w_j`, :math:`|u_j| b_j` are
        rounded to float64, so the reduced network is a new network whose
        (exactly decided) supports can differ from the original's at points
        within rounding of a tie; when every :math:`|u_j|` is a power of two
        the scaling is exact and the supports agree.
        Its hidden norms satisfy :math:`\|v_j\| \le W`, :math:`|\beta_j| \le B`.

        For a multi-output network the scale of unit :math:`j` is
        :math:`a_j = \max_t |u_{jt}|` (one scale per unit, since the hidden
        layer is shared): hidden parameters :math:`a_j w_j, a_j b_j`, outer
        weights :math:`u_{jt} / a_j \in [-1, 1]`, with at least one entry
        :math:`\pm 1` in each row (a row of zeros stays a zero unit).  With
        one output column this is the sign form above.  The quotients
        :math:`u_{jt} / a_j` are rounded too (exact when :math:`a_j` is a
        power of two).

        Returns
        -------
        SparseReLUNetwork
        """
        if self.multi_output:
            scale = np.abs(self._output_weights).max(axis=1)
            safe = np.where(scale > 0.0, scale, 1.0)
            return SparseReLUNetwork(self._weights * scale[:, None], self._biases * scale,
                                     self._output_weights / safe[:, None], self._output_bias)
        scale = np.abs(self._output_weights)
        return SparseReLUNetwork(self._weights * scale[:, None], self._biases * scale,
                                 np.sign(self._output_weights), self._output_bias)

    # ------------------------------------------------- import and export
    @classmethod
    def from_sklearn(cls, estimator) -> "SparseReLUNetwork":
        """The network of a fitted scikit-learn ``MLPRegressor`` / ``MLPClassifier``
        (one hidden layer, relu); a classifier gives its decision scores, a
        ``loss="poisson"`` regressor the log of its prediction (the output
        layer before the output activation).

        See :func:`sparselearn.interop.from_sklearn`.

        Parameters
        ----------
        estimator : sklearn.neural_network.MLPRegressor or MLPClassifier
            Fitted, one hidden layer, ``activation="relu"``.

        Returns
        -------
        SparseReLUNetwork
        """
        from . import interop
        return interop.from_sklearn(estimator)

    def to_sklearn(self):
        """A fitted ``MLPRegressor`` whose ``predict`` is this network
        (:func:`sparselearn.interop.to_sklearn`).

        Returns
        -------
        sklearn.neural_network.MLPRegressor
        """
        from . import interop
        return interop.to_sklearn(self)

    @classmethod
    def from_torch(cls, module) -> "SparseReLUNetwork":
        """The network of ``torch.nn.Sequential(Linear, ReLU, Linear)`` or its
        ``state_dict`` (:func:`sparselearn.interop.from_torch`).

        Parameters
        ----------
        module : torch.nn.Sequential or dict
            The module, or its ``state_dict``.

        Returns
        -------
        SparseReLUNetwork
        """
        from . import interop
        return interop.from_torch(module)

    @classmethod
    def from_onnx(cls, model, *, max_bytes=None) -> "SparseReLUNetwork":
        """The network of an ONNX model of a one-hidden-layer ReLU MLP (from
        ``torch.onnx.export``, tf2onnx, jax2onnx), read without running it
        (:func:`sparselearn.interop.from_onnx`).

        Parameters
        ----------
        model : str, os.PathLike or onnx.ModelProto
            An ``.onnx`` file or a loaded model.
        max_bytes : float, optional
            Memory budget for the file and the float64 weights.

        Returns
        -------
        SparseReLUNetwork
        """
        from . import interop
        return interop.from_onnx(model, max_bytes=max_bytes)

    def to_torch(self):
        """A float64 ``torch.nn.Sequential(Linear, ReLU, Linear)`` computing this
        network (:func:`sparselearn.interop.to_torch`).

        Returns
        -------
        torch.nn.Sequential
        """
        from . import interop
        return interop.to_torch(self)

    # ------------------------------------------------------------ persistence
    def save(self, path) -> str:
        """Write the network as an uncompressed ``.npz`` archive; returns the path written.

        Format version 2 (``output_weights`` of shape ``(s,)`` or ``(s, o)``,
        ``output_bias`` a scalar or ``(o,)``); :meth:`load` also reads files
        of version 1 (single-output networks written before multi-output
        support).

        ``.npz`` is appended to ``path`` unless it ends with it (the same rule
        as :meth:`load`, so ``save("net")`` and ``load("net")`` agree).  The
        file is written atomically (:func:`sparselearn.io.atomic_write`): a
        failure mid-write leaves any previous file at ``path`` intact.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        str
            The path written.

        Raises
        ------
        sparselearn.io.MissingDirectoryError
            If the folder of ``path`` does not exist (a :class:`ValueError`
            and a :class:`FileNotFoundError`).
        """
        return _io.save_npz(path, format=np.array(_SAVE_FORMAT), weights=self._weights,
                            biases=self._biases, output_weights=self._output_weights,
                            output_bias=np.array(self._output_bias))

    @classmethod
    def load(cls, path) -> "SparseReLUNetwork":
        """Read a network written by :meth:`save`.

        ``.npz`` is appended to ``path`` unless it ends with it.  The archive
        is read by :func:`sparselearn.io.load_archive` (``allow_pickle=False``,
        sizes checked against the memory budget before reading): a file
        carrying pickled objects, missing arrays, the wrong format tag or
        malformed contents is refused with a
        :class:`~sparselearn.io.UnreadableFileError` (a :class:`ValueError`).

        Parameters
        ----------
        path : str or os.PathLike
            The saved network.

        Returns
        -------
        SparseReLUNetwork
        """
        arrays = _io.load_archive(path, _READ_FORMATS, {"weights", "biases",
                                                        "output_weights", "output_bias"})
        shown = _io.npz_path(path)
        bias = arrays["output_bias"]
        if arrays["output_weights"].ndim == 2:
            if bias.ndim != 1:
                raise _io.UnreadableFileError(
                    f"{shown}: output_bias must be 1-D for 2-D output_weights")
        elif bias.shape != ():
            raise _io.UnreadableFileError(f"{shown}: output_bias must be a scalar")
        else:
            bias = float(bias)
        try:
            return cls(arrays["weights"], arrays["biases"], arrays["output_weights"], bias)
        except (TypeError, ValueError) as exc:
            raise _io.UnreadableFileError(f"{shown}: not a valid network ({exc})") from None
