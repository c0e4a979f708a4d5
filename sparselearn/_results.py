"""The interface every result object shares (PAC and Rademacher results).

A result defines ``to_dict()`` (JSON-serialisable), ``_frame_records()``
(its tidy rows, one dict each) and ``__str__`` (a readable text report);
:class:`ResultMixin` derives ``to_frame()`` (a pandas DataFrame of those
rows, pandas being optional) and ``_repr_html_()`` (the text report for
notebooks) from them, so each result class writes only what is its own.
"""
from __future__ import annotations

import html
import warnings


class ResultMixin:
    """``to_frame()`` and ``_repr_html_()`` for a result with ``_frame_records()``."""

    __slots__ = ()

    def _frame_records(self) -> list[dict]:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_frame(self):
        """The result's rows as a :class:`pandas.DataFrame` (one row per record).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            If pandas is not installed (``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(f"{type(self).__name__}.to_frame() needs pandas, which is not "
                              "installed: pip install pandas (or use to_dict(), which "
                              "needs nothing)") from exc
        return pd.DataFrame.from_records(self._frame_records())

    def _repr_html_(self) -> str:
        """The text report, for notebooks (escaped, in a ``<pre>`` block)."""
        return (f"<div><strong>{html.escape(type(self).__name__)}</strong>"
                f"<pre>{html.escape(str(self))}</pre></div>")


def deprecated_alias(old: str, new: str, since: str = "0.2"):
    """A read-only property ``old`` returning ``self.new`` with a ``FutureWarning``."""

    def getter(self):
        warnings.warn(f"{type(self).__name__}.{old} is deprecated and will be removed; use "
                      f".{new} (same value)", FutureWarning, stacklevel=2)
        return getattr(self, new)

    getter.__doc__ = f"Deprecated alias of ``{new}`` (since {since})."
    return property(getter)


def renamed_argument(function: str, old: str, new: str, old_value, new_value, default):
    """Resolve a deprecated keyword: ``old_value`` (with a ``FutureWarning``) or ``new_value``.

    ``old_value is None`` means the old keyword was not passed.  Passing both
    (the new one not at its default) is a ``TypeError``.
    """
    if old_value is None:
        return new_value
    if new_value is not default and new_value != default:
        raise TypeError(f"{function}() got both {new}= and its deprecated alias {old}=; "
                        f"pass {new}= only")
    warnings.warn(f"{function}({old}=...) is deprecated and will be removed; pass "
                  f"{new}= instead (same meaning)", FutureWarning, stacklevel=3)
    return old_value
