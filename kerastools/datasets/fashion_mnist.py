"""Fashion-MNIST loader that checks what it reads and says where it looked.

The four official files (gzip-compressed IDX, or the same files uncompressed)
are searched, in order, in:

1. the ``data_dir`` argument;
2. the directory named by ``$KERASTOOLS_DATA_DIR``;
3. Keras' cache, ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras/...``);
4. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``);

and only then is Keras asked to download them
(``keras.datasets.fashion_mnist.load_data``), which fills its cache. When that
fails too (offline), one ``DataNotFoundError`` lists every place searched and
the three ways to get the data: ``data_dir=`` / ``$KERASTOOLS_DATA_DIR``,
``apt-get install dataset-fashion-mnist``, or the network.

A directory given explicitly (1 or 2) is the only one used: if it lacks the files
the loader raises instead of reading other data. In the searched places (3, 4) a
directory with none of the four files is skipped; one with some of them, with a
damaged file, or one that cannot be read, is an error that names it.

Checks, each an error (``DataFileError``) that names the file and the cause:

- the file can be opened (permission denied is said as such) and, for ``.gz``,
  its gzip data are intact (corrupt and truncated streams are told apart);
- the IDX header: magic number (data type and rank), number of items and 28x28
  images, read first: the size the header declares is checked before the
  payload is decompressed;
- the payload is read in bounded chunks (1 MiB) and reading stops as soon as the
  file holds one byte more than its header declares, so a small ``.gz`` that
  expands to gigabytes is rejected after reading the declared size plus one
  byte; a shorter file is "truncated", a longer one "over-long";
- labels are 0-9;
- with ``verify=True`` (the default) the content is the official one: the
  SHA-256 of each file's decompressed IDX bytes must equal ``CONTENT_SHA256``.
  The digest is taken of the IDX content, not of the ``.gz`` wrapper, so the
  uncompressed files and Debian's copies (whose gzip headers differ from
  upstream's) are verified alike. The values were computed from
  files whose ``.gz`` MD5s equal those Zalando Research publishes
  (``PUBLISHED_GZ_MD5``). A verified file is remembered in-process by
  (path, device, inode, size, mtime), so reloading it does not hash it again.

Other IDX data: ``load_fashion_mnist(data_dir, verify=False)`` loads any four
files of the Fashion-MNIST layout (e.g. the original MNIST digits) with the
structural checks only; ``read_idx(path)`` reads any one IDX file (uint8, int8,
int16, int32, float32 or float64; ``.gz`` or not) with the structural checks
only, optionally also the magic number and item count.
"""

import gzip
import hashlib
import math
import os
import stat
import struct
import zlib

import numpy as np

from kerastools import _checks

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# MD5 of the official .gz files as published in the README of
# https://github.com/zalandoresearch/fashion-mnist ("Get the Data").
PUBLISHED_GZ_MD5 = {
    "x_train": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "y_train": "25c81989df183df01b3e8a0aad5dffbe",
    "x_test": "bef4ecab320f06d8554ea6380940ec79",
    "y_test": "bb300cfdad3c16e7a12a480ee83cd310",
}
# SHA-256 of the decompressed IDX content of those same files.
CONTENT_SHA256 = {
    "x_train": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "y_train": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "x_test": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "y_test": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049
_COUNTS = {"x_train": 60000, "y_train": 60000, "x_test": 10000, "y_test": 10000}
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
ENV_VAR = "KERASTOOLS_DATA_DIR"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CHUNK_BYTES = 1 << 20
# IDX data-type byte -> NumPy dtype (big-endian, as the format stores them).
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_verified = {}


class DataFileError(ValueError):
    """A Fashion-MNIST file is missing, unreadable, damaged or not the expected one."""


class DataNotFoundError(DataFileError):
    """The files are in none of the searched places and could not be downloaded."""


def keras_cache_dir():
    """Where ``keras.datasets.fashion_mnist`` keeps its download."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(keras_home, "datasets", "fashion-mnist")


def _describe_os_error(e):
    """The true cause of an ``OSError`` in words, with what to do about it."""
    if isinstance(e, PermissionError):
        uid = os.geteuid() if hasattr(os, "geteuid") else "?"
        return (
            f"permission denied ({getattr(e, 'strerror', None) or e}) for this process (uid {uid}); "
            "make it readable (e.g. `chmod a+rX`) or copy the files to a readable directory"
        )
    return f"{type(e).__name__}: {getattr(e, 'strerror', None) or e}"


def _candidate_path(directory, filename):
    """The file, gzip-compressed or not, in ``directory``; None if absent.

    Raises:
        DataFileError: the directory cannot be searched (e.g. permission denied).
    """
    for name in (filename, filename[: -len(".gz")]):
        path = os.path.join(directory, name)
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            raise DataFileError(
                f"Cannot look for {name!r} in directory {directory!r}: "
                f"{_describe_os_error(e)}."
            ) from e
        if stat.S_ISREG(mode):
            return path
    return None


def _read_error(path, e):
    if isinstance(e, EOFError):
        cause = (
            f"its gzip data end early ({e}); the file is truncated or damaged: "
            "delete it and get it again"
        )
    elif isinstance(e, (gzip.BadGzipFile, zlib.error)):
        kind = "zlib.error" if isinstance(e, zlib.error) else type(e).__name__
        cause = (
            f"its gzip data are corrupt ({kind}: {e}); the file is damaged: "
            "delete it and get it again"
        )
    else:
        cause = _describe_os_error(e)
    return DataFileError(f"Cannot read IDX file {path!r}: {cause}.")


def _read_header(stream, path, expected_magic, expected_count, item_shape):
    """Reads and checks the IDX header; returns ``(header_bytes, dims, dtype)``."""
    head = stream.read(4)
    if len(head) < 4:
        raise DataFileError(
            f"IDX file {path!r} is truncated: {len(head)} bytes, too short for "
            "an IDX header."
        )
    (magic,) = struct.unpack(">I", head)
    if expected_magic is not None and magic != expected_magic:
        kind = {_IMAGE_MAGIC: " (images)", _LABEL_MAGIC: " (labels)"}.get(expected_magic, "")
        raise DataFileError(
            f"IDX file {path!r} has IDX magic number {magic}; expected "
            f"{expected_magic}{kind}."
        )
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 or type_code not in _IDX_DTYPES or ndim == 0:
        raise DataFileError(
            f"IDX file {path!r} has IDX magic number {magic} (0x{magic:08x}): not "
            "an IDX header (two zero bytes, a known data type, at least one "
            "dimension)."
        )
    dims_raw = stream.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataFileError(
            f"IDX file {path!r} is truncated inside its header ({ndim} dimensions "
            "declared)."
        )
    dims = struct.unpack(f">{ndim}I", dims_raw)
    if expected_count is not None and dims[0] != expected_count:
        raise DataFileError(
            f"IDX file {path!r} holds {dims[0]} items; expected {expected_count}."
        )
    if item_shape is not None and dims[1:] != tuple(item_shape):
        raise DataFileError(
            f"IDX file {path!r} holds items of shape {dims[1:]}; expected "
            f"{tuple(item_shape)}."
        )
    return head + dims_raw, dims, np.dtype(_IDX_DTYPES[type_code])


def _read_payload(stream, path, header, dims, nbytes):
    """Reads exactly ``nbytes`` in bounded chunks; one byte more is an error."""
    buf = bytearray(nbytes)
    view = memoryview(buf)
    pos = 0
    while pos < nbytes:
        n = stream.readinto(view[pos : pos + CHUNK_BYTES])
        if not n:
            raise DataFileError(
                f"IDX file {path!r} is truncated: its header (shape {dims}) "
                f"declares {len(header) + nbytes} bytes; the file holds "
                f"{len(header) + pos}. The file is damaged or truncated: delete "
                "it and get it again."
            )
        pos += n
    if stream.read(1):
        raise DataFileError(
            f"IDX file {path!r} is over-long: it holds more than the "
            f"{len(header) + nbytes} bytes its header (shape {dims}) declares; "
            "reading stopped there. It is not a valid IDX file."
        )
    return buf


def read_idx(path, expected_magic=None, expected_count=None, *, item_shape=None, max_bytes=1 << 30):
    """Reads one IDX file (optionally gzip-compressed) into a NumPy array.

    Structure only: the header, the declared size, truncation and over-long
    files; no checksum. Use it for IDX files other than Fashion-MNIST's. The
    payload size the header declares is checked against ``max_bytes`` before
    anything is decompressed, then read in chunks of ``CHUNK_BYTES``; reading
    stops one byte past the declared size.

    Args:
        path: the file; gzip-compressed when its name ends with ``.gz``.
        expected_magic: the IDX magic number it must have (e.g. 2051 for uint8
            images of rank 3, 2049 for uint8 labels). Defaults to `None` (any
            valid IDX header).
        expected_count: the number of items (first dimension) it must hold.
            Defaults to `None` (any).
        item_shape: the shape every item must have (the dimensions after the
            first), e.g. `(28, 28)`. Defaults to `None` (any).
        max_bytes: the largest payload accepted. Defaults to `1 << 30` (1 GiB).

    Returns:
        An array of the header's shape and data type (native byte order).

    Raises:
        DataFileError: naming ``path`` and the cause when the file cannot be
            opened or decompressed, or its header, count or size is wrong.

    Example:
        >>> labels = read_idx("train-labels-idx1-ubyte.gz", 2049)  # doctest: +SKIP
    """
    max_bytes = _checks.check_positive_int("max_bytes", max_bytes)
    path = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.endswith(".gz") else raw
            with stream:
                header, dims, dtype = _read_header(
                    stream, path, expected_magic, expected_count, item_shape
                )
                nbytes = math.prod(dims) * dtype.itemsize
                if nbytes > max_bytes:
                    raise DataFileError(
                        f"IDX file {path!r} declares shape {dims}: {nbytes} bytes, more "
                        f"than max_bytes={max_bytes}; not read."
                    )
                buf = _read_payload(stream, path, header, dims, nbytes)
    except (OSError, EOFError, zlib.error) as e:
        raise _read_error(path, e) from e
    data = np.frombuffer(buf, dtype=dtype).reshape(dims)
    return data if dtype.itemsize == 1 else data.astype(dtype.newbyteorder("="))


def _file_id(path):
    st = os.stat(path)
    return os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _verify(key, path, data, id_):
    """Checks the SHA-256 of the IDX content; remembers files that passed.

    ``id_`` is the file's ``_file_id`` taken before ``data`` was read; the
    verdict is remembered only when the file is still the same after hashing.
    """
    if _verified.get(id_) == CONTENT_SHA256[key]:
        return
    magic = _IMAGE_MAGIC if data.ndim == 3 else _LABEL_MAGIC
    digest = hashlib.sha256(struct.pack(f">I{data.ndim}I", magic, *data.shape))
    digest.update(data)
    if digest.hexdigest() != CONTENT_SHA256[key]:
        raise DataFileError(
            f"IDX file {path!r} has valid headers but is not the official "
            f"Fashion-MNIST {FILES[key]}: the SHA-256 of its IDX content is "
            f"{digest.hexdigest()}; expected {CONTENT_SHA256[key]}. Replace it with "
            "the official file, or pass `verify=False` to load other data of "
            "this layout."
        )
    if _file_id(path) == id_:
        _verified[id_] = CONTENT_SHA256[key]


def _read_fashion_file(key, path, verify):
    images = key.startswith("x")
    id_ = _file_id(path) if verify else None
    data = read_idx(path, _IMAGE_MAGIC if images else _LABEL_MAGIC, _COUNTS[key],
                    item_shape=(28, 28) if images else ())
    if not images and data.size and data.max() > 9:
        raise DataFileError(
            f"IDX file {path!r} holds label {int(data.max())}; labels are 0-9."
        )
    if verify:
        _verify(key, path, data, id_)
    return data


def _read_dir(directory, verify=True):
    """Reads the four files in ``directory``; errors name the missing ones."""
    paths = {k: _candidate_path(directory, f) for k, f in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise DataFileError(
            f"Fashion-MNIST directory {directory!r} lacks {', '.join(missing)}."
        )
    # Smallest first: a fault in a small file is reported without reading 47 MB.
    order = ("y_test", "y_train", "x_test", "x_train")
    arrays = {key: _read_fashion_file(key, paths[key], verify) for key in order}
    return {key: arrays[key] for key in FILES}


def _has_any(directory):
    return any(_candidate_path(directory, f) for f in FILES.values())


def locate(data_dir=None):
    """Returns ``(directory, how)`` of the files the loader would read.

    ``directory`` is None when nothing was found and Keras would download.

    Raises:
        DataFileError: ``data_dir`` or ``$KERASTOOLS_DATA_DIR`` is not a
            directory, or a searched directory cannot be read.
    """
    if data_dir is not None:
        data_dir = os.fspath(data_dir)
        if not os.path.isdir(data_dir):
            raise DataFileError(
                f"Argument `data_dir` must be an existing directory holding the "
                f"Fashion-MNIST files. Received: data_dir={data_dir!r}"
            )
        return data_dir, "data_dir argument"
    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.isdir(env):
            raise DataFileError(
                f"${ENV_VAR} must name an existing directory holding the "
                f"Fashion-MNIST files. Received: {ENV_VAR}={env!r}"
            )
        return env, f"${ENV_VAR}"
    for directory, how in (
        (keras_cache_dir(), "Keras cache"),
        (DEBIAN_DIR, f"Debian package {DEBIAN_PACKAGE}"),
    ):
        if os.path.isdir(directory) and _has_any(directory):
            return directory, how
    return None, "download by keras.datasets.fashion_mnist"


def _searched_places(data_dir):
    if data_dir is not None:
        return [f"data_dir={os.fspath(data_dir)!r}"]
    env = os.environ.get(ENV_VAR)
    if env:
        return [f"${ENV_VAR}={env!r}"]
    return [
        f"${ENV_VAR} (unset)",
        keras_cache_dir(),
        DEBIAN_DIR,
        "keras.datasets.fashion_mnist download",
    ]


def _not_found(reason):
    """The one error for "no files anywhere": where we looked, how to get them."""

    def state(directory):
        return "no files there" if os.path.isdir(directory) else "no such directory"

    names = ", ".join(FILES.values())
    return DataNotFoundError(
        f"Fashion-MNIST files not found, and {reason}.\n"
        "Looked in:\n"
        f"  - ${ENV_VAR}: not set\n"
        f"  - {keras_cache_dir()} (Keras cache): {state(keras_cache_dir())}\n"
        f"  - {DEBIAN_DIR} (Debian package {DEBIAN_PACKAGE}): {state(DEBIAN_DIR)}\n"
        f"  - download by keras.datasets.fashion_mnist from {KERAS_ORIGIN}: "
        f"{'not attempted' if 'download=False' in reason else 'failed'}\n"
        f"Get the four files ({names}) in one of three ways:\n"
        "  1. put them in a directory and pass `data_dir=` or set "
        f"${ENV_VAR} to it;\n"
        f"  2. on Debian or Ubuntu, `sudo apt-get install {DEBIAN_PACKAGE}` (installs "
        f"them to {DEBIAN_DIR});\n"
        "  3. from the network: call again on a machine online with `download=True` "
        f"(the default); Keras downloads them into {keras_cache_dir()}."
    )


def _download(verify):
    """Asks Keras to download into its cache, then verifies what arrived.

    A download that fails, or fails verification, is deleted, never left in the
    cache (where it would be an error at the next call).
    """
    import keras

    directory = keras_cache_dir()
    before = {f for f in FILES.values() if os.path.exists(os.path.join(directory, f))}
    try:
        try:
            keras.datasets.fashion_mnist.load_data()
        except Exception as e:  # Keras raises a bare Exception when offline.
            if all(os.path.isfile(os.path.join(directory, f)) for f in FILES.values()):
                # Downloaded, but Keras could not read it: say which file and why.
                return _read_dir(directory, verify)
            raise _not_found(
                f"the download failed ({type(e).__name__}: {e})"
            ) from e
        return _read_dir(directory, verify)
    except DataFileError:
        for filename in set(FILES.values()) - before:
            path = os.path.join(directory, filename)
            if os.path.exists(path):
                os.remove(path)
        raise


def balanced_subset_indices(labels, size, seed=0, num_classes=10):
    """Deterministic class-balanced subset: ``size // num_classes`` per class.

    The remainder goes to the lowest classes; indices come back in their
    original order so that the data keep the canonical ordering.
    """
    size = _checks.check_positive_int("size", size)
    if size > len(labels):
        raise ValueError(
            f"Argument `size` must be <= the number of samples ({len(labels)}). "
            f"Received: size={size}"
        )
    rng = np.random.default_rng(seed)
    per_class = [size // num_classes + (c < size % num_classes) for c in range(num_classes)]
    chosen = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        if per_class[c] > len(idx):
            raise ValueError(
                f"Argument `size` asks for {per_class[c]} samples of class {c}; "
                f"only {len(idx)} exist. Received: size={size}"
            )
        chosen.append(rng.choice(idx, per_class[c], replace=False))
    return np.sort(np.concatenate(chosen))


def load_fashion_mnist(
    data_dir=None,
    *,
    normalize=True,
    flatten=False,
    dtype="float32",
    train_size=None,
    test_size=None,
    seed=0,
    download=True,
    verify=True,
):
    """Loads Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    The tuple has the shape of ``keras.datasets.fashion_mnist.load_data()``.
    See the module docstring for where the files are looked for and what is
    checked.

    Args:
        data_dir: directory holding the four files (``.gz`` or not). When given,
            it is the only place looked at. Defaults to `None` (search).
        normalize: scale the images to [0, 1] as ``dtype``. When False the
            images stay uint8 as Keras returns them. Defaults to `True`.
        flatten: reshape the images to ``(n, 784)`` for an MLP. Defaults to
            `False` (``(n, 28, 28)``).
        dtype: floating dtype of normalised images. Defaults to `"float32"`.
        train_size: keep a deterministic, class-balanced subset of this many
            training samples (for fast tests and quick modes). Defaults to
            `None` (all 60,000).
        test_size: the same for the test set. Defaults to `None` (all 10,000).
        seed: seed of the subset choice. Defaults to `0`.
        download: allow Keras to download when no local copy is found.
            Defaults to `True`.
        verify: require the official content (SHA-256 of each file's IDX
            data). Set False to load other data of the same layout (four IDX
            files, 60,000 + 10,000 28x28 uint8 images, labels 0-9). Defaults
            to `True`.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` NumPy arrays; labels are
        uint8 class indices into ``FASHION_MNIST_CLASSES``.

    Raises:
        DataNotFoundError (a DataFileError): no files anywhere and no download;
            the message lists the places searched and how to get the data.
        DataFileError (a ValueError): a wrong or unreadable directory, a
            missing, unreadable, truncated, over-long, damaged or unofficial
            file; the message names it, the cause and where the loader looked.
        ValueError: an unknown option value.

    Example:
        >>> (x, y), (xt, yt) = load_fashion_mnist(train_size=1000)  # doctest: +SKIP
    """
    for name, value in (("normalize", normalize), ("flatten", flatten),
                        ("download", download), ("verify", verify)):
        if not isinstance(value, bool):
            raise ValueError(
                f"Argument `{name}` must be True or False. Received: {name}={value!r}"
            )
    if dtype not in ("float16", "float32", "float64", "bfloat16"):
        raise ValueError(
            "Argument `dtype` must be a floating dtype name (float16, float32, "
            f"float64, bfloat16). Received: dtype={dtype!r}"
        )
    for name, size, limit in (("train_size", train_size, 60000), ("test_size", test_size, 10000)):
        if size is not None:
            _checks.check_positive_int(name, size)
            if size > limit:
                raise ValueError(
                    f"Argument `{name}` must be <= {limit}. Received: {name}={size}"
                )

    directory, how = locate(data_dir)
    if directory is None and not download:
        raise _not_found("downloading is disabled (`download=False`)")
    try:
        arrays = _download(verify) if directory is None else _read_dir(directory, verify)
    except DataNotFoundError:
        raise
    except DataFileError as e:
        places = "; ".join(_searched_places(data_dir))
        raise DataFileError(f"{e} Looked in: {places}.") from e

    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    if train_size is not None:
        idx = balanced_subset_indices(y_train, train_size, seed)
        x_train, y_train = x_train[idx], y_train[idx]
    if test_size is not None:
        idx = balanced_subset_indices(y_test, test_size, seed)
        x_test, y_test = x_test[idx], y_test[idx]

    def prepare(x):
        if flatten:
            x = x.reshape(len(x), 28 * 28)
        if normalize:
            if dtype == "bfloat16":
                import keras

                return keras.ops.convert_to_numpy(
                    keras.ops.cast(x.astype("float32") / 255.0, "bfloat16")
                )
            x = x.astype(dtype) / np.asarray(255.0, dtype=dtype)
        return x

    return (prepare(x_train), y_train.copy()), (prepare(x_test), y_test.copy())
