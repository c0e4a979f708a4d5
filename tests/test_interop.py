"""Tests for sparselearn.interop: scikit-learn and PyTorch round trips."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sparselearn import SparseReLUNetwork
from sparselearn.profile import activation_profile


def _random_network(rng, n, s, o, dyadic=False):
    draw = ((lambda *shape: rng.integers(-16, 17, size=shape) / 8.0) if dyadic
            else (lambda *shape: rng.normal(size=shape)))
    if o is None:
        return SparseReLUNetwork(draw(s, n), draw(s), draw(s), float(draw(1)[0]))
    return SparseReLUNetwork(draw(s, n), draw(s), draw(s, o), draw(o))


# Shapes include n == s (square hidden weights: a hand conversion that
# forgets the transpose is accepted there and wrong) and s == o.
SHAPES = [(3, 3, None), (4, 4, 4), (5, 7, 2), (1, 1, None), (6, 2, 3), (8, 8, 1)]


def _fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# ------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("n, s, o", SHAPES)
def test_sklearn_round_trip_is_exact(n, s, o):
    rng = np.random.default_rng(n * 100 + s)
    net = _random_network(rng, n, s, o)
    est = net.to_sklearn()
    back = SparseReLUNetwork.from_sklearn(est)
    # o == 1 as a 2-D column becomes a single-output network (sklearn's
    # predict is (m,) for one output).
    expected = net if o != 1 else net.select_output(0)
    assert back == expected
    X = rng.normal(size=(200, n))
    prediction = est.predict(X)
    np.testing.assert_allclose(prediction, np.squeeze(net(X), axis=-1) if o == 1 else net(X),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("o", [None, 2])
def test_to_sklearn_trains_on_from_the_network(o):
    # partial_fit and a warm-started fit continue from the exported weights:
    # with one batch and no penalty, the first epoch's loss is the exported
    # network's 0.5 * mean squared error (a re-initialised MLP would differ).
    rng = np.random.default_rng(3)
    net = _random_network(rng, 4, 6, o)
    X = rng.normal(size=(100, 4))
    y = rng.normal(size=(100,) if o is None else (100, o))
    start_loss = 0.5 * np.mean((net(X).reshape(y.shape) - y) ** 2)  # sklearn's squared loss
    est = net.to_sklearn().set_params(alpha=0.0, batch_size=100)
    est.partial_fit(X, y)
    assert est.loss_ == pytest.approx(start_loss, rel=1e-10)
    assert SparseReLUNetwork.from_sklearn(est) != net   # one Adam step moved the weights
    warm = net.to_sklearn().set_params(alpha=0.0, batch_size=100, warm_start=True, max_iter=2)
    _fit_quietly(warm, X, y)
    assert warm.loss_curve_[0] == pytest.approx(start_loss, rel=1e-10)
    assert warm.n_iter_ == 2


@pytest.mark.parametrize("n, s, o", SHAPES)
def test_sklearn_predict_equals_net_exactly_when_sums_are_exact(n, s, o):
    rng = np.random.default_rng(7 + n + s)
    net = _random_network(rng, n, s, o, dyadic=True)
    X = rng.integers(-4, 5, size=(100, n)).astype(float)
    got = net.to_sklearn().predict(X)
    np.testing.assert_array_equal(got, net(X).reshape(got.shape))


def test_from_sklearn_regressor_reproduces_predict_on_a_square_network():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = np.maximum(X[:, 0], 0.0) - X[:, 1]
    est = _fit_quietly(MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0), X, y)
    net = SparseReLUNetwork.from_sklearn(est)
    np.testing.assert_allclose(net(X), est.predict(X), rtol=1e-12, atol=1e-12)
    # The naive conversion is accepted (square weights) and computes another function.
    naive = SparseReLUNetwork(est.coefs_[0], est.intercepts_[0], est.coefs_[1][:, 0],
                              float(est.intercepts_[1][0]))
    assert np.abs(naive(X) - est.predict(X)).max() > 1e-3


def test_from_sklearn_poisson_regressor_gives_the_log_of_predict():
    # The output activation is exp: the network is the layer before it.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 4))
    y = np.exp(0.3 * X[:, 0])
    est = _fit_quietly(MLPRegressor(hidden_layer_sizes=(6,), loss="poisson", max_iter=50,
                                    random_state=0), X, y)
    assert est.out_activation_ == "exp"
    net = SparseReLUNetwork.from_sklearn(est)
    np.testing.assert_allclose(np.exp(net(X)), est.predict(X), rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_from_sklearn_classifier_gives_decision_scores(n_classes):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(200, 5))
    y = np.array(list("abcd"))[np.argmax(X[:, :n_classes], axis=1)]
    est = _fit_quietly(MLPClassifier(hidden_layer_sizes=(5,), max_iter=100, random_state=0),
                       X, y)
    net = SparseReLUNetwork.from_sklearn(est)
    scores = net(X)
    if n_classes == 2:
        assert scores.shape == (200,)
        predicted = est.classes_[(scores > 0).astype(int)]
        np.testing.assert_allclose(1 / (1 + np.exp(-scores)), est.predict_proba(X)[:, 1],
                                   rtol=1e-12)
    else:
        assert scores.shape == (200, n_classes)
        predicted = est.classes_[np.argmax(scores, axis=1)]
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), est.predict_proba(X),
                                   rtol=1e-10)
    np.testing.assert_array_equal(predicted, est.predict(X))


def test_from_sklearn_refuses_other_models_naming_what_was_found():
    X = np.random.default_rng(1).normal(size=(30, 3))
    y = X[:, 0]
    deep = _fit_quietly(MLPRegressor(hidden_layer_sizes=(4, 4), max_iter=5), X, y)
    with pytest.raises(ValueError, match=r"this MLPRegressor has 2 .*\(4, 4\)"):
        SparseReLUNetwork.from_sklearn(deep)
    tanh = _fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), activation="tanh",
                                     max_iter=5), X, y)
    with pytest.raises(ValueError, match="activation='tanh'"):
        SparseReLUNetwork.from_sklearn(tanh)
    with pytest.raises(ValueError, match="not fitted"):
        SparseReLUNetwork.from_sklearn(MLPRegressor())
    from sklearn.linear_model import Ridge
    with pytest.raises(TypeError, match="got Ridge"):
        SparseReLUNetwork.from_sklearn(Ridge())


# ------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("n, s, o", SHAPES)
def test_torch_round_trip_is_exact(n, s, o):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11 * n + s)
    net = _random_network(rng, n, s, o)
    module = net.to_torch()
    expected = net if o != 1 else net.select_output(0)
    assert SparseReLUNetwork.from_torch(module) == expected
    assert SparseReLUNetwork.from_torch(module.state_dict()) == expected
    X = rng.normal(size=(150, n))
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    assert out.shape == (150, 1 if o is None else o)
    np.testing.assert_allclose(out, net(X).reshape(out.shape), rtol=1e-12, atol=1e-12)


def test_from_torch_on_a_float32_module_and_no_bias():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 3, bias=False))
    net = SparseReLUNetwork.from_torch(module)
    # float32 -> float64 is exact.
    np.testing.assert_array_equal(net.weights, module[0].weight.detach().double().numpy())
    np.testing.assert_array_equal(net.biases, -module[0].bias.detach().double().numpy())
    np.testing.assert_array_equal(net.output_bias, np.zeros(3))
    X = np.random.default_rng(0).normal(size=(50, 4))
    with torch.no_grad():
        out = module.double()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net(X), out, rtol=1e-12, atol=1e-12)


def test_imported_zero_biases_are_positive_zeros():
    """A layer without bias (torch's bias=False, or a zero intercept) gives
    thresholds +0.0, not -0.0 (the negated bias), which printed and saved
    as -0."""
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.ReLU(),
                                 torch.nn.Linear(2, 1))
    net = SparseReLUNetwork.from_torch(module)
    np.testing.assert_array_equal(net.biases, [0.0, 0.0])
    assert not np.signbit(net.biases).any()


def test_from_torch_refuses_other_architectures():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with pytest.raises(ValueError, match=r"found Sequential\(Linear, Tanh, Linear\)"):
        SparseReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="found Linear$"):
        SparseReLUNetwork.from_torch(nn.Linear(2, 3))
    deep = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="exactly two"):
        SparseReLUNetwork.from_torch(deep.state_dict())
    with pytest.raises(TypeError, match="got int"):
        SparseReLUNetwork.from_torch(3)
    reversed_keys = dict(reversed(list(nn.Sequential(
        nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict().items())))
    with pytest.raises(ValueError, match=r"do not chain.*key order, \['2.weight', '0.weight'\]"):
        SparseReLUNetwork.from_torch(reversed_keys)

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))

    with pytest.raises(ValueError, match=r"found Wrapper \(pass the Sequential block itself"):
        SparseReLUNetwork.from_torch(Wrapper())
    assert SparseReLUNetwork.from_torch(Wrapper().state_dict()).width == 3


def test_torch_inputs_and_meta_tensors_get_clear_errors():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    net = SparseReLUNetwork.from_torch(module)
    X = torch.randn(5, 3, requires_grad=True)
    # A tensor that requires grad, or of a dtype NumPy lacks: a TypeError naming X.
    for bad in (X, X.detach().to(torch.bfloat16)):
        with pytest.raises(TypeError, match="^X must be array-like of numbers"):
            net(bad)
        with pytest.raises(TypeError, match="^X must be array-like of numbers"):
            activation_profile(net, bad)
    np.testing.assert_array_equal(activation_profile(net, X.detach()).histogram,
                                  activation_profile(net, X.detach().numpy()).histogram)
    with pytest.raises(ValueError, match="layer 0 weight is on the meta device"):
        SparseReLUNetwork.from_torch(module.to("meta"))


def test_from_torch_state_dict_shapes_and_layouts():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    state = module.state_dict()
    sparse = dict(state, **{"0.weight": state["0.weight"].to_sparse()})
    assert SparseReLUNetwork.from_torch(sparse) == SparseReLUNetwork.from_torch(module)
    scalars = {"a.weight": torch.tensor(1.0), "b.weight": torch.tensor(2.0)}
    with pytest.raises(ValueError, match=r"state_dict\['a.weight'\] must be a 2-D Linear "
                                         r"weight .*got shape \(\)"):
        SparseReLUNetwork.from_torch(scalars)


def test_functions_that_take_a_network_name_the_conversion_for_an_mlp():
    torch = pytest.importorskip("torch")
    from sparselearn import cube, fourier
    X = np.random.default_rng(2).normal(size=(40, 3))
    mlp = _fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5), X, X[:, 0])
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    calls = [lambda f: cube.certify_sparsity(f), lambda f: cube.truth_table(f),
             lambda f: fourier.spectrum(f), lambda f: activation_profile(f, X),
             lambda f: fourier.estimate_influences(f, n_features=3, n_draws=10)]
    # A state_dict too: the hint named the constructor, which the docs warn against.
    for foreign, method in ((mlp, "from_sklearn"), (module, "from_torch"),
                            (module.state_dict(), "from_torch")):
        for call in calls:
            with pytest.raises(TypeError, match=f"got {type(foreign).__name__}; convert it "
                                                f"with SparseReLUNetwork.{method}"):
                call(foreign)
    # A plain callable (here the MLP's predict) is still a function to estimate.
    assert fourier.estimate_influences(mlp.predict, n_features=3, n_draws=10).estimate.shape \
        == (3,)


def test_non_finite_parameters_are_named_as_in_the_source_library():
    X = np.random.default_rng(4).normal(size=(30, 3))
    est = _fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5), X, X[:, 0])
    est.coefs_[1][2, 0] = np.nan
    with pytest.raises(ValueError, match=r"this MLPRegressor's coefs_\[1\] has 1 NaN or "
                                         "infinite entries"):
        SparseReLUNetwork.from_sklearn(est)
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        module[0].bias[1] = float("inf")
    with pytest.raises(ValueError, match="layer 0 bias has 1 NaN or infinite entries"):
        SparseReLUNetwork.from_torch(module)
    with pytest.raises(ValueError, match=r"state_dict\['0.bias'\] has 1 NaN"):
        SparseReLUNetwork.from_torch(module.state_dict())


def test_from_sklearn_refuses_edited_arrays_that_do_not_chain():
    # Units pruned by hand with one array forgotten: a one-output bias of
    # the wrong length was read as its first entry, a short coefs_[0] as
    # another input dimension.
    X = np.random.default_rng(6).normal(size=(40, 3))
    edits = {"intercepts_": (1, np.zeros(2)), "coefs_": (0, np.zeros((2, 4)))}
    for attribute, (index, value) in edits.items():
        est = _fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5), X, X[:, 0])
        getattr(est, attribute)[index] = value
        with pytest.raises(ValueError, match=r"this MLPRegressor's layers do not chain: "
                                             r"coefs_ shapes .*intercepts_ shapes"):
            SparseReLUNetwork.from_sklearn(est)


def test_from_torch_skips_dropout_and_identity():
    # Both are the identity at inference: the network is the module in eval mode.
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(3)
    block = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    module = nn.Sequential(nn.Dropout(0.2), block[0], nn.ReLU(), nn.Dropout(0.5),
                           nn.Identity(), block[2], nn.AlphaDropout(0.1))
    net = SparseReLUNetwork.from_torch(module)
    assert net == SparseReLUNetwork.from_torch(block)
    X = np.random.default_rng(3).normal(size=(30, 4)).astype(np.float32)
    with torch.no_grad():
        out = module.eval()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net(X.astype(np.float64)), out, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"found Sequential\(Linear, BatchNorm1d, ReLU, "):
        SparseReLUNetwork.from_torch(nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6),
                                                   nn.ReLU(), nn.Linear(6, 2)))


def test_from_torch_refuses_a_bias_of_no_linear_layer():
    # A custom module's own output offset (a parameter named "bias") was
    # dropped silently: the network computed another function.
    torch = pytest.importorskip("torch")
    state = {"fc1.weight": torch.ones(3, 2), "fc1.bias": torch.zeros(3),
             "fc2.weight": torch.ones(1, 3), "bias": torch.ones(1)}
    with pytest.raises(ValueError, match=r"state_dict keys \['bias'\] are biases of neither "
                                         r"Linear layer"):
        SparseReLUNetwork.from_torch(state)


def test_from_torch_names_an_uninitialized_lazy_layer():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    module = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="layer 0 weight is not initialized yet"):
        SparseReLUNetwork.from_torch(module)
    module(torch.zeros(1, 2))   # the first forward pass fixes n = 2
    assert SparseReLUNetwork.from_torch(module).n_features == 2


def test_from_sklearn_on_a_pipeline_names_its_last_step_and_the_transform():
    # The MLP sees scaled inputs: unwrapping it alone would give a network
    # of the scaled X, so the message says both.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X = 10.0 * np.random.default_rng(8).normal(size=(60, 3))
    pipeline = _fit_quietly(make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(4,), max_iter=20, random_state=0)), X, X[:, 0])
    with pytest.raises(TypeError, match=r"got Pipeline; convert its last step, .*"
                                        r"from_sklearn\(pipeline\[-1\]\), and give the network "
                                        r"pipeline\[:-1\]\.transform\(X\)"):
        SparseReLUNetwork.from_sklearn(pipeline)
    net = SparseReLUNetwork.from_sklearn(pipeline[-1])
    np.testing.assert_allclose(net(pipeline[:-1].transform(X)), pipeline.predict(X),
                               rtol=1e-12, atol=1e-12)
