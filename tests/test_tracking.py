"""CLEAR-MOT / IDF1 metrics and the MOT17 loader on tiny hand-checked cases."""
from pathlib import Path

import numpy as np
import pytest

from reprobook.tracking import box_iou, clear_mot, crop_boxes, id_scores, load_mot_sequence, mot_scores

FIXTURE = Path(__file__).parent / "fixtures" / "mot17" / "MOT17-99-TINY"


def test_box_iou_exact_values():
    a = [[0, 0, 2, 2]]
    b = [[1, 1, 2, 2], [0, 0, 2, 2], [5, 5, 1, 1], [0, 0, 2, 1]]
    np.testing.assert_allclose(box_iou(a, b), [[1 / 7, 1.0, 0.0, 0.5]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def _two_walkers(n_frames=3):
    """Two ground-truth objects far apart, one box each per frame."""
    rows = []
    for f in range(1, n_frames + 1):
        rows += [[f, 1, 0 + f, 0, 10, 10], [f, 2, 50 + f, 0, 10, 10]]
    return np.array(rows, float)


def test_perfect_tracking_scores_one():
    gt = _two_walkers()
    hyp = gt.copy()
    hyp[:, 1] += 10  # hypothesis ids need not equal gt ids
    s = mot_scores(gt, hyp)
    assert (s["tp"], s["fp"], s["fn"], s["idsw"]) == (6, 0, 0, 0)
    assert s["mota"] == 1.0 and s["idf1"] == 1.0 and s["motp"] == 1.0


def test_identity_swap_counts_two_switches():
    gt = _two_walkers()
    hyp = gt.copy()
    hyp[(hyp[:, 0] == 3), 1] = [2, 1]  # ids swap in frame 3
    s = clear_mot(gt, hyp)
    assert (s["fp"], s["fn"], s["idsw"]) == (0, 0, 2)
    assert s["mota"] == pytest.approx(1 - 2 / 6)
    ids = id_scores(gt, hyp)  # best matching 1-1, 2-2 keeps 2 of 3 frames for each id
    assert ids["idtp"] == 4 and ids["idf1"] == pytest.approx(8 / 12)


def test_misses_false_positives_and_poor_overlap():
    gt = _two_walkers()
    hyp = gt[gt[:, 1] == 1].copy()  # object 2 never found: 3 FN
    hyp = np.vstack([hyp, [2, 7, 200, 200, 5, 5]])  # an extra box: 1 FP
    hyp[0, 2] += 6  # frame 1 box of object 1 shifted: IoU 4/16 < 0.5 -> 1 FN and 1 FP
    s = clear_mot(gt, hyp)
    assert (s["tp"], s["fp"], s["fn"], s["idsw"]) == (2, 2, 4, 0)
    assert s["mota"] == pytest.approx(1 - 6 / 6)
    assert clear_mot(gt, hyp, iou_threshold=0.2)["tp"] == 3  # a looser threshold accepts the shifted box


def test_previous_match_is_kept_while_it_overlaps():
    gt = np.array([[1, 1, 0, 0, 10, 10], [2, 1, 0, 0, 10, 10]], float)
    hyp = np.array([[1, 5, 0, 0, 10, 10],
                    [2, 5, 0, 0, 10, 6],    # IoU 0.6 with the gt: still a valid match, so it is kept
                    [2, 6, 0, 0, 10, 9]],   # IoU 0.9 would win a fresh assignment
                   float)
    s = clear_mot(gt, hyp)
    assert (s["idsw"], s["fp"], s["tp"]) == (0, 1, 2)
    assert s["motp"] == pytest.approx((1.0 + 0.6) / 2)


def test_switch_counted_against_last_match_even_after_a_gap():
    gt = np.array([[f, 1, 0, 0, 10, 10] for f in (1, 2, 3)], float)
    hyp = np.array([[1, 5, 0, 0, 10, 10], [3, 6, 0, 0, 10, 10]], float)  # missed in frame 2, new id after
    s = clear_mot(gt, hyp)
    assert (s["fn"], s["idsw"]) == (1, 1)
    assert s["mota"] == pytest.approx(1 - 2 / 3)


def test_bad_tracks_raise_clear_errors():
    gt = _two_walkers()
    with pytest.raises(ValueError, match="twice in the same frame"):
        clear_mot(np.vstack([gt, gt[:1]]), gt)
    with pytest.raises(ValueError, match="widths and heights"):
        clear_mot(gt, np.array([[1, 1, 0, 0, -1, 3]]))
    with pytest.raises(ValueError, match="rows"):
        id_scores(gt, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="iou_threshold"):
        clear_mot(gt, gt, iou_threshold=0)


def test_load_mot_sequence_reads_the_fixture():
    seq = load_mot_sequence(FIXTURE)
    assert (seq.name, seq.length, seq.width, seq.height, seq.frame_rate) == ("MOT17-99-TINY", 3, 32, 24, 30.0)
    np.testing.assert_allclose(seq.detections[0], [1, 2, 3, 8, 12, 0.9])
    assert len(seq.detections) == 4
    assert len(load_mot_sequence(FIXTURE, min_score=0.5).detections) == 3
    # gt: the row with consider=0 and the class-7 (static person) row are dropped
    np.testing.assert_allclose(seq.gt[:, 1], [1, 1, 1])
    np.testing.assert_allclose(seq.gt[:, 6], [1.0, 0.8, 0.5])
    assert seq.image_path(2).name == "000002.png" and seq.image_path(2).is_file()
    # the public detections match the gt perfectly in this fixture
    hyp = np.column_stack([seq.detections[:, 0], np.ones(4), seq.detections[:, 1:5]])[[0, 2, 3]]
    assert clear_mot(seq.gt[:, :6], hyp)["mota"] == 1.0


def test_load_mot_sequence_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="seqinfo.ini"):
        load_mot_sequence(tmp_path)


def test_crop_boxes_samples_inside_the_box():
    from PIL import Image

    img = np.asarray(Image.open(FIXTURE / "img1" / "000001.png"))
    crops = crop_boxes(img, [[4, 2, 8, 4], [30, 20, 10, 10]], size=4)
    assert crops.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(crops[0, 0, :, 0], img[2, [5, 7, 9, 11], 0])  # columns 4 + (k + .5) * 2
    assert crops[1, -1, -1, 0] == img[23, 31, 0]  # clamped to the border
