"""Embeddings of categorical sequences: one-hot, binary, k-mer counts and class-conditional probabilities.

The input is an integer matrix ``X`` of shape ``(n, D)`` whose entries are category codes ``0..K-1`` (for
DNA, ``K = 5``: A, C, G, T, N). Every per-position embedding returns a matrix of shape ``(n, D * width)``
laid out position by position (the ``width`` numbers of position 0 first), so a 1D convolution with stride
``width`` steps exactly one position at a time.

The conditional-probability embedding is the method of Borah & Dutta (ICPR 2024, chapter icpr2024-20):
category ``k`` at position ``j`` becomes the vector of its class-conditional frequencies
``(P(v_jk | y_1), ..., P(v_jk | y_C))`` counted on the training set (their Eqs. 4-5), or a sigmoid of those
frequencies (their Eq. 6, as we read it: ``1 / (1 + exp(a (1 - b r)))``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _check_codes(X: np.ndarray, n_categories: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"X must be a 2-D integer array of category codes, got shape {X.shape} and dtype {X.dtype}")
    if X.size and (X.min() < 0 or X.max() >= n_categories):
        raise ValueError(f"category codes must lie in 0..{n_categories - 1}, got {X.min()}..{X.max()}")
    return X


def one_hot(X: np.ndarray, n_categories: int) -> np.ndarray:
    """``(n, D * K)``: position ``j`` holds a 1 at its category and 0 elsewhere (the paper's ``o_jk``)."""
    X = _check_codes(X, n_categories)
    return np.eye(n_categories, dtype=np.float64)[X].reshape(X.shape[0], -1)


def binary_width(n_categories: int) -> int:
    """Bits needed for the codes ``1..K``: ``ceil(log2(K + 1))``.

    The paper writes ``ceil(log2 K)``, which is the same for K = 5 (3 bits) but one bit short when K is a
    power of two and codes start at 1 (K = 4 needs the code 4 = 100).
    """
    return max(1, math.ceil(math.log2(n_categories + 1)))


def binary(X: np.ndarray, n_categories: int) -> np.ndarray:
    """``(n, D * B)``: position ``j`` holds the bits (most significant first) of its code plus one (``b_jk``)."""
    X = _check_codes(X, n_categories)
    width = binary_width(n_categories)
    shifts = np.arange(width - 1, -1, -1)
    bits = ((X[..., None] + 1) >> shifts) & 1
    return bits.astype(np.float64).reshape(X.shape[0], -1)


def kmer_frequencies(X: np.ndarray, n_categories: int, k: int) -> np.ndarray:
    """``(n, K**k)``: the share of each k-mer among the ``D - k + 1`` windows of each sequence.

    The k-mer ``(c_1, ..., c_k)`` has column ``sum_i c_i K**(k - i)`` (lexicographic order). Position is
    discarded, which is what makes the bag-of-k-mers a coarse but position-free baseline.
    """
    X = _check_codes(X, n_categories)
    n, D = X.shape
    if not 1 <= k <= D:
        raise ValueError(f"k must be in 1..{D} (the sequence length), got {k}")
    index = np.zeros((n, D - k + 1), dtype=np.int64)
    for i in range(k):
        index = index * n_categories + X[:, i:D - k + 1 + i]
    out = np.zeros((n, n_categories ** k))
    np.add.at(out, (np.repeat(np.arange(n), D - k + 1), index.ravel()), 1.0)
    return out / (D - k + 1)


def sigmoid_probability(r: np.ndarray, a: float, b: float) -> np.ndarray:
    """The nonlinear map of a conditional frequency ``r``: ``1 / (1 + exp(a (1 - b r)))``.

    With ``b = K`` it is 0.5 where ``r = 1/K`` (the frequency of a uniform category), rises with ``r``, and
    ``a`` sets how steep it is (``a = 5`` gives 0.0067 at ``r = 0`` and 0.9933 at ``r = 2/K``).
    """
    return 1.0 / (1.0 + np.exp(a * (1.0 - b * np.asarray(r, dtype=np.float64))))


@dataclass
class ConditionalProbabilityEncoder:
    """Class-conditional frequency embedding (Borah & Dutta, Eqs. 4-7).

    ``fit(X, y)`` counts, for every position ``j``, category ``k`` and class ``n``,
    ``r[j, k, n] = |{i : y_i = n, x_ij = k}| / |{i : y_i = n}|``; ``transform`` replaces each category by
    ``r[j, k, :]`` (``nonlinear=False``, the paper's ``p_jk``) or by ``sigmoid_probability(r, a, b)``
    (``nonlinear=True``, ``\\hat p_jk``; ``b=None`` means ``b = K``). ``smoothing`` adds a pseudo-count to
    every cell (0 is the paper's plain frequency). Fit it on training data only: the counts use the labels.
    """

    n_categories: int
    nonlinear: bool = False
    a: float = 5.0
    b: float | None = None
    smoothing: float = 0.0
    classes_: np.ndarray = field(init=False, default=None, repr=False)
    table_: np.ndarray = field(init=False, default=None, repr=False)  # (D, K, C) embedded values

    @property
    def width(self) -> int:
        """Numbers per position: the number of classes ``C`` seen in ``fit``."""
        return len(self.classes_)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ConditionalProbabilityEncoder":
        X = _check_codes(X, self.n_categories)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        if self.smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {self.smoothing}")
        self.classes_ = np.unique(y)
        D, K = X.shape[1], self.n_categories
        counts = np.zeros((D, K, len(self.classes_)))
        for c, label in enumerate(self.classes_):
            Xc = X[y == label]
            for k in range(K):
                counts[:, k, c] = (Xc == k).sum(0)
        counts += self.smoothing
        ratio = counts / counts.sum(1, keepdims=True)  # sum over categories = class size (+ K * smoothing)
        b = float(K if self.b is None else self.b)
        self.table_ = sigmoid_probability(ratio, self.a, b) if self.nonlinear else ratio
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.table_ is None:
            raise RuntimeError("call fit before transform")
        X = _check_codes(X, self.n_categories)
        if X.shape[1] != self.table_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} positions, the encoder was fitted on {self.table_.shape[0]}")
        out = self.table_[np.arange(X.shape[1])[None, :], X]  # (n, D, C)
        return out.reshape(X.shape[0], -1)

    def fit_transform(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.fit(X, y).transform(X)
