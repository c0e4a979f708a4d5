"""asv benchmarks for sparselearn: one module per library module, each kernel
timed next to its NumPy twin from :mod:`sparselearn._reference`."""
