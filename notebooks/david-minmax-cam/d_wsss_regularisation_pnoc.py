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
# # Complementary Regularisation Strategies in Weakly Supervised Semantic Segmentation (Puzzle-CAM, OC-CSE, P-OC, P-NOC, C²AM-H)
#
# **Chapter `david-d`.** Lucas Oliveira David (advisors Zanoni Dias and Hélio Pedrini). *Exploring Explaining
# Methods in Multi-Label Problems and Complementary Regularization Strategies in Weakly Supervised Semantic
# Segmentation*. Doctoral qualifying exam, Institute of Computing, University of Campinas (Unicamp), 2023
# (no DOI), Secs. 3.2 and 5.2, Eqs. 5–7 and 26–29, Algorithm 1, App. A.2 and B.2, Tables 7–9, Fig. 15. The
# methods built upon are Puzzle-CAM (S. Jo, I.-J. Yu, ICIP 2021, arXiv:2101.11253), OC-CSE (H. Kweon et al.,
# ICCV 2021, pp. 6974–6983) and C²AM (J. Xie et al., CVPR 2022, arXiv:2203.13505). Chapters `david-a` to `david-c` cover the thesis' explanation
# part; this one covers its segmentation part.
#
# **The idea.** Weakly supervised semantic segmentation (WSSS) trains a classifier on image labels and reads
# segmentation *priors* off its class activation maps (CAMs); their quality bounds everything downstream.
# Plain CAMs light up only the most discriminative part of an object. Two regularisers attack this from
# different sides: *Puzzle-CAM* asks the maps of the four image quadrants, classified separately and
# stitched back together, to agree with the map of the whole image (so no single part can carry the class),
# and *OC-CSE* erases from the image what the CAM of one of its classes covers and asks a frozen ordinary
# classifier (OC) to no longer see that class while still seeing the others (so the map must cover the whole
# object, and only that object). The thesis combines the two (**P-OC**), adds label smoothing, and then lets
# the ordinary classifier learn as well (**P-NOC**): every few steps it is trained to still recognise the
# erased class on the hard-erased image, so it keeps pointing the CAM network at the parts it still misses,
# an adversarial game. Finally **C²AM-H** trains a class-agnostic saliency model by contrastive learning
# (C²AM), anchored by *hints* (the confident regions of the CAMs) so that the salient side of its partition
# is the objects. The thesis also points out that Puzzle-CAM's released code keeps the epoch with the best
# ground-truth mIoU, a leak; its "fair" variant **P^f** keeps the last epoch. We build all arms on synthetic
# scenes, never select a checkpoint or a threshold on ground truth for a verdict, and test the ablation
# ordering of Table 7, the threshold robustness of Fig. 15 and the C²AM-H gain of Table 9.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (ResNet, 128 px scenes, all arms, 3 seeds, one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder holding VOCdevkit/VOC2012 (train and evaluate priors on VOC 2012 train), or None
epochs: int | None = None  # training epochs of every CAM network (the thesis: 15)
n_train: int | None = None  # training scenes (the priors are evaluated on these, as in Table 7)
arch: str | None = None  # "cnn" (4 conv blocks, stride 4) or a torchvision ResNet: "resnet18", "resnet50"
arms: list | None = None  # CAM arms from "ra", "pf", "poc", "poc_ls", "pnoc_ls" ("ra", "pf" and one OC arm required)
threshold: float | None = None  # fixed background threshold of the priors (declared, never tuned on masks)
k_noc: int | None = None  # P-NOC: update the ordinary classifier every k_noc steps (Algorithm 1)
delta_noc: float | None = None  # P-NOC: hard-erasing threshold on the normalised CAM (the thesis gives none)
c2am: bool | None = None  # train C²AM and C²AM-H (Table 9)
c2am_sign: str | None = None  # "corrected" (C²AM's loss) or "as_printed" (Eq. 7 without the minus signs)
hint_reduction: str | None = None  # C²AM-H hint term: "mean" over hinted pixels or "sum" (Eq. 29 as printed)

# %%
import copy
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
from torchvision.transforms import v2

import reprobook as rb
from reprobook.data.scenes import cooccurrence_matrix, make_scenes
from reprobook.puzzle import (NocTrainer, activation_mask, c2am_loss, disentangle, drop_class, erase, hint_loss, merge,
                              ramp, reconstruction_loss, sample_present_class, smooth_labels, tile)
from reprobook.runtime import seed_everything
from reprobook.segment import (confusion_matrix, iou_from_confusion, miou_from_confusion, normalise_cams, pseudo_masks,
                               tta_maps)
from reprobook.train import fit

ALL_ARMS = ("ra", "pf", "poc", "poc_ls", "pnoc_ls")
ARCHS = ("cnn", "resnet18", "resnet50")
PROFILES = {
    # CPU, one thread: 32 px scenes of 6 shape classes, a 5-block CNN (8 x 8 maps), 4 arms, one seed.
    "smoke": dict(epochs=8, n_train=448, n_monitor=96, size=32, num_classes=6, arch="cnn", width=12, batch_size=32,
                  lr=0.1, noc_lr=0.02, arms=["ra", "pf", "poc_ls", "pnoc_ls"], threshold=0.3, lambda_re=1.0,
                  re_masking=False, k_noc=1, delta_noc=0.2, label_smoothing=0.1, tta_scales=[1.0], c2am=True,
                  c2am_epochs=8, c2am_lr=0.05, c2am_sign="corrected", c2am_alpha=0.25, delta_fg=0.4, lambda_h=1.0,
                  hint_reduction="mean", class_colors=True, pair_cooccurrence=0.8, n_seeds=1),
    # One GPU: 128 px scenes, ResNet-18 from scratch (no max-pool, stride-1 last stage: 16 x 16 maps), all arms,
    # 3 seeds; the thesis' 15 epochs and multi-scale + flip TTA. With a VOC 2012 data_root: VOC train at 256 px.
    "full": dict(epochs=15, n_train=4000, n_monitor=400, size=128, num_classes=8, arch="resnet18", width=16,
                 batch_size=64, lr=0.1, noc_lr=0.02, arms=list(ALL_ARMS), threshold=0.3, lambda_re=4.0,
                 re_masking=False, k_noc=1, delta_noc=0.2, label_smoothing=0.1, tta_scales=[0.5, 1.0, 1.5, 2.0],
                 c2am=True, c2am_epochs=15, c2am_lr=0.05,
                 c2am_sign="corrected", c2am_alpha=0.25, delta_fg=0.4, lambda_h=1.0, hint_reduction="mean",
                 class_colors=True, pair_cooccurrence=0.8, n_seeds=3),
}
run = rb.start("david-d", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(epochs=epochs, n_train=n_train, arch=arch, arms=arms, threshold=threshold, k_noc=k_noc,
                          delta_noc=delta_noc, c2am=c2am, c2am_sign=c2am_sign, hint_reduction=hint_reduction))
cfg = run.cfg
for _name, _low in (("epochs", 1), ("n_train", 32), ("k_noc", 1)):
    _v = getattr(cfg, _name)
    if not isinstance(_v, int) or isinstance(_v, bool) or _v < _low:
        raise rb.ParameterError(f"{_name}={_v!r} must be an integer >= {_low}")
if cfg.arch not in ARCHS:
    raise rb.ParameterError(f"arch={cfg.arch!r} is not allowed; use one of {', '.join(map(repr, ARCHS))}")
if (not isinstance(cfg.arms, (list, tuple)) or any(a not in ALL_ARMS for a in cfg.arms)
        or len(set(cfg.arms)) != len(cfg.arms) or not {"ra", "pf"} <= set(cfg.arms)
        or not {"poc", "poc_ls", "pnoc_ls"} & set(cfg.arms)):
    raise rb.ParameterError(f"arms={cfg.arms!r} must be distinct names from {', '.join(ALL_ARMS)}, including 'ra', "
                            "'pf' and at least one of 'poc', 'poc_ls', 'pnoc_ls'")
for _name in ("threshold", "delta_noc"):
    _v = getattr(cfg, _name)
    if isinstance(_v, bool) or not isinstance(_v, (int, float)) or not 0 < _v < 1:
        raise rb.ParameterError(f"{_name}={_v!r} must be a number in (0, 1)")
if not isinstance(cfg.c2am, bool):
    raise rb.ParameterError(f"c2am={cfg.c2am!r} must be True or False")
if cfg.c2am_sign not in ("corrected", "as_printed"):
    raise rb.ParameterError(f"c2am_sign={cfg.c2am_sign!r} is not allowed; use 'corrected' or 'as_printed'")
if cfg.hint_reduction not in ("mean", "sum"):
    raise rb.ParameterError(f"hint_reduction={cfg.hint_reduction!r} is not allowed; use 'mean' or 'sum'")
USE_VOC = run.data_root is not None
if USE_VOC:
    from reprobook.data.voc import VOC_CLASSES, VOCSegmentation, voc_available

    if not voc_available(run.data_root):
        raise rb.ParameterError(f"data_root={str(run.data_root)!r} holds no VOCdevkit/VOC2012 folder; put the PASCAL "
                                "VOC 2012 devkit there or use data_root=None for the synthetic scenes")
IMAGE_SIZE = (256 if run.profile == "full" else 64) if USE_VOC else cfg.size
OC_ARMS = [a for a in cfg.arms if a in ("poc", "poc_ls", "pnoc_ls")]
# the hint source of C²AM-H and the arm whose per-class gains are inspected: the thesis' best, P-OC+LS (Table 9)
BEST_OC = next(a for a in ("poc_ls", "poc", "pnoc_ls") if a in OC_ARMS)
print(f"device {run.device}; data: {'VOC 2012 train' if USE_VOC else f'{cfg.n_train} synthetic scenes'} at "
      f"{IMAGE_SIZE} px; {cfg.arch}, {cfg.epochs} epochs, arms {cfg.arms}, seeds {run.seeds}")

# %% [markdown]
# ## The method
#
# **Notation** (thesis Sec. 3.2 and App. B.2). $f$ is the CAM network: $A = f(x) \in \mathbb{R}^{C \times h
# \times w}$ are its class maps (a 1×1 convolution of the last feature map, before any ReLU) and $p =
# \sigma(\mathrm{GAP}(A))$ its class probabilities; $y \in \{0,1\}^C$ the image's labels; $\ell$ the
# multi-label soft-margin (binary cross-entropy) loss.
#
# - **Puzzle-CAM** (Eq. 5). $\mathrm{tile}$ cuts $x$ into its four quadrants, $\mathrm{merge}$ stitches
#   their maps back: $A^{re} = \mathrm{merge}(f(\mathrm{tile}(x)))$. Loss $\ell(p, y) + \ell(p^{re}, y) +
#   \lambda_{re} \lVert A - A^{re} \rVert_1$ (a mean absolute error), $\lambda_{re}$ rising linearly from 0
#   to 4 over the first half of training (the smoke profile stops at 1: see the notes).
# - **OC-CSE** (Eq. 6). Draw one label $r$ of the image; $\psi(A^r)$ is its map, ReLU'd, upsampled and
#   divided by its maximum; a frozen ordinary classifier $oc$ sees the erased image $\hat x = x \circ
#   (1 - \psi(A^r))$ and must no longer find $r$: $\ell(oc(\hat x), y \setminus \{r\})$. The gradient
#   reaches $f$ through the mask.
# - **P-OC** (Eq. 26): both, $\mathcal{L}_{P\text{-}OC} = \ell(p, y) + \ell(p^{re}, y) + \lambda_{re}
#   \lVert A - A^{re}\rVert_1 + \lambda_{cse}\, \ell(oc(\hat x), y \setminus \{r\})$, with $\lambda_{cse}$
#   rising from 0.3 to 1; "+LS" smooths the targets ($1 \to 1 - \varepsilon/2$, $0 \to \varepsilon/2$).
# - **P-NOC** (Eqs. 27–28, Algorithm 1): after each step of $f$ (every $k_{noc}$ steps), $f$ is fixed and
#   $noc$ (initialised from $oc$) takes one step on $\lambda_{noc}\,\ell(noc(x \circ (1 - [\psi(A^r) >
#   \delta_{noc}])), y)$ — the *full* label set: it learns to still see $r$ where $f$'s map is not, and so
#   points $f$ at what it misses. $\lambda_{noc}$ rises from 0 to 1 while the learning rates decay to 0.
# - **C²AM** (Eq. 7): a backbone's features $A$ and a disentangler $P = \sigma(\mathrm{BN}(\mathrm{conv}(A)))
#   \in [0,1]^{h \times w}$ give a foreground vector $v^f = \mathrm{mean}_{hw}(P A)$ and a background vector
#   $v^b = \mathrm{mean}_{hw}((1-P) A)$ per image. In a batch of $n$, with cosine similarities $s$ and rank
#   weights $w_{ij} = e^{-\alpha\,\mathrm{rank}_i(s_{ij})}$:
#   $$\mathcal{L} = -\tfrac{1}{n(n-1)}\sum_{i \ne j} w^f_{ij} \log s^f_{ij}
#   - \tfrac{1}{n(n-1)}\sum_{i \ne j} w^b_{ij} \log s^b_{ij} - \tfrac{1}{n^2}\sum_{ij} \log(1 - s^{neg}_{ij}).$$
#   (Eq. 7 prints the two positive terms without the minus; `c2am_sign="as_printed"` runs that version.)
# - **C²AM-H** (Eq. 29) adds $\lambda_h \sum_{i, hw} [\hat A_i^{hw} > \delta_{fg}]\,\ell_{bce}(1, P_i^{hw})$,
#   where $\hat A_i$ is the class-max of the normalised CAMs of a WSSS model (hints): confident CAM pixels
#   must be on the *foreground* side, which anchors the partition. $\delta_{fg} = 0.4$, $\lambda_h = 1$.
#
# **Priors** (the CAM-to-mask step every arm shares). CAMs (with test-time augmentation) are upsampled,
# ReLU'd and divided by their maximum; only the image's own labels compete; a pixel is background where no
# label's score exceeds the threshold $\tau$, else it takes the best label. The building blocks are in
# `reprobook.puzzle` (exact unit tests: tile/merge round trip, erasing, the NOC alternation, the C²AM terms by
# hand); the losses are assembled below, where the reader sees them.

# %%
class CamNet(nn.Module):
    """A backbone and a bias-free 1x1-conv classifier: ``cams(x)`` = the class maps A, ``forward`` = GAP(A)."""

    def __init__(self, backbone, channels, num_classes):
        super().__init__()
        self.backbone, self.classifier = backbone, nn.Conv2d(channels, num_classes, 1, bias=False)

    def cams(self, x):
        return self.classifier(self.backbone(x))

    def forward(self, x):
        return self.cams(x).mean((2, 3))


def make_backbone():
    """(feature extractor, channels). "cnn": conv-BN-ReLU blocks with strides 1, 2, 2, 1, 1 (output stride 4).
    A ResNet (weights=None) gets a stride-1 last stage, as in Puzzle-CAM's and P-NOC's code, and keeps its
    max-pool only for images of 160 px and more: output stride 8 on small images, 16 on large ones."""
    if cfg.arch == "cnn":
        w = cfg.width

        def block(a, b, stride):
            return [nn.Conv2d(a, b, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

        return nn.Sequential(*block(3, w, 1), *block(w, 2 * w, 2), *block(2 * w, 4 * w, 2), *block(4 * w, 4 * w, 1),
                             *block(4 * w, 4 * w, 1)), 4 * w
    net = getattr(torchvision.models, cfg.arch)(weights=None)
    for m in net.layer4[0].modules():
        if isinstance(m, nn.Conv2d) and m.stride == (2, 2):
            m.stride = (1, 1)
    layers = [net.conv1, net.bn1, net.relu] + ([net.maxpool] if IMAGE_SIZE >= 160 else [])
    return nn.Sequential(*layers, net.layer1, net.layer2, net.layer3, net.layer4), net.fc.in_features


ARM_NAMES = {"ra": "RA (baseline CAM)", "pf": "P^f", "poc": "P-OC", "poc_ls": "P-OC+LS", "pnoc_ls": "P-NOC+LS"}
RAND_AUGMENT = v2.RandAugment()
COLOUR = v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3)


def augment(x, kind):
    """Per image: a horizontal flip, then RandAugment (the ordinary classifier / RA arm) or colour jitter
    (the regularised arms), as in the thesis' App. A.2. Uses torch's global generator (seeded per run)."""
    flip = torch.rand(x.shape[0], device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if kind == "ra":
        u8 = (x * 255).round().to(torch.uint8)
        return torch.stack([RAND_AUGMENT(img) for img in u8]).float() / 255
    return torch.stack([COLOUR(img) for img in x])


def loss_terms(model, x, y, arm, progress, oc, noc_trainer, generator):
    """The arm's training loss for one augmented batch (Eqs. 5, 26, 27), as a dict of terms."""
    eps = cfg.label_smoothing if arm.endswith("_ls") else 0.0
    target = smooth_labels(y, eps)
    maps = model.cams(x)
    terms = {"cls": F.multilabel_soft_margin_loss(maps.mean((2, 3)), target)}
    if arm == "ra":
        return terms
    rebuilt = merge(model.cams(tile(x)))  # Puzzle: the quadrants' maps stitched back
    terms["re_cls"] = F.multilabel_soft_margin_loss(rebuilt.mean((2, 3)), target)
    if cfg.re_masking:  # Puzzle-CAM's code: only the maps of the image's own classes are matched
        present = y.bool()[:, :, None, None].expand_as(maps)
        l_re = reconstruction_loss(maps[present], rebuilt[present])
    else:  # the thesis' text: the mean absolute error over all maps
        l_re = reconstruction_loss(maps, rebuilt)
    terms["re"] = ramp(progress, 0.0, cfg.lambda_re, until=0.5) * l_re
    if arm == "pf":
        return terms
    if noc_trainer is not None:
        noc_trainer.update()  # Algorithm 1: the noc step on the previous batch, before f sees noc again
    r = sample_present_class(y, generator)
    x_hat = erase(x, activation_mask(maps, r, tuple(x.shape[-2:])))
    classifier = noc_trainer.noc if noc_trainer is not None else oc
    terms["cse"] = ramp(progress, 0.3, 1.0) * F.multilabel_soft_margin_loss(classifier(x_hat),
                                                                             smooth_labels(drop_class(y, r), eps))
    if noc_trainer is not None:
        noc_trainer.observe(x, maps, r, y, weight=ramp(progress, 0.0, 1.0))
    return terms


# %% [markdown]
# **A check by hand.** The tile/merge round trip is exact, and a network that is a pure 1×1 convolution
# satisfies Puzzle's reconstruction perfectly; a real CNN with padding and a receptive field larger than a
# pixel does not, which is what $\mathcal{L}_{re}$ penalises.

# %%
_x = torch.rand(2, 3, 8, 8)
print("merge(tile(x)) == x:", torch.equal(merge(tile(_x)), _x))
torch.manual_seed(0)
_conv = nn.Conv2d(3, 2, 1)
_cnn = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1))
with torch.no_grad():
    print("L_re of a 1x1 conv:", float(reconstruction_loss(_conv(_x), merge(_conv(tile(_x))))))
    print("L_re of a 3x3 CNN: ", round(float(reconstruction_loss(_cnn(_x), merge(_cnn(tile(_x))))), 4))

# %% [markdown]
# ## The experiment
#
# **Data.** Synthetic scenes (`reprobook.data.scenes`) stand in for PASCAL VOC 2012 *train*: 1–3 filled
# shapes on textured backgrounds, multi-hot image labels for training, pixel masks kept for evaluation only.
# Each class has its own hue band and stripe texture (the generator's defaults). Classes 0 and 1 co-occur strongly
# (`pair_cooccurrence`, other pairs 0.15), the analogue of VOC's "room" group (chair, table, sofa), where the
# thesis sees OC-CSE help most (Table 8). As in Table 7, the priors are scored on the *training* images
# themselves (WSSS never sees their masks during training). With a VOC 2012 `data_root` the arms train on
# VOC `train` (1,464 images) and are scored there, the room group (chair, dining table, sofa, potted plant,
# TV) playing the co-occurring classes.
#
# **Arms** (Table 7's rows). `ra`: an ordinary classifier with RandAugment, whose CAMs are the baseline and
# which is the frozen $oc$ of the OC-CSE arms; `pf`: Puzzle, last epoch kept (P^f); `poc`, `poc_ls`: P-OC
# without / with label smoothing; `pnoc_ls`: P-NOC with label smoothing ($noc$ starts as a copy of `ra`).
# All use SGD (momentum 0.9, weight decay $10^{-4}$) with a learning rate decaying linearly to 0, as the
# thesis (0.1 for networks trained from scratch). After every epoch the priors of a fixed subset of
# `n_monitor` training images are scored (no TTA) to draw the per-epoch curves of Table 7; those scores never
# feed back into training. Only the Puzzle arm also keeps a copy of its best-scoring epoch, to show what the
# leaky "P" of Puzzle-CAM's code would report — an **oracle**, labelled so, outside every verdict.

# %%
def scene_data(n, data_seed):
    q = cooccurrence_matrix(cfg.num_classes, base=0.15, pairs={(0, 1): cfg.pair_cooccurrence})
    s = make_scenes(n, num_classes=cfg.num_classes, size=cfg.size, objects=(1, 3), cooccurrence=q,
                    class_colors=cfg.class_colors, seed=data_seed)
    return s.images, s.labels, s.masks, s.class_names


_voc_cache = {}


def voc_data():
    if not _voc_cache:
        ds = VOCSegmentation(run.data_root, "train", size=IMAGE_SIZE)
        n = min(len(ds), cfg.n_train)
        items = [ds[i] for i in range(n)]
        _voc_cache["d"] = (torch.stack([t[0] for t in items]), torch.stack([t[1] for t in items]),
                           torch.stack([t[2] for t in items]), VOC_CLASSES)
    return _voc_cache["d"]


if USE_VOC:
    TIED = [VOC_CLASSES.index(c) for c in ("chair", "diningtable", "sofa", "pottedplant", "tvmonitor")]
else:
    TIED = [0, 1]


@torch.no_grad()
def prior_confusions(model, images, labels, masks, thresholds, scales=(1.0,), flip=False, chunk=64):
    """Confusion matrices of the priors at every threshold, summed over the images (chunked on the device)."""
    model.eval()
    k = labels.shape[1] + 1
    out = torch.zeros(len(thresholds), k, k, dtype=torch.int64)
    for lo in range(0, len(images), chunk):
        x = images[lo:lo + chunk].to(run.device)
        cams = tta_maps(lambda z: F.relu(model.cams(z)).float(), x, scales=scales, flip=flip)
        maps = normalise_cams(cams).masked_fill(~labels[lo:lo + chunk].to(run.device).bool()[:, :, None, None],
                                                float("-inf"))
        score, best = maps.max(1)
        truth = masks[lo:lo + chunk].to(run.device)
        for t, thr in enumerate(thresholds):
            out[t] += confusion_matrix(torch.where(score > thr, best + 1, torch.zeros_like(best)), truth, k).cpu()
    return out


def train_arm(arm, images, labels, monitor, s, oc=None):
    """Train one CAM network; returns (model, per-epoch monitor mIoU, oracle-best model or None, noc updates)."""
    seed_everything(s)
    model = CamNet(*make_backbone(), labels.shape[1]).to(run.device)
    loader = DataLoader(TensorDataset(images, labels), batch_size=BATCH, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(s))
    total = cfg.epochs * len(loader)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / total)
    noc_trainer = None
    if arm == "pnoc_ls":
        noc = copy.deepcopy(oc)
        noc_opt = torch.optim.SGD(noc.parameters(), lr=cfg.noc_lr, momentum=0.9, weight_decay=1e-4)
        noc_trainer = NocTrainer(noc, noc_opt, every=cfg.k_noc, delta=cfg.delta_noc,
                                 label_smoothing=cfg.label_smoothing)
    gen = torch.Generator().manual_seed(s + 7)
    state = {"step": 0, "best": -1.0, "best_model": None}
    curve = []

    def step(m, batch):
        x, y = batch
        progress = state["step"] / total
        if noc_trainer is not None:  # noc's learning rate decays to 0 with f's
            for g in noc_trainer.optimizer.param_groups:
                g["lr"] = cfg.noc_lr * (1 - progress)
        terms = loss_terms(m, augment(x, "ra" if arm == "ra" else "colour"), y, arm, progress, oc, noc_trainer, gen)
        state["step"] += 1
        return sum(terms.values())

    def evaluate(m):
        value = miou_from_confusion(prior_confusions(m, *monitor, [cfg.threshold])[0])
        curve.append(value)
        if arm == "pf" and value > state["best"]:  # the leaky checkpointing of Puzzle-CAM's code (oracle)
            state["best"], state["best_model"] = value, copy.deepcopy(m)
        m.train()
        return {"monitor_miou": value}

    fit(model, loader, epochs=cfg.epochs, optimizer=opt, scheduler=sched, scheduler_interval="step",
        device=run.device, step=step, evaluate=evaluate, progress=False, desc=arm)
    return model.eval(), curve, state["best_model"], (noc_trainer.updates if noc_trainer else 0)


# %% [markdown]
# **Training and scoring.** For each seed: fresh scenes, the ordinary classifier first (it is also $oc$),
# then the regularised arms from the same initialisation seed. Priors are scored on all training images at
# the declared threshold $\tau$ = `threshold` and over a sweep of thresholds (Fig. 15); test-time
# augmentation averages flips (and, in the full profile, scales 0.5–2).

# %%
THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
T_INDEX = int(np.argmin([abs(t - cfg.threshold) for t in THRESHOLDS]))
THRESHOLDS[T_INDEX] = cfg.threshold
t_start = time.perf_counter()
results = {a: {"miou": [], "auc": [], "curve": [], "epochs": [], "iou": []} for a in cfg.arms}
oracle = {"P (GT-selected epoch)": [], "best threshold": {a: [] for a in cfg.arms}}
models, images_seen, train_seconds, arm_speed = {}, 0, 0.0, {}
for s in run.seeds:
    if USE_VOC:
        X, Y, M, CLASS_NAMES = voc_data()
    else:
        X, Y, M, CLASS_NAMES = scene_data(cfg.n_train, 1000 * s)
    monitor = (X[:cfg.n_monitor], Y[:cfg.n_monitor], M[:cfg.n_monitor])
    BATCH = min(cfg.batch_size, len(X))  # a tiny data set (the VOC fixture) still gives one batch per epoch
    trained = {}
    for arm in cfg.arms:
        t0 = time.perf_counter()
        model, curve, best_model, noc_updates = train_arm(arm, X, Y, monitor, s, oc=trained.get("ra"))
        seconds, seen = time.perf_counter() - t0, cfg.epochs * (len(X) // BATCH) * BATCH
        arm_speed.setdefault(arm, []).append(seen / max(seconds, 1e-9))
        train_seconds += seconds
        images_seen += seen
        if arm == "ra":
            for p in model.parameters():  # frozen: it is the OC of the OC-CSE arms
                p.requires_grad_(False)
        trained[arm] = model
        conf = prior_confusions(model, X, Y, M, THRESHOLDS, scales=cfg.tta_scales, flip=True)
        sweep = [miou_from_confusion(c) for c in conf]
        results[arm]["miou"].append(sweep[T_INDEX])
        results[arm]["auc"].append(float(np.mean(sweep)))
        results[arm]["curve"].append(sweep)
        results[arm]["epochs"].append(curve)
        results[arm]["iou"].append(iou_from_confusion(conf[T_INDEX]).tolist())
        oracle["best threshold"][arm].append(float(max(sweep)))
        if best_model is not None:
            oconf = prior_confusions(best_model, X, Y, M, [cfg.threshold], scales=cfg.tta_scales, flip=True)
            oracle["P (GT-selected epoch)"].append(miou_from_confusion(oconf[0]))
        if arm == "pnoc_ls":
            print(f"  P-NOC: the ordinary classifier took {noc_updates} steps")
    models[s] = trained
    print(f"seed {s}: prior mIoU at tau={cfg.threshold}: "
          + ", ".join(f"{ARM_NAMES[a]} {results[a]['miou'][-1]:.3f}" for a in cfg.arms))
# throughput of the ordinary classifier (images seen / training wall seconds), and of every arm
run.log_timing(classifier_images_per_s=float(np.mean(arm_speed["ra"])), cam_training_s=train_seconds,
               all_arms_images_per_s=images_seen / max(train_seconds, 1e-9),
               **{f"{a}_images_per_s": float(np.mean(v)) for a, v in arm_speed.items()})
for a in cfg.arms:
    run.log(**{f"prior_miou_{a}": results[a]["miou"], f"prior_auc_{a}": results[a]["auc"],
               f"monitor_curve_{a}": results[a]["epochs"][0]})
run.log(oracle_p_gt_epoch=oracle["P (GT-selected epoch)"], threshold=cfg.threshold)

# %% [markdown]
# **Table 7 analogue.** Prior mIoU (%) on the training images at the declared threshold, mean ± std over
# seeds, with the thesis' numbers (RS269, VOC 2012 train, with TTA) beside ours. The two oracle columns use
# the ground truth (the best threshold of the sweep; the epoch picked by its mIoU) and are never judged.

# %%
PAPER_T7 = {"ra": "53.9", "pf": "60.9 (mean of 3)", "poc": "61.4 (mean of 3)", "poc_ls": "61.8",
            "pnoc_ls": "62.7"}


def pm(values, scale=100):
    v = np.asarray(values, dtype=float) * scale
    return f"{v.mean():.1f}" + (f" ± {v.std(ddof=1):.1f}" if v.size > 1 else "")


table7 = pd.DataFrame({
    "arm": [ARM_NAMES[a] for a in cfg.arms],
    "thesis (Table 7, TTA)": [PAPER_T7[a] for a in cfg.arms],
    f"ours, τ = {cfg.threshold}": [pm(results[a]["miou"]) for a in cfg.arms],
    "ours, mean over τ (Fig. 15 area)": [pm(results[a]["auc"]) for a in cfg.arms],
    "oracle: best τ": [pm(oracle["best threshold"][a]) for a in cfg.arms],
    "oracle: GT-selected epoch": [pm(oracle["P (GT-selected epoch)"]) if a == "pf" else "" for a in cfg.arms],
})
display(table7.set_index("arm"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for a in cfg.arms:
    curves = np.asarray(results[a]["curve"]) * 100
    axes[0].plot(THRESHOLDS, curves.mean(0), marker=".", label=ARM_NAMES[a])
    if curves.shape[0] > 1:
        axes[0].fill_between(THRESHOLDS, curves.min(0), curves.max(0), alpha=0.15)
    ep = np.asarray(results[a]["epochs"]) * 100
    axes[1].plot(range(1, ep.shape[1] + 1), ep.mean(0), marker="o", label=ARM_NAMES[a])
axes[0].axvline(cfg.threshold, color="k", ls="--", lw=1, label="declared τ")
axes[0].set_xlabel("background threshold τ")
axes[0].set_ylabel("prior mIoU on the training images (%)")
axes[0].set_title("Fig. 15 analogue: mIoU against the threshold (an oracle view)", fontsize=10)
axes[0].legend(fontsize=8)
axes[1].set_xlabel("epoch")
axes[1].set_ylabel(f"monitor mIoU (%), τ = {cfg.threshold}, no TTA")
axes[1].set_title(f"Table 7 analogue: priors after each epoch ({cfg.n_monitor} training images)", fontsize=10)
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("threshold_and_epochs.png"), dpi=90)
plt.show()

# %% [markdown]
# **Per-class IoU (Table 8 analogue).** IoU at $\tau$ per class, mean over seeds; the co-occurring classes
# (`TIED`) are where the thesis sees OC-CSE's class-specific erasing help (room group: P^f 38.4 → P-OC+LS
# 43.2), at some cost on singletons (72.2 → 68.3).

# %%
def nanmean(x, axis=None):
    """Mean over the values that are defined (a class absent from every image has no IoU): NaN if none."""
    x = np.asarray(x, dtype=float)
    count = np.sum(~np.isnan(x), axis=axis)
    return np.where(count > 0, np.nansum(x, axis=axis) / np.maximum(count, 1), np.nan)


iou_table = pd.DataFrame({ARM_NAMES[a]: nanmean(results[a]["iou"], 0) * 100 for a in cfg.arms},
                         index=["background"] + list(CLASS_NAMES))
iou_table.insert(0, "co-occurring", [""] + ["yes" if c in TIED else "" for c in range(len(CLASS_NAMES))])
display(iou_table.style.format({ARM_NAMES[a]: "{:.1f}" for a in cfg.arms}))


def group_gain(arm, classes):
    """Per seed: mean IoU gain of ``arm`` over P^f on the given foreground classes."""
    out = []
    for j in range(len(run.seeds)):
        a = np.asarray(results[arm]["iou"][j], dtype=float)[[c + 1 for c in classes]]
        b = np.asarray(results["pf"]["iou"][j], dtype=float)[[c + 1 for c in classes]]
        out.append(float(nanmean(a - b)))
    return out


OTHERS = [c for c in range(len(CLASS_NAMES)) if c not in TIED]
tied_gain, other_gain = group_gain(BEST_OC, TIED), group_gain(BEST_OC, OTHERS)
run.log(tied_gain=tied_gain, other_gain=other_gain)

# %% [markdown]
# **Examples.** Images with several labels, their ground truth and the priors of each arm (last seed, $\tau$).

# %%
last = run.seeds[-1]
multi = torch.cat([torch.nonzero(Y.sum(1) >= 2).flatten(), torch.nonzero(Y.sum(1) < 2).flatten()])[:4]
nk = len(CLASS_NAMES) + 1
cmap = plt.get_cmap("tab10", nk)
fig, axes = plt.subplots(len(multi), 2 + len(cfg.arms), figsize=(2.0 * (2 + len(cfg.arms)), 2.0 * len(multi)),
                         squeeze=False)
for i, idx in enumerate(multi.tolist()):
    x, yv, mk = X[idx:idx + 1], Y[idx:idx + 1], M[idx]
    axes[i, 0].imshow(x[0].permute(1, 2, 0).clamp(0, 1).numpy())
    axes[i, 1].imshow(mk.clamp(max=nk - 1).numpy(), cmap=cmap, vmin=0, vmax=nk - 1, interpolation="nearest")
    for j, a in enumerate(cfg.arms):
        with torch.no_grad():
            cams = F.relu(models[last][a].cams(x.to(run.device))).float().cpu()
        pred = pseudo_masks(cams, yv, cfg.threshold, size=tuple(x.shape[-2:]))[0]
        axes[i, 2 + j].imshow(pred.numpy(), cmap=cmap, vmin=0, vmax=nk - 1, interpolation="nearest")
    names = ", ".join(CLASS_NAMES[c] for c in torch.nonzero(yv[0]).flatten().tolist())
    axes[i, 0].set_ylabel(names, fontsize=8)
for j, title in enumerate(["image", "ground truth"] + [ARM_NAMES[a] for a in cfg.arms]):
    axes[0, j].set_title(title, fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Priors at τ = {cfg.threshold} (colour = class, blue = background; x: pixels, y: pixels)")
fig.tight_layout()
fig.savefig(run.figure_path("priors.png"), dpi=90)
plt.show()

# %% [markdown]
# ## C²AM and C²AM-H (Table 9)
#
# The thesis trains C²AM on an ImageNet-pretrained ResNet and refines its saliency with PoolNet, a
# fully supervised saliency network trained on the C²AM maps (Table 9's "R%" column). Neither pretrained
# weights nor PoolNet are available offline, so (i) the backbone starts from the ordinary classifier `ra`
# of the same seed (pretrained on the same images' labels, the closest offline stand-in for ImageNet
# pretraining), and (ii) we score the C²AM maps themselves, Table 9's "P%" column; PoolNet's refinement is
# not reproduced. Hints for C²AM-H come from the best P-OC arm (the thesis' best hint source is RS269
# P-OC+LS). C²AM's partition has no anchor: which side is "foreground" is decided after training, as C²AM's
# authors do, without labels: the side that covers less of the image border is the foreground. C²AM-H is
# anchored by its hints and is not flipped.
#
# Two scores, as in Table 9: **"GT" column** — saliency alone: a salient pixel takes its true class, a
# salient background pixel counts as a false positive (for the image's first label), a non-salient object
# pixel is a miss; **"CAM" column** — a salient pixel takes the best label of the hint model's CAM, a
# non-salient pixel is background (pixel-wise thresholding by saliency instead of the global $\tau$).
# Saliency is thresholded at 0.5, the disentangler's midpoint (declared).

# %%
class Disentangler(nn.Module):
    """C²AM's disentangling branch: a 3x3 conv to one channel, batch norm, sigmoid -> P in [0, 1]."""

    def __init__(self, channels):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(channels, 1, 3, padding=1, bias=False), nn.BatchNorm2d(1)

    def forward(self, features):
        return torch.sigmoid(self.bn(self.conv(features)))


@torch.no_grad()
def hint_maps(model, images, labels, size, chunk=64):
    """Class-max of the normalised CAMs of the image's labels, resized to ``size`` (N x 1 x h x w in [0, 1])."""
    out = []
    for lo in range(0, len(images), chunk):
        cams = normalise_cams(F.relu(model.cams(images[lo:lo + chunk].to(run.device))).float())
        cams = cams * labels[lo:lo + chunk].to(run.device)[:, :, None, None]
        out.append(F.interpolate(cams.amax(1, keepdim=True), size=size, mode="bilinear", align_corners=False).cpu())
    return torch.cat(out)


def train_c2am(ra_model, images, hints, s, use_hints):
    seed_everything(s)
    backbone = copy.deepcopy(ra_model.backbone)
    for p in backbone.parameters():
        p.requires_grad_(True)
    head = Disentangler(ra_model.classifier.in_channels)
    net = nn.ModuleDict({"backbone": backbone, "head": head}).to(run.device)
    loader = DataLoader(TensorDataset(images, hints), batch_size=BATCH, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(s))
    total = cfg.c2am_epochs * len(loader)
    opt = torch.optim.SGD([{"params": backbone.parameters(), "lr": 0.1 * cfg.c2am_lr},
                           {"params": head.parameters(), "lr": cfg.c2am_lr}], momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / total)

    def step(m, batch):
        x, h = batch
        flip = torch.rand(x.shape[0], device=x.device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        h = torch.where(flip[:, None, None, None], h.flip(-1), h)
        feats = m["backbone"](x)
        p = m["head"](feats)
        loss = c2am_loss(*disentangle(feats, p), alpha=cfg.c2am_alpha, sign=cfg.c2am_sign)["total"]
        if use_hints:
            loss = loss + cfg.lambda_h * hint_loss(p, h, cfg.delta_fg, reduction=cfg.hint_reduction)
        return loss

    fit(net, loader, epochs=cfg.c2am_epochs, optimizer=opt, scheduler=sched, scheduler_interval="step",
        device=run.device, step=step, progress=False, desc="c2am-h" if use_hints else "c2am")
    return net.eval()


@torch.no_grad()
def saliency(net, images, chunk=64):
    out = []
    for lo in range(0, len(images), chunk):
        x = images[lo:lo + chunk].to(run.device)
        p = net["head"](net["backbone"](x)).float()
        out.append(F.interpolate(p, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False).cpu())
    return torch.cat(out)


def border_is_salient(sal):
    """Label-free polarity test: is the partition's "foreground" side more present on the border than inside?"""
    border = torch.ones_like(sal[0, 0], dtype=torch.bool)
    b = max(1, sal.shape[-1] // 8)
    border[b:-b, b:-b] = False
    return bool(sal[:, 0][:, border].mean() > sal[:, 0][:, ~border].mean())


@torch.no_grad()
def saliency_scores(sal, images, labels, masks, cam_model, chunk=64):
    """(GT-column mIoU, CAM-column mIoU, foreground IoU, salient share) of saliency > 0.5 over the images."""
    k = labels.shape[1] + 1
    conf_gt, conf_cam = torch.zeros(k, k, dtype=torch.int64), torch.zeros(k, k, dtype=torch.int64)
    conf_fg = torch.zeros(2, 2, dtype=torch.int64)
    for lo in range(0, len(images), chunk):
        sl = slice(lo, lo + chunk)
        salient, truth, y = sal[sl, 0] > 0.5, masks[sl], labels[sl]
        first = y.argmax(1)[:, None, None] + 1
        fg_truth = torch.where((truth > 0) & (truth != 255), truth, first.expand_as(truth))
        conf_gt += confusion_matrix(torch.where(salient, fg_truth, torch.zeros_like(truth)), truth, k)
        conf_fg += confusion_matrix(salient.long(), torch.where(truth == 255, truth, (truth > 0).long()), 2)
        cams = normalise_cams(F.interpolate(F.relu(cam_model.cams(images[sl].to(run.device))).float(),
                                            size=tuple(truth.shape[-2:]), mode="bilinear", align_corners=False)).cpu()
        best = cams.masked_fill(~y.bool()[:, :, None, None], float("-inf")).argmax(1) + 1
        conf_cam += confusion_matrix(torch.where(salient, best, torch.zeros_like(best)), truth, k)
    fg_iou = float(iou_from_confusion(conf_fg)[1])
    share = float(conf_fg[:, 1].sum() / conf_fg.sum())
    return miou_from_confusion(conf_gt), miou_from_confusion(conf_cam), fg_iou, share


example_saliency = {}
sal_results = {k: [] for k in ("C2AM GT", "C2AM-H GT", "C2AM CAM", "C2AM-H CAM", "C2AM fg IoU", "C2AM-H fg IoU",
                               "C2AM salient share", "C2AM-H salient share", "C2AM flipped", "hint CAM prior")}
if cfg.c2am:
    for s in run.seeds:
        X, Y, M, _ = voc_data() if USE_VOC else scene_data(cfg.n_train, 1000 * s)
        ra_model, hint_model = models[s]["ra"], models[s][BEST_OC]
        with torch.no_grad():
            h, w = ra_model.backbone(X[:1].to(run.device)).shape[-2:]
        hints = hint_maps(hint_model, X, Y, (h, w))
        for name, use in (("C2AM", False), ("C2AM-H", True)):
            net = train_c2am(ra_model, X, hints, s, use)
            sal = saliency(net, X)
            if not use:
                flipped = border_is_salient(sal)
                sal = 1 - sal if flipped else sal
                sal_results["C2AM flipped"].append(float(flipped))
            if s == last:
                example_saliency[name] = sal[multi]
            gt_score, cam_score, fg_iou, share = saliency_scores(sal, X, Y, M, hint_model)
            sal_results[f"{name} GT"].append(gt_score)
            sal_results[f"{name} CAM"].append(cam_score)
            sal_results[f"{name} fg IoU"].append(fg_iou)
            sal_results[f"{name} salient share"].append(share)
        sal_results["hint CAM prior"].append(results[BEST_OC]["miou"][run.seeds.index(s)])
    run.log(**{k.replace(" ", "_").replace("-", "_").lower(): v for k, v in sal_results.items()})
    display(pd.DataFrame({
        "method": ["C²AM", "C²AM-H"],
        "thesis P% (GT), Table 9": ["63.4 (RN50) / 61.4 (RS269)", "70.3 (RS269, hints RS269 P-OC+LS)"],
        "ours (GT)": [pm(sal_results["C2AM GT"]), pm(sal_results["C2AM-H GT"])],
        "thesis P% (CAM = RS269 P-OC+LS)": ["61.2", "67.3"],
        f"ours (CAM = {ARM_NAMES[BEST_OC]})": [pm(sal_results["C2AM CAM"]), pm(sal_results["C2AM-H CAM"])],
        "ours: foreground IoU": [pm(sal_results["C2AM fg IoU"]), pm(sal_results["C2AM-H fg IoU"])],
        "ours: salient share of pixels": [pm(sal_results["C2AM salient share"]),
                                          pm(sal_results["C2AM-H salient share"])],
    }).set_index("method"))
    print(f"true foreground share of pixels: {float(((M > 0) & (M != 255)).float().mean()) * 100:.1f}%")
    print(f"{ARM_NAMES[BEST_OC]} priors alone (τ = {cfg.threshold}): {pm(sal_results['hint CAM prior'])}; "
          f"C²AM's partition flipped by the border rule in {int(sum(sal_results['C2AM flipped']))} of "
          f"{len(run.seeds)} seeds")
    fig, axes = plt.subplots(len(multi), 4, figsize=(8.4, 2.1 * len(multi)), squeeze=False)
    for i, idx in enumerate(multi.tolist()):
        axes[i, 0].imshow(X[idx].permute(1, 2, 0).clamp(0, 1).numpy())
        axes[i, 1].imshow(hints[idx, 0].numpy(), cmap="viridis", vmin=0, vmax=1)
        for j, name in enumerate(("C2AM", "C2AM-H")):
            im = axes[i, 2 + j].imshow(example_saliency[name][i, 0].numpy(), cmap="viridis", vmin=0, vmax=1)
    for j, title in enumerate(["image", f"hints ({ARM_NAMES[BEST_OC]})", "C²AM saliency", "C²AM-H saliency"]):
        axes[0, j].set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, fraction=0.03, label="foreground probability P")
    fig.suptitle("Class-agnostic saliency of C²AM and C²AM-H (last seed; x, y: pixels)")
    fig.savefig(run.figure_path("saliency.png"), dpi=90)
    plt.show()
print(f"wall time so far {time.perf_counter() - t_start:.1f} s")

# %% [markdown]
# ## Claims
#
# Absolute numbers on synthetic scenes are not compared with the thesis'; the orderings are. Values are one
# per seed; the rules (`rb.Better`) judge the paired difference and say `inconclusive` when two standard
# errors of it cover the decision. The thesis' gaps between P^f, P-OC+LS and P-NOC+LS are 0.3–0.9 points,
# so a tie band of half a point (`tie=0.005`) is declared for those pairs: with one seed (smoke) a smaller
# difference is not called either way. Priors are judged at the declared threshold, never at the best one.

# %%
def ours(a, key="miou"):
    return results[a][key]


ledger = rb.Ledger()
ledger.claim("puzzle-beats-cam", "Puzzle (P^f, last epoch, no ground-truth checkpointing) gives better priors "
             "than the baseline CAM of an ordinary classifier",
             paper="Table 7: RS269 RA 53.9 vs P^f 60.9 (TTA); RS101 54.8 vs 59.4",
             measured={"P^f": ours("pf"), "RA": ours("ra")}, rule=rb.Better("P^f", "RA", tie=0.005))
if "poc_ls" in cfg.arms or "poc" in cfg.arms:
    _poc = "poc_ls" if "poc_ls" in cfg.arms else "poc"
    ledger.claim("poc-beats-puzzle", f"Adding OC-CSE to Puzzle ({ARM_NAMES[_poc]}) improves the priors over P^f",
                 paper="Table 7 / text: P-OC 61.44 and P-OC+LS 61.77 vs P^f 60.89 (TTA, RS269)",
                 measured={ARM_NAMES[_poc]: ours(_poc), "P^f": ours("pf")},
                 rule=rb.Better(ARM_NAMES[_poc], "P^f", tie=0.005))
if "pnoc_ls" in cfg.arms and ("poc_ls" in cfg.arms or "poc" in cfg.arms):
    ledger.claim("pnoc-beats-poc", f"Training the ordinary classifier adversarially (P-NOC+LS) improves the priors "
                 f"over {ARM_NAMES[_poc]}",
                 paper="Table 7: P-NOC+LS 62.7 vs P-OC+LS 61.8 (+0.90, TTA, RS269, single runs)",
                 measured={"P-NOC+LS": ours("pnoc_ls"), ARM_NAMES[_poc]: ours(_poc)},
                 rule=rb.Better("P-NOC+LS", ARM_NAMES[_poc], tie=0.005))
if "poc" in cfg.arms and "poc_ls" in cfg.arms:
    ledger.claim("ls-helps-poc", "Label smoothing improves P-OC's priors",
                 paper="Table 7 text: P-OC+LS 61.77 vs P-OC 61.44 (+0.34); but Table 10 (segmentation): "
                 "71.45 vs 73.50",
                 measured={"P-OC+LS": ours("poc_ls"), "P-OC": ours("poc")},
                 rule=rb.Better("P-OC+LS", "P-OC", tie=0.005))
robust = [a for a in OC_ARMS]
ledger.claim("threshold-robustness", "The OC-CSE arms are more robust to the threshold than P^f: a larger area "
             "under the mIoU-threshold curve (mean mIoU over τ = 0.05 ... 0.95)",
             paper="Fig. 15 (no numbers: 'P-OC and P-NOC display higher area under the curve')",
             measured={**{f"{ARM_NAMES[a]} area": ours(a, "auc") for a in robust}, "P^f area": ours("pf", "auc")},
             rule=rb.AllOf(*[rb.Better(f"{ARM_NAMES[a]} area", "P^f area", tie=0.005) for a in robust]))
ledger.claim("cse-helps-cooccurring", f"OC-CSE's gain over P^f ({ARM_NAMES[BEST_OC]}) is larger on the strongly "
             "co-occurring classes than on the others",
             paper="Table 8: room group P^f 38.4 → P-OC+LS 43.2 (+4.8); singletons 72.2 → 68.3 (−3.9)",
             measured={"gain on co-occurring classes": tied_gain, "gain on other classes": other_gain},
             rule=rb.Better("gain on co-occurring classes", "gain on other classes", tie=0.005))
if cfg.c2am:
    ledger.claim("c2am-h-beats-c2am", "Hints anchor C²AM: C²AM-H's saliency is better than C²AM's (GT column)",
                 paper="Table 9 (P%, GT): C²AM 63.4 (RN50) / 61.4 (RS269) vs C²AM-H 70.3 (RS269, hints P-OC+LS)",
                 measured={"C²AM-H": sal_results["C2AM-H GT"], "C²AM": sal_results["C2AM GT"]},
                 rule=rb.Better("C²AM-H", "C²AM", tie=0.005))
    ledger.claim("saliency-beats-threshold", "Separating background by C²AM-H saliency beats the global threshold "
                 "on the same CAMs",
                 paper="Table 9 (P%, CAM = RS269 P-OC+LS) 67.3 vs the CAM's own priors, Table 7: 61.8",
                 measured={"C²AM-H + CAM": sal_results["C2AM-H CAM"], "CAM priors": sal_results["hint CAM prior"]},
                 rule=rb.Better("C²AM-H + CAM", "CAM priors", tie=0.005))
ledger.claim("segmentation-stage", "P-NOC+LS with C²AM-H, refined by random walk and trained into DeepLabV3+, "
             "reaches 72.7% mIoU on VOC 2012 test", paper="Table 2; Table 10 (73.59 train / 73.37 val)",
             rule=rb.NotTestable("needs ImageNet-pretrained ResNeSt-269, AffinityNet, PoolNet and VOC test "
                                 "evaluation; the priors (Table 7) are the tested stage here"))
run.finish(ledger)
ledger

# %% [markdown]
# ## Deviations and notes
#
# - **Data and networks.** Synthetic scenes replace VOC 2012; a small CNN (smoke) or a ResNet trained from
#   scratch (full) replaces ImageNet-pretrained ResNeSt-101/269; the thesis' random resize/crop is left out
#   (the scenes already vary object size and position). Absolute mIoU values are not comparable.
# - **Fairness.** No checkpoint, learning rate or threshold is chosen on ground truth for a verdict: every
#   arm keeps its last epoch (P^f), and priors are judged at the declared $\tau$. The monitor curves use
#   ground truth only to be drawn. The "GT-selected epoch" and "best τ" columns are oracles and say so.
# - **Threshold.** $\tau$ = 0.3 was declared before the first run and kept, although the sweeps of the pilot
#   runs then showed every arm peaking near 0.6 on these scenes (the oracle column). The "area" of Fig. 15 is
#   the mean mIoU over the sweep (uniform grid), which uses every threshold and selects none.
# - **Smoke settings, in full disclosure.** The first pilot (48 px, 320 scenes, 6 epochs, random object
#   colours) did not learn to classify at all within the CPU budget (training-set label accuracy at the
#   all-negative rate), so its priors were meaningless. We moved to 32 px, 448 scenes, 8 epochs, width 12
#   and the generator's class colours, judged by the classifier's label accuracy and the CPU time; AdamW
#   was tried and not kept (SGD as the thesis). With the thesis' $\lambda_{re}$ = 4 the Puzzle arms again
#   failed to classify (accuracy at the all-negative rate, a label-only criterion; their priors were visible
#   to us too), as did restricting $\mathcal{L}_{re}$ to the image's classes (`re_masking`, Puzzle-CAM's
#   code); the smoke profile therefore uses $\lambda_{re}$ = 1, the full profile keeps 4. C²AM's epochs were
#   raised from 3 to 8 (the CAM networks' count) after a first run; both saliency verdicts were the same
#   before and after. Priors of these pilots were seen, so the smoke verdicts are weak evidence; the full
#   profile's three seeds on larger scenes are the test.
# - **Algorithm 1, line 12** cites Eq. 27 for the $noc$ update; Eq. 28 (the full label set on the
#   hard-erased image) is meant and implemented. $\delta_{noc}$ and $k_{noc}$ are not given in the thesis: we
#   take the authors' code defaults as described in the planning card ($\delta_{noc}$ = 0.2, an update every
#   step), both knobs. $\lambda_{noc}$ rises 0 → 1 as in App. A.2 (the stored code reportedly uses 0 → 0.5).
#   The $noc$ update runs at the start of the next $f$ step with the erased images of the previous one, which
#   is exactly the algorithm's order (its last update, after the final step, is never used, so is skipped).
#   $noc$'s learning rate (`noc_lr` = 0.02) is not given in the thesis; it decays to 0 with $f$'s.
# - **Erasing mask.** $\psi$ normalises each map by its own maximum; OC-CSE's code divides by the batch's
#   maximum. The reconstruction loss averages over all class maps (Puzzle-CAM's code restricts it to the
#   image's labels).
# - **Label smoothing.** Binary smoothing with $\varepsilon$ = 0.1 ($1 \to 0.95$, $0 \to 0.05$); the thesis does
#   not give its form or value. Applied to the CAM network's targets (and the $noc$ targets) of "+LS" arms.
# - **Augmentation.** RandAugment (torchvision, per image) for the ordinary classifier, colour jitter for
#   the regularised arms, flips for all, as in App. A.2.
# - **C²AM.** Eq. 7 prints the positive terms without a minus sign; minimising them would push similar
#   images apart. We use C²AM's own sign (`c2am_sign="corrected"`; `"as_printed"` runs the printed one).
#   Ranks are taken per row among the other images (0 = the most similar), α = 0.25 (C²AM's default).
#   Eq. 29 sums the hint term over pixels, against terms that are averages; we average it over hinted pixels
#   (`hint_reduction="mean"`; `"sum"` is the printed form). The thesis' backbone is ImageNet-pretrained; ours
#   starts from the ordinary classifier of the same images. PoolNet refinement (Table 9's R%) is not
#   reproduced: we score the C²AM maps (P%). The "GT" column counts a salient background pixel as a false
#   positive of the image's first label (the thesis does not say which class it is charged to).
# - **Reading the saliency results.** On the smoke scenes the C²AM maps are as coarse as the CAMs (8 × 8), and
#   the hints ($\delta_{fg}$ = 0.4 on blobby CAMs) cover much more than the objects, so C²AM-H marks far more
#   pixels salient than the true foreground (the table's last two columns). Hints then help (anchoring) but
#   saliency at 0.5 is a worse background detector than the CAM threshold; the thesis' gain rests on
#   PoolNet-refined, fine-grained saliency from pretrained backbones, which the full profile only approaches.
# - **Leakage finding.** The thesis' point that Puzzle-CAM's released loop keeps the epoch of best
#   ground-truth mIoU is reproduced as a mechanism (the oracle column), not as a number about the original
#   code.
# - **Not done here.** Random walk (AffinityNet) refinement, saliency-guided affinity labels, dCRF and the
#   DeepLabV3+ stage (Tables 2, 10, 11): the book's `reprobook.segment` provides the segmenter stage for a
#   later extension.

# %% [markdown]
# ## Exercises
#
# 1. Why does a network whose maps are computed by 1×1 convolutions only have $\mathcal{L}_{re} = 0$ for
#    every image, and what does that tell you about what Puzzle-CAM regularises?
#
# ```{admonition} Solution
# :class: dropdown
# A 1×1 convolution maps each pixel independently, so applying it to a quadrant gives exactly the
# quadrant of its output: $\mathrm{merge}(f(\mathrm{tile}(x))) = f(x)$. $\mathcal{L}_{re}$ is therefore a
# penalty on *context*: on how much the map at a pixel depends on what lies in other quadrants (through the
# receptive field and the zero padding at the cut). Puzzle asks the network to recognise every part of an
# object from that part alone, which spreads the map over the whole object.
# ```
#
# 2. In OC-CSE the erased image is $x \circ (1 - \psi(A^r))$ and the target is $y \setminus \{r\}$. What
#    would the CAM network learn if the target kept $r$, and what if the ordinary classifier were trained
#    (not frozen) on the *same* loss?
#
# ```{admonition} Solution
# :class: dropdown
# Keeping $r$ in the target rewards leaving $r$ visible: the map would shrink to nothing. Training $oc$ on
# the same loss, with $r$ removed from the target, would teach it to *ignore* $r$ on erased images, so
# erasing would become easy and useless as a signal. P-NOC does the opposite: $noc$ is trained with $r$
# *kept*, on hard-erased images, so it learns to find $r$ in what the CAM left, and the CAM network must
# then cover those regions too — an adversarial game with a fixed point where the map covers the object.
# ```
#
# 3. Run the chapter with `-p c2am_sign as_printed`. What happens to C²AM's saliency, and why does C²AM-H
#    fare better?
#
# ```{admonition} Solution
# :class: dropdown
# Without the minus sign, minimising the positive terms pushes the foreground vectors of different images
# *apart*, while the negative term still separates foreground from background: the partition loses its
# meaning ("foreground" no longer collects what images share). C²AM-H's hint term still anchors the
# confident CAM regions on the foreground side, so its maps keep some object coverage; the comparison shows
# how much of C²AM-H's quality comes from the hints rather than from the contrastive loss.
# ```
