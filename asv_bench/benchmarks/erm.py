"""Benchmarks for sparselearn.erm: the sparse backward kernel against its
dense NumPy twin, the trainer's step (former against today's paths) and a
whole fit at two sizes."""
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sparselearn._kernels import _network, _sparse_backprop
from sparselearn._reference import sparse_backprop as reference
from sparselearn.erm import SparseReLURegressor, _initial_parameters, _squared_loss, _train
from sparselearn.targets import bump_network, random_network


class SparseBackward:
    """One minibatch gradient (m_b = 256, n = 100, about k/2 active units per
    row) as the width s grows: the kernel's cost follows k, the twin's s."""

    params = ([64, 512, 2048], [8])
    param_names = ["s", "k"]

    def setup(self, s, k):
        rng = np.random.default_rng(0)
        mb, n = 256, 100
        self.X = rng.normal(size=(mb, n))
        G = self.X @ (rng.normal(size=(s, n)) / np.sqrt(n)).T
        self.G = np.ascontiguousarray(G)
        self.b = np.quantile(G, 1.0 - k / (2 * s), axis=0)
        self.u = rng.normal(size=s)
        self.r = rng.normal(size=mb) / mb
        self.k = k
        counts = np.empty(mb, dtype=np.int64)
        _network.count_positive(self.G, self.b, counts)
        self.indptr = np.zeros(mb + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        self.indices = np.empty(self.indptr[-1], dtype=np.int64)
        self.values = np.empty(self.indptr[-1])
        self.n_kept = np.empty(mb, dtype=np.int64)
        _sparse_backprop.ranked_supports(self.G, self.b, k, self.indptr, self.indices,
                                         self.values, self.n_kept)
        self.grads = (np.empty((s, n)), np.empty(s), np.empty(s))
        # The trainer runs its kernels on one OpenMP thread.
        self.limits = threadpool_limits(limits=1, user_api="openmp")

    def teardown(self, s, k):
        self.limits.restore_original_limits()

    def time_kernel(self, s, k):
        _sparse_backprop.sparse_backward(self.X, self.r, self.u, self.indptr, self.indices,
                                         self.values, self.n_kept, True, 0.01, *self.grads)

    def time_twin(self, s, k):
        reference.sparse_backward(self.X, self.G, self.b, self.u, self.r, self.k, True, 0.01)

    def time_ranked_supports(self, s, k):
        _sparse_backprop.ranked_supports(self.G, self.b, self.k, self.indptr, self.indices,
                                         self.values, self.n_kept)

    def time_ranked_supports_twin(self, s, k):
        reference.ranked_supports(self.G, self.b, self.k)


class Fit:
    """A fit on a 2-sparse bump target on the cube, 20 epochs, two sizes."""

    sizes = {"m=1000,s=64": (1000, 64), "m=4000,s=256": (4000, 256)}
    params = list(sizes)
    param_names = ["size"]
    timeout = 120

    def setup(self, size):
        m, s = self.sizes[size]
        target = bump_network(12, 8, 2, radius=2, random_state=0)
        rng = np.random.default_rng(0)
        self.X = rng.choice([-1.0, 1.0], size=(m, 12))
        self.y = target(self.X)
        self.estimator = SparseReLURegressor(width=s, sparsity=2, W=8.0, B=10.0,
                                             max_epochs=20, tol=0.0,
                                             n_iter_no_change=20, random_state=0)

    def time_fit(self, size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator.fit(self.X, self.y)

    def peakmem_fit(self, size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator.fit(self.X, self.y)


class TrainerStep:
    """One epoch of the trainer (m = 2048 rows, batch 64: 32 steps) at n = 64,
    k = 8: the former step (two scans, dense Adam), today's default (one
    scan, dense Adam; same iterates) and lazy Adam (touched units only)."""

    params = ([1024, 4096], ["former", "adam", "lazy_adam"])
    param_names = ["s", "path"]
    timeout = 120

    def setup(self, s, path):
        rng = np.random.default_rng(0)
        n, k, m = 64, 8, 2048
        self.X = rng.normal(size=(m, n))
        self.y = random_network(n, 2 * k, random_state=0, bias_quantile=0.95)(self.X)
        estimator = SparseReLURegressor(width=s, sparsity=k, W=4.0, B=4.0, max_epochs=1,
                                        tol=0.0, n_iter_no_change=2)
        self.p = dict(estimator._validated_params(), _two_scans=path == "former",
                      solver="adam" if path == "former" else path)
        self.start = _initial_parameters(self.X, self.y, s, k, 4.0, 4.0,
                                         np.random.default_rng(0))
        self.limits = threadpool_limits(limits=1)

    def teardown(self, s, path):
        self.limits.restore_original_limits()

    def time_epoch(self, s, path):
        w, b, u = (np.array(a) for a in self.start)
        m = self.X.shape[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _train(self.X, self.y.reshape(m, 1), w, b, u.reshape(1, -1), np.zeros((1, 1)),
                   self.p, 64, np.random.default_rng(1), _squared_loss, 1.0, "asv")
