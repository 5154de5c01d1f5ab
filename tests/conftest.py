import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import pytest  # noqa: E402

SHARED_DATA = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "fashion-mnist")
)


@pytest.fixture(autouse=True)
def _clean_keras_state():
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture(scope="session")
def fashion_dir():
    """The real Fashion-MNIST files, or skip where no copy exists."""
    from kerastools.datasets import locate

    env = os.environ.get("KERASTOOLS_DATA_DIR")
    if env:
        return env
    if os.path.isfile(os.path.join(SHARED_DATA, "train-images-idx3-ubyte.gz")):
        return SHARED_DATA
    directory, _ = locate()
    if directory is None:
        pytest.skip("no local Fashion-MNIST copy")
    return directory
