"""Build script: compiles every Cython kernel under ``sparselearn/_kernels``.

Compiler and linker flags live in each ``.pyx`` file's ``# distutils:`` header
(``-O3 -fopenmp``), so that ``cythonize -i FILE.pyx`` during development and
``pip install .`` build a kernel the same way.  ``-march=native`` is never
used by default: a wheel must run on any x86-64 machine.  Set
``SPARSELEARN_NATIVE=1`` to add it for a local build.
"""
import os
from glob import glob

from Cython.Build import cythonize
from setuptools import Extension, setup

native = ["-march=native"] if os.environ.get("SPARSELEARN_NATIVE") == "1" else []

extensions = [
    Extension(
        path[:-len(".pyx")].replace(os.sep, "."),
        [path],
        extra_compile_args=native,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for path in sorted(glob(os.path.join("sparselearn", "_kernels", "*.pyx")))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
