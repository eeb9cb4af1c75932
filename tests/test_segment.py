import math

import pytest
import torch
from torchmetrics.functional.classification import multiclass_jaccard_index

from reprobook.segment import (SegmentationMeter, confusion_matrix, iou_from_confusion, miou, miou_from_confusion,
                               normalise_cams, per_class_iou, pseudo_masks, threshold_sweep, tta_maps)

T = torch.tensor


# ------------------------------------------------------------------------------------------------ metrics
def test_confusion_matrix_exact_with_ignore():
    target = T([[0, 0, 1], [1, 2, 255]])
    pred = T([[0, 1, 1], [1, 2, 0]])  # the wrong 0 under 255 does not count
    cm = confusion_matrix(pred, target, 3)
    assert torch.equal(cm, T([[1, 1, 0], [0, 2, 0], [0, 0, 1]]))


def test_iou_exact_values():
    target = T([[0, 0, 1], [1, 2, 255]])
    pred = T([[0, 1, 1], [1, 2, 0]])
    # class 0: inter 1, union 2; class 1: inter 2, union 3; class 2: inter 1, union 1
    iou = per_class_iou(pred, target, 3)
    torch.testing.assert_close(iou, T([0.5, 2 / 3, 1.0], dtype=torch.float64))
    assert miou(pred, target, 3) == pytest.approx((0.5 + 2 / 3 + 1) / 3)


def test_class_absent_from_truth_and_prediction_is_excluded():
    target = T([0, 0, 1, 1])
    pred = T([0, 1, 1, 1])
    iou = per_class_iou(pred, target, 4)  # classes 2 and 3 appear nowhere
    assert iou[:2].tolist() == pytest.approx([0.5, 2 / 3]) and math.isnan(iou[2]) and math.isnan(iou[3])
    assert miou(pred, target, 4) == pytest.approx((0.5 + 2 / 3) / 2)  # not /4 (absent as 0) nor with 1s
    assert miou(pred, target, 4) == pytest.approx(float(multiclass_jaccard_index(pred, target, 4, average="macro")))


def test_class_predicted_but_absent_from_truth_counts_as_zero():
    target = T([0, 0, 0, 1])
    pred = T([0, 0, 2, 1])
    torch.testing.assert_close(per_class_iou(pred, target, 3), T([2 / 3, 1.0, 0.0], dtype=torch.float64))
    assert miou(pred, target, 3) == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_class_in_truth_never_predicted_counts_as_zero():
    target = T([0, 2, 2, 1])
    pred = T([0, 0, 0, 1])
    torch.testing.assert_close(per_class_iou(pred, target, 3), T([1 / 3, 1.0, 0.0], dtype=torch.float64))


def test_all_ignored_gives_nan():
    assert math.isnan(miou(T([0, 1]), T([255, 255]), 3))
    assert torch.isnan(iou_from_confusion(torch.zeros(3, 3, dtype=torch.int64))).all()
    assert math.isnan(miou_from_confusion(torch.zeros(3, 3, dtype=torch.int64)))


def test_matches_torchmetrics_on_random_maps():
    g = torch.Generator().manual_seed(0)
    for c in (2, 5, 21):
        target = torch.randint(0, c, (3, 17, 13), generator=g)
        target[torch.rand(target.shape, generator=g) < 0.1] = 255
        pred = torch.randint(0, c, (3, 17, 13), generator=g)
        pred[:, :4] = 0  # make classes uneven
        ours = miou(pred, target, c)
        ref = float(multiclass_jaccard_index(pred, target, c, average="macro", ignore_index=255))
        assert ours == pytest.approx(ref, abs=1e-6)
        ref_cls = multiclass_jaccard_index(pred, target, c, average="none", ignore_index=255)
        torch.testing.assert_close(per_class_iou(pred, target, c).float(), ref_cls)


def test_meter_pools_pixels_over_batches():
    """Dataset mIoU comes from the summed confusion matrix, not from averaging per-image mIoU."""
    a_t, a_p = T([[0, 1], [1, 1]]), T([[0, 1], [1, 1]])  # perfect
    b_t, b_p = T([[0, 0], [0, 1]]), T([[0, 0], [0, 0]])  # misses its one class-1 pixel
    meter = SegmentationMeter(2, class_names=["background", "thing"])
    meter.update(a_p, a_t).update(b_p, b_t)
    assert torch.equal(meter.confusion, T([[4, 0], [1, 3]]))
    assert meter.miou() == pytest.approx((4 / 5 + 3 / 4) / 2)
    assert meter.miou() == pytest.approx(miou(torch.stack([a_p, b_p]), torch.stack([a_t, b_t]), 2))
    per_image = (miou(a_p, a_t, 2) + miou(b_p, b_t, 2)) / 2
    assert abs(meter.miou() - per_image) > 0.05
    assert meter.pixel_accuracy() == pytest.approx(7 / 8)
    assert meter.per_class() == pytest.approx({"background": 0.8, "thing": 0.75})
    meter.reset()
    assert int(meter.confusion.sum()) == 0 and math.isnan(meter.miou())


def test_meter_takes_scores():
    scores = torch.zeros(1, 3, 2, 2)
    scores[0, 2, 0, 0] = scores[0, 1, 1, 1] = 5.0
    meter = SegmentationMeter(3).update(scores, T([[[2, 0], [0, 1]]]))
    assert meter.miou() == 1.0


@pytest.mark.parametrize("pred, target, c, error, match", [
    (T([0, 3]), T([0, 1]), 3, ValueError, r"pred holds labels \[3\] outside 0..2"),
    (T([0, 1]), T([0, 7]), 3, ValueError, r"target holds labels \[7\] outside 0..2 or 255"),
    (T([0, 255]), T([0, 1]), 3, ValueError, r"pred holds labels \[255\]"),
    (T([0.0, 1.0]), T([0, 1]), 3, TypeError, "pred must be an integer tensor"),
    (T([0, 1]), T([0, 1, 1]), 3, ValueError, "one shape"),
    (T([0, 1]), T([0, 1]), 1, ValueError, "num_classes must be an integer >= 2"),
])
def test_bad_metric_input(pred, target, c, error, match):
    with pytest.raises(error, match=match):
        confusion_matrix(pred, target, c)


def test_meter_needs_all_class_names():
    with pytest.raises(ValueError, match="all 3 classes"):
        SegmentationMeter(3, class_names=["a", "b"])


# ------------------------------------------------------------------------------------------- pseudo masks
def _cams():
    cams = torch.zeros(1, 3, 2, 2)
    cams[0, 0] = T([[4.0, 2.0], [0.0, -1.0]])   # max 4 -> [[1, .5], [0, 0]] after ReLU
    cams[0, 1] = T([[1.0, 1.0], [0.5, 0.05]])   # max 1 -> itself
    cams[0, 2] = T([[9.0, 9.0], [9.0, 9.0]])    # strongest, but not in the label set below
    return cams


def test_pseudo_masks_exact():
    labels = T([[1.0, 1.0, 0.0]])
    m = pseudo_masks(_cams(), labels, threshold=0.3)
    # pixel (0,0): class0 1.0 vs class1 1.0 -> tie, first class; (0,1): .5 vs 1 -> class1;
    # (1,0): 0 vs .5 -> class1; (1,1): 0 vs .05 <= .3 -> background
    assert torch.equal(m, T([[[1, 2], [2, 0]]]))
    # a class outside the labels never appears; without restriction class 2 wins everywhere
    assert torch.equal(pseudo_masks(_cams(), None, threshold=0.3), torch.full((1, 2, 2), 3))
    # scores equal to the threshold stay background (strictly above is needed)
    assert torch.equal(pseudo_masks(_cams(), T([[0.0, 1.0, 0.0]]), threshold=0.5), T([[[2, 2], [0, 0]]]))


def test_pseudo_masks_invariant_to_map_scale_and_empty_label_set():
    labels = T([[1.0, 1.0, 0.0]])
    assert torch.equal(pseudo_masks(_cams() * 7.5, labels, 0.3), pseudo_masks(_cams(), labels, 0.3))
    assert torch.equal(pseudo_masks(_cams(), torch.zeros(1, 3), 0.3), torch.zeros(1, 2, 2, dtype=torch.int64))


def test_pseudo_masks_upsampling_and_normalisation_modes():
    cams = torch.zeros(1, 1, 2, 2)
    cams[0, 0, 0, 0] = 1.0
    m = pseudo_masks(cams, T([[1.0]]), threshold=0.5, size=(4, 4))
    assert m.shape == (1, 4, 4) and int(m[0, 0, 0]) == 1 and int(m[0, 3, 3]) == 0
    x = T([[[[2.0, 4.0], [6.0, 10.0]]]])
    torch.testing.assert_close(normalise_cams(x, "minmax"), T([[[[0.0, 0.25], [0.5, 1.0]]]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(normalise_cams(x, "max"), x / 10, atol=1e-5, rtol=0)
    assert torch.equal(normalise_cams(-x, None), -x)
    with pytest.raises(ValueError, match="normalise must be one of"):
        normalise_cams(x, "sum")


def test_threshold_sweep_equals_pointwise_evaluation():
    g = torch.Generator().manual_seed(1)
    cams = torch.rand(4, 3, 4, 4, generator=g)
    labels = (torch.rand(4, 3, generator=g) < 0.6).float()
    masks = torch.randint(0, 4, (4, 8, 8), generator=g)
    masks[:, 0] = 255
    ts = [0.0, 0.2, 0.5, 0.9, 1.0]
    sweep = threshold_sweep(cams, labels, masks, ts)
    for t, value in zip(ts, sweep.tolist()):
        assert value == pytest.approx(miou(pseudo_masks(cams, labels, t, size=(8, 8)), masks, 4))
    with pytest.raises(ValueError, match="masks must be N x H x W"):
        threshold_sweep(cams, labels, masks[:2], ts)


@pytest.mark.parametrize("cams, labels, match", [
    (torch.zeros(2, 3, 4), None, "cams must be a float tensor N x C x h x w"),
    (torch.zeros(2, 3, 4, 4, dtype=torch.long), None, "cams must be a float tensor"),
    (torch.zeros(2, 3, 4, 4), torch.zeros(2, 4), r"labels must be an N x C multi-hot tensor matching cams' \(2, 3\)"),
])
def test_bad_cams(cams, labels, match):
    with pytest.raises(ValueError, match=match):
        pseudo_masks(cams, labels)


# ---------------------------------------------------------------------------------------------------- TTA
def test_tta_identity_is_unchanged_for_flip_equivariant_maps():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out = tta_maps(lambda z: z * 2, x, scales=(1.0,), flip=True)
    torch.testing.assert_close(out, x * 2)


def test_tta_flip_averages_a_position_biased_map():
    """A model that always answers with a left-to-right ramp: its flipped view, flipped back, is the
    reversed ramp, so the average is flat (the mean of the ramp)."""
    ramp = torch.arange(4.0).expand(1, 1, 4, 4)
    calls = []

    def fn(z):
        calls.append(tuple(z.shape))
        if z.shape[-1] == 4:
            return ramp.expand(z.shape[0], 1, 4, 4).clone()
        return torch.zeros(z.shape[0], 1, 2, 2)

    out = tta_maps(fn, torch.zeros(1, 3, 4, 4), flip=True)
    torch.testing.assert_close(out, torch.full((1, 1, 4, 4), 1.5))
    assert calls == [(1, 3, 4, 4), (1, 3, 4, 4)]
    calls.clear()
    out = tta_maps(fn, torch.zeros(1, 3, 4, 4), scales=(1.0, 0.5), flip=False)
    assert calls == [(1, 3, 4, 4), (1, 3, 2, 2)]
    torch.testing.assert_close(out, ramp / 2)  # (ramp + zeros) / 2 views


def test_tta_multiscale_resizes_back_to_input():
    x = torch.ones(2, 3, 8, 8)
    out = tta_maps(lambda z: z[:, :2], x, scales=(0.5, 1.0, 1.5), flip=True)
    assert out.shape == (2, 2, 8, 8)
    torch.testing.assert_close(out, torch.ones(2, 2, 8, 8))
    assert tta_maps(lambda z: z[:, :2], x, size=(4, 4)).shape == (2, 2, 4, 4)


def test_tta_bad_input():
    x = torch.ones(2, 3, 8, 8)
    with pytest.raises(ValueError, match="scales must be positive"):
        tta_maps(lambda z: z, x, scales=(0.0,))
    with pytest.raises(ValueError, match="fn must return maps N x C x h x w with N = 2"):
        tta_maps(lambda z: z[0], x)
    with pytest.raises(ValueError, match="images must be a tensor N x C x H x W"):
        tta_maps(lambda z: z, torch.ones(3, 8, 8))


def test_round_trip_on_generated_scenes():
    """Indicator maps of the true classes, downsampled 4x and upsampled back by pseudo_masks, recover the
    masks up to the objects' outlines; with exact-size indicator maps the recovery is perfect."""
    from reprobook.data.scenes import make_scenes

    s = make_scenes(20, num_classes=4, size=32, objects=(1, 3), object_size=(0.4, 0.6), seed=0)
    onehot = torch.nn.functional.one_hot(s.masks, 5).permute(0, 3, 1, 2)[:, 1:].float()
    exact = pseudo_masks(onehot, s.labels, threshold=0.5)
    assert torch.equal(exact, s.masks) and miou(exact, s.masks, 5) == 1.0
    coarse = torch.nn.functional.avg_pool2d(onehot, 4)
    approx = miou(pseudo_masks(coarse, s.labels, threshold=0.5, size=(32, 32)), s.masks, 5)
    assert 0.7 < approx < 1.0


def test_counting_leaves_deterministic_mode_as_it_was():
    pred, target = T([[0, 1], [2, 2]]), T([[0, 1], [2, 255]])
    plain = confusion_matrix(pred, target, 3)
    was = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        assert torch.equal(confusion_matrix(pred, target, 3), plain)
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(was)
