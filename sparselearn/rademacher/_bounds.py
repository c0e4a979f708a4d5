"""Rademacher bounds of docs/theory.rst, section 4: the constants, rho_m, every row of
the table (:func:`bounds`) and the excess-risk consequence."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .._results import ResultMixin
from .._validation import check_float, check_int, check_open_unit, check_width_and_sparsity

#: :math:`\tau = \sqrt3/2`, the cosine of the caps' angular radius (30 degrees).
TAU = math.sqrt(3.0) / 2.0

#: :math:`C_0` of Li et al. Thm 2, exactly as docs/theory.rst, section 4 writes it.
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

# Full references: Li, Sha, Jiang, Gao, Han 2026 (arXiv 2609.09130) and
# Awasthi, Dikkala, Kamath, Meka, COLT 2024 (ADKM).
_SOURCE_LI = "Li et al. 2026"
_SOURCE_ADKM = "ADKM 2024"

#: Largest ``n``, ``s``, ``k``, ``m`` (and counts such as ``q`` or ``n_draws``)
#: accepted: the formulas are evaluated in float64, which represents every
#: integer up to :math:`2^{53}` exactly (and none beyond about
#: :math:`1.8 \cdot 10^{308}`, where Python's int-to-float conversion fails).
MAX_COUNT = 2**53

# --------------------------------------------------------------------- checks
def _check_count(value, name: str, minimum: int = 1) -> int:
    """``value`` as a Python int in ``[minimum, MAX_COUNT]``."""
    value = check_int(value, name, minimum=minimum)
    if value > MAX_COUNT:
        digits = str(value)
        shown = digits if len(digits) <= 24 else f"an integer of {len(digits)} digits"
        raise ValueError(f"{name} must be at most 2**53 = {MAX_COUNT} (it enters float64 "
                         f"arithmetic, exact for integers up to 2**53), got {shown}")
    return value


def _check_class(n, s, k, W=None, B=None, R=None):
    """Validate the class parameters shared by every entry point."""
    n = _check_count(n, "n")
    if check_int(k, "k") == 0:
        # k read off a network with no active unit on the sample (max_active 0).
        raise ValueError("k must be >= 1, got 0: with no active unit every member is the "
                         "zero function on the sample, whose Rademacher complexity is 0")
    s, k = check_width_and_sparsity(s, k)
    _check_count(s, "s")
    out = [n, s, k]
    # "+ 0.0" turns -0.0 into 0.0 (the table printed "W=-0" and bounds of "-0").
    if W is not None:
        out.append(check_float(W, "W", minimum=0.0) + 0.0)
    if B is not None:
        out.append(check_float(B, "B", minimum=0.0) + 0.0)
    if R is not None:
        out.append(check_float(R, "R", minimum=0.0, strict_minimum=True))
    return out


def _cluster_count(s: int, k: int, m) -> int:
    """``q = floor(s/k)``, or ``min(floor(s/k), m)`` for a sample size ``m``."""
    if m is None:
        return s // k
    return min(s // k, _check_count(m, "m"))


def d_q(q) -> int:
    r"""Dimension :math:`d_q = \min(q, \lceil 16 \log(2q)\rceil)` needed by the caps (Thm 12).

    With :math:`n \ge q` the cap directions are orthonormal; with
    :math:`16\log(2q) \le n < q`, random sign vectors are separated with
    probability at least 7/8 per draw (docs/theory.rst, section 4).

    Parameters
    ----------
    q : int
        Number of cap directions, ``>= 1``.

    Returns
    -------
    int
    """
    q = _check_count(q, "q")
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
    :math:`1/\sqrt{3m} \le \rho_m \le 1/\sqrt m` (docs/theory.rst, section 4) and
    :math:`\rho_m \sqrt m \to \sqrt{2/\pi}`.

    Parameters
    ----------
    m : int
        Number of signs, ``1 <= m <= MAX_COUNT`` (:math:`2^{53}`).

    Returns
    -------
    float
    """
    m = _check_count(m, "m")
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
class Bound(ResultMixin):
    """One row of the table of docs/theory.rst, section 4.

    Parameters
    ----------
    name : str
    value : float
        The bound's value; for ``kind == "rate"`` the displayed expression
        *without its unknown constant*, which is not a bound (``nan`` where
        the expression is undefined: ADKM eq. (15)'s logarithm of
        :math:`km(R+B) < 1` with :math:`A + B > 0`).
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

    def to_dict(self) -> dict:
        """JSON-serialisable form (``value`` is ``None`` where it is ``nan``).

        Returns
        -------
        dict
        """
        return {"name": self.name, "value": None if math.isnan(self.value) else self.value,
                "kind": self.kind, "source": self.source, "condition": self.condition,
                "holds": self.holds}

    def _frame_records(self) -> list[dict]:
        """One row: the fields."""
        return [{"name": self.name, "value": self.value, "kind": self.kind,
                 "source": self.source, "condition": self.condition, "holds": self.holds}]

    def __str__(self) -> str:
        holds = "n/a" if self.holds is None else ("yes" if self.holds else "no")
        value = "undefined" if math.isnan(self.value) else f"{self.value:.4g}"
        return (f"{self.name} = {value} ({self.kind}; {self.source}; condition "
                f"{self.condition}: {holds})")


@dataclass(frozen=True, repr=False)
class RademacherBounds(ResultMixin):
    r"""Every bound of docs/theory.rst, section 4 for one parameter set (see :func:`bounds`).

    Printing it gives the table.  ``str(result)`` lists every row with its
    kind, source and condition; the conditions are also available as
    :attr:`conditions`.  ``repr()`` is one line: the parameters and the best
    bounds; ``to_frame()`` has one row per bound.

    Parameters
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
        r"""The four conditions of docs/theory.rst, section 4 and whether they hold.

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

    def to_dict(self) -> dict:
        """JSON-serialisable form: the parameters, derived quantities, every row
        (:meth:`Bound.to_dict`), the conditions and the best bounds.

        Returns
        -------
        dict
        """
        return {"n": self.n, "s": self.s, "k": self.k, "W": self.W, "B": self.B,
                "R": self.R, "m": self.m, "A": self.A, "q": self.q, "d_q": self.d_q,
                "a": self.a, "rho_m": self.rho_m, "rows": [row.to_dict() for row in self.rows],
                "conditions": self.conditions, "best_upper": self.best_upper,
                "best_lower": self.best_lower}

    def _frame_records(self) -> list[dict]:
        """One row per bound (:attr:`rows`)."""
        return [row._frame_records()[0] for row in self.rows]

    def __repr__(self) -> str:
        # The dataclass's own listed every row with its source and condition.
        best_lower = "None" if self.best_lower is None else f"{self.best_lower:.4g}"
        return (f"RademacherBounds(n={self.n}, s={self.s}, k={self.k}, W={self.W!r}, "
                f"B={self.B!r}, R={self.R!r}, m={self.m}, "
                f"best_upper={self.best_upper:.4g}, best_lower={best_lower})")

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
    r"""Every Rademacher bound of docs/theory.rst, section 4 for :math:`H(n, s, k, W, B)` on ``m`` samples.

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
        Sample size, ``>= 1``.  ``n``, ``s`` and ``m`` are at most
        :data:`MAX_COUNT` (:math:`2^{53}`).

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
    m = _check_count(m, "m")
    A = W * R
    q = _cluster_count(s, k, m)
    dq = d_q(q)
    a = min(A, B / TAU)
    rho_m = rho(m)
    sqrt_m = math.sqrt(m)
    sparse_rate = math.sqrt(s * k / m)

    # Defined where the logarithm is >= 0 (it is 0 at k m (R + B) = 1, so is the
    # rate), and 0 where its factor A + B is: that class is the zero function.
    log_argument = k * m * (R + B)
    if A + B == 0.0:
        adkm = 0.0
    elif log_argument >= 1.0:
        adkm = (A + B) * math.sqrt(s * n * k * math.log(log_argument)) / sqrt_m
    else:
        adkm = math.nan

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
    overflowed = [row.name for row in rows if math.isinf(row.value)]
    if overflowed:
        # An infinite upper bound would print as holding, and the table's
        # comparisons would be meaningless.
        raise ValueError(f"W={W:g}, B={B:g}, R={R:g} (A = W R = {A:g}) overflow float64 in "
                         f"{', '.join(overflowed)}; rescale W, B and R (e.g. to norms of "
                         "order 1: the bounds grow linearly in A and B)")
    return RademacherBounds(n=n, s=s, k=k, W=W, B=B, R=R, m=m, A=A, q=q, d_q=dq, a=a,
                            rho_m=rho_m, rows=rows)


def excess_risk_bound(bounds_result, lipschitz, loss_bound, delta) -> float:
    r"""Excess-risk guarantee of approximate ERM over the class (Li et al. Cor. 13).

    .. math::

        4 L\, U_m + 2 b_\ell \sqrt{\log(2/\delta) / (2m)},

    with :math:`U_m` = ``bounds_result.best_upper``: with probability at
    least :math:`1-\delta` over ``m`` i.i.d. samples, an empirical risk
    minimiser over :math:`H` for an :math:`L`-Lipschitz loss bounded by
    :math:`b_\ell` has excess risk at most this (docs/theory.rst, section 4).  It
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
    delta = check_open_unit(delta, "delta")
    m = bounds_result.m
    return (4.0 * lipschitz * bounds_result.best_upper
            + 2.0 * loss_bound * math.sqrt(math.log(2.0 / delta) / (2.0 * m)))
