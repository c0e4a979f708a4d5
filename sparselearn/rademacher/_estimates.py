"""Monte-Carlo estimates of empirical Rademacher complexities: exact suprema
over a sign family, and a certified lower estimate for the whole class."""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from .. import cube
from .._results import ResultMixin, deprecated_alias
from .._validation import (check_float, check_matrix, check_memory, check_random_state)
from ..network import SparseReLUNetwork
from ._bounds import _check_class, _check_count
from ._constructions import SignFamily

# Rademacher signs are drawn in chunks of about this many bytes.
_CHUNK_BYTES = 16 * 2**20

# ------------------------------------------------------------- estimates
@dataclass(frozen=True, eq=False, repr=False)
class RademacherEstimate(ResultMixin):
    r"""Monte-Carlo estimate of an empirical Rademacher complexity.

    ``str()`` is the estimate, its standard error and the method;
    ``repr()`` is one line of the key figures (the method cut at 70
    characters); ``to_frame()`` has one row per draw (``draw``, ``value``).

    Parameters
    ----------
    estimate : float
        Mean of the per-draw values.
    stderr : float
        Standard error: the sample standard deviation of the values over
        :math:`\sqrt{n\_draws}`.
    n_draws : int
    m : int
        Sample size.
    method : str
        What was maximised and over which samples.
    values : ndarray of shape (n_draws,)
        Per-draw values :math:`\sup_h \frac1m\sum_i\zeta_i h(x_i)` (or the
        certified lower values, for :func:`rademacher_lower_estimate`).

    Attributes
    ----------
    standard_error : float
        Deprecated alias of ``stderr`` (``FutureWarning``).
    """

    estimate: float
    stderr: float
    n_draws: int
    m: int
    method: str
    values: np.ndarray

    standard_error = deprecated_alias("standard_error", "stderr")

    def to_dict(self) -> dict:
        """JSON-serialisable form (``values`` as a list).

        Returns
        -------
        dict
        """
        return {"estimate": self.estimate, "stderr": self.stderr, "n_draws": self.n_draws,
                "m": self.m, "method": self.method, "values": self.values.tolist()}

    def _frame_records(self) -> list[dict]:
        """One row per draw: ``draw`` and its ``value``."""
        return [{"draw": i, "value": float(v)} for i, v in enumerate(self.values)]

    def __repr__(self) -> str:
        # The dataclass's own listed every per-draw value.
        method = self.method if len(self.method) <= 70 else self.method[:67] + "..."
        return (f"RademacherEstimate(estimate={self.estimate:.6g}, stderr={self.stderr:.2g}, "
                f"n_draws={self.n_draws}, m={self.m}, method={method!r})")

    def __str__(self) -> str:
        return (f"{self.estimate:.6g} +- {self.stderr:.2g} (standard error; "
                f"n_draws={self.n_draws}, m={self.m}): {self.method}")


def _estimate(values: np.ndarray, m: int, method: str) -> RademacherEstimate:
    values.flags.writeable = False
    largest = float(np.max(np.abs(values)))
    if largest > 2.0**500:
        # Squared deviations of values this large overflow (a stderr of inf
        # for kB near 1e300): the same standard deviation of the scaled values.
        std = largest * float((values / largest).std(ddof=1))
    else:
        std = float(values.std(ddof=1))
    return RademacherEstimate(estimate=float(values.mean()),
                              stderr=std / math.sqrt(values.size),
                              n_draws=int(values.size), m=m, method=method, values=values)


def empirical_rademacher(construction, sample, n_draws=1000,
                         random_state=None, *, max_bytes=None) -> RademacherEstimate:
    r"""Monte-Carlo Rademacher complexity of a construction, with the exact supremum.

    Each draw takes Rademacher signs :math:`\zeta` and computes the exact
    :math:`\sup_\theta \frac1m\sum_i\zeta_i h_\theta(x_i) =
    \frac1m\sum_b|\sum_i\zeta_i G_b(x_i)|` (see :class:`SignFamily`), so the
    only error is the Monte-Carlo error over :math:`\zeta` (and over the
    sample, if it is redrawn), reported as a standard error.

    Because every member of the family lies in :math:`H(n, s, k, W, B)` on
    the sample (checked), the estimate is also an estimate of a lower bound
    on the whole class's complexity there.

    Parameters
    ----------
    construction : SignFamily
    sample : array_like of shape (m, n), or int
        A fixed sample (the family must be ``k``-sparse on it), or a sample
        size ``m``: then every draw uses a fresh i.i.d. sample from the
        construction's distribution and the result estimates
        :math:`\mathbb E_S \widehat{\mathfrak R}_S`, the quantity the lower
        bounds of :func:`bounds` are about.
    n_draws : int, default=1000
        Number of sign draws, ``>= 2``.
    random_state : None, int or numpy.random.Generator
    max_bytes : float, optional
        Budget for the ``8 n_draws`` bytes of per-draw values and the sign
        chunks (default 4 GiB).

    Returns
    -------
    RademacherEstimate

    Raises
    ------
    ValueError
        If the family is not ``k``-sparse on the sample, or the sample is
        not a finite 2-D array with ``n`` columns.
    MemoryBudgetError
        If the values and sign chunks would exceed ``max_bytes`` (checked
        before anything is drawn).
    """
    if not isinstance(construction, SignFamily):
        raise TypeError("construction must be a SignFamily from cluster_construction, "
                        "constant_construction or cap_construction, got "
                        f"{type(construction).__name__}; for the class of a network of "
                        "yours on your sample X, rademacher_lower_estimate(X, s, k, W, B) "
                        "estimates its complexity from below and bounds() bounds it")
    n_draws = _check_count(n_draws, "n_draws", minimum=2)
    if max_bytes is not None:
        max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
    check_memory(8.0 * n_draws, f"the values of n_draws={n_draws} sign draws", max_bytes)
    rng = check_random_state(random_state)
    fresh = np.ndim(sample) == 0
    if fresh:
        if (isinstance(sample, (bool, np.bool_))
                or not isinstance(sample, numbers.Integral)):
            # A float m such as 1e3 used to be read as a one-point sample.
            raise TypeError("sample must be a sample size m (an integer) or an (m, n) "
                            f"array of points, got {type(sample).__name__} {sample!r}")
        m = _check_count(sample, "sample")
        points = construction.check_sparse_on(construction.support, "construction.support")
    else:
        points = construction.check_sparse_on(sample, "sample")
        m = points.shape[0]
    G = construction.block_values(points)  # (p, q): fixed sample, or support points
    p, q = G.shape
    rows = max(1, min(n_draws, _CHUNK_BYTES // (8 * max(m, p, q))))
    check_memory(8.0 * n_draws + 8.0 * rows * max(m, p, q) * 3,
                 f"the values of n_draws={n_draws} sign draws and their sign chunks",
                 max_bytes)
    values = np.empty(n_draws)
    for start in range(0, n_draws, rows):
        stop = min(start + rows, n_draws)
        zeta = cube._uniform_points(rng, stop - start, m)
        if fresh:
            # Draw d's sample is support[J[d]]; sum_i zeta_i G(x_i) groups by support point.
            J = rng.integers(0, p, size=(stop - start, m))
            flat = (np.arange(stop - start)[:, None] * p + J).ravel()
            weights = np.bincount(flat, weights=zeta.ravel(), minlength=(stop - start) * p)
            correlations = weights.reshape(stop - start, p) @ G
        else:
            correlations = zeta @ G
        values[start:stop] = np.abs(correlations).sum(axis=1) / m
    method = (f"exact supremum over the {construction.name} sign family, "
              + ("fresh sample per draw" if fresh else "fixed sample"))
    return _estimate(values, m, method)


def rademacher_lower_estimate(X, s, k, W, B, n_draws=20, random_state=None, n_restarts=3,
                              **trainer_params) -> RademacherEstimate:
    r"""A LOWER estimate of the class's empirical Rademacher complexity on an arbitrary sample.

    For each of ``n_draws`` sign vectors :math:`\zeta`, the approximate ERM
    trainer :class:`sparselearn.erm.SparseReLURegressor` with
    ``loss="correlation"`` maximises :math:`\frac1m\sum_i\zeta_i h(x_i)`
    over width-``s`` networks within the norm bounds, from ``n_restarts``
    random initialisations.  Each fitted network is then *certified*: units
    with non-positive contribution are dropped and, while some point of
    ``X`` has more than ``k`` active units, the active unit of smallest
    contribution there is dropped (dropping units never activates others),
    and the outer weights are shrunk if rounding left the norms above
    ``(W, B)``.  What remains is verified with
    :meth:`~sparselearn.SparseReLUNetwork.activation_counts` to be
    ``k``-sparse on ``X`` and with
    :meth:`~sparselearn.SparseReLUNetwork.norm_bounds` to be within
    ``(W, B)``, i.e. it is a member of :math:`H(n, s, k, W, B; X)`.  The
    value of a draw is the best of the certified networks, the constant
    family :math:`\pm kB` (always in the class) and the zero network.

    Each value is therefore at most
    :math:`\sup_{h\in H}\frac1m\sum_i\zeta_i h(x_i)`, and the mean is an
    unbiased estimate of a quantity that is **at most**
    :math:`\widehat{\mathfrak R}_X(H)`.  This is a lower estimate, not the
    complexity itself: the maximisation is non-convex and only approximate,
    and the gap can be large: on orthogonal-cluster samples, where the exact
    supremum over the cluster family (itself a lower bound) is known, the
    estimate reached 45% to 80% of it in the measurements of
    ``examples/rademacher_constructions.py --lower-estimate``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The sample, finite.
    s, k : int
        Width and sparsity, ``1 <= k <= s``.
    W, B : float
        Norm bounds, ``>= 0``.
    n_draws : int, default=20
        Number of sign draws, ``>= 2``.
    random_state : None, int or numpy.random.Generator
        Seeds the signs and the trainer.
    n_restarts : int, default=3
        Trainer fits per draw, ``>= 1``; the best certified one is kept.
    **trainer_params
        Further :class:`~sparselearn.erm.SparseReLURegressor` parameters
        (for instance ``learning_rate`` or ``max_epochs``).  Its
        ``ConvergenceWarning`` is not repeated per fit: the number of fits
        that hit ``max_epochs`` is reported in ``method``.

    Returns
    -------
    RademacherEstimate
    """
    X = check_matrix(X, "X")
    m, n = X.shape
    n, s, k, W, B = _check_class(n, s, k, W=W, B=B)
    n_draws = _check_count(n_draws, "n_draws", minimum=2)
    n_restarts = _check_count(n_restarts, "n_restarts")
    for name in ("width", "sparsity", "W", "B", "loss", "random_state"):
        if name in trainer_params:
            raise TypeError(f"rademacher_lower_estimate sets the trainer's {name!r} itself; "
                            "do not pass it in trainer_params")
    # Late imports: erm and scikit-learn take about 2 s, which `sparselearn bounds`
    # (the upper and lower bounds, no estimate) should not pay.
    from sklearn.exceptions import ConvergenceWarning

    from ..erm import SparseReLURegressor

    rng = check_random_state(random_state)
    budget = trainer_params.get("max_bytes")  # the trainer's budget serves here too
    if budget is not None:
        budget = check_float(budget, "max_bytes", minimum=0.0, strict_minimum=True)
    check_memory(8.0 * 4 * m * s + 8.0 * n_draws,
                 f"activations of {m} samples on {s} units and {n_draws} draw values",
                 budget)
    values = np.empty(n_draws)
    unconverged = 0
    for d in range(n_draws):
        zeta = cube._uniform_points(rng, 1, m)[0]
        candidates = [0.0, k * B * abs(zeta.sum()) / m]
        for _ in range(n_restarts):
            estimator = SparseReLURegressor(width=s, sparsity=k, W=W, B=B, loss="correlation",
                                            random_state=int(rng.integers(0, 2**63 - 1)),
                                            **trainer_params)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                estimator.fit(X, zeta)
            unconverged += any(issubclass(w.category, ConvergenceWarning) for w in caught)
            certified = _certify(estimator.network_, X, zeta, k, W, B)
            if certified is not None:
                candidates.append(float(np.mean(zeta * certified(X))))
        values[d] = max(candidates)
    method = ("lower estimate: best of certified k-sparse networks from "
              f"SparseReLURegressor(loss='correlation') ({n_restarts} per draw, "
              f"{unconverged} of {n_draws * n_restarts} fits hit max_epochs), "
              "the constants +-kB and 0")
    return _estimate(values, m, method)


def _certify(network, X, zeta, k, W, B):
    """A sub-network of ``network`` verified to lie in H(n, s, k, W, B; X), or None."""
    # Reduced form: outer weights in {-1, 0, 1}; the output bias is not part of the class.
    reduced = network.reduced()
    weights, biases, u = reduced.weights, reduced.biases, reduced.output_weights
    network = SparseReLUNetwork(weights, biases, u)
    pre = network.pre_activations(X)
    active = pre > 0.0
    relu = np.where(active, pre, 0.0)
    contribution = (zeta @ relu) * u / X.shape[0]
    keep = contribution > 0.0  # positive contribution implies active somewhere
    counts = active[:, keep].sum(axis=1)
    while counts.max(initial=0) > k:
        worst = int(np.argmax(counts))
        candidates = np.flatnonzero(keep & active[worst])
        drop = candidates[np.argmin(contribution[candidates])]
        keep[drop] = False
        counts -= active[:, drop]
    if not keep.any():
        return None
    weights, biases, u = weights[keep], biases[keep], u[keep]
    # Pad back to width s with zero units, never active.
    s = network.width
    pad = s - weights.shape[0]
    weights = np.vstack([weights, np.zeros((pad, weights.shape[1]))])
    biases = np.concatenate([biases, np.zeros(pad)])
    u = np.concatenate([u, np.zeros(pad)])
    candidate = SparseReLUNetwork(weights, biases, u)
    W_h, B_h = candidate.norm_bounds()
    shrink = min(1.0, W / W_h if W_h > 0 else 1.0, B / B_h if B_h > 0 else 1.0)
    if shrink == 0.0:
        return None
    if shrink < 1.0:  # scaling outer weights keeps the active sets
        candidate = SparseReLUNetwork(weights, biases, u * shrink)
    if not candidate.in_class(X, k, W, B):  # the certificate: exact, no tolerance
        return None
    return candidate
