"""Test configuration shared by the whole suite.

Hypothesis runs derandomized (examples are a fixed function of the test),
so CI is deterministic, and without a per-example deadline, since the
2-core CI machine's timings are not what the tests are about.
"""
import os
import signal

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=200)
# The per-variant runs of the kernel twin tests (tests/test_kernels.py) repeat
# tests the main run already made on the default variant; fewer examples.
settings.register_profile("variant", parent=settings.get_profile("ci"), max_examples=6)
settings.load_profile(os.environ.get("SPARSELEARN_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _children_take_ctrl_c():
    """Child processes start with SIGINT at its default, as from a terminal.
    A suite started in the background by a script (``pytest &``) inherits
    SIGINT ignored, and so would every command it starts: the Ctrl-C tests
    of tests/test_cli.py would then wait on a command that ignores the signal
    (as it should: tests/test_cli.py checks that too).  A Python handler in
    this process becomes the default in a child (exec resets handlers, not
    an ignored disposition)."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="module")
def dask_cluster():
    """A ``distributed.LocalCluster`` of two single-threaded worker processes
    (with nannies) on loopback and its client, per test module (a module may
    retire the workers in its last test); skipped without ``distributed``."""
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "30s"}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           host="127.0.0.1", dashboard_address=None)
        client = distributed.Client(cluster, timeout="30s", set_as_default=False)
        try:
            client.wait_for_workers(2, timeout=60)
            yield cluster, client
        finally:
            client.close(timeout=30)
            cluster.close(timeout=30)
