"""Semantic segmentation helpers for the WSSS chapters: metrics, and pseudo masks from class activation maps.

Conventions: segmentation labels are integer maps with 0 = background, ``c + 1`` = foreground class ``c``
and 255 = ignore (VOC's boundary band); class maps (CAMs) are ``N x C x h x w`` tensors over the ``C``
*foreground* classes, and image labels are ``N x C`` multi-hot.

Metrics. Intersection over union of class ``k`` from the confusion matrix ``M`` (rows = truth, columns =
prediction, ignored pixels left out): ``IoU_k = M_kk / (sum_j M_kj + sum_i M_ik - M_kk)``. A class absent
from both the ground truth and the prediction has an empty union: its IoU is undefined (NaN here) and mIoU
averages over the other classes only, as torchmetrics' macro Jaccard index and the VOC devkit do over a
dataset. A class predicted but absent from the truth has IoU 0 and counts. mIoU over a dataset comes from
the confusion matrix summed over all images, not from an average of per-image mIoUs.

Pseudo masks (the usual CAM-to-mask step of AffinityNet, IRN and the papers of this book): keep the maps of
the classes in the image's label set, scale each to a maximum of 1, put a constant background score
``threshold`` in front, and take the argmax per pixel. :func:`tta_maps` averages maps over flips and
scales (test-time augmentation, "multi-scale" in MuSCLe's Table 1), and :func:`threshold_sweep` scores a
range of thresholds at once (P-NOC's Fig. 15). Choosing the threshold by its mIoU on labelled masks is an
oracle: say so wherever it is done.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

IGNORE_INDEX = 255
NORMALISATIONS = ("max", "minmax", None)


# ------------------------------------------------------------------------------------------------ metrics
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


# ---------------------------------------------------------------------------------------- pseudo masks
def _check_cams(cams: torch.Tensor, labels: torch.Tensor | None) -> None:
    if not isinstance(cams, torch.Tensor) or cams.dim() != 4 or not cams.dtype.is_floating_point:
        raise ValueError(f"cams must be a float tensor N x C x h x w (one map per foreground class), got "
                         f"{tuple(cams.shape) if isinstance(cams, torch.Tensor) else type(cams).__name__}")
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != cams.shape[:2]):
        raise ValueError(f"labels must be an N x C multi-hot tensor matching cams' {tuple(cams.shape[:2])}, got "
                         f"{tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__}")


def normalise_cams(cams: torch.Tensor, mode: str | None = "max", eps: float = 1e-5) -> torch.Tensor:
    """ReLU, then scale each map on its own: ``"max"`` divides by its maximum (plus ``eps``), ``"minmax"``
    maps its range to [0, 1]; ``None`` leaves the values as they are (no ReLU either)."""
    if mode not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {mode!r}")
    if mode is None:
        return cams
    cams = F.relu(cams)
    hi = cams.amax((2, 3), keepdim=True)
    if mode == "max":
        return cams / (hi + eps)
    lo = cams.amin((2, 3), keepdim=True)
    return (cams - lo) / (hi - lo + eps)


def _foreground_scores(cams, labels, size, normalise):
    """Best allowed class per pixel and its normalised score (-inf where the image has no label)."""
    _check_cams(cams, labels)
    if size is not None:
        cams = F.interpolate(cams, size=size, mode="bilinear", align_corners=False)
    maps = normalise_cams(cams, normalise)
    if labels is not None:
        maps = maps.masked_fill(~labels.bool()[:, :, None, None], float("-inf"))
    return maps.max(1)  # values, indices (the first class on ties)


def pseudo_masks(cams: torch.Tensor, labels: torch.Tensor | None, threshold: float = 0.15, *,
                 size: tuple[int, int] | None = None, normalise: str | None = "max") -> torch.Tensor:
    """Label maps (int64 ``N x H x W``: 0 = background, ``c + 1`` = class ``c``) from class maps.

    Maps of classes outside each image's ``labels`` are dropped (``labels=None`` keeps all); the rest are
    upsampled to ``size`` (bilinear) if given, normalised (:func:`normalise_cams`), and compared with a
    constant background score ``threshold``: a pixel takes its best class only where that class's score is
    strictly above the threshold. IRN, for one, evaluates its CAMs this way at a threshold near 0.15."""
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        raise TypeError(f"threshold must be a number, got {threshold!r}")
    score, best = _foreground_scores(cams, labels, size, normalise)
    return torch.where(score > threshold, best + 1, torch.zeros_like(best))


def threshold_sweep(cams: torch.Tensor, labels: torch.Tensor | None, masks: torch.Tensor,
                    thresholds: Sequence[float], *, ignore_index: int | None = IGNORE_INDEX,
                    normalise: str | None = "max") -> torch.Tensor:
    """mIoU of :func:`pseudo_masks` at each threshold (float64 tensor, one value per threshold).

    Maps are upsampled to the masks' size first. The number of classes is ``C + 1`` (background). Picking
    the best threshold from this curve uses the ground truth: report it as an oracle."""
    if masks.dim() != 3 or masks.shape[0] != cams.shape[0]:
        raise ValueError(f"masks must be N x H x W with N = {cams.shape[0]}, got {tuple(masks.shape)}")
    if len(thresholds) == 0:
        raise ValueError("thresholds must hold at least one value")
    score, best = _foreground_scores(cams, labels, tuple(masks.shape[1:]), normalise)
    out = [miou(torch.where(score > t, best + 1, torch.zeros_like(best)), masks, cams.shape[1] + 1, ignore_index)
           for t in thresholds]
    return torch.tensor(out, dtype=torch.float64)


def tta_maps(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, scales: Sequence[float] = (1.0,),
             flip: bool = True, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Class maps averaged over scales and horizontal flips (test-time augmentation).

    For each scale ``s`` the images are resized by ``s`` (bilinear), ``fn`` returns ``N x C x h x w`` maps,
    the maps are resized to ``size`` (default: the images' own ``H x W``) and, for the flipped copy,
    flipped back; the result is the mean over the ``len(scales) * (1 + flip)`` views. ``fn`` decides
    whether maps are ReLU'd first (for CAMs they usually are)."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images must be a tensor N x C x H x W, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if len(scales) == 0 or any(not isinstance(s, (int, float)) or s <= 0 for s in scales):
        raise ValueError(f"scales must be positive numbers, got {list(scales)!r}")
    out_size = tuple(size) if size is not None else tuple(images.shape[2:])
    total, views, channels = None, 0, None
    for s in scales:
        x = images if s == 1 else F.interpolate(images, scale_factor=float(s), mode="bilinear", align_corners=False,
                                                 recompute_scale_factor=False)
        for flipped in ((False, True) if flip else (False,)):
            maps = fn(x.flip(-1) if flipped else x)
            if not isinstance(maps, torch.Tensor) or maps.dim() != 4 or maps.shape[0] != images.shape[0]:
                raise ValueError(f"fn must return maps N x C x h x w with N = {images.shape[0]}, got "
                                 f"{tuple(maps.shape) if isinstance(maps, torch.Tensor) else type(maps).__name__}")
            if channels is not None and maps.shape[1] != channels:
                raise ValueError(f"fn returned {maps.shape[1]} maps at scale {s} but {channels} before")
            channels = maps.shape[1]
            if tuple(maps.shape[2:]) != out_size:
                maps = F.interpolate(maps, size=out_size, mode="bilinear", align_corners=False)
            if flipped:
                maps = maps.flip(-1)
            total = maps if total is None else total + maps
            views += 1
    return total / views


__all__ = ["IGNORE_INDEX", "SegmentationMeter", "confusion_matrix", "iou_from_confusion", "miou",
           "miou_from_confusion", "normalise_cams", "per_class_iou", "pseudo_masks", "threshold_sweep", "tta_maps"]
