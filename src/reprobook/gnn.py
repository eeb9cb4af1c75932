"""Plain-torch graph neural network layers, and a masked multi-head attention layer over any set of node pairs.

The book has no PyTorch Geometric, so the classic layers are written here from their papers' equations, in
their simplest dense form (they serve as references and as baselines on graphs of a few thousand nodes):

- :class:`GCNLayer`, Kipf & Welling (ICLR 2017): ``H' = D~^-1/2 (A + I) D~^-1/2 H W``;
- :class:`GATLayer`, Velickovic et al. (ICLR 2018): LeakyReLU(a^T [W h_i || W h_j]) scores, softmax over
  ``N(i) + {i}``, multi-head concatenation or mean;
- :class:`AGNNLayer`, Thekumparampil et al. (2018): softmax over ``N(i) + {i}`` of ``beta cos(h_i, h_j)``,
  no weight matrix;
- :class:`TransformerLayer`, Vaswani et al. (NeurIPS 2017) multi-head self-attention over all nodes with
  Graphormer's (Ying et al., NeurIPS 2021) learnable shortest-path-distance bias per head, optional residual.

:class:`VirtualAdjacencyLayer` is the layer of VAGNN (Liang et al., ICONIP 2024, Eqs. 3-10): multi-head
attention restricted to a list of node pairs (the *virtual adjacency*), stored as an edge list so that time
and memory grow linearly with the number of pairs. The ``va_from_*`` functions configure it with the weights
of a reference layer, so that the two can be compared number for number.

The remaining helpers build virtual adjacencies (k-hop closure, random edge removal, random global pairs),
shortest-path distances, and compute OGB's Hits@K.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path
from torch import nn

__all__ = ["edge_index_from_networkx", "dense_adjacency", "pairs_from_mask", "segment_softmax",
           "GCNLayer", "GATLayer", "AGNNLayer", "TransformerLayer", "VirtualAdjacencyLayer",
           "gcn_pair_bias", "va_from_gcn", "va_from_gat", "va_from_agnn", "va_from_transformer",
           "shortest_path_lengths", "spd_buckets", "remove_edges", "virtual_adjacency_mask", "hits_at_k"]


# ----------------------------------------------------------------------------------------------- graphs


def edge_index_from_networkx(G) -> torch.Tensor:
    """``(2, 2|E|)`` long tensor of an undirected networkx graph, both directions, self-loops dropped.

    Nodes must be labelled ``0..N-1``.
    """
    e = np.array([(u, v) for u, v in G.edges() if u != v], dtype=np.int64).reshape(-1, 2)
    both = np.concatenate([e, e[:, ::-1]], axis=0)
    both = np.unique(both, axis=0)
    return torch.from_numpy(both.T.copy())


def dense_adjacency(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """Dense boolean ``(n, n)`` adjacency with ``A[i, j] = True`` for each column ``(i, j)`` of ``edge_index``."""
    A = torch.zeros(n, n, dtype=torch.bool)
    A[edge_index[0], edge_index[1]] = True
    return A


def pairs_from_mask(mask) -> torch.Tensor:
    """The ``(2, P)`` list of ``(i, j)`` with ``mask[i, j]`` true, row-major order (``i`` aggregates ``j``)."""
    m = torch.as_tensor(np.asarray(mask, dtype=bool))
    return m.nonzero().T.contiguous()


def segment_softmax(scores: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """Softmax of ``scores`` (``(P, M)``) within each group of rows sharing ``index`` (``(P,)``, values < n)."""
    idx = index[:, None].expand_as(scores)
    mx = torch.full((n, scores.shape[1]), -math.inf, dtype=scores.dtype, device=scores.device)
    mx = mx.scatter_reduce(0, idx, scores, reduce="amax", include_self=True)
    ex = (scores - mx[index]).exp()
    den = torch.zeros(n, scores.shape[1], dtype=scores.dtype, device=scores.device).index_add(0, index, ex)
    return ex / den[index]


def _glorot(*shape) -> nn.Parameter:
    w = torch.empty(*shape)
    fan_in, fan_out = shape[-2], shape[-1]
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return nn.Parameter(w.uniform_(-bound, bound))


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row softmax of ``scores`` (``(..., N, N)``) over the entries where ``mask`` (``(N, N)``) is true."""
    return torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)


# ------------------------------------------------------------------------------------ reference layers


class GCNLayer(nn.Module):
    """Kipf & Welling (2017), Eq. 2: ``D~^-1/2 (A + I) D~^-1/2 H W`` (no bias, no activation)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = _glorot(in_dim, out_dim)

    @staticmethod
    def propagation(adj: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        A = adj.to(dtype) + torch.eye(adj.shape[0], dtype=dtype, device=adj.device)
        d = A.sum(1).rsqrt()
        return d[:, None] * A * d[None, :]

    def forward(self, H: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.propagation(adj, H.dtype) @ (H @ self.weight)


class GATLayer(nn.Module):
    """Velickovic et al. (2018), Eqs. 1-6: per head ``e_ij = LeakyReLU(a^T [W h_i || W h_j])``, softmax over
    ``j in N(i) + {i}``, output ``sum_j alpha_ij W h_j``; heads concatenated (``concat=True``) or averaged."""

    def __init__(self, in_dim: int, out_dim: int, heads: int = 1, concat: bool = True, slope: float = 0.2):
        super().__init__()
        self.heads, self.concat, self.slope = heads, concat, slope
        self.weight = _glorot(heads, in_dim, out_dim)
        self.att = nn.Parameter(_glorot(heads, 1, 2 * out_dim).data[:, 0].clone())

    def forward(self, H: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        n = H.shape[0]
        mask = adj | torch.eye(n, dtype=torch.bool, device=H.device)
        Wh = torch.einsum("nd,mdo->mno", H, self.weight)  # (M, N, out)
        o = Wh.shape[-1]
        src = (Wh * self.att[:, None, :o]).sum(-1)  # a_1^T W h_i
        dst = (Wh * self.att[:, None, o:]).sum(-1)  # a_2^T W h_j
        e = F.leaky_relu(src[:, :, None] + dst[:, None, :], self.slope)
        alpha = _masked_softmax(e, mask)
        out = alpha @ Wh  # (M, N, out)
        return out.permute(1, 0, 2).reshape(n, -1) if self.concat else out.mean(0)


class AGNNLayer(nn.Module):
    """Thekumparampil et al. (2018), Eqs. 6-7: ``P_i = softmax_{j in N(i)+{i}}(beta cos(h_i, h_j))``,
    ``H' = P H`` (a propagation layer: no weight matrix)."""

    def __init__(self, beta: float = 1.0, learn_beta: bool = True):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)), requires_grad=learn_beta)

    def forward(self, H: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        n = H.shape[0]
        mask = adj | torch.eye(n, dtype=torch.bool, device=H.device)
        Hn = F.normalize(H, dim=-1)
        return _masked_softmax(self.beta * (Hn @ Hn.T), mask) @ H


class TransformerLayer(nn.Module):
    """Multi-head self-attention over all nodes (Vaswani et al. 2017, Sect. 3.2.2) with Graphormer's spatial
    bias (Ying et al. 2021, Eq. 6): ``head_m = softmax(Q_m K_m^T / sqrt(d_k) + b_m[SPD]) V_m``,
    output ``concat_m(head_m) W^O``, plus ``H`` when ``residual`` (then ``out_dim`` must equal ``in_dim``).
    ``spd`` is an ``(N, N)`` long tensor of distance buckets in ``0..n_spd-1`` (see :func:`spd_buckets`)."""

    def __init__(self, in_dim: int, out_dim: int, heads: int, head_dim: int, n_spd: int = 0,
                 residual: bool = False):
        super().__init__()
        if residual and out_dim != in_dim:
            raise ValueError("a residual TransformerLayer needs out_dim == in_dim")
        self.heads, self.head_dim, self.residual = heads, head_dim, residual
        self.wq, self.wk, self.wv = (_glorot(heads, in_dim, head_dim) for _ in range(3))
        self.wo = _glorot(heads * head_dim, out_dim)
        self.spd_bias = nn.Parameter(torch.zeros(heads, n_spd)) if n_spd else None

    def forward(self, H: torch.Tensor, spd: torch.Tensor | None = None) -> torch.Tensor:
        n = H.shape[0]
        Q, K, V = (torch.einsum("nd,mdo->mno", H, w) for w in (self.wq, self.wk, self.wv))
        s = Q @ K.transpose(1, 2) / math.sqrt(self.head_dim)
        if self.spd_bias is not None:
            s = s + self.spd_bias[:, spd]
        out = (torch.softmax(s, -1) @ V).permute(1, 0, 2).reshape(n, -1) @ self.wo
        return H + out if self.residual else out


# ----------------------------------------------------------------------------------- the VAGNN layer


ATTNS = ("none", "cos", "gat", "self")
EXTS = ("none", "linear", "table")


class VirtualAdjacencyLayer(nn.Module):
    """One VAGNN layer (Liang et al. 2024, Eqs. 3-10) on an edge list of virtual-adjacency pairs.

    ``H' = COMBINE(H W0, A^_1 H W_1, ..., A^_M H W_M) W_O`` where, for each pair ``(i, j)`` in the virtual
    adjacency, ``a-_ij = ATTN(h_i, h_j) + EXT(v_i, v_j)`` and ``A^`` normalises ``a-`` per row:

    - ``normalisation="softmax"`` (Eq. 5) over the pairs of row ``i`` (``masked="exclude"``, our reading),
      or over all ``N`` nodes with score 0 for pairs outside the mask (``masked="zero"``: Eq. 6 as printed);
    - ``normalisation="exp"``: ``A^_ij = exp(a-_ij)`` without row normalisation (our extension; with
      ``EXT = -log sqrt(d_i d_j)`` it gives GCN's symmetric normalisation, which no row softmax can).

    ``attn``: ``"none"`` (0), ``"cos"`` (Eq. 7, ``beta_m cos(h_i, h_j)``), ``"gat"`` (Eq. 8,
    ``LeakyReLU(q_m . [h_i W_Q || h_j W_Q])``; ``tie_query_value`` uses ``W_m`` as ``W_Q`` as GAT does),
    ``"self"`` (Eq. 9, ``(h_i W_Q)(h_j W_K)^T / sqrt(d_A)``). ``ext``: ``"none"``, ``"linear"`` (Eq. 10,
    ``alpha_m SPD(i, j)``) or ``"table"`` (a learnable scalar per head and distance bucket, as Graphormer).
    ``values="identity"`` uses ``W_m = I`` (AGNN's propagation layer has no weights). ``residual=False``
    drops the ``H W0`` block (the same as ``W0 = 0``); ``out_proj=False`` takes ``W_O = I``.
    """

    def __init__(self, in_dim: int, head_dim: int, heads: int = 1, out_dim: int | None = None, *,
                 attn: str = "self", att_dim: int | None = None, ext: str = "none", n_spd: int = 0,
                 residual: bool = True, combine: str = "concat", out_proj: bool = True,
                 normalisation: str = "softmax", masked: str = "exclude", values: str = "linear",
                 tie_query_value: bool = False, gat_slope: float = 0.2):
        super().__init__()
        if attn not in ATTNS:
            raise ValueError(f"attn={attn!r}; allowed: {ATTNS}")
        if ext not in EXTS:
            raise ValueError(f"ext={ext!r}; allowed: {EXTS}")
        if combine not in ("concat", "mean"):
            raise ValueError(f"combine={combine!r}; allowed: 'concat', 'mean'")
        if normalisation not in ("softmax", "exp"):
            raise ValueError(f"normalisation={normalisation!r}; allowed: 'softmax', 'exp'")
        if masked not in ("exclude", "zero"):
            raise ValueError(f"masked={masked!r}; allowed: 'exclude', 'zero'")
        if masked == "zero" and normalisation != "softmax":
            raise ValueError("masked='zero' (Eq. 6 as printed) only makes sense with the softmax of Eq. 5")
        if values == "identity" and head_dim != in_dim:
            raise ValueError("values='identity' needs head_dim == in_dim")
        if ext == "table" and n_spd < 1:
            raise ValueError("ext='table' needs n_spd >= 1 distance buckets")
        self.in_dim, self.head_dim, self.heads = in_dim, head_dim, heads
        self.attn, self.ext, self.residual, self.combine = attn, ext, residual, combine
        self.normalisation, self.masked, self.values = normalisation, masked, values
        self.tie_query_value, self.gat_slope = tie_query_value, gat_slope
        self.att_dim = att_dim = att_dim or head_dim
        self.w_res = _glorot(in_dim, head_dim) if residual else None
        self.w_heads = _glorot(heads, in_dim, head_dim) if values == "linear" else None
        self.w_q = self.w_k = self.q = self.beta = self.alpha = self.table = None
        if attn == "gat":
            if tie_query_value:
                if values != "linear":
                    raise ValueError("tie_query_value needs values='linear'")
                self.att_dim = head_dim
            else:
                self.w_q = _glorot(heads, in_dim, att_dim)
            self.q = nn.Parameter(_glorot(heads, 1, 2 * self.att_dim).data[:, 0].clone())
        elif attn == "self":
            self.w_q, self.w_k = _glorot(heads, in_dim, att_dim), _glorot(heads, in_dim, att_dim)
        elif attn == "cos":
            self.beta = nn.Parameter(torch.ones(heads))
        if ext == "linear":
            self.alpha = nn.Parameter(torch.zeros(heads))
        elif ext == "table":
            self.table = nn.Parameter(torch.zeros(heads, n_spd))
        n_blocks = (heads + int(residual)) if combine == "concat" else 1
        self.out_dim = out_dim if out_proj else n_blocks * head_dim
        self.w_out = _glorot(n_blocks * head_dim, out_dim) if out_proj else None

    def scores(self, H: torch.Tensor, pairs: torch.Tensor, spd: torch.Tensor | None,
               bias: torch.Tensor | None) -> torch.Tensor:
        """``a-_ij`` for every pair, shape ``(P, M)`` (Eq. 6, first case)."""
        i, j = pairs
        P, M = pairs.shape[1], self.heads
        s = torch.zeros(P, M, dtype=H.dtype, device=H.device)
        if self.attn == "cos":
            Hn = F.normalize(H, dim=-1)
            s = s + (Hn[i] * Hn[j]).sum(-1, keepdim=True) * self.beta
        elif self.attn == "gat":
            wq = self.w_heads if self.tie_query_value else self.w_q
            Z = torch.einsum("nd,mda->nma", H, wq)  # (N, M, d_A)
            a = self.att_dim
            left = (Z * self.q[None, :, :a]).sum(-1)  # q_1 . h_i W_Q
            right = (Z * self.q[None, :, a:]).sum(-1)  # q_2 . h_j W_Q
            s = s + F.leaky_relu(left[i] + right[j], self.gat_slope)
        elif self.attn == "self":
            Q = torch.einsum("nd,mda->nma", H, self.w_q)
            K = torch.einsum("nd,mda->nma", H, self.w_k)
            s = s + (Q[i] * K[j]).sum(-1) / math.sqrt(self.att_dim)
        if self.ext == "linear":
            s = s + spd[:, None].to(H.dtype) * self.alpha
        elif self.ext == "table":
            s = s + self.table[:, spd].T
        if bias is not None:
            s = s + (bias[:, None] if bias.dim() == 1 else bias)
        return s

    def forward(self, H: torch.Tensor, pairs: torch.Tensor, spd: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        """``H`` (N, in); ``pairs`` (2, P) unique ``(i, j)`` pairs with ``i`` the aggregating node;
        ``spd`` (P,) long distances or buckets for ``ext``; ``bias`` (P,) or (P, M) added to every score."""
        n, (i, j) = H.shape[0], pairs
        s = self.scores(H, pairs, spd, bias)
        V = (torch.einsum("nd,mdo->nmo", H, self.w_heads) if self.w_heads is not None
             else H[:, None, :].expand(n, self.heads, self.in_dim))  # (N, M, d_O)
        if self.normalisation == "exp":
            w = s.exp()
            agg = torch.zeros(n, self.heads, self.head_dim, dtype=H.dtype, device=H.device)
            agg = agg.index_add(0, i, w[:, :, None] * V[j])
        elif self.masked == "exclude":
            w = segment_softmax(s, i, n)
            agg = torch.zeros(n, self.heads, self.head_dim, dtype=H.dtype, device=H.device)
            agg = agg.index_add(0, i, w[:, :, None] * V[j])
        else:  # Eq. 6 as printed: every pair outside the mask has score 0 and still enters the softmax
            idx = i[:, None].expand_as(s)
            mx = torch.zeros(n, self.heads, dtype=H.dtype, device=H.device)  # max over scores and the 0s
            mx = mx.scatter_reduce(0, idx, s, reduce="amax", include_self=True)
            ex = (s - mx[i]).exp()
            count = torch.zeros(n, dtype=H.dtype, device=H.device).index_add(0, i, torch.ones_like(i, dtype=H.dtype))
            e0 = (-mx).exp()  # weight of each node outside the mask, before normalisation
            den = torch.zeros_like(mx).index_add(0, i, ex) + (n - count)[:, None] * e0
            inside = torch.zeros(n, self.heads, self.head_dim, dtype=H.dtype, device=H.device)
            inside_v = inside.index_add(0, i, V[j])  # sum of V over the mask
            inside_w = inside.index_add(0, i, ex[:, :, None] * V[j])
            outside_v = V.sum(0, keepdim=True) - inside_v
            agg = (inside_w + e0[:, :, None] * outside_v) / den[:, :, None]
        blocks = [agg[:, m] for m in range(self.heads)]
        if self.residual:
            blocks = [H @ self.w_res] + blocks
        out = torch.cat(blocks, -1) if self.combine == "concat" else torch.stack(blocks).mean(0)
        return out @ self.w_out if self.w_out is not None else out


# ------------------------------------------------------------------- VAGNN configured as a reference


def _self_loop_pairs(adj: torch.Tensor) -> torch.Tensor:
    return pairs_from_mask((adj | torch.eye(adj.shape[0], dtype=torch.bool)).numpy())


def gcn_pair_bias(pairs: torch.Tensor, n: int, dtype=torch.float32) -> torch.Tensor:
    """``EXT_ij = -log sqrt(d~_i d~_j)`` per pair, with ``d~`` the number of pairs of each row (self-loop included)."""
    deg = torch.zeros(n, dtype=dtype).index_add(0, pairs[0], torch.ones(pairs.shape[1], dtype=dtype))
    return -0.5 * (deg[pairs[0]].log() + deg[pairs[1]].log())


def va_from_gcn(ref: GCNLayer, normalisation: str = "exp") -> VirtualAdjacencyLayer:
    """VAGNN as GCN: mask ``A + I``, no attention, ``W_1 = W``, no residual block, ``W_O = I``.

    With ``normalisation="exp"`` and ``EXT = gcn_pair_bias`` it is exactly GCN; with the softmax of Eq. 5 the
    same configuration averages over neighbours (``D~^-1 (A + I) H W``) whatever ``EXT`` is."""
    in_dim, out_dim = ref.weight.shape
    va = VirtualAdjacencyLayer(in_dim, out_dim, 1, attn="none", residual=False, out_proj=False,
                               normalisation=normalisation).to(ref.weight.dtype)
    with torch.no_grad():
        va.w_heads.copy_(ref.weight[None])
    return va


def va_from_gat(ref: GATLayer, masked: str = "exclude", general: bool = False) -> VirtualAdjacencyLayer:
    """VAGNN as GAT: mask ``A + I``, GAT-type attention with ``W_Q = W_m`` and ``q_m = a_m``.

    ``general=True`` keeps the residual block and ``W_O`` of Eqs. 3-4 and sets ``W0 = 0``, ``W_O = [0; I]``
    (concatenation), showing that the general layer contains GAT, not only a stripped-down copy."""
    M, in_dim, out_dim = ref.weight.shape
    combine = "concat" if ref.concat else "mean"
    if general and not ref.concat:
        raise ValueError("general=True is written for concatenated heads")
    va = VirtualAdjacencyLayer(in_dim, out_dim, M, M * out_dim if general else None, attn="gat",
                               tie_query_value=True, residual=general, out_proj=general, combine=combine,
                               masked=masked, gat_slope=ref.slope).to(ref.weight.dtype)
    with torch.no_grad():
        va.w_heads.copy_(ref.weight)
        va.q.copy_(ref.att)
        if general:
            va.w_res.zero_()
            va.w_out.copy_(torch.cat([torch.zeros(out_dim, M * out_dim), torch.eye(M * out_dim)]))
    return va


def va_from_agnn(ref: AGNNLayer, dim: int, masked: str = "exclude") -> VirtualAdjacencyLayer:
    """VAGNN as AGNN: mask ``A + I``, cosine attention with ``beta_1 = beta``, values ``W_1 = I``."""
    va = VirtualAdjacencyLayer(dim, dim, 1, attn="cos", values="identity", residual=False, out_proj=False,
                               masked=masked).to(ref.beta.dtype)
    with torch.no_grad():
        va.beta.copy_(ref.beta.detach()[None])
    return va


def va_from_transformer(ref: TransformerLayer) -> VirtualAdjacencyLayer:
    """VAGNN as a graph Transformer layer: all-ones mask, self-attention, ``EXT`` = the SPD bias table.

    Without residual: ``W_m = W_V,m``, ``W_O = W^O``. With residual the blocks are widened to ``d`` (``W_m =
    [W_V,m, 0]``), ``W0 = I`` and ``W_O`` stacks ``I`` over the zero-padded rows of ``W^O``: the residual
    head of Eq. 4 then carries ``H`` through unchanged."""
    M, in_dim, dk = ref.wq.shape
    out_dim = ref.wo.shape[1]
    n_spd = 0 if ref.spd_bias is None else ref.spd_bias.shape[1]
    ext = "table" if n_spd else "none"
    d_o = in_dim if ref.residual else dk
    va = VirtualAdjacencyLayer(in_dim, d_o, M, out_dim, attn="self", att_dim=dk, ext=ext, n_spd=n_spd,
                               residual=ref.residual, out_proj=True).to(ref.wq.dtype)
    with torch.no_grad():
        va.w_q.copy_(ref.wq)
        va.w_k.copy_(ref.wk)
        if n_spd:
            va.table.copy_(ref.spd_bias)
        if not ref.residual:
            va.w_heads.copy_(ref.wv)
            va.w_out.copy_(ref.wo)
        else:
            va.w_heads.zero_()
            va.w_heads[:, :, :dk] = ref.wv
            va.w_res.copy_(torch.eye(in_dim))
            wo = torch.zeros((M + 1) * in_dim, out_dim, dtype=ref.wo.dtype)
            wo[:in_dim] = torch.eye(in_dim, dtype=ref.wo.dtype)
            for m in range(M):
                start = (m + 1) * in_dim
                wo[start:start + dk] = ref.wo[m * dk:(m + 1) * dk]
            va.w_out.copy_(wo)
    return va


# ---------------------------------------------------------------------- virtual adjacency construction


def shortest_path_lengths(edge_index: torch.Tensor | np.ndarray, n: int) -> np.ndarray:
    """Hop distances, ``(n, n)`` int64, ``-1`` where no path exists (breadth-first search via SciPy)."""
    e = np.asarray(edge_index)
    A = coo_matrix((np.ones(e.shape[1]), (e[0], e[1])), shape=(n, n)).tocsr()
    D = shortest_path(A, method="D", unweighted=True, directed=True)
    out = np.where(np.isfinite(D), D, -1).astype(np.int64)
    return out


def spd_buckets(spd: np.ndarray, max_spd: int) -> np.ndarray:
    """Distances clipped to ``max_spd``; no path goes to bucket ``max_spd + 1`` (so ``max_spd + 2`` buckets)."""
    return np.where(spd < 0, max_spd + 1, np.minimum(spd, max_spd))


def remove_edges(edge_index: torch.Tensor, n_remove: int, rng: np.random.Generator) -> torch.Tensor:
    """Drop ``n_remove`` undirected edges chosen uniformly at random (both directions of each)."""
    e = np.asarray(edge_index)
    und = np.unique(np.sort(e.T, axis=1), axis=0)
    und = und[und[:, 0] != und[:, 1]]
    if n_remove < 0 or n_remove > len(und):
        raise ValueError(f"cannot remove {n_remove} of {len(und)} undirected edges")
    keep = np.sort(rng.permutation(len(und))[n_remove:])
    kept = und[keep]
    both = np.unique(np.concatenate([kept, kept[:, ::-1]]), axis=0)
    return torch.from_numpy(both.T.copy()).long()


def virtual_adjacency_mask(edge_index: torch.Tensor, n: int, *, rho: float = 0.0, hops: int = 1,
                           phi: float = 0.0, rng: np.random.Generator | None = None,
                           phi_scope: str = "total", self_loops: bool = True) -> np.ndarray:
    """Dense boolean virtual adjacency, built in the paper's three steps (Sect. 3.3 and 4.3):

    1. remove ``round(rho |E|)`` undirected actual edges at random (``|E|`` = undirected edges);
    2. join every node to all nodes within ``hops`` hops of the reduced graph (``A^1 + ... + A^hops``);
    3. add random *global* pairs not yet in the mask: ``round(phi |E|)`` undirected pairs in all
       (``phi_scope="total"``), or ``round(phi |E|)`` partners for every node (``"per_node"``, capped at the
       nodes left), the two readings of "randomly select phi|E| global nodes".

    ``hops=0`` with ``phi=0`` gives only self-loops; ``self_loops`` adds ``(i, i)`` (the ``{v_i}`` of Eq. 1).
    """
    if phi_scope not in ("total", "per_node"):
        raise ValueError(f"phi_scope={phi_scope!r}; allowed: 'total', 'per_node'")
    if not (0.0 <= rho <= 1.0) or phi < 0 or hops < 0:
        raise ValueError(f"need 0 <= rho <= 1, phi >= 0, hops >= 0; got rho={rho}, phi={phi}, hops={hops}")
    rng = rng if rng is not None else np.random.default_rng(0)
    n_edges = edge_index.shape[1] // 2
    e = remove_edges(edge_index, int(round(rho * n_edges)), rng) if rho > 0 else edge_index
    spd = shortest_path_lengths(e, n)
    mask = (spd >= 1) & (spd <= hops)
    if self_loops:
        np.fill_diagonal(mask, True)
    k = int(round(phi * n_edges))
    if k > 0:
        if phi_scope == "total":
            free = np.flatnonzero(np.triu(~mask, k=1))
            pick = free[rng.permutation(len(free))[:k]]
            r, c = np.divmod(pick, n)
            mask[r, c] = True
            mask[c, r] = True
        else:
            add = np.zeros_like(mask)
            for i in range(n):
                free = np.flatnonzero(~mask[i] & (np.arange(n) != i))
                add[i, free[rng.permutation(len(free))[:k]]] = True
            mask |= add
    return mask


def hits_at_k(pos: torch.Tensor, neg: torch.Tensor, k: int) -> float:
    """OGB's Hits@K: the fraction of positive scores above the K-th highest negative score (1 if < K negatives)."""
    if neg.numel() < k:
        return 1.0
    kth = torch.topk(neg.flatten(), k).values[-1]
    return float((pos > kth).float().mean())
