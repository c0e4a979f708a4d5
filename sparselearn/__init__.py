"""sparselearn: learning neural networks whose hidden activations are sparse.

Modules, in the order data flows through them:

- :mod:`sparselearn.network`: the model :class:`SparseReLUNetwork`.
- :mod:`sparselearn.targets`: oracle networks whose sparsity is known.
- :mod:`sparselearn.cube`: exact computations over ``{-1, 1}^n``.
"""
from ._validation import MemoryBudgetError
from .network import SparseReLUNetwork

__version__ = "0.1.0"

__all__ = ["MemoryBudgetError", "SparseReLUNetwork", "__version__"]
