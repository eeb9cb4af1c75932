"""Density-peaks clustering and matched clustering precision / recall / F1 (dense NumPy, a few thousand points).

* :func:`density_peaks` is the clustering of Rodriguez & Laio (Science 2014, "Clustering by fast search and
  find of density peaks", DPC): local density ``rho`` from a cut-off distance ``d_c``, ``delta`` = distance
  to the nearest point of higher density, the ``n_clusters`` points with the largest ``rho * delta`` as
  centres, and every other point, in order of decreasing density, joins the cluster of its nearest
  higher-density point. scikit-learn has no DPC, hence the hand-written version.
* :func:`matched_prf` scores a clustering against classes: clusters are matched one-to-one to classes by the
  Hungarian method (scipy's ``linear_sum_assignment``, maximising the points in agreement), per-class
  precision and recall are averaged over the classes, and F is their harmonic mean.
* :func:`clustering_accuracy` is the usual clustering ACC: the share of points in agreement after the same
  Hungarian one-to-one matching of clusters to classes.
* :func:`assign_to_nearest` gives points left out of a clustering (e.g. removed as noise) the label of the
  nearest clustered point.
* :func:`purity` (each cluster votes for its majority class; the metric of Ho 2023, ch. 5) and
  :func:`clustering_scores`, the metrics of the multicut chapters in one dict: ACC (extra clusters count as
  errors, as in Ho 2023, Sect. 2.4.1), purity, NMI and ARI (scikit-learn), the number of clusters and of
  singleton clusters.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist, squareform

__all__ = ["density_peaks", "matched_prf", "assign_to_nearest", "clustering_accuracy", "purity", "clustering_scores"]

KERNELS = ("gaussian", "cutoff")


def density_peaks(X, n_clusters: int, dc_percent: float = 2.0, kernel: str = "gaussian"):
    """DPC labels (0 .. n_clusters-1) and the decision quantities.

    ``d_c`` is the ``dc_percent`` % quantile of the pairwise distances (Rodriguez & Laio's rule of thumb:
    about 1-2 % of the points as neighbours). ``kernel="gaussian"``: ``rho_i = sum_{j != i}
    exp(-(d_ij / d_c)^2)``; ``"cutoff"``: the number of points closer than ``d_c``. Ties in density are
    broken by index (the earlier point counts as denser), so the result is deterministic.

    Returns ``labels, info`` with ``info = {"rho", "delta", "centres", "dc"}``.
    """
    X = np.asarray(X, dtype=float)
    n = len(X)
    if not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters} must be in [1, {n}]")
    if not 0 < dc_percent < 100:
        raise ValueError(f"dc_percent={dc_percent} must be in (0, 100)")
    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r}: allowed are {KERNELS}")
    condensed = pdist(X)
    dc = float(np.percentile(condensed, dc_percent)) if n > 1 else 1.0
    D = squareform(condensed)
    if kernel == "gaussian":
        rho = np.exp(-(D / dc) ** 2).sum(1) - 1.0  # minus the point itself
    else:
        rho = (D < dc).sum(1) - 1.0
    order = np.argsort(-rho, kind="stable")  # densest first; equal densities keep index order
    delta = np.empty(n)
    parent = np.full(n, -1)
    delta[order[0]] = D[order[0]].max()
    for p in range(1, n):
        i = order[p]
        denser = order[:p]
        j = int(np.argmin(D[i, denser]))
        delta[i], parent[i] = D[i, denser[j]], denser[j]
    gamma = rho * delta
    centres = np.argsort(-gamma, kind="stable")[:n_clusters]
    labels = np.full(n, -1)
    labels[centres] = np.arange(n_clusters)
    if labels[order[0]] < 0:  # the densest point has no parent: it must be a centre (always true in practice)
        labels[centres[-1]] = -1
        centres[-1] = order[0]
        labels[order[0]] = n_clusters - 1
    for i in order:
        if labels[i] < 0:
            labels[i] = labels[parent[i]]
    return labels, {"rho": rho, "delta": delta, "centres": centres, "dc": dc}


def matched_prf(y_true, y_pred) -> tuple[float, float, float]:
    """Macro precision, macro recall and their harmonic mean after one-to-one cluster-class matching.

    A class matched to no cluster (fewer clusters than classes) or to an empty one gets precision and
    recall 0; unmatched extra clusters count against no class (their points lower the recall).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, c = np.unique(y_pred, return_inverse=True)
    cont = np.zeros((len(classes), len(clusters)))
    np.add.at(cont, (t, c), 1)
    rows, cols = linear_sum_assignment(cont, maximize=True)
    prec = np.zeros(len(classes))
    rec = np.zeros(len(classes))
    size = cont.sum(0)
    for r_, c_ in zip(rows, cols):
        prec[r_] = cont[r_, c_] / size[c_]
        rec[r_] = cont[r_, c_] / cont[r_].sum()
    pr, re = float(prec.mean()), float(rec.mean())
    f = 2 * pr * re / (pr + re) if pr + re > 0 else 0.0
    return pr, re, f


def assign_to_nearest(X, kept, labels_kept) -> np.ndarray:
    """Labels for all points: kept points keep ``labels_kept``; the others take their nearest kept point's."""
    X = np.asarray(X, dtype=float)
    kept = np.asarray(kept, dtype=bool)
    if kept.sum() != len(labels_kept):
        raise ValueError(f"{kept.sum()} kept points but {len(labels_kept)} labels")
    if not kept.any():
        raise ValueError("no kept point to assign to")
    out = np.empty(len(X), dtype=np.asarray(labels_kept).dtype)
    out[kept] = labels_kept
    if (~kept).any():
        nearest = cdist(X[~kept], X[kept]).argmin(1)
        out[~kept] = np.asarray(labels_kept)[nearest]
    return out


def clustering_accuracy(y_true, y_pred) -> float:
    """Clustering accuracy (ACC): the share of points whose cluster maps to their class under the best
    one-to-one cluster-to-class map (Hungarian method on the contingency table, scipy's
    ``linear_sum_assignment``). Clusters left without a class (more clusters than classes) count as wrong.
    """
    cont = _contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(cont, maximize=True)
    return float(cont[rows, cols].sum() / cont.sum())


def _contingency(y_true, y_pred) -> np.ndarray:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be equal-length non-empty 1-D arrays, got {y_true.shape} and {y_pred.shape}")
    _, t = np.unique(y_true, return_inverse=True)
    _, c = np.unique(y_pred, return_inverse=True)
    cont = np.zeros((t.max() + 1, c.max() + 1))
    np.add.at(cont, (t, c), 1)
    return cont


def purity(y_true, y_pred) -> float:
    """Purity: every cluster is credited with its most frequent class; the share of points credited.
    Unlike ACC it does not punish splitting a class into many clusters (singletons are pure)."""
    cont = _contingency(y_true, y_pred)
    return float(cont.max(0).sum() / cont.sum())


def clustering_scores(y_true, y_pred) -> dict[str, float]:
    """ACC, purity, NMI, ARI, the number of clusters and of singleton clusters, in one dict."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    cont = _contingency(y_true, y_pred)
    sizes = cont.sum(0)
    return {"acc": clustering_accuracy(y_true, y_pred), "purity": purity(y_true, y_pred),
            "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
            "ari": float(adjusted_rand_score(y_true, y_pred)),
            "n_clusters": int(len(sizes)), "n_singletons": int((sizes == 1).sum())}
