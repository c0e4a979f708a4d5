r"""Import and export of one-hidden-layer ReLU networks (scikit-learn, PyTorch).

The library's network computes
:math:`h(x) = U^\top \mathrm{relu}(Wx - b) + c` with *thresholds* :math:`b`
(unit :math:`j` active when :math:`\langle w_j, x\rangle > b_j`).  The MLP
block of scikit-learn and PyTorch computes
:math:`W_2\,\mathrm{relu}(W_1 x + c_1) + c_2` with a bias *added*, and
stores the weights transposed in one library or the other:

=============================  ==========================  ==========================
this library                   scikit-learn                PyTorch
=============================  ==========================  ==========================
``weights`` (s, n)             ``coefs_[0].T``             ``layer1.weight``
``biases`` (s,)                ``-intercepts_[0]``         ``-layer1.bias``
``output_weights`` (s, o)      ``coefs_[1]``               ``layer2.weight.T``
``output_bias`` (o,)           ``intercepts_[1]``          ``layer2.bias``
=============================  ==========================  ==========================

Transposing and negating are exact, so a conversion and its inverse give
back the same float64 parameters bit for bit.  A last layer with one output
becomes a single-output network (1-D ``output_weights``, float bias), as
scikit-learn's ``predict`` returns ``(m,)`` for it.  Outputs agree with the
source library's to rounding: the sums are the same but may be taken in
another order, and the library decides activity exactly (a pre-activation
within rounding of 0 can be decided differently by a float ReLU); they agree
bit for bit when every sum is exact (for instance dyadic weights on
integer inputs).

Do **not** build a network from the raw arrays: ``SparseReLUNetwork(coefs_[0],
intercepts_[0], ...)`` is silently accepted when ``n == s`` and computes
another function.  Use :meth:`SparseReLUNetwork.from_sklearn` and
:meth:`SparseReLUNetwork.from_torch`.

PyTorch is an optional dependency (``pip install "sparselearn[torch]"``);
it is imported only by the torch functions.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .network import SparseReLUNetwork

__all__ = ["from_sklearn", "from_torch", "to_sklearn", "to_torch"]


def _conversion_hint(value) -> str:
    """``"; convert it with SparseReLUNetwork.from_torch"`` (or ``from_sklearn``)
    when ``value`` is a PyTorch or scikit-learn object or a ``state_dict``
    (a mapping holding tensors), else ``""``.

    For the errors of functions that take a :class:`SparseReLUNetwork`: an
    MLP from either library is not one, and building one from its raw
    arrays computes another function (module notes).
    """
    module = type(value).__module__
    if isinstance(value, Mapping) and any(type(item).__module__.startswith("torch")
                                          for item in value.values()):
        module = "torch"    # a state_dict, which from_torch reads too
    for library, method in (("torch", "from_torch"), ("sklearn", "from_sklearn")):
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
        If it is not fitted, has another number of hidden layers, or
        another activation; the message names what was found.
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
        layers = list(module.children()) if isinstance(module, nn.Sequential) else None
        kinds = [type(layer).__name__ for layer in layers] if layers is not None else None
        if layers is not None:
            # Dropout (of any kind) and Identity are the identity at inference.
            inert = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
                     nn.AlphaDropout, nn.FeatureAlphaDropout)
            layers = [layer for layer in layers if not isinstance(layer, inert)]
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
        W1 = _as_array(torch, first.weight, "layer 0 weight")
        W2 = _as_array(torch, second.weight, "layer 2 weight")
        b1 = (np.zeros(W1.shape[0]) if first.bias is None
              else _as_array(torch, first.bias, "layer 0 bias"))
        b2 = (np.zeros(W2.shape[0]) if second.bias is None
              else _as_array(torch, second.bias, "layer 2 bias"))
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
