"""Empirical Rademacher complexity of the extremal constructions against m, s and k.

For each parameter value, the expected empirical Rademacher complexity
E_S Rad_S of the cluster, cap and constant sign families (docs/theory.rst,
section 4) is estimated by Monte Carlo with the exact supremum over each
family and a fresh sample S per sign draw, and plotted between the valid
lower bounds (Li et al. Thm 3 and Thm 12) and the upper bounds (the best one,
U_m, and the dense and sparse ones separately).  ADKM's conjectured rate
(A + B) sqrt(s k / m) is drawn for its shape only: its constant is unknown.

Run from the repository root::

    python examples/rademacher_constructions.py

It writes rademacher_constructions.png (into ``--out DIR``, else a temporary folder) and prints the measured
values.  With ``--lower-estimate`` it also compares, on cluster samples, the
trainer-based lower estimate of the whole class's complexity
(rademacher_lower_estimate) with the exact cluster-family value (about a
minute on two cores).
"""
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sparselearn.io import save_figure  # noqa: E402
from sparselearn.rademacher import (bounds, cap_construction, cluster_construction,  # noqa: E402
                                    constant_construction, empirical_rademacher,
                                    rademacher_lower_estimate)
from _output import figure_path  # noqa: E402  (examples/_output.py)

N_DRAWS = 400
SEED = 2026
# n = 256 keeps n >= q = min(s/k, m) at every point, so all lower bounds apply.
BASE = dict(n=256, s=256, k=4, W=1.0, B=1.0, R=1.0, m=256)
SWEEPS = {
    "m": [4, 16, 64, 256, 1024, 4096],
    "s": [4, 16, 64, 256, 1024],
    "k": [1, 2, 4, 8, 16, 32, 64, 128, 256],
}


def measure(params, seed):
    """Monte-Carlo estimates of the three families and the bounds at one point."""
    n, s, k, W, B, R, m = (params[key] for key in ("n", "s", "k", "W", "B", "R", "m"))
    table = bounds(n, s, k, W, B, R, m)
    families = {
        "clusters": cluster_construction(n, s, k, W, R, m=m),
        "caps": cap_construction(n, s, k, W, B, R, m=m, random_state=seed),
        "constants": constant_construction(n, s, k, B),
    }
    estimates = {name: empirical_rademacher(family, m, N_DRAWS, seed + i)
                 for i, (name, family) in enumerate(families.items())}
    return table, estimates


def main():
    start = time.perf_counter()
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6), constrained_layout=True)
    print(f"{'sweep':>5} {'value':>6} {'clusters':>17} {'caps':>17} {'constants':>17} "
          f"{'lower':>8} {'caps low':>8} {'U_m':>8} {'dense':>8} {'sparse':>9}")
    for ax, (key, values) in zip(axes, SWEEPS.items()):
        rows = []
        for i, value in enumerate(values):
            params = dict(BASE, **{key: value})
            table, estimates = measure(params, SEED + 10 * i)
            rows.append((table, estimates))
            e = {name: f"{est.estimate:.4f}+-{est.stderr:.4f}"
                 for name, est in estimates.items()}
            print(f"{key:>5} {value:>6} {e['clusters']:>17} {e['caps']:>17} "
                  f"{e['constants']:>17} {table['lower (Thm 3)'].value:8.4f} "
                  f"{table['caps lower (Thm 12)'].value:8.4f} {table.best_upper:8.3f} "
                  f"{table['dense'].value:8.3f} {table['sparse upper'].value:9.1f}")
        x = np.array(values, dtype=float)
        for name, marker in (("clusters", "o"), ("caps", "s"), ("constants", "^")):
            est = np.array([r[1][name].estimate for r in rows])
            err = np.array([r[1][name].stderr for r in rows])
            ax.errorbar(x, est, yerr=2 * err, marker=marker, capsize=3,
                         label=f"{name} (Monte Carlo, 2 s.e.)")
        ax.plot(x, [r[0]["lower (Thm 3)"].value for r in rows], "k--",
                label="lower bound, Thm 3")
        ax.plot(x, [r[0]["caps lower (Thm 12)"].value for r in rows], "k:",
                label="lower bound, caps (Thm 12)")
        ax.plot(x, [r[0].best_upper for r in rows], "r-", lw=2,
                label=r"best upper bound $U_m$")
        ax.plot(x, [r[0]["dense"].value for r in rows], "r--", label="dense upper")
        ax.plot(x, [r[0]["sparse upper"].value for r in rows], "r:", label="sparse upper")
        ax.plot(x, [r[0]["ADKM Conjecture 20"].value for r in rows], color="0.6", ls="-.",
                label=r"$(A+B)\sqrt{sk/m}$ (rate, no constant)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(key)
        fixed = ", ".join(f"{name}={BASE[name]:g}" for name in ("n", "s", "k", "m")
                          if name != key)
        ax.set_title(f"against {key} ({fixed}, W=B=R=1)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(r"empirical Rademacher complexity $E_S\,\widehat{\mathfrak{R}}_S$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
    OUTPUT = figure_path("rademacher_constructions.png")  # --out DIR, else a temporary folder
    save_figure(fig, OUTPUT, dpi=110)  # atomic: a stopped run leaves the old figure
    print(f"wrote {OUTPUT} in {time.perf_counter() - start:.1f} s "
          f"({N_DRAWS} sign draws per point, seed {SEED})")


def compare_lower_estimate():
    """Trainer-based lower estimate against the exact cluster family, on cluster samples."""
    print("\nlower estimate (20 draws, 3 restarts) vs exact cluster family (4000 draws), "
          "same fixed sample")
    print(f"{'(n, s, k, W, B, R, m)':>30} {'lower estimate':>16} {'clusters':>16} "
          f"{'constants':>10} {'ratio':>6} {'time':>7}")
    for n, s, k, W, B, R, m in [(16, 16, 2, 1.0, 0.0, 1.0, 32), (16, 16, 2, 1.0, 1.0, 1.0, 32),
                                (8, 32, 4, 1.0, 1.0, 1.0, 64), (32, 64, 4, 1.0, 0.5, 1.0, 128)]:
        family = cluster_construction(n, s, k, W, R, m=m)
        X = family.sample(m, random_state=SEED)
        start = time.perf_counter()
        lower = rademacher_lower_estimate(X, s, k, W, B, n_draws=20, random_state=SEED)
        elapsed = time.perf_counter() - start
        exact = empirical_rademacher(family, X, 4000, SEED + 1)
        constants = empirical_rademacher(constant_construction(n, s, k, B), X, 4000, SEED + 2)
        print(f"{str((n, s, k, W, B, R, m)):>30} "
              f"{lower.estimate:9.4f}+-{lower.stderr:.4f} "
              f"{exact.estimate:9.4f}+-{exact.stderr:.4f} {constants.estimate:10.4f} "
              f"{lower.estimate / exact.estimate:6.2f} {elapsed:6.1f}s")


if __name__ == "__main__":
    main()
    if "--lower-estimate" in sys.argv[1:]:
        compare_lower_estimate()
