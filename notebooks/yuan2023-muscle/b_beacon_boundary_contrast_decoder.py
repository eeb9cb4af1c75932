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
# # A multi-strategy contrastive learning framework for weakly supervised semantic segmentation: the BEACON decoder and the pipeline
#
# **Chapter `muscle-b`.** Kunhao Yuan, Gerald Schaefer, Yu-Kun Lai, Yifan Wang, Xiyao Liu, Lin Guan, Hui Fang.
# *A multi-strategy contrastive learning framework for weakly supervised semantic segmentation*. Pattern
# Recognition 137 (2023) 109298. DOI: [10.1016/j.patcog.2022.109298](https://doi.org/10.1016/j.patcog.2022.109298).
# This chapter covers Sec. 3.3 (Algorithms 1–3, Eq. 9), the segmentation stage of Sec. 4.3 (Tables 3–4) and
# the chain from image labels to a segmentation network; chapter `muscle-a` covers the MCL encoder (its
# contrastive losses IMC, PIXC and PRC).
#
# **The idea.** Weakly supervised segmentation trains a segmentation network on *pseudo masks* made from a
# classifier's class activation maps. Those masks are wrong mostly near object boundaries, and plain
# cross-entropy copies their errors. MuSCLe adds a boundary term to the decoder's loss, BEACON: take the
# edges of the pseudo mask, step a few pixels inward and outward along each edge's normal, and compare the
# decoder's class distributions at the inward and outward points. Where the pseudo mask says the two sides
# differ, BEACON pushes the decoder's two predictions apart; where it says they agree (the step crossed no
# real boundary), it pulls them together. Which of the two applies is decided per point by comparing the
# pair's mask similarity with a threshold, the mean similarity of the image's pairs. We build the whole
# ladder on synthetic scenes (classifier on image labels, CAMs, pseudo masks, a refinement, a segmentation
# network with and without BEACON) and measure every rung, including the paper's claim that BEACON helps
# more when the pseudo labels are coarse.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (128 px, ResNet-50 CAMs, DeepLabv3 decoder, 3 seeds)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder holding VOCdevkit/VOC2012 (train on VOC train, evaluate on VOC val), or None
n_train: int | None = None  # training scenes (classifier, pseudo masks and decoder; ignored with VOC)
n_val: int | None = None  # validation scenes (decoder mIoU; ignored with VOC)
cls_epochs: int | None = None  # classifier epochs
seg_epochs: int | None = None  # segmentation network epochs
seg_arch: str | None = None  # "tiny" or a torchvision model, e.g. "deeplabv3_resnet50" (random weights)
cam_threshold: float | None = None  # background score of the pseudo masks (fixed before the run)
lam: float | None = None  # BEACON weight lambda of Eq. 9 (paper: 0.05)
steps: int | None = None  # Algorithm 2's step in pixels (paper: 7 at 448 px; scaled to the image size)
k: int | None = None  # boundary points drawn per class and image (paper: 128 at 448 px; scaled)
tau: str | float | None = None  # "mu_m" (mean mask similarity, the paper's best; also None) or a number such as 0.5
loss_form: str | None = None  # reading of Algorithm 1's log(sign): "linear" (sign x similarity) or "log"
orientation: str | None = None  # boundaries from the pseudo mask ("mask") or the decoder's prediction
refine: str | None = None  # the sharper pseudo labels: "superpixel" (SLIC vote) or "crf" (needs pydensecrf2)
ablation: list | None = None  # Table 4 variants run on the sharper labels: tau_0.5, k_half, k_double, ...

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import torchvision
from IPython.display import display
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.functional.classification import multilabel_f1_score

import reprobook as rb
from reprobook.beacon import BeaconLoss, beacon_loss, boundary_f_score, inout_points
from reprobook.data.scenes import make_scenes
from reprobook.data.voc import VOC_CLASSES, VOCSegmentation, voc_available
from reprobook.explain import CamExplainer, SceneCNN
from reprobook.runtime import seed_everything
from reprobook.segment import (ARCHS, cam_probabilities, crf_available, dense_crf, make_segmenter, miou,
                               predict_masks, pseudo_masks, train_segmenter, tta_maps)
from reprobook.train import fit

PROFILES = {
    # CPU, one thread: 48 px scenes of 4 shape classes, a 4-block CNN (12 x 12 CAMs), the tiny decoder, 1 seed.
    "smoke": dict(n_train=320, n_val=96, size=48, num_classes=4, cls_epochs=8, cls_width=16, cls_lr=3e-3,
                  cls_arch="scenecnn", seg_epochs=5, seg_arch="tiny", seg_width=12, seg_lr=3e-3, batch_size=32,
                  seg_batch=16,
                  cam_threshold=0.3, tta_scales=[1.0], lam=0.05, steps=1, k=16, tau=None, loss_form="linear",
                  orientation="mask", refine="superpixel", superpixels=40, ablation=[], bf_tolerance=1,
                  n_seeds=1),
    # One GPU: 128 px scenes of 6 classes, a ResNet-50 with dilated last stages for the CAMs (16 x 16),
    # DeepLabv3-ResNet-50 decoders from scratch, the Table 4 grid, 3 seeds. VOC: 256 px, its 20 classes.
    "full": dict(n_train=3000, n_val=500, size=128, num_classes=6, cls_epochs=15, cls_width=16, cls_lr=1e-3,
                 cls_arch="resnet50", seg_epochs=10, seg_arch="deeplabv3_resnet50", seg_width=32, seg_lr=1e-3,
                 batch_size=32, seg_batch=32, cam_threshold=0.3, tta_scales=[0.75, 1.0, 1.25], lam=0.05, steps=2, k=32,
                 tau=None, loss_form="linear", orientation="mask", refine="superpixel", superpixels=120,
                 ablation=["tau_0.5", "k_half", "k_double", "steps_fewer", "steps_more", "lambda_0.1", "lambda_1.0"],
                 bf_tolerance=2, n_seeds=3),
}
ABLATIONS = ("tau_0.5", "k_half", "k_double", "steps_fewer", "steps_more", "lambda_0.1", "lambda_1.0")
run = rb.start("muscle-b", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(n_train=n_train, n_val=n_val, cls_epochs=cls_epochs, seg_epochs=seg_epochs,
                          seg_arch=seg_arch, cam_threshold=cam_threshold, lam=lam, steps=steps, k=k, tau=tau,
                          loss_form=loss_form, orientation=orientation, refine=refine, ablation=ablation))
cfg = run.cfg


def _check_int(name, low):
    v = getattr(cfg, name)
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        raise rb.ParameterError(f"{name}={v!r} must be an integer >= {low}")


for _name, _low in (("n_train", 32), ("n_val", 8), ("cls_epochs", 1), ("seg_epochs", 1), ("steps", 1), ("k", 2)):
    _check_int(_name, _low)
if cfg.seg_arch not in ARCHS:
    raise rb.ParameterError(f"seg_arch={cfg.seg_arch!r} is not allowed; use one of {', '.join(ARCHS)}")
if not 0 < cfg.cam_threshold < 1:
    raise rb.ParameterError(f"cam_threshold={cfg.cam_threshold!r} must be a background score in (0, 1)")
if not cfg.lam > 0:
    raise rb.ParameterError(f"lam={cfg.lam!r} must be a positive BEACON weight")
if cfg.tau in (None, "mu_m"):  # the profiles leave tau at None: the paper's mu_m
    TAU = "mu_m"
else:
    try:
        TAU = float(cfg.tau)
    except (TypeError, ValueError):
        TAU = None
    if isinstance(cfg.tau, bool) or TAU is None or not 0 < TAU < 1:
        raise rb.ParameterError(f"tau={cfg.tau!r} must be 'mu_m' or a number in (0, 1), e.g. 0.5")
if cfg.loss_form not in ("linear", "log"):
    raise rb.ParameterError(f"loss_form={cfg.loss_form!r} is not allowed; use 'linear' or 'log'")
if cfg.orientation not in ("mask", "prediction"):
    raise rb.ParameterError(f"orientation={cfg.orientation!r} is not allowed; use 'mask' or 'prediction'")
if cfg.refine not in ("superpixel", "crf"):
    raise rb.ParameterError(f"refine={cfg.refine!r} is not allowed; use 'superpixel' or 'crf'")
if cfg.refine == "crf" and not crf_available():
    raise rb.ParameterError("refine='crf' needs the optional dense-CRF extra: pip install \"reprobook[crf]\" "
                            "(pydensecrf2); or use refine='superpixel'")
if not isinstance(cfg.ablation, (list, tuple)) or any(a not in ABLATIONS for a in cfg.ablation) \
        or len(set(cfg.ablation)) != len(cfg.ablation):
    raise rb.ParameterError(f"ablation={cfg.ablation!r} must be a list of distinct variants from "
                            f"{', '.join(ABLATIONS)}")
USE_VOC = run.data_root is not None
if USE_VOC and not voc_available(run.data_root):
    raise rb.ParameterError(f"data_root={str(run.data_root)!r} holds no VOCdevkit/VOC2012 folder; put the PASCAL "
                            "VOC 2012 devkit there or use data_root=None for the synthetic scenes")
SIZE = (256 if run.profile == "full" else 64) if USE_VOC else cfg.size
print(f"device {run.device}; {'VOC 2012 from ' + str(run.data_root) if USE_VOC else 'synthetic scenes'}, {SIZE} px; "
      f"classifier {cfg.cls_arch}, decoder {cfg.seg_arch}; seeds {run.seeds}; BEACON lambda {cfg.lam}, "
      f"steps {cfg.steps}, k {cfg.k}, tau {TAU}, form {cfg.loss_form}; sharper labels by {cfg.refine}")

# %% [markdown]
# ## The method
#
# **Setting** (Sec. 3.3). A decoder maps an image to logits $\tilde y \in \mathbb{R}^{K\times H\times W}$ over
# $K$ classes (background included); its class distribution at pixel $p$ is $\tilde y_p =
# \operatorname{softmax}(\tilde y_{\cdot p})$. The pseudo mask gives a distribution $y_p$ per pixel (soft, or
# one-hot for a hard mask). The decoder is trained with (Eq. 9)
#
# $$\mathcal{L}_{seg} = \mathcal{L}_{ce} + \lambda\,\mathcal{L}_{beacon}, \qquad \lambda = 0.05 .$$
#
# **Algorithm 2 (in/out-ward division).** For each class $c$ of the image, apply a Sobel filter to the
# class's map of the pseudo mask and keep the pixels $P$ whose gradient magnitude is in the top 20 %. For
# $p \in P$, quantise the gradient's angle into one of 8 bins of $45°$, so that it points to an
# 8-neighbour $\vec q$; the inward point is $\phi = p - s\,\vec q$ and the outward point $\psi = p + s\,\vec q$
# with step $s$. The gradient of a class map points *into* the object, so for the outward point to lie
# outside, $\vec q$ has to be the outward normal, minus the gradient: that is how we read the algorithm.
#
# **Algorithm 1 (the loss).** Draw $k$ boundary points at random; let $I$ and $O$ be their inward and
# outward points. With $f$ the dot product of class distributions (so $f \in [0,1]$ is the probability that
# two independent draws agree),
#
# $$S^d_{io} = f(\operatorname{sg}(\tilde y_i), \tilde y_o), \qquad S^m_{io} = f(y_i, y_o), \qquad i\in I,\ o \in O,$$
#
# where $\operatorname{sg}$ stops the gradient on the inward side. **Algorithm 3 (signs)**: with the
# one-to-all means $S^m_I(i) = \frac{1}{|O|}\sum_o S^m_{io}$, $S^d_I(i)$ likewise, and a threshold $\tau$,
#
# | case | mask | decoder | sign |
# |---|---|---|---|
# | TP | $S^m_I < \tau$ (different) | $S^d_I < \tau$ | $+1$ (push apart) |
# | FN | $S^m_I < \tau$ | $S^d_I > \tau$ | $+1$ |
# | TN | $S^m_I > \tau$ (same) | $S^d_I > \tau$ | $-1$ (pull together) |
# | FP | $S^m_I > \tau$ | $S^d_I < \tau$ | $-1$ |
#
# and the same for the outward points with column means. Once merged, the sign depends on the mask alone:
# the decoder's similarity only names the case. The threshold is $\tau = \mu_m$, the mean of the mask's
# similarity matrix (the paper's best), or a fixed $0.5$. The loss, with our reading of the printed
# $\log(\mathit{sign})$ (see the notes), is
#
# $$\mathcal{L}_{beacon} = \frac{1}{|O|}\sum_{o} \mathit{sign}^O_o\, S^d_O(o)
#   + \frac{1}{|I|}\sum_{i} \mathit{sign}^I_i\, S^d_I(i),$$
#
# averaged over the (image, class) groups. Minimising it lowers the decoder's similarity where the mask
# says "different" and raises it where the mask says "same".
#
# **Code.** The pieces live in `reprobook.beacon` (unit-tested on hand-made masks: a vertical edge, the 8
# directions, the sign table, one gradient step that lowers the similarity across a true boundary). Below,
# Algorithm 2 on a small hand-made mask, printed as numbers.

# %%
demo = torch.zeros(1, 7, 7)
demo[0, 1:6, 1:4] = 1  # a 5 x 3 object: its right edge runs down between columns 3 and 4
pts = inout_points(demo, steps=1)
arrows = {b: "→↘↓↙←↖↑↗"[b] for b in range(8)}
grid = [["·"] * 7 for _ in range(7)]
for idx in torch.nonzero(pts.boundary[0]).flatten().tolist():
    grid[idx // 7][idx % 7] = arrows[int(pts.direction[0, idx])]
print("object (1) and the outward normal at each boundary point (step 1):")
for r in range(7):
    print(" ".join(str(int(v)) for v in demo[0, r]), "   ", " ".join(grid[r]))
i = 3 * 7 + 3  # the object's right edge, middle row
print(f"pixel (row 3, col 3): direction {arrows[int(pts.direction[0, i])]}, inward point col "
      f"{int(pts.inward[0, i]) % 7}, outward point col {int(pts.outward[0, i]) % 7}")

# %% [markdown]
# ## The experiment
#
# **Data.** Synthetic multi-label scenes (`reprobook.data.scenes`) stand in for PASCAL VOC 2012: one or two
# filled shapes per image on textured backgrounds, each class with its own shape and colour band. The
# classifier and the pseudo masks use the *training* scenes with their image labels only; the pixel masks
# of the training scenes are used only to *score* the pseudo masks (as the paper's Table 2 scores its
# pseudo labels on VOC *train*); the decoders are scored on separate validation scenes. With a VOC
# `data_root` the same chain runs on VOC 2012 *train* (1,464 images with image labels from the XML
# annotations) and is evaluated on *val*.
#
# **The ladder.**
#
# 1. *Classifier on image labels*: a small CNN (smoke) or a ResNet-50 with dilated last stages (full, random
#    weights) with a global-average-pooling linear head, trained with binary cross-entropy. MuSCLe's own
#    encoder (MCL, hybrid loss plus three contrastive terms) is chapter `muscle-a`; a plain CAM classifier
#    is enough to feed the decoder stage studied here.
# 2. *CAMs* of every class in the image's label set, averaged over flips (and scales in full).
# 3. *Coarse pseudo masks* (stand-in for the paper's affinity-refined labels, mIoU$^*$): the CAMs upsampled
#    and thresholded at a background score of `cam_threshold`, fixed before the run.
# 4. *Sharper pseudo masks* (stand-in for the IRN-refined labels, mIoU$^\dagger$): the same class
#    probabilities averaged within SLIC superpixels of the image (`refine="superpixel"`), which snaps the
#    mask's edges to colour edges, or refined by a dense CRF (`refine="crf"`, opt-in, needs the extra).
#    The paper says IRN's sharper edges make a better prior for BEACON (Sec. 4.5).
# 5. *Decoder*: the segmentation network trained on each kind of pseudo mask with cross-entropy only, and
#    with cross-entropy + $\lambda$ BEACON; the soft masks (class probabilities) feed BEACON's $S^m$.
# 6. *Evaluation*: validation mIoU, and a boundary F-score (ours, not the paper's: precision and recall of
#    the predicted boundary pixels within `bf_tolerance` px of the true ones) that measures "sharper
#    boundaries" directly.
#
# **Scaling BEACON to small images.** The paper's step of 7 px and $k = 128$ points belong to 448 px crops.
# We scale the step with the image side ($7 \times 48/448 \approx 0.75 \to 1$ px in smoke, $7 \times 128/448
# = 2$ px in full) and $k$ with the boundary length, which also grows with the side ($128 \times 128/448
# \approx 37 \to 32$ in full, $16$ in smoke). Table 4's variants become steps $\pm 1$ px and $k$ halved or
# doubled.

# %%
t_start = time.perf_counter()


def load_voc(split):
    ds = VOCSegmentation(run.data_root, split, size=SIZE)
    items = [ds[i] for i in range(len(ds))]
    return (torch.stack([i[0] for i in items]), torch.stack([i[1] for i in items]),
            torch.stack([i[2] for i in items]))


if USE_VOC:
    x_train, y_train, m_train = load_voc("train")
    x_val, y_val, m_val = load_voc("val")
    CLASS_NAMES = ("background", *VOC_CLASSES)
else:
    scene_args = dict(num_classes=cfg.num_classes, size=SIZE, objects=(1, 2), object_size=(0.3, 0.5))
    train_scenes = make_scenes(cfg.n_train, seed=10_000 * run.seed + 1, **scene_args)
    val_scenes = make_scenes(cfg.n_val, seed=10_000 * run.seed + 2, **scene_args)
    x_train, y_train, m_train = train_scenes.images, train_scenes.labels, train_scenes.masks
    x_val, y_val, m_val = val_scenes.images, val_scenes.labels, val_scenes.masks
    CLASS_NAMES = ("background", *train_scenes.class_names)
C = y_train.shape[1]
K = C + 1
print(f"{len(x_train)} training and {len(x_val)} validation images, {C} classes + background, "
      f"{float(y_train.sum(1).mean()):.2f} labels per training image")

# %% [markdown]
# **Stage 1–2: classifier and CAMs.** The classifier's training throughput (images seen per second of
# training) is logged for the book's timing table, and its micro-F1 on the validation images' labels
# (sigmoid > 0.5) is the first rung of the ladder.

# %%

def make_classifier():
    """(model, CAM layer). ResNet-50: random weights, layers 3-4 dilated (output stride 8)."""
    if cfg.cls_arch == "scenecnn":
        return SceneCNN(C, cfg.cls_width), "features"
    model = torchvision.models.resnet50(weights=None, num_classes=C, replace_stride_with_dilation=[False, True, True])
    return model, "layer4"


def train_classifier(s):
    seed_everything(s)
    model, layer = make_classifier()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(s))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.cls_lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.cls_lr, total_steps=cfg.cls_epochs * len(loader))
    t0 = time.perf_counter()
    fit(model, loader, epochs=cfg.cls_epochs, optimizer=opt, scheduler=sched, scheduler_interval="step",
        device=run.device, step=lambda m, b: F.binary_cross_entropy_with_logits(m(b[0]), b[1]), desc="classifier")
    seconds = time.perf_counter() - t0
    return model.eval(), layer, cfg.cls_epochs * len(x_train) / seconds


def class_maps(model, layer, images, chunk=128):
    """CAMs of all C classes, ReLU'd, averaged over the TTA views, at the images' size (CPU)."""
    explainer = CamExplainer(model, layer, "fc")
    every_class = list(range(C))

    def fn(x):
        return F.relu(explainer(x, [every_class] * len(x), "cam").raw)

    out = []
    for lo in range(0, len(images), chunk):
        x = images[lo:lo + chunk].to(run.device)
        out.append(tta_maps(fn, x, scales=cfg.tta_scales, flip=True).detach().cpu())
    return torch.cat(out)


# %% [markdown]
# **Stage 3–4: pseudo masks.** `cam_probabilities` turns the CAMs into class probabilities whose argmax is
# exactly the thresholded pseudo mask (background score `cam_threshold`, classes outside the label set 0).
# The superpixel refinement averages these probabilities within each SLIC superpixel of the image.

# %%
def superpixel_refine(images, probs, n_segments):
    """Class probabilities averaged within the SLIC superpixels of each image (N x K x H x W)."""
    from skimage.segmentation import slic

    out = torch.empty_like(probs)
    for j, (img, p) in enumerate(zip(images, probs)):
        seg = slic(img.permute(1, 2, 0).numpy().astype(np.float64), n_segments=n_segments, compactness=10,
                   start_label=0, channel_axis=-1)
        seg = torch.from_numpy(seg).long().flatten()
        n_sp = int(seg.max()) + 1
        flat = p.reshape(p.shape[0], -1)
        sums = torch.zeros(p.shape[0], n_sp).index_add_(1, seg, flat)
        counts = torch.bincount(seg, minlength=n_sp).clamp(min=1)
        out[j] = (sums / counts)[:, seg].reshape(p.shape)
    return out


def crf_refine(images, probs):
    return torch.stack([dense_crf(img, p) for img, p in zip(images, probs)])


def label_kinds(cams):
    """{'coarse': (hard, soft), 'sharp': (hard, soft)} pseudo labels of the training images."""
    soft = cam_probabilities(cams, y_train, cfg.cam_threshold)
    hard = pseudo_masks(cams, y_train, cfg.cam_threshold)
    assert torch.equal(soft.argmax(1), hard), "cam_probabilities must agree with pseudo_masks"
    if cfg.refine == "superpixel":
        sharp = superpixel_refine(x_train, soft, cfg.superpixels)
    else:
        sharp = crf_refine(x_train, soft)
    return {"coarse": (hard, soft), "sharp": (sharp.argmax(1), sharp)}


# %% [markdown]
# **Stage 5–6: decoders.** Every decoder of a seed starts from the same initialisation and sees the same
# batches (the trainer's generator is seeded with the seed); only the loss differs, so the comparisons
# are paired. The arms: cross-entropy alone (`CE`) and with BEACON at the chapter's setting (`BEACON`),
# on both kinds of pseudo labels; Table 4's variants (`ablation`) on the sharper labels.

# %%
def beacon_options(variant=None):
    opts = dict(lam=cfg.lam, steps=cfg.steps, k=cfg.k, tau=TAU, form=cfg.loss_form, orientation=cfg.orientation)
    if variant == "tau_0.5":
        opts["tau"] = 0.5
    elif variant == "k_half":
        opts["k"] = max(2, cfg.k // 2)
    elif variant == "k_double":
        opts["k"] = 2 * cfg.k
    elif variant == "steps_fewer":
        opts["steps"] = max(1, cfg.steps - 1)
    elif variant == "steps_more":
        opts["steps"] = cfg.steps + 1
    elif variant == "lambda_0.1":
        opts["lam"] = 2 * cfg.lam  # the paper's 0.1 next to its 0.05
    elif variant == "lambda_1.0":
        opts["lam"] = 20 * cfg.lam  # ours, not in Table 4: BEACON as large as the cross-entropy
    return opts


def train_decoder(hard, soft, s, options=None):
    seed_everything(s)
    model = make_segmenter(cfg.seg_arch, K, width=cfg.seg_width)
    extra = None
    if options is not None:
        opts = dict(options)
        extra = BeaconLoss(K, opts.pop("lam"), **opts)
    train_segmenter(model, x_train, hard, aux=soft if extra is not None else None, extra_loss=extra,
                    epochs=cfg.seg_epochs, batch_size=cfg.seg_batch, lr=cfg.seg_lr, num_classes=K,
                    device=run.device, seed=s, progress=None, desc="decoder")
    pred = predict_masks(model, x_val, batch_size=64, device=run.device)
    return {"miou": miou(pred, m_val, K), "bf": boundary_f_score(pred, m_val, tolerance=cfg.bf_tolerance),
            "pred": pred, "model": model}


# %% [markdown]
# **Running the ladder**, seed by seed.

# %%
ARMS = [("coarse", "CE", None), ("coarse", "BEACON", "main"), ("sharp", "CE", None), ("sharp", "BEACON", "main")]
ARMS += [("sharp", f"BEACON {v}", v) for v in cfg.ablation]
res = {key: {"miou": [], "bf": []} for key in [(lab, arm) for lab, arm, _ in ARMS]}
pseudo_quality = {"coarse": [], "sharp": []}
classifier_f1, throughput, decoder_seconds = [], [], []
examples, decoders = {}, {}
for s in run.seeds:
    clf, layer, ips = train_classifier(s)
    throughput.append(ips)
    with torch.no_grad():
        val_logits = torch.cat([clf(x_val[i:i + 128].to(run.device)).float().cpu() for i in range(0, len(x_val), 128)])
    classifier_f1.append(float(multilabel_f1_score(torch.sigmoid(val_logits), y_val.long(), num_labels=C,
                                                   threshold=0.5, average="micro")))
    cams = class_maps(clf, layer, x_train)
    kinds = label_kinds(cams)
    for lab, (hard, _) in kinds.items():
        pseudo_quality[lab].append(miou(hard, m_train, K))
    for lab, arm, variant in ARMS:
        hard, soft = kinds[lab]
        t0 = time.perf_counter()
        options = None if variant is None else beacon_options(None if variant == "main" else variant)
        out = train_decoder(hard, soft, s, options)
        decoder_seconds.append(time.perf_counter() - t0)
        res[(lab, arm)]["miou"].append(out["miou"])
        res[(lab, arm)]["bf"].append(out["bf"])
        if s == run.seeds[0] and arm in ("CE", "BEACON"):
            examples[(lab, arm)] = out["pred"]
            decoders[(lab, arm)] = out["model"]
    if s == run.seeds[0]:
        first_cams, first_kinds = cams, kinds
    print(f"seed {s}: classifier val micro-F1 {classifier_f1[-1]:.3f}; pseudo-mask mIoU coarse "
          f"{pseudo_quality['coarse'][-1]:.3f}, sharp "
          f"{pseudo_quality['sharp'][-1]:.3f}; decoder val mIoU "
          + ", ".join(f"{lab}/{arm} {res[(lab, arm)]['miou'][-1]:.3f}" for lab, arm, _ in ARMS))
run.log(classifier_val_f1=classifier_f1, pseudo_miou_coarse=pseudo_quality["coarse"],
        pseudo_miou_sharp=pseudo_quality["sharp"],
        **{f"val_miou_{lab}_{arm.replace(' ', '_')}": v["miou"] for (lab, arm), v in res.items()},
        **{f"val_bf_{lab}_{arm.replace(' ', '_')}": v["bf"] for (lab, arm), v in res.items()})
run.log_timing(classifier_images_per_s=throughput, decoder_seconds=decoder_seconds,
               ladder_seconds=time.perf_counter() - t_start)

# %% [markdown]
# **What BEACON sees.** One training image: its coarse and sharper pseudo masks, and Algorithm 2's inward
# (blue) and outward (red) points on the sharper mask at the chapter's step, for the image's first class.

# %%
j = int(torch.nonzero(y_train.sum(1) >= 1).flatten()[0])
hard_sharp = first_kinds["sharp"][0][j]
cls = int(torch.nonzero(y_train[j]).flatten()[0]) + 1
p = inout_points((hard_sharp == cls).float()[None], cfg.steps)
valid = torch.nonzero(p.valid[0]).flatten()
fig, axes = plt.subplots(1, 5, figsize=(15, 3.6), layout="constrained")
axes[0].imshow(x_train[j].permute(1, 2, 0).clamp(0, 1))
axes[0].set_title("training image", fontsize=9)
axes[1].imshow(m_train[j].clamp(max=K), cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
axes[1].set_title("true mask (not used)", fontsize=9)
for ax, lab in zip(axes[2:4], ("coarse", "sharp")):
    ax.imshow(first_kinds[lab][0][j], cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
    ax.set_title(f"{lab} pseudo mask", fontsize=9)
axes[4].imshow(hard_sharp == cls, cmap="gray", interpolation="nearest")
for idx, colour in ((p.inward[0, valid], "tab:blue"), (p.outward[0, valid], "tab:red")):
    axes[4].scatter((idx % SIZE).numpy(), (idx // SIZE).numpy(), s=6, c=colour)
axes[4].set_title(f"inward (blue), outward (red): {CLASS_NAMES[cls]}", fontsize=9)
for ax in axes:
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
fig.suptitle("Pseudo labels of one training image and BEACON's point pairs on the sharper one")
fig.savefig(run.figure_path("pseudo_and_points.png"), dpi=80)
plt.show()

# %% [markdown]
# **Algorithm 3 at work.** How often each case occurs for the trained decoders of the first seed, on the
# first training images with their sharper pseudo labels and the chapter's BEACON setting: TP and TN mean
# the decoder already agrees with the mask across the boundary, FN and FP that it does not. The loss after
# training should be lower with BEACON.

# %%
n_diag = min(64, len(x_train))
soft_diag, hard_diag = first_kinds["sharp"][1][:n_diag], first_kinds["sharp"][0][:n_diag]
opts = beacon_options()
opts.pop("lam")
rows = []
for arm in ("CE", "BEACON"):
    model = decoders[("sharp", arm)].eval()
    with torch.no_grad():
        logits = model(x_train[:n_diag].to(run.device)).float().cpu()
    value, stats = beacon_loss(logits, soft_diag, valid=hard_diag != 255, return_stats=True,
                               generator=torch.Generator().manual_seed(run.seed), **opts)
    total = max(1, stats["TP"] + stats["FN"] + stats["TN"] + stats["FP"])
    rows.append({"decoder": f"sharp / {arm}", "BEACON loss": round(float(value), 4), "groups": stats["groups"],
                 **{case: f"{100 * stats[case] / total:.1f} %" for case in ("TP", "FN", "TN", "FP")}})
sign_table = pd.DataFrame(rows).set_index("decoder")
display(sign_table)
run.log(beacon_loss_after_CE=rows[0]["BEACON loss"], beacon_loss_after_BEACON=rows[1]["BEACON loss"])

# %% [markdown]
# **Decoders on the validation images** (first seed): ground truth and the four main arms.

# %%
show = list(range(min(4, len(x_val))))
cols = [("image", None), ("truth", m_val)] + [(f"{lab} / {arm}", examples[(lab, arm)])
                                                for lab in ("coarse", "sharp") for arm in ("CE", "BEACON")]
fig, axes = plt.subplots(len(show), len(cols), figsize=(2.1 * len(cols), 2.1 * len(show)), squeeze=False,
                         layout="constrained")
for r, j in enumerate(show):
    for c_, (name, maps) in enumerate(cols):
        ax = axes[r, c_]
        if maps is None:
            ax.imshow(x_val[j].permute(1, 2, 0).clamp(0, 1))
        else:
            ax.imshow(maps[j].clamp(max=K), cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if r == 0:
            ax.set_title(name, fontsize=9)
        if c_ == 0:
            ax.set_ylabel(f"val image {j}")
        if r == len(show) - 1:
            ax.set_xlabel("x")
fig.suptitle("Validation predictions: cross-entropy only vs with BEACON")
fig.savefig(run.figure_path("predictions.png"), dpi=80)
plt.show()

# %% [markdown]
# **The numbers.** Mean over seeds (± standard deviation with several seeds) of the validation mIoU and
# boundary F-score for every arm, and the pseudo masks' own mIoU on the training images.

# %%
def mean_sd(v):
    v = np.asarray(v, dtype=float)
    return f"{v.mean():.3f}" + (f" ± {v.std(ddof=1):.3f}" if v.size > 1 else "")


table = pd.DataFrame([{"pseudo labels": lab, "decoder loss": arm, "val mIoU": mean_sd(res[(lab, arm)]["miou"]),
                       "val boundary F (ours)": mean_sd(res[(lab, arm)]["bf"]),
                       "train pseudo-mask mIoU": mean_sd(pseudo_quality[lab])} for lab, arm, _ in ARMS])
display(table)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
names = [f"{lab}\n{arm}" for lab, arm, _ in ARMS]
for ax, metric, title in ((axes[0], "miou", "validation mIoU"), (axes[1], "bf", "validation boundary F-score (ours)")):
    vals = [np.asarray(res[(lab, arm)][metric]) for lab, arm, _ in ARMS]
    ax.bar(range(len(vals)), [v.mean() for v in vals], yerr=[v.std(ddof=1) if v.size > 1 else 0 for v in vals],
           color=["tab:gray" if "CE" == a else "tab:orange" for _, a, _ in ARMS], capsize=3)
    ax.set_xticks(range(len(vals)), names, fontsize=7, rotation=45 if len(vals) > 4 else 0)
    lo = min(v.min() for v in vals)
    ax.set_ylim(max(0.0, lo - 0.05), None)
    ax.set_ylabel(f"{title} (axis not from 0)")
    ax.set_xlabel("pseudo labels and decoder loss")
    ax.set_title(f"{title} ({len(run.seeds)} seed{'s' if len(run.seeds) > 1 else ''})")
fig.savefig(run.figure_path("arms.png"), dpi=80)
plt.show()

# %% [markdown]
# ## Claims
#
# BEACON's gains in the paper are fractions of a point (Tables 3–4), so every rule compares paired seeds
# and says `inconclusive` when the band of the paired difference (2 standard errors) covers the decision.
# With a single seed (smoke) there is no spread to measure, so the rules use a fixed tie band instead:
# 0.025 mIoU (or boundary F), twice the seed-to-seed standard deviation of the paired BEACON gain that we
# measured once on the smoke configuration with seeds 0, 1 and 2 (about 0.012) before fixing the rule.
# The difference of two gains (coarse vs sharp) varied about twice as much over those seeds (sd 0.023),
# so that claim's band is 0.045. Differences inside the band are called inconclusive.

# %%
TIE = 0.025 if len(run.seeds) == 1 else 0.0
TIE_GAINS = 0.045 if len(run.seeds) == 1 else 0.0
M = {f"{lab} {arm}": res[(lab, arm)]["miou"] for lab, arm, _ in ARMS}
BF = {f"{lab} {arm} BF": res[(lab, arm)]["bf"] for lab, arm, _ in ARMS}
gain = {lab: list(np.subtract(M[f"{lab} BEACON"], M[f"{lab} CE"])) for lab in ("coarse", "sharp")}
ledger = rb.Ledger()
ledger.claim("refinement-sharpens-labels", "Refining the CAM pseudo masks (IRN/affinity in the paper; superpixels or "
             "a dense CRF here) raises their mIoU on the training images",
             paper="CAM 48.3 → IRN 66.5 (ResNet-50), MCL 58.4 → 66.8 (EfficientNet), Table 2",
             measured={"refined": pseudo_quality["sharp"], "CAM": pseudo_quality["coarse"]},
             rule=rb.Better("refined", "CAM", tie=TIE))
ledger.claim("sharper-labels-better-decoder", "A decoder trained on the sharper pseudo labels beats one trained on the "
             "coarser labels (cross-entropy only)",
             paper="λ = 0: mIoU† 65.5 / 65.8 vs mIoU* 63.8 / 64.1 (b5 / b7), Table 4",
             measured={"sharp CE": M["sharp CE"], "coarse CE": M["coarse CE"]},
             rule=rb.Better("sharp CE", "coarse CE", tie=TIE))
ledger.claim("beacon-helps-sharp", "BEACON raises the decoder's validation mIoU (sharper, IRN-like labels)",
             paper="+0.3 / +0.4 / +0.8 (b3 / b5 / b7), Table 3; 65.5 → 65.8 and 65.8 → 66.6, Table 4†",
             measured={"sharp BEACON": M["sharp BEACON"], "sharp CE": M["sharp CE"]},
             rule=rb.Better("sharp BEACON", "sharp CE", tie=TIE))
ledger.claim("beacon-helps-coarse", "BEACON raises the decoder's validation mIoU (coarser, affinity-like labels)",
             paper="63.8 → 65.2 (b5), 64.1 → 66.1 (b7), Table 4*",
             measured={"coarse BEACON": M["coarse BEACON"], "coarse CE": M["coarse CE"]},
             rule=rb.Better("coarse BEACON", "coarse CE", tie=TIE))
ledger.claim("beacon-gain-larger-on-coarse", "BEACON's gain is larger on the coarser labels than on the sharper ones",
             paper="+1.4 / +2.0 (*) vs +0.3 / +0.8 (†), b5 / b7, Table 4",
             measured={"gain coarse": gain["coarse"], "gain sharp": gain["sharp"]},
             rule=rb.Better("gain coarse", "gain sharp", tie=TIE_GAINS))
ledger.claim("beacon-sharper-boundaries", "BEACON sharpens the predicted boundaries (our boundary F-score; the paper "
             "shows this only qualitatively)",
             paper="Fig. 8 (SBD boundaries with and without BEACON), no number",
             measured={"sharp BEACON BF": BF["sharp BEACON BF"], "sharp CE BF": BF["sharp CE BF"]},
             rule=rb.Better("sharp BEACON BF", "sharp CE BF", tie=TIE))
if "tau_0.5" in cfg.ablation and TAU == "mu_m":
    ledger.claim("tau-mean-beats-half", "τ = μ_m (mean mask similarity) beats the fixed τ = 0.5",
                 paper="65.8 / 66.6 vs 65.5 / 66.2 (†, b5 / b7), Table 4",
                 measured={"τ = μ_m": M["sharp BEACON"], "τ = 0.5": M["sharp BEACON tau_0.5"]},
                 rule=rb.Better("τ = μ_m", "τ = 0.5", tie=TIE))
else:
    ledger.claim("tau-mean-beats-half", "τ = μ_m (mean mask similarity) beats the fixed τ = 0.5",
                 paper="65.8 / 66.6 vs 65.5 / 66.2 (†, b5 / b7), Table 4",
                 rule=rb.NotTestable("needs the main setting at τ = μ_m and the tau_0.5 variant in `ablation`"))
others = [v for v in cfg.ablation if v not in ("tau_0.5", "lambda_1.0")]  # lambda_1.0 is ours, not Table 4's
TABLE4_TEXT = ("The paper's chosen setting (λ = 0.05, 7 steps, k = 128; steps and k scaled here) beats each of "
               "Table 4's other k, steps and λ variants")
if others:
    ledger.claim("table4-best-setting", TABLE4_TEXT,
                 paper="65.8 / 66.6 vs 65.5–65.6 / 65.9–66.3 (†), Table 4",
                 measured={"chosen": M["sharp BEACON"], **{v: M[f"sharp BEACON {v}"] for v in others}},
                 rule=rb.AllOf(*[rb.Better("chosen", v, tie=TIE) for v in others]))
else:
    ledger.claim("table4-best-setting", TABLE4_TEXT, paper="65.8 / 66.6 vs 65.5–65.6 / 65.9–66.3 (†), Table 4",
                 rule=rb.NotTestable("Table 4's variants are not run in this profile (ablation knob)"))
ledger.claim("backbone-scaling", "Larger EfficientNet backbones and more BiFPN layers give better decoders",
             paper="b3 → b7: +1.4 / +0.9 with / without BEACON; 1 → 3 BiFPN: +1.7, Table 3",
             rule=rb.NotTestable("EfficientNet-b3/b5/b7 with BiFPN decoders and ImageNet weights are out of reach "
                                 "offline; one decoder architecture per profile here"))
ledger.claim("sota-voc", "MuSCLe-b7 reaches 66.6 / 68.8 mIoU on VOC 2012 val / test, above every image-label method "
             "on test", paper="Table 5",
             rule=rb.NotTestable("needs VOC 2012 with SBD, ImageNet-pretrained EfficientNets, the MCL encoder "
                                 "(chapter muscle-a) and the test server"))
run.finish(ledger)
ledger

# %% [markdown]
# ## Deviations and notes
#
# - **Data and scale.** Synthetic scenes (48 px in smoke, 128 px in full) replace VOC 2012 with SBD's
#   10,582 images at 448 px; the networks are trained from scratch (no ImageNet weights offline): a small
#   CNN or a dilated ResNet-50 for the CAMs, the book's tiny encoder-decoder or torchvision's DeepLabv3-ResNet-50
#   for the decoder, in place of EfficientNet-b3/b5/b7 with three BiFPN layers. Absolute numbers are not
#   comparable with the paper's; only the orderings are.
# - **The encoder.** A plain CAM classifier with binary cross-entropy stands in for the MCL encoder
#   (chapter `muscle-a`), and our pseudo labels come from CAMs, not from SAM outputs refined by
#   AffinityNet or IRN random walks.
# - **What stands in for \* and †.** The paper's two label sets differ in the refinement (affinity vs IRN,
#   4 vs 8 iterations). Ours: the thresholded CAM (coarse, \*) and the same probabilities averaged within
#   SLIC superpixels or refined by a dense CRF (sharp, †). Both use the same background threshold,
#   `cam_threshold`, chosen before the run (no sweep on ground truth).
# - **Reading of Algorithm 1's loss.** The printed loss multiplies the mean similarities by
#   $\log(\mathit{sign})$, which is undefined for a sign of $-1$ (and 0 for $+1$, which would switch the
#   loss off). We use $\mathit{sign} \times S$ (`loss_form="linear"`), which is what the authors' code does;
#   `loss_form="log"` switches to a cross-entropy reading ($-\log(1-S)$ for $+1$, $-\log S$ for $-1$).
# - **Algorithm 3 ties.** The four cases use strict inequalities, so a point whose similarity equals $\tau$
#   belongs to none and gets sign 0. With a hard mask and $\tau = \mu_m$ this matters: if every pair of a
#   group crosses the boundary ($S^m = 0$ everywhere), then $\mu_m = 0$ and the whole group is silent.
#   Soft pseudo masks (our default for BEACON's $S^m$) avoid the exact ties. The other side of the same
#   coin, visible in the sign table: with $\tau = \mu_m$ the split is *relative*, so about half of the
#   points of a group lie above its mean mask similarity and are pulled together (TN, FP) even when every
#   pair crosses the object's edge; with $\tau = 0.5$ all crossing pairs are pushed apart.
# - **Boundary points.** "Top 20 %" is read as the top 20 % of the pixels with a non-zero Sobel response
#   of the class's map (`rule="top"`); the released code keeps pixels above 0.8 × the maximum, with a 5×5
#   Sobel (`rule="relmax"` in `reprobook.beacon`). The boundary map is taken from the argmax of the pseudo
#   mask (the code sharpens with softmax(100·x)); `orientation="prediction"` uses the decoder's own
#   prediction instead. The quantised direction is the outward normal (see the method). Only foreground
#   classes form groups; a group with fewer than 2 usable points is skipped; fewer than $k$ points: all are
#   used (the code skips such classes).
# - **The similarity $f$** is not defined in the paper; as in the code, it is the dot product of class
#   distributions (softmax of the decoder's logits, the pseudo mask's probabilities).
# - **No ground-truth supervision leaks.** The released code steps a `ReduceLROnPlateau` schedule on the
#   *ground-truth* validation mIoU, which is a supervision leak not described in the paper. We do not
#   reproduce it: the decoders use a fixed cosine schedule, and nothing is selected on validation or
#   ground-truth scores. Ground-truth masks only score the pseudo masks and the decoders.
# - **Decoder training** differs from the code's (Adam at lr $10^{-5}$, 8 epochs, batch 6, 448 px crops):
#   Adam with a cosine decay from `seg_lr`, flips, the profile's epochs.
# - **Extra metric.** The boundary F-score is ours; it pools boundary precision and recall over the
#   validation images with a tolerance of `bf_tolerance` px (VOC's ignore band is filled with the nearest
#   label first, so its middle holds the boundary).
# - **Verdict bands.** Smoke has one seed; its tie band (0.025, from the smoke seed spread measured once
#   with seeds 0–2: BEACON gains of +0.016, −0.008, −0.003 mIoU on the sharper labels and −0.016, +0.004,
#   +0.003 on the coarser ones) is wider than the paper's effects, so smoke's BEACON verdicts are
#   `inconclusive` unless an effect is large. The full profile's 3 paired seeds decide by 2 standard errors
#   of the paired difference.
# - **How strong is BEACON here?** At the paper's $\lambda = 0.05$ the BEACON term is a few hundredths of
#   the cross-entropy (see the sign table: its value is of order $10^{-2}$ before the factor $\lambda$), so
#   it barely steers training at this scale; the full profile's `lambda_1.0` variant (ours, not in Table 4)
#   shows what a term as large as the cross-entropy does.
# - **Variant `ablation` names** map Table 4's rows: `tau_0.5`; `k_half` / `k_double` (64 / 256 at
#   448 px); `steps_fewer` / `steps_more` (5 / 9 at 448 px, one pixel less or more here); `lambda_0.1`.

# %% [markdown]
# ## Exercises
#
# 1. Show that Algorithm 3's four cases collapse to "sign $= +1$ if $S^m < \tau$, $-1$ if $S^m > \tau$" (away
#    from ties). What, then, is the decoder's similarity $S^d$ used for in the loss?
#
# ```{admonition} Solution
# :class: dropdown
# TP and FN both require $S^m < \tau$ and differ only in whether $S^d$ is below or above $\tau$; both get
# $+1$. TN and FP both require $S^m > \tau$ and get $-1$. So, unless $S^d = \tau$ exactly, the sign is
# decided by the mask. $S^d$ is what the loss *moves*: $\mathit{sign} \cdot S^d$ is minimised by lowering
# $S^d$ where the mask says "different" and raising it where the mask says "same". The four names only tell
# us whether the decoder already agrees with the mask (TP, TN) or not (FN, FP), which is useful for logging
# (`beacon_loss(..., return_stats=True)` counts them).
# ```
#
# 2. With a hard (one-hot) pseudo mask and $\tau = \mu_m$, compute the loss for a straight edge where every
#    inward point lies inside and every outward point outside the object. Then rerun the chapter with
#    `tau=0.5` and compare.
#
# ```{admonition} Solution
# :class: dropdown
# Every pair crosses the boundary, so $S^m_{io} = 0$ for all pairs, $\mu_m = 0$, and no point has
# $S^m < \mu_m$ or $S^m > \mu_m$: all signs are 0 and the loss is 0. BEACON with $\tau = \mu_m$ only acts where
# the mask's pairs disagree among themselves (thin parts, corners, steps that overshoot a small object),
# pulling together the pairs that lie on one side and pushing apart those across. With $\tau = 0.5$ every
# crossing pair has $S^m = 0 < 0.5$ and is pushed apart: the loss acts on every edge. The unit test
# `test_loss_exact_value_on_a_confident_decoder` checks both numbers.
# ```
#
# 3. The paper steps 7 px on 448 px crops. Why must the step grow with the image, and what goes wrong when
#    it is too large for small objects (the paper's explanation of the 9-step row in Table 4)?
#
# ```{admonition} Solution
# :class: dropdown
# The step must carry the inward and outward points beyond the blurred band where the decoder's prediction
# changes, whose width scales with the image (and with the decoder's output stride), so a fixed number of
# pixels means less at higher resolution. When the step exceeds an object's half-width, the "inward" point
# leaves the object on the other side: inward and outward points then both lie in the background, the mask
# calls the pair "same" and BEACON pulls the two together, or the pairs mix, and the signal for that
# object's boundary is lost. Small objects suffer first, which matches the paper's remark on tiny objects.
# ```
