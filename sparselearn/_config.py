"""Build and run-time configuration: :func:`show_config`."""
import platform
import sys

import numpy as np

from . import _kernels


def show_config(mode="stdout"):
    """Report the compiled-kernel variant in use and what the machine supports.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        Print the report, or return it as a dictionary.

    Returns
    -------
    dict or None
        With ``mode="dicts"``: ``version``, ``python``, ``numpy``,
        ``machine``, ``x86_level`` (4, 3 or 1 on x86-64, 0 elsewhere),
        ``variant`` (the kernels in use), ``usable_variants`` (supported by
        the CPU and built), ``kernels`` (module names) and ``threadpools``
        (:func:`threadpoolctl.threadpool_info`).

    Notes
    -----
    The kernels are built for baseline x86-64, ``x86-64-v3`` (AVX2, FMA) and
    ``x86-64-v4`` (AVX-512); the highest variant the CPU and operating system
    support is loaded.  Set ``SPARSELEARN_CPU_VARIANT=baseline`` (or
    ``x86-64-v3``) before importing sparselearn to force a lower one.

    Examples
    --------
    >>> import sparselearn
    >>> sparselearn.show_config(mode="dicts")["variant"] in ("baseline", "x86-64-v3", "x86-64-v4")
    True
    """
    from threadpoolctl import threadpool_info

    from . import __version__
    info = {
        "version": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "x86_level": _kernels.x86_level,
        "variant": _kernels.variant,
        "usable_variants": list(_kernels.usable_variants),
        "kernels": [getattr(_kernels, name).__name__ for name in _kernels.KERNELS],
        "threadpools": [{k: pool.get(k) for k in ("user_api", "internal_api", "num_threads")}
                        for pool in threadpool_info()],
    }
    if mode == "dicts":
        return info
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', got {mode!r}")
    for key, value in info.items():
        if key == "threadpools":
            for pool in value:
                print(f"{'threadpool':<16} {pool['user_api']} ({pool['internal_api']}), "
                      f"{pool['num_threads']} threads")
        else:
            print(f"{key:<16} {value}")
    return None
