"""Plots of the PAC results: sample-complexity curves and sweeps (matplotlib optional)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _plotting
from ._results import SampleComplexityResult, SweepResult, _plain


# One marker per line of plot_sweep, so lines drawn on top of each other
# stay distinguishable.
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
# Width of a tick label's character, in ems (digits are about 0.6 em wide in
# matplotlib's default font), and the gap kept between two labels.
_DIGIT_EMS = 0.6
_LABEL_GAP_EMS = 1.0


def plot_sample_complexity(result, ax=None, label=None, **kwargs):
    """Plot a :class:`SampleComplexityResult`: ``m*`` against the parameter.

    Each found ``m*`` is a marker with an error bar down to the bracket's
    lower end (the largest failing ``m`` tried), on a logarithmic ``m``
    axis.  A parameter value whose search never passed is drawn as an upward
    triangle at the largest ``m`` tried; one the pre-flight skipped (``eps``
    out of the class's reach, no ``m`` tried) as a gray ``x`` on the bottom
    edge, "not searched (infeasible)" in the legend.

    Parameters
    ----------
    result : SampleComplexityResult
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.
    label : str, optional
        Legend label for the curve.
    **kwargs
        Style keywords passed to :meth:`matplotlib.axes.Axes.errorbar`: its
        own (``fmt``, ``capsize``...) and :class:`~matplotlib.lines.Line2D`
        properties (``color``, ``linewidth``...); not ``yerr``, which the
        bracket sets.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install sparselearn[plot]``).
    TypeError
        If ``result`` is not a :class:`SampleComplexityResult`, or a keyword
        is none of the above (the error names it and lists those accepted).
    """
    if not isinstance(result, SampleComplexityResult):
        raise TypeError("result must be a SampleComplexityResult from "
                        f"sample_complexity_curve, got {type(result).__name__}")
    _plotting.check_style_keywords("plot_sample_complexity", kwargs,
                                   ("result", "ax", "label"), reserved=("yerr",))
    ax = _plotting.axes("plot_sample_complexity", ax, figsize=(5.0, 3.5))
    found = [i for i, m in enumerate(result.min_samples) if m is not None]
    # Not reached: searched up to its largest m without passing.  Not
    # searched: the pre-flight found eps out of the class's reach, so there
    # is no m to draw (it has no evaluations).
    missing = [i for i, m in enumerate(result.min_samples)
               if m is None and result.evaluations[i]]
    skipped = [i for i, m in enumerate(result.min_samples)
               if m is None and not result.evaluations[i]]
    numeric = all(isinstance(_plain(p), numbers.Real) for p in result.params)
    xs = ([_plain(p) for p in result.params] if numeric
          else list(range(len(result.params))))
    if found:
        x = [xs[i] for i in found]
        y = np.array([result.min_samples[i] for i in found], dtype=float)
        low = np.array([result.lower_brackets[i] or result.min_samples[i] for i in found],
                       dtype=float)
        style = {"marker": "o", "capsize": 3} | kwargs
        ax.errorbar(x, y, yerr=[y - low, np.zeros_like(y)], label=label, **style)
    if missing:
        top = [result.evaluations[i][-1].n_samples for i in missing]
        ax.plot([xs[i] for i in missing], top, linestyle="none", marker="^",
                color="gray", label="not reached (largest m tried)")
    if skipped:
        # On the bottom spine (x in data, y in axes coordinates), as
        # plot_sweep marks a point without trials: an annotation, not an m.
        ax.plot([xs[i] for i in skipped], np.zeros(len(skipped)),
                transform=ax.get_xaxis_transform(), linestyle="none", marker="x",
                markersize=8, color="gray", clip_on=False,
                label="not searched (infeasible)")
    if not numeric:
        ax.set_xticks(xs, [str(p) for p in result.params])
    ax.set_yscale("log")
    ax.set_xlabel(result.param_name)
    ax.set_ylabel("smallest m")
    ax.set_title(f"Pr[error <= eps] >= {1 - result.delta:g} ({result.criterion}, "
                 f"{result.trials} trials)", fontsize="medium")
    if label is not None or missing or skipped:
        ax.legend(fontsize="small")
    return ax

def plot_sweep(result, x="n_samples", y="success_fraction", ax=None, **kwargs):
    """Plot a :class:`SweepResult` against one grid parameter.

    One line per combination of the values of the other parameters that
    vary (those with one value are named in the title), each with its own
    marker; with several lines the points are shifted sideways by a few
    percent of the axis (``x`` values themselves are in the result's table)
    so that coinciding lines stay visible.  With
    ``y="success_fraction"`` each point carries its Clopper-Pearson interval
    as an error bar and a dashed line, in the legend, marks the target
    :math:`1 - \\delta`; with an error column (``"mean_error"``,
    ``"median_error"``, ``"max_error"``, absolute errors) the axis is
    logarithmic and the dashed line marks the tolerance: ``eps`` times the
    points' :math:`\\mathbb{E}[f^2]` (their median, so labelled, when they
    differ) for ``eps`` relative to it, ``eps`` itself for
    ``eps_scale="absolute"``, none for an agnostic sweep (each trial's
    tolerance sits above its own target's best error); and a point whose
    error is exactly 0 (an exact fit) is a gray triangle on the bottom edge.
    A point without trials (skipped by the pre-flight: ``eps`` out of the
    class's reach) has no value to plot: it is marked by a gray ``x`` on the
    bottom edge at its ``x``, in the legend as "no trials (infeasible)" with
    its line's parameters, never drawn as 0.  A figure made here (``ax``
    omitted) is laid out so that the axis labels fit.

    Parameters
    ----------
    result : SweepResult
    x : str, default="n_samples"
        A numeric grid parameter for the horizontal axis (logarithmic for
        ``n_samples``, ticked at the sample sizes of the grid, as many as
        fit without their labels crowding).
    y : {"success_fraction", "mean_error", "median_error", "max_error"}
        The column to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.
    **kwargs
        Style keywords passed to :meth:`matplotlib.axes.Axes.errorbar`: its
        own (``fmt``, ``capsize``...) and :class:`~matplotlib.lines.Line2D`
        properties (``color``, ``linewidth``...); not ``label`` (each line
        is labelled with its parameters) or ``yerr`` (the intervals).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install sparselearn[plot]``).
    TypeError
        If ``result`` is not a :class:`SweepResult`, or a keyword is none of
        the above (the error names it and lists those accepted).
    ValueError
        If ``x`` or ``y`` is not a column it can plot.
    """
    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult from verify_sweep, got "
                        f"{type(result).__name__}")
    if x not in result.param_names:
        raise ValueError(f"x must be one of the grid parameters {list(result.param_names)}, "
                         f"got {x!r}")
    records = result.to_records()
    if not all(isinstance(r[x], numbers.Real) and not isinstance(r[x], bool)
               for r in records):
        raise ValueError(f"x={x!r} must be a numeric grid parameter")
    errors = ("mean_error", "median_error", "max_error")
    if y not in ("success_fraction",) + errors:
        raise ValueError(f"y must be 'success_fraction' or one of {errors}, got {y!r}")
    _plotting.check_style_keywords("plot_sweep", kwargs, ("result", "x", "y", "ax"),
                                   reserved=("label", "yerr"))
    new_figure = ax is None
    ax = _plotting.axes("plot_sweep", ax, figsize=(5.0, 3.5))
    # One line per combination of the parameters that vary besides x; the
    # fixed ones go into the title.
    values = {name: {repr(r[name]) for r in records} for name in result.param_names}
    others = [name for name in result.param_names if name != x and len(values[name]) > 1]
    fixed = [f"{name}={records[0][name]}" for name in result.param_names
             if name != x and len(values[name]) == 1]
    groups = {}
    for record in records:
        groups.setdefault(tuple(record[name] for name in others), []).append(record)
    log_x = x == "n_samples"
    span = np.ptp([float(r[x]) for r in records]) or 1.0
    exact = []  # x of the points whose error column is 0 (off a log axis)
    for index, (key, rows) in enumerate(groups.items()):
        rows = sorted((r for r in rows if r["trials"] > 0), key=lambda r: r[x])
        if not rows:
            continue
        # Sideways shift of line `index`: 2.5% of a decade (a factor 1.06)
        # on the log axis, 1.5% of the range on a linear one, centred.
        shift = (index - (len(groups) - 1) / 2) if len(groups) > 1 else 0.0
        xs = [r[x] * 10 ** (0.025 * shift) if log_x else r[x] + 0.015 * span * shift
              for r in rows]
        ys = np.array([r[y] for r in rows])
        label = ", ".join(f"{name}={value}" for name, value in zip(others, key)) or None
        if y == "success_fraction":
            yerr = [ys - [r["ci_lower"] for r in rows], [r["ci_upper"] for r in rows] - ys]
        else:
            yerr = None
            # An error of exactly 0 (an exact fit) has no place on the log
            # axis (matplotlib drew it near 1e-32): a gap in the line, and
            # a mark on the bottom edge below.
            exact.extend(xv for xv, yv in zip(xs, ys) if yv <= 0)
            ys = np.where(ys > 0, ys, np.nan)
        style = {"marker": _MARKERS[index % len(_MARKERS)], "capsize": 3, "alpha": 0.85,
                 "markersize": 7 - 1.5 * (index % 3)}
        ax.errorbar(xs, ys, yerr=yerr, label=label, **(style | kwargs))
    skipped = [r for r in records if r["trials"] == 0]
    if skipped:
        # On the bottom spine (x in data, y in axes coordinates): an
        # annotation of the axis, not a value on it.
        lines = sorted({", ".join(f"{name}={r[name]}" for name in others) for r in skipped})
        ax.plot(sorted({r[x] for r in skipped}), np.zeros(len({r[x] for r in skipped})),
                transform=ax.get_xaxis_transform(), linestyle="none", marker="x",
                markersize=8, color="gray", clip_on=False,
                label="no trials (infeasible)" + (": " + "; ".join(lines) if others else ""))
    if exact:
        ax.plot(exact, np.zeros(len(exact)), transform=ax.get_xaxis_transform(),
                linestyle="none", marker="v", markersize=8, color="gray", clip_on=False,
                label=f"{y.replace('_', ' ')} 0 (exact fit)")
    if y == "success_fraction":
        ax.axhline(1 - result.delta, color="gray", linestyle="--", linewidth=1,
                   label=f"target 1 - delta = {1 - result.delta:g}")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(f"Pr[error <= {result.eps:g}{' E[f^2]' if _relative(result) else ''}]")
    else:
        level, text = _error_threshold(result, records)
        if level is not None:
            ax.axhline(level, color="gray", linestyle="--", linewidth=1, label=text)
        ax.set_yscale("log")
        ax.set_ylabel(y.replace("_", " "))
    if x == "n_samples":
        ax.set_xscale("log")
        _tick_grid_values(ax, sorted({r[x] for r in records}))
    ax.set_xlabel(x)
    ax.set_title(", ".join(fixed + [f"{result.trials} trials per point"]),
                 fontsize="medium")
    if ax.get_legend_handles_labels()[0]:  # one unlabelled line and no threshold: none
        ax.legend(fontsize="small")
    if new_figure:
        ax.figure.tight_layout()  # the x-label inside the figure
    return ax


def _relative(result) -> bool:
    """Whether the sweep read ``eps`` relative to each target's E[f^2]."""
    return all(r.eps_scale == "relative" for r in result.results)


def _error_threshold(result, records):
    """The dashed line of an error column: ``(level, legend text)``, or
    ``(None, None)`` where no one level is the tolerance.

    The columns are absolute errors; a relative sweep's tolerance is
    ``eps`` times each target's E[f^2], so the line is drawn at ``eps`` only
    for an absolute sweep, at ``eps x E[f^2]`` when the points share one
    E[f^2] (a scaled target family, a fixed network) and at ``eps`` times
    their median E[f^2] otherwise, labelled as such.  An agnostic sweep's
    tolerance is above each trial's own best error in the class: no line.
    """
    if any(r.agnostic for r in result.results):
        return None, None
    if not _relative(result):
        return result.eps, f"eps = {result.eps:g}"
    norms = np.array([r["mean_target_norm"] for r in records if r["trials"] > 0])
    if not norms.size:
        return None, None
    median = float(np.median(norms))
    shared = np.allclose(norms, median, rtol=1e-6, atol=0.0)
    level = result.eps * median
    return level, (f"eps x E[f^2] = {level:.3g}" if shared
                   else f"eps x median E[f^2] = {level:.3g}")


def _tick_grid_values(ax, values):
    """Major ticks of a logarithmic x axis at the grid's own ``values``, labelled
    as plain numbers, minor ticks unlabelled.

    matplotlib labels the minor ticks of a log axis spanning less than about
    a decade (``2x10^2``, ``3x10^2``, ``4x10^2`` crowd into one another over
    100..800); the sample sizes tried are the positions worth reading.  They
    are thinned from the left so that neighbouring labels keep a gap of one
    em: a value is skipped when its label would come closer than that to
    the last one kept, at the axes' current width and limits.
    """
    import matplotlib.ticker as ticker

    # Integers in full (":g" would print 1000000 as 1e+06).
    labels = [str(value) if isinstance(value, numbers.Integral) else f"{value:g}"
              for value in values]
    logs = np.log10(np.asarray(values, dtype=float))
    # The axis's own span (margins and any other data on it included), not
    # the grid's: the points per decade the labels really get.
    ax.autoscale_view()
    low, high = ax.get_xlim()
    span = float(np.log10(high) - np.log10(low)) if low > 0 and high > low else 0.0
    kept = [0]
    if span > 0 and logs[-1] > logs[0]:
        figure = ax.figure
        width_points = ax.get_position().width * figure.get_figwidth() * 72.0
        size = ax.xaxis.get_major_ticks()[0].label1.get_fontsize()  # points
        for i in range(1, len(values)):
            last = kept[-1]
            # Centre-to-centre distance the two labels need, in points.
            needed = size * (_DIGIT_EMS * (len(labels[last]) + len(labels[i])) / 2
                             + _LABEL_GAP_EMS)
            if (logs[i] - logs[last]) / span * width_points >= needed:
                kept.append(i)
    ax.set_xticks([values[i] for i in kept], [labels[i] for i in kept])
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
