"""The weakly supervised semantic segmentation (WSSS) chain as reusable stages.

1. a classifier trained on image labels gives class activation maps (:mod:`reprobook.explain`);
2. :mod:`~reprobook.segment.pseudo` turns the maps into pseudo masks (a background threshold, optional
   multi-scale and flip inference, the threshold sweep);
3. :mod:`~reprobook.segment.crf` refines them with a dense CRF (an optional extra);
4. :mod:`~reprobook.segment.network` trains a segmentation network on the pseudo masks and runs it;
5. :mod:`~reprobook.segment.metrics` scores masks and predictions (confusion matrix, IoU, mIoU).

Conventions throughout: label maps are integer tensors with 0 = background, ``c + 1`` = foreground class
``c`` and 255 = ignore (VOC's boundary band); class maps are ``N x C x h x w`` over the ``C`` foreground
classes; image labels are ``N x C`` multi-hot.
"""
from .crf import INSTALL_HINT, MissingExtra, crf_available, crf_pseudo_masks, dense_crf
from .metrics import (IGNORE_INDEX, SegmentationMeter, confusion_matrix, iou_from_confusion, miou,
                      miou_from_confusion, per_class_iou)
from .network import (ARCHS, TORCHVISION_ARCHS, TinySegNet, check_segmentation_data, evaluate_segmenter,
                      make_segmenter, predict_masks, train_segmenter)
from .pseudo import NORMALISATIONS, cam_probabilities, normalise_cams, pseudo_masks, threshold_sweep, tta_maps

__all__ = ["ARCHS", "IGNORE_INDEX", "INSTALL_HINT", "MissingExtra", "NORMALISATIONS", "SegmentationMeter",
           "TORCHVISION_ARCHS", "TinySegNet", "cam_probabilities", "check_segmentation_data", "confusion_matrix",
           "crf_available", "crf_pseudo_masks", "dense_crf", "evaluate_segmenter", "iou_from_confusion",
           "make_segmenter", "miou", "miou_from_confusion", "normalise_cams", "per_class_iou", "predict_masks",
           "pseudo_masks", "threshold_sweep", "train_segmenter", "tta_maps"]
