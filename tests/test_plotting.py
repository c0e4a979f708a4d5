"""Tests for sparselearn._plotting: the lazy matplotlib import and the axes
helper every plotting function starts with."""
import sys

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
