"""Parity products against the BLAS peak, ratios printed (issue 14, item 3).

One fused :math:`P^\\top P c` (:meth:`sparselearn.parities.ParityDesign.normal_matvec`,
a CG iteration) counted as ``4 m D`` needed flops, against a square
one-thread ``dgemm`` timed in the same process: the ratio is the share of
the BLAS peak the product reaches.  Every product runs with BLAS on one
thread (``--n-jobs`` threads of ours, default 1).

For ``d <= 2`` the script also times, on the same data, the full-width
layout (one block of ``n`` columns: ``rowsum(X * (X @ U))`` with ``U``
strictly upper triangular, and ``(X * r).T @ X``), the peer of the
16-column blocks the library uses.  On the cube, ``--float32`` adds the
same product with the (exactly ``+-1``) lower block and the coefficients
in float32 (``sgemm``), its relative error against float64, and where a
conjugate gradient on it stops: the relative normal-equation residual,
computed in float64, after CG to ``tol = 1e-10`` (ridge ``m / 4``, at most
100 iterations) with float32 and with float64 products.

Run from the repository root::

    python benchmarks/compare_parity_products.py
    python benchmarks/compare_parity_products.py --sizes 64,3,20000,cube --float32
"""
import argparse
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from sparselearn import parities  # noqa: E402
from sparselearn.network import _one_thread_blas  # noqa: E402
from sparselearn.parities import ParityDesign  # noqa: E402


def _best_of(repeat, work):
    best_wall = best_cpu = math.inf
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def dgemm_rate(size, repeat):
    """GFLOP/s of one-thread dgemm on ``size x size`` matrices, by wall
    clock and by process CPU time."""
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(size, size)), rng.normal(size=(size, size))
    with _one_thread_blas():
        wall, cpu = _best_of(max(repeat, 3), lambda: A @ B)
    return 2.0 * size ** 3 / wall / 1e9, 2.0 * size ** 3 / cpu / 1e9


def float32_normal_matvec(design, coef):
    """``P^T P c`` with the parity blocks and the coefficients in float32
    (the library's blocks and layout, cast; the experiment, not the library)."""
    nl = design.n_lower
    coef32 = coef.astype(np.float32)
    top = [C.astype(np.float32) for C in design._top_matrices(coef)]
    grad = np.zeros(design.n_output_features, dtype=np.float32)
    dense = [np.zeros((rows, x1 - x0), dtype=np.float32)
             for _, x0, x1, _, _, rows, _, _ in design._blocks]
    with _one_thread_blas():
        for start in range(0, design.n_samples, design._chunk_rows):
            stop = min(start + design._chunk_rows, design.n_samples)
            Xc = design._rows(start, stop)
            Q = design._lower_block(start, stop, Xc)
            arrays = {k: v.astype(np.float32) for k, v in design._sources(Xc, Q).items()}
            Q = arrays["q"]
            r = Q @ coef32[:nl]
            for (xs, x0, x1, ks, col, rows, _, _), C in zip(design._blocks, top):
                r += np.einsum("ij,ij->i", arrays[xs][:, x0:x1],
                               arrays[ks][:, col:col + rows] @ C)
            grad[:nl] += r @ Q
            for (xs, x0, x1, ks, col, rows, _, _), G in zip(design._blocks, dense):
                G += arrays[ks][:, col:col + rows].T @ (arrays[xs][:, x0:x1] * r[:, None])
    out = grad.astype(np.float64)
    for (_, _, _, _, _, _, src, flat), G in zip(design._blocks, dense):
        out[src] += G.ravel()[flat]
    return out


def cg_residual(design, normal, y, tol):
    """Relative float64 residual of ``(P^T P + (m / 4) I) c = P^T y`` after
    CG to ``tol`` (at most 100 iterations) with the products ``normal``."""
    import scipy.sparse.linalg
    D, alpha = design.n_output_features, design.n_samples / 4.0
    b = design.rmatvec(y)
    op = scipy.sparse.linalg.LinearOperator((D, D), matvec=lambda c: normal(c) + alpha * c,
                                            dtype=np.float64)
    c, _ = scipy.sparse.linalg.cg(op, b, rtol=tol, maxiter=100)
    exact = design.normal_matvec(c) + alpha * c
    return np.linalg.norm(exact - b) / np.linalg.norm(b)


def full_width_design(X, d, domain, n_jobs):
    """The same design with one block of ``n`` columns (the peer of the
    16-column blocks at ``d <= 2``)."""
    saved = parities._block_width
    parities._block_width = lambda n, degree: max(1, n)
    try:
        return ParityDesign(X, d, n_jobs=n_jobs, domain=domain)
    finally:
        parities._block_width = saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+",
                        default=["64,3,20000,cube", "128,3,20000,cube", "64,2,200000,real"],
                        metavar="N,D,M,DOMAIN", help="cases (DOMAIN cube or real)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best kept)")
    parser.add_argument("--n-jobs", type=int, default=1, help="threads of the products")
    parser.add_argument("--gemm-size", type=int, default=2000,
                        help="side of the square dgemm peer (default 2000)")
    parser.add_argument("--float32", action="store_true",
                        help="also the float32 experiment on the cube cases")
    options = parser.parse_args()
    cases = []
    for size in options.sizes:
        parts = size.split(",")
        if len(parts) != 4 or parts[3] not in ("cube", "real"):
            parser.error(f"--sizes takes N,D,M,DOMAIN with DOMAIN cube or real, got {size!r}")
        try:
            cases.append((int(parts[0]), int(parts[1]), int(parts[2]), parts[3]))
        except ValueError:
            parser.error(f"--sizes takes integers N,D,M, got {size!r}")

    peak, peak_cpu = dgemm_rate(options.gemm_size, options.repeat)
    print(f"one-thread dgemm ({options.gemm_size} x {options.gemm_size}): "
          f"{peak:.1f} GFLOP/s by wall clock, {peak_cpu:.1f} by CPU time")
    print(f"normal_matvec, n_jobs={options.n_jobs}, needed flops 4 m D per call; /dgemm: "
          f"the rate over dgemm's, by wall clock and (one thread on a loaded machine: "
          f"the fair one) by CPU time")
    print(f"{'n':>4} {'d':>2} {'m':>7} {'domain':>6} {'D':>7} {'wall s':>8} {'cpu s':>7} "
          f"{'GFLOP/s':>8} {'/dgemm':>7} {'cpu':>6}  peer")
    rng = np.random.default_rng(0)
    for n, d, m, domain in cases:
        if domain == "cube":
            X = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
        else:
            X = rng.normal(size=(m, n))
        design = ParityDesign(X, d, n_jobs=options.n_jobs, domain=domain)
        D = design.n_output_features
        coef = rng.normal(size=D)
        ref = design.normal_matvec(coef)
        wall, cpu = _best_of(options.repeat, lambda: design.normal_matvec(coef))
        rate = 4.0 * m * D / wall / 1e9
        peer = ""
        if d <= 2:
            full = full_width_design(X, d, domain, options.n_jobs)
            error = np.abs(full.normal_matvec(coef) - ref).max() / np.abs(ref).max()
            if error > 1e-12:
                raise AssertionError(f"the two block layouts differ by {error:.1e}")
            full_wall, full_cpu = _best_of(options.repeat, lambda: full.normal_matvec(coef))
            peer = (f"full-width block {full_wall:.3f} s (cpu {full_cpu:.3f}): "
                    f"16 columns {full_cpu / cpu:.2f}x by CPU time")
        print(f"{n:>4} {d:>2} {m:>7} {domain:>6} {D:>7} {wall:>8.3f} {cpu:>7.3f} "
              f"{rate:>8.1f} {rate / peak:>7.3f} {4.0 * m * D / cpu / 1e9 / peak_cpu:>6.3f}  "
              f"{peer}")
        if options.float32 and domain == "cube":
            got = float32_normal_matvec(design, coef)
            error = np.abs(got - ref).max() / np.abs(ref).max()
            wall32, cpu32 = _best_of(options.repeat, lambda: float32_normal_matvec(design, coef))
            rate32 = 4.0 * m * D / wall32 / 1e9
            y = rng.normal(size=m)
            res32 = cg_residual(design, lambda c: float32_normal_matvec(design, c), y, 1e-10)
            res64 = cg_residual(design, design.normal_matvec, y, 1e-10)
            print(f"{'':>4} {'':>2} {'':>7} {'f32':>6} {D:>7} {wall32:>8.3f} {cpu32:>7.3f} "
                  f"{rate32:>8.1f} {rate32 / peak:>7.3f} "
                  f"{4.0 * m * D / cpu32 / 1e9 / peak_cpu:>6.3f}  float32 products: relative error "
                  f"{error:.1e}; CG to 1e-10 stops at residual {res32:.1e} "
                  f"(float64 {res64:.1e})")


if __name__ == "__main__":
    main()
