"""Exact checks of reprobook.walks: CTQW evolution against scipy's expm, closed forms, coverage statistics."""
import itertools

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from reprobook import walks


def _laplacian(A):
    A = np.asarray(A, dtype=float)
    return np.diag(A.sum(1)) - A


def _random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    A = np.triu((rng.random((n, n)) < p).astype(float), 1)
    A = A + A.T
    A[np.arange(n - 1), np.arange(1, n)] = A[np.arange(1, n), np.arange(n - 1)] = 1.0  # a path keeps it connected
    return A


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.7, 10.0])
def test_unitary_matches_scipy_expm(t):
    L = _laplacian(_random_graph(9, 0.4, 1))
    np.testing.assert_allclose(walks.ctqw_unitary(L, t), expm(-1j * L * t), atol=1e-10)


def test_unitary_is_unitary_and_conserves_probability():
    L = _laplacian(_random_graph(12, 0.3, 2))
    for t in (0.5, 1.0, 7.0):
        U = walks.ctqw_unitary(L, t)
        np.testing.assert_allclose(U @ U.conj().T, np.eye(12), atol=1e-10)
    P = walks.ctqw_probabilities(L, np.arange(20), start=3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(P[0], np.eye(12)[3], atol=1e-12)
    # the Laplacian walk and the walk with a shifted Hamiltonian L + cI differ only by a global phase
    np.testing.assert_allclose(walks.ctqw_probabilities(L + 3.0 * np.eye(12), np.arange(20), 3), P, atol=1e-10)


def test_two_node_closed_form():
    # L = [[1, -1], [-1, 1]] has eigenvalues 0 and 2: the walker is on the other node with probability sin^2 t
    L = _laplacian([[0, 1], [1, 0]])
    t = np.linspace(0, 5, 11)
    P = walks.ctqw_probabilities(L, t, start=0)
    np.testing.assert_allclose(P[:, 1], np.sin(t) ** 2, atol=1e-12)
    np.testing.assert_allclose(P[:, 0], np.cos(t) ** 2, atol=1e-12)


@pytest.mark.parametrize("n", [3, 5, 8])
def test_complete_graph_closed_form(n):
    # L = nI - J: U(t) = exp(-int)(I - J/n) + J/n, so P_stay = 1 - 2(n-1)/n^2 (1 - cos nt)
    L = _laplacian(np.ones((n, n)) - np.eye(n))
    t = np.linspace(0, 3, 13)
    P = walks.ctqw_probabilities(L, t, start=0)
    stay = 1 - 2 * (n - 1) / n**2 * (1 - np.cos(n * t))
    np.testing.assert_allclose(P[:, 0], stay, atol=1e-12)
    np.testing.assert_allclose(P[:, 1:], np.repeat(((1 - stay) / (n - 1))[:, None], n - 1, 1), atol=1e-12)


def test_exact_coverage_equals_enumeration_of_all_draw_sequences():
    A = _random_graph(4, 0.5, 3)
    L = _laplacian(A)
    presence = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=float)  # node 2 hosts two categories
    n_steps = 4
    cov = walks.ctqw_category_coverage(L, presence, n_steps)
    P = np.stack([walks.ctqw_probabilities(L, np.arange(n_steps), i) for i in range(4)])  # (start, s, node)
    for i in range(4):
        for t in range(1, n_steps + 1):
            expected = 0.0
            for seq in itertools.product(range(4), repeat=t - 1):  # draws at s = 1..t-1; s = 0 is the start
                prob = np.prod([P[i, s + 1, j] for s, j in enumerate(seq)])
                met = presence[[i, *seq]].max(axis=0).sum()
                expected += prob * met
            assert cov[i, t - 1] == pytest.approx(expected, abs=1e-12)


def test_exact_coverage_handles_several_layouts_at_once():
    L = _laplacian(_random_graph(6, 0.4, 4))
    rng = np.random.default_rng(0)
    p1 = np.eye(3)[rng.integers(0, 3, 6)]
    p2 = np.eye(2)[rng.integers(0, 2, 6)]
    both = walks.ctqw_category_coverage(L, [p1, p2], 7)
    np.testing.assert_allclose(both[0], walks.ctqw_category_coverage(L, p1, 7))
    np.testing.assert_allclose(both[1], walks.ctqw_category_coverage(L, p2, 7))


def test_sampled_coverage_converges_to_exact():
    A = _random_graph(7, 0.3, 5)
    L = _laplacian(A)
    presence = np.eye(3)[[0, 0, 1, 1, 2, 0, 1]]
    exact = walks.ctqw_category_coverage(L, presence, 6)
    sampled = walks.ctqw_category_coverage_sampled(L, presence, 6, num=20000, rng=np.random.default_rng(0))
    np.testing.assert_allclose(sampled[:, 0], presence.sum(1))  # visit 0 is the start node, with certainty
    # standard error of a mean of counts in [0, 3] with 20000 walks is below 0.011; allow 4 s.e.
    np.testing.assert_allclose(sampled, exact, atol=0.045)


def test_random_walk_on_triangle():
    # three nodes, three categories: visit 1 surely meets a second category, then each step finds the
    # third with probability 1/2, so the mean count after t visits is 3 - 2^-(t-2) for t >= 2
    A = np.ones((3, 3)) - np.eye(3)
    cov = walks.random_walk_coverage(A, np.eye(3), 8, num=20000, rng=np.random.default_rng(1))
    expected = np.array([1.0] + [3 - 0.5 ** (t - 2) for t in range(2, 9)])
    np.testing.assert_allclose(cov, np.tile(expected, (3, 1)), atol=0.02)
    np.testing.assert_allclose(cov[:, :2], [[1, 2]] * 3)  # no randomness in the first two visits


def test_random_walk_stop_at_keeps_convergence_times():
    A = np.ones((3, 3)) - np.eye(3)
    cov = walks.random_walk_coverage(A, np.eye(3), 12, num=20000, rng=np.random.default_rng(4), stop_at=2.4)
    # the mean count is 2 after visit 2 and about 2.5 (3 - 2^-1, s.e. 0.004) after visit 3, where the walkers
    # stop; afterwards the curve is held, not advanced
    np.testing.assert_allclose(cov[:, 3:], cov[:, 2:3].repeat(9, axis=1))
    np.testing.assert_array_equal(walks.convergence_times(cov, 3, [0.5, 2.4 / 3]), [[2, 3]] * 3)
    assert np.all(cov[:, -1] < 2.6)  # without stop_at it would approach 3


def test_random_walk_stays_on_its_component():
    A = np.zeros((4, 4))
    A[0, 1] = A[1, 0] = A[2, 3] = A[3, 2] = 1.0
    cov = walks.random_walk_coverage(A, np.eye(4), 30, num=50, rng=np.random.default_rng(2))
    np.testing.assert_allclose(cov[:, -1], 2.0)  # each component hosts two categories only


def test_convergence_times_by_hand():
    cov = np.array([1.0, 1.5, 2.2, 3.0])
    q = np.array([0.1, 1 / 3, 0.5, 0.7, 1.0])
    # thresholds 0.3, 1, 1.5, 2.1, 3 (C = 3)
    np.testing.assert_array_equal(walks.convergence_times(cov, 3, q), [1, 1, 2, 3, 4])
    # a curve that never reaches the threshold is censored at n_steps + 1
    np.testing.assert_array_equal(walks.convergence_times(np.array([[1.0, 1.2]]), 3, [0.5, 0.2]), [[3, 1]])
    with pytest.raises(ValueError):
        walks.convergence_times(cov, 3, [0.0])


def test_spatial_indicators_and_deviation():
    Q = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    ind = walks.spatial_indicators(Q)
    np.testing.assert_allclose(ind["mu"], [3.0, 2.0])
    np.testing.assert_allclose(ind["sigma"], np.var(Q, axis=0))
    np.testing.assert_allclose(ind["H"], [entropy(Q[:, 0]), np.log(3)])
    assert walks.integrated_abs_difference([1, 2, 3], [2, 2, 1], dq=0.5) == pytest.approx(1.5)


def test_js_divergence_matches_scipy():
    rng = np.random.default_rng(3)
    p, q = rng.random(10), rng.random(10)
    assert walks.js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert walks.js_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    assert walks.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
