"""Benchmarks for sparselearn.network: the forward pass, activation counts and
active supports (Cython row kernels after one BLAS product), each next to its
NumPy twin from :mod:`sparselearn._reference.network` on the same inputs.

Inputs are random +-1 points; the network is a random one whose units are
active on about 10% of inputs (``bias_quantile=0.9``), the sparse regime the
library is about."""
import numpy as np

from sparselearn._reference import network as reference
from sparselearn.targets import random_network


class _RowKernel:
    """Shared setup: ``m`` points of ``{-1,1}^n`` and a width-``s`` network."""

    params = ([10_000, 100_000], [64, 256])
    param_names = ["m", "s"]
    n = 64

    def setup(self, m, s):
        rng = np.random.default_rng(m + s)
        self.net = random_network(self.n, s, random_state=s, bias_quantile=0.9)
        self.X = rng.choice(np.array([-1.0, 1.0]), size=(m, self.n))

    def _twin_inner_products(self):
        return self.X @ self.net.weights.T


class Forward(_RowKernel):
    """``net(X)`` versus ``relu(X W^T - b) @ u + c`` in NumPy."""

    def time_forward(self, m, s):
        self.net.forward(self.X)

    def time_twin(self, m, s):
        net = self.net
        reference.relu_combine(self._twin_inner_products(), self.X, net.weights,
                               net.biases, net.output_weights) + net.output_bias

    def peakmem_forward(self, m, s):
        self.net.forward(self.X)

    def peakmem_twin(self, m, s):
        self.time_twin(m, s)


class ActivationCounts(_RowKernel):
    """``net.activation_counts(X)`` versus counting ``X W^T - b > 0`` in NumPy."""

    def time_activation_counts(self, m, s):
        self.net.activation_counts(self.X)

    def time_twin(self, m, s):
        reference.count_active(self._twin_inner_products(), self.X, self.net.weights,
                               self.net.biases)

    def peakmem_activation_counts(self, m, s):
        self.net.activation_counts(self.X)


class ActiveSupports(_RowKernel):
    """``net.active_supports(X)`` (CSR) versus ``np.nonzero`` on the mask."""

    def time_active_supports(self, m, s):
        self.net.active_supports(self.X)

    def time_twin(self, m, s):
        reference.supports(self._twin_inner_products(), self.X, self.net.weights,
                           self.net.biases)

    def peakmem_active_supports(self, m, s):
        self.net.active_supports(self.X)


class ExactDecisions:
    """What exact activity decisions cost: ``activation_counts`` (exact)
    next to the plain float test through the same chunks (``count_positive``,
    the code before exact decisions), on Gaussian weights (near-ties rare),
    decimal weights (multiples of 0.1: near-ties common, re-decided exactly)
    and dyadic weights (multiples of 1/8: the float path is exact, bound 0)."""

    params = (["gaussian", "decimal", "dyadic"],)
    param_names = ["weights"]
    m, n, s = 20_000, 64, 256

    def setup(self, weights):
        from sparselearn import SparseReLUNetwork
        rng = np.random.default_rng(0)
        W = rng.normal(size=(self.s, self.n)) / np.sqrt(self.n)
        if weights != "gaussian":
            step = 0.1 if weights == "decimal" else 0.125
            W = np.round(W / step) * step
        self.X = rng.choice(np.array([-1.0, 1.0]), size=(self.m, self.n))
        b = np.quantile(self.X[:4096] @ W.T, 0.9, axis=0)
        if weights != "gaussian":
            b = np.round(b / step) * step
        self.net = SparseReLUNetwork(W, b, np.ones(self.s))

    def time_exact(self, weights):
        self.net.activation_counts(self.X)

    def time_float(self, weights):
        from sparselearn._kernels import _network
        counts = np.empty(self.m, dtype=np.int64)
        for start, stop, G in self.net._inner_product_chunks(self.X):
            _network.count_positive(G, self.net.biases, counts[start:stop])


class Float32Screening:
    """``activation_counts`` and ``active_supports`` with their float32
    screening (the default: ``sgemm``, float64 re-decision of the entries
    within the float32 rounding bound) against the float64 kernels
    (``network._FLOAT32_SCREENING = False``), the comparison of
    ``benchmarks/compare_decisions.py``: Gaussian rows and weights, about 1%
    of the units active per row.  Both decide exactly (same results)."""

    params = ([1024, 4096],)
    param_names = ["s"]
    m, n = 20_000, 64

    def setup(self, s):
        from sparselearn import SparseReLUNetwork
        rng = np.random.default_rng(s)
        self.X = rng.normal(size=(self.m, self.n))
        W = rng.normal(size=(s, self.n)) / np.sqrt(self.n)
        b = np.quantile(self.X[:2000] @ W.T, 0.99, axis=0)
        self.net = SparseReLUNetwork(W, b, np.ones(s))

    def _float64(self, method):
        from sparselearn import network
        network._FLOAT32_SCREENING = False
        try:
            method(self.X)
        finally:
            network._FLOAT32_SCREENING = True

    def time_counts_float32(self, s):
        self.net.activation_counts(self.X)

    def time_counts_float64(self, s):
        self._float64(self.net.activation_counts)

    def time_supports_float32(self, s):
        self.net.active_supports(self.X)

    def time_supports_float64(self, s):
        self._float64(self.net.active_supports)


class MultiOutputForward:
    """``net(X)`` with ``o`` outputs (exact decisions, ``masked_relu``, then one
    BLAS product) versus the float NumPy ``relu(X W^T - b) @ U + c``; the same
    comparison as ``benchmarks/compare_multi_output.py``."""

    params = ([10_000, 100_000], [1, 10])
    param_names = ["m", "o"]
    n, s = 64, 256

    def setup(self, m, o):
        from sparselearn import SparseReLUNetwork
        rng = np.random.default_rng(m + o)
        hidden = random_network(self.n, self.s, random_state=0, bias_quantile=0.9)
        self.X = rng.choice(np.array([-1.0, 1.0]), size=(m, self.n))
        self.U = rng.normal(size=(self.s, o)) if o > 1 else rng.normal(size=self.s)
        self.c = rng.normal(size=o) if o > 1 else 0.5
        self.W, self.b = hidden.weights, hidden.biases
        self.net = SparseReLUNetwork(self.W, self.b, self.U, self.c)

    def time_forward(self, m, o):
        self.net(self.X)

    def time_numpy(self, m, o):
        np.maximum(self.X @ self.W.T - self.b, 0.0) @ self.U + self.c

    def peakmem_forward(self, m, o):
        self.net(self.X)

    def peakmem_numpy(self, m, o):
        self.time_numpy(m, o)
