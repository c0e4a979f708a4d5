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
