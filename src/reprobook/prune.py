"""Structured filter pruning: filter scores, K-medoids grouping, merging, and conv-filter surgery.

The surgery keeps a convolution, its batch normalisation and the layer that reads its output consistent:

- :func:`zero_filters` silences output filters in place (conv weights and bias, the BN scale and shift, and
  the next layer's input weights for those channels), so that the channels contribute exactly nothing;
- :func:`remove_filters` builds smaller layers without those filters; on a network whose removed filters
  were zeroed, the smaller network computes the same function;
- :func:`conv_units` finds (conv, BN, next layer) triples in an ``nn.Sequential`` and
  :func:`remove_from_sequential` swaps the smaller layers in.

Scores (:func:`filter_entropy`, :func:`filter_l1`), the pairwise distance of filters (:func:`pairwise_l2`),
an alternating K-medoids (:func:`kmedoids`) and group merging (:func:`merge_groups`) are the building blocks
of merge-based pruning. :func:`count_flops` counts FLOPs with ``torch.utils.flop_counter.FlopCounterMode``
(two per multiply-add of convolutions and matrix products; batch norm, activations and pooling are not
counted), total and per module.

Hand-written because torch's own ``torch.nn.utils.prune`` only masks weights (it never shrinks a layer or
touches the next one), and no installed library does K-medoids on a precomputed distance matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["ConvUnit", "conv_units", "count_flops", "count_params", "eq8_flop_ratios", "filter_entropy",
           "filter_l1", "kmedoids", "merge_groups", "pairwise_l2", "plan_counts", "remove_filters",
           "remove_from_sequential", "zero_filters"]


# ------------------------------------------------------------------------------------------------ scores
def filter_entropy(weight: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Shannon entropy (bits) of each output filter's weights, read as a probability vector.

    Each filter ``weight[j]`` is flattened, min-max scaled to [0, 1] and divided by its sum:
    ``p = (w - min w) / sum(w - min w)``; the entropy is ``-sum p log2 p`` (with ``0 log 0 = 0``). A constant
    filter (a zeroed one) has no spread and gets entropy 0, the lowest possible. The score does not change
    when a filter is scaled by a positive number or shifted.
    """
    w = weight.detach().reshape(weight.shape[0], -1).double()
    span = w - w.min(dim=1, keepdim=True).values
    total = span.sum(dim=1, keepdim=True)
    p = span / total.clamp_min(eps)
    ent = -(torch.where(p > 0, p * torch.log2(p.clamp_min(eps)), torch.zeros_like(p))).sum(dim=1)
    return torch.where(total.squeeze(1) > eps, ent, torch.zeros_like(ent)).float()


def filter_l1(weight: torch.Tensor) -> torch.Tensor:
    """L1 norm of each output filter (Li et al., 2017)."""
    return weight.detach().reshape(weight.shape[0], -1).abs().sum(dim=1)


def pairwise_l2(weight: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between every pair of filters (flattened), an ``n x n`` matrix."""
    w = weight.detach().reshape(weight.shape[0], -1).double()
    sq = (w * w).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2 * w @ w.T).clamp_min(0)
    d = d2.sqrt()
    d.fill_diagonal_(0)
    return d.float()


# -------------------------------------------------------------------------------------------- K-medoids
def kmedoids(dist: torch.Tensor | np.ndarray, k: int, *, max_iter: int = 30,
             generator: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Alternating K-medoids on a precomputed distance matrix; returns ``(labels, medoids)``.

    Start from ``k`` distinct random points as medoids; then repeat: assign each point to its nearest
    medoid (ties to the lower cluster number; a medoid always stays in its own cluster, so no cluster is
    empty even when points coincide), and move each medoid to the member with the smallest summed distance
    to its cluster; stop when the medoids no longer change or after ``max_iter`` rounds.
    ``labels[i]`` is in ``0..k-1`` and ``medoids[c]`` is the index of cluster ``c``'s medoid.
    """
    d = np.asarray(dist.detach().cpu() if isinstance(dist, torch.Tensor) else dist, dtype=float)
    n = d.shape[0]
    if d.shape != (n, n):
        raise ValueError(f"dist must be a square matrix, got shape {d.shape}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    rng = generator if generator is not None else np.random.default_rng(0)
    medoids = np.sort(rng.choice(n, size=k, replace=False))
    labels = np.zeros(n, dtype=int)
    for _ in range(max_iter):
        labels = np.argmin(d[:, medoids], axis=1)
        labels[medoids] = np.arange(k)
        new = medoids.copy()
        for c in range(k):
            members = np.flatnonzero(labels == c)
            new[c] = members[np.argmin(d[np.ix_(members, members)].sum(axis=1))]
        if np.array_equal(new, medoids):
            break
        medoids = new
    labels = np.argmin(d[:, medoids], axis=1)
    labels[medoids] = np.arange(k)
    return labels, medoids


def merge_groups(weight: torch.Tensor, groups: Sequence[Sequence[int]], how: str = "mean",
                 bias: torch.Tensor | None = None) -> None:
    """In place: the first filter of each group becomes the mean (or element-wise max) of the group.

    ``bias``, when given, is merged the same way. The other members are left as they are (zero or remove
    them with :func:`zero_filters` / :func:`remove_filters`).
    """
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}")
    with torch.no_grad():
        for g in groups:
            g = list(g)
            if not g:
                continue
            for t in (weight, bias):
                if t is None:
                    continue
                block = t[g]
                t[g[0]] = block.mean(0) if how == "mean" else block.max(0).values


# -------------------------------------------------------------------------------------------- surgery
def _check_idx(idx, n: int) -> list[int]:
    idx = sorted({int(i) for i in idx})
    if idx and (idx[0] < 0 or idx[-1] >= n):
        raise IndexError(f"filter indices must be in [0, {n}), got {idx}")
    return idx


def _next_in_columns(next_layer: nn.Module, n_channels: int, idx: list[int]) -> list[int]:
    """The input columns of ``next_layer`` that read channels ``idx`` (a Linear after flattening reads
    ``in_features / n_channels`` consecutive features per channel)."""
    if isinstance(next_layer, nn.Conv2d):
        if next_layer.groups != 1:
            raise ValueError("grouped convolutions are not supported as the next layer")
        return idx
    if isinstance(next_layer, nn.Linear):
        per, rem = divmod(next_layer.in_features, n_channels)
        if rem:
            raise ValueError(f"Linear in_features={next_layer.in_features} is not a multiple of {n_channels} channels")
        return [c * per + j for c in idx for j in range(per)]
    raise TypeError(f"next layer must be Conv2d or Linear, got {type(next_layer).__name__}")


def zero_filters(conv: nn.Conv2d, idx, bn: nn.BatchNorm2d | None = None, next_layer: nn.Module | None = None) -> None:
    """Silence output filters ``idx`` in place: conv weights and bias, BN scale and shift (running mean 0,
    running variance 1), and the next layer's weights that read those channels."""
    idx = _check_idx(idx, conv.out_channels)
    if not idx:
        return
    with torch.no_grad():
        conv.weight[idx] = 0
        if conv.bias is not None:
            conv.bias[idx] = 0
        if bn is not None:
            if bn.weight is not None:
                bn.weight[idx] = 0
                bn.bias[idx] = 0
            if bn.running_mean is not None:
                bn.running_mean[idx] = 0
                bn.running_var[idx] = 1
        if next_layer is not None:
            cols = _next_in_columns(next_layer, conv.out_channels, idx)
            next_layer.weight[:, cols] = 0


def remove_filters(conv: nn.Conv2d, idx, bn: nn.BatchNorm2d | None = None, next_layer: nn.Module | None = None):
    """New ``(conv, bn, next_layer)`` without output filters ``idx`` (and without the next layer's inputs
    that read them). The originals are not modified. A channel whose filter, BN entries or next-layer
    weights are all zero contributes nothing, so removing it leaves the network's output unchanged."""
    n = conv.out_channels
    idx = _check_idx(idx, n)
    keep = [j for j in range(n) if j not in set(idx)]
    if not keep:
        raise ValueError("cannot remove every filter of a layer")
    if conv.groups != 1:
        raise ValueError("grouped convolutions are not supported")
    dev, dt = conv.weight.device, conv.weight.dtype
    new_conv = nn.Conv2d(conv.in_channels, len(keep), conv.kernel_size, stride=conv.stride, padding=conv.padding,
                         dilation=conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode).to(dev, dt)
    with torch.no_grad():
        new_conv.weight.copy_(conv.weight[keep])
        if conv.bias is not None:
            new_conv.bias.copy_(conv.bias[keep])
    new_bn = None
    if bn is not None:
        new_bn = nn.BatchNorm2d(len(keep), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                                track_running_stats=bn.track_running_stats).to(dev, dt)
        with torch.no_grad():
            if bn.affine:
                new_bn.weight.copy_(bn.weight[keep])
                new_bn.bias.copy_(bn.bias[keep])
            if bn.track_running_stats:
                new_bn.running_mean.copy_(bn.running_mean[keep])
                new_bn.running_var.copy_(bn.running_var[keep])
                new_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
        new_bn.train(bn.training)
    new_next = None
    if next_layer is not None:
        removed_cols = set(_next_in_columns(next_layer, n, idx))
        if isinstance(next_layer, nn.Conv2d):
            cols = [c for c in range(next_layer.in_channels) if c not in removed_cols]
            new_next = nn.Conv2d(len(cols), next_layer.out_channels, next_layer.kernel_size, stride=next_layer.stride,
                                 padding=next_layer.padding, dilation=next_layer.dilation,
                                 bias=next_layer.bias is not None, padding_mode=next_layer.padding_mode)
        else:
            cols = [c for c in range(next_layer.in_features) if c not in removed_cols]
            new_next = nn.Linear(len(cols), next_layer.out_features, bias=next_layer.bias is not None)
        new_next = new_next.to(next_layer.weight.device, next_layer.weight.dtype)
        with torch.no_grad():
            new_next.weight.copy_(next_layer.weight[:, cols])
            if next_layer.bias is not None:
                new_next.bias.copy_(next_layer.bias)
    new_conv.train(conv.training)
    return new_conv, new_bn, new_next


@dataclass(frozen=True)
class ConvUnit:
    """Positions in an ``nn.Sequential``: a conv, its BN (or None) and the next Conv2d/Linear (or None)."""

    conv: int
    bn: int | None
    next: int | None


def conv_units(seq: nn.Sequential) -> list[ConvUnit]:
    """Every Conv2d of a flat ``nn.Sequential`` with the BatchNorm2d right after it (if any) and the next
    Conv2d or Linear that reads its output (activations, pooling and flattening in between are allowed)."""
    mods = list(seq)
    units = []
    for i, m in enumerate(mods):
        if not isinstance(m, nn.Conv2d):
            continue
        bn = i + 1 if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d) else None
        nxt = next((j for j in range(i + 1, len(mods)) if isinstance(mods[j], (nn.Conv2d, nn.Linear))), None)
        units.append(ConvUnit(i, bn, nxt))
    return units


def remove_from_sequential(seq: nn.Sequential, unit: ConvUnit, idx) -> None:
    """Replace the unit's conv, BN and next layer in ``seq`` by versions without filters ``idx``."""
    conv, bn, nxt = remove_filters(seq[unit.conv], idx, seq[unit.bn] if unit.bn is not None else None,
                                   seq[unit.next] if unit.next is not None else None)
    seq[unit.conv] = conv
    if unit.bn is not None:
        seq[unit.bn] = bn
    if unit.next is not None:
        seq[unit.next] = nxt


# ------------------------------------------------------------------------------------------- counting
def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (BN running statistics are buffers and do not count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def count_flops(model: nn.Module, example: torch.Tensor) -> tuple[int, dict[str, int]]:
    """FLOPs of one forward pass on ``example`` (use a batch of one image for per-image FLOPs), counted
    by ``FlopCounterMode``: ``(total, {module name: flops})`` where names are those FlopCounterMode gives
    (``"Sequential.3"`` for the fourth module of a top-level Sequential). The model's mode is restored."""
    from torch.utils.flop_counter import FlopCounterMode

    was = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as fc:
            model(example)
    finally:
        model.train(was)
    per = {name: int(sum(ops.values())) for name, ops in fc.get_flop_counts().items() if name != "Global"}
    return int(fc.get_total_flops()), per


def plan_counts(n: int, selection_rate: float, compression_factor: float, groups_rule: str = "eq4") -> dict[str, int]:
    """How many filters a merge step selects, how many groups it makes and how many it frees.

    ``s = round(n SR)``; the number of groups is ``k = floor(s / CF)`` (``"eq4"``: the paper's Eq. 4 and its
    public code) or ``k = floor(n / CF)`` (``"alg2"``: line 9 of the paper's Algorithm 2), clipped to
    ``[1, s]``; ``s - k`` filters are freed (zeroed, and finally removed). With ``SR = 0`` nothing is freed.
    """
    if groups_rule not in ("eq4", "alg2"):
        raise ValueError(f"groups_rule must be 'eq4' or 'alg2', got {groups_rule!r}")
    s = int(round(n * selection_rate))
    if s == 0:
        return {"selected": 0, "groups": 0, "freed": 0}
    k = int((s if groups_rule == "eq4" else n) // compression_factor)
    k = min(max(k, 1), s)
    return {"selected": s, "groups": k, "freed": s - k}


def eq8_flop_ratios(deleted_rates: Sequence[float]) -> list[float]:
    """The paper's Eq. 8 for a chain of convolutions: layer ``i`` keeps ``(1 - DR_i)(1 - DR_{i-1})`` of its
    FLOPs (``DR_0 = 0``: the input image is never pruned)."""
    prev, out = 0.0, []
    for dr in deleted_rates:
        out.append((1 - dr) * (1 - prev))
        prev = dr
    return out
