import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from torch import nn

from reprobook.federated import (ClientBatches, cosine_divergence, dirichlet_split, divergence_weights,
                                 label_counts, project_to_simplex, proximal_penalty, weighted_average)


# ------------------------------------------------------------------------------------------------ splits
@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0, 100.0])
def test_dirichlet_split_is_a_partition(beta):
    labels = np.repeat(np.arange(10), 50)
    parts = dirichlet_split(labels, 20, beta, seed=3)
    assert len(parts) == 20
    joined = np.concatenate(parts)
    assert np.array_equal(np.sort(joined), np.arange(labels.size))  # every index exactly once
    assert all(p.size >= 1 and np.all(np.diff(p) > 0) for p in parts)


def test_dirichlet_split_is_deterministic_and_seed_dependent():
    labels = np.repeat(np.arange(5), 40)
    a = dirichlet_split(labels, 8, 0.5, seed=1)
    b = dirichlet_split(labels, 8, 0.5, seed=1)
    c = dirichlet_split(labels, 8, 0.5, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_small_beta_skews_labels_more_than_large_beta():
    labels = np.repeat(np.arange(10), 200)

    def mean_max_share(beta):
        counts = label_counts(labels, dirichlet_split(labels, 20, beta, seed=0), 10)
        return float((counts.max(1) / counts.sum(1)).mean())

    # one dominant class per client at beta = 0.1; close to the uniform 1/10 at beta = 1000
    assert mean_max_share(0.1) > 0.6
    assert mean_max_share(1000.0) < 0.2


def test_label_counts_exact():
    labels = np.array([0, 1, 1, 2, 2, 2])
    counts = label_counts(labels, [np.array([0, 1]), np.array([2, 3, 4, 5])], 4)
    assert counts.tolist() == [[1, 1, 0, 0], [0, 1, 3, 0]]


def test_min_size_is_respected_and_impossible_requests_fail_clearly():
    labels = np.repeat(np.arange(10), 30)
    parts = dirichlet_split(labels, 10, 0.5, seed=0, min_size=10)
    assert min(p.size for p in parts) >= 10
    with pytest.raises(ValueError, match="at least 40 examples"):
        dirichlet_split(labels, 10, 0.5, min_size=40)
    with pytest.raises(ValueError, match="beta must be a positive"):
        dirichlet_split(labels, 10, 0.0)
    with pytest.raises(ValueError, match="n_clients"):
        dirichlet_split(labels, 0, 1.0)


# ------------------------------------------------------------------------------------------ mini-batches
def test_client_batches_cover_the_data_once_per_epoch_and_repeat_by_seed():
    x = torch.arange(10.0)[:, None]
    y = torch.arange(10)
    loader = ClientBatches(x, y, 4, seed=5)
    assert len(loader) == 3
    epoch = [yb for _, yb in loader]
    assert [len(b) for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat(epoch).tolist()) == list(range(10))
    second = torch.cat([yb for _, yb in loader])
    assert not torch.equal(torch.cat(epoch), second)  # reshuffled
    again = ClientBatches(x, y, 4, seed=5)
    assert torch.equal(torch.cat([yb for _, yb in again]), torch.cat(epoch))


# ----------------------------------------------------------------------------------------- aggregation
def _net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_fedavg_of_identical_models_is_the_identity_bit_for_bit():
    net = _net(0)
    state = net.state_dict()
    avg = weighted_average([state, state, state], [0.3, 0.2, 0.5])
    assert all(torch.equal(avg[k], state[k]) for k in state)


def test_weighted_average_exact_on_tiny_tensors():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(7)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(9)}
    avg = weighted_average([a, b], [1, 3])  # normalised to 0.25, 0.75
    assert torch.equal(avg["w"], torch.tensor([2.5, 5.0]))
    assert int(avg["n"]) == 7  # integer buffers come from the first state
    assert torch.equal(weighted_average([a, b], [0, 1])["w"], b["w"])


def test_weighted_average_matches_manual_sum_on_networks():
    states = [_net(s).state_dict() for s in range(3)]
    w = np.array([0.2, 0.5, 0.3])
    avg = weighted_average(states, w)
    for k, v in avg.items():
        if torch.is_floating_point(v):
            manual = sum(float(wi) * s[k] for wi, s in zip(w, states))
            assert torch.allclose(v, manual, atol=1e-6)
    net = _net(9)
    net.load_state_dict(avg)  # loads: keys and shapes match


def test_weighted_average_rejects_bad_input():
    a = {"w": torch.zeros(2)}
    with pytest.raises(ValueError, match="one weight per model"):
        weighted_average([a, a], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_average([a, a], [1.0, -1.0])
    with pytest.raises(ValueError, match="shape"):
        weighted_average([a, {"w": torch.zeros(3)}], [1, 1])
    with pytest.raises(ValueError, match="keys"):
        weighted_average([a, {"v": torch.zeros(2)}], [1, 1])


def test_proximal_penalty_exact_and_differentiable():
    p = [nn.Parameter(torch.tensor([1.0, 2.0])), nn.Parameter(torch.tensor([[3.0]]))]
    anchor = [torch.tensor([0.0, 0.0]), torch.tensor([[1.0]])]
    pen = proximal_penalty(p, anchor)
    assert float(pen.detach()) == 1.0 + 4.0 + 4.0
    pen.backward()
    assert torch.equal(p[0].grad, torch.tensor([2.0, 4.0]))  # d/dtheta ||theta - a||^2 = 2 (theta - a)


# ------------------------------------------------------------------------------ simplex-projected weights
@pytest.mark.parametrize("v,expected", [
    ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]),      # already on the simplex
    ([1.0, 1.0], [0.5, 0.5]),
    ([2.0, 0.0, 0.0], [1.0, 0.0, 0.0]),
    ([0.5, 0.5, -1.0], [0.5, 0.5, 0.0]),
    ([0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]),
])
def test_project_to_simplex_exact_cases(v, expected):
    assert np.allclose(project_to_simplex(v), expected, atol=1e-12)


def test_divergence_weights_match_a_generic_constrained_solver():
    rng = np.random.default_rng(0)
    for _ in range(5):
        k = 6
        p = rng.dirichlet(np.ones(k))
        d = rng.uniform(-1, 0.2, size=k)
        gamma = float(rng.uniform(0.1, 3.0))
        ours = divergence_weights(p, d, gamma)

        def objective(a):
            return float(((a - p) ** 2).sum() + gamma * (a * d).sum())

        ref = minimize(objective, np.full(k, 1 / k), method="SLSQP", bounds=[(0, 1)] * k,
                       constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1}], options={"ftol": 1e-14})
        assert ref.success
        assert np.allclose(ours, ref.x, atol=1e-6)
        assert objective(ours) <= objective(ref.x) + 1e-12
        assert ours.min() >= 0 and ours.sum() == pytest.approx(1.0)


def test_divergence_weights_gamma_zero_returns_p_and_divergent_clients_lose_weight():
    p = np.array([0.25, 0.25, 0.25, 0.25])
    assert np.allclose(divergence_weights(p, np.zeros(4), 0.0), p)
    deltas = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.9, -0.1], [-1.0, 0.0]])  # client 3 points away
    d = cosine_divergence(deltas)
    a = divergence_weights(p, d, 1.0)
    assert a[3] < p[3] and a[3] == a.min()


def test_cosine_divergence_exact():
    deltas = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    d = cosine_divergence(deltas)
    # row 0: cos with (self 1, orthogonal 0, opposite -1, zero 0) -> -(0)/4
    assert np.allclose(d, [0.0, -0.25, 0.0, 0.0])
    same = cosine_divergence(torch.ones(3, 5))
    assert np.allclose(same, -1.0)
