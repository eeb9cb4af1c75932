"""Image corruptions at five severities, in the spirit of ImageNet-C (Hendrycks & Dietterich, ICLR 2019).

:func:`corrupt` applies one corruption family at severity 0 (the identity) to 5 (strongest) to a batch of
images ``(N, C, H, W)`` (or ``(C, H, W)`` / ``(H, W)``) with values in ``[0, 1]``; the result has the same
shape, dtype and type (torch tensor or numpy array) and stays in ``[0, 1]``.

Design choices, and why:

- *Hand-written in torch* because the PyPI packages that re-create ImageNet-C (``imagecorruptions``,
  ``imagenet-c``) work on 8-bit RGB photographs of ImageNet size and pull in Wand/ImageMagick; the book's
  stand-in images are small grey tensors.
- *Coupled randomness*: the random draw of a family (the noise field, which pixels flip, where the patch
  sits) depends on ``seed`` and the family only, never on the severity; the severity only scales it. So a
  stronger severity corrupts the *same* pixels more, and the damage grows monotonically with the
  severity for every image, not only on average. Shot noise therefore uses the Gaussian approximation of
  the Poisson draw, ``x + sqrt(x / lam) z`` with one fixed ``z``, instead of a fresh Poisson sample.
  Pixelation is deterministic but its block grids at different factors do not nest, so its damage grows
  with the severity on average over natural images, not for every single image (nor for images whose
  structure happens to align with one grid). Its factors are ImageNet-C's (0.6 ... 0.25) shifted by one
  step, because at 16 pixels the factors 0.6 and 0.5 give blocks (10 and 8 cells) of which the second
  damages less than the first.
- *Sizes relative to the image*: blur widths, pixelation and occlusion patches are fractions of the
  image side, so the same severity means the same thing on 16x16 and on 32x32 images.

The severity tables follow ImageNet-C's where they carry over to images in ``[0, 1]`` (noise levels,
brightness and contrast factors, pixelation factors).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["CORRUPTIONS", "SEVERITY_PARAMS", "MAX_SEVERITY", "corrupt", "corrupt_all"]

MAX_SEVERITY = 5
# One parameter per severity 1..5 (index 0 = severity 1).
SEVERITY_PARAMS: dict[str, tuple[float, ...]] = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),  # std of the added noise (ImageNet-C)
    "shot_noise": (60.0, 25.0, 12.0, 5.0, 3.0),  # photons per unit intensity, lam (ImageNet-C)
    "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),  # share of salt-and-pepper pixels (ImageNet-C)
    "gaussian_blur": (0.03, 0.05, 0.07, 0.09, 0.12),  # blur std as a share of the image side
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),  # added to every pixel (ImageNet-C adds it to HSV value)
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),  # factor on the deviation from the image mean (ImageNet-C)
    "pixelate": (0.5, 0.4, 0.3, 0.25, 0.2),  # down-sampling factor before blowing back up (ImageNet-C's, shifted)
    "occlusion": (0.2, 0.3, 0.4, 0.5, 0.6),  # side of a grey square patch as a share of the image side
}
CORRUPTIONS: tuple[str, ...] = tuple(SEVERITY_PARAMS)


def _check(images, name: str, severity) -> None:
    if name not in SEVERITY_PARAMS:
        raise ValueError(f"corruption {name!r} is unknown; allowed are {CORRUPTIONS}")
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or not 0 <= severity <= MAX_SEVERITY:
        raise ValueError(f"severity={severity!r}: an integer from 0 (clean) to {MAX_SEVERITY} is allowed")
    if not isinstance(images, (torch.Tensor, np.ndarray)):
        raise TypeError(f"images must be a torch tensor or a numpy array, got {type(images).__name__}")


def _as_batch(images) -> tuple[torch.Tensor, tuple]:
    """A float64 tensor ``(N, C, H, W)`` and the original shape."""
    x = torch.as_tensor(np.asarray(images) if isinstance(images, np.ndarray) else images)
    shape = tuple(x.shape)
    if x.ndim < 2 or x.ndim > 4 or min(shape[-2:]) < 2:
        raise ValueError(f"images must have shape (N, C, H, W), (C, H, W) or (H, W) with H, W >= 2, got {shape}")
    if not torch.is_floating_point(x):
        raise TypeError(f"images must be floating point in [0, 1], got dtype {x.dtype}")
    x = x.detach().cpu().to(torch.float64)  # CPU: the seeded generators are CPU ones
    if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError("image values must be finite and in [0, 1] (scale them first)")
    while x.ndim < 4:
        x = x.unsqueeze(0)
    return x, shape


def _generator(seed: int, name: str) -> torch.Generator:
    # One stream per (seed, family): the family's index keeps the families' draws independent.
    return torch.Generator().manual_seed(int(seed) * 1000 + CORRUPTIONS.index(name))


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflected borders (the kernel spans +-3 sigma, capped by the image)."""
    h, w = x.shape[-2:]
    radius = max(1, min(int(math.ceil(3 * sigma)), min(h, w) - 1))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    n, c = x.shape[:2]
    y = x.reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1))
    return y.reshape(n, c, h, w)


def _apply(x: torch.Tensor, name: str, p: float, g: torch.Generator) -> torch.Tensor:
    n, c, h, w = x.shape
    if name == "gaussian_noise":
        return x + p * torch.randn(x.shape, generator=g, dtype=x.dtype)
    if name == "shot_noise":
        return x + torch.sqrt(x / p) * torch.randn(x.shape, generator=g, dtype=x.dtype)
    if name == "impulse_noise":
        u = torch.rand(x.shape, generator=g, dtype=x.dtype)  # pixel flips when u < p: nested sets
        salt = torch.rand(x.shape, generator=g, dtype=x.dtype) < 0.5
        return torch.where(u < p, salt.to(x.dtype), x)
    if name == "gaussian_blur":
        return _gaussian_blur(x, p * min(h, w))
    if name == "brightness":
        return x + p
    if name == "contrast":
        mean = x.mean(dim=(-3, -2, -1), keepdim=True)
        return (x - mean) * p + mean
    if name == "pixelate":
        small = (max(1, int(round(h * p))), max(1, int(round(w * p))))
        return F.interpolate(F.interpolate(x, size=small, mode="area"), size=(h, w), mode="nearest")
    if name == "occlusion":
        side_h, side_w = max(1, int(round(p * h))), max(1, int(round(p * w)))
        # One centre per image, fixed across severities, so a stronger severity grows the same patch.
        cy = torch.randint(0, h, (n,), generator=g)
        cx = torch.randint(0, w, (n,), generator=g)
        rows, cols = torch.arange(h), torch.arange(w)
        top, left = cy - side_h // 2, cx - side_w // 2
        in_r = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + side_h)
        in_c = (cols[None] >= left[:, None]) & (cols[None] < left[:, None] + side_w)
        mask = (in_r[:, :, None] & in_c[:, None, :])[:, None]
        return torch.where(mask, torch.full_like(x, 0.5), x)
    raise AssertionError(name)  # unreachable: _check validated the name


def corrupt(images, name: str, severity: int, *, seed: int = 0):
    """``images`` corrupted by family ``name`` at ``severity`` (0 = unchanged copy, 1..5).

    Deterministic given ``seed``; the same seed gives the same random draw at every severity (see the
    module docstring). Returns the input's type, shape and dtype, with values clipped to ``[0, 1]``.
    """
    _check(images, name, severity)
    x, shape = _as_batch(images)
    if severity > 0:
        x = _apply(x, name, SEVERITY_PARAMS[name][severity - 1], _generator(seed, name)).clamp(0.0, 1.0)
    x = x.reshape(shape)
    if isinstance(images, np.ndarray):
        return x.numpy().astype(images.dtype, copy=False)
    return x.to(dtype=images.dtype, device=images.device)


def corrupt_all(images, names=CORRUPTIONS, severities=range(1, MAX_SEVERITY + 1), *, seed: int = 0) -> dict:
    """``{(name, severity): corrupted images}`` for every family and severity asked for."""
    return {(nm, s): corrupt(images, nm, s, seed=seed) for nm in names for s in severities}
