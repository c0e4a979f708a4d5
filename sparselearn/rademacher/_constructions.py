"""The extremal constructions behind the lower bounds: sign families of
networks with their input distributions, and their exact suprema."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import (check_matrix, check_memory, check_random_state,
                           check_vector)
from ..network import SparseReLUNetwork
from ._bounds import TAU, _check_class, _check_count, _cluster_count, d_q

# Redraws of random sign directions before separated_directions gives up.
# With n >= 16 log(2q) one draw fails with probability <= 1/8 (union bound
# over pairs of Hoeffding's inequality), so all fail with probability <= 8^-32.
_MAX_DIRECTION_DRAWS = 32

# The memory refusals of functions that take no max_bytes= say so.
_NO_BUDGET = " (this function takes no max_bytes=)"

# ----------------------------------------------------------- constructions
@dataclass(frozen=True, eq=False, repr=False)
class SignFamily:
    r"""A family of networks :math:`h_\theta = \sum_{b=1}^q \theta_b G_b`, :math:`\theta \in \{-1,1\}^q`.

    Built by :func:`cluster_construction`, :func:`constant_construction` and
    :func:`cap_construction`.  Block :math:`b` is ``k`` identical units
    (rows ``b*k`` to ``b*k + k - 1`` of the width-``s`` network) with common
    outer weight :math:`\theta_b`; the remaining ``s - q k`` units are zero
    and never active.  Since the active units do not depend on
    :math:`\theta`, one sparsity check covers the whole family, and since
    :math:`h_\theta` is linear in :math:`\theta`, the supremum over the
    family on any sample is exact:

    .. math::

        \sup_\theta \frac1m \sum_i \zeta_i h_\theta(x_i)
        = \frac1m \sum_{b=1}^q \Big|\sum_i \zeta_i G_b(x_i)\Big|.

    For the clusters on their support this is docs/theory.rst's
    :math:`(kA/m)\sum_b|\sum_i \zeta_i 1\{J_i = b\}|`.

    Parameters
    ----------
    name : str
        ``"clusters"``, ``"constants"`` or ``"caps"``.
    k : int
        Units per block (the sparsity the family attains).
    base_network : SparseReLUNetwork
        The member with :math:`\theta = (1, \dots, 1)`.
    support : ndarray of shape (p, n)
        Support points of the input distribution (uniform over them).
    peak : float
        :math:`|h_\theta|` at the support point of a block: :math:`kA`,
        :math:`kB` or :math:`k a (1-\tau)`.
    """

    name: str
    k: int
    base_network: SparseReLUNetwork
    support: np.ndarray
    peak: float

    @property
    def n(self) -> int:
        """Input dimension."""
        return self.base_network.n_features

    @property
    def s(self) -> int:
        """Width of the networks."""
        return self.base_network.width

    @property
    def q(self) -> int:
        """Number of sign blocks."""
        return int(np.count_nonzero(self.base_network.output_weights)) // self.k

    def __repr__(self) -> str:
        return (f"SignFamily(name={self.name!r}, n={self.n}, s={self.s}, k={self.k}, "
                f"q={self.q}, support_points={self.support.shape[0]}, peak={self.peak:.6g})")

    def network(self, theta) -> SparseReLUNetwork:
        r"""The member :math:`h_\theta`, a :class:`~sparselearn.SparseReLUNetwork` of width ``s``.

        Parameters
        ----------
        theta : array_like of shape (q,)
            Signs, every entry exactly ``+1`` or ``-1``.

        Returns
        -------
        SparseReLUNetwork
        """
        theta = check_vector(theta, "theta", length=self.q)
        if not np.all(np.abs(theta) == 1.0):
            raise ValueError("theta must contain only the signs +1 and -1")
        base = self.base_network
        output_weights = base.output_weights.copy()
        output_weights[:self.q * self.k] = np.repeat(theta, self.k)
        return SparseReLUNetwork(base.weights, base.biases, output_weights)

    def block_values(self, X) -> np.ndarray:
        r"""The block functions :math:`G_b(x_i) = \sum_{j \in b}\mathrm{relu}(\langle w_j,x_i\rangle - b_j)`.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m, q)
        """
        X = check_matrix(X, "X", n_columns=self.n)
        check_memory(8.0 * X.shape[0] * self.s, f"pre-activations ({X.shape[0]} x {self.s})",
                     remedy=f"pass fewer rows at a time{_NO_BUDGET}")
        width = self.q * self.k
        relu = np.maximum(self.base_network.pre_activations(X)[:, :width], 0.0)
        return relu.reshape(X.shape[0], self.q, self.k).sum(axis=2)

    def sample(self, m, random_state=None) -> np.ndarray:
        """``m`` i.i.d. points drawn uniformly from :attr:`support`.

        Parameters
        ----------
        m : int
            Number of points, ``>= 1``.
        random_state : None, int or numpy.random.Generator

        Returns
        -------
        ndarray of shape (m, n)
        """
        m = _check_count(m, "m")
        check_memory(8.0 * m * self.n, f"a sample of {m} points in dimension {self.n}",
                     remedy=f"draw a smaller m{_NO_BUDGET}")
        rng = check_random_state(random_state)
        return self.support[rng.integers(0, self.support.shape[0], size=m)]

    def supremum(self, zeta, X) -> np.ndarray | float:
        r"""Exact :math:`\sup_\theta \frac1m\sum_i \zeta_i h_\theta(x_i)` over the family.

        Parameters
        ----------
        zeta : array_like of shape (m,) or (d, m)
            Signs (one draw per row).
        X : array_like of shape (m, n)

        Returns
        -------
        float, or ndarray of shape (d,)
        """
        G = self.block_values(X)
        zeta_array = _check_signs(zeta, G.shape[0])
        values = np.abs(zeta_array @ G).sum(axis=-1) / G.shape[0]
        return float(values) if zeta_array.ndim == 1 else values

    def check_sparse_on(self, X, name: str = "X") -> np.ndarray:
        """Raise ``ValueError`` unless every member has at most ``k`` active units on ``X``.

        Activity does not depend on the signs, so checking
        :attr:`base_network` covers the family.

        Parameters
        ----------
        X : array_like of shape (m, n)
            The points.
        name : str, default="X"
            Name of ``X`` in the error message.

        Returns
        -------
        ndarray of shape (m, n)
            The validated ``X``.
        """
        X = check_matrix(X, name, n_columns=self.n)
        counts = self.base_network.activation_counts(X)
        if counts.max() > self.k:
            worst = int(np.argmax(counts))
            raise ValueError(
                f"the {self.name} construction is not {self.k}-sparse on {name}: row {worst} "
                f"activates {int(counts[worst])} units, so its members are not in the class "
                "H(n, s, k, W, B) on this sample and their supremum is no lower bound on "
                "its Rademacher complexity; use points of the construction's support "
                "(construction.sample) or of its sparsity domain")
        return X


def _check_signs(zeta, m: int) -> np.ndarray:
    zeta = np.asarray(zeta)
    if zeta.ndim not in (1, 2) or zeta.shape[-1] != m:
        raise ValueError(f"zeta must have shape ({m},) or (n_draws, {m}), got {zeta.shape}")
    zeta = check_matrix(zeta.reshape(-1, m), "zeta").reshape(zeta.shape)
    if not np.all(np.abs(zeta) == 1.0):
        raise ValueError("zeta must contain only the signs +1 and -1")
    return zeta


def _check_family_memory(name: str, s: int, n: int, q: int) -> None:
    """Refuse, before any array is built, a family whose arrays exceed the budget:
    the ``(q, n)`` directions, support and block weights, and the ``(s, n)``
    network (built, then copied by the network's constructor)."""
    check_memory(8.0 * (3 * q + 2 * s) * (n + 2),
                 f"the {name} construction's arrays ({s} units and {q} support points "
                 f"in R^{n})", remedy=f"reduce n, s or m{_NO_BUDGET}")


def _block_family(name, s, k, block_weights, block_bias, support, peak) -> SignFamily:
    """Lay out ``q`` blocks of ``k`` identical units, pad to width ``s`` with zero units."""
    q, n = block_weights.shape
    weights = np.zeros((s, n))
    biases = np.zeros(s)
    output_weights = np.zeros(s)
    weights[:q * k] = np.repeat(block_weights, k, axis=0)
    biases[:q * k] = np.repeat(block_bias, k)
    output_weights[:q * k] = 1.0
    network = SparseReLUNetwork(weights, biases, output_weights)
    support = np.ascontiguousarray(support, dtype=np.float64)
    support.flags.writeable = False
    return SignFamily(name=name, k=k, base_network=network, support=support, peak=peak)


def cluster_construction(n, s, k, W, R, m=None) -> SignFamily:
    r"""Orthogonal clusters (Li et al. Thm 3; docs/theory.rst, section 4).

    :math:`q` orthonormal directions :math:`e_b` (the first :math:`q`
    coordinate vectors); cluster :math:`b` is :math:`k` parallel units with
    weight :math:`W e_b`, bias 0 and common outer sign :math:`\theta_b`.  The
    input distribution is uniform on :math:`\{R e_1, \dots, R e_q\}`.  At
    :math:`R e_b` only cluster :math:`b` is active (the others have
    pre-activation exactly 0), so every member is :math:`k`-sparse on the
    support and :math:`h_\theta(R e_b) = kA\theta_b` with :math:`A = WR`.
    Norms: :math:`\max|u_j|\max\|w_j\| = W`, biases 0.

    Parameters
    ----------
    n, s, k : int
        Class parameters, ``1 <= k <= s``.
    W : float
        Weight bound, ``>= 0``.
    R : float
        Input radius, ``> 0``.
    m : int, optional
        Sample size.  The number of clusters is
        :math:`q = \min(\lfloor s/k\rfloor, m)` as in Thm 3 when ``m`` is
        given, and :math:`q = \lfloor s/k\rfloor` (as many as the width
        allows) otherwise.

    Returns
    -------
    SignFamily

    Raises
    ------
    ValueError
        If ``n < q``: the construction needs ``q`` orthonormal directions.
    """
    n, s, k, W, R = _check_class(n, s, k, W=W, R=R)
    q = _cluster_count(s, k, m)
    if n < q:
        raise ValueError(f"n={n} < q={q}: the orthogonal-cluster construction needs q "
                         "orthonormal directions in R^n (Thm 3 requires n >= q); raise n, "
                         "pass a smaller m, or use cap_construction")
    _check_family_memory("clusters", s, n, q)
    directions = np.eye(q, n)
    return _block_family("clusters", s, k, W * directions, np.zeros(q), R * directions,
                         k * W * R)


def constant_construction(n, s, k, B) -> SignFamily:
    r"""The constant subclass: :math:`k` zero-weight units with bias :math:`-B` give :math:`\pm kB`.

    Each unit computes :math:`\mathrm{relu}(\langle 0, x\rangle - (-B)) = B`
    on every input, so :math:`h_\theta \equiv \theta kB` with one sign
    (:math:`q = 1`); exactly ``k`` units are active everywhere (none if
    ``B == 0``), so the family is :math:`k`-sparse on all of
    :math:`\mathbb R^n` and its supremum is :math:`kB|\sum_i\zeta_i|/m`, of
    expectation :math:`kB\rho_m` on any sample.  The support is the origin
    (any distribution gives the same complexity).

    Parameters
    ----------
    n, s, k : int
        Class parameters, ``1 <= k <= s``.
    B : float
        Bias bound, ``>= 0``.

    Returns
    -------
    SignFamily
    """
    n, s, k, B = _check_class(n, s, k, B=B)
    _check_family_memory("constants", s, n, 1)
    return _block_family("constants", s, k, np.zeros((1, n)), np.array([-B]),
                         np.zeros((1, n)), k * B)


def separated_directions(q, n, random_state=None) -> np.ndarray:
    r"""``q`` unit vectors of :math:`\mathbb R^n` with pairwise inner products at most 1/2.

    If :math:`n \ge q`, the first ``q`` coordinate vectors (orthonormal).
    Otherwise random sign vectors scaled by :math:`1/\sqrt n`: their inner
    products are averages of ``n`` independent signs, above 1/2 with
    probability at most :math:`e^{-n/8}` (Hoeffding), so with
    :math:`n \ge 16\log(2q)` a draw is separated with probability at least
    :math:`1 - q^2 e^{-n/8}/2 \ge 7/8`.  Separation is verified exactly (on
    the integer inner products) and a failed draw is redrawn, up to 32 times.

    Parameters
    ----------
    q : int
        Number of directions, ``>= 1``.
    n : int
        Dimension, at least :math:`d_q = \min(q, \lceil16\log(2q)\rceil)`.
    random_state : None, int or numpy.random.Generator
        Used only when ``n < q``.

    Returns
    -------
    ndarray of shape (q, n)
        Unit rows with :math:`\langle u_a, u_b\rangle \le 1/2` for
        :math:`a \ne b`.

    Raises
    ------
    ValueError
        If ``n < d_q``, or (probability at most :math:`8^{-32}`) no draw is
        separated.
    """
    q = _check_count(q, "q")
    n = _check_count(n, "n")
    if n >= q:
        check_memory(8.0 * q * n, f"{q} orthonormal directions in R^{n}",
                     remedy=f"reduce q or n{_NO_BUDGET}")
        return np.eye(q, n)
    needed = d_q(q)
    if n < needed:
        raise ValueError(f"n={n} < d_q={needed} = min(q, ceil(16 log(2q))) for q={q}: "
                         "random sign directions are not reliably separated in so few "
                         "dimensions (Thm 12 needs n >= d_q); raise n or lower q")
    check_memory(8.0 * q * (n + q), f"{q} directions in R^{n} and their Gram matrix",
                 remedy=f"reduce q or n{_NO_BUDGET}")
    rng = check_random_state(random_state)
    for _ in range(_MAX_DIRECTION_DRAWS):
        signs = 1 - 2 * rng.integers(0, 2, size=(q, n), dtype=np.int64)
        gram = signs @ signs.T  # exact integers
        np.fill_diagonal(gram, -n)
        if 2 * gram.max() <= n:  # <u_a, u_b> = gram / n <= 1/2
            return signs / math.sqrt(n)
    raise ValueError(f"no separated draw of {q} sign directions in R^{n} after "
                     f"{_MAX_DIRECTION_DRAWS} tries (probability <= 8^-32 when n >= d_q); "
                     "try another random_state or raise n")


def cap_construction(n, s, k, W, B, R, m=None, random_state=None) -> SignFamily:
    r"""Spherical caps, :math:`k`-sparse on the whole ball (Li et al. Thm 12; docs/theory.rst, section 4).

    With :math:`\tau = \sqrt3/2`, :math:`a = \min(A, B/\tau)` and unit
    directions :math:`u_b` with pairwise inner products at most 1/2
    (:func:`separated_directions`), cluster :math:`b` is :math:`k` units
    with weight :math:`v_b = (a/R) u_b`, bias :math:`\beta_b = \tau a` and
    outer sign :math:`\theta_b`.  Unit :math:`b` is active at :math:`x`
    exactly when :math:`\langle u_b, x/R\rangle > \tau`; for
    :math:`\|x\| \le R` that means :math:`x/R` is within 30 degrees of
    :math:`u_b`, and two such caps around directions at least 60 degrees
    apart are disjoint.  So every member is :math:`k`-sparse on the entire
    ball of radius :math:`R`, with :math:`h_\theta(R u_b) = k a (1-\tau)\theta_b`.
    Norms: :math:`\|v_b\| = a/R \le W`, :math:`|\beta_b| = \tau a \le B`.
    The input distribution is uniform on :math:`\{R u_1, \dots, R u_q\}`.

    (When two directions have inner product exactly 1/2, points on the
    common boundary of their caps have pre-activation exactly 0 in exact
    arithmetic; floating-point rounding there can go either way.)

    Parameters
    ----------
    n, s, k : int
        Class parameters, ``1 <= k <= s``.
    W, B : float
        Weight and bias bounds, ``>= 0``.
    R : float
        Ball radius, ``> 0``.
    m : int, optional
        Sample size: :math:`q = \min(\lfloor s/k\rfloor, m)` as in Thm 12, or
        :math:`\lfloor s/k\rfloor` if omitted.
    random_state : None, int or numpy.random.Generator
        For the directions when ``n < q``.

    Returns
    -------
    SignFamily

    Raises
    ------
    ValueError
        If ``n < d_q`` (see :func:`separated_directions`).
    """
    n, s, k, W, B, R = _check_class(n, s, k, W, B, R)
    q = _cluster_count(s, k, m)
    _check_family_memory("caps", s, n, q)
    directions = separated_directions(q, n, random_state)
    a = min(W * R, B / TAU)
    return _block_family("caps", s, k, (a / R) * directions, np.full(q, TAU * a),
                         R * directions, k * a * (1.0 - TAU))
