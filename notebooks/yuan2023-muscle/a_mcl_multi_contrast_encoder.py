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
# # A multi-strategy contrastive learning framework for weakly supervised semantic segmentation: the MCL encoder
#
# **Chapter `muscle-a`.** Kunhao Yuan, Gerald Schaefer, Yu-Kun Lai, Yifan Wang, Xiyao Liu, Lin Guan, Hui Fang.
# *A multi-strategy contrastive learning framework for weakly supervised semantic segmentation*. Pattern
# Recognition 137 (2023) 109298. DOI: [10.1016/j.patcog.2022.109298](https://doi.org/10.1016/j.patcog.2022.109298).
# This chapter covers the encoder (Sec. 3.2, Table 1, Appendix A); chapter `muscle-b` covers the BEACON decoder
# and the end-to-end pipeline.
#
# **The idea.** Weakly supervised segmentation starts from the class activation maps (CAMs) of a classifier
# trained on image labels, and those maps tend to cover only the most telling part of an object, because that
# is all a classification loss needs. MuSCLe's encoder adds contrastive terms that reward *consistent*
# features rather than merely *discriminative* ones, at three levels. Between images (IMC): embeddings of
# images with the same label set are pulled together and those with disjoint label sets pushed apart, all
# positives summed inside one logarithm, so that a batch without positives still gives a gradient (the
# Appendix A argument against the supervised contrastive loss). Between pixels (PIXC): two random crops of
# one image are passed through the network, and at every pixel of their overlap an attention-refined map of
# one view must point the same way as the plain CAM of the other. Between regions (PRC): patches of one view
# are matched with patches of different size and position in the other by the earth mover's distance, and
# the best match is pulled closer, which asks for scale-invariant features. A hybrid classification loss
# (BCE + focal + pairwise ranking) replaces plain BCE. The paper's Table 1 adds these pieces one at a time
# and reports the pseudo-mask mIoU on the training set after each; we rebuild that ablation on synthetic
# scenes, from scratch, and test the Appendix A argument on real label statistics.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (ResNet trunk, larger scenes, 3 seeds, one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder holding VOCdevkit/VOC2012 (train on VOC, pseudo masks on its train split), or None
epochs: int | None = None  # training epochs of every row of the ablation
n_train: int | None = None  # training scenes (ignored with VOC: the whole split is used)
n_eval: int | None = None  # training images whose pseudo masks are scored (Table 1 scores the train split)
arch: str | None = None  # "cnn" (small CNN, output stride 4) or "resnet18" / "resnet50" (torchvision, weights=None)
batch_size: int | None = None  # images per batch (the paper: 16 with EfficientNet-b3)
stage_epochs: list | None = None  # epochs at which IMC, PIXC and PRC switch on (three increasing integers)
bg_threshold: float | None = None  # the fixed background score of the pseudo masks (stated before the run)
hcl_variant: str | None = None  # "paper" (focal alpha 0.25, LSEP on logits) or "code" (alpha 0.5, pairs on probabilities)
imc_temperature: float | None = None  # IMC's temperature: 1.0 (the paper: plain dot products) or 0.1 (the code)
empty_positives: str | None = None  # anchors without positives in IMC: "appendix" (keep, Eq. A.4) or "skip" (the code)
cam_label_mask: bool | None = None  # softmax of Eq. 5 over the image's labels only (the code) or all classes (the paper)
appendix_batch_sizes: list | None = None  # batch sizes of the Appendix A gradient analysis
supcon_row: bool | None = None  # also train HCL + SupCon (Eq. A.2) in place of IMC, as Fig. A.10 compares

# %%
import copy
import time
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import reprobook as rb
from reprobook import mcl
from reprobook.data.scenes import make_scenes
from reprobook.segment import miou, pseudo_masks, threshold_sweep, tta_maps
from reprobook.train import fit

PROFILES = {
    # CPU, one thread: 48 px scenes of 6 shape classes, a 4-block CNN (output stride 4: 12 x 12 maps), one seed,
    # 10 epochs with IMC, PIXC and PRC switched on after 2, 4 and 6 (the code's 4/8/12 of 16, compressed).
    "smoke": dict(epochs=10, stage_epochs=[2, 4, 6], n_train=384, n_eval=160, size=48, crop=32, num_classes=6,
                  arch="cnn", width=12, batch_size=32, lr=3e-3, bg_threshold=0.25, scales=[0.5, 1.0, 1.5],
                  hcl_variant="paper", imc_temperature=1.0, empty_positives="appendix", cam_label_mask=False,
                  appendix_batch_sizes=[2, 4, 8, 16, 32], appendix_batches=40, supcon_row=True,
                  sinkhorn_iters=10, n_seeds=1),
    # One GPU: 128 px scenes of 10 classes, ResNet-18 from scratch (output stride 8: 16 x 16 maps), 3 seeds, the
    # code's 16-epoch schedule (IMC at 4, PIXC at 8, PRC at 12) and batch 16, multi-scale TTA at 4 scales.
    "full": dict(epochs=16, stage_epochs=[4, 8, 12], n_train=4000, n_eval=1000, size=128, crop=80, num_classes=10,
                 arch="resnet18", width=64, batch_size=16, lr=1e-3, bg_threshold=0.25, scales=[0.5, 1.0, 1.5, 2.0],
                 hcl_variant="paper", imc_temperature=1.0, empty_positives="appendix", cam_label_mask=False,
                 appendix_batch_sizes=[2, 4, 8, 16, 32, 64], appendix_batches=200, supcon_row=True,
                 sinkhorn_iters=10, n_seeds=3),
}
ARCHS = ("cnn", "resnet18", "resnet50")
run = rb.start("muscle-a", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(epochs=epochs, n_train=n_train, n_eval=n_eval, arch=arch, batch_size=batch_size,
                          stage_epochs=stage_epochs, bg_threshold=bg_threshold, hcl_variant=hcl_variant,
                          imc_temperature=imc_temperature, empty_positives=empty_positives,
                          cam_label_mask=cam_label_mask, appendix_batch_sizes=appendix_batch_sizes,
                          supcon_row=supcon_row))
cfg = run.cfg


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


for _name, _low in (("epochs", 2), ("n_train", 32), ("n_eval", 4), ("batch_size", 4)):
    if not _is_int(getattr(cfg, _name)) or getattr(cfg, _name) < _low:
        raise rb.ParameterError(f"{_name}={getattr(cfg, _name)!r} must be an integer >= {_low}")
if cfg.arch not in ARCHS:
    raise rb.ParameterError(f"arch={cfg.arch!r} is not allowed; use one of {', '.join(map(repr, ARCHS))}")
if (not isinstance(cfg.stage_epochs, (list, tuple)) or len(cfg.stage_epochs) != 3
        or not all(_is_int(e) for e in cfg.stage_epochs)
        or not 0 < cfg.stage_epochs[0] < cfg.stage_epochs[1] < cfg.stage_epochs[2] < cfg.epochs):
    raise rb.ParameterError(f"stage_epochs={cfg.stage_epochs!r} must be three increasing integers e1 < e2 < e3 with "
                            f"0 < e1 and e3 < epochs={cfg.epochs} (the epochs at which IMC, PIXC and PRC switch on)")
if isinstance(cfg.bg_threshold, bool) or not isinstance(cfg.bg_threshold, (int, float)) or not 0 < cfg.bg_threshold < 1:
    raise rb.ParameterError(f"bg_threshold={cfg.bg_threshold!r} must be a number in (0, 1)")
if cfg.hcl_variant not in mcl.HCL_VARIANTS:
    raise rb.ParameterError(f"hcl_variant={cfg.hcl_variant!r} is not allowed; use 'paper' or 'code'")
if isinstance(cfg.imc_temperature, bool) or not isinstance(cfg.imc_temperature, (int, float)) \
        or not 0 < cfg.imc_temperature <= 10:
    raise rb.ParameterError(f"imc_temperature={cfg.imc_temperature!r} must be a number in (0, 10]")
if cfg.empty_positives not in mcl.EMPTY_POSITIVES:
    raise rb.ParameterError(f"empty_positives={cfg.empty_positives!r} is not allowed; use 'appendix' or 'skip'")
if not isinstance(cfg.cam_label_mask, bool):
    raise rb.ParameterError(f"cam_label_mask={cfg.cam_label_mask!r} must be True or False")
if not isinstance(cfg.supcon_row, bool):
    raise rb.ParameterError(f"supcon_row={cfg.supcon_row!r} must be True or False")
if (not isinstance(cfg.appendix_batch_sizes, (list, tuple)) or len(cfg.appendix_batch_sizes) < 3
        or not all(_is_int(b) and b >= 2 for b in cfg.appendix_batch_sizes)
        or len(set(cfg.appendix_batch_sizes)) != len(cfg.appendix_batch_sizes)):
    raise rb.ParameterError(f"appendix_batch_sizes={cfg.appendix_batch_sizes!r} must list at least three distinct "
                            "integers >= 2")
USE_VOC = run.data_root is not None
STRIDE = 4 if cfg.arch == "cnn" else 8
print(f"device {run.device}; {cfg.arch} (output stride {STRIDE}), {cfg.epochs} epochs with IMC/PIXC/PRC from "
      f"epochs {cfg.stage_epochs}, batch {cfg.batch_size}, seeds {run.seeds}; data: "
      + ("PASCAL VOC 2012 from " + str(run.data_root) if USE_VOC else
         f"{cfg.n_train} synthetic scenes of {cfg.size} px, {cfg.num_classes} classes"))

# %% [markdown]
# ## The method
#
# **Notation.** A batch holds images $x_i$ with multi-hot labels $y_i \in \{0,1\}^K$ over $K$ foreground
# classes. The trunk gives feature maps $A_i \in \mathbb{R}^{D\times h\times w}$; the classifier is global
# average pooling and a linear layer, $\hat y_i = W z_i + b$ with $z_i = \frac{1}{hw}\sum_{uv} A_{i,:,uv}$, and
# the CAM of class $c$ is $M_c = \sum_d W_{cd} A_d$.
#
# **Hybrid classification loss** (Eq. 7): $\mathcal{L}_{hcl} = \mathcal{L}_{bce} + \mathcal{L}_{focal} +
# \mathcal{L}_{pair}$, with the focal loss of Lin et al. and the log-sum-exp pairwise ranking loss (LSEP) of
# Li et al., $\mathcal{L}_{pair} = \log\big(1 + \sum_{v \notin y}\sum_{u \in y} e^{\hat y_v - \hat y_u}\big)$.
#
# **Image-level contrast** (Eq. 1), for an anchor $z_i$ with positives $Z^+$ and negatives $Z^-$ in the batch
# (embeddings L2-normalised, $s_{ij} = z_i\cdot z_j/T$):
#
# $$\mathcal{L}_{imc} = -\log\frac{\sum_{Z^+} e^{s_{i+}}}{\sum_{Z^+} e^{s_{i+}} + \sum_{Z^-} e^{s_{ij}}}
# \qquad\text{versus}\qquad
# \mathcal{L}_{sup} = -\sum_{Z^+}\log\frac{e^{s_{i+}}}{e^{s_{i+}} + \sum_{Z^-} e^{s_{ij}}}\ \ \text{(Eq. A.2)}.$$
#
# The paper does not say which images are positives for multi-hot labels; we follow the authors' code: a
# positive has the *identical* label set, a negative shares *no* label. With no positive, Eq. 1 reads
# $-\log 0$; Appendix A differentiates only the remaining term, $\log\sum_{Z^-}e^{s_{ij}}$, whose gradient
# (Eq. A.4) is a softmax-weighted mean of the negatives, so IMC keeps pushing negatives away, while every
# term of $\mathcal{L}_{sup}$ is a sum over $Z^+$ and vanishes (Eq. A.8). We implement that reading
# (`empty_positives="appendix"`); the released code instead skips such anchors (`"skip"`).
#
# **Background-included CAM** (Eqs. 4–5): $M_c \leftarrow \operatorname{softmax}_c(M)$ over the foreground
# maps and $M_{bg} = 1 - \max_c M_c$, stacked into $M \in \mathbb{R}^{(K+1)\times h\times w}$.
#
# **Spatial attention module** (Eq. 2): $M' = \operatorname{softmax}(g_1(M)^\top g_2(M))\, g_3(M)$, with
# $g_{1,2,3}$ 1×1 convolutions: every pixel of $M'$ is an attention-weighted mix of all pixels of $M$.
#
# **Pixel-level contrast** (Eq. 3): two random crops of an image; $u'_k$ is the SAM vector of view 1 and
# $\tilde v_k$ the CAM vector of view 2 at the $k$-th of the $HW$ pixels of their overlap:
# $\mathcal{L}_{pixc} = -\frac{1}{HW}\sum_k \cos(u'_k, \operatorname{sg}(\tilde v_k))$, sg = stop-gradient.
#
# **Pairwise regional contrast** (Eq. 6): the CAM of view 2 is cut into a static 2×2 grid of patches
# $\tilde p_b$; a window of random size ($h/3$ to $h/2$) slides with a random stride over the SAM map of
# view 1, giving patches $p_a$. Each pair is compared by the earth mover's distance between its two sets of
# pixel vectors, with cost $1 - \cos$ and masses from each vector's agreement with the other patch's mean,
# solved by Sinkhorn iterations (entropic regularisation 0.1, 10 iterations, as the code); the loss is the
# distance of the best pair, $\mathcal{L}_{prc} = \min_{a,b}\operatorname{EMD}(p_a, \operatorname{sg}(\tilde
# p_b))$ (the paper prints "argmin").
#
# **Overall** (Eq. 8): $\mathcal{L}_{MCL} = \mathcal{L}_{hcl} + \mathcal{L}_{imc} + \mathcal{L}_{pixc} +
# \mathcal{L}_{prc}$ with equal weights, the three contrastive terms switched on one after another at fixed
# epochs. All the losses live in `reprobook.mcl` (unit-tested: IMC with one positive is InfoNCE, the
# Appendix A gradients against Eq. A.3, Sinkhorn against an exact linear-programming EMD, the crop overlap
# against pixel identity); the network and the training step are below.

# %%
class SmallCNN(nn.Module):
    """conv-BN-ReLU x 4 (strides 1, 2, 2, 1): output stride 4."""

    def __init__(self, width):
        super().__init__()

        def block(a, b, stride):
            return [nn.Conv2d(a, b, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

        w = width
        self.body = nn.Sequential(*block(3, w, 1), *block(w, 2 * w, 2), *block(2 * w, 4 * w, 2),
                                  *block(4 * w, 4 * w, 1))
        self.channels = 4 * w

    def forward(self, x):
        return self.body(x)


def resnet_trunk(name):
    """A torchvision ResNet without pretrained weights, pooling and head, at output stride 8 (no max-pool,
    layer4 at stride 1), so small images keep usable CAMs."""
    import torchvision

    net = getattr(torchvision.models, name)(weights=None)
    net.maxpool = nn.Identity()
    for module in net.layer4.modules():  # first block: 3x3 (basic) or 3x3 middle (bottleneck) and shortcut
        if isinstance(module, nn.Conv2d) and module.stride == (2, 2):
            module.stride = (1, 1)
    trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.layer1, net.layer2, net.layer3, net.layer4)
    trunk.channels = net.fc.in_features
    return trunk


class MCLNet(nn.Module):
    """Trunk, GAP-linear classifier (its weights give the CAMs) and the SAM head over the background-included CAM."""

    def __init__(self, num_classes):
        super().__init__()
        self.trunk = SmallCNN(cfg.width) if cfg.arch == "cnn" else resnet_trunk(cfg.arch)
        self.fc = nn.Linear(self.trunk.channels, num_classes)
        self.sam = mcl.SpatialAttention(num_classes + 1)

    def cams(self, features):
        return torch.einsum("kd,ndhw->nkhw", self.fc.weight, features)

    def forward(self, x):
        return self.fc(self.trunk(x).mean((2, 3)))


def mcl_step(model, batch, *, terms, crop_gen):
    """One training step of a row of the ablation; ``terms`` names the active losses."""
    x, y = batch
    features = model.trunk(x)
    z = features.mean((2, 3))  # the image embedding of IMC: average-pooled last feature map
    logits = model.fc(z)
    if "hcl" in terms:
        loss = mcl.hybrid_classification_loss(logits, y, cfg.hcl_variant)
    else:
        loss = F.binary_cross_entropy_with_logits(logits, y)
    if "imc" in terms:
        loss = loss + mcl.imc_loss(z, y, cfg.imc_temperature, empty_positives=cfg.empty_positives)
    if "supcon" in terms:
        loss = loss + mcl.supcon_loss(z, y, cfg.imc_temperature)
    if "pixc" in terms or "prc" in terms:
        v1, v2, box1, box2 = mcl.two_view_crops(x, cfg.crop, align=STRIDE, generator=crop_gen)
        cams = model.cams(model.trunk(torch.cat([v1, v2])))
        m = mcl.background_cam(cams, torch.cat([y, y]) if cfg.cam_label_mask else None)
        m1, m2 = m.chunk(2)
        sam1 = model.sam(m1)
        if "pixc" in terms:
            loss = loss + mcl.pixc_loss(sam1, m2, box1, box2, STRIDE)
        if "prc" in terms:
            loss = loss + mcl.prc_loss(sam1, m2, grid=2, generator=crop_gen, iters=cfg.sinkhorn_iters)
    return loss


# %% [markdown]
# **Where the crops meet.** Two views of one training scene and the overlap box that PIXC compares pixel by
# pixel (boxes on the network's output grid, so overlap pixels map to whole feature cells).

# %%
_demo = make_scenes(4, num_classes=6, size=48, seed=999)
_g = torch.Generator().manual_seed(0)
_v1, _v2, _b1, _b2 = mcl.two_view_crops(_demo.images, 32, align=4, generator=_g)
fig, axes = plt.subplots(1, 3, figsize=(8, 2.9))
axes[0].imshow(_demo.images[0].permute(1, 2, 0))
axes[0].set_title("scene")
for ax, view, box, name in ((axes[1], _v1, _b1, "view 1"), (axes[2], _v2, _b2, "view 2")):
    ax.imshow(view[0].permute(1, 2, 0))
    t, l, h, w = box[0].tolist()
    ax.add_patch(plt.Rectangle((l - 0.5, t - 0.5), w, h, fill=False, color="yellow", lw=2))
    ax.set_title(f"{name} (overlap in yellow)")
for ax in axes:
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
fig.suptitle("PIXC compares view 1's SAM map and view 2's CAM inside the overlap")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The experiment
#
# **Data.** Synthetic multi-label scenes (`reprobook.data.scenes`) stand in for PASCAL VOC 2012: 1–3 filled
# shapes on textured backgrounds, image labels for training, pixel masks only for scoring. As in the paper's
# Table 1 the pseudo masks are scored on the *training* images (the first `n_eval`), with the images'
# ground-truth labels choosing which maps enter the mask. With a VOC 2012 `data_root` the classifier trains on
# VOC's `train` split (resized to the profile's size) and the pseudo masks are scored on it.
#
# **Rows.** The five rows of Table 1, each a model trained from the same initialisation and batch order:
# BCE only; HCL; HCL + IMC; + PIXC; + PRC, with IMC, PIXC and PRC switched on at epochs `stage_epochs` (the
# authors' code: 4, 8, 12 of 16). Because the rows share their first epochs exactly (same seed, same
# deterministic loop), we train the shared prefix once and fork the model, optimiser and random generators
# where a row departs from the next; the result is identical to training each row from scratch. A sixth
# row, HCL + SupCon (Eq. A.2) in place of IMC, is the analogue of Fig. A.10 at the profile's batch size.
# Adam with a constant learning rate, as the code (its learning-rate schedule steps on ground-truth mIoU,
# which we do not copy).
#
# **Pseudo masks.** The CAMs of an image's labelled classes, ReLU'd, scaled to a maximum of 1, against a
# constant background score: a pixel takes the best class only where that class's score exceeds the
# threshold. The threshold for every verdict is **fixed before the run at `bg_threshold` = 0.25** (between
# IRN's 0.15 and the 0.20–0.50 range that the authors' code sweeps). Single-scale: the image as it is;
# multi-scale: the mean of the maps over the profile's `scales` and horizontal flips
# (`reprobook.segment.tta_maps`). The threshold curves further down are an **oracle** (they pick the
# threshold on ground truth) and are shown apart.

# %%
def make_data():
    if not USE_VOC:
        train = make_scenes(cfg.n_train, num_classes=cfg.num_classes, size=cfg.size, objects=(1, 3),
                            seed=10_000 + run.seed)
        return train.images, train.labels, train.masks, train.class_names
    from reprobook.data.voc import VOC_CLASSES, VOCSegmentation

    ds = VOCSegmentation(run.data_root, "train", size=cfg.size)
    items = [ds[i] for i in range(len(ds))]
    return (torch.stack([t[0] for t in items]), torch.stack([t[1] for t in items]),
            torch.stack([t[2] for t in items]), VOC_CLASSES)


images, labels, masks, class_names = make_data()
K = labels.shape[1]
n_eval = min(cfg.n_eval, len(images))
print(f"{len(images)} training images, {K} classes, {labels.sum(1).mean():.2f} labels per image; pseudo masks "
      f"scored on {n_eval}")


class Branch:
    """A model in training with everything that decides its future: optimiser state and the two random
    generators (batch order, crops). ``fork`` copies all of it, so a forked row continues exactly as an
    independent run with the same seed would."""

    def __init__(self, s):
        torch.manual_seed(s)
        self.model = MCLNet(K).to(run.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=1e-6)
        self.batch_gen = torch.Generator().manual_seed(s)
        self.crop_gen = torch.Generator().manual_seed(s + 1)
        self.epoch = 0

    def fork(self):
        twin = copy.copy(self)
        twin.model, twin.opt = copy.deepcopy((self.model, self.opt))
        twin.batch_gen = torch.Generator().set_state(self.batch_gen.get_state())
        twin.crop_gen = torch.Generator().set_state(self.crop_gen.get_state())
        return twin

    def train(self, until, terms):
        global images_seen
        if until <= self.epoch:
            return self
        loader = DataLoader(TensorDataset(images, labels), batch_size=cfg.batch_size, shuffle=True,
                            drop_last=len(images) > cfg.batch_size, generator=self.batch_gen)
        fit(self.model, loader, epochs=until - self.epoch, optimizer=self.opt, device=run.device,
            step=partial(mcl_step, terms=frozenset(terms), crop_gen=self.crop_gen), desc="+".join(terms))
        images_seen += (until - self.epoch) * len(loader) * cfg.batch_size
        self.epoch = until
        return self


ROWS = ["BCE", "HCL", "+IMC", "+PIXC", "+PRC"]
PAPER_SS = {"BCE": 48.5, "HCL": 53.3, "+IMC": 54.3, "+PIXC": 54.8, "+PRC": 55.3}
PAPER_MS = {"BCE": 51.6, "HCL": 55.7, "+IMC": 57.2, "+PIXC": 57.6, "+PRC": 58.4}


def train_rows(s):
    """All rows for seed ``s``: the shared prefix is trained once and forked where rows part."""
    e1, e2, e3 = cfg.stage_epochs
    root = Branch(s)
    rows = {"BCE": root.fork().train(cfg.epochs, {"bce"})}
    main = root.train(e1, {"hcl"})
    rows["HCL"] = main.fork().train(cfg.epochs, {"hcl"})
    if cfg.supcon_row:
        rows["+SupCon"] = main.fork().train(cfg.epochs, {"hcl", "supcon"})
    main.train(e2, {"hcl", "imc"})
    rows["+IMC"] = main.fork().train(cfg.epochs, {"hcl", "imc"})
    main.train(e3, {"hcl", "imc", "pixc"})
    rows["+PIXC"] = main.fork().train(cfg.epochs, {"hcl", "imc", "pixc"})
    rows["+PRC"] = main.train(cfg.epochs, {"hcl", "imc", "pixc", "prc"})
    return {name: b.model.eval() for name, b in rows.items()}


@torch.no_grad()
def cam_maps(model, x, scales, flip):
    """ReLU'd CAMs at the images' size, averaged over scales and flips; in chunks to bound memory."""
    out = []
    for chunk in x.split(100):
        chunk = chunk.to(run.device)
        out.append(tta_maps(lambda t: F.relu(model.cams(model.trunk(t))), chunk, scales, flip).cpu())
    return torch.cat(out)


THRESHOLDS = np.round(np.arange(0.05, 0.71, 0.05), 2).tolist()
ev_x, ev_y, ev_m = images[:n_eval], labels[:n_eval], masks[:n_eval]
scores = {}  # (row, "ss"/"ms") -> list over seeds
curves = {}  # (row, "ss"/"ms") -> list over seeds of oracle curves
examples = {}
images_seen, t_train = 0, 0.0
for s in run.seeds:
    t0 = time.perf_counter()
    models = train_rows(s)
    t_train += time.perf_counter() - t0
    for name, model in models.items():
        for mode, (sc, fl) in {"ss": ([1.0], False), "ms": (cfg.scales, True)}.items():
            maps = cam_maps(model, ev_x, sc, fl)
            pred = pseudo_masks(maps, ev_y, cfg.bg_threshold)
            scores.setdefault((name, mode), []).append(100 * miou(pred, ev_m, K + 1))
            curves.setdefault((name, mode), []).append((100 * threshold_sweep(maps, ev_y, ev_m, THRESHOLDS)).tolist())
            if s == run.seeds[-1] and mode == "ms" and name in ("BCE", "+PRC"):
                examples[name] = (maps[:6], pred[:6])
all_rows = ROWS + (["+SupCon"] if cfg.supcon_row else [])
run.log_timing(classifier_images_per_s=images_seen / t_train, classifier_train_s=t_train)
run.log(**{f"miou_{mode}_{name}": scores[(name, mode)] for name in all_rows for mode in ("ss", "ms")})
table = pd.DataFrame({
    "HCL": ["", "✓", "✓", "✓", "✓"], "IMC": ["", "", "✓", "✓", "✓"], "PIXC": ["", "", "", "✓", "✓"],
    "PRC": ["", "", "", "", "✓"],
    "paper single-scale": [PAPER_SS[r] for r in ROWS], "paper multi-scale": [PAPER_MS[r] for r in ROWS],
    "ours single-scale": [np.mean(scores[(r, "ss")]) for r in ROWS],
    "ours multi-scale": [np.mean(scores[(r, "ms")]) for r in ROWS]}, index=ROWS)
display(table.round(1))
print(f"classifier training: {images_seen} images in {t_train:.1f} s ({images_seen / t_train:.0f} images/s)")
if cfg.supcon_row:
    print("HCL + SupCon in place of IMC: single-scale {:.1f}, multi-scale {:.1f} (HCL + IMC: {:.1f}, {:.1f})".format(
        np.mean(scores[("+SupCon", "ss")]), np.mean(scores[("+SupCon", "ms")]),
        np.mean(scores[("+IMC", "ss")]), np.mean(scores[("+IMC", "ms")])))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=False)
xs = np.arange(len(ROWS))
for ax, mode, label in ((axes[0], "ss", "single-scale"), (axes[1], "ms", "multi-scale")):
    ours = [np.mean(scores[(r, mode)]) for r in ROWS]
    err = [np.std(scores[(r, mode)], ddof=1) if len(run.seeds) > 1 else 0 for r in ROWS]
    paper = [(PAPER_SS if mode == "ss" else PAPER_MS)[r] for r in ROWS]
    ax.bar(xs - 0.2, paper, 0.4, label="paper (VOC 2012, EfficientNet)", color="0.7")
    ax.bar(xs + 0.2, ours, 0.4, yerr=err, capsize=3, label="ours (this run)")
    ax.set_xticks(xs, ROWS)
    ax.set_xlabel("row of Table 1 (losses added left to right)")
    ax.set_ylabel("pseudo-mask mIoU on train (%)")
    ax.set_title(f"Table 1, {label}, threshold {cfg.bg_threshold}")
    ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
fig.savefig(run.figure_path("table1.png"), dpi=90)
plt.show()

# %% [markdown]
# **Oracle threshold curves** (ORACLE: the threshold is read off the ground truth, so the best point of each
# curve is not a fair result; it shows whether a row's ranking depends on the fixed threshold). Multi-scale
# maps; the dotted line is the fixed threshold used for the verdicts.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, mode, label in ((axes[0], "ss", "single-scale"), (axes[1], "ms", "multi-scale")):
    for r in all_rows:
        ax.plot(THRESHOLDS, np.mean(curves[(r, mode)], 0), marker=".", label=r)
    ax.axvline(cfg.bg_threshold, color="k", ls=":", lw=1)
    ax.set_xlabel("background threshold")
    ax.set_ylabel("pseudo-mask mIoU on train (%)")
    ax.set_title(f"ORACLE threshold sweep, {label}")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("oracle_thresholds.png"), dpi=90)
plt.show()
oracle_best = {(r, m): float(np.max(np.mean(curves[(r, m)], 0))) for r in all_rows for m in ("ss", "ms")}
display(pd.DataFrame({m: {r: oracle_best[(r, m)] for r in all_rows} for m in ("ss", "ms")})
        .rename(columns={"ss": "ORACLE best single-scale", "ms": "ORACLE best multi-scale"}).round(1))
run.log(**{f"oracle_best_{m}_{r}": oracle_best[(r, m)] for r in all_rows for m in ("ss", "ms")})
best_t = {r: THRESHOLDS[int(np.argmax(np.mean(curves[(r, "ms")], 0)))] for r in all_rows}
print("ORACLE-best thresholds (multi-scale): " + ", ".join(f"{r} {t}" for r, t in best_t.items())
      + f"; the verdicts use the fixed {cfg.bg_threshold}")

# %% [markdown]
# **Pseudo masks** of the BCE baseline and of the full MCL encoder (multi-scale, fixed threshold), last seed.

# %%
def colour(mask):
    palette = plt.get_cmap("tab20")(np.linspace(0, 1, 20))[:, :3]
    out = np.zeros((*mask.shape, 3))
    for k in range(1, K + 1):
        out[mask == k] = palette[(k - 1) % 20]
    out[mask == 255] = 1.0
    return out


n_show = min(6, n_eval)
fig, axes = plt.subplots(4, n_show, figsize=(2 * n_show, 8.4), squeeze=False)
for j in range(n_show):
    axes[0, j].imshow(ev_x[j].permute(1, 2, 0))
    axes[0, j].set_title(", ".join(class_names[c] for c in torch.nonzero(ev_y[j]).flatten().tolist()), fontsize=8)
    axes[1, j].imshow(colour(ev_m[j].numpy()))
    for i, name in ((2, "BCE"), (3, "+PRC")):
        axes[i, j].imshow(colour(examples[name][1][j].numpy()))
for i, name in enumerate(["image", "ground truth", "BCE pseudo mask", "MCL pseudo mask"]):
    axes[i, 0].set_ylabel(name)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
for ax in axes[-1]:
    ax.set_xlabel("x")
fig.suptitle("Pseudo masks on training images: BCE-only CAMs against the full MCL encoder (multi-scale)")
fig.tight_layout()
fig.savefig(run.figure_path("pseudo_masks.png"), dpi=90)
plt.show()

# %% [markdown]
# ### Appendix A: does IMC keep a gradient where SupCon loses it?
#
# The argument is about batches: an anchor whose label set appears nowhere else in the batch has no positive,
# and then every term of Eq. A.2 is absent. We draw many random batches of each size from the training
# labels, take the embeddings of the trained HCL + IMC model (L2-normalised, temperature 1 as in the
# appendix), and measure for every anchor with at least one negative: whether it has a positive, and the
# norm of $\partial\mathcal{L}/\partial z_i$ with the other embeddings held fixed (Eq. A.3 and A.7).

# %%
with torch.no_grad():
    emb_model = models["+IMC"]
    z_all = torch.cat([F.normalize(emb_model.trunk(c.to(run.device)).mean((2, 3)), dim=1).cpu()
                       for c in images.split(200)]).double()
g = torch.Generator().manual_seed(run.seed)
rows_a = []
max_imc_norm = 0.0
for bsz in cfg.appendix_batch_sizes:
    bsz_eff = min(bsz, len(images))
    share_nopos, imc_alive, sup_alive, imc_norm, sup_norm, n_anchor = [], [], [], [], [], 0
    for _ in range(cfg.appendix_batches):
        idx = torch.randperm(len(images), generator=g)[:bsz_eff]
        zb, yb = z_all[idx], labels[idx]
        ni, n_pos, n_neg = mcl.anchor_gradient_norms(zb, yb, "imc", 1.0, "appendix")
        ns, _, _ = mcl.anchor_gradient_norms(zb, yb, "supcon", 1.0)
        has_neg = n_neg > 0
        if not has_neg.any():
            continue
        nopos = has_neg & (n_pos == 0)
        share_nopos.append(float(nopos.sum()) / float(has_neg.sum()))
        if nopos.any():
            imc_alive += (ni[nopos] > 1e-12).tolist()
            sup_alive += (ns[nopos] > 1e-12).tolist()
        imc_norm += ni[has_neg].tolist()
        sup_norm += ns[has_neg].tolist()
        max_imc_norm = max(max_imc_norm, float(ni[has_neg].max()))
    rows_a.append({"batch size": bsz, "anchors without positives": np.mean(share_nopos),
                   "IMC: nonzero gradient where no positive": np.mean(imc_alive) if imc_alive else float("nan"),
                   "SupCon: nonzero gradient where no positive": np.mean(sup_alive) if sup_alive else float("nan"),
                   "IMC mean gradient norm": np.mean(imc_norm), "SupCon mean gradient norm": np.mean(sup_norm),
                   "SupCon share of zero gradients": float(np.mean(np.array(sup_norm) <= 1e-12))})
appendix = pd.DataFrame(rows_a).set_index("batch size")
display(appendix.round(3))
run.log(appendix_batch_sizes=list(cfg.appendix_batch_sizes),
        appendix_share_nopos=appendix["anchors without positives"].tolist(),
        appendix_imc_alive=appendix["IMC: nonzero gradient where no positive"].tolist(),
        appendix_supcon_alive=appendix["SupCon: nonzero gradient where no positive"].tolist(),
        appendix_imc_norm=appendix["IMC mean gradient norm"].tolist(),
        appendix_supcon_norm=appendix["SupCon mean gradient norm"].tolist(), appendix_max_imc_norm=max_imc_norm)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
bs = appendix.index.to_numpy()
axes[0].plot(bs, appendix["anchors without positives"], marker="o", label="anchors without a positive")
axes[0].plot(bs, appendix["SupCon share of zero gradients"], marker="s", ls="--", label="SupCon: zero gradient")
axes[0].set_xscale("log", base=2)
axes[0].set_xticks(bs, [str(b) for b in bs])
axes[0].set_xlabel("batch size")
axes[0].set_ylabel("share of anchors")
axes[0].set_title("Small batches leave anchors without positives")
axes[0].legend(fontsize=8)
axes[1].plot(bs, appendix["IMC mean gradient norm"], marker="o", label="IMC (Eq. 1)")
axes[1].plot(bs, appendix["SupCon mean gradient norm"], marker="s", label="SupCon (Eq. A.2)")
axes[1].set_xscale("log", base=2)
axes[1].set_xticks(bs, [str(b) for b in bs])
axes[1].set_xlabel("batch size")
axes[1].set_ylabel("mean ||dL/dz_i|| per anchor")
axes[1].set_title("Gradient reaching an anchor's embedding")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(run.figure_path("appendix_gradients.png"), dpi=90)
plt.show()

# %% [markdown]
# ## Claims
#
# Absolute numbers on synthetic scenes and networks trained from scratch are not compared with the paper's;
# the orderings and gains are. Values are one per seed; with one seed (smoke) a rule decides on the number
# alone, with three (full) a gain inside two standard errors of the paired seed differences is
# `inconclusive`. Every pseudo-mask verdict uses the fixed threshold; the oracle curves above are not used.

# %%
def sc(row, mode):
    return scores[(row, mode)]


ledger = rb.Ledger()
ledger.claim("mcl-beats-cam", "The full MCL encoder (HCL + IMC + PIXC + PRC) gives better pseudo masks than a "
             "BCE-trained CAM, single-scale and multi-scale",
             paper="Table 1: 55.3 vs 48.5 single-scale (+6.8), 58.4 vs 51.6 multi-scale",
             measured={"MCL ss": sc("+PRC", "ss"), "BCE ss": sc("BCE", "ss"),
                       "MCL ms": sc("+PRC", "ms"), "BCE ms": sc("BCE", "ms")},
             rule=rb.AllOf(rb.Better("MCL ss", "BCE ss"), rb.Better("MCL ms", "BCE ms")))
ledger.claim("hcl-beats-bce", "The hybrid classification loss alone beats BCE",
             paper="Table 1: 53.3 vs 48.5 single-scale, 55.7 vs 51.6 multi-scale",
             measured={"HCL ss": sc("HCL", "ss"), "BCE ss": sc("BCE", "ss"),
                       "HCL ms": sc("HCL", "ms"), "BCE ms": sc("BCE", "ms")},
             rule=rb.AllOf(rb.Better("HCL ss", "BCE ss"), rb.Better("HCL ms", "BCE ms")))
ledger.claim("contrast-beats-hcl", "The three contrastive terms together add to HCL",
             paper="Table 1: 55.3 vs 53.3 single-scale (+2.0), 58.4 vs 55.7 multi-scale (+2.7)",
             measured={"MCL ss": sc("+PRC", "ss"), "HCL ss": sc("HCL", "ss"),
                       "MCL ms": sc("+PRC", "ms"), "HCL ms": sc("HCL", "ms")},
             rule=rb.AllOf(rb.Better("MCL ss", "HCL ss"), rb.Better("MCL ms", "HCL ms")))
for mode, label, paper in (("ss", "single-scale", "48.5 < 53.3 < 54.3 < 54.8 < 55.3"),
                           ("ms", "multi-scale", "51.6 < 55.7 < 57.2 < 57.6 < 58.4")):
    ledger.claim(f"staged-order-{mode}", f"Each added loss raises the pseudo-mask mIoU ({label}): "
                 "+PRC > +PIXC > +IMC > HCL > BCE",
                 paper=f"Table 1 ({label}): {paper}",
                 measured={f"{r} {mode}": sc(r, mode) for r in reversed(ROWS)},
                 rule=rb.Ordered(tuple(f"{r} {mode}" for r in reversed(ROWS))))
ledger.claim("tta-gain", "Multi-scale test-time augmentation improves every row's pseudo masks",
             paper="Sec. 4.2 and Table 1: +2.5 to +3.0 points for every row",
             measured={f"{r} {m}": sc(r, m) for r in ROWS for m in ("ms", "ss")},
             rule=rb.AllOf(*[rb.Better(f"{r} ms", f"{r} ss") for r in ROWS]))
imc_alive_min = float(np.nanmin(appendix["IMC: nonzero gradient where no positive"]))
sup_alive_max = float(np.nanmax(appendix["SupCon: nonzero gradient where no positive"]))
ledger.claim("imc-gradient-without-positives", "In a batch without positives for an anchor, SupCon's gradient "
             "is exactly zero while IMC's is not (every such anchor, every batch size)",
             paper="Appendix A, Eqs. A.4 and A.8 (proof; no number)",
             measured={"IMC share alive": imc_alive_min, "SupCon share alive": sup_alive_max},
             rule=rb.AllOf(rb.AtLeast("IMC share alive", 1.0), rb.AtLeast("SupCon share alive", 0.0, at_most=True)))
ledger.claim("small-batches-lack-positives", "The smaller the batch, the more anchors have no positive, so the "
             "more SupCon's gradient vanishes (the reason IMC suits small batches)",
             paper="Appendix A, text after Eq. A.10, and Fig. A.10 (four batch sizes; no numbers in the text)",
             measured={"batch size": list(cfg.appendix_batch_sizes),
                       "share without positives": appendix["anchors without positives"].tolist()},
             rule=rb.Correlates("batch size", "share without positives", sign=-1, min_rho=0.9))
ledger.claim("imc-gradient-range", "IMC's gradient norm stays between 0 and 1 (measured on real batches of the "
             "trained embeddings, all batch sizes)",
             paper="Appendix A, last paragraph ('within the range of 0 to 1'); Eq. A.6",
             measured={"max IMC gradient norm": max_imc_norm},
             rule=rb.AtLeast("max IMC gradient norm", 1.0 + 1e-9, at_most=True))  # 1e-9: float round-off
if cfg.supcon_row:
    ledger.claim("imc-beats-supcon-cam", f"At a small batch size ({cfg.batch_size}), HCL + IMC gives better pseudo "
                 "masks than HCL + SupCon", paper="Fig. A.10 (CAM mIoU of L_sup and L_imc at four batch sizes; "
                 "figure only, IMC above SupCon)",
                 measured={"IMC ss": sc("+IMC", "ss"), "SupCon ss": sc("+SupCon", "ss"),
                           "IMC ms": sc("+IMC", "ms"), "SupCon ms": sc("+SupCon", "ms")},
                 rule=rb.AllOf(rb.Better("IMC ss", "SupCon ss"), rb.Better("IMC ms", "SupCon ms")))
ledger.claim("voc-scale", "The MCL encoder gives 55.3 / 58.4 mIoU pseudo masks on VOC 2012 train with EfficientNet "
             "and beats SEAM and AffinityNet CAMs (Table 2)", paper="Tables 1 and 2",
             rule=rb.NotTestable("needs ImageNet-pretrained backbones and VOC 2012 at scale; here networks are "
                                 "trained from scratch on synthetic scenes (a VOC data_root runs the ablation on VOC "
                                 "with the same from-scratch networks)"))
ledger.claim("refinement", "Affinity / IRN random-walk refinement of MCL CAMs gains less than for other CAMs",
             paper="Table 2: ResNet50 MCL 52.6 → 60.9 (affinity), 63.1 (IRN) vs IRN 48.3 → 66.5",
             rule=rb.NotTestable("AffinityNet and IRN refinement are not implemented in this book"))
run.finish(ledger)
ledger

# %% [markdown]
# ## Deviations and notes
#
# - **Scale.** Synthetic scenes and networks trained from scratch (a 4-block CNN in smoke, a ResNet-18 at
#   output stride 8 in full) stand in for VOC 2012 and ImageNet-pretrained EfficientNet / ResNet-50 /
#   WideResNet-38. The paper's stage gains are 0.5–1.0 points at VOC scale; one smoke seed cannot settle
#   such gaps, and the full profile's three seeds call a gain inside the seed spread `inconclusive`.
# - **Positives and negatives in IMC** follow the code (identical label set / no shared label); the paper does
#   not define them for multi-hot labels. **Temperature:** the paper's Appendix A works with plain dot
#   products of normalised vectors (temperature 1, our default); the code divides by 0.1
#   (`imc_temperature=0.1`). **Anchors without positives:** Eq. 1 is $-\log 0$ there; we keep the term that
#   Appendix A differentiates (`empty_positives="appendix"`). The released code skips such anchors (its
#   positive sum stays a Python float and fails a tensor check), which means *the released IMC has no gradient
#   from those anchors either*, contrary to the appendix; `empty_positives="skip"` runs that variant.
# - **Appendix A's bound is not a bound.** Eq. A.6 gives $\sqrt2 Me/(N+Me)$ as the maximum of
#   $\|\partial\mathcal{L}_{imc}/\partial z_i\|$ when $N > 0$; it is the value at one configuration (positives
#   orthogonal to the anchor, negatives parallel). With positives *opposite* to the anchor the norm reaches
#   $2Me/(N/e+Me)$, above the printed value and above 1 (a unit test constructs it). The qualitative point
#   (no positives: SupCon's gradient is 0, IMC's is not) is right and is what the claim tests; the claim
#   `imc-gradient-range` checks the "between 0 and 1" sentence on real batches. Eq. A.7 also has a sign slip
#   (a "−" where the first fraction should be added).
# - **HCL.** The paper names BCE, focal and a pair loss [38] without constants. `hcl_variant="paper"` uses
#   the focal loss's published defaults ($\alpha = 0.25$, $\gamma = 2$) and LSEP on logits with pairs summed,
#   as in [38]; `"code"` uses the code's $\alpha = 0.5$ and its pair term on sigmoid probabilities with pairs
#   averaged. The code's `MultiLabelSoftMarginLoss` equals the mean BCE, so that part is the same.
# - **SAM.** Eq. 2 (self-attention over the background-included CAM, key width = $K+1$) is implemented. The
#   code's "SAM" is a different, PCM-style module (affinities from detached multi-stage trunk features); we
#   do not implement it. The code also adds an undocumented term (the top 20% of $|$CAM $-$ SAM$|$), which we
#   leave out, and masks the maps by the image's labels before Eq. 5 (`cam_label_mask=True`; off by default,
#   as the paper softmaxes all foreground maps).
# - **PRC.** Eq. 6's "argmin" is read as the minimum EMD over pairs (the loss is that distance). The Sinkhorn
#   setting (ε = 0.1, 10 log-domain iterations), patch masses and dynamic patch sizes follow the code; we
#   normalise the masses to sum 1 (a proper EMD between distributions; the code passes them unnormalised)
#   and let the gradient flow through both the cost and the plan (the code detaches the cost). PRC compares
#   the whole maps of the two views, PIXC only their overlap.
# - **Crops.** The paper crops 224 from 448 px inputs, which may not overlap at all; our crops are 2/3 of the
#   side (32 of 48, 80 of 128 px) so the views always overlap, at offsets on the output grid.
# - **Pseudo masks.** Raw CAMs of the classifier (not the SAM output, which the paper refines with CRF and
#   random walks before Table 2), the ground-truth label set of each training image, no CRF. The fixed
#   threshold 0.25 was set before the first run; the authors' code selects its threshold (and steps its
#   learning rate) on ground-truth train mIoU, which we do not copy.
# - **Fixed threshold versus oracle.** The CAMs of these small from-scratch networks are blobby, so every row
#   peaks at a higher threshold than the fixed 0.25 (see the oracle curves and the printed oracle-best
#   thresholds): the fixed-threshold mIoUs sit well below the oracle ones, and near each row's optimum the
#   gaps between rows shrink and their order can change (in our smoke run, at the oracle-best thresholds
#   PIXC and PRC no longer add to IMC). We keep 0.25 for the verdicts because it was chosen before any run;
#   choosing it now from the curves would be tuning on the evaluation masks. A reader should take the
#   fixed-threshold gains as "MCL's maps are better at a low threshold", not as a threshold-free ranking.
# - **Smoke size, in full disclosure.** The first smoke configuration (width 16, 480 scenes) exceeded the CPU
#   budget; it was cut to width 12 and 384 scenes for time, after its verdicts had been seen. With width 16
#   the staged orderings were `partly` (3 of 4 neighbour pairs; +IMC and +PIXC swapped) and HCL + SupCon
#   also beat HCL + IMC; the other verdicts were the same. Single-seed smoke verdicts on gains of about one
#   point are weak evidence either way; the full profile's three seeds are the test.
# - **Throughput.** `classifier_images_per_s` counts full training images per second of training wall time
#   (the two crops of PIXC/PRC are extra work not counted as images), over all rows and seeds.
# - **Rows are forks.** Rows that share a prefix of the schedule are forked from one training run rather than
#   retrained from scratch; on the CPU this is bit-identical to independent runs with the same seed (same
#   initialisation, batch order and crops up to the fork), and it makes the comparison between rows paired.

# %% [markdown]
# ## Exercises
#
# 1. Show that with exactly one positive, IMC (Eq. 1) and the paper's SupCon (Eq. A.2) are the same loss,
#    and that with $N$ positives IMC is at most SupCon.
#
# ```{admonition} Solution
# :class: dropdown
# With one positive both are $-\log\frac{e^{s_+}}{e^{s_+}+\sum_- e^{s_j}}$. With $N$ positives write
# $S = \sum_- e^{s_j}$ and $P = \sum_+ e^{s_p}$. IMC is $\log(1 + S/P)$ and SupCon is $\sum_p \log(1 +
# S/e^{s_p})$. Each $e^{s_p} \le P$, so every SupCon term is at least $\log(1+S/P)$, and there are $N \ge 1$
# terms: $\mathcal{L}_{imc} \le \mathcal{L}_{sup}$. IMC behaves like one InfoNCE term whose "positive" is the
# whole positive set, which is why a single hard positive does not dominate it ("single positive pair bias").
# ```
#
# 2. Construct three unit vectors in the plane (anchor, one positive, one negative) for which
#    $\|\partial\mathcal{L}_{imc}/\partial z_i\| > 1$, contradicting the appendix's "between 0 and 1".
#
# ```{admonition} Solution
# :class: dropdown
# The gradient is $\frac{S}{P+S}(\bar z_- - \bar z_+)$, with $\bar z_\pm$ the softmax-weighted means of the
# negatives and positives. Take $z_i = (1,0)$, the negative $z_j = z_i$ and the positive $\tilde z = -z_i$:
# $S = e$, $P = e^{-1}$ and $\bar z_- - \bar z_+ = 2 z_i$, so the norm is $2e/(e^{-1}+e) \approx 1.76$. The
# paper's Eq. A.6 gives $\sqrt2 e/(1+e) \approx 1.03$ for this $N = M = 1$: its "maximum" assumes the positive
# is orthogonal to the anchor. (`tests/test_mcl.py` checks both numbers.)
# ```
#
# 3. Rerun with `-p empty_positives skip` (the released code's IMC). Which claim of the ledger changes, and
#    what does that say about the code's agreement with the paper's Appendix A?
#
# ```{admonition} Solution
# :class: dropdown
# The gradient analysis always evaluates the appendix reading, so `imc-gradient-without-positives` does not
# move; what changes is the training: anchors without positives no longer contribute, so IMC acts only
# through anchors that do have a positive, exactly like SupCon, and the `+IMC` row (and the rows built on it)
# lose the advantage the appendix argues for. Comparing the two runs' `+IMC` and `+SupCon` rows shows how much
# of IMC's effect (if any, at this scale) comes from the anchors without positives.
# ```
