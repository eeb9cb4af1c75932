import math

import numpy as np
import pytest
import torch
from torch import nn

from reprobook.prune import (conv_units, count_flops, count_params, eq8_flop_ratios, filter_entropy, filter_l1,
                             kmedoids, merge_groups, pairwise_l2, plan_counts, remove_filters,
                             remove_from_sequential, zero_filters)


def _net(bias=True, head="avg"):
    torch.manual_seed(0)
    layers = [nn.Conv2d(2, 6, 3, padding=1, bias=bias), nn.BatchNorm2d(6), nn.ReLU(),
              nn.Conv2d(6, 5, 3, padding=1, bias=bias), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2),
              nn.Conv2d(5, 4, 3, padding=0, bias=bias), nn.BatchNorm2d(4), nn.ReLU()]
    if head == "avg":
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)]
    else:  # flatten a 2x2 map: the Linear reads 4 features per channel
        layers += [nn.Flatten(), nn.Linear(4 * 4, 3)]
    net = nn.Sequential(*layers)
    # non-trivial BN statistics and affine parameters
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(8, 2, 8, 8))
        for m in net:
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return net.eval()


def test_entropy_closed_forms():
    # filter [0, 1, 1, 1] -> p = (0, 1/3, 1/3, 1/3): entropy log2 3; [0, 1] -> (0, 1): 0;
    # [0, 1, 2, 3] -> p = (0, 1/6, 2/6, 3/6)
    w = torch.tensor([[0., 1, 1, 1], [5., 5, 5, 5], [0., 0, 0, 1], [0., 1, 2, 3]]).reshape(4, 1, 2, 2)
    h = filter_entropy(w)
    expect3 = -sum(p * math.log2(p) for p in (1 / 6, 2 / 6, 3 / 6))
    assert h.tolist() == pytest.approx([math.log2(3), 0.0, 0.0, expect3], abs=1e-6)
    # invariant to positive scaling and shifting, and zero for a zeroed filter
    assert filter_entropy(3 * w + 7).tolist() == pytest.approx(h.tolist(), abs=1e-6)
    assert filter_entropy(torch.zeros(2, 3, 3, 3)).tolist() == [0.0, 0.0]


def test_l1_and_l2_distances():
    w = torch.tensor([[1., -2], [0., 0], [3., 4]]).reshape(3, 2, 1, 1)
    assert filter_l1(w).tolist() == [3.0, 0.0, 7.0]
    d = pairwise_l2(w)
    ref = torch.cdist(w.reshape(3, -1), w.reshape(3, -1))
    assert torch.allclose(d, ref, atol=1e-5)
    assert d[1, 2].item() == pytest.approx(5.0)
    assert torch.equal(d, d.T) and torch.all(d.diagonal() == 0)


def test_kmedoids_recovers_separated_clusters_and_is_a_fixed_point():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    pts = np.concatenate([c + rng.normal(0, 0.3, size=(7, 2)) for c in centres])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    labels, medoids = kmedoids(d, 3, generator=np.random.default_rng(1))
    truth = np.repeat(np.arange(3), 7)
    # same partition up to renaming
    for c in range(3):
        assert len(set(labels[truth == c])) == 1
    assert len(set(labels)) == 3
    # fixed point: each point at its nearest medoid; each medoid minimises the summed distance in its cluster
    assert np.all(d[np.arange(len(pts)), medoids[labels]] == d[:, medoids].min(1))
    for c in range(3):
        m = np.flatnonzero(labels == c)
        assert medoids[c] == m[np.argmin(d[np.ix_(m, m)].sum(1))]


def test_kmedoids_never_returns_empty_clusters_with_duplicate_points():
    pts = np.zeros((6, 2))
    pts[5] = [1, 1]
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    for s in range(5):
        labels, _ = kmedoids(d, 4, generator=np.random.default_rng(s))
        assert sorted(set(labels)) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        kmedoids(d, 7)


def test_merge_groups_mean_and_max():
    w = torch.arange(12.).reshape(4, 3, 1, 1)
    b = torch.tensor([1., 2, 3, 4])
    merge_groups(w, [[2, 0], [1]], "mean", bias=b)
    assert w[2].flatten().tolist() == [3.0, 4.0, 5.0]  # mean of filters 2 and 0
    assert w[0].flatten().tolist() == [0.0, 1.0, 2.0] and w[1].flatten().tolist() == [3.0, 4.0, 5.0]
    assert b.tolist() == [1.0, 2.0, 2.0, 4.0]
    w2 = torch.tensor([[1., 5], [4., 2]]).reshape(2, 2, 1, 1)
    merge_groups(w2, [[1, 0]], "max")
    assert w2[1].flatten().tolist() == [4.0, 5.0]


@pytest.mark.parametrize("head", ["avg", "flatten"])
@pytest.mark.parametrize("bias", [True, False])
def test_removing_zeroed_filters_leaves_the_output_unchanged(head, bias):
    net = _net(bias, head)
    x = torch.randn(5, 2, 8, 8)
    units = conv_units(net)
    assert [(u.conv, u.bn, u.next) for u in units] == [(0, 1, 3), (3, 4, 7), (7, 8, 12 if head == "avg" else 11)]
    plan = {0: [1, 4], 1: [0, 2, 3], 2: [2]}
    for i, idx in plan.items():
        u = units[i]
        zero_filters(net[u.conv], idx, net[u.bn], net[u.next])
    with torch.no_grad():
        y_zeroed = net(x)
    for i, idx in plan.items():  # indices of a unit do not shift when another unit shrinks
        remove_from_sequential(net, units[i], idx)
    with torch.no_grad():
        y_removed = net(x)
    assert [net[u.conv].out_channels for u in units] == [4, 2, 3]
    assert net[3].in_channels == 4 and net[7].in_channels == 2
    assert torch.allclose(y_zeroed, y_removed, atol=1e-5)


def test_removing_live_filters_changes_the_output_and_keeps_the_rest():
    net = _net()
    x = torch.randn(3, 2, 8, 8)
    with torch.no_grad():
        y = net(x)
    conv, bn, nxt = remove_filters(net[0], [2], net[1], net[3])
    assert torch.equal(conv.weight, net[0].weight[[0, 1, 3, 4, 5]])
    assert torch.equal(bn.running_var, net[1].running_var[[0, 1, 3, 4, 5]])
    assert torch.equal(nxt.weight, net[3].weight[:, [0, 1, 3, 4, 5]])
    net[0], net[1], net[3] = conv, bn, nxt
    with torch.no_grad():
        assert not torch.allclose(net(x), y, atol=1e-3)
    with pytest.raises(ValueError):
        remove_filters(net[0], range(5), net[1], net[3])


def _conv_flops(cin, cout, k, hout, wout):
    return 2 * cin * cout * k * k * hout * wout


def test_param_and_flop_counts_are_exact_on_a_tiny_network():
    net = _net(bias=True)
    params = (2 * 6 * 9 + 6) + 2 * 6 + (6 * 5 * 9 + 5) + 2 * 5 + (5 * 4 * 9 + 4) + 2 * 4 + (4 * 3 + 3)
    assert count_params(net) == params
    x = torch.zeros(1, 2, 8, 8)
    f0 = [_conv_flops(2, 6, 3, 8, 8), _conv_flops(6, 5, 3, 8, 8), _conv_flops(5, 4, 3, 2, 2)]
    total, per = count_flops(net, x)
    assert total == sum(f0) + 2 * 4 * 3
    assert [per["Sequential.0"], per["Sequential.3"], per["Sequential.7"]] == f0
    # remove 3 of 6, 2 of 5 and 1 of 4 filters: Eq. 8 per layer, with DR = 1/2, 2/5, 1/4
    units = conv_units(net)
    for u, idx in zip(units, ([0, 1, 2], [0, 1], [0])):
        remove_from_sequential(net, u, idx)
    total2, per2 = count_flops(net, x)
    ratios = [per2[f"Sequential.{u.conv}"] / f for u, f in zip(units, f0)]
    assert ratios == pytest.approx(eq8_flop_ratios([1 / 2, 2 / 5, 1 / 4]), abs=1e-12)
    assert ratios == pytest.approx([0.5, 0.5 * 0.6, 0.6 * 0.75], abs=1e-12)
    assert total2 == _conv_flops(2, 3, 3, 8, 8) + _conv_flops(3, 3, 3, 8, 8) + _conv_flops(3, 3, 3, 2, 2) + 2 * 3 * 3
    assert count_params(net) == (2 * 3 * 9 + 3) + 6 + (3 * 3 * 9 + 3) + 6 + (3 * 3 * 9 + 3) + 6 + (3 * 3 + 3)


def test_plan_counts_and_eq8_match_the_papers_numbers():
    # Sect. 4.2: SR = 0.8, CF = 5 -> DR = 0.64 (Eq. 7) -> layer ratios 0.36 and 0.1296
    p = plan_counts(100, 0.8, 5)
    assert p == {"selected": 80, "groups": 16, "freed": 64}
    assert eq8_flop_ratios([0.64, 0.64]) == pytest.approx([0.36, 0.1296])
    # Algorithm 2 line 9 makes floor(n / CF) groups instead
    assert plan_counts(100, 0.8, 5, "alg2") == {"selected": 80, "groups": 20, "freed": 60}
    # Sect. 4.1: SR = 0.4, CF = 2 frees 0.2 n
    assert plan_counts(50, 0.4, 2)["freed"] == 10
    assert plan_counts(16, 0.0, 5) == {"selected": 0, "groups": 0, "freed": 0}
    assert plan_counts(4, 0.5, 10) == {"selected": 2, "groups": 1, "freed": 1}
