import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from reprobook import ged


def path(n, node=6, edge=1):
    E = np.zeros((n, n), dtype=int)
    for i in range(n - 1):
        E[i, i + 1] = E[i + 1, i] = edge
    return ged.LabelledGraph(np.full(n, node), E)


def random_graph(rng, n, node_labels=2, edge_labels=2, p=0.5):
    E = np.zeros((n, n), dtype=int)
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < p:
            E[i, j] = E[j, i] = rng.integers(1, edge_labels + 1)
    return ged.LabelledGraph(rng.integers(0, node_labels, n), E)


def all_partial_maps(n, m):
    """Every injective map from n nodes into m nodes or -1 (deletion)."""
    for k in range(min(n, m) + 1):
        for src in itertools.combinations(range(n), k):
            for dst in itertools.permutations(range(m), k):
                f = np.full(n, -1)
                f[list(src)] = dst
                yield f


def test_identical_graph_has_distance_zero_and_empty_graph_closed_form():
    g = ged.from_mol("CC(=O)Nc1ccc(O)cc1")  # paracetamol: 11 heavy atoms, 11 bonds
    assert ged.bp_ged(g, g) == 0.0
    empty = ged.LabelledGraph(np.zeros(0), np.zeros((0, 0)))
    c = ged.EditCosts(node_sub=1, node_indel=2, edge_sub=1, edge_indel=3)
    assert ged.bp_ged(g, empty, c) == 2 * 11 + 3 * 11  # delete every node and every bond
    assert ged.bp_ged(empty, g, c) == 2 * 11 + 3 * 11


def test_paths_and_relabelling_exact_values():
    assert ged.exact_ged(path(3), path(4)) == 2.0  # insert one node and one edge
    # the assignment ties (an end may go to an end or to a middle node at equal LSA cost), and a tie can
    # induce a worse edit path: BP-GED is an upper bound, not the exact distance
    assert ged.bp_ged(path(3), path(4)) in (2.0, 4.0)
    assert ged.bp_ged(path(3), path(3, node=7)) == 3.0  # substitute three node labels
    assert ged.bp_ged(path(3), path(3, edge=2), ged.EditCosts(edge_sub=0.5)) == 1.0  # two edge labels


def test_from_mol_labels_atoms_and_bond_types():
    g = ged.from_mol("CC(=O)O")  # acetic acid
    np.testing.assert_array_equal(g.nodes, [6, 6, 8, 8])
    assert g.edges[1, 2] == ged.BOND_CODES["DOUBLE"] and g.edges[1, 3] == ged.BOND_CODES["SINGLE"]
    b = ged.from_mol("c1ccccc1")
    assert b.n_edges == 6 and set(b.edges[b.edges > 0]) == {ged.BOND_CODES["AROMATIC"]}
    np.testing.assert_array_equal(b.degrees, 2)


def test_networkx_round_trip():
    g = ged.from_mol("OC(=O)c1ccccc1N")
    back = ged.from_networkx(ged.to_networkx(g))
    np.testing.assert_array_equal(back.nodes, g.nodes)
    np.testing.assert_array_equal(back.edges, g.edges)


@pytest.mark.parametrize("seed", range(4))
def test_edit_path_cost_minimised_over_all_maps_is_networkx_exact_ged(seed):
    rng = np.random.default_rng(seed)
    c = ged.EditCosts(node_sub=1.0, node_indel=1.5, edge_sub=0.7, edge_indel=1.0)
    g1, g2 = random_graph(rng, 3), random_graph(rng, 4)
    brute = min(ged.edit_path_cost(g1, g2, f, c) for f in all_partial_maps(3, 4))
    assert brute == pytest.approx(ged.exact_ged(g1, g2, c))


@pytest.mark.parametrize("seed", range(6))
def test_bp_ged_is_an_upper_bound_of_exact_ged(seed):
    rng = np.random.default_rng(100 + seed)
    c = ged.EditCosts(node_sub=rng.uniform(0.5, 2), node_indel=1.0, edge_sub=rng.uniform(0.2, 3), edge_indel=1.0)
    g1, g2 = random_graph(rng, 5), random_graph(rng, 4)
    bp = ged.bp_ged(g1, g2, c)
    assert bp >= ged.exact_ged(g1, g2, c) - 1e-9
    # and BP-GED is the true cost of its own node map
    assert bp == pytest.approx(ged.edit_path_cost(g1, g2, ged.bp_mapping(g1, g2, c), c))


@pytest.mark.parametrize("edge_sub", [0.5, 1.0, 3.0])
def test_closed_form_star_cost_equals_an_explicit_assignment(edge_sub):
    """The substitution entries use the closed-form star matching; solve the same matching as an LSA."""
    rng = np.random.default_rng(7)
    c = ged.EditCosts(node_sub=1.0, node_indel=1.0, edge_sub=edge_sub, edge_indel=1.0)
    g1, g2 = random_graph(rng, 6, edge_labels=3, p=0.7), random_graph(rng, 5, edge_labels=3, p=0.7)
    C = ged.bp_cost_matrix(g1, g2, c)
    for i in range(6):
        for j in range(5):
            a, b = g1.edges[i][g1.edges[i] > 0], g2.edges[j][g2.edges[j] > 0]
            k, m = len(a), len(b)
            S = np.zeros((k + m, k + m))  # substitutions | deletions ; insertions | 0
            S[:k, :m] = edge_sub * (a[:, None] != b[None, :])
            S[:k, m:] = np.where(np.eye(k) > 0, 1.0, np.inf)
            S[k:, :m] = np.where(np.eye(m) > 0, 1.0, np.inf)
            r, q = linear_sum_assignment(S)
            star = S[r, q].sum()
            node = float(g1.nodes[i] != g2.nodes[j])
            assert C[i, j] == pytest.approx(node + 0.5 * star)


def test_dissimilarity_matrix_shape_parallel_and_errors():
    gs = [ged.from_mol(s) for s in ("CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCCC1")]
    D = ged.dissimilarity_matrix(gs)
    assert D.shape == (5, 5) and np.all(np.diag(D) == 0) and np.all(D >= 0)
    assert D[0, 1] == 1.0  # ethanol -> ethylamine: one node label
    np.testing.assert_array_equal(ged.dissimilarity_matrix(gs[:2], gs), D[:2])
    from joblib import parallel_config

    with parallel_config(backend="threading"):  # the chunking logic, without the cost of starting processes
        np.testing.assert_array_equal(ged.dissimilarity_matrix(gs, n_jobs=2), D)
    with pytest.raises(ValueError, match="n_jobs"):
        ged.dissimilarity_matrix(gs, n_jobs=0)
    with pytest.raises(ValueError, match="at least one"):
        ged.dissimilarity_matrix([])


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="symmetric"):
        ged.LabelledGraph([1, 1], [[0, 1], [0, 0]])
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        ged.LabelledGraph([1, 1, 1], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="node_indel"):
        ged.EditCosts(node_indel=-1)
    with pytest.raises(ValueError, match="distinct"):
        ged.edit_path_cost(path(2), path(2), [0, 0])


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "icpr2024-24"


def test_read_tu_dataset_fixture_exact_graphs(tmp_path):
    graphs, classes = ged.read_tu_dataset(FIXTURES, "TOY")
    np.testing.assert_array_equal(classes, [1, -1, 1])
    assert [g.n_nodes for g in graphs] == [3, 2, 1]
    np.testing.assert_array_equal(graphs[0].nodes, [0, 0, 2])
    np.testing.assert_array_equal(graphs[0].edges, [[0, 2, 0], [2, 0, 1], [0, 1, 0]])  # TU labels shifted by +1
    np.testing.assert_array_equal(graphs[1].edges, [[0, 3], [3, 0]])
    np.testing.assert_array_equal(graphs[2].nodes, [3])
    assert graphs[2].n_edges == 0
    # the same files directly under data_root work too, and without label files every label is the default
    for f in ("TOY_A.txt", "TOY_graph_indicator.txt", "TOY_graph_labels.txt"):
        (tmp_path / f).write_text((FIXTURES / "TOY" / f).read_text())
    bare, _ = ged.read_tu_dataset(tmp_path, "TOY")
    np.testing.assert_array_equal(bare[0].nodes, [0, 0, 0])
    np.testing.assert_array_equal(bare[0].edges, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_read_tu_dataset_missing_says_where_to_put_it(tmp_path):
    with pytest.raises(ged.TUDatasetNotFound, match=r"MUTAG_A\.txt"):
        ged.read_tu_dataset(tmp_path, "MUTAG")
