r"""Rademacher complexity of sparse ReLU networks: bounds, extremal constructions, estimates.

Everything here traces to docs/theory.rst, section 4.  The empirical Rademacher
complexity of a class :math:`H` on a sample :math:`S = (x_1, \dots, x_m)` is

.. math::

    \widehat{\mathfrak R}_S(H) = \frac1m\,\mathbb E_\zeta
    \sup_{h \in H} \sum_{i=1}^m \zeta_i\, h(x_i),
    \qquad \zeta_i \text{ i.i.d. uniform on } \{-1, +1\},

and :math:`H = H(n, s, k, W, B)` is the class of width-:math:`s` networks
with :math:`\max_j|u_j|\max_j\|w_j\| \le W`,
:math:`\max_j|u_j|\max_j|b_j| \le B` and at most :math:`k` active units on
every input (docs/theory.rst, section 2).  Inputs have norm at most :math:`R` and
:math:`A = W R`.

The module offers three things:

- :func:`bounds` evaluates every bound of docs/theory.rst's table (upper bounds,
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

Layout (private modules, one concern each; import from
``sparselearn.rademacher``): ``_bounds`` the constants, :func:`rho` and the
table of bounds, ``_constructions`` the sign families and their exact
suprema, ``_estimates`` the Monte-Carlo estimates.
"""
from __future__ import annotations

from ._bounds import (C0, C_CAP, C_LOWER, C_SPARSE, MAX_COUNT, TAU, Bound, RademacherBounds,
                      bounds, d_q, excess_risk_bound, rho)
from ._constructions import (SignFamily, cap_construction, cluster_construction,
                             constant_construction, separated_directions)
from ._estimates import (RademacherEstimate, _certify, empirical_rademacher,  # noqa: F401
                         rademacher_lower_estimate)

__all__ = [
    "C0",
    "C_CAP",
    "C_LOWER",
    "C_SPARSE",
    "MAX_COUNT",
    "TAU",
    "Bound",
    "RademacherBounds",
    "RademacherEstimate",
    "SignFamily",
    "bounds",
    "cap_construction",
    "cluster_construction",
    "constant_construction",
    "d_q",
    "empirical_rademacher",
    "excess_risk_bound",
    "rademacher_lower_estimate",
    "rho",
    "separated_directions",
]
