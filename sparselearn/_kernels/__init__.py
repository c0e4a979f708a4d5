"""Compiled Cython kernels.

Every function here trusts its arguments (bounds checks are off): shapes,
dtypes, contiguity and index ranges are validated by the public Python layer
before a call.  Each kernel has a plain NumPy twin in
:mod:`sparselearn._reference`, used by the tests and benchmarks as the
reference.
"""
