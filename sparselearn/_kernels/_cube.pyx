# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O3 -fopenmp
# distutils: extra_link_args = -fopenmp
"""Exact walks over the cube ``{-1,1}^n``: Gray-code scans, truth tables, branch and bound.

Index convention (CONTRIBUTING.md): index ``i`` is the point with
``x_d = +1`` if bit ``d`` of ``i`` is 0 and ``x_d = -1`` if it is 1.

Gray-code walk (:func:`activation_histogram`, the search's leaves).  The
cube is cut into chunks of ``2^L`` consecutive indices (the top ``n - L``
bits fixed).  Inside a chunk the low bits follow the
reflected Gray code ``g(t) = t ^ (t >> 1)``: step ``t`` flips only bit
``ctz(t)``, so the pre-activation ``z_j = <w_j, x> - b_j`` of every unit
changes by ``-2 w_jd`` (bit ``d`` set, ``x_d: +1 -> -1``) or ``+2 w_jd``
(bit cleared): ``O(s)`` work per point instead of ``O(n s)``.  Each chunk
starts from pre-activations recomputed from scratch, so rounding drift is
bounded by the chunk length (see :mod:`sparselearn.cube`).  Values are
written at the natural index ``base | g(t)``, never at the Gray rank.

Truth-table walk (:func:`truth_table`).  The same chunks in index order, with
no update ever applied: ``z = (top + high) + low[r]``, the ``n - L`` terms
above the chunk once per chunk, the next ``L - LOW_BITS`` once per block of
``2^LOW_BITS`` points, the low ones from a shared table; the same ``O(s)``
additions per point, and the rounding of a direct evaluation, where a Gray
walk's rounding errors accumulate over the ``2^L`` steps (up to a hundred
times a direct evaluation's once weights span ``2^60`` to ``0.1``).

Chunks are independent: each call opens one parallel region whose threads
take chunks (contiguous ranges of ``2^L`` indices) one at a time from a
shared counter (``schedule="dynamic"``), so a thread slowed down by other
processes takes fewer of them; each thread walks in its own buffer (rows
padded to whole cache lines, as are the per-thread histograms merged after
the region), and a chunk's result does not depend on which thread walks it,
so results are identical for every thread count.  ``n_threads`` is the team
size (``<= 0``: OpenMP's current default); :mod:`sparselearn.cube` passes 1
for walks too small to repay waking a second thread.

Exact decisions.  A unit is active when the exact ``<w_j, x> - b_j`` is
strictly positive.  Every walk takes a per-unit bound ``tol_j`` on the
rounding error of its computed pre-activations (from :mod:`sparselearn.cube`;
0 when the walk is exact): a computed ``z`` with ``-tol_j < z <= tol_j`` (or
NaN after an overflow) is re-decided at that point by
:func:`sparselearn._kernels._exact.exact_cube_sign`.  The fast loops only
raise a flag; the re-decision runs when the flag is up.

Branch and bound.  :func:`max_active` searches the cube depth first, fixing
coordinates in a given order.  With the first ``depth`` coordinates fixed,
the largest pre-activation unit ``j`` reaches on the subcube is
``ub_j = sum_{fixed} w_jd x_d + sum_{free} |w_jd| - b_j``; fixing the next
coordinate to ``x_d`` leaves ``ub_j`` unchanged when ``x_d w_jd >= 0`` and
lowers it by ``2 |w_jd|`` otherwise.  Unit ``j`` is kept *possible* while
``ub_j > -tol_j`` (``tol_j`` covers rounding, so pruning is conservative); a
subcube whose possible units are no more than the best count found is
skipped; a subcube with at most ``SMALL`` possible units also keeps only
units in some clique of more than ``best`` pairwise compatible units (see
:func:`_joint_reduce`); a subcube with at most ``leaf_bits`` free
coordinates is finished by a Gray-code walk restricted to its possible
units.  On ``{0,1}^n`` (``zero_one_biases``) the search runs on the
``{-1,1}^n`` image of the network with rounded thresholds, and the walk's
doubtful points are re-decided on the original network at ``(1 - x) / 2``
by :func:`sparselearn._kernels._exact.exact_dot_sign`.

NumPy twins: :mod:`sparselearn._reference.cube`.
"""
from cython.parallel cimport prange, threadid
from libc.stdlib cimport calloc, free, malloc
from libc.math cimport fabs
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

cimport openmp

from ._exact cimport exact_cube_sign, exact_dot_sign


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    int __builtin_popcount(unsigned int) nogil
    int __builtin_ctz(unsigned int) nogil


# Subcubes with at most SMALL possible units also get the joint tests of
# _joint_reduce: O(SMALL^2 n + 2^SMALL SMALL) work, from scratch.
cdef enum:
    SMALL = 8

# The search reads the clock (for its deadline) once per this many unit
# visits, about 0.1 ms of work: never long past the deadline, and
# clock_gettime's ~25 ns is lost in the work between reads.
cdef enum:
    CLOCK_WORK = 65536

# truth_table: the low LOW_BITS bits of a chunk are served by a table of
# 2^LOW_BITS partial sums (s doubles each, shared by the threads); the rest
# of a pre-activation is summed once per block of 2^LOW_BITS points.
cdef enum:
    LOW_BITS = 6

# Search statuses reported per task by max_active.
cdef enum:
    DONE = 0
    NODE_LIMIT = 1
    DEADLINE = 2
    NO_MEMORY = 3

JOINT_MAX_UNITS = SMALL
STATUS_DONE = DONE
STATUS_NODE_LIMIT = NODE_LIMIT
STATUS_DEADLINE = DEADLINE
STATUS_NO_MEMORY = NO_MEMORY


def max_threads():
    """Number of OpenMP threads a parallel region uses by default."""
    return openmp.omp_get_max_threads()


# --------------------------------------------------------------------------
# Gray-code walks
# --------------------------------------------------------------------------

cdef inline void _add_coordinates(const double* wt, Py_ssize_t s, Py_ssize_t first,
                                  Py_ssize_t stop, unsigned long long index,
                                  double* z) noexcept nogil:
    """``z_j += sum_{first <= d < stop} w_jd x_d(index)``, one term at a time
    in increasing ``d``."""
    cdef Py_ssize_t d, j
    cdef const double* col
    for d in range(first, stop):
        col = wt + d * s
        if (index >> d) & 1:
            for j in range(s):
                z[j] = z[j] - col[j]
        else:
            for j in range(s):
                z[j] = z[j] + col[j]


cdef inline void _start_preactivations(const double* wt, const double* b,
                                       Py_ssize_t n, Py_ssize_t s,
                                       unsigned long long index,
                                       double* z) noexcept nogil:
    """``z_j = <w_j, x(index)> - b_j``, summed from scratch over ``d``."""
    cdef Py_ssize_t j
    for j in range(s):
        z[j] = -b[j]
    _add_coordinates(wt, s, 0, n, index, z)


cdef inline double _relu_dot(const double* z, const double* u,
                             Py_ssize_t s) noexcept nogil:
    """``sum_j u_j max(z_j, 0)`` with four partial sums (branch-free, pipelined)."""
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef Py_ssize_t j = 0
    while j + 4 <= s:
        a0 = a0 + u[j] * (z[j] if z[j] > 0.0 else 0.0)
        a1 = a1 + u[j + 1] * (z[j + 1] if z[j + 1] > 0.0 else 0.0)
        a2 = a2 + u[j + 2] * (z[j + 2] if z[j + 2] > 0.0 else 0.0)
        a3 = a3 + u[j + 3] * (z[j + 3] if z[j + 3] > 0.0 else 0.0)
        j = j + 4
    while j < s:
        a0 = a0 + u[j] * (z[j] if z[j] > 0.0 else 0.0)
        j = j + 1
    return (a0 + a1) + (a2 + a3)


# Counts below accumulate in doubles (exact: they stay far below 2^53):
# with the portable SSE2 build GCC vectorizes a double sum of 0.0/1.0
# selections but not an integer sum of comparisons, and the double form
# measured 1.35x faster on the float walk.

cdef inline int _step_count(double* z, const double* col, Py_ssize_t s,
                            bint minus) noexcept nogil:
    """Flip one coordinate, ``z -= 2 col`` (``x_d: +1 -> -1``) or ``z += 2 col``,
    and count the strictly positive entries."""
    cdef Py_ssize_t j
    cdef double count = 0.0
    cdef double v
    cdef double step = -2.0 if minus else 2.0
    for j in range(s):
        v = z[j] + step * col[j]
        z[j] = v
        count = count + (1.0 if v > 0.0 else 0.0)
    return <int> count


cdef inline int _count_positive(const double* z, Py_ssize_t s) noexcept nogil:
    cdef Py_ssize_t j
    cdef double count = 0.0
    for j in range(s):
        count = count + (1.0 if z[j] > 0.0 else 0.0)
    return <int> count


cdef inline int _count_certain(const double* z, double tol_max, Py_ssize_t s,
                               bint* uncertain) noexcept nogil:
    """Entries ``> tol_max`` (surely active); ``uncertain`` is raised when
    some entry lies in ``(-tol_max, tol_max]``, where the float sign may be
    wrong: exactly when the counts above ``tol_max`` and above ``-tol_max``
    differ.  Two plain counts vectorize like the float walk's single one.
    The caller guarantees finite pre-activations (the network refuses
    parameters whose sums overflow)."""
    cdef Py_ssize_t j
    cdef double above = 0.0, above_minus = 0.0
    for j in range(s):
        above = above + (1.0 if z[j] > tol_max else 0.0)
        above_minus = above_minus + (1.0 if z[j] > -tol_max else 0.0)
    uncertain[0] = above != above_minus
    return <int> above


cdef inline double _max_entry(const double* a, Py_ssize_t s) noexcept nogil:
    cdef double best = 0.0
    cdef Py_ssize_t j
    for j in range(s):
        if a[j] > best:
            best = a[j]
    return best


cdef inline int _step_count_certain(double* z, const double* col, double tol_max,
                                    Py_ssize_t s, bint minus, bint* uncertain) noexcept nogil:
    """The flip of :func:`_step_count` fused with :func:`_count_certain`."""
    cdef Py_ssize_t j
    cdef double above = 0.0, above_minus = 0.0
    cdef double v
    cdef double step = -2.0 if minus else 2.0
    for j in range(s):
        v = z[j] + step * col[j]
        z[j] = v
        above = above + (1.0 if v > tol_max else 0.0)
        above_minus = above_minus + (1.0 if v > -tol_max else 0.0)
    uncertain[0] = above != above_minus
    return <int> above


cdef inline int _count_exact(const double* z, const double* tol, Py_ssize_t s,
                             const double* wt, Py_ssize_t stride, const int* units,
                             const double* b, Py_ssize_t n, unsigned long long index,
                             const signed char* signs) noexcept nogil:
    """Exact number of active units at one point.

    Entry ``t`` of ``z`` is the computed pre-activation of unit
    ``j = units[t]`` (``t`` itself when ``units`` is NULL), whose weights are
    ``wt[d * stride + j]``; the point is ``signs`` or ``index`` as in
    :func:`exact_cube_sign`.
    """
    cdef Py_ssize_t t, j
    cdef long long count = 0
    cdef double v
    for t in range(s):
        v = z[t]
        if v > tol[t]:
            count = count + 1
        elif not (v <= -tol[t]):
            j = units[t] if units != NULL else t
            count = count + (exact_cube_sign(wt + j, stride, index, signs, n, b[j]) > 0)
    return count


cdef inline double _relu_dot_exact(const double* z, const double* u, const double* tol,
                                   double tol_max, Py_ssize_t s, const double* wt,
                                   const double* b, Py_ssize_t n,
                                   unsigned long long index) noexcept nogil:
    """``sum_{j active} u_j max(z_j, 0)``: :func:`_relu_dot` where the
    decision ``z_j > 0`` cannot be wrong, exact re-decision where it can
    (only ``0 < z_j <= tol_j`` is in doubt: ``z_j <= 0`` contributes 0)."""
    cdef double acc = _relu_dot(z, u, s)
    cdef Py_ssize_t j
    cdef double positive = 0.0, above = 0.0
    for j in range(s):
        positive = positive + (1.0 if z[j] > 0.0 else 0.0)
        above = above + (1.0 if z[j] > tol_max else 0.0)
    if positive == above:
        return acc
    # Some unit counted with z > 0 may be exactly inactive: sum again
    # without the exactly inactive ones.
    acc = 0.0
    for j in range(s):
        if z[j] > 0.0 and (z[j] > tol[j]
                           or exact_cube_sign(wt + j, s, index, NULL, n, b[j]) > 0):
            acc = acc + u[j] * z[j]
    return acc


cdef void _low_sums(const double* wt, Py_ssize_t s, int bits,
                    double* table) noexcept nogil:
    """Row ``r`` of ``table`` (shape ``(2^bits, s)``) is
    ``sum_{d < bits} w_jd x_d(r)``, summed in increasing ``d``."""
    cdef unsigned long long r
    cdef Py_ssize_t j
    cdef double* row
    for r in range(1ULL << bits):
        row = table + r * s
        for j in range(s):
            row[j] = 0.0
        _add_coordinates(wt, s, 0, bits, r, row)


cdef void _truth_table_chunk(const double* wt, const double* b, const double* u,
                             double c, const double* tol, bint exact_walk,
                             const double* low, int low_bits,
                             Py_ssize_t n, Py_ssize_t s, int L,
                             unsigned long long base, double* top, double* block_z,
                             double* z, double* out) noexcept nogil:
    """``out[i] = h(x(i))`` on the chunk of indices ``base + [0, 2^L)``, in
    index order: blocks of ``2^low_bits`` points sharing their high bits.

    ``z = block_z + low[r]``: ``top`` is ``-b`` plus the ``n - L`` terms
    above the chunk's bits (once per chunk), ``block_z`` adds the block's
    ``L - low_bits`` terms (once per block), ``low[r]`` (:func:`_low_sums`)
    holds the ``low_bits`` low terms of point ``r`` of the block.  Every
    term passes through at most ``n + 1`` roundings, and no update is ever
    applied: the values have the accuracy of a direct evaluation
    (:func:`sparselearn.cube.truth_table`).
    """
    cdef unsigned long long block, index, r
    cdef Py_ssize_t j
    cdef const double* row
    cdef double tol_max = _max_entry(tol, s)
    for j in range(s):
        top[j] = -b[j]
    _add_coordinates(wt, s, L, n, base, top)
    for block in range(1ULL << (L - low_bits)):
        index = base | (block << low_bits)
        for j in range(s):
            block_z[j] = top[j]
        _add_coordinates(wt, s, low_bits, L, index, block_z)
        for r in range(1ULL << low_bits):
            row = low + r * s
            for j in range(s):
                z[j] = block_z[j] + row[j]
            if exact_walk:
                out[index | r] = _relu_dot(z, u, s) + c
            else:
                out[index | r] = _relu_dot_exact(z, u, tol, tol_max, s, wt, b, n, index | r) + c


cdef void _histogram_chunk(const double* wt, const double* b, const double* tol,
                           bint exact_walk, Py_ssize_t n, Py_ssize_t s, int L,
                           unsigned long long base, double* z,
                           long long* hist) noexcept nogil:
    cdef unsigned long long t, g
    cdef int bit, count
    cdef bint uncertain
    cdef double tol_max = _max_entry(tol, s)
    _start_preactivations(wt, b, n, s, base, z)
    if exact_walk:
        hist[_count_positive(z, s)] += 1
    else:
        count = _count_certain(z, tol_max, s, &uncertain)
        if uncertain:
            count = _count_exact(z, tol, s, wt, s, NULL, b, n, base, NULL)
        hist[count] += 1
    for t in range(1, 1ULL << L):
        bit = __builtin_ctzll(t)
        g = t ^ (t >> 1)
        if exact_walk:
            hist[_step_count(z, wt + bit * s, s, (g >> bit) & 1)] += 1
        else:
            count = _step_count_certain(z, wt + bit * s, tol_max, s, (g >> bit) & 1,
                                        &uncertain)
            if uncertain:
                count = _count_exact(z, tol, s, wt, s, NULL, b, n, base | g, NULL)
            hist[count] += 1


cdef inline Py_ssize_t _padded(Py_ssize_t size) noexcept nogil:
    """Per-thread buffer stride: ``size`` rounded up to whole 64-byte lines
    plus one spare line, so no two threads ever write the same cache line."""
    return (size + 7) // 8 * 8 + 8


cdef int _team_size(int n_threads, long long n_chunks) noexcept:
    """Threads of a walk's parallel region: ``n_threads`` (``<= 0``: OpenMP's
    current default), at most one per chunk, at least one."""
    if n_threads <= 0:
        n_threads = openmp.omp_get_max_threads()
    if n_chunks < n_threads:
        n_threads = <int> n_chunks
    return n_threads if n_threads > 0 else 1


def truth_table(const double[:, ::1] weights_t, const double[::1] biases,
                const double[::1] output_weights, double output_bias,
                const double[::1] tol, int chunk_bits, long long chunk_start,
                long long chunk_stop, double[::1] out, int n_threads=0):
    """Fill ``out[i] = h(x(i))`` for the chunks ``[chunk_start, chunk_stop)``.

    ``weights_t`` is ``W.T`` (shape ``(n, s)``); chunk ``q`` covers indices
    ``[q 2^L, (q + 1) 2^L)`` with ``L = chunk_bits``; ``out`` has length
    ``2^n``; ``tol`` (shape ``(s,)``) bounds the rounding error of the
    pre-activations per unit (all zeros: they are exact).  Exactly inactive
    units contribute exactly nothing.  ``n_threads``: the team size (module
    notes).  Unlike the other walks, no Gray code: each pre-activation is a
    sum of three partial sums, none updated (:func:`_truth_table_chunk`).
    """
    cdef Py_ssize_t n = weights_t.shape[0], s = weights_t.shape[1], j
    cdef Py_ssize_t stride = _padded(s)
    cdef int nthreads = _team_size(n_threads, chunk_stop - chunk_start)
    cdef int low_bits = chunk_bits if chunk_bits < LOW_BITS else LOW_BITS
    cdef long long q
    cdef int tid
    cdef bint exact_walk = True
    for j in range(s):
        if tol[j] != 0.0:
            exact_walk = False
    # Per thread: top, block_z and z, one padded row each.
    cdef double* work = <double*> malloc(nthreads * 3 * stride * sizeof(double))
    cdef double* low = <double*> malloc(((1 << low_bits) * s + 1) * sizeof(double))
    if work == NULL or low == NULL:
        free(work)
        free(low)
        raise MemoryError("truth_table: cannot allocate the per-thread buffers")
    try:
        with nogil:
            _low_sums(&weights_t[0, 0], s, low_bits, low)
        for q in prange(chunk_start, chunk_stop, nogil=True, schedule="dynamic",
                        num_threads=nthreads):
            tid = threadid()
            _truth_table_chunk(&weights_t[0, 0], &biases[0], &output_weights[0],
                               output_bias, &tol[0], exact_walk, low, low_bits, n, s,
                               chunk_bits, (<unsigned long long> q) << chunk_bits,
                               work + 3 * tid * stride, work + (3 * tid + 1) * stride,
                               work + (3 * tid + 2) * stride, &out[0])
    finally:
        free(work)
        free(low)


def activation_histogram(const double[:, ::1] weights_t, const double[::1] biases,
                         const double[::1] tol, int chunk_bits, long long chunk_start,
                         long long chunk_stop, long long[::1] hist, int n_threads=0):
    """Add to ``hist[c]`` the points of chunks ``[chunk_start, chunk_stop)``
    with exactly ``c`` active units (``hist`` has length ``s + 1``; ``tol``
    as in :func:`truth_table`)."""
    cdef Py_ssize_t n = weights_t.shape[0], s = weights_t.shape[1], j
    cdef Py_ssize_t stride = _padded(s + 1)
    cdef int nthreads = _team_size(n_threads, chunk_stop - chunk_start), tid, r
    cdef long long q
    cdef bint exact_walk = True
    for j in range(s):
        if tol[j] != 0.0:
            exact_walk = False
    cdef double* z = <double*> malloc(nthreads * stride * sizeof(double))
    # One histogram per thread, merged at the end: no shared writes.
    cdef long long* local = <long long*> calloc(nthreads * stride, sizeof(long long))
    if z == NULL or local == NULL:
        free(z)
        free(local)
        raise MemoryError("activation_histogram: cannot allocate the per-thread buffers")
    try:
        for q in prange(chunk_start, chunk_stop, nogil=True, schedule="dynamic",
                        num_threads=nthreads):
            tid = threadid()
            _histogram_chunk(&weights_t[0, 0], &biases[0], &tol[0], exact_walk, n, s,
                             chunk_bits,
                             (<unsigned long long> q) << chunk_bits,
                             z + tid * stride, local + tid * stride)
        for r in range(nthreads):
            for j in range(s + 1):
                hist[j] += local[r * stride + j]
    finally:
        free(z)
        free(local)


# --------------------------------------------------------------------------
# Branch and bound
# --------------------------------------------------------------------------

cdef struct Search:
    Py_ssize_t n
    Py_ssize_t s
    int leaf_bits
    const double* wt        # (n, s): row d is coordinate d of the search order
    const double* b         # (s,)
    const double* tol       # (s,) rounding slack of each unit's bound
    const double* walk_tol  # (s,) rounding bound of the leaf walk's pre-activations
    double* ztol            # (s,) walk_tol of the leaf walk's units, aligned with z
    signed char* point      # (n,) a leaf point, for exact re-decisions
    const double* b01       # (s,) NULL, or the biases of the {0,1}^n network (notes below)
    double* x01             # (n,) -x_01 = (x - 1) / 2 of a leaf point, when b01 is set
    int* alive              # (n + 1, s): possible units at each depth
    double* ub              # (n + 1, s): their bounds, aligned with alive
    double* z               # (s,) walk pre-activations
    double* cols            # (leaf_bits, s) compact 2 w columns for the walk
    double* pair            # (n + 1, SMALL, SMALL) pair bounds, by alive position
    signed char* has_pair   # (n + 1,) whether pair[depth] holds the current bounds
    signed char* x          # (n,) current prefix
    signed char* best_x     # (n,) witness of best
    long long best
    long long nodes
    long long leaf_points
    long long node_limit
    double deadline         # CLOCK_MONOTONIC seconds; <= 0 means none
    long long work          # unit visits so far (a node costs its possible units)
    long long next_check    # work at which to read the clock next
    int status


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double> ts.tv_sec + 1e-9 * <double> ts.tv_nsec


cdef int _leaf_count_exact(Search* S, Py_ssize_t depth, Py_ssize_t p,
                           unsigned long long g) noexcept nogil:
    """Exact number of active units among the leaf walk's ``p`` units at the
    point with prefix ``S.x[:depth]`` and free coordinates spelled by ``g``.

    With ``S.b01`` set, the search runs on the ``{-1,1}^n`` image of a
    network ``(w, b)`` on ``{0,1}^n`` (rows of ``S.wt`` are ``-w``, ``S.b``
    the rounded thresholds ``2 b - sum_d w_d``) and activity is decided on
    the original: ``<w, x_01> - b = <-w, -x_01> - b``, exactly.
    """
    cdef Py_ssize_t d, t, j
    cdef long long count = 0
    cdef double v
    cdef int* units = S.alive + depth * S.s
    for d in range(depth):
        S.point[d] = S.x[d]
    for d in range(depth, S.n):
        S.point[d] = -1 if (g >> (d - depth)) & 1 else 1
    if S.b01 == NULL:
        return _count_exact(S.z, S.ztol, p, S.wt, S.s, units, S.b, S.n, 0, S.point)
    for d in range(S.n):
        S.x01[d] = -1.0 if S.point[d] < 0 else 0.0
    for t in range(p):
        v = S.z[t]
        if v > S.ztol[t]:
            count = count + 1
        elif not (v <= -S.ztol[t]):
            j = units[t]
            count = count + (exact_dot_sign(S.wt + j, S.s, S.x01, 1, S.n, S.b01[j]) > 0)
    return <int> count


cdef void _leaf_walk(Search* S, Py_ssize_t depth, Py_ssize_t p) noexcept nogil:
    """Gray-code walk over the subcube, restricted to its ``p`` possible units."""
    cdef Py_ssize_t n = S.n, s = S.s, L = n - depth, t, d, f, j
    cdef int* alive = S.alive + depth * s
    cdef double* z = S.z
    cdef double acc
    cdef unsigned long long step, g, best_g = 0
    cdef int bit, count, best_count
    cdef bint uncertain
    cdef double tol_max
    # Exact pre-activations at the subcube's first point (free coordinates +1).
    for t in range(p):
        j = alive[t]
        acc = -S.b[j]
        for d in range(depth):
            if S.x[d] > 0:
                acc = acc + S.wt[d * s + j]
            else:
                acc = acc - S.wt[d * s + j]
        for d in range(depth, n):
            acc = acc + S.wt[d * s + j]
        z[t] = acc
    for f in range(L):
        for t in range(p):
            S.cols[f * s + t] = S.wt[(depth + f) * s + alive[t]]
    for t in range(p):
        S.ztol[t] = S.walk_tol[alive[t]]
    tol_max = _max_entry(S.ztol, p)
    best_count = _count_certain(z, tol_max, p, &uncertain)
    if uncertain:
        best_count = _leaf_count_exact(S, depth, p, 0)
    step = 1
    while step < (1ULL << L) and best_count < p:
        bit = __builtin_ctzll(step)
        g = step ^ (step >> 1)
        count = _step_count_certain(z, S.cols + bit * s, tol_max, p, (g >> bit) & 1,
                                    &uncertain)
        if uncertain:
            count = _leaf_count_exact(S, depth, p, g)
        if count > best_count:
            best_count = count
            best_g = g
        step = step + 1
    S.leaf_points += step
    if best_count > S.best:
        S.best = best_count
        for d in range(depth):
            S.best_x[d] = S.x[d]
        for f in range(L):
            S.best_x[depth + f] = -1 if (best_g >> f) & 1 else 1


cdef Py_ssize_t _fill_child(Search* S, Py_ssize_t depth, Py_ssize_t p,
                            signed char side) noexcept nogil:
    """Possible units and bounds at ``depth + 1`` after fixing ``x_depth = side``."""
    cdef Py_ssize_t s = S.s, t, j, m = 0
    cdef const double* col = S.wt + depth * s
    cdef int* alive = S.alive + depth * s
    cdef double* ub = S.ub + depth * s
    cdef int* alive_next = alive + s
    cdef double* ub_next = ub + s
    cdef double a, bound
    cdef int origin[SMALL]
    cdef bint pairs = S.has_pair[depth]
    cdef double* pair
    cdef double* pair_next
    cdef Py_ssize_t u, v
    for t in range(p):
        j = alive[t]
        a = col[j]
        bound = ub[t]
        if side * a < 0.0:
            bound = bound - 2.0 * (a if a > 0.0 else -a)
            if not bound > -S.tol[j]:
                continue
        if pairs:
            origin[m] = <int> t
        alive_next[m] = j
        ub_next[m] = bound
        m = m + 1
    S.has_pair[depth + 1] = pairs
    if pairs:
        # Pair bounds move like unit bounds, with w_jd + w_ld for w_jd.
        pair = S.pair + depth * SMALL * SMALL
        pair_next = pair + SMALL * SMALL
        for u in range(m):
            for v in range(u + 1, m):
                a = col[alive_next[u]] + col[alive_next[v]]
                bound = pair[origin[u] * SMALL + origin[v]]
                if side * a < 0.0:
                    bound = bound - 2.0 * (a if a > 0.0 else -a)
                pair_next[u * SMALL + v] = bound
                pair_next[v * SMALL + u] = bound
    return m


cdef inline double _subcube_max(Search* S, Py_ssize_t depth, const int* units,
                                Py_ssize_t count) noexcept nogil:
    """Exact maximum over the subcube of ``sum_{j in units} z_j`` (from scratch)."""
    cdef Py_ssize_t d, t, s = S.s
    cdef double acc = 0.0, g
    for t in range(count):
        acc = acc - S.b[units[t]]
    for d in range(S.n):
        g = 0.0
        for t in range(count):
            g = g + S.wt[d * s + units[t]]
        if d < depth:
            acc = acc + (g if S.x[d] > 0 else -g)
        else:
            acc = acc + (g if g > 0.0 else -g)
    return acc


cdef bint _has_clique(const unsigned int* adjacent, unsigned int candidates,
                      int size) noexcept nogil:
    """Whether ``size`` pairwise adjacent vertices exist among ``candidates``.

    ``adjacent[v]`` is the bitmask of the neighbours of ``v`` (and ``v``).
    """
    cdef int v
    if size <= 0:
        return True
    while __builtin_popcount(candidates) >= size:
        v = __builtin_ctz(candidates)
        candidates &= candidates - 1  # later vertices only: each set once
        if _has_clique(adjacent, candidates & adjacent[v], size - 1):
            return True
    return False


cdef Py_ssize_t _joint_reduce(Search* S, Py_ssize_t depth, Py_ssize_t p) noexcept nogil:
    """Keep only the units of some set of ``best + 1`` possibly co-active units.

    Units ``j, l`` can be active together in the subcube only if the
    subcube maximum of ``z_j + z_l`` is positive.  A point beating ``best``
    has ``best + 1`` pairwise compatible active units, i.e. a clique of the
    compatibility graph; with ``p <= SMALL`` units every subset is checked,
    and units in no clique of more than ``best`` units are dropped.  When
    exactly ``best + 1`` units remain, all of them must be active, so the
    subcube maximum of their sum must be positive too.
    """
    cdef int* alive = S.alive + depth * S.s
    cdef double* ub = S.ub + depth * S.s
    cdef unsigned int adjacent[SMALL]
    cdef int kept[SMALL]
    cdef unsigned int core, members = 0
    cdef bint changed
    cdef int pair[2]
    cdef Py_ssize_t t, v, m = 0
    cdef double slack
    cdef double* bounds = S.pair + depth * SMALL * SMALL
    if not S.has_pair[depth]:
        for t in range(p):
            for v in range(t + 1, p):
                pair[0] = alive[t]
                pair[1] = alive[v]
                bounds[t * SMALL + v] = _subcube_max(S, depth, pair, 2)
                bounds[v * SMALL + t] = bounds[t * SMALL + v]
        S.has_pair[depth] = True
    for t in range(p):
        adjacent[t] = 1u << t
    for t in range(p):
        for v in range(t + 1, p):
            if bounds[t * SMALL + v] > -(S.tol[alive[t]] + S.tol[alive[v]]):
                adjacent[t] |= 1u << v
                adjacent[v] |= 1u << t
    # Peel to the best-core (cheap), then enumerate the core's subsets.
    core = (1u << p) - 1
    changed = True
    while changed:
        changed = False
        for t in range(p):
            if (core >> t) & 1 and __builtin_popcount(adjacent[t] & core) - 1 < S.best:
                core &= ~(1u << t)
                changed = True
    if __builtin_popcount(core) > S.best:
        for t in range(p):
            if (core >> t) & 1 and _has_clique(adjacent, core & adjacent[t] & ~(1u << t),
                                               S.best):
                members |= 1u << t
    for t in range(p):
        if (members >> t) & 1:
            alive[m] = alive[t]
            ub[m] = ub[t]
            kept[m] = <int> t
            m = m + 1
    # Compact the pair bounds the same way (kept[u] >= u: in-place is safe).
    for t in range(m):
        for v in range(t + 1, m):
            bounds[t * SMALL + v] = bounds[kept[t] * SMALL + kept[v]]
            bounds[v * SMALL + t] = bounds[t * SMALL + v]
    if m == S.best + 1:
        slack = 0.0
        for t in range(m):
            slack = slack + S.tol[alive[t]]
        if not _subcube_max(S, depth, alive, m) > -slack:
            return 0
    return m


cdef void _dfs(Search* S, Py_ssize_t depth, Py_ssize_t p) noexcept nogil:
    cdef Py_ssize_t s = S.s, t, j, n_plus = 0, n_minus = 0, m
    cdef const double* col
    cdef int* alive
    cdef double* ub
    cdef double a
    cdef signed char first, side
    cdef int k
    if S.status != DONE:
        return
    S.nodes += 1
    if S.nodes > S.node_limit:
        S.status = NODE_LIMIT
        return
    # The clock is read by work done, not by nodes: a node of a wide layer
    # (s = 4096, n = 784) costs thousands of unit visits, and counting 1024
    # nodes between reads let a search overrun its deadline by seconds.
    S.work += p
    if S.deadline > 0.0 and S.work >= S.next_check:
        S.next_check = S.work + CLOCK_WORK
        if _now() > S.deadline:
            S.status = DEADLINE
            return
    if p <= S.best:
        return
    if p <= SMALL and S.best > 0:
        p = _joint_reduce(S, depth, p)
        if p <= S.best:
            return
    if S.n - depth <= S.leaf_bits:
        S.work += p << (S.n - depth)
        _leaf_walk(S, depth, p)
        return
    # Count the possible units of both children to visit the richer one first.
    col = S.wt + depth * s
    alive = S.alive + depth * s
    ub = S.ub + depth * s
    for t in range(p):
        j = alive[t]
        a = col[j]
        if a < 0.0:
            n_minus += 1
            n_plus += ub[t] + 2.0 * a > -S.tol[j]
        elif a > 0.0:
            n_plus += 1
            n_minus += ub[t] - 2.0 * a > -S.tol[j]
        else:
            n_plus += 1
            n_minus += 1
    first = 1 if n_plus >= n_minus else -1
    for k in range(2):
        side = first if k == 0 else -first
        if (n_plus if side > 0 else n_minus) <= S.best:
            continue
        m = _fill_child(S, depth, p, side)
        S.x[depth] = side
        _dfs(S, depth + 1, m)


cdef int _run_task(const double* wt, const double* b, const double* tol,
                   const double* walk_tol, const double* b01, Py_ssize_t n, Py_ssize_t s,
                   int split_depth, int leaf_bits,
                   unsigned long long prefix, long long lower_bound,
                   long long node_limit, double deadline, long long* best,
                   signed char* witness, long long* nodes,
                   long long* leaf_points) noexcept nogil:
    """Search the subcube whose first ``split_depth`` coordinates spell ``prefix``."""
    cdef Search S
    cdef Py_ssize_t d, j, m = 0
    cdef double acc
    S.n = n
    S.s = s
    S.leaf_bits = leaf_bits
    S.wt = wt
    S.b = b
    S.tol = tol
    S.walk_tol = walk_tol
    S.b01 = b01
    S.x01 = <double*> malloc(n * sizeof(double))
    S.ztol = <double*> malloc(s * sizeof(double))
    S.point = <signed char*> malloc(n)
    S.alive = <int*> malloc((n + 1) * s * sizeof(int))
    S.ub = <double*> malloc((n + 1) * s * sizeof(double))
    S.z = <double*> malloc(s * sizeof(double))
    S.cols = <double*> malloc((leaf_bits + 1) * s * sizeof(double))
    S.x = <signed char*> malloc(n)
    S.pair = <double*> malloc((n + 1) * SMALL * SMALL * sizeof(double))
    S.has_pair = <signed char*> calloc(n + 1, 1)
    S.best_x = witness
    S.best = lower_bound
    S.nodes = 0
    S.leaf_points = 0
    S.node_limit = node_limit
    S.deadline = deadline
    S.work = 0
    S.next_check = 0
    S.status = DONE
    if (S.alive == NULL or S.ub == NULL or S.z == NULL or S.cols == NULL or S.x == NULL
            or S.pair == NULL or S.has_pair == NULL or S.ztol == NULL or S.point == NULL
            or S.x01 == NULL):
        S.status = NO_MEMORY
    else:
        for d in range(split_depth):
            S.x[d] = -1 if (prefix >> d) & 1 else 1
        # Bounds at the task's root, from scratch.
        for j in range(s):
            acc = -b[j]
            for d in range(split_depth):
                acc = acc + (wt[d * s + j] if S.x[d] > 0 else -wt[d * s + j])
            for d in range(split_depth, n):
                acc = acc + (wt[d * s + j] if wt[d * s + j] > 0.0 else -wt[d * s + j])
            if acc > -tol[j]:
                S.alive[split_depth * s + m] = <int> j
                S.ub[split_depth * s + m] = acc
                m = m + 1
        _dfs(&S, split_depth, m)
    free(S.alive)
    free(S.ub)
    free(S.z)
    free(S.cols)
    free(S.x)
    free(S.pair)
    free(S.has_pair)
    free(S.ztol)
    free(S.point)
    free(S.x01)
    best[0] = S.best
    nodes[0] = S.nodes
    leaf_points[0] = S.leaf_points
    return S.status


def max_active(const double[:, ::1] weights_t, const double[::1] biases,
               const double[::1] tol, const double[::1] walk_tol,
               const double[::1] zero_one_biases,
               const unsigned long long[::1] prefixes,
               int split_depth, int leaf_bits, long long lower_bound,
               long long node_limit, double deadline, long long[::1] best,
               signed char[:, ::1] witness, long long[::1] nodes,
               long long[::1] leaf_points, int[::1] status, int n_threads=0):
    """Branch and bound for ``max_x #{j : <w_j, x> - b_j > 0}``, one task per prefix.

    Task ``q`` searches the subcube whose first ``split_depth`` coordinates
    (in the order of the rows of ``weights_t``, shape ``(n, s)``) are
    ``x_d = -1`` where bit ``d`` of ``prefixes[q]`` is set, ``+1``
    otherwise.  Every task starts from ``lower_bound``; ``best[q]`` is the
    largest count it found, and when ``best[q] > lower_bound`` the row
    ``witness[q]`` holds a point (in search order) attaining it.
    ``tol`` is the slack of the pruning bounds and ``walk_tol`` the
    rounding bound of the leaf walks' pre-activations (shape ``(s,)`` each;
    see :func:`truth_table`); counts at leaf points are exact.
    ``zero_one_biases``: empty, or (shape ``(s,)``) the biases ``b`` of a
    network on ``{0,1}^n`` whose ``{-1,1}^n`` image is being searched
    (``weights_t`` holds ``-w``, ``biases`` thresholds at most ``2 b -
    sum_d w_d``, ``walk_tol`` also covering their rounding): leaf counts are
    then exact for ``(w, b)`` at ``x_01 = (1 - x) / 2``.
    ``status[q]`` is 0 when the task finished, 1 when it visited more than
    ``node_limit`` nodes, 2 when ``deadline`` (``CLOCK_MONOTONIC`` seconds,
    ignored if ``<= 0``) passed, 3 when out of memory; only a finished task
    certifies its subcube.  ``n_threads`` is the team size (``<= 0``:
    OpenMP's default); tasks are independent, so results do not depend on it.
    """
    cdef Py_ssize_t n = weights_t.shape[0], s = weights_t.shape[1]
    cdef Py_ssize_t n_tasks = prefixes.shape[0], q
    cdef int nthreads = _team_size(n_threads, n_tasks)
    cdef const double* b01 = &zero_one_biases[0] if zero_one_biases.shape[0] > 0 else NULL
    for q in prange(n_tasks, nogil=True, schedule="dynamic", num_threads=nthreads):
        status[q] = _run_task(&weights_t[0, 0], &biases[0], &tol[0], &walk_tol[0], b01, n, s,
                              split_depth, leaf_bits, prefixes[q], lower_bound,
                              node_limit, deadline, &best[q], &witness[q, 0],
                              &nodes[q], &leaf_points[q])
