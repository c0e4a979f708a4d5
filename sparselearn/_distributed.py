r"""The low-degree fit on a row-chunked :class:`dask.array.Array` (issue 15).

Every product of the least-squares solvers is a sum over rows, so on a
``dask.distributed`` cluster each one is a map over the row blocks and a
tree reduction: every worker holds a :class:`~sparselearn.parities.ParityDesign`
of its blocks (packed bits only, built once, on the worker, from the block
of ``X``), each product sends the current length-``D`` vector to every
block and sums the length-``D`` results pairwise up a tree; the conjugate
gradient iteration itself (:func:`sparselearn._solvers._solve_cg`, the same
code as in memory) runs on the client, which holds ``O(D)`` vectors and the
targets.  The coefficients equal the in-memory fit up to the rounding of
the different summation order.

Failures.  The block designs and the broadcast vectors are results of tasks
whose inputs the scheduler keeps (the graph of ``X``), so when a worker dies
mid-fit the scheduler recomputes what it held on the remaining (or
restarted) workers and the fit **recovers** with the same coefficients; a
task that keeps killing workers ends in ``KilledWorker``, re-raised as a
:class:`RuntimeError`, and a product without a result within
``_PRODUCT_TIMEOUT`` seconds (no worker left) raises :class:`TimeoutError`,
so a fit never hangs.  The block designs are awaited before the first
product, so a block that is not cube points (or over ``max_bytes``) raises
its error on the client once, before any product depends on it; the
futures of a fit are released by dropping them, never cancelled.

Workers' allocator.  dask's nanny starts every worker with
``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``).
Setting that variable also freezes glibc's mmap threshold at 128 KiB, so
each chunk buffer of the products (megabytes) is a fresh ``mmap`` whose
pages fault in again, and a freed heap top is returned to the system at
once: a product at ``n = 128, d = 3`` on 8,192 rows took 2.2x its
in-process time on a worker, with 40x the page faults.  So the first block
task on a worker with that variable set (:func:`_tune_worker_allocator`)
has glibc serve buffers up to 32 MiB from the heap and keep up to 64 MiB
of freed heap: the worker then holds at most that much more memory than
dask's setting would, and the products run at their in-process speed.

dask is an optional dependency: nothing here imports it until a dask array
is passed.
"""
from __future__ import annotations

import ctypes
import math
import os
import platform

import numpy as np

from .parities import ParityDesign, _pack_chunks

# Seconds a product may take before the fit gives up (no worker left, or a
# cluster that stopped answering).
_PRODUCT_TIMEOUT = 600.0
# Partial sums combined by each task of the tree reduction.
_FAN_IN = 4
# glibc's mallopt parameters (<malloc.h>) and the values set on a worker
# (module docstring); 32 MiB is the largest mmap threshold glibc's own
# dynamic rule reaches on 64-bit systems.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES = 32 * 2**20
_TRIM_THRESHOLD_BYTES = 64 * 2**20
_allocator_tuned = False


def is_dask_array(X) -> bool:
    """Whether ``X`` is a dask array (without importing dask)."""
    return type(X).__module__.startswith("dask.array") and hasattr(X, "chunks")


def _tune_worker_allocator():
    """Once per process, when ``MALLOC_TRIM_THRESHOLD_`` is set below
    ``_TRIM_THRESHOLD_BYTES`` and the C library is glibc, raise its trim and
    mmap thresholds (module docstring).  Returns whether they were set."""
    global _allocator_tuned
    if _allocator_tuned:
        return True
    try:
        trim = int(os.environ.get("MALLOC_TRIM_THRESHOLD_", ""))
    except ValueError:  # unset (glibc's dynamic thresholds work) or not a number
        return False
    if trim >= _TRIM_THRESHOLD_BYTES or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _allocator_tuned = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
                            and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES))
    return _allocator_tuned


def _block_design(block, degree, max_bytes):
    """On a worker: the design of one row block (checked +-1, packed)."""
    _tune_worker_allocator()
    packed = _pack_chunks(np.asarray(block), max_bytes, "a row block of X")
    if packed is None:
        raise ValueError("X must be a point set of the cube {-1, 1}^n: every entry "
                         "must be exactly +1 or -1 (a fit on a dask array supports "
                         "cube points only, domain='cube' or 'auto'; fit real-valued "
                         "X in memory)")
    return ParityDesign._from_checked(packed, degree, 1, max_bytes)


def _identity(value):
    return value


def _block_rmatvec(design, r):
    return design._rmatvec(r)


def _block_normal_matvec(design, coef):
    return design._normal_matvec(coef)


def _add(*parts):
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


# The messages of a cube model's predict on points it cannot encode, in
# memory (LowDegreeRegressor._encode) and lazily (_predict_block) alike.
NOT_CUBE_POINTS = ("X must be a point set of the cube {-1, 1}^n (the model's domain_ is "
                   "'cube'): every entry must be exactly +1 or -1; pass "
                   "input_encoding='01' for 0/1 data, or fit with domain='real' (or "
                   "'auto') for real-valued data")
NOT_01_POINTS = "X must have entries exactly 0 or 1 with input_encoding='01'"


def _predict_block(block, coef, degree, input_encoding="pm1"):
    _tune_worker_allocator()
    block = np.asarray(block)
    if input_encoding == "01":  # 0/1 points, mapped to +-1 as the in-memory predict does
        if not np.all((block == 0) | (block == 1)):
            raise ValueError(NOT_01_POINTS)
        block = 1.0 - 2.0 * block
    packed = _pack_chunks(block)
    if packed is None:
        raise ValueError(NOT_CUBE_POINTS)
    return ParityDesign._from_checked(packed, degree)._matvec(coef)


def predict(X, coef, degree, input_encoding="pm1"):
    """The lazy dask array of predictions of a fitted cube model on dask ``X``
    (+-1 points, or 0/1 ones with ``input_encoding="01"``): ``(m,)`` for
    coefficients ``(D,)``, ``(m, c)`` for ``(D, c)`` (a multiclass
    classifier's scores)."""
    X = X.rechunk({1: -1})
    if coef.ndim == 1:
        return X.map_blocks(_predict_block, coef, degree, input_encoding, drop_axis=1,
                            dtype=np.float64)
    return X.map_blocks(_predict_block, coef, degree, input_encoding,
                        chunks=(X.chunks[0], (coef.shape[1],)), dtype=np.float64)


def get_client():
    """The current ``dask.distributed`` client, or a clear error."""
    try:
        import distributed
    except ImportError as error:  # pragma: no cover - dask without distributed
        raise ImportError("fitting on a dask array needs dask.distributed: "
                          "pip install 'sparselearn[dask]'") from error
    try:
        return distributed.get_client()
    except ValueError as error:
        raise ValueError("fitting on a dask array needs a running dask.distributed "
                         "Client (distributed.Client(...)); none was found") from error


class DaskParityDesign:
    """The products of :class:`~sparselearn.parities.ParityDesign` that the CG
    solver calls, over the row blocks of a dask array (module docstring).

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    X : dask.array.Array of shape (m, n)
        Points of the cube, chunked along rows (columns are rechunked to one
        block).
    degree : int
        Largest subset size ``d``.
    max_bytes : float or None
        Memory budget of each block's design (checked on its worker).
    """

    domain = "cube"

    def __init__(self, client, X, degree, max_bytes):
        import dask

        X = X.rechunk({1: -1})
        self._client = client
        self._edges = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)
        self.n_samples = int(self._edges[-1])
        blocks = X.to_delayed().ravel()
        self._designs = client.compute(
            [dask.delayed(_block_design)(block, degree, max_bytes) for block in blocks])
        try:
            self._wait_for_designs()
        except BaseException:
            self.close()
            raise
        self.n_output_features = sum(math.comb(X.shape[1], t) for t in range(degree + 1))

    def _result(self, future):
        """``future``'s value within the timeout, or a clear error."""
        import distributed

        try:
            return future.result(timeout=_PRODUCT_TIMEOUT)
        except distributed.TimeoutError as error:
            raise TimeoutError(
                f"a product of the distributed low-degree fit gave no result within "
                f"{_PRODUCT_TIMEOUT:g} s: the cluster has no live worker or stopped "
                "answering") from error
        except distributed.KilledWorker as error:
            raise RuntimeError(
                "the distributed low-degree fit lost its workers repeatedly "
                f"(KilledWorker: {error}); check the workers' memory limits") from error

    def _wait_for_designs(self):
        """Wait for every block's design (kept on its worker) and raise the
        first block's error on the client (a block that is not cube points,
        or over the budget) before any product depends on the designs."""
        import distributed

        try:
            distributed.wait(self._designs, timeout=_PRODUCT_TIMEOUT)
        except (distributed.TimeoutError, TimeoutError) as error:
            raise TimeoutError(
                f"the block designs of the distributed low-degree fit were not built "
                f"within {_PRODUCT_TIMEOUT:g} s: the cluster has no live worker or "
                "stopped answering") from error
        for future in self._designs:
            if future.status == "error":
                self._result(future)

    def _reduce(self, parts):
        """The sum of the futures ``parts`` by a tree of ``_FAN_IN``-way additions."""
        while len(parts) > 1:
            parts = [self._client.submit(_add, *parts[i:i + _FAN_IN], pure=False)
                     for i in range(0, len(parts), _FAN_IN)]
        return self._result(parts[0])

    def _rmatvec(self, r):
        pieces = [r[a:b] for a, b in zip(self._edges[:-1], self._edges[1:])]
        return self._reduce(self._client.map(_block_rmatvec, self._designs, pieces,
                                             pure=False))

    def _normal_matvec(self, coef, dtype=np.float64):
        # Float64 only: the solvers' mixed precision is for in-memory designs
        # (_solvers._mixed_applies), but the CG loop passes its dtype.
        if dtype != np.float64:
            raise ValueError(f"a distributed design has float64 products only, got {dtype}")
        # A task result, not scattered data: the scheduler keeps its input and
        # can recompute it if the worker holding it dies.
        shared = self._client.submit(_identity, np.array(coef), pure=False)
        return self._reduce(self._client.map(_block_normal_matvec, self._designs,
                                             [shared] * len(self._designs), pure=False))

    def close(self):
        """Release the block designs on the workers: the futures are dropped,
        not cancelled (cancelling a design whose erred or finished products
        nobody wants any more trips the scheduler's ``stimulus_cancel`` and
        cuts the client's connection)."""
        self._designs = []
