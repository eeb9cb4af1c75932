"""Tests of reprobook.mcl (MuSCLe's MCL losses): closed forms on tiny inputs, reference solvers, invariants."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import linprog

from reprobook import mcl


def unit(*v):
    t = torch.tensor(v, dtype=torch.float64)
    return t / t.norm()


# ------------------------------------------------------------------------------------ classification
def test_lsep_exact_value_and_pair_mean():
    s = torch.tensor([[2.0, 0.5, 1.0]])
    y = torch.tensor([[1.0, 0.0, 1.0]])
    # pairs (neg v=1, pos u in {0, 2}): exp(0.5-2) + exp(0.5-1)
    expected = math.log(1 + math.exp(-1.5) + math.exp(-0.5))
    assert mcl.lsep_loss(s, y).item() == pytest.approx(expected, rel=1e-6)
    expected_mean = math.log(1 + (math.exp(-1.5) + math.exp(-0.5)) / 2)
    assert mcl.lsep_loss(s, y, pair_mean=True).item() == pytest.approx(expected_mean, rel=1e-6)
    # no absent class: no pair, loss log 1 = 0
    assert mcl.lsep_loss(s, torch.ones(1, 3)).item() == 0.0


def test_focal_matches_formula_and_hcl_parts_sum():
    logits = torch.tensor([[1.0, -2.0], [0.3, 0.7]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = torch.sigmoid(logits)
    pt = torch.where(y > 0, p, 1 - p)
    at = torch.where(y > 0, torch.tensor(0.25), torch.tensor(0.75))
    expected = (-at * (1 - pt) ** 2 * torch.log(pt)).sum() / 2
    assert mcl.focal_loss(logits, y).item() == pytest.approx(expected.item(), rel=1e-5)
    total, parts = mcl.hybrid_classification_loss(logits, y, parts=True)
    assert total.item() == pytest.approx(sum(v.item() for v in parts.values()), rel=1e-6)
    assert parts["bce"].item() == pytest.approx(F.multilabel_soft_margin_loss(logits, y).item(), rel=1e-6)
    with pytest.raises(ValueError, match="variant"):
        mcl.hybrid_classification_loss(logits, y, variant="nope")


# ------------------------------------------------------------------------------------------------ IMC
def test_pair_masks_identical_and_disjoint_label_sets():
    y = torch.tensor([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1]])
    pos, neg = mcl.pair_masks(y)
    assert pos.nonzero().tolist() == [[0, 1], [1, 0]]
    # image 2 shares class 0 with images 0, 1: neither positive nor negative for them
    assert neg[0].tolist() == [False, False, False, True]
    assert neg[2].tolist() == [False, False, False, True]
    assert neg[3].tolist() == [True, True, True, False]


def test_imc_with_one_positive_is_infonce_and_equals_supcon():
    torch.manual_seed(0)
    z = F.normalize(torch.randn(4, 5, dtype=torch.float64), dim=1)
    y = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1]])
    t = 0.5
    loss, active = mcl.imc_per_anchor(z, y, temperature=t)
    s = z @ z.T / t
    # anchor 0: positive 1, negatives 2 and 3 -> cross-entropy with the positive as the target
    info_nce = F.cross_entropy(torch.stack([s[0, 1], s[0, 2], s[0, 3]])[None], torch.tensor([0]))
    assert loss[0].item() == pytest.approx(info_nce.item(), rel=1e-10)
    sup, _ = mcl.supcon_per_anchor(z, y, temperature=t)
    assert torch.allclose(loss, sup) and active.all()


def test_imc_sums_positives_inside_the_log():
    z = torch.stack([unit(1, 0), unit(1, 1), unit(0, 1), unit(-1, 0)])
    y = torch.tensor([[1, 0], [1, 0], [1, 0], [0, 1]])
    s = z @ z.T
    expected = -math.log((math.exp(s[0, 1]) + math.exp(s[0, 2])) / (math.exp(s[0, 1]) + math.exp(s[0, 2])
                                                                     + math.exp(s[0, 3])))
    loss, _ = mcl.imc_per_anchor(z, y)
    assert loss[0].item() == pytest.approx(expected, rel=1e-10)
    sup_expected = sum(-math.log(math.exp(s[0, p]) / (math.exp(s[0, p]) + math.exp(s[0, 3]))) for p in (1, 2))
    sup, _ = mcl.supcon_per_anchor(z, y)
    assert sup[0].item() == pytest.approx(sup_expected, rel=1e-10)


def test_no_positive_anchor_appendix_reading_and_code_skip():
    z = torch.stack([unit(1, 0), unit(0, 1), unit(1, 1)])
    y = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]])  # every pair is negative, none positive
    loss, active = mcl.imc_per_anchor(z, y)
    s = z @ z.T
    assert active.all()
    assert loss[0].item() == pytest.approx(math.log(math.exp(s[0, 1]) + math.exp(s[0, 2])), rel=1e-10)
    skipped, active_skip = mcl.imc_per_anchor(z, y, empty_positives="skip")
    assert not active_skip.any() and (skipped == 0).all()
    sup, sup_active = mcl.supcon_per_anchor(z, y)
    assert not sup_active.any() and (sup == 0).all()


def test_gradient_matches_eq_a3_and_vanishes_only_for_supcon():
    torch.manual_seed(1)
    z = F.normalize(torch.randn(6, 4, dtype=torch.float64), dim=1)
    y = torch.tensor([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    norms, n_pos, n_neg = mcl.anchor_gradient_norms(z, y, "imc")
    pos, neg = mcl.pair_masks(y)
    for i in range(6):  # Eq. A.3 by hand
        w_all = torch.exp(z[i] @ z.T) * (pos[i] | neg[i])
        w_pos = torch.exp(z[i] @ z.T) * pos[i]
        g = (w_all[:, None] * z).sum(0) / w_all.sum() - ((w_pos[:, None] * z).sum(0) / w_pos.sum() if pos[i].any() else 0)
        assert norms[i].item() == pytest.approx(g.norm().item(), rel=1e-8)
    # an anchor without positives: IMC's gradient is a convex mix of unit vectors (norm <= 1, here > 0) ...
    assert n_pos[0] == 1 and n_pos[3] == 1
    y2 = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])
    norms2, p2, _ = mcl.anchor_gradient_norms(z[:4], y2, "imc")
    assert p2[0] == 0 and 0 < norms2[0] <= 1
    # ... while SupCon's is exactly zero (Eq. A.8)
    sup2, _, _ = mcl.anchor_gradient_norms(z[:4], y2, "supcon")
    assert sup2[0].item() == 0.0


def test_printed_bound_is_attained_at_the_papers_configuration_but_can_be_exceeded():
    n_pos, n_neg = 2, 3
    zi, zt = unit(1, 0), unit(0, 1)  # positives orthogonal to the anchor, negatives parallel (A.5 equality)
    z = torch.stack([zi] + [zt] * n_pos + [zi] * n_neg)
    y = torch.tensor([[1, 0]] * (1 + n_pos) + [[0, 1]] * n_neg)
    norms, p, m = mcl.anchor_gradient_norms(z, y, "imc")
    assert (p[0], m[0]) == (n_pos, n_neg)
    assert norms[0].item() == pytest.approx(mcl.imc_printed_bound(n_pos, n_neg), rel=1e-10)
    # positives opposite to the anchor: larger than the printed "maximum" (and larger than 1)
    z_bad = torch.stack([zi] + [-zi] * n_pos + [zi] * n_neg)
    bad, _, _ = mcl.anchor_gradient_norms(z_bad, y, "imc")
    assert bad[0].item() > mcl.imc_printed_bound(n_pos, n_neg) and bad[0].item() > 1
    assert mcl.imc_printed_bound(0, 5) == 1.0


# ------------------------------------------------------------------------------------- CAM and SAM
def test_background_cam_eq4_eq5():
    cams = torch.tensor([[[[0.0]], [[math.log(3.0)]]]])  # softmax -> (0.25, 0.75)
    m = mcl.background_cam(cams)
    assert m.flatten().tolist() == pytest.approx([0.25, 0.25, 0.75])
    masked = mcl.background_cam(cams, torch.tensor([[1.0, 0.0]]))
    assert masked.flatten().tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_sam_with_zero_queries_averages_the_values():
    torch.manual_seed(0)
    sam = mcl.SpatialAttention(3, key_channels=2)
    with torch.no_grad():
        sam.g1.weight.zero_(), sam.g1.bias.zero_()
    m = torch.randn(2, 3, 4, 5)
    out = sam(m)
    values = sam.g3(m).mean((2, 3), keepdim=True).expand_as(out)  # uniform attention: mean over pixels
    assert torch.allclose(out, values, atol=1e-6)


# --------------------------------------------------------------------------------------- two views
def test_two_view_overlap_boxes_cover_the_same_pixels():
    g = torch.Generator().manual_seed(3)
    images = torch.rand(16, 3, 24, 20)
    v1, v2, b1, b2 = mcl.two_view_crops(images, 16, align=4, generator=g)
    assert v1.shape == v2.shape == (16, 3, 16, 16)
    assert (b1 % 4 == 0).all() and (b2 % 4 == 0).all()
    assert (b1[:, 2:] >= 2 * 16 - torch.tensor([24, 20])).all()
    for i in range(16):
        t1, l1, h, w = b1[i].tolist()
        t2, l2, _, _ = b2[i].tolist()
        assert torch.equal(v1[i, :, t1:t1 + h, l1:l1 + w], v2[i, :, t2:t2 + h, l2:l2 + w])
    with pytest.raises(ValueError, match="overlap"):
        mcl.two_view_crops(images, 10)


def test_pixc_is_minus_one_for_consistent_maps_at_output_stride():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 32, 32)
    v1, v2, b1, b2 = mcl.two_view_crops(images, 24, align=4, generator=g)
    f1, f2 = F.avg_pool2d(v1, 4), F.avg_pool2d(v2, 4)  # a "network" of stride 4 that is translation-equivariant
    assert mcl.pixc_loss(f1, f2, b1, b2, stride=4).item() == pytest.approx(-1.0, abs=1e-6)
    assert mcl.pixc_loss(f1, -f2, b1, b2, stride=4).item() == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------------------------- Sinkhorn and PRC
def exact_emd(cost, a, b):
    n, m = cost.shape
    eq = np.zeros((n + m, n * m))
    for i in range(n):
        eq[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        eq[n + j, j::m] = 1
    res = linprog(cost.flatten(), A_eq=eq, b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs")
    return res.fun


@pytest.mark.parametrize("n,m", [(2, 2), (3, 3), (2, 3)])
def test_sinkhorn_converges_to_exact_emd(n, m):
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(3):
        cost = rng.random((n, m))
        a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
        a, b = a / a.sum(), b / b.sum()
        d, plan = mcl.sinkhorn(torch.tensor(cost)[None], torch.tensor(a)[None], torch.tensor(b)[None],
                               eps=0.002, iters=3000)
        assert d.item() == pytest.approx(exact_emd(cost, a, b), abs=5e-3)
        assert np.allclose(plan[0].sum(1).numpy(), a, atol=1e-4) and np.allclose(plan[0].sum(0).numpy(), b, atol=1e-4)


def test_patches_match_slicing_and_prc_picks_the_minimum():
    torch.manual_seed(0)
    m = torch.randn(2, 3, 8, 8)
    stat = mcl.static_patches(m, 2)
    assert torch.equal(stat[1, 3], m[1, :, 4:, 4:]) and torch.equal(stat[0, 1], m[0, :, :4, 4:])
    dyn = mcl.dynamic_patches(m, (3, 2), (2, 3))
    assert dyn.shape == (2, 3 * 3, 3, 3, 2)
    assert torch.equal(dyn[0, 4], m[0, :, 2:5, 3:5])
    sam = torch.softmax(torch.randn(2, 3, 8, 8), 1).requires_grad_(True)
    cam = torch.softmax(torch.randn(2, 3, 8, 8), 1).requires_grad_(True)
    loss, dist = mcl.prc_loss(sam, cam, generator=torch.Generator().manual_seed(5), return_pairs=True)
    assert loss.item() == pytest.approx(dist.flatten(1).amin(1).mean().item(), rel=1e-6)
    size, stride = mcl.random_patch_geometry(8, 8, torch.Generator().manual_seed(5))
    p = mcl.dynamic_patches(sam, size, stride)[0, 0].flatten(1).T
    q = mcl.static_patches(cam, 2)[0, 0].flatten(1).T
    assert dist[0, 0, 0].item() == pytest.approx(mcl.patch_emd(p[None], q[None]).item(), rel=1e-5)
    loss.backward()
    assert sam.grad is not None and sam.grad.abs().sum() > 0 and cam.grad is None  # stop-gradient on the CAM side


def test_prc_of_identical_patch_is_near_zero():
    # one map equal on both sides, a geometry that reproduces a static patch: EMD ~ entropic residue only
    m = torch.softmax(torch.randn(1, 4, 8, 8), 1)
    p = mcl.static_patches(m, 2)[0, 0].flatten(1).T[None]
    same = mcl.patch_emd(p, p, eps=0.01, iters=200).item()
    other = mcl.patch_emd(p, mcl.static_patches(1 - m, 2)[0, 3].flatten(1).T[None], eps=0.01, iters=200).item()
    assert same < 0.05 < other


def test_losses_average_over_the_batch_and_hcl_code_variant():
    torch.manual_seed(2)
    z = torch.randn(5, 3)
    y = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1]])
    per, active = mcl.imc_per_anchor(z, y)
    assert not active[4]  # shares a label with everyone: neither positive nor negative pairs
    assert mcl.imc_loss(z, y).item() == pytest.approx(per.sum().item() / 5, rel=1e-6)
    sup, _ = mcl.supcon_per_anchor(z, y)
    assert mcl.supcon_loss(z, y).item() == pytest.approx(sup.sum().item() / 5, rel=1e-6)
    logits = torch.tensor([[1.0, -1.0, 0.5]])
    lab = torch.tensor([[1.0, 0.0, 0.0]])
    _, parts = mcl.hybrid_classification_loss(logits, lab, "code", parts=True)
    p = torch.sigmoid(logits)[0]
    expected_pair = math.log(1 + (math.exp(p[1] - p[0]) + math.exp(p[2] - p[0])) / 2)
    assert parts["pair"].item() == pytest.approx(expected_pair, rel=1e-6)
    assert parts["focal"].item() == pytest.approx(mcl.focal_loss(logits, lab, alpha=0.5).item(), rel=1e-6)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="labels must be an N x C"):
        mcl.hybrid_classification_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="temperature"):
        mcl.imc_loss(torch.zeros(2, 3), torch.eye(2), temperature=0)
    with pytest.raises(ValueError, match="empty_positives"):
        mcl.imc_loss(torch.zeros(2, 3), torch.eye(2), empty_positives="drop")
    with pytest.raises(ValueError, match="align"):
        mcl.two_view_crops(torch.zeros(1, 3, 16, 16), 12, align=5)
    with pytest.raises(ValueError, match="multiples of the output stride"):
        mcl.overlap_vectors(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), torch.tensor([[1, 0, 2, 2]]),
                            torch.tensor([[0, 0, 2, 2]]), stride=2)
    with pytest.raises(ValueError, match="divisible"):
        mcl.static_patches(torch.zeros(1, 2, 5, 4), 2)
    # an image without labels under the label mask: background 1, no NaN
    m = mcl.background_cam(torch.randn(1, 2, 2, 2), torch.zeros(1, 2))
    assert torch.equal(m[:, 0], torch.ones(1, 2, 2)) and not torch.isnan(m).any()
