r"""The pre-flight report: before any trial, the best relative error the
learner's hypothesis class can reach on the target, next to ``eps``.

A learner whose hypotheses are polynomials of degree at most ``d`` (the
low-degree algorithm) has, on a target ``f`` and with any number of samples,
the error :math:`\mathbb{E}[(h - f)^2] \ge W^{>d}[f]` (docs/theory.rst,
section 3: the truncation :math:`f^{\le d}` is the best degree-``d``
approximation), so its relative error is at least
:math:`W^{>d}[f]/\mathbb{E}[f^2]`; the zero predictor has relative error 1.
When that floor exceeds ``eps`` no sample size can pass, and the entry points
say so instead of spending the trials.

The floor is computed on trial 0's target (each trial draws its own; the
report says so): exactly from its spectrum when ``n <= exact_max_n``,
otherwise estimated on fresh uniform points with a standard error.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import cube
from .._validation import MemoryBudgetError, check_memory, check_random_state
from ..network import SparseReLUNetwork
from ._trial import (_EVAL_CHUNK_ROWS, _check_target_scale, _child_seed, _draw_target,
                     _evaluate_target)

# Batches of the Monte-Carlo estimate (a jackknife over them gives its stderr).
_BATCHES = 10
# Largest (points x monomials) product the estimate spends; beyond it the
# estimate uses fewer points, and below _BATCHES * 100 points it is skipped.
_MAX_WORK = 2e9
# Half of eps: the degree suggested when the class cannot reach eps leaves
# the other half for the estimation term (fourier.degree_for_tail).
_SUGGESTED_FRACTION = 0.5


def _class_degree(learner, n: int) -> int | None:
    """The largest degree of the learner's hypotheses, when it says (a
    ``get_params()`` with ``degree``, or ``degree=None`` and ``max_degree``).

    A ``kernel`` parameter other than ``"poly"`` (scikit-learn's ``SVR``,
    ``KernelRidge``: ``degree`` is read by the polynomial kernel only) means
    the degree does not bound the hypotheses: ``None``."""
    get_params = getattr(learner, "get_params", None)
    if not callable(get_params):
        return None
    try:
        params = get_params(deep=False)
    except Exception:  # a foreign estimator: no report rather than a failure
        return None
    if params.get("kernel", "poly") != "poly":
        return None
    degree = params.get("degree", "absent")
    if degree is None:
        degree = params.get("max_degree")
    if isinstance(degree, numbers.Integral) and not isinstance(degree, bool) and degree >= 0:
        return min(int(degree), n)
    return None


def _n_monomials(n: int, d: int) -> int:
    return sum(math.comb(n, j) for j in range(d + 1))


def _exact_weights(target, n: int, max_bytes) -> np.ndarray | None:
    """Degree weights ``W^{=j}`` of the target, exactly; ``None`` if its
    ``2^n`` table does not fit the budget."""
    from .. import fourier

    try:
        check_memory(8.0 * 2**n, f"the spectrum of the target over {{-1,1}}^{n}", max_bytes)
    except MemoryBudgetError:
        return None
    if isinstance(target, SparseReLUNetwork):
        table = _check_target_scale(cube.truth_table(target, max_bytes=max_bytes))
    else:
        table = np.empty(2**n)
        for start in range(0, 2**n, _EVAL_CHUNK_ROWS):
            stop = min(start + _EVAL_CHUNK_ROWS, 2**n)
            table[start:stop] = _evaluate_target(target, cube.points(n, start, stop))
    return fourier.degree_weights(fourier.spectrum(table))


def _estimate(target, n: int, d: int, n_draws: int, rng, max_bytes):
    r"""Monte-Carlo ``(relative tail, its stderr, E[f^2], its stderr)`` at degree ``d``.

    With batch means :math:`c_b(S) = \text{mean}_b(f(x)\chi_S(x))` of
    :math:`B` independent batches, :math:`\sum_{b \ne b'} c_b \cdot c_{b'} /
    (B(B-1))` is an unbiased estimate of :math:`W^{\le d}[f] = \sum_{|S| \le d}
    \hat f(S)^2` (docs/theory.rst, section 3, the coefficient estimates); the
    relative tail is :math:`1 - W^{\le d}/\mathbb{E}[f^2]` and its standard
    error the jackknife over batches.  ``None`` when too costly.
    """
    from ..parities import ParityDesign

    D = _n_monomials(n, d)
    per_batch = min(n_draws, int(_MAX_WORK / D)) // _BATCHES
    if per_batch < 100:
        return None
    sums, squares = np.zeros((_BATCHES, D)), np.zeros(_BATCHES)
    try:
        for b in range(_BATCHES):
            X = cube._uniform_points(rng, per_batch, n)
            y = _evaluate_target(target, X)
            sums[b] = ParityDesign._from_checked(X, d, 1, max_bytes)._rmatvec(y) / per_batch
            squares[b] = float(np.mean(y * y))
    except MemoryBudgetError:
        return None
    total, dots = sums.sum(axis=0), np.einsum("bs,bs->b", sums, sums)

    def ratio(total, dots, squares):
        count = squares.shape[0]
        low = (float(total @ total) - float(dots.sum())) / (count * (count - 1))
        energy = float(squares.mean())
        return (1.0 - low / energy if energy > 0 else 0.0), energy

    relative, energy = ratio(total, dots, squares)
    # The unbiased estimate of a (near) zero tail can fall below 0: the floor
    # is reported clipped to [0, 1], with the unclipped estimate's stderr.
    clipped = min(max(relative, 0.0), 1.0)
    leave_out = np.array([ratio(total - sums[b], np.delete(dots, b), np.delete(squares, b))
                          for b in range(_BATCHES)])
    scale = math.sqrt((_BATCHES - 1) / _BATCHES)
    return (clipped, scale * float(np.sqrt(np.sum((leave_out[:, 0]
                                                     - leave_out[:, 0].mean()) ** 2))),
            energy, float(np.std(squares, ddof=1) / math.sqrt(_BATCHES)))


def _preflight(make_learner, make_target, root, n, eps, options,
               eps_scale="relative", agnostic=False) -> dict:
    """The report for one run (a :func:`verify_pac` call, a sweep point, a
    parameter of a search): a JSON-ready dict whose ``"message"`` is one line
    and whose ``"feasible"`` is ``False`` only when ``eps`` is out of reach
    (an absolute ``eps`` is compared as ``eps / E[f^2]``)."""
    target_seed, _, _, extra_seed = _child_seed(root, 0).spawn(4)
    output = getattr(options, "output", None)
    target, n = _draw_target(make_target, check_random_state(target_seed), n,
                             *(() if output is None else (output,)))
    d = _class_degree(make_learner(), n)
    report = {"degree": d, "eps": eps, "eps_scale": eps_scale, "exact": None, "energy": None, "energy_stderr": None,
              "best_relative_error": None, "best_relative_error_stderr": None,
              "n_monomials": None if d is None else _n_monomials(n, d),
              "feasible": None, "suggested_degree": None, "suggested_error": None,
              "target": "trial 0's target (each trial draws its own)"}
    weights = (_exact_weights(target, n, options.max_bytes) if n <= options.exact_max_n
               else None)
    if weights is not None:
        energy = float(weights.sum())
        tails = np.concatenate([np.cumsum(weights[::-1])[::-1][1:], [0.0]]) / \
            (energy if energy > 0 else 1.0)
        report.update(exact=True, energy=energy, energy_stderr=0.0)
        limit = _relative_limit(eps, eps_scale, energy)
        if d is not None:
            report.update(best_relative_error=float(tails[d]), best_relative_error_stderr=0.0,
                          feasible=bool(tails[d] <= limit))
            if not report["feasible"]:
                fits = np.flatnonzero(tails <= _SUGGESTED_FRACTION * limit)
                report.update(suggested_degree=int(fits[0]),
                              suggested_error=float(tails[fits[0]]))
    elif d is not None:
        estimate = _estimate(target, n, d, options.n_draws, check_random_state(extra_seed),
                             options.max_bytes)
        if estimate is not None:
            relative, stderr, energy, energy_stderr = estimate
            # Out of reach only when the estimate is clearly above eps
            # (three standard errors: wrongly refused with probability ~0.1%).
            report.update(exact=False, energy=energy, energy_stderr=energy_stderr,
                          best_relative_error=relative, best_relative_error_stderr=stderr,
                          feasible=bool(relative - 3.0 * stderr
                                        <= _relative_limit(eps, eps_scale, energy)))
    if agnostic:
        # Judged against the class's best, not zero: never out of reach.
        report.update(feasible=None, suggested_degree=None, suggested_error=None)
    report["agnostic"] = bool(agnostic)
    report["message"] = _message(report)
    return report


def _relative_limit(eps, eps_scale, energy) -> float:
    """``eps`` as a relative error: itself, or an absolute one over ``E[f^2]``."""
    if eps_scale == "relative":
        return eps
    return eps / energy if energy > 0 else math.inf


def _message(report: dict) -> str:
    """One line: the class's best relative error next to eps, and the zero
    predictor's baseline."""
    d, energy = report["degree"], report["energy"]
    eps = (f"{report['eps']:g}" if report["eps_scale"] == "relative" or energy is None
           else f"{_relative_limit(report['eps'], 'absolute', energy):.3g} (absolute "
                f"{report['eps']:g})")
    baseline = ("zero predictor: relative error 1" if energy is None
                else f"zero predictor: relative error 1 (E[f^2] = {energy:.4g})")
    if report["best_relative_error"] is None:
        why = ("the learner does not say its degree" if d is None
               else "too costly to estimate")
        return f"pre-flight: best relative error of the class unknown ({why}); {baseline}"
    best = report["best_relative_error"]
    shown = (f"{best:.3g}" if report["exact"]
             else f"{best:.3g} +- {report['best_relative_error_stderr']:.2g} (estimated)")
    if report.get("agnostic"):
        return (f"pre-flight (agnostic): best relative error at degree <= {d} is {shown} on "
                f"trial 0's target; each trial is judged on its error minus its own "
                f"target's best; {baseline}")
    if report["feasible"]:
        return (f"pre-flight: best relative error at degree <= {d} is {shown} <= eps "
                f"{eps} on trial 0's target; {baseline}")
    line = (f"no sample size can pass at degree <= {d}: best relative error {shown} > "
            f"eps {eps}")
    if report["suggested_degree"] is not None:
        line += (f"; degree {report['suggested_degree']} reaches "
                 f"{report['suggested_error']:.3g}")
    return line + f"; trial 0's target, {baseline}; trials skipped"


class InfeasibleWarning(UserWarning):
    """The pre-flight report found ``eps`` below the best relative error the
    learner's class can reach: no sample size can pass, the trials were skipped.
    """


_EPS_SCALES = ("relative", "absolute")


def _check_eps_scale(eps_scale) -> str:
    """``None`` (the default: relative) or one of :data:`_EPS_SCALES`."""
    if eps_scale is None:
        return "relative"
    if eps_scale not in _EPS_SCALES:
        raise ValueError(f"eps_scale must be 'relative' (eps is a fraction of E[f^2], the "
                         f"default) or 'absolute', got {eps_scale!r}")
    return eps_scale


def _check_preflight(preflight) -> bool:
    if not isinstance(preflight, (bool, np.bool_)):
        raise TypeError(f"preflight must be True or False, got {type(preflight).__name__}")
    return bool(preflight)


def _warn_eps_scale(given, energies, caller: str) -> None:
    """The meaning of ``eps`` changed from absolute to relative to E[f^2]: say
    so (FutureWarning) when the caller did not choose and it matters, i.e.
    when a target's E[f^2] is not 1 (within 5%, which a Monte-Carlo
    normalisation such as bump_target's can miss)."""
    energies = np.asarray([e for e in energies if e is not None], dtype=np.float64)
    if given is None and energies.size and np.any(np.abs(energies - 1.0) > 0.05):
        warnings.warn(
            f"{caller}: eps is now relative to E[f^2] (the zero predictor's error; here "
            f"E[f^2] = {float(np.median(energies)):.4g}), it was an absolute squared error; "
            "pass eps_scale='relative' to silence this, or eps_scale='absolute' for the "
            "old meaning", FutureWarning, stacklevel=3)


def _warn_infeasible(report, stacklevel: int = 3) -> bool:
    """Warn with the report's line when ``eps`` is out of reach; whether it is."""
    if report is None or report["feasible"] is not False:
        return False
    warnings.warn(report["message"], InfeasibleWarning, stacklevel=stacklevel)
    return True


def _skipped_result(spec, eps, options, report, eps_scale):
    """The :class:`PACResult` of a run whose trials the pre-flight skipped."""
    from ._results import PACResult, _frozen_array

    n = spec["n_features"]
    empty = _frozen_array([])
    return PACResult(
        n_samples=spec["n_samples"], eps=eps, delta=options.delta, noise=spec["noise"],
        confidence=options.confidence, n_features=n, exact=spec["exact"],
        n_draws=2**n if spec["exact"] else spec["n_draws"], errors=empty, stderr=empty,
        target_norms=empty, fit_seconds=empty, seed=spec["root"], eps_scale=eps_scale,
        preflight=report)


def _class_errors(make_learner, make_target, spec, trials, options) -> np.ndarray:
    r"""Each trial's best error in the learner's class, :math:`W^{>d}[f]` of
    its target (drawn again from the trial's seed), exactly from its spectrum:
    the baseline of ``verify_pac(agnostic=True)``."""
    n = spec["n_features"]
    d = _class_degree(make_learner(), n)
    if d is None:
        raise TypeError("agnostic=True compares each trial with the best error of the "
                        "learner's class, so make_learner() must state its degree: a "
                        "get_params() with an integer degree (or degree=None and "
                        "max_degree), as LowDegreeRegressor has")
    if not spec["exact"]:
        raise ValueError(f"agnostic=True needs each target's exact spectrum: n={n} exceeds "
                         f"exact_max_n={options.exact_max_n}; raise exact_max_n (or use "
                         "n <= exact_max_n)")
    check_memory(8.0 * 2**n, f"the spectrum of each target over {{-1,1}}^{n} (agnostic=True)",
                 options.max_bytes)
    output = getattr(options, "output", None)
    errors = np.empty(trials)
    for index in range(trials):
        target_seed = _child_seed(spec["root"], index).spawn(1)[0]
        target, _ = _draw_target(make_target, check_random_state(target_seed), n,
                                 *(() if output is None else (output,)))
        errors[index] = float(_exact_weights(target, n, options.max_bytes)[d + 1:].sum())
    return errors
