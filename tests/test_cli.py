"""Tests for the command line: every command, its JSON output, and its
handling of bad input (one line on stderr, non-zero exit, no traceback)."""
import contextlib
import csv
import itertools
import json
import re
import subprocess
import sys
from io import StringIO

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparselearn import SparseReLUNetwork, cli
from sparselearn.targets import junta_network, random_network


def run(*argv):
    """``sparselearn ARGV`` in this process: (exit code, stdout, stderr).

    In-process because a child interpreter costs about 1.5 s before any work
    and these tests run it over a hundred times; argparse's ``--help`` and
    usage errors end in ``SystemExit``, mapped to the status the interpreter
    would exit with (``None`` 0, an int itself, anything else 1).  The
    fresh-interpreter path itself is tested by
    ``test_fuzzed_files_through_the_cli`` and the README tests."""
    out, err = StringIO(), StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
            code = 0 if code is None else code if isinstance(code, int) else 1
    return code, out.getvalue(), err.getvalue()


def test_demo_report(tmp_path):
    figure = tmp_path / "demo.png"
    code, out, err = run("demo", "--n", "12", "--width", "12", "--sparsity", "3",
                         "--samples", "1500", "--trials", "4", "--plot", str(figure),
                         "--json")
    assert code == 0
    report = json.loads(out)
    # A sum of 3 juntas has exactly 3 active units at every point of the cube.
    assert report["certified_sparsity"] == 3
    assert report["activation_histogram"] == [0, 0, 0, 2**12] + [0] * 9
    # Degree log2(12 / 3) = 2: validation picks it and the tail beyond is empty.
    assert report["degree"] == 2
    assert report["best_possible_error"] < 1e-20
    # Least squares with noise sigma = 0.1: excess error about sigma^2 D / m
    # = 0.01 * 79 / 1500 ~ 5e-4; 10x that is a > 5-sigma deviation.
    assert report["excess_error"] < 5e-3
    assert report["pac"]["successes"] == 4
    assert figure.stat().st_size > 0


def test_demo_bump_target_text():
    code, out, _ = run("demo", "--target", "bump", "--n", "12", "--width", "8",
                       "--sparsity", "2", "--samples", "600", "--trials", "2",
                       "--max-degree", "2", "--quiet")
    assert code == 0
    assert "max |A(x)| over all 2^12 points = 2" in out
    assert "PAC verification" in out


def test_demo_says_when_the_samples_are_too_few_for_the_degree():
    # The bump target at n=12 needs degree 2 here (--max-degree 2): D = 79
    # parities, so m = 120 < 2D gets the note and m = 600 (the test above) not.
    code, out, _ = run("demo", "--target", "bump", "--n", "12", "--width", "8",
                       "--sparsity", "2", "--samples", "120", "--trials", "2",
                       "--max-degree", "2", "--degree", "2", "--quiet")
    assert code == 0
    assert ("note        m=120 is under twice the 79 parities of degree 2: too few samples"
            in out)
    code, out, _ = run("demo", "--target", "bump", "--n", "12", "--width", "8",
                       "--sparsity", "2", "--samples", "600", "--trials", "2",
                       "--max-degree", "2", "--degree", "2", "--quiet")
    assert code == 0 and "note " not in out


def test_certify_saved_network(tmp_path):
    path = tmp_path / "junta.npz"
    junta_network(lambda z: z.prod(axis=1), [0, 2, 4], 9).save(path)
    code, out, _ = run("certify", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["certified_sparsity"] == 1
    assert report["activation_histogram"] == [0, 2**9] + [0] * 7


def test_certify_text_shows_the_ends_of_a_long_histogram(tmp_path):
    # <w, x> with w = (1, 2, 4, 8) takes the 16 odd values -15..15, one point
    # each; unit j is active where it exceeds 2j - 16, so the 16 points have
    # 1..16 active units: 16 nonzero bins, of which the text shows 6 + 6 and
    # the JSON all.
    s = 16
    net = SparseReLUNetwork(np.tile([1.0, 2.0, 4.0, 8.0], (s, 1)),
                            2.0 * np.arange(s) - 16.0, np.ones(s))
    path = tmp_path / "ladder.npz"
    net.save(path)
    code, out, _ = run("certify", str(path))
    assert code == 0
    line = next(line for line in out.splitlines() if line.strip().startswith("histogram"))
    assert line.split(None, 1)[1] == ("{1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, ... 4 more counts "
                                      "..., 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1}")
    code, out, _ = run("certify", str(path), "--json")
    assert json.loads(out)["activation_histogram"] == [0] + [1] * s


def test_certify_histogram_is_bounded_by_its_flag_not_the_library_guard(tmp_path, monkeypatch):
    """--histogram-max-n is the user's limit: a wide network under it failed
    with exit 2 after certifying (the library's 2^40-evaluation guard, here
    shrunk to 10 so that a small walk trips it)."""
    from sparselearn import cube
    monkeypatch.setattr(cube.activation_histogram, "__kwdefaults__", {"max_evaluations": 10})
    path = tmp_path / "junta.npz"
    junta_network(lambda z: z.prod(axis=1), [0, 2, 4], 9).save(path)
    code, out, err = run("certify", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["activation_histogram"] == [0, 2**9] + [0] * 7


def test_certify_reports_time_limit_without_claiming_a_value(tmp_path):
    # A dense random network on 2^48 points: far beyond any budget.
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    code, _, err = run("certify", str(path), "--time-limit", "0.5")
    assert code == cli.EXIT_USAGE
    assert "not certified" in err and "at least" in err
    assert "Traceback" not in err
    # With --json the report of what was proved still reaches stdout (exit 2).
    code, out, err = run("certify", str(path), "--time-limit", "0.5", "--json")
    assert code == cli.EXIT_USAGE and "not certified" in err
    report = json.loads(out)
    assert report["certified"] is False and report["upper_bound"] is None
    witness = np.array(report["witness"], dtype=float)
    assert witness.shape == (48,) and np.all(np.abs(witness) == 1)
    # The lower bound is the exact count at the witness.
    net = SparseReLUNetwork.load(path)
    assert report["lower_bound"] == int(net.activation_counts(witness[None, :])[0])


@pytest.mark.parametrize("argv, message", [
    (["certify", "missing.npz"], "no such file"),
    (["demo", "--target", "bump", "--width", "2", "--sparsity", "3"],
     "k=3 exceeds the width s=2"),
    (["demo", "--width", "10", "--sparsity", "3"], "--width = sparsity * 2^t"),
    (["demo", "--n", "30"], "keeps n <= 24"),
    (["verify", "--width", "2", "--sparsity", "3"], "k=3 exceeds the width s=2"),
    (["verify", "--scheduler", "not-an-address"], "scheduler"),
])
def test_errors_are_one_line(argv, message):
    code, _, err = run(*argv)
    assert code == cli.EXIT_USAGE
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_network_file(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"garbage")
    code, _, err = run("certify", str(path))
    assert code == cli.EXIT_USAGE and "not a readable .npz" in err


@pytest.mark.parametrize("argv", [["demo", "--n", "0"], ["demo", "--width", "x"],
                                  ["nonsense"], []])
def test_bad_flags_exit_with_usage_error(argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)  # argparse's own exit, which run() would hide
    assert info.value.code == cli.EXIT_USAGE


@pytest.mark.parametrize("command", ["demo", "verify", "learn"])
def test_a_negative_seed_is_refused_naming_the_flag(command):
    # Not the library's "random_state must be non-negative", which names no flag.
    err = _one_line_exit_2(command, *(["DATA.csv"] if command == "learn" else []),
                           "--seed", "-1")
    assert "argument --seed: expected a non-negative integer, got -1" in err


@pytest.mark.parametrize("argv, message", [
    # The library's messages named n_jobs, delta, noise and max_degree, not the flags.
    (["verify", "--jobs", "0"], "argument --jobs: expected a positive integer or -1"),
    (["verify", "--jobs", "-2"], "argument --jobs: expected a positive integer or -1"),
    (["verify", "--delta", "1.5"], "argument --delta: expected a number strictly between"),
    (["demo", "--delta", "1"], "argument --delta: expected a number strictly between"),
    (["verify", "--noise", "-1"], "argument --noise: expected a number >= 0, got '-1'"),
    (["demo", "--noise", "nan"], "argument --noise: expected a number >= 0, got 'nan'"),
    (["verify", "--max-degree", "-1"], "argument --max-degree: expected a non-negative"),
    (["demo", "--max-degree", "-1"], "argument --max-degree: expected a non-negative"),
])
def test_pac_flags_out_of_range_are_refused_naming_the_flag(argv, message):
    assert message in _one_line_exit_2(*argv)


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "sparselearn", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.startswith("sparselearn ")


def test_bounds_table_and_json():
    code, out, _ = run("bounds", "--n", "100", "--width", "64", "--sparsity", "2",
                       "--samples", "1000")
    assert code == 0 and "envelope" in out and "ADKM Conjecture 20" in out
    code, out, _ = run("bounds", "--n", "100", "--width", "64", "--sparsity", "2",
                       "--samples", "1000", "--W", "0.5", "--B", "2", "--json")
    report = json.loads(out)  # strict JSON: no NaN literals
    rows = {row["name"]: row for row in report["rows"]}
    # Envelope k (A + B) with A = W R and R defaulting to the cube's sqrt(n) = 10.
    assert rows["envelope"]["value"] == pytest.approx(2 * (0.5 * 10 + 2))
    assert rows["dense"]["value"] == pytest.approx(2 * 64 * (0.5 * 10 + 2) / 1000**0.5)
    assert rows["ADKM Conjecture 20"]["kind"] == "rate"
    assert report["best_upper"] == min(rows[name]["value"]
                                       for name in ("envelope", "dense", "sparse upper"))


def test_bounds_bad_parameters():
    code, _, err = run("bounds", "--n", "10", "--width", "2", "--sparsity", "3",
                       "--samples", "10")
    assert code == cli.EXIT_USAGE and "k=3 exceeds the width" in err
    code, _, err = run("bounds", "--n", "10", "--width", "2", "--sparsity", "1",
                       "--samples", "10", "--B", "-1")
    assert code == cli.EXIT_USAGE and "B must be >= 0" in err


def test_bounds_huge_counts_are_usage_errors():
    """--samples or --n beyond float64 ended in an internal error (exit 1,
    OverflowError: int too large to convert to float)."""
    huge = "1" + "0" * 400
    for flag in ("--samples", "--n"):
        argv = {"--n": "10", "--width": "4", "--sparsity": "2", "--samples": "10", flag: huge}
        code, _, err = run("bounds", *itertools.chain(*argv.items()))
        assert code == cli.EXIT_USAGE and "must be at most 2**53" in err
        assert len(err.strip().splitlines()) == 1


def _docs_network():
    """The network of docs/rademacher.rst's recipe: max|u| = 2, max||w|| = sqrt(2),
    max|b| = 1, so W = 2 sqrt(2) and B = 2 by hand.  On {-1,1}^3 units 0 to 2
    (x_j - 1 > 0) are never active and unit 3 (-x_0 - x_1 - 0.5 > 0) is at
    x_0 = x_1 = -1: its certified sparsity is 1."""
    return SparseReLUNetwork([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0],
                              [-1.0, -1.0, 0.0]], [1.0, 1.0, 1.0, 0.5], [0.5, -1.0, 2.0, 1.0])


def test_bounds_on_a_network_and_its_sample_is_the_library_recipe(tmp_path):
    """bounds --network --data reads k (most active units on a row), W and B
    (norm_bounds), R (largest row norm) and m (rows) off the network and the
    sample, as docs/rademacher.rst's recipe does for bounds(); the same
    table from a .npy, a .npz and a CSV with a header."""
    from sparselearn.rademacher import bounds

    net = _docs_network()
    path = tmp_path / "net.npz"
    net.save(path)
    X = np.random.default_rng(0).normal(size=(500, 3))
    R = _smallest_float_radius(X)
    expected = bounds(n=3, s=4, k=3, W=2 * np.sqrt(2), B=2.0, R=R, m=500)
    assert net.max_active(X) == 3  # the docs' value, at this seed
    np.save(tmp_path / "X.npy", X)
    np.savez(tmp_path / "X.npz", X=X)
    np.savetxt(tmp_path / "X.csv", X, delimiter=",", header="a,b,c", comments="",
               fmt="%.17g")
    for data in ("X.npy", "X.npz", "X.csv"):
        code, out, err = run("bounds", "--network", str(path), "--data",
                             str(tmp_path / data), "--json")
        assert code == 0 and err == ""
        report = json.loads(out)
        assert (report["k"], report["m"], report["R"], report["in_class"]) == (3, 500, R, True)
        assert report["W"] == pytest.approx(2 * np.sqrt(2), rel=1e-15) and report["B"] == 2.0
        assert [row["value"] for row in report["rows"]] == pytest.approx(
            [row.value for row in expected.rows], rel=1e-14)
        assert report["best_upper"] == pytest.approx(expected.best_upper, rel=1e-14)
        assert report["read_off"]["k"] == f"most active units on a row of {tmp_path / data}"
    code, out, _ = run("bounds", "--network", str(path), "--data",
                       str(tmp_path / "X.npy"))
    assert code == 0 and "the network is in this class on the sample" in out
    assert str(expected) in out
    # Explicit flags override what is read off; the report says the network
    # is then not in the class (k = 1 < 3, W = 1 < 2 sqrt 2).
    code, out, _ = run("bounds", "--network", str(path), "--data",
                       str(tmp_path / "X.npy"), "--sparsity", "1", "--W", "1", "--R", "5",
                       "--samples", "10", "--json")
    report = json.loads(out)
    assert (report["k"], report["W"], report["B"], report["R"], report["m"]) == (
        1, 1.0, 2.0, 5.0, 10)
    assert report["in_class"] is False and report["within_R"] is True
    assert report["best_upper"] == bounds(3, 4, 1, 1.0, 2.0, 5.0, 10).best_upper
    # An --R below the sample's radius: the bounds are not about this sample.
    code, out, _ = run("bounds", "--network", str(path), "--data",
                       str(tmp_path / "X.npy"), "--R", "0.1")
    assert code == 0 and "the network is in this class on the sample" in out
    assert (f"the sample is NOT within radius R: its largest row norm is {R:.6g} > R = 0.1"
            in out)


def _smallest_float_radius(X):
    """The smallest float64 at or above every row norm, by exact arithmetic."""
    from fractions import Fraction

    square = max(sum(Fraction(v) ** 2 for v in row) for row in X.tolist())
    R = float(np.linalg.norm(X, axis=1).max())
    while Fraction(R) ** 2 < square:
        R = np.nextafter(R, np.inf)
    while Fraction(np.nextafter(R, 0.0)) ** 2 >= square:
        R = np.nextafter(R, 0.0)
    return float(R)


def test_bounds_radius_read_off_the_data_is_never_below_a_row_norm(tmp_path):
    """R must bound every row's norm; the float norm of (1.3, 0.9, -0.7) is an
    ulp below the real one, so R is the smallest float64 at or above it."""
    from fractions import Fraction

    path = tmp_path / "net.npz"
    _docs_network().save(path)
    X = np.array([[1.3, 0.9, -0.7], [0.1, 0.2, 0.3]])
    exact_square = sum(Fraction(v) ** 2 for v in X[0])
    assert Fraction(float(np.linalg.norm(X[0]))) ** 2 < exact_square  # the float is below
    np.save(tmp_path / "X.npy", X)
    code, out, _ = run("bounds", "--network", str(path), "--data",
                       str(tmp_path / "X.npy"), "--json")
    R = json.loads(out)["R"]
    assert code == 0 and Fraction(R) ** 2 >= exact_square
    assert Fraction(np.nextafter(R, 0.0)) ** 2 < exact_square  # and the smallest such float


def test_bounds_on_a_network_certified_over_the_cube(tmp_path):
    """--domain cube: k is certified over {-1,1}^n (1 for the docs' network,
    by hand), R is the cube's sqrt(n) or the sample's radius, m from
    --samples or the rows of --data (which must then be cube points)."""
    from sparselearn.rademacher import bounds

    path = tmp_path / "net.npz"
    _docs_network().save(path)
    code, out, _ = run("bounds", "--network", str(path), "--domain", "cube",
                       "--samples", "100", "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["k"], report["R"], report["m"]) == (1, pytest.approx(np.sqrt(3)), 100)
    assert "in_class" not in report
    assert report["best_upper"] == pytest.approx(
        bounds(3, 4, 1, 2 * np.sqrt(2), 2.0, np.sqrt(3), 100).best_upper, rel=1e-14)
    points = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]])
    np.save(tmp_path / "P.npy", points)
    code, out, _ = run("bounds", "--network", str(path), "--domain", "cube",
                       "--data", str(tmp_path / "P.npy"), "--json")
    report = json.loads(out)
    assert (report["k"], report["m"], report["in_class"]) == (1, 3, True)
    assert report["R"] == pytest.approx(np.sqrt(3), rel=1e-15)


def test_bounds_domain_cube_not_certified_in_time_is_one_line(tmp_path, monkeypatch):
    """A certification that runs out of --time-limit gives no k: one line
    with the lower bound found and both ways out, exit 2."""
    from sparselearn import cube

    def out_of_time(net, *, time_limit, **kwargs):
        assert time_limit == 0.5
        raise cube.CertificationIncomplete("out of time", 3, np.ones(3), 10, 0.5)

    monkeypatch.setattr(cube, "certify_sparsity", out_of_time)
    path = tmp_path / "net.npz"
    _docs_network().save(path)
    code, _, err = run("bounds", "--network", str(path), "--domain", "cube",
                       "--samples", "10", "--time-limit", "0.5")
    assert code == cli.EXIT_USAGE and len(err.strip().splitlines()) == 1
    assert ("--domain cube: not certified within --time-limit 0.5 s (the sparsity is at "
            "least 3); raise --time-limit, or pass --sparsity K") in err


def test_bounds_network_flags_refused_in_one_line(tmp_path):
    path, quiet = tmp_path / "net.npz", tmp_path / "quiet.npz"
    _docs_network().save(path)
    # Biases 10: no unit is active anywhere in the sample below.
    SparseReLUNetwork(np.eye(3), [10.0] * 3, [1.0] * 3).save(quiet)
    X = tmp_path / "X.npy"
    np.save(X, np.random.default_rng(1).normal(size=(20, 3)))
    wide = tmp_path / "wide.npy"
    np.save(wide, np.ones((5, 5)))
    net, data = ["--network", str(path)], ["--data", str(X)]
    for argv, message in [
            (data, "--data reads the class off a network's activity: pass --network FILE"),
            (["--domain", "cube", "--n", "3"], "--domain reads the class off a network's"),
            (["--n", "3", "--width", "4", "--samples", "10"], "missing --sparsity"),
            ([*net, *data, "--n", "3"], "--network fixes the input dimension and the width: "
                                        "drop --n"),
            ([*net, *data, "--width", "4"], "drop --width"),
            ([*net, "--domain", "cube", "--sparsity", "2", "--samples", "9"],
             "--domain cube certifies k and --sparsity gives it: drop one"),
            ([*net, "--domain", "data", "--samples", "9"], "--domain data reads k on the "
                                                           "rows of --data: pass --data X"),
            ([*net, "--sparsity", "2"], "pass --data X (m = its rows) or --samples M"),
            ([*net, "--samples", "9"], "pass --data X (k = the most active units on a row), "
                                       "--domain cube"),
            ([*net, *data, "--domain", "cube"], "but " + str(X) + " has entries other than"),
            ([*net, "--data", str(wide)], "5 columns, but the network takes 3 inputs"),
            (["--network", str(quiet), *data], "no unit of " + str(quiet) + " is active on "
                                               "any row"),
            ([*net, "--data", str(tmp_path / "none.npy")], "no such file")]:
        code, _, err = run("bounds", *argv)
        assert code == cli.EXIT_USAGE and message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1


@pytest.fixture
def parity_data(tmp_path):
    """A noisy degree-2 target on {-1,1}^10, as CSV (with header) and .npz."""
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(1500, 10))
    y = X[:, 2] * X[:, 7] - 0.5 * X[:, 4] + 0.05 * rng.normal(size=1500)
    csv = tmp_path / "data.csv"
    header = ",".join([f"x{i}" for i in range(10)] + ["y"])
    np.savetxt(csv, np.c_[X, y], delimiter=",", header=header, comments="")
    npz = tmp_path / "data.npz"
    np.savez(npz, X=X, y=y)
    return X, y, csv, npz


def test_learn_then_predict(tmp_path, parity_data):
    X, y, csv, npz = parity_data
    model = tmp_path / "model.npz"
    code, out, _ = run("learn", str(csv), "--out", str(model), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["degree"] == 2
    top = {tuple(row["subset"]): row["coefficient"] for row in report["top_coefficients"][:2]}
    assert top[(2, 7)] == pytest.approx(1.0, abs=0.02)
    assert top[(4,)] == pytest.approx(-0.5, abs=0.02)
    predictions = tmp_path / "pred.npy"
    code, _, err = run("predict", str(model), str(npz), "--out", str(predictions))
    assert code == 0
    from sparselearn import LowDegreeRegressor
    loaded = LowDegreeRegressor.load(model)
    # The CSV's header names the columns of the model: an array has no names,
    # which scikit-learn's check says.
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(np.load(predictions), loaded.predict(X))
    # The .npz carries labels, so the error is reported: about the noise level.
    assert "mean squared error" in err
    code, out, _ = run("predict", str(model), str(csv), "--json")
    assert json.loads(out)["mse"] < 0.01


def test_learn_and_predict_bad_input(tmp_path, parity_data):
    X, y, csv, npz = parity_data
    text = tmp_path / "words.csv"
    text.write_text("a,b\nc,d\n")
    bad_points = tmp_path / "real.npz"
    np.savez(bad_points, X=X * 0.5, y=y)
    from sparselearn import LowDegreeRegressor
    model_path = LowDegreeRegressor(degree=1).fit(X, y).save(tmp_path / "model")
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("1,-1\n-1,1\n")
    cases = [
        (["learn", str(text)], "not a numeric CSV"),
        (["learn", str(tmp_path / "missing.csv")], "no such file"),
        (["learn", str(bad_points)], "+1 or -1"),
        (["learn", str(csv), "--degree", "11"], "degree=11 exceeds n_features=10"),
        (["predict", str(npz), str(csv)], "not a saved LowDegreeRegressor"),
        (["predict", model_path, str(narrow)], f"{narrow}: 2 columns, but the model takes 10"),
    ]
    for argv, message in cases:
        code, _, err = run(*argv)
        assert code == cli.EXIT_USAGE, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1


def test_verify_sweep_table_csv_and_plot(tmp_path):
    table = tmp_path / "sweep.csv"
    figure = tmp_path / "sweep.png"
    argv = ["verify", "--n", "8", "--width", "8", "--sparsity", "2", "4",
            "--samples", "100", "400", "--target", "juntas", "--trials", "3",
            "--eps", "0.05", "--noise", "0.1", "--out", str(table), "--plot", str(figure)]
    code, out, _ = run(*argv)
    assert code == 0
    assert "written to" in out and figure.stat().st_size > 0
    rows = table.read_text().strip().splitlines()
    assert len(rows) == 1 + 4  # header + (2 sparsities x 2 sample sizes)
    assert rows[0].startswith("n_features,width,sparsity,n_samples,")  # no target file
    code, out, _ = run(*argv[:-4], "--json")
    report = json.loads(out)
    assert len(report["rows"]) == 4
    assert all(row["exact"] and row["successes"] == 3 for row in report["rows"])
    # Same seed, same sweep: the JSON run reproduces the CSV run's table.
    code, again, _ = run(*argv[:-4], "--json")
    assert json.loads(again) == report


# ------------------------------------------------ hostile files, exit codes
def test_out_never_replaces_an_input_file(tmp_path, parity_data):
    """predict --out naming the model or the data file (directly or by a
    symbolic link) replaced it by the predictions, exit 0; learn --out naming
    the data archive would replace it by the model.  Now one line, exit 2,
    and both files unchanged."""
    X, y, csv, npz = parity_data
    model = tmp_path / "model.npz"
    assert run("learn", str(csv), "--out", str(model))[0] == 0
    link = tmp_path / "link.npz"
    link.symlink_to(model)
    before = {path: path.read_bytes() for path in (model, csv, npz)}
    for argv, what in [(["predict", str(model), str(csv), "--out", str(model)], "model"),
                       (["predict", str(model), str(csv), "--out", str(link)], "model"),
                       (["predict", str(model), str(csv), "--out", str(csv)], "data"),
                       (["learn", str(npz), "--out", str(npz)], "data"),
                       (["learn", str(npz), "--out", str(tmp_path / "data")], "data")]:
        err = _one_line_exit_2(*argv)
        assert f"is the {what} file" in err, err
    assert {path: path.read_bytes() for path in before} == before


def test_a_memory_budget_error_does_not_name_a_flag_the_cli_lacks(tmp_path):
    """The library's budget message says "pass a larger max_bytes=", which
    the command line has no flag for: its line says to reduce the problem,
    with the figures, exit 2."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 200))
    data = tmp_path / "wide.csv"
    np.savetxt(data, np.c_[X, X[:, 0]], delimiter=",")
    err = _one_line_exit_2("learn", str(data), "--degree", "5", "--domain", "real")
    assert "GiB, more than the 4.0 GiB allowed; reduce the problem size" in err
    assert "pass a larger" not in err


def _one_line_exit_2(*argv):
    code, _, err = run(*argv)
    assert code == cli.EXIT_USAGE, (argv, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def _npy_header(shape, descr="<f8") -> bytes:
    import io as stdlib_io
    buffer = stdlib_io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_crafted_files_give_one_line_and_exit_2(tmp_path):
    import zipfile
    huge = tmp_path / "huge.npy"
    huge.write_bytes(_npy_header((2**40, 2)))
    huge_npz = tmp_path / "huge.npz"
    with zipfile.ZipFile(huge_npz, "w") as archive:
        archive.writestr("X.npy", _npy_header((2**40, 2)))
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(b"\x93NUMPY\x01\x00" + (64).to_bytes(2, "little")
                          + b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,"
                          .ljust(63) + b"\n")
    zip_npy = tmp_path / "zip.npy"
    np.savez(tmp_path / "z.npz", X=np.ones((2, 2)))
    zip_npy.write_bytes((tmp_path / "z.npz").read_bytes())
    one_d = tmp_path / "one_d.npz"
    np.savez(one_d, X=np.ones(4), y=np.ones(4))
    scalar = tmp_path / "scalar.npz"
    np.savez(scalar, X=np.array(1.0))
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    zero_npz = tmp_path / "zero.npz"
    zero_npz.symlink_to("/dev/zero")
    strings = tmp_path / "strings.npy"
    np.save(strings, np.array([["1.5", "1"], ["-1", "2"]]))
    dates = tmp_path / "dates.npy"
    np.save(dates, np.array([["2020-01-01", "2020-01-02"]], dtype="M8[D]"))
    cases = [(huge, "TiB"), (huge_npz, "TiB"), (empty, "empty"),
             (truncated, "malformed .npy header"), (zip_npy, "zip archive"),
             (one_d, "X must be a non-empty 2-D"), (scalar, "X must be a non-empty 2-D"),
             (zero, "not a regular file"), (zero_npz, "not a regular file"),
             (strings, "string dtype"), (dates, "datetime dtype")]
    for path, message in cases:
        err = _one_line_exit_2("learn", str(path), "--quiet")
        assert message in err and str(path) in err, err
    err = _one_line_exit_2("certify", str(zero_npz))
    assert "not a regular file" in err


def test_complex_and_nan_data_give_one_short_line(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(300, 8))
    complex_path = tmp_path / "complex.npy"
    np.save(complex_path, np.c_[X, X[:, 0]] + 1j)
    nan_path = tmp_path / "nan.npy"
    table = np.c_[X, X[:, 0]]
    table[7, 3] = np.nan
    np.save(nan_path, table)
    for path, message in ((complex_path, "complex dtype"), (nan_path, "NaN")):
        err = _one_line_exit_2("learn", str(path))
        assert message in err and len(err) < 300, err


def test_learn_out_names_the_file_actually_written(tmp_path, parity_data):
    _, _, csv, npz = parity_data
    out = tmp_path / "model.pkl"
    code, stdout, _ = run("learn", str(npz), "--degree", "2", "--out", str(out))
    assert code == 0
    assert f"saved to {out}.npz" in stdout
    assert not out.exists() and (tmp_path / "model.pkl.npz").exists()
    # predict follows the same suffix rule
    code, _, err = run("predict", str(out), str(csv), "--json")
    assert code == 0, err


def test_nested_params_json_in_a_model_file(tmp_path, parity_data):
    from sparselearn import io
    _, _, csv, npz = parity_data
    model = tmp_path / "model.npz"
    assert run("learn", str(npz), "--degree", "1", "--out", str(model))[0] == 0
    arrays = io.read_npz(model, kinds={"format": "U", "params": "U"})
    arrays["params"] = np.array("[" * 50_000 + "]" * 50_000)
    io.save_npz(model, **arrays)
    err = _one_line_exit_2("predict", str(model), str(csv))
    assert "nested too deeply" in err and "recursion" not in err


def test_certify_has_a_default_time_limit():
    args = cli.build_parser().parse_args(["certify", "net.npz"])
    assert args.time_limit == cli.DEFAULT_CERTIFY_TIME_LIMIT
    assert cli.build_parser().parse_args(["certify", "net.npz", "--time-limit",
                                          "none"]).time_limit is None


def test_certify_time_limit_message_says_how_to_raise_it(tmp_path):
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    err = _one_line_exit_2("certify", str(path), "--time-limit", "0.2")
    assert "--time-limit SECONDS" in err


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_verify_scheduler_nobody_listening_times_out():
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    err = _one_line_exit_2("verify", "--scheduler", address, "--connect-timeout",
                           "1", "--trials", "1", "--samples", "50")
    assert "could not connect" in err and "--connect-timeout 1 s" in err


def test_verify_scheduler_silent_port_is_one_line_within_the_timeout():
    """A port that accepts connections and never answers held
    --connect-timeout's Client in dask's handshake for ever."""
    import socket
    import threading

    pytest.importorskip("distributed")
    outcome = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # the kernel completes the connections; nobody speaks
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        thread = threading.Thread(target=lambda: outcome.append(run(
            "verify", "--scheduler", address, "--connect-timeout", "0.5",
            "--trials", "1", "--samples", "50")), daemon=True)
        thread.start()
        thread.join(20)
    assert outcome, "verify --scheduler still waiting on a silent port after 20 s"
    code, _, err = outcome[0]
    assert code == cli.EXIT_USAGE and len(err.strip().splitlines()) == 1, err
    assert f"{address} did not answer as a Dask scheduler" in err
    assert "--connect-timeout 0.5 s" in err


def test_verify_scheduler_without_workers_times_out():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False,
                                  dashboard_address=None) as cluster:
        err = _one_line_exit_2("verify", "--scheduler", cluster.scheduler_address,
                               "--connect-timeout", "1", "--trials", "1", "--samples", "50")
    assert "has no workers" in err and "dask worker" in err


def test_unexpected_errors_are_bugs_not_usage_errors(monkeypatch, tmp_path):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the saved tracebacks
    def broken(args):
        raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'int'")
    monkeypatch.setitem(cli.COMMANDS, "bounds", (broken, print))
    argv = ["bounds", "--n", "3", "--width", "2", "--sparsity", "1", "--samples", "5"]
    code, _, err = run(*argv)
    assert code == cli.EXIT_BUG
    assert len(err.strip().splitlines()) == 1 and "bug" in err and "report" in err
    assert "Traceback" not in err

    def runtime(args):
        raise RuntimeError("an invariant broke")
    monkeypatch.setitem(cli.COMMANDS, "bounds", (runtime, print))
    assert run(*argv)[0] == cli.EXIT_BUG
    monkeypatch.setenv("SPARSELEARN_DEBUG", "1")
    code, _, err = run(*argv)
    assert code == cli.EXIT_BUG and "Traceback" in err and "an invariant broke" in err


def test_output_that_cannot_be_written_is_exit_2(tmp_path, parity_data):
    _, _, _, npz = parity_data
    err = _one_line_exit_2("learn", str(npz), "--degree", "1", "--out",
                           str(tmp_path / "no-such-folder" / "model.npz"))
    assert "no-such-folder/model.npz: its directory does not exist" in err


_INTERRUPT_SCRIPT = """
import sys
from sparselearn import cli
print("ready", flush=True)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    import signal
    import time
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    child = subprocess.Popen([sys.executable, "-c", _INTERRUPT_SCRIPT, "certify", str(path),
                              "--time-limit", "none"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # into the branch and bound, which would run for hours
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == cli.EXIT_INTERRUPTED
    assert err.strip() == "sparselearn certify: interrupted"


# ---------------------------------------------------------------- fuzzing
def _limit_memory():  # runs in the child: 2 GiB of address space at most
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _fuzz_sources():
    from test_io import _file
    return {name: _file(name) for name in ("data.npz", "data.npy", "data.csv")}


@settings(max_examples=10, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_files_through_therun(tmp_path_factory, data):
    """Byte-mutated data files: the command either works (exit 0) or says
    why in exactly one line (exit 2), within 2 GiB of address space; never a
    traceback or a bug report (exit 1)."""
    from test_io import mutations
    sources = _fuzz_sources()
    name = data.draw(st.sampled_from(sorted(sources)))
    path = tmp_path_factory.mktemp("cli-fuzz") / name
    path.write_bytes(data.draw(mutations(sources[name])))
    result = subprocess.run([sys.executable, "-m", "sparselearn", "learn", str(path),
                            "--degree", "1", "--quiet"], capture_output=True, text=True,
                            timeout=120, preexec_fn=_limit_memory)
    assert result.returncode in (0, cli.EXIT_USAGE), result.stderr
    if result.returncode == cli.EXIT_USAGE:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(path) in result.stderr or "error" in result.stderr


def test_profile_command_text_json_and_bad_input(tmp_path):
    from sparselearn import SparseReLUNetwork
    net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.0, 0.0, 5.0],
                            [1.0, 1.0, 1.0])
    path = net.save(tmp_path / "net")
    data = tmp_path / "X.csv"
    data.write_text("1,1\n1,-1\n-1,-1\n")
    code, out, err = run("profile", path, str(data), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["histogram"] == [1, 1, 1, 0] and report["dead_units"] == [2]
    assert report["max_active"] == 2 and report["n_samples"] == 3
    code, out, err = run("profile", path, str(data))
    assert code == 0 and "dead units     1" in out
    wrong = tmp_path / "wide.csv"
    wrong.write_text("1,1,1,1\n")
    code, out, err = run("profile", path, str(wrong))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "sparselearn profile" in err
    # Named by file and in the command's terms (it said "X must have shape (m, 2)").
    assert f"{wrong}: 4 columns, but the network takes 2 inputs (a table of 3" in err
    code, out, err = run("certify", path, "--domain", "points", str(wrong))
    assert code == 2 and f"{wrong}: 4 columns, but the network takes 2 inputs" in err
    wide_npz = tmp_path / "wide.npz"
    np.savez(wide_npz, X=np.ones((2, 5)))
    code, out, err = run("profile", path, str(wide_npz))
    assert code == 2 and f"{wide_npz}: its X has 5 columns, but the network takes 2" in err
    code, out, err = run("profile", path, str(tmp_path / "missing.csv"))
    assert code == 2 and len(err.strip().splitlines()) == 1


# ------------------------------------------------------- CSV headers (issue 13)
def _csv_lines(n_rows=300, seed=1):
    """Rows of a degree-2 target on {-1,1}^4 (label last), as CSV text lines."""
    rng = np.random.default_rng(seed)
    X = rng.choice([-1, 1], size=(n_rows, 4))
    y = X[:, 0] * X[:, 3] + 0.5 * X[:, 1]
    return [",".join(map(str, row)) + f",{label:g}" for row, label in zip(X, y)]


def test_learn_refuses_an_empty_field_on_line_1_instead_of_dropping_the_row(tmp_path):
    lines = _csv_lines()
    lines[0] = ",".join(lines[0].split(",")[:1] + [""] + lines[0].split(",")[2:])
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run("learn", str(path), "--degree", "2", "--quiet")
    assert code == cli.EXIT_USAGE, out
    assert "line 1, field 2 is empty" in err and str(path) in err
    assert len(err.strip().splitlines()) == 1


def test_learn_reports_the_header_and_prints_its_names(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("\n".join(["a,b,c,d,target"] + _csv_lines()) + "\n")
    code, out, err = run("learn", str(path), "--degree", "2", "--quiet")
    assert code == 0, err
    assert "header row: a, b, c, d, target" in out
    assert "on 300 samples" in out
    assert "{a, d}" in out and "{b}" in out  # not {0, 3} and {1}
    code, out, err = run("learn", str(path), "--degree", "2", "--json")
    report = json.loads(out)
    assert report["header"] == ["a", "b", "c", "d", "target"]
    top = {tuple(row["names"]): row["coefficient"] for row in report["top_coefficients"]}
    assert top[("a", "d")] == pytest.approx(1.0) and top[("b",)] == pytest.approx(0.5)
    # Without a header the features are named x0, x1, ... and no header is reported.
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(_csv_lines()) + "\n")
    code, out, err = run("learn", str(plain), "--degree", "2", "--json")
    report = json.loads(out)
    assert report["header"] is None and report["n_samples"] == 300
    assert report["feature_names"] == ["x0", "x1", "x2", "x3"]


def test_learn_verbose_prints_the_solves_on_stderr_and_keeps_stdout_the_report(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("\n".join(_csv_lines()) + "\n")
    code, out, err = run("learn", str(path), "--degree", "2", "--solver", "cg",
                         "--verbose", "--json")
    assert code == 0, err
    assert json.loads(out)["degree"] == 2  # stdout is the JSON report alone
    assert re.search(r"^LowDegreeRegressor degree 2 \(D=11, m=300\): solver 'cg', \d+ "
                     r"iterations, relative residual \S+ \(tol=1e-06\), \S+ s$", err, re.M), err
    code, _, err = run("learn", str(path), "--degree", "2", "--json")
    assert code == 0 and "solver 'cg'" not in err


def test_header_flag_yes_and_no(tmp_path):
    named = tmp_path / "named.csv"
    named.write_text("\n".join(["a,b,c,d,target"] + _csv_lines()) + "\n")
    code, _, err = run("learn", str(named), "--header", "no", "--quiet")
    assert code == cli.EXIT_USAGE
    assert "line 1, field 1: 'a' is not a number" in err
    # --header yes takes a numeric-looking first line as names.
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("\n".join(["1,-1,1,-1,1"] + _csv_lines()) + "\n")
    code, out, err = run("learn", str(numbered), "--header", "yes", "--degree", "1",
                         "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["n_samples"] == 300 and report["header"] == ["1", "-1", "1", "-1", "1"]
    code, out, err = run("learn", str(numbered), "--header", "auto", "--degree", "1",
                         "--json")
    assert json.loads(out)["n_samples"] == 301 and json.loads(out)["header"] is None


def test_learn_classify_reads_pandas_default_names_above_class_names_as_a_header(tmp_path):
    """pd.DataFrame(X).assign(y=labels).to_csv(index=False): 0,1,2,3,y, then
    class names; "y" was a class of one row (and the row a sample)."""
    lines = [",".join(line.split(",")[:4]) + (",cat" if line.startswith("1") else ",dog")
             for line in _csv_lines()]
    path = tmp_path / "pandas.csv"
    path.write_text("\n".join(["0,1,2,3,y"] + lines) + "\n")
    code, out, err = run("learn", str(path), "--task", "classify", "--degree", "1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["classes"] == ["cat", "dog"] and report["n_samples"] == 300
    assert report["header"] == ["0", "1", "2", "3", "y"]


def test_a_label_typo_on_line_1_is_an_error_not_a_header(tmp_path):
    """Line 1 with numeric features and a non-numeric label, numbers below:
    one error line naming line 1, field 5 (before, it was taken for a header
    and the fit ran on one row fewer)."""
    lines = _csv_lines()
    lines[0] = ",".join(lines[0].split(",")[:4] + ["abc"])
    path = tmp_path / "typo.csv"
    path.write_text("\n".join(lines) + "\n")
    for task in ("regress", "classify"):
        code, out, err = run("learn", str(path), "--degree", "2", "--task", task,
                             "--quiet")
        assert code == cli.EXIT_USAGE, out
        assert "line 1, field 5: 'abc' is not a number" in err and str(path) in err
        assert len(err.strip().splitlines()) == 1 and "header row" not in out


def test_bad_values_are_reported_by_file_line(tmp_path):
    lines = ["a,b,c,d,target"] + _csv_lines()
    fields = lines[4].split(",")
    fields[2] = ""
    lines[4] = ",".join(fields)  # file line 5: the header is line 1
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run("learn", str(path), "--quiet")
    assert code == cli.EXIT_USAGE
    assert "line 5, field 3 is empty" in err and len(err.strip().splitlines()) == 1
    lines[4] = lines[5]
    lines[9] = lines[9].replace(",", ",x", 1)
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run("predict", str(tmp_path / "no-model.npz"), str(path), "--quiet")
    assert code == cli.EXIT_USAGE  # the model is read first: no such file
    code, _, err = run("learn", str(path), "--quiet")
    assert "line 10, field 2" in err and "not a number" in err


def test_ragged_rows_are_refused_naming_the_line_and_counts(tmp_path):
    lines = ["a,b,c,d,target"] + _csv_lines()
    lines[6] = ",".join(lines[6].split(",")[:4])  # file line 7: 4 fields of 5
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run("learn", str(path), "--quiet")
    assert code == cli.EXIT_USAGE
    assert "line 7 has 4 fields, expected 5" in err and len(err.strip().splitlines()) == 1
    # A data row shorter than the header on every line: the first one is named.
    short = tmp_path / "short.csv"
    short.write_text("\n".join(["a,b,c,d,e,target"] + _csv_lines()) + "\n")
    code, _, err = run("learn", str(short), "--quiet")
    assert code == cli.EXIT_USAGE and "line 2 has 5 fields, expected 6" in err


def test_predict_and_profile_report_the_header(tmp_path):
    from sparselearn import LowDegreeRegressor, SparseReLUNetwork
    named = tmp_path / "named.csv"
    named.write_text("\n".join(["a,b,c,d,target"] + _csv_lines()) + "\n")
    X = np.loadtxt(named, delimiter=",", skiprows=1)
    model = LowDegreeRegressor(degree=2).fit(X[:, :4], X[:, 4]).save(tmp_path / "m")
    code, out, err = run("predict", model, str(named), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["header"] == ["a", "b", "c", "d", "target"] and report["n_samples"] == 300
    code, out, err = run("predict", model, str(named))
    assert "header row: a, b, c, d, target" in err
    assert len(out.split()) == 300  # stdout holds only the predictions
    net = SparseReLUNetwork(np.eye(4), np.zeros(4), np.ones(4)).save(tmp_path / "net")
    code, out, err = run("profile", net, str(named))
    assert code == 0, err
    assert "header row: a, b, c, d, target" in out


def test_predict_refuses_a_header_whose_columns_differ_from_the_learned_ones(tmp_path):
    """A model learned on a CSV with a header keeps its column names
    (``feature_names_in_``); predicting a file whose header orders them
    otherwise silently scored the columns as the wrong features."""
    from sparselearn import LowDegreeRegressor

    lines = _csv_lines()
    named = tmp_path / "named.csv"
    named.write_text("\n".join(["a,b,c,d,target"] + lines) + "\n")
    code, out, err = run("learn", str(named), "--degree", "2", "--out",
                         str(tmp_path / "m"), "--json")
    assert code == 0, err
    model = LowDegreeRegressor.load(json.loads(out)["model"])
    assert model.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    X = np.loadtxt(named, delimiter=",", skiprows=1)[:, :4]
    code, out, err = run("predict", str(tmp_path / "m.npz"), str(named))
    assert code == 0 and err.count("\n") == 2, err  # the header and MSE lines, no warning
    expected = LowDegreeRegressor(degree=2).fit(X, np.loadtxt(named, delimiter=",",
                                                              skiprows=1)[:, 4]).predict(X)
    np.testing.assert_allclose(np.array(out.split(), dtype=float), expected, rtol=1e-12)
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("\n".join(["b,a,c,d"] + [",".join(line.split(",")[:4])
                                                 for line in lines]) + "\n")
    code, out, err = run("predict", str(tmp_path / "m.npz"), str(swapped))
    assert code == cli.EXIT_USAGE and out == ""
    assert "columns b, a, c, d" in err and "learned on a, b, c, d" in err
    assert len(err.strip().splitlines()) == 1
    plain = tmp_path / "plain.csv"  # no header: the columns are taken in order
    plain.write_text("\n".join(lines) + "\n")
    code, out, err = run("predict", str(tmp_path / "m.npz"), str(plain))
    assert code == 0 and len(out.split()) == 300, err


# ------------------------------------------- messages in the CLI's terms (issue 13)
def test_learn_with_too_few_rows_to_choose_the_degree_names_the_flag(tmp_path):
    """Three rows and no --degree: the library's "lower cv or pass degree="
    names arguments the command does not have."""
    path = tmp_path / "three.csv"
    path.write_text("a,b,y\n1,2,3\n2,1,4\n3,3,1\n")
    code, out, err = run("learn", str(path), "--domain", "real")
    assert code == cli.EXIT_USAGE and out == ""
    assert "3 samples" in err and "pass --degree" in err and "cv=" not in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run("learn", str(path), "--domain", "real", "--degree", "1")
    assert code == 0, err


def test_encoding_error_names_the_flag_not_the_python_argument(tmp_path):
    zero_one = tmp_path / "01.csv"
    zero_one.write_text("\n".join(line.replace("-1", "0") for line in _csv_lines()) + "\n")
    code, _, err = run("learn", str(zero_one))
    assert code == cli.EXIT_USAGE
    assert "--encoding 01" in err and "input_encoding" not in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run("learn", str(zero_one), "--encoding", "01", "--quiet")
    assert code == 0, err


def test_validation_line_says_why_a_degree_was_skipped(tmp_path):
    # 40 samples on {-1,1}^4: cv=5 training splits hold 32 samples; degree 3
    # has 1 + 4 + 6 + 4 = 15 parities (kept), degree 4 has 16 (kept); on
    # {-1,1}^8 with 40 samples degree 3 has 93 parities > 32: skipped.
    rng = np.random.default_rng(3)
    X = rng.choice([-1, 1], size=(40, 8))
    path = tmp_path / "small.csv"
    np.savetxt(path, np.c_[X, X[:, 0] * X[:, 1]], delimiter=",", fmt="%d")
    code, out, err = run("learn", str(path), "--max-degree", "3")
    assert code == 0, err
    line = next(line for line in out.splitlines() if "validation" in line)
    assert "nan" not in line
    assert "d=3: skipped (93 parities, more than the samples of a training split)" in line



def test_validation_line_names_its_error_for_a_classifier(tmp_path):
    # The curve of a classifier is the mean squared error of its one-vs-rest
    # scores (lower is better), not an accuracy: the line says so (it printed
    # bare numbers, 0.82 at d=0 falling to 0.57 at the chosen d=3, read as
    # accuracies by a user).
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    y = np.array(["cat", "dog", "emu"])[(X[:, 0] > 0).astype(int) + (X[:, 1] * X[:, 2] > 0.3)]
    path = tmp_path / "pets.csv"
    path.write_text("".join(",".join(f"{v:.6g}" for v in row) + f",{label}\n"
                            for row, label in zip(X, y)))
    code, out, err = run("learn", str(path), "--task", "classify", "--domain", "real",
                         "--max-degree", "2")
    assert code == 0, err
    line = next(line for line in out.splitlines() if "validation" in line)
    assert "validation MSE of the one-vs-rest scores" in line, line
    # Off the cube the features are monomials, and a skipped degree says so
    # (it counted "parities"); 200 samples, 3 inputs: no degree is skipped.
    code, out, err = run("learn", str(path), "--task", "classify", "--domain", "real",
                         "--max-degree", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["cv_skipped"] == {}
    few = tmp_path / "few.csv"
    few.write_text("".join(",".join(f"{v:.6g}" for v in row) + ",1.5\n"
                           for row in rng.normal(size=(10, 6))))
    code, out, err = run("learn", str(few), "--domain", "real", "--max-degree", "2",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["cv_skipped"] == {
        "2": "22 monomials, more than the samples of a training split"}


@pytest.mark.parametrize("argv", [["verify", "--n", "x"], ["nonsense"], [],
                                  ["demo", "--bogus"], ["learn"]])
def test_argparse_errors_are_one_stderr_line_with_exit_2(argv):
    code, out, err = run(*argv)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "error:" in err and "--help" in err


def test_every_subcommand_help_has_a_description():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(cli.COMMANDS) <= set(commands)
    for name, sub in commands.items():
        assert sub.description and len(sub.description) > 40, name
    code, out, _ = run("learn", "--help")
    assert code == 0
    options = " ".join(out.split("options:", 1)[1].split())
    solver_help = options.split("--solver", 1)[1].split("--encoding", 1)[0]
    assert "conjugate gradients" in solver_help
    code, out, _ = run("demo", "--help")
    assert code == 0 and "at most 24" in " ".join(out.split())


# ------------------------------------------------ sparselearn target (issue 13)
def test_target_command_makes_networks_that_certify_needs_no_python_for(tmp_path):
    from sparselearn import targets
    from sparselearn.network import SparseReLUNetwork

    bump = tmp_path / "bump"
    code, out, err = run("target", "bump", "--n", "14", "--width", "12", "--sparsity", "3",
                         "--seed", "5", "--out", str(bump))
    assert code == 0, err
    assert f"to {bump}.npz" in out  # the .npz suffix rule, the path actually written
    code, out, err = run("certify", f"{bump}.npz", "--json")
    assert code == 0, err
    assert json.loads(out)["certified_sparsity"] == 3  # planted point attains k
    expected = targets.bump_network(14, 12, 3, random_state=5)
    saved = SparseReLUNetwork.load(f"{bump}.npz")
    np.testing.assert_array_equal(saved.weights, expected.weights)
    np.testing.assert_array_equal(saved.output_weights, expected.output_weights)

    junta = tmp_path / "junta.npz"
    code, _, err = run("target", "junta", "--n", "9", "--width", "8", "--sparsity", "2",
                       "--out", str(junta), "--quiet")
    assert code == 0, err
    code, out, _ = run("certify", str(junta), "--json")
    # Exactly 2 active units at every one of the 2^9 points.
    assert json.loads(out)["activation_histogram"] == [0, 0, 2**9] + [0] * 6

    rand = tmp_path / "random.npz"
    code, out, err = run("target", "random", "--n", "6", "--width", "5", "--seed", "2",
                         "--bias-quantile", "0.8", "--out", str(rand), "--json")
    assert code == 0, err
    assert json.loads(out)["out"] == str(rand)
    expected = targets.random_network(6, 5, random_state=2, bias_quantile=0.8)
    np.testing.assert_array_equal(SparseReLUNetwork.load(rand).biases, expected.biases)
    data = tmp_path / "points.csv"
    np.savetxt(data, np.random.default_rng(0).choice([-1, 1], size=(20, 6)), delimiter=",",
               fmt="%d")
    code, out, err = run("profile", str(rand), str(data))
    assert code == 0, err


@pytest.mark.parametrize("argv, message", [
    (["target", "junta", "--n", "9", "--width", "6", "--sparsity", "2"], "sparsity * 2^t"),
    (["target", "bump", "--n", "9", "--width", "2", "--sparsity", "3"], "k=3 exceeds"),
    (["target", "bump", "--n", "9", "--width", "4"], "required"),
    (["target", "cube", "--n", "9"], "invalid choice"),
])
def test_target_command_bad_parameters_are_one_line(tmp_path, argv, message):
    if "--sparsity" in argv or argv[1] == "junta":
        argv = argv + ["--out", str(tmp_path / "x.npz")]
    code, out, err = run(*argv)
    assert code == cli.EXIT_USAGE
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.npz").exists()


# ------------------------------------------- interrupts, bug reports (issue 10)
def test_bug_report_line_names_the_saved_traceback(monkeypatch, tmp_path):
    """The bug line points at something real: the traceback, saved to a file
    it names (no placeholder tracker address)."""
    def broken(args):
        raise RuntimeError("an invariant broke")
    monkeypatch.setitem(cli.COMMANDS, "bounds", (broken, print))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, _, err = run("bounds", "--n", "3", "--width", "2", "--sparsity", "1",
                       "--samples", "5")
    assert code == cli.EXIT_BUG and len(err.strip().splitlines()) == 1
    assert "issue tracker" not in err and "http" not in err
    saved = list(tmp_path.glob("sparselearn-traceback-*.txt"))
    assert len(saved) == 1 and f"traceback saved in {saved[0]}" in err
    text = saved[0].read_text()
    assert text.startswith("Traceback") and "RuntimeError: an invariant broke" in text
    assert "in broken" in text


_STUCK_MID_WRITE_SCRIPT = """
import signal, sys, time
from sparselearn import cli, io
watchdog = cli._InterruptWatchdog("test", grace=0.2)
with io.atomic_write(sys.argv[1]) as handle:
    handle.write(b"half of the new model")
    # The main thread now acts as a compiled kernel does: it does not return to
    # the interpreter, so only the watchdog thread can act on Ctrl-C.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    print("ready", flush=True)
    time.sleep(60)
"""


def test_watchdog_exit_mid_write_leaves_no_temporary_file(tmp_path):
    """Ctrl-C while the main thread is stuck inside an atomic write: the
    watchdog ends the process (os._exit runs no finally block) and must remove
    the write's temporary file first; the previous file stays intact."""
    import signal
    import time
    target = tmp_path / "model.npz"
    target.write_bytes(b"the previous model")
    child = subprocess.Popen([sys.executable, "-c", _STUCK_MID_WRITE_SCRIPT, str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert len(list(tmp_path.iterdir())) == 2  # the target and the temporary file
        time.sleep(0.5)  # past the last bytecode before the child's sleep
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == cli.EXIT_INTERRUPTED
    assert err.strip() == "sparselearn test: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert target.read_bytes() == b"the previous model"


_CONSOLE_SCRIPT = """import re
import sys
from sparselearn.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\\\.pyw|\\\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def _mapped(pid: int, marker: str) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return marker in maps.read()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")
@pytest.mark.parametrize("entry", ["python -m sparselearn", "console script"])
@pytest.mark.parametrize("marker", ["_multiarray_umath", "_fblas"])
def test_ctrl_c_while_the_command_starts_is_one_line(tmp_path, entry, marker):
    """Ctrl-C during the start-up imports (NumPy, SciPy's BLAS) that run
    before cli.main: exit 130 and one line, not a KeyboardInterrupt
    traceback.  The signal is sent as soon as the child has mapped NumPy's
    core extension (early in `import sparselearn`), or SciPy's BLAS wrappers
    (midway, for the kernels), both long before the command's own handling.
    (`certify` does not load scikit-learn: the estimators load on first use.)"""
    import signal
    import time
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    if entry == "console script":
        script = tmp_path / "sparselearn"  # what pip writes for [project.scripts]
        script.write_text(_CONSOLE_SCRIPT)
        argv = [sys.executable, str(script)]
    else:
        argv = [sys.executable, "-m", "sparselearn"]
    child = subprocess.Popen(argv + ["certify", str(path), "--time-limit", "none"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 60
        while not _mapped(child.pid, marker) and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert "Traceback" not in err
    assert child.returncode == cli.EXIT_INTERRUPTED, err
    assert err.strip() == "sparselearn certify: interrupted"


def test_a_command_started_with_ctrl_c_ignored_keeps_ignoring_it(tmp_path):
    """As Python does: a command whose SIGINT is ignored when it starts (a
    script's `sparselearn ... &`) is not stopped by the signal; here it runs
    on to its time limit (exit 2: no certificate), with no 'interrupted'."""
    import signal
    import time
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the child
    try:
        child = subprocess.Popen([sys.executable, "-c", _INTERRUPT_SCRIPT, "certify", str(path),
                                  "--time-limit", "4"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # into the branch and bound
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == cli.EXIT_USAGE, err
    assert "interrupted" not in err and "not certified within --time-limit" in err


def test_start_up_guard_leaves_library_users_alone():
    """Only the command gets the start-up guard: a program importing
    sparselearn keeps Python's KeyboardInterrupt."""
    code = ("import signal, sparselearn; "
            "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ------------------------------------------------------ certify --domain
def test_certify_domains_on_the_command_line(tmp_path):
    # Units x0 + x1 > 3 and x0 > 3: never active on {-1,1}^2 or {0,1}^2
    # (x0 + x1 <= 2), both at once on [0, 16]^2 (e.g. at (16, 16)), and on
    # the listed points (0, 0) and (4, -2) only x0 > 3 at (4, -2).
    from sparselearn import SparseReLUNetwork
    net = SparseReLUNetwork([[1.0, 1.0], [1.0, 0.0]], [3.0, 3.0], [1.0, 1.0])
    path = net.save(tmp_path / "net.npz")
    points = tmp_path / "points.csv"
    points.write_text("x0,x1\n0,0\n4,-2\n")
    expected = {("pm1",): 0, ("01",): 0, ("box", "0", "16"): 2, ("points", str(points)): 1}
    for domain, value in expected.items():
        code, out, err = run("certify", path, "--domain", *domain, "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["certified_sparsity"] == value and report["domain"] == domain[0]
        witness = np.array(report["witness"], dtype=float)
        assert int(net.activation_counts(witness[None, :])[0]) == value
        assert ("activation_histogram" in report) == (domain == ("pm1",))
    assert report["witness"] == [4.0, -2.0]
    # The installed command, as a user types it.
    code, out, _ = run("certify", path, "--domain", "box", "0", "16")
    assert code == 0
    assert "on the box [0, 16]^2" in out and "LP tolerance" in out
    assert "certified sparsity  2" in out
    # One HiGHS MILP instead of the branch and bound: same maximum, an exact
    # witness, and the tolerances its upper bound rests on.
    code, out, err = run("certify", path, "--domain", "box", "0", "16",
                         "--method", "milp", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["certified_sparsity"] == 2 and report["method"] == "milp"
    assert report["mip_tolerances"]["mip_rel_gap"] == 0.0
    witness = np.array(report["witness"], dtype=float)
    assert int(net.activation_counts(witness[None, :])[0]) == 2
    code, out, err = run("certify", path, "--domain", "box", "0", "16",
                         "--method", "milp")
    assert code == 0 and "MILP (HiGHS)        upper bound proven under mip_rel_gap 0" in out
    assert "--method milp applies to --domain box only" in _one_line_exit_2(
        "certify", path, "--method", "milp")
    # A box search out of time points at the MILP (on a trained 32-unit
    # network the branch and bound ran past 2 minutes, the MILP took 0.5 s).
    err = _one_line_exit_2("certify", path, "--domain", "box", "0", "16",
                           "--time-limit", "1e-9")
    assert "not certified within --time-limit" in err and err.strip().endswith(
        "or try --method milp")


@pytest.mark.parametrize("domain, message", [
    (["box", "0"], "--domain box LO HI takes 2 value(s)"),
    (["box", "3", "1"], "finite LO <= HI"),
    (["box", "a", "1"], "two numbers"),
    (["points"], "--domain points FILE takes 1 value(s)"),
    (["points", "missing.csv"], "missing.csv"),
    (["cube"], "--domain must start with pm1, 01, box or points"),
    (["01", "x"], "--domain 01 takes 0 value(s)"),
])
def test_certify_bad_domains_are_one_line_errors(tmp_path, domain, message):
    from sparselearn import SparseReLUNetwork
    path = SparseReLUNetwork([[1.0, 1.0]], [0.0], [1.0]).save(tmp_path / "net.npz")
    assert message in _one_line_exit_2("certify", path, "--domain", *domain)


# ------------------------------------------------- verify progress (issue 13)
_VERIFY_SLOW = ["verify", "--n", "10", "--width", "8", "--sparsity", "2", "--samples", "2000",
                "4000", "--target", "juntas", "--degree", "2", "--trials", "40"]


def test_verify_prints_periodic_progress_lines_when_stderr_is_not_a_terminal():
    import os

    # Interval shortened from 10 s so that a ~2 s run shows several lines.
    env = {**os.environ, "SPARSELEARN_PROGRESS_INTERVAL": "0.2"}
    result = subprocess.run([sys.executable, "-m", "sparselearn", *_VERIFY_SLOW],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # lines for a log, not a redrawn bar
    lines = [line for line in result.stderr.splitlines() if line.startswith("PAC sweep")]
    assert len(lines) >= 2, result.stderr
    assert re.fullmatch(r"PAC sweep \(2 points\): \d+/80 trials, \d+ s elapsed.*", lines[0])
    assert re.fullmatch(r"PAC sweep \(2 points\): done, 80 trials in \d+ s", lines[-1])
    quiet = subprocess.run([sys.executable, "-m", "sparselearn", *_VERIFY_SLOW, "--quiet"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_short_verify_runs_print_no_progress_when_not_a_terminal():
    code, out, err = run("verify", "--n", "6", "--width", "4", "--sparsity", "2",
                         "--samples", "100", "--target", "juntas", "--degree", "2",
                          "--trials", "3")
    assert code == 0, err
    assert "PAC sweep (1 points)" not in err and "trials" not in err


# ------------------------------------- verify / demo pass for the right reasons
def _readme_verify_line():
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    lines = [line.strip() for line in readme.splitlines()
             if line.startswith("sparselearn verify --n")]
    assert len(lines) == 1, lines
    return lines[0]


def test_readme_verify_line_runs_as_written_and_passes_for_the_right_reasons(tmp_path):
    import shlex

    argv = shlex.split(_readme_verify_line())
    assert argv[0] == "sparselearn"
    # As written (in a fresh directory: it writes sweep.csv and sweep.png),
    # through this interpreter's package rather than whatever is on PATH.
    result = subprocess.run([sys.executable, "-m", "sparselearn", *argv[1:]], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    # No warnings (the pre-flight lines are in the table); on a slow or loaded
    # machine the run may pass 10 s and write its progress lines, which are not.
    progress = re.compile(r"^[^:]+: (\d+(/\d+)? \w+s, \d+ s elapsed|done, \d+ \w+s in \d+ s)")
    assert [line for line in result.stderr.splitlines() if not progress.match(line)] == []
    rows = [line.split() for line in result.stdout.splitlines()
            if line.strip().startswith("10 ")]
    decisions = {(int(row[2]), int(row[3])): row[-1] for row in rows}
    # m = 500 < D monomials at the tail degree: rejected; m = 4000: the
    # guarantee is consistent with the trials at both sparsities.
    assert decisions == {(2, 500): "REJECTED", (2, 4000): "consistent",
                         (4, 500): "REJECTED", (4, 4000): "consistent"}
    # ... and for the right reason: the class's floor is below eps on every
    # family, and the zero predictor's baseline is stated.
    assert "--degree tail: per target family" in result.stdout
    assert result.stdout.count("pre-flight: best relative error at degree <=") == 2
    assert "zero predictor: relative error 1" in result.stdout
    assert (tmp_path / "sweep.csv").stat().st_size > 0
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_verify_explains_an_eps_out_of_the_degrees_reach():
    # Validation up to the default --max-degree 3 cannot reach eps = 0.1 on
    # these bumps (W^{>3}/E[f^2] ~ 0.4): said in one line, no trial spent.
    code, out, err = run("verify", "--n", "10", "--width", "8", "--sparsity", "2",
                         "--samples", "500", "--trials", "3", "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    (row,) = report["rows"]
    assert row["feasible"] is False and row["trials"] == 0 and not row["consistent"]
    assert row["best_relative_error"] > 0.1
    code, out, _ = run("verify", "--n", "10", "--width", "8", "--sparsity", "2",
                       "--samples", "500", "--trials", "3")
    assert "INFEASIBLE" in out
    assert "no sample size can pass at degree <= 3: best relative error 0.4" in out
    err = _one_line_exit_2("verify", "--degree", "tail", "3")
    assert "--degree tail stands alone" in err
    assert "(0, 1]" in _one_line_exit_2("verify", "--tail-fraction", "2")


def test_demo_bump_default_passes_for_the_right_reasons():
    code, out, _ = run("demo", "--target", "bump", "--json", "--quiet")
    assert code == 0
    report = json.loads(out)
    assert report["n"] == 10 and report["eps"] == 0.1 and report["eps_scale"] == "relative"
    # The degree the theory needs: W^{>d} at most half of eps, relative.
    assert report["best_relative_error"] <= 0.05
    # Far better than the zero predictor (relative error 1), within eps,
    # and no better than the class allows (Parseval).
    assert report["best_relative_error"] <= report["relative_excess_error"] < 0.1
    assert report["pac"]["eps_scale"] == "relative" and report["pac"]["consistent"]
    assert max(report["pac"]["relative_errors"]) < 0.5
    assert report["pac"]["preflight"]["feasible"] is True


def test_demo_prints_relative_errors_and_the_zero_predictor():
    code, out, _ = run("demo", "--n", "12", "--samples", "1500", "--trials", "2",
                       "--quiet")
    assert code == 0
    assert "x E[f^2]" in out and "zero predictor: 1 x E[f^2]" in out
    assert "degree 2 from the target's spectrum" in out
    assert "Pr[error <= 0.1 E[f^2]]" in out


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return children.read().split()
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/task")
def test_ctrl_c_with_a_worker_pool_is_one_line(tmp_path):
    """verify --jobs 2 interrupted while its loky workers run trials: exit 130
    and one line; no ExecutorManagerThread traceback from the pool's teardown,
    no 'leaked semlock' warning from loky's resource tracker."""
    import signal
    import time
    child = subprocess.Popen(
        [sys.executable, "-m", "sparselearn", "verify", "--target", "juntas", "--n", "14",
         "--width", "8", "--sparsity", "2", "--samples", "60000", "--degree", "2",
         "--trials", "400", "--jobs", "2", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        # the resource tracker and two workers
        while len(_children(child.pid)) < 3 and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(1.0)  # trials under way
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == cli.EXIT_INTERRUPTED, err
    assert err.strip() == "sparselearn verify: interrupted"


def test_verify_fails_cleanly_when_the_dask_workers_die(tmp_path):
    """A real worker process (no nanny to restart it) killed mid-run: verify
    stops within --connect-timeout with one line naming the lost workers
    (exit 2) instead of waiting forever on trials nobody will run."""
    distributed = pytest.importorskip("distributed")
    import threading
    import time
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def kill_once_busy():
            deadline = time.monotonic() + 60
            while (not any(w.processing for w in cluster.scheduler.workers.values())
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            worker.kill()

        killer = threading.Thread(target=kill_once_busy, daemon=True)
        killer.start()
        try:
            result = subprocess.run(
                [sys.executable, "-m", "sparselearn", "verify", "--scheduler", address,
                 "--connect-timeout", "2", "--target", "juntas", "--n", "14", "--width", "8",
                 "--sparsity", "2", "--samples", "60000", "--degree", "2", "--trials", "400",
                 "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=90)
        finally:
            worker.kill()
            killer.join(timeout=5)
    assert result.returncode == cli.EXIT_USAGE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "lost all its workers" in lines[0] and "--connect-timeout" in lines[0]


# ------------------------------- learn on real-valued data, classify (issue 16)
def _poly(X, degree):
    from sklearn.preprocessing import PolynomialFeatures

    return PolynomialFeatures(degree, interaction_only=True).fit_transform(X)


def test_learn_real_valued_csv_matches_the_least_squares_pipeline(tmp_path):
    rng = np.random.default_rng(16)
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))  # correlated columns
    y = X[:, 0] * X[:, 1] - 0.5 * X[:, 2] + 0.1 * rng.normal(size=300)
    data, model = tmp_path / "real.csv", tmp_path / "model.npz"
    np.savetxt(data, np.c_[X, y], delimiter=",", fmt="%.17g")
    code, out, err = run("learn", str(data), "--domain", "real", "--degree", "2",
                         "--out", str(model), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["domain"] == "real" and report["n_parities"] == 11
    # Least squares over 1, x_i, x_i x_j (PolynomialFeatures' columns) by lstsq.
    P = _poly(X, 2)
    expected = P @ np.linalg.lstsq(P, y, rcond=None)[0]
    assert report["train_mse"] == pytest.approx(np.mean((expected - y) ** 2), rel=1e-6)
    assert report["top_coefficients"][0]["names"] == ["x0", "x1"]
    predictions = tmp_path / "pred.npy"
    code, _, err = run("predict", str(model), str(data), "--out", str(predictions))
    assert code == 0, err
    np.testing.assert_allclose(np.load(predictions), expected, rtol=1e-6,
                               atol=1e-6 * np.abs(expected).max())
    # The default domain is still the cube, and its refusal names the way out.
    code, _, err = run("learn", str(data))
    assert code == cli.EXIT_USAGE and "--domain real" in err
    assert len(err.strip().splitlines()) == 1
    # Finite entries whose monomials overflow (X ~ 1e300, degree 2): one
    # usage line naming X, exit 2 (was "internal error ... this is a bug").
    huge = tmp_path / "huge.csv"
    np.savetxt(huge, np.c_[1e300 * X, y], delimiter=",", fmt="%.17g")
    code, _, err = run("learn", str(huge), "--domain", "real", "--degree", "2")
    assert code == cli.EXIT_USAGE and "X has entries up to" in err and "overflow" in err
    assert len(err.strip().splitlines()) == 1


def test_learn_task_classify_multiclass_matches_ridge_classifier(tmp_path):
    from sklearn.linear_model import RidgeClassifier

    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3))
    y = np.select([X[:, 0] * X[:, 1] > 0.3, X[:, 2] > 0.5], [2, 5], default=9)
    data, model = tmp_path / "classes.csv", tmp_path / "classifier"
    np.savetxt(data, np.c_[X, y], delimiter=",", fmt="%.17g")
    code, out, err = run("learn", str(data), "--task", "classify", "--domain", "auto",
                         "--degree", "2", "--alpha", "1.0", "--out", str(model), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["classes"] == [2, 5, 9] and report["domain"] == "real"
    assert set(report["top_coefficients_by_class"]) == {"2", "5", "9"}
    # The same one-vs-rest ridge problem, penalising every column (no intercept).
    P = _poly(X, 2)
    peer = RidgeClassifier(alpha=1.0, fit_intercept=False).fit(P, y)
    assert report["train_accuracy"] == pytest.approx(peer.score(P, y), abs=1 / 400)
    predictions = tmp_path / "labels.csv"
    code, _, err = run("predict", str(model) + ".npz", str(data), "--out", str(predictions))
    assert code == 0, err
    assert "accuracy against the labels" in err
    labels = np.loadtxt(predictions)
    assert set(np.unique(labels)) <= {2.0, 5.0, 9.0}
    assert np.mean(labels == peer.predict(P)) >= 0.99  # ties of near-equal scores aside


def test_predict_names_the_width_of_a_class_name_table_of_other_inputs(tmp_path):
    # A model of 3 inputs, then a table of 4 inputs and class names (another
    # data set, iris against a model of 3 columns): the error said that the
    # class name on line 2 "is not a number", as if predict could not read
    # class names, instead of counting the columns.
    rng = np.random.default_rng(8)
    names = np.array(["cat", "dog", "emu"])

    def table(path, n):
        X = rng.normal(size=(60, n))
        path.write_text("".join(",".join(f"{v:.6g}" for v in row) + f",{label}\n"
                                for row, label in zip(X, names[rng.integers(0, 3, 60)])))
        return path

    three, four, model = table(tmp_path / "three.csv", 3), table(tmp_path / "four.csv", 4), \
        tmp_path / "pets.npz"
    code, _, err = run("learn", str(three), "--task", "classify", "--domain", "real",
                       "--degree", "1", "--out", str(model), "--quiet")
    assert code == 0, err
    code, out, err = run("predict", str(model), str(four))
    assert code == cli.EXIT_USAGE and out == "", out
    assert len(err.splitlines()) == 1, err
    assert "4 input columns besides the class names" in err and "3" in err, err
    assert "not a number" not in err, err


def test_learn_task_classify_takes_class_names_from_a_csv_end_to_end(tmp_path):
    """`learn --task classify` refused a CSV whose labels are class names
    ("'cat' is not a number") though LowDegreeClassifier fits them: now it
    learns, saves and predicts them, as the estimator does in Python."""
    from sparselearn.learners import LowDegreeClassifier

    rng = np.random.default_rng(4)
    X = rng.choice([-1, 1], size=(200, 5))
    names = np.array(["bird", "cat", "dog"])
    # Classes decided by degree-1 and degree-2 parities, 10% of labels flipped.
    labels = names[np.where(X[:, 0] * X[:, 1] > 0, 0, np.where(X[:, 2] > 0, 1, 2))]
    flip = rng.random(200) < 0.1
    labels[flip] = rng.choice(names, size=int(flip.sum()))
    data, model = tmp_path / "pets.csv", tmp_path / "pets"
    data.write_text("a,b,c,d,e,animal\n" + "".join(
        ",".join(map(str, row)) + f", {label}\n" for row, label in zip(X, labels)))
    code, out, err = run("learn", str(data), "--task", "classify", "--degree", "2",
                         "--out", str(model), "--json")
    assert code == 0, err
    report = json.loads(out)
    peer = LowDegreeClassifier(degree=2).fit(X.astype(float), labels)
    assert report["classes"] == ["bird", "cat", "dog"] == peer.classes_.tolist()
    assert report["train_accuracy"] == peer.score(X.astype(float), labels) > 0.8
    assert set(report["top_coefficients_by_class"]) == {"bird", "cat", "dog"}
    assert report["header"][-1] == "animal"
    code, out, err = run("predict", report["model"], str(data))  # labels included
    assert code == 0, err
    assert out.split() == peer.predict(X.astype(float)).tolist()
    assert f"accuracy against the labels in {data}: {report['train_accuracy']:.6g}" in err
    unlabelled = tmp_path / "features.csv"
    np.savetxt(unlabelled, X, delimiter=",", fmt="%d")
    code, _, err = run("predict", report["model"], str(unlabelled),
                       "--out", str(tmp_path / "animals.csv"))
    assert code == 0, err
    assert (tmp_path / "animals.csv").read_text().split() == out.split()
    # Numeric class labels keep their meaning (floats shown as ints).
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("".join(",".join(map(str, row)) + f",{int(row[0] > 0) + 3}\n"
                               for row in X))
    code, out, err = run("learn", str(numeric), "--task", "classify", "--degree",
                         "1", "--json")
    assert code == 0, err
    assert json.loads(out)["classes"] == [3, 4]


def test_learn_reads_quoted_csv_fields_and_refuses_an_unnamed_index(tmp_path):
    """R's write.csv quotes the header and the text ("big, cat" holds a comma):
    '"0.5"' was "not a number" and the comma split the label.  Its row names
    (pandas' to_csv index too) sit under an empty name, and were fitted as
    a feature: one line, exit 2."""
    from sparselearn.learners import LowDegreeClassifier

    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 2))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "big, cat", "dog")
    rows = [f'"{float(a)!r}",{float(b)!r},"{label}"' for (a, b), label in zip(X, labels)]
    data = tmp_path / "r.csv"
    data.write_text('"a","b","animal"\n' + "\n".join(rows) + "\n")
    code, out, err = run("learn", str(data), "--domain", "real", "--task",
                         "classify", "--degree", "2", "--out", str(tmp_path / "m"), "--json")
    assert code == 0, err
    report = json.loads(out)
    peer = LowDegreeClassifier(degree=2).fit(X, labels)
    assert report["classes"] == ["big, cat", "dog"] and report["header"] == ["a", "b", "animal"]
    assert report["train_accuracy"] == peer.score(X, labels)
    code, out, err = run("predict", report["model"], str(data))
    assert code == 0, err
    assert out.splitlines() == peer.predict(X).tolist()
    # Written to a CSV, a name with a comma is quoted: one field a line, which
    # this reader (and any CSV reader) gives back as the class names.
    written = tmp_path / "animals.csv"
    code, _, err = run("predict", report["model"], str(data), "--out", str(written))
    assert code == 0, err
    assert '"big, cat"' in written.read_text()
    np.testing.assert_array_equal(np.loadtxt(written, dtype=str, delimiter=",", quotechar='"',
                                             ndmin=1), peer.predict(X))
    indexed = tmp_path / "indexed.csv"
    indexed.write_text('"","a","b","animal"\n' + "".join(
        f'"{i}",{row}\n' for i, row in enumerate(rows, start=1)))
    for task in ("regress", "classify"):
        code, out, err = run("learn", str(indexed), "--domain", "real", "--task",
                             task, "--quiet")
        assert code == cli.EXIT_USAGE and out == ""
        assert "column 1 of the header, line 1, has no name" in err
        assert len(err.strip().splitlines()) == 1


def test_predict_notes_labels_that_are_none_of_the_models_classes(tmp_path):
    """A classifier of class names given a file of numeric labels (or the
    reverse) printed a bare "accuracy 0": a note line now says no label is
    a class.  A number among class names matches the same number in a file
    of numeric labels ("1" and 1), so partly numeric classes still score."""
    rng = np.random.default_rng(5)
    X = rng.choice([-1, 1], size=(80, 3))
    names = np.where(X[:, 0] > 0, "cat", "dog")
    rows = [",".join(map(str, row)) for row in X]
    pets, numbers = tmp_path / "pets.csv", tmp_path / "numbers.csv"
    pets.write_text("".join(f"{row},{name}\n" for row, name in zip(rows, names)))
    numbers.write_text("".join(f"{row},{int(x[0] > 0)}\n" for row, x in zip(rows, X)))
    for train, other, classes, labels in [(pets, numbers, "[cat, dog]", "[0, 1]"),
                                          (numbers, pets, "[0, 1]", "[cat, dog]")]:
        model = tmp_path / f"{train.stem}.npz"
        code, _, err = run("learn", str(train), "--task", "classify", "--degree",
                           "1", "--out", str(model), "--quiet")
        assert code == 0, err
        code, out, err = run("predict", str(model), str(other), "--quiet")
        assert code == 0, err
        assert len(out.split()) == 80  # the predictions are still printed
        assert err.strip().splitlines()[-1] == (
            f"note: none of the file's labels are among the model's classes {classes}; "
            f"accuracy is 0 by construction (the file's labels: {labels})")
        code, out, err = run("predict", str(model), str(other), "--json")
        assert json.loads(out)["accuracy"] == 0 and "none of" in json.loads(out)["note"]
        code, out, err = run("predict", str(model), str(train), "--json")
        assert json.loads(out)["accuracy"] == 1 and "note" not in json.loads(out)
    # Classes "1", "2" and "cat" (3/4 cat, so read as names); a file of the
    # rows labelled 1 or 2 reads as numbers and matches them.
    mixed = np.where((X[:, 0] > 0) | (X[:, 2] > 0), "cat", np.where(X[:, 1] > 0, "1", "2"))
    both, some = tmp_path / "mixed.csv", tmp_path / "some.csv"
    both.write_text("".join(f"{row},{name}\n" for row, name in zip(rows, mixed)))
    some.write_text("".join(f"{row},{name}\n" for row, name in zip(rows, mixed)
                            if name != "cat"))
    code, out, err = run("learn", str(both), "--task", "classify", "--degree", "2",
                         "--out", str(tmp_path / "mixed.npz"), "--json")
    assert code == 0 and json.loads(out)["classes"] == ["1", "2", "cat"], err
    assert json.loads(out)["train_accuracy"] == 1
    code, out, err = run("predict", str(tmp_path / "mixed.npz"), str(some), "--json")
    assert code == 0 and json.loads(out)["accuracy"] == 1 and "note" not in json.loads(out)


@pytest.mark.parametrize("text, extra, message", [
    ("a,b,y\n1,-1,cat\n-1,1,\n1,1,dog\n", ["--task", "classify"],
     "line 3, field 3 is empty: a missing label"),
    ("a,b,y\n1,-1,cat\n-1,x,dog\n1,1,dog\n", ["--task", "classify"],
     "line 3, field 2: 'x' is not a number"),
    ("a,b,y\n1,-1,cat\n-1,1,dog,1\n", ["--task", "classify"],
     "line 3 has 4 fields, expected 3"),
    ("1,-1,cat\n-1,1,dog\n", [], "the labels (last column) are not numbers; pass --task "
                                 "classify"),
])
def test_learn_text_labels_bad_input_is_one_line(tmp_path, text, extra, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, _, err = run("learn", str(path), "--degree", "1", *extra)
    assert code == cli.EXIT_USAGE, err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("extra, message", [
    (["--domain", "real", "--encoding", "01"], "cannot be combined with --domain real"),
    (["--standardize"], "--standardize scales real-valued inputs"),
    (["--domain", "real", "--solver", "lmn"], "--solver lmn estimates Fourier"),
    (["--task", "classify"], "+1 or -1"),
])
def test_learn_domain_and_task_flag_errors_are_one_line(tmp_path, extra, message):
    path = tmp_path / "real.csv"
    rng = np.random.default_rng(0)
    np.savetxt(path, np.c_[rng.normal(size=(50, 3)), rng.integers(0, 2, 50)], delimiter=",")
    code, _, err = run("learn", str(path), *extra)
    assert code == cli.EXIT_USAGE, err
    assert message in err and len(err.strip().splitlines()) == 1, err


def _learners_page_shell_lines():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "learners.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: bash\n\n((?:   .*\n|\n)+)", text)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_learners_page_command_line_example_runs_as_written(tmp_path):
    lines = _learners_page_shell_lines()
    assert any(line.startswith("sparselearn learn") and "--task classify" in line
               for line in lines), lines
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, (line, result.stderr)
        if line.startswith("sparselearn learn"):
            assert "10-class classifier" in result.stdout
    assert np.loadtxt(tmp_path / "labels.csv").shape == (1797,)


def test_predict_writes_the_string_labels_of_a_classifier_saved_from_python(tmp_path):
    """A LowDegreeClassifier fitted in Python on string labels and saved:
    ``predict`` prints and writes its labels (it used to fail formatting them
    with "%.17g": a raw traceback on stdout, exit 1 with --out)."""
    from sparselearn.learners import LowDegreeClassifier

    rng = np.random.default_rng(12)
    X = rng.normal(size=(60, 3))
    labels = np.array(["cat", "dog"])[(X[:, 0] > 0).astype(int)]
    model = LowDegreeClassifier(degree=1).fit(X, labels)
    path = model.save(tmp_path / "strings")
    data = tmp_path / "points.csv"
    np.savetxt(data, X, delimiter=",", fmt="%.17g")
    expected = model.predict(X).tolist()
    code, out, err = run("predict", path, str(data))
    assert code == 0, err
    assert out.split() == expected
    written = tmp_path / "labels.csv"
    code, _, err = run("predict", path, str(data), "--out", str(written))
    assert code == 0, err
    assert written.read_text().split() == expected
    code, out, _ = run("predict", path, str(data), "--json")
    assert code == 0 and json.loads(out)["predictions"] == expected


def test_a_failure_while_printing_is_reported_as_a_bug_not_a_raw_traceback(monkeypatch, tmp_path):
    """An exception in a command's printer goes through the same handler as
    one in the command: one line naming the saved traceback, exit 1."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the saved traceback

    def broken_show(report):
        raise RuntimeError("printer broke")

    monkeypatch.setitem(cli.COMMANDS, "bounds", (cli.COMMANDS["bounds"][0], broken_show))
    code, _, err = run("bounds", "--n", "10", "--width", "4", "--sparsity", "2",
                       "--samples", "100", "--W", "1", "--B", "1")
    assert code == 1
    assert "internal error (RuntimeError: printer broke)" in err
    assert "printer broke" in next(tmp_path.glob("sparselearn-traceback-*.txt")).read_text()


@pytest.mark.parametrize("argv", [
    ["target", "bump", "--n", "10", "--width", "4", "--sparsity", "2", "--out", ""],
    ["learn", "data.csv", "--out", " "],
    ["predict", "model.npz", "data.csv", "--out", ""],
    ["verify", "--out", ""],
    ["verify", "--plot", ""],
    ["demo", "--plot", ""],
])
def test_an_empty_output_name_is_a_usage_error(argv, tmp_path, monkeypatch):
    """``--out ''`` used to save nothing (learn) or a hidden ``.npz`` in the
    current directory (target); it is refused before any work, exit 2."""
    monkeypatch.chdir(tmp_path)
    assert "expected a file name, got an empty one" in _one_line_exit_2(*argv)
    assert list(tmp_path.iterdir()) == []


def test_verify_on_a_network_file(tmp_path):
    """verify --network: the file's network is every trial's target (the
    grid is the sample sizes and degrees); --degree tail reads its exact
    spectrum (a sum of 2 juntas on blocks of 2: degree 2 carries all of
    it, learned exactly); the same rows on two worker processes; family
    flags and n > 24 with tail are refused in one line, exit 2."""
    from sparselearn.targets import junta_sum_network

    path = tmp_path / "junta.npz"
    net = junta_sum_network(8, 2, 2, random_state=0)  # n = 8, k = 2 blocks of t = 2: width 8
    net.save(path)
    code, out, err = run("verify", "--network", str(path), "--samples", "60", "400",
                         "--trials", "3", "--degree", "tail", "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["network"] == str(path) and report["param_names"] == ["n_samples", "degree"]
    assert report["tail_degrees"] == [{"n_features": 8, "width": 8, "sparsity": None,
                                       "degree": 2}]
    rows = {row["n_samples"]: row for row in report["rows"]}
    assert rows[400]["successes"] == rows[400]["trials"] == 3 and rows[400]["consistent"]
    assert rows[400]["max_error"] < 1e-8  # the degree-2 fit recovers the network (rounding)
    code, out, _ = run("verify", "--network", str(path), "--samples", "60", "400",
                       "--trials", "3", "--degree", "2", "--jobs", "2", "--json")
    assert code == 0
    assert [(r["successes"], r["max_error"]) for r in json.loads(out)["rows"]] == [
        (rows[m]["successes"], rows[m]["max_error"]) for m in (60, 400)]
    for extra in (["--n", "8"], ["--target", "juntas"], ["--sparsity", "2"]):
        code, _, err = run("verify", "--network", str(path), *extra)
        assert code == 2 and "--network is the target itself: drop --" in err
        assert len(err.strip().splitlines()) == 1
    wide = tmp_path / "wide.npz"
    junta_sum_network(30, 1, 2, random_state=0).save(wide)
    code, _, err = run("verify", "--network", str(wide), "--degree", "tail")
    assert code == 2 and "n = 30 is beyond the n <= 24" in err


def test_verify_checks_its_output_files_before_any_trial(tmp_path, monkeypatch):
    """verify --out/--plot naming the --network file replaced the network by
    the table (or the figure); an --out in a missing directory was found only
    after every trial had run, and --out equal to --plot let the figure
    replace the table.  Each is now one line, exit 2, before the sweep, and
    the network file is left as it was."""
    from sparselearn import pac
    from sparselearn.targets import junta_sum_network

    path = tmp_path / "net.npz"
    junta_sum_network(8, 2, 2, random_state=0).save(path)
    saved = path.read_bytes()

    def no_sweep(*args, **kwargs):
        raise AssertionError("the sweep ran before the output files were checked")

    monkeypatch.setattr(pac, "verify_sweep", no_sweep)
    base = ["verify", "--network", str(path), "--samples", "60", "--trials", "2",
            "--degree", "2"]
    for extra, message in [
            (["--out", str(path)], f"--out {path} is the --network file"),
            (["--plot", str(path)], f"--plot {path} is the --network file"),
            (["--out", str(tmp_path / "missing" / "sweep.csv")],
             "its directory does not exist"),
            (["--plot", str(tmp_path)], "is a directory, not a file to write"),
            (["--out", str(tmp_path / "a.csv"), "--plot", str(tmp_path / "." / "a.csv")],
             "--out and --plot name the same file")]:
        code, _, err = run(*base, *extra)
        assert code == 2 and message in err, (extra, err)
        assert len(err.strip().splitlines()) == 1
    # The network given without its suffix is the same file.
    code, _, err = run(*base[:2], str(tmp_path / "net"), *base[3:], "--out",
                       str(path))
    assert code == 2 and "is the --network file" in err
    assert path.read_bytes() == saved


def test_verify_learns_one_output_of_a_multi_output_network(tmp_path):
    """An imported classifier is a multi-output network: verify --network
    said to pass output=t, a keyword the command line does not have.
    --output T picks the output (the same rows as a network saved with that
    output alone); without it, or out of range, one line names --output."""
    from sparselearn.targets import junta_sum_network

    one = junta_sum_network(8, 2, 2, random_state=0)
    two = SparseReLUNetwork(one.weights, one.biases,
                            np.stack([one.output_weights, -2.0 * one.output_weights], 1),
                            [one.output_bias, 0.5])
    both, alone = tmp_path / "two.npz", tmp_path / "alone.npz"
    two.save(both)
    two.select_output(1).save(alone)
    flags = ["--samples", "60", "400", "--trials", "3", "--degree", "2", "--json"]
    code, out, err = run("verify", "--network", str(both), "--output", "1", *flags)
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["output"] == 1
    code, out, _ = run("verify", "--network", str(alone), *flags)
    assert code == 0
    assert ([(r["successes"], r["max_error"], r["mean_target_norm"]) for r in report["rows"]]
            == [(r["successes"], r["max_error"], r["mean_target_norm"])
                for r in json.loads(out)["rows"]])
    # The --out files record the target file and the output, as the report does.
    flags_out = flags[:-1]
    for name in ("sweep.json", "sweep.csv"):
        code, _, _ = run("verify", "--network", str(both), "--output", "1",
                         *flags_out, "--out", str(tmp_path / name))
        assert code == 0
    saved = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert (saved["network"], saved["output"]) == (str(both), 1)
    assert saved["rows"] == report["rows"]
    with open(tmp_path / "sweep.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["network"], r["output"], r["n_samples"], r["successes"]) for r in table] == [
        (str(both), "1", str(r["n_samples"]), str(r["successes"])) for r in report["rows"]]
    for extra, message in [([], "has 2 outputs; pass --output T (0 <= T < 2)"),
                           (["--output", "2"], "--output 2, but"),
                           ]:
        code, _, err = run("verify", "--network", str(both), *extra, *flags)
        assert code == 2 and message in err and "output=" not in err, err
    code, _, err = run("verify", "--output", "0", "--samples", "60")
    assert code == 2 and "--output picks one output of a multi-output --network" in err


def test_verify_out_files_record_the_tail_degrees(tmp_path):
    """verify --degree tail --out recorded the --network file (metadata) but
    not the degree the tail rule chose, which is no grid column for target
    families: the JSON file has the report's tail_degrees list, the CSV a
    tail_degrees column holding it as JSON on every row.  A sum of two
    juntas on blocks of 2 bits has all its Fourier weight at degree <= 2 and
    some at 2, so the rule picks d = 2 (by construction)."""
    from sparselearn.targets import junta_sum_network

    path = tmp_path / "junta.npz"
    junta_sum_network(8, 2, 2, random_state=0).save(path)
    runs = {"network": ["--network", str(path)],
            "families": ["--n", "6", "--width", "4", "--sparsity", "1", "2"]}
    for case, flags in runs.items():
        base = ["verify", *flags, "--samples", "60", "--trials", "2", "--degree", "tail"]
        code, out, _ = run(*base, "--json")
        assert code == 0
        recorded = json.loads(out)["tail_degrees"]
        for name in ("sweep.json", "sweep.csv"):
            assert run(*base, "--out", str(tmp_path / f"{case}-{name}"))[0] == 0
        saved = json.loads((tmp_path / f"{case}-sweep.json").read_text(encoding="utf-8"))
        assert saved["tail_degrees"] == recorded
        with open(tmp_path / f"{case}-sweep.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(saved["rows"]) > 0
        assert all(json.loads(row["tail_degrees"]) == recorded for row in rows)
        if case == "network":
            assert recorded == [{"n_features": 8, "width": 8, "sparsity": None, "degree": 2}]
            assert all(row["network"] == str(path) for row in rows)
        else:
            assert [(d["width"], d["sparsity"]) for d in recorded] == [(4, 1), (4, 2)]


def test_learn_and_predict_take_the_label_column_by_name_or_number(tmp_path):
    """--label NAME|INDEX: a table whose labels are not last (R's and many
    exports put them first) was fitted on the wrong target without a word.
    With --label the fit is the one of the arrays themselves (a direct
    LowDegreeRegressor fit as reference), predict reads the same layout, and
    predict without it refuses, naming the flag."""
    from sparselearn.learners import LowDegreeRegressor
    rng = np.random.default_rng(3)
    X = rng.choice([-1.0, 1.0], size=(200, 3))
    y = X[:, 0] * X[:, 2] + 0.5 * X[:, 1] + 0.1 * rng.normal(size=200)
    path = tmp_path / "first.csv"
    path.write_text("y,a,b,c\n" + "".join(f"{t:.17g},{r[0]:g},{r[1]:g},{r[2]:g}\n"
                                        for t, r in zip(y, X)))
    reference = LowDegreeRegressor(degree=2).fit(X, y)
    for label in ("y", "0", "-4"):
        model = tmp_path / f"m{label}.npz"
        code, out, err = run("learn", str(path), "--degree", "2", "--label", label,
                             "--out", str(model), "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["n_features"] == 3 and report["feature_names"] == ["a", "b", "c"]
        assert report["header"] == ["a", "b", "c"] and report["label_column"] == "y"
        fitted = LowDegreeRegressor.load(model)
        np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
        code, out, err = run("predict", str(model), str(path), "--label", label)
        assert code == 0, err
        np.testing.assert_allclose([float(v) for v in out.split()], reference.predict(X),
                                   rtol=1e-9, atol=1e-12)
        assert "header row: a, b, c; labels: y" in err
    code, out, err = run("predict", str(model), str(path))
    assert code == cli.EXIT_USAGE and "pass --label y" in err
    assert len(err.strip().splitlines()) == 1
    for label, message in [("z", "no column named 'z' for the labels; the header has "
                                 "y, a, b, c"),
                           ("4", "no label column 4: the table has 4 columns")]:
        code, out, err = run("learn", str(path), "--degree", "2", "--label", label)
        assert code == cli.EXIT_USAGE and message in err, err
        assert len(err.strip().splitlines()) == 1


def test_learn_refuses_missing_values_naming_line_and_field(tmp_path):
    """R's write.csv writes a missing value as an unquoted NA: as a class
    label it became a class "NA"; in a feature, "nan" said only "X contains
    NaN".  Now one line naming the file, line, field and the fix."""
    lines = ["a,b,y", "1,-1,cat", "-1,1,dog", "1,1,NA", "-1,-1,dog"]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run("learn", str(path), "--degree", "1", "--task", "classify")
    assert code == cli.EXIT_USAGE
    assert str(path) in err and "line 4, field 3 is 'NA': a missing label" in err
    assert "drop or impute" in err and len(err.strip().splitlines()) == 1
    path.write_text("a,b,y\n1,-1,1\n-1,nan,2\n1,1,1\n-1,-1,2\n")
    code, out, err = run("learn", str(path), "--degree", "1")
    assert code == cli.EXIT_USAGE and "line 3, field 2 is 'nan': a missing value" in err


def test_learn_notes_a_pandas_index_column_but_still_uses_it(tmp_path):
    """df.reset_index().to_csv(index=False) writes the row index as a column
    named "index" (a re-read to_csv() file, "Unnamed: 0"): a note on stderr
    when the first column has such a name *and* holds exactly 0..m-1; the
    column is still a feature (valid data is never refused), and a column
    with only one of the two signs gets no note."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] - X[:, 1]
    rows = np.arange(30.0)
    for name, first, noted in [("index", rows, True), ("Unnamed: 0", rows, True),
                               ("index", rows + 1, False), ("t", rows, False)]:
        path = tmp_path / "d.csv"
        path.write_text(f"{name},a,b,y\n" + "".join(
            f"{f:g},{r[0]:.17g},{r[1]:.17g},{t:.17g}\n" for f, r, t in zip(first, X, y)))
        code, out, err = run("learn", str(path), "--domain", "real", "--degree", "1",
                             "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["n_features"] == 3
        assert ("note" in report) == noted, report.get("note")
        code, out, err = run("learn", str(path), "--domain", "real", "--degree", "1")
        assert (f"note: the first column, {name!r}, holds the row numbers 0 to 29" in err) \
            == noted


def test_learn_keeps_bool_labels_of_an_npz_as_false_and_true(tmp_path):
    """An .npz's bool y is read as the classes False/True, as
    LowDegreeClassifier has them in memory (the reference fit here); they
    were 0/1 (float64) before.  predict prints and writes True/False."""
    from sparselearn.learners import LowDegreeClassifier
    rng = np.random.default_rng(2)
    X = rng.choice([-1.0, 1.0], size=(120, 3))
    y = X[:, 0] * X[:, 1] > 0
    data, model = tmp_path / "b.npz", tmp_path / "m.npz"
    np.savez(data, X=X, y=y)
    code, out, err = run("learn", str(data), "--task", "classify", "--degree", "2",
                         "--out", str(model), "--json")
    assert code == 0, err
    reference = LowDegreeClassifier(degree=2).fit(X, y)
    assert json.loads(out)["classes"] == reference.classes_.tolist() == [False, True]
    assert LowDegreeClassifier.load(model).classes_.dtype == bool
    code, out, err = run("predict", str(model), str(data))
    assert code == 0 and out.split() == [str(v) for v in reference.predict(X)]
    code, out, err = run("predict", str(model), str(data), "--out",
                         str(tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").read_text().split() == [str(v) for v in reference.predict(X)]
