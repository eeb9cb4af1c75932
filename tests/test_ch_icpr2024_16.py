"""The primal squared-hinge LapSVM-family solver of chapter icpr2024-16 (reprobook.ssl)."""
import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.svm import SVC

from reprobook import graphs, ssl


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=40) > 0, 1.0, -1.0)
    return X, y, np.arange(25)  # first 25 points labelled


def test_rbf_kernel_values():
    A = np.array([[0.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose(ssl.rbf_kernel(A, A, 0.5), [[1, np.exp(-2.5)], [np.exp(-2.5), 1]])


def test_supervised_case_matches_sklearn_svc(problem):
    """dI = 0 is the squared-hinge SVM; its dual is a hard-margin SVM on the kernel K + dA I."""
    X, y, lab = problem
    dA = 0.3
    K = ssl.rbf_kernel(X, X, 0.5)
    P = ssl.ManifoldSpectrum(K, None).reduced(dA, 0.0, lab)
    beta, b, ok = ssl.newton_l2svm(P, np.arange(len(lab)), y[lab])
    assert ok
    alpha = ssl.fit_alpha(K, None, lab, beta, b, dA, 0.0)
    svc = SVC(kernel="precomputed", C=1e10, tol=1e-10).fit(K[np.ix_(lab, lab)] + dA * np.eye(len(lab)), y[lab])
    ref = np.zeros(len(lab))
    ref[svc.support_] = svc.dual_coef_[0]
    np.testing.assert_allclose(alpha[lab], ref, atol=1e-5)
    assert b == pytest.approx(svc.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(alpha[25:], 0)  # unlabelled points play no part without the graph term
    # and the decision values on new points agree
    Kt = ssl.rbf_kernel(X[25:], X[lab], 0.5)
    np.testing.assert_allclose(Kt @ alpha[lab] + b, svc.decision_function(Kt), atol=1e-5)


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("dI", [0.01, 1.0])
def test_semi_supervised_solution_is_the_primal_minimiser(problem, lam, dI):
    """With the graph term the Newton solution has zero primal gradient and beats a generic optimiser."""
    X, y, lab = problem
    dA = 0.3
    K = ssl.rbf_kernel(X, X, 0.5)
    L = graphs.graph_laplacian(graphs.knn_heat_graph(X, 5))
    F = graphs.knn_hyperedges(X, 5)
    H = graphs.hypergraph_laplacian(F, graphs.hyperedge_weights(X, F, 1.0))
    M = lam * L + (1 - lam) * H
    P = ssl.ManifoldSpectrum(K, M).reduced(dA, dI, np.arange(40))
    beta, b, ok = ssl.newton_l2svm(P, lab, y[lab])
    assert ok
    alpha = ssl.fit_alpha(K, M, lab, beta, b, dA, dI)
    # gradient of the primal objective at (alpha, b)
    f = K @ alpha + b
    r = np.zeros(40)
    viol = y[lab] * f[lab] < 1
    r[lab[viol]] = f[lab][viol] - y[lab][viol]
    inner = r + dA * alpha + dI * M @ f
    np.testing.assert_allclose(K @ inner, 0, atol=1e-8)
    assert inner.sum() - dA * alpha.sum() == pytest.approx(0, abs=1e-8)  # d/db: sum(r) + dI 1^T M f
    # the reduced decision values equal K alpha + b
    np.testing.assert_allclose(ssl.decision_on(P, np.arange(40), lab, beta, b), f, atol=1e-10)
    obj = lambda th: ssl.primal_objective(th[:40], th[40], K, M, lab, y[lab], dA, dI)  # noqa: E731
    generic = minimize(obj, np.zeros(41), method="L-BFGS-B", options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12))
    assert obj(np.append(alpha, b)) <= generic.fun + 1e-9


def test_one_vs_rest_columns_are_solved_independently(problem):
    X, y, lab = problem
    K = ssl.rbf_kernel(X, X, 0.5)
    L = graphs.graph_laplacian(graphs.knn_heat_graph(X, 5))
    P = ssl.ManifoldSpectrum(K, L).reduced(0.1, 0.5, np.arange(40))
    Y = np.stack([y[lab], -y[lab]], 1)
    beta, b, ok = ssl.newton_l2svm(P, lab, Y)
    b0, bb0, _ = ssl.newton_l2svm(P, lab, y[lab])
    assert ok
    np.testing.assert_allclose(beta[:, 0], b0)
    np.testing.assert_allclose(beta[:, 1], -b0, atol=1e-10)  # the problem is odd in y
    assert b[0] == pytest.approx(bb0)
    alpha = ssl.fit_alpha(K, L, lab, beta, b, 0.1, 0.5)
    np.testing.assert_allclose(alpha[:, 0], ssl.fit_alpha(K, L, lab, b0, bb0, 0.1, 0.5))


def test_bad_regularisation_is_refused(problem):
    X, _, lab = problem
    K = ssl.rbf_kernel(X, X, 0.5)
    with pytest.raises(ValueError):
        ssl.ManifoldSpectrum(K, None).reduced(0.0, 0.0, lab)
    with pytest.raises(ValueError):
        ssl.ManifoldSpectrum(K, None).reduced(1.0, 0.5, lab)


def _old_full_step_newton(P, train, y, max_iter=100):
    """The solver as it was before the line search (full Newton steps); True if it found the optimum,
    False if its active set cycled. Kept here only to certify that the cases below are hard ones."""
    KG, q, g = P.KG[np.ix_(train, train)], P.q[train], P.g[train]
    corner = P.dI * (P.s - P.dI * P.t)
    active, seen = np.ones(len(train), dtype=bool), set()
    for _ in range(max_iter):
        A = np.flatnonzero(active)
        n = len(A)
        sys = np.empty((n + 1, n + 1))
        sys[:n, :n] = KG[np.ix_(A, A)] + np.eye(n)
        sys[:n, n] = q[A]
        sys[n, :n] = -1.0 + P.dI * g[A]
        sys[n, n] = corner
        sol = np.linalg.solve(sys, np.append(y[A], 0.0))
        new = y * (KG[:, A] @ sol[:n] + sol[n] * q) < 1.0
        if np.array_equal(new, active):
            return True
        if new.tobytes() in seen:
            return False
        seen.add(new.tobytes())
        active = new
    return False


def _random_problem(seed):
    """Small random semi-supervised problems; seeds 36 and 11687 made the full-step solver cycle."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 25))
    n_lab = int(rng.integers(4, n + 1))
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] + rng.normal(size=n) > 0, 1.0, -1.0)
    gamma, dA, dI = 10 ** rng.uniform(-3, 0.5), 10 ** rng.uniform(-4, 2), 10 ** rng.uniform(-4, 2)
    K = ssl.rbf_kernel(X, X, gamma)
    k = min(4, n - 1)
    L = graphs.graph_laplacian(graphs.knn_heat_graph(X, k))
    F = graphs.knn_hyperedges(X, k)
    H = graphs.hypergraph_laplacian(F, graphs.hyperedge_weights(X, F, graphs.heat_width(X, k)))
    lam = rng.choice([0, 0.5, 1.0])
    return K, lam * L + (1 - lam) * H, y, np.arange(n_lab), dA, dI


@pytest.mark.parametrize("seed", [36, 11687])
def test_line_search_converges_where_full_newton_steps_cycle(seed):
    K, M, y, lab, dA, dI = _random_problem(seed)
    n = len(K)
    P = ssl.ManifoldSpectrum(K, M).reduced(dA, dI, np.arange(n))
    assert not _old_full_step_newton(P, lab, y[lab])  # the old solver cycled here
    beta, b, ok = ssl.newton_l2svm(P, lab, y[lab])
    assert ok
    # KKT conditions in the reduced variables: beta = y - f on the margin violators, 0 elsewhere, and
    # the stationarity equation for b
    f = ssl.decision_on(P, lab, lab, beta, b)
    viol = y[lab] * f < 1
    np.testing.assert_allclose(beta[viol], (y[lab] - f)[viol], atol=1e-10)
    np.testing.assert_allclose(beta[~viol], 0, atol=1e-10)
    corner = dI * (P.s - dI * P.t)
    assert P.q[lab] @ beta == pytest.approx(corner * b, abs=1e-10)
    # the reduced objective is the primal objective, and no generic optimiser does better
    alpha = ssl.fit_alpha(K, M, lab, beta, b, dA, dI)
    obj = lambda th: ssl.primal_objective(th[:n], th[n], K, M, lab, y[lab], dA, dI)  # noqa: E731
    ours = obj(np.append(alpha, b))
    assert ssl._objective(P.KG[np.ix_(lab, lab)], P.q[lab], corner, y[lab], beta, b) == pytest.approx(ours, abs=1e-12)
    opts = dict(maxiter=20000, ftol=1e-15, gtol=1e-12)
    generic = minimize(obj, np.zeros(n + 1), method="L-BFGS-B", options=opts)
    assert ours <= generic.fun + 1e-12
    if seed == 36:  # well conditioned: L-BFGS reaches the same minimum
        assert ours == pytest.approx(generic.fun, abs=1e-9)
    else:  # K is nearly singular (dA ~ 1e-4), so L-BFGS from 0 stops early; from our point it finds nothing
        polish = minimize(obj, np.append(alpha, b), method="L-BFGS-B", options=opts)
        assert polish.fun >= ours - 1e-12


def test_exact_line_search_finds_the_minimum_along_the_line():
    rng = np.random.default_rng(3)
    for _ in range(50):
        m, s = rng.normal(size=12), rng.normal(size=12)
        c1 = rng.uniform(0, 2)
        c0 = -rng.uniform(0, 3)
        phi = lambda t: 0.5 * np.sum(np.maximum(0, m - t * s) ** 2) + c0 * t + 0.5 * c1 * t * t  # noqa: E731
        t = ssl._exact_step(m, s, c0, c1)
        grid = np.linspace(0, 3 * max(t, 1), 20001)
        assert phi(t) <= np.min([phi(u) for u in grid]) + 1e-12


def test_non_convergence_raises():
    K, M, y, lab, dA, dI = _random_problem(11687)
    P = ssl.ManifoldSpectrum(K, M).reduced(dA, dI, np.arange(len(K)))
    with pytest.raises(RuntimeError, match="no convergence"):
        ssl.newton_l2svm(P, lab, y[lab], max_iter=1)
