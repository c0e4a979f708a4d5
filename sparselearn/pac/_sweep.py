"""verify_sweep: the PAC check at every point of a parameter grid."""
from __future__ import annotations

import functools
import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .._results import renamed_argument
from .._validation import check_int
from ._execution import _check_factory, _FactoryCall, _progress_bar
from ._options import Options, _check_eps
from ._preflight import (_check_eps_scale, _check_preflight, _class_degree, _class_errors,
                         _preflight, _skipped_result, _warn_eps_scale, _warn_infeasible)
from ._results import _RECORD_COLUMNS, SweepResult, _frozen_array, _plain
from ._trial import _pac_result, _run_trial, _trial_calls, _trial_spec


def _check_grid(grid) -> dict:
    """Validate a grid: names -> non-empty lists of distinct JSON scalars."""
    if not isinstance(grid, Mapping):
        raise TypeError("grid must be a dict of parameter name -> list of values, got "
                        f"{type(grid).__name__}")
    if "n_samples" not in grid:
        raise ValueError("grid must have an 'n_samples' entry (the training-sample sizes "
                         f"m to try); got parameters {sorted(map(str, grid))}")
    checked = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"grid parameter names must be identifiers, got {name!r}")
        if name in _RECORD_COLUMNS:
            raise ValueError(f"grid parameter {name!r} clashes with a result column; "
                             "rename it")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
            raise TypeError(f"grid[{name!r}] must be a list of values, got "
                            f"{type(values).__name__}")
        values = [_plain(v) for v in values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty; give at least one value")
        for value in values:
            if not isinstance(value, (bool, int, float, str)) or (
                    isinstance(value, float) and not math.isfinite(value)):
                raise TypeError(f"grid[{name!r}] values must be finite numbers, strings or "
                                f"bools, got {value!r}")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"grid[{name!r}] has repeated values {values}")
        checked[name] = values
    checked["n_samples"] = [check_int(m, f"grid['n_samples'][{i}]", minimum=1)
                            for i, m in enumerate(checked["n_samples"])]
    return checked


def _point_seed(root: np.random.SeedSequence, point: dict) -> np.random.SeedSequence:
    """A grid point's seed: the root extended by a digest of the point's
    parameters other than ``n_samples``.

    It depends on the point's values only (not on its position in the grid,
    the rest of the grid, or where it runs), and points that differ only in
    ``n_samples`` share it: the same targets and sample streams at every
    ``m`` (common random numbers), as in :func:`sample_complexity_curve`.
    """
    key = json.dumps({k: v for k, v in point.items() if k != "n_samples"},
                     sort_keys=True)
    word = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (word,),
                                  pool_size=root.pool_size)


def verify_sweep(make_learner, make_target, grid, eps, delta, trials, noise=0.0, *,
                 confidence=0.95, random_state=None, scheduler=None, n_jobs=1,
                 exact_max_n=16, n_draws=100_000, progress=None,
                 max_bytes=None, n_test=None, output=None, eps_scale=None,
                 preflight=True, agnostic=False) -> SweepResult:
    r"""Run :func:`verify_pac` at every point of a parameter grid.

    ``grid`` maps parameter names to lists of values; its Cartesian product
    gives the points, e.g. ``{"n_features": [8, 12], "width": [8],
    "sparsity": [1, 2], "n_samples": [100, 400]}`` has 4 points.  At each
    point ``p`` (a dict name -> value) the trials of
    ``verify_pac(lambda: make_learner(p), lambda rng: make_target(p, rng),
    p["n_samples"], eps, delta, trials, noise)`` run, all points' trials
    together, through the same scheduler.

    Parameters
    ----------
    make_learner : callable
        ``make_learner(p)`` returns a fresh, unfitted learner for point ``p``
        (e.g. :func:`low_degree_learner`).
    make_target : callable
        ``make_target(p, rng)`` returns the trial's target at point ``p``,
        drawing its randomness from ``rng`` (e.g. :func:`bump_target`): a
        :class:`~sparselearn.SparseReLUNetwork`, or a callable on ``(rows,
        n)`` arrays of :math:`\pm 1` points when the grid has
        ``"n_features"``.
    grid : dict of str to list
        Parameter name -> distinct values (numbers, strings or bools).  Must
        contain ``"n_samples"``, the training-sample sizes ``m``.
        ``"n_features"``, if present, is the cube dimension ``n`` (checked
        against the networks drawn).  Other names are free and only read by
        the two factories.
    eps, delta, trials, noise, confidence, exact_max_n, n_draws, max_bytes, output, eps_scale
        As in :func:`verify_pac`, the same at every point (``eps`` relative
        to each target's :math:`\mathbb{E}[f^2]`).
    preflight : bool, default=True
        As in :func:`verify_pac`, at every point, on the point's first
        target (points differing only in ``n_samples`` share it, and one
        report when their learners have the same degree): a point whose
        ``eps`` is out of its class's reach runs no
        trial and shows as ``INFEASIBLE``, with one
        :class:`InfeasibleWarning` per such family.
    agnostic : bool, default=False
        As in :func:`verify_pac`, at every point: each trial is judged on its
        error minus its own target's :math:`W^{>d}[f]` (the best of the
        point's learner class, exact from the spectrum, so
        ``n <= exact_max_n``); the points' ``class_errors`` hold them and no
        point is skipped as out of reach.
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Root seed of the sweep.  Point ``p`` runs with the seed
        ``SeedSequence(root.entropy, spawn_key=root.spawn_key + (h(p),))``,
        ``h(p)`` a SHA-256 digest of ``p``'s parameters other than
        ``n_samples``, and trial ``i`` with that seed's ``i``-th child: the
        seed is a function of the trial's coordinates (the point's values,
        the trial index), not of the grid's other points, its order, or
        where the trial runs.  Points differing only in ``n_samples`` share
        targets and sample streams (common random numbers).
    scheduler, n_jobs
        Where the trials run, as in :func:`verify_pac`.  The factories must
        be picklable when trials run in other processes; those given here
        are.
    progress : bool, optional
        Progress bar over all trials of all points (see :func:`verify_pac`).
    n_test : int, optional
        Deprecated alias of ``n_draws`` (``FutureWarning``).

    Returns
    -------
    SweepResult
        One :class:`PACResult` per point; ``to_records()``, ``to_csv()``,
        ``to_json()`` and :func:`plot_sweep` present them.

    Raises
    ------
    TypeError, ValueError, ConnectionError, MemoryBudgetError
        As :func:`verify_pac`; also for a grid that is not a dict of
        non-empty lists of distinct scalars, lacks ``"n_samples"``, or uses
        a name of a result column (``trials``, ``successes``, ...).

    Examples
    --------
    >>> import functools, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = verify_sweep(functools.partial(low_degree_learner, degree=2),
    ...                           bump_target, {"n_features": [6], "width": [4],
    ...                           "sparsity": [1, 2], "n_samples": [300]},
    ...                           eps=0.5, delta=0.2, trials=4, random_state=0,
    ...                           eps_scale="relative")
    >>> # sparsity 1: degree 2 cannot reach eps = 0.5; the pre-flight says so
    >>> # with an InfeasibleWarning and runs no trial
    >>> [(w.category.__name__, str(w.message).split(";")[0]) for w in caught]
    [('InfeasibleWarning', 'no sample size can pass at degree <= 2: best relative error
      0.737 > eps 0.5')]
    >>> [(r["sparsity"], r["trials"], r["feasible"]) for r in result.to_records()]
    [(1, 0, False), (2, 4, True)]
    """
    n_draws = renamed_argument("verify_sweep", "n_test", "n_draws", n_test, n_draws, 100_000)
    options = Options.from_arguments(locals(), learner_call=_FactoryCall(
        "make_learner(point) with the grid point, a dict", 1,
        "lambda point: YourLearner(...)"))
    make_target = _check_factory(make_target, "make_target", _FactoryCall(
        "make_target(point, rng)", 2, "lambda point, rng: your_network(..., random_state=rng)",
        wrapped="lambda point, rng: net"))
    grid = _check_grid(grid)
    eps = _check_eps(eps)
    scale = _check_eps_scale(eps_scale)
    preflight = _check_preflight(preflight)
    runner = options.runner(make_target=make_target)
    make_learner, trials, root = options.make_learner, options.trials, options.root

    names = tuple(grid)
    points = tuple(dict(zip(names, values)) for values in itertools.product(*grid.values()))
    specs, calls, reports, families, baselines = [], [], [], {}, []
    for point in points:
        # Copies, so a factory that edits its argument cannot change the
        # recorded point.
        learner_for = functools.partial(make_learner, dict(point))
        target_for = functools.partial(make_target, dict(point))
        n = point.get("n_features")
        if n is not None:
            n = check_int(n, f"grid['n_features'][{grid['n_features'].index(n)}]",
                          minimum=1)
        spec = _trial_spec(target_for, _point_seed(root, point), point["n_samples"], options,
                           n_features=n)
        specs.append(spec)
        # Agnostic: each trial's best error in the point's class (its target's
        # W^{>d}[f]); None otherwise.
        baselines.append(_class_errors(learner_for, target_for, spec, trials, options)
                         if options.agnostic else None)
        report = None
        if preflight:
            # Points differing only in n_samples share their targets: one
            # report (and at most one warning) per family and learner degree
            # (make_learner may choose its degree from n_samples).
            family = (json.dumps({k: v for k, v in point.items() if k != "n_samples"},
                                 sort_keys=True),
                      _class_degree(learner_for(), spec["n_features"]))
            if family not in families:
                families[family] = _preflight(functools.partial(make_learner, dict(point)),
                                              target_for, spec["root"], spec["n_features"],
                                              eps, options, scale, options.agnostic)
                _warn_infeasible(families[family])
            report = families[family]
        reports.append(report)
        if report is None or report["feasible"] is not False:
            calls += _trial_calls(learner_for, target_for, spec, trials)
    with runner, _progress_bar(options.progress, total=len(calls), unit="trial",
                               desc=f"PAC sweep ({len(points)} points)") as bar:
        outcomes = runner.map(_run_trial, calls, bar)
    results, done = [], 0
    for spec, report, baseline in zip(specs, reports, baselines):
        if report is not None and report["feasible"] is False:
            results.append(_skipped_result(spec, eps, options, report, scale))
            continue
        result = _pac_result(spec, outcomes[done:done + trials], eps, options)
        done += trials
        results.append(dataclasses.replace(
            result, eps_scale=scale, preflight=report,
            class_errors=None if baseline is None else _frozen_array(baseline)))
    results = tuple(results)
    if scale == "relative":
        _warn_eps_scale(eps_scale, [e for r in results for e in r.target_norms]
                        + [r["energy"] for r in reports if r is not None], "verify_sweep")
    return SweepResult(param_names=names, points=points, results=results, eps=eps,
                       delta=options.delta, noise=options.noise,
                       confidence=options.confidence, trials=trials, seed=root)
