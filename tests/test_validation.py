"""Tests for sparselearn._validation: the argument checks every entry point
shares refuse what is not a real number (strings, dates, durations, complex,
NaN/inf) with an error naming the argument."""
import datetime
import numbers

import numpy as np
import pytest

from sparselearn._validation import (BOOLEAN, RANDOM_STATE, Interval, StrOptions,
                                     check_cube_points, check_float, check_int, check_labels,
                                     check_matrix, check_numeric_input, check_vector,
                                     validate_parameters)


@pytest.mark.parametrize("value", [np.timedelta64(3), np.timedelta64(3, "s"),
                                   np.array([3], dtype="m8[s]")[0]])
def test_scalar_checks_refuse_durations(value):
    # np.timedelta64 registers as numbers.Integral, so it used to pass as 3.0.
    with pytest.raises(TypeError, match="output_bias must be a real number"):
        check_float(value, "output_bias")
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        check_int(value, "n_samples")


@pytest.mark.parametrize("value", ["1.5", np.str_("1.5"), b"1.5", np.array("1.5"),
                                   np.datetime64("2020-01-01"), datetime.timedelta(1),
                                   1 + 0j, np.complex128(1.0)])
def test_check_float_refuses_non_numbers(value):
    with pytest.raises(TypeError, match="output_bias must be a real number"):
        check_float(value, "output_bias")


def test_random_state_constraint_takes_a_random_state_without_drawing_from_it():
    state = np.random.RandomState(0)
    expected = np.random.RandomState(0).randint(0, 2**63 - 1, dtype=np.int64)
    assert validate_parameters({"random_state": [RANDOM_STATE]},
                               {"random_state": state})["random_state"] is state
    assert state.randint(0, 2**63 - 1, dtype=np.int64) == expected   # not advanced


def test_check_float_says_how_to_pass_a_zero_dimensional_array():
    """bounds(W=np.array(1.0), ...) said only 'must be a real number'."""
    torch = pytest.importorskip("torch")
    for value in (np.array(1.0), np.array(3, dtype=np.int8), torch.tensor(1.0)):
        with pytest.raises(TypeError, match=r"W must be a real number, .*; pass float\(W\)$"):
            check_float(value, "W")
    for value in (np.array("1.5"), np.array(True), np.array([1.0]), np.array(1j)):
        with pytest.raises(TypeError, match="W must be a real number") as error:
            check_float(value, "W")
        assert "pass float" not in str(error.value)


@pytest.mark.parametrize("values", [
    np.array([3, 4], dtype="m8[s]"),
    np.array(["2020-01-01", "2020-01-02"], dtype="M8[D]"),
    np.array(["1.5", "2"]),
    ["1.5", "2"],
    np.array([b"1", b"2"]),
])
def test_array_checks_refuse_strings_dates_and_durations(values):
    with pytest.raises(TypeError, match="biases must be a numeric array"):
        check_vector(values, "biases")
    with pytest.raises(TypeError, match="weights must be a numeric array"):
        check_matrix(np.asarray(values).reshape(1, -1), "weights")
    with pytest.raises(TypeError, match="X must be a numeric array"):
        check_cube_points(np.asarray(values).reshape(1, -1), "X")


def test_array_checks_refuse_complex_and_non_finite():
    with pytest.raises(TypeError, match="weights must be real"):
        check_matrix(np.ones((2, 2)) + 0j, "weights")
    with pytest.raises(TypeError, match="biases must be real"):
        check_vector([1j, 2.0], "biases")
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="biases contains NaN or infinite"):
            check_vector([1.0, bad], "biases")
        with pytest.raises(ValueError, match="output_bias must be finite"):
            check_float(bad, "output_bias")
    # Real dtypes still pass, converted to float64.
    for dtype in (np.bool_, np.int8, np.uint64, np.float16, np.float32):
        assert check_vector(np.ones(3, dtype=dtype), "v").dtype == np.float64


def test_array_checks_refuse_scipy_sparse_by_name():
    # np.asarray wraps a sparse matrix in a 0-d object array: the message
    # was "X must be a numeric array, got dtype=object".
    scipy_sparse = pytest.importorskip("scipy.sparse")
    for sparse in (scipy_sparse.csr_matrix(np.eye(3)), scipy_sparse.csr_array(np.eye(3))):
        with pytest.raises(TypeError, match=r"X must be a dense array, got a SciPy sparse "
                                            r"csr_\w+; densify it first \(X.toarray\(\)\)"):
            check_matrix(sparse, "X")
        assert check_matrix(sparse.toarray(), "X").shape == (3, 3)


@pytest.mark.parametrize("X", [
    np.array([["1", "-1"], ["-1", "1"]]),
    [[1.0, "-1"], [-1.0, 1.0]],
    np.array([[1.0, "-1"], [-1.0, 1.0]], dtype=object),
    np.array([[1, -1], [-1, 1]]).astype("M8[s]"),
    np.array([[1, -1], [-1, 1]]).astype("m8[s]"),
    np.array([[datetime.date(2020, 1, 1)]], dtype=object),
])
def test_check_numeric_input_refuses_what_scikit_learn_would_parse(X):
    """validate_data(dtype=float64) parses "1.5" and casts dates to numbers."""
    with pytest.raises(TypeError, match="^X must"):
        check_numeric_input(X, "X")


def test_check_numeric_input_passes_numbers_unchanged():
    X = np.array([[1.0, -1.0]])
    for value in (X, X.tolist(), X.astype(object), X.astype(np.int64), X.astype(bool),
                  X + 0j):  # complex is left to scikit-learn's own ValueError
        check_numeric_input(value, "X")
    pd = pytest.importorskip("pandas")
    check_numeric_input(pd.DataFrame(X), "X")
    with pytest.raises(TypeError, match="X must hold numbers, found str"):
        check_numeric_input(pd.DataFrame({"a": [1.0], "b": ["x"]}), "X")


def test_a_torch_tensor_that_requires_grad_is_a_type_error_naming_the_argument():
    """NumPy cannot read a tensor that requires grad: torch's RuntimeError
    came out of the estimators' fit; now a TypeError names X or y and keeps
    torch's advice to detach."""
    torch = pytest.importorskip("torch")
    from sparselearn import LowDegreeRegressor
    from sparselearn.erm import SparseReLURegressor
    X = torch.ones((8, 3), dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError, match=r"^X must be array-like of numbers: .*detach"):
        check_numeric_input(X, "X")
    check_numeric_input(X.detach(), "X")  # a plain tensor converts
    # The same conversion in the float-array checks and the label check.
    with pytest.raises(TypeError, match=r"^X must be array-like of numbers: .*detach"):
        check_matrix(X, "X")
    with pytest.raises(TypeError, match=r"^w must be array-like of numbers: .*detach"):
        check_vector(X[0], "w")
    assert check_matrix(X.detach(), "X").shape == (8, 3)
    with pytest.raises(TypeError, match=r"^y must be array-like: .*detach"):
        check_labels(X[:, 0], "y")
    check_labels(X[:, 0].detach(), "y")
    check_labels([[0], [1, 2]], "y")  # ragged labels: left to scikit-learn's checks
    y = torch.linspace(-1.0, 1.0, 8, requires_grad=True)
    for estimator in (LowDegreeRegressor(degree=1), SparseReLURegressor(width=2, sparsity=1)):
        with pytest.raises(TypeError, match=r"^X must be array-like of numbers"):
            estimator.fit(X, y.detach().numpy())
        with pytest.raises(TypeError, match=r"^y must be array-like of numbers"):
            estimator.fit(X.detach().numpy(), y)
    from sparselearn import LowDegreeClassifier
    from sparselearn.erm import SparseReLUClassifier
    labels = torch.tensor([0.0, 1.0] * 4, requires_grad=True)
    for classifier in (LowDegreeClassifier(degree=1), SparseReLUClassifier(width=2, sparsity=1)):
        with pytest.raises(TypeError, match=r"^y must be array-like: .*detach"):
            classifier.fit(X.detach().numpy(), labels)


# ------------------------------------------------------ parameter constraints
_CONSTRAINTS = {
    "count": [None, -1, Interval(numbers.Integral, 1)],
    "rate": [Interval(numbers.Real, 0, 1, "right")],
    "split": [Interval(numbers.Integral, 2), Interval(numbers.Real, 0, 1, "neither")],
    "kind": [StrOptions(("a", "b"))],
    "flag": [BOOLEAN],
    "seed": [RANDOM_STATE],
}
_GOOD = {"count": 3, "rate": 1.0, "split": 5, "kind": "a", "flag": np.True_, "seed": 7}


def test_validate_parameters_returns_the_checked_values():
    checked = validate_parameters(_CONSTRAINTS, _GOOD)
    assert checked == {"count": 3, "rate": 1.0, "split": 5, "kind": "a", "flag": True,
                       "seed": 7}
    assert type(checked["flag"]) is bool
    for count in (None, -1, 1, np.int64(4)):
        assert validate_parameters(_CONSTRAINTS, {**_GOOD, "count": count})["count"] == count
    assert validate_parameters(_CONSTRAINTS, {**_GOOD, "split": 0.25})["split"] == 0.25


@pytest.mark.parametrize("name, value, error, match", [
    # One non-literal form: its own check's message (check_int, check_float).
    ("count", 0, ValueError, "^count must be >= 1, got 0$"),
    ("count", 1.5, TypeError, "^count must be an integer, got float 1.5$"),
    ("count", True, TypeError, "^count must be an integer, got bool True$"),
    ("count", -1.0, TypeError, "^count must be an integer, got float -1.0$"),
    ("rate", 0.0, ValueError, "^rate must be > 0, got 0.0$"),
    ("rate", 1.5, ValueError, "^rate must be <= 1, got 1.5$"),
    ("rate", "x", TypeError, "^rate must be a real number"),
    # Several forms: the first reports its own error, a value only a later
    # form's type admits (or none) gets them all listed.
    ("split", 1, ValueError, "^split must be >= 2, got 1$"),
    ("split", 1.5, ValueError, r"^split must be an int >= 2 or a float in \(0, 1\), got 1.5$"),
    ("split", "x", TypeError, r"^split must be an int >= 2 or a float in \(0, 1\), got str"),
    ("split", None, TypeError, "^split must be an int >= 2 or a float in"),
    ("kind", "c", ValueError, r"^kind must be one of \('a', 'b'\), got 'c'$"),
    ("kind", 1, ValueError, r"^kind must be one of \('a', 'b'\), got 1$"),
    ("flag", 1, TypeError, "^flag must be True or False, got int 1$"),
    ("seed", -1, ValueError, "^random_state must be non-negative"),
])
def test_validate_parameters_names_the_parameter(name, value, error, match):
    with pytest.raises(error, match=match):
        validate_parameters(_CONSTRAINTS, {**_GOOD, name: value})


def test_integer_interval_open_at_the_left_refuses_its_end():
    positive = {"count": [Interval(numbers.Integral, 0, 3, closed="neither")]}
    assert validate_parameters(positive, {"count": 1}) == {"count": 1}
    for value, match in ((0, "^count must be > 0, got 0$"), (3, "^count must be < 3, got 3$")):
        with pytest.raises(ValueError, match=match):
            validate_parameters(positive, {"count": value})



@pytest.mark.parametrize("max_bytes, error", [(float("nan"), ValueError), (-1, ValueError),
                                              ("1e9", TypeError), (True, TypeError)])
def test_check_memory_refuses_a_budget_that_is_not_one(max_bytes, error):
    """A NaN budget compared false with every need and allowed any
    allocation; a negative one raised MemoryBudgetError ("more than the -1 B
    allowed"), as if the request were too large."""
    from sparselearn import SparseReLUNetwork, cube
    from sparselearn._validation import MemoryBudgetError, check_memory

    with pytest.raises(error, match="max_bytes must be"):
        check_memory(64.0, "a table", max_bytes)
    with pytest.raises(error, match="max_bytes must be"):
        cube.truth_table(SparseReLUNetwork(np.ones((1, 3)), [0.0], [1.0]), max_bytes=max_bytes)
    check_memory(64.0, "a table", float("inf"))   # no limit
    check_memory(64.0, "a table", np.int64(64))
    with pytest.raises(MemoryBudgetError):
        check_memory(64.0, "a table", 0)
