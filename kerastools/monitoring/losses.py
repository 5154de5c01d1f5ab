"""Per-batch losses recovered from the running epoch means that Keras logs."""

import numpy as np


def per_batch_losses(batches, means):
    """Per-batch losses from Keras' running means of the epoch.

    Keras logs, after batch ``k`` (0-based, ``steps_per_execution`` steps may
    be one call), the mean of the losses since the epoch began, weighted by
    batch size. With ``c_k = k + 1`` batches seen,
    ``loss_k = (c_k m_k - c_j m_j) / (c_k - c_j)`` for the previous call
    ``j`` (exact for equal batch sizes; the smaller last batch is slightly
    off).
    """
    counts = np.asarray(batches, dtype=np.float64) + 1.0
    means = np.asarray(means, dtype=np.float64)
    totals = counts * means
    prev_counts = np.concatenate([[0.0], counts[:-1]])
    prev_totals = np.concatenate([[0.0], totals[:-1]])
    return counts, (totals - prev_totals) / (counts - prev_counts)
