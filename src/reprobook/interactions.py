"""Feature-interaction benchmarks: planted-interaction functions, a recovery score, and NID's weight ranking.

- :func:`synthetic_function` evaluates the three test functions of Zhai et al. (ICONIP 2024, Table 3),
  read with the absolute values of the NID benchmark they derive from (Tsang et al., ICLR 2018);
  :data:`GROUND_TRUTH` lists their planted interaction sets (0-based feature indices, order >= 2).
- :func:`make_interaction_data` draws ``x ~ U[-1, 1]^k``, evaluates a function and thresholds at the median,
  optionally snapping some features to a few levels so they can be fed as categorical variables.
- :func:`recovery_score` is the Jaccard-based recovery score of that paper (Sect. 4.3).
- :func:`nid_ranking` ranks candidate interaction sets from the weights of a trained MLP as in
  Neural Interaction Detection (Tsang et al., ICLR 2018, Algorithm 1, without the main-effect network).

No library does these (they are definitions from the two papers), so they are written here with exact tests
in ``tests/test_interactions.py``.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

FUNCTIONS = ("f1", "f2", "f3")

# Planted interactions of order >= 2, 0-based (x1 is index 0). Derived from the formulas below.
GROUND_TRUTH: dict[str, list[frozenset[int]]] = {
    "f1": [frozenset(s) for s in ({0, 1}, {1, 2}, {2, 3}, {0, 3}, {3, 4, 5, 6})],
    "f2": [frozenset(s) for s in ({0, 1, 2}, {3, 4}, {5, 6}, {7, 8, 9})],
    "f3": [frozenset(s) for s in ({0, 1, 2, 3}, {4, 5}, {1, 4, 6}, {6, 7})],
}
N_USED = {"f1": 7, "f2": 10, "f3": 8}  # features a function reads; the rest of x are pure noise


def synthetic_function(name: str, X: np.ndarray) -> np.ndarray:
    """The paper's Table 3 functions on rows of ``X`` (columns x1, x2, ... are X[:, 0], X[:, 1], ...).

    f1 = exp|x1 - x2| + |x2 x3| - |x3|^(2|x4|) + (x1 x4)^2 + log(x4^2 + x5^2 + x6^2 + x7^2)
    f2 = 1 / (1 + x1^2 + x2^2 + x3^2) + sqrt(exp(x4 + x5)) + |x6 x7| + x8 x9 x10
    f3 = tanh(x1 x2 + x3 x4) + exp(x5 x6) + log(|x2 x5 x7| + 1) + x7 x8

    The base of f1's power is taken in absolute value (a negative base to a real power is undefined).
    """
    X = np.asarray(X, dtype=float)
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; allowed: {FUNCTIONS}")
    if X.ndim != 2 or X.shape[1] < N_USED[name]:
        raise ValueError(f"{name} needs a 2-D array with at least {N_USED[name]} columns, got shape {X.shape}")
    x = [X[:, i] for i in range(X.shape[1])]
    if name == "f1":
        return (np.exp(np.abs(x[0] - x[1])) + np.abs(x[1] * x[2]) - np.abs(x[2]) ** (2 * np.abs(x[3]))
                + (x[0] * x[3]) ** 2 + np.log(x[3] ** 2 + x[4] ** 2 + x[5] ** 2 + x[6] ** 2))
    if name == "f2":
        return (1.0 / (1.0 + x[0] ** 2 + x[1] ** 2 + x[2] ** 2) + np.sqrt(np.exp(x[3] + x[4]))
                + np.abs(x[5] * x[6]) + x[7] * x[8] * x[9])
    return (np.tanh(x[0] * x[1] + x[2] * x[3]) + np.exp(x[4] * x[5]) + np.log(np.abs(x[1] * x[4] * x[6]) + 1.0)
            + x[6] * x[7])


def make_interaction_data(name: str, n: int, n_features: int = 10, rng: np.random.Generator | None = None,
                          discrete: Sequence[int] = (), levels: int = 5):
    """``(X, y, codes)``: ``X ~ U[-1, 1]^(n x n_features)``, binary ``y = [f(X) > median f(X)]``.

    Features listed in ``discrete`` are snapped to ``levels`` equally spaced values in [-1, 1] *before* the
    function is evaluated, so they are genuinely discrete inputs; ``codes`` holds their integer level
    (0 .. levels-1) per row, in the order of ``discrete`` (an ``(n, 0)`` array when none).
    """
    if n_features < N_USED.get(name, 0):
        raise ValueError(f"{name} reads {N_USED[name]} features; n_features={n_features} is too few")
    if levels < 2:
        raise ValueError(f"levels must be >= 2, got {levels}")
    rng = rng if rng is not None else np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(n, n_features))
    discrete = list(discrete)
    codes = np.zeros((n, len(discrete)), dtype=np.int64)
    grid = np.linspace(-1.0, 1.0, levels)
    for c, i in enumerate(discrete):
        codes[:, c] = rng.integers(0, levels, size=n)
        X[:, i] = grid[codes[:, c]]
    f = synthetic_function(name, X)
    y = (f > np.median(f)).astype(np.int64)
    return X, y, codes


def jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    a, b = set(a), set(b)
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def recovery_score(groups: Sequence[Iterable[int]], truth: Sequence[Iterable[int]], cutoff: float = 0.5) -> float:
    """Mean over true sets ``g`` of the Jaccard index with the found group of largest overlap ``|g & G|``.

    Among groups tied on overlap the one with the largest Jaccard index counts (the paper does not say how
    ties are broken). A Jaccard index below ``cutoff`` counts as 0, as does a set no group touches.
    """
    groups = [set(g) for g in groups]
    truth = [set(g) for g in truth]
    if not truth:
        raise ValueError("truth must hold at least one interaction set")
    scores = []
    for g in truth:
        best_overlap = max((len(g & G) for G in groups), default=0)
        if best_overlap == 0:
            scores.append(0.0)
            continue
        j = max(jaccard(g, G) for G in groups if len(g & G) == best_overlap)
        scores.append(j if j >= cutoff else 0.0)
    return float(np.mean(scores))


def nid_ranking(weights: Sequence[np.ndarray], max_order: int | None = None) -> list[tuple[frozenset[int], float]]:
    """Candidate interactions and their strengths from an MLP's weight matrices, strongest first.

    ``weights`` are the matrices of the linear layers from input to output, each ``(out, in)`` as in
    ``torch.nn.Linear.weight``. Following NID: the aggregated influence of first-layer unit ``u`` is
    ``z = |W_out| |W_L| ... |W_2|`` summed over outputs; for each unit the inputs are sorted by
    ``|W_1[u, i]|`` and every top-``s`` prefix (``s = 2 .. max_order``) gains ``z_u * min_{i in prefix}
    |W_1[u, i]|``. Ties in the sort keep the lower input index first (a stable sort).
    """
    if len(weights) < 2:
        raise ValueError("nid_ranking needs at least an input layer and an output layer")
    W1 = np.abs(np.asarray(weights[0], dtype=float))
    z = np.abs(np.asarray(weights[-1], dtype=float))
    for W in reversed(weights[1:-1]):
        z = z @ np.abs(np.asarray(W, dtype=float))
    z = z.sum(axis=0)  # one influence per first-layer unit
    if z.shape[0] != W1.shape[0]:
        raise ValueError("weight shapes do not chain from input to output")
    k = W1.shape[1]
    max_order = k if max_order is None else min(max_order, k)
    strength: dict[frozenset[int], float] = {}
    for u in range(W1.shape[0]):
        order = np.argsort(-W1[u], kind="stable")
        for s in range(2, max_order + 1):
            key = frozenset(int(i) for i in order[:s])
            strength[key] = strength.get(key, 0.0) + float(z[u] * W1[u, order[s - 1]])
    return sorted(strength.items(), key=lambda kv: (-kv[1], sorted(kv[0])))
