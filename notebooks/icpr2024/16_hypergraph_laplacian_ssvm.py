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
# # Improved Hypergraph Laplacian Based Semi-supervised Support Vector Machine
#
# **Chapter `icpr2024-16`.** Reshma Rastogi and Dev Nirwal. *Improved Hypergraph Laplacian Based
# Semi-supervised Support Vector Machine.* In: Pattern Recognition, ICPR 2024 (27th International Conference
# on Pattern Recognition), Proceedings Part X, Lecture Notes in Computer Science vol. 15310, pp. 242–255.
# Springer, 2025. (Our copy of the paper prints no DOI.)
#
# **The idea.** A semi-supervised kernel classifier learns from a few labelled points and many unlabelled
# ones by asking its decision function to vary slowly along the data: points that are close in a graph
# built over *all* points should get similar scores. LapSVM encodes "close" with an ordinary graph, whose
# edges join pairs of points; hypergraph SVMs use hyperedges that join whole neighbourhoods at once, which
# can express group structure that pairs miss. Which of the two suits a given dataset is hard to know in
# advance, so the paper simply mixes them: the smoothness penalty uses $\lambda L + (1-\lambda) H$, the
# graph Laplacian and the hypergraph Laplacian weighted by a tuned $\lambda \in [0, 1]$. The classifier
# is trained in the primal with a squared hinge loss, as in the primal LapSVM of Melacci and Belkin, and
# the two baselines are the end points of the same family: $\lambda = 1$ is LapSVM, $\lambda = 0$ is the
# hypergraph SVM (HGSVM).

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol, about 10 min on one CPU core)
seed = 0  # base seed; the full profile repeats the cross-validation with seed, seed+1, ...
device = "auto"  # unused: everything here is small dense linear algebra on the CPU
data_root = None  # unused: the three datasets ship with scikit-learn
datasets: list | None = None  # subset of ["iris", "wine", "wdbc"]
unlabelled: list | None = None  # fractions of training labels hidden, each in [0, 1); None: the paper's
outer_folds: int | None = None  # outer cross-validation folds (the paper: 10)
inner_folds: int | None = None  # inner folds on the labelled training points, for model selection
gammas: list | None = None  # RBF kernel exp(-gamma ||x - z||^2): grid of gamma in (0, 1]
lambdas: list | None = None  # grid of the mixing weight lambda in [0, 1]; 0 is HGSVM, 1 is LapSVM
delta_A: list | None = None  # grid of the ambient (RKHS) weight, > 0
delta_I: list | None = None  # grid of the intrinsic (graph) weight, > 0
k_neighbours: int | None = None  # neighbours in the kNN graph and in each kNN hyperedge
laplacian: str | None = None  # "unnormalised" (the paper's Eq. 3, L is D - W) or "normalised"
hypergraph: str | None = None  # "zhou" (the paper's Eq. 8) or "unnormalised" (Eq. 7)

# %%
import reprobook as rb

PAPER_UNLABELLED = {"wdbc": [0.0, 0.1, 0.3, 0.5], "iris": [0.0, 0.1, 0.2, 0.3], "wine": [0.0, 0.1, 0.2, 0.3]}
PROFILES = {
    "smoke": dict(datasets=["iris", "wine", "wdbc"], unlabelled=[0.3], outer_folds=5, inner_folds=3,
                  gammas=[0.01, 0.1], lambdas=[0.0, 0.25, 0.5, 0.75, 1.0], delta_A=[0.01, 1.0],
                  delta_I=[0.01, 1.0], k_neighbours=10, laplacian="unnormalised", hypergraph="zhou",
                  n_seeds=1),
    "full": dict(datasets=["iris", "wine", "wdbc"], unlabelled=None, outer_folds=10, inner_folds=3,
                 gammas=[0.001, 0.01, 0.1, 1.0], lambdas=[0.0, 0.25, 0.5, 0.75, 1.0],
                 delta_A=[1e-4, 1e-2, 1.0, 100.0], delta_I=[1e-4, 1e-2, 1.0, 100.0], k_neighbours=10,
                 laplacian="unnormalised", hypergraph="zhou", n_seeds=2),
}
run = rb.start("icpr2024-16", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(datasets=datasets, unlabelled=unlabelled, outer_folds=outer_folds,
                          inner_folds=inner_folds, gammas=gammas, lambdas=lambdas, delta_A=delta_A,
                          delta_I=delta_I, k_neighbours=k_neighbours, laplacian=laplacian,
                          hypergraph=hypergraph))
cfg = run.cfg

_bad = [d for d in cfg.datasets if d not in PAPER_UNLABELLED]
if _bad or not cfg.datasets:
    raise rb.ParameterError(f"datasets={cfg.datasets!r}: allowed is a non-empty subset of {sorted(PAPER_UNLABELLED)}")
if cfg.unlabelled is not None and not all(isinstance(u, (int, float)) and 0 <= u < 1 for u in cfg.unlabelled):
    raise rb.ParameterError(f"unlabelled={cfg.unlabelled!r}: each fraction must be in [0, 1), or None for the paper's")
if not all(isinstance(x, (int, float)) and 0 <= x <= 1 for x in cfg.lambdas) or not cfg.lambdas:
    raise rb.ParameterError(f"lambdas={cfg.lambdas!r}: each lambda must be in [0, 1]")
for _name in ("gammas", "delta_A", "delta_I"):
    _vals = getattr(cfg, _name)
    if not _vals or not all(isinstance(x, (int, float)) and x > 0 for x in _vals):
        raise rb.ParameterError(f"{_name}={_vals!r}: a non-empty list of positive numbers is allowed")
if cfg.outer_folds < 2 or cfg.inner_folds < 2:
    raise rb.ParameterError(f"outer_folds={cfg.outer_folds}, inner_folds={cfg.inner_folds}: both must be >= 2")
if cfg.k_neighbours < 1:
    raise rb.ParameterError(f"k_neighbours={cfg.k_neighbours}: must be >= 1")
if cfg.laplacian not in ("unnormalised", "normalised"):
    raise rb.ParameterError(f"laplacian={cfg.laplacian!r}: allowed are 'unnormalised' (paper) or 'normalised'")
if cfg.hypergraph not in ("zhou", "unnormalised"):
    raise rb.ParameterError(f"hypergraph={cfg.hypergraph!r}: allowed are 'zhou' (paper, Eq. 8) or 'unnormalised' (Eq. 7)")
UNLABELLED = {d: (PAPER_UNLABELLED[d] if cfg.unlabelled is None else [float(u) for u in cfg.unlabelled])
              for d in cfg.datasets}
print("resolved knobs:", vars(cfg))

# %% [markdown]
# ## The method
#
# **Data and model.** There are $m = l + u$ training points $x_1, \dots, x_m \in \mathbb{R}^n$; the first
# $l$ carry labels $y_i \in \{-1, +1\}$. With an RBF kernel $k(x, z) = \exp(-\gamma \lVert x - z \rVert^2)$
# and its Gram matrix $K \in \mathbb{R}^{m \times m}$, the classifier is (representer theorem, the
# paper's Eq. 5, plus a bias)
#
# $$ f(x) = \sum_{j=1}^{m} \alpha_j\, k(x_j, x) + b, \qquad \mathbf f = K\alpha + \mathbf 1 b
# \ \text{on the training points.} $$
#
# **The graph.** $W$ is a symmetric $k$-nearest-neighbour graph with heat-kernel weights
# $w_{ij} = \exp(-\lVert x_i - x_j \rVert^2 / t)$ and $L = D - W$ its Laplacian (Eq. 3), with
# $D = \operatorname{diag}(\sum_j w_{ij})$.
#
# **The hypergraph.** Each point $v$ spawns one hyperedge $e_v$: $v$ and its $k$ nearest neighbours. The
# incidence matrix $F \in \{0,1\}^{m \times m}$ has $F_{ve} = 1$ when $v \in e$ (Eq. 6); the edge size is
# $\delta(e) = \sum_v F_{ve}$, the edge weight is the mean pairwise affinity inside it,
#
# $$ w(e) = \frac{1}{\delta(e)(\delta(e) - 1)} \sum_{v_i \neq v_j \in e} \exp\!\left(-\frac{\lVert x_i - x_j\rVert^2}{\mu}\right), $$
#
# and the vertex degree is $d(v) = \sum_e w(e) F_{ve}$. With $D_v = \operatorname{diag}(d(v))$,
# $D_e = \operatorname{diag}(\delta(e))$ and $W_e = \operatorname{diag}(w(e))$, the normalised hypergraph
# Laplacian of Zhou et al. (Eq. 8) is
#
# $$ H = I - D_v^{-1/2} F W_e D_e^{-1} F^\top D_v^{-1/2}. $$
#
# **The mixture (the paper's contribution, Eq. 10).** $\; M_\lambda = \lambda L + (1 - \lambda) H$, $\lambda \in [0, 1]$.
#
# **Training (Eq. 11).** With the squared hinge loss on the labelled points,
#
# $$ \min_{\alpha \in \mathbb{R}^m,\, b \in \mathbb{R}} \ \frac12 \Big( \sum_{i=1}^{l} \max\big(0, 1 - y_i f_i\big)^2
#    + \delta_A\, \alpha^\top K \alpha + \delta_I\, (K\alpha + \mathbf 1 b)^\top M_\lambda (K\alpha + \mathbf 1 b) \Big). $$
#
# Four methods are the same program with different settings: **IHLSVM** tunes $\lambda$;
# **LapSVM** fixes $\lambda = 1$; **HGSVM** fixes $\lambda = 0$; the supervised **SVM** (a squared-hinge
# SVM, our extra reference) drops the intrinsic term, $\delta_I = 0$. Multi-class problems use one-vs-rest.
#
# **How we solve it.** Setting the gradient in $\alpha$ to zero gives
# $\alpha = G\,(J^\top \beta - \delta_I b\, M \mathbf 1)$ with $G = (\delta_A I + \delta_I M K)^{-1}$,
# where $J^\top$ places a vector on the labelled points and $\beta_i = y_i - f_i$ for labelled points
# inside the margin ($y_i f_i < 1$), $0$ otherwise. So only the $l$ entries of $\beta$ and $b$ are unknown.
# A finite Newton (active-set) iteration fixes the set of margin violators, solves one linear system of
# that size plus one, moves towards its solution by an exact line search on the objective (so that the
# set cannot cycle), and repeats until the set stops changing. The matrix
# $KG = K^{1/2}(\delta_A I + \delta_I K^{1/2} M K^{1/2})^{-1} K^{1/2}$ comes from one eigendecomposition
# per $(\gamma, \lambda)$, so a whole $(\delta_A, \delta_I)$ grid costs one matrix product per pair. The
# paper uses preconditioned conjugate gradients for the same convex problem; the minimiser is the same.
# The graph constructions live in `reprobook.graphs` and the solver in `reprobook.ssl` (both unit-tested:
# with $\delta_I = 0$ the solver matches `sklearn.svm.SVC`, and with $\delta_I > 0$ its objective matches a
# generic optimiser's). The solver's core is printed below so that nothing is hidden.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_moons
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from reprobook import graphs, ssl

print(inspect.getsource(ssl.newton_l2svm))

# %% [markdown]
# The two Laplacians of one training set, and the mixture. The hyperedge width $\mu$ and the graph's heat
# width $t$ are both the mean squared distance to the $k$ nearest neighbours (the paper gives neither).

# %%
def intrinsic_matrices(X, k, laplacian="unnormalised", hypergraph="zhou"):
    """L (Eq. 3 or its normalised form) and H (Eq. 8, or Eq. 7) on the points X."""
    L = graphs.graph_laplacian(graphs.knn_heat_graph(X, k), normalised=(laplacian == "normalised"))
    F = graphs.knn_hyperedges(X, k)
    w = graphs.hyperedge_weights(X, F, mu=graphs.heat_width(X, k))
    H = graphs.hypergraph_laplacian(F, w, normalised=(hypergraph == "zhou"))
    return L, H


def ihl(L, H, lam):
    """The paper's Eq. 10: the improved hypergraph Laplacian."""
    return lam * L + (1.0 - lam) * H


# %% [markdown]
# **Model selection and evaluation.** For every outer fold: standardise with the training fold's mean and
# standard deviation (labels are not needed for that), hide a stratified fraction of the training labels,
# build $L$ and $H$ on all training points, and score every grid point by an inner stratified
# cross-validation *on the labelled training points only* (the inner validation points stay in the graph,
# unlabelled). Each method takes its best grid point (ties: the first in grid order), is refitted on all
# labelled training points and predicts the held-out fold. The test fold never takes part in choosing
# anything. Each $\lambda$ of the grid is also selected on its own, which gives test accuracy as a function
# of $\lambda$ for free.

# %%
LOADERS = {"iris": load_iris, "wine": load_wine, "wdbc": load_breast_cancer}
METHODS = ["SVM", "LapSVM", "HGSVM", "IHLSVM"]


def one_vs_rest(y, classes):
    Y = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    return Y[:, 1:] if len(classes) == 2 else Y


def predict(f, classes):
    return classes[(f[:, 0] > 0).astype(int)] if f.shape[1] == 1 else classes[f.argmax(1)]


def hide_labels(y, frac, rng):
    """Indices of the points that keep their labels: a stratified (1 - frac) share of each class."""
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        n_hide = int(round(frac * len(idx)))
        keep.append(np.sort(rng.permutation(idx)[n_hide:]))
    return np.sort(np.concatenate(keep))


def evaluate_fold(Xtr, ytr, lab, Xte, yte, cfg, seed):
    """Test accuracy of every method (and of every lambda) for one outer fold; also the selected settings."""
    classes = np.unique(ytr[lab])
    Y = one_vs_rest(ytr[lab], classes)
    L, H = intrinsic_matrices(Xtr, cfg.k_neighbours, cfg.laplacian, cfg.hypergraph)
    inner = list(StratifiedKFold(cfg.inner_folds, shuffle=True, random_state=seed).split(lab, ytr[lab]))
    nonconv = 0

    def inner_score(P):
        nonlocal nonconv
        acc = []
        for tr, va in inner:
            beta, b, ok = ssl.newton_l2svm(P, tr, Y[tr])
            nonconv += not ok
            acc.append(np.mean(predict(ssl.decision_on(P, va, tr, beta, b), classes) == ytr[lab][va]))
        return float(np.mean(acc))

    scores = {}  # (gamma, lam or None, dA, dI) -> inner CV accuracy, in grid order
    kernels, spectra = {}, {}  # kept for the final refits (a few MB per entry)
    for g in cfg.gammas:
        K = kernels[g] = ssl.rbf_kernel(Xtr, Xtr, g)
        spec = spectra[(g, None)] = ssl.ManifoldSpectrum(K, None)
        for dA in cfg.delta_A:
            scores[(g, None, dA, 0.0)] = inner_score(spec.reduced(dA, 0.0, lab))
        for lam in cfg.lambdas:
            spec = spectra[(g, lam)] = ssl.ManifoldSpectrum(K, ihl(L, H, lam))
            for dA in cfg.delta_A:
                for dI in cfg.delta_I:
                    scores[(g, lam, dA, dI)] = inner_score(spec.reduced(dA, dI, lab))

    def best(keep):
        cands = [key for key in scores if keep(key)]
        return max(cands, key=lambda key: scores[key])  # max() keeps the first of equal scores

    chosen = {"SVM": best(lambda key: key[1] is None),
              "LapSVM": best(lambda key: key[1] == 1.0),
              "HGSVM": best(lambda key: key[1] == 0.0),
              "IHLSVM": best(lambda key: key[1] is not None)}
    chosen.update({f"lam={lam:g}": best(lambda key, lam=lam: key[1] == lam) for lam in cfg.lambdas})

    test_acc = {}
    for name, (g, lam, dA, dI) in chosen.items():
        K, M = kernels[g], spectra[(g, lam)].M
        P = spectra[(g, lam)].reduced(dA, dI, lab)
        beta, b, ok = ssl.newton_l2svm(P, np.arange(len(lab)), Y)
        nonconv += not ok
        alpha = ssl.fit_alpha(K, M, lab, beta, b, dA, dI)
        f = ssl.rbf_kernel(Xte, Xtr, g) @ alpha + b
        test_acc[name] = 100.0 * float(np.mean(predict(f, classes) == yte))
    return test_acc, chosen, nonconv


def run_dataset(name, frac, cfg, seed):
    X, y = LOADERS[name](return_X_y=True)
    outer = StratifiedKFold(cfg.outer_folds, shuffle=True, random_state=seed)
    rows = []
    for fold, (tr, te) in enumerate(outer.split(X, y)):
        scaler = StandardScaler().fit(X[tr])
        Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
        lab = hide_labels(y[tr], frac, np.random.default_rng([seed, fold, int(round(1000 * frac))]))
        acc, chosen, nonconv = evaluate_fold(Xtr, y[tr], lab, Xte, y[te], cfg, seed + fold)
        rows.append(dict(dataset=name, unlabelled=frac, seed=seed, fold=fold, n_labelled=len(lab),
                         nonconverged=nonconv, ihl_lambda=chosen["IHLSVM"][1], **acc))
    return rows


# %% [markdown]
# ## The experiment
#
# **Data.** Three of the paper's own datasets ship with scikit-learn, so nothing stands in for anything:
# Iris (150 points, 4 features, 3 classes) and Wine (178, 13, 3) from the multi-class Table 3, and the
# Wisconsin diagnostic breast cancer set WDBC (569, 30, 2) from the binary Table 2. The paper's other
# datasets (Australian, German, CMC, Hearts, Ionosphere, Breast Cancer, Ecoli, Glass, DNA, Fashion-MNIST
# and four multi-label sets) are not bundled with any installed package and the book runs offline.
#
# **Protocol.** As in the paper: features standardised, stratified 10-fold cross-validation (full
# profile), the paper's fractions of unlabelled training points (0/10/30/50 % for WDBC, 0/10/20/30 % for
# Iris and Wine), one-vs-rest for multi-class, the grid taken from the paper's ranges. The full profile
# repeats the cross-validation with `n_seeds` different fold splits and label draws.

# %%
t0 = time.perf_counter()
rows = []
for s in run.seeds:
    for name in cfg.datasets:
        for frac in UNLABELLED[name]:
            rows += run_dataset(name, frac, cfg, s)
res = pd.DataFrame(rows)
elapsed = time.perf_counter() - t0
lam_cols = [f"lam={lam:g}" for lam in cfg.lambdas]
print(f"{len(res)} outer folds in {elapsed:.1f} s; non-converged Newton solves: {int(res.nonconverged.sum())}")

# one number per (dataset, unlabelled fraction, seed): the cross-validated accuracy, as the paper reports
cv = res.groupby(["dataset", "unlabelled", "seed"])[METHODS + lam_cols].mean().reset_index()
summary = res.groupby(["dataset", "unlabelled"])[METHODS].agg(["mean", "std"]).round(2)  # spread over folds, as the paper
summary

# %% [markdown]
# Mean test accuracy (%) by method, dataset and fraction of hidden labels. Bars are the standard deviation
# over the outer folds (of all seeds), the spread the paper's tables report. The points of the four
# methods are shifted sideways a little so that the bars do not overlap.

# %%
fig, axes = plt.subplots(1, len(cfg.datasets), figsize=(4.6 * len(cfg.datasets), 3.8), squeeze=False)
for ax, name in zip(axes[0], cfg.datasets):
    part = res[res.dataset == name]
    for j, meth in enumerate(METHODS):
        stats = part.groupby("unlabelled")[meth].agg(["mean", "std"])
        x = 100 * stats.index.to_numpy() + (j - 1.5) * 0.8
        ax.errorbar(x, stats["mean"], yerr=stats["std"], marker="o", capsize=3, label=meth)
    ax.set_title(f"{name}: accuracy vs hidden labels")
    ax.set_xlabel("unlabelled training points (%)")
    ax.set_ylabel("test accuracy (%)")
axes[0][0].legend()
fig.tight_layout()
fig.savefig(run.figure_path("accuracy_vs_unlabelled.png"), dpi=120)
plt.show()

# %% [markdown]
# Test accuracy as a function of the mixing weight $\lambda$, each $\lambda$ with its own inner-CV choice
# of $(\gamma, \delta_A, \delta_I)$; averaged over fractions, folds and seeds. The ends are HGSVM
# ($\lambda = 0$) and LapSVM ($\lambda = 1$). The paper shows such curves for Wine (Fig. 2c) without numbers.

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.8))
for name in cfg.datasets:
    part = cv[cv.dataset == name]
    ax.plot(cfg.lambdas, part[lam_cols].mean().to_numpy(), marker="o", label=name)
ax.set_title("Sensitivity to the mixing weight λ")
ax.set_xlabel("λ (0 = hypergraph only, 1 = graph only)")
ax.set_ylabel("test accuracy (%)")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("lambda_sensitivity.png"), dpi=120)
plt.show()
print("share of outer folds where IHLSVM chose an interior lambda:",
      res.groupby("dataset").ihl_lambda.apply(lambda s: float(np.mean((s > 0) & (s < 1)))).round(2).to_dict())

# %% [markdown]
# **Why unlabelled points help, in two dimensions.** Two interleaved half moons, 200 points, only three
# labelled per class. The hyperparameters are fixed in advance ($\gamma = 1$, $\delta_A = 10^{-2}$,
# $\delta_I = 1$, $k = 8$), not tuned: the figure illustrates the mechanism and is not part of any claim.

# %%
Xm, ym = make_moons(200, noise=0.08, random_state=run.seed)
lab_m = np.concatenate([np.flatnonzero(ym == c)[:3] for c in (0, 1)])
Ym = np.where(ym[lab_m] == 1, 1.0, -1.0)
Lm, Hm = intrinsic_matrices(Xm, 8, cfg.laplacian, cfg.hypergraph)
Km = ssl.rbf_kernel(Xm, Xm, 1.0)
gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 160), np.linspace(-1.0, 1.5, 120))
grid_pts = np.c_[gx.ravel(), gy.ravel()]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), sharey=True)
for ax, (title, lam, dI) in zip(axes, [("SVM (labels only)", None, 0.0), ("LapSVM (λ = 1)", 1.0, 1.0),
                                       ("HGSVM (λ = 0)", 0.0, 1.0), ("IHLSVM (λ = 0.5)", 0.5, 1.0)]):
    M = None if lam is None else ihl(Lm, Hm, lam)
    P = ssl.ManifoldSpectrum(Km, M).reduced(1e-2, dI, lab_m)
    beta, b, _ = ssl.newton_l2svm(P, np.arange(len(lab_m)), Ym)
    alpha = ssl.fit_alpha(Km, M, lab_m, beta, b, 1e-2, dI)
    fz = (ssl.rbf_kernel(grid_pts, Xm, 1.0) @ alpha + b).reshape(gx.shape)
    acc = np.mean((Km @ alpha + b > 0) == (ym == 1))
    ax.contourf(gx, gy, fz > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4cccc", "#cfe2f3"], alpha=0.8)
    ax.contour(gx, gy, fz, levels=[0.0], colors="k", linewidths=1)
    ax.scatter(Xm[:, 0], Xm[:, 1], c=ym, cmap="coolwarm", s=8, alpha=0.6)
    ax.scatter(Xm[lab_m, 0], Xm[lab_m, 1], c=ym[lab_m], cmap="coolwarm", s=90, edgecolors="k", marker="*")
    ax.set_title(f"{title}: {100 * acc:.0f} % on all points")
    ax.set_xlabel("feature 1")
axes[0].set_ylabel("feature 2")
fig.suptitle("Decision regions on two moons with 6 labelled points (stars)")
fig.tight_layout()
fig.savefig(run.figure_path("moons_decision_regions.png"), dpi=120)
plt.show()

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Each measured value is one cross-validated accuracy (%) for one (seed,
# fraction of hidden labels) pair, averaged over the outer folds; the methods are paired on the same
# folds and label draws. `Better` asks for a mean gain beyond two standard errors of the paired
# differences (with one value it decides on the sign). For the absolute accuracies we use `Close` with a
# tolerance of 3 percentage points: the data and the cross-validation protocol are the paper's, but its
# graph construction and exact grids are not stated, its own fold-to-fold spread is 1.5 to 10 points, and
# it does not say that the test folds were kept out of model selection (ours are), so a gap of a few
# points is expected even for a faithful reimplementation.

# %%
PAPER = {  # (LapSVM, HGSVM, IHLSVM) accuracy in %, per fraction unlabelled; Table 2 (WDBC), Table 3 (Iris, Wine)
    "wdbc": {0.0: (96.14, 95.09, 96.32), 0.1: (96.66, 95.08, 96.84), 0.3: (96.66, 96.49, 96.84),
             0.5: (96.32, 96.49, 97.02)},
    "iris": {0.0: (92.00, 93.33, 94.67), 0.1: (92.67, 91.33, 95.33), 0.2: (92.67, 90.00, 94.67),
             0.3: (92.67, 94.00, 94.67)},
    "wine": {0.0: (98.30, 98.32, 98.87), 0.1: (97.73, 97.75, 98.30), 0.2: (98.86, 98.87, 99.43),
             0.3: (93.81, 93.25, 93.83)},
}
TABLE = {"wdbc": "Table 2", "iris": "Table 3", "wine": "Table 3"}


def paper_text(name, col):
    fr = [u for u in UNLABELLED[name] if u in PAPER[name]]
    vals = "/".join(f"{PAPER[name][u][col]:.2f}" for u in fr)
    return vals, "/".join(f"{100 * u:g}" for u in fr)


ledger = rb.Ledger()
for name in cfg.datasets:
    part = cv[cv.dataset == name]
    meas = {m: part[m].round(4).tolist() for m in METHODS}
    ihl_txt, fr_txt = paper_text(name, 2)
    lap_txt, _ = paper_text(name, 0)
    hg_txt, _ = paper_text(name, 1)
    ledger.claim(f"{name}-ihlsvm-beats-both",
                 f"{name}: IHLSVM is more accurate than both LapSVM and HGSVM",
                 paper=(f"IHLSVM {ihl_txt} vs LapSVM {lap_txt} vs HGSVM {hg_txt} % at {fr_txt} % unlabelled "
                        f"({TABLE[name]})"),
                 measured={k: meas[k] for k in ("IHLSVM", "LapSVM", "HGSVM")},
                 rule=rb.AllOf(rb.Better("IHLSVM", "LapSVM"), rb.Better("IHLSVM", "HGSVM")))
    in_paper = all(u in PAPER[name] for u in part.unlabelled)
    ledger.claim(f"{name}-ihlsvm-accuracy",
                 f"{name}: IHLSVM's cross-validated accuracy matches the paper's (same data and protocol)",
                 paper=f"IHLSVM {ihl_txt} % at {fr_txt} % unlabelled ({TABLE[name]})",
                 measured={"IHLSVM": meas["IHLSVM"],
                           "paper": [PAPER[name][u][2] for u in part.unlabelled]} if in_paper else None,
                 rule=(rb.Close("IHLSVM", "paper", tol=3.0) if in_paper else
                       rb.NotTestable("the chosen fractions of unlabelled points are not in the paper's table")))
if "wine" in cfg.datasets:
    part = cv[cv.dataset == "wine"]
    spread = (part[lam_cols].max(axis=1) - part[lam_cols].min(axis=1)).round(4).tolist()
    ledger.claim("wine-lambda-robust",
                 "Wine: accuracy is robust to the mixing weight λ (best minus worst λ within 2 points)",
                 paper="sensitivity curves only, no numbers (Fig. 2c); 'ablation study supports the robustness' (Sect. 5)",
                 measured={"lambda_range_pp": spread},
                 rule=rb.AtLeast("lambda_range_pp", 2.0, at_most=True))
ledger.claim("other-datasets",
             "IHLSVM also wins on the other 9 UCI sets, Fashion-MNIST and 4 multi-label sets",
             paper="Tables 2, 3, 4, 6, 7",
             rule=rb.NotTestable("those datasets are not bundled with any installed package and the book runs offline"))

for meth in METHODS:
    run.log(**{f"acc_{name}_{meth}": cv[cv.dataset == name][meth].round(4).tolist() for name in cfg.datasets})
run.log(interior_lambda_share=float(np.mean((res.ihl_lambda > 0) & (res.ihl_lambda < 1))),
        nonconverged=int(res.nonconverged.sum()))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Model selection without the test folds.** The paper reports 10-fold cross-validated accuracy and a
#   grid for $\delta_A, \delta_I$ and the kernel parameter, but does not say how a grid point was chosen
#   for each fold. We select by an inner stratified cross-validation on the labelled training points of
#   each outer fold; the test fold plays no part. If the paper chose the best grid point by test-fold
#   accuracy its numbers would be optimistic, which is one reason our absolute accuracies may sit lower.
# - **Grids.** The paper's $\delta$ range is $\{10^{-6}, \dots, 10^{2}\}$ (nine values); the full profile
#   uses every second decade, $\{10^{-4}, 10^{-2}, 1, 10^{2}\}$, to fit in about ten minutes on one core.
#   The paper gives the RBF parameter's range as $[0, 1]$ without saying which parameter; we read it as
#   $\gamma$ in $\exp(-\gamma\lVert x - z\rVert^2)$ and use $\{10^{-3}, 10^{-2}, 10^{-1}, 1\}$. Its grid
#   for $\lambda$ is not given; we use $\{0, 0.25, 0.5, 0.75, 1\}$ (knob `lambdas`).
# - **IHLSVM contains both baselines.** Because the $\lambda$ grid includes $0$ and $1$, IHLSVM can only
#   differ from the better of LapSVM and HGSVM through model-selection noise (a larger grid can overfit
#   the inner validation folds, or find a better interior point). The paper's "better on all datasets" is
#   therefore a weak claim by construction; small gains of a few tenths of a point, as in its tables, are
#   within the fold-to-fold spread it reports. Ties in the inner score go to the first grid point, so
#   IHLSVM breaks ties toward $\lambda = 0$ (HGSVM).
# - **Unstated graph details.** The paper does not say how $W$ is built, how hyperedges are formed or how
#   $\mu$ is set. We use a symmetric 10-NN graph with heat weights, one hyperedge per point (the point and
#   its 10 nearest neighbours), and the mean squared 10-NN distance as both heat widths (knob
#   `k_neighbours`).
# - **Mismatched scales in Eq. 10.** $L = D - W$ (Eq. 3) is unnormalised, its eigenvalues reach about twice
#   the largest degree (up to about $2k$), while Zhou's $H$ (Eq. 8) has eigenvalues in $[0, 1]$. So
#   $\lambda L + (1-\lambda)H$ is dominated by $L$ for all but small $\lambda$, and the useful range of
#   $\lambda$ is squeezed toward 0. We keep the paper's form by default; `laplacian="normalised"` puts
#   both on the same scale. (Also, Eq. 8's $H$ does not annihilate the constant vector, so the bias $b$
#   enters the intrinsic penalty in Eq. 9/11; our solver handles that exactly.)
# - **Hyperedge weight.** The paper sums over pairs written as sets but divides by the number of ordered
#   pairs; we average over ordered pairs. It makes no difference to Eq. 8: Zhou's Laplacian is unchanged
#   when every weight is multiplied by the same constant (a unit test checks this).
# - **Solver.** We solve Eq. 11 exactly with a finite Newton method on the reduced variables instead of
#   preconditioned conjugate gradients; both reach the unique minimiser (the objective is strictly convex
#   in $f$ once $\delta_A > 0$ and the kernel is positive definite). Each Newton step is followed by an
#   exact line search on the objective: with full steps the active set occasionally cycled (94 of about
#   200,000 solves in the full profile); with the line search the method
#   terminates (Keerthi & DeCoste, 2005). A solve that still failed would raise an error; the count of
#   non-converged solves is kept in the log (`nonconverged`) and is 0.
# - **Supervised SVM.** Not in the paper's tables; we add the squared-hinge SVM ($\delta_I = 0$, same
#   kernel grid) as the reference every semi-supervised method should beat.
# - **Paper inconsistencies.** Table 1 lists Ecoli with 3186 points and 3 features (UCI Ecoli has 336 points
#   and 7 features). The text claims IHLSVM is better on all binary datasets, but Table 2 shows it behind
#   both baselines on Ionosphere at 10 % unlabelled (93.74 vs 94.02), and Table 4 shows it behind LapSVM at
#   10 % and HGSVM at 30 % on Fashion-MNIST. Algorithm 1's classifier omits the bias $b$ used in Eq. 11.
# - **Seeds.** The full profile repeats the 10-fold CV with 2 seeds (the paper repeats multi-class runs
#   ten times); the claims use one cross-validated accuracy per (seed, fraction).

# %% [markdown]
# ## Exercises
#
# 1. Run the chapter with `laplacian="normalised"` and compare the $\lambda$-sensitivity curves with the
#    default. Explain the difference using the spectra of $L$ and $H$.
#
# ```{admonition} Solution
# :class: dropdown
# With $L = D - W$ the eigenvalues of $L$ reach roughly twice the largest vertex degree (about $2k$ times a
# typical heat weight), while Zhou's $H$ has eigenvalues in $[0, 1]$. In $\lambda L + (1-\lambda) H$ the
# graph part then dominates unless $\lambda$ is close to 0, so the curve is flat for most $\lambda$ and
# changes only near the left end. With the normalised graph Laplacian (eigenvalues in $[0, 2]$) both terms
# have comparable scale, $\lambda$ interpolates evenly, and $\delta_I$ means the same thing at both ends.
# ```
#
# 2. Show that for a hypergraph whose hyperedges all have exactly two vertices, Zhou's Laplacian (Eq. 8)
#    equals half the normalised graph Laplacian of the graph with edge weights $w(e)$.
#
# ```{admonition} Solution
# :class: dropdown
# With $\delta(e) = 2$, $F W_e D_e^{-1} F^\top = \tfrac12 F W_e F^\top = \tfrac12 (A + D_v)$, where $A$ is
# the weighted adjacency matrix ($A_{ij} = w(e)$ for $e = \{i, j\}$) and $D_v$ the diagonal of degrees.
# Hence $H = I - \tfrac12 D_v^{-1/2}(A + D_v) D_v^{-1/2} = \tfrac12 (I - D_v^{-1/2} A D_v^{-1/2})$.
# `tests/test_graphs.py` checks this numerically.
# ```
#
# 3. Hide 90 % of the labels (`unlabelled=[0.9]`). Does the gap between the supervised SVM and the
#    graph-regularised methods grow? Why do the paper's fractions (at most 50 % unlabelled) make it hard
#    to see any benefit from unlabelled data?
#
# ```{admonition} Solution
# :class: dropdown
# With at most half the labels hidden, Iris, Wine and WDBC still have dozens of labelled points per class,
# enough for a kernel SVM to reach close to its ceiling; the unlabelled points add little, and all four
# methods end within a point or two of each other. With 90 % hidden only a handful of labels per class
# remain, and the smoothness penalty along the graph can carry label information to the unlabelled
# points, so the semi-supervised methods usually gain over the supervised SVM (on these easy datasets the
# gain is still modest, because the classes are already well separated in feature space).
# ```
