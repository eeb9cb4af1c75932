"""Pseudo masks from class activation maps, test-time augmentation and the background-threshold sweep.

Class maps (CAMs) are ``N x C x h x w`` tensors over the ``C`` *foreground* classes and image labels are
``N x C`` multi-hot. The usual CAM-to-mask step (AffinityNet, IRN and the papers of this book): keep the
maps of the classes in the image's label set, scale each to a maximum of 1, put a constant background score
``threshold`` in front, and take the argmax per pixel. :func:`tta_maps` averages maps over flips and scales
(test-time augmentation, "multi-scale" in MuSCLe's Table 1), and :func:`threshold_sweep` scores a range of
thresholds at once (P-NOC's Fig. 15). Choosing the threshold by its mIoU on labelled masks is an oracle:
say so wherever it is done. :func:`cam_probabilities` writes the same decision as class probabilities, the
input a dense CRF (:mod:`reprobook.segment.crf`) refines.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from .metrics import IGNORE_INDEX, miou

NORMALISATIONS = ("max", "minmax", None)


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


def cam_probabilities(cams: torch.Tensor, labels: torch.Tensor | None, threshold: float = 0.15, *,
                      size: tuple[int, int] | None = None, normalise: str | None = "max",
                      eps: float = 1e-5) -> torch.Tensor:
    """Per-pixel class probabilities ``N x (C + 1) x H x W`` (background first) that agree with
    :func:`pseudo_masks`: the background gets the constant score ``threshold``, each class of the image's
    label set its normalised map, classes outside it 0; the scores are divided by their sum per pixel.

    Dividing by one positive number per pixel keeps the order of the scores, so the argmax of these
    probabilities is exactly the pseudo mask (ties go to the background, as the strict ``>`` there).
    ``eps`` floors the scores so that a CRF's ``-log p`` unary stays finite."""
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or threshold <= 0:
        raise ValueError(f"threshold must be a positive number (the background score), got {threshold!r}")
    _check_cams(cams, labels)
    if size is not None:
        cams = F.interpolate(cams, size=size, mode="bilinear", align_corners=False)
    maps = normalise_cams(cams, normalise).clamp(min=0)
    if labels is not None:
        maps = maps * labels.to(maps.dtype)[:, :, None, None]
    scores = torch.cat([torch.full_like(maps[:, :1], float(threshold)), maps], dim=1).clamp(min=eps)
    return scores / scores.sum(1, keepdim=True)


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


__all__ = ["NORMALISATIONS", "cam_probabilities", "normalise_cams", "pseudo_masks", "threshold_sweep", "tta_maps"]
