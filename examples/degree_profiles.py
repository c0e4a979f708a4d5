"""Degree profiles of k-sparse and dense networks of equal width and norm.

Three networks of width s = 64 on n = 14 inputs, rescaled to E[f^2] = 1:

- two bump networks (sparselearn.targets.bump_network), k = 2 and k = 4
  sparse on the whole cube;
- a dense random network (sparselearn.targets.random_network with low
  biases, bias_quantile = 0.1), where almost every unit is active almost
  everywhere; its sparsity is measured exactly on the cube.

Panels: (a) the Fourier weight W^{=j} at each degree; (b) the tail W^{>d},
the squared error of the best degree-d approximation, with the bound
W^{>=d} <= NS_{1/d} / (1 - e^{-2}) of docs/theory.rst, section 3 dashed; (c) the noise
sensitivity NS_delta[f] against the sparse difference bound
min(2k, s) sum_j u_j^2 NS_delta[g_j] of docs/theory.rst, section 3, where g_j is unit
j's activation (the dense network only gets the factor s).

Run from the repository root::

    python examples/degree_profiles.py

It writes degree_profiles.png (into ``--out DIR``, else a temporary folder) and prints the tails at
d = 1, 2, 4, 8 and both sides of the bound at one delta.
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sparselearn import cube  # noqa: E402
from sparselearn.fourier import (degree_weights, fwht, noise_sensitivity,  # noqa: E402
                                 plot_degree_profile, spectrum)
from sparselearn.io import save_figure  # noqa: E402
from sparselearn.targets import bump_network, random_network  # noqa: E402
from _output import figure_path  # noqa: E402  (examples/_output.py)

N, WIDTH, SEED = 14, 64, 0
TAIL_DEGREES = (1, 2, 4, 8)
DELTAS = np.linspace(0.01, 0.5, 25)


def unit_spectra(net):
    """Spectra of the unit activations g_j(x) = relu(<w_j, x> - b_j), one per row."""
    X = cube.points(net.n_features)
    tables = np.ascontiguousarray(np.maximum(X @ net.weights.T - net.biases, 0.0).T)
    return fwht(tables, out=tables) / 2**net.n_features  # a batch of rows in place


def main():
    networks = {
        "bump, k = 2": bump_network(N, WIDTH, 2, random_state=SEED),
        "bump, k = 4": bump_network(N, WIDTH, 4, random_state=SEED),
        "dense (random, low biases)": random_network(N, WIDTH, random_state=SEED,
                                                     bias_quantile=0.1),
    }
    X = cube.points(N)
    spectra, labels, amplification = [], [], {}
    print(f"n = {N}, s = {WIDTH}; tails W^{{>d}} / E[f^2]:")
    for name, net in networks.items():
        k = int(net.activation_counts(X).max())  # exact sparsity on the cube
        spec = spectrum(net)
        spec /= math.sqrt(np.sum(spec**2))  # equal norm: E[f^2] = 1 (Parseval)
        weights = degree_weights(spec)
        tails = {d: weights[d + 1:].sum() for d in TAIL_DEGREES}
        label = f"{name} (measured k = {k})"
        spectra.append(spec)
        labels.append(label)
        print(f"  {label:<46}" + "  ".join(f"d={d}: {t:.2e}" for d, t in tails.items()))
        # The rescaling multiplies f, hence every u_j, by the same factor as spec.
        scale = math.sqrt(np.sum(spectrum(net) ** 2))
        u2 = (net.output_weights / scale) ** 2
        units = unit_spectra(net)
        ns = np.array([noise_sensitivity(spec, delta) for delta in DELTAS])
        units_ns = np.array([u2 @ [noise_sensitivity(g, delta) for g in units]
                             for delta in DELTAS])
        amplification[label] = (ns, min(2 * k, WIDTH) * units_ns, k)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    plot_degree_profile(spectra, labels, ax=axes[0])
    axes[0].set_title("(a) Fourier weight at each degree")
    plot_degree_profile(spectra, labels, kind="tail", ax=axes[1])
    for line, spec in zip(axes[1].get_lines()[:len(spectra)], spectra):
        d = np.arange(2, N + 1)
        bound = [noise_sensitivity(spec, 1.0 / dd) / (1 - math.exp(-2)) for dd in d]
        axes[1].plot(d - 1, bound, linestyle="--", color=line.get_color(), alpha=0.6)
    axes[1].set_title(r"(b) tail $W^{>d}$; dashed: $NS_{1/(d+1)}/(1-e^{-2})$")
    axes[1].set_ylim(1e-6, 2)
    for label, (ns, bound, k) in amplification.items():
        line, = axes[2].plot(DELTAS, ns, marker=".", label=label)
        axes[2].plot(DELTAS, bound, color=line.get_color(), linestyle="--", alpha=0.7)
    axes[2].set_yscale("log")
    axes[2].set_xlabel(r"flip probability $\delta$")
    axes[2].set_ylabel(r"$NS_\delta[f]$, unit-norm $f$")
    axes[2].set_title(r"(c) $NS_\delta$; dashed: $\min(2k,s)\sum_j u_j^2 NS_\delta[g_j]$")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    OUT = figure_path("degree_profiles.png")  # --out DIR, else a temporary folder
    save_figure(fig, OUT, dpi=120)  # atomic: a stopped run leaves the old figure
    print("NS_delta[f] and the sparse difference bound min(2k, s) sum_j u_j^2 NS_delta[g_j]"
          f" at delta = {DELTAS[2]:.3f}:")
    for label, (ns, bound, k) in amplification.items():
        print(f"  {label:<46} {ns[2]:.3e} <= {bound[2]:.3e}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
