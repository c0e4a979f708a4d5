"""The package's top level (sparselearn/__init__.py): what it exports, and
that the estimators and submodules load on first use."""
import subprocess
import sys

import sparselearn


def test_import_and_command_help_do_not_load_scikit_learn():
    # The estimators import scikit-learn (about 2 CPU seconds): `import
    # sparselearn` and `sparselearn --help` must not pay for them.
    code = "\n".join([
        "import sys",
        "import sparselearn",
        "assert 'sklearn' not in sys.modules, 'import sparselearn loaded sklearn'",
        "from sparselearn.cli import main",
        "try:",
        "    main(['--help'])",
        "except SystemExit as exc:",
        "    assert exc.code == 0, exc.code",
        "assert 'sklearn' not in sys.modules, '--help loaded sklearn'",
        "assert sparselearn.LowDegreeRegressor.__module__ == 'sparselearn.learners'",
        "assert 'sklearn' in sys.modules",
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: sparselearn" in result.stdout


def test_commands_without_an_estimator_do_not_load_scikit_learn(tmp_path):
    net = str(tmp_path / "net.npz")
    code = "\n".join([
        "import sys",
        "from sparselearn.cli import main",
        "assert main(['target', 'junta', '--n', '8', '--width', '8', '--sparsity', '2', "
        f"'--out', {net!r}, '--quiet']) == 0",
        f"assert main(['certify', {net!r}, '--quiet']) == 0",
        "assert main(['bounds', '--n', '8', '--width', '4', '--sparsity', '2', "
        "'--samples', '100', '--quiet']) == 0",
        "assert 'sklearn' not in sys.modules, 'a command loaded sklearn'",
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_every_exported_name_and_public_submodule_resolves():
    namespace = {}
    exec("from sparselearn import *", namespace)
    assert set(sparselearn.__all__) <= set(namespace)
    for name in sparselearn.__all__:
        assert getattr(sparselearn, name) is namespace[name]
        assert name in dir(sparselearn)
    import importlib
    import pkgutil
    public = {info.name for info in pkgutil.iter_modules(sparselearn.__path__)
              if not info.name.startswith("_")}
    assert public == set(sparselearn._LAZY_SUBMODULES)  # the list cannot drift
    for name in public:
        assert getattr(sparselearn, name) is importlib.import_module(f"sparselearn.{name}")
    from sparselearn import learners
    assert sparselearn.LowDegreeClassifier is learners.LowDegreeClassifier


def test_unknown_attribute_is_an_attribute_error():
    try:
        sparselearn.LowDegreeRegresor
    except AttributeError as exc:
        assert "LowDegreeRegresor" in str(exc)
    else:
        raise AssertionError("no AttributeError")
    assert not hasattr(sparselearn, "no_such_module")
