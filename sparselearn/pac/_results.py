"""Result objects of the PAC harness: :class:`PACResult`, :class:`Evaluation`,
:class:`SampleComplexityResult` and :class:`SweepResult`.

Each has the interface of :class:`sparselearn._results.ResultMixin`:
``to_dict()``, ``to_frame()``, ``_repr_html_()`` and ``__str__``;
:class:`PACResult` and :class:`SweepResult` also write their rows and dict
to files (``to_csv()``, ``to_json()``, :class:`~sparselearn._results.ResultFilesMixin`).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .._results import ResultFilesMixin, ResultMixin, deprecated_alias
from ._stats import clopper_pearson

# Trials listed one per row in the text table up to this many; beyond it the
# table shows error quantiles only.
_MAX_TABLE_ROWS = 25

def _frozen_array(values, dtype=np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class PACResult(ResultFilesMixin):
    r"""Outcome of :func:`verify_pac`.

    Parameters
    ----------
    n_samples, eps, delta, noise, confidence
        The arguments of the run.
    n_features : int
        Cube dimension ``n``.
    exact : bool
        Whether each error was computed over all :math:`2^n` points (exact,
        ``stderr`` all 0) or estimated on ``n_draws`` fresh uniform points.
    n_draws : int
        Points per error estimate (:math:`2^n` when ``exact``).
    errors : ndarray of shape (trials,)
        Excess squared error :math:`\mathbb{E}_x[(h(x) - f(x))^2]` of each trial.
    stderr : ndarray of shape (trials,)
        Standard error of each estimate (0 when exact).
    target_norms : ndarray of shape (trials,)
        :math:`\mathbb{E}_x[f(x)^2]`, the error of the zero predictor, on the
        same points: the scale ``eps`` should be read against.
    fit_seconds : ndarray of shape (trials,)
        Wall-clock time of each ``fit`` call (informative only).
    seed : numpy.random.SeedSequence
        Root seed; trial ``i`` used its ``i``-th child, so
        ``verify_pac(..., random_state=result.seed)`` reproduces the run.
    eps_scale : {"relative", "absolute"}, default="absolute"
        How ``eps`` is read: ``"relative"`` (what the entry points use) means
        a trial succeeds when its error is at most ``eps`` times its
        ``target_norms`` entry (:math:`\mathbb{E}[f^2]`, the zero
        predictor's error), ``"absolute"`` when it is at most ``eps``.
    preflight : dict, optional
        The pre-flight report (the best relative error the learner's class
        can reach on trial 0's target, next to ``eps``; its ``"message"`` is
        one line).  When its ``"feasible"`` is ``False`` no trial was run:
        ``trials`` is 0, ``success_fraction`` and the interval NaN (``null``
        in JSON), and the run neither consistent nor certified.
    class_errors : ndarray of shape (trials,), optional
        Agnostic runs (``verify_pac(agnostic=True)``): each trial's best
        error in the learner's class, :math:`W^{>d}[f]` of its target; a
        trial then succeeds when ``errors - class_errors`` (its excess over
        the class's best) is within its threshold.  ``None`` otherwise.

    Attributes
    ----------
    stderrs, n_test
        Deprecated aliases of ``stderr`` and ``n_draws`` (``FutureWarning``).
    """

    n_samples: int
    eps: float
    delta: float
    noise: float
    confidence: float
    n_features: int
    exact: bool
    n_draws: int
    errors: np.ndarray
    stderr: np.ndarray
    target_norms: np.ndarray
    fit_seconds: np.ndarray
    seed: np.random.SeedSequence
    eps_scale: str = "absolute"
    preflight: dict | None = None
    class_errors: np.ndarray | None = None

    stderrs = deprecated_alias("stderrs", "stderr")
    n_test = deprecated_alias("n_test", "n_draws")

    @property
    def trials(self) -> int:
        """Number of trials."""
        return int(self.errors.shape[0])

    @property
    def thresholds(self) -> np.ndarray:
        r"""Each trial's tolerance on its error: :math:`\varepsilon\,\mathbb{E}[f^2]`
        (``eps_scale="relative"``) or :math:`\varepsilon`."""
        if self.eps_scale == "relative":
            return self.eps * self.target_norms
        return np.full(self.errors.shape, self.eps)

    @property
    def relative_errors(self) -> np.ndarray:
        r"""Each trial's error over its :math:`\mathbb{E}[f^2]` (the zero
        predictor scores 1); 0 for a zero error, infinite for a zero target."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.errors / self.target_norms
        return np.where(self.errors == 0.0, 0.0, ratio)

    @property
    def infeasible(self) -> bool:
        """Whether the pre-flight report found ``eps`` out of the class's reach
        (then no trial was run)."""
        return self.preflight is not None and self.preflight.get("feasible") is False

    @property
    def agnostic(self) -> bool:
        """Whether trials are judged against the class's best error (``class_errors``)."""
        return self.class_errors is not None

    @property
    def judged_errors(self) -> np.ndarray:
        """What each trial's threshold is compared with: ``errors``, or in an
        agnostic run ``errors - class_errors`` (the excess over the class's best)."""
        return self.errors if self.class_errors is None else self.errors - self.class_errors

    @property
    def successes(self) -> int:
        r"""Number of trials with error :math:`\le \varepsilon` (see ``eps_scale``
        and ``class_errors``)."""
        return int(np.count_nonzero(self.judged_errors <= self.thresholds))

    @property
    def success_fraction(self) -> float:
        """``successes / trials``: the point estimate of Pr[error <= eps]; NaN
        when the pre-flight skipped the trials (0/0 estimates nothing)."""
        return self.successes / self.trials if self.trials else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        """Clopper-Pearson interval for Pr[error <= eps] at ``confidence``;
        ``(nan, nan)`` when the pre-flight skipped the trials (the
        pre-flight message says why)."""
        if not self.trials:
            return (float("nan"), float("nan"))
        return clopper_pearson(self.successes, self.trials, self.confidence)

    @property
    def consistent(self) -> bool:
        r"""Whether :math:`\Pr[\text{error} \le \varepsilon] \ge 1 - \delta` is
        consistent with the trials: the interval's upper end is at least
        :math:`1 - \delta` (``False`` without trials).

        When the guarantee holds, this is ``False`` with probability at most
        ``(1 - confidence) / 2`` (a one-sided exact binomial test).
        """
        return bool(self.trials) and self.interval[1] >= 1.0 - self.delta

    @property
    def certified(self) -> bool:
        r"""Whether the trials *demonstrate* the guarantee: the interval's
        lower end is at least :math:`1 - \delta`.

        When the guarantee fails, this is ``True`` with probability at most
        ``(1 - confidence) / 2``.  Needs enough trials: with all of ``t``
        trials successful the lower end is :math:`((1-c)/2)^{1/t}`.
        """
        return bool(self.trials) and self.interval[0] >= 1.0 - self.delta

    def to_dict(self) -> dict:
        """JSON-serialisable summary (lists, floats, ints, bools, strings).

        Returns
        -------
        dict
        """
        lower, upper = self.interval
        return {
            "n_samples": self.n_samples, "eps": self.eps, "delta": self.delta,
            "noise": self.noise, "confidence": self.confidence,
            "n_features": self.n_features, "exact": self.exact, "n_draws": self.n_draws,
            "trials": self.trials, "errors": self.errors.tolist(),
            "stderr": self.stderr.tolist(), "target_norms": self.target_norms.tolist(),
            "fit_seconds": self.fit_seconds.tolist(), "successes": self.successes,
            "success_fraction": self.success_fraction,
            "interval": [lower, upper], "consistent": self.consistent,
            "certified": self.certified, "eps_scale": self.eps_scale,
            "relative_errors": self.relative_errors.tolist(),
            "infeasible": self.infeasible, "preflight": self.preflight,
            "agnostic": self.agnostic,
            "class_errors": None if self.class_errors is None else self.class_errors.tolist(),
            "seed": _seed_record(self.seed),
        }

    def _frame_records(self) -> list[dict]:
        """One row per trial: ``trial``, ``error``, ``stderr``, ``target_norm``,
        ``fit_seconds`` and ``success`` (``error <= eps``)."""
        return [{"trial": i, "error": float(self.errors[i]), "stderr": float(self.stderr[i]),
                 "target_norm": float(self.target_norms[i]),
                 "fit_seconds": float(self.fit_seconds[i]),
                 "success": bool(self.judged_errors[i] <= self.thresholds[i])}
                for i in range(self.trials)]

    def _frame_columns(self) -> list[str]:
        """The columns of the per-trial rows (also the header of an empty CSV)."""
        return ["trial", "error", "stderr", "target_norm", "fit_seconds", "success"]

    def to_table(self, per_trial: bool | None = None) -> str:
        """Readable text report.

        Parameters
        ----------
        per_trial : bool, optional
            List every trial; by default only when there are at most 25.

        Returns
        -------
        str
        """
        if per_trial is None:
            per_trial = self.trials <= _MAX_TABLE_ROWS
        how = (f"exact over all 2^{self.n_features} points" if self.exact
               else f"estimated on {self.n_draws} fresh uniform points")
        scale = " x E[f^2]" if self.eps_scale == "relative" else " (absolute)"
        lines = [
            f"PAC verification: n = {self.n_features}, m = {self.n_samples} samples, "
            f"eps = {self.eps:g}{scale}, delta = {self.delta:g}, noise = {self.noise:g}, "
            f"{self.trials} trials",
            f"excess squared error E[(h - f)^2] {how}; the zero predictor's is E[f^2] "
            "(relative error 1)",
        ]
        if self.agnostic:
            lines.append("agnostic: each trial is judged on its error minus the class's best "
                         "W^{>d}[f] for its target (column 'best')")
        if self.preflight is not None:
            lines.append(self.preflight["message"])
        lines.append("")
        if not self.trials:
            # The sweep table's word for it: no trial ran, so nothing was
            # measured, let alone rejected (the pre-flight line says why).
            return "\n".join(lines + [f"Pr[error <= eps] >= {1.0 - self.delta:g}: INFEASIBLE "
                                      "(no trial run: see the pre-flight line above)"])
        if per_trial:
            lines.append(f"{'trial':>5}  {'error':>11}  {'stderr':>10}  "
                         f"{'E[f^2]':>10}  {'relative':>9}  {'fit s':>7}  <= eps")
            if self.agnostic:
                lines[-1] = lines[-1].replace("  <= eps", f"  {'best':>11}  <= eps")
            relative, thresholds = self.relative_errors, self.thresholds
            judged = self.judged_errors
            for i in range(self.trials):
                ok = "yes" if judged[i] <= thresholds[i] else "NO"
                best = f"  {self.class_errors[i]:>11.4e}" if self.agnostic else ""
                lines.append(f"{i:>5}  {self.errors[i]:>11.4e}  {self.stderr[i]:>10.2e}  "
                             f"{self.target_norms[i]:>10.4g}  {relative[i]:>9.4f}  "
                             f"{self.fit_seconds[i]:>7.2f}{best}  {ok}")
            lines.append("")
        quantiles = np.quantile(self.errors, [0.0, 0.5, 0.9, 1.0])
        lines.append("error min / median / 90% / max: "
                     + " / ".join(f"{q:.4e}" for q in quantiles)
                     + f"   (median E[f^2] = {np.median(self.target_norms):.4g}, median "
                     f"relative error {np.median(self.relative_errors):.4g})")
        lower, upper = self.interval
        target = 1.0 - self.delta
        pct = f"{100 * self.confidence:g}%"
        lines += [
            f"successes: {self.successes}/{self.trials} = {self.success_fraction:.3f}; "
            f"{pct} Clopper-Pearson interval [{lower:.4f}, {upper:.4f}]",
            f"Pr[error{' - best' if self.agnostic else ''} <= {self.eps:g}"
            f"{' E[f^2]' if self.eps_scale == 'relative' else ''}]"
            f" >= {target:g}: "
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

# -------------------------------------------------- sample-complexity curve
@dataclasses.dataclass(frozen=True)
class Evaluation(ResultMixin):
    """One :func:`verify_pac` run inside a sample-complexity search.

    Parameters
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

    def to_dict(self) -> dict:
        """JSON-serialisable form (the interval as a list).

        Returns
        -------
        dict
        """
        return dataclasses.asdict(self) | {"interval": list(self.interval)}

    def _frame_records(self) -> list[dict]:
        """One row: the fields, the interval as ``ci_lower``/``ci_upper``."""
        record = dataclasses.asdict(self)
        lower, upper = record.pop("interval")
        return [record | {"ci_lower": lower, "ci_upper": upper}]

    def __str__(self) -> str:
        lower, upper = self.interval
        return (f"m = {self.n_samples}: {self.successes}/{self.trials} successes, interval "
                f"[{lower:.4f}, {upper:.4f}], {'passed' if self.passed else 'failed'}, "
                f"median error {self.median_error:.4e}")


@dataclasses.dataclass(frozen=True)
class SampleComplexityResult(ResultFilesMixin):
    r"""Outcome of :func:`sample_complexity_curve`.

    Parameters
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
    preflight : tuple of (dict or None), default=()
        The pre-flight report of each parameter value (see
        :func:`verify_pac`); a value whose report has ``"feasible"`` ``False``
        was not searched (no evaluations).
    seed : numpy.random.SeedSequence, optional
        The search's root seed: ``sample_complexity_curve(...,
        random_state=result.seed)`` repeats it (``None`` for a result built
        by hand).
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
    preflight: tuple = ()
    seed: np.random.SeedSequence | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable summary.

        Returns
        -------
        dict
        """
        return {
            "param_name": self.param_name, "params": [_plain(p) for p in self.params],
            "eps": list(self.eps), "delta": self.delta, "confidence": self.confidence,
            "criterion": self.criterion, "noise": self.noise, "trials": self.trials,
            "min_samples": list(self.min_samples),
            "lower_brackets": list(self.lower_brackets),
            "evaluations": [[e.to_dict() for e in runs] for runs in self.evaluations],
            "preflight": list(self.preflight),
            "seed": None if self.seed is None else _seed_record(self.seed),
        }

    def _frame_records(self) -> list[dict]:
        """One row per :func:`verify_pac` run of the search: the parameter
        (column ``param_name``), its ``eps``, the run's :class:`Evaluation`
        fields, and ``min_samples`` (the answer for that parameter).  A
        parameter value the pre-flight skipped (no run) keeps one row, with
        ``trials`` 0 and ``None`` for ``n_samples``, the interval and the
        error: without it the frame lost the value altogether."""
        rows = []
        for i, param in enumerate(self.params):
            head = {self.param_name: _plain(param), "eps": self.eps[i]}
            runs = [e._frame_records()[0] for e in self.evaluations[i]] or [
                {"n_samples": None, "successes": 0, "trials": 0, "passed": False,
                 "median_error": None, "ci_lower": None, "ci_upper": None}]
            rows += [head | run | {"min_samples": self.min_samples[i]} for run in runs]
        return rows

    def _frame_columns(self) -> list[str]:
        """The columns of :meth:`_frame_records` (also the header of an empty CSV)."""
        run = [f.name for f in dataclasses.fields(Evaluation) if f.name != "interval"]
        return [self.param_name, "eps", *run, "ci_lower", "ci_upper", "min_samples"]

    def to_table(self) -> str:
        """Readable text report: one row per parameter value.

        Returns
        -------
        str
        """
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
            if not runs:
                shown, bracket, succ = "infeasible", "not searched", "-"
            elif m_star is None:
                shown, bracket, succ = f"> {runs[-1].n_samples}", "not reached", "-"
            else:
                shown = str(m_star)
                bracket = f"({low if low is not None else 0}, {m_star}]"
                hit = next(e for e in runs if e.n_samples == m_star)
                succ = f"{hit.successes}/{hit.trials}"
            lines.append(f"{str(_plain(param)):>10}  {self.eps[i]:>8.3g}  {shown:>9}  "
                         f"{bracket:>20}  {succ:>15}  {len(runs)}")
        notes = [f"{self.param_name}={_plain(param)}: {report['message']}"
                 for param, report in zip(self.params, self.preflight) if report is not None]
        if notes:
            lines += ["", "pre-flight (before any trial):"] + notes
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        # The dataclass's own repr listed every evaluation (hundreds of lines).
        return (f"SampleComplexityResult(param_name={self.param_name!r}, "
                f"params={_shown(self.params)}, min_samples={_shown(self.min_samples)}, "
                f"trials={self.trials}, delta={self.delta!r}, criterion={self.criterion!r}, "
                f"seed={_seed_repr(self.seed)})")


def _shown(values, limit: int = 6) -> str:
    """A tuple for a one-line repr: its first ``limit`` values, then how many more."""
    values = [_plain(value) for value in values]
    if len(values) <= limit:
        return repr(tuple(values))
    return f"({', '.join(map(repr, values[:limit]))}, ... {len(values) - limit} more)"


def _seed_repr(seed) -> str:
    """A root seed on one line (``repr(SeedSequence)`` takes several)."""
    if seed is None:
        return "None"
    return f"SeedSequence(entropy={seed.entropy}, spawn_key={seed.spawn_key})"


def _seed_record(seed: np.random.SeedSequence) -> dict:
    """A root seed as JSON: its entropy as a string (it may exceed 64 bits,
    which not every JSON parser keeps exactly) and its spawn key."""
    return {"entropy": str(seed.entropy), "spawn_key": list(seed.spawn_key)}


def _plain(value):
    """NumPy scalars to Python scalars for JSON and tables."""
    return value.item() if isinstance(value, np.generic) else value

# ------------------------------------------------------------ grid sweeps
# Columns of SweepResult.to_records() besides the grid parameters.
_RECORD_COLUMNS = ("trials", "successes", "success_fraction", "ci_lower", "ci_upper",
                   "consistent", "certified", "mean_error", "median_error", "max_error",
                   "mean_target_norm", "exact", "n_draws", "median_relative_error",
                   "best_relative_error", "feasible")


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult(ResultFilesMixin):
    r"""Outcome of :func:`verify_sweep`: one :func:`verify_pac` run per grid point.

    Parameters
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
        (:math:`\\mathbb{E}[f^2]`, the zero predictor's error), ``exact``,
        ``n_draws``, ``median_relative_error`` (error over :math:`\\mathbb{E}[f^2]`),
        and from the pre-flight report ``best_relative_error`` (the class's
        floor on the point's first target, ``None`` if unknown) and
        ``feasible`` (``False``: no trial was run; ``success_fraction``, the
        interval and the error columns are then ``None``, an empty CSV cell).

        Returns
        -------
        list of dict
        """
        records = []
        for point, result in zip(self.points, self.results):
            lower, upper = result.interval
            ran = result.trials > 0
            preflight = result.preflight or {}
            records.append(dict(point) | {
                "trials": result.trials, "successes": result.successes,
                "success_fraction": result.success_fraction if ran else None,
                "ci_lower": lower if ran else None, "ci_upper": upper if ran else None,
                "consistent": result.consistent, "certified": result.certified,
                "mean_error": float(np.mean(result.errors)) if ran else None,
                "median_error": float(np.median(result.errors)) if ran else None,
                "max_error": float(np.max(result.errors)) if ran else None,
                "mean_target_norm": (float(np.mean(result.target_norms)) if ran
                                     else preflight.get("energy")),
                "exact": result.exact, "n_draws": result.n_draws,
                "median_relative_error": (float(np.median(result.relative_errors)) if ran
                                          else None),
                "best_relative_error": preflight.get("best_relative_error"),
                "feasible": not result.infeasible,
            })
        return records

    def to_dict(self) -> dict:
        """JSON-serialisable form: the sweep's arguments, one record per
        point, and each point's per-trial errors.

        Returns
        -------
        dict
        """
        return {
            "eps": self.eps, "delta": self.delta, "noise": self.noise,
            "confidence": self.confidence, "trials": self.trials,
            "param_names": list(self.param_names),
            "seed": _seed_record(self.seed),
            "rows": [record | {"errors": result.errors.tolist(),
                               "stderr": result.stderr.tolist()}
                     for record, result in zip(self.to_records(), self.results)],
        }

    def _frame_records(self) -> list[dict]:
        return self.to_records()

    def _frame_columns(self) -> list[str]:
        """The columns of :meth:`to_records`: the parameters, then the statistics."""
        return list(self.param_names) + list(_RECORD_COLUMNS)

    def to_table(self) -> str:
        """Readable text report: one row per grid point.

        Returns
        -------
        str
        """
        pct = f"{100 * self.confidence:g}%"
        names = list(self.param_names)
        widths = [max(len(name), 6) for name in names]
        relative = all(r.eps_scale == "relative" for r in self.results)
        bound = f"{self.eps:g} E[f^2]" if relative else f"{self.eps:g}"
        lines = [
            f"PAC sweep: Pr[error <= {bound}] >= {1 - self.delta:g}, "
            f"{self.trials} trials per point, noise = {self.noise:g}, {pct} "
            "Clopper-Pearson intervals; errors relative to E[f^2] (the zero predictor "
            "scores 1)",
            "",
            "  ".join(f"{name:>{w}}" for name, w in zip(names, widths))
            + f"  {'success':>9}  {'interval':>17}  {'best':>6}  {'median':>8}  "
            + f"{'max':>8}  decision",
        ]
        messages = []
        for record, result in zip(self.to_records(), self.results):
            decision = ("INFEASIBLE" if not record["feasible"] else
                        "certified" if record["certified"] else
                        "consistent" if record["consistent"] else "REJECTED")
            best = record["best_relative_error"]
            ran = result.trials > 0
            # No trials, no estimate: "0/0 [0.000, 0.000]" read as a measured 0.
            lines.append(
                "  ".join(f"{str(record[name]):>{w}}" for name, w in zip(names, widths))
                + (f"  {record['successes']:>4}/{record['trials']:<4}"
                   + f"  [{record['ci_lower']:.3f}, {record['ci_upper']:.3f}]".rjust(19)
                   if ran else f"  {'n/a':>9}" + "(no trials)".rjust(19))
                + ("       -" if best is None else f"  {best:>6.3f}")
                + (f"  {record['median_relative_error']:>8.4f}"
                   f"  {float(np.max(result.relative_errors)):>8.4f}" if ran
                   else f"  {'-':>8}  {'-':>8}")
                + f"  {decision}")
            if result.preflight is not None:
                family = ", ".join(f"{name}={record[name]}" for name in names
                                   if name != "n_samples")
                message = f"{family}: {result.preflight['message']}" if family \
                    else result.preflight["message"]
                if message not in messages:
                    messages.append(message)
        if messages:
            lines += ["", "best = the class's best relative error on each point's first "
                      "target (pre-flight, before any trial):"] + messages
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        return (f"SweepResult(param_names={self.param_names}, points={len(self)}, "
                f"trials={self.trials}, eps={self.eps!r}, delta={self.delta!r})")
