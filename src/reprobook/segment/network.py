"""The last stage of the WSSS chain: a segmentation network trained on (pseudo) masks, and its evaluation.

:func:`make_segmenter` builds a network that maps ``N x 3 x H x W`` images to ``N x K x H x W`` logits:
``"tiny"`` (a small encoder-decoder for CPU runs) or a torchvision segmentation model with random weights
(nothing is downloaded). :func:`train_segmenter` fits it with pixel cross-entropy on label maps (255 =
ignore), plus an optional extra term, the hook where MuSCLe's BEACON loss plugs in.
:func:`predict_masks` and :func:`evaluate_segmenter` run it on held-out images.

Every function checks its data first (:func:`check_segmentation_data`), so an empty set, images and masks
of different sizes, or labels outside the class range fail with a message that names them.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..train import History, fit
from .metrics import IGNORE_INDEX, SegmentationMeter, _check_labels

TORCHVISION_ARCHS = ("deeplabv3_resnet50", "deeplabv3_resnet101", "fcn_resnet50", "deeplabv3_mobilenet_v3_large",
                     "lraspp_mobilenet_v3_large")
ARCHS = ("tiny", *TORCHVISION_ARCHS)

ExtraLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


# ------------------------------------------------------------------------------------------- checks
def _shape(x) -> str:
    return str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__


def check_segmentation_data(images: torch.Tensor, masks: torch.Tensor | None, num_classes: int | None = None,
                            *, ignore_index: int = IGNORE_INDEX, what: str = "images") -> None:
    """Raise ValueError/TypeError naming the problem unless ``images`` is a non-empty float
    ``N x 3 x H x W`` tensor and ``masks`` (if given) an integer ``N x H x W`` tensor of labels in
    ``0 .. num_classes - 1`` or ``ignore_index``."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.dtype.is_floating_point:
        raise TypeError(f"{what} must be a float tensor N x 3 x H x W, got {_shape(images)}"
                        + (f" of {images.dtype}" if isinstance(images, torch.Tensor) else ""))
    if images.shape[0] == 0:
        raise ValueError(f"{what} is empty (0 images); a segmentation set needs at least one image")
    if images.shape[1] != 3:
        raise ValueError(f"{what} must have 3 colour channels (N x 3 x H x W), got {_shape(images)}")
    if masks is None:
        return
    if not isinstance(masks, torch.Tensor) or masks.dim() != 3:
        raise TypeError(f"masks must be an integer tensor N x H x W of class indices, got {_shape(masks)}")
    if masks.shape[0] != images.shape[0]:
        raise ValueError(f"{images.shape[0]} {what} but {masks.shape[0]} masks; every image needs one mask")
    if masks.shape[1:] != images.shape[2:]:
        raise ValueError(f"{what} are {images.shape[2]}x{images.shape[3]} (H x W) but masks are "
                         f"{masks.shape[1]}x{masks.shape[2]}; resize them together (e.g. data.voc.resize_pair)")
    if num_classes is not None:
        _check_labels("masks", masks, num_classes, ignore_index)


# ------------------------------------------------------------------------------------------- models
def _conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinySegNet(nn.Module):
    """A small encoder-decoder for CPU runs: three stages (strides 1, 2, 4) with a dilated context block
    at stride 4, then a decoder that upsamples and adds the stride-2 and stride-1 features (as FPN does)
    before a 1x1 classifier at full resolution. ``features`` (set by each forward) holds the decoder's
    last feature map, ``N x width x H x W``, for losses that work on dense features."""

    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        w = width
        self.stage1 = nn.Sequential(_conv_bn(3, w // 2), _conv_bn(w // 2, w // 2))
        self.stage2 = nn.Sequential(_conv_bn(w // 2, w, stride=2), _conv_bn(w, w))
        self.stage3 = nn.Sequential(_conv_bn(w, 2 * w, stride=2), _conv_bn(2 * w, 2 * w, dilation=2),
                                    _conv_bn(2 * w, 2 * w, dilation=4))
        self.lateral2 = nn.Conv2d(w, 2 * w, 1)
        self.lateral1 = nn.Conv2d(w // 2, 2 * w, 1)
        self.fuse = _conv_bn(2 * w, w)
        self.classifier = nn.Conv2d(w, num_classes, 1)
        self.features: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.stage1(x)
        f2 = self.stage2(f1)
        f3 = self.stage3(f2)
        up = F.interpolate(f3, size=f2.shape[2:], mode="bilinear", align_corners=False) + self.lateral2(f2)
        up = F.interpolate(up, size=f1.shape[2:], mode="bilinear", align_corners=False) + self.lateral1(f1)
        self.features = self.fuse(up)
        return self.classifier(self.features)


class _LogitsOnly(nn.Module):
    """torchvision's segmentation models return ``{"out": logits, ...}``; the book's code wants logits."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["out"]


def make_segmenter(arch: str, num_classes: int, *, width: int = 32) -> nn.Module:
    """A segmentation network with random weights: ``"tiny"`` (:class:`TinySegNet` of ``width``) or one
    of torchvision's models named in :data:`TORCHVISION_ARCHS` (``weights=None, weights_backbone=None``, no
    auxiliary head). ``num_classes`` counts the background."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2 (background included), got {num_classes!r}")
    if arch == "tiny":
        if not isinstance(width, int) or width < 4 or width % 2:
            raise ValueError(f"width must be an even integer >= 4, got {width!r}")
        return TinySegNet(num_classes, width)
    if arch not in TORCHVISION_ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    from torchvision.models import segmentation

    builder = getattr(segmentation, arch)
    return _LogitsOnly(builder(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False))


# ----------------------------------------------------------------------------------------- training
def train_segmenter(model: nn.Module, images: torch.Tensor, masks: torch.Tensor, *, epochs: int,
                    batch_size: int = 16, lr: float = 1e-3, weight_decay: float = 1e-4,
                    extra_loss: ExtraLoss | None = None, aux: torch.Tensor | None = None, flip: bool = True,
                    num_classes: int | None = None, device: torch.device | str = "cpu", seed: int = 0,
                    progress: bool | None = None, desc: str = "segmenter") -> History:
    """Fit ``model`` to label maps ``masks`` (``N x H x W``; 255 = ignore) with pixel cross-entropy.

    - Adam with ``lr`` and ``weight_decay``; the learning rate follows a cosine decay to 0 over all steps
      (a fixed schedule: nothing here looks at validation or ground-truth scores).
    - ``flip``: each batch is mirrored left-right with probability 1/2 (images, masks and spatial ``aux``).
    - ``extra_loss(logits, images, masks, aux_batch)`` is added to the cross-entropy when given; ``aux``
      (``N x ...``, e.g. soft pseudo masks) is batched alongside the images for it.
    - ``num_classes``: when given, the labels are checked against it before training; either way the
      largest label is checked against the model's number of output maps at the first step.
    - Batches are drawn by a generator seeded with ``seed``; on the CPU a run repeats bit for bit.
    """
    check_segmentation_data(images, masks, num_classes)
    if aux is not None and (not isinstance(aux, torch.Tensor) or aux.shape[0] != images.shape[0]):
        raise ValueError(f"aux must be a tensor with one entry per image ({images.shape[0]}), got {_shape(aux)}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "epochs" else 1):
            raise ValueError(f"{name} must be an integer >= {0 if name == 'epochs' else 1}, got {value!r}")
    if not isinstance(lr, (int, float)) or not 0 < lr < 10:
        raise ValueError(f"lr must be a positive learning rate, got {lr!r}")
    if masks.dtype != torch.int64:
        masks = masks.long()
    tensors = (images, masks) if aux is None else (images, masks, aux)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=True, generator=generator,
                        drop_last=len(images) > batch_size)
    flips = torch.Generator().manual_seed(seed + 1)
    spatial = masks.shape[1:]
    valid = masks[masks != IGNORE_INDEX]
    largest = int(valid.max()) if valid.numel() else 0
    if num_classes is None:  # at least catch negative labels before cross-entropy does
        _check_labels("masks", masks, largest + 1, IGNORE_INDEX)
    checked = []  # the output width is known only after the first forward pass

    def step(net: nn.Module, batch) -> torch.Tensor:
        x, y, a = (*batch, None) if len(batch) == 2 else batch
        if flip and bool(torch.rand((), generator=flips) < 0.5):
            x, y = x.flip(-1), y.flip(-1)
            if a is not None and tuple(a.shape[-2:]) == tuple(spatial):
                a = a.flip(-1)
        logits = net(x)
        if logits.shape[2:] != y.shape[1:]:
            raise ValueError(f"the model returned {tuple(logits.shape[2:])} logit maps for {tuple(y.shape[1:])} "
                             "masks; a segmenter must predict at its input's resolution")
        if not checked:
            if largest >= logits.shape[1]:
                raise ValueError(f"masks hold label {largest} but the model predicts only {logits.shape[1]} classes "
                                 f"(0..{logits.shape[1] - 1}); build it with num_classes = foreground classes + 1")
            checked.append(True)
        loss = F.cross_entropy(logits.float(), y, ignore_index=IGNORE_INDEX)
        if extra_loss is not None:
            loss = loss + extra_loss(logits, x, y, a)
        return loss

    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    total_steps = max(1, epochs * len(loader))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return fit(model, loader, epochs=epochs, optimizer=optimizer, scheduler=scheduler, scheduler_interval="step",
               device=device, step=step, progress=progress, desc=desc)


# ---------------------------------------------------------------------------------------- inference
@torch.no_grad()
def predict_masks(model: nn.Module, images: torch.Tensor, *, batch_size: int = 32,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Label maps (int64 ``N x H x W``, on the CPU) predicted by ``model`` in eval mode."""
    check_segmentation_data(images, None)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval().to(device)
    try:
        out = [model(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(images), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out)


def evaluate_segmenter(model: nn.Module, images: torch.Tensor, masks: torch.Tensor, num_classes: int, *,
                       batch_size: int = 32, device: torch.device | str | None = None,
                       class_names: Sequence[str] | None = None) -> SegmentationMeter:
    """A :class:`~reprobook.segment.metrics.SegmentationMeter` filled with ``model``'s predictions on
    ``images`` against ``masks`` (255 = ignore)."""
    check_segmentation_data(images, masks, num_classes)
    meter = SegmentationMeter(num_classes, class_names=class_names)
    return meter.update(predict_masks(model, images, batch_size=batch_size, device=device), masks)


__all__ = ["ARCHS", "TORCHVISION_ARCHS", "TinySegNet", "check_segmentation_data", "evaluate_segmenter",
           "make_segmenter", "predict_masks", "train_segmenter"]
