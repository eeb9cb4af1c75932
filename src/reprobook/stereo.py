"""Rectified stereo: offline data, cost volumes, the left-right check, sub-pixel refinement and metrics.

Conventions (those of Middlebury and KITTI): images are 2-D float arrays ``(H, W)``; a pixel ``(y, x)`` of
the left (reference) image matches the pixel ``(y, x - d)`` of the right image, ``d >= 0`` its disparity.
A *similarity volume* ``S[d, y, x]`` (higher = better match) holds the score of left pixel ``(y, x)``
against right pixel ``(y, x - d)``; entries whose partner falls outside the image are ``-inf``. Missing
disparities (no ground truth, or removed by the left-right check) are ``NaN``.

Everything is hand-written NumPy because it is a few lines each and no installed library offers the
left-right check or the arctan sub-pixel rule of Miclea et al.; the classical baseline (semi-global
matching) comes from OpenCV in the chapter that needs it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# --------------------------------------------------------------------------------------------- volumes
def right_view_volume(sim_left: np.ndarray) -> np.ndarray:
    """The similarity volume of the right view from the left one, without recomputing any score.

    The right pixel ``(y, x)`` at disparity ``d`` pairs with the left pixel ``(y, x + d)``, so
    ``S_R[d, y, x] = S_L[d, y, x + d]`` (``-inf`` where ``x + d`` leaves the image).
    """
    sim_left = np.asarray(sim_left)
    if sim_left.ndim != 3:
        raise ValueError(f"sim_left must have shape (D, H, W), got {sim_left.shape}")
    D, H, W = sim_left.shape
    out = np.full_like(sim_left, -np.inf, dtype=float)
    for d in range(D):
        out[d, :, : W - d] = sim_left[d, :, d:]
    return out


def winner_takes_all(sim: np.ndarray) -> np.ndarray:
    """Integer disparity of the best score per pixel (the first of equal scores)."""
    return np.asarray(sim).argmax(axis=0)


def left_right_check(disp_left: np.ndarray, disp_right: np.ndarray, threshold: float = 1.1) -> np.ndarray:
    """Mask of consistent left pixels, the paper's Eq. 3 negated.

    Left pixel ``(y, x)`` with disparity ``d`` is inconsistent when ``|D_L(y, x) - D_R(y, x - d)| > threshold``
    or when ``x - d`` falls outside the image (its partner cannot be looked up). Disparities are rounded to
    the nearest pixel for the look-up. NaN disparities are inconsistent.
    """
    dl, dr = np.asarray(disp_left, dtype=float), np.asarray(disp_right, dtype=float)
    if dl.shape != dr.shape or dl.ndim != 2:
        raise ValueError(f"disp_left and disp_right must be equal 2-D shapes, got {dl.shape} and {dr.shape}")
    H, W = dl.shape
    finite = np.isfinite(dl)
    xr = np.arange(W)[None, :] - np.rint(np.where(finite, dl, 0)).astype(int)
    inside = finite & (xr >= 0) & (xr < W)
    partner = np.take_along_axis(dr, np.clip(xr, 0, W - 1), axis=1)
    with np.errstate(invalid="ignore"):
        return inside & (np.abs(dl - partner) <= threshold)


def winner_and_check_torch(sim_left, threshold: float = 1.1):
    """Torch version of winner-takes-all plus the left-right check, for volumes already on a GPU.

    Same results as :func:`winner_takes_all` on the left and right volumes followed by
    :func:`left_right_check` (integer disparities; ties go to the smallest disparity in both).
    Returns ``(disp_left, consistent)`` as tensors of shape ``(H, W)``.
    """
    import torch

    if sim_left.ndim != 3:
        raise ValueError(f"sim_left must have shape (D, H, W), got {tuple(sim_left.shape)}")
    D, H, W = sim_left.shape
    right = torch.full_like(sim_left, -float("inf"))
    for d in range(D):
        right[d, :, : W - d] = sim_left[d, :, d:]
    dl, dr = sim_left.argmax(0), right.argmax(0)
    xr = torch.arange(W, device=sim_left.device)[None, :] - dl
    partner = torch.gather(dr, 1, xr.clamp(min=0))
    return dl, (xr >= 0) & ((dl - partner).abs() <= threshold)


def subpixel_arctan(sim: np.ndarray, disp: np.ndarray, variant: str = "corrected") -> np.ndarray:
    """Sub-pixel disparities by the arctan rule of the paper's Eq. 5 (after Miclea et al.).

    With costs ``c = -S`` and the integer winner ``d``: ``ld = c[d-1] - c[d]`` and ``rd = c[d+1] - c[d]``
    (both >= 0 at a minimum). ``variant="corrected"`` (our default) moves towards the cheaper neighbour by
    at most half a pixel and leaves ``d`` when ``ld == rd``::

        ld <= rd:  d - 1/2 + (2/pi) atan(ld / rd)        in [d - 1/2, d]
        otherwise: d + 1/2 - (2/pi) atan(rd / ld)        in [d, d + 1/2]

    ``variant="printed"`` is Eq. 5 as printed (no 2/pi factor, and the second branch with ``-1/2 + atan``),
    which shifts every pixel by up to +0.29 px and moves the wrong way in the second branch. Pixels at the
    ends of the disparity range, with a non-finite neighbour, or with ``ld == rd == 0`` keep ``d``.
    """
    if variant not in ("corrected", "printed"):
        raise ValueError(f"variant={variant!r}: allowed are 'corrected' or 'printed'")
    sim = np.asarray(sim, dtype=float)
    d = np.asarray(disp).astype(int)
    D = sim.shape[0]
    dm, dp = np.clip(d - 1, 0, D - 1), np.clip(d + 1, 0, D - 1)
    c0 = -np.take_along_axis(sim, d[None], 0)[0]
    ld = -np.take_along_axis(sim, dm[None], 0)[0] - c0
    rd = -np.take_along_axis(sim, dp[None], 0)[0] - c0
    ok = (d > 0) & (d < D - 1) & np.isfinite(ld) & np.isfinite(rd) & ((ld > 0) | (rd > 0))
    ld, rd = np.where(ok, ld, 1.0), np.where(ok, rd, 1.0)
    left = ld <= rd
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(left, ld / rd, rd / ld)
    if variant == "corrected":
        offset = np.where(left, -0.5 + (2 / np.pi) * np.arctan(ratio), 0.5 - (2 / np.pi) * np.arctan(ratio))
    else:
        offset = -0.5 + np.arctan(ratio)
    return np.where(ok, d + offset, d.astype(float))


# --------------------------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class DisparityScores:
    """Pixel counts from which every reported rate follows (so that images can be pooled by adding)."""

    n_gt: int  # pixels with ground truth
    n_pred: int  # of those, pixels with a prediction (consistent)
    n_wrong: dict  # tau -> predicted pixels with |error| >= tau
    n_correct_strict: dict  # tau -> predicted pixels with |error| < tau

    @classmethod
    def empty(cls, taus=(1, 2, 3, 4)) -> "DisparityScores":
        """Zero counts: the start of a sum over images."""
        return cls(0, 0, {t: 0 for t in taus}, {t: 0 for t in taus})

    def __add__(self, other: "DisparityScores") -> "DisparityScores":
        return DisparityScores(self.n_gt + other.n_gt, self.n_pred + other.n_pred,
                               {t: self.n_wrong[t] + other.n_wrong[t] for t in self.n_wrong},
                               {t: self.n_correct_strict[t] + other.n_correct_strict[t] for t in self.n_wrong})

    def point_error(self, tau) -> float:
        """The tau-point error (Eq. 4), in % of the predicted pixels that have ground truth."""
        return 100.0 * self.n_wrong[tau] / self.n_pred if self.n_pred else float("nan")

    def completion(self) -> float:
        """% of ground-truth pixels that carry a prediction."""
        return 100.0 * self.n_pred / self.n_gt if self.n_gt else float("nan")

    def recall(self, tau) -> float:
        """Share of ground-truth pixels predicted within tau: completeness of the correct reconstruction."""
        return self.n_correct_strict[tau] / self.n_gt if self.n_gt else float("nan")

    def precision(self, tau) -> float:
        """Share of predicted pixels within tau: accuracy of what was reconstructed."""
        return self.n_correct_strict[tau] / self.n_pred if self.n_pred else float("nan")

    def f_score(self, tau) -> float:
        p, r = self.precision(tau), self.recall(tau)
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score_disparity(pred: np.ndarray, gt: np.ndarray, taus=(1, 2, 3, 4)) -> DisparityScores:
    """Count ground-truth pixels (finite ``gt``), predicted ones (finite ``pred`` there) and errors >= tau."""
    pred, gt = np.asarray(pred, dtype=float), np.asarray(gt, dtype=float)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    has_gt = np.isfinite(gt)
    has_pred = has_gt & np.isfinite(pred)
    err = np.abs(pred[has_pred] - gt[has_pred])
    return DisparityScores(int(has_gt.sum()), int(has_pred.sum()),
                           {t: int((err >= t).sum()) for t in taus}, {t: int((err < t).sum()) for t in taus})


# --------------------------------------------------------------------------------------------- data
@dataclass
class StereoPair:
    """A rectified pair with the left view's ground-truth disparity (NaN where unknown)."""

    name: str
    left: np.ndarray
    right: np.ndarray
    disp: np.ndarray
    max_disp: int  # disparities 0 .. max_disp - 1 are searched


def _texture(rng: np.random.Generator, shape, scales=(1.0, 2.0, 4.0)) -> np.ndarray:
    """Band-limited noise: a sum of Gaussian-smoothed white noise at a few scales, standardised."""
    from scipy.ndimage import gaussian_filter

    t = sum(gaussian_filter(rng.standard_normal(shape), s) * s for s in scales)
    return (t - t.mean()) / t.std()


def _sample_rows(tex: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``tex[y, x[y, j]]`` for fractional ``x`` (linear interpolation along each row)."""
    x0 = np.floor(x).astype(int)
    w = x - x0
    x0 = np.clip(x0, 0, tex.shape[1] - 2)
    a = np.take_along_axis(tex, x0, axis=1)
    b = np.take_along_axis(tex, x0 + 1, axis=1)
    return (1 - w) * a + w * b


def synthetic_urban_pair(rng: np.random.Generator, height: int = 64, width: int = 128, max_disp: int = 16,
                         n_buildings: int = 6, noise: float = 0.08, name: str = "synthetic") -> StereoPair:
    """A nadir "city block": a sloped textured ground plane and flat-roofed rectangular buildings.

    Every surface carries its own band-limited texture, fixed to the scene (so the right view sees it
    shifted by the surface's disparity); roofs get weaker texture (contrast 0.05 to 1) to include the
    nearly homogeneous areas that trouble matching; the ground's disparity grows linearly down the
    image (a slanted plane, fractional disparities). The right view is rendered with a depth order
    (larger disparity in front), so it has true occlusions, plus a gain and offset change and pixel
    noise. Left pixels whose partner leaves the right image (``x - d < 0``) get no ground truth.
    """
    H, W, D = int(height), int(width), int(max_disp)
    if H < 16 or W < 32 or D < 8:
        raise ValueError(f"height >= 16, width >= 32 and max_disp >= 8 are needed, got {H}, {W}, {D}")
    pad = D + 2  # textures are indexed at x + d, so they extend past the right border
    yy = np.arange(H, dtype=float)[:, None]
    d_ground_top, d_ground_bottom = rng.uniform(0.5, 2.0), rng.uniform(2.0, 4.0)
    ground = d_ground_top + (d_ground_bottom - d_ground_top) * yy / (H - 1)  # (H, 1)
    surfaces = [(np.broadcast_to(ground, (H, W)), np.ones((H, W), bool), _texture(rng, (H, W + pad)), True)]
    roof_max = D - 1.5
    for _ in range(n_buildings):
        h, w = rng.integers(H // 6, H // 2), rng.integers(W // 10, W // 4)
        y0, x0 = rng.integers(0, H - h), rng.integers(0, W - w)
        mask = np.zeros((H, W), bool)
        mask[y0:y0 + h, x0:x0 + w] = True
        d_roof = rng.uniform(d_ground_bottom + 2.0, roof_max)
        tex = rng.uniform(0.05, 1.0) * _texture(rng, (H, W + pad)) + rng.uniform(-0.8, 0.8)
        surfaces.append((np.full((H, W), d_roof), mask, tex, False))
    surfaces.sort(key=lambda s: float(s[0].max()))  # paint far to near

    xs = np.broadcast_to(np.arange(W, dtype=float), (H, W))
    left, disp = np.zeros((H, W)), np.zeros((H, W))
    right, disp_right = np.zeros((H, W)), np.zeros((H, W))
    for d_map, mask, tex, is_ground in surfaces:
        # left view: the surface covers its footprint; texture coordinate = left x
        left = np.where(mask, _sample_rows(tex, xs), left)
        disp = np.where(mask, d_map, disp)
        # right view: right pixel x' sees this surface when the left pixel x' + d is inside its footprint
        xl = xs + d_map
        xl_idx = np.clip(np.rint(xl).astype(int), 0, W - 1)
        # the ground continues past the left image's right border; a roof must be under x' + d
        covered = np.ones((H, W), bool) if is_ground else np.take_along_axis(mask, xl_idx, 1) & (xl <= W - 1)
        right = np.where(covered, _sample_rows(tex, xl), right)
        disp_right = np.where(covered, d_map, disp_right)
    right = 0.9 * right + 0.1  # a small radiometric change between the two cameras
    left = left + noise * rng.standard_normal((H, W))
    right = right + noise * rng.standard_normal((H, W))
    disp = np.where(xs - disp >= 0, disp, np.nan)
    return StereoPair(name, left.astype(np.float32), right.astype(np.float32), disp.astype(np.float32), D)


def downscale_pair(left: np.ndarray, right: np.ndarray, disp: np.ndarray, factor: int):
    """Shrink a pair by an integer factor: block means of the images, block medians of the disparity
    divided by ``factor`` (NaN for a block with any unknown pixel, so no value mixes known and unknown)."""
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")
    H, W = (np.asarray(disp).shape[0] // factor) * factor, (np.asarray(disp).shape[1] // factor) * factor

    def blocks(a):
        a = np.asarray(a, dtype=float)[:H, :W]
        return a.reshape(H // factor, factor, W // factor, factor).transpose(0, 2, 1, 3).reshape(
            H // factor, W // factor, factor * factor)

    d = blocks(np.where(np.isfinite(disp), disp, np.nan))
    with np.errstate(invalid="ignore"):
        small_disp = np.where(np.isnan(d).any(-1), np.nan, np.median(d, -1) / factor)
    return blocks(left).mean(-1), blocks(right).mean(-1), small_disp


def load_motorcycle(factor: int = 4) -> StereoPair:
    """Middlebury 2014 "Motorcycle" as shipped in scikit-image (no download), grey, shrunk by ``factor``.

    The full pair is 500 x 741 with disparities 7 to 60 px (unknown ones are ``inf`` in scikit-image).
    """
    from skimage import data
    from skimage.color import rgb2gray

    left, right, disp = data.stereo_motorcycle()
    l_small, r_small, d_small = downscale_pair(rgb2gray(left), rgb2gray(right), disp, factor)
    max_disp = int(np.ceil(np.nanmax(d_small))) + 2
    return StereoPair(f"motorcycle/{factor}", l_small.astype(np.float32), r_small.astype(np.float32),
                      d_small.astype(np.float32), max_disp)
