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
# # Flexible-Order Feature-Interaction for Mixed Continuous and Discrete Variables with Group-Level Interpretability
#
# **Chapter `iconip2024-04`.** Zijie Zhai, Junchen Shen, Ping Li, Jie Zhang, Kai Zhang. *Flexible-Order
# Feature-Interaction for Mixed Continuous and Discrete Variables with Group-Level Interpretability*. In:
# Neural Information Processing, 31st International Conference, ICONIP 2024, Proceedings Part I, Lecture
# Notes in Computer Science vol. 15286, pp. 42–57, Springer, 2025. DOI:
# [10.1007/978-981-96-6576-1_4](https://doi.org/10.1007/978-981-96-6576-1_4) (inferred from the volume's
# chapter numbering; our copy of the paper does not print it). No code was released with the paper.
#
# **The idea.** A multi-layer perceptron on tabular data mixes every input with every other one, which is
# why it predicts well and why nobody can say what it has learned. A linear model is the opposite. FOFI
# (flexible-order feature interaction) sits in between: it learns a soft assignment of the $k$ input
# features to $p$ groups, lets the features *inside* a group interact freely (self-attention, so the
# interaction may have any order), and then adds the groups' summaries up *linearly*, with one scalar
# weight per group. The groups are the explanation: each is a set of features that act jointly, and its
# weight says how much it matters. The assignment starts dense and is pruned during training by a rising
# threshold (an annealed competition between features for places in a group). Continuous features are
# embedded through a learnable soft binning so that they can interact with categorical ones in the same
# vector space. This chapter implements the network from the paper's equations, tests whether its groups
# recover interactions planted in the paper's three synthetic functions (also with some inputs made
# discrete), whether the group weights behave like importances, and how it does on the UCI Wine data
# (which ships with scikit-learn, so here the data *are* the paper's) against the baselines we can build
# offline.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol, sized for one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # "auto" picks CUDA when present
data_root = None  # unused: every dataset here is generated or ships with scikit-learn
n_seeds: int | None = None  # independent repetitions of every experiment
n_train: int | None = None  # training rows of each synthetic function (plus n_train // 4 validation, n_train // 2 test)
n_features: int | None = None  # columns of the synthetic inputs (the functions read 7, 10 and 8 of them)
epochs: list | None = None  # [warm-up, annealing, stabilisation] epochs (the paper: [20, 80, 150])
anneal_steps: int | None = None  # how many times alpha rises during annealing (paper: every 10 of 80 epochs = 8)
tau: float | None = None  # temperature of the row softmax of the interaction indicator matrix (paper: 0.1)
alpha_T: float | None = None  # final truncation threshold on the synthetic functions (paper's grid: 0.8 or 1.0)
n_bins: int | None = None  # soft bins per continuous feature (paper: 8)
quantizer: str | None = None  # "adaptive" (the paper's learnable soft binning) or "offline" (quantile bins)
bin_prior: bool | None = None  # multiply bin probabilities by the bin weight pi_u of Algorithm 1 (Eq. 3 has none)
last_bandwidth: str | None = None  # "symmetric" (our reading of Alg. 1 line 8) or "literal" (as printed)
nid_top: int | None = None  # how many of NID's strongest candidate sets count as its groups (0: as many as FOFI's p)
alpha_sweep: list | None = None  # alpha_T values of the group-size sweep on Wine (Fig. 7b analogue)

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import Code, display
from sklearn.cluster import KMeans
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, SplineTransformer, StandardScaler
from sklearn.svm import SVC
from torch import nn

import reprobook as rb
from reprobook import interactions as fi
from reprobook.runtime import seed_everything

PROFILES = {
    # CPU, one thread, under a minute: a one-layer, d = 16 FOFI on 400 rows per function for 12 epochs, one
    # seed; Wine on the same schedule, without the offline-quantizer rerun. A sign, not evidence.
    "smoke": dict(n_seeds=1, n_train=400, n_features=10, epochs=[2, 6, 4], anneal_steps=8, tau=0.1,
                  alpha_T=1.0, n_bins=8, quantizer="adaptive", bin_prior=False, last_bandwidth="symmetric",
                  nid_top=0, alpha_sweep=[], lr=1e-2, batch_size=200, wine_batch=72,
                  wine_p=13, wine_alpha_T=0.8, wine_ablation=False, d=16, heads=2, layers=1,
                  nid_hidden=[64, 32, 16], nid_epochs=30, nid_l1=5e-5, mixed_discrete=[0, 2, 4, 6]),
    # One GPU (or many cores), under 30 minutes: the paper's architecture (d = 32, two layers of two heads)
    # and 20/80/150 schedule, 3 seeds, 10 000 training rows per function.
    "full": dict(n_seeds=3, n_train=10000, n_features=10, epochs=[20, 80, 150], anneal_steps=8, tau=0.1,
                 alpha_T=1.0, n_bins=8, quantizer="adaptive", bin_prior=False, last_bandwidth="symmetric",
                 nid_top=0, alpha_sweep=[0.0, 0.4, 0.8, 1.0, 1.2], lr=3e-3, batch_size=256, wine_batch=32,
                 wine_p=13, wine_alpha_T=0.8, wine_ablation=True, d=32, heads=2,
                 layers=2, nid_hidden=[140, 100, 60, 20], nid_epochs=100, nid_l1=5e-5,
                 mixed_discrete=[0, 2, 4, 6]),
}
run = rb.start("iconip2024-04", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(n_seeds=n_seeds, n_train=n_train, n_features=n_features, epochs=epochs,
                          anneal_steps=anneal_steps, tau=tau, alpha_T=alpha_T, n_bins=n_bins, quantizer=quantizer,
                          bin_prior=bin_prior, last_bandwidth=last_bandwidth, nid_top=nid_top,
                          alpha_sweep=alpha_sweep))
cfg = run.cfg
if cfg.quantizer not in ("adaptive", "offline"):
    raise rb.ParameterError(f"quantizer={cfg.quantizer!r} is not allowed; use 'adaptive' or 'offline'")
if cfg.last_bandwidth not in ("symmetric", "literal"):
    raise rb.ParameterError(f"last_bandwidth={cfg.last_bandwidth!r} is not allowed; use 'symmetric' or 'literal'")
if len(cfg.epochs) != 3 or any(not isinstance(e, int) or e < 0 for e in cfg.epochs) or sum(cfg.epochs) < 1:
    raise rb.ParameterError(f"epochs={cfg.epochs!r} must be three integers >= 0 [warm-up, annealing, "
                            "stabilisation] with a positive sum")
for _name, _low in (("n_seeds", 1), ("n_train", 100), ("anneal_steps", 1), ("n_bins", 3), ("nid_top", 0)):
    if getattr(cfg, _name) < _low:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)!r} must be an integer >= {_low}")
if cfg.n_features < max(fi.N_USED.values()):
    raise rb.ParameterError(f"n_features={cfg.n_features!r} must be >= {max(fi.N_USED.values())} "
                            "(f2 reads x1..x10)")
if cfg.tau <= 0:
    raise rb.ParameterError(f"tau={cfg.tau!r} must be > 0 (a softmax temperature)")
if not 0.0 <= cfg.alpha_T <= 3.0 or any(not 0.0 <= a <= 3.0 for a in cfg.alpha_sweep):
    raise rb.ParameterError(f"alpha_T={cfg.alpha_T!r} and alpha_sweep={cfg.alpha_sweep!r} must lie in [0, 3] "
                            "(thresholds as multiples of a column mean; the paper uses 0.8 and 1.0)")
print(f"device {run.device}; seeds {run.seeds}; schedule {cfg.epochs} epochs; quantizer {cfg.quantizer}")

# %% [markdown]
# ## The method
#
# A sample has $k$ features $x_1, \dots, x_k$, each continuous or categorical (with $c_i$ values). FOFI has
# four stages.
#
# **1. Embedding (Sect. 3.1).** A categorical value becomes a one-hot row $\tilde{\mathbf x}_i \in
# \{0,1\}^{1\times c_i}$ and a continuous value a *soft* bin membership $\tilde{\mathbf x}_i \in
# \Delta^{c_i-1}$; either way the embedding is $\mathbf h_i = \tilde{\mathbf x}_i \mathbf E_i$ with a learned
# $\mathbf E_i \in \mathbb R^{c_i \times d}$ (Eq. 1). For a continuous feature, $c_i$ learnable bin centres
# $s_1 < \dots < s_{c_i}$ (initialised by one-dimensional $k$-means) define the boundaries
# $m_u = (s_u + s_{u-1})/2$ (Eq. 2) and Gaussian bandwidths (Algorithm 1)
#
# $$\sigma_u = \frac{m_{u+1} - m_u}{6} = \frac{s_{u+1} - s_{u-1}}{12}\ (1 < u < c_i), \qquad
#   \sigma_1 = \tfrac{2}{6}(m_2 - s_1), \qquad \sigma_{c_i} = \tfrac{2}{6}(s_{c_i} - m_{c_i}),$$
#
# and the membership is (Eq. 3)
#
# $$\tilde{\mathbf x}_i[u] = \frac{\exp\!\big(-(x_i - s_u)^2 / 2\sigma_u^2\big)}
#   {\sum_{v=1}^{c_i} \exp\!\big(-(x_i - s_v)^2 / 2\sigma_v^2\big)}.$$
#
# The rows $\mathbf h_i$ stack into $\mathbf H \in \mathbb R^{k \times d}$ (Eq. 4).
#
# **2. Interaction indicator matrix (Sect. 3.2).** A learnable $\mathbf W \in \mathbb R^{k\times p}$ is
# normalised per row with temperature $\tau$, $W_{ij} \leftarrow \exp(W_{ij}/\tau) / \sum_m \exp(W_{im}/\tau)$
# (Eq. 5): the probability that feature $i$ joins group $j$. Entries below a multiple of their column mean
# are cut (Eq. 6),
#
# $$W_{ij} \leftarrow W_{ij}\,\mathbb 1\!\left[W_{ij} \ge \alpha_t \cdot \tfrac1k \textstyle\sum_{i'} W_{i'j}\right],$$
#
# with $\alpha_t = 0$ during warm-up, $\alpha_t$ raised in equal steps up to $\alpha_T$ during annealing,
# and $\alpha_t = \alpha_T$ during stabilisation. Group $j$ is the set $G_j = \{i : W_{ij} > 0\}$, of size
# $k_j$. Since a column's largest entry is at least its mean, no group is ever empty when $\alpha_T \le 1$.
#
# **3. Inside a group (Sect. 3.3).** $\mathbf H_j = \mathbf W_{:,j} \odot \mathbf H$ re-weights the rows
# (Eq. 7) and only the $k_j$ active rows are kept (Eq. 8). Multi-head self-attention with per-group
# projections $\mathbf W^q_j, \mathbf W^k_j, \mathbf W^v_j \in \mathbb R^{d\times d'}$ and a residual
# projection $\mathbf W_\text{res} \in \mathbb R^{d \times hd'}$ (Eqs. 9–12),
#
# $$\tilde{\mathbf H}_j = \operatorname{relu}\!\Big(\big[\operatorname{softmax}(\mathbf Q_j^{(1)} \mathbf
#   K_j^{(1)\top} / \sqrt{d'})\,\mathbf V_j^{(1)}, \dots\big] + \mathbf H_j \mathbf W_\text{res}\Big),$$
#
# is applied twice (two layers, two heads, $hd' = d$), and the rows are averaged, $\mathbf z_j =
# \frac{1}{k_j}\sum_{i \in G_j} \tilde{\mathbf H}_j[i]$ (Eq. 13).
#
# **4. Between groups (Eq. 14).** A flat sum with scalar weights, then one linear layer:
#
# $$\mathbf z = \operatorname{relu}\Big(\sum_{j=1}^p w_j \mathbf z_j + \sum_{i=1}^k \beta_i \mathbf h_i\Big),
#   \qquad \hat y = \operatorname{FC}(\mathbf z),$$
#
# trained with cross-entropy. The scalars $w_j$ and $\beta_i$ are read as the importances of group $j$ and
# of feature $i$.
#
# **Implementation.** Dropping the inactive rows (Eq. 8) and attending among the rest is the same as
# attending over all $k$ rows with the inactive *keys* masked out and pooling over the active rows only;
# that form runs all $p$ groups as one batched tensor operation, so we use it. The annealing schedule:

# %%
def alpha_schedule(epoch, epochs, alpha_T, steps):
    """alpha_t of Eq. 6 for a 0-based epoch: 0 in warm-up, then alpha_T * m / steps after the m-th of
    `steps` equal sub-periods of the annealing stage has begun (paper: +alpha_T/8 every 10 of 80 epochs),
    alpha_T in stabilisation."""
    warm, anneal, _ = epochs
    if epoch < warm:
        return 0.0
    if epoch >= warm + anneal or anneal == 0:
        return float(alpha_T)
    step = min(steps, int((epoch - warm) * steps // anneal) + 1)
    return float(alpha_T) * step / steps


def bandwidths(s, last="symmetric"):
    """Algorithm 1, lines 2-8, for sorted centres s of shape (features, bins)."""
    m = (s[:, 1:] + s[:, :-1]) / 2  # m[:, u-2] is the paper's m_u, u = 2..c
    sigma_mid = (m[:, 1:] - m[:, :-1]) / 6  # u = 2..c-1
    sigma_first = 2 / 6 * (m[:, :1] - s[:, :1])
    if last == "symmetric":  # distance from the last centre to its own left boundary m_c
        sigma_last = 2 / 6 * (s[:, -1:] - m[:, -1:])
    else:  # as printed: s_c - m_{c-1}
        sigma_last = 2 / 6 * (s[:, -1:] - m[:, -2:-1])
    return torch.cat([sigma_first, sigma_mid, sigma_last], dim=1).clamp_min(1e-4)


class SoftBinning(nn.Module):
    """The adaptive quantizer: learnable bin centres, Eq. 3 memberships (optionally times Algorithm 1's
    bin weights pi_u, estimated on a fixed subsample of the training column)."""

    def __init__(self, columns, n_bins, seed, prior=False, last="symmetric", prior_rows=512):
        super().__init__()
        centres = []
        for col in columns.T:
            km = KMeans(n_clusters=n_bins, n_init=3, random_state=seed).fit(col[:, None])
            centres.append(np.sort(km.cluster_centers_[:, 0]))
        self.centres = nn.Parameter(torch.tensor(np.array(centres), dtype=torch.float32))
        self.prior, self.last = prior, last
        self.register_buffer("sample", torch.tensor(columns[:prior_rows], dtype=torch.float32))

    def memberships(self, x):  # x: (batch, features) -> (batch, features, bins)
        s, _ = torch.sort(self.centres, dim=1)
        sigma = bandwidths(s, self.last)
        return -(x[..., None] - s) ** 2 / (2 * sigma ** 2), s, sigma

    def forward(self, x):
        logits, _, _ = self.memberships(x)
        if self.prior:  # Algorithm 1 lines 9-11 (with the minus sign that line 10 lost)
            pi = torch.softmax(self.memberships(self.sample)[0], dim=-1).mean(0)  # pi_u / n
            logits = logits + torch.log(pi + 1e-12)
        return torch.softmax(logits, dim=-1)


class FOFI(nn.Module):
    def __init__(self, cont_columns, cat_cards, order, n_classes, p, d=32, heads=2, layers=2, tau=0.1,
                 n_bins=8, seed=0, prior=False, last="symmetric"):
        """cont_columns: training values of the continuous features (n, k_cont); cat_cards: the number of
        values of each categorical feature; order: the feature index of each embedding row after
        [continuous..., categorical...] so that H rows follow the original feature order."""
        super().__init__()
        k = cont_columns.shape[1] + len(cat_cards)
        self.k, self.p, self.d, self.heads, self.tau = k, p, d, heads, tau
        self.alpha = 0.0
        self.binning = SoftBinning(cont_columns, n_bins, seed, prior, last) if cont_columns.shape[1] else None
        self.E_cont = nn.Parameter(torch.randn(cont_columns.shape[1], n_bins, d) * 0.1)
        self.cat_offsets = torch.tensor(np.r_[0, np.cumsum(cat_cards)[:-1]] if cat_cards else [], dtype=torch.long)
        self.E_cat = nn.Embedding(max(int(sum(cat_cards)), 1), d)
        nn.init.normal_(self.E_cat.weight, std=0.1)
        self.register_buffer("inv_order", torch.argsort(torch.tensor(order)))
        self.W = nn.Parameter(torch.randn(k, p) * 0.01)  # IIM logits: near-uniform start (dense)
        scale = d ** -0.5
        # per-group query, key and value projections W^q_j, W^k_j, W^v_j stacked as (p, d, 3d) per layer
        self.Wqkv = nn.ParameterList([nn.Parameter(torch.randn(p, d, 3 * d) * scale) for _ in range(layers)])
        self.Wres = nn.ModuleList([nn.Linear(d, d, bias=False) for _ in range(layers)])
        self.w = nn.Parameter(torch.ones(p) / p)  # group weights w_j
        self.beta = nn.Parameter(torch.ones(k) / k)  # feature weights beta_i
        self.fc = nn.Linear(d, n_classes)

    def indicator(self):
        """(soft W after Eq. 5, truncated W after Eq. 6, boolean mask) for the current alpha."""
        W = torch.softmax(self.W / self.tau, dim=1)
        mask = W >= self.alpha * W.mean(dim=0, keepdim=True)
        return W, W * mask, mask

    def embed(self, x_cont, x_cat):
        parts = []
        if self.binning is not None:
            parts.append(torch.einsum("bkc,kcd->bkd", self.binning(x_cont), self.E_cont))
        if x_cat.shape[1]:
            parts.append(self.E_cat(x_cat + self.cat_offsets.to(x_cat.device)))
        return torch.cat(parts, dim=1)[:, self.inv_order]  # (batch, k, d) in feature order

    def forward(self, x_cont, x_cat, group_gate=None):
        H = self.embed(x_cont, x_cat)
        _, Wt, mask = self.indicator()
        maskT = mask.T  # (p, k)
        X = Wt.T[None, :, :, None] * H[:, None]  # Eq. 7 for all groups: (batch, p, k, d)
        B, p, k, d = X.shape
        h, dh = self.heads, d // self.heads
        # inactive keys are removed (Eq. 8) by a -inf bias on their attention logits
        key_bias = torch.zeros(maskT.shape, device=H.device).masked_fill(~maskT, float("-inf"))[None, :, None, None]
        for Wqkv, Wres in zip(self.Wqkv, self.Wres):
            qkv = torch.einsum("bpkd,pde->bpke", X, Wqkv).view(B, p, k, 3, h, dh).permute(3, 0, 1, 4, 2, 5)
            q, kk, v = qkv[0], qkv[1], qkv[2]  # Eq. 9, each (batch, p, heads, k, d')
            logits = (q @ kk.transpose(-1, -2)) / dh ** 0.5  # Eq. 10: (batch, p, heads, k, k)
            att = torch.softmax(logits + key_bias, dim=-1) @ v
            att = att.transpose(2, 3).reshape(B, p, k, d)  # Eq. 11: concatenated heads
            X = torch.relu(att + Wres(X))  # Eq. 12
        m = maskT[None, :, :, None].float()
        z_groups = (X * m).sum(2) / m.sum(2)  # Eq. 13, average over active rows: (batch, p, d)
        gate = self.w if group_gate is None else self.w * group_gate
        z = torch.relu(torch.einsum("p,bpd->bd", gate, z_groups) + torch.einsum("k,bkd->bd", self.beta, H))
        return self.fc(z)  # Eq. 14

    def groups(self):
        _, _, mask = self.indicator()
        return [frozenset(np.flatnonzero(mask[:, j].cpu().numpy()).tolist()) for j in range(self.p)]


# %% [markdown]
# Training: AdamW with cross-entropy, mini-batches shuffled by a seeded generator, $\alpha_t$ set at the
# start of each epoch. The pieces of data a model needs travel as a small dictionary of tensors
# (`cont`, `cat`, `y`).

# %%
def to_tensors(cont, cat, y, dev):
    return dict(cont=torch.tensor(cont, dtype=torch.float32, device=dev),
                cat=torch.tensor(cat, dtype=torch.long, device=dev), y=torch.tensor(y, device=dev))


def train_fofi(model, data, *, epochs, alpha_T, steps, lr, batch_size, seed, dev):
    model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(data["y"])
    alphas = []
    for epoch in range(sum(epochs)):
        model.alpha = alpha_schedule(epoch, epochs, alpha_T, steps)
        alphas.append(model.alpha)
        model.train()
        for idx in torch.randperm(n, generator=g).split(batch_size):
            idx = idx.to(dev)
            loss = F.cross_entropy(model(data["cont"][idx], data["cat"][idx]), data["y"][idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return alphas


@torch.no_grad()
def predict_proba(model, data, group_gate=None):
    model.eval()
    return torch.softmax(model(data["cont"], data["cat"], group_gate), dim=1).cpu().numpy()


# %% [markdown]
# **The baseline for interaction recovery: NID.** Neural Interaction Detection (Tsang et al., ICLR 2018)
# trains a plain MLP with an $\ell_1$ penalty and reads interactions off its weights: each first-layer unit
# $u$ votes for the sets made of its $s = 2, 3, \dots$ strongest inputs, with weight (its aggregated
# downstream influence) $\times$ (the smallest of those $s$ input weights). We keep the $K$ strongest
# candidate sets as NID's groups, with $K = p$ so that both methods propose the same number of groups. The
# ranking and the recovery score live in `reprobook.interactions` (tested against hand-computed values in
# `tests/test_interactions.py`):

# %%
display(Code(inspect.getsource(fi.recovery_score) + "\n\n" + inspect.getsource(fi.nid_ranking), language="python"))


# %%
def train_nid(X, y, hidden, epochs, l1, lr, batch_size, seed, dev):
    """An MLP with ReLUs and an l1 penalty on all weights (NID's setting); returns its weight matrices."""
    torch.manual_seed(seed)
    sizes = [X.shape[1], *hidden]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Linear(sizes[-1], 2)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    Xt, yt = torch.tensor(X, dtype=torch.float32, device=dev), torch.tensor(y, device=dev)
    g = torch.Generator().manual_seed(seed)
    weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    for _ in range(epochs):
        for idx in torch.randperm(len(yt), generator=g).split(batch_size):
            idx = idx.to(dev)
            loss = F.cross_entropy(net(Xt[idx]), yt[idx]) + l1 * sum(w.abs().sum() for w in weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = float((net(Xt).argmax(1) == yt).float().mean())
    return [w.detach().cpu().numpy() for w in weights], acc


# %% [markdown]
# ## The experiment
#
# ### Planted interactions (the paper's Table 3)
#
# Inputs $x \sim U[-1, 1]^{10}$, labels $y = \mathbb 1[f(x) > \operatorname{median} f]$, for the three
# functions of Table 3 read with the absolute values of the NID benchmark they come from:
#
# - $f_1 = e^{|x_1 - x_2|} + |x_2 x_3| - |x_3|^{2|x_4|} + (x_1 x_4)^2 + \log(x_4^2 + x_5^2 + x_6^2 + x_7^2)$,
#   planted sets $\{1,2\}, \{2,3\}, \{3,4\}, \{1,4\}, \{4,5,6,7\}$;
# - $f_2 = 1/(1 + x_1^2 + x_2^2 + x_3^2) + \sqrt{e^{x_4 + x_5}} + |x_6 x_7| + x_8 x_9 x_{10}$,
#   planted $\{1,2,3\}, \{4,5\}, \{6,7\}, \{8,9,10\}$;
# - $f_3 = \tanh(x_1 x_2 + x_3 x_4) + e^{x_5 x_6} + \log(|x_2 x_5 x_7| + 1) + x_7 x_8$,
#   planted $\{1,2,3,4\}, \{5,6\}, \{2,5,7\}, \{7,8\}$.
#
# The planted sets are checked in the tests: a pair is in a planted set exactly when its mixed finite
# difference is non-zero. Columns the function does not read are pure noise. The **mixed** variant
# "f3-mixed" snaps $x_1, x_3, x_5, x_7$ to five levels $\{-1, -\tfrac12, 0, \tfrac12, 1\}$ before evaluating
# $f_3$ and feeds them to FOFI as categorical features (NID sees the same numbers as numbers): this is the
# mixed continuous/discrete setting of the paper's title, on a function whose interactions are known.
#
# FOFI uses $p = k = 10$ groups and $\alpha_T = 1.0$ (the paper's grid is $p \in [\lceil k/2\rceil, k+6]$
# and $\alpha_T \in \{0.8, 1.0\}$; it does not list its choice for the synthetic data), $d = 32$, two
# attention layers with two heads, $\tau = 0.1$, 8 bins. The recovery score $R$: for each planted set, the
# Jaccard index with the learned group of largest overlap, cut to 0 below 0.5, averaged over the planted
# sets. We also score the groups' **importances**: removing group $j$ (gate $w_j \to 0$) and measuring
# the rise of the test log-loss, to check that $|w_j|$ orders the groups as it should.

# %%
SYNTH = ["f1", "f2", "f3", "f3-mixed"]


def synthetic_split(name, s):
    base = name.split("-")[0]
    discrete = cfg.mixed_discrete if name.endswith("mixed") else []
    n = cfg.n_train + cfg.n_train // 4 + cfg.n_train // 2
    X, y, codes = fi.make_interaction_data(base, n, cfg.n_features, np.random.default_rng(1000 * s + 7),
                                           discrete=discrete)
    cont_idx = [i for i in range(cfg.n_features) if i not in discrete]
    parts = np.split(np.arange(n), [cfg.n_train, cfg.n_train + cfg.n_train // 4])
    return X, y, codes, cont_idx, discrete, parts


def make_fofi(cont_train, cat_cards, cont_idx, cat_idx, n_classes, p, s, n_bins=None):
    return FOFI(cont_train, cat_cards, cont_idx + cat_idx, n_classes, p, d=cfg.d, heads=cfg.heads,
                layers=cfg.layers, tau=cfg.tau, n_bins=n_bins or cfg.n_bins, seed=s, prior=cfg.bin_prior,
                last=cfg.last_bandwidth)


def offline_codes(cont_train, cont_all, n_bins):
    """The ablation's offline quantizer: quantile bins fitted on the training rows, then one-hot codes."""
    kb = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy="quantile", subsample=None)
    kb.fit(cont_train)
    return kb.transform(cont_all).astype(np.int64), [int(b) for b in kb.n_bins_]


def fit_synthetic(name, s, quant):
    X, y, codes, cont_idx, discrete, (tr, va, te) = synthetic_split(name, s)
    cont, cat, cards = X[:, cont_idx], codes, [5] * len(discrete)
    cat_idx = list(discrete)
    if quant == "offline":  # every continuous feature becomes a categorical one with quantile bins
        qc, qcards = offline_codes(cont[tr], cont, cfg.n_bins)
        cat, cards, cat_idx = np.c_[qc, codes], qcards + cards, cont_idx + cat_idx
        cont, cont_idx = cont[:, :0], []
    seed_everything(s)
    model = make_fofi(cont[tr], cards, cont_idx, cat_idx, 2, cfg.n_features, s)
    dev = run.device
    data = {part: to_tensors(cont[ix], cat[ix], y[ix], dev) for part, ix in (("tr", tr), ("va", va), ("te", te))}
    alphas = train_fofi(model, data["tr"], epochs=cfg.epochs, alpha_T=cfg.alpha_T, steps=cfg.anneal_steps,
                        lr=cfg.lr, batch_size=cfg.batch_size, seed=s, dev=dev)
    return model, data, X, y, (tr, va, te), alphas


def log_loss(prob, y):
    return float(-np.mean(np.log(np.clip(prob[np.arange(len(y)), y], 1e-12, None))))


synth = {}  # (name, seed) -> results
t0 = time.perf_counter()
for s in run.seeds:
    for name in SYNTH:
        model, data, X, y, (tr, va, te), alphas = fit_synthetic(name, s, cfg.quantizer)
        truth = fi.GROUND_TRUTH[name.split("-")[0]]
        groups = model.groups()
        prob = predict_proba(model, data["te"])
        base_loss = log_loss(prob, y[te])
        drops = []
        for j in range(model.p):  # importance check: remove one group at a time
            gate = torch.ones(model.p, device=run.device)
            gate[j] = 0.0
            drops.append(log_loss(predict_proba(model, data["te"], gate), y[te]) - base_loss)
        nid_w, nid_acc = train_nid(X[tr], y[tr], cfg.nid_hidden, cfg.nid_epochs, cfg.nid_l1, 1e-3,
                                   cfg.batch_size, s, run.device)
        top = cfg.nid_top or model.p
        nid_groups = [g for g, _ in fi.nid_ranking(nid_w)[:top]]
        res = dict(R_fofi=fi.recovery_score(groups, truth), R_nid=fi.recovery_score(nid_groups, truth),
                   acc=float((prob.argmax(1) == y[te]).mean()), nid_train_acc=nid_acc,
                   sizes=[len(g) for g in groups], groups=groups, nid_groups=nid_groups,
                   w=model.w.detach().cpu().numpy(), drops=np.array(drops),
                   W=model.indicator()[1].detach().cpu().numpy(), alphas=alphas)
        if name == "f3-mixed" and cfg.quantizer == "adaptive":  # Table 4 analogue on mixed data
            m_off, d_off, *_ = fit_synthetic(name, s, "offline")
            res["acc_offline"] = float((predict_proba(m_off, d_off["te"]).argmax(1) == y[te]).mean())
        synth[name, s] = res
run.log_timing(synthetic_s=time.perf_counter() - t0)


def fmt_groups(groups):
    return "  ".join("{" + ",".join(str(i + 1) for i in sorted(g)) + "}" for g in groups)


table = pd.DataFrame([dict(function=n, seed=s, R_FOFI=r["R_fofi"], R_NID=r["R_nid"], test_acc=r["acc"],
                           mean_group_size=np.mean(r["sizes"]), FOFI_groups=fmt_groups(r["groups"]))
                      for (n, s), r in synth.items()])
run.log(**{f"R_fofi_{n}": [synth[n, s]["R_fofi"] for s in run.seeds] for n in SYNTH},
        **{f"R_nid_{n}": [synth[n, s]["R_nid"] for s in run.seeds] for n in SYNTH},
        **{f"test_acc_{n}": [synth[n, s]["acc"] for s in run.seeds] for n in SYNTH})
pd.set_option("display.max_colwidth", 120)
table.round(3)

# %% [markdown]
# The learned interaction indicator matrices (after truncation) for the first seed, with the planted sets
# marked beside them; a column is a group, a coloured cell a member.

# %%
fig, axes = plt.subplots(1, len(SYNTH), figsize=(4.2 * len(SYNTH), 4.2))
for ax, name in zip(axes, SYNTH):
    r = synth[name, run.seeds[0]]
    ax.imshow(r["W"], cmap="Blues", aspect="auto")
    ax.set_xticks(range(r["W"].shape[1]), [f"G{j + 1}" for j in range(r["W"].shape[1])], fontsize=7)
    ax.set_yticks(range(cfg.n_features), [f"x{i + 1}" for i in range(cfg.n_features)], fontsize=7)
    ax.set_xlabel("group j (column of W)")
    ax.set_ylabel("feature i")
    planted = "  ".join("{" + ",".join(str(i + 1) for i in sorted(g)) + "}" for g in fi.GROUND_TRUTH[name.split("-")[0]])
    ax.set_title(f"{name}: R = {r['R_fofi']:.2f}\nplanted {planted}", fontsize=8)
fig.suptitle("Truncated interaction indicator matrix W after training")
fig.tight_layout()
plt.show()

# %% [markdown]
# The annealed competition at work: the threshold $\alpha_t$ per epoch, and the resulting group sizes.

# %%
r0 = synth[SYNTH[0], run.seeds[0]]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.step(range(len(r0["alphas"])), r0["alphas"], where="post")
ax1.set_xlabel("epoch")
ax1.set_ylabel(r"threshold $\alpha_t$")
ax1.set_title("Three-stage threshold schedule (Eq. 6)")
sizes = pd.DataFrame({n: synth[n, run.seeds[0]]["sizes"] for n in SYNTH})
sizes.plot.bar(ax=ax2)
ax2.set_xlabel("group j")
ax2.set_ylabel("active features k_j")
ax2.set_title("Group sizes after training (first seed)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Are the group weights importances? For every group, $|w_j|$ against the rise of the test log-loss when the
# group is removed, pooled over the functions and seeds:

# %%
abs_w = np.concatenate([np.abs(r["w"]) for r in synth.values()])
drop = np.concatenate([r["drops"] for r in synth.values()])
fig, ax = plt.subplots(figsize=(5, 4))
for name in SYNTH:
    ax.scatter(np.concatenate([np.abs(synth[name, s]["w"]) for s in run.seeds]),
               np.concatenate([synth[name, s]["drops"] for s in run.seeds]), label=name, s=18)
ax.set_xlabel("|w_j| (group weight, Eq. 14)")
ax.set_ylabel("rise in test log-loss without group j")
ax.set_title("Group weight vs. effect of removing the group")
ax.legend()
plt.show()
run.log(group_weight_loss_rho=float(pd.Series(abs_w).corr(pd.Series(drop), method="spearman")))

# %% [markdown]
# ### UCI Wine (the paper's Table 2 row)
#
# `sklearn.datasets.load_wine` is the UCI Wine data the paper uses: 178 wines, 13 continuous features,
# 3 cultivars. Protocol as in the paper: stratified 5-fold cross-validation, macro F1. FOFI uses the
# paper's Table 1 settings for Wine ($p = 13$, $\alpha_T = 0.8$). Baselines we can build offline: logistic
# regression (LR), an RBF SVM, a random forest (RF), scikit-learn's histogram gradient boosting (GBDT, our
# stand-in for XGBoost and CatBoost), an MLP, and a GAM-like additive model (cubic spline features per
# input, then logistic regression); the paper's XGBoost number is shown beside GBDT. All baselines use
# scikit-learn defaults on standardised inputs; no hyper-parameter is chosen on the test folds. In the full
# profile the offline-quantizer ablation (Table 4) is run on the same folds.

# %%
Xw, yw = load_wine(return_X_y=True)
BASELINES = {
    "LR": lambda s: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "SVM": lambda s: make_pipeline(StandardScaler(), SVC()),
    "RF": lambda s: RandomForestClassifier(random_state=s),
    "GBDT": lambda s: HistGradientBoostingClassifier(random_state=s),
    "MLP": lambda s: make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=2000, random_state=s)),
    "GAM": lambda s: make_pipeline(StandardScaler(), SplineTransformer(n_knots=5),
                                   LogisticRegression(max_iter=2000)),
}


def fit_wine_fofi(Xtr, ytr, Xte, s, quant, alpha_T):
    scaler = StandardScaler().fit(Xtr)
    ctr, cte = scaler.transform(Xtr), scaler.transform(Xte)
    k = Xtr.shape[1]
    if quant == "offline":
        codes, cards = offline_codes(ctr, np.r_[ctr, cte], cfg.n_bins)
        parts = (np.zeros((len(codes), 0)), codes, cards, [], list(range(k)))
    else:
        parts = (np.r_[ctr, cte], np.zeros((len(ctr) + len(cte), 0), dtype=np.int64), [], list(range(k)), [])
    cont, cat, cards, cont_idx, cat_idx = parts
    seed_everything(s)
    model = make_fofi(cont[:len(ctr)], cards, cont_idx, cat_idx, 3, cfg.wine_p, s)
    data = to_tensors(cont[:len(ctr)], cat[:len(ctr)], ytr, run.device)
    train_fofi(model, data, epochs=cfg.epochs, alpha_T=alpha_T, steps=cfg.anneal_steps, lr=cfg.lr,
               batch_size=cfg.wine_batch, seed=s, dev=run.device)
    test = to_tensors(cont[len(ctr):], cat[len(ctr):], np.zeros(len(cte), dtype=np.int64), run.device)
    return predict_proba(model, test).argmax(1), model


wine = {m: [] for m in ["FOFI", "FOFI offline quantizer", *BASELINES]}
wine_sizes, wine_models = [], []
t0 = time.perf_counter()
for s in run.seeds:
    for fold, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=s).split(Xw, yw)):
        pred, model = fit_wine_fofi(Xw[tr], yw[tr], Xw[te], s, cfg.quantizer, cfg.wine_alpha_T)
        wine["FOFI"].append(100 * f1_score(yw[te], pred, average="macro"))
        wine_sizes.append(float(np.mean([len(g) for g in model.groups()])))
        wine_models.append(model)
        if cfg.wine_ablation:
            other = "offline" if cfg.quantizer == "adaptive" else "adaptive"
            pred, _ = fit_wine_fofi(Xw[tr], yw[tr], Xw[te], s, other, cfg.wine_alpha_T)
            wine["FOFI offline quantizer"].append(100 * f1_score(yw[te], pred, average="macro"))
        for name, make in BASELINES.items():
            pred = make(s).fit(Xw[tr], yw[tr]).predict(Xw[te])
            wine[name].append(100 * f1_score(yw[te], pred, average="macro"))
if not wine["FOFI offline quantizer"]:
    del wine["FOFI offline quantizer"]
elif cfg.quantizer == "offline":  # the knob swaps which run is the main one
    wine["FOFI"], wine["FOFI offline quantizer"] = wine["FOFI offline quantizer"], wine["FOFI"]
run.log_timing(wine_s=time.perf_counter() - t0)
run.log(**{f"wine_f1_{m.replace(' ', '_')}": v for m, v in wine.items()}, wine_group_size=wine_sizes)
PAPER_WINE = {"FOFI": 99.17, "LR": 95.27, "SVM": 96.05, "RF": 98.31, "GBDT": 97.78}
wine_table = pd.DataFrame({"macro F1 (%)": {m: np.mean(v) for m, v in wine.items()},
                           "std over folds x seeds": {m: np.std(v, ddof=1) for m, v in wine.items()},
                           "paper (Table 2)": PAPER_WINE}).round(2)
wine_table

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
order = list(wine)
ax.boxplot([wine[m] for m in order], showmeans=True)
ax.set_xticks(range(1, len(order) + 1), order, rotation=30, ha="right")
for i, m in enumerate(order, start=1):
    if m in PAPER_WINE:
        ax.plot(i, PAPER_WINE[m], "r*", markersize=10, label="paper (Table 2)" if m == "FOFI" else None)
ax.set_ylabel("macro F1 (%) per fold")
ax.set_xlabel("model")
ax.set_title("Wine, 5-fold cross-validation")
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# Group-level reading of one Wine model (first fold): each group's features and weight $w_j$.

# %%
names = load_wine().feature_names
m0 = wine_models[0]
w0 = m0.w.detach().cpu().numpy()
pd.DataFrame({"w_j": w0, "features": [", ".join(names[i] for i in sorted(g)) for g in m0.groups()]},
             index=[f"G{j + 1}" for j in range(m0.p)]).sort_values("w_j", key=np.abs, ascending=False).round(3)

# %% [markdown]
# ### Threshold vs. group size (Fig. 7b analogue)
#
# A larger final threshold $\alpha_T$ should leave fewer features per group. On Wine, one fold per value.

# %%
sweep = []
if cfg.alpha_sweep:
    tr, te = next(StratifiedKFold(5, shuffle=True, random_state=run.seed).split(Xw, yw))
    for a in cfg.alpha_sweep:
        pred, model = fit_wine_fofi(Xw[tr], yw[tr], Xw[te], run.seed, cfg.quantizer, a)
        sweep.append(dict(alpha_T=a, group_size=float(np.mean([len(g) for g in model.groups()])),
                          f1=100 * f1_score(yw[te], pred, average="macro")))
    sweep = pd.DataFrame(sweep)
    run.log(sweep_alpha=sweep.alpha_T.tolist(), sweep_group_size=sweep.group_size.tolist(),
            sweep_f1=sweep.f1.tolist())
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(sweep.alpha_T, sweep.group_size, "o-", label="mean group size")
    ax2 = ax.twinx()
    ax2.plot(sweep.alpha_T, sweep.f1, "s--", color="C1", label="macro F1")
    ax.set_xlabel(r"final threshold $\alpha_T$")
    ax.set_ylabel("mean features per group")
    ax2.set_ylabel("macro F1 (%), one fold")
    ax.set_title("Wine: sparser groups as the threshold rises")
    fig.tight_layout()
    plt.show()
else:
    print("alpha_T sweep skipped in this profile (alpha_sweep is empty)")

# %% [markdown]
# ## Claims
#
# Rules were fixed before the runs. Recovery scores are per seed; Wine numbers are per (seed, fold), paired
# across models on the same folds, so even the one-seed smoke run has a noise band of two standard errors
# over the five folds. The Wine data are the paper's, so FOFI's absolute F1 is compared with the paper's
# 99.17 with a tolerance of 2.5 points (about one misclassified wine per fold). Synthetic data are
# generated here as the paper describes, so the recovery threshold of 0.8 ("typically over 80 %") is
# compared too. In the smoke profile FOFI trains for a few dozen steps on 400 rows, far too little to
# learn the functions (its test accuracy stays near chance), so its synthetic verdicts only show that the
# pipeline runs; the full profile's verdicts are the chapter's evidence.

# %%
def per_seed(key, name):
    return [synth[name, s][key] for s in run.seeds]


def mean_over(key, names):
    return [float(np.mean([synth[n, s][key] for n in names])) for s in run.seeds]


best_baseline = max(BASELINES, key=lambda m: np.mean(wine[m]))
ledger = rb.Ledger()
ledger.claim("recovery-over-80", "FOFI's groups recover the planted interactions: mean R over f1-f3 of at least 0.8",
             paper="R = 85.33, 83.33, 81.25 % on f1, f2, f3 (Table 3)",
             measured={"R FOFI (mean f1-f3)": mean_over("R_fofi", ["f1", "f2", "f3"])},
             rule=rb.AtLeast("R FOFI (mean f1-f3)", 0.8))
ledger.claim("recovery-beats-nid", "FOFI recovers planted interactions better than NID on each of f1, f2, f3",
             paper="FOFI 85.33 / 83.33 / 81.25 vs NID 80.71 / 80.14 / 66.67 % (Table 3)",
             measured={**{f"FOFI {n}": per_seed("R_fofi", n) for n in ("f1", "f2", "f3")},
                       **{f"NID {n}": per_seed("R_nid", n) for n in ("f1", "f2", "f3")}},
             rule=rb.AllOf(*(rb.Better(f"FOFI {n}", f"NID {n}") for n in ("f1", "f2", "f3"))))
ledger.claim("recovery-mixed", "With half of f3's inputs discrete (fed as categorical), FOFI still recovers "
             "the interactions as well as on continuous f3 (within 0.15) and at least as well as NID",
             paper="claimed for mixed variables (title, Sect. 3.1); no number (Table 3 is all-continuous)",
             measured={"R FOFI f3-mixed": per_seed("R_fofi", "f3-mixed"), "R FOFI f3": per_seed("R_fofi", "f3"),
                       "R NID f3-mixed": per_seed("R_nid", "f3-mixed")},
             rule=rb.AllOf(rb.Close("R FOFI f3-mixed", "R FOFI f3", tol=0.15),
                           rb.Better("R FOFI f3-mixed", "R NID f3-mixed")))
ledger.claim("group-weights-are-importances",
             "The group weights w_j rank the groups by importance: larger |w_j|, larger loss when the group "
             "is removed (Spearman rho >= 0.5 over all groups of all functions and seeds)",
             paper="w_j read as group importance (Eq. 14; Fig. 6: client group w = 2.47, campaign group 1.21)",
             measured={"|w_j|": abs_w.tolist(), "loss rise without group j": drop.tolist()},
             rule=rb.Correlates("|w_j|", "loss rise without group j", sign=1, min_rho=0.5))
ledger.claim("wine-f1", "On Wine, FOFI's 5-fold macro F1 is within 2.5 points of the paper's",
             paper="99.17 % (Table 2)",
             measured={"FOFI": wine["FOFI"], "paper": [99.17] * len(wine["FOFI"])},
             rule=rb.Close("FOFI", "paper", tol=2.5))
ledger.claim("wine-best", f"On Wine, FOFI beats the strongest offline baseline (here {best_baseline}, the "
             "baseline with the highest mean)",
             paper="99.17 vs RRL 98.37, RF 98.31, XGB 97.78 (Table 2)",
             measured={"FOFI": wine["FOFI"], best_baseline: wine[best_baseline]},
             rule=rb.Better("FOFI", best_baseline))
ledger.claim("wine-beats-linear-svm", "On Wine, FOFI beats logistic regression and the SVM",
             paper="99.17 vs LR 95.27, SVM 96.05 (Table 2)",
             measured={"FOFI": wine["FOFI"], "LR": wine["LR"], "SVM": wine["SVM"]},
             rule=rb.AllOf(rb.Better("FOFI", "LR"), rb.Better("FOFI", "SVM")))
ledger.claim("wine-group-size", "With p = 13 and alpha_T = 0.8, Wine's groups hold about 3 features "
             "(within 1 of the paper's mean)",
             paper="average group size 3.23 (Table 1, Wine)",
             measured={"mean group size": wine_sizes, "paper": [3.23] * len(wine_sizes)},
             rule=rb.Close("mean group size", "paper", tol=1.0))
ledger.claim("adaptive-quantizer", "The adaptive soft-binning quantizer beats offline quantile bins on the "
             "mixed-type f3 (test accuracy) and, in the full profile, on Wine (macro F1)",
             paper="+0.64 to +1.30 F1 points on six mixed-type datasets (Table 4)",
             measured={"adaptive f3-mixed": per_seed("acc", "f3-mixed"),
                       "offline f3-mixed": [synth["f3-mixed", s].get("acc_offline", np.nan) for s in run.seeds],
                       **({"adaptive Wine": wine["FOFI"], "offline Wine": wine["FOFI offline quantizer"]}
                          if "FOFI offline quantizer" in wine else {})},
             rule=rb.AllOf(rb.Better("adaptive f3-mixed", "offline f3-mixed"),
                           *([rb.Better("adaptive Wine", "offline Wine")] if "FOFI offline quantizer" in wine
                             else [])))
if len(sweep):
    ledger.claim("threshold-shrinks-groups", "A higher final threshold alpha_T leaves fewer features per group",
                 paper="curves only (Fig. 7b); 3-7 features per group at alpha_T = 0.8-1.0",
                 measured={"alpha_T": sweep.alpha_T.tolist(), "group size": sweep.group_size.tolist()},
                 rule=rb.Correlates("alpha_T", "group size", sign=-1, min_rho=0.8))
else:
    ledger.claim("threshold-shrinks-groups", "A higher final threshold alpha_T leaves fewer features per group",
                 paper="curves only (Fig. 7b); 3-7 features per group at alpha_T = 0.8-1.0",
                 rule=rb.NotTestable("the alpha_T sweep runs in the full profile only"))
ledger.claim("table2-other-datasets", "FOFI is best on 10 of 14 benchmark datasets, average rank 1.5",
             paper="Table 2 (adult, bankm, cardio, telco, buddy, churnm, connect-4, banknote, nursery, "
                   "cpu-act, CA housing, house-16H, diamonds)",
             rule=rb.NotTestable("those datasets are not available offline; only Wine ships with scikit-learn"))
ledger.claim("case-studies", "On nursery FOFI's top-3 groups overlap the known hierarchy by 88.9 %; on bank "
             "marketing the client group outweighs the campaign group",
             paper="88.9 % (Fig. 5); w = 2.47 vs 1.21 (Fig. 6)",
             rule=rb.NotTestable("nursery and bank marketing are not available offline"))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Scale.** The smoke profile is a sign, not evidence: a one-layer FOFI with $d = 16$, 400 training rows
#   per function and a 2/6/4-epoch schedule (learning rate $10^{-2}$), on one thread in under a minute. The
#   full profile uses the paper's network ($d = 32$, two attention layers with two heads, $\tau = 0.1$,
#   8 bins), the paper's 20/80/150-epoch schedule with $\alpha_t$ raised 8 times during annealing, three
#   seeds, and 10 000 training rows per function (the paper gives no sample size). The paper gives no
#   learning rate or batch size; we use AdamW at $3\cdot 10^{-3}$ and batches of 256 (32 on Wine), fixed
#   before any run and not tuned.
# - **Choices the paper leaves open, each behind a knob.** (1) Algorithm 1 multiplies the memberships by a
#   bin weight $\pi_u/n$ that Eq. 3 does not have: `bin_prior` (default off, Eq. 3); we also restore the
#   minus sign that line 10 of Algorithm 1 lost. (2) The last bin's bandwidth is printed as
#   $\tfrac26(s_{c} - m_{c-1})$; by symmetry with the first bin we read $\tfrac26(s_c - m_c)$:
#   `last_bandwidth="symmetric"` (default) or `"literal"`. (3) The size of each rise of $\alpha_t$ is not
#   given; we use $\alpha_T/8$ (8 rises in 80 epochs, `anneal_steps`). (4) Whether $\mathbf W$ is
#   renormalised after truncation is not said; we do not renormalise, and the mask is recomputed from the
#   current $\mathbf W$ at every step. (5) Eq. 14 adds $\mathbf z_j \in \mathbb R^{hd'}$ to
#   $\mathbf h_i \in \mathbb R^d$, so $hd' = d$. (6) $\mathbf W_\text{res}$ carries no group index in
#   the paper, so it is shared by the groups (one per layer). (7) Bin centres stay learnable and are
#   sorted before the bandwidths are computed, so crossing centres cannot produce negative widths.
# - **The synthetic functions.** The paper's Table 3 formulas lost their absolute-value bars; we read them
#   as the NID benchmark functions they derive from, and take $|x_3|$ as the base of $f_1$'s power (a
#   negative base to a real power is undefined). We use 10 input columns for every function (NID's
#   convention); the paper does not say how many. The planted sets follow from the formulas and are checked
#   by finite differences in the tests. The paper does not give $p$ or $\alpha_T$ for these data; we use
#   $p = k = 10$ and $\alpha_T = 1.0$, fixed in advance.
# - **The recovery score.** "The group with maximum overlap" can be tied; we then take the tied group with
#   the largest Jaccard index. For NID, which ranks candidate sets rather than forming groups, we keep its
#   $K = p$ strongest sets (`nid_top` changes $K$), and we omit NID's separate main-effect network. SIAN-FIS
#   is not implemented.
# - **Mixed variables.** The paper's synthetic functions are all continuous; "f3-mixed" (four of $f_3$'s
#   inputs on five levels, fed as categorical) is our addition, to test the mixed-type claim where the
#   interactions are known.
# - **Offline quantizer (Table 4).** The paper replaces the adaptive binning by "quantile normalisation
#   from scikit-learn"; we use `KBinsDiscretizer` with quantile bins (8, like the adaptive one) fitted on
#   the training rows, each bin then embedded like a category. We test it on f3-mixed (and on Wine in the
#   full profile); the paper's six mixed-type datasets are not offline.
# - **Wine baselines.** Scikit-learn defaults, no tuning (the paper tuned every model on 5 % of each
#   training fold, which for Wine is 7 rows). Histogram gradient boosting stands in for XGBoost and
#   CatBoost; RRL, CRS, AutoInt, FT-Transformer and T2G-Former are not built here. We add an MLP and a
#   GAM-like spline-additive logistic regression. The paper's significance test (two-tailed t-test,
#   $p < 0.01$) is replaced by the ledger's paired two-standard-error band over folds and seeds.
# - **Not testable here:** the other 13 datasets of Table 2, the nursery and bank-marketing case studies
#   (Figs. 5 and 6), the width sweep over $p$ (Fig. 7a).
#
# ## Exercises
#
# 1. The recovery score truncates Jaccard indices below 0.5 to zero. For $f_2$'s planted set
#    $\{8, 9, 10\}$, which learned groups score 0, and what is the smallest group that still scores?
#
# ```{admonition} Solution
# :class: dropdown
# A group $G$ scores $|G \cap g| / |G \cup g| \ge 0.5$ with $g = \{8,9,10\}$. With all three inside $G$,
# $3/|G| \ge 0.5$ allows $|G| \le 6$; with two inside, $2/(|G| + 1) \ge 0.5$ needs $|G| \le 3$, e.g.
# $\{8, 9\}$ (2/3) or $\{8, 9, 1\}$ (2/4 = 0.5). With one inside, $1/(|G| + 2) < 0.5$ always: zero.
# The smallest scoring group is a pair such as $\{8, 9\}$. So the score rewards groups that are neither
# much larger nor much smaller than the planted set, which is why $\alpha_T$ (group size) matters.
# ```
#
# 2. Run the chapter with `-p alpha_T 0.0`. What happens to the groups and to the recovery score, and why?
#
# ```{admonition} Solution
# :class: dropdown
# With $\alpha_T = 0$ Eq. 6 never truncates ($W_{ij} \ge 0$ always), so every group keeps all ten
# features: FOFI becomes ten dense attention blocks, like a globally coupled network. Every planted set
# then meets a 10-feature group, with Jaccard index $|g|/10 \le 0.4 < 0.5$, so $R = 0$ however well the
# model predicts. The threshold is what turns the network's capacity into readable groups.
# ```
#
# 3. Add a fourth planted function in `reprobook.interactions` (say $f_4 = x_1 x_2 x_3 + \sin(x_4 + x_5)$)
#    and test FOFI on it. Which of its planted sets should be easier to recover, and does a larger $p$
#    help?
#
# ```{admonition} Solution
# :class: dropdown
# Add the formula to `synthetic_function`, `GROUND_TRUTH["f4"] = [{0, 1, 2}, {3, 4}]` and `N_USED["f4"] = 5`,
# extend the finite-difference test, then add `"f4"` to `SYNTH` here. The pair $\{4, 5\}$ lives inside
# one smooth term and is usually found; the three-way product is weak near the origin (all three
# factors must be large together), so it needs more data or epochs. A larger $p$ leaves more groups with
# few features each: singletons and pairs become common, which helps pairs and can split the triple.
# ```
