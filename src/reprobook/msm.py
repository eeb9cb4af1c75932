"""MSM, multi-stage multicuts (Ho 2023, ch. 3; Ho et al., ISC 2021): cluster many embeddings by solving
many small multicuts in parallel and merging their clusters through centroids.

Stage 1 splits the points at random into ``S_1`` equal parts; each part becomes a graph over its points
(complete, randomly sparsified, or kNN) with costs ``tau - d`` and is solved on its own. Every later stage
``k`` gathers the clusters of consecutive groups of the previous stage's parts (``S_k < S_{k-1}`` groups,
Eq. 3.1), represents each cluster by its centroid (the mean embedding of its member points, Eq. 3.4), and
solves a multicut over those centroids. The last stage has one part. Final labels are pushed back to the
points through the chain of lookup tables (the thesis' ``h^{-1}``): here one integer array per stage.

A stage's parts run in worker processes (:func:`worker_pool`; each worker is held to one BLAS thread) or,
with ``n_jobs=1``, one after the other in this process. With ``stages=(1,)`` the same code is one global
solve, so MSM and its baseline share the graph construction and the solver and are timed alike.

:func:`bound_h` is the thesis' complexity factor ``h(p, L)`` of Eq. 3.25 and :func:`cubic_work` the work
proxy ``sum_i n_i^2 (n_i - 1) / 2`` it bounds.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np

from .multicut import (SOLVERS, canonical_labels, complete_edges, costs_from_distances, knn_edges,
                       solve_multicut)

__all__ = ["GraphSpec", "StageStats", "MSMResult", "msm", "worker_pool", "bound_h", "cubic_work"]

GRAPH_KINDS = ("complete", "knn")


@dataclass(frozen=True)
class GraphSpec:
    """How one part's multicut problem is built and solved.

    ``kind="complete"`` takes all pairs, of which a random share ``sparsity`` is kept; ``kind="knn"`` takes
    the symmetric ``k``-nearest-neighbour graph. Costs are ``tau - d`` (positive = join).
    ``size_weighted=True`` multiplies the cost between two centroids by the product of their cluster
    sizes (the summed cost of all member pairs if every member sat at its centroid); the thesis does not
    weight, which is the default.
    """

    kind: str = "complete"
    tau: float = math.sqrt(0.6)
    sparsity: float = 1.0
    k: int = 10
    solver: str = "gaec+kl"
    size_weighted: bool = False

    def __post_init__(self):
        if self.kind not in GRAPH_KINDS:
            raise ValueError(f"graph kind={self.kind!r}: allowed are {GRAPH_KINDS}")
        if not (isinstance(self.tau, (int, float)) and math.isfinite(self.tau)):
            raise ValueError(f"tau={self.tau!r} must be a finite number")
        if not (isinstance(self.sparsity, (int, float)) and 0 < self.sparsity <= 1):
            raise ValueError(f"sparsity={self.sparsity!r}: the share of edges kept must be in (0, 1]")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k={self.k!r}: the number of neighbours must be an integer >= 1")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver={self.solver!r}: allowed are {SOLVERS}")


@dataclass
class StageStats:
    """One stage: its parts' node counts and cluster counts, and its timings (seconds)."""

    stage: int
    nodes: list[int]  # n_{k,i}, nodes of each part
    clusters: list[int]  # clusters found by each part
    edges: list[int]  # edges of each part's graph
    task_wall: list[float]  # graph construction + solve, per part, measured inside the worker
    task_cpu: list[float]  # CPU time of the same, per part
    wall: float = 0.0  # the whole stage as seen by the caller: dispatch, parallel solves, centroids

    @property
    def work(self) -> float:
        return cubic_work(self.nodes)


@dataclass
class MSMResult:
    labels: np.ndarray
    stages: list[StageStats] = field(default_factory=list)
    wall: float = 0.0

    @property
    def stage_wall(self) -> list[float]:
        return [s.wall for s in self.stages]

    @property
    def total_cpu(self) -> float:
        """CPU seconds of all parts of all stages: the work, wherever it ran."""
        return float(sum(sum(s.task_cpu) for s in self.stages))

    @property
    def critical_cpu(self) -> float:
        """Sum over stages of the slowest part's CPU seconds: the time with one free core per part (the
        thesis' setting of one thread per worker), measured without the noise of a shared machine."""
        return float(sum(max(s.task_cpu) for s in self.stages))

    def node_ratios(self) -> list[float]:
        """``[p_1, ..., p_{L-1}]`` with ``p_k = g_{k+1} / g_k``, ``g_k`` the nodes of all parts of stage k (Eq. 3.8)."""
        g = [sum(s.nodes) for s in self.stages]
        return [b / a for a, b in zip(g, g[1:])]

    def satisfies_assumption_2(self) -> bool:
        """The thesis' Assumption 2 (Eq. 3.9): ``p_k >= p_{k-1}^{(k-1)/k}`` for k = 2 .. L-1 (true for L <= 2)."""
        p = self.node_ratios()
        return all(p[k - 1] >= p[k - 2] ** ((k - 1) / k) for k in range(2, len(p) + 1))

    def work_ratio(self) -> tuple[float, float]:
        """``(sum_k R_k / (n^2 (n-1) / 2), h(p_{L-1}, L))``: the measured work relative to one multicut on
        all points, and the thesis' bound on it (Eq. 3.25) with ``p_{L-1} = g_L / g_{L-1}``."""
        n = sum(self.stages[0].nodes)
        ratio = sum(s.work for s in self.stages) / cubic_work([n]) if n > 1 else 0.0
        L = len(self.stages)
        p = sum(self.stages[-1].nodes) / sum(self.stages[-2].nodes) if L > 1 else 1.0
        return ratio, bound_h(p, L)

    def summary(self) -> dict:
        return {"wall": self.wall, "n_clusters": int(self.labels.max()) + 1,
                "stages": [{**asdict(s), "work": s.work} for s in self.stages]}


def cubic_work(nodes) -> float:
    """The thesis' cost model of one stage, Eq. 3.6: ``R_k = sum_i n_i^2 (n_i - 1) / 2``."""
    n = np.asarray(nodes, dtype=float)
    return float(np.sum(n * n * (n - 1) / 2))


def bound_h(p: float, L: int) -> float:
    """``h(p_{L-1}, L) = p^{3(L-1)} (pi^2/6 - 1/L^2) + 1/L^2`` (Eq. 3.25): under the thesis' Assumptions
    1-3, the L-stage work is below ``h`` times the work of one multicut on all ``n`` points."""
    if not 0 < p <= 1:
        raise ValueError(f"p={p!r} must be in (0, 1]")
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L={L!r} must be an integer >= 1")
    return p ** (3 * (L - 1)) * (math.pi ** 2 / 6 - 1 / L ** 2) + 1 / L ** 2


def _limit_threads() -> None:
    """Worker initializer: one BLAS/OpenMP thread per worker process, so parts do not compete for cores."""
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # threadpoolctl comes with scikit-learn; without it the env variable must do
        pass


def worker_pool(n_jobs: int, context: str = "forkserver") -> ProcessPoolExecutor:
    """A process pool for :func:`msm` whose workers each use one BLAS thread. Reuse it across calls.

    The default ``"forkserver"`` context starts one clean server process that imports this module (NumPy,
    scikit-learn's neighbours, bioimage-cpp) once and forks the workers from it: cheaper than ``"spawn"``
    (every worker imports everything) and safer than ``"fork"`` of a process that may hold threads (a
    Jupyter kernel, torch)."""
    import multiprocessing

    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs!r} must be an integer >= 1")
    if context not in multiprocessing.get_all_start_methods():
        raise ValueError(f"context={context!r}: allowed are {multiprocessing.get_all_start_methods()}")
    ctx = multiprocessing.get_context(context)
    if context == "forkserver":
        ctx.set_forkserver_preload(["reprobook.msm", "bioimage_cpp", "sklearn.neighbors"])
    return ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_limit_threads)


def _solve_part(task) -> tuple[np.ndarray, int, float, float]:
    """Build one part's graph and solve it: ``(labels, n_edges, wall_s, cpu_s)``. Runs in a worker."""
    Z, sizes, spec, seed = task
    t0, c0 = time.perf_counter(), time.process_time()
    if spec.kind == "knn":
        uv, d = knn_edges(Z, spec.k)
    else:
        uv, d = complete_edges(Z, sparsity=spec.sparsity, rng=seed)
    costs = costs_from_distances(d, spec.tau)
    if spec.size_weighted and sizes is not None:
        costs = costs * sizes[uv[:, 0]] * sizes[uv[:, 1]]
    labels = solve_multicut(len(Z), uv, costs, solver=spec.solver)
    return labels, len(uv), time.perf_counter() - t0, time.process_time() - c0


def _check_stages(stages) -> tuple[int, ...]:
    s = tuple(stages)
    if not s or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 1 for x in s):
        raise ValueError(f"stages={stages!r}: a non-empty sequence of positive integers (parts per stage)")
    if s[-1] != 1:
        raise ValueError(f"stages={stages!r}: the last stage must have exactly one part")
    if any(b >= a for a, b in zip(s, s[1:])):
        raise ValueError(f"stages={stages!r}: the number of parts must strictly decrease (Eq. 3.1)")
    return tuple(int(x) for x in s)


def msm(Z, stages=(2, 1), *, first: GraphSpec | None = None, merge: GraphSpec | None = None,
        n_jobs: int = 1, executor: Executor | None = None, seed: int = 0) -> MSMResult:
    """Cluster the rows of ``Z`` by multi-stage multicuts.

    ``stages = (S_1, ..., S_L)``: parts per stage, strictly decreasing, ending in 1; ``(1,)`` is a single
    global multicut. ``first`` builds and solves the stage-1 parts (over points); ``merge`` the later
    stages (over centroids; default: a complete graph with ``first``'s ``tau`` and solver). Parts of a stage
    run on ``executor`` when given, else in a new pool of ``n_jobs`` processes, else (``n_jobs=1``) here.
    The random split uses ``seed``; the result is the same for any ``n_jobs``.
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or len(Z) == 0 or not np.all(np.isfinite(Z)):
        raise ValueError(f"Z must be a non-empty finite 2-D array (points x features), got shape {Z.shape}")
    stages = _check_stages(stages)
    if stages[0] > len(Z):
        raise ValueError(f"stages={stages}: {stages[0]} parts for {len(Z)} points; use at most one part per point")
    first = first or GraphSpec()
    merge = merge or GraphSpec(kind="complete", tau=first.tau, solver=first.solver)
    if executor is None and n_jobs > 1:
        with worker_pool(n_jobs) as pool:
            return msm(Z, stages, first=first, merge=merge, executor=pool, seed=seed)
    mapper = executor.map if executor is not None else map

    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = len(Z)
    groups = np.array_split(rng.permutation(n), stages[0])  # stage 1: node ids are point ids
    feats, sizes = Z, np.ones(n)
    assign = np.arange(n)  # point -> its node at the current stage (the lookup table h^{-1}, composed)
    result = MSMResult(labels=assign)
    for k, n_parts in enumerate(stages):
        t0 = time.perf_counter()
        if k > 0:  # gather consecutive previous parts into n_parts groups
            groups = [np.concatenate([outputs[j] for j in idx])
                      for idx in np.array_split(np.arange(len(outputs)), n_parts)]
        spec = first if k == 0 else merge
        seeds = np.random.SeedSequence([seed, k]).generate_state(len(groups))
        tasks = [(feats[g], sizes[g] if k > 0 else None, spec, int(s)) for g, s in zip(groups, seeds)]
        solved = list(mapper(_solve_part, tasks))
        node_map = np.empty(len(feats), dtype=np.int64)
        outputs, offset = [], 0
        for g, (labels, _, _, _) in zip(groups, solved):
            n_clusters = int(labels.max()) + 1
            node_map[g] = offset + labels
            outputs.append(np.arange(offset, offset + n_clusters))
            offset += n_clusters
        assign = node_map[assign]
        sizes = np.bincount(assign, minlength=offset).astype(float)
        # centroids of the member points (Eq. 3.4), one weighted bincount per feature
        feats = np.stack([np.bincount(assign, weights=Z[:, j], minlength=offset) for j in range(Z.shape[1])], 1)
        feats /= sizes[:, None]
        result.stages.append(StageStats(
            stage=k + 1, nodes=[len(g) for g in groups], clusters=[int(s[0].max()) + 1 for s in solved],
            edges=[s[1] for s in solved], task_wall=[s[2] for s in solved], task_cpu=[s[3] for s in solved],
            wall=time.perf_counter() - t0))
    result.labels = canonical_labels(assign)
    result.wall = time.perf_counter() - t_start
    return result
