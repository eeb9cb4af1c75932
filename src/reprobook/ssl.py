"""Manifold-regularised kernel machines trained in the primal with the squared hinge loss (LapSVM family).

The model is ``f(x) = sum_i alpha_i k(x_i, x) + b`` over all ``m`` labelled and unlabelled points, and the
objective (Melacci & Belkin, JMLR 2011; Eq. 9/11 of Rastogi & Nirwal, ICPR 2024) is::

    1/2 * ( sum_{i labelled} max(0, 1 - y_i f_i)^2 + dA * a^T K a + dI * f^T M f ),   f = K a + 1 b

where ``M`` is any PSD "intrinsic" matrix: a graph Laplacian (LapSVM), a hypergraph Laplacian (HGSVM) or a
mix of the two (IHLSVM). ``dI = 0`` is the supervised squared-hinge (L2) SVM.

Why this is its own module: the solver needs an exact test (against ``sklearn.svm.SVC`` when ``dI = 0``,
and against the primal gradient when ``dI > 0``), and several chapters use the LapSVM family.

How it is solved. Stationarity in ``a`` gives ``a = G (J^T beta - dI b M 1)`` with
``G = (dA I + dI M K)^{-1}`` and ``beta_i = y_i - f_i`` on the labelled points inside the margin (0 elsewhere).
So only ``l`` numbers and ``b`` are unknown, and ``f = KG J^T beta + b (1 - dI KG M 1)``. A finite Newton
(active-set) iteration finds them: fix the set of margin violators, solve one ``(|A|+1)`` linear system,
move towards its solution with an exact line search on the objective (without it the set can cycle),
update the set, repeat until it no longer changes (Keerthi & DeCoste 2005; Chapelle 2007). The matrix
``KG = K (dA I + dI M K)^{-1}`` is symmetric and equals ``Z diag(1/(dA + dI lam)) Z^T`` where
``K^{1/2} M K^{1/2} = V diag(lam) V^T`` and ``Z = K^{1/2} V``; :class:`ManifoldSpectrum` computes this once
per (kernel, ``M``) so that a whole grid of ``(dA, dI)`` costs one matrix product each. The paper solves the
same convex problem with preconditioned conjugate gradients; the minimiser is the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["rbf_kernel", "ManifoldSpectrum", "ReducedProblem", "newton_l2svm", "decision_on", "fit_alpha",
           "primal_objective"]


def rbf_kernel(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma * ||a - b||^2)`` for all pairs of rows (squared distances clipped at 0)."""
    sa, sb = np.sum(A ** 2, 1), np.sum(B ** 2, 1)
    return np.exp(-gamma * np.maximum(sa[:, None] + sb[None, :] - 2 * A @ B.T, 0.0))


class ManifoldSpectrum:
    """Eigen-structure of ``K^{1/2} M K^{1/2}`` for one kernel matrix ``K`` and one intrinsic matrix ``M``.

    ``M=None`` means no intrinsic term (supervised SVM): only ``dI = 0`` is then allowed.
    """

    def __init__(self, K: np.ndarray, M: np.ndarray | None):
        s, U = np.linalg.eigh(K)
        self.Kh = (U * np.sqrt(np.clip(s, 0, None))) @ U.T  # K^{1/2}, K PSD up to rounding
        self.K = K
        self.M = M
        if M is None:
            self.lam, self.Z, self.c, self.s = None, self.Kh, None, 0.0
            return
        S = self.Kh @ M @ self.Kh
        lam, V = np.linalg.eigh((S + S.T) / 2)
        self.lam = np.clip(lam, 0, None)
        self.Z = self.Kh @ V
        m1 = M.sum(axis=1)
        self.c = self.Z.T @ m1
        self.s = float(m1.sum())  # 1^T M 1

    def reduced(self, dA: float, dI: float, rows: np.ndarray) -> "ReducedProblem":
        """The pieces of the reduced problem on the points ``rows`` (indices into the ``m`` points)."""
        if dA <= 0 or dI < 0:
            raise ValueError(f"need dA > 0 and dI >= 0, got dA={dA}, dI={dI}")
        Zr = self.Z[rows]
        if dI == 0 or self.M is None:
            if dI != 0:
                raise ValueError("this spectrum has no intrinsic matrix; use dI=0")
            KG = self.K[np.ix_(rows, rows)] / dA
            return ReducedProblem(KG, np.zeros(len(rows)), 0.0, 0.0, dA, 0.0)
        d = 1.0 / (dA + dI * self.lam)
        KG = (Zr * d) @ Zr.T
        g = Zr @ (d * self.c)  # (K G M 1) on rows
        t = float(self.c @ (d * self.c))  # 1^T M K G M 1
        return ReducedProblem(KG, g, self.s, t, dA, dI)


@dataclass
class ReducedProblem:
    """``KG`` restricted to some points, ``g = (K G M 1)`` there, ``s = 1^T M 1``, ``t = 1^T M K G M 1``."""

    KG: np.ndarray
    g: np.ndarray
    s: float
    t: float
    dA: float
    dI: float

    @property
    def q(self) -> np.ndarray:
        """Coefficient of ``b`` in ``f``: ``1 - dI * K G M 1``."""
        return 1.0 - self.dI * self.g


def _objective(KG: np.ndarray, q: np.ndarray, corner: float, y: np.ndarray, beta: np.ndarray, b: float) -> float:
    """The primal objective written in the reduced variables (see :func:`newton_l2svm`)."""
    f = KG @ beta + b * q
    h = np.maximum(0.0, 1.0 - y * f)
    return 0.5 * float(h @ h + beta @ KG @ beta + corner * b * b)


def _exact_step(m: np.ndarray, s: np.ndarray, c0: float, c1: float) -> float:
    """Exact minimiser ``t >= 0`` of the convex piecewise quadratic ``phi(t)`` along a Newton direction.

    ``phi'(t) = c0 + c1 t - sum_i s_i max(0, m_i - t s_i)``: ``m = 1 - y f`` and ``s = y df`` on the training
    points, ``c0 + c1 t`` the derivative of the quadratic regulariser. ``phi'`` is continuous, piecewise
    linear and non-decreasing; its pieces change where a point crosses the margin (``t = m_i / s_i``), so
    the root is found exactly by walking through these breakpoints in order.
    """
    nz = s != 0
    m, s = m[nz], s[nz]
    on = np.where(s > 0, m > 0, m >= 0)  # hinge terms that are active just after t = 0
    a0 = c0 - float(s[on] @ m[on])  # phi'(t) = a + c t on the first piece
    g0 = c1 + float(s[on] @ s[on])
    tau = m / s
    ev = np.flatnonzero(tau > 0)  # breakpoints ahead: a point leaves (s > 0) or enters (s < 0) the hinge
    ev = ev[np.argsort(tau[ev], kind="stable")]
    sign = np.where(s[ev] > 0, -1.0, 1.0)
    a = a0 + np.concatenate(([0.0], np.cumsum(sign * -s[ev] * m[ev])))
    c = g0 + np.concatenate(([0.0], np.cumsum(sign * s[ev] ** 2)))
    ends = np.append(tau[ev], np.inf)
    starts = np.concatenate(([0.0], tau[ev]))
    with np.errstate(invalid="ignore"):
        at_end = np.where(np.isfinite(ends), a + c * ends, np.where(c > 0, np.inf, a))
    k = int(np.argmax(at_end >= 0)) if np.any(at_end >= 0) else len(ends) - 1
    if c[k] <= 0:  # phi' constant on this piece; at_end >= 0 there means it is already >= 0 at its start
        return float(starts[k])
    return float(np.clip(-a[k] / c[k], starts[k], ends[k]))


def newton_l2svm(P: ReducedProblem, train: np.ndarray, y: np.ndarray, max_iter: int = 100,
                 tol: float = 1e-10):
    """Finite Newton solve of the squared-hinge problem for labels ``y`` (+1/-1) on positions ``train``.

    ``train`` indexes into ``P``'s points. Returns ``(beta, b, converged)`` with ``beta`` over ``train``;
    ``converged`` is always True (a solve that does not converge in ``max_iter`` steps raises RuntimeError).
    Several ``y`` columns (one-vs-rest) may be passed as a 2-D array; each is solved separately.

    In the reduced variables (``a = G (J^T beta - dI b M 1)`` for any ``beta``, ``b``) the primal objective is
    exactly ``Phi(beta, b) = 1/2 (sum_i max(0, 1 - y_i f_i)^2 + beta^T KG beta + corner b^2)`` with
    ``f = KG beta + b q`` on the training points and ``corner = dI (1^T M 1 - dI 1^T M K G M 1)``. Each step
    fixes the set ``A`` of margin violators at the current point and solves one ``(|A|+1)`` linear system
    for the minimiser of the quadratic in which ``A`` is held fixed (the Newton point). If the violators at
    the Newton point are ``A`` itself, it is the minimiser of ``Phi``. Otherwise we do NOT jump to it: the
    full step can make the active set cycle (it did, in about 1 of 2000 solves of chapter icpr2024-16), so
    we take an exact line search on ``Phi`` along the Newton direction. With it ``Phi`` strictly decreases
    and the method terminates after finitely many steps (Keerthi & DeCoste, JMLR 2005).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 2:
        out = [newton_l2svm(P, train, y[:, j], max_iter, tol) for j in range(y.shape[1])]
        return (np.stack([o[0] for o in out], 1), np.array([o[1] for o in out]), all(o[2] for o in out))
    KG = P.KG[np.ix_(train, train)]
    q = P.q[train]
    g = P.g[train]
    corner = P.dI * (P.s - P.dI * P.t)
    beta, b, f = np.zeros(len(train)), 0.0, np.zeros(len(train))
    active = np.ones(len(train), dtype=bool)  # at a = 0, b = 0 every point violates the margin
    for _ in range(max_iter):
        A = np.flatnonzero(active)
        n = len(A)
        sys = np.empty((n + 1, n + 1))
        sys[:n, :n] = KG[np.ix_(A, A)]
        sys[np.arange(n), np.arange(n)] += 1.0
        sys[:n, n] = q[A]
        sys[n, :n] = -1.0 + P.dI * g[A]
        sys[n, n] = corner
        rhs = np.append(y[A], 0.0)
        try:
            sol = np.linalg.solve(sys, rhs)
        except np.linalg.LinAlgError:
            sol = np.linalg.lstsq(sys, rhs, rcond=None)[0]
        beta_n = np.zeros(len(train))
        beta_n[A] = sol[:n]
        b_n = float(sol[n])
        f_n = KG[:, A] @ sol[:n] + b_n * q
        new = y * f_n < 1.0
        # optimal if the violators at the Newton point are A (up to points lying on the margin within tol)
        if not np.any((new != active) & (np.abs(1.0 - y * f_n) > tol)):
            return beta_n, b_n, True
        # exact line search on Phi from (beta, b) towards the Newton point
        dbeta, db, df = beta_n - beta, b_n - b, f_n - f
        KGd = df - db * q  # KG @ dbeta
        t = _exact_step(1.0 - y * f, y * df, float(beta @ KGd + corner * b * db), float(dbeta @ KGd + corner * db * db))
        beta, b, f = beta + t * dbeta, b + t * db, f + t * df
        active = y * f < 1.0
    raise RuntimeError(f"newton_l2svm: no convergence in {max_iter} Newton steps "
                       f"(dA={P.dA:g}, dI={P.dI:g}, {len(train)} training points)")


def decision_on(P: ReducedProblem, rows: np.ndarray, train: np.ndarray, beta: np.ndarray, b) -> np.ndarray:
    """``f`` on positions ``rows`` of ``P`` for a solution ``(beta, b)`` fitted on positions ``train``.

    ``beta`` is ``(len(train),)`` with a scalar ``b``, or ``(len(train), C)`` with ``b`` of length ``C``.
    """
    q = P.q[rows]
    bias = q * b if np.ndim(b) == 0 else np.outer(q, b)
    return P.KG[np.ix_(rows, train)] @ beta + bias


def fit_alpha(K: np.ndarray, M: np.ndarray | None, labelled: np.ndarray, beta: np.ndarray, b, dA: float,
              dI: float) -> np.ndarray:
    """Expansion coefficients ``a = (dA I + dI M K)^{-1} (J^T beta - dI b M 1)`` over all ``m`` points.

    ``beta`` may have one column per class; ``b`` then has one entry per class.
    """
    m = len(K)
    beta = np.asarray(beta, dtype=float)
    R = np.zeros((m,) + beta.shape[1:])
    R[labelled] = beta
    if dI == 0 or M is None:
        return R / dA
    R = R - dI * np.multiply.outer(M.sum(axis=1), np.atleast_1d(b)).reshape(R.shape)
    return np.linalg.solve(dA * np.eye(m) + dI * M @ K, R)


def primal_objective(alpha: np.ndarray, b: float, K: np.ndarray, M: np.ndarray | None, labelled: np.ndarray,
                     y: np.ndarray, dA: float, dI: float) -> float:
    """The objective above, evaluated directly (for tests and sanity checks)."""
    f = K @ alpha + b
    hinge = np.maximum(0.0, 1.0 - y * f[labelled])
    val = hinge @ hinge + dA * alpha @ K @ alpha
    if M is not None and dI:
        val += dI * f @ M @ f
    return 0.5 * float(val)
