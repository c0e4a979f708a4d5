#!/usr/bin/env bash
# Quick check that every asv benchmark still runs against this checkout, then
# the HTML dashboard (asv_bench/html).  Non-interactive; exits non-zero, naming
# the benchmarks, if any benchmark (or any parameter combination) failed.
#
#     asv_bench/run_quick.sh            # from anywhere in the checkout
#     python asv_bench/dashboard.py --no-publish   # then view it (offline)
#
# Environment: PYTHON (default python3), the interpreter whose environment is
# benchmarked (asv --python=same) and which must have asv installed.
# sparselearn is taken from that environment if it imports from this checkout
# (editable install), otherwise from the in-place build in the checkout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
python=${PYTHON:-python3}
cd "$here"

# asv drops PYTHONPATH from the benchmark processes and passes ASV_PYTHONPATH
# in its place.  Import from / so the cwd does not shadow anything.
import_from() {
    (cd / && PYTHONPATH=${1:-} "$python" -c \
        'import os, sparselearn; print(os.path.dirname(os.path.dirname(os.path.realpath(sparselearn.__file__))))' \
        2>/dev/null)
}
found=$(import_from "") || true
if [[ "$found" != "$root" ]]; then
    found=$(import_from "$root") || true
    if [[ "$found" != "$root" ]]; then
        echo "run_quick.sh: cannot import sparselearn from $root with $python;" \
             "run 'pip install -e .' or build the kernels in place first" >&2
        exit 1
    fi
    export ASV_PYTHONPATH="$root"
fi

machine=$("$python" -c 'import platform; print(platform.node())')
commit=$(git -C "$root" rev-parse HEAD)

# asv publish files results under the configured branches, which must exist
# locally; a detached checkout (a CI pull-request build) has no 'main', so
# publish under HEAD through a derived configuration instead.  asv resolves
# paths from the configuration's directory, hence the absolute paths.
config="$here/asv.conf.json"
tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
"$python" - "$config" "$tmpdir/asv.conf.json" "$root" <<'EOF'
import json, os, subprocess, sys
from asv.util import load_json

config, derived, root = sys.argv[1:]
conf = load_json(config, js_comments=True)
for key in ("repo", "benchmark_dir", "env_dir", "results_dir", "html_dir"):
    conf[key] = os.path.join(os.path.dirname(config), conf[key])
missing = [b for b in conf.get("branches", ["main"])
           if subprocess.run(["git", "-C", root, "rev-parse", "--verify", "-q",
                              f"refs/heads/{b}"], capture_output=True).returncode]
if missing:
    print(f"run_quick.sh: branch(es) {', '.join(missing)} not checked out; "
          "publishing under HEAD", file=sys.stderr)
    conf["branches"] = ["HEAD"]
with open(derived, "w") as f:
    json.dump(conf, f, indent=4)
EOF
asv=("$python" -m asv)
conf=(--config "$tmpdir/asv.conf.json")

"${asv[@]}" machine --yes --machine "$machine" "${conf[@]}" </dev/null >/dev/null

# forkserver imports the suite once and forks per parameter combination;
# asv's default (a fresh interpreter importing NumPy and scikit-learn for
# each of ~180 combinations) makes the quick run several times slower.
run_status=0
"${asv[@]}" run "${conf[@]}" --python=same --quick --launch-method=forkserver \
    --machine "$machine" --set-commit-hash "$commit" --durations=10 \
    </dev/null || run_status=$?

# asv stores a failed or timed-out parameter combination as null and a
# skipped one (NotImplementedError in setup) as NaN.  Check every benchmark
# discovered in this run, so results left over from earlier runs of the same
# commit cannot hide a failure.
check_status=0
"$python" - "$machine" "$commit" <<'EOF' || check_status=$?
import glob, itertools, json, math, sys

machine, commit = sys.argv[1:]
benchmarks = json.load(open("results/benchmarks.json"))
benchmarks.pop("version", None)
runs = [d for d in map(lambda p: json.load(open(p)), glob.glob(f"results/{machine}/*.json"))
        if d.get("commit_hash") == commit
        and d.get("python") == sys.executable]  # the env asv --python=same made
if len(runs) != 1:
    sys.exit(f"run_quick.sh: expected one results file for {commit[:8]} and "
             f"{sys.executable} in results/{machine}, found {len(runs)}")
results, column = runs[0]["results"], runs[0]["result_columns"].index("result")

failed, n_run, n_skipped = [], 0, 0
for name, bench in sorted(benchmarks.items()):
    combos = [", ".join(p) for p in itertools.product(*bench["params"])] or [""]
    values = results.get(name, [None])[column]
    values = values if isinstance(values, list) else [values] * len(combos)
    for combo, value in zip(combos, values):
        if value is None:
            failed.append(f"{name}({combo})" if combo else name)
        elif isinstance(value, float) and math.isnan(value):
            n_skipped += 1
        else:
            n_run += 1
print(f"run_quick.sh: {len(benchmarks)} benchmarks, {n_run} runs ok, "
      f"{n_skipped} skipped, {len(failed)} failed")
if failed:
    sys.exit("run_quick.sh: failed benchmarks:\n  " + "\n  ".join(failed))
EOF

"${asv[@]}" publish "${conf[@]}" </dev/null
# asv's page loads its JavaScript from CDNs; point it at Debian's packaged
# copies so it works offline ('python asv_bench/dashboard.py --no-publish'
# serves it).  Without those packages the page stays online-only.
"$python" "$here/dashboard.py" --no-publish --no-serve --html "$here/html" </dev/null \
    || echo "run_quick.sh: warning: the dashboard still loads its JavaScript from CDNs" >&2

if (( run_status != 0 || check_status != 0 )); then
    echo "run_quick.sh: asv run exited with $run_status; see the failures above" >&2
    exit 1
fi
