"""Per-sample label sets as padded tensors.

Multi-label explanation needs, for every image, a *list* of classes (the maps to draw) and a *label set*
``C_x`` (MinMax-CAM's classes to contrast with, the metrics' "other" classes). Both are stored as a
``(batch, slots)`` long tensor padded with ``-1``: vectorised code then works on all labels at once.

Accepted inputs (``B`` images, ``K`` classes):

- a list of ``B`` lists of class indices (lengths may differ; an empty list is allowed);
- a 1-d integer tensor or list of ``B`` ints: one class per image;
- a 2-d integer tensor ``(B, L)`` padded with ``-1``;
- a 2-d bool or floating tensor ``(B, K)`` of 0/1: multi-hot labels (the classes whose entry is 1).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

PAD = -1


def as_label_slots(labels: Any, batch: int, n_classes: int, *, what: str = "targets",
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Return a ``(batch, L)`` long tensor of class indices padded with ``-1`` (duplicates removed,
    first occurrence kept). Raises ``ValueError`` naming the sample for a class index out of range."""
    if isinstance(labels, torch.Tensor) and labels.dim() == 2 and (labels.dtype == torch.bool or labels.is_floating_point()):
        if labels.shape != (batch, n_classes):
            raise ValueError(f"multi-hot {what} must have shape (batch, classes) = ({batch}, {n_classes}), "
                             f"got {tuple(labels.shape)}")
        values = labels.detach().float()
        if not torch.all((values == 0) | (values == 1)):
            raise ValueError(f"multi-hot {what} must hold only 0 and 1")
        rows: list[list[int]] = [torch.nonzero(r).flatten().tolist() for r in values.cpu()]
    elif isinstance(labels, torch.Tensor):
        if labels.is_floating_point() or labels.dtype == torch.bool or labels.dim() not in (1, 2):
            raise TypeError(f"{what} as a tensor must be integer class indices of shape (batch,) or "
                            f"(batch, L) padded with -1, or a multi-hot (batch, classes) bool/float tensor; "
                            f"got dtype {labels.dtype} and shape {tuple(labels.shape)}")
        t = labels.detach().cpu().long()
        rows = [[int(v)] for v in t] if t.dim() == 1 else [[int(v) for v in r if v != PAD] for r in t]
    elif isinstance(labels, Sequence) and not isinstance(labels, (str, bytes)):
        rows = []
        for i, r in enumerate(labels):
            if isinstance(r, torch.Tensor):
                r = r.flatten().tolist()
            if isinstance(r, (int,)) and not isinstance(r, bool):
                rows.append([r])
            elif isinstance(r, Sequence) and all(isinstance(v, int) and not isinstance(v, bool) for v in r):
                rows.append(list(r))
            elif hasattr(r, "__index__") and not isinstance(r, bool):
                rows.append([int(r)])
            else:
                raise TypeError(f"{what}[{i}] must be a class index or a list of class indices, got {r!r}")
    else:
        raise TypeError(f"{what} must be a list of per-image class lists or a tensor, got {type(labels).__name__}")
    if len(rows) != batch:
        raise ValueError(f"{what} has {len(rows)} entries but the batch has {batch} images")
    for i, r in enumerate(rows):
        for c in r:
            if not 0 <= c < n_classes:
                raise ValueError(f"{what} class {c} of sample {i} is out of range: the model has {n_classes} "
                                 f"outputs (allowed 0..{n_classes - 1})")
    rows = [list(dict.fromkeys(r)) for r in rows]
    width = max((len(r) for r in rows), default=0)
    out = torch.full((batch, width), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return out.to(device)


def union_slots(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-row union of two padded label tensors (order: ``a``'s classes, then ``b``'s new ones)."""
    rows = []
    for ra, rb in zip(a.tolist(), b.tolist()):
        rows.append(list(dict.fromkeys([c for c in ra + rb if c != PAD])))
    width = max((len(r) for r in rows), default=0)
    out = torch.full((a.shape[0], width), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return out.to(a.device)


def detections(logits: torch.Tensor, threshold: float = 0.5) -> list[list[int]]:
    """Classes whose sigmoid score exceeds ``threshold``, per image: the label set the authors' code uses
    ("detections") as an alternative to the ground-truth labels."""
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {tuple(logits.shape)}")
    hits = torch.sigmoid(logits.detach()) > threshold
    return [torch.nonzero(r).flatten().tolist() for r in hits.cpu()]
