"""Tests for the Dask execution of sparselearn.pac and its grid sweeps.

The reproducibility contract is checked on a real cluster: a
``distributed.LocalCluster`` with two worker processes on loopback runs
``verify_pac``, ``sample_complexity_curve`` and ``verify_sweep``, and every
per-trial error must equal the serial run's exactly (same seed, any
placement).  The serial run itself is checked against a plain loop written
here from the documented seeding and a brute-force error over the cube.
"""
import csv
import functools
import json
import math
import threading

import dask
import numpy as np
import pytest
from strategies import all_cube_points

from sparselearn import SparseReLUNetwork
from sparselearn import pac
from sparselearn.pac import (PACResult, SweepResult, bump_target, low_degree_learner,
                             plot_sweep)
from sparselearn.targets import bump_network

# These tests check where and how trials run and are recorded, not what they
# decide: degree 2 cannot reach eps = 0.1 on these bump targets, so the
# pre-flight report (tests/test_pac.py) would skip the trials; it is off here.
verify_pac = functools.partial(pac.verify_pac, preflight=False)
verify_sweep = functools.partial(pac.verify_sweep, preflight=False)
sample_complexity_curve = functools.partial(pac.sample_complexity_curve, preflight=False)

distributed = pytest.importorskip("distributed")

# Small problems: n = 6 (64 cube points, exact errors), 4 units.
POINT = {"n_features": 6, "width": 4, "sparsity": 2}
LEARNER = functools.partial(low_degree_learner, {}, degree=2)
TARGET = functools.partial(bump_target, POINT)
GRID = {"n_features": [5, 6], "width": [4], "sparsity": [1, 2], "n_samples": [40, 120]}
SWEEP_LEARNER = functools.partial(low_degree_learner, degree=2)


def target_for(sparsity):
    """``make_target_for`` of a sample-complexity curve over the sparsity."""
    return functools.partial(bump_target, POINT | {"sparsity": sparsity})


def _client_count(dask_scheduler):
    return len(dask_scheduler.clients)


def assert_same_trials(a: PACResult, b: PACResult):
    np.testing.assert_array_equal(a.errors, b.errors)  # bitwise, not approximately
    np.testing.assert_array_equal(a.stderr, b.stderr)
    np.testing.assert_array_equal(a.target_norms, b.target_norms)
    assert a.seed.entropy == b.seed.entropy and a.seed.spawn_key == b.seed.spawn_key


# ------------------------------------------------ the serial run is right
def test_default_run_follows_the_documented_seeding():
    # A plain loop over the seeding in verify_pac's Notes, with the error by
    # brute force over the cube: the in-process default must agree.
    result = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=4, noise=0.5, random_state=7)
    root = np.random.SeedSequence(7)
    X_cube = all_cube_points(6)
    for i in range(4):
        child = np.random.SeedSequence(root.entropy, spawn_key=(i,))
        target_seed, sample_seed, _ = child.spawn(3)
        net = TARGET(np.random.default_rng(target_seed))
        rng = np.random.default_rng(sample_seed)
        X = 1.0 - 2.0 * rng.integers(0, 2, size=(60, 6), dtype=np.int8).astype(float)
        y = net(X) + 0.5 * rng.standard_normal(60)
        h = LEARNER().fit(X, y)
        expected = np.mean((h.predict(X_cube) - net(X_cube)) ** 2)
        assert result.errors[i] == pytest.approx(expected, rel=1e-12)


def test_local_process_pool_equals_serial():
    serial = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=4, random_state=3)
    pooled = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=4, random_state=3, n_jobs=2)
    assert_same_trials(serial, pooled)


# ------------------------------------------------ the cluster equals serial
def test_verify_pac_on_a_cluster_equals_serial(dask_cluster):
    _, client = dask_cluster
    serial = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=6, noise=0.2, random_state=11)
    remote = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=6, noise=0.2, random_state=11,
                        scheduler=client)
    assert_same_trials(serial, remote)
    assert client.status == "running"  # a Client passed in is left open


def test_address_string_connects_and_closes(dask_cluster):
    local, client = dask_cluster
    before = client.run_on_scheduler(_client_count)
    serial = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=4, random_state=5)
    remote = verify_pac(LEARNER, TARGET, 60, 0.1, 0.1, trials=4, random_state=5,
                        scheduler=local.scheduler_address)
    assert_same_trials(serial, remote)
    # The client opened for the address is closed again: only the
    # fixture's clients remain registered with the scheduler.
    assert client.run_on_scheduler(_client_count) == before


def test_lambda_factories_travel_by_value(dask_cluster):
    _, client = dask_cluster
    make_target = lambda rng: bump_network(6, 4, 2, random_state=rng)  # noqa: E731
    make_learner = lambda: low_degree_learner({}, degree=1)  # noqa: E731
    serial = verify_pac(make_learner, make_target, 50, 0.1, 0.1, trials=3, random_state=2,
                        eps_scale="absolute")
    remote = verify_pac(make_learner, make_target, 50, 0.1, 0.1, trials=3, random_state=2,
                        scheduler=client, eps_scale="absolute")
    assert_same_trials(serial, remote)


def test_sample_complexity_curve_on_a_cluster_equals_serial(dask_cluster):
    _, client = dask_cluster
    args = (LEARNER, target_for, [1, 2], 0.3, 0.5, 4)
    kwargs = dict(m_grid=[20, 80, 320], random_state=9)
    serial = sample_complexity_curve(*args, **kwargs)
    remote = sample_complexity_curve(*args, **kwargs, scheduler=client)
    assert remote.to_dict() == serial.to_dict()
    assert remote.min_samples == serial.min_samples


def test_verify_sweep_on_a_cluster_equals_serial(dask_cluster, capsys, monkeypatch):
    local, client = dask_cluster
    monkeypatch.setenv("SPARSELEARN_PROGRESS_INTERVAL", "1e-4")  # lines even for a short run
    serial = verify_sweep(SWEEP_LEARNER, bump_target, GRID, 0.3, 0.2, 3, random_state=4)
    remote = verify_sweep(SWEEP_LEARNER, bump_target, GRID, 0.3, 0.2, 3, random_state=4,
                          scheduler=client, progress=True)
    assert "PAC sweep (8 points)" in capsys.readouterr().err
    by_address = verify_sweep(SWEEP_LEARNER, bump_target, GRID, 0.3, 0.2, 3,
                              random_state=4, scheduler=local.scheduler_address)
    assert len(serial) == 8
    assert len(serial.results) == len(remote.results) == len(by_address.results) == 8
    for a, b, c in zip(serial.results, remote.results, by_address.results):
        assert_same_trials(a, b)
        assert_same_trials(a, c)
    assert serial.to_records() == remote.to_records()


# ------------------------------------------------ seeds follow coordinates
def test_sweep_rows_depend_on_their_own_coordinates_only():
    full = verify_sweep(SWEEP_LEARNER, bump_target, GRID, 0.3, 0.2, 3, random_state=4)
    # A reordered sub-grid reproduces its rows exactly.
    sub = verify_sweep(SWEEP_LEARNER, bump_target,
                       {"n_samples": [120], "sparsity": [2, 1], "width": [4],
                        "n_features": [6]}, 0.3, 0.2, 3, random_state=4)
    rows = {tuple(sorted(p.items())): r for p, r in zip(full.points, full.results)}
    for point, result in zip(sub.points, sub.results):
        assert_same_trials(rows[tuple(sorted(point.items()))], result)
    # Each row replays alone through verify_pac with its recorded seed.
    point, row = full.points[5], full.results[5]
    alone = verify_pac(functools.partial(SWEEP_LEARNER, point),
                       functools.partial(bump_target, point), point["n_samples"], 0.3,
                       0.2, 3, random_state=row.seed)
    assert_same_trials(row, alone)
    # Rows differing only in n_samples share targets (common random numbers).
    m40, m120 = full.results[0], full.results[1]
    assert full.points[0]["n_samples"] == 40 and full.points[1]["n_samples"] == 120
    assert m40.seed.spawn_key == m120.seed.spawn_key
    np.testing.assert_array_equal(m40.target_norms, m120.target_norms)
    # Distinct points get distinct seeds.
    assert len({r.seed.spawn_key for r in full.results}) == 4


# ------------------------------------------------ results and outputs
def test_sweep_result_records_csv_json(tmp_path):
    result = verify_sweep(SWEEP_LEARNER, bump_target,
                          {"n_features": [6], "width": [4], "sparsity": [1],
                           "n_samples": [30, 200]}, 0.2, 0.2, 5, random_state=0)
    assert isinstance(result, SweepResult) and result.param_names[-1] == "n_samples"
    records = result.to_records()
    for record, pac in zip(records, result.results):
        assert record["successes"] == int(np.sum(pac.errors <= 0.2))
        assert (record["ci_lower"], record["ci_upper"]) == pac.interval
        assert record["consistent"] == (pac.interval[1] >= 0.8)
        assert record["certified"] == (pac.interval[0] >= 0.8)
        assert record["max_error"] == pac.errors.max()
        assert record["mean_error"] == pytest.approx(pac.errors.mean())
        # bump_target has E[f^2] = 1 exactly (n = 6 <= exact_max_n).
        assert record["mean_target_norm"] == pytest.approx(1.0, rel=1e-12)
    assert result.to_csv(tmp_path / "sweep.csv") == str(tmp_path / "sweep.csv")
    with open(tmp_path / "sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and rows[1]["n_samples"] == "200"
    assert list(rows[0]) == list(records[0]) == result._frame_columns()  # the header
    assert float(rows[0]["mean_error"]) == pytest.approx(records[0]["mean_error"])
    assert result.to_json(tmp_path / "sweep.json") == str(tmp_path / "sweep.json")
    payload = json.loads((tmp_path / "sweep.json").read_text())
    assert payload["rows"][1]["errors"] == result.results[1].errors.tolist()
    assert payload["delta"] == 0.2 and payload["param_names"] == list(result.param_names)
    text = str(result)
    assert "PAC sweep" in text and len(text.splitlines()) == 3 + 2
    assert "points=2" in repr(result)
    # The shared result interface: one frame row per point, the records' columns.
    pytest.importorskip("pandas")
    frame = result.to_frame()
    assert frame.to_dict("records") == records
    assert list(frame.columns) == list(records[0])
    assert "n_draws" in frame.columns and "stderr" in payload["rows"][0]
    assert result._repr_html_().startswith("<div><strong>SweepResult</strong><pre>PAC sweep")


def test_plot_sweep(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    result = verify_sweep(SWEEP_LEARNER, bump_target,
                          {"n_features": [6], "width": [4], "sparsity": [1, 2],
                           "n_samples": [30, 200]}, 0.2, 0.2, 3, random_state=0)
    ax = plot_sweep(result)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "n_samples"
    # One error-bar container per sparsity; its first line holds the data.
    fractions = sorted(c.lines[0].get_ydata().tolist() for c in ax.containers)
    expected = sorted([[r["success_fraction"] for r in result.to_records()
                        if r["sparsity"] == k] for k in (1, 2)])
    assert fractions == expected
    ax = plot_sweep(result, x="sparsity", y="max_error")
    assert ax.get_yscale() == "log"
    ax.figure.savefig(tmp_path / "sweep.png")
    with pytest.raises(TypeError, match="SweepResult"):
        plot_sweep("sweep")
    with pytest.raises(ValueError, match="x must be one of the grid parameters"):
        plot_sweep(result, x="eps")
    with pytest.raises(ValueError, match="y must be"):
        plot_sweep(result, y="errors")


def test_plot_sweep_without_matplotlib_names_the_extra(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    result = verify_sweep(SWEEP_LEARNER, bump_target, {k: [v] for k, v in POINT.items()} |
                          {"n_samples": [30]}, 0.2, 0.2, 1, random_state=0)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="pip install sparselearn\\[plot\\]"):
        plot_sweep(result)


# ------------------------------------------------ factories
@pytest.mark.parametrize("n, exact", [(6, True), (18, False)])
def test_bump_target_has_unit_second_moment(n, exact):
    rng = np.random.default_rng(1)
    net = bump_target({"n_features": n, "width": 6, "sparsity": 3}, rng)
    assert isinstance(net, SparseReLUNetwork) and net.n_features == n
    reference = bump_network(n, 6, 3, random_state=np.random.default_rng(1))
    # Same hidden layer (so the same sparsity), output layer rescaled.
    np.testing.assert_array_equal(net.weights, reference.weights)
    np.testing.assert_array_equal(net.biases, reference.biases)
    if exact:
        assert np.mean(net(all_cube_points(n)) ** 2) == pytest.approx(1.0, rel=1e-12)
    else:
        # Scaled by a 2^16-point estimate; checked on 2^17 fresh points.  The
        # relative error of each estimate is sqrt(Var[f^2] / N) / E[f^2]; the
        # 8-sigma band fails with probability < 1e-14 (fixed seed: never).
        X = 1.0 - 2.0 * np.random.default_rng(2).integers(0, 2, size=(2**17, n)).astype(float)
        f2 = net(X) ** 2
        band = 8 * np.std(f2) / np.mean(f2) * (2**-8 + 2**-8.5)
        assert abs(np.mean(f2) - 1.0) <= band


def test_low_degree_learner_reads_the_grid_point():
    learner = low_degree_learner({"degree": 3}, degree=1)
    assert learner.degree == 3 and learner.n_jobs == 1 and learner.random_state == 0
    learner = low_degree_learner({"max_degree": 2}, alpha=0.5)
    assert learner.degree is None and learner.max_degree == 2 and learner.alpha == 0.5
    assert not hasattr(learner, "coef_")  # unfitted


# ------------------------------------------------ bad arguments
class Unpicklable:
    """A factory holding a lock: callable, but cannot be sent to a worker."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, *args):
        raise AssertionError("refused before any call")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(scheduler=3), TypeError, "scheduler must be None .in-process.*got int"),
    (dict(scheduler="threads"), ValueError, "scheduler must be a Dask scheduler address"),
    (dict(scheduler="127.0.0.1:8786"), ValueError, "'tcp://HOST:PORT'"),
    (dict(scheduler="tcp://127.0.0.1:8786", n_jobs=2), ValueError,
     "n_jobs=2 applies to the in-process scheduler only"),
    (dict(n_jobs=2, make_target=Unpicklable()), TypeError,
     "make_target must be picklable.*functools.partial"),
    (dict(scheduler="tcp://127.0.0.1:8786", make_learner=Unpicklable()), TypeError,
     "make_learner must be picklable"),
])
def test_bad_scheduler_arguments(kwargs, error, match):
    args = dict(make_learner=LEARNER, make_target=TARGET, n_samples=20, eps=0.1, delta=0.1,
                trials=2, random_state=0) | kwargs
    with pytest.raises(error, match=match):
        verify_pac(**args)


def test_unreachable_address_is_one_clear_error():
    # Nothing listens on port 1; connection attempts stop after the
    # configured connect timeout.
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(ConnectionError, match="could not connect to the Dask scheduler "
                                                  "at tcp://127.0.0.1:1"):
            verify_pac(LEARNER, TARGET, 20, 0.1, 0.1, 2, scheduler="tcp://127.0.0.1:1")


def _verify_within(seconds, **kwargs):
    """verify_pac(..., **kwargs) in a thread: its exception, or a failure if
    it has not returned within ``seconds`` (it used to hang for ever)."""
    outcome = []

    def run():
        try:
            verify_pac(LEARNER, TARGET, 20, 0.1, 0.1, 2, **kwargs)
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"verify_pac({kwargs}) still waiting after {seconds} s"
    return outcome[0]


def test_a_server_that_never_answers_is_a_connection_error_within_the_timeout():
    """A listening socket nobody reads: the TCP connect succeeds and dask's
    handshake waited for ever (Client(address) bounds only the connect)."""
    import socket

    with socket.socket() as server, \
            dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # the kernel completes the connections; nobody speaks
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        error = _verify_within(15, scheduler=address)
    assert isinstance(error, ConnectionError), repr(error)
    assert f"{address} did not answer as a Dask scheduler (connected, but no Dask " \
           "handshake within 1 s)" in str(error)


def test_a_server_that_is_not_a_scheduler_is_named(dask_cluster):
    """An HTTP server (the dashboard's port) raised MemoryError from dask's
    frame reader, a worker's address a TypeError from Worker.identity."""
    import http.server

    _, client = dask_cluster
    web = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    worker = next(iter(client.scheduler_info()["workers"]))
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            not_dask = _verify_within(15, scheduler=f"tcp://127.0.0.1:{web.server_port}")
            a_worker = _verify_within(15, scheduler=worker)
    finally:
        web.shutdown()
        web.server_close()
    assert isinstance(not_dask, ConnectionError), repr(not_dask)
    assert "did not answer as a Dask scheduler" in str(not_dask)
    assert isinstance(a_worker, ConnectionError), repr(a_worker)
    assert f"{worker} is a Dask Worker, not a scheduler" in str(a_worker)


def test_closed_client_and_cluster_objects_are_refused(dask_cluster):
    local, _ = dask_cluster
    with pytest.raises(TypeError, match="dask.distributed.Client"):
        verify_pac(LEARNER, TARGET, 20, 0.1, 0.1, 2, scheduler=local)
    client = distributed.Client(local, timeout="30s", set_as_default=False)
    client.close()
    with pytest.raises(ValueError, match="Client is closed"):
        verify_pac(LEARNER, TARGET, 20, 0.1, 0.1, 2, scheduler=client)


def test_trial_errors_on_workers_reach_the_caller(dask_cluster):
    _, client = dask_cluster
    with pytest.raises(ValueError, match="network on n=6 inputs, expected n=5"):
        verify_pac(LEARNER, TARGET, 20, 0.1, 0.1, 2, n_features=5, scheduler=client)


@pytest.mark.parametrize("grid, error, match", [
    ([("n_samples", [10])], TypeError, "grid must be a dict"),
    ({"width": [4]}, ValueError, "grid must have an 'n_samples' entry"),
    ({"n_samples": 10}, TypeError, "grid\\['n_samples'\\] must be a list"),
    ({"n_samples": []}, ValueError, "grid\\['n_samples'\\] is empty"),
    ({"n_samples": [10, 10]}, ValueError, "repeated values"),
    ({"n_samples": [0]}, ValueError, r"n_samples'\]\[0\] must be >= 1"),
    ({"n_samples": [20, 10.5]}, TypeError, r"grid\['n_samples'\]\[1\] must be an integer"),
    ({"n_samples": [10], "trials": [3]}, ValueError, "clashes with a result column"),
    ({"n_samples": [10], "bad name": [3]}, ValueError, "must be identifiers"),
    ({"n_samples": [10], "width": [None]}, TypeError, "finite numbers, strings or bools"),
    ({"n_samples": [10], "width": [math.inf]}, TypeError, "finite numbers"),
])
def test_verify_sweep_bad_grid(grid, error, match):
    with pytest.raises(error, match=match):
        verify_sweep(SWEEP_LEARNER, bump_target, grid, 0.1, 0.1, 2)


def test_bump_target_names_missing_parameters():
    with pytest.raises(ValueError, match="bump_target needs grid parameter 'sparsity'"):
        verify_sweep(SWEEP_LEARNER, bump_target,
                     {"n_features": [6], "width": [4], "n_samples": [10]}, 0.1, 0.1, 2)


def test_grid_n_features_is_the_cube_dimension():
    # A plain-callable target needs n from the grid; a network must match it.
    def parity_target(params, rng):
        return lambda X: X[:, 0] * X[:, 1]

    result = verify_sweep(functools.partial(low_degree_learner, degree=2), parity_target,
                          {"n_features": [4], "n_samples": [64]}, 1e-6, 0.1, 2,
                          random_state=0)
    assert result.results[0].n_features == 4 and result.results[0].successes == 2
    with pytest.raises(ValueError, match="network on n=6 inputs, expected n=5"):
        verify_sweep(SWEEP_LEARNER, lambda params, rng: TARGET(rng),
                     {"n_features": [5], "n_samples": [10]}, 0.1, 0.1, 2)


# ---------------------------------------- agnostic: targets outside the class
def _unit_bump_network():
    """bump_network(8, 6, 2, seed 0) scaled to E[f^2] = 1 over the cube, and
    its exact tails W^{>d}[f] (Sylvester-Hadamard: chi_S(x_i) = H[i, S] in
    the cube index convention), computed here without the library."""
    from scipy.linalg import hadamard

    net = bump_network(8, 6, 2, random_state=0)
    values = net(all_cube_points(8))
    scale = math.sqrt(np.mean(values**2))
    net = SparseReLUNetwork(net.weights, net.biases, net.output_weights / scale,
                            net.output_bias / scale)
    fhat = hadamard(256) @ (values / scale) / 256
    degree = np.array([bin(S).count("1") for S in range(256)])
    return net, np.array([np.sum(fhat[degree > d] ** 2) for d in range(9)])


def test_verify_sweep_agnostic_mode_judges_each_point_against_its_class():
    # W^{>2}[f] = 0.84: no degree-2 hypothesis reaches the target.  At
    # m = 20 D the agnostic excess E[(h - f)^2] - W^{>2} exceeds `term` with
    # probability <= delta per trial (Markov on its expectation
    # D W^{>2} / (m - D - 1), as in tests/test_pac.py), so that point is
    # consistent at 99.8% except with probability <= 0.1%.
    from sparselearn.learners import LowDegreeRegressor

    net, tails = _unit_bump_network()
    D, delta = 1 + 8 + 28, 0.1
    m = 20 * D
    term = D * tails[2] / (m - D - 1) / delta
    grid = {"degree": [2], "n_samples": [m // 4, m]}
    learner = lambda point: LowDegreeRegressor(degree=point["degree"])  # noqa: E731
    kwargs = dict(confidence=0.998, random_state=3, eps_scale="absolute")
    sweep = pac.verify_sweep(learner, lambda point, rng: net, grid, term, delta, 20,
                             agnostic=True, **kwargs)
    for result in sweep.results:
        assert result.agnostic and result.trials == 20
        np.testing.assert_allclose(result.class_errors, tails[2], rtol=1e-9)
        assert np.all(result.errors >= tails[2] * (1 - 1e-9))  # Parseval
        # The point is verify_pac(agnostic=True) at its recorded seed.
        single = pac.verify_pac(lambda: learner({"degree": 2}), lambda rng: net,
                                result.n_samples, term, delta, 20, agnostic=True,
                                **(kwargs | {"random_state": result.seed}))
        assert_same_trials(result, single)
        assert result.successes == single.successes
    assert sweep.results[1].consistent, str(sweep)
    json.dumps(sweep.to_dict(), allow_nan=False)
    # The realizable reading of the same tolerance is out of the class's reach.
    with pytest.warns(pac.InfeasibleWarning):
        realizable = pac.verify_sweep(learner, lambda point, rng: net, grid, term, delta, 20,
                                      **kwargs)
    assert [r["feasible"] for r in realizable.to_records()] == [False, False]
