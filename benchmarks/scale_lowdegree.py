r"""The low-degree fit beyond memory: packed bits, out of core (issue 15).

A planted degree-``d`` target on :math:`\{-1,1\}^n`,
:math:`f = \sum_k c_k \chi_{S_k}` over ``--terms`` random subsets of sizes
``0..d``, with labels :math:`y = f(x) + \sigma\,\xi`, Gaussian
:math:`\xi`.  The ``m x n`` sample is written, ``2^16`` rows at a time, as
an ``int8`` ``.npy`` in a scratch folder (``m n`` bytes, deleted at the
end), then ``LowDegreeRegressor(degree=d, solver="cg")`` is fitted on
``np.load(path, mmap_mode="r")``: the file is read and packed to 1 bit an
entry in row chunks (the memmap is never resident as a whole, nor converted
to float64), and every CG product expands one chunk of rows at a time.
With ``--dask-workers K`` the same fit runs on a ``LocalCluster`` of ``K``
single-threaded worker processes on 127.0.0.1, each row block read from the
file by its worker.

Printed: the time to write the data and to fit (wall clock, and the CPU
seconds of this process plus, with Dask, of the workers), CG iterations and
the fit time per iteration (the interval from the first iteration's end to
the last's over the iterations between, so that reading, packing and the
preconditioner are not counted; ``setup s`` is the rest of the fit), the peak resident memory of
this process during the fit (``VmHWM`` from ``/proc/self/status``, and
``ru_maxrss``; Linux resets both through ``/proc/self/clear_refs`` before
the fit, so generating the data is not counted), and
with Dask of the largest worker (``wkr MB``), the bytes the packed sample
takes against a float64 copy (the ratio), and the excess error; then the
fit's ``estimate_bytes`` and its time per iteration scaled linearly to
``--project-m`` samples (default ``10^6``; the products are linear in
``m``), the projection of the moonshot from a smaller run at the same
``n, d``.  Since the target lies in the span of the parities, by Parseval
(docs/theory.rst, section 3) the excess error of the fit over the uniform
distribution is exactly :math:`\|\hat c - c\|_2^2`; for ordinary least
squares on ``m > D + 1`` uniform points it is close to
:math:`\sigma^2 D / (m - D)` (the Gaussian-design value
:math:`\sigma^2 D / (m - D - 1)`), printed next to it.

Usage (defaults: ``--n 128 --degree 3``, ``D = 349,633``)::

    python benchmarks/scale_lowdegree.py --m 20000 --n 40     # reduced, ~1 min
    python benchmarks/scale_lowdegree.py --m 20000            # n = 128, d = 3: s/iteration
    python benchmarks/scale_lowdegree.py --m 1000000          # the moonshot
    python benchmarks/scale_lowdegree.py --m 1000000 --dask-workers 2   # ... on a LocalCluster

The moonshot (``n = 128, d = 3, m = 10^6``: 128 MB on disk, 16 MB packed,
an overdetermined fit of 349,633 parities; goal under 15 minutes and 4 GB
peak on a 2-core machine) took 8.6 minutes in process (450 MB) and 12.2
minutes with ``--dask-workers 2`` (client 302 MB, largest worker 309 MB),
excess error 0.134 as predicted (README, "Performance"; docs/learners.rst,
"Large samples").
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time

import numpy as np
from numpy.lib.format import open_memmap

# sparselearn is imported in main, after the arguments are parsed: --help
# answers without loading it (3-4 s).

_WRITE_ROWS = 2**16


def subset_index(S, n):
    """Position of the sorted subset ``S`` in :func:`sparselearn.parities.parity_subsets`
    ``(n, d)`` order (by size, then lexicographically)."""
    t = len(S)
    index = sum(math.comb(n, j) for j in range(t))
    previous = -1
    for position, s in enumerate(S):
        for v in range(previous + 1, s):
            index += math.comb(n - 1 - v, t - 1 - position)
        previous = s
    return index


def planted_target(n, degree, terms, rng):
    """``terms`` distinct subsets (sizes spread over ``0..degree``) and N(0, 1) coefficients."""
    subsets = {()}
    while len(subsets) < terms:
        t = int(rng.integers(1, degree + 1))
        subsets.add(tuple(sorted(rng.choice(n, size=t, replace=False).tolist())))
    subsets = sorted(subsets, key=lambda S: (len(S), S))
    return subsets, rng.normal(size=len(subsets))


def write_sample(path, m, n, subsets, coefficients, sigma, rng):
    """The int8 points into ``path`` (a ``.npy`` memory map) and the labels, in chunks."""
    X = open_memmap(path, mode="w+", dtype=np.int8, shape=(m, n))
    y = np.empty(m)
    for start in range(0, m, _WRITE_ROWS):
        stop = min(start + _WRITE_ROWS, m)
        chunk = (1 - 2 * rng.integers(0, 2, size=(stop - start, n))).astype(np.int8)
        X[start:stop] = chunk
        f = np.zeros(stop - start)
        for S, c in zip(subsets, coefficients):
            f += c * (np.prod(chunk[:, list(S)], axis=1) if S else 1.0)
        y[start:stop] = f + sigma * rng.normal(size=stop - start)
    X.flush()
    del X
    return y


def peak_rss():
    """``(VmHWM, ru_maxrss)`` of this process, bytes."""
    hwm = float("nan")
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    hwm = 1024.0 * int(line.split()[1])
    except OSError:
        pass
    return hwm, 1024.0 * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss():
    """Reset this process's ``VmHWM`` to its current RSS (Linux ``clear_refs``
    code 5), so that it reports the fit's peak, not the data generation's;
    whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def process_stats():
    """``(VmHWM bytes, CPU seconds)`` of this process (also run on each Dask worker)."""
    return peak_rss()[0], time.process_time()


def cluster_stats(client):
    """``(largest worker VmHWM, total worker CPU seconds)``, or NaNs in process."""
    if client is None:
        return float("nan"), 0.0
    stats = list(client.run(process_stats).values())
    return max(hwm for hwm, _ in stats), sum(cpu for _, cpu in stats)


def _load_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def dask_points(path, m, n, rows):
    """A dask array whose blocks each worker reads from ``path`` itself."""
    import dask
    import dask.array as da
    blocks = [da.from_delayed(dask.delayed(_load_rows)(path, a, min(a + rows, m)),
                              shape=(min(a + rows, m) - a, n), dtype=np.int8)
              for a in range(0, m, rows)]
    return da.concatenate(blocks, axis=0)


class IterationClock:
    """The solver's iteration log (``_solvers._iteration_log``): the time
    and running count of every iteration it reports."""

    def __init__(self):
        self.times, self.counts = [], []

    def __call__(self, residual, count):
        if count:  # a mixed-precision refinement reports count=0
            self.times.append(time.perf_counter())
            self.counts.append(count + (self.counts[-1] if self.counts else 0))

    def per_iteration(self):
        """Seconds per iteration from the first reported one to the last
        (NaN with fewer than two)."""
        if len(self.times) < 2:
            return float("nan")
        return (self.times[-1] - self.times[0]) / (self.counts[-1] - self.counts[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--m", type=int, nargs="+", default=[20000],
                        help="numbers of samples (one fit each)")
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--degree", type=int, default=3)
    parser.add_argument("--terms", type=int, default=12, help="planted parities")
    parser.add_argument("--sigma", type=float, default=0.5, help="label noise")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--alpha", type=float, default=0.0,
                        help="ridge penalty of the fit (default 0; a small positive alpha at "
                             "m < D runs the mixed-precision CG that m > D runs unpenalised, "
                             "so the projection to --project-m uses the same products)")
    parser.add_argument("--n-jobs", type=int, default=2, help="threads of the products")
    parser.add_argument("--dask-workers", type=int, default=0,
                        help="fit on a LocalCluster of this many workers (0: in process)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project-m", type=int, default=1_000_000,
                        help="also print each fit's time per CG iteration scaled linearly "
                             "to this many samples (same n, d; the products are linear in m)")
    args = parser.parse_args(argv)
    from sparselearn._solvers import _iteration_log
    from sparselearn.learners import LowDegreeRegressor
    from sparselearn.parities import ParityDesign, n_parity_features

    n, d = args.n, args.degree
    D = n_parity_features(n, d)
    print(f"n={n} d={d} D={D} sigma={args.sigma} terms={args.terms} tol={args.tol} "
          f"alpha={args.alpha}")
    print(f"{'m':>9} {'write s':>8} {'fit s':>8} {'cpu s':>8} {'iters':>5} {'s/iter':>7} "
          f"{'setup s':>7} {'VmHWM MB':>9} {'maxrss MB':>9} {'wkr MB':>7} {'bits MB':>8} {'f64/bits':>8} "
          f"{'excess':>10} {'sig2 D/(m-D)':>12}")
    client = cluster = None
    if args.dask_workers:
        import distributed
        cluster = distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        for m in args.m:
            rng = np.random.default_rng(args.seed)
            subsets, coefficients = planted_target(n, d, args.terms, rng)
            truth = np.zeros(D)
            truth[[subset_index(S, n) for S in subsets]] = coefficients
            with tempfile.TemporaryDirectory() as scratch:
                path = os.path.join(scratch, "points.npy")
                start = time.perf_counter()
                y = write_sample(path, m, n, subsets, coefficients, args.sigma, rng)
                written = time.perf_counter() - start
                model = LowDegreeRegressor(degree=d, solver="cg", tol=args.tol,
                                           alpha=args.alpha, n_jobs=args.n_jobs)
                reset = reset_peak_rss()
                if client is not None:  # the workers' peaks of this fit only, too
                    client.run(reset_peak_rss)
                clock = IterationClock()
                start = time.perf_counter()
                cpu = time.process_time() + cluster_stats(client)[1]
                with _iteration_log(clock):
                    if client is not None:
                        rows = max(1, -(-m // (4 * args.dask_workers)))
                        model.fit(dask_points(path, m, n, rows), y)
                    else:
                        model.fit(np.load(path, mmap_mode="r"), y)
                fitted = time.perf_counter() - start
                workers_hwm, workers_cpu = cluster_stats(client)
                cpu = time.process_time() + workers_cpu - cpu
            excess = float(np.sum((model.coef_ - truth) ** 2))
            predicted = args.sigma**2 * D / (m - D) if m > D + 1 else float("nan")
            hwm, maxrss = peak_rss()
            bits = 8.0 * m * max(1, -(-n // 64))
            # Set-up (reading and packing the sample, the preconditioner) is
            # not an iteration's: it was in the per-iteration time before.
            per_iteration = clock.per_iteration()
            setup = fitted - per_iteration * clock.counts[-1] if clock.counts else fitted
            print(f"{m:>9} {written:>8.1f} {fitted:>8.1f} {cpu:>8.1f} {model.n_iter_:>5} "
                  f"{per_iteration:>7.2f} {setup:>7.1f} {hwm / 1e6:>9.0f} {maxrss / 1e6:>9.0f} "
                  f"{workers_hwm / 1e6:>7.0f} {bits / 1e6:>8.1f} {8.0 * m * n / bits:>8.0f} "
                  f"{excess:>10.3g} {predicted:>12.3g}", flush=True)
            if not reset:
                print("          (VmHWM could not be reset: it includes writing the data)")
            estimate = ParityDesign.estimate_bytes(m, n, d, "cg", args.n_jobs)
            print(f"          estimate_bytes of the fit: {estimate / 1e6:.0f} MB; "
                  f"{per_iteration:.2f} s per CG iteration (setup excluded) scaled to "
                  f"m={args.project_m}: {per_iteration * args.project_m / m:.0f} s per "
                  "iteration", flush=True)
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
