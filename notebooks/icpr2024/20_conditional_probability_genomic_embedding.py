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
# # Conditional Probability-Based Feature Embedding for Genomic Sequence Data
#
# **Chapter `icpr2024-20`.** Parashjyoti Borah and Aparajita Dutta. *Conditional Probability-Based Feature
# Embedding for Genomic Sequence Data.* In: Pattern Recognition, ICPR 2024 (27th International Conference on
# Pattern Recognition), Proceedings Part X, Lecture Notes in Computer Science vol. 15310, pp. 302–314.
# Springer, 2025. (Our copy of the paper prints no DOI.)
#
# **The idea.** A DNA sequence is a row of categorical features, one per position, each taking one of the
# values A, C, G, T or N. Classifiers need numbers, and the usual translations are a one-hot vector per
# position (five numbers) or the binary code of the category's index (three numbers). Neither says anything
# about how a base at a given position relates to the classes. The paper replaces each base by the
# frequencies with which that base occurs at that position *within each class* of the training set: with
# two classes, every position becomes two numbers, $P(\text{base} \mid \text{positive})$ and
# $P(\text{base} \mid \text{negative})$. Positions where the classes use the same bases get nearly identical
# vectors for every base, so they stop contributing distance; positions where the classes differ are
# stretched apart. The embedding is shorter than one-hot (its length is the number of classes, not the
# number of categories), it can be read back position by position, and a sigmoid of the frequencies gives a
# nonlinear variant. The paper tests both variants against one-hot and binary codes for splice-site
# recognition with an SVM, a least squares SVM and a small 1D CNN.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's sizes and grids; many cores or a GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # "auto" picks CUDA when present (kernel algebra and the CNN run there)
data_root = None  # unused: the data are generated (the paper's GENCODE extraction is not available offline)
n_samples: int | None = None  # sequences per data set (the paper: 10,000)
seq_length: int | None = None  # bases per sequence (the paper: 164); at least 64 for the planted motifs
strength: float | None = None  # motif strength in [0, 1] for the main comparison
pos_fraction: float | None = None  # share of positive sequences, in (0, 1) (the paper: 0.5)
test_fraction: float | None = None  # share held out for testing, in (0, 1) (not stated in the paper)
embeddings: list | None = None  # subset of ["binary", "one-hot", "cp-linear", "cp-nonlinear", "k-mer"]
classifiers: list | None = None  # subset of ["SVM", "LS-SVM", "1D-CNN"]
kmer_k: int | None = None  # k of the k-mer frequency baseline (1..6)
cp_a: float | None = None  # a in the nonlinear embedding (Eq. 6); the paper suggests 5
cp_b: float | None = None  # b in Eq. 6; None means b = K (the paper's suggestion; K = 5 here)
cp_smoothing: float | None = None  # pseudo-count added to the class-conditional counts (the paper: 0)
sigmas: list | None = None  # Gaussian kernel widths sigma to tune (the paper: 2^-2 ... 2^12)
lambdas: list | None = None  # SVM / LS-SVM penalties lambda to tune (the paper: 2^-1 ... 2^10)
cnn_epochs: int | None = None  # maximum epochs of the 1D CNN (the paper: 100, with early stopping)
cnn_patience: int | None = None  # early stopping: epochs without a better validation accuracy
cnn_batch: list | None = None  # CNN grid: batch sizes (the paper: 16, 32, 64)
cnn_filters: list | None = None  # CNN grid: [first, second] conv filter pairs (the paper: 16/32/64 x 32/64/128)
cnn_dropout: list | None = None  # CNN grid: dropout rates (the paper: 0.1, 0.3, 0.5)
cnn_lr: list | None = None  # CNN grid: Adam learning rates (the paper: 0.001, 0.01, 0.1)
sweep_strengths: list | None = None  # motif strengths of the trend experiment (SVM), at least 3 values in [0, 1]
sweep_n_samples: int | None = None  # sequences per data set in the strength sweep
n_jobs: int | None = None  # worker processes for the SVM grid (joblib; -1 = all cores)

# %%
import reprobook as rb

EMBEDDINGS = ["binary", "one-hot", "cp-linear", "cp-nonlinear", "k-mer"]
CLASSIFIERS = ["SVM", "LS-SVM", "1D-CNN"]
PAPER_SIGMAS = [2.0 ** e for e in (-2, -1, 0, 1, 2, 4, 6, 8, 10, 12)]
PAPER_LAMBDAS = [2.0 ** e for e in (-1, 0, 1, 2, 3, 4, 5, 6, 8, 10)]
PROFILES = {
    "smoke": dict(n_samples=1000, seq_length=164, strength=0.8, pos_fraction=0.5, test_fraction=0.2,
                  embeddings=EMBEDDINGS, classifiers=CLASSIFIERS, kmer_k=3, cp_a=5.0, cp_b=None,
                  cp_smoothing=0.0, sigmas=[1.0, 4.0, 16.0], lambdas=[1.0, 8.0, 64.0], cnn_epochs=12,
                  cnn_patience=5, cnn_batch=[32], cnn_filters=[[16, 32]], cnn_dropout=[0.3], cnn_lr=[0.01],
                  sweep_strengths=[0.3, 0.5, 0.7, 0.9], sweep_n_samples=800, n_jobs=1, n_seeds=1),
    "full": dict(n_samples=10000, seq_length=164, strength=0.8, pos_fraction=0.5, test_fraction=0.2,
                 embeddings=EMBEDDINGS, classifiers=CLASSIFIERS, kmer_k=3, cp_a=5.0, cp_b=None,
                 cp_smoothing=0.0, sigmas=PAPER_SIGMAS, lambdas=PAPER_LAMBDAS, cnn_epochs=100,
                 cnn_patience=10, cnn_batch=[64], cnn_filters=[[32, 64], [64, 128]], cnn_dropout=[0.1, 0.5],
                 cnn_lr=[0.001], sweep_strengths=[0.2, 0.35, 0.5, 0.65, 0.8, 0.95], sweep_n_samples=2000,
                 n_jobs=-1, n_seeds=3),
}
run = rb.start("icpr2024-20", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(n_samples=n_samples, seq_length=seq_length, strength=strength,
                          pos_fraction=pos_fraction, test_fraction=test_fraction, embeddings=embeddings,
                          classifiers=classifiers, kmer_k=kmer_k, cp_a=cp_a, cp_b=cp_b,
                          cp_smoothing=cp_smoothing, sigmas=sigmas, lambdas=lambdas, cnn_epochs=cnn_epochs,
                          cnn_patience=cnn_patience, cnn_batch=cnn_batch, cnn_filters=cnn_filters,
                          cnn_dropout=cnn_dropout, cnn_lr=cnn_lr, sweep_strengths=sweep_strengths,
                          sweep_n_samples=sweep_n_samples, n_jobs=n_jobs))
cfg = run.cfg


def _positive_list(name, vals, kind=(int, float)):
    if not vals or not all(isinstance(v, kind) and not isinstance(v, bool) and v > 0 for v in vals):
        raise rb.ParameterError(f"{name}={vals!r}: a non-empty list of positive numbers is allowed")


if not cfg.embeddings or any(e not in EMBEDDINGS for e in cfg.embeddings):
    raise rb.ParameterError(f"embeddings={cfg.embeddings!r}: allowed is a non-empty subset of {EMBEDDINGS}")
if not cfg.classifiers or any(c not in CLASSIFIERS for c in cfg.classifiers):
    raise rb.ParameterError(f"classifiers={cfg.classifiers!r}: allowed is a non-empty subset of {CLASSIFIERS}")
if cfg.n_samples < 100 or cfg.sweep_n_samples < 100:
    raise rb.ParameterError(f"n_samples={cfg.n_samples}, sweep_n_samples={cfg.sweep_n_samples}: at least 100 sequences are needed")
if cfg.n_jobs == 0 or cfg.n_jobs < -1:
    raise rb.ParameterError(f"n_jobs={cfg.n_jobs}: a positive number of workers, or -1 for all cores")
if cfg.seq_length < 64:
    raise rb.ParameterError(f"seq_length={cfg.seq_length}: at least 64 bases are needed for the planted motifs")
for _name in ("strength",):
    if not 0.0 <= getattr(cfg, _name) <= 1.0:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)}: must be in [0, 1]")
for _name in ("pos_fraction", "test_fraction"):
    if not 0.0 < getattr(cfg, _name) < 1.0:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)}: must be in (0, 1)")
if not 1 <= cfg.kmer_k <= 6:
    raise rb.ParameterError(f"kmer_k={cfg.kmer_k}: allowed is 1..6")
if cfg.cp_a <= 0 or (cfg.cp_b is not None and (isinstance(cfg.cp_b, bool) or cfg.cp_b <= 0)):
    raise rb.ParameterError(f"cp_a={cfg.cp_a}, cp_b={cfg.cp_b}: a must be > 0 and b > 0 (or None for b = K)")
if cfg.cp_smoothing < 0:
    raise rb.ParameterError(f"cp_smoothing={cfg.cp_smoothing}: must be >= 0")
_positive_list("sigmas", cfg.sigmas)
_positive_list("lambdas", cfg.lambdas)
_positive_list("cnn_batch", cfg.cnn_batch, int)
_positive_list("cnn_dropout", cfg.cnn_dropout)
_positive_list("cnn_lr", cfg.cnn_lr)
if any(d >= 1 for d in cfg.cnn_dropout):
    raise rb.ParameterError(f"cnn_dropout={cfg.cnn_dropout}: each rate must be in (0, 1)")
if not cfg.cnn_filters or not all(isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(f, int) and f > 0 for f in p)
                                  for p in cfg.cnn_filters):
    raise rb.ParameterError(f"cnn_filters={cfg.cnn_filters!r}: a list of [first, second] pairs of positive integers")
if cfg.cnn_epochs < 1 or cfg.cnn_patience < 1:
    raise rb.ParameterError(f"cnn_epochs={cfg.cnn_epochs}, cnn_patience={cfg.cnn_patience}: both must be >= 1")
if len(cfg.sweep_strengths) < 3 or not all(0.0 <= s <= 1.0 for s in cfg.sweep_strengths):
    raise rb.ParameterError(f"sweep_strengths={cfg.sweep_strengths!r}: at least 3 values, each in [0, 1]")
print("resolved knobs:", vars(cfg))

# %% [markdown]
# ## The method
#
# **Notation.** A training set holds $N$ sequences $\mathbf x_i = (x_{i1}, \dots, x_{iD})$ with labels
# $y_i \in \{y_1, \dots, y_C\}$. Position $j$ is a categorical feature with values $v_{j1}, \dots, v_{jK_j}$
# (here $K_j = K = 5$: A, C, G, T, N).
#
# **Baselines.** One-hot maps $v_{jk}$ to $\mathbf o_{jk} \in \{0,1\}^{K}$ with a single 1 at place $k$;
# binary maps it to $\mathbf b_{jk}$, the bits of the integer $k$ (codes start at 1, so $K = 5$ needs
# $\lceil \log_2 K \rceil = 3$ bits). Our extra, position-free baseline (asked for by this book's plan, not
# in the paper) is the bag of $k$-mers: the share of each of the $K^k$ words of length $k$ among the
# $D - k + 1$ windows of a sequence.
#
# **Linear conditional-probability embedding (the paper's Eqs. 4–5).** With
# $S_{y_n} = \{\mathbf x_i : y_i = y_n\}$ and $S^{(n)}_{v_{jk}} = \{\mathbf x_i : y_i = y_n,\ x_{ij} = v_{jk}\}$,
#
# $$ P(v_{jk} \mid y_n) = \frac{|S^{(n)}_{v_{jk}}|}{|S_{y_n}|}, \qquad
#    \mathbf p_{jk} = \big(P(v_{jk} \mid y_1), \dots, P(v_{jk} \mid y_C)\big)^\top \in [0,1]^C . $$
#
# **Nonlinear variant (Eqs. 6–7).** With $r = |S^{(n)}_{v_{jk}}| / |S_{y_n}|$ and the paper's suggestion
# $a = 5$, $b = K_j$,
#
# $$ \hat P(v_{jk} \mid y_n) = \frac{1}{1 + e^{\,a (1 - b\, r)}}, \qquad
#    \hat{\mathbf p}_{jk} = \big(\hat P(v_{jk} \mid y_1), \dots, \hat P(v_{jk} \mid y_C)\big)^\top . $$
#
# The printed Eq. 6 lost part of its denominator; this is our reading of it (see the notes). It is 0.5
# where a base has the frequency of a uniform category ($r = 1/K$) and saturates within $r \in [0, 2/K]$.
#
# A sequence becomes the concatenation of its $D$ position vectors: $5D$ numbers for one-hot, $3D$ for
# binary, $CD$ for both conditional-probability (CP) embeddings. The counts use the labels, so they are taken
# on the training split only and then applied unchanged to validation and test sequences.
#
# **Classifiers (Sect. 3 and 5.2).** A kernel SVM (Eq. 1) and a least squares SVM (Eq. 2), both with the
# Gaussian kernel $k(\mathbf x, \mathbf z) = \exp(-\lVert \mathbf x - \mathbf z \rVert^2 / 2\sigma^2)$ and
# penalty $\lambda$; for labels $\pm 1$ the LS-SVM solves the bordered system
#
# $$ \begin{pmatrix} 0 & \mathbf 1^\top \\ \mathbf 1 & K + I/(2\lambda) \end{pmatrix}
#    \begin{pmatrix} b \\ \boldsymbol\alpha \end{pmatrix} = \begin{pmatrix} 0 \\ \mathbf y \end{pmatrix},
#    \qquad f(\mathbf x) = \textstyle\sum_i \alpha_i k(\mathbf x, \mathbf x_i) + b . $$
#
# The 1D CNN reads the embedded sequence as one channel of length $wD$ ($w$ numbers per base). Its first
# convolution has kernel $3w$ and stride $w$ (Eq. 3 with $\varepsilon = w$: one codon at a time; we
# implement it as a kernel of 3 positions over $w$ input channels, the same function), then
# max-pooling by 2, a second convolution (kernel 3), max-pooling by 2, global max-pooling, dropout, a dense
# layer of 64 ReLU units and a two-way softmax, trained with Adam and early stopping on validation accuracy.
#
# The encoders live in `reprobook.categorical`, the generator in `reprobook.motifs` and the LS-SVM solver in
# `reprobook.lssvm` (all unit-tested: the CP table equals scikit-learn's `CategoricalNB` frequencies, the
# one-hot code equals `OneHotEncoder`, and the LS-SVM dual equals the primal least-squares solution). The
# CP encoder is short enough to print:

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.svm import SVC
from torch import nn

from reprobook import categorical, lssvm, motifs, train
from reprobook.runtime import seed_everything

print(inspect.getsource(categorical.ConditionalProbabilityEncoder.fit))
print(inspect.getsource(categorical.sigmoid_probability))

# %% [markdown]
# The nonlinear map for $a = 5$ and several $b$ (the paper's Fig. 1 plots the same curves against the count
# $|S^{(n)}_{v_{jk}}|$ for a fixed class size; as a function of the ratio the class size drops out).

# %%
r = np.linspace(0, 1, 401)
fig, ax = plt.subplots(figsize=(6, 3.6))
for b in (2, 3, 4, 5, 10):
    ax.plot(r, categorical.sigmoid_probability(r, cfg.cp_a, b), label=f"b = {b}")
ax.set_xlabel("class-conditional frequency r = |S_v^(n)| / |S_y_n|")
ax.set_ylabel("nonlinear embedding value")
ax.set_title(f"Eq. 6 as we read it, a = {cfg.cp_a:g}")
ax.legend()
fig.tight_layout()
fig.savefig(run.figure_path("nonlinear_map.png"), dpi=120)
plt.show()

# %% [markdown]
# The embeddings of one data set, fitted on the training rows only. Every per-position embedding is laid out
# position by position, so the CNN's stride equals the per-base width.

# %%
def embed_all(X, y, train_idx, names, cfg):
    """{name: (matrix of all rows, width per base or None for the position-free k-mer bag)}."""
    K = len(motifs.DNA)
    out = {}
    for name in names:
        if name == "one-hot":
            out[name] = (categorical.one_hot(X, K), K)
        elif name == "binary":
            out[name] = (categorical.binary(X, K), categorical.binary_width(K))
        elif name == "k-mer":
            out[name] = (categorical.kmer_frequencies(X, K, cfg.kmer_k), None)
        else:
            enc = categorical.ConditionalProbabilityEncoder(K, nonlinear=(name == "cp-nonlinear"), a=cfg.cp_a,
                                                            b=cfg.cp_b, smoothing=cfg.cp_smoothing)
            enc.fit(X[train_idx], y[train_idx])
            out[name] = (enc.transform(X), enc.width)
    return out


# %% [markdown]
# **Model selection.** As in the paper, a 75:25 hold-out split of the training set picks the hyperparameters
# by validation accuracy (ties: the first grid point). The SVM and the LS-SVM are then refitted on the whole
# training set with the chosen $(\sigma, \lambda)$; the CNN keeps the weights of its best validation epoch.
# The test set is touched once, for the final numbers. All kernel matrices come from one matrix of squared
# distances per embedding, so the SVM uses scikit-learn's `SVC` with a precomputed kernel ($C = \lambda$) and
# the LS-SVM solves a whole $\lambda$ path from one eigendecomposition per $\sigma$.

# %%
def metrics(y_true, y_pred):
    return {"accuracy": 100.0 * accuracy_score(y_true, y_pred),
            "precision": precision_score(y_true, y_pred, zero_division=0),
            "recall": recall_score(y_true, y_pred, zero_division=0),
            "f1": f1_score(y_true, y_pred, zero_division=0)}


def _kernel_setup(Z, y, dev):
    Zt = torch.as_tensor(Z, dtype=torch.float64, device=dev)
    ypm = torch.as_tensor(np.where(y == 1, 1.0, -1.0), dtype=torch.float64, device=dev)
    return lssvm.sq_dists(Zt, Zt), ypm


def _svc_val(Kf, yf, Kv, lam):
    return SVC(C=lam, kernel="precomputed").fit(Kf, yf).predict(Kv) == 1


def tune_kernel_model(Z, y, fit_idx, val_idx, cfg, which, dev):
    """(sigma, lambda) with the best validation accuracy (first in grid order on ties)."""
    D2, ypm = _kernel_setup(Z, y, dev)
    f_, v_ = torch.as_tensor(fit_idx, device=dev), torch.as_tensor(val_idx, device=dev)
    best, best_acc = None, -1.0
    for sig in cfg.sigmas:
        K = lssvm.gaussian_kernel(D2, sig)
        K_ff, K_vf = K[f_][:, f_], K[v_][:, f_]
        if which == "LS-SVM":
            preds = [(lssvm.decision(K_vf, a, b) > 0).cpu().numpy()
                     for a, b in lssvm.lssvm_path(K_ff, ypm[f_], cfg.lambdas)]
        else:
            Kf, Kv = K_ff.cpu().numpy(), K_vf.cpu().numpy()
            preds = Parallel(n_jobs=cfg.n_jobs)(delayed(_svc_val)(Kf, y[fit_idx], Kv, lam) for lam in cfg.lambdas)
        for lam, p in zip(cfg.lambdas, preds):
            acc = float(np.mean(p == (y[val_idx] == 1)))
            if acc > best_acc:
                best, best_acc = (sig, lam), acc
    return {"sigma": best[0], "lambda": best[1], "val_accuracy": 100 * best_acc}


def fit_predict_kernel_model(Z, y, train_idx, test_idx, sig, lam, which, dev):
    """Fit on the training rows with one (sigma, lambda) and score the test rows."""
    D2, ypm = _kernel_setup(Z, y, dev)
    K = lssvm.gaussian_kernel(D2, sig)
    t_, s_ = torch.as_tensor(train_idx, device=dev), torch.as_tensor(test_idx, device=dev)
    if which == "LS-SVM":
        a, b = lssvm.lssvm_fit(K[t_][:, t_], ypm[t_], lam)
        pred = (lssvm.decision(K[s_][:, t_], a, b) > 0).cpu().numpy().astype(int)
    else:
        svc = SVC(C=lam, kernel="precomputed").fit(K[t_][:, t_].cpu().numpy(), y[train_idx])
        pred = svc.predict(K[s_][:, t_].cpu().numpy())
    return metrics(y[test_idx], pred)


def evaluate_kernel_model(Z_sel, Z_fin, y, fit_idx, val_idx, train_idx, test_idx, cfg, which, dev):
    """Tune on (fit, val) with embeddings fitted on the fit rows; refit on train with embeddings fitted on train."""
    ch = tune_kernel_model(Z_sel, y, fit_idx, val_idx, cfg, which, dev)
    return fit_predict_kernel_model(Z_fin, y, train_idx, test_idx, ch["sigma"], ch["lambda"], which, dev), ch


# %% [markdown]
# The 1D CNN, trained one epoch at a time through the book's shared loop (`reprobook.train.fit`) so that we
# can stop early and keep the best validation epoch.

# %%
class CNN1D(nn.Module):
    def __init__(self, width, f1, f2, dropout):
        super().__init__()
        self.width = width
        self.features = nn.Sequential(
            nn.Conv1d(width, f1, kernel_size=3), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(f1, f2, kernel_size=3), nn.ReLU(), nn.MaxPool1d(2), nn.AdaptiveMaxPool1d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(f2, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, x):
        # (batch, D * width) -> (batch, width, D): a kernel of 3 positions over `width` channels is the
        # paper's kernel of 3 * width numbers with stride width over the flat vector, with its weights reordered
        return self.head(self.features(x.reshape(x.shape[0], -1, self.width).transpose(1, 2)))


class Batches:
    """Shuffled mini-batches of tensors already on the device (a DataLoader is overhead at this size)."""

    def __init__(self, X, y, batch, generator):
        self.X, self.y, self.batch, self.g = X, y, batch, generator

    def __iter__(self):
        perm = torch.randperm(len(self.y), generator=self.g).to(self.X.device)
        for i in range(0, len(perm), self.batch):
            idx = perm[i:i + self.batch]
            yield self.X[idx], self.y[idx]


def train_cnn(Z, y, width, fit_idx, val_idx, hp, cfg, dev, seed):
    torch.manual_seed(seed)
    model = CNN1D(width, hp["f1"], hp["f2"], hp["dropout"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    Zt = torch.as_tensor(Z, dtype=torch.float32, device=dev)
    yt = torch.as_tensor(y, dtype=torch.long, device=dev)
    loader = Batches(Zt[fit_idx], yt[fit_idx], hp["batch"], torch.Generator().manual_seed(seed))
    best_acc, best_state, since = -1.0, None, 0
    for epoch in range(cfg.cnn_epochs):
        train.fit(model, loader, epochs=1, optimizer=opt, device=dev, progress=False)
        model.eval()
        with torch.no_grad():
            acc = float((model(Zt[val_idx]).argmax(1) == yt[val_idx]).float().mean())
        if acc > best_acc:
            best_acc, since = acc, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= cfg.cnn_patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return model, best_acc, epoch + 1


def select_cnn(Z, y, width, fit_idx, val_idx, test_idx, cfg, dev, seed):
    grid = [dict(batch=bs, f1=f[0], f2=f[1], dropout=dr, lr=lr) for bs in cfg.cnn_batch for f in cfg.cnn_filters
            for dr in cfg.cnn_dropout for lr in cfg.cnn_lr]
    best = None
    for hp in grid:
        model, acc, epochs = train_cnn(Z, y, width, fit_idx, val_idx, hp, cfg, dev, seed)
        if best is None or acc > best[1]:
            best = (model, acc, epochs, hp)
    model, acc, epochs, hp = best
    with torch.no_grad():
        pred = model(torch.as_tensor(Z[test_idx], dtype=torch.float32, device=dev)).argmax(1).cpu().numpy()
    return metrics(y[test_idx], pred), {**hp, "epochs": epochs, "val_accuracy": 100 * acc}


# %% [markdown]
# ## The experiment
#
# **Data: a splice-site stand-in with planted motifs.** The paper's data are 10,000 balanced windows of 164
# bases from the human genome (GENCODE, GRCh38): positives around annotated splice junctions, negatives
# around genomic GT/AG dinucleotides that are not junctions. That extraction needs the genome and the
# annotation, which this offline book does not have. We generate sequences that copy its construction
# (`reprobook.motifs.planted_motifs`): bases drawn with 41 % GC content and 0.1 % N; the dinucleotide GT
# written at the centre of *every* sequence (the decoy that makes the paper's negatives hard); and, in the
# positives only, a splice-donor-like consensus around it (exon `MAG`, intron `RAGT` after the GT) plus a
# loosely placed downstream motif `CTRAY` (18 bases after the centre, shifted by up to ±8 per sequence).
# The *motif strength* $s$ mixes each motif position between the background ($s = 0$) and the consensus
# ($s = 1$). The main comparison uses $s = 0.8$, where one-hot SVM lands in the paper's 90–95 % range; a
# second experiment sweeps $s$. Length, class balance and strength are knobs. The split into training and
# test is random (the paper does not state its test size; we hold out 20 %).

# %%
dev = run.device
rows, chosen, timings = [], [], []
dims = {}
example = None
t_all = time.perf_counter()
for s in run.seeds:
    rng = seed_everything(s)
    X, y = motifs.planted_motifs(cfg.n_samples, cfg.seq_length, cfg.strength, rng, pos_fraction=cfg.pos_fraction)
    perm = rng.permutation(cfg.n_samples)
    n_test = int(round(cfg.test_fraction * cfg.n_samples))
    test_idx, train_idx = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    sub = rng.permutation(train_idx)
    n_val = int(round(0.25 * len(train_idx)))
    val_idx, fit_idx = np.sort(sub[:n_val]), np.sort(sub[n_val:])
    # CP statistics for model selection come from the fitting rows; the final refit uses all training rows
    emb_sel = embed_all(X, y, fit_idx, cfg.embeddings, cfg)
    emb_fin = embed_all(X, y, train_idx, cfg.embeddings, cfg)
    if example is None:
        example = (X, y, train_idx)
    for name in cfg.embeddings:
        Z_sel, width = emb_sel[name]
        Z_fin, _ = emb_fin[name]
        dims[name] = Z_fin.shape[1]
        for clf in cfg.classifiers:
            if clf == "1D-CNN":
                if width is None:
                    continue  # the k-mer bag has no sequence axis to convolve over
                t0 = time.perf_counter()
                m, ch = select_cnn(Z_sel, y, width, fit_idx, val_idx, test_idx, cfg, dev, s)
            else:
                t0 = time.perf_counter()
                m, ch = evaluate_kernel_model(Z_sel, Z_fin, y, fit_idx, val_idx, train_idx, test_idx, cfg, clf, dev)
            timings.append(dict(seed=s, embedding=name, classifier=clf, seconds=time.perf_counter() - t0))
            rows.append(dict(seed=s, embedding=name, classifier=clf, **m))
            chosen.append(dict(seed=s, embedding=name, classifier=clf, **ch))
res = pd.DataFrame(rows)
sel = pd.DataFrame(chosen)
tim = pd.DataFrame(timings)
print(f"main comparison: {len(res)} (seed, embedding, classifier) runs in {time.perf_counter() - t_all:.1f} s")
print("embedded dimension:", dims)
table = res.groupby(["classifier", "embedding"])[["accuracy", "precision", "recall", "f1"]].agg(["mean", "std"]).round(3)
table

# %% [markdown]
# The hyperparameters chosen on the validation split:

# %%
sel.drop(columns=["seed"]).groupby(["classifier", "embedding"]).first() if len(run.seeds) == 1 else sel

# %% [markdown]
# What the CP embedding sees: for the positions around the centre, the difference between the class-
# conditional base frequencies, $P(v \mid \text{positive}) - P(v \mid \text{negative})$, from the training
# rows of the first seed. The planted motifs show up as bright cells; everywhere else the two classes'
# columns of the embedding nearly coincide, so those positions add almost nothing to kernel distances.

# %%
Xe, ye, tre = example
enc = categorical.ConditionalProbabilityEncoder(5).fit(Xe[tre], ye[tre])
diff = (enc.table_[:, :, 1] - enc.table_[:, :, 0]).T  # (base, position), classes sorted: 0 then 1
centre = cfg.seq_length // 2
lo, hi = centre - 12, min(cfg.seq_length, centre + 32)
fig, ax = plt.subplots(figsize=(11, 2.8))
im = ax.imshow(diff[:, lo:hi], aspect="auto", cmap="RdBu_r", vmin=-0.6, vmax=0.6,
               extent=(lo - centre - 0.5, hi - centre - 0.5, 4.5, -0.5))
ax.set_yticks(range(5), list(motifs.DNA))
ax.set_xlabel("position relative to the centre (GT decoy at 0, 1)")
ax.set_ylabel("base")
ax.set_title(f"CP embedding: P(base | positive) - P(base | negative), strength {cfg.strength:g}")
fig.colorbar(im, ax=ax, label="difference")
fig.tight_layout()
fig.savefig(run.figure_path("cp_table.png"), dpi=120)
plt.show()

# %% [markdown]
# Test accuracy for every classifier and embedding (bars: mean over seeds; whiskers: standard deviation when
# there are several seeds).

# %%
acc = res.groupby(["classifier", "embedding"]).accuracy.agg(["mean", "std"]).reset_index()
fig, ax = plt.subplots(figsize=(9, 3.8))
clfs = [c for c in CLASSIFIERS if c in cfg.classifiers]
width_bar = 0.8 / len(cfg.embeddings)
for i, name in enumerate(cfg.embeddings):
    part = acc[acc.embedding == name].set_index("classifier").reindex(clfs)
    ax.bar(np.arange(len(clfs)) + i * width_bar, part["mean"], width_bar, yerr=part["std"].fillna(0), label=name)
ax.set_xticks(np.arange(len(clfs)) + width_bar * (len(cfg.embeddings) - 1) / 2, clfs)
ax.set_ylim(max(0, acc["mean"].min() - 10), 100)
ax.set_xlabel("classifier")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"Planted-motif task, strength {cfg.strength:g}, {cfg.n_samples} sequences")
ax.legend(ncol=3, fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("accuracy_bars.png"), dpi=120)
plt.show()

# %% [markdown]
# **Motif strength sweep.** How does the gap between the embeddings change as the planted signal gets weaker
# or stronger? For each strength we draw a fresh data set of the same size and tune and test the SVM (the
# paper's first classifier) on one-hot, linear CP and the $k$-mer bag, with the same grid and protocol as
# above.

# %%
SWEEP_EMB = [e for e in ("one-hot", "cp-linear", "k-mer") if e in cfg.embeddings]
sweep = []
t0 = time.perf_counter()
for s in run.seeds:
    for st in cfg.sweep_strengths:
        rng = seed_everything(1000 * s + int(round(1000 * st)))
        X, y = motifs.planted_motifs(cfg.sweep_n_samples, cfg.seq_length, st, rng, pos_fraction=cfg.pos_fraction)
        perm = rng.permutation(cfg.sweep_n_samples)
        n_test = int(round(cfg.test_fraction * cfg.sweep_n_samples))
        test_idx, train_idx = np.sort(perm[:n_test]), np.sort(perm[n_test:])
        sub = rng.permutation(train_idx)
        n_val = int(round(0.25 * len(train_idx)))
        val_idx, fit_idx = np.sort(sub[:n_val]), np.sort(sub[n_val:])
        emb_sel = embed_all(X, y, fit_idx, SWEEP_EMB, cfg)
        emb_fin = embed_all(X, y, train_idx, SWEEP_EMB, cfg)
        for name in SWEEP_EMB:
            m, _ = evaluate_kernel_model(emb_sel[name][0], emb_fin[name][0], y, fit_idx, val_idx, train_idx,
                                         test_idx, cfg, "SVM", dev)
            sweep.append(dict(seed=s, strength=st, embedding=name, **m))
sw = pd.DataFrame(sweep)
print(f"strength sweep: {len(sw)} runs in {time.perf_counter() - t0:.1f} s")
sw_acc = sw.pivot_table(index=["seed", "strength"], columns="embedding", values="accuracy").reset_index()
sw_acc

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
agg = sw.groupby(["strength", "embedding"]).accuracy.agg(["mean", "std"]).reset_index()
for name in SWEEP_EMB:
    part = agg[agg.embedding == name]
    axes[0].errorbar(part.strength, part["mean"], yerr=part["std"].fillna(0), marker="o", capsize=3, label=name)
axes[0].set_xlabel("motif strength s")
axes[0].set_ylabel("SVM test accuracy (%)")
axes[0].set_title("Accuracy against motif strength")
axes[0].legend()
if {"one-hot", "cp-linear"} <= set(SWEEP_EMB):
    gap = (sw_acc["cp-linear"] - sw_acc["one-hot"]).to_numpy()
    axes[1].scatter(sw_acc.strength, gap, color="C1")
    g = sw_acc.assign(gap=gap).groupby("strength").gap.mean()
    axes[1].plot(g.index, g.values, color="C1")
    axes[1].axhline(0, color="k", lw=0.8)
axes[1].set_xlabel("motif strength s")
axes[1].set_ylabel("CP-linear minus one-hot (points)")
axes[1].set_title("Gain of the CP embedding (SVM)")
fig.tight_layout()
fig.savefig(run.figure_path("strength_sweep.png"), dpi=120)
plt.show()

# %% [markdown]
# ## Claims
#
# Rules fixed before the run. Every measured value is one test-set number per seed, paired across
# embeddings by seed. `Better` asks for a mean gain beyond two standard errors of the paired differences;
# with one seed (smoke) it decides on the sign alone, so smoke verdicts are indicative only. The paper's
# accuracies are on real splice sites and ours on generated sequences, so only the *relative* claims are
# compared; the dimensions of Table 1 are exact because our sequences have the paper's length.
#
# - "CP is best" (Tables 2–4, boldface): CP beats both one-hot and binary in accuracy, for the CP variant
#   the paper's table marks best for that classifier.
# - "Comparable with fewer features" (Sect. 6): for every classifier the better CP variant is at most one
#   point below one-hot (`Better` with margin $-1$).
# - The 1D-CNN gap (Table 4: +5.0 points over one-hot) is tested as a gain of more than one point.
# - The $k$-mer claim and the strength trend are not numbers from the paper: the $k$-mer bag is the
#   coarse baseline the paper's related work dismisses, and the trend is our prediction from the paper's
#   own explanation (a compact, class-informed code should matter most when the signal is scarce): the
#   CP gain over one-hot should shrink as the motifs get stronger (Spearman $\rho \le -0.5$ over all seeds
#   and strengths).

# %%
def per_seed(clf, emb, col="accuracy"):
    part = res[(res.classifier == clf) & (res.embedding == emb)].sort_values("seed")
    return part[col].round(4).tolist()


def have(clf, *embs):
    return clf in cfg.classifiers and all(e in cfg.embeddings for e in embs)


ledger = rb.Ledger()
if all(e in cfg.embeddings for e in ("cp-linear", "binary", "one-hot")):
    ledger.claim("dimension",
                 "The CP embedding is shorter than binary, which is shorter than one-hot",
                 paper="CP 328 < binary 492 < one-hot 820 features (Table 1)",
                 measured={"cp-linear": dims["cp-linear"], "binary": dims["binary"], "one-hot": dims["one-hot"]},
                 rule=rb.Ordered(("cp-linear", "binary", "one-hot"), higher_is_better=False))
BEST = {"SVM": ("cp-linear", "Table 2: CP-linear 94.98 vs one-hot 94.70 vs binary 94.31 %"),
        "LS-SVM": ("cp-nonlinear", "Table 3: CP-nonlinear 95.32 vs one-hot 95.29 vs binary 94.91 %"),
        "1D-CNN": ("cp-linear", "Table 4: CP-linear 94.17 vs one-hot 89.20 vs binary 88.56 %")}
for clf, (cp, paper_txt) in BEST.items():
    if not have(clf, cp, "one-hot", "binary"):
        continue
    margin = 1.0 if clf == "1D-CNN" else 0.0
    ledger.claim(f"{clf.lower()}-cp-best",
                 f"{clf}: {cp} is more accurate than one-hot and binary"
                 + (" by more than one point" if margin else ""),
                 paper=paper_txt,
                 measured={cp: per_seed(clf, cp), "one-hot": per_seed(clf, "one-hot"),
                           "binary": per_seed(clf, "binary")},
                 rule=rb.AllOf(rb.Better(cp, "one-hot", margin=margin), rb.Better(cp, "binary", margin=margin)))
if all(e in cfg.embeddings for e in ("cp-linear", "cp-nonlinear", "one-hot")):
    meas, rules = {}, []
    for clf in cfg.classifiers:
        best_cp = np.maximum(per_seed(clf, "cp-linear"), per_seed(clf, "cp-nonlinear")).tolist()
        meas[f"{clf} best CP"], meas[f"{clf} one-hot"] = best_cp, per_seed(clf, "one-hot")
        rules.append(rb.Better(f"{clf} best CP", f"{clf} one-hot", margin=-1.0))
    ledger.claim("cp-comparable",
                 "With fewer features, CP is at least comparable to one-hot (within one point) for every classifier",
                 paper="best CP minus one-hot: +0.28 (SVM), +0.04 (LS-SVM), +4.97 (1D-CNN) points (Tables 2-4); Sect. 6",
                 measured=meas, rule=rb.AllOf(*rules))
if all(e in cfg.embeddings for e in ("cp-linear", "one-hot")):
    meas, rules = {}, []
    for clf in cfg.classifiers:
        meas[f"{clf} CP-linear F1"] = per_seed(clf, "cp-linear", "f1")
        meas[f"{clf} one-hot F1"] = per_seed(clf, "one-hot", "f1")
        rules.append(rb.Better(f"{clf} CP-linear F1", f"{clf} one-hot F1"))
    ledger.claim("cp-f1",
                 "CP-linear has a higher F1-score than one-hot for every classifier",
                 paper="F1 0.9491 vs 0.9461 (SVM), 0.9523 vs 0.9522 (LS-SVM), 0.9405 vs 0.8904 (1D-CNN) (Tables 2-4)",
                 measured=meas, rule=rb.AllOf(*rules))
if all(e in cfg.embeddings for e in ("cp-linear", "k-mer")):
    kc = [c for c in ("SVM", "LS-SVM") if c in cfg.classifiers]
    if kc:
        ledger.claim("cp-beats-kmer",
                     "CP-linear is more accurate than the bag of k-mers with the kernel classifiers",
                     paper="not in the paper's tables; Sect. 2 calls k-mer count vectors too coarse",
                     measured={**{f"{c} CP-linear": per_seed(c, "cp-linear") for c in kc},
                               **{f"{c} k-mer": per_seed(c, "k-mer") for c in kc}},
                     rule=rb.AllOf(*[rb.Better(f"{c} CP-linear", f"{c} k-mer") for c in kc]))
if {"one-hot", "cp-linear"} <= set(SWEEP_EMB):
    ledger.claim("gain-shrinks-with-strength",
                 "The CP gain over one-hot (SVM) shrinks as the planted motifs get stronger",
                 paper="no number: our prediction from Sect. 5.3's explanation (compact, class-informed code)",
                 measured={"strength": sw_acc.strength.tolist(),
                           "CP minus one-hot": (sw_acc["cp-linear"] - sw_acc["one-hot"]).round(4).tolist()},
                 rule=rb.Correlates("strength", "CP minus one-hot", sign=-1, min_rho=0.5))
    ledger.claim("accuracy-rises-with-strength",
                 "Sanity check of the generator: CP-linear SVM accuracy rises with motif strength",
                 paper="no number (a property of our stand-in data, not a claim of the paper)",
                 measured={"strength": sw_acc.strength.tolist(), "CP-linear": sw_acc["cp-linear"].round(4).tolist()},
                 rule=rb.Correlates("strength", "CP-linear", sign=1, min_rho=0.8))
if have("SVM", "cp-linear", "one-hot"):
    t_svm = tim[tim.classifier == "SVM"].pivot_table(index="seed", columns="embedding", values="seconds")
    ledger.claim("cp-faster",
                 "Tuning and training the SVM is faster on CP than on one-hot (fewer features)",
                 paper="no number; 'faster in execution' (Sect. 6)",
                 measured={"CP-linear s": t_svm["cp-linear"].tolist(), "one-hot s": t_svm["one-hot"].tolist()},
                 rule=rb.Better("CP-linear s", "one-hot s", higher_is_better=False), volatile=True)
ledger.claim("real-splice-sites",
             "The absolute accuracies on human splice sites (94-95 % for the kernel machines)",
             paper="Tables 2-4",
             rule=rb.NotTestable("needs the GRCh38 genome and GENCODE annotation; the book runs offline on generated sequences"))

for clf in cfg.classifiers:
    for name in cfg.embeddings:
        if clf == "1D-CNN" and name == "k-mer":
            continue
        run.log(**{f"{clf}_{name}_accuracy": per_seed(clf, name), f"{clf}_{name}_f1": per_seed(clf, name, "f1")})
run.log(dims=dims)
for name in SWEEP_EMB:
    run.log(**{f"sweep_{name}_accuracy": sw_acc[name].round(4).tolist()})
run.log_timing(**{f"{c}_{e}_s": tim[(tim.classifier == c) & (tim.embedding == e)].seconds.round(3).tolist()
                  for c in cfg.classifiers for e in cfg.embeddings if not (c == "1D-CNN" and e == "k-mer")})
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data.** The paper's windows come from GENCODE splice junctions on GRCh38; we cannot download them, so
#   every number here is on generated sequences that copy the construction (a GT decoy at the centre of all
#   windows, donor-like consensus only in positives). The absolute accuracies therefore mean nothing for
#   splice sites, and the ledger compares only relative claims. With `strength` near 0.8 the kernel
#   machines reach the paper's accuracy range, which is the regime its tables describe.
# - **Eq. 6 is garbled** in our copy: the denominator reads $a(1 - b\,r)$ with the rest missing. We read it
#   as the logistic function $1/(1 + e^{a(1 - b r)})$: it matches the text (sigmoid-like, $a$ sets the
#   range, $b = K_j$ puts the midpoint at the uniform frequency $1/K_j$) and the shape of Fig. 1. `cp_a` and
#   `cp_b` are knobs.
# - **Where the CP counts come from.** The paper does not say; counting on all data would leak the test
#   labels into the features. We count on the rows a model is trained on (the 75 % fitting part during
#   model selection, the whole training split for the final refit) and never on test rows.
# - **Binary code length.** The paper gives $\lceil \log_2 K_j \rceil$ bits with codes starting at 1, which
#   is one bit short when $K_j$ is a power of two; for $K_j = 5$ both give 3 bits and Table 1's 492.
# - **LS-SVM penalty.** Eq. 2 writes $\lambda \sum \xi_i^2$ without the usual factor $\tfrac12$, so the
#   ridge added to the kernel is $I/(2\lambda)$; we follow Eq. 2.
# - **SVM details.** The paper used MATLAB; we use scikit-learn's `SVC` (libsvm) with $C = \lambda$ and the
#   same Gaussian kernel, grids from Sect. 5.2 in the full profile and a 3 × 3 subset in the smoke profile.
# - **CNN.** The paper gives the layer sequence, the first layer's stride ($w$) and kernel ($3w$) but not
#   the second convolution's kernel; we use 3 (three positions of the first layer's output). The paper's
#   grid has 243 combinations; the full profile tunes a 4-point subset (batch 64, filters 32-64 or 64-128,
#   dropout 0.1/0.5, learning rate 0.001, up to 100 epochs with patience 10) and the smoke profile one
#   setting (learning rate 0.01, at most 12 epochs, patience 5). In a longer check on the smoke data (20
#   epochs) the one-hot CNN plateaued near 86-88 % validation accuracy and the CP CNN near 95 %, so the
#   smoke gap is not only a matter of short training; the first few epochs of the one-hot CNN sit at chance
#   level, which is why the smoke patience is 5 rather than 3. The full profile (up to 100 epochs,
#   patience 10) is the fair test. The learning rate 0.1
#   is left out (with Adam it makes this small network diverge). The
#   two-output softmax with cross-entropy is the same loss as the paper's "binary cross-entropy". The
#   CNN keeps its best validation epoch instead of being refitted on all training rows.
# - **k-mer baseline.** Added at the request of this book's plan (the paper compares one-hot and binary
#   only). It is not given to the CNN, which needs a sequence axis.
# - **Test split.** The paper does not give its size; we hold out a random 20 % (not
#   stratified; the class shares of the splits vary by sampling only).
# - **Cost of the full profile.** It uses the paper's sizes (10,000 sequences, 6,000 fitting rows during
#   model selection) and the paper's $10 \times 10$ kernel grids. One LS-SVM path needs a 6,000 × 6,000
#   eigendecomposition per $\sigma$ (a few seconds on a GPU, about two minutes on one CPU core) and the SVM
#   grid is 100 libsvm fits per embedding (spread over cores with `n_jobs`), so the full profile is meant
#   for a GPU machine with many cores; on a small CPU shrink it with `n_samples`, `sigmas`, `lambdas` or
#   `n_seeds`. The strength sweep uses 2,000 sequences per strength (`sweep_n_samples`).
# - **Timing claim.** Timings depend on the machine's load (the smoke runs share two cores with other jobs);
#   the claim is marked volatile and is not part of the smoke regression.

# %% [markdown]
# ## Exercises
#
# 1. Show that, for two classes and a position whose bases have the same distribution in both classes, the
#    linear CP embedding maps every base to a point on the diagonal $p_1 = p_2$, and explain what that does
#    to the Gaussian kernel.
#
# ```{admonition} Solution
# :class: dropdown
# If $P(v \mid y_1) = P(v \mid y_2) = q_v$ for every base $v$, base $v$ becomes $(q_v, q_v)$. Two bases
# $v, u$ then differ by $\sqrt 2\, |q_v - q_u|$, which is small when the bases have similar background
# frequencies (with 41 % GC: A and T at 0.295, C and G at 0.205, so at most $\sqrt 2 \cdot 0.09 \approx 0.13$
# among A, C, G and T, against $\sqrt 2$ between any two one-hot codes; the rare N sits near the origin,
# about 0.42 from A or T). Uninformative positions therefore contribute little to
# $\lVert \mathbf x - \mathbf z \rVert^2$ and the kernel is dominated by the informative positions: CP
# acts as a supervised, per-position feature weighting. In finite samples the two frequencies differ by
# sampling noise of order $\sqrt{q(1-q)/|S_{y_n}|}$, which is why very small training sets blur it.
# ```
#
# 2. Run the chapter with `pos_fraction=0.2`. Which embedding is affected by the class imbalance in its
#    *construction*, and which metric would you now report instead of accuracy?
#
# ```{admonition} Solution
# :class: dropdown
# The CP embedding divides by the class size $|S_{y_n}|$, so its values are per-class frequencies and do not
# depend on the class shares directly; but the minority class's frequencies are estimated from fewer rows
# and are noisier. One-hot, binary and k-mer codes do not use labels at all. With 20 % positives a
# classifier that always says "negative" scores 80 % accuracy, so precision, recall and F1 of the positive
# class (all computed here) or a balanced accuracy are the numbers to look at; the paper's remark that
# accuracy is "neutral" holds only for its balanced data.
# ```
#
# 3. Compute the CP statistics on *all* rows (training and test) instead of the training rows only, and
#    compare the test accuracy at a weak motif strength (say $s = 0.3$). Why does the score go up, and why is
#    it wrong?
#
# ```{admonition} Solution
# :class: dropdown
# Counting on all rows lets each test sequence's own label enter the frequencies of the bases it carries:
# for a test positive, each of its bases gets a slightly larger $P(v \mid \text{positive})$, which pulls its
# embedding towards the positive class. With weak motifs the true signal is small, so this leak can be a
# visible share of the accuracy (with 200 test rows out of 1,000 each test row moves its own class's
# frequencies by about 1/500). It is target leakage: the features of a test point depend on its label,
# which no deployed model could know. Fitting the encoder on the training rows only (as this chapter does)
# removes it.
# ```
