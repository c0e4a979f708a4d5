"""SparseReLURegressor against scikit-learn's MLPRegressor, and the sparse
backward kernel against its dense NumPy twin.

Part 1 fits both estimators, same width ``s``, ReLU, Adam, same step size,
minibatch size, epoch budget and stopping rule (no L2 penalty for the MLP),
on ``k``-sparse targets with label noise:

- ``cube``: :func:`sparselearn.targets.bump_network` (Hamming-ball bumps of
  radius 2, ``k``-sparse on the whole cube), uniform inputs on ``{-1,1}^n``;
- ``gauss``: a random network whose units fire on about 5% of Gaussian
  inputs (:func:`sparselearn.targets.random_network` with
  ``bias_quantile=0.95``), inputs ``N(0, I_n)``; its sparsity on the
  sample is measured and printed.

It prints the held-out squared error relative to the target variance, the
fit time and the active-unit counts of each
fitted network on the training set, medians over ``--seeds`` estimator
seeds (the spread of the error in parentheses).  The sparse trainer gets ``k`` = the
target's measured sparsity on the sample and norm bounds ``W, B`` twice
the target's; its count is certified ``<= k``, the MLP's is what it
happens to be.

Part 2 times one minibatch gradient, ``m_b = 256`` rows, ``n = 100``,
``k = 8``, for growing ``s``: the Cython kernel (supports + backward)
against the dense masked NumPy twin (which also ranks the units densely)
and against the bare dense backward given the activation mask (the
BLAS-level products a dense trainer such as the MLP performs).

Run from the repository root::

    python benchmarks/compare_erm.py            # about two minutes
    python benchmarks/compare_erm.py --seeds 5
    python benchmarks/compare_erm.py --widths 1024 4096 --skip-backward

The last line of part 1 counts the settings in which each estimator had
the lower median held-out error and names those the MLP won.

Every timing runs with all thread pools (BLAS and OpenMP) limited to one
thread: on a small shared machine oversubscribed threads distort timings
far more than they help.  ``--threads 0`` keeps the libraries' defaults.
Timings depend on the machine and its load; compare ratios, not seconds.
"""
import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

# scikit-learn and sparselearn are imported where they are used, after the
# arguments are parsed: --help answers without loading them (3-4 s).

TRAIN, TEST = 2000, 5000
NOISE = 0.1  # label noise standard deviation, relative to the target's


def make_task(kind, n, k, seed):
    """(X, y, X_test, y_test, target) for a k-sparse target with label noise."""
    from sparselearn.targets import bump_network, random_network

    rng = np.random.default_rng(seed)
    if kind == "cube":
        target = bump_network(n, 4 * k, k, radius=2, random_state=seed)
        draw = lambda m: rng.choice([-1.0, 1.0], size=(m, n))  # noqa: E731
    else:
        target = random_network(n, 4 * k, random_state=seed, bias_quantile=0.95)
        draw = lambda m: rng.normal(size=(m, n))  # noqa: E731
    X, X_test = draw(TRAIN), draw(TEST)
    y, y_test = target(X), target(X_test)
    y = y + rng.normal(scale=NOISE * y.std(), size=TRAIN)
    return X, y, X_test, y_test, target


def mlp_as_network(mlp):
    """The fitted MLPRegressor as a SparseReLUNetwork, to count its active units."""
    from sparselearn import SparseReLUNetwork

    return SparseReLUNetwork(mlp.coefs_[0].T, -mlp.intercepts_[0], mlp.coefs_[1][:, 0],
                             float(mlp.intercepts_[1][0]))


def compare_estimators(seeds, widths=(64, 256)):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from sparselearn.erm import SparseReLURegressor

    budget = dict(learning_rate=1e-2, batch_size=64, max_epochs=100, tol=1e-5,
                  n_iter_no_change=10)
    print(f"Part 1. Held-out error (MSE / Var y_test) and fit time, medians over "
          f"{len(seeds)} estimator seeds (same data); m={TRAIN} train, {TEST} test, "
          f"label noise {NOISE:.0%} of the target's std.")
    header = (f"{'task':<6} {'n':>3} {'k':>2} {'s':>4} {'estimator':<18} {'test err':>8} "
              f"{'(min-max)':>13} {'fit s':>6} {'epochs':>6} {'max act':>7} {'mean act':>8}")
    print(header)
    print("-" * len(header))
    medians = {}  # (task, k, s) -> [sparse median error, MLP median error]
    for kind, n, k in (("cube", 12, 2), ("cube", 12, 4), ("gauss", 20, 4)):
        X, y, X_test, y_test, target = make_task(kind, n, k, seed=0)
        counts = target.activation_counts(X)
        print(f"{kind:<6} {n:>3} {k:>2} {target.width:>4} {'(target)':<18} {'':>8} {'':>13} "
              f"{'':>6} {'':>6} {counts.max():>7} {counts.mean():>8.2f}")
        k_fit = max(k, int(counts.max()))
        # The class the theory speaks of: norm bounds twice the target's.
        W, B = (2.0 * bound for bound in target.norm_bounds())
        for s in widths:
            def sparse_fit(seed):
                return SparseReLURegressor(width=s, sparsity=k_fit, W=W, B=B,
                                           random_state=seed, **budget).fit(X, y)

            def mlp_fit(seed):
                return MLPRegressor(
                    hidden_layer_sizes=(s,), activation="relu", solver="adam", alpha=0.0,
                    learning_rate_init=budget["learning_rate"],
                    batch_size=budget["batch_size"], max_iter=budget["max_epochs"],
                    tol=budget["tol"], n_iter_no_change=budget["n_iter_no_change"],
                    random_state=seed).fit(X, y)

            for label, fit in ((f"SparseReLU k={k_fit}", sparse_fit), ("MLPRegressor", mlp_fit)):
                errors, seconds, epochs, max_active, mean_active = [], [], [], [], []
                for seed in seeds:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        start = time.perf_counter()
                        model = fit(seed)
                        seconds.append(time.perf_counter() - start)
                    errors.append(np.mean((model.predict(X_test) - y_test) ** 2)
                                  / y_test.var())
                    if isinstance(model, SparseReLURegressor):
                        assert model.in_class_
                        active = model.network_.activation_counts(X)
                    else:
                        active = mlp_as_network(model).activation_counts(X)
                    epochs.append(model.n_iter_)
                    max_active.append(active.max())
                    mean_active.append(active.mean())
                spread = f"({min(errors):.3f}-{max(errors):.3f})"
                medians.setdefault((kind, k, s), []).append(float(np.median(errors)))
                print(f"{kind:<6} {n:>3} {k:>2} {s:>4} {label:<18} {np.median(errors):>8.4f} "
                      f"{spread:>13} {np.median(seconds):>6.2f} {int(np.median(epochs)):>6} "
                      f"{int(np.median(max_active)):>7} {np.median(mean_active):>8.2f}")
    print_verdict(medians)


def print_verdict(medians):
    """Which estimator had the lower median held-out error, setting by setting."""
    mlp_wins = [key for key, (sparse, mlp) in medians.items() if mlp < sparse]
    print(f"\nlower median held-out error: SparseReLU in "
          f"{len(medians) - len(mlp_wins)}/{len(medians)} settings, MLPRegressor in "
          f"{len(mlp_wins)}/{len(medians)}"
          + (": " + ", ".join(f"{task} k={k} s={s} ({medians[task, k, s][1]:.4f} vs "
                              f"{medians[task, k, s][0]:.4f})" for task, k, s in mlp_wins)
             if mlp_wins else ""))


def compare_backward(repeat):
    from sparselearn._kernels import _network, _sparse_backprop
    from sparselearn._reference import sparse_backprop as reference

    mb, n, k = 256, 100, 8
    rng = np.random.default_rng(0)
    print(f"\nPart 2. One minibatch gradient, m_b={mb}, n={n}, k={k} (about k units "
          "active per row): sparse kernel vs dense NumPy twin, best of "
          f"{repeat} runs.")
    header = (f"{'s':>5} {'kernel ms':>10} {'twin ms':>9} {'vs twin':>8} {'dense ms':>9} "
              f"{'vs dense':>9}")
    print(header)
    print("-" * len(header))
    for s in (64, 256, 1024, 4096):
        X = rng.normal(size=(mb, n))
        weights = rng.normal(size=(s, n)) / np.sqrt(n)
        G = np.ascontiguousarray(X @ weights.T)
        # Each unit fires on a k/(2s) fraction of rows: about k/2 active per row.
        b = np.quantile(G, 1.0 - k / (2 * s), axis=0)
        u, r = rng.normal(size=s), rng.normal(size=mb) / mb
        counts = np.empty(mb, dtype=np.int64)
        indptr = np.zeros(mb + 1, dtype=np.int64)
        indices, values = np.empty(mb * s, dtype=np.int64), np.empty(mb * s)
        n_kept = np.empty(mb, dtype=np.int64)
        grad_w, grad_b, grad_u = np.empty((s, n)), np.empty(s), np.empty(s)

        def kernel():
            _network.count_positive(G, b, counts)
            np.cumsum(counts, out=indptr[1:])
            _sparse_backprop.ranked_supports(G, b, k, indptr, indices, values, n_kept)
            _sparse_backprop.sparse_backward(X, r, u, indptr, indices, values, n_kept, True,
                                             0.1 / mb, grad_w, grad_b, grad_u)

        def twin():
            reference.sparse_backward(X, G, b, u, r, k, True, 0.1 / mb)

        # What a dense trainer does once the masks are known: two BLAS-level
        # products over all s units (the MLP's backward for this layer).
        Z = G - b
        mask = Z > 0

        def dense():
            A = mask * (r[:, None] * u[None, :])
            return A.T @ X, -A.sum(axis=0), (A * Z).sum(axis=0)

        times = {}
        for name, fn in (("kernel", kernel), ("twin", twin), ("dense", dense)):
            loops = 20
            best = np.inf
            for _ in range(repeat):
                start = time.perf_counter()
                for _ in range(loops):
                    fn()
                best = min(best, (time.perf_counter() - start) / loops)
            times[name] = best
        print(f"{s:>5} {times['kernel'] * 1e3:>10.3f} {times['twin'] * 1e3:>9.3f} "
              f"{times['twin'] / times['kernel']:>7.1f}x {times['dense'] * 1e3:>9.3f} "
              f"{times['dense'] / times['kernel']:>8.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="estimator seeds per setting")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timing repeats of the kernels (best kept)")
    parser.add_argument("--threads", type=int, default=1,
                        help="thread limit for BLAS and OpenMP (0: library defaults)")
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 256],
                        help="widths s of both estimators in part 1 (64 256; the MLP "
                             "wins some cube settings at 1024 and 4096)")
    parser.add_argument("--skip-backward", action="store_true",
                        help="part 1 only (no kernel timings)")
    args = parser.parse_args()
    # threadpoolctl limits only the libraries already loaded: load them
    # (sparselearn's OpenMP kernels, NumPy's and SciPy's BLAS, and
    # scikit-learn's OpenMP, which sparselearn loads only with its
    # estimators) first.
    import sklearn.utils  # noqa: F401
    import sparselearn  # noqa: F401
    with threadpool_limits(limits=args.threads or None):
        compare_estimators(range(args.seeds), args.widths)
        if not args.skip_backward:
            compare_backward(args.repeat)


if __name__ == "__main__":
    main()
