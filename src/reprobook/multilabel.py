"""Multi-label learning helpers: label-set statistics, evaluation metrics, ML-kNN and a data generator
with planted label-set dependencies.

Labels are a binary indicator matrix ``Y`` of shape ``(n_samples, n_labels)`` throughout.

- :func:`label_stats`: label cardinality, label density and the number of distinct label sets.
- :func:`evaluate`: exact match (subset accuracy), Hamming loss, macro/micro F1 and label-ranking average
  precision (:func:`ranking_average_precision`), in NumPy, equal to scikit-learn's metrics.
- :class:`MLkNN`: the ML-kNN classifier of Zhang & Zhou (Pattern Recognition 40(7), 2007), written here
  because scikit-learn has no implementation (scikit-multilearn is not a dependency).
- :func:`planted_labelsets`: multi-label data whose label sets come from a small pool of "patterns" with
  probability ``rho`` (strong label dependence) and are otherwise drawn label by label; features mix an
  additive per-label part with a per-label-set centroid, so ``additive`` sets how far per-label linear
  decoders (binary relevance) can go.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _as_labels(Y: Any) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"labels must be a 2-d indicator matrix, got shape {Y.shape}")
    if not np.all((Y == 0) | (Y == 1)):
        raise ValueError("labels must be 0/1")
    return Y.astype(np.int8)


def label_stats(Y: Any) -> dict[str, float]:
    """Cardinality (mean labels per sample), density (cardinality / n_labels), distinct label sets,
    and the largest label-set size."""
    Y = _as_labels(Y)
    sizes = Y.sum(axis=1)
    return {"cardinality": float(sizes.mean()), "density": float(sizes.mean() / Y.shape[1]),
            "distinct": int(np.unique(Y, axis=0).shape[0]), "max_size": int(sizes.max())}


def ranking_average_precision(Y_true: Any, scores: Any, chunk: int = 2048) -> float:
    """Label-ranking average precision, vectorised (the same value as scikit-learn's
    ``label_ranking_average_precision_score``, ties included, which loops over samples in Python and
    dominated the run time of small experiments).

    For a relevant label ``j`` of sample ``i``: ``rank = |{k : s_ik >= s_ij}|`` and
    ``L = |{k relevant : s_ik >= s_ij}|``; the sample's value is the mean of ``L / rank`` over its
    relevant labels, and 1 when it has no relevant label or only relevant labels.
    """
    Y = _as_labels(Y_true).astype(bool)
    S = np.asarray(scores, dtype=float)
    if S.shape != Y.shape:
        raise ValueError(f"scores must have the labels' shape {Y.shape}, got {S.shape}")
    n, l = Y.shape
    per_sample = np.ones(n)
    for lo in range(0, n, chunk):
        y, s = Y[lo:lo + chunk], S[lo:lo + chunk]
        ge = s[:, None, :] >= s[:, :, None]  # ge[i, j, k]: s_ik >= s_ij
        rank = ge.sum(axis=2)
        L = (ge & y[:, None, :]).sum(axis=2)
        n_rel = y.sum(axis=1)
        ratio = np.where(y, L / rank, 0.0).sum(axis=1)
        ok = (n_rel > 0) & (n_rel < l)
        per_sample[lo:lo + chunk][ok] = ratio[ok] / n_rel[ok]
    return float(per_sample.mean())


def evaluate(Y_true: Any, Y_pred: Any, scores: Any | None = None) -> dict[str, float]:
    """The usual multi-label metrics, in NumPy (cross-checked against scikit-learn in the tests; its
    input validation costs more than the metrics themselves on small folds).

    ``exact_match``: fraction of samples whose predicted label set equals the true one (subset accuracy).
    ``hamming_loss``: fraction of wrong sample-label entries. ``macro_f1``: F1 per label, averaged over
    labels (a label with no true and no predicted positive counts as F1 = 0, scikit-learn's
    ``zero_division=0``). ``micro_f1``: F1 of all entries pooled. ``avg_precision``: label-ranking
    average precision of ``scores`` (higher = more relevant); omitted when ``scores`` is None.
    """
    Yt, Yp = _as_labels(Y_true).astype(bool), _as_labels(Y_pred).astype(bool)
    if Yt.shape != Yp.shape:
        raise ValueError(f"true and predicted labels differ in shape: {Yt.shape} vs {Yp.shape}")
    tp = (Yt & Yp).sum(axis=0).astype(float)
    fp = (~Yt & Yp).sum(axis=0).astype(float)
    fn = (Yt & ~Yp).sum(axis=0).astype(float)
    denom = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    pooled = 2 * tp.sum() + fp.sum() + fn.sum()
    out = {"exact_match": float(np.mean(np.all(Yt == Yp, axis=1))),
           "hamming_loss": float(np.mean(Yt != Yp)),
           "macro_f1": float(per_label.mean()),
           "micro_f1": float(2 * tp.sum() / pooled) if pooled > 0 else 0.0}
    if scores is not None:
        out["avg_precision"] = ranking_average_precision(Yt, scores)
    return out


class MLkNN:
    """ML-kNN (Zhang & Zhou, 2007): a MAP decision per label from the count of that label among the
    ``k`` nearest training neighbours, with Laplace smoothing ``s``.

    Training counts, for each label ``q`` and each ``j = 0..k``, how many training points with (and
    without) label ``q`` have exactly ``j`` neighbours carrying ``q`` (a point is not its own neighbour).
    A test point with count ``C_q`` gets label ``q`` when
    ``P(H1_q) P(C_q | H1_q) > P(H0_q) P(C_q | H0_q)``; :meth:`predict_proba` returns the posterior
    ``P(H1_q | C_q)``, used as the ranking score.
    """

    def __init__(self, k: int = 10, s: float = 1.0):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if s < 0:
            raise ValueError(f"s must be >= 0, got {s}")
        self.k, self.s = int(k), float(s)

    def _counts(self, idx: np.ndarray) -> np.ndarray:
        """Per sample and label: how many of the neighbours ``idx`` carry the label."""
        return self.Y_[idx].sum(axis=1)  # (n, k, L) -> (n, L)

    def fit(self, X: Any, Y: Any) -> "MLkNN":
        from sklearn.neighbors import NearestNeighbors

        X = np.asarray(X, dtype=float)
        Y = _as_labels(Y).astype(np.int64)
        n, L = Y.shape
        if n <= self.k:
            raise ValueError(f"ML-kNN needs more than k={self.k} training points, got {n}")
        k, s = self.k, self.s
        self.nn_ = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X)
        self.Y_ = Y
        # k+1 neighbours of each training point, then drop the point itself (first column when no
        # duplicates; in general remove its own index wherever it sits).
        _, idx = self.nn_.kneighbors(X)
        own = idx == np.arange(n)[:, None]
        has_own = own.any(axis=1)
        own[~has_own, -1] = True  # a duplicate displaced the point: drop the farthest instead
        idx = idx[~own].reshape(n, k)
        C = self._counts(idx)  # (n, L) in 0..k
        self.prior1_ = (s + Y.sum(axis=0)) / (2 * s + n)
        c1 = np.zeros((L, k + 1))
        c0 = np.zeros((L, k + 1))
        for q in range(L):
            c1[q] = np.bincount(C[Y[:, q] == 1, q], minlength=k + 1)
            c0[q] = np.bincount(C[Y[:, q] == 0, q], minlength=k + 1)
        self.like1_ = (s + c1) / (s * (k + 1) + c1.sum(axis=1, keepdims=True))
        self.like0_ = (s + c0) / (s * (k + 1) + c0.sum(axis=1, keepdims=True))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        _, idx = self.nn_.kneighbors(np.asarray(X, dtype=float), n_neighbors=self.k)
        C = self._counts(idx)
        q = np.arange(C.shape[1])[None, :]
        p1 = self.prior1_[None, :] * self.like1_[q, C]
        p0 = (1 - self.prior1_)[None, :] * self.like0_[q, C]
        with np.errstate(invalid="ignore", divide="ignore"):
            post = np.where(p1 + p0 > 0, p1 / (p1 + p0), 0.5)
        return post

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X) > 0.5).astype(np.int8)


def planted_labelsets(n: int, n_features: int, n_labels: int, *, n_patterns: int = 20, rho: float = 1.0,
                      additive: float = 0.0, mean_size: float = 2.0, noise: float = 1.0,
                      separation: float = 3.0, zipf: float = 1.0,
                      rng: np.random.Generator | int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Multi-label data with planted label-set structure.

    Label sets: a pool of ``n_patterns`` distinct label sets is drawn first (sizes ``1 + Poisson(mean_size
    - 1)``, capped at ``n_labels``; labels chosen with Zipf-like popularity ``1 / rank**zipf``). Each
    sample takes a pool pattern (pattern ``j`` with probability proportional to ``1 / (j+1)**zipf``) with
    probability ``rho``; otherwise a fresh label set is drawn the same way as a pattern, so that its labels
    co-occur only by popularity. Every sample has at least one label.

    Features: ``x = sqrt(additive) * W y / sqrt(|y|) + sqrt(1 - additive) * c(y) + noise * e`` with
    ``W`` a random ``n_features x n_labels`` matrix of columns of norm ``separation``, ``c(y)`` a random
    centroid of norm ``separation`` drawn once per distinct label set, and ``e`` standard normal. With
    ``additive = 1`` each label acts on the features on its own (binary relevance suffices); with
    ``additive = 0`` only the whole label set matters (label-set methods are favoured).

    Returns ``(X, Y)`` with ``X`` float64 ``(n, n_features)`` and ``Y`` int8 ``(n, n_labels)``.
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must be in [0, 1], got {rho}")
    if not 0.0 <= additive <= 1.0:
        raise ValueError(f"additive must be in [0, 1], got {additive}")
    if mean_size < 1:
        raise ValueError(f"mean_size must be >= 1, got {mean_size}")
    if n < 1 or n_features < 1 or n_labels < 1 or n_patterns < 1:
        raise ValueError("n, n_features, n_labels and n_patterns must be >= 1")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    popularity = 1.0 / np.arange(1, n_labels + 1) ** zipf
    popularity = popularity[rng.permutation(n_labels)]
    popularity /= popularity.sum()

    def draw_set() -> tuple[int, ...]:
        size = min(n_labels, 1 + int(rng.poisson(mean_size - 1)))
        return tuple(sorted(rng.choice(n_labels, size=size, replace=False, p=popularity).tolist()))

    pool: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    tries = 0
    while len(pool) < n_patterns and tries < 100 * n_patterns:
        tries += 1
        t = draw_set()
        if t not in seen:
            seen.add(t)
            pool.append(t)
    weights = 1.0 / np.arange(1, len(pool) + 1) ** zipf
    weights /= weights.sum()

    Y = np.zeros((n, n_labels), dtype=np.int8)
    from_pool = rng.random(n) < rho
    which = rng.choice(len(pool), size=n, p=weights)
    for i in range(n):
        labels = pool[which[i]] if from_pool[i] else draw_set()
        Y[i, list(labels)] = 1

    def unit_columns(m: int) -> np.ndarray:
        A = rng.standard_normal((n_features, m))
        return separation * A / np.linalg.norm(A, axis=0, keepdims=True)

    W = unit_columns(n_labels)
    sets, inverse = np.unique(Y, axis=0, return_inverse=True)
    centroids = unit_columns(sets.shape[0]).T  # one per distinct label set
    sizes = Y.sum(axis=1, keepdims=True).astype(float)
    X = (np.sqrt(additive) * (Y @ W.T) / np.sqrt(sizes)
         + np.sqrt(1.0 - additive) * centroids[inverse.ravel()]
         + noise * rng.standard_normal((n, n_features)))
    return X, Y
