"""Tests for sparselearn.profile: the activation profile against a NumPy recount."""
import json

import numpy as np
import pytest
from strategies import exact_active

from sparselearn import SparseReLUNetwork
from sparselearn.profile import ActivationProfile, activation_profile, plot_activation_profile


def _network(rng, n=6, s=15):
    W = rng.integers(-8, 9, size=(s, n)) / 4.0
    b = rng.integers(-8, 9, size=s) / 4.0
    b[0] = 100.0          # never active on the data below: a dead unit
    W[1], b[1] = 0.0, -1.0  # <0, x> + 1 > 0 everywhere: always on
    return SparseReLUNetwork(W, b, rng.normal(size=s))


@pytest.mark.parametrize("chunk_rows", [None, 1, 7, 1000])
def test_profile_equals_numpy_recount(chunk_rows):
    rng = np.random.default_rng(0)
    net = _network(rng)
    X = rng.integers(-3, 4, size=(500, 6)).astype(float)
    active = exact_active(X, net.weights, net.biases)   # integer arithmetic
    counts = active.sum(axis=1)
    p = activation_profile(net, X, chunk_rows=chunk_rows)
    np.testing.assert_array_equal(p.histogram, np.bincount(counts, minlength=net.width + 1))
    assert p.n_samples == 500 and p.width == 15
    assert p.mean_active == counts.mean()
    assert p.max_active == counts.max()
    for q, c in p.quantiles.items():
        assert c == int(np.quantile(counts, q, method="inverted_cdf"))
    np.testing.assert_array_equal(p.firing_rates, active.mean(axis=0))
    assert 0 in p.dead_units.tolist() and 1 in p.always_on_units.tolist()
    np.testing.assert_array_equal(p.dead_units, np.flatnonzero(~active.any(axis=0)))
    np.testing.assert_array_equal(p.always_on_units, np.flatnonzero(active.all(axis=0)))
    assert p.touched_fraction == counts.mean() / 15


def test_profile_streams_a_memmap(tmp_path):
    rng = np.random.default_rng(1)
    net = _network(rng)
    X = rng.normal(size=(300, 6))
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    p = activation_profile(net, mapped, chunk_rows=64)
    np.testing.assert_array_equal(p.histogram, activation_profile(net, X).histogram)


def test_profile_result_text_dict_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(2)
    net = _network(rng)
    p = activation_profile(net, rng.normal(size=(50, 6)))
    d = json.loads(json.dumps(p.to_dict()))
    assert d["histogram"] == p.histogram.tolist() and d["max_active"] == p.max_active
    text = str(p)
    assert "width-15" in text and f"max {p.max_active}" in text
    import matplotlib
    matplotlib.use("Agg")
    figure = plot_activation_profile(p)
    figure.savefig(tmp_path / "profile.png")
    assert (tmp_path / "profile.png").stat().st_size > 0


def test_profile_text_of_a_wide_layer_shows_the_ends_of_the_histogram():
    # s = 400 units, rows with 0..399 active (unit j active at row i iff
    # j < i): 400 nonzero counts.  The text keeps the first and last six and
    # says how many it left out; to_dict keeps all of them.
    s = 400
    net = SparseReLUNetwork(np.ones((s, 1)), np.arange(s) + 0.5, np.ones(s))
    p = activation_profile(net, np.arange(s, dtype=float)[:, None])
    np.testing.assert_array_equal(p.histogram, np.r_[np.ones(s, dtype=int), 0])
    line = next(line for line in str(p).splitlines() if "histogram" in line)
    assert line.strip() == ("histogram      {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, "
                            "... 388 more counts ..., 394: 1, 395: 1, 396: 1, 397: 1, "
                            "398: 1, 399: 1}")
    assert p.to_dict()["histogram"] == [1] * s + [0]
    small = activation_profile(net, np.array([[0.0], [3.0], [3.0]]))
    assert "histogram      {0: 1, 3: 2}" in str(small)


def test_profile_validates_its_arguments():
    net = _network(np.random.default_rng(3))
    with pytest.raises(ValueError, match=r"shape \(m, 6\)"):
        activation_profile(net, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="no rows"):
        activation_profile(net, np.zeros((0, 6)))
    with pytest.raises(ValueError, match="finite"):
        activation_profile(net, np.full((2, 6), np.nan))
    with pytest.raises(TypeError, match="SparseReLUNetwork"):
        activation_profile("net", np.zeros((3, 6)))
    with pytest.raises(TypeError, match="ActivationProfile"):
        plot_activation_profile({})
    assert isinstance(activation_profile(net, np.zeros((1, 6))), ActivationProfile)


def test_profile_has_the_result_interface_and_a_short_repr():
    """Like the library's other results: to_frame() is the histogram as a
    table and the repr is one line of key figures (the dataclass's listed
    every firing rate: thousands of numbers at s = 4096)."""
    pd = pytest.importorskip("pandas")
    net = SparseReLUNetwork([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.0, 0.0, 5.0],
                            [1.0, 1.0, 1.0])
    p = activation_profile(net, [[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0], [2.0, 1.0]])
    frame = p.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("list") == {"active_units": [0, 1, 2, 3], "rows": [1, 1, 2, 0],
                                     "fraction": [0.25, 0.25, 0.5, 0.0]}
    assert repr(p) == ("ActivationProfile(n_samples=4, width=3, mean_active=1.25, "
                       "max_active=2, dead_units=1, always_on_units=0)")
    assert "<pre>" in p._repr_html_()
    wide = SparseReLUNetwork(np.eye(4096, 8), np.zeros(4096), np.ones(4096))
    assert len(repr(activation_profile(wide, np.ones((3, 8))))) < 200
