"""Steady heat conduction with Gaussian heat sources, sparse sensors, and closed-form field reconstructions.

The data of temperature-field-reconstruction (TFR) papers such as Zhang et al., ICONIP 2024 (LNCS 15286,
pp. 211-225) come from the linear PDE

    lambda * (T_xx + T_yy) + sum_i f_i(x, y) = 0  on the square [0, L]^2,   T = T_D on the boundary,

with Gaussian sources ``f_i = sign * c_i * exp(-((x - a_i)^2 + (y - b_i)^2) / width)``. A *layout* is the
set of source centres ``(a_i, b_i)``; the intensities ``c_i`` vary from sample to sample.

* :class:`HeatSolver` discretises the Laplacian with the 5-point finite-difference stencil on an ``n x n``
  node grid (boundary nodes included, Dirichlet there), factorises it once with SciPy's sparse LU, and
  returns each layout's *unit responses* ``G_i`` (the field of source ``i`` with ``c_i = 1``). Because the
  PDE is linear, every sample of that layout is exactly ``T = T_D + sum_i c_i G_i``: one factorisation and
  four triangular solves per layout, then microseconds per sample.
* :func:`sensor_grid`, :func:`nearest_sensor_map` and :func:`voronoi_image` turn a 4 x 4 grid of sensor
  readings into the Voronoi-tessellated image of Fukami et al. (Nat. Mach. Intell. 3, 2021).
* :func:`context_least_squares` is the closed-form in-context learner: given ``m`` example fields of a
  layout and new sensor readings, it finds the combination of the examples that matches the readings. With
  ``m`` at least the number of sources (and generic intensities) the examples span the layout's field
  space and the reconstruction is exact; with the true ``G_i`` as "examples" it is the oracle.
* :func:`relative_errors` gives the paper's two metrics, mean and max absolute error relative to the
  field's mean magnitude.

SciPy has no ready Poisson problem builder for this stencil, hence the few lines of sparse assembly; the
solver is checked against a manufactured solution in ``tests/test_heatfield.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

__all__ = ["SOURCE_SIGNS", "HeatSolver", "gaussian_bump", "random_layouts", "sample_intensities",
           "sensor_grid", "nearest_sensor_map", "voronoi_image", "context_least_squares", "relative_errors"]

# "physical": sources heat the plate (T rises above T_D); "paper": Eq. (5)-(6) exactly as printed, where
# f = -c exp(...) enters "lambda Laplace(T) + f = 0", so the field dips below T_D (a sign slip, see notes).
SOURCE_SIGNS = {"physical": 1.0, "paper": -1.0}


def _check_positive_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def gaussian_bump(x: np.ndarray, y: np.ndarray, a: float, b: float, width: float = 0.05) -> np.ndarray:
    """``exp(-((x - a)^2 + (y - b)^2) / width)``: the shape of one source of unit intensity (paper's Eq. 5)."""
    return np.exp(-((x - a) ** 2 + (y - b) ** 2) / width)


@dataclass
class HeatSolver:
    """Finite-difference solver of ``conductivity * Laplace(T) = -sign * q`` with ``T = 0`` on the boundary.

    ``n`` nodes per side on ``[0, length]^2`` (spacing ``h = length / (n - 1)``); the ``(n - 2)^2`` interior
    nodes are the unknowns. Fields are returned as ``(n, n)`` arrays indexed ``[row = y, col = x]``, with
    zeros on the boundary; add ``T_D`` for a non-zero boundary temperature (a constant solves the
    homogeneous equation, so it simply shifts the field).
    """

    n: int = 32
    length: float = 2.0
    conductivity: float = 1.0
    width: float = 0.05
    sign: str = "physical"

    def __post_init__(self):
        self.n = _check_positive_int("n", self.n, 4)
        if not self.length > 0 or not self.conductivity > 0 or not self.width > 0:
            raise ValueError(f"length, conductivity and width must be > 0, got {self.length}, "
                             f"{self.conductivity}, {self.width}")
        if self.sign not in SOURCE_SIGNS:
            raise ValueError(f"sign={self.sign!r} is not allowed; use one of {sorted(SOURCE_SIGNS)}")
        n, h = self.n, self.length / (self.n - 1)
        self.h = h
        coords = np.linspace(0.0, self.length, n)
        self.x, self.y = np.meshgrid(coords, coords)  # x varies along columns, y along rows
        m = n - 2
        second = sp.diags([np.ones(m - 1), -2.0 * np.ones(m), np.ones(m - 1)], [-1, 0, 1]) / h ** 2
        eye = sp.identity(m)
        # Row-major flattening of the interior: index = row * m + col, so x-derivatives act within a row.
        self.matrix = (self.conductivity * (sp.kron(eye, second) + sp.kron(second, eye))).tocsc()
        self._lu = splu(self.matrix)

    def solve(self, source: np.ndarray) -> np.ndarray:
        """The field for a source density ``q`` given on the ``(n, n)`` grid (or a stack ``(k, n, n)``)."""
        q = np.asarray(source, dtype=float)
        single = q.ndim == 2
        q = q[None] if single else q
        if q.shape[-2:] != (self.n, self.n):
            raise ValueError(f"source must have shape (n, n) or (k, n, n) with n={self.n}, got {q.shape}")
        rhs = -SOURCE_SIGNS[self.sign] * q[:, 1:-1, 1:-1].reshape(len(q), -1).T  # (interior, k)
        interior = self._lu.solve(np.ascontiguousarray(rhs))
        out = np.zeros_like(q)
        out[:, 1:-1, 1:-1] = interior.T.reshape(len(q), self.n - 2, self.n - 2)
        return out[0] if single else out

    def unit_responses(self, centres: np.ndarray) -> np.ndarray:
        """``G`` with shape ``(k, n, n)``: the field of each unit-intensity source centred at ``centres[k]``."""
        centres = np.asarray(centres, dtype=float).reshape(-1, 2)
        bumps = np.stack([gaussian_bump(self.x, self.y, a, b, self.width) for a, b in centres])
        return self.solve(bumps)


def random_layouts(rng: np.random.Generator, n_layouts: int, n_sources: int = 4,
                   length: float = 2.0) -> np.ndarray:
    """Source centres ``(n_layouts, n_sources, 2)``, uniform on the square (the paper's layouts)."""
    _check_positive_int("n_layouts", n_layouts, 1)
    _check_positive_int("n_sources", n_sources, 1)
    return rng.uniform(0.0, length, size=(n_layouts, n_sources, 2))


def sample_intensities(rng: np.random.Generator, shape, low: float = 1000.0, high: float = 6000.0) -> np.ndarray:
    """Source intensities ``c ~ U[low, high]`` (the paper: U[1000, 6000])."""
    return rng.uniform(low, high, size=shape)


def sensor_grid(n: int, per_side: int = 4) -> np.ndarray:
    """``(per_side^2, 2)`` integer (row, col) positions of a regular sensor grid, at cell centres of a
    ``per_side x per_side`` partition of the ``n x n`` grid (rounded to the nearest node)."""
    _check_positive_int("n", n, 2)
    _check_positive_int("per_side", per_side, 1)
    if per_side > n:
        raise ValueError(f"per_side={per_side} sensors per side do not fit on an n={n} grid")
    idx = np.rint((np.arange(per_side) + 0.5) * (n - 1) / per_side).astype(int)
    rows, cols = np.meshgrid(idx, idx, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1)


def nearest_sensor_map(n: int, sensors: np.ndarray) -> np.ndarray:
    """``(n, n)`` map of the index of the nearest sensor to each node (Euclidean; ties go to the lower index).

    This is the Voronoi tessellation of the grid by the sensors.
    """
    sensors = np.asarray(sensors)
    if sensors.ndim != 2 or sensors.shape[1] != 2 or len(sensors) == 0:
        raise ValueError(f"sensors must have shape (s, 2) with s >= 1, got {sensors.shape}")
    rows, cols = np.mgrid[0:n, 0:n]
    d2 = (rows[..., None] - sensors[:, 0]) ** 2 + (cols[..., None] - sensors[:, 1]) ** 2
    return np.argmin(d2, axis=-1)


def voronoi_image(readings: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """Spread readings ``(..., s)`` over their Voronoi cells: an array ``(..., n, n)``."""
    readings = np.asarray(readings)
    if readings.shape[-1] <= int(nearest.max()):
        raise ValueError(f"readings have {readings.shape[-1]} sensors but the map refers to sensor {nearest.max()}")
    return readings[..., nearest]


def context_least_squares(examples: np.ndarray, readings: np.ndarray, sensors: np.ndarray,
                          offset: float = 0.0, rcond: float = 1e-10) -> np.ndarray:
    """Reconstruct fields from sensor readings as the least-squares combination of example fields.

    ``examples`` has shape ``(m, n, n)`` (the context: fields of the same layout, or the unit responses for
    the oracle) or ``(b, m, n, n)`` (one context per query); ``readings`` has shape ``(b, s)``; ``sensors``
    the ``(s, 2)`` positions. With ``E_j`` the examples minus ``offset`` (= ``T_D``), each query's
    coefficients solve ``min_w || sum_j w_j E_j[sensors] - (readings - offset) ||_2`` (minimum-norm when
    underdetermined) and the answer is ``offset + sum_j w_j E_j``. For a linear PDE the fields of a layout
    with k sources form a k-dimensional space, so ``m >= k`` generic examples give the exact field.
    """
    ex = np.asarray(examples, dtype=float)
    obs = np.atleast_2d(np.asarray(readings, dtype=float))
    sensors = np.asarray(sensors)
    if ex.ndim == 3:
        ex = np.broadcast_to(ex, (len(obs),) + ex.shape)
    if ex.ndim != 4 or ex.shape[0] != len(obs):
        raise ValueError(f"examples must have shape (m, n, n) or (b, m, n, n) with b = {len(obs)} queries, "
                         f"got {np.shape(examples)}")
    if obs.shape[1] != len(sensors):
        raise ValueError(f"readings have {obs.shape[1]} values per query but there are {len(sensors)} sensors")
    ex = ex - offset
    design = ex[:, :, sensors[:, 0], sensors[:, 1]].transpose(0, 2, 1)  # (b, s, m)
    pinv = np.linalg.pinv(design, rcond=rcond)  # (b, m, s), batched minimum-norm least squares
    weights = np.einsum("bms,bs->bm", pinv, obs - offset)
    return offset + np.einsum("bm,bmij->bij", weights, ex)


def relative_errors(pred: np.ndarray, true: np.ndarray, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample relative mean and max absolute errors, both divided by the mean ``|true - offset|``.

    The paper defines MAE ``= ||T_hat - T|| / |T|`` and Max-AE ``= ||T_hat - T||_inf / |T|`` without naming
    the first norm or ``|T|``; we read them as the mean absolute error and the max absolute error of a
    sample, each divided by the sample's mean temperature rise over the boundary value ``offset``.
    """
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    if pred.shape != true.shape or pred.ndim < 2:
        raise ValueError(f"pred and true must be fields of equal shape (..., n, n), got {pred.shape} and {true.shape}")
    err = np.abs(pred - true).reshape(*pred.shape[:-2], -1)
    scale = np.abs(true - offset).reshape(*true.shape[:-2], -1).mean(-1)
    if np.any(scale == 0):
        raise ValueError("a true field equals the offset everywhere; its relative error is undefined")
    return err.mean(-1) / scale, err.max(-1) / scale
