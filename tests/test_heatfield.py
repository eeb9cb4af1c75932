"""Tests of reprobook.heatfield: the finite-difference heat solver, sensors, and closed-form reconstructions."""
import numpy as np
import pytest
from scipy.spatial import cKDTree

from reprobook import heatfield as hf


def test_solver_is_exact_on_a_discrete_eigenmode():
    # sin(pi x / L) sin(pi y / L) vanishes on the boundary and is an eigenvector of the 5-point Laplacian
    # with eigenvalue -2 (4 / h^2) sin^2(pi h / (2 L)); with that source the discrete solution is exact.
    solver = hf.HeatSolver(n=17, length=2.0, conductivity=1.5)
    mode = np.sin(np.pi * solver.x / 2.0) * np.sin(np.pi * solver.y / 2.0)
    eig = 2 * (4 / solver.h ** 2) * np.sin(np.pi * solver.h / 4.0) ** 2
    T = solver.solve(1.5 * eig * mode)  # conductivity * Laplace(T) = -q  =>  T = mode
    mode[[0, -1], :] = mode[:, [0, -1]] = 0.0
    np.testing.assert_allclose(T, mode, atol=1e-12)


def test_solver_converges_at_second_order_to_the_continuum_solution():
    errs = []
    for n in (17, 33, 65):
        solver = hf.HeatSolver(n=n, length=2.0)
        exact = np.sin(np.pi * solver.x) * np.sin(np.pi * solver.y / 2.0)  # zero on the boundary of [0, 2]^2
        q = (np.pi ** 2 + (np.pi / 2) ** 2) * exact  # -Laplace(exact)
        errs.append(np.abs(solver.solve(q) - exact).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(rates > 1.9) and np.all(rates < 2.1), rates


def test_paper_sign_flips_the_field_and_sources_heat_physically():
    phys = hf.HeatSolver(n=21, sign="physical")
    paper = hf.HeatSolver(n=21, sign="paper")
    G = phys.unit_responses([[1.0, 1.0]])[0]
    np.testing.assert_allclose(paper.unit_responses([[1.0, 1.0]])[0], -G, atol=1e-15)
    assert np.all(G[1:-1, 1:-1] > 0) and np.all(G[[0, -1], :] == 0) and np.all(G[:, [0, -1]] == 0)
    # A centred source on an odd grid: peak at the centre, symmetric under transposition and flips.
    assert np.unravel_index(G.argmax(), G.shape) == (10, 10)
    np.testing.assert_allclose(G, G.T, atol=1e-14)
    np.testing.assert_allclose(G, G[::-1, ::-1], atol=1e-14)


def test_unit_responses_superpose_to_the_full_solution():
    solver = hf.HeatSolver(n=16)
    rng = np.random.default_rng(0)
    centres = hf.random_layouts(rng, 1)[0]
    c = hf.sample_intensities(rng, 4)
    G = solver.unit_responses(centres)
    source = sum(ci * hf.gaussian_bump(solver.x, solver.y, a, b) for ci, (a, b) in zip(c, centres))
    np.testing.assert_allclose(np.einsum("k,kij->ij", c, G), solver.solve(source), rtol=1e-12, atol=1e-12)
    assert G.shape == (4, 16, 16)


def test_gaussian_bump_matches_the_paper_formula():
    x, y = np.array([1.0, 1.2]), np.array([1.0, 0.9])
    np.testing.assert_allclose(hf.gaussian_bump(x, y, 1.0, 1.0), [1.0, np.exp(-0.05 / 0.05)])


def test_layouts_and_intensities_have_the_paper_ranges():
    rng = np.random.default_rng(1)
    lay = hf.random_layouts(rng, 50)
    c = hf.sample_intensities(rng, (50, 4))
    assert lay.shape == (50, 4, 2) and lay.min() >= 0 and lay.max() <= 2
    assert c.min() >= 1000 and c.max() <= 6000


def test_sensor_grid_positions():
    s = hf.sensor_grid(16, 4)
    # rint((k + 0.5) * 15 / 4) for k = 0..3 = rint(1.875, 5.625, 9.375, 13.125)
    idx = [2, 6, 9, 13]
    assert s.tolist() == [[r, c] for r in idx for c in idx]


def test_nearest_sensor_map_small_case_and_ties():
    m = hf.nearest_sensor_map(4, np.array([[0, 0], [3, 3]]))
    expected = np.array([[0, 0, 0, 0],   # (0, 3) is equidistant: the lower index wins
                         [0, 0, 0, 1],
                         [0, 0, 1, 1],
                         [0, 1, 1, 1]])
    np.testing.assert_array_equal(m, expected)


def test_nearest_sensor_map_agrees_with_a_kd_tree():
    sensors = hf.sensor_grid(24, 4)
    m = hf.nearest_sensor_map(24, sensors)
    rows, cols = np.mgrid[0:24, 0:24]
    pts = np.stack([rows.ravel(), cols.ravel()], 1)
    d, _ = cKDTree(sensors).query(pts, k=2)
    unique = d[:, 1] - d[:, 0] > 1e-9  # compare where the nearest sensor is unambiguous
    _, nearest = cKDTree(sensors).query(pts)
    np.testing.assert_array_equal(m.ravel()[unique], nearest[unique])


def test_voronoi_image_spreads_readings():
    nearest = np.array([[0, 1], [1, 2]])
    img = hf.voronoi_image(np.array([[10.0, 20.0, 30.0]]), nearest)
    np.testing.assert_array_equal(img, [[[10.0, 20.0], [20.0, 30.0]]])
    with pytest.raises(ValueError, match="sensors"):
        hf.voronoi_image(np.array([1.0, 2.0]), nearest)


def _layout(n=16, seed=0):
    solver = hf.HeatSolver(n=n)
    rng = np.random.default_rng(seed)
    G = solver.unit_responses(hf.random_layouts(rng, 1)[0])
    return G, rng, hf.sensor_grid(n, 4)


def test_context_least_squares_is_exact_with_four_demonstrations_and_the_oracle():
    G, rng, sensors = _layout()
    demos = np.einsum("mk,kij->mij", hf.sample_intensities(rng, (4, 4)), G)
    truth = np.einsum("bk,kij->bij", hf.sample_intensities(rng, (5, 4)), G)
    obs = truth[:, sensors[:, 0], sensors[:, 1]]
    scale = np.abs(truth).max()
    np.testing.assert_allclose(hf.context_least_squares(demos, obs, sensors), truth, atol=1e-9 * scale)
    np.testing.assert_allclose(hf.context_least_squares(G, obs, sensors), truth, atol=1e-9 * scale)
    # Per-query contexts (b, m, n, n) give the same answer as one shared context.
    per_query = np.broadcast_to(demos, (5,) + demos.shape)
    np.testing.assert_allclose(hf.context_least_squares(per_query, obs, sensors),
                               hf.context_least_squares(demos, obs, sensors), atol=1e-12)


def test_context_least_squares_with_one_demonstration_and_an_offset():
    G, rng, sensors = _layout()
    demo = 298.0 + np.einsum("k,kij->ij", [1000.0, 2000.0, 3000.0, 4000.0], G)
    truth = 298.0 + np.einsum("k,kij->ij", [1500.0, 1000.0, 5000.0, 2000.0], G)
    obs = truth[sensors[:, 0], sensors[:, 1]]
    d, o = demo[sensors[:, 0], sensors[:, 1]] - 298.0, obs - 298.0
    w = d @ o / (d @ d)  # the one-dimensional least-squares coefficient
    pred = hf.context_least_squares(demo[None], obs, sensors, offset=298.0)
    np.testing.assert_allclose(pred[0], 298.0 + w * (demo - 298.0), rtol=1e-12)
    # A demonstration that is a multiple of the truth reconstructs it exactly.
    pred2 = hf.context_least_squares((298.0 + 2 * (truth - 298.0))[None], obs, sensors, offset=298.0)
    np.testing.assert_allclose(pred2[0], truth, rtol=1e-12)


def test_context_least_squares_rejects_bad_shapes():
    G, _, sensors = _layout()
    with pytest.raises(ValueError, match="queries"):
        hf.context_least_squares(np.zeros((3, 2, 16, 16)), np.zeros((2, 16)), sensors)
    with pytest.raises(ValueError, match="sensors"):
        hf.context_least_squares(G, np.zeros((2, 15)), sensors)


def test_relative_errors_closed_form():
    true = np.array([[[0.0, 2.0], [4.0, 2.0]]])  # mean |T| = 2
    pred = true + np.array([[[1.0, 0.0], [0.0, -3.0]]])
    mae, mx = hf.relative_errors(pred, true)
    np.testing.assert_allclose(mae, [1.0 / 2.0])  # mean |error| = 1
    np.testing.assert_allclose(mx, [3.0 / 2.0])
    mae_off, _ = hf.relative_errors(pred + 10, true + 10, offset=10.0)
    np.testing.assert_allclose(mae_off, mae)
    with pytest.raises(ValueError, match="equal shape"):
        hf.relative_errors(pred, true[0])


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="sign="):
        hf.HeatSolver(n=8, sign="upside-down")
    with pytest.raises(ValueError, match="n must be an integer >= 4"):
        hf.HeatSolver(n=3)
    with pytest.raises(ValueError, match="shape"):
        hf.HeatSolver(n=8).solve(np.zeros((7, 7)))
    with pytest.raises(ValueError, match="n_layouts"):
        hf.random_layouts(np.random.default_rng(0), 0)
    with pytest.raises(ValueError, match="do not fit"):
        hf.sensor_grid(3, 4)
