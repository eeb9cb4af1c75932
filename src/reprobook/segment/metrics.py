"""Segmentation metrics: confusion matrix, per-class IoU, mIoU and a meter that accumulates them.

Labels are integer maps with 0 = background, ``c + 1`` = foreground class ``c`` and 255 = ignore (VOC's
boundary band). Intersection over union of class ``k`` from the confusion matrix ``M`` (rows = truth,
columns = prediction, ignored pixels left out): ``IoU_k = M_kk / (sum_j M_kj + sum_i M_ik - M_kk)``. A class
absent from both the ground truth and the prediction has an empty union: its IoU is undefined (NaN here)
and mIoU averages over the other classes only, as torchmetrics' macro Jaccard index and the VOC devkit do
over a dataset. A class predicted but absent from the truth has IoU 0 and counts. mIoU over a dataset comes
from the confusion matrix summed over all images, not from an average of per-image mIoUs.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch

IGNORE_INDEX = 255


def _check_labels(name: str, x: torch.Tensor, num_classes: int, ignore_index: int | None) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype.is_floating_point or x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name} must be an integer tensor of class indices, got "
                        f"{x.dtype if isinstance(x, torch.Tensor) else type(x).__name__}")
    bad = (x < 0) | (x >= num_classes)
    if ignore_index is not None:
        bad &= x != ignore_index
    if bad.any():
        values = torch.unique(x[bad])[:8].tolist()
        allowed = f"0..{num_classes - 1}" + (f" or {ignore_index} (ignore)" if ignore_index is not None else "")
        raise ValueError(f"{name} holds labels {values} outside {allowed}")


@contextlib.contextmanager
def _counting_mode() -> Iterator[None]:
    """Pause torch's deterministic mode while counting. With it on, torchmetrics replaces ``torch.bincount``
    by a dense comparison of every pixel with every (truth, prediction) pair: 100x slower on 20 images of
    128 x 128 with 21 classes, and out of memory on a few million pixels. Integer counts come out the same
    in any order, so nothing reproducible is lost."""
    was, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    if not was:
        yield
        return
    torch.use_deterministic_algorithms(False)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(True, warn_only=warn_only)


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                     ignore_index: int | None = IGNORE_INDEX) -> torch.Tensor:
    """``num_classes x num_classes`` pixel counts (int64): rows = true class, columns = predicted class.

    Pixels whose *target* is ``ignore_index`` are left out, whatever was predicted there; the prediction
    itself must hold valid classes only."""
    from torchmetrics.functional.classification import multiclass_confusion_matrix

    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2 (background included), got {num_classes!r}")
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor) or pred.shape != target.shape:
        def describe(x):
            return tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"pred and target must be tensors of one shape, got {describe(pred)} and {describe(target)}")
    _check_labels("target", target, num_classes, ignore_index)
    _check_labels("pred", pred, num_classes, None)
    if pred.numel() == 0:
        return torch.zeros(num_classes, num_classes, dtype=torch.int64, device=pred.device)
    # arguments checked above; torchmetrics' own checks would scan the tensors again
    with _counting_mode():
        return multiclass_confusion_matrix(pred.flatten(), target.flatten().to(pred.device), num_classes,
                                           ignore_index=ignore_index, validate_args=False).long()


def iou_from_confusion(confusion: torch.Tensor) -> torch.Tensor:
    """Per-class IoU (float64) from a confusion matrix; NaN for a class absent from truth and prediction."""
    cm = confusion.double()
    inter = cm.diagonal()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float("nan")))


def miou_from_confusion(confusion: torch.Tensor) -> float:
    """Mean IoU over the classes present in the truth or the prediction (NaN if there is none)."""
    iou = iou_from_confusion(confusion)
    present = ~torch.isnan(iou)
    return float(iou[present].mean()) if present.any() else float("nan")


def miou(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> float:
    """mIoU of label maps ``pred`` against ``target`` (any equal shapes; all pixels pooled)."""
    return miou_from_confusion(confusion_matrix(pred, target, num_classes, ignore_index))


def per_class_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                  ignore_index: int | None = IGNORE_INDEX) -> torch.Tensor:
    """IoU of each class (NaN where a class is in neither map)."""
    return iou_from_confusion(confusion_matrix(pred, target, num_classes, ignore_index))


class SegmentationMeter:
    """Accumulates a confusion matrix over batches; reports per-class IoU, mIoU and pixel accuracy.

    ``update`` takes label maps, or scores with one more (class) axis at position 1, which are argmaxed.
    ``class_names`` (optional, background included) label :meth:`per_class`."""

    def __init__(self, num_classes: int, ignore_index: int | None = IGNORE_INDEX,
                 class_names: Sequence[str] | None = None):
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names must name all {num_classes} classes (background included), "
                             f"got {len(class_names)}")
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.class_names = tuple(class_names) if class_names is not None else tuple(str(k) for k in range(num_classes))
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> "SegmentationMeter":
        if isinstance(pred, torch.Tensor) and pred.dtype.is_floating_point and pred.dim() == target.dim() + 1:
            pred = pred.argmax(1)
        self.confusion += confusion_matrix(pred, target, self.num_classes, self.ignore_index).cpu()
        return self

    def reset(self) -> None:
        self.confusion.zero_()

    def iou(self) -> torch.Tensor:
        return iou_from_confusion(self.confusion)

    def miou(self) -> float:
        return miou_from_confusion(self.confusion)

    def pixel_accuracy(self) -> float:
        total = int(self.confusion.sum())
        return float(self.confusion.diagonal().sum()) / total if total else float("nan")

    def per_class(self) -> dict[str, float]:
        return dict(zip(self.class_names, self.iou().tolist()))


__all__ = ["IGNORE_INDEX", "SegmentationMeter", "confusion_matrix", "iou_from_confusion", "miou",
           "miou_from_confusion", "per_class_iou"]
