"""Exact checks of reprobook.reservoir: spectral scaling, the echo-state update by hand, a delay line's memory."""
import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from reprobook import reservoir as rv


def test_spectral_radius_of_hand_matrices():
    assert rv.spectral_radius(np.diag([2.0, -3.0, 1.0])) == pytest.approx(3.0, abs=1e-14)
    assert rv.spectral_radius(np.array([[0.0, -2.0], [2.0, 0.0]])) == pytest.approx(2.0, abs=1e-14)  # eigenvalues ±2i
    np.testing.assert_allclose(rv.scale_to_spectral_radius(np.diag([2.0, -3.0, 1.0]), 1.5),
                               np.diag([1.0, -1.5, 0.5]), atol=1e-15)


@pytest.mark.parametrize("rho", [0.2, 0.6, 1.0, 1.4, 10.0])
@pytest.mark.parametrize("density", [1.0, 0.05])
def test_scaling_gives_the_requested_radius_exactly(rho, density):
    W, _, r0 = rv.make_reservoir(60, density=density, rng=np.random.default_rng(3))
    Ws = rv.scale_to_spectral_radius(W, rho, current=r0)
    assert rv.spectral_radius(Ws) == pytest.approx(rho, rel=1e-12)
    np.testing.assert_allclose(Ws / rho, W / r0)  # only a scalar factor changed


def test_zero_radius_and_nilpotent_and_negative():
    W, _, r0 = rv.make_reservoir(10, rng=np.random.default_rng(0))
    assert not rv.scale_to_spectral_radius(W, 0.0, current=r0).any()
    with pytest.raises(ValueError):
        rv.scale_to_spectral_radius(np.eye(3, k=1), 1.0)  # a nilpotent shift
    with pytest.raises(ValueError):
        rv.scale_to_spectral_radius(W, -0.5)


def test_make_reservoir_density_and_input_range():
    W, W_in, _ = rv.make_reservoir(200, 2, density=0.05, input_scale=0.3, rng=np.random.default_rng(1))
    share = np.count_nonzero(W) / W.size
    assert 0.04 < share < 0.065
    assert (np.count_nonzero(W, axis=1) >= 1).all()
    assert W_in.shape == (200, 2) and np.abs(W_in).max() <= 0.3


def test_echo_state_update_by_hand():
    W = np.array([[0.0, 0.5], [0.5, 0.0]])
    W_in = np.array([[1.0], [-1.0]])
    X = rv.run_reservoir(W, W_in, np.array([1.0, 0.0]))
    t1 = np.tanh([1.0, -1.0])
    np.testing.assert_allclose(X[0], t1, atol=1e-15)
    np.testing.assert_allclose(X[1], np.tanh([0.5 * t1[1], 0.5 * t1[0]]), atol=1e-15)
    # leaky integration with alpha = 0.25 and a bias of 0.1
    XL = rv.run_reservoir(W, W_in, np.array([1.0, 0.0]), leak=0.25, bias=0.1)
    x1 = 0.25 * np.tanh([1.1, -0.9])
    np.testing.assert_allclose(XL[0], x1, atol=1e-15)
    np.testing.assert_allclose(XL[1], 0.75 * x1 + 0.25 * np.tanh(W @ x1 + 0.1), atol=1e-15)
    # the step activation
    XH = rv.run_reservoir(W, W_in, np.array([1.0, 0.0]), activation="heaviside")
    np.testing.assert_array_equal(XH, [[1.0, 0.0], [0.0, 1.0]])


def test_delay_line_remembers_exactly_n_steps():
    """A shift register with identity activation stores u(t), ..., u(t - n + 1): r2 = 1 there, about 0 beyond."""
    n = 5
    W = np.eye(n, k=-1)  # x_i(t) = x_{i-1}(t-1)
    W_in = np.eye(n)[:, :1]
    u = np.random.default_rng(0).uniform(-0.5, 0.5, 1600)
    X = rv.run_reservoir(W, W_in, u, activation="identity")
    r2 = rv.determination_coefficients(X, u, 10, washout=50, n_train=1000, ridge=1e-9)
    assert (r2[:n] > 0.999999).all()
    assert (r2[n:] < 0.03).all()
    assert r2.sum() == pytest.approx(n, abs=0.15)


def test_determination_coefficients_match_sklearn_ridge_and_corrcoef():
    rng = np.random.default_rng(2)
    u = rng.uniform(-0.5, 0.5, 400)
    W, W_in, r0 = rv.make_reservoir(20, rng=rng)
    X = rv.run_reservoir(rv.scale_to_spectral_radius(W, 0.9, r0), W_in, u)
    K, start, n_train, lam = 6, 20, 250, 1e-3
    r2 = rv.determination_coefficients(X, u, K, washout=start, n_train=n_train, ridge=lam)
    Y = rv.delayed_targets(u, K, start)
    Xs = X[start:]
    for k in range(K + 1):
        model = Ridge(alpha=lam * n_train).fit(Xs[:n_train], Y[:n_train, k])
        pred = model.predict(Xs[n_train:])
        assert r2[k] == pytest.approx(np.corrcoef(pred, Y[n_train:, k])[0, 1] ** 2, abs=1e-9)


def test_delayed_targets_layout():
    Y = rv.delayed_targets(np.arange(6.0), 2, 2)
    np.testing.assert_array_equal(Y, [[2, 1, 0], [3, 2, 1], [4, 3, 2], [5, 4, 3]])
    with pytest.raises(ValueError):
        rv.delayed_targets(np.arange(6.0), 3, 2)


def test_state_geometry_on_hand_vectors():
    g = rv.state_geometry(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -2.0]]))
    np.testing.assert_allclose(g["norm"], [1, 1, 2])
    np.testing.assert_allclose(g["dist"], [math.sqrt(2), 3])
    np.testing.assert_allclose(g["angle"], [math.pi / 2, math.pi])
    assert g["ratio"] == pytest.approx((math.sqrt(2) + 3) / 2 / (4 / 3))


def test_independent_high_dimensional_vectors_concentrate_on_a_sphere():
    """Eqs. (6)-(8) of Konishi et al.: distance / norm -> sqrt(2), angle -> pi / 2 for i.i.d. vectors."""
    X = np.random.default_rng(4).standard_normal((40, 20000))
    g = rv.state_geometry(X)
    assert g["ratio"] == pytest.approx(math.sqrt(2), abs=0.01)
    assert g["mean_angle"] == pytest.approx(math.pi / 2, abs=0.01)
    assert g["norm_cv"] < 0.01
