"""Multicut core: input checks, costs, graphs, bioimage-cpp solvers against exact oracles, metrics."""
from itertools import combinations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from reprobook import multicut as mc
from reprobook.cluster import clustering_scores, purity


# ------------------------------------------------------------------------------------------- oracles
def set_partitions(n):
    """All partitions of range(n) as label arrays (restricted growth strings)."""
    def grow(prefix, top):
        if len(prefix) == n:
            yield np.array(prefix)
            return
        for lab in range(top + 2):
            yield from grow(prefix + [lab], max(top, lab))
    yield from grow([0], 0) if n else iter(())


def brute_force(n, uv, costs, luv=None, lcosts=None):
    """Minimum energy over all partitions; with lifted edges only partitions into connected clusters."""
    best = np.inf
    for labels in set_partitions(n):
        if luv is not None:
            comp = mc._components(n, uv, labels[uv[:, 0]] == labels[uv[:, 1]])
            if len(np.unique(comp)) != len(np.unique(labels)):
                continue  # a cluster is not connected in the base graph: not a decomposition
            e = mc.multicut_energy(uv, costs, labels) + mc.multicut_energy(luv, lcosts, labels)
        else:
            e = mc.multicut_energy(uv, costs, labels)
        best = min(best, e)
    return best


def random_graph(n, density, rng):
    pairs = np.array(list(combinations(range(n), 2)))
    keep = rng.random(len(pairs)) < density
    uv = pairs[keep]
    return uv, rng.normal(size=len(uv))


def test_partition_enumeration_counts_bell_numbers():
    assert [sum(1 for _ in set_partitions(n)) for n in range(1, 8)] == [1, 2, 5, 15, 52, 203, 877]


# -------------------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("n, uv, c, match", [
    (0, np.zeros((0, 2), int), [], "empty graph"),
    (3, [[0, 3]], [1.0], "outside"),
    (3, [[-1, 2]], [1.0], "outside"),
    (3, [[0, 1], [1, 2]], [1.0], "2 edges but 1 costs"),
    (3, [[0, 1]], [np.nan], "finite"),
    (3, [[0, 1]], [np.inf], "finite"),
    (3, [[1, 1]], [1.0], "self-loop"),
    (3, [[0, 1], [1, 0]], [1.0, 2.0], "appears 2 times"),
    (3, [0, 1], [1.0], "shape"),
])
def test_bad_problems_fail_with_one_clear_line_before_the_solver(n, uv, c, match, monkeypatch):
    import bioimage_cpp

    def boom(*a, **k):  # the solver must not be reached
        raise AssertionError("solver called")
    monkeypatch.setattr(bioimage_cpp.graph, "undirected_graph", boom)
    with pytest.raises(ValueError, match=match) as err:
        mc.solve_multicut(n, uv, c)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=match):
        mc.exact_multicut(n, uv, c)


def test_type_errors_and_bad_solver_names():
    with pytest.raises(TypeError, match="integer node ids"):
        mc.solve_multicut(3, [[0.5, 1]], [1.0])
    with pytest.raises(TypeError, match="n_nodes"):
        mc.solve_multicut(3.0, [[0, 1]], [1.0])
    with pytest.raises(ValueError, match="solver='ilp'"):
        mc.solve_multicut(3, [[0, 1]], [1.0], solver="ilp")
    with pytest.raises(ValueError, match="also a base edge"):
        mc.solve_lifted_multicut(3, [[0, 1], [1, 2]], [1.0, 1.0], [[1, 0]], [1.0])
    with pytest.raises(ValueError, match="lifted edge 0"):
        mc.solve_lifted_multicut(3, [[0, 1]], [1.0], [[0, 7]], [1.0])


def test_graph_without_edges_gives_singletons():
    assert mc.solve_multicut(4, np.zeros((0, 2), int), []).tolist() == [0, 1, 2, 3]


# --------------------------------------------------------------------------------------- hand examples
def test_triangle_hand_example_and_energy_convention():
    # A-B attract (+2), both repel C (-1 each): cut C off, energy = the two cut costs = -2
    uv, c = np.array([[0, 1], [0, 2], [1, 2]]), np.array([2.0, -1.0, -1.0])
    for solver in mc.SOLVERS:
        labels = mc.solve_multicut(3, uv, c, solver=solver)
        assert labels.tolist() == [0, 0, 1], solver
    labels, energy = mc.exact_multicut(3, uv, c)
    assert labels.tolist() == [0, 0, 1] and energy == -2.0
    assert mc.multicut_energy(uv, c, [0, 1, 2]) == c.sum() and mc.multicut_energy(uv, c, [5, 5, 5]) == 0.0


def test_our_energy_equals_bioimage_cpp_energy():
    import bioimage_cpp as bic

    rng = np.random.default_rng(1)
    uv, c = random_graph(9, 0.6, rng)
    labels = rng.integers(0, 3, 9)
    obj = bic.graph.multicut.MulticutObjective(mc._bic_graph(9, uv), c)
    assert mc.multicut_energy(uv, c, labels) == pytest.approx(obj.energy(labels.astype(np.uint64)))


def test_lifted_edge_changes_the_cost_but_not_the_feasible_set():
    # base path A - B - C with costs +0.5 (A-B) and -1 (B-C); A and C strongly attract (+5).
    # As an ordinary edge, A-C puts A and C together without B (energy 0.5 - 1 = -0.5); as a lifted edge
    # A and C can only share a cluster through B, so the optimum joins all three (energy 0).
    uv, c = np.array([[0, 1], [1, 2]]), np.array([0.5, -1.0])
    plain = mc.solve_multicut(3, np.vstack([uv, [[0, 2]]]), np.r_[c, 5.0])
    assert plain.tolist() == [0, 1, 0]
    for solver in mc.LIFTED_SOLVERS:
        lifted = mc.solve_lifted_multicut(3, uv, c, [[0, 2]], [5.0], solver=solver)
        assert lifted.tolist() == [0, 0, 0], solver
    assert brute_force(3, uv, c, np.array([[0, 2]]), np.array([5.0])) == 0.0


# ------------------------------------------------------------------------------------ exact oracles
@pytest.mark.parametrize("seed", range(6))
def test_exact_ilp_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    uv, c = random_graph(n, rng.uniform(0.4, 1.0), rng)
    labels, energy = mc.exact_multicut(n, uv, c)
    assert energy == pytest.approx(brute_force(n, uv, c))
    assert mc.multicut_energy(uv, c, labels) == pytest.approx(energy)


def test_gaec_kl_is_never_below_the_optimum_and_usually_reaches_it():
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(40):
        n = int(rng.integers(4, 13))
        uv, c = random_graph(n, rng.uniform(0.3, 1.0), rng)
        if len(uv) == 0:
            continue
        _, opt = mc.exact_multicut(n, uv, c)
        heur = mc.multicut_energy(uv, c, mc.solve_multicut(n, uv, c, solver="gaec+kl"))
        gaps.append(heur - opt)
    gaps = np.array(gaps)
    assert (gaps >= -1e-9).all()
    assert np.mean(gaps < 1e-9) >= 0.75  # measured: most random instances are solved exactly


def test_lifted_solvers_are_never_below_the_brute_force_optimum():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(15):
        n = int(rng.integers(4, 8))
        pairs = np.array(list(combinations(range(n), 2)))
        base = rng.random(len(pairs)) < 0.5
        if not base.any() or base.all():
            continue
        uv, luv = pairs[base], pairs[~base]
        c, lc = rng.normal(size=len(uv)), rng.normal(size=len(luv))
        opt = brute_force(n, uv, c, luv, lc)
        labels = mc.solve_lifted_multicut(n, uv, c, luv, lc)
        e = mc.lifted_energy(uv, c, luv, lc, labels)
        # the returned clusters are connected in the base graph, so the two energies agree
        assert e == pytest.approx(mc.multicut_energy(uv, c, labels) + mc.multicut_energy(luv, lc, labels))
        assert e >= opt - 1e-9
        hits += e <= opt + 1e-9
    assert hits >= 8


# -------------------------------------------------------------------------------------------- costs
def test_logit_costs_sign_bias_and_equivalence_with_distance_costs():
    assert mc.costs_from_probabilities([0.5, 0.1, 0.9]).tolist() == pytest.approx([0.0, np.log(9), -np.log(9)])
    assert mc.costs_from_probabilities([0.3], bias=0.3)[0] == pytest.approx(0.0)  # boundary moves to the bias
    assert np.isfinite(mc.costs_from_probabilities([0.0, 1.0])).all()
    d, tau, w = np.linspace(0, 2, 9), 0.8, 3.0
    p_cut = 1 / (1 + np.exp(-w * (d - tau)))
    assert mc.costs_from_probabilities(p_cut, eps=1e-12) == pytest.approx(w * mc.costs_from_distances(d, tau))
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        mc.costs_from_probabilities([1.5])
    with pytest.raises(ValueError, match="bias"):
        mc.costs_from_probabilities([0.5], bias=1.0)


def test_fit_distance_threshold_recovers_the_boundary():
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 2, 4000)
    same = rng.random(4000) > 1 / (1 + np.exp(-6 * (d - 0.9)))  # true boundary 0.9, slope 6
    tau, w = mc.fit_distance_threshold(d, same)
    assert tau == pytest.approx(0.9, abs=0.05) and w == pytest.approx(6, rel=0.25)
    with pytest.raises(ValueError, match="both"):
        mc.fit_distance_threshold([0.1, 0.2], [True, True])


# ------------------------------------------------------------------------------------------- graphs
def test_knn_edges_match_brute_force_neighbours():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(30, 4))
    uv, d = mc.knn_edges(Z, 3)
    D = squareform(pdist(Z))
    np.fill_diagonal(D, np.inf)
    nbrs = np.argsort(D, axis=1)[:, :3]
    expected = {(min(i, j), max(i, j)) for i in range(30) for j in nbrs[i]}
    assert set(map(tuple, uv.tolist())) == expected and len(uv) == len(expected)
    assert (uv[:, 0] < uv[:, 1]).all()
    assert d == pytest.approx(D[uv[:, 0], uv[:, 1]])
    assert len(mc.knn_edges(Z[:3], 10)[0]) == 3  # k capped at n - 1: the triangle


def test_complete_edges_distances_and_sparsity():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 5))
    uv, d = mc.complete_edges(Z)
    assert len(uv) == 40 * 39 // 2 and d == pytest.approx(pdist(Z))
    uv2, d2 = mc.complete_edges(Z, sparsity=0.25, rng=1)
    assert 0.15 * 780 < len(uv2) < 0.35 * 780
    assert d2 == pytest.approx(np.linalg.norm(Z[uv2[:, 0]] - Z[uv2[:, 1]], axis=1))
    with pytest.raises(ValueError, match="sparsity"):
        mc.complete_edges(Z, sparsity=0.0)
    with pytest.raises(ValueError, match="NaN"):
        mc.knn_edges(np.array([[0.0], [np.nan]]), 1)


def test_embedding_blobs_are_balanced_deterministic_and_separable():
    Z, y = mc.embedding_blobs(503, 10, 32, seed=4)
    assert Z.shape == (503, 32) and np.bincount(y).min() == 50
    Z2, y2 = mc.embedding_blobs(503, 10, 32, seed=4)
    assert np.array_equal(Z, Z2) and np.array_equal(y, y2)
    uv, d = mc.complete_edges(Z)
    same = y[uv[:, 0]] == y[uv[:, 1]]
    # the defaults straddle the TL3 threshold: typical same-class distance 0.08 * 8 = 0.64 < 0.775, and no
    # different-class pair comes closer than it
    assert np.median(d[same]) == pytest.approx(0.64, abs=0.03) and np.mean(d[same] < np.sqrt(0.6)) > 0.95
    assert d[~same].min() > np.sqrt(0.6)
    labels = mc.solve_multicut(len(Z), uv, mc.costs_from_distances(d, np.sqrt(0.6)))
    assert clustering_scores(y, labels)["acc"] == 1.0


# ------------------------------------------------------------------------------------------ metrics
def test_clustering_scores_hand_example():
    y = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 1, 2, 2, 3]  # each class split in two; two singletons
    s = clustering_scores(y, pred)
    assert s["acc"] == pytest.approx(4 / 6) and s["purity"] == 1.0
    assert (s["n_clusters"], s["n_singletons"]) == (4, 2)
    assert purity([0, 0, 1, 1], [0, 0, 0, 0]) == 0.5
    perfect = clustering_scores(y, [7, 7, 7, 3, 3, 3])
    assert perfect["nmi"] == pytest.approx(1.0) and perfect["ari"] == pytest.approx(1.0)
