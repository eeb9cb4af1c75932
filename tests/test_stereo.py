"""Unit tests of reprobook.stereo: exact values on tiny volumes, closed forms and invariants."""
import math

import numpy as np
import pytest

from reprobook import stereo


def test_right_view_volume_reindexes_left_volume():
    rng = np.random.default_rng(0)
    vol = rng.standard_normal((3, 2, 5))
    right = stereo.right_view_volume(vol)
    for d in range(3):
        for x in range(5):
            expected = vol[d, :, x + d] if x + d < 5 else -np.inf
            assert np.all(right[d, :, x] == expected)


def test_right_view_volume_rejects_wrong_rank():
    with pytest.raises(ValueError, match="shape"):
        stereo.right_view_volume(np.zeros((3, 4)))


def test_winner_takes_all_consistent_on_a_fronto_parallel_plane():
    # a plane at disparity 2 seen in a width-8 row: score 1 at d = 2, 0 elsewhere, -inf off the image
    D, W = 4, 8
    vol = np.zeros((D, 1, W))
    vol[2] = 1.0
    for d in range(D):
        vol[d, 0, :d] = -np.inf
    dl = stereo.winner_takes_all(vol)
    dr = stereo.winner_takes_all(stereo.right_view_volume(vol))
    assert dl.tolist() == [[0, 0, 2, 2, 2, 2, 2, 2]]  # the first two columns cannot reach d = 2
    assert dr.tolist() == [[2, 2, 2, 2, 2, 2, 0, 0]]  # the last two right columns have no partner at d = 2
    assert stereo.left_right_check(dl, dr).tolist() == [[False, False] + [True] * 6]


def test_left_right_check_exact_threshold_and_borders():
    dl = np.array([[0.0, 1.0, 2.0, 3.0, np.nan]])
    dr = np.array([[0.0, 2.1, 3.2, 0.0, 0.0]])
    # x=0: partner x=0, |0-0|=0 ok; x=1: partner 0, |1-0|=1 ok; x=2: partner 0, |2-0|=2 > 1.1 no;
    # x=3: partner 0, |3-0|=3 no; x=4: NaN no
    assert stereo.left_right_check(dl, dr).tolist() == [[True, True, False, False, False]]
    # the threshold is inclusive: |D_L - D_R| = 1.1 passes, anything above fails
    check = stereo.left_right_check(np.array([[0.0, 1.1, 1.2]]), np.zeros((1, 3)), 1.1)
    assert check.tolist() == [[True, True, False]]
    # a partner that would fall left of the image is inconsistent
    assert stereo.left_right_check(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])).tolist() == [[False, True]]


def test_left_right_check_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="equal 2-D shapes"):
        stereo.left_right_check(np.zeros((2, 3)), np.zeros((2, 4)))


def _one_pixel_volume(costs):
    return -np.asarray(costs, float)[:, None, None]


def test_subpixel_corrected_closed_forms():
    d = np.array([[2]])
    # symmetric neighbours: no shift
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 5, 1, 5, 9]), d)[0, 0] == pytest.approx(2.0)
    # left neighbour as cheap as the winner (ld = 0): half a pixel to the left
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 1, 1, 5, 9]), d)[0, 0] == pytest.approx(1.5)
    # right neighbour as cheap as the winner (rd = 0): half a pixel to the right
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 5, 1, 1, 9]), d)[0, 0] == pytest.approx(2.5)
    # ld = 1, rd = 3: d - 1/2 + (2/pi) atan(1/3)
    expected = 2 - 0.5 + 2 / math.pi * math.atan(1 / 3)
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 2, 1, 4, 9]), d)[0, 0] == pytest.approx(expected)
    # mirror image: ld = 3, rd = 1 gives the mirrored shift
    mirrored = stereo.subpixel_arctan(_one_pixel_volume([9, 4, 1, 2, 9]), d)[0, 0]
    assert mirrored - 2 == pytest.approx(-(expected - 2))


def test_subpixel_printed_formula_as_printed():
    d = np.array([[2]])
    # ld = rd: d - 1/2 + atan(1) = d + 0.2854 (the printed Eq. 5 is biased)
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 5, 1, 5, 9]), d, "printed")[0, 0] == pytest.approx(
        2 - 0.5 + math.pi / 4)
    # rd = 0 < ld: the printed second branch gives d - 1/2 + atan(0) = d - 1/2 (the wrong side)
    assert stereo.subpixel_arctan(_one_pixel_volume([9, 5, 1, 1, 9]), d, "printed")[0, 0] == pytest.approx(1.5)


def test_subpixel_keeps_integer_at_range_ends_and_flat_costs():
    vol = _one_pixel_volume([1, 5, 9])
    assert stereo.subpixel_arctan(vol, np.array([[0]]))[0, 0] == 0.0
    vol = np.array([-np.inf, 1.0, 0.0])[:, None, None]
    assert stereo.subpixel_arctan(vol, np.array([[1]]))[0, 0] == 1.0  # a -inf neighbour
    flat = _one_pixel_volume([3, 3, 3, 3])
    assert stereo.subpixel_arctan(flat, np.array([[1]]))[0, 0] == 1.0  # ld = rd = 0


def test_subpixel_recovers_a_parabola_minimum_direction_and_stays_within_half_pixel():
    rng = np.random.default_rng(1)
    D = 9
    for true in rng.uniform(1.6, 6.4, size=50):
        costs = (np.arange(D) - true) ** 2
        d = np.array([[int(np.argmin(costs))]])
        est = stereo.subpixel_arctan(_one_pixel_volume(costs), d)[0, 0]
        assert abs(est - d[0, 0]) <= 0.5
        assert np.sign(est - d[0, 0]) == np.sign(np.round(true - d[0, 0], 9)) or abs(true - d[0, 0]) < 1e-9
        assert abs(est - true) < abs(d[0, 0] - true) + 1e-12  # never worse than the integer winner


def test_subpixel_rejects_unknown_variant():
    with pytest.raises(ValueError, match="corrected"):
        stereo.subpixel_arctan(np.zeros((3, 1, 1)), np.zeros((1, 1)), "parabola")


def test_score_disparity_counts_and_rates():
    gt = np.array([[1.0, 2.0, 3.0, np.nan], [4.0, 5.0, 6.0, 7.0]])
    pred = np.array([[1.0, 4.0, np.nan, 0.0], [4.5, 9.0, 6.0, 7.9]])
    sc = stereo.score_disparity(pred, gt, taus=(1, 2, 4))
    assert sc.n_gt == 7 and sc.n_pred == 6
    # errors on the predicted GT pixels: 0, 2, 0.5, 4, 0, 0.9
    assert sc.n_wrong == {1: 2, 2: 2, 4: 1}
    assert sc.point_error(2) == pytest.approx(100 * 2 / 6)
    assert sc.completion() == pytest.approx(100 * 6 / 7)
    assert sc.precision(1) == pytest.approx(4 / 6)
    assert sc.recall(1) == pytest.approx(4 / 7)
    assert sc.f_score(1) == pytest.approx(2 * (4 / 6) * (4 / 7) / (4 / 6 + 4 / 7))


def test_scores_pool_by_addition():
    rng = np.random.default_rng(2)
    gt = rng.uniform(0, 10, (4, 6))
    pred = gt + rng.normal(0, 2, gt.shape)
    pred[0, :3] = np.nan
    whole = stereo.score_disparity(pred, gt)
    parts = stereo.DisparityScores.empty() + stereo.score_disparity(pred[:2], gt[:2]) + \
        stereo.score_disparity(pred[2:], gt[2:])
    assert parts == whole


def test_synthetic_pair_is_consistent_with_its_ground_truth():
    rng = np.random.default_rng(3)
    pair = stereo.synthetic_urban_pair(rng, 48, 96, 16, noise=0.0)
    assert pair.left.shape == pair.right.shape == pair.disp.shape == (48, 96)
    d = pair.disp
    assert np.nanmin(d) >= 0 and np.nanmax(d) < 16
    # pixels whose partner would leave the image have no ground truth
    xs = np.arange(96)[None, :].repeat(48, 0)
    assert np.all(np.isnan(d[xs - np.nan_to_num(d, nan=0) < 0]))
    # buildings stand in front of the ground: the largest disparities are roofs, above the ground's 4 px
    assert np.nanmax(d) > 4.0


def test_synthetic_pair_right_view_matches_left_on_visible_ground():
    rng = np.random.default_rng(4)
    pair = stereo.synthetic_urban_pair(rng, 40, 80, 12, n_buildings=0, noise=0.0)
    # with only the ground plane there are no occlusions: the right pixel x' shows the texture at x' + d,
    # i.e. the left row linearly interpolated there, after the radiometric change 0.9 * v + 0.1
    for y in range(0, 40, 7):
        d = float(pair.disp[y, 40])
        xr = np.arange(0, 60)
        expected = 0.9 * np.interp(xr + d, np.arange(80), pair.left[y]) + 0.1
        np.testing.assert_allclose(pair.right[y, xr], expected, atol=1e-5)


def test_synthetic_pair_is_reproducible_and_validates():
    a = stereo.synthetic_urban_pair(np.random.default_rng(5))
    b = stereo.synthetic_urban_pair(np.random.default_rng(5))
    assert np.array_equal(a.left, b.left) and np.array_equal(a.disp, b.disp, equal_nan=True)
    with pytest.raises(ValueError, match="max_disp"):
        stereo.synthetic_urban_pair(np.random.default_rng(0), 48, 96, 4)


def test_downscale_pair_blocks_and_unknowns():
    left = np.arange(16, dtype=float).reshape(4, 4)
    disp = np.full((4, 4), 8.0)
    disp[0, 0] = np.inf
    l2, r2, d2 = stereo.downscale_pair(left, left, disp, 2)
    assert l2.tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert np.isnan(d2[0, 0]) and d2[0, 1] == 4.0 and d2[1, 1] == 4.0
    with pytest.raises(ValueError, match="factor"):
        stereo.downscale_pair(left, left, disp, 0)


def test_load_motorcycle_ships_offline():
    pytest.importorskip("skimage")
    pair = stereo.load_motorcycle(8)
    assert pair.left.shape == (62, 92)
    finite = pair.disp[np.isfinite(pair.disp)]
    assert 0.5 < finite.min() and finite.max() < pair.max_disp


def test_torch_winner_and_check_matches_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for D, H, W in [(4, 3, 9), (8, 5, 20)]:
        vol = rng.integers(0, 3, size=(D, H, W)).astype(float)  # many ties, to test their tie-breaking
        for d in range(D):
            vol[d, :, :d] = -np.inf
        dl_np = stereo.winner_takes_all(vol)
        ok_np = stereo.left_right_check(dl_np, stereo.winner_takes_all(stereo.right_view_volume(vol)))
        dl_t, ok_t = stereo.winner_and_check_torch(torch.from_numpy(vol))
        assert np.array_equal(dl_t.numpy(), dl_np)
        assert np.array_equal(ok_t.numpy(), ok_np)
