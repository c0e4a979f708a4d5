"""The ``sparselearn`` command line (also ``python -m sparselearn``).

Each sub-command is a function ``_cmd_NAME(args) -> dict`` that does the
work and returns a JSON-serialisable report; :func:`main` parses the flags,
prints the report (as text, or as JSON with ``--json``) and turns every
anticipated error (bad flags, bad files, oversize requests) into one line on
stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from . import __version__

# Exit codes: 0 success, 2 bad usage or input (argparse's own convention).
EXIT_USAGE = 2


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


def _format_histogram(histogram: np.ndarray) -> str:
    nonzero = np.flatnonzero(histogram)
    return ", ".join(f"{c}: {int(histogram[c])}" for c in nonzero)


# ---------------------------------------------------------------- commands
def _cmd_demo(args) -> dict:
    from . import cube, targets

    report = {"command": "demo", "n": args.n, "width": args.width,
              "sparsity": args.sparsity, "seed": args.seed}
    t0 = time.perf_counter()
    net = targets.bump_network(args.n, args.width, args.sparsity, random_state=args.seed)
    report["radius"] = int((args.n - 1 - net.biases[0]) // 2)
    report["norm_bounds"] = dict(zip(("W", "B"), net.norm_bounds()))
    report["build_seconds"] = time.perf_counter() - t0

    _say(args, f"certifying sparsity of a width-{args.width} network on {{-1,1}}^{args.n} ...")
    certificate = cube.certify_sparsity(net)
    report["certified_sparsity"] = certificate.max_active
    report["witness_index"] = certificate.witness_index
    report["certify_nodes"] = certificate.n_nodes
    report["certify_seconds"] = certificate.elapsed
    if args.n <= 22:
        histogram = cube.activation_histogram(net)
        report["activation_histogram"] = histogram.tolist()
        report["mean_active"] = float(histogram @ np.arange(histogram.size) / histogram.sum())
    return report


def _print_demo(report: dict) -> None:
    print("sparselearn demo: a k-sparse oracle network on the cube")
    print(f"  target      bump network, n={report['n']}, width s={report['width']}, "
          f"k={report['sparsity']} groups, Hamming radius {report['radius']}, "
          f"seed {report['seed']}")
    print(f"  norms       W={report['norm_bounds']['W']:.4g}, "
          f"B={report['norm_bounds']['B']:.4g}")
    print(f"  certified   max |A(x)| over all 2^{report['n']} points = "
          f"{report['certified_sparsity']} (witness index {report['witness_index']}, "
          f"{report['certify_nodes']} subcubes, {report['certify_seconds']:.2f} s)")
    if "activation_histogram" in report:
        histogram = np.asarray(report["activation_histogram"])
        print(f"  histogram   points by active count {{{_format_histogram(histogram)}}}; "
              f"mean {report['mean_active']:.4f}")


def _cmd_certify(args) -> dict:
    from . import cube

    net = _load_network(args.network)
    report = {"command": "certify", "network": str(args.network), "n": net.n_features,
              "width": net.width}
    try:
        certificate = cube.certify_sparsity(net, time_limit=args.time_limit)
    except cube.CertificationIncomplete as exc:
        raise CommandError(f"not certified within --time-limit {args.time_limit} s: the "
                           f"sparsity is at least {exc.lower_bound}; raise the limit") from None
    report.update(certified_sparsity=certificate.max_active,
                  witness=certificate.witness.astype(int).tolist(),
                  nodes=certificate.n_nodes, seconds=certificate.elapsed)
    if net.n_features <= args.histogram_max_n:
        report["activation_histogram"] = cube.activation_histogram(net).tolist()
    return report


def _print_certify(report: dict) -> None:
    print(f"{report['network']}: width {report['width']} on {{-1,1}}^{report['n']}")
    print(f"  certified sparsity  {report['certified_sparsity']} "
          f"({report['nodes']} subcubes, {report['seconds']:.2f} s)")
    print(f"  witness             {report['witness']}")
    if "activation_histogram" in report:
        histogram = np.asarray(report["activation_histogram"])
        print(f"  histogram           {{{_format_histogram(histogram)}}}")


def _cmd_bounds(args) -> dict:
    import dataclasses
    import math

    from . import rademacher

    radius = math.sqrt(args.n) if args.R is None else args.R
    result = rademacher.bounds(n=args.n, s=args.width, k=args.sparsity, W=args.W,
                               B=args.B, R=radius, m=args.samples)
    report = {"command": "bounds", **dataclasses.asdict(result),
              "conditions": result.conditions, "best_upper": result.best_upper,
              "best_lower": result.best_lower}
    report["rows"] = [dataclasses.asdict(row) for row in result.rows]
    report["_table"] = str(result)
    return report


def _print_bounds(report: dict) -> None:
    print(report["_table"])


def _read_table(path) -> np.ndarray:
    """A numeric 2-D table from CSV (optional header row) or ``.npy``."""
    import os

    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    if str(path).endswith(".npy"):
        try:
            table = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise CommandError(f"{path}: not a plain numeric .npy array ({exc})") from None
    else:
        try:
            table = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            try:  # a header row
                table = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
            except ValueError as exc:
                raise CommandError(f"{path}: not a numeric CSV table ({exc})") from None
    if table.ndim != 2 or table.shape[0] == 0:
        raise CommandError(f"{path}: expected a non-empty 2-D table, got shape {table.shape}")
    return table


def _read_data(path, n_features=None):
    """``(X, y)`` from DATA; ``y`` is ``None`` when the file has no labels.

    ``.npz``: arrays ``X`` (and ``y``), loaded with ``allow_pickle=False``.
    CSV or ``.npy``: a table whose last column is ``y`` -- for prediction,
    only when it has ``n_features + 1`` columns.
    """
    if str(path).endswith(".npz"):
        import os
        import zipfile

        if not os.path.exists(path) or not zipfile.is_zipfile(path):
            raise CommandError(f"{path}: not a readable .npz archive")
        try:
            with np.load(path, allow_pickle=False) as archive:
                if "X" not in archive.files:
                    raise CommandError(f"{path}: the archive needs an array named X "
                                       f"(it holds {archive.files})")
                X = archive["X"]
                y = archive["y"] if "y" in archive.files else None
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from None
        return X, y
    table = _read_table(path)
    if n_features is None or table.shape[1] == n_features + 1:
        if table.shape[1] < 2:
            raise CommandError(f"{path}: needs at least two columns (features, then y)")
        return table[:, :-1], table[:, -1]
    return table, None


def _cmd_learn(args) -> dict:
    from .learners import LowDegreeRegressor

    X, y = _read_data(args.data)
    if y is None:
        raise CommandError(f"{args.data}: no labels; learning needs y (array y in an "
                           ".npz, or the last column of a table)")
    model = LowDegreeRegressor(degree=args.degree, max_degree=args.max_degree,
                               solver=args.solver, input_encoding=args.encoding,
                               random_state=args.seed)
    _say(args, f"fitting a low-degree model on {X.shape[0]} samples, n={X.shape[1]} ...")
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    residual = model.predict(X) - np.asarray(y, dtype=np.float64)
    largest = sorted(model.fourier_coefficients_.items(), key=lambda item: -abs(item[1]))
    report = {"command": "learn", "data": str(args.data), "n_samples": int(X.shape[0]),
              "n_features": int(X.shape[1]), "degree": int(model.degree_),
              "n_parities": int(model.coef_.size), "n_iter": int(model.n_iter_),
              "train_mse": float(np.mean(residual**2)), "fit_seconds": seconds,
              "top_coefficients": [{"subset": list(S), "coefficient": c}
                                   for S, c in largest[:10]]}
    if model.cv_results_ is not None:
        report["cv_mean_test_mse"] = {int(d): float(e) for d, e in
                                      zip(model.cv_results_["degree"],
                                          model.cv_results_["mean_test_mse"])}
    if args.out:
        model.save(args.out)
        report["model"] = str(args.out)
    return report


def _print_learn(report: dict) -> None:
    print(f"learned a degree-{report['degree']} model on {report['n_samples']} samples, "
          f"n={report['n_features']} ({report['n_parities']} parities, "
          f"{report['n_iter']} solver iterations, {report['fit_seconds']:.2f} s)")
    print(f"  training MSE  {report['train_mse']:.6g}")
    if "cv_mean_test_mse" in report:
        curve = ", ".join(f"d={d}: {e:.4g}" for d, e in report["cv_mean_test_mse"].items())
        print(f"  validation    {curve}")
    print("  largest coefficients:")
    for row in report["top_coefficients"]:
        subset = "{" + ", ".join(map(str, row["subset"])) + "}"
        print(f"    {subset:<20} {row['coefficient']:+.6g}")
    if "model" in report:
        print(f"  saved to {report['model']}")


def _cmd_predict(args) -> dict:
    from .learners import LowDegreeRegressor

    model = LowDegreeRegressor.load(args.model)
    X, y = _read_data(args.data, n_features=model.n_features_in_)
    predictions = model.predict(X)
    report = {"command": "predict", "model": str(args.model), "data": str(args.data),
              "n_samples": int(X.shape[0])}
    if y is not None:
        report["mse"] = float(np.mean((predictions - np.asarray(y, dtype=np.float64))**2))
    if args.out:
        if str(args.out).endswith(".npy"):
            np.save(args.out, predictions)
        else:
            np.savetxt(args.out, predictions, delimiter=",", fmt="%.17g")
        report["out"] = str(args.out)
    else:
        report["predictions"] = predictions.tolist()
    return report


def _print_predict(report: dict) -> None:
    if "predictions" in report:
        for value in report["predictions"]:
            print(f"{value:.17g}")
    else:
        print(f"wrote {report['n_samples']} predictions to {report['out']}")
    if "mse" in report:
        print(f"mean squared error against the labels in {report['data']}: "
              f"{report['mse']:.6g}", file=sys.stderr)


COMMANDS = {
    "demo": (_cmd_demo, _print_demo),
    "certify": (_cmd_certify, _print_certify),
    "bounds": (_cmd_bounds, _print_bounds),
    "learn": (_cmd_learn, _print_learn),
    "predict": (_cmd_predict, _print_predict),
}


# ------------------------------------------------------------------ parser
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sparselearn`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true",
                        help="print the report as JSON on stdout")
    common.add_argument("--quiet", action="store_true",
                        help="no progress output on stderr")

    parser = argparse.ArgumentParser(
        prog="sparselearn",
        description="Sparsely activated ReLU networks: build, certify, learn, verify.")
    parser.add_argument("--version", action="version", version=f"sparselearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", parents=[common],
                          help="build a k-sparse target, certify it, report")
    demo.add_argument("--n", type=_positive_int, default=20, help="input dimension (20)")
    demo.add_argument("--width", type=_positive_int, default=64, help="width s (64)")
    demo.add_argument("--sparsity", type=_positive_int, default=2, help="sparsity k (2)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")

    certify = sub.add_parser("certify", parents=[common],
                             help="exact sparsity of a saved network on the cube")
    certify.add_argument("network", help="a network saved with SparseReLUNetwork.save (.npz)")
    certify.add_argument("--time-limit", type=_positive_float, default=None,
                         help="give up after this many seconds")
    certify.add_argument("--histogram-max-n", type=int, default=22,
                         help="also print the activation histogram when n <= this (22)")
    learn = sub.add_parser("learn", parents=[common],
                           help="fit a LowDegreeRegressor to DATA (CSV, .npy, .npz)")
    learn.add_argument("data", help="CSV or .npy table with y in the last column, or "
                                    ".npz with arrays X and y")
    learn.add_argument("--degree", type=int, default=None,
                       help="degree d (default: chosen by validation)")
    learn.add_argument("--max-degree", type=int, default=4,
                       help="largest degree tried when --degree is not given (4)")
    learn.add_argument("--solver", choices=("auto", "lmn", "cg", "exact"), default="auto")
    learn.add_argument("--encoding", choices=("pm1", "01"), default="pm1",
                       help="inputs are +-1 (pm1, default) or 0/1 (01)")
    learn.add_argument("--seed", type=int, default=0, help="seed of the validation folds")
    learn.add_argument("--out", help="save the model here (.npz)")

    predict = sub.add_parser("predict", parents=[common],
                             help="predict DATA with a model saved by 'learn --out'")
    predict.add_argument("model", help="a model saved by 'sparselearn learn --out'")
    predict.add_argument("data", help="CSV/.npy table of points (an extra last column "
                                      "is read as labels) or .npz with X (and y)")
    predict.add_argument("--out", help="write predictions here (.csv or .npy) instead "
                                       "of printing them")

    bounds = sub.add_parser("bounds", parents=[common],
                            help="THEORY.md's Rademacher bounds for given parameters")
    bounds.add_argument("--n", type=_positive_int, required=True, help="input dimension")
    bounds.add_argument("--width", type=_positive_int, required=True, help="width s")
    bounds.add_argument("--sparsity", type=_positive_int, required=True, help="sparsity k")
    bounds.add_argument("--samples", type=_positive_int, required=True, help="sample size m")
    bounds.add_argument("--W", type=float, default=1.0, help="weight bound W (1)")
    bounds.add_argument("--B", type=float, default=1.0, help="bias bound B (1)")
    bounds.add_argument("--R", type=float, default=None,
                        help="input radius R (default sqrt(n), the cube's)")
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


def _strict_json(value):
    """Replace NaN and infinities (not valid JSON) by ``None``, recursively."""
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(item) for item in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def main(argv=None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run, show = COMMANDS[args.command]
    try:
        report = run(args)
    except CommandError as exc:
        print(f"sparselearn {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError, OSError) as exc:
        # Library validation errors name the argument; show them as one line.
        print(f"sparselearn {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        public = {key: value for key, value in report.items() if not key.startswith("_")}
        json.dump(_strict_json(public), sys.stdout, indent=2, default=_json_default,
                  allow_nan=False)
        print()
    else:
        show(report)
    return 0
