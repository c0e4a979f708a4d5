"""The ``sparselearn`` command line (also ``python -m sparselearn``).

Each sub-command is a function ``_cmd_NAME(args) -> dict`` that does the
work and returns a JSON-serialisable report; :func:`main` parses the flags,
prints the report (as text, or as JSON with ``--json``) and turns every
anticipated error (bad flags, bad files, oversize requests) into one line on
stderr and a non-zero exit code, never a traceback.

Exit codes: 0 success; 2 bad usage or input (flags, unreadable or malformed
files, parameters the library refuses, files that cannot be written, an
unreachable scheduler); 130 interrupted (Ctrl-C); 1 an unexpected error,
which is a bug: one line asking to open an issue in the sparselearn
repository with the traceback, which it saves to a file in the temporary
directory and names (printed too when the environment variable
``SPARSELEARN_DEBUG=1`` is set).  Every file goes
through :mod:`sparselearn.io` (size-checked reads, atomic writes).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import linecache
import math
import os
import sys
import time
import traceback
import warnings

import numpy as np

from . import __version__, _startup
from . import io as _io
from ._plotting import import_pyplot
from ._results import _finite_or_none, histogram_text
from ._validation import MemoryBudgetError, format_bytes

# Exit codes: 0 success, 2 bad usage or input (argparse's own convention),
# 1 an unexpected error (a bug), 130 interrupted by Ctrl-C (128 + SIGINT).
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Default of ``certify --time-limit``, in seconds.
DEFAULT_CERTIFY_TIME_LIMIT = 600.0
#: Default of ``verify --connect-timeout``, in seconds.
DEFAULT_CONNECT_TIMEOUT = 30.0


class CommandError(Exception):
    """An anticipated failure, reported as one line without a traceback."""


# ----------------------------------------------------------------- helpers
def _progress_enabled(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _say(args, message: str) -> None:
    """A progress line on stderr, only for a person at a terminal (not with
    --quiet or --json, nor when stderr is redirected)."""
    if _progress_enabled(args) and not args.json:
        print(message, file=sys.stderr, flush=True)


def _load_network(path):
    from .network import SparseReLUNetwork
    return SparseReLUNetwork.load(path)


# ---------------------------------------------------------------- commands
def _demo_target(args):
    from . import targets

    if args.target == "juntas":
        try:
            t = targets.junta_block_bits(args.width, args.sparsity)
        except ValueError:
            raise CommandError(f"--target juntas needs --width = sparsity * 2^t with t >= 1 "
                               f"(e.g. --width {4 * args.sparsity}), got {args.width}") from None
        return targets.junta_sum_network(args.n, args.sparsity, t, random_state=args.seed)
    return targets.bump_network(args.n, args.width, args.sparsity, random_state=args.seed)


def _demo_trial_target(args, rng):
    """A fresh target of the demo's family for one PAC trial."""
    return _demo_target(argparse.Namespace(**{**vars(args), "seed": rng}))


def _cmd_demo(args) -> dict:
    from functools import partial

    from . import cube, fourier, pac
    from .learners import LowDegreeRegressor

    if args.n is None:
        # Hamming-ball bumps spread their weight over high degrees as n grows
        # (W^{>5}/E[f^2] ~ 0.05 at n = 10, 0.29 at n = 20): the demo keeps
        # them at a size where the degree the theory needs fits 4000 samples.
        args.n = 10 if args.target == "bump" else 20
    if args.n > 24:
        raise CommandError(f"--n {args.n}: the demo measures errors exactly over the whole "
                           "cube, so it keeps n <= 24")
    report = {"command": "demo", "target": args.target, "n": args.n, "width": args.width,
              "sparsity": args.sparsity, "seed": args.seed, "n_samples": args.samples,
              "noise": args.noise, "eps": args.eps, "eps_scale": "relative"}
    timings = report["seconds"] = {}

    start = time.perf_counter()
    net = _demo_target(args)
    report["norm_bounds"] = dict(zip(("W", "B"), net.norm_bounds()))
    timings["build"] = time.perf_counter() - start

    _say(args, f"certifying sparsity on all 2^{args.n} points ...")
    certificate = cube.certify_sparsity(net)
    report["certified_sparsity"] = certificate.max_active
    report["witness_index"] = certificate.witness_index
    report["certify_nodes"] = certificate.n_nodes
    timings["certify"] = certificate.elapsed
    start = time.perf_counter()
    histogram = cube.activation_histogram(net)
    report["activation_histogram"] = histogram.tolist()
    report["mean_active"] = float(histogram @ np.arange(histogram.size) / histogram.sum())
    timings["histogram"] = time.perf_counter() - start

    start = time.perf_counter()
    spectrum = fourier.spectrum(net)
    report["energy"] = float(spectrum @ spectrum)
    report["degree_weights"] = fourier.degree_weights(spectrum).tolist()
    timings["spectrum"] = time.perf_counter() - start

    _say(args, f"learning from {args.samples} samples ...")
    rng = np.random.default_rng(args.seed)
    X = cube.uniform_points(args.n, args.samples, rng)
    y = net(X) + args.noise * rng.standard_normal(args.samples)
    start = time.perf_counter()
    if args.degree == "tail":
        degree = fourier.degree_for_tail(spectrum, args.eps, args.tail_fraction)
        report["degree_rule"] = (f"from the target's spectrum (the smallest d with "
                                 f"W^{{>d}} <= {args.tail_fraction:g} x eps x E[f^2])")
    elif args.degree == "cv":
        degree, report["degree_rule"] = None, "chosen by validation"
    else:
        degree, report["degree_rule"] = args.degree, "as given"
    model = LowDegreeRegressor(degree=degree, max_degree=args.max_degree,
                               random_state=args.seed).fit(X, y)
    timings["learn"] = time.perf_counter() - start
    report["degree"] = int(model.degree_)
    report["n_parities"] = int(model.coef_.size)
    report["excess_error"] = fourier.excess_error(spectrum, model)
    report["best_possible_error"] = float(fourier.tail_weight(spectrum, model.degree_))
    energy = report["energy"] if report["energy"] > 0 else 1.0
    report["relative_excess_error"] = report["excess_error"] / energy
    report["best_relative_error"] = report["best_possible_error"] / energy
    if degree is None:
        report["cv_mean_test_mse"] = [float(e) for e in model.cv_results_["mean_test_mse"]]

    _say(args, f"PAC verification, {args.trials} trials ...")
    start = time.perf_counter()
    with warnings.catch_warnings():
        # The pre-flight line is in the report; no second copy on stderr.
        warnings.simplefilter("ignore", pac.InfeasibleWarning)
        result = pac.verify_pac(partial(LowDegreeRegressor, degree=model.degree_),
                                partial(_demo_trial_target, args), args.samples, args.eps,
                                args.delta, args.trials, args.noise, random_state=args.seed,
                                exact_max_n=args.n, progress=_progress_enabled(args),
                                eps_scale="relative")
    timings["pac"] = time.perf_counter() - start
    report["pac"] = result.to_dict()
    report["_pac_table"] = result.to_table()
    if args.plot:
        _plot_demo(args, spectrum, X, y, model)
        report["plot"] = str(args.plot)
    return report


def _plot_demo(args, spectrum, X, y, model) -> None:
    """Degree profile of the target, and the learning curve (exact excess
    error against the number of samples) at the chosen degree."""
    from . import fourier
    from .learners import LowDegreeRegressor

    plt = import_pyplot("--plot", backend="Agg")
    sizes = np.unique(np.geomspace(max(8, model.coef_.size // 2), X.shape[0], 8).astype(int))
    errors = [fourier.excess_error(spectrum,
                                   LowDegreeRegressor(degree=model.degree_).fit(X[:m], y[:m]))
              for m in sizes]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    fourier.plot_degree_profile(spectrum, labels=[f"{args.target} target, k={args.sparsity}"],
                                ax=left)
    right.loglog(sizes, errors, "o-", label=f"degree {model.degree_}")
    tail = fourier.tail_weight(spectrum, model.degree_)
    if tail > 1e-12 * float(spectrum @ spectrum):  # not just rounding
        right.axhline(tail, color="gray", ls=":", label=r"tail $W^{>d}$ (best possible)")
    right.axvline(model.coef_.size, color="gray", ls="--", label=f"D = {model.coef_.size}")
    right.set_xlabel("samples m")
    right.set_ylabel("exact excess squared error")
    right.set_title("learning curve")
    right.legend()
    figure.tight_layout()
    try:
        _io.save_figure(figure, args.plot, dpi=120)
    finally:
        plt.close(figure)


def _print_demo(report: dict) -> None:
    seconds = report["seconds"]
    print("sparselearn demo: a k-sparse network on the cube, certified, learned and verified")
    print(f"  target      {report['target']} network, n={report['n']}, width s="
          f"{report['width']}, k={report['sparsity']}, seed {report['seed']}; "
          f"W={report['norm_bounds']['W']:.4g}, B={report['norm_bounds']['B']:.4g}, "
          f"E[f^2]={report['energy']:.4g}")
    print(f"  certified   max |A(x)| over all 2^{report['n']} points = "
          f"{report['certified_sparsity']} (witness index {report['witness_index']}, "
          f"{seconds['certify']:.2f} s); mean active {report['mean_active']:.4f}")
    histogram = np.asarray(report["activation_histogram"])
    print(f"  histogram   points by active count {{{histogram_text(histogram)}}}")
    weights = ", ".join(f"{w:.3g}" for w in report["degree_weights"][:6])
    print(f"  spectrum    W^=j for j = 0..5: {weights}")
    print(f"  learned     degree {report['degree']} "
          f"{report.get('degree_rule', 'chosen by validation')} "
          f"({report['n_parities']} parities, m={report['n_samples']}, label noise "
          f"{report['noise']:g}, "
          f"{seconds['learn']:.2f} s)")
    print(f"  error       exact excess E[(h - f)^2] = {report['excess_error']:.4g} = "
          f"{report['relative_excess_error']:.4g} x E[f^2] (best degree-{report['degree']}: "
          f"{report['best_relative_error']:.4g} x E[f^2]; zero predictor: 1 x E[f^2] = "
          f"{report['energy']:.4g})")
    if report["n_samples"] < 2 * report["n_parities"]:
        # Least squares on m < 2D samples: its estimation error (about
        # sigma^2 D / (m - D) for m > D) dwarfs the class's best.
        print(f"  note        m={report['n_samples']} is under twice the {report['n_parities']} "
              f"parities of degree {report['degree']}: too few samples to learn it; raise "
              f"--samples (or --eps, which lowers the degree --degree tail picks)")
    print("  PAC check   " + report["_pac_table"].replace("\n", "\n              "))
    print("  timings     " + ", ".join(f"{name} {value:.2f} s"
                                       for name, value in seconds.items()))
    if "plot" in report:
        print(f"  figure      {report['plot']}")


def _certify_domain(args, net):
    """``(domain, description)`` for ``certify_sparsity`` from ``--domain``."""
    from . import cube

    kind, rest = args.domain[0], args.domain[1:]
    n = net.n_features
    needed = {"pm1": 0, "01": 0, "box": 2, "points": 1}
    if kind not in needed:
        raise CommandError(f"--domain must start with pm1, 01, box or points, got {kind!r}")
    if len(rest) != needed[kind]:
        usage = {"pm1": "--domain pm1", "01": "--domain 01", "box": "--domain box LO HI",
                 "points": "--domain points FILE"}[kind]
        raise CommandError(f"{usage} takes {needed[kind]} value(s) after {kind!r}, got "
                           f"{len(rest)}: {' '.join(args.domain)!r}")
    if kind == "pm1":
        return "pm1", f"{{-1,1}}^{n}"
    if kind == "01":
        return "01", f"{{0,1}}^{n}"
    if kind == "box":
        try:
            lo, hi = (float(v) for v in rest)
        except ValueError:
            raise CommandError(f"--domain box LO HI needs two numbers, got {rest}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise CommandError(f"--domain box LO HI needs finite LO <= HI, got {lo:g} {hi:g}")
        return cube.Box(lo, hi), f"the box [{lo:g}, {hi:g}]^{n}"
    X, _, _ = _io.read_xy(rest[0], n_features=n, header=args.header, return_names=True)
    _check_width(rest[0], X, n, "the network")
    return X, f"the {X.shape[0]} points of {rest[0]}"


def _cmd_certify(args) -> dict:
    from . import cube

    net = _load_network(args.network)
    domain, where = _certify_domain(args, net)
    report = {"command": "certify", "network": str(args.network), "n": net.n_features,
              "width": net.width, "domain": args.domain[0], "domain_description": where}
    if args.method == "milp" and args.domain[0] != "box":
        raise CommandError(f"--method milp applies to --domain box only, got --domain "
                           f"{args.domain[0]}; use --method bnb (the default) there")
    try:
        certificate = cube.certify_sparsity(net, time_limit=args.time_limit, domain=domain,
                                            method=args.method)
    except cube.CertificationIncomplete as exc:
        limit = "none" if args.time_limit is None else f"{args.time_limit:g} s"
        bounds = (f"at least {exc.lower_bound}" if exc.upper_bound is None
                  else f"between {exc.lower_bound} and {exc.upper_bound}")
        if args.json:
            # A script reading the report gets what was proved, not nothing;
            # the exit status (2) and the stderr line still say it is unfinished.
            cube_domain = args.domain[0] in ("pm1", "01")
            report.update(certified=False, lower_bound=int(exc.lower_bound),
                          upper_bound=(None if exc.upper_bound is None
                                       else int(exc.upper_bound)),
                          witness=(np.asarray(exc.witness).astype(int) if cube_domain
                                   else np.asarray(exc.witness)).tolist(),
                          nodes=int(exc.n_nodes), seconds=float(exc.elapsed),
                          method=args.method)
            _print_report(args, report, None)
        # The box's branch and bound is exponential in the width; one MILP
        # often settles in a second what it does not in minutes.
        milp = ("; or try --method milp" if args.domain[0] == "box" and args.method == "bnb"
                else "")
        raise CommandError(f"not certified within --time-limit {limit}: the "
                           f"sparsity is {bounds}; raise the limit with "
                           f"--time-limit SECONDS (or --time-limit none for no limit){milp}"
                           ) from None
    cube_domain = args.domain[0] in ("pm1", "01")
    report.update(certified=True, certified_sparsity=certificate.max_active,
                  witness=(certificate.witness.astype(int) if cube_domain
                           else certificate.witness).tolist(),
                  nodes=certificate.n_nodes, seconds=certificate.elapsed,
                  lp_tolerance=certificate.lp_tolerance, method=args.method,
                  mip_tolerances=certificate.mip_tolerances)
    if args.domain[0] == "pm1" and net.n_features <= args.histogram_max_n:
        # --histogram-max-n is the user's limit on the walk (2^n s unit
        # evaluations): the library's default time guard does not apply.
        report["activation_histogram"] = cube.activation_histogram(
            net, max_evaluations=None).tolist()
    return report


def _print_certify(report: dict) -> None:
    where = report.get("domain_description", f"{{-1,1}}^{report['n']}")
    print(f"{report['network']}: width {report['width']} on {where}")
    nodes = "subcubes" if report.get("domain", "pm1") in ("pm1", "01") else "search nodes"
    print(f"  certified sparsity  {report['certified_sparsity']} "
          f"({report['nodes']} {nodes}, {report['seconds']:.2f} s)")
    print(f"  witness             {report['witness']}")
    if report.get("lp_tolerance") is not None:
        print(f"  LP tolerance        {report['lp_tolerance']:g} (units active only by a "
              "smaller relative margin can be missed)")
    if report.get("mip_tolerances"):
        settings = ", ".join(f"{key} {value:g}" for key, value in report["mip_tolerances"].items())
        print(f"  MILP (HiGHS)        upper bound proven under {settings}")
    if "activation_histogram" in report:
        histogram = np.asarray(report["activation_histogram"])
        print(f"  histogram           {{{histogram_text(histogram)}}}")


def _cmd_profile(args) -> dict:
    from .profile import activation_profile

    net = _load_network(args.network)
    X, _, names = _read_data(args, n_features=net.n_features)
    profile = activation_profile(net, X)
    report = {"command": "profile", "network": str(args.network), "data": str(args.data),
              **_header_report(names, args)}
    report.update(profile.to_dict())
    report["_text"] = str(profile)
    return report


def _print_profile(report: dict) -> None:
    print(f"{report['network']} on {report['data']}:")
    if _header_line(report):
        print(_header_line(report))
    print(report["_text"])


def _cmd_bounds(args) -> dict:
    import dataclasses
    import math

    from . import rademacher

    if args.network is None:
        for flag in ("data", "domain"):
            if getattr(args, flag) is not None:
                raise CommandError(f"--{flag} reads the class off a network's activity: pass "
                                   "--network FILE too (or give --sparsity, --samples and "
                                   "--R yourself)")
        missing = [flag for flag in ("n", "width", "sparsity", "samples")
                   if getattr(args, flag) is None]
        if missing:
            raise CommandError(f"bounds needs --n, --width, --sparsity and --samples (or "
                               f"--network FILE --data X to read the class off a network "
                               f"and its sample); missing --{missing[0]}")
        n, width, k, m = args.n, args.width, args.sparsity, args.samples
        W = 1.0 if args.W is None else args.W
        B = 1.0 if args.B is None else args.B
        radius, report = args.R, {"command": "bounds"}
    else:
        n, width, k, W, B, radius, m, report = _class_of_network(args)
    if radius is None:
        # sqrt of an int beyond float64 overflows; bounds() refuses n > MAX_COUNT
        # itself, naming it, so the default radius is only needed up to there.
        radius = math.sqrt(min(n, rademacher.MAX_COUNT))
    result = rademacher.bounds(n=n, s=width, k=k, W=W, B=B, R=radius, m=m)
    report |= {**dataclasses.asdict(result),
               "conditions": result.conditions, "best_upper": result.best_upper,
               "best_lower": result.best_lower}
    report["rows"] = [dataclasses.asdict(row) for row in result.rows]
    report["_table"] = str(result)
    return report


def _class_of_network(args):
    """``(n, s, k, W, B, R, m, report)`` of ``bounds --network``: the smallest
    class containing the network on ``--data`` (docs/rademacher.rst, "Your own
    network and sample"), each value replaced by its flag when given; ``R`` is
    ``None`` (the cube's) without ``--data`` or ``--R``."""
    from . import cube
    from .network import _round_up_scaled_norm

    given = [flag for flag in ("n", "width") if getattr(args, flag) is not None]
    if given:
        raise CommandError(f"--network fixes the input dimension and the width: drop "
                           f"--{given[0]}")
    if args.domain == "cube" and args.sparsity is not None:
        raise CommandError("--domain cube certifies k and --sparsity gives it: drop one")
    if args.domain == "data" and args.data is None:
        raise CommandError("--domain data reads k on the rows of --data: pass --data X")
    if args.data is None and args.samples is None:
        raise CommandError("--network: pass --data X (m = its rows) or --samples M")
    if args.data is None and args.sparsity is None and args.domain is None:
        raise CommandError("--network: pass --data X (k = the most active units on a row), "
                           "--domain cube (k certified over {-1,1}^n) or --sparsity K")
    net = _load_network(args.network)
    n = net.n_features
    X = None
    if args.data is not None:
        X, _, _ = _read_data(args, n_features=n)
        if args.domain == "cube" and not np.all(np.abs(X) == 1.0):
            raise CommandError(f"--domain cube certifies k over {{-1,1}}^{n}, but "
                               f"{args.data} has entries other than +1 and -1; drop "
                               "--domain cube to read k on its rows")
    read = {}  # where each parameter came from, in the table's order
    k, read["k"] = args.sparsity, "--sparsity"
    if k is None and args.domain == "cube":
        try:
            k = cube.certify_sparsity(net, time_limit=args.time_limit).max_active
        except cube.CertificationIncomplete as exc:
            raise CommandError(f"--domain cube: not certified within --time-limit "
                               f"{args.time_limit:g} s (the sparsity is at least "
                               f"{exc.lower_bound}); raise --time-limit, or pass --sparsity K"
                               ) from None
        read["k"] = f"a certificate over {{-1,1}}^{n}"
    elif k is None:
        k, read["k"] = net.max_active(X), f"most active units on a row of {args.data}"
        if k == 0:
            raise CommandError(f"no unit of {args.network} is active on any row of "
                               f"{args.data}: every member of the class is the zero "
                               "function there (Rademacher complexity 0); pass "
                               "--sparsity K for the class with K active units")
    W, B = net.norm_bounds()
    read["W"] = read["B"] = "norm_bounds"
    if args.W is not None:
        W, read["W"] = args.W, "--W"
    if args.B is not None:
        B, read["B"] = args.B, "--B"
    R, read["R"] = args.R, "--R"
    # Rounded up (exactly): the bounds need R >= every row's norm, which the
    # float norm can miss by an ulp.
    radius = None if X is None else _round_up_scaled_norm(1.0, X)
    if R is None and X is not None:
        R, read["R"] = radius, f"largest row norm of {args.data}"
    elif R is None:
        read["R"] = "sqrt(n), the cube's radius"
    m, read["m"] = args.samples, "--samples"
    if m is None:
        m, read["m"] = X.shape[0], f"rows of {args.data}"
    report = {"command": "bounds", "network": str(args.network),
              "data": None if args.data is None else str(args.data),
              "domain": args.domain or ("data" if X is not None else None), "read_off": read}
    if X is not None:
        # Whether the network itself lies in the class the bounds are about
        # (flags may have set k, W or B below the network's own values).
        report["in_class"] = net.in_class(X, k, W, B)
        # ... and whether the sample lies in the ball the bounds assume (--R
        # may be below its radius).
        report["sample_radius"] = radius
        report["within_R"] = radius <= R
    return n, net.width, k, W, B, R, m, report


def _print_bounds(report: dict) -> None:
    if report.get("network") is not None:
        where = (f" on {report['data']}" if report["data"] is not None
                 else " on {-1,1}^n" if report["domain"] == "cube" else "")
        print(f"{report['network']}{where}: "
              + ", ".join(f"{name} from {how}" for name, how in report["read_off"].items()))
        if "in_class" in report:
            print("the network is in this class on the sample" if report["in_class"] else
                  "the network is NOT in this class on the sample (k, W or B below its own)")
        if not report.get("within_R", True):
            print(f"the sample is NOT within radius R: its largest row norm is "
                  f"{report['sample_radius']:.6g} > R = {report['R']:.6g}, so the bounds "
                  "below are not about this sample")
    print(report["_table"])


def _cmd_target(args) -> dict:
    from . import targets

    if args.family == "bump":
        net = targets.bump_network(args.n, args.width, args.sparsity, radius=args.radius,
                                   random_state=args.seed)
        promise = f"{args.sparsity}-sparse on the whole cube by construction"
    elif args.family == "junta":
        try:
            t = targets.junta_block_bits(args.width, args.sparsity)
        except ValueError:
            raise CommandError(f"junta targets need --width = sparsity * 2^t with t >= 1 "
                               f"(e.g. --width {4 * args.sparsity} for t = 2), got "
                               f"--width {args.width} --sparsity {args.sparsity}") from None
        net = targets.junta_sum_network(args.n, args.sparsity, t, random_state=args.seed)
        promise = (f"exactly {args.sparsity} active units at every point, degree {t}, "
                   "E[f^2] = 1")
    else:
        net = targets.random_network(args.n, args.width, random_state=args.seed,
                                     bias_quantile=args.bias_quantile,
                                     output_scale=args.output_scale)
        promise = "sparsity measured, not promised: certify it"
    path = net.save(args.out)
    return {"command": "target", "family": args.family, "n": net.n_features,
            "width": net.width, "sparsity": getattr(args, "sparsity", None),
            "seed": args.seed, "norm_bounds": dict(zip(("W", "B"), net.norm_bounds())),
            "promise": promise, "out": path}


def _print_target(report: dict) -> None:
    print(f"wrote a {report['family']} network, n={report['n']}, width s={report['width']} "
          f"({report['promise']}) to {report['out']}")
    print(f"  next: sparselearn certify {report['out']}")


def _read_data(args, n_features=None, text_labels=False, reader="the network"):
    """``(X, y, names)`` from ``args.data`` (see :func:`sparselearn.io.read_xy`),
    the CSV header read as ``args.header`` says; ``y`` is ``None`` when the
    file has no labels, ``names`` is ``None`` when it has no header; with
    ``text_labels`` (class labels) ``y`` may be strings.  With
    ``n_features``, ``X`` of another width is refused naming the file and
    ``reader`` (what takes ``n_features`` inputs)."""
    X, y, names = _io.read_xy(args.data, n_features=n_features, header=args.header,
                              return_names=True, text_labels=text_labels,
                              label=getattr(args, "label", None))
    if n_features is not None:
        if getattr(args, "label", None) is not None and X.shape[1] != n_features:
            raise CommandError(f"{args.data}: {X.shape[1]} columns besides the labels "
                               f"(--label {args.label}), but {reader} takes {n_features} "
                               "inputs")
        _check_width(args.data, X, n_features, reader)
    return X, y, names


def _check_width(path, X, n_features: int, reader: str) -> None:
    """The rows of ``X`` (read from ``path``) have ``n_features`` entries, or a
    one-line error in the command's terms (the library's names ``X``)."""
    if X.shape[1] != n_features:
        if os.fspath(path).endswith(".npz"):
            raise CommandError(f"{path}: its X has {X.shape[1]} columns, but {reader} takes "
                               f"{n_features} inputs")
        raise CommandError(f"{path}: {X.shape[1]} columns, but {reader} takes {n_features} "
                           f"inputs (a table of {n_features + 1} columns has its last read "
                           "as labels, or the column --label names)")


def _has_text_labels(args) -> bool:
    """Whether ``args.data`` reads as numbers with text labels (class names)."""
    try:
        _, y, _ = _read_data(args, text_labels=True)
    except _io.UnreadableFileError:
        return False
    return y is not None and y.dtype.kind == "U"


def _header_report(names, args) -> dict:
    """The ``header`` entry of a report: the CSV header's column names, or
    None; with ``--label`` the inputs' names, and ``label_column`` the
    labels' (their place in the file is the user's choice, not the last)."""
    if names is None:
        return {"header": None}
    features, label = names
    if getattr(args, "label", None) is not None and label is not None:
        return {"header": list(features), "label_column": label}
    return {"header": list(features) + ([] if label is None else [label])}


def _header_line(report: dict):
    """``header row: a, b, y`` when the data had a header (detected or
    ``--header yes``; ``header row: a, b; labels: y`` with ``--label``), else None."""
    if report.get("header") is None:
        return None
    labels = f"; labels: {report['label_column']}" if "label_column" in report else ""
    return "header row: " + ", ".join(report["header"]) + labels


def _check_encoding(args, X) -> None:
    """The inputs match ``--encoding``, said in the command's terms (the
    library's message names its ``input_encoding=`` argument)."""
    allowed = (-1.0, 1.0) if args.encoding == "pm1" else (0.0, 1.0)
    bad = np.argwhere(~np.isin(X, allowed))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        other = "01" if args.encoding == "pm1" else "pm1"
        what = {"pm1": "+1 or -1", "01": "0 or 1"}
        raise CommandError(f"{args.data}: with --encoding {args.encoding} every input must "
                           f"be exactly {what[args.encoding]}, but data row {i + 1}, "
                           f"column {j + 1} is {X[i, j]:g}; pass --encoding {other} for "
                           f"{what[other].replace(' or ', '/')} data, or --domain real "
                           "for real-valued data")


#: Header names pandas gives a row index written as a column:
#: ``df.reset_index().to_csv(index=False)`` ("index", "level_0" when "index"
#: is taken) and a re-read ``to_csv()`` file saved again ("Unnamed: 0").
_INDEX_NAMES = ("index", "level_0", "Unnamed: 0")


def _index_column_note(names, X):
    """A note when the first input column is a pandas row index: named as
    pandas names one *and* holding exactly the row numbers 0, 1, ..., m - 1
    (both, so no real feature is ever suspected); the data is still used."""
    if names is None or not names[0] or names[0][0] not in _INDEX_NAMES or len(X) < 2:
        return None
    if not np.array_equal(X[:, 0], np.arange(len(X))):
        return None
    return (f"the first column, {names[0][0]!r}, holds the row numbers 0 to {len(X) - 1}: "
            "likely a pandas index written as a column, learned here as a feature; "
            "drop it (df.drop(columns=...), or to_csv(index=False) without "
            "reset_index()) if it is not one")


def _largest_coefficients(subsets, coef, feature_names, count: int) -> list:
    """The ``count`` coefficients of largest magnitude as report rows."""
    order = np.argsort(-np.abs(coef), kind="stable")[:count]
    return [{"subset": list(subsets[i]), "names": [feature_names[j] for j in subsets[i]],
             "coefficient": float(coef[i])} for i in order]


def _refuse_overwriting_inputs(out, inputs, flag: str = "--out") -> None:
    """A ``CommandError`` when ``out`` names one of the ``inputs`` (the same
    file, through any path or link): writing it would replace what the
    command reads (``predict m.npz d.csv --out m.npz`` replaced the model by
    its predictions)."""
    for what, path in inputs:
        try:
            same = os.path.exists(out) and os.path.samefile(out, path)
        except OSError:
            same = False
        if same:
            raise CommandError(f"{flag} {out} is the {what} file {path}; write the output "
                               "to another path")


def _check_destination(path, flag: str) -> None:
    """A ``CommandError`` before any work when ``path`` could not be written
    at the end (a long ``verify`` sweep wrote nothing after all its trials
    when ``--out``'s directory did not exist)."""
    if os.path.isdir(path):
        raise CommandError(f"{flag} {path}: is a directory, not a file to write")
    if not os.path.isdir(os.path.dirname(os.path.realpath(path))):
        raise CommandError(f"{flag} {path}: its directory does not exist")


def _cmd_learn(args) -> dict:
    from .learners import LowDegreeClassifier, LowDegreeRegressor

    if args.out:
        _refuse_overwriting_inputs(_io.npz_path(args.out), [("data", args.data)])
    try:
        X, y, names = _read_data(args, text_labels=args.task == "classify")
    except _io.UnreadableFileError:
        if args.task == "regress" and _has_text_labels(args):
            raise CommandError(f"{args.data}: the labels ("
                               + ("last column" if args.label is None else
                                  f"column {args.label}") + ") are not numbers; "
                               "pass --task classify to learn them as classes") from None
        raise
    if y is None:
        raise CommandError(f"{args.data}: no labels; learning needs y (array y in an "
                           ".npz, or the last column of a table)")
    if args.encoding == "01" and args.domain == "real":
        raise CommandError("--encoding 01 maps 0/1 inputs to the cube; it cannot be "
                           "combined with --domain real")
    if args.standardize and args.domain == "cube":
        raise CommandError("--standardize scales real-valued inputs; pass --domain real "
                           "(cube points are never standardised)")
    if args.domain == "cube" or args.encoding == "01":
        _check_encoding(args, X)
    if args.solver == "lmn" and args.domain != "cube":
        raise CommandError(f"--solver lmn estimates Fourier coefficients of cube data; "
                           f"with --domain {args.domain} use --solver auto, cg, exact, "
                           "cholesky or sketch")
    estimator = LowDegreeClassifier if args.task == "classify" else LowDegreeRegressor
    model = estimator(degree=args.degree, max_degree=args.max_degree,
                      solver=args.solver, alpha=args.alpha, input_encoding=args.encoding,
                      domain=args.domain, standardize=args.standardize,
                      random_state=args.seed, verbose=args.verbose)
    if args.degree is None and X.shape[0] < model.cv:
        raise CommandError(f"{args.data}: {X.shape[0]} samples are too few to choose the "
                           f"degree by {model.cv}-fold validation; pass --degree")
    _say(args, f"fitting a low-degree model on {X.shape[0]} samples, n={X.shape[1]} ...")
    start = time.perf_counter()
    # The estimator's verbose lines go to stdout; stdout here is the report.
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(X, y)
    seconds = time.perf_counter() - start
    feature_names = (list(names[0]) if names is not None
                     else [f"x{i}" for i in range(X.shape[1])])
    report = {"command": "learn", "task": args.task, "domain": model.domain_,
              "data": str(args.data), "n_samples": int(X.shape[0]),
              "n_features": int(X.shape[1]), "degree": int(model.degree_),
              "n_parities": int(model.coef_.shape[-1]), "n_iter": int(model.n_iter_),
              "fit_seconds": seconds, **_header_report(names, args),
              "feature_names": feature_names}
    note = _index_column_note(names, X)
    if note is not None:
        report["note"] = note
    if args.task == "classify":
        # Labels read from a table are floats (integral ones shown as ints) or,
        # when not all numbers, strings (class names), kept as they are.
        classes = [str(c) if isinstance(c, str) else bool(c) if isinstance(c, np.bool_) else
                   int(c) if float(c).is_integer() else float(c) for c in model.classes_]
        report["classes"] = classes
        report["train_accuracy"] = float(np.mean(model.predict(X) == y))
        coef = model.coef_[None, :] if model.coef_.ndim == 1 else model.coef_
        # Two classes: one polynomial, positive for the second class.
        shown = classes[1:] if model.coef_.ndim == 1 else classes
        report["top_coefficients_by_class"] = {
            str(label): _largest_coefficients(model.subsets_, row, feature_names, 5)
            for label, row in zip(shown, coef)}
    else:
        residual = model.predict(X) - np.asarray(y, dtype=np.float64)
        report["train_mse"] = float(np.mean(residual**2))
        report["top_coefficients"] = _largest_coefficients(model.subsets_, model.coef_,
                                                           feature_names, 10)
    if model.cv_results_ is not None:
        cv = model.cv_results_
        report["cv_mean_test_mse"] = {int(d): float(e) for d, e in
                                      zip(cv["degree"], cv["mean_test_mse"])}
        # NaN marks a degree validation skipped: more parities than samples
        # in a training split (and, with a ridge, than 6,000): the learner's
        # _tried_in_selection.
        features = "parities" if report["domain"] == "cube" else "monomials"
        beyond = " and than 6000 (the ridge's limit)" if model.alpha > 0 else ""
        report["cv_skipped"] = {int(d): f"{int(D)} {features}, more than the "
                                        f"samples of a training split{beyond}"
                                for d, D, e in zip(cv["degree"], cv["n_features"],
                                                   cv["mean_test_mse"]) if np.isnan(e)}
    if args.out:
        if names is not None:
            # Kept in the file, so that predict can check a header against
            # them (and from Python, get_feature_names_out names them).
            model.feature_names_in_ = np.asarray(names[0], dtype=object)
        report["model"] = model.save(args.out)  # the path written (.npz appended)
    return report


def _print_learn(report: dict) -> None:
    features = "parities" if report["domain"] == "cube" else "monomials"
    what = (f"{len(report['classes'])}-class classifier" if report["task"] == "classify"
            else "model")
    print(f"learned a degree-{report['degree']} {what} on {report['n_samples']} samples, "
          f"n={report['n_features']} ({report['n_parities']} {features}, "
          f"{report['n_iter']} solver iterations, {report['fit_seconds']:.2f} s)")
    if _header_line(report):
        print(f"  {_header_line(report)}")
    if report["task"] == "classify":
        print(f"  training accuracy  {report['train_accuracy']:.4f}")
    else:
        print(f"  training MSE  {report['train_mse']:.6g}")
    if "cv_mean_test_mse" in report:
        skipped = report.get("cv_skipped", {})
        curve = ", ".join(f"d={d}: skipped ({skipped[d]})" if d in skipped else
                          f"d={d}: {e:.4g}" for d, e in report["cv_mean_test_mse"].items())
        # A classifier's curve is the error of its +-1 one-vs-rest scores, not an accuracy.
        what = "MSE of the one-vs-rest scores" if report["task"] == "classify" else "MSE"
        print(f"  validation {what}  {curve}")
    groups = report.get("top_coefficients_by_class") or {"": report["top_coefficients"]}
    for label, rows in groups.items():
        print("  largest coefficients" + (f" of class {label}:" if label else ":"))
        for row in rows:
            subset = "{" + ", ".join(row["names"]) + "}"
            print(f"    {subset:<20} {row['coefficient']:+.6g}")
    if "model" in report:
        print(f"  saved to {report['model']}")
    if "note" in report:
        print(f"{report['data']}: note: {report['note']}", file=sys.stderr)


def _cmd_predict(args) -> dict:
    from .learners import LowDegreeClassifier, LowDegreeRegressor

    if args.out:
        _refuse_overwriting_inputs(args.out, [("model", _io.npz_path(args.model)),
                                              ("data", args.data)])
    # A classifier's archive is the one with class labels (learn --task classify).
    classify = "classes" in _io.npz_names(_io.npz_path(args.model))
    model = (LowDegreeClassifier if classify else LowDegreeRegressor).load(args.model)
    X, y, names = _read_data(args, n_features=model.n_features_in_, text_labels=classify,
                             reader="the model")
    learned = getattr(model, "feature_names_in_", None)
    if learned is not None:
        if names is not None and list(names[0]) != learned.tolist():
            # The learned inputs and one more column (labels learned with
            # --label, not last here): name the flag that reads the file.
            header = list(names[0]) + ([] if names[1] is None else [names[1]])
            others = [name for name in header if name not in learned.tolist()]
            hint = (f"; if {others[0]} holds the labels, pass --label {others[0]}"
                    if len(others) == 1 and args.label is None else "")
            raise CommandError(f"{args.data}: its header names the columns "
                               f"{', '.join(names[0])}, but the model was learned on "
                               f"{', '.join(learned)} (in that order); reorder the columns"
                               + hint)
        # Checked here; X is an array, which the estimator would warn has no names.
        del model.feature_names_in_
    predictions = model.predict(X)
    report = {"command": "predict", "model": str(args.model), "data": str(args.data),
              "n_samples": int(X.shape[0]), **_header_report(names, args)}
    if y is not None and classify:
        labels, y = np.unique(y), _labels_as_classes(y, model.classes_)
        report["accuracy"] = float(np.mean(predictions == y))
        if not np.isin(y, model.classes_).any():
            # Likely the wrong file or label column: say so rather than
            # leave a bare 0 (the predictions are still written).
            report["note"] = (
                f"none of the file's labels are among the model's classes "
                f"{_shown_labels(model.classes_)}; accuracy is 0 by construction "
                f"(the file's labels: {_shown_labels(labels)})")
    elif y is not None:
        report["mse"] = float(np.mean((predictions - np.asarray(y, dtype=np.float64))**2))
    if args.out:
        if str(args.out).endswith(".npy"):
            report["out"] = _io.save_npy(args.out, predictions)
        else:
            # A classifier saved from Python may have string labels; a name
            # with a comma is quoted, or the file would not be one column.
            text = predictions.dtype.kind in "Ub"  # class names, or False/True
            rows = np.array([_io._csv_field(str(label)) for label in predictions.tolist()],
                            dtype=str) if text else predictions
            report["out"] = _io.save_txt_array(args.out, rows, delimiter=",",
                                               fmt="%s" if text else "%.17g")
    else:
        report["predictions"] = predictions.tolist()
    return report


def _labels_as_classes(y, classes):
    """``y`` in the type of the model's ``classes``: a table's labels are
    float64 when all are numbers and strings otherwise, whatever the
    training file held, so a label matches a class of the other type when
    both are the same number (``1`` and ``"1"``); other labels match none."""
    if (y.dtype.kind == "U") == (classes.dtype.kind == "U"):
        return y
    if classes.dtype.kind == "U":  # numeric labels, classes with names among them
        spelled = {float(c): c for c in classes if _io._is_number(c)}
        return np.array([spelled.get(label, f"{label:g}") for label in y.tolist()])
    return np.array([float(label) if _io._is_number(label) else np.nan for label in y])


def _shown_labels(labels, limit: int = 6) -> str:
    """``[a, b, ...]``: at most ``limit`` labels, integral floats as ints."""
    shown = [f"{label:g}" if isinstance(label, float) else str(label)
             for label in labels.tolist()[:limit]]
    return "[" + ", ".join(shown) + (", ..." if len(labels) > limit else "") + "]"


def _print_predict(report: dict) -> None:
    if _header_line(report):  # stdout holds only the predictions
        print(f"{report['data']}: {_header_line(report)}", file=sys.stderr)
    if "predictions" in report:
        for value in report["predictions"]:
            print(value if isinstance(value, (str, bool)) else f"{value:.17g}")
    else:
        print(f"wrote {report['n_samples']} predictions to {report['out']}")
    if "mse" in report:
        print(f"mean squared error against the labels in {report['data']}: "
              f"{report['mse']:.6g}", file=sys.stderr)
    if "accuracy" in report:
        print(f"accuracy against the labels in {report['data']}: "
              f"{report['accuracy']:.6g}", file=sys.stderr)
    if "note" in report:
        print(f"note: {report['note']}", file=sys.stderr)


def _cmd_verify(args) -> dict:
    from functools import partial

    from . import pac

    learner = partial(pac.low_degree_learner, max_degree=args.max_degree)
    # The files written at the end are checked now, before the trials.
    for flag, path in (("--out", args.out), ("--plot", args.plot)):
        if path:
            _check_destination(path, flag)
            if args.network is not None:
                _refuse_overwriting_inputs(path, [("--network", args.network),
                                                  ("--network", _io.npz_path(args.network))],
                                           flag)
    if args.out and args.plot and os.path.realpath(args.out) == os.path.realpath(args.plot):
        raise CommandError(f"--out and --plot name the same file {args.out}; the figure "
                           "would replace the table")
    if args.plot:
        import_pyplot("--plot", backend="Agg")
    if args.output is not None and args.network is None:
        raise CommandError("--output picks one output of a multi-output --network; the "
                           "target families have one output")
    if args.degree is not None and "tail" in args.degree and args.degree != ["tail"]:
        raise CommandError("--degree tail stands alone (one degree per target family, "
                           "from its spectrum); got --degree "
                           + " ".join(map(str, args.degree)))
    tail_degrees = network = None
    if args.network is not None:
        # The user's own network is every trial's target: the grid is the
        # sample sizes (and degrees), its one family the file.
        given = [flag for flag in ("n", "width", "sparsity", "target")
                 if getattr(args, flag) is not None]
        if given:
            raise CommandError(f"--network is the target itself: drop --{given[0]} (the "
                               "family flags --n, --width, --sparsity and --target build "
                               "targets; the network file fixes them)")
        network = _select_output(_load_network(args.network), args)
        target = partial(_fixed_target, network)
        grid = {"n_samples": args.samples}
        families = 1
    else:
        args.n, args.width, args.sparsity = (args.n or [10], args.width or [8],
                                             args.sparsity or [2])
        target = {"bump": pac.bump_target, "juntas": pac.junta_sum_target}[
            args.target or "bump"]
        grid = {"n_features": args.n, "width": args.width, "sparsity": args.sparsity,
                "n_samples": args.samples}
        families = len(args.n) * len(args.width) * len(args.sparsity)
    if args.degree == ["tail"] and network is not None:
        grid["degree"] = [_tail_degree(args, network)]
        tail_degrees = {(network.n_features, network.width, None): grid["degree"][0]}
    elif args.degree == ["tail"]:
        tail_degrees = _tail_degrees(args, target)
        learner = partial(_tail_degree_learner, tail_degrees)
    elif args.degree is not None:
        grid["degree"] = args.degree
    _say(args, f"verifying {families} target {'family' if families == 1 else 'families'} x "
               f"{len(args.samples)} sample sizes x {args.trials} trials ...")
    client, patience = None, contextlib.nullcontext()
    if args.scheduler is not None:
        pac._check_scheduler(args.scheduler, args.jobs)  # the address's form, first
        client = _connect(args.scheduler, args.connect_timeout)
        import dask  # the trial runner waits that long for workers that died, too

        patience = dask.config.set({"distributed.comm.timeouts.connect":
                                    f"{args.connect_timeout}s"})
    try:
        with warnings.catch_warnings(), patience:
            # The pre-flight lines are in the table; no second copy on stderr.
            warnings.simplefilter("ignore", pac.InfeasibleWarning)
            result = pac.verify_sweep(learner, target, grid, args.eps, args.delta,
                                      args.trials, args.noise, random_state=args.seed,
                                      scheduler=client, n_jobs=args.jobs,
                                      progress=not args.quiet, eps_scale="relative")
    finally:
        if client is not None:
            client.close()
    report = {"command": "verify", **result.to_dict(), "_table": result.to_table()}
    if any(r.infeasible for r in result.results):
        report["_table"] += ("\n(--degree tail learns each family at the smallest degree "
                             "whose tail leaves room for eps)")
    # The sweep records its own arguments, not where its target came from:
    # the report and the --out file both name the --network file (--output).
    target_file = {}
    if network is not None:
        target_file["network"] = str(args.network)
        if args.output is not None:
            target_file["output"] = args.output
    if tail_degrees is not None:
        # Nor the degree --degree tail chose per family (not a grid column
        # for target families): the --out file records it too.
        target_file["tail_degrees"] = [
            {"n_features": n, "width": w, "sparsity": k, "degree": d}
            for (n, w, k), d in tail_degrees.items()]
    report |= target_file
    if tail_degrees is not None:
        report["_table"] = (
            f"--degree tail: per target family, the smallest d with W^{{>d}} <= "
            f"{args.tail_fraction:g} x eps x E[f^2] on its first target: "
            + ", ".join(f"n={n} s={w}" + ("" if k is None else f" k={k}") + f": d={d}"
                        for (n, w, k), d in tail_degrees.items())
            + "\n" + report["_table"])
    if args.out:
        if str(args.out).endswith(".json"):
            result.to_json(args.out, metadata=target_file)
        else:
            # A CSV cell holds text: the list as JSON, which json.loads reads back.
            result.to_csv(args.out, metadata={
                key: json.dumps(value, separators=(",", ":")) if key == "tail_degrees"
                else value for key, value in target_file.items()})
        report["out"] = str(args.out)
    if args.plot:
        plt = import_pyplot("--plot", backend="Agg")
        axes = pac.plot_sweep(result, x="n_samples")
        try:
            report["plot"] = _io.save_figure(axes.figure, args.plot, dpi=120)
        finally:
            plt.close(axes.figure)
    return report


def _tail_degrees(args, target) -> dict:
    """``{(n, s, k): d}``: for each target family of a ``verify --degree tail``
    sweep, :func:`~sparselearn.fourier.degree_for_tail` of its first target
    (the one its first trial draws, and the pre-flight report reads)."""
    from .pac._sweep import _point_seed
    from .pac._trial import _child_seed, _root_seed

    root, degrees = _root_seed(args.seed), {}
    for n in args.n:
        for width in args.width:
            for sparsity in args.sparsity:
                point = {"n_features": n, "width": width, "sparsity": sparsity}
                seed = _child_seed(_point_seed(root, point), 0).spawn(1)[0]
                net = target(point, np.random.default_rng(seed))
                degrees[(n, width, sparsity)] = _tail_degree(args, net)
    return degrees


def _select_output(network, args):
    """``verify --network``'s scalar target: the file's network, or its output
    ``--output`` (required for a multi-output network, e.g. an imported
    classifier's decision scores)."""
    if args.output is None:
        if network.n_outputs > 1:
            raise CommandError(f"{args.network} has {network.n_outputs} outputs; pass "
                               f"--output T (0 <= T < {network.n_outputs}) to verify "
                               "learning one of them")
        return network
    if args.output >= network.n_outputs:
        raise CommandError(f"--output {args.output}, but {args.network} has "
                           f"{network.n_outputs} output(s); pass 0 <= T < "
                           f"{network.n_outputs}")
    return network.select_output(args.output)


def _fixed_target(network, params, rng):
    """The ``verify --network`` target of every grid point and trial: the
    file's network (module level, so it pickles for --jobs and --scheduler)."""
    return network


def _tail_degree(args, net) -> int:
    """``verify --degree tail`` for one target ``net``: the smallest ``d`` with
    :math:`W^{>d} \\le` ``--tail-fraction`` x eps x :math:`E[f^2]` of its
    exact spectrum (:func:`~sparselearn.fourier.degree_for_tail`)."""
    from . import fourier

    if net.n_features > 24:
        raise CommandError(f"--degree tail reads the target's exact spectrum (2^n values); "
                           f"its n = {net.n_features} is beyond the n <= 24 it allows")
    return fourier.degree_for_tail(net, args.eps, args.tail_fraction)


def _tail_degree_learner(degrees, params):
    """The ``verify --degree tail`` learner of a grid point: a
    :func:`~sparselearn.pac.low_degree_learner` at its family's degree
    (module level, so it pickles for --jobs and --scheduler)."""
    from . import pac

    key = (params["n_features"], params["width"], params["sparsity"])
    return pac.low_degree_learner(params, degree=degrees[key])


def _connect(address: str, timeout: float):
    """A ``distributed.Client`` on ``address`` with at least one worker, or a
    CommandError after ``timeout`` seconds (for the connection, then again
    for the first worker)."""
    from .pac._execution import _connect_client

    try:  # bounded, a server that never answers included
        client = _connect_client(address, timeout)
    except ConnectionError as exc:
        raise CommandError(f"{_io._oneline(exc)} (--connect-timeout {timeout:g} s)") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise CommandError(f"the Dask scheduler at {address} has no workers: none arrived "
                           f"within --connect-timeout {timeout:g} s; start one with "
                           f"'dask worker {address}', or raise --connect-timeout") from None
    except BaseException:
        client.close()
        raise
    return client


def _print_verify(report: dict) -> None:
    print(report["_table"])
    for key, what in (("out", "table"), ("plot", "figure")):
        if key in report:
            print(f"{what} written to {report[key]}")


COMMANDS = {
    "demo": (_cmd_demo, _print_demo),
    "certify": (_cmd_certify, _print_certify),
    "profile": (_cmd_profile, _print_profile),
    "bounds": (_cmd_bounds, _print_bounds),
    "learn": (_cmd_learn, _print_learn),
    "predict": (_cmd_predict, _print_predict),
    "verify": (_cmd_verify, _print_verify),
    "target": (_cmd_target, _print_target),
}


# ------------------------------------------------------------------ parser
def _integer_at_least(minimum: int, kind: str):
    """An argparse type: an integer ``>= minimum``, called ``kind`` in errors."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {value}")
        return value
    return parse


_positive_int = _integer_at_least(1, "a positive integer")
_seed = _integer_at_least(0, "a non-negative integer")  # numpy's generators' seeds
_nonnegative_int = _integer_at_least(0, "a non-negative integer")


def _number_where(accept, kind: str):
    """An argparse type: a float for which ``accept`` holds, else an error
    saying what was expected (``kind``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")  # refused below, with the same message
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}")
        return value
    return parse


_positive_float = _number_where(lambda v: v > 0 and math.isfinite(v), "a positive number")
_nonnegative_float = _number_where(lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
_probability = _number_where(lambda v: 0.0 < v < 1.0,  # a failure probability
                             "a number strictly between 0 and 1")


def _jobs(text: str) -> int:
    """An argparse type: a positive number of worker processes, or -1 (every CPU)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or -1 (every CPU), "
                                         f"got {text!r}")
    return value


def _output_path(text: str) -> str:
    """An argparse type: a non-empty output path (an empty one used to save
    nothing for learn, or a hidden ``.npz`` for target)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name, got an empty one")
    return text


def _degree_rule(words):
    """An argparse type: a degree ``>= 0`` or one of ``words``."""
    def parse(text: str):
        if text in words:
            return text
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(
                f"expected a degree >= 0 or {' or '.join(words)}, got {text!r}")
        return value
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def _time_limit(text: str):
    if text.strip().lower() in ("none", "inf", "infinity"):
        return None
    return _positive_float(text)


def _add_header_flag(parser) -> None:
    parser.add_argument("--header", choices=_io.HEADER_CHOICES, default="auto",
                        help="does the CSV's first line hold column names? auto "
                             "(default): yes when its non-empty fields are all "
                             "non-numbers or pandas' default names 0,1,2,...; a line "
                             "with other numbers is data, so a typo there "
                             "(1,-1,1,abc) is an error naming line 1, and an empty "
                             "field is a missing value, an error; yes; no.  Ignored "
                             "for .npy and .npz")


def _column(text: str):
    """A ``--label`` value: a column number (an integer, ``-1`` the last) or a name."""
    try:
        return int(text)
    except ValueError:
        return text


def _add_label_flag(parser, predict: bool) -> None:
    parser.add_argument(
        "--label", type=_column, default=None, metavar="NAME|INDEX",
        help="the CSV/.npy column of the labels: its header name, or its number counted "
             "from 0 (0 the first column, -1 the last: the default); every other column "
             "is an input" + ("; as for learn, so that a table laid out like the "
             "training file is read the same way" if predict else "")
             + ".  Not for .npz (its y is the labels)")


class _Parser(argparse.ArgumentParser):
    """argparse with the command's error convention: a usage error is ONE
    line on stderr (``sparselearn verify: error: ...; see sparselearn verify
    --help``) and exit code 2, not argparse's usage block."""

    def error(self, message):
        text = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {text}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sparselearn`` command."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true",
                        help="print the report as JSON on stdout")
    common.add_argument("--quiet", action="store_true",
                        help="no progress output on stderr")

    parser = _Parser(
        prog="sparselearn",
        description="Sparsely activated ReLU networks: build, certify, learn, verify.")
    parser.add_argument("--version", action="version", version=f"sparselearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo", parents=[common],
        help="build a k-sparse target, certify, learn and verify it",
        description="Build a k-sparse target network on {-1,1}^n, certify its sparsity "
                    "exactly, learn it with a low-degree regressor from noisy samples, "
                    "and run a PAC check.  Errors are measured exactly over the whole "
                    "cube, so the demo keeps --n <= 24.")
    demo.add_argument("--target", choices=("juntas", "bump"), default="juntas",
                      help="juntas: k disjoint juntas of degree log2(s/k) (default); "
                           "bump: Hamming-ball bumps")
    demo.add_argument("--n", type=_positive_int, default=None,
                      help="input dimension, at most 24 (20 for juntas, 10 for bump)")
    demo.add_argument("--width", type=_positive_int, default=12, help="width s (12)")
    demo.add_argument("--sparsity", type=_positive_int, default=3, help="sparsity k (3)")
    demo.add_argument("--samples", type=_positive_int, default=4000,
                      help="training samples m (4000)")
    demo.add_argument("--degree", type=_degree_rule(("tail", "cv")), default="tail",
                      help="learner degree: tail (default: the smallest d with W^{>d} <= "
                           "--tail-fraction x eps x E[f^2], from the target's spectrum), "
                           "cv (validation up to --max-degree) or an integer")
    demo.add_argument("--tail-fraction", type=_fraction, default=0.5,
                      help="share of eps the degree's tail may use, in (0, 1] (0.5)")
    demo.add_argument("--max-degree", type=_nonnegative_int, default=3,
                      help="largest degree tried by validation with --degree cv (3)")
    demo.add_argument("--noise", type=_nonnegative_float, default=0.1,
                      help="standard deviation of Gaussian label noise (0.1)")
    demo.add_argument("--trials", type=_positive_int, default=20, help="PAC trials (20)")
    demo.add_argument("--eps", type=_positive_float, default=0.1,
                      help="PAC accuracy: excess squared error, as a fraction of E[f^2] "
                           "(0.1)")
    demo.add_argument("--delta", type=_probability, default=0.2,
                      help="PAC failure probability (0.2)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (0)")
    demo.add_argument("--plot", type=_output_path,
                      help="save the degree profile and learning curve (PNG)")

    certify = sub.add_parser(
        "certify", parents=[common], help="exact sparsity of a saved network on the cube",
        description="Certify the exact sparsity max_x |A(x)| of a saved network over the "
                    "whole cube {-1,1}^n (with a witness point), and print the activation "
                    "histogram when n is small.  Make a network with 'sparselearn target'.")
    certify.add_argument("network", help="a network saved with SparseReLUNetwork.save (.npz)")
    certify.add_argument("--time-limit", type=_time_limit,
                         default=DEFAULT_CERTIFY_TIME_LIMIT,
                         help=f"give up after this many seconds "
                              f"({DEFAULT_CERTIFY_TIME_LIMIT:g}; 'none' for no limit)")
    certify.add_argument("--histogram-max-n", type=int, default=22,
                         help="also print the activation histogram when n <= this (22; "
                              "--domain pm1 only)")
    certify.add_argument("--domain", nargs="+", default=["pm1"],
                         metavar="KIND [VALUES]",
                         help="where the maximum is taken: pm1 (default, {-1,1}^n), 01 "
                              "({0,1}^n), box LO HI (the box [LO, HI]^n; LP-based, see "
                              "sparselearn.cube.Box) or points FILE (the rows of a CSV/.npy "
                              "table or the X of an .npz; an extra last column is ignored)")
    certify.add_argument("--method", choices=("bnb", "milp"), default="bnb",
                         help="search for --domain box: bnb (default, branch and bound with "
                              "an LP per node) or milp (one HiGHS MILP, often much faster; "
                              "the witness is recounted exactly and the upper bound rests "
                              "on the MIP tolerances printed)")
    _add_header_flag(certify)
    profile = sub.add_parser(
        "profile", parents=[common], help="activation profile of a saved network on DATA",
        description="How many hidden units of a saved network are active at each point "
                    "of DATA: the distribution of active counts and per-unit rates.")
    profile.add_argument("network", help="a network saved with SparseReLUNetwork.save (.npz)")
    profile.add_argument("data", help="CSV or .npy table (an extra last column of labels "
                                      "is ignored), or .npz with an array X")
    _add_header_flag(profile)
    learn = sub.add_parser(
        "learn", parents=[common],
        help="fit a LowDegreeRegressor (or, --task classify, a LowDegreeClassifier) to DATA",
        description="Fit a low-degree Fourier (parity) regressor to labelled points of the "
                    "cube, or with --domain real (or auto) least squares over the "
                    "multilinear monomials of real-valued inputs; --task classify fits a "
                    "one-vs-rest classifier for any number of classes.  The degree is "
                    "chosen by cross-validation unless --degree is given.  Prints the "
                    "largest coefficients; --out saves the model for 'sparselearn "
                    "predict'.")
    learn.add_argument("data", help="CSV or .npy table with y in the last column (or "
                                    "--label), or .npz with arrays X and y")
    learn.add_argument("--degree", type=int, default=None,
                       help="degree d (default: chosen by validation)")
    learn.add_argument("--max-degree", type=int, default=4,
                       help="largest degree tried when --degree is not given (4)")
    learn.add_argument("--solver",
                       choices=("auto", "lmn", "cg", "exact", "cholesky", "sketch"),
                       default="auto",
                       help="lmn: empirical Fourier coefficients (Linial-Mansour-Nisan, "
                            "one pass, not least squares; cube only); cg: least squares by "
                            "conjugate gradients, matrix-free; exact: least squares by QR "
                            "of the feature rows; cholesky: the normal equations, as "
                            "scikit-learn's Ridge(solver='cholesky'); sketch: cg "
                            "preconditioned by the normal equations of a random sample of "
                            "max(4 D, sqrt(m D)) rows; auto (default): on the cube exact "
                            "up to 32 "
                            "parities, cg beyond; on real data exact when there are "
                            "fewer samples than monomials and their m x D feature "
                            "matrix fits the 4 GiB budget (an SVD of it), else up to 6000 "
                            "monomials sketch from 500 monomials with 8 samples per "
                            "monomial or at least 4000 samples (the Gram from its "
                            "distinct moments, when their table is at most half of "
                            "it), cholesky otherwise; cg beyond")
    learn.add_argument("--encoding", choices=("pm1", "01"), default="pm1",
                       help="cube inputs are +-1 (pm1, default) or 0/1 (01)")
    learn.add_argument("--domain", choices=("cube", "real", "auto"), default="cube",
                       help="cube (default): every input must be +-1 (or 0/1 with "
                            "--encoding 01); real: any finite numbers, features are the "
                            "multilinear monomials (scikit-learn's PolynomialFeatures("
                            "interaction_only=True)); auto: the cube when every input is "
                            "+-1, else real")
    learn.add_argument("--task", choices=("regress", "classify"), default="regress",
                       help="regress (default): least squares on the labels; classify: "
                            "one-vs-rest least squares on +-1 class indicators, any "
                            "number of classes (as scikit-learn's RidgeClassifier), "
                            "numbers or names (a CSV's label column may be text)")
    learn.add_argument("--alpha", type=float, default=0.0,
                       help="ridge penalty, in scikit-learn's meaning (default 0)")
    learn.add_argument("--standardize", action="store_true",
                       help="with --domain real: centre and scale every input column first")
    learn.add_argument("--seed", type=_seed, default=0, help="seed of the validation folds")
    learn.add_argument("--verbose", action="store_true",
                       help="a line on stderr for every solve (the estimators' verbose=True: "
                            "solver, iterations, relative residual, time; every 10 s while a "
                            "conjugate gradient runs)")
    learn.add_argument("--out", type=_output_path,
                       help="save the model here (.npz is appended unless the name ends "
                            "with it)")
    _add_header_flag(learn)
    _add_label_flag(learn, predict=False)

    predict = sub.add_parser(
        "predict", parents=[common], help="predict DATA with a model saved by 'learn --out'",
        description="Predict the points of DATA with a model saved by 'sparselearn learn "
                    "--out'; with labels in DATA, also report the mean squared error "
                    "(a regressor) or the accuracy (a classifier), on stderr.  A "
                    "number among a classifier's class names matches that number in "
                    "DATA; when no label of DATA is one of the model's classes (names "
                    "against numbers: likely the wrong file or column), a note line "
                    "says so and the predictions are still written.")
    predict.add_argument("model", help="a model saved by 'sparselearn learn --out'")
    predict.add_argument("data", help="CSV/.npy table of points (an extra last column, "
                                      "or the --label column, "
                                      "is read as labels) or .npz with X (and y)")
    predict.add_argument("--out", type=_output_path,
                         help="write predictions here (.csv or .npy) instead of printing "
                              "them")
    _add_header_flag(predict)
    _add_label_flag(predict, predict=True)

    verify = sub.add_parser(
        "verify", parents=[common], help="PAC verification sweep over a parameter grid",
        description="Empirical PAC verification: for every point of the grid (n, width, "
                    "sparsity, samples, degree), run independent trials that draw a "
                    "target, learn it, and count the trials whose excess error is at "
                    "most eps; a grid point passes when the Clopper-Pearson bound shows "
                    "success probability at least 1 - delta.")
    verify.add_argument("--n", type=_positive_int, nargs="+", default=None,
                        help="input dimensions (10)")
    verify.add_argument("--width", type=_positive_int, nargs="+", default=None,
                        help="widths s (8)")
    verify.add_argument("--sparsity", type=_positive_int, nargs="+", default=None,
                        help="sparsities k (2)")
    verify.add_argument("--samples", type=_positive_int, nargs="+", default=[500, 2000],
                        help="sample sizes m (500 2000)")
    verify.add_argument("--target", choices=("bump", "juntas"), default=None,
                        help="target family, scaled to E[f^2] = 1 (bump)")
    verify.add_argument("--network", default=None,
                        help="verify on your own network instead of a target family: a "
                             "file saved with SparseReLUNetwork.save or 'sparselearn "
                             "target' (.npz; a trained one via interop.from_torch / "
                             "from_sklearn, then save); no --n, --width, --sparsity or "
                             "--target with it")
    verify.add_argument("--output", type=_nonnegative_int, default=None, metavar="T",
                        help="with a multi-output --network (an imported classifier's "
                             "decision scores, say): the output to learn, 0-based")
    verify.add_argument("--degree", type=_degree_rule(("tail",)), nargs="+", default=None,
                        help="learner degrees, or tail: per target family the smallest d "
                             "with W^{>d} <= --tail-fraction x eps x E[f^2] on its first "
                             "target (default: chosen by validation up to --max-degree)")
    verify.add_argument("--tail-fraction", type=_fraction, default=0.5,
                        help="with --degree tail: share of eps the tail may use, in (0, 1] "
                             "(0.5)")
    verify.add_argument("--max-degree", type=_nonnegative_int, default=3,
                        help="largest degree tried by validation (3)")
    verify.add_argument("--trials", type=_positive_int, default=10,
                        help="trials per grid point (10)")
    verify.add_argument("--eps", type=_positive_float, default=0.1,
                        help="accuracy: excess squared error, as a fraction of E[f^2] (0.1)")
    verify.add_argument("--delta", type=_probability, default=0.1,
                        help="failure probability (0.1)")
    verify.add_argument("--noise", type=_nonnegative_float, default=0.0,
                        help="standard deviation of Gaussian label noise (0)")
    verify.add_argument("--seed", type=_seed, default=0, help="root seed of the sweep (0)")
    verify.add_argument("--scheduler", default=None,
                        help="Dask scheduler address tcp://HOST:PORT (default: in process)")
    verify.add_argument("--connect-timeout", type=_positive_float,
                        default=DEFAULT_CONNECT_TIMEOUT,
                        help="seconds to wait for the --scheduler, then again for its "
                             "first worker, and for a new one if all die mid-run "
                             f"({DEFAULT_CONNECT_TIMEOUT:g})")
    verify.add_argument("--jobs", type=_jobs, default=1,
                        help="local worker processes when no --scheduler is given (1)")
    verify.add_argument("--out", type=_output_path,
                        help="write the table (.csv, or .json), with the --network file, "
                             "--output and the --degree tail degrees")
    verify.add_argument("--plot", type=_output_path,
                        help="save a figure of success against samples (PNG)")

    bounds = sub.add_parser(
        "bounds", parents=[common],
        help="docs/theory.rst's Rademacher bounds for given parameters, or a network's",
        description="The Rademacher complexity bounds of docs/theory.rst (upper and lower, "
                    "with their conditions) for sparsely activated networks with the "
                    "given n, width, sparsity, sample size and norm bounds, or those of "
                    "the smallest class holding a --network on its sample --data.")
    bounds.add_argument("--network", default=None,
                        help="a network saved with SparseReLUNetwork.save (.npz): n and the "
                             "width are its own, W and B its norm_bounds(), and k, R, m are "
                             "read on --data; the flags below override")
    bounds.add_argument("--data", default=None,
                        help="with --network, the sample (CSV, .npy or .npz X): k = the most "
                             "active units on a row, R = the largest row norm, m = its rows")
    bounds.add_argument("--domain", choices=("data", "cube"), default=None,
                        help="with --network, where k is read: on the rows of --data "
                             "(default), or certified over all of {-1,1}^n (cube)")
    bounds.add_argument("--time-limit", type=_time_limit, default=DEFAULT_CERTIFY_TIME_LIMIT,
                        help="seconds --domain cube may certify for "
                             f"({DEFAULT_CERTIFY_TIME_LIMIT:g}; 'none': no limit)")
    bounds.add_argument("--n", type=_positive_int, default=None, help="input dimension")
    bounds.add_argument("--width", type=_positive_int, default=None, help="width s")
    bounds.add_argument("--sparsity", type=_positive_int, default=None, help="sparsity k")
    bounds.add_argument("--samples", type=_positive_int, default=None, help="sample size m")
    bounds.add_argument("--W", type=float, default=None,
                        help="weight bound W (1, or the --network's)")
    bounds.add_argument("--B", type=float, default=None,
                        help="bias bound B (1, or the --network's)")
    bounds.add_argument("--R", type=float, default=None,
                        help="input radius R (the largest row norm of --data, else "
                             "sqrt(n), the cube's)")
    _add_header_flag(bounds)
    target = sub.add_parser(
        "target", help="make an oracle network (bump, junta, random) and save it (.npz)",
        description="Make a network with known structure (sparselearn.targets) and save it "
                    "for 'sparselearn certify' and 'sparselearn profile': bump (k groups of "
                    "Hamming-ball bumps, k-sparse on the whole cube), junta (a sum of k "
                    "juntas on disjoint blocks of t = log2(width/k) coordinates, exactly "
                    "k active units everywhere), random (Gaussian weights, sparsity "
                    "measured, not promised).")
    families = target.add_subparsers(dest="family", metavar="FAMILY", required=True)
    for family, summary in (
            ("bump", "k-sparse Hamming-ball bumps (targets.bump_network)"),
            ("junta", "sum of k disjoint juntas (targets.junta_sum_network)"),
            ("random", "Gaussian random network (targets.random_network)")):
        one = families.add_parser(family, parents=[common], help=summary,
                                  description=f"Save a {summary} to --out.")
        one.add_argument("--n", type=_positive_int, required=True, help="input dimension")
        one.add_argument("--width", type=_positive_int, required=True,
                         help="width s" + (" = sparsity * 2^t" if family == "junta" else ""))
        if family != "random":
            one.add_argument("--sparsity", type=_positive_int, required=True,
                             help="sparsity k" + (" (number of groups)" if family == "bump"
                                                  else " (number of juntas)"))
        if family == "bump":
            one.add_argument("--radius", type=int, default=None,
                             help="Hamming radius r of every bump, 0 <= r < n/2 (default: "
                                  "the largest random codes typically allow)")
        if family == "random":
            one.add_argument("--bias-quantile", type=float, default=0.5,
                             help="each unit is active on about 1 - this fraction of the "
                                  "cube, in [0, 1) (0.5)")
            one.add_argument("--output-scale", type=_positive_float, default=1.0,
                             help="scale of the output weights (1)")
        one.add_argument("--seed", type=_seed, default=0, help="random seed (0)")
        one.add_argument("--out", required=True, type=_output_path,
                         help="where to save the network (.npz is appended unless the "
                              "name ends with it)")
    return parser


def _json_default(value):
    """JSON for NumPy scalars and arrays; NaN and infinities become null."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# Where an explicit ``raise`` of ValueError/TypeError means "bad input": the
# library's own modules (which raise them only from argument checks) and
# scikit-learn's input validation.
_VALIDATION_DIRS = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)
_VALIDATION_FILES = tuple(os.path.join("sklearn", "utils", name) for name in
                          ("validation.py", "multiclass.py", "_param_validation.py"))


def _raised_by_validation(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by an explicit ``raise`` statement in
    sparselearn's Python code or scikit-learn's input validation (as opposed
    to failing somewhere inside NumPy, a kernel, or an unforeseen path)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
    if not (filename.endswith(".py") and (filename.startswith(_VALIDATION_DIRS)
                                          or filename.endswith(_VALIDATION_FILES))):
        return False
    return linecache.getline(filename, tb.tb_lineno).lstrip().startswith("raise")


def _is_input_error(exc: BaseException) -> bool:
    """Errors that mean bad input or an unusable environment (exit 2), as
    opposed to bugs (exit 1)."""
    if isinstance(exc, (CommandError, _io.UnreadableFileError, MemoryBudgetError)):
        return True
    if isinstance(exc, OSError):  # files, disks, sockets: the environment, not a bug
        return True
    if isinstance(exc, (ValueError, TypeError, ImportError)):
        return _raised_by_validation(exc)
    return False


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, MemoryBudgetError) and hasattr(exc, "what"):
        # The command line has no max_bytes=: it keeps the library's budget.
        text = (f"{exc.what} needs about {format_bytes(exc.needed)}, more than the "
                f"{format_bytes(exc.budget)} allowed; reduce the problem size (from Python, "
                "max_bytes= raises the budget)")
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror}"
    text = text or type(exc).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def _debug() -> bool:
    return os.environ.get("SPARSELEARN_DEBUG", "") not in ("", "0")


class _InterruptWatchdog:
    """Ctrl-C while a compiled kernel runs: Python raises KeyboardInterrupt only
    once the kernel returns, which may take hours.  The signal's wakeup byte
    reaches this thread at once (kernels release the GIL); if the main thread
    has not handled the interrupt within ``grace`` seconds, the thread prints
    the one line and ends the process with exit code 130."""

    def __init__(self, command: str, grace: float = 2.0, teardown: float = 10.0):
        import signal
        import socket
        import threading

        self.command, self.grace, self.handled = command, grace, False
        self.teardown, self.raised = teardown, False
        self.lock = threading.Lock()
        self._signal = signal
        self._reader = None
        # An ignored SIGINT stays ignored, as Python itself leaves it: a
        # command started in the background by a script (`sparselearn ... &`,
        # which starts with SIGINT ignored) is not stopped by Ctrl-C.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        try:
            self._previous = signal.set_wakeup_fd(self._writer.fileno(),
                                                  warn_on_full_buffer=False)
        except ValueError:  # not the main thread: no watchdog
            self._reader.close()
            self._writer.close()
            self._reader = None
            return
        self._previous_handler = signal.signal(signal.SIGINT, self._on_interrupt)
        threading.Thread(target=self._watch, name="sparselearn-interrupt",
                         daemon=True).start()

    def _on_interrupt(self, signum, frame):
        """Python's part of Ctrl-C, run by the main thread: worker pools tear
        down while the KeyboardInterrupt unwinds, so their tracebacks are
        silenced from now on, and the watchdog grants the unwinding up to
        ``teardown`` more seconds before it ends the process itself."""
        self.raised = True
        if not _debug():
            _silence_teardown()
        raise KeyboardInterrupt

    def _watch(self):
        try:
            while True:
                data = self._reader.recv(64)
                if not data:
                    return
                if self._signal.SIGINT in data:
                    time.sleep(self.grace)
                    deadline = time.monotonic() + self.teardown
                    while self.raised and not self.handled and time.monotonic() < deadline:
                        time.sleep(0.05)
                    with self.lock:
                        if self.handled:
                            return
                        self.handled = True
                        _io._discard_pending()  # os._exit runs no finally blocks
                        print(f"sparselearn {self.command}: interrupted", file=sys.stderr,
                              flush=True)
                        os._exit(EXIT_INTERRUPTED)
        except OSError:
            return

    def report(self) -> bool:
        """Claim the interrupt for the main thread; False if already reported."""
        with self.lock:
            first, self.handled = not self.handled, True
        return first

    def close(self):
        if self._reader is None:
            return
        self._signal.signal(self._signal.SIGINT, self._previous_handler)
        self._signal.set_wakeup_fd(self._previous)
        self._writer.close()
        self._reader.close()


def _silence_teardown() -> None:
    """After Ctrl-C, worker pools shut down mid-task (joblib's loky manager
    thread, for one, can fail with a KeyError then): their tracebacks are no
    news to a user who asked to stop, so background-thread and
    during-shutdown exceptions are dropped (SPARSELEARN_DEBUG=1 keeps them)."""
    import threading

    threading.excepthook = lambda args: None
    sys.unraisablehook = lambda unraisable: None


# loky's resource tracker (a process of its own, started with the warning
# options of this one) warns of "leaked" semaphores when a pool killed by
# Ctrl-C unregistered them in a race with its exit; they are unlinked by then
# (the second warning says FileNotFoundError).  Its warnings are for library
# developers, not for a user who pressed Ctrl-C: the command line drops them.
_TRACKER_WARNINGS = "ignore:resource_tracker:UserWarning"


def _stop_worker_pools() -> None:
    """After Ctrl-C, shut down joblib's loky process pool if one was started
    (``verify --jobs N``), killing its workers and waiting for them, and, in
    the ``sparselearn`` process itself (about to exit), release the pools'
    semaphores now: left to the interpreter's exit, the pool that joblib
    aborted unregisters them too late and loky's resource tracker prints
    "leaked semlock objects" warnings."""
    reusable = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(reusable, "_executor", None)
    if executor is None:
        return
    try:
        executor.shutdown(wait=True, kill_workers=True)
    except Exception:  # a pool already broken by the interrupt: nothing left to stop
        pass
    if _startup.is_command_line():  # not when main() runs inside another program
        import gc
        from multiprocessing import util

        gc.collect()
        util._run_finalizers(0)  # what exit would run: the semaphores' unlink + unregister


def _save_traceback(exc: BaseException) -> str:
    """Write ``exc``'s traceback to a new file in the temporary directory, for
    the bug report; returns the words naming it (or how to see it instead)."""
    import tempfile

    text = "".join(traceback.format_exception(exc))
    try:
        fd, path = tempfile.mkstemp(prefix="sparselearn-traceback-", suffix=".txt")
        os.close(fd)
        _io.save_text(path, text)
    except OSError:
        return "the traceback (SPARSELEARN_DEBUG=1 prints it)"
    return f"the traceback saved in {path}"


def main(argv=None) -> int:
    """Run the command line; returns the process exit code (0, 1, 2 or 130)."""
    command = "command"
    watchdog = None
    try:
        # From here Ctrl-C is KeyboardInterrupt, handled below (until now the
        # start-up guard of sparselearn/_startup.py answered it).
        _startup.release()
        if _startup.is_command_line() and _TRACKER_WARNINGS not in sys.warnoptions:
            sys.warnoptions.append(_TRACKER_WARNINGS)  # read when a pool starts
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        watchdog = _InterruptWatchdog(command)
        run, show = COMMANDS[args.command]
        try:
            report = run(args)
            # Printing is part of the command: its failures are reported
            # (and tracebacks saved) like any other, not dumped raw.
            return _print_report(args, report, show)
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            if _is_input_error(exc):
                print(f"sparselearn {command}: error: {_error_line(exc)}", file=sys.stderr)
                return EXIT_USAGE
            print(f"sparselearn {command}: internal error ({type(exc).__name__}: "
                  f"{_error_line(exc)}); this is a bug: please report it in an issue of the "
                  f"sparselearn repository with the command line and {_save_traceback(exc)}",
                  file=sys.stderr)
            return EXIT_BUG
    except KeyboardInterrupt:
        if watchdog is None or watchdog.report():
            if _debug():
                traceback.print_exc()
            else:
                _silence_teardown()
            _stop_worker_pools()
            print(f"sparselearn {command}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    finally:
        if watchdog is not None:
            watchdog.close()


def _print_report(args, report, show) -> int:
    try:
        if args.json:
            public = {key: value for key, value in report.items() if not key.startswith("_")}
            json.dump(_finite_or_none(public), sys.stdout, indent=2, default=_json_default,
                      allow_nan=False)
            print()
        else:
            show(report)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
