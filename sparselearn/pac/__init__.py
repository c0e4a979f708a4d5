r"""Empirical PAC verification and sample-complexity curves.

A learner *PAC-learns* a target class under the uniform distribution on
:math:`\{-1,1\}^n` with ``m`` samples when, for every target ``f`` in the class,

.. math::

    \Pr_{\text{sample}}\bigl[\,\mathbb{E}_x[(h(x) - f(x))^2] \le
    \varepsilon\,\mathbb{E}_x[f(x)^2]\,\bigr] \ge 1 - \delta,

where ``h`` is the hypothesis fitted on ``m`` uniform points labelled by ``f``
(realizable case) or by ``f`` plus independent Gaussian noise (realizable
with noisy labels: ``f`` is still the regression function, and
:math:`\mathbb{E}_x[(h - f)^2]` is the *excess* squared risk).  ``eps`` is
relative to :math:`\mathbb{E}[f^2]`, the zero predictor's error.  In the
*agnostic* case the target lies outside the learner's class (a tail
:math:`W^{>d}[f] > 0` at the learner's degree ``d``) and the guarantee is
:math:`\mathbb{E}[(h - f)^2] \le W^{>d}[f] + \varepsilon\,\mathbb{E}[f^2]`
(``verify_pac(agnostic=True)``).  Before any trial, every entry point reports
the class's best relative error :math:`W^{>d}[f]/\mathbb{E}[f^2]` on the first
target and skips the trials when ``eps`` is below it.  docs/theory.rst,
section 3 states this for least squares over the ``D`` monomials of degree
``<= d`` with :math:`m = O(D \log(D/\delta)/\varepsilon)` whenever the
target's tail weight :math:`W^{>d}[f]` is at most :math:`\varepsilon`.

:func:`verify_pac` checks such a statement empirically: it runs independent
trials (target, sample, fit), measures each excess error exactly (over all
:math:`2^n` points when ``n`` is small, which by Parseval equals
:math:`\sum_S (\hat h(S) - \hat f(S))^2`; otherwise on a large fresh sample
with its standard error), and tests the hypothesis
:math:`p = \Pr[\text{error} \le \varepsilon] \ge 1 - \delta` with an exact
Clopper-Pearson interval.  :func:`sample_complexity_curve` searches for the
smallest ``m`` at which that check passes, as a function of a parameter of the
target family, and :func:`plot_sample_complexity` draws it.
:func:`verify_sweep` runs the check at every point of a parameter grid (the
``sparselearn verify`` command), with :class:`SweepResult` tables and
:func:`plot_sweep`; :func:`bump_target` and :func:`low_degree_learner` are
ready-made factories for it.

Execution: trials are independent; all three run them in this process by
default, on a pool of local processes (``n_jobs``, through joblib), or on a
Dask ``distributed`` cluster (``scheduler="tcp://HOST:PORT"`` or a
``Client``; Dask is the optional extra ``pip install "sparselearn[dask]"``).

Reproducibility: every trial draws all its randomness from a
:class:`numpy.random.SeedSequence` derived from the root seed and the
trial's coordinates only (grid point or parameter index, trial index), so
the result is the same for every scheduler and number of workers, in any
execution order, and the first ``t`` trials of a run do not depend on how
many trials follow them.

Layout (private modules, one concern each; import from ``sparselearn.pac``):
``_stats`` the Clopper-Pearson interval, ``_results`` the result objects,
``_options`` the validated arguments the three entry points share,
``_trial`` one trial, ``_execution`` where trials run, ``_verify``,
``_search`` and ``_sweep`` the entry points, ``_plots`` and ``_factories``.
"""
from __future__ import annotations

from ._execution import _check_scheduler  # noqa: F401  (used by sparselearn.cli)
from ._factories import bump_target, junta_sum_target, low_degree_learner
from ._plots import plot_sample_complexity, plot_sweep
from ._preflight import InfeasibleWarning
from ._results import Evaluation, PACResult, SampleComplexityResult, SweepResult
from ._search import sample_complexity_curve
from ._stats import clopper_pearson
from ._sweep import verify_sweep
from ._verify import verify_pac

__all__ = [
    "Evaluation",
    "InfeasibleWarning",
    "PACResult",
    "SampleComplexityResult",
    "SweepResult",
    "bump_target",
    "clopper_pearson",
    "junta_sum_target",
    "low_degree_learner",
    "plot_sample_complexity",
    "plot_sweep",
    "sample_complexity_curve",
    "verify_pac",
    "verify_sweep",
]
