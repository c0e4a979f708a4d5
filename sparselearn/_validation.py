"""Argument validation shared by every public entry point.

Compiled kernels run with bounds checks off, so every array that reaches one
passes through a function here first: right number of dimensions, right
dtype and memory layout (C-contiguous float64 unless stated), finite values,
and sizes that fit in memory.  Each error names the offending argument and
says how to fix the call.
"""
from __future__ import annotations

import datetime
import numbers
import os
import sys
import warnings

import numpy as np

#: Default ceiling, in bytes, on what a single request may allocate.  Every
#: function that can allocate a ``2^n`` table or a large feature set takes a
#: ``max_bytes`` argument that overrides it.
DEFAULT_MAX_BYTES = 4 * 2**30

#: Largest cube dimension for which a ``2^n`` array is ever considered;
#: beyond this even the index arithmetic would overflow int64.
MAX_CUBE_DIM = 62


class MemoryBudgetError(ValueError):
    """A request would allocate more memory than its budget allows.

    Raised *before* allocating; the message gives the estimated figure and
    the budget, and the budget can be raised with the ``max_bytes`` argument.
    """


def format_bytes(nbytes: float) -> str:
    """Human-readable byte count (binary units)."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024.0 or unit == "PiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024.0
    raise AssertionError("unreachable")


def check_memory(nbytes: float, what: str, max_bytes: float | None = None, *,
                 remedy: str | None = None) -> None:
    """Refuse, before allocating, a request estimated to need ``nbytes``.

    Parameters
    ----------
    nbytes : float
        Estimated bytes the request needs.
    what : str
        Description of the allocation, used in the message.
    max_bytes : float, optional
        Budget; defaults to :data:`DEFAULT_MAX_BYTES`.
    remedy : str, optional
        What the caller can do, for functions that take no ``max_bytes=``
        (the default advice names it).
    """
    budget = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    # A NaN budget compares false with every need (it allowed anything), a
    # negative one refused everything with a MemoryBudgetError: both are a
    # wrong argument, not a budget (inf is a budget: no limit).
    if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, numbers.Real):
        raise TypeError(f"max_bytes must be a number of bytes (or None for the default), "
                        f"got {type(budget).__name__} {budget!r}")
    if not budget >= 0:
        raise ValueError(f"max_bytes must be a non-negative number of bytes (or None for "
                         f"the default), got {budget!r}")
    if nbytes > budget:
        if remedy is None:
            remedy = ("pass a larger max_bytes= if the machine has the memory, or reduce "
                      "the problem size.")
        error = MemoryBudgetError(
            f"{what} needs about {format_bytes(nbytes)}, more than the "
            f"{format_bytes(budget)} allowed; {remedy}"
        )
        # The parts, for messages where max_bytes= is not the caller's to pass
        # (the command line).
        error.what, error.needed, error.budget = what, nbytes, budget
        raise error


def check_int(value, name: str, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, checking type and range."""
    if (isinstance(value, (bool, np.bool_, np.timedelta64))
            or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_width_and_sparsity(s, k, names: tuple[str, str] = ("s", "k")) -> tuple[int, int]:
    """Validate a width ``s >= 1`` and a sparsity budget ``1 <= k <= s``.

    Parameters
    ----------
    s, k : int
        Width and budget.
    names : tuple of str, default=("s", "k")
        The argument names used in the messages (the theory's by default;
        an estimator passes ``("width", "sparsity")``).

    Returns
    -------
    s, k : int
        As Python ints.
    """
    s_name, k_name = names
    s = check_int(s, s_name, minimum=1)
    k = check_int(k, k_name, minimum=1)
    if k > s:
        width = f"the width s={s}" if s_name == "s" else f"{s_name}={s}"
        raise ValueError(f"{k_name}={k} exceeds {width}: a network of width {s} has at "
                         f"most {s} active units, so the budget {k_name} must satisfy "
                         f"{k_name} <= {s_name}")
    return s, k


def check_open_unit(value, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1 (a probability or fraction).

    Parameters
    ----------
    value : float
        The number to check.
    name : str
        The argument name used in the message.

    Returns
    -------
    float
    """
    value = check_float(value, name)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return value


def check_float(value, name: str, minimum: float | None = None,
                maximum: float | None = None, strict_minimum: bool = False) -> float:
    """Return ``value`` as a finite Python float within ``[minimum, maximum]``."""
    # np.timedelta64 registers as numbers.Integral, but a duration is no number.
    if (isinstance(value, (bool, np.bool_, np.timedelta64))
            or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} "
                        f"{value!r}{_float_hint(value, name)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def _float_hint(value, name: str) -> str:
    """``"; pass float(name)"`` for a 0-d real array or tensor (a number in the
    caller's eyes, such as ``np.array(1.0)`` or ``torch.tensor(1.0)``), else ``""``."""
    if np.ndim(value) != 0 or not hasattr(value, "item"):
        return ""
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError, RuntimeError):
        return ""
    return f"; pass float({name})" if kind in "iuf" else ""


def _read_array(value, name: str, what: str = "array-like of numbers", dtype=None,
                strict: bool = True, verb: str = "be") -> np.ndarray | None:
    """``np.asarray(value, dtype)``, or a ``TypeError`` "``name`` must ``verb`` ``what``"
    (``verb="return"`` for a callable's output).

    A torch tensor that requires grad makes NumPy raise torch's
    ``RuntimeError`` (its message says to detach it), which named no
    argument: it is always this ``TypeError``, keeping torch's advice.
    NumPy's own ``TypeError``/``ValueError`` (ragged lists and the like) is
    too when ``strict``; otherwise ``None`` is returned, leaving such input
    to the caller's later validation.  A Python integer beyond float64's
    range (``OverflowError``) is a ``ValueError`` naming ``name``.
    """
    try:
        return np.asarray(value, dtype=dtype)
    except OverflowError as exc:   # a Python int beyond float64 ([10**400, 1])
        raise ValueError(f"{name} must {verb} {what} within float64's range: {exc}") from None
    except (TypeError, ValueError, RuntimeError) as exc:
        if strict or isinstance(exc, RuntimeError):
            raise TypeError(f"{name} must {verb} {what}: {exc}") from None
        return None


def _as_float_array(value, name: str, exact: bool = False) -> np.ndarray:
    """``value`` as a C-contiguous float64 array (real dtypes only).

    ``exact``: refuse entries the conversion would round (64-bit integers
    beyond 2^53, long doubles), for inputs whose float64 values the caller
    computes with exactly (networks and their points).
    """
    if isinstance(value, np.ndarray) and value.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got dtype=object")
    if _is_scipy_sparse(value):
        # np.asarray would wrap it in a 0-d object array ("dtype=object").
        raise TypeError(f"{name} must be a dense array, got a SciPy sparse "
                        f"{type(value).__name__}; densify it first ({name}.toarray())")
    array = _read_array(value, name)  # ragged lists and the like refused here
    _check_real_dtype(array.dtype, name)
    converted = np.ascontiguousarray(array, dtype=np.float64)
    # The exact computations work on the float64 values: a 64-bit integer
    # beyond 2^53 (2**60 + 1) or a long double that float64 rounds would
    # silently be another number, so such input is refused.
    if exact and converted.size and array.dtype.itemsize > 4 and (
            array.dtype.kind in "iu" or array.dtype.itemsize > 8):
        with np.errstate(invalid="ignore", over="ignore"):
            inexact = converted.astype(array.dtype) != array
        if inexact.any():
            example = array[inexact].flat[0]
            raise ValueError(
                f"{name} has entries that float64 cannot hold exactly (e.g. {example!r} "
                f"of dtype {array.dtype}, which would become {float(example)!r}); the "
                f"library computes with the float64 values, so convert {name} to "
                "float64 yourself if that rounding is intended")
    return converted


def _is_scipy_sparse(value) -> bool:
    """Whether ``value`` is a SciPy sparse matrix or array (SciPy imported only
    if the caller already did: a sparse value implies it)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(value)


def _check_real_dtype(dtype: np.dtype, name: str) -> None:
    """Refuse every dtype but bool, signed/unsigned integer and real float.

    ``np.issubdtype(..., np.number)`` is not enough: it admits timedelta64
    (an integer subtype) and complex numbers.
    """
    if dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype={dtype}")
    if dtype.kind not in _REAL_KINDS:
        what = {"U": "strings", "S": "byte strings", "M": "dates (datetime64)",
                "m": "durations (timedelta64)", "O": "Python objects"}.get(dtype.kind)
        raise TypeError(f"{name} must be a numeric array, got dtype={dtype}"
                        + (f" ({what}); convert it to numbers first" if what else ""))


#: dtype kinds accepted as real numbers: bool, signed and unsigned integer, float.
_REAL_KINDS = frozenset("biuf")
_NON_NUMBER_TYPES = (str, bytes, np.str_, np.bytes_, np.datetime64, np.timedelta64,
                     datetime.date, datetime.time, datetime.timedelta)


def check_numeric_input(value, name: str) -> None:
    """Refuse strings, dates and durations in array-like ``value``.

    For inputs that scikit-learn's ``validate_data(dtype=np.float64)`` then
    converts: it would silently parse ``"1.5"``, turn a ``datetime64`` into
    its count of time units and a ``timedelta64`` into a number.  Real
    numeric arrays, lists of numbers and object arrays of numbers pass;
    ``value`` is only inspected, never changed.  Complex input is left to
    ``validate_data``, which refuses it ("Complex data not supported", the
    ``ValueError`` scikit-learn's estimator checks expect).
    """
    if hasattr(value, "dtypes") and not isinstance(value, np.ndarray):  # a DataFrame
        for dtype in np.atleast_1d(getattr(value, "dtypes")):
            if isinstance(dtype, np.dtype) and dtype.kind not in "Oc":
                _check_real_dtype(dtype, name)
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        if dtype.kind != "c":
            _check_real_dtype(dtype, name)
        return
    array = _read_array(value, name, dtype=None if dtype is None else object, strict=False)
    if array is None:
        return  # ragged and the like: left to the caller's own validation
    if array.dtype.kind != "O":
        if array.dtype.kind != "c":
            _check_real_dtype(array.dtype, name)
        return
    for item in array.flat:
        if isinstance(item, _NON_NUMBER_TYPES):
            raise TypeError(f"{name} must hold numbers, found {type(item).__name__} "
                            f"{item!r}; convert it to numbers first")


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside the package:
    the line of the user's code that called into sparselearn, however deep
    the library's own frames go (a fixed ``stacklevel`` pointed into
    sparselearn/learners.py, and moved with every refactoring).  Frames of
    scikit-learn and joblib are passed over too, so a fit inside a
    ``Pipeline`` or ``GridSearchCV`` names the line that fitted it, not
    sklearn/pipeline.py; with no such line (a joblib worker process) the
    warning names the first frame outside sparselearn."""
    import joblib
    import sklearn

    own = os.path.dirname(os.path.abspath(__file__)) + os.sep
    passed_over = (own,) + tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                                 for module in (sklearn, joblib))
    frame, level, outside_own = sys._getframe(1), 2, None
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if outside_own is None and not filename.startswith(own):
            outside_own = level
        if not filename.startswith(passed_over):
            break
        frame, level = frame.f_back, level + 1
    if frame is None and outside_own is not None:
        level = outside_own
    warnings.warn(message, category, stacklevel=level)


def check_labels(value, name: str) -> None:
    """Refuse class labels NumPy cannot read as an array (a torch tensor that
    requires grad: torch's RuntimeError says to detach it) and missing labels
    (NaN, ``None``, ``pd.NA``, ``NaT``: scikit-learn's "Input contains NaN"
    named no argument, and pandas' ``string`` dtype raised "boolean value of
    NA is ambiguous"); strings and any other labels are left to
    scikit-learn's own checks."""
    array = _read_array(value, name, what="array-like", strict=False)
    if array is None or array.ndim == 0 or array.dtype.kind not in "fOmM":
        return
    if array.dtype.kind != "O":
        missing = np.isnan(array)
    else:
        missing = np.fromiter((_is_missing(item) for item in array.flat), bool,
                              array.size).reshape(array.shape)
    if missing.any():
        where = tuple(int(i) for i in np.argwhere(missing)[0])
        raise ValueError(f"{name} has a missing label at position "
                         f"{where[0] if len(where) == 1 else where} "
                         f"({array[where]}); drop those samples or fill in "
                         "their labels first")


def _is_missing(item) -> bool:
    """Whether an object entry is a missing value: None, a float NaN, pandas'
    ``NA`` and ``NaT`` (pandas is not imported: a pandas value implies it)."""
    if item is None or type(item).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return isinstance(item, (float, np.floating, np.datetime64, np.timedelta64)) \
            and bool(np.isnan(item))
    except TypeError:
        return False


def check_vector(value, name: str, length: int | None = None,
                 exact: bool = False) -> np.ndarray:
    """A finite 1-D float64 C-contiguous array, optionally of a given length
    (``exact``: see :func:`_as_float_array`)."""
    array = _as_float_array(value, name, exact)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_matrix(value, name: str, n_columns: int | None = None,
                 allow_empty_rows: bool = False,
                 layout: str = "of shape (n_samples, n_features)",
                 exact: bool = False) -> np.ndarray:
    """A finite 2-D float64 C-contiguous array, optionally with ``n_columns``;
    ``layout`` says in errors what its rows and columns are (points by default);
    ``exact``: see :func:`_as_float_array`."""
    array = _as_float_array(value, name, exact)
    if array.ndim != 2:
        hint = (" (use X.reshape(1, -1) for a single point)"
                if array.ndim == 1 and "n_samples" in layout else "")
        raise ValueError(f"{name} must be 2-D {layout}, got shape {array.shape}{hint}")
    if array.shape[0] == 0 and not allow_empty_rows:
        raise ValueError(f"{name} has no rows")
    if n_columns is not None and array.shape[1] != n_columns:
        raise ValueError(f"{name} must have {n_columns} columns, got {array.shape[1]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_cube_points(value, name: str, n_features: int | None = None) -> np.ndarray:
    """A 2-D float64 array whose entries are all exactly ``+1`` or ``-1``."""
    array = check_matrix(value, name, n_columns=n_features)
    if not np.all(np.abs(array) == 1.0):
        raise ValueError(f"{name} must be a point set of the cube {{-1, 1}}^n: "
                         "every entry must be exactly +1 or -1 (map {0, 1} data with "
                         "X = 1 - 2 * X01)")
    return array


def check_cube_dimension(n, name: str = "n", max_bytes: float | None = None,
                         bytes_per_point: int = 8, what: str | None = None) -> int:
    """Validate a cube dimension for which a ``2^n`` array will be allocated."""
    n = check_int(n, name, minimum=1)
    if n > MAX_CUBE_DIM:
        raise MemoryBudgetError(
            f"{name}={n}: a table over {{-1,1}}^{n} has 2^{n} entries, beyond "
            "any machine; use the sampling estimators instead."
        )
    check_memory(float(bytes_per_point) * 2.0**n,
                 what or f"a table over the cube {{-1,1}}^{n} (2^{n} entries)",
                 max_bytes)
    return n


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Accepts ``None`` (fresh entropy), an int seed, a
    :class:`numpy.random.SeedSequence`, a ``Generator`` (used as is), or a
    legacy :class:`numpy.random.RandomState`, scikit-learn's convention: a
    seed is drawn from it, so it advances as scikit-learn's estimators
    advance it (the same instance gives another stream on each call; the
    same seed behind it, the same stream).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError("random_state must be None, an int, a SeedSequence, a "
                        "numpy.random.Generator or a numpy.random.RandomState, got "
                        f"{type(random_state).__name__}")
    if random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    return np.random.default_rng(int(random_state))



# ------------------------------------------------- estimator parameter constraints
# The pattern of scikit-learn's ``_parameter_constraints`` class attribute and
# ``validate_parameter_constraints`` (sklearn/utils/_param_validation.py).
# That module is private in scikit-learn, so the pattern is copied here, cut
# down to the constraint kinds the estimators use, rather than imported; the
# checks delegate to the functions above, so the messages are theirs.
class Interval:
    """Numbers of ``kind`` (:class:`numbers.Integral` or :class:`numbers.Real`)
    between ``left`` and ``right`` (``None``: unbounded); ``closed`` says which
    ends belong: ``"left"``, ``"right"``, ``"both"`` or ``"neither"``;
    ``description`` replaces the generated one (``an int >= 2``) in messages."""

    def __init__(self, kind, left=None, right=None, closed="left", description=None):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        self.description = description

    def accepts_type(self, value) -> bool:
        return (isinstance(value, self.kind)
                and not isinstance(value, (bool, np.bool_, np.timedelta64)))

    def check(self, value, name: str):
        if self.kind is numbers.Integral:
            value = check_int(value, name, minimum=self.left)
            if self.left is not None and self.closed in ("right", "neither") \
                    and value <= self.left:
                raise ValueError(f"{name} must be > {self.left}, got {value}")
        else:
            value = check_float(value, name, minimum=self.left,
                                strict_minimum=self.closed in ("right", "neither"))
        if self.right is not None:
            if self.closed in ("right", "both"):
                if value > self.right:
                    raise ValueError(f"{name} must be <= {self.right}, got {value}")
            elif value >= self.right:
                raise ValueError(f"{name} must be < {self.right}, got {value}")
        return value

    def __str__(self) -> str:
        if self.description is not None:
            return self.description
        what = "an int" if self.kind is numbers.Integral else "a float"
        if self.left is not None and self.right is not None:
            brackets = {"left": "[)", "right": "(]", "both": "[]", "neither": "()"}[self.closed]
            return f"{what} in {brackets[0]}{self.left}, {self.right}{brackets[1]}"
        if self.left is not None:
            return f"{what} {'>=' if self.closed in ('left', 'both') else '>'} {self.left}"
        if self.right is not None:
            return f"{what} {'<=' if self.closed in ('right', 'both') else '<'} {self.right}"
        return what


class StrOptions:
    """One of ``options`` (a tuple); ``description`` replaces ``one of (...)``
    in the message."""

    def __init__(self, options: tuple, description: str | None = None):
        self.options, self.description = tuple(options), description

    def accepts_type(self, value) -> bool:
        return True

    def check(self, value, name: str):
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(f"{name} must be {self}, got {value!r}")
        return value

    def __str__(self) -> str:
        return self.description or f"one of {self.options}"


class _Boolean:
    def accepts_type(self, value) -> bool:
        return True

    def check(self, value, name: str) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {type(value).__name__} "
                            f"{value!r}")
        return bool(value)

    def __str__(self) -> str:
        return "True or False"


class _RandomState:
    def accepts_type(self, value) -> bool:
        return True

    def check(self, value, name: str):
        # A RandomState is only checked for its type: check_random_state
        # draws a seed from it, which validation must not do.
        if not isinstance(value, np.random.RandomState):
            check_random_state(value)  # names random_state itself
        return value

    def __str__(self) -> str:
        return ("None, an int, a SeedSequence, a numpy.random.Generator or a "
                "numpy.random.RandomState")


#: Constraint for a flag (``True``/``False``, NumPy bools included).
BOOLEAN = _Boolean()
#: Constraint for a ``random_state`` argument (see :func:`check_random_state`).
RANDOM_STATE = _RandomState()


def validate_parameters(constraints: dict, params: dict) -> dict:
    """Check ``params`` against ``constraints``; returns the checked values.

    ``constraints`` maps a parameter name to a list of alternatives: an
    :class:`Interval`, a :class:`StrOptions`, :data:`BOOLEAN`,
    :data:`RANDOM_STATE`, or a literal (``None``, ``-1``) the value may
    equal.  The first non-literal alternative is the parameter's main form
    and reports its own error (the message of :func:`check_int`,
    :func:`check_float`, ...); a value that only a later alternative's type
    admits, or none, is refused with every alternative listed (a
    ``ValueError``, or a ``TypeError`` when no alternative takes its type).
    """
    checked = {}
    for name, alternatives in constraints.items():
        checked[name] = _check_parameter(name, params[name], alternatives)
    return checked


def _check_parameter(name: str, value, alternatives):
    literals = [c for c in alternatives if not hasattr(c, "check")]
    forms = [c for c in alternatives if hasattr(c, "check")]
    # A literal number matches a value of its own kind only (n_jobs=-1.0 is
    # a float, refused like 1.0, not the literal -1).
    if any(value is c or (c is not None and isinstance(value, numbers.Number)
                          and not isinstance(value, (bool, np.bool_)) and value == c
                          and (isinstance(value, numbers.Integral)
                               or not isinstance(c, numbers.Integral)))
           for c in literals):
        return value
    typed = [c for c in forms if c.accepts_type(value)]
    if len(forms) == 1 or forms[0] in typed:
        try:
            return forms[0].check(value, name)
        except (TypeError, ValueError):
            for form in typed[1:] if forms[0] in typed else ():
                try:
                    return form.check(value, name)
                except (TypeError, ValueError):
                    pass
            raise
    for form in typed:
        try:
            return form.check(value, name)
        except (TypeError, ValueError):
            pass
    allowed = " or ".join([repr(c) for c in literals] + [str(c) for c in forms])
    if not typed:
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
    raise ValueError(f"{name} must be {allowed}, got {value!r}")
