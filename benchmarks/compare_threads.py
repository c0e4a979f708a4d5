"""Two threads against one, and the activation kernels against plain NumPy.

For every public call backed by a compiled kernel this script times the
call with the libraries' default thread settings (no environment variable:
on this project's machine 2 BLAS and 2 OpenMP threads) and with every
thread pool held to one thread (``threadpoolctl.threadpool_limits(1)``), in
one process; the ratio ``1 thread / default`` is above 1 when the second
thread helps.  The activation kernels (``forward``, ``activation_counts``,
``active_supports`` of :class:`sparselearn.SparseReLUNetwork`) are also
timed against the plain NumPy float computation (``X @ W.T - b`` and a
mask; it decides activity in floating point, the library exactly), both
with the default threads (``numpy/ours``) and both on one thread
(``(1 thr)``).

The settings alternate within each of ``--repeat`` rounds so that a
changing machine load hits them alike, and each figure is the best over
the rounds.  Run from the repository root::

    python benchmarks/compare_threads.py
    python benchmarks/compare_threads.py --m 100000 --s 4096 16384 --repeat 5
    python benchmarks/compare_threads.py --m 2000 --s 256 --quick --repeat 1   # seconds

Also timed: the multi-output forward pass (``o = 10`` outputs, against
NumPy's ``relu(X W^T - b) @ U``), the walks of
:mod:`sparselearn.cube` at a size on each side of their one-thread
threshold, and :func:`sparselearn.cube.certify_sparsity` (its leaf walks).

Timings depend on the machine and its load: the project's machine is
shared (other processes take cores at random moments, and a thread that
waits for a core makes two threads no faster than one), so every figure is
the minimum over the rounds and the load average is printed before and
after; compare ratios, not seconds.
"""
import argparse
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

# scikit-learn and sparselearn are imported where they are used, after the
# arguments are parsed: --help answers without loading them (3-4 s).


def numpy_forward(X, W, b, u):
    return np.maximum(X @ W.T - b, 0.0) @ u


def numpy_multi_forward(X, W, b, U):
    return np.maximum(X @ W.T - b, 0.0) @ U


def numpy_counts(X, W, b):
    return np.count_nonzero(X @ W.T - b > 0.0, axis=1)


def numpy_supports(X, W, b):
    rows, cols = np.nonzero(X @ W.T - b > 0.0)
    indptr = np.zeros(X.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=X.shape[0]), out=indptr[1:])
    return indptr, cols


def calls(m, widths, quick=False):
    """(name, function, NumPy peer or None) for every timed call (``quick``:
    small sizes for the calls other than the activation kernels)."""
    from sklearn.exceptions import ConvergenceWarning

    from sparselearn import SparseReLUNetwork, cube
    from sparselearn.erm import SparseReLURegressor
    from sparselearn.fourier import fwht
    from sparselearn.parities import ParityDesign, n_parity_features
    from sparselearn.targets import random_network

    rng = np.random.default_rng(0)
    n = 64
    X = rng.normal(size=(m, n))
    out = []
    for s in widths:
        W = rng.normal(size=(s, n)) / np.sqrt(n)
        # Biases at the 99th percentile of the inner products: about 1% of
        # the units (s / 100) active per row.
        b = np.quantile(X[:2000] @ W.T, 0.99, axis=0)
        u = rng.normal(size=s)
        net = SparseReLUNetwork(W, b, u)
        size = f"m={m} n={n} s={s}"
        out += [(f"forward {size}", lambda net=net: net.forward(X),
                 lambda W=W, b=b, u=u: numpy_forward(X, W, b, u)),
                (f"activation_counts {size}", lambda net=net: net.activation_counts(X),
                 lambda W=W, b=b: numpy_counts(X, W, b)),
                (f"active_supports {size}", lambda net=net: net.active_supports(X),
                 lambda W=W, b=b: numpy_supports(X, W, b))]
    W = rng.normal(size=(256, n)) / np.sqrt(n)
    b = np.quantile(X[:2000] @ W.T, 0.9, axis=0)
    U = rng.normal(size=(256, 10))
    multi = SparseReLUNetwork(W, b, U, np.zeros(10))
    out += [(f"multi-output forward o=10 m={m} n={n} s=256", lambda: multi.forward(X),
             lambda: numpy_multi_forward(X, W, b, U))]
    walk_n, fwht_n, parity_n, parity_m = (12, 14, 16, 2000) if quick else (20, 22, 64, 20000)
    # Walks at n = walk_n - 3 (below cube._PARALLEL_WALK: one thread) and
    # n = walk_n (above it, for the default walk_n = 20).
    for wn in (walk_n - 3, walk_n):
        walk_net = SparseReLUNetwork(rng.normal(size=(256, wn)), rng.normal(size=256),
                                     rng.normal(size=256))
        out += [(f"cube.activation_histogram n={wn} s=256",
                 lambda net=walk_net: cube.activation_histogram(net), None),
                (f"cube.truth_table n={wn} s=256",
                 lambda net=walk_net: cube.truth_table(net), None)]
    cert_n = 16 if quick else 24
    cert_net = random_network(cert_n, 64, random_state=5, bias_quantile=0.97)
    out.append((f"cube.certify_sparsity n={cert_n} s=64",
                lambda: cube.certify_sparsity(cert_net).max_active, None))
    a = rng.normal(size=2**fwht_n)
    out.append((f"fourier.fwht float64 n={fwht_n} (copy)", lambda: fwht(a), None))
    Xc = rng.choice([-1.0, 1.0], size=(parity_m, parity_n))
    design = ParityDesign(Xc, 3)
    coef = rng.normal(size=n_parity_features(parity_n, 3))
    out.append((f"ParityDesign.normal_matvec n={parity_n} d=3 m={parity_m}",
                lambda: design.normal_matvec(coef), None))
    Xe = rng.normal(size=(2000, 12))
    ye = np.maximum(Xe[:, 0], 0.0)
    est = SparseReLURegressor(width=256, sparsity=4, W=4.0, B=4.0, max_epochs=3, tol=0.0,
                              random_state=0)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(Xe, ye).network_.weights.copy()
    out.append(("SparseReLURegressor.fit m=2000 s=256 3 epochs", fit, None))
    return out


def timed(fn, limit):
    """(seconds, result) of one call, with every pool at ``limit`` threads
    (None: the defaults)."""
    with threadpool_limits(limits=limit):
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out


def same(a, b):
    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b))
    return a is None and b is None or np.array_equal(a, b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--m", type=int, default=20000, help="rows of the activation calls")
    parser.add_argument("--s", type=int, nargs="+", default=[4096], help="widths")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes for the calls other than the activation kernels")
    args = parser.parse_args()
    # threadpoolctl sees only the libraries already loaded: load them
    # (sparselearn's OpenMP kernels, NumPy's and SciPy's BLAS, and
    # scikit-learn's OpenMP, which sparselearn loads only with its
    # estimators) first.
    import sklearn.utils  # noqa: F401
    import sparselearn  # noqa: F401

    pools = sorted({(p["user_api"], p["internal_api"], p["num_threads"])
                    for p in threadpool_info()})
    print(f"{os.cpu_count()} CPUs; default thread pools: "
          + ", ".join(f"{api} ({lib}) {k}" for api, lib, k in pools)
          + f"; best of {args.repeat} alternating rounds; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + " (a shared machine: see the notes)")
    header = (f"{'call':<48} {'default ms':>10} {'1 thread ms':>11} {'1 thr/default':>13} "
              f"{'numpy ms':>9} {'numpy/ours':>10} {'numpy 1 thr':>11} {'(1 thr)':>7}")
    print(header)
    print("-" * len(header))
    for name, fn, peer in calls(args.m, args.s, args.quick):
        fn()  # warm-up (first-call allocations, thread pool start)
        best = {"default": np.inf, "one": np.inf, "numpy": np.inf, "numpy one": np.inf}
        for _ in range(args.repeat):
            t, out_default = timed(fn, None)
            best["default"] = min(best["default"], t)
            t, out_one = timed(fn, 1)
            best["one"] = min(best["one"], t)
            if not same(out_default, out_one):
                raise AssertionError(f"{name}: the result depends on the thread count")
            if peer is not None:
                best["numpy"] = min(best["numpy"], timed(peer, None)[0])
                best["numpy one"] = min(best["numpy one"], timed(peer, 1)[0])
        line = (f"{name:<48} {best['default'] * 1e3:>10.1f} {best['one'] * 1e3:>11.1f} "
                f"{best['one'] / best['default']:>13.2f}")
        if peer is not None:
            line += (f" {best['numpy'] * 1e3:>9.1f} {best['numpy'] / best['default']:>10.2f}"
                     f" {best['numpy one'] * 1e3:>11.1f}"
                     f" {best['numpy one'] / best['one']:>7.2f}")
        print(line, flush=True)
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("results identical on one thread and with the defaults")


if __name__ == "__main__":
    main()
