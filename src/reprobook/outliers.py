"""Unsupervised outlier scores on k-nearest-neighbour structure, thresholds, and detection metrics.

The main entry is the symmetry / distance-ratio outlier degree of Zhai, Fei & Ma (ICPR 2024, chapter
``icpr2024-22``): for each point ``x_i`` with neighbours ``x_j`` (its ``k`` nearest),

* symmetry ratio ``R_s(x_i) = sum_j d(2 x_i - x_j, NN_1(2 x_i - x_j)) / sum_j d(x_i, x_j)``: mirror every
  neighbour through ``x_i`` and ask how far the mirror image is from the data. ``x_i`` itself is always a
  candidate nearest neighbour of its mirror points, at distance ``d(x_i, x_j)``, so ``0 <= R_s <= 1``, and
  ``R_s = 1`` when nothing lies on the far side of ``x_i`` (an edge point or an outlier);
* distance ratio ``R_d(x_i)``: the mean k-NN distance of the neighbours divided by that of ``x_i``
  (below 1 when ``x_i`` is farther from its neighbours than they are from theirs);
* outlier degree ``O = normalise(R_s - R_d)``, thresholded with an interquartile-range rule whose
  quartiles are order statistics at ``round(0.25 N)`` and ``round(0.75 N)`` (1-based, rounding halves up).

Also here: the k-th-nearest-neighbour distance score (Ramaswamy et al., SIGMOD 2000), precision at n and
precision / recall / F1 of a binary detection. Neighbour search is scikit-learn's exact brute force;
the ratios are hand-written because no maintained library implements them.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.neighbors import NearestNeighbors

__all__ = ["knn", "symmetry_ratio", "distance_ratio", "outlier_degree", "normalise", "iqr_bounds",
           "iqr_outliers", "knn_distance_score", "precision_at_n", "detection_prf"]

NORMS = ("minmax", "zscore", "none")
COMPONENTS = ("both", "symmetry", "distance")
QUARTILE_RULES = ("paper", "numpy")


def _as_points(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be (n_points, n_features), got shape {X.shape}")
    return X


def knn(X, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each point's ``k`` nearest other points, nearest first.

    The point itself is excluded (also when it has exact duplicates); ties are broken by scikit-learn's
    brute-force search, which is deterministic.
    """
    X = _as_points(X)
    n = len(X)
    if not 1 <= k < n:
        raise ValueError(f"k={k} must be in [1, n_points - 1] = [1, {n - 1}]")
    dist, idx = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X).kneighbors(X)
    keep = idx != np.arange(n)[:, None]
    # Rows where the point itself is not among the k+1 returned (k+1 duplicates): drop the last column.
    short = keep.sum(1) > k
    keep[short, -1] = False
    return idx[keep].reshape(n, k), dist[keep].reshape(n, k)


def _safe_ratio(num: np.ndarray, den: np.ndarray, zero_over_zero: float) -> np.ndarray:
    """num / den, with 0 / 0 := ``zero_over_zero`` (only exact duplicates give a zero denominator)."""
    out = np.full(num.shape, float(zero_over_zero))
    np.divide(num, den, out=out, where=den > 0)
    return out


def symmetry_ratio(X, k: int, neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``R_s`` (the paper's Eq. 3) for every point; in [0, 1]. A point with k duplicates gets 0."""
    X = _as_points(X)
    idx, dist = neighbours if neighbours is not None else knn(X, k)
    mirrors = 2.0 * X[:, None, :] - X[idx]  # (n, k, d): SYM(x_j | x_i) = 2 x_i - x_j, Eq. 2
    d_mirror, _ = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(X).kneighbors(
        mirrors.reshape(-1, X.shape[1]))
    num = d_mirror.reshape(len(X), -1).sum(1)
    # x_i is at distance d(x_i, x_j) from the mirror of x_j, so num <= den up to rounding: clip.
    return np.minimum(_safe_ratio(num, dist.sum(1), 0.0), 1.0)


def distance_ratio(X, k: int, neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``R_d`` (the paper's Eq. 4): mean k-NN distance of the neighbours over the point's own. 0 / 0 := 1."""
    X = _as_points(X)
    idx, dist = neighbours if neighbours is not None else knn(X, k)
    own = dist.mean(1)
    return _safe_ratio(own[idx].mean(1), own, 1.0)


def normalise(v, norm: str = "minmax") -> np.ndarray:
    """The paper's unspecified NORM: min-max to [0, 1] (our default), z-score, or none.

    All three are increasing affine maps, so neither the ranking nor the IQR outlier set depends on the
    choice (the IQR bound moves with the same map).
    """
    v = np.asarray(v, dtype=float)
    if norm == "minmax":
        span = v.max() - v.min()
        return (v - v.min()) / span if span > 0 else np.zeros_like(v)
    if norm == "zscore":
        sd = v.std()
        return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)
    if norm == "none":
        return v.copy()
    raise ValueError(f"norm={norm!r}: allowed are {NORMS}")


def outlier_degree(X, k: int = 10, norm: str = "minmax", components: str = "both") -> np.ndarray:
    """The outlier degree ``O = NORM(R_s - R_d)`` (the paper's Eq. 5); larger means more outlying.

    ``components="symmetry"`` scores by ``R_s`` alone and ``"distance"`` by ``-R_d`` alone (ablations).
    """
    if components not in COMPONENTS:
        raise ValueError(f"components={components!r}: allowed are {COMPONENTS}")
    X = _as_points(X)
    nb = knn(X, k)
    raw = np.zeros(len(X))
    if components in ("both", "symmetry"):
        raw = raw + symmetry_ratio(X, k, nb)
    if components in ("both", "distance"):
        raw = raw - distance_ratio(X, k, nb)
    return normalise(raw, norm)


def _order_statistic(sorted_v: np.ndarray, q: float) -> float:
    """``v_(i)`` with ``i = round(q N)`` (1-based, halves rounded up as MATLAB's ``round``), clipped to [1, N]."""
    n = len(sorted_v)
    i = int(math.floor(q * n + 0.5))
    return float(sorted_v[min(max(i, 1), n) - 1])


def iqr_bounds(values, r: float = 0.5, rule: str = "paper") -> tuple[float, float]:
    """Lower and upper bounds ``Q1 - r IQR`` and ``Q3 + r IQR`` (the paper's Eqs. 6-10).

    ``rule="paper"`` takes the quartiles as the order statistics of Eqs. 6-7; ``"numpy"`` uses
    ``numpy.percentile``'s linear interpolation instead.
    """
    v = np.sort(np.asarray(values, dtype=float).ravel())
    if v.size == 0:
        raise ValueError("iqr_bounds needs at least one value")
    if r < 0:
        raise ValueError(f"r={r} must be >= 0")
    if rule == "paper":
        q1, q3 = _order_statistic(v, 0.25), _order_statistic(v, 0.75)
    elif rule == "numpy":
        q1, q3 = (float(x) for x in np.percentile(v, [25, 75]))
    else:
        raise ValueError(f"rule={rule!r}: allowed are {QUARTILE_RULES}")
    iqr = q3 - q1
    return q1 - r * iqr, q3 + r * iqr


def iqr_outliers(values, r: float = 0.5, rule: str = "paper") -> np.ndarray:
    """Boolean mask of the values strictly above the upper IQR bound."""
    values = np.asarray(values, dtype=float)
    return values > iqr_bounds(values, r, rule)[1]


def knn_distance_score(X, k: int = 10) -> np.ndarray:
    """Distance to the k-th nearest other point (Ramaswamy, Rastogi & Shim 2000); larger = more outlying."""
    return knn(X, k)[1][:, -1].copy()


def precision_at_n(scores, is_outlier, n: int | None = None) -> float:
    """Share of true outliers among the ``n`` highest scores (``n`` = number of true outliers by default).

    Ties at the cut are broken by position (a stable sort), so the value is deterministic.
    """
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(is_outlier, dtype=bool)
    n = int(y.sum()) if n is None else int(n)
    if not 1 <= n <= len(y):
        raise ValueError(f"n={n} must be in [1, {len(y)}]")
    top = np.argsort(-scores, kind="stable")[:n]
    return float(y[top].mean())


def detection_prf(pred, is_outlier) -> tuple[float, float, float]:
    """Precision, recall and F1 of a binary outlier prediction (the paper's Eqs. 11-13); 0 when undefined."""
    pred = np.asarray(pred, dtype=bool)
    y = np.asarray(is_outlier, dtype=bool)
    tp = float(np.sum(pred & y))
    pr = tp / pred.sum() if pred.sum() else 0.0
    re = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * pr * re / (pr + re) if pr + re > 0 else 0.0
    return pr, re, f1
