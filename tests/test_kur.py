"""Kernel usage regularisation: hand-computed values, the initialisation scale (1/C and its alpha fix), the
Jacobian through both factors, the CAM engine reading the effective weights, folding, diagnostics, bad input."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from reprobook.explain import CamExplainer
from reprobook.kur import (KernelUsage, apply_kur, class_correlation, fold_kur, is_kur, kernel_usage_weights,
                           raw_weight, weight_diagnostics)


def test_hand_computed_column():
    # one kernel, two classes: softmax([0, ln 3]) = [1/4, 3/4], so W^r = alpha * [0, 3/4 ln 3]
    W = torch.tensor([[0.0], [math.log(3.0)]], dtype=torch.float64)
    assert torch.allclose(kernel_usage_weights(W), torch.tensor([[0.0], [0.75 * math.log(3.0)]], dtype=torch.float64))
    assert torch.allclose(kernel_usage_weights(W, alpha=2.0), torch.tensor([[0.0], [1.5 * math.log(3.0)]],
                                                                             dtype=torch.float64))


def test_softmax_runs_over_classes_of_each_kernel():
    # kernel 0 strongly tied to class 1, kernel 1 to class 0: each keeps its winner, the loser -> ~0
    W = torch.tensor([[-1.0, 9.0], [9.0, -1.0]], dtype=torch.float64)
    Wr = kernel_usage_weights(W)
    s = 1 / (1 + math.exp(-10.0))  # softmax entry of the winner
    assert torch.allclose(Wr, torch.tensor([[-(1 - s), 9 * s], [9 * s, -(1 - s)]], dtype=torch.float64))
    assert Wr[0, 0].abs() < 1e-4 and Wr[1, 1].abs() < 1e-4  # negative weights vanish


def test_equal_weights_are_divided_by_the_number_of_classes():
    # a kernel whose C weights are equal has softmax 1/C exactly: W^r = alpha * v / C (the vanishing effect)
    for C in (2, 5, 80):
        W = torch.full((C, 3), 0.3, dtype=torch.float64)
        assert torch.allclose(kernel_usage_weights(W), W / C)
        assert torch.allclose(kernel_usage_weights(W, alpha=C), W)  # KUR-alpha with alpha = C restores it


def test_small_weights_scale_by_alpha_over_c():
    # near 0 the softmax is 1/C + O(W): W^r / W -> alpha / C (paper App. B.1.4)
    g = torch.Generator().manual_seed(0)
    W = 1e-7 * torch.randn(10, 6, generator=g, dtype=torch.float64)
    assert torch.allclose(kernel_usage_weights(W) / W, torch.full_like(W, 0.1), rtol=1e-5)
    assert torch.allclose(kernel_usage_weights(W, alpha=10.0) / W, torch.ones_like(W), rtol=1e-5)


def test_jacobian_flows_through_both_factors():
    # d W^r_c / d W_j = alpha (delta_cj s_c + W_c s_c (delta_cj - s_j)) for one kernel's column
    w = torch.tensor([0.3, -1.2, 0.8, 2.0], dtype=torch.float64)
    alpha = 1.7
    J = torch.autograd.functional.jacobian(lambda v: kernel_usage_weights(v[:, None], alpha)[:, 0], w)
    s = torch.softmax(w, 0)
    expected = alpha * (torch.diag(s) + (w * s)[:, None] * (torch.eye(4, dtype=torch.float64) - s[None, :]))
    assert torch.allclose(J, expected)


def test_parametrised_linear_uses_effective_weights_and_trains_the_raw_ones():
    torch.manual_seed(0)
    fc = apply_kur(nn.Linear(6, 4), alpha=4.0)
    assert isinstance(fc, nn.Linear) and is_kur(fc)
    W = raw_weight(fc)
    assert torch.allclose(fc.weight, 4.0 * W * torch.softmax(W, 0))
    x = torch.randn(5, 6)
    assert torch.allclose(fc(x), x @ fc.weight.T + fc.bias)
    fc(x).sum().backward()
    assert W.grad is not None and W.grad.abs().sum() > 0
    assert [n for n, _ in fc.named_parameters()] == ["bias", "parametrizations.weight.original"]


def gap_kur_model(alpha):
    torch.manual_seed(3)
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, 3, padding=1), relu=nn.ReLU(),
                                      pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(8, 4)))
    apply_kur(model.fc, alpha)
    with torch.no_grad():  # spread the weights so that the softmax is far from uniform
        raw_weight(model.fc).mul_(8.0)
    return model


def test_cam_engine_reads_the_effective_weights():
    model = gap_kur_model(alpha=4.0)
    x = torch.randn(2, 3, 10, 12, generator=torch.Generator().manual_seed(1))
    res = CamExplainer(model, "relu", head="fc")(x, [[0, 2], [1, 3]], "cam")  # checks logits = W^r GAP(A) + b
    A = torch.relu(model.conv(x))
    Wr = model.fc.weight.detach()
    expected = torch.stack([torch.einsum("k,khw->hw", Wr[c], A[i]) for i, cs in enumerate([[0, 2], [1, 3]])
                            for c in cs]).view(2, 2, 10, 12)
    assert torch.allclose(res.raw, expected, atol=1e-6)
    raw = raw_weight(model.fc).detach()
    assert not torch.allclose(Wr, raw)  # so the test would catch an engine reading the raw weight


def test_fold_keeps_the_function_and_leaves_a_plain_linear():
    model = gap_kur_model(alpha=1.0)
    x = torch.randn(3, 3, 8, 8)
    before = model(x).detach()
    fold_kur(model.fc)
    assert not is_kur(model.fc) and type(model.fc) is nn.Linear
    assert torch.allclose(model(x), before, atol=1e-6)
    assert model.fc.weight.requires_grad
    with pytest.raises(ValueError, match="no kernel usage"):
        fold_kur(model.fc)


def test_class_correlation_matches_numpy():
    W = torch.randn(5, 9, generator=torch.Generator().manual_seed(4))
    assert np.allclose(class_correlation(W).numpy(), np.corrcoef(W.numpy()), atol=1e-12)


def test_diagnostics_on_exclusive_and_shared_weights():
    exclusive = torch.tensor([[2.0, 0.0, 0.0, 1.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    d = weight_diagnostics(exclusive)
    assert d["exclusivity"] == pytest.approx(1.0) and d["negative_share"] == pytest.approx(0.0)
    shared = torch.tensor([[1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [1.0, -1.0, 2.0]])
    d = weight_diagnostics(shared)
    assert d["exclusivity"] == pytest.approx(1 / 3)
    assert d["negative_share"] == pytest.approx(3 / 12)
    assert d["correlation"] == pytest.approx(1.0)  # identical class vectors
    assert d["std"] == pytest.approx(float(shared.std()))
    # mean |r| over the off-diagonal pairs, by hand for three classes
    W = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 3.0, 2.0]])
    r = np.corrcoef(W.numpy())
    assert weight_diagnostics(W)["correlation"] == pytest.approx((abs(r[0, 1]) + abs(r[0, 2]) + abs(r[1, 2])) / 3)


@pytest.mark.parametrize("alpha", [0, -1.0, float("nan"), float("inf"), True, "C"])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a positive"):
        KernelUsage(alpha)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        apply_kur(nn.Linear(3, 2), alpha)


def test_bad_layers():
    with pytest.raises(TypeError, match="nn.Linear"):
        apply_kur(nn.Conv2d(3, 2, 1))
    with pytest.raises(ValueError, match="at least 2 outputs"):
        apply_kur(nn.Linear(3, 1))
    fc = apply_kur(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="already"):
        apply_kur(fc)
    with pytest.raises(ValueError, match=r"\(classes, kernels\)"):
        kernel_usage_weights(torch.ones(3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        class_correlation(torch.ones(1, 4))
