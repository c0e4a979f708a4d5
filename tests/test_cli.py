"""Tests for the command line: every command, its JSON output, and its
handling of bad input (one line on stderr, non-zero exit, no traceback)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from sparselearn import cli
from sparselearn.targets import junta_network, random_network


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_report(capsys, tmp_path):
    figure = tmp_path / "demo.png"
    code, out, err = run(capsys, "demo", "--n", "12", "--width", "12", "--sparsity", "3",
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


def test_demo_bump_target_text(capsys):
    code, out, _ = run(capsys, "demo", "--target", "bump", "--n", "12", "--width", "8",
                       "--sparsity", "2", "--samples", "600", "--trials", "2",
                       "--max-degree", "2", "--quiet")
    assert code == 0
    assert "max |A(x)| over all 2^12 points = 2" in out
    assert "PAC verification" in out


def test_certify_saved_network(tmp_path, capsys):
    path = tmp_path / "junta.npz"
    junta_network(lambda z: z.prod(axis=1), [0, 2, 4], 9).save(path)
    code, out, _ = run(capsys, "certify", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["certified_sparsity"] == 1
    assert report["activation_histogram"] == [0, 2**9] + [0] * 7


def test_certify_reports_time_limit_without_claiming_a_value(tmp_path, capsys):
    # A dense random network on 2^48 points: far beyond any budget.
    path = tmp_path / "dense.npz"
    random_network(48, 64, random_state=0).save(path)
    code, _, err = run(capsys, "certify", str(path), "--time-limit", "0.5")
    assert code == cli.EXIT_USAGE
    assert "not certified" in err and "at least" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["certify", "missing.npz"], "no such file"),
    (["demo", "--target", "bump", "--width", "2", "--sparsity", "3"],
     "k=3 exceeds the width s=2"),
    (["demo", "--width", "10", "--sparsity", "3"], "--width = sparsity * 2^t"),
    (["demo", "--n", "30"], "keeps n <= 24"),
    (["verify", "--width", "2", "--sparsity", "3"], "k=3 exceeds the width s=2"),
    (["verify", "--scheduler", "not-an-address"], "scheduler"),
])
def test_errors_are_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == cli.EXIT_USAGE
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_network_file(tmp_path, capsys):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"garbage")
    code, _, err = run(capsys, "certify", str(path))
    assert code == cli.EXIT_USAGE and "not a readable .npz" in err


@pytest.mark.parametrize("argv", [["demo", "--n", "0"], ["demo", "--width", "x"],
                                  ["nonsense"], []])
def test_bad_flags_exit_with_usage_error(argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == cli.EXIT_USAGE


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "sparselearn", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.startswith("sparselearn ")


def test_bounds_table_and_json(capsys):
    code, out, _ = run(capsys, "bounds", "--n", "100", "--width", "64", "--sparsity", "2",
                       "--samples", "1000")
    assert code == 0 and "envelope" in out and "ADKM Conjecture 20" in out
    code, out, _ = run(capsys, "bounds", "--n", "100", "--width", "64", "--sparsity", "2",
                       "--samples", "1000", "--W", "0.5", "--B", "2", "--json")
    report = json.loads(out)  # strict JSON: no NaN literals
    rows = {row["name"]: row for row in report["rows"]}
    # Envelope k (A + B) with A = W R and R defaulting to the cube's sqrt(n) = 10.
    assert rows["envelope"]["value"] == pytest.approx(2 * (0.5 * 10 + 2))
    assert rows["dense"]["value"] == pytest.approx(2 * 64 * (0.5 * 10 + 2) / 1000**0.5)
    assert rows["ADKM Conjecture 20"]["kind"] == "rate"
    assert report["best_upper"] == min(rows[name]["value"]
                                       for name in ("envelope", "dense", "sparse upper"))


def test_bounds_bad_parameters(capsys):
    code, _, err = run(capsys, "bounds", "--n", "10", "--width", "2", "--sparsity", "3",
                       "--samples", "10")
    assert code == cli.EXIT_USAGE and "k=3 exceeds the width" in err
    code, _, err = run(capsys, "bounds", "--n", "10", "--width", "2", "--sparsity", "1",
                       "--samples", "10", "--B", "-1")
    assert code == cli.EXIT_USAGE and "B must be >= 0" in err


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


def test_learn_then_predict(tmp_path, capsys, parity_data):
    X, y, csv, npz = parity_data
    model = tmp_path / "model.npz"
    code, out, _ = run(capsys, "learn", str(csv), "--out", str(model), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["degree"] == 2
    top = {tuple(row["subset"]): row["coefficient"] for row in report["top_coefficients"][:2]}
    assert top[(2, 7)] == pytest.approx(1.0, abs=0.02)
    assert top[(4,)] == pytest.approx(-0.5, abs=0.02)
    predictions = tmp_path / "pred.npy"
    code, _, err = run(capsys, "predict", str(model), str(npz), "--out", str(predictions))
    assert code == 0
    from sparselearn import LowDegreeRegressor
    np.testing.assert_array_equal(np.load(predictions), LowDegreeRegressor.load(model).predict(X))
    # The .npz carries labels, so the error is reported: about the noise level.
    assert "mean squared error" in err
    code, out, _ = run(capsys, "predict", str(model), str(csv), "--json")
    assert json.loads(out)["mse"] < 0.01


def test_learn_and_predict_bad_input(tmp_path, capsys, parity_data):
    X, y, csv, npz = parity_data
    text = tmp_path / "words.csv"
    text.write_text("a,b\nc,d\n")
    bad_points = tmp_path / "real.npz"
    np.savez(bad_points, X=X * 0.5, y=y)
    cases = [
        (["learn", str(text)], "not a numeric CSV"),
        (["learn", str(tmp_path / "missing.csv")], "no such file"),
        (["learn", str(bad_points)], "+1 or -1"),
        (["learn", str(csv), "--degree", "11"], "degree=11 exceeds n_features=10"),
        (["predict", str(npz), str(csv)], "not a saved LowDegreeRegressor"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == cli.EXIT_USAGE, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1


def test_verify_sweep_table_csv_and_plot(tmp_path, capsys):
    table = tmp_path / "sweep.csv"
    figure = tmp_path / "sweep.png"
    argv = ["verify", "--n", "8", "--width", "8", "--sparsity", "2", "4",
            "--samples", "100", "400", "--target", "juntas", "--trials", "3",
            "--eps", "0.05", "--noise", "0.1", "--out", str(table), "--plot", str(figure)]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "written to" in out and figure.stat().st_size > 0
    rows = table.read_text().strip().splitlines()
    assert len(rows) == 1 + 4  # header + (2 sparsities x 2 sample sizes)
    code, out, _ = run(capsys, *argv[:-4], "--json")
    report = json.loads(out)
    assert len(report["rows"]) == 4
    assert all(row["exact"] and row["successes"] == 3 for row in report["rows"])
    # Same seed, same sweep: the JSON run reproduces the CSV run's table.
    code, again, _ = run(capsys, *argv[:-4], "--json")
    assert json.loads(again) == report
