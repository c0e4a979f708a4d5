"""The example scripts that make the documentation's figures still run, and
never overwrite the tracked figures unless asked to.

The fast ones run here end to end: with ``--out DIR`` (into ``DIR``), with
no option (into a new temporary folder, which they print), and through
``python docs/make_figures.py NAME --out DIR``, the one command that
regenerates ``docs/figures`` (each way once, on one of the two scripts).  The two slow ones (``generalization_gap.py``,
about 30 s, and ``pac_sample_complexity.py``, several minutes) are run by
hand when their figures are regenerated.
"""
import hashlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIGURES = ROOT / "docs" / "figures"


def _run(argv, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _digests():
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in FIGURES.glob("*.png")}


def test_example_writes_into_the_folder_given(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "chosen"
    figure = out / "rademacher_constructions.png"
    result = _run([EXAMPLES / "rademacher_constructions.py", "--out", out], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert figure.stat().st_size > 10_000
    assert f"wrote {figure}" in result.stdout


def test_example_never_writes_into_docs_figures_by_default():
    pytest.importorskip("matplotlib")
    before = _digests()
    # No option, run from the repository root as the docstrings say: the
    # figure goes to a fresh temporary folder that the script names.
    result = _run([EXAMPLES / "degree_profiles.py"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    written = re.search(r"wrote (\S+\.png)", result.stdout)
    assert written, result.stdout
    path = pathlib.Path(written.group(1))
    assert path.name == "degree_profiles.png" and path.stat().st_size > 10_000
    assert FIGURES not in path.parents and "temporary folder" in result.stdout
    path.unlink()
    path.parent.rmdir()
    assert _digests() == before


def test_make_figures_runs_the_named_example_into_the_folder_given(tmp_path):
    pytest.importorskip("matplotlib")
    result = _run([ROOT / "docs" / "make_figures.py", "degree_profiles", "--out", tmp_path],
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "degree_profiles.png").stat().st_size > 10_000
    result = _run([ROOT / "docs" / "make_figures.py", "nonsense"], cwd=tmp_path)
    assert result.returncode == 2 and "unknown example 'nonsense'" in result.stderr


def test_digits_example_fast_part_imports_profiles_and_certifies(tmp_path):
    # The fast part of the worked example of docs/digits.rst, as the page
    # runs it: the imported MLP reproduces predict, every sparse classifier
    # is certified k-sparse on its training images, and the figure is
    # written where asked.
    pytest.importorskip("matplotlib")
    result = _run([EXAMPLES / "digits_mlp.py", "--fast", "--out", tmp_path], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "predictions equal to MLPClassifier.predict: True" in out
    assert out.count("certified on the training images") == 2
    assert "<= k = 2: True" in out and "<= k = 8: True" in out
    assert "assume x uniform on {-1,1}^n" in out
    assert (tmp_path / "digits_sparsity.png").stat().st_size > 10_000
    # Box certificates (method="milp"): a certified value or an interval
    # lower <= upper.  The test images lie in [0, 16]^64, so no bound may be
    # below the exact maximum on them; the MLP's value, 63, is also what the
    # independent branch and bound certifies (docs/digits.rst).
    rows = re.findall(r"^(\S.*?)\s+test accuracy .* max on test data\s+(\d+)  "
                      r"on \[0,16\]\^64 (?:= (\d+)|in \[(\d+), (\d+)\])", out, re.M)
    assert len(rows) == 3, out
    for name, on_data, value, lower, upper in rows:
        lower, upper = (int(value), int(value)) if value else (int(lower), int(upper))
        assert int(on_data) <= lower <= upper <= 64, name
        if name.startswith("MLPClassifier"):
            assert lower <= 63 <= upper
