"""Plain NumPy twins of the compiled kernels.

One module per kernel module, each function computing exactly what its
compiled twin computes, written for obvious correctness rather than speed.
They are used only by the tests (as the reference) and the benchmarks (as
the baseline); the library itself never calls them.
"""
