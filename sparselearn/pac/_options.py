"""The arguments :func:`verify_pac`, :func:`sample_complexity_curve` and
:func:`verify_sweep` share, validated once into one :class:`Options`."""
from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import MAX_CUBE_DIM, check_float, check_int, check_open_unit
from ._execution import (_check_factory, _check_n_jobs, _check_picklable, _check_progress,
                         _check_scheduler, _FactoryCall, _TrialRunner)
from ._trial import _root_seed


# The keyword arguments of Options.validate, by the entry points' parameter names.
_SHARED = ("delta", "trials", "noise", "confidence", "random_state", "scheduler", "n_jobs",
           "exact_max_n", "n_draws", "progress", "max_bytes", "n_features", "output",
           "agnostic")

# How verify_pac and sample_complexity_curve call make_learner (verify_sweep
# passes its own make_learner(point)).
_LEARNER_CALL = _FactoryCall("make_learner()", 0, "lambda: YourLearner(...)")


@dataclasses.dataclass(frozen=True)
class Options:
    """Validated arguments of one PAC run (a :func:`verify_pac` call, a search
    or a sweep): the learner factory, the statistical test, where trials run
    and how errors are measured.  Build it with :meth:`validate`."""

    make_learner: object
    delta: float
    trials: int
    noise: float
    confidence: float
    n_jobs: int
    scheduler: object
    n_features: int | None
    exact_max_n: int
    n_draws: int
    progress: bool | None
    max_bytes: object
    root: np.random.SeedSequence
    output: int | None = None
    agnostic: bool = False

    @classmethod
    def validate(cls, make_learner, *, delta, trials, noise, confidence, random_state,
                 scheduler, n_jobs, exact_max_n, n_draws, progress, max_bytes,
                 n_features=None, output=None, agnostic=False,
                 learner_call=_LEARNER_CALL) -> Options:
        """Check every shared argument (naming it in the error) and derive the
        root seed; ``learner_call`` is how the entry point calls ``make_learner``."""
        make_learner = _check_factory(make_learner, "make_learner", learner_call)
        delta = check_open_unit(delta, "delta")
        trials = check_int(trials, "trials", minimum=1)
        noise = check_float(noise, "noise", minimum=0.0)
        confidence = check_open_unit(confidence, "confidence")
        n_jobs = _check_n_jobs(n_jobs)
        exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
        n_draws = check_int(n_draws, "n_draws", minimum=2)
        progress = _check_progress(progress)
        scheduler = _check_scheduler(scheduler, n_jobs)
        if n_features is not None:
            n_features = check_int(n_features, "n_features", minimum=1)
        if output is not None:
            # The upper end (the target's output count) is checked per trial.
            output = check_int(output, "output", minimum=0)
        if not isinstance(agnostic, (bool, np.bool_)):
            raise TypeError(f"agnostic must be True or False, got {type(agnostic).__name__}")
        return cls(output=output, agnostic=bool(agnostic),
                   make_learner=make_learner, delta=delta, trials=trials, noise=noise,
                   confidence=confidence, n_jobs=n_jobs, scheduler=scheduler,
                   n_features=n_features, exact_max_n=exact_max_n, n_draws=n_draws,
                   progress=progress, max_bytes=max_bytes, root=_root_seed(random_state))

    @classmethod
    def from_arguments(cls, arguments: dict, learner_call=_LEARNER_CALL) -> Options:
        """:meth:`validate` on the shared arguments of an entry point, picked by
        name from its ``locals()`` (its parameters; ``n_draws`` with the
        ``n_test`` alias already resolved), so that every entry point forwards
        the same ones the same way."""
        shared = {name: arguments[name] for name in _SHARED if name in arguments}
        return cls.validate(arguments["make_learner"], learner_call=learner_call, **shared)

    def runner(self, **factories) -> _TrialRunner:
        """The trial runner; when trials leave this process, ``make_learner``
        and the given ``factories`` must pickle (refused, named, otherwise)."""
        runner = _TrialRunner(self.scheduler, self.n_jobs)
        if runner.remote:
            _check_picklable(make_learner=self.make_learner, **factories)
        return runner


def _check_eps(eps, name: str = "eps") -> float:
    return check_float(eps, name, minimum=0.0, strict_minimum=True)
