"""Fashion-MNIST loader that checks what it reads and says where it looked.

The four official files (gzip-compressed IDX) are searched, in order, in:

1. the ``data_dir`` argument;
2. the directory named by ``$KERASTOOLS_DATA_DIR``;
3. Keras' cache, ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras/...``);
4. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``);

and only then is Keras asked to download them
(``keras.datasets.fashion_mnist.load_data``), which fills its cache.

A directory given explicitly (1 or 2) is the only one used: if it lacks the files
the loader raises instead of reading other data. In the searched places (3, 4) a
directory with none of the four files is skipped; one with some of them, or with
a damaged file, is an error that names the file. Every file is checked: the IDX
magic number, the dimensions, the number of items and the byte count.
"""

import gzip
import os
import struct

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
_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049
_COUNTS = {"x_train": 60000, "y_train": 60000, "x_test": 10000, "y_test": 10000}
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "KERASTOOLS_DATA_DIR"


class DataFileError(ValueError):
    """A Fashion-MNIST file is missing, truncated or not the expected IDX file."""


def keras_cache_dir():
    """Where ``keras.datasets.fashion_mnist`` keeps its download."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(keras_home, "datasets", "fashion-mnist")


def _candidate_path(directory, filename):
    """The file, gzip-compressed or not, in ``directory``; None if absent."""
    for name in (filename, filename[: -len(".gz")]):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path, expected_magic, expected_count=None):
    """Reads one IDX file (optionally gzip-compressed) into a uint8 array.

    Raises:
        DataFileError: naming ``path`` when the file cannot be read, is
            truncated, has the wrong magic number, count or size.
    """
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataFileError(
            f"Cannot read Fashion-MNIST file {path!r}: {e}. The file is "
            "damaged or truncated; delete it and load again."
        ) from e
    if len(raw) < 8:
        raise DataFileError(
            f"Fashion-MNIST file {path!r} is truncated: {len(raw)} bytes, "
            "too short for an IDX header."
        )
    magic, count = struct.unpack(">II", raw[:8])
    if magic != expected_magic:
        raise DataFileError(
            f"Fashion-MNIST file {path!r} has IDX magic number {magic}; "
            f"expected {expected_magic} "
            f"({'images' if expected_magic == _IMAGE_MAGIC else 'labels'})."
        )
    if expected_count is not None and count != expected_count:
        raise DataFileError(
            f"Fashion-MNIST file {path!r} holds {count} items; expected "
            f"{expected_count}."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected_bytes = header + int(np.prod(dims))
    if len(raw) != expected_bytes:
        raise DataFileError(
            f"Fashion-MNIST file {path!r} has {len(raw)} bytes; its header "
            f"(shape {dims}) needs {expected_bytes}. The file is truncated "
            "or damaged."
        )
    if magic == _IMAGE_MAGIC and tuple(dims[1:]) != (28, 28):
        raise DataFileError(
            f"Fashion-MNIST file {path!r} holds images of shape {dims[1:]}; "
            "expected (28, 28)."
        )
    data = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    if magic == _LABEL_MAGIC and data.size and data.max() > 9:
        raise DataFileError(
            f"Fashion-MNIST file {path!r} holds label {int(data.max())}; "
            "labels are 0-9."
        )
    return data


def _read_dir(directory):
    """Reads the four files in ``directory``; errors name the missing ones."""
    paths = {k: _candidate_path(directory, f) for k, f in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise DataFileError(
            f"Fashion-MNIST directory {directory!r} lacks {', '.join(missing)}."
        )
    arrays = {}
    for key, path in paths.items():
        magic = _IMAGE_MAGIC if key.startswith("x") else _LABEL_MAGIC
        arrays[key] = read_idx(path, magic, _COUNTS[key])
    return arrays


def _has_any(directory):
    return any(_candidate_path(directory, f) for f in FILES.values())


def locate(data_dir=None):
    """Returns ``(directory, how)`` of the files the loader would read.

    ``directory`` is None when nothing was found and Keras would download.
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
        (DEBIAN_DIR, "Debian package dataset-fashion-mnist"),
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


def _download():
    """Asks Keras to download into its cache, then verifies what arrived.

    A download that fails verification is deleted, never left in the cache.
    """
    import keras

    keras.datasets.fashion_mnist.load_data()
    directory = keras_cache_dir()
    try:
        return _read_dir(directory)
    except DataFileError:
        for filename in FILES.values():
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
):
    """Loads Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    The tuple has the shape of ``keras.datasets.fashion_mnist.load_data()``.
    See the module docstring for where the files are looked for.

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

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` NumPy arrays; labels are
        uint8 class indices into ``FASHION_MNIST_CLASSES``.

    Raises:
        DataFileError (a ValueError): a wrong directory, a missing, truncated
            or damaged file; the message names it and where the loader looked.
        ValueError: an unknown option value.
    """
    if not isinstance(normalize, bool):
        raise ValueError(
            f"Argument `normalize` must be True or False. Received: normalize={normalize!r}"
        )
    if not isinstance(flatten, bool):
        raise ValueError(
            f"Argument `flatten` must be True or False. Received: flatten={flatten!r}"
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
    try:
        if directory is None:
            if not download:
                raise DataFileError(
                    "Fashion-MNIST files not found and `download=False`."
                )
            arrays = _download()
        else:
            arrays = _read_dir(directory)
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
