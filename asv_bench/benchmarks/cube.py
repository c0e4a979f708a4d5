"""Benchmarks for sparselearn.cube: the walks over the cube (truth table,
activation histogram) next to their brute-force NumPy twins, and certified
sparsity next to exhaustive enumeration where that is still feasible, on
bump networks (settled by the pairwise reduction) and on sparse random
networks (settled by the subcube search).

The issue's requirement is read off ``ActivationHistogram`` at ``n = 20,
s = 256``: ``time_twin / time_activation_histogram >= 5``."""

from asv_runner.benchmarks.mark import SkipNotImplemented

from sparselearn import cube
from sparselearn._reference import cube as reference
from sparselearn.targets import bump_network, random_network

# Exhaustive twins beyond this take tens of seconds and measure NumPy.
_TWIN_MAX_N = 20


class _Walk:
    params = ([16, 20], [64, 256])
    param_names = ["n", "s"]

    def setup(self, n, s):
        self.net = random_network(n, s, random_state=n + s, bias_quantile=0.9)


class TruthTable(_Walk):
    """``cube.truth_table`` versus ``relu(P W^T - b) @ u + c`` over all points."""

    def time_truth_table(self, n, s):
        cube.truth_table(self.net)

    def time_twin(self, n, s):
        net = self.net
        reference.truth_table(net.weights, net.biases, net.output_weights,
                              net.output_bias)

    def peakmem_truth_table(self, n, s):
        cube.truth_table(self.net)


class ActivationHistogram(_Walk):
    """``cube.activation_histogram`` versus ``bincount`` of brute-force counts."""

    def time_activation_histogram(self, n, s):
        cube.activation_histogram(self.net)

    def time_twin(self, n, s):
        reference.activation_histogram(self.net.weights, self.net.biases)

    def peakmem_activation_histogram(self, n, s):
        cube.activation_histogram(self.net)


class CertifyBump:
    """``cube.certify_sparsity`` on ``bump_network(n, 64, 2)``; the exhaustive
    twin only where ``2^n`` points are within reach."""

    params = [16, 20, 32, 40, 48]
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        self.net = bump_network(n, 64, 2, random_state=0)

    def time_certify_sparsity(self, n):
        cube.certify_sparsity(self.net)

    def time_twin(self, n):
        if n > _TWIN_MAX_N:
            raise SkipNotImplemented("the NumPy twin is too slow at this size")
        reference.max_active(self.net.weights, self.net.biases)

    def peakmem_certify_sparsity(self, n):
        cube.certify_sparsity(self.net)

    def track_nodes(self, n):
        return cube.certify_sparsity(self.net).n_nodes

    track_nodes.unit = "subcubes"


class CertifySearch:
    """``cube.certify_sparsity`` on random networks with high thresholds,
    where the subcube search (not the pairwise reduction) does the work."""

    params = [16, 20, 28]
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        self.net = random_network(n, 32, random_state=5, bias_quantile=0.97)

    def time_certify_sparsity(self, n):
        cube.certify_sparsity(self.net)

    def time_twin(self, n):
        if n > _TWIN_MAX_N:
            raise SkipNotImplemented("the NumPy twin is too slow at this size")
        reference.max_active(self.net.weights, self.net.biases)

    def track_nodes(self, n):
        return cube.certify_sparsity(self.net).n_nodes

    track_nodes.unit = "subcubes"


class ExactWalk:
    """``activation_histogram`` with exact decisions next to the same walk
    with a zero rounding bound (the float walk before exact decisions), on
    Gaussian, decimal (multiples of 0.1) and dyadic (multiples of 1/8)
    weights; for dyadic weights the two are the same code path."""

    params = (["gaussian", "decimal", "dyadic"],)
    param_names = ["weights"]
    n, s = 16, 128

    def setup(self, weights):
        import numpy as np

        from sparselearn import SparseReLUNetwork
        rng = np.random.default_rng(0)
        W = rng.normal(size=(self.s, self.n)) / np.sqrt(self.n)
        b = np.quantile(reference.points(self.n, 0, 4096) @ W.T, 0.9, axis=0)
        if weights != "gaussian":
            step = 0.1 if weights == "decimal" else 0.125
            W, b = np.round(W / step) * step, np.round(b / step) * step
        self.net = SparseReLUNetwork(W, b, np.ones(self.s))

    def time_exact(self, weights):
        cube.activation_histogram(self.net)

    def time_float(self, weights):
        import numpy as np

        from sparselearn._kernels import _cube
        net = self.net
        weights_t = np.ascontiguousarray(net.weights.T)
        hist = np.zeros(net.width + 1, dtype=np.int64)
        bits, batches = cube._chunk_batches(net.n_features)
        zero = np.zeros(net.width)
        for start, stop in batches:
            _cube.activation_histogram(weights_t, net.biases, zero, bits, start, stop, hist)
