"""Datasets: a verified Fashion-MNIST loader."""

from kerastools.datasets.fashion_mnist import FASHION_MNIST_CLASSES
from kerastools.datasets.fashion_mnist import DataFileError
from kerastools.datasets.fashion_mnist import balanced_subset_indices
from kerastools.datasets.fashion_mnist import load_fashion_mnist
from kerastools.datasets.fashion_mnist import locate

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DataFileError",
    "balanced_subset_indices",
    "load_fashion_mnist",
    "locate",
]
