"""Where the trials run: in this process, on a local process pool, or on a
Dask ``distributed`` cluster; the progress bar; the checks of ``n_jobs``,
``scheduler`` and ``progress``.

Dask is optional (``pip install "sparselearn[dask]"``): it is imported only
when a scheduler is asked for.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sys
import threading
import time
import uuid

import numpy as np

from .._validation import check_int
from ..network import SparseReLUNetwork

# A distributed scheduler address: protocol://location.
_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://\S+")

# Seconds between looks at the Dask futures, and between checks that the
# cluster still has workers while none finishes.
_FUTURES_POLL, _LIVENESS_POLL = 0.05, 0.5

_DASK_EXTRA = ('running trials on a Dask cluster (scheduler=) needs dask.distributed, '
               'which is not installed: pip install "sparselearn[dask]"')


class _NoBar:
    """Stands in for a progress bar where trials are not counted."""

    @staticmethod
    def update(count=1):
        pass


@dataclasses.dataclass(frozen=True)
class _FactoryCall:
    """How an entry point calls one of its factories: ``shown`` as the error
    writes it (``"make_target(rng)"``), with ``n_args`` positional arguments;
    ``example`` is a factory of the right shape and ``wrapped`` the factory of
    one fixed network ``net`` (shown when the network itself is passed)."""

    shown: str
    n_args: int
    example: str
    wrapped: str = "lambda rng: net"


def _check_factory(value, name: str, call: _FactoryCall):
    """``value`` if it is a factory (a callable that makes targets or learners)
    that takes the ``call.n_args`` positional arguments it will be called with.

    A network is callable too (on points), so passing the target itself
    where its factory is expected would fail later, calling it on a random
    generator; it is refused here, naming the argument.

    The entry points call their factories differently (``verify_pac``'s
    ``make_learner()`` and ``make_target(rng)``, ``verify_sweep``'s
    ``make_learner(point)`` and ``make_target(point, rng)``); one written for
    the other failed inside the first trial with Python's bare "takes 0
    positional arguments but 1 was given", naming neither the argument nor
    the expected call.  A callable without a readable signature (a builtin,
    some C extensions) is let through.
    """
    import inspect

    if isinstance(value, SparseReLUNetwork) and name.startswith("make_target"):
        raise TypeError(f"{name} must be a function that returns the target, got the "
                        "SparseReLUNetwork itself; for one fixed network wrap it, e.g. "
                        f"{name}={call.wrapped}")
    if not callable(value):
        hint = ("; pass a function that returns a fresh, unfitted one (the class "
                "itself, a lambda or a functools.partial)" if hasattr(value, "fit") else "")
        raise TypeError(f"{name} must be callable, got {type(value).__name__}{hint}")
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return value
    try:
        signature.bind(*range(call.n_args))
    except TypeError as exc:
        shown = getattr(value, "__qualname__", None) or type(value).__name__
        raise TypeError(f"{name} is called as {call.shown}, but {shown} cannot be called "
                        f"that way ({exc}); wrap it, e.g. {name}={call.example}") from None
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


#: Seconds between the progress lines written when stderr is not a terminal
#: (``progress=True``); the environment variable
#: ``SPARSELEARN_PROGRESS_INTERVAL`` overrides it.
PROGRESS_LINE_INTERVAL = 10.0


def _progress_bar(progress, **kwargs):
    """Progress on stderr.  On a terminal a tqdm bar; ``progress=None`` shows
    it only there (tqdm's own ``disable=None`` rule).  With ``progress=True``
    and stderr not a terminal (a log file, a pipe, CI), tqdm's carriage
    returns would pile up on one line, so :class:`_LineProgress` writes one
    plain line every ``PROGRESS_LINE_INTERVAL`` seconds instead, and nothing
    for a run shorter than that."""
    isatty = getattr(sys.stderr, "isatty", None)
    if progress and not (isatty is not None and isatty()):
        return _LineProgress(file=sys.stderr, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(file=sys.stderr, disable=None if progress is None else not progress,
                **kwargs)


def _line_interval() -> float:
    text = os.environ.get("SPARSELEARN_PROGRESS_INTERVAL", "")
    try:
        value = float(text)
    except ValueError:
        return PROGRESS_LINE_INTERVAL
    return value if value > 0 else PROGRESS_LINE_INTERVAL


class _LineProgress:
    """tqdm's ``update``/``set_postfix``/context-manager interface, writing
    ``DESC: 12/40 trials, 30 s elapsed, about 70 s left`` lines: one every
    ``interval`` seconds from a background thread (so a slow trial does not
    silence it), and a last ``done`` line if any line was written."""

    def __init__(self, total=None, desc="progress", unit="it", file=None, interval=None,
                 **ignored):
        self.total, self.desc, self.unit = total, desc or "progress", unit
        self.file = sys.stderr if file is None else file
        self.interval = _line_interval() if interval is None else float(interval)
        self.n, self.postfix, self.lines = 0, "", 0
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True,
                                        name="sparselearn-progress")

    def __enter__(self):
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, kind, value, traceback):
        self._stop.set()
        self._thread.join()
        # A run longer than one interval ends with the done line even when its
        # ticker never got the CPU (a loaded machine): it made a test flaky.
        if kind is None and (self.lines or time.monotonic() - self._start >= self.interval):
            self._write(f"{self.desc}: done, {self.n} {self.unit}s in "
                        f"{time.monotonic() - self._start:.0f} s")
        return False

    def update(self, n=1):
        self.n += n

    def set_postfix(self, values=None, **kwargs):
        values = {**(values or {}), **kwargs}
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def _tick(self):
        while not self._stop.wait(self.interval):
            self._write(self._status())

    def _status(self) -> str:
        elapsed = time.monotonic() - self._start
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        text = f"{self.desc}: {done} {self.unit}s, {elapsed:.0f} s elapsed"
        if self.total and self.n:
            text += f", about {elapsed * (self.total - self.n) / self.n:.0f} s left"
        return text + (f" ({self.postfix})" if self.postfix else "")

    def _write(self, line: str):
        try:
            print(line, file=self.file, flush=True)
            self.lines += 1
        except (OSError, ValueError):  # a closed or broken stderr: no progress
            self._stop.set()


def _local_workers(n_jobs: int) -> int:
    """Worker processes for ``n_jobs``; ``-1`` counts the CPUs this process may
    use (:func:`joblib.cpu_count` respects affinity masks and cgroup quotas)."""
    if n_jobs != -1:
        return n_jobs
    from joblib import cpu_count

    return cpu_count()


def _import_distributed():
    """``distributed``, or an ImportError naming the extra that installs it."""
    try:
        import dask  # noqa: F401  (distributed needs it; import errors name it)
        import distributed
    except ImportError as exc:
        raise ImportError(_DASK_EXTRA) from exc
    return distributed


def _identify(address: str, timeout: float) -> dict:
    """The ``identity`` reply of the Dask server at ``address``, all of it
    (TCP connect, handshake, reply) within ``timeout`` seconds."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    # The TLS settings of dask's config, as Client(address) reads them.
    connection_args = Security().get_connection_args("client")

    async def ask():
        comm = await connect(address, timeout=timeout, **connection_args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome = {}

    def run():  # its own event loop: the caller may be inside one (Jupyter)
        try:
            # dask's connect gives up on the TCP connect after `timeout`; only
            # a connection made but never answered reaches the margin.
            outcome["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout + 1.0))
        except asyncio.TimeoutError:
            outcome["error"] = _NoHandshake(f"connected, but no Dask handshake within "
                                            f"{timeout:g} s")
        except BaseException as exc:  # re-raised, with the address, by the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="sparselearn-identify")
    thread.start()
    thread.join(timeout + 10.0)  # wait_for ends it; the margin only guards that
    if "error" in outcome:
        raise outcome["error"]
    if "reply" not in outcome:
        raise _NoHandshake(f"no answer within {timeout:g} s")
    return outcome["reply"]


class _NoHandshake(Exception):
    """A server accepted the connection but did not speak Dask's protocol."""


def _connect_client(address: str, timeout: float):
    """A ``distributed.Client`` on the scheduler at ``address``, or a
    ``ConnectionError`` naming it within about ``timeout`` seconds.

    ``Client(address)`` bounds only the TCP connect: a server that accepts
    and never speaks (a firewall, a stopped process's port in a proxy) held
    it forever in dask's handshake, and a server that is not Dask (the
    dashboard's HTTP port, 8787) or a worker's address raised ``MemoryError``
    or ``TypeError`` from dask's internals.  So the address is first asked
    who it is, within ``timeout``.
    """
    from distributed import Client

    try:
        reply = _identify(address, timeout)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"could not connect to the Dask scheduler at {address} "
                              f"within {timeout:g} s ({exc}); is it running?") from exc
    except Exception as exc:  # a garbled handshake raises anything from MemoryError on
        what = str(exc) if isinstance(exc, _NoHandshake) else f"{type(exc).__name__}: {exc}"
        raise ConnectionError(f"{address} did not answer as a Dask scheduler ({what}); "
                              "is it the scheduler's "
                              "address (port 8786 by default, not the dashboard's "
                              "8787)?") from exc
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise ConnectionError(f"{address} is a Dask {kind or 'server'}, not a scheduler; "
                              "pass the scheduler's address (tcp://HOST:8786 by default)")
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"could not connect to the Dask scheduler at {address} "
                              f"within {timeout:g} s: {exc}") from exc


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
        _import_distributed()  # connecting needs it: say so before anything runs
        return scheduler
    # A Client exists only if distributed has been imported: no import here.
    distributed = sys.modules.get("distributed")
    client_type = getattr(distributed, "Client", None)
    if client_type is None or not isinstance(scheduler, client_type):
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
    """Runs independent calls ``function(*args)``, returning results in input order.

    ``scheduler=None`` runs in this process: one call after another for
    ``n_jobs == 1``, otherwise on a :class:`joblib.Parallel` pool of
    ``n_jobs`` worker processes (loky), kept open for the runner's lifetime
    so a sample-complexity search does not start a pool per ``m``.
    Otherwise the calls go to a ``distributed`` cluster through the given
    Client, or through one connected to the given address and closed on
    exit.

    The cluster path stays hand-written rather than joblib's Dask backend:
    that backend needs the Client registered as the default one (a global
    this library should not set for a caller's Client) and reports nothing
    per call, while here each finished future ticks the progress bar and the
    first failing trial raises at once.  Every call is a deterministic
    function of its arguments (the trial's seed is one of them), so the
    three paths return identical results (tests/test_sweeps.py).
    """

    def __init__(self, scheduler, n_jobs: int):
        self._scheduler = scheduler
        self._workers = _local_workers(n_jobs)
        self._client = None
        self._parallel = None
        self._owned = []

    @property
    def remote(self) -> bool:
        """Whether calls leave this process (the factories must pickle)."""
        return self._scheduler is not None or self._workers > 1

    def __enter__(self):
        if isinstance(self._scheduler, str):
            _import_distributed()
            import dask
            from dask.utils import parse_timedelta

            timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"),
                                      default="seconds")
            try:
                self._client = _connect_client(self._scheduler, timeout)
            except ConnectionError as exc:
                raise ConnectionError(f"{exc} (dask config "
                                      "'distributed.comm.timeouts.connect')") from exc.__cause__
            self._owned.append(self._client.close)
        elif self._scheduler is not None:
            self._client = self._scheduler
        elif self._workers > 1:
            from joblib import Parallel

            # batch_size=1: trials are long and uneven, and each finished one
            # should tick the bar; the generator yields in input order.  Two
            # trials queued per worker (joblib's default pre_dispatch), not all:
            # with every trial queued, Ctrl-C raced loky's queue feeder, which
            # printed a KeyError traceback from its manager thread (1 of 2
            # interrupted runs of 5000 trials, n_jobs=2; 0 of 5 with this).
            self._parallel = Parallel(n_jobs=self._workers, backend="loky", batch_size=1,
                                      pre_dispatch="2 * n_jobs", return_as="generator")
            self._parallel.__enter__()
            self._owned.append(lambda: self._parallel.__exit__(None, None, None))
        return self

    def __exit__(self, *exc_info):
        # A Client we connected is closed (Client.shutdown would stop the
        # cluster too); the process pool is released.
        for close in reversed(self._owned):
            close()
        self._owned.clear()
        self._parallel = None

    def map(self, function, calls: list[tuple], bar) -> list:
        """``[function(*args) for args in calls]``, ticking ``bar`` per call."""
        if self._client is not None:
            return self._map_distributed(function, calls, bar,
                                         f"sparselearn-trial-{uuid.uuid4().hex}")
        if self._parallel is not None:
            from joblib import delayed

            outcomes = []
            for outcome in self._parallel(delayed(function)(*args) for args in calls):
                outcomes.append(outcome)
                bar.update()
            return outcomes
        outcomes = []
        for args in calls:
            outcomes.append(function(*args))
            bar.update()
        return outcomes

    def _map_distributed(self, function, calls, bar, name):
        """Submit every call, tick ``bar`` as each finishes, raise the first
        failing trial's exception; and never wait forever on a cluster whose
        workers died: with no worker for the connect timeout (dask config
        ``distributed.comm.timeouts.connect``, which ``sparselearn verify
        --connect-timeout`` sets), or a trial whose workers kept dying, raise
        a ConnectionError saying so."""
        import dask
        from dask.utils import parse_timedelta
        from distributed import KilledWorker

        patience = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"),
                                   default="seconds")
        futures = [self._client.submit(function, *args, key=f"{name}-{i}")
                   for i, args in enumerate(calls)]
        pending, alone_since, checked = list(futures), None, time.monotonic()
        try:
            while pending:
                # Future.done() reads this client's own state (no default
                # client needed, unlike distributed.wait).
                finished = [future.done() for future in pending]
                done = [future for future, over in zip(pending, finished) if over]
                pending = [future for future, over in zip(pending, finished) if not over]
                for future in done:
                    if future.status == "error":
                        try:
                            future.result()  # raises the trial's exception here
                        except KilledWorker as exc:
                            raise ConnectionError(
                                f"the Dask workers running a trial kept dying ({exc}); "
                                "are they running out of memory?") from exc
                    bar.update()
                if done or time.monotonic() - checked < _LIVENESS_POLL:
                    if not done:
                        time.sleep(_FUTURES_POLL)
                    continue
                checked = time.monotonic()
                if self._client.scheduler_info().get("workers"):
                    alone_since = None
                elif alone_since is None:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > patience:
                    raise ConnectionError(
                        f"the Dask cluster at {self._client.scheduler.address} lost all its "
                        f"workers: none for {patience:g} s, {len(pending)} of "
                        f"{len(futures)} trials unfinished; restart the workers and run "
                        "again (how long to wait: sparselearn verify --connect-timeout, "
                        "dask config 'distributed.comm.timeouts.connect' in Python)")
            return self._client.gather(futures)
        finally:
            self._client.cancel(futures)
