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
# # Enhancing Graph Topology and Clustering Quality: A Modularity-Guided Approach
#
# **Chapter `icpr2024-09`.** Xiaotian Zhuang, Yongyu Wang, Shiqi Hao and Xiaoyang Wang. *Enhancing Graph
# Topology and Clustering Quality: A Modularity-Guided Approach.* In: Pattern Recognition, ICPR 2024
# (27th International Conference on Pattern Recognition), Lecture Notes in Computer Science vol. 15310,
# pp. 131–142. Springer, 2025. DOI: [10.1007/978-3-031-78192-6_9](https://doi.org/10.1007/978-3-031-78192-6_9)
#
# **The idea.** Community detection usually keeps a graph fixed and searches for the partition with the
# highest modularity. The paper turns this around: it keeps a clustering fixed for a moment and edits the
# *graph* so that modularity goes up. Starting from a 10-nearest-neighbour graph, it clusters the graph with
# spectral clustering, and for every cluster it looks up the cluster whose centroid lies farthest away and
# deletes every edge joining the two, on the argument that points of two far-apart clusters almost surely
# belong to different classes, so such edges can only be wrong. It then clusters the pruned graph again,
# prunes again, and stops when modularity no longer rises. The clustering of the final graph is the
# answer. The paper reports gains of 6 to 16 points of clustering accuracy over the plain kNN graph and
# graph construction up to a hundred times faster than learned-graph baselines. This chapter implements
# the rule literally, puts it next to the kNN, mutual kNN, epsilon and consensus-kNN graphs on data that
# ship with scikit-learn plus three synthetic sets, and reports what it measures.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (five seeds, larger synthetic sets, about 2 min on one core)
seed = 0  # base seed; seeds vary the k-means restarts and the draws of the synthetic sets
device = "auto"  # unused: sparse graphs and small eigenproblems on the CPU
data_root = None  # unused: every dataset is bundled with scikit-learn or generated
datasets: list | None = None  # subset of ["iris", "wine", "breast_cancer", "digits", "noisy_digits", "blobs", "moons"]
k: int | None = None  # neighbours of the kNN graph (the paper: 10)
max_iter: int | None = None  # cap on pruning rounds (the paper gives no value)
n_far: int | None = None  # farthest clusters pruned per cluster (the paper: 1)
centroid_space: str | None = None  # "features" (the paper's reading: input space) or "embedding" (spectral embedding)
q_partition: str | None = None  # modularity of the pruned graph under its "new" clustering (default) or the "old" one
consensus_tau: float | None = None  # consensus-kNN baseline: keep an edge whose consensus is at least tau, in [0, 1]
noise: float | None = None  # std of the Gaussian noise added to digits (pixel scale [0, 1]) for "noisy_digits"
n_synthetic: int | None = None  # points in "blobs" ("moons" uses 40 %)
trace_iters: int | None = None  # forced pruning rounds (no stopping) for the modularity / accuracy trace
trace_dataset: str | None = None  # dataset of that trace (the paper's Figs. 2-3 use PenDigits)
variant_datasets: list | None = None  # datasets for the table of rule variants (only those also in `datasets` run)

# %%
import reprobook as rb

ALL_DATASETS = ["iris", "wine", "breast_cancer", "digits", "noisy_digits", "blobs", "moons"]
PROFILES = {
    "smoke": dict(datasets=ALL_DATASETS, k=10, max_iter=10, n_far=1, centroid_space="features",
                  q_partition="new", consensus_tau=0.3, noise=0.3, n_synthetic=1500, trace_iters=4,
                  trace_dataset="noisy_digits", variant_datasets=["wine", "digits"], n_seeds=1),
    "full": dict(datasets=ALL_DATASETS, k=10, max_iter=20, n_far=1, centroid_space="features",
                 q_partition="new", consensus_tau=0.3, noise=0.3, n_synthetic=4000, trace_iters=15,
                 trace_dataset="noisy_digits", variant_datasets=ALL_DATASETS, n_seeds=5),
}
run = rb.start("icpr2024-09", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(datasets=datasets, k=k, max_iter=max_iter, n_far=n_far, centroid_space=centroid_space,
                          q_partition=q_partition, consensus_tau=consensus_tau, noise=noise,
                          n_synthetic=n_synthetic, trace_iters=trace_iters, trace_dataset=trace_dataset,
                          variant_datasets=variant_datasets))
cfg = run.cfg

_bad = [d for d in cfg.datasets if d not in ALL_DATASETS]
if _bad or not cfg.datasets or len(set(cfg.datasets)) != len(cfg.datasets):
    raise rb.ParameterError(f"datasets={cfg.datasets!r}: allowed is a non-empty subset (no repeats) of {ALL_DATASETS}")
if not set(cfg.variant_datasets) <= set(ALL_DATASETS):
    raise rb.ParameterError(f"variant_datasets={cfg.variant_datasets!r}: allowed is a subset of {ALL_DATASETS}")
VARIANT_SETS = [d for d in cfg.datasets if d in cfg.variant_datasets]  # those that are also in this run
if cfg.trace_dataset not in ALL_DATASETS:
    raise rb.ParameterError(f"trace_dataset={cfg.trace_dataset!r}: allowed are {ALL_DATASETS}")
if not 1 <= cfg.k <= 50:
    raise rb.ParameterError(f"k={cfg.k}: the number of neighbours must be in [1, 50]")
if cfg.max_iter < 1 or cfg.trace_iters < 1:
    raise rb.ParameterError(f"max_iter={cfg.max_iter}, trace_iters={cfg.trace_iters}: both must be >= 1")
if cfg.n_far < 1:
    raise rb.ParameterError(f"n_far={cfg.n_far}: at least one farthest cluster must be pruned (>= 1)")
if cfg.centroid_space not in ("features", "embedding"):
    raise rb.ParameterError(f"centroid_space={cfg.centroid_space!r}: allowed are 'features' (paper) or 'embedding'")
if cfg.q_partition not in ("new", "old"):
    raise rb.ParameterError(f"q_partition={cfg.q_partition!r}: allowed are 'new' or 'old'")
if not 0 <= cfg.consensus_tau <= 1:
    raise rb.ParameterError(f"consensus_tau={cfg.consensus_tau}: must be in [0, 1]")
if cfg.noise < 0:
    raise rb.ParameterError(f"noise={cfg.noise}: the noise standard deviation must be >= 0")
if not 200 <= cfg.n_synthetic <= 20000:
    raise rb.ParameterError(f"n_synthetic={cfg.n_synthetic}: must be in [200, 20000]")
print("resolved knobs:", vars(cfg))

# %% [markdown]
# ## The method
#
# **Graph and modularity.** $A \in \{0,1\}^{n\times n}$ is the symmetric adjacency matrix of an undirected
# graph on the $n$ data points $x_1, \dots, x_n$, $k_i = \sum_j A_{ij}$ the degree of point $i$ and
# $2m = \sum_{ij} A_{ij}$. For a partition $c = (c_1, \dots, c_n)$ into $p$ clusters, Newman's modularity
# (the paper's Eq. 1) is
#
# $$ Q(A, c) = \frac{1}{2m} \sum_{i,j} \Big[ A_{ij} - \frac{k_i k_j}{2m} \Big]\, \delta(c_i, c_j)
#   = \sum_{r=1}^{p} \Big[ \frac{L_r}{2m} - \Big(\frac{K_r}{2m}\Big)^2 \Big], $$
#
# where $L_r$ counts the ordered pairs of adjacent points inside cluster $r$ and $K_r$ sums the degrees in it.
# Deleting edges *between* clusters leaves every $L_r$ as it is but lowers $2m$ and the $K_r$, so it usually
# raises $Q$ for the partition that guided the deletion (Sect. 3.2).
#
# **Spectral clustering** $\mathcal S_p(A)$: the $p$ leading eigenvectors of the normalised affinity give
# an embedding $U \in \mathbb R^{n\times p}$, and k-means on its rows gives $c$ (scikit-learn's
# `SpectralClustering(affinity="precomputed")`, written out so that the embedding is available).
#
# **The pruning rule (Sect. 3.2, Algorithm 1).** Given $c$, let $\mu_r$ be the centroid of cluster $r$
# (in the input space; knob `centroid_space="embedding"` uses the rows of $U$ instead) and
#
# $$ f(r) = \arg\max_{s \ne r} \lVert \mu_r - \mu_s \rVert, \qquad
#    A'_{ij} = A_{ij}\, \big[\, c_j \ne f(c_i) \ \text{and}\ c_i \ne f(c_j) \,\big], $$
#
# so all edges between each cluster and its farthest cluster are removed (knob `n_far` removes the
# `n_far` farthest). **Iteration (Sect. 3.3).** With $A^{(0)}$ the kNN graph and $c^{(0)} = \mathcal S_p(A^{(0)})$,
# repeat: prune $A^{(t)}$ with $c^{(t)}$ into $A'$, recluster $c' = \mathcal S_p(A')$, and accept
# $(A^{(t+1)}, c^{(t+1)}) = (A', c')$ if $Q(A', c') > Q(A^{(t)}, c^{(t)})$; otherwise stop and return
# $A^{(t)}$ and its clustering $c^{(t)}$. A cap of `max_iter` rounds applies. (Algorithm 1 prints the
# loop condition inverted, "while the modularity does *not* increase"; we follow the text of Sect. 3.3.)
#
# **Evaluation (Eqs. 2–4).** Clustering accuracy $\mathrm{ACC} = \frac1n \sum_i \delta(y_i, \mathrm{map}(c_i))$
# with the best one-to-one map found by the Hungarian method, normalised mutual information
# $\mathrm{NMI} = I(y, c)/\sqrt{H(y)H(c)}$ (geometric normalisation, as in Eq. 3) and, as an extra, the
# adjusted Rand index. ACC lives in `reprobook.cluster.clustering_accuracy`; the kNN, mutual kNN and
# epsilon graphs and the modularity in `reprobook.graphs` (all unit-tested: modularity against networkx,
# ACC against hand examples).

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs, make_moons
from sklearn.manifold import spectral_embedding
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import StandardScaler

from reprobook import cluster, graphs
from reprobook.runtime import seed_everything

# scikit-learn warns when a pruned graph is disconnected; spectral clustering still runs (that is the point).
warnings.filterwarnings("ignore", message="Graph is not fully connected")


def spectral_clustering(A, p, seed):
    """Labels and the spectral embedding, as SpectralClustering(affinity='precomputed') computes them.

    LOBPCG instead of scikit-learn's default ARPACK: the same eigenvectors, about 5x faster here.
    """
    U = spectral_embedding(A, n_components=p, random_state=seed, drop_first=False, eigen_solver="lobpcg")
    labels = KMeans(p, n_init=10, random_state=seed).fit_predict(U)
    return labels, U


def prune_farthest(A, Z, labels, p, n_far=1):
    """Remove every edge between each cluster and its n_far farthest clusters (centroids of rows of Z)."""
    cents = np.stack([Z[labels == r].mean(0) for r in range(p)])
    D = ((cents[:, None, :] - cents[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, -np.inf)
    far = np.argsort(-D, axis=1, kind="stable")[:, :min(n_far, p - 1)]
    banned = np.zeros((p, p), dtype=bool)
    banned[np.repeat(np.arange(p), far.shape[1]), far.ravel()] = True
    banned |= banned.T
    E = sp.triu(A, k=1).tocoo()
    keep = ~banned[labels[E.row], labels[E.col]]
    U = sp.csr_matrix((E.data[keep], (E.row[keep], E.col[keep])), shape=A.shape)
    return (U + U.T).tocsr(), int((~keep).sum())


def modularity_guided(A, X, p, seed, *, max_iter, n_far=1, centroid_space="features", q_partition="new",
                      stop=True):
    """Algorithm 1. Returns the output graph, its clustering and the per-round history.

    stop=False ignores the modularity test and runs max_iter rounds (for the trace figure); then the last
    graph is returned.
    """
    c, U = spectral_clustering(A, p, seed)
    Q = graphs.modularity(A, c)
    hist = [dict(round=0, Q=Q, labels=c, removed=0, edges=A.nnz // 2, accepted=True)]
    for t in range(1, max_iter + 1):
        Z = X if centroid_space == "features" else U
        A_new, removed = prune_farthest(A, Z, c, p, n_far)
        c_new, U_new = spectral_clustering(A_new, p, seed)
        Q_new = graphs.modularity(A_new, c_new if q_partition == "new" else c)
        accepted = Q_new > Q + 1e-12
        hist.append(dict(round=t, Q=Q_new, labels=c_new, removed=removed, edges=A_new.nnz // 2,
                         accepted=bool(accepted)))
        if stop and not accepted:
            break
        A, c, U, Q = A_new, c_new, U_new, Q_new
    return A, c, hist


# %% [markdown]
# **The other graph constructions.** All graphs are unweighted, as in Eq. 1, and get the same spectral
# clustering.
#
# - *kNN*: $i \sim j$ when either is among the other's $k = 10$ nearest neighbours (the paper's starting graph).
# - *mutual kNN*: only when each is among the other's $k$ nearest neighbours.
# - *epsilon*: $i \sim j$ when $\lVert x_i - x_j \rVert \le \varepsilon$, with $\varepsilon$ set, without
#   labels, so that the mean degree is $k$ (the same edge budget as the directed kNN graph).
# - *consensus kNN*, our simplified reading of Premachandran & Kakarala (CVPR 2013), the paper's baseline
#   [1]: the consensus of a kNN edge $i \to j$ is the share of $i$'s $k$ neighbours that also have $j$ among
#   their $k$ neighbours, $\kappa_{ij} = \frac1k \lvert\{l \in N_k(i) : j \in N_k(l)\}\rvert$; edges with
#   $\kappa_{ij} < \tau$ (knob `consensus_tau`, fixed at 0.3 before any run) are removed, except that every
#   point keeps its nearest neighbour.
#
# LGSS (Kalofolias & Perraudin, ICLR 2019) and spectral sparsification (Wang & Feng, BMVC 2022), the
# paper's two other baselines, are not implemented here (see the notes).

# %%
def consensus_knn(X, k, tau):
    idx, _ = graphs.knn_indices(X, k)
    n = len(idx)
    B = sp.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    votes = (B @ B).multiply(B) / k  # kappa_ij on the kNN edges i -> j
    keep = votes >= tau
    first = sp.csr_matrix((np.ones(n), (np.arange(n), idx[:, 0])), shape=(n, n))
    D = (keep.astype(float) + first) > 0
    A = D.maximum(D.T).astype(float).tocsr()
    A.eliminate_zeros()
    return A


BUILDERS = {
    "kNN": lambda X: graphs.knn_adjacency(X, cfg.k, mode="union"),
    "mutual kNN": lambda X: graphs.knn_adjacency(X, cfg.k, mode="mutual"),
    "epsilon": lambda X: graphs.epsilon_adjacency(X, graphs.epsilon_for_mean_degree(X, cfg.k)),
    "consensus": lambda X: consensus_knn(X, cfg.k, cfg.consensus_tau),
}
METHODS = list(BUILDERS) + ["MG (ours)"]

# %% [markdown]
# ## The experiment
#
# **Data.** The paper's datasets (COIL-20, PenDigits, USPS) are not bundled with any installed package and
# the book runs offline, so we use:
#
# - the four classification sets that ship with scikit-learn: *iris* (150 points, 3 classes), *wine*
#   (178, 3), *breast_cancer* (569, 2), all z-scored, and *digits* (1,797 8x8 images, 10 classes, pixels
#   scaled to $[0, 1]$), the closest relative of PenDigits and USPS (handwritten digits, 10 classes);
# - *noisy_digits*: digits plus Gaussian pixel noise of standard deviation 0.3, a harder digit set on which
#   the kNN graph makes many cross-class links, as the paper's USPS graph (64 % ACC) apparently does;
# - *blobs*: 10 overlapping Gaussian clusters in 8 dimensions (standard deviation 4.5), and *moons*: the
#   two-moons set of the paper's Fig. 1 with noise 0.12.
#
# The synthetic sets are redrawn per seed; on the bundled sets the seed only changes the k-means restarts.
# The number of clusters $p$ is the number of classes, and nothing is tuned: $k = 10$ and one farthest
# cluster are the paper's values, the other settings are fixed in the profile before any run.

# %%
def load(name, s):
    rng = np.random.default_rng(1000 + s)
    if name in ("iris", "wine", "breast_cancer"):
        X, y = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}[name](return_X_y=True)
        return StandardScaler().fit_transform(X), y
    if name in ("digits", "noisy_digits"):
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        if name == "noisy_digits":
            X = X + rng.normal(0.0, cfg.noise, X.shape)
        return X, y
    if name == "blobs":
        return make_blobs(cfg.n_synthetic, n_features=8, centers=10, cluster_std=4.5, random_state=s)
    return make_moons(int(0.4 * cfg.n_synthetic), noise=0.12, random_state=s)


def scores(y, c):
    return dict(acc=cluster.clustering_accuracy(y, c),
                nmi=normalized_mutual_info_score(y, c, average_method="geometric"),
                ari=adjusted_rand_score(y, c))


rows, diag, times = [], [], []
for s in run.seeds:
    seed_everything(s)
    for name in cfg.datasets:
        X, y = load(name, s)
        p = len(np.unique(y))
        for meth in METHODS:
            t0 = time.perf_counter()
            if meth == "MG (ours)":
                A = graphs.knn_adjacency(X, cfg.k)
                A_out, c, hist = modularity_guided(A, X, p, s, max_iter=cfg.max_iter, n_far=cfg.n_far,
                                                   centroid_space=cfg.centroid_space,
                                                   q_partition=cfg.q_partition)
                build = time.perf_counter() - t0  # includes its internal spectral clusterings
                acc_rounds = sum(h["accepted"] for h in hist[1:])
                diag.append(dict(dataset=name, seed=s, rounds_accepted=acc_rounds, rounds_run=len(hist) - 1,
                                 edges_knn=hist[0]["edges"], edges_out=A_out.nnz // 2,
                                 removed_share=1 - (A_out.nnz // 2) / hist[0]["edges"],
                                 Q_knn=hist[0]["Q"], Q_out=graphs.modularity(A_out, c)))
            else:
                A = BUILDERS[meth](X)
                build = time.perf_counter() - t0
                c, _ = spectral_clustering(A, p, s)
            rows.append(dict(dataset=name, seed=s, method=meth, edges=A.nnz // 2 if meth != "MG (ours)" else A_out.nnz // 2,
                             **scores(y, c)))
            times.append(dict(dataset=name, seed=s, method=meth, n=len(X), build_s=build))

res = pd.DataFrame(rows)
diag = pd.DataFrame(diag)
times = pd.DataFrame(times)
summary = res.groupby(["dataset", "method"], sort=False)[["acc", "nmi", "ari"]].mean().unstack("method")
print("Clustering accuracy (mean over seeds):")
summary["acc"][METHODS].round(4)

# %%
print("NMI (mean over seeds):")
summary["nmi"][METHODS].round(4)

# %% [markdown]
# What the pruning actually did: how many rounds were accepted, the share of kNN edges it removed, and the
# modularity of the kNN graph (under its spectral clustering) and of the output graph.

# %%
diag.groupby("dataset", sort=False)[["rounds_accepted", "edges_knn", "removed_share", "Q_knn", "Q_out"]].mean().round(4)

# %%
fig, ax = plt.subplots(figsize=(10, 4))
m = res.groupby(["dataset", "method"], sort=False)["acc"].agg(["mean", "std"]).reset_index()
width = 0.8 / len(METHODS)
pos = np.arange(len(cfg.datasets))
for i, meth in enumerate(METHODS):
    part = m[m.method == meth].set_index("dataset").loc[cfg.datasets]
    ax.bar(pos + i * width, part["mean"], width, yerr=part["std"].fillna(0), label=meth)
ax.set_xticks(pos + 0.4 - width / 2, cfg.datasets, rotation=20)
ax.set_ylim(0.4, 1.02)
ax.set_xlabel("dataset")
ax.set_ylabel("clustering accuracy (Hungarian)")
ax.set_title("Spectral clustering on five graph constructions (mean ± std over seeds)")
ax.legend(ncol=5, fontsize=8, loc="lower left")
plt.tight_layout()
plt.savefig(run.figure_path("accuracy_by_graph.png"), dpi=100)
plt.show()

# %% [markdown]
# **Variants of the rule.** The paper leaves open where centroids are measured and prunes only the single
# farthest cluster. The variants below (a fixed grid, no choice is made from it) show whether a looser
# reading helps: centroids in the spectral embedding, and pruning the three farthest clusters. The number
# is the mean ACC gain over the kNN graph, in points, on `variant_datasets` (two sets in smoke, all in full).

# %%
VARIANTS = {"features, 1 far (paper)": ("features", 1), "embedding, 1 far": ("embedding", 1),
            "features, 3 far": ("features", 3), "embedding, 3 far": ("embedding", 3)}
var_rows = []
for s in run.seeds:
    for name in VARIANT_SETS:
        X, y = load(name, s)
        p = len(np.unique(y))
        A = graphs.knn_adjacency(X, cfg.k)
        base = res[(res.dataset == name) & (res.seed == s) & (res.method == "kNN")].acc.item()
        for vname, (space, nf) in VARIANTS.items():
            if (space, nf) == (cfg.centroid_space, cfg.n_far):  # the main run's setting: reuse its result
                mg = res[(res.dataset == name) & (res.seed == s) & (res.method == "MG (ours)")].acc.item()
                var_rows.append(dict(dataset=name, seed=s, variant=vname, gain_pp=100 * (mg - base)))
                continue
            _, c, _ = modularity_guided(A, X, p, s, max_iter=cfg.max_iter, n_far=nf, centroid_space=space,
                                        q_partition=cfg.q_partition)
            var_rows.append(dict(dataset=name, seed=s, variant=vname,
                                 gain_pp=100 * (cluster.clustering_accuracy(y, c) - base)))
variants = pd.DataFrame(var_rows, columns=["dataset", "seed", "variant", "gain_pp"])
variants = variants.groupby(["dataset", "variant"], sort=False).gain_pp.mean().unstack("variant")
variants.reindex(columns=list(VARIANTS)).round(2)

# %% [markdown]
# **Modularity and accuracy along the iterations (the paper's Figs. 2–3).** On `trace_dataset` we run
# `trace_iters` rounds without the stopping test and record modularity and ACC after each round. (Spearman's
# correlation of the two series, printed below, is undefined when ACC does not move at all.)

# %%
trace_rows = []
for s in run.seeds:
    X, y = load(cfg.trace_dataset, s)
    p = len(np.unique(y))
    _, _, hist = modularity_guided(graphs.knn_adjacency(X, cfg.k), X, p, s, max_iter=cfg.trace_iters,
                                   n_far=cfg.n_far, centroid_space=cfg.centroid_space,
                                   q_partition=cfg.q_partition, stop=False)
    for h in hist:
        trace_rows.append(dict(seed=s, round=h["round"], Q=h["Q"], acc=cluster.clustering_accuracy(y, h["labels"]),
                               removed=h["removed"]))
trace = pd.DataFrame(trace_rows)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for s, part in trace.groupby("seed"):
    axes[0].plot(part["round"], part["acc"], marker="o", label=f"seed {s}")
    axes[1].plot(part["round"], part["Q"], marker="o", label=f"seed {s}")
axes[0].set_title(f"ACC through pruning rounds ({cfg.trace_dataset})")
axes[1].set_title(f"Modularity through pruning rounds ({cfg.trace_dataset})")
for ax, lab in zip(axes, ("clustering accuracy", "modularity Q")):
    ax.set_xlabel("pruning round")
    ax.set_ylabel(lab)
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.savefig(run.figure_path("trace.png"), dpi=100)
plt.show()
from scipy.stats import spearmanr

print("Spearman rho(Q, ACC) over all rounds and seeds:", spearmanr(trace.Q, trace.acc).statistic)
trace.groupby("round")[["Q", "acc", "removed"]].mean().round(4)

# %% [markdown]
# **Construction time.** Wall seconds to build each graph from the data matrix (the MG time includes its
# kNN graph and every spectral clustering inside the loop). This machine runs one thread and is shared,
# so the numbers are indicative only.

# %%
tt = times.groupby(["dataset", "method"], sort=False).build_s.mean().unstack("method")[METHODS]
tt.round(3)

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Each measured value is one number per (seed, dataset); methods are paired on
# the same data and k-means seeds. `Better` asks for a mean gain beyond two standard errors of the paired
# differences (with one seed it decides on the number alone, so a tie counts as "not reproduced"). The
# paper's datasets are absent, so absolute accuracies are not compared with its tables; the claims are
# relative. For the accuracy gain we require at least 3 points (half the smallest gain the paper reports,
# 6.5 points on COIL-20) on each dataset; `AllOf` says `partly` when it holds on some datasets only.
# The timing claim compares on the largest dataset of the run.

# %%
def per(meth, metric, name):
    part = res[(res.method == meth) & (res.dataset == name)].sort_values("seed")
    return part[metric].round(6).tolist()


ledger = rb.Ledger()
meas = {}
for name in cfg.datasets:
    meas[f"MG_{name}"] = per("MG (ours)", "acc", name)
    meas[f"kNN_{name}"] = per("kNN", "acc", name)
ledger.claim("acc-gain-over-knn",
             "Pruning the kNN graph by the modularity-guided rule raises spectral-clustering ACC by several points on every dataset",
             paper="+6.50 / +12.06 / +16.24 points over k-NN on COIL20 / PenDigits / USPS (75.72→82.22, 74.36→86.42, 64.31→80.55 %, Table 1)",
             measured=meas,
             rule=rb.AllOf(*[rb.Better(f"MG_{n}", f"kNN_{n}", margin=0.03) for n in cfg.datasets]))

meas = {}
for name in cfg.datasets:
    meas[f"MG_{name}"] = per("MG (ours)", "nmi", name)
    meas[f"kNN_{name}"] = per("kNN", "nmi", name)
ledger.claim("nmi-gain-over-knn",
             "The pruned graph gives a higher NMI than the kNN graph on every dataset",
             paper="0.88 vs 0.86, 0.81 vs 0.79, 0.85 vs 0.79 (COIL20 / PenDigits / USPS, Table 2)",
             measured=meas,
             rule=rb.AllOf(*[rb.Better(f"MG_{n}", f"kNN_{n}") for n in cfg.datasets]))

meas = {}
for name in cfg.datasets:
    meas[f"MG_{name}"] = per("MG (ours)", "acc", name)
    meas[f"consensus_{name}"] = per("consensus", "acc", name)
ledger.claim("acc-beats-consensus",
             "The pruned graph gives a higher ACC than the consensus-kNN graph on every dataset",
             paper="82.22 vs 81.60, 86.42 vs 71.08, 80.55 vs 68.54 % (COIL20 / PenDigits / USPS, Table 1)",
             measured=meas,
             rule=rb.AllOf(*[rb.Better(f"MG_{n}", f"consensus_{n}") for n in cfg.datasets]))

meas, rules = {}, []
for name in cfg.datasets:
    meas[f"MG_{name}"] = per("MG (ours)", "acc", name)
    for other in ("mutual kNN", "epsilon"):
        key = f"{other.split()[0]}_{name}"
        meas[key] = per(other, "acc", name)
        rules.append(rb.Better(f"MG_{name}", key))
ledger.claim("acc-beats-other-constructions",
             "The pruned graph gives a higher ACC than the mutual-kNN and epsilon graphs (our extra baselines) on every dataset",
             paper="'significantly outperforms state-of-the-art graph construction methods' (Abstract); these two graphs are not in its tables",
             measured=meas, rule=rb.AllOf(*rules))

first = trace[trace["round"] == 0].sort_values("seed")
last = trace[trace["round"] == cfg.trace_iters].sort_values("seed")
ledger.claim("acc-and-q-rise-together",
             f"Over the pruning rounds both modularity and ACC rise ({cfg.trace_dataset}, last round vs the kNN graph)",
             paper="ACC and Q increase together over 10 iterations on PenDigits (Figs. 2–3, no numbers printed)",
             measured={"Q_last": last.Q.round(6).tolist(), "Q_kNN": first.Q.round(6).tolist(),
                       "ACC_last": last.acc.round(6).tolist(), "ACC_kNN": first.acc.round(6).tolist()},
             rule=rb.AllOf(rb.Better("Q_last", "Q_kNN"), rb.Better("ACC_last", "ACC_kNN")))

largest = max(cfg.datasets, key=lambda n: times[times.dataset == n].n.max())
tsub = times[times.dataset == largest]
t_mg = tsub[tsub.method == "MG (ours)"].sort_values("seed").build_s.tolist()
t_cons = tsub[tsub.method == "consensus"].sort_values("seed").build_s.tolist()
ledger.claim("faster-than-consensus",
             f"Building the MG graph is at least 10x faster than building the consensus-kNN graph (largest dataset here: {largest})",
             paper="7.87 vs 172.51 s (22x) on PenDigits, 5.01 vs 574.28 s (115x) on USPS; slower on COIL20, 6.32 vs 2.43 s (Table 3)",
             measured={"speedup": [c / m_ for c, m_ in zip(t_cons, t_mg)]},
             rule=rb.AtLeast("speedup", 10.0), volatile=True)

ledger.claim("vs-lgss-and-sparsification",
             "The pruned graph beats LGSS on PenDigits and spectral sparsification on all three datasets",
             paper="ACC 86.42 vs 74.53 (LGSS) and 83.26 (Spectral Spar) on PenDigits; LGSS wins on COIL20 and USPS (Table 1)",
             rule=rb.NotTestable("LGSS and spectral sparsification are not implemented here, and COIL-20, PenDigits "
                                 "and USPS are not available offline"))

for name in cfg.datasets:
    for meth in METHODS:
        tag = meth.split()[0].replace("MG", "mg").lower()
        run.log(**{f"acc_{name}_{tag}": per(meth, "acc", name), f"nmi_{name}_{tag}": per(meth, "nmi", name),
                   f"ari_{name}_{tag}": per(meth, "ari", name)})
    d = diag[diag.dataset == name].sort_values("seed")
    run.log(**{f"mg_rounds_{name}": d.rounds_accepted.tolist(),
               f"mg_removed_share_{name}": d.removed_share.round(6).tolist()})
run.log(trace_Q=trace.Q.round(6).tolist(), trace_acc=trace.acc.round(6).tolist(),
        variant_gain_pp={f"{n} | {v}": round(float(variants.loc[n, v]), 4) for n in VARIANT_SETS
                         for v in VARIANTS})
run.log_timing(**{f"build_s_{n}_{meth.split()[0].lower()}": tt.loc[n, meth].round(4) for n in cfg.datasets
                  for meth in METHODS})
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data.** COIL-20, PenDigits and USPS are not available offline; we use the four scikit-learn sets and
#   three synthetic ones (see the experiment). Digits is the stand-in for the two handwritten-digit sets;
#   it is smaller (1,797 points) and the kNN graph on it is already good (about 81 % ACC), which leaves less
#   room than the paper's 64–75 %. The noisy variant makes the kNN graph worse on purpose.
# - **Why the rule barely moves.** The output graph differs from the kNN graph only by the edges between a
#   cluster and its farthest cluster, and in a kNN graph such pairs are rarely adjacent: two clusters whose
#   centroids are the farthest apart are separated by the whole data cloud. The diagnostic table shows how
#   few edges are removed (none at all on digits, about 0.1 % on blobs, at most about 4 % on any set).
#   Clustering errors on these sets come from
#   *neighbouring* clusters that the spectral clustering merges or splits, and those edges are never
#   touched. On two-cluster sets (breast_cancer, moons) the farthest cluster is the only other cluster, so
#   one round removes every edge across the current cut; the next clustering then finds the same cut, so
#   ACC cannot change either. Where edges are removed inside a confused region (noisy digits), the next
#   clustering can even get worse: the full run lost 1.7 points there on average over five seeds.
#   This agrees with the planning pilot, which also found gains of at most about
#   1.5 points. The paper's 6–16 point gains are not reproduced here; whether they appear on its three
#   datasets, or depend on an unstated detail (a weighted graph, another spectral-clustering variant, a
#   different distance for the centroids), we cannot tell from the paper.
# - **Stopping rule.** Algorithm 1 prints the loop condition inverted ("while the modularity does not
#   increase"); we follow Sect. 3.3: stop as soon as a round does not raise $Q$. The paper does not say
#   which graph is returned when the last round lowered $Q$; we return the last graph that raised it, and
#   its clustering. It also does not say under which partition $Q$ of a pruned graph is measured; we use the
#   partition found on the pruned graph (`q_partition="new"`); `"old"` uses the one that drove the pruning,
#   under which removing inter-cluster edges almost always raises $Q$. The cap `max_iter` is ours (10 in
#   smoke, 20 in full; no run accepted more than two rounds).
# - **Centroids.** "Distance between cluster centroids" is read in the input space (`centroid_space`);
#   the variants table also shows the spectral-embedding reading and pruning the 3 farthest clusters.
# - **Graph weights and clustering.** Eq. 1 defines modularity on a 0/1 adjacency matrix, so all graphs are
#   unweighted. Spectral clustering is scikit-learn's (normalised-Laplacian embedding with $p$ eigenvectors,
#   then k-means with 10 restarts); the paper says only "the classic spectral clustering algorithm" and
#   used MATLAB.
# - **Baselines.** Consensus kNN is our simplified version of Premachandran & Kakarala's consensus
#   filtering (a single neighbourhood size and a fixed threshold $\tau = 0.3$, not tuned); mutual kNN and the
#   epsilon graph are the extra constructions asked for in this book's plan. LGSS and spectral
#   sparsification are not implemented, so the claims involving them are marked not testable. Unweighted
#   mutual-kNN and epsilon graphs at this edge budget fall apart into many small components (isolated points
#   in sparse regions); spectral clustering then spends clusters on those components, which explains their
#   low accuracies. They are reported as measured; a weighted or connectivity-repaired version would do
#   better, and the claim against them is ours, not the paper's.
# - **Timing.** The paper's speed-ups compare its MATLAB code with the baselines' published code on
#   7,000–9,000 points. Our consensus kNN is a sparse matrix product costing little more than the kNN
#   search, whereas the modularity-guided graph needs several spectral clusterings, so the comparison here
#   says more about implementations than about the methods; it is reported, marked volatile, and not
#   compared by the smoke regression.
# - **Paper inconsistencies.** The text claims a 12-point gain over the second-best method on PenDigits,
#   but the second best in Table 1 is spectral sparsification at 83.26 % (3.16 points behind 86.42 %; the
#   12-point gap is to the kNN graph). It calls the gains "consistent" and says the method "significantly
#   outperforms" the state of the art, yet LGSS is more accurate on COIL-20 (85.49 vs 82.22 %) and USPS
#   (81.50 vs 80.55 %) and has a higher NMI on both. The evaluation formula Eq. 2 sums over $j$ but
#   indexes $y_i$ and $c_i$; we read it as a sum over points $i$.

# %% [markdown]
# ## Exercises
#
# 1. Show that removing one edge between two different clusters of a fixed partition can *lower*
#    modularity. When does it raise it?
#
# ```{admonition} Solution
# :class: dropdown
# Write $Q = \sum_r [L_r/(2m) - (K_r/(2m))^2]$. Removing an edge between clusters $a$ and $b$ keeps all
# $L_r$, lowers $2m$ by 2 and lowers $K_a$ and $K_b$ by 1. The first sum $\sum_r L_r/(2m)$ can only rise
# (it stays 0 if there are no inner edges), but the penalty of every *other* cluster rises too, because its
# share $K_r/(2m)$ of the degree grows. Smallest example: a triangle with every vertex in its own cluster.
# Then $Q = -3\,(2/6)^2 = -1/3$; after removing one edge the degrees are $1, 1, 2$ with $2m = 4$, so
# $Q = -(1 + 1 + 4)/16 = -3/8 < -1/3$. $Q$ rises when the clusters hold most of the edges inside them:
# for large sparse graphs with a good partition the gain in $\sum_r L_r/(2m)$ (about $2 \sum_r L_r/(2m)^2$)
# outweighs the change of the penalty, which is the argument of the paper's Sect. 3.2.
# ```
#
# 2. Count, for the kNN graph of `digits`, the edges between each cluster of the initial spectral
#    clustering and its farthest cluster. Then count the edges between each cluster and its *nearest*
#    cluster. What does this say about which edges a pruning rule would need to touch to raise accuracy?
#
# ```{admonition} Solution
# :class: dropdown
# Use `prune_farthest` on the kNN graph and the initial labels and read the returned count: it is 0 on
# digits (seed 0), since the farthest clusters share no kNN edges. For the nearest cluster, set the diagonal
# of the centroid distance matrix to $+\infty$ and take the `argmin` per row: about 150 of the 345
# inter-cluster edges (out of 12,340 edges in all) join a cluster to its nearest cluster. The clustering errors come from confusions between similar
# digits (1 and 7, 3 and 9, 4 and 9, ...), whose clusters are close; a rule that only touches edges between
# far clusters cannot fix them, while one that prunes near clusters risks cutting true within-class edges
# (the paper's reason for choosing the farthest).
# ```
#
# 3. Run the chapter with `q_partition="old"`. How many rounds are accepted now, and does ACC change?
#
# ```{admonition} Solution
# :class: dropdown
# With the old partition every round that removes at least one edge raises $Q$ (up to the small-graph
# exception of exercise 1), so the loop runs until a round removes nothing. On noisy digits (seed 0) that
# takes four accepted rounds instead of one (49, 1 and 4 edges removed), on wine and digits nothing
# changes. ACC does not move in either case: the stopping test was never the bottleneck, the choice of
# edges is.
# ```
