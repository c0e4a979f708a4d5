"""Tests for sparselearn.pac: the PAC-verification harness and the low-degree
learner's PAC guarantee on oracle targets.

Independent computations used as references: the Clopper-Pearson end points
are checked against binomial tail probabilities; exact errors against brute
force over ``all_cube_points``; spectra come from a plain Walsh-Hadamard
transform written here; and a toy problem (estimating a constant under
Gaussian noise) has a closed-form sample complexity.
"""
import itertools
import json
import math
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm
from sklearn.neural_network import MLPRegressor
from strategies import all_cube_points

from sparselearn import SparseReLUNetwork
from sparselearn.pac import (InfeasibleWarning, PACResult, SampleComplexityResult,
                             clopper_pearson, plot_sample_complexity, sample_complexity_curve,
                             verify_pac)
from sparselearn.targets import bump_network, junta_network, random_network

from sparselearn.learners import LowDegreeRegressor


# ------------------------------------------------------------ test helpers
class ParityLeastSquares:
    """Ordinary least squares on the explicit parity features chi_S, |S| <= d."""

    def __init__(self, degree):
        self.degree = degree

    def _features(self, X):
        return np.column_stack([np.prod(X[:, list(S)], axis=1) for S in self.subsets_])

    def fit(self, X, y):
        n = X.shape[1]
        self.subsets_ = [S for j in range(self.degree + 1)
                         for S in itertools.combinations(range(n), j)]
        self.coef_ = np.linalg.lstsq(self._features(X), y, rcond=None)[0]
        return self

    def predict(self, X):
        return self._features(X) @ self.coef_


def low_degree_learner(degree):
    """The library's learner at a fixed degree."""
    return lambda: LowDegreeRegressor(degree=degree)


class ZeroPredictor:
    """A deliberately broken learner: ignores the data and predicts 0."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(X.shape[0])


class MeanPredictor:
    """Predicts the sample mean of the labels (a constant)."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.mean_)


def constant_target(value):
    return lambda rng: (lambda X: np.full(X.shape[0], float(value)))


def walsh_hadamard(table):
    """Fourier coefficients fhat[S] of a truth table (cube index convention)."""
    a = np.array(table, dtype=np.float64)
    h = 1
    while h < a.size:
        a = a.reshape(-1, 2, h)
        a = np.stack([a[:, 0] + a[:, 1], a[:, 0] - a[:, 1]], axis=1).reshape(-1)
        h *= 2
    return a / a.size


def tail_weights(net):
    """tails[d] = W^{>d}[f] = sum_{|S| > d} fhat(S)^2, for d = 0..n (exact)."""
    n = net.n_features
    fhat = walsh_hadamard(net(all_cube_points(n)))
    sizes = np.array([bin(S).count("1") for S in range(2**n)])
    level = np.bincount(sizes, weights=fhat**2, minlength=n + 1)
    return np.concatenate([level[::-1].cumsum()[::-1][1:], [0.0]])


def normalised(net):
    """The same network scaled so that E[f^2] = 1 over the cube."""
    scale = math.sqrt(np.mean(net(all_cube_points(net.n_features)) ** 2))
    return SparseReLUNetwork(net.weights, net.biases, net.output_weights / scale,
                             net.output_bias / scale)


# docs/theory.rst, section 3: if W^{>d}[f] <= eps/2, least squares over the D monomials
# of degree <= d with m = C D log(D / delta) / eps samples has excess error
# O(eps) w.p. 1 - delta.  The constant C is not known; these tests take C = 1,
# an empirical choice, not a proved one.  The failure probabilities stated in
# the tests below are therefore conditional on that premise (error <= eps at
# this m with probability >= 1 - delta); unconditionally the tests are seeded
# regression checks of the observed margins.
C_SAMPLES = 1.0


def theory_plan(tails, n, eps, delta):
    """Degree d with W^{>d} <= eps/2, D = sum_{j<=d} C(n, j), m = C D log(D/delta)/eps."""
    d = int(np.flatnonzero(tails <= eps / 2)[0])
    D = sum(math.comb(n, j) for j in range(d + 1))
    return d, D, math.ceil(C_SAMPLES * D * math.log(D / delta) / eps)


# ------------------------------------------------------ Clopper-Pearson
@given(trials=st.integers(1, 300), frac=st.floats(0, 1),
       confidence=st.sampled_from([0.5, 0.9, 0.95, 0.99, 0.999]))
def test_clopper_pearson_solves_the_binomial_tail_equations(trials, frac, confidence):
    x = round(frac * trials)
    lower, upper = clopper_pearson(x, trials, confidence)
    alpha = 1 - confidence
    assert 0.0 <= lower <= x / trials <= upper <= 1.0
    # Definition: P_lower[X >= x] = alpha/2 and P_upper[X <= x] = alpha/2.
    if x == 0:
        assert lower == 0.0
    else:
        assert binom.sf(x - 1, trials, lower) == pytest.approx(alpha / 2, rel=1e-6)
    if x == trials:
        assert upper == 1.0
    else:
        assert binom.cdf(x, trials, upper) == pytest.approx(alpha / 2, rel=1e-6)


@pytest.mark.parametrize("trials", [1, 7, 40, 1000])
def test_clopper_pearson_closed_forms_at_the_extremes(trials):
    # x = t: P_p[X >= t] = p^t, so lower = (alpha/2)^(1/t); x = 0 is its mirror.
    alpha = 0.05
    lower, upper = clopper_pearson(trials, trials, 0.95)
    assert lower == pytest.approx((alpha / 2) ** (1 / trials), rel=1e-12) and upper == 1.0
    lower, upper = clopper_pearson(0, trials, 0.95)
    assert lower == 0.0 and upper == pytest.approx(1 - (alpha / 2) ** (1 / trials), rel=1e-12)


@pytest.mark.parametrize("args, error, match", [
    ((5, 4), ValueError, "successes must be <= 4"),
    ((-1, 4), ValueError, "successes must be >= 0"),
    ((1, 0), ValueError, "trials must be >= 1"),
    ((1, 4, 1.0), ValueError, "confidence must lie strictly between 0 and 1"),
    ((1.5, 4), TypeError, "successes must be an integer"),
])
def test_clopper_pearson_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        clopper_pearson(*args)


# ------------------------------------------------------ exact error values
def test_exact_error_of_zero_predictor_is_the_mean_square_of_the_target():
    n = 7
    result = verify_pac(ZeroPredictor, lambda rng: bump_network(n, 6, 2, random_state=rng),
                        50, eps=0.1, delta=0.1, trials=4, random_state=11,
                        eps_scale="absolute")
    assert result.exact and result.n_draws == 2**n
    for i, seed in enumerate(_trial_target_seeds(result)):
        net = bump_network(n, 6, 2, random_state=np.random.default_rng(seed))
        brute = np.mean(net(all_cube_points(n)) ** 2)
        assert result.errors[i] == pytest.approx(brute, rel=1e-12)
        assert result.target_norms[i] == pytest.approx(brute, rel=1e-12)
    np.testing.assert_array_equal(result.stderr, 0.0)


def _trial_target_seeds(result):
    """Trial i's target seed, rebuilt from the documented seeding scheme."""
    for i in range(result.trials):
        child = np.random.SeedSequence(result.seed.entropy,
                                       spawn_key=result.seed.spawn_key + (i,))
        yield child.spawn(3)[0]


def test_exact_error_of_a_linear_fit_matches_brute_force():
    # A fixed target (same every trial); the learner's own predictions on the
    # cube, computed here, give the error independently of the harness.
    n = 6
    net = bump_network(n, 4, 2, random_state=3)
    fitted = []

    class RecordingLinear(ParityLeastSquares):
        def fit(self, X, y):
            super().fit(X, y)
            fitted.append(self)
            return self

    result = verify_pac(lambda: RecordingLinear(1), lambda rng: net, 30, eps=0.1,
                        delta=0.1, trials=3, random_state=5, eps_scale="absolute")
    X = all_cube_points(n)
    # Trials may run in any order (results come back in trial order), so
    # compare as sorted lists.
    brute = sorted(np.mean((learner.predict(X) - net(X)) ** 2) for learner in fitted)
    np.testing.assert_allclose(np.sort(result.errors), brute, rtol=1e-10)


class _WalkedRegressor(LowDegreeRegressor):
    """The same fits; as a subclass (which could predict otherwise) the trial
    measures its error by walking the cube with predict."""


def test_low_degree_error_by_parseval_equals_the_walk(monkeypatch):
    """A LowDegreeRegressor's exact error is fourier.excess_error of the
    target's spectrum; it equals the mean of (h - f)^2 over the cube."""
    from sparselearn import fourier

    calls = []
    original = fourier.excess_error
    monkeypatch.setattr(fourier, "excess_error",
                        lambda *a, **kw: calls.append(1) or original(*a, **kw))
    n = 8
    make_target = lambda rng: random_network(n, 5, random_state=rng, bias_quantile=0.7)
    args = (make_target, 150, 0.1, 0.1)
    parseval = verify_pac(lambda: LowDegreeRegressor(degree=2), *args, trials=3,
                          random_state=4, noise=0.3, eps_scale="absolute")
    assert len(calls) == 3
    walked = verify_pac(lambda: _WalkedRegressor(degree=2), *args, trials=3,
                        random_state=4, noise=0.3, eps_scale="absolute")
    assert len(calls) == 3 and parseval.exact and walked.exact
    np.testing.assert_allclose(parseval.errors, walked.errors, rtol=1e-10)
    np.testing.assert_array_equal(parseval.target_norms, walked.target_norms)
    np.testing.assert_array_equal(parseval.stderr, 0.0)


def test_sampled_error_agrees_with_exact_within_its_standard_error():
    n = 11
    make_target = lambda rng: random_network(n, 5, random_state=rng, bias_quantile=0.7)
    exact = verify_pac(low_degree_learner(1), make_target, 200, 0.1, 0.1, trials=3,
                       random_state=2, exact_max_n=n, eps_scale="absolute")
    sampled = verify_pac(low_degree_learner(1), make_target, 200, 0.1, 0.1, trials=3,
                         random_state=2, exact_max_n=n - 1, n_draws=20_000,
                         eps_scale="absolute")
    assert exact.exact and not sampled.exact and sampled.n_draws == 20_000
    assert exact.trials == sampled.trials == 3   # run, not skipped by the pre-flight
    assert np.all(sampled.stderr > 0)
    # Same seeds, same fits: only the error measurement differs.  The sampled
    # mean of 20000 squared differences is within 5 standard errors of the
    # exact value except with probability about 6e-7 per trial (CLT).
    assert np.all(np.abs(sampled.errors - exact.errors) <= 5 * sampled.stderr)


def test_noise_has_the_requested_standard_deviation():
    labels = []

    class Recorder(ZeroPredictor):
        def fit(self, X, y):
            labels.append(y)
            return self

    verify_pac(Recorder, constant_target(0.0), 20_000, 0.1, 0.1, trials=1, noise=0.5,
               n_features=3, random_state=0, eps_scale="absolute")
    # Sample sd of 20000 N(0, 0.25) draws: relative sd error ~ 1/sqrt(2m) = 0.5%;
    # a 3% window fails with probability < 1e-16.
    assert np.std(labels[0]) == pytest.approx(0.5, rel=0.03)


# ------------------------------------------------------ reproducibility
def _comparable(result):
    summary = result.to_dict()
    del summary["fit_seconds"]
    return summary


def _bump_target(rng):
    return bump_network(8, 6, 2, random_state=rng)


def test_same_seed_same_result_and_n_jobs_do_not_matter():
    # Unnormalised bump targets (E[f^2] ~ 0.01): an absolute eps keeps the
    # degree-2 class within reach, so the trials run.
    args = (low_degree_learner(2), _bump_target, 60, 0.05, 0.1)
    kwargs = dict(eps_scale="absolute")
    serial = verify_pac(*args, trials=6, random_state=42, **kwargs)
    again = verify_pac(*args, trials=6, random_state=42, **kwargs)
    parallel = verify_pac(*args, trials=6, random_state=42, n_jobs=2, **kwargs)
    assert _comparable(serial) == _comparable(again) == _comparable(parallel)
    # The first trials do not depend on how many follow.
    shorter = verify_pac(*args, trials=4, random_state=42, **kwargs)
    np.testing.assert_array_equal(shorter.errors, serial.errors[:4])
    # The recorded root seed replays the run; another seed changes it.
    replay = verify_pac(*args, trials=6, random_state=serial.seed, **kwargs)
    np.testing.assert_array_equal(replay.errors, serial.errors)
    other = verify_pac(*args, trials=6, random_state=43, **kwargs)
    assert not np.array_equal(other.errors, serial.errors)


def test_generator_seed_is_deterministic():
    args = (MeanPredictor, constant_target(1.0), 10, 0.1, 0.1)
    a = verify_pac(*args, trials=3, noise=1.0, n_features=2,
                   random_state=np.random.default_rng(9))
    b = verify_pac(*args, trials=3, noise=1.0, n_features=2,
                   random_state=np.random.default_rng(9))
    np.testing.assert_array_equal(a.errors, b.errors)


# ------------------------------------------------------ decisions, reports
def test_broken_learner_is_reported_as_failing():
    # Targets scaled to E[f^2] = 1: predicting 0 has error exactly 1 > eps in
    # every trial, so 0 successes, deterministically.
    make_target = lambda rng: normalised(bump_network(7, 6, 3, random_state=rng))
    result = verify_pac(ZeroPredictor, make_target, 100, eps=0.5, delta=0.1, trials=10,
                        random_state=0)
    np.testing.assert_allclose(result.errors, 1.0, rtol=1e-12)
    assert result.successes == 0 and not result.consistent and not result.certified
    lower, upper = result.interval
    assert lower == 0.0 and upper == pytest.approx(1 - 0.025 ** (1 / 10))
    assert "REJECTED" in str(result)


def test_result_object_reports_and_serialises():
    result = verify_pac(MeanPredictor, constant_target(1.0), 50, 0.1, 0.2, trials=30,
                        noise=1.0, n_features=3, random_state=1)
    assert isinstance(result, PACResult)
    assert result.successes == int(np.sum(result.errors <= 0.1))
    assert result.success_fraction == result.successes / 30
    assert result.interval == clopper_pearson(result.successes, 30, 0.95)
    assert result.consistent == (result.interval[1] >= 0.8)
    assert result.certified == (result.interval[0] >= 0.8)
    with pytest.raises(ValueError):  # frozen arrays
        result.errors[0] = 0.0
    with pytest.raises(AttributeError):  # frozen dataclass
        result.eps = 1.0
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["errors"] == result.errors.tolist() and payload["trials"] == 30
    table = result.to_table(per_trial=True)
    assert "Clopper-Pearson" in table and f"{result.successes}/30" in table
    assert len(table.splitlines()) > 30  # one row per trial
    assert "trial" not in result.to_table(per_trial=False).splitlines()[3]
    assert "successes=" in repr(result)


def test_progress_bar_goes_to_stderr_only_when_asked(capsys, monkeypatch):
    # pytest's stderr is not a terminal, so progress=True writes plain lines,
    # one per interval: a tiny interval makes even this short run write some.
    monkeypatch.setenv("SPARSELEARN_PROGRESS_INTERVAL", "1e-4")
    args = (ZeroPredictor, _ok_target, 10, 0.1, 0.1, 3)
    verify_pac(*args, random_state=0, progress=True, eps_scale="absolute")
    captured = capsys.readouterr()
    assert "PAC trials" in captured.err and captured.out == ""
    verify_pac(*args, random_state=0, eps_scale="absolute")  # default: terminal only
    verify_pac(*args, random_state=0, progress=False, eps_scale="absolute")
    assert capsys.readouterr().err == ""


# ------------------------------------------------------ bad inputs
def _ok_target(rng):
    return bump_network(5, 2, 1, random_state=rng)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(eps=0.0), ValueError, "eps must be > 0"),
    (dict(eps=-1.0), ValueError, "eps must be > 0"),
    (dict(eps=float("nan")), ValueError, "eps must be finite"),
    (dict(delta=0.0), ValueError, "delta must lie strictly between 0 and 1"),
    (dict(delta=1.0), ValueError, "delta must lie strictly between 0 and 1"),
    (dict(trials=0), ValueError, "trials must be >= 1"),
    (dict(trials=2.0), TypeError, "trials must be an integer"),
    (dict(n_samples=0), ValueError, "n_samples must be >= 1"),
    (dict(noise=-0.1), ValueError, "noise must be >= 0"),
    (dict(confidence=1.5), ValueError, "confidence must lie strictly"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a positive int or -1"),
    (dict(n_draws=1), ValueError, "n_draws must be >= 2"),
    (dict(progress="yes"), TypeError, "progress must be None, True or False"),
    (dict(random_state="seed"), TypeError, "random_state"),
    (dict(make_learner=None), TypeError, "make_learner must be callable"),
    (dict(make_target=3), TypeError, "make_target must be callable"),
    # A network is callable on points: passed as the factory it must be
    # refused by name, not called on the generator ("X must be a numeric array").
    (dict(make_target=bump_network(5, 2, 1, random_state=0)), TypeError,
     "make_target must be a function that returns the target, got the SparseReLUNetwork "
     "itself.*make_target=lambda rng: net"),
    (dict(make_learner=LowDegreeRegressor(degree=1)), TypeError,
     "make_learner must be callable, got LowDegreeRegressor; pass a function"),
    (dict(make_target=lambda rng: MLPRegressor(), n_features=5), TypeError,
     "returned MLPRegressor, not a SparseReLUNetwork; convert it with "
     "SparseReLUNetwork.from_sklearn"),
    (dict(make_target=lambda rng: 3), TypeError, "must return a SparseReLUNetwork"),
    (dict(make_target=lambda rng: np.sum), TypeError, "pass n_features="),
    (dict(n_features=6), ValueError, "network on n=5 inputs, expected n=6"),
    (dict(make_target=lambda rng: bump_network(int(rng.integers(4, 6)), 2, 1), trials=20),
     ValueError, "every trial must use the same n"),
    (dict(make_target=lambda rng: (lambda X: X), n_features=5), ValueError,
     "the target returned shape"),
    (dict(make_learner=lambda: "learner"), TypeError, "fit\\(X, y\\) and predict\\(X\\)"),
    # A verify_sweep factory (make_learner(point), make_target(point, rng))
    # failed in the first trial with Python's bare "missing 1 required
    # positional argument", naming neither the argument nor its call.
    (dict(make_learner=lambda point: ZeroPredictor()), TypeError,
     r"make_learner is called as make_learner\(\), but .* cannot be called that way "
     r"\(missing a required argument: 'point'\); wrap it, e.g. make_learner=lambda:"),
    (dict(make_target=lambda point, rng: _ok_target(rng)), TypeError,
     r"make_target is called as make_target\(rng\), but .*missing a required argument: "
     r"'rng'.*make_target=lambda rng:"),
    (dict(make_target=lambda: _ok_target(0)), TypeError,
     r"make_target is called as make_target\(rng\).*too many positional arguments"),
    (dict(make_learner=lambda: type("Bad", (ZeroPredictor,), {
        "predict": lambda self, X: np.zeros((X.shape[0], 1))})()),
     ValueError, r"predict returned shape \(32, 1\) for 32 points; .*ravel its \(32, 1\) "
                 "column"),
    # NumPy's bare "could not convert string to float" named nobody.
    (dict(make_learner=lambda: type("Labels", (ZeroPredictor,), {
        "predict": lambda self, X: np.array(["a"] * X.shape[0])})()),
     TypeError, "the learner's predict must return real numbers, one per point; its ndarray "
                "does not convert to float64: strings"),
    # Numeric strings (a classifier's labels "0"/"1") parsed as numbers before.
    (dict(make_learner=lambda: type("NumericLabels", (ZeroPredictor,), {
        "predict": lambda self, X: np.array(["0"] * X.shape[0])})()),
     TypeError, "the learner's predict must return real numbers.*: strings"),
    (dict(make_learner=lambda: type("Complex", (ZeroPredictor,), {
        "predict": lambda self, X: np.zeros(X.shape[0]) + 1j})()),
     TypeError, "the learner's predict must return real numbers.*complex values"),
    # Ragged output: NumPy's ValueError, named as the learner's predict's.
    (dict(make_learner=lambda: type("Ragged", (ZeroPredictor,), {
        "predict": lambda self, X: [[0.0]] + [[0.0, 1.0]] * (X.shape[0] - 1)})()),
     TypeError, "the learner's predict must return real numbers, one per point; its list "
                "does not convert to float64: setting an array element with a sequence"),
    (dict(n_samples=10**9, max_bytes=2**20), ValueError, "needs about"),
])
def test_verify_pac_bad_input(kwargs, error, match):
    args = dict(make_learner=ZeroPredictor, make_target=_ok_target, n_samples=10, eps=0.1,
                delta=0.1, trials=3, random_state=0) | kwargs
    with pytest.raises(error, match=match):
        verify_pac(**args)


# ------------------------------------------------------ PAC guarantees
def _oracle_target(family, seed, n=8):
    """A fixed oracle target on n = 8 inputs, scaled to E[f^2] = 1."""
    rng = np.random.default_rng(seed)
    if family == "bump":  # 2-sparse on the whole cube, Hamming balls of radius 2
        net = bump_network(n, 4, 2, radius=2, random_state=rng)
    elif family == "junta":  # 1-sparse, width 8: a random function of 3 coordinates
        coords = [int(c) for c in rng.permutation(n)[:3]]
        net = junta_network(rng.integers(-8, 9, size=8) / 4.0, coords, n)
    else:  # generic random network, sparse on average; sparsity measured below
        net = random_network(n, 6, random_state=rng, bias_quantile=0.8)
    if np.all(net(all_cube_points(n)) == 0.0):
        return None
    return normalised(net)


EPS, DELTA, TRIALS, CONFIDENCE = 0.1, 0.1, 20, 0.998


@settings(max_examples=6)
@given(family=st.sampled_from(["bump", "junta", "random"]), seed=st.integers(0, 2**16),
       noise=st.sampled_from([0.0, 0.5]))
def test_low_degree_learner_is_pac_on_oracle_targets(family, seed, noise):
    net = _oracle_target(family, seed)
    if net is None:
        return
    n = net.n_features
    sparsity = int(net.activation_counts(all_cube_points(n)).max())
    assert sparsity <= (2 if family == "bump" else 1 if family == "junta" else 6)
    tails = tail_weights(net)
    d, D, m = theory_plan(tails, n, EPS, DELTA)
    if d > 3:  # keep the test fast; these seeds are rare for these families
        return
    result = verify_pac(low_degree_learner(d), lambda rng: net, m, EPS, DELTA, TRIALS,
                        noise=noise, confidence=CONFIDENCE, random_state=seed)
    # If Pr[error <= eps] >= 1 - delta holds at m = C D log(D/delta)/eps (C = 1),
    # the exact binomial test rejects with probability <= (1 - 0.998)/2 = 0.1%.
    assert result.consistent, str(result)
    # Parseval, deterministically: a degree-<=d hypothesis is at distance at
    # least W^{>d}[f] from f, whatever the sample.
    assert np.all(result.errors >= tails[d] * (1 - 1e-9) - 1e-12)
    if tails[max(d - 1, 0)] > EPS and d > 0:
        # One degree less cannot reach eps at any m: reported as failing.
        # The pre-flight finds it out of reach and says so.
        with pytest.warns(InfeasibleWarning, match=f"can pass at degree <= {d - 1}:"):
            short = verify_pac(low_degree_learner(d - 1), lambda rng: net, m, EPS, DELTA,
                               trials=3, noise=noise, random_state=seed)
        assert short.successes == 0 and not short.consistent


def test_low_degree_learner_on_random_bump_networks():
    # Targets drawn per trial (a class, not one function): 2-sparse bump
    # networks with radius-2 bumps on n = 8, scaled to E[f^2] = 1.  The degree
    # d = 3 covers every target with W^{>3}[f] <= eps/2, checked per trial below.
    def make_target(rng):
        for _ in range(20):  # redraw when the rejection sampler gives up
            try:
                return normalised(bump_network(8, 4, 2, radius=2, random_state=rng))
            except ValueError:
                continue
        raise AssertionError("no bump network drawn")

    d, D = 3, sum(math.comb(8, j) for j in range(4))
    m = math.ceil(C_SAMPLES * D * math.log(D / DELTA) / EPS)
    result = verify_pac(low_degree_learner(d), make_target, m, EPS, DELTA, TRIALS,
                        confidence=CONFIDENCE, random_state=7)
    tails = [tail_weights(make_target(np.random.default_rng(seed)))[d]
             for seed in _trial_target_seeds(result)]
    # The plan's premise, W^{>3}[f] <= eps/2, holds for every target drawn
    # (computed exactly per trial; deterministic for this seed).
    assert max(tails) <= EPS / 2
    # Failure probability of the consistency check as above: <= 0.1%.
    assert result.consistent, str(result)
    # Parseval, deterministically: each error is at least its target's tail.
    assert np.all(result.errors >= np.array(tails) * (1 - 1e-9))


def test_library_learner_equals_least_squares_on_the_same_trials():
    make_target = lambda rng: random_network(7, 5, random_state=rng, bias_quantile=0.7)
    ours = verify_pac(lambda: LowDegreeRegressor(degree=2), make_target, 300, 0.1, 0.1,
                      trials=3, noise=0.3, random_state=4, eps_scale="absolute")
    reference = verify_pac(lambda: ParityLeastSquares(2), make_target, 300, 0.1, 0.1,
                           trials=3, noise=0.3, random_state=4, eps_scale="absolute")
    np.testing.assert_allclose(ours.errors, reference.errors, rtol=1e-6, atol=1e-12)


# ------------------------------------------------------ sample-complexity search
class ThresholdLearner(MeanPredictor):
    """Exact once it has at least `threshold` samples, useless before."""

    threshold = 37

    def fit(self, X, y):
        self.mean_ = float(np.mean(y)) if X.shape[0] >= self.threshold else 0.0
        return self


def test_grid_and_bisection_find_the_same_threshold():
    args = (ThresholdLearner, lambda p: constant_target(p), [1.0, 2.0], 0.1, 0.1, 3)
    grid = sample_complexity_curve(*args, m_grid=range(30, 45), n_features=2,
                                   random_state=0, eps_scale="absolute")
    bisect = sample_complexity_curve(*args, m_min=1, m_max=1000, rtol=1e-9, n_features=2,
                                     random_state=0, eps_scale="absolute")
    assert grid.min_samples == bisect.min_samples == (37, 37)
    assert grid.lower_brackets == bisect.lower_brackets == (36, 36)
    never = sample_complexity_curve(*args, m_grid=[5, 10], n_features=2, random_state=0,
                                    eps_scale="absolute")
    assert never.min_samples == (None, None)
    assert "not reached" in never.to_table()


def test_sample_complexity_of_mean_estimation_matches_the_closed_form():
    # Target f = 1, labels 1 + sigma*xi, learner = sample mean: the error is
    # sigma^2 Z^2 / m, so Pr[error <= eps] >= 1 - delta iff
    # m >= m_true = sigma^2 z^2 / eps, z the (1 - delta/2) normal quantile.
    # The swept parameter is eps itself (one tolerance per parameter value).
    sigma, delta, confidence = 2.0, 0.2, 0.999
    eps_values = [0.4, 0.2, 0.1]
    z = norm.ppf(1 - delta / 2)
    m_true = [sigma**2 * z**2 / eps for eps in eps_values]
    curves = {criterion: sample_complexity_curve(
        MeanPredictor, lambda eps: constant_target(1.0), eps_values, eps=eps_values,
        delta=delta, trials=150, m_min=1, m_max=400, rtol=0.02, noise=sigma,
        confidence=confidence, criterion=criterion, param_name="eps", n_features=2,
        random_state=3)
        for criterion in ("consistent", "certified")}
    for i, truth in enumerate(m_true):
        # Each run errs in the tested direction with probability at most
        # (1 - confidence)/2 = 5e-4 (exact binomial test); about 10 runs per
        # search and 6 searches: failure probability below 3% (fixed seeds).
        assert curves["consistent"].min_samples[i] <= math.ceil(truth)
        assert curves["certified"].min_samples[i] >= math.floor(truth)
        # Neither is far off: 150 trials resolve p to about +-0.1 at this
        # confidence, i.e. m to within a factor 1.75 (normal approximation).
        assert curves["certified"].min_samples[i] <= 2.5 * truth
        assert curves["consistent"].min_samples[i] >= 0.4 * truth
    result = curves["certified"]
    assert isinstance(result, SampleComplexityResult)
    assert list(result.eps) == eps_values and result.param_name == "eps"
    for runs, m_star, low in zip(result.evaluations, result.min_samples,
                                 result.lower_brackets):
        assert [e.n_samples for e in runs] == sorted({e.n_samples for e in runs})
        assert low < m_star and m_star - low <= max(1, 0.02 * low)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["min_samples"] == list(result.min_samples)
    assert "eps" in str(result) and "certified" in str(result)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(params=[]), ValueError, "at least one parameter"),
    (dict(params=3), TypeError, "params must be a sequence"),
    (dict(eps=[0.1, 0.2]), ValueError, "eps has 2 values for 1 params"),
    (dict(eps=0.0), ValueError, "eps must be > 0"),
    (dict(m_grid=None), ValueError, "pass m_grid="),
    (dict(m_grid=[10, 5]), ValueError, "strictly increasing"),
    (dict(m_grid=[]), ValueError, "at least one sample size"),
    (dict(m_grid=[0, 5]), ValueError, "m_grid\\[\\] must be >= 1"),
    (dict(m_grid=None, m_min=10, m_max=5), ValueError, "m_max must be >= 10"),
    (dict(criterion="strict"), ValueError, "criterion must be one of"),
    # 0.025^(1/35) = 0.89996 < 0.9 <= 0.025^(1/36): 36 trials are the minimum.
    (dict(criterion="certified", trials=10), ValueError, "use trials >= 36"),
    (dict(make_target_for=lambda p: None), TypeError, "make_target_for\\(1\\) must be"),
    (dict(make_target_for=bump_network(5, 2, 1, random_state=0)), TypeError,
     r"got the SparseReLUNetwork itself.*make_target_for=lambda p: \(lambda rng: net\)"),
    (dict(param_name=3), TypeError, "param_name must be a string"),
    (dict(make_learner=lambda point: ZeroPredictor()), TypeError,
     r"make_learner is called as make_learner\(\), but"),
    (dict(make_target_for=lambda: _ok_target), TypeError,
     r"make_target_for is called as make_target_for\(p\), but .*too many positional"),
    (dict(make_target_for=lambda p: (lambda: _ok_target(0))), TypeError,
     r"make_target_for\(1\) is called as make_target\(rng\), but"),
])
def test_sample_complexity_curve_bad_input(kwargs, error, match):
    args = dict(make_learner=ZeroPredictor, make_target_for=lambda p: _ok_target, params=[1],
                eps=0.1, delta=0.1, trials=3, m_grid=[5, 10]) | kwargs
    with pytest.raises(error, match=match):
        sample_complexity_curve(**args)


def test_plot_sample_complexity(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    result = sample_complexity_curve(ThresholdLearner, lambda p: constant_target(p),
                                     [1.0, 2.0, 3.0], 0.1, 0.1, 3, m_grid=[10, 40],
                                     n_features=2, random_state=0, eps_scale="absolute")
    ax = plot_sample_complexity(result, label="threshold")
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [40, 40, 40])
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "param"
    ax.figure.savefig(tmp_path / "curve.png")
    with pytest.raises(TypeError, match="SampleComplexityResult"):
        plot_sample_complexity("curve")


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    result = sample_complexity_curve(ThresholdLearner, lambda p: constant_target(p), [1.0],
                                     0.1, 0.1, 3, m_grid=[40], n_features=2, random_state=0)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="pip install sparselearn\\[plot\\]"):
        plot_sample_complexity(result)


def test_verify_sweep_refuses_a_network_for_its_target_factory():
    from sparselearn.pac import verify_sweep
    with pytest.raises(TypeError, match=r"got the SparseReLUNetwork itself.*"
                                        r"make_target=lambda point, rng: net"):
        verify_sweep(lambda p: ZeroPredictor(), bump_network(5, 2, 1, random_state=0),
                     {"n_samples": [10]}, eps=0.1, delta=0.1, trials=2)


@pytest.mark.parametrize("make_learner, make_target, match", [
    # verify_pac's factories in a sweep: Python's bare "takes 0 positional
    # arguments but 1 was given" before, from inside the first trial.
    (lambda: ZeroPredictor(), lambda point, rng: _ok_target(rng),
     r"make_learner is called as make_learner\(point\) with the grid point, a dict, but "
     r".* \(too many positional arguments\); wrap it, e.g. make_learner=lambda point:"),
    (ZeroPredictor, lambda point, rng: _ok_target(rng),
     r"make_learner is called as make_learner\(point\).* but ZeroPredictor cannot"),
    (lambda point: ZeroPredictor(), _ok_target,
     r"make_target is called as make_target\(point, rng\), but .*too many positional.*"
     r"make_target=lambda point, rng:"),
])
def test_verify_sweep_names_a_factory_of_the_wrong_arity(make_learner, make_target, match):
    from sparselearn.pac import verify_sweep
    with pytest.raises(TypeError, match=match):
        verify_sweep(make_learner, make_target, {"n_samples": [10]}, eps=0.1, delta=0.1,
                     trials=2, random_state=0)


def test_sample_complexity_names_an_inner_factory_of_the_wrong_arity():
    """make_target_for(p) must return make_target(rng): the hint showed the
    outer factory's example (lambda p: (lambda rng: ...)) for the inner one."""
    with pytest.raises(TypeError, match=r"make_target_for\(1\) is called as make_target"
                                        r"\(rng\).*e\.g\. make_target_for\(1\)=lambda rng: "
                                        r"your_network\(p, random_state=rng\)$"):
        sample_complexity_curve(_NeverCalled(), lambda p: (lambda: _ok_target(None)), [1],
                                eps=0.1, delta=0.1, trials=2, m_grid=[20])


class _NeverCalled:
    """A learner factory that must not be reached (the call is refused first);
    ``verify_sweep`` calls it with the grid point."""

    def __call__(self, point=None):
        raise AssertionError("a trial ran: the exact evaluation was not refused")


@pytest.mark.parametrize("preflight", [True, False])
@pytest.mark.parametrize("exact_max_n", [16, 4])
def test_targets_whose_squares_overflow_are_refused_and_scale_free_below(preflight,
                                                                         exact_max_n):
    """Outputs near 1e160 made E[f^2] inf: every relative error NaN, trials
    counted as successes (preflight=False) or the target called infeasible.
    Below the limit a power-of-two scale (exact) leaves the relative errors
    as they are."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 6)), rng.normal(size=4)

    def run(scale):
        net = SparseReLUNetwork(W, b, np.full(4, scale))
        return verify_pac(lambda: LowDegreeRegressor(degree=2), lambda rng: net, 200, 0.5,
                          0.1, 2, random_state=0, eps_scale="relative", preflight=preflight,
                          exact_max_n=exact_max_n, n_draws=2000)

    with pytest.raises(ValueError, match=r"target takes values up to 8.57e\+160.*rescale"):
        run(1e160)
    np.testing.assert_array_equal(run(2.0**230).relative_errors, run(1.0).relative_errors)


def test_exact_evaluation_over_a_huge_cube_is_refused(monkeypatch):
    """verify_pac(exact_max_n=40) silently walked 2^40 points per trial."""
    from sparselearn import cube
    from sparselearn.pac import bump_target, verify_sweep

    def no_walk(*args):
        raise AssertionError("the 2^n walk started: it was not refused")

    target = junta_network(lambda z: z[:, 0], [0], 40)
    with pytest.raises(ValueError, match=r"exact_max_n=40 .* 2\^40 = 1.1e\+12 points"):
        verify_pac(_NeverCalled(), lambda rng: target, n_samples=10, eps=0.1, delta=0.1,
                   trials=1, exact_max_n=40)
    with pytest.raises(ValueError, match=r"2\^31 = 2.15e\+09 points .* exact_max_n < 31"):
        verify_sweep(_NeverCalled(), lambda params, rng: junta_network(
            lambda z: z[:, 0], [0], params["n_features"]),
            {"n_features": [31], "n_samples": [10]}, eps=0.1, delta=0.1, trials=1,
            exact_max_n=40)
    monkeypatch.setattr(cube, "points", no_walk)
    with pytest.raises(ValueError, match=r"2\^40 .* for the second moment"):
        bump_target({"n_features": 40, "width": 4, "sparsity": 2},
                    np.random.default_rng(0), exact_max_n=40)
    monkeypatch.undo()
    # Above exact_max_n the error is estimated on n_draws points: allowed.
    result = verify_pac(lambda: LowDegreeRegressor(degree=1, n_jobs=1), lambda rng: target,
                        n_samples=50, eps=0.1, delta=0.1, trials=1, exact_max_n=16,
                        n_draws=1000, random_state=0)
    assert not result.exact and result.n_draws == 1000


# ------------------------------------------------- clopper_pearson vs SciPy
def test_clopper_pearson_agrees_with_scipy_binomtest():
    """The closed-form beta quantiles against scipy's exact interval, which
    finds each end by brentq (xtol = 2e-12): they agree within that
    tolerance (1e-13 does not hold for binomtest's root-finder), and the
    ends are exactly 0 at k = 0 and exactly 1 at k = n in both."""
    from scipy.stats import binomtest

    worst = 0.0
    for trials in (1, 2, 7, 50, 400):
        for successes in sorted({0, 1, trials // 3, trials // 2, trials - 1, trials}):
            for confidence in (0.5, 0.9, 0.95, 0.999):
                ours = clopper_pearson(successes, trials, confidence)
                theirs = binomtest(successes, trials).proportion_ci(confidence, "exact")
                worst = max(worst, abs(ours[0] - theirs.low), abs(ours[1] - theirs.high))
                if successes == 0:
                    assert ours[0] == theirs.low == 0.0
                if successes == trials:
                    assert ours[1] == theirs.high == 1.0
    assert worst <= 1e-11, worst


# ------------------------------------------------------ package and options
def test_pac_is_a_package_re_exporting_the_public_api():
    import pickle
    from pathlib import Path

    import sparselearn.pac as pac
    import sparselearn.rademacher as rademacher

    for package in (pac, rademacher):
        assert hasattr(package, "__path__")  # a package, not a module
        for name in package.__all__:
            assert getattr(package, name) is not None
        for module in Path(package.__file__).parent.glob("*.py"):
            assert len(module.read_text().splitlines()) <= 900, module
    # What the CLI uses.
    for name in ("verify_pac", "verify_sweep", "bump_target", "junta_sum_target",
                 "low_degree_learner", "plot_sweep", "_check_scheduler"):
        assert callable(getattr(pac, name))
    result = verify_pac(MeanPredictor, constant_target(1.0), 5, 0.1, 0.1, trials=2,
                        n_features=3, random_state=0)
    again = pickle.loads(pickle.dumps(result))
    assert again.to_dict() == result.to_dict()


def _entry_point(name):
    """Call one of the three entry points with valid arguments except ``bad``."""
    from sparselearn.pac import verify_sweep

    def call(**bad):
        common = dict(delta=0.1, trials=2) | bad
        if name == "verify_pac":
            return verify_pac(MeanPredictor, constant_target(1.0), 5, 0.1,
                              n_features=3, **common)
        if name == "sample_complexity_curve":
            return sample_complexity_curve(MeanPredictor, lambda p: constant_target(p), [1.0],
                                           0.1, m_grid=[5], n_features=3, **common)
        return verify_sweep(lambda p: MeanPredictor(), lambda p, rng: constant_target(1.0)(rng),
                            {"n_features": [3], "n_samples": [5]}, 0.1, **common)
    return call


@pytest.mark.parametrize("entry", ["verify_pac", "sample_complexity_curve", "verify_sweep"])
@pytest.mark.parametrize("bad, error, match", [
    (dict(delta=1.5), ValueError, "delta must lie strictly between 0 and 1"),
    (dict(trials=0), ValueError, "trials must be >= 1"),
    (dict(confidence=1.0), ValueError, "confidence must lie strictly between 0 and 1"),
    (dict(noise=-1.0), ValueError, "noise must be >= 0"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a positive int or -1"),
    (dict(n_draws=1), ValueError, "n_draws must be >= 2"),
    (dict(exact_max_n=-1), ValueError, "exact_max_n must be >= 0"),
    (dict(progress="yes"), TypeError, "progress must be None, True or False"),
    (dict(scheduler="localhost:8786"), ValueError, "Dask scheduler address"),
    (dict(scheduler=3), TypeError, "scheduler must be None"),
])
def test_the_three_entry_points_validate_the_shared_options_alike(entry, bad, error, match):
    with pytest.raises(error, match=match):
        _entry_point(entry)(**bad)


# ---------------------------------------------------- deprecated names
def test_deprecated_names_warn_and_keep_working():
    from sparselearn.pac import bump_target, verify_sweep

    network = bump_network(12, 4, 2, random_state=0)
    kwargs = dict(n_samples=40, eps=0.5, delta=0.2, trials=2, random_state=3, exact_max_n=4,
                  eps_scale="absolute")
    new = verify_pac(low_degree_learner(1), lambda rng: network, n_draws=500, **kwargs)
    with pytest.warns(FutureWarning, match=r"verify_pac\(n_test=...\) is deprecated"):
        old = verify_pac(low_degree_learner(1), lambda rng: network, n_test=500, **kwargs)
    np.testing.assert_array_equal(old.errors, new.errors)
    with pytest.warns(FutureWarning, match=r"PACResult.stderrs is deprecated.*\.stderr"):
        np.testing.assert_array_equal(new.stderrs, new.stderr)
    with pytest.warns(FutureWarning, match=r"PACResult.n_test is deprecated"):
        assert new.n_test == new.n_draws == 500
    with pytest.raises(TypeError, match="both n_draws= and its deprecated alias n_test="):
        verify_pac(low_degree_learner(1), lambda rng: network, n_draws=600, n_test=500,
                   **kwargs)
    for function, extra in ((sample_complexity_curve, ()), (verify_sweep, ())):
        with pytest.warns(FutureWarning, match=rf"{function.__name__}\(n_test=...\)"):
            with pytest.raises(ValueError, match="n_draws must be >= 2"):
                _entry_point(function.__name__)(n_test=1)
    params = {"n_features": 20, "width": 4, "sparsity": 2}
    a = bump_target(params, np.random.default_rng(1), exact_max_n=4, n_draws=1000)
    with pytest.warns(FutureWarning, match=r"bump_target\(n_moment=...\)"):
        b = bump_target(params, np.random.default_rng(1), exact_max_n=4, n_moment=1000)
    np.testing.assert_array_equal(a.output_weights, b.output_weights)


# -------------------------------------------------------- result interface
def _assert_result_interface(result, rows, columns):
    """to_dict (strict JSON), to_frame (rows x columns), _repr_html_, __str__."""
    json.dumps(result.to_dict(), allow_nan=False)
    frame = result.to_frame()
    assert len(frame) == rows
    assert set(columns) <= set(frame.columns), list(frame.columns)
    text = str(result)
    assert text and text != repr(result)
    page = result._repr_html_()
    assert page.startswith("<div>") and type(result).__name__ in page
    assert text.split("\n")[0].replace("<", "&lt;").replace(">", "&gt;") in page


def test_pac_results_share_one_interface():
    pytest.importorskip("pandas")
    result = verify_pac(MeanPredictor, constant_target(1.0), 5, 0.1, 0.1, trials=3,
                        n_features=3, random_state=0)
    _assert_result_interface(result, 3, ["trial", "error", "stderr", "target_norm",
                                         "fit_seconds", "success"])
    assert result.to_frame()["error"].tolist() == result.errors.tolist()
    curve = sample_complexity_curve(MeanPredictor, lambda p: constant_target(p), [1.0, 2.0],
                                    0.1, 0.1, 3, m_grid=[5, 10], n_features=3,
                                    param_name="level", random_state=0, eps_scale="absolute")
    runs = sum(len(r) for r in curve.evaluations)
    _assert_result_interface(curve, runs, ["level", "eps", "n_samples", "successes",
                                           "ci_lower", "ci_upper", "passed", "min_samples"])
    evaluation = curve.evaluations[0][0]
    _assert_result_interface(evaluation, 1, ["n_samples", "successes", "ci_lower"])
    assert evaluation.to_dict()["interval"] == list(evaluation.interval)


def test_pac_result_writes_its_rows_and_dict_as_a_sweep_does(tmp_path):
    """PACResult.to_csv/to_json: the per-trial rows of to_frame() and the
    to_dict() payload, written as SweepResult writes its own (path returned,
    strict JSON).  A zero target makes the relative errors infinite; a run
    the pre-flight skipped has no rows but still a header."""
    import csv
    import dataclasses

    result = verify_pac(MeanPredictor, constant_target(0.0), 5, 0.1, 0.1, trials=3,
                        noise=1.0, n_features=3, random_state=0, eps_scale="absolute")
    assert np.all(np.isinf(result.relative_errors))  # errors > 0 over E[f^2] = 0
    assert result.to_csv(tmp_path / "trials.csv") == str(tmp_path / "trials.csv")
    with open(tmp_path / "trials.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["trial"]) for row in rows] == [0, 1, 2]
    assert [float(row["error"]) for row in rows] == result.errors.tolist()
    assert [row["success"] == "True" for row in rows] == list(result.errors <= 0.1)
    assert list(rows[0]) == result._frame_columns() == list(result._frame_records()[0])
    assert result.to_json(tmp_path / "run.json") == str(tmp_path / "run.json")
    payload = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert payload["errors"] == result.errors.tolist()
    assert payload["relative_errors"] == [None, None, None]  # JSON has no infinity
    assert payload["seed"] == result.to_dict()["seed"]
    skipped = dataclasses.replace(
        result, errors=np.empty(0), stderr=np.empty(0), target_norms=np.empty(0),
        fit_seconds=np.empty(0), preflight={"feasible": False, "message": "skipped"})
    skipped.to_csv(tmp_path / "skipped.csv")
    assert (tmp_path / "skipped.csv").read_text(encoding="utf-8").splitlines() == [
        "trial,error,stderr,target_norm,fit_seconds,success"]
    skipped.to_json(tmp_path / "skipped.json")
    assert json.loads((tmp_path / "skipped.json").read_text())["infeasible"] is True
    with pytest.raises(TypeError, match=r"PACResult.to_csv\(\): path must be a str or "
                                        "os.PathLike, got NoneType"):
        result.to_csv(None)
    with pytest.raises(ValueError, match=r"PACResult.to_json\(\): path must name a file"):
        result.to_json("")


def test_sample_complexity_result_keeps_its_seed_and_writes_its_rows(tmp_path):
    """SampleComplexityResult had no seed (a search from a Generator could not
    be repeated) and no to_csv.  Its seed replays the search; to_csv writes
    the rows of to_frame(), which read back equal (a value the pre-flight
    skipped: empty cells)."""
    import dataclasses

    pd = pytest.importorskip("pandas")
    args = (MeanPredictor, lambda p: constant_target(p), [1.0, 2.0], 0.1, 0.1, 3)
    kwargs = dict(m_grid=[4, 16], noise=0.5, n_features=3, param_name="level",
                  eps_scale="absolute")
    curve = sample_complexity_curve(*args, random_state=np.random.default_rng(5), **kwargs)
    assert isinstance(curve.seed, np.random.SeedSequence)
    assert "seed=SeedSequence(" in repr(curve)
    again = sample_complexity_curve(*args, random_state=curve.seed, **kwargs)
    assert again.to_dict() == curve.to_dict()
    # The seed matters: label noise makes another seed's median errors differ
    # (equal with probability 0, continuous noise).
    other = sample_complexity_curve(*args, random_state=1, **kwargs)
    assert [e.median_error for e in other.evaluations[0]] != [
        e.median_error for e in curve.evaluations[0]]
    assert curve.to_dict()["seed"] == {"entropy": str(curve.seed.entropy), "spawn_key": []}
    path = tmp_path / "curve.csv"
    assert curve.to_csv(path) == str(path)
    pd.testing.assert_frame_equal(pd.read_csv(path), curve.to_frame())
    skipped = dataclasses.replace(curve, evaluations=(curve.evaluations[0], ()),
                                  min_samples=(curve.min_samples[0], None),
                                  preflight=(None, {"feasible": False, "message": "out"}))
    skipped.to_csv(path)  # replaces the file
    read = pd.read_csv(path)
    assert list(read.columns) == skipped._frame_columns()
    assert read["trials"].tolist()[-1] == 0 and read.iloc[-1].isna()["n_samples"]
    pd.testing.assert_frame_equal(read, skipped.to_frame(), check_dtype=False)
    skipped.to_json(tmp_path / "curve.json")
    saved = json.loads((tmp_path / "curve.json").read_text(encoding="utf-8"))
    assert saved["seed"] == curve.to_dict()["seed"]


def test_to_frame_without_pandas_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    result = verify_pac(MeanPredictor, constant_target(1.0), 5, 0.1, 0.1, trials=2,
                        n_features=3, random_state=0)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match=r"PACResult.to_frame\(\) needs pandas.*pip install "
                                          "pandas"):
        result.to_frame()
    json.dumps(result.to_dict())  # still fine without pandas
    assert "<pre>" in result._repr_html_()


# ------------------------------------------------------------ Dask optional
def test_serial_and_local_parallel_runs_need_no_dask(tmp_path):
    """Without dask installed, local runs work and never import it; a scheduler
    request is an ImportError naming the extra."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys
        sys.modules["dask"] = None          # "import dask" now raises ImportError
        sys.modules["distributed"] = None
        from sparselearn.pac import bump_target, low_degree_learner, verify_pac
        import functools
        learner = functools.partial(low_degree_learner, {}, degree=1)
        target = functools.partial(bump_target, {"n_features": 6, "width": 4, "sparsity": 2})
        runs = [verify_pac(learner, target, 30, 0.5, 0.2, trials=4, random_state=1,
                           n_jobs=jobs).errors.tolist() for jobs in (1, 2)]
        assert runs[0] == runs[1], runs
        try:
            verify_pac(learner, target, 30, 0.5, 0.2, trials=2, scheduler="tcp://127.0.0.1:1")
        except ImportError as exc:
            print("IMPORTERROR", exc)
        print("DASK", sys.modules.get("dask"), sys.modules.get("distributed"))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'IMPORTERROR running trials on a Dask cluster (scheduler=) needs ' \
           'dask.distributed, which is not installed: pip install "sparselearn[dask]"' \
           in done.stdout
    assert "DASK None None" in done.stdout


# ------------------------------------------------------- multi-output targets
def test_verify_pac_learns_the_chosen_output_of_a_multi_output_target():
    # With exact evaluation (n = 5 <= exact_max_n) the zero predictor's error
    # is E[f_t^2] over the cube for the chosen output t, computed here with
    # NumPy from the network's arrays on all 32 points.
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(6, 5)), rng.normal(size=6)
    U, c = rng.normal(size=(6, 3)), np.array([0.5, -1.0, 2.0])
    net = SparseReLUNetwork(W, b, U, c)
    X = all_cube_points(5)
    F = np.maximum(X @ W.T - b, 0.0) @ U + c
    for t in range(3):
        result = verify_pac(ZeroPredictor, lambda rng: net, n_samples=10, eps=100.0,
                            delta=0.5, trials=2, random_state=0, output=t,
                            eps_scale="absolute")
        assert result.exact
        np.testing.assert_allclose(result.errors, np.mean(F[:, t] ** 2), rtol=1e-12)
        np.testing.assert_allclose(result.target_norms, np.mean(F[:, t] ** 2), rtol=1e-12)
    # A plain callable returning (m, o) values: column t.
    result = verify_pac(ZeroPredictor, lambda rng: (lambda Z: np.stack([Z[:, 0], 3 * Z[:, 1]],
                                                                        1)),
                        n_samples=10, eps=100.0, delta=0.5, trials=2, random_state=0,
                        n_features=5, output=1, eps_scale="absolute")
    np.testing.assert_allclose(result.errors, 9.0)


def test_pac_output_is_validated_and_required_for_multi_output_targets():
    net = SparseReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones((2, 2)), np.zeros(2))
    common = dict(n_samples=10, eps=1.0, delta=0.5, trials=2, random_state=0)
    with pytest.raises(ValueError, match="2 outputs; pass output=t"):
        verify_pac(ZeroPredictor, lambda rng: net, **common)
    with pytest.raises(ValueError, match="output=2, but make_target returned a network with 2"):
        verify_pac(ZeroPredictor, lambda rng: net, output=2, **common)
    with pytest.raises(ValueError, match="output"):
        verify_pac(ZeroPredictor, lambda rng: net, output=-1, **common)
    with pytest.raises(TypeError, match="output"):
        verify_pac(ZeroPredictor, lambda rng: net, output=0.5, **common)
    with pytest.raises(ValueError, match="output=0 was given"):
        verify_pac(ZeroPredictor, lambda rng: (lambda Z: Z[:, 0]), output=0, n_features=3,
                   **common)
    # The search shares the option (validated once).
    with pytest.raises(ValueError, match="output"):
        sample_complexity_curve(ZeroPredictor, lambda p: (lambda rng: net), [1], eps=1.0,
                                delta=0.5, trials=2, m_grid=[10], random_state=0)
    result = sample_complexity_curve(ZeroPredictor, lambda p: (lambda rng: net), [1],
                                     eps=100.0, delta=0.5, trials=2, m_grid=[10],
                                     random_state=0, output=1, eps_scale="absolute")
    assert result.min_samples[0] == 10


# ------------------------------------------------- pre-flight report (issue 13)
def test_preflight_reports_the_class_floor_exactly_and_skips_infeasible_runs():
    from sparselearn.pac import InfeasibleWarning

    net = normalised(bump_network(8, 6, 2, random_state=0))
    tails = tail_weights(net)  # independent transform; E[f^2] = 1 (normalised)
    assert tails[2] > 0.5  # degree 2 cannot come near eps = 0.1 on this bump
    with pytest.warns(InfeasibleWarning, match="no sample size can pass at degree <= 2: "
                                               "best relative error 0.84"):
        skipped = verify_pac(low_degree_learner(2), lambda rng: net, 200, 0.1, 0.1,
                             trials=5, random_state=0)
    report = skipped.preflight
    assert skipped.infeasible and skipped.trials == 0 and skipped.fit_seconds.size == 0
    assert not skipped.consistent and not skipped.certified
    assert np.isnan(skipped.interval).all() and np.isnan(skipped.success_fraction)
    assert report["exact"] and report["degree"] == 2
    assert report["best_relative_error"] == pytest.approx(tails[2], rel=1e-9)
    assert report["energy"] == pytest.approx(1.0, rel=1e-12)
    # The suggested degree is the smallest one whose floor is at most eps / 2.
    suggested = int(np.flatnonzero(tails <= 0.05)[0])
    assert report["suggested_degree"] == suggested
    assert f"degree {suggested} reaches" in report["message"]
    assert report["message"] in str(skipped)
    assert "zero predictor: relative error 1" in report["message"]
    assert json.loads(json.dumps(skipped.to_dict()))["infeasible"] is True
    # At the suggested degree the class can reach eps: the trials run.
    ran = verify_pac(low_degree_learner(suggested), lambda rng: net, 300, 0.1, 0.1,
                     trials=2, random_state=0)
    assert ran.trials == 2 and not ran.infeasible and ran.preflight["feasible"] is True
    assert ran.preflight["message"].startswith(f"pre-flight: best relative error at degree "
                                               f"<= {suggested} is")
    # A learner that does not state its degree: no floor, the trials run.
    other = verify_pac(ZeroPredictor, lambda rng: net, 10, 0.1, 0.1, trials=2,
                       random_state=0)
    assert other.trials == 2 and other.preflight["best_relative_error"] is None
    assert "unknown" in other.preflight["message"]
    # preflight=False: no report, the trials always run.
    forced = verify_pac(low_degree_learner(2), lambda rng: net, 200, 0.1, 0.1, trials=2,
                        random_state=0, preflight=False)
    assert forced.preflight is None and forced.trials == 2 and forced.successes == 0


def test_preflight_ignores_the_degree_of_a_non_polynomial_kernel():
    # SVR and KernelRidge have degree=3, read by kernel="poly" only: an RBF
    # kernel is not a degree-3 class, so the degree-4 parity x0 x1 x2 x3
    # (floor 1 at degree 3) must not skip its trials; the polynomial kernel
    # of degree 3 is such a class, and is skipped.
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.svm import SVR

    from sparselearn.pac import InfeasibleWarning

    def parity(rng):
        return lambda X: np.prod(X[:, :4], axis=1)

    for make in (SVR, lambda: KernelRidge(kernel="rbf")):
        ran = verify_pac(make, parity, 40, 0.5, 0.2, trials=1, n_features=6,
                         random_state=0)
        assert ran.trials == 1 and not ran.infeasible
        assert ran.preflight["degree"] is None
    with pytest.warns(InfeasibleWarning, match="at degree <= 3: best relative error 1 "):
        skipped = verify_pac(lambda: KernelRidge(kernel="poly", degree=3), parity, 40, 0.5,
                             0.2, trials=1, n_features=6, random_state=0)
    assert skipped.infeasible and skipped.trials == 0


def test_preflight_estimate_agrees_with_the_exact_floor_within_its_stderr():
    # n = 12 > exact_max_n = 8: the floor is estimated on fresh points.
    net = normalised(bump_network(12, 6, 2, random_state=1))
    exact = tail_weights(net)[2]
    result = verify_pac(low_degree_learner(2), lambda rng: net, 100, 0.99, 0.1, trials=1,
                        exact_max_n=8, n_draws=20_000, random_state=0)
    report = result.preflight
    assert report["exact"] is False and "(estimated)" in report["message"]
    estimate, stderr = report["best_relative_error"], report["best_relative_error_stderr"]
    assert 0 < stderr < 0.05
    # A jackknife over 10 batches: (estimate - exact) / stderr is about t with
    # 9 degrees of freedom, beyond 4.5 with probability ~0.15% (fixed seed).
    assert abs(estimate - exact) <= 4.5 * stderr
    assert report["energy"] == pytest.approx(1.0, abs=4.5 * report["energy_stderr"])


def test_eps_is_relative_to_the_second_moment_unless_asked_otherwise():
    import warnings

    # The zero predictor on f = 2: error 4 = E[f^2], relative error 1.
    args = (ZeroPredictor, constant_target(2.0), 10)
    common = dict(delta=0.1, trials=3, n_features=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # a chosen scale: no warning
        relative = verify_pac(*args, 0.5, eps_scale="relative", **common)
        loose = verify_pac(*args, 1.5, eps_scale="relative", **common)
        absolute = verify_pac(*args, 1.5, eps_scale="absolute", **common)
    np.testing.assert_array_equal(relative.relative_errors, 1.0)
    assert relative.successes == 0 and loose.successes == 3 and absolute.successes == 0
    np.testing.assert_array_equal(loose.thresholds, 6.0)
    assert relative.to_dict()["eps_scale"] == "relative"
    with pytest.warns(FutureWarning, match="eps is now relative to E\\[f\\^2\\].*= 4"):
        default = verify_pac(*args, 0.5, **common)
    assert default.eps_scale == "relative" and default.successes == 0
    with pytest.raises(ValueError, match="eps_scale must be 'relative'"):
        verify_pac(*args, 0.5, eps_scale="percent", **common)


def test_searches_and_sweeps_do_not_spend_trials_out_of_reach():
    import functools

    from sparselearn import pac

    make_target_for = lambda p: (lambda rng: normalised(bump_network(8, 6, 2,
                                                                     random_state=0)))
    with pytest.warns(pac.InfeasibleWarning):
        curve = sample_complexity_curve(low_degree_learner(2), make_target_for,
                                        [0.1, 0.95], eps=[0.1, 0.95], delta=0.2, trials=3,
                                        m_grid=[50, 400], random_state=0)
    assert curve.min_samples[0] is None and curve.evaluations[0] == ()
    assert curve.preflight[0]["feasible"] is False and curve.preflight[1]["feasible"]
    assert len(curve.evaluations[1]) >= 1
    assert "infeasible" in curve.to_table()
    json.dumps(curve.to_dict(), allow_nan=False)

    with pytest.warns(pac.InfeasibleWarning):
        sweep = pac.verify_sweep(functools.partial(pac.low_degree_learner),
                                 pac.bump_target, {"n_features": [8], "width": [6],
                                                   "sparsity": [2], "degree": [2, 8],
                                                   "n_samples": [400]},
                                 0.1, 0.2, 3, random_state=0)
    records = sweep.to_records()
    assert [r["feasible"] for r in records] == [False, True]
    assert [r["trials"] for r in records] == [0, 3]
    assert records[0]["mean_error"] is None and records[1]["best_relative_error"] == 0.0
    assert "INFEASIBLE" in sweep.to_table()
    json.dumps(sweep.to_dict(), allow_nan=False)


def test_a_sweep_point_without_trials_shows_no_estimate(tmp_path):
    """An infeasible point (the pre-flight skipped its trials) was shown as
    "0/0 [0.000, 0.000]", a success fraction and interval of 0 in its CSV
    and JSON, and a point at 0 in plot_sweep: as if measured.  Now it has no
    estimate anywhere: "n/a" and "(no trials)" in the table, empty CSV
    cells, JSON null, and a mark on the plot's bottom edge, not a point."""
    import csv
    import functools
    import warnings

    from sparselearn import pac

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pac.InfeasibleWarning)
        sweep = pac.verify_sweep(functools.partial(pac.low_degree_learner),
                                 pac.bump_target, {"n_features": [8], "width": [6],
                                                   "sparsity": [2], "degree": [2, 8],
                                                   "n_samples": [400]},
                                 0.1, 0.2, 3, random_state=0)
    skipped, ran = sweep.to_table().splitlines()[3:5]
    assert "INFEASIBLE" in skipped and "0/0" not in skipped and "0.000" not in skipped
    verdict = str(sweep.results[0]).splitlines()[-1]  # the skipped point's own report
    assert "INFEASIBLE (no trial run" in verdict and "REJECTED" not in verdict
    assert skipped.split()[5:8] == ["n/a", "(no", "trials)"]
    assert "/3" in ran and "(no trials)" not in ran
    first, second = sweep.to_records()
    assert first["success_fraction"] is first["ci_lower"] is first["ci_upper"] is None
    assert not first["consistent"] and not first["certified"]
    assert second["trials"] == 3 and 0 <= second["ci_lower"] <= second["ci_upper"] <= 1
    rows = list(csv.DictReader(open(sweep.to_csv(tmp_path / "s.csv"), encoding="utf-8")))
    assert [rows[0][key] for key in ("success_fraction", "ci_lower", "ci_upper")] == [""] * 3
    payload = json.loads(open(sweep.to_json(tmp_path / "s.json"), encoding="utf-8").read())
    assert payload["rows"][0]["ci_lower"] is None and payload["rows"][1]["trials"] == 3
    point = json.loads(open(sweep.results[0].to_json(tmp_path / "p.json")).read())
    assert point["interval"] == [None, None] and point["success_fraction"] is None

    plt = pytest.importorskip("matplotlib.pyplot")
    plt.close("all")
    try:
        for y in ("success_fraction", "median_error"):
            ax = pac.plot_sweep(sweep, x="n_samples", y=y)
            # One data line, the feasible point's; the skipped one is a mark
            # on the bottom spine (axes coordinate 0), labelled in the legend.
            (container,) = ax.containers
            assert container.lines[0].get_ydata().tolist() == [second[y]]
            (mark,) = [line for line in ax.lines if line.get_marker() == "x"]
            assert mark.get_xdata().tolist() == [400] and mark.get_ydata().tolist() == [0]
            assert mark.get_transform() == ax.get_xaxis_transform()
            labels = [text.get_text() for text in ax.get_legend().get_texts()]
            assert "no trials (infeasible): degree=2" in labels
            plt.close("all")
    finally:
        plt.close("all")


def test_sweep_preflight_follows_a_degree_chosen_from_n_samples():
    # Points differing only in n_samples share their target, but a learner
    # whose degree grows with n_samples has one floor per degree: the parity
    # x0 x1 x2 x3 is out of reach at degree 1 (floor 1), exactly learnable
    # at degree 4 (floor 0, 400 samples for D = 57 monomials).
    from sparselearn.pac import InfeasibleWarning, verify_sweep

    def learner(point):
        return LowDegreeRegressor(degree=1 if point["n_samples"] < 100 else 4,
                                  solver="exact")

    with pytest.warns(InfeasibleWarning, match="at degree <= 1"):
        sweep = verify_sweep(learner, lambda point, rng: lambda X: np.prod(X[:, :4], axis=1),
                             {"n_features": [6], "n_samples": [50, 400]}, 0.2, 0.2, 2,
                             random_state=0)
    records = sweep.to_records()
    assert [(r["feasible"], r["trials"]) for r in records] == [(False, 0), (True, 2)]
    assert sweep.results[1].preflight["degree"] == 4


# ----------------------------------------- agnostic: targets outside the class
def _certified_sparse_random(seed):
    from sparselearn import cube

    net = random_network(8, 6, random_state=seed, bias_quantile=0.8)
    assert cube.certify_sparsity(net).max_active == 4  # sparse: 4 of 6 units at most
    return normalised(net)


@pytest.mark.parametrize("target, d, noise", [
    (normalised(bump_network(8, 6, 2, random_state=0)), 2, 0.0),
    (normalised(bump_network(8, 6, 2, random_state=0)), 2, 0.3),
    (_certified_sparse_random(0), 1, 0.3),
])
def test_low_degree_learner_meets_the_agnostic_guarantee(target, d, noise):
    # Targets from the class with a non-zero tail at the learner's degree d:
    # no degree-d hypothesis reaches them, but least squares approaches the
    # best one, f^{<=d}.  With orthonormal features of constant norm
    # (||phi(x)||^2 = D), E[(h - f)^2] - W^{>d} = E||c_hat - c||^2 is about
    # D (W^{>d} + sigma^2) / (m - D - 1) (the sandwich covariance's trace;
    # m - D - 1 the Gaussian-design finite-sample factor), so by Markov
    # the excess exceeds that over delta with probability <= delta.
    n = target.n_features
    tails = tail_weights(target)
    assert tails[d] > 0.1  # genuinely outside the class
    D = sum(math.comb(n, j) for j in range(d + 1))
    m, delta = 20 * D, 0.1
    term = D * (tails[d] + noise**2) / (m - D - 1) / delta
    result = verify_pac(low_degree_learner(d), lambda rng: target, m, term, delta,
                        trials=20, noise=noise, confidence=0.998, random_state=1,
                        eps_scale="absolute", agnostic=True)
    # Under that premise the exact binomial test rejects w.p. <= 0.1%.
    assert result.consistent, str(result)
    np.testing.assert_allclose(result.class_errors, tails[d], rtol=1e-9)
    # Parseval, deterministically: never below the class's best.
    assert np.all(result.errors >= tails[d] * (1 - 1e-9))
    assert result.preflight["feasible"] is None and "agnostic" in result.preflight["message"]
    assert result.to_dict()["agnostic"] is True
    # The realizable reading of the same tolerance is out of the class's reach.
    realizable = verify_pac(low_degree_learner(d), lambda rng: target, m, term, delta,
                            trials=2, noise=noise, random_state=1, eps_scale="absolute",
                            preflight=False)
    assert realizable.successes == 0


def test_sample_complexity_curve_searches_the_agnostic_guarantee():
    # The bump network above (W^{>2}[f] = 0.84, outside the degree-2 class).
    # At m = 20 D the agnostic excess is within `term` with probability >= 0.9
    # per trial (Markov, the premise of the test above), so the curve's run at
    # m = 20 D is consistent at 99.8% except with probability <= 0.1%.
    target = normalised(bump_network(8, 6, 2, random_state=0))
    tails = tail_weights(target)
    D, delta = 1 + 8 + 28, 0.1
    m = 20 * D
    term = D * tails[2] / (m - D - 1) / delta
    assert term < tails[2]  # so the realizable reading is out of reach
    kwargs = dict(m_grid=[m // 4, m], confidence=0.998, random_state=1,
                  eps_scale="absolute")
    curve = sample_complexity_curve(low_degree_learner(2), lambda p: lambda rng: target, [0],
                                    term, delta, 20, agnostic=True, **kwargs)
    assert curve.min_samples[0] is not None and curve.min_samples[0] <= m, str(curve)
    assert "agnostic" in curve.preflight[0]["message"]
    # Each run is the agnostic verify_pac of the documented seed (parameter
    # 0 uses the root's child 0, the same trials at every m).
    seed = np.random.SeedSequence(1, spawn_key=(0,))
    for run in curve.evaluations[0]:
        single = verify_pac(low_degree_learner(2), lambda rng: target, run.n_samples, term,
                            delta, 20, confidence=0.998, random_state=seed,
                            eps_scale="absolute", agnostic=True)
        assert (run.successes, run.trials) == (single.successes, single.trials)
    # The realizable reading of the same tolerance: the pre-flight skips it.
    with pytest.warns(UserWarning, match="no sample size can pass"):
        realizable = sample_complexity_curve(low_degree_learner(2),
                                             lambda p: lambda rng: target, [0], term, delta,
                                             20, **kwargs)
    assert realizable.min_samples == (None,) and realizable.evaluations == ((),)


def test_agnostic_mode_needs_a_learner_that_states_its_degree_and_exact_spectra():
    net = normalised(bump_network(8, 6, 2, random_state=0))
    with pytest.raises(TypeError, match="must state its degree"):
        verify_pac(ZeroPredictor, lambda rng: net, 10, 0.1, 0.1, trials=2, agnostic=True)
    with pytest.raises(ValueError, match="agnostic=True needs each target's exact spectrum"):
        verify_pac(low_degree_learner(1), lambda rng: net, 10, 0.1, 0.1, trials=2,
                   agnostic=True, exact_max_n=4)
    with pytest.raises(TypeError, match="agnostic must be True or False"):
        verify_pac(low_degree_learner(1), lambda rng: net, 10, 0.1, 0.1, trials=2,
                   agnostic="yes")


def test_a_pool_the_learner_factory_loads_is_held_to_one_thread_too():
    """scikit-learn (and its OpenMP) loads on first use of sparselearn's
    estimators: a make_learner() that imports it inside the first trial ran
    that trial's OpenMP on every core (the limit predates the import)."""
    import subprocess
    import sys
    code = "\n".join([
        "import threadpoolctl",
        "from sparselearn.pac import verify_pac",
        "from sparselearn.targets import random_network",
        "seen = []",
        "def make_learner():",
        "    from sklearn.linear_model import LinearRegression",
        "    class Spy(LinearRegression):",
        "        def fit(self, X, y):",
        "            seen.append(sorted({p['num_threads'] for p in",
        "                                threadpoolctl.threadpool_info()}))",
        "            return super().fit(X, y)",
        "    return Spy()",
        "net = random_network(4, 2, random_state=0)",
        "verify_pac(make_learner, lambda rng: net, 20, 0.5, 0.1, 2, random_state=0,",
        "           eps_scale='relative', preflight=False)",
        "assert seen == [[1], [1]], seen",
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=dict(__import__("os").environ, OMP_NUM_THREADS="2"))
    assert result.returncode == 0, result.stderr


def test_trials_run_with_single_threaded_pools_and_restore_them():
    """Each trial holds BLAS and OpenMP at one thread (per-trial results do
    not depend on the worker's thread count) and gives the count back; the
    pools are looked up again after an import (a learner's own library)."""
    from threadpoolctl import threadpool_info

    from sparselearn.pac import _trial

    seen = []

    class ThreadCountingLearner(ZeroPredictor):
        def fit(self, X, y):
            seen.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
            return super().fit(X, y)

    before = {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}
    verify_pac(ThreadCountingLearner, _ok_target, 10, 0.1, 0.1, 2, random_state=0,
               eps_scale="absolute", preflight=False)
    assert len(seen) == 2 and all(set(counts.values()) == {1} for counts in seen)
    assert {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()} == before
    first = _trial._thread_pools()
    assert _trial._thread_pools() is first  # cached while nothing is imported
    import importlib
    import sys
    sys.modules.pop("json.tool", None)
    importlib.import_module("json.tool")
    assert _trial._thread_pools() is not first


class _FailsOnSomeSamples:
    """A learner that raises when its sample's first coordinate is +1 (about
    half the trials), as a solver that breaks down on some samples does."""

    def fit(self, X, y):
        if X[0, 0] > 0:
            raise np.linalg.LinAlgError("singular design")
        return self

    def predict(self, X):
        return np.zeros(X.shape[0])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
def test_a_failing_trial_aborts_the_run_and_is_named():
    """A trial whose learner raises is never counted (the run stops with the
    learner's own exception); the exception names the trial and the root
    seed, which replays it.  The first failing trial is computed here from
    the documented seeding (child i of the root, spawn(3)[1] draws the
    sample), independently of the harness."""
    from sparselearn import cube

    root = np.random.SeedSequence(12)  # trials 0 to 3 pass their fit: trial 4 fails first
    first = next(i for i in range(50) if cube.uniform_points(
        5, 10, np.random.default_rng(np.random.SeedSequence(
            root.entropy, spawn_key=(i,)).spawn(3)[1]))[0, 0] > 0)
    with pytest.raises(np.linalg.LinAlgError, match="singular design") as info:
        verify_pac(_FailsOnSomeSamples, _ok_target, n_samples=10, eps=0.1, delta=0.1,
                   trials=50, random_state=12)
    (note,) = info.value.__notes__
    assert first == 4 and note.startswith(
        f"raised in PAC trial {first} (n_samples=10) of the run with root seed "
        "SeedSequence(entropy=12, spawn_key=())")


class _NaNOnSomeSamples(ZeroPredictor):
    """Predicts NaN everywhere after a fit on a sample whose first point has
    x_0 = +1 (as a solver that diverges on some samples does)."""

    def fit(self, X, y):
        self.diverged = X[0, 0] > 0
        return self

    def predict(self, X):
        return np.full(X.shape[0], np.nan) if self.diverged else np.zeros(X.shape[0])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_nan_prediction_stops_the_run_naming_the_trial_and_seed(n_jobs):
    """A NaN error counted as a failure (or, compared relatively, a success)
    would be a result that never happened: the run stops with a ValueError
    naming the learner's predict, the number of NaN points, and (a note that
    survives the worker processes) the trial and root seed.  The first such
    trials are found from the documented seeding, independently of the harness:
    serially the first is named; with two processes one of them (whichever
    worker fails first, a race)."""
    from sparselearn import cube

    root = np.random.SeedSequence(8)  # trials 0 to 3 predict zeros: trial 4 is the first
    nan_trials = [i for i in range(12) if cube.uniform_points(
        5, 10, np.random.default_rng(np.random.SeedSequence(
            root.entropy, spawn_key=(i,)).spawn(3)[1]))[0, 0] > 0]
    with pytest.raises(ValueError, match=r"^the learner's predict returned NaN or infinite "
                                         r"values \(32 of 32 points, e.g. nan\)") as info:
        verify_pac(_NaNOnSomeSamples, _ok_target, n_samples=10, eps=0.1, delta=0.1,
                   trials=12, random_state=8, n_jobs=n_jobs, preflight=False)
    (note,) = info.value.__notes__
    named = re.match(r"raised in PAC trial (\d+) \(n_samples=10\) of the run with root seed "
                     r"SeedSequence\(entropy=8, spawn_key=\(\)\)", note)
    assert nan_trials[0] == 4 and named is not None
    assert int(named.group(1)) == 4 if n_jobs == 1 else int(named.group(1)) in nan_trials


def test_a_torch_prediction_that_requires_grad_names_the_learners_predict():
    """A torch-based learner returning its output tensor undetached: torch's
    RuntimeError ("Can't call numpy() on Tensor that requires grad") did not
    say it came from the learner; a TypeError names its predict, keeping
    torch's advice to detach."""
    torch = pytest.importorskip("torch")

    class Undetached(ZeroPredictor):
        def predict(self, X):
            return torch.zeros(X.shape[0], requires_grad=True) * 1.0

    with pytest.raises(TypeError, match=r"the learner's predict must return real numbers, "
                                        r"one per point; its Tensor does not convert.*detach"):
        verify_pac(Undetached, _ok_target, n_samples=10, eps=0.1, delta=0.1, trials=1,
                   random_state=0)


def test_sample_complexity_repr_is_one_line_of_key_figures():
    """The dataclass repr listed every Evaluation (and a multi-line
    SeedSequence): thousands of characters for a modest search."""
    from sparselearn.pac import Evaluation

    runs = tuple(Evaluation(m, 3, 3, (0.3, 1.0), True, 0.2) for m in range(4, 400, 4))
    curve = SampleComplexityResult(
        "k", tuple(np.arange(1, 9)), (0.5,) * 8, 0.1, 0.95, "consistent", 0.0, 3,
        (40, None, 8, 8, 8, 8, 8, 8), (None,) * 8, (runs,) * 8, (),
        np.random.SeedSequence(7).spawn(2)[1])
    assert repr(curve) == (
        "SampleComplexityResult(param_name='k', params=(1, 2, 3, 4, 5, 6, ... 2 more), "
        "min_samples=(40, None, 8, 8, 8, 8, ... 2 more), trials=3, delta=0.1, "
        "criterion='consistent', seed=SeedSequence(entropy=7, spawn_key=(1,)))")
    small = SampleComplexityResult("level", (1.0, 2.0), (0.1, 0.1), 0.2, 0.95, "certified",
                                   0.0, 5, (16, None), (4, 16), ((), ()))
    assert repr(small) == ("SampleComplexityResult(param_name='level', params=(1.0, 2.0), "
                           "min_samples=(16, None), trials=5, delta=0.2, "
                           "criterion='certified', seed=None)")


def test_sample_complexity_frame_keeps_a_value_the_preflight_skipped():
    """A parameter value whose eps is out of its class's reach has no run:
    to_frame() dropped it (an all-skipped curve gave a frame without
    columns), so a table of m* per value silently lost it.  It keeps one
    row, trials 0, m* None."""
    pd = pytest.importorskip("pandas")
    from sparselearn.pac import Evaluation

    runs = (Evaluation(40, 3, 3, (0.3, 1.0), True, 0.2),)
    curve = SampleComplexityResult("k", (1, 2), (0.5, 0.5), 0.1, 0.95, "consistent", 0.0,
                                   3, (40, None), (None, None), (runs, ()),
                                   ({"feasible": True}, {"feasible": False}))
    frame = curve.to_frame()
    assert frame["k"].tolist() == [1, 2] and frame["trials"].tolist() == [3, 0]
    assert frame["min_samples"].tolist()[0] == 40 and pd.isna(frame["min_samples"][1])
    assert pd.isna(frame.loc[1, "n_samples"]) and not frame.loc[1, "passed"]
    assert set(frame.columns) == {"k", "eps", "n_samples", "successes", "trials", "passed",
                                  "median_error", "ci_lower", "ci_upper", "min_samples"}


def test_a_target_value_beyond_float64_is_a_value_error_naming_the_target():
    """A callable target returning a Python int beyond float64 (10**400) raised
    a bare OverflowError from NumPy's conversion."""
    def make_target(rng):
        return lambda X: [10**400] + [1] * (len(X) - 1)

    with pytest.raises(ValueError, match=r"^the target must return real numbers.*within "
                                         r"float64's range"):
        verify_pac(ZeroPredictor, make_target, n_samples=10, eps=0.1, delta=0.1, trials=2,
                   n_features=4, random_state=0, preflight=False)
