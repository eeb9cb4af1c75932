"""Echo state networks (reservoir computing): construction, state update, memory capacity, state geometry.

An echo state network (Jaeger, GMD Report 148, 2001) drives a fixed random recurrent network with an input
sequence and reads the states out linearly::

    x(t) = (1 - alpha) x(t-1) + alpha f(W_in u(t) + W_res x(t-1) + delta)        (leaky update)
    y(t) = W_out x(t) + b_out                                                    (trained readout)

Only the readout is trained (ridge regression). What this module offers:

- :func:`scale_to_spectral_radius` rescales a matrix so that its largest eigenvalue modulus is exactly
  ``rho`` (eigenvalues from LAPACK, no power-iteration estimate), and :func:`make_reservoir` draws a
  Gaussian recurrent matrix of a given connectivity (share of non-zero weights) and a uniform input matrix.
- :func:`run_reservoir` iterates the update with ``tanh``, ``heaviside`` (step: 1 where the argument is
  positive, else 0) or ``identity`` activation.
- :func:`determination_coefficients` is the memory task of Jaeger (GMD Report 152, 2001): readouts trained to
  recall ``u(t - k)``; ``r2[k]`` is the squared correlation between recall and truth, the *determination
  coefficient function* (DCF), and its sum over ``k`` is the memory capacity (MC).
- :func:`state_geometry` measures how reservoir states sit in space: norms, distances and angles between
  consecutive states (the "concentration on a sphere" of high-dimensional vectors, Hall, Marron & Neeman,
  JRSS-B 2005).

No installed library provides echo state networks (reservoirpy and friends are not dependencies), hence the
hand-written code; the tests check it against hand-computed updates, a delay line whose memory is known
exactly, and ``numpy.corrcoef``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "spectral_radius", "scale_to_spectral_radius", "make_reservoir", "run_reservoir",
           "delayed_targets", "determination_coefficients", "state_geometry"]


def _heaviside(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype)


ACTIVATIONS = {"tanh": np.tanh, "heaviside": _heaviside, "identity": lambda z: z}


def spectral_radius(W: np.ndarray) -> float:
    """Largest eigenvalue modulus of a square matrix (all eigenvalues from LAPACK)."""
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral_radius needs a square matrix, got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W)))) if W.size else 0.0


def scale_to_spectral_radius(W: np.ndarray, rho: float, current: float | None = None) -> np.ndarray:
    """``W * rho / rho(W)``: the same matrix with spectral radius exactly ``rho`` (``rho = 0`` gives zeros).

    ``current`` is ``rho(W)`` when already known (one eigendecomposition can then serve a whole sweep).
    A nilpotent ``W`` (spectral radius 0) cannot be scaled to a positive radius and raises.
    """
    if rho < 0:
        raise ValueError(f"spectral radius must be >= 0, got {rho}")
    W = np.asarray(W, dtype=float)
    if rho == 0:
        return np.zeros_like(W)
    current = spectral_radius(W) if current is None else float(current)
    if current <= 1e-12:
        raise ValueError("W has spectral radius 0 (nilpotent); it cannot be scaled to a positive radius")
    return W * (rho / current)


def make_reservoir(n_res: int, n_in: int = 1, *, density: float = 1.0, input_scale: float = 1.0,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A random reservoir *before* spectral scaling: ``(W_base, W_in, rho(W_base))``.

    ``W_base`` has i.i.d. standard normal weights on a random share ``density`` of its entries (at least
    one per row so that no neuron is cut off); ``W_in`` is uniform on ``[-input_scale, input_scale]``.
    Scale ``W_base`` with :func:`scale_to_spectral_radius` (passing the returned radius) for each ``rho``.
    """
    if n_res < 1 or n_in < 1:
        raise ValueError(f"n_res and n_in must be positive, got {n_res}, {n_in}")
    if not 0 < density <= 1:
        raise ValueError(f"density must lie in (0, 1], got {density}")
    W = rng.standard_normal((n_res, n_res))
    if density < 1:
        mask = rng.random((n_res, n_res)) < density
        mask[np.arange(n_res), rng.integers(0, n_res, n_res)] = True
        W = W * mask
    W_in = rng.uniform(-input_scale, input_scale, (n_res, n_in))
    return W, W_in, spectral_radius(W)


def run_reservoir(W_res: np.ndarray, W_in: np.ndarray, u: np.ndarray, *, activation: str = "tanh",
                  leak: float = 1.0, bias: np.ndarray | float = 0.0, x0: np.ndarray | None = None) -> np.ndarray:
    """States ``X[t] = x(t+1)`` for inputs ``u[t] = u(t+1)``, from ``x(0) = x0`` (zeros by default).

    ``u`` is ``(T,)`` for one input or ``(T, n_in)``. Returns ``(T, n_res)``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} unknown; allowed: {sorted(ACTIVATIONS)}")
    if not 0 <= leak <= 1:
        raise ValueError(f"leak must lie in [0, 1], got {leak}")
    f = ACTIVATIONS[activation]
    u = np.asarray(u, dtype=float)
    U = u[:, None] if u.ndim == 1 else u
    n = W_res.shape[0]
    drive = U @ np.asarray(W_in, dtype=float).T + bias  # the input term for all steps at once
    x = np.zeros(n) if x0 is None else np.asarray(x0, dtype=float).copy()
    X = np.empty((len(U), n))
    for t in range(len(U)):
        pre = drive[t] + W_res @ x
        x = f(pre) if leak == 1 else (1 - leak) * x + leak * f(pre)
        X[t] = x
    return X


def delayed_targets(u: np.ndarray, max_delay: int, start: int) -> np.ndarray:
    """``Y[t - start, k] = u[t - k]`` for ``t = start .. T-1`` and ``k = 0 .. max_delay`` (needs start >= max_delay)."""
    if start < max_delay:
        raise ValueError(f"start ({start}) must be >= max_delay ({max_delay}) so that every target exists")
    u = np.asarray(u, dtype=float)
    return np.stack([u[start - k: len(u) - k] for k in range(max_delay + 1)], axis=1)


def determination_coefficients(X: np.ndarray, u: np.ndarray, max_delay: int, *, washout: int, n_train: int,
                               ridge: float = 1e-6, held_out: bool = True) -> np.ndarray:
    """The DCF ``r2[k]``, ``k = 0 .. max_delay``, of states ``X`` (``(T, n)``) driven by scalar inputs ``u``.

    States from ``max(washout, max_delay)`` on are used; the first ``n_train`` of them train one ridge
    readout with bias per delay (all at once), ``W = (Xc^T Xc + ridge * n_train * I)^{-1} Xc^T Yc`` on
    centred data. ``r2[k]`` is the squared Pearson correlation between recall and ``u(t - k)`` on the
    remaining steps (``held_out=True``) or on the training steps (``held_out=False``). A constant recall
    (no information) counts as ``r2 = 0``.
    """
    start = max(washout, max_delay)
    Xs = np.asarray(X, dtype=float)[start:]
    Y = delayed_targets(u, max_delay, start)
    if not 0 < n_train < len(Xs) - (2 if held_out else 0):
        raise ValueError(f"n_train={n_train} must leave test steps among the {len(Xs)} usable ones")
    Xtr, Ytr = Xs[:n_train], Y[:n_train]
    mx, my = Xtr.mean(0), Ytr.mean(0)
    Xc = Xtr - mx
    A = Xc.T @ Xc + ridge * n_train * np.eye(Xs.shape[1])
    W = np.linalg.solve(A, Xc.T @ (Ytr - my))
    Xe, Ye = (Xs[n_train:], Y[n_train:]) if held_out else (Xtr, Ytr)
    P = (Xe - mx) @ W + my
    Pc, Yc = P - P.mean(0), Ye - Ye.mean(0)
    cov = (Pc * Yc).sum(0)
    var = (Pc ** 2).sum(0) * (Yc ** 2).sum(0)
    r2 = np.divide(cov ** 2, var, out=np.zeros_like(cov), where=var > 1e-300)
    return np.clip(r2, 0.0, 1.0)


def state_geometry(X: np.ndarray) -> dict[str, np.ndarray | float]:
    """Norms ``||x(t)||``, step distances ``||x(t) - x(t-1)||`` and angles ``Angle(x(t), x(t-1))`` (radians).

    Returns per-step arrays (``norm`` has ``T`` entries, ``dist`` and ``angle`` ``T - 1``) and the summaries
    ``mean_norm``, ``mean_dist``, ``ratio = mean_dist / mean_norm`` (the temporally averaged distance over
    the temporally averaged norm), ``mean_angle`` and ``norm_cv`` (std / mean of the norm over time).
    A zero state has angle ``pi / 2`` by convention.
    """
    X = np.asarray(X, dtype=float)
    norm = np.linalg.norm(X, axis=1)
    dist = np.linalg.norm(X[1:] - X[:-1], axis=1)
    den = norm[1:] * norm[:-1]
    cos = np.divide((X[1:] * X[:-1]).sum(1), den, out=np.zeros_like(den), where=den > 0)
    angle = np.arccos(np.clip(cos, -1.0, 1.0))
    mean_norm = float(norm.mean())
    return {"norm": norm, "dist": dist, "angle": angle, "mean_norm": mean_norm, "mean_dist": float(dist.mean()),
            "ratio": float(dist.mean() / mean_norm) if mean_norm > 0 else float("nan"),
            "mean_angle": float(angle.mean()), "norm_cv": float(norm.std() / mean_norm) if mean_norm > 0 else float("nan")}
