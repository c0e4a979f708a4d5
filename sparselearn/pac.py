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
:func:`verify_sweep` runs the check at every point of a parameter grid (the
``sparselearn verify`` command), with :class:`SweepResult` tables and
:func:`plot_sweep`; :func:`bump_target` and :func:`low_degree_learner` are
ready-made factories for it.

Execution: trials are independent, and all three run them through Dask,
in this process by default or on a ``distributed`` cluster
(``scheduler="tcp://HOST:PORT"`` or a ``Client``).

Reproducibility: every trial draws all its randomness from a
:class:`numpy.random.SeedSequence` derived from the root seed and the
trial's coordinates only (grid point or parameter index, trial index), so
the result is the same for every scheduler and number of workers, in any
execution order, and the first ``t`` trials of a run do not depend on how
many trials follow them.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import numbers
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import beta as _beta
from threadpoolctl import threadpool_limits

from . import io as _io
from ._plotting import import_pyplot
from ._validation import (MAX_CUBE_DIM, check_float, check_int, check_memory,
                          check_random_state)
from .network import SparseReLUNetwork

__all__ = [
    "Evaluation",
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

# Rows evaluated at once when measuring the error: keeps memory flat (a few
# MiB per chunk) whatever the cube dimension or the test-sample size.
_EVAL_CHUNK_ROWS = 2**15

# Largest cube dimension evaluated exactly (every point): memory stays flat,
# but the time does not, and 2^30 points per trial is already hours of
# evaluation; a larger exact_max_n is refused rather than walked silently.
_MAX_EXACT_DIM = 30

# Trials listed one per row in the text table up to this many; beyond it the
# table shows error quantiles only.
_MAX_TABLE_ROWS = 25

_CRITERIA = ("consistent", "certified")

# A distributed scheduler address: protocol://location.
_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://\S+")


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

    Module level so that it pickles by reference.  Returns
    ``(error, stderr, target_norm, fit_seconds)``.  Native thread pools
    (BLAS, OpenMP) are held to one thread: the order of a threaded
    floating-point sum depends on the thread count, so without a fixed count
    the same trial would give different last bits on a worker configured
    differently (Dask's workers already run single-threaded), and trials,
    not threads inside a fit, are the unit of parallelism here.
    """
    with threadpool_limits(limits=1):
        return _trial(make_learner, make_target, spec, index)


def _trial(make_learner, make_target, spec: dict, index: int):
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
class _NoBar:
    """Stands in for a progress bar where trials are not counted."""

    @staticmethod
    def update(count=1):
        pass


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


# -------------------------------------------------------------- execution
def _local_workers(n_jobs: int) -> int:
    if n_jobs != -1:
        return n_jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)


def _check_scheduler(scheduler, n_jobs: int):
    """Validate ``scheduler`` (None, a ``distributed.Client`` or an address)."""
    if scheduler is None:
        return None
    if n_jobs != 1:
        raise ValueError(f"n_jobs={n_jobs} applies to the in-process scheduler only; with "
                         "scheduler= the cluster's workers set the parallelism (leave "
                         "n_jobs=1)")
    if isinstance(scheduler, str):
        if not _ADDRESS.fullmatch(scheduler):
            raise ValueError("scheduler must be a Dask scheduler address such as "
                             f"'tcp://HOST:PORT', got {scheduler!r}; leave scheduler=None "
                             "to run in this process")
        return scheduler
    from distributed import Client

    if not isinstance(scheduler, Client):
        raise TypeError("scheduler must be None (in-process), a dask.distributed.Client "
                        "or an address string 'tcp://HOST:PORT', got "
                        f"{type(scheduler).__name__}")
    if scheduler.status != "running":
        raise ValueError(f"the scheduler Client is {scheduler.status}, not running; "
                         "pass an open Client")
    return scheduler


def _check_picklable(**factories) -> None:
    """Refuse, naming it, a factory that cannot be shipped to another process."""
    import cloudpickle

    for name, value in factories.items():
        try:
            cloudpickle.dumps(value)
        except Exception as exc:  # pickling raises many types; all mean the same here
            raise TypeError(
                f"{name} must be picklable to run trials in other processes "
                f"(n_jobs > 1 or scheduler=), but pickling it failed: {exc}. Use a "
                "module-level function or class, or functools.partial of one") from exc


class _TrialRunner:
    """Runs independent calls ``function(*args)`` through Dask, in input order.

    ``scheduler=None`` runs in this process: Dask's synchronous scheduler for
    ``n_jobs == 1``, its multiprocessing scheduler on a pool of ``n_jobs``
    processes otherwise (kept open for the runner's lifetime, so a
    sample-complexity search does not start a pool per ``m``).  Otherwise
    the calls go to a ``distributed`` cluster through the given Client, or
    through one connected to the given address and closed on exit.
    """

    def __init__(self, scheduler, n_jobs: int):
        self._scheduler = scheduler
        self._workers = _local_workers(n_jobs)
        self._client = None
        self._pool = None
        self._owned = []

    @property
    def remote(self) -> bool:
        """Whether calls leave this process (the factories must pickle)."""
        return self._scheduler is not None or self._workers > 1

    def __enter__(self):
        if isinstance(self._scheduler, str):
            import dask
            from distributed import Client

            timeout = dask.config.get("distributed.comm.timeouts.connect")
            try:
                self._client = Client(self._scheduler, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"could not connect to the Dask scheduler at {self._scheduler} within "
                    f"{timeout} (dask config 'distributed.comm.timeouts.connect'): "
                    f"{exc}") from exc
            self._owned.append(self._client.close)
        elif self._scheduler is not None:
            self._client = self._scheduler
        elif self._workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            from dask.multiprocessing import get_context

            self._pool = ProcessPoolExecutor(self._workers, mp_context=get_context())
            self._owned.append(functools.partial(self._pool.shutdown, cancel_futures=True))
        return self

    def __exit__(self, *exc_info):
        # A Client we connected is closed (Client.shutdown would stop the
        # cluster too); a process pool is shut down.
        for close in reversed(self._owned):
            close()
        self._owned.clear()

    def map(self, function, calls: list[tuple], bar) -> list:
        """``[function(*args) for args in calls]``, ticking ``bar`` per call."""
        name = f"sparselearn-trial-{uuid.uuid4().hex}"
        if self._client is not None:
            return self._map_distributed(function, calls, bar, name)
        import dask
        from dask.callbacks import Callback

        def tick(key, *_):
            if isinstance(key, tuple) and key[0] == name:
                bar.update()

        tasks = [dask.delayed(function, pure=False)(*args, dask_key_name=(name, i))
                 for i, args in enumerate(calls)]
        options = ({"scheduler": "sync"} if self._workers == 1 else
                   {"scheduler": "processes", "pool": self._pool, "chunksize": 1})
        with Callback(posttask=tick):
            return list(dask.compute(*tasks, optimize_graph=False, **options))

    def _map_distributed(self, function, calls, bar, name):
        from distributed import as_completed

        futures = [self._client.submit(function, *args, key=f"{name}-{i}")
                   for i, args in enumerate(calls)]
        try:
            for future in as_completed(futures, loop=self._client.loop):
                if future.status == "error":
                    future.result()  # raises the trial's exception here
                bar.update()
            return self._client.gather(futures)
        finally:
            self._client.cancel(futures)


def verify_pac(make_learner, make_target, n_samples, eps, delta, trials, noise=0.0, *,
               confidence=0.95, random_state=None, scheduler=None, n_jobs=1,
               n_features=None, exact_max_n=16, n_test=100_000, progress=None,
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
    When the error is estimated on fresh points (``n > exact_max_n``), a
    trial's success is judged on the estimate, so the interval is for
    :math:`\Pr[\widehat{\text{error}} \le \varepsilon]`; with the default
    ``n_test`` the standard errors (reported per trial) are small against
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
        the result does not depend on ``scheduler``, ``n_jobs`` or the
        order in which trials finish.
    scheduler : None, str or dask.distributed.Client, optional
        Where the trials run.  ``None`` (default): in this process through
        Dask's local schedulers (see ``n_jobs``), no set-up needed.  An
        address such as ``"tcp://HOST:PORT"``: a
        :class:`dask.distributed.Client` is connected to that running
        scheduler for this call and closed afterwards.  A ``Client``: used
        as is (and left open).  See *Sweeps on a cluster* in the docs.
    n_jobs : int, default=1
        With ``scheduler=None``: ``1`` runs the trials one after another in
        this process (Dask's synchronous scheduler), ``> 1`` (``-1`` for all
        cores) in a pool of that many worker processes (Dask's
        multiprocessing scheduler).  Must be 1 with ``scheduler=``.  Before
        the move to Dask the pool was joblib's; the meaning is unchanged.
        Wherever it runs, each trial holds BLAS and OpenMP to one thread
        (see Notes); until the move to Dask a serial run let them use every
        core.
    n_features : int, optional
        Cube dimension ``n``.  Inferred from the target when it is a
        network; required when ``make_target`` returns a plain callable.
    exact_max_n : int, default=16
        Largest ``n`` for which errors are computed exactly over the cube
        (time grows as :math:`2^n`; memory stays flat).  An exact
        evaluation beyond ``n = 30`` (:math:`2^{30}` points per trial) is
        refused with a ``ValueError``.
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
        If a factory is not callable, returns the wrong kind of object, or
        cannot be pickled when trials run in other processes; if
        ``scheduler`` is of the wrong type.
    ValueError
        If ``eps <= 0``, ``delta`` or ``confidence`` is outside ``(0, 1)``,
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
    then noise) and the test points.

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
    scheduler = _check_scheduler(scheduler, n_jobs)
    if n_features is not None:
        n_features = check_int(n_features, "n_features", minimum=1)
    root = _root_seed(random_state)
    runner = _TrialRunner(scheduler, n_jobs)
    if runner.remote:
        _check_picklable(make_learner=make_learner, make_target=make_target)
    spec = _trial_spec(make_target, root, n_samples, noise, n_features, exact_max_n,
                       n_test, max_bytes)
    with runner, _progress_bar(progress, total=trials, unit="trial",
                               desc=f"PAC trials (m={n_samples})") as bar:
        outcomes = runner.map(_run_trial, _trial_calls(make_learner, make_target, spec,
                                                       trials), bar)
    return _pac_result(spec, outcomes, eps, delta, confidence)


def _trial_spec(make_target, root, n_samples, noise, n_features, exact_max_n, n_test,
                max_bytes) -> dict:
    """What every trial of one :func:`verify_pac` run shares (validated arguments)."""
    if n_features is None:
        # Probe trial 0's target (it is drawn again, identically, in the trial).
        target_seed = _child_seed(root, 0).spawn(1)[0]
        _, n_features = _draw_target(make_target, check_random_state(target_seed), None)
    check_memory(8.0 * n_samples * (n_features + 2),
                 f"a training sample of {n_samples} points of {{-1,1}}^{n_features}",
                 max_bytes)
    exact = n_features <= exact_max_n
    if exact:
        _check_exact_walk(n_features, exact_max_n, "per trial")
    else:
        check_memory(8.0 * (n_test + _EVAL_CHUNK_ROWS * (n_features + 3)),
                     f"an error estimate on {n_test} test points", max_bytes)
    return {"root": root, "n_features": n_features, "n_samples": n_samples,
            "noise": noise, "exact": exact, "n_test": n_test}


def _check_exact_walk(n: int, exact_max_n: int, what: str) -> None:
    """Refuse an exact evaluation over ``{-1,1}^n`` beyond ``2^_MAX_EXACT_DIM`` points."""
    if n > _MAX_EXACT_DIM:
        raise ValueError(
            f"exact_max_n={exact_max_n} asks for an exact evaluation over all 2^{n} = "
            f"{2**n:.3g} points of {{-1,1}}^{n} {what}, more than the 2^{_MAX_EXACT_DIM} = "
            f"{2**_MAX_EXACT_DIM:.3g} allowed (time grows as 2^n); pass exact_max_n < {n} "
            "to estimate on random points instead")


def _trial_calls(make_learner, make_target, spec, trials) -> list[tuple]:
    return [(make_learner, make_target, spec, index) for index in range(trials)]


def _pac_result(spec, outcomes, eps, delta, confidence) -> PACResult:
    errors, stderrs, norms, seconds = (np.array(column) for column in zip(*outcomes))
    n = spec["n_features"]
    return PACResult(
        n_samples=spec["n_samples"], eps=eps, delta=delta, noise=spec["noise"],
        confidence=confidence, n_features=n, exact=spec["exact"],
        n_test=2**n if spec["exact"] else spec["n_test"],
        errors=_frozen_array(errors), stderrs=_frozen_array(stderrs),
        target_norms=_frozen_array(norms), fit_seconds=_frozen_array(seconds),
        seed=spec["root"])


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
                            random_state=None, scheduler=None, n_jobs=1, n_features=None,
                            exact_max_n=16, n_test=100_000, progress=None,
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
    noise, confidence, random_state, scheduler, n_jobs, n_features, exact_max_n, n_test, max_bytes
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
    scheduler = _check_scheduler(scheduler, n_jobs)
    if n_features is not None:
        n_features = check_int(n_features, "n_features", minimum=1)
    exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
    n_test = check_int(n_test, "n_test", minimum=2)
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
    runner = _TrialRunner(scheduler, n_jobs)
    if runner.remote:
        _check_picklable(make_learner=make_learner)
    targets = []
    for param in params:
        make_target = make_target_for(param)
        _check_factory(make_target, f"make_target_for({param!r})")
        if runner.remote:
            _check_picklable(**{f"make_target_for({param!r})": make_target})
        targets.append(make_target)

    min_samples, lower_brackets, evaluations = [], [], []
    with runner, _progress_bar(progress, desc="sample complexity", unit="run") as bar:
        for index, (param, make_target) in enumerate(zip(params, targets)):
            param_seed = _child_seed(root, index)

            def run(m, make_target=make_target, eps=eps_values[index], seed=param_seed,
                    param=param):
                bar.set_postfix({param_name: _plain(param), "m": m})
                spec = _trial_spec(make_target, seed, m, noise, n_features, exact_max_n,
                                   n_test, max_bytes)
                outcomes = runner.map(_run_trial, _trial_calls(make_learner, make_target,
                                                               spec, trials), _NoBar)
                result = _pac_result(spec, outcomes, eps, delta, confidence)
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
    plt = import_pyplot("plot_sample_complexity")
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


# ------------------------------------------------------------ grid sweeps
# Columns of SweepResult.to_records() besides the grid parameters.
_RECORD_COLUMNS = ("trials", "successes", "success_fraction", "ci_lower", "ci_upper",
                   "consistent", "certified", "mean_error", "median_error", "max_error",
                   "mean_target_norm", "exact", "n_test")


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    r"""Outcome of :func:`verify_sweep`: one :func:`verify_pac` run per grid point.

    Attributes
    ----------
    param_names : tuple of str
        The grid's parameter names, in the order given.
    points : tuple of dict
        The grid points (name -> value), in row-major order of the grid
        (the last parameter varies fastest).
    results : tuple of PACResult
        The run at each point, with its per-trial errors; ``results[i].seed``
        replays point ``i`` alone with :func:`verify_pac`.
    eps, delta, noise, confidence, trials
        The arguments of the sweep.
    seed : numpy.random.SeedSequence
        The sweep's root seed.
    """

    param_names: tuple
    points: tuple
    results: tuple
    eps: float
    delta: float
    noise: float
    confidence: float
    trials: int
    seed: np.random.SeedSequence

    def __len__(self) -> int:
        return len(self.points)

    def to_records(self) -> list[dict]:
        """One flat dict per grid point: the parameters, then ``trials``,
        ``successes``, ``success_fraction``, the Clopper-Pearson interval
        ``ci_lower``/``ci_upper``, the decisions ``consistent``/``certified``,
        ``mean_error``/``median_error``/``max_error``, ``mean_target_norm``
        (:math:`\\mathbb{E}[f^2]`, the zero predictor's error), ``exact`` and
        ``n_test``."""
        records = []
        for point, result in zip(self.points, self.results):
            lower, upper = result.interval
            records.append(dict(point) | {
                "trials": result.trials, "successes": result.successes,
                "success_fraction": result.success_fraction,
                "ci_lower": lower, "ci_upper": upper,
                "consistent": result.consistent, "certified": result.certified,
                "mean_error": float(np.mean(result.errors)),
                "median_error": float(np.median(result.errors)),
                "max_error": float(np.max(result.errors)),
                "mean_target_norm": float(np.mean(result.target_norms)),
                "exact": result.exact, "n_test": result.n_test,
            })
        return records

    def to_dict(self) -> dict:
        """JSON-serialisable form: the sweep's arguments, one record per
        point, and each point's per-trial errors."""
        return {
            "eps": self.eps, "delta": self.delta, "noise": self.noise,
            "confidence": self.confidence, "trials": self.trials,
            "param_names": list(self.param_names),
            "seed": {"entropy": str(self.seed.entropy),
                     "spawn_key": list(self.seed.spawn_key)},
            "rows": [record | {"errors": result.errors.tolist(),
                               "stderrs": result.stderrs.tolist()}
                     for record, result in zip(self.to_records(), self.results)],
        }

    def to_csv(self, path) -> None:
        """Write :meth:`to_records` as CSV (header row, one row per point), atomically."""
        records = self.to_records()
        with _io.atomic_write(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)

    def to_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON (strict: no NaN or infinity), atomically."""
        with _io.atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=1, allow_nan=False)
            handle.write("\n")

    def to_table(self) -> str:
        """Readable text report: one row per grid point."""
        pct = f"{100 * self.confidence:g}%"
        names = list(self.param_names)
        widths = [max(len(name), 6) for name in names]
        lines = [
            f"PAC sweep: Pr[error <= {self.eps:g}] >= {1 - self.delta:g}, "
            f"{self.trials} trials per point, noise = {self.noise:g}, {pct} "
            "Clopper-Pearson intervals",
            "",
            "  ".join(f"{name:>{w}}" for name, w in zip(names, widths))
            + f"  {'success':>9}  {'interval':>17}  {'mean err':>10}  {'max err':>10}"
            + "  decision",
        ]
        for record in self.to_records():
            decision = ("certified" if record["certified"] else
                        "consistent" if record["consistent"] else "REJECTED")
            lines.append(
                "  ".join(f"{str(record[name]):>{w}}" for name, w in zip(names, widths))
                + f"  {record['successes']:>4}/{record['trials']:<4}"
                + f"  [{record['ci_lower']:.3f}, {record['ci_upper']:.3f}]".rjust(19)
                + f"  {record['mean_error']:>10.3e}  {record['max_error']:>10.3e}"
                + f"  {decision}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        return (f"SweepResult(param_names={self.param_names}, points={len(self)}, "
                f"trials={self.trials}, eps={self.eps!r}, delta={self.delta!r})")


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
    checked["n_samples"] = [check_int(m, "grid['n_samples'][]", minimum=1)
                            for m in checked["n_samples"]]
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
                 exact_max_n=16, n_test=100_000, progress=None,
                 max_bytes=None) -> SweepResult:
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
    eps, delta, trials, noise, confidence, exact_max_n, n_test, max_bytes
        As in :func:`verify_pac`, the same at every point.
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
    >>> import functools
    >>> result = verify_sweep(functools.partial(low_degree_learner, degree=2),
    ...                       bump_target, {"n_features": [6], "width": [4],
    ...                       "sparsity": [1, 2], "n_samples": [300]},
    ...                       eps=0.5, delta=0.2, trials=4, random_state=0)
    >>> [(r["sparsity"], r["trials"]) for r in result.to_records()]
    [(1, 4), (2, 4)]
    """
    make_learner = _check_factory(make_learner, "make_learner")
    make_target = _check_factory(make_target, "make_target")
    grid = _check_grid(grid)
    eps = check_float(eps, "eps", minimum=0.0, strict_minimum=True)
    delta = _check_open_unit(delta, "delta")
    trials = check_int(trials, "trials", minimum=1)
    noise = check_float(noise, "noise", minimum=0.0)
    confidence = _check_open_unit(confidence, "confidence")
    n_jobs = _check_n_jobs(n_jobs)
    scheduler = _check_scheduler(scheduler, n_jobs)
    exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
    n_test = check_int(n_test, "n_test", minimum=2)
    progress = _check_progress(progress)
    root = _root_seed(random_state)
    runner = _TrialRunner(scheduler, n_jobs)
    if runner.remote:
        _check_picklable(make_learner=make_learner, make_target=make_target)

    names = tuple(grid)
    points = tuple(dict(zip(names, values)) for values in itertools.product(*grid.values()))
    specs, calls = [], []
    for point in points:
        # Copies, so a factory that edits its argument cannot change the
        # recorded point.
        learner_for = functools.partial(make_learner, dict(point))
        target_for = functools.partial(make_target, dict(point))
        n = point.get("n_features")
        if n is not None:
            n = check_int(n, "grid['n_features'][]", minimum=1)
        spec = _trial_spec(target_for, _point_seed(root, point), point["n_samples"], noise,
                           n, exact_max_n, n_test, max_bytes)
        specs.append(spec)
        calls += _trial_calls(learner_for, target_for, spec, trials)
    with runner, _progress_bar(progress, total=len(calls), unit="trial",
                               desc=f"PAC sweep ({len(points)} points)") as bar:
        outcomes = runner.map(_run_trial, calls, bar)
    results = tuple(_pac_result(spec, outcomes[i * trials:(i + 1) * trials], eps, delta,
                                confidence) for i, spec in enumerate(specs))
    return SweepResult(param_names=names, points=points, results=results, eps=eps,
                       delta=delta, noise=noise, confidence=confidence, trials=trials,
                       seed=root)


def plot_sweep(result, x="n_samples", y="success_fraction", ax=None, **kwargs):
    """Plot a :class:`SweepResult` against one grid parameter.

    One line per combination of the values of the other parameters that
    vary (those with one value are named in the title).  With
    ``y="success_fraction"`` each point carries its Clopper-Pearson interval
    as an error bar and a dashed line marks the target :math:`1 - \\delta`;
    with an error column (``"mean_error"``, ``"median_error"``,
    ``"max_error"``) the axis is logarithmic and the dashed line marks
    ``eps``.

    Parameters
    ----------
    result : SweepResult
    x : str, default="n_samples"
        A numeric grid parameter for the horizontal axis (logarithmic for
        ``n_samples``).
    y : {"success_fraction", "mean_error", "median_error", "max_error"}
        The column to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.
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
    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult from verify_sweep, got "
                        f"{type(result).__name__}")
    if x not in result.param_names:
        raise ValueError(f"x must be one of the grid parameters {list(result.param_names)}, "
                         f"got {x!r}")
    records = result.to_records()
    if not all(isinstance(r[x], numbers.Real) and not isinstance(r[x], bool)
               for r in records):
        raise ValueError(f"x={x!r} must be a numeric grid parameter")
    errors = ("mean_error", "median_error", "max_error")
    if y not in ("success_fraction",) + errors:
        raise ValueError(f"y must be 'success_fraction' or one of {errors}, got {y!r}")
    plt = import_pyplot("plot_sweep")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.5))
    # One line per combination of the parameters that vary besides x; the
    # fixed ones go into the title.
    values = {name: {repr(r[name]) for r in records} for name in result.param_names}
    others = [name for name in result.param_names if name != x and len(values[name]) > 1]
    fixed = [f"{name}={records[0][name]}" for name in result.param_names
             if name != x and len(values[name]) == 1]
    groups = {}
    for record in records:
        groups.setdefault(tuple(record[name] for name in others), []).append(record)
    for key, rows in groups.items():
        rows.sort(key=lambda r: r[x])
        xs = [r[x] for r in rows]
        ys = np.array([r[y] for r in rows])
        label = ", ".join(f"{name}={value}" for name, value in zip(others, key)) or None
        if y == "success_fraction":
            yerr = [ys - [r["ci_lower"] for r in rows], [r["ci_upper"] for r in rows] - ys]
        else:
            yerr = None
        ax.errorbar(xs, ys, yerr=yerr, label=label, **({"marker": "o", "capsize": 3}
                                                        | kwargs))
    if y == "success_fraction":
        ax.axhline(1 - result.delta, color="gray", linestyle="--", linewidth=1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(f"Pr[error <= {result.eps:g}]")
    else:
        ax.axhline(result.eps, color="gray", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_ylabel(y.replace("_", " "))
    if x == "n_samples":
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_title(", ".join(fixed + [f"{result.trials} trials per point"]),
                 fontsize="medium")
    if others:
        ax.legend(fontsize="small")
    return ax


# ---------------------------------------------------- ready-made factories
def bump_target(params, rng, *, exact_max_n=16, n_moment=2**16) -> SparseReLUNetwork:
    r"""A random bump network scaled to unit second moment (a :func:`verify_sweep` target).

    Draws :func:`sparselearn.targets.bump_network` with ``n =
    params["n_features"]``, ``s = params["width"]``, ``k = params["sparsity"]``
    and the Hamming radius ``params["radius"]`` if the grid has one (else
    the default): a ``k``-sparse member of THEORY.md section 2's class on
    the whole cube.  Its output layer is divided by
    :math:`\sqrt{\mathbb{E}_x[f(x)^2]}`, so that
    :math:`\mathbb{E}[f^2] = 1` and ``eps`` reads as a fraction of the
    target's energy.  The second moment is exact (over all :math:`2^n`
    points) for ``n <= exact_max_n``, otherwise estimated on ``n_moment``
    uniform points drawn from ``rng`` (relative error about
    :math:`\sqrt{\mathrm{Var}[f^2]/\text{n\_moment}}/\mathbb{E}[f^2]`).

    Module level, so it pickles for distributed sweeps; customise with
    :func:`functools.partial` (e.g. ``partial(bump_target, n_moment=2**18)``).

    Parameters
    ----------
    params : dict
        Grid point with integer entries ``"n_features"``, ``"width"``,
        ``"sparsity"`` and optionally ``"radius"`` (other entries are
        ignored).
    rng : numpy.random.Generator
        Source of the codewords, output weights and moment sample.
    exact_max_n : int, default=16
        Exact moment for ``n <= exact_max_n``; refused beyond ``n = 30``.
    n_moment : int, default=65536

    Returns
    -------
    SparseReLUNetwork
        With :math:`\mathbb{E}[f^2] = 1` (exactly up to rounding, or as
        estimated); a network that vanishes on every point tried is
        returned unscaled.
    """
    from .targets import bump_network

    for name in ("n_features", "width", "sparsity"):
        if name not in params:
            raise ValueError(f"bump_target needs grid parameter {name!r} (got "
                             f"{sorted(params)})")
    n = check_int(params["n_features"], "n_features", minimum=1)
    net = bump_network(n, params["width"], params["sparsity"], radius=params.get("radius"),
                       random_state=rng)
    exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
    if n <= exact_max_n:
        _check_exact_walk(n, exact_max_n, "for the second moment")
    total = 2**n if n <= exact_max_n else check_int(n_moment, "n_moment", minimum=1)
    square_sum = 0.0
    for start in range(0, total, _EVAL_CHUNK_ROWS):
        stop = min(start + _EVAL_CHUNK_ROWS, total)
        X = _cube_slice(start, stop, n) if n <= exact_max_n \
            else _uniform_points(rng, stop - start, n)
        square_sum += math.fsum(net(X) ** 2)
    if square_sum == 0.0:
        return net
    scale = math.sqrt(square_sum / total)
    return SparseReLUNetwork(net.weights, net.biases, net.output_weights / scale,
                             net.output_bias / scale)


def junta_sum_target(params, rng) -> SparseReLUNetwork:
    r"""A sum of disjoint juntas with unit second moment (a :func:`verify_sweep` target).

    :func:`sparselearn.targets.junta_sum_network` with ``n =
    params["n_features"]``, ``k = params["sparsity"]`` blocks of ``t``
    coordinates where ``params["width"] = k * 2**t``: exactly ``k`` units
    active at every point, Fourier degree at most ``t`` and
    :math:`\mathbb{E}[f^2] = 1` exactly, so a degree-``t`` learner is
    realizable.  Module level, so it pickles for distributed sweeps.
    """
    from .targets import junta_sum_network

    for name in ("n_features", "width", "sparsity"):
        if name not in params:
            raise ValueError(f"junta_sum_target needs grid parameter {name!r} (got "
                             f"{sorted(params)})")
    k = check_int(params["sparsity"], "sparsity", minimum=1)
    width = check_int(params["width"], "width", minimum=1)
    block = width // k
    if block * k != width or block < 2 or block & (block - 1):
        raise ValueError(f"width={width} must be sparsity * 2^t with t >= 1 for a sum of "
                         f"{k} juntas (e.g. width={2 * k} or {4 * k})")
    return junta_sum_network(params["n_features"], k, block.bit_length() - 1,
                             random_state=rng)


def low_degree_learner(params, *, degree=None, max_degree=4, n_jobs=1, random_state=0,
                       **options):
    """A :class:`~sparselearn.learners.LowDegreeRegressor` for a grid point (a
    :func:`verify_sweep` learner).

    The degree is ``params["degree"]`` when the grid has a ``"degree"``
    entry, else ``degree``; ``None`` selects it from ``0..max_degree`` by
    cross-validation (``params["max_degree"]`` overrides ``max_degree``).

    Module level, so it pickles; fix options with :func:`functools.partial`,
    e.g. ``partial(low_degree_learner, degree=2)``.

    Parameters
    ----------
    params : dict
        Grid point.
    degree : int, optional
    max_degree : int, default=4
    n_jobs : int, default=1
        Threads of each fit.  Fixed (rather than "all cores") so that the
        fit's floating-point sums, and hence the sweep's per-trial errors,
        are the same on every worker whatever its core count.
    random_state : int, default=0
        Seed of the cross-validation split; fixed so each fit is a
        deterministic function of its sample.
    **options
        Other :class:`~sparselearn.learners.LowDegreeRegressor` arguments
        (``solver``, ``alpha``, ``cv``, ``max_bytes``, ...).

    Returns
    -------
    LowDegreeRegressor
        Unfitted.
    """
    from .learners import LowDegreeRegressor

    return LowDegreeRegressor(degree=params.get("degree", degree),
                              max_degree=params.get("max_degree", max_degree),
                              n_jobs=n_jobs, random_state=random_state, **options)
