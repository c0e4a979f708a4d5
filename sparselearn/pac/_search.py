"""sample_complexity_curve: the smallest sample size at which the PAC check passes."""
from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence

import numpy as np

from .._results import renamed_argument
from .._validation import check_float, check_int
from ._execution import (_check_factory, _check_picklable, _FactoryCall, _NoBar,
                         _progress_bar)
from ._options import Options, _check_eps
from ._preflight import (_check_eps_scale, _check_preflight, _class_errors, _preflight,
                         _warn_eps_scale, _warn_infeasible)
from ._results import Evaluation, SampleComplexityResult, _frozen_array, _plain
from ._trial import _child_seed, _pac_result, _run_trial, _trial_calls, _trial_spec

_CRITERIA = ("consistent", "certified")

# A make_target_for of the right shape, shown when one is called wrongly.
_TARGET_EXAMPLE = "lambda p: (lambda rng: your_network(p, random_state=rng))"


def _check_m_grid(m_grid) -> list[int]:
    try:
        values = [check_int(m, "m_grid[]", minimum=1) for m in m_grid]
    except TypeError:
        if not hasattr(m_grid, "__iter__"):
            raise TypeError("m_grid must be a sequence of positive integers") from None
        raise
    if not values:
        raise ValueError("m_grid must contain at least one sample size")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"m_grid must be strictly increasing, got {values}")
    return values


def _search(run, m_grid, m_min, m_max, rtol):
    """Smallest passing ``m`` on the grid (scanning up) or by geometric bisection.

    ``run(m)`` returns an :class:`Evaluation`.  Both searches assume that
    passing is monotone in ``m``; trials share their random streams across
    ``m`` (common random numbers), which makes that close to true.
    """
    done = {}

    def evaluate(m):
        if m not in done:
            done[m] = run(m)
        return done[m]

    if m_grid is not None:
        for m in m_grid:
            if evaluate(m).passed:
                break
    elif evaluate(m_max).passed:
        lo, hi = m_min, m_max
        if not evaluate(lo).passed:
            # Invariant: lo fails, hi passes.  Midpoints are geometric because
            # sample complexities span orders of magnitude.
            while hi - lo > max(1, rtol * lo):
                mid = min(hi - 1, max(lo + 1, round(math.sqrt(lo * hi))))
                if evaluate(mid).passed:
                    hi = mid
                else:
                    lo = mid
    runs = tuple(done[m] for m in sorted(done))
    passing = [e.n_samples for e in runs if e.passed]
    m_star = min(passing) if passing else None
    failing_below = [e.n_samples for e in runs
                     if not e.passed and (m_star is None or e.n_samples < m_star)]
    low = max(failing_below) if failing_below and m_star is not None else None
    return m_star, low, runs


def sample_complexity_curve(make_learner, make_target_for, params, eps, delta, trials, *,
                            m_grid=None, m_min=1, m_max=None, rtol=0.1, noise=0.0,
                            confidence=0.95, criterion="consistent", param_name="param",
                            random_state=None, scheduler=None, n_jobs=1, n_features=None,
                            exact_max_n=16, n_draws=100_000, progress=None,
                            max_bytes=None, n_test=None, output=None, eps_scale=None,
                            preflight=True, agnostic=False) -> SampleComplexityResult:
    r"""The smallest sample size at which a PAC guarantee holds, as a function of a parameter.

    For each value ``p`` in ``params`` this searches for the smallest ``m``
    such that :func:`verify_pac` with ``make_target_for(p)`` passes the
    Clopper-Pearson check ``criterion``:

    - ``"consistent"``: :math:`\Pr[\text{error} \le \varepsilon] \ge 1 - \delta`
      is not rejected (the interval's upper end reaches :math:`1 - \delta`);
    - ``"certified"``: it is demonstrated (the lower end reaches it; needs
      at least :math:`\log((1-c)/2)/\log(1-\delta)` trials).

    The search either scans ``m_grid`` upwards and stops at the first pass,
    or bisects geometrically between ``m_min`` and ``m_max`` until the
    bracket ``(fail, pass]`` is narrower than ``rtol`` relative.  For one
    parameter value every ``m`` reuses the same trial seeds (common random
    numbers: the same targets and the same sample streams), which keeps
    passing close to monotone in ``m``, as both searches assume.

    Parameters
    ----------
    make_learner : callable
        As in :func:`verify_pac`, shared by all parameter values.
    make_target_for : callable
        ``make_target_for(p)`` returns the ``make_target`` for parameter
        ``p`` (e.g. ``lambda k: lambda rng: bump_network(32, 8, k,
        random_state=rng)``).
    params : sequence
        Parameter values (``k``, ``s``, ``n``, ``eps``, ...), at least one.
    eps : float or sequence of float
        Tolerance, or one tolerance per parameter value (to sweep ``eps``
        itself pass ``eps=params``).
    delta : float
        Failure probability in ``(0, 1)``.
    trials : int
        Trials per :func:`verify_pac` call.
    m_grid : sequence of int, optional
        Strictly increasing candidate sizes.  If omitted, bisection on
        ``[m_min, m_max]`` (then ``m_max`` is required).
    m_min, m_max : int
        Bisection range.
    rtol : float, default=0.1
        Relative width at which bisection stops.
    noise, confidence, random_state, scheduler, n_jobs, n_features, exact_max_n, n_draws, max_bytes, output
        As in :func:`verify_pac`.  Parameter ``i`` uses the ``i``-th child of
        the root seed, and trial ``j`` at every ``m`` the ``j``-th child of
        that: a trial's seed depends on ``(i, j)`` only, never on where or
        in which order it runs.  ``make_target_for`` itself is called in
        this process; the factories it returns and ``make_learner`` must be
        picklable when trials run elsewhere.  The connection (or process
        pool) is opened once for the whole search.
    criterion : {"consistent", "certified"}
        Which Clopper-Pearson decision counts as the guarantee holding.
    param_name : str, default="param"
        Name of the parameter, for tables and plot labels.
    progress : bool, optional
        Progress bar over the ``verify_pac`` runs (see :func:`verify_pac`).
    n_test : int, optional
        Deprecated alias of ``n_draws`` (``FutureWarning``).
    eps_scale : {"relative", "absolute"}, optional
        As in :func:`verify_pac`: ``eps`` is relative to
        :math:`\mathbb{E}[f^2]` by default.
    preflight : bool, default=True
        As in :func:`verify_pac`, once per parameter value on its first
        target: a value whose ``eps`` is out of the class's reach is not
        searched (``min_samples`` ``None``, no evaluations, an
        :class:`InfeasibleWarning`); ``result.preflight`` holds the reports.
    agnostic : bool, default=False
        As in :func:`verify_pac`: at every ``m``, a trial passes when its
        error minus its own target's :math:`W^{>d}[f]` (the class's best,
        exact from the spectrum, so ``n <= exact_max_n``; computed once per
        parameter value, the targets being the same at every ``m``) is
        within the tolerance, so the search finds the sample size of the
        agnostic guarantee; no parameter value is skipped as out of reach.

    Returns
    -------
    SampleComplexityResult
        ``min_samples[i]`` is the answer for ``params[i]`` (``None`` if the
        check failed at the largest ``m`` tried); ``evaluations`` records
        every run.
    """
    n_draws = renamed_argument("sample_complexity_curve", "n_test", "n_draws", n_test,
                               n_draws, 100_000)
    options = Options.from_arguments(locals())
    make_target_for = _check_factory(make_target_for, "make_target_for", _FactoryCall(
        "make_target_for(p)", 1, _TARGET_EXAMPLE, wrapped="lambda p: (lambda rng: net)"))
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence | np.ndarray):
        raise TypeError(f"params must be a sequence of parameter values, got "
                        f"{type(params).__name__}")
    params = tuple(params)
    if not params:
        raise ValueError("params must contain at least one parameter value")
    if isinstance(eps, numbers.Real):
        eps_values = (_check_eps(eps),) * len(params)
    else:
        eps_values = tuple(_check_eps(e, "eps[]") for e in eps)
        if len(eps_values) != len(params):
            raise ValueError(f"eps has {len(eps_values)} values for {len(params)} params; "
                             "pass one eps or one per parameter value")
    if criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA}, got {criterion!r}")
    if not isinstance(param_name, str):
        raise TypeError(f"param_name must be a string, got {type(param_name).__name__}")
    if m_grid is not None:
        m_grid = _check_m_grid(m_grid)
    else:
        m_min = check_int(m_min, "m_min", minimum=1)
        if m_max is None:
            raise ValueError("pass m_grid= (sizes to scan) or m_max= (upper end of the "
                             "bisection range)")
        m_max = check_int(m_max, "m_max", minimum=m_min)
        rtol = check_float(rtol, "rtol", minimum=0.0, strict_minimum=True)
    trials, delta, confidence = options.trials, options.delta, options.confidence
    if criterion == "certified":
        # With every trial successful the lower end is ((1 - c)/2)^(1/t).
        best_lower = ((1.0 - confidence) / 2.0) ** (1.0 / trials)
        if best_lower < 1.0 - delta:
            needed = math.ceil(math.log((1.0 - confidence) / 2.0) / math.log(1.0 - delta))
            raise ValueError(f"criterion='certified' can never pass with trials={trials} at "
                             f"confidence={confidence} and delta={delta}: even {trials}/"
                             f"{trials} successes give a lower end {best_lower:.4f} < "
                             f"{1 - delta:g}; use trials >= {needed}")
    scale = _check_eps_scale(eps_scale)
    preflight = _check_preflight(preflight)
    runner = options.runner()
    targets = []
    for param in params:
        make_target = make_target_for(param)
        _check_factory(make_target, f"make_target_for({param!r})",
                       _FactoryCall("make_target(rng)", 1,
                                    "lambda rng: your_network(p, random_state=rng)"))
        if runner.remote:
            _check_picklable(**{f"make_target_for({param!r})": make_target})
        targets.append(make_target)

    min_samples, lower_brackets, evaluations, reports, energies = [], [], [], [], []
    with runner, _progress_bar(options.progress, desc="sample complexity",
                               unit="run") as bar:
        for index, (param, make_target) in enumerate(zip(params, targets)):
            param_seed = _child_seed(options.root, index)
            report = (_preflight(options.make_learner, make_target, param_seed,
                                 options.n_features, eps_values[index], options, scale,
                                 options.agnostic)
                      if preflight else None)
            reports.append(report)
            if report is not None:
                energies.append(report["energy"])
            if _warn_infeasible(report):
                min_samples.append(None)
                lower_brackets.append(None)
                evaluations.append(())
                continue

            # Agnostic: the trials' best errors in the class, the same at every m.
            baseline = []

            def run(m, make_target=make_target, eps=eps_values[index], seed=param_seed,
                    param=param, baseline=baseline):
                bar.set_postfix({param_name: _plain(param), "m": m})
                spec = _trial_spec(make_target, seed, m, options)
                if options.agnostic and not baseline:
                    baseline.append(_frozen_array(_class_errors(
                        options.make_learner, make_target, spec, trials, options)))
                outcomes = runner.map(_run_trial, _trial_calls(options.make_learner,
                                                               make_target, spec, trials),
                                      _NoBar)
                result = dataclasses.replace(_pac_result(spec, outcomes, eps, options),
                                             eps_scale=scale,
                                             class_errors=baseline[0] if baseline else None)
                energies.extend(result.target_norms)
                bar.update()
                passed = result.consistent if criterion == "consistent" else result.certified
                return Evaluation(m, result.successes, result.trials, result.interval,
                                  passed, float(np.median(result.errors)))

            m_star, low, runs = _search(run, m_grid, m_min, m_max, rtol)
            min_samples.append(m_star)
            lower_brackets.append(low)
            evaluations.append(runs)
    if scale == "relative":
        _warn_eps_scale(eps_scale, energies, "sample_complexity_curve")
    return SampleComplexityResult(
        param_name=param_name, params=params, eps=eps_values, delta=delta,
        confidence=confidence, criterion=criterion, noise=options.noise, trials=trials,
        min_samples=tuple(min_samples), lower_brackets=tuple(lower_brackets),
        evaluations=tuple(evaluations), preflight=tuple(reports), seed=options.root)
