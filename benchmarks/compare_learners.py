"""The low-degree learner against its peers, ratios printed.

Sections (run all, or name some on the command line):

``products``
    One fused :math:`P^\\top P c` (a CG iteration) by the two routes of
    :class:`sparselearn.parities.ParityDesign`: dense BLAS over the
    lower-degree parities, and popcount over bit-packed rows.
``sklearn``
    ``PolynomialFeatures(degree=3, interaction_only=True)`` + ``Ridge``
    against ``LowDegreeRegressor(degree=3)`` (same ridge ``alpha``) at
    ``n = 32``, ``m = 20000``, on a 2-sparse network of width 16 (two
    juntas, docs/theory.rst, section 3) with label noise: end-to-end time (fit + predict on 10,000 test points), peak
    memory and test MSE.  Goal: >= 10x faster, <= 1/5 of the peak memory,
    test MSE equal within 1%.
``boofun``
    boofun's ``pac_learn_low_degree`` (pure Python, draws its own samples,
    ``degree = 2``, ``epsilon = 0.3``, ``delta = 0.05``) for growing ``n``
    until a call takes over a minute; at the largest ``n`` it finishes,
    ``LowDegreeRegressor(solver="lmn")`` (the same estimator) and
    ``solver="cg"`` on the same number of samples of the same function
    (``n`` in steps of 4, refined by 2 at the end).
``mlp``
    scikit-learn's ``MLPRegressor`` (one hidden layer of 100 ReLU units,
    Adam, early stopping) against ``LowDegreeRegressor`` with the degree
    chosen from ``0..4`` on a 20% held-out split, on a 2-sparse bump network
    (:func:`sparselearn.targets.bump_network`, ``n = 16``, ``s = 8``,
    radius 3):
    excess test error (relative to the target's variance) against ``m``,
    with fit times.
``scale``
    ``n = 64, d = 3`` (43,745 features), ``m = 200,000``, on the two-junta
    network: one fit.  Goal: under 60 s within 2 GB.
``real``
    Real-valued inputs (issue 16): correlated Gaussian ``X`` (a random
    covariance with condition number 100), ``LowDegreeRegressor(degree=d,
    alpha=1, tol=1e-9)`` against its exact scikit-learn equivalent
    ``PolynomialFeatures(d, interaction_only=True)`` (bias column included)
    ``+ Ridge(alpha=1, fit_intercept=False, solver="cholesky")`` (our
    constant monomial is penalised like the other coefficients): fit time (wall clock and
    CPU seconds), peak memory, CG iterations, and the relative difference of the test
    predictions.  Sizes ``--real-sizes n,d,m ...`` (default the issue's
    ``32,3,20000 64,2,200000``; the peer needs ``8 m D`` bytes for its
    feature matrix, 3.3 GB at the second).
``digits``
    scikit-learn's bundled digits (10 classes, 64 pixels, ``d = 2``, 2081
    monomials, a 75/25 split): ``LowDegreeClassifier(degree=2, alpha=1)``
    (the default CG, and ``solver="exact"``) against
    ``PolynomialFeatures(2, interaction_only=True) + RidgeClassifier(
    alpha=1, fit_intercept=False)``: test accuracy and fit time.

Every contender runs in a fresh child process of this script (same Python,
same seeds, same data), so its peak memory is read honestly from
``ru_maxrss``; "peak" is the child's maximum resident set, "fit peak" that
minus the resident set once the data are built.  Timings are the best of
``--repeat`` runs, wall clock and process CPU time.  On a small shared
machine the wall clock of multithreaded code depends on the load: compare
ratios, and CPU seconds.

Run from the repository root::

    python benchmarks/compare_learners.py                  # all, ~10 min
    python benchmarks/compare_learners.py sklearn scale
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

N_TEST = 10_000
NOISE = 0.1
ALPHA = 1.0  # Ridge's default penalty, used by both contenders


# ------------------------------------------------------------------ data
def _split(rng, target, n, m):
    """Uniform train/test points, noisy labels (noise sd NOISE x target sd)."""
    X = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
    X_test = rng.choice(np.array([-1.0, 1.0]), size=(N_TEST, n))
    f, f_test = target(X), target(X_test)
    scale = float(np.std(f_test)) or 1.0
    y = f + NOISE * scale * rng.normal(size=m)
    y_test = f_test + NOISE * scale * rng.normal(size=N_TEST)
    return X, y, X_test, y_test, f_test


def bump_task(n, m, seed=0, s=8, k=2, radius=3):
    """A k-sparse network of Hamming-ball bumps (sparselearn.targets.bump_network)."""
    from sparselearn.targets import bump_network
    rng = np.random.default_rng(seed)
    return _split(rng, bump_network(n, s, k, radius=radius, random_state=seed), n, m)


def junta_pair_task(n, m, seed=0):
    """Two width-8 juntas on disjoint random triples of coordinates: a
    2-sparse network of width 16 on the whole cube, of Fourier degree 3."""
    from sparselearn import SparseReLUNetwork
    from sparselearn.targets import junta_network
    rng = np.random.default_rng(seed)
    coords = rng.choice(n, size=6, replace=False)
    parts = [junta_network(rng.uniform(-1, 1, size=8), part, n)
             for part in (coords[:3], coords[3:])]
    target = SparseReLUNetwork(np.vstack([p.weights for p in parts]),
                               np.concatenate([p.biases for p in parts]),
                               np.concatenate([p.output_weights for p in parts]))
    return _split(rng, target, n, m)


def real_task(n, m, seed=0, condition=100.0):
    """Gaussian inputs with a random covariance of condition number
    ``condition`` (eigenvalues geometric, mean 1), a target with
    interactions of degree 2 and 3 plus noise; train and test points."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    root = Q * np.sqrt(np.geomspace(1.0, condition, n) / np.sqrt(condition))
    X, X_test = rng.normal(size=(m, n)) @ root.T, rng.normal(size=(N_TEST, n)) @ root.T

    def target(Z):
        return Z[:, 0] * Z[:, 1] - Z[:, 2] + np.tanh(Z[:, 3] * Z[:, 4] * Z[:, 5])

    return X, target(X) + NOISE * rng.normal(size=m), X_test


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best_of(repeat, work):
    best_wall = best_cpu = math.inf
    result = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


# -------------------------------------------------------- child processes
def child(task, args):
    """Run one contender; print a JSON line with its figures."""
    warnings.simplefilter("ignore")
    repeat = args.get("repeat", 1)
    out = {}
    if task in ("ours", "polyridge"):
        X, y, X_test, y_test, _ = junta_pair_task(args["n"], args["m"])
        base = _rss_mib()
        if task == "ours":
            from sparselearn.learners import LowDegreeRegressor

            def work():
                model = LowDegreeRegressor(degree=args["d"], alpha=ALPHA).fit(X, y)
                return model.predict(X_test), model.n_iter_
        else:
            from sklearn.linear_model import Ridge
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import PolynomialFeatures

            def work():
                model = make_pipeline(
                    PolynomialFeatures(args["d"], interaction_only=True, include_bias=False),
                    Ridge(alpha=ALPHA)).fit(X, y)
                return model.predict(X_test), None
        wall, cpu, (prediction, n_iter) = _best_of(repeat, work)
        peak = _rss_mib()
        tracemalloc.start()  # a separate, untimed run: what the fit itself allocates
        work()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out = dict(wall=wall, cpu=cpu, peak=peak, fit_peak=peak - base, traced=traced,
                   mse=float(np.mean((prediction - y_test) ** 2)), n_iter=n_iter)
    elif task == "boofun":
        import boofun
        from boofun.analysis.pac_learning import pac_learn_low_degree
        f = boofun.create(_boofun_table(args["n"]))
        wall, cpu, coeffs = _best_of(repeat, lambda: pac_learn_low_degree(
            f, args["d"], epsilon=args["eps"], delta=args["delta"],
            rng=np.random.default_rng(0)))
        out = dict(wall=wall, cpu=cpu, peak=_rss_mib(), n_coefficients=len(coeffs))
    elif task == "ours_boofun":
        from sparselearn.learners import LowDegreeRegressor
        n, m = args["n"], args["m"]
        table = _boofun_table(n)
        rng = np.random.default_rng(0)
        index = rng.integers(0, 2**n, size=m)
        X = 1.0 - 2.0 * ((index[:, None] >> np.arange(n)) & 1)  # cube index convention
        y = 1.0 - 2.0 * table[index]
        base = _rss_mib()
        wall, cpu, model = _best_of(repeat, lambda: LowDegreeRegressor(
            degree=args["d"], solver=args["solver"]).fit(X, y))
        out = dict(wall=wall, cpu=cpu, peak=_rss_mib(), fit_peak=_rss_mib() - base)
    elif task in ("mlp_ours", "mlp_peer"):
        X, y, X_test, _, f_test = bump_task(args["n"], args["m"], seed=1)
        if task == "mlp_ours":
            from sparselearn.learners import LowDegreeRegressor
            model = LowDegreeRegressor(max_degree=4, cv=0.2, random_state=0)
        else:
            from sklearn.neural_network import MLPRegressor
            model = MLPRegressor(hidden_layer_sizes=(100,), early_stopping=True,
                                 max_iter=300, random_state=0)
        wall, cpu, model = _best_of(repeat, lambda: model.fit(X, y))
        out = dict(wall=wall, cpu=cpu,
                   excess=float(np.mean((model.predict(X_test) - f_test) ** 2)),
                   variance=float(np.var(f_test)), degree=getattr(model, "degree_", None))
    elif task in ("real_ours", "real_peer"):
        X, y, X_test = real_task(args["n"], args["m"])
        d = args["d"]
        base = _rss_mib()
        if task == "real_ours":
            from sparselearn.learners import LowDegreeRegressor

            def work():
                model = LowDegreeRegressor(degree=d, alpha=ALPHA, tol=1e-9, max_iter=20_000,
                                           n_jobs=2).fit(X, y)
                return model.predict(X_test), model.n_iter_
        else:
            from sklearn.linear_model import Ridge
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import PolynomialFeatures

            def work():
                model = make_pipeline(PolynomialFeatures(d, interaction_only=True),
                                      Ridge(alpha=ALPHA, fit_intercept=False,
                                            solver="cholesky")).fit(X, y)
                return model.predict(X_test), None
        wall, cpu, (prediction, n_iter) = _best_of(repeat, work)
        np.save(args["out"], prediction)  # compared by the parent
        out = dict(wall=wall, cpu=cpu, peak=_rss_mib(), fit_peak=_rss_mib() - base,
                   n_iter=n_iter)
    elif task == "scale":
        from sparselearn.learners import LowDegreeRegressor
        X, y, X_test, y_test, f_test = junta_pair_task(64, args["m"], seed=2)
        base = _rss_mib()
        wall, cpu, model = _best_of(repeat, lambda: LowDegreeRegressor(
            degree=3, solver="cg").fit(X, y))
        out = dict(wall=wall, cpu=cpu, peak=_rss_mib(), fit_peak=_rss_mib() - base,
                   n_iter=model.n_iter_, D=int(model.coef_.size),
                   excess=float(np.mean((model.predict(X_test) - f_test) ** 2)),
                   variance=float(np.var(f_test)))
    print(json.dumps(out))


def _boofun_table(n):
    """Majority of bits 0, 1, 2 as a 0/1 truth table over 2^n indices
    (output 1 is -1, like the inputs)."""
    index = np.arange(2**n)
    ones = ((index >> 0) & 1) + ((index >> 1) & 1) + ((index >> 2) & 1)
    return (ones >= 2).astype(np.int64)


def run_child(task, timeout=None, **args):
    """Run ``task`` in a fresh interpreter; its figures, or None on timeout."""
    command = [sys.executable, os.path.abspath(__file__), "--child", task, json.dumps(args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=True, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"child {task} failed:\n{exc.stderr}") from None
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- sections
def section_products(repeat):
    from sparselearn.learners import ParityDesign
    print("\n== One CG iteration, P^T P c: dense BLAS vs popcount (2 threads) ==")
    print(f"{'n':>4} {'d':>2} {'m':>7} {'D':>7} {'blas s':>8} {'popcount s':>11} {'ratio':>7}")
    rng = np.random.default_rng(0)
    for n, d, m in [(32, 3, 20_000), (64, 2, 20_000), (64, 3, 20_000)]:
        X = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
        times = {}
        for products in ("blas", "popcount"):
            design = ParityDesign(X, d, products=products, n_jobs=2)
            coef = rng.normal(size=design.n_output_features)
            times[products] = _best_of(repeat, lambda: design.normal_matvec(coef))[0]
        print(f"{n:>4} {d:>2} {m:>7} {design.n_output_features:>7} {times['blas']:>8.3f} "
              f"{times['popcount']:>11.3f} {times['popcount'] / times['blas']:>6.1f}x")


def section_sklearn(repeat):
    n, d, m = 32, 3, 20_000
    print(f"\n== vs PolynomialFeatures(interaction_only) + Ridge: n={n}, d={d}, m={m} ==")
    ours = run_child("ours", n=n, d=d, m=m, repeat=repeat)
    peer = run_child("polyridge", n=n, d=d, m=m, repeat=repeat)
    print(f"{'':>20} {'wall s':>7} {'cpu s':>7} {'peak RSS MiB':>13} {'traced MiB':>11} "
          f"{'test MSE':>9}")
    for name, r in (("LowDegreeRegressor", ours), ("PolyFeatures+Ridge", peer)):
        print(f"{name:>20} {r['wall']:>7.2f} {r['cpu']:>7.2f} {r['peak']:>13.0f} "
              f"{r['traced']:>11.1f} {r['mse']:>9.5f}")
    print(f"speed-up: wall {peer['wall'] / ours['wall']:.1f}x, cpu "
          f"{peer['cpu'] / ours['cpu']:.1f}x.  Memory ratio: peak RSS "
          f"{ours['peak'] / peer['peak']:.3f}, fit allocations (tracemalloc) "
          f"{ours['traced'] / peer['traced']:.4f}.  Test MSE relative difference "
          f"{abs(ours['mse'] - peer['mse']) / peer['mse']:.1e}.  CG iterations {ours['n_iter']}.")


def section_boofun(repeat):
    d, eps, delta = 2, 0.3, 0.05
    print(f"\n== vs boofun pac_learn_low_degree: d={d}, epsilon={eps}, delta={delta} ==")
    print(f"{'n':>4} {'samples':>8} {'boofun s':>9} {'ours lmn s':>11} {'ours cg s':>10} "
          f"{'lmn ratio':>10}")
    largest = None
    candidates = list(range(8, 33, 4))
    while candidates:
        n = candidates.pop(0)
        D = sum(math.comb(n, j) for j in range(d + 1))
        m = max(int(4 * D / eps**2 * np.log(2 * D / delta)), 100)  # boofun's own rule
        peer = run_child("boofun", timeout=60, n=n, d=d, eps=eps, delta=delta, repeat=1)
        if peer is None:
            print(f"{n:>4} {m:>8} {'> 60':>9}")
            # Refine once between the last success and this failure.
            candidates = [n - 2] if largest and n - 2 > largest[0] else []
            continue
        lmn = run_child("ours_boofun", n=n, d=d, m=m, solver="lmn", repeat=repeat)
        cg = run_child("ours_boofun", n=n, d=d, m=m, solver="cg", repeat=repeat)
        print(f"{n:>4} {m:>8} {peer['wall']:>9.2f} {lmn['wall']:>11.3f} {cg['wall']:>10.3f} "
              f"{peer['wall'] / lmn['wall']:>9.0f}x")
        largest = (n, peer["wall"] / lmn["wall"], peer["wall"] / cg["wall"])
    if largest:
        print(f"largest n boofun finishes in a minute: {largest[0]}; ratio {largest[1]:.0f}x "
              f"(lmn, same estimator), {largest[2]:.0f}x (cg, least squares)")


def section_mlp(repeat):
    n = 16
    print(f"\n== vs MLPRegressor on a 2-sparse bump network, n={n}, s=8, radius 3: "
          "excess test MSE / target variance ==")
    print(f"{'m':>7} {'ours':>8} {'degree':>7} {'ours s':>8} {'MLP':>8} {'MLP s':>8}")
    for m in (500, 2000, 8000, 32000):
        ours = run_child("mlp_ours", n=n, m=m, repeat=repeat)
        peer = run_child("mlp_peer", n=n, m=m, repeat=1)
        print(f"{m:>7} {ours['excess'] / ours['variance']:>8.3f} {ours['degree']:>7} "
              f"{ours['wall']:>8.2f} {peer['excess'] / peer['variance']:>8.3f} "
              f"{peer['wall']:>8.2f}")


def section_scale(repeat):
    m = 200_000
    print(f"\n== Scale: n=64, d=3, m={m} ==")
    r = run_child("scale", m=m, repeat=repeat)
    print(f"D={r['D']}: fit {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, {r['n_iter']} CG "
          f"iterations; peak RSS {r['peak']:.0f} MiB (fit adds {r['fit_peak']:.0f} MiB); "
          f"excess test MSE {r['excess']:.4f} (target variance {r['variance']:.4f})")


def section_real(repeat, sizes):
    import tempfile
    print("\n== Real-valued X (correlated Gaussian, covariance condition 100) vs "
          "PolynomialFeatures(interaction_only) + Ridge(fit_intercept=False, cholesky) ==")
    # CPU seconds next to the wall clock: under load the wall-clock ratio
    # falls while the CPU ratio (both contenders use the two cores) holds.
    print(f"{'n':>4} {'d':>2} {'m':>7} {'D':>6} {'ours s':>8} {'peer s':>8} {'ours CPU':>9} "
          f"{'peer CPU':>9} {'CPU ratio':>10} {'speed-up':>9} {'ours MiB':>9} {'peer MiB':>9} "
          f"{'mem ratio':>10} {'CG iter':>8} {'pred rel diff':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for n, d, m in sizes:
            D = sum(math.comb(n, j) for j in range(d + 1))
            paths = {who: os.path.join(tmp, f"{who}.npy") for who in ("ours", "peer")}
            ours = run_child("real_ours", n=n, d=d, m=m, repeat=repeat, out=paths["ours"])
            peer = run_child("real_peer", n=n, d=d, m=m, repeat=repeat, out=paths["peer"])
            mine, theirs = np.load(paths["ours"]), np.load(paths["peer"])
            diff = np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)
            print(f"{n:>4} {d:>2} {m:>7} {D:>6} {ours['wall']:>8.2f} {peer['wall']:>8.2f} "
                  f"{ours['cpu']:>9.2f} {peer['cpu']:>9.2f} {peer['cpu'] / ours['cpu']:>9.2f}x "
                  f"{peer['wall'] / ours['wall']:>8.2f}x {ours['peak']:>9.0f} "
                  f"{peer['peak']:>9.0f} {ours['peak'] / peer['peak']:>10.3f} "
                  f"{ours['n_iter']:>8} {diff:>14.1e}")


def section_digits(repeat, n_images=None, d=2):
    import warnings as _warnings

    from sklearn.datasets import load_digits
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import PolynomialFeatures

    from sparselearn.learners import LowDegreeClassifier
    X, y = load_digits(return_X_y=True)
    if n_images is not None:  # --digits-images: the first images only (quick runs)
        X, y = X[:n_images], y[:n_images]
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    D = sum(math.comb(64, j) for j in range(d + 1))
    print(f"\n== digits: 10 classes, n=64, d={d} ({D} monomials), m={len(y)} train, "
          f"{len(y_test)} test ==")
    features = PolynomialFeatures(d, interaction_only=True)

    def peer():
        return RidgeClassifier(alpha=ALPHA, fit_intercept=False).fit(
            features.fit_transform(X), y)

    wall, _, model = _best_of(repeat, peer)
    accuracy = model.score(features.transform(X_test), y_test)
    print(f"{'':>34} {'fit s':>7} {'test accuracy':>14} {'CG iter':>8}")
    print(f"{'PolyFeatures+RidgeClassifier':>34} {wall:>7.2f} {accuracy:>14.4f}")
    for solver in ("auto", "exact"):
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            ours_wall, _, ours = _best_of(repeat, lambda: LowDegreeClassifier(
                degree=d, alpha=ALPHA, solver=solver, n_jobs=2).fit(X, y))
        note = "  (did not converge)" if caught else ""
        print(f"{'LowDegreeClassifier ' + solver:>34} {ours_wall:>7.2f} "
              f"{ours.score(X_test, y_test):>14.4f} {ours.n_iter_:>8}{note}   "
              f"speed-up {wall / ours_wall:.2f}x, accuracy "
              f"{100 * (ours.score(X_test, y_test) - accuracy):+.2f} points")


SECTIONS = {"products": section_products, "sklearn": section_sklearn,
            "boofun": section_boofun, "mlp": section_mlp, "scale": section_scale,
            "real": section_real, "digits": section_digits}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], json.loads(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*",
                        help=f"sections to run, among {list(SECTIONS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=2, help="timing repeats (best kept)")
    parser.add_argument("--real-sizes", nargs="+", default=["32,3,20000", "64,2,200000"],
                        metavar="N,D,M", help="sizes of the 'real' section")
    parser.add_argument("--digits-images", type=int, default=None, metavar="M",
                        help="the 'digits' section on the first M of the 1,797 images "
                             "(default: all)")
    parser.add_argument("--digits-degree", type=int, default=2, metavar="D",
                        help="degree of the 'digits' section (default 2)")
    options = parser.parse_args()
    unknown = set(options.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose among {list(SECTIONS)}")
    try:
        sizes = [tuple(int(v) for v in size.split(",")) for size in options.real_sizes]
        if any(len(size) != 3 for size in sizes):
            raise ValueError
    except ValueError:
        parser.error(f"--real-sizes takes N,D,M triples of integers, got "
                     f"{options.real_sizes}")
    for name in options.sections or list(SECTIONS):
        if name == "real":
            section_real(options.repeat, sizes)
        elif name == "digits":
            section_digits(options.repeat, options.digits_images, options.digits_degree)
        else:
            SECTIONS[name](options.repeat)


if __name__ == "__main__":
    main()
