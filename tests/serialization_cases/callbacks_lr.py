"""Serialization cases for the LR callbacks (config round trips only)."""

from kerastools.callbacks.lr_logger import LearningRateLogger

CASES = {
    LearningRateLogger: lambda: LearningRateLogger(per_batch=True, log_momentum=False,
                                                   key="lr", at="next"),
}
