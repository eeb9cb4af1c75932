"""Offline data for the book: generators, bundled-dataset loaders, and readers of real datasets on disk.

Nothing here downloads. Loaders of real datasets read from a ``data_root`` folder and raise
:class:`DatasetNotFound` (a ``FileNotFoundError``) naming the path and what to put there when it is missing.
"""
from .images import (CIFAR10_CLASSES, DatasetNotFound, ImageSplits, cifar10_available, load_cifar10,
                     make_digits)

__all__ = ["CIFAR10_CLASSES", "DatasetNotFound", "ImageSplits", "cifar10_available", "load_cifar10",
           "make_digits"]
