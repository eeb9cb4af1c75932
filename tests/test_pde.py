"""Exact checks of reprobook.pde: closed forms, convergence orders, invariants, and the Gauss–Legendre tables."""
import math

import numpy as np
import pytest

from reprobook import pde


def test_grid_and_wavenumbers():
    np.testing.assert_allclose(pde.grid(4), [-1.0, -0.5, 0.0, 0.5])
    np.testing.assert_allclose(pde.wavenumbers(8, 2.0), np.pi * np.arange(5))


def test_heat_equation_is_exact_for_a_linear_problem():
    """With no nonlinear term ETDRK4 is the exact propagator exp(tL): error at rounding level, any dt."""
    x = pde.grid(64)
    nu = 0.3
    u0 = np.sin(np.pi * x) + 0.5 * np.cos(3 * np.pi * x)
    lin = -nu * pde.wavenumbers(64, 2.0) ** 2
    out = pde.etdrk4(u0, lin, lambda v: np.zeros_like(v), 0.25, [0.5, 1.0])
    for t, u in zip([0.5, 1.0], out):
        exact = np.exp(-nu * np.pi ** 2 * t) * np.sin(np.pi * x) + 0.5 * np.exp(-nu * 9 * np.pi ** 2 * t) * np.cos(3 * np.pi * x)
        np.testing.assert_allclose(u, exact, atol=1e-13)


def _logistic_exact(u0, t, r=5.0):
    # u' = r (u - u^3): u(t) = u0 e^{rt} / sqrt(1 + u0^2 (e^{2rt} - 1))
    return u0 * math.exp(r * t) / math.sqrt(1 + u0 ** 2 * (math.exp(2 * r * t) - 1))


def test_fourth_order_in_time_on_the_allen_cahn_reaction():
    """A constant state evolves by the reaction ODE alone; its exact solution gives the order of ETDRK4."""
    u0 = np.full(8, 0.1)
    errors = []
    for dt in (0.1, 0.05, 0.025):
        u = pde.allen_cahn(u0, [0.5], dt=dt)[0]
        errors.append(abs(u[0] - _logistic_exact(0.1, 0.5)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 3.7) & (orders < 4.4)), orders


def test_burgers_matches_cole_hopf_and_converges_at_fourth_order():
    nu = 0.05
    x = pde.grid(128)
    exact = pde.burgers_cole_hopf(x, 0.5, nu=nu)
    errs = []
    for dt in (0.02, 0.01, 0.005):
        u = pde.burgers(-np.sin(np.pi * x), [0.5], nu=nu, dt=dt)[0]
        errs.append(np.abs(u - exact).max())
    assert errs[-1] < 1e-7
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > 3.5), orders


def test_cole_hopf_initial_state_and_small_time():
    x = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(pde.burgers_cole_hopf(x, 0.0), -np.sin(np.pi * x))
    # for small t the solution is u0 + t (-u0 u0_x + nu u0_xx) + O(t^2)
    nu, t = 0.1, 1e-4
    u0, u0x, u0xx = -np.sin(np.pi * x), -np.pi * np.cos(np.pi * x), np.pi ** 2 * np.sin(np.pi * x)
    np.testing.assert_allclose(pde.burgers_cole_hopf(x, t, nu=nu), u0 + t * (-u0 * u0x + nu * u0xx), atol=1e-6)


def test_burgers_invariants_mean_oddness_energy():
    x = pde.grid(256)
    u0 = -np.sin(np.pi * x) + 0.3 + 0.2 * np.cos(2 * np.pi * x)
    out = pde.burgers(u0, [0.1, 0.2, 0.3], nu=0.02, dt=1e-3)
    np.testing.assert_allclose(out.mean(axis=1), u0.mean(), atol=1e-13)  # mass is conserved exactly
    energy = [np.sum(u0 ** 2)] + [np.sum(u ** 2) for u in out]
    assert np.all(np.diff(energy) < 0)  # viscosity dissipates energy
    odd = pde.burgers(-np.sin(np.pi * x), [0.4], dt=1e-3)[0]
    np.testing.assert_allclose(odd[1:], -odd[1:][::-1], atol=1e-12)  # u(-x) = -u(x) on the grid
    assert abs(odd[0]) < 1e-12  # x = -1 (= +1): the Dirichlet value 0


def test_allen_cahn_energy_decreases_and_bounds_and_symmetry():
    x = pde.grid(256)
    u0 = x ** 2 * np.cos(np.pi * x)
    out = pde.allen_cahn(u0, [0.05, 0.1, 0.3, 0.6], dt=1e-3)
    energy = [pde.allen_cahn_energy(u0)] + [pde.allen_cahn_energy(u) for u in out]
    assert np.all(np.diff(energy) < 0)
    assert np.abs(out).max() <= 1.0 + 1e-6  # maximum principle: |u0| <= 1 stays within [-1, 1]
    np.testing.assert_allclose(out[:, 1:], out[:, 1:][:, ::-1], atol=1e-12)  # even data stays even


def test_dt_must_divide_output_times():
    with pytest.raises(ValueError):
        pde.allen_cahn(np.zeros(8), [0.15], dt=0.1)


def test_gauss_legendre_tables_closed_forms():
    A, b, c = pde.gauss_legendre_tableau(1)
    np.testing.assert_allclose(A, [[0.5]]); np.testing.assert_allclose(b, [1.0]); np.testing.assert_allclose(c, [0.5])
    A, b, c = pde.gauss_legendre_tableau(2)
    r = math.sqrt(3) / 6
    np.testing.assert_allclose(c, [0.5 - r, 0.5 + r], atol=1e-15)
    np.testing.assert_allclose(b, [0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(A, [[0.25, 0.25 - r], [0.25 + r, 0.25]], atol=1e-15)
    A, b, c = pde.gauss_legendre_tableau(3)
    s = math.sqrt(15) / 10
    np.testing.assert_allclose(c, [0.5 - s, 0.5, 0.5 + s], atol=1e-15)
    np.testing.assert_allclose(b, [5 / 18, 4 / 9, 5 / 18], atol=1e-15)
    np.testing.assert_allclose(A[1], [5 / 36 + math.sqrt(15) / 24, 2 / 9, 5 / 36 - math.sqrt(15) / 24], atol=1e-15)


@pytest.mark.parametrize("q", [4, 16, 100])
def test_gauss_legendre_order_conditions(q):
    A, b, c = pde.gauss_legendre_tableau(q)
    for k in range(1, 2 * q + 1):  # B(2q): quadrature exact to degree 2q - 1
        assert b @ c ** (k - 1) == pytest.approx(1 / k, abs=1e-13)
    for k in range(1, q + 1):  # C(q): stage equations are collocation
        np.testing.assert_allclose(A @ c ** (k - 1), c ** k / k, atol=1e-13)


def test_gauss_legendre_stability_function_is_the_pade_approximant():
    """For y' = z y one step gives R(z) = 1 + z b^T (I - zA)^{-1} 1, the (q, q) Padé approximant of e^z."""
    A, b, _ = pde.gauss_legendre_tableau(2)
    for z in (-1.0, -10.0, 0.5):
        r = 1 + z * b @ np.linalg.solve(np.eye(2) - z * A, np.ones(2))
        assert r == pytest.approx((1 + z / 2 + z * z / 12) / (1 - z / 2 + z * z / 12), rel=1e-13)
    A, b, _ = pde.gauss_legendre_tableau(8)
    r = 1 + 0.7 * b @ np.linalg.solve(np.eye(8) - 0.7 * A, np.ones(8))
    assert r == pytest.approx(math.exp(0.7), rel=1e-15, abs=1e-15)  # order 16: exact to rounding


def test_relative_l2():
    assert pde.relative_l2([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert pde.relative_l2([0.0, 0.0], [3.0, 4.0]) == 1.0
    assert pde.relative_l2([3.0, 5.0], [3.0, 4.0]) == pytest.approx(0.2)
