"""Synthetic DNA classification data with planted motifs (an offline stand-in for splice-site data).

Every sequence is drawn base by base from a background distribution over ``A, C, G, T, N`` (codes 0-4).
A *decoy* (for splice sites: the dinucleotide ``GT`` at the centre) is written into every sequence, so the
classes cannot be told apart by it. Positive sequences additionally carry motifs given as IUPAC consensus
strings; at each motif position the base is drawn from ``(1 - s) * background + s * pwm_row``, where the
*motif strength* ``s`` in ``[0, 1]`` moves the positives from indistinguishable (``s = 0``) to carrying the
exact consensus (``s = 1``). A motif can sit at a fixed offset from the centre or be shifted by a random
``jitter`` per sequence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DNA = "ACGTN"
IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "M": "AC", "K": "GT", "S": "CG",
         "W": "AT", "N": "ACGT"}


@dataclass(frozen=True)
class Motif:
    """A consensus (IUPAC letters) whose first base sits ``offset`` bases from the centre, ± ``jitter``."""

    consensus: str
    offset: int
    jitter: int = 0


# Splice-donor-like layout around an exon|intron boundary at the centre: exon "MAG", the decoy "GT" at the
# centre (in both classes), intron "RAGT" after it, and a loosely placed downstream motif.
DONOR_MOTIFS = (Motif("MAG", -3), Motif("RAGT", 2), Motif("CTRAY", 18, jitter=8))
DONOR_DECOY = (0, "GT")  # (offset from the centre, letters) written into every sequence


def background(gc: float = 0.41, n_rate: float = 0.001) -> np.ndarray:
    """Base probabilities ``(A, C, G, T, N)`` with GC content ``gc`` among ACGT and a share ``n_rate`` of N."""
    if not (0 <= gc <= 1 and 0 <= n_rate < 1):
        raise ValueError(f"need 0 <= gc <= 1 and 0 <= n_rate < 1, got gc={gc}, n_rate={n_rate}")
    acgt = 1.0 - n_rate
    return np.array([acgt * (1 - gc) / 2, acgt * gc / 2, acgt * gc / 2, acgt * (1 - gc) / 2, n_rate])


def iupac_pwm(consensus: str) -> np.ndarray:
    """``(len, 5)`` position weight matrix: each IUPAC letter spread evenly over the bases it allows."""
    pwm = np.zeros((len(consensus), len(DNA)))
    for i, letter in enumerate(consensus.upper()):
        if letter not in IUPAC:
            raise ValueError(f"unknown IUPAC letter {letter!r} in {consensus!r}; allowed: {''.join(IUPAC)}")
        for base in IUPAC[letter]:
            pwm[i, DNA.index(base)] = 1.0 / len(IUPAC[letter])
    return pwm


def encode(seq: str) -> np.ndarray:
    """Codes 0-4 of a string over ``ACGTN``."""
    return np.array([DNA.index(c) for c in seq.upper()], dtype=np.int64)


def decode(codes) -> str:
    return "".join(DNA[int(c)] for c in codes)


def _draw(probs: np.ndarray, rng: np.random.Generator, size) -> np.ndarray:
    """Categorical draws from ``probs`` (last axis), by inverting the cumulative sum."""
    cum = np.cumsum(probs, axis=-1)
    u = rng.random(size)
    return np.minimum((u[..., None] > cum).sum(-1), probs.shape[-1] - 1).astype(np.int64)


def planted_motifs(n: int, length: int, strength: float, rng: np.random.Generator, *,
                   pos_fraction: float = 0.5, motifs=DONOR_MOTIFS, decoy=DONOR_DECOY,
                   gc: float = 0.41, n_rate: float = 0.001) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, length) base codes and ``y`` (n,) in {0, 1}; exactly ``round(pos_fraction * n)`` positives.

    Rows are in random order. Motif and decoy offsets are relative to the centre ``length // 2``.
    """
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if not 0 < pos_fraction < 1:
        raise ValueError(f"pos_fraction must be in (0, 1), got {pos_fraction}")
    centre = length // 2
    spans = [(centre + m.offset - m.jitter, centre + m.offset + m.jitter + len(m.consensus)) for m in motifs]
    if decoy is not None:
        spans.append((centre + decoy[0], centre + decoy[0] + len(decoy[1])))
    if any(lo < 0 or hi > length for lo, hi in spans):
        raise ValueError(f"length={length} is too short for the motifs and decoy around its centre")
    bg = background(gc, n_rate)
    n_pos = int(round(pos_fraction * n))
    y = np.zeros(n, dtype=np.int64)
    y[:n_pos] = 1
    X = _draw(bg, rng, (n, length))
    for m in motifs:
        probs = (1 - strength) * bg[None, :] + strength * iupac_pwm(m.consensus)  # (len, 5)
        bases = _draw(probs, rng, (n_pos, len(m.consensus)))
        shift = rng.integers(-m.jitter, m.jitter + 1, size=n_pos) if m.jitter else np.zeros(n_pos, dtype=np.int64)
        cols = centre + m.offset + shift[:, None] + np.arange(len(m.consensus))[None, :]
        X[np.arange(n_pos)[:, None], cols] = bases
    if decoy is not None:
        X[:, centre + decoy[0]:centre + decoy[0] + len(decoy[1])] = encode(decoy[1])
    order = rng.permutation(n)
    return X[order], y[order]
