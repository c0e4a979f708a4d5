"""The distributed fit's worker-side helpers (sparselearn/_distributed.py);
the fits on a LocalCluster are tested with the estimators in test_learners.py."""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

# A child process with dask's worker setting, counting the minor page faults
# of two products before and after the tuning.
_CHILD = textwrap.dedent("""
    import resource
    import numpy as np
    from sparselearn import _distributed
    from sparselearn.parities import ParityDesign, pack_cube

    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(4096, 64))
    design = ParityDesign._from_checked(pack_cube(X), 3, 1, None)
    coef = np.random.default_rng(1).normal(size=design.n_output_features)

    def faults():
        design._normal_matvec(coef)  # warm: the first call's pages are not counted
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(2):
            design._normal_matvec(coef)
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    untuned = faults()
    tuned = _distributed._tune_worker_allocator()
    print(untuned, faults(), tuned, _distributed._tune_worker_allocator())
""")


def _run_child(env):
    result = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                            text=True, timeout=300, check=True)
    untuned, tuned, flag, again = result.stdout.split()
    return int(untuned), int(tuned), flag == "True", again == "True"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_worker_allocator_tuning_stops_the_page_faults_of_dask_trim_setting():
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")  # dask's nanny default
    untuned, tuned, flag, again = _run_child(env)
    assert flag and again  # set once, and reported as set afterwards
    # Every chunk buffer (2 MiB at n = 64, d = 3) was a fresh mmap: thousands
    # of faults a product; from the heap, almost none.
    assert untuned > 2000
    assert tuned < untuned / 10


def test_worker_allocator_is_left_alone_without_the_trim_setting():
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    _, _, flag, again = _run_child(env)
    assert not flag and not again


def test_lazy_predict_refuses_non_cube_blocks_in_the_in_memory_words():
    """The lazy (dask) predict said only "every entry must be exactly +1 or
    -1"; a block that is not cube points now gets the in-memory predict's
    message, word for word.  No cluster: dask's synchronous scheduler."""
    import numpy as np

    da = pytest.importorskip("dask.array")
    from sparselearn.learners import LowDegreeRegressor

    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(64, 4))
    model = LowDegreeRegressor(degree=2).fit(X, X[:, 0] * X[:, 1])
    bad = X.copy()
    bad[40, 2] = 0.5  # in the second row block
    with pytest.raises(ValueError) as in_memory:
        model.predict(bad)
    lazy = model.predict(da.from_array(bad, chunks=(32, 4)))
    with pytest.raises(ValueError) as on_blocks:
        lazy.compute(scheduler="synchronous")
    assert str(on_blocks.value) == str(in_memory.value)
    assert "domain='real'" in str(on_blocks.value)
    np.testing.assert_allclose(model.predict(da.from_array(X, chunks=(32, 4))).compute(
        scheduler="synchronous"), X[:, 0] * X[:, 1], atol=1e-12)


def test_lazy_predict_of_a_01_model_encodes_its_points():
    """A model fit with input_encoding='01' predicted lazily: 0/1 blocks are
    mapped to +-1 as in memory (the lazy path read them as +-1 points,
    refusing 0/1 ones and predicting on +-1 ones the in-memory path
    refuses); an entry other than 0 or 1 gets the in-memory message."""
    import numpy as np

    da = pytest.importorskip("dask.array")
    from sparselearn.learners import LowDegreeRegressor

    rng = np.random.default_rng(1)
    X01 = rng.integers(0, 2, size=(64, 5)).astype(float)
    y = (1 - 2 * X01[:, 0]) * (1 - 2 * X01[:, 3])
    model = LowDegreeRegressor(degree=2, input_encoding="01").fit(X01, y)
    lazy = model.predict(da.from_array(X01, chunks=(32, 5))).compute(scheduler="synchronous")
    np.testing.assert_allclose(lazy, model.predict(X01), rtol=0, atol=1e-12)
    np.testing.assert_allclose(lazy, y, atol=1e-9)
    pm1 = 1.0 - 2.0 * X01  # +-1 points are not this model's encoding
    with pytest.raises(ValueError) as in_memory:
        model.predict(pm1)
    with pytest.raises(ValueError) as on_blocks:
        model.predict(da.from_array(pm1, chunks=(32, 5))).compute(scheduler="synchronous")
    assert str(on_blocks.value) == str(in_memory.value)
    assert "exactly 0 or 1" in str(on_blocks.value)


def test_lazy_predict_of_a_real_domain_model_says_what_it_needs():
    """A model fit on real data was told its X must be cube points "for a
    model with domain_='cube'", quoting a domain it does not have."""
    import numpy as np

    da = pytest.importorskip("dask.array")
    from sparselearn.learners import LowDegreeRegressor

    X = np.random.default_rng(2).normal(size=(64, 3))
    model = LowDegreeRegressor(degree=2).fit(X, X[:, 0] * X[:, 1])
    assert model.domain_ == "real"
    with pytest.raises(ValueError, match=r"a dask X needs a model fit on cube points "
                                         r"\(domain_='cube'\); this one has domain_='real'"):
        model.predict(da.from_array(X, chunks=(32, 3)))
