"""Checks of reprobook.cities: graph construction, exact group quotas, the segregation knob."""
import numpy as np
import pytest
from scipy.spatial import Delaunay

from reprobook import cities


def test_delaunay_city_is_the_triangulation():
    rng = np.random.default_rng(0)
    pts, A = cities.delaunay_city(60, rng)
    assert pts.shape == (60, 2) and np.all((pts >= 0) & (pts < 1))
    assert np.array_equal(A, A.T) and np.all(np.diag(A) == 0) and set(np.unique(A)) == {0.0, 1.0}
    assert cities.is_connected(A)
    edges = set()
    for s in Delaunay(pts).simplices:
        for a in range(3):
            for b in range(a + 1, 3):
                edges.add((min(s[a], s[b]), max(s[a], s[b])))
    assert {tuple(e) for e in np.argwhere(np.triu(A, 1))} == edges
    assert len(edges) <= 3 * 60 - 6  # planar


def test_grid_city_edges():
    _, A = cities.grid_city(3, 4)
    assert A.sum() / 2 == 3 * 3 + 2 * 4
    np.testing.assert_array_equal(A.sum(1).reshape(3, 4), [[2, 3, 3, 2], [3, 4, 4, 3], [2, 3, 3, 2]])


def test_quotas():
    np.testing.assert_array_equal(cities.category_quotas(10, [0.5, 0.3, 0.2]), [5, 3, 2])
    np.testing.assert_array_equal(cities.category_quotas(7, [1, 1, 1]), [3, 2, 2])
    q = cities.category_quotas(5, [0.97, 0.01, 0.01, 0.01])
    assert q.sum() == 5 and q.min() >= 1
    np.testing.assert_allclose(cities.zipf_shares(3), np.array([6, 3, 2]) / 11)


def test_clustered_labels_meet_quotas_and_segregate():
    rng = np.random.default_rng(1)
    _, A = cities.grid_city(15, 15)
    quotas = cities.category_quotas(225, cities.zipf_shares(5))
    lab = cities.clustered_labels(A, quotas, rng)
    np.testing.assert_array_equal(np.bincount(lab, minlength=5), quotas)
    shuffled = cities.segregated_labels(lab, 0.0, rng)
    # grown blobs keep most edges inside a group; a random layout does not
    assert cities.same_category_edge_share(A, lab) > 0.8
    assert cities.same_category_edge_share(A, shuffled) < 0.5


@pytest.mark.parametrize("level", [0.0, 0.3, 0.8, 1.0])
def test_segregation_level_keeps_group_sizes(level):
    rng = np.random.default_rng(2)
    lab = np.repeat(np.arange(4), 25)
    out = cities.segregated_labels(lab, level, rng)
    np.testing.assert_array_equal(np.bincount(out), np.bincount(lab))
    assert np.mean(out != lab) <= 1 - level + 1e-12
    if level == 1.0:
        np.testing.assert_array_equal(out, lab)
    with pytest.raises(ValueError):
        cities.segregated_labels(lab, 1.5, rng)


def test_one_hot():
    np.testing.assert_array_equal(cities.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
