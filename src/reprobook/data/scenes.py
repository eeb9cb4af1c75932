"""Synthetic multi-label scenes with pixel masks: the offline stand-in for PASCAL VOC in the CAM and WSSS
chapters.

Each image holds a few objects (filled shapes, or handwritten digits from scikit-learn's bundled
``load_digits``) painted on a textured canvas. A classifier is trained on the image-level multi-hot labels
only; the per-pixel class masks and per-instance masks are kept for evaluation (pseudo-mask mIoU, pointing
game, energy on other objects).

How an image's label set is drawn (so that class co-occurrence is controlled and known exactly):

1. an *anchor* class ``a`` is drawn from ``class_probs`` (uniform by default);
2. every other class ``j`` joins independently with probability ``Q[a, j]``, where ``Q`` is the
   ``cooccurrence`` matrix (row = anchor, column = companion; the diagonal is not used);
3. the number of objects is drawn uniformly from ``objects = (lo, hi)`` and raised to the number of classes
   when needed; every class present gets one object, extra objects repeat present classes. If more than
   ``hi`` classes were drawn, companions are dropped at random (``info["truncated"]`` counts those images).

Under this model the probability that classes ``i`` and ``j`` appear together has a closed form
(:func:`expected_cooccurrence`), which the tests compare with generated data.

Objects are placed so that each lies inside the canvas. With ``occlusion=False`` their bounding circles do
not intersect, so no two objects share a pixel. With ``occlusion=True`` they may overlap; objects are
painted in *depth order* (instance 1 at the back, the highest id in front) and an object left with less
than ``min_visible`` of its area visible is removed. Labels are always read off the final mask, so they
agree exactly with the classes visible in it.

``context`` ties a class to a background kind (boat on water, TV by a keyboard): when that class is present
the image gets that background with probability ``context_prob``. Everything is drawn from one seeded
``torch.Generator`` on the CPU, so a seed gives the same tensors on every machine and run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

IGNORE_INDEX = 255
BACKGROUND_KINDS = ("flat", "gradient", "noise", "stripes", "checker", "photo")
SHAPE_NAMES = ("disk", "square", "triangle", "star", "ring", "cross", "hexagon", "ellipse", "crescent",
               "semicircle")
DIGIT_NAMES = tuple(str(d) for d in range(10))
KINDS = ("shapes", "digits")
_SQRT3 = math.sqrt(3.0)
_CHUNK_PIXELS = 1 << 22  # images are generated in chunks of about this many pixels
_PER_IMAGE_INFO = ("anchors", "requested_labels", "radius", "centres", "angle")


# ------------------------------------------------------------------------------------------ the result
@dataclass
class Scenes:
    """Generated scenes. ``N`` images of ``C`` classes, ``S`` = the most objects an image may hold.

    - ``images``: float32 ``N x 3 x H x W`` in [0, 1];
    - ``labels``: float32 ``N x C`` multi-hot (1 where the class is visible in the mask);
    - ``masks``: int64 ``N x H x W``; 0 = background, ``c + 1`` = class ``c``, 255 = ignore (only when
      ``boundary_ignore > 0``);
    - ``instances``: int64 ``N x H x W``; 0 = background, ``k`` = the k-th painted object (depth order: a
      higher id lies in front);
    - ``instance_classes``: int64 ``N x S``; the class of instance ``k`` at column ``k - 1``, -1 where an
      image has no such instance (fewer objects, or one dropped or removed);
    - ``background``: int64 ``N``; index into ``background_kinds``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor
    instances: torch.Tensor
    instance_classes: torch.Tensor
    background: torch.Tensor
    class_names: tuple[str, ...]
    background_kinds: tuple[str, ...] = BACKGROUND_KINDS
    info: dict = field(default_factory=dict)
    ignore_index: int = IGNORE_INDEX

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        n, _, h, w = self.images.shape
        per_image = float(self.labels.sum(1).mean()) if n else 0.0
        return (f"Scenes({n} images {h}x{w}, {self.num_classes} classes {self.info.get('kind', '')}, "
                f"{per_image:.2f} classes per image)")

    def subset(self, index) -> "Scenes":
        """The scenes at ``index`` (anything that indexes a tensor's first axis); per-image entries of
        ``info`` (anchors, placements ...) are indexed too."""
        index = torch.as_tensor(index)
        info = {k: (v[index] if k in _PER_IMAGE_INFO else v) for k, v in self.info.items()}
        return Scenes(self.images[index], self.labels[index], self.masks[index], self.instances[index],
                      self.instance_classes[index], self.background[index], self.class_names,
                      self.background_kinds, info, self.ignore_index)

    def instance_masks(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Image ``i``'s visible objects as (``K x H x W`` bool masks, ``K`` classes), back to front."""
        ids = torch.nonzero(self.instance_classes[i] >= 0).flatten()
        return self.instances[i][None] == (ids + 1)[:, None, None], self.instance_classes[i, ids]

    def dataset(self, masks: bool = False) -> TensorDataset:
        """A torch ``Dataset`` of ``(image, labels)``, or ``(image, labels, mask)`` with ``masks=True``."""
        tensors = (self.images, self.labels, self.masks) if masks else (self.images, self.labels)
        return TensorDataset(*tensors)

    def cooccurrence(self) -> torch.Tensor:
        """Empirical ``C x C`` matrix: entry ``(i, j)`` = fraction of images holding both classes; the
        diagonal holds each class's frequency."""
        y = self.labels.double()
        return (y.T @ y) / max(len(self), 1)


# ----------------------------------------------------------------------------------- label-set model
def cooccurrence_matrix(num_classes: int, base: float = 0.2, pairs: Mapping[tuple[int, int], float] | None = None,
                        symmetric: bool = True) -> torch.Tensor:
    """A ``cooccurrence`` matrix for :func:`make_scenes`: ``base`` everywhere off the diagonal, then
    ``pairs[(a, b)] = p`` sets ``Q[a, b]`` (and ``Q[b, a]`` when ``symmetric``). Diagonal is 0 (unused)."""
    _check_int("num_classes", num_classes, 1)
    _check_prob("base", base)
    q = torch.full((num_classes, num_classes), float(base), dtype=torch.float64)
    for (a, b), p in (pairs or {}).items():
        for name, c in (("pair class", a), ("pair class", b)):
            if not isinstance(c, (int, np.integer)) or not 0 <= c < num_classes:
                raise ValueError(f"{name} {c!r} in pairs must be an integer in [0, {num_classes})")
        if a == b:
            raise ValueError(f"pair ({a}, {b}) joins a class with itself; give two different classes")
        _check_prob(f"pairs[({a}, {b})]", p)
        q[a, b] = p
        if symmetric:
            q[b, a] = p
    q.fill_diagonal_(0.0)
    return q


def expected_cooccurrence(class_probs, cooccurrence) -> torch.Tensor:
    """The exact ``C x C`` probabilities of the label-set model (before truncation or occlusion removes a
    class): off the diagonal ``P(i and j present)``, on the diagonal ``P(i present)``.

    With anchor probabilities ``pi`` and companion matrix ``Q``:
    ``P(i) = pi_i + sum_{a != i} pi_a Q[a, i]`` and
    ``P(i, j) = pi_i Q[i, j] + pi_j Q[j, i] + sum_{a not in {i, j}} pi_a Q[a, i] Q[a, j]``.
    """
    pi = torch.as_tensor(np.asarray(class_probs, dtype=np.float64))
    if pi.dim() != 1 or (pi < 0).any() or pi.sum() <= 0:
        raise ValueError(f"class_probs must be non-negative weights with a positive sum, got {class_probs!r}")
    pi = pi / pi.sum()
    q = _square_matrix("cooccurrence", cooccurrence, pi.numel())
    # P(i, j) = sum_a pi_a * P(i | a) * P(j | a), with P(c | a) = 1 for c == a, Q[a, c] otherwise;
    # companions are independent given the anchor, and for i == j the product must not be squared.
    cond = q + torch.eye(len(pi), dtype=torch.float64)
    joint = cond.T @ (pi[:, None] * cond)
    joint.diagonal().copy_(pi @ cond)
    return joint


def _sample_label_sets(n: int, pi: torch.Tensor, q: torch.Tensor, max_classes: int, g: torch.Generator):
    """Anchor and companions per image; returns (present N x C bool, anchors N, truncated N bool)."""
    c = pi.numel()
    anchors = torch.multinomial(pi.float(), n, replacement=True, generator=g)
    present = torch.rand(n, c, generator=g, dtype=torch.float64) < q[anchors]
    present[torch.arange(n), anchors] = True
    # Too many classes for the object budget: keep the anchor and a random subset of the companions.
    keys = torch.rand(n, c, generator=g)
    keys[~present] = 2.0
    keys[torch.arange(n), anchors] = -1.0
    rank = keys.argsort(1).argsort(1)
    truncated = present.sum(1) > max_classes
    present &= rank < max_classes
    return present, anchors, truncated


def _assign_slots(present: torch.Tensor, objects: tuple[int, int], g: torch.Generator):
    """Class of each object slot (N x S, -1 = empty), in random depth order."""
    n, c = present.shape
    lo, hi = objects
    n_cls = present.sum(1)
    n_obj = torch.maximum(torch.randint(lo, hi + 1, (n,), generator=g), n_cls)
    keys = torch.rand(n, c, generator=g)
    keys[~present] = 2.0
    ordered = keys.argsort(1)[:, :hi] if hi <= c else F.pad(keys.argsort(1), (0, hi - c))
    extra = torch.multinomial(present.float(), hi, replacement=True, generator=g)  # repeats of present classes
    slot = torch.arange(hi)[None, :]
    cls = torch.where(slot < n_cls[:, None], ordered, extra)
    cls = torch.where(slot < n_obj[:, None], cls, torch.full_like(cls, -1))
    # shuffle the filled slots so the anchor is not always at the back
    depth_keys = torch.rand(n, hi, generator=g)
    depth_keys[cls < 0] = 2.0
    return cls.gather(1, depth_keys.argsort(1))


# --------------------------------------------------------------------------------------- object shapes
def _shape_members(name: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Inside-test of a shape drawn in the unit disk of its own frame (u right, v down)."""
    rho2 = u * u + v * v
    if name == "disk":
        return rho2 <= 0.9 ** 2
    if name == "square":
        return torch.maximum(u.abs(), v.abs()) <= 0.7
    if name == "triangle":  # equilateral, vertices on the unit circle
        return (v <= 0.5) & (v >= _SQRT3 * u.abs() - 1.0)
    if name == "star":  # five points, radius swinging between 1 and 0.42 with the polar angle
        t = torch.remainder(torch.atan2(v, u) * (5 / (2 * math.pi)), 1.0)
        return rho2.sqrt() <= 0.42 + 0.58 * (2 * t - 1).abs() ** 2
    if name == "ring":
        return (rho2 <= 0.95 ** 2) & (rho2 >= 0.5 ** 2)
    if name == "cross":
        return ((u.abs() <= 0.3) & (v.abs() <= 0.95)) | ((v.abs() <= 0.3) & (u.abs() <= 0.95))
    if name == "hexagon":  # circumradius 0.95
        return (v.abs() <= 0.95 * _SQRT3 / 2) & (_SQRT3 * u.abs() + v.abs() <= 0.95 * _SQRT3)
    if name == "ellipse":
        return u * u + (v / 0.5) ** 2 <= 0.95 ** 2
    if name == "crescent":
        return (rho2 <= 0.95 ** 2) & ((u - 0.45) ** 2 + v * v > 0.7 ** 2)
    if name == "semicircle":
        return (rho2 <= 0.95 ** 2) & (v <= 0.2)
    raise ValueError(f"unknown shape {name!r}; known: {', '.join(SHAPE_NAMES)}")


@lru_cache(maxsize=1)
def _digit_glyphs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 bundled 8x8 digits in [0, 1], sorted by class, with each class's offset/count."""
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.argsort(d.target, kind="stable")
    glyphs = torch.tensor(d.images[order], dtype=torch.float32)[:, None] / 16.0
    counts = torch.tensor(np.bincount(d.target, minlength=10), dtype=torch.int64)
    offsets = torch.cumsum(counts, 0) - counts
    return glyphs, offsets, counts


def _digit_members(cls: torch.Tensor, u: torch.Tensor, v: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Inside-test of a random handwritten glyph of digit ``cls[i]`` for each image ``i``.

    The 8x8 glyph box is fitted inside the unit disk (half-width 1/sqrt 2) so that the bounding circle used
    for placement holds. Pixels whose bilinear glyph value exceeds 0.4 belong to the digit."""
    glyphs, offsets, counts = _digit_glyphs()
    pick = (torch.rand(cls.shape, generator=g) * counts[cls]).long()
    grid = torch.stack((u, v), -1) * math.sqrt(2.0)
    sampled = F.grid_sample(glyphs[offsets[cls] + pick], grid.float(), mode="bilinear", padding_mode="zeros",
                            align_corners=False)
    return sampled[:, 0] > 0.4


# ----------------------------------------------------------------------------------------- colour help
def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Vectorised HSV -> RGB for tensors of equal shape (values in [0, 1]); adds a last axis of 3."""
    k = torch.tensor([5.0, 3.0, 1.0])
    h6 = (h[..., None] * 6.0 + k) % 6.0
    return v[..., None] - v[..., None] * s[..., None] * torch.clamp(torch.minimum(h6, 4.0 - h6), 0.0, 1.0)


def _random_colours(n: int, g: torch.Generator, sat=(0.0, 0.6), val=(0.25, 0.85)) -> torch.Tensor:
    u = torch.rand(n, 3, generator=g)
    return _hsv_to_rgb(u[:, 0], sat[0] + (sat[1] - sat[0]) * u[:, 1], val[0] + (val[1] - val[0]) * u[:, 2])


# ------------------------------------------------------------------------------------------ backgrounds
@lru_cache(maxsize=4)
def _photos(size: int) -> torch.Tensor:
    """scikit-learn's two bundled photographs (china.jpg, flower.jpg), downsampled so a crop of
    ``size``..2``size`` pixels keeps detail: 2 x 3 x h x w float32 in [0, 1]."""
    from sklearn.datasets import load_sample_image

    out = []
    for name in ("china.jpg", "flower.jpg"):
        img = torch.tensor(load_sample_image(name), dtype=torch.float32).permute(2, 0, 1)[None] / 255.0
        h = max(2 * size, 8)
        out.append(F.interpolate(img, size=(h, int(round(h * img.shape[3] / img.shape[2]))), mode="area")[0])
    return torch.stack(out)


def _bg_flat(m, size, g, yy, xx):
    return _random_colours(m, g)[:, :, None, None].expand(m, 3, size, size)


def _bg_gradient(m, size, g, yy, xx):
    a, b = _random_colours(m, g), _random_colours(m, g)
    theta = torch.rand(m, generator=g) * 2 * math.pi
    t = (xx * torch.cos(theta)[:, None, None] + yy * torch.sin(theta)[:, None, None]) / size
    t = (t - t.amin((1, 2), keepdim=True)) / (t.amax((1, 2), keepdim=True) - t.amin((1, 2), keepdim=True) + 1e-9)
    return a[:, :, None, None] + (b - a)[:, :, None, None] * t[:, None]


def _bg_noise(m, size, g, yy, xx):
    base = _random_colours(m, g)
    coarse = torch.randn(m, 3, max(size // 8, 2), max(size // 8, 2), generator=g)
    fine = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    return base[:, :, None, None] + 0.15 * fine


def _bg_stripes(m, size, g, yy, xx):
    a, b = _random_colours(m, g), _random_colours(m, g)
    theta = torch.rand(m, generator=g) * math.pi
    freq = 2.0 + 5.0 * torch.rand(m, generator=g)  # cycles across the canvas
    phase = torch.rand(m, generator=g) * 2 * math.pi
    proj = xx * torch.cos(theta)[:, None, None] + yy * torch.sin(theta)[:, None, None]
    t = 0.5 + 0.5 * torch.sin(2 * math.pi * freq[:, None, None] * proj / size + phase[:, None, None])
    return a[:, :, None, None] + (b - a)[:, :, None, None] * t[:, None]


def _bg_checker(m, size, g, yy, xx):
    a, b = _random_colours(m, g), _random_colours(m, g)
    cell = size * (0.08 + 0.17 * torch.rand(m, generator=g))
    theta = torch.rand(m, generator=g) * (math.pi / 2)
    c, s = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    uu, vv = (xx * c + yy * s) / cell[:, None, None], (-xx * s + yy * c) / cell[:, None, None]
    t = torch.remainder(torch.floor(uu) + torch.floor(vv), 2.0)
    return a[:, :, None, None] + (b - a)[:, :, None, None] * t[:, None]


def _bg_photo(m, size, g, yy, xx):
    photos = _photos(size)
    _, _, ph, pw = photos.shape
    which = torch.randint(0, 2, (m,), generator=g)
    side = size * (1.0 + torch.rand(m, generator=g))  # crop side in photo pixels
    x0 = torch.rand(m, generator=g) * (pw - side)
    y0 = torch.rand(m, generator=g) * (ph - side)
    out = torch.empty(m, 3, size, size)
    ramp = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    for p in range(2):  # one grid_sample per photograph: the crops are stacked along the grid's height
        idx = torch.nonzero(which == p).flatten()
        if idx.numel() == 0:
            continue
        gx = (x0[idx, None] + side[idx, None] * ramp) / pw * 2 - 1  # k x size
        gy = (y0[idx, None] + side[idx, None] * ramp) / ph * 2 - 1
        grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), -1)  # k x size x size x 2
        crops = F.grid_sample(photos[p:p + 1], grid.reshape(1, -1, size, 2), mode="bilinear", align_corners=False)
        out[idx] = crops.reshape(3, idx.numel(), size, size).transpose(0, 1)
    return out


_BACKGROUNDS: dict[str, Callable] = {"flat": _bg_flat, "gradient": _bg_gradient, "noise": _bg_noise,
                                     "stripes": _bg_stripes, "checker": _bg_checker, "photo": _bg_photo}


# ---------------------------------------------------------------------------------------- validation
def _check_int(name, value, lo, hi=None):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        allowed = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")


def _check_prob(name, value):
    if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool) \
            or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def _check_range(name, value, kind, lo, hi):
    if not isinstance(value, Sequence) or len(value) != 2 or not all(isinstance(x, kind) and not isinstance(x, bool)
                                                                    for x in value):
        raise TypeError(f"{name} must be a pair ({kind.__name__ if isinstance(kind, type) else 'number'} low, high), "
                        f"got {value!r}")
    a, b = value
    if not lo <= a <= b <= hi:
        raise ValueError(f"{name} must satisfy {lo} <= low <= high <= {hi}, got {tuple(value)}")


def _square_matrix(name, value, c) -> torch.Tensor:
    try:
        q = torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a {c} x {c} matrix of probabilities, got {type(value).__name__}") from None
    if q.shape != (c, c):
        raise ValueError(f"{name} must be a {c} x {c} matrix (num_classes = {c}), got shape {tuple(q.shape)}")
    off = q[~torch.eye(c, dtype=torch.bool)]
    if not torch.isfinite(off).all() or (off < 0).any() or (off > 1).any():
        raise ValueError(f"{name} entries off the diagonal must be probabilities in [0, 1]")
    q = q.clone()
    q.fill_diagonal_(0.0)
    return q


# ------------------------------------------------------------------------------------------- generator
def make_scenes(n: int, *, num_classes: int = 8, size: int = 64, kind: str = "shapes",
                objects: tuple[int, int] = (1, 3), object_size: tuple[float, float] = (0.25, 0.45),
                class_probs=None, cooccurrence=0.15, occlusion: bool = False, min_visible: float = 0.3,
                backgrounds: Sequence[str] = BACKGROUND_KINDS, context: Mapping[int, str] | None = None,
                context_prob: float = 1.0, class_colors: bool = True, object_texture: bool = True,
                noise: float = 0.03, boundary_ignore: int = 0, seed: int = 0) -> Scenes:
    """``n`` multi-label scenes with class and instance masks (see the module docstring for the model).

    - ``kind``: ``"shapes"`` (up to 10 filled shapes: disk, square, triangle, star, ring, cross, hexagon,
      ellipse, crescent, semicircle) or ``"digits"`` (classes 0-9, glyphs from ``load_digits``);
    - ``objects``: (low, high) number of objects per image, drawn uniformly (raised to the number of
      classes drawn); ``object_size``: (low, high) diameter of an object's bounding circle as a fraction
      of the canvas side;
    - ``class_probs``: anchor-class weights (length ``num_classes``; uniform when None);
      ``cooccurrence``: a ``C x C`` matrix ``Q[anchor, companion]`` (see :func:`cooccurrence_matrix`) or
      one probability used for every pair;
    - ``occlusion``: let objects overlap (painted in depth order; ``min_visible`` of each must stay
      visible) or forbid it;
    - ``backgrounds``: kinds drawn uniformly per image from ``flat``, ``gradient``, ``noise``, ``stripes``,
      ``checker``, ``photo`` (crops of scikit-learn's two bundled photographs); ``context``: ``{class:
      kind}`` forces that kind with probability ``context_prob`` when the class is present (the first
      such class of an image in class order wins);
    - ``class_colors``: each class gets its own hue band (an easy colour cue); otherwise hues are random
      and only the shape tells classes apart. ``object_texture`` adds class-specific stripes inside
      objects; ``noise`` is the standard deviation of Gaussian pixel noise;
    - ``boundary_ignore``: width in pixels of a band around every class boundary set to 255 in ``masks``,
      as in VOC's annotations (0 = none; labels are then read before the band is drawn).
    """
    _check_int("n", n, 1)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    names = SHAPE_NAMES if kind == "shapes" else DIGIT_NAMES
    _check_int("num_classes", num_classes, 1, len(names))
    _check_int("size", size, 16, 1024)
    _check_range("objects", objects, (int, np.integer), 1, 64)
    _check_range("object_size", object_size, (int, float), 1e-9, 1.0)
    if object_size[0] * size < 4:
        raise ValueError(f"object_size={tuple(object_size)} gives objects under 4 px on a {size} px canvas; "
                         "raise object_size or size")
    c = num_classes
    pi = torch.ones(c, dtype=torch.float64) if class_probs is None else torch.as_tensor(
        np.asarray(class_probs, dtype=np.float64))
    if pi.shape != (c,) or not torch.isfinite(pi).all() or (pi < 0).any() or pi.sum() <= 0:
        raise ValueError(f"class_probs must be {c} non-negative weights with a positive sum, got {class_probs!r}")
    pi = pi / pi.sum()
    if isinstance(cooccurrence, (int, float)) and not isinstance(cooccurrence, bool):
        _check_prob("cooccurrence", cooccurrence)
        q = cooccurrence_matrix(c, float(cooccurrence))
    else:
        q = _square_matrix("cooccurrence", cooccurrence, c)
    if not isinstance(occlusion, bool):
        raise TypeError(f"occlusion must be True or False, got {occlusion!r}")
    _check_prob("min_visible", min_visible)
    if isinstance(backgrounds, str) or not isinstance(backgrounds, Sequence) or not backgrounds:
        raise ValueError(f"backgrounds must be a non-empty list of kinds from {BACKGROUND_KINDS}, got {backgrounds!r}")
    unknown = [b for b in backgrounds if b not in BACKGROUND_KINDS]
    if unknown or len(set(backgrounds)) != len(backgrounds):
        raise ValueError(f"backgrounds must be distinct kinds from {BACKGROUND_KINDS}, got {list(backgrounds)!r}")
    context = dict(context or {})
    for cls_, bg in context.items():
        if not isinstance(cls_, (int, np.integer)) or not 0 <= cls_ < c:
            raise ValueError(f"context keys must be classes in [0, {c}), got {cls_!r}")
        if bg not in backgrounds:
            raise ValueError(f"context[{cls_}] = {bg!r} is not one of the backgrounds {list(backgrounds)}")
    _check_prob("context_prob", context_prob)
    if not isinstance(noise, (int, float)) or isinstance(noise, bool) or not 0 <= noise <= 1:
        raise ValueError(f"noise must be a pixel standard deviation in [0, 1], got {noise!r}")
    _check_int("boundary_ignore", boundary_ignore, 0, size // 4)
    _check_int("seed", seed, 0)

    g = torch.Generator().manual_seed(int(seed))
    kinds = tuple(backgrounds)
    params = dict(names=names, pi=pi, q=q, objects=tuple(objects), object_size=tuple(object_size), size=size,
                  kind=kind, occlusion=occlusion, min_visible=min_visible, kinds=kinds, context=context,
                  context_prob=context_prob, class_colors=class_colors, object_texture=object_texture, noise=noise,
                  boundary_ignore=boundary_ignore)
    # Chunks of about 4 M pixels bound the working memory (the per-object frames take ~ 8 bytes x objects x
    # pixels); the chunk length depends on the canvas size only, so a seed still fixes the output.
    chunk = max(16, _CHUNK_PIXELS // (size * size))
    tensors, info = {}, {}
    for lo in range(0, n, chunk):
        part = _generate(min(chunk, n - lo), g, **params)
        for key, value in part.items():
            if not isinstance(value, torch.Tensor):  # counts of truncated / dropped / removed / vanished objects
                info[key] = info.get(key, 0) + value
            elif chunk >= n:
                tensors[key] = value
            else:  # fill preallocated outputs chunk by chunk: no second copy of the whole data set
                if key not in tensors:
                    tensors[key] = torch.empty((n, *value.shape[1:]), dtype=value.dtype)
                tensors[key][lo:lo + value.shape[0]] = value
        del part
    info.update({"kind": kind, "size": size, "objects": tuple(objects), "object_size": tuple(object_size),
                 "occlusion": occlusion, "seed": int(seed), "class_probs": pi, "cooccurrence": q,
                 "expected_cooccurrence": expected_cooccurrence(pi, q), "context": context,
                 "context_prob": float(context_prob)})
    info.update({k: tensors.pop(k) for k in _PER_IMAGE_INFO})
    return Scenes(**tensors, class_names=tuple(names[:num_classes]), background_kinds=kinds, info=info)


def _generate(n, g, *, names, pi, q, objects, object_size, size, kind, occlusion, min_visible, kinds, context,
              context_prob, class_colors, object_texture, noise, boundary_ignore) -> dict:
    """One chunk of ``n`` scenes: the tensors of :class:`Scenes`, the per-image info and event counts."""
    c, max_obj = pi.numel(), objects[1]
    present, anchors, truncated = _sample_label_sets(n, pi, q, max_obj, g)
    slot_cls = _assign_slots(present, objects, g)  # N x S, -1 = empty slot
    radius = 0.5 * size * (object_size[0] + (object_size[1] - object_size[0]) * torch.rand(n, max_obj, generator=g))
    centres, radius, placed = _place_objects(slot_cls, radius, size, occlusion, g)
    dropped = (slot_cls >= 0) & ~placed
    slot_cls = torch.where(placed, slot_cls, torch.full_like(slot_cls, -1))

    coords = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    angle = torch.rand(n, max_obj, generator=g) * 2 * math.pi
    frames = [_object_frame(xx, yy, centres[:, k], radius[:, k], angle[:, k]) for k in range(max_obj)]
    members = torch.stack([_members(kind, names, slot_cls[:, k], *frames[k], g) for k in range(max_obj)], 1)

    top = _front_most(members)
    removed = torch.zeros_like(placed)
    if occlusion:  # remove objects left with too little of their own area visible
        removed = (slot_cls >= 0) & (_visible_area(top, max_obj) < min_visible * members.sum((2, 3)).clamp(min=1))
        if removed.any():
            members &= ~removed[:, :, None, None]
            slot_cls = torch.where(removed, torch.full_like(slot_cls, -1), slot_cls)
            top = _front_most(members)
    # an object too thin to cover any pixel centre leaves no trace: mark it absent
    vanished = (slot_cls >= 0) & (_visible_area(top, max_obj) == 0)
    slot_cls = torch.where(vanished, torch.full_like(slot_cls, -1), slot_cls)

    masks = torch.where(top >= 0, slot_cls.gather(1, top.clamp(min=0).flatten(1)).view_as(top) + 1,
                        torch.zeros_like(top))
    labels = torch.zeros(n, c + 1).scatter_(1, masks.flatten(1), 1.0)[:, 1:].contiguous()

    bg = _background_kinds(labels, kinds, context, context_prob, g)
    images = _paint_backgrounds(bg, kinds, size, g, yy, xx)
    images = _paint_objects(images, top, slot_cls, frames, c, class_colors, object_texture, g)
    if noise > 0:
        images = (images + noise * torch.randn(images.shape, generator=g)).clamp(0.0, 1.0)
    if boundary_ignore:
        masks = _ignore_boundaries(masks, boundary_ignore)
    return {"images": images.contiguous(), "labels": labels, "masks": masks.contiguous(),
            "instances": (top + 1).contiguous(), "instance_classes": slot_cls.contiguous(), "background": bg,
            "anchors": anchors, "requested_labels": present.float(), "radius": radius, "centres": centres,
            "angle": angle, "truncated": int(truncated.sum()), "dropped": int(dropped.sum()),
            "removed": int(removed.sum()), "vanished": int(vanished.sum())}


# -------------------------------------------------------------------------------- generator's stages
def _place_objects(slot_cls, radius, size, occlusion, g, tries=24, rounds=4):
    """Centres for the objects, slot by slot, all images at once (rejection sampling of ``tries``
    candidates per round; an object with no room shrinks by 15 % per round and is dropped after
    ``rounds``). Without occlusion, bounding circles stay half a pixel further apart than their radii, so
    no pixel centre lies in two of them; with occlusion, centres stay 0.6 (r_i + r_j) apart, so no object
    hides another's middle. Every circle lies inside the canvas."""
    n, s = slot_cls.shape
    radius = radius.clone()
    centres = torch.zeros(n, s, 2)
    placed = torch.zeros(n, s, dtype=torch.bool)
    sep, gap = (0.6, 0.0) if occlusion else (1.0, 0.5)
    for k in range(s):
        want = slot_cls[:, k] >= 0
        r = radius[:, k].clone()
        for _ in range(rounds):
            cand = r[:, None, None] + torch.rand(n, tries, 2, generator=g) * (size - 2 * r)[:, None, None]
            dist = (cand[:, :, None, :] - centres[:, None, :, :]).norm(dim=-1)  # N x tries x S
            ok = ((dist >= sep * (r[:, None, None] + radius[:, None, :]) + gap) | ~placed[:, None, :]).all(-1)
            found = ok.any(1) & want & ~placed[:, k]
            first = ok.float().argmax(1)
            centres[found, k] = cand[found, first[found]]
            placed[found, k] = True
            r = torch.where(placed[:, k], r, r * 0.85)
        radius[:, k] = r
    return centres, radius, placed


def _object_frame(xx, yy, centre, radius, angle):
    """Each pixel's coordinates in an object's rotated frame, in units of its radius: (u, v), N x H x W."""
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    r = radius[:, None, None]
    dx, dy = (xx - centre[:, 0, None, None]) / r, (yy - centre[:, 1, None, None]) / r
    return cos * dx + sin * dy, -sin * dx + cos * dy


def _members(kind, names, cls, u, v, g):
    """Which pixels each image's object of class ``cls`` (-1 = none) covers: N x H x W bool."""
    if kind == "digits":
        return _digit_members(cls.clamp(min=0), u, v, g) & (cls >= 0)[:, None, None]
    out = torch.zeros(u.shape, dtype=torch.bool)
    for cl in torch.unique(cls[cls >= 0]).tolist():
        idx = torch.nonzero(cls == cl).flatten()
        out[idx] = _shape_members(names[cl], u[idx], v[idx])
    return out


def _front_most(members):
    """Slot index of the front-most object at each pixel (later slots lie in front); -1 = background."""
    n, s, h, w = members.shape
    out = torch.full((n, h, w), -1, dtype=torch.int64)
    for k in range(s):
        out.masked_fill_(members[:, k], k)
    return out


def _visible_area(top, s):
    """Pixels where each object is the front-most one: N x S."""
    return torch.stack([(top == k).sum((1, 2)) for k in range(s)], 1)


def _background_kinds(labels, kinds, context, context_prob, g):
    """A background kind per image, uniform over ``kinds``; a context class present pulls its kind with
    probability ``context_prob`` (the lowest such class index wins)."""
    n = labels.shape[0]
    bg = torch.randint(0, len(kinds), (n,), generator=g)
    pull = torch.rand(n, generator=g) < context_prob
    for cls_ in sorted(context, reverse=True):  # lowest class applied last
        bg[(labels[:, cls_] > 0) & pull] = kinds.index(context[cls_])
    return bg


def _paint_backgrounds(bg, kinds, size, g, yy, xx):
    images = torch.empty(bg.shape[0], 3, size, size)
    for i, name in enumerate(kinds):
        idx = torch.nonzero(bg == i).flatten()
        if idx.numel():
            m = idx.numel()
            images[idx] = _BACKGROUNDS[name](m, size, g, yy.expand(m, size, size), xx.expand(m, size, size))
    return images.clamp(0.0, 1.0)


def _paint_objects(images, top, slot_cls, frames, c, class_colors, object_texture, g):
    """Colour each visible object: a class hue band (or a random hue), with class-specific stripes in the
    object's own frame (1-3 cycles per radius) when ``object_texture``."""
    n, s = slot_cls.shape
    jitter = torch.rand(n, s, 3, generator=g)
    for k in range(s):
        cls_k = slot_cls[:, k].clamp(min=0)
        hue = (cls_k.float() / c + 0.06 * (jitter[:, k, 0] - 0.5)) if class_colors else jitter[:, k, 0]
        colour = _hsv_to_rgb(hue % 1.0, 0.65 + 0.35 * jitter[:, k, 1], 0.6 + 0.4 * jitter[:, k, 2])
        shade = torch.ones_like(frames[k][0])
        if object_texture:
            shade = 0.78 + 0.22 * torch.cos(math.pi * (1.0 + (cls_k % 3).float())[:, None, None] * frames[k][0])
        images = torch.where((top == k)[:, None], colour[:, :, None, None] * shade[:, None], images)
    return images


def _ignore_boundaries(masks: torch.Tensor, width: int) -> torch.Tensor:
    """Set to 255 every pixel within ``width`` pixels (a square window) of a pixel of another class."""
    k = 2 * width + 1
    m = F.pad(masks[:, None].float(), (width,) * 4, mode="replicate")  # the canvas edge is no boundary
    hi = F.max_pool2d(m, k, stride=1)[:, 0]
    lo = -F.max_pool2d(-m, k, stride=1)[:, 0]
    return torch.where(hi != lo, torch.full_like(masks, IGNORE_INDEX), masks)


__all__ = ["BACKGROUND_KINDS", "DIGIT_NAMES", "IGNORE_INDEX", "SHAPE_NAMES", "Scenes", "cooccurrence_matrix",
           "expected_cooccurrence", "make_scenes"]
