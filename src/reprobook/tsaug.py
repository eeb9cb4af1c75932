"""Time-series augmentation ops on torch tensors of shape ``(batch, channels, length)``.

Two layers:

- *Kernels* take explicit per-sample parameters and are deterministic and differentiable in them, so a
  learnable augmentation (adversarial or otherwise) can backpropagate into its magnitudes:
  :func:`interp1d`, :func:`amplitude`, :func:`add_noise`, :func:`time_scale`, :func:`warp_time`,
  :func:`warp_magnitude`, :func:`slice_window`.
- *Random ops* draw those parameters from a ``torch.Generator`` at a given strength, in the spirit of the
  survey of Wen et al. (IJCAI 2021) and of Um et al. (2017): :func:`jitter`, :func:`scaling`,
  :func:`magnitude_warp`, :func:`time_warp`, :func:`window_slice`. Strength 0 returns the input unchanged.

Hand-written because no installed library offers differentiable, batched versions with per-sample
parameters (tsaug and aeon's transformers are NumPy-only and draw their own randomness).
"""
from __future__ import annotations

import torch

__all__ = ["interp1d", "amplitude", "add_noise", "time_scale", "warp_time", "warp_magnitude", "slice_window",
           "knot_curve", "jitter", "scaling", "magnitude_warp", "time_warp", "window_slice",
           "sliced_wasserstein"]


def _check(x: torch.Tensor, sigma: float = 0.0) -> None:
    """A (batch, channels, length) input and, for the random ops, a non-negative strength."""
    if x.ndim != 3:
        raise ValueError(f"expected a tensor of shape (batch, channels, length), got shape {tuple(x.shape)}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")


def _per_sample(v, x: torch.Tensor) -> torch.Tensor:
    """A scalar or a ``(batch,)`` tensor as a ``(batch, 1)`` tensor on x's device and dtype."""
    v = torch.as_tensor(v, dtype=x.dtype, device=x.device)
    if v.ndim == 0:
        v = v.expand(x.shape[0])
    return v.reshape(x.shape[0], 1)


def interp1d(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Read ``x`` at fractional time indices ``pos`` by linear interpolation, clamped to the ends.

    ``x`` is ``(B, C, T)``; ``pos`` is ``(B, T')`` (the same positions for all channels of a sample) in index
    units, ``0 .. T-1``. Out-of-range positions take the border value (as ``numpy.interp``). The result is
    ``(B, C, T')`` and is differentiable in both ``x`` and ``pos``.
    """
    _check(x)
    T = x.shape[-1]
    pos = pos.to(x.dtype).clamp(0, T - 1)
    lo = pos.floor().clamp(max=T - 2 if T > 1 else 0)
    w = (pos - lo).unsqueeze(1)  # (B, 1, T')
    lo_i = lo.long().unsqueeze(1).expand(-1, x.shape[1], -1)
    hi_i = (lo_i + 1).clamp(max=T - 1)
    return torch.gather(x, 2, lo_i) * (1 - w) + torch.gather(x, 2, hi_i) * w


def amplitude(x: torch.Tensor, scale, offset=0.0) -> torch.Tensor:
    """``scale * x + offset``; each a scalar, ``(B,)``, ``(B, C)`` or ``(B, C, 1)`` (per channel)."""
    _check(x)

    def shape(v):
        v = torch.as_tensor(v, dtype=x.dtype, device=x.device)
        if v.ndim == 1:
            v = v[:, None, None]
        elif v.ndim == 2:
            v = v[:, :, None]
        return v

    return shape(scale) * x + shape(offset)


def add_noise(x: torch.Tensor, sigma, noise: torch.Tensor) -> torch.Tensor:
    """``x + sigma * noise`` with ``sigma`` a scalar or ``(B,)`` and ``noise`` shaped like ``x``."""
    _check(x)
    return x + _per_sample(sigma, x)[:, :, None] * noise


def time_scale(x: torch.Tensor, factor, center: float = 0.5) -> torch.Tensor:
    """Stretch (``factor > 1``) or squeeze (``factor < 1``) the time axis about ``center`` (a fraction of
    the length), keeping the length: output step ``t`` reads input position ``c + (t - c) / factor``.
    Positions outside the series take the border value. ``factor`` is a scalar or ``(B,)``; 1 is identity.
    """
    _check(x)
    B, _, T = x.shape
    c = center * (T - 1)
    t = torch.arange(T, dtype=x.dtype, device=x.device).expand(B, T)
    return interp1d(x, c + (t - c) / _per_sample(factor, x))


def knot_curve(knots: torch.Tensor, length: int) -> torch.Tensor:
    """Piecewise-linear curve through ``knots`` (``(B, K)``, K >= 2) spread evenly over ``length`` steps,
    first knot at step 0 and last at step ``length - 1``; returns ``(B, length)``."""
    if knots.ndim != 2 or knots.shape[1] < 2:
        raise ValueError(f"knots must have shape (batch, K) with K >= 2, got {tuple(knots.shape)}")
    K = knots.shape[1]
    pos = torch.linspace(0, K - 1, length, dtype=knots.dtype, device=knots.device).expand(knots.shape[0], length)
    return interp1d(knots[:, None, :], pos)[:, 0, :]


def warp_magnitude(x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """Multiply every channel by the smooth curve through ``knots`` (``(B, K)``); knots all 1 is identity."""
    _check(x)
    return x * knot_curve(knots, x.shape[-1])[:, None, :]


def warp_time(x: torch.Tensor, speeds: torch.Tensor) -> torch.Tensor:
    """Time warp: the local speed of time follows the curve through ``speeds`` (``(B, K)``, positive).

    The cumulative speed is rescaled so that the warped clock runs from 0 to T-1; output step t reads
    the input at that clock. All speeds equal (any positive constant) is the identity.
    """
    _check(x)
    T = x.shape[-1]
    if T < 2:
        return x
    v = knot_curve(speeds, T)
    # trapezoid rule: clock[0] = 0, clock[t] = sum of mean speeds over the steps before t
    steps = 0.5 * (v[:, 1:] + v[:, :-1])
    clock = torch.cat([torch.zeros_like(v[:, :1]), steps.cumsum(dim=1)], dim=1)
    clock = clock / clock[:, -1:] * (T - 1)
    return interp1d(x, clock)


def slice_window(x: torch.Tensor, start, width) -> torch.Tensor:
    """Crop the window ``[start, start + width]`` (fractions of the time span) and stretch it back to the
    full length. ``start = 0, width = 1`` is the identity."""
    _check(x)
    B, _, T = x.shape
    s = _per_sample(start, x) * (T - 1)
    w = _per_sample(width, x) * (T - 1)
    t = torch.linspace(0, 1, T, dtype=x.dtype, device=x.device).expand(B, T)
    return interp1d(x, s + t * w)


# ----------------------------------------------------------------------------------------------- random ops

def _gen(generator: torch.Generator | None, x: torch.Tensor) -> dict:
    return {"generator": generator, "device": x.device, "dtype": x.dtype}


def jitter(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add i.i.d. Gaussian noise of standard deviation ``sigma``."""
    _check(x, sigma)
    if sigma == 0:
        return x
    return add_noise(x, sigma, torch.randn(x.shape, **_gen(generator, x)))


def scaling(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Multiply each channel of each sample by a factor drawn from N(1, sigma^2)."""
    _check(x, sigma)
    if sigma == 0:
        return x
    return amplitude(x, 1 + sigma * torch.randn(x.shape[:2], **_gen(generator, x)))


def magnitude_warp(x: torch.Tensor, sigma: float, n_knots: int = 4,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Multiply by a smooth random curve through ``n_knots`` knots drawn from N(1, sigma^2)."""
    _check(x, sigma)
    if sigma == 0:
        return x
    return warp_magnitude(x, 1 + sigma * torch.randn((x.shape[0], n_knots), **_gen(generator, x)))


def time_warp(x: torch.Tensor, sigma: float, n_knots: int = 4,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Warp time with local speeds drawn from N(1, sigma^2) at ``n_knots`` knots (clipped to >= 0.1)."""
    _check(x, sigma)
    if sigma == 0:
        return x
    speeds = (1 + sigma * torch.randn((x.shape[0], n_knots), **_gen(generator, x))).clamp(min=0.1)
    return warp_time(x, speeds)


def window_slice(x: torch.Tensor, crop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Drop a fraction ``crop`` (in [0, 1)) of the time span at a random place and stretch the rest back."""
    _check(x)
    if not 0 <= crop < 1:
        raise ValueError(f"crop must be in [0, 1), got {crop}")
    if crop == 0:
        return x
    start = crop * torch.rand(x.shape[0], **_gen(generator, x))
    return slice_window(x, start, 1 - crop)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Squared sliced 2-Wasserstein distance between two equal-size point clouds per sample.

    ``a`` and ``b`` are ``(B, C, T)``: for each sample, T points in C dimensions. ``directions`` is
    ``(C, R)`` (unit columns). Each cloud is projected on each direction, sorted, and the mean squared
    difference of the sorted projections is averaged over directions; returns ``(B,)``.
    """
    _check(a)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    pa = torch.einsum("bct,cr->brt", a, directions).sort(dim=-1).values
    pb = torch.einsum("bct,cr->brt", b, directions).sort(dim=-1).values
    return ((pa - pb) ** 2).mean(dim=(1, 2))
