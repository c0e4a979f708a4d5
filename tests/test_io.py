"""Tests for sparselearn.io: hostile files are refused with one ValueError
naming the file, before anything large is read; writes are atomic; the
suffix rule is the same for save and load."""
import os
import pathlib
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparselearn import LowDegreeClassifier, LowDegreeRegressor, SparseReLUNetwork, io
from sparselearn.targets import random_network

TiB8 = (2**40,)  # float64 elements: 8 TiB


# ------------------------------------------------------------ crafting helpers
def npy_header(shape, descr="<f8", fortran_order=False) -> bytes:
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return buffer.getvalue()


def npy_bytes(array) -> bytes:
    buffer = __import__("io").BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def make_zip(members) -> bytes:
    """A zip archive from ``(name, stored_bytes, method, crc, uncompressed_size)``."""
    out, central = b"", b""
    for name, data, method, crc, size in members:
        name = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc,
                           len(data), size, len(name), 0) + name + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33,
                               crc, len(data), size, len(name), 0, 0, 0, 0, 0,
                               offset) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(central), len(out), 0)
    return out + central + end


def stored(name, payload):
    return (name, payload, zipfile.ZIP_STORED, zlib.crc32(payload), len(payload))


def zeros_bomb(header: bytes, n_zero_bytes: int):
    """A deflated member of ``header`` then ``n_zero_bytes`` zeros, built without
    compressing them all (a full flush makes every 16 MiB piece identical)."""
    chunk = bytes(16 << 20)
    assert n_zero_bytes % len(chunk) == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    data += piece * (n_zero_bytes // len(chunk)) + compressor.flush()
    crc = zlib.crc32(header)
    for _ in range(n_zero_bytes // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return ("X.npy", data, zipfile.ZIP_DEFLATED, crc, len(header) + n_zero_bytes)


@pytest.fixture
def saved_net(tmp_path):
    net = random_network(6, 5, random_state=0)
    return net, pathlib.Path(net.save(tmp_path / "net.npz"))


# ------------------------------------------------------------------- .npy
def test_npy_round_trip_keeps_dtype_shape_and_order(tmp_path):
    for array in (np.arange(12.0).reshape(3, 4), np.asfortranarray(np.ones((2, 5))),
                  np.array([True, False]), np.arange(6, dtype=">i4").reshape(2, 3),
                  np.zeros((0, 3)), np.array(2.5)):
        path = io.save_npy(tmp_path / "a.npy", array)
        loaded = io.read_npy(path)
        assert loaded.dtype == array.dtype and loaded.shape == array.shape
        np.testing.assert_array_equal(loaded, array)


def test_npy_declaring_8_tib_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header(TiB8))
    assert path.stat().st_size < 200
    with pytest.raises(io.UnreadableFileError, match=r"huge.npy: .*8.0 TiB"):
        io.read_npy(path)


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (npy_bytes(np.ones(3))[:20], "truncated .npy header"),
    # The length field is complete but the dictionary is cut: numpy's Python 2
    # fallback tokenizes it and raises tokenize.TokenError.
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 64)
     + b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,".ljust(63) + b"\n",
     "malformed .npy header"),
    (npy_bytes(np.ones(3))[:-4], "truncated"),
    (b"\x93NUMPY\x07\x00rest", "unsupported .npy format version"),
    (b"plain text, not numpy", "no NUMPY magic"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<L", 2**31), "-byte .npy header"),
])
def test_malformed_npy_files(tmp_path, content, match):
    path = tmp_path / "bad.npy"
    path.write_bytes(content)
    with pytest.raises(io.UnreadableFileError, match=match) as info:
        io.read_npy(path)
    assert str(path) in str(info.value)


def test_zip_named_npy_is_refused(tmp_path):
    path = tmp_path / "archive.npy"
    np.savez(tmp_path / "archive.npz", X=np.ones((2, 2)))
    path.write_bytes((tmp_path / "archive.npz").read_bytes())
    with pytest.raises(io.UnreadableFileError, match="zip archive"):
        io.read_npy(path)


@pytest.mark.parametrize("array, kind", [
    (np.array([1 + 2j]), "complex"), (np.array(["1.5", "2"]), "string"),
    (np.array([b"ab"]), "bytes"), (np.array(["2020-01-01"], dtype="M8[D]"), "datetime"),
    (np.zeros(2, dtype=[("a", "<f8")]), "structured"),
])
def test_npy_non_numeric_dtypes_are_refused(tmp_path, array, kind):
    path = tmp_path / "a.npy"
    np.save(path, array)
    with pytest.raises(io.UnreadableFileError, match=kind):
        io.read_npy(path)


def test_npy_object_array_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(io.UnreadableFileError, match="allow_pickle=False"):
        io.read_npy(path)


# ------------------------------------------------------------------- .npz
def test_npz_declaring_8_tib_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.npz"
    path.write_bytes(make_zip([stored("X.npy", npy_header(TiB8 + (1,)))]))
    assert path.stat().st_size < 400
    with pytest.raises(io.UnreadableFileError, match=r"huge.npz: .*8.0 TiB"):
        io.read_npz(path)
    with pytest.raises(ValueError, match="TiB"):  # with its float64 copy: 16 TiB
        io.read_xy(path)


def test_npz_zip_directory_sizes_are_checked_before_any_member(tmp_path):
    # The directory claims 3 GiB uncompressed for a member of a few bytes.
    payload = npy_bytes(np.ones(2))
    member = ("X.npy", payload, zipfile.ZIP_STORED, zlib.crc32(payload), 3 * 2**30)
    path = tmp_path / "liar.npz"
    path.write_bytes(make_zip([member]))
    with pytest.raises(io.UnreadableFileError, match="3.0 GiB"):
        io.read_npz(path, max_bytes=2**30)


def test_npz_zip_bomb_is_refused_before_decompression_with_bounded_rss(tmp_path):
    """512 MiB of compressed zeros in a 512 KiB file, as a boolean X: with its
    float64 copy the data reader would need 4.5 GiB, over the 4 GiB budget.
    A child process reads it; its peak RSS stays near the interpreter's own."""
    path = tmp_path / "bomb.npz"
    path.write_bytes(make_zip([zeros_bomb(npy_header((2**25, 16), "|b1"), 2**29)]))
    assert path.stat().st_size < 1 << 20
    # VmHWM, the peak of this process image: getrusage's ru_maxrss would
    # also count the pytest process it was forked from (Linux keeps the
    # larger of the two across execve), which grows over the suite.
    script = textwrap.dedent(f"""
        from sparselearn import io
        try:
            io.read_xy({str(path)!r})
        except io.UnreadableFileError as exc:
            print("refused:", exc)
        with open("/proc/self/status") as status:
            print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused:") and "4.5 GiB" in lines[0]
    assert int(lines[1]) < 400 * 1024  # KiB: far below the 512 MiB of zeros


def test_npz_bomb_lying_about_its_size_inflates_no_more_than_declared(tmp_path):
    # The directory says 160 bytes; the deflate stream holds 16 MiB more.
    name, data, method, crc, size = zeros_bomb(npy_header((2,)), 16 << 20)
    header = npy_header((2,))
    path = tmp_path / "liar.npz"
    path.write_bytes(make_zip([(name, data, method, crc, len(header) + 16)]))
    with pytest.raises(io.UnreadableFileError, match="liar.npz"):
        io.read_npz(path)


def _flip_last_data_byte(path):
    data = bytearray(path.read_bytes())
    end = data.index(b"PK\x01\x02")  # the central directory follows the last member
    data[end - 1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_npz_corrupt_crc(tmp_path, saved_net):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.ones((4, 3)))
    _flip_last_data_byte(path)
    with pytest.raises(io.UnreadableFileError, match="(?i)crc"):
        io.read_npz(path)
    _, net_path = saved_net
    _flip_last_data_byte(net_path)
    with pytest.raises(ValueError, match="(?i)crc"):
        SparseReLUNetwork.load(net_path)


def test_npz_zip64_locator_claiming_two_disks(tmp_path, saved_net):
    """zipfile.is_zipfile itself raises BadZipFile on this file."""
    _, path = saved_net
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 2)
    path.write_bytes(data[:end] + locator + data[end:])
    with pytest.raises(io.UnreadableFileError, match="not a readable .npz"):
        io.read_npz(path)
    with pytest.raises(ValueError, match="not a readable .npz"):
        SparseReLUNetwork.load(path)


def rebuilt(path, replace: dict) -> bytes:
    """The archive at ``path`` rebuilt with some members' bytes (and method) replaced."""
    members = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            payload, method = replace.get(info.filename, (archive.read(info), 0))
            members.append((info.filename, payload, method, zlib.crc32(payload),
                            len(payload)))
    return make_zip(members)


def test_npz_unsupported_compression_method(tmp_path):
    """np.load raises NotImplementedError here."""
    model, _ = _fitted(LowDegreeRegressor)
    path = pathlib.Path(model.save(tmp_path / "model.npz"))
    coef = npy_bytes(model.coef_)
    path.write_bytes(rebuilt(path, {"coef.npy": (coef, 99)}))
    with pytest.raises(io.UnreadableFileError, match="compression method 99"):
        io.read_npz(path)
    with pytest.raises(ValueError, match="compression method 99"):
        LowDegreeRegressor.load(path)


_TRUNCATED_HEADER = (b"\x93NUMPY\x01\x00" + struct.pack("<H", 64)
                     + b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,".ljust(63)
                     + b"\n")


def test_npz_truncated_member_header_through_the_model_loaders(tmp_path, saved_net):
    """numpy's header parser raises tokenize.TokenError on these archives."""
    _, net_path = saved_net
    net_path.write_bytes(rebuilt(net_path, {"weights.npy": (_TRUNCATED_HEADER, 0)}))
    with pytest.raises(io.UnreadableFileError, match="malformed .npy header"):
        SparseReLUNetwork.load(net_path)
    for cls in (LowDegreeRegressor, LowDegreeClassifier):
        model, _ = _fitted(cls, (0, 1) if cls is LowDegreeClassifier else None)
        path = pathlib.Path(model.save(tmp_path / "model.npz"))
        path.write_bytes(rebuilt(path, {"coef.npy": (_TRUNCATED_HEADER, 0)}))
        with pytest.raises(io.UnreadableFileError, match="malformed .npy header"):
            cls.load(path)


@pytest.mark.parametrize("X", [np.ones(5), np.array(1.0), np.ones((0, 3)), np.ones((3, 0))])
def test_npz_x_must_be_a_non_empty_matrix(tmp_path, X):
    path = tmp_path / "data.npz"
    np.savez(path, X=X)
    with pytest.raises(io.UnreadableFileError, match="X must be a non-empty 2-D"):
        io.read_xy(path)


def test_npz_y_must_match_x(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.ones((3, 2)), y=np.ones(4))
    with pytest.raises(io.UnreadableFileError, match="one label per row"):
        io.read_xy(path)


def test_npz_without_x_and_single_npy_named_npz(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, Z=np.ones((3, 2)))
    with pytest.raises(io.UnreadableFileError, match="named X"):
        io.read_xy(path)
    np.save(tmp_path / "one.npy", np.ones(3))
    (tmp_path / "one.npy").replace(path)
    with pytest.raises(io.UnreadableFileError, match="single .npy array"):
        io.read_npz(path)


def test_npz_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, X=np.array([object()], dtype=object))
    with pytest.raises(io.UnreadableFileError, match="allow_pickle=False"):
        io.read_npz(path)


def test_read_xy_returns_float64_as_documented(tmp_path):
    """X and numeric y came back as stored (int8, bool, float32, int64), not the
    documented float64: 1 - 2 * X wrapped around on a uint8 0/1 table."""
    bits = np.array([[0, 1, 1], [1, 0, 0]], dtype=np.uint8)
    np.savez(tmp_path / "xy.npz", X=bits, y=np.array([3, 4]))
    np.savez(tmp_path / "flags.npz", X=bits.astype(bool))
    np.save(tmp_path / "t.npy", np.column_stack([bits, [7, 8]]).astype(np.float32))
    for name in ("xy.npz", "flags.npz", "t.npy"):
        X, y = io.read_xy(tmp_path / name)
        assert X.dtype == np.float64 and (y is None or y.dtype == np.float64)
        np.testing.assert_array_equal(1 - 2 * X, 1.0 - 2.0 * bits)
    assert io.read_xy(tmp_path / "xy.npz")[1].tolist() == [3.0, 4.0]
    np.savez(tmp_path / "names.npz", X=bits, y=np.array(["cat", "dog"]))
    assert io.read_xy(tmp_path / "names.npz", text_labels=True)[1].dtype.kind == "U"


def test_read_xy_refuses_nan_in_one_line(tmp_path):
    X = np.ones((200, 30))
    X[5, 5] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(io.UnreadableFileError) as info:
        io.read_xy(tmp_path / "nan.npy")
    message = str(info.value)
    assert "NaN" in message and "\n" not in message and len(message) < 200


# ------------------------------------------------------------------- CSV
def test_csv_with_and_without_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,-1,0.5\n-1,1,2\n")
    np.testing.assert_array_equal(io.read_csv(path), [[1, -1, 0.5], [-1, 1, 2]])
    X, y = io.read_xy(path)
    np.testing.assert_array_equal(y, [0.5, 2])
    path.write_text("1,-1\n")
    assert io.read_table(path).shape == (1, 2)
    # A UTF-8 byte-order mark (spreadsheet exports) is no header: both rows read.
    path.write_bytes(b"\xef\xbb\xbf0.5,-1\n2,1\n")
    np.testing.assert_array_equal(io.read_csv(path), [[0.5, -1], [2, 1]])
    path.write_bytes(b"\xef\xbb\xbfa,y\n2,1\n")
    assert io.read_csv(path, return_names=True)[1] == ["a", "y"]


@pytest.mark.parametrize("content, match", [
    (b"a,b\nc,d\n", "not a numeric CSV"), (b"\xff\xfe\x00", "binary|UTF-8"),
    (b"1,2\n3\n", "not a numeric CSV"), (b"", "non-empty 2-D"),
    (b"1,2\n1+2j,3\n", "not a numeric CSV"), (b"x,y\n", "no numeric rows"),
])
def test_malformed_csv(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(io.UnreadableFileError, match=match):
        io.read_table(path)


def test_csv_size_is_checked_before_parsing(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("1,2\n" * 1000)
    with pytest.raises(io.UnreadableFileError, match="CSV"):
        io.read_csv(path, max_bytes=1000)


# --------------------------------------------------------- non-regular files
@pytest.mark.parametrize("name", ["zero.csv", "zero.npz", "zero.npy"])
def test_symlink_to_dev_zero_is_refused(tmp_path, name):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    path = tmp_path / name
    path.symlink_to("/dev/zero")
    reader = {".csv": io.read_csv, ".npz": io.read_npz, ".npy": io.read_npy}[path.suffix]
    with pytest.raises(io.UnreadableFileError, match="is a device, not a regular file"):
        reader(path)
    with pytest.raises(io.UnreadableFileError, match="not a regular file"):
        io.read_xy(path)


def test_fifo_and_directory_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(io.UnreadableFileError, match="is a FIFO"):
        io.read_csv(fifo)
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    with pytest.raises(io.UnreadableFileError, match="is a directory"):
        io.read_npz(folder)
    with pytest.raises(io.UnreadableFileError, match="is a directory"):
        SparseReLUNetwork.load(folder)


def test_read_bytes_checks_the_file_and_its_budget_before_reading(tmp_path):
    path = tmp_path / "model.onnx"
    data = bytes(range(256)) * 4
    path.write_bytes(data)
    assert io.read_bytes(path) == data
    assert io.read_bytes(path, max_bytes=3 * len(data), memory_per_byte=3) == data
    with pytest.raises(io.UnreadableFileError, match=r"model\.onnx: .*reading a 1\.0 KiB "
                                                     r"ONNX model"):
        io.read_bytes(path, max_bytes=3 * len(data) - 1, memory_per_byte=3, what="ONNX model")
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)   # would block a plain open()
    with pytest.raises(io.UnreadableFileError, match="is a FIFO"):
        io.read_bytes(fifo)
    if os.path.exists("/dev/zero"):
        (tmp_path / "zero.onnx").symlink_to("/dev/zero")
        with pytest.raises(io.UnreadableFileError, match="is a device"):
            io.read_bytes(tmp_path / "zero.onnx")
    with pytest.raises(io.UnreadableFileError, match="missing.onnx: no such file"):
        io.read_bytes(tmp_path / "missing.onnx")


def test_missing_file(tmp_path):
    with pytest.raises(io.UnreadableFileError, match="missing.npy: no such file"):
        io.read_npy(tmp_path / "missing.npy")


# ------------------------------------------------------------ suffix rule
def test_network_save_and_load_share_the_suffix_rule(tmp_path):
    net = random_network(5, 4, random_state=1)
    written = net.save(tmp_path / "net")
    assert written == str(tmp_path / "net.npz") and os.path.exists(written)
    assert SparseReLUNetwork.load(tmp_path / "net") == net
    assert SparseReLUNetwork.load(written) == net
    assert io.npz_path("model.pkl") == "model.pkl.npz"
    assert io.npz_path("model.npz") == "model.npz"
    # A file given without the suffix, e.g. a CSV where a model belongs: the
    # message names it, not the .npz path the rule looked for.
    table = tmp_path / "data.csv"
    table.write_text("1,2\n")
    with pytest.raises(io.UnreadableFileError,
                       match=r"data.csv: not a saved model or network: those are .npz "
                             r"archives \(and there is no data.csv.npz\)"):
        SparseReLUNetwork.load(table)
    # A folder, likewise (it was "FOLDER.npz: no such file").
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(io.UnreadableFileError,
                       match=r"models: is a directory, not a saved .npz archive"):
        SparseReLUNetwork.load(folder)


def _fitted(cls, labels=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(300, 6))
    y = X[:, 0] * X[:, 2] - 0.3 * X[:, 4]
    if labels is not None:
        y = np.where(y > 0, labels[1], labels[0])
    return cls(degree=2).fit(X, y), X


def test_regressor_save_load_suffix_rule(tmp_path):
    model, X = _fitted(LowDegreeRegressor)
    written = model.save(tmp_path / "model")
    assert written.endswith("model.npz")
    np.testing.assert_array_equal(LowDegreeRegressor.load(tmp_path / "model").predict(X),
                                  model.predict(X))


@pytest.mark.parametrize("labels", [(0, 1), (-1.0, 2.0), ("cat", "dog"), (False, True)])
def test_classifier_save_load_round_trip(tmp_path, labels):
    model, X = _fitted(LowDegreeClassifier, labels)
    path = model.save(tmp_path / "clf")
    loaded = LowDegreeClassifier.load(path)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    assert loaded.get_params() == {**model.get_params(), "random_state": None}
    # The two kinds of model do not read each other's files.
    with pytest.raises(ValueError, match="not a saved LowDegreeRegressor, but a saved "
                                         r"LowDegreeClassifier \(LowDegreeClassifier.load"):
        LowDegreeRegressor.load(path)


def test_a_network_of_an_unknown_format_version_says_so(tmp_path):
    path = random_network(4, 3, random_state=0).save(tmp_path / "net")
    arrays = dict(np.load(path))
    arrays["format"] = np.array("sparselearn.SparseReLUNetwork/3")
    np.savez(path, **arrays)
    # It said "(not a saved SparseReLUNetwork)".
    with pytest.raises(io.UnreadableFileError, match="a SparseReLUNetwork saved in format "
                       "'3', which this version of sparselearn cannot read .it reads format 2, 1"):
        SparseReLUNetwork.load(path)


@pytest.mark.parametrize("name", ["model.pt", "mlp.joblib"])
def test_a_torch_or_pickled_model_file_gets_the_conversion(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x80\x04not an archive")
    with pytest.raises(io.UnreadableFileError, match=f"{name}: not a saved model or network.*"
                       r"SparseReLUNetwork.from_torch\(module\).save\(path\)"):
        SparseReLUNetwork.load(path)
    with pytest.raises(io.UnreadableFileError, match="from_sklearn"):
        LowDegreeRegressor.load(path)


def test_an_onnx_file_gets_the_conversion(tmp_path):
    path = tmp_path / "mlp.onnx"
    path.write_bytes(b"\x08\x09not an archive")
    with pytest.raises(io.UnreadableFileError, match=r"mlp.onnx: not a saved model or network.*"
                       r"SparseReLUNetwork.from_onnx\('.*mlp.onnx'\).save\(path\)"):
        SparseReLUNetwork.load(path)


def test_a_file_of_another_kind_is_named_by_its_format_tag(tmp_path):
    net_path = random_network(4, 3, random_state=0).save(tmp_path / "net")
    with pytest.raises(io.UnreadableFileError, match=r"net.npz: not a saved LowDegreeRegressor, "
                       r"but a saved SparseReLUNetwork \(SparseReLUNetwork.load reads it\)"):
        LowDegreeRegressor.load(net_path)
    model, _ = _fitted(LowDegreeRegressor, None)
    model_path = model.save(tmp_path / "model")
    with pytest.raises(io.UnreadableFileError, match="not a saved SparseReLUNetwork, but a "
                                                     "saved LowDegreeRegressor"):
        SparseReLUNetwork.load(model_path)
    np.savez(tmp_path / "foreign.npz", format=np.array("other/1"), weights=np.zeros(2))
    with pytest.raises(io.UnreadableFileError, match=r"not a saved SparseReLUNetwork: it holds"):
        SparseReLUNetwork.load(tmp_path / "foreign.npz")


def test_classifier_with_object_labels_cannot_be_saved(tmp_path):
    model, _ = _fitted(LowDegreeClassifier, (0, 1))
    model.classes_ = np.array([None, "a"], dtype=object)
    with pytest.raises(TypeError, match="without pickle"):
        model.save(tmp_path / "clf.npz")
    assert not os.listdir(tmp_path)


def _model_arrays(tmp_path):
    model, _ = _fitted(LowDegreeRegressor)
    path = model.save(tmp_path / "model.npz")
    return io.read_npz(path, kinds={"format": "U", "params": "U"})


def test_nested_params_json_gives_a_clear_error(tmp_path):
    arrays = _model_arrays(tmp_path)
    arrays["params"] = np.array("[" * 100_000 + "]" * 100_000)
    path = io.save_npz(tmp_path / "nested.npz", **arrays)
    with pytest.raises(io.UnreadableFileError, match="nested too deeply"):
        LowDegreeRegressor.load(path)
    arrays["params"] = np.array('{"degree": [[[1]]], "max_degree": 4}')
    path = io.save_npz(tmp_path / "nested.npz", **arrays)
    with pytest.raises(io.UnreadableFileError, match="malformed model"):
        LowDegreeRegressor.load(path)


def test_model_whose_subsets_exceed_the_budget_is_refused_before_building(tmp_path):
    """n = 3000, degree 2: 4.5 million parities, a 36 MB file, but about
    1.6 GiB of subsets and coefficient dictionary once loaded."""
    arrays = _model_arrays(tmp_path)
    n, degree = 3000, 2
    D = 1 + n + n * (n - 1) // 2
    arrays.update(coef=np.zeros(D), n_features=np.array(n), degree=np.array(degree))
    path = io.save_npz(tmp_path / "wide.npz", **arrays)
    with pytest.raises(ValueError, match=r"wide.npz: .*GiB"):
        LowDegreeRegressor.load(path, max_bytes=2**30)


# ------------------------------------------------------------ atomic writes
def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with io.atomic_write(path, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]
    io.save_text(path, "new\n")
    assert path.read_text() == "new\n" and os.listdir(tmp_path) == ["out.csv"]


def test_atomic_write_refuses_an_empty_path(tmp_path, monkeypatch):
    """An empty path resolved to the working directory: the temporary file
    was written there and its replace failed with an IsADirectoryError
    naming the directory.  Now a ValueError, before any file is made."""
    monkeypatch.chdir(tmp_path)
    for path in ("", b""):
        with pytest.raises(ValueError, match="empty path"):
            io.save_text(path, "text")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_gives_new_files_normal_permissions(tmp_path):
    path = io.save_text(tmp_path / "new.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_follows_symlinks_and_writes_through_fifos(tmp_path):
    """A symlink keeps pointing at its (replaced) target; a FIFO, which
    os.replace would have turned into a regular file its reader never sees,
    gets the bytes; a directory or a missing directory is an OSError naming
    the path asked for."""
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    link = tmp_path / "l.csv"
    link.symlink_to(target)
    io.save_text(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert sorted(os.listdir(tmp_path)) == ["l.csv", "t.csv"]

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen([sys.executable, "-c",
                               f"print(open({str(fifo)!r}).read(), end='')"],
                              stdout=subprocess.PIPE, text=True)
    io.save_text(fifo, "through the pipe\n")
    assert reader.communicate(timeout=30)[0] == "through the pipe\n"
    assert pathlib.Path(fifo).is_fifo()

    # /dev/stdout redirected by the shell to a file (here appending): the
    # payload lands at the descriptor's offset, after what was there and
    # what the process printed, and the file is neither replaced nor truncated.
    redirected = tmp_path / "log.txt"
    redirected.write_text("old\n")
    script = ("import sys; from sparselearn import io; print('before', flush=True); "
              "io.save_text('/dev/stdout', 'payload\\n'); print('after')")
    with open(redirected, "a") as stdout:
        subprocess.run([sys.executable, "-c", script], stdout=stdout, check=True, timeout=60)
    assert redirected.read_text() == "old\nbefore\npayload\nafter\n"
    os.unlink(redirected)

    with pytest.raises(IsADirectoryError, match="is a directory"):
        io.save_text(tmp_path, "x")
    missing = tmp_path / "no" / "such" / "m.npz"
    with pytest.raises(FileNotFoundError) as caught:
        io.save_npz(missing, a=np.zeros(1))
    assert caught.value.filename == str(missing)
    assert sorted(os.listdir(tmp_path)) == ["l.csv", "pipe", "t.csv"]


def test_every_writer_refuses_a_missing_folder_with_a_value_error_naming_path(tmp_path):
    # A path in a folder that does not exist, or a directory given as the
    # file: an OSError as before (FileNotFoundError, IsADirectoryError) and a
    # ValueError, as the guide asks of bad arguments, naming path; nothing is
    # created.
    net = random_network(3, 2, random_state=0)
    folder = tmp_path / "d.npz"
    folder.mkdir()
    missing = tmp_path / "no-such-folder" / "net.npz"
    writers = [lambda path: net.save(path), lambda path: io.save_npz(path, a=np.zeros(1)),
               lambda path: io.save_npy(path, np.zeros(2)),
               lambda path: io.save_txt_array(path, np.zeros(2)),
               lambda path: io.save_text(path, "x")]
    for write in writers:
        with pytest.raises(ValueError, match=r"path=.*no-such-folder.*: its directory does "
                           r"not exist .*create it first") as caught:
            write(missing)
        assert isinstance(caught.value, FileNotFoundError)
        assert isinstance(caught.value, io.MissingDirectoryError)
        assert caught.value.filename == str(missing)
        with pytest.raises(ValueError, match="is a directory, not a file") as caught:
            write(folder)
        assert isinstance(caught.value, IsADirectoryError)
    assert os.listdir(tmp_path) == ["d.npz"] and os.listdir(folder) == []


def test_figure_write_is_atomic(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    figure = plt.figure()
    try:
        path = tmp_path / "fig.png"
        io.save_figure(figure, path)
        good = path.read_bytes()
        assert good.startswith(b"\x89PNG")
        with pytest.raises(ValueError, match="cannot save a figure as .nonsense"):
            io.save_figure(figure, tmp_path / "fig.nonsense")

        def broken(handle, **kwargs):
            handle.write(b"partial")
            raise OSError(28, "No space left on device")
        figure.savefig = broken
        with pytest.raises(OSError):
            io.save_figure(figure, path)
        assert path.read_bytes() == good and os.listdir(tmp_path) == ["fig.png"]
    finally:
        plt.close(figure)


_FSIZE_SCRIPT = """
import os, resource, signal, sys
import numpy as np
from sparselearn import LowDegreeRegressor, cli
folder, kill = sys.argv[1], sys.argv[2] == "kill"
rng = np.random.default_rng(0)
X = rng.choice([-1.0, 1.0], size=(400, 12))
small = LowDegreeRegressor(degree=1).fit(X, X[:, 0])
path = small.save(os.path.join(folder, "model.npz"))
np.savez(os.path.join(folder, "data.npz"), X=X, y=X[:, 0] * X[:, 1])
size = os.path.getsize(path)
if kill:  # Python ignores SIGXFSZ (writes fail with EFBIG); restore the default
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 500, size + 500))
big = LowDegreeRegressor(degree=3).fit(X, X[:, 0])  # 299 coefficients: over the limit
try:
    big.save(path)
except OSError as exc:
    print("OSError", exc.errno)
code = cli.main(["learn", os.path.join(folder, "data.npz"), "--degree", "3", "--quiet",
                 "--out", path])
print("exit", code)
"""


@pytest.mark.parametrize("mode", ["ignore", "kill"])
def test_file_size_limit_mid_write_leaves_the_old_model(tmp_path, mode):
    """With SIGXFSZ ignored (Python's default) the write fails with EFBIG, the
    save raises, the CLI exits 2 and the temporary file is gone; with the
    signal's default action the process is killed mid-write.  Either way the
    old model still loads."""
    result = subprocess.run([sys.executable, "-c", _FSIZE_SCRIPT, str(tmp_path), mode],
                            capture_output=True, text=True, timeout=120)
    model = LowDegreeRegressor.load(tmp_path / "model.npz")
    assert model.degree_ == 1
    if mode == "ignore":
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["OSError", "27", "exit", "2"]
        assert "File too large" in result.stderr
        assert sorted(os.listdir(tmp_path)) == ["data.npz", "model.npz"]
    else:
        assert result.returncode == -25  # SIGXFSZ


# ---------------------------------------------------------------- fuzzing
def _valid_files(folder: pathlib.Path) -> dict:
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(12, 3))
    y = X[:, 0] * X[:, 1]
    np.savez(folder / "data.npz", X=X, y=y)
    np.save(folder / "data.npy", np.c_[X, y])
    np.savetxt(folder / "data.csv", np.c_[X, y], delimiter=",", header="a,b,c,y",
               comments="")
    random_network(3, 2, random_state=0).save(folder / "net.npz")
    LowDegreeRegressor(degree=1).fit(X, y).save(folder / "model.npz")
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@st.composite
def mutations(draw, data: bytes):
    """``data`` with a few bytes flipped, overwritten, inserted, cut or truncated."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, ord("("), ord("9"), ord(",")]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


_FILES = {}


def _file(name):
    if not _FILES:
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            _FILES.update(_valid_files(pathlib.Path(folder)))
    return _FILES[name]


_LOADERS = {
    "data.npz": [io.read_npz, io.read_xy],
    "data.npy": [io.read_npy, io.read_xy],
    "data.csv": [io.read_csv, io.read_xy],
    "net.npz": [SparseReLUNetwork.load],
    "model.npz": [LowDegreeRegressor.load],
}


@pytest.mark.parametrize("name", sorted(_LOADERS))
@settings(max_examples=60, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_files_raise_only_value_or_type_errors(tmp_path_factory, name, data):
    content = data.draw(mutations(_file(name)))
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(content)
    for loader in _LOADERS[name]:
        try:
            loader(path)
        except (ValueError, TypeError) as exc:
            assert "\n" not in str(exc) or isinstance(exc, TypeError)


def test_atheris_harness_seed_corpus_loads(tmp_path):
    """benchmarks/fuzz_loaders.py (atheris not needed): its seeds are valid files."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "fuzz_loaders", pathlib.Path(__file__).parents[1] / "benchmarks" / "fuzz_loaders.py")
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    harness.write_seed_corpus(tmp_path)
    loaders = harness._loaders()
    for seed in sorted(tmp_path.iterdir()):
        data = seed.read_bytes()
        kind = harness.KINDS[data[0]]
        path = tmp_path / kind
        path.write_bytes(data[1:])
        for loader in loaders[kind]:
            loader(path)  # no error on a valid file


def test_read_xy_text_labels(tmp_path):
    """read_xy(text_labels=True): class names in a CSV's last column (or an
    .npz's y) are kept as strings, the features still numbers; labels that
    are all numbers stay float64; the default still refuses text."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,animal\n1,-1, cat\n-1,1,dog\n# a comment\n1,1,cat\n")
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    np.testing.assert_array_equal(X, [[1, -1], [-1, 1], [1, 1]])
    assert X.dtype == np.float64 and y.dtype.kind == "U"
    assert y.tolist() == ["cat", "dog", "cat"] and names == (["a", "b"], "animal")
    with pytest.raises(io.UnreadableFileError, match="line 2, field 3: 'cat' is not a number"):
        io.read_xy(path)
    path.write_text("1,-1,cat\n-1,1,dog\n")  # no header: a text label is no sign of one
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    assert X.shape == (2, 2) and y.tolist() == ["cat", "dog"] and names is None
    path.write_text("a,y\n1,2\n-1,3\n")  # numbers: the numeric reading, as before
    X, y = io.read_xy(path, text_labels=True)
    assert y.dtype == np.float64 and y.tolist() == [2.0, 3.0]
    path.write_text("1,-1,1\n-1,1,1\n")  # n_features columns: features only
    X, y = io.read_xy(path, n_features=3, text_labels=True)
    assert X.shape == (2, 3) and y is None
    for text, match in [("a,y\n1,cat\n-1,\n", "line 3, field 2 is empty: a missing label"),
                        ("a,y\n1,cat\nx,dog\n", "line 3, field 1: 'x' is not a number"),
                        ("a,y\n1,cat\n1,1,dog\n", "line 3 has 3 fields, expected 2"),
                        ("a,y\n1,nan\n", "line 2, field 2 is .nan.: a missing label"),
                        ("y\ncat\n", "needs at least two columns"),
                        ("a,y\n", "no data rows")]:
        path.write_text(text)
        with pytest.raises(io.UnreadableFileError, match=match):
            io.read_xy(path, text_labels=True)
    # The numbers' error stands where the re-read does not fit: labels mostly
    # numbers with one typo (named by its line, not read as four classes),
    # and a table that is not this model's features plus labels.
    path.write_text("a,y\n1,1\n-1,2\n1,1x\n-1,2\n")
    with pytest.raises(io.UnreadableFileError, match="line 4, field 2: '1x' is not a number"):
        io.read_xy(path, text_labels=True)
    path.write_text("1,-1,1,cat\n-1,1,1,dog\n")
    assert io.read_xy(path, text_labels=True)[0].shape == (2, 3)
    # Features and class names of another width: the columns are counted (the
    # class name "is not a number" read as if class names could not be read).
    with pytest.raises(io.UnreadableFileError,
                       match="3 input columns besides the class names in the last column, "
                             "but 2 are expected"):
        io.read_xy(path, n_features=2, text_labels=True)  # (line 1 is data: it has numbers)
    path.write_text("1,-1,1\n-1,1,1x\n1,1,-1\n")  # features only, one typo: named
    with pytest.raises(io.UnreadableFileError, match="line 2, field 3: '1x' is not a number"):
        io.read_xy(path, n_features=3, text_labels=True)
    archive = tmp_path / "t.npz"
    np.savez(archive, X=np.ones((2, 2)), y=np.array(["cat", "dog"]))
    assert io.read_xy(archive, text_labels=True)[1].tolist() == ["cat", "dog"]
    with pytest.raises(io.UnreadableFileError, match="string"):
        io.read_xy(archive)


def test_csv_header_rule_names_and_file_lines(tmp_path):
    """Issue 13: a header only for a non-empty non-number on line 1; bad values
    and ragged rows named by their 1-based file line (the header counted)."""
    path = tmp_path / "t.csv"
    path.write_text("a, b ,y\n1,-1,0.5\n-1,1,2\n")
    table, names = io.read_csv(path, return_names=True)
    assert names == ["a", "b", "y"] and table.shape == (2, 3)
    X, y, names = io.read_xy(path, return_names=True)
    assert names == (["a", "b"], "y") and X.shape == (2, 2)
    with pytest.raises(io.UnreadableFileError, match="line 1, field 1: 'a' is not a number"):
        io.read_csv(path, header="no")
    path.write_text("1,-1,0.5\n-1,1,2\n")
    assert io.read_csv(path, return_names=True)[1] is None
    table, names = io.read_csv(path, header="yes", return_names=True)
    assert names == ["1", "-1", "0.5"] and table.shape == (1, 3)
    path.write_text("1,,0.5\n-1,1,2\n-1,1,2\n")  # empty field on line 1: not a header
    with pytest.raises(io.UnreadableFileError, match="line 1, field 2 is empty"):
        io.read_xy(path)
    path.write_text("a,b,y\n1,1,1\n\n1,1,1\n1,1,\n")  # a blank line still counts
    with pytest.raises(io.UnreadableFileError, match="line 5, field 3 is empty"):
        io.read_table(path)
    path.write_text("a,b,y\n1,1,1\n1,1,1,1\n")
    with pytest.raises(io.UnreadableFileError, match="line 3 has 4 fields, expected 3"):
        io.read_table(path)
    with pytest.raises(ValueError, match="header must be one of"):
        io.read_csv(path, header="maybe")


def test_a_first_line_with_numbers_is_data_not_a_header(tmp_path):
    """A typo in line 1's label (numeric features, numeric labels below) is
    named by its line and field, with or without text labels, instead of
    line 1 being taken for a header and the row dropped."""
    path = tmp_path / "t.csv"
    path.write_text("1,-1,1,abc\n1,1,-1,2\n-1,1,1,3\n-1,-1,-1,1\n")
    typo = "line 1, field 4: 'abc' is not a number; a first line with a number among"
    for read in (io.read_csv, io.read_table, io.read_xy,
                 lambda p: io.read_xy(p, text_labels=True),
                 lambda p: io.read_xy(p, n_features=3, text_labels=True)):
        with pytest.raises(io.UnreadableFileError, match=typo):
            read(path)
    # The hint names the argument and the command line's flag (a CLI user read
    # "pass header 'yes'" and had no such argument to pass).
    with pytest.raises(io.UnreadableFileError,
                       match=r"pass header='yes' \(CLI: --header yes\)"):
        io.read_xy(path)
    with pytest.raises(io.UnreadableFileError, match="'abc' is not a number[)]$"):
        io.read_csv(path, header="no")  # no hint about headers when told there is none
    assert io.read_csv(path, header="yes", return_names=True)[0].shape == (3, 4)
    # Names with one numeric name: data by the rule; "yes" reads them as names.
    path.write_text("x1,x2,2020,y\n1,-1,1,2\n")
    with pytest.raises(io.UnreadableFileError, match="line 1, field 1: 'x1'"):
        io.read_xy(path)
    assert io.read_xy(path, header="yes", return_names=True)[2] == (["x1", "x2", "2020"], "y")
    # pandas' default names, the column numbers in order, are a header:
    # pd.DataFrame(X).assign(y=y).to_csv(index=False) writes 0,1,2,y.
    path.write_text("0,1,2,y\n1,-1,1,2\n-1,1,1,3\n")
    X, y, names = io.read_xy(path, return_names=True)
    assert X.shape == (2, 3) and y.tolist() == [2.0, 3.0] and names == (["0", "1", "2"], "y")
    path.write_text("0,2,1,y\n1,-1,1,2\n")  # numbers out of their places: data
    with pytest.raises(io.UnreadableFileError, match="line 1, field 4: 'y'"):
        io.read_xy(path)
    # Class names on every row stay legitimate, with and without a header.
    path.write_text("1,-1,cat\n-1,1,dog\n")
    assert io.read_xy(path, text_labels=True)[1].tolist() == ["cat", "dog"]
    path.write_text("a,b,animal\n1,-1,cat\n-1,1,dog\n")
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    assert y.tolist() == ["cat", "dog"] and names == (["a", "b"], "animal")


def test_pandas_default_names_before_text_labels_are_a_header(tmp_path):
    """pd.DataFrame(X).assign(y=labels).to_csv(index=False) writes 0,1,y
    above rows of class names: with text labels the line is a header when
    its other fields are the column numbers at their places and its label
    is on no other line ("y" was read as a class of one row, (0, 1) as a
    point).  A label that other lines have makes it data."""
    path = tmp_path / "t.csv"
    path.write_text("0,1,y\n0.5,1.2,cat\n-0.3,0.1,dog\n# a comment\n0.2,0.4,cat\n")
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    assert X.tolist() == [[0.5, 1.2], [-0.3, 0.1], [0.2, 0.4]]
    assert y.tolist() == ["cat", "dog", "cat"] and names == (["0", "1"], "y")
    X, y = io.read_xy(path, n_features=2, text_labels=True)
    assert X.shape == (3, 2) and "y" not in y.tolist()
    X, y = io.read_xy(path, text_labels=True, header="no")  # told: line 1 is data
    assert X[0].tolist() == [0, 1] and y.tolist() == ["y", "cat", "dog", "cat"]
    path.write_text("y,1,2\ncat,0.5,1.2\ndog,-0.3,0.1\n")  # label first: 1, 2 the places
    X, y, names = io.read_xy(path, return_names=True, text_labels=True, label=0)
    assert X[0].tolist() == [0.5, 1.2] and y.tolist() == ["cat", "dog"]
    path.write_text("0,1,cat\n0.5,1.2,cat\n-0.3,0.1,dog\n")  # "cat" is a class: data
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    assert X[0].tolist() == [0, 1] and y.tolist() == ["cat", "cat", "dog"] and names is None
    path.write_text("0,2,y\n0.5,1.2,cat\n-0.3,0.1,dog\n")  # numbers out of place: data
    assert io.read_xy(path, text_labels=True)[1].tolist() == ["y", "cat", "dog"]
    # Only whole fields count: "y" inside "yak" or in a feature column is no
    # class named y; with CRLF endings and quotes a class "y" still is one.
    path.write_bytes(b"0,1,y\r\n0.5,1.2,yak\r\n-0.3,0.1,dog\r\n")
    assert io.read_xy(path, text_labels=True)[1].tolist() == ["yak", "dog"]
    path.write_bytes(b'0,1,y\r\n0.5,1.2,yak\r\n-0.3,0.1,"y"\r\n')
    assert io.read_xy(path, text_labels=True)[1].tolist() == ["y", "yak", "y"]


def test_quoted_csv_fields_read_as_their_values(tmp_path):
    """Double-quoted fields (R's write.csv, pandas' quoting=QUOTE_ALL, a
    class name with a comma) read as the text between the quotes, with
    "" for a quote; commas and # inside quotes are part of the field."""
    path = tmp_path / "t.csv"
    path.write_text('"a","b","y"\n"0.5","-1","1.5"\n"2",1,"3"\n')
    table, names = io.read_csv(path, return_names=True)
    assert names == ["a", "b", "y"] and table.tolist() == [[0.5, -1, 1.5], [2, 1, 3]]
    path.write_text('a,b,animal\n1,-1,"big, ""fat"" #1 cat"\n-1,1,dog\n')
    X, y, names = io.read_xy(path, return_names=True, text_labels=True)
    assert y.tolist() == ['big, "fat" #1 cat', "dog"] and X.tolist() == [[1, -1], [-1, 1]]
    assert names == (["a", "b"], "animal")
    # A quote left open on its line is named, not read across lines.
    path.write_text('a,b,animal\n1,-1,"cat\n-1,1,dog"\n1,1,eel\n')
    with pytest.raises(io.UnreadableFileError, match="line 2, field 3: a quoted field"):
        io.read_xy(path, text_labels=True)


def test_a_csv_header_with_an_empty_name_is_refused(tmp_path):
    """pandas' df.to_csv() without index=False writes its index under an
    empty name: read as a feature it silently changed the model."""
    path = tmp_path / "t.csv"
    path.write_text(",a,b,y\n0,1,-1,0.5\n1,-1,1,2\n")
    for read in (io.read_csv, io.read_xy, lambda p: io.read_xy(p, text_labels=True)):
        with pytest.raises(io.UnreadableFileError,
                           match="column 1 of the header, line 1, has no name.*index=False"):
            read(path)
    path.write_text(",a,b,y\n0,1,-1,cat\n1,-1,1,dog\n")
    with pytest.raises(io.UnreadableFileError, match="column 1 of the header"):
        io.read_xy(path, text_labels=True)
    path.write_text("a,,y\n1,-1,0.5\n")
    with pytest.raises(io.UnreadableFileError, match="column 2 of the header, line 1, has "
                                                     "no name[)]"):
        io.read_csv(path, header="yes")


def test_a_csv_separated_by_semicolons_or_tabs_says_so(tmp_path):
    """European spreadsheet exports (;) and TSV files: the error said "not a
    number" or "needs at least two columns" without naming the separator."""
    path = tmp_path / "t.csv"
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        for head in ("a,b,y".replace(",", separator) + "\n", ""):
            path.write_text(head + "0.5,1,2\n1.5,2,cat\n".replace(",", separator))
            for read in (io.read_csv, io.read_xy, lambda p: io.read_xy(p, text_labels=True)):
                with pytest.raises(io.UnreadableFileError,
                                   match=f"line 1 has {name} but no comma: fields must be "
                                         "separated by commas"):
                    read(path)


# ------------------------------------------- every write goes through io.py
_WRITING_METHODS = {"savefig", "save", "savez", "savez_compressed", "savetxt", "tofile",
                    "write_text", "write_bytes"}


def _direct_writes(path: pathlib.Path) -> list:
    """Calls in ``path`` that write a file without sparselearn.io: the numpy
    and matplotlib writers, pathlib's write_*, and open() for writing."""
    import ast
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        if isinstance(node.func, ast.Attribute) and name in _WRITING_METHODS:
            # net.save(...) / model.save(...) are the library's own atomic savers
            if name != "save" or getattr(node.func.value, "id", None) in ("np", "numpy"):
                found.append(f"{path.name}:{node.lineno} .{name}()")
        elif name == "open" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) \
                and set(str(node.args[1].value)) & set("wax+"):
            found.append(f"{path.name}:{node.lineno} open(..., {node.args[1].value!r})")
    return found


def test_library_and_examples_write_files_only_through_io():
    """Issue 10: every output (figures of the examples included) is written
    atomically by sparselearn.io; a direct savefig/np.save/open('w') would
    truncate the target first and lose it on a failure mid-write."""
    root = pathlib.Path(__file__).resolve().parents[1]
    sources = [p for p in sorted((root / "sparselearn").rglob("*.py")) if p.name != "io.py"]
    examples = sorted((root / "examples").glob("*.py"))
    assert examples
    offenders = [hit for path in sources + examples for hit in _direct_writes(path)]
    assert offenders == []
    for path in examples:  # and each example (not a _helper) does write its figure
        if not path.name.startswith("_"):
            assert "save_figure(" in path.read_text(), path.name


def test_every_writer_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    """Issue 10: `learn --out model.npz` and `verify --out f.csv` truncated
    the target first.  Each writer of an output (models, networks, sweep
    tables as CSV and JSON, text) now fails with the old file intact and no
    temporary file, here with the disk failing at the final flush (a PAC
    run's trials too, since PACResult writes them)."""
    import functools
    from sparselearn.pac import bump_target, low_degree_learner, verify_sweep
    sweep = verify_sweep(functools.partial(low_degree_learner, degree=1), bump_target,
                         {"n_features": [4], "width": [2], "sparsity": [1],
                          "n_samples": [30]}, 0.9, 0.2, 1, random_state=0)
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(50, 4))
    model = LowDegreeRegressor(degree=1).fit(X, X[:, 0])
    writers = {"sweep.csv": sweep.to_csv, "sweep.json": sweep.to_json,
               "trials.csv": sweep.results[0].to_csv, "trials.json": sweep.results[0].to_json,
               "model.npz": model.save, "net.npz": random_network(4, 3, random_state=0).save,
               "notes.txt": lambda path: io.save_text(path, "new")}

    def disk_full(fd):
        raise OSError(28, "No space left on device")
    for name, write in writers.items():
        path = tmp_path / name
        path.write_bytes(b"the previous contents")
        with monkeypatch.context() as patch:
            patch.setattr(os, "fsync", disk_full)
            with pytest.raises(OSError, match="No space left"):
                write(path)
        assert path.read_bytes() == b"the previous contents", name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(writers)


@pytest.mark.parametrize("token", ["", "NA", "na", "N/A", "#N/A", "<NA>", "nan", "NaN",
                                   "-nan", "NULL", "null"])
@pytest.mark.parametrize("text_labels", [False, True])
def test_read_xy_missing_values_named_by_line_and_field(tmp_path, token, text_labels):
    """A missing value -- R's unquoted NA, pandas' NaN / <NA> / empty field,
    a spreadsheet's #N/A, SQL's NULL -- in X or in y is an error naming the
    file, its line and field, and the fix, never a class "NA" or a NaN in
    the fit (before: "NA" labels became a class, a "nan" feature only "X
    contains NaN", without the line)."""
    path = tmp_path / "t.csv"
    rows = ["a,b,y", "1,-1,cat", "-1,1,dog", "1,1,cat"]
    for line, field, label in [(3, 2, False), (4, 3, True)]:
        cells = [r.split(",") for r in rows]
        cells[line - 1][field - 1] = token
        if not text_labels:
            for r in cells[1:]:
                r[2] = {"cat": "1", "dog": "2"}.get(r[2], r[2])
        path.write_text("\n".join(",".join(r) for r in cells) + "\n")
        shown = "empty" if not token else repr(token)
        what = "label" if (label and text_labels) else "value"
        with pytest.raises(io.UnreadableFileError) as info:
            io.read_xy(path, text_labels=text_labels)
        message = str(info.value)
        assert str(path) in message
        assert f"line {line}, field {field} is {shown}: a missing {what}" in message
        assert "drop or impute the rows with missing values first" in message


def test_read_xy_nan_in_arrays_named_by_row_and_column(tmp_path):
    """NaN in an .npz's X or y (or an .npy table) names the array, row and
    column (0-based, as NumPy indexes) and the fix; infinity is not called
    missing."""
    X = np.ones((3, 2))
    X[2, 1] = np.nan
    np.savez(tmp_path / "a.npz", X=X, y=np.ones(3))
    with pytest.raises(io.UnreadableFileError,
                       match=r"X row 2, column 1 \(0-based\) is NaN: a missing value; drop"):
        io.read_xy(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.ones((3, 2)), y=np.array([1.0, np.nan, 2.0]))
    with pytest.raises(io.UnreadableFileError, match=r"y row 1 \(0-based\) is NaN"):
        io.read_xy(tmp_path / "b.npz")
    np.save(tmp_path / "c.npy", np.array([[1.0, 1.0], [1.0, np.inf]]))
    with pytest.raises(io.UnreadableFileError,
                       match=r"y row 1 \(0-based\) is inf: values must be finite"):
        io.read_xy(tmp_path / "c.npy")
    (tmp_path / "d.csv").write_text("a,b,y\n1,1,1\n1,-inf,1\n")
    with pytest.raises(io.UnreadableFileError,
                       match="line 3, field 2: '-inf' is not a finite number"):
        io.read_xy(tmp_path / "d.csv")


def test_read_xy_label_column_by_name_or_number(tmp_path):
    """label= picks y's column by header name or 0-based number (-1 the
    last); the other columns are X, in their order, with their names."""
    path = tmp_path / "t.csv"
    path.write_text("a,y,b\n1,5,-1\n-1,6,1\n")
    for label in ("y", 1, -2):
        X, y, names = io.read_xy(path, return_names=True, label=label)
        assert X.tolist() == [[1.0, -1.0], [-1.0, 1.0]] and y.tolist() == [5.0, 6.0]
        assert names == (["a", "b"], "y")
    # The label column is y even at the model's width (no column is dropped
    # as "features only"), and text labels may stand there too.
    X, y = io.read_xy(path, n_features=2, label="y")
    assert X.shape == (2, 2) and y.tolist() == [5.0, 6.0]
    path.write_text("a,y,b\n1,cat,-1\n-1,dog,1\n")
    X, y, names = io.read_xy(path, return_names=True, text_labels=True, label="y")
    assert X.tolist() == [[1.0, -1.0], [-1.0, 1.0]] and y.tolist() == ["cat", "dog"]
    assert names == (["a", "b"], "y")
    X, y = io.read_xy(path, text_labels=True, label=1)
    assert y.tolist() == ["cat", "dog"]
    path.write_text("1,cat,-1\n-1,dog,1\n")  # no header: a number still works
    X, y, names = io.read_xy(path, return_names=True, text_labels=True, label=1)
    assert X.tolist() == [[1.0, -1.0], [-1.0, 1.0]] and names is None
    np.save(tmp_path / "t.npy", np.array([[7.0, 1.0, -1.0], [8.0, -1.0, 1.0]]))
    X, y = io.read_xy(tmp_path / "t.npy", label=0)
    assert X.tolist() == [[1.0, -1.0], [-1.0, 1.0]] and y.tolist() == [7.0, 8.0]
    for target, label, match in [
            (path, "y", "no header row to find the label column 'y' by name"),
            (tmp_path / "t.npy", "y", r"an \.npy table has none"),
            (tmp_path / "t.npy", 3, "no label column 3: the table has 3 columns"),
            (tmp_path / "t.npy", -4, "no label column -4"),
            (tmp_path / "t.csv", 3, "no label column 3")]:
        with pytest.raises(io.UnreadableFileError, match=match):
            io.read_xy(target, label=label, text_labels=True)
    path.write_text("a,y,b\n1,5,-1\n")
    with pytest.raises(io.UnreadableFileError,
                       match="no column named 'z' for the labels; the header has a, y, b"):
        io.read_xy(path, label="z")
    path.write_text("y,y,b\n1,5,-1\n")
    with pytest.raises(io.UnreadableFileError, match="more than one column named 'y'"):
        io.read_xy(path, label="y")
    np.savez(tmp_path / "t.npz", X=np.ones((2, 2)), y=np.ones(2))
    with pytest.raises(io.UnreadableFileError, match="holds its labels as the array y"):
        io.read_xy(tmp_path / "t.npz", label=0)
    for wrong in (1.0, True):
        with pytest.raises(TypeError, match="label must be a column name"):
            io.read_xy(path, label=wrong)
    path.write_text("a,y,b\n1,5,-1\n")
    assert io.read_xy(path, label=np.int64(1))[1].tolist() == [5.0]


def test_read_xy_spreadsheet_na_in_the_first_column_is_not_a_comment(tmp_path):
    """An unquoted #N/A starts a comment for NumPy: in column 1 the whole row
    was dropped without a word (3 rows read from 4); it is a missing value,
    named by its line.  A real comment mentioning it still reads."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,-1,1\n#N/A,1,2\n-1,1,2\n1,1,1\n")
    for text_labels in (False, True):
        with pytest.raises(io.UnreadableFileError,
                           match="line 3, field 1 is '#N/A': a missing value"):
            io.read_xy(path, text_labels=text_labels)
    path.write_text("a,b,y\n# #N/A rows were dropped\n1,-1,1\n-1,1,2\n")
    assert io.read_xy(path)[0].shape == (2, 2)
