r"""Kernel usage regularisation (KUR, KUR-alpha) of a linear classifier head, and diagnostics of its weights.

David's qualifying exam (Unicamp 2023, App. B.1.3, Eq. 25) regularises the last dense layer of a multi-label
sigmoid classifier. With ``g`` the pooled features of ``K`` kernels and ``W = [w^c_k]`` the ``K x C`` weights,

    ``W^r = alpha * W o softmax(W)``,   ``y = sigmoid(g W^r + b)``,

where the softmax runs over the classes of each kernel's row ``W_k`` and ``o`` is the element-wise product.
A kernel's largest weight keeps its value (its softmax entry tends to 1), the kernel's other weights and its
negative weights are pushed towards 0: each kernel tends to serve one class, with a positive weight. Plain
KUR is ``alpha = 1``. App. B.1.4 notes that at initialisation the softmax is close to ``1/C``, so KUR divides
the weights (and their gradients) by about ``C``; KUR-alpha multiplies by ``alpha`` (``alpha = C`` restores
the scale).

torch stores a linear layer's weight as ``(C, K)`` (classes x kernels), so here the softmax runs over
``dim=0``. KUR is installed as a ``torch.nn.utils.parametrize`` parametrisation of ``nn.Linear.weight``:
the layer stays an ``nn.Linear`` whose ``.weight`` *is* ``W^r``, so everything that reads a classifier's
weights (the CAM forms of :mod:`reprobook.explain`, which also check ``logits = W GAP(A) + b``) sees the
effective weights. The gradient flows through both factors, as in the authors' Keras layer (no stop-gradient).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["KernelUsage", "apply_kur", "class_correlation", "fold_kur", "is_kur", "kernel_usage_weights",
           "raw_weight", "weight_diagnostics"]


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive finite number (1 = KUR, the number of classes = KUR-alpha "
                         f"with alpha = C), got {alpha!r}")
    return float(alpha)


def kernel_usage_weights(weight: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``alpha * W o softmax(W)`` for a ``(classes, kernels)`` weight: the softmax runs over the classes of
    each kernel (``dim=0``)."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise ValueError("weight must be a (classes, kernels) tensor, the layout of nn.Linear.weight")
    return _check_alpha(alpha) * weight * torch.softmax(weight, dim=0)


class KernelUsage(nn.Module):
    """The KUR parametrisation: maps the stored weight ``W`` to ``alpha * W o softmax(W, dim=0)``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _check_alpha(alpha)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return self.alpha * weight * torch.softmax(weight, dim=0)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


def _check_linear(linear) -> nn.Linear:
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"KUR regularises an nn.Linear classifier head, got {type(linear).__name__}")
    return linear


def is_kur(linear: nn.Linear) -> bool:
    """Whether ``linear.weight`` carries the KUR parametrisation."""
    _check_linear(linear)
    return parametrize.is_parametrized(linear, "weight") and any(
        isinstance(p, KernelUsage) for p in linear.parametrizations.weight)


def apply_kur(linear: nn.Linear, alpha: float = 1.0) -> nn.Linear:
    """Install KUR (``alpha = 1``) or KUR-alpha on ``linear`` in place and return it. The stored weight is
    kept as the raw ``W``, so the layer's output changes: apply it to a fresh layer before training. The
    raw weight is then ``linear.parametrizations.weight.original``."""
    _check_linear(linear)
    alpha = _check_alpha(alpha)
    if is_kur(linear):
        raise ValueError("this layer already has kernel usage regularisation; apply it once")
    if linear.out_features < 2:
        raise ValueError(f"KUR shares each kernel among classes, so it needs at least 2 outputs, got "
                         f"{linear.out_features}")
    parametrize.register_parametrization(linear, "weight", KernelUsage(alpha))
    return linear


def fold_kur(linear: nn.Linear) -> nn.Linear:
    """Remove the parametrisation, keeping the effective weights ``W^r`` as the layer's plain weight: the
    layer computes the same function and is an ordinary ``nn.Linear`` again (e.g. for export)."""
    if not is_kur(linear):
        raise ValueError("this layer has no kernel usage regularisation to fold")
    parametrize.remove_parametrizations(linear, "weight", leave_parametrized=True)
    return linear


def raw_weight(linear: nn.Linear) -> torch.Tensor:
    """The stored (trainable) weight ``W``: the original of a KUR layer, else the weight itself."""
    _check_linear(linear)
    if parametrize.is_parametrized(linear, "weight"):
        return linear.parametrizations.weight.original
    return linear.weight


def class_correlation(weight: torch.Tensor) -> torch.Tensor:
    """``(C, C)`` Pearson correlation between the classes' weight vectors (rows of a ``(C, K)`` weight),
    the quantity of the paper's Fig. 8. A constant row has no correlation: its entries are NaN."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2 or weight.shape[0] < 2 or weight.shape[1] < 2:
        raise ValueError("weight must be a (classes, kernels) tensor with at least 2 classes and 2 kernels")
    return torch.corrcoef(weight.detach().double())


def weight_diagnostics(weight: torch.Tensor) -> dict[str, float]:
    """Summaries of a ``(classes, kernels)`` classifier weight (pass the *effective* weight of a KUR layer):

    - ``std``: standard deviation of all weights (the scale the paper's Fig. 9 shows);
    - ``correlation``: mean ``|r|`` over pairs of different classes (Fig. 8; lower = classes use different
      kernels);
    - ``negative_share``: share of the absolute weight mass in negative weights;
    - ``exclusivity``: mean over kernels of ``max_c |w^c_k| / sum_c |w^c_k|``: 1 when every kernel serves
      one class, ``1/C`` when it is shared evenly (kernels with all weights 0 are left out).
    """
    corr = class_correlation(weight)
    W = weight.detach().double()
    C = W.shape[0]
    off = corr[~torch.eye(C, dtype=torch.bool)]
    absW = W.abs()
    mass = absW.sum()
    per_kernel = absW.sum(0)
    used = per_kernel > 0
    return {
        "std": float(W.std()),
        "correlation": float(off.abs().nanmean()),
        "negative_share": float(absW[W < 0].sum() / mass) if mass > 0 else float("nan"),
        "exclusivity": float((absW.max(0).values[used] / per_kernel[used]).mean()) if used.any() else float("nan"),
    }
