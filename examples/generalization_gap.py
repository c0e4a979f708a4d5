r"""Generalisation gap of approximate ERM over sparse ReLU networks.

docs/theory.rst, section 4: the empirical Rademacher complexity of the class
:math:`H(n, s, k, W, B)` scales like :math:`\sqrt{s k / m}` (up to logs)
instead of the dense neuron-wise :math:`s/\sqrt m`, so the generalisation gap
of ERM over the class should grow like :math:`\sqrt s` in the width at fixed
sparsity :math:`k`, not like :math:`s`.  This script measures it.

Setup: inputs uniform on :math:`\{-1,1\}^{12}`; the target is a 2-sparse
bump network of width 8 (:func:`sparselearn.targets.bump_network`, Hamming
radius 2) plus Gaussian label noise of half the target's standard
deviation; ``m = 400`` training points, 4000 test points (noiseless test
targets plus the known noise variance, so the test error is the risk).
:class:`sparselearn.erm.SparseReLURegressor` is trained with fixed norm
bounds ``W = 4``, ``B = 8`` (the target needs ``W ~ 3.5``, ``B = 7``) to
convergence, and the gap is test risk minus training error of the
certified network, averaged over seeds (error bars: standard error).

Left panel: gap against the width ``s`` at ``k = 2``, and for the same
trainer with no activation budget (``k = s``, the dense class).  Right
panel: gap against ``k`` at ``s = 64``.  The rates :math:`s/\sqrt m` and
:math:`\sqrt{sk/m}` have unknown constants; each is drawn multiplied by
the constant that fits the curve it accompanies best in log scale, so only
their *shapes* (slopes) are compared.

Run from the repository root (about two minutes on two cores)::

    python examples/generalization_gap.py

It writes ``generalization_gap.png`` (into ``--out DIR``, else a temporary folder) and prints the table.
"""
import os
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sparselearn.erm import SparseReLURegressor  # noqa: E402
from sparselearn.io import save_figure  # noqa: E402
from sparselearn.targets import bump_network  # noqa: E402
from _output import figure_path  # noqa: E402  (examples/_output.py)

N_FEATURES, TARGET_WIDTH, TARGET_K, RADIUS = 12, 8, 2, 2
M_TRAIN, M_TEST = 1000, 4000
NOISE = 0.5  # label-noise std relative to the target's std
W, B = 4.0, 8.0
SEEDS = (0, 1, 2, 3, 4)
WIDTHS = (4, 8, 16, 32, 64, 128)
K_FIXED = 2
S_FIXED = 64
SPARSITIES = (1, 2, 4, 8, 16, 32)
TRAINER = dict(W=W, B=B, learning_rate=0.01, batch_size=32, max_epochs=300, tol=1e-6,
               n_iter_no_change=20)


def sample(seed):
    """Training set with noisy labels, test set with clean labels, noise variance."""
    target = bump_network(N_FEATURES, TARGET_WIDTH, TARGET_K, radius=RADIUS, random_state=100)
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(M_TRAIN, N_FEATURES))
    X_test = rng.choice([-1.0, 1.0], size=(M_TEST, N_FEATURES))
    sigma = NOISE * target(rng.choice([-1.0, 1.0], size=(10000, N_FEATURES))).std()
    y = target(X) + rng.normal(scale=sigma, size=M_TRAIN)
    return X, y, X_test, target(X_test), sigma**2


def gap(s, k, seed):
    """Test risk minus training error of the certified fitted network."""
    X, y, X_test, y_test, noise_var = sample(seed)
    est = SparseReLURegressor(width=s, sparsity=k, random_state=seed, **TRAINER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.in_class_
    train = np.mean((est.predict(X) - y) ** 2)
    # E[(h(x) - y)^2] = E[(h(x) - f(x))^2] + noise variance for fresh labels.
    test = np.mean((est.predict(X_test) - y_test) ** 2) + noise_var
    return test - train, train, test


def sweep(pairs):
    rows = []
    for s, k in pairs:
        values = np.array([gap(s, k, seed) for seed in SEEDS])
        mean = values.mean(axis=0)
        sem = values[:, 0].std(ddof=1) / np.sqrt(len(SEEDS))
        rows.append((s, k, mean[0], sem, mean[1], mean[2]))
        print(f"{s:>4} {k:>4} {mean[0]:>8.4f} {sem:>7.4f} {mean[1]:>8.4f} {mean[2]:>8.4f}")
    return np.array(rows)


def fitted_rate(rate, measured):
    """``c * rate`` with ``c`` the least-squares fit in log scale (the constants
    of the rates are unknown; only their shapes are compared)."""
    return rate * np.exp(np.mean(np.log(measured) - np.log(rate)))


def main():
    start = time.perf_counter()
    print(f"m={M_TRAIN}, n={N_FEATURES}, target width {TARGET_WIDTH} and sparsity {TARGET_K}, "
          f"W={W}, B={B}, {len(SEEDS)} seeds")
    print(f"{'s':>4} {'k':>4} {'gap':>8} {'+-sem':>7} {'train':>8} {'test':>8}")
    sparse_s = sweep([(s, K_FIXED) for s in WIDTHS])
    dense_s = sweep([(s, s) for s in WIDTHS])
    sparse_k = sweep([(S_FIXED, k) for k in SPARSITIES])
    print(f"total {time.perf_counter() - start:.0f} s")
    for label, x, rows in ((f"gap vs s, k = {K_FIXED}", WIDTHS, sparse_s),
                           ("gap vs s, k = s", WIDTHS, dense_s),
                           (f"gap vs k, s = {S_FIXED}", SPARSITIES, sparse_k)):
        slope = np.polyfit(np.log(x), np.log(rows[:, 2]), 1)[0]
        print(f"log-log slope of {label}: {slope:.2f}")
    print("(rates: s/sqrt(m) has slope 1 in s; sqrt(sk/m) slope 1/2 in s and in k)")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    widths = np.array(WIDTHS, dtype=float)
    left.errorbar(widths, sparse_s[:, 2], sparse_s[:, 3], marker="o", capsize=3,
                  label=f"trainer, k = {K_FIXED} (sparse class)")
    left.errorbar(widths, dense_s[:, 2], dense_s[:, 3], marker="s", capsize=3,
                  label="trainer, k = s (no budget)")
    left.plot(widths, fitted_rate(widths / np.sqrt(M_TRAIN), dense_s[:, 2]), "k--",
              label=r"dense rate $s/\sqrt{m}$ (scaled to the k = s curve)")
    left.plot(widths, fitted_rate(np.sqrt(widths * K_FIXED / M_TRAIN), sparse_s[:, 2]), "k:",
              label=rf"sparse rate $\sqrt{{sk/m}}$, k={K_FIXED} (scaled to the k = 2 curve)")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xlabel("width s")
    left.set_ylabel("generalisation gap (test - train MSE)")
    left.set_title(f"gap against width, m = {M_TRAIN}")
    left.legend(fontsize=8)

    ks = np.array(SPARSITIES, dtype=float)
    right.errorbar(ks, sparse_k[:, 2], sparse_k[:, 3], marker="o", capsize=3,
                   label=f"trainer, s = {S_FIXED}")
    right.plot(ks, fitted_rate(np.sqrt(S_FIXED * ks / M_TRAIN), sparse_k[:, 2]), "k:",
               label=r"sparse rate $\sqrt{sk/m}$ (scaled)")
    right.axhline(dense_s[WIDTHS.index(S_FIXED), 2], color="C1", ls="-.",
                  label=f"trainer, k = s = {S_FIXED}")
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("sparsity budget k")
    right.set_title(f"gap against k, m = {M_TRAIN}")
    right.legend(fontsize=8)
    fig.suptitle("Generalisation gap of SparseReLURegressor on a 2-sparse target "
                 f"(cube n = {N_FEATURES}, label noise)", fontsize=10)
    fig.tight_layout()
    FIGURE = str(figure_path("generalization_gap.png"))  # --out DIR, else a temporary folder
    save_figure(fig, FIGURE, dpi=120)  # atomic: a stopped run leaves the old figure
    print(f"wrote {os.path.normpath(FIGURE)}")


if __name__ == "__main__":
    main()
