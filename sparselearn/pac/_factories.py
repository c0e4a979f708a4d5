"""Ready-made :func:`verify_sweep` factories: targets and a learner per grid point.

Module level, so they pickle for trials run in other processes.
"""
from __future__ import annotations

import math

from .. import cube
from .._results import renamed_argument
from .._validation import MAX_CUBE_DIM, check_int
from ..network import SparseReLUNetwork
from ._trial import _EVAL_CHUNK_ROWS, _check_exact_walk


def bump_target(params, rng, *, exact_max_n=16, n_draws=2**16,
                n_moment=None) -> SparseReLUNetwork:
    r"""A random bump network scaled to unit second moment (a :func:`verify_sweep` target).

    Draws :func:`sparselearn.targets.bump_network` with ``n =
    params["n_features"]``, ``s = params["width"]``, ``k = params["sparsity"]``
    and the Hamming radius ``params["radius"]`` if the grid has one (else
    the default): a ``k``-sparse member of docs/theory.rst, section 2's class on
    the whole cube.  Its output layer is divided by
    :math:`\sqrt{\mathbb{E}_x[f(x)^2]}`, so that
    :math:`\mathbb{E}[f^2] = 1` and ``eps`` reads as a fraction of the
    target's energy.  The second moment is exact (over all :math:`2^n`
    points) for ``n <= exact_max_n``, otherwise estimated on ``n_draws``
    uniform points drawn from ``rng`` (relative error about
    :math:`\sqrt{\mathrm{Var}[f^2]/\text{n\_draws}}/\mathbb{E}[f^2]`).

    Module level, so it pickles for distributed sweeps; customise with
    :func:`functools.partial` (e.g. ``partial(bump_target, n_draws=2**18)``).

    Parameters
    ----------
    params : dict
        Grid point with integer entries ``"n_features"``, ``"width"``,
        ``"sparsity"`` and optionally ``"radius"`` (other entries are
        ignored).
    rng : numpy.random.Generator
        Source of the codewords, output weights and moment sample.
    exact_max_n : int, default=16
        Exact moment for ``n <= exact_max_n``; refused beyond ``n = 30``.
    n_draws : int, default=65536
        Monte-Carlo size of the second-moment estimate (``n > exact_max_n``).
    n_moment : int, optional
        Deprecated alias of ``n_draws`` (``FutureWarning``).

    Returns
    -------
    SparseReLUNetwork
        With :math:`\mathbb{E}[f^2] = 1` (exactly up to rounding, or as
        estimated); a network that vanishes on every point tried is
        returned unscaled.
    """
    from ..targets import bump_network

    for name in ("n_features", "width", "sparsity"):
        if name not in params:
            raise ValueError(f"bump_target needs grid parameter {name!r} (got "
                             f"{sorted(params)})")
    n = check_int(params["n_features"], "n_features", minimum=1)
    net = bump_network(n, params["width"], params["sparsity"], radius=params.get("radius"),
                       random_state=rng)
    exact_max_n = check_int(exact_max_n, "exact_max_n", minimum=0, maximum=MAX_CUBE_DIM)
    if n <= exact_max_n:
        _check_exact_walk(n, exact_max_n, "for the second moment")
    n_draws = renamed_argument("bump_target", "n_moment", "n_draws", n_moment, n_draws, 2**16)
    total = 2**n if n <= exact_max_n else check_int(n_draws, "n_draws", minimum=1)
    square_sum = 0.0
    for start in range(0, total, _EVAL_CHUNK_ROWS):
        stop = min(start + _EVAL_CHUNK_ROWS, total)
        X = cube.points(n, start, stop) if n <= exact_max_n \
            else cube._uniform_points(rng, stop - start, n)
        square_sum += math.fsum(net(X) ** 2)
    if square_sum == 0.0:
        return net
    scale = math.sqrt(square_sum / total)
    return SparseReLUNetwork(net.weights, net.biases, net.output_weights / scale,
                             net.output_bias / scale)


def junta_sum_target(params, rng) -> SparseReLUNetwork:
    r"""A sum of disjoint juntas with unit second moment (a :func:`verify_sweep` target).

    :func:`sparselearn.targets.junta_sum_network` with ``n =
    params["n_features"]``, ``k = params["sparsity"]`` blocks of ``t``
    coordinates where ``params["width"] = k * 2**t``: exactly ``k`` units
    active at every point, Fourier degree at most ``t`` and
    :math:`\mathbb{E}[f^2] = 1` exactly, so a degree-``t`` learner is
    realizable.  Module level, so it pickles for distributed sweeps.

    Parameters
    ----------
    params : dict
        Grid point with integer entries ``"n_features"``, ``"width"`` and
        ``"sparsity"`` (other entries are ignored).
    rng : numpy.random.Generator
        Source of the juntas' coordinates and functions.

    Returns
    -------
    SparseReLUNetwork
        With :math:`\mathbb{E}[f^2] = 1` exactly.
    """
    from ..targets import junta_block_bits, junta_sum_network

    for name in ("n_features", "width", "sparsity"):
        if name not in params:
            raise ValueError(f"junta_sum_target needs grid parameter {name!r} (got "
                             f"{sorted(params)})")
    t = junta_block_bits(params["width"], params["sparsity"])
    return junta_sum_network(params["n_features"], params["sparsity"], t, random_state=rng)


def low_degree_learner(params, *, degree=None, max_degree=4, n_jobs=1, random_state=0,
                       **options):
    """A :class:`~sparselearn.learners.LowDegreeRegressor` for a grid point (a
    :func:`verify_sweep` learner).

    The degree is ``params["degree"]`` when the grid has a ``"degree"``
    entry, else ``degree``; ``None`` selects it from ``0..max_degree`` by
    cross-validation (``params["max_degree"]`` overrides ``max_degree``).

    Module level, so it pickles; fix options with :func:`functools.partial`,
    e.g. ``partial(low_degree_learner, degree=2)``.

    Parameters
    ----------
    params : dict
        Grid point.
    degree : int, optional
    max_degree : int, default=4
    n_jobs : int, default=1
        Threads of each fit.  Fixed (rather than "all cores") so that the
        fit's floating-point sums, and hence the sweep's per-trial errors,
        are the same on every worker whatever its core count.
    random_state : int, default=0
        Seed of the cross-validation split; fixed so each fit is a
        deterministic function of its sample.
    **options
        Other :class:`~sparselearn.learners.LowDegreeRegressor` arguments
        (``solver``, ``alpha``, ``cv``, ``max_bytes``, ...).

    Returns
    -------
    LowDegreeRegressor
        Unfitted.
    """
    from ..learners import LowDegreeRegressor

    return LowDegreeRegressor(degree=params.get("degree", degree),
                              max_degree=params.get("max_degree", max_degree),
                              n_jobs=n_jobs, random_state=random_state, **options)
