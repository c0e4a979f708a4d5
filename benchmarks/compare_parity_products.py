"""Parity products against the BLAS peak, ratios printed (issue 14, item 3).

One fused :math:`P^\\top P c` (:meth:`sparselearn.parities.ParityDesign.normal_matvec`,
a CG iteration) counted as ``4 m D`` needed flops, against a square
one-thread ``dgemm`` timed in the same process: the ratio is the share of
the BLAS peak the product reaches.  Every product runs with BLAS on one
thread (``--n-jobs`` threads of ours, default 1).

For ``d <= 2`` on the cube the script also times, on the same data, the
full-width layout (one block of ``n`` columns: ``rowsum(X * (X @ U))``
with ``U`` strictly upper triangular, and ``(X * r).T @ X``), the peer of
the 16-column blocks the library uses; off it, where the library's float32
degree-2 products are that quadratic form (``_parity.quadratic_normal``)
and its float64 ones the staircase, the float32 staircase is the peer of
the float32 row.  ``--float32``
adds the library's float32 products (``normal_matvec(coef,
dtype=np.float32)``: on the cube the exactly ``+-1`` parities, off it the
rows rounded to float32, and the coefficients in float32, ``sgemm``), their
relative error against float64 and their rate against the same ``dgemm``,
and on the cube the conjugate gradient end to end (``_solve_cg``, ridge
``m / 4``, ``--cg-tol``, at most 100 iterations) with float64 products and
with mixed precision (float32 inner CG refined against float64 residuals):
CPU seconds, iterations and the final relative normal-equation residual
computed in float64.

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
# sparselearn is imported where it is used, after the arguments are parsed:
# --help answers without loading it (3-4 s).


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
    from sparselearn.network import _one_thread_blas

    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(size, size)), rng.normal(size=(size, size))
    with _one_thread_blas():
        wall, cpu = _best_of(max(repeat, 3), lambda: A @ B)
    return 2.0 * size ** 3 / wall / 1e9, 2.0 * size ** 3 / cpu / 1e9


def sgemm_rate(size, repeat):
    """GFLOP/s of one-thread sgemm on ``size x size`` matrices by CPU time
    (the float32 products' own ceiling, for reference)."""
    from sparselearn.network import _one_thread_blas

    rng = np.random.default_rng(1)
    A = rng.normal(size=(size, size)).astype(np.float32)
    with _one_thread_blas():
        _, cpu = _best_of(max(repeat, 3), lambda: A @ A)
    return 2.0 * size ** 3 / cpu / 1e9


def cg_end_to_end(design, y, tol, products):
    """CPU seconds, iterations and the relative float64 residual of
    ``(P^T P + (m / 4) I) c = P^T y`` after the library's CG to ``tol`` (at
    most 100 iterations) with ``products`` ("float64" or "mixed")."""
    from sparselearn import _solvers

    alpha = design.n_samples / 4.0
    cpu = time.process_time()
    c, n_iter, _ = _solvers._solve_cg(design, y, alpha, tol, 100, products=products)
    cpu = time.process_time() - cpu
    b = design.rmatvec(y)
    exact = design.normal_matvec(c) + alpha * c
    return cpu, n_iter, np.linalg.norm(exact - b) / np.linalg.norm(b)


def full_width_design(X, d, domain, n_jobs):
    """The same design with one block of ``n`` columns (the peer of the
    16-column blocks at ``d <= 2`` on the cube)."""
    from sparselearn import parities
    from sparselearn.parities import ParityDesign

    saved = parities._block_width
    parities._block_width = lambda n, degree: max(1, n)
    try:
        return ParityDesign(X, d, n_jobs=n_jobs, domain=domain)
    finally:
        parities._block_width = saved


def staircase_design(X, d, n_jobs):
    """A real degree-2 design whose float32 products keep the 16-column
    staircase (the peer of the quadratic form)."""
    from sparselearn.parities import ParityDesign

    design = ParityDesign(X, d, n_jobs=n_jobs, domain="real")
    design._quadratic = False
    return design


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
                        help="also the float32 products (and on the cube cases "
                             "mixed-precision CG)")
    parser.add_argument("--cg-tol", type=float, default=1e-10,
                        help="tolerance of the CG comparison (default 1e-10)")
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
    from sparselearn.parities import ParityDesign

    peak, peak_cpu = dgemm_rate(options.gemm_size, options.repeat)
    print(f"one-thread dgemm ({options.gemm_size} x {options.gemm_size}): "
          f"{peak:.1f} GFLOP/s by wall clock, {peak_cpu:.1f} by CPU time")
    if options.float32:
        print(f"one-thread sgemm (same size): {sgemm_rate(options.gemm_size, options.repeat):.1f}"
              f" GFLOP/s by CPU time (the f32 rows are still rated against dgemm)")
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
        if d <= 2 and domain == "cube":
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
        if options.float32:
            def product32():
                return design.normal_matvec(coef, dtype=np.float32)

            error = np.abs(product32() - ref).max() / np.abs(ref).max()
            wall32, cpu32 = _best_of(options.repeat, product32)
            rate32 = 4.0 * m * D / wall32 / 1e9
            peer32 = ""
            if d == 2 and domain == "real":
                stairs = staircase_design(X, d, options.n_jobs)
                stairs_ref = stairs.normal_matvec(coef, dtype=np.float32)
                gap = np.abs(stairs_ref - product32()).max() / np.abs(ref).max()
                if gap > 1e-5:  # two float32 summation orders
                    raise AssertionError(f"the float32 layouts differ by {gap:.1e}")
                _, stairs_cpu = _best_of(options.repeat,
                                         lambda: stairs.normal_matvec(coef, dtype=np.float32))
                peer32 = (f"; float32 16-column staircase cpu {stairs_cpu:.3f} s: the quadratic "
                          f"form {stairs_cpu / cpu32:.2f}x faster")
            print(f"{'':>4} {'':>2} {'':>7} {'f32':>6} {D:>7} {wall32:>8.3f} {cpu32:>7.3f} "
                  f"{rate32:>8.1f} {rate32 / peak:>7.3f} "
                  f"{4.0 * m * D / cpu32 / 1e9 / peak_cpu:>6.3f}  dtype=float32: relative error "
                  f"{error:.1e}, {cpu / cpu32:.2f}x float64 by CPU time{peer32}")
            if domain == "real":  # real designs' CG is Jacobi-preconditioned float64
                continue
            y = rng.normal(size=m)
            cpu64, it64, res64 = cg_end_to_end(design, y, options.cg_tol, "float64")
            cpu_mixed, it_mixed, res_mixed = cg_end_to_end(design, y, options.cg_tol, "mixed")
            print(f"{'':>4} {'':>2} {'':>7} {'CG':>6} {D:>7}  to tol {options.cg_tol:.0e}: "
                  f"float64 {cpu64:.2f} s cpu, {it64} iterations, residual {res64:.1e}; "
                  f"mixed {cpu_mixed:.2f} s, {it_mixed} iterations, residual {res_mixed:.1e}; "
                  f"{cpu64 / cpu_mixed:.2f}x")


if __name__ == "__main__":
    main()
