"""Explaining classifiers: the CAM family (batched, multi-label) and explanation metrics.

- :mod:`.cams`: :class:`CamExplainer` with CAM, Grad-CAM, Grad-CAM++, Score-CAM, XGrad-CAM, LayerCAM,
  HiResCAM, MinMax-CAM, D-MinMax-CAM, MinMax-Grad-CAM and D-MinMax-Grad-CAM.
- :mod:`.metrics`: %IC, %AD, %ADO, %AR, %ARO, F1-, F1+ (macro and micro) and map energy on object masks.
- :mod:`.labels`: per-image label sets as padded tensors; detections from logits.
- :mod:`.plots`: the grid of per-label maps with the other labels' objects outlined.
- :mod:`.models`: :class:`SceneCNN`, the small global-pooling classifier of the smoke profiles.
"""
from .cams import METHODS, CamExplainer, CamResult, available_methods, canonical_method, compute_cams, normalise
from .labels import as_label_slots, detections
from .metrics import (ExplanationScores, explanation_metrics, mask_energy, masked_scores, pair_metrics)
from .models import SceneCNN
from .plots import pick_multilabel_rows, plot_label_maps

__all__ = ["METHODS", "CamExplainer", "CamResult", "ExplanationScores", "SceneCNN", "as_label_slots", "available_methods",
           "canonical_method", "compute_cams", "detections", "explanation_metrics", "mask_energy",
           "masked_scores", "normalise", "pair_metrics", "pick_multilabel_rows", "plot_label_maps"]
