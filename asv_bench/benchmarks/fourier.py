"""Benchmarks for sparselearn.fourier: the Walsh-Hadamard transform and the
popcount reductions, each next to its NumPy twin, plus the peer transforms
(fht-cpu and pyfwht, one thread) when they are installed.

The NumPy twins are only run up to n = 20 (at n = 24 the level-by-level
twin takes seconds and measures NumPy, not this library)."""
import numpy as np
from asv_runner.benchmarks.mark import SkipNotImplemented
from threadpoolctl import threadpool_limits

from sparselearn import fourier
from sparselearn._reference import fwht as fwht_twin
from sparselearn._reference import spectral as spectral_twin

_TWIN_MAX_N = 20


class FWHT:
    """One in-place transform of a float64 or float32 table of length 2^n."""

    params = ([16, 20, 24], ["float64", "float32"], [1, 2])
    param_names = ["n", "dtype", "threads"]
    # One in-place call per sample, each on fresh data from setup (no
    # warm-up calls): a transform scales the data by 2^(n/2), so float32 at
    # n = 16 would overflow (an error) after 16 calls on the same array.
    number = 1
    warmup_time = 0

    def setup(self, n, dtype, threads):
        self.a = np.random.default_rng(n).standard_normal(2**n).astype(dtype)
        self.limits = threadpool_limits(limits=threads, user_api="openmp")

    def teardown(self, n, dtype, threads):
        self.limits.restore_original_limits()

    def time_fwht(self, n, dtype, threads):
        fourier.fwht(self.a, out=self.a)  # in place, like the peers

    def time_twin(self, n, dtype, threads):
        if n > _TWIN_MAX_N or threads != 1:
            raise SkipNotImplemented("the NumPy twin is too slow at this size")
        fwht_twin.fwht_rows(self.a[None])

    def peakmem_fwht_out_of_place(self, n, dtype, threads):
        fourier.fwht(self.a)


class PeerFWHT:
    """pyfwht's CPU backend (one thread) on the same float64 data."""

    params = [20, 24]
    param_names = ["n"]

    def setup(self, n):
        try:
            import pyfwht
        except ImportError:
            raise NotImplementedError("pyfwht not installed")
        self.pyfwht = pyfwht
        self.a = np.random.default_rng(n).standard_normal(2**n)

    def time_pyfwht_cpu(self, n):
        self.pyfwht.transform(self.a, self.pyfwht.Backend.CPU)


class PeerFhtCpu:
    """fht-cpu's SIMD transform (one thread on a 1-D array), float64 and float32."""

    params = ([16, 20, 24], ["float64", "float32"])
    param_names = ["n", "dtype"]
    number = 1  # fresh data for every call, as in FWHT
    warmup_time = 0

    def setup(self, n, dtype):
        try:
            import fht_cpu
        except ImportError:
            raise NotImplementedError("fht-cpu not installed")
        self.fht = fht_cpu.fht
        self.a = np.random.default_rng(n).standard_normal(2**n).astype(dtype)

    def time_fht_cpu(self, n, dtype):
        self.fht(self.a)


class SpectralReductions:
    """degree_weights and influences of a spectrum of length 2^n."""

    params = [16, 20, 24]
    param_names = ["n"]

    def setup(self, n):
        self.spec = np.random.default_rng(n).standard_normal(2**n)

    def time_degree_weights(self, n):
        fourier.degree_weights(self.spec)

    def time_degree_weights_twin(self, n):
        if n > _TWIN_MAX_N:
            raise SkipNotImplemented("the NumPy twin is too slow at this size")
        spectral_twin.degree_weights(self.spec)

    def time_influences(self, n):
        fourier.influences(self.spec)

    def time_influences_twin(self, n):
        if n > _TWIN_MAX_N:
            raise SkipNotImplemented("the NumPy twin is too slow at this size")
        spectral_twin.influences(self.spec)


class Spectrum:
    """The spectrum of a width-64, 4-sparse bump network (truth table + transform)."""

    params = [16, 20]
    param_names = ["n"]

    def setup(self, n):
        from sparselearn.targets import bump_network

        self.net = bump_network(n, 64, 4, random_state=0)

    def time_spectrum(self, n):
        fourier.spectrum(self.net)
