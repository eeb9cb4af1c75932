"""Triplet losses (closed forms on tiny inputs), the derived threshold, the noisy triplet sampler
(exact shares of wrong triplets, never the anchor itself) and the separability statistics."""
import math

import numpy as np
import pytest
import torch

from reprobook.triplets import (class_distance_stats, derived_threshold, sample_triplets, threshold_separability,
                                triplet_loss)


def _z(*rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_losses_closed_form():
    # anchor at 0; positive at squared distance 0.25, negative at squared distance 0.49
    za, zp, zn = _z([0.0, 0.0]), _z([0.5, 0.0]), _z([0.0, 0.7])
    a, b = 0.8, 0.4
    assert triplet_loss(za, zp, zn, "TL1", alpha=a, beta=b).item() == pytest.approx(0.25 - 0.49 + 0.8)
    assert triplet_loss(za, zp, zn, "TL2", alpha=a, beta=b).item() == pytest.approx(0.56 + 0.0)  # dp < beta
    assert triplet_loss(za, zp, zn, "TL3", alpha=a, beta=b).item() == pytest.approx(0.8 - 0.49)
    # positive beyond beta: TL2 and TL3 add dp - beta
    zp2 = _z([0.8, 0.0])  # dp = 0.64
    assert triplet_loss(za, zp2, zn, "TL2").item() == pytest.approx((0.64 - 0.49 + 0.8) + (0.64 - 0.4))
    assert triplet_loss(za, zp2, zn, "TL3").item() == pytest.approx((0.8 - 0.49) + (0.64 - 0.4))


def test_tl3_is_absolute_tl1_relative():
    # Scaling an embedding up zeroes TL1's loss once the gap exceeds alpha, but TL3 then punishes the far positive.
    za, zp, zn = _z([0.0, 0.0]), _z([1.0, 0.0]), _z([0.0, 2.0])
    assert triplet_loss(za, zp, zn, "TL1").item() == 0.0  # 1 - 4 + 0.8 < 0
    assert triplet_loss(za, zp, zn, "TL3").item() == pytest.approx(1.0 - 0.4)


def test_reductions_and_gradients():
    g = torch.Generator().manual_seed(0)
    za, zp, zn = (torch.randn(5, 3, generator=g, dtype=torch.float64) for _ in range(3))
    per = triplet_loss(za, zp, zn, "TL2", reduction="none")
    assert per.shape == (5,)
    assert triplet_loss(za, zp, zn, "TL2", reduction="sum").item() == pytest.approx(per.sum().item())
    assert triplet_loss(za, zp, zn, "TL2").item() == pytest.approx(per.mean().item())
    za.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: triplet_loss(x, zp, zn, "TL3", reduction="sum"), (za,))


def test_loss_bad_input():
    z = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="allowed are"):
        triplet_loss(z, z, z, "TL4")
    with pytest.raises(ValueError, match="alpha"):
        triplet_loss(z, z, z, alpha=-1.0)
    with pytest.raises(ValueError, match="one shape"):
        triplet_loss(z, z, torch.zeros(3, 3))


def test_derived_threshold():
    assert derived_threshold(0.8, 0.4) == pytest.approx(math.sqrt(0.6))
    assert derived_threshold(2.0, 1.0) == pytest.approx(math.sqrt(1.5))
    with pytest.raises(ValueError, match="beta"):
        derived_threshold(0.8, 0.0)


def test_sampler_clean_triplets_are_right_and_never_the_anchor():
    y = np.repeat(np.arange(4), [2, 3, 5, 10])
    for seed in range(20):
        a, p, n = sample_triplets(y, rng=seed)
        assert np.array_equal(a, np.arange(len(y)))
        assert np.all(y[p] == y[a]) and np.all(p != a)
        assert np.all(y[n] != y[a])


def test_sampler_uniform_positive_in_small_class():
    # class 0 has 2 points: the positive of anchor 0 must always be point 1
    y = np.array([0, 0, 1, 1, 1])
    a, p, n = sample_triplets(y, anchors=np.zeros(50, int), rng=1)
    assert np.all(p == 1)
    assert set(n.tolist()) == {2, 3, 4}


def test_sampler_noise_shares():
    y = np.repeat(np.arange(10), 200)
    a, p, n = sample_triplets(y, pos_noise=0.2, neg_noise=0.05, rng=0)
    wrong_pos = np.mean(y[p] != y[a])
    wrong_neg = np.mean(y[n] == y[a])
    assert abs(wrong_pos - 0.2) < 0.03 and abs(wrong_neg - 0.05) < 0.015
    assert np.all(p != a) and np.all(n != a)
    # random negatives ignore labels: wrong with probability (class size - 1) / (n - 1) = 199/1999
    a, p, n = sample_triplets(y, neg_noise="random", anchors=np.tile(np.arange(2000), 5), rng=0)
    assert abs(np.mean(y[n] == y[a]) - 199 / 1999) < 0.01
    assert np.all(n != a) and np.all(y[p] == y[a])


def test_sampler_deterministic_and_bad_input():
    y = np.repeat(np.arange(3), 4)
    assert all(np.array_equal(u, v) for u, v in zip(sample_triplets(y, rng=3), sample_triplets(y, rng=3)))
    with pytest.raises(ValueError, match="'random'"):
        sample_triplets(y, neg_noise="all")
    with pytest.raises(ValueError, match="pos_noise"):
        sample_triplets(y, pos_noise=1.5)
    with pytest.raises(ValueError, match="single point"):
        sample_triplets(np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="single class"):
        sample_triplets(np.array([0, 0, 0]))


def test_threshold_separability_exact():
    d = np.array([0.1, 0.2, 0.3, 0.4])
    assert threshold_separability(d, [True, True, False, False]) == {"balanced_error": 0.0,
                                                                      "threshold": pytest.approx(0.25)}
    # one negative among the positives: best is to join the two closest, error (0 + 1/2)/2 ... or
    # join all three positives' span: FNR 0, FPR 1/2 -> 0.25; join first only: FNR 1/2, FPR 0 -> 0.25
    r = threshold_separability(d, [True, False, True, False])
    assert r["balanced_error"] == pytest.approx(0.25)
    # ties: equal distances with opposite labels cannot be split
    r = threshold_separability([1.0, 1.0], [True, False])
    assert r["balanced_error"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="both"):
        threshold_separability([1.0, 2.0], [True, True])


def test_class_distance_stats():
    # two classes on a line: {0, 1} and {10, 12}
    Z = np.array([[0.0], [1.0], [10.0], [12.0]])
    s = class_distance_stats(Z, np.array([0, 0, 1, 1]))
    assert np.allclose(s["intra_mean"], [1.0, 2.0]) and np.allclose(s["intra_std"], 0.0)
    assert np.allclose(s["inter_mean"], [(10 + 12 + 9 + 11) / 4] * 2)
    assert list(s["nearest"]) == [1, 0]
