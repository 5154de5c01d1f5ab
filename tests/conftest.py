import gc
import inspect
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import pytest  # noqa: E402

SHARED_DATA = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "fashion-mnist")
)


# keras.utils.clear_session() runs a full gc.collect(), which costs about 0.25 s with
# TensorFlow loaded: more than most tests. Each test gets a fresh Keras session (names,
# global state) without it, and a full collection runs every GC_EVERY tests to bound memory.
_FREE_MEMORY_ARG = "free_memory" in inspect.signature(keras.utils.clear_session).parameters
GC_EVERY = 25
_tests_run = [0]


@pytest.fixture(autouse=True)
def _clean_keras_state():
    if _FREE_MEMORY_ARG:
        keras.utils.clear_session(free_memory=False)
        _tests_run[0] += 1
        if _tests_run[0] % GC_EVERY == 0:
            gc.collect()
    else:  # older Keras: its clear_session always collects
        keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    yield


def in_ci():
    """True where $CI is set to anything but "", "false" or "0"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def find_fashion_dir(shared_data=SHARED_DATA):
    """The directory of the real Fashion-MNIST files for the tests.

    Where no complete copy exists, tests that need it are skipped with the
    reason, except under CI, where they fail: missing data must not pass as
    ~40 quietly skipped tests.
    """
    from kerastools.datasets import DataFileError
    from kerastools.datasets import fashion_mnist as fm
    from kerastools.datasets import locate

    def complete(directory):
        return all(
            any(os.path.isfile(os.path.join(directory, n)) for n in (f, f[: -len(".gz")]))
            for f in fm.FILES.values()
        )

    env = os.environ.get("KERASTOOLS_DATA_DIR")
    problem = ""
    if env:
        if complete(env):
            return env
        looked = [f"$KERASTOOLS_DATA_DIR={env!r}"]
    else:
        if complete(shared_data):
            return shared_data
        looked = [shared_data, fm.keras_cache_dir(), fm.DEBIAN_DIR]
        try:
            directory, _ = locate()
        except DataFileError as e:
            directory, problem = None, f" ({e})"
        if directory is not None and complete(directory):
            return directory
    message = (
        f"Fashion-MNIST data not found: no directory with all of {', '.join(fm.FILES.values())} "
        f"in {'; '.join(looked)}{problem}. Set $KERASTOOLS_DATA_DIR to a copy (see README, Data)."
    )
    if in_ci():
        pytest.fail(f"{message} $CI is set, so missing data is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def fashion_dir():
    """The real Fashion-MNIST files: skip where no copy exists, fail under CI."""
    return find_fashion_dir()
