"""Molecules as attributed graphs: RDKit parsing, atom features, adjacency, conformer coordinates, padding.

A molecule becomes ``G(X, A)``: one node per heavy atom (hydrogens stay implicit), ``X`` an ``(n, f)``
float matrix of atom features and ``A`` the symmetric 0/1 bond adjacency (no self-loops, bond orders
ignored). The features, in the column order of :data:`ATOM_FEATURES`:

- ``atomic_number``, ``degree`` (bonds to heavy atoms), ``num_hs`` (attached hydrogens, implicit and
  explicit), ``formal_charge``, ``gasteiger_charge`` (RDKit's Gasteiger-Marsili partial charge, computed on
  the molecule with its hydrogens and read off the heavy atoms), ``aromatic`` and ``in_ring`` (0/1);
- ``x``, ``y``, ``z``: atom positions in angstrom, centred on the heavy atoms' centroid. ``coords="3d"``
  embeds a conformer with ETKDG v3 (fixed ``seed``, so repeatable), falling back to a 2-D depiction when
  embedding fails; ``"2d"`` uses the depiction (``z = 0``); ``"none"`` fills zeros.

:func:`pad_graphs` stacks graphs of different sizes into dense ``(N, n_max, f)``, ``(N, n_max, n_max)``
tensors with a node mask, the form the dense graph networks of the book consume. Two chapters use this
module (icpr2024-23, AE+GAE graph regression; icpr2024-24).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["ATOM_FEATURES", "COORDS", "MoleculeError", "MolGraph", "parse_smiles", "atom_features",
           "adjacency", "coordinates", "mol_to_graph", "graphs_from_smiles", "pad_graphs"]

ATOM_FEATURES = ("atomic_number", "degree", "num_hs", "formal_charge", "gasteiger_charge", "aromatic",
                 "in_ring", "x", "y", "z")
COORDS = ("3d", "2d", "none")


class MoleculeError(ValueError):
    """A SMILES string could not be turned into a molecular graph; the message names it and why."""


@dataclass
class MolGraph:
    """One molecule as a graph: ``x`` (n, f) float64 features, ``adj`` (n, n) float64 0/1 adjacency."""

    smiles: str
    x: np.ndarray
    adj: np.ndarray
    coords_source: str  # "3d", "2d" (asked for, or the fallback when 3-D embedding failed) or "none"

    @property
    def n_atoms(self) -> int:
        return int(self.x.shape[0])


def parse_smiles(smiles: str):
    """An RDKit molecule (sanitised, hydrogens implicit) or :class:`MoleculeError` saying what is wrong."""
    from rdkit import Chem, RDLogger

    if not isinstance(smiles, str):
        raise MoleculeError(f"SMILES must be a string, got {type(smiles).__name__}: {smiles!r}")
    if not smiles.strip():
        raise MoleculeError("SMILES is empty; a molecule needs at least one atom")
    RDLogger.DisableLog("rdApp.*")  # RDKit would print its own parse error to stderr; we raise ours instead
    try:
        mol = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None:
        raise MoleculeError(f"RDKit cannot parse SMILES {smiles!r} (syntax error or impossible valence)")
    if mol.GetNumAtoms() == 0:
        raise MoleculeError(f"SMILES {smiles!r} has no heavy atoms")
    return mol


def _as_mol(mol_or_smiles):
    return parse_smiles(mol_or_smiles) if isinstance(mol_or_smiles, str) else mol_or_smiles


def adjacency(mol) -> np.ndarray:
    """``(n, n)`` symmetric 0/1 float matrix of the bonds between heavy atoms, zero diagonal."""
    mol = _as_mol(mol)
    n = mol.GetNumAtoms()
    A = np.zeros((n, n))
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        A[i, j] = A[j, i] = 1.0
    return A


def coordinates(mol, coords: str = "3d", seed: int = 0) -> tuple[np.ndarray, str]:
    """Heavy-atom positions ``(n, 3)`` centred on their mean, and their source (``"3d"``, ``"2d"``, ``"none"``)."""
    from rdkit import Chem
    from rdkit.Chem import AllChem, rdDepictor

    if coords not in COORDS:
        raise ValueError(f"coords={coords!r}; allowed: {COORDS}")
    mol = _as_mol(mol)
    n = mol.GetNumAtoms()
    if coords == "none":
        return np.zeros((n, 3)), "none"
    if coords == "3d":
        mh = Chem.AddHs(mol)  # hydrogens make ETKDG's geometry chemically sensible; dropped again below
        params = AllChem.ETKDGv3()
        params.randomSeed = int(seed)
        params.numThreads = 1
        if AllChem.EmbedMolecule(mh, params) == 0:
            pos = mh.GetConformer().GetPositions()[:n]  # AddHs appends hydrogens after the heavy atoms
            return pos - pos.mean(0), "3d"
    m2 = Chem.Mol(mol)
    rdDepictor.Compute2DCoords(m2)
    pos = m2.GetConformer().GetPositions()
    return pos - pos.mean(0), "2d"


def atom_features(mol, coords: str = "3d", seed: int = 0) -> tuple[np.ndarray, str]:
    """``(n, len(ATOM_FEATURES))`` features of the heavy atoms, and the source of the coordinates."""
    from rdkit import Chem
    from rdkit.Chem import rdPartialCharges

    mol = _as_mol(mol)
    mh = Chem.AddHs(mol)
    rdPartialCharges.ComputeGasteigerCharges(mh)
    rows = []
    for atom in mol.GetAtoms():
        q = mh.GetAtomWithIdx(atom.GetIdx()).GetDoubleProp("_GasteigerCharge")
        rows.append([atom.GetAtomicNum(), atom.GetDegree(), atom.GetTotalNumHs(), atom.GetFormalCharge(),
                     q if np.isfinite(q) else 0.0, float(atom.GetIsAromatic()), float(atom.IsInRing())])
    pos, source = coordinates(mol, coords, seed)
    return np.concatenate([np.asarray(rows, dtype=float), pos], axis=1), source


def mol_to_graph(mol_or_smiles, coords: str = "3d", seed: int = 0) -> MolGraph:
    """A :class:`MolGraph` from a SMILES string or an RDKit molecule."""
    mol = _as_mol(mol_or_smiles)
    from rdkit import Chem

    smiles = mol_or_smiles if isinstance(mol_or_smiles, str) else Chem.MolToSmiles(mol)
    x, source = atom_features(mol, coords, seed)
    return MolGraph(smiles, x, adjacency(mol), source)


def graphs_from_smiles(smiles: Iterable, coords: str = "3d", seed: int = 0) -> list[MolGraph]:
    """One graph per SMILES string (or RDKit molecule); a bad SMILES raises :class:`MoleculeError` naming
    its position in the list and the string."""
    out = []
    for k, s in enumerate(smiles):
        try:
            out.append(mol_to_graph(s, coords, seed))
        except MoleculeError as e:
            raise MoleculeError(f"molecule {k}: {e}") from None
    return out


def pad_graphs(graphs: Sequence[MolGraph], n_max: int | None = None):
    """Dense padded arrays ``X`` (N, n_max, f), ``A`` (N, n_max, n_max), ``mask`` (N, n_max) bool.

    ``n_max`` defaults to the largest graph; a graph larger than a given ``n_max`` is an error.
    Padded rows of ``X`` and ``A`` are zero.
    """
    if not graphs:
        raise ValueError("pad_graphs needs at least one graph")
    sizes = [g.n_atoms for g in graphs]
    n_max = max(sizes) if n_max is None else int(n_max)
    if max(sizes) > n_max:
        k = int(np.argmax(sizes))
        raise ValueError(f"graph {k} ({graphs[k].smiles!r}) has {sizes[k]} atoms > n_max={n_max}")
    f = graphs[0].x.shape[1]
    X = np.zeros((len(graphs), n_max, f))
    A = np.zeros((len(graphs), n_max, n_max))
    mask = np.zeros((len(graphs), n_max), dtype=bool)
    for k, g in enumerate(graphs):
        n = g.n_atoms
        X[k, :n], A[k, :n, :n], mask[k, :n] = g.x, g.adj, True
    return X, A, mask
