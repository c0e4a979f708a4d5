"""Float32 screening of the activity decisions against the float64 path and NumPy, in one process.

:meth:`~sparselearn.SparseReLUNetwork.activation_counts` and
:meth:`~sparselearn.SparseReLUNetwork.active_supports` decide activity
exactly (:mod:`sparselearn.network`).  They multiply each block of rows in
float32 (``sgemm``), decide every entry outside a rigorous float32 rounding
bound by its sign and re-decide only the entries inside it (*candidates*)
with the float64 rule (issue 14, item 4).  This script times, on the same
inputs, in one process:

- ``new``: the library's calls (float32 screening);
- ``old``: the same calls with the screening switched off
  (``sparselearn.network._FLOAT32_SCREENING = False``: the float64 kernels,
  ``dgemm`` and the float64 bound);
- ``numpy``: ``X @ W.T - b > 0`` in float64 by chunks of rows, then
  ``count_nonzero`` or ``nonzero`` (a float decision, not the exact one);

and prints ``old/new`` and ``numpy/new`` (above 1: the new path is faster),
the CPU seconds of each call next to its wall clock, and the fraction of
entries that are float32 candidates (measured on the first rows).  The new
and old results must be identical (the script stops otherwise).  Cases:
Gaussian weights and rows with about 1% of the units active per row (the
target of the issue); decimal weights on cube points (many exact ties: the
blocks fall back to float64, the worst case); dyadic weights on cube points
(float32 sums are exact: no candidates at all).

Run from the repository root::

    python benchmarks/compare_decisions.py                        # m = 100,000, s = 4096, 16384
    python benchmarks/compare_decisions.py --threads default      # the default thread settings
    python benchmarks/compare_decisions.py --m 2000 --s 256 --tie-s 64 --repeat 1   # seconds

Each figure is the best over ``--repeat`` rounds in which the three paths
alternate, so that a changing machine load hits them alike; the load
average is printed before and after.  Compare ratios, not seconds.
"""
import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

# sparselearn is imported where it is used, after the arguments are parsed:
# --help answers without loading it (3-4 s).


def numpy_counts(X, W, b, rows):
    return np.concatenate([np.count_nonzero(X[i:i + rows] @ W.T - b > 0.0, axis=1)
                           for i in range(0, X.shape[0], rows)])


def numpy_supports(X, W, b, rows):
    counts, indices = [], []
    for i in range(0, X.shape[0], rows):
        r, c = np.nonzero(X[i:i + rows] @ W.T - b > 0.0)
        counts.append(np.bincount(r, minlength=min(rows, X.shape[0] - i)))
        indices.append(c)
    indptr = np.zeros(X.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return indptr, np.concatenate(indices)


def cases(m, n, widths, tie_width, rng):
    """(name, network, X) for every timed case."""
    from sparselearn import SparseReLUNetwork

    out = []
    X = rng.normal(size=(m, n))
    for s in widths:
        W = rng.normal(size=(s, n)) / np.sqrt(n)
        # Biases at the 99th percentile of the inner products: about 1% of
        # the units (s / 100) active per row.
        b = np.quantile(X[:2000] @ W.T, 0.99, axis=0)
        out.append((f"gaussian W, gaussian X, s={s}", SparseReLUNetwork(W, b, np.ones(s)), X))
    C = rng.choice([-1.0, 1.0], size=(m, n))
    for kind in ("decimal", "dyadic"):
        W = (rng.integers(-9, 10, size=(tie_width, n)) / 10.0 if kind == "decimal"
             else rng.integers(-16, 17, size=(tie_width, n)) / 8.0)
        b = np.quantile(C[:2000] @ W.T, 0.9, axis=0)
        b = np.round(b, 1) if kind == "decimal" else np.round(8 * b) / 8
        out.append((f"{kind} W, cube X, s={tie_width}",
                    SparseReLUNetwork(W, b, np.ones(tie_width)), C))
    return out


def candidate_fraction(net, X, rows=2000):
    """Fraction of entries of the first ``rows`` rows within the float32
    bound (re-decided in float64), or NaN when the screening is not used."""
    X = X[:rows]
    screen = net._screen_args(net._decision_args(X))
    if screen is None:
        return float("nan")
    W32, hi, lo, _ = screen
    G = X.astype(np.float32) @ W32.T
    return float(np.mean((G > lo) & (G <= hi)))


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def same(a, b):
    if isinstance(a, tuple):
        return all(np.array_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--m", type=int, default=100_000, help="rows")
    parser.add_argument("--n", type=int, default=64, help="input dimension")
    parser.add_argument("--s", type=int, nargs="+", default=[4096, 16384],
                        help="widths of the Gaussian cases")
    parser.add_argument("--tie-s", type=int, default=1024,
                        help="width of the decimal and dyadic cases")
    parser.add_argument("--repeat", type=int, default=2, help="alternating rounds")
    parser.add_argument("--threads", choices=["1", "default"], default="1",
                        help="every thread pool at one thread, or the libraries' defaults")
    args = parser.parse_args()
    import sparselearn.network as network_module

    limit = 1 if args.threads == "1" else None
    print(f"{os.cpu_count()} CPUs, threads: {args.threads}; best of {args.repeat} "
          "alternating rounds; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    header = (f"{'call':<18} {'case':<32} {'new ms':>8} {'cpu s':>6} {'old ms':>8} "
              f"{'cpu s':>6} {'numpy ms':>8} {'cpu s':>6} {'old/new':>7} {'numpy/new':>9} "
              f"{'candidates':>10}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for case, net, X in cases(args.m, args.n, args.s, args.tie_s, rng):
        W, b = net.weights, net.biases
        rows = max(1, 16 * 2**20 // (8 * net.width))
        near = candidate_fraction(net, X)
        for call, fn, peer in (
                ("activation_counts", lambda: net.activation_counts(X),
                 lambda: numpy_counts(X, W, b, rows)),
                ("active_supports", lambda: net.active_supports(X),
                 lambda: numpy_supports(X, W, b, rows))):
            best = {"new": (np.inf, 0.0), "old": (np.inf, 0.0), "numpy": (np.inf, 0.0)}
            with threadpool_limits(limits=limit):
                fn()  # warm-up
                for _ in range(args.repeat):
                    network_module._FLOAT32_SCREENING = True
                    t_new, c_new, out_new = timed(fn)
                    network_module._FLOAT32_SCREENING = False
                    try:
                        t_old, c_old, out_old = timed(fn)
                    finally:
                        network_module._FLOAT32_SCREENING = True
                    t_np, c_np, _ = timed(peer)
                    if not same(out_new, out_old):
                        raise AssertionError(f"{call}, {case}: float32 screening changed "
                                             "the result")
                    best["new"] = min(best["new"], (t_new, c_new))
                    best["old"] = min(best["old"], (t_old, c_old))
                    best["numpy"] = min(best["numpy"], (t_np, c_np))
            (t_new, c_new), (t_old, c_old), (t_np, c_np) = (best["new"], best["old"],
                                                            best["numpy"])
            print(f"{call:<18} {case:<32} {t_new * 1e3:>8.1f} {c_new:>6.2f} "
                  f"{t_old * 1e3:>8.1f} {c_old:>6.2f} {t_np * 1e3:>8.1f} {c_np:>6.2f} "
                  f"{t_old / t_new:>7.2f} {t_np / t_new:>9.2f} {near:>10.2e}", flush=True)
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("new and old results identical in every case")


if __name__ == "__main__":
    main()
