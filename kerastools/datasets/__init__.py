"""Datasets: a verified Fashion-MNIST loader and an IDX reader."""

from kerastools.datasets.fashion_mnist import FASHION_MNIST_CLASSES
from kerastools.datasets.fashion_mnist import DataFileError
from kerastools.datasets.fashion_mnist import DataNotFoundError
from kerastools.datasets.fashion_mnist import balanced_subset_indices
from kerastools.datasets.fashion_mnist import load_fashion_mnist
from kerastools.datasets.fashion_mnist import locate
from kerastools.datasets.fashion_mnist import read_idx

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DataFileError",
    "DataNotFoundError",
    "balanced_subset_indices",
    "load_fashion_mnist",
    "locate",
    "read_idx",
]
