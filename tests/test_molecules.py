import networkx as nx
import numpy as np
import pytest

from reprobook import molecules as M

COL = {name: k for k, name in enumerate(M.ATOM_FEATURES)}


def test_ethanol_exact_features():
    g = M.mol_to_graph("CCO", coords="none")
    assert g.n_atoms == 3 and g.x.shape == (3, len(M.ATOM_FEATURES))
    np.testing.assert_array_equal(g.x[:, COL["atomic_number"]], [6, 6, 8])
    np.testing.assert_array_equal(g.x[:, COL["degree"]], [1, 2, 1])
    np.testing.assert_array_equal(g.x[:, COL["num_hs"]], [3, 2, 1])
    np.testing.assert_array_equal(g.x[:, COL["formal_charge"]], [0, 0, 0])
    np.testing.assert_array_equal(g.x[:, COL["aromatic"]], [0, 0, 0])
    np.testing.assert_array_equal(g.x[:, COL["in_ring"]], [0, 0, 0])
    np.testing.assert_array_equal(g.x[:, [COL["x"], COL["y"], COL["z"]]], np.zeros((3, 3)))
    np.testing.assert_array_equal(g.adj, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert g.coords_source == "none"


def test_gasteiger_signs_on_ethanol():
    q = M.mol_to_graph("CCO", coords="none").x[:, COL["gasteiger_charge"]]
    # oxygen pulls electrons: most negative; the carbon bonded to it is more positive than the methyl carbon
    assert q[2] < -0.3 and q[2] == q.min() and q[1] > q[0]


def test_charged_and_aromatic_atoms():
    g = M.mol_to_graph("C[N+](C)(C)C", coords="none")
    np.testing.assert_array_equal(g.x[:, COL["formal_charge"]], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(g.x[:, COL["degree"]], [1, 4, 1, 1, 1])
    b = M.mol_to_graph("c1ccccc1O", coords="none")
    np.testing.assert_array_equal(b.x[:, COL["aromatic"]], [1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(b.x[:, COL["in_ring"]], [1, 1, 1, 1, 1, 1, 0])


@pytest.mark.parametrize("smiles", ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CC2CCC1C2"])
def test_adjacency_symmetric_and_matches_bond_graph(smiles):
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    A = M.adjacency(smiles)
    assert A.shape == (mol.GetNumAtoms(),) * 2
    np.testing.assert_array_equal(A, A.T)
    np.testing.assert_array_equal(np.diag(A), 0)
    assert A.sum() == 2 * mol.GetNumBonds()
    G = nx.Graph([(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()])
    np.testing.assert_array_equal(A, nx.to_numpy_array(G, nodelist=range(mol.GetNumAtoms())))


def test_benzene_spectrum_is_the_six_cycle():
    eig = np.sort(np.linalg.eigvalsh(M.adjacency("c1ccccc1")))
    np.testing.assert_allclose(eig, np.sort(2 * np.cos(2 * np.pi * np.arange(6) / 6)), atol=1e-12)


def test_3d_coordinates_centred_repeatable_and_chemical():
    a = M.mol_to_graph("CCO", coords="3d", seed=3)
    b = M.mol_to_graph("CCO", coords="3d", seed=3)
    assert a.coords_source == "3d"
    pos = a.x[:, [COL["x"], COL["y"], COL["z"]]]
    np.testing.assert_array_equal(pos, b.x[:, [COL["x"], COL["y"], COL["z"]]])
    np.testing.assert_allclose(pos.mean(0), 0, atol=1e-12)
    assert abs(np.linalg.norm(pos[0] - pos[1]) - 1.52) < 0.08  # C-C single bond
    assert abs(np.linalg.norm(pos[1] - pos[2]) - 1.43) < 0.08  # C-O single bond
    neo = M.mol_to_graph("CC(C)(C)C", coords="3d").x[:, [COL["x"], COL["y"], COL["z"]]]
    assert np.linalg.svd(neo, compute_uv=False)[-1] > 0.5  # tetrahedral carbon: not flat, genuinely 3-D


def test_2d_coordinates_are_planar():
    g = M.mol_to_graph("c1ccccc1O", coords="2d")
    assert g.coords_source == "2d"
    np.testing.assert_array_equal(g.x[:, COL["z"]], 0)
    assert np.abs(g.x[:, COL["x"]]).max() > 0.5


@pytest.mark.parametrize("bad, words", [("C1CC", "cannot parse"), ("", "empty"), ("C(C)(C)(C)(C)C", "cannot parse"),
                                        ("xyz", "cannot parse")])
def test_bad_smiles_raise_a_clear_error(bad, words):
    with pytest.raises(M.MoleculeError, match=words):
        M.mol_to_graph(bad)


def test_non_string_and_position_in_list():
    with pytest.raises(M.MoleculeError, match="must be a string"):
        M.parse_smiles(None)
    with pytest.raises(M.MoleculeError, match=r"molecule 1: .*'C1CC'"):
        M.graphs_from_smiles(["CCO", "C1CC"], coords="none")
    with pytest.raises(ValueError, match="coords"):
        M.coordinates("CCO", coords="4d")


def test_pad_graphs_shapes_mask_and_overflow():
    gs = M.graphs_from_smiles(["CCO", "C", "c1ccccc1"], coords="none")
    X, A, mask = M.pad_graphs(gs)
    assert X.shape == (3, 6, len(M.ATOM_FEATURES)) and A.shape == (3, 6, 6)
    np.testing.assert_array_equal(mask.sum(1), [3, 1, 6])
    np.testing.assert_array_equal(X[0, :3], gs[0].x)
    assert not X[0, 3:].any() and not A[0, 3:].any() and not A[0, :, 3:].any()
    np.testing.assert_array_equal(A, A.transpose(0, 2, 1))
    X8, _, _ = M.pad_graphs(gs, n_max=8)
    assert X8.shape[1] == 8
    with pytest.raises(ValueError, match=r"graph 2 .* 6 atoms > n_max=4"):
        M.pad_graphs(gs, n_max=4)


def test_rdkit_molecule_input_gives_the_same_graph():
    from rdkit import Chem

    a = M.mol_to_graph("CC(=O)O", coords="none")
    b = M.graphs_from_smiles([Chem.MolFromSmiles("CC(=O)O")], coords="none")[0]
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.adj, b.adj)
    assert b.smiles == "CC(=O)O"
