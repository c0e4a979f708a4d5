"""Tests for sparselearn._plotting: the lazy matplotlib import and the axes
helper every plotting function starts with."""
import sys

import numpy as np
import pytest

from sparselearn import _plotting


def test_axes_returns_the_callers_axes_or_a_new_figures():
    plt = pytest.importorskip("matplotlib.pyplot")
    plt.close("all")
    figure, given = plt.subplots()
    try:
        assert _plotting.axes("test", given) is given
        assert len(plt.get_fignums()) == 1  # no figure made for given axes
        new = _plotting.axes("test", figsize=(3.0, 2.0))
        assert new is not given
        assert tuple(new.figure.get_size_inches()) == (3.0, 2.0)
    finally:
        plt.close("all")


def test_missing_matplotlib_names_the_caller_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"plot_sweep needs matplotlib.*sparselearn\[plot\]"):
        _plotting.axes("plot_sweep")


def _sweep_result():
    """A real (tiny) sweep: two sparsities of junta-sum targets, both learned
    exactly (degree 2 covers juntas of 2 bits), so their lines coincide."""
    import functools

    from sparselearn import pac

    return pac.verify_sweep(functools.partial(pac.low_degree_learner, degree=2),
                            pac.junta_sum_target,
                            {"n_features": [6], "width": [4, 8], "sparsity": [2],
                             "n_samples": [40, 160]}, 0.1, 0.1, 2, random_state=0)


def test_plot_sweep_keeps_coinciding_lines_visible_and_labels_the_target_line():
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import plot_sweep

    plt.close("all")
    result = _sweep_result()
    try:
        ax = plot_sweep(result)
        lines = [container.lines[0] for container in ax.containers]
        assert len(lines) == 2
        # Identical success fractions, yet different markers and x positions.
        assert lines[0].get_marker() != lines[1].get_marker()
        assert not np.array_equal(lines[0].get_xdata(), lines[1].get_xdata())
        xs = [np.asarray(line.get_xdata(), dtype=float) for line in lines]
        np.testing.assert_allclose(xs[0] / xs[1], 10 ** -0.025)  # 2.5% of a decade apart
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert "target 1 - delta = 0.9" in labels
        # The x-label lies inside the figure (it was cut at the bottom).
        figure = ax.figure
        figure.canvas.draw()
        box = ax.xaxis.label.get_window_extent()
        assert box.y0 >= 0 and box.x1 <= figure.bbox.x1
    finally:
        plt.close("all")


def test_degree_profile_has_integer_ticks_and_a_title():
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn import fourier
    from sparselearn.targets import bump_network

    plt.close("all")
    try:
        ax = fourier.plot_degree_profile(fourier.spectrum(bump_network(9, 4, 2,
                                                                       random_state=0)))
        ax.figure.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
        assert ax.get_title()
        _, given = plt.subplots()
        given.set_title("mine")
        assert fourier.plot_degree_profile(np.ones(8), ax=given).get_title() == "mine"
    finally:
        plt.close("all")


def test_plot_sweep_names_an_unknown_keyword_and_lists_the_accepted_ones():
    """`plot_sweep(result, hue="x")` reached Line2D.set, whose AttributeError
    named neither plot_sweep nor what it takes; now a TypeError does both,
    before any figure is made.  A known style keyword still applies."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import plot_sweep

    plt.close("all")
    result = _sweep_result()
    try:
        with pytest.raises(TypeError, match=r"plot_sweep\(\) got an unexpected keyword "
                                            r"argument 'hue'; it takes result, x, y, ax, "
                                            r"the keywords of matplotlib's Axes.errorbar "
                                            r"\(.*capsize.*\) and Line2D properties "
                                            r"\(.*color.*linewidth.*\)"):
            plot_sweep(result, hue="x")
        with pytest.raises(TypeError, match=r"'colour' \(did you mean 'color'\?\)"):
            plot_sweep(result, colour="k")
        for reserved in ("label", "yerr"):  # set per line by plot_sweep itself
            with pytest.raises(TypeError, match=rf"plot_sweep\(\) sets {reserved}= itself"):
                plot_sweep(result, **{reserved: None})
        assert plt.get_fignums() == []  # refused before drawing
        ax = plot_sweep(result, color="black", lw=2.5, capsize=5)
        lines = [container.lines[0] for container in ax.containers]
        assert [line.get_linewidth() for line in lines] == [2.5, 2.5]
        assert {line.get_color() for line in lines} == {"black"}
    finally:
        plt.close("all")


def test_plot_sweep_names_an_ax_that_is_not_axes():
    """ax="notanaxes" failed inside the drawing with an AttributeError; a
    TypeError names ax and what it takes, before any figure is made."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import plot_sweep

    plt.close("all")
    try:
        with pytest.raises(TypeError, match=r"plot_sweep\(\): ax must be a matplotlib Axes "
                                            r"\(or None for a new figure\), got str"):
            plot_sweep(_sweep_result(), ax="notanaxes")
        assert plt.get_fignums() == []
    finally:
        plt.close("all")


def test_plot_sample_complexity_checks_its_keywords_alike():
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import SampleComplexityResult, plot_sample_complexity

    curve = SampleComplexityResult("k", (1, 2), (0.5, 0.5), 0.1, 0.95, "consistent", 0.0,
                                   3, (40, 80), (20, None), ((), ()))
    plt.close("all")
    try:
        with pytest.raises(TypeError, match=r"plot_sample_complexity\(\) got an unexpected "
                                            r"keyword argument 'hue'; it takes result, ax, "
                                            "label, the keywords"):
            plot_sample_complexity(curve, hue="k")
        with pytest.raises(TypeError, match=r"plot_sample_complexity\(\) sets yerr= itself"):
            plot_sample_complexity(curve, yerr=1)
        assert plt.get_fignums() == []
        line = plot_sample_complexity(curve, color="red", ms=9).get_lines()[0]
        assert line.get_color() == "red" and line.get_markersize() == 9
    finally:
        plt.close("all")


def _shown_x_tick_labels(ax):
    """The x tick labels drawn (major and minor, non-empty, inside the view),
    with their boxes on the canvas."""
    ax.figure.canvas.draw()
    low, high = ax.get_xlim()
    shown = []
    for minor in (False, True):
        ticks = ax.xaxis.get_minor_ticks() if minor else ax.xaxis.get_major_ticks()
        for tick in ticks:
            label = tick.label1
            if (label.get_visible() and label.get_text() and tick.get_visible()
                    and low <= tick.get_loc() <= high):
                shown.append((label.get_text(), label.get_window_extent()))
    return shown


@pytest.mark.parametrize("sizes", [[100, 200, 400, 800],  # the docs' sweep
                                   [20, 24, 30, 40, 60, 80, 120, 160, 320, 640, 1280, 2560,
                                    5120, 10240, 20480]])
def test_plot_sweep_x_tick_labels_keep_apart(sizes):
    """Over 100..800 matplotlib labelled the minor ticks of the log axis
    (2x10^2, 3x10^2, 4x10^2 ran into one another); the sample sizes tried are
    now the labels, plain numbers, thinned where they would crowd."""
    import functools

    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn import pac

    plt.close("all")
    result = pac.verify_sweep(functools.partial(pac.low_degree_learner, degree=1),
                              pac.junta_sum_target,
                              {"n_features": [4], "width": [4], "sparsity": [1, 2],
                               "n_samples": sizes}, 0.5, 0.1, 1, random_state=0,
                              preflight=False)
    try:
        ax = pac.plot_sweep(result)
        shown = _shown_x_tick_labels(ax)
        shown.sort(key=lambda item: item[1].x0)
        texts = [text for text, _ in shown]
        # Neighbouring labels at least half an em apart (before, 3x10^2 and
        # 4x10^2 were 0.2 pixels apart: one unreadable run of text).
        em = ax.xaxis.get_major_ticks()[0].label1.get_fontsize() * ax.figure.dpi / 72
        gaps = [b.x0 - a.x1 for (_, a), (_, b) in zip(shown, shown[1:])]
        assert min(gaps, default=em) >= em / 2, list(zip(texts, gaps))
        assert texts[0] == str(sizes[0]) and set(texts) <= {str(m) for m in sizes}
        assert len(texts) >= min(len(sizes), 4)  # thinned, not emptied
    finally:
        plt.close("all")


def test_plot_sweep_marks_an_exact_fit_on_the_log_axis_edge():
    """An error column of exactly 0 (an exact fit) cannot be drawn on the
    logarithmic axis (matplotlib put it near 1e-32, far below the others):
    the line has a gap there and a gray triangle on the bottom edge, in the
    legend; the positive points keep their values."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import plot_sweep

    plt.close("all")
    result = _sweep_result()
    records = result.to_records()
    records[0]["median_error"] = 0.0  # the first point fitted exactly

    class ExactFirst(type(result)):
        def to_records(self):
            return [dict(r) for r in records]

    exact = ExactFirst.__new__(ExactFirst)
    exact.__dict__.update(result.__dict__)
    try:
        ax = plot_sweep(exact, y="median_error")
        marks = [line for line in ax.get_lines() if line.get_marker() == "v"]
        assert len(marks) == 1 and marks[0].get_label() == "median error 0 (exact fit)"
        assert list(marks[0].get_ydata()) == [0.0]  # in axes coordinates: the bottom edge
        drawn = np.concatenate([c.lines[0].get_ydata() for c in ax.containers])
        assert np.isnan(drawn).sum() == 1 and np.nanmin(drawn) > 1e-31
        assert "median error 0 (exact fit)" in [t.get_text() for t in ax.get_legend().texts]
    finally:
        plt.close("all")


def test_plot_sample_complexity_marks_a_value_the_preflight_skipped():
    """A parameter value whose eps is out of its class's reach is not
    searched (no evaluations): the plot raised IndexError looking for its
    largest m; it is a gray x on the bottom edge, in the legend, and the
    other values keep their m*."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn.pac import Evaluation, SampleComplexityResult, plot_sample_complexity

    runs = (Evaluation(40, 1, 3, (0.0, 0.9), False, 0.6),
            Evaluation(80, 3, 3, (0.3, 1.0), True, 0.2))
    curve = SampleComplexityResult("k", (1, 2, 3), (0.5,) * 3, 0.1, 0.95, "consistent", 0.0,
                                   3, (80, None, None), (40, None, None),
                                   (runs, (), runs[:1]), ({}, {"feasible": False}, {}))
    plt.close("all")
    try:
        ax = plot_sample_complexity(curve)
        skipped = [line for line in ax.get_lines() if line.get_marker() == "x"]
        assert len(skipped) == 1 and skipped[0].get_label() == "not searched (infeasible)"
        assert list(skipped[0].get_xdata()) == [2] and list(skipped[0].get_ydata()) == [0.0]
        reached = [line for line in ax.get_lines() if line.get_marker() == "^"]
        assert list(reached[0].get_xdata()) == [3] and list(reached[0].get_ydata()) == [40]
        assert list(ax.containers[0].lines[0].get_ydata()) == [80]
        legend = [t.get_text() for t in ax.get_legend().texts]
        assert "not searched (infeasible)" in legend
        alone = SampleComplexityResult("k", (1,), (0.5,), 0.1, 0.95, "consistent", 0.0, 3,
                                       (None,), (None,), ((),), ({"feasible": False},))
        assert len(plot_sample_complexity(alone).get_lines()) == 1
    finally:
        plt.close("all")


def test_plot_sweep_draws_the_relative_tolerance_on_an_error_axis():
    """The error columns are absolute errors, while eps is relative to
    E[f^2]: for a network with E[f^2] = 4 the dashed line said "eps = 0.1"
    at 0.1, a quarter of the tolerance the trials were judged by.  It is at
    eps x E[f^2], so labelled; an absolute sweep keeps eps; an agnostic one
    (tolerance above each trial's own best) draws none."""
    import functools

    plt = pytest.importorskip("matplotlib.pyplot")
    from sparselearn import pac
    from sparselearn.network import SparseReLUNetwork
    from sparselearn.targets import junta_sum_network

    one = junta_sum_network(6, 2, 2, random_state=0)  # E[f^2] = 1
    net = SparseReLUNetwork(one.weights, one.biases, 2.0 * one.output_weights,
                            2.0 * one.output_bias)    # E[f^2] = 4

    def sweep(**kwargs):
        return pac.verify_sweep(functools.partial(pac.low_degree_learner, degree=2),
                                lambda point, rng: net, {"n_samples": [20, 80]}, 0.1, 0.1,
                                2, noise=0.5, random_state=0, **kwargs)

    def dashed(ax):
        return [(line.get_ydata()[0], line.get_label()) for line in ax.get_lines()
                if line.get_linestyle() == "--"]

    plt.close("all")
    try:
        relative = sweep(eps_scale="relative")
        norms = [r["mean_target_norm"] for r in relative.to_records()]
        np.testing.assert_allclose(norms, 4.0, rtol=1e-12)
        (level, label), = dashed(pac.plot_sweep(relative, y="median_error"))
        assert level == pytest.approx(0.4) and label == "eps x E[f^2] = 0.4"
        assert pac.plot_sweep(relative).get_ylabel() == "Pr[error <= 0.1 E[f^2]]"
        (level, label), = dashed(pac.plot_sweep(sweep(eps_scale="absolute"), y="max_error"))
        assert level == 0.1 and label == "eps = 0.1"
        assert dashed(pac.plot_sweep(sweep(eps_scale="relative", agnostic=True),
                                     y="median_error")) == []
    finally:
        plt.close("all")
