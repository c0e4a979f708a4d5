"""The documentation: Sphinx builds with warnings as errors, and every
docstring example in the public modules runs and prints what it shows."""
import doctest
import importlib
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PUBLIC_MODULES = ["network", "targets", "cube", "fourier", "learners", "pac",
                  "rademacher", "erm", "io", "interop", "profile"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"sparselearn.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE
                             | doctest.ELLIPSIS)
    assert result.failed == 0


def test_sphinx_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="install the test extra: pip install -e '.[test]'")
    pytest.importorskip("numpydoc")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(ROOT / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "html" / "index.html").exists()
    for page in ("theory", "quickstart", "api/network"):
        assert (tmp_path / "html" / f"{page}.html").exists()


def test_readme_tour_runs_and_says_what_it_shows():
    """The README's Python tour runs, and the values its comments state hold."""
    text = (ROOT / "README.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["cube"].certify_sparsity(namespace["net"]).max_active == 2
    assert namespace["fourier"].tail_weight(namespace["spec"], 2) < 1e-20
    assert namespace["model"].degree_ == 2


def test_readme_import_and_certify_blocks_run_and_say_what_they_show():
    """The README's bring-your-own-network blocks run as written, and the
    certificates they show are consistent with independent counts."""
    import re

    import numpy as np

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    namespace = {}
    for code in blocks[1:3]:
        exec(compile(code, "README.md", "exec"), namespace)
    net, X, cube = namespace["net"], namespace["X"], namespace["cube"]
    on_data = cube.certify_sparsity(net, domain=X)
    assert on_data.max_active == int(np.max(net.activation_counts(X)))
    box = cube.certify_sparsity(net, domain=cube.Box(0.0, 16.0))
    assert on_data.max_active <= box.max_active <= net.width
    assert int(net.activation_counts(box.witness[None, :])[0]) == box.max_active


def _shell_lines(path, start):
    """The lines of the ``.. code-block:: bash`` blocks of ``path`` that start
    with ``start``, comments included (the shell drops them)."""
    import re

    text = (ROOT / path).read_text()
    blocks = re.findall(r"\.\. code-block:: bash\n\n((?:   .*\n|\n)+)", text)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip().startswith(start)]


def test_quickstart_target_and_certify_commands_run_as_written(tmp_path):
    """The quickstart's shell lines that make oracle networks and certify one
    run as written (in a fresh folder) and print what their comments say."""
    lines = _shell_lines("docs/quickstart.rst", ("sparselearn target", "sparselearn certify"))
    assert len(lines) >= 3
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, (line, result.stderr)
        if line.startswith("sparselearn certify") and "sparsity: 2" in line:
            assert "certified sparsity  2" in result.stdout
