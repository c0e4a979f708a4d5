"""Build script: compiles every Cython kernel under ``sparselearn/_kernels``,
once per instruction-set *variant*.

Compiler and linker flags common to all builds live in each ``.pyx`` file's
``# distutils:`` header (``-O3 -fopenmp``), so that ``cythonize -i FILE.pyx``
during development and ``pip install .`` build a kernel the same way.

Variants (run-time dispatch, :mod:`sparselearn._kernels`): on x86-64 every
kernel ``_k.pyx`` is built as ``_k`` (baseline x86-64, runs anywhere) and
``_k_v3`` (``-march=x86-64-v3``: AVX2, FMA, BMI2), and the kernels that
gain from it also as ``_k_v4`` (``-march=x86-64-v4``: AVX-512
F/BW/CD/DQ/VL; see ``VARIANT_KERNELS``), each from its own Cython
output under ``build/cython/<variant>`` (the module name differs, so the C
differs).  A variant whose flags the compiler refuses is skipped with a
message.  ``sparselearn._kernels`` imports the highest variant the CPU and OS
support; ``SPARSELEARN_CPU_VARIANT=baseline`` (or ``x86-64-v3``) forces a
lower one.  Elsewhere (ARM, ...) only the baseline is built.  ``_cpu.pyx``,
which decides, is baseline only.

``SPARSELEARN_NATIVE=1`` adds ``-march=native`` to the baseline build (a
local build for this machine only); ``SPARSELEARN_VARIANTS=baseline`` builds
the baseline alone (faster development builds).
"""
import os
import platform
import sys
import tempfile
from glob import glob

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}
# (variant name, module suffix, compiler flags); the names match
# sparselearn._kernels.VARIANTS.  -ffp-contract=off: no FMA contraction, so
# every variant rounds exactly as the baseline (the exact-decision bounds and
# the error-free products of _exact.pxd are written for that arithmetic).
X86_VARIANTS = [
    ("x86-64-v3", "_v3", ["-march=x86-64-v3", "-ffp-contract=off"]),
    ("x86-64-v4", "_v4", ["-march=x86-64-v4", "-ffp-contract=off"]),
]
# Kernels built for a variant (None: all).  Measured one thread, in one
# process, on a Sapphire Rapids core (AVX-512): the x86-64-v4 build is the
# fastest fwht (1.2-1.5x the v3 build) and parity product, but the Gray-code
# walks and the network kernels run no faster than baseline in it while the
# v3 build runs them 1.1-1.6x faster; so only the first two get a v4 build
# and the others load their v3 build on an AVX-512 machine (a kernel loads
# the highest variant built for it, up to the selected one).
VARIANT_KERNELS = {"x86-64-v3": None, "x86-64-v4": ("_fwht", "_parity")}
DISPATCHER = "_cpu"


def is_x86_64():
    return platform.machine().lower() in ("x86_64", "amd64") and sys.maxsize > 2**32


def kernel_sources():
    return sorted(glob(os.path.join("sparselearn", "_kernels", "*.pyx")))


def module_name(path, suffix=""):
    return path[:-len(".pyx")].replace(os.sep, ".") + suffix


def extensions():
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    native = ["-march=native"] if os.environ.get("SPARSELEARN_NATIVE") == "1" else []
    sources = kernel_sources()
    result = cythonize(
        [Extension(module_name(p), [p], extra_compile_args=native, define_macros=macros)
         for p in sources],
        compiler_directives=DIRECTIVES, nthreads=os.cpu_count() or 1)
    wanted = os.environ.get("SPARSELEARN_VARIANTS", "all")
    if not is_x86_64() or wanted == "baseline":
        return result
    kernels = [p for p in sources if os.path.basename(p) != DISPATCHER + ".pyx"]
    for variant, suffix, flags in X86_VARIANTS:
        only = VARIANT_KERNELS[variant]
        exts = [Extension(module_name(p, suffix), [p], extra_compile_args=list(flags),
                          define_macros=macros) for p in kernels
                if only is None or os.path.basename(p)[:-len(".pyx")] in only]
        for ext in exts:
            ext.sparselearn_variant = variant
        # Its own build_dir: the generated C names the module, so it differs.
        built = cythonize(exts, compiler_directives=DIRECTIVES, nthreads=os.cpu_count() or 1,
                          build_dir=os.path.join("build", "cython", variant))
        for ext in built:  # Cython's cached header flags leak the previous variant's -march
            ext.extra_compile_args = [a for a in ext.extra_compile_args
                                      if not a.startswith("-march=")] + list(flags)
        result += built
    return result


class BuildExt(build_ext):
    """Skips the variants whose ``-march`` flag the compiler refuses."""

    def _accepts(self, flags):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write("int probe(void) { return 0; }\n")
            try:
                self.compiler.compile([src], output_dir=tmp, extra_postargs=flags)
            except Exception:
                return False
        return True

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:  # compile the variants on every core
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        verdict = {}
        kept = []
        for ext in self.extensions:
            variant = getattr(ext, "sparselearn_variant", None)
            if variant is not None:
                if variant not in verdict:
                    flags = dict((v, f) for v, _, f in X86_VARIANTS)[variant]
                    verdict[variant] = self._accepts(flags)
                    if not verdict[variant]:
                        print(f"sparselearn: the compiler refuses {flags}; "
                              f"not building the {variant} kernels")
                if not verdict[variant]:
                    continue
            kept.append(ext)
        self.extensions = kept
        super().build_extensions()


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
