r"""Explanation metrics for multi-label CAMs (David, qualifying exam, App. A.1, Eqs. 12-16) and map energy
on ground-truth object masks.

For image ``x_i`` with label set ``C_i``, class ``c`` in ``C_i`` with map ``M_i^c`` (normalised to [0, 1],
image size) and ``N_i = C_i \ {c}``:

- ``Y_i^c = f(x_i)^c`` (sigmoid score), ``O_ic^n = f(M_i^c * x_i)^n``, ``Obar_ic^n = f((1 - M_i^c) * x_i)^n``
  (the image is multiplied by the map: the baseline is the value 0 after preprocessing);
- %IC  (Eq. 12, higher is better): ``[Y_i^c < O_ic^c]``;
- %AD  (Eq. 13, lower is better): ``max(0, Y_i^c - O_ic^c) / Y_i^c``;
- %ADO (Eq. 14, higher is better): ``mean_{n in N_i} max(0, Y_i^n - O_ic^n) / Y_i^n``;
- %AR  (Eq. 15, higher is better): ``max(0, Y_i^c - Obar_ic^c) / Y_i^c`` (the drop when c's region is hidden);
- %ARO (Eq. 16, lower is better): ``mean_{n in N_i} max(0, Y_i^n - Obar_ic^n) / Y_i^n``;
- F1- (lower is better) = harmonic mean of %AD and %ARO; F1+ (higher is better) = harmonic mean of %AR
  and %ADO. The paper's sentence defining F1+ is garbled; the pairing follows the authors' benchmark code.

Averaging. ``micro``: the mean over all (image, class) pairs, as the equations are printed (F1 from the
averaged values). ``macro`` (what the paper's tables report): each metric per class over the pairs of that
class, then the mean over classes; F1 is computed per class and then averaged, as in the authors' code
(so a macro F1 is *not* the harmonic mean of the macro averages).

Choices where the paper is silent: a pair with ``N_i`` empty (a single-label image) has no %ADO/%ARO and is
left out of those two averages (its 0/0 term is not counted as 0); a class without any such pair has no
F1 and is left out of the F1 average. Values are fractions; multiply by 100 for the paper's percentages.
Which label set is used (ground truth or detections, ``labels.detections``) is the caller's choice.

Energy (an extension the synthetic data allow, in the spirit of energy-based pointing): the share of a map's
mass inside the object masks of its own class, on the masks of the image's other classes (pixels of the
own class excluded), and elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ._model import inference_state, model_device
from .labels import PAD, as_label_slots

METRIC_NAMES = ("ic", "ad", "ado", "ar", "aro", "f1_neg", "f1_pos")
HIGHER_IS_BETTER = {"ic": True, "ad": False, "ado": True, "ar": True, "aro": False, "f1_neg": False,
                    "f1_pos": True, "inside": True, "others": False, "background": False}


@dataclass
class ExplanationScores:
    """Sigmoid scores: ``Y`` ``(B, K)`` on clean images, ``O`` and ``O_bar`` ``(B, L, K)`` on images
    multiplied by each slot's map and by its complement (NaN for padded slots); ``targets`` ``(B, L)``."""
    Y: torch.Tensor
    O: torch.Tensor
    O_bar: torch.Tensor
    targets: torch.Tensor


def _maps_and_targets(maps: Any, targets: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if hasattr(maps, "maps") and hasattr(maps, "targets"):  # a CamResult
        return maps.maps, maps.targets if targets is None else targets
    if targets is None:
        raise ValueError("targets are needed when maps is a tensor (pass the (B, L) slots of the maps)")
    return maps, targets


@torch.no_grad()
def masked_scores(model: torch.nn.Module, images: torch.Tensor, maps: Any, targets: Any = None, *,
                  chunk_size: int = 64) -> ExplanationScores:
    """Forward the clean images, ``M * x`` and ``(1 - M) * x`` for every valid slot, ``chunk_size`` masked
    images per pass. ``maps`` is a :class:`CamResult` or a ``(B, L, H, W)`` tensor in [0, 1] with
    ``targets`` its ``(B, L)`` classes (-1 = padding). The model's modes and flags are restored."""
    maps, targets = _maps_and_targets(maps, targets)
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError("images must be a (batch, channels, height, width) tensor")
    if not isinstance(maps, torch.Tensor) or maps.dim() != 4:
        raise ValueError(f"maps must be a (batch, labels, height, width) tensor, got "
                         f"{tuple(maps.shape) if isinstance(maps, torch.Tensor) else type(maps).__name__}")
    B, L, H, W = maps.shape
    if images.shape[0] != B or images.shape[-2:] != (H, W):
        raise ValueError(f"maps {tuple(maps.shape)} do not match images {tuple(images.shape)}: need the same "
                         "batch size and image size (use normalised, upsampled maps)")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if maps.numel() and (maps.min() < 0 or maps.max() > 1):
        raise ValueError("maps must lie in [0, 1] (normalised maps)")
    device = model_device(model)
    x, maps = images.detach().to(device), maps.detach().to(device)
    with inference_state(model):
        Y = torch.sigmoid(model(x))
        K = Y.shape[1]
        T = as_label_slots(targets, B, K, device=device) if not isinstance(targets, torch.Tensor) or \
            targets.dtype == torch.bool or targets.is_floating_point() else targets.to(device).long()
        if T.shape != (B, L):
            raise ValueError(f"targets have shape {tuple(T.shape)} but maps have {L} slots per image")
        O = torch.full((B, L, K), float("nan"), device=device)
        O_bar = torch.full((B, L, K), float("nan"), device=device)
        b_idx, l_idx = torch.nonzero(T != PAD, as_tuple=True)
        for sel in torch.arange(b_idx.numel(), device=device).split(chunk_size):
            b, l = b_idx[sel], l_idx[sel]
            m = maps[b, l][:, None]  # (n, 1, H, W)
            O[b, l] = torch.sigmoid(model(x[b] * m))
            O_bar[b, l] = torch.sigmoid(model(x[b] * (1 - m)))
    return ExplanationScores(Y, O, O_bar, T)


def _others_mask(T: torch.Tensor, context: Any, K: int) -> torch.Tensor:
    """``(B, L, K)`` bool: class n is in ``N_i = C_i \\ {c}`` for slot (i, l) of class c."""
    B = T.shape[0]
    Cx = T if context is None else as_label_slots(context, B, K, what="context", device=T.device)
    in_ctx = torch.zeros(B, K, dtype=torch.bool, device=T.device)
    rows, cols = torch.nonzero(Cx != PAD, as_tuple=True)
    in_ctx[rows, Cx[rows, cols]] = True
    own = torch.zeros(B, T.shape[1], K, dtype=torch.bool, device=T.device)
    b, l = torch.nonzero(T != PAD, as_tuple=True)
    own[b, l, T[b, l]] = True
    return in_ctx[:, None, :] & ~own & (T != PAD)[:, :, None]


def _relative_drop(Y: torch.Tensor, O: torch.Tensor) -> torch.Tensor:
    return (Y - O).clamp_min(0) / Y.clamp_min(torch.finfo(Y.dtype).tiny)


def pair_metrics(scores: ExplanationScores, context: Any = None) -> dict[str, torch.Tensor]:
    """Per (image, slot) values of ic, ad, ado, ar, aro as ``(B, L)`` tensors; NaN where undefined
    (padding; ado/aro of a slot whose image has no other class)."""
    Y, O, Ob, T = scores.Y, scores.O, scores.O_bar, scores.targets
    B, L, K = O.shape
    valid = T != PAD
    c = T.clamp_min(0)
    Yc = Y.gather(1, c)
    Oc = O.gather(2, c[..., None])[..., 0]
    Obc = Ob.gather(2, c[..., None])[..., 0]
    nan = torch.full_like(Yc, float("nan"))
    out = {"ic": torch.where(valid, (Yc < Oc).to(Yc.dtype), nan),
           "ad": torch.where(valid, _relative_drop(Yc, Oc), nan),
           "ar": torch.where(valid, _relative_drop(Yc, Obc), nan)}
    others = _others_mask(T, context, K)
    n_others = others.sum(-1)
    for name, masked in (("ado", O), ("aro", Ob)):
        drops = torch.where(others, _relative_drop(Y[:, None, :].expand(B, L, K), torch.nan_to_num(masked)),
                            torch.zeros_like(masked))
        out[name] = torch.where(n_others > 0, drops.sum(-1) / n_others.clamp_min(1), nan)
    return out


def _harmonic(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    s = a + b
    return torch.where(s > 0, 2 * a * b / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(s))


def aggregate(values: dict[str, torch.Tensor], targets: torch.Tensor, average: str = "macro") -> dict[str, float]:
    """Average per-pair values (``(B, L)``, NaN = undefined) over pairs (``micro``) or per class then over
    classes (``macro``); NaNs are left out."""
    if average not in ("macro", "micro"):
        raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
    valid = targets != PAD
    if average == "micro":
        return {k: float(torch.nanmean(torch.where(valid, v, torch.nan))) for k, v in values.items()}
    classes = torch.unique(targets[valid])
    per_class = {k: torch.stack([torch.nanmean(torch.where(targets == c, v, torch.nan)) for c in classes])
                 if len(classes) else torch.empty(0) for k, v in values.items()}
    return {k: float(torch.nanmean(v)) if v.numel() else float("nan") for k, v in per_class.items()}


def _per_class(values: dict[str, torch.Tensor], targets: torch.Tensor) -> dict[str, torch.Tensor]:
    valid = targets != PAD
    classes = torch.unique(targets[valid])
    return {k: torch.stack([torch.nanmean(torch.where(targets == c, v, torch.nan)) for c in classes])
            for k, v in values.items()}


def explanation_metrics(scores: ExplanationScores, context: Any = None, average: str = "macro") -> dict[str, float]:
    """%IC, %AD, %ADO, %AR, %ARO, F1- and F1+ as fractions (keys ``ic ad ado ar aro f1_neg f1_pos``)."""
    if average not in ("macro", "micro"):
        raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
    pairs = pair_metrics(scores, context)
    T = scores.targets
    out = aggregate(pairs, T, average)
    if average == "micro":
        a = {k: torch.tensor(v) for k, v in out.items()}
        out["f1_neg"] = float(_harmonic(a["ad"], a["aro"])) if not torch.isnan(a["aro"]) else float("nan")
        out["f1_pos"] = float(_harmonic(a["ar"], a["ado"])) if not torch.isnan(a["ado"]) else float("nan")
        return out
    if not (T != PAD).any():
        return {**out, "f1_neg": float("nan"), "f1_pos": float("nan")}
    pc = _per_class(pairs, T)
    f1_neg = torch.where(torch.isnan(pc["aro"]), torch.nan, _harmonic(pc["ad"], torch.nan_to_num(pc["aro"])))
    f1_pos = torch.where(torch.isnan(pc["ado"]), torch.nan, _harmonic(pc["ar"], torch.nan_to_num(pc["ado"])))
    out["f1_neg"], out["f1_pos"] = float(torch.nanmean(f1_neg)), float(torch.nanmean(f1_pos))
    return out


def mask_energy(maps: Any, object_masks: torch.Tensor, targets: Any = None, context: Any = None, *,
                average: str | None = "macro") -> dict[str, Any]:
    """Share of each map's mass inside its class's object mask (``inside``), on other classes' objects of
    the image (``others``; pixels of the own class excluded) and elsewhere (``background``).

    ``maps``: a :class:`CamResult` or ``(B, L, H, W)`` non-negative maps with ``targets``;
    ``object_masks``: ``(B, K, H, W)`` bool, the pixels of each class's objects. ``average=None`` returns the
    per-pair ``(B, L)`` tensors (NaN for padding and for all-zero maps), else their macro/micro averages.
    """
    maps, targets = _maps_and_targets(maps, targets)
    if object_masks.dim() != 4 or object_masks.shape[0] != maps.shape[0] or object_masks.shape[-2:] != maps.shape[-2:]:
        raise ValueError(f"object_masks must have shape (batch, classes, H, W) matching the maps "
                         f"{tuple(maps.shape)}, got {tuple(object_masks.shape)}")
    B, L, H, W = maps.shape
    K = object_masks.shape[1]
    masks = object_masks.to(maps.device).bool()
    T = targets.to(maps.device).long() if isinstance(targets, torch.Tensor) and not (
        targets.dtype == torch.bool or targets.is_floating_point()) else as_label_slots(targets, B, K, device=maps.device)
    if T.shape != (B, L):
        raise ValueError(f"targets have shape {tuple(T.shape)} but maps have {L} slots per image")
    if (T >= K).any():
        raise ValueError(f"a target class is >= the {K} classes of object_masks")
    valid = T != PAD
    own = masks[torch.arange(B, device=maps.device)[:, None], T.clamp_min(0)]  # (B, L, H, W)
    others_cls = _others_mask(T, context, K)  # (B, L, K)
    other_pix = torch.einsum("blk,bkhw->blhw", others_cls.float(), masks.float()) > 0
    other_pix &= ~own
    total = maps.sum((-2, -1))
    ok = valid & (total > 0)
    safe = torch.where(ok, total, torch.ones_like(total))
    nan = torch.full_like(total, float("nan"))
    inside = torch.where(ok, (maps * own).sum((-2, -1)) / safe, nan)
    others = torch.where(ok, (maps * other_pix).sum((-2, -1)) / safe, nan)
    pairs = {"inside": inside, "others": others, "background": torch.where(ok, 1 - inside - others, nan)}
    return pairs if average is None else aggregate(pairs, T, average)
