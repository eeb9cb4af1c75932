# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scalable Multicuts: MSM, Multi-Stage Multicuts
#
# **Chapter `ho-c2`.** Kalun Ho. *Learning Deep Visual Features for Minimum Cost Multicut Problem*,
# chapter 3 ("Scalable Multicuts"). Doctoral dissertation, Universität Siegen, March 2023 (our copy prints
# no DOI). The chapter is based on K. Ho, A. Chatzimichailidis, M. Keuper and J. Keuper, *MSM: Multi-stage
# multicuts for scalable image clustering*, International Conference on High Performance Computing (ISC
# High Performance 2021), Lecture Notes in Computer Science, pp. 267–284, Springer, 2021.
#
# **The idea.** A minimum cost multicut clusters images without being told how many clusters there are,
# but on a complete graph it needs all $n(n-1)/2$ pairwise costs, and the solvers' time grows faster than
# the edge count. MSM trades a little optimality for a lot of speed with plain data parallelism: split
# the points at random into $S_1$ equal parts, solve each part's (much smaller) multicut on its own
# worker, replace every cluster found by its centroid, and solve a multicut over the centroids on fewer
# workers; repeat over $L$ stages until one worker is left, then hand the final labels back down through
# the stages. Because the first stage already groups most points, the later graphs are small, so the
# total work can be far below the single solve's. The thesis bounds that work (Eq. 3.25) and reports a
# more than twofold speed-up on CIFAR-10 with two workers at unchanged accuracy, and 100k CelebA images
# clustered in under a minute with 40 threads.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (larger graphs, 3 seeds, up to 16 worker processes)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # unused: multicuts run on the CPU (bioimage-cpp)
data_root = None  # unused: the embeddings come from a generator (see "The experiment")
n_points: int | None = None  # points to cluster (the thesis: 10,000 CIFAR-10 test images)
n_classes: int | None = None  # classes of the stand-in embedding
hard: float | None = None  # share of hard points between classes, in [0, 1]
parts: list | None = None  # first-stage part counts S_1 to compare with the single solve, each >= 2
sparsity: float | None = None  # share of first-stage edges kept in the sparse experiment, in (0, 1)
jobs: list | None = None  # worker-process counts for the wall-time experiment, each >= 1 (capped at the CPUs)
solver: str | None = None  # "gaec", "kl", "gaec+kl", "greedy-fixation" or "greedy-fixation+kl"
tau: float | None = None  # cut threshold on distances; None: the TL3 value sqrt((0.8 + 0.4) / 2)
merge_weighting: str | None = None  # "none" (the thesis) or "size": centroid costs times cluster sizes

# %%
import math
import os

import reprobook as rb
from reprobook.multicut import SOLVERS

PROFILES = {
    "smoke": dict(n_points=1200, n_classes=10, hard=0.3, parts=[2, 4, 8, 16], sparsity=0.05, jobs=[1, 2],
                  solver="gaec+kl", tau=None, merge_weighting="none", n_seeds=1, wall_repeats=3),
    "full": dict(n_points=5000, n_classes=10, hard=0.3, parts=[2, 4, 8, 16, 32], sparsity=0.01,
                 jobs=[1, 2, 4, 8, 16], solver="gaec+kl", tau=None, merge_weighting="none", n_seeds=3,
                 wall_repeats=2),
}
run = rb.start("ho-c2", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(n_points=n_points, n_classes=n_classes, hard=hard, parts=parts, sparsity=sparsity,
                          jobs=jobs, solver=solver, tau=tau, merge_weighting=merge_weighting))
cfg = run.cfg


def _ints(name, values, lo):
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lo for v in values):
        raise rb.ParameterError(f"{name}={values!r}: a non-empty list of integers >= {lo} is allowed")
    return sorted(set(values))


if not (isinstance(cfg.n_classes, int) and cfg.n_classes >= 2):
    raise rb.ParameterError(f"n_classes={cfg.n_classes!r}: an integer >= 2 is allowed")
PARTS = _ints("parts", cfg.parts, 2)
JOBS = _ints("jobs", cfg.jobs, 1)
if not (isinstance(cfg.n_points, int) and cfg.n_points >= 4 * max(PARTS)):
    raise rb.ParameterError(f"n_points={cfg.n_points!r}: an integer with at least 4 points per part "
                            f"(>= {4 * max(PARTS)} for parts={PARTS}) is allowed")
if not (isinstance(cfg.hard, (int, float)) and 0 <= cfg.hard <= 1):
    raise rb.ParameterError(f"hard={cfg.hard!r}: a share in [0, 1] is allowed")
if not (isinstance(cfg.sparsity, (int, float)) and 0 < cfg.sparsity < 1):
    raise rb.ParameterError(f"sparsity={cfg.sparsity!r}: a share of kept edges in (0, 1) is allowed")
if cfg.solver not in SOLVERS:
    raise rb.ParameterError(f"solver={cfg.solver!r}: allowed are {SOLVERS}")
TAU = math.sqrt((0.8 + 0.4) / 2) if cfg.tau is None else cfg.tau
if not (isinstance(TAU, (int, float)) and math.isfinite(TAU) and TAU > 0):
    raise rb.ParameterError(f"tau={cfg.tau!r}: a positive number (or None for the TL3 threshold) is allowed")
if cfg.merge_weighting not in ("none", "size"):
    raise rb.ParameterError(f"merge_weighting={cfg.merge_weighting!r}: allowed are 'none' (the thesis) or 'size'")
JOBS = [j for j in JOBS if j <= (os.cpu_count() or 1)] or [1]  # more processes than cores measure nothing
print("resolved knobs:", vars(cfg), "| tau =", round(TAU, 4), "| worker processes:", JOBS)

# %% [markdown]
# ## The method
#
# **The multicut** (thesis Eq. 1.8–1.9). Points $i$ are nodes; an edge $ij$ carries the cost
# $c_{ij} = \tau - d_{ij}$ with $d_{ij} = \lVert z_i - z_j \rVert$ the distance of the embeddings
# (Eq. 2.4). A positive cost attracts (cutting it costs $c_{ij}$), a negative one repels. With
# $y_{ij} = 1$ for a cut, the multicut minimises $\sum_{ij \in E} c_{ij} y_{ij}$ over all $y$ that describe
# a decomposition of the graph (no cycle with exactly one cut edge). $\tau = \sqrt{(\alpha + \beta)/2}
# = \sqrt{0.6}$ is the threshold the thesis derives for its TL3 triplet loss with margins $\alpha = 0.8$,
# $\beta = 0.4$ (Eq. 2.5): in such an embedding same-class pairs lie closer than $\tau$, others farther.
# We solve with bioimage-cpp's greedy additive edge contraction followed by Kernighan–Lin (the thesis
# does not name its solver; see the notes).
#
# **MSM** (Algorithm 2, Eq. 3.1–3.5). Stage $k$ has $S_k$ parts, $S_1 > S_2 > \dots > S_L = 1$.
#
# 1. Stage 1: split a random permutation of the $n$ points into $S_1$ parts of size $\approx n/S_1$;
#    solve the multicut of each part (complete graph over its points, or a random share `sparsity` of it).
# 2. Stage $k > 1$: group the parts of stage $k-1$ into $S_k$ consecutive groups; each cluster of a group
#    becomes one node at its centroid $\tilde z = \frac{1}{|C|}\sum_{i \in C} z_i$ (Eq. 3.4), so a group
#    has $n_{i,k} = \sum_{j \in I_i^k} \#\text{clusters}_j$ nodes (Eq. 3.2); solve a multicut over the
#    centroids (complete graph, same $\tau$).
# 3. Back-propagation (lines 12–15): every point takes the final label of the centroid it was merged into,
#    through one lookup table per stage.
#
# **The bound** (Eq. 3.6–3.25). Taking $n^2(n-1)/2$ as the cost of a multicut on $n$ nodes, stage $k$
# costs $R_k = \sum_i n_{k,i}^2 (n_{k,i}-1)/2$. Under balanced parts, $S_{k+1} < S_k$, and stage-to-stage
# node ratios $p_k = g_{k+1}/g_k$ that grow fast enough (Assumption 2), the thesis proves
#
# $$ \sum_{k=1}^{L} R_k \;<\; \frac{n^2(n-1)}{2}\, h(p_{L-1}, L), \qquad
#    h(p, L) = p^{3(L-1)}\Big(\frac{\pi^2}{6} - \frac{1}{L^2}\Big) + \frac{1}{L^2}. $$
#
# MSM does less work than one multicut when $h \le 1$. The code lives in `reprobook.msm` (MSM) and
# `reprobook.multicut` (graphs, costs, solvers); both are unit-tested, the solver wrapper against an exact
# integer program and brute force on small graphs. The MSM loop is printed below.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from reprobook.cluster import clustering_scores
from reprobook.msm import GraphSpec, bound_h, msm, worker_pool
from reprobook.multicut import complete_edges, costs_from_distances, embedding_blobs, multicut_energy

src = inspect.getsource(msm)
print(src[src.index("    t_start"):])

# %% [markdown]
# ## The experiment
#
# **Data.** The thesis clusters TL3 embeddings of CIFAR-10 (10,000 test images, 10 classes, accuracy
# about 80 %) and of CelebA and CIFAR-100. Offline we stand in with 32-dimensional embeddings of the same
# geometry: class centres on a sphere of radius 1.2, per-coordinate noise 0.08 (typical same-class
# distance 0.64, below $\tau = 0.775$; different-class distance about 1.8), and a share `hard` = 30 % of
# hard points moved part of the way towards another class, which brings a single multicut to an accuracy
# in the same range as the thesis' (about 85 % in our runs). The generator is `reprobook.multicut.embedding_blobs`.
#
# **Runs, per seed.** The single solve ($L = 1$); MSM with $L = 2$ for every $S_1$ in `parts`; MSM with
# $L = 3$, $(S_1, S_1/2, 1)$, halving as in the thesis' Sect. 3.4.3; all of these again with a sparse
# first stage (a random share `sparsity` of the edges). Each part's graph construction and solve is timed
# in CPU seconds. We report three times: **total CPU** (all parts, the work wherever it runs),
# **critical path** (per stage the slowest part, summed over stages: the time with one core per part,
# the thesis' setting of one thread per worker), and **merge** (stages 2 to $L$). CPU times are used
# because the machine that builds this book is shared and its wall times are inflated and noisy. A last
# experiment measures real wall time with $w$ worker processes and $S_1 = w$ (the thesis' pairing of
# parts and threads), $w$ in `jobs`, as the fastest of a few repeats (other jobs only ever add time). Accuracy is the Hungarian clustering accuracy of the thesis
# (Sect. 2.4.1; clusters left without a class count as errors).

# %%
spec_kwargs = dict(tau=TAU, solver=cfg.solver)
MERGE = GraphSpec(size_weighted=cfg.merge_weighting == "size", **spec_kwargs)
PLANS = [(1,)] + [(s, 1) for s in PARTS] + [(s, s // 2, 1) for s in PARTS if s // 2 >= 2]


def one_run(Z, y, uv, c, plan, sp, seed_):
    """One MSM plan (in this process, parts one after the other, each timed in CPU seconds)."""
    first = GraphSpec(sparsity=sp, **spec_kwargs)
    res = msm(Z, plan, first=first, merge=MERGE, seed=seed_)
    scores = clustering_scores(y, res.labels)
    ratio, h = res.work_ratio()
    return dict(seed=seed_, graph="complete" if sp == 1.0 else f"sparse {sp:g}", L=len(plan), S1=plan[0],
                plan="-".join(map(str, plan)), total_cpu=res.total_cpu, critical_cpu=res.critical_cpu,
                merge_cpu=res.critical_cpu - max(res.stages[0].task_cpu), wall=res.wall,
                stage2_nodes=sum(res.stages[1].nodes) if len(plan) > 1 else np.nan,
                last_nodes=sum(res.stages[-1].nodes),
                energy=multicut_energy(uv, c, res.labels), work_ratio=ratio, h=h,
                p_last=res.node_ratios()[-1] if len(plan) > 1 else 1.0, assumption_2=res.satisfies_assumption_2(),
                **scores)


rows, wall_rows = [], []
pool = worker_pool(max(JOBS)) if max(JOBS) > 1 else None
try:
    if pool is not None:
        list(pool.map(abs, range(max(JOBS))))  # start the workers before any timing
    for s in run.seeds:
        Z, y = embedding_blobs(cfg.n_points, cfg.n_classes, 32, hard=cfg.hard, seed=s)
        uv, d = complete_edges(Z)  # the full problem, to score every result on the same objective
        c = costs_from_distances(d, TAU)
        for sp in (1.0, cfg.sparsity):
            for plan in PLANS:
                rows.append(one_run(Z, y, uv, c, plan, sp, s))
        for w in JOBS:  # real wall time: S_1 = w parts on w worker processes (w = 1: the single solve)
            walls_w = []
            if w == 1:  # the single solve above ran the same code in this process: reuse its wall time
                single = next(r for r in rows if r["seed"] == s and r["graph"] == "complete" and r["L"] == 1)
                walls_w.append(single["wall"])
            while len(walls_w) < cfg.wall_repeats:
                t0 = time.perf_counter()
                res = msm(Z, (1,) if w == 1 else (w, 1), first=GraphSpec(**spec_kwargs), merge=MERGE, seed=s,
                          executor=pool if w > 1 else None)
                walls_w.append(time.perf_counter() - t0)
            # the fastest repeat: other jobs on a shared machine only ever add time
            wall_rows.append(dict(seed=s, workers=w, wall=min(walls_w)))
        del uv, d, c
finally:
    if pool is not None:
        pool.shutdown()

runs = pd.DataFrame(rows)
glob = runs[runs.L == 1].set_index(["seed", "graph"])
runs["acc_change_pp"] = 100 * (runs.acc - glob.acc.reindex(list(zip(runs.seed, runs.graph))).to_numpy())
runs["energy_gap_pct"] = 100 * (runs.energy - glob.energy.reindex(list(zip(runs.seed, runs.graph))).to_numpy()) \
    / np.abs(glob.energy.reindex(list(zip(runs.seed, runs.graph))).to_numpy())
walls = pd.DataFrame(wall_rows)
show = ["graph", "plan", "total_cpu", "critical_cpu", "merge_cpu", "stage2_nodes", "last_nodes", "acc", "acc_change_pp",
        "n_clusters", "n_singletons", "energy_gap_pct", "work_ratio", "h", "assumption_2"]
runs.groupby(["graph", "L", "S1", "plan"], sort=True)[show[2:]].mean().round(3)

# %% [markdown]
# `energy_gap_pct` compares each result with the single solve on the *same* objective, the complete graph
# with costs $\tau - d$ (for the sparse rows: the single solve of the sparse graph). MSM's clusterings cost
# slightly more than the single solve's (it is a heuristic for the same problem), yet their accuracy can be
# higher: the merge over centroids joins hard points to their class more readily than the pairwise costs do.

# %% [markdown]
# **Runtime and accuracy against the number of first-stage parts** (the shape of the thesis' Fig. 3.5):
# the single solve is $S_1 = 1$.

# %%
def per_s1(frame, col):
    return frame.groupby("S1")[col].mean()


def parts_axis(ax, label="first-stage parts $S_1$"):
    ticks = sorted(runs.S1.unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(label)


dense = runs[runs.graph == "complete"]
sparse = runs[runs.graph != "complete"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
l2 = dense[dense.L <= 2]
for col, style, label in [("critical_cpu", "o-", "critical path (one core per part)"),
                          ("total_cpu", "s--", "total CPU (all parts)"), ("merge_cpu", "^:", "merge stage")]:
    series = per_s1(l2 if col != "merge_cpu" else l2[l2.L == 2], col)
    axes[0].plot(series.index, series.to_numpy(), style, label=label)
l3 = per_s1(dense[dense.L == 3], "critical_cpu")
axes[0].plot(l3.index, l3.to_numpy(), "D-", label="critical path, L = 3")
parts_axis(axes[0], "first-stage parts $S_1$ (1 = single multicut)")
axes[0].set_yscale("log")
axes[0].set_ylabel("CPU seconds")
axes[0].set_title("MSM runtime, complete first-stage graphs")
axes[0].legend(fontsize=8)
for L, marker in ((2, "o-"), (3, "D-")):
    part = dense[(dense.L == L) | (dense.L == 1)] if L == 2 else dense[dense.L == 3]
    acc = per_s1(part, "acc")
    axes[1].plot(acc.index, 100 * acc.to_numpy(), marker, label=f"MSM, L = {L}")
axes[1].axhline(100 * dense[dense.L == 1].acc.mean(), color="gray", ls="--", label="single multicut")
parts_axis(axes[1])
axes[1].set_ylim(0, 100)
axes[1].set_ylabel("clustering accuracy (%)")
axes[1].set_title("Accuracy against $S_1$")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("runtime_accuracy_vs_parts.png"), dpi=120)
plt.show()

# %% [markdown]
# **A sparse first stage makes the merge the bottleneck** (the thesis' Fig. 3.6, top right and second
# row). With only a share `sparsity` of the first-stage edges, the parts over-cluster, many small clusters
# reach the merge, and its complete graph over their centroids grows with $S_1$. A third stage, which halves
# the number of workers first, reduces the nodes before the last merge.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for L, marker, color in ((2, "o", "C0"), (3, "D", "C1")):
    part = sparse[sparse.L == L]
    axes[0].plot(per_s1(part, "critical_cpu").index, per_s1(part, "critical_cpu").to_numpy(), marker + "-",
                 color=color, label=f"critical path, L = {L}")
    axes[0].plot(per_s1(part, "merge_cpu").index, per_s1(part, "merge_cpu").to_numpy(), marker + ":",
                 color=color, alpha=0.6, label=f"merge stages, L = {L}")
axes[0].axhline(sparse[sparse.L == 1].critical_cpu.mean(), color="gray", ls="--", label="single multicut (sparse)")
parts_axis(axes[0])
axes[0].set_yscale("log")
axes[0].set_ylabel("CPU seconds")
axes[0].set_title(f"Sparse first stage (sparsity {cfg.sparsity:g}): runtime")
axes[0].legend(fontsize=8)
for L, marker, color in ((2, "o-", "C0"), (3, "D-", "C1")):
    part = sparse[sparse.L == L]
    axes[1].plot(per_s1(part, "last_nodes").index, per_s1(part, "last_nodes").to_numpy(), marker, color=color,
                 label=f"L = {L}")
parts_axis(axes[1])
axes[1].set_ylabel("nodes of the final merge graph")
axes[1].set_title("Over-clustering feeds the merge")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("sparse_merge_bottleneck.png"), dpi=120)
plt.show()

# %% [markdown]
# **The bound of Eq. 3.25.** Curves: $h(p, L)$; points: each run's measured work
# $\sum_k R_k / \big(n^2(n-1)/2\big)$ at its measured $p_{L-1} = g_L / g_{L-1}$. The bound holds where every
# point lies below the curve of its $L$ (the thesis' Fig. 3.4 shows the curves only).

# %%
fig, ax = plt.subplots(figsize=(6, 4.2))
p_grid = np.linspace(0.01, 1, 200)
msm_runs = runs[runs.L > 1]
for L, color in ((2, "C0"), (3, "C1")):
    ax.plot(p_grid, [bound_h(p, L) for p in p_grid], color=color, label=f"h(p, L = {L})")
    part = msm_runs[msm_runs.L == L]
    ax.scatter(part.p_last, part.work_ratio, color=color, edgecolor="k", zorder=3, label=f"measured runs, L = {L}")
ax.set_yscale("log")
ax.set_xlabel("$p_{L-1}$ = nodes at the last stage / nodes at the stage before")
ax.set_ylabel("work relative to one multicut")
ax.set_title("Measured MSM work against the bound h (Eq. 3.25)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("work_bound.png"), dpi=120)
plt.show()

# %% [markdown]
# **Wall time against worker processes** (real processes on this machine, $S_1 = w$ parts on $w$
# workers; $w = 1$ is the single multicut). On the 2-core machine that builds the book only $w \le 2$ is
# measured; the full profile goes to 16 workers where the cores exist.

# %%
wall_mean = walls.groupby("workers")[["wall"]].mean()
fig, ax = plt.subplots(figsize=(5.5, 4))
ax.plot(wall_mean.index, wall_mean.wall, "o-")
ax.set_xscale("log", base=2)
ax.set_xticks(list(wall_mean.index), [str(w) for w in wall_mean.index])
ax.minorticks_off()
ax.set_yscale("log")
ax.set_xlabel("worker processes w ($S_1$ = w; 1 = single multicut)")
ax.set_ylabel("wall seconds")
ax.set_title("MSM wall time against the number of workers")
fig.tight_layout()
fig.savefig(run.figure_path("wall_vs_workers.png"), dpi=120)
plt.show()
wall_mean.round(3)

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Timings are CPU seconds of the parts (critical path or merge), averaged
# over seeds per $S_1$ where a trend is judged; trends use Spearman's $\rho$ over the $S_1$ values. The
# speed-up with two workers is real wall time on two processes; timing claims are marked volatile (they
# never repeat exactly). Accuracy claims compare with the single multicut on the same data: "no drop"
# allows at most 1 point lost at any $S_1$; "the same" asks for $|\Delta| \le 1$ point at $S_1 = 2$.

# %%
def by_seed(frame, col):
    return frame.sort_values("seed")[col].to_numpy()


g_dense = dense[dense.L == 1].sort_values("seed")
msm2 = dense[(dense.L == 2) & (dense.S1 == 2)].sort_values("seed")
l2d = dense[dense.L <= 2].groupby("S1")
l2s = sparse[sparse.L == 2].groupby("S1")
largest = max(PARTS)
w1 = walls[walls.workers == 1].sort_values("seed").wall.to_numpy()
speedups = {w: w1 / walls[walls.workers == w].sort_values("seed").wall.to_numpy() for w in JOBS if w > 1}

ledger = rb.Ledger()
ledger.claim("speedup-two-workers",
             "MSM with two workers more than halves the runtime of the single multicut",
             paper="930.64 ± 8.44 s → 361.29 ± 16.46 s with S_1 = 2 (CIFAR-10 test, Sect. 3.4.1, Fig. 3.5)",
             measured={"speedup_w2": speedups[2]} if 2 in speedups else None,
             rule=(rb.AtLeast("speedup_w2", 2.0) if 2 in speedups else
                   rb.NotTestable("fewer than two CPUs: no two-worker run")),
             volatile=True)
ledger.claim("runtime-falls-with-parts",
             "The runtime falls as first-stage workers are added (L = 2, complete graphs)",
             paper="runtime decreases with S_1 (Fig. 3.5; CelebA Fig. 3.6 top left)",
             measured={"S1": l2d.S1.first().index.to_numpy(), "critical_cpu": l2d.critical_cpu.mean().to_numpy()},
             rule=rb.Correlates("S1", "critical_cpu", sign=-1, min_rho=0.8), volatile=True)
l2m = dense[dense.L == 2].groupby("S1")
ledger.claim("merge-grows-with-parts",
             "The merge stage takes longer the more workers feed it, but stays small",
             paper="'the more workers are used, the more time it takes for combining the results' (Sect. 3.4.1)",
             measured={"S1": l2m.S1.first().index.to_numpy(), "merge_cpu": l2m.merge_cpu.mean().to_numpy()},
             rule=rb.Correlates("S1", "merge_cpu", sign=1, min_rho=0.8), volatile=True)
worst = dense[dense.L > 1].groupby("seed").acc_change_pp.min().sort_index().to_numpy()
ledger.claim("accuracy-no-drop",
             "MSM loses no noticeable accuracy: at every S_1 and L within 1 point of the single multicut or better",
             paper="80.54 % ± 0.36 % with S_1 = 2, 'consistently around 80%' (Fig. 3.5); 'only a small drop' (Sect. 3.4.2)",
             measured={"worst_change_pp": worst}, rule=rb.AtLeast("worst_change_pp", -1.0))
ledger.claim("accuracy-same-s1-2",
             "With S_1 = 2 the accuracy is the same as the single multicut's (within 1 point)",
             paper="'the cluster accuracy remains the same, which is 80.54% ± 0.36%' (Sect. 3.4.1)",
             measured={"acc_msm_s2": 100 * by_seed(msm2, "acc"), "acc_single": 100 * by_seed(g_dense, "acc")},
             rule=rb.Close("acc_msm_s2", "acc_single", tol=1.0))
ledger.claim("sparse-merge-bottleneck",
             "With a very sparse first stage and L = 2, adding workers makes MSM slower (the merge is the bottleneck)",
             paper="sparsity 0.01: 'the total runtime increases when using more workers' (Sect. 3.4.2, Fig. 3.6 top right)",
             measured={"S1": l2s.S1.first().index.to_numpy(), "critical_cpu": l2s.critical_cpu.mean().to_numpy()},
             rule=rb.Correlates("S1", "critical_cpu", sign=1, min_rho=0.8), volatile=True)
ledger.claim("three-stages-relieve",
             f"A third stage relieves the merge bottleneck: L = 3 is faster than L = 2 at S_1 = {largest}, sparse and complete",
             paper="L = 3 'slightly improves' the runtime, 'significant' in the sparse setting (Sect. 3.4.3, Fig. 3.6)",
             measured={"L2_sparse": by_seed(sparse[(sparse.L == 2) & (sparse.S1 == largest)], "critical_cpu"),
                       "L3_sparse": by_seed(sparse[(sparse.L == 3) & (sparse.S1 == largest)], "critical_cpu"),
                       "L2_complete": by_seed(dense[(dense.L == 2) & (dense.S1 == largest)], "critical_cpu"),
                       "L3_complete": by_seed(dense[(dense.L == 3) & (dense.S1 == largest)], "critical_cpu")},
             rule=rb.AllOf(rb.Better("L3_sparse", "L2_sparse", higher_is_better=False),
                           rb.Better("L3_complete", "L2_complete", higher_is_better=False)), volatile=True)
slack = (runs[runs.L > 1].h - runs[runs.L > 1].work_ratio).groupby(runs.seed).min().sort_index().to_numpy()
ledger.claim("work-bound-holds",
             "The measured work sum_k R_k stays below h(p_{L-1}, L) n^2 (n-1) / 2 (Eq. 3.25) in every run",
             paper="Eq. 3.25 under Assumptions 1–3 (Sect. 3.3.4)",
             measured={"min_slack": slack}, rule=rb.AtLeast("min_slack", 0.0))
a2 = runs[runs.L > 2].groupby("seed").assumption_2.mean().sort_index().to_numpy()
ledger.claim("assumption-2-observed",
             "The stage-to-stage node ratios grow as Assumption 2 requires (p_2 >= p_1^(1/2)) in the L = 3 runs",
             paper="Eq. 3.9; 'in line with what is being observed in the case of continually decreasing workers' (Sect. 3.3.4)",
             measured={"share_L3_runs": a2}, rule=rb.AtLeast("share_L3_runs", 1.0))
ledger.claim("100k-under-a-minute",
             "About 100,000 images are clustered in under one minute with 40 threads",
             paper="abstract; Sect. 3.5; Ch. 6 (exact time only in Fig. 3.6)",
             rule=rb.NotTestable("needs 40 threads and CelebA embeddings; benchmarks/multicut_scaling.py "
                                 "measures 100k kNN-graph points on this machine instead"))
ledger.claim("absolute-accuracies",
             "Absolute accuracies on CIFAR-10 (80.54 %), CelebA (85.17 %) and CIFAR-100 (75.7 %, L = 4, S_1 = 12 fastest)",
             paper="Sect. 3.4.1, 3.4.4, 3.4.5",
             rule=rb.NotTestable("the datasets and the thesis' trained embeddings are not available offline; "
                                 "our embeddings are a generated stand-in"))

run.log(acc_single=by_seed(g_dense, "acc"), acc_msm_s2=by_seed(msm2, "acc"), worst_acc_change_pp=worst,
        min_bound_slack=slack, assumption_2_share=a2,
        acc_by_plan={p: g.acc.round(6).tolist() for p, g in dense.groupby("plan")},
        acc_sparse_by_plan={p: g.acc.round(6).tolist() for p, g in sparse.groupby("plan")},
        n_clusters_by_plan={p: g.n_clusters.tolist() for p, g in dense.groupby("plan")},
        stage2_nodes_sparse={p: g.stage2_nodes.tolist() for p, g in sparse[sparse.L > 1].groupby("plan")},
        work_ratio_by_plan={p: g.work_ratio.round(8).tolist() for p, g in dense[dense.L > 1].groupby("plan")})
run.log_timing(critical_cpu_by_plan={p: g.critical_cpu.round(4).tolist() for p, g in dense.groupby("plan")},
               critical_cpu_sparse_by_plan={p: g.critical_cpu.round(4).tolist() for p, g in sparse.groupby("plan")},
               wall_by_workers={int(w): g.wall.round(4).tolist() for w, g in walls.groupby("workers")},
               speedup_by_workers={int(w): v.round(3).tolist() for w, v in speedups.items()})
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Solver.** The thesis never names its multicut solver; it cites Kernighan–Lin and "Cut, glue & cut"
#   as practical heuristics. We use bioimage-cpp's greedy additive edge contraction followed by
#   Kernighan–Lin (knob `solver`). Its energy is never below the exact optimum and usually equals it on
#   small random graphs (`tests/test_multicut.py` checks both against an integer program and brute force).
# - **Unspecified merge details.** The thesis does not say which threshold the centroid graphs use,
#   whether centroids are weighted by cluster size, or how workers are grouped at a merge. We use the same
#   $\tau$, unweighted centroids of the member points (knob `merge_weighting="size"` multiplies each
#   centroid-pair cost by the two cluster sizes), complete graphs over the centroids, and consecutive
#   groups of parts; for $L = 3$ the workers are halved, as in Sect. 3.4.3.
# - **Timing.** The thesis reports wall time with one thread per worker on a large machine. Our book
#   builds on a shared 2-core machine, so the trend claims use the CPU seconds of each part (critical path:
#   the slowest part of each stage) — the wall time one core per part would give, without the noise of
#   other jobs. Only the two-worker speed-up is real wall time on two processes. Process start-up is
#   excluded (the pool is started before timing), as the thesis' threads are.
# - **The runtime curve flattens.** Beyond $S_1 \approx 8$ the parts take milliseconds while the merge
#   keeps growing, so the critical path flattens or rises again, as the thesis itself finds at
#   $S_1 \approx 25$ on CelebA and $S_1 = 12$ on CIFAR-100. The Spearman verdict of
#   `runtime-falls-with-parts` then rests on millisecond differences at the tail and can change between
#   "reproduced" and "partly" from one run to the next; it is marked volatile for that reason.
# - **Why MSM is so much faster here.** On complete graphs the single solve's cost grows roughly with the
#   cube of the node count (the thesis' cost model), so $S_1$ parts of size $n/S_1$ cost about $1/S_1^2$
#   of it in total even on one core: most of the speed-up is algorithmic, not parallel. It comes at a
#   price the thesis does not discuss: MSM's clusterings have a slightly *higher* multicut energy than the
#   single solve's (`energy_gap_pct`), i.e. MSM is a heuristic for the same objective.
# - **Accuracy can rise.** On our stand-in MSM is several points *more* accurate than the single
#   multicut: the merge compares centroids, which are closer to each other than the hard points are, so
#   stray points join their class more often. So the "no drop" claim holds but "the same accuracy" does
#   not, in the favourable direction. With cleaner embeddings (`hard=0`) both solve the problem exactly.
# - **Sparse graphs.** The thesis removes edges at random from the first-stage graph only; the merge graphs
#   stay complete, as here. The single multicut on a sparse graph over-clusters (many singletons, see
#   `n_singletons`), and so do MSM's parts; MSM's merge over complete centroid graphs repairs much of it,
#   which is also why its merge becomes the bottleneck.
# - **Errors in the thesis.** The cost of one fully connected multicut is written
#   $\mathcal{O}(n^2(n-1)/2)$ and the "memory" of a complete graph as $n^2(n-1)/2$; the edge count is
#   $n(n-1)/2$ (the first is a running-time model, not a memory size). In Sect. 3.3.4, $g_k$ is defined as
#   $\sum_{k=1}^{L} n_{k,i}$, which should be a sum over the workers $i$ of stage $k$. The memory bound uses
#   $\prod_{i=1}^{k-1} p_k$ where $p_i$ is meant. The bound's Assumption 2 (fast-growing $p_k$) is not
#   checked in the thesis' experiments.
# - **The bound leans on Assumption 2.** It asks the node ratios to grow fast, $p_2 \ge p_1^{1/2}$ for
#   $L = 3$. On our data the first stage shrinks the problem far more than the second, as the thesis
#   expects, but not always by enough for Eq. 3.9, so the assumption often fails (claim
#   `assumption-2-observed`). The bound can then fail too: in a sanity run of the full configuration with
#   640 points (sparsity 0.01, plan 4-2-1) the stage sizes were 640, 599 and 79 nodes, $p_1 = 0.94$ and
#   $p_2 = 0.13$, and the measured work was 0.27 of one multicut against $h = 0.11$. That run is why the
#   claim `assumption-2-observed` exists; the rule of `work-bound-holds` (every run) was not changed.
# - **Scale.** The thesis' graphs have 10,000 (CIFAR) and 101,642 (CelebA) nodes; smoke uses 1,200 and
#   full 5,000 points on complete graphs (a complete graph on 10,000 points has 50 million edges).
#   `benchmarks/multicut_scaling.py` runs 10k–100k points on kNN graphs.

# %% [markdown]
# ## Exercises
#
# 1. Under the thesis' cost model, how much work does MSM with $L = 2$ save over one multicut when the
#    first stage reduces $n$ points to $g_2 = p\,n$ centroids? Compare with $h(p, 2)$.
#
# ```{admonition} Solution
# :class: dropdown
# Stage 1 costs $S_1 \cdot (n/S_1)^2 (n/S_1 - 1)/2 \approx \frac{1}{S_1^2} \frac{n^3}{2}$ and the merge
# $\approx p^3 \frac{n^3}{2}$, so the ratio is about $1/S_1^2 + p^3$. The bound replaces $1/S_1^2$ by
# $1/L^2 = 1/4$ (it only uses $S_1 \ge L$) and $p^3$ by $p^3(\pi^2/6 - 1/4)$, so
# $h(p, 2) = 0.25 + 1.39\,p^3$ is far above the measured ratio when $S_1$ is large: the bound is loose, but
# it already shows that MSM wins whenever the first stage shrinks the problem ($p^3 < 0.54$).
# ```
#
# 2. Run the chapter with `hard=0` and with `hard=0.6`. How do the single multicut's and MSM's accuracies
#    change, and why does the merge over centroids help on the harder data?
#
# ```{admonition} Solution
# :class: dropdown
# With `hard=0` every same-class pair is closer than $\tau$ and every other pair farther, so both recover
# the classes exactly. With many hard points the single multicut cuts them off into small clusters (a hard
# point has negative costs to most of its class), which the accuracy counts as errors. In MSM those points
# are also split off in the parts, but at the merge a small cluster's centroid is compared with the class
# centroid, a single distance that is more often below $\tau$ than the average of the pairwise ones, so it
# is absorbed. The price is visible in `energy_gap_pct`: MSM's clustering is worse for the pairwise objective.
# ```
#
# 3. Set `sparsity=0.01` and `parts=[2, 4, 8, 16, 32]`. Where does the merge overtake the first stage, and
#    by how much does $L = 3$ help?
#
# ```{admonition} Solution
# :class: dropdown
# With 1 % of the edges each part's graph is almost empty, so the parts return nearly all points as
# singletons and the stage-2 graph is a complete graph over almost all $n$ points: MSM then costs more than
# the single solve of the sparse graph, and more with every added part (the thesis' Fig. 3.6, top right).
# With $L = 3$ the middle stage, over complete graphs of a few hundred centroids, groups most of them before
# the final merge, so the last graph is small again; the critical path drops by an order of magnitude.
# ```
