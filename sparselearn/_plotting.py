"""matplotlib, imported only when a plot is asked for (an optional dependency)."""


def import_pyplot(caller: str, backend: str | None = None):
    """Return :mod:`matplotlib.pyplot`, or raise an ImportError saying how to get it.

    Parameters
    ----------
    caller : str
        What needs the plot, named in the error message.
    backend : str, optional
        A backend to select first (``"Agg"`` for files written without a
        display, as the command line does).
    """
    try:
        import matplotlib
        if backend is not None:
            matplotlib.use(backend)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{caller} needs matplotlib, an optional dependency; install it "
                          "with: pip install sparselearn[plot]") from exc
    return plt
