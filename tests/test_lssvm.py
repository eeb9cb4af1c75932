"""Least squares SVM (reprobook.lssvm), chapter icpr2024-20."""
import numpy as np
import pytest
import torch

from reprobook import lssvm


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = np.where(X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=30) > 0, 1.0, -1.0)
    return torch.tensor(X), torch.tensor(y)


def test_sq_dists_and_kernel():
    A = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    np.testing.assert_allclose(lssvm.sq_dists(A, A).numpy(), [[0, 5], [5, 0]])
    np.testing.assert_allclose(lssvm.gaussian_kernel(lssvm.sq_dists(A, A), 2.0).numpy(),
                               [[1, np.exp(-5 / 8)], [np.exp(-5 / 8), 1]])


def test_linear_kernel_matches_primal_least_squares(data):
    """With K = X X^T the dual solution gives the primal minimiser of 1/2||w||^2 + lam ||y - Xw - b||^2."""
    X, y = data
    lam = 0.7
    alpha, b = lssvm.lssvm_fit(X @ X.T, y, lam)
    w = X.T @ alpha
    # primal normal equations in (w, b): [[I + 2 lam X^T X, 2 lam X^T 1], [2 lam 1^T X, 2 lam n]]
    Xn, yn = X.numpy(), y.numpy()
    n, d = Xn.shape
    M = np.zeros((d + 1, d + 1))
    M[:d, :d] = np.eye(d) + 2 * lam * Xn.T @ Xn
    M[:d, d] = M[d, :d] = 2 * lam * Xn.sum(0)
    M[d, d] = 2 * lam * n
    rhs = np.concatenate([2 * lam * Xn.T @ yn, [2 * lam * yn.sum()]])
    sol = np.linalg.solve(M, rhs)
    np.testing.assert_allclose(w.numpy(), sol[:d], atol=1e-10)
    assert float(b) == pytest.approx(sol[d], abs=1e-10)
    assert float(alpha.sum()) == pytest.approx(0.0, abs=1e-10)


def test_path_matches_direct_solves(data):
    X, y = data
    K = lssvm.gaussian_kernel(lssvm.sq_dists(X, X), 1.5)
    lams = [0.5, 2.0, 64.0]
    for lam, (alpha, b) in zip(lams, lssvm.lssvm_path(K, y, lams)):
        a2, b2 = lssvm.lssvm_fit(K, y, lam)
        np.testing.assert_allclose(alpha.numpy(), a2.numpy(), atol=1e-8)
        assert float(b) == pytest.approx(float(b2), abs=1e-8)
        # bordered system holds: (K + I/(2 lam)) alpha + b 1 = y
        resid = K @ alpha + alpha / (2 * lam) + b - y
        assert float(resid.abs().max()) < 1e-8
    f = lssvm.decision(K, *lssvm.lssvm_path(K, y, [64.0])[0])
    assert float(((f > 0).double() * 2 - 1 == y).double().mean()) > 0.9  # fits its training data


def test_bad_lambda():
    K = torch.eye(3, dtype=torch.float64)
    with pytest.raises(ValueError):
        lssvm.lssvm_fit(K, torch.ones(3, dtype=torch.float64), 0.0)
