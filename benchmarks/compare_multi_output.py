"""The multi-output forward pass against NumPy, in one process.

Run from the repository root::

    python benchmarks/compare_multi_output.py             # m=1e5, n=64, s=256, o=10
    python benchmarks/compare_multi_output.py --m 20000   # any sizes

``net(X)`` of a network with ``o`` outputs (output weights of shape
``(s, o)``) decides every unit's activity exactly (``masked_relu`` kernel:
float pre-activation, rigorous rounding bound, exact re-evaluation of
near-ties) and then makes one
BLAS product with the output weights.  The peer is the plain float NumPy
expression ``np.maximum(X @ W.T - b, 0) @ U + c`` (no exact decisions).
Both run on the same random +-1 inputs and a random network whose units are
active on about 10% of inputs; the outputs are compared (to rounding) and
the time ratio library / NumPy is printed (1.00: as fast as NumPy, below 1:
the library is faster), with its inverse, the speed-up over NumPy.

The multi-output pass runs in one OpenMP parallel region per call (each
block of rows: one-thread ``dgemm`` products, exact masked ReLU in cache,
one-thread ``dgemm`` with ``U``).  Before that it went chunk by chunk
(BLAS ``X @ W.T`` on 2 threads, a ``prange`` masked ReLU, BLAS ``@ U``):
the column ``former`` times that path (same kernels, same process).  The
time it lost went to the OpenMP and BLAS thread pools waiting for each
other between the steps, not to the output product ``relu(G) @ U``
(``s o`` multiply-adds per row against ``n s`` for the inner products).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_foundation import best_time  # noqa: E402  (this script's folder)

# sparselearn is imported where it is used, after the arguments are parsed:
# --help answers without loading it (3-4 s).


def former_forward(net, X):
    """The multi-output pass before one region per call: per chunk, BLAS
    ``X @ W.T``, the ``masked_relu`` kernel, BLAS ``@ U``."""
    from sparselearn._kernels import _network
    out = np.empty((X.shape[0], net.n_outputs))
    for start, stop, G, args in net._decision_chunks(X):
        _network.masked_relu(G, X[start:stop], *args)
        np.matmul(G, net.output_weights, out=out[start:stop])
    return out + net.output_bias


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=100_000, help="rows (100000)")
    parser.add_argument("--n", type=int, default=64, help="input dimension (64)")
    parser.add_argument("--s", type=int, default=256, help="width (256)")
    parser.add_argument("--o", type=int, nargs="+", default=[1, 10],
                        help="output counts (1 10)")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (5)")
    args = parser.parse_args(argv)
    from sparselearn import SparseReLUNetwork
    from sparselearn.targets import random_network

    rng = np.random.default_rng(0)
    hidden = random_network(args.n, args.s, random_state=0, bias_quantile=0.9)
    X = rng.choice(np.array([-1.0, 1.0]), size=(args.m, args.n))
    W, b = hidden.weights, hidden.biases
    print(f"m={args.m}, n={args.n}, s={args.s}; best of {args.repeats}; "
          "ratio = sparselearn / NumPy time (below 1: faster), speed-up = its inverse")
    print(f"{'o':>4} {'sparselearn s':>14} {'NumPy s':>10} {'ratio':>7} {'speed-up':>9} "
          f"{'former s':>9}")
    for o in args.o:
        U = rng.normal(size=(args.s, o)) if o > 1 else rng.normal(size=args.s)
        c = rng.normal(size=o) if o > 1 else 0.5
        net = SparseReLUNetwork(W, b, U, c)
        t_lib, out = best_time(lambda: net(X), args.repeats)
        t_np, ref = best_time(lambda: np.maximum(X @ W.T - b, 0.0) @ U + c, args.repeats)
        scale = (np.abs(X) @ np.abs(W).T + np.abs(b)) @ np.abs(U)
        assert np.all(np.abs(out - ref) <= 1e-12 * (scale + 1.0)), "outputs differ"
        former = "-"
        if o > 1:
            t_former, out_former = best_time(lambda: former_forward(net, X), args.repeats)
            assert np.all(np.abs(out_former - ref) <= 1e-12 * (scale + 1.0)), "outputs differ"
            former = f"{t_former:.4f}"
        print(f"{o:>4} {t_lib:>14.4f} {t_np:>10.4f} {t_lib / t_np:>7.2f} "
              f"{t_np / t_lib:>8.2f}x {former:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
