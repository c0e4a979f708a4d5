"""Compare sparselearn's Walsh-Hadamard transform with its peers, in one process.

Run from the repository root::

    python benchmarks/compare_fwht.py            # all rows
    python benchmarks/compare_fwht.py --quick    # fewer repeats

Peers (optional: a missing peer is skipped with a message):

- ``fht-cpu`` (``pip install fht-cpu``): ``fht_cpu.fht`` in place (SIMD
  kernels; one thread for a 1-D array), float64 and float32 at
  ``n = 16, 20, 22, 24``, against sparselearn on one thread and on every
  thread.  The same rounds time one in-place read-modify-write pass over
  the array (``np.negative(a, out=a)``, one thread), so the bandwidth limit
  of the transform, ``passes x`` that pass (``passes`` = the memory passes
  of the kernel's schedule: 1 up to ``n = 17`` in float64 / 18 in float32,
  then ``1 + ceil((n - B) / 10)``), is measured in the same run; the
  ``ours / limit`` table is a time ratio (<= 2 is the goal at ``n >= 24``).
  sparselearn's time includes the public call's finiteness check, which
  the kernel does in its last sweep (no pass of its own).

- ``pyfwht`` (``pip install pyfwht``): its CPU backend (one thread, AVX2
  when the wheel has it), in place on float64, at ``n = 20`` and ``24``.
  sparselearn is timed with one OpenMP thread (``threadpoolctl``) for the
  like-for-like ratio, and with every thread for the "both cores" column;
  pyfwht's OpenMP backend is shown for reference.
- ``boofun`` (``pip install boofun``): ``BooleanFunction.fourier()`` (its
  public spectrum call; it tries pyfwht's default backend first, then
  SciPy's Hadamard matrix for ``n <= 14``, then a Python loop) and its own
  ``boofun.core.optimizations.fast_walsh_hadamard``, at ``n = 16`` and ``20``.

Every sparselearn time is the public :func:`sparselearn.fourier.fwht` (input
validation included) on a fresh copy, in place (``out=a``); every time is the
best of several repeats.  Each row prints both ratios, ``peer/ours`` (> 1
means sparselearn is faster) and ``ours/peer`` (its inverse, < 1 means
faster), and the CPU seconds of sparselearn's best run next to its wall
time (CPU above wall: its threads ran; on a loaded machine CPU far below
wall x threads means they waited).  Results are checked against each other.
"""
import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import ThreadpoolController

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# sparselearn is imported where it is used, after the arguments are parsed:
# --help answers without loading it (3-4 s).


def best_times(candidates, prepare, repeats):
    """Best wall time of each ``run(prepare())`` over ``repeats`` rounds
    (``best_times.cpu`` then holds each best run's process CPU time).

    ``candidates`` maps a name to ``(run, threads)``; ``threads`` (or None
    for the default) is the OpenMP thread limit during that call.  Each round
    runs every candidate once, in rotating order, so a machine whose load
    changes over time slows all candidates alike; ``prepare`` is untimed.
    """
    best = {name: float("inf") for name in candidates}
    best_times.cpu = {name: float("nan") for name in candidates}
    # One scan of the loaded libraries per call, after the peers' imports
    # (threadpool_limits would rescan them before every run, a Python-heavy
    # step that also evicts the caches an in-cache transform starts from).
    controller = ThreadpoolController()
    names = list(candidates)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            run, threads = candidates[name]
            data = prepare()
            with controller.limit(limits=threads, user_api="openmp"):
                start, start_cpu = time.perf_counter(), time.process_time()
                run(data)
                wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if wall < best[name]:
                best[name], best_times.cpu[name] = wall, cpu
    return best


@contextlib.contextmanager
def silenced_stderr():
    """Silence file descriptor 2: pyfwht's default backend probes CUDA and
    prints an error from C when no GPU driver is present."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def in_place_fwht():
    """sparselearn's transform of its argument in place, the call each row
    times (imported here, once, rather than inside the timed call)."""
    from sparselearn.fourier import fwht

    def ours(a):
        fwht(a, out=a)
    return ours


def compare_pyfwht(rows, repeats):
    try:
        import pyfwht
    except ImportError:
        print("pyfwht not installed (pip install pyfwht): skipping its rows")
        return
    from sparselearn.fourier import fwht
    ours = in_place_fwht()
    for n in (20, 24):
        a = np.random.default_rng(n).standard_normal(2**n)
        check = a.copy()
        pyfwht.transform(check, pyfwht.Backend.CPU)
        np.testing.assert_allclose(fwht(a), check, rtol=1e-12, atol=1e-9 * np.abs(check).max())
        t = best_times({
            "ours1": (ours, 1),
            "ours": (ours, None),
            "cpu": (lambda x: pyfwht.transform(x, pyfwht.Backend.CPU), None),
            "omp": (lambda x: pyfwht.transform(x, pyfwht.Backend.OPENMP), None),
        }, a.copy, repeats)
        t_one, t_all, t_peer, t_peer_omp = t["ours1"], t["ours"], t["cpu"], t["omp"]
        cpu = best_times.cpu
        rows.append(("pyfwht CPU, 1 thread vs ours 1 thread", n, t_peer, t_one, cpu["ours1"]))
        rows.append((f"pyfwht CPU, 1 thread vs ours {os.cpu_count()} threads", n, t_peer, t_all,
                     cpu["ours"]))
        rows.append((f"pyfwht OpenMP vs ours {os.cpu_count()} threads", n, t_peer_omp, t_all,
                     cpu["ours"]))


def memory_passes(n, dtype):
    """Passes over memory of the kernel's schedule (sparselearn/_kernels/_fwht.pyx)."""
    block = 17 if dtype == "float64" else 18  # 1 MiB blocks
    return 1 if n <= block else 1 + -(-(n - block) // 10)


def rmw_pass(x):
    np.negative(x, out=x)


def compare_fht_cpu(rows, repeats, limits):
    try:
        import fht_cpu
    except ImportError:
        print("fht-cpu not installed (pip install fht-cpu): skipping its rows")
        return
    from sparselearn.fourier import fwht
    ours = in_place_fwht()
    for dtype in ("float64", "float32"):
        for n in (16, 20, 22, 24):
            a = np.random.default_rng(n).standard_normal(2**n).astype(dtype)
            check = fht_cpu.fht(a.copy())
            tol = 1e-12 if dtype == "float64" else 1e-5
            np.testing.assert_allclose(fwht(a), check, rtol=tol, atol=tol * np.abs(check).max())
            t = best_times({
                "ours1": (ours, 1),
                "ours": (ours, None),
                "peer": (fht_cpu.fht, None),
                "rmw": (rmw_pass, 1),
            }, a.copy, repeats)
            cpu = best_times.cpu
            rows.append((f"fht-cpu {dtype}, 1 thread vs ours 1 thread", n, t["peer"], t["ours1"],
                         cpu["ours1"]))
            rows.append((f"fht-cpu {dtype}, 1 thread vs ours {os.cpu_count()} threads", n,
                         t["peer"], t["ours"], cpu["ours"]))
            limits.append((dtype, n, memory_passes(n, dtype), t["rmw"], t["ours1"], t["ours"]))


def compare_boofun(rows, repeats):
    try:
        with warnings.catch_warnings(), silenced_stderr():
            warnings.simplefilter("ignore")
            import boofun
            from boofun.core.optimizations import fast_walsh_hadamard
    except ImportError:
        print("boofun not installed (pip install boofun): skipping its rows")
        return
    from sparselearn.fourier import fwht
    ours = in_place_fwht()
    for n in (16, 20):
        table = np.random.default_rng(n).integers(0, 2, size=2**n)
        signs = 1.0 - 2.0 * table  # boofun's {0,1} -> {+1,-1} convention
        function = boofun.create(table)

        def spectrum_call(_):  # boofun caches the spectrum; recompute it each call
            # pyfwht's default backend may print a CUDA error before boofun falls back.
            with silenced_stderr():
                return function.fourier(force_recompute=True)

        np.testing.assert_allclose(spectrum_call(None), fwht(signs) / 2**n, atol=1e-12)
        t_ours = best_times({"ours": (ours, None)}, signs.copy, repeats)["ours"]
        cpu_ours = best_times.cpu["ours"]
        # The peers run pure-Python loops (seconds); one or three runs suffice.
        t = best_times({"fourier": (spectrum_call, None),
                        "fast": (lambda x: fast_walsh_hadamard(x, normalize=False), None)},
                       signs.copy, 1 if n >= 20 else min(repeats, 3))
        t_fourier, t_fast = t["fourier"], t["fast"]
        rows.append(("boofun BooleanFunction.fourier()", n, t_fourier, t_ours, cpu_ours))
        rows.append(("boofun fast_walsh_hadamard", n, t_fast, t_ours, cpu_ours))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    rows, limits = [], []
    from sparselearn._kernels import variant
    print(f"sparselearn kernels: {variant} variant (sparselearn.show_config())")
    compare_fht_cpu(rows, repeats, limits)
    compare_pyfwht(rows, repeats)
    compare_boofun(rows, repeats)
    print(f"\nbest of {repeats} (boofun n=20: 1 run); float64 unless stated; "
          "peer/ours > 1 and ours/peer < 1: sparselearn is faster")
    print(f"{'comparison':<48} {'n':>3} {'peer ms':>10} {'ours ms':>9} {'ours cpu ms':>11} "
          f"{'peer/ours':>9} {'ours/peer':>9}")
    for label, n, peer, mine, mine_cpu in rows:
        print(f"{label:<48} {n:>3} {1e3 * peer:>10.3f} {1e3 * mine:>9.3f} "
              f"{1e3 * mine_cpu:>11.3f} {peer / mine:>9.2f} {mine / peer:>9.2f}")

    if limits:
        print("\nbandwidth limit = passes x one in-place read-modify-write pass (1 thread); "
              "ours / limit is a time ratio")
        print(f"{'dtype':<8} {'n':>3} {'passes':>6} {'pass ms':>8} {'limit ms':>9} "
              f"{'ours/limit 1 thr':>17} {f'ours/limit {os.cpu_count()} thr':>17}")
        for dtype, n, passes, t_pass, t_one, t_all in limits:
            limit = passes * t_pass
            print(f"{dtype:<8} {n:>3} {passes:>6} {1e3 * t_pass:>8.3f} {1e3 * limit:>9.3f} "
                  f"{t_one / limit:>17.2f} {t_all / limit:>17.2f}")

    from sparselearn.fourier import degree_weights, influences

    spec = np.random.default_rng(0).standard_normal(2**24)
    t = best_times({"deg": (degree_weights, None), "inf": (influences, None)},
                   lambda: spec, repeats)
    t_deg, t_inf = t["deg"], t["inf"]
    print(f"\nn=24: degree_weights {1e3 * t_deg:.1f} ms, influences {1e3 * t_inf:.1f} ms "
          "(validation included)")


if __name__ == "__main__":
    main()
