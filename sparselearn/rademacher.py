r"""Rademacher complexity of sparse ReLU networks: bounds, extremal constructions, estimates.

Everything here traces to THEORY.md section 4.  The empirical Rademacher
complexity of a class :math:`H` on a sample :math:`S = (x_1, \dots, x_m)` is

.. math::

    \widehat{\mathfrak R}_S(H) = \frac1m\,\mathbb E_\zeta
    \sup_{h \in H} \sum_{i=1}^m \zeta_i\, h(x_i),
    \qquad \zeta_i \text{ i.i.d. uniform on } \{-1, +1\},

and :math:`H = H(n, s, k, W, B)` is the class of width-:math:`s` networks
with :math:`\max_j|u_j|\max_j\|w_j\| \le W`,
:math:`\max_j|u_j|\max_j|b_j| \le B` and at most :math:`k` active units on
every input (THEORY.md section 2).  Inputs have norm at most :math:`R` and
:math:`A = W R`.

The module offers three things:

- :func:`bounds` evaluates every bound of THEORY.md's table (upper bounds,
  lower bounds with their conditions, and two rates whose constants are not
  known, labelled as such), :func:`rho` the exact
  :math:`\rho_m = \mathbb E|\sum_i \zeta_i| / m`, and
  :func:`excess_risk_bound` the learning consequence (Li et al. Cor. 13).
- The extremal constructions behind the lower bounds,
  :func:`cluster_construction`, :func:`constant_construction` and
  :func:`cap_construction` (with :func:`separated_directions`).  Each is a
  :class:`SignFamily`: networks :math:`h_\theta = \sum_b \theta_b G_b` indexed
  by signs :math:`\theta \in \{-1,1\}^q`, together with the input
  distribution (uniform on support points) on which they attain the bounds.
- Monte-Carlo estimates: :func:`empirical_rademacher` (exact supremum over a
  sign family, so the only error is the Monte-Carlo error over
  :math:`\zeta`) and :func:`rademacher_lower_estimate` (a *lower* estimate of
  the whole class's complexity on an arbitrary sample, by approximate
  maximisation over certified :math:`k`-sparse networks).
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._validation import (check_float, check_int, check_matrix, check_memory,
                          check_random_state, check_vector, check_width_and_sparsity)
from .network import SparseReLUNetwork

#: :math:`\tau = \sqrt3/2`, the cosine of the caps' angular radius (30 degrees).
TAU = math.sqrt(3.0) / 2.0

#: :math:`C_0` of Li et al. Thm 2, exactly as THEORY.md section 4 writes it.
C0 = ((6.0 * math.sqrt(320.0) + 6.0) / math.log(2.0)
      + (1.0 + 36.0 * math.sqrt(math.log(2.0))) / math.log(2.0) ** 1.5)

#: Constant :math:`C = 2 C_0` of the sparse upper bound (about 434).
C_SPARSE = 2.0 * C0

#: Constant :math:`1/(4\sqrt2)` of the i.i.d.-marginal lower bound (Thm 3).
C_LOWER = 1.0 / (4.0 * math.sqrt(2.0))

#: Constant :math:`c_{cap} = (1-\tau)/(4\sqrt2)` of the full-ball caps lower bound (Thm 12).
C_CAP = (1.0 - TAU) / (4.0 * math.sqrt(2.0))

# Up to this m, rho_m is computed with exact integer arithmetic; beyond, by
# the asymptotic series of the central binomial coefficient, whose truncation
# error there is below 1e-16 relative (checked against the exact values).
_RHO_EXACT_MAX_M = 4097

# Redraws of random sign directions before separated_directions gives up.
# With n >= 16 log(2q) one draw fails with probability <= 1/8 (union bound
# over pairs of Hoeffding's inequality), so all fail with probability <= 8^-32.
_MAX_DIRECTION_DRAWS = 32

# Rademacher signs are drawn in chunks of about this many bytes.
_CHUNK_BYTES = 16 * 2**20

# Full references: Li, Sha, Jiang, Gao, Han 2026 (arXiv 2609.09130) and
# Awasthi, Dikkala, Kamath, Meka, COLT 2024 (ADKM).
_SOURCE_LI = "Li et al. 2026"
_SOURCE_ADKM = "ADKM 2024"


# --------------------------------------------------------------------- checks
def _check_class(n, s, k, W=None, B=None, R=None):
    """Validate the class parameters shared by every entry point."""
    n = check_int(n, "n", minimum=1)
    s, k = check_width_and_sparsity(s, k)
    out = [n, s, k]
    if W is not None:
        out.append(check_float(W, "W", minimum=0.0))
    if B is not None:
        out.append(check_float(B, "B", minimum=0.0))
    if R is not None:
        out.append(check_float(R, "R", minimum=0.0, strict_minimum=True))
    return out


def _cluster_count(s: int, k: int, m) -> int:
    """``q = floor(s/k)``, or ``min(floor(s/k), m)`` for a sample size ``m``."""
    if m is None:
        return s // k
    return min(s // k, check_int(m, "m", minimum=1))


def d_q(q) -> int:
    r"""Dimension :math:`d_q = \min(q, \lceil 16 \log(2q)\rceil)` needed by the caps (Thm 12).

    With :math:`n \ge q` the cap directions are orthonormal; with
    :math:`16\log(2q) \le n < q`, random sign vectors are separated with
    probability at least 7/8 per draw (THEORY.md section 4).
    """
    q = check_int(q, "q", minimum=1)
    return min(q, math.ceil(16.0 * math.log(2.0 * q)))


# ------------------------------------------------------------------- rho_m
def rho(m) -> float:
    r"""Exact :math:`\rho_m = \mathbb E|\sum_{i=1}^m \zeta_i| / m` for i.i.d. Rademacher :math:`\zeta_i`.

    With :math:`\sum_i \zeta_i = 2X - m`, :math:`X \sim \mathrm{Bin}(m, 1/2)`,
    summing :math:`|2x - m|` against the binomial probabilities telescopes to

    .. math::

        \rho_m = \binom{m-1}{\lfloor (m-1)/2\rfloor} 2^{-(m-1)},

    which is evaluated with exact integer arithmetic (correctly rounded) for
    ``m <= 4097`` and with the asymptotic series
    :math:`\binom{2h}{h}4^{-h} = (\pi h)^{-1/2}(1 - \frac1{8h} + \frac1{128h^2}
    + \frac5{1024h^3} - \frac{21}{32768h^4} + O(h^{-5}))` beyond (relative
    error below :math:`10^{-16}` there).  It satisfies
    :math:`1/\sqrt{3m} \le \rho_m \le 1/\sqrt m` (THEORY.md section 4) and
    :math:`\rho_m \sqrt m \to \sqrt{2/\pi}`.

    Parameters
    ----------
    m : int
        Number of signs, ``>= 1``.

    Returns
    -------
    float
    """
    m = check_int(m, "m", minimum=1)
    if m <= _RHO_EXACT_MAX_M:
        half = (m - 1) // 2
        value = math.comb(m - 1, half) / 2 ** (m - 1)  # int / int: correctly rounded
    else:
        # C(m-1, floor((m-1)/2)) / 2^(m-1) in terms of h with m-1 in {2h, 2h+1}:
        # C(2h+1, h) / 2^(2h+1) = C(2h, h) / 4^h * (2h+1) / (2h+2).
        h = (m - 1) // 2
        central = (1.0 - 1.0 / (8 * h) + 1.0 / (128 * h**2) + 5.0 / (1024 * h**3)
                   - 21.0 / (32768 * h**4)) / math.sqrt(math.pi * h)
        value = central if (m - 1) % 2 == 0 else central * (2 * h + 1) / (2 * h + 2)
    if not (1.0 / math.sqrt(3.0 * m) <= value <= 1.0 / math.sqrt(m)):
        raise AssertionError(f"rho_{m} = {value} violates 1/sqrt(3m) <= rho_m <= "
                             "1/sqrt(m); this is a bug")
    return value


# ------------------------------------------------------------------ bounds
@dataclass(frozen=True)
class Bound:
    """One row of the table of THEORY.md section 4.

    Attributes
    ----------
    name : str
    value : float
        The bound's value; for ``kind == "rate"`` the displayed expression
        *without its unknown constant* (``nan`` where the expression is
        undefined), which is not a bound.
    kind : {"upper", "lower", "rate"}
        ``"upper"``: holds for :math:`\\widehat{\\mathfrak R}_S(H)` on every
        sample of size ``m`` in the ball of radius ``R``.  ``"lower"``: there
        is an input distribution whose expected complexity is at least this.
        ``"rate"``: a dependence without constant, never a numeric bound.
    source : str
    condition : str
        When the row applies.
    holds : bool or None
        Whether the condition holds for these parameters; ``None`` for rates
        and for the zero-bias row, whose condition is about the network
        (zero biases, sparse on the whole ball), not the parameters.
    """

    name: str
    value: float
    kind: str
    source: str
    condition: str
    holds: bool | None


@dataclass(frozen=True)
class RademacherBounds:
    r"""Every bound of THEORY.md section 4 for one parameter set (see :func:`bounds`).

    Printing it gives the table.  ``str(result)`` lists every row with its
    kind, source and condition; the conditions are also available as
    :attr:`conditions`.

    Attributes
    ----------
    n, s, k, m : int
    W, B, R, A : float
        Class parameters and :math:`A = W R`.
    q : int
        :math:`q = \min(\lfloor s/k\rfloor, m)`, the number of clusters the
        lower-bound constructions use at this sample size.
    d_q : int
        :math:`\min(q, \lceil 16\log(2q)\rceil)`.
    a : float
        :math:`a = \min(A, B/\tau)`, the caps' scale.
    rho_m : float
        Exact :math:`\rho_m` (:func:`rho`).
    rows : tuple of Bound
    """

    n: int
    s: int
    k: int
    W: float
    B: float
    R: float
    m: int
    A: float
    q: int
    d_q: int
    a: float
    rho_m: float
    rows: tuple

    @property
    def conditions(self) -> dict:
        r"""The four conditions of THEORY.md section 4 and whether they hold.

        ``"n >= q"`` (orthogonal clusters, Thm 3), ``"n >= d_q"`` (caps,
        Thm 12), ``"B >= tau A"`` (then :math:`a = A` and the caps reach the
        full weight term), ``"m >= s/k"`` (then
        :math:`\sqrt{sk/m} \le k`: the sample is large enough for the
        :math:`\sqrt{sk/m}` regime).
        """
        return {
            "n >= q": self.n >= self.q,
            "n >= d_q": self.n >= self.d_q,
            "B >= tau A": self.B >= TAU * self.A,
            "m >= s/k": self.m * self.k >= self.s,
        }

    def __getitem__(self, name: str) -> Bound:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no bound named {name!r}; names: {[row.name for row in self.rows]}")

    @property
    def best_upper(self) -> float:
        r""":math:`U_m`: the smallest of the envelope, dense and sparse upper bounds.

        These three hold for :math:`H` on every sample (Li et al. Thm 2); the
        zero-bias row is left out because it bounds a smaller class
        (zero biases, sparse on the whole ball).  This is the :math:`U_m` of
        Cor. 13 (:func:`excess_risk_bound`).
        """
        return min(self[name].value for name in ("envelope", "dense", "sparse upper"))

    @property
    def best_lower(self) -> float | None:
        """The largest lower bound whose condition holds, or ``None`` if none does."""
        values = [row.value for row in self.rows if row.kind == "lower" and row.holds]
        return max(values) if values else None

    def __str__(self) -> str:
        header = ("name", "value", "kind", "source", "condition", "holds")
        lines = []
        for row in self.rows:
            if row.kind == "rate":
                value = ("undefined" if math.isnan(row.value)
                         else f"const x {row.value:.4g}")
            else:
                value = f"{row.value:.4g}"
            holds = "n/a" if row.holds is None else ("yes" if row.holds else "NO")
            lines.append((row.name, value, row.kind, row.source, row.condition, holds))
        widths = [max(len(str(line[c])) for line in lines + [header]) for c in range(6)]

        def fmt(line):
            return "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip()

        title = (f"Rademacher bounds for H(n={self.n}, s={self.s}, k={self.k}, W={self.W:g}, "
                 f"B={self.B:g}) on m={self.m} samples of norm <= R={self.R:g} "
                 f"(A = W R = {self.A:g}, q = {self.q}, d_q = {self.d_q}, "
                 f"a = {self.a:.4g}, rho_m = {self.rho_m:.4g})")
        rule = "-" * len(fmt(header))
        conditions = ", ".join(f"{name}: {'yes' if ok else 'no'}"
                               for name, ok in self.conditions.items())
        best_lower = "none valid" if self.best_lower is None else f"{self.best_lower:.4g}"
        return "\n".join([title, fmt(header), rule, *map(fmt, lines), rule,
                          f"conditions: {conditions}",
                          f"best upper U_m = {self.best_upper:.4g}; best valid lower = "
                          f"{best_lower}",
                          "rates carry unknown constants and are not bounds"])


def bounds(n, s, k, W, B, R, m) -> RademacherBounds:
    r"""Every Rademacher bound of THEORY.md section 4 for :math:`H(n, s, k, W, B)` on ``m`` samples.

    With :math:`A = WR`, :math:`q = \min(\lfloor s/k\rfloor, m)`,
    :math:`\tau = \sqrt3/2`, :math:`a = \min(A, B/\tau)` and the exact
    :math:`\rho_m` (:func:`rho`), the rows are:

    ==================== ===================================================================== =====
    name                 value                                                                 kind
    ==================== ===================================================================== =====
    envelope             :math:`k(A+B)`                                                        upper
    dense                :math:`2s(A+B)/\sqrt m`                                               upper
    sparse upper         :math:`C A\min\{k, \sqrt{sk/m}\,\log(2m)^{3/2}\} + kB\rho_m`,
                         :math:`C = 2C_0` (:data:`C_SPARSE`)                                   upper
    zero-bias ball       :math:`4kA/\sqrt m` (zero biases, sparse on the whole ball)           upper
    lower (Thm 3)        :math:`\frac{1}{4\sqrt2}(A\min\{k,\sqrt{sk/m}\} + kB/\sqrt m)`,
                         needs :math:`n \ge q`                                                 lower
    caps lower (Thm 12)  :math:`c_{cap}(a\min\{k,\sqrt{sk/m}\} + kB/\sqrt m)`,
                         needs :math:`n \ge d_q`                                               lower
    ADKM eq. (15)        :math:`(A+B)\sqrt{snk\log(km(R+B))}/\sqrt m`, constant unknown        rate
    ADKM Conjecture 20   :math:`(A+B)\sqrt{sk/m}`, constant unknown                            rate
    ==================== ===================================================================== =====

    Upper bounds hold for the empirical complexity on every sample of ``m``
    points of norm at most ``R`` (the zero-bias one only for the subclass it
    names).  Lower bounds are worst-case: some input distribution (the
    constructions of this module) has expected empirical complexity at least
    that large.  The two ADKM rows are dependences *without constants*, as
    quoted by Li et al.; their ``value`` is the expression with the constant
    left out and is never a bound.

    Parameters
    ----------
    n : int
        Input dimension.
    s : int
        Width.
    k : int
        Sparsity, ``1 <= k <= s``.
    W, B : float
        Weight and bias bounds, ``>= 0``.
    R : float
        Radius of the input domain, ``> 0`` (``sqrt(n)`` on the cube).
    m : int
        Sample size, ``>= 1``.

    Returns
    -------
    RademacherBounds
        Prints as a table; see :attr:`RademacherBounds.best_upper`,
        :attr:`RademacherBounds.best_lower`,
        :attr:`RademacherBounds.conditions`.

    Examples
    --------
    >>> from sparselearn.rademacher import bounds
    >>> result = bounds(n=64, s=256, k=4, W=1.0, B=1.0, R=1.0, m=1000)
    >>> result.conditions["n >= q"]
    True
    >>> result.best_upper             # the envelope k (A + B) is the smallest here
    8.0
    >>> round(result.best_lower, 4)   # Thm 3
    0.2012
    """
    n, s, k, W, B, R = _check_class(n, s, k, W, B, R)
    m = check_int(m, "m", minimum=1)
    A = W * R
    q = _cluster_count(s, k, m)
    dq = d_q(q)
    a = min(A, B / TAU)
    rho_m = rho(m)
    sqrt_m = math.sqrt(m)
    sparse_rate = math.sqrt(s * k / m)

    log_argument = k * m * (R + B)
    adkm = ((A + B) * math.sqrt(s * n * k * math.log(log_argument)) / sqrt_m
            if log_argument > 1.0 else math.nan)

    rows = (
        Bound("envelope", k * (A + B), "upper", f"{_SOURCE_LI}, Thm 2", "always", True),
        Bound("dense", 2.0 * s * (A + B) / sqrt_m, "upper", f"{_SOURCE_LI}, Thm 2",
              "always", True),
        Bound("sparse upper",
              C_SPARSE * A * min(k, sparse_rate * math.log(2.0 * m) ** 1.5) + k * B * rho_m,
              "upper", f"{_SOURCE_LI}, Thm 2", "always", True),
        # It bounds a subclass (zero biases *and* k-sparse on the whole ball),
        # which these parameters alone cannot decide: holds is None, never True.
        Bound("zero-bias ball", 4.0 * k * A / sqrt_m, "upper", f"{_SOURCE_LI}, Prop 10",
              "subclass: B = 0 and sparse on the whole ball", None),
        Bound("lower (Thm 3)", C_LOWER * (A * min(k, sparse_rate) + k * B / sqrt_m),
              "lower", f"{_SOURCE_LI}, Thm 3", f"n >= q = {q}", n >= q),
        Bound("caps lower (Thm 12)", C_CAP * (a * min(k, sparse_rate) + k * B / sqrt_m),
              "lower", f"{_SOURCE_LI}, Thm 12", f"n >= d_q = {dq}", n >= dq),
        Bound("ADKM eq. (15)", adkm, "rate", f"{_SOURCE_ADKM} via Li et al.",
              "no constant; not a bound", None),
        Bound("ADKM Conjecture 20", (A + B) * sparse_rate, "rate", f"{_SOURCE_ADKM}",
              "conjecture; no constant; not a bound", None),
    )
    return RademacherBounds(n=n, s=s, k=k, W=W, B=B, R=R, m=m, A=A, q=q, d_q=dq, a=a,
                            rho_m=rho_m, rows=rows)


def excess_risk_bound(bounds_result, lipschitz, loss_bound, delta) -> float:
    r"""Excess-risk guarantee of approximate ERM over the class (Li et al. Cor. 13).

    .. math::

        4 L\, U_m + 2 b_\ell \sqrt{\log(2/\delta) / (2m)},

    with :math:`U_m` = ``bounds_result.best_upper``: with probability at
    least :math:`1-\delta` over ``m`` i.i.d. samples, an empirical risk
    minimiser over :math:`H` for an :math:`L`-Lipschitz loss bounded by
    :math:`b_\ell` has excess risk at most this (THEORY.md section 4).  It
    is a statistical statement: no efficient ERM algorithm is implied.

    Parameters
    ----------
    bounds_result : RademacherBounds
        Output of :func:`bounds` (gives :math:`U_m` and ``m``).
    lipschitz : float
        Lipschitz constant :math:`L \ge 0` of the loss in its prediction.
    loss_bound : float
        Bound :math:`b_\ell \ge 0` on the loss.
    delta : float
        Failure probability, in ``(0, 1)``.

    Returns
    -------
    float
    """
    if not isinstance(bounds_result, RademacherBounds):
        raise TypeError("bounds_result must be the RademacherBounds returned by bounds(), "
                        f"got {type(bounds_result).__name__}")
    lipschitz = check_float(lipschitz, "lipschitz", minimum=0.0)
    loss_bound = check_float(loss_bound, "loss_bound", minimum=0.0)
    delta = check_float(delta, "delta", minimum=0.0, maximum=1.0, strict_minimum=True)
    if delta >= 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    m = bounds_result.m
    return (4.0 * lipschitz * bounds_result.best_upper
            + 2.0 * loss_bound * math.sqrt(math.log(2.0 / delta) / (2.0 * m)))


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

    For the clusters on their support this is THEORY.md's
    :math:`(kA/m)\sum_b|\sum_i \zeta_i 1\{J_i = b\}|`.

    Attributes
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
        check_memory(8.0 * X.shape[0] * self.s, f"pre-activations ({X.shape[0]} x {self.s})")
        width = self.q * self.k
        relu = np.maximum(self.base_network.pre_activations(X)[:, :width], 0.0)
        return relu.reshape(X.shape[0], self.q, self.k).sum(axis=2)

    def sample(self, m, random_state=None) -> np.ndarray:
        """``m`` i.i.d. points drawn uniformly from :attr:`support`, shape ``(m, n)``."""
        m = check_int(m, "m", minimum=1)
        check_memory(8.0 * m * self.n, f"a sample of {m} points in dimension {self.n}")
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

        Returns the validated ``X``.  Activity does not depend on the signs,
        so checking :attr:`base_network` covers the family.
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


def _block_family(name, s, k, block_weights, block_bias, support, peak) -> SignFamily:
    """Lay out ``q`` blocks of ``k`` identical units, pad to width ``s`` with zero units."""
    q, n = block_weights.shape
    check_memory(8.0 * s * (n + 2), f"network weights ({s} x {n})")
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
    r"""Orthogonal clusters (Li et al. Thm 3; THEORY.md section 4).

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
    q = check_int(q, "q", minimum=1)
    n = check_int(n, "n", minimum=1)
    if n >= q:
        return np.eye(q, n)
    needed = d_q(q)
    if n < needed:
        raise ValueError(f"n={n} < d_q={needed} = min(q, ceil(16 log(2q))) for q={q}: "
                         "random sign directions are not reliably separated in so few "
                         "dimensions (Thm 12 needs n >= d_q); raise n or lower q")
    check_memory(8.0 * q * (n + q), f"{q} directions in R^{n} and their Gram matrix")
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
    r"""Spherical caps, :math:`k`-sparse on the whole ball (Li et al. Thm 12; THEORY.md section 4).

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
    directions = separated_directions(q, n, random_state)
    a = min(W * R, B / TAU)
    return _block_family("caps", s, k, (a / R) * directions, np.full(q, TAU * a),
                         R * directions, k * a * (1.0 - TAU))


# ------------------------------------------------------------- estimates
@dataclass(frozen=True, eq=False)
class RademacherEstimate:
    r"""Monte-Carlo estimate of an empirical Rademacher complexity.

    Attributes
    ----------
    estimate : float
        Mean of the per-draw values.
    standard_error : float
        Sample standard deviation of the values over :math:`\sqrt{n\_draws}`.
    n_draws : int
    m : int
        Sample size.
    method : str
        What was maximised and over which samples.
    values : ndarray of shape (n_draws,)
        Per-draw values :math:`\sup_h \frac1m\sum_i\zeta_i h(x_i)` (or the
        certified lower values, for :func:`rademacher_lower_estimate`).
    """

    estimate: float
    standard_error: float
    n_draws: int
    m: int
    method: str
    values: np.ndarray

    def __str__(self) -> str:
        return (f"{self.estimate:.6g} +- {self.standard_error:.2g} (standard error; "
                f"n_draws={self.n_draws}, m={self.m}): {self.method}")


def _estimate(values: np.ndarray, m: int, method: str) -> RademacherEstimate:
    values.flags.writeable = False
    return RademacherEstimate(estimate=float(values.mean()),
                              standard_error=float(values.std(ddof=1) / math.sqrt(values.size)),
                              n_draws=int(values.size), m=m, method=method, values=values)


def _rademacher_signs(rng, rows: int, m: int) -> np.ndarray:
    return 1.0 - 2.0 * rng.integers(0, 2, size=(rows, m), dtype=np.int8)


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
                        f"{type(construction).__name__}")
    n_draws = check_int(n_draws, "n_draws", minimum=2)
    if max_bytes is not None:
        max_bytes = check_float(max_bytes, "max_bytes", minimum=0.0, strict_minimum=True)
    check_memory(8.0 * n_draws, f"the values of n_draws={n_draws} sign draws", max_bytes)
    rng = check_random_state(random_state)
    fresh = isinstance(sample, numbers.Integral) and not isinstance(sample, (bool, np.bool_))
    if fresh:
        m = check_int(sample, "sample", minimum=1)
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
        zeta = _rademacher_signs(rng, stop - start, m)
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
    n_draws = check_int(n_draws, "n_draws", minimum=2)
    n_restarts = check_int(n_restarts, "n_restarts", minimum=1)
    for name in ("width", "sparsity", "W", "B", "loss", "random_state"):
        if name in trainer_params:
            raise TypeError(f"rademacher_lower_estimate sets the trainer's {name!r} itself; "
                            "do not pass it in trainer_params")
    from .erm import SparseReLURegressor  # late import: erm is a heavier module

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
        zeta = _rademacher_signs(rng, 1, m)[0]
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
    W_h, B_h = candidate.norm_bounds()
    if candidate.activation_counts(X).max() > k or W_h > W or B_h > B:
        return None
    return candidate
