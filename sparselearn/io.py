"""Every file sparselearn reads or writes goes through this module.

Reading (``.npy``, ``.npz``, CSV, ONNX models) promises:

- **Only regular files.**  The path is resolved (symlinks followed) and
  checked with :func:`os.stat`/:func:`os.fstat`; a directory, FIFO, socket
  or device (a symlink to ``/dev/zero`` named ``data.csv``) is refused
  before a byte is read.
- **Size limits before reading.**  The array shapes and dtypes declared in
  each ``.npy`` header, and for an ``.npz`` the uncompressed sizes in the
  zip directory, are checked against the memory budget
  (``max_bytes=``, default :data:`sparselearn._validation.DEFAULT_MAX_BYTES`)
  before anything is decompressed or allocated, and no more than the
  declared bytes are ever decompressed, so a few-hundred-byte file claiming
  terabytes or a zip bomb of compressed zeros is refused at once.
- **Plain numbers only.**  Arrays load with ``allow_pickle=False`` semantics:
  object, string, complex, datetime and structured dtypes are refused
  (the library's own archives may hold a few named string entries).
- **One error type.**  Every failure -- missing file, truncated or corrupt
  header, bad zip CRC, unsupported zip feature, wrong dimensions -- raises
  :class:`UnreadableFileError`, a :class:`ValueError` whose message names
  the file and the problem.

Writing promises **atomic replacement**: the output (a model, a network, a
CSV or JSON table, a figure) is written to a temporary file in the target's
directory and moved over the target with :func:`os.replace` only once it is
complete, so a failure mid-write (disk full, a file-size limit, Ctrl-C)
leaves any previous file intact and no temporary file behind.  A symlink
is followed (its target replaced, the link kept); ``/dev/stdout`` and the
other names of open descriptors, FIFOs and devices are written through,
since they cannot be replaced.

The suffix rule of saved archives (:func:`npz_path`): ``.npz`` is appended
when the path does not already end with it, on save *and* on load, so
``net.save("net")`` writes ``net.npz`` and ``SparseReLUNetwork.load("net")``
reads it back; the save functions return the path actually written.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import math
import os
import re
import stat
import struct
import sys
import tempfile
import tokenize
import warnings
import zipfile
import zlib
from io import BytesIO, TextIOWrapper
from numbers import Integral

import numpy as np

from ._validation import MemoryBudgetError, check_memory, format_bytes

__all__ = ["DirectoryNotFileError", "MissingDirectoryError", "UnreadableFileError",
           "atomic_write", "load_archive", "npz_names", "npz_path", "read_bytes",
           "read_csv", "read_npy", "read_npz", "read_table", "read_xy", "save_figure",
           "save_npy", "save_npz", "save_text", "save_txt_array"]

#: dtype kinds a numeric array may have: bool, signed and unsigned integers, floats.
NUMERIC_KINDS = "biuf"

# Bytes read or inflated per call while filling an array.
_CHUNK = 16 * 2**20
# Longest .npy header accepted, in bytes (numpy's own limit is 10000 characters).
_MAX_HEADER_BYTES = 65536
# Errors a parser of untrusted bytes may raise; all become UnreadableFileError.
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError,
                 OSError, SyntaxError, tokenize.TokenError, struct.error, zlib.error,
                 zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError,
                 OverflowError, RecursionError, UnicodeError)


class UnreadableFileError(ValueError):
    """A file could not be read: missing, not a regular file, malformed, of the
    wrong kind, or over the memory budget.  The message names the file."""


class MissingDirectoryError(FileNotFoundError, ValueError):
    """A file was to be written in a folder that does not exist.

    A :class:`FileNotFoundError` (``filename`` is the path asked for) and a
    :class:`ValueError`, like every error a bad argument raises; the message
    names ``path`` and says what to do.
    """

    def __str__(self) -> str:
        return f"path={self.filename!r}: {self.strerror}"


class DirectoryNotFileError(IsADirectoryError, ValueError):
    """A file was to be written at a path that is a directory: an
    :class:`IsADirectoryError` and a :class:`ValueError` naming ``path``."""

    def __str__(self) -> str:
        return f"path={self.filename!r}: {self.strerror}"


def _fail(path, problem: str):
    return UnreadableFileError(f"{os.fspath(path)}: {problem}")


def _oneline(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ------------------------------------------------------------ suffix rule
def npz_path(path) -> str:
    """The path an archive is saved to and loaded from: ``path``, with ``.npz``
    appended unless it already ends with ``.npz``.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The path given by the caller.

    Returns
    -------
    str
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path if path.endswith(".npz") else path + ".npz"


#: Suffixes of PyTorch and pickled scikit-learn models, which the loaders
#: never read (no pickles): their errors say how to convert such a model.
_FOREIGN_MODEL_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".joblib")


# ---------------------------------------------------------------- opening
@contextlib.contextmanager
def _open_regular(path):
    """Open ``path`` for binary reading, refusing anything but a regular file.

    Yields ``(handle, size)``.  The file is opened non-blocking (a FIFO
    would otherwise block the open) and checked again with ``fstat``, so a
    path swapped between the checks cannot slip through.
    """
    shown = os.fspath(path)
    try:
        info = os.stat(shown)
    except FileNotFoundError:
        if shown.endswith(".npz") and os.path.isfile(shown[:-4]):
            # Most likely "model.csv" given where an archive belongs, and the
            # suffix rule (npz_path) looked for model.csv.npz: name the file given.
            given = shown[:-4]
            hint = ("; convert a PyTorch or scikit-learn MLP in Python, then save it: "
                    "SparseReLUNetwork.from_torch(module).save(path) or "
                    "SparseReLUNetwork.from_sklearn(estimator).save(path)"
                    if given.lower().endswith(_FOREIGN_MODEL_SUFFIXES)
                    else "; convert the ONNX model in Python, then save it: "
                    f"SparseReLUNetwork.from_onnx({given!r}).save(path)"
                    if given.lower().endswith(".onnx") else "")
            raise _fail(given, "not a saved model or network: those are .npz "
                        f"archives (and there is no {os.path.basename(shown)}){hint}") from None
        if shown.endswith(".npz") and os.path.isdir(shown[:-4]):
            # A folder given where an archive belongs: the suffix rule looked
            # for FOLDER.npz; name the folder.
            raise _fail(shown[:-4], "is a directory, not a saved .npz archive") from None
        raise _fail(path, "no such file") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc})") from None
    _check_regular(path, info)
    try:
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        _check_regular(path, info)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle, info.st_size


def _check_regular(path, info) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise _fail(path, f"is {kind}, not a regular file; only regular files are read")


def _budget(path, nbytes: float, what: str, max_bytes) -> None:
    try:
        check_memory(nbytes, what, max_bytes)
    except MemoryBudgetError as exc:
        raise UnreadableFileError(f"{os.fspath(path)}: {exc}") from None


# ------------------------------------------------------------------ .npy
def _read_exactly(handle, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = handle.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _check_dtype(path, dtype: np.dtype, kinds: str, name: str) -> None:
    if dtype.hasobject:
        raise _fail(path, f"{name} holds Python objects (dtype=object); refusing to "
                          "unpickle it (allow_pickle=False)")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        described = {"c": "complex", "U": "string", "S": "bytes", "M": "datetime",
                     "m": "timedelta", "V": "structured"}.get(dtype.kind, str(dtype))
        allowed = "numbers (bool, integer or float)" if kinds == NUMERIC_KINDS else \
            f"dtype kinds {kinds!r}"
        raise _fail(path, f"{name} has {described} dtype {dtype.str!r}; expected "
                          f"{allowed}")
    if dtype.itemsize == 0:
        raise _fail(path, f"{name} has a zero-size dtype {dtype.str!r}")


def _read_header(handle, path, name: str):
    """``(shape, fortran_order, dtype, header_bytes)`` from an ``.npy`` stream."""
    magic = _read_exactly(handle, 8)
    if len(magic) == 0:
        raise _fail(path, f"{name} is empty (0 bytes)")
    if magic[:4] == b"PK\x03\x04":
        raise _fail(path, f"{name} is a zip archive (an .npz?), not an .npy array")
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
        raise _fail(path, f"{name} is not an .npy array (no NUMPY magic string)")
    version = (magic[6], magic[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise _fail(path, f"{name} has unsupported .npy format version {version}")
    length_size = 2 if version == (1, 0) else 4
    length_bytes = _read_exactly(handle, length_size)
    if len(length_bytes) < length_size:
        raise _fail(path, f"{name} has a truncated .npy header")
    length = int.from_bytes(length_bytes, "little")
    if length > _MAX_HEADER_BYTES:
        raise _fail(path, f"{name} declares a {length}-byte .npy header, more than the "
                          f"{_MAX_HEADER_BYTES} accepted")
    header = _read_exactly(handle, length)
    if len(header) < length:
        raise _fail(path, f"{name} has a truncated .npy header ({len(header)} of "
                          f"{length} bytes)")
    if version == (3, 0):  # utf-8 header; the same dictionary as version 2.0's latin-1
        try:
            header = header.decode("utf-8").encode("latin-1")
        except UnicodeError:
            raise _fail(path, f"{name} has a non-latin-1 .npy header "
                              "(structured dtypes are not read)") from None
        version = (2, 0)
    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
              else np.lib.format.read_array_header_2_0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape, fortran_order, dtype = reader(BytesIO(length_bytes + header))
    except (*_PARSE_ERRORS, MemoryError) as exc:  # the header is at most 64 KiB
        raise _fail(path, f"{name} has a malformed .npy header ({_oneline(exc)})") from None
    return shape, bool(fortran_order), np.dtype(dtype), 8 + length_size + length


def _read_body(handle, path, name, shape, fortran_order, dtype) -> np.ndarray:
    count = math.prod(shape)
    array = np.empty(count, dtype=dtype)
    if count:
        view = memoryview(array).cast("B")
        filled = 0
        while filled < view.nbytes:
            got = handle.readinto(view[filled:filled + _CHUNK])
            if not got:
                raise _fail(path, f"{name} is truncated: {filled} of {view.nbytes} data "
                                  "bytes")
            filled += got
    return array.reshape(shape, order="F" if fortran_order else "C")


def _declared_bytes(shape, dtype, extra_per_element: int) -> tuple[int, int]:
    count = math.prod(shape)
    return count * dtype.itemsize, count * (dtype.itemsize + extra_per_element)


def read_npy(path, *, max_bytes=None, kinds: str = NUMERIC_KINDS,
             extra_per_element: int = 0) -> np.ndarray:
    """Read one ``.npy`` array of plain numbers (``allow_pickle=False``).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.
    max_bytes : float, optional
        Memory budget for the array (plus ``extra_per_element`` bytes per
        element, for a copy the caller will make); default
        :data:`~sparselearn._validation.DEFAULT_MAX_BYTES`.  Checked against
        the header's declared shape and dtype before the data is read.
    kinds : str
        Accepted dtype kinds (default ``"biuf"``: bool, integers, floats).
    extra_per_element : int, default=0
        Bytes per element the caller will allocate on top of the array
        (a float64 copy: 8), counted against ``max_bytes``.

    Returns
    -------
    ndarray

    Raises
    ------
    UnreadableFileError
        For any file that is not such an array, with the file's name.
    """
    with _open_regular(path) as (handle, size):
        try:
            shape, fortran_order, dtype, offset = _read_header(handle, path, "the file")
            _check_dtype(path, dtype, kinds, "the array")
            nbytes, needed = _declared_bytes(shape, dtype, extra_per_element)
            _budget(path, needed, f"the array of shape {shape} and dtype {dtype.str}",
                    max_bytes)
            if offset + nbytes != size:
                raise _fail(path, f"the header declares {nbytes} data bytes (shape {shape}, "
                                  f"dtype {dtype.str}) but the file holds {size - offset}"
                                  + (" (truncated)" if offset + nbytes > size else ""))
            return _read_body(handle, path, "the file", shape, fortran_order, dtype)
        except UnreadableFileError:
            raise
        except _PARSE_ERRORS as exc:
            raise _fail(path, f"not a readable .npy array ({_oneline(exc)})") from None


# ---------------------------------------------------------- whole files
def read_bytes(path, *, max_bytes=None, memory_per_byte: float = 1,
               what: str = "file") -> bytes:
    """The bytes of a regular file, its size checked against the budget first.

    For formats parsed whole by another library (an ONNX model): the
    caller says how much memory parsing takes per byte of file.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.
    max_bytes : float, optional
        Memory budget; default :data:`~sparselearn._validation.DEFAULT_MAX_BYTES`.
    memory_per_byte : float, default=1
        Memory needed per byte of the file (the bytes and what is parsed
        from them), counted against ``max_bytes`` before reading.
    what : str, default="file"
        What the file is, for the budget's message (``"ONNX model"``).

    Returns
    -------
    bytes

    Raises
    ------
    UnreadableFileError
        For a missing or irregular file, one over the budget, or one that
        changed size while being read, with the file's name.
    """
    with _open_regular(path) as (handle, size):
        _budget(path, memory_per_byte * size, f"reading a {format_bytes(size)} {what}",
                max_bytes)
        data = handle.read(size + 1)
    if len(data) != size:  # grew or shrank while being read
        raise _fail(path, "changed size while being read")
    return data


# ------------------------------------------------------------------ .npz
def read_npz(path, keys=None, *, max_bytes=None, kinds=None,
             extra_per_element: int = 0) -> dict:
    """Read arrays from an ``.npz`` archive (``allow_pickle=False``).

    Before anything is decompressed, the zip directory is read and the sum
    of its members' declared uncompressed sizes is checked against the
    budget; then each wanted member's ``.npy`` header is read and its
    declared shape and dtype are checked, and exactly the declared bytes are
    decompressed (so the CRC is verified and nothing beyond is inflated).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file, read as it is named (no suffix is added here).
    keys : iterable of str, optional
        Member names to read (default: all).  Missing names are not an
        error; the result simply lacks them.
    max_bytes : float, optional
        Memory budget (see :func:`read_npy`).
    kinds : dict of str to str, optional
        Accepted dtype kinds per member name; names not listed accept
        ``"biuf"`` (bool, integers, floats).
    extra_per_element : int, default=0
        Bytes per element the caller will allocate on top of the arrays,
        counted against ``max_bytes`` (see :func:`read_npy`).

    Returns
    -------
    dict
        ``{name: ndarray}``.

    Raises
    ------
    UnreadableFileError
        For any file that is not such an archive, with the file's name.
    """
    kinds = kinds or {}
    with _open_regular(path) as (handle, size):
        try:
            return _read_npz(handle, path, keys, max_bytes, kinds, extra_per_element)
        except UnreadableFileError:
            raise
        except _PARSE_ERRORS as exc:
            raise _fail(path, f"not a readable .npz archive ({_oneline(exc)})") from None


def npz_names(path) -> set:
    """The array names in an ``.npz`` archive (from its zip directory only).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.

    Returns
    -------
    set of str
    """
    with _open_regular(path) as (handle, size):
        try:
            archive, members = _open_zip(handle, path)
            archive.close()
        except UnreadableFileError:
            raise
        except _PARSE_ERRORS as exc:
            raise _fail(path, f"not a readable .npz archive ({_oneline(exc)})") from None
    return set(members)


def _open_zip(handle, path):
    head = handle.read(4)
    handle.seek(0)
    if head[:4] == b"\x93NUM":
        raise _fail(path, "is a single .npy array, not a readable .npz archive")
    try:
        archive = zipfile.ZipFile(handle)
    except _PARSE_ERRORS as exc:
        raise _fail(path, f"not a readable .npz archive (not a zip file: {_oneline(exc)})"
                    ) from None
    members = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in members:
            archive.close()
            raise _fail(path, f"not a readable .npz archive (member {name!r} appears "
                              "twice)")
        members[name] = info
    return archive, members


def _read_npz(handle, path, keys, max_bytes, kinds, extra_per_element):
    archive, members = _open_zip(handle, path)
    with archive:
        wanted = [name for name in members if keys is None or name in set(keys)]
        total = sum(members[name].file_size for name in wanted)
        _budget(path, total, f"decompressing {len(wanted)} archive member(s)", max_bytes)
        for name in wanted:
            info = members[name]
            if info.flag_bits & 0x1:
                raise _fail(path, f"member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _fail(path, f"member {name!r} uses zip compression method "
                                  f"{info.compress_type}; only stored and deflated "
                                  "members (what numpy writes) are read")
        headers, needed = {}, 0
        for name in wanted:
            info = members[name]
            with archive.open(info) as stream:
                shape, fortran_order, dtype, offset = _read_header(
                    stream, path, f"member {name!r}")
            _check_dtype(path, dtype, kinds.get(name, NUMERIC_KINDS), f"array {name!r}")
            nbytes, member_needed = _declared_bytes(shape, dtype, extra_per_element)
            needed += member_needed
            _budget(path, needed, f"the array {name!r} of shape {shape} and dtype "
                    f"{dtype.str}" if len(wanted) == 1 else
                    f"the {len(wanted)} arrays of the archive", max_bytes)
            if offset + nbytes != info.file_size:
                raise _fail(path, f"member {name!r} declares {nbytes} data bytes (shape "
                                  f"{shape}, dtype {dtype.str}) but the zip directory "
                                  f"gives it {info.file_size - offset}")
            headers[name] = (shape, fortran_order, dtype)
        arrays = {}
        for name in wanted:
            with archive.open(members[name]) as stream:
                _read_header(stream, path, f"member {name!r}")
                arrays[name] = _read_body(stream, path, f"member {name!r}", *headers[name])
                if stream.read(1):  # reaching the end also makes zipfile check the CRC
                    raise _fail(path, f"member {name!r} has data beyond its declared size")
        return arrays


def load_archive(path, format_tag: str, keys, string_keys=()) -> dict:
    """Read an ``.npz`` written by one of the library's ``save`` methods.

    ``path`` follows the suffix rule (:func:`npz_path`).  The archive must
    hold exactly ``keys`` plus a ``format`` entry equal to ``format_tag``
    (or to one of them, when ``format_tag`` is a tuple of accepted versions,
    the current one first);
    ``format`` and the names in ``string_keys`` may be strings, every other
    entry must be numeric.  Any other file (missing, not a zip, pickled
    objects, foreign arrays, another format) is refused with an
    :class:`UnreadableFileError` naming the path.

    Parameters
    ----------
    path : str or os.PathLike
        The archive (``.npz`` appended unless present).
    format_tag : str or tuple of str
        The accepted ``format`` entries, the current version first.
    keys : iterable of str
        The arrays the archive must hold besides ``format``.
    string_keys : iterable of str, default=()
        Those of ``keys`` that may hold strings.

    Returns
    -------
    dict
        ``{key: ndarray}`` for ``keys``.
    """
    path = npz_path(path)
    accepted = (format_tag,) if isinstance(format_tag, str) else tuple(format_tag)
    format_tag = accepted[0]
    kind = format_tag.split("/")[0].rsplit(".", 1)[-1]  # "pkg.Class/1" -> "Class"
    expected = set(keys) | {"format"}
    kinds = {key: NUMERIC_KINDS + "U" for key in set(string_keys) | {"format"}}
    names = npz_names(path)
    if names != expected:
        raise _fail(path, f"not a saved {kind}{_saved_kind(path, names)}: it holds "
                          f"{sorted(names)}, expected {sorted(expected)}")
    arrays = read_npz(path, kinds=kinds)
    tag = arrays.pop("format")
    if tag.shape != () or str(tag) not in accepted:
        prefix = format_tag.split("/")[0] + "/"
        if tag.shape == () and str(tag).startswith(prefix):
            # The same class in a format version this release does not know.
            versions = ", ".join(known.split("/", 1)[1] for known in accepted)
            raise _fail(path, f"has format tag {str(tag)!r}: a {kind} saved in format "
                              f"{str(tag)[len(prefix):]!r}, which this version of "
                              f"sparselearn cannot read (it reads format {versions}); load "
                              "it with the version that saved it")
        raise _fail(path, f"has format tag {_oneline(tag)!r}, expected {format_tag!r} "
                          f"(not a saved {kind})")
    return arrays


def _saved_kind(path, names) -> str:
    """``", but a saved Kind (Kind.load reads it)"`` when the archive's
    ``format`` tag names another of the library's classes, else ``""``."""
    if "format" not in names:
        return ""
    try:
        tag = read_npz(path, ["format"], kinds={"format": "U"})["format"]
    except (UnreadableFileError, KeyError):
        return ""
    text = str(tag) if tag.shape == () else ""
    if not text.startswith("sparselearn.") or "/" not in text:
        return ""
    other = text.split("/")[0].rsplit(".", 1)[-1]
    return f", but a saved {other} ({other}.load reads it)"


# ------------------------------------------------------------------- CSV
# A CSV value takes at least two characters (a digit and a separator), so a
# table of float64 values needs at most 4 bytes per file byte; numpy's
# parser holds about as much again while it grows the table.
_CSV_BYTES_PER_BYTE = 8


#: Accepted values of the ``header=`` option of the CSV readers.
HEADER_CHOICES = ("auto", "yes", "no")


def read_csv(path, *, max_bytes=None, header="auto", return_names=False):
    """A 2-D float64 table from a comma-separated file (one optional header row).

    Header rule (``header="auto"``): the first line is a header exactly when
    it has a non-empty field that is not a number and none of its fields is
    a number, except that pandas' default names, the column numbers
    ``0,1,2,...`` at their places (``0,1,2,y``), count as names.  A first
    line with other numbers is data: ``1,-1,1,abc`` (a typo in the label)
    is an error naming line 1, field 4, not a header that drops the row.
    An *empty* field is a missing value, never a sign of a header, so
    ``1,,0.5`` on line 1 is an error naming line 1 too.  ``"yes"`` always
    reads the first line as column names, ``"no"`` never does.  A header
    with an empty name (the row index of pandas' ``to_csv()``) is an error.
    Double-quoted fields (``"0.5"``, ``"a, b"``; ``""`` is a quote) read as
    the text between the quotes.
    Errors name the file line (1-based, the header line counted): a value
    that is empty or not a number, or a row whose number of fields differs
    from the first line's ("line 7 has 4 fields, expected 5").

    The file's size bounds the table's: it is checked against the budget
    before parsing.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file.
    max_bytes : float, optional
        Memory budget for parsing; default
        :data:`~sparselearn._validation.DEFAULT_MAX_BYTES`.
    header : {"auto", "yes", "no"}, default="auto"
        Whether the first line holds column names (see above).
    return_names : bool, default=False
        Also return the column names (``None`` when there is no header).

    Returns
    -------
    table : ndarray of float64, shape (rows, columns)
    names : list of str or None
        Only with ``return_names=True``.

    Raises
    ------
    UnreadableFileError
        For a file that is not such a table, with the file's name.
    """
    if header not in HEADER_CHOICES:
        raise ValueError(f"header must be one of {HEADER_CHOICES}, got {header!r}")
    data = _csv_bytes(path, max_bytes)
    try:
        first, names = _csv_header(data, header)
        _check_names(path, names, "not a numeric CSV table")
        skip = 0 if names is None else 1
        try:
            table = _parse_csv(data, skip)
        except _PARSE_ERRORS as exc:
            problem = _first_line_note(_csv_problem(data, skip), header)
            raise _fail(path, "not a numeric CSV table ("
                        + (problem or _oneline(exc)) + _separator_note(first) + ")") from None
        # A #N/A in column 1 makes its whole row a comment, parsed without error.
        problem = _NA_COMMENT.search(data) and _csv_problem(data, skip)
        if problem:
            raise _fail(path, f"not a numeric CSV table ({problem})")
    except UnicodeError:
        raise _fail(path, "not a numeric CSV table (not UTF-8 text)") from None
    if names is not None and table.size == 0:
        raise _fail(path, "not a numeric CSV table (no numeric rows; its first line "
                          f"{_oneline(first)[:60]!r} is not numbers)")
    if names is not None and table.size and len(names) != table.shape[1]:
        problem = _csv_problem(data, skip) or (f"the header, line 1, has {len(names)} "
                                               f"fields, the rows {table.shape[1]}")
        raise _fail(path, f"not a numeric CSV table ({problem})")
    return (table, names) if return_names else table


def _csv_bytes(path, max_bytes) -> bytes:
    """The bytes of a CSV file, size-checked against the budget before reading,
    without a UTF-8 byte-order mark."""
    with _open_regular(path) as (handle, size):
        _budget(path, _CSV_BYTES_PER_BYTE * size, f"parsing a {format_bytes(size)} CSV "
                "table", max_bytes)
        data = handle.read(size + 1)
    if len(data) > size:  # grew while being read
        raise _fail(path, "changed size while being read")
    if b"\x00" in data:
        raise _fail(path, "not a numeric CSV table (binary data)")
    # A UTF-8 byte-order mark (spreadsheet exports) is not part of the first
    # field: left in, it made a numeric first row look like a header.
    return data.removeprefix(b"\xef\xbb\xbf")


def _csv_header(data: bytes, header: str, text_column=None):
    """``(first line, column names or None)`` by the header rule of
    :func:`read_csv`; field ``text_column`` (0-based, a text label) is no
    sign of a header, either way, except in pandas' names (``0,1,y``: the
    other fields the column numbers at their places, the label on no other
    line).  Raises UnicodeError for text that is not UTF-8."""
    first = data.split(b"\n", 1)[0].decode("utf-8")
    fields = _scan_fields(first)[0]  # an open quote is named by _csv_problem
    telling = [field for j, field in enumerate(fields) if field and j != text_column]
    # A name that is a number makes the line data: a typo in a numeric row
    # (1,-1,1,abc) is then named by its line instead of dropping the row.
    # Except pandas' default names, the column numbers 0, 1, 2, ... (the
    # header of pd.DataFrame(X).assign(y=y).to_csv(index=False)).
    numbered = all(not _is_number(field) or field == str(i) for i, field in enumerate(fields))
    if header == "yes" or (header == "auto" and telling and numbered
                           and not all(map(_is_number, telling))):
        return first, fields
    # With a text label the numbers decide nothing in pandas' 0,1,y: the
    # label, a class name on any other line (0,1,cat), tells data from names.
    if (header == "auto" and text_column is not None and fields[text_column]
            and all(field == str(i) for i, field in enumerate(fields) if i != text_column)
            and not _is_field_below(data, text_column, fields[text_column])):
        return first, fields
    return first, None


def _is_field_below(data: bytes, column: int, value: str) -> bool:
    """Whether field ``column`` (0-based) of a line after the first is ``value``.

    Only the lines holding ``value``'s bytes are split (found by
    ``bytes.find``): decoding and splitting every line of a large table in
    Python took memory several times the file's and seconds a megabyte."""
    needle = value.encode("utf-8")
    at = data.find(needle, data.find(b"\n") + 1) if b"\n" in data else -1
    while at != -1:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        fields = _scan_fields(data[start:end].decode("utf-8").rstrip("\r"))[0]
        if column < len(fields) and fields[column] == value:
            return True
        at = data.find(needle, end)
    return False


def _scan_fields(line: str):
    """``(fields, open_field)``: the fields of one CSV line as
    ``np.loadtxt(delimiter=",", quotechar='"')`` reads them, stripped of
    surrounding spaces -- a field that starts with a double quote runs to the
    next lone quote (``""`` is one quote) and may hold commas and ``#``;
    outside quotes ``#`` starts a comment -- and the 1-based number of a
    field whose quote the line leaves open (a field across lines), else 0."""
    if '"' not in line:  # the common case, at str.split's speed
        return [field.strip() for field in line.split("#", 1)[0].split(",")], 0
    if "#" not in line:  # quoted fields without comments: the csv module's C parser
        try:
            return [field.strip() for field in
                    next(csv.reader([line.rstrip("\r\n")], strict=True))], 0
        except csv.Error:
            pass  # a quote left open, or text after a closing one: the loop below
    fields, field, quoted, start = [], [], False, True
    i = 0
    while i < len(line):
        char = line[i]
        if quoted:
            if char == '"' and line[i + 1:i + 2] == '"':
                field.append(char)
                i += 1
            elif char == '"':
                quoted = False
            else:
                field.append(char)
        elif char == '"' and start:
            quoted, start = True, False
        elif char == ",":
            fields.append("".join(field).strip())
            field, start = [], True
        elif char == "#":
            break
        else:
            field.append(char)
            start = False
        i += 1
    fields.append("".join(field).strip())
    return fields, len(fields) if quoted else 0


def _csv_field(text: str) -> str:
    """``text`` as one CSV field that :func:`_scan_fields` (and any CSV
    reader) gives back: double-quoted, quotes doubled, when it holds a comma,
    a quote, ``#`` or a line break; as it is otherwise."""
    if any(char in text for char in ',"#\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _check_names(path, names, what: str) -> None:
    """An ``UnreadableFileError`` for a header with an empty column name:
    pandas' ``to_csv()`` (without ``index=False``) writes its row index there,
    which would silently become a feature."""
    if names is None or all(names):
        return
    column = names.index("") + 1
    raise _fail(path, f"{what} (column {column} of the header, line 1, has no name"
                + ("; pandas' to_csv writes its index there: save with index=False"
                   if column == 1 else "") + ")")


def _separator_note(first: str) -> str:
    """A hint for a line 1 without a comma but with semicolons or tabs (a
    European spreadsheet export, a TSV file): fields split at commas only."""
    if "," not in first:
        for char, name in ((";", "semicolons"), ("\t", "tabs")):
            if char in first:
                return f"; line 1 has {name} but no comma: fields must be separated by commas"
    return ""


def _first_line_note(problem, header: str):
    """``problem`` (a bad line's description), with a hint when it is line 1
    read as data by ``header="auto"``: a header of numeric names needs ``yes``."""
    if (problem is not None and header == "auto" and problem.startswith("line 1, ")
            and problem.endswith("is not a number")):
        return problem + ("; a first line with a number among its fields is data "
                          "(if line 1 holds column names, pass header='yes' (CLI: --header yes))")
    return problem


def _read_csv_text_labels(path, max_bytes, header, label=None):
    """``(X, y, names)`` from a CSV table of numbers whose label column
    (``label``, see :func:`read_xy`; the last by default) may be text (class
    labels): ``y`` is float64 when every label is a number, else strings
    (surrounding spaces removed).  Errors name the file line."""
    what = "not a CSV table of numeric features and a label column"
    data = _csv_bytes(path, max_bytes)
    try:
        first = data.split(b"\n", 1)[0].decode("utf-8")
        first_fields = _scan_fields(first)[0]
        columns = len(first_fields)
        if columns < 2:
            raise _fail(path, "needs at least two columns (features, then y"
                        + _separator_note(first) + ")")
        if isinstance(label, str):  # a name: the header read by the plain rule
            names = _csv_header(data, header)[1]
            j = _label_column(path, label, names, first_fields, columns)
        else:
            j = _label_column(path, label, None, first_fields, columns)
            names = _csv_header(data, header, text_column=j)[1]
        skip = 0 if names is None else 1
        problem = _first_line_note(_csv_problem(data, skip, text_column=j), header)
        if problem is not None:
            raise _fail(path, f"{what} ({problem}{_separator_note(first)})")
        _check_names(path, names, what)
        try:
            X = _parse_csv(data, skip, usecols=[i for i in range(columns) if i != j])
            labels = _parse_csv(data, skip, usecols=[j], dtype=str)[:, 0]
        except _PARSE_ERRORS as exc:
            raise _fail(path, f"{what} ({_oneline(exc)})") from None
    except UnicodeError:
        raise _fail(path, f"{what} (not UTF-8 text)") from None
    if X.shape[0] == 0:
        raise _fail(path, f"{what} (no data rows)")
    labels = np.char.strip(labels)
    if names is not None:
        names = (names[:j] + names[j + 1:], names[j])
    if all(_is_number(label) for label in labels):
        return X, labels.astype(np.float64), names
    return X, labels, names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def _label_column(path, label, names, first_fields, columns: int) -> int:
    """The 0-based column of ``label`` (:func:`read_xy`) in a table of
    ``columns`` columns with header ``names`` (or ``None``): the last for
    ``None``, a header name, or a column number (0 the first, -1 the last)."""
    if label is None:
        return columns - 1
    if isinstance(label, str):
        if names is None:
            raise _fail(path, f"no header row to find the label column {label!r} by name "
                        + ("(an .npy table has none)" if first_fields is None else
                           f"(line 1 is {', '.join(first_fields)[:60]!r})")
                        + "; pass its number (0 the first column, -1 the last)"
                        + ("" if first_fields is None else ", or add a header"))
        if names.count(label) != 1:
            raise _fail(path, f"{'no' if label not in names else 'more than one'} column "
                              f"named {label!r} for the labels; the header has "
                              f"{', '.join(names)[:200]}")
        return names.index(label)
    if not -columns <= label < columns:
        raise _fail(path, f"no label column {label}: the table has {columns} columns, "
                          f"numbered 0 to {columns - 1} (or -1 for the last)")
    return label % columns


#: Fields that are a missing value, whatever the case: R's ``NA``, pandas'
#: ``<NA>`` and ``NaN``, spreadsheets' ``#N/A``, SQL's ``NULL`` (an empty
#: field is one too).  Only named in errors: a table never holds them.
_MISSING = frozenset({"na", "n/a", "#n/a", "<na>", "nan", "-nan", "+nan", "null"})
_MISSING_FIX = "drop or impute the rows with missing values first"
# A spreadsheet's unquoted #N/A starts a comment for NumPy's reader: the rest
# of its row, or the whole row in column 1, would silently vanish.
_NA_COMMENT = re.compile(rb"#\s*n/a", re.IGNORECASE)


def _na_comment_column(raw: str):
    """The 1-based field of a spreadsheet's ``#N/A`` on a line (outside
    quotes, where ``#`` would start a comment), else ``None``."""
    code, hashed, rest = raw.partition("#")
    if (hashed and '"' not in code and not code.split(",")[-1].strip()
            and re.match(r"\s*n/a\s*(,|$)", rest, re.IGNORECASE)):
        return code.count(",") + 1
    return None


def _csv_problem(data: bytes, skip: int, text_column=None):
    """The first bad line of a CSV table, described with its 1-based file line
    number, or ``None`` if none is found (the parser's message is used then).
    Field ``text_column`` (0-based) may be any text but a missing value."""
    try:
        expected = None
        for number, raw in enumerate(data.decode("utf-8").splitlines(), start=1):
            na_column = _na_comment_column(raw) if number > skip else None
            if na_column is not None:
                label = text_column is not None and na_column == text_column + 1
                return (f"line {number}, field {na_column} is '#N/A': a missing "
                        f"{'label' if label else 'value'}; {_MISSING_FIX}")
            if not raw.split("#", 1)[0].strip():
                continue
            fields, open_field = _scan_fields(raw)
            if open_field:
                return (f"line {number}, field {open_field}: a quoted field is not closed "
                        "on its line")
            if expected is None:
                expected = len(fields)
            if number <= skip:
                continue
            if len(fields) != expected:
                return (f"line {number} has {len(fields)} fields, expected {expected}"
                        + (" as on line 1" if skip else ""))
            for column, field in enumerate(fields, start=1):
                label = text_column is not None and column == text_column + 1
                if not field or field.lower() in _MISSING:
                    shown = "empty" if not field else repr(field)
                    return (f"line {number}, field {column} is {shown}: a missing "
                            f"{'label' if label else 'value'}; {_MISSING_FIX}")
                if not _is_number(field) and not label:
                    return (f"line {number}, field {column}: {_oneline(field)[:40]!r} is "
                            "not a number")
                if not label and not math.isfinite(float(field)):
                    return (f"line {number}, field {column}: {field!r} is not a finite "
                            "number")
    except _PARSE_ERRORS:
        return None
    return None


def _parse_csv(data: bytes, skip: int, usecols=None, dtype=np.float64) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = TextIOWrapper(BytesIO(data), encoding="utf-8")
        return np.loadtxt(text, delimiter=",", quotechar='"', ndmin=2, dtype=dtype,
                          skiprows=skip, usecols=usecols)


# ------------------------------------------------------------ CLI tables
def read_table(path, *, max_bytes=None, extra_per_element: int = 8, header="auto",
               return_names=False):
    """A non-empty numeric 2-D table from CSV (optional header row) or ``.npy``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file, or a CSV file under any other name.
    max_bytes : float, optional
        Memory budget (see :func:`read_npy` and :func:`read_csv`).
    extra_per_element : int, default=8
        Bytes per element of the caller's copy (``.npy`` only).
    header : {"auto", "yes", "no"}, default="auto"
        CSV only: whether the first line holds column names (:func:`read_csv`).
    return_names : bool, default=False
        Also return the column names (``None`` without a header, and for ``.npy``).

    Returns
    -------
    table : ndarray, shape (rows, columns)
    names : list of str or None
        Only with ``return_names=True``.
    """
    names = None
    if os.fspath(path).endswith(".npy"):
        table = read_npy(path, max_bytes=max_bytes, extra_per_element=extra_per_element)
    else:
        table, names = read_csv(path, max_bytes=max_bytes, header=header,
                                return_names=True)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
        raise _fail(path, f"expected a non-empty 2-D table, got shape {table.shape}")
    return (table, names) if return_names else table


def read_xy(path, n_features=None, *, max_bytes=None, header="auto", return_names=False,
            text_labels=False, label=None):
    """``(X, y)`` from a data file; ``y`` is ``None`` when the file has no labels.

    ``.npz``: arrays ``X`` (2-D) and optionally ``y`` (1-D, one per row of
    ``X``).  CSV or ``.npy``: a 2-D table whose last column (or column
    ``label``) is ``y`` -- when ``n_features`` is given and ``label`` is not,
    only if the table has ``n_features + 1`` columns.  Values must be finite
    numbers, except class labels with ``text_labels=True``; a missing value
    (an empty field, ``NA``, ``NaN``, ``null``, ``#N/A``, any case) is an
    error naming its line and field, as is a NaN of an array, by row and
    column.  The budget counts the arrays as stored plus their float64 copies.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz``, ``.npy`` or CSV file.
    n_features : int, optional
        Expected number of columns of ``X``.
    max_bytes : float, optional
        Memory budget (see :func:`read_npy`).
    header : {"auto", "yes", "no"}, default="auto"
        CSV only: whether the first line holds column names (:func:`read_csv`).
    return_names : bool, default=False
        Also return the CSV header's names: ``(X names, y name)``, or ``None``.
    text_labels : bool, default=False
        Labels may be text (class names): a CSV table that is not all
        numbers is read again with its last column as strings (the header
        rule then ignores that column: ``1,0,cat`` on line 1 is data; but
        pandas' names, the other fields the column numbers at their places
        and a label that no other line has, as ``0,1,y``, are a header:
        ``header="no"`` reads such a line as data), and an ``.npz``'s ``y``
        may be a string array (or bool, kept as bool).  Labels that are all
        numbers are float64 either way.  The numbers' error stands when the
        labels are mostly numbers (a stray ``1x`` is a typo, named by its
        line); class names next to other than ``n_features`` inputs are
        refused counting the columns.
    label : str or int, optional
        CSV or ``.npy`` only: the label column, by its header name or its
        number (0 the first column, -1 the last: the default); that column
        is then always read as ``y``, the others as ``X``.

    Returns
    -------
    X : ndarray of float64, shape (m, n)
    y : ndarray of float64 (or str, see ``text_labels``), shape (m,), or None
    names : tuple (list of str, str or None), or None
        Only with ``return_names=True``.

    Raises
    ------
    UnreadableFileError
        For a missing, malformed or oversize file, or NaN/infinite values.
    """
    if label is not None and (isinstance(label, bool)
                              or not isinstance(label, (str, Integral))):
        raise TypeError(f"label must be a column name (str) or number (int), got "
                        f"{type(label).__name__}")
    if isinstance(label, Integral):
        label = int(label)
    if os.fspath(path).endswith(".npz"):
        if label is not None:
            raise _fail(path, "an .npz archive holds its labels as the array y: it has no "
                              "label column to choose; leave out the label option")
        kinds = {"y": NUMERIC_KINDS + "U"} if text_labels else None
        arrays = read_npz(path, keys=("X", "y"), max_bytes=max_bytes, extra_per_element=8,
                          kinds=kinds)
        if "X" not in arrays:
            raise _fail(path, "the archive needs an array named X (and y for labels)")
        X, y = arrays["X"], arrays.get("y")
        names = None
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise _fail(path, f"X must be a non-empty 2-D array (n_samples, n_features), "
                              f"got shape {X.shape}")
        if y is not None and (y.ndim != 1 or y.shape[0] != X.shape[0]):
            raise _fail(path, f"y must be 1-D with one label per row of X ({X.shape[0]}), "
                              f"got shape {y.shape}")
    elif text_labels and not os.fspath(path).endswith(".npy"):
        try:
            return read_xy(path, n_features, max_bytes=max_bytes, header=header,
                           return_names=return_names, label=label)
        except UnreadableFileError as numeric_error:
            # Not all numbers: class names in the label column, or a bad value
            # (then this reader names its line).
            X, y, names = _read_csv_text_labels(path, max_bytes, header, label)
            numbers = 0 if y.dtype.kind == "f" else sum(map(_is_number, y))
            if 2 * numbers > len(y):
                # Labels mostly numbers with a few that are not: a typo, which
                # the numeric reader names by line.
                raise numeric_error from None
            if n_features is not None and X.shape[1] != n_features:
                # Features and class names, but of another width (another
                # data set): count the columns, as for a numeric table.
                where = "the last column" if label is None else f"column {label}"
                raise _fail(path, f"{X.shape[1]} input columns besides the class names in "
                                  f"{where}, but {n_features} are expected") from None
    else:
        table, columns = read_table(path, max_bytes=max_bytes, header=header,
                                    return_names=True)
        if label is not None or n_features is None or table.shape[1] == n_features + 1:
            if table.shape[1] < 2:
                raise _fail(path, "needs at least two columns (features, then y)")
            first = (None if os.fspath(path).endswith(".npy") else
                     [f"{v:g}" for v in table[0]] if columns is None else columns)
            j = _label_column(path, label, columns, first, table.shape[1])
            X, y = np.delete(table, j, axis=1), table[:, j]
            names = None if columns is None else (columns[:j] + columns[j + 1:], columns[j])
        else:
            X, y = table, None
            names = None if columns is None else (columns, None)
    # float64, as documented (and budgeted): an int8, bool or uint8 array as
    # stored wrapped around under the caller's arithmetic (1 - 2 * X).
    X = X.astype(np.float64, copy=False)
    # Class labels stored as bool stay bool: classes False/True, as a fit on
    # the same arrays in memory has (float64 made them 0/1).
    if y is not None and y.dtype.kind != "U" and not (text_labels and y.dtype.kind == "b"):
        y = y.astype(np.float64, copy=False)
    for name, array in (("X", X), ("y", y)):
        if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _fail(path, _nonfinite_problem(path, name, array, max_bytes, header,
                                                 names is not None))
    return (X, y, names) if return_names else (X, y)


def _nonfinite_problem(path, name, array, max_bytes, header, named) -> str:
    """Where the first NaN or infinity of ``array`` (``X`` or ``y`` of ``path``)
    is: its CSV line and field (a ``nan`` field, read as a number), or its
    row and column, with the fix for a missing value."""
    if not os.fspath(path).endswith((".npz", ".npy")):
        problem = _csv_problem(_csv_bytes(path, max_bytes), int(named))
        if problem is not None:
            return problem
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    value = array[where]
    at = f"row {where[0]}" + (f", column {where[1]}" if len(where) > 1 else "")
    if np.isnan(value):
        return f"{name} {at} (0-based) is NaN: a missing value; {_MISSING_FIX}"
    return f"{name} {at} (0-based) is {value}: values must be finite"


# ---------------------------------------------------------------- writing
# Temporary files of the atomic writes in progress, by path: a process that
# ends with os._exit (the command line's Ctrl-C watchdog) runs no finally
# blocks, so it removes them with _discard_pending() first.
_PENDING: set = set()


def _discard_pending() -> None:
    """Remove the temporary files of every atomic write in progress."""
    for temporary in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _descriptor_of(path: str):
    """The open file descriptor ``path`` names -- ``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N`` -- or ``None``."""
    absolute = os.path.abspath(path)
    named = {"/dev/stdout": 1, "/dev/stderr": 2}
    if absolute in named:
        return named[absolute]
    for prefix in ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/"):
        number = absolute[len(prefix):]
        if absolute.startswith(prefix) and number.isdigit():
            return int(number)
    return None


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", **open_kwargs):
    """Open a temporary file next to ``path``; on success move it over ``path``.

    ``with atomic_write("out.csv", "w", encoding="utf-8") as handle: ...``
    writes into a hidden temporary file in the same directory, flushes and
    fsyncs it, and :func:`os.replace` s it onto ``path`` when the block ends
    without an exception.  On any exception (including KeyboardInterrupt)
    the temporary file is removed and ``path`` is left as it was; so is it
    when the command line's Ctrl-C watchdog ends the process with
    :func:`os._exit` mid-write.  A new
    file gets the usual permissions (``0o666`` minus the umask); a replaced
    file keeps its mode.

    A symbolic link is followed: the file it points to is replaced and the
    link kept.  A path naming an open descriptor (``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N``) is written at that descriptor's offset,
    whatever it is (a terminal, a pipe, or a shell redirect to a file, which
    keeps what was written before); any other path that is not a regular
    file -- a FIFO, a device -- cannot be replaced and is written through
    (no atomicity in either case: nothing to keep); a directory, or a
    directory that does not exist, is a :class:`DirectoryNotFileError` or
    :class:`MissingDirectoryError` naming it (each an :class:`OSError` and a
    :class:`ValueError`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    mode : str, default="wb"
        Mode of :func:`open` for the temporary file.
    **open_kwargs
        Passed to :func:`open` (``encoding=``, ``newline=``...).

    Yields
    ------
    file object
        The open temporary file.
    """
    path = os.fspath(path)
    if not path:  # realpath("") is the working directory: refuse before touching it
        raise ValueError("path must name a file, got an empty path")
    descriptor = _descriptor_of(path)
    if descriptor is not None:
        # /dev/stdout and the like name an open descriptor, which may be a
        # shell redirect to a regular file: replacing (or reopening, which
        # truncates) that file would lose what the process and the shell
        # wrote before.  Write at the descriptor's own offset instead.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        with os.fdopen(os.dup(descriptor), mode, **open_kwargs) as handle:
            yield handle
        return
    try:
        info = os.stat(path)  # of what a symlink points to
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise DirectoryNotFileError(errno.EISDIR, "is a directory, not a file to write; "
                                    "add a file name", path)
    if info is not None and not stat.S_ISREG(info.st_mode):
        # A FIFO or device (/dev/full, a named pipe): os.replace would put a
        # regular file in its place and its reader would get nothing.  Write
        # into it.
        with open(path, mode, **open_kwargs) as handle:
            yield handle
        return
    # Replacing a symlink by a file would cut it from its target: replace
    # the file it points to.
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        raise MissingDirectoryError(errno.ENOENT, f"its directory does not exist ({directory}); "
                                    "create it first or write into an existing folder", path)
    file_mode = _new_file_mode() if info is None else stat.S_IMODE(info.st_mode)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, path) from None
    _PENDING.add(temporary)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, file_mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        _PENDING.discard(temporary)


def save_npz(path, **arrays) -> str:
    """Write ``arrays`` as an uncompressed ``.npz``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write (``.npz`` appended unless present, :func:`npz_path`).
    **arrays
        The arrays, by name.

    Returns
    -------
    str
        The path written.
    """
    path = npz_path(path)
    with atomic_write(path) as handle:
        np.savez(handle, **arrays)
    return path


def save_npy(path, array) -> str:
    """Write one array as ``.npy`` at exactly ``path``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write.
    array : array_like
        Saved with ``allow_pickle=False``.

    Returns
    -------
    str
        The path written.
    """
    with atomic_write(path) as handle:
        np.save(handle, np.asarray(array), allow_pickle=False)
    return os.fspath(path)


def save_txt_array(path, array, **savetxt_kwargs) -> str:
    """Write an array as text (:func:`numpy.savetxt`) at ``path``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write.
    array : array_like
        1-D or 2-D.
    **savetxt_kwargs
        Passed to :func:`numpy.savetxt` (``delimiter=``, ``fmt=``...).

    Returns
    -------
    str
        The path written.
    """
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        np.savetxt(handle, array, **savetxt_kwargs)
    return os.fspath(path)


def save_text(path, text: str) -> str:
    """Write ``text`` (UTF-8) at ``path``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write.
    text : str
        The contents.

    Returns
    -------
    str
        The path written.
    """
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return os.fspath(path)


def save_figure(figure, path, **savefig_kwargs) -> str:
    """Save a matplotlib figure at ``path``, atomically, in the format its
    suffix names (PNG when it has none).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Where to write; its suffix picks the format.
    **savefig_kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig` (``dpi=``...).

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    supported = figure.canvas.get_supported_filetypes()
    if suffix not in supported:
        raise ValueError(f"{path}: cannot save a figure as .{suffix}; use one of "
                         + ", ".join(f".{kind}" for kind in sorted(supported)))
    with atomic_write(path) as handle:
        figure.savefig(handle, format=suffix, **savefig_kwargs)
    return path

