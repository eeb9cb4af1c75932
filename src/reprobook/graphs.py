"""Graphs and hypergraphs built from data points, and their Laplacians (dense NumPy, for a few thousand points).

Graph-based semi-supervised learning (LapSVM, hypergraph SVMs, label propagation, ...) needs the same small
set of matrices: a k-nearest-neighbour graph with heat-kernel weights, its Laplacian, a hypergraph with one
hyperedge per vertex (the vertex and its nearest neighbours), and the normalised hypergraph Laplacian of
Zhou, Huang & Schölkopf (NIPS 2006). scikit-learn and SciPy give the neighbour search and the graph
Laplacian; the hypergraph part is hand-written because no maintained library offers it in this form.

Everything is dense: the chapters that use this module have at most a few thousand points, and the
semi-supervised solvers need dense kernel products anyway.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import laplacian as _csgraph_laplacian
from sklearn.neighbors import NearestNeighbors

__all__ = ["knn_indices", "heat_width", "knn_heat_graph", "graph_laplacian", "knn_hyperedges",
           "hyperedge_weights", "hypergraph_laplacian", "knn_adjacency", "epsilon_adjacency",
           "epsilon_for_mean_degree", "modularity"]


def knn_indices(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each point's ``k`` nearest neighbours, the point itself excluded.

    Ties are broken by scikit-learn's brute-force search (by index), so the result is deterministic.
    """
    X = np.asarray(X, dtype=float)
    if not 1 <= k < len(X):
        raise ValueError(f"k={k} must be in [1, n_points - 1] = [1, {len(X) - 1}]")
    dist, idx = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X).kneighbors(X)
    # The first neighbour is normally the point itself; with duplicate points it may not be, so drop self
    # explicitly and keep the k nearest others.
    out_i = np.empty((len(X), k), dtype=int)
    out_d = np.empty((len(X), k))
    for r in range(len(X)):
        keep = idx[r] != r
        out_i[r], out_d[r] = idx[r][keep][:k], dist[r][keep][:k]
    return out_i, out_d


def heat_width(X: np.ndarray, k: int) -> float:
    """A data-driven heat-kernel width: the mean squared distance from a point to its ``k`` nearest neighbours.

    With ``w = exp(-d^2 / t)`` and this ``t`` a typical neighbour gets weight ``exp(-1)``; it removes the
    need to tune ``t`` per dataset (the paper does not say how it set its widths).
    """
    _, dist = knn_indices(X, k)
    return float(np.mean(dist ** 2))


def knn_heat_graph(X: np.ndarray, k: int, t: float | None = None) -> np.ndarray:
    """Symmetric kNN adjacency with heat-kernel weights ``w_ij = exp(-||x_i - x_j||^2 / t)``.

    ``i`` and ``j`` are joined when either is among the other's ``k`` nearest neighbours (the usual
    "or" symmetrisation, as ``kneighbors_graph`` followed by ``maximum(A, A.T)``). ``t=None`` uses
    :func:`heat_width`. The diagonal is zero.
    """
    X = np.asarray(X, dtype=float)
    idx, dist = knn_indices(X, k)
    t = heat_width(X, k) if t is None else float(t)
    if t <= 0:
        raise ValueError(f"heat width t={t} must be positive")
    W = np.zeros((len(X), len(X)))
    rows = np.repeat(np.arange(len(X)), k)
    W[rows, idx.ravel()] = np.exp(-dist.ravel() ** 2 / t)
    return np.maximum(W, W.T)


def graph_laplacian(W: np.ndarray, normalised: bool = False) -> np.ndarray:
    """``L = D - W`` (``normalised=False``) or ``I - D^{-1/2} W D^{-1/2}`` (symmetric normalisation).

    Delegates to :func:`scipy.sparse.csgraph.laplacian`, which leaves isolated vertices' rows at zero in
    the normalised case.
    """
    W = np.asarray(W, dtype=float)
    if W.shape[0] != W.shape[1] or not np.allclose(W, W.T):
        raise ValueError("W must be a symmetric square matrix")
    return np.asarray(_csgraph_laplacian(W, normed=normalised), dtype=float)


def knn_hyperedges(X: np.ndarray, k: int) -> np.ndarray:
    """Incidence matrix ``F`` (vertices x hyperedges) with one hyperedge per vertex: itself and its ``k`` NN.

    ``F[v, e] = 1`` when vertex ``v`` belongs to hyperedge ``e``; hyperedge ``e`` is centred on vertex ``e``,
    so every hyperedge has ``k + 1`` vertices. This is the construction of Zhou et al. (2006) and of most
    hypergraph SVMs; duplicate hyperedges (two vertices with the same neighbourhood) are kept.
    """
    idx, _ = knn_indices(X, k)
    n = len(idx)
    F = np.zeros((n, n))
    F[np.arange(n), np.arange(n)] = 1.0
    F[idx.ravel(), np.repeat(np.arange(n), k)] = 1.0
    return F


def hyperedge_weights(X: np.ndarray, F: np.ndarray, mu: float) -> np.ndarray:
    """Hyperedge weights ``w(e) = 1/(delta(e)(delta(e)-1)) * sum_{i != j in e} exp(-||x_i - x_j||^2 / mu)``.

    The sum runs over ordered pairs, so ``w(e)`` is the mean pairwise heat-kernel affinity inside ``e`` and
    lies in ``(0, 1]``. (The paper writes the pairs as sets; summing unordered pairs halves every weight,
    which leaves Zhou's normalised Laplacian unchanged, see :func:`hypergraph_laplacian`.) A hyperedge with
    one vertex gets weight 1.
    """
    X = np.asarray(X, dtype=float)
    if mu <= 0:
        raise ValueError(f"mu={mu} must be positive")
    sq = np.sum(X ** 2, axis=1)
    A = np.exp(-np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0) / mu)
    np.fill_diagonal(A, 0.0)
    F = np.asarray(F, dtype=float)
    delta = F.sum(axis=0)
    pair_sum = np.einsum("ve,vu,ue->e", F, A, F)  # sum over ordered pairs (v, u), v != u, both in e
    with np.errstate(invalid="ignore", divide="ignore"):
        w = pair_sum / (delta * (delta - 1))
    return np.where(delta > 1, w, 1.0)


def hypergraph_laplacian(F: np.ndarray, w: np.ndarray, normalised: bool = True) -> np.ndarray:
    """Hypergraph Laplacian from incidence ``F`` (vertices x edges) and edge weights ``w``.

    ``normalised=True`` (Zhou et al. 2006, the paper's Eq. 8)::

        H = I - D_v^{-1/2} F W D_e^{-1} F^T D_v^{-1/2}

    with ``D_v = diag(F w)`` the vertex degrees, ``D_e = diag(F^T 1)`` the edge sizes and ``W = diag(w)``.
    Its eigenvalues lie in ``[0, 1]`` (the subtracted matrix is PSD with largest eigenvalue 1, attained by
    ``D_v^{1/2} 1``), and it does not change when all weights are multiplied by one constant. For a graph
    (every edge of size 2) it equals half the normalised graph Laplacian.

    ``normalised=False`` gives the paper's Eq. 7, ``D_v - F W D_e^{-1} F^T``, whose rows sum to zero.
    """
    F = np.asarray(F, dtype=float)
    w = np.asarray(w, dtype=float)
    if F.ndim != 2 or w.shape != (F.shape[1],):
        raise ValueError(f"F must be (vertices, edges) and w (edges,), got {F.shape} and {w.shape}")
    dv = F @ w
    de = F.sum(axis=0)
    if np.any(dv <= 0) or np.any(de <= 0):
        raise ValueError("every vertex needs positive degree and every hyperedge at least one vertex")
    theta = (F * (w / de)) @ F.T
    if not normalised:
        return np.diag(dv) - theta
    s = 1.0 / np.sqrt(dv)
    H = np.eye(len(dv)) - s[:, None] * theta * s[None, :]
    return (H + H.T) / 2  # exact symmetry despite rounding


# --- Sparse 0/1 graph constructions and modularity (chapter icpr2024-09) ---------------------------------


def knn_adjacency(X: np.ndarray, k: int, mode: str = "union"):
    """Unweighted symmetric kNN graph as a SciPy CSR matrix with 0/1 entries and an empty diagonal.

    ``mode="union"``: ``i`` and ``j`` are joined when either is among the other's ``k`` nearest neighbours
    (the usual kNN graph, as ``kneighbors_graph`` then ``maximum(A, A.T)``); ``mode="mutual"``: only when
    each is among the other's (the mutual kNN graph, a subgraph of the union graph).
    """
    import scipy.sparse as sp

    if mode not in ("union", "mutual"):
        raise ValueError(f"mode={mode!r}: allowed are 'union' and 'mutual'")
    idx, _ = knn_indices(X, k)
    n = len(idx)
    B = sp.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    A = B.maximum(B.T) if mode == "union" else B.minimum(B.T)
    A = A.tocsr()
    A.eliminate_zeros()
    return A


def epsilon_adjacency(X: np.ndarray, eps: float):
    """Unweighted epsilon-neighbourhood graph (CSR, 0/1): ``i != j`` joined when ``||x_i - x_j|| <= eps``."""
    from sklearn.neighbors import radius_neighbors_graph

    if not eps > 0:
        raise ValueError(f"eps={eps} must be positive")
    A = radius_neighbors_graph(np.asarray(X, dtype=float), eps, mode="connectivity", include_self=False)
    A = A.maximum(A.T).tocsr()
    A.eliminate_zeros()
    return A


def epsilon_for_mean_degree(X: np.ndarray, degree: float) -> float:
    """The radius at which the epsilon graph has (about) the given mean degree.

    It is the ``degree / (n - 1)`` quantile of the pairwise distances (lower interpolation, so the graph
    at that radius has at least ``degree * n / 2`` edges when there are no ties). A label-free rule to
    put the epsilon graph on the same edge budget as a kNN graph.
    """
    from scipy.spatial.distance import pdist

    X = np.asarray(X, dtype=float)
    n = len(X)
    if not 0 < degree <= n - 1:
        raise ValueError(f"degree={degree} must be in (0, n - 1] = (0, {n - 1}]")
    d = np.sort(pdist(X))
    m = int(np.ceil(degree * n / 2))  # number of edges wanted
    return float(d[min(m, d.size) - 1])


def modularity(A, labels) -> float:
    """Newman's modularity of a partition of an undirected graph (weights allowed, no self-loops needed).

    ``Q = 1/(2m) sum_ij [A_ij - k_i k_j / (2m)] delta(c_i, c_j)`` with ``k`` the (weighted) degrees and
    ``2m = sum_ij A_ij``. Computed per community as ``sum_c [L_c / (2m) - (K_c / (2m))^2]`` where ``L_c``
    sums ``A_ij`` over ordered pairs inside ``c`` and ``K_c`` the degrees in ``c``. A graph without edges
    has ``Q = 0`` by convention. ``A`` may be dense or SciPy sparse; it must be symmetric.
    """
    import scipy.sparse as sp

    A = sp.csr_matrix(A, dtype=float)
    labels = np.asarray(labels)
    if A.shape[0] != A.shape[1] or A.shape[0] != labels.size:
        raise ValueError(f"A must be square with one label per vertex, got {A.shape} and {labels.size} labels")
    if abs(A - A.T).sum() > 1e-9 * max(1.0, abs(A).sum()):
        raise ValueError("A must be symmetric (an undirected graph)")
    two_m = float(A.sum())
    if two_m == 0:
        return 0.0
    _, c = np.unique(labels, return_inverse=True)
    deg = np.asarray(A.sum(axis=1)).ravel()
    coo = A.tocoo()
    inside = np.bincount(c[coo.row], weights=coo.data * (c[coo.row] == c[coo.col]), minlength=c.max() + 1)
    K = np.bincount(c, weights=deg, minlength=c.max() + 1)
    return float(np.sum(inside / two_m - (K / two_m) ** 2))
