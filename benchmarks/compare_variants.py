"""Time the hot kernels under every instruction-set variant this machine runs.

Run from the repository root::

    python benchmarks/compare_variants.py            # all rows
    python benchmarks/compare_variants.py --quick    # fewer repeats

Each usable variant (``sparselearn.show_config()``: baseline, x86-64-v3,
x86-64-v4) is loaded in its own subprocess (``SPARSELEARN_CPU_VARIANT``),
which times the public calls, best of several repeats in three rounds
that alternate between the variants, with every OpenMP
thread: the walks ``cube.activation_histogram`` (Gray code) and
``cube.truth_table`` of a random network (``n = 20, 22``, ``s = 256``) and
``fourier.fwht`` in place (float64, ``n = 20, 24``).  The ratio is the
baseline time / the variant's time (> 1: the variant is faster); the
default variant is the one ``pip install .`` loads with no environment
variable.  Results are checked to be identical across variants.
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import hashlib, json, sys, time
import numpy as np
import sparselearn._kernels as K
from sparselearn import SparseReLUNetwork, cube
from sparselearn.fourier import fwht
repeats = int(sys.argv[1])
def best(run, prepare=lambda: None):
    t = float("inf")
    for _ in range(repeats):
        data = prepare()
        start = time.perf_counter()
        out = run(data)
        t = min(t, time.perf_counter() - start)
    return t, out
rows = {}
for n in (20, 22):
    rng = np.random.default_rng(n)
    s = 256
    net = SparseReLUNetwork(rng.standard_normal((s, n)), rng.standard_normal(s),
                            rng.standard_normal(s))
    t, h = best(lambda _: cube.activation_histogram(net))
    rows[f"cube.activation_histogram n={n} s={s}"] = (t, hashlib.sha1(np.asarray(h).tobytes()).hexdigest())
    t, tt = best(lambda _: cube.truth_table(net))
    rows[f"cube.truth_table n={n} s={s}"] = (t, hashlib.sha1(np.asarray(tt).tobytes()).hexdigest())
for n in (20, 24):
    a = np.random.default_rng(n).standard_normal(2**n)
    t, out = best(lambda x: fwht(x, out=x), a.copy)
    rows[f"fourier.fwht float64 n={n}"] = (t, hashlib.sha1(out.tobytes()).hexdigest())
print(json.dumps({"variant": K.variant, "rows": rows}))
"""


def run_variant(variant, repeats):
    env = dict(os.environ, SPARSELEARN_CPU_VARIANT=variant)
    out = subprocess.run([sys.executable, "-c", CHILD, str(repeats)], env=env, text=True,
                         capture_output=True, check=True,
                         cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["variant"] == variant, result["variant"]
    return result["rows"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import sparselearn._kernels as K
    print(f"usable variants: {list(K.usable_variants)}; default: {K.variant}; "
          f"{os.cpu_count()} threads; best of {repeats}")
    # Rounds alternate between the variants, so a machine whose load changes
    # slows all of them alike; each figure is the best over every round.
    results = {}
    for _ in range(3):
        for v in K.usable_variants:
            rows = run_variant(v, repeats)
            if v not in results:
                results[v] = rows
            else:
                results[v] = {k: (min(results[v][k][0], t), d) for k, (t, d) in rows.items()}
    base = results["baseline"]
    header = f"{'call':<40}" + "".join(f" {v + ' ms':>14} {'ratio':>6}" for v in results)
    print(header)
    for name, (t_base, digest) in base.items():
        line = f"{name:<40}"
        for v, rows in results.items():
            t, d = rows[name]
            if d != digest:
                raise AssertionError(f"{name}: {v} differs from baseline")
            line += f" {1e3 * t:>14.2f} {t_base / t:>6.2f}"
        print(line)
    print("results identical across variants")


if __name__ == "__main__":
    main()
