"""Exact tests of the Puzzle-CAM / OC-CSE / P-NOC / C2AM(-H) building blocks (reprobook.puzzle)."""
import math

import pytest
import torch
from torch import nn

from reprobook.puzzle import (NocTrainer, activation_mask, c2am_loss, disentangle, drop_class, erase, hint_loss, merge,
                              ramp, rank_weights, reconstruction_loss, sample_present_class, smooth_labels, tile)


def test_tile_quadrants_and_exact_round_trip():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    t = tile(x)
    assert t.shape == (8, 1, 2, 2)
    # first block = top-left quadrants of both images, then top-right, bottom-left, bottom-right
    assert t[0, 0].tolist() == [[0, 1], [4, 5]]
    assert t[1, 0].tolist() == [[16, 17], [20, 21]]
    assert t[2, 0].tolist() == [[2, 3], [6, 7]]
    assert t[4, 0].tolist() == [[8, 9], [12, 13]]
    assert t[7, 0].tolist() == [[26, 27], [30, 31]]
    y = torch.randn(3, 5, 6, 8)
    assert torch.equal(merge(tile(y)), y)


def test_tile_rejects_odd_sizes_and_merge_bad_batches():
    with pytest.raises(ValueError, match="even height and width"):
        tile(torch.zeros(1, 3, 5, 4))
    with pytest.raises(ValueError, match="4N"):
        merge(torch.zeros(3, 1, 2, 2))


def test_merge_of_a_fully_convolutional_map_equals_per_tile_maps():
    # a 1x1 conv commutes with tiling: merge(f(tile(x))) == f(x) exactly
    conv = nn.Conv2d(3, 2, 1)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(merge(conv(tile(x))), conv(x), atol=1e-6)


def test_reconstruction_loss_is_the_mean_absolute_error():
    a = torch.tensor([[[[1.0, -2.0], [0.0, 3.0]]]])
    b = torch.tensor([[[[0.0, 0.0], [0.0, 1.0]]]])
    assert float(reconstruction_loss(a, b)) == pytest.approx((1 + 2 + 0 + 2) / 4)
    with pytest.raises(ValueError, match="differ in shape"):
        reconstruction_loss(a, torch.zeros(1, 1, 4, 4))


def test_ramp_and_label_smoothing():
    assert ramp(0.0, 0, 4, until=0.5) == 0
    assert ramp(0.25, 0, 4, until=0.5) == 2
    assert ramp(0.9, 0, 4, until=0.5) == 4
    assert ramp(0.5, 0.3, 1.0) == pytest.approx(0.65)
    assert smooth_labels(torch.tensor([1.0, 0.0]), 0.1).tolist() == pytest.approx([0.95, 0.05])
    with pytest.raises(ValueError):
        ramp(0.1, 0, 1, until=0)


def test_sample_present_class_draws_only_labels_and_covers_them():
    y = torch.tensor([[1.0, 0, 1, 0], [0, 0, 0, 1]])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_present_class(y, g) for _ in range(200)])
    assert set(draws[:, 0].tolist()) == {0, 2}
    assert set(draws[:, 1].tolist()) == {3}
    with pytest.raises(ValueError, match="no label"):
        sample_present_class(torch.tensor([[0.0, 0.0]]))


def test_drop_class_and_soft_and_hard_erasing():
    y = torch.tensor([[1.0, 1, 0], [0, 1, 1]])
    assert drop_class(y, torch.tensor([0, 2])).tolist() == [[0, 1, 0], [0, 1, 0]]
    assert y[0, 0] == 1  # a copy
    maps = torch.zeros(1, 2, 2, 2)
    maps[0, 1] = torch.tensor([[4.0, 2.0], [-1.0, 0.0]])
    m = activation_mask(maps, torch.tensor([1]), (2, 2), eps=0.0)
    assert m[0, 0].tolist() == [[1.0, 0.5], [0.0, 0.0]]  # ReLU, then / max
    x = torch.ones(1, 3, 2, 2)
    assert erase(x, m)[0, 0].tolist() == [[0.0, 0.5], [1.0, 1.0]]
    assert erase(x, m, threshold=0.2)[0, 0].tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert erase(x, m, threshold=0.6)[0, 0].tolist() == [[0.0, 1.0], [1.0, 1.0]]


def test_soft_erasing_passes_gradients_to_the_maps():
    maps = torch.rand(2, 3, 4, 4, requires_grad=True)
    x_hat = erase(torch.ones(2, 3, 8, 8), activation_mask(maps, torch.tensor([0, 2]), (8, 8)))
    x_hat.sum().backward()
    assert maps.grad[0, 0].abs().sum() > 0 and maps.grad[0, 1].abs().sum() == 0


def test_noc_trainer_updates_every_k_steps_with_hard_masks_and_full_labels():
    torch.manual_seed(0)
    noc = nn.Sequential(nn.Conv2d(3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    for p in noc.parameters():
        p.requires_grad_(False)  # frozen for f's loss, as in training
    opt = torch.optim.SGD(noc.parameters(), lr=0.1)
    trainer = NocTrainer(noc, opt, every=2, delta=0.5)
    x = torch.ones(1, 3, 2, 2)
    maps = torch.zeros(1, 2, 2, 2)
    maps[0, 0, 0, 0] = 1.0  # class 0 fires on the top-left pixel only
    y = torch.tensor([[1.0, 1.0]])
    before = [p.clone() for p in noc.parameters()]
    trainer.observe(x, maps, torch.tensor([0]), y, weight=1.0)
    assert trainer.update() is None  # step 1 of 2: nothing kept
    trainer.observe(x, maps, torch.tensor([0]), y, weight=1.0)
    x_hat, target, _ = trainer._pending
    assert x_hat[0, 0].tolist() == [[0.0, 1.0], [1.0, 1.0]] and torch.equal(target, y)  # hard mask, y with r
    loss = trainer.update()
    assert loss is not None and trainer.updates == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, noc.parameters()))
    assert all(not p.requires_grad for p in noc.parameters())  # frozen again for f's next step
    with pytest.raises(ValueError, match="every"):
        NocTrainer(noc, opt, every=0)


def test_disentangle_is_the_probability_weighted_mean():
    a = torch.tensor([[[[2.0, 4.0]]]])  # N=1, K=1, 1 x 2
    p = torch.tensor([[[[1.0, 0.25]]]])
    fg, bg = disentangle(a, p)
    assert fg.item() == pytest.approx((2 * 1 + 4 * 0.25) / 2)
    assert bg.item() == pytest.approx((0 + 4 * 0.75) / 2)


def test_rank_weights_by_hand():
    s = torch.tensor([[1.0, 0.2, 0.9], [0.2, 1.0, 0.5], [0.9, 0.5, 1.0]])
    w = rank_weights(s, alpha=1.0)
    e = math.exp(-1)
    assert w.flatten().tolist() == pytest.approx([0, e, 1, e, 0, 1, 1, e, 0])


def test_c2am_loss_terms_by_hand_and_the_printed_sign():
    fg = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    bg = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    out = c2am_loss(fg, bg, alpha=0.25)
    s = 1 / math.sqrt(2)  # cos(fg0, fg1) and cos(fg1, bg*)
    # two ordered pairs i != j, both of rank 0 (weight 1), divided by n(n-1) = 2
    assert float(out["pos_f"]) == pytest.approx(-math.log(s))
    assert float(out["pos_b"]) == pytest.approx(-math.log(1 - 1e-4), abs=1e-6)  # identical backgrounds: s clamped
    neg = -(math.log(1 - 1e-4) * 2 + 2 * math.log(1 - s)) / 4  # cos(fg0, bg) = 0 -> clamped to 1e-4
    assert float(out["neg"]) == pytest.approx(neg, rel=1e-5)
    assert float(out["total"]) == pytest.approx(float(out["pos_f"] + out["pos_b"] + out["neg"]))
    printed = c2am_loss(fg, bg, alpha=0.25, sign="as_printed")
    assert float(printed["pos_f"]) == pytest.approx(-float(out["pos_f"]))


def test_c2am_corrected_loss_pulls_foregrounds_together():
    torch.manual_seed(0)
    fg = torch.randn(4, 3, requires_grad=True)
    bg = torch.randn(4, 3)
    c2am_loss(fg, bg)["pos_f"].backward()
    step = fg.detach() - 0.1 * fg.grad
    assert float(c2am_loss(step, bg)["pos_f"]) < float(c2am_loss(fg.detach(), bg)["pos_f"])


def test_hint_loss_only_on_hinted_pixels():
    p = torch.tensor([[[[0.5, 0.25], [0.9, 0.1]]]])
    hints = torch.tensor([[[[0.8, 0.3], [0.41, 0.0]]]])
    expect = -(math.log(0.5) + math.log(0.9))
    assert float(hint_loss(p, hints, 0.4, reduction="sum")) == pytest.approx(expect, rel=1e-5)
    assert float(hint_loss(p, hints, 0.4)) == pytest.approx(expect / 2, rel=1e-5)
    assert float(hint_loss(p, hints, 0.95)) == 0.0
