"""Categorical sequence embeddings (reprobook.categorical), chapter icpr2024-20."""
import numpy as np
import pytest
from sklearn.naive_bayes import CategoricalNB
from sklearn.preprocessing import OneHotEncoder

from reprobook import categorical as cat

X = np.array([[0, 1, 4], [2, 1, 0], [0, 3, 3], [4, 1, 0]])
y = np.array([1, 0, 1, 0])


def test_one_hot_matches_sklearn():
    ref = OneHotEncoder(categories=[list(range(5))] * 3, sparse_output=False).fit_transform(X)
    np.testing.assert_array_equal(cat.one_hot(X, 5), ref)
    assert cat.one_hot(X, 5).shape == (4, 15)


def test_binary_codes_and_width():
    assert cat.binary_width(5) == 3 and cat.binary_width(4) == 3 and cat.binary_width(3) == 2
    # code k is written as k + 1 in binary, most significant bit first: A=001, C=010, G=011, T=100, N=101
    np.testing.assert_array_equal(cat.binary(np.array([[0, 1, 2, 3, 4]]), 5)[0],
                                  [0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1])
    # distinct categories get distinct codes
    codes = cat.binary(np.arange(5)[:, None], 5)
    assert len({tuple(r) for r in codes}) == 5


def test_paper_dimensions_for_164_nucleotides():
    Xs = np.zeros((2, 164), dtype=np.int64)
    ys = np.array([0, 1])
    assert cat.one_hot(Xs, 5).shape[1] == 820  # Table 1
    assert cat.binary(Xs, 5).shape[1] == 492
    assert cat.ConditionalProbabilityEncoder(5).fit_transform(Xs, ys).shape[1] == 328


def test_kmer_frequencies_exact():
    seq = np.array([[0, 1, 0, 1, 2]])  # ACACG: 2-mers AC, CA, AC, CG
    f = cat.kmer_frequencies(seq, 5, 2)
    expected = np.zeros(25)
    expected[0 * 5 + 1] = 2 / 4
    expected[1 * 5 + 0] = 1 / 4
    expected[1 * 5 + 2] = 1 / 4
    np.testing.assert_allclose(f[0], expected)
    np.testing.assert_allclose(cat.kmer_frequencies(X, 5, 3).sum(1), 1.0)
    with pytest.raises(ValueError):
        cat.kmer_frequencies(X, 5, 4)


def test_conditional_probability_by_hand():
    enc = cat.ConditionalProbabilityEncoder(5).fit(X, y)
    Z = enc.transform(X).reshape(4, 3, 2)  # (sample, position, class)
    # position 0: class 0 has codes {2, 4}, class 1 has {0, 0}
    np.testing.assert_allclose(Z[0, 0], [0.0, 1.0])   # code 0: P(.|y=0) = 0, P(.|y=1) = 1
    np.testing.assert_allclose(Z[1, 0], [0.5, 0.0])   # code 2
    # position 1: class 0 has {1, 1}, class 1 has {1, 3}
    np.testing.assert_allclose(Z[0, 1], [1.0, 0.5])
    np.testing.assert_allclose(Z[2, 1], [0.0, 0.5])
    # unseen category gets zero probability in every class
    np.testing.assert_allclose(enc.transform(np.array([[1, 2, 2]])).reshape(3, 2)[0], [0.0, 0.0])


def test_conditional_probability_matches_categorical_nb():
    rng = np.random.default_rng(0)
    Xr = rng.integers(0, 5, size=(200, 6))
    yr = rng.integers(0, 3, size=200)
    enc = cat.ConditionalProbabilityEncoder(5).fit(Xr, yr)
    nb = CategoricalNB(alpha=1e-10, force_alpha=True, min_categories=5).fit(Xr, yr)
    for j in range(6):
        np.testing.assert_allclose(enc.table_[j], np.exp(nb.feature_log_prob_[j]).T, atol=1e-8)
    # and with Laplace smoothing both add the same pseudo-count
    enc1 = cat.ConditionalProbabilityEncoder(5, smoothing=1.0).fit(Xr, yr)
    nb1 = CategoricalNB(alpha=1.0, min_categories=5).fit(Xr, yr)
    np.testing.assert_allclose(enc1.table_[2], np.exp(nb1.feature_log_prob_[2]).T, atol=1e-12)


def test_sigmoid_probability_values():
    assert cat.sigmoid_probability(0.2, 5.0, 5.0) == pytest.approx(0.5)
    assert cat.sigmoid_probability(0.0, 5.0, 5.0) == pytest.approx(1 / (1 + np.exp(5)))
    assert cat.sigmoid_probability(0.4, 5.0, 5.0) == pytest.approx(1 / (1 + np.exp(-5)))
    r = np.linspace(0, 1, 11)
    assert np.all(np.diff(cat.sigmoid_probability(r, 5.0, 5.0)) > 0)
    enc = cat.ConditionalProbabilityEncoder(5, nonlinear=True).fit(X, y)
    lin = cat.ConditionalProbabilityEncoder(5).fit(X, y)
    np.testing.assert_allclose(enc.table_, cat.sigmoid_probability(lin.table_, 5.0, 5.0))


def test_bad_codes_are_refused():
    with pytest.raises(ValueError):
        cat.one_hot(np.array([[0, 5]]), 5)
    with pytest.raises(ValueError):
        cat.one_hot(np.array([[0.0, 1.0]]), 5)
