"""Regularisers of CAM-generating networks for weakly supervised segmentation (chapter ``david-d``).

The building blocks of Puzzle-CAM (Jo and Yu, ICIP 2021), OC-CSE (Kweon et al., ICCV 2021), P-OC and
P-NOC (David et al., the exam's Eqs. 5, 6, 26-28 and Algorithm 1) and C2AM / C2AM-H (Xie et al., CVPR
2022; the exam's Eqs. 7 and 29). Conventions: images are ``N x 3 x H x W``; class activation maps ``A``
are ``N x C x h x w`` (one map per foreground class, before any ReLU); labels are ``N x C`` multi-hot.

- :func:`tile` / :func:`merge`: split a batch into its four quadrants and put maps of the quadrants back
  together (Puzzle-CAM's ``tile`` and ``merge``); ``merge(tile(x)) == x`` exactly.
- :func:`reconstruction_loss`: ``L_re = mean |A - A^re|`` (the exam's "mean absolute error").
- :func:`ramp`: the linear coefficient schedules (``lambda_re`` 0 -> 4 over the first half of training,
  ``lambda_cse`` 0.3 -> 1, ``lambda_noc`` 0 -> 1).
- :func:`sample_present_class`, :func:`drop_class`, :func:`activation_mask`, :func:`erase`: class-specific
  erasing. One present class ``r`` per image; ``psi(A^r)`` = ReLU, upsampled to the image, divided by its
  maximum; the image is multiplied by ``1 - psi`` (soft, OC-CSE and P-OC) or by ``1 - [psi > delta]``
  (hard, the NOC update); the target of the erased image is ``y \\ {r}`` (CSE) or ``y`` (NOC).
- :class:`NocTrainer`: P-NOC's alternating update of the "not so ordinary" classifier (Algorithm 1).
- :func:`rank_weights`, :func:`c2am_loss`, :func:`hint_loss`, :func:`disentangle`: C2AM's contrastive
  loss with rank weights, and C2AM-H's foreground-hint term.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _check_maps(name: str, x, dims: int = 4) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != dims or not x.dtype.is_floating_point:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a float tensor with {dims} axes (N x C x H x W), got {shape}")


# ------------------------------------------------------------------------------------------ Puzzle-CAM
def tile(x: torch.Tensor) -> torch.Tensor:
    """The four quadrants of every image, stacked on the batch axis: ``4N x C x H/2 x W/2`` in the order
    top-left, top-right, bottom-left, bottom-right (each block of ``N`` holds one quadrant of all images)."""
    _check_maps("x", x)
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"tile needs an even height and width, got {h} x {w}")
    h2, w2 = h // 2, w // 2
    return torch.cat([x[..., :h2, :w2], x[..., :h2, w2:], x[..., h2:, :w2], x[..., h2:, w2:]], 0)


def merge(t: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`tile`: ``4N x C x h x w`` quadrant maps -> ``N x C x 2h x 2w``."""
    _check_maps("t", t)
    if t.shape[0] % 4:
        raise ValueError(f"merge needs a batch of 4N quadrant maps, got {t.shape[0]}")
    tl, tr, bl, br = t.chunk(4, 0)
    return torch.cat([torch.cat([tl, tr], -1), torch.cat([bl, br], -1)], -2)


def reconstruction_loss(maps: torch.Tensor, rebuilt: torch.Tensor) -> torch.Tensor:
    """Puzzle-CAM's ``L_re``: the mean absolute difference of the full-image maps and the merged tile maps."""
    if maps.shape != rebuilt.shape:
        raise ValueError(f"maps {tuple(maps.shape)} and rebuilt maps {tuple(rebuilt.shape)} differ in shape; "
                         "the image side must be a multiple of twice the network's output stride")
    return (maps - rebuilt).abs().mean()


def ramp(progress: float, start: float, end: float, until: float = 1.0) -> float:
    """Linear schedule: ``start`` at ``progress = 0``, ``end`` from ``progress = until`` on (progress in [0, 1])."""
    if not 0 < until <= 1:
        raise ValueError(f"until must be in (0, 1], got {until!r}")
    t = min(max(float(progress), 0.0) / until, 1.0)
    return start + (end - start) * t


def smooth_labels(y: torch.Tensor, eps: float) -> torch.Tensor:
    """Binary label smoothing: 1 -> ``1 - eps/2`` and 0 -> ``eps/2`` (``eps = 0`` leaves ``y`` unchanged)."""
    if not 0 <= eps < 1:
        raise ValueError(f"label smoothing eps must be in [0, 1), got {eps!r}")
    return y * (1 - eps) + eps / 2


# ------------------------------------------------------------------------------- class-specific erasing
def sample_present_class(labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One class per image drawn uniformly from its label set (int64 ``N``)."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 2:
        raise ValueError(f"labels must be an N x C multi-hot tensor, got "
                         f"{tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__}")
    present = labels > 0
    empty = ~present.any(1)
    if empty.any():
        raise ValueError(f"images {torch.nonzero(empty).flatten()[:8].tolist()} have no label; class-specific "
                         "erasing needs at least one class per image")
    u = torch.rand(labels.shape, generator=generator, device="cpu").to(labels.device)
    return torch.where(present, u, torch.full_like(u, -1.0)).argmax(1)


def drop_class(labels: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """``y \\ {r}``: a copy of ``labels`` with column ``r[i]`` of row ``i`` set to 0."""
    out = labels.clone()
    out[torch.arange(labels.shape[0], device=labels.device), r] = 0
    return out


def activation_mask(maps: torch.Tensor, r: torch.Tensor, size: tuple[int, int], eps: float = 1e-5) -> torch.Tensor:
    """``psi(A^r)``: the map of class ``r[i]`` of each image, ReLU'd, upsampled (bilinear) to ``size`` and
    divided by its maximum (``N x 1 x H x W`` in [0, 1]); gradients flow back into ``maps``."""
    _check_maps("maps", maps)
    a = F.relu(maps[torch.arange(maps.shape[0], device=maps.device), r])[:, None]
    a = F.interpolate(a, size=size, mode="bilinear", align_corners=False)
    return a / (a.amax((2, 3), keepdim=True) + eps)


def erase(images: torch.Tensor, mask: torch.Tensor, threshold: float | None = None) -> torch.Tensor:
    """``x * (1 - mask)`` (soft erasing), or ``x * (1 - [mask > threshold])`` (hard erasing, no gradient
    through the mask)."""
    if threshold is None:
        return images * (1 - mask)
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
    return images * (mask <= threshold).to(images.dtype)


class NocTrainer:
    """P-NOC's alternating update of the ordinary classifier ``noc`` (the exam's Algorithm 1, Eq. 28).

    After each update of the CAM network ``f`` on batch ``i`` (whose maps ``A_i`` were computed before that
    update), :meth:`observe` stores the hard-erased images ``x_i * (1 - [psi(A_i^r) > delta])`` and their
    *full* label sets every ``every`` steps; :meth:`update` then takes one optimiser step of ``noc`` on
    ``lambda_noc * BCE(noc(x_hat), y)``. Calling :meth:`update` at the start of the next ``f`` step gives
    exactly Algorithm 1's order (``f`` step ``i``, then ``noc`` step with ``A_i``, then ``f`` step ``i+1``
    with the updated ``noc``) inside a training loop that only lets one optimiser see the loss of ``f``.
    """

    def __init__(self, noc: nn.Module, optimizer: torch.optim.Optimizer, *, every: int = 1, delta: float = 0.2,
                 label_smoothing: float = 0.0):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every (k_noc) must be an integer >= 1, got {every!r}")
        if not 0 <= delta < 1:
            raise ValueError(f"delta (delta_noc) must be in [0, 1), got {delta!r}")
        self.noc, self.optimizer, self.every, self.delta = noc, optimizer, every, delta
        self.label_smoothing = label_smoothing
        self.steps, self.updates, self._pending = 0, 0, None

    def observe(self, images: torch.Tensor, maps: torch.Tensor, r: torch.Tensor, labels: torch.Tensor,
                weight: float) -> None:
        """Count one step of ``f``; every ``every``-th step keep the hard-erased batch for :meth:`update`."""
        self.steps += 1
        if self.steps % self.every == 0:
            with torch.no_grad():
                x_hat = erase(images, activation_mask(maps.detach(), r, tuple(images.shape[-2:])), self.delta)
            self._pending = (x_hat, labels.detach(), float(weight))

    def update(self) -> float | None:
        """One step of ``noc`` on the kept batch (if any); returns its loss."""
        if self._pending is None:
            return None
        x_hat, y, weight = self._pending
        self._pending = None
        was_training = [p.requires_grad for p in self.noc.parameters()]
        for p in self.noc.parameters():
            p.requires_grad_(True)
        self.noc.train()
        loss = weight * F.multilabel_soft_margin_loss(self.noc(x_hat), smooth_labels(y, self.label_smoothing))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        for p, flag in zip(self.noc.parameters(), was_training):
            p.requires_grad_(flag)
        self.noc.eval()
        self.updates += 1
        return float(loss.detach())


# ------------------------------------------------------------------------------------ C2AM and C2AM-H
def disentangle(features: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Foreground and background feature vectors ``v^f = mean_hw(P A)`` and ``v^b = mean_hw((1 - P) A)``
    (``N x K`` each) from features ``A`` (``N x K x h x w``) and the partition probability ``P``
    (``N x 1 x h x w``)."""
    _check_maps("features", features)
    _check_maps("p", p)
    if p.shape[1] != 1 or p.shape[0] != features.shape[0] or p.shape[2:] != features.shape[2:]:
        raise ValueError(f"p must be N x 1 x h x w matching features {tuple(features.shape)}, got {tuple(p.shape)}")
    return (p * features).mean((2, 3)), ((1 - p) * features).mean((2, 3))


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


def rank_weights(sim: torch.Tensor, alpha: float) -> torch.Tensor:
    """``w_ij = exp(-alpha * rank_i(s_ij))``: ``rank_i`` counts the *other* entries ``j' != i`` of row ``i``
    that are more similar than ``j`` (0 = the most similar partner of ``i``); ties keep column order. The
    diagonal gets weight 0. The weights are constants (no gradient)."""
    n = sim.shape[0]
    if sim.dim() != 2 or sim.shape[1] != n:
        raise ValueError(f"sim must be a square n x n matrix, got {tuple(sim.shape)}")
    eye = torch.eye(n, dtype=torch.bool, device=sim.device)
    s = sim.detach().masked_fill(eye, float("-inf"))
    order = torch.sort(s, dim=1, descending=True, stable=True).indices
    rank = torch.sort(order, dim=1, stable=True).indices.to(sim.dtype)
    return torch.exp(-alpha * rank).masked_fill(eye, 0.0)


def c2am_loss(fg: torch.Tensor, bg: torch.Tensor, alpha: float = 0.25, *, sign: str = "corrected",
              eps: float = 1e-4) -> dict[str, torch.Tensor]:
    """C2AM's contrastive objective (the exam's Eq. 7) for a batch of ``n >= 2`` foreground and background
    vectors (``n x K``): the three terms and their sum under ``"total"``.

    - ``pos_f = -1/(n(n-1)) sum_{i != j} w^f_ij log s^f_ij`` (foregrounds of different images alike),
    - ``pos_b``: the same for the backgrounds,
    - ``neg = -1/n^2 sum_ij log(1 - s^neg_ij)`` (every foreground unlike every background),

    with cosine similarities ``s``, clamped to ``[eps, 1 - eps]``, and rank weights :func:`rank_weights`.
    ``sign="as_printed"`` drops the minus of the two positive terms as Eq. 7 prints them (minimising them
    then pushes similar images *apart*); ``"corrected"`` is C2AM's own loss."""
    if sign not in ("corrected", "as_printed"):
        raise ValueError(f"sign must be 'corrected' or 'as_printed', got {sign!r}")
    if fg.dim() != 2 or fg.shape != bg.shape or fg.shape[0] < 2:
        raise ValueError(f"fg and bg must both be n x K with n >= 2, got {tuple(fg.shape)} and {tuple(bg.shape)}")
    n = fg.shape[0]
    terms = {}
    for name, v in (("pos_f", fg), ("pos_b", bg)):
        s = _cosine(v, v).clamp(eps, 1 - eps)
        total = (rank_weights(s, alpha) * torch.log(s)).sum() / (n * (n - 1))
        terms[name] = -total if sign == "corrected" else total
    s_neg = _cosine(fg, bg).clamp(eps, 1 - eps)
    terms["neg"] = -torch.log(1 - s_neg).mean()
    terms["total"] = terms["pos_f"] + terms["pos_b"] + terms["neg"]
    return terms


def hint_loss(p: torch.Tensor, hints: torch.Tensor, delta_fg: float = 0.4, *, reduction: str = "mean") -> torch.Tensor:
    """C2AM-H's hint term (Eq. 29 without ``lambda_h``): binary cross-entropy of the partition probability
    ``p`` against "foreground" (1) on the pixels whose normalised hint (class-max CAM, ``N x 1 x h x w`` in
    [0, 1]) exceeds ``delta_fg``. ``reduction="sum"`` is Eq. 29 as printed (a sum over images and pixels);
    ``"mean"`` divides by the number of hinted pixels, so that the term is on the scale of Eq. 7's
    averaged terms. No hinted pixel: 0."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if p.shape != hints.shape:
        raise ValueError(f"p {tuple(p.shape)} and hints {tuple(hints.shape)} must have one shape")
    keep = hints > delta_fg
    if not keep.any():
        return p.sum() * 0.0
    loss = F.binary_cross_entropy(p[keep].clamp(1e-6, 1 - 1e-6), torch.ones_like(p[keep]), reduction="sum")
    return loss / keep.sum() if reduction == "mean" else loss


__all__ = ["NocTrainer", "activation_mask", "c2am_loss", "disentangle", "drop_class", "erase", "hint_loss", "merge",
           "ramp", "rank_weights", "reconstruction_loss", "sample_present_class", "smooth_labels", "tile"]
