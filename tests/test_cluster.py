import numpy as np
import pytest
from sklearn.datasets import make_blobs

from reprobook.cluster import assign_to_nearest, density_peaks, matched_prf


def test_density_peaks_on_a_hand_example():
    X = np.array([0.0, 1.0, 2.0, 50.0, 51.0, 52.0, 53.0])[:, None]
    labels, info = density_peaks(X, 2, dc_percent=30, kernel="cutoff")
    # 21 pairwise distances, sorted: 1 (5 times), 2 (3 times), 3, then 48 and more; the 30 % quantile
    # (linear interpolation at position 0.3 * 20 = 6) is 2, so only distance-1 pairs are neighbours.
    assert info["dc"] == 2.0
    assert info["rho"].tolist() == [1, 2, 1, 1, 2, 2, 1]
    # the densest point (index 1, ties by index) gets delta = the largest distance from it; point 4 is
    # the densest of its group and its nearest denser point is 1; point 5's is 4.
    assert info["delta"][[1, 4, 5, 0]].tolist() == [52.0, 50.0, 1.0, 1.0]
    assert sorted(info["centres"].tolist()) == [1, 4]
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]


def test_density_peaks_recovers_separated_blobs():
    X, y = make_blobs(300, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=0.8, random_state=0)
    labels, _ = density_peaks(X, 3)
    assert matched_prf(y, labels) == (1.0, 1.0, 1.0)


def test_matched_prf_hand_example_one_big_cluster():
    # 3 of class A, 2 of class B; one cluster holds 2 A + 2 B, the other a single A.
    # Hungarian: big cluster -> A (2 agree), small -> B (0 agree) loses to big -> B (2) + small -> A (1).
    y = np.array([0, 0, 0, 1, 1])
    pred = np.array([5, 5, 7, 5, 5])
    pr, re, f = matched_prf(y, pred)
    # A <-> cluster 7: precision 1/1, recall 1/3; B <-> cluster 5: precision 2/4, recall 2/2
    assert pr == pytest.approx((1 + 0.5) / 2) and re == pytest.approx((1 / 3 + 1) / 2)
    assert f == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3))


def test_matched_prf_is_invariant_to_relabelling_and_penalises_missing_clusters():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50)
    pred = rng.integers(0, 3, 50)
    perm = np.array([2, 0, 1])
    assert matched_prf(y, pred) == pytest.approx(matched_prf(y, perm[pred]))
    pr, re, f = matched_prf([0, 0, 1, 1], [0, 0, 0, 0])  # one cluster for two classes
    assert (pr, re) == (pytest.approx(0.25), pytest.approx(0.5))


def test_assign_to_nearest():
    X = np.array([[0.0], [1.0], [10.0], [0.4], [9.0]])
    kept = np.array([True, True, True, False, False])
    out = assign_to_nearest(X, kept, np.array([3, 4, 5]))
    assert out.tolist() == [3, 4, 5, 3, 5]
    with pytest.raises(ValueError):
        assign_to_nearest(X, kept, np.array([1, 2]))


def test_clustering_accuracy_hand_examples():
    from reprobook.cluster import clustering_accuracy

    assert clustering_accuracy([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]) == 1.0  # relabelling is free
    # two clusters for three classes: cluster 0 -> class 0 (2 right), cluster 1 -> class 2 (2 right),
    # class 1 is left unmatched, so 4 of 6
    assert clustering_accuracy([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 1]) == pytest.approx(4 / 6)
    # more clusters than classes: the extra cluster's points count as wrong
    assert clustering_accuracy([0, 0, 0, 1], [0, 0, 1, 2]) == pytest.approx(3 / 4)
    with pytest.raises(ValueError):
        clustering_accuracy([0, 1], [0])


def test_clustering_accuracy_equals_brute_force_over_permutations():
    from itertools import permutations

    from reprobook.cluster import clustering_accuracy

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 60)
    c = rng.integers(0, 4, 60)
    best = max(np.mean(np.array(p)[c] == y) for p in permutations(range(4)))
    assert clustering_accuracy(y, c) == pytest.approx(best)
