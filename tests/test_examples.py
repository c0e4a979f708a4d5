"""The example scripts that make the documentation's figures still run.

The fast ones run here end to end, writing their figures to a temporary
folder (``SPARSELEARN_FIGURE_DIR``) instead of ``docs/figures``.  The two
slow ones (``generalization_gap.py``, about 30 s, and
``pac_sample_complexity.py``, several minutes) are run by hand when their
figures are regenerated.
"""
import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script, figure", [
    ("degree_profiles.py", "degree_profiles.png"),
    ("rademacher_constructions.py", "rademacher_constructions.png"),
])
def test_example_runs_and_writes_its_figure(tmp_path, script, figure):
    pytest.importorskip("matplotlib")
    env = {**os.environ, "SPARSELEARN_FIGURE_DIR": str(tmp_path), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / figure).stat().st_size > 10_000
