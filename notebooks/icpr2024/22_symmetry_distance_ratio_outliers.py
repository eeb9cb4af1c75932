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
# # A Novel Outlier Detection Algorithm Based on Symmetry and Distance Ratio
#
# **Chapter `icpr2024-22`.** Haoyu Zhai, Zexuan Fei and Yan Ma. *A Novel Outlier Detection Algorithm Based
# on Symmetry and Distance Ratio.* In: Pattern Recognition, ICPR 2024 (27th International Conference on
# Pattern Recognition), Proceedings Part X, Lecture Notes in Computer Science vol. 15310, pp. 331–344.
# Springer, 2025. (Our copy of the paper prints no DOI.)
#
# **The idea.** Distance- and density-based outlier scores (the distance to the $k$-th neighbour, LOF)
# compare a point with a global or local scale, so clusters of different density or elongated shapes
# confuse them. The paper builds a score from two *ratios* of neighbourhood distances, which carry no
# unit. The first asks whether a point is surrounded: reflect each of its $k$ nearest neighbours through
# the point and see whether data lie near those mirror images. Inside a cluster they do; at an edge or in
# empty space the nearest thing to each mirror image is the point itself. The second compares how far the
# point is from its neighbours with how far the neighbours are from theirs; an isolated point is much
# farther from them than they are from each other. The difference of the two ratios, rescaled, is the
# outlier degree, and an interquartile-range rule on its distribution picks the outliers without a
# contamination rate. The paper judges the detector mostly indirectly: it removes the detected outliers,
# clusters the rest, and reports how much the clustering improves.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (more seeds, finer sweeps; a few minutes on one CPU core)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # unused: everything here is small NumPy / scikit-learn work on the CPU
data_root = None  # unused: Wine and WDBC ship with scikit-learn, the 2-D sets are generated
k: int | None = None  # neighbours of the proposed detector and of the kNN-distance baseline (paper: 10)
r: float | None = None  # IQR multiplier of the threshold ub = Q3 + r IQR (paper: 0.5; Tukey: 1.5)
norm: str | None = None  # the unspecified NORM of Eq. 5: "minmax" (ours), "zscore" or "none"
quartiles: str | None = None  # "paper" (order statistics of Eqs. 6-7) or "numpy" (interpolated)
scaling: str | None = None  # feature scaling of the real data before everything: "minmax", "standard", "none"
dpc_kernel: str | None = None  # density of DPC: "gaussian" or "cutoff"
dc_percent: float | None = None  # DPC cut-off distance as a percentile of pairwise distances, in (0, 100)
n_outliers: int | None = None  # outliers sampled from the minority class in the down-sampled benchmarks
r_grid: list | None = None  # values of r for the parameter analysis (paper's Fig. 6: 0 to 3)
k_grid: list | None = None  # values of k for the sensitivity sweep
density_ratios: list | None = None  # density ratios of the two-cluster stress test, each >= 1

# %%
import reprobook as rb

PROFILES = {
    "smoke": dict(k=10, r=0.5, norm="minmax", quartiles="paper", scaling="minmax", dpc_kernel="gaussian",
                  dc_percent=2.0, n_outliers=10, r_grid=[0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0],
                  k_grid=[5, 10, 20], density_ratios=[1.0, 10.0], n_seeds=1),
    "full": dict(k=10, r=0.5, norm="minmax", quartiles="paper", scaling="minmax", dpc_kernel="gaussian",
                 dc_percent=2.0, n_outliers=10,
                 r_grid=[0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0],
                 k_grid=[5, 7, 10, 15, 20, 30], density_ratios=[1.0, 2.0, 5.0, 10.0, 20.0], n_seeds=10),
}
run = rb.start("icpr2024-22", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(k=k, r=r, norm=norm, quartiles=quartiles, scaling=scaling, dpc_kernel=dpc_kernel,
                          dc_percent=dc_percent, n_outliers=n_outliers, r_grid=r_grid, k_grid=k_grid,
                          density_ratios=density_ratios))
cfg = run.cfg

if not 2 <= cfg.k <= 50:
    raise rb.ParameterError(f"k={cfg.k}: allowed is an integer in [2, 50]")
if not cfg.r >= 0:
    raise rb.ParameterError(f"r={cfg.r}: must be >= 0")
if cfg.norm not in ("minmax", "zscore", "none"):
    raise rb.ParameterError(f"norm={cfg.norm!r}: allowed are 'minmax', 'zscore', 'none'")
if cfg.quartiles not in ("paper", "numpy"):
    raise rb.ParameterError(f"quartiles={cfg.quartiles!r}: allowed are 'paper' (Eqs. 6-7) or 'numpy'")
if cfg.scaling not in ("minmax", "standard", "none"):
    raise rb.ParameterError(f"scaling={cfg.scaling!r}: allowed are 'minmax', 'standard', 'none'")
if cfg.dpc_kernel not in ("gaussian", "cutoff"):
    raise rb.ParameterError(f"dpc_kernel={cfg.dpc_kernel!r}: allowed are 'gaussian' or 'cutoff'")
if not 0 < cfg.dc_percent < 100:
    raise rb.ParameterError(f"dc_percent={cfg.dc_percent}: must be in (0, 100)")
if not 2 <= cfg.n_outliers <= 40:
    raise rb.ParameterError(f"n_outliers={cfg.n_outliers}: allowed is an integer in [2, 40]")
if not cfg.r_grid or not all(isinstance(v, (int, float)) and v >= 0 for v in cfg.r_grid) or 0.5 not in cfg.r_grid:
    raise rb.ParameterError(f"r_grid={cfg.r_grid!r}: a list of values >= 0 that contains the paper's 0.5")
if not cfg.k_grid or not all(isinstance(v, int) and 2 <= v <= 50 for v in cfg.k_grid):
    raise rb.ParameterError(f"k_grid={cfg.k_grid!r}: a non-empty list of integers in [2, 50]")
if (not cfg.density_ratios or not all(isinstance(v, (int, float)) and v >= 1 for v in cfg.density_ratios)
        or 1.0 not in cfg.density_ratios or len(cfg.density_ratios) < 2):
    raise rb.ParameterError(f"density_ratios={cfg.density_ratios!r}: at least two values >= 1, including 1")
print("resolved knobs:", vars(cfg))

# %% [markdown]
# ## The method
#
# **Neighbours.** For data $X = \{x_1, \dots, x_N\} \subset \mathbb{R}^d$ with Euclidean distance $d$,
# $kNN(x_i)$ is the set of the $k$ points nearest to $x_i$ (itself excluded) and $NN_1(z)$ the data
# point nearest to an arbitrary location $z$ (Eq. 1).
#
# **Symmetry ratio (Eqs. 2–3).** Mirror each neighbour $x_j \in kNN(x_i)$ through $x_i$,
# $\bar x_j = 2x_i - x_j$, and compare the distance from each mirror image to the data with the
# neighbour distance:
#
# $$ \mathcal R_s(x_i) = \frac{\sum_{x_j \in kNN(x_i)} d\big(\bar x_j, NN_1(\bar x_j)\big)}
#                             {\sum_{x_j \in kNN(x_i)} d(x_i, x_j)} . $$
#
# Because $x_i$ itself lies at distance $d(\bar x_j, x_i) = d(x_i, x_j)$ from $\bar x_j$, every term of the
# numerator is at most the matching term of the denominator: $0 \le \mathcal R_s \le 1$, with
# $\mathcal R_s = 1$ when no data point lies on the far side of $x_i$ from any of its neighbours.
#
# **Distance ratio (Eq. 4).** With $\bar d_k(x) = \frac1k \sum_{y \in kNN(x)} d(x, y)$ the mean neighbour
# distance,
#
# $$ \mathcal R_d(x_i) = \frac{\sum_{x_j \in kNN(x_i)} \sum_{x_m^j \in kNN(x_j)} d(x_j, x_m^j)}
#                             {k \sum_{x_j \in kNN(x_i)} d(x_i, x_j)}
#                     = \frac{\frac1k \sum_{x_j \in kNN(x_i)} \bar d_k(x_j)}{\bar d_k(x_i)} , $$
#
# about 1 inside a cluster and well below 1 for a point far from its neighbours.
#
# **Outlier degree (Eq. 5)** $\; \mathcal O(x_i) = \operatorname{NORM}\big(\mathcal R_s(x_i) - \mathcal R_d(x_i)\big)$,
# larger meaning more outlying. The paper does not say what NORM is; we use min–max scaling to $[0, 1]$.
# Any increasing affine map gives the same ranking and, below, the same outlier set.
#
# **Threshold (Eqs. 6–10).** Sort the degrees, $\mathcal O_{(1)} \le \dots \le \mathcal O_{(N)}$; take
# $Q_1 = \mathcal O_{(\mathrm{round}(0.25N))}$, $Q_3 = \mathcal O_{(\mathrm{round}(0.75N))}$,
# $IQR = Q_3 - Q_1$ and $ub = Q_3 + r \cdot IQR$; a point is an outlier when $\mathcal O(x_i) > ub$.
# The paper sets $k = 10$ and $r = 0.5$. Both ratios are invariant to translating, rotating and uniformly
# rescaling the data, and the cost is dominated by the $k$-NN search, $O(N \log N)$ with a k-d tree
# (Sect. 3; we use exact brute force, $O(N^2)$, fine for a few thousand points).
#
# The implementation lives in `reprobook.outliers`, unit-tested on a hand-computed example (four points on
# a line, below), on the paper's own IQR example (Fig. 3), on invariances and against scikit-learn; it is
# printed here so that nothing is hidden.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from reprobook import cluster, outliers

for fn in (outliers.symmetry_ratio, outliers.distance_ratio, outliers.outlier_degree, outliers.iqr_bounds):
    print(inspect.getsource(fn))

# %% [markdown]
# **A hand-computed example.** Four points on a line, $\{0, 1, 3, 7\}$, with $k = 2$. For $x = 3$ the
# neighbours are $1$ (distance 2) and $0$ (distance 3); their mirror images $5$ and $6$ lie at distances 2
# and 1 from the data, so $\mathcal R_s = 3/5$. The mean neighbour distances are $2, 1.5, 2.5, 5$, so
# $\mathcal R_d(3) = \tfrac12(1.5 + 2)/2.5 = 0.7$. The far point $7$ gets $\mathcal R_s = 1$ and
# $\mathcal R_d = 0.4$ and the largest degree. `tests/test_outliers.py` asserts these values.

# %%
line = np.array([0.0, 1.0, 3.0, 7.0])
print(pd.DataFrame({"x": line, "R_s": outliers.symmetry_ratio(line, 2), "R_d": outliers.distance_ratio(line, 2),
                    "O": outliers.outlier_degree(line, 2)}).round(4).to_string(index=False))

# %% [markdown]
# **The detectors compared.** Each returns a score (larger = more outlying) and a binary decision:
#
# - **Proposed**: the outlier degree with the IQR threshold ($k$ and $r$ from the parameters cell).
# - **LOF** (Breunig et al. 2000) and **IForest** (Liu et al. 2008): scikit-learn with its default
#   parameters, as the paper ran its baselines "with default parameters" (LOF: 20 neighbours; IForest: 100
#   trees; both decide with `contamination="auto"`).
# - **kNN-dist**: the distance to the $k$-th neighbour (Ramaswamy et al. 2000), not in the paper; the issue
#   asked for it as the plainest distance-based baseline. It decides with the same IQR rule as Proposed.
#
# The paper's other baselines, a convolutional recurrent autoencoder and MGBTAI, have no maintained
# implementation we could run offline; they are left out.

# %%
def detect(name, X, seed, k=None, r=None):
    """(score, is_outlier) of one detector on X; larger score = more outlying."""
    k = cfg.k if k is None else k
    r = cfg.r if r is None else r
    if name == "Proposed":
        s = outliers.outlier_degree(X, k, norm=cfg.norm)
        return s, outliers.iqr_outliers(s, r, cfg.quartiles)
    if name == "kNN-dist":
        s = outliers.knn_distance_score(X, k)
        return s, outliers.iqr_outliers(s, r, cfg.quartiles)
    if name == "LOF":
        m = LocalOutlierFactor()  # defaults
        pred = m.fit_predict(X)
        return -m.negative_outlier_factor_, pred == -1
    if name == "IForest":
        m = IsolationForest(random_state=seed).fit(X)  # defaults
        return -m.score_samples(X), m.predict(X) == -1
    raise ValueError(name)


DETECTORS = ["Proposed", "LOF", "IForest", "kNN-dist"]


def scores_of(y_out, s, pred):
    pr, re, f1 = outliers.detection_prf(pred, y_out)
    return dict(auc=roc_auc_score(y_out, s), p_at_n=outliers.precision_at_n(s, y_out), pr=pr, re=re, f1=f1,
                flagged=int(pred.sum()))


# %% [markdown]
# ## The experiment
#
# ### 1. Two-dimensional sets with known outliers
#
# The paper's four 2-D sets (Table 1: DS1 with seven round clusters, 788 points; DS2 with four linear
# clusters, 1268; DS3 with one curved cluster, three small round ones and global noise, 1427; DS4 with
# three curved clusters and one round one, 644) come from another paper of the same group and are not
# public in a form we can load offline. We generate look-alikes of the same sizes and structure, with
# clusters of different density, and add points drawn uniformly over the bounding box as outliers (about
# 5 %; 12 % for DS3's "global noise"). Ground truth is known by construction; a noise point that happens
# to fall inside a cluster still counts as an outlier, which caps every detector's recall alike. The paper
# shows only pictures for these sets (Fig. 4); we add numbers: ROC-AUC and precision at $n$ for the
# ranking, precision, recall and F1 for the binary decision.

# %%
def _noise(rng, pts, n):
    lo, hi = pts.min(0), pts.max(0)
    pad = 0.1 * (hi - lo)
    return rng.uniform(lo - pad, hi + pad, size=(n, 2))


def _arc(rng, n, centre, radius, a0, a1, width):
    t = rng.uniform(a0, a1, n)
    rad = radius + width * rng.normal(size=n)
    return np.c_[centre[0] + rad * np.cos(t), centre[1] + rad * np.sin(t)]


def _segment(rng, n, start, end, width):
    t = rng.uniform(0, 1, n)[:, None]
    return np.asarray(start) + t * (np.asarray(end) - np.asarray(start)) + width * rng.normal(size=(n, 2))


def make_2d(name, rng):
    """(X, is_outlier) of a DS1-DS4 look-alike; sizes as in the paper's Table 1."""
    if name == "DS1":  # seven round clusters of different spread and size
        sizes = [140, 120, 110, 100, 100, 90, 88]
        centres = [(0, 0), (8, 0), (16, 0), (4, 7), (12, 7), (0, 14), (16, 14)]
        stds = [1.0, 0.5, 0.8, 0.4, 0.9, 0.6, 0.3]
        parts = [c + s * rng.normal(size=(m, 2)) for m, c, s in zip(sizes, centres, stds)]
        n_noise = 40
    elif name == "DS2":  # four linear clusters
        segs = [((0, 0), (12, 2)), ((0, 5), (12, 9)), ((14, 0), (16, 12)), ((2, 12), (10, 16))]
        parts = [_segment(rng, m, a, b, w) for (a, b), m, w in zip(segs, [330, 300, 310, 268], [0.25, 0.15, 0.2, 0.1])]
        n_noise = 60
    elif name == "DS3":  # one curved cluster, three small round clusters, global noise
        parts = [_arc(rng, 900, (0, 0), 8.0, 0.2 * np.pi, 1.2 * np.pi, 0.4)]
        parts += [c + 0.4 * rng.normal(size=(120, 2)) for c in [(0.0, 1.0), (4.0, -3.0), (-5.0, -3.0)]]
        n_noise = 167
    elif name == "DS4":  # three curved clusters and one round cluster
        parts = [_arc(rng, 160, (0, 0), 4.0, 0.0, np.pi, 0.25), _arc(rng, 160, (4, 1), 4.0, np.pi, 2 * np.pi, 0.25),
                 _arc(rng, 140, (14, 0), 3.0, 0.5 * np.pi, 1.5 * np.pi, 0.2), (16, 6) + 0.6 * rng.normal(size=(144, 2))]
        n_noise = 40
    else:
        raise ValueError(name)
    inliers = np.vstack(parts)
    X = np.vstack([inliers, _noise(rng, inliers, n_noise)])
    return X, np.r_[np.zeros(len(inliers), bool), np.ones(n_noise, bool)]


SETS_2D = ["DS1", "DS2", "DS3", "DS4"]
t0 = time.perf_counter()
rows, shown = [], {}
for s in run.seeds:
    for ds in SETS_2D:
        X, y_out = make_2d(ds, np.random.default_rng([s, SETS_2D.index(ds)]))
        for det in DETECTORS:
            sc, pred = detect(det, X, s)
            rows.append(dict(seed=s, data=ds, detector=det, **scores_of(y_out, sc, pred)))
            if s == run.seed:
                shown[(ds, det)] = (X, y_out, pred)
syn = pd.DataFrame(rows)
print(f"2-D sets: {time.perf_counter() - t0:.1f} s")
syn.groupby(["data", "detector"])[["auc", "p_at_n", "pr", "re", "f1", "flagged"]].mean().round(3).unstack("data")

# %% [markdown]
# The decisions of each detector on the first seed's data, in the layout of the paper's Fig. 4: grey dots
# are points kept as normal, red dots points flagged as outliers; black rings mark the true outliers.

# %%
fig, axes = plt.subplots(len(DETECTORS), len(SETS_2D), figsize=(4 * len(SETS_2D), 3.4 * len(DETECTORS)))
for i, det in enumerate(DETECTORS):
    for j, ds in enumerate(SETS_2D):
        X, y_out, pred = shown[(ds, det)]
        ax = axes[i, j]
        ax.scatter(X[~pred, 0], X[~pred, 1], s=3, c="0.6")
        ax.scatter(X[pred, 0], X[pred, 1], s=6, c="tab:red")
        ax.scatter(X[y_out, 0], X[y_out, 1], s=22, facecolors="none", edgecolors="k", linewidths=0.5)
        f1 = syn[(syn.seed == run.seed) & (syn.data == ds) & (syn.detector == det)].f1.item()
        ax.set_title(f"{det} on {ds}: F1 {f1:.2f}", fontsize=10)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
fig.suptitle("Detected outliers (red) and true outliers (rings) on the 2-D look-alike sets", y=1.0)
fig.tight_layout()
fig.savefig(run.figure_path("detections_2d.png"), dpi=100)
plt.show()

# %% [markdown]
# **Which ratio does the work?** The outlier degree combines $\mathcal R_s$ and $\mathcal R_d$; scoring by
# each alone shows what each contributes (ROC-AUC, mean over seeds; not a claim of the paper).

# %%
abl = []
for s in run.seeds:
    for ds in SETS_2D:
        X, y_out = make_2d(ds, np.random.default_rng([s, SETS_2D.index(ds)]))
        for comp in ("both", "symmetry", "distance"):
            abl.append(dict(seed=s, data=ds, score=comp,
                            auc=roc_auc_score(y_out, outliers.outlier_degree(X, cfg.k, components=comp))))
abl = pd.DataFrame(abl)
abl.pivot_table(index="score", columns="data", values="auc").round(3)

# %% [markdown]
# ### 2. Does density matter?
#
# The paper states that its degree is unaffected by the density of the data but tests it only by eye. Two
# round clusters of 400 points each, the second squeezed so that its density is a given multiple of the
# first's, plus 40 uniform outliers. A density-independent score should rank as well at ratio 10 as at
# ratio 1. The same cluster and noise draws are reused for every ratio (only the spread changes), so the
# comparison between ratios is paired.

# %%
def make_density(ratio, rng):
    a = rng.normal(size=(400, 2))
    b = rng.normal(size=(400, 2)) / np.sqrt(ratio) + [6.0, 0.0]
    u = rng.uniform(0, 1, size=(40, 2))
    inl = np.vstack([a, b])
    lo, hi = np.array([-4.0, -4.0]), np.array([10.0, 4.0])
    return np.vstack([inl, lo + u * (hi - lo)]), np.r_[np.zeros(800, bool), np.ones(40, bool)]


dens = []
for s in run.seeds:
    for ratio in cfg.density_ratios:
        X, y_out = make_density(ratio, np.random.default_rng([s, 99]))
        for det in DETECTORS:
            sc, pred = detect(det, X, s)
            dens.append(dict(seed=s, ratio=ratio, detector=det, **scores_of(y_out, sc, pred)))
dens = pd.DataFrame(dens)
fig, ax = plt.subplots(figsize=(6, 3.8))
for det in DETECTORS:
    m = dens[dens.detector == det].groupby("ratio").auc.mean()
    ax.plot(m.index, m.values, marker="o", label=det)
ax.set_xscale("log")
ax.set_title("Ranking quality as one cluster gets denser")
ax.set_xlabel("density ratio of the two clusters")
ax.set_ylabel("ROC-AUC (mean over seeds)")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("density_stress.png"), dpi=120)
plt.show()
dens.pivot_table(index="detector", columns="ratio", values="auc").round(3)

# %% [markdown]
# ### 3. The paper's protocol on Wine and WDBC: denoise, cluster, score the clustering
#
# Wine (178 points, 13 features, 3 classes) and WDBC (569, 30, 2) are two of the paper's six datasets of
# Tables 2–3 and ship with scikit-learn, so here the data *are* the paper's. The protocol follows Sect. 4.3:
# detect outliers on the whole dataset, cluster the remaining points with density-peaks clustering (DPC,
# Rodriguez & Laio 2014) into as many clusters as there are classes, give every removed point the cluster
# of its nearest kept point, and score the clustering of *all* points against the classes by precision,
# recall and F1. "Origin" clusters without removing anything. The paper leaves open the feature scaling,
# DPC's density kernel and cut-off, and the definition of the clustering PR/RE (it cites another paper);
# we fixed min–max scaling, a Gaussian kernel with $d_c$ at the 2 % quantile of pairwise distances (the
# DPC paper's rule of thumb), and Hungarian-matched macro precision and recall with $F = 2PR \cdot RE /
# (PR + RE)$ (the paper's Eq. 13) before looking at any result; all are knobs. Only IForest depends on the
# seed; everything else here is deterministic. Of the paper's four clustering algorithms only DPC has a
# published description simple enough to reimplement faithfully; SMKNN, SMMP and CTCEHC are left out.

# %%
LOADERS = {"Wine": load_wine, "WDBC": load_breast_cancer}
SCALERS = {"minmax": MinMaxScaler, "standard": StandardScaler}


def load(name):
    X, y = LOADERS[name](return_X_y=True)
    if cfg.scaling != "none":
        X = SCALERS[cfg.scaling]().fit_transform(X)
    return X, y


def cluster_f1(X, y, removed):
    """(PR, RE, F1) of DPC on the kept points, removed points joining their nearest kept point's cluster."""
    kept = ~removed
    lab, _ = cluster.density_peaks(X[kept], len(np.unique(y)), cfg.dc_percent, cfg.dpc_kernel)
    return cluster.matched_prf(y, cluster.assign_to_nearest(X, kept, lab))


REAL = ["WDBC", "Wine"]
t0 = time.perf_counter()
clu = []
for name in REAL:
    X, y = load(name)
    for s in run.seeds:
        clu.append(dict(data=name, seed=s, denoiser="Origin", removed=0,
                        **dict(zip(["pr", "re", "f1"], cluster_f1(X, y, np.zeros(len(y), bool))))))
        for det in DETECTORS:
            _, pred = detect(det, X, s)
            clu.append(dict(data=name, seed=s, denoiser=det, removed=int(pred.sum()),
                            **dict(zip(["pr", "re", "f1"], cluster_f1(X, y, pred)))))
clu = pd.DataFrame(clu)
print(f"clustering protocol: {time.perf_counter() - t0:.1f} s")

PAPER_DPC = {  # DPC rows of the paper's Table 3: (PR, RE, F1)
    "WDBC": {"Origin": (0.31, 0.47, 0.37), "AutoEncoder": (0.31, 0.47, 0.37), "IForest": (0.34, 0.46, 0.39),
             "LOF": (0.33, 0.46, 0.39), "MGBTAI": (0.33, 0.46, 0.38), "Proposed": (0.42, 0.48, 0.45)},
    "Wine": {"Origin": (0.90, 0.90, 0.90), "AutoEncoder": (0.88, 0.88, 0.88), "IForest": (0.90, 0.90, 0.90),
             "LOF": (0.83, 0.82, 0.82), "MGBTAI": (0.82, 0.80, 0.81), "Proposed": (0.90, 0.91, 0.90)},
}
tab = clu.groupby(["data", "denoiser"])[["removed", "pr", "re", "f1"]].mean()
tab["paper PR/RE/F1 (Table 3, DPC)"] = [
    "/".join(f"{v:.2f}" for v in PAPER_DPC[d][m]) if m in PAPER_DPC[d] else "—" for d, m in tab.index]
tab.round(3)

# %% [markdown]
# **Parameter analysis (the paper's Fig. 6).** DPC's F1 after removing the Proposed detector's outliers,
# as the IQR multiplier $r$ varies. The paper reports F1 "relatively stable" in $r$ with the best value at
# $r = 0.5$ on all six datasets, and chose $r = 0.5$ from this plot, i.e. on the evaluation data; we only
# replicate the sweep and keep $r = 0.5$ as the paper's stated value.

# %%
rs_rows = []
for name in REAL:
    X, y = load(name)
    O = outliers.outlier_degree(X, cfg.k, norm=cfg.norm)
    for rv in cfg.r_grid:
        pred = outliers.iqr_outliers(O, rv, cfg.quartiles)
        rs_rows.append(dict(data=name, r=rv, removed=int(pred.sum()), f1=cluster_f1(X, y, pred)[2]))
rsweep = pd.DataFrame(rs_rows)
fig, ax = plt.subplots(figsize=(6, 3.8))
for name in REAL:
    part = rsweep[rsweep.data == name]
    ax.plot(part.r, part.f1, marker="o", label=name)
ax.axvline(0.5, color="0.5", ls="--", lw=1)
ax.set_title("DPC F1 after Proposed denoising vs the IQR multiplier r")
ax.set_xlabel("r in ub = Q3 + r IQR")
ax.set_ylabel("clustering F1")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("r_sweep.png"), dpi=120)
plt.show()
rsweep.pivot_table(index="r", columns="data", values=["f1", "removed"])

# %% [markdown]
# ### 4. Wine and WDBC as outlier benchmarks (down-sampled classes)
#
# The paper never constructs outliers from the real datasets; it only clusters them. To test detection
# directly on the same data we use the standard construction of the outlier-detection benchmark of
# Campos et al. (Data Min. Knowl. Discov. 2016): WDBC keeps all 357 benign cases as inliers and samples
# `n_outliers` (10) malignant ones as outliers (367 points); Wine keeps classes 2 and 3 (119 points) as
# inliers and samples 10 of class 1 (129 points). Each seed draws a different sample of outliers. Features
# are scaled as above after sampling.

# %%
DOWN = {"WDBC": (load_breast_cancer, 0), "Wine": (load_wine, 0)}  # (loader, class down-sampled as outliers)


def downsampled(name, rng):
    loader, out_class = DOWN[name]
    X, y = loader(return_X_y=True)
    inl = np.flatnonzero(y != out_class)
    out = np.sort(rng.choice(np.flatnonzero(y == out_class), cfg.n_outliers, replace=False))
    idx = np.r_[inl, out]
    Xs = X[idx]
    if cfg.scaling != "none":
        Xs = SCALERS[cfg.scaling]().fit_transform(Xs)
    return Xs, np.r_[np.zeros(len(inl), bool), np.ones(len(out), bool)]


bench = []
for s in run.seeds:
    for name in DOWN:
        X, y_out = downsampled(name, np.random.default_rng([s, 7, list(DOWN).index(name)]))
        for det in DETECTORS:
            sc, pred = detect(det, X, s)
            bench.append(dict(seed=s, data=name, detector=det, **scores_of(y_out, sc, pred)))
bench = pd.DataFrame(bench)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, metric, label in zip(axes, ["auc", "p_at_n"], ["ROC-AUC", "precision at n = #outliers"]):
    g = bench.groupby(["detector", "data"])[metric]
    m = g.mean().unstack().loc[DETECTORS]
    e = g.std().unstack().loc[DETECTORS] if len(run.seeds) > 1 else None
    m.plot.bar(ax=ax, yerr=e, rot=0, capsize=3)
    ax.set_title(f"{label} on down-sampled Wine and WDBC")
    ax.set_xlabel("detector")
    ax.set_ylabel(label)
fig.tight_layout()
fig.savefig(run.figure_path("downsampled_benchmarks.png"), dpi=120)
plt.show()
bench.groupby(["data", "detector"])[["auc", "p_at_n", "pr", "re", "f1", "flagged"]].mean().round(3)

# %% [markdown]
# **Why the ratios struggle here, in numbers.** For the first seed's draws: the mean of each ratio over
# inliers and over outliers, and how many of an outlier's $k$ neighbours are themselves outliers. In 13 or
# 30 dimensions a mirror image $2x_i - x_j$ almost never has data near it, so $\mathcal R_s$ is close to 1
# for every point and cannot separate anything; and ten points drawn from one compact class sit mostly
# among each other, so their distance ratio looks like that of a small cluster, not of isolated points.

# %%
diag = []
for name in DOWN:
    X, y_out = downsampled(name, np.random.default_rng([run.seed, 7, list(DOWN).index(name)]))
    nb = outliers.knn(X, cfg.k)
    rs_, rd_ = outliers.symmetry_ratio(X, cfg.k, nb), outliers.distance_ratio(X, cfg.k, nb)
    diag.append(dict(data=name, dims=X.shape[1], Rs_inliers=rs_[~y_out].mean(), Rs_outliers=rs_[y_out].mean(),
                     Rd_inliers=rd_[~y_out].mean(), Rd_outliers=rd_[y_out].mean(),
                     outlier_neighbours_of_outliers=y_out[nb[0][y_out]].mean()))
X2, y2 = make_2d("DS3", np.random.default_rng([run.seed, 2]))
nb = outliers.knn(X2, cfg.k)
rs_, rd_ = outliers.symmetry_ratio(X2, cfg.k, nb), outliers.distance_ratio(X2, cfg.k, nb)
diag.append(dict(data="DS3 (2-D)", dims=2, Rs_inliers=rs_[~y2].mean(), Rs_outliers=rs_[y2].mean(),
                 Rd_inliers=rd_[~y2].mean(), Rd_outliers=rd_[y2].mean(),
                 outlier_neighbours_of_outliers=y2[nb[0][y2]].mean()))
diag = pd.DataFrame(diag).set_index("data")
run.log(mean_Rs_inliers={d: round(float(v), 6) for d, v in diag.Rs_inliers.items()})
diag.round(3)

# %% [markdown]
# **Sensitivity to $k$** (ROC-AUC of Proposed, mean over seeds, on the 2-D sets and the down-sampled
# benchmarks). The paper fixes $k = 10$ without a sweep; this is for the reader, not a claim.

# %%
ks = []
for s in run.seeds:
    sets = [(ds, *make_2d(ds, np.random.default_rng([s, SETS_2D.index(ds)]))) for ds in SETS_2D]
    sets += [(n, *downsampled(n, np.random.default_rng([s, 7, list(DOWN).index(n)]))) for n in DOWN]
    for ds, X, y_out in sets:
        for kv in cfg.k_grid:
            ks.append(dict(seed=s, data=ds, k=kv, auc=roc_auc_score(y_out, outliers.outlier_degree(X, kv))))
ks = pd.DataFrame(ks)
fig, ax = plt.subplots(figsize=(6, 3.8))
for ds, part in ks.groupby("data"):
    m = part.groupby("k").auc.mean()
    ax.plot(m.index, m.values, marker="o", label=ds)
ax.set_title("Proposed detector: ROC-AUC vs number of neighbours k")
ax.set_xlabel("k")
ax.set_ylabel("ROC-AUC (mean over seeds)")
ax.legend(ncol=2, fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("k_sweep.png"), dpi=120)
plt.show()

# %% [markdown]
# ## Claims
#
# The rules were written before the run. Values are one number per seed, paired across detectors (same
# data, same seed). `Better` asks for a mean gain beyond two standard errors of the paired differences;
# with one seed it decides on the sign alone. On the 2-D look-alikes and in the density test only relative
# claims are judged. For the clustering protocol on Wine and WDBC the data are the paper's, so we also
# compare absolute F1 with a tolerance of 0.05: the paper's DPC settings, scaling and exact PR/RE
# definition are unstated, and on WDBC a single differently assigned cluster centre moves F1 by far more
# than that, so a miss there says more about the pipeline than about the detector. Clustering differences
# below 0.01 F1 count as ties (`tie=0.01`): Table 3 prints two decimals.

# %%
def per_seed(df, value, **where):
    part = df
    for col, v in where.items():
        part = part[part[col] == v]
    return part.sort_values("seed")[value].round(6).tolist()


ledger = rb.Ledger()
f1_ds3 = {det: per_seed(syn, "f1", data="DS3", detector=det) for det in DETECTORS}
ledger.claim("ds3-global-noise",
             "On a DS3-like set (a curved cluster, three small round ones, 12 % global noise) the proposed "
             "detector finds the global noise better (detection F1) than LOF and IForest",
             paper="Fig. 4 (pictures only): AutoEncoder, IForest and LOF miss DS3's global noise; Proposed finds it",
             measured={k_: f1_ds3[k_] for k_ in ("Proposed", "LOF", "IForest")},
             rule=rb.AllOf(rb.Better("Proposed", "LOF"), rb.Better("Proposed", "IForest")))

mean_f1 = syn[syn.detector == "Proposed"].groupby("seed").f1.mean().round(6).tolist()
ledger.claim("2d-accurate",
             "The proposed detector identifies the noise accurately on all four 2-D sets "
             "(operationalised: detection F1 averaged over DS1-DS4 is at least 0.8)",
             paper="Sect. 4.2 and Fig. 4: 'accurately identifies the noise in all four datasets' (no numbers)",
             measured={"Proposed mean F1": mean_f1},
             rule=rb.AtLeast("Proposed mean F1", 0.8))

auc_2d = {det: syn[syn.detector == det].groupby("seed").auc.mean().round(6).tolist() for det in DETECTORS}
ledger.claim("2d-ranking",
             "Ranked by the outlier degree, the 2-D outliers come out ahead of LOF's and IForest's ranking "
             "(ROC-AUC averaged over DS1-DS4)",
             paper="Sect. 4.2, Fig. 4 (qualitative comparison only)",
             measured={k_: auc_2d[k_] for k_ in ("Proposed", "LOF", "IForest")},
             rule=rb.AllOf(rb.Better("Proposed", "LOF"), rb.Better("Proposed", "IForest")))

r_hi = max(cfg.density_ratios)
ledger.claim("density-independent",
             f"The degree's ranking quality does not depend on cluster density: ROC-AUC at density ratio "
             f"{r_hi:g} is within 0.03 of ratio 1",
             paper="Sect. 2.2 and Conclusions: the outlier degree is 'independent of the density' (no experiment)",
             measured={f"ratio {r_hi:g}": per_seed(dens, "auc", ratio=r_hi, detector="Proposed"),
                       "ratio 1": per_seed(dens, "auc", ratio=1.0, detector="Proposed")},
             rule=rb.Close(f"ratio {r_hi:g}", "ratio 1", tol=0.03))


def f1s(name, den):
    return per_seed(clu, "f1", data=name, denoiser=den)


ledger.claim("wdbc-dpc-gain",
             "WDBC: removing the proposed detector's outliers before DPC raises the clustering F1",
             paper="F1 0.45 (Proposed) vs 0.37 (Origin), Table 3, DPC",
             measured={"Proposed": f1s("WDBC", "Proposed"), "Origin": f1s("WDBC", "Origin")},
             rule=rb.Better("Proposed", "Origin", tie=0.01))
ledger.claim("wdbc-dpc-best",
             "WDBC: with DPC, denoising by the proposed detector beats denoising by IForest and by LOF",
             paper="F1 0.45 vs IForest 0.39, LOF 0.39, Table 3, DPC",
             measured={"Proposed": f1s("WDBC", "Proposed"), "IForest": f1s("WDBC", "IForest"),
                       "LOF": f1s("WDBC", "LOF")},
             rule=rb.AllOf(rb.Better("Proposed", "IForest", tie=0.01), rb.Better("Proposed", "LOF", tie=0.01)))
wine_gain = (np.array(f1s("Wine", "Proposed")) - np.array(f1s("Wine", "Origin"))).round(6).tolist()
ledger.claim("wine-dpc",
             "Wine: denoising by the proposed detector costs DPC no F1 (at most 0.01 lost) and beats LOF denoising",
             paper="F1 0.90 (Proposed) vs 0.90 (Origin) vs 0.82 (LOF), Table 3, DPC",
             measured={"Proposed - Origin": wine_gain, "Proposed": f1s("Wine", "Proposed"), "LOF": f1s("Wine", "LOF")},
             rule=rb.AllOf(rb.AtLeast("Proposed - Origin", -0.01), rb.Better("Proposed", "LOF", tie=0.01)))
n_s = len(run.seeds)  # the paper's number repeated, one per seed, for the paired rule
for name in REAL:
    ledger.claim(f"{name.lower()}-dpc-absolute",
                 f"{name}: DPC F1 on the original data and after proposed denoising match the paper's (±0.05)",
                 paper=(f"Origin {PAPER_DPC[name]['Origin'][2]:.2f}, Proposed {PAPER_DPC[name]['Proposed'][2]:.2f} "
                        "(Table 3, DPC)"),
                 measured={"Origin": f1s(name, "Origin"), "paper Origin": [PAPER_DPC[name]["Origin"][2]] * n_s,
                           "Proposed": f1s(name, "Proposed"),
                           "paper Proposed": [PAPER_DPC[name]["Proposed"][2]] * n_s},
                 rule=rb.AllOf(rb.Close("Origin", "paper Origin", tol=0.05),
                               rb.Close("Proposed", "paper Proposed", tol=0.05)))

gap, spread = {}, {}
for name in REAL:
    part = rsweep[rsweep.data == name].set_index("r").f1
    gap[name] = round(float(part.loc[0.5] - part.drop(0.5).max()), 6)
    spread[name] = round(float(part.max() - part.min()), 6)
ledger.claim("r-optimal",
             "The IQR multiplier r = 0.5 gives the best DPC F1 of the r grid on Wine and on WDBC",
             paper="Fig. 6: best at r = 0.5 on all six datasets (curves only)",
             measured={"WDBC F1(0.5) - best other": gap["WDBC"], "Wine F1(0.5) - best other": gap["Wine"]},
             rule=rb.AllOf(rb.AtLeast("WDBC F1(0.5) - best other", 0.0), rb.AtLeast("Wine F1(0.5) - best other", 0.0)))
ledger.claim("r-stable",
             "DPC F1 is stable as r varies over [0, 3] (best minus worst at most 0.05) on Wine and on WDBC",
             paper="Fig. 6: 'as r increases, the F1 scores remain relatively stable'",
             measured={"WDBC F1 range": spread["WDBC"], "Wine F1 range": spread["Wine"]},
             rule=rb.AllOf(rb.AtLeast("WDBC F1 range", 0.05, at_most=True), rb.AtLeast("Wine F1 range", 0.05, at_most=True)))

for name in DOWN:
    auc = {det: per_seed(bench, "auc", data=name, detector=det) for det in DETECTORS}
    ledger.claim(f"{name.lower()}-downsampled-auc",
                 f"{name} with a down-sampled class as outliers (our construction): the outlier degree ranks "
                 "the outliers better (ROC-AUC) than LOF, IForest and the kNN distance",
                 paper="no such experiment; the abstract claims 'excellent performance ... in detecting outliers' on UCI data",
                 measured=auc,
                 rule=rb.AllOf(rb.Better("Proposed", "LOF"), rb.Better("Proposed", "IForest"),
                               rb.Better("Proposed", "kNN-dist")))
ledger.claim("other-clusterers-datasets",
             "The gains also hold with SMKNN, SMMP and CTCEHC and on the other 14 UCI datasets; AutoEncoder and "
             "MGBTAI are weaker denoisers",
             paper="Tables 2-3, Fig. 5",
             rule=rb.NotTestable("SMKNN, SMMP, CTCEHC, MGBTAI and the paper's autoencoder have no offline "
                                 "implementation, and the other datasets are not bundled with any installed package"))

run.log(**{f"f1_2d_{det}": syn[syn.detector == det].groupby("seed").f1.mean().round(6).tolist() for det in DETECTORS})
run.log(**{f"auc_2d_{det}": auc_2d[det] for det in DETECTORS})
run.log(**{f"auc_density{r_hi:g}_{det}": per_seed(dens, "auc", ratio=r_hi, detector=det) for det in DETECTORS})
run.log(**{f"dpc_f1_{name}_{den}": f1s(name, den) for name in REAL for den in ["Origin"] + DETECTORS})
run.log(**{f"auc_down_{name}_{det}": per_seed(bench, "auc", data=name, detector=det) for name in DOWN for det in DETECTORS})
run.log(**{f"auc_ablation_{comp}": abl[abl.score == comp].groupby("seed").auc.mean().round(6).tolist()
           for comp in ("both", "symmetry", "distance")})
run.log(r_sweep_gap=gap, r_sweep_range=spread)
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **What the numbers say.** With the paper's settings ($k = 10$, $r = 0.5$) and the defaults above, none of
#   the paper's claims about the detector held in our runs; the ledger gives the measured values. Three mechanisms
#   explain most of it. (i) *Edges are flagged first*: a point on the rim of any cluster has nothing beyond
#   it, so $\mathcal R_s = 1$ there by construction, the same value an outlier gets; the 2-D figure shows
#   the red rims. (ii) *Noise surrounds noise*: a global-noise point usually has other noise points on
#   several sides, so its mirror images land near data and its symmetry ratio is well below 1, often below
#   that of cluster rims (the diagnostic table for DS3); in the ablation table the distance ratio alone
#   ranks the 2-D outliers better than the combination. The ratios are also not density-free in practice:
#   ROC-AUC moved by more than the tolerance when one cluster was made denser. (iii) *In 13 or 30
#   dimensions the symmetry ratio is close to 1 for everyone* (the diagnostic table), so on Wine and WDBC
#   the score is essentially the distance ratio, and on Wine the ten sampled outliers are mostly each
#   other's neighbours, so their distance ratio looks like that of a small cluster; the score there ranks
#   outliers worse than chance. On WDBC the outliers are more spread out and the ranking is better, but
#   still behind all three baselines. Only DPC's
#   F1 on the original Wine data ("Origin") matched the paper's number, a check on our clustering pipeline
#   rather than on the detector.
# - **Neighbourhoods.** Eq. 1 written literally includes $x_i$ in its own neighbour set (distance 0); we
#   exclude it, as the paper's figures do (three neighbours drawn for $k = 3$).
# - **Outliers in the real data.** The paper never labels outliers in its UCI datasets: it removes what
#   each detector flags, clusters, and scores the clustering against the classes (Tables 2–3). Part 3
#   follows that protocol on Wine and WDBC. Part 4 (one class down-sampled to 10 outliers, after Campos et
#   al. 2016) is our addition so that detection itself is measured on the same data; the paper makes no
#   numeric claim about it, so its claims are labelled as ours.
# - **Unstated details, our choices (knobs).** NORM in Eq. 5 (`norm`, min–max; any increasing affine map
#   gives identical results, a unit test checks this); feature scaling of the real data (`scaling`,
#   min–max); DPC's density kernel and cut-off (`dpc_kernel` Gaussian, `dc_percent` 2); the number of DPC
#   clusters (the number of classes); the clustering PR/RE (Hungarian-matched, macro-averaged). This last
#   reading fits the paper's own numbers: for WDBC "Origin" (PR 0.31, RE 0.47) is what a clustering that
#   puts nearly everything into one cluster scores under it (PR ≈ 0.31, RE ≈ 0.50).
# - **Quartiles.** Eqs. 6–7 take order statistics at $\mathrm{round}(0.25N)$ and $\mathrm{round}(0.75N)$;
#   we round halves up, as MATLAB (the paper's language) does, where Python's `round` would round to
#   even. `quartiles="numpy"` switches to interpolated percentiles.
# - **Errors and gaps in the paper.** The algorithm listing (Algorithm 1) is missing from our copy.
#   Fig. 3's IQR example uses $r = 1.5$ and degrees up to 2.25, although Eq. 5 normalises the degree and
#   Sect. 4.1 fixes $r = 0.5$; the text promises the discussion of $r$ in "Sect. 3", which is Sect. 4.4.
#   The value $r = 0.5$ was chosen by clustering F1 on the evaluation datasets themselves (Fig. 6); we keep
#   the stated value rather than re-tune it. The paper calls the PR/RE/F1 of a *clustering* by the
#   detection formulas of Eqs. 11–13 without saying how clusters are matched to classes.
# - **A threshold that always fires.** With $r = 0.5$ the bound $Q_3 + 0.5\,IQR$ lies inside the bulk of any
#   unimodal distribution (for Gaussian scores about 9 % of points exceed it), so the detector flags a sizable
#   share of points even on clean data; edge points of clusters, whose symmetry ratio is near 1 by
#   construction, are the first to go. This shows in the precision of the 2-D decisions.
# - **Baselines.** LOF and IForest use scikit-learn's defaults, matching "default parameters" in the paper
#   (whose MATLAB defaults may differ). The kNN-distance baseline is ours and uses the same $k$ and IQR rule
#   as the proposed detector. AutoEncoder and MGBTAI are not run (no offline implementation).
# - **Data.** DS1–DS4 are look-alikes generated here (same sizes and cluster shapes as Table 1), not the
#   paper's files; their absolute scores are not comparable with anything in the paper.
# - **Seeds.** Only IForest, the 2-D data and the down-sampled outlier draws depend on the seed; the
#   proposed detector, LOF, kNN-dist and DPC are deterministic, so on Wine and WDBC their clustering F1 is
#   the same for every seed and the `Better` rules there fall back on the stated tie band.

# %% [markdown]
# ## Exercises
#
# 1. Show that $0 \le \mathcal R_s(x_i) \le 1$ for every point, and find a configuration of neighbours for
#    which $\mathcal R_s(x_i) = 0$.
#
# ```{admonition} Solution
# :class: dropdown
# For each neighbour $x_j$ the mirror image $\bar x_j = 2x_i - x_j$ is at distance
# $\lVert x_i - \bar x_j \rVert = \lVert x_j - x_i \rVert$ from $x_i$, which is a data point, so the
# distance from $\bar x_j$ to its nearest data point is at most $d(x_i, x_j)$. Summing over the $k$
# neighbours gives numerator $\le$ denominator. The ratio is 0 exactly when every mirror image is itself a
# data point, for example when the neighbourhood is centrally symmetric about $x_i$: in a square lattice
# with $k = 4$, an interior point's four neighbours mirror onto each other.
# ```
#
# 2. Why does the choice of NORM in Eq. 5 change neither the ROC-AUC nor the set of flagged points? Would
#    that still hold for a non-linear normalisation such as a rank transform?
#
# ```{admonition} Solution
# :class: dropdown
# Min–max and z-score are maps $v \mapsto a v + b$ with $a > 0$. They keep the order of the scores, so every
# rank-based measure (ROC-AUC, precision at $n$) is unchanged, and they map the order statistics $Q_1, Q_3$
# to $aQ_1 + b, aQ_3 + b$, so $ub \mapsto a\,ub + b$ and the comparison $\mathcal O > ub$ is unchanged. A rank
# transform also keeps the order (same AUC), but it makes the scores uniform on $[0, 1]$: then $Q_1 \approx
# 0.25$, $Q_3 \approx 0.75$ and $ub \approx 0.75 + 0.5r$, which flags a fixed share of about
# $\max(0, 25\% - 50\% \cdot r)$ of the points (none at all for $r = 0.5$) whatever the data look like: the
# threshold no longer reacts to how far the largest degrees stand out.
# ```
#
# 3. Run the chapter with `r=1.5` (Tukey's classic value). How do the number of flagged points and the 2-D
#    detection precision and recall change? Which value would you choose without looking at test labels?
#
# ```{admonition} Solution
# :class: dropdown
# A larger $r$ raises the bound, so fewer points are flagged: precision rises (fewer cluster-edge points are
# removed) and recall falls (weak outliers inside the bounding box are kept). Without labels one can only
# use properties of the score distribution, for instance choose $r$ so that the flagged share matches a
# plausible contamination rate, or look for a gap in the sorted degrees. Choosing $r$ by the clustering F1
# on the evaluation data, as the paper's Fig. 6 does, uses the class labels and overstates how well the
# method would do on new data.
# ```
