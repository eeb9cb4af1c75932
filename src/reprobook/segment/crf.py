"""Dense-CRF refinement of pseudo masks (Krähenbühl and Koltun's fully connected CRF), an optional extra.

The CRF takes per-pixel class probabilities ``p`` (unary energy ``-log p``) and adds two pairwise Potts
terms between all pixel pairs: an appearance kernel that links nearby pixels of similar colour (width
``bilateral_sxy`` in pixels, ``bilateral_srgb`` in colour, weight ``bilateral_compat``) and a smoothness
kernel on position alone (``gaussian_sxy``, ``gaussian_compat``). Mean-field inference runs
``iterations`` steps. The defaults are the values of the pydensecrf examples (3/3 and 80/13/10), which
AffinityNet and IRN also use for their CAM refinement; papers tune them per dataset.

The inference code comes from the PyPI package ``pydensecrf2`` (a maintained build of pydensecrf), installed
by ``pip install "reprobook[crf]"``. It compiles C++ on install, so it is optional: without it
:func:`dense_crf` raises :class:`MissingExtra` with the command to run, and chapters keep CRF refinement an
opt-in parameter.
"""
from __future__ import annotations

import numpy as np
import torch

from .pseudo import cam_probabilities

INSTALL_HINT = 'pip install "reprobook[crf]"  (the pydensecrf2 package; it compiles, so a C++ compiler is needed)'


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def crf_available() -> bool:
    """Whether the dense-CRF extra (``pydensecrf``) can be imported."""
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        return False
    return True


def _densecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:
        raise MissingExtra(f"dense-CRF refinement needs the optional extra: {INSTALL_HINT}. "
                           f"Without it, run with CRF refinement switched off ({err})") from None
    return dcrf


def _as_uint8_image(image) -> np.ndarray:
    """``H x W x 3`` uint8, C-contiguous, from a uint8 array or a float tensor ``3 x H x W`` in [0, 1]."""
    if isinstance(image, torch.Tensor):
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f"image must be a 3 x H x W tensor, got {tuple(image.shape)}")
        if image.dtype.is_floating_point:
            image = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8)
        image = image.permute(1, 2, 0).cpu().numpy()
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 H x W x 3 or a float tensor 3 x H x W in [0, 1], got "
                         f"{image.dtype} {image.shape}")
    return np.ascontiguousarray(image)


def dense_crf(image, probs, *, iterations: int = 10, gaussian_sxy: float = 3.0, gaussian_compat: float = 3.0,
              bilateral_sxy: float = 80.0, bilateral_srgb: float = 13.0, bilateral_compat: float = 10.0,
              eps: float = 1e-8) -> torch.Tensor:
    """Refined class probabilities (float32 ``K x H x W``) of one image.

    ``image``: uint8 ``H x W x 3`` or float ``3 x H x W`` in [0, 1]; ``probs``: ``K x H x W`` probabilities
    (each pixel's sum 1; clamped at ``eps`` before the log). With ``iterations=0`` the result is ``probs``
    itself renormalised: mean-field starts from the unary's softmax."""
    dcrf = _densecrf()
    rgb = _as_uint8_image(image)
    p = probs.detach().cpu().double().numpy() if isinstance(probs, torch.Tensor) else np.asarray(probs, np.float64)
    if p.ndim != 3 or p.shape[1:] != rgb.shape[:2]:
        raise ValueError(f"probs must be K x H x W with H x W = {rgb.shape[0]} x {rgb.shape[1]} (the image's), "
                         f"got {p.shape}")
    if p.shape[0] < 2:
        raise ValueError(f"probs needs at least 2 classes, got {p.shape[0]}")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
        raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
    k, h, w = p.shape
    crf = dcrf.DenseCRF2D(w, h, k)
    unary = -np.log(np.clip(p, eps, None)).reshape(k, -1).astype(np.float32)
    crf.setUnaryEnergy(np.ascontiguousarray(unary))
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(sxy=bilateral_sxy, srgb=bilateral_srgb, rgbim=rgb, compat=bilateral_compat)
    q = np.array(crf.inference(iterations), dtype=np.float32).reshape(k, h, w)
    return torch.from_numpy(q)


def crf_pseudo_masks(images: torch.Tensor, cams: torch.Tensor, labels: torch.Tensor | None,
                     threshold: float = 0.15, **crf_args) -> torch.Tensor:
    """Pseudo masks (int64 ``N x H x W``) refined by :func:`dense_crf`: the CRF starts from
    :func:`~reprobook.segment.pseudo.cam_probabilities` at the images' size, and each pixel takes its most
    probable class afterwards. Without CRF steps (``iterations=0``) this equals ``pseudo_masks``."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] != cams.shape[0]:
        raise ValueError(f"images must be N x 3 x H x W with N = {cams.shape[0]} (one per CAM set), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    _densecrf()  # fail before any work when the extra is missing
    probs = cam_probabilities(cams, labels, threshold, size=tuple(images.shape[2:]))
    return torch.stack([dense_crf(img, p, **crf_args).argmax(0) for img, p in zip(images, probs)])


__all__ = ["INSTALL_HINT", "MissingExtra", "crf_available", "crf_pseudo_masks", "dense_crf"]
