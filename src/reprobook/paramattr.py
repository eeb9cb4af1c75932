"""Parameter attributions over the product space of inputs and parameter values, and pruning by scores.

Payne, Patrick and Fernandez (ICPR 2024, LNCS 15310, pp. 1-15) attribute a network's output to each of its
weights and biases by a Monte Carlo integral over pairs ``(x, theta')``: inputs ``x`` drawn from a data set
and parameter values ``theta'`` drawn from a ball of radius ``eps`` around the trained parameters. From the
gradients at those pairs they compute four per-parameter statistics. This module implements

- :func:`sample_ball`: points in an L2 ball (uniform in volume, or the positive-orthant sampler of the
  authors' public code);
- :func:`product_space_gradients`: the gradients ``dF/dtheta`` at every pair, vectorised with
  ``torch.func`` (``functional_call`` + ``vmap`` + ``grad``) instead of a Python loop;
- :func:`measures`: Integrated (expected) Gradients, Gradient Variance, and our stated definitions of
  Stability and Consistency (the paper names them but does not define them);
- :func:`prune_masks` / :func:`apply_masks`: zero the top (or bottom) fraction of each tensor by score.

It lives in the shared package so that it has exact unit tests (``tests/test_paramattr.py``); chapter
``icpr2024-01`` shows its source.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

MEASURES = ("ig", "gradvar", "stability", "consistency")
TARGETS = ("loss", "logit")
SCOPES = ("tensor", "model")
SAMPLERS = ("uniform", "orthant")
INPUT_MODES = ("point", "batch")


def _check(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; use one of {tuple(allowed)}")


def sample_ball(center: torch.Tensor, n: int, eps: float, *, sampler: str = "uniform",
                generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points in the L2 ball of radius ``eps`` around ``center`` (any shape): ``n x center.shape``.

    ``sampler="uniform"``: uniform in the ball's volume (isotropic direction, radius ``eps * U**(1/d)`` in
    ``d`` dimensions); this is the density ``1/|S_theta|`` of the paper's Eq. (3).
    ``sampler="orthant"``: the sampler of the authors' public code: direction ``U[0,1)^d`` normalised (so
    every coordinate moves upwards) and radius ``eps * U``.
    Random numbers are drawn in float64 on the CPU from ``generator``, so the points do not depend on the
    device.
    """
    _check("sampler", sampler, SAMPLERS)
    if eps < 0:
        raise ValueError(f"eps={eps!r} must be >= 0")
    d = center.numel()
    if sampler == "uniform":
        z = torch.randn((n, d), generator=generator, dtype=torch.float64)
        r = eps * torch.rand(n, generator=generator, dtype=torch.float64) ** (1.0 / d)
    else:
        z = torch.rand((n, d), generator=generator, dtype=torch.float64)
        r = eps * torch.rand(n, generator=generator, dtype=torch.float64)
    u = z / z.norm(dim=1, keepdim=True).clamp_min(1e-300)
    offsets = (u * r[:, None]).reshape(n, *center.shape)
    return (center.detach().double().cpu()[None] + offsets).to(center.device, center.dtype)


def objective(logits: torch.Tensor, y: torch.Tensor, target: str) -> torch.Tensor:
    """``F``: the cross-entropy of the true class (``"loss"``) or the true class's logit (``"logit"``),
    averaged over a batch (``logits`` is ``B x C``)."""
    if target == "loss":
        return F.cross_entropy(logits, y)
    return logits.gather(1, y[:, None]).mean()


def product_space_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float, n_theta: int,
                            names: Sequence[str] | None = None, scope: str = "tensor",
                            sampler: str = "uniform", input_mode: str = "point", target: str = "loss",
                            generator: torch.Generator | None = None,
                            chunk_size: int | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """Gradients of ``F`` with respect to the parameters at pairs ``(x_i, theta'_k)`` of the product space.

    ``x, y``: the ``N`` input samples and their labels. ``n_theta`` parameter samples are drawn from the
    ball of radius ``eps`` (:func:`sample_ball`):

    - ``scope="tensor"``: one ball per parameter tensor (named in ``names``, default all), perturbing that
      tensor alone while the others keep their trained values (as the authors' public code does);
    - ``scope="model"``: one ball in the space of all parameters, perturbing them jointly.

    ``input_mode="point"``: each pair ``(x_i, theta'_k)`` is one point of the product space (the paper's
    Eq. 4): ``F`` is evaluated per input. ``input_mode="batch"``: ``F`` is averaged over the ``N`` inputs
    first (as the public code does), so the sample runs over parameter values only.

    Returns, per parameter name: ``grads`` (``K x M x shape``, ``M = N`` or 1), ``offsets``
    (``theta' - theta``, ``K x shape``) and ``center_grads`` (the gradients at ``theta`` itself,
    ``M x shape``).
    """
    _check("scope", scope, SCOPES)
    _check("input_mode", input_mode, INPUT_MODES)
    _check("target", target, TARGETS)
    if n_theta < 1:
        raise ValueError(f"n_theta={n_theta!r} must be >= 1")
    base = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    names = list(names) if names is not None else list(base)
    unknown = [n for n in names if n not in base]
    if unknown:
        raise ValueError(f"unknown parameter names {unknown}; the model has {list(base)}")
    groups = [[n] for n in names] if scope == "tensor" else [names]

    out: dict[str, dict[str, torch.Tensor]] = {}
    for group in groups:
        def f(sub: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            logits = functional_call(model, ({**base, **sub}, buffers), (xb,))
            return objective(logits, yb, target)

        center = {n: base[n] for n in group}
        flat = torch.cat([center[n].reshape(-1) for n in group])
        samples_flat = sample_ball(flat, n_theta, eps, sampler=sampler, generator=generator)
        samples, start = {}, 0
        for n in group:
            size = center[n].numel()
            samples[n] = samples_flat[:, start:start + size].reshape(n_theta, *center[n].shape)
            start += size
        g = grad(f)
        if input_mode == "point":
            def per_input(sub, xi, yi):
                return g(sub, xi[None], yi[None])
            over_inputs = vmap(per_input, in_dims=(None, 0, 0))
            grads = vmap(over_inputs, in_dims=(0, None, None), chunk_size=chunk_size)(samples, x, y)
            center_grads = over_inputs(center, x, y)
        else:
            grads = vmap(g, in_dims=(0, None, None), chunk_size=chunk_size)(samples, x, y)
            grads = {n: v[:, None] for n, v in grads.items()}
            center_grads = {n: v[None] for n, v in g(center, x, y).items()}
        for n in group:
            out[n] = {"grads": grads[n].detach(), "offsets": samples[n] - center[n],
                      "center_grads": center_grads[n].detach()}
    return out


def measures(grads: torch.Tensor, offsets: torch.Tensor, center_grads: torch.Tensor) -> dict[str, torch.Tensor]:
    """The four per-parameter statistics of the sampled gradients ``g_{km}`` (``K x M x shape``).

    - ``ig``: Integrated (expected) Gradients, the sample mean ``E[g]`` (the paper's Eq. 3);
    - ``gradvar``: Gradient Variance ``E[g^2] - E[g]^2`` (population variance over the samples);
    - ``stability`` (our definition; the paper gives none): ``E[cos(theta - theta', g(theta'))]`` taken per
      coordinate, where the cosine of two numbers is the product of their signs. +1: the gradient at every
      sample points back towards the trained value (``F`` rises towards it); -1: it points away;
    - ``consistency`` (our definition): ``E[cos(g(x, theta), g(x, theta'))]`` per coordinate, i.e. how
      often a sample's gradient has the sign of the gradient at the trained value for the same input.

    Both cosines lie in [-1, 1], as the paper requires; a zero gradient counts as 0.
    """
    ig = grads.mean(dim=(0, 1))
    gradvar = (grads.pow(2).mean(dim=(0, 1)) - ig.pow(2)).clamp_min(0)
    toward = torch.sign(-offsets)[:, None] * torch.sign(grads)
    agree = torch.sign(center_grads)[None] * torch.sign(grads)
    return {"ig": ig, "gradvar": gradvar, "stability": toward.mean(dim=(0, 1)),
            "consistency": agree.mean(dim=(0, 1))}


def n_pruned(numel: int, fraction: float) -> int:
    """How many of ``numel`` entries a fraction prunes: ``floor(fraction * numel + 1/2)``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction!r} must be in [0, 1]")
    return int(math.floor(fraction * numel + 0.5))


def prune_masks(scores: Mapping[str, torch.Tensor], fraction: float, *,
                descending: bool = True) -> dict[str, torch.Tensor]:
    """Boolean keep-masks that drop the same fraction of every tensor: its highest scores first
    (``descending=True``) or its lowest. Ties are broken by position (a stable sort)."""
    masks = {}
    for name, s in scores.items():
        flat = s.reshape(-1)
        k = n_pruned(flat.numel(), fraction)
        order = torch.argsort(flat, descending=descending, stable=True)
        keep = torch.ones_like(flat, dtype=torch.bool)
        keep[order[:k]] = False
        masks[name] = keep.reshape(s.shape)
    return masks


def apply_masks(params: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A new parameter dict with masked entries set to zero; tensors without a mask are kept as they are."""
    return {n: (p * masks[n].to(p.dtype) if n in masks else p) for n, p in params.items()}
