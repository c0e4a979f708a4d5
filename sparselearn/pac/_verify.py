"""verify_pac: check one PAC guarantee empirically."""
from __future__ import annotations

import dataclasses

from .._results import renamed_argument
from .._validation import check_int
from ._execution import _check_factory, _FactoryCall, _progress_bar
from ._options import Options, _check_eps
from ._preflight import (_check_eps_scale, _check_preflight, _class_errors, _preflight,
                         _skipped_result, _warn_eps_scale, _warn_infeasible)
from ._results import PACResult, _frozen_array
from ._trial import _pac_result, _run_trial, _trial_calls, _trial_spec

def verify_pac(make_learner, make_target, n_samples, eps, delta, trials, noise=0.0, *,
               confidence=0.95, random_state=None, scheduler=None, n_jobs=1,
               n_features=None, exact_max_n=16, n_draws=100_000, progress=None,
               max_bytes=None, n_test=None, output=None, eps_scale=None,
               preflight=True, agnostic=False) -> PACResult:
    r"""Check a PAC guarantee empirically: :math:`\Pr[\text{error} \le \varepsilon] \ge 1 - \delta`.

    Each of ``trials`` independent trials

    1. draws a target ``f = make_target(rng)``;
    2. draws ``n_samples`` i.i.d. uniform points :math:`x_i` of
       :math:`\{-1,1\}^n` with labels :math:`y_i = f(x_i) + \sigma \xi_i`,
       :math:`\xi_i \sim N(0, 1)`, :math:`\sigma` = ``noise``
       (*realizable with noisy labels* when :math:`\sigma > 0`: the regression
       function :math:`\mathbb{E}[y \mid x]` is still ``f``; the *agnostic*
       case is a target outside the learner's class, e.g. a network with
       :math:`W^{>d}[f] > 0` for a degree-``d`` learner, whose best error
       in the class is then :math:`W^{>d}[f]`, docs/theory.rst, section 3);
    3. fits ``h = make_learner().fit(X, y)``;
    4. measures the excess squared error
       :math:`\mathbb{E}_{x}[(h(x) - f(x))^2]` under the uniform
       distribution: exactly, as the mean over all :math:`2^n` points, when
       ``n <= exact_max_n`` (by Parseval this equals
       :math:`\sum_S (\hat h(S) - \hat f(S))^2`, docs/theory.rst, section 3);
       otherwise as the mean over ``n_draws`` fresh uniform points, with its
       standard error.

    A trial succeeds when its error is at most ``eps`` times
    :math:`\mathbb{E}[f^2]` (the error of the zero predictor, measured on
    the same points: a relative error of 1 means learning nothing).  The number of
    successes gives a Clopper-Pearson interval for
    :math:`p = \Pr[\text{error} \le \varepsilon]` (:func:`clopper_pearson`);
    the guarantee :math:`p \ge 1 - \delta` is *consistent* with the trials
    when the interval's upper end reaches :math:`1 - \delta`, and
    *certified* when its lower end does.
    When the error is estimated on fresh points (``n > exact_max_n``), a
    trial's success is judged on the estimate, so the interval is for
    :math:`\Pr[\widehat{\text{error}} \le \varepsilon]`; with the default
    ``n_draws`` the standard errors (reported per trial) are small against
    typical ``eps``, but a trial within a few of them of ``eps`` could go
    either way.

    Parameters
    ----------
    make_learner : callable
        ``make_learner()`` returns a fresh, unfitted object with
        ``fit(X, y)`` and ``predict(X)`` (any scikit-learn regressor, e.g.
        :class:`sparselearn.learners.LowDegreeRegressor`).  It is called once
        per trial with no arguments: give a learner with internal randomness
        a fixed ``random_state`` to make the run reproducible.
    make_target : callable
        ``make_target(rng)`` returns the trial's target, drawing any
        randomness from the :class:`numpy.random.Generator` ``rng``: a
        :class:`~sparselearn.SparseReLUNetwork` on ``n`` inputs, or a callable
        mapping an ``(rows, n)`` array of :math:`\pm 1` points to ``rows``
        values (then ``n_features`` is required).
    n_samples : int
        Training-sample size ``m >= 1``.
    eps : float
        Error tolerance :math:`\varepsilon > 0`, relative to
        :math:`\mathbb{E}[f^2]` (see ``eps_scale``).
    delta : float
        Failure probability :math:`\delta \in (0, 1)`.
    trials : int
        Number of independent trials, ``>= 1``.
    noise : float, default=0.0
        Standard deviation :math:`\sigma \ge 0` of the Gaussian label noise.
    confidence : float, default=0.95
        Level of the Clopper-Pearson interval, in ``(0, 1)``.
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Root seed.  Trial ``i`` draws target, sample and test points from the
        ``i``-th child of the root :class:`~numpy.random.SeedSequence`, so
        the result does not depend on ``scheduler``, ``n_jobs`` or the
        order in which trials finish.
    scheduler : None, str or dask.distributed.Client, optional
        Where the trials run.  ``None`` (default): in this process (see
        ``n_jobs``), no set-up and no Dask needed.  An
        address such as ``"tcp://HOST:PORT"``: a
        :class:`dask.distributed.Client` is connected to that running
        scheduler for this call and closed afterwards.  A ``Client``: used
        as is (and left open).  See *Sweeps on a cluster* in the docs.
        Both need the optional Dask extra (``pip install
        "sparselearn[dask]"``; an ``ImportError`` says so otherwise).
    n_jobs : int, default=1
        With ``scheduler=None``: ``1`` runs the trials one after another in
        this process, ``> 1`` (``-1`` for every CPU this process may use,
        :func:`joblib.cpu_count`) in a :class:`joblib.Parallel` pool of
        that many worker processes.  Must be 1 with ``scheduler=``.
        Wherever it runs, each trial holds BLAS and OpenMP to one thread
        (see Notes).
    n_features : int, optional
        Cube dimension ``n``.  Inferred from the target when it is a
        network; required when ``make_target`` returns a plain callable.
    exact_max_n : int, default=16
        Largest ``n`` for which errors are computed exactly over the cube
        (time grows as :math:`2^n`; memory stays flat).  An exact
        evaluation beyond ``n = 30`` (:math:`2^{30}` points per trial) is
        refused with a ``ValueError``.
    n_draws : int, default=100000
        Fresh uniform test points per trial (the Monte-Carlo size of the
        error estimate) when ``n > exact_max_n``; at least 2.
    progress : bool, optional
        Progress bar on stderr.  By default shown only when stderr is a
        terminal; ``True`` forces it (when stderr is not a terminal, as a
        plain line every 10 s -- the environment variable
        ``SPARSELEARN_PROGRESS_INTERVAL`` sets the seconds -- and nothing
        for a shorter run), ``False`` hides it.
    max_bytes : float, optional
        Memory budget for the per-trial sample (see
        :func:`sparselearn._validation.check_memory`).
    n_test : int, optional
        Deprecated alias of ``n_draws`` (``FutureWarning``).
    output : int, optional
        Which output of a multi-output target to learn: the target of every
        trial is ``net.select_output(output)`` for a network (the same hidden
        layer, one output), or column ``output`` of a callable's ``(m, o)``
        values.  Required when ``make_target`` returns a network with more
        than one output (refused otherwise, naming ``output``).
    eps_scale : {"relative", "absolute"}, optional
        ``"relative"`` (the default): a trial succeeds when its error is at
        most :math:`\varepsilon\,\mathbb{E}[f^2]`.  ``"absolute"``: at most
        :math:`\varepsilon`, the meaning ``eps`` had before; left unset, a
        ``FutureWarning`` says so when a target's :math:`\mathbb{E}[f^2]`
        is not 1 (where the two differ).
    preflight : bool, default=True
        Before any trial, report the best relative error the learner's
        class can reach on trial 0's target, :math:`W^{>d}[f]/\mathbb{E}[f^2]`
        for a learner of degree ``<= d`` (``get_params()`` with ``degree``,
        or ``max_degree`` when ``degree=None``): exact from the spectrum when
        ``n <= exact_max_n``, else estimated on ``n_draws`` fresh points with
        its standard error.  When it exceeds ``eps`` (for an estimate, by
        three standard errors) no sample size can pass: an
        :class:`InfeasibleWarning` says so in one line, with the smallest
        degree that reaches ``eps / 2``, and the trials are skipped
        (``result.infeasible``, ``result.trials == 0``).  The report is
        ``result.preflight``.  ``False``: no report, the trials always run.
    agnostic : bool, default=False
        Judge each trial against the best its learner's class can do, the
        agnostic guarantee
        :math:`\mathbb{E}[(h - f)^2] \le W^{>d}[f] + \varepsilon\,\mathbb{E}[f^2]`
        for a degree-``<= d`` learner (which must state its degree as for
        ``preflight``): a trial succeeds when its error minus its own
        target's :math:`W^{>d}[f]` (``result.class_errors``, exact from the
        spectrum, so ``n <= exact_max_n`` is required) is within the
        tolerance.  Use it with targets outside the class (non-zero tail
        at degree ``d``), where ``f`` is not learnable to error ``eps``
        but the best approximation in the class is; the pre-flight then
        reports the class's best error without skipping anything.

    Returns
    -------
    PACResult
        Per-trial errors, success count, interval and decisions; ``print``
        it for a table, ``to_dict()`` for JSON.

    Raises
    ------
    TypeError
        If a factory is not callable, returns the wrong kind of object, or
        cannot be pickled when trials run in other processes; if
        ``scheduler`` is of the wrong type.
    ValueError
        If ``eps <= 0``, ``eps_scale`` is not one of its values, ``delta`` or ``confidence`` is outside ``(0, 1)``,
        ``trials < 1``, a target has the wrong ``n``, a function returns
        the wrong shape, ``scheduler`` is not an address, or ``n_jobs != 1``
        together with ``scheduler``.
    ConnectionError
        If no Dask scheduler answers at the address ``scheduler``.
    MemoryBudgetError
        If one trial's sample would exceed ``max_bytes``.

    See Also
    --------
    sample_complexity_curve : the smallest ``m`` at which the check passes.

    Notes
    -----
    Seeding, to replay one trial (e.g. to inspect a failure): trial ``i``
    uses ``child = SeedSequence(seed.entropy, spawn_key=seed.spawn_key +
    (i,))`` with ``seed = result.seed``, and ``child.spawn(3)`` seeds, in
    order, the generator passed to ``make_target``, the training sample (points,
    then noise) and the test points.  A trial whose learner or target raises
    (a failed fit, NaN or infinite predictions) stops the run with that
    exception, so no failure is ever counted as a success; on Python 3.11+
    a note on it names the trial and the root seed to replay it with.

    Other processes (``n_jobs > 1`` or ``scheduler=``): the factories are
    pickled (with cloudpickle) and sent to the workers, so they must be
    module-level functions or classes, :func:`functools.partial` objects of
    them, or other picklable callables whose modules the workers can import
    (lambdas pickle by value but still import the modules they use).  An
    unpicklable factory is refused with a ``TypeError`` before anything
    runs.  Each trial is a deterministic function of its seed and runs with
    BLAS and OpenMP held to one thread (a threaded sum's rounding depends on
    the thread count, which differs between this process and a Dask
    worker), so the per-trial errors are bitwise equal to the serial run's
    on workers with the same software.  A learner that runs its own Python
    threads and whose floating-point sums depend on their number (e.g.
    :class:`~sparselearn.learners.LowDegreeRegressor` with ``n_jobs=None``,
    all cores) should be given a fixed thread count for that to hold across
    machines with different core counts (as :func:`low_degree_learner`
    does).

    Examples
    --------
    >>> from sparselearn.targets import junta_network
    >>> from sklearn.linear_model import LinearRegression
    >>> make_target = lambda rng: junta_network(lambda z: z[:, 0], [0], 6)
    >>> result = verify_pac(LinearRegression, make_target, n_samples=20, eps=1e-6,
    ...                     delta=0.1, trials=10, random_state=0)
    >>> result.successes, result.consistent
    (10, True)
    """
    n_draws = renamed_argument("verify_pac", "n_test", "n_draws", n_test, n_draws, 100_000)
    options = Options.from_arguments(locals())
    make_target = _check_factory(make_target, "make_target", _FactoryCall(
        "make_target(rng)", 1, "lambda rng: your_network(..., random_state=rng)"))
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    eps = _check_eps(eps)
    scale = _check_eps_scale(eps_scale)
    preflight = _check_preflight(preflight)
    runner = options.runner(make_target=make_target)
    spec = _trial_spec(make_target, options.root, n_samples, options)
    class_errors = (_class_errors(options.make_learner, make_target, spec, options.trials,
                                  options) if options.agnostic else None)
    report = (_preflight(options.make_learner, make_target, options.root,
                         spec["n_features"], eps, options, scale, options.agnostic)
              if preflight else None)
    if _warn_infeasible(report):
        _warn_eps_scale(eps_scale, [report["energy"]], "verify_pac")
        return _skipped_result(spec, eps, options, report, scale)
    with runner, _progress_bar(options.progress, total=options.trials, unit="trial",
                               desc=f"PAC trials (m={n_samples})") as bar:
        outcomes = runner.map(_run_trial, _trial_calls(options.make_learner, make_target,
                                                       spec, options.trials), bar)
    result = dataclasses.replace(_pac_result(spec, outcomes, eps, options), eps_scale=scale,
                                 preflight=report,
                                 class_errors=(None if class_errors is None
                                               else _frozen_array(class_errors)))
    if scale == "relative":
        _warn_eps_scale(eps_scale, result.target_norms, "verify_pac")
    return result
