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
# # Noisy Deep Ensemble: Accelerating Deep Ensemble Learning via Noise Injection
#
# **Chapter `iconip2024-21`.** Shunsuke Sakai, Shunsuke Tsuge, Tatsuhito Hasegawa. *Noisy Deep Ensemble:
# Accelerating Deep Ensemble Learning via Noise Injection*. In: Neural Information Processing, 31st
# International Conference, ICONIP 2024, Proceedings Part I, Lecture Notes in Computer Science vol. 15286,
# pp. 301–317, Springer, 2025. DOI: [10.1007/978-981-96-6576-1_21](https://doi.org/10.1007/978-981-96-6576-1_21) (inferred from
# the volume's chapter numbering; the paper's text does not print it).
# Code by the authors: <https://github.com/TSTB-dev/NoisyDeepEnsemble>.
#
# **The idea.** A deep ensemble averages the predictions of $M$ networks trained from different random
# starts; it is more accurate and better calibrated than one network, but it costs $M$ full trainings.
# The paper trains one network (the *parent*) to convergence once, then makes $M$ *children* by copying
# the parent and adding random noise to a random subset of its weights, and trains each child only for a
# short while (a quarter of the parent's epochs). The noise pushes each child out of the parent's basin so
# that the short retraining ends in a different minimum; the children start from good weights, so they
# converge quickly. The ensemble of children should then be nearly as good as a standard ensemble at a
# fraction of the cost, $T_\text{parent} + M\,T_\text{child}$ instead of $M\,T_\text{single}$. This chapter
# implements the perturbation exactly as the paper's equation states it and tests the claims on a small
# image task (and on CIFAR-10 when it is on disk), including the control the paper's argument rests on:
# children restarted from the parent *without* noise.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol scaled down, one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder holding cifar-10-batches-py/ (full profile), or None for the digits stand-in
n_children: int | None = None  # M, the number of ensemble members
parent_epochs: int | None = None  # epochs of the parent, of the single model and of each standard member
child_epochs: int | None = None  # epochs of each child after perturbation
alpha: float | None = None  # fraction of weights perturbed, in [0, 1]
beta: float | None = None  # noise scale, >= 0
noise: str | None = None  # "uniform" (U(-beta, beta)) or "normal" (N(0, beta^2))
n_seeds: int | None = None  # independent repetitions of the whole experiment
n_train: int | None = None  # training images of the digits stand-in

# %%
import copy
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import Code, Markdown, display
from torch import nn

import reprobook as rb
from reprobook import ensembles
from reprobook.data import cifar10_available, load_cifar10, make_digits
from reprobook.runtime import seed_everything
from reprobook.train import fit, predict

PROFILES = {
    # CPU, one thread, under a minute: a tiny CNN on 16x16 digits, M = 3, parent:child epochs 4:1.
    "smoke": dict(n_children=3, parent_epochs=4, child_epochs=1, alpha=0.8, beta=0.1, noise="uniform",
                  n_seeds=1, n_train=3000, image_size=16, pixel_noise=0.2, width=16, batch_size=64, lr=0.1,
                  beta_sweep=[0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], grid_alphas=[], grid_betas=[],
                  grid_children=2),
    # One GPU, about 30 minutes: CIFAR-10 + ResNet-18 when data_root holds it, else a larger digits task.
    # Parent:child epochs 12:3 keep the paper's 200:50 ratio.
    "full": dict(n_children=6, parent_epochs=12, child_epochs=3, alpha=0.8, beta=0.1, noise="uniform",
                 n_seeds=3, n_train=20000, image_size=32, pixel_noise=0.2, width=32, batch_size=128, lr=0.1,
                 beta_sweep=[0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 1.6, 3.0, 5.0], grid_alphas=[0.1, 0.8],
                 grid_betas=[0.01, 0.1, 1.6], grid_children=3),
}
run = rb.start("iconip2024-21", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(n_children=n_children, parent_epochs=parent_epochs, child_epochs=child_epochs,
                          alpha=alpha, beta=beta, noise=noise, n_seeds=n_seeds, n_train=n_train))
cfg = run.cfg
if cfg.noise not in ensembles.NOISE_TYPES:
    raise rb.ParameterError(f"noise={cfg.noise!r} is not allowed; use 'uniform' or 'normal'")
if not 0.0 <= cfg.alpha <= 1.0:
    raise rb.ParameterError(f"alpha={cfg.alpha!r} must be in [0, 1] (the fraction of weights perturbed)")
if cfg.beta < 0:
    raise rb.ParameterError(f"beta={cfg.beta!r} must be >= 0 (the noise scale)")
for _name in ("n_children", "parent_epochs", "child_epochs", "n_seeds", "n_train"):
    if getattr(cfg, _name) < 1:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)!r} must be an integer >= 1")
use_cifar = cifar10_available(run.data_root)
if run.data_root is not None and not use_cifar:
    raise rb.ParameterError(f"data_root={str(run.data_root)!r} holds no CIFAR-10 (python version): put "
                            "cifar-10-batches-py/ with data_batch_1..5 and test_batch there, or use None")
M, E_p, E_c = cfg.n_children, cfg.parent_epochs, cfg.child_epochs
print(f"device {run.device}; M = {M}, parent/single {E_p} epochs, children {E_c} epochs, "
      f"alpha = {cfg.alpha}, beta = {cfg.beta} ({cfg.noise}), seeds {run.seeds}")

# %% [markdown]
# ## The method
#
# Let $f_\theta(x) \in \Delta^{C-1}$ be a classifier's predicted class probabilities with weights
# $\theta \in \mathbb{R}^D$. A **standard ensemble** trains $M$ networks $\theta^{(1)}, \dots, \theta^{(M)}$
# from independent random initialisations and predicts with the mean probability (the paper's Eq. 2)
#
# $$P_\text{ens}(x) = \frac{1}{M} \sum_{j=1}^{M} f_{\theta^{(j)}}(x).$$
#
# The **Noisy Deep Ensemble** (NDE) replaces the $M$ independent trainings by one long training and $M$
# short ones:
#
# 1. train a parent to convergence, giving $\theta^{(p)}$ ($E_p$ epochs);
# 2. for $i = 1, \dots, M$ draw a mask $m^{(i)} \in \{0, 1\}^D$ with independent entries
#    $m^{(i)}_k \sim \text{Bernoulli}(\alpha)$ and noise $\xi^{(i)} \in \mathbb{R}^D$ with independent
#    entries $\xi^{(i)}_k \sim U(-\beta, \beta)$ or $\mathcal{N}(0, \beta^2)$, and set (the paper's Eq. 5)
#
#    $$\theta^{(i)\prime} = \theta^{(p)} + \xi^{(i)} \odot m^{(i)};$$
#
# 3. train each child from $\theta^{(i)\prime}$ for $E_c \ll E_p$ epochs with a fresh optimiser and a
#    restarted learning-rate schedule, giving $\theta^{(i)}$;
# 4. predict with $P_\text{ens}$ over the $M$ children.
#
# $\alpha$ is the expected fraction of perturbed weights and $\beta$ the noise scale. With $\alpha = 0$ or
# $\beta = 0$ step 2 does nothing: the children differ only by the order of their mini-batches. That
# **no-noise control** isolates what the noise contributes.
#
# **Cost.** If a model trained for $E$ epochs costs time proportional to $E$, the standard ensemble costs
# $T_\text{standard} = M\,T_\text{single}$ and the NDE $T_\text{NDE} = T_\text{parent} + M\,T_\text{child}$,
# so that
#
# $$\frac{T_\text{NDE}}{T_\text{standard}} = \frac{E_p + M E_c}{M E_p},$$
#
# which tends to $E_c / E_p$ (a quarter, with the paper's 200 and 50 epochs) as $M$ grows.
#
# The perturbation is the one piece of new code. It lives in `reprobook.ensembles` only so that it has
# exact unit tests (a mask fraction close to $\alpha$, uniform noise within $\pm\beta$, $\alpha = 0$ leaving
# every weight bit-identical); here is its source:

# %%
display(Code(inspect.getsource(ensembles.perturb_weights), language="python"))

# %% [markdown]
# Ensembles are judged by accuracy, by the expected calibration error (ECE: the gap between confidence
# and accuracy, averaged over 15 equal-width confidence bins, computed with torchmetrics), by the negative
# log-likelihood (NLL) of the true class, and by diversity: the mean pairwise **disagreement**, the
# fraction of test images on which two members predict different classes.
#
# The networks: for the digits stand-in, a small convolutional network with batch normalisation; for
# CIFAR-10, torchvision's ResNet-18 with the usual small-image stem (a 3x3 first convolution with stride 1,
# no max-pooling), as in the paper's main experiments.

# %%
class SmallCNN(nn.Module):
    """Three conv-BN-ReLU blocks of widths w, 2w, 4w (max-pooling after the first two), global average
    pooling and a linear head."""

    def __init__(self, in_channels=1, width=16, num_classes=10):
        super().__init__()
        w = width

        def block(a, b):
            return [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(in_channels, w), nn.MaxPool2d(2), *block(w, 2 * w), nn.MaxPool2d(2),
                                      *block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def resnet18_cifar(num_classes=10):
    import torchvision

    net = torchvision.models.resnet18(num_classes=num_classes)
    net.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


class Batches:
    """Mini-batches of tensors already on the device, shuffled by their own seeded generator."""

    def __init__(self, x, y, batch_size, shuffle=False, seed=0):
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.g = torch.Generator().manual_seed(seed)

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        order = torch.randperm(n, generator=self.g) if self.shuffle else torch.arange(n)
        order = order.to(self.x.device)
        for i in range(0, n, self.batch_size):
            j = order[i:i + self.batch_size]
            yield self.x[j], self.y[j]


class CosineStep:
    """The training step, with a cosine learning rate from ``lr`` to 0 over all iterations.

    ``fit`` steps a scheduler once per epoch; with one or a few child epochs that would hold the rate
    constant, so the rate is set per iteration here, before the optimiser's step.
    """

    def __init__(self, optimizer, lr, total_steps, augment=None):
        self.opt, self.lr, self.total, self.t, self.augment = optimizer, lr, max(total_steps, 1), 0, augment

    def __call__(self, model, batch):
        for group in self.opt.param_groups:
            group["lr"] = 0.5 * self.lr * (1 + np.cos(np.pi * self.t / self.total))
        self.t += 1
        x, y = batch
        if self.augment is not None:
            x = self.augment(x)
        return F.cross_entropy(model(x), y)


def flip_and_crop(x, pad=4):
    """CIFAR's usual augmentation on a device batch: random horizontal flip and random 32x32 crop."""
    n, _, h, w = x.shape
    flip = torch.rand(n, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, :]
    return xp[torch.arange(n, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


# %% [markdown]
# ## The experiment
#
# ### Data
#
# The paper works on CIFAR-10 and CIFAR-100 with ResNet-18, VGG-16 and EfficientNet-B0. Nothing may be
# downloaded here, so without CIFAR-10 on disk the chapter uses a **stand-in**: scikit-learn's 1,797
# bundled 8x8 handwritten digits, upsampled and expanded with random rotations, shears, scalings,
# shifts and strong pixel noise into thousands of images. The base digits are split into disjoint pools
# for training, validation and test, so the test set is new handwriting. Like CIFAR-10 it has ten
# classes and is hard enough that one network stays well below 100 % and an ensemble has room to help.
# The validation split serves the sweeps below; nothing is tuned on the test set. When `data_root` holds
# CIFAR-10 (python version), the full profile uses it with ResNet-18.

# %%
if use_cifar:
    data = load_cifar10(run.data_root, val_size=5000, seed=run.seed)
    make_model = resnet18_cifar
    augment = flip_and_crop
else:
    data = make_digits(n_train=cfg.n_train, n_val=max(500, cfg.n_train // 6), n_test=max(2000, cfg.n_train // 5),
                       size=cfg.image_size, noise=cfg.pixel_noise, seed=run.seed)

    def make_model():
        return SmallCNN(1, cfg.width, data.num_classes)

    augment = None
print(data)
dev = run.device
x_train, y_train = (t.to(dev) for t in data.train.tensors)
x_val, y_val = (t.to(dev) for t in data.val.tensors)
x_test, y_test = (t.to(dev) for t in data.test.tensors)
test_batches = Batches(x_test, y_test, 1000)
val_batches = Batches(x_val, y_val, 1000)

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
for ax, i in zip(axes.flat, range(20)):
    img = data.train.tensors[0][i]
    ax.imshow(img[0] if img.shape[0] == 1 else (img.permute(1, 2, 0) - img.min()) / (img.max() - img.min()),
              cmap="gray")
    ax.set_title(f"class {int(data.train.tensors[1][i])}", fontsize=7)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle(f"Training images of {data.name} with their classes")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Training
#
# Every network is trained with the paper's optimiser (momentum SGD, momentum 0.9, weight decay
# $5 \times 10^{-4}$) and a cosine learning rate that falls to zero. Four recipes, for each seed:
#
# - **single**: one network, $E_p$ epochs. It doubles as the NDE **parent** (the paper trains both with
#   the same recipe, so this saves one training; its cost is charged to both).
# - **standard ensemble**: the parent plus $M - 1$ further networks from their own random initialisations,
#   each $E_p$ epochs.
# - **NDE**: $M$ children, each perturbed by Eq. (5) with its own random mask and noise, then $E_c$ epochs.
# - **no-noise control**: $M$ children restarted from the parent with no perturbation, $E_c$ epochs each
#   with a restarted learning rate; they differ from one another only in their mini-batch order.
#
# Training time is measured around each call to `reprobook.train.fit` (evaluation excluded): wall time
# with the GPU synchronised before and after; on the CPU the process's CPU time, which equals wall time
# for a one-thread run on an idle machine but is not inflated when other jobs share the cores (the wall
# time is logged as well).

# %%
def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


cost_clock = time.perf_counter if dev.type == "cuda" else time.process_time
wall_log = []


def train(model, epochs, data_seed, desc):
    """Train ``model`` in place for ``epochs`` epochs; return its cost in seconds (see above)."""
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=5e-4)
    loader = Batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=data_seed)
    step = CosineStep(opt, cfg.lr, epochs * len(loader), augment)
    sync()
    t0, w0 = cost_clock(), time.perf_counter()
    fit(model, loader, epochs=epochs, optimizer=opt, device=dev, step=step, desc=desc)
    sync()
    wall_log.append(time.perf_counter() - w0)
    return cost_clock() - t0


def logits_of(model, batches=test_batches):
    return predict(model, batches, dev)[0]


def summary(logits_list, targets):
    """Accuracy, ECE, NLL of the probability-averaged ensemble, and the members' mean disagreement."""
    probs = ensembles.average_probs(logits_list)
    return {"accuracy": float((probs.argmax(1) == targets).float().mean()),
            "ece": ensembles.ece(probs, targets), "nll": ensembles.nll(probs, targets),
            "disagreement": ensembles.disagreement(logits_list)}


def acc(logits, targets):
    return float((logits.argmax(1) == targets).float().mean())


def children_of(parent, alpha_, beta_, n, gen_seed, data_seed0, desc, targets=None, batches=test_batches):
    """``n`` children of ``parent``: perturb (Eq. 5), record accuracy right after, retrain, return logits."""
    out = {"logits": [], "acc_after_perturb": [], "time": [], "fraction_perturbed": []}
    for i in range(n):
        child = copy.deepcopy(parent)
        info = ensembles.perturb_weights(child, alpha=alpha_, beta=beta_, noise=cfg.noise,
                                         generator=torch.Generator().manual_seed(gen_seed + i))
        out["fraction_perturbed"].append(info["fraction_perturbed"])
        out["acc_after_perturb"].append(acc(logits_of(child, batches), targets))
        out["time"].append(train(child, E_c, data_seed0 + i, f"{desc} {i + 1}/{n}"))
        out["logits"].append(logits_of(child, batches))
    return out


y_test_cpu = data.test.tensors[1]
y_val_cpu = data.val.tensors[1]
per_seed = []
for s in run.seeds:
    seed_everything(s)
    rec = {"seed": s}
    # single model = parent, then the other M - 1 standard-ensemble members
    standard_models, standard_times = [], []
    for j in range(M):
        torch.manual_seed(10_000 * s + j)  # each member its own initialisation
        model = make_model().to(dev)
        standard_times.append(train(model, E_p, 10_000 * s + j, f"seed {s}: standard {j + 1}/{M}"))
        standard_models.append(model)
    parent = standard_models[0]
    rec["standard_logits"] = [logits_of(m) for m in standard_models]
    rec["standard_times"] = standard_times
    del standard_models[1:]
    # Noisy Deep Ensemble and the no-noise control, from the same parent
    rec["nde"] = children_of(parent, cfg.alpha, cfg.beta, M, 20_000 * s, 30_000 * s, f"seed {s}: NDE child",
                             y_test_cpu)
    rec["control"] = children_of(parent, 0.0, 0.0, M, 40_000 * s, 50_000 * s, f"seed {s}: control child",
                                 y_test_cpu)
    rec["parent"] = parent
    per_seed.append(rec)
    print(f"seed {s}: single {acc(rec['standard_logits'][0], y_test_cpu):.4f}, "
          f"standard {summary(rec['standard_logits'], y_test_cpu)['accuracy']:.4f}, "
          f"NDE {summary(rec['nde']['logits'], y_test_cpu)['accuracy']:.4f}, "
          f"control {summary(rec['control']['logits'], y_test_cpu)['accuracy']:.4f}")

# %% [markdown]
# ### Evaluation
#
# The table gives the test metrics per method (mean ± standard deviation over seeds where there are
# several). "Members" is the mean accuracy of an ensemble's individual networks.

# %%
METHODS = {"single": lambda r: [r["standard_logits"][0]], "standard": lambda r: r["standard_logits"],
           "NDE": lambda r: r["nde"]["logits"], "no-noise control": lambda r: r["control"]["logits"]}
results = {name: [summary(get(r), y_test_cpu) for r in per_seed] for name, get in METHODS.items()}
member_acc = {name: [float(np.mean([acc(z, y_test_cpu) for z in get(r)])) for r in per_seed]
              for name, get in METHODS.items()}


def fmt(values):
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.4f}" if v.size == 1 else f"{v.mean():.4f} ± {v.std(ddof=1):.4f}"


table = pd.DataFrame({name: {**{k: fmt([r[k] for r in rs]) for k in ("accuracy", "ece", "nll", "disagreement")},
                             "members": fmt(member_acc[name])} for name, rs in results.items()}).T
display(table)
for name, rs in results.items():
    key = name.replace(" ", "_").replace("-", "_")
    run.log(**{f"{key}_{k}": [r[k] for r in rs] for k in ("accuracy", "ece", "nll", "disagreement")})
    run.log(**{f"{key}_member_accuracy": member_acc[name]})

# %% [markdown]
# Each network of the first seed on its own, and each ensemble (horizontal lines). The NDE children start
# from the parent; the control children too, without noise.

# %%
r0 = per_seed[0]
fig, ax = plt.subplots(figsize=(8, 3.6))
groups = [("standard", r0["standard_logits"], "tab:blue"), ("NDE", r0["nde"]["logits"], "tab:orange"),
          ("no-noise control", r0["control"]["logits"], "tab:gray")]
pos = 0
for name, logits_list, colour in groups:
    accs = [acc(z, y_test_cpu) for z in logits_list]
    xs = np.arange(pos, pos + len(accs))
    ax.bar(xs, accs, color=colour, alpha=0.6, label=f"{name}: members")
    ens = summary(logits_list, y_test_cpu)["accuracy"]
    ax.hlines(ens, xs[0] - 0.4, xs[-1] + 0.4, colors=colour, linewidth=2.5, label=f"{name}: ensemble {ens:.3f}")
    pos += len(accs) + 1
ax.axhline(acc(r0["standard_logits"][0], y_test_cpu), color="k", ls="--", lw=1, label="single (= parent)")
allacc = [acc(z, y_test_cpu) for _, ll, _ in groups for z in ll]
ax.set_ylim(min(allacc) - 0.03, max(allacc) + 0.04)
ax.set_xticks([])
ax.set_xlabel("ensemble member (grouped by method)")
ax.set_ylabel("test accuracy")
ax.set_title(f"Members and ensembles, seed {r0['seed']} ({data.name}, M = {M})")
ax.legend(fontsize=7, ncol=2, loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# How much the members disagree, pair by pair (first seed). Children restarted without noise should
# agree almost everywhere; perturbed children less; independently trained networks least.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
dmax = max(float(ensembles.disagreement_matrix(ll).max()) for _, ll, _ in groups) or 1.0
for ax, (name, logits_list, _) in zip(axes, groups):
    im = ax.imshow(ensembles.disagreement_matrix(logits_list), vmin=0, vmax=dmax, cmap="viridis")
    ax.set_title(f"{name}\nmean {ensembles.disagreement(logits_list):.3f}", fontsize=9)
    ax.set_xlabel("member j")
    ax.set_xticks(range(M)), ax.set_yticks(range(M))
axes[0].set_ylabel("member i")
fig.colorbar(im, ax=axes, label="fraction of test images with different predictions")
fig.suptitle("Pairwise disagreement of ensemble members")
plt.show()

# %% [markdown]
# Accuracy as members are added (the first $k$ members of each ensemble, mean over seeds), the analogue
# of the paper's Fig. 6.

# %%
ks = np.arange(1, M + 1)
curves = {name: np.array([[summary(get(r)[:k], y_test_cpu)["accuracy"] for k in ks] for r in per_seed])
          for name, get in METHODS.items() if name != "single"}
fig, ax = plt.subplots(figsize=(6, 3.6))
for (name, c), colour in zip(curves.items(), ("tab:blue", "tab:orange", "tab:gray")):
    ax.errorbar(ks, c.mean(0), yerr=c.std(0, ddof=1) if len(c) > 1 else None, marker="o", color=colour,
                capsize=3, label=name)
ax.axhline(np.mean(results["single"][0]["accuracy"] if len(per_seed) == 1 else
                   [r["accuracy"] for r in results["single"]]), color="k", ls="--", lw=1, label="single")
ax.set_xlabel("number of ensemble members k")
ax.set_ylabel("test accuracy of the first k members")
ax.set_title("Accuracy vs ensemble size")
ax.set_xticks(ks)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
run.log(**{f"{name.replace(' ', '_').replace('-', '_')}_accuracy_vs_members": c.mean(0).tolist()
           for name, c in curves.items()})

# %% [markdown]
# ### Training cost
#
# Measured training time (wall time on a GPU, CPU time on the CPU) of the standard ensemble ($M$ networks of $E_p$ epochs) and of the NDE (one parent of
# $E_p$ epochs and $M$ children of $E_c$ epochs), beside the paper's formula. The ratio uses times measured
# in this run; the epochs are exact.

# %%
cost = []
for r in per_seed:
    t_single = float(np.mean(r["standard_times"]))
    t_standard = float(np.sum(r["standard_times"]))
    t_nde = r["standard_times"][0] + float(np.sum(r["nde"]["time"]))
    cost.append({"seed": r["seed"], "T_single [s]": t_single, "T_child [s]": float(np.mean(r["nde"]["time"])),
                 "T_standard [s]": t_standard, "T_NDE [s]": t_nde, "measured ratio": t_nde / t_standard,
                 "epochs standard": M * E_p, "epochs NDE": E_p + M * E_c})
cost = pd.DataFrame(cost).set_index("seed")
formula_ratio = (E_p + M * E_c) / (M * E_p)
cost["formula ratio (E_p + M E_c)/(M E_p)"] = formula_ratio
display(cost.round(3))
run.log(cost_ratio_formula=formula_ratio, epochs_standard=M * E_p, epochs_nde=E_p + M * E_c)
run.log_timing(t_standard_s=cost["T_standard [s]"].tolist(), t_nde_s=cost["T_NDE [s]"].tolist(),
               cost_ratio_measured=cost["measured ratio"].tolist(), total_training_wall_s=float(np.sum(wall_log)))

fig, ax = plt.subplots(figsize=(5.5, 3.4))
t_par = np.mean([r["standard_times"][0] for r in per_seed])
t_ch = np.mean([np.sum(r["nde"]["time"]) for r in per_seed])
ax.bar(["standard\nensemble"], [cost["T_standard [s]"].mean()], color="tab:blue", label=f"{M} x single")
ax.bar(["NDE"], [t_par], color="tab:green", label="parent")
ax.bar(["NDE"], [t_ch], bottom=[t_par], color="tab:orange", label=f"{M} children")
ax.axhline(formula_ratio * cost["T_standard [s]"].mean(), color="k", ls="--", lw=1,
           label=f"formula: {formula_ratio:.2f} x standard")
ax.set_ylabel(f"training {'wall' if dev.type == 'cuda' else 'CPU'} time [s]")
ax.set_title(f"Training cost, M = {M}, epochs {E_p} (parent) / {E_c} (child)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### How destructive is the noise?
#
# The accuracy of a freshly perturbed child, before any retraining, on the validation split, for a range
# of noise scales $\beta$ at the chosen $\alpha$ (three perturbations of the first seed's parent each).
# Compare the paper's choice $\beta = 1.6$ with $\alpha = 0.8$ for ResNet-18 (Table 1): with weights of
# typical size $10^{-2}$ to $10^{-1}$, such noise erases most of what the parent learned, and the child's
# retraining is closer to training anew from a partly informed start.

# %%
sweep_parent = per_seed[0]["parent"]
sweep = []
for b in cfg.beta_sweep:
    accs = []
    for i in range(3):
        child = copy.deepcopy(sweep_parent)
        ensembles.perturb_weights(child, alpha=cfg.alpha, beta=b, noise=cfg.noise,
                                  generator=torch.Generator().manual_seed(60_000 + i))
        accs.append(acc(logits_of(child, val_batches), y_val_cpu))
    sweep.append(float(np.mean(accs)))
run.log(beta_sweep=list(cfg.beta_sweep), val_accuracy_after_perturbation=sweep)
fig, ax = plt.subplots(figsize=(5.5, 3.4))
bs = np.array(cfg.beta_sweep, dtype=float)
ax.plot(np.where(bs > 0, bs, bs[bs > 0].min() / 3), sweep, marker="o")
ax.axvline(cfg.beta, color="tab:orange", ls="--", label=f"chosen beta = {cfg.beta}")
ax.axhline(1 / data.num_classes, color="gray", ls=":", label="chance")
ax.set_xscale("log")
ax.set_xlabel("noise scale beta (log; the leftmost point is beta = 0)")
ax.set_ylabel("validation accuracy right after perturbation")
ax.set_title(f"Perturbed parent before retraining (alpha = {cfg.alpha}, {cfg.noise})")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### The alpha-beta grid (full profile)
#
# The paper's Fig. 5 varies $\alpha$ and $\beta$. The full profile trains `grid_children` children for each
# cell from the first seed's parent and scores their ensemble on the **validation** split; the smoke
# profile skips it (an empty grid).

# %%
grid = None
if cfg.grid_alphas and cfg.grid_betas:
    grid = pd.DataFrame(index=pd.Index(cfg.grid_alphas, name="alpha"), columns=pd.Index(cfg.grid_betas, name="beta"),
                        dtype=float)
    for a in cfg.grid_alphas:
        for b in cfg.grid_betas:
            ch = children_of(sweep_parent, a, b, cfg.grid_children, 70_000, 80_000, f"grid a={a} b={b}",
                             y_val_cpu, val_batches)
            grid.loc[a, b] = summary(ch["logits"], y_val_cpu)["accuracy"]
    display(grid.round(4))
    fig, ax = plt.subplots(figsize=(5, 3.4))
    im = ax.imshow(grid.values.astype(float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cfg.grid_betas)), [str(b) for b in cfg.grid_betas])
    ax.set_yticks(range(len(cfg.grid_alphas)), [str(a) for a in cfg.grid_alphas])
    ax.set_xlabel("noise scale beta")
    ax.set_ylabel("fraction perturbed alpha")
    ax.set_title(f"NDE validation accuracy ({cfg.grid_children} children)")
    fig.colorbar(im, ax=ax, label="validation accuracy")
    plt.tight_layout()
    plt.show()
    run.log(grid_alphas=list(cfg.grid_alphas), grid_betas=list(cfg.grid_betas),
            grid_val_accuracy=grid.values.tolist())
else:
    print("alpha x beta grid skipped in this profile (grid_alphas / grid_betas empty)")

# %% [markdown]
# ## Claims
#
# Each claim's rule was fixed before the run; the verdicts follow from the numbers. With one seed (smoke)
# a rule decides on the single number, so a smoke verdict is a sign, not evidence; the full profile's three
# seeds add a noise band of two standard errors. Our absolute accuracies (digits stand-in, small CNN, few
# epochs) are not comparable with the paper's CIFAR numbers and are not compared; the relations are.

# %%
def per(name, key):
    return [r[key] for r in results[name]]


def recovered(r_nde, r_std, r_single):
    gap = r_std - r_single
    return (r_nde - r_single) / gap if gap > 0 else float("nan")


ledger = rb.Ledger()
ledger.claim("nde-beats-single", "The noisy deep ensemble is more accurate than a single network",
             paper="0.9147 (uni) / 0.9132 (norm) vs 0.8965 (Table 2, ResNet-18, CIFAR-10)",
             measured={"NDE": per("NDE", "accuracy"), "single": per("single", "accuracy")},
             rule=rb.Better("NDE", "single"))
ledger.claim("nde-recovers-ensemble-gain",
             "The NDE recovers most (at least half) of the standard ensemble's gain over a single network",
             paper="(0.9147 - 0.8965) / (0.9158 - 0.8965) = 0.94 (Table 2, ResNet-18, CIFAR-10); "
                   "accuracy drop vs standard 0.0013-0.0058 (Table 5)",
             measured={"fraction of gain recovered": [recovered(a, b, c) for a, b, c in
                                                      zip(per("NDE", "accuracy"), per("standard", "accuracy"),
                                                          per("single", "accuracy"))]},
             rule=rb.AtLeast("fraction of gain recovered", 0.5))
ledger.claim("noise-matters", "Perturbing the weights matters: children restarted without noise ensemble worse",
             paper="alpha = 0 is below most perturbed settings (Fig. 5, CIFAR-10)",
             measured={"NDE": per("NDE", "accuracy"), "no-noise control": per("no-noise control", "accuracy")},
             rule=rb.Better("NDE", "no-noise control"))
ledger.claim("noise-adds-diversity", "Perturbed children disagree more than children restarted without noise",
             paper="argued in Sect. 3 and 5.1 (no number; Fig. 3 compares with Snapshot Ensemble instead)",
             measured={"NDE": per("NDE", "disagreement"), "no-noise control": per("no-noise control", "disagreement")},
             rule=rb.Better("NDE", "no-noise control"))
ledger.claim("children-below-single", "Each child alone is slightly less accurate than the single network",
             paper="children 0.8836-0.8911 vs single 0.8965 (Tables 4 and 2, ResNet-18, CIFAR-10, M = 5)",
             measured={"single": per("single", "accuracy"), "NDE child mean": member_acc["NDE"]},
             rule=rb.Better("single", "NDE child mean"))
ledger.claim("nde-better-calibrated-than-single", "The NDE has lower ECE and lower NLL than a single network",
             paper="ECE 0.0329 vs 0.0383, NLL 0.3408 vs 0.3791 (Table 7, CIFAR-10, uni)",
             measured={"NDE ECE": per("NDE", "ece"), "single ECE": per("single", "ece"),
                       "NDE NLL": per("NDE", "nll"), "single NLL": per("single", "nll")},
             rule=rb.AllOf(rb.Better("NDE ECE", "single ECE", higher_is_better=False),
                           rb.Better("NDE NLL", "single NLL", higher_is_better=False)))
ledger.claim("standard-better-calibrated-than-nde", "The standard ensemble stays better calibrated than the NDE",
             paper="ECE 0.0205 vs 0.0329, NLL 0.2961 vs 0.3408 (Table 7, CIFAR-10, uni)",
             measured={"standard ECE": per("standard", "ece"), "NDE ECE": per("NDE", "ece"),
                       "standard NLL": per("standard", "nll"), "NDE NLL": per("NDE", "nll")},
             rule=rb.AllOf(rb.Better("standard ECE", "NDE ECE", higher_is_better=False),
                           rb.Better("standard NLL", "NDE NLL", higher_is_better=False)))
ledger.claim("accuracy-grows-with-members", "NDE accuracy grows with the number of members",
             paper="rising curve up to M = 10 (Fig. 6, CIFAR-10)",
             measured={"members": ks.tolist(), "NDE accuracy": curves["NDE"].mean(0).tolist()},
             rule=rb.Correlates("members", "NDE accuracy", sign=1, min_rho=0.8) if M >= 3 else
             rb.NotTestable("needs at least 3 members"))
ledger.claim("cost-follows-formula",
             "NDE training costs less than the standard ensemble, in the ratio (E_p + M E_c) / (M E_p)",
             paper=f"35 % at M = 10, 73 % at M = 2 (Table 5; = (200 + 50 M) / (200 M)); "
                   f"formula here: {formula_ratio:.3f}",
             measured={"T_NDE": cost["T_NDE [s]"].tolist(), "T_standard": cost["T_standard [s]"].tolist(),
                       "measured ratio": cost["measured ratio"].tolist(),
                       "formula ratio": [formula_ratio] * len(cost)},
             rule=rb.AllOf(rb.Better("T_NDE", "T_standard", higher_is_better=False),
                           rb.Close("measured ratio", "formula ratio", tol=0.05)),
             volatile=True)  # decided on measured times: reported, not required to repeat to the bit
if grid is not None:
    small_b, chosen_b = min(cfg.grid_betas), max(b for b in cfg.grid_betas if b <= max(cfg.beta, min(cfg.grid_betas)))
    grid_measured = {f"beta = {b}": [float(grid[b].mean())] for b in cfg.grid_betas}
    grid_rule = rb.Better(f"beta = {max(cfg.grid_betas)}", f"beta = {small_b}") if chosen_b == small_b else \
        rb.Better(f"beta = {chosen_b}", f"beta = {small_b}")
else:
    grid_measured, grid_rule = {}, rb.NotTestable("the alpha x beta grid runs in the full profile only")
ledger.claim("small-beta-hurts", "Too little noise (small beta) lowers NDE accuracy (validation, mean over alpha)",
             paper="beta <= 0.1 lowers accuracy; beta >= 5 barely hurts (Fig. 5, CIFAR-10)",
             measured=grid_measured, rule=grid_rule)
ledger.claim("beats-other-efficient-ensembles",
             "NDE beats Snapshot, Group, KD and Batch ensembles at equal M",
             paper="0.9132 vs SE 0.9088, GE 0.9043, KDE 0.8725, BE 0.8259 (Table 3, CIFAR-10, M = 10)",
             rule=rb.NotTestable("the other efficient-ensemble methods are not implemented in this chapter"))
ledger.claim("robust-to-corruptions", "NDE is more robust to image corruptions than a single network",
             paper="0.5456 vs 0.5351 at severity 5 (Table 6, CIFAR-10-C)",
             rule=rb.NotTestable("CIFAR-10-C is not available offline; see the exercises"))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data and scale.** A digits stand-in (16x16 in smoke, 32x32 in full) with a small CNN replaces
#   CIFAR-10/100 with ResNet-18, VGG-16 and EfficientNet-B0; with CIFAR-10 on disk the full profile uses it
#   with ResNet-18. Epochs are scaled from the paper's 200 (parent, single, standard members) and 50
#   (children) to 4 and 1 (smoke) or 12 and 3 (full), keeping the 4:1 ratio that sets the cost formula.
#   The smoke profile uses $M = 3$, the full profile $M = 6$ (the paper: 10, and 5 in Sect. 4.3).
# - **Noise scale.** The paper's grid search (Table 1) picked $\alpha = 0.8$, $\beta = 1.6$ for ResNet-18.
#   A noise scale is tied to the network's weight scale and to how long the children train; with one or
#   three child epochs a perturbation of 1.6 cannot be recovered from. We keep $\alpha = 0.8$ and use
#   $\beta = 0.1$, chosen during development from the validation split (the sweep above shows what each
#   $\beta$ does to the parent); the full profile's grid checks the choice on validation data only.
# - **Normal noise.** The paper writes $\mathcal{N}(0, \beta)$ without saying whether $\beta$ is a
#   variance or a standard deviation; we read it as the standard deviation.
# - **What is perturbed.** All trainable parameters (convolution and linear weights and biases, batch-norm
#   scales and shifts). Batch-norm running statistics are buffers, not weights, and are left as the
#   parent had them; retraining updates them.
# - **Schedule.** The paper uses cosine annealing from 0.1 to 0 per run. We anneal per iteration (the
#   shared `fit` steps schedulers per epoch, which would freeze the rate during a one-epoch child); the
#   smoke profile starts at 0.05, which suited the tiny CNN. The full profile uses batch 128 instead of 64
#   to fit the GPU budget.
# - **The parent is the single model and a standard-ensemble member.** It is trained exactly like a single
#   model, so we reuse it; its cost counts fully in both $T_\text{NDE}$ and $T_\text{standard}$.
# - **Not reproduced here:** CIFAR-100, VGG-16 and EfficientNet-B0, the Snapshot/Group/KD/Batch ensemble
#   baselines (Table 3), CIFAR-10-C (Table 6) and other optimisers (Table 8).
# - **The public code** (commit `c9a2c00`, `src/noise_injection.py`, read but not run) writes the noise via
#   `model.state_dict()[name] = ...`, which replaces an entry of a freshly built dictionary and leaves the
#   parameters untouched, so its perturbation appears to be a no-op; it also flips perturbed weights back
#   to their original sign, which Eq. (5) does not do; and it builds the child's optimiser on a different
#   module object than the one it trains. That snapshot may not be the code behind the paper's numbers.
#   We implement Eq. (5) directly and test that it changes the parameters
#   (`tests/test_ensembles.py`). The no-noise control above is what that code would effectively run.
# - **The paper's text** refers to the main accuracy table (Table 2) as "Table 3" once, and its own
#   Table 2 shows two cases where the NDE falls below a single network (ResNet-18 on CIFAR-100 with uniform
#   noise, EfficientNet-B0 on CIFAR-10), which its conclusion acknowledges.
#
# ## Exercises
#
# 1. Run the chapter with `-p beta 0.0` (or `-p alpha 0.0`). What should the NDE and the no-noise control
#    then have in common, and which claims should change verdict?
#
# ```{admonition} Solution
# :class: dropdown
# With no noise, Eq. (5) leaves the parent unchanged, so the NDE children and the control children start
# from the same weights and differ only in their random mini-batch orders (different seeds). The two
# ensembles become statistically the same recipe: `noise-matters` and `noise-adds-diversity` should turn
# `not reproduced` or `inconclusive`, and the NDE's disagreement falls to the control's low level. The
# cost claim does not change, since the cost does not depend on the noise.
# ```
#
# 2. Using the cost formula, how many members $M$ does the NDE need for its cost to fall below half of the
#    standard ensemble's, with the paper's 200 and 50 epochs? What is the limit as $M \to \infty$, and what
#    does it say about where the savings come from?
#
# ```{admonition} Solution
# :class: dropdown
# $(200 + 50M)/(200M) < 1/2$ gives $200 + 50M < 100M$, so $M > 4$: at $M = 4$ the ratio is exactly 50 %
# (Table 5 reports 50 %) and from $M = 5$ it is below. As $M \to \infty$ the ratio tends to
# $E_c / E_p = 1/4$: the parent's cost is shared, and each extra member costs a quarter of a full training.
# All savings come from the shorter child training, so they stand or fall with whether $E_c$ epochs suffice
# after the perturbation: a larger $\beta$ needs a longer $E_c$ (the paper's Sect. 3 trade-off).
# ```
#
# 3. The paper's Table 6 tests robustness on CIFAR-10-C. Build a small analogue here: corrupt the stand-in
#    test images with Gaussian noise at five increasing strengths and compare the single network, the
#    standard ensemble and the NDE.
#
# ```{admonition} Solution
# :class: dropdown
# For each strength $s$ in, say, $(0.1, 0.2, 0.3, 0.4, 0.5)$ make `x = x_test + s * torch.randn_like(x_test)`
# (with a fixed generator), wrap it in `Batches(x, y_test, 1000)`, and evaluate the stored models: the
# parent (`per_seed[0]["parent"]`) for the single network and, after keeping the member and child models
# (the loop above keeps only their test logits), each ensemble through `summary`. Plot accuracy against
# strength for the three methods. Expect all curves to fall, the ensembles to stay above the single
# network, and the gap to be largest at moderate strengths, as in Table 6.
# ```
