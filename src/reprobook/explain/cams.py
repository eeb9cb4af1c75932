r"""The CAM family as one batched, multi-label engine.

Notation (as in David's qualifying exam, "Exploring Explaining Methods in Multi-Label Problems ...",
Unicamp 2023, Sec. 2 and App. B.1): ``A^k`` is channel ``k`` of the target layer's activation (size
``h x w``), ``S_c = f(x)_c`` the model's score (logit) for class ``c``, ``g^{c,k}_{ij} = dS_c / dA^k_{ij}``,
``w^c_k`` the weights of a linear classifier on global-average-pooled ``A``. For an image ``x`` with label
set ``C_x`` and a class of interest ``c``, ``N_x = C_x \ {c}``. Every method gives channel weights (or
per-pixel weights) and a **raw signed map**; the **normalised map** is ``ReLU`` of it, bilinearly
upsampled to the image size and min-max scaled to [0, 1] per map.

==================  ======================================================================================
method              raw map
==================  ======================================================================================
CAM                 ``sum_k w^c_k A^k``                                  (Zhou et al. 2016; paper Eq. 1)
Grad-CAM            ``sum_k (sum_ij g^{c,k}_ij) A^k``                     (paper Eq. 2: a sum, not a mean)
Grad-CAM++          ``sum_k (sum_ij a^{kc}_ij ReLU(g^{c,k}_ij)) A^k``,
                    ``a = g^2 / (2 g^2 + sum_ab A^k_ab g^3)``            (Chattopadhay et al. 2018, Eq. 19)
Score-CAM           ``sum_k s_k A^k``, ``s_k`` from the score of ``x * norm(up(A^k))``
                                                                         (Wang et al. 2020; paper Eq. 4)
XGrad-CAM           ``sum_k (sum_ij g^{c,k}_ij A^k_ij / sum_ab A^k_ab) A^k``  (Fu et al. 2020, Eq. 6)
LayerCAM            ``sum_k ReLU(g^{c,k}) * A^k`` (element-wise)         (Jiang et al. 2021, Eq. 5)
HiResCAM            ``sum_k g^{c,k} * A^k`` (element-wise)               (Draelos & Carin 2020)
MinMax-CAM          ``sum_k [w^c_k - mean_{n in N_x} w^n_k] A^k``        (paper Eq. 21)
D-MinMax-CAM        ``sum_k a_k A^k``, ``a_k = ReLU(w^c_k) - ReLU(sum_N w^n_k)/|N_x|
                    + min(0, sum_{C_x} w^n_k)/|C_x|``                    (paper Eq. 24)
MinMax-Grad-CAM     ``sum_k (sum_ij dJ_c/dA^k_ij) A^k``, ``J_c = S_c - mean_{n in N_x} S_n`` (Eqs. 18-20)
D-MinMax-Grad-CAM   ``sum_k a_k A^k``, ``a_k = sum_ij [ReLU(g^c) - ReLU(sum_N g^n)/|N_x|
                    + min(0, sum_{C_x} g^n)/|C_x|]``                     (paper Eq. 23)
==================  ======================================================================================

Choices where sources differ (all documented per method below):

- Grad-CAM sums gradients over positions as printed in the paper (Selvaraju et al. average them: a factor
  ``1/hw`` that normalisation removes). With a global-average-pooling + linear head, ``g = w/hw`` and
  raw Grad-CAM equals raw CAM exactly; MinMax-Grad-CAM equals MinMax-CAM, D-MinMax-Grad-CAM equals
  D-MinMax-CAM.
- Grad-CAM++ uses the closed form for ``Y_c = exp(S_c)`` (Chattopadhay et al.): the higher derivatives of
  ``exp`` turn into powers of ``g``; the common positive factor ``exp(S_c)`` is left out of the raw map
  (it does not change the normalised map). ``eps`` (default 0) is added to the denominator; the
  ``grad-cam`` package uses 1e-6.
- Score-CAM: each channel is upsampled, min-max scaled (``+1e-8`` as in the ``grad-cam`` package and in
  the authors' code) and multiplied with the image. ``score_cam_weights="sigmoid"`` uses the sigmoid
  score of the masked image as the weight (the paper's Eq. 4 with a sigmoid classifier);
  ``"softmax"`` uses a softmax over channels of the masked logits (Wang et al.'s normalisation of the
  increase in confidence; the baseline score cancels inside the softmax), as the ``grad-cam`` package.
- MinMax with ``|N_x| = 0`` (a single label) divides by 1, so it reduces to CAM / Grad-CAM (as the
  authors' code does).

Cost: one forward pass for the whole batch; the gradients of every label slot of every image come from
one vectorised backward (``torch.autograd.grad(..., is_grads_batched=True)``) that stops at the target
layer; Score-CAM runs its ``batch x channels`` masked forwards in chunks, and one masked forward gives the
scores of *all* labels of that image.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._model import ActivationTap, first_conv, inference_state, last_conv, last_linear, model_device, resolve_layer
from .labels import PAD, as_label_slots, union_slots

# canonical key -> display name
METHODS: dict[str, str] = {
    "cam": "CAM",
    "gradcam": "Grad-CAM",
    "gradcam++": "Grad-CAM++",
    "scorecam": "Score-CAM",
    "xgradcam": "XGrad-CAM",
    "layercam": "LayerCAM",
    "hirescam": "HiResCAM",
    "minmaxcam": "MinMax-CAM",
    "dminmaxcam": "D-MinMax-CAM",
    "minmaxgradcam": "MinMax-Grad-CAM",
    "dminmaxgradcam": "D-MinMax-Grad-CAM",
}
WEIGHT_METHODS = ("cam", "minmaxcam", "dminmaxcam")
GRADIENT_METHODS = ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "minmaxgradcam", "dminmaxgradcam")


def canonical_method(name: str) -> str:
    """``"Grad-CAM++"``, ``"grad_cam++"``, ``"gradcam++"`` -> ``"gradcam++"``; unknown names raise."""
    if not isinstance(name, str):
        raise TypeError(f"a CAM method name must be a string, got {type(name).__name__}")
    key = name.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in METHODS:
        raise ValueError(f"unknown CAM method {name!r}; allowed: {', '.join(METHODS.values())}")
    return key


def minmax_scale(maps: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Scale each map (last two dims) to [0, 1]: ``(m - min) / (max - min + eps)``; a constant map -> 0."""
    flat = maps.flatten(-2)
    lo = flat.min(-1, keepdim=True).values
    span = flat.max(-1, keepdim=True).values - lo + eps
    out = torch.where(span > 0, (flat - lo) / torch.where(span > 0, span, torch.ones_like(span)),
                      torch.zeros_like(flat))
    return out.view_as(maps)


def normalise(raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``ReLU`` -> bilinear upsampling to ``size`` (``align_corners=False``) -> min-max per map.

    Upsampling is linear and min-max is invariant to positive scale and shift, so this equals the
    ``grad-cam`` package's order (min-max, resize, min-max) up to its epsilons."""
    lead = raw.shape[:-2]
    pos = raw.clamp_min(0).reshape(-1, 1, *raw.shape[-2:])
    if pos.shape[0] == 0:
        return raw.new_zeros(*lead, *size)
    up = F.interpolate(pos, size=size, mode="bilinear", align_corners=False)
    return minmax_scale(up.view(*lead, *size))


@dataclass
class CamResult:
    """Maps of one method for a batch, one slot per requested label.

    ``raw``: ``(B, L, h, w)`` signed maps before ReLU; ``maps``: ``(B, L, H, W)`` normalised maps in
    [0, 1]; ``targets``: ``(B, L)`` class of each slot, ``-1`` for padding (its maps are zero);
    ``logits``: ``(B, K)`` model outputs on the clean images. All on the model's device.
    """
    method: str
    raw: torch.Tensor
    maps: torch.Tensor
    targets: torch.Tensor
    logits: torch.Tensor
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> torch.Tensor:
        return self.targets != PAD

    def map_for(self, image: int, cls: int, *, normalised: bool = True) -> torch.Tensor:
        """The map of class ``cls`` in image ``image``."""
        hits = torch.nonzero(self.targets[image] == cls).flatten()
        if hits.numel() == 0:
            raise ValueError(f"class {cls} was not a target of image {image}; its targets are "
                             f"{[c for c in self.targets[image].tolist() if c != PAD]}")
        return (self.maps if normalised else self.raw)[image, int(hits[0])]


class CamExplainer:
    """Class activation maps of a convolutional classifier for every label of every image.

    Parameters
    ----------
    model: a classifier returning logits ``(B, K)``.
    target_layer: name (``"layer4"``) or module whose output ``(B, C, h, w)`` is explained; ``"auto"`` =
        the last ``nn.Conv2d``.
    head: for the CAM forms (CAM, MinMax-CAM, D-MinMax-CAM), the linear classifier on the pooled target
        activations: a name, an ``nn.Linear``, or ``"auto"`` (the last ``nn.Linear``). The engine checks
        numerically that ``logits = W GAP(A) + b`` (``check_head``).
    score_cam_weights: ``"sigmoid"`` (paper Eq. 4) or ``"softmax"`` (Wang et al. / ``grad-cam``).
    score_cam_chunk: masked images per forward pass in Score-CAM (bounds memory).
    score_cam_align_corners: bilinear upsampling of Score-CAM's masks (``grad-cam`` uses ``True``).
    eps: added to the denominators of Grad-CAM++ and XGrad-CAM (0 = exact; ``grad-cam`` uses 1e-6 / 1e-7:
        pass a dict ``{"gradcam++": 1e-6, "xgradcam": 1e-7}`` to match it).
    vectorize: take all label slots' gradients in one batched backward (``False``: one backward per slot).
    """

    def __init__(self, model: nn.Module, target_layer: str | nn.Module = "auto", head: str | nn.Module = "auto", *,
                 score_cam_weights: str = "sigmoid", score_cam_chunk: int = 64,
                 score_cam_align_corners: bool = False, eps: float | dict[str, float] = 0.0,
                 vectorize: bool = True, check_head: bool = True) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        if isinstance(target_layer, str) and target_layer == "auto":
            self.layer_name, self.layer = last_conv(model)
        else:
            self.layer_name, self.layer = resolve_layer(model, target_layer)
        self._head_spec = head
        if score_cam_weights not in ("sigmoid", "softmax"):
            raise ValueError(f"score_cam_weights must be 'sigmoid' or 'softmax', got {score_cam_weights!r}")
        if not isinstance(score_cam_chunk, int) or isinstance(score_cam_chunk, bool) or score_cam_chunk < 1:
            raise ValueError(f"score_cam_chunk must be a positive integer, got {score_cam_chunk!r}")
        self.score_cam_weights, self.score_cam_chunk = score_cam_weights, score_cam_chunk
        self.score_cam_align_corners = bool(score_cam_align_corners)
        self.eps = dict(eps) if isinstance(eps, dict) else {"gradcam++": float(eps), "xgradcam": float(eps)}
        self.vectorize, self.check_head = vectorize, check_head

    # -- public API -------------------------------------------------------------------------------------
    def __call__(self, images: torch.Tensor, targets: Any, method: str = "gradcam", context: Any = None) -> CamResult:
        """Maps of one ``method`` for ``targets`` (see :mod:`reprobook.explain.labels` for the formats).
        ``context`` is the label set ``C_x`` per image used by the MinMax methods (default: ``targets``)."""
        return self.explain(images, targets, [method], context)[canonical_method(method)]

    def explain(self, images: torch.Tensor, targets: Any, methods: Iterable[str] = ("cam",),
                context: Any = None) -> dict[str, CamResult]:
        """Several methods from one forward pass (and one batched backward). Keys are canonical names."""
        keys = list(dict.fromkeys(canonical_method(m) for m in methods))
        if not keys:
            raise ValueError("no CAM method given")
        x = self._check_images(images)
        need_grad = any(k in GRADIENT_METHODS for k in keys)
        with inference_state(self.model):
            with ActivationTap(self.layer, self.layer_name, requires_grad=need_grad) as tap:
                with torch.set_grad_enabled(need_grad):
                    logits = self.model(x)
            A = tap.activation
            if A is None:
                raise ValueError(f"the target layer {self.layer_name!r} did not run in the model's forward pass")
            if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != x.shape[0]:
                shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
                raise ValueError(f"the model must return logits of shape (batch, classes), got {shape}")
            B, K = logits.shape
            T = as_label_slots(targets, B, K, what="targets", device=x.device)
            Cx = T if context is None else as_label_slots(context, B, K, what="context", device=x.device)
            U = union_slots(T, Cx)  # every class whose score enters some map
            comb = _Combiner(T, Cx, U)
            size = (x.shape[-2], x.shape[-1])
            with torch.enable_grad():  # also when called inside torch.no_grad()
                grads = self._slot_gradients(logits, A, U) if need_grad else None
            A = A.detach()
            out: dict[str, CamResult] = {}
            for key in keys:
                if T.shape[1] == 0:  # no image has a target: empty maps
                    raw = A.new_zeros(B, 0, *A.shape[2:])
                elif key in WEIGHT_METHODS:
                    raw = self._weight_cam(key, A, logits.detach(), comb)
                elif key == "scorecam":
                    raw = self._score_cam(x, A, T)
                else:
                    raw = self._gradient_cam(key, A, grads, comb)
                raw = raw * comb.valid[:, :, None, None]
                out[key] = CamResult(METHODS[key], raw, normalise(raw, size) * comb.valid[:, :, None, None],
                                     T, logits.detach())
        return out

    # -- checks ---------------------------------------------------------------------------------------------
    def _check_images(self, images: Any) -> torch.Tensor:
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor of shape (batch, channels, height, width), "
                            f"got {type(images).__name__}")
        if images.dim() != 4:
            raise ValueError(f"images must have shape (batch, channels, height, width), got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise TypeError(f"images must be a floating-point tensor, got dtype {images.dtype}")
        conv = first_conv(self.model)
        if conv is not None and images.shape[1] != conv.in_channels:
            raise ValueError(f"images have {images.shape[1]} channels but the model's first convolution expects "
                             f"{conv.in_channels} (shape (batch, {conv.in_channels}, height, width))")
        return images.detach().to(model_device(self.model))

    def _head_weights(self, A: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        spec = self._head_spec
        if isinstance(spec, str) and spec == "auto":
            found = last_linear(self.model)
            if found is None:
                raise ValueError("CAM forms need a linear classifier head (nn.Linear) on the pooled target "
                                 "activations, and the model has none; use a Grad-CAM form instead")
            name, head = found
        else:
            name, head = resolve_layer(self.model, spec, what="head")
        if not isinstance(head, nn.Linear):
            raise ValueError(f"the head {name!r} is a {type(head).__name__}, but CAM forms need an nn.Linear")
        C = A.shape[1]
        if head.in_features != C:
            raise ValueError(f"the head {name!r} takes {head.in_features} features but the target layer "
                             f"{self.layer_name!r} has {C} channels: CAM forms need head(GAP(A)) = logits")
        W = head.weight.detach()
        if self.check_head:
            pred = A.mean((2, 3)) @ W.T + (head.bias.detach() if head.bias is not None else 0)
            tol = 1e-4 * (1 + logits.abs().max())
            if pred.shape != logits.shape or (pred - logits).abs().max() > tol:
                raise ValueError(f"the logits are not {name}(GAP({self.layer_name})): CAM forms need a global-"
                                 "average-pooling + linear head right after the target layer; use a Grad-CAM "
                                 "form, or pass check_head=False")
        return W

    # -- gradients -------------------------------------------------------------------------------------------
    def _slot_gradients(self, logits: torch.Tensor, A: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
        """``G[i, s] = dS_{U[i,s]}(x_i) / dA_i``: shape ``(B, S, C, h, w)``, zero for padded slots."""
        B, K = logits.shape
        S = U.shape[1]
        if S == 0:
            return A.new_zeros(B, 0, *A.shape[1:])
        seeds = torch.zeros(S, B, K, dtype=logits.dtype, device=logits.device)
        s_idx, b_idx = torch.nonzero((U != PAD).T, as_tuple=True)
        seeds[s_idx, b_idx, U[b_idx, s_idx]] = 1.0
        if not logits.requires_grad:
            raise ValueError(f"the logits do not depend on the target layer {self.layer_name!r}")
        if self.vectorize:
            (G,) = torch.autograd.grad(logits, A, grad_outputs=seeds, is_grads_batched=True, allow_unused=True)
        else:
            parts = [torch.autograd.grad(logits, A, grad_outputs=seeds[s], retain_graph=s < S - 1,
                                         allow_unused=True)[0] for s in range(S)]
            G = None if parts[0] is None else torch.stack(parts)
        if G is None:
            raise ValueError(f"the logits do not depend on the target layer {self.layer_name!r}")
        return G.transpose(0, 1)

    def _gradient_cam(self, key: str, A: torch.Tensor, G: torch.Tensor, comb: "_Combiner") -> torch.Tensor:
        Ax = A[:, None]  # (B, 1, C, h, w)
        if key in ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam"):
            g = comb.own(G)  # (B, L, C, h, w)
            if key == "gradcam":
                return (g.sum((3, 4), keepdim=True) * Ax).sum(2)
            if key == "hirescam":
                return (g * Ax).sum(2)
            if key == "layercam":
                return (g.clamp_min(0) * Ax).sum(2)
            if key == "xgradcam":
                denom = A.sum((2, 3), keepdim=True)[:, None] + self.eps.get("xgradcam", 0.0)
                safe = torch.where(denom != 0, denom, torch.ones_like(denom))
                w = torch.where(denom != 0, (g * Ax).sum((3, 4), keepdim=True) / safe, torch.zeros_like(denom))
                return (w * Ax).sum(2)
            # Grad-CAM++, closed form for Y = exp(S): alpha = g^2 / (2 g^2 + sum_ab A_ab g^3)
            g2 = g * g
            denom = 2 * g2 + A.sum((2, 3), keepdim=True)[:, None] * g2 * g + self.eps.get("gradcam++", 0.0)
            ok = (g != 0) & (denom != 0)
            alpha = torch.where(ok, g2 / torch.where(ok, denom, torch.ones_like(denom)), torch.zeros_like(g))
            w = (alpha * g.clamp_min(0)).sum((3, 4), keepdim=True)
            return (w * Ax).sum(2)
        own, others, n_others, total, n_total = comb.all(G)
        if key == "minmaxgradcam":
            dJ = own - others / n_others.clamp_min(1)[..., None, None, None]
            return (dJ.sum((3, 4), keepdim=True) * Ax).sum(2)
        # D-MinMax-Grad-CAM (Eq. 23)
        a = (own.clamp_min(0) - others.clamp_min(0) / n_others.clamp_min(1)[..., None, None, None]
             + total.clamp_max(0) / n_total.clamp_min(1)[..., None, None, None])
        return (a.sum((3, 4), keepdim=True) * Ax).sum(2)

    # -- CAM forms ---------------------------------------------------------------------------------------------
    def _weight_cam(self, key: str, A: torch.Tensor, logits: torch.Tensor, comb: "_Combiner") -> torch.Tensor:
        W = self._head_weights(A, logits)  # (K, C)
        Wu = W[comb.U.clamp_min(0)] * (comb.U != PAD)[..., None]  # (B, S, C)
        if key == "cam":
            w = comb.own(Wu)
        else:
            own, others, n_others, total, n_total = comb.all(Wu)
            if key == "minmaxcam":  # Eq. 21
                w = own - others / n_others.clamp_min(1)[..., None]
            else:  # D-MinMax-CAM, Eq. 24
                w = (own.clamp_min(0) - others.clamp_min(0) / n_others.clamp_min(1)[..., None]
                     + total.clamp_max(0) / n_total.clamp_min(1)[..., None])
        return torch.einsum("blc,bchw->blhw", w, A)

    # -- Score-CAM -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def _score_cam(self, x: torch.Tensor, A: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        B, C, h, w = A.shape
        H, W = x.shape[-2:]
        L = T.shape[1]
        scores = torch.zeros(B, C, L, dtype=A.dtype, device=A.device)
        pairs = torch.arange(B * C, device=A.device)
        for chunk in pairs.split(self.score_cam_chunk):
            b, k = chunk // C, chunk % C
            up = F.interpolate(A[b, k][:, None], size=(H, W), mode="bilinear",
                               align_corners=self.score_cam_align_corners)
            flat = up.flatten(1)
            lo, hi = flat.min(1).values, flat.max(1).values
            masks = (up - lo[:, None, None, None]) / (hi - lo + 1e-8)[:, None, None, None]
            out = self.model(x[b] * masks)  # (n, K): every label of the image from one forward
            scores[b, k] = out.gather(1, T[b].clamp_min(0))
        if self.score_cam_weights == "softmax":
            weights = torch.softmax(scores, dim=1)
        else:
            weights = torch.sigmoid(scores)
        return torch.einsum("bcl,bchw->blhw", weights, A)


class _Combiner:
    """Linear combinations over the label slots ``U`` needed by the methods, for each target slot:
    the target's own term, the sum over ``N_x = C_x \\ {c}`` (and ``|N_x|``), the sum over ``C_x``."""

    def __init__(self, T: torch.Tensor, Cx: torch.Tensor, U: torch.Tensor) -> None:
        self.T, self.U = T, U
        self.valid = (T != PAD).to(torch.float32)
        Uv = U != PAD
        in_ctx = (U[:, :, None] == Cx[:, None, :]).any(-1) & Uv  # (B, S): slot class is in C_x
        same = (T[:, :, None] == U[:, None, :]) & (T != PAD)[:, :, None]  # (B, L, S)
        self.own_idx = same.float().argmax(-1)  # (B, L) position of the target class in U
        self.others = (in_ctx[:, None, :] & ~same & (T != PAD)[:, :, None]).float()  # (B, L, S)
        self.ctx = in_ctx.float()  # (B, S)

    def own(self, V: torch.Tensor) -> torch.Tensor:
        """``V`` is ``(B, S, ...)``; returns ``(B, L, ...)`` with each target's own slot."""
        B = V.shape[0]
        idx = self.own_idx.to(V.device)
        return V[torch.arange(B, device=V.device)[:, None], idx]

    def all(self, V: torch.Tensor):
        tail = V.shape[2:]
        flat = V.flatten(2)
        own = self.own(V)
        others = torch.einsum("bls,bsf->blf", self.others.to(V), flat).view(*self.others.shape[:2], *tail)
        total = torch.einsum("bs,bsf->bf", self.ctx.to(V), flat)[:, None].view(V.shape[0], 1, *tail)
        n_others = self.others.sum(-1).to(V)  # (B, L)
        n_total = self.ctx.sum(-1, keepdim=True).to(V)  # (B, 1)
        return own, others, n_others, total, n_total


def compute_cams(model: nn.Module, images: torch.Tensor, targets: Any, method: str = "gradcam", *,
                 target_layer: str | nn.Module = "auto", context: Any = None, **options) -> CamResult:
    """One-call shortcut: ``CamExplainer(model, target_layer, **options)(images, targets, method, context)``."""
    return CamExplainer(model, target_layer, **options)(images, targets, method, context)


def available_methods() -> Sequence[str]:
    """Display names of the implemented methods."""
    return tuple(METHODS.values())
