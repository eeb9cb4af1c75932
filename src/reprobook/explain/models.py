"""Small classifiers in the form CAM needs, shared by the CAM and WSSS chapters.

:class:`SceneCNN` is the CPU-sized network the smoke profiles train on the synthetic scenes
(:mod:`reprobook.data.scenes`): four conv-BN-ReLU blocks make ``features`` (output stride 4), then global
average pooling and one linear layer ``fc``. For this global-pooling-then-linear head, class ``c``'s CAM is
exactly ``sum_k fc.weight[c, k] * features(x)[k]`` and Grad-CAM coincides with it.
"""
from __future__ import annotations

import torch
from torch import nn


class SceneCNN(nn.Module):
    """conv-BN-ReLU x 4 (widths ``w, 2w, 4w, 4w``; strides 1, 2, 2, 1) = ``features``; ``pool`` (global
    average); linear ``fc``. A 64 px image gives 16 x 16 feature maps of ``4 * width`` channels."""

    def __init__(self, num_classes: int, width: int = 16):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        w = width

        def block(a: int, b: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(3, w, 1), *block(w, 2 * w, 2), *block(2 * w, 4 * w, 2),
                                      *block(4 * w, 4 * w, 1))
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(4 * w, num_classes)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The maps CAM weighs: ``N x 4*width x H/4 x W/4``."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


__all__ = ["SceneCNN"]
