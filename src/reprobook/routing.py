"""Small exact and heuristic tools for (cumulative) vehicle routing on metric instances.

Node 0 is the depot, nodes ``1..n`` are customers; ``dist`` is a symmetric ``(n+1, n+1)`` matrix. A *tour
order* is a permutation of the customers (the depot is implicit at both ends). The cumulative cost of a
depot-to-depot tour (Kara et al. 2007) charges ``a + b * load`` per unit of distance on every edge, where
``load`` is what the vehicle carries on that edge.

What is here, and why hand-written: no installed library does cumulative routing, so the cost function,
the tour-partition dynamic program, the exact subset DP and the randomised tour-splitting policies are
written out. TSP pieces: Held-Karp (exact, small n), Christofides with an exact minimum-weight perfect
matching solved as a small integer program by ``scipy.optimize.milp`` (networkx is not a dependency), a
2-opt + Or-opt local search, and the Held-Karp 1-tree lower bound. Minimum spanning trees come from SciPy.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

__all__ = ["euclidean", "tour_length", "route_cost", "itinerary_cost", "held_karp", "christofides",
           "local_search", "one_tree_bound", "partition_tour", "exact_unsplittable", "brute_force_unsplittable",
           "split_policy", "unsplit_policy", "expected_over_theta", "expected_over_demands", "theta_breakpoints", "lemma1_lower_bound"]


# ----------------------------------------------------------------------------------------------- basics

def euclidean(points: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances of ``points`` (row 0 is the depot)."""
    p = np.asarray(points, dtype=float)
    return np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))


def tour_length(dist: np.ndarray, order: Sequence[int]) -> float:
    """Length of the closed tour ``0 -> order[0] -> ... -> order[-1] -> 0``."""
    path = [0, *order, 0]
    return float(sum(dist[u, v] for u, v in zip(path, path[1:])))


def route_cost(dist: np.ndarray, route: Sequence[int], deliveries: Sequence[float], a: float, b: float,
               start_load: float | None = None) -> float:
    """Cumulative cost of the tour ``0 -> route -> 0`` delivering ``deliveries[k]`` at ``route[k]``.

    The vehicle leaves the depot with ``start_load`` (default: the sum of the deliveries); what it does not
    deliver it carries back, and that last edge is charged too (the paper's example: load 8, deliver 2 and
    2 on a unit triangle gives ``3a + 18b``). Nodes may repeat and deliveries may be zero (a pass-through).
    """
    deliveries = [float(x) for x in deliveries]
    if len(deliveries) != len(route):
        raise ValueError("route and deliveries must have the same length")
    load = float(sum(deliveries)) if start_load is None else float(start_load)
    if load < sum(deliveries) - 1e-9:
        raise ValueError(f"start_load {load} is less than the deliveries {sum(deliveries)}")
    cost, prev = 0.0, 0
    for node, q in zip(route, deliveries):
        cost += (a + b * load) * dist[prev, node]
        load -= q
        prev = node
    return cost + (a + b * load) * dist[prev, 0]


def itinerary_cost(dist: np.ndarray, tours, a: float, b: float) -> float:
    """Sum of :func:`route_cost` over ``tours``, each ``(route, deliveries)`` or ``(route, deliveries, start_load)``."""
    return float(sum(route_cost(dist, *t[:2], a, b, *(t[2:] or [None])) for t in tours))


# ------------------------------------------------------------------------------------------------- TSP

def held_karp(dist: np.ndarray) -> tuple[float, list[int]]:
    """Exact TSP through all nodes (depot 0 included) by the Held-Karp DP; ``O(2^n n^2)``, n up to ~14."""
    n = dist.shape[0] - 1
    if n == 0:
        return 0.0, []
    full = 1 << n
    C = np.full((full, n), np.inf)
    P = np.full((full, n), -1, dtype=int)
    for j in range(n):
        C[1 << j, j] = dist[0, j + 1]
    D = dist[1:, 1:]
    for mask in range(1, full):
        row = C[mask]
        if not np.isfinite(row).any():
            continue
        for k in range(n):
            if mask & (1 << k):
                continue
            cand = row + D[:, k]
            j = int(np.argmin(cand))
            nm = mask | (1 << k)
            if cand[j] < C[nm, k]:
                C[nm, k], P[nm, k] = cand[j], j
    last = C[full - 1] + dist[1:, 0]
    j = int(np.argmin(last))
    best = float(last[j])
    order, mask = [], full - 1
    while j >= 0:
        order.append(j + 1)
        pj = P[mask, j]
        mask ^= 1 << j
        j = int(pj)
    return best, order[::-1]


def _min_weight_perfect_matching(dist: np.ndarray, nodes: Sequence[int]) -> list[tuple[int, int]]:
    """Exact minimum-weight perfect matching on ``nodes`` (even count) as a 0/1 program (HiGHS)."""
    nodes = list(nodes)
    if not nodes:
        return []
    pairs = list(itertools.combinations(range(len(nodes)), 2))
    c = np.array([dist[nodes[i], nodes[j]] for i, j in pairs])
    rows, cols = [], []
    for e, (i, j) in enumerate(pairs):
        rows += [i, j]
        cols += [e, e]
    A = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(pairs)))
    res = milp(c, constraints=LinearConstraint(A, 1, 1), integrality=np.ones(len(pairs)), bounds=Bounds(0, 1))
    if not res.success:
        raise RuntimeError(f"matching ILP failed: {res.message}")
    return [(nodes[i], nodes[j]) for (i, j), x in zip(pairs, res.x) if x > 0.5]


def _euler_circuit(n_nodes: int, edges: list[tuple[int, int]], start: int = 0) -> list[int]:
    """Hierholzer's algorithm on a connected multigraph whose degrees are all even."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for e, (u, v) in enumerate(edges):
        adj[u].append((v, e))
        adj[v].append((u, e))
    used = [False] * len(edges)
    ptr = [0] * n_nodes
    stack, circuit = [start], []
    while stack:
        u = stack[-1]
        while ptr[u] < len(adj[u]) and used[adj[u][ptr[u]][1]]:
            ptr[u] += 1
        if ptr[u] == len(adj[u]):
            circuit.append(stack.pop())
        else:
            v, e = adj[u][ptr[u]]
            used[e] = True
            stack.append(v)
    return circuit[::-1]


def christofides(dist: np.ndarray) -> list[int]:
    """Christofides-Serdyukov 1.5-approximate tour order (customers only, depot implicit at both ends)."""
    m = dist.shape[0]
    if m <= 2:
        return list(range(1, m))
    # a strictly positive copy so that zero distances (co-located points) stay MST edges
    mst = minimum_spanning_tree(csr_matrix(dist + 1e-12 * (1 - np.eye(m)))).tocoo()
    edges = [(int(u), int(v)) for u, v in zip(mst.row, mst.col)]
    deg = np.zeros(m, dtype=int)
    for u, v in edges:
        deg[u] += 1
        deg[v] += 1
    edges += _min_weight_perfect_matching(dist, [int(v) for v in np.flatnonzero(deg % 2)])
    seen, order = set(), []
    for v in _euler_circuit(m, edges, 0):
        if v not in seen:
            seen.add(v)
            if v != 0:
                order.append(v)
    return order


def local_search(dist: np.ndarray, order: Sequence[int], max_rounds: int = 1000) -> list[int]:
    """2-opt plus Or-opt (moving segments of 1-3 customers) until no improving move is left.

    Our stand-in for LKH: a classical, much weaker but still strong local search. Works on the closed
    tour ``[0, *order]``; returns a customer order.
    """
    tour = np.array([0, *order], dtype=int)
    m = len(tour)
    if m <= 3:
        return list(order)
    for _ in range(max_rounds):
        improved = False
        # 2-opt: replace edges (i, i+1) and (j, j+1) by (i, j) and (i+1, j+1), reversing i+1..j
        for i in range(m - 2):
            a, b = tour[i], tour[i + 1]
            js = np.arange(i + 2, m if i > 0 else m - 1)
            if js.size == 0:
                continue
            c, d = tour[js], tour[(js + 1) % m]
            delta = dist[a, c] + dist[b, d] - dist[a, b] - dist[c, d]
            k = int(np.argmin(delta))
            if delta[k] < -1e-10:
                j = int(js[k])
                tour[i + 1:j + 1] = tour[i + 1:j + 1][::-1].copy()
                improved = True
        # Or-opt: move segment tour[i:i+s] (never the depot) between two other neighbours, either direction
        for s in (1, 2, 3):
            for i in range(1, m - s + 1):
                seg = tour[i:i + s]
                p, nx = tour[i - 1], tour[(i + s) % m]
                gain = dist[p, seg[0]] + dist[seg[-1], nx] - dist[p, nx]
                rest = np.concatenate([tour[:i], tour[i + s:]])
                u, v = rest, np.roll(rest, -1)
                ins_f = dist[u, seg[0]] + dist[seg[-1], v] - dist[u, v]
                ins_r = dist[u, seg[-1]] + dist[seg[0], v] - dist[u, v]
                kf, kr = int(np.argmin(ins_f)), int(np.argmin(ins_r))
                best, rev, k = (ins_f[kf], False, kf) if ins_f[kf] <= ins_r[kr] else (ins_r[kr], True, kr)
                if best < gain - 1e-10:
                    piece = seg[::-1] if rev else seg
                    tour = np.concatenate([rest[:k + 1], piece, rest[k + 1:]])
                    tour = np.roll(tour, -int(np.flatnonzero(tour == 0)[0]))
                    improved = True
        if not improved:
            break
    return [int(v) for v in tour[1:]]


def one_tree_bound(dist: np.ndarray, upper: float, iterations: int = 300) -> float:
    """Held-Karp 1-tree lower bound on the optimal tour length (subgradient ascent on node penalties).

    The 1-tree is an MST on the customers plus the two cheapest depot edges; with penalties ``pi`` the
    bound ``w_pi(1-tree) - 2 sum(pi)`` is a valid lower bound for every ``pi``; ``upper`` (any tour length)
    only sets the step size. Returns the best bound seen.
    """
    m = dist.shape[0]
    if m <= 3:
        return float(tour_length(dist, list(range(1, m))))
    pi = np.zeros(m)
    best, lam = -np.inf, 2.0
    for it in range(iterations):
        W = dist + pi[:, None] + pi[None, :]
        sub = W[1:, 1:] + 1e-12 * (1 - np.eye(m - 1))
        t = minimum_spanning_tree(csr_matrix(sub)).tocoo()
        deg = np.zeros(m)
        np.add.at(deg, t.row + 1, 1)
        np.add.at(deg, t.col + 1, 1)
        two = np.argsort(W[0, 1:])[:2] + 1
        deg[two] += 1
        deg[0] = 2
        val = float(W[1:, 1:][t.row, t.col].sum() + W[0, two].sum() - 2 * pi.sum())
        best = max(best, val)
        g = deg - 2
        if not g.any():
            break  # the 1-tree is a tour: the bound is tight
        step = lam * (upper - val) / float((g ** 2).sum())
        pi = pi + step * g
        if it % 30 == 29:
            lam /= 2
    return best


# ------------------------------------------------------------------------------- exact cumulative VRP

def partition_tour(dist: np.ndarray, order: Sequence[int], demand: np.ndarray, Q: float, a: float,
                   b: float) -> tuple[float, list[list[int]]]:
    """Optimal split of a fixed tour order into consecutive depot-to-depot tours (unsplittable demands).

    ``O(n^2)`` DP: ``f[j] = min_i f[i-1] + cost(i..j)``, where a segment is served in tour order, leaving
    the depot with exactly its demand, with total demand ``<= Q``. Returns the cost and the segments.
    """
    order = list(order)
    n = len(order)
    f = np.full(n + 1, np.inf)
    f[0] = 0.0
    arg = np.zeros(n + 1, dtype=int)
    for j in range(1, n + 1):
        last = order[j - 1]
        load = float(demand[last])
        seg = (a + b * load) * dist[0, last] + a * dist[last, 0]
        i = j
        while True:
            if load <= Q + 1e-9 and f[i - 1] + seg < f[j]:
                f[j], arg[j] = f[i - 1] + seg, i
            if i == 1:
                break
            u, v = order[i - 2], order[i - 1]
            new_load = load + float(demand[u])
            if new_load > Q + 1e-9:
                break
            seg += -(a + b * load) * dist[0, v] + (a + b * load) * dist[u, v] + (a + b * new_load) * dist[0, u]
            load = new_load
            i -= 1
    segs, j = [], n
    while j > 0:
        segs.append(order[arg[j] - 1:j])
        j = arg[j] - 1
    return float(f[n]), segs[::-1]


def exact_unsplittable(dist: np.ndarray, demand: np.ndarray, Q: float, a: float, b: float) -> float:
    """Optimal unsplittable cumulative-VRP cost by two DPs over customer subsets (n up to ~12).

    (1) ``g[S, j]``: cheapest way to start at customer ``j`` carrying ``D(S)``, serve all of ``S`` and return
    to the depot: ``g[{j}, j] = a l_j`` and ``g[S, j] = min_k (a + b (D(S) - d_j)) w(j, k) + g[S - j, k]``;
    the best single tour on ``S`` costs ``min_j (a + b D(S)) l_j + g[S, j]``. (2) a set-partition DP over
    the subsets with ``D(S) <= Q``. An optimal solution never carries goods it does not deliver, and with
    unsplittable demands every customer sits on exactly one tour, so the two DPs are exact.
    """
    n = dist.shape[0] - 1
    d = np.asarray(demand, dtype=float)[1:] if len(demand) == n + 1 else np.asarray(demand, dtype=float)
    if np.any(d > Q + 1e-9):
        raise ValueError("a customer's demand exceeds the capacity")
    full = 1 << n
    bits = np.array([[(m >> j) & 1 for j in range(n)] for m in range(full)], dtype=bool)
    D = bits.astype(float) @ d
    W = dist[1:, 1:]
    l = dist[0, 1:]
    g = np.full((full, n), np.inf)
    route = np.full(full, np.inf)
    for mask in range(1, full):
        members = np.flatnonzero(bits[mask])
        if D[mask] > Q + 1e-9:
            continue
        if members.size == 1:
            j = members[0]
            g[mask, j] = a * l[j]
        else:
            for j in members:
                rest = mask ^ (1 << j)
                ks = members[members != j]
                g[mask, j] = np.min((a + b * (D[mask] - d[j])) * W[j, ks] + g[rest, ks])
        route[mask] = np.min((a + b * D[mask]) * l[members] + g[mask, members])
    opt = np.full(full, np.inf)
    opt[0] = 0.0
    for mask in range(1, full):
        low = mask & -mask
        rest = mask ^ low
        best = np.inf
        sub = rest
        while True:  # every subset T of `mask` that contains its lowest customer
            T = sub | low
            c = route[T] + opt[mask ^ T]
            if c < best:
                best = c
            if sub == 0:
                break
            sub = (sub - 1) & rest
        opt[mask] = best
    return float(opt[full - 1])


def _set_partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for k in range(len(part)):
            yield part[:k] + [[first] + part[k]] + part[k + 1:]
        yield [[first]] + part


def brute_force_unsplittable(dist: np.ndarray, demand: np.ndarray, Q: float, a: float, b: float) -> float:
    """Reference: every partition of the customers into tours, every order of every tour (n <= 7)."""
    n = dist.shape[0] - 1
    best = np.inf
    for part in _set_partitions(list(range(1, n + 1))):
        if any(sum(demand[v] for v in blk) > Q + 1e-9 for blk in part):
            continue
        total = 0.0
        for blk in part:
            total += min(route_cost(dist, p, [demand[v] for v in p], a, b)
                         for p in itertools.permutations(blk))
        best = min(best, total)
    return float(best)


def lemma1_lower_bound(dist: np.ndarray, mean_demand: np.ndarray, Q: float, a: float, b: float,
                       tau: float) -> float:
    """``a max(tau, 2 eta / Q) + b eta`` with ``eta = sum_i E[chi_i] l_i`` (Gaur et al.; the paper's Lemma 1).

    A lower bound on the (expected) optimum, splittable or not, for any ``tau`` at most the optimal tour.
    """
    eta = float(np.dot(np.asarray(mean_demand, dtype=float)[1:], dist[0, 1:]))
    return a * max(tau, 2.0 * eta / Q) + b * eta


# -------------------------------------------------------------------------- randomised tour splitting

def split_policy(dist, order, demand, Qp, theta, a, b, record_loads=False):
    """SPLIT(Q') (the paper's Algorithm 1) for one start load ``theta`` in ``[0, Q')``; returns the cost.

    Customers are served in ``order``; with load ``L < d_i`` the vehicle delivers ``L``, runs to the depot
    empty, reloads ``Q'`` and comes back, as often as needed. With ``record_loads`` it also returns the load
    on each of the ``n + 1`` tour edges (the paper's ``L_0..L_n``).
    """
    L, cost, prev, loads = float(theta), 0.0, 0, []
    for i in order:
        cost += (a + b * L) * dist[prev, i]
        loads.append(L)
        need, li = float(demand[i]), dist[0, i]
        while need > L:
            need -= L
            cost += a * li + (a + b * Qp) * li
            L = Qp
        L -= need
        prev = i
    cost += (a + b * L) * dist[prev, 0]
    loads.append(L)
    return (cost, loads) if record_loads else cost


def unsplit_policy(dist, order, demand, Qp, theta, a, b, shortcut=True, record_loads=False):
    """UNSPLIT(Q') (the paper's Algorithm 3) for one start load ``theta``; returns the cost.

    With ``L < d_i`` at customer ``i``: back to the depot carrying ``L``, top up to ``d_i``, serve ``i``, back
    empty, load ``L' = L + ceil((d_i - L)/Q') Q' - d_i``. ``shortcut=False`` then drives to ``i`` again and on
    (as analysed, Steps 9-10); ``shortcut=True`` drives from the depot straight to the next customer (as in
    the paper's experiments). Loads on the tour edges equal SPLIT's (Lemma 5).
    """
    L, cost, prev, loads = float(theta), 0.0, 0, []
    for i in order:
        cost += (a + b * L) * dist[prev, i]
        loads.append(L)
        di, li = float(demand[i]), dist[0, i]
        if di <= L:
            L -= di
            prev = i
            continue
        new_L = L + math.ceil((di - L) / Qp) * Qp - di
        cost += (a + b * L) * li + (a + b * di) * li + a * li
        if shortcut:
            prev = 0
        else:
            cost += (a + b * new_L) * li
            prev = i
        L = new_L
    cost += (a + b * L) * dist[prev, 0]
    loads.append(L)
    return (cost, loads) if record_loads else cost


def theta_breakpoints(order, demand, Qp) -> np.ndarray:
    """Sorted points of ``[0, Q']`` between which every load, branch and reload count is fixed.

    Loads are ``L_k = (theta - S_k) mod Q'`` with prefix sums ``S_k`` (Lemma 2), so decisions change only
    where ``theta = S_k mod Q'``; in between, the policy's cost is linear in ``theta``.
    """
    S = np.concatenate([[0.0], np.cumsum([float(demand[i]) for i in order])])
    return np.unique(np.concatenate([[0.0, Qp], np.mod(S, Qp)]))


def expected_over_theta(policy, dist, order, demand, Qp, a, b, **kw) -> float:
    """Exact ``E_theta[cost]`` for ``theta ~ U[0, Q')``: the cost is piecewise linear between breakpoints,
    so each piece contributes its length times the cost at its midpoint."""
    bp = theta_breakpoints(order, demand, Qp)
    total = 0.0
    for lo, hi in zip(bp[:-1], bp[1:]):
        if hi - lo <= 0:
            continue
        total += (hi - lo) * policy(dist, order, demand, Qp, 0.5 * (lo + hi), a, b, **kw)
    return total / Qp


def expected_over_demands(policy, dist, order, demand_values, demand_probs, Qp, a, b, **kw) -> float:
    """Exact ``E_{chi, theta}[cost]`` for independent discrete demands revealed on arrival (Cu-VRPSD).

    ``demand_values[i]`` / ``demand_probs[i]`` give the law of customer ``i``'s demand (index 0 unused).
    Given the demands, every arrival load is ``U[0, Q')`` (Lemma 2) and each customer's detour, and the edge
    it leaves by, depends only on its own arrival load and demand, so ``E_theta[cost | chi]`` is a sum of
    per-customer terms. Hence it suffices to vary one demand at a time around a reference vector:
    ``E = C(ref) + sum_i (E_{chi_i}[C(ref with chi_i)] - C(ref))``, with ``C`` from :func:`expected_over_theta`.
    """
    ref = np.array([0.0] + [float(np.dot(demand_values[i], demand_probs[i])) for i in range(1, len(dist))])
    base = expected_over_theta(policy, dist, order, ref, Qp, a, b, **kw)
    total = base
    for i in order:
        d = ref.copy()
        acc = 0.0
        for v, p in zip(demand_values[i], demand_probs[i]):
            d[i] = float(v)
            acc += p * expected_over_theta(policy, dist, order, d, Qp, a, b, **kw)
        total += acc - base
    return total
