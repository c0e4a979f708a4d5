"""Empirical PAC verification of the low-degree learner on sparse networks.

Part 1, learning a k-sparse network on n = 32 inputs.  The target is a sum of
k junta networks on disjoint pairs of coordinates (docs/theory.rst, section 3's
embedding, each block 1-sparse on the whole cube), so exactly k of its
s = 4k units are active at every point: it is k-sparse on all of
{-1,1}^32, and its Fourier degree is 2.  Labels carry independent Gaussian
noise: realizable with noisy labels (f is still the regression function
E[y | x]; not agnostic, which needs a target outside the learner's class, see
verify_pac(agnostic=True)).  verify_pac fits LowDegreeRegressor(degree=2) in
each trial and measures the excess error E[(h - f)^2] on 100,000 fresh test
points.

Part 2, the sample-complexity curve against k at fixed width s = 8: the
smallest m at which Pr[error <= eps] >= 1 - delta is consistent with the
trials (Clopper-Pearson, 95%), for 2-sparse to 8-sparse bump networks
(Hamming balls of radius 3 on n = 12 inputs, errors exact over all 4096
points), learned with LowDegreeRegressor(degree=3).  Radius-3 bumps cannot
be packed 8 to a group in 12 bits, so k starts at 2.  The same learner's
theoretical sample size m = D log(D / delta) / eps (docs/theory.rst, section 3,
constant 1) is drawn for comparison.

Every target is scaled to E[f^2] = 1, so eps is a relative error.

Run from the repository root::

    python examples/pac_sample_complexity.py

It prints both tables and writes sample_complexity.png (into ``--out DIR``, else a
temporary folder).  It
printed [4 s] and [29 s] for the two parts in one run on a shared 2-core
machine (load average 1 to 3); the time grows with the load.
"""
import math
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sparselearn import SparseReLUNetwork  # noqa: E402
from sparselearn.cube import points  # noqa: E402
from sparselearn.io import save_figure  # noqa: E402
from sparselearn.learners import LowDegreeRegressor  # noqa: E402
from sparselearn.pac import (plot_sample_complexity, sample_complexity_curve,  # noqa: E402
                             verify_pac)
from sparselearn.targets import bump_network, junta_sum_network  # noqa: E402
from _output import figure_path  # noqa: E402  (examples/_output.py)

SEED = 2026


# ----------------------------------------------------- part 1: n = 32
def disjoint_juntas(rng, n=32, k=4, t=2):
    """k juntas on disjoint t-coordinate blocks, k-sparse everywhere, E[f^2] = 1."""
    return junta_sum_network(n, k, t, random_state=rng)


def part_one():
    n, k, noise = 32, 4, 0.5
    m, eps, delta, trials = 4000, 0.05, 0.1, 20
    print(f"Part 1: a {k}-sparse network of width {4 * k} on n = {n} inputs, "
          f"label noise {noise}")
    net = disjoint_juntas(np.random.default_rng(SEED), n, k)
    sample = 1.0 - 2.0 * np.random.default_rng(0).integers(0, 2, size=(10_000, n))
    print(f"active units on 10,000 random points: min "
          f"{net.activation_counts(sample).min()}, max {net.activation_counts(sample).max()}")
    start = time.perf_counter()
    result = verify_pac(lambda: LowDegreeRegressor(degree=2), disjoint_juntas, m, eps, delta,
                        trials, noise=noise, random_state=SEED)
    print(result)
    D = sum(math.comb(n, j) for j in range(3))
    print(f"D = {D} features at degree 2; docs/theory.rst's m = D log(D/delta)/eps = "
          f"{D * math.log(D / delta) / eps:,.0f} (constant 1); "
          f"least-squares variance noise^2 D / (m - D) = {noise**2 * D / (m - D):.4f}")
    print(f"[{time.perf_counter() - start:.0f} s]\n")
    return result


# ------------------------------------------ part 2: curve against k
N_CURVE, WIDTH, RADIUS, DEGREE = 12, 8, 3, 3
EPS, DELTA, TRIALS = 0.2, 0.1, 20
KS = [2, 4, 6, 8]


def normalised_bumps(k):
    """make_target for k: a k-sparse bump network of width 8, E[f^2] = 1 exactly."""
    cube = points(N_CURVE)

    def make_target(rng):
        for _ in range(100):
            try:
                net = bump_network(N_CURVE, WIDTH, k, radius=RADIUS, random_state=rng)
                break
            except ValueError:  # the code search gave up on this draw: draw again
                continue
        else:
            raise RuntimeError(f"no bump network with k={k}, radius={RADIUS} found")
        scale = math.sqrt(np.mean(net(cube) ** 2))
        return SparseReLUNetwork(net.weights, net.biases, net.output_weights / scale)
    return make_target


def part_two():
    print(f"Part 2: smallest m against k, bump networks n = {N_CURVE}, s = {WIDTH}, "
          f"radius {RADIUS}, LowDegreeRegressor(degree={DEGREE}), eps = {EPS}, "
          f"delta = {DELTA}")
    # Below m = D the least-squares system is underdetermined: start there.
    D = sum(math.comb(N_CURVE, j) for j in range(DEGREE + 1))
    start = time.perf_counter()
    curve = sample_complexity_curve(
        lambda: LowDegreeRegressor(degree=DEGREE), normalised_bumps, KS, EPS, DELTA, TRIALS,
        m_min=D, m_max=3000, rtol=0.15, param_name="k", random_state=SEED)
    print(curve)
    m_theory = D * math.log(D / DELTA) / EPS
    print(f"theory at degree {DEGREE}: D = {D}, m = D log(D/delta)/eps = {m_theory:,.0f}")
    print(f"[{time.perf_counter() - start:.0f} s]\n")

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    plot_sample_complexity(curve, ax=ax, label=f"measured m* ({TRIALS} trials)")
    ax.axhline(m_theory, color="C3", linestyle="--",
               label=r"$D\log(D/\delta)/\varepsilon$, $d=3$")
    ax.axhline(D, color="gray", linestyle=":", label=f"D = {D} (below: underdetermined)")
    ax.set_ylim(100, 3 * m_theory)
    ax.set_xlabel("sparsity k (width s = 8)")
    ax.set_title(f"bump networks, n = {N_CURVE}, radius {RADIUS}: "
                 f"Pr[err <= {EPS}] >= {1 - DELTA:g}", fontsize="medium")
    ax.legend(fontsize="small", loc="upper right", bbox_to_anchor=(1.0, 0.72))
    fig.tight_layout()
    OUTPUT = figure_path("sample_complexity.png")  # --out DIR, else a temporary folder
    save_figure(fig, OUTPUT, dpi=150)  # atomic: a stopped run leaves the old figure
    print(f"wrote {OUTPUT}")
    return curve


if __name__ == "__main__":
    part_one()
    part_two()
