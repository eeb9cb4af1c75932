"""Graphs, hypergraphs and their Laplacians (reprobook.graphs): exact values on tiny inputs and invariants."""
import numpy as np
import pytest
from scipy.sparse.csgraph import laplacian as csgraph_laplacian
from sklearn.neighbors import kneighbors_graph

from reprobook import graphs


@pytest.fixture
def line():
    """Four points on a line at 0, 1, 3, 6."""
    return np.array([[0.0], [1.0], [3.0], [6.0]])


@pytest.fixture
def cloud():
    return np.random.default_rng(0).normal(size=(40, 3))


def test_knn_indices_exclude_self_and_sort_by_distance(line):
    idx, dist = graphs.knn_indices(line, 2)
    np.testing.assert_array_equal(idx, [[1, 2], [0, 2], [1, 0], [2, 1]])
    np.testing.assert_allclose(dist, [[1, 3], [1, 2], [2, 3], [3, 5]])


def test_heat_width_is_mean_squared_knn_distance(line):
    assert graphs.heat_width(line, 1) == pytest.approx((1 + 1 + 4 + 9) / 4)


def test_knn_heat_graph_exact_weights(line):
    W = graphs.knn_heat_graph(line, 1, t=2.0)
    # 1-NN: 0->1, 1->0, 2->1, 3->2; "or" symmetrisation joins 0-1, 1-2, 2-3
    e = np.exp
    expected = np.array([[0, e(-0.5), 0, 0],
                         [e(-0.5), 0, e(-2.0), 0],
                         [0, e(-2.0), 0, e(-4.5)],
                         [0, 0, e(-4.5), 0]])
    np.testing.assert_allclose(W, expected)


def test_knn_heat_graph_matches_sklearn_kneighbors_graph(cloud):
    W = graphs.knn_heat_graph(cloud, 5, t=1.7)
    D = kneighbors_graph(cloud, 5, mode="distance").toarray()
    A = np.where(D > 0, np.exp(-D ** 2 / 1.7), 0.0)
    np.testing.assert_allclose(W, np.maximum(A, A.T))


def test_graph_laplacian_rows_sum_to_zero_psd_and_matches_scipy(cloud):
    W = graphs.knn_heat_graph(cloud, 5)
    L = graphs.graph_laplacian(W)
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(L, np.diag(W.sum(1)) - W)
    assert np.linalg.eigvalsh(L).min() > -1e-10
    Ln = graphs.graph_laplacian(W, normalised=True)
    np.testing.assert_allclose(Ln, csgraph_laplacian(W, normed=True))
    ev = np.linalg.eigvalsh(Ln)
    assert ev.min() > -1e-10 and ev.max() <= 2 + 1e-10


def test_knn_hyperedges_one_edge_per_vertex(line):
    F = graphs.knn_hyperedges(line, 1)
    # edge e (column) = vertex e and its nearest neighbour
    np.testing.assert_array_equal(F, [[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1]])
    assert (F.sum(axis=0) == 2).all()


def test_hyperedge_weights_exact(line):
    F = np.array([[1, 1], [1, 0], [1, 1], [0, 0]], dtype=float)  # e0 = {0,1,2}, e1 = {0,2}
    w = graphs.hyperedge_weights(line, F, mu=2.0)
    e = np.exp
    w0 = 2 * (e(-1 / 2) + e(-9 / 2) + e(-4 / 2)) / (3 * 2)
    w1 = 2 * e(-9 / 2) / 2
    np.testing.assert_allclose(w, [w0, w1])


def test_zhou_laplacian_spectrum_and_null_vector(cloud):
    F = graphs.knn_hyperedges(cloud, 6)
    w = graphs.hyperedge_weights(cloud, F, mu=graphs.heat_width(cloud, 6))
    H = graphs.hypergraph_laplacian(F, w)
    np.testing.assert_allclose(H, H.T)
    ev = np.linalg.eigvalsh(H)
    assert ev.min() > -1e-10 and ev.max() <= 1 + 1e-10  # Zhou's Laplacian: eigenvalues in [0, 1]
    dv = F @ w
    np.testing.assert_allclose(H @ np.sqrt(dv), 0, atol=1e-12)  # D_v^{1/2} 1 spans the null space


def test_zhou_laplacian_ignores_a_common_weight_scale(cloud):
    F = graphs.knn_hyperedges(cloud, 4)
    w = graphs.hyperedge_weights(cloud, F, mu=1.0)
    np.testing.assert_allclose(graphs.hypergraph_laplacian(F, w), graphs.hypergraph_laplacian(F, 0.5 * w))


def test_two_uniform_hypergraph_is_half_the_normalised_graph_laplacian():
    # edges {0,1} w=2, {1,2} w=1, {0,2} w=0.5, {2,3} w=3
    edges, w = [(0, 1), (1, 2), (0, 2), (2, 3)], np.array([2.0, 1.0, 0.5, 3.0])
    F = np.zeros((4, 4))
    A = np.zeros((4, 4))
    for j, (a, b) in enumerate(edges):
        F[[a, b], j] = 1
        A[a, b] = A[b, a] = w[j]
    H = graphs.hypergraph_laplacian(F, w)
    np.testing.assert_allclose(H, 0.5 * csgraph_laplacian(A, normed=True), atol=1e-12)


def test_unnormalised_hypergraph_laplacian_exact():
    F = np.array([[1, 0], [1, 1], [1, 1]], dtype=float)  # e0 = {0,1,2} w=3, e1 = {1,2} w=2
    w = np.array([3.0, 2.0])
    H = graphs.hypergraph_laplacian(F, w, normalised=False)
    # D_v = diag(3, 5, 5); F W De^{-1} F^T = 3/3 * ones(3x3) + 2/2 * [[0,0,0],[0,1,1],[0,1,1]]
    expected = np.diag([3.0, 5.0, 5.0]) - np.array([[1, 1, 1], [1, 2, 2], [1, 2, 2]])
    np.testing.assert_allclose(H, expected)
    np.testing.assert_allclose(H.sum(axis=1), 0)


def test_bad_inputs_are_refused(line):
    with pytest.raises(ValueError):
        graphs.knn_indices(line, 4)
    with pytest.raises(ValueError):
        graphs.graph_laplacian(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError):
        graphs.hyperedge_weights(line, np.eye(4), mu=0.0)


# --- sparse 0/1 constructions and modularity (chapter icpr2024-09) ---


def test_knn_adjacency_union_and_mutual_on_a_line(line):
    # 1-NN of 0, 1, 3, 6: 0->1, 1->0, 3->1, 6->3.
    union = graphs.knn_adjacency(line, 1, mode="union").toarray()
    mutual = graphs.knn_adjacency(line, 1, mode="mutual").toarray()
    expected_union = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    np.testing.assert_array_equal(union, expected_union)
    np.testing.assert_array_equal(mutual, [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])


def test_knn_adjacency_matches_sklearn_connectivity(cloud):
    B = kneighbors_graph(cloud, 5, mode="connectivity", include_self=False)
    np.testing.assert_array_equal(graphs.knn_adjacency(cloud, 5).toarray(), B.maximum(B.T).toarray())
    np.testing.assert_array_equal(graphs.knn_adjacency(cloud, 5, mode="mutual").toarray(),
                                  B.minimum(B.T).toarray())


def test_epsilon_graph_and_radius_for_mean_degree(line):
    # pairwise distances: 1, 2, 3, 3, 5, 6; eps = 2 joins (0,1) and (1,3).
    np.testing.assert_array_equal(graphs.epsilon_adjacency(line, 2.0).toarray(),
                                  [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    assert graphs.epsilon_for_mean_degree(line, 1.0) == 2.0  # 2 edges wanted -> second smallest distance
    assert graphs.epsilon_for_mean_degree(line, 3.0) == 6.0  # complete graph
    with pytest.raises(ValueError):
        graphs.epsilon_adjacency(line, 0.0)


def test_modularity_of_two_triangles_closed_form():
    # Two triangles joined by one edge: m = 7, Q = 2 * (3/7 - (7/14)^2) = 5/14.
    A = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        A[i, j] = A[j, i] = 1
    assert graphs.modularity(A, [0, 0, 0, 1, 1, 1]) == pytest.approx(5 / 14)
    assert graphs.modularity(A, [0] * 6) == pytest.approx(0.0)
    assert graphs.modularity(np.zeros((3, 3)), [0, 1, 2]) == 0.0


def test_modularity_matches_networkx_on_a_weighted_graph(cloud):
    import networkx as nx
    from networkx.algorithms.community import modularity as nx_modularity

    W = graphs.knn_heat_graph(cloud, 5)
    labels = np.random.default_rng(1).integers(0, 4, len(cloud))
    G = nx.from_numpy_array(W)
    comms = [set(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    assert graphs.modularity(W, labels) == pytest.approx(nx_modularity(G, comms, weight="weight"), abs=1e-12)
    with pytest.raises(ValueError):
        graphs.modularity(np.triu(W), labels)  # not symmetric
