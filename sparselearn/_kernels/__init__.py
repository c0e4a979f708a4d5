"""Compiled Cython kernels, dispatched at import to the best instruction set.

Every function here trusts its arguments (bounds checks are off): shapes,
dtypes, contiguity and index ranges are validated by the public Python layer
before a call.  Each kernel has a plain NumPy twin in
:mod:`sparselearn._reference`, used by the tests and benchmarks as the
reference.

Run-time dispatch.  ``setup.py`` builds each kernel module ``_k`` once per
*variant*: ``_k`` for baseline x86-64 (or whatever the platform's default
is), ``_k_v3`` for ``x86-64-v3`` (AVX2 + FMA) and ``_k_v4`` for
``x86-64-v4`` (AVX-512, the kernels that gain from it), the latter two on
x86-64 only.  On import this
package asks :func:`sparselearn._kernels._cpu.x86_level` what the CPU and
the operating system support, selects the highest variant that is supported
and built, and binds ``sparselearn._kernels._k`` (the attribute and the
``sys.modules`` entry) to the highest build of ``_k`` at or below it (not
every kernel has a ``_v4`` build: ``setup.py`` says which gain from it), so
``from sparselearn._kernels import _cube`` needs no change.  The
environment variable ``SPARSELEARN_CPU_VARIANT`` (``baseline``,
``x86-64-v3``, ``x86-64-v4``) asks for a given variant, for tests and
benchmarks; a variant the machine cannot run, or that was not built, falls
back to the best usable one with a :class:`RuntimeWarning`.
:func:`sparselearn.show_config` reports the choice.
"""
import importlib
import importlib.machinery
import os
import sys
import warnings

from . import _cpu

#: Variants from lowest to highest: (name, module suffix, required x86 level).
VARIANTS = (("baseline", "", 0), ("x86-64-v3", "_v3", 3), ("x86-64-v4", "_v4", 4))
ENV_VAR = "SPARSELEARN_CPU_VARIANT"
_ALIASES = {"v3": "x86-64-v3", "avx2": "x86-64-v3", "v4": "x86-64-v4", "avx512": "x86-64-v4"}


def _built_modules():
    """Names of the extension modules present in this folder."""
    names = set()
    for entry in os.listdir(os.path.dirname(os.path.abspath(__file__))):
        if any(entry.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES):
            names.add(entry.split(".", 1)[0])
    return names


def _kernel_names(built):
    suffixes = [s for _, s, _ in VARIANTS if s]
    return sorted(name for name in built if name != "_cpu"
                  and not any(name.endswith(s) for s in suffixes))


def _usable(level, kernels, built):
    """Variant names the CPU supports and at least one kernel has been built for."""
    return [name for name, suffix, need in VARIANTS
            if level >= need and (not suffix or any(k + suffix in built for k in kernels))]


def _module_name(kernel, variant, built):
    """The highest build of ``kernel`` at or below ``variant``."""
    names = [name for name, _, _ in VARIANTS]
    for _, suffix, _ in reversed(VARIANTS[:names.index(variant) + 1]):
        if kernel + suffix in built:
            return kernel + suffix
    raise ImportError(f"sparselearn._kernels.{kernel} has no baseline build")


def _choose(usable, requested):
    if requested is None or requested == "":
        return usable[-1]
    requested = _ALIASES.get(requested.lower(), requested.lower())
    known = [name for name, _, _ in VARIANTS]
    if requested not in known:
        raise ImportError(f"{ENV_VAR}={requested!r} is not a variant; use one of {known}")
    if requested not in usable:
        warnings.warn(f"{ENV_VAR}={requested!r} cannot run here (this machine can run "
                      f"{usable}); using {usable[-1]!r}", RuntimeWarning, stacklevel=2)
        return usable[-1]
    return requested


x86_level = _cpu.x86_level()
_built = _built_modules()
KERNELS = tuple(_kernel_names(_built))
#: Variants this machine could run (supported and built), lowest first.
usable_variants = tuple(_usable(x86_level, KERNELS, _built))
#: The variant the kernels below were loaded from.
variant = _choose(list(usable_variants), os.environ.get(ENV_VAR))

for _name in KERNELS:
    _module = importlib.import_module(f"{__name__}.{_module_name(_name, variant, _built)}")
    globals()[_name] = _module
    sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module
