"""Tests for sparselearn.interop: scikit-learn and PyTorch round trips."""
import math
import re
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


def test_functions_that_take_a_network_name_from_onnx_for_an_onnx_model():
    _onnx()
    from sparselearn import cube
    model = _gemm_mlp(*_mlp_arrays(np.random.default_rng(2), 3, 4, 1))
    for call in (cube.certify_sparsity, lambda f: activation_profile(f, np.zeros((2, 3)))):
        with pytest.raises(TypeError, match="got ModelProto; convert it with "
                                            "SparseReLUNetwork.from_onnx"):
            call(model)


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


def test_torch_layers_are_named_by_their_sequential_keys_past_a_dropout():
    # With Dropout/Identity between, the second Linear is module[4], not
    # "layer 2" (which is the ReLU): the message names the key print(module) shows.
    torch = pytest.importorskip("torch")
    nn = torch.nn
    module = nn.Sequential(nn.Identity(), nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.1),
                           nn.Linear(4, 1))
    with torch.no_grad():
        module[4].bias[0] = float("nan")
    with pytest.raises(ValueError, match="layer 4 bias has 1 NaN or infinite entries"):
        SparseReLUNetwork.from_torch(module)
    with torch.no_grad():
        module[4].bias[0] = 0.0
        module[1].weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match="layer 1 weight has 1 NaN or infinite entries"):
        SparseReLUNetwork.from_torch(module)

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


# --------------------------------------------------------------------- ONNX
# Test models are built with onnx.helper (no exporter involved); the
# reference is onnx's own ReferenceEvaluator running the graph.
def _onnx():
    return pytest.importorskip("onnx", reason="install the onnx extra: pip install onnx")


def _onnx_model(nodes, initializers, dtype=np.float64, n="n", extra_inputs=(),
                input_name="x", output="y", input_shape=None):
    onnx = _onnx()
    from onnx import helper, numpy_helper
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    inputs = [helper.make_tensor_value_info(input_name, elem, input_shape or ["batch", n])]
    inputs += [helper.make_tensor_value_info(name, elem, ["rows", "columns"])
               for name in extra_inputs]
    graph = helper.make_graph(
        nodes, "mlp", inputs, [helper.make_tensor_value_info(output, elem, ["batch", "o"])],
        [numpy_helper.from_array(np.asarray(array, dtype=None if np.asarray(array).dtype == bool
                                            else dtype), name)
         for name, array in initializers.items()])
    domains = sorted({node.domain for node in nodes} - {""})
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)] + [
        helper.make_opsetid(domain, 1) for domain in domains])
    onnx.checker.check_model(model)
    return model


def _run_onnx(model, X):
    from onnx.reference import ReferenceEvaluator
    name = model.graph.input[0].name
    return ReferenceEvaluator(model).run(None, {name: X})[0]


def _mlp_arrays(rng, n, s, o, dyadic=False):
    draw = ((lambda *shape: rng.integers(-16, 17, size=shape) / 8.0) if dyadic
            else (lambda *shape: rng.normal(size=shape)))
    return draw(s, n), draw(s), draw(o, s), draw(o)   # torch layout: (out, in)


def _gemm_mlp(W1, b1, W2, b2, dtype=np.float64, transB=1):
    from onnx import helper
    first, second = (W1, W2) if transB else (W1.T, W2.T)
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=transB, name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="act"),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=transB, name="fc2")]
    return _onnx_model(nodes, {"W1": first, "b1": b1, "W2": second, "b2": b2}, dtype,
                       n=W1.shape[1])


def _matmul_mlp(W1, b1, W2, b2, dtype=np.float64, flip_add=False):
    from onnx import helper
    add = (lambda a, c, out, name: helper.make_node("Add", [c, a] if flip_add else [a, c],
                                                    [out], name=name))
    nodes = [helper.make_node("MatMul", ["x", "W1t"], ["z"], name="mm1"),
             add("z", "b1", "h", "add1"),
             helper.make_node("Relu", ["h"], ["r"], name="act"),
             helper.make_node("Dropout", ["r"], ["d"], name="drop"),
             helper.make_node("MatMul", ["d", "W2t"], ["z2"], name="mm2"),
             add("z2", "b2", "y", "add2")]
    return _onnx_model(nodes, {"W1t": W1.T, "b1": b1, "W2t": W2.T, "b2": b2}, dtype)


def _expected_network(W1, b1, W2, b2):
    """The network by the documented mapping: thresholds are minus the biases."""
    o = W2.shape[0]
    if o == 1:
        return SparseReLUNetwork(W1, 0.0 - b1, W2[0], float(b2[0]))
    return SparseReLUNetwork(W1, 0.0 - b1, W2.T, b2)


def _output_scale(X, W1, b1, W2, b2):
    hidden = np.abs(X) @ np.abs(W1).T + np.abs(b1)
    return hidden @ np.abs(W2).T + np.abs(b2)


@pytest.mark.parametrize("build", ["gemm", "gemm_transB0", "matmul", "matmul_add_flipped"])
@pytest.mark.parametrize("n, s, o", SHAPES[:4])
def test_from_onnx_reads_helper_built_float64_graphs(build, n, s, o):
    o = 1 if o is None else o
    rng = np.random.default_rng(n * 31 + s)
    arrays = _mlp_arrays(rng, n, s, o)
    model = {"gemm": lambda: _gemm_mlp(*arrays), "gemm_transB0": lambda: _gemm_mlp(
        *arrays, transB=0), "matmul": lambda: _matmul_mlp(*arrays),
        "matmul_add_flipped": lambda: _matmul_mlp(*arrays, flip_add=True)}[build]()
    net = SparseReLUNetwork.from_onnx(model)
    assert net == _expected_network(*arrays)      # transposes and negations are exact
    X = rng.normal(size=(100, n))
    reference = _run_onnx(model, X)
    out = net(X)
    out = out[:, None] if out.ndim == 1 else out
    assert reference.shape == out.shape
    assert np.all(np.abs(out - reference) <= 1e-13 * _output_scale(X, *arrays))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_from_onnx_widens_narrow_weights_exactly(dtype):
    ml_dtypes = pytest.importorskip("ml_dtypes")   # an onnx dependency
    np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    rng = np.random.default_rng(5)
    arrays = [np.asarray(array, dtype=np_dtype) for array in _mlp_arrays(rng, 5, 7, 2)]
    model = _gemm_mlp(*arrays, dtype=np_dtype)
    net = SparseReLUNetwork.from_onnx(model)
    assert net == _expected_network(*[array.astype(np.float64) for array in arrays])
    # The graph computes in its own dtype, the network in float64 on the
    # same weights: they agree to the graph's rounding.
    X = rng.normal(size=(60, 5)).astype(np_dtype)
    reference = _run_onnx(model, X).astype(np.float64)
    X64 = X.astype(np.float64)
    eps = float(np.finfo(np_dtype).eps) if dtype != "bfloat16" else 2.0**-7
    scale = _output_scale(X64, *[array.astype(np.float64) for array in arrays])
    assert np.all(np.abs(net(X64) - reference) <= 4 * 10 * eps * scale)


def test_from_onnx_reads_constant_nodes_flatten_reshape_identity_and_old_style_inputs():
    onnx = _onnx()
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(7)
    W1, b1, W2, b2 = _mlp_arrays(rng, 6, 4, 3)
    nodes = [helper.make_node("Constant", [], ["W1"], name="const_w1",
                              value=numpy_helper.from_array(W1, "W1")),
             helper.make_node("Constant", [], ["shape"], name="shape",
                              value_ints=[-1, 6]),
             helper.make_node("Flatten", ["x"], ["flat"], axis=1, name="flatten"),
             helper.make_node("Reshape", ["flat", "shape"], ["x2"], name="reshape"),
             helper.make_node("Identity", ["W2"], ["W2b"], name="weight_identity"),
             helper.make_node("Gemm", ["x2", "W1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Identity", ["h"], ["h2"], name="identity"),
             helper.make_node("Relu", ["h2"], ["r"], name="act"),
             helper.make_node("Gemm", ["r", "W2b", "b2"], ["y"], transB=1, name="fc2")]
    model = _onnx_model(nodes, {"W2": W2, "b1": b1, "b2": b2},
                        input_shape=["batch", 2, 3])
    # IR 3 style: initializers also listed as graph inputs (their stored values count).
    model.graph.input.extend([helper.make_tensor_value_info(name, onnx.TensorProto.DOUBLE,
                                                            shape)
                              for name, shape in (("W2", [3, 4]), ("b1", [4]))])
    net = SparseReLUNetwork.from_onnx(model)
    assert net == _expected_network(W1, b1, W2, b2)
    X = rng.normal(size=(20, 2, 3))
    np.testing.assert_allclose(net(X.reshape(20, 6)), _run_onnx(model, X),
                               rtol=1e-12, atol=1e-12)


def _exact_product_is_float(scale, value):
    from fractions import Fraction
    product = float(scale) * float(value)   # Python floats: inf on overflow, no warning
    return math.isfinite(product) and Fraction(product) == Fraction(scale) * Fraction(value)


def test_exactly_scaled_decides_exactness_as_rational_arithmetic():
    # Against Fraction on float64 and float32 values, powers of two,
    # subnormal and huge products.
    from sparselearn.interop import _exactly_scaled
    rng = np.random.default_rng(11)
    samples = [rng.normal(size=50), rng.normal(size=50).astype(np.float32).astype(np.float64),
               rng.integers(-2**20, 2**20, size=50) / 2.0**10, np.array([5e-324, 1e-310, 0.0,
                                                                          -0.0, 1e308, 3.0])]
    scales = [0.5, 2.0, float(np.float32(0.1)), 0.1, 3.0, 1e-300, 1e300, 0.0, -1.5]
    for scale in scales:
        for values in samples:
            exact = all(_exact_product_is_float(scale, value) for value in values)
            if exact:
                np.testing.assert_array_equal(_exactly_scaled(scale, values, "w"),
                                              scale * values)
            else:
                with pytest.raises(ValueError, match="w times .* is not exact in float64"):
                    _exactly_scaled(scale, values, "w")
            for value in values:    # one entry at a time too
                one = np.array([value])
                if _exact_product_is_float(scale, value):
                    _exactly_scaled(scale, one, "w")
                else:
                    with pytest.raises(ValueError):
                        _exactly_scaled(scale, one, "w")


def test_from_onnx_applies_gemm_alpha_and_beta_exactly_or_refuses():
    from fractions import Fraction

    from onnx import helper
    rng = np.random.default_rng(12)
    W1, b1, W2, b2 = _mlp_arrays(rng, 3, 4, 1)

    def model(alpha, beta, dtype):
        nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, alpha=alpha,
                                  beta=beta, name="fc1"),
                 helper.make_node("Relu", ["h"], ["r"]),
                 helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=1, name="fc2")]
        return _onnx_model(nodes, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, dtype, n=3)

    # Powers of two scale float64 exactly.
    net = SparseReLUNetwork.from_onnx(model(0.5, 4.0, np.float64))
    assert net == _expected_network(W1 / 2, 4 * b1, W2, b2)
    X = rng.normal(size=(40, 3))
    np.testing.assert_allclose(net(X), _run_onnx(model(0.5, 4.0, np.float64), X)[:, 0],
                               rtol=1e-12, atol=1e-12)
    # A float32 alpha times float32 weights: exact in float64 (48 bits).
    m32 = model(0.1, 0.3, np.float32)
    net = SparseReLUNetwork.from_onnx(m32)
    alpha = Fraction(float(np.float32(0.1)))
    expected = [[Fraction(float(np.float32(w))) * alpha for w in row] for row in W1]
    assert [[Fraction(w) for w in row] for row in net.weights] == expected
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(net(X32.astype(np.float64)), _run_onnx(m32, X32)[:, 0],
                               rtol=1e-5, atol=1e-5)
    # float64 weights times 0.1 round: refused, naming the node.
    with pytest.raises(ValueError, match=r"node 'fc1' \(Gemm\): its weight times "
                                         r"0\.100000001.* is not exact in float64 \(entry "
                                         r"\(0, 0\)\)"):
        SparseReLUNetwork.from_onnx(model(0.1, 1.0, np.float64))


def _two_layer_nodes():
    from onnx import helper
    return [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
            helper.make_node("Relu", ["h"], ["r"], name="act1"),
            helper.make_node("Gemm", ["r", "W2", "b2"], ["h2"], transB=1, name="fc2"),
            helper.make_node("Relu", ["h2"], ["r2"], name="act2"),
            helper.make_node("Gemm", ["r2", "W3", "b3"], ["y"], transB=1, name="fc3")]


def test_from_onnx_refuses_other_graphs_naming_the_node_and_op():
    from onnx import helper
    rng = np.random.default_rng(13)
    W1, b1, W2, b2 = _mlp_arrays(rng, 3, 4, 2)
    init = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def refused(nodes, pattern, initializers=init, **kwargs):
        model = _onnx_model(nodes, initializers, n=3, **kwargs)
        with pytest.raises(ValueError, match=pattern):
            SparseReLUNetwork.from_onnx(model)

    gemm = lambda a, w, b, out, name, **kw: helper.make_node(  # noqa: E731
        "Gemm", [a, w, b], [out], transB=1, name=name, **kw)
    refused(_two_layer_nodes(), r"node 'act2' \(Relu\) stands after the output layer",
            {**init, "W3": np.ones((1, 2)), "b3": np.zeros(1)})
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Sigmoid", ["h"], ["r"],
                                                                 name="sig"),
             gemm("r", "W2", "b2", "y", "fc2")],
            r"node 'sig' \(Sigmoid\) is not supported .*Relu")
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "z", "fc2"),
             helper.make_node("Softmax", ["z"], ["y"], name="probabilities")],
            r"node 'probabilities' \(Softmax\) is not supported .*; it is applied to the "
            r"output layer: export the model without it")
    bn = {"scale": np.ones(4), "bias": np.zeros(4), "mean": np.zeros(4), "var": np.ones(4)}
    refused([gemm("x", "W1", "b1", "h", "fc1"),
             helper.make_node("BatchNormalization", ["h", "scale", "bias", "mean", "var"],
                              ["hn"], name="bn"),
             helper.make_node("Relu", ["hn"], ["r"]), gemm("r", "W2", "b2", "y", "fc2")],
            r"node 'bn' \(BatchNormalization\) is not supported", {**init, **bn})
    # A weight given at run time.
    refused([gemm("x", "Wrun", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "y", "fc2")],
            r"node 'fc1' \(Gemm\) reads the graph input 'Wrun', given at run time",
            extra_inputs=["Wrun"])
    refused([gemm("x", "W1", "b1", "h", "fc1"), gemm("h", "W2", "b2", "y", "fc2")],
            r"the graph output 'y' is one linear layer|node 'fc2' \(Gemm\) is a linear layer "
            r"after another without a Relu")
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["y"])],
            r"the graph output 'y' is a linear layer and a Relu; expected Linear")
    refused([helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transA=1, transB=1,
                              name="fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "y", "fc2")], r"node 'fc1' \(Gemm\) has transA=1")
    refused([gemm("x", "W1", "b1", "h", "fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="custom", domain="com.example"),
             gemm("r", "W2", "b2", "y", "fc2")],
            r"node 'custom' \(Relu\) is of domain 'com.example'")
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Dropout", ["r", "", "train"], ["d"], name="drop"),
             gemm("d", "W2", "b2", "y", "fc2")],
            r"node 'drop' \(Dropout\) has training_mode=True",
            {**init, "train": np.array(True)})
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["W2", "r"], ["y"], name="left")],
            r"node 'left' \(MatMul\) takes the input as its second operand")
    refused([helper.make_node("Constant", [], ["shape"], value_ints=[3, -1]),
             helper.make_node("Reshape", ["x", "shape"], ["x2"], name="rs"),
             gemm("x2", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "y", "fc2")],
            r"node 'rs' \(Reshape\) reshapes to \[3, -1\]; only shapes that keep the batch")
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "h2", "fc2"),
             helper.make_node("Add", ["h2", "b2"], ["y"], name="again")],
            r"node 'again' \(Add\) adds a second bias")
    refused([gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Add", ["r", "h"], ["y"], name="skip")],
            r"node 'skip' \(Add\) combines two values computed from the input")
    # n of the input against the weight.
    with pytest.raises(ValueError, match=r"node 'fc1' \(Gemm\): its weight takes 3 features, "
                                         r"the value it is applied to has 5"):
        SparseReLUNetwork.from_onnx(_onnx_model(
            [gemm("x", "W1", "b1", "h", "fc1"), helper.make_node("Relu", ["h"], ["r"]),
             gemm("r", "W2", "b2", "y", "fc2")], init, n=5))


def test_from_onnx_reads_files_through_the_size_checked_loader(tmp_path):
    onnx = _onnx()
    from sparselearn.io import UnreadableFileError
    rng = np.random.default_rng(14)
    arrays = _mlp_arrays(rng, 4, 5, 1)
    model = _gemm_mlp(*arrays)
    path = tmp_path / "mlp.onnx"
    onnx.save_model(model, str(path))
    assert SparseReLUNetwork.from_onnx(path) == _expected_network(*arrays)
    assert SparseReLUNetwork.from_onnx(str(path)) == _expected_network(*arrays)
    size = path.stat().st_size
    with pytest.raises(UnreadableFileError, match=r"mlp\.onnx: .*reading a .* ONNX model"):
        SparseReLUNetwork.from_onnx(path, max_bytes=size)   # needs about twice the file
    garbage = tmp_path / "model.pt"
    garbage.write_bytes(b"PK\x03\x04 not a protobuf \xff\xff\xff\xff")
    with pytest.raises(UnreadableFileError, match=r"model\.pt: not an ONNX model"):
        SparseReLUNetwork.from_onnx(garbage)
    with pytest.raises(UnreadableFileError, match="is a directory"):
        SparseReLUNetwork.from_onnx(tmp_path)
    with pytest.raises(UnreadableFileError, match="no such file"):
        SparseReLUNetwork.from_onnx(tmp_path / "missing.onnx")
    with pytest.raises(TypeError, match=r"model must be a path to an \.onnx file or an "
                                        r"onnx\.ModelProto, got bytes; parse serialized"):
        SparseReLUNetwork.from_onnx(path.read_bytes())
    # The float64 weights are budgeted too, for a model given in memory.
    with pytest.raises(ValueError, match="the ONNX model's tensors in float64"):
        SparseReLUNetwork.from_onnx(model, max_bytes=64)


def test_from_onnx_refuses_external_data_files_and_reads_a_model_loaded_by_onnx(tmp_path):
    onnx = _onnx()
    rng = np.random.default_rng(15)
    arrays = _mlp_arrays(rng, 4, 5, 2)
    path = tmp_path / "mlp.onnx"
    onnx.save_model(_gemm_mlp(*arrays), str(path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    assert (tmp_path / "weights.bin").is_file()
    with pytest.raises(ValueError, match=r"tensor 'W1' keeps its data in an external file "
                                         r"\('weights\.bin'\), which is not read"):
        SparseReLUNetwork.from_onnx(path)
    # onnx.load reads the external data (the caller's choice to trust it).
    assert SparseReLUNetwork.from_onnx(onnx.load(str(path))) == _expected_network(*arrays)


def test_onnx_is_imported_only_by_from_onnx():
    import subprocess
    import sys
    code = ("import sys, sparselearn.interop, sparselearn.network\n"
            "assert 'onnx' not in sys.modules and 'torch' not in sys.modules, 'loaded'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_from_onnx_without_onnx_says_how_to_install_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'sparselearn\[onnx\]'"):
        SparseReLUNetwork.from_onnx("model.onnx")


def _torch_export(torch, module, example):
    """The model ``torch.onnx.export`` writes with the TorchScript exporter
    (``dynamo=False``): the default since torch 2.9, the dynamo exporter,
    needs onnxscript, which is not a test dependency.  Skips, with the
    reason, when this torch has no such exporter."""
    import io
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the TorchScript exporter's deprecation notice
            torch.onnx.export(module, (example,), buffer, dynamo=False, input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch"},
                                                                "y": {0: "batch"}})
    except (TypeError, ImportError, NotImplementedError) as exc:
        pytest.skip(f"torch {torch.__version__} cannot export with dynamo=False ({exc})")
    return _onnx().load_model_from_string(buffer.getvalue())


@pytest.mark.parametrize("n, s, o", SHAPES[:5])
def test_to_torch_then_torch_onnx_export_then_from_onnx_is_exact(n, s, o):
    torch = pytest.importorskip("torch")
    _onnx()
    rng = np.random.default_rng(n * 7 + s)
    net = _random_network(rng, n, s, o)
    model = _torch_export(torch, net.to_torch().eval(),
                          torch.zeros(2, n, dtype=torch.float64))
    back = SparseReLUNetwork.from_onnx(model)
    assert back == (net.select_output(0) if o == 1 else net)
    X = rng.normal(size=(50, n))
    out = back(X)
    np.testing.assert_allclose(out[:, None] if out.ndim == 1 else out, _run_onnx(model, X),
                               rtol=1e-12, atol=1e-12)


def test_torch_onnx_export_of_a_float32_module_with_flatten_and_dropout():
    torch = pytest.importorskip("torch")
    _onnx()
    nn = torch.nn
    torch.manual_seed(16)
    block = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    module = nn.Sequential(nn.Flatten(), block[0], nn.ReLU(), nn.Dropout(0.3),
                           block[2]).eval()
    model = _torch_export(torch, module, torch.zeros(2, 2, 3))
    net = SparseReLUNetwork.from_onnx(model)
    assert net == SparseReLUNetwork.from_torch(block)
    X = np.random.default_rng(16).normal(size=(40, 2, 3)).astype(np.float32)
    with torch.no_grad():
        reference = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net(X.reshape(40, 6).astype(np.float64)), reference,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run_onnx(model, X), reference, rtol=1e-5, atol=1e-5)


def test_from_onnx_refuses_malformed_nodes_by_name():
    from onnx import helper
    rng = np.random.default_rng(17)
    model = _matmul_mlp(*_mlp_arrays(rng, 3, 4, 2))
    nodes = model.graph.node
    cases = [(lambda: nodes[0].ClearField("output"), r"node 'mm1' \(MatMul\) is malformed: "
                                                     r"2 inputs \['x', 'W1t'\], 0 outputs"),
             (lambda: nodes[0].input.pop(), r"node 'mm1' \(MatMul\) is malformed: 1 inputs"),
             (lambda: nodes.insert(0, helper.make_node("Constant", [], ["c"], name="empty")),
              r"node 'empty' \(Constant\) is malformed: 0 inputs \[\], 1 outputs, "
              r"attributes \[\]"),
             (lambda: nodes[3].input.append("b1"), r"node 'drop' \(Dropout\) has a non-scalar "
                                                   "or mistyped ratio")]
    for mutate, pattern in cases:
        broken = type(model)()
        broken.CopyFrom(model)
        nodes = broken.graph.node
        mutate()
        with pytest.raises(ValueError, match=pattern):
            SparseReLUNetwork.from_onnx(broken)


def test_from_onnx_on_mutated_models_refuses_or_agrees_with_the_reference():
    # Fixed-seed mutations of valid graphs (op types swapped, inputs dropped or
    # renamed, dims, element types and attributes changed, nodes reordered,
    # serialized bytes flipped): every model is refused with a ValueError or
    # TypeError, or imported as the function the reference evaluator computes.
    onnx = _onnx()
    from onnx import helper
    rng = np.random.default_rng(18)
    arrays = _mlp_arrays(rng, 3, 4, 2)
    seeds = [_gemm_mlp(*arrays), _matmul_mlp(*arrays)]
    ops = ["Gemm", "MatMul", "Add", "Relu", "Identity", "Flatten", "Dropout", "Reshape",
           "Constant", "Transpose"]
    accepted = 0
    for trial in range(300):
        model = type(seeds[0])()
        model.CopyFrom(seeds[trial % 2])
        graph = model.graph
        for _ in range(rng.integers(1, 4)):
            kind = int(rng.integers(8))
            node = graph.node[int(rng.integers(len(graph.node)))] if graph.node else None
            tensors = graph.initializer
            tensor = tensors[int(rng.integers(len(tensors)))] if tensors else None
            if kind == 0 and node is not None:
                node.op_type = ops[rng.integers(len(ops))]
            elif kind == 1 and node is not None and node.input:
                del node.input[int(rng.integers(len(node.input)))]
            elif kind == 2 and node is not None and node.input:
                names = [name for each in graph.node for name in each.output] + [
                    t.name for t in tensors] + ["x", "", "undefined"]
                node.input[int(rng.integers(len(node.input)))] = names[rng.integers(len(names))]
            elif kind == 3 and tensor is not None and tensor.dims:
                tensor.dims[int(rng.integers(len(tensor.dims)))] = int(rng.integers(0, 6))
            elif kind == 4 and tensor is not None:
                tensor.data_type = int(rng.integers(0, 25))
            elif kind == 5 and node is not None:
                name = ["alpha", "beta", "transA", "transB", "axis", "allowzero"][rng.integers(6)]
                node.attribute.append(helper.make_attribute(name, int(rng.integers(-2, 3))))
            elif kind == 6 and tensor is not None:
                tensors.remove(tensor)
            elif kind == 7 and node is not None:
                graph.node.remove(node)
                graph.node.insert(int(rng.integers(len(graph.node) + 1)), node)
        data = bytearray(model.SerializeToString())
        if trial % 3 == 0:       # and a byte flipped
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
        try:
            model = onnx.load_model_from_string(bytes(data))
        except Exception:        # not even protobuf: the file loader's error (tested above)
            continue
        try:
            net = SparseReLUNetwork.from_onnx(model)
        except (ValueError, TypeError):
            continue
        accepted += 1
        X = rng.normal(size=(6, 3))
        reference = _run_onnx(model, X)
        out = net(X)
        out = out[:, None] if out.ndim == 1 else out
        assert out.shape == reference.shape
        np.testing.assert_allclose(out, reference, rtol=1e-10, atol=1e-10)
    assert accepted > 0     # some mutations (alpha=1, an Identity, ...) keep a valid MLP


def test_from_onnx_reads_transposed_weights_and_points_at_inlining_functions():
    onnx = _onnx()
    from onnx import helper
    rng = np.random.default_rng(19)
    W1, b1, W2, b2 = _mlp_arrays(rng, 3, 5, 2)
    # Older torch exports: Transpose of the stored weight, then Gemm.
    nodes = [helper.make_node("Transpose", ["W1"], ["W1t"], perm=[1, 0], name="t1"),
             helper.make_node("Gemm", ["x", "W1t", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Transpose", ["W2"], ["W2t"], name="t2"),   # default: reversed
             helper.make_node("Gemm", ["r", "W2t", "b2"], ["y"], name="fc2")]
    model = _onnx_model(nodes, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, n=3)
    net = SparseReLUNetwork.from_onnx(model)
    assert net == _expected_network(W1, b1, W2, b2)
    X = rng.normal(size=(30, 3))
    np.testing.assert_allclose(net(X), _run_onnx(model, X), rtol=1e-12, atol=1e-12)
    # The input itself transposed mixes the batch in.
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], name="tx")] + nodes
    nodes[2].input[0] = "xt"
    with pytest.raises(ValueError, match=r"node 'tx' \(Transpose\) transposes a value computed "
                                         r"from the input"):
        SparseReLUNetwork.from_onnx(_onnx_model(nodes, {"W1": W1, "b1": b1, "W2": W2,
                                                        "b2": b2}, n=3))
    # A layer stored as a model-local function (jax2onnx's @onnx_function).
    layer = helper.make_function(
        "local", "Layer", ["a", "w", "c"], ["out"],
        [helper.make_node("Gemm", ["a", "w", "c"], ["g"], transB=1),
         helper.make_node("Relu", ["g"], ["out"])],
        [helper.make_opsetid("", 18)])
    nodes = [helper.make_node("Layer", ["x", "W1", "b1"], ["r"], domain="local",
                              name="hidden"),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=1, name="fc2")]
    model = _onnx_model(nodes, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, n=3)
    model.functions.append(layer)
    with pytest.raises(ValueError, match=r"node 'hidden' \(Layer\) calls a function of the "
                                         r"model; inline it first: import onnx.inliner, then "
                                         r"from_onnx\(onnx.inliner.inline_local_functions"):
        SparseReLUNetwork.from_onnx(model)
    import onnx.inliner
    inlined = onnx.inliner.inline_local_functions(model)
    assert SparseReLUNetwork.from_onnx(inlined) == _expected_network(W1, b1, W2, b2)
    np.testing.assert_allclose(SparseReLUNetwork.from_onnx(inlined)(X), _run_onnx(model, X),
                               rtol=1e-12, atol=1e-12)


def test_torch_view_by_batch_size_is_refused_with_the_flatten_that_exports():
    torch = pytest.importorskip("torch")
    _onnx()
    nn = torch.nn

    class Viewed(nn.Module):
        def __init__(self, flatten):
            super().__init__()
            self.flatten = flatten
            self.fc1, self.fc2 = nn.Linear(6, 4, bias=False), nn.Linear(4, 1)

        def forward(self, x):
            x = torch.flatten(x, 1) if self.flatten else x.view(x.size(0), -1)
            return self.fc2(torch.relu(self.fc1(x)))

    torch.manual_seed(20)
    with pytest.raises(ValueError, match=r"\(Shape\) is not supported .*x\.view\(x\.size\(0\), "
                                         r"-1\) in PyTorch\): flatten with torch\.flatten\(x, 1\)"):
        SparseReLUNetwork.from_onnx(_torch_export(torch, Viewed(False).eval(),
                                                  torch.zeros(2, 2, 3)))
    module = Viewed(True).eval()
    net = SparseReLUNetwork.from_onnx(_torch_export(torch, module, torch.zeros(2, 2, 3)))
    # A Linear without bias: zero thresholds.
    assert net == SparseReLUNetwork.from_torch({"0.weight": module.fc1.weight,
                                                "2.weight": module.fc2.weight,
                                                "2.bias": module.fc2.bias})


def test_from_onnx_refuses_mistyped_or_non_finite_attributes_naming_the_node():
    """A string transA was read as transA=1, a string is_test as inference
    mode, a float axis accepted; alpha = inf or NaN raised a bare
    OverflowError / "cannot convert NaN to integer ratio"."""
    from onnx import AttributeProto, helper
    W1, b1, W2, b2 = _mlp_arrays(np.random.default_rng(2), 3, 4, 1)

    def gemm_model(**attributes):
        # Built valid (the helper runs onnx's checker), then given the attributes.
        model = _gemm_mlp(W1, b1, W2, b2)
        for name, value in attributes.items():
            model.graph.node[0].attribute.append(helper.make_attribute(name, value))
        return model

    for name, value, kind in [("transA", "0", "STRING"), ("alpha", "x", "STRING"),
                              ("alpha", [1, 2], "INTS")]:
        with pytest.raises(ValueError, match=rf"^node 'fc1' \(Gemm\) has attribute {name} "
                                             rf"of type {kind}; ONNX defines it as "):
            SparseReLUNetwork.from_onnx(gemm_model(**{name: value}))
    for value in (math.inf, -math.inf, math.nan):
        for name in ("alpha", "beta"):
            with pytest.raises(ValueError, match=r"^node 'fc1' \(Gemm\): its .* is scaled by "
                                                 r".*: alpha and beta must be finite"):
                SparseReLUNetwork.from_onnx(gemm_model(**{name: value}))
    model = gemm_model()
    flatten = helper.make_node("Flatten", ["x"], ["xf"], name="flat")
    flatten.attribute.append(helper.make_attribute("axis", 1.5))
    assert flatten.attribute[0].type == AttributeProto.FLOAT
    model.graph.node[0].input[0] = "xf"
    model.graph.node.insert(0, flatten)
    with pytest.raises(ValueError, match=r"node 'flat' \(Flatten\) has attribute axis of type "
                                         r"FLOAT; ONNX defines it as INT"):
        SparseReLUNetwork.from_onnx(model)


def test_from_onnx_refuses_a_tensor_of_negative_dims():
    """dims [-1, 3] made the tensor count negatively against the memory budget."""
    W1, b1, W2, b2 = _mlp_arrays(np.random.default_rng(4), 3, 4, 1)
    model = _gemm_mlp(W1, b1, W2, b2)
    tensor = next(t for t in model.graph.initializer if t.name == "W1")
    tensor.dims[0] = -1
    with pytest.raises(ValueError, match=r"tensor 'W1' has dims \[-1, 3\]; a stored tensor's "
                                         r"dims are >= 0"):
        SparseReLUNetwork.from_onnx(model)


def test_zero_width_layers_are_refused_naming_the_node_or_layer_and_shape():
    """A layer of 0 units (a Gemm weight of shape (0, n)) got the network
    constructor's "weights has no rows"; each converter names its node or
    layer, the weight's shape as stored and the axis that is empty."""
    _onnx()
    zeros = np.zeros
    fix = "; a network needs at least one input feature, hidden unit and output"
    for model, message in [
            (_gemm_mlp(zeros((0, 3)), zeros(0), zeros((1, 0)), zeros(1)),
             "node 'fc1' (Gemm): its weight has shape (0, 3): 0 hidden units"),
            (_gemm_mlp(zeros((0, 3)), zeros(0), zeros((1, 0)), zeros(1), transB=0),
             "node 'fc1' (Gemm): its weight has shape (3, 0): 0 hidden units"),
            (_gemm_mlp(zeros((2, 0)), zeros(2), zeros((1, 2)), zeros(1)),
             "node 'fc1' (Gemm): its weight has shape (2, 0): 0 input features"),
            (_gemm_mlp(zeros((2, 3)), zeros(2), zeros((0, 2)), zeros(0)),
             "node 'fc2' (Gemm): its weight has shape (0, 2): 0 outputs"),
            (_matmul_mlp(zeros((0, 3)), zeros(0), zeros((1, 0)), zeros(1)),
             "node 'mm1' (MatMul): its weight has shape (3, 0): 0 hidden units")]:
        with pytest.raises(ValueError, match=re.escape(message + fix)):
            SparseReLUNetwork.from_onnx(model)
    X = np.random.default_rng(7).normal(size=(20, 3))
    for s, o, message in [(0, 1, "coefs_[0] has shape (3, 0): 0 hidden units"),
                          (2, 0, "coefs_[1] has shape (2, 0): 0 outputs")]:
        est = _fit_quietly(MLPRegressor(hidden_layer_sizes=(2,), max_iter=5), X, X[:, 0])
        est.coefs_, est.intercepts_ = [zeros((3, s)), zeros((s, o))], [zeros(s), zeros(o)]
        with pytest.raises(ValueError, match=re.escape(f"this MLPRegressor's {message}{fix}")):
            SparseReLUNetwork.from_sklearn(est)
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for (n, s, o), axis in [((3, 0, 1), "(0, 3): 0 hidden units (out_features)"),
                            ((0, 2, 1), "(2, 0): 0 input features (in_features)"),
                            ((3, 2, 0), "(0, 2): 0 outputs (out_features)")]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Initializing zero-element tensors")
            module = nn.Sequential(nn.Linear(n, s), nn.ReLU(), nn.Linear(s, o))
        layer = 2 if o == 0 else 0
        with pytest.raises(ValueError, match=re.escape(f"layer {layer} weight has shape {axis}")):
            SparseReLUNetwork.from_torch(module)
        with pytest.raises(ValueError, match=re.escape(f"state_dict['{layer}.weight'] has "
                                                       f"shape {axis}{fix}")):
            SparseReLUNetwork.from_torch(module.state_dict())
