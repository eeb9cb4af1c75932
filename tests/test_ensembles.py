import math

import pytest
import torch
from torch import nn

from reprobook.ensembles import (average_probs, disagreement, disagreement_matrix, ece, mean_pairwise_kl, nll,
                                 perturb_weights)


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Linear(200, 50))


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_alpha_zero_leaves_weights_bit_identical():
    m = _model()
    before = _flat(m).clone()
    info = perturb_weights(m, alpha=0.0, beta=5.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(_flat(m), before)
    assert info["fraction_perturbed"] == 0.0 and info["mean_abs_change"] == 0.0


def test_beta_zero_changes_nothing():
    m = _model()
    before = _flat(m).clone()
    perturb_weights(m, alpha=1.0, beta=0.0, noise="normal", generator=torch.Generator().manual_seed(1))
    assert torch.equal(_flat(m), before)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.8, 1.0])
def test_mask_fraction_is_about_alpha_and_unmasked_entries_are_exact(alpha):
    m = _model()
    before = _flat(m).clone()
    info = perturb_weights(m, alpha=alpha, beta=0.5, generator=torch.Generator().manual_seed(2))
    changed = _flat(m) != before
    n = before.numel()  # 30,250 entries: the binomial s.d. of the fraction is at most 0.003
    assert abs(changed.float().mean().item() - alpha) < 5 * math.sqrt(alpha * (1 - alpha) / n) + 1e-9
    assert abs(info["fraction_perturbed"] - alpha) < 0.02
    assert info["fraction_perturbed"] == pytest.approx(changed.float().mean().item(), abs=1e-3)


def test_uniform_noise_is_bounded_by_beta_and_spread_over_the_interval():
    m = _model()
    before = _flat(m).clone()
    beta = 0.3
    perturb_weights(m, alpha=1.0, beta=beta, noise="uniform", generator=torch.Generator().manual_seed(3))
    d = _flat(m) - before
    assert d.abs().max() <= beta + 1e-6
    assert d.abs().max() > 0.99 * beta  # reaches the ends of U(-beta, beta)
    assert abs(d.mean().item()) < 0.01
    assert d.std().item() == pytest.approx(beta / math.sqrt(3), rel=0.03)


def test_normal_noise_has_std_beta():
    m = _model()
    before = _flat(m).clone()
    perturb_weights(m, alpha=1.0, beta=0.2, noise="normal", generator=torch.Generator().manual_seed(4))
    d = _flat(m) - before
    assert d.std().item() == pytest.approx(0.2, rel=0.03)
    assert abs(d.mean().item()) < 0.01


def test_perturbation_is_deterministic_given_the_generator_and_differs_between_seeds():
    a, b, c = _model(), _model(), _model()
    perturb_weights(a, alpha=0.5, beta=1.0, generator=torch.Generator().manual_seed(7))
    perturb_weights(b, alpha=0.5, beta=1.0, generator=torch.Generator().manual_seed(7))
    perturb_weights(c, alpha=0.5, beta=1.0, generator=torch.Generator().manual_seed(8))
    assert torch.equal(_flat(a), _flat(b))
    assert not torch.equal(_flat(a), _flat(c))


def test_perturbation_changes_the_parameters_themselves():
    # The public code assigned into state_dict(), which does not touch the parameters; ours must.
    m = _model()
    sd_before = {k: v.clone() for k, v in m.state_dict().items()}
    perturb_weights(m, alpha=1.0, beta=1.0, generator=torch.Generator().manual_seed(5))
    assert all(not torch.equal(m.state_dict()[k], v) for k, v in sd_before.items())


def test_buffers_are_not_perturbed():
    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    m[1].running_mean.fill_(0.5)
    perturb_weights(m, alpha=1.0, beta=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(m[1].running_mean, torch.full((4,), 0.5))


@pytest.mark.parametrize("kwargs", [dict(alpha=-0.1, beta=1.0), dict(alpha=1.1, beta=1.0),
                                    dict(alpha=0.5, beta=-1.0), dict(alpha=0.5, beta=1.0, noise="laplace")])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        perturb_weights(_model(), **kwargs)


def test_average_probs_is_the_mean_of_softmaxes():
    z1 = torch.tensor([[0.0, 0.0], [10.0, -10.0]])
    z2 = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    p = average_probs([z1, z2])
    assert torch.allclose(p[0], torch.tensor([(0.5 + 0.75) / 2, (0.5 + 0.25) / 2]))
    assert torch.allclose(p.sum(1), torch.ones(2))


def test_nll_closed_form():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    targets = torch.tensor([0, 1])
    assert nll(probs, targets) == pytest.approx(-(math.log(0.7) + math.log(0.25)) / 2)


def test_ece_hand_computed_example():
    # Four samples, confidences 0.9, 0.9, 0.6, 0.6; the first pair is right once, the second pair twice.
    # With 10 bins: bin (0.8, 0.9]: acc 0.5, conf 0.9; bin (0.5, 0.6]: acc 1.0, conf 0.6.
    # ECE = 0.5 * |0.5 - 0.9| + 0.5 * |1.0 - 0.6| = 0.4.
    probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    targets = torch.tensor([0, 1, 1, 1])
    assert ece(probs, targets, n_bins=10) == pytest.approx(0.4, abs=1e-6)


def _ece_by_hand(probs, targets, n_bins):
    conf, pred = probs.max(1)
    correct = (pred == targets).float()
    edges = torch.linspace(0, 1, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inb = (conf > lo) & (conf <= hi)
        if inb.any():
            total += inb.float().mean() * (correct[inb].mean() - conf[inb].mean()).abs()
    return float(total)


def test_ece_matches_a_direct_formula_on_random_predictions():
    g = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(2000, 10, generator=g), 1)
    targets = torch.randint(0, 10, (2000,), generator=g)
    assert ece(probs, targets, n_bins=15) == pytest.approx(_ece_by_hand(probs, targets, 15), abs=1e-5)


def test_disagreement_and_kl():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert disagreement([a, a]) == 0.0
    assert disagreement([a, b]) == pytest.approx(0.5)
    assert disagreement([a, b, a]) == pytest.approx((0.5 + 0.0 + 0.5) / 3)
    assert torch.allclose(disagreement_matrix([a, b]), torch.tensor([[0.0, 0.5], [0.5, 0.0]]))
    assert disagreement([a]) == 0.0
    assert mean_pairwise_kl([a, a]) == pytest.approx(0.0, abs=1e-7)
    assert mean_pairwise_kl([a, b]) > 0
