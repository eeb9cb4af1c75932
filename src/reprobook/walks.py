"""Quantum and classical walks on graphs, and the time they take to meet a share of the node categories.

Continuous-time quantum walk (CTQW) on an undirected graph with symmetric Laplacian ``L``: the state
``|psi(t)> = exp(-i L t) |psi(0)>`` (Schrödinger's equation with ``L`` as the Hamiltonian), and a measurement
at time ``t`` finds the walker on node ``u`` with probability ``|<u|psi(t)>|^2``. ``exp(-i L t)`` is computed
from one eigendecomposition ``L = V diag(lambda) V^T`` (``V`` real orthogonal), which is exact for symmetric
matrices and lets one decomposition serve every time step; the tests compare it with ``scipy.linalg.expm``.

*Category coverage.* Nodes carry categories (a 0/1 presence matrix ``(n, C)``). A walker that visits nodes
``j_0 = start, j_1, j_2, ...`` has, after ``t`` visits, met the union of their categories; the coverage curve
is its mean number of categories after ``t = 1, 2, ...`` visits, and the convergence time for a share ``q``
is the first ``t`` at which the mean reaches ``q C`` (Jiang, Wu & Wang, ICPR 2024, Algorithm 1 and Eq. 6; the
classical analogue is the class coverage time of Sousa & Nicosia, Nat. Commun. 2022).

In the quantum version of that algorithm the visit at step ``s`` is a draw from ``|<.|psi(s)>|^2`` where the
state is always evolved from the *initial* state, never collapsed onto the drawn node; the draws are then
independent, and the expected coverage after ``t`` draws has the closed form
``sum_c 1 - prod_{s<t} (1 - P_s(c))`` with ``P_s(c)`` the probability of drawing a node that hosts ``c``
(:func:`ctqw_category_coverage`). :func:`ctqw_category_coverage_sampled` is the Monte Carlo version with a
finite number of walks, as the paper runs it. The classical walk (:func:`random_walk_coverage`) moves to a
uniformly random neighbour at each step and has to be simulated.

No installed library offers these coverage statistics, hence the hand-written code.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ctqw_unitary", "ctqw_probabilities", "ctqw_category_coverage", "ctqw_category_coverage_sampled",
           "random_walk_coverage", "convergence_times", "spatial_indicators", "integrated_abs_difference",
           "js_divergence"]

_TOL = 1e-9  # coverage curves are means of integers; allow rounding when comparing with q * C


def _eigh(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    L = np.asarray(L, dtype=float)
    if L.ndim != 2 or L.shape[0] != L.shape[1] or not np.allclose(L, L.T):
        raise ValueError("the Hamiltonian L must be a real symmetric square matrix")
    return np.linalg.eigh(L)


def ctqw_unitary(L: np.ndarray, t: float) -> np.ndarray:
    """``U(t) = exp(-i L t)`` for a real symmetric ``L`` (complex ``(n, n)``, unitary and symmetric)."""
    lam, V = _eigh(L)
    return (V * np.exp(-1j * lam * t)) @ V.T


def ctqw_probabilities(L: np.ndarray, times, start: int) -> np.ndarray:
    """``P[k, u] = |<u| exp(-i L times[k]) |start>|^2``: where a walker started on ``start`` is found."""
    lam, V = _eigh(L)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    amp = (V[start][None, :] * np.exp(-1j * np.outer(times, lam))) @ V.T
    return np.abs(amp) ** 2


def _step_probabilities(lam: np.ndarray, V: np.ndarray, t: float) -> np.ndarray:
    """All-pairs ``P[i, u] = |U(t)_{u i}|^2`` with two real matrix products (``U`` is symmetric)."""
    if t == 0:
        return np.eye(len(lam))
    re = (V * np.cos(lam * t)) @ V.T
    im = (V * np.sin(lam * t)) @ V.T
    return re * re + im * im


def ctqw_category_coverage(L: np.ndarray, presences, n_steps: int, dt: float = 1.0) -> np.ndarray:
    """Expected coverage curves of the quantum walk, exact in the limit of infinitely many walks.

    ``presences``: one ``(n, C)`` 0/1 matrix or a list of them (several layouts on the same graph share the
    walk's probabilities, which is where the time goes). Visit ``s = 0, 1, ..., n_steps - 1`` is a draw
    from the walk's distribution at time ``s * dt``; visit 0 is the start node itself.

    Returns ``cov`` of shape ``(n_layouts, n, n_steps)`` (``(n, n_steps)`` for one matrix):
    ``cov[..., i, t - 1]`` is the expected number of categories met in the first ``t`` visits from node ``i``.
    """
    single = isinstance(presences, np.ndarray) and presences.ndim == 2
    pres = [np.asarray(p, dtype=float) for p in ([presences] if single else presences)]
    n = pres[0].shape[0]
    if any(p.shape[0] != n for p in pres) or np.asarray(L).shape != (n, n):
        raise ValueError("every presence matrix needs one row per node of L")
    sizes = [p.shape[1] for p in pres]
    stack = np.concatenate(pres, axis=1)
    lam, V = _eigh(L)
    miss = np.ones((n, stack.shape[1]))  # probability that a category has not been met yet
    cov = np.empty((len(pres), n, n_steps))
    bounds = np.cumsum([0] + sizes)
    for s in range(n_steps):
        hit = np.clip(_step_probabilities(lam, V, s * dt) @ stack, 0.0, 1.0)
        miss *= 1.0 - hit
        for k in range(len(pres)):
            cov[k, :, s] = sizes[k] - miss[:, bounds[k]:bounds[k + 1]].sum(axis=1)
    return cov[0] if single else cov


def ctqw_category_coverage_sampled(L: np.ndarray, presence: np.ndarray, n_steps: int, num: int,
                                   rng: np.random.Generator, starts=None, dt: float = 1.0) -> np.ndarray:
    """The paper's Algorithm 1 as written: ``num`` walks per start node, each visit a random draw.

    At step ``s`` the walker's node is drawn from ``|<.|exp(-i L s dt)|start>|^2``; it adds the categories of
    that node; a walk stops when it has met every category (its count then stays at the maximum). Returns
    the mean count over the ``num`` walks, shape ``(len(starts), n_steps)``.
    """
    presence = np.asarray(presence) > 0
    n = presence.shape[0]
    starts = np.arange(n) if starts is None else np.asarray(starts, dtype=int)
    lam, V = _eigh(L)
    times = np.arange(n_steps) * dt
    out = np.empty((len(starts), n_steps))
    for r, i in enumerate(starts):
        amp = (V[i][None, :] * np.exp(-1j * np.outer(times, lam))) @ V.T
        prob = np.abs(amp) ** 2
        prob[0] = 0.0
        prob[0, i] = 1.0  # time 0: exactly on the start node
        cdf = np.cumsum(prob, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((n_steps, num))
        draws = np.stack([np.minimum(np.searchsorted(cdf[s], u[s], side="right"), n - 1)
                          for s in range(n_steps)], axis=1)  # (num, n_steps)
        seen = np.logical_or.accumulate(presence[draws], axis=1)  # (num, n_steps, C)
        out[r] = seen.sum(axis=2).mean(axis=0)
    return out


def random_walk_coverage(A: np.ndarray, presence: np.ndarray, n_steps: int, num: int,
                         rng: np.random.Generator, starts=None, stop_at: float | None = None) -> np.ndarray:
    """Coverage curves of the classical random walk (uniform step to a neighbour), ``num`` walks per start.

    Visit 0 is the start node; visit ``t`` is the node after ``t`` steps. Returns the mean number of
    categories met in the first ``t`` visits, shape ``(len(starts), n_steps)``. A node without neighbours
    keeps its walker. Walkers that have met every category present in the graph stop being simulated.

    ``stop_at`` (a number of categories) also stops all walkers of a start once their mean count has
    reached it; that start's curve is then held constant, which leaves every convergence time for a
    threshold up to ``stop_at`` unchanged and skips the long tail of the slowest walkers.
    """
    A = np.asarray(A)
    presence = np.asarray(presence) > 0
    n, n_cat = presence.shape
    if n_cat > 63:
        raise ValueError(f"at most 63 categories are supported, got {n_cat}")
    starts = np.arange(n) if starts is None else np.asarray(starts, dtype=int)
    indptr = np.concatenate([[0], np.cumsum((A != 0).sum(axis=1))])
    indices = np.nonzero(A != 0)[1]  # row-major, so grouped by row as indptr expects
    deg = np.diff(indptr)
    # the categories of a node as the bits of one integer: union is "or", the count is a popcount
    bits = (presence.astype(np.int64) << np.arange(n_cat, dtype=np.int64)).sum(axis=1)
    full = int(np.bitwise_or.reduce(bits))
    pos = np.repeat(starts, num)
    seen = bits[pos]
    count = np.bitwise_count(seen).astype(np.int64)
    cov = np.empty((len(starts), n_steps))
    cov[:, 0] = count.reshape(len(starts), num).mean(axis=1)
    active = np.flatnonzero(seen != full)
    for t in range(1, n_steps):
        if active.size == 0:
            cov[:, t:] = cov[:, t - 1:t]
            break
        p = pos[active]
        d = deg[p]
        off = (rng.random(active.size) * d).astype(np.int64)
        nxt = np.where(d > 0, indices[np.minimum(indptr[p] + off, len(indices) - 1)], p)
        pos[active] = nxt
        s = seen[active] | bits[nxt]
        seen[active] = s
        count[active] = np.bitwise_count(s)
        cov[:, t] = count.reshape(len(starts), num).mean(axis=1)
        active = active[s != full]
        if stop_at is not None:
            active = active[cov[active // num, t] < stop_at - _TOL]
    return cov


def convergence_times(coverage: np.ndarray, n_categories: int, q) -> np.ndarray:
    """Algorithm 1, lines 19-28 (Eq. 6): the first ``t >= 1`` with ``coverage[..., t - 1] >= q * C``.

    ``coverage`` has the visits on its last axis; ``q`` is a vector of shares in ``(0, 1]``. Returns an
    integer array ``(..., len(q))``; a threshold that is never reached gives ``n_steps + 1`` (censored).
    """
    coverage = np.asarray(coverage, dtype=float)
    q = np.atleast_1d(np.asarray(q, dtype=float))
    if np.any(q <= 0) or np.any(q > 1):
        raise ValueError(f"shares q must lie in (0, 1], got {q}")
    n_steps = coverage.shape[-1]
    reached = coverage[..., None, :] >= (q * n_categories)[:, None] - _TOL
    first = np.argmax(reached, axis=-1) + 1
    return np.where(reached.any(axis=-1), first, n_steps + 1)


def spatial_indicators(Q: np.ndarray) -> dict[str, np.ndarray]:
    """The paper's Eqs. 7-9 over the start nodes (axis 0) of ``Q`` (nodes x shares q).

    ``mu``: mean convergence time; ``sigma``: its variance (Eq. 8 is a variance although named sigma);
    ``H``: Shannon entropy (natural log) of the relative abundances ``p_i = Q_i / sum_j Q_j``.
    """
    Q = np.asarray(Q, dtype=float)
    mu = Q.mean(axis=0)
    sigma = ((Q - mu) ** 2).mean(axis=0)
    p = Q / Q.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=0)
    return {"mu": mu, "sigma": sigma, "H": H}


def integrated_abs_difference(f, g, dq: float) -> float:
    """Eqs. 10-12: ``int |f(q) - g(q)| dq`` as a Riemann sum over a grid of spacing ``dq``."""
    return float(np.sum(np.abs(np.asarray(f, dtype=float) - np.asarray(g, dtype=float))) * dq)


def js_divergence(p, q, base: float = 2.0) -> float:
    """Jensen-Shannon divergence (Eq. 14) of two non-negative vectors, each normalised to sum 1.

    With ``base=2`` it lies in ``[0, 1]``, as the paper states.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.shape != q.shape or np.any(p < 0) or np.any(q < 0) or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("p and q must be non-negative vectors of one shape with positive sums")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / b[nz])))

    return (kl(p, m) + kl(q, m)) / 2 / np.log(base)
