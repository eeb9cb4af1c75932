"""The planted-motif DNA generator (reprobook.motifs), chapter icpr2024-20."""
import numpy as np
import pytest

from reprobook import motifs as mo


def test_background_and_pwm():
    bg = mo.background(0.4, 0.0)
    np.testing.assert_allclose(bg, [0.3, 0.2, 0.2, 0.3, 0.0])
    np.testing.assert_allclose(mo.background().sum(), 1.0)
    np.testing.assert_allclose(mo.iupac_pwm("AR"), [[1, 0, 0, 0, 0], [0.5, 0, 0.5, 0, 0]])
    np.testing.assert_allclose(mo.iupac_pwm("NY").sum(1), 1.0)
    with pytest.raises(ValueError):
        mo.iupac_pwm("AX")


def test_encode_decode_round_trip():
    assert mo.decode(mo.encode("acgtn")) == "ACGTN"


def test_class_balance_and_decoy():
    rng = np.random.default_rng(1)
    X, y = mo.planted_motifs(101, 64, 0.5, rng, pos_fraction=0.3)
    assert X.shape == (101, 64) and y.sum() == 30
    assert np.all(X[:, 32:34] == mo.encode("GT"))  # decoy at the centre in both classes
    assert X.min() >= 0 and X.max() <= 4


def test_full_strength_writes_the_consensus():
    rng = np.random.default_rng(2)
    X, y = mo.planted_motifs(200, 40, 1.0, rng, motifs=(mo.Motif("ACGT", -8),), decoy=None)
    pos = X[y == 1]
    assert np.all(pos[:, 12:16] == mo.encode("ACGT"))
    # negatives are background: the exact consensus there is rare
    assert np.mean(np.all(X[y == 0][:, 12:16] == mo.encode("ACGT"), axis=1)) < 0.05


def test_jittered_motif_stays_in_its_window():
    rng = np.random.default_rng(3)
    X, y = mo.planted_motifs(300, 60, 1.0, rng, motifs=(mo.Motif("AAAAAA", 5, jitter=4),), decoy=None,
                             gc=1.0)  # background has no A or T, so every A is the motif's
    pos = X[y == 1]
    first = np.argmax(pos == 0, axis=1)
    assert first.min() >= 30 + 5 - 4 and first.max() <= 30 + 5 + 4
    assert len(set(first.tolist())) == 9  # all nine shifts occur
    assert np.all((pos == 0).sum(1) == 6)
    assert not np.any(X[y == 0] == 0)


def test_zero_strength_classes_share_one_distribution():
    rng = np.random.default_rng(4)
    X, y = mo.planted_motifs(20000, 30, 0.0, rng, decoy=None,
                             motifs=(mo.Motif("GGGG", 0),))
    f_pos = np.bincount(X[y == 1][:, 15:19].ravel(), minlength=5) / X[y == 1][:, 15:19].size
    f_neg = np.bincount(X[y == 0][:, 15:19].ravel(), minlength=5) / X[y == 0][:, 15:19].size
    np.testing.assert_allclose(f_pos, mo.background(), atol=0.01)
    np.testing.assert_allclose(f_neg, mo.background(), atol=0.01)


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        mo.planted_motifs(10, 40, 1.5, rng)
    with pytest.raises(ValueError):
        mo.planted_motifs(10, 40, 0.5, rng, pos_fraction=1.0)
    with pytest.raises(ValueError):
        mo.planted_motifs(10, 20, 0.5, rng)  # the jittered motif does not fit
