"""Minimum cost (lifted) multicuts on embedding graphs: graphs, edge costs, solvers and an exact oracle.

The problem (Ho 2023, Eq. 1.8-1.9): given a graph ``G = (V, E)`` and real costs ``c_e``, choose edge
labels ``y_e`` in {0, 1} (1 = cut) that form a decomposition of ``G`` (cycle inequalities) and minimise
``sum_e c_e y_e``. **Sign convention, used everywhere in this module: a positive cost is attractive (the
pair wants to be joined, cutting it costs ``c_e``), a negative cost is repulsive.** This is also
bioimage-cpp's convention. The energy of a node labelling is the summed cost of the edges whose ends get
different labels (:func:`multicut_energy`); the all-singletons labelling has energy ``sum(c_e)`` over all
edges, joining everything has energy 0.

* Graphs from embeddings: :func:`knn_edges` (scikit-learn ``NearestNeighbors``) and
  :func:`complete_edges` (optionally sparsified at random, the thesis' "sparsity").
* Costs: :func:`costs_from_distances` (``c = tau - d``) and :func:`costs_from_probabilities` (the logit of
  the join probability, plus a bias that moves the join/cut boundary). With a logistic cut probability
  ``p = sigma(w (d - tau))`` the two agree up to the factor ``w > 0``, which does not change the optimum.
  :func:`fit_distance_threshold` learns ``tau`` (and ``w``) from labelled pairs by logistic regression.
* Solvers: :func:`solve_multicut` and :func:`solve_lifted_multicut` call bioimage-cpp's greedy additive
  edge contraction (GAEC), Kernighan-Lin (KL), GAEC followed by KL, and greedy fixation.
* Exact oracle for small graphs: :func:`exact_multicut`, an integer program with scipy's ``milp`` (HiGHS).

Every entry point checks its input first (nodes out of range, self-loops, duplicate edges, NaN or
infinite costs, mismatched lengths, an empty graph) and raises a one-line ``ValueError``/``TypeError``
before any solver is called. bioimage-cpp's ``load_*`` helpers download data and are never used here.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = [
    "SOLVERS", "LIFTED_SOLVERS", "check_problem", "knn_edges", "complete_edges", "costs_from_distances",
    "costs_from_probabilities", "fit_distance_threshold", "canonical_labels", "multicut_energy",
    "lifted_energy", "solve_multicut", "solve_lifted_multicut", "exact_multicut", "embedding_blobs",
]

SOLVERS = ("gaec", "kl", "gaec+kl", "greedy-fixation", "greedy-fixation+kl")
LIFTED_SOLVERS = ("gaec", "kl", "gaec+kl")


# ----------------------------------------------------------------------------------------------- checks
def _as_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_problem(n_nodes, edges, costs, *, what: str = "edge") -> tuple[int, np.ndarray, np.ndarray]:
    """Validate a multicut instance and return it as ``(n, uv int64 (m, 2), costs float64 (m,))``.

    Errors (one line each): no nodes; ``edges`` not of shape (m, 2) or not integer; a node outside
    ``[0, n)``; a self-loop; the same pair twice (in either order); ``costs`` not 1-D or of another length
    than ``edges``; a NaN or infinite cost. A graph with nodes but no edges is valid (every node is its
    own cluster).
    """
    n = _as_int("n_nodes", n_nodes)
    if n < 1:
        raise ValueError(f"empty graph: n_nodes={n}; a multicut needs at least one node")
    uv = np.asarray(edges)
    if uv.size == 0:
        uv = uv.reshape(0, 2)
    if uv.ndim != 2 or uv.shape[1] != 2:
        raise ValueError(f"{what}s must be an array of shape (m, 2), got shape {uv.shape}")
    if uv.dtype.kind not in "iu":
        if uv.dtype.kind == "f" and np.all(np.isfinite(uv)) and np.all(uv == np.round(uv)):
            uv = uv.astype(np.int64)
        else:
            raise TypeError(f"{what}s must hold integer node ids, got dtype {uv.dtype}")
    uv = uv.astype(np.int64, copy=False)
    try:
        c = np.asarray(costs, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} costs must be numbers, got {type(costs).__name__} {str(costs)[:40]}") from None
    if c.ndim != 1:
        raise ValueError(f"{what} costs must be a 1-D array, got shape {c.shape}")
    if len(c) != len(uv):
        raise ValueError(f"{len(uv)} {what}s but {len(c)} costs: need one cost per {what}")
    if len(uv):
        bad = (uv < 0) | (uv >= n)
        if bad.any():
            i = int(np.flatnonzero(bad.any(1))[0])
            raise ValueError(f"{what} {i} = {tuple(uv[i].tolist())} names a node outside [0, {n})")
        loops = uv[:, 0] == uv[:, 1]
        if loops.any():
            i = int(np.flatnonzero(loops)[0])
            raise ValueError(f"{what} {i} = {tuple(uv[i].tolist())} is a self-loop; edges must join two different nodes")
        key = np.minimum(uv[:, 0], uv[:, 1]) * n + np.maximum(uv[:, 0], uv[:, 1])
        uniq, counts = np.unique(key, return_counts=True)
        if (counts > 1).any():
            k = int(uniq[counts > 1][0])
            raise ValueError(f"the pair ({k // n}, {k % n}) appears {int(counts[counts > 1][0])} times; "
                             f"give each {what} once (sum the costs of parallel edges)")
        finite = np.isfinite(c)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"{what} cost {i} is {c[i]}; costs must be finite (clip probabilities before the logit)")
    return n, uv, np.ascontiguousarray(c, dtype=np.float64)


def _check_embeddings(Z) -> np.ndarray:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or len(Z) == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array (points x features), got shape {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("embeddings contain NaN or infinite values")
    return Z


# ----------------------------------------------------------------------------------------------- graphs
def knn_edges(Z, k: int, *, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Symmetric k-nearest-neighbour graph: ``(uv, d)``, each pair once with ``u < v``, sorted.

    A pair is an edge when either point is among the other's ``k`` nearest neighbours (scikit-learn's
    exact ``NearestNeighbors``; the point itself is not its own neighbour). ``k`` is capped at ``n - 1``.
    """
    from sklearn.neighbors import NearestNeighbors

    Z = _check_embeddings(Z)
    k = _as_int("k", k)
    if k < 1:
        raise ValueError(f"k={k}: the number of neighbours must be >= 1")
    n = len(Z)
    k = min(k, n - 1)
    if k == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    dist, idx = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(Z).kneighbors(Z)
    # Duplicate points may push the point itself out of column 0, so drop "self" wherever it is and
    # keep the first k others.
    rows = np.repeat(np.arange(n), k + 1).reshape(n, k + 1)
    other = idx != rows
    keep = other & (np.cumsum(other, axis=1) <= k)
    u, v, d = rows[keep], idx[keep], dist[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key, first = np.unique(lo * n + hi, return_index=True)
    return np.stack([key // n, key % n], 1).astype(np.int64), d[first].astype(float)


def complete_edges(Z, *, sparsity: float = 1.0, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``u < v`` with Euclidean distances, or a random share ``sparsity`` of them (the thesis'
    sparsity: 1.0 is the complete graph, 0.01 keeps 1 % of the edges). ``rng``: a seed or a Generator."""
    Z = _check_embeddings(Z)
    if not (isinstance(sparsity, (int, float)) and 0 < sparsity <= 1):
        raise ValueError(f"sparsity={sparsity!r}: the share of edges kept must be in (0, 1]")
    n = len(Z)
    iu, ju = np.triu_indices(n, 1)
    if sparsity < 1:
        keep = np.random.default_rng(rng).random(len(iu)) < sparsity
        iu, ju = iu[keep], ju[keep]
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, one matrix product instead of a (m, d) difference array
    sq = np.einsum("ij,ij->i", Z, Z)
    G = Z @ Z.T
    d2 = sq[iu] + sq[ju] - 2.0 * G[iu, ju]
    return np.stack([iu, ju], 1).astype(np.int64), np.sqrt(np.maximum(d2, 0.0))


# ------------------------------------------------------------------------------------------------ costs
def costs_from_distances(d, tau: float) -> np.ndarray:
    """``c = tau - d``: pairs closer than ``tau`` attract (positive cost), farther pairs repel."""
    d = np.asarray(d, dtype=float)
    if not np.isfinite(tau):
        raise ValueError(f"tau={tau!r} must be a finite number")
    if not np.all(np.isfinite(d)):
        raise ValueError("distances contain NaN or infinite values")
    return float(tau) - d


def costs_from_probabilities(p_cut, *, bias: float = 0.5, eps: float = 1e-6) -> np.ndarray:
    """Edge costs from cut probabilities by the logit (Ho 2023, Sect. 1.3.3 and 4.4.4).

    ``c = log((1 - p) / p) + log(bias / (1 - bias))``. The first term is the logit of the *join*
    probability, positive when a cut is unlikely (our sign convention). The bias moves the boundary:
    ``c = 0`` exactly at ``p = bias``, so ``bias = 0.5`` is the plain logit and a smaller bias makes
    cutting cheaper (more, smaller clusters). Probabilities are clipped to ``[eps, 1 - eps]`` so that
    certain pairs get large but finite costs.
    """
    p = np.asarray(p_cut, dtype=float)
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("cut probabilities must be finite and in [0, 1]")
    if not 0 < bias < 1:
        raise ValueError(f"bias={bias!r} must be in (0, 1)")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps={eps!r} must be in (0, 0.5)")
    p = np.clip(p, eps, 1 - eps)
    return np.log1p(-p) - np.log(p) + np.log(bias) - np.log1p(-bias)


def fit_distance_threshold(d, same_class) -> tuple[float, float]:
    """Learn the cut threshold from labelled pairs: a logistic regression of "different class" on the
    distance, ``p_cut = sigma(w (d - tau))``. Returns ``(tau, w)``; costs ``tau - d`` give the same
    optimum as the logit costs ``w (tau - d)`` (a positive factor does not move the minimiser)."""
    from sklearn.linear_model import LogisticRegression

    d = np.asarray(d, dtype=float).reshape(-1, 1)
    same = np.asarray(same_class).astype(bool).ravel()
    if len(d) != len(same) or len(d) == 0:
        raise ValueError(f"need one same-class flag per distance, got {len(d)} distances and {len(same)} flags")
    if same.all() or (~same).all():
        raise ValueError("need both same-class and different-class pairs to fit a threshold")
    model = LogisticRegression(C=1e6).fit(d, (~same).astype(int))
    w, b = float(model.coef_[0, 0]), float(model.intercept_[0])
    if w <= 0:
        raise ValueError(f"the fitted slope is {w:.3g}: different-class pairs are not farther apart than same-class ones")
    return -b / w, w


# --------------------------------------------------------------------------------------------- energies
def canonical_labels(labels) -> np.ndarray:
    """Labels renumbered 0, 1, ... in order of first appearance (so equal partitions compare equal)."""
    labels = np.asarray(labels)
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inv.ravel()]


def multicut_energy(edges, costs, labels) -> float:
    """``sum_e c_e y_e`` with ``y_e = 1`` where the edge's ends carry different labels."""
    uv = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    labels = np.asarray(labels)
    cut = labels[uv[:, 0]] != labels[uv[:, 1]]
    return float(np.asarray(costs, dtype=float)[cut].sum())


def _components(n: int, uv: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = uv[mask]
    adj = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(adj, directed=False)[1]


def lifted_energy(edges, costs, lifted_edges, lifted_costs, labels) -> float:
    """Lifted multicut energy of the decomposition that ``labels`` induce on the base graph.

    Lifted edges do not change which decompositions are feasible: a labelling is first turned into the
    connected components of the base graph after removing its cut edges (so a cluster that is not
    connected in the base graph counts as several), then base and lifted edges whose ends lie in
    different components are summed.
    """
    uv = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    luv = np.asarray(lifted_edges, dtype=np.int64).reshape(-1, 2)
    labels = np.asarray(labels)
    comp = _components(len(labels), uv, labels[uv[:, 0]] == labels[uv[:, 1]])
    return multicut_energy(uv, costs, comp) + multicut_energy(luv, lifted_costs, comp)


# ---------------------------------------------------------------------------------------------- solvers
def _bic_graph(n: int, uv: np.ndarray):
    import bioimage_cpp as bic

    g = bic.graph.undirected_graph(n)
    if len(uv):
        g.insert_edges(np.ascontiguousarray(uv, dtype=np.uint64))
    return g


def solve_multicut(n_nodes, edges, costs, *, solver: str = "gaec+kl", initial_labels=None) -> np.ndarray:
    """Node labels (0 .. K-1, by first appearance) of a minimum cost multicut found by bioimage-cpp.

    ``solver``: ``"gaec"`` (greedy additive edge contraction), ``"kl"`` (Kernighan-Lin with joins, started
    from ``initial_labels``; without them bioimage-cpp starts it from GAEC, so it equals ``"gaec+kl"``),
    ``"gaec+kl"``, ``"greedy-fixation"`` or ``"greedy-fixation+kl"``. All are heuristics: their energy is
    never below the optimum (:func:`exact_multicut`) and equals it on easy instances.
    """
    n, uv, c = check_problem(n_nodes, edges, costs)
    if solver not in SOLVERS:
        raise ValueError(f"solver={solver!r}: allowed are {SOLVERS}")
    if len(uv) == 0:
        return np.arange(n, dtype=np.int64)
    if initial_labels is not None:
        initial_labels = np.asarray(initial_labels)
        if initial_labels.shape != (n,):
            raise ValueError(f"initial_labels must have one label per node ({n}), got shape {initial_labels.shape}")
        initial_labels = canonical_labels(initial_labels).astype(np.uint64)
    from bioimage_cpp.graph import multicut as mc

    parts = {"gaec": mc.GreedyAdditiveMulticut, "kl": mc.KernighanLinMulticut,
             "greedy-fixation": mc.GreedyFixationMulticut}
    chain = [parts[s]() for s in solver.split("+")]
    algo = chain[0] if len(chain) == 1 else mc.ChainedMulticutSolvers(chain)
    objective = mc.MulticutObjective(_bic_graph(n, uv), c, initial_labels=initial_labels)
    return canonical_labels(np.asarray(algo.optimize(objective)))


def solve_lifted_multicut(n_nodes, edges, costs, lifted_edges, lifted_costs, *,
                          solver: str = "gaec+kl") -> np.ndarray:
    """Node labels of a lifted multicut (Eq. 1.10-1.13) found by bioimage-cpp's lifted GAEC / KL.

    ``edges``/``costs`` form the base graph (which decompositions are allowed); ``lifted_edges``/
    ``lifted_costs`` are extra pairs, not in the base graph, that only contribute costs. The returned
    clusters are connected in the base graph.
    """
    n, uv, c = check_problem(n_nodes, edges, costs)
    _, luv, lc = check_problem(n, lifted_edges, lifted_costs, what="lifted edge")
    if solver not in LIFTED_SOLVERS:
        raise ValueError(f"solver={solver!r}: allowed are {LIFTED_SOLVERS}")
    if len(uv) and len(luv):
        base = set((np.minimum(uv[:, 0], uv[:, 1]) * n + np.maximum(uv[:, 0], uv[:, 1])).tolist())
        both = [k for k in (np.minimum(luv[:, 0], luv[:, 1]) * n + np.maximum(luv[:, 0], luv[:, 1])).tolist() if k in base]
        if both:
            raise ValueError(f"lifted edge ({both[0] // n}, {both[0] % n}) is also a base edge; "
                             "put its cost on the base edge instead")
    if len(uv) == 0:
        return np.arange(n, dtype=np.int64)
    from bioimage_cpp.graph import lifted_multicut as lmc

    parts = {"gaec": lmc.LiftedGreedyAdditiveMulticut, "kl": lmc.LiftedKernighanLinMulticut}
    chain = [parts[s]() for s in solver.split("+")]
    algo = chain[0] if len(chain) == 1 else lmc.LiftedChainedSolvers(chain)
    kwargs = dict(lifted_uvs=np.ascontiguousarray(luv, dtype=np.uint64), lifted_costs=lc) if len(luv) else {}
    objective = lmc.LiftedMulticutObjective(_bic_graph(n, uv), c, **kwargs)
    return canonical_labels(np.asarray(algo.optimize(objective)))


# ------------------------------------------------------------------------------------------ exact oracle
def exact_multicut(n_nodes, edges, costs, *, max_nodes: int = 30, time_limit: float = 60.0) -> tuple[np.ndarray, float]:
    """An optimal multicut by integer linear programming (scipy ``milp``, HiGHS): ``(labels, energy)``.

    One binary variable per pair of nodes (1 = different clusters) and the triangle inequalities
    ``x_ij <= x_ik + x_jk`` for all triples: these describe exactly the partitions of the node set. The
    objective sums the costs of the graph's edges only. This equals the multicut problem on any graph:
    an optimal partition whose cluster is disconnected in the graph can be split into its connected
    pieces at no extra cost (no edge runs between them), so the optimum values coincide. The number of
    constraints grows as ``n^3``, hence ``max_nodes``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    n, uv, c = check_problem(n_nodes, edges, costs)
    if n > max_nodes:
        raise ValueError(f"exact_multicut is for small graphs: n_nodes={n} > max_nodes={max_nodes}")
    if n == 1:
        return np.zeros(1, dtype=np.int64), 0.0
    pairs = list(combinations(range(n), 2))
    index = {p: i for i, p in enumerate(pairs)}
    obj = np.zeros(len(pairs))
    for (u, v), cost in zip(uv.tolist(), c.tolist()):
        obj[index[(min(u, v), max(u, v))]] += cost
    rows, cols, vals = [], [], []
    r = 0
    for i, j, k in combinations(range(n), 3):
        a, b, e = index[(i, j)], index[(i, k)], index[(j, k)]
        for lhs, r1, r2 in ((a, b, e), (b, a, e), (e, a, b)):  # x_lhs - x_r1 - x_r2 <= 0
            rows += [r, r, r]
            cols += [lhs, r1, r2]
            vals += [1.0, -1.0, -1.0]
            r += 1
    constraints = []
    if r:
        A = coo_matrix((vals, (rows, cols)), shape=(r, len(pairs))).tocsr()
        constraints.append(LinearConstraint(A, -np.inf, 0.0))
    res = milp(obj, integrality=np.ones(len(pairs)), bounds=Bounds(0, 1), constraints=constraints,
               options={"time_limit": time_limit})
    if res.x is None or res.status != 0:
        raise RuntimeError(f"the exact solver did not finish: {res.message}")
    joined = np.array([p for p, x in zip(pairs, res.x) if x < 0.5], dtype=np.int64).reshape(-1, 2)
    labels = canonical_labels(_components(n, joined, np.ones(len(joined), bool)))
    return labels, multicut_energy(uv, c, labels)


# ------------------------------------------------------------------------------------------------- data
def embedding_blobs(n: int, n_classes: int = 10, dim: int = 32, *, radius: float = 1.2, sigma: float = 0.08,
                    hard: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in for learned embeddings: ``n`` points in ``n_classes`` Gaussian blobs, ``(Z, y)``.

    Class centres are random directions scaled to ``radius``; points add isotropic noise of standard
    deviation ``sigma`` per coordinate, so a same-class distance is about ``sigma * sqrt(2 dim)`` and a
    different-class one about ``sqrt(2 radius^2 + 2 sigma^2 dim)``. The defaults put typical same-class
    distances (0.64) below and different-class ones (1.8) above the TL3 threshold ``sqrt(0.6) = 0.775``
    (Ho 2023, Eq. 2.5); a larger ``sigma`` makes the classes overlap. A share ``hard`` of the points are
    hard examples, as a real embedding has them: each is moved from its centre a uniform fraction in
    ``[0, 0.5)`` of the way towards another, random class's centre (so it stays nearer its own).
    Labels are balanced up to one point.
    """
    n, n_classes, dim = _as_int("n", n), _as_int("n_classes", n_classes), _as_int("dim", dim)
    if n < 1 or n_classes < 1 or dim < 1:
        raise ValueError(f"n={n}, n_classes={n_classes}, dim={dim}: all must be >= 1")
    if not (radius > 0 and sigma >= 0):
        raise ValueError(f"radius={radius!r} must be > 0 and sigma={sigma!r} >= 0")
    if not 0 <= hard <= 1:
        raise ValueError(f"hard={hard!r}: the share of hard examples must be in [0, 1]")
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    centres *= radius / np.linalg.norm(centres, axis=1, keepdims=True)
    y = rng.permutation(np.arange(n) % n_classes)
    Z = centres[y] + rng.normal(scale=sigma, size=(n, dim))
    is_hard = rng.random(n) < hard
    if n_classes > 1 and is_hard.any():
        other = (y + rng.integers(1, n_classes, n)) % n_classes  # a class other than y
        frac = rng.uniform(0.0, 0.5, n)[:, None]
        Z[is_hard] += (frac * (centres[other] - centres[y]))[is_hard]
    return Z, y
