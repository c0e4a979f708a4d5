"""Benchmarks for sparselearn.learners: the parity kernels against their NumPy
twins, the two product routes, and whole fits against scikit-learn's
PolynomialFeatures + Ridge."""
import numpy as np

from sparselearn._kernels import _parity
from sparselearn._reference import parity as reference
from sparselearn.learners import LowDegreeClassifier, LowDegreeRegressor
from sparselearn.parities import ParityDesign, pack_cube, pack_rows


def _cube(rng, m, n):
    return rng.choice(np.array([-1.0, 1.0]), size=(m, n))


class ParityKernels:
    """P @ c and P.T @ r over bit-packed rows: Cython kernel against the twin
    (which builds the explicit feature matrix)."""

    params = ([16, 64], [2])
    param_names = ["n", "d"]

    def setup(self, n, d):
        rng = np.random.default_rng(0)
        design = ParityDesign(_cube(rng, 2000, n), d)
        self.xbits, self.masks = design.xbits, design.masks
        self.coef = rng.normal(size=self.masks.shape[0])
        self.r = rng.normal(size=2000)
        self.out = np.empty(2000)
        self.grad = np.empty(self.masks.shape[0])

    def time_matvec_kernel(self, n, d):
        _parity.parity_matvec(self.xbits, self.masks, self.coef, self.out)

    def time_matvec_twin(self, n, d):
        reference.parity_matvec(self.xbits, self.masks, self.coef)

    def time_rmatvec_kernel(self, n, d):
        _parity.parity_rmatvec(self.xbits, self.masks, self.r, self.grad)

    def time_rmatvec_twin(self, n, d):
        reference.parity_rmatvec(self.xbits, self.masks, self.r)


class ParityLevels:
    """The lower-degree block of the BLAS route: kernel against the twin."""

    params = ([32, 64], [3])
    param_names = ["n", "d"]

    def setup(self, n, d):
        rng = np.random.default_rng(0)
        self.X = _cube(rng, 256, n)
        self.design = ParityDesign(self.X, d)
        self.Q = np.empty((256, self.design.n_lower))

    def time_kernel(self, n, d):
        _parity.parity_levels(self.X, self.design._level_counts,
                              self.design._level_starts, self.Q)

    def time_twin(self, n, d):
        reference.parity_levels(self.X, d - 1)


class NormalProduct:
    """One CG iteration P^T P c: dense BLAS route against popcount route."""

    params = ([(32, 3), (64, 2), (64, 3)], ["blas", "popcount"])
    param_names = ["n_d", "products"]
    timeout = 120

    def setup(self, n_d, products):
        n, d = n_d
        rng = np.random.default_rng(0)
        self.design = ParityDesign(_cube(rng, 20_000, n), d, products=products, n_jobs=2)
        self.coef = rng.normal(size=self.design.n_output_features)

    def time_normal_matvec(self, n_d, products):
        self.design.normal_matvec(self.coef)


class NormalProductVersusGemm:
    """P^T P c on one thread against a square one-thread dgemm of the same
    needed flops (4 m D): the time ratio is the share of the BLAS peak the
    product reaches (issue 14, item 3; benchmarks/compare_parity_products.py
    prints it)."""

    params = [["64,3,20000,cube", "128,3,5000,cube", "64,2,200000,real"]]
    param_names = ["n_d_m_domain"]
    timeout = 120

    def setup(self, case):
        n, d, m, domain = case.split(",")
        n, d, m = int(n), int(d), int(m)
        rng = np.random.default_rng(0)
        X = _cube(rng, m, n) if domain == "cube" else rng.normal(size=(m, n))
        self.design = ParityDesign(X, d, n_jobs=1, domain=domain)
        self.coef = rng.normal(size=self.design.n_output_features)
        side = int(round((2.0 * m * self.design.n_output_features) ** (1 / 3)))
        self.A, self.B = rng.normal(size=(side, side)), rng.normal(size=(side, side))

    def time_normal_matvec(self, case):
        self.design.normal_matvec(self.coef)

    def time_float32_normal_matvec(self, case):
        # On real X the rows rounded to float32 (the sketch's inner CG).
        self.design.normal_matvec(self.coef, dtype=np.float32)

    def time_dgemm_same_flops(self, case):
        from sparselearn.network import _one_thread_blas
        with _one_thread_blas():
            self.A @ self.B


class Float32NormalProductVersusGemm:
    """P^T P c with float32 products (normal_matvec(dtype=np.float32): the
    exactly +-1 parities and float32 coefficients, sgemm) on one thread,
    against its float64 twin and the same-flops one-thread dgemm of
    NormalProductVersusGemm (issue 14, item 3; benchmarks/
    compare_parity_products.py --float32 prints the ratios); and the
    conjugate gradient to tol = 1e-10 (ridge m / 4, at most 100 iterations)
    with float64 products against mixed precision."""

    params = [["64,3,20000", "128,3,5000"]]
    param_names = ["n_d_m"]
    timeout = 300

    def setup(self, case):
        n, d, m = (int(v) for v in case.split(","))
        rng = np.random.default_rng(0)
        self.design = ParityDesign(_cube(rng, m, n), d, n_jobs=1)
        self.coef = rng.normal(size=self.design.n_output_features)
        self.y = rng.normal(size=m)
        side = int(round((2.0 * m * self.design.n_output_features) ** (1 / 3)))
        self.A, self.B = rng.normal(size=(side, side)), rng.normal(size=(side, side))

    def time_float32_normal_matvec(self, case):
        self.design.normal_matvec(self.coef, dtype=np.float32)

    def time_float64_normal_matvec(self, case):
        self.design.normal_matvec(self.coef)

    def time_dgemm_same_flops(self, case):
        from sparselearn.network import _one_thread_blas
        with _one_thread_blas():
            self.A @ self.B

    def _cg(self, products):
        from sparselearn._solvers import _solve_cg
        _solve_cg(self.design, self.y, self.design.n_samples / 4.0, 1e-10, 100,
                  products=products)

    def time_cg_float64(self, case):
        self._cg("float64")

    def time_cg_mixed(self, case):
        self._cg("mixed")


class MomentScatter:
    """The real-domain Gram's scatter (_gram._scatter_moments, on the
    sketch solver's critical path): every upper-triangle entry of the float32
    D x D matrix read from the moment table, scaled, on one or two threads.
    G is touched in setup (a fit's freshly allocated G adds its page faults);
    the table's values do not change the cost, so they are random."""

    params = ([(32, 3), (64, 2), (16, 4), (24, 3)], [1, 2])
    param_names = ["n_d", "threads"]
    timeout = 120

    def setup(self, n_d, threads):
        from sparselearn._gram import _MomentPlan
        n, d = n_d
        rng = np.random.default_rng(0)
        self.plan = _MomentPlan(n, d)
        D = self.plan.n_features
        self.table = rng.normal(size=self.plan.size)
        self.scale = rng.uniform(0.5, 2.0, size=D)
        self.G = np.ones((D, D), dtype=np.float32, order="F")

    def time_scatter(self, n_d, threads):
        from sparselearn._gram import _scatter_moments
        _scatter_moments(self.plan, self.table, self.G, threads, 0.37, 1.25, self.scale)


class FitVersusPolynomialRidge:
    """End-to-end degree-3 fit, n = 32: LowDegreeRegressor against
    PolynomialFeatures(interaction_only=True) + Ridge (same alpha)."""

    # m = 20,000 (the comparison point, 2.6 GB for the peer) lives in
    # benchmarks/compare_learners.py; here a size that keeps the suite quick.
    params = [2_000, 5_000]
    param_names = ["m"]
    timeout = 300
    # The peer takes seconds: one call per sample.
    number = 1
    repeat = (1, 3, 60.0)

    def setup(self, m):
        rng = np.random.default_rng(0)
        self.X = _cube(rng, m, 32)
        self.y = self.X[:, 0] * self.X[:, 1] * self.X[:, 2] + 0.1 * rng.normal(size=m)

    def _polyridge(self):
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures
        return make_pipeline(PolynomialFeatures(3, interaction_only=True, include_bias=False),
                             Ridge(alpha=1.0))

    def time_ours(self, m):
        LowDegreeRegressor(degree=3, alpha=1.0).fit(self.X, self.y)

    def peakmem_ours(self, m):
        LowDegreeRegressor(degree=3, alpha=1.0).fit(self.X, self.y)

    def time_polyridge(self, m):
        self._polyridge().fit(self.X, self.y)

    def peakmem_polyridge(self, m):
        self._polyridge().fit(self.X, self.y)


class RealFitVersusPolynomialRidge:
    """Real-valued inputs (issue 16): correlated Gaussian X, degree 2,
    LowDegreeRegressor (solver "auto": Cholesky on the chunked normal
    equations, and the preconditioned CG) against its exact scikit-learn
    equivalent PolynomialFeatures(interaction_only=True) +
    Ridge(fit_intercept=False, solver="cholesky")."""

    params = ([5_000, 20_000], ["auto", "cg", "polyridge"])
    param_names = ["m", "fit"]
    timeout = 300
    number = 1
    repeat = (1, 3, 60.0)

    def setup(self, m, fit):
        rng = np.random.default_rng(0)
        n = 24
        Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
        root = Q * np.sqrt(np.geomspace(1.0, 100.0, n) / 10.0)
        self.X = rng.normal(size=(m, n)) @ root.T
        self.y = self.X[:, 0] * self.X[:, 1] - self.X[:, 2] + 0.1 * rng.normal(size=m)

    def _fit(self, fit):
        if fit == "polyridge":
            from sklearn.linear_model import Ridge
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import PolynomialFeatures
            model = make_pipeline(PolynomialFeatures(2, interaction_only=True),
                                  Ridge(alpha=1.0, fit_intercept=False, solver="cholesky"))
        else:
            model = LowDegreeRegressor(degree=2, alpha=1.0, solver=fit, max_iter=5000)
        model.fit(self.X, self.y)

    def time_fit(self, m, fit):
        self._fit(fit)

    def peakmem_fit(self, m, fit):
        self._fit(fit)


class MulticlassFit:
    """One-vs-rest on 10 classes, one block CG (cube, d = 2, n = 32) against
    ten single-output fits of the same design."""

    params = ["block", "ten_fits"]
    param_names = ["how"]
    timeout = 120

    def setup(self, how):
        rng = np.random.default_rng(0)
        self.X = _cube(rng, 5_000, 32)
        self.y = rng.integers(0, 10, size=5_000)

    def time_fit(self, how):
        if how == "block":
            LowDegreeClassifier(degree=2, alpha=1.0, solver="cg").fit(self.X, self.y)
        else:
            for k in range(10):
                LowDegreeRegressor(degree=2, alpha=1.0, solver="cg").fit(
                    self.X, np.where(self.y == k, 1.0, -1.0))


class PackRows:
    """Bit-packing the inputs (part of every fit and predict)."""

    def setup(self):
        self.X = _cube(np.random.default_rng(0), 200_000, 64)

    def time_pack_rows(self):
        pack_rows(self.X)


class PackedChunkedProducts:
    """The chunked BLAS products on packed input (issue 15): a cube design
    keeps only the bits and expands one chunk of rows at a time, against the
    same products from a float64 copy of the same +-1 rows (domain="real",
    the pre-issue-15 storage); and packing an int8 memory-mapped .npy."""

    params = ([(32, 3), (64, 2)], ["packed", "float64"])
    param_names = ["n_d", "storage"]
    timeout = 120

    def setup(self, n_d, storage):
        n, d = n_d
        rng = np.random.default_rng(0)
        X = _cube(rng, 20_000, n)
        self.design = ParityDesign(X.astype(np.int8) if storage == "packed" else X, d,
                                   domain="cube" if storage == "packed" else "real")
        self.coef = rng.normal(size=self.design.n_output_features)
        self.r = rng.normal(size=20_000)

    def time_normal_matvec(self, n_d, storage):
        self.design.normal_matvec(self.coef)

    def time_rmatvec(self, n_d, storage):
        self.design.rmatvec(self.r)


class PackMemmap:
    """pack_cube on an int8 memory-mapped .npy (200,000 x 128): read and
    packed in row chunks; peak memory is the 3.2 MB of bits plus a chunk."""

    def setup(self):
        import os
        import tempfile
        self.folder = tempfile.mkdtemp()
        self.path = os.path.join(self.folder, "x.npy")
        rng = np.random.default_rng(0)
        np.save(self.path, rng.choice(np.array([-1, 1], dtype=np.int8), size=(200_000, 128)))

    def teardown(self):
        import shutil
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_pack_cube(self):
        pack_cube(np.load(self.path, mmap_mode="r"))

    def peakmem_pack_cube(self):
        pack_cube(np.load(self.path, mmap_mode="r"))
