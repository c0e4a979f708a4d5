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


def test_demo_certifies_the_planted_sparsity(capsys):
    code, out, err = run(capsys, "demo", "--n", "14", "--width", "16", "--sparsity", "3",
                         "--json")
    assert code == 0
    report = json.loads(out)
    assert report["certified_sparsity"] == 3
    histogram = np.array(report["activation_histogram"])
    # The histogram covers every point of the cube and tops out at k.
    assert histogram.sum() == 2**14
    assert np.flatnonzero(histogram).max() == 3


def test_demo_text_report(capsys):
    code, out, _ = run(capsys, "demo", "--n", "12", "--width", "8", "--quiet")
    assert code == 0
    assert "certified" in out and "max |A(x)| over all 2^12 points = 2" in out


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
    (["demo", "--width", "2", "--sparsity", "3"], "k=3 exceeds the width s=2"),
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
