"""Image classification data: an offline digits stand-in and a CIFAR-10 reader.

- :func:`make_digits` builds a small image task from scikit-learn's bundled ``load_digits`` (1,797 grey 8x8
  digits): upsampled, then expanded with random affine transforms and pixel noise. Train, validation and test
  images come from *disjoint* sets of base digits, so the test set measures generalisation to new
  handwriting, not to new distortions of digits seen in training.
- :func:`load_cifar10` reads the python version of CIFAR-10 (``cifar-10-batches-py``) from a local folder.

Both return :class:`ImageSplits` of ``TensorDataset`` s with float32 images ``N x C x H x W`` and int64 labels.
"""
from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and std of the CIFAR-10 training images (the usual normalisation constants).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class DatasetNotFound(FileNotFoundError):
    """A real dataset is not under ``data_root``; the message says which path and what to put there."""


@dataclass
class ImageSplits:
    """Train / validation / test ``TensorDataset`` s and what they are."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    num_classes: int
    name: str
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        shape = tuple(self.train.tensors[0].shape[1:])
        return (f"ImageSplits({self.name}: train {len(self.train)}, val {len(self.val)}, test {len(self.test)}, "
                f"images {shape}, {self.num_classes} classes)")


# ----------------------------------------------------------------------------------------------- digits
def _split_bases(labels: np.ndarray, fractions: tuple[float, float], rng: np.random.Generator):
    """Stratified split of base-digit indices into (train, val, test) by class."""
    parts = ([], [], [])
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val, n_test = (max(1, int(round(f * idx.size))) for f in fractions)
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def _distort(base: torch.Tensor, n: int, *, size: int, max_rotate: float, max_shift: float,
             scale: tuple[float, float], max_shear: float, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random affine copies (drawn with replacement, each base used about equally) with pixel noise."""
    nb = base.shape[0]
    reps = math.ceil(n / nb)
    pick = torch.cat([torch.randperm(nb, generator=g) for _ in range(reps)])[:n]
    u = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    angle = (2 * u(n) - 1) * math.radians(max_rotate)
    shear = (2 * u(n) - 1) * max_shear
    s = scale[0] + (scale[1] - scale[0]) * u(n)
    shift = (2 * u(n, 2) - 1) * (2 * max_shift / size)  # pixels -> normalised [-1, 1] coordinates
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates: rotation, shear, then 1/scale.
    theta = torch.stack([torch.stack([cos, -sin + shear, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1) / torch.stack([s, s, torch.ones(n)], 1)[:, None, :]
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    out = F.grid_sample(base[pick], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out = out + noise * torch.randn(out.shape, generator=g)
    return out, pick


def make_digits(n_train: int = 6000, n_val: int = 1000, n_test: int = 2000, *, size: int = 16,
                noise: float = 0.3, max_rotate: float = 15.0, max_shift: float = 2.0,
                scale: tuple[float, float] = (0.85, 1.1), max_shear: float = 0.2,
                val_fraction: float = 0.1, test_fraction: float = 0.3, seed: int = 0) -> ImageSplits:
    """A digits task from scikit-learn's bundled ``load_digits``, expanded offline to any size.

    The 1,797 base digits are split by class into train / validation / test pools (``val_fraction`` and
    ``test_fraction`` of each class; no base digit is in two pools). Each pool's digits are scaled to [0, 1],
    upsampled bilinearly from 8x8 to ``size`` x ``size``, and turned into ``n_*`` images by random rotation
    (up to ``max_rotate`` degrees), shear, scaling and translation (up to ``max_shift`` pixels), plus
    Gaussian pixel noise of standard deviation ``noise``. Deterministic given ``seed``.

    ``info`` records the base-digit indices of each pool (``train_bases`` ...) and, for each image, which
    base digit it came from (``train_source`` ...).
    """
    from sklearn.datasets import load_digits

    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction={val_fraction} and test_fraction={test_fraction} must be in (0, 1) "
                         "and sum to less than 1")
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # N x 1 x 8 x 8 in [0, 1]
    labels = torch.tensor(digits.target, dtype=torch.int64)
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    rng = np.random.default_rng(seed)
    pools = _split_bases(digits.target, (val_fraction, test_fraction), rng)
    g = torch.Generator().manual_seed(int(seed))
    sets, info = {}, {}
    kw = dict(size=size, max_rotate=max_rotate, max_shift=max_shift, scale=scale, max_shear=max_shear,
              noise=noise, g=g)
    for split, pool, n in zip(("train", "val", "test"), pools, (n_train, n_val, n_test)):
        pool_t = torch.as_tensor(pool, dtype=torch.int64)
        x, pick = _distort(images[pool_t], n, **kw)
        sets[split] = TensorDataset(x.contiguous(), labels[pool_t][pick].contiguous())
        info[f"{split}_bases"] = pool
        info[f"{split}_source"] = pool[pick.numpy()]
    return ImageSplits(sets["train"], sets["val"], sets["test"], 10, f"digits{size}", info)


# ---------------------------------------------------------------------------------------------- CIFAR-10
def _cifar_folder(data_root: str | Path) -> Path:
    root = Path(data_root).expanduser()
    return root if (root / CIFAR10_TEST).exists() and root.name == CIFAR10_DIR else root / CIFAR10_DIR


def cifar10_available(data_root: str | Path | None) -> bool:
    """Whether ``data_root`` holds the python version of CIFAR-10 (all six batch files)."""
    if data_root is None:
        return False
    folder = _cifar_folder(data_root)
    return all((folder / f).is_file() for f in (*CIFAR10_TRAIN, CIFAR10_TEST))


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as fh:
        batch = pickle.load(fh, encoding="bytes")
    try:
        data, labels = batch[b"data"], batch[b"labels"]
    except (KeyError, TypeError):
        raise ValueError(f"{path} is not a CIFAR-10 python batch (a pickled dict with b'data' and b'labels')") from None
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != len(labels):
        raise ValueError(f"{path}: b'data' must be uint8 N x 3072 with N labels, got {data.shape} and {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


def load_cifar10(data_root: str | Path, *, val_size: int = 5000, normalize: bool = True,
                 seed: int = 0) -> ImageSplits:
    """CIFAR-10 from ``data_root/cifar-10-batches-py`` (or ``data_root`` itself if it is that folder).

    The folder must hold the python version of the dataset as distributed by its authors: ``data_batch_1``
    ... ``data_batch_5`` and ``test_batch``, each a pickled dict with ``b'data'`` (uint8, N x 3072, channel
    planes R, G, B of 32x32) and ``b'labels'``. ``val_size`` training images (a seeded random choice) become
    the validation split; the test split is the official test batch. Images are float32 in [0, 1], then
    standardised per channel when ``normalize``.
    """
    folder = _cifar_folder(data_root)
    need = [*CIFAR10_TRAIN, CIFAR10_TEST]
    missing = [f for f in need if not (folder / f).is_file()]
    if missing:
        raise DatasetNotFound(
            f"CIFAR-10 not found: {folder} lacks {', '.join(missing)}. Put the python version of CIFAR-10 there "
            f"(unpack cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html into {Path(data_root)}, "
            f"giving {CIFAR10_DIR}/data_batch_1..5 and {CIFAR10_DIR}/test_batch), or use data_root=None for the "
            "offline stand-in")
    parts = [_read_batch(folder / f) for f in CIFAR10_TRAIN]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _read_batch(folder / CIFAR10_TEST)
    if not 0 <= val_size < len(x_train):
        raise ValueError(f"val_size={val_size} must be in [0, {len(x_train)})")
    perm = np.random.default_rng(seed).permutation(len(x_train))
    val_idx, train_idx = np.sort(perm[:val_size]), np.sort(perm[val_size:])

    def to_tensor(x):
        t = torch.from_numpy(x).float().div_(255.0)
        if normalize:
            t = (t - torch.tensor(CIFAR10_MEAN)[:, None, None]) / torch.tensor(CIFAR10_STD)[:, None, None]
        return t.contiguous()

    def ds(x, y):
        return TensorDataset(to_tensor(x), torch.from_numpy(y))

    return ImageSplits(ds(x_train[train_idx], y_train[train_idx]), ds(x_train[val_idx], y_train[val_idx]),
                       ds(x_test, y_test), 10, "cifar10",
                       {"folder": str(folder), "classes": CIFAR10_CLASSES, "val_indices": val_idx})
