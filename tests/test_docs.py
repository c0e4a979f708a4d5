"""The documentation: Sphinx builds with warnings as errors, and every
docstring example in the public modules runs and prints what it shows."""
import doctest
import importlib
import importlib.util
import os
import pathlib
import pkgutil
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PUBLIC_MODULES = ["network", "targets", "cube", "fourier", "learners", "pac",
                  "rademacher", "erm", "io", "interop", "profile"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"sparselearn.{name}")
    # doctest.testmod collects only what a module defines itself: for a
    # package (pac, rademacher) also run each submodule's examples, in the
    # package's namespace, where the documented names live.
    modules = [module] + [importlib.import_module(f"{module.__name__}.{info.name}")
                          for info in pkgutil.iter_modules(getattr(module, "__path__", []))]
    failed = 0
    for each in modules:
        result = doctest.testmod(each, extraglobs=vars(module),
                                 optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
        failed += result.failed
    assert failed == 0


@pytest.fixture(scope="module")
def built_html(tmp_path_factory):
    """The site built once by ``sphinx -W`` (warnings are errors), or a failure."""
    pytest.importorskip("sphinx", reason="install the test extra: pip install -e '.[test]'")
    pytest.importorskip("numpydoc")
    html = tmp_path_factory.mktemp("docs") / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(ROOT / "docs"), str(html)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return html


def test_sphinx_build_has_no_warnings(built_html):
    assert (built_html / "index.html").exists()
    for page in ("theory", "quickstart", "api/network"):
        assert (built_html / f"{page}.html").exists()


# Debian's libjs-mathjax; docs/conf.py uses it when present.
_LOCAL_MATHJAX = pathlib.Path("/usr/share/javascript/mathjax/MathJax.js")
_REMOTE_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="(?:https?:)?//[^"]*"', re.I)


def test_math_needs_no_network_when_mathjax_is_installed(built_html, tmp_path):
    """With Debian's MathJax installed, no page loads a remote script, the
    local copy is in the site, and (when Chromium is there) the formulas of
    the theory page render offline, from file://, with every host blocked."""
    if not _LOCAL_MATHJAX.is_file():
        pytest.skip("Debian's MathJax is not installed (apt-get install libjs-mathjax); "
                    "the docs then load MathJax from its CDN")
    pages = list(built_html.rglob("*.html"))
    remote = [(page.name, match.group(0)) for page in pages
              for match in _REMOTE_SCRIPT.finditer(page.read_text(encoding="utf-8"))]
    assert not remote, remote[:3]
    theory = (built_html / "theory.html").read_text(encoding="utf-8")
    assert 'src="_static/mathjax/MathJax.js?config=TeX-AMS_CHTML"' in theory
    assert (built_html / "_static" / "mathjax" / "MathJax.js").is_file()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=20000",
         "--dump-dom", (built_html / "theory.html").as_uri()],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # MathJax's CommonHTML output: one element per typeset formula; raw TeX
    # (no MathJax) leaves none.  The page has more than a hundred formulas.
    assert done.stdout.count('class="mjx-chtml') > 100
    assert "Math Processing Error" not in done.stdout


def test_code_blocks_scroll_instead_of_being_cut(built_html):
    """The site's stylesheet lets wide code blocks scroll sideways."""
    page = (built_html / "rademacher.html").read_text(encoding="utf-8")
    assert "_static/custom.css" in page
    css = (built_html / "_static" / "custom.css").read_text(encoding="utf-8")
    assert re.search(r"pre[^{]*\{[^}]*overflow-x:\s*auto", css)


# Pages whose examples are doctests: their shown output is the code's.
DOCTEST_PAGES = ["quickstart.rst", "fourier.rst", "learners.rst", "rademacher.rst",
                 "erm.rst", "digits.rst", "pac.rst"]


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_shown_outputs_in_the_docs_are_the_codes(page):
    """Every ``>>>`` example on the page runs and prints what the page shows
    (so a shown output cannot drift from the code, as rademacher.rst's "NO"
    for what the table prints as "n/a" once did)."""
    path = ROOT / "docs" / page
    assert ">>> " in path.read_text(encoding="utf-8"), f"{page} has no doctest examples"
    result = doctest.testfile(str(path), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_docs_show_no_output_outside_doctests():
    """No page shows a program's output in a plain ``code-block:: text``
    after a python block: outputs are doctests."""
    import glob

    for name in sorted(glob.glob(str(ROOT / "docs" / "*.rst"))):
        text = pathlib.Path(name).read_text(encoding="utf-8")
        assert ".. code-block:: text" not in text, name


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
    # The PyTorch section's lines need its Python block's files (tested below).
    lines = [line for line in lines if "torch_net.npz" not in line]
    assert len(lines) >= 3
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, (line, result.stderr)
        if line.startswith("sparselearn certify") and "sparsity: 2" in line:
            assert "certified sparsity  2" in result.stdout


def test_quickstart_pytorch_section_runs_and_says_what_it_shows(tmp_path, monkeypatch,
                                                                capsys):
    """The quickstart's PyTorch section runs as written (training, torch.save,
    import, save, then its shell lines, through ``cli.main`` in process), and
    what its comments state holds when checked against torch's own
    pre-activations."""
    import json
    import shlex

    import numpy as np

    from sparselearn import cli

    torch = pytest.importorskip("torch")
    text = (ROOT / "docs" / "quickstart.rst").read_text()
    section = text.split("From a PyTorch training script", 1)[1]
    block = section.split(".. code-block:: python\n\n", 1)[1].split("\n.. code-block::", 1)[0]
    code = "\n".join(line[3:] for line in block.splitlines())
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # 300 tiny steps: 1 s on one thread, 15 s with two on a busy machine
    try:
        namespace = {}
        exec(compile(code, "quickstart.rst", "exec"), namespace)
    finally:
        torch.set_num_threads(threads)
    net, X64, module = namespace["net"], namespace["X64"], namespace["module"]
    assert np.abs(net(X64) - namespace["reference"][:, 0]).max() < 1e-5
    cube_points = 1.0 - 2.0 * ((np.arange(2**10)[:, None] >> np.arange(10)) & 1)
    with torch.no_grad():
        layer = module[0].double()
        on_cube = (layer(torch.from_numpy(cube_points)) > 0).sum(dim=1).numpy()
        on_data = (layer(torch.from_numpy(X64)) > 0).sum(dim=1).numpy()
    certified = namespace["cube"].certify_sparsity(net).max_active
    assert certified == on_cube.max()
    lines = _shell_lines("docs/quickstart.rst", "sparselearn")
    lines = [line for line in lines if "torch_net.npz" in line]
    assert len(lines) == 3
    outputs = []
    capsys.readouterr()
    for line in lines:
        argv = shlex.split(line, comments=True)
        assert argv[0] == "sparselearn"
        assert cli.main(argv[1:]) == 0, (line, capsys.readouterr().err)
        outputs.append(capsys.readouterr().out)
    assert f"certified sparsity  {certified} " in outputs[0]
    assert f"certified sparsity  {on_data.max()} " in outputs[1]
    profile = json.loads(outputs[2])
    assert profile["histogram"] == np.bincount(on_data, minlength=33).tolist()


def test_quickstart_onnx_export_block_runs_and_imports_the_module(tmp_path, monkeypatch):
    """The quickstart's ``torch.onnx.export`` block runs as written on the
    PyTorch section's module (untrained here) and gives that module's network."""
    import warnings

    import numpy as np

    from sparselearn import SparseReLUNetwork

    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    text = (ROOT / "docs" / "quickstart.rst").read_text()
    block = text.split("From PyTorch, the TorchScript exporter", 1)[1]
    block = block.split(".. code-block:: python\n\n", 1)[1].split("\n\n", 1)[0]
    code = "\n".join(line[3:] for line in block.splitlines())
    assert "torch.onnx.export" in code
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
    namespace = {"torch": torch, "module": module, "SparseReLUNetwork": SparseReLUNetwork}
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # the TorchScript exporter's
        exec(compile(code, "quickstart.rst", "exec"), namespace)
    assert namespace["net"] == SparseReLUNetwork.from_torch(module)
    X = np.random.default_rng(0).normal(size=(7, 10)).astype(np.float32)   # 7 rows: dynamic
    reference = ReferenceEvaluator(onnx.load(str(tmp_path / "model.onnx"))).run(
        None, {"x": X})[0]
    np.testing.assert_allclose(namespace["net"](X.astype(np.float64)), reference[:, 0],
                               rtol=1e-5, atol=1e-5)


def test_rademacher_page_bounds_commands_run_as_written(tmp_path):
    """docs/rademacher.rst's shell lines (an oracle network, then the bounds of
    the class it is certified in over the cube) run as written, in a fresh
    folder, and the certified k is the one the comment states (by construction)."""
    lines = _shell_lines("docs/rademacher.rst", "sparselearn")
    assert [line.split()[1] for line in lines] == ["target", "bounds"]
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, (line, result.stderr)
    stated = re.search(r"# k = (\d+), certified", lines[1]).group(1)
    assert "k from a certificate over {-1,1}^12" in result.stdout
    assert f"H(n=12, s=16, k={stated}," in result.stdout


def test_readme_target_and_certify_commands_run_as_written(tmp_path):
    """The README's command-line lines that make an oracle network and
    certify it run as written, in a fresh folder, within a minute each, and
    print the sparsity their comments state."""
    block = (ROOT / "README.md").read_text().split("## Command line", 1)[1]
    block = block.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines()
             if line.startswith(("sparselearn target", "sparselearn certify"))]
    assert [line.split()[1] for line in lines] == ["target", "certify", "certify"]
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, (line, result.stderr)
        stated = re.search(r"# (\d+)\b", line)
        if line.startswith("sparselearn certify"):
            assert f"certified sparsity  {stated.group(1)}" in result.stdout, line


def test_readme_asv_block_installs_asv_records_a_commit_and_serves_offline():
    """The README's benchmark commands work on a fresh machine: they install
    the bench extra (which has asv), run the script that records results
    under the commit hash (a bare 'asv run --quick' records nothing that
    'asv publish' shows), and serve through the command that replaces the
    dashboard's CDN JavaScript by local copies (CI runs the first two; the
    dashboard tests run the third)."""
    import tomllib

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ['pip install -e ".[bench]"', "asv_bench/run_quick.sh",
                        "python asv_bench/dashboard.py --no-publish"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(req.startswith("asv") for req in extras["bench"])
    script = ROOT / "asv_bench" / "run_quick.sh"
    assert os.access(script, os.X_OK)
    assert "--set-commit-hash" in script.read_text() and "dashboard.py" in script.read_text()
    done = subprocess.run([sys.executable, str(ROOT / "asv_bench" / "dashboard.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--no-publish" in done.stdout


def test_readme_performance_rows_name_scripts_and_flags_that_exist():
    """Every figure in the README's performance table names the script that
    prints it, with flags that script accepts."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Performance", 1)[1]
    section = section.split("\n## ", 1)[0]
    commands = re.findall(r"`python (benchmarks/\w+\.py)([^`]*)`", section)
    assert len({script for script, _ in commands}) >= 5
    for script, _ in commands:
        assert (ROOT / script).is_file(), script
    # The scripts answer --help before importing sparselearn (a Python and
    # NumPy start each, about 0.3 s): started together all the same.
    running = {script: subprocess.Popen([sys.executable, str(ROOT / script), "--help"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for script in dict.fromkeys(script for script, _ in commands)}
    helps = {}
    try:
        for script, process in running.items():
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, (script, err[-500:])
            helps[script] = out
    finally:  # none left running after a failure
        for process in running.values():
            process.kill()
    for script, arguments in commands:
        for flag in re.findall(r"--[\w-]+", arguments):
            assert flag in helps[script], (script, flag)


def test_compare_erm_names_the_settings_the_mlp_wins(capsys):
    """compare_erm.py's verdict line counts both sides and names the MLP's wins."""
    spec = importlib.util.spec_from_file_location("compare_erm",
                                                  ROOT / "benchmarks" / "compare_erm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.print_verdict({("cube", 2, 64): [0.03, 0.10], ("cube", 2, 4096): [0.059, 0.047]})
    line = capsys.readouterr().out.strip()
    assert line == ("lower median held-out error: SparseReLU in 1/2 settings, MLPRegressor "
                    "in 1/2: cube k=2 s=4096 (0.0470 vs 0.0590)")


# ------------------------------------------------- the theory page and its citations
def _theory_text() -> str:
    """docs/theory.rst with runs of whitespace collapsed (statements wrap anywhere)."""
    return " ".join((ROOT / "docs" / "theory.rst").read_text(encoding="utf-8").split())


@pytest.mark.parametrize("statement, snippet", [
    # The theory the library follows states these; the code and the other
    # pages rely on them, so the page they cite must state them too.
    ("ADKM's cost, exponent k log(ns)", r"n^{\mathrm{poly}(k\log(ns))}"),
    ("agnostic guarantee over the best degree-d approximation", r"W^{>d}[g]+O(\varepsilon)"),
    ("noisy labels with mean-0 noise are realizable", r"noisy *realizable* learning"),
    ("the noise-sensitivity tail bound needs d >= 2", r":math:`d\ge2`"),
    ("the sparse difference bound's support count", r"|A(x)\cup A(y)|"),
    ("mean sparsity", r"*mean sparsity*"),
    ("Cor. 13's U_m is the minimum of Thm 2's three bounds", r"three upper bounds of Thm 2"),
])
def test_theory_page_states_the_statements_the_code_cites(statement, snippet):
    assert snippet in _theory_text(), f"docs/theory.rst does not state: {statement}"


# "docs/theory.rst, section 3", "docs/theory.rst sections 2 and 4", ":ref:`... <theory-3>`".
_SECTION_CITATION = re.compile(r"docs/theory\.rst,?\s+sections?\s+(\d+)(?:\s+and\s+(\d+))?")
_SECTION_REF = re.compile(r"<theory-(\d+)>")
# Li et al.'s and ADKM's numbered results, as the code and docs cite them.
_RESULT_CITATION = re.compile(r"\b(?:Thm|Prop|Lemma|Conjecture) \d+|\bCor\. \d+|\beq\. \(\d+\)")


def _cited_files():
    for folder in ("sparselearn", "docs", "examples", "benchmarks", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".py", ".pyx", ".rst"} and "_build" not in path.parts:
                yield path
    yield ROOT / "README.md"
    yield ROOT / "CONTRIBUTING.md"


def test_theory_citations_point_at_sections_and_results_on_the_page():
    """Every "docs/theory.rst, section N" and ``<theory-N>`` names a section
    the page has, and every numbered result cited in the package and the
    docs (Thm 2, Cor. 13, eq. (15), ...) is on the page."""
    page = (ROOT / "docs" / "theory.rst").read_text(encoding="utf-8")
    sections = set(re.findall(r"^\.\. _theory-(\d+):$", page, re.M))
    results = set(_RESULT_CITATION.findall(" ".join(page.split())))
    assert sections == {"1", "2", "3", "4", "5"}
    bad = []
    for path in _cited_files():
        text = " ".join(path.read_text(encoding="utf-8").split())
        cited = {n for match in _SECTION_CITATION.findall(text) for n in match if n}
        cited |= set(_SECTION_REF.findall(text))
        bad += [f"{path.relative_to(ROOT)}: section {n}" for n in sorted(cited - sections)]
        if path.parts[len(ROOT.parts)] in ("sparselearn", "docs") and path.name != "theory.rst":
            bad += [f"{path.relative_to(ROOT)}: {label}"
                    for label in sorted(set(_RESULT_CITATION.findall(text)) - results)]
    assert not bad, "citations of docs/theory.rst with no target: " + "; ".join(bad)
