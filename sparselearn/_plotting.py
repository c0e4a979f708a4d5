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


def axes(caller: str, ax=None, figsize: tuple[float, float] | None = None):
    """``ax``, or the axes of a new figure: the start of every plotting helper.

    Parameters
    ----------
    caller : str
        The public function drawing, named in the ImportError when
        matplotlib is missing.
    ax : matplotlib.axes.Axes, optional
        Axes given by the caller, returned as is.
    figsize : tuple of float, optional
        Size of the new figure, in inches (matplotlib's default if omitted).

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = import_pyplot(caller)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax
