"""Multi-object tracking: box IoU, CLEAR-MOT and IDF1 metrics, and a MOT17-format loader.

Boxes follow the MOTChallenge convention ``(x, y, w, h)``: top-left corner, width and height, in pixels.
A set of tracked boxes is an array with one row per box and the columns ``frame, id, x, y, w, h``
(ground truth or a tracker's hypotheses; each id appears at most once per frame).

* :func:`box_iou` -- intersection over union of two sets of boxes (a matrix).
* :func:`clear_mot` -- the CLEAR-MOT counts (Bernardin and Stiefelhagen 2008) as MOTChallenge computes
  them: per frame, keep last frame's pairs that still overlap by ``IoU >= iou_threshold``, match the rest
  by the Hungarian method on ``1 - IoU``, and count an identity switch whenever a ground-truth object is
  matched to another hypothesis id than at its previous match. ``MOTA = 1 - (FN + FP + IDSW) / #GT``.
* :func:`id_scores` -- IDF1, IDP, IDR (Ristani et al. 2016): one global one-to-one matching of ground
  truth ids to hypothesis ids that maximises the number of frames in which the matched pair overlaps.
* :func:`load_mot_sequence` -- one MOT17 sequence folder (``seqinfo.ini``, ``det/det.txt``,
  ``gt/gt.txt``, ``img1/``) read from a local copy; nothing is downloaded.

We wrote the metrics ourselves (``motmetrics`` is not in the environment); the unit tests check them by
hand on tiny sequences.
"""
from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["box_iou", "check_tracks", "clear_mot", "id_scores", "mot_scores", "MotSequence",
           "load_mot_sequence", "crop_boxes"]


def box_iou(a, b) -> np.ndarray:
    """IoU matrix (len(a) x len(b)) of boxes given as rows ``(x, y, w, h)``."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    if np.any(a[:, 2:] < 0) or np.any(b[:, 2:] < 0):
        raise ValueError("box widths and heights must be >= 0")
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def check_tracks(tracks, name: str = "tracks") -> np.ndarray:
    """Validate an array of rows ``frame, id, x, y, w, h`` and return it as floats (n x 6)."""
    t = np.asarray(tracks, dtype=float)
    if t.size == 0:
        return t.reshape(0, 6)
    if t.ndim != 2 or t.shape[1] < 6:
        raise ValueError(f"{name} must have rows (frame, id, x, y, w, h), got shape {t.shape}")
    t = t[:, :6]
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} contain NaN or infinite values")
    if np.any(t[:, 4:6] < 0):
        raise ValueError(f"{name}: box widths and heights must be >= 0")
    if len(np.unique(t[:, :2], axis=0)) != len(t):
        raise ValueError(f"{name}: an id appears twice in the same frame")
    return t


def clear_mot(gt, hyp, *, iou_threshold: float = 0.5) -> dict[str, float]:
    """CLEAR-MOT counts and MOTA/MOTP of hypotheses ``hyp`` against ground truth ``gt``.

    Returns ``num_gt, num_hyp, tp, fp, fn, idsw, mota, motp`` (``motp`` = mean IoU of the matches).
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold={iou_threshold!r} must be in (0, 1]")
    gt, hyp = check_tracks(gt, "gt"), check_tracks(hyp, "hyp")
    last_match: dict[float, float] = {}  # gt id -> hypothesis id of its most recent match
    prev_pairs: dict[float, float] = {}  # pairs matched in the previous frame (kept if they still overlap)
    tp = fp = fn = idsw = 0
    iou_sum = 0.0
    for f in np.union1d(gt[:, 0], hyp[:, 0]):
        g, h = gt[gt[:, 0] == f], hyp[hyp[:, 0] == f]
        iou = box_iou(g[:, 2:], h[:, 2:])
        valid = iou >= iou_threshold
        pairs: list[tuple[int, int]] = []
        g_free, h_free = np.ones(len(g), bool), np.ones(len(h), bool)
        for i, gid in enumerate(g[:, 1]):  # continuity: last frame's pair still overlaps -> keep it
            if gid in prev_pairs:
                j = np.flatnonzero(h[:, 1] == prev_pairs[gid])
                if len(j) and valid[i, j[0]]:
                    pairs.append((i, j[0]))
                    g_free[i] = h_free[j[0]] = False
        gi, hj = np.flatnonzero(g_free), np.flatnonzero(h_free)
        if len(gi) and len(hj):
            sub = np.where(valid[np.ix_(gi, hj)], 1.0 - iou[np.ix_(gi, hj)], 1e6)
            rows, cols = linear_sum_assignment(sub)
            pairs += [(gi[r], hj[c]) for r, c in zip(rows, cols) if sub[r, c] < 1e6]
        prev_pairs = {}
        for i, j in pairs:
            gid, hid = g[i, 1], h[j, 1]
            if gid in last_match and last_match[gid] != hid:
                idsw += 1
            last_match[gid] = prev_pairs[gid] = hid
            iou_sum += iou[i, j]
        tp += len(pairs)
        fn += len(g) - len(pairs)
        fp += len(h) - len(pairs)
    num_gt = len(gt)
    return dict(num_gt=num_gt, num_hyp=len(hyp), tp=tp, fp=fp, fn=fn, idsw=idsw,
                mota=1.0 - (fn + fp + idsw) / num_gt if num_gt else float("nan"),
                motp=iou_sum / tp if tp else float("nan"))


def id_scores(gt, hyp, *, iou_threshold: float = 0.5) -> dict[str, float]:
    """Identity scores: ``idtp, idfp, idfn, idp, idr, idf1`` from one global id-to-id matching."""
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold={iou_threshold!r} must be in (0, 1]")
    gt, hyp = check_tracks(gt, "gt"), check_tracks(hyp, "hyp")
    gids, g_idx = np.unique(gt[:, 1], return_inverse=True)
    hids, h_idx = np.unique(hyp[:, 1], return_inverse=True)
    overlap = np.zeros((len(gids), len(hids)))  # frames in which gt id a and hyp id b overlap enough
    for f in np.intersect1d(gt[:, 0], hyp[:, 0]):
        gm, hm = gt[:, 0] == f, hyp[:, 0] == f
        ok = box_iou(gt[gm, 2:], hyp[hm, 2:]) >= iou_threshold
        a, b = np.nonzero(ok)
        np.add.at(overlap, (g_idx[gm][a], h_idx[hm][b]), 1)
    idtp = 0.0
    if overlap.size:
        r, c = linear_sum_assignment(-overlap)
        idtp = float(overlap[r, c].sum())
    n_g, n_h = len(gt), len(hyp)
    return dict(idtp=idtp, idfp=n_h - idtp, idfn=n_g - idtp,
                idp=idtp / n_h if n_h else float("nan"), idr=idtp / n_g if n_g else float("nan"),
                idf1=2 * idtp / (n_g + n_h) if n_g + n_h else float("nan"))


def mot_scores(gt, hyp, *, iou_threshold: float = 0.5) -> dict[str, float]:
    """:func:`clear_mot` and :func:`id_scores` in one dictionary."""
    return {**clear_mot(gt, hyp, iou_threshold=iou_threshold), **id_scores(gt, hyp, iou_threshold=iou_threshold)}


# ------------------------------------------------------------------------------------------- MOT17 loader
@dataclass
class MotSequence:
    """One MOTChallenge sequence: ``detections`` rows ``frame, x, y, w, h, score``; ``gt`` rows
    ``frame, id, x, y, w, h, visibility`` (pedestrians to evaluate only; None without ``gt/gt.txt``)."""

    name: str
    frame_rate: float
    length: int
    width: int
    height: int
    image_dir: Path
    image_ext: str
    detections: np.ndarray
    gt: np.ndarray | None

    def image_path(self, frame: int) -> Path:
        return self.image_dir / f"{int(frame):06d}{self.image_ext}"


def _read_csv(path: Path, min_cols: int) -> np.ndarray:
    rows = np.loadtxt(path, delimiter=",", ndmin=2) if path.stat().st_size else np.zeros((0, min_cols))
    if rows.shape[1] < min_cols:
        raise ValueError(f"{path}: expected at least {min_cols} comma-separated columns, found {rows.shape[1]}")
    return rows


def load_mot_sequence(seq_dir, *, min_score: float | None = None) -> MotSequence:
    """Read a MOT17 sequence folder, e.g. ``<data_root>/MOT17/train/MOT17-02-FRCNN``.

    ``det/det.txt``: ``frame, -1, x, y, w, h, score, ...`` (public detections); boxes below ``min_score``
    are dropped. ``gt/gt.txt`` (train split only): ``frame, id, x, y, w, h, consider, class, visibility``;
    as in the MOT17 evaluation only rows with ``consider == 1`` and class 1 (pedestrian) are kept.
    (The official kit also ignores hypotheses matched to distractor classes; we drop those gt rows.)
    """
    seq_dir = Path(seq_dir)
    info_path = seq_dir / "seqinfo.ini"
    if not info_path.is_file():
        raise FileNotFoundError(f"{info_path} not found: point to a MOT17 sequence folder containing "
                                "seqinfo.ini, det/det.txt, gt/gt.txt and img1/")
    parser = configparser.ConfigParser()
    parser.read(info_path)
    if "Sequence" not in parser:
        raise ValueError(f"{info_path} has no [Sequence] section")
    s = parser["Sequence"]
    det_path = seq_dir / "det" / "det.txt"
    if not det_path.is_file():
        raise FileNotFoundError(f"{det_path} not found: MOT17 sequences ship public detections in det/det.txt")
    det = _read_csv(det_path, 7)
    det = det[:, [0, 2, 3, 4, 5, 6]]
    if min_score is not None:
        det = det[det[:, 5] >= min_score]
    gt_path = seq_dir / "gt" / "gt.txt"
    gt = None
    if gt_path.is_file():
        raw = _read_csv(gt_path, 9)
        keep = (raw[:, 6] == 1) & (raw[:, 7] == 1)
        gt = raw[keep][:, [0, 1, 2, 3, 4, 5, 8]]
    return MotSequence(name=s.get("name", seq_dir.name), frame_rate=float(s.get("frameRate", "30")),
                       length=int(s["seqLength"]), width=int(s["imWidth"]), height=int(s["imHeight"]),
                       image_dir=seq_dir / s.get("imDir", "img1"), image_ext=s.get("imExt", ".jpg"),
                       detections=det, gt=gt)


def crop_boxes(image, boxes, size: int) -> np.ndarray:
    """Crops of ``boxes`` (rows ``x, y, w, h``) from an ``H x W x C`` image, resized to ``size x size``
    by nearest-neighbour sampling; boxes reaching outside the image are clamped to its border."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be H x W x C, got shape {image.shape}")
    H, W = image.shape[:2]
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    steps = (np.arange(size) + 0.5) / size
    out = np.empty((len(boxes), size, size, image.shape[2]), dtype=image.dtype)
    for k, (x, y, w, h) in enumerate(boxes):
        cols = np.clip(np.floor(x + steps * w), 0, W - 1).astype(int)
        rows = np.clip(np.floor(y + steps * h), 0, H - 1).astype(int)
        out[k] = image[np.ix_(rows, cols)]
    return out
