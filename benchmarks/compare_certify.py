"""certify_sparsity on a box against one MILP solved by SciPy's HiGHS, in one process.

Run from the repository root::

    python benchmarks/compare_certify.py            # default sizes
    python benchmarks/compare_certify.py --quick    # smaller sizes, one seed

On a box :math:`\\prod_d [lo_d, hi_d]` the sparsity is the largest set of
units that can be strictly active at one point (a maximum feasible subsystem
problem).  ``cube.certify_sparsity(net, domain=cube.Box(lo, hi))`` solves it
by branch and bound over the units with one LP per candidate set (see
:class:`sparselearn.cube.Box`).  The peer formulates the whole problem as one
mixed-integer program and hands it to ``scipy.optimize.milp`` (HiGHS):

    maximise  sum_j a_j,  a_j in {0, 1},  lo <= x <= hi,
    (<w_j, x> - b_j) / M_j >= tau - (tau - L_j)(1 - a_j)   for every unit j,

with :math:`M_j = \\|w_j\\|_1 \\max(|lo|, |hi|) + |b_j|` (the library's
normalisation), :math:`L_j` the minimum of the normalised pre-activation
over the box (so the constraint is void when :math:`a_j = 0`) and
:math:`\\tau` = ``lp_tolerance`` = 1e-6 the same margin the certificate uses
for strict activity.  Both answers are checked: the two maxima must agree,
and each witness point is counted exactly with
``SparseReLUNetwork.activation_counts``.  The ratio printed is MILP time /
certify time (above 1: certify is faster).  The library's own MILP path,
``certify_sparsity(net, domain=box, method="milp")`` (the same program plus
pair cuts, its witness re-counted exactly), is timed too: column
``cert-milp s`` and the ratio ``milp / cert-milp``.  The networks are Gaussian with
each unit's threshold at the 80% quantile of its pre-activation on uniform
points of the box (each unit active on about a fifth of the box), on
``[0, 16]^n`` like the pixels of scikit-learn's digits.

One run on 2 shared cores (sizes 8x12, 16x16, 16x24, 32x32, one seed):
ratios 0.07, 0.06, 0.01, 0.07 -- on boxes HiGHS's single MILP is 14 to 80
times faster than the library's LP-per-node branch and bound, with the same
maxima.  A later run (``--sizes 8x12 16x16 16x24 32x32 --seeds 1``, load
about 6 on 2 cores) with ``method="milp"``: ratios 0.21, 0.30, 0.05, 0.21
against the branch and bound and 0.82, 0.98, 1.42, 0.89 against the bare
MILP -- the library's MILP path is as fast as the peer (the exact re-count
and the pair cuts cost little), 3 to 30 times faster than ``"bnb"``.  (On the +-1 cube the library's search needs no LP and is the faster
one; see docs/benchmarks.rst.)
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_foundation import best_time  # noqa: E402  (this script's folder)

# sparselearn and SciPy are imported where they are used, after the
# arguments are parsed: --help answers without loading them (3-4 s).


def make_network(n, s, lo, hi, seed):
    from sparselearn import SparseReLUNetwork

    rng = np.random.default_rng(seed)
    W = rng.normal(size=(s, n))
    sample = rng.uniform(lo, hi, size=(4096, n))
    b = np.quantile(sample @ W.T, 0.8, axis=0)
    return SparseReLUNetwork(W, b, np.ones(s))


def milp_max_active(net, lo, hi, tau=1e-6):
    """The box sparsity as one MILP (see the module notes): ``(max, witness)``."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    W, b = net.weights, net.biases
    s, n = W.shape
    lo_v, hi_v = np.full(n, lo, dtype=float), np.full(n, hi, dtype=float)
    radius = max(abs(lo), abs(hi))
    scale = np.abs(W).sum(axis=1) * radius + np.abs(b)
    scale = np.where(scale > 0.0, scale, 1.0)
    Wn, bn = W / scale[:, None], b / scale
    low = np.minimum(Wn * lo_v, Wn * hi_v).sum(axis=1) - bn      # L_j
    # Wn x - bn >= tau - (tau - L) (1 - a)  <=>  Wn x - (tau - L) a >= L + bn
    A = np.hstack([Wn, -np.diag(tau - low)])
    constraint = LinearConstraint(A, lb=low + bn, ub=np.inf)
    cost = np.concatenate([np.zeros(n), -np.ones(s)])
    integrality = np.concatenate([np.zeros(n), np.ones(s)])
    bounds = Bounds(np.concatenate([lo_v, np.zeros(s)]), np.concatenate([hi_v, np.ones(s)]))
    result = milp(cost, constraints=constraint, integrality=integrality, bounds=bounds)
    if result.status != 0:
        raise RuntimeError(f"milp failed: {result.message}")
    x = np.clip(result.x[:n], lo_v, hi_v)
    return int(round(-result.fun)), x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["8x12", "16x16", "32x32"],
                        help="n x s pairs (default 8x12 16x16 32x32)")
    parser.add_argument("--lo", type=float, default=0.0, help="box lower bound (0)")
    parser.add_argument("--hi", type=float, default=16.0, help="box upper bound (16)")
    parser.add_argument("--seeds", type=int, default=2, help="networks per size (2)")
    parser.add_argument("--repeats", type=int, default=1, help="timing repeats (1)")
    parser.add_argument("--quick", action="store_true",
                        help="sizes 8x12 16x16, one seed")
    args = parser.parse_args(argv)
    from sparselearn import cube

    if args.quick:
        args.sizes, args.seeds = ["8x12", "16x16"], 1
    box = cube.Box(args.lo, args.hi)
    print(f"box [{args.lo:g}, {args.hi:g}]^n, best of {args.repeats}; ratio = milp / certify, "
          "milp / cert-milp")
    print(f"{'n':>4} {'s':>4} {'seed':>4} {'max_active':>10} {'certify s':>10} "
          f"{'cert-milp s':>11} {'milp s':>10} {'ratio':>7} {'ratio2':>7}  agree")
    disagreements = 0
    for size in args.sizes:
        n, s = (int(v) for v in size.lower().split("x"))
        for seed in range(args.seeds):
            net = make_network(n, s, args.lo, args.hi, seed)
            t_cert, cert = best_time(lambda: cube.certify_sparsity(net, domain=box),
                                     args.repeats)
            t_cmilp, cmilp = best_time(
                lambda: cube.certify_sparsity(net, domain=box, method="milp"), args.repeats)
            t_milp, (value, x) = best_time(lambda: milp_max_active(net, args.lo, args.hi),
                                           args.repeats)
            exact_cert = int(net.activation_counts(cert.witness[None, :])[0])
            exact_milp = int(net.activation_counts(x[None, :])[0])
            exact_cmilp = int(net.activation_counts(cmilp.witness[None, :])[0])
            agree = (value == cert.max_active == exact_cert == cmilp.max_active == exact_cmilp
                     and exact_milp <= value)
            disagreements += not agree
            print(f"{n:>4} {s:>4} {seed:>4} {cert.max_active:>10} {t_cert:>10.4f} "
                  f"{t_cmilp:>11.4f} {t_milp:>10.4f} {t_milp / t_cert:>7.2f} "
                  f"{t_milp / t_cmilp:>7.2f}  "
                  f"{'yes' if agree else f'NO (milp {value}, its x {exact_milp})'}")
    if disagreements:
        print(f"{disagreements} disagreement(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
