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
