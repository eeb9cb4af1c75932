import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from reprobook.outliers import (detection_prf, distance_ratio, iqr_bounds, iqr_outliers, knn, knn_distance_score,
                                normalise, outlier_degree, precision_at_n, symmetry_ratio)

# Hand example: four points on a line, k = 2 (worked out in the chapter icpr2024-22).
#   x=0: neighbours 1 (d 1), 3 (d 3); mirrors -1, -3 are nearest to 0 (d 1, 3)  -> R_s = 4/4 = 1
#   x=1: neighbours 0 (d 1), 3 (d 2); mirrors 2 (d 1 to 1 or 3), -1 (d 1 to 0)  -> R_s = 2/3
#   x=3: neighbours 1 (d 2), 0 (d 3); mirrors 5 (d 2 to 3 or 7), 6 (d 1 to 7)   -> R_s = 3/5
#   x=7: neighbours 3 (d 4), 1 (d 6); mirrors 11, 13 are nearest to 7 (d 4, 6)  -> R_s = 10/10 = 1
#   mean 2-NN distances: 2, 1.5, 2.5, 5 -> R_d = (1.5+2.5)/2/2, (2+2.5)/2/1.5, (1.5+2)/2/2.5, (2.5+1.5)/2/5
LINE = np.array([0.0, 1.0, 3.0, 7.0])
RS = np.array([1.0, 2 / 3, 3 / 5, 1.0])
RD = np.array([1.0, 1.5, 0.7, 0.4])
O = np.array([25 / 43, 0.0, 22 / 43, 1.0])  # min-max of R_s - R_d = (0, -5/6, -0.1, 0.6)


def test_knn_excludes_self_and_sorts():
    idx, dist = knn(LINE, 2)
    assert idx.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    assert dist.tolist() == [[1, 3], [1, 2], [2, 3], [4, 6]]


def test_knn_with_duplicates_never_returns_self():
    X = np.zeros((4, 2))
    idx, dist = knn(X, 3)
    assert all(i not in row for i, row in enumerate(idx.tolist()))
    assert np.all(dist == 0)


def test_symmetry_ratio_hand_example():
    np.testing.assert_allclose(symmetry_ratio(LINE, 2), RS, atol=1e-12)


def test_distance_ratio_hand_example():
    np.testing.assert_allclose(distance_ratio(LINE, 2), RD, atol=1e-12)


def test_outlier_degree_hand_example_in_2d():
    X = np.c_[LINE, np.zeros(4)]  # the same points embedded in the plane
    np.testing.assert_allclose(outlier_degree(X, 2), O, atol=1e-12)
    np.testing.assert_allclose(outlier_degree(LINE, 2, components="symmetry"), normalise(RS), atol=1e-12)
    np.testing.assert_allclose(outlier_degree(LINE, 2, components="distance"), normalise(-RD), atol=1e-12)


def test_symmetry_ratio_is_in_unit_interval_and_one_for_an_isolated_point():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 3)), [[50.0, 50.0, 50.0]]])
    rs = symmetry_ratio(X, 10)
    assert rs.min() >= 0 and rs.max() <= 1
    assert rs[-1] == pytest.approx(1.0)
    assert np.median(rs[:-1]) < 0.8  # interior points see data on the far side
    od = outlier_degree(X, 10)
    assert od[-1] == 1.0 and od.argmax() == 200


def test_outlier_degree_is_invariant_to_similarity_transforms():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2)) * [3.0, 1.0]
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    Y = 4.5 * X @ R.T + [10.0, -3.0]
    np.testing.assert_allclose(outlier_degree(X, 10), outlier_degree(Y, 10), atol=1e-9)


def test_norm_choice_does_not_change_the_iqr_outlier_set():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(size=(150, 2)), rng.uniform(-6, 6, size=(15, 2))])
    masks = [iqr_outliers(outlier_degree(X, 10, norm=nm), 0.5) for nm in ("minmax", "zscore", "none")]
    assert masks[0].any() and np.array_equal(masks[0], masks[1]) and np.array_equal(masks[0], masks[2])


def test_iqr_bounds_reproduce_the_papers_figure_3():
    v = [0.10, 0.15, 0.30, 0.35, 0.40, 0.42, 0.45, 0.50, 0.57, 0.60, 0.68, 0.72, 0.81, 0.87, 2.07, 2.25]
    lb, ub = iqr_bounds(v, r=1.5)  # Q1 = 0.35, Q3 = 0.72, IQR = 0.37
    assert ub == pytest.approx(0.72 + 1.5 * 0.37) and ub == pytest.approx(1.275)
    assert lb == pytest.approx(0.35 - 1.5 * 0.37)
    assert np.flatnonzero(iqr_outliers(v, r=1.5)).tolist() == [14, 15]
    assert iqr_bounds(v, r=0.5)[1] == pytest.approx(0.905)


def test_quartile_index_rounds_halves_up_like_matlab():
    # N = 10: 0.25 N = 2.5 -> 3rd value (Python's round would give the 2nd); 0.75 N = 7.5 -> 8th value.
    v = np.arange(1.0, 11.0)
    assert iqr_bounds(v, r=0.0) == (3.0, 8.0)
    # N = 2: round(0.5) = 1 -> the first value; round(1.5) = 2 -> the second.
    assert iqr_bounds([5.0, 9.0], r=0.0) == (5.0, 9.0)
    # numpy's interpolated quartiles differ on the same data
    assert iqr_bounds(v, r=0.0, rule="numpy") == (3.25, 7.75)


def test_knn_distance_score_matches_sklearn():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4))
    d, _ = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    np.testing.assert_allclose(knn_distance_score(X, 5), d[:, 5])


def test_precision_at_n_and_detection_prf():
    y = np.array([0, 1, 0, 1, 0, 0], dtype=bool)
    s = np.array([0.1, 0.9, 0.8, 0.2, 0.3, 0.8])
    assert precision_at_n(s, y) == 0.5  # top 2: index 1 (outlier) and index 2 (first of the tie)
    assert precision_at_n(s, y, n=4) == 0.25
    pr, re, f = detection_prf([1, 1, 1, 0, 0, 0], y)
    assert (pr, re) == (pytest.approx(1 / 3), 0.5) and f == pytest.approx(0.4)
    assert detection_prf(np.zeros(6), y) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("bad", [dict(k=0), dict(k=4)])
def test_bad_k_is_refused(bad):
    with pytest.raises(ValueError, match="k="):
        knn(LINE, **bad)
