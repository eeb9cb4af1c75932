"""Graph edit distance for labelled graphs: the bipartite approximation (BP-GED), exact GED through networkx,
and dissimilarity matrices (the dissimilarity-based graph embedding of Riesen & Bunke).

A labelled graph here is a :class:`LabelledGraph`: integer node labels (for molecules the atomic number) and
a symmetric integer edge-label matrix with 0 meaning "no edge" (for molecules the bond type, see
:data:`BOND_CODES`). The edit costs (:class:`EditCosts`) are constant: substituting a node (edge) by one with
a different label costs ``node_sub`` (``edge_sub``), deleting or inserting one costs ``node_indel``
(``edge_indel``); substituting equal labels is free.

**BP-GED** (Riesen & Bunke, Image Vis. Comput. 27(7), 2009). The edit distance is reduced to a linear sum
assignment of the nodes of ``g1`` (``n`` nodes) to the nodes of ``g2`` (``m`` nodes) on an
``(n + m) x (n + m)`` cost matrix::

    [ C_sub (n x m)          | C_del (n x n, diagonal) ]
    [ C_ins (m x m, diagonal) | 0 (m x n)               ]

where each entry adds to the node operation the cheapest way to match the edges incident to the two nodes
(their *stars*); each edge is seen from both of its ends, so the star costs are halved. The assignment
defines a node mapping, and the distance returned is the **cost of the complete edit path that this mapping
induces** (node and edge operations, :func:`edit_path_cost`). It is therefore an upper bound of the exact
GED, the property the tests check against networkx.

The star cost has a closed form (no inner assignment problem), which makes this module fast enough in pure
NumPy: with ``d_i``, ``d_j`` incident edges, ``s_ij`` = the number of incident edges that can be matched
with equal labels (the overlap of the two label histograms), the cheapest star matching costs
``min(edge_sub, 2 edge_indel) (min(d_i, d_j) - s_ij) + edge_indel |d_i - d_j|`` (match the equal labels,
then either substitute or delete-and-insert the rest, whichever is cheaper).

No maintained PyPI package offers BP-GED on labelled graphs (networkx only has exact and anytime
branch-and-bound GED, which are far too slow for dissimilarity matrices), hence this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["BOND_CODES", "EditCosts", "LabelledGraph", "from_mol", "from_networkx", "to_networkx",
           "bp_cost_matrix", "bp_mapping", "edit_path_cost", "bp_ged", "exact_ged", "dissimilarity_matrix",
           "TU_DATASETS", "TUDatasetNotFound", "tu_folder", "read_tu_dataset"]

# RDKit bond types -> edge labels (0 is reserved for "no edge")
BOND_CODES = {"SINGLE": 1, "DOUBLE": 2, "TRIPLE": 3, "AROMATIC": 4}


@dataclass(frozen=True)
class EditCosts:
    """Constant edit costs: substitution of different labels, and deletion = insertion ("indel")."""

    node_sub: float = 1.0
    node_indel: float = 1.0
    edge_sub: float = 1.0
    edge_indel: float = 1.0

    def __post_init__(self):
        for name in ("node_sub", "node_indel", "edge_sub", "edge_indel"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"edit cost {name}={v!r} must be a finite number >= 0")


@dataclass(frozen=True)
class LabelledGraph:
    """``nodes``: (n,) int labels; ``edges``: (n, n) symmetric int labels, 0 = no edge, zero diagonal."""

    nodes: np.ndarray
    edges: np.ndarray

    def __post_init__(self):
        nodes = np.asarray(self.nodes, dtype=np.int64).reshape(-1)
        edges = np.asarray(self.edges, dtype=np.int64)
        n = nodes.shape[0]
        if edges.shape != (n, n):
            raise ValueError(f"edges must be ({n}, {n}) for {n} nodes, got shape {edges.shape}")
        if not np.array_equal(edges, edges.T):
            raise ValueError("edges must be symmetric (undirected graph)")
        if np.any(np.diag(edges) != 0):
            raise ValueError("edges must have a zero diagonal (no self-loops)")
        if np.any(edges < 0):
            raise ValueError("edge labels must be >= 0 (0 means no edge)")
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "edges", edges)

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.shape[0])

    @property
    def n_edges(self) -> int:
        return int(np.count_nonzero(np.triu(self.edges, 1)))

    @property
    def degrees(self) -> np.ndarray:
        return np.count_nonzero(self.edges, axis=1)


def from_mol(mol) -> LabelledGraph:
    """Heavy atoms labelled by atomic number, bonds by :data:`BOND_CODES` (an RDKit molecule or SMILES)."""
    from .molecules import parse_smiles

    if isinstance(mol, str):
        mol = parse_smiles(mol)
    n = mol.GetNumAtoms()
    E = np.zeros((n, n), dtype=np.int64)
    for b in mol.GetBonds():
        code = BOND_CODES.get(str(b.GetBondType()), len(BOND_CODES) + 1)  # any other bond type: one extra label
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        E[i, j] = E[j, i] = code
    return LabelledGraph(np.array([a.GetAtomicNum() for a in mol.GetAtoms()]), E)


def from_networkx(G, node_label: str = "label", edge_label: str = "label") -> LabelledGraph:
    """From a networkx graph with nodes ``0..n-1``; missing labels count as node label 0 / edge label 1."""
    n = G.number_of_nodes()
    if sorted(G.nodes) != list(range(n)):
        raise ValueError("from_networkx needs nodes labelled 0..n-1")
    E = np.zeros((n, n), dtype=np.int64)
    for u, v, d in G.edges(data=True):
        if u == v:
            raise ValueError(f"self-loop at node {u}: not supported")
        E[u, v] = E[v, u] = int(d.get(edge_label, 1))
    return LabelledGraph(np.array([int(G.nodes[i].get(node_label, 0)) for i in range(n)]), E)


def to_networkx(g: LabelledGraph, node_label: str = "label", edge_label: str = "label"):
    """The same graph as ``networkx.Graph`` with the labels as attributes."""
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from((i, {node_label: int(lab)}) for i, lab in enumerate(g.nodes))
    r, c = np.nonzero(np.triu(g.edges, 1))
    G.add_edges_from((int(i), int(j), {edge_label: int(g.edges[i, j])}) for i, j in zip(r, c))
    return G


def _edge_histograms(g: LabelledGraph, labels: np.ndarray) -> np.ndarray:
    """(n, L) counts of incident edges per edge label."""
    return (g.edges[:, :, None] == labels[None, None, :]).sum(1)


def bp_cost_matrix(g1: LabelledGraph, g2: LabelledGraph, costs: EditCosts = EditCosts()) -> np.ndarray:
    """The ``(n + m) x (n + m)`` assignment cost matrix of BP-GED (module docstring); forbidden entries are inf."""
    n, m = g1.n_nodes, g2.n_nodes
    d1, d2 = g1.degrees, g2.degrees
    labels = np.union1d(g1.edges[g1.edges > 0], g2.edges[g2.edges > 0])
    if labels.size:
        h1, h2 = _edge_histograms(g1, labels), _edge_histograms(g2, labels)
        same = np.minimum(h1[:, None, :], h2[None, :, :]).sum(-1)  # (n, m) equal-label matches
    else:
        same = np.zeros((n, m), dtype=np.int64)
    star = (min(costs.edge_sub, 2 * costs.edge_indel) * (np.minimum(d1[:, None], d2[None, :]) - same)
            + costs.edge_indel * np.abs(d1[:, None] - d2[None, :]))
    C = np.zeros((n + m, n + m))
    C[:n, :m] = costs.node_sub * (g1.nodes[:, None] != g2.nodes[None, :]) + 0.5 * star
    C[:n, m:] = np.inf
    C[n:, :m] = np.inf
    C[np.arange(n), m + np.arange(n)] = costs.node_indel + 0.5 * costs.edge_indel * d1
    C[n + np.arange(m), np.arange(m)] = costs.node_indel + 0.5 * costs.edge_indel * d2
    return C


def bp_mapping(g1: LabelledGraph, g2: LabelledGraph, costs: EditCosts = EditCosts()) -> np.ndarray:
    """The node map of BP-GED: ``f[i]`` = node of ``g2`` that node ``i`` of ``g1`` becomes, or -1 (deleted)."""
    n, m = g1.n_nodes, g2.n_nodes
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if m == 0:
        return np.full(n, -1, dtype=np.int64)
    rows, cols = linear_sum_assignment(bp_cost_matrix(g1, g2, costs))
    f = np.full(n, -1, dtype=np.int64)
    top = rows < n
    f[rows[top]] = np.where(cols[top] < m, cols[top], -1)
    return f


def edit_path_cost(g1: LabelledGraph, g2: LabelledGraph, mapping, costs: EditCosts = EditCosts()) -> float:
    """Exact cost of the edit path induced by a node map (``mapping[i]`` in ``0..m-1`` or -1 = delete).

    Nodes of ``g2`` not in the image are inserted; an edge is kept (substituted if its label changes) when
    both ends are mapped onto the ends of an edge of ``g2``, deleted otherwise; the other edges of ``g2``
    are inserted.
    """
    f = np.asarray(mapping, dtype=np.int64).reshape(-1)
    n, m = g1.n_nodes, g2.n_nodes
    if f.shape[0] != n:
        raise ValueError(f"mapping has {f.shape[0]} entries for a graph of {n} nodes")
    mapped = f >= 0
    image = f[mapped]
    if np.any(image >= m) or len(np.unique(image)) != len(image):
        raise ValueError("mapping must send nodes to distinct nodes 0..m-1 of g2 (or -1)")
    cost = costs.node_sub * np.count_nonzero(g1.nodes[mapped] != g2.nodes[image])
    cost += costs.node_indel * ((n - len(image)) + (m - len(image)))
    # g2's edges pulled back onto the nodes of g1: P[i, k] = E2[f(i), f(k)] when both are mapped
    P = np.zeros((n, n), dtype=np.int64)
    idx = np.flatnonzero(mapped)
    P[np.ix_(idx, idx)] = g2.edges[np.ix_(image, image)]
    E1, P = np.triu(g1.edges, 1), np.triu(P, 1)
    both = (E1 > 0) & (P > 0)
    cost += costs.edge_sub * np.count_nonzero(both & (E1 != P))
    cost += costs.edge_indel * np.count_nonzero((E1 > 0) & (P == 0))  # deleted edges
    cost += costs.edge_indel * (g2.n_edges - np.count_nonzero(both))  # inserted edges of g2
    return float(cost)


def bp_ged(g1: LabelledGraph, g2: LabelledGraph, costs: EditCosts = EditCosts()) -> float:
    """BP-GED: the edit-path cost of the bipartite assignment's node map (an upper bound of the exact GED)."""
    return edit_path_cost(g1, g2, bp_mapping(g1, g2, costs), costs)


def exact_ged(g1: LabelledGraph, g2: LabelledGraph, costs: EditCosts = EditCosts(),
              timeout: float | None = None) -> float | None:
    """Exact GED with the same costs, by networkx's A* search (exponential: only for small graphs).

    With ``timeout`` (seconds) networkx returns the best edit path found so far, which may not be optimal;
    ``None`` if none was found in time.
    """
    import networkx as nx

    return nx.graph_edit_distance(
        to_networkx(g1), to_networkx(g2),
        node_subst_cost=lambda a, b: 0.0 if a["label"] == b["label"] else costs.node_sub,
        node_del_cost=lambda a: costs.node_indel, node_ins_cost=lambda a: costs.node_indel,
        edge_subst_cost=lambda a, b: 0.0 if a["label"] == b["label"] else costs.edge_sub,
        edge_del_cost=lambda a: costs.edge_indel, edge_ins_cost=lambda a: costs.edge_indel,
        timeout=timeout)


def _rows(rows: Sequence[LabelledGraph], cols: Sequence[LabelledGraph], costs: EditCosts) -> np.ndarray:
    return np.array([[bp_ged(a, b, costs) for b in cols] for a in rows]).reshape(len(rows), len(cols))


def dissimilarity_matrix(rows: Sequence[LabelledGraph], cols: Sequence[LabelledGraph] | None = None,
                         costs: EditCosts = EditCosts(), n_jobs: int = 1) -> np.ndarray:
    """``D[i, j] = BP-GED(rows[i], cols[j])``; ``cols=None`` means ``rows`` (all pairs, both directions,
    since BP-GED is not exactly symmetric). ``n_jobs > 1`` splits the rows over joblib worker processes;
    the result does not depend on ``n_jobs``."""
    cols = rows if cols is None else cols
    if not rows or not cols:
        raise ValueError("dissimilarity_matrix needs at least one row graph and one column graph")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs!r} must be a positive integer")
    if n_jobs == 1:
        return _rows(rows, cols, costs)
    from joblib import Parallel, delayed

    chunks = np.array_split(np.arange(len(rows)), min(len(rows), 4 * n_jobs))
    parts = Parallel(n_jobs=n_jobs)(delayed(_rows)([rows[i] for i in c], cols, costs) for c in chunks if len(c))
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------------- TUDataset text format

TU_DATASETS = ("MUTAG", "DHFR", "PROTEINS", "Mutagenicity")  # the paper's four (Sect. 3.1)


class TUDatasetNotFound(FileNotFoundError):
    """A TUDataset is not under ``data_root``; the message says which files to put where."""


def tu_folder(data_root, name: str) -> Path:
    """``data_root/name`` when it holds ``name_A.txt``, else ``data_root`` itself when that does."""
    root = Path(data_root).expanduser()
    for folder in (root / name, root):
        if (folder / f"{name}_A.txt").is_file():
            return folder
    raise TUDatasetNotFound(
        f"TUDataset {name!r} not found under {str(root)!r}: unpack {name}.zip from "
        f"https://chrsmrrs.github.io/datasets/ so that {str(root / name / (name + '_A.txt'))!r} exists "
        f"(with {name}_graph_indicator.txt, {name}_graph_labels.txt and, if the dataset has them, "
        f"{name}_node_labels.txt and {name}_edge_labels.txt)")


def _read_ints(path: Path) -> np.ndarray:
    """One or more comma-separated integers per line, as an (lines,) or (lines, k) int64 array."""
    rows = [[int(v) for v in line.replace(",", " ").split()] for line in path.read_text().splitlines() if line.strip()]
    arr = np.array(rows, dtype=np.int64)
    return arr[:, 0] if arr.ndim == 2 and arr.shape[1] == 1 else arr


def read_tu_dataset(data_root, name: str) -> tuple[list[LabelledGraph], np.ndarray]:
    """Graphs and class labels of a TUDataset in its text format (Morris et al., 2020).

    ``name_A.txt`` lists edges ``i, j`` (1-based node ids over the whole dataset, both directions),
    ``name_graph_indicator.txt`` the graph (1-based) of each node, ``name_graph_labels.txt`` one class per
    graph. Node labels (``name_node_labels.txt``) become the node labels, 0 when absent; edge labels
    (``name_edge_labels.txt``, one per line of ``name_A.txt``) are shifted by +1 because 0 means "no edge"
    here, and all edges get label 1 when absent. Class labels are returned as they are in the file.
    """
    folder = tu_folder(data_root, name)
    edges = _read_ints(folder / f"{name}_A.txt").reshape(-1, 2) - 1
    indicator = _read_ints(folder / f"{name}_graph_indicator.txt").reshape(-1) - 1
    classes = _read_ints(folder / f"{name}_graph_labels.txt").reshape(-1)
    n_nodes, n_graphs = len(indicator), len(classes)
    if indicator.max() + 1 != n_graphs or edges.max(initial=-1) >= n_nodes or edges.min(initial=0) < 0:
        raise ValueError(f"{folder}: the files disagree ({n_nodes} nodes in {indicator.max() + 1} graphs, "
                         f"{n_graphs} graph labels, node ids up to {edges.max(initial=-1) + 1})")
    node_file, edge_file = folder / f"{name}_node_labels.txt", folder / f"{name}_edge_labels.txt"
    node_labels = (_read_ints(node_file).reshape(n_nodes, -1)[:, 0] if node_file.is_file()
                   else np.zeros(n_nodes, np.int64))
    edge_labels = (_read_ints(edge_file).reshape(len(edges), -1)[:, 0] + 1 if edge_file.is_file()
                   else np.ones(len(edges), np.int64))
    if np.any(np.diff(indicator) < 0):
        raise ValueError(f"{folder}: {name}_graph_indicator.txt must list the nodes graph by graph (sorted)")
    if np.any(indicator[edges[:, 0]] != indicator[edges[:, 1]]):
        raise ValueError(f"{folder}: an edge joins nodes of two different graphs")
    starts = np.searchsorted(indicator, np.arange(n_graphs))  # nodes of a graph are contiguous in TU files
    ends = np.append(starts[1:], n_nodes)
    graphs = []
    for g, (a, b) in enumerate(zip(starts, ends)):
        E = np.zeros((b - a, b - a), dtype=np.int64)
        mine = indicator[edges[:, 0]] == g
        u, v = edges[mine, 0] - a, edges[mine, 1] - a
        keep = u != v  # a few TU graphs contain self-loops; GED here has none
        E[u[keep], v[keep]] = edge_labels[mine][keep]
        E[v[keep], u[keep]] = edge_labels[mine][keep]
        graphs.append(LabelledGraph(node_labels[a:b], E))
    return graphs, classes
