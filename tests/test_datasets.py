import gzip
import os
import shutil
import struct
import subprocess
import sys

import keras
import numpy as np
import pytest

from kerastools.datasets import FASHION_MNIST_CLASSES
from kerastools.datasets import DataFileError
from kerastools.datasets import DataNotFoundError
from kerastools.datasets import balanced_subset_indices
from kerastools.datasets import fashion_mnist as fm
from kerastools.datasets import load_fashion_mnist

FILES = list(fm.FILES.values())


@pytest.fixture
def no_search(monkeypatch, tmp_path):
    """No env var, empty Keras cache and Debian dir: nothing found by search."""
    monkeypatch.delenv("KERASTOOLS_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(fm, "DEBIAN_DIR", str(tmp_path / "debian"))
    return tmp_path


def _copy(src_dir, dst_dir, files=FILES):
    os.makedirs(dst_dir, exist_ok=True)
    for f in files:
        os.symlink(os.path.join(src_dir, f), os.path.join(dst_dir, f))
    return dst_dir


def test_real_data_matches_published_facts(fashion_dir):
    (x, y), (xt, yt) = load_fashion_mnist(fashion_dir)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.uint8
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert yt[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert abs(float(x.mean()) - 0.2860) < 5e-4
    assert abs(float(xt.mean()) - 0.2868) < 5e-4
    assert np.bincount(y).tolist() == [6000] * 10
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_same_arrays_as_keras_loader(fashion_dir, no_search):
    cache = _copy(fashion_dir, os.path.join(os.environ["KERAS_HOME"], "datasets", "fashion-mnist"))
    out = str(no_search / "keras.npz")
    # Keras reads KERAS_HOME when imported: run its loader in a fresh process.
    code = ("import sys, numpy as np, keras; (a, b), (c, d) = "
            "keras.datasets.fashion_mnist.load_data(); np.savez(sys.argv[1], a=a, b=b, c=c, d=d)")
    subprocess.run([sys.executable, "-c", code, out], check=True, env=dict(os.environ))
    k = np.load(out)
    (x, y), (xt, yt) = load_fashion_mnist(normalize=False)
    assert fm.locate() == (cache, "Keras cache")
    for a, b in ((k["a"], x), (k["b"], y), (k["c"], xt), (k["d"], yt)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_search_order(fashion_dir, no_search, monkeypatch):
    debian = _copy(fashion_dir, str(no_search / "debian"))
    assert fm.locate() == (debian, "Debian package dataset-fashion-mnist")
    cache = _copy(fashion_dir, os.path.join(os.environ["KERAS_HOME"], "datasets", "fashion-mnist"))
    assert fm.locate() == (cache, "Keras cache")
    env = _copy(fashion_dir, str(no_search / "env"))
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", env)
    assert fm.locate() == (env, "$KERASTOOLS_DATA_DIR")
    assert fm.locate(debian) == (debian, "data_dir argument")


def test_flatten_subset_dtype(fashion_dir):
    (x, y), (xt, yt) = load_fashion_mnist(fashion_dir, flatten=True, train_size=1000,
                                          test_size=205, dtype="float64")
    assert x.shape == (1000, 784) and x.dtype == np.float64 and xt.shape == (205, 784)
    assert np.bincount(y).tolist() == [100] * 10
    assert np.bincount(yt).tolist() == [21] * 5 + [20] * 5
    (x2, y2), _ = load_fashion_mnist(fashion_dir, flatten=True, train_size=1000, dtype="float64")
    np.testing.assert_array_equal(x, x2)  # deterministic
    (x3, _), _ = load_fashion_mnist(fashion_dir, flatten=True, train_size=1000, seed=5)
    assert not np.array_equal(x.astype(np.float32), x3)


def test_balanced_subset_keeps_order():
    labels = np.repeat(np.arange(10), 7)[::-1]
    idx = balanced_subset_indices(labels, 30, seed=3)
    assert np.all(np.diff(idx) > 0) and np.bincount(labels[idx]).tolist() == [3] * 10
    with pytest.raises(ValueError, match="size=80"):
        balanced_subset_indices(labels, 80)


def test_wrong_data_dir_names_it(tmp_path):
    wrong = str(tmp_path / "nope")
    with pytest.raises(DataFileError, match="data_dir=.*nope"):
        load_fashion_mnist(wrong)


def test_wrong_env_dir_is_not_silently_skipped(no_search, monkeypatch):
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", str(no_search / "missing"))
    with pytest.raises(DataFileError, match="KERASTOOLS_DATA_DIR=.*missing"):
        load_fashion_mnist()


def test_missing_file_is_named(fashion_dir, tmp_path):
    d = _copy(fashion_dir, str(tmp_path / "partial"), FILES[:3])
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz") as info:
        load_fashion_mnist(d)
    assert "Looked in" in str(info.value)


def test_partial_cache_is_an_error_not_a_fallback(fashion_dir, no_search):
    _copy(fashion_dir, str(no_search / "debian"))
    _copy(fashion_dir, os.path.join(os.environ["KERAS_HOME"], "datasets", "fashion-mnist"), FILES[:1])
    with pytest.raises(DataFileError, match="lacks"):
        load_fashion_mnist()


def test_truncated_file_is_named(fashion_dir, tmp_path):
    d = _copy(fashion_dir, str(tmp_path / "trunc"), FILES[:3])
    src = os.path.join(fashion_dir, FILES[3])
    data = open(src, "rb").read()
    with open(os.path.join(d, FILES[3]), "wb") as f:
        f.write(data[: len(data) // 2])
    # (tmp_path holds this test's name, "truncated": match after the file name.)
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz': its gzip data end early "
                       r"\(Compressed file ended.*\); the file is truncated or damaged"):
        load_fashion_mnist(d)


def test_wrong_magic_and_short_payload(fashion_dir, tmp_path):
    d = _copy(fashion_dir, str(tmp_path / "magic"), FILES[1:])
    # A labels file where the training images belong: wrong magic number.
    shutil.copy(os.path.join(fashion_dir, FILES[1]), os.path.join(d, FILES[0]))
    with pytest.raises(DataFileError, match="train-images.*magic number 2049"):
        load_fashion_mnist(d)
    # A well-formed header whose payload is short.
    with gzip.open(os.path.join(d, FILES[0]), "wb") as f:
        f.write(struct.pack(">IIII", 2051, 60000, 28, 28) + b"\0" * 100)
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte\.gz' is truncated: its header "
                       r"\(shape \(60000, 28, 28\)\) declares 47040016 bytes; the file holds 116\."):
        load_fashion_mnist(d)


def test_uncompressed_files_are_read(fashion_dir, tmp_path):
    d = tmp_path / "raw"
    d.mkdir()
    for f in FILES:
        with gzip.open(os.path.join(fashion_dir, f)) as src:
            (d / f[:-3]).write_bytes(src.read())
    (_, y), _ = load_fashion_mnist(str(d), normalize=False)
    assert y[:3].tolist() == [9, 0, 0]


def test_bad_options():
    with pytest.raises(ValueError, match="normalize=1"):
        load_fashion_mnist(normalize=1)
    with pytest.raises(ValueError, match="dtype='int8'"):
        load_fashion_mnist(dtype="int8")
    with pytest.raises(ValueError, match="train_size=0"):
        load_fashion_mnist(train_size=0)
    with pytest.raises(ValueError, match="test_size=20000"):
        load_fashion_mnist(test_size=20000)


def test_no_copy_and_no_download(no_search):
    with pytest.raises(DataFileError, match="download=False"):
        load_fashion_mnist(download=False)


@pytest.mark.parametrize("keras_fails", [False, True])
def test_corrupt_download_is_not_cached(no_search, monkeypatch, keras_fails):
    cache = fm.keras_cache_dir()

    def fake_download():
        os.makedirs(cache, exist_ok=True)
        for f in FILES:
            with open(os.path.join(cache, f), "wb") as out:
                out.write(b"<html>proxy error</html>")
        if keras_fails:  # as Keras' own reader does on such a file
            raise gzip.BadGzipFile("Not a gzipped file (b'<h')")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download)
    with pytest.raises(DataFileError, match=r"Cannot read IDX file '.*t10k-labels-idx1-ubyte\.gz': "
                       r"its gzip data are corrupt \(BadGzipFile: Not a gzipped file"):
        load_fashion_mnist()
    assert not any(os.path.exists(os.path.join(cache, f)) for f in FILES)


# --- Faults: each names the file and the true cause (issues #14 item 5, #20). ---


def _idx_bytes(magic, dims, payload):
    return struct.pack(f">I{len(dims)}I", magic, *dims) + bytes(payload)


def _official(fashion_dir, name):
    with gzip.open(os.path.join(fashion_dir, name)) as f:
        return f.read()


def _dir_with(fashion_dir, tmp_path, name, content, gz=True):
    """The official files, with ``name`` replaced by ``content`` (IDX bytes)."""
    d = _copy(fashion_dir, str(tmp_path / "faulty"), [f for f in FILES if f != name])
    if gz:
        with gzip.open(os.path.join(d, name), "wb", compresslevel=1) as f:
            f.write(content)
    else:
        with open(os.path.join(d, name[: -len(".gz")]), "wb") as f:
            f.write(content)
    return d


OFFLINE = ("URL fetch failure on https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
           "train-labels-idx1-ubyte.gz: None -- [Errno -2] Name or service not known")


@pytest.fixture
def no_network(monkeypatch):
    """Any name lookup or connection fails as it does offline."""
    import socket

    def offline(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr(socket.socket, "connect", offline)


def test_offline_keras_download_raises_a_bare_exception(no_network, tmp_path):
    # What the loader must turn into one clear error: Keras' own offline failure.
    with pytest.raises(Exception, match="URL fetch failure.*Name or service not known"):
        keras.utils.get_file(FILES[1], origin=fm.KERAS_ORIGIN + FILES[1], cache_dir=str(tmp_path))


def test_offline_and_nowhere_is_one_clear_error(no_search, no_network, monkeypatch):
    cache = fm.keras_cache_dir()

    def offline_load_data():
        os.makedirs(cache, exist_ok=True)  # Keras had fetched one file, then failed.
        with open(os.path.join(cache, FILES[1]), "wb") as f:
            f.write(b"\x1f\x8b partial")
        raise Exception(OFFLINE)

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline_load_data)
    with pytest.raises(DataNotFoundError, match=r"(?s)not found, and the download failed "
                       r"\(Exception: URL fetch failure.*Name or service not known\)") as info:
        load_fashion_mnist()
    message = str(info.value)
    assert isinstance(info.value, DataFileError)
    assert str(info.value.__cause__) == OFFLINE
    for place in ("$KERASTOOLS_DATA_DIR: not set", cache + " (Keras cache)",
                  fm.DEBIAN_DIR + " (Debian package dataset-fashion-mnist)",
                  "download by keras.datasets.fashion_mnist"):
        assert place in message
    for way in ("`data_dir=`", "$KERASTOOLS_DATA_DIR", "apt-get install dataset-fashion-mnist",
                "installs them to " + fm.DEBIAN_DIR, "download=True"):
        assert way in message
    assert "Looked in" not in message.split("Looked in", 1)[1]  # said once
    assert not os.path.exists(os.path.join(cache, FILES[1]))  # partial download removed


@pytest.mark.parametrize("where", ["crc", "deflate"])
def test_corrupt_gz_member_is_named(fashion_dir, tmp_path, where):
    d = _copy(fashion_dir, str(tmp_path / "corrupt"), FILES[:3])
    data = bytearray(open(os.path.join(fashion_dir, FILES[3]), "rb").read())
    data[-8 if where == "crc" else len(data) // 2] ^= 0xFF
    with open(os.path.join(d, FILES[3]), "wb") as f:
        f.write(data)
    with pytest.raises(DataFileError, match=r"Cannot read IDX file '.*t10k-labels-idx1-ubyte\.gz': "
                       r"its gzip data are corrupt \((BadGzipFile|zlib\.error): .*\); the file is damaged"):
        load_fashion_mnist(d)


@pytest.fixture
def unprivileged():
    """A context that runs as an unprivileged user (as root: effective uid nobody).

    Root reads files of any mode, so chmod alone cannot produce "permission
    denied" there. Returns (context manager, a world-traversable directory).
    """
    import contextlib
    import tempfile

    if not hasattr(os, "geteuid"):
        pytest.skip("needs POSIX user ids")
    base = tempfile.mkdtemp(prefix="kerastools-perm-")
    os.chmod(base, 0o755)  # tmp_path's parents are 0700: nobody could not reach it

    @contextlib.contextmanager
    def drop():
        if os.geteuid() != 0:
            yield
            return
        try:
            os.setegid(65534)
            os.seteuid(65534)
        except OSError as e:  # e.g. a container without CAP_SETUID
            os.setegid(0)
            pytest.skip(f"root cannot switch to an unprivileged user here: {e}")
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)

    yield drop, base
    for root, dirs, _ in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(base)


def test_permission_denied_is_said_and_not_called_damage(fashion_dir, unprivileged):
    drop, base = unprivileged
    d = _copy(fashion_dir, os.path.join(base, "data"), FILES[:3])
    os.chmod(d, 0o755)
    shutil.copy(os.path.join(fashion_dir, FILES[3]), os.path.join(d, FILES[3]))
    os.chmod(os.path.join(d, FILES[3]), 0o644)
    with drop():
        assert fm.read_idx(os.path.join(d, FILES[3])).shape == (10000,)  # control: readable
    os.chmod(os.path.join(d, FILES[3]), 0)
    with drop(), pytest.raises(DataFileError, match=r"Cannot read IDX file '.*t10k-labels-idx1-ubyte"
                               r"\.gz': permission denied \(Permission denied\)") as info:
        load_fashion_mnist(d)
    assert "damaged" not in str(info.value) and "truncated" not in str(info.value)


def test_unreadable_directory_is_named(fashion_dir, unprivileged, monkeypatch):
    drop, base = unprivileged
    d = _copy(fashion_dir, os.path.join(base, "locked"))
    os.chmod(d, 0)
    with drop(), pytest.raises(DataFileError, match=r"Cannot look for 'train-images-idx3-ubyte\.gz' "
                               r"in directory '.*locked': permission denied"):
        load_fashion_mnist(d)
    # A searched place that cannot be read is an error too, not a silent download.
    monkeypatch.delenv("KERASTOOLS_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", os.path.join(base, "home"))
    monkeypatch.setattr(fm, "DEBIAN_DIR", d)
    with drop(), pytest.raises(DataFileError, match=r"in directory '.*locked': permission denied"):
        fm.locate()


class _CountingGzipFile(gzip.GzipFile):
    """Counts the decompressed bytes handed out."""

    total = 0

    def read(self, size=-1):
        out = super().read(size)
        _CountingGzipFile.total += len(out)
        return out

    def readinto(self, b):  # through read(), so that each byte is counted once
        out = self.read(len(b))
        b[: len(out)] = out
        return len(out)


def test_decompression_bomb_stops_at_the_declared_size(fashion_dir, tmp_path, monkeypatch):
    import tracemalloc

    labels = _official(fashion_dir, FILES[3])
    d = _copy(fashion_dir, str(tmp_path / "bomb"), FILES[:3])
    zeros = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
    with open(os.path.join(d, FILES[3]), "wb") as f:  # 10,008 bytes declared, 1.6 GB inside
        f.write(gzip.compress(labels))
        f.write(zeros * 100)
    assert os.path.getsize(os.path.join(d, FILES[3])) < 4 << 20
    monkeypatch.setattr(_CountingGzipFile, "total", 0)
    monkeypatch.setattr(fm.gzip, "GzipFile", _CountingGzipFile)
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz' is over-long: it holds "
                           r"more than the 10008 bytes its header \(shape \(10000,\)\) declares"):
            load_fashion_mnist(d)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _CountingGzipFile.total <= len(labels) + 1
    assert peak < 4 << 20


def test_declared_size_is_checked_before_decompressing(fashion_dir, tmp_path, monkeypatch):
    # A header declaring 2**31 labels: rejected after reading the 8 header bytes.
    d = _dir_with(fashion_dir, tmp_path, FILES[3], _idx_bytes(2049, (2**31,), b"\0" * 1000))
    monkeypatch.setattr(_CountingGzipFile, "total", 0)
    monkeypatch.setattr(fm.gzip, "GzipFile", _CountingGzipFile)
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz' holds 2147483648 items; "
                       "expected 10000"):
        load_fashion_mnist(d, verify=False)
    assert _CountingGzipFile.total == 8
    path = os.path.join(d, FILES[3])
    with pytest.raises(DataFileError, match=r"t10k-labels.*declares shape \(2147483648,\): 2147483648 "
                       r"bytes, more than max_bytes=1073741824; not read"):
        fm.read_idx(path)
    assert _CountingGzipFile.total == 16
    with pytest.raises(ValueError, match="max_bytes=0"):
        fm.read_idx(path, max_bytes=0)


@pytest.mark.parametrize("gz", [True, False])
def test_over_long_file_is_rejected(fashion_dir, tmp_path, gz):
    d = _dir_with(fashion_dir, tmp_path, FILES[3], _official(fashion_dir, FILES[3]) + b"\0", gz)
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte(\.gz)?' is over-long"):
        load_fashion_mnist(d, verify=False)


def test_item_count_is_checked(fashion_dir, tmp_path):
    labels = _official(fashion_dir, FILES[3])
    d = _dir_with(fashion_dir, tmp_path, FILES[3], _idx_bytes(2049, (9999,), labels[8:-1]))
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz' holds 9999 items; "
                       "expected 10000"):
        load_fashion_mnist(d, verify=False)


def test_image_shape_28x28_is_checked(fashion_dir, tmp_path):
    d = _dir_with(fashion_dir, tmp_path, FILES[2],
                  _idx_bytes(2051, (10000, 28, 27), b"\0" * (10000 * 28 * 27)))
    with pytest.raises(DataFileError, match=r"t10k-images-idx3-ubyte\.gz' holds items of shape "
                       r"\(28, 27\); expected \(28, 28\)"):
        load_fashion_mnist(d, verify=False)


def test_labels_above_9_are_rejected(fashion_dir, tmp_path):
    labels = bytearray(_official(fashion_dir, FILES[3]))
    labels[8 + 1234] = 10
    d = _dir_with(fashion_dir, tmp_path, FILES[3], labels)
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz' holds label 10; labels are 0-9"):
        load_fashion_mnist(d, verify=False)


@pytest.mark.parametrize("gz", [True, False])
def test_wrong_content_with_valid_headers_fails_the_checksum(fashion_dir, tmp_path, gz):
    labels = bytearray(_official(fashion_dir, FILES[3]))
    assert labels[8] == 9
    labels[8] = 8  # a valid label, a valid file: not the official one
    d = _dir_with(fashion_dir, tmp_path, FILES[3], labels, gz)
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte(\.gz)?' has valid headers but is "
                       r"not the official Fashion-MNIST t10k-labels-idx1-ubyte\.gz: the SHA-256 .*"
                       r"pass `verify=False`"):
        load_fashion_mnist(d)
    _, (_, yt) = load_fashion_mnist(d, verify=False, normalize=False)
    assert yt[0] == 8


def test_checksum_is_of_the_content_not_the_gzip_wrapper(fashion_dir, tmp_path):
    # Debian's copies carry other gzip headers (no name, another mtime): same content, accepted.
    d = _copy(fashion_dir, str(tmp_path / "rehead"), FILES[:3])
    with open(os.path.join(d, FILES[3]), "wb") as f:
        f.write(gzip.compress(_official(fashion_dir, FILES[3]), compresslevel=1, mtime=0))
    assert open(os.path.join(d, FILES[3]), "rb").read() != open(
        os.path.join(fashion_dir, FILES[3]), "rb").read()
    _, (_, yt) = load_fashion_mnist(d, normalize=False)
    assert yt[:3].tolist() == [9, 2, 1]


def test_content_checksums_match_the_published_md5_files(fashion_dir):
    import hashlib

    for key, name in fm.FILES.items():
        path = os.path.join(fashion_dir, name)
        if hashlib.md5(open(path, "rb").read()).hexdigest() != fm.PUBLISHED_GZ_MD5[key]:
            pytest.skip(f"{path} is not byte-identical to the upstream .gz (e.g. Debian's copy)")
        assert hashlib.sha256(_official(fashion_dir, name)).hexdigest() == fm.CONTENT_SHA256[key]


def test_verified_files_are_not_hashed_again_unless_changed(fashion_dir, tmp_path, monkeypatch):
    import hashlib

    calls = []

    def counting_sha256(*args):
        calls.append(1)
        return hashlib.new("sha256", *args)

    monkeypatch.setattr(fm.hashlib, "sha256", counting_sha256)
    d = _dir_with(fashion_dir, tmp_path, FILES[3], _official(fashion_dir, FILES[3]))
    load_fashion_mnist(d, normalize=False)
    first = len(calls)
    load_fashion_mnist(d, normalize=False)
    assert first >= 1 and len(calls) == first  # nothing hashed on the second load
    labels = bytearray(_official(fashion_dir, FILES[3]))
    labels[8] = 8
    with gzip.open(os.path.join(d, FILES[3]), "wb", compresslevel=1) as f:
        f.write(labels)
    st = os.stat(os.path.join(d, FILES[3]))
    os.utime(os.path.join(d, FILES[3]), ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(DataFileError, match="not the official"):
        load_fashion_mnist(d)


def test_read_idx_reads_other_idx_files(tmp_path):
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    path = str(tmp_path / "floats.idx3.gz")
    with gzip.open(path, "wb") as f:
        f.write(_idx_bytes(0x0D03, values.shape, values.astype(">f4").tobytes()))
    out = fm.read_idx(path)
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)
    assert fm.read_idx(path, 0x0D03, 2, item_shape=(3, 4)).shape == (2, 3, 4)
    with pytest.raises(DataFileError, match=r"floats\.idx3\.gz' holds items of shape \(3, 4\); "
                       r"expected \(4, 3\)"):
        fm.read_idx(path, item_shape=(4, 3))
    bad = str(tmp_path / "bad.idx")
    with open(bad, "wb") as f:
        f.write(_idx_bytes(0x0A01, (3,), b"abc"))
    with pytest.raises(DataFileError, match=r"bad\.idx' has IDX magic number 2561 \(0x00000a01\): "
                       "not an IDX header"):
        fm.read_idx(bad)
    with open(bad, "wb") as f:
        f.write(struct.pack(">II", 2051, 10000))
    with pytest.raises(DataFileError, match=r"bad\.idx' is truncated inside its header \(3 dimensions"):
        fm.read_idx(bad)
    with open(bad, "wb") as f:
        f.write(b"\0\0\x08")
    with pytest.raises(DataFileError, match=r"bad\.idx' is truncated: 3 bytes, too short for an IDX header"):
        fm.read_idx(bad)


def test_bad_flags():
    with pytest.raises(ValueError, match="verify='yes'"):
        load_fashion_mnist(verify="yes")
    with pytest.raises(ValueError, match="download=None"):
        load_fashion_mnist(download=None)


@pytest.mark.parametrize("ci, stops", [("true", "fail"), ("1", "fail"), ("false", "skip"),
                                       ("0", "skip"), ("", "skip")])
def test_missing_data_fails_under_ci_and_skips_elsewhere(no_search, monkeypatch, ci, stops):
    import conftest

    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if stops == "fail" else pytest.skip.Exception
    # Catch both outcomes, then check which: an uncaught skip would skip this test.
    either = (pytest.fail.Exception, pytest.skip.Exception)
    with pytest.raises(either, match=r"Fashion-MNIST data not found: .* in .*empty.*keras_home") as info:
        conftest.find_fashion_dir(str(no_search / "empty"))
    assert info.type is outcome
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", str(no_search))
    with pytest.raises(either, match=r"KERASTOOLS_DATA_DIR='.*'") as info:
        conftest.find_fashion_dir(str(no_search / "empty"))
    assert info.type is outcome
