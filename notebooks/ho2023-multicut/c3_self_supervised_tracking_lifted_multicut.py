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
# # Self-Supervised Multiple Person Tracking with AutoEncoder Features and Lifted Multicuts
#
# **Chapter `ho-c3`.** Kalun Ho. *Learning Deep Visual Features for Minimum Cost Multicut Problem*,
# chapter 4 ("Self-Supervised Multiple Person Tracking"). Doctoral dissertation, Universität Siegen,
# March 2023 (our copy prints no DOI). The chapter is based on K. Ho, A. Kardoost, F.-J. Pfreundt,
# J. Keuper and M. Keuper, *A two-stage minimum cost multicut approach to self-supervised multiple person
# tracking*, Asian Conference on Computer Vision (ACCV) 2020, and K. Ho, J. Keuper and M. Keuper,
# *Unsupervised multiple person tracking using autoencoder-based lifted multicuts*, arXiv:2002.01192.
#
# **The idea.** Tracking by detection links the boxes a person detector finds in every frame into one
# trajectory per person. Linking boxes in neighbouring frames by their overlap works until people cross or
# the detector misses someone; then an appearance cue is needed, and such cues are usually learned from
# identity labels that are expensive and, as the thesis shows (Table 4.1), do not transfer well between
# videos. The thesis learns appearance *without* identity labels, in two stages. First a multicut on
# overlap alone, tuned to cut rather than join, groups detections into short, nearly pure
# "tracklets". Then a convolutional autoencoder learns a latent code of each detection crop, and its
# loss pulls every code towards the centre of its tracklet (plus, in a variant, a triplet term).
# Finally a *lifted* multicut links the detections: a logistic regression on overlap and latent distance
# gives the costs of edges between nearby frames, and long-range "lifted" edges between frames 10, 20 and
# 30 apart carry the latent distance alone, so that the appearance of a person far in the past still
# votes for or against a join without creating shortcuts in the graph.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (longer videos, 5 seeds, bigger crops)
seed = 0  # base seed; the full profile uses seed, seed+1, ... (one synthetic video per seed)
device = "auto"  # "auto" picks CUDA when present (autoencoder training only)
data_root = None  # a folder holding MOT17/train/MOT17-XX-FRCNN sequences, or None for the synthetic video
n_persons: int | None = None  # people in the synthetic video (>= 2)
n_frames: int | None = None  # frames of the synthetic video (>= 35: lifted edges reach 30 frames back)
crop: int | None = None  # detection crops are resized to crop x crop pixels: 16, 32 or 64
warm_epochs: int | None = None  # epochs of reconstruction only before the clustering loss starts (thesis: 5)
epochs: int | None = None  # epochs with the clustering (and triplet) loss after the warm-up
lam: float | None = None  # weight of the reconstruction term after the warm-up, in [0, 1] (thesis: 0.95)
max_gaps: list | None = None  # base-graph frame gaps to compare, e.g. [3, 5] for "1-3" and "1-5"
lifted_gaps: list | None = None  # frame gaps of the lifted edges (thesis: [10, 20, 30])
min_track: int | None = None  # clusters with fewer detections are dropped (thesis: 5)

# %%
import reprobook as rb

PROFILES = {
    "smoke": dict(n_persons=10, n_frames=40, crop=16, warm_epochs=3, epochs=6, lam=0.95, max_gaps=[5],
                  lifted_gaps=[10, 20, 30], min_track=5, n_seeds=1, height=96, width=128, speed=1.0, miss=0.1),
    "full": dict(n_persons=18, n_frames=150, crop=32, warm_epochs=5, epochs=30, lam=0.95, max_gaps=[3, 5],
                 lifted_gaps=[10, 20, 30], min_track=5, n_seeds=5, height=144, width=192, speed=1.5, miss=0.1),
}
run = rb.start("ho-c3", profile=profile, seed=seed, device=device, data_root=data_root, profiles=PROFILES,
               knobs=dict(n_persons=n_persons, n_frames=n_frames, crop=crop, warm_epochs=warm_epochs,
                          epochs=epochs, lam=lam, max_gaps=max_gaps, lifted_gaps=lifted_gaps,
                          min_track=min_track))
cfg = run.cfg


def _int_at_least(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise rb.ParameterError(f"{name}={value!r}: an integer >= {lo} is allowed")


def _gap_list(name, values, lo):
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lo for v in values)):
        raise rb.ParameterError(f"{name}={values!r}: a non-empty list of integers >= {lo} is allowed")
    return sorted(set(values))


_int_at_least("n_persons", cfg.n_persons, 2)
_int_at_least("n_frames", cfg.n_frames, 35)
_int_at_least("warm_epochs", cfg.warm_epochs, 0)
_int_at_least("epochs", cfg.epochs, 1)
_int_at_least("min_track", cfg.min_track, 1)
if cfg.crop not in (16, 32, 64):
    raise rb.ParameterError(f"crop={cfg.crop!r}: allowed are 16, 32 and 64")
if not 0 <= cfg.lam <= 1:
    raise rb.ParameterError(f"lam={cfg.lam!r}: a weight in [0, 1] is allowed")
MAX_GAPS = _gap_list("max_gaps", cfg.max_gaps, 1)
LIFTED_GAPS = _gap_list("lifted_gaps", cfg.lifted_gaps, 1)
if min(LIFTED_GAPS) <= max(MAX_GAPS):
    raise rb.ParameterError(f"lifted_gaps={cfg.lifted_gaps!r} must all exceed the largest base gap {max(MAX_GAPS)}")
print("resolved knobs:", vars(cfg), "| seeds:", run.seeds, "| device:", run.device)

# %% [markdown]
# ## The method
#
# **Detections and the graph.** Detection $i$ has a frame $t_i$, a box $b_i$ and an image crop $x_i$.
# Nodes are detections; a base edge joins $i$ and $j$ when $1 \le |t_i - t_j| \le G$ (the thesis' frame
# "distance" 1–3 or 1–5), and lifted edges join detections $10, 20, 30$ frames apart. An edge label
# $y_{ij} = 1$ means *cut* (different people). The lifted multicut (thesis Eq. 1.10–1.13) minimises
# $\sum_{e \in E \cup F} c_e y_e$ over labellings that are decompositions of the base graph, with lifted
# edges $F$ bound to be cut exactly when their ends lie in different components: they change the cost,
# not which clusterings are allowed. Costs are positive for "join" (cutting costs $c_e$) and negative for
# "cut".
#
# **Stage 1: tracklets.** On overlap alone, with $\mathrm{IoU}(b_i, b_j)$ standing in for the thesis'
# $\mathrm{IoU}_{DM}$ (the IoU of DeepMatching point matches), a multicut over gaps 1–3 with cost
# $c_{ij} = \mathrm{IoU}_{ij} - 0.7$ joins only pairs that overlap by more than 0.7: tracklets are short but
# rarely mix people. Their labels $\ell_i$ are the only supervision in this chapter.
#
# **Stage 2: appearance.** A convolutional autoencoder $g_\phi(f_\theta(x))$ with latent size 32 is
# trained on all crops, one frame's detections per batch, with
#
# $$ L_{ae,c} = \sum_i \lambda \,\lVert g(f(x_i)) - x_i \rVert^2 + (1 - \lambda)\,\lVert f(x_i) - \tilde c_{\ell_i} \rVert^2,
#    \qquad \tilde c_\ell = \frac{1}{|\{i: \ell_i = \ell\}|} \sum_{i: \ell_i = \ell} f(x_i) \quad\text{(Eq. 4.2–4.3)} $$
#
# where the centroids $\tilde c$ are recomputed once per epoch by passing every crop through the encoder.
# The first `warm_epochs` use reconstruction only (the thesis' "$\lambda = 0$" phase, see the notes), then
# $\lambda = 0.95$. The plain autoencoder $d_{AE}$ keeps training on reconstruction only; the triplet
# variant adds TL3 (Eq. 2.3, 4.4), $[\alpha - \lVert f_a - f_n \rVert^2]_+ + [\lVert f_a - f_p \rVert^2 - \beta]_+$,
# whose positive is the detection of highest IoU in the next frame and whose negative is a detection in
# the same frame that does not overlap the anchor.
#
# **Stage 3: costs and the lifted multicut.** With $d_{ij} = \lVert f(x_i) - f(x_j) \rVert$ (Eq. 4.5), a
# logistic regression $p_{ij} = \sigma(\langle \beta, \phi_{ij} \rangle)$ (Eq. 4.6) predicts "different
# people" from the features $\phi_{ij} = (1, \mathrm{IoU}_{ij}, d_{ij})$ (or a subset, for the ablation).
# Its labels are again pseudo-labels: $\mathrm{IoU} < 0.1$ counts as different, $\mathrm{IoU} > 0.7$ as the
# same person. The edge cost is the logit $c_{ij} = \log\frac{1 - p_{ij}}{p_{ij}}$. Lifted edges use a
# second regression on $(1, d_{ij})$ only. Detections of the same frame get a fixed repulsive cost
# (one person is detected at most once per frame).
#
# **Clusters to tracks** (as in Tang et al. 2017, the thesis' [148]): in each cluster keep the best-scoring
# detection per frame, drop clusters with fewer than `min_track` detections, and fill missing frames by
# linear interpolation of the box.
#
# The metrics (CLEAR-MOT MOTA, ID switches, FP, FN, and IDF1 as an extra) and the MOT17 loader are in
# `reprobook.tracking`; graphs, costs and the (lifted) multicut solvers (bioimage-cpp's greedy additive
# edge contraction followed by Kernighan–Lin) in `reprobook.multicut`; the training loop is
# `reprobook.train.fit`. The chapter's own code follows.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.ndimage import gaussian_filter
from sklearn.linear_model import LogisticRegression
from torch import nn

from reprobook.multicut import costs_from_probabilities, solve_lifted_multicut, solve_multicut
from reprobook.tracking import box_iou, crop_boxes, load_mot_sequence, mot_scores
from reprobook.train import fit
from reprobook.triplets import triplet_loss

SAME_FRAME_COST = -10.0  # repulsive: two boxes of one frame are two people
TRACKLET_GAPS, TRACKLET_IOU = 3, 0.7  # stage 1: join only boxes that overlap by more than 0.7
PSEUDO_DIFFERENT, PSEUDO_SAME = 0.1, 0.7  # IoU thresholds of the regression's pseudo-labels (T_low, T_high)


# ---------------------------------------------------------------------------------------- synthetic video
def _sprite(look, h, w, facing_right):
    """An RGB person sprite (h x w) and its mask: head, striped shirt with a side bag, two legs."""
    img = np.zeros((h, w, 3))
    mask = np.zeros((h, w), bool)
    head, waist = int(round(0.25 * h)), int(round(0.6 * h))
    hw = max(1, w // 4)
    mask[:head, hw:w - hw] = True
    img[:head] = look["skin"]
    mask[head:waist] = True
    rows = np.arange(head, waist)
    stripe = ((rows - head) // look["period"]) % 2 == 1
    img[head:waist] = look["shirt"]
    img[rows[stripe], :] = look["stripe"]
    bag = slice(0, max(1, w // 3)) if facing_right else slice(w - max(1, w // 3), w)
    img[head + 1:waist - 1, bag] = look["bag"]
    legs = np.ones(w, bool)
    legs[w // 2 - (w // 8):w // 2 + max(1, w // 8)] = False
    mask[waist:, legs] = True
    img[waist:] = look["trousers"]
    return img, mask


def make_video(rng, *, n_persons, n_frames, height, width, speed=1.0, miss=0.1, fp_rate=0.15, jitter=0.03):
    """A seeded synthetic video: people walking on a textured background, with ground truth and a noisy
    detector. Returns frames (T x H x W x 3 in [0, 1]), gt rows (frame, id, x, y, w, h, visibility) and
    detections (frame, x, y, w, h, score) with the true id of each detection (-1 for false positives)."""
    bg = gaussian_filter(rng.random((height, width, 3)), sigma=(6, 6, 0))
    bg = 0.35 + 0.3 * (bg - bg.min()) / (np.ptp(bg) + 1e-9)
    hs = rng.integers(int(0.28 * height), int(0.36 * height) + 1, n_persons)
    ws = np.maximum(6, np.round(hs * rng.uniform(0.4, 0.5, n_persons))).astype(int)
    looks = [dict(skin=rng.uniform([0.6, 0.4, 0.3], [0.95, 0.75, 0.6]), shirt=rng.random(3), stripe=rng.random(3),
                  trousers=rng.random(3), bag=rng.random(3), period=int(rng.integers(2, 5))) for _ in range(n_persons)]
    pos = np.column_stack([rng.uniform(0, width - ws), rng.uniform(0, height - hs)])
    angle = rng.uniform(0, 2 * np.pi, n_persons)
    spd = speed * rng.uniform(0.7, 1.3, n_persons)
    light_period, light_phase = rng.uniform(15, 40, n_persons), rng.uniform(0, 2 * np.pi, n_persons)
    frames, gt, det, det_id = [], [], [], []
    for t in range(1, n_frames + 1):
        angle += rng.normal(0, 0.12, n_persons)
        vel = spd[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        pos += vel
        for k in range(n_persons):  # bounce off the borders
            for ax, lim in ((0, width - ws[k]), (1, height - hs[k])):
                if not 0 <= pos[k, ax] <= lim:
                    pos[k, ax] = np.clip(pos[k, ax], 0, lim)
                    angle[k] = np.pi - angle[k] if ax == 0 else -angle[k]
        img = bg + rng.normal(0, 0.02, bg.shape)
        owner = -np.ones((height, width), int)
        xy = np.round(pos).astype(int)
        for k in np.argsort(xy[:, 1] + hs, kind="stable"):  # the lower a person's feet, the closer: drawn last
            sprite, mask = _sprite(looks[k], hs[k], ws[k], facing_right=np.cos(angle[k]) >= 0)
            light = 1 + 0.2 * np.sin(2 * np.pi * t / light_period[k] + light_phase[k])
            ys, xs = slice(xy[k, 1], xy[k, 1] + hs[k]), slice(xy[k, 0], xy[k, 0] + ws[k])
            img[ys, xs][mask] = np.clip(sprite[mask] * light, 0, 1)
            owner[ys, xs][mask] = k
        for k in range(n_persons):
            area = _sprite(looks[k], hs[k], ws[k], True)[1].sum()
            vis = (owner == k).sum() / area
            gt.append([t, k + 1, xy[k, 0], xy[k, 1], ws[k], hs[k], vis])
            if vis >= 0.5 and rng.random() >= miss:  # the detector misses mostly occluded people
                w, h = ws[k] * np.exp(rng.normal(0, jitter)), hs[k] * np.exp(rng.normal(0, jitter))
                x, y = xy[k, 0] + rng.normal(0, jitter * ws[k]), xy[k, 1] + rng.normal(0, jitter * hs[k])
                det.append([t, x, y, w, h, 0.5 + 0.5 * vis - rng.uniform(0, 0.1)])
                det_id.append(k + 1)
        for _ in range(rng.poisson(fp_rate)):  # false positives: person-sized boxes anywhere
            k = rng.integers(n_persons)
            det.append([t, rng.uniform(0, width - ws[k]), rng.uniform(0, height - hs[k]), ws[k], hs[k],
                        rng.uniform(0.3, 0.6)])
            det_id.append(-1)
        frames.append(np.clip(img, 0, 1).astype(np.float32))
    det = np.array(det)
    det[:, 1:3] = np.clip(det[:, 1:3], 0, None)
    return np.stack(frames), np.array(gt, float), det, np.array(det_id)


def video_crops(frames, det, size):
    """Crops (n x 3 x size x size, float32) of every detection from its frame."""
    out = np.empty((len(det), size, size, 3), np.float32)
    for t in np.unique(det[:, 0]).astype(int):
        m = det[:, 0] == t
        out[m] = crop_boxes(frames[t - 1], det[m, 1:5], size)
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def mot17_videos(root, size, max_frames):
    """MOT17 train sequences (FRCNN detections) under ``root``: the same structure as the synthetic video,
    truncated to ``max_frames`` frames (full runs only; the loader is tested on a fixture)."""
    from PIL import Image

    seqs = sorted((root / "MOT17" / "train").glob("MOT17-*-FRCNN"))
    if not seqs:
        raise FileNotFoundError(f"no MOT17/train/MOT17-*-FRCNN folders under data_root={str(root)!r}")
    for seq_dir in seqs:
        seq = load_mot_sequence(seq_dir)
        det = seq.detections[seq.detections[:, 0] <= max_frames]
        gt = seq.gt[seq.gt[:, 0] <= max_frames]
        crops = np.empty((len(det), size, size, 3), np.float32)
        for t in np.unique(det[:, 0]).astype(int):
            m = det[:, 0] == t
            img = np.asarray(Image.open(seq.image_path(t)).convert("RGB"), np.float32) / 255
            crops[m] = crop_boxes(img, det[m, 1:5], size)
        yield seq.name, None, gt, det, None, torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()


# %% [markdown]
# The graphs of the three stages: pairs of detections by frame gap, and their IoU.

# %%
def pairs_at_gaps(frames_of_det, gaps):
    """All detection pairs (i, j), i < j, whose frames differ by one of ``gaps`` (0 = same frame)."""
    f = frames_of_det.astype(int)
    i, j = np.triu_indices(len(f), 1)
    keep = np.isin(np.abs(f[j] - f[i]), list(gaps))
    return np.column_stack([i[keep], j[keep]])


def pair_iou(det, uv):
    a, b = det[uv[:, 0], 1:5], det[uv[:, 1], 1:5]
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def tracklets(det):
    """Stage 1: multicut on overlap only, gaps 1-3, cost IoU - 0.7, same-frame pairs repel."""
    uv = pairs_at_gaps(det[:, 0], range(1, TRACKLET_GAPS + 1))
    same = pairs_at_gaps(det[:, 0], [0])
    costs = np.concatenate([pair_iou(det, uv) - TRACKLET_IOU, np.full(len(same), SAME_FRAME_COST)])
    return solve_multicut(len(det), np.vstack([uv, same]), costs)


# %% [markdown]
# The autoencoder: each encoder block halves the crop and doubles the channels (convolution, BatchNorm,
# ReLU, max-pooling) down to $2 \times 2$; the decoder mirrors it with upsampling; Xavier initialisation.
# The thesis uses five blocks on $128 \times 128$ crops; we use $\log_2(\text{crop}) - 1$ blocks.

# %%
class ConvAutoEncoder(nn.Module):
    def __init__(self, crop, latent=32, width=16):
        super().__init__()
        n_blocks = int(np.log2(crop)) - 1
        chans = [3] + [width * 2 ** k for k in range(n_blocks)]
        enc = []
        for c_in, c_out in zip(chans, chans[1:]):
            enc += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(chans[-1] * 4, latent))
        dec = [nn.Linear(latent, chans[-1] * 4), nn.Unflatten(1, (chans[-1], 2, 2))]
        rev = chans[::-1]
        for c_in, c_out in zip(rev, rev[1:]):
            last = c_out == 3
            dec += [nn.Upsample(scale_factor=2), nn.Conv2d(c_in, c_out, 3, padding=1)]
            dec += [nn.Sigmoid()] if last else [nn.BatchNorm2d(c_out), nn.ReLU()]
        self.decoder = nn.Sequential(*dec)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        z = self.encoder(x)
        return z, self.decoder(z)


class FrameBatches:
    """One batch per frame (all detections of a frame are different people), frames in a seeded order."""

    def __init__(self, frames_of_det, seed):
        self.groups = [torch.from_numpy(np.flatnonzero(frames_of_det == t)) for t in np.unique(frames_of_det)]
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        return iter([self.groups[k] for k in self.rng.permutation(len(self.groups))])


@torch.no_grad()
def encode(model, X, batch=512):
    model.eval()
    return torch.cat([model.encoder(X[k:k + batch]) for k in range(0, len(X), batch)])


def triplet_partners(det):
    """Per detection: its positive (highest IoU in the next frame, -1 if none overlaps) and the detections
    of its own frame that do not overlap it (negative candidates)."""
    pos = -np.ones(len(det), int)
    negs = [np.zeros(0, int)] * len(det)
    for t in np.unique(det[:, 0]):
        a, b = np.flatnonzero(det[:, 0] == t), np.flatnonzero(det[:, 0] == t + 1)
        same = box_iou(det[a, 1:5], det[a, 1:5])
        for r, i in enumerate(a):
            negs[i] = a[same[r] == 0]
        if len(b):
            nxt = box_iou(det[a, 1:5], det[b, 1:5])
            best = nxt.argmax(1)
            pos[a] = np.where(nxt.max(1) > 0, b[best], -1)
    return pos, negs


def train_encoders(X, det, labels, seed, dev):
    """Stage 2: a shared reconstruction warm-up, then three branches: 'ae' (reconstruction only),
    'ae_c' (L_ae_c, Eq. 4.2) and 'tl' (L_ae_c + TL3, Eq. 4.4). Returns the three trained models."""
    torch.manual_seed(seed)
    X = X.to(dev)
    lab = torch.as_tensor(labels, device=dev)
    pos, negs = triplet_partners(det)
    neg_rng = np.random.default_rng(seed + 1)

    def recon(model, idx):
        z, xr = model(X[idx])
        return z, (xr - X[idx]).pow(2).flatten(1).sum(1)

    state = {}

    def step_recon(model, idx):
        return recon(model, idx)[1].mean()

    def step_cluster(model, idx):
        z, r = recon(model, idx)
        c = state["centroids"][lab[idx]]
        return (cfg.lam * r + (1 - cfg.lam) * (z - c).pow(2).sum(1)).mean()

    def step_triplet(model, idx):
        z, r = recon(model, idx)
        loss = (cfg.lam * r + (1 - cfg.lam) * (z - state["centroids"][lab[idx]]).pow(2).sum(1)).mean()
        ids = idx.cpu().numpy()
        a = [i for i in ids if pos[i] >= 0 and len(negs[i])]
        if a:
            n = [negs[i][neg_rng.integers(len(negs[i]))] for i in a]
            za, zp, zn = (model.encoder(X[torch.as_tensor(v, device=dev)]) for v in (a, pos[a], n))
            loss = loss + triplet_loss(za, zp, zn, "TL3")
        return loss

    def train(model, step, n_epochs, with_centroids, loader_seed):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.1 ** (1 / max(n_epochs, 1)))
        loader = FrameBatches(det[:, 0], loader_seed)
        for _ in range(n_epochs):  # one epoch per call: the tracklet centroids are refreshed in between
            if with_centroids:
                z = encode(model, X)
                sums = torch.zeros(int(lab.max()) + 1, z.shape[1], device=dev).index_add_(0, lab, z)
                state["centroids"] = sums / torch.bincount(lab).clamp(min=1)[:, None]
            fit(model, loader, epochs=1, optimizer=opt, step=step, device=dev, progress=False)
            sched.step()
        return model

    warm = train(ConvAutoEncoder(cfg.crop).to(dev), step_recon, cfg.warm_epochs, False, seed)
    models = {}
    for name, step, cent in (("ae", step_recon, False), ("ae_c", step_cluster, True), ("tl", step_triplet, True)):
        torch.manual_seed(seed + 2)
        models[name] = train(copy.deepcopy(warm), step, cfg.epochs, cent, seed + 3)
    return models


# %% [markdown]
# Stage 3: costs by logistic regression on pseudo-labels, the (lifted) multicut, and clusters to tracks.

# %%
def fit_cut_probability(features, iou):
    """Logistic regression of 'different people' on ``features``, trained on the IoU pseudo-labels."""
    lab = np.where(iou < PSEUDO_DIFFERENT, 1, np.where(iou > PSEUDO_SAME, 0, -1))
    ok = lab >= 0
    if len(np.unique(lab[ok])) < 2:
        raise ValueError("the pseudo-labels hold only one class: the video has too few overlapping boxes")
    return LogisticRegression().fit(features[ok], lab[ok])


def track(det, Z, *, features, max_gap, lifted):
    """Cluster detections with a (lifted) multicut. ``features``: 'iou', 'd' or 'iou+d'."""
    uv = pairs_at_gaps(det[:, 0], range(1, max_gap + 1))
    iou = pair_iou(det, uv)
    cols = []
    if "iou" in features:
        cols.append(iou)
    if "d" in features:
        d = np.linalg.norm(Z[uv[:, 0]] - Z[uv[:, 1]], axis=1)
        cols.append(d)
    F = np.column_stack(cols)
    p_cut = fit_cut_probability(F, iou).predict_proba(F)[:, 1]
    same = pairs_at_gaps(det[:, 0], [0])
    edges = np.vstack([uv, same])
    costs = np.concatenate([costs_from_probabilities(p_cut), np.full(len(same), SAME_FRAME_COST)])
    if not lifted:
        return solve_multicut(len(det), edges, costs)
    luv = pairs_at_gaps(det[:, 0], LIFTED_GAPS)
    dl = np.linalg.norm(Z[luv[:, 0]] - Z[luv[:, 1]], axis=1)[:, None]
    p_lift = fit_cut_probability(d[:, None], iou).predict_proba(dl)[:, 1]
    return solve_lifted_multicut(len(det), edges, costs, luv, costs_from_probabilities(p_lift))


def clusters_to_tracks(det, labels, min_len):
    """Tracks (frame, id, x, y, w, h): best detection per frame and cluster, short clusters dropped,
    gaps filled by linear interpolation of the box."""
    rows = []
    for c in np.unique(labels):
        m = np.flatnonzero(labels == c)
        best = {}
        for i in m[np.argsort(-det[m, 5], kind="stable")]:
            best.setdefault(int(det[i, 0]), i)
        if len(best) < min_len:
            continue
        fr = np.array(sorted(best))
        boxes = det[[best[f] for f in fr], 1:5]
        full = np.arange(fr[0], fr[-1] + 1)
        interp = np.column_stack([np.interp(full, fr, boxes[:, k]) for k in range(4)])
        rows.append(np.column_stack([full, np.full(len(full), c + 1), interp]))
    return np.vstack(rows) if rows else np.zeros((0, 6))


# %% [markdown]
# ## The experiment
#
# **Data.** MOT17 and DeepMatching are not available offline, so the default is a synthetic stand-in that
# keeps what makes the task hard: people (sprites with an identity-specific head, striped shirt, bag and
# trousers) walk on smooth random paths over a textured background, cross and occlude each other (the one
# whose feet are lower is in front), change brightness and turn around (the bag switches sides). A noisy
# detector misses every person who is less than half visible and 10 % of the others, jitters the boxes
# and adds false positives. The ground truth lists every person in every frame, visible or not, as MOT17
# does. Each seed draws one video. With `data_root` pointing at a folder with `MOT17/train/MOT17-XX-FRCNN`
# sequences, the same pipeline runs on MOT17's public FRCNN detections (crops read from `img1/`).
#
# **Protocol.** For each video: stage 1 tracklets, stage 2 three encoders (AE, AE with the tracklet loss,
# and AE + TL3), then stage 3 with the feature sets of Table 4.2 for every base gap in `max_gaps`, and the
# full method with lifted edges. No ground-truth identity is used anywhere before the evaluation.

# %%
ROWS = [  # (row name, features, encoder, lifted) -- Table 4.2's rows, per base gap
    ("IoU", "iou", None, False),
    ("d_AE", "d", "ae", False),
    ("d_AE+C", "d", "ae_c", False),
    ("IoU + d_AE", "iou+d", "ae", False),
    ("IoU + d_AE+C", "iou+d", "ae_c", False),
    ("AutoEncoder (L_ae_c), lifted", "iou+d", "ae_c", True),
    ("Triplet (L_ae_Triplet), lifted", "iou+d", "tl", True),
]

if run.data_root is not None:
    videos = list(mot17_videos(run.data_root, cfg.crop, cfg.n_frames))
else:
    videos = []
    for s in run.seeds:
        frames, gt, det, det_id = make_video(np.random.default_rng(s), n_persons=cfg.n_persons,
                                             n_frames=cfg.n_frames, height=cfg.height, width=cfg.width,
                                             speed=cfg.speed, miss=cfg.miss)
        videos.append((f"synthetic-{s}", frames, gt, det, det_id, video_crops(frames, det, cfg.crop)))

records, tracklet_stats, embeddings = [], [], {}
t_train = t_solve = 0.0
for v, (name, frames, gt, det, det_id, X) in enumerate(videos):
    s = run.seeds[v] if v < len(run.seeds) else run.seed + v
    tl_labels = tracklets(det)
    if det_id is not None:
        real = det_id >= 0
        pure = pd.Series(det_id[real]).groupby(tl_labels[real]).agg(lambda x: x.value_counts().iloc[0]).sum() / real.sum()
        tracklet_stats.append(dict(video=name, detections=len(det), tracklets=int(tl_labels.max() + 1),
                                   persons=int(gt[:, 1].max()), purity=round(float(pure), 4)))
    t0 = time.process_time()
    models = train_encoders(X, det, tl_labels, s, run.device)
    Zs = {k: encode(m, X.to(run.device)).cpu().double().numpy() for k, m in models.items()}
    t_train += time.process_time() - t0
    embeddings[name] = (Zs, det_id, det)
    gt6 = gt[:, :6]
    t0 = time.process_time()
    hyp = clusters_to_tracks(det, tl_labels, cfg.min_track)
    records.append(dict(video=name, seed=s, gap=TRACKLET_GAPS, row="tracklets (stage 1)", **mot_scores(gt6, hyp)))
    for gap in MAX_GAPS:
        for row, feats, enc, lifted in ROWS:
            labels = track(det, Zs[enc or "ae"], features=feats, max_gap=gap, lifted=lifted)
            hyp = clusters_to_tracks(det, labels, cfg.min_track)
            records.append(dict(video=name, seed=s, gap=gap, row=row, tracks=int(len(np.unique(hyp[:, 1]))),
                                **mot_scores(gt6, hyp)))
    t_solve += time.process_time() - t0

res = pd.DataFrame(records)
res["MOTA"] = 100 * res.mota
res["IDF1"] = 100 * res.idf1
print(pd.DataFrame(tracklet_stats).to_string(index=False))
print(f"CPU seconds: encoders {t_train:.1f}, tracking and evaluation {t_solve:.1f}")

# %% [markdown]
# A few frames of the first video with the ground truth (dashed) and the detections (solid, coloured by
# the true person; white = false positive).

# %%
name, frames, gt, det, det_id, X = videos[0]
if frames is not None:
    show = np.linspace(1, cfg.n_frames, 4).astype(int)
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    cmap = plt.get_cmap("tab20")
    for ax, t in zip(axes, show):
        ax.imshow(frames[t - 1])
        for _, k, x, y, w, h, vis in gt[gt[:, 0] == t]:
            ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ls="--", lw=0.8, ec=cmap(int(k) % 20)))
        for (_, x, y, w, h, _), k in zip(det[det[:, 0] == t], det_id[det[:, 0] == t]):
            ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, lw=1.4, ec="white" if k < 0 else cmap(int(k) % 20)))
        ax.set(title=f"frame {t}", xlabel="x (pixels)", ylabel="y (pixels)")
    fig.suptitle(f"Synthetic video {name}: ground truth (dashed) and noisy detections (solid)")
    fig.tight_layout()
    fig.savefig(run.figure_path("synthetic_video.png"), dpi=110)
    plt.show()

# %% [markdown]
# The ablation (Table 4.2's layout), averaged over the videos; MOTA and IDF1 in %, the others are counts.

# %%
order = ["tracklets (stage 1)"] + [r[0] for r in ROWS]
table = (res.groupby(["gap", "row"], sort=False)[["MOTA", "idsw", "fp", "fn", "IDF1"]].mean()
         .reindex(pd.MultiIndex.from_tuples([(g, r) for g in sorted({TRACKLET_GAPS, *MAX_GAPS}) for r in order
                                             if (g, r) in set(zip(res.gap, res.row))], names=["gap", "row"]))
         .rename(columns=dict(idsw="IDs", fp="FP", fn="FN")).round(2))
table

# %%
last = res[(res.gap == max(MAX_GAPS)) & (res.row != "tracklets (stage 1)")]
summary = last.groupby("row", sort=False)[["MOTA", "idsw", "IDF1"]].agg(["mean", "std"])
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, (col, label) in zip(axes, [("MOTA", "MOTA (%)"), ("idsw", "ID switches"), ("IDF1", "IDF1 (%)")]):
    m, sd = summary[(col, "mean")], summary[(col, "std")].fillna(0)
    ax.barh(range(len(m)), m, xerr=sd, color=["#999"] + ["#4c72b0"] * 2 + ["#55a868"] * 2 + ["#c44e52"] * 2)
    ax.set_yticks(range(len(m)), m.index if ax is axes[0] else [])
    ax.invert_yaxis()
    ax.set(xlabel=label, title=f"{label}, base gaps 1-{max(MAX_GAPS)}")
fig.suptitle(f"Tracking ablation on the stand-in data ({len(videos)} video(s); bars: mean, whiskers: s.d.)")
fig.tight_layout()
fig.savefig(run.figure_path("ablation.png"), dpi=110)
plt.show()

# %% [markdown]
# How well does each encoder separate people? Latent distances between detections 1–5 frames apart,
# for the same person and for different people (first video, true identities used for this plot only).

# %%
Zs, det_id, det = embeddings[videos[0][0]]
if det_id is not None:
    uv = pairs_at_gaps(det[:, 0], range(1, 6))
    uv = uv[(det_id[uv[:, 0]] >= 0) & (det_id[uv[:, 1]] >= 0)]
    same_person = det_id[uv[:, 0]] == det_id[uv[:, 1]]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for ax, (key, label) in zip(axes, [("ae", "AE ($L_{ae}$)"), ("ae_c", "AE + tracklet loss ($L_{ae,c}$)"),
                                       ("tl", "AE + TL3 ($L_{ae,Triplet}$)")]):
        d = np.linalg.norm(Zs[key][uv[:, 0]] - Zs[key][uv[:, 1]], axis=1)
        d = d / np.median(d)
        bins = np.linspace(0, np.quantile(d, 0.99), 40)
        ax.hist(d[~same_person], bins, alpha=0.6, density=True, label="different people")
        ax.hist(d[same_person], bins, alpha=0.6, density=True, label="same person")
        ax.set(title=label, xlabel="latent distance / median distance", ylabel="density")
        ax.legend()
    fig.suptitle("Latent distances of detections 1-5 frames apart")
    fig.tight_layout()
    fig.savefig(run.figure_path("latent_distances.png"), dpi=110)
    plt.show()

# %% [markdown]
# ## Claims
#
# Rules fixed before the run, judged on the largest base gap in the run (1–5 by default, as rows 6–12 of
# Table 4.2), per video (seed), with MOTA in % points. With one video (smoke) any positive difference
# counts; with several, the difference must exceed two standard errors of the paired differences. The
# MOT17 numbers themselves cannot be compared with a synthetic video; the relative claims can.

# %%
def col(row, metric):
    return last[last.row == row].sort_values("seed")[metric].to_numpy(dtype=float)


ledger = rb.Ledger()
ledger.claim("appearance-adds-to-iou",
             "Adding the autoencoder distance to the overlap cue raises MOTA and lowers ID switches",
             paper="Table 4.2: IoU_DM 47.2 MOTA / 3,062 IDs -> combined 49.4 / 1,713 (1-3); 47.2 / 2,731 -> 49.8 / 1,569 (1-5)",
             measured={"mota_iou": col("IoU", "MOTA"), "mota_iou_ae": col("IoU + d_AE+C", "MOTA"),
                       "ids_iou": col("IoU", "idsw"), "ids_iou_ae": col("IoU + d_AE+C", "idsw")},
             rule=rb.AllOf(rb.Better("mota_iou_ae", "mota_iou"),
                           rb.Better("ids_iou_ae", "ids_iou", higher_is_better=False)))
ledger.claim("iou-beats-appearance-alone",
             "Overlap alone tracks better than appearance alone",
             paper="Table 4.2: IoU_DM 47.2 vs d_AE 35.2 MOTA (1-3); 47.2 vs 35.8 (1-5)",
             measured={"mota_iou": col("IoU", "MOTA"), "mota_ae": col("d_AE", "MOTA")},
             rule=rb.Better("mota_iou", "mota_ae"))
ledger.claim("tracklet-loss-helps-appearance",
             "The tracklet-centroid loss improves appearance-only tracking",
             paper="Table 4.2: d_AE 35.2 -> d_AE+C 37.6 MOTA (1-3); reversed at 1-5 (35.8 -> 35.2)",
             measured={"mota_ae": col("d_AE", "MOTA"), "mota_ae_c": col("d_AE+C", "MOTA")},
             rule=rb.Better("mota_ae_c", "mota_ae"))
ledger.claim("lifted-edges-reduce-switches",
             "Long-range lifted edges on the latent distance reduce ID switches further",
             paper="Table 4.2: row 10 1,569 IDs -> row 11 1,458 (MOTA 49.8 -> 50.2)",
             measured={"ids_base": col("IoU + d_AE+C", "idsw"), "ids_lifted": col("AutoEncoder (L_ae_c), lifted", "idsw")},
             rule=rb.Better("ids_lifted", "ids_base", higher_is_better=False))
ledger.claim("lifted-edges-raise-mota",
             "The lifted multicut with appearance raises MOTA over the same costs without lifted edges",
             paper="Table 4.2: 49.8 -> 50.2 MOTA (rows 10 -> 11)",
             measured={"mota_base": col("IoU + d_AE+C", "MOTA"), "mota_lifted": col("AutoEncoder (L_ae_c), lifted", "MOTA")},
             rule=rb.Better("mota_lifted", "mota_base"))
ledger.claim("triplet-on-par",
             "The triplet variant and the autoencoder with tracklet loss track equally well (within 1 MOTA point)",
             paper="Table 4.2: 50.2 vs 50.2 (train); Table 4.3: 48.1 vs 47.9 (test)",
             measured={"mota_ae_c": col("AutoEncoder (L_ae_c), lifted", "MOTA"),
                       "mota_tl": col("Triplet (L_ae_Triplet), lifted", "MOTA")},
             rule=rb.Close("mota_tl", "mota_ae_c", tol=1.0))
ledger.claim("mot17-test-numbers",
             "On the MOT17 test set the self-supervised tracker reaches 48.1 MOTA, 3.7 points below the best supervised one",
             paper="Table 4.3: AutoEncoder 48.1 MOTA, 2,328 IDs, 17,480 FP (lowest); eHAF17 51.8",
             rule=rb.NotTestable("the MOT17 test ground truth is private (evaluation server) and the data are "
                                 "not available offline"))
ledger.claim("supervised-transfer-drops",
             "Appearance models trained with identities on one sequence lose MOTA on others",
             paper="Table 4.1: up to -19.3 relative MOTA change across MOT17 sequences",
             rule=rb.NotTestable("needs MOT17's annotated training sequences; the synthetic stand-in has no "
                                 "domain shift between videos"))

for row in ["tracklets (stage 1)"] + [r[0] for r in ROWS]:
    sub = res[(res.row == row) & (res.gap == (TRACKLET_GAPS if row.startswith("tracklets") else max(MAX_GAPS)))]
    key = row.lower().replace(" ", "_").replace("(", "").replace(")", "").replace(",", "").replace("+", "p")
    run.log(**{f"mota_{key}": sub.sort_values("seed").MOTA.round(6), f"idsw_{key}": sub.sort_values("seed").idsw,
               f"idf1_{key}": sub.sort_values("seed").IDF1.round(6)})
run.log(ablation={f"{g}|{r}": vals for (g, r), vals in table.to_dict("index").items()},
        tracklets=tracklet_stats)
run.log_timing(encoder_cpu_s=round(t_train, 2), tracking_cpu_s=round(t_solve, 2))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Data.** A synthetic video replaces MOT17 (not available offline); box IoU of the detections replaces
#   $\mathrm{IoU}_{DM}$, the IoU of DeepMatching point matches inside two boxes. Our detector's boxes
#   follow the people exactly up to jitter, so our IoU is a cleaner cue than the thesis' one.
# - **$\lambda$ schedule.** Eq. 4.2 weights reconstruction by $\lambda$, yet the text sets $\lambda = 0$
#   for the first five epochs "to first learn the visual features", which under Eq. 4.2 would mean the
#   clustering term alone. We read it as *reconstruction only* for `warm_epochs`, then $\lambda = 0.95$
#   (`lam`) on reconstruction and $0.05$ on the tracklet term.
# - **Eq. 4.3** prints the mean over all $N$ samples; the text means the centroid of the sample's
#   tracklet, which is what we use.
# - **Branching.** AE, AE + tracklet loss and AE + TL3 share the warm-up weights and then train the same
#   number of epochs, so that they differ only in the loss.
# - **Regressions.** The thesis gives the features (IoU and $d_{AE}$ near, $d_{AE}$ far) and the
#   pseudo-label thresholds (0.1 / 0.7) but not how many regressions it fits; we fit one for all base
#   gaps and one on $d_{AE}$ alone (trained on the same near pairs) for the lifted edges. Same-frame pairs
#   get a fixed repulsive cost of 10 (an exclusion prior; [148] uses within-frame edges too).
# - **Difficulty of the stand-in.** The video's speed, density and miss rate were set once, on videos
#   drawn with seeds 100–102 (never used for the claims), and only by looking at stage 1 and the overlap
#   baseline: tracklets should be nearly pure but over-cut (several per person, as the thesis intends),
#   and the overlap-only tracker should not be near-perfect, as on MOT17 (47 MOTA). With slower people
#   every row scored above 99 MOTA and no claim could be judged. The full profile scales canvas, people
#   and speed by 1.5 without further calibration.
# - **Lifted edges.** The lifted costs come from a regression fitted on *nearby* pairs (the only ones the
#   IoU pseudo-labels cover) and applied 10–30 frames apart, where a person's appearance has drifted
#   (lighting, turning round). When the lifted rows lose to the base rows, this mismatch is the first
#   suspect: far same-person pairs look "different" to a model calibrated on near pairs, so the lifted
#   edges split tracks. The thesis does not say how it calibrated the far edges (Exercise 3 is related).
# - **One video in smoke.** With one video a single ID switch decides a claim (the rules' band is zero
#   for n = 1); the smoke verdicts are a regression check, the full profile's five videos are the test.
# - **Solver.** The thesis does not name its solver; we use bioimage-cpp's GAEC followed by Kernighan–Lin
#   (lifted versions for the lifted problem), from the same group of primal heuristics it cites.
# - **Scale.** The smoke profile tracks one 40-frame video of 7 people with 16×16 crops and a
#   three-block autoencoder; the full profile five 150-frame videos of 12 people with 32×32 crops (the
#   thesis: 128×128, five blocks, one model per MOT17 sequence). Triplet positives need an overlapping box
#   in the next frame; anchors without one contribute only $L_{ae,c}$.
# - **Thesis inconsistencies** (Table 4.2): row 7 is labelled "1-3" inside the 1-5 block; row 8 repeats
#   row 2; the text calls the tracklet loss better at both gaps though at 1-5 it is worse (35.2 < 35.8);
#   and the Table 4.3 text praises "relatively low" ID switches although eHAF17 and jCC have fewer.
#   The thesis reports no IDF1; we add it as an extra column.

# %% [markdown]
# ## Exercises
#
# 1. Why are the lifted edges *lifted* rather than ordinary edges between frames 10–30 apart? Construct a
#    three-detection example in which an ordinary long-range attractive edge joins two different people.
#
# ```{admonition} Solution
# :class: dropdown
# An ordinary edge also creates a path: if person A at frame 1 and a look-alike B at frame 20 are joined
# by an attractive long edge, the multicut may put them in one cluster even though no chain of nearby
# detections connects them, so the track "teleports". A lifted edge only adds its cost when its ends are
# in the same or different components of the *base* graph; a cluster must still be connected by
# short-range edges, so long-range appearance can only confirm or veto joins that motion already allows.
# ```
#
# 2. Run the chapter with `lam=1.0` (no tracklet term) and with `lam=0.5`. What happens to the d_AE+C
#    rows, and why can a too strong tracklet term hurt?
#
# ```{admonition} Solution
# :class: dropdown
# With `lam=1.0` "d_AE+C" is a plain autoencoder trained longer from the same warm-up, so its rows
# should match "d_AE" up to noise. A strong tracklet term pulls each tracklet to a point, but since
# stage 1 over-cuts, one person owns several tracklets whose centroids are not pulled together; with
# little reconstruction left to keep the code informative, distances between tracklets of the same person
# can grow, which hurts exactly the long-range links appearance should provide.
# ```
#
# 3. The pseudo-labels call pairs with IoU < 0.1 "different people". Which same-person pairs does this
#    mislabel, and how does that bias the appearance-only regression as the base gap grows?
#
# ```{admonition} Solution
# :class: dropdown
# A person who moves more than a box width within the gap has IoU < 0.1 with their own earlier box, so
# their pairs are labelled "different". These mislabelled pairs have small latent distances, which pushes
# the regression's boundary to smaller distances: it cuts more, and the more so for larger gaps, where
# more same-person pairs fall below the IoU threshold.
# ```
