import itertools
import math

import numpy as np
import pytest

from reprobook import routing as R


def _instance(seed, n, dmax=30, Q=100.0):
    rng = np.random.default_rng(seed)
    dist = R.euclidean(rng.uniform(0, 100, (n + 1, 2)))
    demand = np.r_[0.0, rng.integers(1, dmax + 1, n)].astype(float)
    return dist, demand, Q


def _triangle():
    # depot 0 and customers 1, 2 at mutual distance 1 (the paper's example in Sect. 1)
    return np.ones((3, 3)) - np.eye(3)


def test_route_cost_matches_the_papers_worked_example():
    # load 8, deliver 2 at v1 and 2 at v2: edge loads 8, 6, 4 -> Cu = 3a + 18b
    for a, b in [(1.0, 0.0), (0.0, 1.0), (2.0, 3.0)]:
        assert R.route_cost(_triangle(), [1, 2], [2, 2], a, b, start_load=8) == pytest.approx(3 * a + 18 * b)


def test_route_cost_hand_computed_line_instance():
    # depot at 0, customers at x = 1, 3 on a line; deliver 5 then 2, start with exactly 7
    x = np.array([0.0, 1.0, 3.0])
    dist = np.abs(x[:, None] - x[None, :])
    # edges: 0->1 len 1 load 7; 1->2 len 2 load 2; 2->0 len 3 load 0
    a, b = 10.0, 1.0
    assert R.route_cost(dist, [1, 2], [5, 2], a, b) == pytest.approx(a * 6 + b * (7 * 1 + 2 * 2 + 0 * 3))
    # the reverse order carries the heavy demand further: 0->2 (3, load 7), 2->1 (2, load 5), 1->0 (1, 0)
    assert R.route_cost(dist, [2, 1], [2, 5], a, b) == pytest.approx(a * 6 + b * (21 + 10))
    assert R.itinerary_cost(dist, [([1], [5]), ([2], [2])], a, b) == pytest.approx(a * 8 + b * (5 + 6))
    with pytest.raises(ValueError):
        R.route_cost(dist, [1, 2], [5, 2], a, b, start_load=3)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ab", [(100.0, 1.0), (10.0, 1.0), (1.0, 0.0)])
def test_exact_dp_equals_brute_force_on_tiny_instances(seed, ab):
    n = 4 + seed % 3  # 4, 5, 6 customers
    dist, demand, Q = _instance(seed, n, dmax=45)
    a, b = ab
    assert R.exact_unsplittable(dist, demand, Q, a, b) == pytest.approx(
        R.brute_force_unsplittable(dist, demand, Q, a, b), rel=1e-12)


def test_exact_dp_reduces_to_tsp_when_everything_fits_and_b_is_zero():
    dist, demand, _ = _instance(3, 7, dmax=5)
    tau, _ = R.held_karp(dist)
    assert R.exact_unsplittable(dist, demand, 1e6, 2.0, 0.0) == pytest.approx(2.0 * tau)


def test_exact_dp_with_a_zero_is_sum_of_direct_deliveries():
    # a = 0: carrying cost only; the best is one direct trip per customer, cost sum d_i l_i
    dist, demand, Q = _instance(4, 6)
    assert R.exact_unsplittable(dist, demand, Q, 0.0, 1.0) == pytest.approx(np.dot(demand[1:], dist[0, 1:]))


@pytest.mark.parametrize("seed", range(4))
def test_held_karp_matches_permutations_and_heuristics_are_valid(seed):
    dist, _, _ = _instance(seed, 7)
    tau, order = R.held_karp(dist)
    brute = min(R.tour_length(dist, p) for p in itertools.permutations(range(1, 8)))
    assert tau == pytest.approx(brute) and R.tour_length(dist, order) == pytest.approx(tau)
    ch = R.christofides(dist)
    assert sorted(ch) == list(range(1, 8))
    assert tau - 1e-9 <= R.tour_length(dist, ch) <= 1.5 * tau + 1e-9
    ls = R.local_search(dist, ch)
    assert sorted(ls) == list(range(1, 8)) and R.tour_length(dist, ls) <= R.tour_length(dist, ch) + 1e-9
    lb = R.one_tree_bound(dist, R.tour_length(dist, ls))
    assert 0.9 * tau <= lb <= tau + 1e-9


def test_christofides_is_within_one_and_a_half_on_larger_instances():
    dist, _, _ = _instance(11, 12)
    tau, _ = R.held_karp(dist)
    assert R.tour_length(dist, R.christofides(dist)) <= 1.5 * tau + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_partition_dp_equals_enumeration_of_cuts(seed):
    dist, demand, Q = _instance(seed, 7, dmax=40)
    order = list(np.random.default_rng(seed).permutation(np.arange(1, 8)))
    a, b = Q, 1.0
    cost, segs = R.partition_tour(dist, order, demand, Q, a, b)
    assert [v for s in segs for v in s] == order
    assert all(sum(demand[v] for v in s) <= Q for s in segs)
    assert cost == pytest.approx(R.itinerary_cost(dist, [(s, [demand[v] for v in s]) for s in segs], a, b))
    best = np.inf
    for cuts in itertools.product([0, 1], repeat=6):
        pieces, cur = [], [order[0]]
        for v, c in zip(order[1:], cuts):
            if c:
                pieces.append(cur)
                cur = []
            cur.append(v)
        pieces.append(cur)
        if all(sum(demand[v] for v in p) <= Q for p in pieces):
            best = min(best, sum(R.route_cost(dist, p, [demand[v] for v in p], a, b) for p in pieces))
    assert cost == pytest.approx(best)
    assert cost >= R.exact_unsplittable(dist, demand, Q, a, b) - 1e-6


@pytest.mark.parametrize("Qp", [100.0, 37.0, 12.5])
def test_split_expectation_equals_theorem_1_closed_form(Qp):
    # Lemmas 3 and 4 hold with equality for known demands: E = (a + b Q'/2) w(T) + (2a/Q' + b) sum d_i l_i,
    # also when some d_i > Q' (Case 2 of Theorem 1)
    dist, demand, Q = _instance(5, 9)
    order = R.christofides(dist)
    a, b = 30.0, 1.0
    exact = R.expected_over_theta(R.split_policy, dist, order, demand, Qp, a, b)
    closed = (a + b * Qp / 2) * R.tour_length(dist, order) + (2 * a / Qp + b) * np.dot(demand[1:], dist[0, 1:])
    assert exact == pytest.approx(closed, rel=1e-10)
    mc = np.mean([R.split_policy(dist, order, demand, Qp, t, a, b)
                  for t in np.random.default_rng(0).uniform(0, Qp, 4000)])
    assert mc == pytest.approx(closed, rel=0.01)


def test_unsplit_expectation_closed_form_without_shortcut():
    # d_i <= Q': an extra double visit with prob d_i/Q' costs 4a l_i + b (2L + Q') l_i, L ~ U[0, d_i)
    dist, demand, Q = _instance(6, 9)
    order = R.christofides(dist)
    a, b, Qp = 30.0, 1.0, 40.0
    exact = R.expected_over_theta(R.unsplit_policy, dist, order, demand, Qp, a, b, shortcut=False)
    closed = (a + b * Qp / 2) * R.tour_length(dist, order) + sum(
        4 * a * demand[i] * dist[0, i] / Qp + b * demand[i] * dist[0, i] * (1 + demand[i] / Qp) for i in order)
    assert exact == pytest.approx(closed, rel=1e-10)
    shortcut = R.expected_over_theta(R.unsplit_policy, dist, order, demand, Qp, a, b, shortcut=True)
    assert shortcut <= exact + 1e-9


@pytest.mark.parametrize("Qp", [100.0, 23.0])
def test_loads_follow_lemma_2_and_unsplit_keeps_them_lemma_5(Qp):
    dist, demand, Q = _instance(7, 10)
    order = R.christofides(dist)
    S = np.concatenate([[0.0], np.cumsum(demand[order])])
    for theta in [0.0, 3.3, 0.5 * Qp, Qp - 1e-6]:
        _, ls = R.split_policy(dist, order, demand, Qp, theta, 1.0, 1.0, record_loads=True)
        _, lu = R.unsplit_policy(dist, order, demand, Qp, theta, 1.0, 1.0, record_loads=True)
        formula = [theta + math.ceil((s - theta) / Qp) * Qp - s for s in S]
        assert ls == pytest.approx(formula, abs=1e-9) and lu == pytest.approx(formula, abs=1e-9)
        assert max(ls) < Qp + 1e-9 and min(ls) >= -1e-9


def test_lemma1_bound_is_below_the_optimum():
    for seed in range(3):
        dist, demand, Q = _instance(seed, 7)
        tau, _ = R.held_karp(dist)
        for a, b in [(Q, 1.0), (5.0, 1.0)]:
            assert R.lemma1_lower_bound(dist, demand, Q, a, b, tau) <= R.exact_unsplittable(dist, demand, Q, a, b)


@pytest.mark.parametrize("shortcut", [False, True])
@pytest.mark.parametrize("Qp", [100.0, 17.0])
def test_demand_expectation_is_exact_against_full_enumeration(shortcut, Qp):
    # 4 customers with 3-point demand laws: enumerate all 81 joint realisations and compare
    dist, demand, Q = _instance(8, 4)
    order = R.christofides(dist)
    rng = np.random.default_rng(1)
    vals = [None] + [np.array([0.0, demand[i], 2 * demand[i]]) for i in range(1, 5)]
    probs = [None] + [rng.dirichlet(np.ones(3)) for _ in range(4)]
    full = 0.0
    for combo in itertools.product(range(3), repeat=4):
        d = np.r_[0.0, [vals[i + 1][c] for i, c in enumerate(combo)]]
        p = np.prod([probs[i + 1][c] for i, c in enumerate(combo)])
        full += p * R.expected_over_theta(R.unsplit_policy, dist, order, d, Qp, 30.0, 1.0, shortcut=shortcut)
    fast = R.expected_over_demands(R.unsplit_policy, dist, order, vals, probs, Qp, 30.0, 1.0, shortcut=shortcut)
    assert fast == pytest.approx(full, rel=1e-10)
    # SPLIT is linear in the demands: the expectation equals the cost at the mean demands
    mean = np.r_[0.0, [np.dot(vals[i], probs[i]) for i in range(1, 5)]]
    assert R.expected_over_demands(R.split_policy, dist, order, vals, probs, Qp, 30.0, 1.0) == pytest.approx(
        R.expected_over_theta(R.split_policy, dist, order, mean, Qp, 30.0, 1.0), rel=1e-10)
