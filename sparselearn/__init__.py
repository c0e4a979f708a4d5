"""sparselearn: learning neural networks whose hidden activations are sparse.

Modules, in the order data flows through them (target, samples, learner,
verification):

- :mod:`sparselearn.network`: the model :class:`SparseReLUNetwork`.
- :mod:`sparselearn.targets`: oracle networks whose sparsity is known.
- :mod:`sparselearn.cube`: exact computations over ``{-1, 1}^n``.
- :mod:`sparselearn.fourier`: Walsh-Hadamard transform, spectra, degree
  weights, influence and noise sensitivity, exact and estimated.
- :mod:`sparselearn.learners`: :class:`LowDegreeRegressor` and
  :class:`LowDegreeClassifier`, least squares over low-degree parities.
- :mod:`sparselearn.pac`: empirical verification of PAC guarantees and
  sample-complexity curves.
- :mod:`sparselearn.erm`: :class:`SparseReLURegressor`, approximate ERM over
  the sparse class.
- :mod:`sparselearn.rademacher`: Rademacher complexity bounds, extremal
  constructions and Monte-Carlo estimates.
"""
from ._startup import guard as _guard_start_up

# First, before the slow imports: for the sparselearn command (only), Ctrl-C
# while it starts is one line and exit 130, not a traceback.
_guard_start_up()

try:
    from ._kernels import _network  # noqa: F401  (compiled: fails first if absent)
except ImportError as exc:  # pragma: no cover - depends on how it was installed
    raise ImportError(
        "sparselearn's compiled kernels are missing: this usually means Python is "
        "importing the source tree (for instance `python -m sparselearn` run from the "
        "repository root after a plain `pip install .`). Build in place with "
        "`pip install -e .`, or run from another directory / use the `sparselearn` "
        f"command. ({exc})") from None

from ._config import show_config
from ._validation import MemoryBudgetError
from .network import SparseReLUNetwork

__version__ = "0.1.0"

__all__ = ["LowDegreeClassifier", "LowDegreeRegressor", "MemoryBudgetError",
           "SparseReLUClassifier", "SparseReLUNetwork", "SparseReLURegressor", "__version__", "show_config"]

# The estimators and the public submodules load on first use (SPEC 1's lazy
# loading, written out for these names): the estimators import scikit-learn,
# about 2 of the 2.5 CPU seconds `import sparselearn` took, which every
# `sparselearn` command paid, `--help` and `certify` included.
_LAZY_ESTIMATORS = {"LowDegreeClassifier": "learners", "LowDegreeRegressor": "learners",
                    "SparseReLUClassifier": "erm", "SparseReLURegressor": "erm"}
_LAZY_SUBMODULES = ("cli", "cube", "erm", "fourier", "interop", "io", "learners", "network",
                    "pac", "parities", "profile", "rademacher", "targets")


def __getattr__(name):
    import importlib

    if name in _LAZY_ESTIMATORS:
        value = getattr(importlib.import_module(f".{_LAZY_ESTIMATORS[name]}", __name__), name)
    elif name in _LAZY_SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_ESTIMATORS) | set(_LAZY_SUBMODULES))
