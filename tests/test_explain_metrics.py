"""Explanation metrics on constructed cases with known answers (values worked out by hand in comments)."""
import math

import pytest
import torch
from torch import nn

from reprobook.explain import (CamExplainer, ExplanationScores, detections, explanation_metrics, mask_energy,
                               masked_scores, pair_metrics)

NAN = float("nan")


def constructed_scores():
    """Three images, K = 3 classes.

    image 0, labels {0, 1}: Y = (0.8, 0.5, 0.1)
      slot c=0: O = (0.9, 0.25, .)  -> ic 1, ad 0, ado (0.5-0.25)/0.5 = 0.5
                Obar = (0.4, 0.4, .) -> ar (0.8-0.4)/0.8 = 0.5, aro (0.5-0.4)/0.5 = 0.2
      slot c=1: O = (0.4, 0.5, .)   -> ic 0 (not strictly higher), ad 0, ado (0.8-0.4)/0.8 = 0.5
                Obar = (0.8, 0.1, .) -> ar (0.5-0.1)/0.5 = 0.8, aro 0
    image 1, labels {2}: Y = (0.2, 0.3, 0.6)
      slot c=2: O = (., ., 0.3) -> ic 0, ad 0.5; Obar = (., ., 0.15) -> ar 0.75; no other class: ado/aro undefined
    image 2, labels {0}: Y = (0.5, 0.9, 0.9)
      slot c=0: O = (0.25, ., .) -> ic 0, ad 0.5; Obar = (0.5, ., .) -> ar 0
    """
    Y = torch.tensor([[0.8, 0.5, 0.1], [0.2, 0.3, 0.6], [0.5, 0.9, 0.9]])
    O = torch.full((3, 2, 3), NAN)
    Ob = torch.full((3, 2, 3), NAN)
    O[0, 0] = torch.tensor([0.9, 0.25, 0.7])
    Ob[0, 0] = torch.tensor([0.4, 0.4, 0.7])
    O[0, 1] = torch.tensor([0.4, 0.5, 0.7])
    Ob[0, 1] = torch.tensor([0.8, 0.1, 0.7])
    O[1, 0] = torch.tensor([0.9, 0.9, 0.3])
    Ob[1, 0] = torch.tensor([0.9, 0.9, 0.15])
    O[2, 0] = torch.tensor([0.25, 0.1, 0.1])
    Ob[2, 0] = torch.tensor([0.5, 0.1, 0.1])
    T = torch.tensor([[0, 1], [2, -1], [0, -1]])
    return ExplanationScores(Y, O, Ob, T)


def harmonic(a, b):
    return 2 * a * b / (a + b) if a + b > 0 else 0.0


def test_pair_values_match_the_hand_computation():
    p = pair_metrics(constructed_scores())
    torch.testing.assert_close(p["ic"], torch.tensor([[1.0, 0.0], [0.0, NAN], [0.0, NAN]]), equal_nan=True)
    torch.testing.assert_close(p["ad"], torch.tensor([[0.0, 0.0], [0.5, NAN], [0.5, NAN]]), equal_nan=True)
    torch.testing.assert_close(p["ado"], torch.tensor([[0.5, 0.5], [NAN, NAN], [NAN, NAN]]), equal_nan=True)
    torch.testing.assert_close(p["ar"], torch.tensor([[0.5, 0.8], [0.75, NAN], [0.0, NAN]]), equal_nan=True)
    torch.testing.assert_close(p["aro"], torch.tensor([[0.2, 0.0], [NAN, NAN], [NAN, NAN]]), equal_nan=True)


def test_micro_average_is_the_mean_over_pairs():
    m = explanation_metrics(constructed_scores(), average="micro")
    expected = {"ic": 1 / 4, "ad": 1 / 4, "ado": 0.5, "ar": (0.5 + 0.8 + 0.75 + 0.0) / 4, "aro": 0.1}
    for k, v in expected.items():
        assert m[k] == pytest.approx(v), k
    assert m["f1_neg"] == pytest.approx(harmonic(0.25, 0.1))  # = 0.142857
    assert m["f1_pos"] == pytest.approx(harmonic(0.5125, 0.5))


def test_macro_average_is_per_class_then_mean_with_per_class_f1():
    # class 0: pairs (0,0) and (2,0): ic .5, ad .25, ar .25, ado .5, aro .2 (one defined pair each)
    # class 1: ic 0, ad 0, ar .8, ado .5, aro 0
    # class 2: ic 0, ad .5, ar .75, ado/aro undefined (no F1 for this class)
    m = explanation_metrics(constructed_scores(), average="macro")
    assert m["ic"] == pytest.approx(0.5 / 3)
    assert m["ad"] == pytest.approx(0.75 / 3)
    assert m["ar"] == pytest.approx((0.25 + 0.8 + 0.75) / 3)
    assert m["ado"] == pytest.approx(0.5)
    assert m["aro"] == pytest.approx(0.1)
    assert m["f1_neg"] == pytest.approx((harmonic(0.25, 0.2) + harmonic(0.0, 0.0)) / 2)  # 0.1111
    assert m["f1_pos"] == pytest.approx((harmonic(0.25, 0.5) + harmonic(0.8, 0.5)) / 2)  # 0.4744
    assert m["f1_pos"] != pytest.approx(harmonic(m["ar"], m["ado"]))  # per-class F1, not F1 of the averages


def test_context_sets_the_other_classes():
    # give image 1 the label set {1, 2}: slot c=2 now has N = {1}: O^1 = 0.9 >= Y^1 -> ado 0; Obar^1 0.9 -> aro 0
    p = pair_metrics(constructed_scores(), context=[[0, 1], [1, 2], [0]])
    assert p["ado"][1, 0] == 0.0 and p["aro"][1, 0] == 0.0


class HalfSums(nn.Module):
    """logit 0 = sum of the left half's pixels, logit 1 = sum of the right half's pixels."""

    def forward(self, x):
        w = x.shape[-1] // 2
        return torch.stack([x[..., :w].sum((1, 2, 3)), x[..., w:].sum((1, 2, 3))], dim=1)


def test_masked_scores_multiply_the_image_by_the_map_and_its_complement():
    x = torch.ones(1, 1, 1, 4)
    maps = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]], [[0.0, 0.5, 0.5, 1.0]]]])  # slot 0 class 0, slot 1 class 1
    s = masked_scores(HalfSums(), x, maps, torch.tensor([[0, 1]]), chunk_size=1)
    sig = torch.sigmoid
    torch.testing.assert_close(s.Y, sig(torch.tensor([[2.0, 2.0]])))
    torch.testing.assert_close(s.O[0, 0], sig(torch.tensor([2.0, 0.0])))
    torch.testing.assert_close(s.O_bar[0, 0], sig(torch.tensor([0.0, 2.0])))
    torch.testing.assert_close(s.O[0, 1], sig(torch.tensor([0.5, 1.5])))
    torch.testing.assert_close(s.O_bar[0, 1], sig(torch.tensor([1.5, 0.5])))
    m = explanation_metrics(s, average="micro")
    # slot 0: ad 0, ar (s2 - s0)/s2; ado (s2 - s0)/s2; aro 0
    drop = (sig(torch.tensor(2.0)) - sig(torch.tensor(0.0))) / sig(torch.tensor(2.0))
    assert m["ado"] == pytest.approx(((drop + (sig(torch.tensor(2.)) - sig(torch.tensor(.5))) / sig(torch.tensor(2.))) / 2).item())
    assert m["ad"] == pytest.approx(((sig(torch.tensor(2.)) - sig(torch.tensor(1.5))) / sig(torch.tensor(2.)) / 2).item())


def test_a_perfectly_focused_map_on_a_linear_model_scores_as_the_paper_intends():
    # the masked image keeps only class 0's half: no drop for c, full drop for the other class, and hiding
    # the region drops c and keeps the other class: AD 0, ADO high, AR high, ARO 0
    x = torch.full((1, 1, 1, 4), 3.0)
    maps = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
    m = explanation_metrics(masked_scores(HalfSums(), x, maps, torch.tensor([[0]])), context=[[0, 1]],
                            average="micro")
    assert m["ad"] == 0.0 and m["aro"] == 0.0 and m["f1_neg"] == 0.0
    assert m["ado"] > 0.49 and m["ar"] > 0.49


def test_masked_scores_accepts_a_cam_result_and_checks_shapes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3))
    x = torch.randn(2, 3, 8, 8)
    res = CamExplainer(model)(x, [[0, 2], [1]], "gradcam")
    s = masked_scores(model, x, res, chunk_size=3)
    assert s.O.shape == (2, 2, 3) and torch.isnan(s.O[1, 1]).all() and not torch.isnan(s.O[0]).any()
    with pytest.raises(ValueError, match="do not match images"):
        masked_scores(model, x[:, :, :4], res)
    with pytest.raises(ValueError, match=r"maps must lie in \[0, 1\]"):
        masked_scores(model, x, res.maps * 2, res.targets)
    with pytest.raises(ValueError, match="average must be 'macro' or 'micro'"):
        explanation_metrics(s, average="weighted")


def test_mask_energy_shares():
    # one image, 4 pixels; class 0 owns pixel 0, class 1 pixels 1-2 (pixel 1 also class 0's: own wins)
    maps = torch.tensor([[[[1.0, 1.0, 2.0, 0.0]], [[0.0, 0.0, 3.0, 1.0]]]])
    masks = torch.tensor([[[[True, True, False, False]], [[False, True, True, False]]]])
    e = mask_energy(maps, masks, torch.tensor([[0, 1]]), average=None)
    torch.testing.assert_close(e["inside"], torch.tensor([[2 / 4, 3 / 4]]))
    torch.testing.assert_close(e["others"], torch.tensor([[2 / 4, 0.0]]))
    torch.testing.assert_close(e["background"], torch.tensor([[0.0, 1 / 4]]))
    macro = mask_energy(maps, masks, torch.tensor([[0, 1]]))
    assert macro["inside"] == pytest.approx(0.625) and macro["others"] == pytest.approx(0.25)
    # an all-zero map has no shares; a class absent from the label set is not "other"
    e2 = mask_energy(torch.zeros(1, 1, 1, 4), masks, torch.tensor([[0]]), average=None)
    assert torch.isnan(e2["inside"]).all()
    e3 = mask_energy(maps[:, :1], masks, torch.tensor([[0]]), context=[[0]], average=None)
    assert e3["others"].item() == 0.0 and e3["background"].item() == pytest.approx(0.5)


def test_detections_threshold_the_sigmoid():
    logits = torch.tensor([[2.0, -1.0, 0.1], [-3.0, -2.0, -0.1]])
    assert detections(logits) == [[0, 2], []]
    assert detections(logits, threshold=0.8) == [[0], []]


def test_empty_label_sets_give_nan_not_errors():
    s = ExplanationScores(torch.rand(2, 3), torch.full((2, 0, 3), NAN), torch.full((2, 0, 3), NAN),
                          torch.zeros(2, 0, dtype=torch.long))
    m = explanation_metrics(s)
    assert all(math.isnan(v) for v in m.values())


def test_label_map_grid_has_one_row_per_label_and_outlines_other_objects():
    import matplotlib

    matplotlib.use("Agg")
    from reprobook.explain import pick_multilabel_rows, plot_label_maps

    targets = [[0], [1, 2], [2, 0, 1], []]
    assert pick_multilabel_rows(targets) == [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
    assert pick_multilabel_rows([[0], [], [2]], n_images=1) == [(0, 0)]
    images = torch.rand(4, 3, 8, 8)
    masks = torch.zeros(4, 8, 8, dtype=torch.long)
    masks[1, :4] = 2  # class 1 of image 1 (stored as c + 1)
    masks[1, 4:] = 3  # class 2
    maps = {"cam": torch.rand(4, 3, 8, 8), "minmaxcam": torch.rand(4, 3, 8, 8)}
    fig = plot_label_maps(images, masks, targets, maps, {"cam": "CAM", "minmaxcam": "MinMax-CAM"},
                          ["a", "b", "c"], "title", n_images=1)
    axes = fig.axes
    assert len(axes) == 2 * 3  # rows: the two labels of image 1; columns: image + two methods
    assert axes[0].get_ylabel() == "explain: b" and axes[3].get_ylabel() == "explain: c"
    assert [axes[1].get_title(), axes[2].get_title()] == ["CAM", "MinMax-CAM"]
    assert all(len(ax.collections) > 0 for ax in (axes[1], axes[2], axes[4], axes[5]))  # red outlines drawn
    with pytest.raises(ValueError, match="no test image has a label"):
        plot_label_maps(images, masks, [[], []], maps, {"cam": "CAM", "minmaxcam": "M"}, ["a"], "t")
