"""BEACON: MuSCLe's boundary contrastive loss for a segmentation decoder, and a boundary F-score.

Yuan et al., *A multi-strategy contrastive learning framework for weakly supervised semantic segmentation*,
Pattern Recognition 137 (2023) 109298, Sec. 3.3, Algorithms 1-3 and Eq. (9). Chapter ``muscle-b`` explains
the method; this module holds the pieces that need exact unit tests.

Conventions. Images are ``N x K x H x W`` maps over ``K`` segmentation classes (0 = background); rows are
``y`` (pointing down), columns ``x``. A *group* is one (image, foreground class) pair: its boundary is found
on that class's map alone.

1. :func:`sobel` - 3 x 3 Sobel derivatives ``(gx, gy)`` of each map (edges replicated, no normalisation).
2. :func:`quantise_directions` - the gradient angle in [0, 2 pi) rounded to one of 8 bins of 45 degrees,
   bin ``b`` pointing to the 8-neighbour ``OFFSETS[b] = (dx, dy)`` (bin 0 = +x, bin 2 = +y = down).
3. :func:`inout_points` (Algorithm 2) - boundary points are the pixels whose gradient magnitude is in the
   top 20 % (of the pixels with a non-zero gradient; ``rule="relmax"``: at least 0.8 of the maximum, the
   released code's rule). Stepping ``steps`` pixels along the quantised *outward* normal gives the outward
   point, against it the inward point. The gradient of a class map points into the object, so the outward
   normal is minus the gradient; Algorithm 2 steps "along q" for the outward point, which fixes q as the
   outward normal.
4. :func:`beacon_signs` (Algorithm 3) - the four cases TP, FN (the mask says "different", push the
   similarity down: sign +1) and TN, FP (the mask says "same", pull it up: sign -1).
5. :func:`beacon_loss` (Algorithm 1) - samples ``k`` boundary points per group, compares the decoder's
   class distributions at their inward and outward points (``S^d``, inward side detached) with the soft
   pseudo mask's (``S^m``), and returns the mean over groups of
   ``mean_o sign_o * mean_i S^d_io + mean_i sign_i * mean_o S^d_io``. Algorithm 1 prints ``log(sign)``,
   which is undefined for a sign of -1; ``form="linear"`` (the default, as the authors' code) multiplies by
   the sign; ``form="log"`` is a cross-entropy reading: ``-log(1 - S)`` for sign +1, ``-log(S)`` for -1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

IGNORE_INDEX = 255
# bin b covers angles (b*45 - 22.5, b*45 + 22.5] degrees of atan2(dy, dx); its step to the 8-neighbour
OFFSETS = torch.tensor([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)], dtype=torch.long)
BOUNDARY_RULES = ("top", "relmax")
FORMS = ("linear", "log")
_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _check_maps(name: str, maps: torch.Tensor) -> None:
    if not isinstance(maps, torch.Tensor) or maps.dim() != 4 or not maps.dtype.is_floating_point:
        shape = tuple(maps.shape) if isinstance(maps, torch.Tensor) else type(maps).__name__
        raise ValueError(f"{name} must be a float tensor N x K x H x W, got {shape}")


def sobel(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel derivatives along x (columns) and y (rows) of every channel of ``N x K x H x W`` maps.

    Cross-correlation with ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` (and its transpose for y), borders
    replicated: the same numbers as ``scipy.ndimage.sobel(..., mode="nearest")``."""
    _check_maps("maps", maps)
    n, k, h, w = maps.shape
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.T])[:, None].to(maps)  # 2 x 1 x 3 x 3
    x = F.pad(maps.reshape(n * k, 1, h, w), (1, 1, 1, 1), mode="replicate")
    g = F.conv2d(x, kernel).reshape(n, k, 2, h, w)
    return g[:, :, 0], g[:, :, 1]


def quantise_directions(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """The 8-direction bin (int64, 0..7) of each vector ``(gx, gy)``: ``round(angle / 45 deg) mod 8``.
    ``OFFSETS[bin]`` is the matching step ``(dx, dy)``. A zero vector falls in bin 0."""
    angle = torch.atan2(gy, gx)  # (-pi, pi]
    return torch.round(angle / (math.pi / 4)).long() % 8


@dataclass
class InOutPoints:
    """Algorithm 2's output for ``G`` groups on an ``H x W`` grid (flattened pixel indices).

    ``boundary``: ``G x HW`` bool, the boundary points; ``inward`` / ``outward``: ``G x HW`` int64, the
    index of each pixel's inward / outward point (-1 where it falls outside the image); ``direction``:
    ``G x HW`` int64, the bin of the outward normal."""

    boundary: torch.Tensor
    inward: torch.Tensor
    outward: torch.Tensor
    direction: torch.Tensor
    height: int
    width: int

    @property
    def valid(self) -> torch.Tensor:
        """Boundary points whose inward and outward points both lie in the image."""
        return self.boundary & (self.inward >= 0) & (self.outward >= 0)


def _check_steps(steps) -> None:
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1 (pixels), got {steps!r}")


def inout_points(class_maps: torch.Tensor, steps: int, *, top: float = 0.2, rule: str = "top") -> InOutPoints:
    """Algorithm 2 on ``G x H x W`` class maps (one map per group, higher = inside the object).

    Boundary points: ``rule="top"`` keeps the pixels whose Sobel magnitude is at least the ``1 - top``
    quantile of that group's non-zero magnitudes (the paper's "top 20 %"); ``rule="relmax"`` keeps those at
    least ``(1 - top)`` times the group's largest magnitude (the authors' code, 0.8 x max)."""
    if not isinstance(class_maps, torch.Tensor) or class_maps.dim() != 3 or not class_maps.dtype.is_floating_point:
        shape = tuple(class_maps.shape) if isinstance(class_maps, torch.Tensor) else type(class_maps).__name__
        raise ValueError(f"class_maps must be a float tensor G x H x W, got {shape}")
    _check_steps(steps)
    if rule not in BOUNDARY_RULES:
        raise ValueError(f"rule must be one of {BOUNDARY_RULES}, got {rule!r}")
    if not isinstance(top, (int, float)) or isinstance(top, bool) or not 0 < top <= 1:
        raise ValueError(f"top must be a fraction in (0, 1], got {top!r}")
    g, h, w = class_maps.shape
    gx, gy = sobel(class_maps[:, None])
    gx, gy = gx[:, 0].reshape(g, -1), gy[:, 0].reshape(g, -1)
    magnitude = torch.hypot(gx, gy)
    nonzero = magnitude > 1e-6 * magnitude.amax(1, keepdim=True).clamp(min=1e-12)
    if rule == "top":
        cut = torch.nanquantile(magnitude.masked_fill(~nonzero, float("nan")), 1 - top, dim=1, keepdim=True)
    else:
        cut = (1 - top) * magnitude.amax(1, keepdim=True)
    boundary = nonzero & (magnitude >= cut.nan_to_num(float("inf")) - 1e-6 * cut.abs().nan_to_num(0))
    direction = quantise_directions(-gx, -gy)  # the outward normal: against the gradient of the class map
    step = OFFSETS.to(class_maps.device)[direction] * int(steps)  # G x HW x 2 (dx, dy)
    ys, xs = torch.meshgrid(torch.arange(h, device=class_maps.device), torch.arange(w, device=class_maps.device),
                            indexing="ij")
    xs, ys = xs.reshape(1, -1), ys.reshape(1, -1)

    def index(sign):
        x, y = xs + sign * step[..., 0], ys + sign * step[..., 1]
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        return torch.where(inside, y * w + x, torch.full_like(x, -1))

    return InOutPoints(boundary, index(-1), index(+1), direction, h, w)


def beacon_signs(s_mask: torch.Tensor, s_dense: torch.Tensor, tau) -> dict[str, torch.Tensor]:
    """Algorithm 3 for per-point mean similarities (any equal shapes) and threshold(s) ``tau``.

    Returns the four cases as bool tensors (``TP``: both below ``tau``; ``FN``: mask below, dense above;
    ``TN``: both above; ``FP``: mask above, dense below; ties with ``tau`` belong to no case) and
    ``sign`` (int64): +1 for TP and FN, -1 for TN and FP, 0 otherwise. Once the four cases are merged the
    sign depends on the mask alone: the decoder's similarity only decides which name the case gets."""
    m_lo, m_hi = s_mask < tau, s_mask > tau
    d_lo, d_hi = s_dense < tau, s_dense > tau
    cases = {"TP": m_lo & d_lo, "FN": m_lo & d_hi, "TN": m_hi & d_hi, "FP": m_hi & d_lo}
    sign = (cases["TP"] | cases["FN"]).long() - (cases["TN"] | cases["FP"]).long()
    return {**cases, "sign": sign}


def _masked_mean(x: torch.Tensor, weight: torch.Tensor, dim) -> torch.Tensor:
    return (x * weight).sum(dim) / weight.sum(dim).clamp(min=1)


def beacon_loss(logits: torch.Tensor, soft_mask: torch.Tensor, *, steps: int = 7, k: int = 128, tau="mu_m",
                form: str = "linear", orientation: str = "mask", top: float = 0.2, rule: str = "top",
                valid: torch.Tensor | None = None, include_background: bool = False,
                generator: torch.Generator | None = None, return_stats: bool = False):
    """BEACON (Algorithm 1) for decoder ``logits`` and a ``soft_mask``, both ``N x K x H x W``.

    - ``soft_mask``: per-pixel class probabilities of the pseudo label (one-hot for a hard mask);
    - ``steps``, ``k``: Algorithm 2's step in pixels and the number of boundary points drawn per group
      (all of them when a group has fewer; groups with fewer than 2 are skipped);
    - ``tau``: ``"mu_m"`` (the mean of the group's mask similarity matrix, the paper's best) or a number
      (the paper also tries 0.5);
    - ``orientation``: find boundaries on the pseudo mask's label map (``"mask"``, its argmax) or on the
      decoder's own detached prediction (``"prediction"``, its argmax);
    - ``valid``: ``N x H x W`` bool, pixels that may serve as points (e.g. not ignored).

    Similarities are dot products of class distributions (``softmax(logits)`` for the decoder), so both
    lie in [0, 1]. Returns the loss (0 with a gradient path when no group qualifies), or
    ``(loss, stats)`` with counts of groups, points and the four sign cases when ``return_stats``."""
    _check_maps("logits", logits)
    _check_maps("soft_mask", soft_mask)
    if soft_mask.shape != logits.shape:
        raise ValueError(f"soft_mask must have the logits' shape {tuple(logits.shape)}, got {tuple(soft_mask.shape)}")
    _check_steps(steps)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise ValueError(f"k must be an integer >= 2 (points per group), got {k!r}")
    if not (tau == "mu_m" or (isinstance(tau, (int, float)) and not isinstance(tau, bool) and 0 < tau < 1)):
        raise ValueError(f"tau must be 'mu_m' or a number in (0, 1), got {tau!r}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    if orientation not in ("mask", "prediction"):
        raise ValueError(f"orientation must be 'mask' or 'prediction', got {orientation!r}")
    n, c, h, w = logits.shape
    if valid is None:
        valid = torch.ones(n, h, w, dtype=torch.bool, device=logits.device)
    if valid.shape != (n, h, w):
        raise ValueError(f"valid must be a bool tensor N x H x W = {(n, h, w)}, got {tuple(valid.shape)}")
    prob = logits.float().softmax(1)
    mask = soft_mask.float()
    first = 0 if include_background else 1
    # boundaries are found on a hard label map (the authors' code sharpens with softmax(100 x)): a soft
    # CAM-based mask has small gradients everywhere, and its "top 20 %" would not trace the object's edge
    hard_mask = mask.argmax(1)
    hard = hard_mask if orientation == "mask" else prob.detach().argmax(1)
    source = F.one_hot(hard, c).permute(0, 3, 1, 2).float()
    # one group per (image, class) that the pseudo mask shows somewhere
    present = F.one_hot(hard_mask, c).amax((1, 2))[:, first:].reshape(-1).bool()
    group = torch.nonzero(present).flatten()
    image_of = torch.div(group, c - first, rounding_mode="floor")
    if group.numel() == 0:  # no foreground class in any mask: nothing to contrast
        zero = logits.sum() * 0.0
        return (zero, {"groups": 0, "points": 0, "TP": 0, "FN": 0, "TN": 0, "FP": 0}) if return_stats else zero
    maps = source[:, first:].reshape(-1, h, w)[group]
    pts = inout_points(maps, steps, top=top, rule=rule)

    flat_valid = valid.reshape(n, -1)[image_of]  # G x HW
    ok = pts.valid & flat_valid
    ok &= torch.gather(flat_valid, 1, pts.inward.clamp(min=0)) & torch.gather(flat_valid, 1, pts.outward.clamp(min=0))
    # Algorithm 1: draw k boundary points per group at random (random keys, the k largest among valid ones)
    keys = torch.rand(ok.shape, generator=generator, device="cpu").to(logits.device)
    keys = keys.masked_fill(~ok, -1.0)
    kk = min(int(k), h * w)
    top_keys, chosen = keys.topk(kk, dim=1)
    picked = top_keys >= 0  # G x k
    in_idx = torch.gather(pts.inward, 1, chosen).clamp(min=0)
    out_idx = torch.gather(pts.outward, 1, chosen).clamp(min=0)

    flat_in, flat_out = image_of[:, None] * (h * w) + in_idx, image_of[:, None] * (h * w) + out_idx

    def at(values, idx):  # values N x K x H x W, idx G x k into the N*H*W pixels -> G x k x K
        return values.permute(0, 2, 3, 1).reshape(n * h * w, c)[idx]

    s_dense = at(prob, flat_in).detach() @ at(prob, flat_out).transpose(1, 2)  # G x k x k; sg() on the inward side
    s_mask = at(mask, flat_in) @ at(mask, flat_out).transpose(1, 2)
    pair = (picked[:, :, None] & picked[:, None, :]).float()
    used = picked.sum(1) >= 2
    if tau == "mu_m":
        tau_g = _masked_mean(s_mask, pair, (1, 2))[:, None]
    else:
        tau_g = torch.full((s_mask.shape[0], 1), float(tau), device=logits.device)
    sd_in, sd_out = _masked_mean(s_dense, pair, 2), _masked_mean(s_dense, pair, 1)  # G x k each
    sm_in, sm_out = _masked_mean(s_mask, pair, 2), _masked_mean(s_mask, pair, 1)
    signs_in, signs_out = beacon_signs(sm_in, sd_in.detach(), tau_g), beacon_signs(sm_out, sd_out.detach(), tau_g)

    def term(sign, sim):
        sign = sign.float()
        if form == "linear":
            value = sign * sim
        else:  # cross-entropy reading of log(sign): push towards 0 (sign +1) or 1 (sign -1)
            eps = 1e-6
            value = torch.where(sign > 0, -torch.log1p(-sim.clamp(max=1 - eps)), -torch.log(sim.clamp(min=eps)))
            value = value * (sign != 0)
        return _masked_mean(value, picked.float(), 1)

    per_group = term(signs_out["sign"], sd_out) + term(signs_in["sign"], sd_in)
    if used.any():
        loss = per_group[used].mean()
    else:
        loss = logits.sum() * 0.0
    if not return_stats:
        return loss
    sel = picked & used[:, None]
    stats = {"groups": int(used.sum()), "points": int(sel.sum())}
    for name in ("TP", "FN", "TN", "FP"):
        stats[name] = int((signs_in[name] & sel).sum() + (signs_out[name] & sel).sum())
    return loss, stats


class BeaconLoss:
    """``lam * BEACON`` as an ``extra_loss(logits, images, masks, soft_masks)`` for
    :func:`reprobook.segment.train_segmenter` (``soft_masks`` is its ``aux`` batch).

    ``masks`` are hard pseudo labels (``N x H x W``, 255 = ignore); ignored pixels never serve as points.
    ``soft_masks`` (``N x K x H x W`` class probabilities) give the mask similarities; without them the
    one-hot encoding of ``masks`` does. Other keywords go to :func:`beacon_loss`. The random draws use
    the global torch generator, which the trainer seeds."""

    def __init__(self, num_classes: int, lam: float = 0.05, **options):
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2 (background included), got {num_classes!r}")
        if not isinstance(lam, (int, float)) or isinstance(lam, bool) or not lam >= 0:
            raise ValueError(f"lam must be a number >= 0, got {lam!r}")
        self.num_classes, self.lam, self.options = num_classes, float(lam), options

    def __call__(self, logits: torch.Tensor, images: torch.Tensor, masks: torch.Tensor,
                 soft_masks: torch.Tensor | None = None) -> torch.Tensor:
        valid = masks != IGNORE_INDEX
        if soft_masks is None:
            soft_masks = F.one_hot(masks.masked_fill(~valid, 0).long(), self.num_classes).permute(0, 3, 1, 2).float()
        return self.lam * beacon_loss(logits, soft_masks, valid=valid, **self.options)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"BeaconLoss(num_classes={self.num_classes}, lam={self.lam}" + (f", {opts})" if opts else ")")


# ------------------------------------------------------------------------------------ boundary F-score
def _fill_ignored(mask: np.ndarray, ignore_index: int) -> np.ndarray:
    """Ignored pixels take the label of the nearest labelled pixel (VOC's 5 px band then holds the
    object boundary in its middle instead of two boundaries at its edges)."""
    from scipy.ndimage import distance_transform_edt

    ignored = mask == ignore_index
    if not ignored.any() or ignored.all():
        return mask
    _, (iy, ix) = distance_transform_edt(ignored, return_indices=True)
    return mask[iy, ix]


def label_boundaries(mask: np.ndarray) -> np.ndarray:
    """Pixels of a label map with a 4-neighbour of another label (both sides of every edge)."""
    b = np.zeros(mask.shape, dtype=bool)
    dy, dx = mask[1:, :] != mask[:-1, :], mask[:, 1:] != mask[:, :-1]
    b[1:, :] |= dy
    b[:-1, :] |= dy
    b[:, 1:] |= dx
    b[:, :-1] |= dx
    return b


def boundary_counts(pred: torch.Tensor, target: torch.Tensor, tolerance: int = 1,
                    ignore_index: int | None = IGNORE_INDEX) -> np.ndarray:
    """Counts ``[matched predicted, predicted, matched true, true]`` boundary pixels over ``N x H x W`` maps.

    A boundary pixel is matched when the other map has a boundary pixel within ``tolerance`` pixels
    (chessboard distance)."""
    from scipy.ndimage import binary_dilation

    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor) or pred.shape != target.shape \
            or pred.dim() != 3:
        raise ValueError("pred and target must be integer label maps of one shape N x H x W")
    if not isinstance(tolerance, int) or isinstance(tolerance, bool) or tolerance < 0:
        raise ValueError(f"tolerance must be an integer >= 0 (pixels), got {tolerance!r}")
    structure = np.ones((2 * tolerance + 1, 2 * tolerance + 1), dtype=bool)
    counts = np.zeros(4, dtype=np.int64)
    for p, t in zip(pred.cpu().numpy(), target.cpu().numpy()):
        if ignore_index is not None:
            t = _fill_ignored(t, ignore_index)
        bp, bt = label_boundaries(p), label_boundaries(t)
        near_t = binary_dilation(bt, structure) if tolerance else bt
        near_p = binary_dilation(bp, structure) if tolerance else bp
        counts += [int((bp & near_t).sum()), int(bp.sum()), int((bt & near_p).sum()), int(bt.sum())]
    return counts


def boundary_f_score(pred: torch.Tensor, target: torch.Tensor, tolerance: int = 1,
                     ignore_index: int | None = IGNORE_INDEX) -> float:
    """F-score of boundary precision and recall pooled over all images (NaN without any boundary).

    Not a metric of the MuSCLe paper: the book adds it to measure "sharper boundaries" directly."""
    mp, p, mt, t = boundary_counts(pred, target, tolerance, ignore_index)
    if p == 0 or t == 0:
        return float("nan") if p == t == 0 else 0.0
    precision, recall = mp / p, mt / t
    return 0.0 if precision + recall == 0 else float(2 * precision * recall / (precision + recall))


__all__ = ["BOUNDARY_RULES", "BeaconLoss", "FORMS", "InOutPoints", "OFFSETS", "beacon_loss", "beacon_signs",
           "boundary_counts", "boundary_f_score", "inout_points", "label_boundaries", "quantise_directions", "sobel"]
