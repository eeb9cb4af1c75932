import numpy as np
import pytest

from reprobook.multilabel import MLkNN, evaluate, label_stats, planted_labelsets


def test_label_stats_exact():
    Y = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [0, 1, 1, 1]])
    st = label_stats(Y)
    assert st["cardinality"] == pytest.approx(8 / 4)
    assert st["density"] == pytest.approx(2 / 4)
    assert st["distinct"] == 3
    assert st["max_size"] == 3


def test_evaluate_hand_computed():
    Yt = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    Yp = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 0, 1]])
    m = evaluate(Yt, Yp)
    assert m["exact_match"] == pytest.approx(2 / 4)
    assert m["hamming_loss"] == pytest.approx(2 / 12)
    # pooled: tp = 5, fp = 1, fn = 1 -> F1 = 10 / 12
    assert m["micro_f1"] == pytest.approx(10 / 12)
    # per label: q0 tp2 -> 1; q1 tp1 fn1 -> 2/3; q2 tp2 fp1 -> 4/5
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 4 / 5) / 3)
    assert "avg_precision" not in m


def test_avg_precision_against_the_definition():
    rng = np.random.default_rng(0)
    Yt = (rng.random((30, 6)) < 0.3).astype(int)
    Yt[Yt.sum(1) == 0, 0] = 1
    S = rng.standard_normal((30, 6))
    got = evaluate(Yt, (S > 0).astype(int), S)["avg_precision"]
    # the paper's AvgP formula with distinct scores (rank 1 = highest score)
    total = 0.0
    for y, s in zip(Yt, S):
        rank = (-s).argsort().argsort() + 1
        rel = np.flatnonzero(y)
        total += np.mean([np.sum(rank[rel] <= rank[q]) / rank[q] for q in rel])
    assert got == pytest.approx(total / 30)


def test_evaluate_perfect_and_shape_errors():
    Y = np.array([[1, 0], [0, 1], [1, 1]])
    m = evaluate(Y, Y, Y.astype(float))
    assert m == {"exact_match": 1.0, "hamming_loss": 0.0, "macro_f1": 1.0, "micro_f1": 1.0,
                 "avg_precision": 1.0}
    with pytest.raises(ValueError):
        evaluate(Y, Y[:, :1])
    with pytest.raises(ValueError):
        evaluate(Y, Y + 1)


def _mlknn_reference(X, Y, Xt, k, s):
    """A direct, loop-based transcription of ML-kNN (Zhang & Zhou 2007, Fig. 1)."""
    n, L = Y.shape
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    nbrs = np.argsort(D, axis=1, kind="stable")[:, :k]
    post = np.zeros((len(Xt), L))
    Dt = ((Xt[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    tn = np.argsort(Dt, axis=1, kind="stable")[:, :k]
    for q in range(L):
        p1 = (s + Y[:, q].sum()) / (2 * s + n)
        c1, c0 = np.zeros(k + 1), np.zeros(k + 1)
        for i in range(n):
            delta = int(Y[nbrs[i], q].sum())
            if Y[i, q]:
                c1[delta] += 1
            else:
                c0[delta] += 1
        for t in range(len(Xt)):
            C = int(Y[tn[t], q].sum())
            a = p1 * (s + c1[C]) / (s * (k + 1) + c1.sum())
            b = (1 - p1) * (s + c0[C]) / (s * (k + 1) + c0.sum())
            post[t, q] = a / (a + b)
    return post


def test_mlknn_matches_a_direct_transcription():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    Y = (rng.random((40, 4)) < 0.4).astype(int)
    Xt = rng.standard_normal((15, 3))
    model = MLkNN(k=5, s=1.0).fit(X, Y)
    np.testing.assert_allclose(model.predict_proba(Xt), _mlknn_reference(X, Y, Xt, 5, 1.0), rtol=1e-12)
    assert np.array_equal(model.predict(Xt), (model.predict_proba(Xt) > 0.5).astype(int))


def test_mlknn_hand_computed_one_label():
    # Points on a line; label 1 for the left three. k = 1, s = 1.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    Y = np.array([[1], [1], [1], [0], [0], [0]])
    m = MLkNN(k=1, s=1.0).fit(X, Y)
    assert m.prior1_[0] == pytest.approx(4 / 8)
    # every positive's neighbour is positive: c1 = [0, 3]; every negative's is negative: c0 = [3, 0]
    np.testing.assert_allclose(m.like1_[0], [1 / 5, 4 / 5])
    np.testing.assert_allclose(m.like0_[0], [4 / 5, 1 / 5])
    np.testing.assert_allclose(m.predict_proba(np.array([[0.5], [11.5]]))[:, 0], [0.8, 0.2])


def test_planted_rho_one_uses_only_the_pool_and_is_seeded():
    X, Y = planted_labelsets(500, 6, 10, n_patterns=7, rho=1.0, mean_size=2.5, rng=1)
    assert X.shape == (500, 6) and Y.shape == (500, 10)
    assert Y.sum(axis=1).min() >= 1
    assert label_stats(Y)["distinct"] <= 7
    X2, Y2 = planted_labelsets(500, 6, 10, n_patterns=7, rho=1.0, mean_size=2.5, rng=1)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
    _, Y0 = planted_labelsets(500, 6, 10, n_patterns=7, rho=0.0, mean_size=2.5, rng=1)
    assert label_stats(Y0)["distinct"] > 7


def test_planted_features_additive_and_set_parts_are_exact_without_noise():
    X, Y = planted_labelsets(200, 5, 6, n_patterns=4, rho=0.5, additive=0.0, noise=0.0, rng=2)
    # additive = 0, no noise: identical label sets have identical features, of norm `separation`
    sets, inv = np.unique(Y, axis=0, return_inverse=True)
    for j in range(len(sets)):
        rows = X[inv.ravel() == j]
        assert np.allclose(rows, rows[0])
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 3.0)
    X1, Y1 = planted_labelsets(200, 5, 6, n_patterns=4, rho=0.5, additive=1.0, noise=0.0, rng=2)
    # additive = 1: x * sqrt(|y|) is linear in y, recovered exactly by least squares
    T = X1 * np.sqrt(Y1.sum(1, keepdims=True))
    W, *_ = np.linalg.lstsq(Y1.astype(float), T, rcond=None)
    np.testing.assert_allclose(Y1 @ W, T, atol=1e-9)


def test_planted_rejects_bad_values():
    with pytest.raises(ValueError):
        planted_labelsets(10, 2, 3, rho=1.5)
    with pytest.raises(ValueError):
        planted_labelsets(10, 2, 3, additive=-0.1)
    with pytest.raises(ValueError):
        MLkNN(k=0)


def test_metrics_equal_scikit_learn_with_ties_and_edge_rows():
    from sklearn.metrics import f1_score, hamming_loss, label_ranking_average_precision_score

    from reprobook.multilabel import ranking_average_precision

    rng = np.random.default_rng(7)
    Yt = (rng.random((60, 7)) < 0.35).astype(int)
    Yt[0] = 0  # no relevant label
    Yt[1] = 1  # all relevant
    Yt[:, 6] = 0  # a label never present
    Yp = (rng.random((60, 7)) < 0.3).astype(int)
    Yp[:, 6] = 0  # ... and never predicted: F1 = 0 for it
    S = rng.integers(0, 3, size=(60, 7)).astype(float)  # many ties
    m = evaluate(Yt, Yp, S)
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Yt, Yp))
    assert m["macro_f1"] == pytest.approx(f1_score(Yt, Yp, average="macro", zero_division=0))
    assert m["micro_f1"] == pytest.approx(f1_score(Yt, Yp, average="micro", zero_division=0))
    assert m["avg_precision"] == pytest.approx(label_ranking_average_precision_score(Yt, S))
    assert ranking_average_precision(Yt, S, chunk=7) == pytest.approx(m["avg_precision"])
