"""Triplet losses with absolute margins, label-noise triplet sampling and distance-separability statistics.

For Ho 2023 (thesis), ch. 2: learning embeddings that a minimum cost multicut can cluster with one global
distance threshold.

* :func:`triplet_loss` -- the three losses of the thesis on squared Euclidean distances
  ``dp = |f(a) - f(p)|^2`` and ``dn = |f(a) - f(n)|^2``:
  TL1 (Eq. 2.1, FaceNet) ``[dp - dn + alpha]_+``; TL2 (Eq. 2.2, after Zhang et al. 2016) TL1 plus
  ``[dp - beta]_+``; TL3 (Eq. 2.3, the thesis' simplification) ``[alpha - dn]_+ + [dp - beta]_+``.
  Eq. 2.3 is printed with a "p" on both pairs; its indices (``x_j`` is the negative in the thesis'
  notation) and the text make the first term the negative pair, as here.
* :func:`derived_threshold` -- the cut threshold on *unsquared* distances that TL2/TL3 imply,
  ``tau = sqrt((alpha + beta) / 2)`` (Eq. 2.5).
* :func:`sample_triplets` -- one triplet per anchor, drawn with the labels, with the thesis' label noise
  (Sect. 2.4.3): a share of positives taken from another class, a share of negatives taken from the
  anchor's class, or negatives drawn without labels at all (``neg_noise="random"``).
* :func:`threshold_separability` and :func:`class_distance_stats` -- how well one global distance
  threshold can separate same-class from different-class pairs (the argument of Fig. 2.5 / 2.7).
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["LOSSES", "triplet_loss", "derived_threshold", "sample_triplets", "threshold_separability",
           "class_distance_stats"]

LOSSES = ("TL1", "TL2", "TL3")


def _check_margins(alpha, beta) -> tuple[float, float]:
    for name, v in (("alpha", alpha), ("beta", beta)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name}={v!r} must be a positive finite number")
    return float(alpha), float(beta)


def triplet_loss(za: torch.Tensor, zp: torch.Tensor, zn: torch.Tensor, variant: str = "TL3", *,
                 alpha: float = 0.8, beta: float = 0.4, reduction: str = "mean") -> torch.Tensor:
    """TL1, TL2 or TL3 of the thesis for a batch of anchor / positive / negative embeddings (``B x d``).

    ``reduction="mean"`` averages over the batch (the thesis sums; with Adam only the scale of the
    gradient differs), ``"sum"`` sums, ``"none"`` returns one loss per triplet.
    """
    if variant not in LOSSES:
        raise ValueError(f"variant={variant!r}: allowed are {LOSSES}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction={reduction!r}: allowed are 'mean', 'sum' and 'none'")
    alpha, beta = _check_margins(alpha, beta)
    if not (za.shape == zp.shape == zn.shape) or za.ndim != 2:
        raise ValueError(f"anchor, positive and negative must be B x d tensors of one shape, got "
                         f"{tuple(za.shape)}, {tuple(zp.shape)}, {tuple(zn.shape)}")
    dp = (za - zp).pow(2).sum(1)
    dn = (za - zn).pow(2).sum(1)
    if variant == "TL1":
        loss = torch.relu(dp - dn + alpha)
    elif variant == "TL2":
        loss = torch.relu(dp - dn + alpha) + torch.relu(dp - beta)
    else:
        loss = torch.relu(alpha - dn) + torch.relu(dp - beta)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def derived_threshold(alpha: float = 0.8, beta: float = 0.4) -> float:
    """``tau = sqrt((alpha + beta) / 2)`` (Eq. 2.5): the midpoint of the two squared-distance margins,
    as an unsquared distance. Pairs closer than ``tau`` are joined, farther pairs cut."""
    alpha, beta = _check_margins(alpha, beta)
    return math.sqrt((alpha + beta) / 2)


def _noise_share(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        extra = " or 'random'" if name == "neg_noise" else ""
        raise ValueError(f"{name}={value!r} must be a share in [0, 1]{extra}")
    return float(value)


def sample_triplets(labels, *, pos_noise: float = 0.0, neg_noise: float | str = 0.0, anchors=None,
                    rng=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(anchor, positive, negative)`` index arrays, one triplet per anchor.

    Clean draws: the positive is uniform among the *other* points of the anchor's class, the negative
    uniform among the points of the other classes. With probability ``pos_noise`` a positive is instead
    drawn from the other classes (a "wrong" positive); with probability ``neg_noise`` a negative is drawn
    from the anchor's class (a "wrong" negative). ``neg_noise="random"`` draws the negative uniformly from
    all other points, ignoring labels (on K balanced classes it is wrong about 1/K of the time).
    ``anchors``: indices to use as anchors (default: every point once, in order). Vectorised: every draw
    is an index arithmetic on the points sorted by class, no per-anchor loop.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size < 2:
        raise ValueError(f"labels must be a 1-D array of at least 2 points, got shape {y.shape}")
    pos_noise = _noise_share("pos_noise", pos_noise)
    random_neg = isinstance(neg_noise, str)
    if random_neg and neg_noise != "random":
        raise ValueError(f"neg_noise={neg_noise!r} must be a share in [0, 1] or 'random'")
    neg_share = 0.0 if random_neg else _noise_share("neg_noise", neg_noise)
    rng = np.random.default_rng(rng)
    n = y.size
    classes, yi, counts = np.unique(y, return_inverse=True, return_counts=True)
    if (counts < 2).any():
        raise ValueError(f"class {classes[np.argmax(counts < 2)]!r} has a single point: every class needs >= 2 "
                         "points to draw a positive other than the anchor")
    if len(classes) < 2:
        raise ValueError("labels hold a single class: negatives need a second class")
    a = np.arange(n) if anchors is None else np.asarray(anchors, dtype=np.int64).ravel()
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"anchors must be indices in [0, {n})")
    order = np.argsort(yi, kind="stable")  # points grouped by class
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)  # position of each point inside its class block
    rank[order] = np.arange(n) - start[yi[order]]
    c = yi[a]

    def same_class(u):  # uniform over the anchor's class minus the anchor itself
        r = np.floor(u * (counts[c] - 1)).astype(np.int64)
        r += r >= rank[a]
        return order[start[c] + r]

    def other_class(u):  # uniform over the points outside the anchor's class
        r = np.floor(u * (n - counts[c])).astype(np.int64)
        r += np.where(r >= start[c], counts[c], 0)
        return order[r]

    def any_other(u):  # uniform over all points but the anchor
        r = np.floor(u * (n - 1)).astype(np.int64)
        return r + (r >= a)

    u = rng.random((4, a.size))
    positive = np.where(u[0] < pos_noise, other_class(u[1]), same_class(u[1]))
    if random_neg:
        negative = any_other(u[3])
    else:
        negative = np.where(u[2] < neg_share, same_class(u[3]), other_class(u[3]))
    return a.copy(), positive, negative


def threshold_separability(d, same) -> dict[str, float]:
    """How well one global threshold on the distances ``d`` separates same-class pairs (``same``) from
    different-class pairs: the lowest *balanced* error ``(FNR + FPR) / 2`` over all thresholds (0 =
    perfectly separable, 0.5 = no better than chance) and that best threshold. Scale-free, so embeddings
    of different losses compare. Pairs with ``d < t`` count as "join"."""
    d = np.asarray(d, dtype=float).ravel()
    same = np.asarray(same, dtype=bool).ravel()
    if d.shape != same.shape or d.size == 0:
        raise ValueError(f"need one same-class flag per distance, got {d.size} distances and {same.size} flags")
    n_pos, n_neg = int(same.sum()), int((~same).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("need both same-class and different-class pairs")
    o = np.argsort(d, kind="stable")
    ds, ss = d[o], same[o]
    # threshold just above the first k sorted distances: k joined pairs, for k = 0..m (ties kept together)
    joined_pos = np.concatenate([[0], np.cumsum(ss)])
    joined_neg = np.concatenate([[0], np.cumsum(~ss)])
    valid = np.concatenate([[True], np.append(ds[1:] > ds[:-1], True)])
    err = 0.5 * ((n_pos - joined_pos) / n_pos + joined_neg / n_neg)
    err = np.where(valid, err, np.inf)
    k = int(np.argmin(err))
    thr = ds[0] if k == 0 else (np.nextafter(ds[-1], np.inf) if k == len(ds) else 0.5 * (ds[k - 1] + ds[k]))
    return {"balanced_error": float(err[k]), "threshold": float(thr)}


def class_distance_stats(Z, y) -> dict[str, np.ndarray]:
    """Per class (sorted labels): mean and std of the within-class pair distances, and of the distances
    from the class to its nearest other class (the class whose pairs with it have the smallest mean
    distance), as in the thesis' Fig. 2.7. Also returns ``nearest`` (that class's label)."""
    from scipy.spatial.distance import cdist

    Z = np.asarray(Z, dtype=float)
    y = np.asarray(y)
    if Z.ndim != 2 or len(Z) != len(y):
        raise ValueError(f"Z must be points x features with one label per point, got {Z.shape} and {y.shape}")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError("need at least two classes")
    D = cdist(Z, Z)
    out = {k: np.zeros(len(classes)) for k in ("intra_mean", "intra_std", "inter_mean", "inter_std")}
    nearest = np.empty(len(classes), dtype=classes.dtype)
    for i, c in enumerate(classes):
        m = y == c
        if m.sum() < 2:
            raise ValueError(f"class {c!r} has fewer than 2 points")
        block = D[np.ix_(m, m)][np.triu_indices(int(m.sum()), 1)]
        out["intra_mean"][i], out["intra_std"][i] = block.mean(), block.std()
        means = {c2: D[np.ix_(m, y == c2)].mean() for c2 in classes if c2 != c}
        c_near = min(means, key=means.get)
        pairs = D[np.ix_(m, y == c_near)].ravel()
        out["inter_mean"][i], out["inter_std"][i] = pairs.mean(), pairs.std()
        nearest[i] = c_near
    return {**out, "classes": classes, "nearest": nearest}
