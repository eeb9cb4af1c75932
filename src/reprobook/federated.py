"""Pieces of a federated-learning simulation: non-IID client splits, client mini-batches, and aggregation.

- :func:`dirichlet_split` gives each of ``K`` clients a label-skewed share of a dataset: for every class,
  the class's examples are divided among the clients in proportions drawn from ``Dirichlet(beta, ..., beta)``
  (small ``beta``: each client sees few classes; large ``beta``: close to an even split).
- :class:`ClientBatches` iterates one client's examples in seeded random mini-batches (tensors already on
  the device), so that a simulated round is deterministic.
- :func:`weighted_average` is FedAvg's aggregation of model weights (``state_dict`` s) with given weights.
- :func:`proximal_penalty` is FedProx's term ``||theta - theta_global||^2``.
- :func:`project_to_simplex`, :func:`cosine_divergence` and :func:`divergence_weights` compute aggregation
  weights that stay close to the data shares ``p`` while down-weighting clients whose update points away
  from the others' (FedTS's Eq. 10; the quadratic objective of pFedGraph has the same form).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch


# ------------------------------------------------------------------------------------------------ splits
def dirichlet_split(labels, n_clients: int, beta: float, *, seed: int = 0, min_size: int = 1,
                    max_tries: int = 1000) -> list[np.ndarray]:
    """Split example indices among ``n_clients`` with Dirichlet(``beta``) label skew.

    For each class ``c`` the indices of class ``c`` are shuffled and cut among the clients in proportions
    ``q_c ~ Dirichlet(beta * 1_K)``. The draw is repeated (up to ``max_tries`` times) until every client holds
    at least ``min_size`` examples. Returns one sorted ``int64`` index array per client; together they are a
    partition of ``range(len(labels))``. Deterministic given ``seed``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not isinstance(n_clients, (int, np.integer)) or n_clients < 1:
        raise ValueError(f"n_clients must be a positive integer, got {n_clients!r}")
    if not (isinstance(beta, (int, float)) and np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive number (the Dirichlet concentration), got {beta!r}")
    if min_size * n_clients > labels.size:
        raise ValueError(f"cannot give {n_clients} clients at least {min_size} examples each from "
                         f"{labels.size} examples")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(labels == c))
            q = rng.dirichlet(np.full(n_clients, float(beta)))
            cuts = (np.cumsum(q)[:-1] * idx.size).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].append(chunk)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(p.size for p in out) >= min_size:
            return out
    raise ValueError(f"no Dirichlet(beta={beta}) split in {max_tries} tries gave every client {min_size} "
                     "examples; raise beta or lower min_size")


def label_counts(labels, parts: Sequence[np.ndarray], n_classes: int) -> np.ndarray:
    """``K x C`` matrix: how many examples of each class each client holds."""
    labels = np.asarray(labels)
    return np.stack([np.bincount(labels[p], minlength=n_classes)[:n_classes] for p in parts])


# ------------------------------------------------------------------------------------------ mini-batches
class ClientBatches:
    """One client's data in mini-batches, reshuffled on every pass by the client's own seeded generator.

    ``x`` and ``y`` are tensors already on the device; each epoch draws a fresh permutation on the CPU, so a
    simulation repeats exactly whatever the device.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, *, seed: int = 0, shuffle: bool = True):
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"a client needs as many inputs as labels and at least one example, got {len(x)} "
                             f"and {len(y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.x, self.y, self.batch_size, self.shuffle = x, y, int(batch_size), shuffle
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.y.device)
        for i in range(0, n, self.batch_size):
            j = order[i:i + self.batch_size]
            yield self.x[j], self.y[j]


# ----------------------------------------------------------------------------------------- aggregation
def _normalised(weights, n: int) -> list[float]:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"need one weight per model ({n}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
    return (w / w.sum()).tolist()


def weighted_average(states: Sequence[Mapping[str, torch.Tensor]], weights) -> dict[str, torch.Tensor]:
    """FedAvg: ``sum_k w_k * state_k`` entry by entry, with ``w`` normalised to sum to one.

    Computed as ``s_1 + sum_k w_k (s_k - s_1)`` so that averaging identical models returns them bit for bit.
    Floating-point entries are averaged; integer buffers (such as batch norm's ``num_batches_tracked``) are
    taken from the first state. All states must have the same keys and shapes.
    """
    if len(states) == 0:
        raise ValueError("weighted_average needs at least one state")
    w = _normalised(weights, len(states))
    first = states[0]
    keys = list(first.keys())
    for i, s in enumerate(states[1:], start=1):
        if list(s.keys()) != keys:
            raise ValueError(f"state {i} has keys {sorted(set(s) ^ set(keys))} that differ from state 0's")
    out = {}
    for key in keys:
        ref = first[key]
        for i, s in enumerate(states):
            if s[key].shape != ref.shape:
                raise ValueError(f"{key!r}: state {i} has shape {tuple(s[key].shape)}, state 0 {tuple(ref.shape)}")
        if not torch.is_floating_point(ref):
            out[key] = ref.clone()
            continue
        acc = ref.detach().clone()
        for wk, s in zip(w, states):
            if wk != 0.0 and s is not first:
                acc.add_(s[key].detach() - ref.detach(), alpha=wk)
        out[key] = acc
    return out


def proximal_penalty(params, anchor) -> torch.Tensor:
    """FedProx's ``sum ||theta - theta_anchor||^2`` over matching parameter tensors (anchor is constant)."""
    params, anchor = list(params), list(anchor)
    if len(params) != len(anchor):
        raise ValueError(f"{len(params)} parameters but {len(anchor)} anchor tensors")
    total = torch.zeros((), device=params[0].device if params else None)
    for p, a in zip(params, anchor):
        total = total + (p - a.detach()).pow(2).sum()
    return total


def project_to_simplex(v) -> np.ndarray:
    """Euclidean projection of ``v`` onto the probability simplex ``{x >= 0, sum x = 1}``.

    The sort-and-threshold algorithm (Held, Wolfe and Crowder 1974; Duchi et al. 2008): the projection is
    ``max(v - t, 0)`` with the one threshold ``t`` that makes the entries sum to one.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"v must be a non-empty 1-D array of finite numbers, got {v!r}")
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    ks = np.arange(1, v.size + 1)
    rho = np.nonzero(u - css / ks > 0)[0][-1]
    t = css[rho] / (rho + 1)
    return np.maximum(v - t, 0.0)


def cosine_divergence(deltas: torch.Tensor) -> np.ndarray:
    """``d_k = -(1/K) sum_j cos(delta_k, delta_j)`` for the rows of ``deltas`` (``K x D``, one flat update
    per client; ``j = k`` included). A zero update has cosine 0 with everything."""
    if deltas.ndim != 2 or deltas.shape[0] == 0:
        raise ValueError(f"deltas must be a K x D matrix, got shape {tuple(deltas.shape)}")
    d = deltas.detach().double()
    norms = d.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, d / norms.clamp_min(1e-300), torch.zeros_like(d))
    cos = unit @ unit.T
    return (-cos.mean(dim=1)).cpu().numpy()


def divergence_weights(p, d, gamma: float) -> np.ndarray:
    """Aggregation weights ``argmin_a sum_k (a_k - p_k)^2 + gamma * sum_k a_k d_k`` on the simplex.

    Completing the square, the objective is ``||a - (p - gamma d / 2)||^2`` plus a constant, so the answer
    is the simplex projection of ``p - gamma d / 2``. With ``gamma = 0`` it returns ``p`` (if ``p`` is on the
    simplex).
    """
    p, d = np.asarray(p, dtype=float), np.asarray(d, dtype=float)
    if p.shape != d.shape or p.ndim != 1:
        raise ValueError(f"p and d must be 1-D of the same length, got {p.shape} and {d.shape}")
    if not (np.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    return project_to_simplex(p - 0.5 * gamma * d)
