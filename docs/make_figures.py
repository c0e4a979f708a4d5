"""Regenerate the documentation's figures in ``docs/figures`` (one explicit command).

Run from anywhere::

    python docs/make_figures.py                      # all four (several minutes)
    python docs/make_figures.py degree_profiles      # only the named ones

Each script of ``examples/`` runs with ``--out docs/figures`` (plain
``python examples/NAME.py`` writes into a temporary folder instead, so it
never touches the tracked figures).  ``--out DIR`` writes elsewhere.
"""
import argparse
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: example script -> the figure it writes.
FIGURES = {
    "degree_profiles": "degree_profiles.png",
    "rademacher_constructions": "rademacher_constructions.png",
    "generalization_gap": "generalization_gap.png",
    "pac_sample_complexity": "sample_complexity.png",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"examples to run (default: all of {', '.join(FIGURES)})")
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures"),
                        help="folder for the figures (docs/figures)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(FIGURES))
    if unknown:
        parser.error(f"unknown example {unknown[0]!r}; choose from {', '.join(FIGURES)}")
    for name in args.names or FIGURES:
        script = ROOT / "examples" / f"{name}.py"
        print(f"+ python {script.relative_to(ROOT)} --out {args.out}", flush=True)
        result = subprocess.run([sys.executable, str(script), "--out", args.out], cwd=ROOT)
        if result.returncode != 0:
            print(f"{script.name} failed (exit {result.returncode})", file=sys.stderr)
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
