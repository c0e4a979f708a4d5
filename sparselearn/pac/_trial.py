"""One PAC trial: seeds, target, sample, fit, and the excess error measured
exactly over the cube or on fresh uniform points."""
from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from .. import cube, fourier
from .._validation import _read_array, check_memory, check_random_state
from ..interop import _conversion_hint
from ..network import SparseReLUNetwork
from ._results import PACResult, _frozen_array

# Rows evaluated at once when measuring the error: keeps memory flat (a few
# MiB per chunk) whatever the cube dimension or the test-sample size.
_EVAL_CHUNK_ROWS = 2**15

# Largest cube dimension evaluated exactly (every point): memory stays flat,
# but the time does not, and 2^30 points per trial is already hours of
# evaluation; a larger exact_max_n is refused rather than walked silently.
_MAX_EXACT_DIM = 30

# Largest cube dimension at which a LowDegreeRegressor's exact error is taken
# by Parseval from the target's truth table: three 2^n float64 arrays (8 MiB
# each at n = 20, about the walk's own chunk memory); above it, the walk.
_PARSEVAL_MAX_DIM = 20


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


def _holds_strings(raw) -> bool:
    """Whether ``raw`` (a learner's or target's output) is or holds strings."""
    dtype = getattr(raw, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return dtype.kind in "US"
    if hasattr(raw, "__array__") and not isinstance(raw, np.ndarray):
        return False  # a tensor or array-like of its own dtype: numbers or its own error
    return any(isinstance(v, (str, bytes)) for v in np.ravel(np.asarray(raw, dtype=object)))


def _evaluate(function, X: np.ndarray, what: str) -> np.ndarray:
    raw = function(X)
    # A torch tensor that requires grad is _read_array's TypeError (keeping
    # torch's advice to detach): torch's message alone did not say whose output it was.
    expected = (f"real numbers, one per point; its {type(raw).__name__} does not convert "
                "to float64")
    array = _read_array(raw, what, expected, verb="return")
    if array.dtype.kind == "c":  # the cast would drop the imaginary part, with a warning
        raise TypeError(f"{what} must return {expected}: complex values")
    if _holds_strings(array):  # the cast would parse "1", "0" (class labels)
        raise TypeError(f"{what} must return {expected}: strings")
    values = _read_array(array, what, expected, dtype=np.float64, verb="return")
    if values.shape != (X.shape[0],):
        column = (f"; ravel its ({X.shape[0]}, 1) column" if values.shape == (X.shape[0], 1)
                  else "")
        raise ValueError(f"{what} returned shape {values.shape} for {X.shape[0]} points; "
                         f"it must return one value per point, shape ({X.shape[0]},)"
                         f"{column}")
    bad = ~np.isfinite(values)
    if bad.any():
        # The run stops here (_run_trial's note names the trial and seed): a NaN
        # counted as an error would be a failure, or a success, that never happened.
        raise ValueError(f"{what} returned NaN or infinite values ({int(bad.sum())} of "
                         f"{X.shape[0]} points, e.g. {float(values[bad][0])})")
    return values


# Largest target magnitude accepted: E[f^2], the errors (h - f)^2 and the
# standard error of their mean (fourth powers) summed over up to 2^30 points
# stay finite in float64 below it (4 x 241 + 30 < 1024, with |h - f| up to
# twice it); relative errors do not depend on the scale.  Beyond about 1e154
# E[f^2] was inf and every relative error NaN (trials counted as successes,
# or the pre-flight called the target infeasible).
_MAX_TARGET = 2.0**240


def _check_target_scale(values: np.ndarray) -> np.ndarray:
    """``values`` of the target, or a ``ValueError`` saying how to rescale it."""
    peak = float(np.max(np.abs(values), initial=0.0))
    if peak > _MAX_TARGET:
        raise ValueError(f"the target takes values up to {peak:.3g}, beyond {_MAX_TARGET:.3g}, "
                         "where squared errors overflow float64; rescale it (e.g. divide a "
                         "network's output weights by a power of two): relative errors do "
                         "not change")
    return values


def _evaluate_target(target, X: np.ndarray) -> np.ndarray:
    """The target's values at ``X`` (:func:`_evaluate`), within ``_MAX_TARGET``."""
    return _check_target_scale(_evaluate(target, X, "the target"))


class _OutputColumn:
    """Column ``output`` of a plain callable target returning ``(m, o)`` values."""

    def __init__(self, function, output: int):
        self.function, self.output = function, output

    def __call__(self, X):
        values = np.asarray(self.function(X))
        if values.ndim != 2 or not 0 <= self.output < values.shape[1]:
            raise ValueError(f"output={self.output} was given, so the target must return "
                             f"(m, o) values with o > {self.output}; it returned shape "
                             f"{values.shape}")
        return values[:, self.output]


def _draw_target(make_target, rng, n: int | None, output: int | None = None):
    """Call ``make_target(rng)`` and check it gives a function on ``{-1,1}^n``.

    With ``output`` (validated by :class:`~sparselearn.pac._options.Options`),
    the scalar target is output ``output`` of a multi-output network
    (:meth:`SparseReLUNetwork.select_output`) or column ``output`` of a
    callable's ``(m, o)`` values; a multi-output network without ``output``
    is refused, naming the argument.
    """
    target = make_target(rng)
    if isinstance(target, SparseReLUNetwork):
        if n is not None and target.n_features != n:
            raise ValueError(f"make_target returned a network on n={target.n_features} "
                             f"inputs, expected n={n} (every trial must use the same n)")
        if target.multi_output or output is not None:
            if output is not None and output >= target.n_outputs:
                raise ValueError(f"output={output}, but make_target returned a network with "
                                 f"{target.n_outputs} output(s); pass 0 <= output < "
                                 f"{target.n_outputs}")
            if output is None and target.n_outputs > 1:
                raise ValueError(f"make_target returned a network with {target.n_outputs} "
                                 "outputs; pass output=t (0 <= t < "
                                 f"{target.n_outputs}) to learn one of them")
            target = target.select_output(output)
        return target, target.n_features
    hint = _conversion_hint(target)
    if hint:
        # Computes on tensors, or is an estimator: not a function of +-1 arrays.
        raise TypeError(f"make_target returned {type(target).__name__}, not a "
                        f"SparseReLUNetwork{hint}")
    if callable(target):
        if n is None:
            raise TypeError("make_target returned a plain callable; pass n_features= so "
                            "the cube dimension is known (or return a SparseReLUNetwork)")
        return (target if output is None else _OutputColumn(target, output)), n
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
    with _thread_pools().limit(limits=1), contextlib.ExitStack() as later_pools:
        try:
            return _trial(make_learner, make_target, spec, index, later_pools)
        except Exception as exc:
            # A learner that fails on some samples aborts the run (no trial is
            # counted either way); say which trial, so it can be replayed.
            if hasattr(exc, "add_note"):  # Python >= 3.11; survives pickling
                root = spec["root"]
                exc.add_note(f"raised in PAC trial {index} (n_samples={spec['n_samples']}) "
                             f"of the run with root seed SeedSequence(entropy="
                             f"{root.entropy}, spawn_key={root.spawn_key}); verify_pac's "
                             "Notes say how to replay it")
            raise


_POOLS: tuple[int, ThreadpoolController] | None = None


def _thread_pools() -> ThreadpoolController:
    """The process's thread pools, found again only when a module was imported
    since the last look.  Finding them (``threadpool_limits`` does it on every
    call) reads every loaded library, about 2.4 ms; at thousands of cheap
    trials that was 80% of a sample-complexity search.  A learner that brings
    its own pool (torch's MKL, say) loads it by importing its package, which
    changes ``sys.modules`` and so triggers a new look."""
    global _POOLS
    key = len(sys.modules)
    if _POOLS is None or _POOLS[0] != key:
        _POOLS = (key, ThreadpoolController())
    return _POOLS[1]


def _trial(make_learner, make_target, spec: dict, index: int, later_pools):
    n = spec["n_features"]
    m = spec["n_samples"]
    target_seed, sample_seed, test_seed = _child_seed(spec["root"], index).spawn(3)
    target, _ = _draw_target(make_target, check_random_state(target_seed), n,
                             spec.get("output"))

    rng = check_random_state(sample_seed)
    X = cube._uniform_points(rng, m, n)  # sizes checked by _trial_spec
    y = _evaluate_target(target, X)
    if spec["noise"] > 0.0:
        y = y + spec["noise"] * rng.standard_normal(m)

    imported = len(sys.modules)
    learner = make_learner()
    if len(sys.modules) != imported:
        # The factory imported a library that may bring its own thread pool
        # (scikit-learn's OpenMP, loaded on first use of sparselearn's
        # estimators): held to one thread as well, until the trial ends.
        later_pools.enter_context(_thread_pools().limit(limits=1))
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
    # A low-degree regressor's exact error comes from the target's truth
    # table by Parseval (fourier.excess_error), without its predictions.
    table = None
    if spec["exact"]:
        total = 2**n
        test_rng = None
        squares = None
        if n <= _PARSEVAL_MAX_DIM and _is_cube_polynomial(learner):
            table = np.empty(total, dtype=np.float64)
    else:
        total = spec["n_draws"]
        test_rng = check_random_state(test_seed)
        squares = np.empty(total, dtype=np.float64)
    error_sum = 0.0
    norm_sum = 0.0
    for start in range(0, total, _EVAL_CHUNK_ROWS):
        stop = min(start + _EVAL_CHUNK_ROWS, total)
        if spec["exact"]:
            X = cube.points(n, start, stop)
        else:
            X = cube._uniform_points(test_rng, stop - start, n)
        f = _evaluate_target(target, X)
        norm_sum += math.fsum(f * f)
        if table is not None:
            table[start:stop] = f
            continue
        h = _evaluate(learner.predict, X, "the learner's predict")
        d = (h - f) ** 2
        error_sum += math.fsum(d)
        if squares is not None:
            squares[start:stop] = d
    if table is not None:
        error = fourier.excess_error(fourier.spectrum(table), learner)
    else:
        error = error_sum / total
    stderr = 0.0 if squares is None else float(np.std(squares, ddof=1) / math.sqrt(total))
    return error, stderr, norm_sum / total, fit_seconds


def _is_cube_polynomial(learner) -> bool:
    """Whether ``learner.predict`` on the cube is the polynomial of its
    ``coef_`` and ``subsets_`` (a plain, fitted :class:`LowDegreeRegressor`
    on +-1 inputs; a subclass may predict otherwise)."""
    from ..learners import LowDegreeRegressor

    return (type(learner) is LowDegreeRegressor and learner.input_encoding == "pm1"
            and getattr(learner, "domain_", "cube") == "cube")


def _trial_spec(make_target, root, n_samples, options, n_features=None) -> dict:
    """What every trial of one :func:`verify_pac` run shares.

    ``options`` is the run's validated :class:`~sparselearn.pac._options.Options`;
    ``n_features`` (a sweep point's) overrides ``options.n_features``.
    """
    if n_features is None:
        n_features = options.n_features
    n_draws = options.n_draws
    noise, exact_max_n, max_bytes = options.noise, options.exact_max_n, options.max_bytes
    if n_features is None:
        # Probe trial 0's target (it is drawn again, identically, in the trial).
        target_seed = _child_seed(root, 0).spawn(1)[0]
        _, n_features = _draw_target(make_target, check_random_state(target_seed), None,
                                     options.output)
    check_memory(8.0 * n_samples * (n_features + 2),
                 f"a training sample of {n_samples} points of {{-1,1}}^{n_features}",
                 max_bytes)
    exact = n_features <= exact_max_n
    if exact:
        _check_exact_walk(n_features, exact_max_n, "per trial")
    else:
        check_memory(8.0 * (n_draws + _EVAL_CHUNK_ROWS * (n_features + 3)),
                     f"an error estimate on {n_draws} test points", max_bytes)
    return {"root": root, "n_features": n_features, "n_samples": n_samples,
            "noise": noise, "exact": exact, "n_draws": n_draws, "output": options.output}


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


def _pac_result(spec, outcomes, eps, options) -> PACResult:
    delta, confidence = options.delta, options.confidence
    errors, stderr, norms, seconds = (np.array(column) for column in zip(*outcomes))
    n = spec["n_features"]
    return PACResult(
        n_samples=spec["n_samples"], eps=eps, delta=delta, noise=spec["noise"],
        confidence=confidence, n_features=n, exact=spec["exact"],
        n_draws=2**n if spec["exact"] else spec["n_draws"],
        errors=_frozen_array(errors), stderr=_frozen_array(stderr),
        target_norms=_frozen_array(norms), fit_seconds=_frozen_array(seconds),
        seed=spec["root"])
