"""Run-time dispatch of the compiled kernels (sparselearn._kernels).

The main test run uses the variant chosen on import (the best one the
machine supports).  Every other usable variant is run here, in a subprocess
with ``SPARSELEARN_CPU_VARIANT`` set, on the kernel-against-twin tests of
the kernel modules' test files (with the "variant" hypothesis profile:
fewer examples, the main run already made the full number).
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import decimal, exact_active, tie_networks
from threadpoolctl import threadpool_limits

import sparselearn
from sparselearn import _kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The kernel-level twin tests, one or more per kernel module.
TWIN_KEYWORDS = [
    "fwht_kernel_equals_numpy_twin", "panel_pass_sizes", "spectral_kernels_equal",  # _fwht, _spectral
    "kernels_equal_numpy_twins",                                                     # _network
    "parity_kernels_equal_numpy_twins", "parity_levels_equals_twin",                 # _parity
    "quadratic_normal_equals_twin", "parity_levels_on_real_rows",
    "ranked_supports_equal_twin", "capped_output_and_backward_equal",               # _sparse_backprop
    "adam_step_equals_twin", "fused_supports_equal_twin", "backward_touched_equals",
    "activation_histogram_equals_brute", "truth_table_equals_brute",                 # _cube
    "walks_with_many_chunks", "walks_on_general_floats", "certified_sparsity_equals_brute",
    "truth_table_values_are_as_accurate", "truth_table_gating_on_near_ties",
    "long_accumulator_carries",
    "identical_for_any_thread_count",                                                # _cube threads
    "moment_kernels_equal_numpy_twins", "cholesky_kernel_equals_numpy_twin",         # _moments, _cholesky
    "cho_solve_kernel_equals_numpy_twin",
    "scatter_moments_runs_equal_numpy_twin",
]
TWIN_TESTS = " or ".join(TWIN_KEYWORDS)
TWIN_FILES = ["tests/test_fourier.py", "tests/test_network.py", "tests/test_parities.py",
              "tests/test_gram.py", "tests/test_solvers.py", "tests/test_erm.py",
              "tests/test_cube.py"]


def test_every_twin_keyword_names_a_test_of_the_twin_files():
    """A twin test moved to a file not listed (or renamed) would silently drop
    out of the per-variant runs: each keyword must match a test there."""
    text = "".join(open(os.path.join(ROOT, f), encoding="utf-8").read() for f in TWIN_FILES)
    names = re.findall(r"^def (test_\w+)", text, re.M)
    for keyword in TWIN_KEYWORDS:
        assert any(keyword in name for name in names), keyword


def run_python(code, variant=None, check=True):
    env = dict(os.environ)
    env.pop(_kernels.ENV_VAR, None)
    if variant is not None:
        env[_kernels.ENV_VAR] = variant
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def config_in_subprocess(variant=None):
    code = "import json, sparselearn; print(json.dumps(sparselearn.show_config(mode='dicts')))"
    return json.loads(run_python(code, variant).stdout.splitlines()[-1])


def test_every_kernel_module_is_dispatched():
    assert set(_kernels.KERNELS) >= {"_cholesky", "_cube", "_fwht", "_moments", "_network",
                                     "_parity", "_sparse_backprop", "_spectral"}
    suffixes = [suffix for _, suffix, _ in _kernels.VARIANTS]
    chosen = [name for name, _, _ in _kernels.VARIANTS].index(_kernels.variant)
    for name in _kernels.KERNELS:
        module = sys.modules[f"sparselearn._kernels.{name}"]
        assert module is getattr(_kernels, name)
        # The highest build of this kernel at or below the chosen variant.
        expected = next(name + s for s in reversed(suffixes[:chosen + 1])
                        if name + s in _kernels._built)
        assert module.__name__ == f"sparselearn._kernels.{expected}"
    if _kernels.variant != "baseline":  # some kernel really is the chosen build
        assert any(getattr(_kernels, k).__name__.endswith(suffixes[chosen])
                   for k in _kernels.KERNELS)


def test_default_is_the_best_usable_variant():
    info = config_in_subprocess()
    assert info["variant"] == info["usable_variants"][-1]
    assert info["usable_variants"][0] == "baseline"
    if info["x86_level"] >= 3:  # x86-64 builds all variants (setup.py)
        assert "x86-64-v3" in info["usable_variants"]
    if info["x86_level"] >= 4:
        assert "x86-64-v4" in info["usable_variants"]


def test_x86_level_matches_the_cpu_flags():
    if not os.path.exists("/proc/cpuinfo") or _kernels.x86_level == 0:
        pytest.skip("needs Linux on x86-64")
    with open("/proc/cpuinfo") as f:
        flags = set(next(line for line in f if line.startswith("flags")).split(":")[1].split())
    v3 = {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "sse4_2", "popcnt"}
    v4 = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
    expected = 4 if (v3 | v4) <= flags else 3 if v3 <= flags else 1
    assert _kernels.x86_level == expected


def test_forcing_a_variant_and_refusals():
    info = config_in_subprocess("baseline")
    assert info["variant"] == "baseline"
    assert all("_v3" not in k and "_v4" not in k for k in info["kernels"])
    out = run_python("import sparselearn._kernels", "no-such-isa", check=False)
    assert out.returncode != 0 and "is not a variant" in out.stderr
    if "x86-64-v4" not in _kernels.usable_variants:  # asking for more than the CPU has
        out = run_python("import sparselearn._kernels; print(sparselearn._kernels.variant)",
                         "x86-64-v4")
        assert out.stdout.split()[-1] == _kernels.usable_variants[-1]
        assert "cannot run here" in out.stderr


def test_show_config_prints_the_variant(capsys):
    assert sparselearn.show_config() is None
    assert f"variant          {_kernels.variant}" in capsys.readouterr().out
    with pytest.raises(ValueError, match="mode"):
        sparselearn.show_config(mode="json")


def test_every_other_variant_kernels_equal_numpy_twins():
    others = [v for v in _kernels.usable_variants if v != _kernels.variant]
    if not others:
        pytest.skip("this machine runs one variant only; the main run tests it")
    env = dict(os.environ, SPARSELEARN_HYPOTHESIS_PROFILE="variant")
    code = ("import sys, pytest, sparselearn._kernels as k\n"
            "assert k.variant == sys.argv[1], k.variant\n"
            "sys.exit(pytest.main(sys.argv[2:]))")
    args = ["-q", "-p", "no:cacheprovider", "-k", TWIN_TESTS, *TWIN_FILES]
    # One subprocess per variant, run concurrently (the examples are small).
    procs = {v: subprocess.Popen([sys.executable, "-c", code, v, *args],
                                 env=dict(env, **{_kernels.ENV_VAR: v}), cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for v in others}
    for variant, proc in procs.items():
        output = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0, f"{variant}:\n{output[-4000:]}"
        assert " passed" in output and " failed" not in output, output[-2000:]


# ------------------------------------- one parallel region per call (issue 14)
@settings(max_examples=25, deadline=None)
@given(tie_networks(), st.data())
def test_one_region_kernels_equal_the_chunk_kernels_for_any_blocks_and_threads(net, data):
    """``forward_rows``, ``count_rows`` and ``supports_rows`` compute their own
    products in blocks inside one OpenMP region; their decisions must be the
    exact ones (tie networks: near-ties are frequent) for every block size,
    and their results must not depend on the thread count."""
    from sparselearn._kernels import _network
    from sparselearn.network import _one_thread_blas
    n, m = net.n_features, data.draw(st.integers(1, 40))
    X = data.draw(arrays(np.float64, (m, n), elements=decimal, fill=st.nothing()))
    args = net._decision_args(X)
    active = exact_active(X, net.weights, net.biases)
    results = []
    for block_rows in (1, 3, 16):
        for threads in (1, 2):
            counts, supports_counts, out = (np.empty(m, dtype=np.int64),
                                            np.empty(m, dtype=np.int64), np.empty(m))
            with threadpool_limits(limits=threads, user_api="openmp"), _one_thread_blas():
                _network.count_rows(X, *args, counts, block_rows, threads)
                indices = _network.supports_rows(X, *args, supports_counts, block_rows,
                                                 threads)
                _network.forward_rows(X, *args, net.output_weights, out, block_rows, threads)
            np.testing.assert_array_equal(counts, active.sum(axis=1))
            np.testing.assert_array_equal(supports_counts, counts)
            np.testing.assert_array_equal(indices, np.nonzero(active)[1])
            # Values: exactly inactive units contribute nothing; the rest is
            # the chunk kernel's sum up to the products' rounding.
            expected = np.where(active, X @ net.weights.T - net.biases, 0.0) @ net.output_weights
            magnitude = (np.abs(X) @ np.abs(net.weights).T + np.abs(net.biases)) @ np.abs(
                net.output_weights) + 1.0
            assert np.all(np.abs(out - expected) <= 1e-12 * magnitude)
            np.testing.assert_array_equal(out[~active.any(axis=1)], 0.0)
            results.append((block_rows, out))
    for (block_a, out_a), (block_b, out_b) in zip(results[::2], results[1::2]):
        np.testing.assert_array_equal(out_a, out_b)  # same blocks, 1 vs 2 threads
    # And the NumPy twins (an independent band-and-Fraction decision).
    from sparselearn._reference import network as twin
    np.testing.assert_array_equal(twin.count_rows(X, net.weights, net.biases), counts)
    twin_counts, twin_indices = twin.supports_rows(X, net.weights, net.biases)
    np.testing.assert_array_equal(twin_counts, counts)
    np.testing.assert_array_equal(twin_indices, indices)
    np.testing.assert_allclose(twin.forward_rows(X, net.weights, net.biases, net.output_weights),
                               out, rtol=0, atol=1e-12 * float(magnitude.max()))
    # No rows: nothing written, nothing returned.
    empty = np.empty((0, n))
    assert _network.supports_rows(empty, *net._decision_args(empty),
                                  np.empty(0, dtype=np.int64), 4, 0).shape == (0,)


def test_overlapping_calls_from_python_threads_restore_the_blas_threads():
    """The one-region kernels hold BLAS to one thread (a process-wide
    setting) during a call; calls overlapping in several Python threads must
    leave it as it was, and still give the same counts."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    from sparselearn import SparseReLUNetwork
    rng = np.random.default_rng(0)
    net = SparseReLUNetwork(rng.normal(size=(512, 32)), rng.normal(size=512),
                            rng.normal(size=512))
    X = rng.normal(size=(3000, 32))

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before, expected = blas_threads(), net.activation_counts(X)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: net.activation_counts(X), range(24)))
    assert blas_threads() == before
    for counts in results:
        np.testing.assert_array_equal(counts, expected)
