"""Bring your own network: an MLP trained on scikit-learn's digits, imported and certified.

scikit-learn's bundled digits (1,797 images of 8 x 8 pixels with values
0..16, no download) are split 75/25 (seed 0).  The script

1. trains ``MLPClassifier(hidden_layer_sizes=(64,))`` and imports it with
   ``SparseReLUNetwork.from_sklearn`` (the network computes the decision
   scores; ``predict`` is their argmax, checked equal on the test set);
2. profiles its hidden layer on the held-out images
   (``sparselearn.profile.activation_profile``);
3. certifies the largest active count exactly over the held-out images
   (``certify_sparsity(net, domain=X_test)``) and over the pixel box
   ``[0, 16]^64`` (``domain=cube.Box(0, 16), method="milp"``, time-limited:
   when HiGHS does not finish, the exactly counted lower bound and HiGHS's
   upper bound are reported as an interval, never a certified value);
4. fits ``SparseReLUClassifier`` (width 64, softmax) for several activation
   budgets ``k`` on the training images and does the same for each;
5. plots test accuracy against the certified ``k`` on the box (an interval
   where only bounds are known) and against the largest active count on the
   test images, with the MLP as the reference point.

The Fourier tools (``sparselearn.fourier``, ``cube.truth_table``) assume
inputs uniform on ``{-1,1}^n``; digits are neither binary nor uniform, so
they say nothing about these networks on this data.

Run from the repository root::

    python examples/digits_mlp.py            # budgets 2 4 8 16, box limit 60 s
    python examples/digits_mlp.py --fast     # budgets 2 8, box limit 2 s

It writes digits_sparsity.png (into ``--out DIR``, else a temporary folder)
and prints every number docs/digits.rst quotes.
"""
import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from sparselearn import SparseReLUNetwork, cube  # noqa: E402
from sparselearn.erm import SparseReLUClassifier  # noqa: E402
from sparselearn.io import save_figure  # noqa: E402
from sparselearn.profile import activation_profile, plot_activation_profile  # noqa: E402
from _output import figure_path  # noqa: E402  (examples/_output.py)

SEED = 0
BOX = cube.Box(0.0, 16.0)   # every pixel of load_digits lies in [0, 16]


def box_certificate(net, time_limit):
    """``(c, c)`` when ``max_active = c`` is certified over the box, else
    ``(lower, upper)``: the MILP stopped at ``time_limit`` seconds with a point
    of ``lower`` exactly active units and HiGHS's bound ``upper``."""
    try:
        cert = cube.certify_sparsity(net, domain=BOX, method="milp", time_limit=time_limit)
        return cert.max_active, cert.max_active
    except cube.CertificationIncomplete as exc:
        return exc.lower_bound, exc.upper_bound


def box_text(bounds):
    lower, upper = bounds
    return f"= {lower}" if lower == upper else f"in [{lower}, {upper}]"


def describe(name, net, X_test, accuracy, time_limit):
    """Profile and certificates of one network, printed; returns the numbers."""
    profile = activation_profile(net, X_test)
    on_data = cube.certify_sparsity(net, domain=X_test).max_active
    on_box = box_certificate(net, time_limit)
    print(f"{name:<28} test accuracy {accuracy:.3f}  mean active {profile.mean_active:5.1f}"
          f"  max on test data {on_data:2d}  on [0,16]^64 {box_text(on_box)}"
          f"  (dead {profile.dead_units.size}, always on {profile.always_on_units.size})")
    return profile, on_data, on_box


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the figure (default: a temporary folder)")
    parser.add_argument("--fast", action="store_true",
                        help="budgets 2 and 8 only, 2 s per box certificate")
    args = parser.parse_args()
    budgets = (2, 8) if args.fast else (2, 4, 8, 16)
    time_limit = 2.0 if args.fast else 60.0

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=SEED)
    print(f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test images, "
          f"n = {X.shape[1]} pixels in [{X.min():g}, {X.max():g}]")

    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=SEED)
    mlp.fit(X_train, y_train)
    net = SparseReLUNetwork.from_sklearn(mlp)
    scores = net(X_test)
    same = np.array_equal(mlp.classes_[np.argmax(scores, axis=1)], mlp.predict(X_test))
    print(f"imported MLP: {net}; predictions equal to MLPClassifier.predict: {same}")
    if not same:
        raise SystemExit("the imported network does not reproduce predict")
    mlp_profile, mlp_on_data, mlp_on_box = describe(
        "MLPClassifier (64,)", net, X_test, mlp.score(X_test, y_test), time_limit)

    rows = []
    for k in budgets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = SparseReLUClassifier(width=64, sparsity=k, max_epochs=100, tol=1e-3,
                                       random_state=SEED).fit(X_train, y_train)
        accuracy = clf.score(X_test, y_test)
        _, on_data, on_box = describe(f"SparseReLUClassifier k={k}", clf.network_, X_test,
                                      accuracy, time_limit)
        rows.append((k, clf.max_active_, accuracy, on_data, on_box))
        print(f"{'':<28} certified on the training images: max active {clf.max_active_} "
              f"<= k = {k}: {clf.in_class_}")

    print("Fourier tools (sparselearn.fourier, cube.truth_table) assume x uniform on "
          "{-1,1}^n: they do not describe these networks on pixel data.")

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    accuracies = np.array([r[2] for r in rows])
    lower = np.array([r[4][0] for r in rows])
    upper = np.array([r[4][1] for r in rows])
    middle = (lower + upper) / 2.0
    axes[0].errorbar(middle, accuracies, xerr=[middle - lower, upper - middle], marker="o",
                     capsize=3, label="SparseReLUClassifier: certified on [0,16]^64 "
                                      "(bar: bounds only)")
    axes[0].plot([r[3] for r in rows], accuracies, marker="s", linestyle="--", alpha=0.7,
                 label="SparseReLUClassifier: max on the test images")
    for k, _, accuracy, _, _ in rows:
        axes[0].annotate(f"k={k}", (middle[budgets.index(k)], accuracy),
                         textcoords="offset points", xytext=(4, -10), fontsize=8)
    mlp_accuracy = mlp.score(X_test, y_test)
    mlp_middle = (mlp_on_box[0] + mlp_on_box[1]) / 2.0
    axes[0].errorbar([mlp_middle], [mlp_accuracy],
                     xerr=[[mlp_middle - mlp_on_box[0]], [mlp_on_box[1] - mlp_middle]],
                     marker="*", markersize=12, linestyle="none", capsize=3,
                     label="MLPClassifier (64,): certified on [0,16]^64")
    axes[0].plot([mlp_on_data], [mlp_accuracy], marker="*", markersize=10,
                 linestyle="none", alpha=0.7, label="MLPClassifier (64,): max on the test images")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("k: max active units (certified on the box; exact on the test images)")
    axes[0].set_ylabel("test accuracy")
    axes[0].set_title("digits: accuracy against sparsity")
    axes[0].grid(True, alpha=0.3)
    axes[0].legend(fontsize=7)
    plot_activation_profile(mlp_profile, axes=axes[1:],
                            title="MLP (64,) on the test images: histogram of |A(x)| and "
                                  "firing rates")
    fig.tight_layout()
    out = figure_path("digits_sparsity.png")   # --out DIR, else a temporary folder
    save_figure(fig, out, dpi=110)   # atomic (sparselearn.io)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
