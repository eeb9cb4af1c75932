"""The sample-driven binning tree and QSAR helpers of chapter icpr2024-03 (reprobook.qsar)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from reprobook import qsar
from reprobook.molecules import MoleculeError


# ------------------------------------------------------------------------------------------ Eq. 1 and 2

def test_fod_bins_cuts_only_strictly_larger_gaps():
    y = [0.0, 0.01, 0.1, 0.15, 0.5, 0.5]
    # gaps 0.01, 0.09, 0.05, 0.35, 0: a gap equal to the threshold (0.05) does not open a bin
    np.testing.assert_array_equal(qsar.fod_bins(y, 0.05), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(qsar.fod_bins(y, 1.0), [0] * 6)
    np.testing.assert_array_equal(qsar.fod_bins([3.0], 0.1), [0])


@pytest.mark.parametrize("y, th, words", [([1.0, 0.0], 0.1, "sorted"), ([], 0.1, "non-empty"),
                                          ([0.0, 1.0], -1.0, ">= 0")])
def test_fod_bins_rejects_bad_input(y, th, words):
    with pytest.raises(ValueError, match=words):
        qsar.fod_bins(y, th)


def test_wmsd_closed_form():
    assert qsar.wmsd(4, 1.0, 1.5, 10) == pytest.approx(4 * 0.25 / 10)
    assert qsar.wmsd(1, 2.0, 2.0, 10) == 0.0
    with pytest.raises(ValueError):
        qsar.wmsd(1, 0.0, 1.0, 0)


def test_build_bin_tree_hand_worked_example():
    y = np.array([1.01, 0.0, 3.0, 0.04, 1.0, 1.5, 0.02])  # unsorted on purpose
    tree = qsar.build_bin_tree(y, fod_thresholds=[0.3, 0.015], wmsd_thresholds=[0.0, 0.0005])
    # level 1 (gap > 0.3): {0, 0.02, 0.04} {1.0, 1.01} {1.5} {3.0}
    assert [c.name for c in tree.children] == ["1", "2", "3", "4"]
    assert [sorted(y[c.index]) for c in tree.children] == [[0.0, 0.02, 0.04], [1.0, 1.01], [1.5], [3.0]]
    b1, b2 = tree.children[0], tree.children[1]
    assert (b1.lo, b1.hi) == (0.0, 0.04)
    assert b1.wmsd == pytest.approx(3 * 0.04 ** 2 / 7)  # 0.000686 > 0.0005: split with FOD 0.015
    assert b2.wmsd == pytest.approx(2 * 0.01 ** 2 / 7)  # 0.0000286: stays a leaf
    assert [c.name for c in b1.children] == ["1-1", "1-2", "1-3"]
    assert [list(y[c.index]) for c in b1.children] == [[0.0], [0.02], [0.04]]
    assert b2.is_leaf and tree.children[2].is_leaf
    assert len(tree.leaves()) == 6 and tree.n == 7


def test_tree_partitions_rows_into_ordered_disjoint_ranges():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    tree = qsar.build_bin_tree(y, [0.05, 0.02, 0.005], [0.0, 1e-4, 1e-4])
    leaves = tree.leaves()
    rows = np.concatenate([leaf.index for leaf in leaves])
    np.testing.assert_array_equal(np.sort(rows), np.arange(300))  # every molecule in exactly one leaf
    for a, b in zip(leaves, leaves[1:]):
        assert a.hi < b.lo  # walk order is ascending in the target and ranges never overlap
    for node in tree.walk():
        assert node.lo == y[node.index].min() and node.hi == y[node.index].max()
        assert node.level <= 3
        if node.children:  # a split node's children hold exactly its rows
            np.testing.assert_array_equal(np.sort(np.concatenate([c.index for c in node.children])),
                                          np.sort(node.index))


def test_only_bins_split_at_the_previous_level_are_split_again():
    y = np.array([0.0, 0.1, 0.2, 5.0, 5.1, 5.2])
    # level 2 splits nothing (WMSD threshold huge), so level 3 must not touch the level-1 bins either
    tree = qsar.build_bin_tree(y, [1.0, 0.05, 0.05], [0.0, 100.0, 0.0])
    assert [c.is_leaf for c in tree.children] == [True, True]


def test_build_bin_tree_rejects_mismatched_thresholds():
    with pytest.raises(ValueError, match="one FOD and one WMSD threshold per level"):
        qsar.build_bin_tree([0.0, 1.0], [0.1, 0.1], [0.0])


# ---------------------------------------------------------------------------------------- Eqs. 3 to 8

def test_leaf_statistics_closed_forms():
    p = [10.0, 1.0, 3.0, 2.0, 4.0]  # sorted: 1 2 3 4 10; Q25 = 2, Q75 = 4 (linear interpolation)
    s = lambda name, form="corrected": qsar.leaf_statistic(p, name, form)
    assert s("mean") == pytest.approx(4.0)
    assert s("midrange") == pytest.approx(5.5) and s("midrange", "as_printed") == pytest.approx(4.5)
    assert s("midhinge") == pytest.approx(3.0) and s("midhinge", "as_printed") == pytest.approx(-1.0)
    assert s("iqm") == pytest.approx(3.0) and s("iqm", "as_printed") == pytest.approx(9 / 4)
    # gaps 1, 1, 1, 6: largest after 4 (position 3), second the first tie (position 0): block 2, 3, 4
    assert s("fod_cut") == pytest.approx(3.0)
    assert s("fod_cut", "as_printed") == pytest.approx(10.0)  # (1 + 2 + 3 + 4) / k with k = 1
    assert qsar.leaf_statistic([1.0, 3.0], "fod_cut") == 2.0  # too few values for two gaps: the mean


def test_leaf_statistics_of_a_constant_leaf_are_that_constant():
    for name in qsar.STATISTICS:
        assert qsar.leaf_statistic([2.5] * 7, name) == pytest.approx(2.5)


@pytest.mark.parametrize("name, form, words", [("median", "corrected", "statistic"), ("mean", "typo", "form")])
def test_leaf_statistic_rejects_unknown_names(name, form, words):
    with pytest.raises(ValueError, match=words):
        qsar.leaf_statistic([1.0], name, form)


def test_closest_boundary_reads_the_true_target():
    out = qsar.closest_boundary([0.1, 0.9, 0.5, 2.0, -3.0], lo=0.0, hi=1.0)
    np.testing.assert_array_equal(out, [0.0, 1.0, 0.0, 1.0, 0.0])  # ties go to lo


def test_in_bin_is_inclusive():
    np.testing.assert_array_equal(qsar.in_bin([0.0, 1.0, 0.5, 1.01, -0.01], 0.0, 1.0), [1, 1, 1, 0, 0])


def test_regression_report_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    p = y + rng.normal(scale=0.3, size=50)
    r = qsar.regression_report(y, p)
    assert r["r2"] == pytest.approx(r2_score(y, p))
    assert r["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)))
    assert r["mae"] == pytest.approx(mean_absolute_error(y, p))
    assert r["rpd"] == pytest.approx(np.std(y, ddof=1) / r["rmse"])


# --------------------------------------------------------------------------------------- descriptors

def test_symlog_exact_and_odd():
    np.testing.assert_allclose(qsar.symlog([0.0, np.e - 1, -(np.e - 1)]), [0.0, 1.0, -1.0])
    x = np.linspace(-1e6, 1e6, 101)
    assert np.all(np.diff(qsar.symlog(x)) > 0)


def test_descriptor_table_ethanol_and_benzene():
    from rdkit.Chem import Descriptors

    df = qsar.descriptor_table(["CCO", "c1ccccc1"])
    assert list(df.columns) == [name for name, _ in Descriptors._descList]
    assert df.loc[0, "MolWt"] == pytest.approx(46.069, abs=1e-3)
    assert df.loc[0, "NumHDonors"] == 1 and df.loc[1, "NumHDonors"] == 0
    assert df.loc[1, "NumAromaticRings"] == 1 and df.loc[0, "NumAromaticRings"] == 0


def test_descriptor_table_names_a_bad_molecule():
    with pytest.raises(MoleculeError, match="molecule 1: .*cannot parse"):
        qsar.descriptor_table(["CCO", "C1CC"])


def test_clean_descriptors_drops_invalid_rows_then_constant_columns():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [5.0, 5.0, 1.0, 5.0], "c": [1.0, 0.0, 1.0, 1.0]})
    out, keep = qsar.clean_descriptors(df)  # row 2 goes, then b is constant (5, 5, 5)
    np.testing.assert_array_equal(keep, [True, True, False, True])
    assert list(out.columns) == ["a", "c"] and len(out) == 3
    out_c, keep_c = qsar.clean_descriptors(df, invalid="columns")  # column a goes instead
    assert list(out_c.columns) == ["b", "c"] and keep_c.all()
    with pytest.raises(ValueError, match="allowed"):
        qsar.clean_descriptors(df, invalid="both")


# ---------------------------------------------------------------------------------- routing and model

def _three_levels(n_per, seed):
    """Targets in three far-apart bands; feature 0 tells the band, the other 5 features are noise."""
    rng = np.random.default_rng(seed)
    band = np.repeat([0, 1, 2], n_per)
    X = np.c_[band / 2 + rng.normal(scale=0.02, size=band.size), rng.uniform(size=(band.size, 5))]
    y = 5.0 * band + rng.uniform(0, 0.5, size=band.size)
    return np.clip(X, 0, None), y, band


def test_select_router_finds_the_informative_feature():
    X, _, band = _three_levels(20, 0)
    r = qsar.select_router(X, band, models=["knn", "svc"], selectors=["f_classif", "chi2"], k_grid=[1, 3, None],
                           folds=3, seed=0)
    assert r.k == 1 and list(r.columns) == [0]  # a tie at F1 = 1 goes to the smallest subset
    assert max(r.cv_f1.values()) == pytest.approx(1.0)
    assert len(r.cv_f1) == 2 * 2 * 3
    np.testing.assert_array_equal(r.predict(X), band)


def test_select_router_small_node_takes_the_first_candidate():
    X, _, band = _three_levels(1, 0)
    r = qsar.select_router(X, band, models=["svc", "knn"], selectors=["chi2"], k_grid=[2, None], folds=5, seed=0)
    assert (r.model, r.selector, r.k, r.cv_f1) == ("svc", "chi2", 2, {})


def test_sample_drive_routes_perfectly_separable_bands_to_their_leaf_means():
    X, y, band = _three_levels(15, 0)
    Xt, yt, bt = _three_levels(5, 1)
    m = qsar.SampleDriveRegressor(fod_thresholds=[1.0], wmsd_thresholds=[0.0], models=["svc"],
                                  selectors=["f_classif"], k_grid=[1], folds=3, leaf_regressors=["linear"]).fit(X, y)
    assert [c.name for c in m.tree_.children] == ["1", "2", "3"] and len(m.tree_.leaves()) == 3
    # with the ridge leaf model alone, the mean of its in-sample predictions is the leaf's mean target
    np.testing.assert_allclose(m.predict(Xt), [y[band == b].mean() for b in bt], atol=1e-9)
    lo, hi = m.leaf_ranges(Xt)
    np.testing.assert_array_equal(lo, [y[band == b].min() for b in bt])
    np.testing.assert_allclose(qsar.closest_boundary(yt, lo, hi), np.where(
        np.abs(yt - lo) <= np.abs(yt - hi), lo, hi))
    assert m.predict(Xt, "linear").shape == (15,)


def test_router_rows_bin_on_all_targets_but_route_with_training_rows_only():
    X, y, band = _three_levels(10, 0)
    train = np.arange(y.size) % 3 != 0
    m = qsar.SampleDriveRegressor(fod_thresholds=[1.0], wmsd_thresholds=[0.0], k_grid=[1], folds=2,
                                  leaf_regressors=["linear"]).fit(X, y, router_rows=train)
    assert m.tree_.n == y.size  # the bins (and leaf values) saw every target, test rows included
    # leaf values: the mean over ALL members of the leaf, which is what leaks the test targets
    np.testing.assert_allclose(sorted(v[("corrected", "mean")] for v in m.leaf_values_.values()),
                               [y[band == b].mean() for b in range(3)])


def test_fixed_router_skips_selection():
    X, y, _ = _three_levels(10, 0)
    m = qsar.SampleDriveRegressor(fod_thresholds=[1.0], wmsd_thresholds=[0.0], models=["knn", "svc"],
                                  selectors=["chi2"], k_grid=[1, None], folds=2,
                                  fixed_router=("svc", "f_classif", None)).fit(X, y)
    r = m.routers_["root"]
    assert (r.model, r.selector, r.k, r.columns.size) == ("svc", "f_classif", None, 6)


def test_bad_leaf_regressor_is_a_clear_error():
    with pytest.raises(ValueError, match="leaf_regressors=.*allowed"):
        qsar.SampleDriveRegressor(fod_thresholds=[1.0], wmsd_thresholds=[0.0], leaf_regressors=["gbm"])
