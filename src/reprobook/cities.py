"""Synthetic "cities": adjacency graphs of areas and category layouts with a planted level of segregation.

A city is a graph whose nodes are areas (census tracts, wards) and whose edges join adjacent areas; each area
carries a category (say, the majority ethnic group). Real census maps are not available offline, so the book
builds stand-ins:

- :func:`delaunay_city` scatters area centroids uniformly in the unit square and joins two areas when their
  Voronoi cells touch, i.e. along the edges of the Delaunay triangulation (SciPy), a common model of the
  adjacency of irregular administrative units; :func:`grid_city` is the regular lattice alternative.
- :func:`clustered_labels` grows one contiguous blob per category from random seeds until every category
  holds its quota of areas (a fully segregated city, like the paper's Fig. 1b), and
  :func:`segregated_labels` reshuffles a fraction ``1 - level`` of the areas, so ``level = 0`` is a random
  layout with the same group sizes (Fig. 1a) and ``level = 1`` the clustered one.

The region growing is hand-written: no installed library grows quota-constrained blobs on a graph.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay

__all__ = ["delaunay_city", "grid_city", "category_quotas", "zipf_shares", "clustered_labels",
           "segregated_labels", "one_hot", "same_category_edge_share", "is_connected"]


def delaunay_city(n_areas: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_areas`` uniform random centroids in the unit square and the 0/1 adjacency of their Delaunay edges.

    Returns ``(points, A)`` with ``points`` of shape ``(n, 2)`` and ``A`` a symmetric ``(n, n)`` float array
    with a zero diagonal. The triangulation of points in general position is connected and planar.
    """
    if n_areas < 3:
        raise ValueError(f"n_areas={n_areas} must be at least 3 for a triangulation")
    points = rng.random((n_areas, 2))
    tri = Delaunay(points)
    A = np.zeros((n_areas, n_areas))
    s = tri.simplices
    for a, b in ((0, 1), (1, 2), (0, 2)):
        A[s[:, a], s[:, b]] = 1.0
        A[s[:, b], s[:, a]] = 1.0
    np.fill_diagonal(A, 0.0)
    return points, A


def grid_city(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``rows x cols`` lattice of square areas with 4-neighbour adjacency; centroids in the unit square."""
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f"grid {rows}x{cols} needs at least two cells")
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    points = np.column_stack([(c + 0.5) / cols, (r + 0.5) / rows])
    A = np.zeros((n, n))
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    A[right, right + 1] = A[right + 1, right] = 1.0
    A[down, down + cols] = A[down + cols, down] = 1.0
    return points, A


def zipf_shares(n_categories: int, exponent: float = 1.0) -> np.ndarray:
    """Group shares proportional to ``1 / k**exponent`` (k = 1..C): one majority and a tail of minorities."""
    k = np.arange(1, n_categories + 1, dtype=float)
    w = k ** -float(exponent)
    return w / w.sum()


def category_quotas(n_areas: int, shares) -> np.ndarray:
    """Integer area counts per category that sum to ``n_areas`` (largest remainder), each at least 1."""
    shares = np.asarray(shares, dtype=float)
    if shares.ndim != 1 or shares.size < 1 or np.any(shares < 0) or shares.sum() <= 0:
        raise ValueError(f"shares must be a non-empty vector of non-negative numbers, got {shares}")
    if shares.size > n_areas:
        raise ValueError(f"{shares.size} categories do not fit into {n_areas} areas")
    p = shares / shares.sum()
    raw = p * n_areas
    q = np.floor(raw).astype(int)
    order = np.argsort(-(raw - q), kind="stable")
    q[order[: n_areas - q.sum()]] += 1
    while np.any(q < 1):  # give every category at least one area, taken from the largest
        q[np.argmax(q)] -= 1
        q[np.argmin(q)] += 1
    return q


def clustered_labels(A: np.ndarray, quotas, rng: np.random.Generator) -> np.ndarray:
    """A fully segregated layout: one blob per category, grown from a random seed area, with exact quotas.

    At every step a category that still needs areas is chosen with probability proportional to its
    remaining quota, and it claims an unassigned neighbour of its blob, drawn with weight (number of its
    neighbours already in the blob) squared, which keeps blobs compact. A category whose blob is
    walled in by others restarts from a new random unassigned area (so a blob may come in pieces, as
    real enclaves do). ``labels[i]`` is the category of area ``i``; category ``c`` holds ``quotas[c]`` areas.
    """
    A = np.asarray(A)
    n = A.shape[0]
    quotas = np.asarray(quotas, dtype=int)
    if quotas.sum() != n or np.any(quotas < 0):
        raise ValueError(f"quotas {quotas.tolist()} must be non-negative and sum to the {n} areas")
    nbrs = [np.flatnonzero(A[i]) for i in range(n)]
    labels = np.full(n, -1)
    remaining = quotas.copy()
    frontier: list[set[int]] = [set() for _ in quotas]

    def claim(c: int, i: int) -> None:
        labels[i] = c
        remaining[c] -= 1
        for f in frontier:
            f.discard(i)
        for j in nbrs[i]:
            if labels[j] < 0:
                frontier[c].add(int(j))

    for c in range(len(quotas)):  # seeds
        if remaining[c] > 0:
            free = np.flatnonzero(labels < 0)
            claim(c, int(rng.choice(free)))
    while remaining.sum() > 0:
        c = int(rng.choice(len(quotas), p=remaining / remaining.sum()))
        if frontier[c]:
            options = np.array(sorted(frontier[c]))
            # favour areas with many neighbours already in the blob: compact, city-like clusters
            w = (A[options][:, labels == c] != 0).sum(axis=1).astype(float) ** 2
            claim(c, int(rng.choice(options, p=w / w.sum())))
        else:
            claim(c, int(rng.choice(np.flatnonzero(labels < 0))))
    return labels


def segregated_labels(clustered: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """Keep a share ``level`` of the areas' labels; shuffle the labels of the other ``1 - level`` among them.

    ``level = 1`` returns the clustered layout, ``level = 0`` a uniformly random permutation of it (the
    paper's "no spatial distinction" city and also its null model). Group sizes never change.
    """
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"segregation level {level} must be in [0, 1]")
    labels = np.array(clustered, copy=True)
    n = labels.size
    m = int(round((1.0 - level) * n))
    idx = rng.choice(n, size=m, replace=False)
    labels[idx] = labels[idx][rng.permutation(m)]
    return labels


def one_hot(labels, n_categories: int) -> np.ndarray:
    """``(n, C)`` 0/1 presence matrix: area ``i`` hosts category ``labels[i]`` only."""
    labels = np.asarray(labels, dtype=int)
    out = np.zeros((labels.size, n_categories))
    out[np.arange(labels.size), labels] = 1.0
    return out


def same_category_edge_share(A: np.ndarray, labels) -> float:
    """Share of edges that join two areas of the same category (1 = perfectly segregated)."""
    i, j = np.nonzero(np.triu(A, 1))
    labels = np.asarray(labels)
    return float(np.mean(labels[i] == labels[j]))


def is_connected(A: np.ndarray) -> bool:
    return connected_components(np.asarray(A) != 0, directed=False)[0] == 1
