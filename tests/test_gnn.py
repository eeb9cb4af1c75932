"""Plain-torch GNN layers and the virtual-adjacency (VAGNN) layer of chapter iconip2024-11 (reprobook.gnn).

The reference layers are checked against closed forms, networkx and torch.nn.MultiheadAttention; the VAGNN
layer is then checked to reproduce each reference number for number (float64), and to fail to where the
paper's equations as printed cannot (GCN's symmetric normalisation under a row softmax; Eq. 6's zeros).
"""
import math

import networkx as nx
import numpy as np
import pytest
import torch

from reprobook import gnn

TOL = 1e-12


@pytest.fixture
def graph():
    G = nx.stochastic_block_model([9, 11, 7], [[.5, .1, .05], [.1, .4, .1], [.05, .1, .6]], seed=3)
    G.add_node(27)  # an isolated node: only its self-loop in A + I
    n = G.number_of_nodes()
    ei = gnn.edge_index_from_networkx(G)
    adj = gnn.dense_adjacency(ei, n)
    torch.manual_seed(0)
    H = torch.randn(n, 6, dtype=torch.float64)
    pairs = gnn.pairs_from_mask((adj | torch.eye(n, dtype=torch.bool)).numpy())
    return G, n, ei, adj, H, pairs


def _maxdiff(a, b):
    return float((a - b).detach().abs().max())


# ------------------------------------------------------------------------------ the reference layers


def test_edge_index_and_adjacency(graph):
    G, n, ei, adj, _, _ = graph
    assert ei.shape[1] == 2 * G.number_of_edges()
    np.testing.assert_array_equal(adj.numpy(), nx.to_numpy_array(G, nodelist=range(n)) > 0)


def test_gcn_propagation_is_networkx_normalised_adjacency(graph):
    """D~^-1/2 (A+I) D~^-1/2 = I - L_sym of the graph with self-loops (networkx's normalised Laplacian)."""
    G, n, _, adj, _, _ = graph
    Gs = G.copy()
    Gs.add_edges_from((v, v) for v in Gs)
    L = nx.normalized_laplacian_matrix(Gs, nodelist=range(n)).toarray()
    np.testing.assert_allclose(gnn.GCNLayer.propagation(adj, torch.float64).numpy(), np.eye(n) - L, atol=1e-14)


def test_gat_reference_against_a_loop_over_nodes(graph):
    _, n, _, adj, H, _ = graph
    gat = gnn.GATLayer(6, 3, heads=2).double()
    out = gat(H, adj).detach()
    W, a = gat.weight.detach(), gat.att.detach()
    for i in [0, 5, 27]:
        nb = [i] + [j for j in range(n) if adj[i, j]]
        for m in range(2):
            Wh = H @ W[m]
            e = torch.stack([torch.nn.functional.leaky_relu(a[m] @ torch.cat([Wh[i], Wh[j]]), 0.2) for j in nb])
            ref = (torch.softmax(e, 0)[:, None] * Wh[nb]).sum(0)
            np.testing.assert_allclose(out[i, 3 * m:3 * m + 3].numpy(), ref.numpy(), atol=1e-13)


def test_gat_with_zero_attention_vector_is_the_neighbour_mean(graph):
    _, n, _, adj, H, _ = graph
    gat = gnn.GATLayer(6, 3, heads=1).double()
    with torch.no_grad():
        gat.att.zero_()
    A = adj.double() + torch.eye(n, dtype=torch.float64)
    np.testing.assert_allclose(gat(H, adj).detach(), (A / A.sum(1, keepdim=True)) @ H @ gat.weight[0].detach(),
                               atol=1e-13)


def test_agnn_limits(graph):
    """beta = 0 averages over N(i) + {i}; a huge beta keeps h_i (cos = 1 is the unique maximum here)."""
    _, n, _, adj, H, _ = graph
    A = adj.double() + torch.eye(n, dtype=torch.float64)
    np.testing.assert_allclose(gnn.AGNNLayer(0.0).double()(H, adj).detach(), (A / A.sum(1, keepdim=True)) @ H,
                               atol=1e-13)
    np.testing.assert_allclose(gnn.AGNNLayer(1e4).double()(H, adj).detach(), H, atol=1e-8)


def test_transformer_reference_matches_torch_multihead_attention(graph):
    _, n, _, _, H, _ = graph
    tr = gnn.TransformerLayer(6, 6, heads=2, head_dim=3).double()
    mha = torch.nn.MultiheadAttention(6, 2, bias=False, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.cat(list(w), 1).T for w in (tr.wq, tr.wk, tr.wv)]))
        mha.out_proj.weight.copy_(tr.wo.T)
    ref = mha(H[None], H[None], H[None], need_weights=False)[0][0]
    assert _maxdiff(tr(H), ref) < TOL


def test_shortest_paths_match_networkx(graph):
    G, n, ei, *_ = graph
    D = gnn.shortest_path_lengths(ei, n)
    lengths = dict(nx.all_pairs_shortest_path_length(G))
    for i in range(n):
        for j in range(n):
            assert D[i, j] == lengths[i].get(j, -1)
    B = gnn.spd_buckets(D, 2)
    assert B.max() == 3 and (B[D < 0] == 3).all() and (B[D > 2] == 2).all()


# ---------------------------------------------------------------------- VAGNN reproduces the references


def test_segment_softmax_equals_dense_masked_softmax(graph):
    _, n, _, adj, _, pairs = graph
    s = torch.randn(pairs.shape[1], 2, dtype=torch.float64)
    w = gnn.segment_softmax(s, pairs[0], n)
    dense = torch.full((2, n, n), -math.inf, dtype=torch.float64)
    dense[:, pairs[0], pairs[1]] = s.T
    np.testing.assert_allclose(w.T, torch.softmax(dense, -1)[:, pairs[0], pairs[1]], atol=1e-15)


def test_vagnn_is_gcn_with_exp_normalisation_and_degree_ext(graph):
    _, n, _, adj, H, pairs = graph
    g = gnn.GCNLayer(6, 4).double()
    va = gnn.va_from_gcn(g, "exp")
    assert _maxdiff(va(H, pairs, bias=gnn.gcn_pair_bias(pairs, n, torch.float64)), g(H, adj)) < TOL


def test_vagnn_softmax_gives_the_mean_not_gcn_on_an_irregular_graph(graph):
    """Eq. 5 normalises every row to 1, so it reaches D~^-1 (A+I) H W, never GCN's D~^-1/2 (A+I) D~^-1/2."""
    _, n, _, adj, H, pairs = graph
    g = gnn.GCNLayer(6, 4).double()
    va = gnn.va_from_gcn(g, "softmax")
    A = adj.double() + torch.eye(n, dtype=torch.float64)
    for bias in (None, gnn.gcn_pair_bias(pairs, n, torch.float64)):
        out = va(H, pairs, bias=bias)
        assert _maxdiff(out, g(H, adj)) > 1e-2
    assert _maxdiff(va(H, pairs), (A / A.sum(1, keepdim=True)) @ H @ g.weight) < TOL


def test_vagnn_softmax_is_gcn_on_a_regular_graph():
    G = nx.circulant_graph(12, [1, 3])  # 4-regular: symmetric and row normalisation coincide
    n, ei = 12, gnn.edge_index_from_networkx(G)
    adj = gnn.dense_adjacency(ei, n)
    pairs = gnn.pairs_from_mask((adj | torch.eye(n, dtype=torch.bool)).numpy())
    H = torch.randn(n, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    g = gnn.GCNLayer(5, 3).double()
    assert _maxdiff(gnn.va_from_gcn(g, "softmax")(H, pairs), g(H, adj)) < TOL


@pytest.mark.parametrize("general", [False, True])
def test_vagnn_is_gat(graph, general):
    _, _, _, adj, H, pairs = graph
    gat = gnn.GATLayer(6, 4, heads=3).double()
    assert _maxdiff(gnn.va_from_gat(gat, general=general)(H, pairs), gat(H, adj)) < TOL


def test_vagnn_is_gat_with_mean_heads_and_same_gradients(graph):
    _, _, _, adj, H, pairs = graph
    gat = gnn.GATLayer(6, 4, heads=2, concat=False).double()
    va = gnn.va_from_gat(gat)
    (gat(H, adj) ** 2).sum().backward()
    (va(H, pairs) ** 2).sum().backward()
    assert _maxdiff(gat.weight.grad, va.w_heads.grad) < 1e-11
    assert _maxdiff(gat.att.grad, va.q.grad) < 1e-11


def test_eq6_as_printed_is_not_gat_but_equals_a_dense_softmax_with_zeros(graph):
    _, n, _, adj, H, pairs = graph
    gat = gnn.GATLayer(6, 4, heads=2).double()
    literal = gnn.va_from_gat(gat, masked="zero")
    assert _maxdiff(literal(H, pairs), gat(H, adj)) > 1e-2
    s = literal.scores(H, pairs, None, None)
    S = torch.zeros(2, n, n, dtype=torch.float64)
    S[:, pairs[0], pairs[1]] = s.T
    V = torch.einsum("nd,mdo->mno", H, literal.w_heads)
    dense = (torch.softmax(S, -1) @ V).permute(1, 0, 2).reshape(n, -1)
    assert _maxdiff(literal(H, pairs), dense) < TOL


def test_eq6_readings_agree_when_the_mask_is_full(graph):
    _, n, _, _, H, _ = graph
    full = gnn.pairs_from_mask(np.ones((n, n), bool))
    a = gnn.VirtualAdjacencyLayer(6, 3, 2, 5, attn="self").double()
    b = gnn.VirtualAdjacencyLayer(6, 3, 2, 5, attn="self", masked="zero").double()
    b.load_state_dict(a.state_dict())
    assert _maxdiff(a(H, full), b(H, full)) < TOL


def test_vagnn_is_agnn(graph):
    _, _, _, adj, H, pairs = graph
    ag = gnn.AGNNLayer(1.7).double()
    assert _maxdiff(gnn.va_from_agnn(ag, 6)(H, pairs), ag(H, adj)) < TOL


@pytest.mark.parametrize("residual", [False, True])
def test_vagnn_is_a_graph_transformer_with_spd_bias(graph, residual):
    _, n, ei, _, H, _ = graph
    spd = torch.from_numpy(gnn.spd_buckets(gnn.shortest_path_lengths(ei, n), 4))
    tr = gnn.TransformerLayer(6, 6, heads=2, head_dim=3, n_spd=6, residual=residual).double()
    with torch.no_grad():
        tr.spd_bias.normal_()
    full = gnn.pairs_from_mask(np.ones((n, n), bool))
    va = gnn.va_from_transformer(tr)
    assert _maxdiff(va(H, full, spd=spd[full[0], full[1]]), tr(H, spd)) < TOL


def test_linear_ext_equals_a_linear_table(graph):
    """Eq. 10's alpha * SPD is the special case of Graphormer's table whose entries grow linearly."""
    _, n, ei, _, H, _ = graph
    spd = torch.from_numpy(gnn.spd_buckets(gnn.shortest_path_lengths(ei, n), 4))
    full = gnn.pairs_from_mask(np.ones((n, n), bool))
    lin = gnn.VirtualAdjacencyLayer(6, 3, 2, 4, attn="self", ext="linear").double()
    tab = gnn.VirtualAdjacencyLayer(6, 3, 2, 4, attn="self", ext="table", n_spd=6).double()
    with torch.no_grad():
        lin.alpha.copy_(torch.tensor([-0.7, 0.4]))
        state = {k: v for k, v in lin.state_dict().items() if k != "alpha"}
        tab.load_state_dict({**state, "table": lin.alpha[:, None] * torch.arange(6.0, dtype=torch.float64)})
    s = spd[full[0], full[1]]
    assert _maxdiff(lin(H, full, spd=s), tab(H, full, spd=s)) < TOL


# -------------------------------------------------------------------- virtual adjacency and Hits@K


def test_khop_mask_matches_networkx(graph):
    G, n, ei, *_ = graph
    for hops in (1, 2, 3):
        mask = gnn.virtual_adjacency_mask(ei, n, hops=hops)
        for i in range(n):
            within = set(nx.single_source_shortest_path_length(G, i, cutoff=hops))
            assert set(np.flatnonzero(mask[i])) == within


def test_edge_removal_and_global_pairs_counts(graph):
    _, n, ei, *_ = graph
    n_edges = ei.shape[1] // 2
    rng = np.random.default_rng(0)
    e = gnn.remove_edges(ei, 5, rng)
    assert e.shape[1] == 2 * (n_edges - 5)
    assert set(map(tuple, e.T.tolist())) < set(map(tuple, ei.T.tolist()))
    base = gnn.virtual_adjacency_mask(ei, n, hops=1)
    phi = 0.25
    mask = gnn.virtual_adjacency_mask(ei, n, hops=1, phi=phi, rng=np.random.default_rng(1))
    assert (mask == mask.T).all() and (mask >= base).all()
    assert mask.sum() - base.sum() == 2 * round(phi * n_edges)
    per = gnn.virtual_adjacency_mask(ei, n, hops=1, phi=0.05, rng=np.random.default_rng(1), phi_scope="per_node")
    k = round(0.05 * n_edges)
    np.testing.assert_array_equal(per.sum(1) - base.sum(1), np.minimum(k, n - base.sum(1)))
    cut = gnn.virtual_adjacency_mask(ei, n, rho=0.2, hops=1, rng=np.random.default_rng(2))
    assert base.sum() - cut.sum() == 2 * round(0.2 * n_edges)
    with pytest.raises(ValueError):
        gnn.virtual_adjacency_mask(ei, n, rho=1.5)


def test_hits_at_k():
    pos = torch.tensor([3.0, 2.0, 1.0])
    neg = torch.tensor([2.5, 0.0, 1.5])
    assert gnn.hits_at_k(pos, neg, 1) == pytest.approx(1 / 3)  # only 3.0 beats the best negative 2.5
    assert gnn.hits_at_k(pos, neg, 2) == pytest.approx(2 / 3)  # the 2nd negative is 1.5
    assert gnn.hits_at_k(pos, neg, 3) == pytest.approx(1.0)
    assert gnn.hits_at_k(pos, neg, 4) == 1.0  # fewer negatives than K


def test_bad_options_raise():
    with pytest.raises(ValueError):
        gnn.VirtualAdjacencyLayer(4, 4, attn="dot")
    with pytest.raises(ValueError):
        gnn.VirtualAdjacencyLayer(4, 4, normalisation="exp", masked="zero")
