r"""Approximate empirical risk minimisation over the sparse ReLU class.

:class:`SparseReLURegressor` fits a network of the class
:math:`H(n, s, k, W, B)` of docs/theory.rst, section 2,

.. math::

    h(x) = \sum_{j=1}^{s} u_j\,\mathrm{relu}(\langle w_j, x\rangle - b_j),
    \qquad \max_j|u_j|\max_j\|w_j\| \le W,\quad \max_j|u_j|\max_j|b_j| \le B,

with at most :math:`k` active units on every training point, by projected
minibatch Adam.  Three ingredients keep the iterates in (or near) the class
and the final network certifiably in it:

1. **Norm bounds by projection.**  The parameters live in the product set
   :math:`|u_j| \le 1,\ \|w_j\| \le W,\ |b_j| \le B`, which is exactly the
   class up to positive rescaling (see the Notes of
   :class:`SparseReLURegressor`); projecting onto it is one rescaling per
   row.
2. **Activation budget.**  During training only the :math:`k` largest
   positive pre-activations of each example contribute (a top-:math:`k`
   ReLU), and a penalty :math:`\lambda\,\bar y\,\frac1{m_b}\sum_i\sum_{j \in E_i} z_{ij}`
   on the *excess* active units :math:`E_i` (ranked beyond :math:`k`;
   :math:`\bar y` is the RMS of the targets) pushes them below their
   threshold.
3. **Repair and certification.**  After training, biases are raised just
   enough to deactivate every remaining excess unit on the training set;
   raising a bias never activates anything, so one pass makes the network
   :math:`k`-sparse on the sample.  The result is then *certified*
   independently by :meth:`SparseReLUNetwork.in_class` (exact activation
   counts and norm bounds), and ``in_class_`` reports the outcome.

Each minibatch step computes the pre-activations with one BLAS product and
then works on the active supports only: the backward pass
(:func:`sparselearn._kernels._sparse_backprop.sparse_backward`) touches the
:math:`\le k` kept units of each example (plus the excess ones while the
penalty is on), so its cost grows with :math:`k`, not with the width
:math:`s`.  One scan of the inner products finds and ranks the active units
(:func:`sparselearn._kernels._sparse_backprop.fused_supports`).  The
optimiser is dense Adam by default; ``solver="lazy_adam"`` updates only the
units the minibatch activates, which makes the rest of the step
proportional to the active units too (only the ``X @ W.T`` product and its
scan remain :math:`O(s)`).

With ``loss="correlation"`` the trainer maximises
:math:`\frac1m\sum_i y_i h(x_i)` under the norm bounds; with Rademacher
signs as ``y`` this is the inner supremum of the empirical Rademacher
complexity (docs/theory.rst, section 4), used by
:func:`sparselearn.rademacher.rademacher_lower_estimate`.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from . import io as _io
from ._kernels import _network, _sparse_backprop
from ._validation import (BOOLEAN, Interval, StrOptions, check_labels, check_memory,
                          check_numeric_input, check_random_state, check_width_and_sparsity,
                          validate_parameters, warn_at_caller)
from .network import (_PARALLEL_WORK, SparseReLUNetwork, _one_thread_all, _round_up_scaled_norm,
                      _row_norms)

__all__ = ["SparseReLUClassifier", "SparseReLURegressor"]

_LOSSES = ("squared", "correlation")
_SOLVERS = ("adam", "lazy_adam")
_MULTI_CLASS = ("softmax", "ovr")

# Format tags of the saved estimators (see _save_estimator).
_REGRESSOR_FORMAT = "sparselearn.SparseReLURegressor/1"
_CLASSIFIER_FORMAT = "sparselearn.SparseReLUClassifier/1"

# Adam's constants (Kingma and Ba 2015), as in scikit-learn's MLP.
_BETA1, _BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8

# At most this many rows are used to set the data-dependent initialisation.
_INIT_ROWS = 2048

# Rows per chunk when evaluating the whole training set (repair): the
# chunk's ``X @ W.T`` takes about this many bytes.
_CHUNK_BYTES = 16 * 2**20

# Repair rounds before giving up; one suffices unless rounding interferes.
_MAX_REPAIR_ROUNDS = 4


class SparseReLURegressor(RegressorMixin, BaseEstimator):
    r"""Approximate ERM over :math:`k`-sparse one-hidden-layer ReLU networks.

    Fits :math:`h(x) = \sum_{j=1}^{s} u_j\,\mathrm{relu}(\langle w_j, x\rangle - b_j) + c`
    by projected minibatch Adam with the norm bounds of the class
    :math:`H(n, s, k, W, B)` enforced at every step and the activation budget
    :math:`k` enforced during training (top-:math:`k` cap and excess
    penalty) and, at the end, by a bias-raising repair; the fitted network
    is then certified on the training set (docs/theory.rst sections 2 and 4).

    Parameters
    ----------
    width : int, default=100
        Number of hidden units :math:`s`.
    sparsity : int, default=10
        Activation budget :math:`k`, ``1 <= k <= width``: the fitted network
        must have at most ``k`` active units on every training point.
    W : float or None, default=None
        Weight bound: :math:`\max_j|u_j|\cdot\max_j\|w_j\|_2 \le W`.  ``None``
        leaves the hidden weights unbounded.
    B : float or None, default=None
        Bias bound: :math:`\max_j|u_j|\cdot\max_j|b_j| \le B`.  ``None``
        leaves the biases unbounded.
    loss : {"squared", "correlation"}, default="squared"
        ``"squared"`` minimises :math:`\frac1{2m}\sum_i (h(x_i) - y_i)^2`.
        ``"correlation"`` minimises :math:`-\frac1m\sum_i y_i h(x_i)`,
        i.e. maximises the correlation with ``y``; it needs finite ``W`` and
        ``B`` (the objective is unbounded otherwise) and never fits an
        output bias.  With Rademacher signs as ``y`` it approximates the
        supremum in the empirical Rademacher complexity from below.
    fit_intercept : bool, default=True
        Fit an output bias :math:`c` (squared loss only), started at the
        mean of ``y`` (and the initial outputs scaled to ``y`` minus it).  The class
        :math:`H` has no output bias: ``in_class_`` certifies the hidden part
        :math:`h - c`, and ``network_.output_bias`` holds :math:`c`.
    learning_rate : float, default=0.01
        Adam step size, ``> 0``.
    batch_size : int, default=64
        Minibatch size (clipped to the number of samples).
    max_epochs : int, default=200
        Maximum number of passes over the training set.
    tol : float, default=1e-4
        Training stops when the epoch objective has not decreased by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    sparsity_penalty : float, default=0.1
        Weight :math:`\lambda \ge 0` of the penalty
        :math:`\lambda\,\bar y\,\frac1{m_b}\sum_i\sum_{j\in E_i} z_{ij}`
        on the pre-activations of each example's excess active units (those
        ranked beyond ``k``), which drives them below threshold.
        :math:`\bar y` is the root mean square of ``y`` (minus its mean
        with an intercept; 1 if it is 0), so that penalty and loss scale
        alike with ``y`` and :math:`\lambda` is dimensionless.
    cap_activations : bool, default=True
        During training, let only the ``k`` largest positive pre-activations
        of each example contribute to the output (ties: lower unit index).
        With ``False`` all active units contribute and only the penalty
        (and the repair) enforce the budget.
    repair : bool, default=True
        After training, raise biases (shrinking weights if a bias would
        exceed ``B``) so that no training point keeps more than ``k``
        active units; the network is then in the class on the training set
        by construction.  With ``False`` the trained network is reported
        as is and ``in_class_`` may be ``False``.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        Seed of the initialisation and of the minibatch order.  The same
        seed gives the same fit; a ``RandomState`` (scikit-learn's
        convention) gives a seed drawn from it, so it advances with each fit,
        and a ``Generator`` is drawn from directly, so it advances too:
        refitting the same estimator gives another fit.  ``clone`` (and so
        ``cross_val_score`` and ``GridSearchCV``) copies either, so every
        clone starts from the same state and fits alike.
    verbose : bool or int, default=False
        Print (on stdout) the objective and mean active count after each
        epoch, and a last line with the repair and the certificate (units
        repaired, ``max_active_``, ``norm_bounds_``, ``in_class_``).  An int
        is scikit-learn's convention: any value above 0 prints.
    max_bytes : float or None, default=None
        Memory budget of a fit (parameters, optimiser state, minibatch
        buffers); a larger request raises :class:`MemoryBudgetError` before
        allocating.  ``None`` uses the library default.
    solver : {"adam", "lazy_adam"}, default="adam"
        ``"adam"``: every step updates every parameter and both Adam
        moments (units no example of the minibatch activates still move by
        their momentum).  ``"lazy_adam"``: a step updates only the units
        *touched* by the minibatch, those active on at least one of its rows
        (kept or excess): their rows of :math:`w`, :math:`b`, :math:`u` and of
        the moments get exactly the Adam update (bias correction by the
        global step count), the other units and their moments stay as they
        are, as in TensorFlow's LazyAdam and PyTorch's SparseAdam.  The
        iterates differ from ``"adam"``'s; a step then costs time in
        proportion to the touched units instead of the width :math:`s`
        (apart from the ``X @ W.T`` product and one scan of it), about half
        the time at :math:`s = 4096, k = 8`
        (``benchmarks/compare_erm_step.py``).

    Attributes
    ----------
    network_ : SparseReLUNetwork
        The fitted (repaired) network; ``predict`` evaluates it with plain
        ReLUs, no cap.
    max_active_ : int
        Largest number of active units of ``network_`` over the training
        points (the measured maximum; ``sparsity_`` is its deprecated name).
    mean_active_ : float
        Mean number of active units over the training points.
    norm_bounds_ : tuple of float
        ``(W, B)`` attained by ``network_``
        (:meth:`SparseReLUNetwork.norm_bounds`).
    in_class_ : bool
        Whether ``network_`` without its output bias lies in
        :math:`H(n, s, k, W, B; X_{train})`: ``max_active_ <= sparsity`` and
        the attained norm bounds are at most ``W`` and ``B`` (when given),
        checked exactly in floating point
        (:meth:`SparseReLUNetwork.in_class`).  Sparsity is certified on the
        training points only; on new points count with
        ``network_.activation_counts``.
    loss_curve_ : list of float
        Training objective (loss plus activation penalty, of the capped
        network) averaged over each epoch.
    train_objective_ : float
        Loss of the final ``network_`` on the training set (no cap, no
        penalty): :math:`\frac1{2m}\sum_i(h(x_i)-y_i)^2` or
        :math:`-\frac1m\sum_i y_i h(x_i)`.
    n_units_repaired_ : int
        Number of units whose bias the repair raised.
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of input features :math:`n`.
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    Notes
    -----
    **Parametrisation.**  The class constraint couples the outer and hidden
    weights; the trainer uses the product set

    .. math::

        P = \{|u_j| \le 1,\ \|w_j\| \le W,\ |b_j| \le B\ \ \forall j\}.

    Every network in :math:`P` is in the class (:math:`\max|u|\le 1`), and
    every network of the class is a network of :math:`P` after the
    rescaling :math:`u \to u/c`, :math:`(w, b) \to c\,(w, b)` with
    :math:`c = \max_j|u_j|`, which changes neither the function nor the
    active supports (positive homogeneity).  Projection onto :math:`P` is
    a clip of :math:`u_j` and :math:`b_j` and a rescaling of :math:`w_j`.

    **Step.**  On a minibatch of :math:`m_b` rows with pre-activations
    :math:`z_{ij}`, kept sets :math:`K_i` (the top-:math:`k` active units)
    and excess sets :math:`E_i`, the objective is
    :math:`L + \frac{\lambda\bar y}{m_b}\sum_i\sum_{j\in E_i} z_{ij}` and its
    gradient is :math:`\partial/\partial w_j = \sum_i a_{ij} x_i`,
    :math:`\partial/\partial b_j = -\sum_i a_{ij}` with
    :math:`a_{ij} = [j\in K_i]\,r_i u_j + [j\in E_i]\,\lambda\bar y/m_b`, where
    :math:`r_i = \partial L/\partial h(x_i)`; only the :math:`|K_i| + |E_i|`
    active units of each row are touched.

    **Repair.**  For each unit :math:`j` let :math:`g_j` be the largest
    :math:`\langle w_j, x_i\rangle` over the training points where
    :math:`j` is an excess unit.  Setting :math:`b_j \leftarrow g_j +
    \text{margin}` (a rounding margin) deactivates :math:`j` there; if that
    exceeds :math:`B`, the unit is rescaled to
    :math:`(t w_j, B)` with :math:`t = B / (g_j + \text{margin})`, whose
    pre-activation :math:`t(\langle w_j,x\rangle - g_j - \text{margin})`
    has the same sign.  Either way every pre-activation can only decrease
    in sign, so no point gains an active unit, and every point loses its
    excess units: the repaired network is :math:`k`-sparse on the training
    set.  The repair can also switch off a unit on points where it was
    kept; ``train_objective_`` measures the final network.

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.erm import SparseReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = np.maximum(X[:, 0] - 0.5, 0.0)
    >>> est = SparseReLURegressor(width=8, sparsity=2, W=4.0, B=4.0,
    ...                           random_state=0).fit(X, y)
    >>> est.in_class_, est.max_active_ <= 2
    (True, True)
    """

    def __init__(self, width=100, sparsity=10, *, W=None, B=None, loss="squared",
                 fit_intercept=True, learning_rate=0.01, batch_size=64, max_epochs=200,
                 tol=1e-4, n_iter_no_change=10, sparsity_penalty=0.1,
                 cap_activations=True, repair=True, random_state=None, verbose=False,
                 max_bytes=None, solver="adam"):
        self.width = width
        self.sparsity = sparsity
        self.W = W
        self.B = B
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.sparsity_penalty = sparsity_penalty
        self.cap_activations = cap_activations
        self.repair = repair
        self.random_state = random_state
        self.verbose = verbose
        self.max_bytes = max_bytes
        self.solver = solver

    # ------------------------------------------------------------ validation
    # What each constructor parameter may be (sparselearn._validation's copy
    # of scikit-learn's pattern); width and sparsity are checked as a pair.
    _parameter_constraints = {
        "loss": [StrOptions(_LOSSES)],
        "solver": [StrOptions(_SOLVERS)],
        "W": [None, Interval(numbers.Real, 0.0)],
        "B": [None, Interval(numbers.Real, 0.0)],
        "max_bytes": [None, Interval(numbers.Real, 0.0, closed="neither")],
        "fit_intercept": [BOOLEAN],
        "learning_rate": [Interval(numbers.Real, 0.0, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1)],
        "max_epochs": [Interval(numbers.Integral, 1)],
        "tol": [Interval(numbers.Real, 0.0)],
        "n_iter_no_change": [Interval(numbers.Integral, 1)],
        "sparsity_penalty": [Interval(numbers.Real, 0.0)],
        "cap_activations": [BOOLEAN],
        "repair": [BOOLEAN],
        "verbose": [Interval(numbers.Integral, 0), BOOLEAN],
    }

    def _validated_params(self) -> dict:
        """Every hyper-parameter checked, as a dict (estimator left untouched)."""
        s, k = check_width_and_sparsity(self.width, self.sparsity, ("width", "sparsity"))
        c = validate_parameters(self._parameter_constraints,
                                {name: getattr(self, name) for name in self._parameter_constraints})
        if c["loss"] == "correlation" and (c["W"] is None or c["B"] is None):
            raise ValueError("loss='correlation' needs finite norm bounds W and B: the "
                             "correlation is unbounded over networks with unbounded weights")
        return dict(
            s=s, k=k, W=c["W"], B=c["B"], loss=c["loss"],
            fit_intercept=c["fit_intercept"] and c["loss"] == "squared",
            learning_rate=c["learning_rate"], batch_size=c["batch_size"],
            max_epochs=c["max_epochs"], tol=c["tol"], n_iter_no_change=c["n_iter_no_change"],
            penalty=c["sparsity_penalty"], cap=c["cap_activations"], repair=c["repair"],
            verbose=bool(c["verbose"]), max_bytes=c["max_bytes"], solver=c["solver"],
        )

    def _validated_data(self, X, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        # The one validation of X (and y): scikit-learn's handles its input
        # conventions (object and integer dtypes, feature names,
        # n_features_in_) and refuses NaN/inf; the kernels then only need the
        # C-contiguous layout.  Everything below fit trusts these arrays.
        check_numeric_input(X, "X")
        check_numeric_input(y, "y")
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim != 2:
            y = column_or_1d(y, warn=True)
        elif y.shape[1] == 0:
            raise ValueError("y has no columns: pass (m,) targets or (m, o) with o >= 1")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must hold one target per row of X: got {y.shape[0]} "
                             f"targets for {X.shape[0]} rows")
        return (np.ascontiguousarray(X, dtype=np.float64),
                np.ascontiguousarray(y, dtype=np.float64))

    # ------------------------------------------------------------------- fit
    def fit(self, X, y):
        r"""Fit the network to ``(X, y)`` and certify it on ``X``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Training inputs, any finite real values.  Features are used as
            given (no rescaling), since the norm bounds refer to the raw
            inputs (:math:`A = W R` with :math:`R = \max_i\|x_i\|`).
        y : array_like of shape (m,) or (m, o)
            Targets (squared loss) or weights of the correlation (for
            instance Rademacher signs).  A 2-D ``y`` fits ``o`` outputs on
            one shared hidden layer (``network_.output_weights`` of shape
            ``(s, o)``, ``predict`` of shape ``(m, o)``): the loss is summed
            over outputs, :math:`\frac1{2m}\sum_i\|h(x_i) - y_i\|^2`, the
            penalty scale :math:`\bar y` is the RMS over all entries, and
            every :math:`|u_{jt}| \le 1`; budget, repair and certificate
            concern the shared hidden layer and are unchanged.

        Returns
        -------
        self : SparseReLURegressor

        Notes
        -----
        A fit that raises (a bad argument, :class:`MemoryBudgetError`, a
        training that diverged, Ctrl-C) leaves the estimator unfitted: the
        fitted attributes of an earlier fit are removed too, so no mix of
        two fits remains.  A training diverged when its parameters or its
        final loss are not finite (a ``learning_rate`` far too large for the
        scale of the data): the ``ValueError`` says so.
        """
        return _fit_or_forget(self, X, y)

    def _fit(self, X, y):
        """:meth:`fit`, which may leave fitted attributes behind when it raises."""
        p = self._validated_params()
        X, y = self._validated_data(X, y)
        m, n = X.shape
        s, k = p["s"], p["k"]
        batch = min(p["batch_size"], m)
        # Parameters, gradients and two Adam moments of (w, b, u); minibatch
        # rows, inner products and CSR supports; the initialisation's inner
        # products on up to _INIT_ROWS rows.
        check_memory(8.0 * 4 * s * (n + 2) + 8.0 * batch * (n + 3 * s + 4)
                     + 8.0 * 2 * min(m, _INIT_ROWS) * s,
                     f"a fit of width {s} on {n} features with batch_size {batch}",
                     p["max_bytes"])
        rng = check_random_state(self.random_state)

        # The output bias starts at the targets' mean (0 without an
        # intercept): Adam moves it by about learning_rate a step, so from 0
        # it never reached the mean of targets such as diabetes' (152), and
        # the hidden units were spent on the offset (R^2 -2.3 there).  The
        # initial output scale, and the penalty's y-bar, are those of the
        # centred targets.
        # (Computed on the (m, o) view for both shapes, so that a 1-D y and
        # its one-column 2-D form train to the same bits.)
        columns = y.reshape(m, -1)
        with np.errstate(over="ignore", invalid="ignore"):
            offset = (np.mean(columns, axis=0) if p["fit_intercept"]
                      else np.zeros(columns.shape[1]))
            centred = columns - offset
            sum_squares = float(np.sum(centred * centred))
        if not math.isfinite(sum_squares):
            # Caught here, the overflow ended as "weights contains NaN or
            # infinite values" from the network built after training.
            raise ValueError(
                f"y is too large for float64 training: the sum of its squared deviations "
                f"overflows (largest |y| = {float(np.max(np.abs(y))):.3g}); rescale y, for "
                "instance divide it by its standard deviation and multiply the predictions "
                "back (sklearn.compose.TransformedTargetRegressor does both)")
        w, b, u = _initial_parameters(X, centred[:, 0] if y.ndim == 1 else centred, s, k,
                                      p["W"], p["B"], rng)
        c = offset.reshape(1, -1)
        # A minibatch kernel call is a few microseconds of work, too little to
        # amortise waking OpenMP threads (on a loaded machine that costs
        # milliseconds per call): run the kernels on one thread.  The same
        # holds for BLAS on the minibatch products X_b @ W.T (m_b rows): its
        # second thread made a fit about 3x slower on the 2-core machine
        # (benchmarks/compare_threads.py), so it runs on one thread too.
        # One training loop for every output count: a 1-D y is trained as
        # one column (views of y and u, so u is updated in place).
        Y = columns
        u_t = u.reshape(1, s) if y.ndim == 1 else np.ascontiguousarray(u.T)
        y_rms = math.sqrt(float(np.mean(centred * centred)))
        loss = _squared_loss if p["loss"] == "squared" else _correlation_loss
        with _one_thread_all():
            self.loss_curve_ = _train(X, Y, w, b, u_t, c, p, batch, rng, loss,
                                      y_rms if y_rms > 0.0 else 1.0, type(self).__name__)
        if y.ndim != 1:
            u = np.ascontiguousarray(u_t.T)
        self.n_iter_ = len(self.loss_curve_)

        network = _finish_fit(self, X, w, b, u, float(c[0, 0]) if u.ndim == 1 else c[0], k, p)
        prediction = network._forward(X)
        scale = 1 if y.ndim == 1 else y.shape[1]   # sum over outputs, mean over rows
        if p["loss"] == "squared":
            self.train_objective_ = float(0.5 * scale * np.mean((prediction - y) ** 2))
        else:
            self.train_objective_ = float(-scale * np.mean(y * prediction))
        if not math.isfinite(self.train_objective_):
            raise _divergence_error(type(self).__name__, p, "non-finite training loss")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @property
    def sparsity_(self) -> int:
        """Deprecated name of ``max_active_`` (``sparsity`` is the budget ``k``)."""
        warnings.warn("SparseReLURegressor.sparsity_ is renamed max_active_; 'sparsity' "
                      "names the budget k", FutureWarning, stacklevel=2)
        check_is_fitted(self, "max_active_")  # NotFittedError, as for max_active_'s users
        return self.max_active_

    def predict(self, X):
        """Output of the fitted network on each row of ``X``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Inputs with the training data's ``n`` features.

        Returns
        -------
        ndarray of shape (m,) or (m, o)
            Predictions (``(m, o)`` when fitted on a 2-D ``y``).
        """
        check_is_fitted(self)
        check_numeric_input(X, "X")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.network_(X)

    def save(self, path) -> str:
        """Write the fitted estimator as an ``.npz`` archive; returns the path written.

        The archive (format ``sparselearn.SparseReLURegressor/1``) holds the
        network's arrays, the constructor parameters and the fitted
        attributes as JSON (a ``random_state`` that is not ``None`` or an
        int is stored as ``None``), and the feature names, if any.
        ``.npz`` is appended to ``path`` unless it ends with it, and the
        file is written atomically (:func:`sparselearn.io.save_npz`).
        Read it back with :meth:`load`.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        str
            The path written.
        """
        return _save_estimator(self, path, _REGRESSOR_FORMAT)

    @classmethod
    def load(cls, path) -> "SparseReLURegressor":
        """Read an estimator written by :meth:`save` (``allow_pickle=False``).

        ``.npz`` is appended to ``path`` unless it ends with it.  Sizes are
        checked before reading (:func:`sparselearn.io.load_archive`); the
        loaded estimator predicts exactly as the saved one did.

        Parameters
        ----------
        path : str or os.PathLike
            The saved estimator.

        Returns
        -------
        SparseReLURegressor

        Raises
        ------
        sparselearn.io.UnreadableFileError
            (a :class:`ValueError`) If the file is missing, not such an
            archive (another format tag, missing or extra arrays), carries
            pickled objects, or its parameters, network or fitted attributes
            are malformed or inconsistent.
        """
        return _load_estimator(cls, path, _REGRESSOR_FORMAT)


class SparseReLUClassifier(ClassifierMixin, BaseEstimator):
    r"""Softmax or one-vs-rest classifier on one shared :math:`k`-sparse ReLU hidden layer.

    With :math:`C` classes the network has :math:`C` outputs (logits)
    :math:`h_t(x) = \sum_j u_{jt}\,\mathrm{relu}(\langle w_j, x\rangle - b_j) + c_t`
    on one hidden layer, fitted by minimising the mean cross-entropy of
    :math:`\mathrm{softmax}(h(x))` (``multi_class="softmax"``) or the sum
    over classes of the binary cross-entropies of
    :math:`\sigma(h_t(x))` against :math:`[y = t]` (``multi_class="ovr"``,
    one-vs-rest: :math:`C` binary problems sharing the hidden layer) with
    the same trainer as
    :class:`SparseReLURegressor`: norm bounds by projection (:math:`|u_{jt}|
    \le 1`, :math:`\|w_j\| \le W`, :math:`|b_j| \le B`), the activation
    budget ``k`` during training (top-``k`` cap and excess penalty, scaled by
    1 instead of :math:`\bar y`), the bias-raising repair and the
    certification on the training set.  Two classes use two logits.

    Parameters
    ----------
    width, sparsity, W, B, fit_intercept, learning_rate, batch_size, max_epochs, tol, n_iter_no_change, sparsity_penalty, cap_activations, repair, random_state, verbose, max_bytes
        As for :class:`SparseReLURegressor` (``fit_intercept`` fits the
        logit biases :math:`c_t`).
    multi_class : {"softmax", "ovr"}, default="softmax"
        ``"softmax"``: minimise
        :math:`-\frac1m\sum_i \log\mathrm{softmax}(h(x_i))_{y_i}`.
        ``"ovr"``: minimise
        :math:`\frac1m\sum_i\sum_t \bigl(\log(1 + e^{h_t(x_i)}) - [y_i = t]\,h_t(x_i)\bigr)`,
        one logistic regression per class on the shared hidden layer.
        Either way ``predict`` is the class of largest logit; the budget,
        repair and certificate concern the hidden layer and are the same.

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
        The class labels, sorted.
    network_ : SparseReLUNetwork
        The fitted network, ``C`` outputs (the logits).
    max_active_, mean_active_, norm_bounds_, in_class_, loss_curve_, n_units_repaired_, n_iter_, n_features_in_
        As for :class:`SparseReLURegressor`; ``in_class_`` certifies the
        hidden layer's budget and the norm bounds with :math:`\max|u|` over
        all outputs.
    train_objective_ : float
        The training loss of ``multi_class`` (mean softmax cross-entropy,
        or mean summed one-vs-rest binary cross-entropy) of ``network_`` on
        the training set.

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn.erm import SparseReLUClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = np.where(X[:, 0] > 0.3, "a", "b")
    >>> clf = SparseReLUClassifier(width=8, sparsity=2, W=8.0, B=8.0, tol=1e-3,
    ...                            random_state=0).fit(X, y)
    >>> clf.in_class_, clf.max_active_ <= 2, clf.score(X, y) > 0.9
    (True, True, True)
    """

    # Its own parameter; the others are SparseReLURegressor's, checked by the
    # regressor fit builds from them.
    _parameter_constraints = {"multi_class": [StrOptions(_MULTI_CLASS)]}

    def __init__(self, width=100, sparsity=10, *, W=None, B=None, fit_intercept=True,
                 learning_rate=0.01, batch_size=64, max_epochs=200, tol=1e-4,
                 n_iter_no_change=10, sparsity_penalty=0.1, cap_activations=True,
                 repair=True, random_state=None, verbose=False, max_bytes=None,
                 multi_class="softmax"):
        self.width = width
        self.sparsity = sparsity
        self.W = W
        self.B = B
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.sparsity_penalty = sparsity_penalty
        self.cap_activations = cap_activations
        self.repair = repair
        self.random_state = random_state
        self.verbose = verbose
        self.max_bytes = max_bytes
        self.multi_class = multi_class

    def fit(self, X, y):
        """Fit the classifier to ``(X, y)`` and certify it on ``X``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Training inputs, used as given (no rescaling).
        y : array_like of shape (m,)
            Class labels, at least two distinct.

        Returns
        -------
        self : SparseReLUClassifier

        Notes
        -----
        As :meth:`SparseReLURegressor.fit`, a fit that raises leaves the
        classifier unfitted.
        """
        return _fit_or_forget(self, X, y)

    def _fit(self, X, y):
        """:meth:`fit`, which may leave fitted attributes behind when it raises."""
        params = self.get_params()
        multi_class = validate_parameters(self._parameter_constraints, params)["multi_class"]
        del params["multi_class"]
        loss_fn = _softmax_loss if multi_class == "softmax" else _ovr_loss
        p = SparseReLURegressor(**params)._validated_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        check_numeric_input(X, "X")
        check_labels(y, "y")
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=1,
                             y_numeric=False)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least two classes; "
                             f"got only 1 class, {self.classes_[0]!r}")
        X = np.ascontiguousarray(X, dtype=np.float64)
        m, n = X.shape
        s, k = p["s"], p["k"]
        batch = min(p["batch_size"], m)
        # Besides the regressor's terms: the (m, C) one-hot targets and the
        # final loss's (m, C) temporaries, six such arrays at the peak
        # (measured: 5.0 for softmax, 6.0 for ovr).  Integer ids passed as
        # labels (30000 rows, 30000 classes) went on to allocate 40 GB.
        check_memory(8.0 * 4 * s * (n + 2 + n_classes) + 8.0 * batch * (n + 3 * s + 4
                                                                        + 3 * n_classes)
                     + 8.0 * 2 * min(m, _INIT_ROWS) * s + 8.0 * 6 * m * n_classes,
                     f"a fit of width {s} on {m} rows of {n} features and {n_classes} classes "
                     f"with batch_size {batch}", p["max_bytes"])
        Y = np.zeros((m, n_classes))
        Y[np.arange(m), labels] = 1.0
        rng = check_random_state(self.random_state)
        w, b, u = _initial_parameters(X, Y, s, k, p["W"], p["B"], rng)
        u_t = np.ascontiguousarray(u.T)
        c = np.zeros((1, n_classes))
        with _one_thread_all():
            self.loss_curve_ = _train(X, Y, w, b, u_t, c, p, batch, rng, loss_fn, 1.0,
                                      type(self).__name__)
        self.n_iter_ = len(self.loss_curve_)
        network = _finish_fit(self, X, w, b, np.ascontiguousarray(u_t.T), c[0], k, p)
        self.train_objective_ = loss_fn(network._forward(X), Y)[0]
        if not math.isfinite(self.train_objective_):
            raise _divergence_error(type(self).__name__, p, "non-finite training loss")
        return self

    def _logits(self, X):
        check_is_fitted(self)
        check_numeric_input(X, "X")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.network_(X)

    def predict_proba(self, X):
        r"""Class probabilities, shape ``(m, C)`` (columns as ``classes_``).

        With ``multi_class="softmax"`` the softmax of the logits; with
        ``"ovr"`` the one-vs-rest probabilities :math:`\sigma(h_t(x))`
        normalised to sum to 1 over the classes (scikit-learn's convention
        for one-vs-rest logistic regression).

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of float64, shape (m, C)
        """
        h = self._logits(X)
        if self.multi_class == "ovr":
            # sigma(h) normalised, from log sigma(h) = -log(1 + e^{-h}): the
            # ratios stay exact when every sigma(h_t) underflows (all logits
            # below about -38, where 0.5 * (1 + tanh(h / 2)) is exactly 0).
            e = -np.logaddexp(0.0, -h)
            e = np.exp(e - e.max(axis=1, keepdims=True))
        else:
            e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The class of largest logit (ties: the first in ``classes_``).

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def save(self, path) -> str:
        """Write the fitted classifier as an ``.npz`` archive; returns the path written.

        As :meth:`SparseReLURegressor.save` (format
        ``sparselearn.SparseReLUClassifier/1``), plus ``classes_``, which
        must be numbers, booleans or strings (object labels cannot be
        stored without pickle).

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        str
            The path written.

        Raises
        ------
        TypeError
            If ``classes_`` has an object dtype.
        """
        check_is_fitted(self)
        classes = np.asarray(self.classes_)
        if classes.dtype.kind not in _io.NUMERIC_KINDS + "U":
            raise TypeError(f"classes_ of dtype {classes.dtype} cannot be saved without "
                            "pickle; fit on numeric, boolean or string labels")
        return _save_estimator(self, path, _CLASSIFIER_FORMAT, classes=classes)

    @classmethod
    def load(cls, path) -> "SparseReLUClassifier":
        """Read a classifier written by :meth:`save` (``allow_pickle=False``).

        The rules and errors of :meth:`SparseReLURegressor.load`; the saved
        ``classes_`` must be distinct and as many as the network's outputs.

        Parameters
        ----------
        path : str or os.PathLike
            The saved classifier.

        Returns
        -------
        SparseReLUClassifier
        """
        return _load_estimator(cls, path, _CLASSIFIER_FORMAT, extra_keys=("classes",))


# ---------------------------------------------------------------- training
def _initial_parameters(X, y, s, k, W, B, rng):
    r"""Data-dependent start: each unit active on a ``min(k/s, 1/2)`` fraction of the data.

    Hidden weights are Gaussian scaled so that :math:`\langle w_j, x\rangle`
    has about unit variance on the data (then projected onto the ball of
    radius ``W``); each bias is the :math:`1 - \min(k/s, 1/2)` quantile of
    its unit's inner products on (a subsample of) the data, clipped to
    ``[-B, B]``.  The mean active count thus starts near ``k`` and a sparse
    fit does not begin dense; the cap at 1/2 keeps a large budget from
    starting with units active everywhere, where the network would be
    affine.  Outer weights are random signs times one magnitude, chosen so
    the initial output has the root mean square of ``y`` (at most 1, the
    class's bound): the first epochs fit the data instead of undoing a
    badly scaled start.
    """
    m, n = X.shape
    rows = X if m <= _INIT_ROWS else X[rng.choice(m, size=_INIT_ROWS, replace=False)]
    with np.errstate(over="ignore", under="ignore"):
        scale = math.sqrt(float(np.mean(np.einsum("ij,ij->i", rows, rows))))
    largest = float(np.max(np.abs(rows)))
    if not math.isfinite(scale) or (scale == 0.0 and largest > 0.0):
        # The squares overflowed (|x| beyond ~1e154) or underflowed: the same
        # RMS norm, computed on rows scaled by their largest entry.  (An
        # infinite scale made every weight 0: a network with no active unit.)
        scaled = rows / largest
        scale = largest * math.sqrt(float(np.mean(np.einsum("ij,ij->i", scaled, scaled))))
    w = rng.standard_normal((s, n)) / (scale if scale > 0.0 else 1.0)
    if W is not None:
        _project_rows(w, W)
    inner = rows @ w.T
    b = np.quantile(inner, 1.0 - min(k / s, 0.5), axis=0)
    if B is not None:
        np.clip(b, -B, B, out=b)
    b = np.ascontiguousarray(b)
    signs = rng.choice(np.array([-1.0, 1.0]), size=s if y.ndim == 1 else (s, y.shape[1]))
    output_rms = math.sqrt(float(np.mean((np.maximum(inner - b, 0.0) @ signs) ** 2)))
    y_rms = math.sqrt(float(np.mean(y * y)))
    magnitude = 0.5 if output_rms == 0.0 or y_rms == 0.0 else min(1.0, y_rms / output_rms)
    return np.ascontiguousarray(w), b, magnitude * signs


def _fit_or_forget(est, X, y):
    """``est._fit(X, y)``; if it raises, every fitted attribute of ``est`` (the
    names ``check_is_fitted`` looks for: ending in ``_``) is removed before
    the exception goes on: validate_data sets ``n_features_in_`` first, so an
    interrupted fit otherwise passed ``check_is_fitted`` and ``predict`` failed
    on the missing ``network_`` (or, after a refit, used the old network with
    the new feature count)."""
    try:
        return est._fit(X, y)
    except BaseException:
        for name in [name for name in vars(est)
                     if name.endswith("_") and not name.startswith("__")]:
            delattr(est, name)
        raise


def _finish_fit(est, X, w, b, u, c, k, p) -> SparseReLUNetwork:
    """After training: enforce the weight bound exactly, repair, build the
    network and certify it on the training set ``X``; sets the fitted
    attributes ``n_units_repaired_``, ``network_``, ``max_active_``,
    ``mean_active_``, ``norm_bounds_`` and ``in_class_`` of ``est``."""
    if p["W"] is not None:
        _enforce_weight_bound(w, p["W"])
    est.n_units_repaired_ = 0
    if p["repair"]:
        est.n_units_repaired_ = _repair(X, w, b, k, p["B"], p["max_bytes"])
    network = SparseReLUNetwork(w, b, u, c)
    # X was validated by fit: only the network-specific overflow test runs.
    network._check_magnitude(X)
    counts = network._activation_counts(X)
    est.network_ = network
    est.max_active_ = int(counts.max())
    est.mean_active_ = float(counts.mean())
    est.norm_bounds_ = network.norm_bounds()
    est.in_class_ = network._in_class(counts, k, p["W"], p["B"])
    if p["verbose"]:
        print(f"{type(est).__name__}: {est.n_units_repaired_} units repaired; on the "
              f"training set max active {est.max_active_} (k = {k}), norm bounds "
              f"W = {est.norm_bounds_[0]:.6g}, B = {est.norm_bounds_[1]:.6g}; "
              f"in class: {est.in_class_}")
    return network


def _enforce_weight_bound(w, radius):
    """Rescale the rows of ``w`` in place until every exact norm is at most ``radius``.

    The kernel's projection sums squares in its own order, and a float norm
    can round below ``radius`` while the exact norm exceeds it; the
    certificate checks the exact norm (``norm_bounds`` rounds it up), so the
    rows are projected onto a ball ``2^-40`` inside ``radius`` until it
    holds, which moves only rows whose norm is that close to the bound.
    Each further round doubles that gap, so the loop ends (within 41 rounds,
    the last projecting onto 0) even where scaling cannot move a row: a
    subnormal ``radius`` times ``1 - 2^-40`` rounds back to ``radius``.
    """
    gap = 2.0**-40
    while _round_up_scaled_norm(1.0, w) > radius:
        _project_rows(w, radius * (1.0 - gap))
        gap = min(1.0, 2.0 * gap)


def _project_rows(P, radius):
    """Rescale rows of ``P`` with norm above ``radius`` to just inside the ball."""
    norms = _row_norms(P)
    over = norms > radius
    P[over] *= (radius / norms[over] * (1.0 - 4 * np.finfo(float).eps))[:, None]


def _entry_sum(a, b) -> float:
    """``sum(a * b)`` over all entries of two ``(m, o)`` arrays.

    One column is summed by the BLAS dot of the two columns, the summation
    the single-output fit has always used, so its loss curve (and thus its
    stopping epoch) is reproduced to the last bit.
    """
    if a.shape[1] == 1:
        return float(a[:, 0] @ b[:, 0])
    return float(np.sum(a * b))


def _squared_loss(h, target):
    """``(1/2m) sum_i ||h_i - y_i||^2`` and its gradient with respect to ``h``."""
    residual = h - target
    mb = h.shape[0]
    return 0.5 * _entry_sum(residual, residual) / mb, residual / mb


def _correlation_loss(h, target):
    """``-(1/m) sum_i <y_i, h_i>`` and its gradient."""
    mb = h.shape[0]
    return -_entry_sum(target, h) / mb, -target / mb


def _softmax_loss(h, target):
    """Mean cross-entropy of ``softmax(h)`` against one-hot ``target``, and its gradient
    ``(softmax(h) - target) / m``."""
    mb = h.shape[0]
    shifted = h - h.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_norm
    return -float(np.sum(target * log_p)) / mb, (np.exp(log_p) - target) / mb


def _ovr_loss(h, target):
    r"""One-vs-rest loss :math:`\frac1m\sum_i\sum_t (\log(1 + e^{h_{it}}) - y_{it} h_{it})`
    against one-hot ``target``, and its gradient ``(sigmoid(h) - target) / m``."""
    mb = h.shape[0]
    softplus = np.logaddexp(0.0, h)
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * h))
    return float(np.sum(softplus - target * h)) / mb, (sigmoid - target) / mb


def _divergence_error(name, p, what) -> ValueError:
    """The error of a fit whose iterates left float64 (a learning rate far
    too large for the data's scale)."""
    return ValueError(f"{name}: training diverged ({what}); lower learning_rate (now "
                      f"{p['learning_rate']:g}), or standardise the features (StandardScaler) "
                      "and, for a regressor, the targets (TransformedTargetRegressor)")


def _train(X, Y, w, b, u_t, c, p, batch, rng, loss_fn, penalty_scale, name):
    r"""Projected minibatch Adam on ``(w, b, u, c)`` in place; returns the loss curve.

    The one training loop of both estimators, for ``o >= 1`` outputs on one
    shared hidden layer (a single-output fit is ``o = 1``: ``Y`` of shape
    ``(m, 1)``).  ``u_t`` holds the output weights transposed, shape
    ``(o, s)``, so each output's weights are a contiguous row for the
    kernels.  ``loss_fn(h, target)`` returns the minibatch loss and its
    gradient with respect to the outputs ``h`` (shape ``(m_b, o)``);
    ``penalty_scale`` is the :math:`\bar y` of the sparsity penalty and
    ``name`` the estimator named in the convergence warning.  The gradient of
    the hidden parameters is linear in the pairs :math:`(r_{\cdot t}, u_{\cdot t})`:
    with :math:`a_{ij} = [j\in K_i]\sum_t r_{it} u_{jt} + [j\in E_i]\lambda\bar y/m_b`,
    one call of the single-output backward kernel per output (the penalty
    in the first only) and a sum give it exactly.  ``u_t`` is projected
    entrywise onto :math:`|u_{jt}| \le 1` (the class's :math:`\max|u| \le 1`
    over all outputs, as in :meth:`SparseReLUNetwork.norm_bounds`).
    With ``p["solver"] == "lazy_adam"`` the gradients are computed in compact
    rows for the touched units only (units in the minibatch's supports) and
    only their rows of ``w``, ``b``, ``u_t`` and the moments are updated
    (the output bias ``c`` always is).
    """
    m, n = X.shape
    s, k, o = w.shape[0], p["k"], u_t.shape[0]
    radius_w = -1.0 if p["W"] is None else p["W"]
    radius_b = -1.0 if p["B"] is None else p["B"]
    penalty = p["penalty"] * penalty_scale
    blocks = [(w, radius_w), (b.reshape(s, 1), radius_b), (u_t.reshape(o * s, 1), 1.0)]
    if p["fit_intercept"]:
        blocks.append((c, -1.0))
    grads = [np.zeros_like(P) for P, _ in blocks]
    moments = [(np.zeros_like(P), np.zeros_like(P)) for P, _ in blocks]
    grad_w, grad_b, grad_u = grads[0], grads[1].reshape(s), grads[2].reshape(o, s)
    extra_w, extra_b = np.empty_like(grad_w), np.empty(s)

    Xb = np.empty((batch, n))
    G = np.empty((batch, s))
    counts = np.empty(batch, dtype=np.int64)
    indptr = np.zeros(batch + 1, dtype=np.int64)
    indices = np.empty(batch * s, dtype=np.int64)
    values = np.empty(batch * s)
    n_kept = np.empty(batch, dtype=np.int64)
    out = np.empty((o, batch))
    excess = np.empty(batch)

    # Per-minibatch Python overhead matters (the kernels take microseconds):
    # look the kernels and the rows of u_t up once.
    capped_output = _sparse_backprop.capped_output
    sparse_backward = _sparse_backprop.sparse_backward
    u_rows, cap = list(u_t), p["cap"]
    fused_supports = _sparse_backprop.fused_supports
    backward_touched = _sparse_backprop.sparse_backward_touched
    lazy_adam_step = _sparse_backprop.lazy_adam_step
    # p["_two_scans"]: the former count-then-rank scans (benchmarks, tests).
    two_scans, lazy = p.get("_two_scans", False), p["solver"] == "lazy_adam"
    touched = np.empty(s, dtype=np.int64)
    if lazy and o > 1:
        u_grad, u_index = np.empty((o * s, 1)), np.empty(o * s, dtype=np.int64)
        u_offsets = (s * np.arange(o, dtype=np.int64))[:, None]

    curve = []
    best, stalled, step_count = np.inf, 0, 0
    for epoch in range(p["max_epochs"]):
        order = rng.permutation(m)
        total = 0.0
        active_total = 0
        for start in range(0, m, batch):
            rows = order[start:start + batch]
            mb = rows.shape[0]
            np.take(X, rows, axis=0, out=Xb[:mb])
            np.matmul(Xb[:mb], w.T, out=G[:mb])
            if two_scans:
                # The former path (count, then rank), same result; kept for
                # benchmarks/compare_erm_step.py and the tests.
                _network.count_positive(G[:mb], b, counts[:mb])
                np.cumsum(counts[:mb], out=indptr[1:mb + 1])
                _sparse_backprop.ranked_supports(G[:mb], b, k, indptr[:mb + 1], indices,
                                                 values, n_kept[:mb])
            else:
                fused_supports(G[:mb], b, k, indptr[:mb + 1], indices, values, n_kept[:mb])
            ptr, kept = indptr[:mb + 1], n_kept[:mb]
            for t in range(o):
                capped_output(ptr, indices, values, kept, u_rows[t], cap, out[t, :mb],
                              excess[:mb])
            h = out[:, :mb].T + c[0]
            loss, R = loss_fn(h, Y[rows])
            R_t = np.ascontiguousarray(R.T)
            loss += penalty * float(excess[:mb].sum()) / mb
            if p["fit_intercept"]:
                grads[3][0] = R.sum(axis=0)
            step_count += 1
            step = (p["learning_rate"] * math.sqrt(1.0 - _BETA2 ** step_count)
                    / (1.0 - _BETA1 ** step_count))
            if lazy:
                # Gradients of the touched units only, in compact rows; each
                # equals the dense path's row to the bit.
                nt = backward_touched(Xb[:mb], R_t[0], u_rows[0], ptr, indices, values, kept,
                                      cap, penalty / mb, touched, grad_w, grad_b, grad_u[0])
                for t in range(1, o):
                    backward_touched(Xb[:mb], R_t[t], u_rows[t], ptr, indices, values, kept,
                                     cap, 0.0, touched, extra_w, extra_b, grad_u[t])
                    grad_w[:nt] += extra_w[:nt]
                    grad_b[:nt] += extra_b[:nt]
                ws, bs, us = moments[0], moments[1], moments[2]
                lazy_adam_step(w, grad_w, ws[0], ws[1], touched, nt, step, _BETA1, _BETA2,
                               _ADAM_EPS, radius_w)
                lazy_adam_step(blocks[1][0], grads[1], bs[0], bs[1], touched, nt, step, _BETA1,
                               _BETA2, _ADAM_EPS, radius_b)
                if o == 1:
                    lazy_adam_step(blocks[2][0], grads[2], us[0], us[1], touched, nt, step,
                                   _BETA1, _BETA2, _ADAM_EPS, 1.0)
                else:
                    # Row t * s + j of u_t.reshape(o * s, 1) is u_{jt}.
                    u_grad[:o * nt, 0] = grad_u[:, :nt].ravel()
                    u_index[:o * nt] = (u_offsets + touched[None, :nt]).ravel()
                    lazy_adam_step(blocks[2][0], u_grad, us[0], us[1], u_index, o * nt, step,
                                   _BETA1, _BETA2, _ADAM_EPS, 1.0)
                if p["fit_intercept"]:
                    _sparse_backprop.adam_step(c, grads[3], moments[3][0], moments[3][1], step,
                                               _BETA1, _BETA2, _ADAM_EPS, -1.0)
            else:
                sparse_backward(Xb[:mb], R_t[0], u_rows[0], ptr, indices, values, kept, cap,
                                penalty / mb, grad_w, grad_b, grad_u[0])
                for t in range(1, o):
                    sparse_backward(Xb[:mb], R_t[t], u_rows[t], ptr, indices, values, kept,
                                    cap, 0.0, extra_w, extra_b, grad_u[t])
                    grad_w += extra_w
                    grad_b += extra_b
                for (P, radius), grad, (m1, m2) in zip(blocks, grads, moments):
                    _sparse_backprop.adam_step(P, grad, m1, m2, step, _BETA1, _BETA2,
                                               _ADAM_EPS, radius)
            total += loss * mb
            active_total += int(indptr[mb])
        curve.append(total / m)
        if not all(np.isfinite(P).all() for P, _ in blocks):
            # Caught here, a diverged fit ended as "weights contains NaN or
            # infinite values" from the network built after training.
            raise _divergence_error(name, p, f"non-finite parameters after epoch {epoch + 1}")
        if p["verbose"]:
            print(f"epoch {epoch + 1}: objective {curve[-1]:.6g}, "
                  f"mean active units {active_total / m:.3g}")
        if curve[-1] > best - p["tol"]:
            stalled += 1
        else:
            stalled = 0
        best = min(best, curve[-1])
        if stalled >= p["n_iter_no_change"]:
            break
    else:
        warn_at_caller(f"{name}: max_epochs={p['max_epochs']} reached before "
                       f"the objective stopped improving by tol={p['tol']}; raise "
                       "max_epochs or tol", ConvergenceWarning)
    return curve


# ------------------------------------------------------------------ repair
def _repair(X, w, b, k, B, max_bytes) -> int:
    """Raise biases (in place) until no row of ``X`` has more than ``k`` active units.

    See the Notes of :class:`SparseReLURegressor`.  Returns the number of
    units changed.  A small repair (below ``network._PARALLEL_WORK``
    multiply-adds per round) runs on one thread, BLAS and OpenMP alike:
    waking second threads for it cost more than the work.
    """
    if X.shape[0] * w.shape[0] * (X.shape[1] + 8) >= _PARALLEL_WORK:
        return _repair_rounds(X, w, b, k, B, max_bytes)
    with _one_thread_all():
        return _repair_rounds(X, w, b, k, B, max_bytes)


def _repair_rounds(X, w, b, k, B, max_bytes) -> int:
    """:func:`_repair` with the thread pools as they are."""
    m, n = X.shape
    s = w.shape[0]
    rows_per_chunk = max(1, _CHUNK_BYTES // (8 * s))
    check_memory(8.0 * min(m, rows_per_chunk) * 3 * s, "the repair's row chunks", max_bytes)
    x_norm = float(np.max(_row_norms(X)))
    eps = np.finfo(float).eps
    changed = np.zeros(s, dtype=bool)
    for _ in range(_MAX_REPAIR_ROUNDS):
        target = np.full(s, -np.inf)
        # A unit counts as possibly active when its computed pre-activation
        # exceeds -margin, the rounding bound: every exactly active unit
        # (the certificate's definition) is then counted, so a repaired
        # network is certified, near-ties included.
        with np.errstate(over="ignore"):
            margin = 4.0 * (n + 2) * eps * (_row_norms(w) * x_norm + np.abs(b))
        b_test = b - margin
        for start in range(0, m, rows_per_chunk):
            G = np.ascontiguousarray(X[start:start + rows_per_chunk] @ w.T)
            counts = np.empty(G.shape[0], dtype=np.int64)
            _network.count_positive(G, b_test, counts)
            over = counts > k
            if not over.any():
                continue
            G = np.ascontiguousarray(G[over])
            indptr = np.zeros(G.shape[0] + 1, dtype=np.int64)
            np.cumsum(counts[over], out=indptr[1:])
            indices = np.empty(int(indptr[-1]), dtype=np.int64)
            values = np.empty(int(indptr[-1]))
            n_kept = np.empty(G.shape[0], dtype=np.int64)
            _sparse_backprop.ranked_supports(G, b_test, k, indptr, indices, values, n_kept)
            position = np.arange(indptr[-1]) - np.repeat(indptr[:-1], counts[over])
            is_excess = position >= np.repeat(n_kept, counts[over])
            units = indices[is_excess]
            # values = G - b_test, so G = values + b_test.
            np.maximum.at(target, units, values[is_excess] + b_test[units])
        to_fix = np.isfinite(target)
        if not to_fix.any():
            break
        changed |= to_fix
        # Rounding of <w_j, x> is at most about n eps ||w_j|| ||x||; twice
        # the margin puts the new pre-activation below -margin, so the unit
        # is surely (exactly) inactive there and the next round agrees.
        w_norm = _row_norms(w[to_fix])
        new_b = target[to_fix]
        new_b = new_b + 8.0 * (n + 2) * eps * (w_norm * x_norm + np.abs(new_b))
        if B is not None and np.any(new_b > B):
            above = new_b > B
            shrink = np.ones_like(new_b)
            shrink[above] = B / new_b[above]
            w[to_fix] *= shrink[:, None]
            new_b[above] = B
        b[to_fix] = new_b
    return int(changed.sum())


# ------------------------------------------------------------- persistence
# Fitted attributes stored as JSON, with their types (norm_bounds_ is
# recomputed from the network, and must agree with the stored value).
_FITTED_ATTRIBUTES = {"max_active_": int, "mean_active_": float, "in_class_": bool,
                      "train_objective_": float, "n_units_repaired_": int, "n_iter_": int,
                      "n_features_in_": int, "loss_curve_": list, "norm_bounds_": list}


def _save_estimator(est, path, format_tag, **extra) -> str:
    """Write a fitted SparseReLURegressor/Classifier (see their ``save``)."""
    import json

    check_is_fitted(est)
    params = {name: value.item() if isinstance(value, np.generic) else value
              for name, value in est.get_params().items()}
    state = params["random_state"]
    if not (state is None or isinstance(state, (int, np.integer))
            and not isinstance(state, bool)):
        params["random_state"] = None
    else:
        params["random_state"] = None if state is None else int(state)
    fitted = {name: getattr(est, name) for name in _FITTED_ATTRIBUTES}
    fitted["loss_curve_"] = [float(v) for v in fitted["loss_curve_"]]
    fitted["norm_bounds_"] = [float(v) for v in fitted["norm_bounds_"]]
    names = getattr(est, "feature_names_in_", None)
    net = est.network_
    return _io.save_npz(
        path, format=np.array(format_tag), params=np.array(json.dumps(params)),
        fitted=np.array(json.dumps(fitted)),
        feature_names=np.array([] if names is None else [str(v) for v in names], dtype=str),
        weights=net.weights, biases=net.biases, output_weights=net.output_weights,
        output_bias=np.array(net.output_bias), **extra)


def _load_estimator(cls, path, format_tag, extra_keys=()):
    """The estimator saved at ``path`` by :func:`_save_estimator`, every part checked."""
    import json

    string_keys = {"params", "fitted", "feature_names", *extra_keys}
    arrays = _io.load_archive(path, format_tag,
                              {"params", "fitted", "feature_names", "weights", "biases",
                               "output_weights", "output_bias", *extra_keys},
                              string_keys=string_keys)
    shown = _io.npz_path(path)
    try:
        documents = {}
        for key in ("params", "fitted"):
            if arrays[key].shape != () or arrays[key].dtype.kind != "U":
                raise ValueError(f"{key} must be one JSON string")
            try:
                documents[key] = json.loads(str(arrays[key]))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{key} is not valid JSON: {exc}") from None
            if not isinstance(documents[key], dict):
                raise ValueError(f"{key} must be a JSON object")
        params, fitted = documents["params"], documents["fitted"]
        expected = set(cls().get_params())
        if set(params) != expected:
            raise ValueError(f"the parameters must have the keys {sorted(expected)}, got "
                             f"{sorted(params)}")
        for name, value in params.items():
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise ValueError(f"parameter {name} must be a number, a string or null")
        est = cls(**params)
        if cls is SparseReLUClassifier:
            if est.multi_class not in _MULTI_CLASS:
                raise ValueError(f"multi_class must be one of {_MULTI_CLASS}")
            params = dict(params)
            del params["multi_class"]
        SparseReLURegressor(**params)._validated_params()
        if set(fitted) != set(_FITTED_ATTRIBUTES):
            raise ValueError(f"the fitted attributes must be {sorted(_FITTED_ATTRIBUTES)}")
        for name, kind in _FITTED_ATTRIBUTES.items():
            value = fitted[name]
            ok = (isinstance(value, kind) if kind is not float
                  else isinstance(value, (int, float)) and not isinstance(value, bool))
            if kind is int and isinstance(value, bool):
                ok = False
            if kind is list:
                ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                for v in value)
            if not ok:
                raise ValueError(f"fitted attribute {name} must be a JSON {kind.__name__}")
        bias = arrays["output_bias"]
        bias = float(bias) if bias.shape == () else bias
        network = SparseReLUNetwork(arrays["weights"], arrays["biases"],
                                    arrays["output_weights"], bias)
        if fitted["n_features_in_"] != network.n_features:
            raise ValueError(f"n_features_in_={fitted['n_features_in_']} but the network "
                             f"has {network.n_features} features")
        # Files saved before norm_bounds rounded up hold the float bounds,
        # off by the rounding of a float norm (up to about (n + 2) ulps, far
        # inside 2^-40 relative): they are read (and the exact bounds used);
        # a larger difference means the file was edited.
        if len(fitted["norm_bounds_"]) != 2 or not all(
                stored == bound or math.isclose(stored, bound, rel_tol=2.0**-40, abs_tol=0.0)
                for stored, bound in zip(fitted["norm_bounds_"], network.norm_bounds())):
            raise ValueError("the stored norm_bounds_ differ from the network's")
        if not 0 <= fitted["max_active_"] <= network.width:
            raise ValueError("max_active_ must lie in [0, width]")
        names = arrays["feature_names"]
        if names.ndim != 1 or (names.size and (names.dtype.kind != "U"
                                              or names.size != network.n_features)):
            raise ValueError("feature_names must be empty or one string per feature")
        if "classes" in arrays:
            classes = arrays["classes"]
            if (classes.ndim != 1 or classes.shape[0] < 2
                    or np.unique(classes).shape[0] != classes.shape[0]):
                raise ValueError("classes must hold at least two distinct labels")
            if network.n_outputs != classes.shape[0]:
                raise ValueError(f"{classes.shape[0]} classes but the network has "
                                 f"{network.n_outputs} outputs")
            est.classes_ = classes
    except (TypeError, ValueError) as exc:
        raise _io.UnreadableFileError(f"{shown}: not a saved {cls.__name__} ({exc})") from None
    for name in _FITTED_ATTRIBUTES:
        setattr(est, name, fitted[name])
    est.norm_bounds_ = network.norm_bounds()
    est.mean_active_ = float(est.mean_active_)
    est.train_objective_ = float(est.train_objective_)
    est.network_ = network
    if names.size:
        est.feature_names_in_ = names.astype(object)
    return est
