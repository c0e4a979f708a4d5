"""The interface every result object shares (PAC and Rademacher results).

A result defines ``to_dict()`` (JSON-serialisable), ``_frame_records()``
(its tidy rows, one dict each), ``__str__`` (a readable text report) and,
where a dataclass's own would list whole arrays, a one-line ``__repr__`` of
its key figures;
:class:`ResultMixin` derives ``to_frame()`` (a pandas DataFrame of those
rows, pandas being optional) and ``_repr_html_()`` (the text report for
notebooks) from them, so each result class writes only what is its own.
:class:`ResultFilesMixin` adds ``to_csv()`` and ``to_json()`` (the same rows
and dict, written atomically, with optional ``metadata`` about the whole
run) for a result that also names its columns.
"""
from __future__ import annotations

import csv
import html
import json
import math
import os
import warnings

import numpy as np

from . import io as _io


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


class ResultFilesMixin(ResultMixin):
    """``to_csv()`` and ``to_json()`` for a result with ``_frame_columns()``.

    ``_frame_columns()`` names the columns of ``_frame_records()``, so that a
    result without rows (a run whose pre-flight skipped every trial) still
    writes a CSV header.
    """

    __slots__ = ()

    def _frame_columns(self) -> list[str]:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_csv(self, path, *, metadata=None) -> str:
        """Write the rows of :meth:`to_frame` as CSV (a header row, then one row
        per record), atomically; needs no pandas.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (replaced atomically: a failed write leaves
            any previous file as it was).
        metadata : dict, optional
            Fields describing the whole run (``sparselearn verify --out``
            records its ``--network`` file and ``--output``).  CSV has no
            place for metadata, so each is a leading column holding its
            value on every row.

        Returns
        -------
        str
            The path written (as the library's other writers return it).
        """
        caller = f"{type(self).__name__}.to_csv"
        path = _check_output_path(path, caller)
        columns = list(self._frame_columns())
        metadata = _check_metadata(metadata, columns, caller)
        with _io.atomic_write(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(metadata) + columns)
            writer.writeheader()
            writer.writerows(metadata | record for record in self._frame_records())
        return path

    def to_json(self, path, *, metadata=None) -> str:
        """Write :meth:`to_dict` as strict JSON, atomically.

        A non-finite float (NaN, or the infinite relative error of a zero
        target) is written as ``null``, as the command line's ``--json`` does:
        JSON has no NaN or infinity.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (replaced atomically).
        metadata : dict, optional
            Fields describing the whole run, written as top-level keys
            before those of :meth:`to_dict`.

        Returns
        -------
        str
            The path written.
        """
        caller = f"{type(self).__name__}.to_json"
        path = _check_output_path(path, caller)
        content = self.to_dict()
        payload = _finite_or_none(_check_metadata(metadata, content, caller) | content)
        with _io.atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1, allow_nan=False)
            handle.write("\n")
        return path


def _check_output_path(path, caller: str) -> str:
    """``path`` as a ``str``; a ``TypeError``/``ValueError`` naming ``path`` otherwise."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{caller}(): path must be a str or os.PathLike, got "
                        f"{type(path).__name__}")
    shown = os.fspath(path)
    if not isinstance(shown, str):
        raise TypeError(f"{caller}(): path must be a str or os.PathLike of str, got a "
                        f"{type(shown).__name__} path")
    if not shown:
        raise ValueError(f"{caller}(): path must name a file, got ''")
    return shown


def _check_metadata(metadata, names, caller: str) -> dict:
    """``metadata`` as a dict of string keys none of which is in ``names``
    (the result's own columns or keys, which it would silently replace)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(key, str) for key in metadata):
        raise TypeError(f"{caller}(): metadata must be a dict with string keys, got "
                        f"{type(metadata).__name__}")
    taken = [key for key in metadata if key in names]
    if taken:
        raise ValueError(f"{caller}(): metadata key {taken[0]!r} is already a field of "
                         "the result; rename it")
    return dict(metadata)


# histogram_text shows this many nonzero bins at each end.
_SHOWN_BINS = 6


def histogram_text(histogram) -> str:
    """``"c: count, ..."`` over the nonzero bins of a histogram of active counts;
    past ``2 * _SHOWN_BINS`` of them, the first and last few and how many are left
    out (a wide layer has hundreds; the reports' dicts and JSON keep them all)."""
    histogram = np.asarray(histogram)
    entries = [f"{c}: {int(histogram[c])}" for c in np.flatnonzero(histogram)]
    if len(entries) > 2 * _SHOWN_BINS:
        entries = (entries[:_SHOWN_BINS] + [f"... {len(entries) - 2 * _SHOWN_BINS} more counts ..."]
                   + entries[-_SHOWN_BINS:])
    return ", ".join(entries)


def _finite_or_none(value):
    """``value`` with every NaN or infinite float replaced by ``None``, recursively."""
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


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
