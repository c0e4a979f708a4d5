r"""Least-squares solvers over a :class:`~sparselearn.parities.ParityDesign`:
the coefficients :math:`c` minimising
:math:`\|P c - y\|^2 + \alpha \|c\|^2` (``c`` right-hand sides at once),
for the estimators of :mod:`sparselearn.learners`.

- **cg**: conjugate gradients on :math:`(P^\top P + \alpha I) c = P^\top y`,
  the columns of a block in lockstep, one pass over the data an iteration
  (:func:`_cg_columns`, :func:`_solve_cg`, :func:`_solve_block_cg`);
  Jacobi-preconditioned off the cube, mixed precision where it pays
  (:func:`_solve_mixed`: float32 products, float64 refinement).
- **cholesky**: the normal equations of :mod:`sparselearn._gram`, factored
  (:func:`_solve_cholesky`).
- **exact**: QR then SVD of the explicit rows, the minimum-norm solution
  (:func:`_solve_exact`; :func:`_solve_wide` when ``m < D``).
- **sketch**: CG preconditioned by the Cholesky factor of a row sample's
  Gram (:func:`_solve_sketch`).

Inputs are trusted: the estimators validate them.
"""
from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np
import scipy.linalg

from ._gram import (_MomentPlan, _moment_rows, _moment_table, _moments_apply, _normal_equations,
                    _scatter_moments)
from ._kernels import _cholesky
from .network import _one_thread_blas
from .parities import _CHUNK_BYTES, ParityDesign, _float32_safe


# ---------------------------------------------------------------- solvers
def _jacobi(design: ParityDesign, alpha):
    r"""The Jacobi preconditioner of :math:`(P^\top P + \alpha I) / m` for
    :func:`_cg_columns` (``R`` ``(D, k)`` to ``diag^{-1} R``), or ``None`` on
    the cube, where that diagonal is constant and changes no CG iterate."""
    if design.domain == "cube":
        return None
    diagonal = (design.diagonal() + alpha) / design.n_samples
    # A zero column (all its rows 0) has a zero diagonal and, unpenalised, no
    # effect on the solution: any positive scale keeps CG in the row space.
    diagonal[diagonal <= 0.0] = 1.0
    inverse = 1.0 / diagonal
    return lambda R: inverse[:, None] * R


# Mixed-precision CG (_solve_mixed).  Each inner CG, on float32 products,
# stops at this relative residual or below: well above where CG on float32
# products stalls (3.5e-7 of ||P^T y|| at n = 64..128, d = 3, m = 20,000),
# so the float64 residual tracks the inner one; each refinement then cuts the
# float64 residual by about this factor.
_MIXED_INNER_TOL = 1e-5
# A refinement that cuts the float64 residual by less than this factor means
# the float32 products are too coarse for the system: finish in float64.
_MIXED_MIN_GAIN = 0.5
# Designs with fewer than this many m * D entries keep float64 CG under
# products="auto": there a call is dominated by per-block overhead, not by
# the gemms float32 speeds up, and the extra float64 residuals cost more.
_MIXED_MIN_ENTRIES = 2**24
# Under products="auto", alpha = 0 runs mixed only for tol >= this: a
# rank-deficient P (a repeated coordinate, say) then picks up a null-space
# component of the float32 rounding, about 1e-6 of ||c|| (n = 20, d = 3,
# m = 13,000 with a constant coordinate: 7.9e-7 against lstsq, float64 CG
# 5.7e-11, both at tol = 1e-10), which no residual sees; at these
# tolerances it is within the accuracy kappa * tol the stopping rule gives.
_MIXED_MIN_TOL = 1e-6
# An inner float32 CG that needs more iterations than this for its 1e-5 cut
# is on an ill-conditioned system, where each refinement's restart throws
# away more than float32 saves (n = 12, d = 3, m = 330, tol = 1e-10: float64
# CG converged in 392 iterations, mixed not in 500): the rest runs float64.
_MIXED_MAX_INNER = 64


def _mixed_applies(design, alpha, tol, products="auto", preconditioned=False):
    """Whether CG runs mixed precision (:func:`_solve_mixed`): ``products``
    is ``"float64"``, ``"mixed"`` or ``"auto"`` (mixed on a design of at
    least ``_MIXED_MIN_ENTRIES`` entries with float32 products, if
    ``alpha > 0``, or ``m >= D`` and ``tol >= _MIXED_MIN_TOL``).  Float32
    products need the cube or, with ``preconditioned`` (the sketch's
    factor, which keeps each inner solve to a few iterations), a real
    design whose range :func:`_float32_safe` accepts; the Jacobi CG of real
    designs keeps float64 (its inner solves would be long, and float32
    rounding of ``X`` perturbs an ill-conditioned operator by
    ``kappa * 1e-7``)."""
    if products not in ("auto", "float64", "mixed"):
        raise ValueError(f"products must be 'auto', 'float64' or 'mixed', got {products!r}")
    supported = (isinstance(design, ParityDesign) and not design._use_popcount()
                 and design.degree >= 1
                 and (design.domain == "cube" or (preconditioned and _float32_safe(design))))
    m, D = design.n_samples, design.n_output_features
    if products == "mixed":
        return supported
    # Not for alpha = 0 with m < D: the float32 rounding leaves a null-space
    # component of about 1e-6 relative (m = 100, D = 176: 6e-6 against
    # lstsq's minimum-norm solution, float64 CG 1e-10), which no float64
    # residual sees.
    return (products == "auto" and supported and m * D >= _MIXED_MIN_ENTRIES
            and (alpha > 0 or (m >= D and tol >= _MIXED_MIN_TOL)))


# A fit's verbose output (the estimators' verbose=True) follows the solve
# through this callback, set around it by _iteration_log: every CG
# iteration calls it with count=1 and the relative residual where the loop
# knows it (None otherwise), a refinement of _solve_mixed with count=0 and
# its float64 residual.  A context variable, not a parameter of every solver.
_ITERATION_LOG = contextvars.ContextVar("sparselearn_iteration_log", default=None)


@contextlib.contextmanager
def _iteration_log(callback):
    """Call ``callback(residual, count)`` for the iterations of the solves inside."""
    token = _ITERATION_LOG.set(callback)
    try:
        yield
    finally:
        _ITERATION_LOG.reset(token)


def _log_iteration(residual=None, count=1):
    callback = _ITERATION_LOG.get()
    if callback is not None:
        callback(residual, count)


def _cg_columns(design, R0, alpha, rtol, max_iter, dtype, precondition=None,
                log_residual=True):
    r"""CG on :math:`(P^\top P + \alpha I) E / m = R_0`, column by column in
    lockstep (one pass over the data per iteration for all columns), from
    ``E = 0``, each column stopping when its recursive residual is at most
    ``rtol[j] * ||R_0[:, j]||``: the loop of every CG here.  Products in
    ``dtype``; ``precondition`` (``(D, k)`` float64 to the same, the
    inverse of a matrix close to the operator) makes it preconditioned CG,
    unpreconditioned without.  Returns ``(E, iterations, converged)``
    (every column below its threshold).  Each iteration is logged
    (:func:`_log_iteration`), with the largest relative residual
    ``||R_j|| / ||R_0[:, j]||`` if ``log_residual``."""
    m = design.n_samples
    apply = np.array if precondition is None else precondition  # a new array either way
    E = np.zeros_like(R0)
    R = R0.copy()
    P = apply(R)
    rz = np.einsum("ij,ij->j", R, P)
    R0_norms = np.linalg.norm(R0, axis=0)
    threshold = rtol * R0_norms
    active = np.flatnonzero(np.linalg.norm(R, axis=0) > threshold)
    k = 0
    while active.size and k < max_iter:
        Pa = np.ascontiguousarray(P[:, active])
        AP = design._normal_matvec(Pa, dtype) / m + (alpha / m) * Pa
        step = rz[active] / np.einsum("ij,ij->j", Pa, AP)
        E[:, active] += step * Pa
        R[:, active] -= step * AP
        k += 1
        norms = np.linalg.norm(R[:, active], axis=0)
        _log_iteration(float(np.max(norms / R0_norms[active])) if log_residual else None)
        going = norms > threshold[active]
        active, Pa = active[going], Pa[:, going]
        if not active.size or k == max_iter:
            break  # no next direction: the last preconditioner solve saved
        Z = apply(np.ascontiguousarray(R[:, active]))
        rz_new = np.einsum("ij,ij->j", R[:, active], Z)
        P[:, active] = Z + (rz_new / rz[active]) * Pa
        rz[active] = rz_new
    return E, k, active.size == 0


def _solve_mixed(design: ParityDesign, B, alpha, tol, max_iter, precondition=None):
    r"""Mixed-precision CG on the columns of :math:`A C = B`,
    :math:`A = (P^\top P + \alpha I) / m`, ``B`` ``(D, c)`` (float64, from
    a float64 :math:`P^\top Y / m`): iterative refinement.

    From :math:`C_0 = 0`, with the float64 residual :math:`R_k = B - A C_k`:
    an inner CG (:func:`_cg_columns`) on :math:`A E = R_k` with float32
    products (:meth:`ParityDesign.normal_matvec`, ``dtype=np.float32``),
    stopped at a relative residual of ``max(_MIXED_INNER_TOL, tol ||B|| /
    (2 ||R_k||))``, then :math:`C_{k+1} = C_k + E` and :math:`R_{k+1}`
    from one float64 product.  A column stops when
    :math:`\|R_k\| \le \mathrm{tol}\,\|B\|` in float64: the stopping rule
    of :func:`_solve_cg`, so its accuracy bound holds as stated there.
    Each refinement cuts :math:`\|R\|` by about ``_MIXED_INNER_TOL``
    (the float32 error of :math:`A E` is about ``1e-6`` of
    :math:`\|R_k\|`); should one cut it by less than ``_MIXED_MIN_GAIN``
    or an inner solve need ``_MIXED_MAX_INNER`` iterations (an ill-conditioned
    system, where restarts cost more than float32 saves), the rest runs on
    float64 products.

    Every inner iterate is a combination of products of :math:`A` with
    residuals, so it lies in the row space of :math:`P` up to rounding:
    for ``alpha = 0`` the limit is the minimum-norm solution, up to a
    null-space component of the order of the float32 rounding, which no
    float64 residual sees (measured against :func:`numpy.linalg.lstsq`:
    ``8e-7`` of :math:`\|C\|` at ``m = 20, D = 42`` and ``6e-6`` at
    ``m = 100, D = 176``; float64 CG ``4e-15`` and ``1e-10``), which is why
    ``products="auto"`` keeps float64 there.

    ``precondition`` (see :func:`_cg_columns`) preconditions every inner
    CG, float32 and float64 alike (the sketch's factor,
    :func:`_solve_sketch`); it changes the iterates, never the stopping
    rule.  An inner solve whose correction is not finite (float32 overflow)
    is discarded and the rest runs on float64 products.

    Returns ``(C, n_iter, converged)``; ``n_iter`` counts the inner
    iterations of all refinements (each refinement adds one float64
    product, not counted).
    """
    B_norms = np.linalg.norm(B, axis=0)
    threshold = tol * B_norms
    C = np.zeros_like(B)
    R = B.copy()
    norms = np.linalg.norm(R, axis=0)
    active = np.flatnonzero((norms >= threshold) & (norms > 0.0))
    dtype, n_iter = np.float32, 0
    m = design.n_samples
    while active.size and n_iter < max_iter:
        rtol = np.maximum(_MIXED_INNER_TOL if dtype == np.float32 else 0.0,
                          0.5 * threshold[active] / norms[active])
        budget = max_iter - n_iter
        if dtype == np.float32:
            budget = min(budget, _MIXED_MAX_INNER)
        with np.errstate(over="ignore", invalid="ignore"):
            # (inner residuals are relative to R_k: the log gets B's below)
            E, k, _ = _cg_columns(design, R[:, active], alpha, rtol, budget, dtype,
                                  precondition, log_residual=False)
        n_iter += k
        if not np.isfinite(E).all():  # float32 overflowed: keep C, go on in float64
            if dtype == np.float64:  # float64 too: nothing left to try
                break
            dtype = np.float64
            continue
        C[:, active] += E
        Ca = np.ascontiguousarray(C[:, active])
        AC = design._normal_matvec(Ca)
        R[:, active] = B[:, active] - (AC / m + (alpha / m) * Ca)
        new = np.linalg.norm(R[:, active], axis=0)
        _log_iteration(float(np.max(new / B_norms[active])), count=0)
        if dtype == np.float32 and (k >= _MIXED_MAX_INNER
                                    or not np.all(new <= _MIXED_MIN_GAIN * norms[active])):
            dtype = np.float64
        norms[active] = new
        active = active[new >= threshold[active]]
    return C, max(n_iter, 1), active.size == 0


def _solve_cg(design: ParityDesign, y, alpha, tol, max_iter, precondition=True,
              products="auto"):
    r"""Conjugate gradient on :math:`(P^\top P + \alpha I) c = P^\top y`.

    Started at 0, every iterate lies in the row space of :math:`P`, so for
    ``alpha = 0`` the limit is the minimum-norm least-squares solution, the
    one :func:`numpy.linalg.lstsq` returns.  Both sides are divided by
    ``m`` so that under the uniform distribution the matrix is close to the
    identity.  Stops when :math:`\|r_k\| \le \mathrm{tol}\,\|P^\top y\|`
    (:func:`_cg_columns` on one column, the fused product's vector path).
    Returns ``(coef, n_iter, converged)``.

    Accuracy.  With :math:`A = P^\top P + \alpha I`, :math:`c^*` the
    (minimum-norm) solution and :math:`\kappa = \lambda_{\max}(A) /
    \lambda_{\min}^{+}(A)` (smallest nonzero eigenvalue), the error
    :math:`c_k - c^*` lies in the range of :math:`A`, so
    :math:`\|c_k - c^*\| \le \|r_k\| / \lambda_{\min}^{+}` and
    :math:`\|P^\top y\| = \|A c^*\| \le \lambda_{\max}\|c^*\|` give

    .. math::

       \frac{\|c_k - c^*\|_2}{\|c^*\|_2} \le \kappa\,\mathrm{tol}

    (in exact arithmetic; rounding adds :math:`O(\kappa\,\varepsilon_{\mathrm{mach}})`).
    By Parseval the left side is also the relative root-mean-square
    difference of the two fitted polynomials over the whole cube.  Under
    uniform samples :math:`\kappa \approx ((1 + \sqrt{D/m}) / (1 -
    \sqrt{D/m}))^2` for :math:`\alpha = 0`: 9 at :math:`m = 4D`, 34 at
    :math:`m = 2D`.  Measured against an exact solve (``n <= 12``,
    ``d <= 3``, five seeds each), the ratio of the relative error to
    ``tol`` was at most 6 for :math:`m \ge 2D` and at most 44 at
    :math:`m = 1.2D` to :math:`1.3D`, for every ``tol`` from ``1e-6`` to
    ``1e-10``.

    Off the cube (``design.domain == "real"``) the matrix is far from a
    multiple of the identity (correlated features, monomials of unequal
    scale) and, with ``precondition``, CG is preconditioned by ``M =
    diag(P^T P + alpha I)^{-1}`` (Jacobi; :meth:`ParityDesign.diagonal`,
    one pass).  Its stopping rule stays the unpreconditioned residual
    above, so the accuracy bound is unchanged; only the iteration count
    drops.  A preconditioned iterate lies in the range of :math:`M P^\top`,
    not of :math:`P^\top`, so for a rank-deficient design with
    ``alpha = 0`` the limit is a least-squares solution but not always the
    minimum-norm one (use ``solver="exact"`` or ``alpha > 0`` there).

    ``products``: ``"float64"`` products throughout, or ``"mixed"``
    (:func:`_solve_mixed`: inner CGs on float32 products, refined against
    the float64 residual; same stopping rule, cube only), or ``"auto"``
    (mixed on a cube design with at least ``_MIXED_MIN_ENTRIES`` entries
    ``m * D``).
    """
    # BLAS on one thread for the solver's vector operations too: with two
    # OpenBLAS threads each level-1 call of length D leaves a spinning
    # thread behind, and float64 CG at n = 64, d = 3, m = 20,000 (41
    # iterations) took 11.5 s of wall clock (8.9 s CPU) instead of 6.2 s.
    with _one_thread_blas():
        return _solve_cg_one_thread(design, y, alpha, tol, max_iter, precondition, products)


def _solve_cg_one_thread(design, y, alpha, tol, max_iter, precondition, products):
    b = design._rmatvec(y) / design.n_samples
    coef, n_iter, converged = _cg_normal_equations(design, b[:, None], alpha, tol, max_iter,
                                                   precondition, products)
    return coef[:, 0], n_iter, converged


def _cg_normal_equations(design, B, alpha, tol, max_iter, precondition, products):
    """The CG of :func:`_solve_cg` and :func:`_solve_block_cg` on
    :math:`(P^\top P + \alpha I) C / m = B` (``B`` ``(D, c)``, from ``C = 0``)."""
    if _mixed_applies(design, alpha, tol, products):
        return _solve_mixed(design, B, alpha, tol, max_iter)
    # One loop, _cg_columns, for every CG: it replaced scipy.sparse.linalg.cg
    # on the single-vector path (the same iterations and coefficients to
    # 2e-16 in a paired run; scipy's callback gets the iterate, not the
    # residual a verbose fit reports), which had replaced a hand-written
    # loop at no cost (issue 11).  A zero right-hand side is solved by C = 0
    # at once (scipy's rule too).
    C, n_iter, converged = _cg_columns(design, B, alpha, np.full(B.shape[1], tol), max_iter,
                                       np.float64, _jacobi(design, alpha) if precondition else None)
    return C, max(n_iter, 1), converged


def _solve_block_cg(design: ParityDesign, Y, alpha, tol, max_iter, precondition=True,
                    products="auto"):
    r"""Conjugate gradient for ``c`` right-hand sides at once: the columns of
    :math:`(P^\top P + \alpha I) C = P^\top Y`, ``Y`` of shape ``(m, c)``.

    ``c`` (Jacobi-preconditioned, as :func:`_solve_cg`) CG recurrences run
    in lockstep (:func:`_cg_columns`, the loop of every CG here),
    each with its own step sizes, and every iteration computes the ``c``
    products :math:`P^\top P p_k` in one pass over the data
    (:meth:`ParityDesign._normal_matvec` on a ``(D, c)`` block).  It is not
    O'Leary's block CG, whose matrix-valued steps search the joint Krylov
    space but need rank-revealing deflation when columns converge or
    become dependent; here each column is exactly the CG of
    :func:`_solve_cg` (same iterates in exact arithmetic, same stopping rule
    :math:`\|r\| \le \mathrm{tol}\,\|P^\top y\|` per column), and a
    converged column is frozen and dropped from later passes.  Returns
    ``(coef (D, c), n_iter, converged)``: ``n_iter`` is the number of passes,
    the iterations of the slowest column.  ``products`` as in
    :func:`_solve_cg` (mixed: :func:`_solve_mixed` on all columns).
    """
    with _one_thread_blas():  # as in _solve_cg
        return _solve_block_cg_one_thread(design, Y, alpha, tol, max_iter, precondition,
                                          products)


def _solve_block_cg_one_thread(design, Y, alpha, tol, max_iter, precondition, products):
    return _cg_normal_equations(design, design._rmatvec(Y) / design.n_samples, alpha, tol,
                                max_iter, precondition, products)


def _upper_norm1(G):
    """The 1-norm of the symmetric matrix whose upper triangle ``G`` holds,
    summed in column blocks (no ``D x D`` temporary)."""
    D = G.shape[0]
    norms = np.zeros(D)
    for j0 in range(0, D, 512):
        j1 = min(D, j0 + 512)
        block = np.abs(G[:j1, j0:j1])
        block[j0:j1] = np.triu(block[j0:j1])
        norms[j0:j1] += block.sum(axis=0)  # column j: entries (i <= j, j)
        norms[:j1] += block.sum(axis=1)  # row i: entries (i, j > i) by symmetry
    norms -= np.abs(np.diagonal(G))  # the diagonal was counted twice
    return float(norms.max(initial=0.0))


def _equilibration(diagonal) -> np.ndarray:
    """The symmetric scaling :math:`s_j = 1/\\sqrt{A_{jj}}` of a positive
    semidefinite matrix (``1`` where the diagonal entry is zero: a zero column)."""
    diagonal = np.asarray(diagonal, dtype=np.float64)
    s = np.ones_like(diagonal)
    positive = diagonal > 0.0
    s[positive] = 1.0 / np.sqrt(diagonal[positive])
    return s


def _original_min_norm(u, s, kept, null):
    r"""The minimum-norm :math:`c` in the original coordinates among
    :math:`c = S(u + N z)`, :math:`S = \mathrm{diag}(s)`: the scaled-coordinate
    solution ``u`` (``(D, c)``) mapped back, less its projection on the
    range of :math:`S N` (``null``, ``(D, k)``, orthonormal columns
    spanning the dropped directions, or ``None`` for the orthogonal
    complement of ``kept``; ``kept``, ``(D, D - k)``, the others,
    orthonormal and orthogonal to ``null``).  That range's orthogonal
    complement is the range of :math:`S^{-1} V_r` (``kept``), so the smaller
    of the two is orthonormalised (Householder QR)."""
    c = s[:, None] * u
    if null is not None and null.shape[1] == 0:
        return c
    if null is not None and null.shape[1] <= kept.shape[1]:
        Q = scipy.linalg.qr(s[:, None] * null, mode="economic", overwrite_a=True,
                            check_finite=False)[0]
        return c - Q @ (Q.T @ c)
    Q = scipy.linalg.qr(kept / s[:, None], mode="economic", overwrite_a=True,
                        check_finite=False)[0]
    return Q @ (Q.T @ c)


def _lapack_threads(D: int):
    """LAPACK on one BLAS thread for a system of order ``D`` below
    ``_FACTOR_MIN_THREADED`` (as the sketch's own factorisation,
    :func:`_factor_threads`), the pool as it is from there.  Under load
    OpenBLAS's pool spins for cores other jobs hold: potrf + pocon + potrs
    on the shared 2-core machine (load average 5.9-6.5, median of 15) took
    344 ms at D = 137, 93 ms at D = 400, 2.07 s at D = 800 and 2.35 s at
    D = 1600 against 0.27, 15.6, 74 and 315 ms on one thread."""
    return _one_thread_blas() if D < _FACTOR_MIN_THREADED else contextlib.nullcontext()


# Right-hand sides up to this many are solved one column at a time by
# _cholesky.cho_solve_upper (_cho_solve_upper), more at once by LAPACK's
# potrs.  potrs runs trsm, for which OpenBLAS packs the triangle at every
# call: at D = 5489 (float32 factor, one thread, 2-core machine at load 2-5)
# one column took 27-50 ms (2 columns 37 ms, 8 33 ms), the kernel 20-21 ms a
# column (two reads of the triangle, float64 arithmetic) and two float32
# trsv 7-10 ms.  The float32 trsv's rounding (relative 3.5e-4 of the
# solution, the kernel's 1e-12) moved the benchmark's CG (n = 32, d = 3,
# m = 20,000, tol = 1e-9) from 2 iterations to 3 (relative residual after
# the second 1.16e-9; potrs 6.2e-10, the kernel 6.5e-10).
_SOLVE_MAX_COLUMNS = 2


def _cho_solve_upper(R, B):
    r""":math:`(R^\top R)^{-1} B` (float64 ``(D, k)``) for the upper triangular
    ``R`` (Fortran-ordered ``D x D``, float32 or float64, its strict lower
    triangle never read) and ``B`` ``(D, k)``: in float64 arithmetic by
    :func:`sparselearn._kernels._cholesky.cho_solve_upper` a column up to
    ``_SOLVE_MAX_COLUMNS`` columns, by ``scipy.linalg.cho_solve`` in
    ``R``'s precision beyond."""
    if B.shape[1] > _SOLVE_MAX_COLUMNS:
        solved = scipy.linalg.cho_solve((R, False), B.astype(R.dtype), check_finite=False)
        return solved.astype(np.float64)
    X = np.empty(B.shape, order="F")
    for j in range(B.shape[1]):
        X[:, j] = B[:, j]
        _cholesky.cho_solve_upper(R, X[:, j])
    return X


def _solve_cholesky(design: ParityDesign, y, alpha):
    r"""Ridge least squares from the normal equations, formed chunk by chunk.

    :math:`G = P^\top P` and :math:`B = P^\top Y` are accumulated from
    explicit rows (``8 D^2`` bytes, never the ``m x D`` matrix; on real data
    from :func:`_normal_equations`' distinct moments when
    ``_gram._use_moments``), then
    :math:`(G + \alpha I) c = B` is solved by Cholesky (LAPACK ``posv``):
    the solution scikit-learn's ``Ridge(solver="cholesky")`` computes on the
    materialised features, at ``m D^2 + D^3 / 3`` flops whatever the
    conditioning, where CG's iteration count grows with it (correlated real
    features: hundreds of iterations).  Forming :math:`G` squares the
    condition number, so accuracy degrades like
    :math:`\kappa(P)^2 \varepsilon_{\mathrm{mach}}` (the same as
    ``Ridge``).  Off the cube the system is first equilibrated:
    :math:`A = G + \alpha I` becomes :math:`SAS`, :math:`S =
    \mathrm{diag}(A)^{-1/2}` (the columns of :math:`[P;\ \sqrt\alpha I]`
    scaled to unit norm), factored and solved for :math:`u`, and
    :math:`c = Su` (the same solution in exact arithmetic; badly scaled
    columns, such as monomials of ``X * 1e-6``, no longer look singular).
    On the cube every diagonal entry is :math:`m + \alpha` and nothing is
    scaled.  A matrix that is not numerically positive definite
    (``alpha = 0`` and a rank-deficient or merely ill-conditioned design:
    LAPACK fails or reports a reciprocal condition number of :math:`SAS`
    below :math:`\varepsilon_{\mathrm{mach}}`) falls back, off the cube,
    to :func:`_solve_exact`: the QR of the explicit rows, which never
    squares the condition number, decides the rank on the unit-norm columns
    and returns the minimum-norm solution.  (Truncating :math:`SAS`'s
    eigenvalues at :math:`D\,\varepsilon` instead dropped directions that
    carry the fit when :math:`\kappa(P)` passes
    :math:`\varepsilon^{-1/2}`: monomials of ``X + 1000``, ``n = 32``,
    ``d = 2``, left 160 times the least squared error; the QR costs
    about twice the normal equations.)  On the cube the rank is decided on
    :math:`A` (singular values of ``gelsd`` at most
    :math:`D\,\varepsilon_{\mathrm{mach}}` times the largest are
    dropped) and the minimum-norm solution of the system so truncated is
    returned.  With ``m < D`` (``G`` singular at
    ``alpha = 0``) :func:`_solve_wide` solves on the explicit rows instead.
    ``y`` may be ``(m,)`` or ``(m, c)``.  BLAS keeps its thread pool for the
    normal equations (large products, unlike the chunked CG route) and for
    the factorisation from ``D = _FACTOR_MIN_THREADED`` on; smaller ones run
    LAPACK on one thread (:func:`_lapack_threads`).
    """
    D = design.n_output_features
    if design.n_samples < D:  # wide: G is singular at alpha = 0; the SVD of P
        return _solve_wide(design, y, alpha)
    Y = y.reshape(design.n_samples, -1)
    G, B = _normal_equations(design, Y)
    G[np.diag_indices(D)] += alpha
    # Off the cube, equilibrate: S (G + alpha I) S with S = diag(G + alpha I)^(-1/2)
    # (columns of P scaled to unit norm); on the cube that diagonal is m + alpha
    # everywhere, and no scaling keeps the results as they were.
    s = _equilibration(np.diag(G)) if design.domain == "real" else None
    if s is not None:
        G *= s[:, None]
        G *= s[None, :]
        B = B * s[:, None]
    # potrf in place, then the reciprocal condition number from the factor
    # (pocon), as scipy.linalg.solve(assume_a="pos") does, but without its
    # copy of G (8 D^2 bytes) and its slower batched path: at n = 32, d = 3
    # (D = 5489) that call took 3.1 s against 0.9 s for potrf + pocon + potrs.
    anorm = _upper_norm1(G)
    try:
        with _lapack_threads(D):
            factor = scipy.linalg.cho_factor(G, lower=False, overwrite_a=True,
                                             check_finite=False)
            rcond, info = scipy.linalg.lapack.dpocon(factor[0], anorm)
        # An ill-conditioned factor (rcond below eps) would give a
        # rounding-dominated solution: take the fallback instead.
        singular = info != 0 or not rcond >= scipy.linalg.lapack.dlamch("E")
    except np.linalg.LinAlgError:
        singular = True
    if singular and s is not None:
        del G  # (8 D^2 bytes, before the QR's own)
        return _solve_exact(design, y, alpha)
    if singular:
        del G
        factor = None
        G, B = _normal_equations(design, Y)  # the factorisation overwrote G
        G[np.diag_indices(D)] += alpha
        full = np.triu(G) + np.triu(G, 1).T  # the lower triangle was never written
        del G
        with _lapack_threads(D):
            coef = scipy.linalg.lstsq(full, B, lapack_driver="gelsd", check_finite=False,
                                      cond=D * np.finfo(np.float64).eps)[0]
    else:
        with _lapack_threads(D):
            coef = scipy.linalg.cho_solve(factor, B, check_finite=False)
        if s is not None:
            coef *= s[:, None]
    return coef.reshape((D,) + y.shape[1:])


def _exact_chunk_rows(m: int, D: int, c: int) -> int:
    """Rows per chunk of :func:`_solve_exact`: the chunk's features and its
    rows in the stacked matrix take about ``_CHUNK_BYTES`` together, but at
    least ``D + c``: every chunk refactors the ``(D + c)``-row triangle too
    (``4/3 (D + c)^3`` flops), so chunks of fewer rows made that refactoring
    the cost (``D = 529``: 247-row chunks, 21 of them, about 3x the
    ``2 m D^2`` flops of the rows themselves)."""
    return int(max(1, min(m, max(_CHUNK_BYTES // (16 * (D + c)), D + c))))


# Up to this order the SVD of _solve_exact is LAPACK's divide and conquer
# gesdd: 0.46-0.51 s against 1.5-3.3 s for gesvd at D = 530 on one loaded
# thread, but 6 D^2 float64 of factors and workspace against gesvd's 3 D^2
# (tracemalloc), counted by _solver_bytes.
_SVD_DC_MAX = 2048


def _svd(R):
    """``(U, sigma, Vt)`` of the square ``R`` (overwritten): ``gesdd`` up to
    order ``_SVD_DC_MAX`` (``gesvd`` should it not converge), ``gesvd`` beyond."""
    if R.shape[0] <= _SVD_DC_MAX:
        try:
            return scipy.linalg.svd(R, full_matrices=False, check_finite=False,
                                    lapack_driver="gesdd")
        except np.linalg.LinAlgError:  # pragma: no cover - gesdd's rare non-convergence
            pass
    return scipy.linalg.svd(R, full_matrices=False, overwrite_a=True,
                            check_finite=False, lapack_driver="gesvd")


def _solve_exact(design: ParityDesign, y, alpha):
    r"""Minimum-norm (ridge) least squares from a QR of the explicit feature rows.

    Minimises :math:`\|y - Pc\|^2 + \alpha\|c\|^2`, which is ordinary least
    squares on the stacked design :math:`A = [P;\ \sqrt\alpha\,I]` with
    targets :math:`t = [y;\ 0]`.  The thin QR factorisation

    .. math::

       [A \;\; t] = \tilde Q \begin{bmatrix} R & z \\ 0 & \rho \end{bmatrix}

    is accumulated one chunk of explicit rows at a time (the ``(D+1)``-row
    factor so far is stacked on the chunk's rows ``[P_j\ y_j]`` and
    refactored by Householder QR, so :math:`P^\top P` is never formed and its
    condition number is not squared).  Since
    :math:`\|t - Ac\|^2 = \|z - Rc\|^2 + \rho^2` for every :math:`c`, both
    problems have the same minimisers and the same minimum-norm one, which
    is :math:`c = R^{+}_\tau z`: an SVD of :math:`R` (LAPACK ``gelsd``)
    with every singular value :math:`\sigma_i \le \tau\sigma_1` treated as
    zero, :math:`\tau = \max(m, D)\,\varepsilon_{\mathrm{mach}}`, the
    default cutoff of :func:`numpy.linalg.lstsq`.  The singular values of
    :math:`R` are :math:`\sqrt{\sigma_i(P)^2 + \alpha}`: for
    :math:`\alpha = 0` this is the minimum-norm least-squares solution with
    :func:`numpy.linalg.lstsq`'s rank decision, for :math:`\alpha > 0` the
    unique ridge solution (the cutoff can only act if
    :math:`\alpha \le (\tau\sigma_1)^2`, at rounding level).

    On :math:`\pm1` designs a rank deficiency is exact (an integer relation
    between columns), and rounding leaves its singular values far below the
    cutoff: over 300 random rank-deficient designs (``n <= 8``, ``d <= 3``,
    repeated rows, ``m < D`` and ``m`` close to ``D``, random chunkings)
    they stayed below :math:`0.16\,\tau\sigma_1`, while the smallest genuine
    one was above :math:`10^{12}\,\tau\sigma_1`.

    ``y`` may be a block ``(m, c)`` of targets: ``[P\ Y]`` is factored at
    once and the ``c`` columns of :math:`z` are solved together.  Off the
    cube the explicit rows are the monomials of real ``X``: rank
    deficiencies are then not exact integer relations.  There the rank is
    decided on the column-equilibrated :math:`RS` (:math:`S` the inverse
    column norms of :math:`[P;\ \sqrt\alpha I]`, which are :math:`R`'s):
    singular values of :math:`RS` at most :math:`\tau\sigma_1(RS)` are
    dropped, :func:`numpy.linalg.lstsq`'s rule applied to the unit-norm
    columns, so monomials of small scale (``X * 1e-6``) are kept rather
    than cut off relative to the constant column; the minimum norm is
    still taken in the original coordinates: among the solutions of the
    truncated system the one of least :math:`\|c\|` is returned (an SVD
    of :math:`RS` finds the dropped directions when there are any,
    :func:`_original_min_norm`).  Nothing stronger than that rule is
    claimed for real data.

    Cost :math:`O(m D^2 + D^3)` time; memory :math:`16(D+1)^2` bytes for
    the stacked block and the copy of :math:`R` that ``gelsd`` overwrites
    (off the cube :math:`8D^2` more: the SVD's factors),
    plus about ``_CHUNK_BYTES`` (2 MiB) of chunk rows, within
    :meth:`ParityDesign.estimate_bytes`.  BLAS runs single-threaded.  With
    ``m < D`` :func:`_solve_wide` (an SVD of the explicit ``m x D`` rows,
    the same rule) replaces the QR.
    """
    m, D = design.n_samples, design.n_output_features
    if m < D:  # wide: the SVD of the explicit m x D rows
        return _solve_wide(design, y, alpha)
    Y = y.reshape(m, -1)
    c = Y.shape[1]
    rows = _exact_chunk_rows(m, D, c)
    stacked = np.zeros((D + c + rows, D + c), order="F")
    stacked[np.arange(D), np.arange(D)] = math.sqrt(alpha)  # the ridge rows
    features = np.empty((rows, D))
    geqrf, geqrf_lwork = scipy.linalg.get_lapack_funcs(("geqrf", "geqrf_lwork"),
                                                       (stacked,))
    work, info = geqrf_lwork(m=stacked.shape[0], n=stacked.shape[1])
    lwork = max(int(np.real(work)), stacked.shape[1]) if info == 0 else 32 * stacked.shape[1]
    cutoff = max(m, D) * np.finfo(np.float64).eps
    # Single-threaded BLAS, as in ParityDesign._over_rows: on a loaded 2-core
    # machine its thread pool made a 2030 x 30 QR 500 times slower.
    with _one_thread_blas():
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            k = stop - start
            design._explicit_rows(start, stop, features[:k])
            stacked[D + c:D + c + k, :D] = features[:k]
            stacked[D + c:D + c + k, D:] = Y[start:stop]
            stacked[D + c + k:] = 0.0  # a short last chunk: zero rows change nothing
            stacked, _, _, info = geqrf(stacked, lwork=lwork, overwrite_a=True)
            if info != 0:  # pragma: no cover - only for invalid arguments
                raise RuntimeError(f"LAPACK geqrf failed with info={info}")
            # Keep the triangular factor; the Householder vectors below its
            # diagonal (and in the chunk's rows, overwritten next) are not needed.
            for j in range(D + c):
                stacked[j + 1:D + c, j] = 0.0
        R, z = stacked[:D, :D], stacked[:D, D:].copy()
        if design.domain == "cube":  # every column norm is sqrt(m + alpha)
            coef = scipy.linalg.lstsq(R, z, cond=cutoff, lapack_driver="gelsd",
                                      check_finite=False)[0]
            return coef.reshape((D,) + y.shape[1:])
        # Off the cube: the rank decision on the column-equilibrated R S
        # (S = diag of 1 / the column norms of [P; sqrt(alpha) I], which are
        # R's column norms), the minimum norm in the original coordinates.
        s = _equilibration(np.einsum("ij,ij->j", R, R))
        R = R * s[None, :]
        del stacked, features
        u, _, rank, _ = scipy.linalg.lstsq(R, z, cond=cutoff, lapack_driver="gelsd",
                                           check_finite=False)
        if rank < D:  # the dropped directions, from an SVD of R S
            U, sigma, Vt = _svd(R)
            del R
            rank = int(np.count_nonzero(sigma > cutoff * sigma[0])) if sigma[0] > 0 else 0
            u = Vt[:rank].T @ ((U[:, :rank].T @ z) / sigma[:rank, None])
            del U
            coef = _original_min_norm(u, s, Vt[:rank].T, Vt[rank:].T)
        else:
            coef = s[:, None] * u
        return coef.reshape((D,) + y.shape[1:])


def _wide_bytes(m: int, D: int, c: int = 1) -> float:
    """Bytes of :func:`_solve_wide`: the explicit ``m x D`` rows, the SVD's
    ``V^T`` and ``U`` and ``gesdd``'s workspace (about ``4 m^2``), and the
    orthonormal basis of the minimum-norm projection."""
    return 8.0 * (3.0 * m * D + 5.0 * m * m + 4.0 * D * c)


def _solve_wide(design: ParityDesign, y, alpha):
    r"""Minimum-norm (ridge) least squares for ``m < D`` from an SVD of the
    explicit ``m x D`` feature matrix, at :math:`O(m^2 D)` flops.

    ``alpha > 0`` gives the unique ridge solution in its dual form
    :math:`c = P^\top (P P^\top + \alpha I)^{-1} y`, by Cholesky of the
    ``m x m`` matrix (:math:`m^2 D + m^3/3` flops; as scikit-learn's
    ``Ridge`` solves wide problems); should that factor have a reciprocal
    condition number below :math:`\varepsilon_{\mathrm{mach}}`, the same
    solution comes from the SVD :math:`P = U \Sigma V^\top` (thin,
    ``gesdd``) as
    :math:`c = V\,\mathrm{diag}(\sigma_i / (\sigma_i^2 + \alpha))\,U^\top y`,
    without forming :math:`P P^\top`.  ``alpha = 0``: the minimum-norm
    least-squares solution with :func:`numpy.linalg.lstsq`'s rank decision
    (singular values at most :math:`\tau\sigma_1` dropped,
    :math:`\tau = \max(m, D)\,\varepsilon_{\mathrm{mach}}`), the rule of
    :func:`_solve_exact`; off the cube, as there, that rule acts on the
    column-equilibrated :math:`PS` (unit-norm columns) and the minimum norm
    is taken in the original coordinates (:func:`_original_min_norm`).
    Memory :func:`_wide_bytes`, within :meth:`ParityDesign.estimate_bytes`
    for ``"exact"`` and ``"cholesky"`` when ``m < D``.  ``y`` may be
    ``(m,)`` or ``(m, c)``.
    """
    m, D = design.n_samples, design.n_output_features
    Y = y.reshape(m, -1)
    P = np.empty((m, D))
    design._explicit_rows(0, m, P)
    if alpha > 0.0:
        # The dual: P P^T (numpy's syrk) and an m x m Cholesky, m^2 D + m^3 / 3
        # flops; a factor with rcond below eps takes the SVD below instead.
        with _one_thread_blas():
            K = P @ P.T
            K[np.diag_indices(m)] += alpha
            anorm = float(np.abs(K).sum(axis=0).max())
            try:
                factor = scipy.linalg.cho_factor(K, lower=False, overwrite_a=True,
                                                 check_finite=False)
                rcond, info = scipy.linalg.lapack.dpocon(factor[0], anorm)
                if info == 0 and rcond >= scipy.linalg.lapack.dlamch("E"):
                    return (P.T @ scipy.linalg.cho_solve(factor, Y, check_finite=False)
                            ).reshape((D,) + y.shape[1:])
            except np.linalg.LinAlgError:
                pass
            del K
    s = None
    if alpha == 0.0 and design.domain == "real":
        s = _equilibration(np.einsum("ij,ij->j", P, P))
        P *= s[None, :]
    # The SVD of the tall P^T = V Sigma U^T (Fortran-ordered, no copy), on one
    # BLAS thread: on the loaded 2-core machine the pool made the SVD of a
    # 4526 x 300 matrix 0.2 s -> 1.4 s and the QR below 0.16 s -> 0.8 s.
    with _one_thread_blas():
        V, sigma, Ut = scipy.linalg.svd(P.T, full_matrices=False, overwrite_a=True,
                                        check_finite=False, lapack_driver="gesdd")
        del P
        rhs = Ut @ Y
        del Ut
        if alpha > 0.0:
            return (V @ (rhs * (sigma / (sigma * sigma + alpha))[:, None])).reshape(
                (D,) + y.shape[1:])
        cutoff = max(m, D) * np.finfo(np.float64).eps * (sigma[0] if len(sigma) else 0.0)
        rank = int(np.count_nonzero(sigma > cutoff))
        kept = V[:, :rank]
        u = kept @ (rhs[:rank] / sigma[:rank, None])
        if s is None:
            return u.reshape((D,) + y.shape[1:])
        return _original_min_norm(u, s, kept, None).reshape((D,) + y.shape[1:])


# Rows of the sample whose Gram preconditions solver="sketch": at least this
# many times D, and sqrt(m D) when more (_sketch_rows).  Measured on the
# compare_learners.py real task (correlated Gaussian X, condition 100, n = 64,
# d = 2, alpha = 1, tol = 1e-9): at m = 50,000, 2 D, 4 D and 8 D rows took 57,
# 28 and 18 iterations in 5.5, 4.5 and 4.3 s; at m = 200,000, 4 D rows 30
# iterations in 11.4-12.3 s, sqrt(m D) = 9.8 D rows 18 in 8.0-10.6 s.  The
# sample's Gram costs s D^2 flops and every iteration about 4 m D, so
# s ~ sqrt(m D) balances the two as m grows.
_SKETCH_ROWS_PER_FEATURE = 4


# Columns per block of the sketch's Cholesky factor (_cholesky.cholesky_upper).
_FACTOR_BLOCK = 384


def _factor_threads(n_jobs: int, D: int) -> int:
    """Threads of the sketch's Cholesky factor: ``n_jobs`` from
    ``_FACTOR_MIN_THREADED`` columns on, one below.  At D = 5489 (float32,
    block 384) two threads took 0.28-0.30 s against 0.49-0.60 s on one
    when the 2-core machine was nearly quiet (load 1.8; whole fits at
    n = 32, d = 3, m = 20,000: 1.72-1.77 s against 2.05-2.99 s), but
    0.81-1.18 s against 0.48-0.75 s at load 3-4 from other jobs (the
    threads wait for each other at every block step).  At D = 2081 (six
    block steps) one thread took 0.045 s and two 0.16 s at load 2.4."""
    return max(1, n_jobs) if D >= _FACTOR_MIN_THREADED else 1


_FACTOR_MIN_THREADED = 4096


def _sketch_rows(m: int, D: int) -> int:
    """Rows ``s = min(m, max(4 D, ceil(sqrt(m D))))`` of the sketch's sample."""
    return int(min(m, max(_SKETCH_ROWS_PER_FEATURE * D, math.ceil(math.sqrt(m * D)))))


def _solve_sketch(design: ParityDesign, y, alpha, tol, max_iter, rng):
    r"""Sketch-and-precondition: CG on the normal equations, preconditioned by
    the Cholesky factor of the Gram of a random subsample of the rows.

    With :math:`S` a uniform sample of :math:`s = \min(m, \max(4D, \lceil\sqrt{mD}\rceil))` rows
    (without replacement) and :math:`P_S` their explicit features,

    .. math::

       \tilde G = \frac{m}{s} P_S^\top P_S + \alpha I = R^\top R

    is an unbiased estimate of :math:`A = P^\top P + \alpha I`, formed at
    :math:`s D^2` flops instead of the :math:`m D^2` of
    :func:`_solve_cholesky`, and factored once (:math:`D^3/3`).  CG on
    :math:`A c = P^\top y` with the preconditioner :math:`\tilde G^{-1}`
    (two triangular solves an iteration) then converges at the rate of
    :math:`\kappa(\tilde G^{-1} A)`, a constant set by how well the sample
    represents the rows, not by the conditioning of the features: the
    correlations that make plain CG take hundreds of iterations are in
    :math:`\tilde G` too.  Every iteration is one matrix-free
    :meth:`ParityDesign._normal_matvec` (one pass over the data, never the
    ``m x D`` matrix).  The stopping rule is the unpreconditioned residual
    of :func:`_solve_cg`, :math:`\|r_k\| \le \mathrm{tol}\,\|P^\top y\|`, so
    its accuracy bound :math:`\kappa(A)\,\mathrm{tol}` holds unchanged; the
    result equals the ridge solution of :func:`_solve_cholesky` (and of
    scikit-learn's ``Ridge(solver="cholesky")``) to that accuracy whatever
    rows were sampled (``rng`` changes the iteration count only).

    On real data with ``_gram._use_moments`` the sample's Gram is formed from
    its distinct moments (:func:`_moment_table`) with float32 products,
    scattered already scaled and equilibrated into a float32 matrix
    (:func:`_scatter_moments`) and factored in float32 (blocked,
    :mod:`sparselearn._kernels._cholesky`; half the time and bytes of
    float64): its relative errors of about ``1e-7`` only
    perturb the preconditioner, never the operator or the stopping rule.  When the
    sample is all the rows (``m <= 4D``) that Gram is :math:`P^\top P`
    itself, up to float32 rounding, and CG stops within a few iterations
    (n = 32, d = 3, m = 20,000: 2); without the moment route this is
    :func:`_solve_cholesky` itself.  A sample Gram that is not numerically
    positive definite (``alpha = 0`` with a rank-deficient sample; the
    factor's smallest squared pivot below :math:`D\,\varepsilon` times the
    largest, :math:`\varepsilon` that of the factor's precision; off the
    cube the factor is of the equilibrated :math:`S\tilde G S`,
    :math:`S = \mathrm{diag}(\tilde G)^{-1/2}`, the same preconditioner,
    so badly scaled columns do not fail the test) falls back to :func:`_solve_cholesky`
    and its minimum-norm rule (a factor that passes means the sample, hence
    ``P``, has full column rank: the solution is unique).  ``y`` of shape
    ``(m, c)``: one factor, then the columns' CGs in lockstep, one pass
    over the data an iteration for all of them (:func:`_cg_columns`).

    With a sampled preconditioner (``s < m``; 10-30 iterations) and under
    the rule of :func:`_mixed_applies` (``preconditioned=True``: on real X
    when its range suits float32, :func:`_float32_safe`) the CG runs in
    mixed precision (:func:`_solve_mixed`): inner solves on float32
    products, refined against the float64 residual, with the same stopping
    rule and accuracy bound.  Returns ``(coef, n_iter, converged)``:
    ``n_iter`` the iterations of the slowest column, in mixed precision the
    inner iterations of all refinements (1 for a direct fallback).
    """
    m, D = design.n_samples, design.n_output_features
    s = _sketch_rows(m, D)
    moments = _moments_apply(design.n_features, design.degree, design.domain, s)
    if s == m and not moments:
        return _solve_cholesky(design, y, alpha), 1, True
    if s == m:
        sample = design  # every row: the preconditioner is the Gram itself, in float32
    else:
        pick = np.sort(rng.choice(m, size=s, replace=False))
        sample = ParityDesign._from_checked(np.ascontiguousarray(design.X[pick]),
                                            design.degree, design.n_jobs, design.max_bytes,
                                            domain=design.domain)
    if moments:
        # The sample's Gram from its distinct moments in single precision,
        # factored in single precision: its errors (relative 1e-7) are far
        # below the sample's own, and at s = m (n = 32, d = 3, m = 20,000,
        # kappa(G) = 8e5) the float32 factor of the exact Gram left
        # kappa(R^-T G R^-1) = 1.003, the same as rounding G to float32.
        # The scatter writes S (G / s + alpha / m I) S directly (see below;
        # M(empty, S_i), the diagonal, is table[i]): no passes over G after it.
        plan = _MomentPlan(design.n_features, design.degree)
        table = _moment_table(sample, products=np.float32)[0]
        del sample
        if not np.isfinite(table).all():
            # A float32 product overflowed (|x|^(2d) beyond 3.4e38: entries
            # near 2.6e6 at d = 3), which would reach CG as NaN: the float64
            # normal equations have the range to solve it directly.
            return _solve_cholesky(design, y, alpha), 1, True
        scale = _equilibration(table[:D] / s + alpha / m)
        G = np.zeros((D, D), dtype=np.float32, order="F")
        _scatter_moments(plan, table, G, design.n_jobs, 1.0 / s, alpha / m, scale)
        del table
    else:
        rows = int(max(1, min(s, max(_CHUNK_BYTES // (8 * D), D // 4))))
        G = np.zeros((D, D), order="F")
        features = np.empty((rows, D))
        syrk = scipy.linalg.get_blas_funcs("syrk", (G,))
        for start in range(0, s, rows):
            stop = min(start + rows, s)
            sample._explicit_rows(start, stop, features[:stop - start])
            G = syrk(1.0, features[:stop - start].T, beta=1.0, c=G, trans=0, lower=0,
                     overwrite_c=1)
        del features, sample
        # Scaled by 1/s, the sample's estimate of P^T P / m (CG runs on A / m).
        G *= 1.0 / s
        G[np.diag_indices(D)] += alpha / m
        # Off the cube, equilibrated as in _solve_cholesky: S G S is factored and
        # S (S G S)^-1 S = G^-1 is the same preconditioner, but the pivot test
        # below then judges the conditioning, not the columns' scales (X * 1e-6
        # took the fallback).
        scale = (_equilibration(np.diag(G)) if design.domain == "real" else np.ones(D))
        if design.domain == "real":
            G *= scale[:, None]
            G *= scale[None, :]
    # The factor by _cholesky (blocked, the same factor on any number of
    # threads; _factor_threads) and the triangular solves on one BLAS
    # thread: on the shared 2-core machine OpenBLAS's pool made potrf of a
    # 2081 x 2081 matrix take 0.8-7.4 s against 0.23 s on one thread.
    with _one_thread_blas():
        info = _cholesky.cholesky_upper(G, _FACTOR_BLOCK, _factor_threads(design.n_jobs, D))
    factor = (G, False) if info == 0 else None
    if factor is not None:
        pivots = np.abs(np.diag(factor[0])).astype(np.float64) ** 2
        # Written so that a NaN pivot fails it too (LAPACK's potrf reports
        # info = 0 on NaN input).
        if not pivots.min() > D * np.finfo(G.dtype).eps * pivots.max():
            factor = None
    if factor is None:
        singular64 = G.dtype == np.float64
        del G
        if singular64 and design.domain == "real":
            # The sample's float64 Gram is numerically singular: so is the
            # whole design's, whose Cholesky would fail the same way and
            # fall back to the QR; go there first (the Gram of all m rows
            # and its factor cost 0.7-0.9 s of a 3.6 s fit at m = 5000,
            # D = 529).  A float32 one may be merely ill-conditioned.
            return _solve_exact(design, y, alpha), 1, True
        return _solve_cholesky(design, y, alpha), 1, True
    def precondition(V):  # (S R^T R S)^-1 V = S (R^T R)^-1 S V
        return scale[:, None] * _cho_solve_upper(factor[0], scale[:, None] * V)

    B = (design._rmatvec(y) / m).reshape(D, -1)
    with _one_thread_blas():
        # Mixed precision (float32 inner solves, float64 refinement) when the
        # preconditioner is a sample's: then CG takes 10-30 iterations and
        # float32 halves their cost.  With every row sampled the factor is
        # the Gram's own and CG stops within 2 or 3 float64 iterations,
        # fewer products than one refinement needs.
        if s < m and _mixed_applies(design, alpha, tol, preconditioned=True):
            coef, n_iter, converged = _solve_mixed(design, B, alpha, tol, max_iter,
                                                   precondition)
        else:
            coef, n_iter, converged = _cg_columns(design, B, alpha, np.full(B.shape[1], tol),
                                                  max_iter, np.float64, precondition)
    n_iter = max(n_iter, 1)
    return coef.reshape((D,) + y.shape[1:]), n_iter, converged


def _solver_bytes(m: int, n: int, degree: int, solver: str, n_jobs: int, c: int,
                  domain: str) -> float:
    """The bytes ``solver`` allocates beyond the design's products for ``c``
    right-hand sides (added by :meth:`ParityDesign.estimate_bytes`)."""
    words = max(1, -(-n // 64))
    D = sum(math.comb(n, j) for j in range(degree + 1))
    nbytes = 0.0
    if solver in ("exact", "cholesky") and m < D:  # the wide route, _solve_wide
        nbytes += _wide_bytes(m, D, c)
    else:
        # _solve_exact's own chunk: stacked rows and features (and off the
        # cube the SVD of the equilibrated R: U and V^T); off the cube
        # also the fallback of "cholesky" and "sketch", after G is freed.
        rows = _exact_chunk_rows(m, D, c)
        exact = (8.0 * (2 * (D + c) * (D + c) + 2 * rows * (D + c))
                 + (8.0 * D * D * (4 if D <= _SVD_DC_MAX else 1) if domain == "real"
                    else 0.0))
        # G, its factor, the chunk rows (<= D / 4 + ...)
        normal = 8.0 * (2 * D * D + 2 * D * c) + max(_CHUNK_BYTES, 2.0 * D * D)
        if solver == "exact":
            nbytes += exact
        elif solver in ("cholesky", "sketch"):
            nbytes += max(normal, exact) if domain == "real" else normal
    if solver == "sketch":  # the sample's X and its design; CG's vectors
        s = _sketch_rows(m, D)
        nbytes += 8.0 * (s * (2 * n + words) + 6 * D * c)
    if (solver == "sketch" or solver == "cholesky" and m >= D) and _moments_apply(
            n, degree, domain, _sketch_rows(m, D) if solver == "sketch" else m):
        # The moment route (_moment_gram): its tables and buffers; the
        # sketch's float32 Gram is within the 8 D^2 counted above.
        nbytes += _MomentPlan(n, degree).nbytes(_moment_rows(D), n_jobs)
    return nbytes
