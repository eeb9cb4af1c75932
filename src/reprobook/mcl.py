"""MuSCLe's multi-contrast learning (MCL) losses for a weakly supervised CAM encoder (Yuan et al. 2023).

Everything here works on plain tensors, so that each term can be checked on tiny inputs:

- the hybrid classification loss (HCL, Eq. 7): binary cross-entropy + focal loss (Lin et al. 2017) + the
  log-sum-exp pairwise ranking loss (LSEP, Li et al. 2017);
- image-level contrast (IMC, Eq. 1) and, for comparison, the supervised contrastive loss as the paper
  writes it (Eq. A.2), with per-anchor gradient norms for the Appendix A argument;
- the background-included CAM (Eqs. 4-5) and the spatial attention module (SAM, Eq. 2);
- pixel-level contrast (PIXC, Eq. 3) over the overlap of two random crops (:func:`two_view_crops` returns
  the overlap in each view's coordinates);
- pairwise regional contrast (PRC, Eq. 6): static patches of one map, sliding (dynamic) patches of the
  other, the earth mover's distance with a cosine cost solved by log-domain Sinkhorn iterations, and the
  best-matching pair's distance as the loss.

Conventions: image labels are ``N x C`` multi-hot over the foreground classes; CAMs are ``N x C x h x w``;
the background-included CAM puts background at channel 0 (as label 0 = background in
:mod:`reprobook.segment`). Where the paper is silent the choices follow the authors' released code and are
named in the docstrings; the chapter ``muscle-a`` lists them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HCL_VARIANTS = ("paper", "code")
EMPTY_POSITIVES = ("appendix", "skip")


def _check_logits_labels(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(f"logits must be a tensor N x C, got "
                         f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}")
    if not isinstance(labels, torch.Tensor) or labels.shape != logits.shape:
        raise ValueError(f"labels must be an N x C multi-hot tensor of logits' shape {tuple(logits.shape)}, got "
                         f"{tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__}")


# ------------------------------------------------------------------------------------- classification
def focal_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017), summed over classes and averaged over images:
    ``-a_t (1 - p_t)^gamma log p_t`` with ``p_t = p`` and ``a_t = alpha`` for a present class, ``1 - p`` and
    ``1 - alpha`` for an absent one (torchvision's implementation)."""
    from torchvision.ops import sigmoid_focal_loss

    _check_logits_labels(logits, labels)
    return sigmoid_focal_loss(logits, labels.float(), alpha=alpha, gamma=gamma, reduction="sum") / logits.shape[0]


def lsep_loss(scores: torch.Tensor, labels: torch.Tensor, pair_mean: bool = False) -> torch.Tensor:
    """Log-sum-exp pairwise ranking loss (Li et al. 2017), averaged over images:
    ``log(1 + sum_{v absent} sum_{u present} exp(s_v - s_u))``; ``pair_mean=True`` averages the pairs
    instead of summing them (the authors' MuSCLe code). An image without a present or without an absent
    class has no pair and contributes ``log 1 = 0``."""
    _check_logits_labels(scores, labels)
    pos, neg = labels.bool(), ~labels.bool()
    diff = scores[:, None, :] - scores[:, :, None]  # [n, u, v] = s_v - s_u
    pair = pos[:, :, None] & neg[:, None, :]
    # masked log-sum-exp, stable for large score gaps: log(1 + sum exp(d)) = logsumexp([0, d...])
    d = diff.masked_fill(~pair, float("-inf")).flatten(1)
    if pair_mean:
        d = d - torch.log(pair.flatten(1).sum(1).clamp(min=1).float())[:, None]
    return torch.logsumexp(torch.cat([torch.zeros_like(d[:, :1]), d], 1), 1).mean()


def hybrid_classification_loss(logits: torch.Tensor, labels: torch.Tensor, variant: str = "paper",
                               parts: bool = False):
    """HCL (Eq. 7): ``L_bce + L_focal + L_pair`` with equal weights.

    - ``"paper"``: BCE with logits (mean over classes and images), the focal loss with Lin et al.'s
      alpha = 0.25, gamma = 2, and LSEP on the logits as in its reference [38] (pairs summed).
    - ``"code"``: the released code's choices: focal alpha = 0.5, gamma = 2, and the pair term on sigmoid
      probabilities with the pairs averaged. (Its ``MultiLabelSoftMarginLoss`` equals the mean BCE.)

    ``parts=True`` returns ``(total, {"bce": ..., "focal": ..., "pair": ...})``."""
    if variant not in HCL_VARIANTS:
        raise ValueError(f"variant must be one of {HCL_VARIANTS}, got {variant!r}")
    _check_logits_labels(logits, labels)
    y = labels.float()
    bce = F.binary_cross_entropy_with_logits(logits, y)
    if variant == "paper":
        focal, pair = focal_loss(logits, y, 0.25, 2.0), lsep_loss(logits, y)
    else:
        focal, pair = focal_loss(logits, y, 0.5, 2.0), lsep_loss(torch.sigmoid(logits), y, pair_mean=True)
    total = bce + focal + pair
    return (total, {"bce": bce, "focal": focal, "pair": pair}) if parts else total


# ------------------------------------------------------------------------------ image-level contrast
def pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(positive, negative)`` ``N x N`` bool masks: positives share the *identical* label set, negatives
    share *no* label (the paper does not define them for multi-hot labels; these are the authors' code's
    rules). The diagonal is never a pair; partly overlapping label sets are neither."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 2:
        raise ValueError("labels must be an N x C multi-hot tensor")
    y = labels.bool()
    eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
    same = (y[:, None, :] == y[None, :, :]).all(-1) & ~eye
    disjoint = ~(y[:, None, :] & y[None, :, :]).any(-1) & ~eye
    return same, disjoint


def _similarities(z: torch.Tensor, temperature: float, normalise: bool, detach_others: bool) -> torch.Tensor:
    if not isinstance(z, torch.Tensor) or z.dim() != 2:
        raise ValueError(f"embeddings must be a tensor N x D, got "
                         f"{tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if normalise:
        z = F.normalize(z, dim=1, eps=1e-8)
    other = z.detach() if detach_others else z
    return z @ other.T / temperature


def _masked_lse(s: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(s.masked_fill(~mask, float("-inf")), dim=1)


def imc_per_anchor(z: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, normalise: bool = True,
                   empty_positives: str = "appendix", detach_others: bool = False):
    """IMC (Eq. 1) of each anchor: ``-log(sum_+ e^{s} / (sum_+ e^{s} + sum_- e^{s}))`` with ``s = z_i.z_j / T``.

    Returns ``(loss, active)``: per-anchor losses (0 where ``active`` is False). An anchor is active when
    it has a negative. Without a positive Eq. 1 is ``-log 0``; ``empty_positives="appendix"`` keeps what
    Appendix A differentiates (Eq. A.4): the positive log-sum drops out and the anchor's loss is
    ``log sum_- e^{s}``; ``"skip"`` leaves such anchors out, as the released code does.
    ``detach_others`` makes ``z_j`` constants, so that the gradient of the sum is each anchor's own
    ``dL_i/dz_i`` (Appendix A's gradient)."""
    if empty_positives not in EMPTY_POSITIVES:
        raise ValueError(f"empty_positives must be one of {EMPTY_POSITIVES}, got {empty_positives!r}")
    s = _similarities(z, temperature, normalise, detach_others)
    pos, neg = pair_masks(labels)
    has_pos, has_neg = pos.any(1), neg.any(1)
    lse_all = _masked_lse(s, pos | neg)
    lse_pos = torch.where(has_pos, _masked_lse(s, pos), torch.zeros_like(lse_all))
    loss = lse_all - lse_pos
    active = has_neg & (has_pos | (empty_positives == "appendix"))
    return torch.where(active, loss, torch.zeros_like(loss)), active


def imc_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, normalise: bool = True,
             empty_positives: str = "appendix") -> torch.Tensor:
    """IMC (Eq. 1) summed over active anchors and divided by the batch size (the code's averaging)."""
    loss, _ = imc_per_anchor(z, labels, temperature, normalise, empty_positives)
    return loss.sum() / z.shape[0]


def supcon_per_anchor(z: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, normalise: bool = True,
                      detach_others: bool = False):
    """The supervised contrastive loss as the paper writes it (Eq. A.2), per anchor:
    ``-sum_+ log(e^{s_+} / (e^{s_+} + sum_- e^{s}))``. Returns ``(loss, active)``; an anchor without a
    positive has no term (its loss and gradient are exactly 0)."""
    s = _similarities(z, temperature, normalise, detach_others)
    pos, neg = pair_masks(labels)
    lse_neg = _masked_lse(s, neg)  # -inf when there is no negative: then each term is log(e^s/e^s) = 0
    terms = torch.logaddexp(s, lse_neg[:, None]) - s
    loss = terms.masked_fill(~pos, 0.0).sum(1)
    return loss, pos.any(1)


def supcon_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, normalise: bool = True) -> torch.Tensor:
    """Eq. A.2 summed over anchors and divided by the batch size."""
    loss, _ = supcon_per_anchor(z, labels, temperature, normalise)
    return loss.sum() / z.shape[0]


def anchor_gradient_norms(z: torch.Tensor, labels: torch.Tensor, kind: str = "imc", temperature: float = 1.0,
                          empty_positives: str = "appendix"):
    """``||dL_i / dz_i||`` for every anchor (other embeddings held fixed), with the anchors' numbers of
    positives ``N`` and negatives ``M``: Appendix A's quantity. ``z`` is used as given (pass unit vectors
    for the paper's setting)."""
    if kind not in ("imc", "supcon"):
        raise ValueError(f"kind must be 'imc' or 'supcon', got {kind!r}")
    z = z.detach().clone().requires_grad_(True)
    if kind == "imc":
        loss, _ = imc_per_anchor(z, labels, temperature, False, empty_positives, detach_others=True)
    else:
        loss, _ = supcon_per_anchor(z, labels, temperature, False, detach_others=True)
    (grad,) = torch.autograd.grad(loss.sum(), z)
    pos, neg = pair_masks(labels)
    return grad.norm(dim=1), pos.sum(1), neg.sum(1)


def imc_printed_bound(n_pos: int, n_neg: int) -> float:
    """The right-hand side of Eq. (A.6): 1 without positives, ``sqrt(2) M e / (N + M e)`` otherwise (unit
    vectors, temperature 1). It is the value at the paper's extremal configuration, not a bound over all
    configurations (see the chapter)."""
    if n_pos == 0:
        return 1.0
    return math.sqrt(2) * n_neg * math.e / (n_pos + n_neg * math.e)


# -------------------------------------------------------------------------- CAM with background, SAM
def background_cam(cams: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Eqs. 4-5: a softmax over the foreground maps at each pixel, and ``M_bg = 1 - max_c M_c`` put in
    front: ``N x (C + 1) x h x w`` with background at channel 0. With ``labels`` the softmax runs over the
    image's present classes only (absent classes get 0), as the released code masks its maps; the paper
    softmaxes all foreground maps."""
    if not isinstance(cams, torch.Tensor) or cams.dim() != 4:
        raise ValueError("cams must be a tensor N x C x h x w")
    logits = cams
    if labels is not None:
        if labels.shape != cams.shape[:2]:
            raise ValueError(f"labels must be N x C = {tuple(cams.shape[:2])}, got {tuple(labels.shape)}")
        logits = cams.masked_fill(~labels.bool()[:, :, None, None], float("-inf"))
    fg = torch.softmax(logits, dim=1)
    fg = torch.nan_to_num(fg, nan=0.0)  # an image without labels: all classes masked
    bg = 1.0 - fg.amax(1, keepdim=True)
    return torch.cat([bg, fg], 1)


class SpatialAttention(nn.Module):
    """Eq. 2: ``M' = softmax(g1(M)^T g2(M)) g3(M)``, global self-attention over the map's pixels.

    ``g1, g2, g3`` are 1x1 convolutions (linear projections of each pixel's vector); query pixel ``q``
    receives ``sum_k softmax_k(g1(M)_q . g2(M)_k) g3(M)_k``. ``key_channels`` is the width of ``g1, g2``
    (the paper does not give it); ``g3`` keeps ``channels`` so ``M'`` is comparable with ``M``."""

    def __init__(self, channels: int, key_channels: int | None = None):
        super().__init__()
        k = key_channels or channels
        self.g1, self.g2 = nn.Conv2d(channels, k, 1), nn.Conv2d(channels, k, 1)
        self.g3 = nn.Conv2d(channels, channels, 1)

    def forward(self, m: torch.Tensor) -> torch.Tensor:
        n, c, h, w = m.shape
        q, k, v = self.g1(m).flatten(2), self.g2(m).flatten(2), self.g3(m).flatten(2)
        attention = torch.softmax(q.transpose(1, 2) @ k, dim=2)  # N x HW(query) x HW(key)
        return (v @ attention.transpose(1, 2)).view(n, c, h, w)


# --------------------------------------------------------------------------------- two views and PIXC
def two_view_crops(images: torch.Tensor, crop: int, align: int = 1, generator: torch.Generator | None = None):
    """Two random ``crop x crop`` views of every image and their overlap.

    Offsets are multiples of ``align`` (use the network's output stride, so the overlap falls on whole
    feature cells). Returns ``(view1, view2, box1, box2)``: ``box_v`` is an ``N x 4`` int64 tensor
    ``(top, left, height, width)`` of the overlap in view ``v``'s pixel coordinates; the two boxes cover the
    same image pixels. ``crop`` must exceed half of each side so that views always overlap."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError("images must be a tensor N x 3 x H x W")
    n, _, h, w = images.shape
    if not isinstance(crop, int) or isinstance(crop, bool) or not (min(h, w) / 2 < crop <= min(h, w)):
        raise ValueError(f"crop must be an integer in ({min(h, w) / 2:g}, {min(h, w)}] for {h}x{w} images so that "
                         f"two views always overlap, got {crop!r}")
    if not isinstance(align, int) or align < 1 or crop % align:
        raise ValueError(f"align must be a positive integer dividing crop={crop}, got {align!r}")

    def offsets(side):
        return torch.randint(0, (side - crop) // align + 1, (2, n), generator=generator) * align

    ty, tx = offsets(h), offsets(w)
    idx = torch.arange(crop, device=images.device)
    ty_d, tx_d = ty.to(images.device), tx.to(images.device)
    batch = torch.arange(n, device=images.device)[:, None, None]
    view = []
    for v in range(2):
        rows, cols = (ty_d[v][:, None] + idx)[:, :, None], (tx_d[v][:, None] + idx)[:, None, :]
        # advanced indexing around a slice puts the indexed axes first: N x crop x crop x channels
        view.append(images[batch, :, rows, cols].permute(0, 3, 1, 2).contiguous())
    top, left = torch.maximum(ty[0], ty[1]), torch.maximum(tx[0], tx[1])
    bottom, right = torch.minimum(ty[0], ty[1]) + crop, torch.minimum(tx[0], tx[1]) + crop
    size = torch.stack([bottom - top, right - left], 1)
    box1 = torch.cat([torch.stack([top - ty[0], left - tx[0]], 1), size], 1)
    box2 = torch.cat([torch.stack([top - ty[1], left - tx[1]], 1), size], 1)
    return view[0], view[1], box1, box2


def overlap_vectors(f1: torch.Tensor, f2: torch.Tensor, box1: torch.Tensor, box2: torch.Tensor, stride: int):
    """The feature vectors of the overlap in both views, matched pixel by pixel: a list (one entry per image)
    of ``(u, v)`` with ``u, v`` of shape ``K x C``. Boxes are in input pixels; ``stride`` is the network's
    output stride (boxes must be multiples of it, as :func:`two_view_crops` with ``align=stride`` gives)."""
    if (box1 % stride).any() or (box2 % stride).any():
        raise ValueError(f"overlap boxes must be multiples of the output stride {stride}; crop with align={stride}")
    out = []
    for i in range(f1.shape[0]):
        t1, l1, hh, ww = (box1[i] // stride).tolist()
        t2, l2, _, _ = (box2[i] // stride).tolist()
        u = f1[i, :, t1:t1 + hh, l1:l1 + ww].flatten(1).T
        v = f2[i, :, t2:t2 + hh, l2:l2 + ww].flatten(1).T
        out.append((u, v))
    return out


def pixc_loss(sam1: torch.Tensor, cam2: torch.Tensor, box1: torch.Tensor, box2: torch.Tensor, stride: int) -> torch.Tensor:
    """PIXC (Eq. 3): ``-(1/HW) sum_k cos(u'_k, sg(v_k))`` over the overlap, ``u'`` from view 1's SAM map and
    ``v`` from view 2's CAM (stop-gradient); averaged over images. Ranges over [-1, 1]."""
    terms = [-F.cosine_similarity(u, v.detach(), dim=1, eps=1e-8).mean()
             for u, v in overlap_vectors(sam1, cam2, box1, box2, stride)]
    return torch.stack(terms).mean()


# ------------------------------------------------------------------------------------ Sinkhorn and PRC
def sinkhorn(cost: torch.Tensor, a: torch.Tensor, b: torch.Tensor, eps: float = 0.1, iters: int = 10):
    """Entropy-regularised optimal transport by log-domain Sinkhorn iterations (Cuturi 2013).

    ``cost``: ``B x n x m``; ``a``: ``B x n`` and ``b``: ``B x m`` non-negative masses with equal totals per
    problem. Returns ``(distance, plan)``: ``plan`` (``B x n x m``) has row sums close to ``a`` and column
    sums close to ``b`` (exact in the limit of many iterations), ``distance = sum plan * cost``. As
    ``eps -> 0`` the distance tends to the exact earth mover's distance."""
    if cost.dim() != 3 or a.shape != cost.shape[:2] or b.shape != (cost.shape[0], cost.shape[2]):
        raise ValueError(f"cost must be B x n x m with a: B x n and b: B x m, got {tuple(cost.shape)}, "
                         f"{tuple(a.shape)}, {tuple(b.shape)}")
    if not eps > 0 or not isinstance(iters, int) or iters < 1:
        raise ValueError(f"eps must be > 0 and iters a positive integer, got {eps!r}, {iters!r}")
    log_a, log_b = torch.log(a.clamp(min=1e-30)), torch.log(b.clamp(min=1e-30))
    f = torch.zeros_like(a)
    g = torch.zeros_like(b)
    k = -cost / eps
    for _ in range(iters):
        f = eps * (log_a - torch.logsumexp(k + g[:, None, :] / eps, dim=2))
        g = eps * (log_b - torch.logsumexp(k + f[:, :, None] / eps, dim=1))
    plan = torch.exp(k + f[:, :, None] / eps + g[:, None, :] / eps)
    return (plan * cost).sum((1, 2)), plan


def static_patches(m: torch.Tensor, grid: int = 2) -> torch.Tensor:
    """Non-overlapping ``grid x grid`` patches of ``m`` (``N x C x h x w``, sides divisible by ``grid``):
    ``N x grid^2 x C x (h/grid) x (w/grid)``, row-major."""
    n, c, h, w = m.shape
    if h % grid or w % grid:
        raise ValueError(f"map sides {h}x{w} must be divisible by grid={grid}")
    ph, pw = h // grid, w // grid
    p = m.view(n, c, grid, ph, grid, pw).permute(0, 2, 4, 1, 3, 5)
    return p.reshape(n, grid * grid, c, ph, pw)


def dynamic_patches(m: torch.Tensor, size: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    """All ``size``-patches of ``m`` at the given ``stride`` (a sliding window): ``N x B x C x ph x pw``."""
    n, c, h, w = m.shape
    (ph, pw), (sh, sw) = size, stride
    if not (1 <= ph <= h and 1 <= pw <= w and sh >= 1 and sw >= 1):
        raise ValueError(f"patch size {size} and stride {stride} do not fit a {h}x{w} map")
    p = m.unfold(2, ph, sh).unfold(3, pw, sw)  # N x C x nh x nw x ph x pw
    nh, nw = p.shape[2], p.shape[3]
    return p.permute(0, 2, 3, 1, 4, 5).reshape(n, nh * nw, c, ph, pw)


def patch_masses(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Masses of ``x``'s points (``... x n x C``) against ``y`` (``... x m x C``): each point's dot product
    with ``y``'s mean vector (the released code's weights), ReLU'd plus 1e-5 and normalised to sum 1."""
    w = F.relu((x * y.mean(-2, keepdim=True)).sum(-1)) + 1e-5
    return w / w.sum(-1, keepdim=True)


def patch_emd(p: torch.Tensor, q: torch.Tensor, eps: float = 0.1, iters: int = 10) -> torch.Tensor:
    """Sinkhorn EMD between point sets ``p`` (``B x n x C``) and ``q`` (``B x m x C``) with the cosine cost
    ``1 - cos(p_i, q_j)`` and :func:`patch_masses`; one distance per problem."""
    cost = 1.0 - F.cosine_similarity(p[:, :, None, :], q[:, None, :, :], dim=-1, eps=1e-8)
    distance, _ = sinkhorn(cost, patch_masses(p, q), patch_masses(q, p), eps, iters)
    return distance


def random_patch_geometry(h: int, w: int, generator: torch.Generator | None = None):
    """The released code's dynamic patch: side ``l`` drawn in ``[side/3, side/2]`` and stride in
    ``[l/2, l]`` (at least 1), per axis. Returns ``((ph, pw), (sh, sw))``."""
    def draw(lo, hi):
        lo, hi = max(1, math.ceil(lo)), max(1, math.floor(hi))
        return int(torch.randint(lo, max(lo, hi) + 1, (1,), generator=generator))

    ph, pw = draw(h / 3, h / 2), draw(w / 3, w / 2)
    return (ph, pw), (draw(ph / 2, ph), draw(pw / 2, pw))


def prc_loss(sam1: torch.Tensor, cam2: torch.Tensor, grid: int = 2, generator: torch.Generator | None = None,
             eps: float = 0.1, iters: int = 10, return_pairs: bool = False):
    """PRC (Eq. 6): the EMD of the best-matching (static CAM patch, dynamic SAM patch) pair, per image,
    averaged over images. Static patches: a ``grid x grid`` split of view 2's CAM (stop-gradient);
    dynamic: a sliding window of random size and stride over view 1's SAM map. The pair is chosen by its
    distance and the loss is that distance (Eq. 6's printed ``argmin`` read as the minimum).
    ``return_pairs=True`` also returns the ``N x A x B`` distances."""
    if sam1.shape[:2] != cam2.shape[:2]:
        raise ValueError(f"sam1 and cam2 must share N and C, got {tuple(sam1.shape)} and {tuple(cam2.shape)}")
    n, c = sam1.shape[:2]
    stat = static_patches(cam2.detach(), grid).flatten(3).transpose(2, 3)  # N x A x n_a x C
    size, stride = random_patch_geometry(sam1.shape[2], sam1.shape[3], generator)
    dyn = dynamic_patches(sam1, size, stride).flatten(3).transpose(2, 3)  # N x B x n_b x C
    a, b = stat.shape[1], dyn.shape[1]
    p = dyn[:, None].expand(n, a, b, *dyn.shape[2:]).reshape(n * a * b, *dyn.shape[2:])
    q = stat[:, :, None].expand(n, a, b, *stat.shape[2:]).reshape(n * a * b, *stat.shape[2:])
    dist = patch_emd(p, q, eps, iters).view(n, a, b)
    loss = dist.flatten(1).amin(1).mean()
    return (loss, dist) if return_pairs else loss


__all__ = ["EMPTY_POSITIVES", "HCL_VARIANTS", "SpatialAttention", "anchor_gradient_norms", "background_cam",
           "dynamic_patches", "focal_loss", "hybrid_classification_loss", "imc_loss", "imc_per_anchor",
           "imc_printed_bound", "lsep_loss", "overlap_vectors", "pair_masks", "patch_emd", "patch_masses",
           "pixc_loss", "prc_loss", "random_patch_geometry", "sinkhorn", "static_patches", "supcon_loss",
           "supcon_per_anchor", "two_view_crops"]
