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
# # VAGNN: Advancing the Generalization of Graph Neural Networks
#
# **Chapter `iconip2024-11`.** Shuming Liang, Yu Ding, Bin Liang, Zhidong Li, Siqi Zhang, Yang Wang, Fang
# Chen. *VAGNN: Advancing the Generalization of Graph Neural Networks*. In: Neural Information Processing,
# 31st International Conference, ICONIP 2024, Proceedings Part I, Lecture Notes in Computer Science
# vol. 15286, pp. 150–165, Springer, 2025. DOI:
# [10.1007/978-981-96-6576-1_11](https://doi.org/10.1007/978-981-96-6576-1_11) (inferred from the volume's
# chapter numbering; the paper's text does not print it). Code by the authors:
# <https://github.com/astroming/vagnn> (not used here).
#
# **The idea.** Most graph neural networks update a node by aggregating the representations of a set of
# other nodes; they differ in *which* nodes (direct neighbours, a sample of them, nodes a few hops away,
# every node) and in *how* the aggregation weights them (fixed degree-based weights, learned attention,
# attention plus structural biases such as shortest-path distances). The paper writes all of these as one
# layer: multi-head attention in which a binary *virtual adjacency* matrix decides which node pairs may
# exchange information, an attention function and an extra structural term give each pair a score, and a
# softmax turns the scores into weights. Choosing the mask and the score functions should recover GCN, GAT,
# AGNN and graph Transformers, and tuning the mask (dropping a few real edges, adding 2-hop neighbours and
# a few random "global" nodes) should give a better model. Because the mask is a list of pairs, the cost is
# linear in the number of pairs. This chapter tests the unification exactly, number for number, against
# reference layers written from the original papers, then tests the accuracy and sensitivity trends on
# stochastic block model graphs.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (more seeds, larger graphs, one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # "auto" picks CUDA when present
data_root = None  # unused: all graphs are generated (OGB is not available offline)
n_seeds: int | None = None  # independent repetitions (new graph, split and initialisation each)
n_nodes: int | None = None  # nodes of the node-classification SBM
n_link_nodes: int | None = None  # nodes of the link-prediction SBM (the sensitivity study)
epochs: int | None = None  # full-batch training epochs (node classification)
link_epochs: int | None = None  # training epochs (link prediction)
masked: str | None = None  # "exclude" (pairs outside the mask take no part) or "zero" (Eq. 6 as printed)
gcn_normalisation: str | None = None  # VAGNN(GCN): "softmax" (Eq. 5) or "exp" (our extension, exact GCN)
phi_scope: str | None = None  # global pairs: "total" (phi|E| pairs in all) or "per_node" (phi|E| per node)

# %%
import inspect
import math
import time

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import Code, display
from torch import nn

import reprobook as rb
from reprobook import gnn
from reprobook.runtime import seed_everything

PROFILES = {
    # CPU, one thread, well under a minute: small graphs, one seed, the sensitivity sweeps as a "cross"
    # through the base point (rho = 0, 1 hop, phi = 0) rather than the full grid.
    "smoke": dict(n_seeds=1, n_nodes=200, n_link_nodes=200, epochs=25, link_epochs=25, masked="exclude",
                  gcn_normalisation="softmax", phi_scope="total", hidden=16, heads=4, lr=0.01,
                  weight_decay=5e-4, dropout=0.2, feat_dim=16, feat_signal=0.5, n_blocks=4,
                  p_in=0.1, p_out=0.02, link_p_in=0.15, link_p_out=0.015, n_neg=500, eval_every=5,
                  rho_sweep=[0.0, 0.01, 0.1, 0.5], phi_sweep=[0.0, 0.5, 2.0],
                  hop_sweep=[1, 2, 3], select_hops=[2], select_phi=[0.0],
                  scale_pairs=[20_000, 40_000, 80_000, 160_000], identity_nodes=60),
    # One GPU, about 10-20 minutes: five seeds (the paper's 5 trials), larger graphs, longer training,
    # finer sweeps and a larger selection grid for the tuned VAGNN.
    "full": dict(n_seeds=5, n_nodes=2000, n_link_nodes=1000, epochs=200, link_epochs=150, masked="exclude",
                 gcn_normalisation="softmax", phi_scope="total", hidden=32, heads=4, lr=0.01,
                 weight_decay=5e-4, dropout=0.2, feat_dim=32, feat_signal=0.4, n_blocks=4,
                 p_in=0.01, p_out=0.002, link_p_in=0.03, link_p_out=0.003, n_neg=5000, eval_every=5,
                 rho_sweep=[0.0, 0.0005, 0.002, 0.01, 0.05, 0.1, 0.3, 0.6],
                 phi_sweep=[0.0, 0.02, 0.1, 0.5, 1.0, 2.0, 4.0],
                 hop_sweep=[1, 2, 3], select_hops=[1, 2, 3], select_phi=[0.0, 0.02, 0.1, 0.5],
                 scale_pairs=[100_000, 300_000, 1_000_000, 3_000_000], identity_nodes=200),
}
run = rb.start("iconip2024-11", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(n_seeds=n_seeds, n_nodes=n_nodes, n_link_nodes=n_link_nodes, epochs=epochs,
                          link_epochs=link_epochs, masked=masked, gcn_normalisation=gcn_normalisation,
                          phi_scope=phi_scope))
cfg = run.cfg
if cfg.masked not in ("exclude", "zero"):
    raise rb.ParameterError(f"masked={cfg.masked!r} is not allowed; use 'exclude' or 'zero'")
if cfg.gcn_normalisation not in ("softmax", "exp"):
    raise rb.ParameterError(f"gcn_normalisation={cfg.gcn_normalisation!r} is not allowed; use 'softmax' or 'exp'")
if cfg.gcn_normalisation == "exp" and cfg.masked == "zero":
    raise rb.ParameterError("gcn_normalisation='exp' has no masked='zero' variant; use masked='exclude'")
if cfg.phi_scope not in ("total", "per_node"):
    raise rb.ParameterError(f"phi_scope={cfg.phi_scope!r} is not allowed; use 'total' or 'per_node'")
for _name in ("n_seeds", "epochs", "link_epochs"):
    if getattr(cfg, _name) < 1:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)!r} must be an integer >= 1")
for _name in ("n_nodes", "n_link_nodes"):
    if getattr(cfg, _name) < 8 * cfg.n_blocks:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)!r} must be at least {8 * cfg.n_blocks} "
                                f"(8 nodes per block of the SBM)")
if run.data_root is not None:
    raise rb.ParameterError("data_root must be None: this chapter generates its graphs (OGB is not offline)")
DEV = run.device
print(f"device {DEV}; seeds {run.seeds}; masked={cfg.masked}, VAGNN(GCN) normalisation "
      f"{cfg.gcn_normalisation}, global pairs per {cfg.phi_scope}")

# %% [markdown]
# ## The method
#
# A graph has $N$ nodes, adjacency $\mathbf{A} \in \{0,1\}^{N\times N}$ and node representations
# $\mathbf{H} \in \mathbb{R}^{N \times d}$ (row $\mathbf{h}_i$). A VAGNN layer (the paper's Eqs. 3–4) is
#
# $$\mathbf{H}' = \operatorname{COMBINE}\big(\mathbf{H}\mathbf{W}_0,\;
#   \hat{\mathbf{A}}_1 \mathbf{H}\mathbf{W}_1, \dots, \hat{\mathbf{A}}_M \mathbf{H}\mathbf{W}_M\big)\,
#   \mathbf{W}_O ,$$
#
# with $M$ heads, value matrices $\mathbf{W}_m \in \mathbb{R}^{d \times d_O}$, a residual block
# $\mathbf{H}\mathbf{W}_0$, COMBINE = concatenation (then $\mathbf{W}_O \in \mathbb{R}^{(M+1)d_O \times d'}$)
# or mean. The weights of head $m$ come from a binary **virtual adjacency** $\check{\mathbf{A}}$:
#
# $$\bar a^{m}_{ij} = \operatorname{ATTN}_m(\mathbf{h}_i, \mathbf{h}_j) + \operatorname{EXT}_m(v_i, v_j)
#   \quad\text{for } \check a_{ij} = 1, \qquad
#   \hat a^{m}_{ij} = \frac{\exp \bar a^{m}_{ij}}{\sum_{k:\, \check a_{ik} = 1} \exp \bar a^{m}_{ik}}
#   \quad (\text{Eqs. 5–6}),$$
#
# and $\hat a^m_{ij} = 0$ for $\check a_{ij} = 0$. (The paper's Eq. 6 sets $\bar a_{ij} = 0$ outside the
# mask *before* a softmax over all $N$ nodes, which would give every non-neighbour the weight
# $e^0/Z_i$; we read the mask as excluding those pairs and keep the printed version as the knob
# `masked="zero"`.) The attention functions are
#
# - none: $\operatorname{ATTN} = 0$;
# - cosine (Eq. 7, from AGNN): $\beta_m \cos(\mathbf{h}_i, \mathbf{h}_j)$;
# - GAT-type (Eq. 8): $\sigma\big(\mathbf{q}_m^\top [\mathbf{h}_i \mathbf{W}_{Q,m} \,\|\,
#   \mathbf{h}_j \mathbf{W}_{Q,m}]\big)$ with $\sigma$ = LeakyReLU(0.2);
# - self-attention (Eq. 9): $(\mathbf{h}_i\mathbf{W}_{Q,m})(\mathbf{h}_j\mathbf{W}_{K,m})^\top/\sqrt{d_A}$;
#
# and the extra weight is $\operatorname{EXT}_m = \alpha_m \operatorname{SPD}(v_i, v_j)$ (Eq. 10, edge
# features omitted), or a learned scalar per head and distance as in Graphormer (Ying et al. 2021), which
# Eq. 10's "$+\dots$" admits.
#
# **The claimed special cases (Sect. 3.4).** With $\check{\mathbf{A}} = \mathbf{A} + \mathbf{I}$:
# GAT is the GAT-type attention with $\mathbf{W}_{Q,m} = \mathbf{W}_m$, no residual block and
# $\mathbf{W}_O = \mathbf{I}$; AGNN is the cosine attention with $\mathbf{W}_1 = \mathbf{I}$. With
# $\check{\mathbf{A}} = \mathbf{1}$: a graph Transformer layer is self-attention with EXT = the distance
# bias, $\mathbf{W}_m = \mathbf{W}_{V,m}$ and $\mathbf{W}_O = \mathbf{W}^O$ (and its residual connection is
# $\mathbf{W}_0 = \mathbf{I}$ with widened blocks). **GCN** (Kipf & Welling 2017) is
# $\mathbf{H}' = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A}+\mathbf{I})\tilde{\mathbf{D}}^{-1/2}\mathbf{H}\mathbf{W}$,
# whose row $i$ sums to $\tilde d_i^{-1/2}\sum_{j} \tilde d_j^{-1/2} \neq 1$ on an irregular graph. A row
# softmax always sums to one, so no choice of ATTN or EXT makes Eq. 5 produce GCN's weights: "VAGNN without
# attention" gives the *mean* aggregator $\tilde{\mathbf{D}}^{-1}(\mathbf{A}+\mathbf{I})\mathbf{H}\mathbf{W}$.
# Replacing the softmax by a plain exponential (knob-level option `normalisation="exp"`, our extension)
# and setting $\operatorname{EXT}_{ij} = -\tfrac12\log(\tilde d_i \tilde d_j)$ gives GCN exactly.
#
# **The virtual adjacency** (Sect. 3.3 and 4.3) is built in three steps: remove $\rho|\mathbb{E}|$ random
# real edges; join each node to every node within $k$ hops of the reduced graph ($k$ = 1, 2, 3); add
# $\phi|\mathbb{E}|$ random *global* pairs not yet in the mask. Self-loops are kept (the $\{v_i\}$ of the
# paper's Eq. 1).
#
# The layer, the reference layers (written from the GCN, GAT, AGNN, Transformer and Graphormer papers),
# the functions that configure VAGNN as each reference, and the mask construction live in
# `reprobook.gnn`, tested in `tests/test_gnn.py` (the references against networkx and
# `torch.nn.MultiheadAttention`, VAGNN against the references). The layer's forward pass works on the list
# of mask pairs, so time and memory grow linearly with their number:

# %%
display(Code(inspect.getsource(gnn.VirtualAdjacencyLayer.forward), language="python"))

# %% [markdown]
# ## The experiment
#
# **Data.** The paper uses nine OGB datasets, which are not available offline. All graphs here come from
# networkx's stochastic block model: $B = 4$ blocks, edge probability $p_\text{in}$ inside a block and
# $p_\text{out}$ across, and Gaussian node features whose mean depends weakly on the block, so that both
# the features and the graph carry the label and neither alone suffices. Two graphs stand in for the
# paper's tasks: a sparse SBM for **node classification** (ogbn-arxiv and ogbn-products stand-in) and a
# denser one for **link prediction** with Hits@20, the ogbl-ddi protocol used in the paper's sensitivity
# study (ogbl-ddi is dense: its 3-hop neighbourhoods cover about 95 % of its nodes; we size the stand-in so
# that its 3-hop coverage is similar and report it).

# %%
def make_sbm(n, p_in, p_out, rng):
    """An SBM with B equal blocks, block labels and block-dependent Gaussian features."""
    B = cfg.n_blocks
    sizes = [n // B + (1 if b < n % B else 0) for b in range(B)]
    probs = [[p_in if a == b else p_out for b in range(B)] for a in range(B)]
    G = nx.stochastic_block_model(sizes, probs, seed=int(rng.integers(2**31)))
    y = np.repeat(np.arange(B), sizes)
    means = rng.normal(size=(B, cfg.feat_dim))
    X = cfg.feat_signal * means[y] + rng.normal(size=(n, cfg.feat_dim))
    return G, torch.tensor(X, dtype=torch.float32), torch.tensor(y)


# %% [markdown]
# ### 1. Does the VAGNN layer reproduce GCN, GAT, AGNN and a graph Transformer?
#
# On an SBM graph with random features and random reference weights (float64), we configure VAGNN with
# the reference's weights and report the largest absolute difference of the outputs. The rule, fixed in
# advance: a difference at most $10^{-9}$ (float64 rounding is about $10^{-15}$) counts as exact.

# %%
EXACT = 1e-9
rng0 = seed_everything(run.seed)
G_id, _, _ = make_sbm(cfg.identity_nodes, 0.15, 0.03, rng0)
n_id = G_id.number_of_nodes()
ei_id = gnn.edge_index_from_networkx(G_id)
adj_id = gnn.dense_adjacency(ei_id, n_id)
H_id = torch.randn(n_id, 12, dtype=torch.float64)
pairs_id = gnn.pairs_from_mask((adj_id | torch.eye(n_id, dtype=torch.bool)).numpy())
full_id = gnn.pairs_from_mask(np.ones((n_id, n_id), bool))
spd_id = torch.from_numpy(gnn.spd_buckets(gnn.shortest_path_lengths(ei_id, n_id), 4))
identity = {}
with torch.no_grad():
    gcn_ref = gnn.GCNLayer(12, 8).double()
    gcn_bias = gnn.gcn_pair_bias(pairs_id, n_id, torch.float64)
    for norm in ("softmax", "exp"):
        va = gnn.va_from_gcn(gcn_ref, norm)
        identity[f"GCN ({norm})"] = float((va(H_id, pairs_id, bias=gcn_bias) - gcn_ref(H_id, adj_id)).abs().max())
    A_tilde = adj_id.double() + torch.eye(n_id, dtype=torch.float64)
    mean_agg = (A_tilde / A_tilde.sum(1, keepdim=True)) @ H_id @ gcn_ref.weight
    identity["mean-GCN (softmax)"] = float((gnn.va_from_gcn(gcn_ref, "softmax")(H_id, pairs_id) - mean_agg).abs().max())
    gat_ref = gnn.GATLayer(12, 4, heads=3).double()
    for m in ("exclude", "zero"):
        identity[f"GAT (masked={m})"] = float((gnn.va_from_gat(gat_ref, masked=m)(H_id, pairs_id)
                                               - gat_ref(H_id, adj_id)).abs().max())
    identity["GAT (general Eqs. 3-4)"] = float((gnn.va_from_gat(gat_ref, general=True)(H_id, pairs_id)
                                               - gat_ref(H_id, adj_id)).abs().max())
    agnn_ref = gnn.AGNNLayer(1.5).double()
    for m in ("exclude", "zero"):
        identity[f"AGNN (masked={m})"] = float((gnn.va_from_agnn(agnn_ref, 12, masked=m)(H_id, pairs_id)
                                                - agnn_ref(H_id, adj_id)).abs().max())
    for res in (False, True):
        tr_ref = gnn.TransformerLayer(12, 12, heads=3, head_dim=4, n_spd=6, residual=res).double()
        tr_ref.spd_bias.normal_()
        va = gnn.va_from_transformer(tr_ref)
        identity[f"Transformer+SPD (residual={res})"] = float(
            (va(H_id, full_id, spd=spd_id[full_id[0], full_id[1]]) - tr_ref(H_id, spd_id)).abs().max())
identity_table = pd.DataFrame({"max |VAGNN - reference|": identity,
                               "exact (<= 1e-9)": {k: v <= EXACT for k, v in identity.items()}})
run.log(identity_maxdiff={k: float(f"{v:.3g}") if v > EXACT else 0.0 for k, v in identity.items()})
identity_table

# %% [markdown]
# GAT, AGNN and the graph Transformer (with Graphormer's distance bias, with and without its residual
# connection) are reproduced to rounding error when the pairs outside the mask are excluded. GCN is
# reproduced only with the exponential normalisation; under the paper's softmax the same configuration
# is the mean aggregator (exact, third row), which differs from GCN wherever degrees differ. Eq. 6 read
# literally (`masked="zero"`) reproduces none of the 1-hop models. The gradients agree as well
# (`tests/test_gnn.py`).

# %% [markdown]
# ### 2. Node classification: VAGNN(X) against X, and a tuned VAGNN
#
# Every model has two graph layers (hidden width `hidden`, `heads` heads where it has heads), ReLU (ELU for
# GAT, as in its paper), dropout, full-batch Adam with weight decay, and is evaluated at the epoch of best
# validation accuracy (splits 20 % train / 20 % validation / 60 % test per seed). **X** is the reference
# layer; **VAGNN(X)** is the VAGNN layer in X's configuration with its own random initialisation (as the
# paper trained its VAGNN variants separately). **VAGNN(CosA), (GatA), (SelfA)** use the full layer
# (residual block, learned $\mathbf{W}_O$, EXT $= \alpha\,$SPD) on a virtual adjacency whose hop count
# and $\phi$ are chosen per seed on the validation split from `select_hops` × `select_phi`, as the paper
# "carefully selects" them. MLP (no graph) is a floor.

# %%
class Net(nn.Module):
    """Optional input projection, two graph layers, optional output projection."""

    def __init__(self, convs, call, pre=None, post=None, act=F.relu):
        super().__init__()
        self.convs, self.call, self.pre, self.post, self.act = nn.ModuleList(convs), call, pre, post, act

    def forward(self, X, g):
        h = X
        if self.pre is not None:
            h = self.act(self.pre(F.dropout(h, cfg.dropout, self.training)))
        for k, conv in enumerate(self.convs):
            h = self.call(conv, F.dropout(h, cfg.dropout, self.training), g)
            if k < len(self.convs) - 1 or self.post is not None:
                h = self.act(h)
        if self.post is not None:
            h = self.post(F.dropout(h, cfg.dropout, self.training))
        return h


def build(name, d, C, sel=None):
    """The model called ``name``; ``sel`` = (hops, phi) for the tuned VAGNN variants."""
    h, M = cfg.hidden, cfg.heads
    hd = h // M
    ref_adj = lambda conv, x, g: conv(x, g["adj"])
    va_1hop = lambda conv, x, g: conv(x, g["pairs1"], bias=g["gcn_bias"] if cfg.gcn_normalisation == "exp" else None)
    if name == "MLP":
        return Net([], None, pre=nn.Linear(d, h), post=nn.Linear(h, C))
    if name == "GCN":
        return Net([gnn.GCNLayer(d, h), gnn.GCNLayer(h, C)], ref_adj)
    if name == "VAGNN(GCN)":
        mk = lambda i, o: gnn.VirtualAdjacencyLayer(i, o, 1, attn="none", residual=False, out_proj=False,
                                                    normalisation=cfg.gcn_normalisation, masked=cfg.masked)
        return Net([mk(d, h), mk(h, C)], va_1hop)
    if name == "GAT":
        return Net([gnn.GATLayer(d, hd, heads=M), gnn.GATLayer(h, C, heads=1)], ref_adj, act=F.elu)
    if name == "VAGNN(GAT)":
        mk = lambda i, o, m: gnn.VirtualAdjacencyLayer(i, o, m, attn="gat", tie_query_value=True,
                                                       residual=False, out_proj=False, masked=cfg.masked)
        return Net([mk(d, hd, M), mk(h, C, 1)], lambda c, x, g: c(x, g["pairs1"]), act=F.elu)
    if name == "AGNN":
        return Net([gnn.AGNNLayer(1.0), gnn.AGNNLayer(1.0)], ref_adj, pre=nn.Linear(d, h), post=nn.Linear(h, C))
    if name == "VAGNN(AGNN)":
        mk = lambda: gnn.VirtualAdjacencyLayer(h, h, 1, attn="cos", values="identity", residual=False,
                                               out_proj=False, masked=cfg.masked)
        return Net([mk(), mk()], lambda c, x, g: c(x, g["pairs1"]), pre=nn.Linear(d, h), post=nn.Linear(h, C))
    if name == "Transformer":
        mk = lambda: gnn.TransformerLayer(h, h, M, hd, n_spd=g_nspd, residual=True)
        return Net([mk(), mk()], lambda c, x, g: c(x, g["spd"]), pre=nn.Linear(d, h), post=nn.Linear(h, C))
    if name == "VAGNN(Trans)":
        mk = lambda: gnn.VirtualAdjacencyLayer(h, h, M, h, attn="self", att_dim=hd, ext="table", n_spd=g_nspd)
        return Net([mk(), mk()], lambda c, x, g: c(x, g["full"], spd=g["full_spd"]),
                   pre=nn.Linear(d, h), post=nn.Linear(h, C))
    attn = {"VAGNN(CosA)": "cos", "VAGNN(GatA)": "gat", "VAGNN(SelfA)": "self"}[name]
    mk = lambda: gnn.VirtualAdjacencyLayer(h, hd, M, h, attn=attn, ext="linear", masked=cfg.masked)
    key = sel
    return Net([mk(), mk()], lambda c, x, g: c(x, g["va"][key][0], spd=g["va"][key][1]),
               pre=nn.Linear(d, h), post=nn.Linear(h, C))


MAX_SPD = 5
g_nspd = MAX_SPD + 2


def graph_context(G, rng, selections=()):
    """Everything the models read from a graph: dense adjacency, the A + I pairs, GCN's degree term,
    distance buckets (dense and per all-pairs), and one virtual adjacency per (hops, phi) selection."""
    n = G.number_of_nodes()
    ei = gnn.edge_index_from_networkx(G)
    adj = gnn.dense_adjacency(ei, n)
    pairs1 = gnn.pairs_from_mask((adj | torch.eye(n, dtype=torch.bool)).numpy())
    spd = torch.from_numpy(gnn.spd_buckets(gnn.shortest_path_lengths(ei, n), MAX_SPD))
    full = gnn.pairs_from_mask(np.ones((n, n), bool))
    ctx = dict(adj=adj, pairs1=pairs1, gcn_bias=gnn.gcn_pair_bias(pairs1, n), spd=spd, full=full,
               full_spd=spd[full[0], full[1]], va={})
    for hops, phi in selections:
        mask = gnn.virtual_adjacency_mask(ei, n, hops=hops, phi=phi, rng=rng, phi_scope=cfg.phi_scope)
        p = gnn.pairs_from_mask(mask)
        ctx["va"][(hops, phi)] = (p, spd[p[0], p[1]])
    return {k: ({kk: (vv[0].to(DEV), vv[1].to(DEV)) for kk, vv in v.items()} if k == "va" else v.to(DEV))
            for k, v in ctx.items()}


def train_node(model, X, y, g, split):
    """Full-batch training; returns (best validation accuracy, test accuracy at that epoch)."""
    model = model.to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    tr, va, te = split
    best = (-1.0, 0.0)
    for _ in range(cfg.epochs):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(X, g)[tr], y[tr]).backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(X, g).argmax(1)
        acc_va = float((pred[va] == y[va]).float().mean())
        if acc_va > best[0]:
            best = (acc_va, float((pred[te] == y[te]).float().mean()))
    return best


PAIRED = ["GCN", "VAGNN(GCN)", "GAT", "VAGNN(GAT)", "AGNN", "VAGNN(AGNN)", "Transformer", "VAGNN(Trans)"]
TUNED = ["VAGNN(CosA)", "VAGNN(GatA)", "VAGNN(SelfA)"]
MODELS = ["MLP"] + PAIRED + TUNED
SELECTIONS = [(k, p) for k in cfg.select_hops for p in cfg.select_phi]
node_acc = {m: [] for m in MODELS}
node_choice = {m: [] for m in TUNED}
t0 = time.perf_counter()
for s in run.seeds:
    rng = seed_everything(s)
    G, X, y = make_sbm(cfg.n_nodes, cfg.p_in, cfg.p_out, rng)
    g = graph_context(G, rng, SELECTIONS)
    X, y = X.to(DEV), y.to(DEV)
    perm = torch.from_numpy(rng.permutation(cfg.n_nodes)).to(DEV)
    a, b = int(0.2 * cfg.n_nodes), int(0.4 * cfg.n_nodes)
    split = (perm[:a], perm[a:b], perm[b:])
    for k, name in enumerate(MODELS):
        if name in TUNED:
            results = []
            for j, sel in enumerate(SELECTIONS):
                torch.manual_seed(1000 * s + 100 * k + j)
                results.append(train_node(build(name, X.shape[1], cfg.n_blocks, sel), X, y, g, split))
            j = int(np.argmax([r[0] for r in results]))  # chosen on validation accuracy only
            node_acc[name].append(results[j][1])
            node_choice[name].append(list(SELECTIONS[j]))
        else:
            torch.manual_seed(1000 * s + 100 * k)  # VAGNN(X) and X start from different random weights
            node_acc[name].append(train_node(build(name, X.shape[1], cfg.n_blocks), X, y, g, split)[1])
run.log_timing(node_classification_s=time.perf_counter() - t0)
run.log(node_accuracy=node_acc, node_selected_hops_phi=node_choice)
pd.DataFrame({m: [rb.claims.summarise(v)] for m, v in node_acc.items()}, index=["test accuracy"]).T

# %%
fig, ax = plt.subplots(figsize=(9, 3.8))
means = [np.mean(node_acc[m]) for m in MODELS]
colours = ["0.6"] + ["tab:blue", "tab:orange"] * 4 + ["tab:green"] * 3
ax.bar(range(len(MODELS)), means, color=colours)
for i, m in enumerate(MODELS):
    ax.plot([i] * len(node_acc[m]), node_acc[m], "k.", ms=4)
ax.set_xticks(range(len(MODELS)), MODELS, rotation=35, ha="right")
ax.set_ylim(min(means) - 0.1, 1.0)
ax.set(title="Node classification on the SBM stand-in (blue: reference, orange: VAGNN(X))",
       xlabel="model", ylabel="test accuracy (dots: seeds)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 3. Sensitivity of the virtual adjacency (Fig. 1 analogue)
#
# Link prediction on a denser SBM, as the paper's study on ogbl-ddi. Per seed: a new graph, its undirected
# edges split 80/10/10 into train/validation/test, `n_neg` random non-edges as shared negatives for
# validation and test, Hits@20 (a positive counts if it outscores the 20th-best negative). The encoder is
# a two-layer VAGNN(SelfA) on the virtual adjacency built from the **training** edges; the decoder scores
# a pair from $\mathbf{h}_i \odot \mathbf{h}_j$ with a two-layer MLP; training uses binary cross-entropy
# with as many random negatives as positives per epoch. We report the test Hits@20 at the epoch of best
# validation Hits@20. The paper shows a full $\rho \times \phi$ grid per hop setting; we sweep each of
# $\rho$, hops and $\phi$ through the base point ($\rho = 0$, 1 hop, $\phi = 0$), which is what its three
# trend statements are about.

# %%
class LinkNet(nn.Module):
    def __init__(self, d):
        super().__init__()
        h, M = cfg.hidden, cfg.heads
        self.pre = nn.Linear(d, h)
        self.convs = nn.ModuleList(gnn.VirtualAdjacencyLayer(h, h // M, M, h, attn="self", ext="linear",
                                                             masked=cfg.masked) for _ in range(2))
        self.dec = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

    def encode(self, X, pairs, spd):
        h = F.relu(self.pre(X))
        for k, conv in enumerate(self.convs):
            h = conv(F.dropout(h, cfg.dropout, self.training), pairs, spd=spd)
            if k == 0:
                h = F.relu(h)
        return h

    def score(self, h, e):
        return self.dec(h[e[0]] * h[e[1]]).squeeze(-1)


def link_split(G, rng):
    und = np.array(sorted((min(u, v), max(u, v)) for u, v in G.edges() if u != v))
    und = und[rng.permutation(len(und))]
    a, b = int(0.8 * len(und)), int(0.9 * len(und))
    n = G.number_of_nodes()
    adj = nx.to_numpy_array(G, nodelist=range(n)) > 0
    neg = []
    while len(neg) < 2 * cfg.n_neg:
        i, j = rng.integers(n, size=2)
        if i != j and not adj[i, j]:
            neg.append((i, j))
    neg = torch.tensor(np.array(neg).T)
    t = lambda e: torch.from_numpy(e.T.copy())
    return t(und[:a]), t(und[a:b]), t(und[b:]), neg[:, :cfg.n_neg], neg[:, cfg.n_neg:]


def train_link(X, split, rho, hops, phi, rng):
    n = X.shape[0]
    tr, va, te, neg_va, neg_te = split
    ei = torch.cat([tr, tr.flip(0)], 1)
    mask = gnn.virtual_adjacency_mask(ei, n, rho=rho, hops=hops, phi=phi, rng=rng, phi_scope=cfg.phi_scope)
    spd_all = gnn.spd_buckets(gnn.shortest_path_lengths(ei, n), MAX_SPD)
    pairs = gnn.pairs_from_mask(mask)
    spd = torch.from_numpy(spd_all[pairs[0].numpy(), pairs[1].numpy()])
    pairs, spd, Xd = pairs.to(DEV), spd.to(DEV), X.to(DEV)
    model = LinkNet(X.shape[1]).to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    best = (-1.0, 0.0)
    for ep in range(cfg.link_epochs):
        model.train()
        opt.zero_grad()
        h = model.encode(Xd, pairs, spd)
        fake = torch.randint(0, n, (2, tr.shape[1]), generator=gen).to(DEV)
        pos, negs = model.score(h, tr.to(DEV)), model.score(h, fake)
        loss = F.binary_cross_entropy_with_logits(torch.cat([pos, negs]),
                                                  torch.cat([torch.ones_like(pos), torch.zeros_like(negs)]))
        loss.backward()
        opt.step()
        if (ep + 1) % cfg.eval_every == 0 or ep + 1 == cfg.link_epochs:
            model.eval()
            with torch.no_grad():
                h = model.encode(Xd, pairs, spd)
                hv = gnn.hits_at_k(model.score(h, va.to(DEV)), model.score(h, neg_va.to(DEV)), 20)
                if hv > best[0]:
                    best = (hv, gnn.hits_at_k(model.score(h, te.to(DEV)), model.score(h, neg_te.to(DEV)), 20))
    return best[1], int(mask.sum())


CONFIGS = ([("rho", r, 1, 0.0) for r in cfg.rho_sweep] + [("hops", 0.0, k, 0.0) for k in cfg.hop_sweep]
           + [("phi", 0.0, 1, p) for p in cfg.phi_sweep])
CONFIGS = list(dict.fromkeys((r, k, p) for _, r, k, p in CONFIGS))  # the base point once
link_hits = {c: [] for c in CONFIGS}
link_pairs = {c: [] for c in CONFIGS}
coverage = {k: [] for k in cfg.hop_sweep}
t0 = time.perf_counter()
for s in run.seeds:
    rng = seed_everything(s)
    G, X, _ = make_sbm(cfg.n_link_nodes, cfg.link_p_in, cfg.link_p_out, rng)
    split = link_split(G, rng)
    ei_tr = torch.cat([split[0], split[0].flip(0)], 1)
    spd_tr = gnn.shortest_path_lengths(ei_tr, cfg.n_link_nodes)
    for k in cfg.hop_sweep:
        coverage[k].append(float(((spd_tr >= 0) & (spd_tr <= k)).mean()))
    for j, c in enumerate(CONFIGS):
        torch.manual_seed(1000 * s + j)
        hits, n_pairs = train_link(X, split, *c, np.random.default_rng([s, j]))
        link_hits[c].append(hits)
        link_pairs[c].append(n_pairs)
run.log_timing(link_prediction_s=time.perf_counter() - t0)
key = lambda c: f"rho={c[0]:g},hops={c[1]},phi={c[2]:g}"
run.log(link_hits20={key(c): v for c, v in link_hits.items()},
        link_mask_pairs={key(c): v for c, v in link_pairs.items()},
        hop_coverage={str(k): v for k, v in coverage.items()})
print("fraction of node pairs within k hops (training graph):",
      {k: round(float(np.mean(v)), 3) for k, v in coverage.items()})

# %%
rho_pts = [(r, 1, 0.0) for r in cfg.rho_sweep]
hop_pts = [(0.0, k, 0.0) for k in cfg.hop_sweep]
phi_pts = [(0.0, 1, p) for p in cfg.phi_sweep]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for ax, pts, xs, label, log in [(axes[0], rho_pts, cfg.rho_sweep, r"$\rho$ (fraction of edges removed)", True),
                                (axes[1], hop_pts, cfg.hop_sweep, "hops joined into the mask", False),
                                (axes[2], phi_pts, cfg.phi_sweep, r"$\phi$ (global pairs per edge)", True)]:
    m = np.array([np.mean(link_hits[c]) for c in pts])
    sd = np.array([np.std(link_hits[c]) for c in pts])
    xv = np.array(xs, dtype=float)
    xplot = np.where(xv == 0, xv[xv > 0].min() / 4, xv) if log else xv
    ax.errorbar(xplot, m, yerr=sd, marker="o", capsize=3)
    if log:
        ax.set_xscale("log")
    ax.set(xlabel=label + (" (0 drawn at the left end)" if log else ""), title=f"Sweep of {label.split(' ')[0]}")
axes[0].set_ylabel("test Hits@20")
fig.suptitle("VAGNN(SelfA) link prediction on the dense SBM: sensitivity to the virtual adjacency")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 4. Cost against the number of mask pairs
#
# The paper states that VAGNN's cost is linear in the number of node pairs in the virtual adjacency. We
# time one forward pass of a VAGNN(SelfA) layer (width 32, 4 heads) on random masks of increasing size
# (median of three runs) and fit the slope of log time against log pairs; linear cost means a slope near 1.

# %%
def time_forward(n_pairs, reps=3):
    n = max(1000, n_pairs // 50)
    g = torch.Generator().manual_seed(n_pairs)
    pairs = torch.unique(torch.randint(0, n, (2, n_pairs), generator=g), dim=1).to(DEV)
    layer = gnn.VirtualAdjacencyLayer(32, 8, 4, 32, attn="self").to(DEV)
    H = torch.randn(n, 32, generator=g).to(DEV)
    ts = []
    with torch.no_grad():
        for _ in range(reps + 1):
            if DEV.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            layer(H, pairs)
            if DEV.type == "cuda":
                torch.cuda.synchronize()
            ts.append(time.perf_counter() - t)
    return float(np.median(ts[1:])), pairs.shape[1]


scale = [time_forward(p) for p in cfg.scale_pairs]
scale_t = np.array([s[0] for s in scale])
scale_p = np.array([s[1] for s in scale])
slope = float(np.polyfit(np.log(scale_p), np.log(scale_t), 1)[0])
run.log_timing(forward_s=scale_t.tolist(), forward_pairs=scale_p.tolist(), forward_loglog_slope=slope)
fig, ax = plt.subplots(figsize=(5, 3.6))
ax.loglog(scale_p, scale_t, "o-", label=f"measured (slope {slope:.2f})")
ax.loglog(scale_p, scale_t[0] * scale_p / scale_p[0], "k--", label="linear")
ax.set(title="Forward time of a VAGNN layer", xlabel="pairs in the virtual adjacency", ylabel="seconds")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Exactness: maximum difference at most $10^{-9}$ in float64. Accuracy
# alignment (Tables 2–4 show VAGNN(X) within about one point of X): test accuracies within 0.03 on our
# small test sets (0.6 × 200 = 120 nodes in smoke, one node = 0.8 points), beyond 2 s.e. over seeds.
# Trends (Fig. 1): the sign of Spearman's correlation over the sweep, or the ordering of the hop settings.

# %%
ledger = rb.Ledger()
ex = {k: v for k, v in identity.items()}
ledger.claim("unify-gat", "VAGNN configured as GAT (mask A+I, GAT-type attention) computes GAT's layer exactly",
             paper="Sect. 3.4; VAGNN(GAT) vs GAT, e.g. 71.86 vs 71.97 % on ogbn-arxiv (Table 2)",
             measured={"max_abs_diff": ex["GAT (masked=exclude)"]},
             rule=rb.AtLeast("max_abs_diff", EXACT, at_most=True))
ledger.claim("unify-agnn", "VAGNN configured as AGNN (cosine attention, identity values) computes AGNN exactly",
             paper="Sect. 3.4; VAGNN(AGNN) vs AGNN, e.g. 78.92 vs 78.84 % on ogbn-products (Table 2)",
             measured={"max_abs_diff": ex["AGNN (masked=exclude)"]},
             rule=rb.AtLeast("max_abs_diff", EXACT, at_most=True))
ledger.claim("unify-transformer", "VAGNN with an all-ones mask, self-attention and a distance EXT computes a "
             "Graphormer-style attention layer (with its residual) exactly",
             paper="Sect. 3.4; VAGNN(Trans) vs Graphormer 80.95 vs 80.51 AUC % on ogbg-molhiv (Table 4)",
             measured={"max_abs_diff_residual": ex["Transformer+SPD (residual=True)"],
                       "max_abs_diff_plain": ex["Transformer+SPD (residual=False)"]},
             rule=rb.AllOf(rb.AtLeast("max_abs_diff_residual", EXACT, at_most=True),
                           rb.AtLeast("max_abs_diff_plain", EXACT, at_most=True)))
ledger.claim("unify-gcn", "VAGNN without attention on mask A+I is GCN (Eqs. 5-6 with a row softmax)",
             paper="Sect. 3.4; VAGNN(GCN) vs GCN 75.77 vs 75.64 % on ogbn-products (Table 2)",
             measured={"max_abs_diff_softmax": ex["GCN (softmax)"]},
             rule=rb.AtLeast("max_abs_diff_softmax", EXACT, at_most=True))
ledger.claim("eq6-as-printed", "Eq. 6 as printed (score 0 outside the mask, softmax over all N nodes) "
             "still yields GAT and AGNN",
             paper="Eqs. 5-6 with Sect. 3.4",
             measured={"gat": ex["GAT (masked=zero)"], "agnn": ex["AGNN (masked=zero)"]},
             rule=rb.AllOf(rb.AtLeast("gat", EXACT, at_most=True), rb.AtLeast("agnn", EXACT, at_most=True)))
ledger.claim("align-accuracy", "Trained separately, each VAGNN(X) reaches the accuracy of X "
             "(GCN, GAT, AGNN, Transformer)",
             paper="Tables 2-4: |VAGNN(X) - X| mostly below 1 point, e.g. 79.19 vs 79.23 % (GAT, ogbn-products)",
             measured={k: node_acc[k] for k in PAIRED},
             rule=rb.AllOf(*[rb.Close(f"VAGNN({b})" if b != "Transformer" else "VAGNN(Trans)", b, 0.03)
                             for b in ("GCN", "GAT", "AGNN", "Transformer")]))
best_base = [max(node_acc[b][i] for b in PAIRED[::2]) for i in range(len(run.seeds))]
ledger.claim("selfa-best", "The tuned VAGNN(SelfA) beats the best reference GNN and VAGNN(CosA), VAGNN(GatA)",
             paper="Tables 2-4: SelfA best on most sets, e.g. 94.07 Hits@20 vs GAT 91.21 on ogbl-ddi (Table 3)",
             measured={"VAGNN(SelfA)": node_acc["VAGNN(SelfA)"], "best reference": best_base,
                       "VAGNN(CosA)": node_acc["VAGNN(CosA)"], "VAGNN(GatA)": node_acc["VAGNN(GatA)"]},
             rule=rb.AllOf(rb.Better("VAGNN(SelfA)", "best reference"), rb.Better("VAGNN(SelfA)", "VAGNN(CosA)"),
                           rb.Better("VAGNN(SelfA)", "VAGNN(GatA)")))
ledger.claim("rho-hurts", "Removing more real edges (larger rho) lowers Hits@20",
             paper="Fig. 1: best near rho = 0.0005, poor for rho >= 0.1 (ogbl-ddi)",
             measured={"rho": cfg.rho_sweep, "hits20": [float(np.mean(link_hits[c])) for c in rho_pts]},
             rule=rb.Correlates("rho", "hits20", sign=-1, min_rho=0.5))
ledger.claim("hops-order", "Joining 2-hop neighbours helps most; 1 and 2 hops beat 3 hops",
             paper="Fig. 1a-c: 2-hop best, 1- and 2-hop clearly above 3-hop (ogbl-ddi)",
             measured={f"{k}-hop": link_hits[(0.0, k, 0.0)] for k in cfg.hop_sweep},
             rule=rb.Ordered(("2-hop", "1-hop", "3-hop")))
ledger.claim("phi-hurts", "Adding more global pairs (larger phi) lowers Hits@20",
             paper="Fig. 1: smaller phi better, phi >= 1 poor (ogbl-ddi)",
             measured={"phi": cfg.phi_sweep, "hits20": [float(np.mean(link_hits[c])) for c in phi_pts]},
             rule=rb.Correlates("phi", "hits20", sign=-1, min_rho=0.5))
ledger.claim("linear-cost", "Forward time grows linearly with the number of mask pairs (log-log slope in [0.7, 1.3])",
             paper="Sect. 1 and 3.4, end of Sect. 4.2 (no numbers given)",
             measured={"slope": slope},
             rule=rb.AllOf(rb.AtLeast("slope", 0.7), rb.AtLeast("slope", 1.3, at_most=True)), volatile=True)
ledger.claim("ogb-numbers", "Absolute accuracies on the nine OGB datasets",
             paper="Tables 2-4",
             rule=rb.NotTestable("OGB datasets are not available offline; SBM stand-ins only"))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data.** Stochastic block models with Gaussian features replace the nine OGB datasets; graph
#   classification (Table 4) is not tried. Absolute numbers are not compared with the paper's; only the
#   exact identities and relative statements are.
# - **Eq. 6.** Printed, it gives masked pairs the score 0 and then normalises over all $N$ nodes
#   (Eq. 5's sum runs over $k = 0..N-1$), so every non-neighbour gets a weight $e^{0}/Z_i$: the layer would
#   then aggregate over the whole graph, cost $O(N^2)$, and reproduce neither GAT nor AGNN (measured above).
#   We read the mask as excluding those pairs (the usual $-\infty$ masking), which is what the paper's
#   linear-cost argument needs. The printed version is the knob `masked="zero"`, computed in linear time
#   from the sum of all values (tested against a dense softmax in `tests/test_gnn.py`).
# - **GCN.** The paper says VAGNN without attention *is* GCN. A row softmax cannot produce GCN's symmetric
#   normalisation on a graph with unequal degrees (the rows of GCN's propagation matrix do not sum to one),
#   so VAGNN(GCN) under Eq. 5 is the mean aggregator $\tilde{\mathbf{D}}^{-1}(\mathbf{A}+\mathbf{I})$. The
#   two coincide on regular graphs (tested). Our extension `normalisation="exp"` with
#   $\operatorname{EXT}_{ij} = -\tfrac12\log(\tilde d_i\tilde d_j)$ gives GCN exactly; `-p gcn_normalisation exp`
#   trains VAGNN(GCN) that way. The accuracy claim uses the paper's softmax.
# - **EXT.** Eq. 10 writes $\alpha\,\mathrm{SPD}$; Graphormer (which the paper follows for its tuned models)
#   learns one scalar per distance. The Transformer identity uses the table (Eq. 10's "$+\dots$"); a linear
#   table equals $\alpha\,\mathrm{SPD}$ (tested). The tuned VAGNN variants use $\alpha\,\mathrm{SPD}$ with
#   distances clipped at 5 and "no path" as 6. Edge features (EW) are not used: the SBM has none.
# - **Layer details.** The paper omits activations, biases and normalisation layers (its footnote 1); the
#   references here follow their papers' layer equations without bias. The Transformer comparison covers
#   the attention sub-layer and its residual connection, not LayerNorm and the feed-forward block.
#   GAT-type attention in the paper uses a separate $\mathbf{W}_Q$; GAT uses its value matrix, so
#   VAGNN(GAT) ties $\mathbf{W}_Q = \mathbf{W}_m$ (`tie_query_value`).
# - **Virtual adjacency.** The order of the three construction steps is not stated; we remove edges first,
#   then take the $k$-hop closure of the reduced graph (so a removed edge may return through a 2-hop path),
#   then add global pairs. "Randomly select $\phi|\mathbb{E}|$ global nodes" does not say per node or in
#   total; we use $\phi|\mathbb{E}|$ undirected pairs in total (knob `phi_scope="per_node"` gives
#   $\phi|\mathbb{E}|$ partners to every node, which saturates at all nodes for any $\phi \geq N/|\mathbb{E}|$).
#   The paper's $\rho \times \phi$ grid values are not given; we sweep each parameter through a base point.
# - **Tuning.** The paper does not report the "carefully selected" mask parameters behind VAGNN(CosA),
#   (GatA), (SelfA); we select hops and $\phi$ on the validation split from a small grid and report the
#   choice (`node_selected_hops_phi`). Hidden sizes, learning rate, epochs and dropout are not given in the
#   paper (Adam with an exponential decay is); ours are fixed common values, not tuned on test data.
# - **Scale.** The smoke profile uses one seed and small graphs, so the accuracy and trend verdicts there
#   are single-seed; the full profile uses the paper's five trials.
#
# ## Exercises
#
# 1. Show that on a $k$-regular graph, VAGNN without attention under the softmax of Eq. 5 equals GCN, and
#    find the smallest graph on which the two differ. Check your answer with `gnn.va_from_gcn`.
#
# ```{admonition} Solution
# :class: dropdown
# With every degree equal to $k$, $\tilde d_i = k + 1$ for all $i$, so GCN's weight
# $1/\sqrt{\tilde d_i \tilde d_j} = 1/(k+1)$ equals the softmax of zeros over the $k+1$ entries of row $i$.
# On a path of three nodes ($\tilde d = 2, 3, 2$) the end node's GCN weights are $1/2$ (itself) and
# $1/\sqrt{6}$ (the middle), summing to about $0.908$, while the softmax gives $1/2, 1/2$. Build
# `G = nx.path_graph(3)`, a `gnn.GCNLayer(2, 2).double()`, and compare `gnn.va_from_gcn(layer, "softmax")`
# with the layer on the pairs of $\mathbf{A} + \mathbf{I}$: the outputs differ; on `nx.cycle_graph(5)` they
# agree to rounding.
# ```
#
# 2. Run the chapter with `-p masked zero`. Which claims change verdict, and why does the sensitivity to
#    $\phi$ change character under the printed Eq. 6?
#
# ```{admonition} Solution
# :class: dropdown
# With `masked="zero"` every node already attends to all $N$ nodes (non-mask nodes with score 0), so the
# layer is a graph Transformer whose attention merely favours mask pairs by their learned scores. The
# identity rows for GAT and AGNN stay as measured (they are computed for both readings), but the trained
# models change: adding global pairs ($\phi$) now only changes which pairs get a learned rather than a zero
# score, so the $\phi$ and hop sweeps flatten, and removing edges matters less. It also costs $O(N)$ extra
# per node in principle, which our implementation avoids by summing all values once.
# ```
#
# 3. The paper explains the flat 3-hop results on ogbl-ddi by 3-hop neighbourhoods covering about 95 % of
#    the nodes. Using `hop_coverage` from the results, vary `link_p_in`/`link_p_out` (edit `PROFILES`) so
#    that 3-hop coverage drops to about 50 %, and predict whether the 3-hop setting should still be worst.
#
# ```{admonition} Solution
# :class: dropdown
# Lower the edge probabilities (e.g. halve both). With 3-hop coverage near 50 %, the 3-hop mask no longer
# mixes every block with every other one, so it behaves like a larger local neighbourhood rather than a
# global average; whether it still loses to 1 and 2 hops then depends on homophily: with
# $p_\text{in} \gg p_\text{out}$ the 3-hop neighbourhood is still mostly within the block and can match
# 2 hops. The coverage numbers printed in the sensitivity section let you check which regime you are in.
# ```
