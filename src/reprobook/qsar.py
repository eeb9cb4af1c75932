"""QSAR regression by a "sample-driven" binning tree (chapter icpr2024-03), with its building blocks.

What is here:

- :func:`descriptor_table`, :func:`clean_descriptors`, :func:`symlog`: RDKit's 2-D descriptors of a list of
  molecules as a table, the paper's cleaning (drop rows with invalid values, drop constant columns) and a
  signed log that tames descriptors spanning many decades (e.g. ``Ipc``).
- :func:`fod_bins` (the paper's Eq. 1), :func:`wmsd` (Eq. 2) and :func:`build_bin_tree`: the training
  targets, sorted, are cut wherever two neighbours differ by more than a threshold; a bin whose weighted
  squared range is still large is cut again with a finer threshold, level by level.
- :func:`leaf_statistic`: the five statistics of Eqs. 3-7 that turn the predictions pooled in a leaf bin
  into one value, in a corrected form and, switchable, exactly as printed.
- :func:`closest_boundary` (the paper's "range interval" evaluation, which reads the true target) and
  :func:`in_bin` (Eq. 8, corrected).
- :class:`SampleDriveRegressor`: the whole method. Every internal node of the tree gets a classifier that
  routes a molecule to one of its child bins; the classifier, the feature ranking and the number of kept
  features are chosen per node by cross-validated weighted F1. A molecule is routed to a leaf and gets
  the leaf's value (a statistic of the leaf regressors' predictions, or a within-leaf linear model).
- :func:`regression_report`: R2, RMSE, MAE and RPD.

Hand-written because no library builds this tree; every estimator inside is scikit-learn's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Iterable, Sequence

import numpy as np

__all__ = ["STATISTICS", "FORMS", "ROUTING_MODELS", "SELECTORS", "LEAF_REGRESSORS", "descriptor_table",
           "clean_descriptors", "symlog", "fod_bins", "wmsd", "BinNode", "build_bin_tree", "leaf_statistic",
           "closest_boundary", "in_bin", "regression_report", "Router", "select_router",
           "SampleDriveRegressor"]

STATISTICS = ("mean", "fod_cut", "midrange", "iqm", "midhinge")
FORMS = ("corrected", "as_printed")
ROUTING_MODELS = ("knn", "svc", "rf")
SELECTORS = ("chi2", "mutual_info", "f_classif")
LEAF_REGRESSORS = ("knn", "svr", "rf", "linear")


# ------------------------------------------------------------------------------------------ descriptors

def descriptor_table(mols: Iterable):
    """One row per molecule (SMILES string or RDKit molecule), one column per RDKit 2-D descriptor.

    Non-finite descriptor values (RDKit returns NaN for a few descriptors on unusual molecules) are NaN.
    A SMILES string RDKit cannot parse raises :class:`reprobook.molecules.MoleculeError` naming its position.
    """
    import pandas as pd
    from rdkit import RDLogger
    from rdkit.Chem import Descriptors

    from .molecules import MoleculeError, parse_smiles

    rows = []
    RDLogger.DisableLog("rdApp.*")  # some descriptors warn on exotic atoms; the NaNs they leave are handled
    try:
        for k, m in enumerate(mols):
            if isinstance(m, str):
                try:
                    m = parse_smiles(m)
                except MoleculeError as e:
                    raise MoleculeError(f"molecule {k}: {e}") from None
            elif m is None:
                raise MoleculeError(f"molecule {k} is None (an unparsed molecule); give SMILES or an RDKit Mol")
            rows.append(Descriptors.CalcMolDescriptors(m, missingVal=np.nan))
    finally:
        RDLogger.EnableLog("rdApp.*")
    df = pd.DataFrame(rows, dtype=float)
    return df.where(np.isfinite(df.to_numpy()), np.nan)


def clean_descriptors(df, invalid: str = "rows"):
    """The paper's cleaning: drop molecules (``invalid="rows"``) or descriptors (``"columns"``) with any
    invalid value, then drop the descriptors that are constant. Returns ``(table, kept_row_mask)``."""
    if invalid not in ("rows", "columns"):
        raise ValueError(f"invalid={invalid!r}; allowed: 'rows' (the paper) or 'columns'")
    bad = df.isna()
    if invalid == "rows":
        keep = ~bad.any(axis=1).to_numpy()
        out = df.loc[keep]
    else:
        keep = np.ones(len(df), dtype=bool)
        out = df.loc[:, ~bad.any(axis=0)]
    if len(out) == 0:
        raise ValueError("every molecule has an invalid descriptor; try invalid='columns'")
    varying = out.nunique(axis=0) > 1  # variance threshold 0, as in the paper
    return out.loc[:, varying].reset_index(drop=True), keep


def symlog(x):
    """``sign(x) * log(1 + |x|)``: monotone, exact at 0, and turns a 1e12 descriptor into about 28."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


# -------------------------------------------------------------------------------------------- binning

def fod_bins(y_sorted, threshold: float) -> np.ndarray:
    """Eq. 1: bin labels ``0, 1, ...`` of ascending targets; a new bin starts after a gap ``> threshold``."""
    y = np.asarray(y_sorted, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"fod_bins needs a non-empty 1-D array of targets, got shape {y.shape}")
    if np.any(np.diff(y) < 0):
        raise ValueError("fod_bins needs targets sorted in ascending order (the paper sorts them first)")
    if not threshold >= 0:
        raise ValueError(f"FOD threshold must be >= 0, got {threshold!r}")
    return np.concatenate([[0], np.cumsum(np.diff(y) > threshold)]).astype(int)


def wmsd(n_in_bin: int, lo: float, hi: float, n_total: int) -> float:
    """Eq. 2: ``w_i (max - min)^2 / sum(w)``, the bin's squared range weighted by its share of samples."""
    if n_total <= 0 or n_in_bin < 0:
        raise ValueError(f"wmsd needs n_total > 0 and n_in_bin >= 0, got {n_in_bin}, {n_total}")
    return float(n_in_bin * (hi - lo) ** 2 / n_total)


@dataclass
class BinNode:
    """A bin: the rows it holds (positions in the target vector the tree was built from), its target range,
    its level (0 for the root) and, if it was split, its children in ascending target order."""

    name: str
    level: int
    index: np.ndarray
    lo: float
    hi: float
    wmsd: float | None = None
    children: list["BinNode"] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def n(self) -> int:
        return int(self.index.size)

    def walk(self):
        """All nodes, parents before children."""
        yield self
        for c in self.children:
            yield from c.walk()

    def leaves(self) -> list["BinNode"]:
        return [n for n in self.walk() if n.is_leaf]


def _split(node: BinNode, y: np.ndarray, threshold: float) -> list[BinNode]:
    ys = y[node.index]  # node.index is kept in ascending target order
    labels = fod_bins(ys, threshold)
    prefix = "" if node.level == 0 else node.name + "-"
    return [BinNode(f"{prefix}{b + 1}", node.level + 1, node.index[labels == b],
                    float(ys[labels == b].min()), float(ys[labels == b].max())) for b in np.unique(labels)]


def build_bin_tree(y, fod_thresholds: Sequence[float], wmsd_thresholds: Sequence[float | None]) -> BinNode:
    """The paper's multi-level binning of the targets ``y`` (Eqs. 1-2, Table 1).

    Level 1 cuts the sorted targets with ``fod_thresholds[0]``. At level ``j >= 2`` every bin made at level
    ``j - 1`` whose WMSD (with ``sum(w) = len(y)``) exceeds ``wmsd_thresholds[j - 1]`` is cut again with
    ``fod_thresholds[j - 1]``; a bin the finer threshold does not cut stays a leaf. ``wmsd_thresholds[0]``
    is unused (the paper prints a dash). Bins are named like the paper's: ``"15"``, then ``"15-2"``.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError("build_bin_tree needs a non-empty 1-D array of finite targets")
    if len(fod_thresholds) == 0 or len(fod_thresholds) != len(wmsd_thresholds):
        raise ValueError(f"one FOD and one WMSD threshold per level, got {len(fod_thresholds)} and "
                         f"{len(wmsd_thresholds)}")
    order = np.argsort(y, kind="stable")
    root = BinNode("root", 0, order, float(y.min()), float(y.max()))
    children = _split(root, y, fod_thresholds[0])
    if len(children) > 1:
        root.children = children
    frontier = root.children
    for level in range(1, len(fod_thresholds)):
        nxt = []
        for node in frontier:
            node.wmsd = wmsd(node.n, node.lo, node.hi, y.size)
            if node.wmsd > wmsd_thresholds[level]:
                kids = _split(node, y, fod_thresholds[level])
                if len(kids) > 1:
                    node.children = kids
                    nxt.extend(kids)
        frontier = nxt
    return root


# ------------------------------------------------------------------------------------- leaf statistics

def leaf_statistic(values, name: str, form: str = "corrected") -> float:
    """One value from the predictions pooled in a leaf (Eqs. 3-7).

    ``corrected``: mean; mean of the values between the two largest gaps of the sorted values (Eq. 4);
    midrange ``(max + min) / 2``; inter-quartile mean (mean of the values within [Q25, Q75]); midhinge
    ``(Q25 + Q75) / 2``. ``as_printed`` follows the paper's typesetting: Eq. 4 and Eq. 6 divide the sum by
    ``k`` (Eq. 4: the 1-based position of the second-largest gap; Eq. 6: the value Q75), Eq. 5 is
    ``(max - min) / 2`` and Eq. 7 ``(Q25 - Q75) / 2``. With fewer than three values Eq. 4 is the mean.
    """
    if name not in STATISTICS:
        raise ValueError(f"statistic {name!r}; allowed: {STATISTICS}")
    if form not in FORMS:
        raise ValueError(f"form {form!r}; allowed: {FORMS}")
    p = np.sort(np.asarray(values, dtype=float).ravel())
    if p.size == 0:
        raise ValueError("leaf_statistic needs at least one value")
    printed = form == "as_printed"
    if name == "mean":
        return float(p.mean())
    if name == "midrange":
        return float((p[-1] - p[0]) / 2 if printed else (p[-1] + p[0]) / 2)
    q25, q75 = np.percentile(p, [25, 75])
    if name == "midhinge":
        return float((q25 - q75) / 2 if printed else (q25 + q75) / 2)
    if name == "iqm":
        inner = p[(p >= q25) & (p <= q75)]
        if printed:
            return float(inner.sum() / q75) if q75 != 0 else float("nan")
        return float(inner.mean())
    # fod_cut: gap g (0-based) lies between p[g] and p[g + 1]
    if p.size < 3:
        return float(p.mean())
    gaps = np.diff(p)
    first, second = np.argsort(-gaps, kind="stable")[:2]
    a, b = sorted((int(first), int(second)))
    if printed:  # sum_{i=j}^{k} p(i) / k with 1-based j, k the positions of the largest and second gap
        return float(p[a:b + 1].sum() / (int(second) + 1))
    return float(p[a + 1:b + 1].mean())  # the block of values bounded by the two cuts


def closest_boundary(y_true, lo, hi) -> np.ndarray:
    """The paper's "range interval" value: the leaf's min or max, whichever is closer to the TRUE target.

    It reads the test label, so it is an oracle, not a prediction; the chapter reports it to show how much
    of the paper's headline it explains. Ties go to ``lo``."""
    y, lo, hi = (np.asarray(a, dtype=float) for a in (y_true, lo, hi))
    return np.where(np.abs(y - lo) <= np.abs(y - hi), lo, hi)


def in_bin(y_true, lo, hi) -> np.ndarray:
    """Eq. 8, corrected (the paper prints "> min and >= max"): ``lo <= y <= hi``."""
    y, lo, hi = (np.asarray(a, dtype=float) for a in (y_true, lo, hi))
    return (y >= lo) & (y <= hi)


def regression_report(y_true, y_pred) -> dict[str, float]:
    """R2, RMSE, MAE and RPD (sample standard deviation of ``y_true`` over RMSE)."""
    y, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y.shape != p.shape or y.size < 2:
        raise ValueError(f"regression_report needs two equal-length arrays of >= 2 values, got {y.shape}, {p.shape}")
    rmse = float(np.sqrt(np.mean((y - p) ** 2)))
    r2 = float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))
    return {"r2": r2, "rmse": rmse, "mae": float(np.mean(np.abs(y - p))),
            "rpd": float(y.std(ddof=1) / rmse) if rmse > 0 else float("inf")}


# --------------------------------------------------------------------------------------------- routing

def _classifier(name: str, n_train: int, seed: int, rf_trees: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    if name == "knn":
        return KNeighborsClassifier(n_neighbors=max(1, min(5, n_train)))
    if name == "svc":
        return SVC()
    if name == "rf":
        return RandomForestClassifier(n_estimators=rf_trees, random_state=seed)
    raise ValueError(f"routing model {name!r}; allowed: {ROUTING_MODELS}")


def _feature_scores(name: str, X: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Supervised feature scores (higher = more useful); undefined scores (constant features) are -inf."""
    import warnings

    from sklearn.feature_selection import chi2, f_classif, mutual_info_classif

    funcs = {"chi2": lambda X, y: chi2(np.clip(X, 0, None), y)[0],  # chi2 needs non-negative features
             "f_classif": lambda X, y: f_classif(X, y)[0],
             "mutual_info": partial(mutual_info_classif, random_state=seed)}
    if name not in funcs:
        raise ValueError(f"feature selector {name!r}; allowed: {SELECTORS}")
    with warnings.catch_warnings():  # constant features inside a bin: sklearn warns, we rank them last
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        s = np.asarray(funcs[name](X, labels), dtype=float)
    return np.where(np.isfinite(s), s, -np.inf)


def _top(scores: np.ndarray, k: int | None) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[: (scores.size if k is None else min(k, scores.size))])


@dataclass
class Router:
    """The classifier of one internal node: which model, which feature ranking, how many features."""

    model: str
    selector: str
    k: int | None  # None: all features
    columns: np.ndarray
    estimator: object
    cv_f1: dict = field(default_factory=dict)  # (model, selector, k) -> mean CV weighted F1

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator.predict(X[:, self.columns])


def select_router(X, labels, *, models: Sequence[str], selectors: Sequence[str], k_grid: Sequence[int | None],
                  folds: int, seed: int, rf_trees: int = 100) -> Router:
    """Choose (model, selector, k) by ``folds``-fold cross-validated weighted F1 and refit on all rows.

    Feature scores are recomputed inside every training fold (no peeking at the validation fold). Ties
    go to the earlier candidate in grid order, so with ``k_grid`` ascending the smallest feature subset
    wins a tie (the paper looks for the "minimal subset"). A node with fewer than ``2 * folds`` rows (or
    ``folds < 2``) is not cross-validated: it takes the first candidate.
    """
    import warnings

    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    candidates = [(m, s, k) for m in models for s in selectors for k in k_grid]
    if not candidates:
        raise ValueError("select_router needs at least one model, selector and k")
    with warnings.catch_warnings():
        # sklearn warns that a target with this many classes "could represent a regression problem": here it
        # does, on purpose (the classes are narrow bins of a continuous target)
        warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
        return _select(X, labels, candidates, folds, seed, rf_trees)


def _select(X, labels, candidates, folds, seed, rf_trees) -> Router:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import KFold

    scores = {c: [] for c in candidates}
    selectors = list(dict.fromkeys(s for _, s, _ in candidates))
    if len(labels) >= 2 * folds and folds >= 2:
        for tr, va in KFold(folds, shuffle=True, random_state=seed).split(X):
            if np.unique(labels[tr]).size < 2:
                for c in candidates:
                    scores[c].append(float(np.mean(labels[va] == labels[tr][0])))
                continue
            fs = {s: _feature_scores(s, X[tr], labels[tr], seed) for s in selectors}
            for m, s, k in candidates:
                cols = _top(fs[s], k)
                est = _classifier(m, len(tr), seed, rf_trees).fit(X[tr][:, cols], labels[tr])
                pred = est.predict(X[va][:, cols])
                scores[(m, s, k)].append(f1_score(labels[va], pred, average="weighted", zero_division=0))
        mean = {c: float(np.mean(v)) for c, v in scores.items()}
        best = max(candidates, key=lambda c: mean[c])  # max keeps the first of equal scores
    else:
        mean, best = {}, candidates[0]
    m, s, k = best
    cols = _top(_feature_scores(s, X, labels, seed), k)
    est = _classifier(m, len(labels), seed, rf_trees).fit(X[:, cols], labels)
    return Router(m, s, k, cols, est, mean)


# ------------------------------------------------------------------------------------------- the model

def _leaf_regressor(name: str, n: int, seed: int, rf_trees: int):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    if name == "knn":
        return KNeighborsRegressor(n_neighbors=max(1, min(5, n)))
    if name == "svr":  # SVR's epsilon is in target units: standardise the target so it means the same everywhere
        return TransformedTargetRegressor(SVR(), transformer=StandardScaler())
    if name == "rf":
        return RandomForestRegressor(n_estimators=rf_trees, random_state=seed)
    if name == "linear":
        return Ridge(alpha=1.0)
    raise ValueError(f"leaf regressor {name!r}; allowed: {LEAF_REGRESSORS}")


class SampleDriveRegressor:
    """The paper's method: a binning tree on the targets, a selected classifier per internal node, and a
    value per leaf.

    ``fit(X, y, router_rows=None)`` bins ``y`` and computes every leaf's values from all rows; the routing
    classifiers learn from ``router_rows`` only (default: all). Passing the test molecules in ``X, y`` with
    ``router_rows`` = the training rows reproduces the reading of the paper in which the bins are made on
    the whole dataset, test targets included (a label leak the chapter measures).

    ``fixed_router=(model, selector, k)`` skips the per-node selection (the ablation "one routing model").
    """

    def __init__(self, *, fod_thresholds, wmsd_thresholds, models=("svc",), selectors=("f_classif",),
                 k_grid=(None,), folds=5, seed=0, leaf_regressors=("knn", "svr", "linear"), rf_trees=100,
                 fixed_router: tuple | None = None):
        bad = [r for r in leaf_regressors if r not in LEAF_REGRESSORS]
        if bad or not leaf_regressors:
            raise ValueError(f"leaf_regressors={list(leaf_regressors)!r}; allowed: a non-empty subset of {LEAF_REGRESSORS}")
        self.fod_thresholds, self.wmsd_thresholds = list(fod_thresholds), list(wmsd_thresholds)
        self.models, self.selectors, self.k_grid = list(models), list(selectors), list(k_grid)
        self.folds, self.seed, self.rf_trees = folds, seed, rf_trees
        self.leaf_regressors, self.fixed_router = list(leaf_regressors), fixed_router

    def fit(self, X, y, router_rows=None) -> "SampleDriveRegressor":
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X must be (n, features) with one row per target; got {X.shape} and {y.shape}")
        rows = np.ones(len(y), bool) if router_rows is None else np.asarray(router_rows, bool)
        self.tree_ = build_bin_tree(y, self.fod_thresholds, self.wmsd_thresholds)
        self.routers_, self.leaf_values_, self.leaf_linear_ = {}, {}, {}
        for node in self.tree_.walk():
            if node.is_leaf:
                self._fit_leaf(node, X, y)
                continue
            labels = np.empty(len(y), int)
            for c, child in enumerate(node.children):
                labels[child.index] = c
            use = node.index[rows[node.index]]
            if use.size == 0:  # no training row in this bin (possible only with router_rows): go to child 0
                self.routers_[node.name] = None
                continue
            if np.unique(labels[use]).size < 2:  # the training rows of this bin all sit in one child
                r = None
            elif self.fixed_router is not None:
                m, s, k = self.fixed_router
                r = select_router(X[use], labels[use], models=[m], selectors=[s], k_grid=[k], folds=1,
                                  seed=self.seed, rf_trees=self.rf_trees)
            else:
                r = select_router(X[use], labels[use], models=self.models, selectors=self.selectors,
                                  k_grid=self.k_grid, folds=self.folds, seed=self.seed, rf_trees=self.rf_trees)
            self.routers_[node.name] = r if r is not None else int(labels[use][0])
        return self

    def _fit_leaf(self, node: BinNode, X, y):
        """The leaf's values: one sample gives its target, two their mean; more train every leaf regressor on
        the leaf and pool their (in-sample) predictions, from which each statistic is computed."""
        ys = y[node.index]
        if node.n <= 2:
            pooled = ys
        else:
            pooled = np.concatenate([_leaf_regressor(r, node.n, self.seed, self.rf_trees)
                                     .fit(X[node.index], ys).predict(X[node.index]) for r in self.leaf_regressors])
        self.leaf_values_[node.name] = {(form, s): leaf_statistic(pooled, s, form) if node.n > 2 else float(ys.mean())
                                        for form in FORMS for s in STATISTICS}
        self.leaf_linear_[node.name] = (_leaf_regressor("linear", node.n, self.seed, self.rf_trees)
                                        .fit(X[node.index], ys) if node.n > 2 else float(ys.mean()))

    def route(self, X) -> list[BinNode]:
        """The leaf each row of ``X`` reaches."""
        X = np.asarray(X, dtype=float)
        out: list[BinNode | None] = [None] * len(X)
        stack = [(self.tree_, np.arange(len(X)))]
        while stack:
            node, idx = stack.pop()
            if node.is_leaf or idx.size == 0:
                for i in idx:
                    out[i] = node
                continue
            r = self.routers_[node.name]
            choice = r.predict(X[idx]) if isinstance(r, Router) else np.full(idx.size, 0 if r is None else r)
            for c, child in enumerate(node.children):
                stack.append((child, idx[choice == c]))
        return out  # type: ignore[return-value]

    def predict(self, X, statistic: str = "mean", form: str = "corrected") -> np.ndarray:
        """Each row gets its leaf's ``statistic`` (:func:`leaf_statistic`), or with ``statistic="linear"``
        the prediction of the leaf's own linear (ridge) model."""
        X = np.asarray(X, dtype=float)
        leaves = self.route(X)
        if statistic == "linear":
            return np.array([m.predict(X[i:i + 1])[0] if not isinstance(m, float) else m
                             for i, m in enumerate(self.leaf_linear_[leaf.name] for leaf in leaves)])
        if statistic not in STATISTICS:
            raise ValueError(f"statistic {statistic!r}; allowed: {STATISTICS + ('linear',)}")
        return np.array([self.leaf_values_[leaf.name][(form, statistic)] for leaf in leaves])

    def leaf_ranges(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)``: the target range of the leaf each row reaches."""
        leaves = self.route(X)
        return np.array([leaf.lo for leaf in leaves]), np.array([leaf.hi for leaf in leaves])
