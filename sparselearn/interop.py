r"""Import and export of one-hidden-layer ReLU networks (scikit-learn, PyTorch, ONNX).

The library's network computes
:math:`h(x) = U^\top \mathrm{relu}(Wx - b) + c` with *thresholds* :math:`b`
(unit :math:`j` active when :math:`\langle w_j, x\rangle > b_j`).  The MLP
block of scikit-learn, PyTorch, Keras and Flax computes
:math:`W_2\,\mathrm{relu}(W_1 x + c_1) + c_2` with a bias *added*, and
stores the weights transposed in one library or the other:

===========================  ====================  ====================  ======================
this library                 scikit-learn          PyTorch               Keras, Flax
===========================  ====================  ====================  ======================
``weights`` (s, n)           ``coefs_[0].T``       ``layer1.weight``     ``kernel1.T``
``biases`` (s,)              ``-intercepts_[0]``   ``-layer1.bias``      ``-bias1``
``output_weights`` (s, o)    ``coefs_[1]``         ``layer2.weight.T``   ``kernel2``
``output_bias`` (o,)         ``intercepts_[1]``    ``layer2.bias``       ``bias2``
===========================  ====================  ====================  ======================

An ONNX graph holds either layout: ``Gemm`` with ``transB=1`` (PyTorch's
export) or ``MatMul`` + ``Add`` (tf2onnx, jax2onnx); :func:`from_onnx`
reads both, from the graph's structure, without running it.  Keras's
``model.get_weights()`` and Flax's ``params["Dense_0"]["kernel"]`` have no
import function: the recipe is in the quickstart ("Bring your own
network").

Transposing and negating are exact, so a conversion and its inverse give
back the same float64 parameters bit for bit.  A last layer with one output
becomes a single-output network (1-D ``output_weights``, float bias), as
scikit-learn's ``predict`` returns ``(m,)`` for it.  Outputs agree with the
source library's to rounding: the sums are the same but may be taken in
another order, and the library decides activity exactly (a pre-activation
within rounding of 0 can be decided differently by a float ReLU); they agree
bit for bit when every sum is exact (for instance dyadic weights on
integer inputs).

Do **not** build a network from the raw arrays of an MLP without the
transposes above: ``SparseReLUNetwork(coefs_[0], intercepts_[0], ...)`` is
silently accepted when ``n == s`` and computes another function.  Use
:meth:`SparseReLUNetwork.from_sklearn`, :meth:`SparseReLUNetwork.from_torch`
and :meth:`SparseReLUNetwork.from_onnx`.

PyTorch and onnx are optional dependencies (``pip install
"sparselearn[torch]"``, ``"sparselearn[onnx]"``); each is imported only by
the functions that need it.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from . import io as _io
from .network import SparseReLUNetwork

__all__ = ["from_onnx", "from_sklearn", "from_torch", "to_sklearn", "to_torch"]


def _conversion_hint(value) -> str:
    """``"; convert it with SparseReLUNetwork.from_torch"`` (or ``from_sklearn``,
    ``from_onnx``) when ``value`` is a PyTorch, scikit-learn or ONNX object or a ``state_dict``
    (a mapping holding tensors), else ``""``.

    For the errors of functions that take a :class:`SparseReLUNetwork`: an
    MLP from either library is not one, and building one from its raw
    arrays computes another function (module notes).
    """
    module = type(value).__module__
    if isinstance(value, Mapping) and any(type(item).__module__.startswith("torch")
                                          for item in value.values()):
        module = "torch"    # a state_dict, which from_torch reads too
    for library, method in (("torch", "from_torch"), ("sklearn", "from_sklearn"),
                            ("onnx", "from_onnx")):
        if module == library or module.startswith(library + "."):
            return (f"; convert it with SparseReLUNetwork.{method} (not by passing its "
                    "arrays to the constructor)")
    return ""


def _check_finite(array, name: str) -> None:
    """Refuse NaN or infinite parameters by their name in the source library
    (a diverged training run), before the network's own check names
    ``weights`` or ``output_weights``."""
    array = np.asarray(array)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} has {bad} NaN or infinite entries (did the training "
                         "diverge?); only finite networks can be imported")


def _check_width(shape, axes, name: str) -> None:
    """Refuse a layer weight of shape ``shape`` with an axis of length 0
    (``axes`` says what each axis counts) by its ``name`` in the source, before
    the network's own check names ``weights`` or ``output_weights``."""
    for length, axis in zip(shape, axes):
        if length == 0:
            raise ValueError(f"{name} has shape {tuple(shape)}: 0 {axis}; a network needs "
                             "at least one input feature, hidden unit and output")


def _network(W1_rows, bias1, U, bias2) -> SparseReLUNetwork:
    """``relu(W1 x + bias1)`` layer and ``(s, o)`` output layer -> network."""
    W1_rows = np.asarray(W1_rows, dtype=np.float64)
    bias1 = np.asarray(bias1, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    bias2 = np.asarray(bias2, dtype=np.float64).reshape(-1)
    thresholds = 0.0 - bias1  # (not -bias1: a zero bias would become -0.0)
    if U.shape[1] == 1:
        return SparseReLUNetwork(W1_rows, thresholds, U[:, 0], float(bias2[0]))
    return SparseReLUNetwork(W1_rows, thresholds, U, bias2)


def _output_matrix(net: SparseReLUNetwork) -> tuple[np.ndarray, np.ndarray]:
    """``(U, c)`` of shape ``(s, o)`` and ``(o,)`` for any network."""
    U = net.output_weights
    if U.ndim == 1:
        return U[:, None].copy(), np.array([net.output_bias])
    return U.copy(), np.array(net.output_bias, dtype=np.float64)


# ------------------------------------------------------------- scikit-learn
def from_sklearn(estimator) -> SparseReLUNetwork:
    """The network of a fitted ``MLPRegressor`` or ``MLPClassifier``.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPRegressor or MLPClassifier
        Fitted, with one hidden layer (``hidden_layer_sizes=(s,)``) and
        ``activation="relu"``.

    Returns
    -------
    SparseReLUNetwork
        For a regressor, ``net(X)`` is ``estimator.predict(X)`` (to
        rounding, module notes); with ``loss="poisson"`` (output activation
        ``exp``) it is the output layer before the ``exp``, the log-mean
        ``log(estimator.predict(X))``.  For a classifier it is the vector of
        *decision scores* (the output layer before the logistic or softmax):
        ``estimator.predict(X)`` is ``classes_[argmax(net(X), axis=1)]``
        (multiclass), ``classes_[(net(X) > 0).astype(int)]`` (binary) and
        ``net(X) > 0`` per label (multilabel).

    Raises
    ------
    TypeError
        If ``estimator`` is not an MLP of scikit-learn.  For a ``Pipeline``
        ending in one, convert ``pipeline[-1]`` and evaluate the network on
        ``pipeline[:-1].transform(X)`` (the message says so).
    ValueError
        If it is not fitted, has another number of hidden layers, another
        activation, or (edited arrays) a layer of 0 units; the message names
        what was found.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if not isinstance(estimator, (MLPRegressor, MLPClassifier)):
        steps = getattr(estimator, "steps", None)
        # An MLP is usually the last step after a scaler: the network sees
        # the scaled inputs, so the user must transform X, not just unwrap.
        hint = ("; convert its last step, SparseReLUNetwork.from_sklearn(pipeline[-1]), and "
                "give the network pipeline[:-1].transform(X)"
                if isinstance(steps, list) and steps
                and isinstance(steps[-1][1], (MLPRegressor, MLPClassifier)) else "")
        raise TypeError("estimator must be a fitted sklearn.neural_network.MLPRegressor or "
                        f"MLPClassifier, got {type(estimator).__name__}{hint}")
    name = type(estimator).__name__
    if not hasattr(estimator, "coefs_"):
        raise ValueError(f"this {name} is not fitted yet: call fit first")
    hidden = len(estimator.coefs_) - 1
    if hidden != 1:
        raise ValueError(f"only one hidden layer can be converted; this {name} has {hidden} "
                         f"(hidden_layer_sizes={estimator.hidden_layer_sizes!r})")
    if estimator.activation != "relu":
        raise ValueError(f"only activation='relu' can be converted; this {name} has "
                         f"activation={estimator.activation!r}")
    (W1, W2), (c1, c2) = estimator.coefs_, estimator.intercepts_
    for index, (W, c) in enumerate(zip(estimator.coefs_, estimator.intercepts_)):
        _check_finite(W, f"this {name}'s coefs_[{index}]")
        _check_finite(c, f"this {name}'s intercepts_[{index}]")
    # Edited arrays (units pruned by hand, say) must still chain, or a
    # one-output bias of the wrong length would be read as its first entry.
    shapes = [np.shape(W1), np.shape(c1), np.shape(W2), np.shape(c2)]
    if (len(shapes[0]) != 2 or len(shapes[2]) != 2
            or shapes[1] != (shapes[0][1],) or shapes[2][0] != shapes[0][1]
            or shapes[3] != (shapes[2][1],)
            or getattr(estimator, "n_features_in_", shapes[0][0]) != shapes[0][0]):
        raise ValueError(f"this {name}'s layers do not chain: coefs_ shapes {shapes[0]} and "
                         f"{shapes[2]}, intercepts_ shapes {shapes[1]} and {shapes[3]} "
                         "(expected (n, s), (s, o), (s,) and (o,) with n = n_features_in_ "
                         f"= {getattr(estimator, 'n_features_in_', None)})")
    _check_width(shapes[0], ("input features", "hidden units"), f"this {name}'s coefs_[0]")
    _check_width(shapes[2], ("hidden units", "outputs"), f"this {name}'s coefs_[1]")
    return _network(np.asarray(W1).T, c1, W2, c2)


def to_sklearn(net: SparseReLUNetwork):
    """A fitted ``MLPRegressor`` computing ``net``.

    ``hidden_layer_sizes=(s,)``, ``activation="relu"``, identity output;
    ``predict(X)`` equals ``net(X)`` (to rounding, module notes; shape
    ``(m,)`` when there is one output, as scikit-learn returns).  The
    estimator holds copies of the parameters and can be refitted,
    trained further from them (``partial_fit``, or ``fit`` with
    ``warm_start=True``) or pickled like any other;
    ``from_sklearn(to_sklearn(net)) == net``.

    Parameters
    ----------
    net : SparseReLUNetwork
        The network to export.

    Returns
    -------
    sklearn.neural_network.MLPRegressor
    """
    from sklearn.neural_network import MLPRegressor

    if not isinstance(net, SparseReLUNetwork):
        raise TypeError(f"net must be a SparseReLUNetwork, got {type(net).__name__}")
    U, c = _output_matrix(net)
    est = MLPRegressor(hidden_layer_sizes=(net.width,), activation="relu")
    est.coefs_ = [np.array(net.weights.T, order="C"), U]
    est.intercepts_ = [-net.biases, c]
    est.n_features_in_ = net.n_features
    est.n_outputs_ = U.shape[1]
    est.n_layers_ = 3
    est.out_activation_ = "identity"
    est.n_iter_ = 0
    est.t_ = 0
    est.loss_ = None
    est.loss_curve_ = []
    # The state MLPRegressor._initialize leaves for the stochastic solvers
    # (no early stopping), so partial_fit and a warm-started fit continue
    # training from these weights.
    est.best_loss_ = np.inf
    est._no_improvement_count = 0
    est.validation_scores_ = None
    est.best_validation_score_ = None
    est._best_coefs = [coef.copy() for coef in est.coefs_]
    est._best_intercepts = [intercept.copy() for intercept in est.intercepts_]
    return est


# ------------------------------------------------------------------ PyTorch
def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch is needed for this conversion: pip install "
                          "'sparselearn[torch]' (or the CPU wheel of torch)") from None
    return torch


def _as_array(torch, tensor, name: str) -> np.ndarray:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if isinstance(tensor, torch.nn.parameter.UninitializedParameter):
        raise ValueError(f"{name} is not initialized yet (a LazyLinear): run one forward "
                         "pass of the module first")
    if tensor.is_complex() or not tensor.is_floating_point():
        raise TypeError(f"{name} must be a real floating tensor, got dtype {tensor.dtype}")
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()   # sparse layouts: the same values, exactly
    if tensor.is_meta:
        raise ValueError(f"{name} is on the meta device and holds no values: materialise "
                         "the module first (to_empty, then load_state_dict)")
    # float16/32 -> float64 is exact.
    array = tensor.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
    _check_finite(array, name)
    return array


def from_torch(module) -> SparseReLUNetwork:
    """The network of ``torch.nn.Sequential(Linear(n, s), ReLU(), Linear(s, o))``.

    Parameters
    ----------
    module : torch.nn.Sequential or Mapping
        The module, or its ``state_dict``: a mapping holding exactly two
        Linear layers' ``weight`` (and optional ``bias``) tensors, in the
        order of the layers (``"0.weight"``, ``"0.bias"``, ``"2.weight"``,
        ``"2.bias"`` for the Sequential above), and no other tensors.
        Layers without bias get zeros.  Tensors of any real floating dtype
        and device; converted to float64 exactly.  A state_dict does not
        record the activation between the layers: it is taken to be ReLU.
        In a Sequential, ``Dropout`` layers (any kind) and ``Identity``
        may stand anywhere: they are the identity at inference, so the
        network is the module in ``eval()`` mode.

    Returns
    -------
    SparseReLUNetwork
        ``net(X)`` equals ``module.eval()(torch.as_tensor(X, dtype=dtype))``
        to rounding (module notes; ``dtype`` the module's, float32 for a
        default ``nn.Linear``), squeezed to ``(m,)`` when ``o == 1``.
    """
    torch = _torch()
    nn = torch.nn
    if isinstance(module, nn.Module):
        named = list(module.named_children()) if isinstance(module, nn.Sequential) else None
        kinds = [type(layer).__name__ for _, layer in named] if named is not None else None
        layers = None
        if named is not None:
            # Dropout (of any kind) and Identity are the identity at inference.
            inert = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
                     nn.AlphaDropout, nn.FeatureAlphaDropout)
            named = [(key, layer) for key, layer in named if not isinstance(layer, inert)]
            layers = [layer for _, layer in named]
        if (layers is None or len(layers) != 3 or not isinstance(layers[0], nn.Linear)
                or not isinstance(layers[1], nn.ReLU) or not isinstance(layers[2], nn.Linear)):
            wrapper = next(module.children(), None) is not None   # holds the block?
            found = (f"Sequential({', '.join(kinds)})" if kinds is not None
                     else f"{type(module).__name__} (pass the Sequential block itself, or "
                          "the module's state_dict() if it holds just the two Linear layers)"
                     if wrapper else type(module).__name__)
            raise ValueError("module must be torch.nn.Sequential(Linear, ReLU, Linear) "
                             f"(Dropout and Identity layers aside), found {found}")
        first, second = layers[0], layers[2]
        # The Sequential's own keys ("0" and "3" with a Dropout between), as
        # in its state_dict, so a message points at the layer printed there.
        first_key, second_key = named[0][0], named[2][0]
        names = (f"layer {first_key} weight", f"layer {second_key} weight")
        W1 = _as_array(torch, first.weight, names[0])
        W2 = _as_array(torch, second.weight, names[1])
        b1 = (np.zeros(W1.shape[0]) if first.bias is None
              else _as_array(torch, first.bias, f"layer {first_key} bias"))
        b2 = (np.zeros(W2.shape[0]) if second.bias is None
              else _as_array(torch, second.bias, f"layer {second_key} bias"))
    elif isinstance(module, Mapping):
        weights = [key for key in module if str(key).endswith("weight")]
        others = [key for key in module
                  if not str(key).endswith(("weight", "bias"))]
        if len(weights) != 2 or others:
            raise ValueError("a state_dict must hold the weight (and bias) of exactly two "
                             f"Linear layers, found keys {list(module)}")
        layer_biases = {str(key)[:-len("weight")] + "bias" for key in weights}
        stray = [key for key in module if str(key).endswith("bias") and key not in layer_biases]
        if stray:
            # A bias of no Linear layer (a custom module's output offset, say)
            # would be dropped silently: the network would compute another function.
            raise ValueError(f"state_dict keys {stray} are biases of neither Linear layer "
                             f"(whose weights are {weights}); only the two layers' weight "
                             "and bias can be imported")
        arrays = []
        for key in weights:
            W = _as_array(torch, module[key], f"state_dict[{key!r}]")
            if W.ndim != 2:
                raise ValueError(f"state_dict[{key!r}] must be a 2-D Linear weight "
                                 f"(out_features, in_features), got shape {W.shape}")
            bias_key = str(key)[:-len("weight")] + "bias"
            b = (np.zeros(W.shape[0]) if bias_key not in module
                 else _as_array(torch, module[bias_key], f"state_dict[{bias_key!r}]"))
            arrays.append((W, b))
        (W1, b1), (W2, b2) = arrays
        names = tuple(f"state_dict[{key!r}]" for key in weights)
    else:
        raise TypeError("module must be a torch.nn.Sequential(Linear, ReLU, Linear) or its "
                        f"state_dict, got {type(module).__name__}")
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
        order = (f"; the state_dict's weights were taken in its key order, {weights}, "
                 "so the first layer's must come first" if isinstance(module, Mapping) else "")
        raise ValueError(f"the layers do not chain: first weight {W1.shape}, second weight "
                         f"{W2.shape} (expected (s, n) and (o, s)){order}")
    if b1.shape != (W1.shape[0],) or b2.shape != (W2.shape[0],):
        raise ValueError(f"bias shapes {b1.shape} and {b2.shape} do not match the weights "
                         f"{W1.shape} and {W2.shape}")
    _check_width(W1.shape, ("hidden units (out_features)", "input features (in_features)"),
                 names[0])
    _check_width(W2.shape, ("outputs (out_features)", "hidden units (in_features)"), names[1])
    return _network(W1, b1, W2.T, b2)


def to_torch(net: SparseReLUNetwork):
    """``torch.nn.Sequential(Linear(n, s), ReLU(), Linear(s, o))`` in float64 computing ``net``.

    The output has shape ``(m, o)``, ``(m, 1)`` for a single-output network
    (PyTorch keeps the output dimension).  ``from_torch(to_torch(net)) ==
    net``.

    Parameters
    ----------
    net : SparseReLUNetwork
        The network to export.

    Returns
    -------
    torch.nn.Sequential
    """
    torch = _torch()
    if not isinstance(net, SparseReLUNetwork):
        raise TypeError(f"net must be a SparseReLUNetwork, got {type(net).__name__}")
    U, c = _output_matrix(net)
    module = torch.nn.Sequential(
        torch.nn.Linear(net.n_features, net.width, dtype=torch.float64),
        torch.nn.ReLU(),
        torch.nn.Linear(net.width, U.shape[1], dtype=torch.float64))
    with torch.no_grad():
        module[0].weight.copy_(torch.from_numpy(np.array(net.weights)))
        module[0].bias.copy_(torch.from_numpy(-net.biases))
        module[2].weight.copy_(torch.from_numpy(np.ascontiguousarray(U.T)))
        module[2].bias.copy_(torch.from_numpy(c))
    return module


# --------------------------------------------------------------------- ONNX
def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("the onnx package is needed to read ONNX models: pip install "
                          "'sparselearn[onnx]' (or pip install onnx)") from None
    return onnx


#: Element types of the tensors a network is read from; widening any of
#: them to float64 is exact.
_ONNX_FLOATS = ("float16", "bfloat16", "float32", "float64")

_ONNX_SUPPORTED = ("Gemm, or MatMul followed by Add, then Relu, then Gemm or MatMul + Add; "
                   "Flatten, Identity, Dropout (inference) and Reshape to (batch, n) may "
                   "stand between them; weights from initializers or Constant nodes, "
                   "possibly through Identity or Transpose")


#: The operators read, with the type of each attribute they may carry (an
#: ``onnx.AttributeProto`` type name).
_ONNX_ATTRIBUTES = {
    "Gemm": {"alpha": "FLOAT", "beta": "FLOAT", "transA": "INT", "transB": "INT"},
    "MatMul": {}, "Add": {}, "Relu": {}, "Identity": {}, "Transpose": {"perm": "INTS"},
    "Flatten": {"axis": "INT"}, "Dropout": {"ratio": "FLOAT", "seed": "INT", "is_test": "INT"},
    "Reshape": {"allowzero": "INT"},
    "Constant": {"value": "TENSOR", "value_float": "FLOAT", "value_floats": "FLOATS",
                 "value_int": "INT", "value_ints": "INTS"}}


class _Data:
    """The value computed from the graph input so far: the input itself
    (``stage="input"``), the first affine map (``"hidden"``), its ReLU
    (``"relu"``) or the output layer (``"output"``); ``W`` are ``(in, out)``."""

    def __init__(self, stage, rank, features, layers=()):
        self.stage, self.rank, self.features, self.layers = stage, rank, features, layers

    def then(self, stage, rank=2, features=None, layers=None):
        return _Data(stage, rank, self.features if features is None else features,
                     self.layers if layers is None else layers)


class _Runtime:
    """A value only known when the model runs (an extra graph input, a Dropout mask)."""

    def __init__(self, what):
        self.what = what


def _exactly_scaled(scale: float, array: np.ndarray, what: str) -> np.ndarray:
    """``scale * array`` in float64 when every product is exact, else ValueError.

    A product of a float32 attribute (24-bit significand) and a float32
    weight is always exact; float64 weights need checking.  Entries whose
    significands are short enough, with a normal result, are exact; the
    rest are compared with exact rational arithmetic (stopping at the first
    inexact one).
    """
    if scale == 1.0:
        return array
    if not math.isfinite(scale):
        raise ValueError(f"{what} is scaled by {scale!r}: alpha and beta must be finite")
    with np.errstate(over="ignore", under="ignore"):   # both are checked below
        product = scale * array
    mantissa, _ = np.frexp(array)
    significand = np.abs(mantissa * 2.0**53).astype(np.int64)   # < 2**53, exact
    lowest = np.where(significand != 0, significand & -significand, 1)
    bits = 53 - np.round(np.log2(lowest.astype(np.float64))).astype(np.int64)
    scale_significand = Fraction(abs(scale)).numerator
    if scale_significand:
        scale_significand //= scale_significand & -scale_significand   # odd: 4.0 -> 1
    scale_bits = max(1, scale_significand.bit_length())
    normal = np.isfinite(product) & (np.abs(product) >= np.finfo(np.float64).tiny)
    # A product of significands of a and b bits has a + b - 1 or a + b bits.
    sure = normal & ((bits + scale_bits <= 53) | (scale_bits == 1))
    exact_scale = Fraction(scale)
    for index in np.flatnonzero(~sure.reshape(-1)):
        value = product.reshape(-1)[index]
        if not np.isfinite(value) or Fraction(value) != exact_scale * Fraction(
                array.reshape(-1)[index]):
            entry = tuple(int(i) for i in np.unravel_index(index, array.shape))
            raise ValueError(f"{what} times {scale!r} is not exact in float64 (entry "
                             f"{entry}): rounding it would change the network; scale the "
                             "weights in the source model and export it with "
                             "alpha = beta = 1")
    return product


def _onnx_model(model, max_bytes):
    """A ``ModelProto`` from a path (size-checked, parsed, no external data
    loaded) or a ``ModelProto`` given."""
    onnx = _onnx()
    if isinstance(model, onnx.ModelProto):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("model must be a path to an .onnx file or an onnx.ModelProto, got "
                        f"{type(model).__name__}" + ("; parse serialized bytes with "
                                                     "onnx.load_model_from_string(data)"
                                                     if isinstance(model, bytes) else ""))
    from google.protobuf.message import DecodeError

    # The bytes and the parsed message: about twice the file.
    data = _io.read_bytes(model, max_bytes=max_bytes, memory_per_byte=2, what="ONNX model")
    try:
        proto = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError, TypeError) as exc:
        raise _io.UnreadableFileError(f"{os.fspath(model)}: not an ONNX model "
                                      f"({_io._oneline(exc)})") from None
    if not proto.HasField("graph"):
        raise _io.UnreadableFileError(f"{os.fspath(model)}: not an ONNX model (no graph)")
    return proto


def from_onnx(model, *, max_bytes=None) -> SparseReLUNetwork:
    """The network of an ONNX model of a one-hidden-layer ReLU MLP.

    The graph is read, never run: nodes ``Gemm`` (``transA=0``, any
    ``transB``, ``alpha``, ``beta``) or ``MatMul`` followed by ``Add``,
    then ``Relu``, then ``Gemm`` or ``MatMul`` (+ ``Add``), with
    ``Flatten``, ``Identity``, ``Dropout`` (inference) and ``Reshape`` to
    ``(batch, n)`` anywhere between them -- what ``torch.onnx.export``,
    tf2onnx and jax2onnx write for such an MLP.  Weights come from
    initializers (also those older exporters list as graph inputs: their
    stored values are used) or ``Constant`` nodes, possibly through
    ``Identity`` or ``Transpose`` nodes, in float16, bfloat16,
    float32 or float64; widening them to float64 is exact.  A Gemm's
    ``alpha`` and ``beta`` are multiplied into the weights and bias when
    every product is exact in float64 (always for float32 weights, whose
    products with the float32 attribute have at most 48 significant bits),
    and refused otherwise: a rounded product would be another network.

    Parameters
    ----------
    model : str, os.PathLike or onnx.ModelProto
        An ``.onnx`` file (read through :func:`sparselearn.io.read_bytes`:
        a regular file, its size checked against the budget before
        reading) or a loaded model.  Tensors stored as external data are
        refused, not read (their location could name any file): load the
        model with ``onnx.load(path)`` yourself and pass the ``ModelProto``.
    max_bytes : float, optional
        Memory budget for the file and the float64 weights; default
        :data:`~sparselearn._validation.DEFAULT_MAX_BYTES`.

    Returns
    -------
    SparseReLUNetwork
        ``net(X)`` equals the model's output on ``X`` (rows of ``n``
        features, flattened as the graph's ``Flatten``/``Reshape`` does) to
        the rounding of the model's dtype; a model with one output gives a
        single-output network.

    Raises
    ------
    ImportError
        If the ``onnx`` package is not installed.
    TypeError
        If ``model`` is neither a path nor a ``ModelProto``.
    sparselearn.io.UnreadableFileError
        If the file is missing, over the budget or not an ONNX model.
    ValueError
        If the graph is anything else (two hidden layers, another
        activation, batch norm, a weight given at run time, external
        data, a layer of 0 units); the message names the node and its op
        type (and a weight's shape).  A classifier's
        final ``Softmax`` or ``Sigmoid`` is refused too: export its scores
        (the logits), which the network then computes.
    sparselearn.MemoryBudgetError
        If the weights in float64 would exceed ``max_bytes``.
    """
    onnx = _onnx()
    from onnx import numpy_helper

    from ._validation import check_memory

    proto = _onnx_model(model, max_bytes)
    graph = proto.graph
    if len(graph.sparse_initializer):
        raise ValueError("the graph has sparse initializers, which are not read; store the "
                         "weights as dense initializers")
    tensors = list(graph.initializer) + [
        attribute.t for node in graph.node if node.op_type == "Constant"
        for attribute in node.attribute if attribute.name == "value"]
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = {entry.key: entry.value for entry in tensor.external_data}
            raise ValueError(f"tensor {tensor.name!r} keeps its data in an external file "
                             f"({location.get('location', '?')!r}), which is not read: load "
                             "the model with onnx.load(path) and pass the ModelProto")
    for tensor in tensors:
        if any(dim < 0 for dim in tensor.dims):
            raise ValueError(f"tensor {tensor.name!r} has dims {list(tensor.dims)}; a stored "
                             "tensor's dims are >= 0")
    check_memory(sum(8.0 * float(np.prod(tensor.dims, dtype=np.float64))
                     for tensor in tensors), "the ONNX model's tensors in float64",
                 max_bytes)

    def tensor_array(tensor, where):
        try:
            return numpy_helper.to_array(tensor)
        except Exception as exc:   # a malformed tensor: wrong data length, unknown type
            raise ValueError(f"{where}: tensor {tensor.name!r} cannot be read "
                             f"({_io._oneline(exc)})") from None

    values = {}
    for tensor in graph.initializer:
        values[tensor.name] = tensor_array(tensor, "initializer")
    inputs = [value for value in graph.input if value.name not in values]
    if not inputs:
        raise ValueError("the graph has no input that is not an initializer")
    for extra in inputs[1:]:
        values[extra.name] = _Runtime(f"graph input {extra.name!r}, given at run time")
    data_input = inputs[0]
    tensor_type = data_input.type.tensor_type
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).name
    except (KeyError, ValueError, TypeError):
        dtype = f"code {tensor_type.elem_type}"
    if dtype not in _ONNX_FLOATS:
        raise ValueError(f"the graph input {data_input.name!r} has element type {dtype}; "
                         f"only {', '.join(_ONNX_FLOATS)} inputs are supported")
    if tensor_type.HasField("shape"):
        dims = [dim.dim_value if dim.HasField("dim_value") else None
                for dim in tensor_type.shape.dim]
        features = (None if len(dims) < 2 or None in dims[1:]
                    else int(np.prod(dims[1:], dtype=np.int64)))
        values[data_input.name] = _Data("input", len(dims), features)
    else:
        values[data_input.name] = _Data("input", None, None)

    functions = {(function.domain, function.name) for function in proto.functions}
    for position, node in enumerate(graph.node):
        if (node.domain, node.op_type) in functions:
            # jax2onnx's @onnx_function, for one: a subgraph stored once, by name.
            raise ValueError(f"node {node.name or '#' + str(position)!r} ({node.op_type}) "
                             "calls a function of the model; inline it first: import "
                             "onnx.inliner, then "
                             "from_onnx(onnx.inliner.inline_local_functions(model))")
        values.update(_onnx_node(onnx, node, position, values, tensor_array))

    if len(graph.output) != 1:
        raise ValueError(f"the graph has {len(graph.output)} outputs; a network has one "
                         "(of shape (batch, o))")
    result = values.get(graph.output[0].name)
    if not isinstance(result, _Data) or result.stage != "output":
        stage = getattr(result, "stage", None)
        found = {"input": "no layer", "hidden": "one linear layer",
                 "relu": "a linear layer and a Relu"}.get(stage, "no value computed from "
                                                                 "the graph input")
        raise ValueError(f"the graph output {graph.output[0].name!r} is {found}; expected "
                         f"Linear(n, s), Relu, Linear(s, o): {_ONNX_SUPPORTED}")
    (W1, b1), (W2, b2) = result.layers
    b1 = np.zeros(W1.shape[1]) if b1 is None else b1
    b2 = np.zeros(W2.shape[1]) if b2 is None else b2
    return _network(W1.T, b1, W2, b2)


def _onnx_node(onnx, node, position, values, tensor_array) -> dict:
    """The values a node defines, as ``{name: array, _Data or _Runtime}``."""
    label = f"node {node.name or '#' + str(position)!r} ({node.op_type})"
    if node.domain not in ("", "ai.onnx"):
        raise ValueError(f"{label} is of domain {node.domain!r}, not a standard ONNX "
                         f"operator; supported: {_ONNX_SUPPORTED}")
    allowed = _ONNX_ATTRIBUTES
    if node.op_type not in allowed:
        after_output = any(isinstance(values.get(name), _Data)
                           and values[name].stage == "output" for name in node.input)
        # A classifier's softmax or sigmoid: its scores are the layer before,
        # as from_sklearn gives a classifier's decision scores.
        hint = ("; it is applied to the output layer: export the model without it (the "
                "network is then its scores, the layer before)" if after_output
                else "; the shape is computed at run time (x.view(x.size(0), -1) in PyTorch):"
                " flatten with torch.flatten(x, 1) or nn.Flatten() instead, which export as "
                "Flatten" if node.op_type == "Shape" else "")
        raise ValueError(f"{label} is not supported (a one-hidden-layer ReLU network is "
                         f"read from {_ONNX_SUPPORTED}){hint}")
    expected = allowed[node.op_type]
    unknown = sorted({attribute.name for attribute in node.attribute} - set(expected))
    if unknown:
        raise ValueError(f"{label} has attributes {unknown}, which are not supported")
    for attribute in node.attribute:
        # A mistyped attribute (transA as a string, alpha as ints) would be
        # read as something else, or fail deep in a conversion.
        kind = onnx.AttributeProto.AttributeType.Name(attribute.type)
        if kind != expected[attribute.name]:
            raise ValueError(f"{label} has attribute {attribute.name} of type {kind}; ONNX "
                             f"defines it as {expected[attribute.name]}")
    attributes = {attribute.name: onnx.helper.get_attribute_value(attribute)
                  for attribute in node.attribute}
    # (required, optional) inputs, outputs: a malformed node is refused by name.
    inputs, outputs = {"Gemm": ((2, 1), 1), "MatMul": ((2, 0), 1), "Add": ((2, 0), 1),
                       "Dropout": ((1, 2), 2), "Reshape": ((2, 0), 1),
                       "Constant": ((0, 0), 1)}.get(node.op_type, ((1, 0), 1))
    if (not inputs[0] <= len(node.input) <= sum(inputs)
            or "" in node.input[:inputs[0]] or not 1 <= len(node.output) <= outputs
            or not node.output[0]
            or node.op_type == "Constant" and len(attributes) != 1):
        raise ValueError(f"{label} is malformed: {len(node.input)} inputs "
                         f"{list(node.input)}, {len(node.output)} outputs"
                         + (f", attributes {sorted(attributes)}" if node.op_type == "Constant"
                            else ""))
    if node.op_type == "Constant":
        name, value = next(iter(attributes.items()))
        if name == "value":
            array = tensor_array(node.attribute[0].t, label)
        else:
            array = np.array(value, dtype=np.float32 if "float" in name else np.int64)
        return {node.output[0]: array}

    operands = []
    for name in node.input:
        if name == "":
            operands.append(None)        # an optional input left out
        elif name not in values:
            raise ValueError(f"{label} reads {name!r}, which no earlier node, initializer "
                             "or graph input defines (nodes must be in topological order)")
        else:
            operands.append(values[name])
    for operand in operands:
        if isinstance(operand, _Runtime):
            raise ValueError(f"{label} reads the {operand.what}; only weights stored in the "
                             "model (initializers or Constant nodes) can be imported")
    data = [operand for operand in operands if isinstance(operand, _Data)]
    if not data:
        if node.op_type == "Identity":
            return {node.output[0]: operands[0]}
        if node.op_type == "Transpose":     # of a stored weight (older exporters): exact
            perm = attributes.get("perm")
            try:
                return {node.output[0]: np.transpose(operands[0], None if perm is None
                                                     else list(perm))}
            except (ValueError, IndexError) as exc:
                raise ValueError(f"{label} has perm={perm} for a tensor of shape "
                                 f"{np.shape(operands[0])} ({exc})") from None
        raise ValueError(f"{label} computes on stored tensors only; fold such computations "
                         "into the weights before exporting (constant folding)")
    if len(data) > 1:
        raise ValueError(f"{label} combines two values computed from the input; a "
                         f"one-hidden-layer network is a chain: {_ONNX_SUPPORTED}")
    if node.op_type == "Add" and not isinstance(operands[0], _Data):
        operands = operands[::-1]          # c + x = x + c
    x = operands[0]
    if not isinstance(x, _Data):
        raise ValueError(f"{label} takes the input as its second operand (a weight on the "
                         "left); only x @ W with the weight on the right is supported")
    for name in node.output:
        if name in values:
            raise ValueError(f"{label} defines {name!r} again (each value is defined once)")
    out = {node.output[0]: _onnx_step(node, label, attributes, x, operands[1:])}
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        out[node.output[1]] = _Runtime(f"mask of {label}")
    return out


def _onnx_weight(array, label: str, role: str) -> np.ndarray:
    name = array.dtype.name
    if name not in _ONNX_FLOATS:
        raise ValueError(f"{label}: its {role} has element type {name}; only "
                         f"{', '.join(_ONNX_FLOATS)} weights are supported")
    array = np.asarray(array).astype(np.float64)   # exact widening
    _check_finite(array, f"{label}: its {role}")
    return array


def _onnx_bias(array, label: str, role: str, width: int) -> np.ndarray:
    array = _onnx_weight(array, label, role)
    if array.ndim > 2 or np.broadcast_shapes(array.shape, (1, width)) != (1, width):
        raise ValueError(f"{label}: its {role} has shape {array.shape}, which does not "
                         f"broadcast to one bias per unit, (1, {width})")
    return np.broadcast_to(array, (1, width))[0].copy()


def _onnx_step(node, label, attributes, x, constants) -> "_Data":
    """What ``node`` makes of the data value ``x`` (``constants`` its other operands)."""
    op = node.op_type
    if op in ("Identity", "Dropout"):
        if op == "Dropout":
            if attributes.get("is_test", 1) == 0:
                raise ValueError(f"{label} has is_test=0 (training mode); export the model "
                                 "in inference (eval) mode")
            for operand, kind in zip(constants, ("f", "b")):    # ratio, training_mode
                if operand is not None and (np.size(operand) != 1
                                            or np.asarray(operand).dtype.kind != kind):
                    raise ValueError(f"{label} has a non-scalar or mistyped ratio or "
                                     "training_mode input")
            training = constants[1] if len(constants) > 1 else None
            if training is not None and bool(np.any(training)):
                raise ValueError(f"{label} has training_mode=True; export the model in "
                                 "inference (eval) mode")
        return x
    if op == "Relu":
        if x.stage == "relu":
            return x             # relu(relu(z)) = relu(z)
        if x.stage != "hidden":
            where = ("on the input" if x.stage == "input"
                     else "after the output layer (a second hidden layer?)")
            raise ValueError(f"{label} stands {where}; only one hidden layer can be "
                             f"imported: {_ONNX_SUPPORTED}")
        return x.then("relu")
    if op in ("Flatten", "Reshape"):
        return _onnx_reshape(op, label, attributes, x, constants)
    if op == "Transpose":
        raise ValueError(f"{label} transposes a value computed from the input; only stored "
                         "weights may be transposed (the batch axis stays first)")
    if x.rank not in (None, 2):
        raise ValueError(f"{label} is applied to an input of rank {x.rank}; flatten it to "
                         "(batch, n) first (Flatten or Reshape)")
    if op == "Add":
        if x.stage not in ("hidden", "output"):
            where = "to the input" if x.stage == "input" else "after the Relu"
            raise ValueError(f"{label} adds a constant {where}; only a bias after a linear "
                             "layer is supported")
        (W, b) = x.layers[-1]
        if b is not None:
            raise ValueError(f"{label} adds a second bias to a layer that has one")
        bias = _onnx_bias(constants[0], label, "bias", W.shape[1])
        return x.then(x.stage, layers=x.layers[:-1] + ((W, bias),))
    # Gemm or MatMul: a linear layer x @ W (+ bias).
    if x.stage in ("hidden", "output"):
        raise ValueError(f"{label} is a linear layer after "
                         + ("another without a Relu between" if x.stage == "hidden"
                            else "the output layer (two hidden layers?)")
                         + f"; only one hidden layer can be imported: {_ONNX_SUPPORTED}")
    W = _onnx_weight(constants[0], label, "weight")
    if W.ndim != 2:
        raise ValueError(f"{label}: its weight has shape {W.shape}; a linear layer's is 2-D")
    bias = None
    if op == "Gemm":
        if attributes.get("transA", 0):
            raise ValueError(f"{label} has transA=1, which transposes the batch; only "
                             "transA=0 is supported")
        W = W.T if attributes.get("transB", 0) else W
        W = _exactly_scaled(float(attributes.get("alpha", 1.0)), W, f"{label}: its weight")
        if len(constants) > 1 and constants[1] is not None:
            bias = _onnx_bias(constants[1], label, "bias C", W.shape[1])
            bias = _exactly_scaled(float(attributes.get("beta", 1.0)), bias,
                                   f"{label}: its bias C")
    if x.features is not None and x.features != W.shape[0]:
        raise ValueError(f"{label}: its weight takes {W.shape[0]} features, the value it "
                         f"is applied to has {x.features}")
    axes = (("input features", "hidden units") if x.stage == "input"
            else ("hidden units", "outputs"))
    stored = np.shape(constants[0])     # (out, in) with transB=1
    _check_width(stored, axes[::-1] if op == "Gemm" and attributes.get("transB", 0) else axes,
                 f"{label}: its weight")
    stage = "hidden" if x.stage == "input" else "output"
    return x.then(stage, features=W.shape[1], layers=x.layers + ((W, bias),))


def _onnx_reshape(op, label, attributes, x, constants) -> "_Data":
    """Flatten, or Reshape to ``(batch, features)``: the batch axis must stay first."""
    if op == "Flatten":
        axis = int(attributes.get("axis", 1))
        if x.rank is not None and axis < 0:
            axis += x.rank
        if axis != 1:
            raise ValueError(f"{label} has axis={attributes.get('axis')}, which mixes the "
                             "batch into the features; only axis=1 (to (batch, n)) is "
                             "supported")
        return x.then(x.stage, rank=2)
    shape = np.asarray(constants[0]) if constants and constants[0] is not None else None
    if shape is None or shape.dtype.kind not in "iu" or shape.shape != (2,):
        raise ValueError(f"{label} reshapes to {None if shape is None else shape.tolist()}; "
                         "only a constant shape (batch, n), such as [-1, n] or [0, -1], is "
                         "supported")
    batch, features = (int(value) for value in shape)
    allowzero = attributes.get("allowzero", 0)
    keeps_batch = batch == -1 and features > 0 or batch == 0 and not allowzero and (
        features == -1 or features > 0)
    if not keeps_batch:
        raise ValueError(f"{label} reshapes to {shape.tolist()}; only shapes that keep the "
                         "batch first, [-1, n], [0, n] or [0, -1], are supported")
    if features > 0 and x.features is not None and features != x.features:
        raise ValueError(f"{label} reshapes {x.features} features to {features}")
    return x.then(x.stage, rank=2, features=features if features > 0 else None)
