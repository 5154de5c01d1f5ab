"""Histograms and figures into a TensorBoard log directory (TensorFlow backend).

Keras' ``TensorBoard`` callback records scalars from ``logs`` on every backend
where TensorFlow is installed; the monitors' histograms and figures go through
``tf.summary`` here, which needs the TensorFlow backend. Each write opens the
directory's writer, writes and closes it, so no file stays open between
epochs, whatever ends the fit.
"""

import os

import keras
import numpy as np


def check_tensorboard_dir(name, logdir):
    """``logdir`` as a string, or ``None``; a ``ValueError`` off the TensorFlow backend."""
    if logdir is None:
        return None
    if not isinstance(logdir, (str, os.PathLike)) or not os.fspath(logdir):
        raise ValueError(f"Argument `{name}` must be a directory path or None. "
                         f"Received: {name}={logdir!r}")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Argument `{name}` needs the TensorFlow backend (histograms and images are written "
            f"with tf.summary); on {keras.backend.backend()!r} use the PNG figures "
            "(LearningCurves, kerastools.plotting.save_figure) and CSVLogger, or keras' "
            f"TensorBoard callback for the scalars. Received: {name}={logdir!r}")
    return os.fspath(logdir)


def write_summaries(logdir, step, histograms=None, images=None):
    """Writes ``{tag: values}`` as histograms and ``{tag: png_bytes}`` as images at ``step``."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(logdir)
    try:
        with writer.as_default():
            for tag, values in (histograms or {}).items():
                tf.summary.histogram(tag, np.asarray(values, dtype=np.float64).ravel(), step=step)
            for tag, png in (images or {}).items():
                image = tf.expand_dims(tf.io.decode_png(png, channels=4), 0)
                tf.summary.image(tag, image, step=step)
        writer.flush()
    finally:
        writer.close()


def histogram_values(summary):
    """Values that rebuild a recorded histogram (bin centres, each repeated by its count)."""
    edges = np.asarray(summary["edges"], dtype=np.float64)
    return np.repeat((edges[:-1] + edges[1:]) / 2, np.asarray(summary["hist"], dtype=np.int64))
