# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Feature Embedding of Image Data: a Simplified Triplet Loss for Multicut Clustering
#
# **Chapter `ho-c1`.** Kalun Ho. *Learning Deep Visual Features for Minimum Cost Multicut Problem*,
# chapter 2 ("Feature Embedding of Image Data"). Doctoral dissertation, Universität Siegen, March 2023
# (our copy prints no DOI). The chapter is based on K. Ho, J. Keuper, F.-J. Pfreundt and M. Keuper,
# *Learning embeddings for image clustering: An empirical study of triplet loss approaches*, 25th
# International Conference on Pattern Recognition (ICPR 2020), IEEE 2021, pp. 87–94 (arXiv:2007.03123).
#
# **The idea.** A minimum cost multicut clusters points without being told how many clusters there are,
# but it needs a cost for every pair, positive to join and negative to cut. If the points are embeddings
# learned by a network, the natural cost is "a threshold minus the distance", and everything hinges on one
# *global* threshold $\tau$ separating same-class pairs from different-class pairs everywhere in the
# space. The usual triplet loss cannot promise that: it only asks a positive to be closer to its anchor
# than a negative is, by a margin, so one class may be tight and another loose, and a distance that means
# "same class" here means "different class" there. K-Means, which only compares a point with the centres,
# does not care; the multicut does. The thesis therefore compares three triplet losses: the standard one
# (TL1), one that also caps the positive distance (TL2, after Zhang et al.), and a simplification (TL3) that
# uses only *absolute* margins: positives closer than $\beta$, negatives farther than $\alpha$. With TL2 or
# TL3 the threshold is not learned but read off the margins, $\tau = \sqrt{(\alpha+\beta)/2}$. The study
# clusters the test set with the multicut and with K-Means (given the true $K$), and repeats it with
# deliberately wrong triplets (label noise).

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the thesis' protocol scaled to one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder holding cifar-10-batches-py/ (full profile), or None for the digits stand-in
epochs: int | None = None  # training epochs (one epoch: every training image is an anchor once)
n_train: int | None = None  # training images of the digits stand-in (CIFAR-10: all 45,000)
n_cluster: int | None = None  # test images that are clustered (a complete graph of n(n-1)/2 edges)
losses: list | None = None  # which losses to train, a subset of ["TL1", "TL2", "TL3"]
noise: list | None = None  # label-noise settings [[pos, neg], ...]; pos in [0, 1], neg in [0, 1] or "random"
alpha: float | None = None  # TL margin: minimum squared distance of negatives (TL3), gap (TL1/TL2)
beta: float | None = None  # maximum squared distance of positives (TL2/TL3), in (0, alpha)
tl1_tau: str | None = None  # TL1's threshold: "logreg" (the thesis, fitted on validation pairs) or "derived"
tau_fit_pairs: str | None = None  # logistic-regression pairs: "balanced" (same- and different-class alike) or "all"
normalize: bool | None = None  # L2-normalise the embedding (not in the thesis; off by default)
model: str | None = None  # "mlp" (smoke) or "cnn" (the thesis' AlexNet-like CNN, scaled to 32x32)
solver: str | None = None  # multicut heuristic: "gaec", "kl", "gaec+kl", "greedy-fixation", "greedy-fixation+kl"

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Code, display
from sklearn.cluster import KMeans
from torch import nn

import reprobook as rb
from reprobook.cluster import clustering_scores
from reprobook.data import cifar10_available, load_cifar10, make_digits
from reprobook.multicut import SOLVERS, complete_edges, costs_from_distances, fit_distance_threshold, solve_multicut
from reprobook.train import fit
from reprobook.triplets import (LOSSES, class_distance_stats, derived_threshold, sample_triplets,
                                threshold_separability, triplet_loss)

CLEAN = [0.0, 0.0]
PROFILES = {
    # CPU, one thread: an MLP on 16x16 distorted digits; clean, 20 % wrong positives, label-free negatives.
    "smoke": dict(epochs=20, n_train=3000, n_val=400, n_test=600, n_cluster=600, image_size=16, pixel_noise=0.1,
                  hidden=128,
                  losses=list(LOSSES), noise=[CLEAN, [0.2, 0.0], [0.0, "random"]], alpha=0.8, beta=0.4,
                  tl1_tau="logreg", tau_fit_pairs="balanced", normalize=False, model="mlp", solver="gaec+kl",
                  batch_size=100, lr=1e-3,
                  n_seeds=1, tau_pairs=20000),
    # One GPU (estimate: about 30 min, not yet measured): CIFAR-10 with the CNN when data_root holds it,
    # else 32x32 digits; three seeds; a slice of Table 2.1's noise grid. 100 epochs of the thesis would not fit.
    "full": dict(epochs=20, n_train=20000, n_val=2000, n_test=5000, n_cluster=2000, image_size=32, pixel_noise=0.1,
                 hidden=256,
                 losses=list(LOSSES), noise=[CLEAN, [0.1, 0.0], [0.2, 0.0], [0.0, 0.05], [0.0, "random"]],
                 alpha=0.8, beta=0.4, tl1_tau="logreg", tau_fit_pairs="balanced", normalize=False, model="cnn",
                 solver="gaec+kl",
                 batch_size=100, lr=1e-3, n_seeds=3, tau_pairs=20000),
}
run = rb.start("ho-c1", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(epochs=epochs, n_train=n_train, n_cluster=n_cluster, losses=losses, noise=noise,
                          alpha=alpha, beta=beta, tl1_tau=tl1_tau, tau_fit_pairs=tau_fit_pairs, normalize=normalize,
                          model=model, solver=solver))
cfg = run.cfg


def _share(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x <= 1


def _positive_int(name, value, lo=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise rb.ParameterError(f"{name}={value!r}: an integer >= {lo} is allowed")


_positive_int("epochs", cfg.epochs)
_positive_int("n_train", cfg.n_train, 100)
_positive_int("n_cluster", cfg.n_cluster, 20)
if cfg.n_cluster > cfg.n_test:
    raise rb.ParameterError(f"n_cluster={cfg.n_cluster}: at most the {cfg.n_test} test images are allowed")
if not cfg.losses or any(l not in LOSSES for l in cfg.losses) or len(set(cfg.losses)) != len(cfg.losses):
    raise rb.ParameterError(f"losses={cfg.losses!r}: a non-empty list of distinct names from {list(LOSSES)} is allowed")
if (not cfg.noise or any(not (isinstance(s, (list, tuple)) and len(s) == 2 and _share(s[0])
                              and (_share(s[1]) or s[1] == "random")) for s in cfg.noise)):
    raise rb.ParameterError(f"noise={cfg.noise!r}: a list of [pos, neg] pairs is allowed, pos a share in [0, 1], "
                            "neg a share in [0, 1] or 'random'")
NOISE = [(float(p), n if n == "random" else float(n)) for p, n in cfg.noise]
if NOISE[0] != (0.0, 0.0):
    raise rb.ParameterError(f"noise={cfg.noise!r}: the first setting must be the clean one, [0, 0] "
                            "(the other settings are compared with it)")
if not (cfg.alpha > 0 and 0 < cfg.beta < cfg.alpha):
    raise rb.ParameterError(f"alpha={cfg.alpha!r}, beta={cfg.beta!r}: 0 < beta < alpha is allowed")
if cfg.tl1_tau not in ("logreg", "derived"):
    raise rb.ParameterError(f"tl1_tau={cfg.tl1_tau!r}: allowed are 'logreg' (the thesis) and 'derived'")
if cfg.tau_fit_pairs not in ("balanced", "all"):
    raise rb.ParameterError(f"tau_fit_pairs={cfg.tau_fit_pairs!r}: allowed are 'balanced' and 'all'")
if cfg.model not in ("mlp", "cnn"):
    raise rb.ParameterError(f"model={cfg.model!r}: allowed are 'mlp' and 'cnn'")
if cfg.solver not in SOLVERS:
    raise rb.ParameterError(f"solver={cfg.solver!r}: allowed are {SOLVERS}")
TAU = derived_threshold(cfg.alpha, cfg.beta)
print("resolved knobs:", vars(cfg), f"| derived tau = {TAU:.4f} | device: {run.device}")

# %% [markdown]
# ## The method
#
# A network $f_\theta$ maps an image $x$ to an embedding $f(x) \in \mathbb{R}^{32}$. A triplet is an
# anchor $x^a$, a positive $x^p$ of the same class and a negative $x^n$ of another class; write
# $d_p = \lVert f(x^a) - f(x^p)\rVert^2$ and $d_n = \lVert f(x^a) - f(x^n)\rVert^2$ (squared distances).
# The three losses (thesis Eq. 2.1–2.3), with $[u]_+ = \max(u, 0)$:
#
# $$ \text{TL1:}\ [\,d_p - d_n + \alpha\,]_+ \qquad
#    \text{TL2:}\ [\,d_p - d_n + \alpha\,]_+ + [\,d_p - \beta\,]_+ \qquad
#    \text{TL3:}\ [\,\alpha - d_n\,]_+ + [\,d_p - \beta\,]_+ $$
#
# TL1 is relative: it is satisfied whatever the scale, as long as each negative is $\alpha$ farther than
# the positive. TL2 adds a cap $\beta$ on the positive distance. TL3 drops the relative term altogether:
# positives inside $\beta$, negatives outside $\alpha$, both absolute. With $\alpha = 0.8$, $\beta = 0.4$
# (the thesis' values, $\beta = \alpha/2$) the gap between the two margins is where the threshold goes:
#
# $$ \tau = \sqrt{(\alpha + \beta)/2} = \sqrt{0.6} \approx 0.775 \qquad \text{(Eq. 2.5)}, $$
#
# a threshold on the *unsquared* distances $d_{ij} = \lVert f(x_i) - f(x_j) \rVert$ (Eq. 2.4).
#
# **Multicut.** The clustered images are the nodes of a complete graph; edge $ij$ costs
# $c_{ij} = \tau - d_{ij}$, positive (join) below the threshold and negative (cut) above it. With a
# logistic cut probability $p_{ij} = \sigma(w(d_{ij} - \tau))$ the thesis' logit costs are
# $w(\tau - d_{ij})$, the same optimum. The minimum cost multicut (Eq. 1.8–1.9) picks the decomposition
# with the smallest total cost of cut edges, and with it the number of clusters. For TL1 there is no
# derived threshold: a logistic regression on labelled pairs (positive pairs 0, negative 1) learns $\tau$.
# We fit it on pairs of the **validation** images, never the test images.
#
# **Label noise** (Sect. 2.4.3). Triplets are drawn with the labels; a share of positives is deliberately
# taken from another class, a share of negatives from the anchor's class, or the negative is drawn
# without labels ("random", wrong about $1/K$ of the time). The losses, the threshold and the sampler are in
# `reprobook.triplets` (unit-tested); the sampler:

# %%
display(Code(inspect.getsource(sample_triplets), language="python"))

# %% [markdown]
# **Networks.** The thesis uses AlexNet with batch normalisation, its last two fully connected layers
# shrunk to 64 and 32 units and no classifier. The full profile uses a five-convolution network of that
# shape for 32×32 images; the smoke profile a multilayer perceptron ending in the same 64 → 32 head. One
# training step embeds anchors, positives and negatives in one batch and applies the loss.

# %%
class MLPEmbedder(nn.Module):
    def __init__(self, in_shape, dim=32, hidden=256):
        super().__init__()
        n_in = int(np.prod(in_shape))
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, dim))

    def forward(self, x):
        return self.net(x)


class AlexNetEmbedder(nn.Module):
    """AlexNet's layout (five convolutions, three max-pools, BN instead of local response normalisation)
    for small images, with the fully connected head 64 -> 32 of the thesis. ``widths``: channels of the
    first, second and last three convolutions (AlexNet: 64, 192, 384/256/256; default a quarter to a half
    of that, so that the full profile's 45 trainings fit one GPU)."""

    def __init__(self, in_shape, dim=32, widths=(32, 64, 128)):
        super().__init__()

        def block(i, o, pool):
            layers = [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        c = in_shape[0]
        w1, w2, w3 = widths
        self.features = nn.Sequential(*block(c, w1, True), *block(w1, w2, True), *block(w2, w3, False),
                                      *block(w3, w3, False), *block(w3, w3, True), nn.AdaptiveAvgPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(w3 * 4, 64), nn.BatchNorm1d(64), nn.ReLU(),
                                  nn.Linear(64, dim))

    def forward(self, x):
        return self.head(self.features(x))


class Embedder(nn.Module):
    def __init__(self, backbone, normalize):
        super().__init__()
        self.backbone, self.normalize = backbone, normalize

    def forward(self, x):
        z = self.backbone(x)
        return nn.functional.normalize(z, dim=1) if self.normalize else z


class TripletBatches:
    """An epoch of triplet batches: every training image is an anchor once, with a freshly drawn (possibly
    wrong) positive and negative; a seeded generator makes every epoch reproducible."""

    def __init__(self, X, y, *, pos_noise, neg_noise, batch_size, seed):
        self.X, self.y = X, y.cpu().numpy()
        self.pos_noise, self.neg_noise, self.batch_size = pos_noise, neg_noise, batch_size
        self.rng = np.random.default_rng(seed)
        self.wrong = []  # measured shares of wrong positives / negatives per epoch

    def __iter__(self):
        order = self.rng.permutation(len(self.y))
        a, p, n = sample_triplets(self.y, pos_noise=self.pos_noise, neg_noise=self.neg_noise, anchors=order,
                                  rng=self.rng)
        self.wrong.append((float(np.mean(self.y[p] != self.y[a])), float(np.mean(self.y[n] == self.y[a]))))
        for s in range(0, len(order), self.batch_size):
            sl = slice(s, s + self.batch_size)
            yield tuple(self.X[torch.as_tensor(idx[sl], device=self.X.device)] for idx in (a, p, n))


def make_step(loss_name):
    def step(model, batch):
        xa, xp, xn = batch
        z = model(torch.cat([xa, xp, xn]))
        za, zp, zn = z.chunk(3)
        return triplet_loss(za, zp, zn, loss_name, alpha=cfg.alpha, beta=cfg.beta)
    return step


@torch.no_grad()
def embed(model, X, batch=1000):
    model.eval()
    return torch.cat([model(X[i:i + batch]).float().cpu() for i in range(0, len(X), batch)]).numpy().astype(float)

# %% [markdown]
# ## The experiment
#
# **Data.** The thesis trains on CIFAR-10 (50,000 training and 10,000 test images, 10 classes) and
# clusters the 10,000 test embeddings. The book's machines have no CIFAR-10, so the default is a stand-in
# with the same structure: 10 classes of handwritten digits (scikit-learn's bundled 8×8 digits, upsampled,
# randomly rotated, sheared, shifted and noised; `reprobook.data.make_digits`), where training, validation
# and test images come from *disjoint* sets of writers' digits. It is easier than CIFAR-10, so absolute
# accuracies are higher and only relative claims are judged. With `data_root` holding
# `cifar-10-batches-py/`, the full profile trains on CIFAR-10 itself (45,000 training, 5,000 validation
# images) and clusters `n_cluster` test images (a complete graph on all 10,000 would have 50 million edges).
#
# **Runs.** For every seed, loss and noise setting: train (Adam, learning rate $10^{-3}$, batch 100, as
# the thesis), embed the test images, and cluster them twice: a multicut (GAEC followed by Kernighan–Lin,
# bioimage-cpp) with the loss' threshold, and K-Means with the true $K = 10$ (10 restarts). Accuracy is
# the thesis' clustering accuracy: clusters are matched one-to-one to classes by the Hungarian method,
# and every cluster beyond the tenth counts as wrong. In the clean setting we also run the multicut with
# the *other* threshold (the learned one for TL2/TL3, the derived one for TL1), to see what deriving
# $\tau$ costs, and measure how separable same-class and different-class distances are by any single
# threshold (the lowest balanced error over all thresholds; 0 = perfectly separable).

# %%
use_cifar = run.data_root is not None and cifar10_available(run.data_root)
if use_cifar:
    data = load_cifar10(run.data_root, val_size=5000, seed=run.seed)
else:
    data = make_digits(cfg.n_train, cfg.n_val, cfg.n_test, size=cfg.image_size, noise=cfg.pixel_noise, seed=run.seed)
print(data)
X_train, y_train = (t.to(run.device) for t in data.train.tensors)
X_val, y_val = data.val.tensors
X_test, y_test = data.test.tensors
pick = np.sort(np.random.default_rng(run.seed).choice(len(y_test), cfg.n_cluster, replace=False))
X_test, y_test = X_test[pick].to(run.device), y_test[pick].numpy()
X_val, y_val = X_val.to(run.device), y_val.numpy()
in_shape = tuple(X_train.shape[1:])


def fitted_tau(Zv, yv, rng):
    """Logistic-regression threshold from labelled validation pairs (the thesis' TL1 procedure).
    "balanced": as many same-class as different-class pairs, so that tau is the boundary between the two
    distance distributions rather than shifted by the 1 : (K - 1) prior of random pairs."""
    i, j = np.triu_indices(len(yv), 1)
    if cfg.tau_fit_pairs == "balanced":
        same = np.flatnonzero(yv[i] == yv[j])
        diff = np.flatnonzero(yv[i] != yv[j])
        k = min(cfg.tau_pairs // 2, len(same), len(diff))
        take = np.concatenate([rng.choice(same, k, replace=False), rng.choice(diff, k, replace=False)])
    else:
        take = rng.choice(len(i), min(cfg.tau_pairs, len(i)), replace=False)
    i, j = i[take], j[take]
    return fit_distance_threshold(np.linalg.norm(Zv[i] - Zv[j], axis=1), yv[i] == yv[j])[0]


def multicut_scores(uv, d, tau, y):
    labels = solve_multicut(len(y), uv, costs_from_distances(d, tau), solver=cfg.solver)
    s = clustering_scores(y, labels)
    sizes = np.bincount(labels)
    return s, int((sizes < 10).sum())


def one_run(loss_name, pos, neg, s):
    torch.manual_seed(s)
    backbone = MLPEmbedder(in_shape, hidden=cfg.hidden) if cfg.model == "mlp" else AlexNetEmbedder(in_shape)
    model = Embedder(backbone, cfg.normalize).to(run.device)
    batches = TripletBatches(X_train, y_train, pos_noise=pos, neg_noise=neg, batch_size=cfg.batch_size,
                             seed=s * 1000 + 17)
    t0 = time.perf_counter()
    hist = fit(model, batches, epochs=cfg.epochs, optimizer=torch.optim.Adam(model.parameters(), lr=cfg.lr),
               device=run.device, step=make_step(loss_name), progress=False, desc=f"{loss_name} {pos}/{neg}")
    t_train = time.perf_counter() - t0
    Zt, Zv = embed(model, X_test), embed(model, X_val)
    is_clean = (pos, neg) == (0.0, 0.0)
    fit_needed = loss_name == "TL1" and cfg.tl1_tau == "logreg"
    tau_fit = fitted_tau(Zv, y_val, np.random.default_rng(s)) if (fit_needed or is_clean) else np.nan
    tau_use = tau_fit if fit_needed else TAU
    uv, d = complete_edges(Zt)
    mc, n_small = multicut_scores(uv, d, tau_use, y_test)
    km = KMeans(10, n_init=10, random_state=s).fit_predict(Zt)
    row = dict(loss=loss_name, pos=pos, neg=str(neg), seed=s, mc_acc=100 * mc["acc"],
               km_acc=100 * clustering_scores(y_test, km)["acc"],
               n_clusters=mc["n_clusters"], n_small=n_small, mc_nmi=mc["nmi"], tau_used=tau_use, tau_fit=tau_fit,
               final_loss=hist.train_loss[-1], wrong_pos=np.mean([w[0] for w in batches.wrong]),
               wrong_neg=np.mean([w[1] for w in batches.wrong]), train_s=t_train)
    if is_clean:
        other_tau = TAU if tau_use != TAU else tau_fit
        row["mc_acc_other_tau"] = 100 * multicut_scores(uv, d, other_tau, y_test)[0]["acc"]
        same = y_test[uv[:, 0]] == y_test[uv[:, 1]]
        row["sep_error"] = threshold_separability(d, same)["balanced_error"]
        row["same_d_median"], row["diff_d_median"] = float(np.median(d[same])), float(np.median(d[~same]))
        embeddings[(loss_name, s)] = (Zt, d, same, tau_use)
    return row


embeddings, rows = {}, []
t_all = time.perf_counter()
for s in run.seeds:
    for loss_name in cfg.losses:
        for pos, neg in NOISE:
            rows.append(one_run(loss_name, pos, neg, s))
t_all = time.perf_counter() - t_all
res = pd.DataFrame(rows)
res["setting"] = [f"pos {p:.0%} / neg {n if n == 'random' else format(float(n), '.0%')}"
                  for p, n in zip(res.pos, res.neg)]
print(f"{len(rows)} trainings and clusterings in {t_all:.1f} s")
res.groupby(["setting", "loss"], sort=False)[["mc_acc", "km_acc", "n_clusters", "n_small", "tau_used",
                                              "wrong_pos", "wrong_neg"]].mean().round(3)

# %% [markdown]
# `wrong_pos` / `wrong_neg` are the measured shares of wrong positives and negatives over all epochs (the
# sampler's check). `tau_used` is the multicut threshold: the derived $\sqrt{0.6}$ for TL2 and TL3, the
# fitted one for TL1. `n_small` counts clusters of fewer than 10 images.
#
# **Clean training: multicut against K-Means** (the thesis' Fig. 2.6).

# %%
clean = res[(res.pos == 0) & (res.neg == "0.0")]
mean_clean = clean.groupby("loss", sort=False)[["mc_acc", "km_acc", "mc_acc_other_tau", "n_clusters", "sep_error",
                                               "tau_used", "tau_fit", "same_d_median", "diff_d_median"]].mean()
std_clean = clean.groupby("loss", sort=False)[["mc_acc", "km_acc"]].std().fillna(0.0)
fig, ax = plt.subplots(figsize=(6.5, 4))
xs = np.arange(len(mean_clean))
for k, (col, label) in enumerate([("mc_acc", "multicut (no K given)"), ("km_acc", "K-Means (K = 10)")]):
    ax.bar(xs + (k - 0.5) * 0.38, mean_clean[col], 0.38, yerr=std_clean[col], label=label, capsize=3)
    for x, v in zip(xs, mean_clean[col]):
        ax.text(x + (k - 0.5) * 0.38, v + 0.5, f"{v:.1f}", ha="center", fontsize=8)
ax.set_xticks(xs, mean_clean.index)
lo = float(np.nanmin(mean_clean[["mc_acc", "km_acc"]].to_numpy()))
ax.set_ylim(max(0, lo - 15), 100)
ax.set_xlabel("triplet loss")
ax.set_ylabel("clustering accuracy (%)")
ax.set_title("Clustering accuracy of the test embeddings (clean triplets)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
fig.tight_layout()
fig.savefig(run.figure_path("accuracy_clean.png"), dpi=120)
plt.show()
mean_clean.round(3)

# %% [markdown]
# **Why one threshold is hard for TL1** (the thesis' Fig. 2.5 and 2.7). Left: the distribution of the
# test pairs' distances, same class against different class, with each loss' threshold. Right: per class,
# the mean within-class distance and the mean distance to the nearest other class, with $\pm\sigma$ bars.
# For a multicut to work with one $\tau$, every red bar should sit below $\tau$ and every blue bar above it.

# %%
first = run.seeds[0]
shown = [l for l in cfg.losses if (l, first) in embeddings]
fig, axes = plt.subplots(2, len(shown), figsize=(4.2 * len(shown), 7), squeeze=False)
for k, loss_name in enumerate(shown):
    Zt, d, same, tau_used = embeddings[(loss_name, first)]
    ax = axes[0, k]
    bins = np.linspace(0, np.quantile(d, 0.995), 60)
    ax.hist(d[same], bins, density=True, alpha=0.6, color="tab:red", label="same class")
    ax.hist(d[~same], bins, density=True, alpha=0.6, color="tab:blue", label="different class")
    ax.axvline(tau_used, color="k", ls="--", label=f"tau = {tau_used:.2f}")
    ax.set_title(f"{loss_name}: pair distances (test)")
    ax.set_xlabel("Euclidean distance d_ij")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="upper right")
    st = class_distance_stats(Zt, y_test)
    ax = axes[1, k]
    cx = np.arange(len(st["classes"]))
    ax.errorbar(cx - 0.1, st["intra_mean"], st["intra_std"], fmt="o", color="tab:red", capsize=3, label="within class")
    ax.errorbar(cx + 0.1, st["inter_mean"], st["inter_std"], fmt="s", color="tab:blue", capsize=3,
                label="to nearest class")
    ax.axhline(tau_used, color="k", ls="--", label="tau")
    ax.set_xticks(cx, [str(c) for c in st["classes"]])
    ax.set_xlabel("class (digit)" if not use_cifar else "class")
    ax.set_ylabel("Euclidean distance")
    ax.set_title(f"{loss_name}: distances per class (±σ)")
    ax.legend(fontsize=8, loc="upper right")
fig.tight_layout()
fig.savefig(run.figure_path("distances.png"), dpi=120)
plt.show()

# %% [markdown]
# **Label noise** (the thesis' Table 2.1 and Fig. 2.9): accuracy of each loss and clustering in each
# noise setting, and the change from the clean setting.

# %%
settings = list(dict.fromkeys(res.setting))
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, col, title in [(axes[0], "mc_acc", "multicut (derived / fitted tau)"), (axes[1], "km_acc", "K-Means (K = 10)")]:
    for loss_name in cfg.losses:
        m = res[res.loss == loss_name].groupby("setting", sort=False)[col].mean().reindex(settings)
        ax.plot(range(len(settings)), m.to_numpy(), "o-", label=loss_name)
    ax.set_xticks(range(len(settings)), settings, rotation=20, fontsize=8)
    ax.set_xlabel("label noise of the training triplets")
    ax.set_title(title)
    ax.legend()
axes[0].set_ylabel("clustering accuracy (%)")
fig.suptitle("Clustering accuracy under label noise")
fig.tight_layout()
fig.savefig(run.figure_path("noise.png"), dpi=120)
plt.show()
table = res.pivot_table(index="setting", columns="loss", values=["mc_acc", "km_acc"], aggfunc="mean", sort=False)
table.round(2)

# %% [markdown]
# **The thesis' Table 2.1 beside ours**, for the noise settings of this run (CIFAR-10, mean of 5 runs, %).
# The table is garbled in our text of the thesis; we rebuilt it from two overlapping fragments, which
# agree where they overlap. Rows: wrong positives; columns: wrong negatives ("random": drawn without labels).

# %%
T21_NEG = ["random", 0.07, 0.05, 0.02, 0.0]
T21 = {  # (clustering, loss) -> {positive noise: accuracies for T21_NEG}
    ("multicut", "TL1"): {0.2: [73.85, 73.64, 74.43, 76.28, 75.18], 0.1: [77.90, 77.02, 76.93, 78.04, 77.87],
                          0.05: [78.65, 76.73, 78.30, 77.73, 78.87], 0.0: [78.14, 77.76, 78.31, 78.56, 78.44]},
    ("multicut", "TL2"): {0.2: [60.13, 65.61, 68.05, 67.26, 64.39], 0.1: [74.23, 75.64, 75.23, 74.75, 75.48],
                          0.05: [75.62, 76.27, 76.06, 75.80, 76.63], 0.0: [77.07, 77.46, 77.47, 80.41, 79.96]},
    ("multicut", "TL3"): {0.2: [75.23, 74.39, 75.00, 72.80, 75.27], 0.1: [77.10, 76.53, 76.47, 76.06, 76.29],
                          0.05: [77.07, 78.94, 80.16, 77.44, 77.75], 0.0: [80.25, 80.38, 80.65, 80.42, 80.51]},
    ("K-Means", "TL1"): {0.2: [79.83, 80.26, 80.29, 80.60, 80.55], 0.1: [81.55, 80.95, 81.10, 81.53, 81.21],
                         0.05: [81.62, 80.82, 81.27, 81.19, 81.68], 0.0: [81.59, 81.33, 81.53, 81.51, 81.82]},
    ("K-Means", "TL2"): {0.2: [71.71, 74.70, 74.86, 74.62, 74.61], 0.1: [75.33, 75.80, 75.89, 75.54, 76.48],
                         0.05: [76.79, 77.01, 76.14, 76.97, 76.93], 0.0: [80.25, 80.80, 81.11, 81.39, 80.73]},
    ("K-Means", "TL3"): {0.2: [79.66, 80.54, 77.83, 78.20, 80.53], 0.1: [81.93, 81.78, 80.59, 80.45, 82.06],
                         0.05: [82.07, 82.11, 81.98, 81.90, 82.08], 0.0: [82.15, 82.14, 81.93, 81.64, 81.72]},
}
side = []
for pos, neg in NOISE:
    for loss_name in cfg.losses:
        ours = res[(res.loss == loss_name) & (res.pos == pos) & (res.neg == str(neg))]
        for method, col in (("multicut", "mc_acc"), ("K-Means", "km_acc")):
            row_t = T21[(method, loss_name)].get(pos)
            thesis = row_t[T21_NEG.index(neg)] if row_t is not None and neg in T21_NEG else np.nan
            side.append(dict(setting=ours.setting.iloc[0], loss=loss_name, clustering=method,
                             thesis_cifar10=thesis, ours=ours[col].mean()))
pd.DataFrame(side).pivot_table(index=["setting", "loss"], columns="clustering", values=["thesis_cifar10", "ours"],
                               sort=False).round(2)

# %% [markdown]
# ## Claims
#
# The thesis' numbers are CIFAR-10 test accuracies (mean of 5 runs, %, Table 2.1 and Fig. 2.6); ours come
# from the stand-in and are compared only in direction. Rules were fixed before the first run. Pairs of
# losses are compared per seed (paired); with one seed (smoke) a rule decides on the number alone. "Drop"
# is clean accuracy minus noisy accuracy, in points.

# %%
def per_seed(frame, loss_name, col, pos=0.0, neg="0.0"):
    sel = frame[(frame.loss == loss_name) & (frame.pos == pos) & (frame.neg == neg)].sort_values("seed")
    return sel[col].to_numpy()


have = set(cfg.losses)
all3 = have == set(LOSSES)
mc = {l: per_seed(res, l, "mc_acc") for l in cfg.losses}
km = {l: per_seed(res, l, "km_acc") for l in cfg.losses}
settings_set = set(NOISE)
ledger = rb.Ledger()
need3 = rb.NotTestable("needs all three losses (knob losses)")

ledger.claim("multicut-ordering",
             "With the multicut, the proposed TL3 clusters best, then TL2, then the standard triplet loss TL1",
             paper="80.51 > 79.96 > 78.44 % (Fig. 2.6, Table 2.1 bold)",
             measured={f"mc_{l}": mc[l] for l in cfg.losses} if all3 else None,
             rule=rb.Ordered(("mc_TL3", "mc_TL2", "mc_TL1")) if all3 else need3)
ledger.claim("tl3-beats-standard-multicut",
             "TL3 with its derived threshold beats the standard triplet loss with a learned threshold, for the multicut",
             paper="80.51 vs 78.44 % (+2.1 pt; Fig. 2.6)",
             measured={"mc_TL3": mc["TL3"], "mc_TL1": mc["TL1"]} if {"TL1", "TL3"} <= have else None,
             rule=rb.Better("mc_TL3", "mc_TL1") if {"TL1", "TL3"} <= have else need3)
ledger.claim("kmeans-beats-multicut",
             "K-Means, given the true K, clusters better than the multicut for every loss",
             paper="'k-means performs better on all our experiments'; by 1–2 pt on average (Sect. 2.4.1, 2.4.3)",
             measured={**{f"km_{l}": km[l] for l in cfg.losses}, **{f"mc_{l}": mc[l] for l in cfg.losses}},
             rule=rb.AllOf(*[rb.Better(f"km_{l}", f"mc_{l}") for l in cfg.losses]))
ledger.claim("derived-tau-near-kmeans",
             "TL3 + multicut with the derived tau (no K, no fitting) comes within 3 points of K-Means with the true K",
             paper="80.51 vs 81.72 % (gap 1.2 pt; Table 2.1)",
             measured={"mc_minus_km_TL3": mc["TL3"] - km["TL3"]} if "TL3" in have else None,
             rule=rb.AtLeast("mc_minus_km_TL3", -3.0) if "TL3" in have else need3)
if "TL3" in have:
    tl3c = clean[clean.loss == "TL3"].sort_values("seed")
    derived_vs_fit = {"mc_derived_tau": tl3c.mc_acc.to_numpy(), "mc_fitted_tau": tl3c.mc_acc_other_tau.to_numpy()}
ledger.claim("derived-tau-no-learning-needed",
             "For TL3 the derived tau is as good as one learned by logistic regression (at most 1 point worse)",
             paper="'the additional step of learning tau from data is not necessary anymore' (Sect. 2.3.3); no number",
             measured={"derived_minus_fitted": derived_vs_fit["mc_derived_tau"] - derived_vs_fit["mc_fitted_tau"]}
             if "TL3" in have else None,
             rule=rb.AtLeast("derived_minus_fitted", -1.0) if "TL3" in have else need3)
sep = {l: clean[clean.loss == l].sort_values("seed").sep_error.to_numpy() for l in cfg.losses}
ledger.claim("tl1-distances-overlap",
             "Same-class and different-class distances overlap more under TL1 than under TL3 (single-threshold balanced error)",
             paper="TL1: large variance, cat/dog overlap; TL2/TL3: 'a clear separation' (Fig. 2.7, no numbers)",
             measured={"sep_error_TL1": sep["TL1"], "sep_error_TL3": sep["TL3"]} if {"TL1", "TL3"} <= have else None,
             rule=(rb.Better("sep_error_TL3", "sep_error_TL1", higher_is_better=False)
                   if {"TL1", "TL3"} <= have else need3))
if all3 and (0.2, 0.0) in settings_set:
    drop = {l: mc[l] - per_seed(res, l, "mc_acc", 0.2) for l in LOSSES}
    ledger.claim("tl2-most-noise-sensitive",
                 "With 20 % wrong positives, TL2 loses the most multicut accuracy of the three losses",
                 paper="drops 15.57 (TL2) vs 3.26 (TL1) and 5.24 (TL3) pt (Table 2.1, pos 20 %, neg 0 %)",
                 measured={f"drop_{l}": drop[l] for l in LOSSES},
                 rule=rb.AllOf(rb.Better("drop_TL2", "drop_TL1"), rb.Better("drop_TL2", "drop_TL3")))
    noisy = {l: per_seed(res, l, "mc_acc", 0.2) for l in LOSSES}
    ledger.claim("tl3-robust-to-positive-noise",
                 "With 20 % wrong positives, TL3 + multicut still beats TL2 + multicut",
                 paper="75.27 vs 64.39 % (Table 2.1, pos 20 %, neg 0 %)",
                 measured={"mc_TL3_pos20": noisy["TL3"], "mc_TL2_pos20": noisy["TL2"]},
                 rule=rb.Better("mc_TL3_pos20", "mc_TL2_pos20"))
else:
    ledger.claim("tl2-most-noise-sensitive", "With 20 % wrong positives, TL2 loses the most multicut accuracy",
                 paper="drops 15.57 (TL2) vs 3.26 (TL1) and 5.24 (TL3) pt (Table 2.1)",
                 rule=rb.NotTestable("needs all three losses and the setting [0.2, 0] (knobs losses, noise)"))
if "TL3" in have and (0.0, "random") in settings_set:
    ledger.claim("tl3-robust-to-random-negatives",
                 "Drawing negatives without labels costs TL3 + multicut less than 1 point",
                 paper="80.51 → 80.25 % (−0.26 pt; Table 2.1, pos 0 %, 'random')",
                 measured={"drop_TL3_random_neg": mc["TL3"] - per_seed(res, "TL3", "mc_acc", 0.0, "random")},
                 rule=rb.AtLeast("drop_TL3_random_neg", 1.0, at_most=True))
else:
    ledger.claim("tl3-robust-to-random-negatives",
                 "Drawing negatives without labels costs TL3 + multicut less than 1 point",
                 paper="80.51 → 80.25 % (Table 2.1)",
                 rule=rb.NotTestable("needs TL3 and the setting [0, 'random'] (knobs losses, noise)"))
ledger.claim("kmeans-tl2-below-tl1",
             "For K-Means, TL2 is worse than the standard triplet loss",
             paper="80.73 vs 81.82 % (Fig. 2.6, Table 2.1)",
             measured={"km_TL1": km["TL1"], "km_TL2": km["TL2"]} if {"TL1", "TL2"} <= have else None,
             rule=rb.Better("km_TL1", "km_TL2") if {"TL1", "TL2"} <= have else need3)
ledger.claim("cifar10-absolute",
             "Absolute CIFAR-10 accuracies (e.g. TL3 + multicut 80.51 %, 44 clusters of which 33–34 small in Fig. 2.10)",
             paper="Table 2.1, Fig. 2.6, Fig. 2.10",
             rule=rb.NotTestable("CIFAR-10 and the thesis' 100-epoch AlexNet are not available offline; "
                                 "a full run with data_root reports its own CIFAR numbers in the metrics"))

run.log(dataset=data.name, mc_acc={l: mc[l].round(4).tolist() for l in cfg.losses},
        km_acc={l: km[l].round(4).tolist() for l in cfg.losses},
        n_clusters={l: per_seed(res, l, "n_clusters").tolist() for l in cfg.losses},
        sep_error={l: sep[l].round(5).tolist() for l in cfg.losses},
        tau_fit={l: per_seed(res, l, "tau_fit").round(5).tolist() for l in cfg.losses},
        mc_acc_by_setting={f"{l} | {st}": g.sort_values("seed").mc_acc.round(4).tolist()
                           for (l, st), g in res.groupby(["loss", "setting"], sort=False)},
        km_acc_by_setting={f"{l} | {st}": g.sort_values("seed").km_acc.round(4).tolist()
                           for (l, st), g in res.groupby(["loss", "setting"], sort=False)})
run.log_timing(train_s_mean=float(res.train_s.mean()), all_runs_s=t_all)
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Eq. 2.3 is misprinted.** Both terms carry a "p" superscript; the thesis' own index convention
#   ($x_j^n$ the negative, $x_k^p$ the positive, Sect. 2.3.2) and its sentence that TL3 "pushes positive
#   pairs within a certain margin β while driving negative pairs apart with a minimum distance α" make the
#   first term the negative pair, $[\alpha - d_n]_+$. Read literally (two positives) the loss would push
#   positives apart, so we implement only the corrected form.
# - **Eq. 2.5 needs $\beta = \alpha/2$?** The thesis motivates $\tau$ by "intra-cluster distances exactly half
#   of the inter-cluster distances"; the formula itself is just the midpoint of the squared margins,
#   mapped back to an unsquared distance, and works for any $0 < \beta < \alpha$ (knobs `alpha`, `beta`).
# - **Data and model.** CIFAR-10 is not on the book's machines: the smoke profile uses distorted 16×16
#   digits (training, validation and test from disjoint base digits) and an MLP with the thesis' 64 → 32
#   head; the full profile an AlexNet-like CNN with batch normalisation for 32×32 images (five
#   convolutions, narrower than AlexNet: 32/64/128 channels), on CIFAR-10 when
#   `data_root` holds it. Training is far shorter than the thesis' 100 epochs (20 smoke, 20 full), and
#   the full profile runs 3 seeds (the thesis: 5) and a slice of Table 2.1's 4 × 5 noise grid.
# - **Clustered subset.** The thesis clusters all 10,000 CIFAR-10 test images on a complete graph. We
#   cluster `n_cluster` test images (600 smoke, 2,000 full); chapter `ho-c2` (MSM) is the thesis' answer to
#   the size of the full graph.
# - **Solver.** The thesis does not name its multicut solver; we use GAEC followed by Kernighan–Lin
#   (bioimage-cpp), knob `solver`.
# - **TL1's threshold** is fitted by logistic regression on 20,000 labelled pairs of the *validation*
#   embeddings (the thesis does not say which pairs it used, nor whether they were balanced). We draw as
#   many same-class as different-class pairs (`tau_fit_pairs="balanced"`), so that $\tau$ is the boundary
#   between the two distance distributions of the thesis' Fig. 2.5. Random pairs (`"all"`) are 9 to 1
#   different-class on 10 classes; the fitted boundary then moves to small distances, the multicut cuts
#   far more, and in our first trial runs TL1 fell to hundreds of clusters. `tl1_tau="derived"` gives TL1
#   the derived $\sqrt{0.6}$ instead, which only makes sense when the embedding's scale happens to match.
# - **One seed in smoke.** The smoke profile trains each loss once per noise setting, so its verdicts
#   decide on single numbers without a noise band; some gaps (notably the single-threshold separability
#   of TL1 against TL3) are small compared with the seed-to-seed spread one would expect. The full
#   profile's three seeds give the rules their noise bands.
# - **Smoke network.** The smoke MLP has a hidden layer of 128 units (full: 256) so that nine trainings
#   of 20 epochs fit the CI budget of the book on two CPU cores.
# - **Loss reduction.** The thesis sums the loss over the triplets; we average over the batch (Adam's
#   steps hardly depend on the gradient's scale). Embeddings are not L2-normalised, as in the thesis
#   (knob `normalize`). Triplets are drawn afresh every epoch with every training image as anchor once;
#   the thesis does not describe its sampling beyond "supervised" and the noise shares.
# - **Errors in the thesis.** Table 2.1 has TL1 ahead of TL3 for K-Means (81.82 vs 81.72 %) although the
#   text says TL3 "performs best in both scenarios"; Fig. 2.10's text says 34 small clusters, its caption
#   33. The caption calls the "random" negative column 10 % noise; it is label-free sampling, wrong about
#   $1/K$ of the time.

# %% [markdown]
# ## Exercises
#
# 1. Show that TL1 has no natural distance threshold: if an embedding $f$ has zero TL1 loss on a set of
#    triplets, what is the TL1 loss of $2f$, and what happens to the distances?
#
# ```{admonition} Solution
# :class: dropdown
# Zero loss means $d_n \ge d_p + \alpha$ for every triplet. For $2f$ all squared distances are multiplied
# by 4, so $4 d_n \ge 4 d_p + 4\alpha \ge 4 d_p + \alpha$: the loss stays zero while every distance doubles.
# TL1 therefore fixes no scale and no threshold, and different regions of the space can settle at
# different scales, hence the learned $\tau$ of the thesis. TL3 is not scale-free: $d_p \le \beta$ and
# $d_n \ge \alpha$ are absolute, which is what makes $\tau = \sqrt{(\alpha+\beta)/2}$ meaningful.
# ```
#
# 2. Run the chapter with `tl1_tau="derived"`. What happens to TL1's multicut, and why?
#
# ```{admonition} Solution
# :class: dropdown
# TL1's distances have an arbitrary scale (usually far larger than 1 after training), so with
# $\tau = 0.775$ almost every pair costs $\tau - d < 0$: the multicut cuts nearly everything and returns
# hundreds of tiny clusters, and the accuracy collapses. Compare `tau_fit` of TL1 in the results with
# $\sqrt{0.6}$.
# ```
#
# 3. With $K$ balanced classes, what share of label-free ("random") negatives is wrong, and why does TL3
#    barely suffer from it while 20 % wrong positives hurt more?
#
# ```{admonition} Solution
# :class: dropdown
# A uniform negative shares the anchor's class with probability $1/K$ (10 % on CIFAR-10, a little less
# here because the anchor itself is excluded). A wrong negative in TL3 only adds $[\alpha - d_n]_+$ for a
# same-class pair, which pushes it out to $\sqrt{\alpha}$ at most, and the many right negatives dominate.
# A wrong positive adds $[d_p - \beta]_+$ for a different-class pair, pulling two classes together, which
# directly moves pairs across the threshold that the multicut relies on.
# ```
