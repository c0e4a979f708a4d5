r"""Fourier analysis on the cube :math:`\{-1,1\}^n` (docs/theory.rst, section 3).

Every real function on the cube has a unique multilinear expansion

.. math::

    f(x) = \sum_{S \subseteq [n]} \hat f(S)\,\chi_S(x), \qquad
    \chi_S(x) = \prod_{i \in S} x_i, \qquad
    \hat f(S) = \mathbb{E}_x\bigl[f(x)\,\chi_S(x)\bigr],

with :math:`x` uniform.  Subsets are bitmasks and truth tables and spectra
share the library's cube index convention: index ``i`` is the point with
:math:`x_j = (-1)^{\mathrm{bit}_j(i)}`, so
:math:`\chi_S(x) = (-1)^{\mathrm{popcount}(i \,\&\, S)}`.

Normalisation
-------------
:func:`fwht` is the *unnormalised* Walsh-Hadamard transform
:math:`(Ha)[S] = \sum_{i} a[i]\,(-1)^{\mathrm{popcount}(i \,\&\, S)}`;
it satisfies :math:`H H = 2^n I`, so it is its own inverse up to the factor
:math:`2^n`.  :func:`spectrum` divides by :math:`2^n` (an exact scaling in
floating point), so ``spectrum(f)[S]`` is
:math:`\hat f(S) = 2^{-n} \sum_x f(x)\,\chi_S(x)` and Parseval reads
:math:`\mathbb{E}[f^2] = \sum_S \hat f(S)^2`.

Quantities derived from a spectrum
----------------------------------
- :func:`degree_weights`: :math:`W^{=j}[f] = \sum_{|S| = j} \hat f(S)^2`;
- :func:`tail_weight`, :func:`best_degree_approximation_error`:
  :math:`W^{>d}[f]`, the squared :math:`L^2` error of the best degree-``d``
  approximation;
- :func:`excess_error`: :math:`\mathbb{E}[(h - f)^2]` of a fitted low-degree
  model :math:`h`, by Parseval;
- :func:`influences`, :func:`total_influence`:
  :math:`\mathrm{Inf}_i[f] = \sum_{S \ni i} \hat f(S)^2` and
  :math:`I[f] = \sum_S |S|\,\hat f(S)^2`;
- :func:`noise_sensitivity`, in docs/theory.rst's real-valued convention
  :math:`NS_\delta[f] = \tfrac12\,\mathbb{E}[(f(x) - f(y))^2]`.

Estimators
----------
When :math:`2^n` is out of reach, :func:`estimate_influences`,
:func:`estimate_total_influence`, :func:`estimate_noise_sensitivity` and
:func:`estimate_coefficients` sample uniform points and return an
:class:`Estimate`: the sample mean and its standard error.
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import numpy as np

from ._kernels import _fwht, _spectral
from . import _plotting
from ._results import renamed_argument
from .cube import _uniform_points
from .parities import parity_subsets
from ._validation import (MAX_CUBE_DIM, check_cube_dimension, check_cube_points,
                          check_float, check_int, check_memory, check_random_state,
                          check_vector)
from .interop import _conversion_hint
from .network import _NO_VALUATION, SparseReLUNetwork

#: Monte-Carlo size of the estimators when ``n_draws`` is not given.
_DEFAULT_DRAWS = 10_000

__all__ = [
    "Estimate",
    "best_degree_approximation_error",
    "degree_for_tail",
    "degree_weights",
    "estimate_coefficients",
    "estimate_influences",
    "estimate_noise_sensitivity",
    "estimate_total_influence",
    "excess_error",
    "fwht",
    "influences",
    "noise_sensitivity",
    "plot_degree_profile",
    "spectrum",
    "tail_weight",
    "total_influence",
]

# The sampling estimators evaluate the function on chunks of about this many
# bytes of points, so memory stays flat for any n_draws.
_CHUNK_BYTES = 16 * 2**20


class Estimate(NamedTuple):
    r"""A Monte-Carlo estimate and its standard error.

    ``stderr`` is the sample standard deviation (``ddof=1``) of the i.i.d.
    per-sample values divided by :math:`\sqrt{m}`.  By the central limit
    theorem, ``estimate +- z * stderr`` covers the true value with
    probability about :math:`1 - 2\Phi(-z)` for large ``m``.  Unpacks as
    ``estimate, stderr = ...``.
    """

    estimate: float | np.ndarray
    stderr: float | np.ndarray


# --------------------------------------------------------------- validation
def _is_power_of_two(N: int) -> bool:
    return N >= 1 and N & (N - 1) == 0


def _check_transform_array(value, name: str) -> np.ndarray:
    """A 1-D or 2-D real array whose last axis has power-of-two length."""
    # Fast path (the common call, a float32/float64 ndarray that passes):
    # attribute tests only, since at n = 16 the checks below cost about as
    # much as a tenth of the transform.  Same result as the full checks.
    if type(value) is np.ndarray and value.dtype.char in "fd" and 1 <= value.ndim <= 2:
        N = value.shape[-1]
        if N and not N & (N - 1) and N.bit_length() - 1 <= MAX_CUBE_DIM:
            return value
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    # timedelta64 is a numpy integer subtype, but a duration is not a number.
    if array.dtype == object or array.dtype.kind == "m" or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be a real numeric array, got dtype={array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype={array.dtype}; transform the "
                        "real and imaginary parts separately")
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (one table of length 2^n) or 2-D (a batch "
                         f"of rows), got shape {array.shape}")
    N = array.shape[-1]
    if not _is_power_of_two(N):
        raise ValueError(f"{name} must have a power-of-two length along its last axis, "
                         f"got {N}; pad with zeros or fix n")
    if N.bit_length() - 1 > MAX_CUBE_DIM:
        raise ValueError(f"{name} has length 2^{N.bit_length() - 1}, beyond 2^{MAX_CUBE_DIM}")
    return array


def _check_finite_rows(array: np.ndarray, name: str, dtype) -> None:
    """Refuse NaN or infinity, using one pairwise sum per row (no temporary).

    Every coefficient of the transform is a signed sum of all entries, so a
    row with a NaN or infinity has a non-finite sum; a finite row whose sum
    overflows ``dtype`` (the precision of the transform) is one whose
    transform overflows too.
    """
    if not np.issubdtype(array.dtype, np.floating):
        return
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.sum(array, axis=-1, dtype=dtype)
    if np.all(np.isfinite(sums)):
        return
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    raise ValueError(f"{name} has entries so large that its transform overflows "
                     f"{np.dtype(dtype).name}; rescale it first")


def _check_spectrum(spec, name: str = "spec") -> tuple[np.ndarray, int]:
    """A finite float64 vector of length ``2^n`` with ``n >= 1``; returns ``(spec, n)``."""
    spec = check_vector(spec, name)
    N = spec.shape[0]
    if N < 2 or not _is_power_of_two(N):
        raise ValueError(f"{name} must have length 2^n with n >= 1 (a spectrum on the "
                         f"cube {{-1,1}}^n), got length {N}")
    return spec, N.bit_length() - 1


def _check_degree(d, n: int, name: str = "d") -> int:
    d = check_int(d, name)
    if not 0 <= d <= n:
        raise ValueError(f"{name} must be a degree in 0..n = 0..{n}, got {d}")
    return d


def _check_flip_rate(flip_rate, caller: str) -> float:
    """A flip rate in ``[0, 1/2]``.

    ``delta`` names a failure probability elsewhere in the library (the
    glossary), so the flip rate is ``flip_rate``; the callers still accept
    ``delta=`` with a :class:`FutureWarning` (``renamed_argument``).
    """
    if flip_rate is None:
        raise TypeError(f"{caller}() missing the required argument flip_rate")
    flip_rate = check_float(flip_rate, "flip_rate")
    if not 0.0 <= flip_rate <= 0.5:
        raise ValueError(f"flip_rate must be a flip probability in [0, 1/2], got {flip_rate}")
    return flip_rate


# ---------------------------------------------------------------- transform
def fwht(a, out=None, *, max_bytes=None) -> np.ndarray:
    r"""Unnormalised fast Walsh-Hadamard transform of a vector or of each row.

    .. math::

        (Ha)[S] = \sum_{i=0}^{2^n - 1} a[i]\,(-1)^{\mathrm{popcount}(i \,\&\, S)},

    i.e. :math:`\sum_x a(x)\,\chi_S(x)` in the cube index convention.  No
    factor is applied: :math:`H H a = 2^n a`, and the Fourier coefficients
    are ``fwht(f) / 2**n`` (what :func:`spectrum` returns).

    Parameters
    ----------
    a : array_like of shape (2**n,) or (m, 2**n)
        One table, or a batch of ``m`` tables transformed row by row.
        float32 and float64 are transformed in their own precision; other
        real dtypes are converted to float64.
    out : ndarray, optional
        C-contiguous, writable float32 or float64 array of ``a``'s shape to
        write the result into; ``a`` is cast into it (``same_kind``).  Pass
        ``out=a`` to transform in place without any extra memory.
    max_bytes : float, optional
        Budget for the result when ``out`` is not given.

    Returns
    -------
    ndarray
        The transform, ``out`` if it was given.

    Raises
    ------
    TypeError
        If ``a`` is not real numeric, or ``out`` is not a float32/float64
        ndarray.
    ValueError
        If the last axis of ``a`` is not a power of two, ``out`` has the
        wrong shape or layout, or ``out`` partially overlaps ``a`` (nothing
        is written in these cases); or if ``a`` contains NaN or infinity, or
        its transform overflows (some coefficient's magnitude exceeds the
        largest float of the precision: overflow is an error, never a
        silent ``inf``).  These two are found in the transform's last sweep
        (a NaN or infinite entry makes every coefficient non-finite), so
        ``out``, if given, then holds the non-finite transform: with
        ``out=a`` the input is overwritten, keep a copy if you need it
        back; ``a`` itself is untouched otherwise.
    MemoryBudgetError
        If the result would exceed ``max_bytes``.

    Notes
    -----
    Cache-blocked Cython kernel (:mod:`sparselearn._kernels._fwht`, built
    per instruction set and dispatched at import, see
    :func:`sparselearn.show_config`): one pass over memory does all levels
    inside 1 MiB blocks (2 MiB at :math:`n = B + 7`, so that the second
    pass needs no sweep of its own), and each further pass does up to 10
    levels (at most 3 in place, in column strips; more on panels gathered into a
    cache-resident buffer with the first and last levels done by the gather
    and the scatter), so a transform of length
    :math:`2^n` reads and writes memory :math:`1 + \lceil (n - B)/10 \rceil`
    times (:math:`B = 17` in float64, 18 in float32; twice up to
    :math:`n = 27`) instead of the :math:`n` times of a level-by-level
    transform; beyond the cache it runs at memory bandwidth.  The
    finiteness check adds no pass: the last sweep also sums what it writes
    (a non-finite sum on finite coefficients, which only a sum near the
    float limit gives, is settled by a scan of the output).  Blocks and
    panels are spread over the OpenMP threads (``OMP_NUM_THREADS`` or
    ``threadpoolctl`` limit them).  Levels are applied in increasing order
    on every schedule, instruction-set variant and thread count, so the
    result is bitwise the same on all of them.  Each output is a sum of
    :math:`2^n` terms formed in a balanced tree, so its rounding error is at
    most about :math:`n\,u \sum_i |a_i|` (:math:`u` the unit roundoff).

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.fourier import fwht
    >>> fwht(np.array([1.0, 0.0, 0.0, 0.0]))       # a point mass: all +1
    array([1., 1., 1., 1.])
    >>> fwht(fwht(np.array([3.0, 1.0]))) / 2        # H H = 2^n I
    array([3., 1.])
    """
    array = _check_transform_array(a, "a")
    if out is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
        check_memory(float(array.size) * np.dtype(dtype).itemsize,
                     f"the transform of a (shape {array.shape}, {np.dtype(dtype).name})",
                     max_bytes)
        result = np.array(array, dtype=dtype, order="C", copy=True)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if out.dtype not in (np.float32, np.float64):
            raise TypeError(f"out must have dtype float32 or float64, got {out.dtype}")
        if out.shape != array.shape:
            raise ValueError(f"out must have the shape of a, {array.shape}, got {out.shape}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writable (use "
                             "np.ascontiguousarray to get such an array)")
        in_place = array is out or (
            isinstance(array, np.ndarray) and array.dtype == out.dtype
            and array.__array_interface__["data"][0] == out.__array_interface__["data"][0]
            and array.strides == out.strides)
        if not in_place and np.shares_memory(array, out):
            raise ValueError("out overlaps a without being the same array; pass out=a "
                             "for an in-place transform or a separate out")
        if not in_place:
            with np.errstate(over="ignore"):  # an entry beyond float32: reported below
                np.copyto(out, array, casting="same_kind")
        result = out
    # No check before the transform: the kernel checks its output in its last
    # sweep, and a NaN or infinite entry makes every output non-finite.
    if result.size and not _fwht.fwht_rows(result.reshape(-1, result.shape[-1])):
        name = result.dtype.name
        if out is not None and in_place:
            raise ValueError(f"a contains NaN or infinite values, or entries so large that "
                             f"its transform overflows {name}: out=a now holds that "
                             f"non-finite transform (rescale a first, or keep a copy)")
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise ValueError("a contains NaN or infinite values")
        raise ValueError(f"a has entries so large that its transform overflows {name}; "
                         f"rescale it first")
    return result


def spectrum(f, *, max_bytes=None, output=None) -> np.ndarray:
    r"""Fourier coefficients :math:`\hat f(S)` of a network or a truth table.

    .. math::

        \hat f(S) = \mathbb{E}_x\bigl[f(x)\,\chi_S(x)\bigr]
                  = 2^{-n} \sum_{x \in \{-1,1\}^n} f(x)\,\chi_S(x),

    computed as ``fwht(table) / 2**n`` (docs/theory.rst, section 3).

    Parameters
    ----------
    f : SparseReLUNetwork or array_like of shape (2**n,)
        A network (its truth table comes from
        :func:`sparselearn.cube.truth_table`, ``n = f.n_features``) or a
        truth table in the cube index convention, ``n >= 1``.
    max_bytes : float, optional
        Budget for the ``8 * 2**n``-byte table; the transform then runs in
        place, so this is all the memory used.
    output : int, optional
        For a multi-output network, the output whose spectrum is computed
        (required when ``f.n_outputs > 1``); not allowed with a table.

    Returns
    -------
    ndarray of float64, shape (2**n,)
        ``spec[S]`` for each bitmask ``S``.

    Raises
    ------
    MemoryBudgetError
        If ``8 * 2**n`` bytes exceed ``max_bytes`` (before allocating).
    ValueError
        If a table's length is not ``2^n`` with ``n >= 1`` or it contains
        NaN or infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.fourier import spectrum
    >>> # f(x) = x_0 * x_1 on {-1,1}^2: table at ++, -+, +-, --
    >>> spectrum(np.array([1.0, -1.0, -1.0, 1.0]))
    array([0., 0., 0., 1.])
    """
    if isinstance(f, SparseReLUNetwork):
        from . import cube  # cube imports nothing from here; local to keep layering flat

        n = check_cube_dimension(
            f.n_features, "f.n_features", max_bytes,
            what=f"the spectrum over {{-1,1}}^{f.n_features} (2^{f.n_features} float64)")
        table = cube.truth_table(f, max_bytes=max_bytes, output=output)
        # Weights near the float64 limit overflow the network's output
        # (e.g. 1e308 * 2): refuse rather than return a spectrum of inf/NaN.
        try:
            _check_finite_rows(table, "the truth table of f", np.float64)
        except ValueError as exc:
            raise ValueError(f"{exc}: the network's outputs overflow float64 (check "
                             "f.norm_bounds()); rescale its weights") from None
    else:
        if output is not None:
            raise TypeError("output= selects an output of a multi-output network; a truth "
                            "table has one output, omit it")
        hint = _conversion_hint(f)
        if hint:
            raise TypeError(f"f must be a SparseReLUNetwork or a truth table, got "
                            f"{type(f).__name__}{hint}")
        if callable(f):
            raise TypeError("f must be a SparseReLUNetwork or a truth table; for another "
                            "function pass its table, or use the estimate_* functions")
        array = _check_transform_array(f, "f")
        if array.ndim != 1 or array.shape[0] < 2:
            raise ValueError(f"f must be a truth table of length 2^n with n >= 1, got "
                             f"shape {array.shape}")
        n = check_cube_dimension(array.shape[0].bit_length() - 1, "log2(len(f))", max_bytes,
                                 what=f"the spectrum over {{-1,1}}^"
                                      f"{array.shape[0].bit_length() - 1}")
        _check_finite_rows(array, "f", np.float64)
        table = np.array(array, dtype=np.float64, copy=True)
    # The sum check above misses a transform that overflows in another
    # coefficient ([b, -b] with b near the float64 limit: coefficient 1 is
    # 2b); the kernel's own finiteness flag catches every case.
    if not _fwht.fwht_rows(table.reshape(1, -1)):
        what = "the truth table of f" if isinstance(f, SparseReLUNetwork) else "f"
        raise ValueError(f"{what} has entries so large that its transform overflows "
                         "float64 (some sum of them with signs exceeds the largest "
                         "float); rescale it first")
    table *= 2.0 ** -n  # a power of two: exact (except where it underflows)
    return table


# ------------------------------------------------------ spectral quantities
def degree_weights(spec) -> np.ndarray:
    r"""Fourier weight at each degree, :math:`W^{=j}[f] = \sum_{|S| = j} \hat f(S)^2`.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients, as returned by :func:`spectrum`.

    Returns
    -------
    ndarray of float64, shape (n + 1,)
        ``W[j]`` for ``j = 0 .. n``; they sum to :math:`\mathbb{E}[f^2]`
        (Parseval, docs/theory.rst, section 3).

    Raises
    ------
    ValueError
        If the weights or their sum :math:`\mathbb{E}[f^2]` overflow float64
        (coefficients near 1.3e154 or beyond).

    Notes
    -----
    A Cython reduction bucketed by :math:`\mathrm{popcount}(S)`, one pass
    over ``spec`` on all threads.

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.fourier import degree_weights
    >>> degree_weights(np.array([0.5, 0.5, 0.5, 0.5]))   # W^{=0}, W^{=1}, W^{=2}
    array([0.25, 0.5 , 0.25])
    """
    spec, n = _check_spectrum(spec)
    return _degree_weights(spec, n)


def _degree_weights(spec: np.ndarray, n: int) -> np.ndarray:
    """:func:`degree_weights` of a spectrum already checked by
    :func:`_check_spectrum` (``n`` its dimension), for the functions of this
    module that validated it themselves."""
    out = np.empty(n + 1, dtype=np.float64)
    _spectral.degree_weights(spec, out)
    _check_finite_squares(out, spec)
    return out


def _check_finite_squares(sums, spec: np.ndarray) -> None:
    """A ``ValueError`` when sums of squared coefficients (``sums``, or their
    total) overflowed float64, coefficients near 1.3e154 or beyond: an
    infinite weight made ratios NaN downstream (the PAC pre-flight called
    such a target infeasible)."""
    if not np.isfinite(np.sum(sums)):
        peak = float(np.max(np.abs(spec)))
        raise ValueError(
            f"spec has coefficients up to {peak:.3g}, whose sums of squares overflow "
            "float64; rescale f by a power of two first (weights scale by its square, "
            f"ratios of them not at all), e.g. spec * 2.0**-{math.frexp(peak)[1]}")


def tail_weight(spec, d) -> float:
    r"""Fourier weight above degree ``d``, :math:`W^{>d}[f] = \sum_{|S| > d} \hat f(S)^2`.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients.
    d : int
        Degree in ``0 .. n`` (``W^{>n} = 0``).

    Returns
    -------
    float
        The tail weight; it bounds the low-degree algorithm's approximation
        error (docs/theory.rst, section 3) and satisfies Markov's bound
        :math:`W^{>d} \le I[f]/d` and, for ``d >= 2``,
        :math:`W^{\ge d} \le NS_{1/d}[f] / (1 - e^{-2})`.
    """
    spec, n = _check_spectrum(spec)
    d = _check_degree(d, n)
    weights = _degree_weights(spec, n)
    return float(weights[d + 1:].sum())


def best_degree_approximation_error(spec, d) -> float:
    r"""Squared :math:`L^2` error of the best approximation of degree at most ``d``.

    .. math::

        \min_{\deg p \le d} \mathbb{E}\bigl[(f(x) - p(x))^2\bigr]
        = \mathbb{E}\bigl[(f - f^{\le d})^2\bigr] = W^{>d}[f],

    attained by the truncation :math:`f^{\le d} = \sum_{|S| \le d}
    \hat f(S)\chi_S` since the characters are orthonormal (docs/theory.rst,
    section 3).  This is the error the low-degree algorithm pays with
    infinitely many samples.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients.
    d : int
        Degree in ``0 .. n``.

    Returns
    -------
    float
        Equal to ``tail_weight(spec, d)``.
    """
    return tail_weight(spec, d)


def excess_error(spec, model, *, max_bytes=None) -> float:
    r"""Exact excess squared error of a fitted low-degree model, from the target's spectrum.

    For :math:`h = \sum_{S} c_S \chi_S` (the model's ``coef_`` at the
    subsets :func:`~sparselearn.parities.parity_subsets` ``(n, degree_)``,
    the polynomial its ``predict`` evaluates) and a target :math:`f` with spectrum ``spec``, Parseval
    gives (docs/theory.rst, section 3)

    .. math::

        \mathbb{E}_x\bigl[(h(x) - f(x))^2\bigr] = \sum_S \bigl(c_S - \hat f(S)\bigr)^2

    under the uniform distribution on :math:`\{-1,1\}^n`, with
    :math:`c_S = 0` off the model's subsets.  This is the error
    :func:`sparselearn.pac.verify_pac` measures exactly (it calls this for a
    :class:`~sparselearn.learners.LowDegreeRegressor`) and the one the
    ``sparselearn demo`` command reports.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients of the target, in the cube index convention
        (:func:`spectrum`).
    model : LowDegreeRegressor or LowDegreeClassifier
        A fitted model on ``n`` features; its polynomial is the regressor's
        ``predict`` (the classifier's ``decision_function``) on the cube.
    max_bytes : float, optional
        Budget for the ``8 * 2**n``-byte working copy of ``spec``.

    Returns
    -------
    float
        :math:`\mathbb{E}_x[(h(x) - f(x))^2]`; with ``spec`` the spectrum of
        the noise-free target, the excess squared risk of ``h``.

    Raises
    ------
    TypeError
        If ``model`` is not a fitted low-degree model.
    ValueError
        If ``spec`` is not a spectrum, or the model was fitted on another
        ``n`` or on real-valued inputs (``domain_`` other than ``"cube"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.fourier import excess_error, spectrum
    >>> from sparselearn.learners import LowDegreeRegressor
    >>> X = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    >>> f = X[:, 0] * X[:, 1]   # the cube's points in index order
    >>> model = LowDegreeRegressor(degree=1).fit(X, f)
    >>> round(excess_error(spectrum(f), model), 12)   # misses chi_{0,1}
    1.0
    """
    spec, n = _check_spectrum(spec)
    degree, coef = getattr(model, "degree_", None), getattr(model, "coef_", None)
    if not isinstance(degree, numbers.Integral) or coef is None:
        raise TypeError("model must be a fitted LowDegreeRegressor or LowDegreeClassifier "
                        f"(with degree_ and coef_), got {type(model).__name__}")
    if getattr(model, "domain_", "cube") != "cube":
        raise ValueError(f"model was fitted with domain_={model.domain_!r}: its polynomial is "
                         "not over the cube's +-1 coordinates, so a spectrum does not give "
                         "its error (fit it on cube data, domain='cube')")
    if getattr(model, "n_features_in_", None) != n:
        raise ValueError(f"model was fitted on n_features_in_="
                         f"{getattr(model, 'n_features_in_', None)} features, but spec is "
                         f"a spectrum on {{-1,1}}^{n}")
    if not 0 <= degree <= n:
        raise ValueError(f"model.degree_={degree} is not a degree on {{-1,1}}^{n}")
    # The subsets are rebuilt from degree_, as predict does: the model's
    # subsets_ list is a description a caller may edit, not its polynomial.
    check_memory(8.0 * 2**n, f"excess_error on {{-1,1}}^{n} (a copy of spec)", max_bytes)
    subsets = parity_subsets(n, int(degree), max_bytes=max_bytes)
    coef = check_vector(coef, "model.coef_", length=len(subsets))
    return _excess_error(spec, subsets, coef)


def _excess_error(spec: np.ndarray, subsets, coef: np.ndarray) -> float:
    """:func:`excess_error` on trusted arguments: a float64 spectrum on
    ``{-1,1}^n``, subsets of ``range(n)`` (no repeats) and their coefficients."""
    difference = spec.copy()
    masks = np.fromiter((sum(1 << i for i in subset) for subset in subsets), dtype=np.int64,
                        count=len(subsets))
    difference[masks] -= coef
    return float(difference @ difference)


def degree_for_tail(f, eps, fraction=0.5, *, max_bytes=None, output=None) -> int:
    r"""The degree the low-degree algorithm needs: the smallest ``d`` with
    :math:`W^{>d}[f] \le \text{fraction} \cdot \varepsilon \cdot \mathbb{E}[f^2]`.

    Least squares over the monomials of degree :math:`\le d` has, with
    infinitely many samples, the relative error
    :math:`W^{>d}[f]/\mathbb{E}[f^2]` (:func:`best_degree_approximation_error`);
    with :math:`m` samples it adds an estimation term that
    :math:`m = O(D \log(D/\delta)/\varepsilon)` samples make
    :math:`O(\varepsilon)` (docs/theory.rst, section 3).  Choosing the
    smallest ``d`` whose tail is at most ``fraction`` of the tolerance leaves
    the share ``1 - fraction`` of :math:`\varepsilon \mathbb{E}[f^2]` for the
    estimation term, at the fewest monomials :math:`D` that allow it.  The
    tolerance is relative to :math:`\mathbb{E}[f^2]` (the zero predictor's
    error), as everywhere in the library.

    Parameters
    ----------
    f : SparseReLUNetwork or array_like of shape (2**n,)
        A network (its exact :func:`spectrum` is computed) or a spectrum.
    eps : float
        Relative tolerance :math:`\varepsilon > 0`.
    fraction : float, default=0.5
        Share of ``eps`` the approximation error may use, in ``(0, 1]``.
    max_bytes : float, optional
        Memory budget of the spectrum of a network (``8 * 2**n`` bytes).
    output : int, optional
        For a multi-output network, the output analysed (required when
        ``f.n_outputs > 1``, as in :func:`spectrum`); not allowed with a
        spectrum.

    Returns
    -------
    int
        ``d`` in ``0 .. n`` (``W^{>n} = 0``, so it always exists; ``0`` for
        the zero function).

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.fourier import degree_for_tail
    >>> # f = x_0 + 0.1 x_0 x_1: W^{>1} = 0.01 of E[f^2] = 1.01
    >>> spec = np.array([0.0, 1.0, 0.0, 0.1])
    >>> degree_for_tail(spec, eps=0.1), degree_for_tail(spec, eps=0.01)
    (1, 2)
    """
    eps = check_float(eps, "eps", minimum=0.0, strict_minimum=True)
    fraction = check_float(fraction, "fraction", minimum=0.0, maximum=1.0,
                           strict_minimum=True)
    if isinstance(f, SparseReLUNetwork):
        f = spectrum(f, max_bytes=max_bytes, output=output)
    elif output is not None:
        raise TypeError("output= selects an output of a multi-output network; a spectrum "
                        "has one output, omit it")
    spec, n = _check_spectrum(f)
    # The answer is scale-invariant, but the squares are not: beyond about
    # 1e154 they overflow (a budget of inf admits d = 0), below about 1e-162
    # they all underflow to 0.  Scaling by a power of two (exact) brings the
    # largest coefficient into [1/2, 1) first.
    peak = float(np.max(np.abs(spec)))
    if peak > 0.0:
        spec = np.ldexp(spec, -math.frexp(peak)[1])
    weights = _degree_weights(spec, n)
    budget = fraction * eps * float(weights.sum())
    tails = np.concatenate([np.cumsum(weights[::-1])[::-1][1:], [0.0]])  # W^{>d}, d = 0..n
    return int(np.flatnonzero(tails <= budget)[0])


def influences(spec) -> np.ndarray:
    r"""Influence of each coordinate, :math:`\mathrm{Inf}_i[f] = \sum_{S \ni i} \hat f(S)^2`.

    For real-valued :math:`f`,
    :math:`\mathrm{Inf}_i[f] = \mathbb{E}_x[(D_i f(x))^2]` with
    :math:`D_i f(x) = (f(x^{i \to 1}) - f(x^{i \to -1}))/2`; for
    :math:`\pm 1`-valued :math:`f` it is
    :math:`\Pr_x[f(x) \ne f(x^{\oplus i})]` (O'Donnell, ch. 2).

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients.

    Returns
    -------
    ndarray of float64, shape (n,)
        ``Inf[i]`` for coordinate ``i`` (bit ``i`` of the cube index).

    Notes
    -----
    A Cython reduction: each in-cache block of squared coefficients is
    folded in half once per low bit, one pass over ``spec`` on all threads.
    """
    spec, n = _check_spectrum(spec)
    out = np.empty(n, dtype=np.float64)
    _spectral.influences(spec, out)
    _check_finite_squares(np.max(out, initial=0.0), spec)  # each, not their sum
    return out


def total_influence(spec) -> float:
    r"""Total influence :math:`I[f] = \sum_S |S|\,\hat f(S)^2 = \sum_i \mathrm{Inf}_i[f]`.

    docs/theory.rst, section 3 (the average sensitivity for :math:`\pm 1`-valued
    :math:`f`); Markov's inequality gives :math:`W^{>d}[f] \le I[f]/d`.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients.

    Returns
    -------
    float
    """
    spec, n = _check_spectrum(spec)
    weights = _degree_weights(spec, n)
    total = float(np.arange(n + 1) @ weights)
    _check_finite_squares(total, spec)
    return total


def _noise_factors(n: int, delta: float) -> np.ndarray:
    """``1 - (1 - 2 delta)^j`` for ``j = 0 .. n``, accurate for tiny ``delta``."""
    degrees = np.arange(n + 1, dtype=np.float64)
    if delta == 0.5:
        return np.minimum(degrees, 1.0)
    return -np.expm1(degrees * math.log1p(-2.0 * delta))


def noise_sensitivity(spec, flip_rate=None, *, delta=None) -> float:
    r"""Noise sensitivity at flip rate ``flip_rate`` (docs/theory.rst's real-valued convention).

    .. math::

        NS_\delta[f] = \tfrac12\,\mathbb{E}\bigl[(f(x) - f(y))^2\bigr]
        = \sum_S \bigl(1 - (1 - 2\delta)^{|S|}\bigr)\,\hat f(S)^2,

    where :math:`x` is uniform and :math:`y` is :math:`x` with each
    coordinate flipped independently with probability :math:`\delta`
    (docs/theory.rst, section 3).  For :math:`\pm 1`-valued :math:`f` this is
    **twice** O'Donnell's :math:`\Pr[f(x) \ne f(y)]`, since
    :math:`(f(x) - f(y))^2 = 4\cdot 1[f(x) \ne f(y)]`.  With
    :math:`\delta = 1/d` (``d >= 2``),
    :math:`W^{\ge d}[f] \le NS_{1/d}[f] / (1 - e^{-2})`.

    Parameters
    ----------
    spec : array_like of shape (2**n,)
        Fourier coefficients.
    flip_rate : float
        Flip probability :math:`\delta` in ``[0, 1/2]``.
    delta : float, optional
        Deprecated name of ``flip_rate`` (a :class:`FutureWarning`).

    Returns
    -------
    float
    """
    spec, n = _check_spectrum(spec)
    flip_rate = _check_flip_rate(
        renamed_argument("noise_sensitivity", "delta", "flip_rate", delta, flip_rate, None),
        "noise_sensitivity")
    return float(_noise_factors(n, flip_rate) @ _degree_weights(spec, n))


# --------------------------------------------------------------- estimators
def _as_cube_function(f, n_features):
    """``(evaluate, n)`` for a network or a callable on ``(m, n)`` arrays of +-1.

    ``evaluate(X)`` returns a finite float64 vector of one value per row;
    a callable that returns anything else is refused with a clear message.
    """
    if isinstance(f, SparseReLUNetwork):
        n = f.n_features
        if n_features is not None and check_int(n_features, "n_features") != n:
            raise ValueError(f"n_features={n_features} does not match the network's "
                             f"n_features={n}; omit it for a network")
        if f.n_outputs > 1:
            raise ValueError(f"f has {f.n_outputs} outputs and this estimator needs a "
                             "scalar function: pass f.select_output(t) for output t")
        return f.select_output(None).forward, n
    if not callable(f) or _conversion_hint(f):
        raise TypeError("f must be a SparseReLUNetwork or a callable taking an (m, n) "
                        f"array of +-1 points, got {type(f).__name__}{_conversion_hint(f)}")
    if n_features is None:
        raise TypeError("n_features is required when f is a callable: the dimension n "
                        "of the cube {-1,1}^n it is defined on")
    n = check_int(n_features, "n_features", minimum=1)

    def evaluate(X):
        values = np.asarray(f(X))
        if values.shape != (X.shape[0],):
            raise ValueError(f"f returned shape {values.shape} for an input of shape "
                             f"{X.shape}; it must return one real value per row, shape "
                             f"({X.shape[0]},)")
        return check_vector(values, "f(X)")

    return evaluate, n


def _check_n_draws(n_draws) -> int:
    """A Monte-Carlo size ``>= 2``.

    ``n_samples`` names the training sample size elsewhere in the library
    (the glossary), so a Monte-Carlo size is ``n_draws``; the estimators
    still accept ``n_samples=`` with a :class:`FutureWarning`
    (``renamed_argument``).
    """
    return check_int(n_draws, "n_draws", minimum=2)




class _Moments:
    """Running mean and sum of squared deviations over chunks (Chan et al.),
    so estimators keep memory flat and stay accurate for any ``n_draws``."""

    def __init__(self):
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, values: np.ndarray) -> None:
        count = values.shape[0]
        mean = values.mean(axis=0)
        m2 = ((values - mean) ** 2).sum(axis=0)
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * count / total)
        self.count = total

    def estimate(self) -> Estimate:
        stderr = np.sqrt(self.m2 / (self.count - 1) / self.count)
        if np.ndim(self.mean) == 0:
            return Estimate(float(self.mean), float(stderr))
        return Estimate(np.asarray(self.mean), np.asarray(stderr))


def _chunks(n_draws: int, bytes_per_sample: float):
    """Sizes of consecutive chunks of about ``_CHUNK_BYTES`` summing to ``n_draws``."""
    size = max(1, int(_CHUNK_BYTES // max(bytes_per_sample, 1.0)))
    for start in range(0, n_draws, size):
        yield min(size, n_draws - start)


def _neighbour_estimate(evaluate, n, n_draws, rng, bytes_per_sample, neighbours,
                        statistic) -> Estimate:
    """Mean and standard error of ``statistic(f(x), f(neighbours(x)))`` over
    ``n_draws`` uniform points ``x``, chunk by chunk; ``f`` is evaluated once
    per chunk, on the points and their neighbours stacked."""
    moments = _Moments()
    for m in _chunks(n_draws, bytes_per_sample):
        X = _uniform_points(rng, m, n)
        values = evaluate(np.concatenate([X, neighbours(X)]))
        moments.add(statistic(values[:m], values[m:]))
    return moments.estimate()


def _flipped_outputs(net: SparseReLUNetwork):
    r"""The function ``X -> out``, ``out[a, i] = net(X[a] with coordinate i
    flipped)`` for +-1 rows ``X``, from one product ``X W^T`` instead of ``n``
    per row (the per-unit bounds computed once, for every chunk of draws).

    Flipping :math:`x_i` changes :math:`z_j = \langle w_j, x\rangle - b_j` by
    :math:`-2 x_i w_{ji}` (exact: a sign and a doubling).  Activity stays exact
    (``network.py``): with :math:`M_j = \|w_j\|_1 + |b_j|` and
    :math:`\hat z_j` the BLAS value, :math:`|\hat z_j - z_j| \le
    \gamma_{n+1} M_j`; the update adds one rounding and the bounds
    :math:`\hat z_j \mp 2\max_i |w_{ji}|` (which classify a unit for every
    ``i`` at once) three, so each computed value is within
    :math:`\gamma_{n+4} M_j` of the exact one, below ``band``.  A unit whose
    lower bound is above ``band`` is active at every flip (its contribution
    is linear in the flip), one whose upper bound is below ``-band`` at none;
    the others are decided flip by flip, and a flipped point with any of them
    within ``band`` of 0 is evaluated by ``net._forward`` (exact
    re-evaluation of near-ties).  With exact floats (the dyadic fast path of
    ``network.py``, with room for the update) ``band`` is 0 and nothing is near.
    """
    n = net.n_features
    W, b, u = net._weights, net._biases, net._output_weights
    magnitude = net._weights_l1 + np.abs(b)
    max_abs = np.abs(W).max(axis=1)
    exact = (net._valuation < _NO_VALUATION
             and 4.0 * net._max_magnitude <= 2.0 ** min(52 + net._valuation, 1000))
    if exact:
        band = np.zeros(b.shape)
    else:
        # (n + 5) 2^-53 covers gamma_{n+4}; 2^-20 the rounding of M_j and of
        # this product; the last term underflow of the product.
        band = (n + 5) * 2.0**-53 * (1.0 + 2.0**-20) * magnitude + (n + 5) * 2.0**-1070
    return functools.partial(_flips_of_rows, net, band, max_abs, exact)


def _flips_of_rows(net, band, max_abs, exact, X):
    """:func:`_flipped_outputs` on the rows ``X`` (the bounds of ``net`` given)."""
    m, n = X.shape
    W, b, u, c = net._weights, net._biases, net._output_weights, net._output_bias
    out = np.empty((m, n))
    rows = max(1, _CHUNK_BYTES // (8 * max(1, net.width)))
    units = max(1, _CHUNK_BYTES // (8 * n))   # sensitive units handled at a time
    near_rows, near_cols = [], []
    for start in range(0, m, rows):
        Z = X[start:start + rows] @ W.T - b
        for a, z in enumerate(Z, start):
            x = X[a]
            always = z - 2.0 * max_abs > band
            sensitive = np.flatnonzero(~always & (z + 2.0 * max_abs >= -band))
            values = (c + u[always] @ z[always]) - 2.0 * x * (u[always] @ W[always])
            near = np.zeros(n, dtype=bool)
            for first in range(0, sensitive.size, units):
                part = sensitive[first:first + units]
                Zs = z[part, None] - 2.0 * x * W[part]   # (unit, flip)
                values += u[part] @ np.where(Zs > 0.0, Zs, 0.0)
                if not exact:
                    near |= (np.abs(Zs) <= band[part, None]).any(axis=0)
            out[a] = values
            near = np.flatnonzero(near)
            near_rows.append(np.full(near.size, a))
            near_cols.append(near)
    if near_rows:
        near_rows, near_cols = np.concatenate(near_rows), np.concatenate(near_cols)
        for start in range(0, near_rows.size, rows):
            a, i = near_rows[start:start + rows], near_cols[start:start + rows]
            points = X[a]
            points[np.arange(a.size), i] *= -1.0
            out[a, i] = net._forward(points)
    return out


def estimate_influences(f, *, n_features=None, n_draws=_DEFAULT_DRAWS,
                        random_state=None, n_samples=None) -> Estimate:
    r"""Monte-Carlo estimate of every coordinate influence :math:`\mathrm{Inf}_i[f]`.

    Averages :math:`\bigl((f(x) - f(x^{\oplus i}))/2\bigr)^2 = (D_i f(x))^2`
    over ``n_draws`` uniform points :math:`x`, for every ``i`` at once
    (:math:`n + 1` evaluations per point; for a network, one product
    :math:`W x` per point, updated for each flip with activity still decided
    exactly); see :func:`influences`.

    Parameters
    ----------
    f : SparseReLUNetwork or callable
        A network, or a function taking an ``(m, n)`` float64 array of
        :math:`\pm 1` points and returning ``m`` real values.
    n_features : int, optional
        The dimension ``n``; required for a callable.
    n_draws : int, default=10_000
        Number of points :math:`x`, at least 2 (the Monte-Carlo size).
    random_state : None, int, SeedSequence or numpy.random.Generator
        Source of randomness.
    n_samples : int, optional
        Deprecated name of ``n_draws`` (a :class:`FutureWarning`).

    Returns
    -------
    Estimate
        ``estimate`` and ``stderr``, arrays of shape ``(n,)``.

    Raises
    ------
    MemoryBudgetError
        If the ``n + 1`` points of one sample (``8 n (n + 1)`` bytes) exceed
        the default budget; use :func:`estimate_total_influence` then.
    """
    evaluate, n = _as_cube_function(f, n_features)
    n_draws = _check_n_draws(renamed_argument("estimate_influences", "n_samples", "n_draws",
                                              n_samples, n_draws, _DEFAULT_DRAWS))
    # One sample needs its n + 1 points at once; refuse before allocating.
    check_memory(8.0 * n * (n + 1), f"the n + 1 = {n + 1} points evaluated per sample "
                 f"by estimate_influences (n = {n})")
    rng = check_random_state(random_state)
    if isinstance(f, SparseReLUNetwork):
        # The same draws as the general path below, without n forward passes per draw.
        # The chunks (hence the random stream) of the general path, evaluated
        # many at a time: each evaluation reads all of W once.
        net = f.select_output(None)
        flipped = _flipped_outputs(net)
        moments = _Moments()
        sizes = list(_chunks(n_draws, 8.0 * n * (n + 1)))
        batch = max(1, _CHUNK_BYTES // (8 * n))
        while sizes:
            group = [sizes.pop(0)]
            while sizes and sum(group) + sizes[0] <= batch:
                group.append(sizes.pop(0))
            X = np.concatenate([_uniform_points(rng, m, n) for m in group])
            squares = ((net._forward(X)[:, None] - flipped(X)) / 2.0) ** 2
            for part in np.split(squares, np.cumsum(group)[:-1]):
                moments.add(part)
        return moments.estimate()
    flip = 1.0 - 2.0 * np.eye(n)
    return _neighbour_estimate(
        evaluate, n, n_draws, rng, 8.0 * n * (n + 1),
        # row (a, i) = x_a with coordinate i flipped
        lambda X: (X[:, None, :] * flip).reshape(X.shape[0] * n, n),
        lambda fx, fy: ((fx[:, None] - fy.reshape(fx.shape[0], n)) / 2.0) ** 2)


def estimate_total_influence(f, *, n_features=None, n_draws=_DEFAULT_DRAWS,
                             random_state=None, n_samples=None) -> Estimate:
    r"""Monte-Carlo estimate of the total influence :math:`I[f]`.

    Each sample draws a uniform point :math:`x` and a uniform coordinate
    :math:`i` and contributes :math:`n\,((f(x) - f(x^{\oplus i}))/2)^2`,
    whose mean is :math:`\sum_i \mathrm{Inf}_i[f] = I[f]` (two evaluations
    per sample); see :func:`total_influence`.

    Parameters
    ----------
    f : SparseReLUNetwork or callable
        A network, or a function on ``(m, n)`` arrays of :math:`\pm 1` points.
    n_features : int, optional
        The dimension ``n``; required for a callable.
    n_draws : int, default=10_000
        Number of ``(x, i)`` draws, at least 2 (the Monte-Carlo size).
    random_state : None, int, SeedSequence or numpy.random.Generator
        Source of randomness.
    n_samples : int, optional
        Deprecated name of ``n_draws`` (a :class:`FutureWarning`).

    Returns
    -------
    Estimate
        Floats ``estimate`` and ``stderr``.
    """
    evaluate, n = _as_cube_function(f, n_features)
    n_draws = _check_n_draws(renamed_argument("estimate_total_influence", "n_samples", "n_draws",
                                              n_samples, n_draws, _DEFAULT_DRAWS))
    rng = check_random_state(random_state)

    def flip_one(X):  # each row with one uniform coordinate flipped
        Y = X.copy()
        Y[np.arange(X.shape[0]), rng.integers(0, n, size=X.shape[0])] *= -1.0
        return Y

    return _neighbour_estimate(evaluate, n, n_draws, rng, 16.0 * n, flip_one,
                               lambda fx, fy: n * ((fx - fy) / 2.0) ** 2)


def estimate_noise_sensitivity(f, flip_rate=None, *, n_features=None, n_draws=_DEFAULT_DRAWS,
                               random_state=None, delta=None, n_samples=None) -> Estimate:
    r"""Monte-Carlo estimate of :math:`NS_\delta[f]` (real-valued convention).

    Averages :math:`\tfrac12 (f(x) - f(y))^2` over ``n_draws`` pairs with
    :math:`x` uniform and :math:`y` equal to :math:`x` with each coordinate
    flipped independently with probability ``flip_rate``; see
    :func:`noise_sensitivity` for the convention (twice O'Donnell's for
    :math:`\pm 1`-valued functions).

    Parameters
    ----------
    f : SparseReLUNetwork or callable
        A network, or a function on ``(m, n)`` arrays of :math:`\pm 1` points.
    flip_rate : float
        Flip probability :math:`\delta` in ``[0, 1/2]``.
    n_features : int, optional
        The dimension ``n``; required for a callable.
    n_draws : int, default=10_000
        Number of pairs, at least 2 (the Monte-Carlo size).
    random_state : None, int, SeedSequence or numpy.random.Generator
        Source of randomness.
    delta : float, optional
        Deprecated name of ``flip_rate`` (a :class:`FutureWarning`).
    n_samples : int, optional
        Deprecated name of ``n_draws`` (a :class:`FutureWarning`).

    Returns
    -------
    Estimate
        Floats ``estimate`` and ``stderr``.
    """
    evaluate, n = _as_cube_function(f, n_features)
    flip_rate = _check_flip_rate(
        renamed_argument("estimate_noise_sensitivity", "delta", "flip_rate", delta, flip_rate,
                         None),
        "estimate_noise_sensitivity")
    n_draws = _check_n_draws(renamed_argument("estimate_noise_sensitivity", "n_samples", "n_draws",
                                              n_samples, n_draws, _DEFAULT_DRAWS))
    rng = check_random_state(random_state)
    return _neighbour_estimate(evaluate, n, n_draws, rng, 16.0 * n,
                               lambda X: np.where(rng.random(X.shape) < flip_rate, -X, X),
                               lambda fx, fy: 0.5 * (fx - fy) ** 2)


def _parse_subsets(subsets, n: int) -> list[np.ndarray]:
    """Coordinate arrays of ``subsets``: each an int bitmask or a sequence of
    distinct coordinates in ``[0, n)``."""
    if isinstance(subsets, (numbers.Integral, str, bytes)) or not hasattr(subsets, "__iter__"):
        raise TypeError("subsets must be a sequence of subsets, each an int bitmask or a "
                        "sequence of coordinates, e.g. [(), (0,), (1, 3)] or [0, 1, 10]")
    parsed = []
    for position, subset in enumerate(subsets):
        name = f"subsets[{position}]"
        if isinstance(subset, (numbers.Integral, np.integer)) and not isinstance(subset, bool):
            mask = int(subset)
            if mask < 0 or mask.bit_length() > n:
                raise ValueError(f"{name}={mask} is not a bitmask of a subset of the "
                                 f"n={n} coordinates (need 0 <= mask < 2^{n})")
            coords = [j for j in range(n) if mask >> j & 1]
        elif hasattr(subset, "__iter__") and not isinstance(subset, (str, bytes)):
            coords = [check_int(c, f"{name}[{i}]", minimum=0, maximum=n - 1)
                      for i, c in enumerate(subset)]
            if len(set(coords)) != len(coords):
                raise ValueError(f"{name} has repeated coordinates: {list(subset)}")
        else:
            raise TypeError(f"{name} must be an int bitmask or a sequence of coordinates, "
                            f"got {type(subset).__name__}")
        parsed.append(np.array(coords, dtype=np.int64))
    if not parsed:
        raise ValueError("subsets is empty; give at least one subset")
    return parsed


def estimate_coefficients(X, y, subsets) -> Estimate:
    r"""Estimate Fourier coefficients :math:`\hat f(S)` from a uniform sample.

    For :math:`x_a` i.i.d. uniform on the cube and :math:`y_a = f(x_a)`
    (plus any zero-mean noise), :math:`\frac1m \sum_a y_a \chi_S(x_a)` is an
    unbiased estimate of :math:`\hat f(S)` (docs/theory.rst, section 3, the
    coefficient-estimation form of the low-degree algorithm).  The sample is
    given, so there is no ``n_draws``/``random_state``: ``m = len(X)``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Points of :math:`\{-1,1\}^n`, ``m >= 2``; the estimate is unbiased
        only if they are uniform.
    y : array_like of shape (m,)
        Values at the points.
    subsets : sequence
        Each subset is either an int bitmask (bit ``j`` = coordinate ``j``,
        the cube convention) or a sequence of distinct coordinates, e.g.
        ``[0, 0b101, (1, 2)]``.

    Returns
    -------
    Estimate
        ``estimate`` and ``stderr``, arrays of shape ``(len(subsets),)``.
    """
    X = check_cube_points(X, "X")
    m, n = X.shape
    if m < 2:
        raise ValueError(f"X must have at least 2 rows for a standard error, got {m}")
    y = check_vector(y, "y", length=m)
    parsed = _parse_subsets(subsets, n)
    estimate = np.empty(len(parsed))
    stderr = np.empty(len(parsed))
    for position, coords in enumerate(parsed):
        values = y * np.prod(X[:, coords], axis=1)
        estimate[position] = values.mean()
        stderr[position] = values.std(ddof=1) / math.sqrt(m)
    return Estimate(estimate, stderr)


# ----------------------------------------------------------------- plotting
def plot_degree_profile(spectra, labels=None, *, kind="weights", normalize=True,
                        ax=None):
    r"""Plot the degree profile of one or several functions on one axes.

    Parameters
    ----------
    spectra : array_like of shape (2**n,) or sequence of them
        Fourier coefficients (from :func:`spectrum`); each may have its own
        ``n``.
    labels : sequence of str, optional
        Legend entries, one per spectrum.
    kind : {"weights", "tail"}, default="weights"
        ``"weights"`` plots :math:`W^{=j}` against ``j = 0..n``; ``"tail"``
        plots :math:`W^{>d}` against ``d = 0..n-1``, the squared error of the
        best degree-``d`` approximation.
    normalize : bool, default=True
        Divide by :math:`\mathbb{E}[f^2] = \sum_j W^{=j}`, i.e. compare the
        functions rescaled to unit norm.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure, with one curve per spectrum,
        integer ticks on the degree axis, and a title unless ``ax`` had one.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install sparselearn[plot]``).
    """
    if kind not in ("weights", "tail"):
        raise ValueError(f"kind must be 'weights' or 'tail', got {kind!r}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    if isinstance(spectra, np.ndarray) and spectra.ndim == 1:
        spectra = [spectra]
    elif isinstance(spectra, (list, tuple)) and spectra and all(
            isinstance(v, numbers.Real) for v in spectra):
        spectra = [spectra]
    spectra = list(spectra)
    if not spectra:
        raise ValueError("spectra is empty; give at least one spectrum")
    if labels is None:
        labels = [None] * len(spectra)
    elif isinstance(labels, str) or len(labels) != len(spectra):
        raise ValueError(f"labels must be a sequence of {len(spectra)} strings, one per "
                         "spectrum")
    ax = _plotting.axes("plot_degree_profile", ax)
    for position, (spec, label) in enumerate(zip(spectra, labels)):
        weights = _degree_weights(*_check_spectrum(spec, f"spectra[{position}]"))
        total = weights.sum()
        if normalize and total > 0:
            weights = weights / total
        if kind == "weights":
            ax.plot(np.arange(weights.shape[0]), weights, marker="o", label=label)
        else:
            tail = np.cumsum(weights[::-1])[::-1][1:]  # tail[d] = W^{>d}
            ax.plot(np.arange(tail.shape[0]), tail, marker="o", label=label)
    from matplotlib.ticker import MaxNLocator

    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # degrees are integers
    ax.set_xlabel("degree j" if kind == "weights" else "degree d")
    scale = " / E[f^2]" if normalize else ""
    ax.set_ylabel((r"$W^{=j}$" if kind == "weights" else r"$W^{>d}$") + scale)
    if not ax.get_title():
        ax.set_title("Fourier weight by degree" if kind == "weights"
                     else "tail weight beyond degree d")
    if any(label is not None for label in labels):
        ax.legend()
    return ax
