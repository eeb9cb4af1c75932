"""Reference solvers for 1-D periodic PDEs, an exact Burgers solution, and Gauss–Legendre Runge–Kutta tables.

* :func:`etdrk4` integrates ``u_t = L u + N(u)`` on a periodic grid: Fourier pseudo-spectral in space,
  exponential time differencing with a fourth-order Runge–Kutta stage structure in time (Cox and Matthews,
  J. Comput. Phys. 176, 2002), with the phi-function coefficients evaluated by contour integrals as
  proposed by Kassam and Trefethen (SIAM J. Sci. Comput. 26, 2005) to avoid cancellation.
* :func:`allen_cahn` and :func:`burgers` wrap it for the two PDEs of the discrete-time PINN literature
  (Raissi, Perdikaris and Karniadakis, J. Comput. Phys. 378, 2019).
* :func:`burgers_cole_hopf` is the exact viscous Burgers solution for ``u(0, x) = -sin(pi x)`` by the
  Cole–Hopf transform, evaluated by the trapezoidal rule (spectrally accurate for this smooth, rapidly
  decaying integrand); it is the cross-check of the spectral Burgers solver.
* :func:`gauss_legendre_tableau` gives the Butcher table of the q-stage Gauss–Legendre implicit RK
  method (order 2q), computed stably through Legendre expansions so that q = 100 is exact to rounding.

SciPy has no ETD or spectral PDE integrator and no Butcher-table generator, hence the hand-written code;
everything is checked against closed forms in ``tests/test_pde.py``.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

__all__ = ["wavenumbers", "grid", "etdrk4_coefficients", "etdrk4", "allen_cahn", "burgers",
           "burgers_cole_hopf", "allen_cahn_energy", "gauss_legendre_tableau", "relative_l2"]


def grid(n: int, a: float = -1.0, b: float = 1.0) -> np.ndarray:
    """``n`` equispaced points on the periodic interval ``[a, b)`` (the right end is the left end)."""
    return a + (b - a) * np.arange(n) / n


def wavenumbers(n: int, length: float) -> np.ndarray:
    """Angular wavenumbers of ``np.fft.rfft`` on ``n`` points over a period ``length``."""
    return 2 * np.pi * np.fft.rfftfreq(n, d=length / n)


def etdrk4_coefficients(lin: np.ndarray, h: float, n_contour: int = 64, radius: float = 1.0):
    """The ETDRK4 coefficients for the diagonal linear operator ``lin`` and step ``h``.

    Returns ``(E, E2, Q, f1, f2, f3)``: ``E = exp(hL)``, ``E2 = exp(hL/2)``, ``Q = h phi_1(hL/2)/2`` and the
    three fourth-order weights. The phi functions are averaged over ``n_contour`` points on a circle of
    ``radius`` around each ``hL``, which is exact for analytic functions and avoids the cancellation of
    the closed forms near ``hL = 0``.
    """
    lin = np.asarray(lin, dtype=float)
    roots = radius * np.exp(1j * np.pi * (np.arange(1, n_contour + 1) - 0.5) / (n_contour / 2))
    z = h * lin[:, None] + roots[None, :]
    ez = np.exp(z)
    q = h * np.real(np.mean((np.exp(z / 2) - 1) / z, axis=1))
    f1 = h * np.real(np.mean((-4 - z + ez * (4 - 3 * z + z ** 2)) / z ** 3, axis=1))
    f2 = h * np.real(np.mean((2 + z + ez * (z - 2)) / z ** 3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * z - z ** 2 + ez * (4 - z)) / z ** 3, axis=1))
    return np.exp(h * lin), np.exp(h * lin / 2), q, f1, f2, f3


def etdrk4(u0: np.ndarray, lin: np.ndarray, nonlin: Callable[[np.ndarray], np.ndarray], dt: float,
           t_out: Sequence[float]) -> np.ndarray:
    """Integrate ``v_t = lin * v + nonlin(v)`` in Fourier space (``v = rfft(u)``) and return ``u`` at ``t_out``.

    ``lin`` holds the linear operator's symbol per rfft wavenumber; ``nonlin`` maps Fourier coefficients to
    the Fourier coefficients of the nonlinear term. Each output time must be a whole number of steps
    ``dt`` (to 1e-9 relative); the result has shape ``(len(t_out), len(u0))``.
    """
    u0 = np.asarray(u0, dtype=float)
    n = u0.size
    steps = []
    for t in t_out:
        k = round(t / dt)
        if k < 0 or abs(k * dt - t) > 1e-9 * max(1.0, abs(t)):
            raise ValueError(f"output time {t} is not a non-negative multiple of dt={dt}")
        steps.append(k)
    E, E2, Q, f1, f2, f3 = etdrk4_coefficients(lin, dt)
    v = np.fft.rfft(u0)
    out = np.empty((len(steps), n))
    order = np.argsort(steps, kind="stable")
    done = 0
    for idx in order:
        while done < steps[idx]:
            nv = nonlin(v)
            a = E2 * v + Q * nv
            na = nonlin(a)
            b = E2 * v + Q * na
            nb = nonlin(b)
            c = E2 * a + Q * (2 * nb - nv)
            nc = nonlin(c)
            v = E * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
            done += 1
        out[idx] = np.fft.irfft(v, n)
    return out


def allen_cahn(u0: np.ndarray, t_out: Sequence[float], *, diffusion: float = 1e-4, reaction: float = 5.0,
               dt: float = 1e-4, length: float = 2.0) -> np.ndarray:
    """``u_t = diffusion * u_xx + reaction * (u - u^3)`` on a periodic grid of period ``length``.

    The linear part ``reaction - diffusion k^2`` is treated exactly; the cubic is the nonlinear term. The
    cubic is not dealiased: with the resolution used for reference data its aliasing error sits at
    rounding level (the chapter compares two resolutions).
    """
    n = len(u0)
    k = wavenumbers(n, length)
    lin = reaction - diffusion * k ** 2

    def nonlin(v):
        u = np.fft.irfft(v, n)
        return -reaction * np.fft.rfft(u ** 3)

    return etdrk4(u0, lin, nonlin, dt, t_out)


def burgers(u0: np.ndarray, t_out: Sequence[float], *, nu: float = 0.01 / np.pi, dt: float = 1e-4,
            length: float = 2.0, dealias: bool = True) -> np.ndarray:
    """Viscous Burgers ``u_t + u u_x = nu u_xx`` on a periodic grid, conservative form ``(u^2/2)_x``.

    With ``dealias`` the 2/3 rule zeroes the top third of the modes of the quadratic term. For an odd
    initial state on ``[-1, 1)`` the solution stays odd, so it also satisfies ``u(+-1) = 0``: the periodic
    solver then solves the Dirichlet problem of the PINN papers.
    """
    n = len(u0)
    k = wavenumbers(n, length)
    lin = -nu * k ** 2
    keep = np.ones_like(k)
    if dealias:
        keep[np.arange(k.size) > n // 3] = 0.0

    def nonlin(v):
        u = np.fft.irfft(v * keep, n)
        return -0.5j * k * keep * np.fft.rfft(u * u)

    return etdrk4(u0, lin, nonlin, dt, t_out)


def burgers_cole_hopf(x: np.ndarray, t: float, nu: float = 0.01 / np.pi, n_quad: int = 8001,
                      width: float = 16.0) -> np.ndarray:
    """Exact solution of ``u_t + u u_x = nu u_xx``, ``u(0, x) = -sin(pi x)``, on the whole line (2-periodic).

    By Cole–Hopf, ``u(x, t) = -int sin(pi(x - s)) f(x - s) g(s) ds / int f(x - s) g(s) ds`` with
    ``f(y) = exp(-cos(pi y) / (2 pi nu))`` and the heat kernel ``g(s) = exp(-s^2 / (4 nu t))``. The
    integrals run over ``|s| <= width * sqrt(2 nu t)`` on ``n_quad`` trapezoid nodes, in log space.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if t == 0:
        return -np.sin(np.pi * x)
    if t < 0 or nu <= 0:
        raise ValueError("need t >= 0 and nu > 0")
    s = np.linspace(-1, 1, n_quad) * width * math.sqrt(2 * nu * t)
    out = np.empty_like(x)
    for lo in range(0, x.size, 256):
        y = x[lo:lo + 256, None] - s[None, :]
        logw = -np.cos(np.pi * y) / (2 * np.pi * nu) - s[None, :] ** 2 / (4 * nu * t)
        w = np.exp(logw - logw.max(axis=1, keepdims=True))
        out[lo:lo + 256] = -(np.sin(np.pi * y) * w).sum(axis=1) / w.sum(axis=1)
    return out


def allen_cahn_energy(u: np.ndarray, *, diffusion: float = 1e-4, reaction: float = 5.0,
                      length: float = 2.0) -> float:
    """The free energy ``int diffusion/2 u_x^2 + reaction/4 (u^2 - 1)^2 dx`` on a periodic grid.

    Allen–Cahn is its L2 gradient flow, so the energy never increases along exact solutions.
    """
    u = np.asarray(u, dtype=float)
    n = u.size
    ux = np.fft.irfft(1j * wavenumbers(n, length) * np.fft.rfft(u), n)
    dx = length / n
    return float(np.sum(diffusion / 2 * ux ** 2 + reaction / 4 * (u ** 2 - 1) ** 2) * dx)


def _legendre_table(z: np.ndarray, n: int) -> np.ndarray:
    """``P_0(z), ..., P_n(z)`` by Bonnet's recurrence (stable on [-1, 1]); shape ``(n + 1, len(z))``."""
    p = np.empty((n + 1, z.size))
    p[0] = 1.0
    if n >= 1:
        p[1] = z
    for m in range(1, n):
        p[m + 1] = ((2 * m + 1) * z * p[m] - m * p[m - 1]) / (m + 1)
    return p


def gauss_legendre_tableau(q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Butcher table ``(A, b, c)`` of the q-stage Gauss–Legendre collocation method (order 2q).

    ``c`` are the Gauss nodes on [0, 1], ``b`` the Gauss weights and ``a_ij`` the integral from 0 to
    ``c_i`` of the j-th Lagrange basis polynomial on the nodes. The Lagrange polynomial is expanded in
    shifted Legendre polynomials, whose coefficients are exact Gauss sums
    ``(2m+1) b_j P_m(2 c_j - 1)``; their integrals are ``(P_{m+1} - P_{m-1}) / (2(2m+1))``. This avoids the
    Vandermonde systems that break down long before q = 100.
    """
    if not isinstance(q, (int, np.integer)) or q < 1:
        raise ValueError(f"q must be a positive integer, got {q!r}")
    nodes, weights = np.polynomial.legendre.leggauss(int(q))
    c = (nodes + 1) / 2
    b = weights / 2
    pc = _legendre_table(nodes, q)  # P_m at the nodes, m = 0..q
    # integral_0^{c_i} P_m(2s - 1) ds
    integ = np.empty((q, q))
    integ[0] = c
    for m in range(1, q):
        integ[m] = (pc[m + 1] - pc[m - 1]) / (2 * (2 * m + 1))
    coef = (2 * np.arange(q) + 1)[:, None] * pc[:q] * b[None, :]  # (m, j)
    A = integ.T @ coef  # a_ij = sum_m integ[m, i] coef[m, j]
    return A, b, c


def relative_l2(pred: np.ndarray, exact: np.ndarray) -> float:
    """``||pred - exact||_2 / ||exact||_2``, the error measure of the PINN papers."""
    pred, exact = np.asarray(pred, dtype=float), np.asarray(exact, dtype=float)
    return float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))
