"""Ensembles of classifiers: weight perturbation (Noisy Deep Ensemble), probability averaging, and the
metrics an ensemble is judged by (ECE, NLL, pairwise disagreement, pairwise KL).

The perturbation lives here rather than in its chapter only so that it has exact unit tests
(``tests/test_ensembles.py``); the chapter shows its source.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import torch
from torch import nn

NOISE_TYPES = ("uniform", "normal")


@torch.no_grad()
def perturb_weights(model: nn.Module, *, alpha: float, beta: float, noise: str = "uniform",
                    generator: torch.Generator | None = None) -> dict[str, float]:
    """Perturb ``model``'s parameters in place: ``theta' = theta + xi * m`` (Sakai et al., 2024, Eq. 5).

    Each parameter entry is selected independently with probability ``alpha`` (``m ~ Bernoulli(alpha)``)
    and, if selected, gets additive noise ``xi ~ U(-beta, beta)`` (``noise="uniform"``) or
    ``xi ~ N(0, beta^2)`` (``noise="normal"``; ``beta`` is the standard deviation). Entries not selected
    keep their exact value. Buffers (e.g. batch-norm running statistics) are not parameters and are left
    alone. Random numbers are drawn on the CPU from ``generator``, so the perturbation is the same on every
    device. Returns the number of entries, the fraction selected and the mean |change|.
    """
    if noise not in NOISE_TYPES:
        raise ValueError(f"noise={noise!r} is not allowed; use one of {NOISE_TYPES}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha={alpha!r} must be in [0, 1]")
    if beta < 0:
        raise ValueError(f"beta={beta!r} must be >= 0")
    total, selected, change = 0, 0, 0.0
    for p in model.parameters():
        mask = torch.rand(p.shape, generator=generator) < alpha
        if noise == "uniform":
            xi = (2 * torch.rand(p.shape, generator=generator) - 1) * beta
        else:
            xi = torch.randn(p.shape, generator=generator) * beta
        mask, xi = mask.to(p.device), xi.to(device=p.device, dtype=p.dtype)
        # where() rather than p + xi * m: entries outside the mask stay bit-identical.
        new = torch.where(mask, p + xi, p)
        change += float((new - p).abs().sum())
        p.copy_(new)
        total += p.numel()
        selected += int(mask.sum())
    return {"n_params": total, "fraction_perturbed": selected / max(total, 1),
            "mean_abs_change": change / max(total, 1)}


def average_probs(logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """Ensemble prediction (the paper's Eq. 2): the mean of the members' softmax probabilities."""
    return torch.stack([torch.softmax(z.float(), dim=1) for z in logits]).mean(0)


def nll(probs: torch.Tensor, targets: torch.Tensor, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood of the true class, ``-mean_i log p_i[y_i]`` (probabilities clamped at eps)."""
    p = probs.gather(1, targets.view(-1, 1)).squeeze(1)
    return float(-p.clamp_min(eps).log().mean())


def ece(probs: torch.Tensor, targets: torch.Tensor, n_bins: int = 15) -> float:
    """Expected calibration error of the top-1 prediction, ``sum_b (n_b/N) |acc_b - conf_b|`` over
    ``n_bins`` equal-width confidence bins (torchmetrics' ``MulticlassCalibrationError``, L1 norm)."""
    from torchmetrics.functional.classification import multiclass_calibration_error

    return float(multiclass_calibration_error(probs.float(), targets, num_classes=probs.shape[1],
                                              n_bins=n_bins, norm="l1"))


def disagreement_matrix(logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """``D[i, j]``: the fraction of samples on which members ``i`` and ``j`` predict different classes."""
    preds = torch.stack([z.argmax(1) for z in logits])
    return (preds[:, None, :] != preds[None, :, :]).float().mean(-1)


def disagreement(logits: Sequence[torch.Tensor]) -> float:
    """Mean pairwise disagreement over all pairs of distinct members (0 for a single member)."""
    m = len(logits)
    if m < 2:
        return 0.0
    d = disagreement_matrix(logits)
    return float(d.sum() / (m * (m - 1)))


def mean_pairwise_kl(logits: Sequence[torch.Tensor]) -> float:
    """Mean over ordered pairs ``i != j`` of the sample-averaged ``KL(p_i || p_j)``."""
    logp = [torch.log_softmax(z.float(), dim=1) for z in logits]
    pairs = list(itertools.permutations(range(len(logp)), 2))
    if not pairs:
        return 0.0
    return float(sum((logp[i].exp() * (logp[i] - logp[j])).sum(1).mean() for i, j in pairs) / len(pairs))
