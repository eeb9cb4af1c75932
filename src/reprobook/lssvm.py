"""Least squares SVM (Suykens et al., 1999) with a precomputed kernel, in torch (CPU or CUDA).

Primal, with labels ``y_i in {-1, +1}`` and penalty ``lam`` written as in Borah & Dutta (Eq. 2)::

    min_{w, b}  1/2 ||w||^2 + lam * sum_i xi_i^2   s.t.  y_i (w . phi(x_i) + b) = 1 - xi_i

Because ``y_i^2 = 1``, ``xi_i = y_i - f(x_i)``, so this is kernel ridge regression on the labels with an
unpenalised bias. Its dual is the bordered linear system

    [ 0   1^T             ] [b    ]   [0]
    [ 1   K + I / (2 lam) ] [alpha] = [y]

and ``f(x) = sum_i alpha_i k(x, x_i) + b``. With ``A = K + c I``: ``eta = A^-1 1``, ``nu = A^-1 y``,
``b = 1^T nu / 1^T eta`` and ``alpha = nu - b eta``. One eigendecomposition of ``K`` gives ``A^-1`` for
every ``c``, so a whole grid of ``lam`` costs one ``eigh`` (:func:`lssvm_path`).
"""
from __future__ import annotations

import torch


def sq_dists(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between the rows of ``A`` and ``B`` (clipped at 0)."""
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return d.clamp_min_(0.0)


def gaussian_kernel(D2: torch.Tensor, sigma: float) -> torch.Tensor:
    """``exp(-d^2 / (2 sigma^2))`` from squared distances (the paper's kernel)."""
    return torch.exp(-D2 / (2.0 * sigma * sigma))


def _solve_with(apply_inv, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ones = torch.ones_like(y)
    eta, nu = apply_inv(ones), apply_inv(y)
    b = nu.sum() / eta.sum()
    return nu - b * eta, b


def lssvm_fit(K: torch.Tensor, y: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha, b)`` for one ``lam`` by a direct solve of ``K + I / (2 lam)``."""
    if lam <= 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    A = K + torch.eye(K.shape[0], dtype=K.dtype, device=K.device) / (2.0 * lam)
    L = torch.linalg.cholesky(A)
    return _solve_with(lambda v: torch.cholesky_solve(v[:, None], L)[:, 0], y)


def lssvm_path(K: torch.Tensor, y: torch.Tensor, lams) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[(alpha, b), ...]`` for every ``lam`` in ``lams`` from one eigendecomposition of ``K``."""
    evals, Q = torch.linalg.eigh(K)
    evals = evals.clamp_min(0.0)  # K is positive semi-definite; round-off can make tiny eigenvalues negative
    Qt1, Qty = Q.T @ torch.ones_like(y), Q.T @ y
    out = []
    for lam in lams:
        if lam <= 0:
            raise ValueError(f"lam must be > 0, got {lam}")
        inv = 1.0 / (evals + 1.0 / (2.0 * lam))
        eta, nu = Q @ (inv * Qt1), Q @ (inv * Qty)
        b = nu.sum() / eta.sum()
        out.append((nu - b * eta, b))
    return out


def decision(K_test_train: torch.Tensor, alpha: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``f(x) = K(x, X_train) alpha + b``; the predicted class is its sign."""
    return K_test_train @ alpha + b
