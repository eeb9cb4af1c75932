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
# # Dissimilarity-Based Graph Embedding: An Efficient GAT-based Approach
#
# **Chapter `icpr2024-24`.** Francesco Leonardi and Kaspar Riesen. *Dissimilarity-Based Graph Embedding: An
# Efficient GAT-based Approach.* In: Pattern Recognition, ICPR 2024 (27th International Conference on Pattern
# Recognition), Proceedings, Lecture Notes in Computer Science vol. 15310, pp. 361–374. Springer, 2025.
# DOI: [10.1007/978-3-031-78192-6_24](https://doi.org/10.1007/978-3-031-78192-6_24)
#
# **The idea.** A classic way to hand graphs to vector-space classifiers is to describe each graph by its
# distances to a set of reference graphs (the *prototypes*): the $i$-th feature is the graph edit distance to
# the $i$-th prototype. This dissimilarity-based graph embedding (DBGE) works well but is slow, because every
# new graph needs one graph-matching problem per prototype. The paper keeps the embedding and removes the
# matching at test time: it computes the (approximate, bipartite) edit distances once between all training
# graphs, and trains a graph attention network (GAT) to *predict* a graph's whole distance vector from the
# graph itself. Embedding a new graph then costs one forward pass. The paper reports that classifiers lose
# little accuracy on the predicted embeddings while the embedding becomes hundreds to thousands of times
# faster. We test this on molecules that ship offline (aqueous solubility classes from `datamol`), with our
# own BP-GED as the reference embedding and networkx's exact GED as a check on the approximation.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol, sized for one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # "auto" picks CUDA when present
data_root: str | None = None  # a folder with the paper's TU datasets (only read when `dataset` names one), or None
dataset: str | None = None  # "solubility" (offline, datamol) or a TU dataset under data_root: "MUTAG", "DHFR", ...
n_graphs: int | None = None  # graphs drawn (stratified) from the dataset; 0 = all
task: str | None = None  # solubility only: "three_class" (low / medium / high) or "low_vs_high"
test_fraction: float | None = None  # share of the molecules held out for testing (paper: 0.1)
conv: str | None = None  # message-passing layer of the main model: "gat" (the paper's) or "gcn"
conv_dims: list | None = None  # widths of the graph layers; the main model uses all of them
bottleneck: int | None = None  # width of the bottleneck vector (Sect. 2.2, step 5)
dropout: float | None = None  # dropout in the expansion phase
lam: float | None = None  # lambda of Eq. 3: weight of the MSE term, 1 - lambda on the KL term (paper: 0.85)
epochs: int | None = None  # training epochs (paper: 500)
batch_size: int | None = None  # graphs per minibatch (paper: 8 on small, 32 on large datasets)
lr: float | None = None  # Adam learning rate (paper: 1e-4)
ablation: list | None = None  # extra architectures for Table 1, e.g. ["gat1", "gcn3"]: layer type + count
lambdas: list | None = None  # lambda sweep of Table 2 (empty: skipped)
classifiers: list | None = None  # subset of ["svm", "knn", "rf"]
rf_grid: str | None = None  # random-forest grid: "paper" (18 settings) or "small" (2 settings, for smoke)
n_exact: int | None = None  # molecule pairs on which BP-GED is compared with exact GED (networkx A*)
max_exact_atoms: int | None = None  # size limit of those molecules (exact GED is exponential)
timing_repeats: int | None = None  # repeats of the GAT embedding timing (paper: 1,000)
n_jobs: int | None = None  # worker processes for the BP-GED matrix and the grid searches (paper: 8 CPUs)
exact_timeout: float | None = None  # seconds per exact-GED pair; a pair that runs out of time is left out

# %%
import reprobook as rb

PROFILES = {
    "smoke": dict(dataset="solubility", n_graphs=240, task="three_class", test_fraction=0.25, conv="gat",
                  conv_dims=[32, 64, 64],
                  bottleneck=32, dropout=0.1, lam=0.85, epochs=40, batch_size=16, lr=2e-3,
                  ablation=["gat1", "gcn3"], lambdas=[], classifiers=["svm", "knn", "rf"], rf_grid="small",
                  n_exact=16, max_exact_atoms=6, timing_repeats=5, n_jobs=1, exact_timeout=10.0, n_seeds=1),
    "full": dict(dataset="solubility", n_graphs=0, task="three_class", test_fraction=0.1, conv="gat",
                 conv_dims=[64, 128, 256],
                 bottleneck=64, dropout=0.1, lam=0.85, epochs=150, batch_size=32, lr=1e-3,
                 ablation=["gat1", "gat2", "gcn1", "gcn2", "gcn3"], lambdas=[0.1, 0.25, 0.5, 0.75, 0.9],
                 classifiers=["svm", "knn", "rf"], rf_grid="paper", n_exact=60, max_exact_atoms=7,
                 timing_repeats=50, n_jobs=8, exact_timeout=20.0, n_seeds=3),
}
run = rb.start("icpr2024-24", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(dataset=dataset, n_graphs=n_graphs, task=task, test_fraction=test_fraction, conv=conv,
                          conv_dims=conv_dims, bottleneck=bottleneck, dropout=dropout, lam=lam, epochs=epochs,
                          batch_size=batch_size, lr=lr, ablation=ablation, lambdas=lambdas,
                          classifiers=classifiers, rf_grid=rf_grid, n_exact=n_exact,
                          max_exact_atoms=max_exact_atoms, timing_repeats=timing_repeats, n_jobs=n_jobs,
                          exact_timeout=exact_timeout))
cfg = run.cfg

import re  # noqa: E402

from reprobook import ged  # noqa: E402

DATASETS = ("solubility", *ged.TU_DATASETS)
TASKS = ("three_class", "low_vs_high")
CONVS = ("gat", "gcn")
CLASSIFIERS = ("svm", "knn", "rf")
if cfg.dataset not in DATASETS:
    raise rb.ParameterError(f"dataset={cfg.dataset!r}: allowed are {list(DATASETS)}")
if cfg.dataset != "solubility" and run.data_root is None:
    raise rb.ParameterError(f"dataset={cfg.dataset!r} is read from data_root, which is None; give the folder "
                            f"that holds {cfg.dataset}/{cfg.dataset}_A.txt, or use dataset='solubility'")
if cfg.task not in TASKS:
    raise rb.ParameterError(f"task={cfg.task!r}: allowed are {list(TASKS)}")
if cfg.n_graphs != 0 and cfg.n_graphs < 40:
    raise rb.ParameterError(f"n_graphs={cfg.n_graphs}: need at least 40 (or 0 for all)")
if not 0.05 <= cfg.test_fraction <= 0.5:
    raise rb.ParameterError(f"test_fraction={cfg.test_fraction}: allowed is 0.05 ... 0.5")
if cfg.conv not in CONVS:
    raise rb.ParameterError(f"conv={cfg.conv!r}: allowed are {list(CONVS)}")
if not cfg.conv_dims or len(cfg.conv_dims) > 3 or any(not isinstance(d, int) or d < 1 for d in cfg.conv_dims):
    raise rb.ParameterError(f"conv_dims={cfg.conv_dims!r}: a list of 1 to 3 positive integers")
for _name in ("bottleneck", "epochs", "batch_size", "timing_repeats", "n_jobs", "max_exact_atoms"):
    if getattr(cfg, _name) < 1:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)}: must be a positive integer")
if not cfg.exact_timeout > 0:
    raise rb.ParameterError(f"exact_timeout={cfg.exact_timeout}: must be > 0 seconds")
if cfg.n_exact < 0:
    raise rb.ParameterError(f"n_exact={cfg.n_exact}: must be >= 0")
if not 0 <= cfg.dropout < 1:
    raise rb.ParameterError(f"dropout={cfg.dropout}: allowed is 0 <= dropout < 1")
if not 0 <= cfg.lam <= 1 or any(not isinstance(v, (int, float)) or not 0 <= v <= 1 for v in cfg.lambdas):
    raise rb.ParameterError(f"lam={cfg.lam}, lambdas={cfg.lambdas!r}: lambda must lie in [0, 1]")
if not cfg.lr > 0:
    raise rb.ParameterError(f"lr={cfg.lr}: must be > 0")
ARCH = re.compile(r"^(gat|gcn)([1-3])$")
if any(not isinstance(a, str) or not ARCH.match(a) for a in cfg.ablation):
    raise rb.ParameterError(f"ablation={cfg.ablation!r}: entries are 'gat1'..'gat3' or 'gcn1'..'gcn3'")
if any(int(a[3]) > len(cfg.conv_dims) for a in cfg.ablation):
    raise rb.ParameterError(f"ablation={cfg.ablation!r}: more layers than conv_dims={cfg.conv_dims} provides")
if not cfg.classifiers or any(c not in CLASSIFIERS for c in cfg.classifiers):
    raise rb.ParameterError(f"classifiers={cfg.classifiers!r}: a non-empty subset of {list(CLASSIFIERS)}")
if cfg.rf_grid not in ("paper", "small"):
    raise rb.ParameterError(f"rf_grid={cfg.rf_grid!r}: allowed are 'paper' or 'small'")
print("resolved knobs:", vars(cfg))

# %% [markdown]
# ## The method
#
# **Dissimilarity embedding (Sect. 2.1).** Given training graphs $T = \{g_1, \dots, g_n\}$, all used as
# prototypes (the paper does no prototype selection), and a graph dissimilarity $d$, a graph $g$ is mapped to
#
# $$ \varphi(g) = \big(d(g, g_1), \dots, d(g, g_n)\big) \in \mathbb{R}^n . $$
#
# The training graphs give the $n \times n$ matrix $\mathbf D_{train}$ (Eq. 1) and the $m$ test graphs the
# $m \times n$ matrix $\mathbf D_{test}$ (Eq. 2). The rows of $\mathbf D_{test}$ are the reference
# *GED-embeddings* of the test graphs.
#
# **BP-GED.** $d$ is the bipartite approximation of graph edit distance (Riesen and Bunke, 2009): nodes of
# $g$ ($n_1$ of them) are assigned to nodes of $g'$ ($n_2$) by a linear sum assignment on the
# $(n_1 + n_2) \times (n_1 + n_2)$ matrix
#
# $$ C = \begin{pmatrix} C^{sub} & C^{del} \\ C^{ins} & 0 \end{pmatrix}, \qquad
#    C^{sub}_{ij} = c_v(\mu(u_i), \mu'(v_j)) + \tfrac12\, c_{star}(u_i, v_j), \quad
#    C^{del}_{ii} = c_v + \tfrac12 c_e \deg u_i, \quad C^{ins}_{jj} = c_v + \tfrac12 c_e \deg v_j , $$
#
# (off-diagonal entries of $C^{del}$, $C^{ins}$ are $\infty$), where $c_{star}$ is the cheapest matching of
# the edges around $u_i$ with those around $v_j$. With constant costs it has a closed form: if $s_{ij}$ edges
# can be paired with equal labels, $c_{star} = \min(c_e^{sub}, 2c_e)\,(\min(\deg u_i, \deg v_j) - s_{ij}) +
# c_e |\deg u_i - \deg v_j|$. The assignment fixes a node map, and BP-GED is the cost of the complete edit
# path that this map induces: an upper bound of the exact GED, computed in cubic time. Molecules are graphs
# with node label = element and edge label = bond type (single, double, triple, aromatic); all edit costs
# are 1 (the paper does not state its costs). `reprobook.ged` implements this and is unit-tested against
# networkx's exact GED.
#
# **GAT (Sect. 2.2).** A network $\psi$ predicts $\varphi(g)$ from $g$:
# three GAT layers (Velickovic et al.) with ReLU, widths `conv_dims`; the node vectors pooled by sum, max and
# mean and concatenated; two fully connected layers down to a *bottleneck*; four fully connected layers
# (ReLU, dropout) that expand it to $n$ outputs. The inputs are one-hot element labels, the GED's node labels.
# The targets are standardised by the training matrix's mean $\bar d$ and spread $s_d$ (as the public code
# does), $y = (\varphi(g) - \bar d)/s_d$.
#
# **Loss (Eq. 3).** Over a batch of $N$ graphs,
#
# $$ \mathcal L = \lambda\, \frac1N \sum_{k=1}^{N} \frac1n \lVert y_k - \hat y_k \rVert^2
#    + (1 - \lambda)\, \frac1N \sum_{k=1}^{N} \sum_{i=1}^{n} p_{k,i} \log \frac{p_{k,i}}{q_{k,i}},
#    \qquad p_k = \operatorname{softmax}(\hat y_k),\ q_k = \operatorname{softmax}(y_k), $$
#
# the paper's $\mathrm{KL}(p \,\Vert\, q)$ from the predicted to the true distribution (the paper does not say
# how the embeddings become distributions; we use the softmax, as its public code does).
#
# **Evaluation (Sect. 3).** The approximation error on the test graphs is the root mean squared percent error
#
# $$ \mathrm{RMSPE} = 100\,\% \cdot \sqrt{ \tfrac{1}{|S|} \textstyle\sum_{(k,i) \in S}
#    \big( (\varphi_i(g_k) - \psi_i(g_k)) / \varphi_i(g_k) \big)^2 } , $$
#
# in GED units over the pairs $S$ with $\varphi_i(g_k) > 0$. For classification, SVM (RBF), kNN and random
# forest are tuned by 5-fold grid search on the standardised GED-embeddings of the training graphs, then
# applied to the test graphs' GED-embeddings and to their GAT-embeddings.

# %%
import time

import datamol as dm
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

from reprobook.gnn import GATLayer, GCNLayer

dev = run.device
COSTS = ged.EditCosts()  # unit costs for node and edge substitution, insertion and deletion


class GraphBatch:
    """Several graphs as one block-diagonal graph: node features, boolean adjacency, graph index per node."""

    def __init__(self, feats, adjs, device):
        self.x = torch.cat(feats).to(device)
        self.adj = torch.block_diag(*adjs).bool().to(device)
        self.index = torch.cat([torch.full((len(f),), k) for k, f in enumerate(feats)]).to(device)
        self.n_graphs = len(feats)


def pool(h, index, n_graphs):
    """Sum, max and mean of the node vectors of each graph, concatenated (Sect. 2.2, step 3)."""
    d = h.shape[1]
    s = torch.zeros(n_graphs, d, device=h.device).index_add(0, index, h)
    cnt = torch.zeros(n_graphs, device=h.device).index_add(0, index, torch.ones_like(index, dtype=h.dtype))
    mx = torch.full((n_graphs, d), -torch.inf, device=h.device).scatter_reduce(
        0, index[:, None].expand_as(h), h, reduce="amax", include_self=True)
    return torch.cat([s, mx, s / cnt[:, None]], dim=1)


class DBGENet(nn.Module):
    """Graph layers -> sum/max/mean pooling -> bottleneck -> four expanding layers -> n distances."""

    def __init__(self, in_dim, n_out, conv="gat", dims=(32, 64, 64), bottleneck=32, dropout=0.1):
        super().__init__()
        widths = [in_dim, *dims]
        make = (lambda a, b: GATLayer(a, b)) if conv == "gat" else (lambda a, b: GCNLayer(a, b))
        self.convs = nn.ModuleList(make(a, b) for a, b in zip(widths, widths[1:]))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in dims)  # the layers have none
        self.squeeze = nn.Sequential(nn.Linear(3 * dims[-1], 2 * bottleneck), nn.ReLU(),
                                     nn.Linear(2 * bottleneck, bottleneck), nn.ReLU())
        b = bottleneck
        self.expand = nn.Sequential(nn.Linear(b, 2 * b), nn.ReLU(), nn.Dropout(dropout),
                                    nn.Linear(2 * b, 4 * b), nn.ReLU(), nn.Linear(4 * b, 8 * b), nn.ReLU(),
                                    nn.Linear(8 * b, n_out))  # last layer linear: standardised targets

    def forward(self, batch: GraphBatch):
        h = batch.x
        for layer, bias in zip(self.convs, self.biases):
            h = F.relu(layer(h, batch.adj) + bias)
        return self.expand(self.squeeze(pool(h, batch.index, batch.n_graphs)))


def dbge_loss(pred, target, lam):
    """Eq. 3: lambda * MSE + (1 - lambda) * KL(softmax(pred) || softmax(target)), averaged over the batch."""
    mse = F.mse_loss(pred, target)
    logp, logq = F.log_softmax(pred, -1), F.log_softmax(target, -1)
    kl = (logp.exp() * (logp - logq)).sum(-1).mean()
    return lam * mse + (1 - lam) * kl


def rmspe(true, pred):
    """RMSPE in percent over the entries with a positive true distance."""
    ok = true > 0
    return float(100 * np.sqrt(np.mean(((true[ok] - pred[ok]) / true[ok]) ** 2)))


# %% [markdown]
# ## The experiment
#
# **Data.** The paper's datasets (MUTAG, DHFR, PROTEINS, Mutagenicity from TUDataset) are not available
# offline. We use the aqueous-solubility set that ships with `datamol` (1,282 molecules, 2 to 47 heavy
# atoms, labelled low / medium / high solubility): small organic molecules with element and bond-type labels,
# the same kind of graphs as MUTAG and Mutagenicity, and a classification task that depends on structure.
# The smoke profile draws a stratified subset; the full profile uses all molecules. With `dataset="MUTAG"`
# (or `"DHFR"`, `"PROTEINS"`, `"Mutagenicity"`) and `data_root` pointing at the unpacked TUDataset files, the
# same code runs on the paper's own data (`reprobook.ged.read_tu_dataset`, tested on a fixture in that format).

# %%
if cfg.dataset == "solubility":
    df = dm.data.solubility(as_df=True)
    if cfg.task == "low_vs_high":
        df = df[df.SOL_classification != "(B) medium"].reset_index(drop=True)
    CLASS_NAMES = sorted(df.SOL_classification.unique())
    labels_all = df.SOL_classification.map({c: k for k, c in enumerate(CLASS_NAMES)}).to_numpy()
    graphs_all = [ged.from_mol(m) for m in df.mol]  # node label = atomic number, edge label = bond type
else:  # the paper's data, in the TUDataset text format under data_root
    try:
        graphs_all, raw = ged.read_tu_dataset(run.data_root, cfg.dataset)
    except ged.TUDatasetNotFound as e:
        raise rb.ParameterError(str(e)) from None
    CLASS_NAMES = [str(c) for c in np.unique(raw)]
    labels_all = np.searchsorted(np.unique(raw), raw)
pool_idx = np.arange(len(graphs_all))
if cfg.n_graphs and cfg.n_graphs < len(graphs_all):
    pool_idx, _ = train_test_split(pool_idx, train_size=cfg.n_graphs, stratify=labels_all, random_state=run.seed)
    pool_idx = np.sort(pool_idx)
graphs = [graphs_all[i] for i in pool_idx]
y_all = labels_all[pool_idx]
sizes = np.array([g.n_nodes for g in graphs])
NODE_LABELS = sorted({int(z) for g in graphs for z in g.nodes})
print(f"{cfg.dataset}: {len(graphs)} graphs, classes {dict(zip(CLASS_NAMES, np.bincount(y_all).tolist()))}, "
      f"{sizes.min()}-{sizes.max()} nodes (mean {sizes.mean():.1f}), node labels {NODE_LABELS}")
print("mean size per class:", {c: round(float(sizes[y_all == k].mean()), 1) for k, c in enumerate(CLASS_NAMES)})


def one_hot(g):
    """Node features: one-hot node label (for molecules the element), the GED's node labels."""
    return torch.from_numpy((g.nodes[:, None] == np.array(NODE_LABELS)[None, :]).astype(np.float32))


FEATS = [one_hot(g) for g in graphs]
ADJS = [torch.from_numpy(g.edges > 0) for g in graphs]

# %% [markdown]
# **BP-GED against exact GED.** Before building the embedding, a check of the approximation on molecules
# small enough for networkx's exact A* search: BP-GED can only over-estimate the exact distance, and it
# does so whenever the assignment ties or its local edge costs mislead it.

# %%
small = [k for k, g in enumerate(graphs) if g.n_nodes <= cfg.max_exact_atoms]
rng_pairs = np.random.default_rng(run.seed)
exact_rows = []
for _ in range(cfg.n_exact if len(small) >= 2 else 0):
    a, b = rng_pairs.choice(small, size=2, replace=False)
    t0 = time.perf_counter()
    e = ged.exact_ged(graphs[a], graphs[b], COSTS, timeout=cfg.exact_timeout)
    t_exact = time.perf_counter() - t0
    if e is None or t_exact >= 0.99 * cfg.exact_timeout:  # the search was cut short: e may not be optimal
        continue
    t0 = time.perf_counter()
    bp = ged.bp_ged(graphs[a], graphs[b], COSTS)
    t_bp = time.perf_counter() - t0
    exact_rows.append(dict(n1=graphs[a].n_nodes, n2=graphs[b].n_nodes, exact=e, bp=bp, t_exact=t_exact, t_bp=t_bp))
exact_tab = pd.DataFrame(exact_rows)
if len(exact_tab):
    gap = exact_tab.bp - exact_tab.exact
    print(f"{len(exact_tab)} pairs of molecules with <= {cfg.max_exact_atoms} atoms: BP-GED = exact in "
          f"{np.mean(gap == 0):.0%}, mean over-estimate {gap.mean():.2f}, never below exact: {bool((gap >= 0).all())}")
    print(f"time per pair: exact {exact_tab.t_exact.median() * 1e3:.1f} ms, BP {exact_tab.t_bp.median() * 1e3:.2f} ms "
          "(medians)")
    run.log(exact_check_pairs=len(exact_tab), exact_check_equal_share=round(float(np.mean(gap == 0)), 4),
            exact_check_mean_overestimate=round(float(gap.mean()), 4), exact_check_min_gap=float(gap.min()))
    run.log_timing(exact_ged_ms_per_pair=round(float(exact_tab.t_exact.median() * 1e3), 3),
                   bp_ged_small_ms_per_pair=round(float(exact_tab.t_bp.median() * 1e3), 4))
    fig, ax = plt.subplots(figsize=(5.8, 4.4))
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, (2, len(exact_tab)))
    ax.scatter(exact_tab.exact + jitter[0], exact_tab.bp + jitter[1], s=14, alpha=0.7)
    lim = [0, max(exact_tab.bp.max(), exact_tab.exact.max()) + 1]
    ax.plot(lim, lim, "k--", lw=1, label="BP-GED = exact")
    ax.set_xlabel("exact GED (networkx A*)")
    ax.set_ylabel("BP-GED (bipartite assignment)")
    ax.set_title(f"BP-GED is an upper bound ({len(exact_tab)} small molecule pairs)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run.figure_path("bp_vs_exact.png"), dpi=120)
    plt.show()

# %% [markdown]
# **The GED-embedding.** All BP-GEDs between the molecules of the pool, computed once; each seed's split
# takes its $\mathbf D_{train}$ and $\mathbf D_{test}$ from this matrix.

# %%
t0 = time.perf_counter()
D_all = ged.dissimilarity_matrix(graphs, costs=COSTS, n_jobs=cfg.n_jobs)
t_matrix = time.perf_counter() - t0
print(f"{D_all.shape[0]}x{D_all.shape[1]} BP-GED matrix in {t_matrix:.1f} s "
      f"({t_matrix / D_all.size * 1e6:.0f} us per pair, {cfg.n_jobs} process(es)); "
      f"asymmetric entries: {np.mean(D_all != D_all.T):.1%}")
run.log_timing(ged_matrix_s=round(t_matrix, 2))

# %% [markdown]
# **Training and evaluation, per seed.** A stratified split (the seed), the GAT trained on
# $\mathbf D_{train}$ (Adam, shuffled minibatches, the last epoch kept: the test graphs take no part in any
# choice), then the RMSPE on the test graphs, the classifiers, and the embedding times. The times are measured
# on the test graphs (at most 100, as in Table 4): the GED-embedding computes their BP-GED to all training
# graphs, the GAT-embedding is one forward pass on one CPU thread.

# %%
RF_GRIDS = {"paper": dict(n_estimators=[50, 100], max_depth=[10, 20, 30], min_samples_split=[2, 3, 5]),
            "small": dict(n_estimators=[50], max_depth=[10, None])}


def make_classifier(name, s):
    """The paper's grids (Sect. 3.2), tuned by 5-fold cross-validation on the training embeddings."""
    if name == "svm":
        return GridSearchCV(SVC(kernel="rbf"), dict(C=[0.1, 1, 10, 100], gamma=[0.01, 0.1, 1, "auto"]), cv=5,
                            n_jobs=cfg.n_jobs)
    if name == "knn":
        return GridSearchCV(KNeighborsClassifier(), dict(n_neighbors=[3, 5, 7, 10]), cv=5, n_jobs=cfg.n_jobs)
    return GridSearchCV(RandomForestClassifier(random_state=s, n_jobs=1), RF_GRIDS[cfg.rf_grid], cv=5,
                        n_jobs=cfg.n_jobs)


def batches(idx, size, gen=None):
    order = idx[torch.randperm(len(idx), generator=gen).numpy()] if gen is not None else idx
    for k in range(0, len(order), size):
        part = order[k:k + size]
        yield part, GraphBatch([FEATS[i] for i in part], [ADJS[i] for i in part], dev)


def train_model(arch, lam, tr, D_train, s):
    """Train one network on the standardised rows of D_train; returns model, (mean, std), loss history."""
    torch.manual_seed(s)
    conv_type, n_layers = arch[:3], int(arch[3])
    model = DBGENet(len(NODE_LABELS), len(tr), conv_type, cfg.conv_dims[:n_layers], cfg.bottleneck,
                    cfg.dropout).to(dev)
    mu, sd = float(D_train.mean()), float(D_train.std())
    target = torch.tensor((D_train - mu) / sd, dtype=torch.float32, device=dev)
    row = {int(g): k for k, g in enumerate(tr)}
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(s)
    history = []
    for _ in range(cfg.epochs):
        model.train()
        total = 0.0
        for part, batch in batches(tr, cfg.batch_size, gen):
            loss = dbge_loss(model(batch), target[[row[int(i)] for i in part]], lam)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(part)
        history.append(total / len(tr))
    return model, (mu, sd), history


@torch.no_grad()
def embed(model, scale, idx):
    """GAT-embeddings (in GED units) of the graphs idx."""
    model.eval()
    out = [model(batch).cpu().numpy() for _, batch in batches(idx, 256)]
    return np.concatenate(out) * scale[1] + scale[0]


def time_gat_cpu(model, idx, repeats):
    """Median wall time of embedding the graphs idx in one batch on one CPU thread (batch building included)."""
    cpu, times = torch.device("cpu"), []
    model = model.to(cpu).eval()
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(GraphBatch([FEATS[i] for i in idx], [ADJS[i] for i in idx], cpu))
            times.append(time.perf_counter() - t0)
    model.to(dev)
    return float(np.median(times))


@torch.no_grad()
def time_gat_gpu(model, idx, repeats):
    """Median wall time of the same embedding on the CUDA device (transfer included, synchronised)."""
    model.eval()
    model(GraphBatch([FEATS[i] for i in idx], [ADJS[i] for i in idx], dev))  # warm-up
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(GraphBatch([FEATS[i] for i in idx], [ADJS[i] for i in idx], dev))
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


MAIN = f"{cfg.conv}{len(cfg.conv_dims)}"
ARCHS = list(dict.fromkeys([MAIN, *cfg.ablation]))
RESULTS = []
t_start = time.perf_counter()
for s in run.seeds:
    tr, te = train_test_split(np.arange(len(graphs)), test_size=cfg.test_fraction, stratify=y_all, random_state=s)
    tr, te = np.sort(tr), np.sort(te)
    D_train, D_test = D_all[np.ix_(tr, tr)], D_all[np.ix_(te, tr)]
    res = dict(seed=s, n_train=len(tr), n_test=len(te), rmspe={}, lam_rmspe={}, acc={}, history={})
    # reference: predict every test graph's distances by the column means of D_train (ignores the graph)
    res["rmspe_mean_predictor"] = rmspe(D_test, np.broadcast_to(D_train.mean(0), D_test.shape))
    models = {}
    for arch in ARCHS:
        t0 = time.perf_counter()
        model, scale, hist = train_model(arch, cfg.lam, tr, D_train, s)
        models[arch] = (model, scale)
        res["history"][arch] = hist
        res["rmspe"][arch] = rmspe(D_test, embed(model, scale, te))
        print(f"seed {s} {arch}: trained in {time.perf_counter() - t0:.1f} s, test RMSPE {res['rmspe'][arch]:.1f} %")
    print(f"seed {s}: RMSPE of the column-mean predictor {res['rmspe_mean_predictor']:.1f} %")
    for lam_k in cfg.lambdas:
        model, scale, _ = train_model(MAIN, lam_k, tr, D_train, s)
        res["lam_rmspe"][lam_k] = rmspe(D_test, embed(model, scale, te))
        print(f"seed {s} lambda {lam_k}: test RMSPE {res['lam_rmspe'][lam_k]:.1f} %")
    model, scale = models[MAIN]
    E_test_gat = embed(model, scale, te)
    res["E_test_ged"], res["E_test_gat"], res["y_test"] = D_test, E_test_gat, y_all[te]
    res["mse_ged_units"] = float(np.mean((D_test - E_test_gat) ** 2))
    scaler = StandardScaler().fit(D_train)
    Xtr, Xged, Xgat = scaler.transform(D_train), scaler.transform(D_test), scaler.transform(E_test_gat)
    for name in cfg.classifiers:
        clf = make_classifier(name, s).fit(Xtr, y_all[tr])
        res["acc"][name] = {"GED": float(clf.score(Xged, y_all[te])), "GAT": float(clf.score(Xgat, y_all[te]))}
    res["acc_majority"] = float(np.mean(y_all[te] == np.bincount(y_all[tr]).argmax()))
    # embedding times of (at most) 100 test graphs
    probe = te[:100]
    t0 = time.perf_counter()
    ged.dissimilarity_matrix([graphs[i] for i in probe], [graphs[i] for i in tr], COSTS)
    res["t_ged"] = time.perf_counter() - t0
    res["t_gat_cpu"] = time_gat_cpu(model, probe, cfg.timing_repeats)
    res["t_gat_gpu"] = time_gat_gpu(model, probe, cfg.timing_repeats) if dev.type == "cuda" else None
    res["n_probe"] = len(probe)
    RESULTS.append(res)
    print(f"seed {s}: accuracy "
          + ", ".join(f"{k} GED {v['GED']:.3f} / GAT {v['GAT']:.3f}" for k, v in res["acc"].items())
          + f"; embedding {len(probe)} graphs: GED {res['t_ged'] * 1e3:.0f} ms, GAT {res['t_gat_cpu'] * 1e3:.1f} ms")
run.log_timing(experiment_s=round(time.perf_counter() - t_start, 2))

# %% [markdown]
# The training loss of the main model (first seed):

# %%
r0 = RESULTS[0]
fig, ax = plt.subplots(figsize=(7, 4))
for arch in ARCHS:
    ax.plot(np.arange(1, cfg.epochs + 1), r0["history"][arch], label=arch)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (Eq. 3, standardised targets)")
ax.set_title(f"Training loss per architecture (lambda = {cfg.lam}, seed {r0['seed']})")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("training_loss.png"), dpi=120)
plt.show()

# %% [markdown]
# **How close are the two embeddings?** Left: every predicted distance against the true BP-GED on the test
# graphs. Right, as the paper's Fig. 3: a PCA fitted on the test graphs' GED-embeddings, with the
# GAT-embeddings projected into the same plane and each pair joined by a grey line.

# %%
Eg, Ea = r0["E_test_ged"], r0["E_test_gat"]
pca = PCA(n_components=2).fit(Eg)
Pg, Pa = pca.transform(Eg), pca.transform(Ea)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
ax = axes[0]
ax.scatter(Eg.ravel(), Ea.ravel(), s=2, alpha=0.15)
lim = [0, Eg.max() + 1]
ax.plot(lim, lim, "k--", lw=1)
ax.set_xlabel("BP-GED to a training graph (GED-embedding)")
ax.set_ylabel("GAT prediction (GAT-embedding)")
ax.set_title(f"Predicted vs true distances, test graphs (RMSPE {r0['rmspe'][MAIN]:.0f} %)")
ax = axes[1]
for p, q in zip(Pg, Pa):
    ax.plot([p[0], q[0]], [p[1], q[1]], color="grey", lw=0.6, alpha=0.6)
ax.scatter(Pg[:, 0], Pg[:, 1], s=12, color="tab:blue", label="GED-embedding")
ax.scatter(Pa[:, 0], Pa[:, 1], s=12, color="tab:red", label="GAT-embedding")
ax.set_xlabel("PC 1 (of the GED-embeddings)")
ax.set_ylabel("PC 2")
ax.set_title("Test graphs in the GED-embedding's PCA plane")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("embeddings.png"), dpi=120)
plt.show()

# %% [markdown]
# **Accuracy and time.** Classifier accuracy on the test graphs with either embedding (the classifier is the
# same: trained on the GED-embeddings of the training graphs), and the time to embed the test graphs.

# %%
acc_rows = [dict(seed=r["seed"], classifier=c, embedding=e, accuracy=r["acc"][c][e])
            for r in RESULTS for c in cfg.classifiers for e in ("GED", "GAT")]
acc_tab = pd.DataFrame(acc_rows)
acc_summary = acc_tab.groupby(["classifier", "embedding"]).accuracy.agg(["mean", "std"]).unstack().round(3)
time_tab = pd.DataFrame([dict(seed=r["seed"], graphs=r["n_probe"], prototypes=r["n_train"],
                              ged_ms_per_100=1e5 * r["t_ged"] / r["n_probe"],
                              gat_cpu_ms_per_100=1e5 * r["t_gat_cpu"] / r["n_probe"]) for r in RESULTS])
time_tab["ratio"] = time_tab.ged_ms_per_100 / time_tab.gat_cpu_ms_per_100
if dev.type == "cuda":
    time_tab["gat_gpu_ms_per_100"] = [1e5 * r["t_gat_gpu"] / r["n_probe"] for r in RESULTS]
print(f"majority-class accuracy: {np.mean([r['acc_majority'] for r in RESULTS]):.3f}")
display(acc_summary)  # noqa: F821 (IPython)
time_tab.round(2)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
w = 0.38
for k, emb in enumerate(("GED", "GAT")):
    m = [acc_tab[(acc_tab.classifier == c) & (acc_tab.embedding == emb)].accuracy.mean() for c in cfg.classifiers]
    ax.bar(np.arange(len(cfg.classifiers)) + (k - 0.5) * w, m, w, label=f"{emb}-embedding",
           color="tab:blue" if emb == "GED" else "tab:red")
ax.axhline(np.mean([r["acc_majority"] for r in RESULTS]), color="grey", ls="--", label="majority class")
ax.set_xticks(range(len(cfg.classifiers)), [c.upper() for c in cfg.classifiers])
ax.set_xlabel("classifier")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("Classification on the two embeddings")
ax.legend(loc="lower right")
ax = axes[1]
bars = {"BP-GED embedding": time_tab.ged_ms_per_100.mean(), "GAT embedding (CPU)": time_tab.gat_cpu_ms_per_100.mean()}
if len(exact_tab):  # exact GED: median time per pair times (100 graphs x prototypes), small molecules only
    bars = {"exact GED (extrapolated)": 1e3 * exact_tab.t_exact.median() * 100 * r0["n_train"], **bars}
ax.barh(list(bars), list(bars.values()), color=["tab:grey", "tab:blue", "tab:red"][-len(bars):])
ax.set_xscale("log")
ax.set_xlabel("milliseconds to embed 100 graphs (log scale)")
ax.set_title(f"Embedding time against {r0['n_train']} prototypes")
fig.tight_layout()
fig.savefig(run.figure_path("accuracy_and_time.png"), dpi=120)
plt.show()

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Accuracies are paired by seed (same split, same trained classifier). "No
# noticeable deterioration" is read as: the GAT-embedding loses at most 0.10 accuracy against the
# GED-embedding (`Better(GAT, GED, margin=-0.1)`), per classifier; the paper's own SVM drops are 0.02 to 0.09.
# The speed claims compare the time to embed the same test graphs (timings vary between runs, so these
# verdicts are marked volatile). RMSPE claims compare architectures on the same split (lower is better);
# with one seed (smoke) every verdict rests on a single split and is indicative only.

# %%
def per_seed(fn):
    return [round(float(fn(r)), 6) for r in RESULTS]


ledger = rb.Ledger()
acc_meas = {}
for c in cfg.classifiers:
    acc_meas[f"GED_{c}"] = per_seed(lambda r: r["acc"][c]["GED"])
    acc_meas[f"GAT_{c}"] = per_seed(lambda r: r["acc"][c]["GAT"])
PAPER_ACC = {"svm": "SVM 0.78/0.69, 0.85/0.83, 0.80/0.72, 0.75/0.68",
             "knn": "kNN 0.78/0.66, 0.78/0.83, 0.80/0.73, 0.71/0.68",
             "rf": "RF 0.74/0.70, 0.76/0.83, 0.79/0.73, 0.76/0.70"}
paper_acc = ("; ".join(PAPER_ACC[c] for c in cfg.classifiers)
             + " (GED/GAT on DHFR, MUTAG, PROTEINS, MUTAGENICITY, Table 3)")
ledger.claim("acc-no-large-drop",
             "Classifying GAT-embeddings instead of GED-embeddings costs at most 0.10 accuracy, for every classifier",
             paper=paper_acc, measured=acc_meas,
             rule=rb.AllOf(*[rb.Better(f"GAT_{c}", f"GED_{c}", margin=-0.1) for c in cfg.classifiers]))
ledger.claim("ged-embedding-better",
             "The original GED-embeddings give higher accuracy than the learned GAT-embeddings, "
             "whatever the classifier",
             paper="Sect. 3.4: GED tends to be better regardless of classifier and dataset (" + paper_acc + ")",
             measured=acc_meas,
             rule=rb.AllOf(*[rb.Better(f"GED_{c}", f"GAT_{c}") for c in cfg.classifiers]))
speed = {"speedup_cpu": per_seed(lambda r: r["t_ged"] / r["t_gat_cpu"])}
ledger.claim("faster-10x",
             "Embedding new graphs with the GAT is at least 10 times faster than computing their GED-embedding",
             paper="GED 2,799 / 10.19 / 3,731 / 11,397 ms vs GAT-CPU 6.34 / 2.17 / 7.95 / 3.24 ms "
                   "per 100 graphs (Table 4)",
             measured=speed, rule=rb.AtLeast("speedup_cpu", 10.0), volatile=True)
ledger.claim("faster-1000x",
             "The GAT-embedding is about a thousand times faster (the conclusion's 'thousands of times faster')",
             paper="ratios 959, 6, 1,060, 3,550 on DHFR, MUTAG, PROTEINS, MUTAGENICITY (Table 4, GPU); Sect. 4",
             measured=speed, rule=rb.AtLeast("speedup_cpu", 1000.0), volatile=True)


ledger.claim("beats-graph-blind",
             "The GAT-embedding is graph-specific: its RMSPE is below that of predicting every test graph's "
             "distances by the training column means",
             paper="implied by Fig. 3 (GAT- and GED-embeddings of the same graph lie close together); no number",
             measured={"RMSPE_GAT": per_seed(lambda r: r["rmspe"][MAIN]),
                       "RMSPE_column_mean": per_seed(lambda r: r["rmspe_mean_predictor"])},
             rule=rb.Better("RMSPE_GAT", "RMSPE_column_mean", higher_is_better=False))


def arch_claim(cid, text, paper, a, b):
    if a in ARCHS and b in ARCHS:
        ledger.claim(cid, text, paper=paper,
                     measured={f"RMSPE_{a}": per_seed(lambda r: r["rmspe"][a]),
                               f"RMSPE_{b}": per_seed(lambda r: r["rmspe"][b])},
                     rule=rb.Better(f"RMSPE_{a}", f"RMSPE_{b}", higher_is_better=False))
    else:
        ledger.claim(cid, text, paper=paper,
                     rule=rb.NotTestable(f"architectures {a} and {b} were not both trained (knob ablation)"))


arch_claim("depth-helps-gat", "Three GAT layers approximate the GED-embedding better than one (lower RMSPE)",
           "mean RMSPE 36 % (3 layers) vs 60 % (1 layer) (Table 1)", "gat3", "gat1")
arch_claim("gat-beats-gcn", "Three GAT layers approximate better than three GCN layers",
           "mean RMSPE 36 % vs 48 % (Table 1)", "gat3", "gcn3")
if len(cfg.lambdas) >= 3:
    lam_means = [float(np.mean([r["lam_rmspe"][v] for r in RESULTS])) for v in cfg.lambdas]
    ledger.claim("lambda-trend", "A larger MSE weight lambda gives a lower RMSPE",
                 paper="mean RMSPE 133, 104, 64, 45, 34 % for lambda 0.10, 0.25, 0.50, 0.75, 0.90 (Table 2)",
                 measured={"lambda": list(cfg.lambdas), "RMSPE": [round(v, 6) for v in lam_means]},
                 rule=rb.Correlates("lambda", "RMSPE", sign=-1, min_rho=0.8))
else:
    ledger.claim("lambda-trend", "A larger MSE weight lambda gives a lower RMSPE",
                 paper="mean RMSPE 133, 104, 64, 45, 34 % for lambda 0.10, 0.25, 0.50, 0.75, 0.90 (Table 2)",
                 rule=rb.NotTestable("the lambda sweep was not run (knob lambdas; the full profile runs it)"))
PAPER_T3 = {  # Table 3: (GED, GAT) accuracy per classifier
    "MUTAG": dict(svm=(0.85, 0.83), knn=(0.78, 0.83), rf=(0.76, 0.83)),
    "DHFR": dict(svm=(0.78, 0.69), knn=(0.78, 0.66), rf=(0.74, 0.70)),
    "PROTEINS": dict(svm=(0.80, 0.72), knn=(0.80, 0.73), rf=(0.79, 0.73)),
    "Mutagenicity": dict(svm=(0.75, 0.68), knn=(0.71, 0.68), rf=(0.76, 0.70)),
}
if cfg.dataset in PAPER_T3:
    ref = PAPER_T3[cfg.dataset]
    ledger.claim("table3-absolute",
                 f"On {cfg.dataset}, our accuracies reach the paper's within 0.05 (both embeddings, every classifier)",
                 paper="; ".join(f"{c.upper()} {ref[c][0]:.2f} / {ref[c][1]:.2f}" for c in cfg.classifiers)
                       + f" (GED / GAT, {cfg.dataset}, Table 3)",
                 measured=acc_meas,
                 rule=rb.AllOf(*[rb.AtLeast(f"{e}_{c}", ref[c][k] - 0.05) for c in cfg.classifiers
                                 for k, e in enumerate(("GED", "GAT"))]))
else:
    ledger.claim("table3-absolute", "Accuracies of Table 3 on DHFR, MUTAG, PROTEINS and MUTAGENICITY",
                 paper="e.g. SVM 0.85 (GED) vs 0.83 (GAT) on MUTAG (Table 3)",
                 rule=rb.NotTestable("the TU datasets are not available offline (solubility classes are a "
                                     "stand-in); run with dataset='MUTAG' and data_root to test it"))

run.log(n_train=[r["n_train"] for r in RESULTS], n_test=[r["n_test"] for r in RESULTS],
        acc_majority=per_seed(lambda r: r["acc_majority"]),
        mse_ged_units=per_seed(lambda r: r["mse_ged_units"]),
        rmspe_mean_predictor=per_seed(lambda r: r["rmspe_mean_predictor"]),
        **{f"acc_{c}_{e.lower()}": per_seed(lambda r: r["acc"][c][e]) for c in cfg.classifiers for e in ("GED", "GAT")},
        **{f"rmspe_{a}": per_seed(lambda r: r["rmspe"][a]) for a in ARCHS},
        **{f"rmspe_lambda_{v}": per_seed(lambda r: r["lam_rmspe"][v]) for v in cfg.lambdas})
run.log_timing(ged_ms_per_100=time_tab.ged_ms_per_100.round(2).tolist(),
               gat_cpu_ms_per_100=time_tab.gat_cpu_ms_per_100.round(3).tolist(),
               speedup_cpu=time_tab.ratio.round(1).tolist(),
               **({"gat_gpu_ms_per_100": time_tab.gat_gpu_ms_per_100.round(3).tolist()} if dev.type == "cuda" else {}))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data.** The paper's TUDataset graphs (MUTAG, DHFR, PROTEINS, Mutagenicity) are not available offline;
#   by default we use datamol's aqueous-solubility molecules (1,282, three solubility classes;
#   `task="low_vs_high"` gives a binary task), and absolute accuracies and RMSPEs are not compared with the
#   paper's. Given `data_root` and `dataset="MUTAG"` (etc.), the chapter reads the TU files and the
#   `table3-absolute` claim compares our accuracies with Table 3 (at least the paper's minus 0.05). The GAT
#   sees node labels and connectivity only (as a GATConv without edge features does); BP-GED also sees the
#   edge labels (see Exercise 1).
# - **Split.** The smoke profile holds out 25 % of 240 molecules (the paper: 10 %), so that the accuracy is
#   measured on 60 rather than 24 test graphs; the full profile uses the paper's 9:1 split on all
#   molecules, with three splits (seeds) instead of five repetitions, to fit one GPU within 30 minutes.
# - **Edit costs.** The paper does not give its BP-GED costs; we use unit costs for every node and edge
#   operation, with labels element and bond type. The public code's BP-GED differs from Riesen and Bunke's:
#   it returns the assignment's objective (node-feature L1 distance plus degree differences) instead of the
#   cost of the induced edit path, so it is neither an upper nor a lower bound of GED. We follow the cited
#   method (edit-path cost, an upper bound, checked against exact GED above). BP-GED is not symmetric; like
#   the paper we take $d(g_i, g_j)$ row by row without symmetrising.
# - **Network.** The text's architecture (Sect. 2.2) is followed; the widths, which the paper does not give,
#   are ours (`conv_dims`, `bottleneck`). The public code differs from the text: no nonlinearity between its
#   GAT layers, max and sum pooling only, the mean-pooled vector used as a sigmoid gate. We apply ReLU after
#   each graph layer and pool by sum, max and mean as the text says. The last layer is linear (the text
#   puts ReLU on every expansion layer, which cannot output the negative standardised targets).
# - **Loss.** Eq. 3 names "probability distributions" $p$, $q$ without defining them; we take the softmax of
#   the standardised embeddings, as the public code does. The public code's KL term is
#   $\mathrm{KL}(q \Vert p)$ with $q$ the softmax of the *raw* distances; we keep the paper's
#   $\mathrm{KL}(p \Vert q)$ on the standardised ones. The paper fixes $\lambda = 0.85$, a value outside its
#   tested grid.
# - **Training.** Smoke: 40 epochs, learning rate 2e-3, batch 16 (the paper: 500 epochs, 1e-4, batch 8/32);
#   full: 150 epochs, 1e-3, batch 32 (eleven networks per seed: the main one, five ablation architectures
#   and five values of lambda). The higher learning rates stand in for the paper's longer training; they
#   were set once by hand, not tuned on test data. The last epoch is kept (the public code keeps the epoch
#   of lowest *training* MSE).
# - **RMSPE.** We compute it in GED units over the pairs with a positive distance. The public code computes
#   it on the standardised values, divided by the standardised targets plus $10^{-8}$: targets near the mean
#   distance are near zero there, which inflates the percentages and may explain values such as 177 % on DHFR.
#   Table 2's DHFR column is garbled in the paper ("0414%", "5341%").
# - **Timing.** Table 4 times a GED implementation on 8 CPUs against the GAT on one GPU; we time our
#   single-process NumPy BP-GED against the GAT on one CPU thread, on the same (at most 100) test graphs.
#   The GED cost grows with the number of prototypes (training graphs) and the GAT's does not, so the ratio
#   grows with the dataset: compare the smoke and full profiles. The exact-GED bar is an extrapolation from
#   small molecules and flatters exact GED.
# - **Reported spread.** Table 3's standard deviations (e.g. $\pm 1.54$ around 0.78) cannot be spreads of
#   accuracies; we report the spread over seeds.

# %% [markdown]
# ## Exercises
#
# 1. The GAT sees the element of each atom and which atoms are bonded, but not the bond types, which the
#    GED does see. Add, to each node's features, the counts of its single, double, triple and aromatic bonds
#    and compare the RMSPE and the accuracy on the GAT-embeddings.
#
# ```{admonition} Solution
# :class: dropdown
# In `one_hot`, concatenate `np.stack([(g.edges == c).sum(1) for c in (1, 2, 3, 4)], 1)` to the one-hot
# element matrix (and widen `DBGENet`'s input accordingly). BP-GED charges one unit for every changed bond
# type, so distances between molecules that differ only in aromaticity or bond order are invisible to the
# plain network: it must predict the same vector for both. With bond counts the network can tell them apart,
# and the RMSPE should drop, most for the molecules with aromatic rings. The accuracy need not follow: the
# classifiers depend on the distances that separate the classes, which are dominated by molecule size here
# (look at the mean size per class printed at the top).
# ```
#
# 2. The embedding has one dimension per training graph. What happens to the GAT's output layer, its training
#    time and the GED-embedding's time when the training set grows tenfold? Propose a cheaper variant.
#
# ```{admonition} Solution
# :class: dropdown
# The GED-embedding of one new graph needs $n$ BP-GEDs, each cubic in the graph sizes: linear in $n$. The
# GAT's output layer has $8b \times n$ weights, so its forward pass also grows linearly in $n$, but with a
# tiny constant; training needs the whole $n \times n$ matrix, quadratic in $n$ BP-GEDs, once. A cheaper
# variant is prototype selection (the paper's own future work): choose $k \ll n$ prototypes (e.g. by
# k-medoids on $\mathbf D_{train}$ or spanning prototypes, Riesen and Bunke 2010), so that both the matrix
# ($n \times k$) and the output layer shrink; another is to predict a low-dimensional embedding such as the
# leading principal components of $\mathbf D_{train}$ and decode them.
# ```
#
# 3. The classifiers are trained on GED-embeddings and tested on GAT-embeddings. Train them instead on the
#    GAT-embeddings of the training graphs (the network's predictions for its own training set). Which
#    protocol is fairer, and why can the second be misleading?
#
# ```{admonition} Solution
# :class: dropdown
# Replace `Xtr` by `scaler.transform(embed(model, scale, tr))` (with a scaler fitted on those predictions)
# when testing on `Xgat`. The paper's protocol (and ours) treats the GAT as a drop-in replacement for the
# GED at test time: the classifier has learned the real embedding and sees an approximation of it. Training
# on the network's own training-set predictions mixes two effects: the network has fitted those graphs far
# better than it will fit new ones, so the classifier learns a cleaner space than the one it is tested in;
# and a network with low error on its training set but high test error then looks worse than it is, or
# better if its errors are systematic (a consistent bias that the classifier can absorb).
# ```
