"""Result objects of the PAC harness: :class:`PACResult`, :class:`Evaluation`,
:class:`SampleComplexityResult` and :class:`SweepResult`.

Each has the interface of :class:`sparselearn._results.ResultMixin`:
``to_dict()``, ``to_frame()``, ``_repr_html_()`` and ``__str__``.
"""
from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np

from .. import io as _io
from .._results import ResultMixin, deprecated_alias
from ._stats import clopper_pearson

# Trials listed one per row in the text table up to this many; beyond it the
# table shows error quantiles only.
_MAX_TABLE_ROWS = 25

def _frozen_array(values, dtype=np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class PACResult(ResultMixin):
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

    stderrs = deprecated_alias("stderrs", "stderr")
    n_test = deprecated_alias("n_test", "n_draws")

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
            "certified": self.certified,
            # Entropy may exceed 64 bits: a string survives every JSON parser.
            "seed": {"entropy": str(self.seed.entropy),
                     "spawn_key": list(self.seed.spawn_key)},
        }

    def _frame_records(self) -> list[dict]:
        """One row per trial: ``trial``, ``error``, ``stderr``, ``target_norm``,
        ``fit_seconds`` and ``success`` (``error <= eps``)."""
        return [{"trial": i, "error": float(self.errors[i]), "stderr": float(self.stderr[i]),
                 "target_norm": float(self.target_norms[i]),
                 "fit_seconds": float(self.fit_seconds[i]),
                 "success": bool(self.errors[i] <= self.eps)} for i in range(self.trials)]

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
                lines.append(f"{i:>5}  {self.errors[i]:>11.4e}  {self.stderr[i]:>10.2e}  "
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
class SampleComplexityResult(ResultMixin):
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
        }

    def _frame_records(self) -> list[dict]:
        """One row per :func:`verify_pac` run of the search: the parameter
        (column ``param_name``), its ``eps``, the run's :class:`Evaluation`
        fields, and ``min_samples`` (the answer for that parameter)."""
        return [{self.param_name: _plain(param), "eps": self.eps[i]}
                | e._frame_records()[0] | {"min_samples": self.min_samples[i]}
                for i, param in enumerate(self.params) for e in self.evaluations[i]]

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

# ------------------------------------------------------------ grid sweeps
# Columns of SweepResult.to_records() besides the grid parameters.
_RECORD_COLUMNS = ("trials", "successes", "success_fraction", "ci_lower", "ci_upper",
                   "consistent", "certified", "mean_error", "median_error", "max_error",
                   "mean_target_norm", "exact", "n_draws")


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult(ResultMixin):
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
        (:math:`\\mathbb{E}[f^2]`, the zero predictor's error), ``exact`` and
        ``n_draws``.

        Returns
        -------
        list of dict
        """
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
                "exact": result.exact, "n_draws": result.n_draws,
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
            "seed": {"entropy": str(self.seed.entropy),
                     "spawn_key": list(self.seed.spawn_key)},
            "rows": [record | {"errors": result.errors.tolist(),
                               "stderr": result.stderr.tolist()}
                     for record, result in zip(self.to_records(), self.results)],
        }

    def _frame_records(self) -> list[dict]:
        return self.to_records()

    def to_csv(self, path) -> None:
        """Write :meth:`to_records` as CSV (header row, one row per point), atomically.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (replaced atomically).
        """
        records = self.to_records()
        with _io.atomic_write(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)

    def to_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON (strict: no NaN or infinity), atomically.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (replaced atomically).
        """
        with _io.atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=1, allow_nan=False)
            handle.write("\n")

    def to_table(self) -> str:
        """Readable text report: one row per grid point.

        Returns
        -------
        str
        """
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
