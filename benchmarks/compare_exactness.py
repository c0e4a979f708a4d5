"""What exact activity decisions cost: the same calls with and without them, in one process.

Run from the repository root::

    python benchmarks/compare_exactness.py            # default sizes
    python benchmarks/compare_exactness.py --quick    # smaller sizes, fewer repeats

Unit ``j`` is active at ``x`` when the exact ``<w_j, x> - b_j`` is strictly
positive (:mod:`sparselearn.network`).  The library decides that from the
float pre-activation plus a rigorous rounding bound, re-evaluating exactly
only the near-ties.  This script times, on the same inputs:

- ``SparseReLUNetwork.activation_counts`` (exact) against the plain float
  test ``X W^T - b > 0`` through the same chunks and BLAS products (the
  library's ``_network.count_positive`` kernel, i.e. the code before exact
  decisions);
- ``cube.activation_histogram`` (exact) against the same Gray-code walk run
  with a zero rounding bound (the float walk before exact decisions);

for three kinds of weights: Gaussian (near-ties are rare), decimals
(multiples of 0.1: sums of them land within rounding of 0 often, so many
pre-activations are re-evaluated exactly) and dyadic (multiples of 1/8: the
float computation is exact, so the bound is 0 and nothing is re-evaluated).
It prints each ratio exact / float (1.00 means free) and, for the network
rows, the fraction of pairs that were near-ties.  Results of the two paths
are compared: where they differ, the float path was wrong.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_foundation import best_time  # noqa: E402  (this script's folder)

# sparselearn is imported where it is used, after the arguments are parsed:
# --help answers without loading it (3-4 s).


def make_network(kind, n, s, rng):
    from sparselearn import SparseReLUNetwork

    if kind == "gaussian":
        W = rng.normal(size=(s, n)) / np.sqrt(n)
    elif kind == "decimal":
        W = rng.integers(-9, 10, size=(s, n)) / 10.0
    else:
        W = rng.integers(-16, 17, size=(s, n)) / 8.0
    # Thresholds at the 90% quantile of each unit's pre-activation on the
    # cube (units active on about 10% of inputs), snapped to the same grid.
    b = np.quantile(rng.choice([-1.0, 1.0], size=(4096, n)) @ W.T, 0.9, axis=0)
    b = {"gaussian": b, "decimal": np.round(b, 1), "dyadic": np.round(8 * b) / 8}[kind]
    return SparseReLUNetwork(W, b, np.ones(s))


def float_counts(net, X):
    """``activation_counts`` with the plain float decision (the old code path)."""
    from sparselearn._kernels import _network

    counts = np.empty(X.shape[0], dtype=np.int64)
    for start, stop, G in net._inner_product_chunks(X):
        _network.count_positive(G, net.biases, counts[start:stop])
    return counts


def float_histogram(net):
    """``activation_histogram`` through the same walk with a zero rounding bound."""
    from sparselearn import cube
    from sparselearn._kernels import _cube

    n = net.n_features
    weights_t = np.ascontiguousarray(net.weights.T)
    hist = np.zeros(net.width + 1, dtype=np.int64)
    bits, batches = cube._chunk_batches(n)
    zero = np.zeros(net.width)
    for start, stop in batches:
        _cube.activation_histogram(weights_t, net.biases, zero, bits, start, stop, hist)
    return hist


def near_tie_fraction(net, X):
    Z = X @ net.weights.T - net.biases
    tol = (net.n_features + 2) * 2.0**-52 * (np.abs(X).max(axis=1)[:, None]
                                            * np.abs(net.weights).sum(axis=1)
                                            + np.abs(net.biases))
    return float(np.mean(np.abs(Z) <= tol))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--m", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--s", type=int, default=256)
    parser.add_argument("--cube-n", type=int, default=18)
    parser.add_argument("--cube-s", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from sparselearn import cube

    if args.quick:
        args.m, args.cube_n, args.repeats = 10_000, 14, 2

    rng = np.random.default_rng(0)
    rows = []
    for kind in ("gaussian", "decimal", "dyadic"):
        net = make_network(kind, args.n, args.s, rng)
        inputs = [("cube X", rng.choice([-1.0, 1.0], size=(args.m, args.n)))]
        if kind == "gaussian":
            inputs.append(("gaussian X", rng.normal(size=(args.m, args.n))))
        for x_name, X in inputs:
            t_exact, exact = best_time(lambda: net.activation_counts(X), args.repeats)
            t_float, approx = best_time(lambda: float_counts(net, X), args.repeats)
            rows.append((f"activation_counts, {kind} weights, {x_name}",
                         f"m={args.m} n={args.n} s={args.s}", t_exact, t_float,
                         int(np.count_nonzero(exact != approx)), near_tie_fraction(net, X)))
        small = make_network(kind, args.cube_n, args.cube_s, rng)
        t_exact, exact = best_time(lambda: cube.activation_histogram(small), args.repeats)
        t_float, approx = best_time(lambda: float_histogram(small), args.repeats)
        rows.append((f"activation_histogram, {kind} weights", f"n={args.cube_n} s={args.cube_s}",
                     t_exact, t_float, int(np.abs(exact - approx).sum() // 2), float("nan")))

    print(f"\nbest of {args.repeats}; {os.cpu_count()} cores; ratio = exact / float")
    print(f"{'call':<52} {'size':<22} {'exact ms':>9} {'float ms':>9} {'ratio':>6} "
          f"{'float wrong':>11} {'near-ties':>10}")
    for name, size, t_exact, t_float, wrong, ties in rows:
        tie_text = "" if np.isnan(ties) else f"{ties:.2e}"
        print(f"{name:<52} {size:<22} {1e3 * t_exact:>9.2f} {1e3 * t_float:>9.2f} "
              f"{t_exact / t_float:>6.2f} {wrong:>11} {tie_text:>10}")
    print("\n'float wrong': rows (counts) or points (histogram) where the float "
          "decision differs from the exact one.")


if __name__ == "__main__":
    main()
