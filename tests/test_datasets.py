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
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz.*(damaged|truncated)"):
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
    with pytest.raises(DataFileError, match="train-images.*truncated"):
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


def test_corrupt_download_is_not_cached(no_search, monkeypatch):
    cache = fm.keras_cache_dir()

    def fake_download():
        os.makedirs(cache, exist_ok=True)
        for f in FILES:
            with open(os.path.join(cache, f), "wb") as out:
                out.write(b"<html>proxy error</html>")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download)
    with pytest.raises(DataFileError, match="Cannot read"):
        load_fashion_mnist()
    assert not any(os.path.exists(os.path.join(cache, f)) for f in FILES)
