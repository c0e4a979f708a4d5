r"""Empirical PAC verification and sample-complexity curves.

A learner *PAC-learns* a target class under the uniform distribution on
:math:`\{-1,1\}^n` with ``m`` samples when, for every target ``f`` in the class,

.. math::

    \Pr_{\text{sample}}\bigl[\,\mathbb{E}_x[(h(x) - f(x))^2] \le \varepsilon\,\bigr]
    \ge 1 - \delta,

where ``h`` is the hypothesis fitted on ``m`` uniform points labelled by ``f``
(realizable case) or by ``f`` plus independent Gaussian noise (the agnostic
case; ``f`` is then the Bayes regressor and
:math:`\mathbb{E}_x[(h - f)^2]` is the *excess* squared risk).  THEORY.md
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

Reproducibility: trial ``i`` draws all its randomness from the ``i``-th child
of the root :class:`numpy.random.SeedSequence`, so the result is the same for
every ``n_jobs``, in any execution order, and the first ``t`` trials of a run
do not depend on how many trials follow them.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import sys
import time
from collections.abc import Sequence

import numpy as np
from scipy.stats import beta as _beta

from ._validation import (MAX_CUBE_DIM, check_float, check_int, check_memory,
                          check_random_state)
from .network import SparseReLUNetwork

__all__ = [
    "Evaluation",
    "PACResult",
    "SampleComplexityResult",
    "clopper_pearson",
    "plot_sample_complexity",
    "sample_complexity_curve",
    "verify_pac",
]

# Rows evaluated at once when measuring the error: keeps memory flat (a few
# MiB per chunk) whatever the cube dimension or the test-sample size.
_EVAL_CHUNK_ROWS = 2**15

# Trials listed one per row in the text table up to this many; beyond it the
# table shows error quantiles only.
_MAX_TABLE_ROWS = 25

_CRITERIA = ("consistent", "certified")


# --------------------------------------------------------------- statistics
def clopper_pearson(successes, trials, confidence=0.95) -> tuple[float, float]:
    r"""Exact (Clopper-Pearson) two-sided confidence interval for a binomial proportion.

    With :math:`x` successes in :math:`t` trials and :math:`\alpha = 1 -`
    ``confidence``, the interval :math:`[p_-, p_+]` solves

    .. math::

        \Pr_{p_-}[X \ge x] = \alpha/2, \qquad \Pr_{p_+}[X \le x] = \alpha/2,
        \qquad X \sim \mathrm{Bin}(t, p),

    with :math:`p_- = 0` when :math:`x = 0` and :math:`p_+ = 1` when
    :math:`x = t`.  Equivalently :math:`p_- = B^{-1}(\alpha/2; x, t - x + 1)`
    and :math:`p_+ = B^{-1}(1 - \alpha/2; x + 1, t - x)` (beta quantiles),
    which is how it is computed.  Coverage is at least ``confidence`` for
    every :math:`p`.

    Parameters
    ----------
    successes : int
        Number of successes :math:`x`, ``0 <= x <= trials``.
    trials : int
        Number of trials :math:`t \ge 1`.
    confidence : float, default=0.95
        Confidence level in ``(0, 1)``.

    Returns
    -------
    (float, float)
        The lower and upper end points.
    """
    trials = check_int(trials, "trials", minimum=1)
    successes = check_int(successes, "successes", minimum=0, maximum=trials)
    confidence = _check_open_unit(confidence, "confidence")
    alpha = 1.0 - confidence
    lower = 0.0 if successes == 0 else float(
        _beta.ppf(alpha / 2, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(
        _beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return lower, upper


def _check_open_unit(value, name: str) -> float:
    value = check_float(value, name)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return value


# ------------------------------------------------------------------ results
def _frozen_array(values, dtype=np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class PACResult:
    r"""Outcome of :func:`verify_pac`.

    Attributes
    ----------
    n_samples, eps, delta, noise, confidence
        The arguments of the run.
    n_features : int
        Cube dimension ``n``.
    exact : bool
        Whether each error was computed over all :math:`2^n` points (exact,
        ``stderrs`` all 0) or estimated on ``n_test`` fresh uniform points.
    n_test : int
        Points per error estimate (:math:`2^n` when ``exact``).
    errors : ndarray of shape (trials,)
        Excess squared error :math:`\mathbb{E}_x[(h(x) - f(x))^2]` of each trial.
    stderrs : ndarray of shape (trials,)
        Standard error of each estimate (0 when exact).
    target_norms : ndarray of shape (trials,)
        :math:`\mathbb{E}_x[f(x)^2]`, the error of the zero predictor, on the
        same points: the scale ``eps`` should be read against.
    fit_seconds : ndarray of shape (trials,)
        Wall-clock time of each ``fit`` call (informative only).
    seed : numpy.random.SeedSequence
        Root seed; trial ``i`` used its ``i``-th child, so
        ``verify_pac(..., random_state=result.seed)`` reproduces the run.
    """

    n_samples: int
    eps: float
    delta: float
    noise: float
    confidence: float
    n_features: int
    exact: bool
    n_test: int
    errors: np.ndarray
    stderrs: np.ndarray
    target_norms: np.ndarray
    fit_seconds: np.ndarray
    seed: np.random.SeedSequence

    @property
    def trials(self) -> int:
        """Number of trials."""
        return int(self.errors.shape[0])

    @property
    def successes(self) -> int:
        r"""Number of trials with error :math:`\le \varepsilon`."""
        return int(np.count_nonzero(self.errors <= self.eps))

    @property
    def success_fraction(self) -> float:
        """``successes / trials``: the point estimate of Pr[error <= eps]."""
        return self.successes / self.trials

    @property
    def interval(self) -> tuple[float, float]:
        """Clopper-Pearson interval for Pr[error <= eps] at ``confidence``."""
        return clopper_pearson(self.successes, self.trials, self.confidence)

    @property
    def consistent(self) -> bool:
        r"""Whether :math:`\Pr[\text{error} \le \varepsilon] \ge 1 - \delta` is
        consistent with the trials: the interval's upper end is at least
        :math:`1 - \delta`.

        When the guarantee holds, this is ``False`` with probability at most
        ``(1 - confidence) / 2`` (a one-sided exact binomial test).
        """
        return self.interval[1] >= 1.0 - self.delta

    @property
    def certified(self) -> bool:
        r"""Whether the trials *demonstrate* the guarantee: the interval's
        lower end is at least :math:`1 - \delta`.

        When the guarantee fails, this is ``True`` with probability at most
        ``(1 - confidence) / 2``.  Needs enough trials: with all of ``t``
        trials successful the lower end is :math:`((1-c)/2)^{1/t}`.
        """
        return self.interval[0] >= 1.0 - self.delta

    def to_dict(self) -> dict:
        """JSON-serialisable summary (lists, floats, ints, bools, strings)."""
        lower, upper = self.interval
        return {
            "n_samples": self.n_samples, "eps": self.eps, "delta": self.delta,
            "noise": self.noise, "confidence": self.confidence,
            "n_features": self.n_features, "exact": self.exact, "n_test": self.n_test,
            "trials": self.trials, "errors": self.errors.tolist(),
            "stderrs": self.stderrs.tolist(), "target_norms": self.target_norms.tolist(),
            "fit_seconds": self.fit_seconds.tolist(), "successes": self.successes,
            "success_fraction": self.success_fraction,
            "interval": [lower, upper], "consistent": self.consistent,
            "certified": self.certified,
            # Entropy may exceed 64 bits: a string survives every JSON parser.
            "seed": {"entropy": str(self.seed.entropy),
                     "spawn_key": list(self.seed.spawn_key)},
        }

    def to_table(self, per_trial: bool | None = None) -> str:
        """Readable text report.

        Parameters
        ----------
        per_trial : bool, optional
            List every trial; by default only when there are at most 25.
        """
        if per_trial is None:
            per_trial = self.trials <= _MAX_TABLE_ROWS
        how = (f"exact over all 2^{self.n_features} points" if self.exact
               else f"estimated on {self.n_test} fresh uniform points")
        lines = [
            f"PAC verification: n = {self.n_features}, m = {self.n_samples} samples, "
            f"eps = {self.eps:g}, delta = {self.delta:g}, noise = {self.noise:g}, "
            f"{self.trials} trials",
            f"excess squared error E[(h - f)^2] {how}",
            "",
        ]
        if per_trial:
            lines.append(f"{'trial':>5}  {'error':>11}  {'stderr':>10}  "
                         f"{'E[f^2]':>10}  {'fit s':>7}  <= eps")
            for i in range(self.trials):
                ok = "yes" if self.errors[i] <= self.eps else "NO"
                lines.append(f"{i:>5}  {self.errors[i]:>11.4e}  {self.stderrs[i]:>10.2e}  "
                             f"{self.target_norms[i]:>10.4g}  {self.fit_seconds[i]:>7.2f}"
                             f"  {ok}")
            lines.append("")
        quantiles = np.quantile(self.errors, [0.0, 0.5, 0.9, 1.0])
        lines.append("error min / median / 90% / max: "
                     + " / ".join(f"{q:.4e}" for q in quantiles)
                     + f"   (median E[f^2] = {np.median(self.target_norms):.4g})")
        lower, upper = self.interval
        target = 1.0 - self.delta
        pct = f"{100 * self.confidence:g}%"
        lines += [
            f"successes: {self.successes}/{self.trials} = {self.success_fraction:.3f}; "
            f"{pct} Clopper-Pearson interval [{lower:.4f}, {upper:.4f}]",
            f"Pr[error <= {self.eps:g}] >= {target:g}: "
            + ("consistent" if self.consistent else "REJECTED")
            + f" (upper end {upper:.4f} {'>=' if self.consistent else '<'} {target:g}); "
            + ("certified" if self.certified else "not certified")
            + f" (lower end {lower:.4f} {'>=' if self.certified else '<'} {target:g})",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        return (f"PACResult(n_features={self.n_features}, n_samples={self.n_samples}, "
                f"eps={self.eps!r}, delta={self.delta!r}, trials={self.trials}, "
                f"successes={self.successes}, consistent={self.consistent})")


# --------------------------------------------------------------- one trial
def _root_seed(random_state) -> np.random.SeedSequence:
    """The run's root seed; trial ``i`` uses its ``i``-th child."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    rng = check_random_state(random_state)  # validates the type
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.SeedSequence(random_state)
    # A Generator: derive the root from its stream (advancing it).
    return np.random.SeedSequence(int(rng.integers(0, 2**63)))


def _child_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``root``, as ``root.spawn`` would make it,
    but without ``spawn``'s counter: the same for any order of calls."""
    return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (index,),
                                  pool_size=root.pool_size)


def _uniform_points(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """``rows`` i.i.d. uniform points of ``{-1,1}^n``, float64 C-contiguous."""
    return 1.0 - 2.0 * rng.integers(0, 2, size=(rows, n), dtype=np.int8).astype(np.float64)


def _cube_slice(start: int, stop: int, n: int) -> np.ndarray:
    """Cube points of index ``start..stop-1`` (bit ``j`` set means ``x_j = -1``)."""
    index = np.arange(start, stop, dtype=np.int64)
    return 1.0 - 2.0 * ((index[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)


def _evaluate(function, X: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(function(X), dtype=np.float64)
    if values.shape != (X.shape[0],):
        raise ValueError(f"{what} returned shape {values.shape} for {X.shape[0]} points; "
                         f"it must return one value per point, shape ({X.shape[0]},)")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} returned NaN or infinite values")
    return values


def _draw_target(make_target, rng, n: int | None):
    """Call ``make_target(rng)`` and check it gives a function on ``{-1,1}^n``."""
    target = make_target(rng)
    if isinstance(target, SparseReLUNetwork):
        if n is not None and target.n_features != n:
            raise ValueError(f"make_target returned a network on n={target.n_features} "
                             f"inputs, expected n={n} (every trial must use the same n)")
        return target, target.n_features
    if callable(target):
        if n is None:
            raise TypeError("make_target returned a plain callable; pass n_features= so "
                            "the cube dimension is known (or return a SparseReLUNetwork)")
        return target, n
    raise TypeError("make_target(rng) must return a SparseReLUNetwork or a callable "
                    f"f(X) -> values, got {type(target).__name__}")


def _run_trial(make_learner, make_target, spec: dict, index: int):
    """One trial: draw target and sample, fit, measure the excess error.

    Module level so that process pools can pickle it.  Returns
    ``(error, stderr, target_norm, fit_seconds)``.
    """
    n = spec["n_features"]
    m = spec["n_samples"]
    target_seed, sample_seed, test_seed = _child_seed(spec["root"], index).spawn(3)
    target, _ = _draw_target(make_target, check_random_state(target_seed), n)

    rng = check_random_state(sample_seed)
    X = _uniform_points(rng, m, n)
    y = _evaluate(target, X, "the target")
    if spec["noise"] > 0.0:
        y = y + spec["noise"] * rng.standard_normal(m)

    learner = make_learner()
    if not (callable(getattr(learner, "fit", None))
            and callable(getattr(learner, "predict", None))):
        raise TypeError("make_learner() must return an object with fit(X, y) and "
                        f"predict(X) methods, got {type(learner).__name__}")
    start = time.perf_counter()
    learner.fit(X, y)
    fit_seconds = time.perf_counter() - start
    del X, y

    # Accumulate sum((h - f)^2) and sum(f^2) chunk by chunk; in the sampled
    # case also keep the squared differences for their standard deviation.
    if spec["exact"]:
        total = 2**n
        test_rng = None
        squares = None
    else:
        total = spec["n_test"]
        test_rng = check_random_state(test_seed)
        squares = np.empty(total, dtype=np.float64)
    error_sum = 0.0
    norm_sum = 0.0
    for start in range(0, total, _EVAL_CHUNK_ROWS):
        stop = min(start + _EVAL_CHUNK_ROWS, total)
        if spec["exact"]:
            X = _cube_slice(start, stop, n)
        else:
            X = _uniform_points(test_rng, stop - start, n)
        f = _evaluate(target, X, "the target")
        h = _evaluate(learner.predict, X, "the learner's predict")
        d = (h - f) ** 2
        error_sum += math.fsum(d)
        norm_sum += math.fsum(f * f)
        if squares is not None:
            squares[start:stop] = d
    error = error_sum / total
    stderr = 0.0 if squares is None else float(np.std(squares, ddof=1) / math.sqrt(total))
    return error, stderr, norm_sum / total, fit_seconds


# ------------------------------------------------------------- verify_pac
def _check_factory(value, name: str):
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def _check_n_jobs(n_jobs) -> int:
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive int or -1 (all cores), got {n_jobs}")
    return n_jobs


def _check_progress(progress):
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    return progress


def _progress_bar(progress, **kwargs):
    """A tqdm bar on stderr; ``progress=None`` shows it only on a terminal."""
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(file=sys.stderr, disable=disable, **kwargs)


def _map_trials(make_learner, make_target, spec, trials, n_jobs, bar):
    """Yield trial results in trial order, serially or in a process pool."""
    if n_jobs == 1:
        for index in range(trials):
            yield _run_trial(make_learner, make_target, spec, index)
            bar.update()
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    for result in parallel(delayed(_run_trial)(make_learner, make_target, spec, index)
                           for index in range(trials)):
        yield result
        bar.update()


def verify_pac(make_learner, make_target, n_samples, eps, delta, trials, noise=0.0, *,
               confidence=0.95, random_state=None, n_jobs=1, n_features=None,
               exact_max_n=16, n_test=100_000, progress=None,
               max_bytes=None) -> PACResult:
    r"""Check a PAC guarantee empirically: :math:`\Pr[\text{error} \le \varepsilon] \ge 1 - \delta`.

    Each of ``trials`` independent trials

    1. draws a target ``f = make_target(rng)``;
    2. draws ``n_samples`` i.i.d. uniform points :math:`x_i` of
       :math:`\{-1,1\}^n` with labels :math:`y_i = f(x_i) + \sigma \xi_i`,
       :math:`\xi_i \sim N(0, 1)`, :math:`\sigma` = ``noise`` (the agnostic
       case when :math:`\sigma > 0`);
    3. fits ``h = make_learner().fit(X, y)``;
    4. measures the excess squared error
       :math:`\mathbb{E}_{x}[(h(x) - f(x))^2]` under the uniform
       distribution: exactly, as the mean over all :math:`2^n` points, when
       ``n <= exact_max_n`` (by Parseval this equals
       :math:`\sum_S (\hat h(S) - \hat f(S))^2`, THEORY.md section 3);
       otherwise as the mean over ``n_test`` fresh uniform points, with its
       standard error.

    A trial succeeds when its error is at most ``eps``.  The number of
    successes gives a Clopper-Pearson interval for
    :math:`p = \Pr[\text{error} \le \varepsilon]` (:func:`clopper_pearson`);
    the guarantee :math:`p \ge 1 - \delta` is *consistent* with the trials
    when the interval's upper end reaches :math:`1 - \delta`, and
    *certified* when its lower end does.

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
        Error tolerance :math:`\varepsilon > 0` (absolute, in the squared
        units of the target: compare with ``result.target_norms``).
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
        the result does not depend on ``n_jobs``.
    n_jobs : int, default=1
        Trials run in parallel in this many processes (joblib; ``-1`` for all
        cores).  The factories must then be picklable by cloudpickle
        (lambdas and closures are).
    n_features : int, optional
        Cube dimension ``n``.  Inferred from the target when it is a
        network; required when ``make_target`` returns a plain callable.
    exact_max_n : int, default=16
        Largest ``n`` for which errors are computed exactly over the cube
        (time grows as :math:`2^n`; memory stays flat).
    n_test : int, default=100000
        Fresh test points per trial when ``n > exact_max_n``.
    progress : bool, optional
        Progress bar on stderr.  By default shown only when stderr is a
        terminal; ``True`` forces it, ``False`` hides it.
    max_bytes : float, optional
        Memory budget for the per-trial sample (see
        :func:`sparselearn._validation.check_memory`).

    Returns
    -------
    PACResult
        Per-trial errors, success count, interval and decisions; ``print``
        it for a table, ``to_dict()`` for JSON.

    Raises
    ------
    TypeError
        If a factory is not callable or returns the wrong kind of object.
    ValueError
        If ``eps <= 0``, ``delta`` or ``confidence`` is outside ``(0, 1)``,
        ``trials < 1``, a target has the wrong ``n``, or a function returns
        the wrong shape.
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
    then noise) and the test points.

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
    make_learner = _check_factory(make_learner, "make_learner")
    make_target = _check_factory(make_target, "make_target")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    eps = check_float(eps, "eps", minimum=0.0, strict_minimum=True)
    delta = _check_open_unit(delta, "delta")
    trials = check_int(trials, "trials", minimum=1)
    noise = check_float(noise, "noise", minimum=0.0)
    confidence = _check_open_unit(confidence, "confidence")
    n_jobs = _check_n_jobs(n_jobs)
    exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
    n_test = check_int(n_test, "n_test", minimum=2)
    progress = _check_progress(progress)
    root = _root_seed(random_state)
    if n_features is not None:
        n_features = check_int(n_features, "n_features", minimum=1)
    else:
        # Probe trial 0's target (it is drawn again, identically, in the trial).
        target_seed = _child_seed(root, 0).spawn(1)[0]
        _, n_features = _draw_target(make_target, check_random_state(target_seed), None)

    check_memory(8.0 * n_samples * (n_features + 2),
                 f"a training sample of {n_samples} points of {{-1,1}}^{n_features}",
                 max_bytes)
    exact = n_features <= exact_max_n
    if not exact:
        check_memory(8.0 * (n_test + _EVAL_CHUNK_ROWS * (n_features + 3)),
                     f"an error estimate on {n_test} test points", max_bytes)
    spec = {"root": root, "n_features": n_features, "n_samples": n_samples,
            "noise": noise, "exact": exact, "n_test": n_test}

    outcomes = []
    with _progress_bar(progress, total=trials, desc=f"PAC trials (m={n_samples})",
                       unit="trial") as bar:
        for outcome in _map_trials(make_learner, make_target, spec, trials, n_jobs, bar):
            outcomes.append(outcome)
    errors, stderrs, norms, seconds = (np.array(column) for column in zip(*outcomes))
    return PACResult(
        n_samples=n_samples, eps=eps, delta=delta, noise=noise, confidence=confidence,
        n_features=n_features, exact=exact, n_test=2**n_features if exact else n_test,
        errors=_frozen_array(errors), stderrs=_frozen_array(stderrs),
        target_norms=_frozen_array(norms), fit_seconds=_frozen_array(seconds), seed=root)


# -------------------------------------------------- sample-complexity curve
@dataclasses.dataclass(frozen=True)
class Evaluation:
    """One :func:`verify_pac` run inside a sample-complexity search.

    Attributes
    ----------
    n_samples : int
        The sample size ``m`` tried.
    successes, trials : int
        Trials with error ``<= eps``, out of ``trials``.
    interval : (float, float)
        The Clopper-Pearson interval of that run.
    passed : bool
        Whether the search's ``criterion`` held.
    median_error : float
        Median excess error over the trials.
    """

    n_samples: int
    successes: int
    trials: int
    interval: tuple[float, float]
    passed: bool
    median_error: float


@dataclasses.dataclass(frozen=True)
class SampleComplexityResult:
    r"""Outcome of :func:`sample_complexity_curve`.

    Attributes
    ----------
    param_name : str
        Name of the swept parameter (axis label).
    params : tuple
        Parameter values, in the order given.
    eps : tuple of float
        Tolerance used for each parameter value.
    delta, confidence, criterion, noise
        The arguments of the search.
    trials : int
        Trials per :func:`verify_pac` call.
    min_samples : tuple of (int or None)
        For each parameter, the smallest ``m`` found at which the check
        passed; ``None`` if it did not pass at the largest ``m`` tried.
    lower_brackets : tuple of (int or None)
        For each parameter, the largest ``m`` tried *below* ``min_samples``
        at which the check failed (``None`` if none): the answer lies in
        ``(lower_bracket, min_samples]``.
    evaluations : tuple of tuple of Evaluation
        Every run, per parameter, sorted by ``m``.
    """

    param_name: str
    params: tuple
    eps: tuple
    delta: float
    confidence: float
    criterion: str
    noise: float
    trials: int
    min_samples: tuple
    lower_brackets: tuple
    evaluations: tuple

    def to_dict(self) -> dict:
        """JSON-serialisable summary."""
        return {
            "param_name": self.param_name, "params": [_plain(p) for p in self.params],
            "eps": list(self.eps), "delta": self.delta, "confidence": self.confidence,
            "criterion": self.criterion, "noise": self.noise, "trials": self.trials,
            "min_samples": list(self.min_samples),
            "lower_brackets": list(self.lower_brackets),
            "evaluations": [[dataclasses.asdict(e) | {"interval": list(e.interval)}
                             for e in runs] for runs in self.evaluations],
        }

    def to_table(self) -> str:
        """Readable text report: one row per parameter value."""
        pct = f"{100 * self.confidence:g}%"
        lines = [
            f"Sample complexity: smallest m with Pr[error <= eps] >= {1 - self.delta:g} "
            f"{self.criterion} at {pct} (Clopper-Pearson, {self.trials} trials, "
            f"noise = {self.noise:g})",
            "",
            f"{self.param_name:>10}  {'eps':>8}  {'m*':>9}  {'bracket':>20}  "
            f"{'successes at m*':>15}  runs",
        ]
        for i, param in enumerate(self.params):
            m_star = self.min_samples[i]
            low = self.lower_brackets[i]
            runs = self.evaluations[i]
            if m_star is None:
                shown, bracket, succ = f"> {runs[-1].n_samples}", "not reached", "-"
            else:
                shown = str(m_star)
                bracket = f"({low if low is not None else 0}, {m_star}]"
                hit = next(e for e in runs if e.n_samples == m_star)
                succ = f"{hit.successes}/{hit.trials}"
            lines.append(f"{str(_plain(param)):>10}  {self.eps[i]:>8.3g}  {shown:>9}  "
                         f"{bracket:>20}  {succ:>15}  {len(runs)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()


def _plain(value):
    """NumPy scalars to Python scalars for JSON and tables."""
    return value.item() if isinstance(value, np.generic) else value


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
                            random_state=None, n_jobs=1, n_features=None, exact_max_n=16,
                            n_test=100_000, progress=None,
                            max_bytes=None) -> SampleComplexityResult:
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
    noise, confidence, random_state, n_jobs, n_features, exact_max_n, n_test, max_bytes
        As in :func:`verify_pac`.  Parameter ``i`` uses the ``i``-th child of
        the root seed.
    criterion : {"consistent", "certified"}
        Which Clopper-Pearson decision counts as the guarantee holding.
    param_name : str, default="param"
        Name of the parameter, for tables and plot labels.
    progress : bool, optional
        Progress bar over the ``verify_pac`` runs (see :func:`verify_pac`).

    Returns
    -------
    SampleComplexityResult
        ``min_samples[i]`` is the answer for ``params[i]`` (``None`` if the
        check failed at the largest ``m`` tried); ``evaluations`` records
        every run.
    """
    make_learner = _check_factory(make_learner, "make_learner")
    make_target_for = _check_factory(make_target_for, "make_target_for")
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence | np.ndarray):
        raise TypeError(f"params must be a sequence of parameter values, got "
                        f"{type(params).__name__}")
    params = tuple(params)
    if not params:
        raise ValueError("params must contain at least one parameter value")
    if isinstance(eps, numbers.Real):
        eps_values = (check_float(eps, "eps", minimum=0.0, strict_minimum=True),) * len(params)
    else:
        eps_values = tuple(check_float(e, "eps[]", minimum=0.0, strict_minimum=True)
                           for e in eps)
        if len(eps_values) != len(params):
            raise ValueError(f"eps has {len(eps_values)} values for {len(params)} params; "
                             "pass one eps or one per parameter value")
    delta = _check_open_unit(delta, "delta")
    trials = check_int(trials, "trials", minimum=1)
    confidence = _check_open_unit(confidence, "confidence")
    noise = check_float(noise, "noise", minimum=0.0)
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
    n_jobs = _check_n_jobs(n_jobs)
    progress = _check_progress(progress)
    if criterion == "certified":
        # With every trial successful the lower end is ((1 - c)/2)^(1/t).
        best_lower = ((1.0 - confidence) / 2.0) ** (1.0 / trials)
        if best_lower < 1.0 - delta:
            needed = math.ceil(math.log((1.0 - confidence) / 2.0) / math.log(1.0 - delta))
            raise ValueError(f"criterion='certified' can never pass with trials={trials} at "
                             f"confidence={confidence} and delta={delta}: even {trials}/"
                             f"{trials} successes give a lower end {best_lower:.4f} < "
                             f"{1 - delta:g}; use trials >= {needed}")
    root = _root_seed(random_state)

    min_samples, lower_brackets, evaluations = [], [], []
    with _progress_bar(progress, desc="sample complexity", unit="run") as bar:
        for index, param in enumerate(params):
            make_target = make_target_for(param)
            _check_factory(make_target, f"make_target_for({param!r})")
            param_seed = _child_seed(root, index)

            def run(m, make_target=make_target, eps=eps_values[index], seed=param_seed,
                    param=param):
                bar.set_postfix({param_name: _plain(param), "m": m})
                result = verify_pac(make_learner, make_target, m, eps, delta, trials, noise,
                                    confidence=confidence, random_state=seed, n_jobs=n_jobs,
                                    n_features=n_features, exact_max_n=exact_max_n,
                                    n_test=n_test, progress=False, max_bytes=max_bytes)
                bar.update()
                passed = result.consistent if criterion == "consistent" else result.certified
                return Evaluation(m, result.successes, result.trials, result.interval,
                                  passed, float(np.median(result.errors)))

            m_star, low, runs = _search(run, m_grid, m_min, m_max, rtol)
            min_samples.append(m_star)
            lower_brackets.append(low)
            evaluations.append(runs)
    return SampleComplexityResult(
        param_name=param_name, params=params, eps=eps_values, delta=delta,
        confidence=confidence, criterion=criterion, noise=noise, trials=trials,
        min_samples=tuple(min_samples), lower_brackets=tuple(lower_brackets),
        evaluations=tuple(evaluations))


def plot_sample_complexity(result, ax=None, label=None, **kwargs):
    """Plot a :class:`SampleComplexityResult`: ``m*`` against the parameter.

    Each found ``m*`` is a marker with an error bar down to the bracket's
    lower end (the largest failing ``m`` tried), on a logarithmic ``m``
    axis.  A parameter value whose search never passed is drawn as an upward
    triangle at the largest ``m`` tried.

    Parameters
    ----------
    result : SampleComplexityResult
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.
    label : str, optional
        Legend label for the curve.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install sparselearn[plot]``).
    """
    if not isinstance(result, SampleComplexityResult):
        raise TypeError("result must be a SampleComplexityResult from "
                        f"sample_complexity_curve, got {type(result).__name__}")
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plot_sample_complexity needs matplotlib: "
                          "pip install sparselearn[plot]") from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.5))
    found = [i for i, m in enumerate(result.min_samples) if m is not None]
    missing = [i for i, m in enumerate(result.min_samples) if m is None]
    numeric = all(isinstance(_plain(p), numbers.Real) for p in result.params)
    xs = ([_plain(p) for p in result.params] if numeric
          else list(range(len(result.params))))
    if found:
        x = [xs[i] for i in found]
        y = np.array([result.min_samples[i] for i in found], dtype=float)
        low = np.array([result.lower_brackets[i] or result.min_samples[i] for i in found],
                       dtype=float)
        style = {"marker": "o", "capsize": 3} | kwargs
        ax.errorbar(x, y, yerr=[y - low, np.zeros_like(y)], label=label, **style)
    if missing:
        top = [result.evaluations[i][-1].n_samples for i in missing]
        ax.plot([xs[i] for i in missing], top, linestyle="none", marker="^",
                color="gray", label="not reached (largest m tried)")
    if not numeric:
        ax.set_xticks(xs, [str(p) for p in result.params])
    ax.set_yscale("log")
    ax.set_xlabel(result.param_name)
    ax.set_ylabel("smallest m")
    ax.set_title(f"Pr[error <= eps] >= {1 - result.delta:g} ({result.criterion}, "
                 f"{result.trials} trials)", fontsize="medium")
    if label is not None or missing:
        ax.legend(fontsize="small")
    return ax
