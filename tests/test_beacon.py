"""BEACON (MuSCLe, Algorithms 1-3) and the boundary F-score: exact values on tiny hand-made masks."""
import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from reprobook.beacon import (OFFSETS, BeaconLoss, beacon_loss, beacon_signs, boundary_f_score, inout_points,
                              quantise_directions, sobel)


def vertical_edge(width=8, object_left=True):
    """A 1 x 8 x W map: the object (1) fills columns 0..3 (or 4..7 when ``object_left=False``)."""
    m = torch.zeros(1, 8, width)
    if object_left:
        m[0, :, :4] = 1
    else:
        m[0, :, 4:] = 1
    return m


def onehot(labels, k=2):
    return torch.nn.functional.one_hot(labels.long(), k).permute(0, 3, 1, 2).float()


def test_sobel_matches_scipy_per_channel():
    x = torch.rand(2, 3, 9, 7, generator=torch.Generator().manual_seed(0))
    gx, gy = sobel(x)
    for i in range(2):
        for j in range(3):
            img = x[i, j].numpy()
            np.testing.assert_allclose(gx[i, j].numpy(), ndimage.sobel(img, axis=1, mode="nearest"), atol=1e-5)
            np.testing.assert_allclose(gy[i, j].numpy(), ndimage.sobel(img, axis=0, mode="nearest"), atol=1e-5)


def test_eight_directions_and_bin_edges():
    for b in range(8):
        for offset_deg, expected in ((0, b), (20, b), (-20, b), (25, (b + 1) % 8), (-25, (b - 1) % 8)):
            a = math.radians(45 * b + offset_deg)
            got = quantise_directions(torch.tensor([math.cos(a)]), torch.tensor([math.sin(a)]))
            assert int(got) == expected, (b, offset_deg)
    # each bin's step is the 8-neighbour at that angle (y points down)
    for b in range(8):
        dx, dy = OFFSETS[b].tolist()
        assert math.isclose(math.atan2(dy, dx) % (2 * math.pi), math.radians(45 * b), abs_tol=1e-9)


def test_vertical_edge_inward_left_outward_right():
    p = inout_points(vertical_edge(), steps=2)
    b = p.boundary.reshape(8, 8)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[:, 3:5] = True  # Sobel responds on both sides of the edge
    assert torch.equal(b, expected)
    assert set(p.direction[p.boundary].tolist()) == {0}  # outward normal = +x
    cols_in, cols_out = (p.inward[p.boundary] % 8), (p.outward[p.boundary] % 8)
    col = torch.arange(64).reshape(8, 8)[b] % 8
    assert torch.equal(cols_in, col - 2) and torch.equal(cols_out, col + 2)
    rows = torch.arange(64).reshape(8, 8)[b] // 8
    assert torch.equal(p.inward[p.boundary] // 8, rows) and torch.equal(p.outward[p.boundary] // 8, rows)
    # the object on the right flips the direction
    q = inout_points(vertical_edge(object_left=False), steps=1)
    assert set(q.direction[q.boundary].tolist()) == {4}


def test_horizontal_and_diagonal_edges():
    m = torch.zeros(1, 8, 8)
    m[0, :4, :] = 1  # object on top: outward = down = +y = bin 2
    p = inout_points(m, steps=1)
    assert set(p.direction[p.boundary].tolist()) == {2}
    assert torch.equal(p.outward[p.boundary] - torch.arange(64)[p.boundary[0]], torch.full((16,), 8))
    d = torch.zeros(1, 12, 12)
    yy, xx = torch.meshgrid(torch.arange(12), torch.arange(12), indexing="ij")
    d[0][(xx + yy) < 11] = 1  # object in the upper-left triangle: outward = (+1, +1) = bin 1
    pd = inout_points(d, steps=1)
    core = pd.boundary.reshape(12, 12) & (xx > 1) & (xx < 10) & (yy > 1) & (yy < 10)
    assert core.any() and set(pd.direction.reshape(12, 12)[core].tolist()) == {1}


def test_points_outside_the_image_are_invalid_and_rules_agree_on_a_straight_edge():
    p = inout_points(vertical_edge(), steps=4)
    assert p.boundary.sum() == 16
    # column 3 steps to -1 (inward) and column 4 to 8 (outward): both leave the 8 px image
    assert p.valid.sum() == 0
    top, relmax = inout_points(vertical_edge(), 1, rule="top"), inout_points(vertical_edge(), 1, rule="relmax")
    assert torch.equal(top.boundary, relmax.boundary)


def test_top_rule_keeps_a_fifth_of_distinct_magnitudes():
    g = torch.Generator().manual_seed(1)
    m = torch.rand(1, 20, 20, generator=g)
    gx, gy = sobel(m[:, None])
    mag = torch.hypot(gx, gy).flatten()
    p = inout_points(m, 1, top=0.2)
    assert abs(int(p.boundary.sum()) - round(0.2 * 400)) <= 1
    assert float(mag[p.boundary[0]].min()) >= float(mag[~p.boundary[0]].max())
    r = inout_points(m, 1, top=0.2, rule="relmax")
    assert torch.equal(r.boundary[0], mag >= 0.8 * mag.max() - 1e-5)


def test_sign_table_four_cases_and_ties():
    s_mask = torch.tensor([0.2, 0.2, 0.8, 0.8, 0.5, 0.2])
    s_dense = torch.tensor([0.2, 0.8, 0.8, 0.2, 0.3, 0.5])
    out = beacon_signs(s_mask, s_dense, 0.5)
    assert out["TP"].tolist() == [True, False, False, False, False, False]
    assert out["FN"].tolist() == [False, True, False, False, False, False]
    assert out["TN"].tolist() == [False, False, True, False, False, False]
    assert out["FP"].tolist() == [False, False, False, True, False, False]
    assert out["sign"].tolist() == [1, 1, -1, -1, 0, 0]  # TP, FN push apart; TN, FP pull together; ties: none


def test_loss_exact_value_on_a_confident_decoder():
    mask = onehot((1 - vertical_edge()).long())  # class 1 on the right (columns 4-7)
    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 1] = 1.0  # class 1 everywhere: every S^d = p0^2 + p1^2 with p1 = sigmoid(1)
    p1 = 1 / (1 + math.exp(-1))
    s = p1 ** 2 + (1 - p1) ** 2
    loss, stats = beacon_loss(logits, mask, steps=2, k=64, tau=0.5, return_stats=True)
    # S^m = 0 < 0.5 and S^d > 0.5 everywhere: all points are FN (+1); the loss is mean_o S + mean_i S
    assert math.isclose(float(loss), 2 * s, rel_tol=1e-6)
    assert stats == {"groups": 1, "points": 16, "TP": 0, "FN": 32, "TN": 0, "FP": 0}
    log_loss = beacon_loss(logits, mask, steps=2, k=64, tau=0.5, form="log")
    assert math.isclose(float(log_loss), -2 * math.log(1 - s), rel_tol=1e-6)
    # a similarity equal to tau belongs to no case of Algorithm 3 (strict inequalities): sign 0
    assert float(beacon_loss(torch.zeros(1, 2, 8, 8), mask, steps=2, k=64, tau=0.5)) == 0.0
    # tau = mu_m: the mask's similarities are all 0 = their mean, so every point ties and nothing is pushed
    assert float(beacon_loss(logits, mask, steps=2, k=64)) == 0.0


def test_mu_m_pulls_together_what_the_mask_calls_same():
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :, :4] = 1
    labels[0, :2, 5:7] = 1  # two rows where the outward points still lie in the object: S^m = 1 there
    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 1] = 1.0
    loss, stats = beacon_loss(logits, onehot(labels), steps=2, k=64, return_stats=True)
    assert stats["TN"] + stats["FP"] > 0 and stats["TP"] + stats["FN"] > 0  # both signs occur


def test_one_gradient_step_lowers_similarity_across_a_true_boundary():
    mask = onehot((1 - vertical_edge()).long())  # class 1 on the right (columns 4-7)
    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 1] = 1.0  # the decoder wrongly calls both sides class 1
    logits = (logits + 0.1 * torch.randn(1, 2, 8, 8, generator=torch.Generator().manual_seed(0))).requires_grad_()

    def across(lg):
        p = lg.detach().softmax(1)[0]
        return float((p[:, :, 5:7] * p[:, :, 1:3]).sum(0).mean())  # inward cols 5-6 vs outward cols 1-2

    before = across(logits)
    beacon_loss(logits, mask, steps=2, k=64, tau=0.5).backward()
    with torch.no_grad():
        stepped = logits - 1.0 * logits.grad
    assert across(stepped) < before - 1e-3
    g = logits.grad.abs().sum(1)[0]
    assert float(g[:, 5:7].sum()) == 0.0  # sg(): the inward side (inside the object) gets no gradient
    assert float(g[:, 1:3].sum()) > 0


def test_k_limits_points_and_empty_masks_give_zero_with_gradient():
    mask = onehot((1 - vertical_edge()).long())
    logits = torch.zeros(1, 2, 8, 8, requires_grad=True)
    _, stats = beacon_loss(logits, mask, steps=2, k=5, tau=0.5, return_stats=True,
                           generator=torch.Generator().manual_seed(0))
    assert stats["points"] == 5
    empty = onehot(torch.zeros(1, 8, 8))  # background only: no foreground group
    loss = beacon_loss(logits, empty, steps=1, k=8)
    assert float(loss.detach()) == 0.0 and loss.requires_grad


def test_beacon_loss_wrapper_scales_and_respects_ignore():
    labels = (1 - vertical_edge()).long()
    logits = torch.zeros(1, 2, 8, 8)
    base = beacon_loss(logits, onehot(labels), steps=2, k=64, tau=0.5)
    assert math.isclose(float(BeaconLoss(2, lam=0.1, steps=2, k=64, tau=0.5)(logits, None, labels)),
                        0.1 * float(base), rel_tol=1e-6)
    ignored = labels.clone()
    ignored[..., 5:7] = 255  # every outward point is ignored: no pair left
    assert float(BeaconLoss(2, lam=1.0, steps=2, k=64, tau=0.5)(logits, None, ignored)) == 0.0


@pytest.mark.parametrize("kwargs, word", [({"tau": "mean"}, "tau"), ({"steps": 0}, "steps"), ({"k": 1}, "k"),
                                          ({"form": "exp"}, "form"), ({"orientation": "image"}, "orientation")])
def test_bad_arguments_name_the_problem(kwargs, word):
    with pytest.raises(ValueError, match=word):
        beacon_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), **kwargs)


def test_boundary_f_score_exact():
    a = torch.zeros(1, 8, 8, dtype=torch.long)
    a[0, :, :4] = 1
    b = torch.zeros(1, 8, 8, dtype=torch.long)
    b[0, :, :5] = 1  # the edge one pixel to the right
    assert boundary_f_score(a, a, tolerance=0) == 1.0
    assert math.isclose(boundary_f_score(a, b, tolerance=0), 0.5)  # one of two boundary columns shared
    assert boundary_f_score(a, b, tolerance=1) == 1.0
    band = torch.zeros(1, 8, 8, dtype=torch.long)
    band[0, :, :3] = 1
    band[0, :, 3:6] = 255  # an ignore band around the edge, as in VOC: the boundary lies in its middle
    assert boundary_f_score(a, band, tolerance=1) == 1.0
    assert boundary_f_score(torch.zeros_like(a), torch.zeros_like(a)) != boundary_f_score(torch.zeros_like(a), a)


def test_wrapper_passes_soft_masks_and_they_change_the_signs():
    labels = (1 - vertical_edge()).long()  # class 1 on the right
    conf = torch.linspace(0.55, 0.95, 8)[:, None].expand(8, 8)  # per-row confidence of the pseudo label
    p1 = torch.where(labels[0] == 1, conf, 1 - conf)
    soft = torch.stack([1 - p1, p1])[None]
    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 1] = 1.0
    wrapped = BeaconLoss(2, lam=0.5, steps=2, k=64)(logits, None, labels, soft)
    assert math.isclose(float(wrapped), 0.5 * float(beacon_loss(logits, soft, steps=2, k=64)), rel_tol=1e-6)
    _, stats = beacon_loss(logits, soft, steps=2, k=64, return_stats=True)
    # confident rows cross with low similarity (< mu_m, pushed apart), unsure rows with high (pulled together)
    assert stats["TP"] + stats["FN"] > 0 and stats["TN"] + stats["FP"] > 0
    assert float(beacon_loss(logits, torch.stack([1 - labels[0], labels[0]]).float()[None], steps=2, k=64)) == 0.0
