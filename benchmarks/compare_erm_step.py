"""Per-step time of the SparseReLURegressor trainer: the former step against
today's, in one process.

A step is one minibatch of projected Adam (:func:`sparselearn.erm._train`):
the ``X @ W.T`` product (BLAS), the active supports, the output and the
sparse backward pass, and the optimiser update.  Three paths run the same
epochs on the same data from the same start:

- ``former``: count the active units (one scan of the minibatch's
  pre-activations), then rank them (a second scan), dense Adam over all
  ``s`` units: the step as it was before it was made to scale with ``k``;
- ``adam``: one fused scan that counts and ranks, dense Adam (the default;
  its iterates equal ``former``'s to the bit, which this script checks);
- ``lazy_adam``: the fused scan, gradients and Adam updates of the units
  the minibatch touches only (``solver="lazy_adam"``; other iterates).

Each path's training loop is timed ``--repeat`` times, the paths alternating
within each round so that the machine's load hits them alike; the best time
per step is kept and the ratios to ``former`` printed.  Run from the
repository root::

    python benchmarks/compare_erm_step.py
    python benchmarks/compare_erm_step.py --s 1024 4096 --k 8 --repeat 5
    python benchmarks/compare_erm_step.py --s 64 --m 256 --epochs 1 --repeat 1   # seconds

All thread pools are limited to ``--threads`` threads (default 1; the fit
itself runs its kernels on one OpenMP thread); ``--threads 0`` keeps the
libraries' defaults for BLAS.  Timings depend on the machine and its load;
compare ratios, not seconds.
"""
import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

# scikit-learn and sparselearn are imported where they are used, after the
# arguments are parsed: --help answers without loading them (3-4 s).

PATHS = (("former", "adam", True), ("adam", "adam", False), ("lazy_adam", "lazy_adam", False))


def make_problem(n, s, k, m, batch, epochs, seed=0):
    """Data, the estimator's checked parameters and its initial network."""
    from sparselearn.erm import SparseReLURegressor, _initial_parameters
    from sparselearn.targets import random_network

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = random_network(n, 2 * k, random_state=seed, bias_quantile=0.95)(X)
    estimator = SparseReLURegressor(width=s, sparsity=k, W=4.0, B=4.0, batch_size=batch,
                                    max_epochs=epochs, tol=0.0, n_iter_no_change=epochs + 1)
    p = estimator._validated_params()
    start = _initial_parameters(X, y, s, k, p["W"], p["B"], np.random.default_rng(seed))
    return X, y, p, start


def run(X, y, p, start, solver, two_scans, seed=1):
    """One training loop from a copy of ``start``; (seconds, steps, final w)."""
    from sklearn.exceptions import ConvergenceWarning

    from sparselearn.erm import _squared_loss, _train

    m, s = X.shape[0], start[0].shape[0]
    w, b, u = (np.array(a) for a in start)
    c = np.zeros((1, 1))
    q = dict(p, solver=solver, _two_scans=two_scans)
    y_rms = float(np.sqrt(y @ y / m)) or 1.0
    batch = min(q["batch_size"], m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        began = time.perf_counter()
        curve = _train(X, y.reshape(m, 1), w, b, u.reshape(1, s), c, q, batch,
                       np.random.default_rng(seed), _squared_loss, y_rms, "benchmark")
        seconds = time.perf_counter() - began
    steps = len(curve) * -(-m // batch)
    return seconds, steps, w


def compare(n, widths, k, m, batch, epochs, repeat):
    print(f"Per-step time of the trainer, n={n}, k={k}, m={m}, batch_size={batch}, "
          f"{epochs} epochs per run, best of {repeat} alternating rounds.")
    header = (f"{'s':>5} {'former ms':>10} {'adam ms':>8} {'adam/former':>12} "
              f"{'lazy ms':>8} {'lazy/former':>12} {'same iterates':>14}")
    print(header)
    print("-" * len(header))
    for s in widths:
        X, y, p, start = make_problem(n, s, k, m, batch, epochs)
        best = {name: np.inf for name, _, _ in PATHS}
        final = {}
        for _ in range(repeat):
            for name, solver, two_scans in PATHS:
                seconds, steps, w = run(X, y, p, start, solver, two_scans)
                best[name] = min(best[name], seconds / steps)
                final[name] = w
        same = np.array_equal(final["former"], final["adam"])
        print(f"{s:>5} {best['former'] * 1e3:>10.3f} {best['adam'] * 1e3:>8.3f} "
              f"{best['adam'] / best['former']:>12.2f} {best['lazy_adam'] * 1e3:>8.3f} "
              f"{best['lazy_adam'] / best['former']:>12.2f} {'yes' if same else 'NO':>14}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=64, help="input dimension")
    parser.add_argument("--s", type=int, nargs="+", default=[256, 1024, 4096],
                        help="widths")
    parser.add_argument("--k", type=int, default=8, help="activation budget")
    parser.add_argument("--m", type=int, default=4096, help="training rows")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds")
    parser.add_argument("--threads", type=int, default=1,
                        help="thread limit for BLAS and OpenMP (0: library defaults)")
    args = parser.parse_args()
    # threadpoolctl limits only the libraries already loaded: load them
    # (sparselearn's OpenMP kernels, NumPy's and SciPy's BLAS, and
    # scikit-learn's OpenMP, which sparselearn loads only with its
    # estimators) first.
    import sklearn.utils  # noqa: F401
    import sparselearn  # noqa: F401
    with threadpool_limits(limits=args.threads or None):
        with threadpool_limits(limits=1, user_api="openmp"):
            compare(args.n, args.s, args.k, args.m, args.batch_size, args.epochs,
                    args.repeat)


if __name__ == "__main__":
    main()
