"""MSM (multi-stage multicuts): stage bookkeeping, label propagation, parallel = serial, the bound h."""
import math

import numpy as np
import pytest

from reprobook import msm as M
from reprobook.cluster import clustering_scores
from reprobook.multicut import complete_edges, costs_from_distances, embedding_blobs, solve_multicut


def test_one_stage_is_the_global_solve():
    Z, _ = embedding_blobs(120, 4, 8, hard=0.3, seed=0)
    uv, d = complete_edges(Z)
    direct = solve_multicut(len(Z), uv, costs_from_distances(d, math.sqrt(0.6)))
    res = M.msm(Z, (1,))
    assert np.array_equal(res.labels, direct)
    assert res.stages[0].nodes == [120] and res.stages[0].edges == [120 * 119 // 2]


def test_hand_example_two_parts_merge_through_centroids():
    # four points on a line, two tight pairs 5 apart; tau = 1. Whatever the random split, the final
    # clusters are the two pairs: parts find the pairs (or singletons), centroids of one pair coincide.
    Z = np.array([[0.0], [0.1], [5.0], [5.1]])
    spec = M.GraphSpec(tau=1.0)
    for seed in range(5):
        res = M.msm(Z, (2, 1), first=spec, seed=seed)
        assert res.labels[0] == res.labels[1] != res.labels[2] == res.labels[3]
        s1, s2 = res.stages
        assert s1.nodes == [2, 2]
        assert s2.nodes == [sum(s1.clusters)]  # Eq. 3.2: next stage's nodes = clusters found before
        assert s2.clusters == [2]


@pytest.mark.parametrize("stages", [(2, 1), (4, 1), (8, 1), (8, 2, 1), (16, 4, 1)])
def test_separable_blobs_are_recovered_by_every_stage_plan(stages):
    Z, y = embedding_blobs(800, 10, 32, seed=1)
    res = M.msm(Z, stages, seed=2)
    assert clustering_scores(y, res.labels)["acc"] == 1.0
    assert len(res.stages) == len(stages) and [len(s.nodes) for s in res.stages] == list(stages)
    assert sum(res.stages[0].nodes) == 800
    for prev, cur in zip(res.stages, res.stages[1:]):
        assert sum(cur.nodes) == sum(prev.clusters)


def test_knn_first_stage_and_size_weighted_merge_run():
    Z, y = embedding_blobs(600, 6, 16, seed=3)
    res = M.msm(Z, (3, 1), first=M.GraphSpec(kind="knn", k=10),
                merge=M.GraphSpec(size_weighted=True), seed=0)
    assert clustering_scores(y, res.labels)["acc"] == 1.0
    assert res.stages[0].edges[0] < 200 * 199 // 2


def test_parallel_workers_give_the_same_labels_as_serial():
    Z, _ = embedding_blobs(900, 8, 16, hard=0.3, seed=5)
    serial = M.msm(Z, (6, 2, 1), seed=7)
    with M.worker_pool(2) as pool:
        parallel = M.msm(Z, (6, 2, 1), seed=7, executor=pool)
    assert np.array_equal(serial.labels, parallel.labels)
    assert [s.nodes for s in serial.stages] == [s.nodes for s in parallel.stages]


def test_bad_stage_plans_and_specs_are_rejected():
    Z = np.zeros((10, 2))
    for bad, match in [((2, 2, 1), "strictly decrease"), ((2,), "exactly one part"), ((), "non-empty"),
                       ((0, 1), "positive"), ((20, 1), "at most one part per point")]:
        with pytest.raises(ValueError, match=match):
            M.msm(Z, bad)
    with pytest.raises(ValueError, match="kind"):
        M.GraphSpec(kind="mst")
    with pytest.raises(ValueError, match="sparsity"):
        M.GraphSpec(sparsity=1.5)
    with pytest.raises(ValueError, match="finite"):
        M.msm(np.array([[np.nan, 0.0]]), (1,))


def test_bound_h_values_and_cubic_work():
    # values of h(p, L) (Eq. 3.25) computed by hand from the formula
    assert M.bound_h(0.5, 2) == pytest.approx(0.125 * (math.pi ** 2 / 6 - 0.25) + 0.25)
    assert M.bound_h(1.0, 3) == pytest.approx(math.pi ** 2 / 6)  # p = 1: no reduction, h = zeta(2)
    assert M.bound_h(0.1, 4) == pytest.approx(1e-9 * (math.pi ** 2 / 6 - 1 / 16) + 1 / 16)
    assert M.cubic_work([3, 1]) == 9.0  # 3^2 * 2 / 2 + 1 * 0 / 2
    with pytest.raises(ValueError):
        M.bound_h(0.0, 2)


def test_measured_work_stays_below_the_bound_on_blobs():
    Z, _ = embedding_blobs(1000, 10, 16, seed=0)
    res = M.msm(Z, (8, 1))
    n = len(Z)
    work = sum(s.work for s in res.stages)
    p = sum(res.stages[1].nodes) / n  # p_1 = g_2 / g_1
    assert work < M.bound_h(p, 2) * n * n * (n - 1) / 2


def test_node_ratios_and_assumption_2_on_a_hand_made_result():
    def fake(g):
        stages = [M.StageStats(k + 1, [n], [1], [0], [0.0], [0.0]) for k, n in enumerate(g)]
        return M.MSMResult(labels=np.zeros(1, int), stages=stages)
    res = fake([100, 25, 20])  # p_1 = 0.25, p_2 = 0.8 >= 0.25 ** (1/2) = 0.5
    assert res.node_ratios() == [0.25, 0.8] and res.satisfies_assumption_2()
    assert not fake([100, 25, 10]).satisfies_assumption_2()  # p_2 = 0.4 < 0.5
    assert fake([100, 90]).satisfies_assumption_2()  # nothing to check with L = 2
