r"""Activation profile of a network on data: how sparse is it where the inputs live?

For a sample :math:`x_1, \dots, x_m` the profile records the exact active
counts :math:`|A(x_i)|` (network module notes: a unit is active when the
exact :math:`\langle w_j, x_i\rangle - b_j > 0`):

- the histogram :math:`H_c = \#\{i : |A(x_i)| = c\}`, :math:`c = 0..s`;
- the mean :math:`\frac1m\sum_i |A(x_i)|`, quantiles and maximum (the
  sparsity *on the sample*, a lower bound for any domain containing it);
- per-unit firing rates :math:`p_j = \frac1m\#\{i : j \in A(x_i)\}`, the
  dead units (:math:`p_j = 0`) and the always-on units (:math:`p_j = 1`);
- the fraction of the hidden layer a sparse forward pass touches,
  :math:`\frac{1}{ms}\sum_i |A(x_i)|` (mean count over width).

``X`` is read in row chunks (about 16 MiB of inner products each), so the
memory used does not grow with :math:`m`: a ``numpy.memmap`` of
:math:`10^7` rows is profiled in constant memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._results import ResultMixin, histogram_text
from ._validation import check_int, check_matrix
from .interop import _conversion_hint
from .network import SparseReLUNetwork

__all__ = ["ActivationProfile", "activation_profile", "plot_activation_profile"]

_CHUNK_BYTES = 16 * 2**20
_QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True, repr=False)
class ActivationProfile(ResultMixin):
    """Result of :func:`activation_profile` (see the module notes for the definitions).

    Attributes
    ----------
    n_samples, width : int
        :math:`m` and :math:`s`.
    histogram : ndarray of int64, shape (width + 1,)
        ``histogram[c]`` rows with exactly ``c`` active units.
    mean_active : float
    quantiles : dict of float to int
        ``{q: smallest c with at least q m rows having |A(x)| <= c}``
        (the inverted-CDF quantile of the counts), for q in 0.5, 0.9, 0.99.
    max_active : int
    firing_rates : ndarray of float64, shape (width,)
    dead_units, always_on_units : ndarray of int64
        Units that never / always fire on the sample.
    touched_fraction : float
        ``mean_active / width``.

    ``str()`` shows at most the first and last 6 nonzero histogram bins;
    :meth:`to_dict` keeps every one, and ``to_frame()`` is the histogram as
    a table (``active_units``, ``rows``, ``fraction``; one row per count
    ``0..width``).
    """

    n_samples: int
    width: int
    histogram: np.ndarray
    mean_active: float
    quantiles: dict
    max_active: int
    firing_rates: np.ndarray
    dead_units: np.ndarray
    always_on_units: np.ndarray
    touched_fraction: float

    def to_dict(self) -> dict:
        """Plain Python types (lists, ints, floats), ready for JSON.

        Returns
        -------
        dict
        """
        return {"n_samples": self.n_samples, "width": self.width,
                "histogram": self.histogram.tolist(), "mean_active": self.mean_active,
                "quantiles": {str(q): c for q, c in self.quantiles.items()},
                "max_active": self.max_active, "firing_rates": self.firing_rates.tolist(),
                "dead_units": self.dead_units.tolist(),
                "always_on_units": self.always_on_units.tolist(),
                "touched_fraction": self.touched_fraction}

    def _frame_records(self) -> list[dict]:
        return [{"active_units": c, "rows": int(rows), "fraction": int(rows) / self.n_samples}
                for c, rows in enumerate(self.histogram.tolist())]

    def __repr__(self) -> str:
        # The dataclass's own listed the histogram and every firing rate.
        return (f"ActivationProfile(n_samples={self.n_samples}, width={self.width}, "
                f"mean_active={self.mean_active:.4g}, max_active={self.max_active}, "
                f"dead_units={self.dead_units.size}, "
                f"always_on_units={self.always_on_units.size})")

    def __str__(self) -> str:
        quantiles = ", ".join(f"q{100 * q:g} {c}" for q, c in self.quantiles.items())
        histogram = histogram_text(self.histogram)
        return "\n".join([
            f"activation profile of a width-{self.width} network on {self.n_samples} rows",
            f"  active units   mean {self.mean_active:.4g}, {quantiles}, max {self.max_active}",
            f"  histogram      {{{histogram}}}",
            f"  dead units     {self.dead_units.size}, always on {self.always_on_units.size}",
            f"  sparse forward touches {100 * self.touched_fraction:.3g}% of the hidden layer",
        ])


def activation_profile(net, X, *, chunk_rows=None) -> ActivationProfile:
    """Profile the exact active supports of ``net`` on the rows of ``X``.

    Parameters
    ----------
    net : SparseReLUNetwork
    X : array_like of shape (m, n), m >= 1
        Any finite real inputs (an array, or a ``numpy.memmap`` read chunk by
        chunk).
    chunk_rows : int, optional
        Rows per chunk; by default about 16 MiB of inner products.

    Returns
    -------
    ActivationProfile

    Examples
    --------
    >>> import numpy as np
    >>> from sparselearn import SparseReLUNetwork
    >>> from sparselearn.profile import activation_profile
    >>> net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.0, 0.0, 5.0],
    ...                         [1.0, 1.0, 1.0])
    >>> p = activation_profile(net, [[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    >>> p.histogram.tolist(), p.max_active, p.dead_units.tolist()
    ([1, 1, 1, 0], 2, [2])
    """
    if not isinstance(net, SparseReLUNetwork):
        raise TypeError(f"net must be a SparseReLUNetwork, got {type(net).__name__}"
                        f"{_conversion_hint(net)}")
    if not (hasattr(X, "shape") and hasattr(X, "__getitem__")):
        X = np.asarray(X)
    if len(X.shape) != 2 or X.shape[1] != net.n_features:
        raise ValueError(f"X must have shape (m, {net.n_features}) for this network, got "
                         f"{tuple(X.shape)}")
    m, s = X.shape[0], net.width
    if m == 0:
        raise ValueError("X has no rows; the activation profile of an empty sample is "
                         "undefined")
    if chunk_rows is None:
        chunk_rows = max(1, _CHUNK_BYTES // (8 * max(s, net.n_features)))
    chunk_rows = check_int(chunk_rows, "chunk_rows", minimum=1)
    histogram = np.zeros(s + 1, dtype=np.int64)
    unit_counts = np.zeros(s, dtype=np.int64)
    for start in range(0, m, chunk_rows):
        chunk = check_matrix(X[start:start + chunk_rows], "X", n_columns=net.n_features,
                             exact=True)
        indptr, indices = net.active_supports(chunk)
        histogram += np.bincount(np.diff(indptr), minlength=s + 1)
        unit_counts += np.bincount(indices, minlength=s)
    total = int(np.dot(np.arange(s + 1, dtype=np.int64), histogram))
    cumulative = np.cumsum(histogram)
    # Inverted CDF: smallest c with cumulative[c] >= q m (integers: exact).
    quantiles = {q: int(np.searchsorted(cumulative, q * m, side="left"))
                 for q in _QUANTILES}
    mean = total / m
    return ActivationProfile(
        n_samples=int(m), width=int(s), histogram=histogram, mean_active=float(mean),
        quantiles=quantiles, max_active=int(np.flatnonzero(histogram)[-1]),
        firing_rates=unit_counts / m,
        dead_units=np.flatnonzero(unit_counts == 0).astype(np.int64),
        always_on_units=np.flatnonzero(unit_counts == m).astype(np.int64),
        touched_fraction=float(mean / s))


def plot_activation_profile(profile: ActivationProfile, *, axes=None, title=None):
    """Bar chart of the histogram of :math:`|A(x)|` and the sorted firing rates.

    Parameters
    ----------
    profile : ActivationProfile
        From :func:`activation_profile`.
    axes : sequence of two matplotlib.axes.Axes, optional
        Panels to draw on; a new figure is made if omitted.
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, two panels.
    """
    from ._plotting import import_pyplot

    if not isinstance(profile, ActivationProfile):
        raise TypeError("profile must be an ActivationProfile from activation_profile, got "
                        f"{type(profile).__name__}")
    plt = import_pyplot("plot_activation_profile")
    if axes is None:
        figure, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    else:
        figure = axes[0].figure
    left, right = axes
    left.bar(np.arange(profile.width + 1), profile.histogram / profile.n_samples, width=0.9)
    left.axvline(profile.mean_active, color="black", linestyle="--", linewidth=1,
                 label=f"mean {profile.mean_active:.3g}")
    left.set_xlabel("active units |A(x)|")
    left.set_ylabel("fraction of rows")
    left.legend()
    right.plot(np.sort(profile.firing_rates)[::-1], drawstyle="steps-post")
    right.set_xlabel("unit (sorted by firing rate)")
    right.set_ylabel("firing rate")
    right.set_ylim(0.0, 1.0)
    figure.suptitle(title if title is not None else
                    f"width {profile.width}: {profile.dead_units.size} dead, "
                    f"{profile.always_on_units.size} always on")
    figure.tight_layout()
    return figure
