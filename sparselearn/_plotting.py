"""matplotlib, imported only when a plot is asked for (an optional dependency),
and what every plotting helper shares: the axes to draw on and the check of
the style keywords it passes on to matplotlib."""


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
        Axes given by the caller, returned as is (anything else is a
        ``TypeError`` naming ``ax``).
    figsize : tuple of float, optional
        Size of the new figure, in inches (matplotlib's default if omitted).

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = import_pyplot(caller)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    else:
        from matplotlib.axes import Axes
        if not isinstance(ax, Axes):  # (a string here failed deep inside the drawing)
            raise TypeError(f"{caller}(): ax must be a matplotlib Axes (or None for a new "
                            f"figure), got {type(ax).__name__}")
    return ax


# Keywords of Axes.errorbar that the plotting helpers set themselves or that
# name data rather than style.
_NOT_STYLE = frozenset({"self", "x", "y", "yerr", "data", "kwargs"})
# Line2D setters that are not style (the data, the figure it belongs to).
_NOT_LINE_STYLE = frozenset({"data", "xdata", "ydata", "figure"})


def errorbar_style_keywords() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The style keywords :meth:`matplotlib.axes.Axes.errorbar` accepts.

    Returns
    -------
    errorbar : tuple of str
        ``errorbar``'s own keywords (``fmt``, ``ecolor``, ``capsize``...).
    line : tuple of str
        The :class:`~matplotlib.lines.Line2D` properties it passes on to
        the markers and lines, with their aliases (``color``, ``c``...).
    """
    import inspect

    from matplotlib.artist import ArtistInspector
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    own = tuple(name for name in inspect.signature(Axes.errorbar).parameters
                if name not in _NOT_STYLE)
    inspector = ArtistInspector(Line2D)
    line = set(inspector.get_setters()) - _NOT_LINE_STYLE
    for aliases in inspector.aliasd.values():
        line |= aliases
    return own, tuple(sorted(line))


def check_style_keywords(caller: str, kwargs: dict, parameters: tuple[str, ...],
                         reserved: tuple[str, ...] = ()) -> None:
    """Refuse keyword arguments that ``Axes.errorbar`` would not take.

    An unknown keyword would otherwise reach ``Line2D.set``, whose
    AttributeError names neither the function called nor what it accepts;
    a keyword the helper sets itself (``reserved``) would be a duplicate.

    Parameters
    ----------
    caller : str
        The public function, named in the error.
    kwargs : dict
        The keyword arguments it received beyond its own.
    parameters : tuple of str
        Its own parameters, listed in the error.
    reserved : tuple of str, default=()
        Style keywords it sets itself, refused with the reason.

    Raises
    ------
    TypeError
        Naming the first unknown or reserved keyword and listing the
        accepted ones.
    """
    if not kwargs:
        return
    import_pyplot(caller)  # the usual ImportError when matplotlib is missing
    errorbar, line = errorbar_style_keywords()
    for name in kwargs:
        if name in reserved:
            raise TypeError(f"{caller}() sets {name}= itself; it cannot be passed")
        if name not in errorbar and name not in line:
            import difflib
            close = difflib.get_close_matches(name, parameters + errorbar + line, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"{caller}() got an unexpected keyword argument {name!r}{hint}; it takes "
                f"{', '.join(parameters)}, the keywords of matplotlib's Axes.errorbar "
                f"({', '.join(errorbar)}) and Line2D properties "
                f"({', '.join(n for n in line if n not in reserved)})")
